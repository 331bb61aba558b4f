import cc from 'currency-codes';
import { withTx, type Client, type Pool } from '../db/index.js';
import { DomainError, invalid, type Clock } from '../kernel/index.js';
import { appendAudit, lockBooks } from './audit.js';
import { rowHash } from './row-hash.js';

export interface Asset {
  code: string;
  scale: number;
  kind: 'currency' | 'security';
  name: string;
}

/** ISO 4217 minor units, from the currency-codes package. */
export function isoCurrency(code: string): { scale: number; name: string } | undefined {
  const c = cc.code(code);
  return c ? { scale: c.digits, name: c.currency } : undefined;
}

/**
 * Register an asset. An ISO 4217 code is a currency and takes its minor units from the standard
 * (a conflicting --scale is refused); anything else is a security with the given scale (0-9).
 * Registering the same asset again with the same scale changes nothing.
 * @throws DomainError ASSET_INVALID, ASSET_EXISTS
 */
export async function addAsset(pool: Pool, input: { code: string; scale?: number; name?: string; kind?: 'currency' | 'security' }, ctx: { actor: string; clock: Clock }): Promise<{ asset: Asset; created: boolean }> {
  const code = input.code;
  if (!/^[A-Z0-9][A-Z0-9._-]{0,31}$/.test(code)) {
    throw invalid('ASSET_INVALID', `asset code "${code}" must be 1-32 characters of A-Z, 0-9, '.', '_' or '-', starting with a letter or digit`);
  }
  const iso = input.kind === 'security' ? undefined : isoCurrency(code);
  let scale = input.scale;
  if (iso) {
    if (scale !== undefined && scale !== iso.scale) {
      throw invalid('ASSET_INVALID', `${code} is an ISO 4217 currency with ${iso.scale} decimals; --scale ${scale} contradicts it`);
    }
    scale = iso.scale;
  }
  if (scale === undefined || !Number.isInteger(scale) || scale < 0 || scale > 9) {
    throw invalid('ASSET_INVALID', `asset ${code}: scale must be a whole number from 0 to 9`);
  }
  const asset: Asset = { code, scale, kind: iso ? 'currency' : 'security', name: input.name ?? iso?.name ?? '' };
  return withTx(pool, (c) => addAssetIn(c, asset, ctx));
}

/** addAsset inside the caller's transaction, the asset already validated. */
export async function addAssetIn(c: Client, asset: Asset, ctx: { actor: string; clock: Clock }): Promise<{ asset: Asset; created: boolean }> {
  const { code, scale } = asset;
  {
    await lockBooks(c);
    const cur = await c.query<Asset>('SELECT code, scale, kind, name FROM assets WHERE code = $1', [code]);
    if (cur.rows[0]) {
      if (cur.rows[0].scale !== scale) throw new DomainError('ASSET_EXISTS', 'conflict', `asset ${code} exists with scale ${cur.rows[0].scale}`);
      return { asset: cur.rows[0], created: false };
    }
    const at = ctx.clock.now();
    const row = { code, scale, kind: asset.kind, name: asset.name, created_at: at.toISOString(), created_by: ctx.actor };
    await c.query('INSERT INTO assets (code, scale, kind, name, created_at, created_by) VALUES ($1,$2,$3,$4,$5,$6)',
      [row.code, row.scale, row.kind, row.name, row.created_at, row.created_by]);
    await appendAudit(c, [{ actor: ctx.actor, action: 'asset.add', entity: 'assets', entityId: code, data: { code, scale, kind: asset.kind, name: asset.name }, rowHash: rowHash.assets(row), at }]);
    return { asset, created: true };
  }
}

export async function listAssets(pool: Pool): Promise<Asset[]> {
  const { rows } = await pool.query<Asset>('SELECT code, scale, kind, name FROM assets ORDER BY code');
  return rows;
}
