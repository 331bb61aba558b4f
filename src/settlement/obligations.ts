/**
 * Net settlement obligations in the database: computed from the booked trades settling on a date
 * and the open fails of earlier dates, stored one per (settlement date, counterparty, security),
 * and recomputed in place while they are `pending`. Once an obligation has moved on (instructed,
 * matched, settled, failed), a recomputation that would change it is refused, not applied.
 */
import { createHash } from 'node:crypto';
import { withTx, type Client, type Pool } from '../db/index.js';
import { Dec, newId, parseDate, systemClock, toMinor, type Clock, type ErrorDetail } from '../kernel/index.js';
import { appendAudit } from '../ledger/index.js';
import { listLotEvents, splitQuantity } from '../trading/index.js';
import { SettlementCodes, settlementError } from './errors.js';
import { FAILS_LOCK } from './fails.js';
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
    await inCurrentUnits(c, settleDate, result.obligations, trades);

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

/** A booked trade as netting reads it, with its trade date (the units it is in). */
type TradeInput = NetInput & { quantity: string; tradeDate: string };

/**
 * The street side of a date's booked trades, as netting inputs (sorted, which the netting loop
 * likes). A trade in a symbol retired by a symbol change that took effect by `settleDate` settles
 * under the symbol that succeeded it: the corporate action moved its street side there.
 */
async function readTrades(c: Client, settleDate: string): Promise<TradeInput[]> {
  const { rows } = await c.query<{ id: string; counterparty: string; symbol: string; side: TradeSide; quantity: string; gross: string; currency: string; scale: number; cash_scale: number; trade_date: string }>(
    `SELECT t.id, t.counterparty, t.symbol, t.side, t.quantity, t.gross, t.currency, s.scale, a.scale AS cash_scale, t.trade_date::text AS trade_date
       FROM trades t JOIN securities s ON s.symbol = t.symbol JOIN assets a ON a.code = t.currency
      WHERE t.settle_date = $1 AND t.status = 'booked'
      ORDER BY t.counterparty, t.symbol`, [settleDate]);
  const retired = await retiredSymbols(c);
  const out = rows.map((r) => ({
    ref: r.id, counterparty: r.counterparty, symbol: currentSymbol(retired, r.symbol, settleDate), side: r.side, quantity: r.quantity, gross: BigInt(r.gross),
    currency: r.currency, settleDate, scale: r.scale, cashScale: r.cash_scale, tradeDate: r.trade_date,
  }));
  return retired.size ? out.sort((a, b) => (a.counterparty < b.counterparty ? -1 : a.counterparty > b.counterparty ? 1 : a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0)) : out;
}

// ---- corporate actions on open obligations -------------------------------------------------------
//
// A split or a symbol change applied by corporate actions (accounting/corporate-actions) moves the
// street side and the fail accounts of the security in the ledger to the new units or the new
// symbol on the effective date. The obligations still open then are that street side, so they
// follow it here, the way CSDs treat pending transactions under the market standards for corporate
// actions on flows (CAJWG; T2S CA standards): a reorganisation (new ISIN, or new units) is a
// *transformation*: the pending instruction is cancelled and replaced in the new terms, quantity
// x ratio rounded down, the cash unchanged. In T2S the issuer CSD does that itself, so an
// obligation already instructed is not instructed again; its record is brought to the new terms
// (the CSD's replacement instruction will match it), and one still pending is instructed in them.
// Where a market pays a split instead as a distribution of new shares on the same ISIN (forward
// splits at DTC, with due bills / market claims for trades that straddle the record date), the
// pending delivery would stay in old units and the new shares be claimed apart; our books adjust
// the street side at the effective date (a transformation), so settlement does the same, and the
// fraction each obligation loses is what the split's cash in lieu settles with the counterparty.
//
// Rounding is per obligation (the instruction is what is transformed), in units of the security,
// toward zero. Netting recomputes an obligation in the same units: trades dated before a split
// it settles after are converted with it (see inCurrentUnits), so a recomputation changes nothing.

/** A corporate action open obligations follow, as corporate actions applies it. */
export interface SecurityEvent {
  actionId: string;
  kind: 'split' | 'symbol_change';
  symbol: string;
  /** symbol_change: the symbol that succeeds `symbol` (absent or null: the symbol stays, identifiers change). */
  newSymbol?: string | null;
  /** symbol_change: the new ISIN, to say what instructions will carry. */
  newIsin?: string | null;
  /** The first day in the new units or identifiers. */
  effectiveDate: string;
  /** split: new for old (3-for-2: 3 and 2). */
  ratioNew?: string | null;
  ratioOld?: string | null;
}

/** One open obligation brought to the terms of a corporate action. */
export interface ObligationAdjustment {
  obligationId: string;
  settleDate: string;
  counterparty: string;
  status: ObligationStatus;
  symbol: string;
  newSymbol: string;
  quantity: string;
  newQuantity: string;
  /** What rounding down left out (settled by the split's cash in lieu); "0" when none. */
  fraction: string;
  /** A fail carried into a later date's obligation, which owes it now (and reports the fraction). */
  carriedInto?: string;
}

/** What a corporate action will do to the open obligations, and what stops it. */
export interface ObligationAdjustmentPlan {
  adjustments: ObligationAdjustment[];
  /** Blocking: an obligation that cannot move (its new key is taken). */
  problems: ErrorDetail[];
  /** What settlement will do without changing a row (new identifiers on the instructions). */
  notes: string[];
}

interface SplitEvent { actionId: string; effectiveDate: string; ratioNew: string; ratioOld: string }

/** Retired symbols: their successor and the last day they were valid. */
async function retiredSymbols(c: Client | Pool): Promise<Map<string, { successor: string; validUntil: string }>> {
  const { rows } = await c.query<{ symbol: string; successor: string; valid_until: string }>(
    'SELECT symbol, successor, valid_until::text AS valid_until FROM securities WHERE successor IS NOT NULL AND valid_until IS NOT NULL');
  return new Map(rows.map((r) => [r.symbol, { successor: r.successor, validUntil: r.valid_until }]));
}

/** The symbol `symbol` goes by on `date`, following symbol changes in force by then. */
function currentSymbol(retired: Map<string, { successor: string; validUntil: string }>, symbol: string, date: string): string {
  let cur = symbol;
  for (let hops = 0; hops < 32; hops++) {
    const r = retired.get(cur);
    if (!r || r.validUntil >= date) break;
    cur = r.successor;
  }
  return cur;
}

/** A symbol and the symbols it succeeded (trades and split events may be recorded under them). */
function lineageOf(retired: Map<string, { successor: string; validUntil: string }>, symbol: string): string[] {
  const out = [symbol];
  for (let i = 0; i < out.length && out.length < 32; i++) for (const [k, v] of retired) if (v.successor === out[i] && !out.includes(k)) out.push(k);
  return out;
}

/**
 * The splits settlement has brought its obligations to (recorded by {@link adjustObligationsIn}),
 * per symbol they acted on, oldest first; `except`: an action not to count. The split itself (date,
 * ratio) is trading's lot event, read through trading's index: settlement keeps no copy.
 */
async function recordedSplits(c: Client | Pool, except?: string): Promise<Map<string, SplitEvent[]>> {
  const { rows } = await c.query<{ action_id: string }>(
    'SELECT action_id FROM settlement_event_records WHERE action_id IS DISTINCT FROM $1', [except ?? null]);
  const bySymbol = new Map<string, SplitEvent[]>();
  if (!rows.length) return bySymbol;
  for (const e of await listLotEvents(c, { ids: rows.map((r) => r.action_id) })) {
    if (e.kind !== 'split' || !e.ratioNew || !e.ratioOld) continue;
    const list = bySymbol.get(e.symbol) ?? [];
    list.push({ actionId: e.id, effectiveDate: e.effectiveDate, ratioNew: e.ratioNew, ratioOld: e.ratioOld });
    bySymbol.set(e.symbol, list);
  }
  return bySymbol;
}

/** The splits of any of `symbols` (a security and the symbols it succeeded), oldest first. */
const splitsOf = (splits: Map<string, SplitEvent[]>, symbols: string[]): SplitEvent[] =>
  symbols.flatMap((s) => splits.get(s) ?? []).sort((a, b) =>
    (a.effectiveDate < b.effectiveDate ? -1 : a.effectiveDate > b.effectiveDate ? 1 : a.actionId < b.actionId ? -1 : a.actionId > b.actionId ? 1 : 0));

const signedQty = (t: { side: TradeSide; quantity: string }) => (t.side === 'buy' ? new Dec(t.quantity) : new Dec(t.quantity).neg());

/**
 * Trades settling on `settleDate` in the units after the splits they straddle (traded before the
 * effective date, settling on or after it): grouped by the splits they predate, each group's net
 * x the product of their ratios, rounded toward zero; gross likewise. `exact` is before rounding.
 */
function tradePart(trades: readonly { side: TradeSide; quantity: string; tradeDate: string }[], splits: readonly SplitEvent[], settleDate: string, scale: number) {
  const groups = new Map<string, { net: Dec; gross: Dec; factor: Dec }>();
  for (const t of trades) {
    const by = splits.filter((e) => t.tradeDate < e.effectiveDate && e.effectiveDate <= settleDate);
    const key = by.map((e) => e.actionId).join(',');
    const g = groups.get(key) ?? { net: new Dec(0), gross: new Dec(0), factor: by.reduce((f, e) => f.mul(e.ratioNew).div(e.ratioOld), new Dec(1)) };
    g.net = g.net.add(signedQty(t));
    g.gross = g.gross.add(t.quantity);
    groups.set(key, g);
  }
  let qty = new Dec(0), exact = new Dec(0), gross = new Dec(0);
  for (const g of groups.values()) {
    qty = qty.add(splitQuantity(g.net, g.factor.toString(), '1', scale));
    exact = exact.add(g.net.mul(g.factor));
    gross = gross.add(splitQuantity(g.gross, g.factor.toString(), '1', scale));
  }
  return { qty, exact, gross };
}

/** Netting's obligations of a date in the units after the splits their trades straddle (in place). */
async function inCurrentUnits(c: Client, settleDate: string, obligations: Obligation[], trades: readonly TradeInput[]): Promise<void> {
  if (!obligations.length) return;
  const recorded = await recordedSplits(c);
  if (![...recorded.values()].some((list) => list.some((e) => e.effectiveDate <= settleDate))) return;
  const retired = await retiredSymbols(c);
  for (const o of obligations) {
    const splits = splitsOf(recorded, lineageOf(retired, o.symbol)).filter((e) => e.effectiveDate <= settleDate);
    if (!splits.length) continue;
    const mine = trades.filter((t) => t.counterparty === o.counterparty && t.symbol === o.symbol);
    const raw = mine.reduce((a, t) => a.add(signedQty(t)), new Dec(0));
    const rawGross = mine.reduce((a, t) => a.add(t.quantity), new Dec(0));
    const part = tradePart(mine, splits, settleDate, o.scale);
    o.quantity += toMinor(part.qty.sub(raw).toFixed(), o.scale);
    o.grossQuantity += toMinor(part.gross.sub(rawGross).toFixed(), o.scale);
  }
}

/** An adjustment with the carried and gross quantities the row gets (unchanged when absent). */
type PlannedAdjustment = ObligationAdjustment & { carried?: string; gross?: string };

interface OpenObligationRow {
  id: string; settle_date: string; counterparty: string; symbol: string; status: ObligationStatus; scale: number;
  quantity: string; settled_quantity: string; carried_quantity: string; gross_quantity: string; carried_into: string | null;
}

/**
 * What a corporate action does to the obligations still open (not settled, something left to
 * move) in its security: a symbol change moves them to the new symbol (problem when that symbol
 * already has an obligation of the same date and counterparty: merge by hand); a split converts
 * their quantity (see the section comment); an identifier change without a new symbol changes no
 * row (instructions read the security's current ISIN) and says so in `notes`. Reads only.
 */
export async function planObligationAdjustments(c: Client | Pool, ev: SecurityEvent): Promise<ObligationAdjustmentPlan> {
  const plan = await planIn(c, ev);
  return { ...plan, adjustments: plan.adjustments.map(({ carried: _c, gross: _g, ...a }: PlannedAdjustment) => a) };
}

async function planIn(c: Client | Pool, ev: SecurityEvent): Promise<ObligationAdjustmentPlan & { adjustments: PlannedAdjustment[] }> {
  const { rows } = await c.query<OpenObligationRow>(
    `SELECT o.id, o.settle_date::text AS settle_date, o.counterparty, o.symbol, o.status, s.scale, o.quantity::text AS quantity,
            o.settled_quantity::text AS settled_quantity, o.carried_quantity::text AS carried_quantity, o.gross_quantity::text AS gross_quantity,
            o.carried_into::text AS carried_into
       FROM settlement_obligations o JOIN securities s ON s.symbol = o.symbol
      WHERE o.symbol = $1 AND o.status <> 'settled' AND o.quantity <> o.settled_quantity
      ORDER BY o.settle_date, o.counterparty`, [ev.symbol]);
  const plan: ObligationAdjustmentPlan & { adjustments: PlannedAdjustment[] } = { adjustments: [], problems: [], notes: [] };
  const line = (r: OpenObligationRow, newSymbol: string, newQuantity: string, fraction = '0'): ObligationAdjustment => ({
    obligationId: r.id, settleDate: r.settle_date, counterparty: r.counterparty, status: r.status, symbol: r.symbol, newSymbol,
    quantity: new Dec(r.quantity).toFixed(), newQuantity, fraction,
  });
  if (ev.kind === 'symbol_change') {
    if (!ev.newSymbol) {
      if (rows.length && ev.newIsin) plan.notes.push(`${rows.length} open settlement obligation(s) in ${ev.symbol} are instructed from ${ev.effectiveDate} on with ISIN ${ev.newIsin}`);
      return plan;
    }
    const taken = new Set((await c.query<{ k: string }>(
      "SELECT settle_date::text || ' ' || counterparty AS k FROM settlement_obligations WHERE symbol = $1", [ev.newSymbol])).rows.map((r) => r.k));
    for (const r of rows) {
      if (taken.has(`${r.settle_date} ${r.counterparty}`)) {
        plan.problems.push({ record: r.id, field: 'symbol', rule: 'OBLIGATION_EXISTS', message: `obligation ${r.id} (${r.counterparty} ${r.symbol} ${r.settle_date}) cannot move to ${ev.newSymbol}: ${r.counterparty} already has an obligation in ${ev.newSymbol} settling ${r.settle_date}; merge them by hand first` });
        continue;
      }
      plan.adjustments.push(line(r, ev.newSymbol, new Dec(r.quantity).toFixed()));
    }
    return plan;
  }
  const E = ev.effectiveDate;
  const rn = ev.ratioNew!, ro = ev.ratioOld!;
  const retired = await retiredSymbols(c);
  const prior = splitsOf(await recordedSplits(c, ev.actionId), lineageOf(retired, ev.symbol));
  const all = [...prior, { actionId: ev.actionId, effectiveDate: E, ratioNew: rn, ratioOld: ro }]
    .sort((a, b) => (a.effectiveDate < b.effectiveDate ? -1 : a.effectiveDate > b.effectiveDate ? 1 : 0));
  // What the fails carried into a later date change by, per (date, counterparty).
  const carried = new Map<string, Dec>();
  for (const r of rows) {
    const q = new Dec(r.quantity), settled = new Dec(r.settled_quantity);
    if (r.settle_date < E) {
      // Settling before the split: everything still owed is in old units.
      const rest = q.sub(settled);
      const next = splitQuantity(rest, rn, ro, r.scale);
      if (r.carried_into) carried.set(`${r.carried_into} ${r.counterparty}`, (carried.get(`${r.carried_into} ${r.counterparty}`) ?? new Dec(0)).add(next.sub(rest)));
      if (next.eq(rest)) continue;
      // A fail carried on is owed by the obligation it was carried into: that one reports the fraction.
      const fraction = r.carried_into ? '0' : rest.mul(rn).div(ro).sub(next).toFixed();
      plan.adjustments.push({ ...line(r, r.symbol, settled.add(next).toFixed(), fraction), ...(r.carried_into ? { carriedInto: r.carried_into } : {}) });
      continue;
    }
    const { rows: trades } = await c.query<{ side: TradeSide; quantity: string; tradeDate: string }>(
      `SELECT side, quantity::text AS quantity, trade_date::text AS "tradeDate" FROM trades
        WHERE settle_date = $1 AND counterparty = $2 AND symbol = ANY($3) AND status = 'booked'`, [r.settle_date, r.counterparty, lineageOf(retired, r.symbol)]);
    const before = tradePart(trades, prior, r.settle_date, r.scale);
    const after = tradePart(trades, all, r.settle_date, r.scale);
    const carry = carried.get(`${r.settle_date} ${r.counterparty}`) ?? new Dec(0);
    const next = q.add(after.qty.sub(before.qty)).add(carry);
    if (next.eq(q)) continue;
    const oldCarried = new Dec(r.carried_quantity), newCarried = oldCarried.add(carry);
    plan.adjustments.push({
      ...line(r, r.symbol, next.toFixed(), after.exact.sub(after.qty).sub(before.exact.sub(before.qty)).toFixed()),
      carried: newCarried.toFixed(),
      gross: new Dec(r.gross_quantity).add(after.gross.sub(before.gross)).add(newCarried.abs().sub(oldCarried.abs())).toFixed(),
    });
  }
  return plan;
}

/**
 * The locks a corporate action's apply takes BEFORE the books lock, in the order the settlement
 * side takes them (fails, then netting, then the books: see applyStatuses and the buy-ins), so that
 * an apply beside a status import or a netting run waits instead of deadlocking.
 */
export async function lockForSecurityEvent(c: Client): Promise<void> {
  await c.query('SELECT pg_advisory_xact_lock($1)', [FAILS_LOCK]);
  await c.query('SELECT pg_advisory_xact_lock($1)', [NETTING_LOCK]);
}

/**
 * A split settlement follows is trading's lot event (corporate actions' apply records it there
 * first, in the same transaction): netting reads its date and ratio from there ever after, so a
 * split trading does not know, or knows in other terms, is refused.
 * @throws DomainError SETTLEMENT_SECURITY_EVENT_UNKNOWN (unexpected_state)
 */
async function expectLotEvent(c: Client, ev: SecurityEvent): Promise<void> {
  const [e] = await listLotEvents(c, { ids: [ev.actionId] });
  const same = !!e && e.kind === 'split' && e.symbol === ev.symbol && e.effectiveDate === ev.effectiveDate
    && !!e.ratioNew && !!e.ratioOld && !!ev.ratioNew && !!ev.ratioOld && new Dec(e.ratioNew).eq(ev.ratioNew) && new Dec(e.ratioOld).eq(ev.ratioOld);
  if (same) return;
  const terms = (x: { symbol: string; effectiveDate: string; ratioNew?: string | null; ratioOld?: string | null }) =>
    `${x.symbol} ${x.ratioNew}-for-${x.ratioOld} effective ${x.effectiveDate}`;
  const message = e
    ? `split ${ev.actionId} (${terms(ev)}) differs from trading's lot event of that id (${e.kind === 'split' ? terms(e) : e.kind})`
    : `split ${ev.actionId} (${terms(ev)}) is not among trading's lot events: record it there first (applyLotEvent), in the same transaction`;
  throw settlementError(SettlementCodes.SECURITY_EVENT_UNKNOWN, message, [{ record: ev.actionId, field: 'actionId', rule: 'LOT_EVENT', message }], 'unexpected_state');
}

/**
 * Bring the open obligations to the terms of a corporate action being applied, in the caller's
 * transaction (corporate actions' apply, after trading recorded the split as a lot event): records
 * that settlement followed the action (who, when), then applies {@link planObligationAdjustments}:
 * symbol, quantity (and its carried and gross parts), the open fail record's symbol and quantity
 * (its fail account moved in the ledger), one adjustment row and one audit event
 * (settlement.obligation.adjust) per obligation; the cash is unchanged. Idempotent: an action
 * recorded before changes nothing and returns what it did then.
 * @throws DomainError SETTLEMENT_OBLIGATION_LOCKED (conflict) naming each obligation that cannot
 *   move; SETTLEMENT_SECURITY_EVENT_UNKNOWN (unexpected_state) for a split trading has not recorded
 */
export async function adjustObligationsIn(c: Client, ev: SecurityEvent, ctx: SettlementCtx): Promise<ObligationAdjustment[]> {
  await c.query('SELECT pg_advisory_xact_lock($1)', [NETTING_LOCK]);
  const now = ctx.clock.now();
  if (ev.kind === 'split') await expectLotEvent(c, ev);
  const recorded = await c.query(
    'INSERT INTO settlement_event_records (action_id, recorded_at, recorded_by) VALUES ($1, $2, $3) ON CONFLICT (action_id) DO NOTHING',
    [ev.actionId, now.toISOString(), ctx.actor]);
  if (!recorded.rowCount) return storedAdjustments(c, ev.actionId);
  const plan = await planIn(c, ev);
  if (plan.problems.length) {
    throw settlementError(SettlementCodes.OBLIGATION_LOCKED, `${plan.problems.length} open obligation(s) cannot follow ${ev.actionId}; nothing was changed. First: ${plan.problems[0]!.message}`, plan.problems, 'conflict');
  }
  if (!plan.adjustments.length) return [];
  const ids = plan.adjustments.map((a) => a.obligationId);
  const cur = new Map((await c.query<{ id: string; carried_quantity: string; gross_quantity: string }>(
    `SELECT id, carried_quantity::text AS carried_quantity, gross_quantity::text AS gross_quantity
       FROM settlement_obligations WHERE id = ANY($1) FOR UPDATE`, [ids])).rows.map((r) => [r.id, r]));
  const events: Parameters<typeof appendAudit>[1] = [];
  for (const a of plan.adjustments) {
    const r = cur.get(a.obligationId)!;
    const delta = new Dec(a.newQuantity).sub(a.quantity);
    // A fail of a date before the split keeps its date's carried and gross figures; a later date's
    // obligation gets those netting would compute now (see planIn).
    const carried = new Dec(r.carried_quantity), gross = new Dec(r.gross_quantity);
    const newCarried = a.carried !== undefined ? new Dec(a.carried) : carried;
    const newGross = a.gross !== undefined ? new Dec(a.gross) : gross;
    await c.query(
      `UPDATE settlement_obligations SET symbol = $2, quantity = $3, carried_quantity = $4, gross_quantity = $5, updated_at = $6, updated_by = $7 WHERE id = $1`,
      [a.obligationId, a.newSymbol, a.newQuantity, newCarried.toFixed(), newGross.toFixed(), now.toISOString(), ctx.actor]);
    await c.query(
      `INSERT INTO settlement_obligation_adjustments (obligation_id, action_id, symbol_before, symbol_after, quantity_before, quantity_after,
         carried_before, carried_after, gross_before, gross_after, fraction, adjusted_at, adjusted_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [a.obligationId, ev.actionId, a.symbol, a.newSymbol, a.quantity, a.newQuantity, carried.toFixed(), newCarried.toFixed(), gross.toFixed(), newGross.toFixed(),
        a.fraction, now.toISOString(), ctx.actor]);
    // What of it sits in a fail account moved with the account in the ledger: its fail record follows.
    await c.query(
      `UPDATE settlement_fails f SET symbol = $2, quantity = trunc(f.quantity * $3 / $4, s.scale), booked_quantity = trunc(f.booked_quantity * $3 / $4, s.scale),
              updated_at = $5, updated_by = $6
         FROM securities s WHERE s.symbol = $2 AND f.obligation_id = $1 AND f.status = 'open'`,
      [a.obligationId, a.newSymbol, ev.kind === 'split' ? ev.ratioNew : '1', ev.kind === 'split' ? ev.ratioOld : '1', now.toISOString(), ctx.actor]);
    const data = { action: ev.actionId, kind: ev.kind, settleDate: a.settleDate, counterparty: a.counterparty, status: a.status,
      before: { symbol: a.symbol, quantity: a.quantity }, after: { symbol: a.newSymbol, quantity: a.newQuantity }, change: delta.toFixed(), fraction: a.fraction };
    events.push({ actor: ctx.actor, action: 'settlement.obligation.adjust', entity: 'settlement_obligations', entityId: a.obligationId, data,
      rowHash: createHash('sha256').update(JSON.stringify(data)).digest('hex'), at: now });
  }
  await appendAudit(c, events);
  return plan.adjustments;
}

async function storedAdjustments(c: Client, actionId: string): Promise<ObligationAdjustment[]> {
  const { rows } = await c.query<{ obligation_id: string; settle_date: string; counterparty: string; status: ObligationStatus; symbol_before: string; symbol_after: string; quantity_before: string; quantity_after: string; fraction: string }>(
    `SELECT a.obligation_id, o.settle_date::text AS settle_date, o.counterparty, o.status, a.symbol_before, a.symbol_after,
            a.quantity_before::text AS quantity_before, a.quantity_after::text AS quantity_after, a.fraction::text AS fraction
       FROM settlement_obligation_adjustments a JOIN settlement_obligations o ON o.id = a.obligation_id
      WHERE a.action_id = $1 ORDER BY o.settle_date, o.counterparty`, [actionId]);
  return rows.map((r) => ({ obligationId: r.obligation_id, settleDate: r.settle_date, counterparty: r.counterparty, status: r.status,
    symbol: r.symbol_before, newSymbol: r.symbol_after, quantity: new Dec(r.quantity_before).toFixed(), newQuantity: new Dec(r.quantity_after).toFixed(), fraction: new Dec(r.fraction).toFixed() }));
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
