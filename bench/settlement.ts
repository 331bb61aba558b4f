/**
 * Netting figure (part of `npm run bench`): 10,000,000 synthetic executions netted into
 * obligations per (settlement date, counterparty, security), in memory. The executions are made
 * up front (not timed) as an array, so the figure is the netting alone; then once more streamed
 * from the generator, generation included. BENCH_NET sets the count.
 */
import os from 'node:os';
import { net, syntheticTrades, type NetInput } from '../src/settlement/index.js';

const N = Number(process.env.BENCH_NET ?? 10_000_000);

export interface NettingFigures { executions: number; obligations: number; seconds: number; streamedSeconds: number }

export function nettingBench(): NettingFigures {
  const trades: NetInput[] = [];
  for (const t of syntheticTrades(N, 7)) trades.push(t);
  const times: number[] = [];
  let obligations = 0;
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    obligations = net(trades).obligations.length;
    times.push((performance.now() - t0) / 1000);
  }
  trades.length = 0;
  const t1 = performance.now();
  net(syntheticTrades(N, 7));
  const streamed = (performance.now() - t1) / 1000;
  return { executions: N, obligations, seconds: times.sort((a, b) => a - b)[1]!, streamedSeconds: streamed };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const f = nettingBench();
  console.log(`on ${os.cpus().length} cores`);
  console.log(`| net ${f.executions.toLocaleString('en')} executions into obligations | in memory | ${f.seconds.toFixed(2)} s (median of 3; ${f.obligations.toLocaleString('en')} obligations); ${f.streamedSeconds.toFixed(2)} s with generation | < 5 s |`);
}
