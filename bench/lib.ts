/** Small helpers of the benchmark: timing, statistics, a statement profiler, table printing. */
import { performance } from 'node:perf_hooks';
import type { Pool, PoolClient, QueryResult } from 'pg';

export const now = () => performance.now();

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Run `fn` `n` times after `warm` unmeasured runs; the times in ms. */
export async function repeat(n: number, fn: () => Promise<unknown>, warm = 1): Promise<number[]> {
  for (let i = 0; i < warm; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = now();
    await fn();
    out.push(now() - t);
  }
  return out;
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

  attach(pool: Pool): void {
    const seen = new WeakSet<object>();
    const origConnect = pool.connect.bind(pool) as () => Promise<PoolClient>;
    const self = this;
    (pool as unknown as { connect: () => Promise<PoolClient> }).connect = async () => {
      const c = await origConnect();
      if (!seen.has(c)) {
        seen.add(c);
        const q = c.query.bind(c) as (...a: unknown[]) => Promise<QueryResult>;
        (c as unknown as { query: (...a: unknown[]) => Promise<QueryResult> }).query = async (...args: unknown[]) => {
          if (!self.enabled) return q(...args);
          const sql = typeof args[0] === 'string' ? args[0] : (args[0] as { text: string }).text;
          const t = now();
          try {
            return await q(...args);
          } finally {
            self.add(StatementProfile.label(sql), now() - t);
          }
        };
      }
      return c;
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
