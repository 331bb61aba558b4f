/**
 * Fails management: the open fails of the settlement obligations as of a date, their age in
 * settlement days, aging buckets, Reg SHO Rule 204 close-out dates for fails to deliver, the fails
 * in the ledger, and the plan of a buy-in (buy-ins themselves are stored in buy-ins.ts).
 *
 * What a fail is, as of `asOf`: an obligation that is `failed` or `partially_settled`, or one still
 * `pending`, `instructed` or `matched` whose settlement date is before `asOf` (past due and not
 * settled), with something left to move (quantity - settled_quantity or cash - settled_cash not 0).
 * A failed obligation carried into a later date's net (carried_into) is still listed under its own
 * settlement date, since its age and close-out run from that date; note the later obligation's
 * quantity includes it (carriedQuantity there), so the two are not to be summed blindly.
 *
 * Age: the number of settlement days of the security's market after the settlement date up to and
 * including `asOf` (S+1 is age 1). A fail seen on its settlement date itself is age 0.
 * Aging buckets (settlement days): '1-5' (age 0 to 5, same-day fails included), '6-10', '11-20',
 * '21-30', '>30'.
 *
 * Fails in the ledger ({@link bookFails}): what is left of a fail moves, on its settlement date,
 * from the street side (`assets:street:<cpty>`) into the counterparty's fail account, securities and
 * cash together, signed as on the street:
 *   `assets:fails:to-receive:<cpty>`     a fail to receive: securities owed to us (+), the cash we owe (-)
 *   `liabilities:fails:to-deliver:<cpty>` a fail to deliver: securities we owe (-), the cash owed to us (+)
 * (a cash-only remainder goes to the account of its side: cash we owe to-receive, cash owed to us
 * to-deliver). Entries `fail:<obligation>:<n>`, idempotent. A fail leaves the fail account when it
 * settles (the settlement books out of it first, see lifecycle.ts), when it is carried into a later
 * date's net (back to the street on that date, `fail-carried:<obligation>:<n>`: owed there now), or
 * when it is bought in (buy-ins.ts). `settlement_fails` holds, per obligation, what sits there.
 * Applying a failed (or partially settled) status books the fail at once; `bookFails(asOf)` (the
 * end of day, `settlement fails --book`) books the past-due ones too.
 *
 * Money is bigint minor units inside, decimal strings outside; never a JS number.
 */
import os from 'node:os';
import type { Command } from 'commander';
import { withTx, type Client, type Pool } from '../db/index.js';
import { addBusinessDays, businessDays, markets } from '../calendar/index.js';
import { openAccountIn, postEntriesIn, type EntryInput } from '../ledger/index.js';
import { Dec, fromMinor, invalid, parseDate, roundToMinor, systemClock, toMinor, type Clock } from '../kernel/index.js';
import type { ObligationStatus } from './netting.js';
import type { SettlementCtx } from './obligations.js';
import type { Print, WithDb } from './cli.js';

/** Error codes of fails management (stable). */
export const FailsCodes = {
  /** A buy-in does not fit its fail (quantity, price, date, direction). */
  BUY_IN_INVALID: 'SETTLEMENT_BUY_IN_INVALID',
} as const;

export type FailDirection = 'fail_to_deliver' | 'fail_to_receive' | 'cash_only';
export type AgingBucket = '1-5' | '6-10' | '11-20' | '21-30' | '>30';
export const AGING_BUCKETS: readonly AgingBucket[] = ['1-5', '6-10', '11-20', '21-30', '>30'];
/** Short: the obligation includes a short sale; long: otherwise. */
export type SaleType = 'short' | 'long';
export type FailAlertKind = 'CLOSE_OUT_DUE_TODAY' | 'CLOSE_OUT_OVERDUE';

/** One obligation as read for fails (amounts as stored: decimal strings / minor-unit strings). */
export interface FailRow {
  id: string;
  settleDate: string;
  counterparty: string;
  symbol: string;
  currency: string;
  mic: string;
  scale: number;
  cashScale: number;
  status: ObligationStatus;
  /** Decimal strings of the security's scale. */
  quantity: string;
  settledQuantity: string;
  /** Minor units of the currency. */
  cash: bigint;
  settledCash: bigint;
  carriedInto: string | null;
  /** Whether any booked short sale of the security to the counterparty settles that date. */
  hasShortSale: boolean;
}

export interface Fail {
  obligationId: string;
  settleDate: string;
  counterparty: string;
  security: string;
  currency: string;
  market: string;
  status: ObligationStatus;
  direction: FailDirection;
  /** Original net: quantity + receive / - deliver; cash + receive / - pay (decimal strings). */
  quantity: string;
  cash: string;
  /** What is left: quantity - settled quantity, cash - settled cash. */
  remainingQuantity: string;
  remainingCash: string;
  /** Settlement days after the settlement date, up to asOf. */
  age: number;
  bucket: AgingBucket;
  /** Fails to deliver on US markets only (Reg SHO Rule 204); else null. */
  saleType: SaleType | null;
  closeOutDue: string | null;
  closeOutOverdue: boolean;
  carriedInto: string | null;
  /** Minor units, for arithmetic (not in JSON). */
  remainingQuantityMinor: bigint;
  remainingCashMinor: bigint;
  scale: number;
  cashScale: number;
}

export interface FailAlert {
  kind: FailAlertKind;
  obligationId: string;
  counterparty: string;
  security: string;
  closeOutDue: string;
  remainingQuantity: string;
  message: string;
}

export interface FailsReport {
  asOf: string;
  fails: FailView[];
  alerts: FailAlert[];
  buckets: BucketRow[];
  /** The fail accounts of the ledger as of `asOf`, per counterparty, direction and asset. */
  ledger: FailBalance[];
}

/** A balance of a fail account: securities (quantity) or cash, as of the report's date. */
export interface FailBalance {
  account: string;
  counterparty: string;
  direction: 'to_receive' | 'to_deliver';
  asset: string;
  /** Decimal string: positive to receive, negative to deliver or pay. */
  balance: string;
}

/** A fail as printed / sent (no bigints), with what of it sits in the fail accounts now (null: not booked). */
export type FailView = Omit<Fail, 'remainingQuantityMinor' | 'remainingCashMinor' | 'scale' | 'cashScale'> & {
  inLedger?: { account: string; quantity: string; cash: string; failedOn: string } | null;
};

export interface BucketRow {
  bucket: AgingBucket;
  direction: FailDirection;
  count: number;
  /** Sum of |remaining cash| per currency, decimal strings. */
  value: { currency: string; amount: string }[];
}

const US_MARKETS = new Set(markets().filter((m) => m.country === 'US').map((m) => m.mic));

/** Settlement days of `market` after `settleDate` up to and including `asOf` (0 when asOf is not after it). */
export function failAge(market: string, settleDate: string, asOf: string): number {
  if (asOf <= settleDate) return 0;
  return businessDays(market, settleDate, asOf, 'settlement').filter((d) => d > settleDate).length;
}

/** The aging bucket of an age in settlement days (0 falls in '1-5'). */
export function agingBucket(age: number): AgingBucket {
  if (age <= 5) return '1-5';
  if (age <= 10) return '6-10';
  if (age <= 20) return '11-20';
  if (age <= 30) return '21-30';
  return '>30';
}

/**
 * Reg SHO Rule 204 close-out date of a fail to deliver: a short sale by the settlement day after
 * the settlement date (S+1, i.e. T+2 under T+1 settlement); a long sale by the third settlement day
 * after it (S+3). The close-out is due by the opening of regular trading hours on that day.
 */
export function closeOutDue(market: string, settleDate: string, sale: SaleType): string {
  return addBusinessDays(market, settleDate, sale === 'short' ? 1 : 3, 'settlement');
}

const isZero = (d: string) => /^[+-]?0*(\.0*)?$/.test(d);

/** A numeric from the database (trailing zeros trimmed) in minor units of `scale`. */
export function minorOf(text: string, scale: number): bigint {
  const t = text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
  return toMinor(t, scale, 'quantity');
}

/** Builds the fail of one obligation as of `asOf` (pure); null when nothing is left to move. */
export function failOf(r: FailRow, asOf: string): Fail | null {
  const q = minorOf(r.quantity, r.scale);
  const remQ = q - minorOf(r.settledQuantity, r.scale);
  const remC = r.cash - r.settledCash;
  if (remQ === 0n && remC === 0n) return null;
  const direction: FailDirection = remQ < 0n ? 'fail_to_deliver' : remQ > 0n ? 'fail_to_receive' : 'cash_only';
  const age = failAge(r.mic, r.settleDate, asOf);
  let saleType: SaleType | null = null;
  let due: string | null = null;
  if (direction === 'fail_to_deliver' && US_MARKETS.has(r.mic)) {
    // Conservative reading: if any short sale of the security to that counterparty settles that
    // day, the whole net delivery is treated as a short sale (the earlier, S+1 close-out).
    saleType = r.hasShortSale ? 'short' : 'long';
    due = closeOutDue(r.mic, r.settleDate, saleType);
  }
  return {
    obligationId: r.id, settleDate: r.settleDate, counterparty: r.counterparty, security: r.symbol, currency: r.currency, market: r.mic,
    status: r.status, direction,
    quantity: fromMinor(q, r.scale), cash: fromMinor(r.cash, r.cashScale),
    remainingQuantity: fromMinor(remQ, r.scale), remainingCash: fromMinor(remC, r.cashScale),
    age, bucket: agingBucket(age), saleType, closeOutDue: due, closeOutOverdue: due !== null && asOf > due,
    carriedInto: r.carriedInto,
    remainingQuantityMinor: remQ, remainingCashMinor: remC, scale: r.scale, cashScale: r.cashScale,
  };
}

/** Close-outs due on `asOf` or overdue, most overdue first. */
export function failAlerts(fails: Fail[], asOf: string): FailAlert[] {
  const out: FailAlert[] = [];
  for (const f of fails) {
    if (!f.closeOutDue || asOf < f.closeOutDue) continue;
    const kind: FailAlertKind = asOf === f.closeOutDue ? 'CLOSE_OUT_DUE_TODAY' : 'CLOSE_OUT_OVERDUE';
    out.push({
      kind, obligationId: f.obligationId, counterparty: f.counterparty, security: f.security, closeOutDue: f.closeOutDue, remainingQuantity: f.remainingQuantity,
      message: `${f.saleType} sale fail to deliver of ${f.remainingQuantity.replace(/^-/, '')} ${f.security} to ${f.counterparty} (settle date ${f.settleDate}): `
        + (kind === 'CLOSE_OUT_DUE_TODAY' ? `Rule 204 close-out due today, ${f.closeOutDue}` : `Rule 204 close-out was due ${f.closeOutDue}, overdue`),
    });
  }
  return out.sort((a, b) => a.closeOutDue.localeCompare(b.closeOutDue) || a.counterparty.localeCompare(b.counterparty) || a.security.localeCompare(b.security));
}

/** Counts and |remaining cash| per currency, per bucket and direction (every bucket x direction present). */
export function agingBuckets(fails: Fail[]): BucketRow[] {
  const dirs: FailDirection[] = ['fail_to_deliver', 'fail_to_receive', 'cash_only'];
  const rows: BucketRow[] = [];
  for (const bucket of AGING_BUCKETS) {
    for (const direction of dirs) {
      const these = fails.filter((f) => f.bucket === bucket && f.direction === direction);
      const sums = new Map<string, { minor: bigint; scale: number }>();
      for (const f of these) {
        const s = sums.get(f.currency) ?? { minor: 0n, scale: f.cashScale };
        s.minor += f.remainingCashMinor < 0n ? -f.remainingCashMinor : f.remainingCashMinor;
        sums.set(f.currency, s);
      }
      rows.push({
        bucket, direction, count: these.length,
        value: [...sums.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([currency, s]) => ({ currency, amount: fromMinor(s.minor, s.scale) })),
      });
    }
  }
  return rows;
}

export const failView = (f: Fail): FailView => {
  const { remainingQuantityMinor: _q, remainingCashMinor: _c, scale: _s, cashScale: _cs, ...v } = f;
  return v;
};

/**
 * The fails as of `asOf` (see the module comment), oldest settlement date first, with close-out
 * alerts and aging buckets.
 * @throws DomainError DATE_INVALID; CALENDAR_* when a date is outside the market's calendar
 */
export async function listFails(pool: Pool, asOf: string): Promise<FailsReport> {
  parseDate(asOf, 'as-of date');
  const { rows } = await pool.query<{
    id: string; settle_date: string; counterparty: string; symbol: string; currency: string; mic: string; scale: number; cash_scale: number;
    status: ObligationStatus; quantity: string; settled_quantity: string; cash: string; settled_cash: string; carried_into: string | null; has_short: boolean;
  }>(
    `SELECT o.id, o.settle_date::text AS settle_date, o.counterparty, o.symbol, o.currency, s.mic, s.scale, a.scale AS cash_scale, o.status,
            o.quantity::text AS quantity, o.settled_quantity::text AS settled_quantity, o.cash::text AS cash, o.settled_cash::text AS settled_cash,
            o.carried_into::text AS carried_into,
            EXISTS (SELECT 1 FROM trades t WHERE t.settle_date = o.settle_date AND t.counterparty = o.counterparty AND t.symbol = o.symbol
                     AND t.side = 'short' AND t.status = 'booked') AS has_short
       FROM settlement_obligations o JOIN securities s ON s.symbol = o.symbol JOIN assets a ON a.code = o.currency
      WHERE (o.status IN ('failed', 'partially_settled') OR ($1::date IS NOT NULL AND o.status IN ('pending', 'instructed', 'matched') AND o.settle_date < $1::date))
      ORDER BY o.settle_date, o.counterparty, o.symbol`, [asOf]);
  const fails: Fail[] = [];
  for (const r of rows) {
    const f = failOf({
      id: r.id, settleDate: r.settle_date, counterparty: r.counterparty, symbol: r.symbol, currency: r.currency, mic: r.mic, scale: r.scale, cashScale: r.cash_scale,
      status: r.status, quantity: r.quantity, settledQuantity: r.settled_quantity, cash: BigInt(r.cash), settledCash: BigInt(r.settled_cash),
      carriedInto: r.carried_into, hasShortSale: r.has_short,
    }, asOf);
    if (f) fails.push(f);
  }
  const booked = new Map((await pool.query<{ obligation_id: string; account: string; quantity: string; cash: string; failed_on: string; scale: number; cash_scale: number }>(
    `SELECT f.obligation_id, f.account, f.quantity::text AS quantity, f.cash::text AS cash, f.failed_on::text AS failed_on, s.scale, a.scale AS cash_scale
       FROM settlement_fails f JOIN securities s ON s.symbol = f.symbol JOIN assets a ON a.code = f.currency
      WHERE f.status = 'open' AND f.obligation_id = ANY($1)`, [fails.map((f) => f.obligationId)])).rows.map((r) => [r.obligation_id, r]));
  const views = fails.map((f): FailView => {
    const b = booked.get(f.obligationId);
    return { ...failView(f), inLedger: b ? { account: b.account, quantity: fromMinor(minorOf(b.quantity, b.scale), b.scale), cash: fromMinor(BigInt(b.cash), b.cash_scale), failedOn: b.failed_on } : null };
  });
  return { asOf, fails: views, alerts: failAlerts(fails, asOf), buckets: agingBuckets(fails), ledger: await failBalances(pool, asOf) };
}

// ---- fails in the ledger ------------------------------------------------------------------------

/** Serialises fail bookings (and the settlements and buy-ins that take from them). */
export const FAILS_LOCK = 7243013;

export const failAccount = {
  toReceive: (cpty: string) => `assets:fails:to-receive:${cpty}`,
  toDeliver: (cpty: string) => `liabilities:fails:to-deliver:${cpty}`,
};
const streetOf = (cpty: string) => `assets:street:${cpty}`;

/** The fail account of a remainder (signed like the obligation): by its securities, else by its cash. */
export function failAccountOf(cpty: string, quantity: bigint, cash: bigint): string {
  const receive = quantity > 0n || (quantity === 0n && cash < 0n);
  return receive ? failAccount.toReceive(cpty) : failAccount.toDeliver(cpty);
}

/** The balances of the fail accounts as of a date (summed from their postings: the accounts' index serves it). */
export async function failBalances(db: Pool | Client, asOf: string): Promise<FailBalance[]> {
  const { rows: raw } = await db.query<{ account: string; asset: string; scale: number; minor: string }>(
    `SELECT a.name AS account, p.asset, s.scale, sum(p.amount)::text AS minor
       FROM accounts a JOIN postings p ON p.account_id = a.id JOIN assets s ON s.code = p.asset
      WHERE (a.name LIKE 'assets:fails:%' OR a.name LIKE 'liabilities:fails:%') AND p.effective_date <= $1
      GROUP BY a.name, p.asset, s.scale HAVING sum(p.amount) <> 0 ORDER BY a.name COLLATE "C", p.asset COLLATE "C"`, [parseDate(asOf, 'as-of date')]);
  const rows = raw.map((r) => ({ account: r.account, asset: r.asset, balance: fromMinor(BigInt(r.minor), r.scale) }));
  return rows.flatMap((r) => {
    const m = /^(?:assets:fails:to-receive|liabilities:fails:to-deliver):(.+)$/.exec(r.account);
    return m ? [{ account: r.account, counterparty: m[1]!, direction: r.account.startsWith('assets:') ? 'to_receive' as const : 'to_deliver' as const, asset: r.asset, balance: r.balance }] : [];
  });
}

/** One obligation's fail in the fail accounts (minor units, signed like the obligation). */
export interface FailRecord {
  obligationId: string;
  counterparty: string;
  symbol: string;
  currency: string;
  account: string;
  failedOn: string;
  quantity: bigint;
  cash: bigint;
  bookedQuantity: bigint;
  bookedCash: bigint;
  status: 'open' | 'closed';
  closedOn: string | null;
  closedBy: 'settled' | 'carried' | 'bought_in' | null;
  scale: number;
  cashScale: number;
  /** Entries posted for it so far (numbers the keys). */
  entries: number;
  /** Changed in memory, to be written by {@link saveFailRecords}. */
  dirty?: boolean;
  isNew?: boolean;
}

interface FailRecordRow {
  obligation_id: string; counterparty: string; symbol: string; currency: string; account: string; failed_on: string; quantity: string; cash: string;
  booked_quantity: string; booked_cash: string; status: 'open' | 'closed'; closed_on: string | null; closed_by: FailRecord['closedBy'];
  scale: number; cash_scale: number; entries: number;
}

const FAIL_COLS = `f.obligation_id, f.counterparty, f.symbol, f.currency, f.account, f.failed_on::text AS failed_on, f.quantity::text AS quantity, f.cash::text AS cash,
  f.booked_quantity::text AS booked_quantity, f.booked_cash::text AS booked_cash, f.status, f.closed_on::text AS closed_on, f.closed_by, s.scale, a.scale AS cash_scale, f.entries`;

const recordOf = (r: FailRecordRow): FailRecord => ({
  obligationId: r.obligation_id, counterparty: r.counterparty, symbol: r.symbol, currency: r.currency, account: r.account, failedOn: r.failed_on,
  quantity: minorOf(r.quantity, r.scale), cash: BigInt(r.cash), bookedQuantity: minorOf(r.booked_quantity, r.scale), bookedCash: BigInt(r.booked_cash),
  status: r.status, closedOn: r.closed_on, closedBy: r.closed_by, scale: r.scale, cashScale: r.cash_scale, entries: r.entries,
});

/** The fail records of some obligations, locked for update. */
export async function failRecordsIn(c: Client, obligationIds: string[]): Promise<Map<string, FailRecord>> {
  if (!obligationIds.length) return new Map();
  const { rows } = await c.query<FailRecordRow>(
    `SELECT ${FAIL_COLS} FROM settlement_fails f JOIN securities s ON s.symbol = f.symbol JOIN assets a ON a.code = f.currency
      WHERE f.obligation_id = ANY($1) ORDER BY f.obligation_id FOR UPDATE OF f`, [obligationIds]);
  return new Map(rows.map((r) => [r.obligation_id, recordOf(r)]));
}

/** Write the changed fail records. */
export async function saveFailRecords(c: Client, records: Iterable<FailRecord>, ctx: { actor: string; clock: Clock }): Promise<void> {
  const now = ctx.clock.now().toISOString();
  for (const f of records) {
    if (!f.dirty) continue;
    const q = fromMinor(f.quantity, f.scale), bq = fromMinor(f.bookedQuantity, f.scale);
    if (f.isNew) {
      await c.query(
        `INSERT INTO settlement_fails (obligation_id, counterparty, symbol, currency, account, failed_on, quantity, cash, booked_quantity, booked_cash,
            status, closed_on, closed_by, created_at, created_by, updated_at, updated_by, entries)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $14, $15, $16)`,
        [f.obligationId, f.counterparty, f.symbol, f.currency, f.account, f.failedOn, q, f.cash.toString(), bq, f.bookedCash.toString(),
          f.status, f.closedOn, f.closedBy, now, ctx.actor, f.entries]);
    } else {
      await c.query(
        `UPDATE settlement_fails SET account = $2, failed_on = $3, quantity = $4, cash = $5, booked_quantity = $6, booked_cash = $7, status = $8,
            closed_on = $9, closed_by = $10, updated_at = $11, updated_by = $12, entries = $13 WHERE obligation_id = $1`,
        [f.obligationId, f.account, f.failedOn, q, f.cash.toString(), bq, f.bookedCash.toString(), f.status, f.closedOn, f.closedBy, now, ctx.actor, f.entries]);
    }
    f.dirty = false;
    f.isNew = false;
  }
}

/** Open the accounts the entries post to that do not exist yet (street and fail accounts, by their names). */
export async function openSettlementAccounts(c: Client, entries: EntryInput[], ctx: { actor: string; clock: Clock }): Promise<void> {
  const needed = new Set(entries.flatMap((e) => e.postings.map((p) => p.account)));
  const existing = new Set((await c.query<{ name: string }>('SELECT name FROM accounts WHERE name = ANY($1)', [[...needed]])).rows.map((x) => x.name));
  for (const name of [...needed].sort()) {
    if (existing.has(name)) continue;
    const m = /^(assets:street|assets:fails:to-receive|liabilities:fails:to-deliver|assets:receivable:buy-ins):(.+)$/.exec(name);
    await openAccountIn(c, { name, type: name.startsWith('liabilities:') ? 'liability' : name.startsWith('expenses:') ? 'expense' : 'asset', owner: m ? m[2]! : 'firm' }, ctx);
  }
}

/**
 * Take from a fail what a settlement of `d` (signed like the obligation) settles of it: nothing
 * when the fail is empty or points the other way, else all of the fail or all of `d`, the smaller.
 */
export function takeFromFail(open: bigint, d: bigint): bigint {
  if (open === 0n || d === 0n || (open > 0n) !== (d > 0n)) return 0n;
  const abs = (x: bigint) => (x < 0n ? -x : x);
  return abs(open) <= abs(d) ? open : d;
}

export interface FailBookingResult {
  /** Fails moved into the fail accounts now. */
  booked: { obligationId: string; account: string; quantity: string; cash: string; date: string; entryKey: string }[];
  /** Fails moved back to the street side: carried into a later date's net. */
  carried: { obligationId: string; into: string; quantity: string; cash: string; entryKey: string }[];
}

/**
 * Fails carried into a later date's net go back to the street side on that date, where they are
 * owed again (the later obligation includes them).
 */
export async function carryFailsBack(c: Client, ctx: { actor: string; clock: Clock }, out: FailBookingResult = { booked: [], carried: [] }): Promise<FailBookingResult> {
  await c.query('SELECT pg_advisory_xact_lock($1)', [FAILS_LOCK]);
  const { rows } = await c.query<FailRecordRow & { carried_into: string }>(
    `SELECT ${FAIL_COLS}, o.carried_into::text AS carried_into FROM settlement_fails f JOIN settlement_obligations o ON o.id = f.obligation_id
       JOIN securities s ON s.symbol = f.symbol JOIN assets a ON a.code = f.currency
      WHERE f.status = 'open' AND o.carried_into IS NOT NULL ORDER BY f.obligation_id FOR UPDATE OF f`);
  const entries: EntryInput[] = [];
  const records: FailRecord[] = [];
  for (const r of rows) {
    const f = recordOf(r);
    const key = `fail-carried:${f.obligationId}:${f.entries + 1}`;
    const postings = [];
    if (f.quantity !== 0n) postings.push({ account: streetOf(f.counterparty), asset: f.symbol, amount: fromMinor(f.quantity, f.scale) }, { account: f.account, asset: f.symbol, amount: fromMinor(-f.quantity, f.scale) });
    if (f.cash !== 0n) postings.push({ account: streetOf(f.counterparty), asset: f.currency, amount: fromMinor(f.cash, f.cashScale) }, { account: f.account, asset: f.currency, amount: fromMinor(-f.cash, f.cashScale) });
    if (postings.length) {
      entries.push({ key, date: r.carried_into, memo: `fail of ${f.obligationId} (${f.counterparty} ${f.symbol}) carried into the net of ${r.carried_into}: back to the street side`, postings });
      out.carried.push({ obligationId: f.obligationId, into: r.carried_into, quantity: fromMinor(f.quantity, f.scale), cash: fromMinor(f.cash, f.cashScale), entryKey: key });
    }
    Object.assign(f, { quantity: 0n, cash: 0n, status: 'closed', closedOn: r.carried_into, closedBy: 'carried', dirty: true, entries: f.entries + (postings.length ? 1 : 0) });
    records.push(f);
  }
  if (entries.length) {
    await openSettlementAccounts(c, entries, ctx);
    await postEntriesIn(c, entries, ctx, 'all');
  }
  await saveFailRecords(c, records, ctx);
  return out;
}

/**
 * Book fails into the ledger inside the caller's transaction: first the fails carried into a later
 * net go back to the street; then every fail as of `asOf` (see the module comment; only `ids` when
 * given; `asOf` null: only those failed or partially settled) that is not carried elsewhere has what is left of it and not yet in its fail account moved
 * there from the street side, dated its settlement date. Idempotent: a second call changes nothing.
 */
export async function bookFailsIn(c: Client, q: { asOf: string | null; ids?: string[] }, ctx: { actor: string; clock: Clock }): Promise<FailBookingResult> {
  const out = await carryFailsBack(c, ctx);
  const { rows } = await c.query<{ id: string; settle_date: string; counterparty: string; symbol: string; currency: string; quantity: string; settled_quantity: string;
    cash: string; settled_cash: string; scale: number; cash_scale: number }>(
    `SELECT o.id, o.settle_date::text AS settle_date, o.counterparty, o.symbol, o.currency, o.quantity::text AS quantity, o.settled_quantity::text AS settled_quantity,
            o.cash::text AS cash, o.settled_cash::text AS settled_cash, s.scale, a.scale AS cash_scale
       FROM settlement_obligations o JOIN securities s ON s.symbol = o.symbol JOIN assets a ON a.code = o.currency
      WHERE (o.status IN ('failed', 'partially_settled') OR ($1::date IS NOT NULL AND o.status IN ('pending', 'instructed', 'matched') AND o.settle_date < $1::date))
        AND o.carried_into IS NULL AND ($2::text[] IS NULL OR o.id = ANY($2))
      ORDER BY o.settle_date, o.counterparty, o.symbol FOR UPDATE OF o`, [q.asOf === null ? null : parseDate(q.asOf, 'as-of date'), q.ids ?? null]);
  const records = await failRecordsIn(c, rows.map((r) => r.id));
  const entries: EntryInput[] = [];
  for (const r of rows) {
    const remQ = minorOf(r.quantity, r.scale) - minorOf(r.settled_quantity, r.scale);
    const remC = BigInt(r.cash) - BigInt(r.settled_cash);
    let f = records.get(r.id);
    const inFail = f && f.status === 'open' ? { q: f.quantity, c: f.cash } : { q: 0n, c: 0n };
    const dq = remQ - inFail.q, dc = remC - inFail.c;
    if (dq === 0n && dc === 0n) continue;
    if (!f) {
      f = { obligationId: r.id, counterparty: r.counterparty, symbol: r.symbol, currency: r.currency, account: failAccountOf(r.counterparty, remQ, remC),
        failedOn: r.settle_date, quantity: 0n, cash: 0n, bookedQuantity: 0n, bookedCash: 0n, status: 'open', closedOn: null, closedBy: null,
        scale: r.scale, cashScale: r.cash_scale, entries: 0, isNew: true };
      records.set(r.id, f);
    } else if (f.status === 'closed') {
      // Open again (e.g. a net that carried it was redone without it).
      Object.assign(f, { quantity: 0n, cash: 0n, status: 'open', closedOn: null, closedBy: null, account: failAccountOf(r.counterparty, remQ, remC) });
    }
    const key = `fail:${r.id}:${f.entries + 1}`;
    const street = streetOf(r.counterparty);
    const postings = [];
    if (dq !== 0n) postings.push({ account: f.account, asset: r.symbol, amount: fromMinor(dq, r.scale) }, { account: street, asset: r.symbol, amount: fromMinor(-dq, r.scale) });
    if (dc !== 0n) postings.push({ account: f.account, asset: r.currency, amount: fromMinor(dc, r.cash_scale) }, { account: street, asset: r.currency, amount: fromMinor(-dc, r.cash_scale) });
    entries.push({ key, date: r.settle_date, memo: `fail of ${r.id}: ${fromMinor(dq, r.scale)} ${r.symbol} against ${fromMinor(dc, r.cash_scale)} ${r.currency} with ${r.counterparty}, due ${r.settle_date}, into the fail account`, postings });
    f.quantity += dq; f.cash += dc; f.bookedQuantity += dq; f.bookedCash += dc; f.entries++; f.dirty = true;
    out.booked.push({ obligationId: r.id, account: f.account, quantity: fromMinor(dq, r.scale), cash: fromMinor(dc, r.cash_scale), date: r.settle_date, entryKey: key });
  }
  if (entries.length) {
    await openSettlementAccounts(c, entries, ctx);
    await postEntriesIn(c, entries, ctx, 'all');
  }
  await saveFailRecords(c, records.values(), ctx);
  return out;
}

/**
 * Book the fails as of a date into the ledger (see {@link bookFailsIn}), in one transaction.
 * @throws DomainError DATE_INVALID; ledger errors (a closed period)
 */
export async function bookFails(pool: Pool, asOf: string, ctx: Partial<SettlementCtx> = {}): Promise<FailBookingResult> {
  parseDate(asOf, 'as-of date');
  const c2 = { actor: ctx.actor ?? 'system', clock: ctx.clock ?? systemClock };
  return withTx(pool, (c) => bookFailsIn(c, { asOf }, c2));
}

export interface BuyInInput {
  /** Decimal string, positive, at most what remains of the fail. */
  quantity: string;
  /** Price per unit, decimal string, positive. */
  price: string;
  date: string;
  reason?: string;
}

export interface BuyInPlan {
  obligationId: string;
  counterparty: string;
  security: string;
  currency: string;
  direction: 'fail_to_deliver' | 'fail_to_receive';
  /** Who bears the cost difference: the failing counterparty (we buy in their fail to deliver to us), or the firm (it closes out its own fail to deliver). */
  chargeTo: 'counterparty' | 'firm';
  date: string;
  reason: string | null;
  quantity: string;
  price: string;
  /** quantity x original price (the fail's remaining cash, prorated), decimal string. */
  originalPrice: string;
  originalCost: string;
  /** quantity x buy-in price, rounded half-even to the currency's minor unit. */
  buyInCost: string;
  /** buyInCost - originalCost: positive when the buy-in costs more than the original trade. */
  costDifference: string;
  /** What remains of the fail after the buy-in, signed like the fail. */
  remainingQuantityAfter: string;
}

/**
 * Validates a buy-in against a fail and returns its record, with the cost against the original
 * price (the fail's remaining cash over its remaining quantity). Pure: nothing is stored (buy-ins.ts
 * stores buy-ins and books their execution with it).
 * @throws DomainError SETTLEMENT_BUY_IN_INVALID; AMOUNT_INVALID / AMOUNT_TOO_PRECISE; DATE_INVALID
 */
export function planBuyIn(fail: Fail, input: BuyInInput): BuyInPlan {
  const bad = (field: string, message: string) => invalid(FailsCodes.BUY_IN_INVALID, message, [{ record: fail.obligationId, field, rule: 'BUY_IN', message }]);
  if (fail.direction === 'cash_only') throw bad('direction', `obligation ${fail.obligationId} has no securities left to move; a buy-in needs a fail to deliver or receive`);
  const date = parseDate(input.date, 'buy-in date');
  if (date < fail.settleDate) throw bad('date', `buy-in date ${date} is before the settlement date ${fail.settleDate}`);
  const qty = toMinor(String(input.quantity ?? ''), fail.scale, 'buy-in quantity');
  const open = fail.remainingQuantityMinor < 0n ? -fail.remainingQuantityMinor : fail.remainingQuantityMinor;
  if (qty <= 0n) throw bad('quantity', `buy-in quantity ${input.quantity} must be positive`);
  if (qty > open) throw bad('quantity', `buy-in quantity ${input.quantity} is more than the ${fromMinor(open, fail.scale)} left of the fail`);
  if (typeof input.price !== 'string' || !/^\d+(\.\d+)?$/.test(input.price) || new Dec(input.price).lte(0)) throw bad('price', `buy-in price ${String(input.price)} must be a positive decimal string`);
  const remCash = fail.remainingCashMinor < 0n ? -fail.remainingCashMinor : fail.remainingCashMinor;
  const cashUnit = new Dec(10).pow(fail.cashScale);
  const qtyDec = new Dec(qty.toString()).div(new Dec(10).pow(fail.scale));
  // Prorated original cash for the quantity bought in, in minor units.
  const originalCost = roundToMinor(new Dec(remCash.toString()).mul(qty.toString()).div(open.toString()).div(cashUnit), fail.cashScale, 'half_even');
  const buyInCost = roundToMinor(new Dec(input.price).mul(qtyDec), fail.cashScale, 'half_even');
  const originalPrice = new Dec(remCash.toString()).div(cashUnit).div(new Dec(open.toString()).div(new Dec(10).pow(fail.scale)));
  const left = open - qty;
  const direction = fail.direction;
  return {
    obligationId: fail.obligationId, counterparty: fail.counterparty, security: fail.security, currency: fail.currency, direction,
    chargeTo: direction === 'fail_to_receive' ? 'counterparty' : 'firm',
    date, reason: input.reason ?? null,
    quantity: fromMinor(qty, fail.scale), price: input.price,
    originalPrice: originalPrice.toDecimalPlaces(Math.max(fail.cashScale, 6), Dec.ROUND_HALF_EVEN).toFixed(),
    originalCost: fromMinor(originalCost, fail.cashScale), buyInCost: fromMinor(buyInCost, fail.cashScale),
    costDifference: fromMinor(buyInCost - originalCost, fail.cashScale),
    remainingQuantityAfter: fromMinor(fail.remainingQuantityMinor < 0n ? -left : left, fail.scale),
  };
}

/** A plain table for terminals. */
function table(rows: Record<string, string>[], cols: string[], right: string[] = []): string {
  if (!rows.length) return '(none)';
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: Record<string, string>) => cols.map((c, i) => (right.includes(c) ? (r[c] ?? '').padStart(w[i]!) : (r[c] ?? '').padEnd(w[i]!))).join('  ').trimEnd();
  return [line(Object.fromEntries(cols.map((c) => [c, c]))), cols.map((_, i) => '-'.repeat(w[i]!)).join('  '), ...rows.map(line)].join('\n');
}

export function failsText(r: FailsReport): string {
  const dir = { fail_to_deliver: 'deliver', fail_to_receive: 'receive', cash_only: 'cash' } as const;
  return [
    `fails as of ${r.asOf}: ${r.fails.length}`,
    table(r.fails.map((f) => ({
      'settle date': f.settleDate, counterparty: f.counterparty, security: f.security, status: f.status, fail: dir[f.direction],
      remaining: f.remainingQuantity, cash: f.remainingCash, currency: f.currency, age: String(f.age), bucket: f.bucket,
      'close-out': f.closeOutDue ? `${f.closeOutDue} (${f.saleType})${f.closeOutOverdue ? ' OVERDUE' : ''}` : '',
    })), ['settle date', 'counterparty', 'security', 'status', 'fail', 'remaining', 'cash', 'currency', 'age', 'bucket', 'close-out'], ['remaining', 'cash', 'age']),
    '',
    `alerts: ${r.alerts.length}`,
    ...r.alerts.map((a) => `  ${a.kind}: ${a.message}`),
    '',
    'aging (settlement days)',
    table(r.buckets.filter((b) => b.count > 0).map((b) => ({
      bucket: b.bucket, fail: dir[b.direction], count: String(b.count), value: b.value.map((v) => `${v.amount} ${v.currency}`).join(', '),
    })), ['bucket', 'fail', 'count', 'value'], ['count']),
    '',
    `fail accounts in the ledger as of ${r.asOf}`,
    table((r.ledger ?? []).map((b) => ({ account: b.account, asset: b.asset, balance: b.balance })), ['account', 'asset', 'balance'], ['balance']),
  ].join('\n');
}

const FAILS_JSON = 'JSON output: {asOf, fails: [{obligationId, settleDate, counterparty, security, currency, market, status, direction '
  + '(fail_to_deliver|fail_to_receive|cash_only), quantity, cash, remainingQuantity, remainingCash, age, bucket, saleType, closeOutDue, '
  + 'closeOutOverdue, carriedInto, inLedger: {account, quantity, cash, failedOn} | null}], alerts: [{kind (CLOSE_OUT_DUE_TODAY|CLOSE_OUT_OVERDUE), obligationId, counterparty, security, closeOutDue, '
  + 'remainingQuantity, message}], buckets: [{bucket, direction, count, value: [{currency, amount}]}], ledger: [{account, counterparty, direction (to_receive|to_deliver), asset, balance}]}; '
  + 'amounts are decimal strings';

/**
 * Registers `settlement fails [--as-of D] [--json]` (under an existing `settlement` command if the
 * program has one).
 */
export function failsCommands(program: Command, withDb: WithDb, print: Print, clock: () => Clock = () => systemClock, actor: () => string = () => `cli:${os.userInfo().username}`): Command {
  const settlement = program.commands.find((c) => c.name() === 'settlement')
    ?? program.command('settlement').description('clearing and settlement: netting, obligations, instructions, fails');
  settlement.command('fails')
    .description('open fails as of a date (failed or partially settled obligations, and those past their settlement date and not settled): '
      + 'remaining quantity and cash, age in settlement days and aging bucket (1-5, 6-10, 11-20, 21-30, >30), Reg SHO Rule 204 close-out '
      + 'date of fails to deliver (short sale S+1, long sale S+3) with alerts for close-outs due today or overdue; the fail accounts of the ledger')
    .option('--as-of <date>', 'as-of date, YYYY-MM-DD (default: today, UTC)')
    .option('--book', 'first move the fails of the date (past due or reported failed) from the street side into the fail accounts of the ledger (idempotent)')
    .option('--json', FAILS_JSON)
    .action(async (o: { asOf?: string; book?: boolean; json?: boolean }) => {
      const asOf = o.asOf ?? clock().now().toISOString().slice(0, 10);
      parseDate(asOf, '--as-of');
      await withDb(async (db) => {
        if (o.book) {
          const b = await bookFails(db.pool, asOf, { actor: actor(), clock: clock() });
          if (!o.json) process.stderr.write(`booked ${b.booked.length} fail(s) into the fail accounts, ${b.carried.length} carried back to the street\n`);
        }
        const r = await listFails(db.pool, asOf);
        print(!!o.json, r, () => failsText(r));
      });
    });
  return settlement;
}
