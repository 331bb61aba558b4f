import { withTx, type Client, type Pool } from '../db/index.js';
import { DomainError, invalid, notFound, type Clock } from '../kernel/index.js';
import { appendAudit, lockBooks } from './audit.js';
import { rowHash } from './row-hash.js';

export const ACCOUNT_TYPES = ['asset', 'liability', 'equity', 'income', 'expense'] as const;
export type AccountType = (typeof ACCOUNT_TYPES)[number];

export interface Account {
  name: string;
  type: AccountType;
  owner: string | null;
  noNegative: boolean;
  createdAt: string;
}

export interface OpenAccountInput {
  name: string;
  type: AccountType;
  owner?: string | null;
  noNegative?: boolean;
}

const NAME_RE = /^[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)*$/;

function checkAccountInput(input: OpenAccountInput): void {
  if (typeof input.name !== 'string' || !NAME_RE.test(input.name) || input.name.length > 200) {
    throw invalid('ACCOUNT_INVALID', `account name "${input.name}" must be segments of letters, digits, '_', '.', '-' joined by ':' (e.g. assets:bank:usd)`, [{ record: String(input.name), field: 'name', rule: 'ACCOUNT_NAME', message: 'invalid account name' }]);
  }
  if (!ACCOUNT_TYPES.includes(input.type)) {
    throw invalid('ACCOUNT_INVALID', `account ${input.name}: type "${input.type}" must be one of ${ACCOUNT_TYPES.join(', ')}`, [{ record: input.name, field: 'type', rule: 'ACCOUNT_TYPE', message: 'invalid type' }]);
  }
}

/**
 * Open an account in the chart of accounts. Names are hierarchical (`assets:bank:usd`); parents
 * need not exist (balances roll up by prefix). Opening the same account again with the same
 * attributes changes nothing.
 * @throws DomainError ACCOUNT_INVALID, ACCOUNT_EXISTS
 */
export async function openAccount(pool: Pool, input: OpenAccountInput, ctx: { actor: string; clock: Clock }): Promise<{ account: Account; created: boolean }> {
  checkAccountInput(input);
  return withTx(pool, (c) => openAccountIn(c, input, ctx));
}

/** openAccount inside the caller's transaction (the name and type already checked). */
export async function openAccountIn(c: Client, input: OpenAccountInput, ctx: { actor: string; clock: Clock }): Promise<{ account: Account; created: boolean }> {
  checkAccountInput(input);
  const owner = input.owner ?? null;
  const noNegative = input.noNegative ?? false;
  {
    await lockBooks(c);
    const cur = await c.query('SELECT name, type, owner, no_negative, created_at FROM accounts WHERE name = $1', [input.name]);
    const r = cur.rows[0];
    if (r) {
      if (r.type !== input.type || r.owner !== owner || r.no_negative !== noNegative) {
        throw new DomainError('ACCOUNT_EXISTS', 'conflict', `account ${input.name} exists already with type ${r.type}, owner ${r.owner ?? 'none'}, no-negative ${r.no_negative}`);
      }
      return { account: toAccount(r), created: false };
    }
    const at = ctx.clock.now();
    const ins = await c.query<{ id: number }>(
      'INSERT INTO accounts (name, type, owner, no_negative, created_at, created_by) VALUES ($1,$2,$3,$4,$5,$6) RETURNING id',
      [input.name, input.type, owner, noNegative, at.toISOString(), ctx.actor]);
    const id = ins.rows[0]!.id;
    await appendAudit(c, [{
      actor: ctx.actor, action: 'account.open', entity: 'accounts', entityId: String(id),
      data: { name: input.name, type: input.type, owner, noNegative },
      rowHash: rowHash.accounts({ id, name: input.name, type: input.type, owner, no_negative: noNegative, created_at: at.toISOString(), created_by: ctx.actor }), at,
    }]);
    return { account: { name: input.name, type: input.type, owner, noNegative, createdAt: at.toISOString() }, created: true };
  }
}

const toAccount = (r: { name: string; type: AccountType; owner: string | null; no_negative: boolean; created_at: string }): Account => ({
  name: r.name, type: r.type, owner: r.owner, noNegative: r.no_negative, createdAt: r.created_at,
});

export async function listAccounts(pool: Pool, prefix?: string): Promise<Account[]> {
  const { rows } = await pool.query(
    `SELECT name, type, owner, no_negative, created_at FROM accounts
      WHERE $1::text IS NULL OR name = $1 OR name LIKE $2 ORDER BY name`,
    [prefix ?? null, prefix ? prefix.replace(/[\\%_]/g, (m) => '\\' + m) + ':%' : null]);
  return rows.map(toAccount);
}

/** @throws DomainError ACCOUNT_NOT_FOUND */
export async function getAccount(pool: Pool, name: string): Promise<Account> {
  const { rows } = await pool.query('SELECT name, type, owner, no_negative, created_at FROM accounts WHERE name = $1', [name]);
  if (!rows[0]) throw notFound('ACCOUNT_NOT_FOUND', `account ${name} does not exist`);
  return toAccount(rows[0]);
}
