import { copyInto, copyRow, type Client, type Pool } from '../db/index.js';
import { canonical, sha256 } from './hash.js';

/** The audit chain starts from this hash. */
export const GENESIS = '0'.repeat(64);

/** One change to the books, users or roles: who, when, what. */
export interface AuditEvent {
  actor: string;
  action: string;
  /** The table it changed (assets, accounts, journal_entries, period_closes, users). */
  entity: string;
  entityId: string;
  /** What changed, for people; never a secret. */
  data: Record<string, unknown>;
  /** Hash of the changed row as stored (see rowHash.ts): verify recomputes it from the table. */
  rowHash: string;
  at: Date;
}

/**
 * Serialise all writers to the books: one advisory lock for the transaction. The audit chain is
 * a single sequence, so appends must be ordered; group commit keeps throughput up.
 */
export async function lockBooks(c: Client): Promise<void> {
  await c.query('SELECT pg_advisory_xact_lock(7243002)');
}

export function chainHash(prev: string, seq: bigint, at: string, e: Omit<AuditEvent, 'at'>, data: unknown): string {
  return sha256(prev + '\n' + canonical([seq, at, e.actor, e.action, e.entity, e.entityId, data, e.rowHash]));
}

/** Append events to the chain. Call inside a transaction that holds lockBooks. */
export async function appendAudit(c: Client, events: AuditEvent[]): Promise<void> {
  if (events.length === 0) return;
  const head = await c.query<{ seq: bigint; hash: string }>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
  let seq = head.rows[0]?.seq ?? 0n;
  let prev = head.rows[0]?.hash ?? GENESIS;
  // COPY text, built as the chain is hashed (no array parameters to escape and parse).
  let rows = '';
  for (const e of events) {
    seq += 1n;
    const at = e.at.toISOString();
    const hash = chainHash(prev, seq, at, e, e.data);
    rows += copyRow([seq, at, e.actor, e.action, e.entity, e.entityId, canonical(e.data), e.rowHash, prev, hash]);
    prev = hash;
  }
  await copyInto(c, 'audit_log', ['seq', 'at', 'actor', 'action', 'entity', 'entity_id', 'data', 'row_hash', 'prev_hash', 'hash'], rows);
}

export interface AuditRow {
  seq: string;
  at: string;
  actor: string;
  action: string;
  entity: string;
  entityId: string;
  data: unknown;
}

/** The trail, newest first, optionally for one entity. */
export async function listAudit(pool: Pool, q: { entity?: string; entityId?: string; limit?: number; before?: string }): Promise<AuditRow[]> {
  const { rows } = await pool.query(
    `SELECT seq, at, actor, action, entity, entity_id, data FROM audit_log
      WHERE ($1::text IS NULL OR entity = $1) AND ($2::text IS NULL OR entity_id = $2) AND ($3::bigint IS NULL OR seq < $3)
      ORDER BY seq DESC LIMIT $4`,
    [q.entity ?? null, q.entityId ?? null, q.before ?? null, Math.min(q.limit ?? 100, 1000)],
  );
  return rows.map((r) => ({ seq: String(r.seq), at: r.at, actor: r.actor, action: r.action, entity: r.entity, entityId: r.entity_id, data: r.data }));
}
