/**
 * Buy-ins: when a counterparty fails to deliver securities it owes us (our fail to receive) past
 * its close-out date, we buy them elsewhere and charge it the difference. A buy-in is a stored,
 * stateful record:
 *   planned   created against the fail (quantity at most what is left of it and not already in
 *             another open buy-in; an indicative price optional)
 *   notified  the buy-in notice went to the failing counterparty
 *   executed  bought at a price on a date: booked (see below), the fail reduced or closed
 *   cancelled with a reason (from planned or notified)
 * Every step records who and when and is audited (settlement.buy_in.create / .notify / .execute /
 * .cancel).
 *
 * Close-out date: the counterparty's fail to deliver to us is its Reg SHO Rule 204 matter; we take
 * the long-sale date, the third settlement day after the settlement date (S+3), as the date from
 * which a buy-in may execute (an earlier execution is refused).
 *
 * Execution, in the ledger (entry `buy-in:<id>`, dated the execution date), for q bought at p:
 *   assets:depository:<place>           +q            the securities, bought elsewhere, arrive
 *   assets:bank:settlement:<ccy>        -q x p        we pay for them
 *   assets:fails:to-receive:<cpty>      -q, +c        the fail closes: the q it owed and the c we owed for them
 *   assets:receivable:buy-ins:<cpty>    q x p - c     the difference, charged to the failing counterparty
 * where c is the original cash of the quantity (the fail's cash, prorated; see planBuyIn). The
 * fail must be in its fail account (it is booked first when it is not yet). The obligation counts
 * the quantity and cash as settled (a status event `bought_in` records it): it is settled when
 * nothing is left. A fail carried into a later date's net is bought in on that later obligation.
 */
import os from 'node:os';
import type { Command } from 'commander';
import { withTx, type Client, type Pool } from '../db/index.js';
import { appendAudit, lockBooks, postEntriesIn } from '../ledger/index.js';
import { DomainError, Dec, fromMinor, newId, parseDate, systemClock, toMinor, type Clock } from '../kernel/index.js';
import {
  FAILS_LOCK, FailsCodes, bookFailsIn, closeOutDue, failOf, failRecordsIn, minorOf, openSettlementAccounts, planBuyIn, saveFailRecords, type Fail,
} from './fails.js';
import { rowDigest } from './ssi.js';
import type { SettlementCtx } from './obligations.js';
import type { Print, WithDb } from './cli.js';

export const BuyInCodes = {
  /** No such buy-in or obligation. */
  NOT_FOUND: 'SETTLEMENT_BUY_IN_NOT_FOUND',
  /** The step does not follow from the buy-in's state (e.g. executing a cancelled one). */
  STATE: 'SETTLEMENT_BUY_IN_STATE',
  /** The buy-in does not fit its fail (direction, quantity, price, date, a carried fail). */
  INVALID: FailsCodes.BUY_IN_INVALID,
  /** Executing before the close-out date. */
  TOO_EARLY: 'SETTLEMENT_BUY_IN_TOO_EARLY',
} as const;

export type BuyInStatus = 'planned' | 'notified' | 'executed' | 'cancelled';
export const BUY_IN_STATUSES: readonly BuyInStatus[] = ['planned', 'notified', 'executed', 'cancelled'];

export interface BuyIn {
  id: string;
  obligationId: string;
  counterparty: string;
  security: string;
  currency: string;
  /** Decimal strings. */
  quantity: string;
  price: string | null;
  closeOutDue: string;
  plannedFor: string;
  reason: string | null;
  status: BuyInStatus;
  createdAt: string;
  createdBy: string;
  notifiedAt: string | null;
  notifiedBy: string | null;
  executedOn: string | null;
  executedPrice: string | null;
  buyInCost: string | null;
  originalCost: string | null;
  /** Charged to the counterparty: positive, it owes us. */
  costDifference: string | null;
  entryKey: string | null;
  executedAt: string | null;
  executedBy: string | null;
  cancelledAt: string | null;
  cancelledBy: string | null;
  cancelReason: string | null;
}

interface Row {
  id: string; obligation_id: string; counterparty: string; symbol: string; currency: string; quantity: string; price: string | null;
  close_out_due: string; planned_for: string; reason: string | null; status: BuyInStatus; created_at: Date | string; created_by: string;
  notified_at: Date | string | null; notified_by: string | null; executed_on: string | null; executed_price: string | null;
  buy_in_cost: string | null; original_cost: string | null; cost_difference: string | null; entry_key: string | null;
  executed_at: Date | string | null; executed_by: string | null; cancelled_at: Date | string | null; cancelled_by: string | null; cancel_reason: string | null;
  cash_scale: number;
}

const COLS = `b.id, b.obligation_id, b.counterparty, b.symbol, b.currency, b.quantity::text AS quantity, b.price::text AS price,
  b.close_out_due::text AS close_out_due, b.planned_for::text AS planned_for, b.reason, b.status, b.created_at, b.created_by, b.notified_at, b.notified_by,
  b.executed_on::text AS executed_on, b.executed_price::text AS executed_price, b.buy_in_cost::text AS buy_in_cost, b.original_cost::text AS original_cost,
  b.cost_difference::text AS cost_difference, b.entry_key, b.executed_at, b.executed_by, b.cancelled_at, b.cancelled_by, b.cancel_reason, a.scale AS cash_scale`;
const FROM = 'settlement_buy_ins b JOIN assets a ON a.code = b.currency';

const iso = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString());
const money = (v: string | null, scale: number) => (v === null ? null : fromMinor(BigInt(v), scale));

const view = (r: Row): BuyIn => ({
  id: r.id, obligationId: r.obligation_id, counterparty: r.counterparty, security: r.symbol, currency: r.currency, quantity: r.quantity, price: r.price,
  closeOutDue: r.close_out_due, plannedFor: r.planned_for, reason: r.reason, status: r.status, createdAt: iso(r.created_at)!, createdBy: r.created_by,
  notifiedAt: iso(r.notified_at), notifiedBy: r.notified_by, executedOn: r.executed_on, executedPrice: r.executed_price,
  buyInCost: money(r.buy_in_cost, r.cash_scale), originalCost: money(r.original_cost, r.cash_scale), costDifference: money(r.cost_difference, r.cash_scale),
  entryKey: r.entry_key, executedAt: iso(r.executed_at), executedBy: r.executed_by, cancelledAt: iso(r.cancelled_at), cancelledBy: r.cancelled_by, cancelReason: r.cancel_reason,
});

const bad = (code: string, message: string, record: string, field: string, kind: DomainError['kind'] = 'invalid') =>
  new DomainError(code, kind, message, [{ record, field, rule: code, message }]);
const ctxOf = (ctx: Partial<SettlementCtx>) => ({ actor: ctx.actor ?? 'system', clock: ctx.clock ?? systemClock });
const today = (clock: Clock) => clock.now().toISOString().slice(0, 10);

/** The fail of an obligation as of a date, with what planning and booking need; locked. */
async function failIn(c: Client, obligationId: string, asOf: string): Promise<{ fail: Fail | null; carriedInto: string | null; placeBic: string; status: string }> {
  const { rows } = await c.query<{
    id: string; settle_date: string; counterparty: string; symbol: string; currency: string; mic: string; scale: number; cash_scale: number; status: string;
    quantity: string; settled_quantity: string; cash: string; settled_cash: string; carried_into: string | null; has_short: boolean; place_bic: string | null;
  }>(
    `SELECT o.id, o.settle_date::text AS settle_date, o.counterparty, o.symbol, o.currency, s.mic, s.scale, a.scale AS cash_scale, o.status,
            o.quantity::text AS quantity, o.settled_quantity::text AS settled_quantity, o.cash::text AS cash, o.settled_cash::text AS settled_cash,
            o.carried_into::text AS carried_into, false AS has_short, i.place_bic
       FROM settlement_obligations o JOIN securities s ON s.symbol = o.symbol JOIN assets a ON a.code = o.currency
       LEFT JOIN settlement_instructions i ON i.obligation_id = o.id
      WHERE o.id = $1 FOR UPDATE OF o`, [obligationId]);
  const r = rows[0];
  if (!r) throw bad(BuyInCodes.NOT_FOUND, `obligation ${obligationId} is not known`, obligationId, 'obligation', 'not_found');
  const isFail = r.status === 'failed' || r.status === 'partially_settled' || (['pending', 'instructed', 'matched'].includes(r.status) && r.settle_date < asOf);
  const fail = isFail ? failOf({
    id: r.id, settleDate: r.settle_date, counterparty: r.counterparty, symbol: r.symbol, currency: r.currency, mic: r.mic, scale: r.scale, cashScale: r.cash_scale,
    status: r.status as Fail['status'], quantity: r.quantity, settledQuantity: r.settled_quantity, cash: BigInt(r.cash), settledCash: BigInt(r.settled_cash),
    carriedInto: r.carried_into, hasShortSale: r.has_short,
  }, asOf) : null;
  return { fail, carriedInto: r.carried_into, placeBic: r.place_bic ?? 'DTCYUS33', status: r.status };
}

async function audit(c: Client, actor: string, action: string, row: Row, data: Record<string, unknown>, at: Date) {
  await lockBooks(c);
  await appendAudit(c, [{ actor, action, entity: 'settlement_buy_ins', entityId: row.id, data, rowHash: rowDigest({ ...view(row) }), at }]);
}

async function load(c: Client | Pool, id: string, lock = false): Promise<Row> {
  const { rows } = await c.query<Row>(`SELECT ${COLS} FROM ${FROM} WHERE b.id = $1${lock ? ' FOR UPDATE OF b' : ''}`, [id]);
  if (!rows[0]) throw bad(BuyInCodes.NOT_FOUND, `buy-in ${id} is not known`, id, 'id', 'not_found');
  return rows[0];
}

export interface CreateBuyIn {
  obligationId: string;
  /** Decimal string; default: what is left of the fail and not in another open buy-in. */
  quantity?: string;
  /** Indicative price per unit, a decimal string. */
  price?: string;
  /** When it is planned for (default: the close-out date, or today when that has passed). */
  date?: string;
  reason?: string;
}

/**
 * Plan a buy-in against a counterparty's fail to deliver to us (see the module comment).
 * @throws DomainError SETTLEMENT_BUY_IN_NOT_FOUND; SETTLEMENT_BUY_IN_INVALID (not a fail to receive,
 *   carried into a later net, quantity more than is open, bad price or date)
 */
export async function createBuyIn(pool: Pool, input: CreateBuyIn, ctx: Partial<SettlementCtx> = {}): Promise<BuyIn> {
  const { actor, clock } = ctxOf(ctx);
  const asOf = today(clock);
  if (input.date !== undefined) parseDate(input.date, 'buy-in date');
  if (input.price !== undefined && (!/^\d+(\.\d+)?$/.test(input.price) || new Dec(input.price).lte(0))) {
    throw bad(BuyInCodes.INVALID, `buy-in price "${input.price}" must be a positive decimal`, input.obligationId, 'price');
  }
  return withTx(pool, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock($1)', [FAILS_LOCK]);
    const { fail, carriedInto } = await failIn(c, input.obligationId, input.date && input.date > asOf ? input.date : asOf);
    const id = input.obligationId;
    if (carriedInto) throw bad(BuyInCodes.INVALID, `obligation ${id} was carried into the net of ${carriedInto}: buy in on that obligation`, id, 'obligation');
    if (!fail) throw bad(BuyInCodes.INVALID, `obligation ${id} is not a fail as of ${asOf}`, id, 'obligation');
    if (fail.direction !== 'fail_to_receive') {
      throw bad(BuyInCodes.INVALID, `obligation ${id} is a ${fail.direction.replace(/_/g, ' ')}: a buy-in is taken against a counterparty failing to deliver to us (a fail to receive)`, id, 'direction');
    }
    const open = (await c.query<{ q: string | null }>(`SELECT sum(quantity)::text AS q FROM settlement_buy_ins WHERE obligation_id = $1 AND status IN ('planned', 'notified')`, [id])).rows[0]!.q;
    const free = fail.remainingQuantityMinor - (open ? minorOf(open, fail.scale) : 0n);
    const qty = input.quantity === undefined ? free : toMinor(input.quantity, fail.scale, 'buy-in quantity');
    if (qty <= 0n) throw bad(BuyInCodes.INVALID, `obligation ${id}: nothing left to buy in (${fromMinor(fail.remainingQuantityMinor, fail.scale)} open, ${open ?? '0'} in open buy-ins)`, id, 'quantity');
    if (qty > free) throw bad(BuyInCodes.INVALID, `obligation ${id}: buy-in quantity ${fromMinor(qty, fail.scale)} is more than the ${fromMinor(free, fail.scale)} of the fail not in another open buy-in`, id, 'quantity');
    const due = closeOutDue(fail.market, fail.settleDate, 'long');
    const plannedFor = input.date ?? (due > asOf ? due : asOf);
    if (plannedFor < fail.settleDate) throw bad(BuyInCodes.INVALID, `buy-in date ${plannedFor} is before the settlement date ${fail.settleDate}`, id, 'date');
    const now = clock.now();
    const buyInId = newId('byi');
    await c.query(
      `INSERT INTO settlement_buy_ins (id, obligation_id, counterparty, symbol, currency, quantity, price, close_out_due, planned_for, reason, status, created_at, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'planned', $11, $12)`,
      [buyInId, id, fail.counterparty, fail.security, fail.currency, fromMinor(qty, fail.scale), input.price ?? null, due, plannedFor, input.reason?.trim() || null, now.toISOString(), actor]);
    const row = await load(c, buyInId);
    await audit(c, actor, 'settlement.buy_in.create', row, { obligation: id, quantity: row.quantity, price: row.price, closeOutDue: due, plannedFor, reason: row.reason }, now);
    return view(row);
  });
}

async function step(pool: Pool, id: string, from: BuyInStatus[], to: BuyInStatus, ctx: Partial<SettlementCtx>, fn: (c: Client, row: Row, now: Date, actor: string) => Promise<Record<string, unknown>>): Promise<BuyIn> {
  const { actor, clock } = ctxOf(ctx);
  return withTx(pool, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock($1)', [FAILS_LOCK]);
    const row = await load(c, id, true);
    if (!from.includes(row.status)) {
      throw bad(BuyInCodes.STATE, `buy-in ${id} is ${row.status}: it can be ${to} only when ${from.join(' or ')}`, id, 'status', 'conflict');
    }
    const now = clock.now();
    const data = await fn(c, row, now, actor);
    const after = await load(c, id);
    await audit(c, actor, `settlement.buy_in.${to === 'notified' ? 'notify' : to === 'executed' ? 'execute' : 'cancel'}`, after, { obligation: row.obligation_id, from: row.status, ...data }, now);
    return view(after);
  });
}

/**
 * The buy-in notice went to the failing counterparty: planned -> notified.
 * @throws DomainError SETTLEMENT_BUY_IN_NOT_FOUND; SETTLEMENT_BUY_IN_STATE
 */
export function notifyBuyIn(pool: Pool, id: string, ctx: Partial<SettlementCtx> = {}): Promise<BuyIn> {
  return step(pool, id, ['planned'], 'notified', ctx, async (c, _row, now, actor) => {
    await c.query("UPDATE settlement_buy_ins SET status = 'notified', notified_at = $2, notified_by = $3 WHERE id = $1", [id, now.toISOString(), actor]);
    return {};
  });
}

/**
 * Cancel a planned or notified buy-in, with a reason.
 * @throws DomainError SETTLEMENT_BUY_IN_NOT_FOUND; SETTLEMENT_BUY_IN_STATE; SETTLEMENT_BUY_IN_INVALID (no reason)
 */
export function cancelBuyIn(pool: Pool, id: string, reason: string, ctx: Partial<SettlementCtx> = {}): Promise<BuyIn> {
  const why = (reason ?? '').trim();
  if (!why) return Promise.reject(bad(BuyInCodes.INVALID, `cancelling buy-in ${id} needs a reason`, id, 'reason'));
  return step(pool, id, ['planned', 'notified'], 'cancelled', ctx, async (c, _row, now, actor) => {
    await c.query("UPDATE settlement_buy_ins SET status = 'cancelled', cancelled_at = $2, cancelled_by = $3, cancel_reason = $4 WHERE id = $1", [id, now.toISOString(), actor, why]);
    return { reason: why };
  });
}

/**
 * Execute a notified buy-in at `price` on `date` (default today): books it (see the module
 * comment), reduces or closes the fail and counts the quantity as settled on the obligation.
 * @throws DomainError SETTLEMENT_BUY_IN_NOT_FOUND; SETTLEMENT_BUY_IN_STATE (not notified);
 *   SETTLEMENT_BUY_IN_TOO_EARLY (before the close-out date); SETTLEMENT_BUY_IN_INVALID (price,
 *   more than the fail still open, a fail carried into a later net)
 */
export function executeBuyIn(pool: Pool, id: string, input: { price: string; date?: string }, ctx: Partial<SettlementCtx> = {}): Promise<BuyIn> {
  const { actor: who, clock } = ctxOf(ctx);
  const date = input.date ?? today(clock);
  try { parseDate(date, 'execution date'); } catch (e) { return Promise.reject(e); }
  return step(pool, id, ['notified'], 'executed', ctx, async (c, row) => {
    const sctx = { actor: who, clock };
    if (date < row.close_out_due) {
      throw bad(BuyInCodes.TOO_EARLY, `buy-in ${id} cannot execute on ${date}: the close-out date is ${row.close_out_due}`, id, 'date');
    }
    const { fail, carriedInto, placeBic } = await failIn(c, row.obligation_id, date);
    if (carriedInto) throw bad(BuyInCodes.INVALID, `obligation ${row.obligation_id} was carried into the net of ${carriedInto}: cancel this buy-in and buy in on that obligation`, id, 'obligation');
    if (!fail || fail.direction !== 'fail_to_receive') throw bad(BuyInCodes.INVALID, `obligation ${row.obligation_id} is no longer a fail to receive as of ${date}`, id, 'obligation');
    let plan;
    try {
      plan = planBuyIn(fail, { quantity: row.quantity, price: input.price, date, ...(row.reason ? { reason: row.reason } : {}) });
    } catch (e) {
      if (e instanceof DomainError) throw bad(BuyInCodes.INVALID, `buy-in ${id}: ${e.message}`, id, e.details[0]?.field ?? 'price');
      throw e;
    }
    // The fail must sit in its fail account before it closes from there.
    await bookFailsIn(c, { asOf: date, ids: [row.obligation_id] }, sctx);
    const records = await failRecordsIn(c, [row.obligation_id]);
    const f = records.get(row.obligation_id)!;
    const qty = toMinor(plan.quantity, fail.scale);
    const original = toMinor(plan.originalCost, fail.cashScale);
    const cost = toMinor(plan.buyInCost, fail.cashScale);
    const diff = cost - original;
    const key = `buy-in:${id}`;
    const depository = `assets:depository:${placeBic === 'DTCYUS33' ? 'dtc' : placeBic.toLowerCase()}`;
    const postings = [
      { account: depository, asset: fail.security, amount: fromMinor(qty, fail.scale) },
      { account: f.account, asset: fail.security, amount: fromMinor(-qty, fail.scale) },
      { account: `assets:bank:settlement:${fail.currency.toLowerCase()}`, asset: fail.currency, amount: fromMinor(-cost, fail.cashScale) },
      ...(original !== 0n ? [{ account: f.account, asset: fail.currency, amount: fromMinor(original, fail.cashScale) }] : []),
      ...(diff !== 0n ? [{ account: `assets:receivable:buy-ins:${fail.counterparty}`, asset: fail.currency, amount: fromMinor(diff, fail.cashScale) }] : []),
    ];
    const entries = [{ key, date, memo: `buy-in ${id} of ${plan.quantity} ${fail.security} at ${input.price} against ${fail.counterparty}'s fail to deliver (obligation ${row.obligation_id}); difference ${fromMinor(diff, fail.cashScale)} ${fail.currency} charged to it`, postings }];
    await openSettlementAccounts(c, entries, sctx);
    await postEntriesIn(c, entries, sctx, 'all');
    f.quantity -= qty; f.cash += original; f.dirty = true;
    if (f.quantity === 0n && f.cash === 0n) Object.assign(f, { status: 'closed', closedOn: date, closedBy: 'bought_in' });
    await saveFailRecords(c, records.values(), sctx);
    // The obligation: the quantity and its original cash count as settled.
    const ob = (await c.query<{ quantity: string; settled_quantity: string; cash: string; settled_cash: string }>(
      'SELECT quantity::text AS quantity, settled_quantity::text AS settled_quantity, cash::text AS cash, settled_cash::text AS settled_cash FROM settlement_obligations WHERE id = $1', [row.obligation_id])).rows[0]!;
    const sq = minorOf(ob.settled_quantity, fail.scale) + qty;
    const sc = BigInt(ob.settled_cash) - original;
    const done = sq === minorOf(ob.quantity, fail.scale) && sc === BigInt(ob.cash);
    await c.query('UPDATE settlement_obligations SET status = $2, settled_quantity = $3, settled_cash = $4, updated_at = $5, updated_by = $6 WHERE id = $1',
      [row.obligation_id, done ? 'settled' : 'partially_settled', fromMinor(sq, fail.scale), sc.toString(), clock.now().toISOString(), who]);
    await c.query(
      `INSERT INTO settlement_status_events (obligation_id, fingerprint, format, status, settled_quantity, settled_cash, effective_date, reasons, entry_key, applied_at, applied_by)
       VALUES ($1, $2, 'buy_in', 'bought_in', $3, $4, $5, '{}', $6, $7, $8)`,
      [row.obligation_id, key, plan.quantity, (-original).toString(), date, key, clock.now().toISOString(), who]);
    await c.query(
      `UPDATE settlement_buy_ins SET status = 'executed', executed_on = $2, executed_price = $3, buy_in_cost = $4, original_cost = $5, cost_difference = $6,
          entry_key = $7, executed_at = $8, executed_by = $9 WHERE id = $1`,
      [id, date, input.price, cost.toString(), original.toString(), diff.toString(), key, clock.now().toISOString(), who]);
    return { date, price: input.price, buyInCost: plan.buyInCost, originalCost: plan.originalCost, costDifference: plan.costDifference, entryKey: key, obligationStatus: done ? 'settled' : 'partially_settled' };
  });
}

/** The buy-ins, newest first, optionally of one status or obligation. */
export async function listBuyIns(db: Pool | Client, q: { status?: BuyInStatus; obligationId?: string } = {}): Promise<BuyIn[]> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLS} FROM ${FROM} WHERE ($1::text IS NULL OR b.status = $1) AND ($2::text IS NULL OR b.obligation_id = $2) ORDER BY b.created_at DESC, b.id DESC`,
    [q.status ?? null, q.obligationId ?? null]);
  return rows.map(view);
}

/**
 * One buy-in.
 * @throws DomainError SETTLEMENT_BUY_IN_NOT_FOUND
 */
export async function getBuyIn(db: Pool, id: string): Promise<BuyIn> {
  return view(await load(db, id));
}

// ---- command line -------------------------------------------------------------------------------

const defaultCtx = (): SettlementCtx => ({ actor: `cli:${os.userInfo().username}`, clock: systemClock });

const BUY_IN_JSON = 'JSON output: {id, obligationId, counterparty, security, currency, quantity, price, closeOutDue, plannedFor, reason, status, createdAt, createdBy, '
  + 'notifiedAt, notifiedBy, executedOn, executedPrice, buyInCost, originalCost, costDifference, entryKey, executedAt, executedBy, cancelledAt, cancelledBy, cancelReason}';

export function buyInText(b: BuyIn): string {
  const tail = b.status === 'executed' ? `, executed ${b.executedOn} at ${b.executedPrice}: cost ${b.buyInCost} against ${b.originalCost}, ${b.costDifference} ${b.currency} charged to ${b.counterparty}`
    : b.status === 'cancelled' ? `, cancelled: ${b.cancelReason}` : `, close-out ${b.closeOutDue}, planned for ${b.plannedFor}`;
  return `buy-in ${b.id} ${b.status}: ${b.quantity} ${b.security} from ${b.counterparty} (obligation ${b.obligationId})${b.price && b.status !== 'executed' ? ` at about ${b.price}` : ''}${tail}`;
}

/**
 * Registers `settlement buy-in create|notify|execute|cancel|list` (under an existing `settlement`
 * command if the program has one).
 */
export function buyInCommands(program: Command, withDb: WithDb, print: Print, context: () => SettlementCtx = defaultCtx): Command {
  const settlement = program.commands.find((c) => c.name() === 'settlement')
    ?? program.command('settlement').description('clearing and settlement: netting, obligations, instructions, fails');
  const b = settlement.command('buy-in').description('buy-ins against a counterparty failing to deliver to us: planned, notified, executed (booked) or cancelled');
  b.command('create')
    .description('plan a buy-in against a fail to receive; quantity: what is left of the fail by default')
    .requiredOption('--obligation <id>', 'the failing obligation')
    .option('--quantity <q>', 'quantity to buy in')
    .option('--price <p>', 'indicative price per unit')
    .option('--date <date>', 'planned for (default: the close-out date)')
    .option('--reason <text>', 'why')
    .option('--json', BUY_IN_JSON)
    .action(async (o: { obligation: string; quantity?: string; price?: string; date?: string; reason?: string; json?: boolean }) => withDb(async (db) => {
      const r = await createBuyIn(db.pool, { obligationId: o.obligation, ...(o.quantity ? { quantity: o.quantity } : {}), ...(o.price ? { price: o.price } : {}),
        ...(o.date ? { date: o.date } : {}), ...(o.reason ? { reason: o.reason } : {}) }, context());
      print(!!o.json, r, () => buyInText(r));
    }));
  b.command('notify').description('the buy-in notice went to the counterparty').argument('<id>').option('--json', BUY_IN_JSON)
    .action(async (id: string, o: { json?: boolean }) => withDb(async (db) => { const r = await notifyBuyIn(db.pool, id, context()); print(!!o.json, r, () => buyInText(r)); }));
  b.command('execute').description('execute a notified buy-in: books the purchase against the failing counterparty and closes the fail')
    .argument('<id>').requiredOption('--price <p>', 'price paid per unit').option('--date <date>', 'execution date (default today)').option('--json', BUY_IN_JSON)
    .action(async (id: string, o: { price: string; date?: string; json?: boolean }) => withDb(async (db) => {
      const r = await executeBuyIn(db.pool, id, { price: o.price, ...(o.date ? { date: o.date } : {}) }, context());
      print(!!o.json, r, () => buyInText(r));
    }));
  b.command('cancel').description('cancel a planned or notified buy-in').argument('<id>').requiredOption('--reason <text>', 'why').option('--json', BUY_IN_JSON)
    .action(async (id: string, o: { reason: string; json?: boolean }) => withDb(async (db) => { const r = await cancelBuyIn(db.pool, id, o.reason, context()); print(!!o.json, r, () => buyInText(r)); }));
  b.command('list').description('the buy-ins, newest first').option('--status <s>', BUY_IN_STATUSES.join(', ')).option('--obligation <id>').option('--json', `JSON output: [${BUY_IN_JSON.slice(13)}]`)
    .action(async (o: { status?: string; obligation?: string; json?: boolean }) => withDb(async (db) => {
      if (o.status && !BUY_IN_STATUSES.includes(o.status as BuyInStatus)) throw bad(BuyInCodes.INVALID, `--status "${o.status}" must be one of ${BUY_IN_STATUSES.join(', ')}`, 'status', 'status');
      const r = await listBuyIns(db.pool, { ...(o.status ? { status: o.status as BuyInStatus } : {}), ...(o.obligation ? { obligationId: o.obligation } : {}) });
      print(!!o.json, r, () => (r.length ? r.map(buyInText).join('\n') : '(none)'));
    }));
  return b;
}
