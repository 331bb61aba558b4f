/**
 * SWIFT MT940 (customer statement) and MT950 (statement message): :20: reference, :25: account,
 * :28C: statement/sequence number, :60F:/:60M: opening, :61: lines (each optionally followed by
 * :86:), :62F:/:62M: closing, :64: available, :65: forward available, a final :86: for the whole
 * statement. :61: is read subfield by subfield:
 *   value date YYMMDD, [entry date MMDD], mark D/C/RD/RC, [funds code], amount (decimal comma),
 *   transaction type (N/F/S + 3), customer reference [//bank reference], [newline supplementary].
 * RC (reversal of a credit) is a debit and RD a credit. Without an entry date the booking date is
 * the value date. :86: is read as the German structured form (?00 ?20-?29 ?32 ...) or the
 * /CODE/value/ form (/EREF/ /REMI/ /NAME/) when it is one, else kept as text.
 */
import { currencyScale, signed, significantDecimals } from './amounts.js';
import { checkCash } from './check.js';
import { refuseFile, type Where } from './errors.js';
import { mtAmount, mtDate, splitMt, type MtField, type MtMessage } from './mt.js';
import type { ParsedStatement, StatementBalance, StatementEntry } from './types.js';

const BALANCE_TAGS: Record<string, StatementBalance['type']> = {
  '60F': 'opening',
  '60M': 'interim_opening',
  '62F': 'closing',
  '62M': 'interim_closing',
  '64': 'available',
  '65': 'forward_available',
};

/** Line 1 of :61: (see the file header). */
const LINE61 = /^(\d{6})(\d{4})?(RC|RD|C|D)([A-Z])?(\d{1,15},\d*|\d{1,15})([NFS][A-Z0-9]{3})(.*)$/;

interface Info86 {
  remittance: string | null;
  counterparty: string | null;
  ourRef: string | null;
  refs: string[];
  info: string | null;
}

/** Join :86: lines: a line cut at the 65-character limit continues the word, a shorter one ends it. */
function joinLines(v: string): string {
  const lines = v.split('\n');
  let out = lines[0]!;
  for (let k = 1; k < lines.length; k++) out += (lines[k - 1]!.length >= 65 ? '' : ' ') + lines[k];
  return out.trim();
}

const SLASH_CODES = ['TRTP', 'IBAN', 'BIC', 'NAME', 'REMI', 'EREF', 'MARF', 'CSID', 'ORDP', 'BENM', 'PREF', 'CREF', 'ISDT', 'RTRN', 'ADDR', 'SVCL'];

/** Read :86: text in one of its common structured forms, else keep it as remittance text. */
export function parse86(raw: string): Info86 {
  const res: Info86 = { remittance: null, counterparty: null, ourRef: null, refs: [], info: null };
  const flat = raw.replace(/\n/g, '');
  // German DFÜ form: GVC code then ?NN subfields.
  if (/^\d{3}\?\d{2}/.test(flat) || /^\?\d{2}/.test(flat)) {
    const parts = new Map<string, string>();
    for (const m of flat.matchAll(/\?(\d{2})([^?]*)/g)) parts.set(m[1]!, (parts.get(m[1]!) ?? '') + m[2]!);
    const purpose = ['20', '21', '22', '23', '24', '25', '26', '27', '28', '29', '60', '61', '62', '63']
      .map((k) => parts.get(k) ?? '')
      .join('');
    const tagged = new Map<string, string>();
    const re = /(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|COAM|OAMT)\+/g;
    const hits = [...purpose.matchAll(re)];
    hits.forEach((h, k) => tagged.set(h[1]!, purpose.slice(h.index! + h[0].length, k + 1 < hits.length ? hits[k + 1]!.index : undefined).trim()));
    const eref = tagged.get('EREF');
    res.ourRef = eref && eref !== 'NOTPROVIDED' ? eref : null;
    for (const k of ['KREF', 'MREF', 'CRED']) if (tagged.get(k)) res.refs.push(tagged.get(k)!);
    res.remittance = (hits.length ? (tagged.get('SVWZ') ?? null) : purpose.trim()) || null;
    const name = ((parts.get('32') ?? '') + (parts.get('33') ?? '')).trim();
    res.counterparty = name || null;
    res.info = parts.get('00')?.trim() || null;
    return res;
  }
  // /CODE/value/ form (SWIFT structured information, common in the Netherlands and Belgium).
  if (/^\/[A-Z]{2,4}\//.test(flat)) {
    const re = new RegExp(`/(${SLASH_CODES.join('|')})/`, 'g');
    const hits = [...flat.matchAll(re)];
    if (hits.length && hits[0]!.index === 0) {
      const val = new Map<string, string>();
      hits.forEach((h, k) => {
        if (!val.has(h[1]!)) val.set(h[1]!, flat.slice(h.index! + h[0].length, k + 1 < hits.length ? hits[k + 1]!.index : undefined).replace(/\/$/, '').trim());
      });
      const eref = val.get('EREF');
      res.ourRef = eref && eref !== 'NOTPROVIDED' ? eref : null;
      for (const k of ['MARF', 'PREF', 'CREF']) if (val.get(k)) res.refs.push(val.get(k)!);
      res.remittance = val.get('REMI')?.replace(/^USTD\/\//, '') || null;
      res.counterparty = val.get('NAME') || null;
      res.info = val.get('TRTP') || null;
      return res;
    }
  }
  res.remittance = joinLines(raw) || null;
  return res;
}

interface MsgCtx {
  file: string;
  label: string;
  msg: MtMessage;
}

const where = (c: MsgCtx, f?: MtField): Where => ({ file: c.file, statement: c.label, path: f ? `:${f.tag}: (line ${f.line})` : undefined });

function amountIn(c: MsgCtx, f: MtField, raw: string, currency: string): string {
  const a = mtAmount(raw);
  if (a === null) throw refuseFile(where(c, f), `"${raw}" is not a SWIFT amount (digits, decimal comma)`);
  const scale = currencyScale(currency);
  if (scale === null) throw refuseFile(where(c, f), `"${currency}" is not an ISO 4217 currency code`);
  const d = significantDecimals(a);
  if (d > scale) throw refuseFile(where(c, f), `amount "${raw}" has ${d} decimals; ${currency} allows ${scale} (ISO 4217 minor units)`);
  return a;
}

function balance(c: MsgCtx, f: MtField): StatementBalance {
  const v = f.value.trim();
  const m = /^([CD])?(\d{6})([A-Z]{3})(\S+)$/.exec(v);
  if (!m) throw refuseFile(where(c, f), `"${v}" is not a balance (mark C or D, date YYMMDD, currency, amount)`);
  if (!m[1]) throw refuseFile(where(c, f), `balance "${v}" has no debit/credit mark (C or D)`);
  const date = mtDate(m[2]!);
  if (!date) throw refuseFile(where(c, f), `"${m[2]}" is not a date (YYMMDD)`);
  const amount = amountIn(c, f, m[4]!, m[3]!);
  return { type: BALANCE_TAGS[f.tag]!, code: f.tag, amount: signed(amount, m[1] === 'D'), currency: m[3]!, date };
}

function entryDate(valueDate: string, mmdd: string | undefined): string | null {
  if (!mmdd) return valueDate;
  const vy = Number(valueDate.slice(0, 4));
  const vm = Number(valueDate.slice(5, 7));
  const em = Number(mmdd.slice(0, 2));
  // An entry date in December for a January value date is the year before, and the other way.
  const year = em === 12 && vm === 1 ? vy - 1 : em === 1 && vm === 12 ? vy + 1 : vy;
  const d = `${year}-${mmdd.slice(0, 2)}-${mmdd.slice(2, 4)}`;
  const t = new Date(d + 'T00:00:00Z');
  return !Number.isNaN(t.getTime()) && t.toISOString().slice(0, 10) === d ? d : null;
}

function entry61(c: MsgCtx, f: MtField, currency: string, index: number): StatementEntry {
  const [first, ...rest] = f.value.split('\n');
  const m = LINE61.exec(first!.trim());
  if (!m) {
    const noMark = /^(\d{6})(\d{4})?([A-Z])?\d/.exec(first!.trim());
    if (noMark) throw refuseFile(where(c, f), `statement line "${first}" has no debit/credit mark (D, C, RD or RC)`);
    throw refuseFile(where(c, f), `"${first}" is not a statement line (value date, [entry date], mark, amount, type, reference)`);
  }
  const valueDate = mtDate(m[1]!);
  if (!valueDate) throw refuseFile(where(c, f), `"${m[1]}" is not a value date (YYMMDD)`);
  const bookingDate = entryDate(valueDate, m[2]);
  if (!bookingDate) throw refuseFile(where(c, f), `"${m[2]}" is not an entry date (MMDD)`);
  const mark = m[3]!;
  const amount = amountIn(c, f, m[5]!, currency);
  const refPart = m[7]!;
  const slash = refPart.indexOf('//');
  const customerRef = (slash < 0 ? refPart : refPart.slice(0, slash)).trim();
  const bankRef = slash < 0 ? null : refPart.slice(slash + 2).trim() || null;
  const supplementary = rest.join(' ').trim() || null;
  return {
    index,
    amount: signed(amount, mark === 'D' || mark === 'RC'),
    currency,
    bookingDate,
    valueDate,
    status: 'BOOK',
    servicerRef: bankRef,
    ourRef: customerRef && customerRef !== 'NONREF' ? customerRef : null,
    refs: [],
    transactionCount: 1,
    bankTxCode: m[6]!,
    counterpartyName: null,
    remittance: null,
    additionalInfo: supplementary,
  };
}

function statement(file: string, msg: MtMessage, fallbackType: string): ParsedStatement {
  const type = msg.type ?? fallbackType;
  const f20 = msg.fields.find((f) => f.tag === '20');
  const label0 = `MT${type} message ${msg.index}${f20 ? ` (:20: ${f20.value.trim()})` : ''}`;
  const c0: MsgCtx = { file, label: label0, msg };
  const need = (tags: string[], what: string): MtField => {
    const f = msg.fields.find((x) => tags.includes(x.tag));
    if (!f) throw refuseFile(where(c0), `field ${tags.map((t) => `:${t}:`).join(' or ')} (${what}) is missing`);
    return f;
  };
  need(['20'], 'transaction reference');
  const f25 = need(['25', '25P'], 'account');
  const f28 = need(['28C', '28'], 'statement number');
  need(['60F', '60M'], 'opening balance');
  need(['62F', '62M'], 'closing balance');
  const ref = f20!.value.trim();
  const acctLines = f25.value.split('\n');
  const account = acctLines[0]!.trim();
  const seq = f28.value.trim();
  const statementId = `${ref}/${seq}`;
  const c: MsgCtx = { file, label: `${label0.replace(/ \(:20: .*\)$/, '')} statement ${statementId} (account ${account})`, msg };

  const balances: StatementBalance[] = [];
  const entries: StatementEntry[] = [];
  let currency: string | null = null;
  let last: StatementEntry | null = null;
  for (const f of msg.fields) {
    if (BALANCE_TAGS[f.tag]) {
      const b = balance(c, f);
      currency ??= b.currency;
      balances.push(b);
      last = null;
    } else if (f.tag === '61') {
      if (currency === null) throw refuseFile(where(c, f), 'a statement line before the opening balance :60F:/:60M:');
      last = entry61(c, f, currency, entries.length);
      entries.push(last);
    } else if (f.tag === '86') {
      if (last) {
        const info = parse86(f.value);
        last.remittance = info.remittance;
        last.counterpartyName = info.counterparty;
        if (info.ourRef && !last.ourRef) last.ourRef = info.ourRef;
        else if (info.ourRef && info.ourRef !== last.ourRef) info.refs.unshift(info.ourRef);
        last.refs = info.refs.filter((r) => r !== last!.ourRef && r !== last!.servicerRef);
        if (info.info) last.additionalInfo = last.additionalInfo ? `${info.info} ${last.additionalInfo}` : info.info;
        last = null;
      }
    }
  }
  const { check, refused, currency: cur } = checkCash({ statementId, account, balances, entries });
  const closing = balances.find((b) => b.type === 'closing' || b.type === 'interim_closing');
  const opening = balances.find((b) => b.type === 'opening' || b.type === 'interim_opening');
  const seqParts = seq.split('/');
  return {
    kind: 'cash',
    format: `mt${type}`,
    messageId: ref,
    statementId,
    sequence: seq,
    page: seqParts[1] ?? null,
    account,
    servicer: msg.sender ?? (f25.tag === '25P' ? (acctLines[1]?.trim() || null) : null),
    currency: cur,
    createdAt: null,
    fromDate: opening?.date ?? null,
    toDate: closing?.date ?? null,
    statementDate: closing?.date ?? null,
    balances,
    entries,
    holdings: [],
    check,
    refused,
  };
}

/**
 * Parse an MT940 or MT950 file (with or without envelopes; several messages).
 * @throws DomainError RECON_STATEMENT_REFUSED: a missing field, a balance or line without its
 *   debit/credit mark, an amount with more decimals than the currency allows, a message of another type.
 */
export function parseMt940(text: string, file: string): ParsedStatement[] {
  const messages = splitMt(text, file, (f) => f.tag === '20');
  if (messages.length === 0) throw refuseFile({ file }, 'no MT940/MT950 message in the file');
  // Without an envelope an MT950 cannot be told from an MT940 (it is the same layout without :86:).
  const fallback = '940';
  return messages.map((m) => {
    if (m.type !== null && m.type !== '940' && m.type !== '950') {
      throw refuseFile({ file, statement: `message ${m.index}` }, `is an MT${m.type}; this file is read as MT940/MT950 statements`);
    }
    return statement(file, m, fallback);
  });
}
