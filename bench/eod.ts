/**
 * End-of-day figure (part of `npm run bench`): the whole cycle (intake, book, match, statuses, net,
 * instruct, report) for a day of BENCH_EOD executions (default 20,000) on the PostgreSQL 15 server,
 * extrapolated to 1,000,000. It measures and prints; it asserts nothing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServerEngine } from '../src/db/testing.js';
import { systemClock } from '../src/kernel/index.js';
import { runEod } from '../src/settlement/index.js';
import { setUp } from './trading.js';

const N = Number(process.env.BENCH_EOD ?? 20_000);

export interface EodFigures { executions: number; seconds: number; perSecond: number; steps: { step: string; ms: number }[] }

export async function eodBench(): Promise<EodFigures> {
  const engine = await startServerEngine();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bo-eod-bench-'));
  try {
    const db = await setUp(engine);
    const inbox = path.join(dir, 'inbox');
    fs.mkdirSync(inbox);
    const rows = ['exec_id,account,symbol,side,quantity,price,trade_date,counterparty,currency'];
    for (let i = 0; i < N; i++) rows.push(`E${i},A${i % 1000},S${i % 50},${i % 3 === 0 ? 'sell' : 'buy'},${1 + (i % 400)},${(100 + (i % 997) / 100).toFixed(2)},2026-03-02,GSCO,USD`);
    fs.writeFileSync(path.join(inbox, 'executions.csv'), rows.join('\n'));
    const steps: { step: string; ms: number }[] = [];
    let last = performance.now();
    const t0 = last;
    await runEod(db.pool, '2026-03-02', {
      inbox, outDir: path.join(dir, 'out'), ourBic: 'BOFFUS33XXX', safekeepingAccount: '12345',
      onStep: (e: { step: string; phase: string }) => { const now = performance.now(); if (e.phase === 'end') steps.push({ step: e.step, ms: now - last }); last = now; },
    } as never, { actor: 'bench', clock: systemClock });
    const seconds = (performance.now() - t0) / 1000;
    await db.drop();
    return { executions: N, seconds, perSecond: N / seconds, steps };
  } finally {
    await engine.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const f = await eodBench();
  console.log(`| end-of-day cycle, ${f.executions.toLocaleString('en')} executions | server | ${f.seconds.toFixed(1)} s (${Math.round(f.perSecond)} executions/s; 1,000,000 at this rate: ${(1_000_000 / f.perSecond / 60).toFixed(1)} min) | < 3 min for 1,000,000 |`);
  console.log(f.steps.map((s) => `${s.step} ${(s.ms / 1000).toFixed(1)} s`).join(', '));
}
