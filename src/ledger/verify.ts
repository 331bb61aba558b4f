import type { Pool } from '../db/index.js';
import { chainHash, GENESIS } from './audit.js';
import { rowHash } from './row-hash.js';
import { balanceMismatches } from './balances.js';

export interface Broken {
  table: string;
  id: string;
  reason: string;
}

export interface VerifyResult {
  ok: boolean;
  /** Records checked: audit rows plus table rows. */
  checked: number;
  firstBroken: Broken | null;
  problems: Broken[];
}

const PAGE = 5000;
const MAX_PROBLEMS = 100;

/**
 * Prove the books are as the application wrote them:
 * 1. the audit chain is whole (no row edited, removed or inserted: each hash recomputes);
 * 2. every row of every audited table hashes to what its latest audit record says, every audit
 *    record's row still exists, and no row exists that the trail does not know;
 * 3. no posting is orphaned and stored balances equal the sum of postings.
 * The first problem found, in that order, is `firstBroken`.
 */
export async function verifyAudit(pool: Pool, onProgress?: (done: number) => void): Promise<VerifyResult> {
  const problems: Broken[] = [];
  let checked = 0;
  const report = (b: Broken) => { if (problems.length < MAX_PROBLEMS) problems.push(b); };

  // 1. The chain.
  let prev = GENESIS;
  let expect = 1n;
  for (let after = 0n; ;) {
    const { rows } = await pool.query(
      `SELECT seq, at, actor, action, entity, entity_id, data, row_hash, prev_hash, hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT ${PAGE}`, [after.toString()]);
    for (const r of rows) {
      const seq = BigInt(r.seq);
      if (seq !== expect) report({ table: 'audit_log', id: String(expect), reason: `audit record ${expect} is missing (next is ${seq})` });
      else if (r.prev_hash !== prev) report({ table: 'audit_log', id: String(seq), reason: `audit record ${seq} does not follow its predecessor (prev_hash differs)` });
      else if (chainHash(prev, seq, r.at, { actor: r.actor, action: r.action, entity: r.entity, entityId: r.entity_id, data: r.data, rowHash: r.row_hash }, r.data) !== r.hash) {
        report({ table: 'audit_log', id: String(seq), reason: `audit record ${seq} was altered: its hash does not match its content` });
      }
      prev = r.hash;
      expect = seq + 1n;
      after = seq;
    }
    checked += rows.length;
    onProgress?.(checked);
    if (rows.length < PAGE) break;
  }

  // 2a. Small tables, whole.
  const tables: { table: string; key: string; hash: (r: any) => string }[] = [
    { table: 'assets', key: 'code', hash: (r) => rowHash.assets(r) },
    { table: 'accounts', key: 'id', hash: (r) => rowHash.accounts(r) },
    { table: 'period_closes', key: 'id', hash: (r) => rowHash.period_closes(r) },
    { table: 'users', key: 'id', hash: (r) => rowHash.users(r) },
  ];
  for (const t of tables) {
    const { rows } = await pool.query(
      `WITH latest AS (SELECT DISTINCT ON (entity_id) entity_id, row_hash FROM audit_log WHERE entity = $1 ORDER BY entity_id, seq DESC)
       SELECT t.*, l.entity_id AS audit_id, l.row_hash AS audit_hash FROM ${t.table} t FULL JOIN latest l ON l.entity_id = t.${t.key}::text
       ORDER BY coalesce(t.${t.key}::text, l.entity_id)`, [t.table]);
    for (const r of rows) {
      checked++;
      const id = r[t.key] === null ? r.audit_id : String(r[t.key]);
      if (r[t.key] === null) report({ table: t.table, id, reason: `${t.table} ${id} was deleted behind the application's back (the audit trail records it)` });
      else if (r.audit_id === null) report({ table: t.table, id, reason: `${t.table} ${id} is not in the audit trail (inserted behind the application's back)` });
      else if (t.hash(r) !== r.audit_hash) report({ table: t.table, id, reason: `${t.table} ${id} was changed behind the application's back` });
    }
  }

  // 2b. Journal entries with their postings, page by page.
  for (let after = -1n; ;) {
    const { rows } = await pool.query(
      `SELECT e.seq, e.id, e.idempotency_key, e.body_hash, e.effective_date, e.memo, e.recorded_at, e.created_by, e.reverses
         FROM journal_entries e WHERE e.seq > $1 ORDER BY e.seq LIMIT ${PAGE}`, [after.toString()]);
    if (!rows.length) break;
    const first = rows[0].seq.toString();
    const last = rows[rows.length - 1].seq.toString();
    const [ps, au] = await Promise.all([
      pool.query(`SELECT entry_seq, line, account_id, asset, amount, effective_date FROM postings WHERE entry_seq BETWEEN $1 AND $2 ORDER BY entry_seq, line`, [first, last]),
      pool.query(`SELECT DISTINCT ON (entity_id) entity_id, row_hash FROM audit_log WHERE entity = 'journal_entries' AND entity_id = ANY($1) ORDER BY entity_id, seq DESC`, [rows.map((r) => r.id)]),
    ]);
    const bySeq = new Map<string, [number, number, string, string, string][]>();
    for (const p of ps.rows) {
      const k = p.entry_seq.toString();
      const list = bySeq.get(k) ?? [];
      list.push([p.line, p.account_id, p.asset, String(p.amount), p.effective_date]);
      bySeq.set(k, list);
    }
    const audited = new Map(au.rows.map((r) => [r.entity_id as string, r.row_hash as string]));
    for (const r of rows) {
      const seq = r.seq.toString();
      const h = rowHash.journal_entries({
        seq, id: r.id, key: r.idempotency_key, body_hash: r.body_hash, date: r.effective_date, memo: r.memo,
        recorded_at: r.recorded_at, created_by: r.created_by, reverses: r.reverses === null ? null : r.reverses.toString(), postings: bySeq.get(seq) ?? [],
      });
      const a = audited.get(r.id);
      if (!a) report({ table: 'journal_entries', id: r.id, reason: `journal entry ${r.id} is not in the audit trail (inserted behind the application's back)` });
      else if (a !== h) report({ table: 'journal_entries', id: r.id, reason: `journal entry ${r.id} or one of its postings was changed behind the application's back` });
    }
    checked += rows.length + ps.rows.length;
    onProgress?.(checked);
    after = BigInt(last);
    if (rows.length < PAGE) break;
  }
  const gone = await pool.query(
    `SELECT DISTINCT a.entity_id FROM audit_log a WHERE a.entity = 'journal_entries'
        AND NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.id = a.entity_id) ORDER BY 1 LIMIT 10`);
  for (const r of gone.rows) report({ table: 'journal_entries', id: r.entity_id, reason: `journal entry ${r.entity_id} was deleted behind the application's back (the audit trail records it)` });
  const orphans = await pool.query(
    `SELECT p.entry_seq, p.line FROM postings p WHERE NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.seq = p.entry_seq) ORDER BY 1, 2 LIMIT 10`);
  for (const r of orphans.rows) report({ table: 'postings', id: `${r.entry_seq}/${r.line}`, reason: `posting ${r.line} of entry #${r.entry_seq} belongs to no journal entry` });

  // 3. Stored balances.
  for (const m of await balanceMismatches(pool, 10)) {
    report({ table: 'balances', id: `${m.account}/${m.asset}`, reason: `stored balance of ${m.account} in ${m.asset} is ${m.stored} (minor units) but its postings sum to ${m.computed}` });
  }
  return { ok: problems.length === 0, checked, firstBroken: problems[0] ?? null, problems };
}

