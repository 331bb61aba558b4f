import argon2 from 'argon2';
import crypto from 'node:crypto';
import { withTx, type Pool } from '../db/index.js';
import { DomainError, invalid, newId, notFound, type Clock } from '../kernel/index.js';
import { appendAudit, lockBooks, rowHash } from '../ledger/index.js';
import { ROLES, type Role } from '../kernel/index.js';

export interface User {
  id: number;
  name: string;
  role: Role;
  disabled: boolean;
}

interface Ctx { actor: string; clock: Clock }

const NAME_RE = /^[a-z0-9][a-z0-9._-]{1,63}$/;

/** argon2id with OWASP's recommended parameters (19 MiB, 2 passes). */
const hashPassword = (pw: string) => argon2.hash(pw, { type: argon2.argon2id, memoryCost: 19456, timeCost: 2, parallelism: 1 });

function checkPassword(pw: string): void {
  if (typeof pw !== 'string' || pw.length < 10) throw invalid('PASSWORD_WEAK', 'a password needs at least 10 characters');
  if (pw.length > 1024) throw invalid('PASSWORD_INVALID', 'a password has at most 1024 characters');
}

async function audited(pool: Pool, ctx: Ctx, action: string, name: string, data: Record<string, unknown>, write: (c: import('../db/index.js').Client) => Promise<void>): Promise<User> {
  return withTx(pool, async (c) => {
    await lockBooks(c);
    await write(c);
    const { rows } = await c.query('SELECT id, name, role, password_hash, disabled, created_at FROM users WHERE name = $1', [name]);
    const r = rows[0];
    await appendAudit(c, [{ actor: ctx.actor, action, entity: 'users', entityId: String(r.id), data: { name, ...data }, rowHash: rowHash.users(r), at: ctx.clock.now() }]);
    return { id: r.id, name: r.name, role: r.role, disabled: r.disabled };
  });
}

/**
 * Add a user with a role and, optionally, a password (argon2id). The password is never logged
 * nor stored in the audit trail.
 * @throws DomainError USER_INVALID, USER_EXISTS, PASSWORD_WEAK
 */
export async function addUser(pool: Pool, input: { name: string; role: Role; password?: string }, ctx: Ctx): Promise<User> {
  if (!NAME_RE.test(input.name)) throw invalid('USER_INVALID', `user name "${input.name}" must be 2-64 characters of a-z, 0-9, '.', '_' or '-'`);
  if (!ROLES.includes(input.role)) throw invalid('USER_INVALID', `role "${input.role}" must be one of ${ROLES.join(', ')}`);
  if (input.password !== undefined) checkPassword(input.password);
  const hash = input.password === undefined ? null : await hashPassword(input.password);
  const exists = await pool.query('SELECT 1 FROM users WHERE name = $1', [input.name]);
  if (exists.rowCount) throw new DomainError('USER_EXISTS', 'conflict', `user ${input.name} exists already`);
  return audited(pool, ctx, 'user.add', input.name, { role: input.role }, async (c) => {
    await c.query('INSERT INTO users (name, role, password_hash, created_at) VALUES ($1, $2, $3, $4)', [input.name, input.role, hash, ctx.clock.now().toISOString()]);
  });
}

/** @throws DomainError USER_NOT_FOUND, USER_INVALID */
export async function setRole(pool: Pool, name: string, role: Role, ctx: Ctx): Promise<User> {
  if (!ROLES.includes(role)) throw invalid('USER_INVALID', `role "${role}" must be one of ${ROLES.join(', ')}`);
  await getUser(pool, name);
  return audited(pool, ctx, 'user.role', name, { role }, async (c) => { await c.query('UPDATE users SET role = $2 WHERE name = $1', [name, role]); });
}

/** @throws DomainError USER_NOT_FOUND, PASSWORD_WEAK */
export async function setPassword(pool: Pool, name: string, password: string, ctx: Ctx): Promise<User> {
  checkPassword(password);
  await getUser(pool, name);
  const hash = await hashPassword(password);
  return audited(pool, ctx, 'user.password', name, {}, async (c) => {
    await c.query('UPDATE users SET password_hash = $2 WHERE name = $1', [name, hash]);
    await c.query('DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = $1)', [name]);
  });
}

/** @throws DomainError USER_NOT_FOUND */
export async function setDisabled(pool: Pool, name: string, disabled: boolean, ctx: Ctx): Promise<User> {
  await getUser(pool, name);
  return audited(pool, ctx, disabled ? 'user.disable' : 'user.enable', name, {}, async (c) => {
    await c.query('UPDATE users SET disabled = $2 WHERE name = $1', [name, disabled]);
    if (disabled) await c.query('DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = $1)', [name]);
  });
}

/** @throws DomainError USER_NOT_FOUND */
export async function getUser(pool: Pool, name: string): Promise<User> {
  const { rows } = await pool.query('SELECT id, name, role, disabled FROM users WHERE name = $1', [name]);
  if (!rows[0]) throw notFound('USER_NOT_FOUND', `user ${name} does not exist`);
  return rows[0];
}

export async function listUsers(pool: Pool): Promise<User[]> {
  return (await pool.query('SELECT id, name, role, disabled FROM users ORDER BY name')).rows;
}

// A dummy hash to verify against when the user is unknown, so timing does not reveal which names exist.
let dummy: Promise<string> | undefined;

/** The user for a name and password, or null. Constant work whether or not the name exists. */
export async function authenticate(pool: Pool, name: string, password: string): Promise<User | null> {
  const { rows } = await pool.query('SELECT id, name, role, disabled, password_hash FROM users WHERE name = $1', [name]);
  const r = rows[0];
  dummy ??= hashPassword(crypto.randomBytes(16).toString('hex'));
  const hash: string = r?.password_hash ?? (await dummy);
  const ok = await argon2.verify(hash, password).catch(() => false);
  if (!r || !ok || r.disabled || !r.password_hash) return null;
  return { id: r.id, name: r.name, role: r.role, disabled: r.disabled };
}

const sha = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

/** A new session; returns the secret for the cookie (only its hash is stored). */
export async function createSession(pool: Pool, user: User, clock: Clock, hours: number): Promise<string> {
  const secret = crypto.randomBytes(32).toString('base64url');
  const now = clock.now();
  await pool.query('INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)',
    [sha(secret), user.id, now.toISOString(), new Date(now.getTime() + hours * 3600_000).toISOString()]);
  await pool.query('DELETE FROM sessions WHERE expires_at < $1', [now.toISOString()]);
  return secret;
}

export async function userForSession(pool: Pool, secret: string, clock: Clock): Promise<User | null> {
  // Named: prepared once per connection, since every request asks it.
  const { rows } = await pool.query({
    name: 'user-for-session',
    text: `SELECT u.id, u.name, u.role, u.disabled FROM sessions s JOIN users u ON u.id = s.user_id
      WHERE s.token_hash = $1 AND s.expires_at > $2 AND NOT u.disabled`,
    values: [sha(secret), clock.now().toISOString()],
  });
  return rows[0] ?? null;
}

export async function endSession(pool: Pool, secret: string): Promise<void> {
  await pool.query('DELETE FROM sessions WHERE token_hash = $1', [sha(secret)]);
}

/** A bearer token for a machine, acting as `user`. The secret is shown once. */
export async function createToken(pool: Pool, user: User, name: string, clock: Clock): Promise<{ id: string; token: string }> {
  const id = newId('tok');
  const token = `bo_${crypto.randomBytes(32).toString('base64url')}`;
  await pool.query('INSERT INTO api_tokens (id, token_hash, user_id, name, created_at) VALUES ($1, $2, $3, $4, $5)',
    [id, sha(token), user.id, name, clock.now().toISOString()]);
  return { id, token };
}

export async function userForToken(pool: Pool, token: string): Promise<User | null> {
  const { rows } = await pool.query({
    name: 'user-for-token',
    text: `SELECT u.id, u.name, u.role, u.disabled FROM api_tokens t JOIN users u ON u.id = t.user_id
      WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND NOT u.disabled`,
    values: [sha(token)],
  });
  return rows[0] ?? null;
}

export async function revokeToken(pool: Pool, id: string, clock: Clock): Promise<void> {
  const r = await pool.query('UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL', [id, clock.now().toISOString()]);
  if (!r.rowCount) throw notFound('TOKEN_NOT_FOUND', `token ${id} does not exist or is revoked`);
}
