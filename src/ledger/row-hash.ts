import { canonical, sha256 } from './hash.js';

/**
 * How each audited table's row is hashed. The writer hashes what it inserts; `audit verify`
 * hashes what the table holds now; any difference is an edit made behind the application's back.
 */
export const rowHash = {
  assets: (r: { code: string; scale: number; kind: string; name: string; created_at: string; created_by: string }) =>
    sha256(canonical([r.code, r.scale, r.kind, r.name, r.created_at, r.created_by])),
  accounts: (r: { id: number; name: string; type: string; owner: string | null; no_negative: boolean; created_at: string; created_by: string }) =>
    sha256(canonical([r.id, r.name, r.type, r.owner, r.no_negative, r.created_at, r.created_by])),
  journal_entries: (r: {
    seq: string; id: string; key: string; body_hash: string; date: string; memo: string; recorded_at: string;
    created_by: string; reverses: string | null; postings: [number, number, string, string, string][];
  }) => sha256(canonical([r.seq, r.id, r.key, r.body_hash, r.date, r.memo, r.recorded_at, r.created_by, r.reverses, r.postings])),
  period_closes: (r: { id: number; closed_through: string; closed_at: string; closed_by: string }) =>
    sha256(canonical([r.id, r.closed_through, r.closed_at, r.closed_by])),
  users: (r: { id: number; name: string; role: string; password_hash: string | null; disabled: boolean; created_at: string }) =>
    sha256(canonical([r.id, r.name, r.role, r.password_hash, r.disabled, r.created_at])),
};
