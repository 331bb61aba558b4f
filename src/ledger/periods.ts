import { withTx, type Client, type Pool } from '../db/index.js';
import { DomainError, parseDate, type Clock } from '../kernel/index.js';
import { appendAudit, lockBooks } from './audit.js';
import { rowHash } from './row-hash.js';

/** The last closed business date, or null when nothing is closed. */
export async function closedThrough(c: Pool | Client): Promise<string | null> {
  const { rows } = await c.query<{ d: string | null }>('SELECT max(closed_through) AS d FROM period_closes');
  return rows[0]?.d ?? null;
}

/**
 * Close the books through `through` (inclusive): no entry dated on or before it can be posted
 * any more. Closing is forward-only; closing a date already closed changes nothing.
 * @throws DomainError PERIOD_ALREADY_CLOSED when a later date is already closed
 */
export async function closePeriod(pool: Pool, through: string, ctx: { actor: string; clock: Clock }): Promise<{ closedThrough: string; changed: boolean }> {
  parseDate(through, 'through');
  return withTx(pool, async (c) => {
    await lockBooks(c);
    const cur = await closedThrough(c);
    if (cur && cur >= through) {
      if (cur === through) return { closedThrough: cur, changed: false };
      throw new DomainError('PERIOD_ALREADY_CLOSED', 'conflict', `the books are already closed through ${cur}; ${through} is earlier`);
    }
    const at = ctx.clock.now();
    const { rows } = await c.query<{ id: number }>(
      'INSERT INTO period_closes (closed_through, closed_at, closed_by) VALUES ($1, $2, $3) RETURNING id', [through, at.toISOString(), ctx.actor]);
    const id = rows[0]!.id;
    await appendAudit(c, [{
      actor: ctx.actor, action: 'period.close', entity: 'period_closes', entityId: String(id), data: { closedThrough: through },
      rowHash: rowHash.period_closes({ id, closed_through: through, closed_at: at.toISOString(), closed_by: ctx.actor }), at,
    }]);
    return { closedThrough: through, changed: true };
  });
}

export async function listCloses(pool: Pool): Promise<{ closedThrough: string; closedAt: string; closedBy: string }[]> {
  const { rows } = await pool.query('SELECT closed_through, closed_at, closed_by FROM period_closes ORDER BY id');
  return rows.map((r) => ({ closedThrough: r.closed_through, closedAt: r.closed_at, closedBy: r.closed_by }));
}
