/**
 * A reconciliation run for one linked account as of a date: load what is not matched yet on both
 * sides (COPY out), match in memory (engine.ts), write the matches (COPY in) and bring the open
 * breaks up to date, in one transaction under the account's lock (and the locks of the linked
 * ledger accounts: a line and a posting are matched at most once, see lockLedgerAccounts).
 *
 * Scope: the statement lines of the account's statements dated up to the as-of date (booked lines
 * only: pending and information-only lines are not on the account yet), against our postings on
 * the linked account (and its sub-accounts) in the linked asset dated from the start of the
 * account's first statement up to the as-of date. Custody: each holdings statement dated up to the
 * as-of date against our positions as of its date.
 *
 * Idempotent: matched items stay matched (a run loads only unmatched ones); a break found again is
 * the same open break (same type and items); an open break whose items have since matched is
 * resolved ('matched'); one whose items now form another break is 'superseded' by it.
 * The audit trail gets one event per run (what it matched and found, by rule and type); each
 * break's own history records that the run found or resolved it.
 *
 * Speed (1,000,000 lines against 1,000,000 postings in < 10 s on PostgreSQL 15, bench/reconciliation.ts;
 * the machine has two cores, so the server and this process work at the same time wherever they can):
 * - both sides are read with COPY at once on two connections and parsed row by row as they arrive
 *   (copyOutRows), into typed columns; only what every item needs is read (amounts as bigint text,
 *   dates as day numbers, a line's own reference, our entry key); a line's other references and
 *   our entry ids, memos and reversal links only for the items still open when a rule needs them;
 * - a line's own reference is resolved to an entry among our movements' keys in memory (the next
 *   movements first: both sides run in date order), the ledger's indexes only for the few left;
 * - matching is in memory (engine.ts); the matches made by the lines' own references are written
 *   (COPY, bytes made in place) while the other rules run, the rest and the breaks after;
 * - no unique index is maintained per match item (migration 0018): the locks keep each item once.
 */
import { setImmediate as yieldNow } from 'node:timers/promises';
import { copyIn, copyInChunks, copyInText, copyOutRows, copyText, sqlLiteral as literal, withTx, type Client, type Pool } from '../db/index.js';
import { appendAudit, lockBooks, likePrefix } from '../ledger/index.js';
import { fromMinor, newId, parseDate, toMinor, type DomainError } from '../kernel/index.js';
import { CASH_RULE_NAMES, cashMatcher, matchHoldings, type BreakType, type CashMatchCols, type CashLineCols, type CashOurCols, type HoldingIn, type PositionIn } from './engine.js';
import { ReconCodes, reconError } from './errors.js';
import { resolveLink, type Link } from './links.js';
import { toEngineRules, type Rule } from './rules.js';
import { canonical, copyString, CopyWriter, ctxOf, dateOfDay, dayOf, lockAccount, sameBytes, scaleOf, sha256, type ReconCtx } from './util.js';

export interface BalanceCheck {
  statement: string;
  statementId: string;
  date: string;
  /** The statement's closing balance and ours as of its date, decimal strings. */
  theirs: string;
  ours: string;
  difference: string;
}

export interface RunSummary {
  runId: string;
  account: string;
  ledgerAccount: string;
  kind: 'cash' | 'holdings';
  asOf: string;
  statements: number;
  /** Unmatched items this run looked at, on each side. */
  considered: { lines: number; ours: number };
  matched: { total: number; lines: number; ours: number; byRule: Record<string, number> };
  breaks: {
    /** Breaks first found by this run. */
    found: number;
    /** Open breaks found again (unchanged). */
    unchanged: number;
    /** Open breaks this run closed: their items matched, or now form another break. */
    resolved: number;
    /** Open breaks of the account after the run, by type. */
    open: number;
    byType: Partial<Record<BreakType, number>>;
  };
  balances: BalanceCheck[];
  /** Where the time went, ms. */
  timings: { load: number; match: number; write: number; writeMatches: number; writeBreaks: number };
}

const EPOCH = "date '1970-01-01'";
/** Matches made before the matcher wants entry ids and memos: written meanwhile from this many on. */
const EARLY_WRITE = 10_000;
const FS = '\u001f';

interface WantedBreak {
  type: BreakType;
  lineIds: number[];
  ours: [number, number][];
  statement: string | null;
  asset: string | null;
  theirs: string | null;
  oursAmount: string | null;
  unit: string;
  itemDate: string;
  scopeDate: string;
  fingerprint: string;
}

const fingerprintOf = (b: Omit<WantedBreak, 'fingerprint'>) =>
  `${b.type}|L${b.lineIds.length < 2 ? b.lineIds.join(',') : [...b.lineIds].sort((x, y) => x - y).join(',')}|O${b.ours.length === 1 ? `${b.ours[0]![0]}:${b.ours[0]![1]}` : [...b.ours].map(([s, l]) => `${s}:${l}`).sort().join(',')}|S${b.statement ?? ''}|A${b.asset ?? ''}`;

interface MatchRow { matchId: bigint; rule: string; lineId: number | null; seq: number | null; pline: number | null; statement: string | null; asset: string | null; quantity: string | null }

/**
 * Reconcile a linked account as of a date.
 * @param account the statement account, or the linked ledger account
 * @throws DomainError DATE_INVALID; RECON_NOT_LINKED; RECON_ACCOUNT_UNKNOWN; RECON_AMOUNT_TOO_PRECISE
 *   when a statement amount has more decimals than the linked asset
 */
export async function runReconciliation(pool: Pool, account: string, asOf: string, ctx: Partial<ReconCtx> = {}): Promise<RunSummary> {
  parseDate(asOf, 'as-of date');
  const { actor, clock } = ctxOf(ctx);
  return withTx(pool, async (c) => {
    const link = await resolveLink(c, account);
    // A cash run reads on a second connection too: opened now, while the run starts.
    const spare = link.kind === 'cash' ? connectSpare(pool) : null;
    try {
      return await reconcile(c, link, spare, asOf, actor, clock);
    } finally {
      if (spare) await spare.then(async (x) => { await x.query('RESET work_mem').catch(() => {}); x.release(); }, () => {});
    }
  });
}

/** A connection of the pool for the reads of a run (work_mem as the run's). */
async function connectSpare(pool: Pool): Promise<Client> {
  const x = await pool.connect();
  try {
    await x.query("SET work_mem = '256MB'");
  } catch (e) {
    x.release();
    throw e;
  }
  return x;
}

async function reconcile(c: Client, link: Link, spare: Promise<Client> | null, asOf: string, actor: string, clock: ReconCtx['clock']): Promise<RunSummary> {
  await lockAccount(c, link.statementAccount);
  // The anti-joins against what is already matched and the sorts stay in memory (hash, not merge on disk).
  await c.query("SET LOCAL work_mem = '256MB'");
  const at = clock.now();
  const run = await c.query<{ id: bigint }>(
    `INSERT INTO recon_runs (statement_account, kind, as_of, at, actor) VALUES ($1, 'run', $2, $3, $4) RETURNING id`,
    [link.statementAccount, asOf, at.toISOString(), actor]);
  const runId = run.rows[0]!.id;
  // The open breaks in scope (the account's lock keeps break actions out; their items are read
  // only for those that go). Read first: a cash run writes matches while it still matches.
  const open = await c.query<{ id: string; fingerprint: string }>(
    `SELECT id, fingerprint FROM recon_breaks WHERE statement_account = $1 AND status = 'open' AND scope_date <= $2`, [link.statementAccount, asOf]);
  const work = spare ? await runCash(spare, c, link, asOf, runId) : await runHoldings(c, link, asOf);

  const t0 = performance.now(), t1 = t0;
  // The matches stream to the server (its work, mostly) while the breaks are made ready here.
  const [written, planned] = await Promise.allSettled([
    work.write(c, link.statementAccount, runId),
    work.breaks().then((wanted) => planBreaks(link.statementAccount, runId, at, actor, open.rows, wanted)),
  ]);
  if (written.status === 'rejected') throw written.reason;
  if (planned.status === 'rejected') throw planned.reason;
  const t2 = performance.now();
  const b = await writeBreaks(c, runId, at, actor, planned.value);
  const t3 = performance.now();
  const byRule = work.byRule;
  const openRows = await c.query<{ type: BreakType; n: number }>(
    "SELECT type, count(*)::int AS n FROM recon_breaks WHERE statement_account = $1 AND status = 'open' GROUP BY type ORDER BY type", [link.statementAccount]);
  const byType: Partial<Record<BreakType, number>> = {};
  for (const r of openRows.rows) byType[r.type] = r.n;
  const summary: RunSummary = {
    runId: runId.toString(), account: link.statementAccount, ledgerAccount: link.ledgerAccount, kind: link.kind, asOf, statements: work.statements,
    considered: work.considered,
    matched: { total: Object.values(byRule).reduce((a, n) => a + n, 0), lines: work.matchedLines, ours: work.matchedOurs, byRule },
    breaks: { found: b.found, unchanged: b.unchanged, resolved: b.resolved, open: openRows.rows.reduce((a, r) => a + r.n, 0), byType },
    balances: work.balances,
    timings: { load: work.loadMs, match: work.matchMs, write: 0, writeMatches: t2 - t1, writeBreaks: t3 - t2 },
  };
  await c.query('UPDATE recon_runs SET summary = $2 WHERE id = $1', [runId.toString(), JSON.stringify({ ...summary, timings: undefined })]);
  await lockBooks(c);
  await appendAudit(c, [
    {
      actor, action: 'recon.run', entity: 'recon_runs', entityId: runId.toString(),
      data: { account: link.statementAccount, asOf, matched: summary.matched, breaks: summary.breaks },
      rowHash: sha256(canonical({ runId: runId.toString(), account: link.statementAccount, asOf, at: at.toISOString(), actor, matched: summary.matched, breaks: summary.breaks })), at,
    },
    ...b.audit,
  ]);
  summary.timings.write = performance.now() - t0;
  return summary;
}

interface Work {
  statements: number;
  considered: { lines: number; ours: number };
  byRule: Record<string, number>;
  matchedLines: number;
  matchedOurs: number;
  /** The breaks found, made in slices (they are made while the matches are written). */
  breaks: () => Promise<WantedBreak[]>;
  /** Writes the matches made in memory (COPY). */
  write: (c: Client, account: string, runId: bigint) => Promise<void>;
  balances: BalanceCheck[];
  loadMs: number;
  matchMs: number;
}

async function ledgerAccountIds(c: Client, name: string): Promise<number[]> {
  const r = await c.query<{ id: number }>('SELECT id FROM accounts WHERE name = $1 OR name LIKE $2 ORDER BY id', [name, likePrefix(name)]);
  return r.rows.map((x) => x.id);
}

// ---------------------------------------------------------------------------------------------
// Cash

/** `spare`: a second connection of the pool (work_mem set), for reads while `c` is busy; the caller releases it. */
async function runCash(spare: Promise<Client>, c: Client, link: Link, asOf: string, runId: bigint): Promise<Work> {
  const asset = link.asset!;
  const scale = (await scaleOf(c, asset)) ?? 0;
  const t0 = performance.now();
  const stmts = await c.query<{ id: string; statement_id: string; closing: string | null; statement_date: string | null; own_date: string | null; start: string | null; first_line: string | null; last_line: string | null; open_lines: number }>(
    `SELECT s.id, s.statement_id, s.closing::text AS closing, coalesce(s.statement_date, s.to_date) AS statement_date, s.statement_date AS own_date,
            least(s.from_date, s.statement_date) AS start, s.first_line::text AS first_line, s.last_line::text AS last_line, greatest(s.line_count - s.matched_lines, 0) AS open_lines
       FROM recon_statements s WHERE s.account = $1 AND s.kind = 'cash'
      ORDER BY coalesce(s.statement_date, s.to_date), s.imported_at, s.id`, [link.statementAccount]);
  const inScope = stmts.rows.filter((s) => s.statement_date !== null && s.statement_date <= asOf);
  // From the start of the first statement, less the widest date window of the rules: what we booked a
  // few days before the bank can be on its first statement.
  const starts = stmts.rows.map((s) => s.start).filter((d): d is string => !!d).sort();
  const window = Math.max(0, ...link.rules.map((r) => ('days' in r.params ? Number(r.params.days) : 0)));
  const start = dateOfDay(dayOf(starts[0] ?? asOf) - window);
  const accountIds = await ledgerAccountIds(c, link.ledgerAccount);
  // Our postings on these accounts are matched by whoever holds their locks (see lockMatchWriters).
  await lockLedgerAccounts(c, accountIds);

  // The statements in scope, and the statement of a line: statements hold consecutive line ids
  // (first_line..last_line), so a line's statement, its date and the scope date come from its id.
  const scoped = inScope.map((s) => ({ id: s.id, ownDay: s.own_date === null ? 0 : dayOf(s.own_date), scopeDay: dayOf(s.statement_date!) }));
  const ranges = stmts.rows.filter((x) => x.first_line !== null).map((x) => ({ id: x.id, first: Number(x.first_line), last: Number(x.last_line) })).sort((a, b) => a.first - b.first);
  const rangeOf = (lineId: number): number => {
    let lo = 0, hi = ranges.length - 1;
    while (lo <= hi) {
      const m = (lo + hi) >> 1, r = ranges[m]!;
      if (lineId < r.first) hi = m - 1; else if (lineId > r.last) lo = m + 1; else return m;
    }
    return -1;
  };
  const statementOf = (lineId: number): string | null => { const r = rangeOf(lineId); return r < 0 ? null : ranges[r]!.id; };
  const scopedIdx = new Map(scoped.map((s, i) => [s.id, i]));
  const scopedOfRange = Int32Array.from(ranges, (r) => scopedIdx.get(r.id) ?? -1);
  const idRanges = ranges.filter((r) => scopedIdx.has(r.id));
  const idSpan = idRanges.length ? `AND l.id BETWEEN ${Math.min(...idRanges.map((r) => r.first))} AND ${Math.max(...idRanges.map((r) => r.last))}` : '';
  // Closing balances against ours: the last statement of each closing date.
  const lastOfDate = new Map<string, (typeof inScope)[number]>();
  for (const s of inScope) if (s.closing !== null && s.statement_date) lastOfDate.set(s.statement_date, s);
  const dates = [...lastOfDate.keys()].sort();

  // Theirs: unmatched booked lines of statements dated up to asOf, in id order (the pkey's order: no
  // sort). Ours: unmatched postings on the linked account(s) in the asset, in the period, by entry.
  // Both are read at once as COPY text on two connections (READ COMMITTED: the same as one after
  // the other; the locks keep other writers of matches out) and parsed row by row as they arrive,
  // into columns; our balance per day (for the closing balances) is summed meanwhile on the first
  // connection once its lines are in. Only what every item needs is read: a line's own reference
  // (resolved to an entry below), our entry key; the rest (a line's other references, our entry
  // ids, memos and reversal links) only for the items still open when a rule needs them.
  const L = new LineCols(Math.max(1024, inScope.reduce((a, s) => a + s.open_lines, 0)));
  const tooPrecise: string[] = [];
  const lost: number[] = [];
  let hint = 0;
  const onLine = (b: Buffer, s: number, e: number) => {
    let p = s, q = field(b, p, e);
    const id = intOf(b, p, q, 'statement line id');
    p = q + 1; q = field(b, p, e);
    let a = minorOf(b, p, q, scale), big: bigint | null = null;
    if (a !== a) {
      if (minorState !== TOO_PRECISE) big = bigMinorOf(b.toString('latin1', p, q), scale);
      if (big === null) { tooPrecise.push(String(id)); return; }
      a = exactNum(big);
    }
    const l = L.add();
    L.id[l] = id;
    L.amt[l] = a;
    if (a !== a) L.big.set(l, big!);
    if (hint >= ranges.length || id < ranges[hint]!.first || id > ranges[hint]!.last) hint = rangeOf(id);
    const si = hint < 0 ? -1 : scopedOfRange[hint]!;
    if (si < 0) { lost.push(l); hint = 0; }
    L.stmt[l] = si;
    p = q + 1; q = field(b, p, e);
    L.day[l] = isNull(b, p, q) ? (si < 0 ? 0 : scoped[si]!.ownDay) : intOf(b, p, q, 'date');
    p = q + 1; q = field(b, p, e);
    L.txCount[l] = intOf(b, p, q, 'transaction count');
    p = q + 1;
    if (isNull(b, p, e)) L.refS[l] = -1;
    else { L.refS[l] = L.text.add(b, p, e); L.refE[l] = L.text.n; L.refH[l] = L.text.hash; }
  };
  let daily: { d: string; total: string }[] = [];
  const readLines = async () => {
    if (scoped.length) {
      await copyOutRows(c, `SELECT l.id, l.amount::text, coalesce(l.booking_date, l.value_date) - ${EPOCH}, l.tx_count, l.our_ref
          FROM recon_lines l
         WHERE l.statement IN (${scoped.map((s) => literal(s.id)).join(', ')}) ${idSpan}
           AND l.status = 'BOOK' AND (l.currency IS NULL OR l.currency = ${literal(asset)})
           AND NOT EXISTS (SELECT 1 FROM recon_match_items m WHERE m.line_id = l.id)
         ORDER BY l.id`, onLine);
    }
    // Our balance at each closing date: one pass over the account's postings by day, summed up.
    if (dates.length && accountIds.length) {
      daily = (await c.query<{ d: string; total: string }>(`SELECT effective_date AS d, sum(amount)::text AS total FROM postings WHERE account_id = ANY($1) AND asset = $2 AND effective_date <= $3
          GROUP BY 1 ORDER BY 1`, [accountIds, asset, dates[dates.length - 1]])).rows;
    }
  };
  // As many as lines, as a guess (they grow).
  const O = new OurCols(Math.max(1 << 16, Math.ceil(L.id.length * 1.25)));
  // Our keys in an open-addressing table of (hash, movement) pairs, filled as the rows arrive (a
  // probe compares hashes before bytes); made again at the end if more came than it was sized for.
  let size = 1;
  while (size < L.id.length * 2) size <<= 1;
  let mask = size - 1;
  let table = new Int32Array(size * 2).fill(-1);
  let tableFull = false;
  const insertKey = (o: number) => {
    const keys = O.text.buf, s = O.keyS[o]!, e = O.keyE[o]!, hash = O.keyH[o]!;
    for (let h = hash & mask; ; h = (h + 1) & mask) {
      const x = table[2 * h + 1]!;
      if (x < 0) { table[2 * h] = hash; table[2 * h + 1] = o; return; }
      if (table[2 * h] === hash && sameBytes(keys, O.keyS[x]!, O.keyE[x]!, keys, s, e)) return;
    }
  };
  const onOur = (b: Buffer, s: number, e: number) => {
    const o = O.add();
    let p = s, q = field(b, p, e);
    O.seq[o] = intOf(b, p, q, 'entry seq');
    p = q + 1; q = field(b, p, e);
    O.line[o] = intOf(b, p, q, 'posting line');
    p = q + 1; q = field(b, p, e);
    const a = minorOf(b, p, q, 0);
    if (a === a) O.amt[o] = a;
    else { const x = BigInt(b.toString('latin1', p, q)); O.amt[o] = exactNum(x); if (O.amt[o] !== O.amt[o]) O.big.set(o, x); }
    p = q + 1; q = field(b, p, e);
    O.day[o] = intOf(b, p, q, 'date');
    p = q + 1;
    O.keyS[o] = O.text.add(b, p, e); O.keyE[o] = O.text.n; O.keyH[o] = O.text.hash;
    if (!tableFull) { if (2 * (o + 1) > size) tableFull = true; else insertKey(o); }
  };
  const readOurs = async () => {
    if (!accountIds.length) return;
    // Amounts as bigint text (much cheaper to send than numeric's); one beyond bigint's range
    // (numeric(38,0)) fails the cast, and then all are read as numeric text.
    const query = (amount: string) => `SELECT p.entry_seq, p.line, ${amount}, p.effective_date - ${EPOCH}, e.idempotency_key
        FROM postings p JOIN journal_entries e ON e.seq = p.entry_seq
       WHERE p.account_id IN (${accountIds.join(',')}) AND p.asset = ${literal(asset)}
         AND p.effective_date BETWEEN ${literal(start)}::date AND ${literal(asOf)}::date
         AND NOT EXISTS (SELECT 1 FROM recon_match_items m WHERE m.entry_seq = p.entry_seq AND m.posting_line = p.line)
       ORDER BY p.entry_seq, p.line`;
    try {
      await copyOutRows(other, query('p.amount::int8'), onOur);
    } catch (e) {
      if ((e as { code?: string }).code !== '22003') throw e;
      O.reset();
      table.fill(-1);
      tableFull = false;
      await copyOutRows(other, query('p.amount::text'), onOur);
    }
  };
  // Both start together (the other connection was opened while the run started).
  const other = await spare;
  await Promise.all([readLines(), readOurs()]);
  const nO = O.n;

  if (lost.length) {
    // Not in its statement's id range (not expected: a statement's lines are written together): its
    // statement and date read by id.
    const r = await c.query<{ id: string; statement: string; d: number | null }>(
      `SELECT id::text, statement, coalesce(booking_date, value_date) - ${EPOCH} AS d FROM recon_lines WHERE id = ANY($1::bigint[])`, [lost.map((l) => L.id[l]!)]);
    const of = new Map(r.rows.map((x) => [Number(x.id), x]));
    for (const l of lost) {
      const x = of.get(L.id[l]!)!;
      L.stmt[l] = scopedIdx.get(x.statement)!;
      L.day[l] = x.d ?? scoped[L.stmt[l]!]!.ownDay;
    }
  }
  if (tooPrecise.length) {
    const named = (await c.query<{ r: string }>(`SELECT 'statement ' || s.statement_id || ' line ' || l.idx AS r FROM recon_lines l JOIN recon_statements s ON s.id = l.statement
      WHERE l.id = ANY($1::bigint[]) ORDER BY l.id`, [tooPrecise.slice(0, 100)])).rows.map((x) => x.r);
    throw reconError(ReconCodes.AMOUNT_TOO_PRECISE, 'invalid', `${tooPrecise.length} statement line(s) have more decimals than ${asset} allows (scale ${scale}): ${named.slice(0, 5).join(', ')}`,
      named.map((r) => ({ record: r, field: 'amount', rule: 'SCALE', message: `${r}: amount has more than ${scale} decimals` })));
  }

  // A line's own reference (ourRef) resolved to an entry: first among our movements' keys (a hash
  // table over their bytes), the rest in the ledger's indexes by one query (key, then entry id).
  if (tableFull) {
    size = 1;
    while (size < nO * 2) size <<= 1;
    mask = size - 1;
    table = new Int32Array(size * 2).fill(-1);
    for (let o = 0; o < nO; o++) insertKey(o);
  }
  const keys = O.text.buf;
  const refs = L.text.buf;
  const nL = L.n;
  const refSeq = new Float64Array(nL).fill(-1);
  const refOur = new Int32Array(nL).fill(-1);
  const rest = new Map<string, number[]>();
  // Both sides mostly run in date order: the few movements after the last one found are tried first.
  let next = 0;
  for (let l = 0; l < nL; l++) {
    const s = L.refS[l]!;
    if (s < 0) continue;
    const e = L.refE[l]!;
    const hash = L.refH[l]!;
    let found = -1;
    for (let g = next; g < next + 4 && g < nO; g++) {
      if (O.keyH[g] !== hash || !sameBytes(keys, O.keyS[g]!, O.keyE[g]!, refs, s, e)) continue;
      // The first posting of its entry (as the table holds).
      found = g;
      while (found > 0 && O.keyH[found - 1] === hash && sameBytes(keys, O.keyS[found - 1]!, O.keyE[found - 1]!, refs, s, e)) found--;
      break;
    }
    if (found < 0 && nO) {
      for (let h = hash & mask; ; h = (h + 1) & mask) {
        const x = table[2 * h + 1]!;
        if (x < 0) break;
        if (table[2 * h] === hash && sameBytes(keys, O.keyS[x]!, O.keyE[x]!, refs, s, e)) { found = x; break; }
      }
    }
    // The table holds each key's first posting (ours are in entry order).
    if (found >= 0) {
      refSeq[l] = O.seq[found]!; refOur[l] = found;
      next = found + 1;
      while (next < nO && O.seq[next] === O.seq[found]) next++;
    }
    else {
      const r = copyString(refs, s, e);
      const list = rest.get(r);
      if (list) list.push(l); else rest.set(r, [l]);
    }
  }
  if (rest.size) {
    const r = await c.query<{ ref: string; seq: string | null }>(
      `SELECT k.ref, coalesce((SELECT e.seq FROM journal_entries e WHERE e.idempotency_key = k.ref),
                             (SELECT e.seq FROM journal_entries e WHERE e.id = k.ref))::text AS seq FROM unnest($1::text[]) AS k(ref)`, [[...rest.keys()]]);
    for (const x of r.rows) if (x.seq !== null) for (const l of rest.get(x.ref)!) refSeq[l] = Number(x.seq);
  }
  // A line whose ourRef names an entry carries that reference alone (enough for the rules after);
  // the others all their references, read now.
  const allRefs = new Map<number, string>();
  const unresolved: number[] = [];
  for (let l = 0; l < nL; l++) if (refSeq[l]! < 0) unresolved.push(L.id[l]!);
  // (On the other connection, while the lines that name an entry match: the matcher reads them
  // only after it asks for entry ids and memos.)
  const refsRead = unresolved.length
    ? copyOutRows(other, `SELECT l.id, concat_ws(E'\\x1f', l.our_ref, l.servicer_ref, array_to_string(l.refs, E'\\x1f'))
        FROM recon_lines l WHERE l.id = ANY('{${unresolved.join(',')}}'::bigint[])`, (b, s, e) => {
      const q = field(b, s, e);
      allRefs.set(intOf(b, s, q, 'statement line id'), copyString(b, q + 1, e));
    })
    : Promise.resolve(0);
  refsRead.catch(() => {});
  const refsOf = new Map<number, string[]>();
  const lineCols: CashLineCols = {
    n: nL, amt: L.amt, big: L.big, day: L.day, txCount: L.txCount, refSeq, refOur,
    refs: (l) => {
      let r = refsOf.get(l);
      if (!r) refsOf.set(l, r = refSeq[l]! >= 0 ? [copyString(refs, L.refS[l]!, L.refE[l]!)] : allRefs.get(L.id[l]!)!.split(FS));
      return r;
    },
  };
  // Our entry ids, memos and reversal links: read for the movements still open when the matcher
  // first needs them (after the lines that name their entry have matched).
  const entryOf = new Map<number, { id: string; memo: string }>();
  const reverses = new Float64Array(nO).fill(-1);
  const ourCols: CashOurCols = {
    n: nO, seq: O.seq, amt: O.amt, big: O.big, day: O.day, reverses,
    key: (o) => copyString(keys, O.keyS[o]!, O.keyE[o]!), entryId: (o) => entryOf.get(O.seq[o]!)!.id, memo: (o) => entryOf.get(O.seq[o]!)!.memo,
  };
  const revOf = new Map<number, number>();
  const fetchEntries = (rc: Client, seqs: number[]) =>
    copyOutRows(rc, `SELECT e.seq, e.id, e.memo, e.reverses FROM journal_entries e WHERE e.seq = ANY('{${seqs.join(',')}}'::bigint[])`, (b, s, e) => {
      let p = s, q = field(b, p, e);
      const seq = intOf(b, p, q, 'entry seq');
      p = q + 1; q = field(b, p, e);
      const id = copyString(b, p, q);
      p = q + 1; q = field(b, p, e);
      entryOf.set(seq, { id, memo: copyString(b, p, q) });
      p = q + 1;
      if (!isNull(b, p, e)) revOf.set(seq, intOf(b, p, e, 'entry seq'));
    });
  // Those of the entries no line names are read now, while the lines that name theirs match (they
  // stay open through that); the rest of the open ones when the matcher asks.
  const named = new Uint8Array(nO);
  const namedElsewhere = new Set<number>();
  for (let l = 0; l < nL; l++) {
    const o = refOur[l]!;
    if (o >= 0) for (let x = o; x < nO && O.seq[x] === O.seq[o]; x++) named[x] = 1;
    else if (refSeq[l]! >= 0) namedElsewhere.add(refSeq[l]!);
  }
  if (namedElsewhere.size) for (let o = 0; o < nO; o++) if (namedElsewhere.has(O.seq[o]!)) named[o] = 1;
  const ahead: number[] = [];
  for (let o = 0; o < nO; o++) if (!named[o] && (o === 0 || O.seq[o - 1] !== O.seq[o])) ahead.push(O.seq[o]!);
  const prefetch = ahead.length ? fetchEntries(other, ahead) : Promise.resolve(0);
  // Awaited when the matcher asks (or left to the end of the run): no unhandled rejection meanwhile.
  prefetch.catch(() => {});
  const readEntries = async (rc: Client, free: Uint8Array) => {
    await refsRead;
    await prefetch;
    const seqs: number[] = [];
    for (let o = 0; o < nO; o++) if (free[o] && (o === 0 || O.seq[o - 1] !== O.seq[o] || !free[o - 1]) && !entryOf.has(O.seq[o]!)) seqs.push(O.seq[o]!);
    if (seqs.length) await fetchEntries(rc, seqs);
    if (revOf.size) for (let o = 0; o < nO; o++) if (free[o]) reverses[o] = revOf.get(O.seq[o]!) ?? -1;
  };
  // The matches made before the matcher first asks for entry ids and memos (those by the lines'
  // own references: most, as a rule) are written from then on, while it goes on: the server takes
  // them in meanwhile (the matcher gives the event loop a turn every few thousand items).
  let early: Promise<void> | null = null, earlyN = 0;
  // After a match id, per rule: account, run, rule.
  const head = CASH_RULE_NAMES.map((r) => Buffer.from(`\t${copyText(link.statementAccount)}\t${runId}\t${r}\t`));
  const t1 = performance.now();
  let readMs = 0;
  const steps = cashMatcher(lineCols, ourCols, toEngineRules(link.rules as Rule[], scale));
  let step = steps.next();
  while (!step.done) {
    const v = step.value;
    if (v === null) {
      if (early) await yieldNow();
    } else {
      const t = performance.now();
      if (v.matches.n >= EARLY_WRITE) {
        earlyN = v.matches.n;
        early = copyMatches(c, v.matches, 0, earlyN);
        // Awaited by write (or left to the rollback): no unhandled rejection meanwhile.
        early.catch(() => {});
        await readEntries(other, v.free);
      } else {
        await readEntries(c, v.free);
      }
      readMs += performance.now() - t;
    }
    step = steps.next();
  }
  const result = step.value;
  const loadMs = t1 - t0 + readMs;
  const matchMs = performance.now() - t1 - readMs;

  const M = result.matches;
  const byRuleN = new Array<number>(CASH_RULE_NAMES.length).fill(0);
  const matchedOf = new Int32Array(scoped.length);
  let matchedLines = 0, matchedOurs = 0;
  for (let k = 0; k < M.n; k++) {
    byRuleN[M.rule[k]!]!++;
    const g = M.groups.get(k);
    if (g) {
      matchedLines += g.lines.length;
      matchedOurs += g.ours.length;
      for (const l of g.lines) matchedOf[L.stmt[l]!]!++;
    } else {
      if (M.line[k]! >= 0) { matchedLines++; matchedOf[L.stmt[M.line[k]!]!]!++; }
      if (M.our[k]! >= 0) matchedOurs++;
    }
  }
  const byRule: Record<string, number> = {};
  CASH_RULE_NAMES.forEach((r, i) => { if (byRuleN[i]) byRule[r] = byRuleN[i]!; });

  // COPY text straight from the engine's matches [from, to): one row for a one-to-one match, one
  // per item in a group; bytes written in place, sent in 256 KB chunks while the rest is written.
  // Their ids: a block from the sequence.
  async function copyMatches(cl: Client, M: CashMatchCols, from: number, to: number) {
    const n = to - from;
    if (n <= 0) return;
    const last = BigInt((await cl.query<{ last: bigint }>(`SELECT setval('recon_match_seq', nextval('recon_match_seq') + $1 - 1) AS last`, [n])).rows[0]!.last);
    const first = last - BigInt(n) + 1n;
    const NULL = Buffer.from('\\N'), TAIL = Buffer.from('\n');
    const room = 100 + Math.max(...head.map((h) => h.length));
    // Match ids as numbers while exact (they are), else as bigints.
    const small = last <= BigInt(Number.MAX_SAFE_INTEGER);
    const firstN = Number(first);
    function* chunks() {
      const w = new CopyWriter();
      const row = (k: number, l: number, o: number) => {
        const full = w.room(room);
        if (small) w.int(firstN + k - from); else w.bytes(Buffer.from((first + BigInt(k - from)).toString()));
        w.bytes(head[M.rule[k]!]!);
        if (l >= 0) w.int(L.id[l]!); else w.bytes(NULL);
        w.byte(9);
        if (o >= 0) { w.int(O.seq[o]!); w.byte(9); w.int(O.line[o]!); } else { w.bytes(NULL); w.byte(9); w.bytes(NULL); }
        w.bytes(TAIL);
        return full;
      };
      for (let k = from; k < to; k++) {
        const g = M.groups.get(k);
        if (!g) {
          const full = row(k, M.line[k]!, M.our[k]!);
          if (full) yield full;
          continue;
        }
        const len = Math.max(g.lines.length, g.ours.length);
        for (let i = 0; i < len; i++) {
          const full = row(k, g.lines[i] ?? -1, g.ours[i] ?? -1);
          if (full) yield full;
        }
      }
      yield w.end();
    }
    await copyInChunks(cl, 'recon_match_items', CASH_MATCH_COLUMNS, chunks());
  }
  const write: Work['write'] = async (cl) => {
    await early;
    await copyMatches(cl, M, earlyN, M.n);
    const touched = scoped.map((s, i) => [s.id, matchedOf[i]!] as const).filter((x) => x[1] > 0);
    if (touched.length) {
      await cl.query(`UPDATE recon_statements s SET matched_lines = s.matched_lines + t.n FROM unnest($1::text[], $2::int[]) AS t(id, n) WHERE s.id = t.id`,
        [touched.map((x) => x[0]), touched.map((x) => x[1])]);
    }
  };

  const lBig = (l: number) => { const a = L.amt[l]!; return a === a ? BigInt(a) : L.big.get(l)!; };
  const oBig = (o: number) => { const a = O.amt[o]!; return a === a ? BigInt(a) : O.big.get(o)!; };
  // Amounts and dates as text, once each (a run can find tens of thousands of breaks).
  const amountText = (sum: bigint) => fromMinor(sum, scale);
  const dateText = new Map<number, string>();
  const dateOf = (day: number) => { let d = dateText.get(day); if (d === undefined) dateText.set(day, d = dateOfDay(day)); return d; };
  const isLost = new Uint8Array(nL);
  for (const l of lost) isLost[l] = 1;
  const breaks = () => inSlices(result.breaks, (b): WantedBreak => {
    let itemDay = Infinity, scopeDay = -Infinity;
    for (const l of b.lines) scopeDay = Math.max(scopeDay, scoped[L.stmt[l]!]!.scopeDay);
    for (const o of b.ours) { itemDay = Math.min(itemDay, O.day[o]!); scopeDay = Math.max(scopeDay, O.day[o]!); }
    if (b.lines.length) itemDay = L.day[b.lines[0]!]!;
    const first = b.lines[0];
    const w: WantedBreak = {
      type: b.type, lineIds: b.lines.map((l) => L.id[l]!), ours: b.ours.map((o): [number, number] => [O.seq[o]!, O.line[o]!]),
      statement: first === undefined ? null : isLost[first] ? statementOf(L.id[first]!) : scoped[L.stmt[first]!]!.id, asset: null,
      theirs: b.lines.length ? amountText(b.lines.length === 1 ? lBig(first!) : b.lines.reduce((a, l) => a + lBig(l), 0n)) : null,
      oursAmount: b.ours.length ? amountText(b.ours.length === 1 ? oBig(b.ours[0]!) : b.ours.reduce((a, o) => a + oBig(o), 0n)) : null,
      unit: asset, itemDate: dateOf(itemDay), scopeDate: dateOf(scopeDay), fingerprint: '',
    };
    w.fingerprint = fingerprintOf(w);
    return w;
  });

  const balances: BalanceCheck[] = [];
  const balanceAt = new Map<string, bigint>();
  let run = 0n, k = 0;
  for (const d of dates) {
    while (k < daily.length && daily[k]!.d <= d) run += BigInt(daily[k++]!.total);
    balanceAt.set(d, run);
  }
  for (const s of lastOfDate.values()) {
    const ours = balanceAt.get(s.statement_date!) ?? 0n;
    let theirs: bigint;
    try { theirs = toMinor(s.closing!, scale); } catch { continue; }
    balances.push({ statement: s.id, statementId: s.statement_id, date: s.statement_date!, theirs: fromMinor(theirs, scale), ours: fromMinor(ours, scale), difference: fromMinor(theirs - ours, scale) });
  }
  return {
    statements: inScope.length, considered: { lines: nL, ours: nO }, byRule, matchedLines, matchedOurs,
    breaks, write, balances, loadMs, matchMs,
  };
}

// Parsing COPY text rows in place (a million on each side: no string or object per field).

const TAB = 9, MINUS = 45, DOT = 46, ZERO = 48;

/** End of the field starting at p (its tab, or the row's end). */
function field(b: Buffer, p: number, e: number): number {
  while (p < e && b[p] !== TAB) p++;
  return p;
}

const isNull = (b: Buffer, s: number, e: number) => e - s === 2 && b[s] === 92 && b[s + 1] === 78;

/** An integer field (ids, seqs, days, counts): a safe integer, or an unexpected error naming it. */
function intOf(b: Buffer, s: number, e: number, what: string): number {
  let p = s;
  const neg = b[p] === MINUS;
  if (neg) p++;
  if (p < e && e - p <= 15) {
    let v = 0;
    for (; p < e; p++) {
      const d = b[p]! - ZERO;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
    }
    if (p === e) return neg ? -v : v;
  }
  const v = Number(b.toString('latin1', s, e));
  if (!Number.isSafeInteger(v)) throw new Error(`${what} ${b.toString('latin1', s, e)} is not an integer the reconciliation can hold`);
  return v;
}

/** Why minorOf gave NaN: the amount needs a bigint, or has more decimals than the scale. */
let minorState = 0;
const NEEDS_BIGINT = 1, TOO_PRECISE = 2;

/**
 * A decimal field ("-1234.50", as numeric prints it) in minor units of `scale`, a double when
 * exact (up to 15 digits); else NaN, minorState telling why. Zeros past the scale are fine.
 */
function minorOf(b: Buffer, s: number, e: number, scale: number): number {
  let p = s;
  const neg = b[p] === MINUS;
  if (neg) p++;
  let v = 0, digits = 0, frac = -1;
  for (; p < e; p++) {
    const ch = b[p]!;
    if (ch === DOT && frac < 0) { frac = 0; continue; }
    const d = ch - ZERO;
    if (d < 0 || d > 9) { minorState = NEEDS_BIGINT; return NaN; }
    if (frac >= 0) {
      if (frac >= scale) {
        if (d !== 0) { minorState = TOO_PRECISE; return NaN; }
        continue;
      }
      frac++;
    }
    v = v * 10 + d;
    if (v !== 0) digits++;
  }
  for (let k = frac < 0 ? 0 : frac; k < scale; k++) { v *= 10; if (v !== 0) digits++; }
  if (digits > 15) { minorState = NEEDS_BIGINT; return NaN; }
  return neg ? -v : v;
}

/** A decimal in minor units of `scale` as a bigint; null when it has more decimals than that. */
function bigMinorOf(text: string, scale: number): bigint | null {
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m) throw new Error(`amount ${text} is not a decimal`);
  const frac = (m[3] ?? '').replace(/0+$/, '');
  if (frac.length > scale) return null;
  const v = BigInt((m[2] || '0') + frac.padEnd(scale, '0'));
  return m[1] ? -v : v;
}

/** Bytes of text fields (escaped as COPY sends them) kept one after the other. */
class TextBytes {
  buf = Buffer.allocUnsafe(1 << 20);
  n = 0;
  /** FNV-1a of the bytes last added (hashBytes). */
  hash = 0;
  reset() { this.n = 0; }
  /** Appends b[s, e); returns where it starts. */
  add(b: Buffer, s: number, e: number): number {
    const at = this.n, len = e - s;
    if (at + len > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, at + len));
      this.buf.copy(bigger, 0, 0, at);
      this.buf = bigger;
    }
    const t = this.buf;
    let h = 0x811c9dc5;
    for (let i = 0; i < len; i++) {
      const x = b[s + i]!;
      t[at + i] = x;
      h = Math.imul(h ^ x, 0x01000193);
    }
    this.hash = h >>> 0;
    this.n = at + len;
    return at;
  }
}

/** Statement lines as columns, growing as rows arrive. */
class LineCols {
  n = 0;
  id: Float64Array; amt: Float64Array; day: Int32Array; txCount: Int32Array; stmt: Int32Array; refS: Int32Array; refE: Int32Array; refH: Int32Array;
  big = new Map<number, bigint>();
  text = new TextBytes();
  constructor(private cap: number) {
    this.id = new Float64Array(cap); this.amt = new Float64Array(cap); this.day = new Int32Array(cap); this.txCount = new Int32Array(cap);
    this.stmt = new Int32Array(cap); this.refS = new Int32Array(cap); this.refE = new Int32Array(cap); this.refH = new Int32Array(cap);
  }
  add(): number {
    if (this.n === this.cap) {
      this.cap *= 2;
      this.id = grow(this.id, this.cap); this.amt = grow(this.amt, this.cap); this.day = grow(this.day, this.cap); this.txCount = grow(this.txCount, this.cap);
      this.stmt = grow(this.stmt, this.cap); this.refS = grow(this.refS, this.cap); this.refE = grow(this.refE, this.cap); this.refH = grow(this.refH, this.cap);
    }
    return this.n++;
  }
}

/** Our postings as columns, growing as rows arrive. */
class OurCols {
  n = 0;
  seq: Float64Array; line: Int32Array; amt: Float64Array; day: Int32Array; keyS: Int32Array; keyE: Int32Array; keyH: Int32Array;
  big = new Map<number, bigint>();
  text = new TextBytes();
  constructor(private cap: number) {
    this.seq = new Float64Array(cap); this.line = new Int32Array(cap); this.amt = new Float64Array(cap); this.day = new Int32Array(cap);
    this.keyS = new Int32Array(cap); this.keyE = new Int32Array(cap); this.keyH = new Int32Array(cap);
  }
  reset() { this.n = 0; this.big.clear(); this.text.reset(); }
  add(): number {
    if (this.n === this.cap) {
      this.cap *= 2;
      this.seq = grow(this.seq, this.cap); this.line = grow(this.line, this.cap); this.amt = grow(this.amt, this.cap); this.day = grow(this.day, this.cap);
      this.keyS = grow(this.keyS, this.cap); this.keyE = grow(this.keyE, this.cap); this.keyH = grow(this.keyH, this.cap);
    }
    return this.n++;
  }
}

function grow<T extends Float64Array | Int32Array>(a: T, cap: number): T {
  const b = new (a.constructor as new (n: number) => T)(cap);
  b.set(a);
  return b;
}

/** The exact double of a bigint, NaN when it has none. */
const exactNum = (x: bigint): number => (x >= -MAX_EXACT && x <= MAX_EXACT ? Number(x) : NaN);
const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

// ---------------------------------------------------------------------------------------------
// Holdings

const ISIN_RE = /^[A-Z]{2}[A-Z0-9]{9}[0-9]$/;

async function runHoldings(c: Client, link: Link, asOf: string): Promise<Work> {
  const t0 = performance.now();
  const rule = link.rules.find((r) => r.rule === 'position');
  const tolText = rule?.rule === 'position' ? rule.params.quantityTolerance : '0';
  const stmts = await c.query<{ id: string; statement_id: string; statement_date: string }>(
    `SELECT id, statement_id, coalesce(statement_date, to_date) AS statement_date FROM recon_statements
      WHERE account = $1 AND kind = 'holdings' AND coalesce(statement_date, to_date) <= $2 ORDER BY 3, id`, [link.statementAccount, asOf]);
  const accountIds = await ledgerAccountIds(c, link.ledgerAccount);
  const secs = await c.query<{ symbol: string; isin: string | null; cusip: string | null; scale: number }>('SELECT symbol, isin, cusip, scale FROM securities');
  const byIsin = new Map(secs.rows.filter((s) => s.isin).map((s) => [s.isin!, s]));
  const byCusip = new Map(secs.rows.filter((s) => s.cusip).map((s) => [s.cusip!, s]));
  const bySymbol = new Map(secs.rows.map((s) => [s.symbol, s]));
  const resolve = (id: string) => {
    const m = /^([A-Za-z]+):(.+)$/.exec(id);
    if (m) {
      const scheme = m[1]!.toUpperCase(), v = m[2]!;
      if (scheme === 'ISIN') return byIsin.get(v);
      if (scheme === 'CUSIP') return byCusip.get(v);
      return bySymbol.get(v) ?? byCusip.get(v);
    }
    return ISIN_RE.test(id) ? byIsin.get(id) : bySymbol.get(id) ?? byCusip.get(id);
  };

  const matches: MatchRow[][] = [];
  const breaks: WantedBreak[] = [];
  let considered = 0, consideredOurs = 0, matchedLines = 0, matchedOurs = 0;
  let matchMs = 0;
  for (const s of stmts.rows) {
    const lr = await c.query<{ id: bigint; idx: number; security: string; quantity: string }>(
      `SELECT l.id, l.idx, l.security, l.amount::text AS quantity FROM recon_lines l WHERE l.statement = $1
          AND NOT EXISTS (SELECT 1 FROM recon_match_items m WHERE m.line_id = l.id) ORDER BY l.id`, [s.id]);
    const pos = accountIds.length ? await c.query<{ asset: string; quantity: string; scale: number }>(
      `SELECT p.asset, sum(p.amount)::text AS quantity, a.scale FROM postings p JOIN assets a ON a.code = p.asset AND a.kind = 'security'
        WHERE p.account_id = ANY($1) AND p.effective_date <= $2
          AND NOT EXISTS (SELECT 1 FROM recon_match_items m WHERE m.statement = $3 AND m.asset = p.asset)
        GROUP BY p.asset, a.scale HAVING sum(p.amount) <> 0 ORDER BY p.asset`, [accountIds, s.statement_date, s.id]) : { rows: [] };
    const scaleOfAsset = new Map(pos.rows.map((p) => [p.asset, p.scale]));
    const lines: HoldingIn[] = lr.rows.map((l) => {
      const sec = resolve(l.security);
      if (!sec) return { id: Number(l.id), asset: null, quantity: null };
      scaleOfAsset.set(sec.symbol, sec.scale);
      try {
        return { id: Number(l.id), asset: sec.symbol, quantity: toMinor(l.quantity, sec.scale, `statement ${s.statement_id} holding ${l.idx} quantity`) };
      } catch (e) {
        throw reconError(ReconCodes.AMOUNT_TOO_PRECISE, 'invalid', (e as DomainError).message, [{ record: `statement ${s.statement_id} holding ${l.idx}`, field: 'quantity', rule: 'SCALE', message: (e as DomainError).message }]);
      }
    });
    const positions: PositionIn[] = pos.rows.map((p) => ({ asset: p.asset, quantity: BigInt(p.quantity) }));
    considered += lines.length;
    consideredOurs += positions.length;
    const t1 = performance.now();
    // The tolerance is in units of each security (its own scale).
    const result = matchHoldingsPerScale(lines, positions, tolText, scaleOfAsset);
    matchMs += performance.now() - t1;
    const q = (asset: string, v: bigint | null) => (v === null ? null : fromMinor(v, scaleOfAsset.get(asset) ?? 0));
    for (const m of result.matches) {
      matches.push([
        ...m.lines.map((i): MatchRow => ({ matchId: 0n, rule: 'position', lineId: lines[i]!.id, seq: null, pline: null, statement: null, asset: null, quantity: null })),
        { matchId: 0n, rule: 'position', lineId: null, seq: null, pline: null, statement: s.id, asset: m.asset, quantity: q(m.asset, m.quantity) },
      ]);
      matchedLines += m.lines.length;
      matchedOurs += 1;
    }
    for (const b of result.breaks) {
      const raw = lr.rows.filter((_, i) => b.lines.includes(i));
      const w = {
        type: b.type, lineIds: b.lines.map((i) => lines[i]!.id), ours: [] as [number, number][], statement: s.id, asset: b.asset,
        theirs: b.asset ? q(b.asset, b.theirs) : raw.map((r) => r.quantity).join(' + ') || null,
        oursAmount: b.asset ? q(b.asset, b.ours) : null,
        unit: b.asset ?? raw.map((r) => r.security).join(', '), itemDate: s.statement_date, scopeDate: s.statement_date,
      };
      breaks.push({ ...w, fingerprint: fingerprintOf(w) });
    }
  }
  // Lines loaded unmatched under the account's lock; positions have their unique index.
  const write: Work['write'] = async (cl, account, runId) => { await writeMatches(cl, account, runId, matches, true); };
  return {
    statements: stmts.rows.length, considered: { lines: considered, ours: consideredOurs }, byRule: matches.length ? { position: matches.length } : {},
    matchedLines, matchedOurs, breaks: async () => breaks, write, balances: [], loadMs: performance.now() - t0 - matchMs, matchMs,
  };
}

/** matchHoldings with the tolerance converted per security (each has its own scale). */
function matchHoldingsPerScale(lines: HoldingIn[], positions: PositionIn[], tol: string, scales: Map<string, number>) {
  if (/^0+(\.0+)?$/.test(tol)) return matchHoldings(lines, positions, 0n);
  const byScale = new Map<number, { lines: number[]; positions: PositionIn[] }>();
  const group = (sc: number) => { let g = byScale.get(sc); if (!g) { g = { lines: [], positions: [] }; byScale.set(sc, g); } return g; };
  lines.forEach((l, i) => group(l.asset ? scales.get(l.asset) ?? 0 : 0).lines.push(i));
  for (const p of positions) group(scales.get(p.asset) ?? 0).positions.push(p);
  const out: ReturnType<typeof matchHoldings> = { matches: [], breaks: [] };
  for (const [sc, g] of byScale) {
    let t: bigint;
    try { t = toMinor(tol, sc); } catch { t = 0n; }
    const r = matchHoldings(g.lines.map((i) => lines[i]!), g.positions, t);
    out.matches.push(...r.matches.map((m) => ({ ...m, lines: m.lines.map((i) => g.lines[i]!) })));
    out.breaks.push(...r.breaks.map((b) => ({ ...b, lines: b.lines.map((i) => g.lines[i]!) })));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Writing

const MATCH_COLUMNS = ['match_id', 'statement_account', 'run_id', 'rule', 'line_id', 'entry_seq', 'posting_line', 'statement', 'asset', 'quantity'];
/** A cash run's items: no position (statement, asset, quantity stay NULL). */
const CASH_MATCH_COLUMNS = MATCH_COLUMNS.slice(0, 7);

// A statement line and one of our postings are each matched at most once. Since migration 0018 no
// unique index says so (the two on recon_match_items made most of the cost of a run's write): the
// writers of match items do. Each of them (a run, a match by hand, an approved adjustment) holds,
// until it commits,
//   1. the lock of the statement account (lockAccount): the lines of its statements;
//   2. the locks of the ledger accounts whose postings it matches (lockLedgerAccounts): several
//      statement accounts may be linked to one ledger account, or to a prefix that covers it;
// and writes only items it has found unmatched after taking them: a run loads only unmatched
// items (and the matcher takes each once); writeMatches checks the items of a match by hand or an
// adjustment. Reads are READ COMMITTED, so they see every match committed by the writer that held
// a lock before. Locks are taken in this order (statement account, ledger accounts ascending, then
// the books' lock of the audit trail): no two writers wait for each other.
// Positions (holdings) keep their unique index (statement, asset). reconciliation.db.test.ts races
// writers against each other.

const LEDGER_ACCOUNT_LOCK = 7243012;

/** Takes the match writers' locks of these ledger accounts (ascending), until the transaction ends. */
export async function lockLedgerAccounts(c: Client, accountIds: number[]): Promise<void> {
  const ids = [...new Set(accountIds)].sort((a, b) => a - b);
  if (ids.length) await c.query(`SELECT pg_advisory_xact_lock(${LEDGER_ACCOUNT_LOCK}, x) FROM unnest($1::int[]) AS x`, [ids]);
}

/**
 * Before matching items by hand or by an adjustment: takes the locks of the ledger accounts of the
 * postings (the caller holds the statement account's) and refuses items already matched, or named
 * twice.
 * @throws DomainError RECON_BREAK_NOT_OPEN (conflict) naming the items
 */
async function claimItems(c: Client, matches: MatchRow[][]): Promise<void> {
  const rows = matches.flat();
  const lineIds = rows.filter((r) => r.lineId !== null).map((r) => r.lineId!);
  const ours = rows.filter((r) => r.seq !== null).map((r) => [r.seq!, r.pline!] as const);
  const twice = [...lineIds.filter((l, i) => lineIds.indexOf(l) !== i).map((l) => `line ${l}`),
    ...ours.filter((o, i) => ours.findIndex((x) => x[0] === o[0] && x[1] === o[1]) !== i).map((o) => `posting ${o[0]}:${o[1]}`)];
  if (twice.length) throw reconError(ReconCodes.BREAK_NOT_OPEN, 'conflict', `a match names ${[...new Set(twice)].join(', ')} twice: an item is matched at most once`);
  if (!lineIds.length && !ours.length) return;
  const seqs = ours.map((o) => o[0]), plines = ours.map((o) => o[1]);
  if (ours.length) {
    const acc = await c.query<{ id: number }>(
      'SELECT DISTINCT p.account_id AS id FROM unnest($1::bigint[], $2::smallint[]) AS k(s, l) JOIN postings p ON p.entry_seq = k.s AND p.line = k.l', [seqs, plines]);
    await lockLedgerAccounts(c, acc.rows.map((r) => r.id));
  }
  const taken = await c.query<{ item: string; match_id: string }>(
    `SELECT 'line ' || m.line_id AS item, m.match_id::text FROM recon_match_items m WHERE m.line_id = ANY($1::bigint[])
     UNION ALL
     SELECT 'posting ' || m.entry_seq || ':' || m.posting_line, m.match_id::text FROM recon_match_items m
       JOIN unnest($2::bigint[], $3::smallint[]) AS k(s, l) ON m.entry_seq = k.s AND m.posting_line = k.l
     LIMIT 20`, [lineIds, seqs, plines]);
  if (taken.rows.length) {
    throw reconError(ReconCodes.BREAK_NOT_OPEN, 'conflict',
      `already matched: ${taken.rows.map((r) => `${r.item} (match ${r.match_id})`).join(', ')}; an item is matched at most once`);
  }
}

/**
 * Give each match an id (one block from the sequence) and COPY its items in. Returns the ids.
 * Unless `checked` (a run: it loaded only unmatched items under the locks), the items are claimed
 * first (claimItems).
 * @throws DomainError RECON_BREAK_NOT_OPEN (conflict) when an item is already matched
 */
export async function writeMatches(c: Client, account: string, runId: bigint, matches: MatchRow[][], checked = false): Promise<bigint[]> {
  if (!matches.length) return [];
  if (!checked) await claimItems(c, matches);
  const last = BigInt((await c.query<{ last: bigint }>(`SELECT setval('recon_match_seq', nextval('recon_match_seq') + $1 - 1) AS last`, [matches.length])).rows[0]!.last);
  let id = last - BigInt(matches.length) + 1n;
  const ids: bigint[] = [];
  const run = runId.toString();
  function* rows() {
    for (const m of matches) {
      const mid = id++;
      ids.push(mid);
      for (const r of m) yield [mid, account, run, r.rule, r.lineId, r.seq, r.pline, r.statement, r.asset, r.quantity];
    }
  }
  await copyIn(c, 'recon_match_items', MATCH_COLUMNS, rows());
  const lineIds = matches.flatMap((m) => m.filter((r) => r.lineId !== null).map((r) => r.lineId!));
  if (lineIds.length) {
    await c.query(`UPDATE recon_statements s SET matched_lines = s.matched_lines + t.n
      FROM (SELECT statement, count(*)::int AS n FROM recon_lines WHERE id = ANY($1::bigint[]) GROUP BY 1) t WHERE s.id = t.statement`, [lineIds]);
  }
  return ids;
}

/** For the items of the open breaks (`L<line id>`, `O<entry seq>:<line>`): the match that holds each now, if any. */
async function matchesOfItems(c: Client, open: OpenBreak[]): Promise<Map<string, string>> {
  const lineIds = open.flatMap((b) => b.line_ids);
  const seqs = open.flatMap((b) => b.entry_seqs);
  const plines = open.flatMap((b) => b.posting_lines);
  const out = new Map<string, string>();
  if (!lineIds.length && !seqs.length) return out;
  const r = await c.query<{ line_id: string | null; entry_seq: string | null; posting_line: number | null; match_id: string }>(
    `SELECT m.line_id::text, m.entry_seq::text, m.posting_line, m.match_id::text FROM recon_match_items m WHERE m.line_id = ANY($1::bigint[])
     UNION ALL
     SELECT m.line_id::text, m.entry_seq::text, m.posting_line, m.match_id::text FROM recon_match_items m
       JOIN unnest($2::bigint[], $3::smallint[]) AS k(s, l) ON m.entry_seq = k.s AND m.posting_line = k.l`, [lineIds, seqs, plines]);
  for (const x of r.rows) {
    if (x.line_id !== null) out.set(`L${x.line_id}`, x.match_id);
    if (x.entry_seq !== null) out.set(`O${x.entry_seq}:${x.posting_line}`, x.match_id);
  }
  return out;
}

interface OpenBreak { id: string; fingerprint: string; line_ids: string[]; entry_seqs: string[]; posting_lines: number[]; statement: string | null; asset: string | null }

/**
 * What a run does to the breaks: the new ones (their rows made as the COPY takes them, the server
 * inserting while the rest are made; their 'found' events meanwhile), those found again, those gone.
 */
interface BreakPlan { fresh: WantedBreak[]; ids: string[]; rows: Iterable<string>; events: string[]; unchanged: number; goneIds: string[] }

/** A value of COPY text (NULL as \\N). */
const cv = (x: string | null) => (x === null ? '\\N' : SPECIAL.test(x) ? copyText(x) : x);
/** What copyText escapes (or refuses). */
const SPECIAL = /[\\\t\n\r\0]/;

/** Breaks to insert (as COPY text, the rows copyIn would make), to keep, to resolve. */
function planBreaks(account: string, runId: bigint, at: Date, actor: string, openRows: { id: string; fingerprint: string }[], wanted: WantedBreak[]): BreakPlan {
  const openBy = new Set(openRows.map((b) => b.fingerprint));
  const wantedBy = new Set(wanted.map((w) => w.fingerprint));
  const fresh = wanted.filter((w) => !openBy.has(w.fingerprint));
  const goneIds = openRows.filter((b) => !wantedBy.has(b.fingerprint)).map((b) => b.id);
  const iso = at.toISOString(), run = runId.toString();
  const ids = fresh.map(() => newId('rbk'));
  const acc = cv(account), found = `\t${run}\t${cv(iso)}\n`, event = `\t${cv(iso)}\t${cv(actor)}\tfound\t`;
  const events: string[] = [];
  function* rows() {
    for (let i = 0; i < fresh.length; i++) yield row(fresh[i]!, i);
  }
  const row = (w: WantedBreak, i: number) => {
    let seqs = '', lines = '';
    for (let k = 0; k < w.ours.length; k++) { seqs += (k ? ',' : '') + w.ours[k]![0]; lines += (k ? ',' : '') + w.ours[k]![1]; }
    // JSON.stringify of { type, run, theirs, ours, unit, date }: only the unit may need escaping.
    const json = `{"type":"${w.type}","run":"${run}","theirs":${w.theirs === null ? 'null' : `"${w.theirs}"`},"ours":${w.oursAmount === null ? 'null' : `"${w.oursAmount}"`},"unit":${JSON.stringify(w.unit)},"date":"${w.itemDate}"}`;
    events.push(`${ids[i]}${event}${cv(json)}\n`);
    return `${ids[i]}\t${acc}\t${w.type}\t${cv(w.fingerprint)}\t{${w.lineIds.join(',')}}\t{${seqs}}\t{${lines}}\t${cv(w.statement)}\t${cv(w.asset)}\t${cv(w.theirs)}\t${cv(w.oursAmount)}\t${cv(w.unit)}\t${w.itemDate}\t${w.scopeDate}${found}`;
  };
  return { fresh, ids, rows: { [Symbol.iterator]: rows }, events, unchanged: wanted.length - fresh.length, goneIds };
}

/** Insert new breaks, keep those found again, resolve those gone. */
async function writeBreaks(c: Client, runId: bigint, at: Date, actor: string, plan: BreakPlan) {
  const { fresh, ids, events, goneIds } = plan;
  const audit: Parameters<typeof appendAudit>[1] = [];
  const iso = at.toISOString();
  const run = runId.toString();
  const v = cv;
  const tail = `\t${v(actor)}\t`;
  if (fresh.length) {
    await copyInText(c, 'recon_breaks', ['id', 'statement_account', 'type', 'fingerprint', 'line_ids', 'entry_seqs', 'posting_lines', 'statement', 'asset',
      'theirs_amount', 'ours_amount', 'unit', 'item_date', 'scope_date', 'run_id', 'found_at'], plan.rows);
  }
  let resolved = 0;
  if (goneIds.length) {
    const gone = (await c.query<OpenBreak>(
      `SELECT id, fingerprint, line_ids::text[] AS line_ids, entry_seqs::text[] AS entry_seqs, posting_lines, statement, asset FROM recon_breaks WHERE id = ANY($1)`, [goneIds])).rows;
    const matchOf = await matchesOfItems(c, gone);
    // Which new break now holds an item of an old one.
    const newOfLine = new Map<number, string>();
    const newOfOur = new Map<string, string>();
    const newOfPosition = new Map<string, string>();
    fresh.forEach((w, i) => {
      for (const l of w.lineIds) newOfLine.set(l, ids[i]!);
      for (const [s, l] of w.ours) newOfOur.set(`${s}:${l}`, ids[i]!);
      if (w.statement && w.asset) newOfPosition.set(`${w.statement}\u0000${w.asset}`, ids[i]!);
    });
    const updates: { id: string; resolution: 'matched' | 'superseded'; match: string | null; by: string | null }[] = [];
    for (const b of gone) {
      const lineIds = b.line_ids.map(Number);
      const ourKeys = b.entry_seqs.map((s, i) => `${s}:${b.posting_lines[i]}`);
      const successor = lineIds.map((l) => newOfLine.get(l)).find(Boolean) ?? ourKeys.map((k) => newOfOur.get(k)).find(Boolean)
        ?? (b.statement && b.asset ? newOfPosition.get(`${b.statement}\u0000${b.asset}`) : undefined);
      const m = lineIds.map((l) => matchOf.get(`L${l}`)).find(Boolean) ?? ourKeys.map((k) => matchOf.get(`O${k}`)).find(Boolean);
      if (successor) updates.push({ id: b.id, resolution: 'superseded', match: null, by: successor });
      else updates.push({ id: b.id, resolution: 'matched', match: m ?? null, by: null });
    }
    await c.query(
      `UPDATE recon_breaks b SET status = 'resolved', resolution = u.r, match_id = u.m, superseded_by = u.s, resolved_at = $5, resolved_by = $6
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[]) AS u(id, r, m, s) WHERE b.id = u.id`,
      [updates.map((u) => u.id), updates.map((u) => u.resolution), updates.map((u) => u.match), updates.map((u) => u.by), iso, actor]);
    const withdrawn = await c.query<{ id: string; break_id: string }>(
      `UPDATE recon_adjustments SET status = 'withdrawn', decided_at = $2, decided_by = $3, reason = 'the break was resolved by reconciliation run ' || $4
        WHERE break_id = ANY($1) AND status = 'proposed' RETURNING id, break_id`, [updates.map((u) => u.id), iso, actor, run]);
    for (const u of updates) {
      const data = { resolution: u.resolution, run, ...(u.match ? { match: u.match } : {}), ...(u.by ? { supersededBy: u.by } : {}) };
      events.push(`${v(u.id)}\t${v(iso)}${tail}resolved\t${copyText(JSON.stringify(data))}\n`);
    }
    for (const w of withdrawn.rows) {
      events.push(`${v(w.break_id)}\t${v(iso)}${tail}adjustment_withdrawn\t${copyText(JSON.stringify({ adjustment: w.id, run }))}\n`);
      // A person's proposal withdrawn by a run is on the trail on its own.
      audit.push({ actor, action: 'recon.adjustment.withdraw', entity: 'recon_adjustments', entityId: w.id, data: { break: w.break_id, run }, rowHash: sha256(canonical({ id: w.id, status: 'withdrawn', at: iso })), at });
    }
    resolved = updates.length;
  }
  if (events.length) await copyInText(c, 'recon_break_events', ['break_id', 'at', 'actor', 'action', 'data'], events);
  return { found: fresh.length, unchanged: plan.unchanged, resolved, audit };
}

/** fn over the items, giving the event loop a turn every few thousand (a COPY streams meanwhile). */
async function inSlices<T, U>(items: readonly T[], fn: (x: T, i: number) => U): Promise<U[]> {
  const out: U[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) {
    if (i % 2000 === 1999) await yieldNow();
    out[i] = fn(items[i]!, i);
  }
  return out;
}
