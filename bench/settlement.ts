/**
 * Netting figure (part of `npm run bench`): 10,000,000 synthetic executions netted into
 * obligations per (settlement date, counterparty, security), in memory. The executions are made
 * up front (not timed) as an array, so the figure is the netting alone; then once more streamed
 * from the generator, generation included. BENCH_NET sets the count. The figure is `netParallel`
 * (buckets partitioned across worker threads, BENCH_NET_WORKERS of them, default the cores);
 * the single-threaded `net` is measured beside it.
 */
import os from 'node:os';
import { net, netParallel, syntheticTrades, type NetInput } from '../src/settlement/netting.js';

const N = Number(process.env.BENCH_NET ?? 10_000_000);
const WORKERS = process.env.BENCH_NET_WORKERS ? Number(process.env.BENCH_NET_WORKERS) : undefined;

export interface NettingFigures {
  executions: number; obligations: number;
  /** Median wall time of three runs. */
  seconds: number;
  /** The fastest run's wall time, and the CPU time of the process over the three runs' median one (less sensitive to other load). */
  bestSeconds: number; cpuSeconds: number;
  streamedSeconds: number;
  workers: number;
  /** The same for the single-threaded `net`: median and best wall time, CPU of the median run. */
  sequential: { seconds: number; bestSeconds: number; cpuSeconds: number };
}

export async function nettingBench(): Promise<NettingFigures> {
  const trades: NetInput[] = [];
  for (const t of syntheticTrades(N, 7)) trades.push(t);
  let obligations = 0;
  const measure = async (f: () => Promise<number> | number) => {
    const runs: { wall: number; cpu: number }[] = [];
    for (let r = 0; r < 3; r++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      obligations = await f();
      const c = process.cpuUsage(c0);
      runs.push({ wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 });
    }
    runs.sort((a, b) => a.wall - b.wall);
    return { seconds: runs[1]!.wall, bestSeconds: runs[0]!.wall, cpuSeconds: runs[1]!.cpu };
  };
  const sequential = await measure(() => net(trades).obligations.length);
  const parallel = await measure(async () => (await netParallel(trades, [], { workers: WORKERS })).obligations.length);
  trades.length = 0;
  const t1 = performance.now();
  await netParallel(syntheticTrades(N, 7), [], { workers: WORKERS });
  const streamed = (performance.now() - t1) / 1000;
  return { executions: N, obligations, ...parallel, streamedSeconds: streamed, workers: WORKERS ?? os.availableParallelism(), sequential };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const f = await nettingBench();
  console.log(`on ${os.cpus().length} cores, ${f.workers} workers; single-threaded net: ${f.sequential.seconds.toFixed(2)} s (best ${f.sequential.bestSeconds.toFixed(2)} s, CPU ${f.sequential.cpuSeconds.toFixed(2)} s)`);
  console.log(`| net ${f.executions.toLocaleString('en')} executions into obligations | in memory | ${f.seconds.toFixed(2)} s (median of 3, best ${f.bestSeconds.toFixed(2)} s, CPU ${f.cpuSeconds.toFixed(2)} s; ${f.obligations.toLocaleString('en')} obligations); ${f.streamedSeconds.toFixed(2)} s with generation | < 5 s |`);
}
