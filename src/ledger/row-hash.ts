import { canonical, sha256 } from './hash.js';

export interface JournalRow {
  seq: string; id: string; key: string; body_hash: string; date: string; memo: string; recorded_at: string;
  created_by: string; reverses: string | null; postings: [number, number, string, string, string][];
}

const str = JSON.stringify;

/**
 * canonical([seq, id, key, body_hash, date, memo, recorded_at, created_by, reverses, postings]),
 * written out: the same text (row-hash.test.ts holds them together) without the generic walk,
 * since the ledger hashes every entry it writes and every entry `audit verify` reads.
 */
export function journalRowText(r: JournalRow): string {
  let ps = '';
  for (const p of r.postings) ps += (ps ? ',[' : '[') + p[0] + ',' + p[1] + ',' + str(p[2]) + ',' + str(p[3]) + ',' + str(p[4]) + ']';
  return '[' + str(r.seq) + ',' + str(r.id) + ',' + str(r.key) + ',' + str(r.body_hash) + ',' + str(r.date) + ',' + str(r.memo) + ','
    + str(r.recorded_at) + ',' + str(r.created_by) + ',' + (r.reverses === null ? 'null' : str(r.reverses)) + ',[' + ps + ']]';
}

/**
 * How each audited table's row is hashed. The writer hashes what it inserts; `audit verify`
 * hashes what the table holds now; any difference is an edit made behind the application's back.
 */
export const rowHash = {
  assets: (r: { code: string; scale: number; kind: string; name: string; created_at: string; created_by: string }) =>
    sha256(canonical([r.code, r.scale, r.kind, r.name, r.created_at, r.created_by])),
  accounts: (r: { id: number; name: string; type: string; owner: string | null; no_negative: boolean; created_at: string; created_by: string }) =>
    sha256(canonical([r.id, r.name, r.type, r.owner, r.no_negative, r.created_at, r.created_by])),
  journal_entries: (r: JournalRow) => sha256(journalRowText(r)),
  period_closes: (r: { id: number; closed_through: string; closed_at: string; closed_by: string }) =>
    sha256(canonical([r.id, r.closed_through, r.closed_at, r.closed_by])),
  users: (r: { id: number; name: string; role: string; password_hash: string | null; disabled: boolean; created_at: string }) =>
    sha256(canonical([r.id, r.name, r.role, r.password_hash, r.disabled, r.created_at])),
};
