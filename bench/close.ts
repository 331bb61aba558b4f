/**
 * Accounting close figures (part of `npm run bench`, or alone: `node --import tsx bench/close.ts`).
 * On the embedded PostgreSQL, in a fresh migrated database with the bench's chart (bench/workload.ts):
 * BENCH_CLOSE_ENTRIES six-leg entries (USD, EUR and shares; default 20,000) posted through the
 * ledger, the books filled to BENCH_CLOSE_POSTINGS postings (default 1,000,000) by SQL (not timed),
 * a EUR rate for every day of 2024-2025; then, medians of three runs: the balance sheet as of
 * 2024-12-31 (every foreign posting translated at its day's rate), the income statement of 2024
 * and of December, the drill-down of one bank account over a month, the close checks of 2024-12
 * (trial balance, audit verification, stored balances, FX plan), and one FX revaluation run.
 * It measures and prints; it asserts nothing.
 */
import { pg } from '../src/db/pg.js';
import { createDb, type Db } from '../src/db/index.js';
import { startEmbeddedEngine, type Engine } from '../src/db/testing.js';
import { systemClock } from '../src/kernel/index.js';
import { postEntries } from '../src/ledger/index.js';
import { accountEntries, balanceSheet, closeChecks, importFxRates, incomeStatement, parsePeriod, revalueFx } from '../src/accounting/index.js';
import { fmtInt, median } from './lib.js';
import { AS_OF, BANKS, fillPostings, setUpBooks, sixLeg } from './workload.js';

const ENTRIES = Number(process.env.BENCH_CLOSE_ENTRIES ?? 20_000);
const POSTINGS = Number(process.env.BENCH_CLOSE_POSTINGS ?? 1_000_000);
const ctx = { actor: 'bench', clock: systemClock, baseCurrency: 'USD' };

export interface CloseFigures {
  postings: number;
  balanceSheetMs: number;
  incomeYearMs: number;
  incomeMonthMs: number;
  drillMs: number;
  closeChecksMs: number;
  revalueMs: number;
  revalued: number;
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

async function timed(runs: number, fn: () => Promise<unknown>): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  return median(ms);
}

/** Runs the measurements on a fresh embedded engine and returns the figures. */
export async function closeBench(log: (s: string) => void = console.log): Promise<CloseFigures> {
  const engine = await startEmbeddedEngine();
  try {
    const db = await database(engine, 'bench_close');
    try {
      const t0 = performance.now();
      await setUpBooks(db.pool, ctx);
      const entries = sixLeg('close', ENTRIES, 0.77);
      for (let i = 0; i < entries.length; i += 5_000) await postEntries(db.pool, entries.slice(i, i + 5_000), ctx);
      await fillPostings(db.pool, POSTINGS);
      const rates = ['date,currency,base_currency,rate'];
      for (let d = Date.UTC(2024, 0, 1), i = 0; d <= Date.UTC(2025, 11, 31); d += 86_400_000, i++) {
        rates.push(`${new Date(d).toISOString().slice(0, 10)},EUR,USD,${(1.05 + 0.1 * Math.abs(Math.sin(i / 30))).toFixed(4)}`);
      }
      await importFxRates(db.pool, rates.join('\n'), 'bench-rates.csv', ctx);
      await db.pool.query('VACUUM ANALYZE');
      const postings = Number((await db.pool.query('SELECT count(*)::int AS n FROM postings')).rows[0].n);
      log(`   books: ${fmtInt(postings)} postings (${fmtInt(ENTRIES)} six-leg entries in USD, EUR and shares through the ledger, the rest USD by SQL), ${fmtInt(rates.length - 1)} daily EUR rates; set up in ${((performance.now() - t0) / 1000).toFixed(1)} s (not timed)`);
      let bs;
      const balanceSheetMs = await timed(3, async () => { bs = await balanceSheet(db.pool, { asOf: AS_OF }, 'USD'); });
      const incomeYearMs = await timed(3, () => incomeStatement(db.pool, { from: '2024-01-01', to: AS_OF }, 'USD'));
      const incomeMonthMs = await timed(3, () => incomeStatement(db.pool, { from: '2024-12-01', to: AS_OF }, 'USD'));
      const drillMs = await timed(3, () => accountEntries(db.pool, BANKS[0]!, { from: '2024-12-01', to: AS_OF }, 'USD'));
      const closeChecksMs = await timed(1, () => closeChecks(db.pool, parsePeriod('2024-12'), 'USD'));
      let revalued = 0;
      const revalueMs = await timed(1, async () => { revalued = (await revalueFx(db.pool, AS_OF, ctx)).posted; });
      log(`   balance sheet as of ${AS_OF}: ${balanceSheetMs.toFixed(0)} ms (${bs!.rows.length} rows, balanced: ${bs!.check.balanced})`);
      log(`   income statement: year 2024 ${incomeYearMs.toFixed(0)} ms, December ${incomeMonthMs.toFixed(0)} ms; drill-down of ${BANKS[0]} over December ${drillMs.toFixed(0)} ms`);
      log(`   close checks of 2024-12 (trial balance, full audit verification, stored balances, FX plan): ${(closeChecksMs / 1000).toFixed(1)} s`);
      log(`   FX revaluation at ${AS_OF}: ${revalueMs.toFixed(0)} ms, ${revalued} entries booked`);
      return { postings, balanceSheetMs, incomeYearMs, incomeMonthMs, drillMs, closeChecksMs, revalueMs, revalued };
    } finally {
      await db.close();
    }
  } finally {
    await engine.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  closeBench().then(() => process.exit(0), (e: unknown) => { console.error(e); process.exit(1); });
}
