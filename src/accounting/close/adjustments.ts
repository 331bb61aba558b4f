import { withTx, type Client, type Pool } from '../../db/index.js';
import { can, fromMinor, newId, parseDate, toMinor, type Clock, type ErrorDetail, type Role } from '../../kernel/index.js';
import { appendAudit, closedThrough, lockBooks, postEntriesIn, type PostingInput } from '../../ledger/index.js';
import { CloseCodes as C, closeError } from './errors.js';
import { rowDigest } from './hash.js';
import { addDays, parsePeriod } from './periods.js';

/**
 * Adjustments after close, under maker-checker control.
 *
 * A closed period stays closed: the ledger refuses any posting dated in it, and that does not
 * change. A correction found later is proposed by one person (`accounting.close`) for the closed
 * month it corrects, with the date in that month it belongs to (default: the month-end). A
 * second person, holding `accounting.approve`, approves it; the proposer can never approve their
 * own (refused here and by a CHECK in the database). Approval books it at once as a prior-period
 * adjustment dated the first open day after the close (closed-through + 1), with the corrected
 * period in its memo and in its idempotency key (`prior-period:<YYYY-MM>:<id>`). Rejection needs
 * the same permission (or is the proposer withdrawing it) and a reason; nothing is booked. Every
 * step is in the audit trail. Reports can restate: "after adjustments" counts each approved
 * adjustment on its target date in the closed period instead of the day it was posted (the books
 * themselves are never rewritten).
 */

export type AdjustmentStatus = 'proposed' | 'posted' | 'rejected';

export interface AdjustmentInput {
  /** The closed month corrected, `YYYY-MM`. */
  period: string;
  /** The date in that month it belongs to; default its last day. */
  date?: string;
  memo: string;
  postings: PostingInput[];
}

export interface Adjustment {
  id: string;
  period: string;
  targetDate: string;
  memo: string;
  postings: PostingInput[];
  status: AdjustmentStatus;
  proposedBy: string;
  proposedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionNote: string | null;
  /** The journal entry that booked it (status posted). */
  entryId: string | null;
  /** Its effective date: the first open day when it was approved. */
  postedDate: string | null;
  /** Its idempotency key in the journal. */
  entryKey: string;
}

/** A person deciding: their user name and role. */
export interface Approver {
  name: string;
  role: Role;
}

const entryKeyOf = (period: string, id: string) => `prior-period:${period}:${id}`;

interface Row {
  id: string; period: string; target_date: string; memo: string; postings: PostingInput[]; status: AdjustmentStatus;
  proposed_by: string; proposed_at: string; decided_by: string | null; decided_at: string | null; decision_note: string | null;
  entry_id: string | null; posted_date: string | null;
}
const toAdjustment = (r: Row): Adjustment => ({
  id: r.id, period: r.period, targetDate: r.target_date, memo: r.memo, postings: r.postings, status: r.status,
  proposedBy: r.proposed_by, proposedAt: r.proposed_at, decidedBy: r.decided_by, decidedAt: r.decided_at, decisionNote: r.decision_note,
  entryId: r.entry_id, postedDate: r.posted_date, entryKey: entryKeyOf(r.period, r.id),
});
const rowHashOf = (r: Row) => rowDigest([r.id, r.period, r.target_date, r.memo, r.postings, r.status, r.proposed_by, r.proposed_at, r.decided_by, r.decided_at, r.decision_note, r.entry_id, r.posted_date]);

/** Check postings the way the ledger will, naming the posting, field and rule; returns them normalised. */
async function checkPostings(c: Client, postings: unknown, rec: string): Promise<PostingInput[]> {
  const details: ErrorDetail[] = [];
  const fail = (field: string, rule: string, message: string) => details.push({ record: rec, field, rule, message: `${rec}: ${field}: ${message}` });
  if (!Array.isArray(postings) || postings.length < 2) {
    fail('postings', 'TWO_OR_MORE', 'an adjusting entry needs two or more postings');
    throw closeError(C.ADJUSTMENT_INVALID, details[0]!.message, details);
  }
  const names = postings.map((p) => (p as PostingInput)?.account).filter((a): a is string => typeof a === 'string');
  const codes = postings.map((p) => (p as PostingInput)?.asset).filter((a): a is string => typeof a === 'string');
  const accounts = new Set((await c.query<{ name: string }>('SELECT name FROM accounts WHERE name = ANY($1)', [names])).rows.map((r) => r.name));
  const scales = new Map((await c.query<{ code: string; scale: number }>('SELECT code, scale FROM assets WHERE code = ANY($1)', [codes])).rows.map((r) => [r.code, r.scale]));
  const sums = new Map<string, bigint>();
  const out: PostingInput[] = [];
  postings.forEach((raw, i) => {
    const p = raw as PostingInput;
    if (!p || typeof p !== 'object') { fail(`postings[${i}]`, 'OBJECT', 'must be {account, asset, amount}'); return; }
    if (typeof p.account !== 'string' || !accounts.has(p.account)) { fail(`postings[${i}].account`, 'ACCOUNT_EXISTS', `account "${String(p.account)}" does not exist`); return; }
    const scale = typeof p.asset === 'string' ? scales.get(p.asset) : undefined;
    if (scale === undefined) { fail(`postings[${i}].asset`, 'ASSET_EXISTS', `asset "${String(p.asset)}" is not registered`); return; }
    let minor: bigint;
    try { minor = toMinor(p.amount, scale, 'amount'); } catch (e) { fail(`postings[${i}].amount`, 'DECIMAL_IN_SCALE', (e as Error).message); return; }
    if (minor === 0n) { fail(`postings[${i}].amount`, 'NON_ZERO', 'a posting of zero moves nothing'); return; }
    sums.set(p.asset, (sums.get(p.asset) ?? 0n) + minor);
    out.push({ account: p.account, asset: p.asset, amount: fromMinor(minor, scale) });
  });
  for (const [asset, sum] of sums) if (sum !== 0n) fail('postings', 'BALANCED', `the ${asset} postings sum to ${fromMinor(sum, scales.get(asset)!)}, not zero`);
  if (details.length) throw closeError(C.ADJUSTMENT_INVALID, `${rec} is refused: ${details.map((d) => d.message).join('; ')}`, details);
  return out;
}

/**
 * Propose an adjusting entry for a closed period. Nothing is booked until someone else approves.
 * @throws DomainError CLOSE_PERIOD_INVALID, CLOSE_PERIOD_OPEN (the date is not closed: post
 *   directly), CLOSE_ADJUSTMENT_INVALID (memo, date or postings, naming the field and rule)
 */
export async function proposeAdjustment(pool: Pool, input: AdjustmentInput, ctx: { actor: string; clock: Clock }): Promise<Adjustment> {
  const p = parsePeriod(input.period);
  const rec = `adjustment for ${p.period}`;
  const target = input.date === undefined ? p.end : parseDate(input.date, 'date');
  if (target < p.start || target > p.end) {
    throw closeError(C.ADJUSTMENT_INVALID, `${rec}: date ${target} is not in ${p.period}`, [{ record: rec, field: 'date', rule: 'IN_PERIOD', message: `date ${target} is not in ${p.period}` }]);
  }
  const memo = typeof input.memo === 'string' ? input.memo.trim() : '';
  if (!memo || memo.length > 1000) {
    throw closeError(C.ADJUSTMENT_INVALID, `${rec}: memo is required (what is corrected and why), at most 1000 characters`, [{ record: rec, field: 'memo', rule: 'REQUIRED', message: 'memo is required' }]);
  }
  return withTx(pool, async (c) => {
    await lockBooks(c);
    const through = await closedThrough(c);
    if (!through || target > through) {
      throw closeError(C.PERIOD_OPEN, `${rec}: ${target} is not closed (the books are ${through ? `closed through ${through}` : 'not closed at all'}); post the entry directly`,
        [{ record: rec, field: 'period', rule: 'CLOSED_PERIOD', message: `${target} is in an open period` }], 'conflict');
    }
    const postings = await checkPostings(c, input.postings, rec);
    const at = ctx.clock.now().toISOString();
    const row: Row = {
      id: newId('adj'), period: p.period, target_date: target, memo, postings, status: 'proposed', proposed_by: ctx.actor, proposed_at: at,
      decided_by: null, decided_at: null, decision_note: null, entry_id: null, posted_date: null,
    };
    await c.query(
      `INSERT INTO close_adjustments (id, period, target_date, memo, postings, status, proposed_by, proposed_at) VALUES ($1, $2, $3, $4, $5, 'proposed', $6, $7)`,
      [row.id, row.period, row.target_date, row.memo, JSON.stringify(row.postings), row.proposed_by, row.proposed_at]);
    await appendAudit(c, [{
      actor: ctx.actor, action: 'adjustment.propose', entity: 'close_adjustments', entityId: row.id,
      data: { period: row.period, targetDate: row.target_date, memo, postings }, rowHash: rowHashOf(row), at: new Date(at),
    }]);
    return toAdjustment(row);
  });
}

async function lockRow(c: Client, id: string): Promise<Row> {
  const { rows } = await c.query<Row>(
    `SELECT id, period, target_date, memo, postings, status, proposed_by, proposed_at, decided_by, decided_at, decision_note, entry_id, posted_date
       FROM close_adjustments WHERE id = $1 FOR UPDATE`, [id]);
  if (!rows[0]) throw closeError(C.ADJUSTMENT_NOT_FOUND, `adjustment ${id} does not exist`, [], 'not_found');
  return rows[0];
}

function mustBeOpen(r: Row): void {
  if (r.status !== 'proposed') {
    throw closeError(C.ADJUSTMENT_DECIDED, `adjustment ${r.id} was already ${r.status === 'posted' ? `approved and posted as ${r.entry_id} on ${r.posted_date}` : 'rejected'} by ${r.decided_by} at ${r.decided_at}`,
      [{ record: r.id, field: 'status', rule: 'PROPOSED', message: `status is ${r.status}` }], 'conflict');
  }
}

/**
 * Approve a proposed adjustment and book it, dated the first open day after the close.
 * @throws DomainError CLOSE_ADJUSTMENT_NOT_FOUND, CLOSE_NOT_AN_APPROVER (forbidden: the role
 *   lacks accounting.approve), CLOSE_SELF_APPROVAL (forbidden), CLOSE_ADJUSTMENT_DECIDED
 *   (conflict), and the ledger's refusals (EntriesRejected)
 */
export async function approveAdjustment(pool: Pool, id: string, approver: Approver, ctx: { clock: Clock }, note?: string): Promise<Adjustment> {
  return withTx(pool, async (c) => {
    await lockBooks(c);
    const r = await lockRow(c, id);
    if (!can(approver.role, 'accounting.approve')) {
      throw closeError(C.NOT_AN_APPROVER, `${approver.name} (role ${approver.role}) may not approve adjustments (needs accounting.approve)`, [], 'forbidden');
    }
    mustBeOpen(r);
    if (approver.name === r.proposed_by) {
      throw closeError(C.SELF_APPROVAL, `${approver.name} proposed adjustment ${id} and cannot approve it: a second person must`, [{ record: id, field: 'approver', rule: 'FOUR_EYES', message: 'the proposer cannot approve' }], 'forbidden');
    }
    const through = await closedThrough(c);
    // The period was closed when proposed and closes never move back, so through >= target.
    const postedDate = addDays(through!, 1);
    const key = entryKeyOf(r.period, r.id);
    const [out] = await postEntriesIn(c, [{
      key, date: postedDate,
      memo: `Prior-period adjustment for ${r.period} (corrects ${r.target_date}; ${r.id}, proposed by ${r.proposed_by}, approved by ${approver.name}): ${r.memo}`,
      postings: r.postings,
    }], { actor: approver.name, clock: ctx.clock }, 'all');
    const entryId = out && 'id' in out ? out.id : null;
    const at = ctx.clock.now().toISOString();
    const next: Row = { ...r, status: 'posted', decided_by: approver.name, decided_at: at, decision_note: note?.trim() || null, entry_id: entryId, posted_date: postedDate };
    await c.query(
      `UPDATE close_adjustments SET status = 'posted', decided_by = $2, decided_at = $3, decision_note = $4, entry_id = $5, posted_date = $6 WHERE id = $1`,
      [id, next.decided_by, next.decided_at, next.decision_note, next.entry_id, next.posted_date]);
    await appendAudit(c, [{
      actor: approver.name, action: 'adjustment.approve', entity: 'close_adjustments', entityId: id,
      data: { period: r.period, targetDate: r.target_date, proposedBy: r.proposed_by, entryId, entryKey: key, postedDate, note: next.decision_note },
      rowHash: rowHashOf(next), at: new Date(at),
    }]);
    return toAdjustment(next);
  });
}

/**
 * Reject a proposed adjustment: nothing is booked. Needs accounting.approve, or is the proposer
 * withdrawing their own proposal; a reason is required.
 * @throws DomainError CLOSE_ADJUSTMENT_NOT_FOUND, CLOSE_NOT_AN_APPROVER, CLOSE_ADJUSTMENT_DECIDED,
 *   CLOSE_ADJUSTMENT_INVALID (no reason)
 */
export async function rejectAdjustment(pool: Pool, id: string, approver: Approver, ctx: { clock: Clock }, reason: string): Promise<Adjustment> {
  const why = typeof reason === 'string' ? reason.trim() : '';
  if (!why) throw closeError(C.ADJUSTMENT_INVALID, `rejecting adjustment ${id} needs a reason`, [{ record: id, field: 'reason', rule: 'REQUIRED', message: 'a reason is required' }]);
  return withTx(pool, async (c) => {
    await lockBooks(c);
    const r = await lockRow(c, id);
    if (approver.name !== r.proposed_by && !can(approver.role, 'accounting.approve')) {
      throw closeError(C.NOT_AN_APPROVER, `${approver.name} (role ${approver.role}) may not reject adjustments (needs accounting.approve)`, [], 'forbidden');
    }
    mustBeOpen(r);
    const at = ctx.clock.now().toISOString();
    const next: Row = { ...r, status: 'rejected', decided_by: approver.name, decided_at: at, decision_note: why };
    await c.query(`UPDATE close_adjustments SET status = 'rejected', decided_by = $2, decided_at = $3, decision_note = $4 WHERE id = $1`, [id, approver.name, at, why]);
    await appendAudit(c, [{
      actor: approver.name, action: approver.name === r.proposed_by ? 'adjustment.withdraw' : 'adjustment.reject', entity: 'close_adjustments', entityId: id,
      data: { period: r.period, proposedBy: r.proposed_by, reason: why }, rowHash: rowHashOf(next), at: new Date(at),
    }]);
    return toAdjustment(next);
  });
}

/** Adjustments, newest first, by status and period. */
export async function listAdjustments(db: Pool | Client, q: { status?: AdjustmentStatus; period?: string } = {}): Promise<Adjustment[]> {
  if (q.period) parsePeriod(q.period);
  const { rows } = await db.query<Row>(
    `SELECT id, period, target_date, memo, postings, status, proposed_by, proposed_at, decided_by, decided_at, decision_note, entry_id, posted_date
       FROM close_adjustments WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR period = $2) ORDER BY proposed_at DESC, id DESC LIMIT 1000`,
    [q.status ?? null, q.period ?? null]);
  return rows.map(toAdjustment);
}

/** @throws DomainError CLOSE_ADJUSTMENT_NOT_FOUND */
export async function getAdjustment(db: Pool | Client, id: string): Promise<Adjustment> {
  const { rows } = await db.query<Row>(
    `SELECT id, period, target_date, memo, postings, status, proposed_by, proposed_at, decided_by, decided_at, decision_note, entry_id, posted_date
       FROM close_adjustments WHERE id = $1`, [id]);
  if (!rows[0]) throw closeError(C.ADJUSTMENT_NOT_FOUND, `adjustment ${id} does not exist`, [], 'not_found');
  return toAdjustment(rows[0]);
}
