import { withTx, type Client, type Pool } from '../db/index.js';
import { Dec, notFound, parseDate, type Clock, type ErrorDetail } from '../kernel/index.js';
import { addAssetIn, appendAudit, isoCurrency, openAccountIn } from '../ledger/index.js';
import crypto from 'node:crypto';
import { readCsv, RowErrors, type CsvRow } from './csv.js';
import { isValidBic, isValidCusip, isValidIsin, isValidLei } from './identifiers.js';
import { ReferenceRejected } from './errors.js';

export const ASSET_CLASSES = ['equity', 'etf', 'fund', 'bond', 'treasury', 'option', 'future'] as const;
export const FEE_KINDS = ['commission_per_share', 'commission_percent', 'commission_flat', 'sec_fee', 'finra_taf'] as const;

export interface Security {
  symbol: string; name: string; isin: string | null; cusip: string | null; assetClass: string;
  currency: string; mic: string; scale: number; multiplier: string;
}
export interface CustomerAccount {
  account: string; name: string; type: 'cash' | 'margin'; currency: string; status: string; taxResidency: string | null; feeSchedule: string;
}
export interface Counterparty {
  code: string; name: string; type: string; dtcParticipant: string | null; bic: string | null; lei: string | null;
}
export interface FeeRate {
  schedule: string; kind: string; side: 'all' | 'buy' | 'sell'; rate: string; minimum: string | null; maximum: string | null; effectiveFrom: string;
}

/** Ledger accounts that hold a customer's cash and securities (liabilities of the firm to the customer). */
export const customerLedgerAccounts = (account: string) => ({ cash: `customers:${account}:cash`, securities: `customers:${account}:securities` });

interface Ctx { actor: string; clock: Clock }
export interface ImportSummary { received: number; created: number; updated: number; unchanged: number }

const DECIMAL = /^\d+(\.\d+)?$/;
const CODE = /^[A-Za-z0-9_.-]{1,40}$/;
const SYMBOL = /^[A-Z0-9][A-Z0-9._-]{0,31}$/;
const opt = (v: string | undefined) => (v === undefined || v === '' ? null : v);

/**
 * Upsert rows keyed by `key` into `table`: unchanged rows write nothing; new and changed rows are
 * written and audited. Returns what happened.
 */
async function upsert(c: Client, table: string, key: string, rows: Record<string, unknown>[], ctx: Ctx, extraKey: string[] = []): Promise<ImportSummary> {
  const summary: ImportSummary = { received: rows.length, created: 0, updated: 0, unchanged: 0 };
  const at = ctx.clock.now().toISOString();
  const keys = [key, ...extraKey];
  for (const row of rows) {
    const cols = Object.keys(row);
    const where = keys.map((k, i) => `${k} = $${i + 1}`).join(' AND ');
    const cur = await c.query(`SELECT ${cols.join(', ')} FROM ${table} WHERE ${where} FOR UPDATE`, keys.map((k) => row[k]));
    const id = keys.map((k) => String(row[k])).join('/');
    const same = cur.rows[0] && cols.every((col) => String(cur.rows[0][col] ?? '') === String(row[col] ?? ''));
    if (same) { summary.unchanged++; continue; }
    const vals = cols.map((col) => row[col]);
    if (cur.rows[0]) {
      const sets = cols.map((col, i) => `${col} = $${i + 1}`).join(', ');
      await c.query(`UPDATE ${table} SET ${sets}, updated_at = $${cols.length + 1}, updated_by = $${cols.length + 2} WHERE ${keys.map((k) => `${k} = $${cols.indexOf(k) + 1}`).join(' AND ')}`, [...vals, at, ctx.actor]);
      summary.updated++;
    } else {
      await c.query(`INSERT INTO ${table} (${cols.join(', ')}, updated_at, updated_by) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')}, $${cols.length + 1}, $${cols.length + 2})`, [...vals, at, ctx.actor]);
      summary.created++;
    }
    await appendAudit(c, [{ actor: ctx.actor, action: `${table}.${cur.rows[0] ? 'update' : 'add'}`, entity: table, entityId: id, data: row, rowHash: crypto.createHash('sha256').update(JSON.stringify(row)).digest('hex'), at: ctx.clock.now() }]);
  }
  return summary;
}

function validSecurity(row: CsvRow, errs: RowErrors): Record<string, unknown> | undefined {
  const v = row.values;
  const sym = v.symbol ?? '';
  const n = errs.details.length;
  const err = (field: string, rule: string, msg: string) => errs.add(row, sym, field, rule, msg);
  if (!SYMBOL.test(sym)) err('symbol', 'SYMBOL_FORMAT', `"${sym}" must be 1-32 of A-Z, 0-9, '.', '_', '-'`);
  if (!v.name) err('name', 'REQUIRED', 'is required');
  if (v.isin && !isValidIsin(v.isin)) err('isin', 'ISIN_CHECK_DIGIT', `"${v.isin}" is not a valid ISIN (format or check digit)`);
  if (v.cusip && !isValidCusip(v.cusip)) err('cusip', 'CUSIP_CHECK_DIGIT', `"${v.cusip}" is not a valid CUSIP (format or check digit)`);
  if (v.isin && v.cusip && v.isin.startsWith('US') && v.isin.slice(2, 11) !== v.cusip) err('isin', 'ISIN_CUSIP_MISMATCH', `US ISIN ${v.isin} does not embed CUSIP ${v.cusip}`);
  if (!(ASSET_CLASSES as readonly string[]).includes(v.asset_class ?? '')) err('asset_class', 'ENUM', `"${v.asset_class}" must be one of ${ASSET_CLASSES.join(', ')}`);
  if (!isoCurrency(v.currency ?? '')) err('currency', 'ISO_4217', `"${v.currency}" is not an ISO 4217 currency`);
  if (!/^[A-Z0-9]{4}$/.test(v.mic ?? '')) err('mic', 'MIC_FORMAT', `"${v.mic}" is not a 4-character ISO 10383 MIC`);
  const scale = v.scale === undefined || v.scale === '' ? '0' : v.scale;
  if (!/^[0-9]$/.test(scale)) err('scale', 'RANGE', `"${v.scale}" must be a whole number from 0 to 9`);
  const multiplier = v.multiplier || '1';
  if (!DECIMAL.test(multiplier) || new Dec(multiplier).lte(0)) err('multiplier', 'POSITIVE_DECIMAL', `"${v.multiplier}" must be a positive decimal`);
  if (errs.details.length > n) return undefined;
  return { symbol: sym, name: v.name, isin: opt(v.isin), cusip: opt(v.cusip), asset_class: v.asset_class, currency: v.currency, mic: v.mic, scale: Number(scale), multiplier };
}

/**
 * Import securities from CSV (`symbol,name,isin,cusip,asset_class,currency,mic,scale`, optional
 * `multiplier`). Each security is a ledger asset. All or nothing: one bad row and nothing is
 * written; every bad row is named with its line, field and rule.
 * @throws ReferenceRejected
 */
export async function importSecurities(pool: Pool, text: string, file: string, ctx: Ctx): Promise<ImportSummary> {
  const rows = readCsv(text, file, ['symbol', 'name', 'isin', 'cusip', 'asset_class', 'currency', 'mic', 'scale']);
  const errs = new RowErrors(file);
  const good = rows.map((r) => validSecurity(r, errs)).filter((r): r is Record<string, unknown> => !!r);
  dupes(rows, 'symbol', errs);
  if (errs.any) throw new ReferenceRejected(errs.details);
  return withTx(pool, async (c) => {
    for (const s of good) {
      const iso = isoCurrency(s.currency as string)!;
      await addAssetIn(c, { code: s.currency as string, scale: iso.scale, kind: 'currency', name: iso.name }, ctx);
      const existing = await c.query<{ scale: number; kind: string }>('SELECT scale, kind FROM assets WHERE code = $1', [s.symbol]);
      if (existing.rows[0] && (existing.rows[0].kind !== 'security' || existing.rows[0].scale !== s.scale)) {
        throw new ReferenceRejected([{ record: `${file} (${s.symbol})`, field: 'scale', rule: 'ASSET_CONFLICT', message: `${file} (${s.symbol}): the ledger already has asset ${s.symbol} as ${existing.rows[0].kind} with scale ${existing.rows[0].scale}` }]);
      }
      await addAssetIn(c, { code: s.symbol as string, scale: s.scale as number, kind: 'security', name: s.name as string }, ctx);
    }
    return upsert(c, 'securities', 'symbol', good, ctx);
  });
}

function dupes(rows: CsvRow[], col: string, errs: RowErrors) {
  const seen = new Map<string, number>();
  for (const r of rows) {
    const k = r.values[col] ?? '';
    if (seen.has(k)) errs.add(r, k, col, 'DUPLICATE', `appears again (first on line ${seen.get(k)})`);
    else seen.set(k, r.line);
  }
}

/**
 * Import customer accounts (`account,name,type,currency`; optional `status,tax_residency,fee_schedule`).
 * Opens the customer's ledger accounts. All or nothing.
 * @throws ReferenceRejected
 */
export async function importCustomerAccounts(pool: Pool, text: string, file: string, ctx: Ctx): Promise<ImportSummary> {
  const rows = readCsv(text, file, ['account', 'name', 'type', 'currency']);
  const errs = new RowErrors(file);
  const good: Record<string, unknown>[] = [];
  for (const row of rows) {
    const v = row.values;
    const n = errs.details.length;
    const err = (f: string, rule: string, m: string) => errs.add(row, v.account ?? '', f, rule, m);
    if (!CODE.test(v.account ?? '')) err('account', 'ACCOUNT_FORMAT', `"${v.account}" must be 1-40 of letters, digits, '.', '_', '-'`);
    if (!v.name) err('name', 'REQUIRED', 'is required');
    if (v.type !== 'cash' && v.type !== 'margin') err('type', 'ENUM', `"${v.type}" must be cash or margin`);
    if (!isoCurrency(v.currency ?? '')) err('currency', 'ISO_4217', `"${v.currency}" is not an ISO 4217 currency`);
    const status = v.status || 'active';
    if (!['active', 'restricted', 'closed'].includes(status)) err('status', 'ENUM', `"${status}" must be active, restricted or closed`);
    if (v.tax_residency && !/^[A-Z]{2}$/.test(v.tax_residency)) err('tax_residency', 'ISO_3166', `"${v.tax_residency}" must be a 2-letter country code`);
    if (errs.details.length > n) continue;
    good.push({ account: v.account, name: v.name, type: v.type, currency: v.currency, status, tax_residency: opt(v.tax_residency), fee_schedule: v.fee_schedule || 'default' });
  }
  dupes(rows, 'account', errs);
  if (errs.any) throw new ReferenceRejected(errs.details);
  return withTx(pool, async (c) => {
    for (const a of good) {
      const iso = isoCurrency(a.currency as string)!;
      await addAssetIn(c, { code: a.currency as string, scale: iso.scale, kind: 'currency', name: iso.name }, ctx);
      const names = customerLedgerAccounts(a.account as string);
      await openAccountIn(c, { name: names.cash, type: 'liability', owner: a.account as string }, ctx);
      await openAccountIn(c, { name: names.securities, type: 'liability', owner: a.account as string }, ctx);
    }
    return upsert(c, 'customer_accounts', 'account', good, ctx);
  });
}

/**
 * Import counterparties (`counterparty,name,type,dtc_participant,bic,lei`). All or nothing.
 * @throws ReferenceRejected
 */
export async function importCounterparties(pool: Pool, text: string, file: string, ctx: Ctx): Promise<ImportSummary> {
  const rows = readCsv(text, file, ['counterparty', 'name', 'type', 'dtc_participant', 'bic', 'lei']);
  const errs = new RowErrors(file);
  const good: Record<string, unknown>[] = [];
  for (const row of rows) {
    const v = row.values;
    const n = errs.details.length;
    const err = (f: string, rule: string, m: string) => errs.add(row, v.counterparty ?? '', f, rule, m);
    if (!CODE.test(v.counterparty ?? '')) err('counterparty', 'CODE_FORMAT', `"${v.counterparty}" must be 1-40 of letters, digits, '.', '_', '-'`);
    if (!v.name) err('name', 'REQUIRED', 'is required');
    if (!['broker', 'clearing_house', 'custodian', 'bank'].includes(v.type ?? '')) err('type', 'ENUM', `"${v.type}" must be broker, clearing_house, custodian or bank`);
    if (v.dtc_participant && !/^[0-9]{1,5}$/.test(v.dtc_participant)) err('dtc_participant', 'DTC_FORMAT', `"${v.dtc_participant}" must be a DTC participant number of up to 5 digits`);
    if (v.bic && !isValidBic(v.bic)) err('bic', 'BIC_FORMAT', `"${v.bic}" is not a valid BIC (ISO 9362: 8 or 11 characters)`);
    if (v.lei && !isValidLei(v.lei)) err('lei', 'LEI_CHECK_DIGIT', `"${v.lei}" is not a valid LEI (format or ISO 17442 check digits)`);
    if (errs.details.length > n) continue;
    good.push({ code: v.counterparty, name: v.name, type: v.type, dtc_participant: opt(v.dtc_participant), bic: opt(v.bic), lei: opt(v.lei) });
  }
  dupes(rows, 'counterparty', errs);
  if (errs.any) throw new ReferenceRejected(errs.details);
  return withTx(pool, (c) => upsert(c, 'counterparties', 'code', good, ctx));
}

/**
 * Import fee rates (`schedule,kind,side,rate,minimum,maximum,effective_from`). Kinds:
 * commission_per_share (rate per share), commission_percent (rate in percent of the gross),
 * commission_flat (rate per trade), sec_fee (rate per million of sale proceeds; Section 31),
 * finra_taf (rate per share sold, with a maximum per trade). Minimum and maximum are amounts per
 * trade. The rate in force on the trade date applies. All or nothing.
 * @throws ReferenceRejected
 */
export async function importFees(pool: Pool, text: string, file: string, ctx: Ctx): Promise<ImportSummary> {
  const rows = readCsv(text, file, ['schedule', 'kind', 'rate', 'effective_from']);
  const errs = new RowErrors(file);
  const good: Record<string, unknown>[] = [];
  for (const row of rows) {
    const v = row.values;
    const key = `${v.schedule}/${v.kind}`;
    const n = errs.details.length;
    const err = (f: string, rule: string, m: string) => errs.add(row, key, f, rule, m);
    if (!CODE.test(v.schedule ?? '')) err('schedule', 'CODE_FORMAT', `"${v.schedule}" must be 1-40 of letters, digits, '.', '_', '-'`);
    if (!(FEE_KINDS as readonly string[]).includes(v.kind ?? '')) err('kind', 'ENUM', `"${v.kind}" must be one of ${FEE_KINDS.join(', ')}`);
    const side = v.side || 'all';
    if (!['all', 'buy', 'sell'].includes(side)) err('side', 'ENUM', `"${side}" must be all, buy or sell`);
    for (const f of ['rate', 'minimum', 'maximum'] as const) {
      if ((f === 'rate' || v[f]) && !DECIMAL.test(v[f] ?? '')) err(f, 'DECIMAL', `"${v[f] ?? ''}" must be a non-negative decimal`);
    }
    try { parseDate(v.effective_from, 'effective_from'); } catch (e) { err('effective_from', 'DATE', (e as Error).message); }
    if (errs.details.length > n) continue;
    good.push({ schedule: v.schedule, kind: v.kind, side, rate: v.rate, minimum: opt(v.minimum), maximum: opt(v.maximum), effective_from: v.effective_from });
  }
  if (errs.any) throw new ReferenceRejected(errs.details);
  return withTx(pool, (c) => upsert(c, 'fee_rates', 'schedule', good, ctx, ['kind', 'side', 'effective_from']));
}

/**
 * Import closing prices (`symbol,date,price`, optional `currency`). All or nothing.
 * @throws ReferenceRejected
 */
export async function importPrices(pool: Pool, text: string, file: string, ctx: Ctx): Promise<ImportSummary> {
  const rows = readCsv(text, file, ['symbol', 'date', 'price']);
  const errs = new RowErrors(file);
  const known = new Map((await pool.query<{ symbol: string; currency: string }>('SELECT symbol, currency FROM securities')).rows.map((r) => [r.symbol, r.currency]));
  const good: Record<string, unknown>[] = [];
  for (const row of rows) {
    const v = row.values;
    const n = errs.details.length;
    const err = (f: string, rule: string, m: string) => errs.add(row, `${v.symbol} ${v.date}`, f, rule, m);
    if (!known.has(v.symbol ?? '')) err('symbol', 'SECURITY_UNKNOWN', `"${v.symbol}" is not a known security`);
    try { parseDate(v.date, 'date'); } catch (e) { err('date', 'DATE', (e as Error).message); }
    if (!DECIMAL.test(v.price ?? '') || new Dec(v.price!).lte(0)) err('price', 'POSITIVE_DECIMAL', `"${v.price}" must be a positive decimal`);
    if (v.currency && v.currency !== known.get(v.symbol!)) err('currency', 'CURRENCY_MISMATCH', `"${v.currency}" is not the security's currency ${known.get(v.symbol!)}`);
    if (errs.details.length > n) continue;
    good.push({ symbol: v.symbol, price_date: v.date, price: v.price, currency: known.get(v.symbol!) });
  }
  if (errs.any) throw new ReferenceRejected(errs.details);
  return withTx(pool, async (c) => {
    const s: ImportSummary = { received: good.length, created: 0, updated: 0, unchanged: 0 };
    for (const p of good) {
      const r = await c.query(
        `INSERT INTO prices (symbol, price_date, price, currency) VALUES ($1, $2, $3, $4)
         ON CONFLICT (symbol, price_date) DO UPDATE SET price = excluded.price WHERE prices.price <> excluded.price
         RETURNING (xmax = 0) AS inserted`, [p.symbol, p.price_date, p.price, p.currency]);
      if (!r.rowCount) s.unchanged++;
      else if (r.rows[0].inserted) s.created++;
      else s.updated++;
    }
    return s;
  });
}

const toSecurity = (r: any): Security => ({ symbol: r.symbol, name: r.name, isin: r.isin, cusip: r.cusip, assetClass: r.asset_class, currency: r.currency, mic: r.mic, scale: r.scale, multiplier: r.multiplier });
const toAccount = (r: any): CustomerAccount => ({ account: r.account, name: r.name, type: r.type, currency: r.currency, status: r.status, taxResidency: r.tax_residency, feeSchedule: r.fee_schedule });
const toCounterparty = (r: any): Counterparty => ({ code: r.code, name: r.name, type: r.type, dtcParticipant: r.dtc_participant, bic: r.bic, lei: r.lei });

export async function listSecurities(pool: Pool | Client): Promise<Security[]> {
  return (await pool.query('SELECT * FROM securities ORDER BY symbol')).rows.map(toSecurity);
}
/** A security by symbol, ISIN or CUSIP. @throws DomainError SECURITY_NOT_FOUND */
export async function getSecurity(pool: Pool | Client, id: string): Promise<Security> {
  const { rows } = await pool.query('SELECT * FROM securities WHERE symbol = $1 OR isin = $1 OR cusip = $1 LIMIT 1', [id]);
  if (!rows[0]) throw notFound('SECURITY_NOT_FOUND', `security ${id} is not known`);
  return toSecurity(rows[0]);
}
export async function listCustomerAccounts(pool: Pool | Client): Promise<CustomerAccount[]> {
  return (await pool.query('SELECT * FROM customer_accounts ORDER BY account')).rows.map(toAccount);
}
/** @throws DomainError CUSTOMER_ACCOUNT_NOT_FOUND */
export async function getCustomerAccount(pool: Pool | Client, account: string): Promise<CustomerAccount> {
  const { rows } = await pool.query('SELECT * FROM customer_accounts WHERE account = $1', [account]);
  if (!rows[0]) throw notFound('CUSTOMER_ACCOUNT_NOT_FOUND', `customer account ${account} is not known`);
  return toAccount(rows[0]);
}
export async function listCounterparties(pool: Pool | Client): Promise<Counterparty[]> {
  return (await pool.query('SELECT * FROM counterparties ORDER BY code')).rows.map(toCounterparty);
}
export async function listFeeRates(pool: Pool | Client, schedule?: string): Promise<FeeRate[]> {
  const { rows } = await pool.query('SELECT * FROM fee_rates WHERE $1::text IS NULL OR schedule = $1 ORDER BY schedule, kind, side, effective_from', [schedule ?? null]);
  return rows.map((r) => ({ schedule: r.schedule, kind: r.kind, side: r.side, rate: r.rate, minimum: r.minimum, maximum: r.maximum, effectiveFrom: r.effective_from }));
}
/** The latest price on or before `asOf` (default: latest). */
export async function latestPrice(pool: Pool | Client, symbol: string, asOf?: string): Promise<{ symbol: string; date: string; price: string; currency: string } | null> {
  const { rows } = await pool.query('SELECT symbol, price_date, price, currency FROM prices WHERE symbol = $1 AND ($2::date IS NULL OR price_date <= $2) ORDER BY price_date DESC LIMIT 1', [symbol, asOf ?? null]);
  return rows[0] ? { symbol: rows[0].symbol, date: rows[0].price_date, price: rows[0].price, currency: rows[0].currency } : null;
}

export type { ErrorDetail };

// ---- identifier changes (corporate actions) -------------------------------------------------------

/** A change of a security's identifiers from a date on (a corporate action's symbol change). */
export interface IdentifierChange {
  symbol: string;
  /** The first day the new identifiers are in force; the old ones are valid through the day before. */
  effectiveDate: string;
  newSymbol?: string | null;
  newIsin?: string | null;
  newCusip?: string | null;
  newName?: string | null;
  /** The corporate action behind it, recorded in the history. */
  actionId?: string | null;
}

/** Identifiers a security had before a change, valid through `validTo`. */
export interface IdentifierHistory {
  symbol: string; isin: string | null; cusip: string | null; name: string; validTo: string; successor: string | null; actionId: string | null;
}

const dayBefore = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) - 86400_000).toISOString().slice(0, 10);

/**
 * Problems with an identifier change, named by field and rule (empty when it can apply): formats
 * and check digits, a US ISIN that does not embed the CUSIP, identifiers another security holds.
 * `self` is the security being changed (its own identifiers may carry over).
 */
export async function identifierChangeProblems(c: Pool | Client, ch: IdentifierChange): Promise<ErrorDetail[]> {
  const out: ErrorDetail[] = [];
  const add = (field: string, rule: string, message: string) => out.push({ record: ch.symbol, field, rule, message: `${ch.symbol}: ${field}: ${message}` });
  const cur = (await c.query('SELECT symbol, isin, cusip, valid_until FROM securities WHERE symbol = $1', [ch.symbol])).rows[0];
  if (!cur) { add('symbol', 'SECURITY_UNKNOWN', `security ${ch.symbol} is not known`); return out; }
  if (cur.valid_until) add('symbol', 'SECURITY_RETIRED', `security ${ch.symbol} was retired on ${cur.valid_until}`);
  if (!ch.newSymbol && !ch.newIsin && !ch.newCusip) add('new_symbol', 'REQUIRED', 'a new symbol, ISIN or CUSIP is required');
  if (ch.newSymbol !== undefined && ch.newSymbol !== null) {
    if (!SYMBOL.test(ch.newSymbol)) add('new_symbol', 'SYMBOL_FORMAT', `"${ch.newSymbol}" must be 1-32 of A-Z, 0-9, '.', '_', '-'`);
    else if (ch.newSymbol === ch.symbol) add('new_symbol', 'UNCHANGED', `is the current symbol`);
    else if ((await c.query('SELECT 1 FROM assets WHERE code = $1', [ch.newSymbol])).rowCount) add('new_symbol', 'IDENTIFIER_IN_USE', `${ch.newSymbol} is already an asset of the ledger`);
  }
  if (ch.newIsin && !isValidIsin(ch.newIsin)) add('new_isin', 'ISIN_CHECK_DIGIT', `"${ch.newIsin}" is not a valid ISIN (format or check digit)`);
  if (ch.newCusip && !isValidCusip(ch.newCusip)) add('new_cusip', 'CUSIP_CHECK_DIGIT', `"${ch.newCusip}" is not a valid CUSIP (format or check digit)`);
  const isin = ch.newIsin ?? cur.isin;
  const cusip = ch.newCusip ?? cur.cusip;
  if (isin && cusip && isin.startsWith('US') && isin.slice(2, 11) !== cusip) add(ch.newIsin ? 'new_isin' : 'new_cusip', 'ISIN_CUSIP_MISMATCH', `US ISIN ${isin} does not embed CUSIP ${cusip}`);
  for (const [field, col, v] of [['new_isin', 'isin', ch.newIsin], ['new_cusip', 'cusip', ch.newCusip]] as const) {
    if (!v) continue;
    const other = (await c.query(`SELECT symbol FROM securities WHERE ${col} = $1 AND symbol <> $2`, [v, ch.symbol])).rows[0];
    if (other) add(field, 'IDENTIFIER_IN_USE', `${v} is the ${col.toUpperCase()} of ${other.symbol}`);
  }
  return out;
}

/**
 * Change a security's identifiers from `effectiveDate` on, in the caller's transaction, keeping the
 * old ones in the history (valid through the day before). A new symbol is a new security (and
 * ledger asset) with the same terms, taking over the ISIN and CUSIP unless new ones are given; the
 * old symbol is retired (valid_until, successor) and keeps its history. Moving the positions is the
 * caller's (a ledger entry: corporate actions). Audited.
 * @throws ReferenceRejected naming the field and rule (see {@link identifierChangeProblems})
 */
export async function changeSecurityIdentifiersIn(c: Client, ch: IdentifierChange, ctx: Ctx): Promise<{ previous: IdentifierHistory; current: Security }> {
  parseDate(ch.effectiveDate, 'effective date');
  const problems = await identifierChangeProblems(c, ch);
  if (problems.length) throw new ReferenceRejected(problems);
  const cur = (await c.query('SELECT * FROM securities WHERE symbol = $1 FOR UPDATE', [ch.symbol])).rows[0];
  const at = ctx.clock.now();
  const validTo = dayBefore(ch.effectiveDate);
  const newSymbol = ch.newSymbol ?? null;
  const previous: IdentifierHistory = { symbol: cur.symbol, isin: cur.isin, cusip: cur.cusip, name: cur.name, validTo, successor: newSymbol, actionId: ch.actionId ?? null };
  const isin = ch.newIsin ?? cur.isin;
  const cusip = ch.newCusip ?? cur.cusip;
  const name = ch.newName ?? cur.name;
  const audit = (symbol: string, action: string, data: Record<string, unknown>) => appendAudit(c, [{
    actor: ctx.actor, action, entity: 'securities', entityId: symbol, data, at,
    rowHash: crypto.createHash('sha256').update(JSON.stringify(data)).digest('hex'),
  }]);
  let current: string;
  if (newSymbol) {
    await addAssetIn(c, { code: newSymbol, scale: cur.scale, kind: 'security', name }, ctx);
    // The identifiers move to the new symbol: the old row gives them up (the history keeps them).
    await c.query('UPDATE securities SET isin = NULL, cusip = NULL, updated_at = $2, updated_by = $3 WHERE symbol = $1', [cur.symbol, at.toISOString(), ctx.actor]);
    const row = { symbol: newSymbol, name, isin, cusip, asset_class: cur.asset_class, currency: cur.currency, mic: cur.mic, scale: cur.scale, multiplier: String(cur.multiplier) };
    await c.query(
      `INSERT INTO securities (symbol, name, isin, cusip, asset_class, currency, mic, scale, multiplier, updated_at, updated_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [row.symbol, row.name, row.isin, row.cusip, row.asset_class, row.currency, row.mic, row.scale, row.multiplier, at.toISOString(), ctx.actor]);
    await c.query('UPDATE securities SET valid_until = $2, successor = $3 WHERE symbol = $1', [cur.symbol, validTo, newSymbol]);
    await audit(newSymbol, 'securities.add', { ...row, predecessor: cur.symbol, effectiveDate: ch.effectiveDate, action: ch.actionId ?? null });
    await audit(cur.symbol, 'securities.retire', { symbol: cur.symbol, validUntil: validTo, successor: newSymbol, action: ch.actionId ?? null });
    current = newSymbol;
  } else {
    await c.query('UPDATE securities SET isin = $2, cusip = $3, name = $4, updated_at = $5, updated_by = $6 WHERE symbol = $1',
      [cur.symbol, isin, cusip, name, at.toISOString(), ctx.actor]);
    await audit(cur.symbol, 'securities.identifier_change', { symbol: cur.symbol, isin, cusip, name, was: { isin: cur.isin, cusip: cur.cusip, name: cur.name }, effectiveDate: ch.effectiveDate, action: ch.actionId ?? null });
    current = cur.symbol;
  }
  await c.query(
    `INSERT INTO security_identifier_history (symbol, isin, cusip, name, valid_to, successor, action_id, changed_at, changed_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [cur.symbol, cur.isin, cur.cusip, cur.name, validTo, newSymbol, ch.actionId ?? null, at.toISOString(), ctx.actor]);
  return { previous, current: await getSecurity(c, current) };
}

/** The identifiers a security had before, oldest first, and what became of it. */
export async function securityHistory(pool: Pool | Client, symbol: string): Promise<{ symbol: string; validUntil: string | null; successor: string | null; predecessors: string[]; history: IdentifierHistory[] }> {
  const sec = (await pool.query('SELECT symbol, valid_until::text AS valid_until, successor FROM securities WHERE symbol = $1', [symbol])).rows[0];
  if (!sec) throw notFound('SECURITY_NOT_FOUND', `security ${symbol} is not known`);
  const { rows } = await pool.query(
    `SELECT symbol, isin, cusip, name, valid_to::text AS valid_to, successor, action_id FROM security_identifier_history
      WHERE symbol = $1 OR successor = $1 ORDER BY valid_to, id`, [symbol]);
  return {
    symbol, validUntil: sec.valid_until, successor: sec.successor,
    predecessors: rows.filter((r) => r.successor === symbol).map((r) => r.symbol),
    history: rows.map((r) => ({ symbol: r.symbol, isin: r.isin, cusip: r.cusip, name: r.name, validTo: r.valid_to, successor: r.successor, actionId: r.action_id })),
  };
}

/**
 * The security a symbol, ISIN or CUSIP named on a date: identifiers given up by a change are
 * valid through the day before it took effect; a retired symbol through its valid_until.
 * @throws DomainError SECURITY_NOT_FOUND
 */
export async function securityAsOf(pool: Pool | Client, id: string, date: string): Promise<Security> {
  parseDate(date, 'date');
  // Identifiers in the history: in force from the previous change of that security up to valid_to.
  const { rows } = await pool.query(
    `SELECT h.symbol FROM security_identifier_history h
      WHERE (h.isin = $1 OR h.cusip = $1 OR (h.symbol = $1 AND h.successor IS NOT NULL)) AND h.valid_to >= $2::date
        AND NOT EXISTS (SELECT 1 FROM security_identifier_history p WHERE p.symbol = h.symbol AND p.valid_to < h.valid_to AND p.valid_to >= $2::date)
      ORDER BY h.valid_to LIMIT 1`, [id, date]);
  if (rows[0]) return getSecurity(pool, rows[0].symbol);
  const cur = (await pool.query(
    `SELECT s.symbol, s.valid_until::text AS valid_until,
            (SELECT max(h.valid_to)::text FROM security_identifier_history h WHERE h.symbol = s.symbol OR h.successor = s.symbol) AS since
       FROM securities s WHERE s.symbol = $1 OR s.isin = $1 OR s.cusip = $1 LIMIT 1`, [id])).rows[0];
  if (!cur || (cur.valid_until && cur.valid_until < date) || (cur.since && cur.since >= date && cur.symbol !== id)) {
    throw notFound('SECURITY_NOT_FOUND', `no security was known as ${id} on ${date}`);
  }
  if (cur.since && cur.since >= date) {
    // A symbol that came into being on a change is not known before it.
    const wasNew = (await pool.query('SELECT 1 FROM security_identifier_history WHERE successor = $1 AND valid_to >= $2::date', [cur.symbol, date])).rowCount;
    if (wasNew) throw notFound('SECURITY_NOT_FOUND', `no security was known as ${id} on ${date}`);
  }
  return getSecurity(pool, cur.symbol);
}
