/**
 * Netting figure (part of `npm run bench`): 10,000,000 synthetic executions netted into
 * obligations per (settlement date, counterparty, security), in memory. The executions are made
 * up front (not timed) as an array, so the figure is the netting alone; then once more streamed
 * from the generator, generation included. BENCH_NET sets the count.
 */
import os from 'node:os';
import { net, syntheticTrades, type NetInput } from '../src/settlement/index.js';

const N = Number(process.env.BENCH_NET ?? 10_000_000);

export interface NettingFigures {
  executions: number; obligations: number;
  /** Median wall time of three runs. */
  seconds: number;
  /** The fastest run's wall time, and the CPU time of the process over the three runs' median one (less sensitive to other load). */
  bestSeconds: number; cpuSeconds: number;
  streamedSeconds: number;
}

export function nettingBench(): NettingFigures {
  const trades: NetInput[] = [];
  for (const t of syntheticTrades(N, 7)) trades.push(t);
  const runs: { wall: number; cpu: number }[] = [];
  let obligations = 0;
  for (let r = 0; r < 3; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    obligations = net(trades).obligations.length;
    const c = process.cpuUsage(c0);
    runs.push({ wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 });
  }
  runs.sort((a, b) => a.wall - b.wall);
  trades.length = 0;
  const t1 = performance.now();
  net(syntheticTrades(N, 7));
  const streamed = (performance.now() - t1) / 1000;
  return { executions: N, obligations, seconds: runs[1]!.wall, bestSeconds: runs[0]!.wall, cpuSeconds: runs[1]!.cpu, streamedSeconds: streamed };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const f = nettingBench();
  console.log(`on ${os.cpus().length} cores`);
  console.log(`| net ${f.executions.toLocaleString('en')} executions into obligations | in memory | ${f.seconds.toFixed(2)} s (median of 3, best ${f.bestSeconds.toFixed(2)} s, CPU ${f.cpuSeconds.toFixed(2)} s; ${f.obligations.toLocaleString('en')} obligations); ${f.streamedSeconds.toFixed(2)} s with generation | < 5 s |`);
}
