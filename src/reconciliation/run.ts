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
import { copyIn, copyInText, copyOut, copyText, sqlLiteral as literal, withTx, type Client, type Pool } from '../db/index.js';
import { appendAudit, lockBooks, likePrefix } from '../ledger/index.js';
import { fromMinor, newId, parseDate, toMinor, type DomainError } from '../kernel/index.js';
import { matchCash, matchHoldings, type BreakType, type CashLine, type CashMovement, type HoldingIn, type PositionIn } from './engine.js';
import { ReconCodes, reconError } from './errors.js';
import { resolveLink, type Link } from './links.js';
import { toEngineRules, type Rule } from './rules.js';
import { canonical, ctxOf, dateOfDay, dayOf, lockAccount, scaleOf, sha256, type ReconCtx } from './util.js';

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
  const stmts = await c.query<{ id: string; statement_id: string; closing: string | null; statement_date: string | null; start: string | null; first_line: string | null; last_line: string | null }>(
    `SELECT s.id, s.statement_id, s.closing::text AS closing, coalesce(s.statement_date, s.to_date) AS statement_date,
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
  const byRule: Record<string, number> = {};
  let matchedLines = 0, matchedOurs = 0;

  // Theirs: unmatched booked lines of statements dated up to asOf (the entry each one's own
  // reference names is looked up afterwards: resolveOurRefs).
  // Ours: unmatched postings on the linked account(s) in the asset, in the period, by entry.
  // The two are read at once, on two connections (READ COMMITTED: the same as one after the other;
  // the account's lock keeps other runs out).
  const lines: CashLine[] = [];
  const lineScope: number[] = [];
  const tooPrecise: string[] = [];
  // A line's own reference (ourRef) is resolved to an entry after both sides are in: first among our
  // movements' keys (already read), the rest in the ledger's indexes by one query (key, then entry id).
  const ourRefOf: (string | null)[] = [];
  const allRefsOf: string[] = [];
  const readLines = copyOut(c, `SELECT l.id, trim_scale(l.amount * ${factor})::text, coalesce(l.booking_date, l.value_date, s.statement_date) - ${EPOCH},
        l.tx_count, l.our_ref, concat_ws(E'\\x1f', l.our_ref, l.servicer_ref, array_to_string(l.refs, E'\\x1f')),
        coalesce(s.statement_date, s.to_date) - ${EPOCH}
      FROM recon_lines l JOIN recon_statements s ON s.id = l.statement
     WHERE s.account = ${literal(link.statementAccount)} AND s.kind = 'cash' AND coalesce(s.statement_date, s.to_date) <= ${literal(asOf)}::date
       AND l.status = 'BOOK' AND (l.currency IS NULL OR l.currency = ${literal(asset)})
       AND NOT EXISTS (SELECT 1 FROM recon_match_items m WHERE m.line_id = l.id)
     ORDER BY l.id`, (f) => {
    const amount = f[1]!;
    if (amount.includes('.')) { tooPrecise.push(f[0]!); return; }
    lines.push({ id: Number(f[0]), amount: BigInt(amount), day: Number(f[2]), txCount: Number(f[3]), refs: NO_REFS, refSeq: -1 });
    ourRefOf.push(f[4] ?? null);
    allRefsOf.push(f[5] ?? '');
    lineScope.push(Number(f[6]));
  });
  const ours: CashMovement[] = [];
  const readOurs = async () => {
    if (!accountIds.length) return;
    const other = await pool.connect();
    try {
      await other.query("SET work_mem = '256MB'");
      await copyOut(other, `SELECT p.entry_seq, p.line, p.amount::text, p.effective_date - ${EPOCH}, e.idempotency_key, e.id, e.memo, e.reverses
          FROM postings p JOIN journal_entries e ON e.seq = p.entry_seq
         WHERE p.account_id IN (${accountIds.join(',')}) AND p.asset = ${literal(asset)}
           AND p.effective_date BETWEEN ${literal(start)}::date AND ${literal(asOf)}::date
           AND NOT EXISTS (SELECT 1 FROM recon_match_items m WHERE m.entry_seq = p.entry_seq AND m.posting_line = p.line)
         ORDER BY p.entry_seq, p.line`, (f) => {
        ours.push({ seq: Number(f[0]), line: Number(f[1]), amount: BigInt(f[2]!), day: Number(f[3]), key: f[4]!, entryId: f[5]!, memo: f[6] ?? '', reverses: f[7] === null ? null : Number(f[7]) });
      });
    } finally {
      await other.query('RESET work_mem').catch(() => {});
      other.release();
    }
  };
  await Promise.all([readLines, readOurs()]);
  if (tooPrecise.length) {
    const named = (await c.query<{ r: string }>(`SELECT 'statement ' || s.statement_id || ' line ' || l.idx AS r FROM recon_lines l JOIN recon_statements s ON s.id = l.statement
      WHERE l.id = ANY($1::bigint[]) ORDER BY l.id`, [tooPrecise.slice(0, 100)])).rows.map((x) => x.r);
    throw reconError(ReconCodes.AMOUNT_TOO_PRECISE, 'invalid', `${tooPrecise.length} statement line(s) have more decimals than ${asset} allows (scale ${scale}): ${named.slice(0, 5).join(', ')}`,
      named.map((r) => ({ record: r, field: 'amount', rule: 'SCALE', message: `${r}: amount has more than ${scale} decimals` })));
  }
  await resolveOurRefs(c, lines, ourRefOf, allRefsOf, ours);
  const loadMs = performance.now() - t0;

  const t1 = performance.now();
  const result = matchCash(lines, ours, toEngineRules(link.rules as Rule[], scale));
  const matchMs = performance.now() - t1;

  // The statement of a line: statements hold consecutive line ids.
  const ranges = stmts.rows.filter((x) => x.first_line !== null).map((x) => ({ id: x.id, first: Number(x.first_line), last: Number(x.last_line) })).sort((a, b) => a.first - b.first);
  const statementOf = (lineId: number): string | null => {
    let lo = 0, hi = ranges.length - 1;
    while (lo <= hi) {
      const m = (lo + hi) >> 1, r = ranges[m]!;
      if (lineId < r.first) hi = m - 1; else if (lineId > r.last) lo = m + 1; else return r.id;
    }
    return null;
  };
  const matchedOf = new Map<string, number>();
  for (const m of result.matches) {
    byRule[m.rule] = (byRule[m.rule] ?? 0) + 1;
    matchedLines += m.lines.length;
    matchedOurs += m.ours.length;
    for (const l of m.lines) {
      const st = statementOf(lines[l]!.id);
      if (st) matchedOf.set(st, (matchedOf.get(st) ?? 0) + 1);
    }
  }
  // COPY text straight from the engine's matches: one row for a one-to-one match, one per item in a group.
  const write: Work['write'] = async (cl, account, runId) => {
    const n = result.matches.length;
    if (!n) return;
    const last = BigInt((await cl.query<{ last: bigint }>(`SELECT setval('recon_match_seq', nextval('recon_match_seq') + $1 - 1) AS last`, [n])).rows[0]!.last);
    const first = last - BigInt(n) + 1n;
    const head = `\t${copyText(account)}\t${runId}\t`;
    // Match ids as numbers while exact (they are), else as bigints; rows batched into 64 KB chunks here.
    const small = last <= BigInt(Number.MAX_SAFE_INTEGER);
    const firstN = Number(first);
    function* rows() {
      let buf = '';
      for (let k = 0; k < n; k++) {
        const m = result.matches[k]!;
        const pre = (small ? String(firstN + k) : (first + BigInt(k)).toString()) + head + m.rule + '\t';
        const len = Math.max(m.lines.length, m.ours.length);
        for (let i = 0; i < len; i++) {
          const l = m.lines[i], o = m.ours[i];
          const ln = l === undefined ? undefined : lines[l]!, mv = o === undefined ? undefined : ours[o]!;
          buf += pre + (ln ? ln.id : '\\N') + '\t' + (mv ? mv.seq + '\t' + mv.line : '\\N\t\\N') + '\t\\N\t\\N\t\\N\n';
        }
        if (buf.length >= 1 << 16) { yield buf; buf = ''; }
      }
      if (buf) yield buf;
    }
    await copyInText(cl, 'recon_match_items', MATCH_COLUMNS, rows());
    await cl.query(`UPDATE recon_statements s SET matched_lines = s.matched_lines + t.n FROM unnest($1::text[], $2::int[]) AS t(id, n) WHERE s.id = t.id`,
      [[...matchedOf.keys()], [...matchedOf.values()]]);
  };

  const breaks: WantedBreak[] = result.breaks.map((b) => {
    const ls = b.lines.map((i) => lines[i]!);
    const os = b.ours.map((i) => ours[i]!);
    const days = [...ls.map((l) => l.day), ...os.map((o) => o.day)];
    const scopes = [...b.lines.map((i) => lineScope[i]!), ...os.map((o) => o.day)];
    const w = {
      type: b.type, lineIds: ls.map((l) => l.id), ours: os.map((o): [number, number] => [o.seq, o.line]), statement: ls.length ? statementOf(ls[0]!.id) : null, asset: null,
      theirs: ls.length ? fromMinor(ls.reduce((a, l) => a + l.amount, 0n), scale) : null,
      oursAmount: os.length ? fromMinor(os.reduce((a, o) => a + o.amount, 0n), scale) : null,
      unit: asset, itemDate: dateOfDay(ls.length ? ls[0]!.day : Math.min(...days)), scopeDate: dateOfDay(Math.max(...scopes)),
    };
    return { ...w, fingerprint: fingerprintOf(w) };
  });

  // Closing balances against ours: the last statement of each closing date.
  const lastOfDate = new Map<string, (typeof inScope)[number]>();
  for (const s of inScope) if (s.closing !== null && s.statement_date) lastOfDate.set(s.statement_date, s);
  const balances: BalanceCheck[] = [];
  // Our balance at each of those dates: one pass over the account's postings by day, summed up.
  const dates = [...lastOfDate.keys()].sort();
  const daily = dates.length && accountIds.length
    ? (await c.query<{ d: string; total: string }>(`SELECT effective_date AS d, sum(amount)::text AS total FROM postings WHERE account_id = ANY($1) AND asset = $2 AND effective_date <= $3
        GROUP BY 1 ORDER BY 1`, [accountIds, asset, dates[dates.length - 1]])).rows
    : [];
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
    statements: inScope.length, considered: { lines: lines.length, ours: ours.length }, byRule, matchedLines, matchedOurs,
    breaks, write, balances, loadMs, matchMs,
  };
}

const NO_REFS: string[] = [];

/**
 * Each line's references, with the entry its ourRef names (refSeq): looked up by key among our
 * movements, else in the ledger (by key, then by entry id). A line whose ourRef names an entry
 * carries that reference alone (enough for the rules after); the others all their references.
 */
async function resolveOurRefs(c: Client, lines: CashLine[], ourRefOf: (string | null)[], allRefsOf: string[], ours: CashMovement[]): Promise<void> {
  const seqOfKey = new Map<string, number>();
  for (let o = 0; o < ours.length; o++) seqOfKey.set(ours[o]!.key, ours[o]!.seq);
  const rest = new Set<string>();
  for (let l = 0; l < lines.length; l++) {
    const r = ourRefOf[l];
    if (r === null || r === undefined) continue;
    const seq = seqOfKey.get(r);
    if (seq !== undefined) { lines[l]!.refSeq = seq; lines[l]!.refs = [r]; } else rest.add(r);
  }
  seqOfKey.clear();
  const seqOfRef = new Map<string, number>();
  if (rest.size) {
    const r = await c.query<{ ref: string; seq: string | null }>(
      `SELECT k.ref, coalesce((SELECT e.seq FROM journal_entries e WHERE e.idempotency_key = k.ref),
                             (SELECT e.seq FROM journal_entries e WHERE e.id = k.ref))::text AS seq FROM unnest($1::text[]) AS k(ref)`, [[...rest]]);
    for (const x of r.rows) if (x.seq !== null) seqOfRef.set(x.ref, Number(x.seq));
  }
  for (let l = 0; l < lines.length; l++) {
    const ln = lines[l]!;
    if (ln.refSeq! >= 0) continue;
    const r = ourRefOf[l];
    const seq = r === null || r === undefined ? undefined : seqOfRef.get(r);
    if (seq !== undefined) { ln.refSeq = seq; ln.refs = [r!]; } else ln.refs = allRefsOf[l]!.split(FS);
  }
}

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
