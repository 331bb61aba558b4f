/**
 * Net settlement obligations in the database: computed from the booked trades settling on a date
 * and the open fails of earlier dates, stored one per (settlement date, counterparty, security),
 * and recomputed in place while they are `pending`. Once an obligation has moved on (instructed,
 * matched, settled, failed), a recomputation that would change it is refused, not applied.
 */
import { withTx, type Client, type Pool } from '../db/index.js';
import { newId, parseDate, systemClock, toMinor, type Clock, type ErrorDetail } from '../kernel/index.js';
import { SettlementCodes, settlementError } from './errors.js';
import {
  net, netCashOf, netCashView, nettingReportOf, obligationView,
  type FailInput, type NetCashView, type NetInput, type NettingReport, type Obligation, type ObligationStatus, type ObligationView, type TradeSide,
} from './netting.js';

export interface SettlementCtx {
  actor: string;
  clock: Clock;
}

/** What a netting run did to the stored obligations of its date. */
export interface ObligationChanges {
  created: number;
  updated: number;
  unchanged: number;
  /** Pending obligations no longer owed (their trades were canceled), deleted. */
  removed: number;
  /** Open fails of earlier dates carried into this date. */
  carried: number;
}

/** The net of one settlement date, as stored. */
export interface NettingRun {
  settleDate: string;
  /** Per (counterparty, security): quantity + to receive / - to deliver, cash + to receive / - to pay. */
  obligations: ObligationView[];
  /** One money settlement per (counterparty, currency) across all securities. */
  netCash: NetCashView[];
  report: NettingReport;
  changes: ObligationChanges;
}

/** The netting report of a stored settlement date. */
export type DatedNettingReport = { settleDate: string } & NettingReport;

/** Serialises netting runs: two at once would race on the same rows and fails. */
const NETTING_LOCK = 7243005;

interface StoredRow {
  id: string;
  settle_date: string;
  counterparty: string;
  symbol: string;
  currency: string;
  quantity: string;
  cash: string;
  status: ObligationStatus;
  trades: number;
  fails: number;
  carried_quantity: string;
  carried_cash: string;
  gross_quantity: string;
  gross_cash: string;
  scale: number;
  cash_scale: number;
}

const STORED = `SELECT o.id, o.settle_date, o.counterparty, o.symbol, o.currency, o.quantity, o.cash, o.status, o.trades, o.fails,
    o.carried_quantity, o.carried_cash, o.gross_quantity, o.gross_cash, s.scale, a.scale AS cash_scale
  FROM settlement_obligations o JOIN securities s ON s.symbol = o.symbol JOIN assets a ON a.code = o.currency`;

function toObligation(r: StoredRow): Obligation {
  return {
    settleDate: r.settle_date, counterparty: r.counterparty, symbol: r.symbol, currency: r.currency, scale: r.scale, cashScale: r.cash_scale,
    quantity: toMinor(r.quantity, r.scale), cash: BigInt(r.cash), trades: r.trades, fails: r.fails,
    carriedQuantity: toMinor(r.carried_quantity, r.scale), carriedCash: BigInt(r.carried_cash),
    grossQuantity: toMinor(r.gross_quantity, r.scale), grossCash: BigInt(r.gross_cash),
  };
}

const same = (a: Obligation, b: Obligation) =>
  a.currency === b.currency && a.quantity === b.quantity && a.cash === b.cash && a.trades === b.trades && a.fails === b.fails &&
  a.carriedQuantity === b.carriedQuantity && a.carriedCash === b.carriedCash && a.grossQuantity === b.grossQuantity && a.grossCash === b.grossCash;

const keyOf = (o: { counterparty: string; symbol: string }) => `${o.counterparty}\u0000${o.symbol}`;

/**
 * Net the booked trades settling on `settleDate` (street side, at their gross; canceled and
 * corrected trades are out, their replacements in), with the open fails of earlier dates (failed
 * or partially settled, not yet carried elsewhere) carried forward with what remains of them, and
 * store the result: one obligation per (counterparty, security), upserted. Idempotent: a second
 * run with nothing new changes nothing. Pending obligations that are no longer owed are removed.
 * All or nothing, in one transaction.
 * @throws DomainError DATE_INVALID; SETTLEMENT_OBLIGATION_LOCKED (conflict) when an obligation
 *   past `pending` would change or disappear, naming each; SETTLEMENT_* from {@link net}
 */
export async function computeObligations(pool: Pool, settleDate: string, ctx: Partial<SettlementCtx> = {}): Promise<NettingRun> {
  parseDate(settleDate, 'settlement date');
  const actor = ctx.actor ?? 'system';
  const now = (ctx.clock ?? systemClock).now().toISOString();
  return withTx(pool, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock($1)', [NETTING_LOCK]);
    const trades = await readTrades(c, settleDate);
    const fails = await c.query<{ id: string; counterparty: string; symbol: string; currency: string; remaining_quantity: string; remaining_cash: string; scale: number; cash_scale: number }>(
      `SELECT o.id, o.counterparty, o.symbol, o.currency, o.quantity - o.settled_quantity AS remaining_quantity,
              o.cash - o.settled_cash AS remaining_cash, s.scale, a.scale AS cash_scale
         FROM settlement_obligations o JOIN securities s ON s.symbol = o.symbol JOIN assets a ON a.code = o.currency
        WHERE o.settle_date < $1 AND o.status IN ('failed', 'partially_settled') AND (o.carried_into IS NULL OR o.carried_into = $1)
        ORDER BY o.settle_date, o.counterparty, o.symbol
        FOR UPDATE OF o`, [settleDate]);
    const open = fails.rows.filter((f) => !/^-?0*(\.0*)?$/.test(f.remaining_quantity) || f.remaining_cash !== '0');
    const failInputs: FailInput[] = open.map((f) => ({
      ref: f.id, counterparty: f.counterparty, symbol: f.symbol, currency: f.currency, settleDate,
      quantity: f.remaining_quantity, cash: BigInt(f.remaining_cash), scale: f.scale, cashScale: f.cash_scale,
    }));
    const result = net(trades, failInputs);

    const stored = await c.query<StoredRow>(`${STORED} WHERE o.settle_date = $1 ORDER BY o.counterparty, o.symbol FOR UPDATE OF o`, [settleDate]);
    const before = new Map(stored.rows.map((r) => [keyOf(r), r]));
    const changes: ObligationChanges = { created: 0, updated: 0, unchanged: 0, removed: 0, carried: open.length };
    const conflicts: ErrorDetail[] = [];
    const write: Obligation[] = [];
    const status = new Map<string, ObligationStatus>();
    for (const o of result.obligations) {
      const k = keyOf(o);
      const old = before.get(k);
      before.delete(k);
      if (!old) { changes.created++; write.push(o); status.set(k, 'pending'); continue; }
      status.set(k, old.status);
      if (same(toObligation(old), o)) { changes.unchanged++; continue; }
      if (old.status !== 'pending') {
        const was = obligationView(toObligation(old)), next = obligationView(o);
        conflicts.push({ record: old.id, field: 'status', rule: 'NOT_PENDING', message: `obligation ${old.id} (${o.counterparty} ${o.symbol} ${settleDate}) is ${old.status}: its net would change from ${was.quantity} against ${was.cash} ${o.currency} to ${next.quantity} against ${next.cash} ${o.currency}` });
        continue;
      }
      changes.updated++;
      write.push(o);
    }
    const gone = [...before.values()];
    for (const g of gone) {
      if (g.status !== 'pending') conflicts.push({ record: g.id, field: 'status', rule: 'NOT_PENDING', message: `obligation ${g.id} (${g.counterparty} ${g.symbol} ${settleDate}) is ${g.status} but nothing is owed any more` });
    }
    if (conflicts.length) {
      throw settlementError(SettlementCodes.OBLIGATION_LOCKED,
        `${conflicts.length} obligation(s) of ${settleDate} are past pending and would change; nothing was written. First: ${conflicts[0]!.message}`, conflicts, 'conflict');
    }
    if (gone.length) {
      await c.query("DELETE FROM settlement_obligations WHERE id = ANY($1) AND status = 'pending'", [gone.map((g) => g.id)]);
      changes.removed = gone.length;
    }
    if (write.length) {
      const views = write.map((o) => obligationView(o));
      await c.query(
        `INSERT INTO settlement_obligations (id, settle_date, counterparty, symbol, currency, quantity, cash, trades, fails,
            carried_quantity, carried_cash, gross_quantity, gross_cash, created_at, updated_at, updated_by)
         SELECT u.id, $2::date, u.cp, u.sym, u.cur, u.q, u.c, u.t, u.f, u.cq, u.cc, u.gq, u.gc, $3::timestamptz, $3::timestamptz, $4
           FROM unnest($1::text[], $5::text[], $6::text[], $7::text[], $8::numeric[], $9::numeric[], $10::int[], $11::int[],
                       $12::numeric[], $13::numeric[], $14::numeric[], $15::numeric[]) AS u(id, cp, sym, cur, q, c, t, f, cq, cc, gq, gc)
         ON CONFLICT (settle_date, counterparty, symbol) DO UPDATE SET
           currency = excluded.currency, quantity = excluded.quantity, cash = excluded.cash, trades = excluded.trades, fails = excluded.fails,
           carried_quantity = excluded.carried_quantity, carried_cash = excluded.carried_cash,
           gross_quantity = excluded.gross_quantity, gross_cash = excluded.gross_cash,
           updated_at = excluded.updated_at, updated_by = excluded.updated_by
         WHERE settlement_obligations.status = 'pending'`,
        [write.map(() => newId('sob')), settleDate, now, actor,
          write.map((o) => o.counterparty), write.map((o) => o.symbol), write.map((o) => o.currency),
          views.map((v) => v.quantity), write.map((o) => o.cash.toString()), write.map((o) => o.trades), write.map((o) => o.fails),
          views.map((v) => v.carriedQuantity), write.map((o) => o.carriedCash.toString()),
          views.map((v) => v.grossQuantity), write.map((o) => o.grossCash.toString())]);
    }
    // A fail is owed on one date only: mark what this date carries, release what it no longer does.
    const carriedIds = open.map((f) => f.id);
    await c.query('UPDATE settlement_obligations SET carried_into = $1, updated_at = $3, updated_by = $4 WHERE id = ANY($2) AND carried_into IS DISTINCT FROM $1',
      [settleDate, carriedIds, now, actor]);
    await c.query('UPDATE settlement_obligations SET carried_into = NULL, updated_at = $3, updated_by = $4 WHERE carried_into = $1 AND NOT (id = ANY($2))',
      [settleDate, carriedIds, now, actor]);

    return {
      settleDate,
      obligations: result.obligations.map((o) => obligationView(o, status.get(keyOf(o)))),
      netCash: result.netCash.map(netCashView),
      report: nettingReportOf(result.obligations, result.netCash),
      changes,
    };
  });
}

/** The street side of a date's booked trades, as netting inputs (sorted, which the netting loop likes). */
async function readTrades(c: Client, settleDate: string): Promise<NetInput[]> {
  const { rows } = await c.query<{ id: string; counterparty: string; symbol: string; side: TradeSide; quantity: string; gross: string; currency: string; scale: number; cash_scale: number }>(
    `SELECT t.id, t.counterparty, t.symbol, t.side, t.quantity, t.gross, t.currency, s.scale, a.scale AS cash_scale
       FROM trades t JOIN securities s ON s.symbol = t.symbol JOIN assets a ON a.code = t.currency
      WHERE t.settle_date = $1 AND t.status = 'booked'
      ORDER BY t.counterparty, t.symbol`, [settleDate]);
  return rows.map((r) => ({
    ref: r.id, counterparty: r.counterparty, symbol: r.symbol, side: r.side, quantity: r.quantity, gross: BigInt(r.gross),
    currency: r.currency, settleDate, scale: r.scale, cashScale: r.cash_scale,
  }));
}

export interface ObligationQuery {
  settleDate: string;
  counterparty?: string;
  status?: ObligationStatus;
}

/**
 * Stored obligations of a date, by counterparty and security.
 * @throws DomainError DATE_INVALID
 */
export async function listObligations(pool: Pool | Client, q: ObligationQuery): Promise<ObligationView[]> {
  parseDate(q.settleDate, 'settlement date');
  const { rows } = await pool.query<StoredRow>(
    `${STORED} WHERE o.settle_date = $1 AND ($2::text IS NULL OR o.counterparty = $2) AND ($3::text IS NULL OR o.status = $3)
      ORDER BY o.counterparty, o.symbol`, [q.settleDate, q.counterparty ?? null, q.status ?? null]);
  return rows.map((r) => obligationView(toObligation(r), r.status));
}

/**
 * Gross against net obligations of a stored settlement date, and the reduction netting brought
 * (see {@link NettingReport}). A date not netted yet reports zeros.
 * @throws DomainError DATE_INVALID
 */
export async function nettingReport(pool: Pool | Client, settleDate: string): Promise<DatedNettingReport> {
  parseDate(settleDate, 'settlement date');
  const { rows } = await pool.query<StoredRow>(`${STORED} WHERE o.settle_date = $1 ORDER BY o.counterparty, o.symbol`, [settleDate]);
  const obligations = rows.map(toObligation);
  return { settleDate, ...nettingReportOf(obligations, netCashOf(obligations)) };
}
