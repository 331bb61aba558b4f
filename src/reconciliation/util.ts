import crypto from 'node:crypto';
import cc from 'currency-codes';
import type { Client, Pool } from '../db/index.js';
import { systemClock, type Clock } from '../kernel/index.js';

/** Who acts and the clock: passed in by the CLI, the API and tests. */
export interface ReconCtx {
  actor: string;
  clock: Clock;
}

export const ctxOf = (ctx: Partial<ReconCtx> = {}): ReconCtx => ({ actor: ctx.actor ?? 'system', clock: ctx.clock ?? systemClock });

export const sha256 = (s: string): string => crypto.createHash('sha256').update(s).digest('hex');

/** JSON with sorted keys and no spaces: the same value always hashes the same. */
export function canonical(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'bigint') return JSON.stringify(v.toString());
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return '{' + Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => JSON.stringify(k) + ':' + canonical(o[k])).join(',') + '}';
  }
  return JSON.stringify(v);
}

/** Serialises the runs and break actions of one statement account. */
export async function lockAccount(c: Client, account: string): Promise<void> {
  await c.query('SELECT pg_advisory_xact_lock(7243010, hashtext($1))', [account]);
}

/** Serialises statement imports (their idempotency checks). */
export async function lockImports(c: Client): Promise<void> {
  await c.query('SELECT pg_advisory_xact_lock(7243011)');
}

/** Scale of an asset: the ledger's, else the ISO 4217 minor units of a currency not yet used; null when unknown. */
export async function scaleOf(db: Pool | Client, asset: string): Promise<number | null> {
  const r = await db.query<{ scale: number }>('SELECT scale FROM assets WHERE code = $1', [asset]);
  if (r.rows[0]) return r.rows[0].scale;
  const iso = cc.code(asset);
  return iso ? iso.digits : null;
}

const DAY_MS = 86_400_000;
/** Days since 1970-01-01 of a YYYY-MM-DD date. */
export const dayOf = (date: string): number => Math.round(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
export const dateOfDay = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);
