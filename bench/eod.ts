/**
 * End-of-day figure (part of `npm run bench`): the whole cycle (intake, book, match, statuses, net,
 * instruct, report) for one day of BENCH_EOD executions (default 100,000) on the PostgreSQL 15
 * server (the target's engine; BENCH_EOD_ENGINE=embedded, or eodBench('embedded'), for the embedded one): an executions CSV (1,000 accounts, 50 securities, one counterparty) and the street's
 * confirmations of nine trades in ten (one in a hundred of them with a quantity that differs), so
 * that matching pairs, mismatches and leaves trades unconfirmed as a real day does.
 *
 * It prints each step's time and its rate per execution, and the day of 1,000,000 extrapolated
 * linearly from them. `npm run bench` measures the day of 1,000,000 itself on the server (the
 * target's), since a day's costs do not grow quite linearly with its size (larger indexes and heap,
 * 1,000 trades per position for the lots; a worker thread for the lots from about 200,000 trades);
 * run alone, this file measures BENCH_EOD executions (default 100,000). The machine's other load is
 * reported beside the figure, since it skews it. It measures and prints; it asserts nothing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedEngine, startServerEngine } from '../src/db/testing.js';
import { systemClock } from '../src/kernel/index.js';
import { runEod } from '../src/settlement/index.js';
import { cpuWindow, postmasterPid } from './lib.js';
import { setUp } from './trading.js';

const N = Number(process.env.BENCH_EOD ?? 100_000);
const DAY = '2026-03-02';

export interface EodFigures {
  executions: number;
  confirmations: number;
  seconds: number;
  perSecond: number;
  steps: { step: string; ms: number }[];
  /** Seconds for 1,000,000 executions at the measured per-step rates. */
  millionSeconds: number;
  /** Share of the machine's CPU that other processes used meanwhile, percent. */
  otherPct: number;
  /** CPU seconds of this process (Node) and of PostgreSQL over the run. */
  cpu: { node: number; postgres: number };
}

/** The day's files: executions CSV and the street's confirmations CSV. */
export function eodFiles(n: number): { executions: string; confirmations: string; confirmed: number } {
  const rows = ['exec_id,account,symbol,side,quantity,price,trade_date,counterparty,currency'];
  const conf = ['conf_id,counterparty,trade_date,symbol,side,quantity,price'];
  for (let i = 0; i < n; i++) {
    const side = i % 3 === 0 ? 'sell' : 'buy', qty = 1 + (i % 400), px = (100 + (i % 997) / 100).toFixed(2);
    rows.push(`E${i},A${i % 1000},S${i % 50},${side},${qty},${px},${DAY},GSCO,USD`);
    if (i % 10 !== 0) conf.push(`C${i},GSCO,${DAY},S${i % 50},${side},${i % 100 === 1 ? qty + 1 : qty},${px}`);
  }
  return { executions: rows.join('\n'), confirmations: conf.join('\n'), confirmed: conf.length - 1 };
}

/** The cycle on the PostgreSQL 15 server (the target's engine) or on the embedded PostgreSQL (reported). */
export async function eodBench(kind: 'server' | 'embedded' = 'server', n: number = N): Promise<EodFigures> {
  const engine = kind === 'server' ? await startServerEngine() : await startEmbeddedEngine();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bo-eod-bench-'));
  try {
    const db = await setUp(engine);
    const inbox = path.join(dir, 'inbox');
    fs.mkdirSync(inbox);
    const files = eodFiles(n);
    fs.writeFileSync(path.join(inbox, 'executions.csv'), files.executions);
    fs.writeFileSync(path.join(inbox, 'confirmations-gsco.csv'), files.confirmations);
    const steps: { step: string; ms: number }[] = [];
    const w = cpuWindow(await postmasterPid(db.pool));
    let last = performance.now();
    const t0 = last;
    await runEod(db.pool, DAY, {
      inbox, outDir: path.join(dir, 'out'), ourBic: 'BOFFUS33XXX', safekeepingAccount: '12345',
      onStep: (e) => { const now = performance.now(); if (e.phase === 'end') steps.push({ step: e.step, ms: now - last }); last = now; },
    }, { actor: 'bench', clock: systemClock });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = w.stop();
    await db.drop();
    const pgCpu = Object.entries(cpu.byRole).filter(([k]) => k.startsWith('postgres')).reduce((a, [, v]) => a + v, 0);
    return {
      executions: n, confirmations: files.confirmed, seconds, perSecond: n / seconds, steps,
      millionSeconds: steps.reduce((a, s) => a + s.ms, 0) / 1000 * (1_000_000 / n),
      otherPct: cpu.otherPct, cpu: { node: (cpu.byRole['this process'] ?? 0) / 1000, postgres: pgCpu / 1000 },
    };
  } finally {
    await engine.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const kind = process.env.BENCH_EOD_ENGINE === 'embedded' ? 'embedded' : 'server';
  const f = await eodBench(kind);
  console.log(`| end-of-day cycle, ${f.executions.toLocaleString('en')} executions (${f.confirmations.toLocaleString('en')} confirmations) | ${kind} | ${f.seconds.toFixed(1)} s (${Math.round(f.perSecond)} executions/s; 1,000,000 at these rates: ${(f.millionSeconds / 60).toFixed(1)} min) | ${kind === 'server' ? '< 3 min for 1,000,000' : 'report'} |`);
  console.log(f.steps.map((s) => `${s.step} ${(s.ms / 1000).toFixed(1)} s (${((s.ms * 1000) / f.executions).toFixed(0)} µs/execution)`).join(', '));
  console.log(`CPU: Node ${f.cpu.node.toFixed(1)} s, PostgreSQL ${f.cpu.postgres.toFixed(1)} s; other processes used ${f.otherPct.toFixed(0)}% of the machine meanwhile`);
}
