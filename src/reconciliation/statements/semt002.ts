/**
 * ISO 20022 semt.002 Securities Balance Custody Report (statement of holdings), versions 001.03 to
 * 001.11. One statement per safekeeping account: the report's SfkpgAcct with its BalForAcct
 * holdings, and each SubAcctDtls with its BalForSubAcct. Between versions the aggregate quantity
 * moved (AggtBal/Qty/Qty/Unit from .08 on, shallower before), so the first Unit, FaceAmt or
 * AmtsdVal inside AggtBal is taken; holding values are an amount with a Sgn beside it, or the
 * amount itself.
 */
import { signed, isZero } from './amounts.js';
import { checkHoldings, type HoldingsTotal } from './check.js';
import { statementLabel } from './errors.js';
import { type IsoCtx, need, readAmount, readDate, refuseAt } from './iso-common.js';
import type { HoldingLine, ParsedStatement } from './types.js';
import { kid, kids, textAt, type XEl } from './xml-reader.js';

/** First descendant (depth first) with one of these names. */
function firstBelow(el: XEl | undefined, names: readonly string[]): XEl | undefined {
  if (el === undefined) return undefined;
  for (let c = el.first; c !== null; c = c.next) {
    if (names.includes(c.name)) return c;
    const d = firstBelow(c, names);
    if (d) return d;
  }
  return undefined;
}

/** An amount with direction: <X><Amt Ccy>..</Amt><Sgn>false</Sgn></X>, or <X Ccy="..">..</X>. */
function valueOf(ctx: IsoCtx, label: string, el: XEl | undefined): { value: string; currency: string } | null {
  if (el === undefined) return null;
  const amt = kid(el, 'Amt') ?? (el.attrs?.Ccy ? el : undefined);
  if (amt === undefined) return null;
  const { value, currency } = readAmount(ctx, label, amt);
  const sgn = textAt(el, 'Sgn');
  const short = textAt(el, 'ShrtLngInd') === 'SHOR';
  return { value: signed(value, sgn === 'false' || short), currency };
}

const QTY_NAMES = ['Unit', 'FaceAmt', 'AmtsdVal'] as const;

function holding(ctx: IsoCtx, label: string, bal: XEl, index: number): HoldingLine {
  const fin = need(ctx, label, bal, ['FinInstrmId'], 'every holding names its financial instrument');
  const isin = textAt(fin, 'ISIN');
  const othr = kid(fin, 'OthrId');
  let security: string;
  if (isin !== null) security = isin;
  else if (othr && textAt(othr, 'Id') !== null) security = `${textAt(othr, 'Tp', 'Cd') ?? textAt(othr, 'Tp', 'Prtry') ?? 'OTHR'}:${textAt(othr, 'Id')}`;
  else if (textAt(fin, 'Desc') !== null) security = `DESC:${textAt(fin, 'Desc')}`;
  else throw refuseAt(ctx, label, fin, 'is missing: the instrument needs an ISIN, OthrId or Desc', ['ISIN']);
  const aggt = need(ctx, label, bal, ['AggtBal'], 'every holding states its aggregate balance');
  const q = firstBelow(aggt, QTY_NAMES);
  if (q === undefined || q.text === '') throw refuseAt(ctx, label, aggt, 'is missing: the aggregate balance needs a quantity (Unit, FaceAmt or AmtsdVal)', ['Qty', 'Qty', 'Unit']);
  if (!/^\d{1,30}(?:\.\d{1,17})?$/.test(q.text)) throw refuseAt(ctx, label, q, `"${q.text}" is not a decimal quantity`);
  const short = textAt(aggt, 'ShrtLngInd') === 'SHOR' || firstBelow(aggt, ['ShrtLngInd'])?.text === 'SHOR';
  const pric = kid(bal, 'PricDtls');
  const pAmt = kid(kid(pric, 'Val'), 'Amt');
  const pRate = textAt(pric, 'Val', 'Rate');
  let price: string | null = null;
  let priceCurrency: string | null = null;
  if (pAmt) {
    const a = readAmount(ctx, label, pAmt);
    price = a.value;
    priceCurrency = a.currency;
  } else if (pRate !== null) price = pRate;
  const value = valueOf(ctx, label, kid(kid(bal, 'AcctBaseCcyAmts'), 'HldgVal')) ?? valueOf(ctx, label, kid(kid(bal, 'InstrmCcyAmts'), 'HldgVal'));
  return {
    index,
    security,
    quantity: short && !isZero(q.text) ? '-' + q.text : q.text,
    quantityType: q.name === 'Unit' ? 'UNIT' : 'FAMT',
    price,
    priceCurrency,
    value: value?.value ?? null,
    valueCurrency: value?.currency ?? null,
  };
}

/**
 * The statements of one semt.002 Document (message element SctiesBalCtdyRpt).
 * @throws DomainError RECON_STATEMENT_REFUSED for a missing required element or a bad value.
 */
export function semt002Statements(ctx: IsoCtx, format: string, msg: XEl, envelopeMsgId: string | null): ParsedStatement[] {
  const gen = need(ctx, undefined, msg, ['StmtGnlDtls'], 'the report needs its general details');
  const safe = need(ctx, undefined, msg, ['SfkpgAcct', 'Id'], 'the report names its safekeeping account');
  const account = safe.text;
  const stmtDate = readDate(ctx, undefined, kid(gen, 'StmtDtTm'));
  if (stmtDate === null) throw refuseAt(ctx, undefined, gen, 'is missing: the statement needs its date', ['StmtDtTm', 'Dt']);
  const statementId = textAt(gen, 'StmtId') ?? textAt(msg, 'Id', 'Id') ?? `${account}/${stmtDate}`;
  const label = statementLabel(statementId, account);
  const messageId = envelopeMsgId ?? textAt(msg, 'Id', 'Id') ?? statementId;
  const page = textAt(msg, 'Pgntn', 'PgNb');
  const onlyPage = page === null || (page === '1' && textAt(msg, 'Pgntn', 'LastPgInd') === 'true');
  const servicer =
    textAt(msg, 'AcctSvcr', 'AnyBIC') ?? textAt(msg, 'AcctSvcr', 'Id', 'AnyBIC') ?? textAt(msg, 'AcctSvcr', 'BIC') ?? textAt(msg, 'AcctSvcr', 'Id', 'BIC');

  const groups: Array<{ account: string; holdings: HoldingLine[] }> = [];
  const main = kids(msg, 'BalForAcct');
  const subs = kids(msg, 'SubAcctDtls');
  if (main.length || !subs.length) groups.push({ account, holdings: main.map((b, i) => holding(ctx, label, b, i)) });
  for (const s of subs) {
    const subAcct = need(ctx, label, s, ['SfkpgAcct', 'Id'], 'every sub-account names its safekeeping account').text;
    groups.push({ account: subAcct, holdings: kids(s, 'BalForSubAcct').map((b, i) => holding(ctx, statementLabel(statementId, subAcct), b, i)) });
  }
  const totals = kid(msg, 'AcctBaseCcyTtlAmts');
  const pageTotal = valueOf(ctx, label, kid(totals, 'TtlHldgsValOfPg'));
  const stmtTotal = valueOf(ctx, label, kid(totals, 'TtlHldgsValOfStmt'));
  let total: HoldingsTotal | null = null;
  if (pageTotal) total = { code: 'TtlHldgsValOfPg', amount: pageTotal.value, currency: pageTotal.currency };
  else if (stmtTotal && onlyPage) total = { code: 'TtlHldgsValOfStmt', amount: stmtTotal.value, currency: stmtTotal.currency };
  const all = groups.flatMap((g) => g.holdings).map((h) => ({ value: h.value ?? null, currency: h.valueCurrency ?? null }));
  const { check, refused } = checkHoldings(label, all, total);

  return groups.map((g) => ({
    kind: 'holdings' as const,
    format,
    messageId,
    statementId,
    sequence: textAt(gen, 'RptNb', 'Shrt') ?? textAt(gen, 'RptNb', 'Lng'),
    page,
    account: g.account,
    servicer,
    currency: null,
    createdAt: textAt(gen, 'StmtDtTm', 'DtTm'),
    fromDate: null,
    toDate: null,
    statementDate: stmtDate,
    balances: [],
    entries: [],
    holdings: g.holdings,
    check,
    refused,
  }));
}
