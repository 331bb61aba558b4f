import { startServerEngine } from './src/db/testing.js';
import { StatementProfile } from './bench/lib.js';
import { runReconciliation } from './src/reconciliation/index.js';
import * as B from './bench/reconciliation.js';
process.env.X = '1';
const N = Number(process.env.BENCH_RECON_LINES);
// reuse the bench's setup through its exported pieces
const { setUpForProfile } = B as unknown as { setUpForProfile: (e: unknown) => Promise<{ db: { pool: import('pg').Pool; close(): Promise<void> } }> };
const engine = await startServerEngine();
try {
  const { db } = await setUpForProfile(engine);
  const prof = new StatementProfile();
  prof.attach(db.pool);
  prof.enabled = true;
  const t = performance.now();
  const r = await runReconciliation(db.pool, 'US00BENCH0000000001', '2024-12-31', { actor: 'x', clock: { now: () => new Date() } });
  console.log('total', performance.now() - t, r.timings);
  for (const x of prof.rows()) console.log(x.ms.toFixed(0).padStart(7), x.calls, x.statement);
  const ex = await db.pool.query(`EXPLAIN ANALYZE SELECT p.entry_seq, p.line, p.amount::text, p.effective_date - date '1970-01-01', e.idempotency_key, e.id, e.memo, e.reverses
        FROM postings p JOIN journal_entries e ON e.seq = p.entry_seq
       WHERE p.account_id IN (1) AND p.asset = 'USD'
         AND p.effective_date BETWEEN '2023-12-25'::date AND '2024-12-31'::date
         AND NOT EXISTS (SELECT 1 FROM recon_match_items m WHERE m.entry_seq = p.entry_seq AND m.posting_line = p.line)
       ORDER BY p.effective_date, p.entry_seq, p.line`);
  console.log(ex.rows.map((x) => x['QUERY PLAN']).join('\n'));
  await db.close();
} finally { await engine.stop(); }
