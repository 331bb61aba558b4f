/**
 * The checks of migration 0022 on the confirmations and trades that confirmation matches name, on
 * statements large enough (over 1,000 rows) to be checked by hash joins: a match naming a
 * confirmation or a trade that does not exist is still refused, among many good rows, of one date
 * or of several; sides of another date are found; the planner is left as it was.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import { testDb } from '../../test/db.js';
import { fixedClock } from '../kernel/index.js';
import { importSecurities, importCustomerAccounts, importCounterparties, importFees } from '../reference/index.js';
import { importExecutions, listTrades } from '../trading/index.js';
import { importConfirmations, matchConfirmations } from './matching.js';

const ctx = { actor: 'tester', clock: fixedClock('2026-03-09T23:00:00.000Z') };
const db = await testDb();
const pool = db.pool;
const tfx = (f: string) => fs.readFileSync(`test/fixtures/trading/${f}`, 'utf8');
const D = '2026-03-09', FRI = '2026-03-06';
const trades: Record<string, string> = {};

beforeAll(async () => {
  await importSecurities(pool, tfx('securities.csv'), 'securities.csv', ctx);
  await importCustomerAccounts(pool, tfx('accounts.csv'), 'accounts.csv', ctx);
  await importCounterparties(pool, tfx('counterparties.csv'), 'counterparties.csv', ctx);
  await importFees(pool, tfx('fees.csv'), 'fees.csv', ctx);
  const rows = ['exec_id,account,symbol,side,quantity,price,trade_date,counterparty,currency',
    `E1,C1002,AAPL,buy,100,190.25,${D},GSCO,USD`, `E2,C1003,MSFT,sell,200,400.00,${D},GSCO,USD`, `F1,C1002,MSFT,buy,5,400.00,${FRI},GSCO,USD`];
  expect(await importExecutions(pool, rows.join('\n'), ctx, { format: 'csv' })).toMatchObject({ booked: 3, quarantined: [] });
  for (const t of await listTrades(pool, {})) trades[t.execId] = t.id;
  const confs = (date: string, prefix: string, n: number) => ['conf_id,counterparty,trade_date,symbol,side,quantity,price',
    ...Array.from({ length: n }, (_, i) => `${prefix}${i},GSCO,${date},AAPL,buy,${1 + (i % 9)},${(150 + i / 100).toFixed(2)}`)].join('\n');
  await importConfirmations(pool, confs(D, 'K', 1500), 'k.csv', ctx);
  await importConfirmations(pool, confs(FRI, 'F', 10), 'f.csv', ctx);
});

/** Run `sql` (an INSERT of matches) in a transaction that is rolled back; what it threw, or 'inserted'. */
async function attempt(sql: string, params: unknown[] = []): Promise<unknown> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query('DELETE FROM confirmation_matches');
    await c.query(sql, params);
    const planner = (await c.query("SELECT current_setting('enable_nestloop') AS s")).rows[0].s;
    return `inserted, enable_nestloop ${planner}`;
  } catch (e) {
    return e;
  } finally {
    await c.query('ROLLBACK');
    c.release();
  }
}

/** The date's confirmations as unmatched rows, and `extra` rows (VALUES: id, trade_date, confirmation, trade_id). */
const many = (extra: string) => `INSERT INTO confirmation_matches (id, trade_date, confirmation, trade_id, status, method, created_at, created_by)
  SELECT 'cmt_' || c.id, c.trade_date, c.id, NULL, 'unmatched', 'auto', now(), 'tester' FROM confirmations c WHERE c.trade_date = '${D}'
  UNION ALL SELECT x.id, x.d::date, x.c, x.t, 'unmatched', 'auto', now(), 'tester' FROM (VALUES ${extra}) AS x(id, d, c, t)`;

describe('checks of the sides confirmation matches name, on large statements', () => {
  it('takes a run of the day (1,500 confirmations and the trades) and its rows', async () => {
    const run = await matchConfirmations(pool, D, { withResults: false }, ctx);
    // E1 (AAPL) is the mismatch of the first AAPL confirmation; E2 (MSFT) has none.
    expect(run.summary).toEqual({ matched: 0, mismatched: 1, unmatchedConfirmations: 1499, unmatchedTrades: 1 });
    expect(run.changes.created).toBe(1501);
    expect(Number((await pool.query('SELECT count(*) AS n FROM confirmation_matches WHERE trade_date = $1', [D])).rows[0].n)).toBe(1501);
  });

  it('refuses a match naming a trade or a confirmation that does not exist, among 1,500 good ones', async () => {
    expect(await attempt(many(`('cmt_x', '${D}', NULL, '${trades.E1}')`))).toBe('inserted, enable_nestloop on');
    expect(await attempt(many(`('cmt_x', '${D}', NULL, '${trades.E1}'), ('cmt_y', '${D}', NULL, 'trd_NONE')`)))
      .toMatchObject({ code: '23503', message: 'confirmation match cmt_y names trade trd_NONE, which does not exist' });
    expect(await attempt(many(`('cmt_y', '${D}', 'cnf_NONE', NULL)`)))
      .toMatchObject({ code: '23503', message: 'confirmation match cmt_y names confirmation cnf_NONE, which does not exist' });
  });

  it('finds sides of another date, and checks each date of a statement of several', async () => {
    const fri = (await pool.query('SELECT id FROM confirmations WHERE trade_date = $1 ORDER BY id LIMIT 2', [FRI])).rows.map((r) => r.id as string);
    // A row of date D naming a trade and a confirmation of Friday; rows of Friday naming Friday's sides.
    expect(await attempt(many(`('cmt_x', '${D}', '${fri[0]}', '${trades.F1}'), ('cmt_y', '${FRI}', '${fri[1]}', '${trades.E2}')`))).toBe('inserted, enable_nestloop on');
    expect(await attempt(many(`('cmt_x', '${D}', '${fri[0]}', '${trades.F1}'), ('cmt_y', '${FRI}', '${fri[1]}', 'trd_NONE')`)))
      .toMatchObject({ code: '23503', message: 'confirmation match cmt_y names trade trd_NONE, which does not exist' });
    expect(await attempt(many(`('cmt_y', '${FRI}', 'cnf_NONE', NULL)`)))
      .toMatchObject({ code: '23503', message: 'confirmation match cmt_y names confirmation cnf_NONE, which does not exist' });
  });

  it('leaves enable_nestloop as the session had it', async () => {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('SET LOCAL enable_nestloop = off');
      await c.query('DELETE FROM confirmation_matches');
      await c.query(many(`('cmt_x', '${D}', NULL, '${trades.E1}')`));
      expect((await c.query("SELECT current_setting('enable_nestloop') AS s")).rows[0].s).toBe('off');
    } finally {
      await c.query('ROLLBACK');
      c.release();
    }
  });
});
