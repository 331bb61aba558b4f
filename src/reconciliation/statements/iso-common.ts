/**
 * What the ISO 20022 statement parsers (camt.05x, semt.002) share: which namespaces are known,
 * reading an amount with its currency and indicator, dates, and refusing with the element's path.
 */
import { currencyScale, significantDecimals, signed, UNSIGNED_RE } from './amounts.js';
import { refuseFile, statementLabel } from './errors.js';
import { childText, kid, pathOf, textAt, type XEl } from './xml-reader.js';

/** camt.052/053/054 and semt.002 namespaces: urn:iso:std:iso:20022:tech:xsd:camt.053.001.08. */
export const ISO_NS_RE = /^urn:iso:std:iso:20022:tech:xsd:([a-z]{4}\.\d{3})\.001\.(\d{2})$/;

/** Message, its root element, the statement element in it, and the versions read. */
export const ISO_MESSAGES: Record<string, { root: string; item: string | null; versions: [number, number] }> = {
  'camt.052': { root: 'BkToCstmrAcctRpt', item: 'Rpt', versions: [2, 13] },
  'camt.053': { root: 'BkToCstmrStmt', item: 'Stmt', versions: [2, 13] },
  'camt.054': { root: 'BkToCstmrDbtCdtNtfctn', item: 'Ntfctn', versions: [2, 13] },
  'semt.002': { root: 'SctiesBalCtdyRpt', item: null, versions: [3, 11] },
};

export const SUPPORTED_TEXT =
  'supported: camt.052, camt.053 and camt.054 versions 001.02 to 001.13, semt.002 versions 001.03 to 001.11';

/** Message and version of a namespace, or null when it is not one we read. */
export function isoMessageOf(ns: string | undefined): { message: string; version: number; format: string } | null {
  const m = ns ? ISO_NS_RE.exec(ns) : null;
  if (!m) return null;
  const spec = ISO_MESSAGES[m[1]!];
  const version = Number(m[2]);
  if (!spec || version < spec.versions[0] || version > spec.versions[1]) return null;
  return { message: m[1]!, version, format: `${m[1]}.001.${m[2]}` };
}

/** Everything a parser needs to name what it refuses. */
export interface IsoCtx {
  file: string;
  /** The entry being read and its position (1-based): earlier entries have left the tree, so its place among its siblings is told here. */
  entry: XEl | null;
  entryPosition: number;
}

/** The statement element (named by its Id and Acct), or a label already made, or none. */
export type StmtRef = XEl | string | undefined;

/** Name the statement an element belongs to, from its statement element (Id, Acct). */
export function labelOf(stmt: StmtRef): string | undefined {
  if (stmt === undefined || typeof stmt === 'string') return stmt;
  const id = textAt(stmt, 'Id') ?? '(no Id)';
  const acct = textAt(stmt, 'Acct', 'Id', 'IBAN') ?? textAt(stmt, 'Acct', 'Id', 'Othr', 'Id');
  return statementLabel(id, acct);
}

/** Refuse the file at an element (or at a missing child of it, given by `missing`). */
export function refuseAt(ctx: IsoCtx, stmt: StmtRef, el: XEl, rule: string, missing: string[] = []) {
  const positions = ctx.entry ? new Map([[ctx.entry, ctx.entryPosition]]) : undefined;
  return refuseFile({ file: ctx.file, statement: labelOf(stmt), path: pathOf(el, missing, positions) }, rule);
}

/** The required child at a path below `el`, or refuse naming the missing element. */
export function need(ctx: IsoCtx, stmt: StmtRef, el: XEl, names: string[], rule: string): XEl {
  let cur: XEl = el;
  for (let i = 0; i < names.length; i++) {
    const next = kid(cur, names[i]!);
    if (next === undefined || (i === names.length - 1 && next.first === null && next.text === '')) {
      throw refuseAt(ctx, stmt, el, `is missing${rule ? ': ' + rule : ''}`, names);
    }
    cur = next;
  }
  return cur;
}

/**
 * An amount element <Amt Ccy="EUR">12.50</Amt>: checks the currency (ISO 4217) and that the amount
 * has no more decimals than the currency's minor units (trailing zeros are not decimals lost).
 */
export function readAmount(ctx: IsoCtx, stmt: StmtRef, el: XEl): { value: string; currency: string } {
  const currency = el.attrs?.Ccy;
  if (!currency) throw refuseAt(ctx, stmt, el, 'has no Ccy attribute: every amount names its currency');
  const scale = currencyScale(currency);
  if (scale === null) throw refuseAt(ctx, stmt, el, `Ccy "${currency}" is not an ISO 4217 currency code`);
  const value = el.text;
  if (!UNSIGNED_RE.test(value)) throw refuseAt(ctx, stmt, el, `"${value}" is not a decimal amount (digits, optionally '.' and decimals)`);
  const d = significantDecimals(value);
  if (d > scale) {
    throw refuseAt(ctx, stmt, el, `"${value}" has ${d} decimals; ${currency} allows ${scale} (ISO 4217 minor units)`);
  }
  return { value, currency };
}

/** Amount signed by the CdtDbtInd beside it (required, CRDT or DBIT). */
export function readSignedAmount(ctx: IsoCtx, stmt: StmtRef, parent: XEl, what: string): { amount: string; currency: string; debit: boolean } {
  const amtEl = need(ctx, stmt, parent, ['Amt'], `every ${what} needs an amount`);
  const { value, currency } = readAmount(ctx, stmt, amtEl);
  const cdi = kid(parent, 'CdtDbtInd');
  if (cdi === undefined || cdi.text === '') {
    throw refuseAt(ctx, stmt, parent, `is missing: every ${what} needs a credit/debit indicator (CRDT or DBIT)`, ['CdtDbtInd']);
  }
  if (cdi.text !== 'CRDT' && cdi.text !== 'DBIT') throw refuseAt(ctx, stmt, cdi, `"${cdi.text}" is not CRDT or DBIT`);
  const debit = cdi.text === 'DBIT';
  return { amount: signed(value, debit), currency, debit };
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}/;

/** A date choice element (<Dt> or <DtTm>, or the text itself): the calendar date as written. */
export function readDate(ctx: IsoCtx, stmt: StmtRef, el: XEl | undefined): string | null {
  if (el === undefined) return null;
  const t = el.first !== null ? (childText(el, 'Dt') ?? childText(el, 'DtTm')) : el.text;
  if (t === null || t === '') return null;
  if (!DATE_RE.test(t)) throw refuseAt(ctx, stmt, el, `"${t}" is not a date (YYYY-MM-DD) or date-time`);
  return t.length === 10 ? t : t.slice(0, 10);
}

/** Every Document element of the file: the root itself, or those inside an envelope. */
export function documentsOf(root: XEl): XEl[] {
  if (root.name === 'Document') return [root];
  const out: XEl[] = [];
  const walk = (e: XEl) => {
    for (let c = e.first; c !== null; c = c.next) {
      if (c.name === 'Document') out.push(c);
      else walk(c);
    }
  };
  walk(root);
  return out;
}
