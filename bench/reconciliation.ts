/**
 * Reconciliation figures (part of `npm run bench`, or alone: `node --import tsx bench/reconciliation.ts`).
 * On a PostgreSQL 15 server from Debian's binaries, in a fresh migrated database:
 *  1. BENCH_RECON_LINES statement lines (default 1,000,000) in ten statements against as many ledger
 *     movements on one bank account, both loaded by SQL (not timed); then a reconciliation run is
 *     timed: load both sides (COPY out), match in memory, write the matches and breaks (COPY in).
 *     The workload: 96% carry our entry key as their reference, 2% match on amount and date only,
 *     one line in a thousand is the bank's total of three of our payments (count 3), 1% differ in
 *     amount by a cent, 1% are on one side only. A second run (nothing new) is timed too.
 *     The run's phases overlap (the matches made by reference are written while the other rules
 *     run): "match" includes part of the write. The CPU seconds of this process and of the server's
 *     backends during the run are printed beside its time (the machine has two cores).
 *  2. A camt.053 of BENCH_RECON_IMPORT entries (default 100,000) from generateCamt053, parsed and
 *     stored (lines by COPY): entries per second.
 * It measures and prints; it asserts nothing.
 */
import { startServerEngine, type Engine } from '../src/db/testing.js';
import { createDb, type Db } from '../src/db/index.js';
import { pg } from '../src/db/pg.js';
import { systemClock } from '../src/kernel/index.js';
import { openAccount } from '../src/ledger/index.js';
import { importStatementFile, linkAccount, runReconciliation, type RunSummary } from '../src/reconciliation/index.js';
import { generateCamt053, parseStatementFile } from '../src/reconciliation/statements/index.js';
import { cpuWindow, postmasterPid } from './lib.js';

const N = Number(process.env.BENCH_RECON_LINES ?? 1_000_000);
const IMPORT = Number(process.env.BENCH_RECON_IMPORT ?? 100_000);
const ctx = { actor: 'bench', clock: systemClock };
const ACCOUNT = 'US00BENCH0000000001';

export interface ReconciliationFigures {
  lines: number;
  movements: number;
  /** The timed run: total and where it went (ms). */
  seconds: number;
  timings: RunSummary['timings'];
  matched: RunSummary['matched'];
  breaks: RunSummary['breaks'];
  rerunSeconds: number;
  /** Share of the machine used by other processes during the timed run (other people's work). */
  otherPct: number;
  /** CPU seconds of the timed run: this process, and the server's processes. */
  cpuSeconds: { process: number; postgres: number };
  importEntries: number;
  importSeconds: number;
  importPerSecond: number;
  parseSeconds: number;
  setupSeconds: number;
}

/** 1M two-leg entries on the bank account and as many statement lines, by SQL (not timed). */
async function load(db: Db): Promise<{ lines: number; movements: number }> {
  for (const [name, type] of [['assets:bank:bench:usd', 'asset'], ['equity:capital', 'equity']] as const) await openAccount(db.pool, { name, type }, ctx);
  const c = await db.pool.connect();
  try {
    await c.query('BEGIN');
    await c.query('SET LOCAL session_replication_role = replica');
    const ids = (await c.query<{ id: number; name: string }>(`SELECT id, name FROM accounts WHERE name IN ('assets:bank:bench:usd', 'equity:capital')`)).rows;
    const bank = ids.find((x) => x.name === 'assets:bank:bench:usd')!.id, equity = ids.find((x) => x.name === 'equity:capital')!.id;
    await c.query(`INSERT INTO assets (code, scale, kind, name, created_at, created_by) VALUES ('USD', 2, 'currency', 'US Dollar', now(), 'bench') ON CONFLICT DO NOTHING`);
    await c.query(`SELECT setval('journal_entry_seq', $1)`, [N]);
    // Movement i: dated 2024-01-01 + i/4000 (250 days), amount 1.00 to 10,000.00, four in ten debits.
    await c.query(`CREATE TEMP TABLE mv ON COMMIT DROP AS
      SELECT i, date '2024-01-01' + (i / 4000) AS d, (CASE WHEN i % 10 >= 6 THEN -1 ELSE 1 END) * (100 + (i::bigint * 7919) % 999901) AS amt FROM generate_series(1, $1::int) i`, [N]);
    await c.query(`INSERT INTO journal_entries (seq, id, idempotency_key, body_hash, effective_date, memo, recorded_at, created_by)
      SELECT i, 'je_bench_' || i, 'pay-' || i, md5(i::text), d, 'bench payment ' || i, now(), 'bench' FROM mv ORDER BY i`);
    await c.query(`INSERT INTO postings (entry_seq, line, account_id, asset, amount, effective_date)
      SELECT i, 0, ${bank}, 'USD', amt, d FROM mv UNION ALL SELECT i, 1, ${equity}, 'USD', -amt, d FROM mv ORDER BY 1, 2`);
    await c.query(`INSERT INTO balances (account_id, asset, balance, no_negative) SELECT ${bank}, 'USD', sum(amt), false FROM mv UNION ALL SELECT ${equity}, 'USD', -sum(amt), false FROM mv`);
    // Ten statements of 25 days each.
    await c.query(`INSERT INTO recon_statements (id, account, family, statement_id, sequence, kind, format, message_id, currency, from_date, to_date, statement_date,
        opening, closing, balances, check_result, line_count, content_hash, file_hash, imported_at, imported_by)
      SELECT 'rst_bench_' || k, $1, 'camt.053', 'BENCH-' || k, '', 'cash', 'camt.053.001.08', 'MSG-' || k, 'USD', date '2024-01-01' + k * 25, date '2024-01-01' + k * 25 + 24,
             date '2024-01-01' + k * 25 + 24, 0, 0, '[]', 'ok', 0, md5(k::text), 'bench', now(), 'bench' FROM generate_series(0, 9) k`, [ACCOUNT]);
    // Lines: class by i % 100 — 0-95 reference (our key as EndToEndId), 96-97 amount and date only (a day later),
    // 98 a cent more than ours with the reference (amount_differs), 99 ours alone; plus a bank-only charge per 100;
    // and in each thousand, 500-502 are one line (their total, count 3).
    await c.query(`INSERT INTO recon_lines (id, statement, account, idx, amount, currency, booking_date, value_date, status, servicer_ref, our_ref, refs, tx_count)
      SELECT row_number() OVER (ORDER BY d, i), 'rst_bench_' || least(9, (d - date '2024-01-01') / 25), $1, i, amt / 100.0, 'USD', d, d, 'BOOK', 'BK' || i, ref, '{}', cnt FROM (
        SELECT i, CASE WHEN i % 100 IN (96, 97) THEN d + 1 ELSE d END AS d,
               CASE WHEN i % 100 = 98 THEN amt + 1 ELSE amt END AS amt,
               CASE WHEN i % 100 < 96 OR i % 100 = 98 THEN 'pay-' || i END AS ref, 1 AS cnt
          FROM mv WHERE i % 100 <> 99 AND i % 1000 NOT IN (500, 501, 502)
        UNION ALL
        SELECT min(i), min(d), sum(amt), NULL, 3 FROM mv WHERE i % 1000 IN (500, 501, 502) GROUP BY i / 1000
        UNION ALL
        SELECT -i, d, -2500, NULL, 1 FROM mv WHERE i % 100 = 99) x`, [ACCOUNT]);
    const lines = Number((await c.query('SELECT count(*)::int AS n FROM recon_lines')).rows[0].n);
    await c.query(`SELECT setval('recon_line_seq', $1)`, [lines]);
    await c.query(`UPDATE recon_statements s SET line_count = x.n, first_line = x.f, last_line = x.l
      FROM (SELECT statement, count(*) AS n, min(id) AS f, max(id) AS l FROM recon_lines GROUP BY 1) x WHERE x.statement = s.id`);
    await c.query('COMMIT');
    await c.query('VACUUM ANALYZE postings');
    await c.query('VACUUM ANALYZE journal_entries');
    await c.query('VACUUM ANALYZE recon_lines');
    await c.query('CHECKPOINT');
    return { lines, movements: N };
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    c.release();
  }
}

async function database(engine: Engine, name: string): Promise<Db> {
  const admin = new pg.Client({ connectionString: engine.url });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(engine.url);
  u.pathname = '/' + name;
  return createDb({ dataDir: '/tmp', databaseUrl: u.toString(), poolSize: 4 });
}

/** The loaded database of the run measurement (for profiling it alone). */
export async function setUpForProfile(engine: Engine): Promise<{ db: Db }> {
  const db = await database(engine, 'bench_recon');
  await load(db);
  await linkAccount(db.pool, { statementAccount: ACCOUNT, ledgerAccount: 'assets:bank:bench:usd' }, ctx);
  return { db };
}

/** Runs both measurements on a fresh PostgreSQL 15 server and returns the figures. */
export async function reconciliationBench(log: (s: string) => void = console.log): Promise<ReconciliationFigures> {
  const engine = await startServerEngine();
  try {
    const db = await database(engine, 'bench_recon');
    try {
      let t = performance.now();
      const { lines, movements } = await load(db);
      await linkAccount(db.pool, { statementAccount: ACCOUNT, ledgerAccount: 'assets:bank:bench:usd' }, ctx);
      const setupSeconds = (performance.now() - t) / 1000;
      log(`   loaded ${lines.toLocaleString('en')} statement lines and ${movements.toLocaleString('en')} ledger movements by SQL in ${setupSeconds.toFixed(1)} s (not timed)`);
      const w = cpuWindow(await postmasterPid(db.pool));
      t = performance.now();
      const run = await runReconciliation(db.pool, ACCOUNT, '2024-12-31', ctx);
      const seconds = (performance.now() - t) / 1000;
      const cpu = w.stop();
      const cpuSeconds = {
        process: (cpu.byRole['this process'] ?? 0) / 1000,
        postgres: Object.entries(cpu.byRole).filter(([k]) => k.startsWith('postgres')).reduce((a, [, v]) => a + v, 0) / 1000,
      };
      log(`   run: ${seconds.toFixed(2)} s (load ${(run.timings.load / 1000).toFixed(2)} s, match ${(run.timings.match / 1000).toFixed(2)} s, write ${(run.timings.write / 1000).toFixed(2)} s [matches ${(run.timings.writeMatches / 1000).toFixed(2)} s, breaks ${(run.timings.writeBreaks / 1000).toFixed(2)} s], rest ${(seconds - (run.timings.load + run.timings.match + run.timings.write) / 1000).toFixed(2)} s); CPU: this process ${cpuSeconds.process.toFixed(1)} s, postgres ${cpuSeconds.postgres.toFixed(1)} s`);
      log(`   meanwhile other processes used ${cpu.otherPct.toFixed(0)}% of the machine (${Object.entries(cpu.byRole).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ')})`);
      log(`   matched ${run.matched.total.toLocaleString('en')} (${Object.entries(run.matched.byRule).map(([k, v]) => `${k} ${v.toLocaleString('en')}`).join(', ')}); breaks ${run.breaks.found.toLocaleString('en')} (${Object.entries(run.breaks.byType).map(([k, v]) => `${k} ${v.toLocaleString('en')}`).join(', ')})`);
      t = performance.now();
      const again = await runReconciliation(db.pool, ACCOUNT, '2024-12-31', ctx);
      const rerunSeconds = (performance.now() - t) / 1000;
      log(`   re-run with nothing new: ${rerunSeconds.toFixed(2)} s, ${again.matched.total} matched, ${again.breaks.found} found, ${again.breaks.unchanged.toLocaleString('en')} still open`);

      const text = generateCamt053({ entries: IMPORT, currency: 'EUR', iban: 'DE89370400440532013000', seed: 7 });
      t = performance.now();
      parseStatementFile(text, { fileName: 'bench.xml' });
      const parseSeconds = (performance.now() - t) / 1000;
      t = performance.now();
      const imp = await importStatementFile(db.pool, text, { fileName: 'bench.xml' }, ctx);
      const importSeconds = (performance.now() - t) / 1000;
      const stored = imp.statements.reduce((a, s) => a + s.entries, 0);
      log(`   camt.053 of ${IMPORT.toLocaleString('en')} entries (${(text.length / 1e6).toFixed(1)} MB): imported in ${importSeconds.toFixed(2)} s (parse alone ${parseSeconds.toFixed(2)} s): ${Math.round(stored / importSeconds).toLocaleString('en')} entries/s`);
      return {
        lines, movements, seconds, timings: run.timings, matched: run.matched, breaks: run.breaks, rerunSeconds, otherPct: cpu.otherPct, cpuSeconds,
        importEntries: stored, importSeconds, importPerSecond: stored / importSeconds, parseSeconds, setupSeconds,
      };
    } finally {
      await db.close();
    }
  } finally {
    await engine.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const f = await reconciliationBench();
  console.log(`| reconcile ${f.lines.toLocaleString('en')} statement lines against ${f.movements.toLocaleString('en')} movements | server | ${f.seconds.toFixed(2)} s | < 10 s | other load ${f.otherPct.toFixed(0)}% |`);
  console.log(`| import a camt.053 of ${f.importEntries.toLocaleString('en')} entries | server | ${Math.round(f.importPerSecond).toLocaleString('en')} entries/s | report |`);
}
