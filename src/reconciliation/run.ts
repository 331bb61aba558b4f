/**
 * A reconciliation run for one linked account as of a date: load what is not matched yet on both
 * sides (COPY out), match in memory (engine.ts), write the matches (COPY in) and bring the open
 * breaks up to date, in one transaction under the account's lock.
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
 * Speed (1,000,000 lines against 1,000,000 postings, bench/reconciliation.ts): both sides are read
 * with COPY at once on two connections; a line's own reference is resolved to an entry among our
 * movements' keys in memory (the ledger's indexes only for the few left); matching is in memory
 * (engine.ts); matches are written with one COPY.
 */
import { copyIn, copyInChunks, copyOutBuffer, copyText, sqlLiteral as literal, withTx, type Client, type Pool } from '../db/index.js';
import { appendAudit, lockBooks, likePrefix } from '../ledger/index.js';
import { fromMinor, newId, parseDate, toMinor, type DomainError } from '../kernel/index.js';
import { CASH_RULE_NAMES, matchCashCols, matchHoldings, type BreakType, type CashLineCols, type CashOurCols, type HoldingIn, type PositionIn } from './engine.js';
import { ReconCodes, reconError } from './errors.js';
import { resolveLink, type Link } from './links.js';
import { toEngineRules, type Rule } from './rules.js';
import { canonical, copyString, CopyReader, CopyWriter, ctxOf, dateOfDay, dayOf, hashBytes, lockAccount, sameBytes, scaleOf, sha256, type ReconCtx } from './util.js';

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
  `${b.type}|L${[...b.lineIds].sort((x, y) => x - y).join(',')}|O${[...b.ours].map(([s, l]) => `${s}:${l}`).sort().join(',')}|S${b.statement ?? ''}|A${b.asset ?? ''}`;

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
    await lockAccount(c, link.statementAccount);
    // The anti-joins against what is already matched and the sorts stay in memory (hash, not merge on disk).
    await c.query("SET LOCAL work_mem = '256MB'");
    const at = clock.now();
    const run = await c.query<{ id: bigint }>(
      `INSERT INTO recon_runs (statement_account, kind, as_of, at, actor) VALUES ($1, 'run', $2, $3, $4) RETURNING id`,
      [link.statementAccount, asOf, at.toISOString(), actor]);
    const runId = run.rows[0]!.id;
    const work = link.kind === 'cash' ? await runCash(pool, c, link, asOf, runId) : await runHoldings(c, link, asOf);

    const t0 = performance.now();
    const open = await c.query<OpenBreak>(
      `SELECT id, fingerprint, line_ids::text[] AS line_ids, entry_seqs::text[] AS entry_seqs, posting_lines, statement, asset FROM recon_breaks
        WHERE statement_account = $1 AND status = 'open' AND scope_date <= $2 FOR UPDATE`, [link.statementAccount, asOf]);
    const t1 = performance.now();
    await work.write(c, link.statementAccount, runId);
    const t2 = performance.now();
    const matchOf = await matchesOfItems(c, open.rows);
    const b = await reconcileBreaks(c, link, runId, at, actor, open.rows, work.breaks, matchOf);
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
  });
}

interface Work {
  statements: number;
  considered: { lines: number; ours: number };
  byRule: Record<string, number>;
  matchedLines: number;
  matchedOurs: number;
  breaks: WantedBreak[];
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

async function runCash(pool: Pool, c: Client, link: Link, asOf: string, runId: bigint): Promise<Work> {
  const asset = link.asset!;
  const scale = (await scaleOf(c, asset)) ?? 0;
  const t0 = performance.now();
  const stmts = await c.query<{ id: string; statement_id: string; closing: string | null; statement_date: string | null; own_date: string | null; start: string | null; first_line: string | null; last_line: string | null }>(
    `SELECT s.id, s.statement_id, s.closing::text AS closing, coalesce(s.statement_date, s.to_date) AS statement_date, s.statement_date AS own_date,
            least(s.from_date, s.statement_date) AS start, s.first_line::text AS first_line, s.last_line::text AS last_line
       FROM recon_statements s WHERE s.account = $1 AND s.kind = 'cash'
      ORDER BY coalesce(s.statement_date, s.to_date), s.imported_at, s.id`, [link.statementAccount]);
  const inScope = stmts.rows.filter((s) => s.statement_date !== null && s.statement_date <= asOf);
  // From the start of the first statement, less the widest date window of the rules: what we booked a
  // few days before the bank can be on its first statement.
  const starts = stmts.rows.map((s) => s.start).filter((d): d is string => !!d).sort();
  const window = Math.max(0, ...link.rules.map((r) => ('days' in r.params ? Number(r.params.days) : 0)));
  const start = dateOfDay(dayOf(starts[0] ?? asOf) - window);
  const accountIds = await ledgerAccountIds(c, link.ledgerAccount);
  const factor = '1' + '0'.repeat(scale);

  // The statements in scope, and the statement of a line: statements hold consecutive line ids
  // (first_line..last_line), so a line's statement, its date and the scope date come from its id.
  const scoped = inScope.map((s) => ({ id: s.id, ownDay: s.own_date === null ? 0 : dayOf(s.own_date), scopeDay: dayOf(s.statement_date!) }));
  const ranges = stmts.rows.filter((x) => x.first_line !== null).map((x) => ({ id: x.id, first: Number(x.first_line), last: Number(x.last_line) })).sort((a, b) => a.first - b.first);
  const statementOf = (lineId: number): string | null => {
    let lo = 0, hi = ranges.length - 1;
    while (lo <= hi) {
      const m = (lo + hi) >> 1, r = ranges[m]!;
      if (lineId < r.first) hi = m - 1; else if (lineId > r.last) lo = m + 1; else return r.id;
    }
    return null;
  };
  const scopedIdx = new Map(scoped.map((s, i) => [s.id, i]));
  const idRanges = ranges.filter((r) => scopedIdx.has(r.id));
  const idSpan = idRanges.length ? `AND l.id BETWEEN ${Math.min(...idRanges.map((r) => r.first))} AND ${Math.max(...idRanges.map((r) => r.last))}` : '';

  // Theirs: unmatched booked lines of statements dated up to asOf, in id order (the pkey's order: no
  // sort). Ours: unmatched postings on the linked account(s) in the asset, in the period, by entry.
  // Both are read at once as COPY text on two connections (READ COMMITTED: the same as one after
  // the other; the account's lock keeps other runs out) and parsed into columns; our balance per
  // day (for the closing balances) is summed on the second connection meanwhile.
  const readLines = scoped.length
    ? copyOutBuffer(c, `SELECT l.id, trim_scale(l.amount * ${factor})::text, coalesce(l.booking_date, l.value_date) - ${EPOCH},
          l.tx_count, l.our_ref, concat_ws(E'\\x1f', l.our_ref, l.servicer_ref, array_to_string(l.refs, E'\\x1f'))
        FROM recon_lines l
       WHERE l.statement IN (${scoped.map((s) => literal(s.id)).join(', ')}) ${idSpan}
         AND l.status = 'BOOK' AND (l.currency IS NULL OR l.currency = ${literal(asset)})
         AND NOT EXISTS (SELECT 1 FROM recon_match_items m WHERE m.line_id = l.id)
       ORDER BY l.id`)
    : Promise.resolve(Buffer.alloc(0));
  // Closing balances against ours: the last statement of each closing date.
  const lastOfDate = new Map<string, (typeof inScope)[number]>();
  for (const s of inScope) if (s.closing !== null && s.statement_date) lastOfDate.set(s.statement_date, s);
  const dates = [...lastOfDate.keys()].sort();
  const readOurs = async (): Promise<{ buf: Buffer; daily: { d: string; total: string }[] }> => {
    if (!accountIds.length) return { buf: Buffer.alloc(0), daily: [] };
    const other = await pool.connect();
    try {
      await other.query("SET work_mem = '256MB'");
      const buf = await copyOutBuffer(other, `SELECT p.entry_seq, p.line, p.amount::text, p.effective_date - ${EPOCH}, e.idempotency_key, e.id, e.memo, e.reverses
          FROM postings p JOIN journal_entries e ON e.seq = p.entry_seq
         WHERE p.account_id IN (${accountIds.join(',')}) AND p.asset = ${literal(asset)}
           AND p.effective_date BETWEEN ${literal(start)}::date AND ${literal(asOf)}::date
           AND NOT EXISTS (SELECT 1 FROM recon_match_items m WHERE m.entry_seq = p.entry_seq AND m.posting_line = p.line)
         ORDER BY p.entry_seq, p.line`);
      // Our balance at each of those dates: one pass over the account's postings by day, summed up.
      const daily = dates.length
        ? (await other.query<{ d: string; total: string }>(`SELECT effective_date AS d, sum(amount)::text AS total FROM postings WHERE account_id = ANY($1) AND asset = $2 AND effective_date <= $3
            GROUP BY 1 ORDER BY 1`, [accountIds, asset, dates[dates.length - 1]])).rows
        : [];
      return { buf, daily };
    } finally {
      await other.query('RESET work_mem').catch(() => {});
      other.release();
    }
  };
  const [linesBuf, oursRead] = await Promise.all([readLines, readOurs()]);

  // Lines as columns. A line's references are kept as places in the buffer; strings are made only
  // for the lines the rules still look at after the references resolved to entries.
  const lr = new CopyReader(linesBuf);
  const rowsL = lr.rows();
  const L = {
    n: 0, amt: new Float64Array(rowsL), big: new Map<number, bigint>(), day: new Int32Array(rowsL), txCount: new Int32Array(rowsL), refSeq: new Float64Array(rowsL).fill(-1),
    id: new Float64Array(rowsL), stmt: new Int32Array(rowsL), refS: new Float64Array(rowsL), refE: new Float64Array(rowsL), allS: new Float64Array(rowsL), allE: new Float64Array(rowsL),
  };
  const tooPrecise: string[] = [];
  const lost: number[] = [];
  for (let r = 0; r < rowsL; r++) {
    const id = lr.next().int();
    const l = L.n;
    if (lr.next().has(46 /* . */)) { tooPrecise.push(String(id)); lr.pos = linesBuf.indexOf(NL_BYTE, lr.pos) + 1; continue; }
    let a = lr.int();
    if (a !== a) { const b = lr.bigint(); a = exactNum(b); if (a !== a) L.big.set(l, b); }
    L.amt[l] = a;
    L.id[l] = id;
    const st = statementOf(id);
    const si = st === null ? undefined : scopedIdx.get(st);
    if (si === undefined) lost.push(l);
    L.stmt[l] = si ?? -1;
    L.day[l] = lr.next().isNull() ? (si === undefined ? 0 : scoped[si]!.ownDay) : lr.int();
    L.txCount[l] = lr.next().int();
    if (lr.next().isNull()) L.refS[l] = -1; else { L.refS[l] = lr.s; L.refE[l] = lr.e; }
    lr.next();
    L.allS[l] = lr.s; L.allE[l] = lr.e;
    L.n++;
  }
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

  // Ours as columns; key, entry id and memo as places in the buffer.
  const oursBuf = oursRead.buf;
  const or = new CopyReader(oursBuf);
  const nO = or.rows();
  const O = {
    n: nO, seq: new Float64Array(nO), line: new Int32Array(nO), amt: new Float64Array(nO), big: new Map<number, bigint>(), day: new Int32Array(nO), reverses: new Float64Array(nO),
    keyS: new Float64Array(nO), keyE: new Float64Array(nO), idS: new Float64Array(nO), idE: new Float64Array(nO), memoS: new Float64Array(nO), memoE: new Float64Array(nO),
  };
  for (let o = 0; o < nO; o++) {
    O.seq[o] = or.next().int();
    O.line[o] = or.next().int();
    let a = or.next().int();
    if (a !== a) { const b = or.bigint(); a = exactNum(b); if (a !== a) O.big.set(o, b); }
    O.amt[o] = a;
    O.day[o] = or.next().int();
    or.next(); O.keyS[o] = or.s; O.keyE[o] = or.e;
    or.next(); O.idS[o] = or.s; O.idE[o] = or.e;
    if (or.next().isNull()) O.memoS[o] = O.memoE[o] = 0; else { O.memoS[o] = or.s; O.memoE[o] = or.e; }
    O.reverses[o] = or.next().isNull() ? -1 : or.int();
  }
  const oursText = (s: Float64Array, e: Float64Array) => (o: number) => copyString(oursBuf, s[o]!, e[o]!);
  const ourCols: CashOurCols = { ...O, key: oursText(O.keyS, O.keyE), entryId: oursText(O.idS, O.idE), memo: oursText(O.memoS, O.memoE) };

  // A line's own reference (ourRef) resolved to an entry: first among our movements' keys (a hash
  // table over the bytes in the buffer), the rest in the ledger's indexes by one query (key, then
  // entry id). A line whose ourRef names an entry carries that reference alone (enough for the
  // rules after); the others all their references.
  let size = 1;
  while (size < nO * 2) size <<= 1;
  const mask = size - 1;
  const table = new Int32Array(size).fill(-1);
  for (let o = 0; o < nO; o++) {
    const s = O.keyS[o]!, e = O.keyE[o]!;
    for (let h = hashBytes(oursBuf, s, e) & mask; ; h = (h + 1) & mask) {
      const x = table[h]!;
      if (x < 0) { table[h] = o; break; }
      if (sameBytes(oursBuf, O.keyS[x]!, O.keyE[x]!, oursBuf, s, e)) break;
    }
  }
  const rest = new Map<string, number[]>();
  for (let l = 0; l < L.n; l++) {
    const s = L.refS[l]!;
    if (s < 0) continue;
    const e = L.refE[l]!;
    let found = -1;
    if (nO) {
      for (let h = hashBytes(linesBuf, s, e) & mask; ; h = (h + 1) & mask) {
        const x = table[h]!;
        if (x < 0) break;
        if (sameBytes(oursBuf, O.keyS[x]!, O.keyE[x]!, linesBuf, s, e)) { found = x; break; }
      }
    }
    if (found >= 0) L.refSeq[l] = O.seq[found]!;
    else {
      const r = copyString(linesBuf, s, e);
      const list = rest.get(r);
      if (list) list.push(l); else rest.set(r, [l]);
    }
  }
  if (rest.size) {
    const r = await c.query<{ ref: string; seq: string | null }>(
      `SELECT k.ref, coalesce((SELECT e.seq FROM journal_entries e WHERE e.idempotency_key = k.ref),
                             (SELECT e.seq FROM journal_entries e WHERE e.id = k.ref))::text AS seq FROM unnest($1::text[]) AS k(ref)`, [[...rest.keys()]]);
    for (const x of r.rows) if (x.seq !== null) for (const l of rest.get(x.ref)!) L.refSeq[l] = Number(x.seq);
  }
  const refsOf: (string[] | undefined)[] = new Array(L.n);
  const lineCols: CashLineCols = {
    ...L,
    refs: (l) => (refsOf[l] ??= L.refSeq[l]! >= 0 ? [copyString(linesBuf, L.refS[l]!, L.refE[l]!)] : copyString(linesBuf, L.allS[l]!, L.allE[l]!).split(FS)),
  };
  const loadMs = performance.now() - t0;

  const t1 = performance.now();
  const result = matchCashCols(lineCols, ourCols, toEngineRules(link.rules as Rule[], scale));
  const matchMs = performance.now() - t1;

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

  // COPY text straight from the engine's matches: one row for a one-to-one match, one per item in a
  // group; bytes written in place, sent in 256 KB chunks while the rest is written.
  const write: Work['write'] = async (cl, account, runId) => {
    const n = M.n;
    if (!n) return;
    const last = BigInt((await cl.query<{ last: bigint }>(`SELECT setval('recon_match_seq', nextval('recon_match_seq') + $1 - 1) AS last`, [n])).rows[0]!.last);
    const first = last - BigInt(n) + 1n;
    const head = Buffer.from(`\t${copyText(account)}\t${runId}\t`);
    const ruleText = CASH_RULE_NAMES.map((r) => Buffer.from(r + '\t'));
    const NULL = Buffer.from('\\N'), TAIL = Buffer.from('\t\\N\t\\N\t\\N\n');
    // Match ids as numbers while exact (they are), else as bigints.
    const small = last <= BigInt(Number.MAX_SAFE_INTEGER);
    const firstN = Number(first);
    function* chunks() {
      const w = new CopyWriter();
      const row = (k: number, l: number, o: number) => {
        const full = w.room(200 + head.length);
        if (small) w.int(firstN + k); else w.bytes(Buffer.from((first + BigInt(k)).toString()));
        w.bytes(head);
        w.bytes(ruleText[M.rule[k]!]!);
        if (l >= 0) w.int(L.id[l]!); else w.bytes(NULL);
        w.byte(9);
        if (o >= 0) { w.int(O.seq[o]!); w.byte(9); w.int(O.line[o]!); } else { w.bytes(NULL); w.byte(9); w.bytes(NULL); }
        w.bytes(TAIL);
        return full;
      };
      for (let k = 0; k < n; k++) {
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
    await copyInChunks(cl, 'recon_match_items', MATCH_COLUMNS, chunks());
    const touched = scoped.map((s, i) => [s.id, matchedOf[i]!] as const).filter((x) => x[1] > 0);
    if (touched.length) {
      await cl.query(`UPDATE recon_statements s SET matched_lines = s.matched_lines + t.n FROM unnest($1::text[], $2::int[]) AS t(id, n) WHERE s.id = t.id`,
        [touched.map((x) => x[0]), touched.map((x) => x[1])]);
    }
  };

  const lBig = (l: number) => { const a = L.amt[l]!; return a === a ? BigInt(a) : L.big.get(l)!; };
  const oBig = (o: number) => { const a = O.amt[o]!; return a === a ? BigInt(a) : O.big.get(o)!; };
  const breaks: WantedBreak[] = result.breaks.map((b) => {
    const days = [...b.lines.map((l) => L.day[l]!), ...b.ours.map((o) => O.day[o]!)];
    const scopes = [...b.lines.map((l) => scoped[L.stmt[l]!]!.scopeDay), ...b.ours.map((o) => O.day[o]!)];
    const w = {
      type: b.type, lineIds: b.lines.map((l) => L.id[l]!), ours: b.ours.map((o): [number, number] => [O.seq[o]!, O.line[o]!]),
      statement: b.lines.length ? statementOf(L.id[b.lines[0]!]!) : null, asset: null,
      theirs: b.lines.length ? fromMinor(b.lines.reduce((a, l) => a + lBig(l), 0n), scale) : null,
      oursAmount: b.ours.length ? fromMinor(b.ours.reduce((a, o) => a + oBig(o), 0n), scale) : null,
      unit: asset, itemDate: dateOfDay(b.lines.length ? L.day[b.lines[0]!]! : Math.min(...days)), scopeDate: dateOfDay(Math.max(...scopes)),
    };
    return { ...w, fingerprint: fingerprintOf(w) };
  });

  const balances: BalanceCheck[] = [];
  const daily = oursRead.daily;
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
    statements: inScope.length, considered: { lines: L.n, ours: nO }, byRule, matchedLines, matchedOurs,
    breaks, write, balances, loadMs, matchMs,
  };
}

const NL_BYTE = 10;
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
  const write: Work['write'] = async (cl, account, runId) => { await writeMatches(cl, account, runId, matches); };
  return {
    statements: stmts.rows.length, considered: { lines: considered, ours: consideredOurs }, byRule: matches.length ? { position: matches.length } : {},
    matchedLines, matchedOurs, breaks, write, balances: [], loadMs: performance.now() - t0 - matchMs, matchMs,
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

/** Give each match an id (one block from the sequence) and COPY its items in. Returns the ids. */
export async function writeMatches(c: Client, account: string, runId: bigint, matches: MatchRow[][]): Promise<bigint[]> {
  if (!matches.length) return [];
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

/** Insert new breaks, keep those found again, resolve those gone. */
async function reconcileBreaks(c: Client, link: Link, runId: bigint, at: Date, actor: string, openRows: OpenBreak[], wanted: WantedBreak[], matchOf: Map<string, string>) {
  const account = link.statementAccount;
  const open = { rows: openRows };
  const openBy = new Map(open.rows.map((b) => [b.fingerprint, b]));
  const wantedBy = new Set(wanted.map((w) => w.fingerprint));
  const fresh = wanted.filter((w) => !openBy.has(w.fingerprint));
  const gone = open.rows.filter((b) => !wantedBy.has(b.fingerprint));
  const audit: Parameters<typeof appendAudit>[1] = [];
  const iso = at.toISOString();
  const run = runId.toString();

  // Which new break now holds an item of an old one.
  const ids = fresh.map(() => newId('rbk'));
  const newOfLine = new Map<number, string>();
  const newOfOur = new Map<string, string>();
  const newOfPosition = new Map<string, string>();
  fresh.forEach((w, i) => {
    for (const l of w.lineIds) newOfLine.set(l, ids[i]!);
    for (const [s, l] of w.ours) newOfOur.set(`${s}:${l}`, ids[i]!);
    if (w.statement && w.asset) newOfPosition.set(`${w.statement}\u0000${w.asset}`, ids[i]!);
  });
  const events: (string | null)[][] = [];
  if (fresh.length) {
    await copyIn(c, 'recon_breaks', ['id', 'statement_account', 'type', 'fingerprint', 'line_ids', 'entry_seqs', 'posting_lines', 'statement', 'asset',
      'theirs_amount', 'ours_amount', 'unit', 'item_date', 'scope_date', 'run_id', 'found_at'],
    fresh.map((w, i) => [ids[i], account, w.type, w.fingerprint, `{${w.lineIds.join(',')}}`, `{${w.ours.map((o) => o[0]).join(',')}}`, `{${w.ours.map((o) => o[1]).join(',')}}`,
      w.statement, w.asset, w.theirs, w.oursAmount, w.unit, w.itemDate, w.scopeDate, run, iso]));
    fresh.forEach((w, i) => {
      const data = { type: w.type, run, theirs: w.theirs, ours: w.oursAmount, unit: w.unit, date: w.itemDate };
      events.push([ids[i]!, iso, actor, 'found', JSON.stringify(data)]);
    });
  }
  let resolved = 0;
  if (gone.length) {
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
      events.push([u.id, iso, actor, 'resolved', JSON.stringify(data)]);
    }
    for (const w of withdrawn.rows) {
      events.push([w.break_id, iso, actor, 'adjustment_withdrawn', JSON.stringify({ adjustment: w.id, run })]);
      // A person's proposal withdrawn by a run is on the trail on its own.
      audit.push({ actor, action: 'recon.adjustment.withdraw', entity: 'recon_adjustments', entityId: w.id, data: { break: w.break_id, run }, rowHash: sha256(canonical({ id: w.id, status: 'withdrawn', at: iso })), at });
    }
    resolved = updates.length;
  }
  if (events.length) await copyIn(c, 'recon_break_events', ['break_id', 'at', 'actor', 'action', 'data'], events);
  return { found: fresh.length, unchanged: wanted.length - fresh.length, resolved, audit };
}
