import type { ColumnType, Generated } from 'kysely';

/** Kysely's view of the tables (migrations/ is the truth). */
export interface Schema {
  assets: { code: string; scale: number; kind: 'currency' | 'security'; name: string; created_at: string; created_by: string };
  accounts: {
    id: Generated<number>;
    name: string;
    type: string;
    owner: string | null;
    no_negative: boolean;
    created_at: string;
    created_by: string;
  };
  journal_entries: {
    seq: bigint;
    id: string;
    idempotency_key: string;
    body_hash: string;
    effective_date: string;
    memo: string;
    recorded_at: string;
    created_by: string;
    reverses: bigint | null;
  };
  postings: { entry_seq: bigint; line: number; account_id: number; asset: string; amount: string; effective_date: string };
  balances: { account_id: number; asset: string; balance: string; no_negative: boolean };
  period_closes: { id: Generated<number>; closed_through: string; closed_at: string; closed_by: string };
  audit_log: {
    seq: bigint;
    at: string;
    actor: string;
    action: string;
    entity: string;
    entity_id: string;
    data: ColumnType<unknown, string, never>;
    row_hash: string;
    prev_hash: string;
    hash: string;
  };
  users: {
    id: Generated<number>;
    name: string;
    role: string;
    password_hash: string | null;
    disabled: boolean;
    created_at: string;
  };
  sessions: { token_hash: string; user_id: number; created_at: string; expires_at: string };
  api_tokens: { id: string; token_hash: string; user_id: number; name: string; created_at: string; revoked_at: string | null };
}
