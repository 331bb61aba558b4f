import { describe, it, expect, beforeAll } from 'vitest';
import { testDb } from '../../test/db.js';
import { importTradingReference } from '../../test/trading-reference.js';
import { fixedClock } from '../kernel/index.js';
import { importExecutions, listTrades } from './index.js';

// Migrations 0023 and 0024: the references of trades, lots and realized P&L are checked per
// statement, not by foreign keys; what the keys refused is still refused, with a message naming
// what is missing.
const ctx = { actor: 'tester', clock: fixedClock('2026-03-10T12:00:00.000Z') };
const db = await testDb();
const pool = db.pool;
let fill = '';
let correction = '';

beforeAll(async () => {
  await importTradingReference(pool, ctx);
  const r = await importExecutions(pool, ['exec_id,account,symbol,side,quantity,price,trade_date,counterparty,currency,kind,exec_ref_id',
    'R1,C1002,AAPL,buy,100,190.25,2026-03-02,GSCO,USD,,',
    'R2,C1002,AAPL,buy,90,190.25,2026-03-02,GSCO,USD,correct,R1'].join('\n'), ctx, { format: 'csv' });
  expect(r.booked).toBe(2);
  const trades = await listTrades(pool, { account: 'C1002' });
  fill = trades.find((t) => t.execId === 'R1')!.id;
  correction = trades.find((t) => t.execId === 'R2')!.id;
});

/** A copy of the correction under a new id and exec id, with the references given. */
const insert = (id: string, refs: { account?: string; symbol?: string; replaces?: string | null }) => pool.query(
  `INSERT INTO trades (id, source, exec_id, order_id, account, symbol, side, quantity, price, currency, trade_date, settle_date, settle_provisional,
     counterparty, gross, commission, sec_fee, finra_taf, net, status, entry_id, replaces, booked_at, fifo_seq)
   SELECT $2, source, $2, order_id, coalesce($3, account), coalesce($4, symbol), side, quantity, price, currency, trade_date, settle_date, settle_provisional,
     counterparty, gross, commission, sec_fee, finra_taf, net, status, entry_id, CASE WHEN $5::boolean THEN $6 ELSE replaces END, booked_at, fifo_seq
     FROM trades WHERE id = $1`,
  [correction, id, refs.account ?? null, refs.symbol ?? null, 'replaces' in refs, refs.replaces ?? null]);

describe('trade references (migration 0023)', () => {
  it('refuses a trade naming a customer account, security or replaced trade that does not exist', async () => {
    await expect(insert('trd_x1', { account: 'C9999' })).rejects.toMatchObject({ code: '23503', message: 'trade trd_x1 names customer account C9999, which does not exist' });
    await expect(insert('trd_x2', { symbol: 'NOPE' })).rejects.toMatchObject({ code: '23503', message: 'trade trd_x2 names security NOPE, which does not exist' });
    await expect(insert('trd_x3', { replaces: 'trd_gone' })).rejects.toMatchObject({ code: '23503', message: 'trade trd_x3 replaces trade trd_gone, which does not exist' });
    await expect(pool.query("UPDATE trades SET account = 'C9999' WHERE id = $1", [fill])).rejects.toMatchObject({ code: '23503', message: expect.stringContaining('names customer account C9999') });
    // Nothing of them was written; a trade whose references exist is.
    expect((await pool.query("SELECT count(*)::int AS n FROM trades WHERE id LIKE 'trd_x%'")).rows[0].n).toBe(0);
    await insert('trd_ok', { replaces: fill });
    expect((await pool.query("SELECT account, symbol, replaces FROM trades WHERE id = 'trd_ok'")).rows).toEqual([{ account: 'C1002', symbol: 'AAPL', replaces: fill }]);
    await pool.query("DELETE FROM trades WHERE id = 'trd_ok'");
  });

  it('refuses to delete, or change the key of, an account, security or trade that trades name; one they do not name goes', async () => {
    const named = { code: '23503', message: expect.stringContaining('is named by trades') };
    await expect(pool.query("DELETE FROM customer_accounts WHERE account = 'C1002'")).rejects.toMatchObject(named);
    await expect(pool.query("UPDATE customer_accounts SET account = 'C1002X' WHERE account = 'C1002'")).rejects.toMatchObject(named);
    await expect(pool.query("DELETE FROM securities WHERE symbol = 'AAPL'")).rejects.toMatchObject(named);
    await expect(pool.query("UPDATE securities SET symbol = 'AAPLX' WHERE symbol = 'AAPL'")).rejects.toMatchObject(named);
    // The corrected fill: the correction replaces it.
    await expect(pool.query('DELETE FROM trades WHERE id = $1', [fill])).rejects.toMatchObject(named);
    await expect(pool.query("UPDATE trades SET id = 'trd_other' WHERE id = $1", [fill])).rejects.toMatchObject(named);
    // Other columns change freely; so does an account no trade names.
    await pool.query("UPDATE customer_accounts SET name = name || '' WHERE account = 'C1002'");
    await pool.query("INSERT INTO customer_accounts (account, name, type, currency, updated_at, updated_by) VALUES ('Z0001', 'Nobody', 'cash', 'USD', now(), 'tester')");
    expect((await pool.query("DELETE FROM customer_accounts WHERE account = 'Z0001'")).rowCount).toBe(1);
  });

  it('refuses lots and realized P&L naming a trade or lot event that does not exist, and deleting a trade they name', async () => {
    const lot = (await pool.query('SELECT account, symbol, lot_id, trade_id FROM lots WHERE account = $1', ['C1002'])).rows;
    // The correction (90) opened the one lot; the corrected fill has none.
    expect(lot).toEqual([{ account: 'C1002', symbol: 'AAPL', lot_id: correction, trade_id: correction }]);
    await expect(pool.query(`INSERT INTO lots (account, symbol, lot_id, trade_id, open_date, quantity, remaining, unit_cost) VALUES ('C1002', 'AAPL', 'L2', 'trd_gone', '2026-03-02', 1, 1, 1)`))
      .rejects.toMatchObject({ code: '23503', message: 'a lot names trade trd_gone, which does not exist' });
    await expect(pool.query(`INSERT INTO realized_pnl (account, symbol, sale_trade, lot_id, quantity, proceeds, cost, pnl, trade_date) VALUES ('C1002', 'AAPL', 'trd_gone', $1, 1, 1, 1, 0, '2026-03-02')`, [correction]))
      .rejects.toMatchObject({ code: '23503', message: 'realized P&L names sale trd_gone, which does not exist' });
    await expect(pool.query(`INSERT INTO realized_pnl (account, symbol, sale_trade, lot_id, quantity, proceeds, cost, pnl, trade_date, lot_event) VALUES ('C1002', 'AAPL', NULL, $1, 1, 1, 1, 0, '2026-03-02', 'NO-EVENT')`, [correction]))
      .rejects.toMatchObject({ code: '23503', message: 'realized P&L names lot event NO-EVENT, which does not exist' });
    await expect(pool.query('DELETE FROM trades WHERE id = $1', [correction])).rejects.toMatchObject({ code: '23503', message: expect.stringContaining('is named by lots or realized P&L') });
    expect((await pool.query('SELECT count(*)::int AS n FROM trades WHERE id = $1', [correction])).rows[0].n).toBe(1);
  });
});
