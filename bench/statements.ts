/**
 * Statement parsing figure: a camt.053.001.08 statement with BENCH_STMT_ENTRIES entries (100,000
 * unless set), generated up front (not timed) by generateCamt053, then parsed by
 * parseStatementFile five times: the median is the figure (entries per second, MB per second),
 * with the CPU time of this process beside it (on a shared machine the wall clock says less).
 * Every run must give every entry and check 'ok', or the bench throws.
 * Runs alone: `node --import tsx bench/statements.ts`.
 */
import os from 'node:os';
import { generateCamt053, parseStatementFile } from '../src/reconciliation/statements/index.js';
import { fmtInt, median, table } from './lib.js';

const N = Number(process.env.BENCH_STMT_ENTRIES ?? 100_000);
const RUNS = 5;

export interface StatementFigures {
  entries: number;
  megabytes: number;
  runs: number;
  /** Median wall-clock seconds of one parse. */
  seconds: number;
  /** CPU seconds (user + system, all threads of this process) of that median run. */
  cpuSeconds: number;
  entriesPerSecond: number;
  megabytesPerSecond: number;
  /** Heap used after the last parse, the statements still held (MB). */
  heapMegabytes: number;
}

export async function statementFigures(): Promise<StatementFigures> {
  const xml = generateCamt053({ entries: N, seed: 20240301 });
  const megabytes = Buffer.byteLength(xml) / 1e6;
  const runs: Array<{ s: number; cpu: number }> = [];
  let heap = 0;
  for (let r = 0; r < RUNS; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const statements = parseStatementFile(xml, { fileName: 'bench.xml' });
    const s = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    const st = statements[0];
    if (statements.length !== 1 || st?.entries.length !== N || st.check !== 'ok') {
      throw new Error(`bench parse is wrong: ${statements.length} statements, ${st?.entries.length} entries, check ${st?.check}`);
    }
    heap = process.memoryUsage().heapUsed / 1e6;
    runs.push({ s, cpu: (c.user + c.system) / 1e6 });
  }
  const mid = median(runs.map((r) => r.s));
  const at = runs.find((r) => r.s === mid) ?? runs[0]!;
  return {
    entries: N,
    megabytes,
    runs: RUNS,
    seconds: mid,
    cpuSeconds: at.cpu,
    entriesPerSecond: N / mid,
    megabytesPerSecond: megabytes / mid,
    heapMegabytes: heap,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const f = await statementFigures();
  console.log(`statement parsing on ${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(2)}`);
  console.log(
    table(
      ['what', 'file', 'median of ' + f.runs, 'CPU', 'entries/s', 'MB/s', 'target'],
      [[
        `parse camt.053 with ${fmtInt(f.entries)} entries`,
        `${f.megabytes.toFixed(1)} MB`,
        `${f.seconds.toFixed(2)} s`,
        `${f.cpuSeconds.toFixed(2)} s`,
        fmtInt(f.entriesPerSecond),
        f.megabytesPerSecond.toFixed(1),
        '> 100,000 entries/s',
      ]],
    ),
  );
}
