import { parse } from 'csv-parse/sync';
import { withTx, type Client, type Pool } from '../../db/index.js';
import { Dec, parseDate, roundToMinor, type Clock, type ErrorDetail, type RoundingMode } from '../../kernel/index.js';
import { appendAudit, closedThrough, isoCurrency, lockBooks, type AuditEvent } from '../../ledger/index.js';
import { CloseCodes as C, closeError } from './errors.js';
import { rowDigest } from './hash.js';

/** One stored exchange rate: 1 unit of `currency` is worth `rate` units of `base` on `date`. */
export interface FxRate {
  date: string;
  currency: string;
  base: string;
  /** Decimal string. */
  rate: string;
}

export interface FxImportSummary {
  received: number;
  created: number;
  updated: number;
  unchanged: number;
}

export interface FxContext {
  actor: string;
  clock: Clock;
  /** The firm's base currency (config `baseCurrency`). */
  baseCurrency: string;
}

/** Every translation into the base currency rounds half-even (banker's rounding) to the base's minor unit. */
export const FX_ROUNDING: RoundingMode = 'half_even';

/** A value in base-currency units (exact decimal) rounded to base minor units with FX_ROUNDING. */
export function roundBase(value: Dec, baseScale: number): bigint {
  return roundToMinor(value, baseScale, FX_ROUNDING);
}

/** Minor units of an asset at `scale` as an exact decimal of whole units. */
export const unitsOf = (minor: bigint, scale: number): Dec => new Dec(minor.toString()).div(new Dec(10).pow(scale));

/** Minor units of the base currency. @throws when the base is not an ISO 4217 currency */
export function baseScaleOf(base: string): number {
  const iso = isoCurrency(base);
  if (!iso) throw closeError(C.ARGUMENT_INVALID, `base currency ${base} is not an ISO 4217 currency`);
  return iso.scale;
}

const RATE_RE = /^\d{1,12}(\.\d{1,12})?$/;
const COLUMNS = ['date', 'currency', 'base_currency', 'rate'];

/**
 * Import exchange rates from CSV: `date,currency,base_currency,rate` (a header row; more columns
 * are allowed), where `rate` is the value of one unit of `currency` in `base_currency`, which
 * must be the firm's base currency. All or nothing: one bad row and nothing is written; every
 * bad row is named (line, field, rule). Importing the same rates again changes nothing. A rate
 * may be corrected while its date is open and no revaluation has used it; a rate dated in a
 * closed period is fixed (a new one for a closed date is refused too, since it would restate
 * closed statements).
 * @throws DomainError FX_RATES_INVALID (invalid, with one detail per bad row),
 *   FX_RATE_LOCKED (conflict)
 */
export async function importFxRates(pool: Pool, text: string, file: string, ctx: FxContext): Promise<FxImportSummary> {
  const details: ErrorDetail[] = [];
  const bad = (line: number, key: string, field: string, rule: string, message: string) => {
    const record = `${file} line ${line}${key ? ` (${key})` : ''}`;
    details.push({ record, field, rule, message: `${record}: ${field}: ${message}` });
  };
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, { columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), info: true, skip_empty_lines: true, trim: true, bom: true, comment: '#' });
  } catch (e) {
    throw closeError(C.FX_RATES_INVALID, `${file}: not a readable CSV: ${(e as Error).message}`, [{ record: file, field: 'file', rule: 'CSV', message: (e as Error).message }]);
  }
  const header = text.replace(/^\uFEFF/, '').split(/\r?\n/).find((l) => l.trim() && !l.trim().startsWith('#')) ?? '';
  const cols = header.split(',').map((c) => c.trim().toLowerCase());
  const missing = COLUMNS.filter((c) => !cols.includes(c));
  if (missing.length) {
    const msg = `${file}: missing column(s) ${missing.join(', ')}; expected ${COLUMNS.join(',')}`;
    throw closeError(C.FX_RATES_INVALID, msg, missing.map((m) => ({ record: `${file} line 1`, field: m, rule: 'REQUIRED_COLUMN', message: `${file} line 1: column ${m} is missing` })));
  }
  const good: (FxRate & { line: number })[] = [];
  const seen = new Map<string, number>();
  for (const { record: v, info } of records) {
    const line = info.lines;
    const key = `${v.currency ?? ''} ${v.date ?? ''}`.trim();
    const before = details.length;
    let date = v.date ?? '';
    try { date = parseDate(v.date, 'date'); } catch (e) { bad(line, key, 'date', 'DATE', (e as Error).message); }
    const currency = (v.currency ?? '').toUpperCase();
    if (!/^[A-Z]{3}$/.test(currency) || !isoCurrency(currency)) bad(line, key, 'currency', 'ISO_4217', `"${v.currency ?? ''}" is not an ISO 4217 currency code`);
    const base = (v.base_currency ?? '').toUpperCase();
    if (base !== ctx.baseCurrency) bad(line, key, 'base_currency', 'BASE_CURRENCY', `"${v.base_currency ?? ''}" is not the firm's base currency ${ctx.baseCurrency}`);
    else if (currency === base) bad(line, key, 'currency', 'NOT_BASE', `${currency} is the base currency itself (its rate is 1)`);
    const rateText = v.rate ?? '';
    if (!RATE_RE.test(rateText) || new Dec(rateText).lte(0)) bad(line, key, 'rate', 'POSITIVE_DECIMAL', `"${rateText}" must be a positive decimal number (at most 12 decimals), units of ${ctx.baseCurrency} per 1 ${currency || 'unit'}`);
    if (details.length > before) continue;
    const k = `${currency}\u0000${date}`;
    const first = seen.get(k);
    if (first !== undefined) { bad(line, key, 'date', 'DUPLICATE', `${currency} on ${date} is already given on line ${first}`); continue; }
    seen.set(k, line);
    good.push({ line, date, currency, base, rate: new Dec(rateText).toFixed() });
  }
  if (details.length) {
    throw closeError(C.FX_RATES_INVALID, `${file}: ${details.length} bad row(s); nothing was imported: ${details.slice(0, 5).map((d) => d.message).join('; ')}${details.length > 5 ? '; ...' : ''}`, details);
  }
  return withTx(pool, async (c) => {
    await lockBooks(c);
    const through = await closedThrough(c);
    const existing = new Map<string, string>();
    if (good.length) {
      const { rows } = await c.query<{ currency: string; rate_date: string; rate: string }>(
        `SELECT currency, rate_date, rate FROM fx_rates WHERE base = $1 AND (currency, rate_date) IN (SELECT * FROM unnest($2::text[], $3::date[]))`,
        [ctx.baseCurrency, good.map((g) => g.currency), good.map((g) => g.date)]);
      for (const r of rows) existing.set(`${r.currency}\u0000${r.rate_date}`, r.rate);
    }
    const used = new Set<string>();
    if (good.length) {
      const { rows } = await c.query<{ currency: string; rate_date: string }>(
        'SELECT DISTINCT currency, rate_date FROM fx_revaluations WHERE base = $1', [ctx.baseCurrency]);
      for (const r of rows) used.add(`${r.currency}\u0000${r.rate_date}`);
    }
    const at = ctx.clock.now();
    const summary: FxImportSummary = { received: good.length, created: 0, updated: 0, unchanged: 0 };
    const locked: ErrorDetail[] = [];
    const writes: { g: FxRate & { line: number }; previous: string | null }[] = [];
    for (const g of good) {
      const k = `${g.currency}\u0000${g.date}`;
      const prev = existing.get(k);
      if (prev !== undefined && new Dec(prev).eq(g.rate)) { summary.unchanged++; continue; }
      const record = `${file} line ${g.line} (${g.currency} ${g.date})`;
      if (through && g.date <= through) {
        locked.push({ record, field: 'date', rule: 'PERIOD_CLOSED', message: `${record}: date: ${g.date} is in a closed period (the books are closed through ${through}); its rates are fixed${prev !== undefined ? ` (stored: ${prev})` : ''}` });
        continue;
      }
      if (prev !== undefined && used.has(k)) {
        locked.push({ record, field: 'rate', rule: 'USED_BY_REVALUATION', message: `${record}: rate: ${g.currency} on ${g.date} is ${prev} and a booked FX revaluation used it; it cannot change to ${g.rate}` });
        continue;
      }
      writes.push({ g, previous: prev ?? null });
    }
    if (locked.length) {
      throw closeError(C.FX_RATE_LOCKED, `${file}: ${locked.length} rate(s) cannot change; nothing was imported: ${locked.slice(0, 5).map((d) => d.message).join('; ')}`, locked, 'conflict');
    }
    const audit: AuditEvent[] = [];
    for (const { g, previous } of writes) {
      await c.query(
        `INSERT INTO fx_rates (rate_date, currency, base, rate, imported_at, imported_by) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (currency, base, rate_date) DO UPDATE SET rate = excluded.rate, imported_at = excluded.imported_at, imported_by = excluded.imported_by`,
        [g.date, g.currency, g.base, g.rate, at.toISOString(), ctx.actor]);
      if (previous === null) summary.created++; else summary.updated++;
      audit.push({
        actor: ctx.actor, action: previous === null ? 'fx.rate.add' : 'fx.rate.correct', entity: 'fx_rates', entityId: `${g.currency}/${g.base}/${g.date}`,
        data: { date: g.date, currency: g.currency, base: g.base, rate: g.rate, ...(previous !== null ? { previous } : {}), file },
        rowHash: rowDigest([g.date, g.currency, g.base, g.rate, at.toISOString(), ctx.actor]), at,
      });
    }
    await appendAudit(c, audit);
    return summary;
  });
}

/** Stored rates in the base currency, newest first. */
export async function listFxRates(db: Pool | Client, q: { base: string; currency?: string; from?: string; to?: string; limit?: number }): Promise<FxRate[]> {
  const { rows } = await db.query<{ rate_date: string; currency: string; base: string; rate: string }>(
    `SELECT rate_date, currency, base, rate FROM fx_rates
      WHERE base = $1 AND ($2::text IS NULL OR currency = $2) AND ($3::date IS NULL OR rate_date >= $3) AND ($4::date IS NULL OR rate_date <= $4)
      ORDER BY rate_date DESC, currency LIMIT $5`,
    [q.base, q.currency ?? null, q.from ? parseDate(q.from, 'from') : null, q.to ? parseDate(q.to, 'to') : null, Math.min(q.limit ?? 1000, 10000)]);
  return rows.map((r) => ({ date: r.rate_date, currency: r.currency, base: r.base, rate: r.rate }));
}

/** The rates of some currencies up to a date, for lookups "on or before" a day. */
export class RateBook {
  private constructor(readonly base: string, private readonly byCurrency: Map<string, { date: string; rate: Dec }[]>) {}

  /** Load every rate of `currencies` in `base` dated on or before `through`. */
  static async load(db: Pool | Client, base: string, currencies: Iterable<string>, through: string): Promise<RateBook> {
    const list = [...new Set(currencies)].filter((c) => c !== base);
    const map = new Map<string, { date: string; rate: Dec }[]>();
    for (const c of list) map.set(c, []);
    if (list.length) {
      const { rows } = await db.query<{ currency: string; rate_date: string; rate: string }>(
        'SELECT currency, rate_date, rate FROM fx_rates WHERE base = $1 AND currency = ANY($2) AND rate_date <= $3 ORDER BY currency, rate_date',
        [base, list, through]);
      for (const r of rows) map.get(r.currency)!.push({ date: r.rate_date, rate: new Dec(r.rate) });
    }
    return new RateBook(base, map);
  }

  /** The latest rate on or before `date` (1 for the base currency itself), or undefined. */
  on(currency: string, date: string): { date: string; rate: Dec } | undefined {
    if (currency === this.base) return { date, rate: new Dec(1) };
    const xs = this.byCurrency.get(currency);
    if (!xs?.length) return undefined;
    let lo = 0;
    let hi = xs.length - 1;
    if (xs[0]!.date > date) return undefined;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (xs[mid]!.date <= date) lo = mid; else hi = mid - 1;
    }
    return xs[lo];
  }
}

/** The error for a missing rate, naming the currency, the date and what needed it. */
export function missingRate(base: string, needs: { currency: string; date: string; account?: string }[]): Error {
  const first = needs.slice(0, 10);
  const details = first.map((n) => ({
    record: `${n.currency} ${n.date}`, field: 'rate', rule: 'RATE_ON_OR_BEFORE',
    message: `no ${n.currency} rate in ${base} on or before ${n.date}${n.account ? ` (needed for ${n.account})` : ''}`,
  }));
  return closeError(C.FX_RATE_MISSING, `${details.map((d) => d.message).join('; ')}${needs.length > 10 ? `; and ${needs.length - 10} more` : ''}: import rates with \`backoffice fx rates import\``, details);
}
