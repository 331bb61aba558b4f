/**
 * Settlement statuses in: what the CSD or custodian says happened to our instructions, from
 * ISO 20022 (sese.024 status advice, sese.025 confirmation), SWIFT MT (MT544-547 confirmations,
 * MT548 status) or a CSV, told apart by their content. Pure functions.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { parseDate, type ErrorDetail } from '../../kernel/index.js';
import { MessageCodes, messageError } from './errors.js';
import { DECIMAL_RE, currencyDigits, finDecimalOk, fromFinDate, fromFinDecimal } from './formats.js';
import { at, child, childrenNamed, findAll, parseXml, XmlSyntaxError, type XmlElement } from './xml.js';
import {
  FinSyntaxError,
  allFields,
  finFields,
  finSequences,
  findSeqs,
  genericValue,
  qualified,
  splitFin,
  subSeqs,
  type FinSequence,
} from './swift-mt.js';

/** Where a settlement stands, in our words. */
export type SettlementStatusCode = 'matched' | 'unmatched' | 'settled' | 'partially_settled' | 'pending' | 'failed' | 'rejected';

/** The formats a status can come in. */
export type StatusFormat = 'sese.024' | 'sese.025' | 'MT544' | 'MT545' | 'MT546' | 'MT547' | 'MT548' | 'csv';

/** One status of one of our instructions. */
export interface SettlementStatus {
  format: StatusFormat;
  /** Our instruction's id as the message quotes it: sese AcctOwnrTxId, MT :20C::RELA//, CSV reference. */
  reference: string;
  status: SettlementStatusCode;
  /** Decimal string; confirmations (and CSV rows that say so). */
  settledQuantity?: string;
  /** Decimal string; confirmations against payment. */
  settledAmount?: string;
  currency?: string;
  /** YYYY-MM-DD: when it settled (confirmations, CSV). */
  effectiveDate?: string;
  /** Reason codes as the message gives them, "CODE" or "CODE: narrative". */
  reasons?: string[];
}

/** What to do with a well-formed message that carries no settlement status we keep (MT548 CAST, a reversal). */
export interface ParseStatusOptions {
  /** 'throw' (default): SETTLEMENT_STATUS_UNSUPPORTED; 'skip': leave it out. */
  unsupported?: 'throw' | 'skip';
}

/** The statuses CSV columns; `currency` may be added. */
export const STATUS_CSV_COLUMNS = ['reference', 'status', 'settled_quantity', 'settled_amount', 'settle_date', 'reason'] as const;
const STATUS_CODES: readonly SettlementStatusCode[] = ['matched', 'unmatched', 'settled', 'partially_settled', 'pending', 'failed', 'rejected'];

/** An error about one message or row: names the format, the element or field, the rule. */
class StatusProblem extends Error {
  constructor(
    readonly code: typeof MessageCodes.STATUS_INVALID | typeof MessageCodes.STATUS_UNSUPPORTED,
    message: string,
    readonly detail: ErrorDetail,
  ) {
    super(message);
  }
}
const invalidAt = (message: string, detail: Omit<ErrorDetail, 'message'> = {}) =>
  new StatusProblem(MessageCodes.STATUS_INVALID, message, { ...detail, message });
const unsupportedAt = (message: string, detail: Omit<ErrorDetail, 'message'> = {}) =>
  new StatusProblem(MessageCodes.STATUS_UNSUPPORTED, message, { ...detail, message });

/** Which family a text belongs to, from its first characters; undefined when none. */
export function detectStatusFormat(text: string): 'xml' | 'mt' | 'csv' | undefined {
  const t = text.replace(/^\uFEFF/, '').trimStart();
  if (t.startsWith('<')) return 'xml';
  if (/^\{[1-5]:/.test(t)) return 'mt';
  const header = t.split(/\r?\n/, 1)[0]!.toLowerCase().split(',').map((h) => h.trim().replace(/^"|"$/g, ''));
  if (header.includes('reference') && header.includes('status')) return 'csv';
  return undefined;
}

/**
 * Read the statuses a file carries, telling its format from its content: XML with sese.024 or
 * sese.025 Documents (bare, or in any envelope such as RequestPayload with an AppHdr), SWIFT FIN
 * with MT544-548 messages, or a CSV with the header
 * `reference,status,settled_quantity,settled_amount,settle_date,reason` (optional `currency`).
 *
 * What each gives:
 * - sese.024: one status per dimension reported, in this order: processing Rjctd -> rejected;
 *   matching Mtchd -> matched, Umtchd -> unmatched; settlement Pdg -> pending, Flng -> failed.
 *   Reasons from Rsn/Cd (Cd or Prtry/Id) and AddtlRsnInf. Other processing statuses
 *   (acknowledged, pending processing, repair, cancelled...), inferred matching and proprietary
 *   statuses change nothing we track and give nothing.
 * - sese.025: settled, or partially_settled when AddtlParams/PrtlSttlm is PAIN (PARC confirms the
 *   remainder of a partial settlement: settled); settled quantity (Unit, FaceAmt or AmtsdVal),
 *   amount and currency (SttldAmt, when present), effective date (FctvSttlmDt, date of a date-time).
 * - MT544-547: the same from :36B::ESTT//, :19A::ESTT// (required for 545 and 547), :98a::ESET//
 *   (the effective settlement date; 98A or 98C), :22F::PARS//PAIN|PARC, reference :20C::RELA//.
 *   23G must be NEWM: a cancellation or reversal of a confirmation is unsupported.
 * - MT548 (23G:INST): one status per STAT subsequence: :25D::IPRC//REJT -> rejected,
 *   :25D::MTCH//MACH|NMAT -> matched|unmatched, :25D::SETT//PEND|PENF -> pending|failed, reasons
 *   from :24B: (with :70D::REAS// narrative); other IPRC codes give nothing. 23G:CAST (status of a
 *   cancellation request) is unsupported.
 * - CSV: one status per row, as written; settled and partially_settled rows need settled_quantity
 *   and settle_date; `reason` may hold several, separated by ';'.
 *
 * All or nothing: every message and row is checked, and if any breaks a rule the whole file is
 * refused with one error listing them all (details name the message or line, field and rule).
 *
 * @throws DomainError SETTLEMENT_STATUS_INVALID (bad input), SETTLEMENT_STATUS_UNSUPPORTED (a
 *   well-formed message of a kind we do not read, unless `unsupported: 'skip'`).
 */
export function parseSettlementStatus(text: string, opts: ParseStatusOptions = {}): SettlementStatus[] {
  if (typeof text !== 'string' || !text.trim()) {
    throw messageError(MessageCodes.STATUS_INVALID, 'settlement status file is empty');
  }
  const kind = detectStatusFormat(text);
  if (!kind) {
    throw messageError(
      MessageCodes.STATUS_INVALID,
      `cannot tell the settlement status format: expected ISO 20022 XML (sese.024/025), SWIFT FIN ({1:...} MT544-548) or a CSV with the header ${STATUS_CSV_COLUMNS.join(',')}`,
    );
  }
  const out: SettlementStatus[] = [];
  const problems: StatusProblem[] = [];
  const each = (units: (() => SettlementStatus[])[]) => {
    for (const unit of units) {
      try {
        out.push(...unit());
      } catch (e) {
        if (e instanceof StatusProblem) problems.push(e);
        else throw e;
      }
    }
  };
  try {
    if (kind === 'xml') each(xmlUnits(text));
    else if (kind === 'mt') each(mtUnits(text));
    else each(csvUnits(text));
  } catch (e) {
    if (e instanceof StatusProblem) problems.push(e);
    else throw e;
  }

  const invalid = problems.filter((p) => p.code === MessageCodes.STATUS_INVALID);
  const unsupported = problems.filter((p) => p.code === MessageCodes.STATUS_UNSUPPORTED);
  const refuse = invalid.length ? invalid : opts.unsupported === 'skip' ? [] : unsupported;
  if (refuse.length) {
    const code = refuse[0]!.code;
    throw messageError(
      code,
      refuse.length === 1 ? refuse[0]!.message : `${refuse.length} problems in the settlement status file; nothing was read. First: ${refuse[0]!.message}`,
      refuse.map((p) => p.detail),
    );
  }
  return out;
}

// ---- ISO 20022 -------------------------------------------------------------------------------

const SESE_NS = /^urn:iso:std:iso:20022:tech:xsd:(sese\.02[45])\.\d{3}\.\d{2}$/;

function xmlUnits(text: string): (() => SettlementStatus[])[] {
  let root: XmlElement;
  try {
    root = parseXml(text);
  } catch (e) {
    if (e instanceof XmlSyntaxError) throw invalidAt(`XML: ${e.message}`, { rule: 'WELL_FORMED' });
    throw e;
  }
  const docs = root.name === 'Document' ? [root] : findAll(root, (e) => e.name === 'Document');
  if (!docs.length) throw invalidAt(`XML: no ISO 20022 Document element (root is ${root.name})`, { field: 'Document', rule: 'REQUIRED' });
  return docs.map((doc, i) => () => {
    const kind = SESE_NS.exec(doc.ns ?? '')?.[1];
    const record = docs.length > 1 ? `Document ${i + 1}` : undefined;
    if (kind === 'sese.024') return sese024(doc, record);
    if (kind === 'sese.025') return [sese025(doc, record)];
    throw invalidAt(`XML: Document namespace "${doc.ns ?? ''}" is neither sese.024 nor sese.025`, { record, field: 'Document', rule: 'NAMESPACE' });
  });
}

/** The required element at `path` below `base`, or an error naming it ("sese.025: element X/Y is missing"). */
function need(fmt: string, base: XmlElement, path: string, record: string | undefined, shownPath = path): XmlElement {
  const e = at(base, path);
  if (!e) throw invalidAt(`${fmt}: element ${shownPath} is missing`, { record, field: shownPath, rule: 'REQUIRED' });
  return e;
}

function needText(fmt: string, base: XmlElement, path: string, record: string | undefined): string {
  const e = need(fmt, base, path, record);
  if (!e.text) throw invalidAt(`${fmt}: element ${path} is empty`, { record, field: path, rule: 'REQUIRED' });
  return e.text;
}

function decimalAt(fmt: string, e: XmlElement, path: string, record: string | undefined): string {
  if (!DECIMAL_RE.test(e.text)) {
    throw invalidAt(`${fmt}: element ${path} "${e.text}" is not a decimal number (digits, optional point)`, { record, field: path, rule: 'DECIMAL' });
  }
  return e.text;
}

/** Reasons of a status element: Rsn/Cd/Cd or Rsn/Cd/Prtry/Id, with AddtlRsnInf. */
function isoReasons(status: XmlElement): string[] {
  return childrenNamed(status, 'Rsn').flatMap((r) => {
    const code = at(r, 'Cd/Cd')?.text || at(r, 'Cd/Prtry/Id')?.text;
    const info = child(r, 'AddtlRsnInf')?.text;
    const s = code && info ? `${code}: ${info}` : code || info;
    return s ? [s] : [];
  });
}

const withReasons = (s: SettlementStatus, reasons: string[]): SettlementStatus => (reasons.length ? { ...s, reasons } : s);

function choiceOf(fmt: string, el: XmlElement, path: string, allowed: readonly string[], record: string | undefined): XmlElement {
  const c = el.children[0];
  if (!c || el.children.length > 1 || !allowed.includes(c.name)) {
    throw invalidAt(`${fmt}: element ${path} must hold one of ${allowed.join(', ')}; it holds ${el.children.map((x) => x.name).join(', ') || 'nothing'}`, { record, field: path, rule: 'CHOICE' });
  }
  return c;
}

function sese024(doc: XmlElement, record: string | undefined): SettlementStatus[] {
  const fmt = 'sese.024';
  const msg = need(fmt, doc, 'SctiesSttlmTxStsAdvc', record);
  const reference = needText(fmt, msg, 'TxId/AcctOwnrTxId', record);
  const rec = record ?? reference;
  const base = { format: fmt, reference } as const;
  const out: SettlementStatus[] = [];

  const prcg = child(msg, 'PrcgSts');
  if (prcg) {
    const c = choiceOf(fmt, prcg, 'PrcgSts', ['AckdAccptd', 'PdgPrcg', 'Rjctd', 'Rpr', 'Canc', 'PdgCxl', 'Prtry', 'CxlReqd', 'ModReqd'], rec);
    if (c.name === 'Rjctd') out.push(withReasons({ ...base, status: 'rejected' }, isoReasons(c)));
  }
  const mtch = child(msg, 'MtchgSts');
  if (mtch) {
    const c = choiceOf(fmt, mtch, 'MtchgSts', ['Mtchd', 'Umtchd', 'Prtry'], rec);
    if (c.name === 'Mtchd') out.push({ ...base, status: 'matched' });
    if (c.name === 'Umtchd') out.push(withReasons({ ...base, status: 'unmatched' }, isoReasons(c)));
  }
  const sttl = child(msg, 'SttlmSts');
  if (sttl) {
    const c = choiceOf(fmt, sttl, 'SttlmSts', ['Pdg', 'Flng', 'Prtry'], rec);
    if (c.name === 'Pdg') out.push(withReasons({ ...base, status: 'pending' }, isoReasons(c)));
    if (c.name === 'Flng') out.push(withReasons({ ...base, status: 'failed' }, isoReasons(c)));
  }
  return out;
}

function sese025(doc: XmlElement, record: string | undefined): SettlementStatus {
  const fmt = 'sese.025';
  const msg = need(fmt, doc, 'SctiesSttlmTxConf', record);
  const reference = needText(fmt, msg, 'TxIdDtls/AcctOwnrTxId', record);
  const rec = record ?? reference;

  const qty = need(fmt, msg, 'QtyAndAcctDtls/SttldQty/Qty', rec, 'QtyAndAcctDtls/SttldQty/Qty/Unit');
  const q = choiceOf(fmt, qty, 'QtyAndAcctDtls/SttldQty/Qty', ['Unit', 'FaceAmt', 'AmtsdVal'], rec);
  const settledQuantity = decimalAt(fmt, q, `QtyAndAcctDtls/SttldQty/Qty/${q.name}`, rec);

  const dt = need(fmt, msg, 'TradDtls/FctvSttlmDt/Dt', rec, 'TradDtls/FctvSttlmDt');
  const d = choiceOf(fmt, dt, 'TradDtls/FctvSttlmDt/Dt', ['Dt', 'DtTm'], rec);
  const effectiveDate = d.text.slice(0, 10);
  const shape = d.name === 'Dt' ? /^\d{4}-\d{2}-\d{2}(Z|[+-]\d{2}:\d{2})?$/ : /^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d:[0-5]\d/;
  if (!shape.test(d.text) || !validDay(effectiveDate)) {
    throw invalidAt(`${fmt}: element TradDtls/FctvSttlmDt/Dt/${d.name} "${d.text}" is not a ${d.name === 'Dt' ? 'date' : 'date-time'}`, { record: rec, field: `TradDtls/FctvSttlmDt/Dt/${d.name}`, rule: 'DATE' });
  }

  let status: SettlementStatusCode = 'settled';
  const prtl = at(msg, 'AddtlParams/PrtlSttlm');
  if (prtl) {
    if (prtl.text === 'PAIN') status = 'partially_settled';
    else if (prtl.text !== 'PARC') throw invalidAt(`${fmt}: element AddtlParams/PrtlSttlm "${prtl.text}" is not PAIN or PARC`, { record: rec, field: 'AddtlParams/PrtlSttlm', rule: 'CODE' });
  }

  const out: SettlementStatus = { format: fmt, reference, status, settledQuantity, effectiveDate };
  const amt = at(msg, 'SttldAmt/Amt');
  if (amt) {
    out.settledAmount = decimalAt(fmt, amt, 'SttldAmt/Amt', rec);
    const ccy = amt.attrs.Ccy;
    if (!ccy || currencyDigits(ccy) === undefined) {
      throw invalidAt(`${fmt}: element SttldAmt/Amt/@Ccy "${ccy ?? ''}" is not an ISO 4217 currency`, { record: rec, field: 'SttldAmt/Amt/@Ccy', rule: 'ISO4217' });
    }
    out.currency = ccy;
  }
  return out;
}

const validDay = (ymd: string): boolean => {
  try {
    parseDate(ymd);
    return true;
  } catch {
    return false;
  }
};

// ---- SWIFT MT --------------------------------------------------------------------------------

function mtUnits(text: string): (() => SettlementStatus[])[] {
  let msgs;
  try {
    msgs = splitFin(text);
  } catch (e) {
    if (e instanceof FinSyntaxError) throw invalidAt(`FIN: ${e.message}`, { rule: 'FIN_FRAME' });
    throw e;
  }
  return msgs.map((m, i) => () => {
    const record = msgs.length > 1 ? `message ${i + 1}` : undefined;
    const type = m.type;
    if (!type) throw invalidAt('FIN: block 2 (application header) with the message type is missing', { record, field: 'block 2', rule: 'REQUIRED' });
    if (!['544', '545', '546', '547', '548'].includes(type)) {
      throw invalidAt(`MT${type}: not a settlement confirmation or status (MT544-548)`, { record, field: 'block 2', rule: 'MESSAGE_TYPE' });
    }
    if (m.block4 === undefined) throw invalidAt(`MT${type}: block 4 (text) is missing`, { record, field: 'block 4', rule: 'REQUIRED' });
    let top: FinSequence;
    try {
      top = finSequences(finFields(m.block4));
    } catch (e) {
      if (e instanceof FinSyntaxError) throw invalidAt(`MT${type}: ${e.message}`, { record, field: 'block 4', rule: 'FIN_SEQUENCES' });
      throw e;
    }
    return type === '548' ? mt548(top, record) : [mt544to547(type as '544' | '545' | '546' | '547', top, record)];
  });
}

function needSeq(fmt: string, parent: FinSequence, name: string, record: string | undefined): FinSequence {
  const s = subSeqs(parent, name)[0];
  if (!s) throw invalidAt(`${fmt}: sequence ${name} is missing`, { record, field: `16R:${name}`, rule: 'REQUIRED' });
  return s;
}

/** :20C::RELA// in a LINK of GENL: the reference of our instruction. */
function relatedReference(fmt: string, genl: FinSequence, record: string | undefined): string {
  for (const link of subSeqs(genl, 'LINK')) {
    const r = qualified(link, '20C', 'RELA');
    if (r) {
      if (!r.value.data || r.value.data.length > 16) {
        throw invalidAt(`${fmt}: field :20C::RELA// "${r.value.data}" is not a reference (1 to 16 characters)`, { record, field: ':20C::RELA//', rule: 'FIN_REFERENCE' });
      }
      return r.value.data;
    }
  }
  throw invalidAt(`${fmt}: field :20C::RELA// is missing (sequence GENL/LINK): it names the instruction this answers`, { record, field: ':20C::RELA//', rule: 'REQUIRED' });
}

function mt544to547(type: '544' | '545' | '546' | '547', top: FinSequence, record: string | undefined): SettlementStatus {
  const fmt = `MT${type}` as const;
  const genl = needSeq(fmt, top, 'GENL', record);
  const fn = seqField23G(genl);
  const reference = relatedReference(fmt, genl, record);
  const rec = record ?? reference;
  if (fn === undefined) throw invalidAt(`${fmt}: field :23G: is missing`, { record: rec, field: ':23G:', rule: 'REQUIRED' });
  if (!/^NEWM(\/\w{4})?$/.test(fn)) {
    throw unsupportedAt(`${fmt}: 23G:${fn} is not a new confirmation (NEWM); a cancelled or reversed confirmation must be handled as such`, { record: rec, field: ':23G:', rule: 'FUNCTION' });
  }

  const trad = needSeq(fmt, top, 'TRADDET', rec);
  const eset = qualified(trad, ['98A', '98C'], 'ESET');
  if (!eset) throw invalidAt(`${fmt}: field :98a::ESET// (effective settlement date) is missing`, { record: rec, field: ':98a::ESET//', rule: 'REQUIRED' });
  const effectiveDate = eset.field.tag === '98C' && /^\d{14}$/.test(eset.value.data) ? fromFinDate(eset.value.data.slice(0, 8)) : eset.field.tag === '98A' ? fromFinDate(eset.value.data) : undefined;
  if (!effectiveDate) {
    throw invalidAt(`${fmt}: field :${eset.field.tag}::ESET// "${eset.value.data}" is not a date (${eset.field.tag === '98A' ? 'YYYYMMDD' : 'YYYYMMDDhhmmss'})`, { record: rec, field: `:${eset.field.tag}::ESET//`, rule: 'DATE' });
  }

  const fiac = needSeq(fmt, top, 'FIAC', rec);
  const estt = qualified(fiac, '36B', 'ESTT');
  if (!estt) throw invalidAt(`${fmt}: field :36B::ESTT// (quantity settled) is missing`, { record: rec, field: ':36B::ESTT//', rule: 'REQUIRED' });
  const qm = /^(UNIT|FAMT|AMOR)\/(.+)$/.exec(estt.value.data);
  if (!qm || !finDecimalOk(qm[2]!)) {
    throw invalidAt(`${fmt}: field :36B::ESTT// "${estt.value.data}" is not a quantity (UNIT, FAMT or AMOR / digits with a comma decimal, e.g. UNIT/100,)`, { record: rec, field: ':36B::ESTT//', rule: 'FIN_DECIMAL' });
  }

  const out: SettlementStatus = { format: fmt, reference, status: 'settled', settledQuantity: fromFinDecimal(qm[2]!), effectiveDate };
  const setdet = subSeqs(top, 'SETDET')[0];
  const amtField = setdet ? findSeqs(setdet, 'AMT').map((a) => qualified(a, '19A', 'ESTT')).find(Boolean) : undefined;
  if (amtField) {
    const am = /^(N?)([A-Z]{3})(.+)$/.exec(amtField.value.data);
    const digits = am ? currencyDigits(am[2]!) : undefined;
    if (!am || digits === undefined || !finDecimalOk(am[3]!) || (am[3]!.split(',')[1] ?? '').length > digits) {
      throw invalidAt(`${fmt}: field :19A::ESTT// "${amtField.value.data}" is not a currency and amount (e.g. USD1234,56, decimals as the currency allows)`, { record: rec, field: ':19A::ESTT//', rule: 'FIN_AMOUNT' });
    }
    out.settledAmount = fromFinDecimal(am[3]!);
    out.currency = am[2]!;
  } else if (type === '545' || type === '547') {
    throw invalidAt(`${fmt}: field :19A::ESTT// (amount settled) is missing: MT${type} confirms a settlement against payment`, { record: rec, field: ':19A::ESTT//', rule: 'REQUIRED' });
  }

  const pars = allFields(top).map((f) => (f.tag === '22F' ? genericValue(f.value) : undefined)).find((g) => g?.qualifier === 'PARS');
  if (pars) {
    if (pars.data === 'PAIN') out.status = 'partially_settled';
    else if (pars.data !== 'PARC') throw invalidAt(`${fmt}: field :22F::PARS// "${pars.data}" is not PAIN or PARC`, { record: rec, field: ':22F::PARS//', rule: 'CODE' });
  }
  return out;
}

function seqField23G(genl: FinSequence): string | undefined {
  for (const it of genl.items) if (it.kind === 'field' && it.field.tag === '23G') return it.field.value;
  return undefined;
}

/** MT548 25D qualifier -> code -> our status. Other qualifiers, and other IPRC codes, give nothing. */
const MT548_STATUS: Record<string, Record<string, SettlementStatusCode>> = {
  MTCH: { MACH: 'matched', NMAT: 'unmatched' },
  SETT: { PEND: 'pending', PENF: 'failed' },
  IPRC: { REJT: 'rejected' },
};

function mt548(top: FinSequence, record: string | undefined): SettlementStatus[] {
  const fmt = 'MT548';
  const genl = needSeq(fmt, top, 'GENL', record);
  const reference = relatedReference(fmt, genl, record);
  const rec = record ?? reference;
  const fn = seqField23G(genl);
  if (fn === undefined) throw invalidAt(`${fmt}: field :23G: is missing`, { record: rec, field: ':23G:', rule: 'REQUIRED' });
  if (/^CAST/.test(fn)) {
    throw unsupportedAt(`${fmt}: 23G:CAST reports on a cancellation request, not on the settlement; route it to cancellation handling`, { record: rec, field: ':23G:', rule: 'FUNCTION' });
  }
  if (!/^INST(\/\w{4})?$/.test(fn)) throw invalidAt(`${fmt}: field :23G: "${fn}" is not INST or CAST`, { record: rec, field: ':23G:', rule: 'CODE' });

  const stats = subSeqs(genl, 'STAT');
  if (!stats.length) throw invalidAt(`${fmt}: sequence STAT is missing (in GENL): the message reports no status`, { record: rec, field: '16R:STAT', rule: 'REQUIRED' });
  const out: SettlementStatus[] = [];
  for (const stat of stats) {
    const f = stat.items.find((it) => it.kind === 'field' && it.field.tag === '25D');
    if (!f || f.kind !== 'field') throw invalidAt(`${fmt}: field :25D: is missing in sequence STAT (line ${stat.line})`, { record: rec, field: ':25D:', rule: 'REQUIRED' });
    const g = genericValue(f.field.value);
    if (!g || !/^[A-Z0-9]{4}$/.test(g.data)) {
      throw invalidAt(`${fmt}: field :25D: "${f.field.value}" is not ":qualifier//code" (line ${f.field.line})`, { record: rec, field: ':25D:', rule: 'FORMAT' });
    }
    const table = MT548_STATUS[g.qualifier];
    if (!table) continue;
    const status = table[g.data];
    if (status === undefined) {
      if (g.qualifier === 'IPRC') continue;
      throw invalidAt(`${fmt}: field :25D::${g.qualifier}// "${g.data}" is not ${Object.keys(table).join(' or ')}`, { record: rec, field: `:25D::${g.qualifier}//`, rule: 'CODE' });
    }
    const reasons = subSeqs(stat, 'REAS').flatMap((reas) => {
      const code = reas.items.flatMap((it) => (it.kind === 'field' && it.field.tag === '24B' ? [genericValue(it.field.value)?.data] : []))[0];
      const narrative = qualified(reas, '70D', 'REAS')?.value.data.replace(/\n/g, ' ');
      const s = code && narrative ? `${code}: ${narrative}` : code || narrative;
      return s ? [s] : [];
    });
    out.push(withReasons({ format: fmt, reference, status }, reasons));
  }
  return out;
}

// ---- CSV -------------------------------------------------------------------------------------

function csvUnits(text: string): (() => SettlementStatus[])[] {
  let rows: { record: Record<string, string>; info: { lines: number } }[];
  try {
    rows = parseCsv(text.replace(/^\uFEFF/, ''), {
      columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()),
      skip_empty_lines: true,
      trim: true,
      info: true,
    });
  } catch (e) {
    throw invalidAt(`CSV: ${(e as Error).message}`, { rule: 'CSV' });
  }
  const header = rows[0] ? Object.keys(rows[0].record) : text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0]!.toLowerCase().split(',').map((c) => c.trim());
  const missing = STATUS_CSV_COLUMNS.filter((c) => !header.includes(c));
  const unknown = header.filter((c) => !(STATUS_CSV_COLUMNS as readonly string[]).includes(c) && c !== 'currency');
  if (missing.length || unknown.length) {
    throw invalidAt(
      `CSV: header ${missing.length ? `lacks ${missing.join(', ')}` : ''}${missing.length && unknown.length ? ' and ' : ''}${unknown.length ? `has unknown column(s) ${unknown.join(', ')}` : ''}; expected ${STATUS_CSV_COLUMNS.join(',')}[,currency]`,
      { record: 'line 1', rule: 'HEADER' },
    );
  }
  return rows.map(({ record: r, info }) => () => {
    const line = `line ${info.lines}`;
    const bad = (field: string, rule: string, what: string) => invalidAt(`CSV ${line}: field ${field} ${what}`, { record: line, field, rule });
    if (!r.reference) throw bad('reference', 'REQUIRED', 'is empty');
    if (!(STATUS_CODES as readonly string[]).includes(r.status ?? '')) throw bad('status', 'CODE', `"${r.status}" is not one of ${STATUS_CODES.join(', ')}`);
    const s: SettlementStatus = { format: 'csv', reference: r.reference, status: r.status as SettlementStatusCode };
    if (r.settled_quantity) {
      if (!DECIMAL_RE.test(r.settled_quantity)) throw bad('settled_quantity', 'DECIMAL', `"${r.settled_quantity}" is not a decimal number (digits, optional point)`);
      s.settledQuantity = r.settled_quantity;
    }
    if (r.settled_amount) {
      if (!DECIMAL_RE.test(r.settled_amount)) throw bad('settled_amount', 'DECIMAL', `"${r.settled_amount}" is not a decimal number (digits, optional point)`);
      s.settledAmount = r.settled_amount;
    }
    if (r.currency) {
      if (currencyDigits(r.currency) === undefined) throw bad('currency', 'ISO4217', `"${r.currency}" is not an ISO 4217 currency`);
      s.currency = r.currency;
    }
    if (r.settle_date) {
      if (!validDay(r.settle_date)) throw bad('settle_date', 'DATE', `"${r.settle_date}" is not a date (YYYY-MM-DD)`);
      s.effectiveDate = r.settle_date;
    }
    if ((s.status === 'settled' || s.status === 'partially_settled') && (!s.settledQuantity || !s.effectiveDate)) {
      throw bad(s.settledQuantity ? 'settle_date' : 'settled_quantity', 'REQUIRED', `is empty: a ${s.status} row needs settled_quantity and settle_date`);
    }
    const reasons = (r.reason ?? '').split(';').map((x) => x.trim()).filter(Boolean);
    return [withReasons(s, reasons)];
  });
}
