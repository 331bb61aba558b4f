/**
 * ISO 20022 cash statements: camt.053 (BkToCstmrStmt/Stmt), camt.052 (BkToCstmrAcctRpt/Rpt) and
 * camt.054 (BkToCstmrDbtCdtNtfctn/Ntfctn), versions 001.02 to 001.13. What differs between
 * versions and is read either way:
 * - entry status: <Sts>BOOK</Sts> (to .06) or <Sts><Cd>BOOK</Cd></Sts> (later), or Prtry;
 * - dates: <Dt> or <DtTm> (the calendar date as written is kept);
 * - parties: <Dbtr><Nm> (to .07) or <Dbtr><Pty><Nm> / <Dbtr><Agt> (later);
 * - servicer BIC: <BIC> (.02) or <BICFI>; account: <IBAN> or <Othr><Id>;
 * - batches: NtryDtls/Btch (NbOfTxs, PmtInfId) beside or instead of NtryDtls/TxDtls;
 * - bank transaction code: Domn/Cd + Fmly/Cd + Fmly/SubFmlyCd, and/or Prtry/Cd.
 */
import { checkCash } from './check.js';
import { signed } from './amounts.js';
import {
  type IsoCtx, need, readAmount, readDate, readSignedAmount, refuseAt,
} from './iso-common.js';
import type { ParsedStatement, StatementBalance, StatementEntry } from './types.js';
import { childText, kid, textAt, type XEl } from './xml-reader.js';

const BALANCE_TYPES: Record<string, StatementBalance['type']> = {
  OPBD: 'opening',
  PRCD: 'opening',
  CLBD: 'closing',
  OPAV: 'available',
  CLAV: 'available',
  ITAV: 'available',
  FWAV: 'forward_available',
};

let lastCode: [string | null, string | null, string | null, string | null] = [null, null, null, null];

/** Bank transaction code as one string: DOMAIN/FAMILY/SUBFAMILY, else the proprietary code. */
function bankTxCodes(el: XEl | undefined): { iso: string | null; prtry: string | null } {
  if (el === undefined) return { iso: null, prtry: null };
  const domn = kid(el, 'Domn');
  const prtry = childText(kid(el, 'Prtry'), 'Cd');
  if (domn) {
    const fmly = kid(domn, 'Fmly');
    const d = childText(domn, 'Cd');
    const f = childText(fmly, 'Cd');
    const s = childText(fmly, 'SubFmlyCd');
    // Statements repeat a few codes: the joined string is made once per run of the same code.
    if (d !== lastCode[0] || f !== lastCode[1] || s !== lastCode[2]) {
      let iso = d ?? '';
      if (f !== null) iso = iso + '/' + f;
      if (s !== null) iso = iso + '/' + s;
      lastCode = [d, f, s, iso || null];
    }
    return { iso: lastCode[3], prtry };
  }
  return { iso: prtry, prtry };
}

/** Name of a party: <Nm> (older versions), <Pty><Nm>, or <Agt><FinInstnId><Nm> (later ones). */
function partyName(p: XEl | undefined): string | null {
  if (p === undefined) return null;
  return childText(p, 'Nm') ?? childText(kid(p, 'Pty'), 'Nm') ?? textAt(p, 'Agt', 'FinInstnId', 'Nm');
}

const NOT_PROVIDED = 'NOTPROVIDED';

/** Scratch arrays of camtEntry (not re-entered): no arrays made per entry but the one it keeps. */
const TXS: XEl[] = [];
const BATCHES: XEl[] = [];
const REFS: string[] = [];

function addRef(refs: string[], v: string | null): void {
  if (v !== null && v !== NOT_PROVIDED && !refs.includes(v)) refs.push(v);
}

/**
 * A statement entry from its <Ntry> element (index is 0-based within the statement). One pass over
 * the entry's children and each transaction's: this runs once per entry of files with hundreds of
 * thousands of them.
 */
export function camtEntry(ctx: IsoCtx, stmt: XEl, n: XEl, index: number): StatementEntry {
  let amtEl: XEl | undefined;
  let cdiEl: XEl | undefined;
  let sts: XEl | undefined;
  let bookgDt: XEl | undefined;
  let valDt: XEl | undefined;
  let ntryRef: string | null = null;
  let servicerRef: string | null = null;
  let btc: XEl | undefined;
  let addtl: string | null = null;
  const txs = TXS;
  const batches = BATCHES;
  txs.length = 0;
  batches.length = 0;
  for (let c = n.first; c !== null; c = c.next) {
    switch (c.name) {
      case 'Amt': amtEl ??= c; break;
      case 'CdtDbtInd': cdiEl ??= c; break;
      case 'Sts': sts ??= c; break;
      case 'BookgDt': bookgDt ??= c; break;
      case 'ValDt': valDt ??= c; break;
      case 'NtryRef': ntryRef ??= c.text || null; break;
      case 'AcctSvcrRef': servicerRef ??= c.text || null; break;
      case 'BkTxCd': btc ??= c; break;
      case 'AddtlNtryInf': addtl ??= c.text || null; break;
      case 'NtryDtls':
        for (let d = c.first; d !== null; d = d.next) {
          if (d.name === 'TxDtls') txs.push(d);
          else if (d.name === 'Btch') batches.push(d);
        }
        break;
    }
  }
  if (amtEl === undefined) throw refuseAt(ctx, stmt, n, 'is missing: every entry needs an amount', ['Amt']);
  const { value, currency } = readAmount(ctx, stmt, amtEl);
  if (cdiEl === undefined || cdiEl.text === '') {
    throw refuseAt(ctx, stmt, n, 'is missing: every entry needs a credit/debit indicator (CRDT or DBIT)', ['CdtDbtInd']);
  }
  if (cdiEl.text !== 'CRDT' && cdiEl.text !== 'DBIT') throw refuseAt(ctx, stmt, cdiEl, `"${cdiEl.text}" is not CRDT or DBIT`);
  const debit = cdiEl.text === 'DBIT';
  const status = sts === undefined ? null : sts.first !== null ? (childText(sts, 'Cd') ?? childText(sts, 'Prtry')) : sts.text || null;
  if (status === null) throw refuseAt(ctx, stmt, n, 'is missing: every entry needs a status (BOOK, PDNG, INFO)', ['Sts']);
  const bookingDate = readDate(ctx, stmt, bookgDt);
  const valueDate = readDate(ctx, stmt, valDt);
  let codes = bankTxCodes(btc);

  const refs = REFS;
  refs.length = 0;
  addRef(refs, ntryRef);
  let batchCount = 0;
  let batchPmtInf: string | null = null;
  {
    for (const b of batches) {
      addRef(refs, childText(b, 'MsgId'));
      const p = childText(b, 'PmtInfId');
      addRef(refs, p);
      batchPmtInf ??= p;
      const nb = childText(b, 'NbOfTxs');
      if (nb !== null && /^\d+$/.test(nb)) batchCount += Number(nb);
    }
  }
  let e2e: string | null = null;
  let instr: string | null = null;
  let pmtInf: string | null = null;
  let pmtInfSame = 0;
  let remittance: string | null = null;
  let counterpartyName: string | null = null;
  let txInfo: string | null = null;
  const txCount = txs.length;
  {
    for (const t of txs) {
      let rmt: XEl | undefined;
      let parties: XEl | undefined;
      for (let c = t.first; c !== null; c = c.next) {
        switch (c.name) {
          case 'Refs':
            for (let r = c.first; r !== null; r = r.next) {
              const v = r.name === 'Prtry' ? childText(r, 'Ref') : r.text || null;
              if (v === null || v === NOT_PROVIDED) continue;
              addRef(refs, v);
              if (r.name === 'EndToEndId') e2e ??= v;
              else if (r.name === 'InstrId') instr ??= v;
              else if (r.name === 'PmtInfId') {
                pmtInf ??= v;
                if (v === pmtInf) pmtInfSame++;
              } else if (r.name === 'AcctSvcrRef') servicerRef ??= v;
            }
            break;
          case 'BkTxCd': if (codes.iso === null) codes = bankTxCodes(c); break;
          case 'RltdPties': parties ??= c; break;
          case 'RmtInf': rmt ??= c; break;
          case 'AddtlTxInf': txInfo ??= c.text || null; break;
        }
      }
      if (counterpartyName === null && parties !== undefined) {
        counterpartyName = debit
          ? (partyName(kid(parties, 'Cdtr')) ?? partyName(kid(parties, 'UltmtCdtr')))
          : (partyName(kid(parties, 'Dbtr')) ?? partyName(kid(parties, 'UltmtDbtr')));
      }
      if (rmt !== undefined) {
        let ustrd = '';
        let cdtrRefs = '';
        for (let c = rmt.first; c !== null; c = c.next) {
          if (c.name === 'Ustrd' && c.text !== '') ustrd = ustrd === '' ? c.text : ustrd + ' ' + c.text;
          else if (c.name === 'Strd') {
            const ref = textAt(c, 'CdtrRefInf', 'Ref');
            if (ref !== null) {
              cdtrRefs = cdtrRefs === '' ? ref : cdtrRefs + ' ' + ref;
              addRef(refs, ref);
            }
          }
        }
        const text = ustrd || cdtrRefs;
        if (text) remittance = remittance === null ? text : remittance + '\n' + text;
      }
    }
  }
  let ourRef: string | null;
  if (txCount <= 1) ourRef = e2e ?? instr ?? batchPmtInf ?? pmtInf;
  else ourRef = batchPmtInf ?? (pmtInfSame === txCount ? pmtInf : null);
  // Keep the references other than ours and the bank's, in an array of their own (REFS is scratch).
  let kept = 0;
  for (let k = 0; k < refs.length; k++) {
    const r = refs[k]!;
    if (r !== servicerRef && r !== ourRef) refs[kept++] = r;
  }
  const others: string[] = kept === 0 ? [] : refs.slice(0, kept);
  return {
    index,
    amount: signed(value, debit),
    currency,
    bookingDate,
    valueDate,
    status,
    servicerRef,
    ourRef,
    refs: others,
    transactionCount: batchCount > 0 ? batchCount : Math.max(1, txCount),
    bankTxCode: codes.iso,
    proprietaryBankTxCode: codes.prtry,
    counterpartyName,
    remittance,
    additionalInfo: addtl ?? txInfo,
  };
}

/** The balances of a statement; ITBD is an interim opening or closing depending on the others. */
function camtBalances(ctx: IsoCtx, stmt: XEl): StatementBalance[] {
  const out: StatementBalance[] = [];
  const itbd: number[] = [];
  for (let bal = stmt.first; bal !== null; bal = bal.next) {
    if (bal.name !== 'Bal') continue;
    const tp = need(ctx, stmt, bal, ['Tp'], 'every balance has a type');
    const code = textAt(tp, 'CdOrPrtry', 'Cd') ?? textAt(tp, 'CdOrPrtry', 'Prtry');
    if (code === null) throw refuseAt(ctx, stmt, tp, 'is missing: every balance has a type code (OPBD, CLBD, ...)', ['CdOrPrtry', 'Cd']);
    const { amount, currency } = readSignedAmount(ctx, stmt, bal, 'balance');
    const dtEl = kid(bal, 'Dt');
    const date = readDate(ctx, stmt, dtEl);
    if (date === null) throw refuseAt(ctx, stmt, bal, 'is missing: every balance has a date (Dt/Dt or Dt/DtTm)', ['Dt']);
    if (code === 'ITBD') itbd.push(out.length);
    out.push({ type: BALANCE_TYPES[code] ?? 'other', code, amount, currency, date });
  }
  // ITBD: interim booked balance. Beside an opening it closes the page; beside a closing it opens
  // it; two of them open and close; one alone (an intraday report) is where the day stands.
  const hasOpening = out.some((b) => b.type === 'opening');
  const hasClosing = out.some((b) => b.type === 'closing');
  itbd.forEach((at, k) => {
    const b = out[at]!;
    if (hasOpening) b.type = 'interim_closing';
    else if (hasClosing) b.type = 'interim_opening';
    else b.type = itbd.length > 1 && k === 0 ? 'interim_opening' : 'interim_closing';
  });
  return out;
}

/**
 * One statement (Stmt, Rpt or Ntfctn element) with its entries already read.
 * @throws DomainError RECON_STATEMENT_REFUSED for a missing required element or a bad value.
 */
export function camtStatement(
  ctx: IsoCtx,
  format: string,
  grpHdr: { messageId: string; createdAt: string | null },
  stmt: XEl,
  entries: StatementEntry[],
): ParsedStatement {
  const statementId = need(ctx, stmt, stmt, ['Id'], 'every statement has an identification').text;
  const acct = need(ctx, stmt, stmt, ['Acct'], 'every statement names its account');
  const account = textAt(acct, 'Id', 'IBAN') ?? textAt(acct, 'Id', 'Othr', 'Id');
  if (account === null) throw refuseAt(ctx, stmt, acct, 'is missing: the account needs an IBAN or Othr/Id', ['Id', 'IBAN']);
  const declaredCurrency = textAt(acct, 'Ccy');
  const balances = camtBalances(ctx, stmt);
  const { check, refused, currency } = checkCash({ statementId, account, balances, entries, declaredCurrency });
  const closing = balances.find((b) => b.type === 'closing') ?? balances.findLast((b) => b.type === 'interim_closing');
  const toDate = readDate(ctx, stmt, kid(kid(stmt, 'FrToDt'), 'ToDtTm'));
  return {
    kind: 'cash',
    format,
    messageId: grpHdr.messageId,
    statementId,
    sequence: textAt(stmt, 'ElctrncSeqNb') ?? textAt(stmt, 'LglSeqNb') ?? textAt(stmt, 'RptgSeq', 'FrSeq'),
    page: textAt(stmt, 'StmtPgntn', 'PgNb') ?? textAt(stmt, 'RptPgntn', 'PgNb') ?? textAt(stmt, 'NtfctnPgntn', 'PgNb'),
    account,
    servicer: textAt(acct, 'Svcr', 'FinInstnId', 'BICFI') ?? textAt(acct, 'Svcr', 'FinInstnId', 'BIC'),
    currency,
    createdAt: textAt(stmt, 'CreDtTm') ?? grpHdr.createdAt,
    fromDate: readDate(ctx, stmt, kid(kid(stmt, 'FrToDt'), 'FrDtTm')),
    toDate,
    statementDate: closing?.date ?? toDate,
    balances,
    entries,
    holdings: [],
    check,
    refused,
  };
}
