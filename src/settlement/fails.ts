/**
 * Fails management: the open fails of the settlement obligations as of a date, their age in
 * settlement days, aging buckets, Reg SHO Rule 204 close-out dates for fails to deliver, and the
 * plan of a buy-in.
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
 * Buy-ins are planned, not stored: {@link planBuyIn} validates a buy-in against a fail and returns
 * the record with its cost against the original price. There is no table for buy-ins yet;
 * persisting them (and reducing the fail) is left for later.
 *
 * Money is bigint minor units inside, decimal strings outside; never a JS number.
 */
import type { Command } from 'commander';
import type { Pool } from '../db/index.js';
import { addBusinessDays, businessDays, markets } from '../calendar/index.js';
import { Dec, fromMinor, invalid, parseDate, roundToMinor, systemClock, toMinor, type Clock } from '../kernel/index.js';
import type { ObligationStatus } from './netting.js';
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
}

/** A fail as printed / sent (no bigints). */
export type FailView = Omit<Fail, 'remainingQuantityMinor' | 'remainingCashMinor' | 'scale' | 'cashScale'>;

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

/** Normalises a numeric from the database to at most `scale` decimals (trailing zeros trimmed). */
function minorOf(text: string, scale: number): bigint {
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
      WHERE (o.status IN ('failed', 'partially_settled') OR (o.status IN ('pending', 'instructed', 'matched') AND o.settle_date < $1::date))
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
  return { asOf, fails: fails.map(failView), alerts: failAlerts(fails, asOf), buckets: agingBuckets(fails) };
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
 * price (the fail's remaining cash over its remaining quantity). Pure: nothing is stored (there is
 * no buy-in table yet; persistence is left for later).
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
  ].join('\n');
}

const FAILS_JSON = 'JSON output: {asOf, fails: [{obligationId, settleDate, counterparty, security, currency, market, status, direction '
  + '(fail_to_deliver|fail_to_receive|cash_only), quantity, cash, remainingQuantity, remainingCash, age, bucket, saleType, closeOutDue, '
  + 'closeOutOverdue, carriedInto}], alerts: [{kind (CLOSE_OUT_DUE_TODAY|CLOSE_OUT_OVERDUE), obligationId, counterparty, security, closeOutDue, '
  + 'remainingQuantity, message}], buckets: [{bucket, direction, count, value: [{currency, amount}]}]}; amounts are decimal strings';

/**
 * Registers `settlement fails [--as-of D] [--json]` (under an existing `settlement` command if the
 * program has one).
 */
export function failsCommands(program: Command, withDb: WithDb, print: Print, clock: () => Clock = () => systemClock): Command {
  const settlement = program.commands.find((c) => c.name() === 'settlement')
    ?? program.command('settlement').description('clearing and settlement: netting, obligations, instructions, fails');
  settlement.command('fails')
    .description('open fails as of a date (failed or partially settled obligations, and those past their settlement date and not settled): '
      + 'remaining quantity and cash, age in settlement days and aging bucket (1-5, 6-10, 11-20, 21-30, >30), Reg SHO Rule 204 close-out '
      + 'date of fails to deliver (short sale S+1, long sale S+3) with alerts for close-outs due today or overdue')
    .option('--as-of <date>', 'as-of date, YYYY-MM-DD (default: today, UTC)')
    .option('--json', FAILS_JSON)
    .action(async (o: { asOf?: string; json?: boolean }) => {
      const asOf = o.asOf ?? clock().now().toISOString().slice(0, 10);
      parseDate(asOf, '--as-of');
      await withDb(async (db) => {
        const r = await listFails(db.pool, asOf);
        print(!!o.json, r, () => failsText(r));
      });
    });
  return settlement;
}
