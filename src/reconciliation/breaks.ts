/**
 * Breaks: what a run could not match, and what people do about it. Each action (assign, comment,
 * match by hand, propose, approve or reject an adjustment) is recorded on the break (its history)
 * and appended to the audit trail. An adjusting entry is maker-checker: one person proposes it, a
 * second, different person approves it; only then is it posted, through the ledger, with an
 * idempotency key, and the break resolved.
 */
import { withTx, type Client, type Pool } from '../db/index.js';
import { appendAudit, lockBooks, postEntriesIn, type EntryInput } from '../ledger/index.js';
import { fromMinor, newId, parseDate, toMinor, type DomainError } from '../kernel/index.js';
import { ReconCodes, reconError } from './errors.js';
import type { BreakType } from './engine.js';
import { resolveLink } from './links.js';
import { lockLedgerAccounts, writeMatches } from './run.js';
import { canonical, ctxOf, dayOf, lockAccount, scaleOf, sha256, type ReconCtx } from './util.js';

export const BREAK_TYPES: readonly BreakType[] = ['missing_ours', 'missing_theirs', 'amount_differs', 'quantity_differs', 'date_differs'];

/** Aging buckets of open breaks, in days since the statement line's (or our entry's) date. */
export const AGING_BUCKETS = [
  { bucket: '0-1', min: 0, max: 1 },
  { bucket: '2-5', min: 2, max: 5 },
  { bucket: '6-15', min: 6, max: 15 },
  { bucket: '16-30', min: 16, max: 30 },
  { bucket: '31-60', min: 31, max: 60 },
  { bucket: '61+', min: 61, max: Infinity },
] as const;
export const bucketOf = (age: number): string => AGING_BUCKETS.find((b) => age >= b.min && age <= b.max)!.bucket;

/** A statement line in a break or a match. */
export interface LineItem {
  lineId: string;
  statement: string;
  statementId: string;
  index: number;
  date: string | null;
  amount: string;
  currency: string | null;
  ourRef: string | null;
  servicerRef: string | null;
  refs: string[];
  description: string | null;
  security: string | null;
}

/** One of our postings in a break or a match. */
export interface OurItem {
  entryId: string;
  entryKey: string;
  line: number;
  account: string;
  date: string;
  amount: string;
  memo: string;
}

export interface AdjustmentView {
  id: string;
  breakId: string;
  status: 'proposed' | 'approved' | 'rejected' | 'withdrawn';
  entry: EntryInput;
  proposedBy: string;
  proposedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  reason: string | null;
  entryId: string | null;
}

export interface BreakView {
  id: string;
  account: string;
  ledgerAccount: string | null;
  type: BreakType;
  status: 'open' | 'resolved';
  resolution: 'manual_match' | 'adjustment' | 'matched' | 'superseded' | null;
  /** The date the age counts from. */
  date: string;
  ageDays: number;
  bucket: string;
  /** Currency, or security for holdings. */
  unit: string;
  /** Statement side and our side (decimal strings; null when that side has nothing), and theirs - ours. */
  theirs: string | null;
  ours: string | null;
  difference: string | null;
  statement: string | null;
  asset: string | null;
  items: { theirs: LineItem[]; ours: OurItem[] };
  assignee: string | null;
  comments: number;
  pendingAdjustment: AdjustmentView | null;
  runId: string;
  foundAt: string;
  resolvedAt: string | null;
  resolvedBy: string | null;
  matchId: string | null;
  entryId: string | null;
  supersededBy: string | null;
}

export interface BreakEvent { at: string; actor: string; action: string; data: Record<string, unknown> }
export interface BreakDetail extends BreakView { history: BreakEvent[]; adjustments: AdjustmentView[] }

export interface BreakQuery {
  status?: 'open' | 'resolved';
  /** Age as of this date (default today); with it, breaks dated after it are left out. */
  asOf?: string;
  account?: string;
  type?: BreakType;
  assignee?: string;
  ids?: string[];
  limit?: number;
}

export interface AgingRow { bucket: string; count: number; byType: Partial<Record<BreakType, number>> }
export interface BreakList { asOf: string; breaks: BreakView[]; aging: AgingRow[]; total: number }

interface BreakRow {
  id: string; statement_account: string; ledger_account: string | null; type: BreakType; status: 'open' | 'resolved'; resolution: BreakView['resolution'];
  line_ids: string[]; entry_seqs: string[]; posting_lines: number[]; statement: string | null; asset: string | null;
  theirs_amount: string | null; ours_amount: string | null; unit: string; item_date: string; run_id: bigint; found_at: string; assignee: string | null;
  resolved_at: string | null; resolved_by: string | null; match_id: bigint | null; entry_id: string | null; superseded_by: string | null; comments: number;
}

const BREAK_SELECT = `SELECT b.id, b.statement_account, k.ledger_account, b.type, b.status, b.resolution, b.line_ids::text[] AS line_ids, b.entry_seqs::text[] AS entry_seqs,
    b.posting_lines, b.statement, b.asset, b.theirs_amount::text AS theirs_amount, b.ours_amount::text AS ours_amount, b.unit, b.item_date, b.run_id, b.found_at,
    b.assignee, b.resolved_at, b.resolved_by, b.match_id, b.entry_id, b.superseded_by,
    (SELECT count(*)::int FROM recon_break_events e WHERE e.break_id = b.id AND e.action = 'commented') AS comments
  FROM recon_breaks b LEFT JOIN recon_links k ON k.statement_account = b.statement_account`;

const adjView = (r: Record<string, unknown>): AdjustmentView => ({
  id: r.id as string, breakId: r.break_id as string, status: r.status as AdjustmentView['status'], entry: r.entry as EntryInput,
  proposedBy: r.proposed_by as string, proposedAt: r.proposed_at as string, decidedBy: (r.decided_by as string) ?? null, decidedAt: (r.decided_at as string) ?? null,
  reason: (r.reason as string) ?? null, entryId: (r.entry_id as string) ?? null,
});

/** Difference theirs - ours of two decimal strings of one unit (null when theirs is not a number). */
function difference(theirs: string | null, ours: string | null): string | null {
  const t = theirs ?? '0', o = ours ?? '0';
  if (!/^-?\d+(\.\d+)?$/.test(t) || !/^-?\d+(\.\d+)?$/.test(o)) return null;
  const scale = Math.max((t.split('.')[1] ?? '').length, (o.split('.')[1] ?? '').length);
  return fromMinor(toMinor(t, scale) - toMinor(o, scale), scale);
}

/** Statement lines by id, for display. */
export async function lineItems(db: Pool | Client, ids: (string | number | bigint)[]): Promise<Map<string, LineItem>> {
  if (!ids.length) return new Map();
  const { rows } = await db.query(
    `SELECT l.id::text AS id, l.statement, s.statement_id, l.idx, coalesce(l.booking_date, l.value_date, s.statement_date) AS date, l.amount::text AS amount,
            coalesce(l.currency, s.currency) AS currency, l.our_ref, l.servicer_ref, l.refs, coalesce(l.remittance, l.counterparty, l.info) AS description, l.security
       FROM recon_lines l JOIN recon_statements s ON s.id = l.statement WHERE l.id = ANY($1::bigint[])`, [ids.map(String)]);
  return new Map(rows.map((r) => [r.id, {
    lineId: r.id, statement: r.statement, statementId: r.statement_id, index: r.idx, date: r.date, amount: r.amount, currency: r.currency,
    ourRef: r.our_ref, servicerRef: r.servicer_ref, refs: r.refs, description: r.description, security: r.security,
  }]));
}

/** Our postings by (entry seq, line), for display. */
export async function ourItems(db: Pool | Client, keys: [string, number][]): Promise<Map<string, OurItem>> {
  if (!keys.length) return new Map();
  const { rows } = await db.query(
    `SELECT p.entry_seq::text AS seq, p.line, e.id, e.idempotency_key, a.name AS account, p.effective_date, p.amount::text AS amount, s.scale, e.memo
       FROM unnest($1::bigint[], $2::smallint[]) AS k(seq, line)
       JOIN postings p ON p.entry_seq = k.seq AND p.line = k.line JOIN journal_entries e ON e.seq = p.entry_seq
       JOIN accounts a ON a.id = p.account_id JOIN assets s ON s.code = p.asset`, [keys.map((k) => k[0]), keys.map((k) => k[1])]);
  return new Map(rows.map((r) => [`${r.seq}:${r.line}`, {
    entryId: r.id, entryKey: r.idempotency_key, line: r.line, account: r.account, date: r.effective_date, amount: fromMinor(BigInt(r.amount), r.scale), memo: r.memo,
  }]));
}

async function hydrate(db: Pool | Client, rows: BreakRow[], asOf: string): Promise<BreakView[]> {
  const lines = await lineItems(db, rows.flatMap((r) => r.line_ids));
  const ours = await ourItems(db, rows.flatMap((r) => r.entry_seqs.map((s, i): [string, number] => [s, r.posting_lines[i]!])));
  const pending = rows.length
    ? (await db.query(`SELECT * FROM recon_adjustments WHERE status = 'proposed' AND break_id = ANY($1)`, [rows.map((r) => r.id)])).rows
    : [];
  const pendingOf = new Map(pending.map((p) => [p.break_id as string, adjView(p)]));
  const today = dayOf(asOf);
  return rows.map((r) => {
    const age = Math.max(0, today - dayOf(r.item_date));
    return {
      id: r.id, account: r.statement_account, ledgerAccount: r.ledger_account, type: r.type, status: r.status, resolution: r.resolution,
      date: r.item_date, ageDays: age, bucket: bucketOf(age), unit: r.unit, theirs: r.theirs_amount, ours: r.ours_amount,
      difference: r.type === 'date_differs' ? null : difference(r.theirs_amount, r.ours_amount), statement: r.statement, asset: r.asset,
      items: {
        theirs: r.line_ids.map((id) => lines.get(id)).filter((x): x is LineItem => !!x),
        ours: r.entry_seqs.map((s, i) => ours.get(`${s}:${r.posting_lines[i]}`)).filter((x): x is OurItem => !!x),
      },
      assignee: r.assignee, comments: r.comments, pendingAdjustment: pendingOf.get(r.id) ?? null, runId: r.run_id.toString(), foundAt: r.found_at,
      resolvedAt: r.resolved_at, resolvedBy: r.resolved_by, matchId: r.match_id === null ? null : r.match_id.toString(), entryId: r.entry_id, supersededBy: r.superseded_by,
    };
  });
}

/**
 * Breaks, oldest first, with their items and age as of `asOf` (default: today by the clock), and
 * the open ones counted by aging bucket and type.
 * @throws DomainError DATE_INVALID
 */
export async function listBreaks(db: Pool | Client, q: BreakQuery = {}, ctx: Partial<ReconCtx> = {}): Promise<BreakList> {
  const asOf = q.asOf ? parseDate(q.asOf, 'as-of date') : ctxOf(ctx).clock.now().toISOString().slice(0, 10);
  const params: unknown[] = [asOf];
  const where = ['b.item_date <= $1'];
  const p = (v: unknown) => { params.push(v); return `$${params.length}`; };
  if (q.account) where.push(`(b.statement_account = ${p(q.account)} OR k.ledger_account = $${params.length})`);
  if (q.type) where.push(`b.type = ${p(q.type)}`);
  if (q.assignee) where.push(`b.assignee = ${p(q.assignee)}`);
  if (q.ids) where.push(`b.id = ANY(${p(q.ids)})`);
  // The aging counts open breaks under the same filters (whatever the status asked for the list).
  const agingParams = [...params];
  const agingWhere = [...where, "b.status = 'open'"];
  if (q.status) where.push(`b.status = ${p(q.status)}`);
  const from = 'FROM recon_breaks b LEFT JOIN recon_links k ON k.statement_account = b.statement_account';
  const limit = Math.min(Math.max(q.limit ?? 5000, 1), 100_000);
  const { rows } = await db.query<BreakRow>(`${BREAK_SELECT} WHERE ${where.join(' AND ')} ORDER BY b.item_date, b.id LIMIT ${limit}`, params);
  const counts = await db.query<{ age: number; type: BreakType; n: number }>(
    `SELECT ($1::date - b.item_date) AS age, b.type, count(*)::int AS n ${from} WHERE ${agingWhere.join(' AND ')} GROUP BY 1, 2`, agingParams);
  const aging: AgingRow[] = AGING_BUCKETS.map((b) => ({ bucket: b.bucket, count: 0, byType: {} }));
  for (const r of counts.rows) {
    const row = aging.find((a) => a.bucket === bucketOf(Math.max(0, r.age)))!;
    row.count += r.n;
    row.byType[r.type] = (row.byType[r.type] ?? 0) + r.n;
  }
  const total = (await db.query<{ n: number }>(`SELECT count(*)::int AS n ${from} WHERE ${where.join(' AND ')}`, params)).rows[0]!.n;
  return { asOf, breaks: await hydrate(db, rows, asOf), aging, total };
}

/**
 * One break with its history and every adjustment proposed for it.
 * @throws DomainError RECON_BREAK_NOT_FOUND
 */
export async function getBreak(db: Pool | Client, id: string, ctx: Partial<ReconCtx> = {}, asOf?: string): Promise<BreakDetail> {
  const { rows } = await db.query<BreakRow>(`${BREAK_SELECT} WHERE b.id = $1`, [id]);
  if (!rows[0]) throw reconError(ReconCodes.BREAK_NOT_FOUND, 'not_found', `break ${id} does not exist`);
  const [view] = await hydrate(db, rows, asOf ?? ctxOf(ctx).clock.now().toISOString().slice(0, 10));
  const ev = await db.query<{ at: string; actor: string; action: string; data: Record<string, unknown> }>('SELECT at, actor, action, data FROM recon_break_events WHERE break_id = $1 ORDER BY id', [id]);
  const adj = await db.query('SELECT * FROM recon_adjustments WHERE break_id = $1 ORDER BY proposed_at, id', [id]);
  return { ...view!, history: ev.rows, adjustments: adj.rows.map(adjView) };
}

// ---------------------------------------------------------------------------------------------
// Actions

async function lockedBreak(c: Client, id: string, wantOpen = true): Promise<BreakRow> {
  const acc = await c.query<{ statement_account: string }>('SELECT statement_account FROM recon_breaks WHERE id = $1', [id]);
  if (!acc.rows[0]) throw reconError(ReconCodes.BREAK_NOT_FOUND, 'not_found', `break ${id} does not exist`);
  await lockAccount(c, acc.rows[0].statement_account);
  const { rows } = await c.query<BreakRow>(`${BREAK_SELECT} WHERE b.id = $1`, [id]);
  const b = rows[0]!;
  if (wantOpen && b.status !== 'open') {
    throw reconError(ReconCodes.BREAK_NOT_OPEN, 'conflict', `break ${id} is already resolved (${b.resolution}${b.resolved_by ? ` by ${b.resolved_by}` : ''})`);
  }
  return b;
}

/** A break's history event (for people) and the same action in the audit trail. */
async function record(c: Client, breakId: string, actor: string, at: Date, event: string, action: string, data: Record<string, unknown>, entity = 'recon_breaks', entityId = breakId) {
  await c.query('INSERT INTO recon_break_events (break_id, at, actor, action, data) VALUES ($1, $2, $3, $4, $5)', [breakId, at.toISOString(), actor, event, JSON.stringify(data)]);
  await lockBooks(c);
  await appendAudit(c, [{ actor, action, entity, entityId, data: { break: breakId, ...data }, rowHash: sha256(canonical({ breakId, at: at.toISOString(), actor, event, data })), at }]);
}

/**
 * Assign a break to a person (a user of the back office), or unassign it (null). Audited.
 * @throws DomainError RECON_BREAK_NOT_FOUND; RECON_BREAK_NOT_OPEN; RECON_ARGUMENT_INVALID for an unknown or disabled user
 */
export async function assignBreak(pool: Pool, id: string, assignee: string | null, ctx: Partial<ReconCtx> = {}): Promise<BreakDetail> {
  const { actor, clock } = ctxOf(ctx);
  await withTx(pool, async (c) => {
    const b = await lockedBreak(c, id);
    if (assignee !== null) {
      const u = await c.query('SELECT 1 FROM users WHERE name = $1 AND NOT disabled', [assignee]);
      if (!u.rowCount) throw reconError(ReconCodes.ARGUMENT_INVALID, 'invalid', `break ${id}: assignee "${assignee}" is not an active user`);
    }
    if (b.assignee === assignee) return;
    await c.query('UPDATE recon_breaks SET assignee = $2 WHERE id = $1', [id, assignee]);
    await record(c, id, actor, clock.now(), 'assigned', 'recon.break.assign', { assignee, previous: b.assignee });
  });
  return getBreak(pool, id, ctx);
}

/**
 * Comment on a break (open or resolved). Audited.
 * @throws DomainError RECON_BREAK_NOT_FOUND; RECON_ARGUMENT_INVALID for an empty comment
 */
export async function commentBreak(pool: Pool, id: string, text: string, ctx: Partial<ReconCtx> = {}): Promise<BreakDetail> {
  const { actor, clock } = ctxOf(ctx);
  const t = text.trim();
  if (!t || t.length > 4000) throw reconError(ReconCodes.ARGUMENT_INVALID, 'invalid', `break ${id}: a comment is 1 to 4000 characters`);
  await withTx(pool, async (c) => {
    await lockedBreak(c, id, false);
    await record(c, id, actor, clock.now(), 'commented', 'recon.break.comment', { text: t });
  });
  return getBreak(pool, id, ctx);
}

/**
 * Match breaks by hand: the items of all the breaks named (of one account) become one match (rule
 * `manual`, with the reason), and the breaks are resolved. A single break may be matched alone (its
 * items accepted as they are, say a bank charge booked elsewhere). Pending adjustments of these
 * breaks are withdrawn. Audited.
 * @throws DomainError RECON_BREAK_NOT_FOUND; RECON_BREAK_NOT_OPEN; RECON_ARGUMENT_INVALID (no reason,
 *   breaks of different accounts)
 */
export async function matchBreaks(pool: Pool, ids: string[], reason: string, ctx: Partial<ReconCtx> = {}): Promise<BreakDetail[]> {
  const { actor, clock } = ctxOf(ctx);
  const why = reason.trim();
  const list = [...new Set(ids)];
  if (!list.length) throw reconError(ReconCodes.ARGUMENT_INVALID, 'invalid', 'name at least one break to match');
  if (!why) throw reconError(ReconCodes.ARGUMENT_INVALID, 'invalid', `matching break ${list.join(', ')} by hand needs a reason`);
  await withTx(pool, async (c) => {
    const rows: BreakRow[] = [];
    for (const id of [...list].sort()) rows.push(await lockedBreak(c, id));
    const accounts = [...new Set(rows.map((r) => r.statement_account))];
    if (accounts.length > 1) throw reconError(ReconCodes.ARGUMENT_INVALID, 'invalid', `breaks ${list.join(', ')} belong to different accounts (${accounts.join(', ')}): one match is of one account`);
    const at = clock.now();
    const run = await c.query<{ id: bigint }>(`INSERT INTO recon_runs (statement_account, kind, reason, at, actor, summary) VALUES ($1, 'manual', $2, $3, $4, $5) RETURNING id`,
      [accounts[0], why, at.toISOString(), actor, JSON.stringify({ breaks: list })]);
    const runId = run.rows[0]!.id;
    const [matchId] = await writeMatches(c, accounts[0]!, runId, [matchRowsOf(rows, 'manual')]);
    await resolveBreaks(c, rows.map((r) => r.id), 'manual_match', matchId!, null, actor, at);
    for (const r of rows) await record(c, r.id, actor, at, 'matched', 'recon.break.match', { reason: why, match: matchId!.toString(), with: list.filter((x) => x !== r.id) });
  });
  const out: BreakDetail[] = [];
  for (const id of list) out.push(await getBreak(pool, id, ctx));
  return out;
}

/** The match items of breaks: their lines, our postings, and for holdings the position at our quantity. */
function matchRowsOf(rows: BreakRow[], rule: string, extra: { seq: number; line: number }[] = [], positionQuantity?: (b: BreakRow) => string | null) {
  const lineIds = rows.flatMap((r) => r.line_ids.map(Number));
  const ours = [...rows.flatMap((r) => r.entry_seqs.map((s, i) => ({ seq: Number(s), line: r.posting_lines[i]! }))), ...extra];
  const positions = rows.filter((r) => r.statement && r.asset).map((r) => ({ statement: r.statement!, asset: r.asset!, quantity: positionQuantity ? positionQuantity(r) : r.ours_amount }));
  const n = Math.max(lineIds.length, ours.length);
  const out = [];
  for (let i = 0; i < n; i++) {
    out.push({ matchId: 0n, rule, lineId: lineIds[i] ?? null, seq: ours[i]?.seq ?? null, pline: ours[i]?.line ?? null, statement: null, asset: null, quantity: null });
  }
  for (const p of positions) out.push({ matchId: 0n, rule, lineId: null, seq: null, pline: null, statement: p.statement, asset: p.asset, quantity: p.quantity });
  return out;
}

async function resolveBreaks(c: Client, ids: string[], resolution: 'manual_match' | 'adjustment', matchId: bigint, entryId: string | null, actor: string, at: Date) {
  await c.query(`UPDATE recon_breaks SET status = 'resolved', resolution = $2, match_id = $3, entry_id = $4, resolved_at = $5, resolved_by = $6 WHERE id = ANY($1)`,
    [ids, resolution, matchId.toString(), entryId, at.toISOString(), actor]);
  const w = await c.query<{ id: string; break_id: string }>(
    `UPDATE recon_adjustments SET status = 'withdrawn', decided_at = $2, decided_by = $3, reason = 'the break was resolved otherwise'
      WHERE break_id = ANY($1) AND status = 'proposed' RETURNING id, break_id`, [ids, at.toISOString(), actor]);
  for (const x of w.rows) await record(c, x.break_id, actor, at, 'adjustment_withdrawn', 'recon.adjustment.withdraw', { adjustment: x.id }, 'recon_adjustments', x.id);
}

export interface ProposeInput {
  /** The other side of the adjusting entry (expenses:bank-charges, a suspense account...). */
  offsetAccount: string;
  /** Signed amount on the reconciled account (default: theirs - ours), decimal string. */
  amount?: string;
  /** Effective date (default: the break's date). */
  date?: string;
  memo?: string;
  /** The account adjusted (default: the linked ledger account; needed for a custody prefix that is not itself an account). */
  account?: string;
}

/**
 * Propose an adjusting entry for a break: the reconciled account by the difference (theirs - ours,
 * or the amount given) against an offset account. Nothing is posted until a second person approves.
 * Audited (recon.adjustment.propose).
 * @throws DomainError RECON_BREAK_NOT_FOUND; RECON_BREAK_NOT_OPEN; RECON_ADJUSTMENT_NOT_PENDING (conflict)
 *   when one is already proposed; RECON_ARGUMENT_INVALID (nothing to adjust, unknown account, bad amount or date)
 */
export async function proposeAdjustment(pool: Pool, breakId: string, input: ProposeInput, ctx: Partial<ReconCtx> = {}): Promise<AdjustmentView> {
  const { actor, clock } = ctxOf(ctx);
  return withTx(pool, async (c) => {
    const b = await lockedBreak(c, breakId);
    const pend = await c.query('SELECT id, proposed_by FROM recon_adjustments WHERE break_id = $1 AND status = $2', [breakId, 'proposed']);
    if (pend.rows[0]) throw reconError(ReconCodes.ADJUSTMENT_NOT_PENDING, 'conflict', `break ${breakId} already has adjustment ${pend.rows[0].id} proposed by ${pend.rows[0].proposed_by}: approve or reject it first`);
    const link = await resolveLink(c, b.statement_account);
    const unit = link.kind === 'cash' ? link.asset! : b.asset;
    if (!unit) throw reconError(ReconCodes.ARGUMENT_INVALID, 'invalid', `break ${breakId}: the security ${b.unit} is not known to us; register it (reference data) or match the break by hand`);
    const scale = (await scaleOf(c, unit)) ?? 0;
    let amount: bigint;
    try {
      amount = input.amount !== undefined
        ? toMinor(input.amount, scale, 'amount')
        : toMinor(b.theirs_amount ?? '0', scale, 'theirs') - toMinor(b.ours_amount ?? '0', scale, 'ours');
    } catch (e) {
      throw reconError(ReconCodes.ARGUMENT_INVALID, 'invalid', `break ${breakId}: ${(e as DomainError).message}`);
    }
    if (amount === 0n) throw reconError(ReconCodes.ARGUMENT_INVALID, 'invalid', `break ${breakId} (${b.type}): the two sides agree on the amount, nothing to adjust; match it by hand with a reason`);
    const account = input.account ?? link.ledgerAccount;
    // A date in a closed period: the break's own date moves to the first open day (the memo keeps
    // it); a date given explicitly is refused now rather than at approval.
    const { closedThrough } = await import('../ledger/index.js');
    const through = await closedThrough(c);
    const wanted = input.date ? parseDate(input.date, 'date') : b.item_date;
    if (through && wanted <= through && input.date) {
      const message = `break ${breakId}: date ${wanted} is in a closed period (the books are closed through ${through}); give a later date, or none for the first open day`;
      throw reconError(ReconCodes.ARGUMENT_INVALID, 'invalid', message, [{ record: breakId, field: 'date', rule: 'PERIOD_CLOSED', message }]);
    }
    const date = through && wanted <= through ? new Date(Date.parse(`${through}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10) : wanted;
    if (date !== wanted) input = { ...input, memo: `${input.memo ? `${input.memo}; ` : ''}belongs to ${wanted} (closed through ${through}), booked on the first open day` };
    for (const a of [account, input.offsetAccount]) {
      if (!(await c.query('SELECT 1 FROM accounts WHERE name = $1', [a])).rowCount) throw reconError(ReconCodes.ARGUMENT_INVALID, 'invalid', `break ${breakId}: ledger account ${a} does not exist`);
    }
    if (account === input.offsetAccount) throw reconError(ReconCodes.ARGUMENT_INVALID, 'invalid', `break ${breakId}: the offset account must differ from the account adjusted (${account})`);
    const id = newId('radj');
    const entry: EntryInput = {
      key: `recon-adjustment:${id}`, date,
      memo: `Reconciliation adjustment, break ${breakId} (${b.type}, ${b.statement_account})${input.memo ? `: ${input.memo}` : ''}`,
      postings: [
        { account, asset: unit, amount: fromMinor(amount, scale) },
        { account: input.offsetAccount, asset: unit, amount: fromMinor(-amount, scale) },
      ],
    };
    const at = clock.now();
    await c.query(`INSERT INTO recon_adjustments (id, break_id, status, entry, proposed_by, proposed_at) VALUES ($1, $2, 'proposed', $3, $4, $5)`,
      [id, breakId, JSON.stringify(entry), actor, at.toISOString()]);
    await record(c, breakId, actor, at, 'adjustment_proposed', 'recon.adjustment.propose', { adjustment: id, entry }, 'recon_adjustments', id);
    return adjView((await c.query('SELECT * FROM recon_adjustments WHERE id = $1', [id])).rows[0]);
  });
}

async function lockedAdjustment(c: Client, id: string) {
  const r = await c.query('SELECT a.*, b.statement_account FROM recon_adjustments a JOIN recon_breaks b ON b.id = a.break_id WHERE a.id = $1', [id]);
  if (!r.rows[0]) throw reconError(ReconCodes.ADJUSTMENT_NOT_FOUND, 'not_found', `adjustment ${id} does not exist`);
  await lockAccount(c, r.rows[0].statement_account);
  const a = adjView((await c.query('SELECT * FROM recon_adjustments WHERE id = $1 FOR UPDATE', [id])).rows[0]);
  if (a.status !== 'proposed') {
    throw reconError(ReconCodes.ADJUSTMENT_NOT_PENDING, 'conflict', `adjustment ${id} is already ${a.status}${a.decidedBy ? ` (by ${a.decidedBy})` : ''}`);
  }
  return a;
}

/**
 * Approve a proposed adjustment (maker-checker: not by the person who proposed it). Posts the entry
 * through the ledger (idempotency key `recon-adjustment:<id>`), matches the break's items with the
 * new posting (rule `adjustment`) and resolves the break, in one transaction. Audited.
 * @throws DomainError RECON_ADJUSTMENT_NOT_FOUND; RECON_ADJUSTMENT_NOT_PENDING; RECON_ADJUSTMENT_SAME_PERSON
 *   (forbidden); the ledger's errors when the entry is refused (closed period...), nothing then written
 */
export async function approveAdjustment(pool: Pool, id: string, ctx: Partial<ReconCtx> = {}): Promise<{ adjustment: AdjustmentView; break: BreakDetail }> {
  const { actor, clock } = ctxOf(ctx);
  const breakId = await withTx(pool, async (c) => {
    const a = await lockedAdjustment(c, id);
    if (a.proposedBy === actor) return { refused: a };
    const b = await lockedBreak(c, a.breakId);
    // The match writers' locks of the ledger accounts (the break's postings', the one adjusted)
    // come before the ledger's own lock that posting takes (see lockLedgerAccounts).
    const accounts = await c.query<{ id: number }>(
      `SELECT id FROM accounts WHERE name = ANY($1)
       UNION SELECT p.account_id FROM unnest($2::bigint[], $3::smallint[]) AS k(s, l) JOIN postings p ON p.entry_seq = k.s AND p.line = k.l`,
      [a.entry.postings.map((p) => p.account), b.entry_seqs, b.posting_lines]);
    await lockLedgerAccounts(c, accounts.rows.map((r) => r.id));
    const at = clock.now();
    const [outcome] = await postEntriesIn(c, [a.entry], { actor, clock }, 'all');
    const entryId = outcome!.status === 'rejected' ? '' : outcome!.id;
    const seq = (await c.query<{ seq: bigint }>('SELECT seq FROM journal_entries WHERE id = $1', [entryId])).rows[0]!.seq;
    const run = await c.query<{ id: bigint }>(`INSERT INTO recon_runs (statement_account, kind, reason, at, actor, summary) VALUES ($1, 'adjustment', $2, $3, $4, $5) RETURNING id`,
      [b.statement_account, `adjustment ${id}`, at.toISOString(), actor, JSON.stringify({ adjustment: id, break: b.id, entry: entryId })]);
    const link = await resolveLink(c, b.statement_account);
    // Cash: the new posting on the reconciled account joins the break's items. Holdings: the position, now at the statement's quantity.
    const extra = link.kind === 'cash' ? [{ seq: Number(seq), line: 0 }] : [];
    const [matchId] = await writeMatches(c, b.statement_account, run.rows[0]!.id, [matchRowsOf([b], 'adjustment', extra, (r) => r.theirs_amount)]);
    await c.query(`UPDATE recon_adjustments SET status = 'approved', decided_by = $2, decided_at = $3, entry_id = $4 WHERE id = $1`, [id, actor, at.toISOString(), entryId]);
    await record(c, b.id, actor, at, 'adjustment_approved', 'recon.adjustment.approve', { adjustment: id, entry: entryId, key: a.entry.key, proposedBy: a.proposedBy }, 'recon_adjustments', id);
    await c.query(`UPDATE recon_breaks SET status = 'resolved', resolution = 'adjustment', match_id = $2, entry_id = $3, resolved_at = $4, resolved_by = $5 WHERE id = $1`,
      [b.id, matchId!.toString(), entryId, at.toISOString(), actor]);
    await record(c, b.id, actor, at, 'resolved', 'recon.break.resolve', { resolution: 'adjustment', entry: entryId, match: matchId!.toString() });
    return b.id;
  });
  if (typeof breakId !== 'string') {
    // The refusal is on the record too (in its own transaction: the approval wrote nothing).
    const a = breakId.refused;
    await withTx(pool, (c) => record(c, a.breakId, actor, clock.now(), 'approval_refused', 'recon.adjustment.approve_refused',
      { adjustment: id, rule: 'maker-checker', proposedBy: a.proposedBy }, 'recon_adjustments', id));
    throw reconError(ReconCodes.SAME_PERSON, 'forbidden', `adjustment ${id} was proposed by ${actor}: a second, different person must approve it (maker-checker)`);
  }
  const detail = await getBreak(pool, breakId, ctx);
  return { adjustment: detail.adjustments.find((x) => x.id === id)!, break: detail };
}

/**
 * Reject a proposed adjustment, with a reason. The break stays open. Audited.
 * @throws DomainError RECON_ADJUSTMENT_NOT_FOUND; RECON_ADJUSTMENT_NOT_PENDING; RECON_ARGUMENT_INVALID (no reason)
 */
export async function rejectAdjustment(pool: Pool, id: string, reason: string, ctx: Partial<ReconCtx> = {}): Promise<{ adjustment: AdjustmentView; break: BreakDetail }> {
  const { actor, clock } = ctxOf(ctx);
  const why = reason.trim();
  if (!why) throw reconError(ReconCodes.ARGUMENT_INVALID, 'invalid', `rejecting adjustment ${id} needs a reason`);
  const breakId = await withTx(pool, async (c) => {
    const a = await lockedAdjustment(c, id);
    const at = clock.now();
    await c.query(`UPDATE recon_adjustments SET status = 'rejected', decided_by = $2, decided_at = $3, reason = $4 WHERE id = $1`, [id, actor, at.toISOString(), why]);
    await record(c, a.breakId, actor, at, 'adjustment_rejected', 'recon.adjustment.reject', { adjustment: id, reason: why, proposedBy: a.proposedBy }, 'recon_adjustments', id);
    return a.breakId;
  });
  const detail = await getBreak(pool, breakId, ctx);
  return { adjustment: detail.adjustments.find((x) => x.id === id)!, break: detail };
}

/** The pending adjustment of a break (for commands that name the break rather than the adjustment). */
export async function pendingAdjustmentOf(db: Pool | Client, breakOrAdjustment: string): Promise<string> {
  if (breakOrAdjustment.startsWith('radj_')) return breakOrAdjustment;
  const r = await db.query<{ id: string }>(`SELECT id FROM recon_adjustments WHERE break_id = $1 AND status = 'proposed'`, [breakOrAdjustment]);
  if (!r.rows[0]) throw reconError(ReconCodes.ADJUSTMENT_NOT_FOUND, 'not_found', `break ${breakOrAdjustment} has no adjustment waiting for approval`);
  return r.rows[0].id;
}
