/** Small helpers of the benchmark: timing, statistics, a statement profiler, table printing. */
import fs from 'node:fs';
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import inspector from 'node:inspector/promises';
import { performance } from 'node:perf_hooks';
import type { Pool, PoolClient, QueryResult } from 'pg';
import { HEAP_FLAGS } from '../src/kernel/index.js';

export const now = () => performance.now();

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export const fmtInt = (n: number) => Math.round(n).toLocaleString('en-US');
export const fmtMs = (ms: number) => (ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : Math.round(ms).toString()) + ' ms';

/** A plain text table, columns padded, numbers right-aligned. */
export function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = (s: string) => /^[-+~<>=≥]?\s?[\d,.]+( ?(ms|s|%|\/s|entries\/s))?$/.test(s);
  const line = (r: string[]) => '| ' + r.map((c, i) => (numeric(c) ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join(' | ') + ' |';
  return [line(head), '|' + w.map((x) => '-'.repeat(x + 2)).join('|') + '|', ...rows.map(line)].join('\n');
}

/**
 * Times every statement the ledger sends, by statement shape: the pool's clients get a wrapped
 * `query` (kept for the pool's life; the bench owns the pool). Statements are labelled by their
 * first words, so `INSERT INTO postings ...` and `SELECT setval(...)` are told apart.
 */
export class StatementProfile {
  private stats = new Map<string, { n: number; ms: number }>();
  enabled = false;

  static label(sql: string): string {
    const s = sql.replace(/\s+/g, ' ').trim();
    const m = /^(INSERT INTO \w+|SELECT pg_advisory_xact_lock|SELECT setval|SELECT seq, hash FROM audit_log|BEGIN|COMMIT|ROLLBACK)/i.exec(s);
    if (m) return m[1]!;
    return s.slice(0, 60);
  }

  /** When set, every statement is also appended here (to EXPLAIN what a call sent). */
  trace: { text: string; values: unknown[] }[] | null = null;

  /** The last statement seen per label (text and values), to EXPLAIN it afterwards. */
  readonly last = new Map<string, { text: string; values: unknown[] }>();

  attach(pool: Pool): void {
    const self = this;
    const wrapped = new WeakSet<object>();
    type Q = (...a: unknown[]) => unknown;
    const wrap = (c: PoolClient) => {
      if (wrapped.has(c)) return;
      wrapped.add(c);
      const q = (c.query as unknown as Q).bind(c);
      (c as unknown as { query: Q }).query = (...args: unknown[]) => {
        const first = args[0] as string | { text?: string; values?: unknown[]; submit?: unknown };
        if (!self.enabled || (typeof first === 'object' && first && 'submit' in first)) return q(...args);
        const text = typeof first === 'string' ? first : first?.text ?? '';
        const values = (Array.isArray(args[1]) ? args[1] : typeof first === 'object' ? first?.values : undefined) ?? [];
        const label = StatementProfile.label(text);
        self.last.set(label, { text, values });
        const t = now();
        if (self.trace) self.trace.push({ text, values });
        const cb = args[args.length - 1];
        if (typeof cb === 'function') {
          args[args.length - 1] = (err: unknown, res: unknown) => { self.add(label, now() - t); (cb as (e: unknown, r: unknown) => void)(err, res); };
          return q(...args);
        }
        const r = q(...args) as Promise<QueryResult>;
        return r.finally(() => self.add(label, now() - t));
      };
    };
    // pg's Pool.query uses connect(callback); withTx uses the promise form.
    const origConnect = (pool.connect as unknown as Q).bind(pool);
    (pool as unknown as { connect: Q }).connect = (...args: unknown[]) => {
      const cb = args[0];
      if (typeof cb === 'function') {
        return origConnect((err: unknown, c: PoolClient | undefined, done: unknown) => {
          if (c) wrap(c);
          (cb as (e: unknown, c: unknown, d: unknown) => void)(err, c, done);
        });
      }
      return (origConnect() as Promise<PoolClient>).then((c) => { wrap(c); return c; });
    };
  }

  add(label: string, ms: number): void {
    const s = this.stats.get(label) ?? { n: 0, ms: 0 };
    s.n++;
    s.ms += ms;
    this.stats.set(label, s);
  }

  reset(): void {
    this.stats.clear();
  }

  totalMs(): number {
    let t = 0;
    for (const s of this.stats.values()) t += s.ms;
    return t;
  }

  rows(): { statement: string; calls: number; ms: number }[] {
    return [...this.stats].map(([statement, s]) => ({ statement, calls: s.n, ms: s.ms })).sort((a, b) => b.ms - a.ms);
  }
}

/** A small seeded generator, so that every run posts the same books. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------
// CPU accounting: the machine, PostgreSQL's processes, and a JS profile of this process.


/** Busy and total CPU time of the machine (ms, summed over cores). */
export function machineCpu(): { busy: number; all: number } {
  return os.cpus().reduce((a, c) => {
    const t = c.times;
    const busy = t.user + t.nice + t.sys + t.irq;
    return { busy: a.busy + busy, all: a.all + busy + t.idle };
  }, { busy: 0, all: 0 });
}

let clkTck = 0;
function ticksPerSecond(): number {
  if (!clkTck) {
    try { clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { clkTck = 100; }
  }
  return clkTck;
}

/** Where a profiled function lives: an npm package, a file of ours, Node itself, or the VM. */
function codeGroup(url: string, name: string): string {
  if (!url) return /^\((garbage collector|idle|program)\)$/.test(name) ? name : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const src = /\/(src|bench)\/(.+)$/.exec(url);
  if (src) return `${src[1]}/${src[2]}`;
  if (url.startsWith('node:')) return 'node (built-in modules)';
  return url;
}

export interface CpuProfileSummary {
  totalMs: number;
  groups: { group: string; ms: number }[];
  functions: { fn: string; ms: number }[];
}

/** Run `fn` under the V8 CPU profiler; self time per code group and per function. */
export async function profileCpu<T>(fn: () => Promise<T>): Promise<{ result: T; profile: CpuProfileSummary }> {
  const s = new inspector.Session();
  s.connect();
  await s.post('Profiler.enable');
  await s.post('Profiler.setSamplingInterval', { interval: 500 });
  await s.post('Profiler.start');
  const stop = () => s.post('Profiler.stop');
  let result: T;
  let profile: Awaited<ReturnType<typeof stop>>['profile'];
  try {
    result = await fn();
  } finally {
    profile = (await stop()).profile;
    s.disconnect();
  }
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, (typeof profile.nodes)[number]>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);
  const groups = new Map<string, number>();
  const fns = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  // Samples of the profiler's own stop (the inspector serialising the profile) are not the server's work.
  const inspectorNode = new Map<number, boolean>();
  const isInspector = (id: number): boolean => {
    const known = inspectorNode.get(id);
    if (known !== undefined) return known;
    const n = byId.get(id);
    const p = parent.get(id);
    const v = !!n && (/inspector/.test(n.callFrame.url) || (p !== undefined && isInspector(p.id)));
    inspectorNode.set(id, v);
    return v;
  };
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    const n = byId.get(samples[i]!);
    if (!n || isInspector(n.id)) continue;
    const us = deltas[i] ?? 0;
    const name = n.callFrame.functionName || '(anonymous)';
    if (name === '(idle)') continue;
    total += us;
    const g = codeGroup(n.callFrame.url, name);
    groups.set(g, (groups.get(g) ?? 0) + us);
    // A native function is named with its caller, which says what it did (writev from a socket write, ...).
    const p = parent.get(n.id);
    const caller = p ? `${p.callFrame.functionName || '(anonymous)'} in ${codeGroup(p.callFrame.url, p.callFrame.functionName)}` : '';
    const where = n.callFrame.url ? `${g}:${n.callFrame.lineNumber + 1}` : caller ? `native, from ${caller}` : g;
    const key = `${name} (${where})`;
    fns.set(key, (fns.get(key) ?? 0) + us);
  }
  const sorted = <K extends string>(m: Map<string, number>, k: K) =>
    [...m].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ [k]: name, ms: us / 1000 }) as { [P in K]: string } & { ms: number });
  return { result: result!, profile: { totalMs: total / 1000, groups: sorted(groups, 'group'), functions: sorted(fns, 'fn') } };
}

export interface ProcSample { ppid: number; name: string; ms: number }

/** CPU ms so far (user + system) of every process on the machine, by pid. */
export function processCpu(): Map<number, ProcSample> {
  const out = new Map<number, ProcSample>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(d), { ppid: Number(f[1]), name, ms: ((Number(f[11]) + Number(f[12])) * 1000) / ticksPerSecond() });
    } catch {
      /* gone */
    }
  }
  return out;
}

/** What a PostgreSQL child process is, from its title ("postgres: walwriter", "postgres: user db 127.0.0.1(5432) idle"). */
function pgRole(pid: number): string {
  try {
    const title = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    const m = /^postgres: (.*)$/.exec(title);
    if (!m) return 'postgres: other';
    if (/\(\d+\)/.test(m[1]!)) return 'postgres: client backends';
    return `postgres: ${m[1]!.replace(/\s+\d+\s*$/, '').replace(/\s+for PID.*$/, '')}`;
  } catch {
    return 'postgres: other';
  }
}

export interface CpuWindow {
  wallMs: number;
  /** Share of the machine (all cores) that was busy. */
  machineBusyPct: number;
  /** CPU ms by who used it: this process, the load generator, PostgreSQL by process kind, other processes. */
  byRole: Record<string, number>;
  /** Share of the machine used by processes that are not the bench's (other people's work, the system). */
  otherPct: number;
}

/**
 * Measure CPU between start() and stop(), attributed to the bench's own processes (this one,
 * `extra` ones such as the load generator, the PostgreSQL server under test) and to the rest of
 * the machine. Processes that start and end in between are missed.
 */
export function cpuWindow(postmaster: number | undefined, extra: () => Record<number, string> = () => ({})) {
  const m0 = machineCpu();
  const p0 = processCpu();
  const t0 = now();
  return {
    stop(): CpuWindow {
      const wallMs = now() - t0;
      const m1 = machineCpu();
      const p1 = processCpu();
      const named = extra();
      const byRole: Record<string, number> = {};
      let other = 0;
      for (const [pid, v] of p1) {
        const d = v.ms - (p0.get(pid)?.ms ?? 0);
        if (d <= 0) continue;
        let role: string | undefined;
        if (pid === process.pid) role = 'this process';
        else if (named[pid]) role = named[pid];
        else if (postmaster && pid === postmaster) role = 'postgres: postmaster';
        else if (postmaster && v.ppid === postmaster) role = pgRole(pid);
        if (role) byRole[role] = (byRole[role] ?? 0) + d;
        else other += d;
      }
      byRole['other processes'] = other;
      const all = Math.max(1, m1.all - m0.all);
      return { wallMs, machineBusyPct: (100 * (m1.busy - m0.busy)) / all, byRole, otherPct: (100 * other) / all };
    },
  };
}

/** The postmaster's pid, from postmaster.pid in the data directory (undefined if unreadable). */
export async function postmasterPid(pool: Pool): Promise<number | undefined> {
  try {
    const dir = (await pool.query('SELECT current_setting($1) AS d', ['data_directory'])).rows[0].d as string;
    return Number(fs.readFileSync(`${dir}/postmaster.pid`, 'utf8').split('\n')[0]) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Call `name` of bench/`mod` in a fresh Node process (bench/child.ts) and return what it returns
 * (JSON-serialisable); its output goes to this process's. A function taking a log callback gets
 * console.log there.
 */
export async function inFreshProcess<T>(mod: string, name: string, args: unknown[] = []): Promise<T> {
  const { fork } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const child = fork(fileURLToPath(new URL('./child.ts', import.meta.url)), [mod, name, JSON.stringify(args)], { execArgv: [...HEAP_FLAGS, '--import', 'tsx'], stdio: 'inherit' });
  return new Promise<T>((resolve, reject) => {
    let result: T | undefined;
    child.on('message', (m) => { result = (m as { result: T }).result; });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 && result !== undefined ? resolve(result) : reject(new Error(`bench/${mod} ${name} exited with code ${code}`))));
  });
}
