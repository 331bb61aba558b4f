/**
 * Corporate action announcements: read from CSV, checked row by row, stored once per id.
 *
 * File layout (a header row; column order free; empty cells are absent values; lines starting
 * with # are comments):
 *
 * | column | used by | meaning |
 * |---|---|---|
 * | id | all | the announcement's id (e.g. the agent's or DTC's event id): re-importing it changes nothing |
 * | kind | all | cash_dividend, split, reverse_split or symbol_change |
 * | symbol | all | the security (a known symbol) |
 * | ex_date, record_date, pay_date | cash_dividend | YYYY-MM-DD; record_date <= pay_date, ex_date <= pay_date |
 * | rate, currency | cash_dividend | per share, a positive decimal; an ISO 4217 currency |
 * | source_country | cash_dividend | country whose withholding tax applies (default: the ISIN's prefix) |
 * | effective_date | split, reverse_split, symbol_change | the ex (effective) date: from it on the security trades in new units / under the new identifiers |
 * | ratio | split, reverse_split | new for old: `3:2` or `3-for-2` (3-for-2 split), `1:10` (1-for-10 reverse split) |
 * | cash_in_lieu_price | split, reverse_split | price per share paid for fractions; required unless the ratio is a whole multiple |
 * | record_date, pay_date | split | optional, for information (forward splits are paid on pay date, ex the day after) |
 * | new_symbol, new_isin, new_cusip, new_name | symbol_change | one or more of the new identifiers |
 * | description | all | free text |
 *
 * All or nothing: a file with any bad row writes nothing, and every problem is named by line,
 * announcement, field and rule. Idempotent by id: the same terms again are `unchanged`; other terms
 * revise an announcement not yet applied (`updated`, audited) and are refused for one already
 * applied (CORPORATE_ACTION_ALREADY_APPLIED, the whole file).
 */
import crypto from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { withTx, type Client, type Pool } from '../../db/index.js';
import { Dec, parseDate, type Clock, type ErrorDetail } from '../../kernel/index.js';
import { appendAudit, isoCurrency, lockBooks } from '../../ledger/index.js';
import { identifierChangeProblems, isValidCusip, isValidIsin } from '../../reference/index.js';
import { CorporateActionCodes as C, corporateActionError, fileRejected } from './errors.js';

export const ACTION_KINDS = ['cash_dividend', 'split', 'reverse_split', 'symbol_change'] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];
export type ActionStatus = 'announced' | 'applied';

/** The columns an announcements file may have (README and `corporate-actions import --help`). */
export const ANNOUNCEMENT_COLUMNS = [
  'id', 'kind', 'symbol', 'ex_date', 'record_date', 'pay_date', 'effective_date', 'rate', 'currency', 'source_country',
  'ratio', 'cash_in_lieu_price', 'new_symbol', 'new_isin', 'new_cusip', 'new_name', 'description',
] as const;

/** The terms of an announcement as read from a file (decimal strings, dates YYYY-MM-DD, null when absent). */
export interface AnnouncementTerms {
  id: string;
  kind: ActionKind;
  symbol: string;
  exDate: string | null;
  recordDate: string | null;
  payDate: string | null;
  effectiveDate: string | null;
  rate: string | null;
  currency: string | null;
  sourceCountry: string | null;
  ratioNew: string | null;
  ratioOld: string | null;
  cashInLieuPrice: string | null;
  newSymbol: string | null;
  newIsin: string | null;
  newCusip: string | null;
  newName: string | null;
  description: string;
}

/** A stored announcement. */
export interface CorporateAction extends AnnouncementTerms {
  status: ActionStatus;
  /** The date apply books on and may not run before: the pay date of a dividend, else the effective date. */
  dueDate: string;
  sourceFile: string;
  importedAt: string;
  importedBy: string;
  updatedAt: string;
  appliedAt: string | null;
  appliedBy: string | null;
  appliedEarly: boolean | null;
}

/** One announcement as read: its line, and its terms when the row is good. */
export interface ReadRow { line: number; values: Record<string, string> }

const ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
const DECIMAL = /^\d+(\.\d+)?$/;
const RATIO = /^(\d+(?:\.\d+)?)\s*(?::|-for-|\s+for\s+)\s*(\d+(?:\.\d+)?)$/i;
const COUNTRY = /^[A-Z]{2}$/;

/**
 * Read an announcements CSV into rows with their line numbers.
 * @throws DomainError CORPORATE_ACTION_FILE_INVALID when the file is not CSV or lacks id, kind, symbol
 */
export function readAnnouncementRows(text: string, file: string): ReadRow[] {
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, {
      columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), skip_empty_lines: true, trim: true, bom: true, comment: '#',
      info: true, relax_column_count: false,
    });
  } catch (e) {
    throw fileRejected(C.FILE_INVALID, 'announcements file', [{ record: file, rule: 'CSV', message: `${file}: not a readable CSV file: ${(e as Error).message}` }]);
  }
  const header = text.replace(/^\uFEFF/, '').split(/\r?\n/).find((l) => l.trim() && !l.trim().startsWith('#')) ?? '';
  const cols = header.split(',').map((c) => c.trim().toLowerCase());
  const missing = ['id', 'kind', 'symbol'].filter((c) => !cols.includes(c));
  if (missing.length) {
    throw fileRejected(C.FILE_INVALID, 'announcements file', [{ record: file, field: missing.join(','), rule: 'COLUMNS', message: `${file}: missing column(s) ${missing.join(', ')}; the columns are ${ANNOUNCEMENT_COLUMNS.join(',')}` }]);
  }
  const unknown = cols.filter((c) => c && !(ANNOUNCEMENT_COLUMNS as readonly string[]).includes(c));
  if (unknown.length) {
    throw fileRejected(C.FILE_INVALID, 'announcements file', [{ record: file, field: unknown.join(','), rule: 'COLUMNS', message: `${file}: unknown column(s) ${unknown.join(', ')}; the columns are ${ANNOUNCEMENT_COLUMNS.join(',')}` }]);
  }
  return records.map((r) => ({ line: r.info.lines, values: r.record }));
}

/** What the checks need to know of a security. */
export interface KnownSecurity { symbol: string; isin: string | null; validUntil: string | null }

/**
 * Check one row and turn it into terms, or add its problems to `errs` (pure: the securities are
 * passed in). Rules are named in `rule`: REQUIRED, ENUM, ID_FORMAT, SECURITY_UNKNOWN, DATE,
 * DATE_ORDER, POSITIVE_DECIMAL, ISO_4217, ISO_3166, RATIO_FORMAT, RATIO_DIRECTION, NOT_APPLICABLE,
 * SOURCE_COUNTRY_REQUIRED, SYMBOL_FORMAT, ISIN_CHECK_DIGIT, CUSIP_CHECK_DIGIT, SECURITY_RETIRED.
 */
export function checkAnnouncement(row: ReadRow, file: string, securities: Map<string, KnownSecurity>, errs: ErrorDetail[]): AnnouncementTerms | undefined {
  const v = row.values;
  const id = v.id ?? '';
  const record = `${file} line ${row.line}${id ? ` (${id})` : ''}`;
  const before = errs.length;
  const err = (field: string, rule: string, message: string) => errs.push({ record, field, rule, message: `${record}: ${field}: ${message}` });
  const val = (k: string) => (v[k] === undefined || v[k] === '' ? null : v[k]!);

  if (!id) err('id', 'REQUIRED', 'is required');
  else if (!ID.test(id)) err('id', 'ID_FORMAT', `"${id}" must be 1-64 of letters, digits, '_', '.', ':', '-', starting with a letter or digit`);
  const kind = v.kind ?? '';
  if (!(ACTION_KINDS as readonly string[]).includes(kind)) err('kind', 'ENUM', `"${kind}" must be one of ${ACTION_KINDS.join(', ')}`);
  const symbol = v.symbol ?? '';
  const sec = securities.get(symbol);
  if (!symbol) err('symbol', 'REQUIRED', 'is required');
  else if (!sec) err('symbol', 'SECURITY_UNKNOWN', `"${symbol}" is not a known security`);

  const date = (k: string, required: boolean): string | null => {
    const x = val(k);
    if (x === null) {
      if (required) err(k, 'REQUIRED', `is required for a ${kind}`);
      return null;
    }
    try { return parseDate(x, k); } catch (e) { err(k, 'DATE', (e as Error).message); return null; }
  };
  const positive = (k: string, required: boolean): string | null => {
    const x = val(k);
    if (x === null) {
      if (required) err(k, 'REQUIRED', `is required for a ${kind}`);
      return null;
    }
    if (!DECIMAL.test(x) || new Dec(x).lte(0)) { err(k, 'POSITIVE_DECIMAL', `"${x}" must be a positive decimal such as 0.24`); return null; }
    return new Dec(x).toFixed();
  };
  const notApplicable = (...keys: string[]) => {
    for (const k of keys) if (val(k) !== null) err(k, 'NOT_APPLICABLE', `is not used by a ${kind}; leave it empty`);
  };

  const terms: AnnouncementTerms = {
    id, kind: kind as ActionKind, symbol, exDate: null, recordDate: null, payDate: null, effectiveDate: null, rate: null, currency: null,
    sourceCountry: null, ratioNew: null, ratioOld: null, cashInLieuPrice: null, newSymbol: null, newIsin: null, newCusip: null, newName: null,
    description: v.description ?? '',
  };
  if (kind === 'cash_dividend') {
    terms.exDate = date('ex_date', true);
    terms.recordDate = date('record_date', true);
    terms.payDate = date('pay_date', true);
    if (terms.recordDate && terms.payDate && terms.recordDate > terms.payDate) err('pay_date', 'DATE_ORDER', `pay date ${terms.payDate} is before the record date ${terms.recordDate}`);
    if (terms.exDate && terms.payDate && terms.exDate > terms.payDate) err('ex_date', 'DATE_ORDER', `ex-date ${terms.exDate} is after the pay date ${terms.payDate}`);
    terms.rate = positive('rate', true);
    const ccy = val('currency');
    if (ccy === null) err('currency', 'REQUIRED', 'is required for a cash_dividend');
    else if (!isoCurrency(ccy)) err('currency', 'ISO_4217', `"${ccy}" is not an ISO 4217 currency`);
    else terms.currency = ccy;
    const country = val('source_country');
    if (country !== null && !COUNTRY.test(country)) err('source_country', 'ISO_3166', `"${country}" must be a 2-letter country code`);
    terms.sourceCountry = country ?? sec?.isin?.slice(0, 2) ?? null;
    if (sec && !terms.sourceCountry) err('source_country', 'SOURCE_COUNTRY_REQUIRED', `${symbol} has no ISIN to take the country of withholding from: give source_country`);
    notApplicable('effective_date', 'ratio', 'cash_in_lieu_price', 'new_symbol', 'new_isin', 'new_cusip', 'new_name');
  } else if (kind === 'split' || kind === 'reverse_split') {
    terms.effectiveDate = date('effective_date', true);
    terms.exDate = date('ex_date', false);
    if (terms.exDate && terms.effectiveDate && terms.exDate !== terms.effectiveDate) err('ex_date', 'EX_DATE_IS_EFFECTIVE_DATE', `ex-date ${terms.exDate} differs from the effective date ${terms.effectiveDate}: a split's ex-date is its effective date`);
    terms.recordDate = date('record_date', false);
    terms.payDate = date('pay_date', false);
    const ratio = val('ratio');
    const m = ratio === null ? null : RATIO.exec(ratio);
    if (ratio === null) err('ratio', 'REQUIRED', `is required for a ${kind} (new for old, e.g. 3:2 or 1-for-10)`);
    else if (!m || new Dec(m[1]!).lte(0) || new Dec(m[2]!).lte(0)) err('ratio', 'RATIO_FORMAT', `"${ratio}" must be new for old, two positive numbers such as 3:2 or 1-for-10`);
    else {
      const [n, o] = [new Dec(m[1]!), new Dec(m[2]!)];
      if (n.eq(o)) err('ratio', 'RATIO_DIRECTION', `"${ratio}" changes nothing`);
      else if (kind === 'split' && n.lt(o)) err('ratio', 'RATIO_DIRECTION', `"${ratio}" gives fewer shares: that is a reverse_split`);
      else if (kind === 'reverse_split' && n.gt(o)) err('ratio', 'RATIO_DIRECTION', `"${ratio}" gives more shares: that is a split`);
      terms.ratioNew = n.toFixed();
      terms.ratioOld = o.toFixed();
    }
    terms.cashInLieuPrice = positive('cash_in_lieu_price', false);
    const whole = terms.ratioNew && terms.ratioOld && new Dec(terms.ratioNew).mod(terms.ratioOld).isZero();
    if (!terms.cashInLieuPrice && terms.ratioNew && !whole && val('cash_in_lieu_price') === null) {
      err('cash_in_lieu_price', 'REQUIRED', `is required: a ${terms.ratioNew}-for-${terms.ratioOld} ${kind === 'split' ? 'split' : 'reverse split'} leaves fractions, paid in cash at this price`);
    }
    notApplicable('rate', 'currency', 'source_country', 'new_symbol', 'new_isin', 'new_cusip', 'new_name');
  } else if (kind === 'symbol_change') {
    terms.effectiveDate = date('effective_date', true);
    terms.newSymbol = val('new_symbol');
    terms.newIsin = val('new_isin');
    terms.newCusip = val('new_cusip');
    terms.newName = val('new_name');
    if (!terms.newSymbol && !terms.newIsin && !terms.newCusip) err('new_symbol', 'REQUIRED', 'a symbol_change needs new_symbol, new_isin or new_cusip');
    if (terms.newSymbol && !/^[A-Z0-9][A-Z0-9._-]{0,31}$/.test(terms.newSymbol)) err('new_symbol', 'SYMBOL_FORMAT', `"${terms.newSymbol}" must be 1-32 of A-Z, 0-9, '.', '_', '-'`);
    if (terms.newIsin && !isValidIsin(terms.newIsin)) err('new_isin', 'ISIN_CHECK_DIGIT', `"${terms.newIsin}" is not a valid ISIN (format or check digit)`);
    if (terms.newCusip && !isValidCusip(terms.newCusip)) err('new_cusip', 'CUSIP_CHECK_DIGIT', `"${terms.newCusip}" is not a valid CUSIP (format or check digit)`);
    notApplicable('ex_date', 'record_date', 'pay_date', 'rate', 'currency', 'source_country', 'ratio', 'cash_in_lieu_price');
  }
  const due = terms.payDate && kind === 'cash_dividend' ? terms.payDate : terms.effectiveDate;
  if (sec?.validUntil && due && due > sec.validUntil) err('symbol', 'SECURITY_RETIRED', `${symbol} is no longer in force after ${sec.validUntil}`);
  return errs.length > before ? undefined : terms;
}

const hashOf = (t: AnnouncementTerms) => crypto.createHash('sha256').update(JSON.stringify(t)).digest('hex');

export interface AnnouncementImport {
  received: number;
  created: number;
  /** Announcements not yet applied whose terms changed (revised). */
  updated: number;
  unchanged: number;
  ids: string[];
}

interface Ctx { actor: string; clock: Clock }

/** Serialises imports and applies (one advisory lock for corporate actions). */
export const CORPORATE_ACTIONS_LOCK = 7243011;

/**
 * Import announcements from CSV (see the module comment for the columns): all or nothing,
 * idempotent by id, every change audited (corporate_action.announce / corporate_action.revise).
 * @throws DomainError CORPORATE_ACTION_FILE_INVALID (invalid) naming each line, field and rule;
 *   CORPORATE_ACTION_ALREADY_APPLIED (conflict) when an applied announcement comes with other terms
 */
export async function importAnnouncements(pool: Pool, text: string, file: string, ctx: Ctx): Promise<AnnouncementImport> {
  const rows = readAnnouncementRows(text, file);
  const secs = await pool.query<{ symbol: string; isin: string | null; valid_until: string | null }>('SELECT symbol, isin, valid_until::text AS valid_until FROM securities');
  const known = new Map(secs.rows.map((r) => [r.symbol, { symbol: r.symbol, isin: r.isin, validUntil: r.valid_until }]));
  const errs: ErrorDetail[] = [];
  const good: AnnouncementTerms[] = [];
  const seen = new Map<string, number>();
  for (const row of rows) {
    const t = checkAnnouncement(row, file, known, errs);
    const id = row.values.id ?? '';
    if (id && seen.has(id)) {
      const record = `${file} line ${row.line} (${id})`;
      errs.push({ record, field: 'id', rule: 'DUPLICATE', message: `${record}: id: appears again (first on line ${seen.get(id)})` });
      continue;
    }
    if (id) seen.set(id, row.line);
    if (t) good.push(t);
  }
  // Identifier changes must be possible against the reference data as it stands.
  for (const t of good.filter((x) => x.kind === 'symbol_change')) {
    const line = rows.find((r) => r.values.id === t.id)!.line;
    const record = `${file} line ${line} (${t.id})`;
    for (const p of await identifierChangeProblems(pool, { symbol: t.symbol, effectiveDate: t.effectiveDate!, newSymbol: t.newSymbol, newIsin: t.newIsin, newCusip: t.newCusip })) {
      if (p.rule === 'SECURITY_UNKNOWN' || p.rule === 'SECURITY_RETIRED') continue;
      errs.push({ record, field: p.field, rule: p.rule, message: `${record}: ${p.field}: ${p.message.replace(/^[^:]+: [^:]+: /, '')}` });
    }
  }
  if (errs.length) throw fileRejected(C.FILE_INVALID, 'announcements file', errs);

  return withTx(pool, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock($1)', [CORPORATE_ACTIONS_LOCK]);
    await lockBooks(c);
    const out: AnnouncementImport = { received: good.length, created: 0, updated: 0, unchanged: 0, ids: good.map((t) => t.id) };
    const existing = new Map((await c.query<{ id: string; body_hash: string; status: ActionStatus }>(
      'SELECT id, body_hash, status FROM corporate_actions WHERE id = ANY($1) FOR UPDATE', [good.map((t) => t.id)])).rows.map((r) => [r.id, r]));
    const conflicts: ErrorDetail[] = [];
    for (const t of good) {
      const e = existing.get(t.id);
      if (e && e.body_hash !== hashOf(t) && e.status === 'applied') {
        conflicts.push({ record: t.id, field: 'id', rule: 'ALREADY_APPLIED', message: `announcement ${t.id} was applied already; its terms can no longer change (reverse the entries and announce a correction under a new id)` });
      }
    }
    if (conflicts.length) {
      throw corporateActionError(C.ALREADY_APPLIED, 'conflict', conflicts.length === 1 ? conflicts[0]!.message : `${conflicts.length} announcements were applied already; nothing was written. First: ${conflicts[0]!.message}`, conflicts);
    }
    const at = ctx.clock.now();
    for (const t of good) {
      const e = existing.get(t.id);
      const hash = hashOf(t);
      if (e && e.body_hash === hash) { out.unchanged++; continue; }
      const cols = [t.kind, t.symbol, t.exDate, t.recordDate, t.payDate, t.effectiveDate, t.rate, t.currency, t.ratioNew, t.ratioOld, t.cashInLieuPrice,
        t.newSymbol, t.newIsin, t.newCusip, t.newName, t.sourceCountry, t.description, hash, file, at.toISOString(), ctx.actor];
      if (e) {
        await c.query(
          `UPDATE corporate_actions SET kind = $2, symbol = $3, ex_date = $4, record_date = $5, pay_date = $6, effective_date = $7, rate = $8,
             currency = $9, ratio_new = $10, ratio_old = $11, cash_in_lieu_price = $12, new_symbol = $13, new_isin = $14, new_cusip = $15,
             new_name = $16, source_country = $17, description = $18, body_hash = $19, source_file = $20, updated_at = $21, updated_by = $22
           WHERE id = $1`, [t.id, ...cols]);
        out.updated++;
      } else {
        await c.query(
          `INSERT INTO corporate_actions (id, kind, symbol, ex_date, record_date, pay_date, effective_date, rate, currency, ratio_new, ratio_old,
             cash_in_lieu_price, new_symbol, new_isin, new_cusip, new_name, source_country, description, body_hash, source_file,
             imported_at, imported_by, updated_at, updated_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $21, $22)`, [t.id, ...cols]);
        out.created++;
      }
      await appendAudit(c, [{ actor: ctx.actor, action: e ? 'corporate_action.revise' : 'corporate_action.announce', entity: 'corporate_actions', entityId: t.id, data: { ...t, file }, rowHash: hash, at }]);
    }
    return out;
  });
}

const SELECT = `SELECT id, kind, symbol, ex_date::text AS ex_date, record_date::text AS record_date, pay_date::text AS pay_date,
    effective_date::text AS effective_date, rate::text AS rate, currency, source_country, ratio_new::text AS ratio_new, ratio_old::text AS ratio_old,
    cash_in_lieu_price::text AS cash_in_lieu_price, new_symbol, new_isin, new_cusip, new_name, description, status, source_file,
    imported_at, imported_by, updated_at, applied_at, applied_by, applied_early
  FROM corporate_actions`;

const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString());
const dec = (v: string | null) => (v === null ? null : new Dec(v).toFixed());

function toAction(r: any): CorporateAction {
  const a: CorporateAction = {
    id: r.id, kind: r.kind, symbol: r.symbol, exDate: r.ex_date, recordDate: r.record_date, payDate: r.pay_date, effectiveDate: r.effective_date,
    rate: dec(r.rate), currency: r.currency, sourceCountry: r.source_country, ratioNew: dec(r.ratio_new), ratioOld: dec(r.ratio_old),
    cashInLieuPrice: dec(r.cash_in_lieu_price), newSymbol: r.new_symbol, newIsin: r.new_isin, newCusip: r.new_cusip, newName: r.new_name,
    description: r.description, status: r.status, dueDate: '', sourceFile: r.source_file, importedAt: iso(r.imported_at)!, importedBy: r.imported_by,
    updatedAt: iso(r.updated_at)!, appliedAt: iso(r.applied_at), appliedBy: r.applied_by, appliedEarly: r.applied_early,
  };
  a.dueDate = (a.kind === 'cash_dividend' ? a.payDate : a.effectiveDate)!;
  return a;
}

export interface ActionQuery {
  /** Actions with any of their dates (ex, record, pay, effective) in [from, to]. */
  from?: string;
  to?: string;
  symbol?: string;
  status?: ActionStatus;
  kind?: ActionKind;
}

/** Announcements, by their due date (pay or effective), then id. */
export async function listActions(pool: Pool | Client, q: ActionQuery = {}): Promise<CorporateAction[]> {
  if (q.from) parseDate(q.from, 'from');
  if (q.to) parseDate(q.to, 'to');
  const { rows } = await pool.query(
    `${SELECT} WHERE ($1::text IS NULL OR symbol = $1) AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR kind = $3)
        AND ($4::date IS NULL OR greatest(ex_date, record_date, pay_date, effective_date) >= $4::date)
        AND ($5::date IS NULL OR least(ex_date, record_date, pay_date, effective_date) <= $5::date)
      ORDER BY coalesce(pay_date, effective_date), id`,
    [q.symbol ?? null, q.status ?? null, q.kind ?? null, q.from ?? null, q.to ?? null]);
  return rows.map(toAction);
}

/** @throws DomainError CORPORATE_ACTION_NOT_FOUND */
export async function getAction(pool: Pool | Client, id: string, forUpdate = false): Promise<CorporateAction> {
  const { rows } = await pool.query(`${SELECT} WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`, [id]);
  if (!rows[0]) throw corporateActionError(C.NOT_FOUND, 'not_found', `corporate action ${id} is not known`);
  return toAction(rows[0]);
}
