import { withTx, type Client, type Pool } from '../../db/index.js';
import { fromMinor, parseDate } from '../../kernel/index.js';
import {
  appendAudit, closedThrough, lockBooks, openAccountIn, postEntriesIn, type AccountType, type AuditEvent, type EntryInput,
} from '../../ledger/index.js';
import { FX_UNREALIZED_ACCOUNT, isMonetary, isRevaluationAccount, loadBook, revaluationAccount, type Leaf } from './book.js';
import { CloseCodes as C, closeError } from './errors.js';
import { baseScaleOf, missingRate, RateBook, roundBase, unitsOf, type FxContext } from './fx-rates.js';
import { rowDigest } from './hash.js';

/**
 * FX revaluation (remeasurement of monetary items, ASC 830 / IAS 21).
 *
 * The ledger is multi-asset: a EUR posting stays EUR. Each asset or liability account holding a
 * foreign currency has a carrying value in the base currency made of two parts:
 * - its postings translated at their historical rates (the rate on or before each posting date);
 * - the revaluations booked so far, kept in the base currency in a contra account of its own,
 *   `<account>:fx-revaluation:<CCY>` (same type and owner as the account).
 * Revaluing at date D moves that carrying value to balance × rate(D) (rounded half-even to the
 * base minor unit) by booking the difference, dated D, against `income:fx:unrealized` (a credit
 * is a gain). This is the cumulative method: nothing is reversed at the start of the next month;
 * a later month books only the change since. Re-running for the same date books nothing, since
 * the carrying value already equals the target; if postings land in the month after a run (it is
 * still open), a second run books just the difference (runs are numbered per date). Equity,
 * income and expense accounts in foreign currencies are not remeasured (historical rates).
 * A closed date cannot be revalued: revalue the month-end before closing the month.
 */

/** One foreign-currency position of a monetary account and what revaluing it at a date books. */
export interface FxPosition {
  account: string;
  type: AccountType;
  owner: string | null;
  currency: string;
  scale: number;
  /** Native balance, minor units of `currency`. */
  balance: bigint;
  /** Postings at historical rates, base minor units. */
  historical: bigint;
  /** Revaluations booked so far (the contra account), base minor units. */
  booked: bigint;
  /** historical + booked. */
  carrying: bigint;
  rate: string;
  rateDate: string;
  /** balance at the rate, base minor units. */
  target: bigint;
  /** target - carrying: what a revaluation books (positive: a gain on an asset, or a smaller liability). */
  delta: bigint;
}

/**
 * The foreign-currency positions of the monetary accounts in `leaves` (read through `asOf`),
 * valued at the rate on or before `asOf`.
 * @throws DomainError FX_RATE_MISSING
 */
export function fxPositions(leaves: Leaf[], rates: RateBook, asOf: string, baseScale: number): FxPosition[] {
  const base = rates.base;
  const contra = new Map<string, bigint>();
  for (const l of leaves) if (l.asset === base && isRevaluationAccount(l.account)) contra.set(l.account, (contra.get(l.account) ?? 0n) + l.minor);
  const out: FxPosition[] = [];
  const missing: { currency: string; date: string; account: string }[] = [];
  for (const l of leaves) {
    if (l.kind !== 'currency' || l.asset === base || !isMonetary(l) || isRevaluationAccount(l.account)) continue;
    const rate = rates.on(l.asset, asOf);
    if (!rate) { missing.push({ currency: l.asset, date: asOf, account: l.account }); continue; }
    const booked = contra.get(revaluationAccount(l.account, l.asset)) ?? 0n;
    const historical = l.base!;
    const target = roundBase(unitsOf(l.minor, l.scale).mul(rate.rate), baseScale);
    const carrying = historical + booked;
    out.push({
      account: l.account, type: l.type, owner: l.owner, currency: l.asset, scale: l.scale, balance: l.minor, historical, booked, carrying,
      rate: rate.rate.toFixed(), rateDate: rate.date, target, delta: target - carrying,
    });
  }
  if (missing.length) throw missingRate(base, missing);
  return out.sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : a.currency < b.currency ? -1 : 1));
}

/** Read the monetary accounts through `asOf` and value their foreign positions at `asOf`. */
export async function planRevaluation(db: Pool | Client, asOf: string, base: string): Promise<FxPosition[]> {
  parseDate(asOf, 'as-of date');
  const baseScale = baseScaleOf(base);
  const leaves = await loadBook(db, { to: asOf, types: ['asset', 'liability'] }, base, baseScale);
  const rates = await RateBook.load(db, base, leaves.filter((l) => l.kind === 'currency').map((l) => l.asset), asOf);
  return fxPositions(leaves, rates, asOf, baseScale);
}

/** A revaluation line as reported (amounts as decimal strings). */
export interface RevaluationLine {
  account: string;
  currency: string;
  balance: string;
  rate: string;
  rateDate: string;
  historical: string;
  bookedBefore: string;
  carryingBefore: string;
  target: string;
  /** Booked now: positive a gain on an asset (or a smaller liability), negative a loss. */
  delta: string;
  status: 'posted' | 'unchanged';
  entryId: string | null;
}

export interface RevaluationRun {
  asOf: string;
  base: string;
  lines: RevaluationLine[];
  posted: number;
  unchanged: number;
  /** Sum of the deltas booked now: the unrealized gain (positive) or loss of this run. */
  gain: string;
}

/**
 * Revalue every foreign-currency balance of the asset and liability accounts at the rate on or
 * before `asOf`, booking the change of carrying value (see the module comment). Idempotent.
 * One transaction: all the entries or none.
 * @throws DomainError CLOSE_PERIOD_CLOSED when `asOf` is in a closed period, FX_RATE_MISSING,
 *   DATE_INVALID
 */
export async function revalueFx(pool: Pool, asOf: string, ctx: FxContext): Promise<RevaluationRun> {
  parseDate(asOf, 'as-of date');
  const base = ctx.baseCurrency;
  const baseScale = baseScaleOf(base);
  return withTx(pool, async (c) => {
    await lockBooks(c);
    const through = await closedThrough(c);
    if (through && asOf <= through) {
      throw closeError(C.PERIOD_CLOSED, `cannot revalue at ${asOf}: the books are closed through ${through} (revalue a month-end before closing it)`,
        [{ record: asOf, field: 'asOf', rule: 'OPEN_PERIOD', message: `${asOf} is on or before ${through}` }], 'conflict');
    }
    const positions = await planRevaluation(c, asOf, base);
    const moving = positions.filter((p) => p.delta !== 0n);
    const seqs = new Map<string, number>();
    if (moving.length) {
      const { rows } = await c.query<{ account: string; currency: string; seq: number }>(
        'SELECT account, currency, max(seq) AS seq FROM fx_revaluations WHERE as_of = $1 GROUP BY 1, 2', [asOf]);
      for (const r of rows) seqs.set(`${r.account}\u0000${r.currency}`, Number(r.seq));
    }
    const at = ctx.clock.now();
    const fmt = (m: bigint) => fromMinor(m, baseScale);
    const entries: EntryInput[] = [];
    const planned: { p: FxPosition; seq: number; key: string }[] = [];
    if (moving.length) await ensureAccount(c, FX_UNREALIZED_ACCOUNT, 'income', 'firm', ctx);
    for (const p of moving) {
      const seq = (seqs.get(`${p.account}\u0000${p.currency}`) ?? 0) + 1;
      const contra = revaluationAccount(p.account, p.currency);
      await ensureAccount(c, contra, p.type, p.owner, ctx);
      const key = `fx-revaluation:${asOf}:${p.account}:${p.currency}:${seq}`;
      entries.push({
        key, date: asOf,
        memo: `FX revaluation of ${fromMinor(p.balance, p.scale)} ${p.currency} in ${p.account} at ${p.rate} (${p.rateDate}): carrying ${fmt(p.carrying)} -> ${fmt(p.target)} ${base}`,
        postings: [
          { account: contra, asset: base, amount: fmt(p.delta) },
          { account: FX_UNREALIZED_ACCOUNT, asset: base, amount: fmt(-p.delta) },
        ],
      });
      planned.push({ p, seq, key });
    }
    const outcomes = entries.length ? await postEntriesIn(c, entries, ctx, 'all') : [];
    const ids = new Map(outcomes.map((o) => [o.key, 'id' in o ? o.id : null]));
    const audit: AuditEvent[] = [];
    for (const { p, seq, key } of planned) {
      const entryId = ids.get(key)!;
      const row = [asOf, p.account, p.currency, seq, base, p.rate, p.rateDate, p.balance, p.carrying, p.target, p.delta, entryId, at.toISOString(), ctx.actor];
      await c.query(
        `INSERT INTO fx_revaluations (as_of, account, currency, seq, base, rate, rate_date, balance, carrying_before, target, delta, entry_id, run_at, run_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`, row.map((v) => (typeof v === 'bigint' ? v.toString() : v)));
      audit.push({
        actor: ctx.actor, action: 'fx.revalue', entity: 'fx_revaluations', entityId: `${asOf}/${p.account}/${p.currency}/${seq}`,
        data: { asOf, account: p.account, currency: p.currency, rate: p.rate, rateDate: p.rateDate, carryingBefore: fmt(p.carrying), target: fmt(p.target), delta: fmt(p.delta), entryId },
        rowHash: rowDigest(row), at,
      });
    }
    await appendAudit(c, audit);
    const lines: RevaluationLine[] = positions.map((p) => ({
      account: p.account, currency: p.currency, balance: fromMinor(p.balance, p.scale), rate: p.rate, rateDate: p.rateDate,
      historical: fmt(p.historical), bookedBefore: fmt(p.booked), carryingBefore: fmt(p.carrying), target: fmt(p.target), delta: fmt(p.delta),
      status: p.delta === 0n ? 'unchanged' : 'posted', entryId: p.delta === 0n ? null : ids.get(planned.find((x) => x.p === p)!.key) ?? null,
    }));
    return {
      asOf, base, lines, posted: moving.length, unchanged: positions.length - moving.length,
      gain: fmt(moving.reduce((s, p) => s + p.delta, 0n)),
    };
  });
}

/**
 * Open an account unless it exists with the same type (its owner and flags are then left alone).
 * @throws DomainError ACCOUNT_EXISTS when it exists with another type
 */
export async function ensureAccount(c: Client, name: string, type: AccountType, owner: string | null, ctx: FxContext | { actor: string; clock: FxContext['clock'] }): Promise<void> {
  const { rows } = await c.query<{ type: string }>('SELECT type FROM accounts WHERE name = $1', [name]);
  if (rows[0]) {
    if (rows[0].type !== type) throw closeError(C.ARGUMENT_INVALID, `account ${name} exists with type ${rows[0].type}; ${type} is needed`, [], 'conflict');
    return;
  }
  await openAccountIn(c, { name, type, owner }, ctx);
}

/** The revaluations booked, newest first. */
export async function listRevaluations(db: Pool | Client, q: { asOf?: string; account?: string; limit?: number } = {}) {
  const { rows } = await db.query(
    `SELECT r.as_of, r.account, r.currency, r.seq, r.base, r.rate, r.rate_date, r.balance::text, r.carrying_before::text, r.target::text, r.delta::text,
            r.entry_id, r.run_at, r.run_by, s.scale, b.scale AS base_scale
       FROM fx_revaluations r JOIN assets s ON s.code = r.currency LEFT JOIN assets b ON b.code = r.base
      WHERE ($1::date IS NULL OR r.as_of = $1) AND ($2::text IS NULL OR r.account = $2)
      ORDER BY r.as_of DESC, r.account, r.currency, r.seq LIMIT $3`,
    [q.asOf ? parseDate(q.asOf, 'as-of date') : null, q.account ?? null, Math.min(q.limit ?? 1000, 10000)]);
  return rows.map((r) => {
    const bs = r.base_scale ?? baseScaleOf(r.base);
    return {
      asOf: r.as_of as string, account: r.account as string, currency: r.currency as string, run: Number(r.seq), base: r.base as string,
      rate: r.rate as string, rateDate: r.rate_date as string, balance: fromMinor(BigInt(r.balance), r.scale),
      carryingBefore: fromMinor(BigInt(r.carrying_before), bs), target: fromMinor(BigInt(r.target), bs), delta: fromMinor(BigInt(r.delta), bs),
      entryId: r.entry_id as string, runAt: r.run_at as string, runBy: r.run_by as string,
    };
  });
}
