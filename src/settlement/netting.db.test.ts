import { describe, it, expect, beforeAll } from 'vitest';
import { testDb } from '../../test/db.js';
import { importTradingReference } from '../../test/trading-reference.js';
import { DomainError, fixedClock } from '../kernel/index.js';

import { importExecutions, listTrades } from '../trading/index.js';
import { Command } from 'commander';
import type { Db } from '../db/index.js';
import { computeObligations, listObligations, nettingReport } from './obligations.js';
import { settlementCommands } from './cli.js';

const ctx = { actor: 'tester', clock: fixedClock('2026-03-10T12:00:00.000Z') };
const db = await testDb();
const pool = db.pool;
const HEADER = 'exec_id,account,symbol,side,quantity,price,trade_date,counterparty,currency,kind,exec_ref_id';
const csv = (...rows: string[]) => [HEADER, ...rows].join('\n');

const D1 = '2026-03-05';
const D2 = '2026-03-06';

const snapshot = async () => (await pool.query('SELECT * FROM settlement_obligations ORDER BY id')).rows;
const brief = (rows: { counterparty: string; security: string; quantity: string; cash: string; currency: string; status?: string; trades: number; fails: number }[]) =>
  rows.map((o) => [o.counterparty, o.security, o.quantity, o.cash, o.currency, o.status, o.trades, o.fails]);

beforeAll(async () => {
  await importTradingReference(pool, ctx);
  // Trades of 03-04 on XNAS (T+1) and of 03-03 on XLON (T+2) settle on 03-05; those of 03-05 on 03-06.
  const r = await importExecutions(pool, csv(
    'E1,C1002,AAPL,buy,100,190.25,2026-03-04,GSCO,USD,,',
    'E2,C1003,AAPL,sell,100,195.50,2026-03-04,GSCO,USD,,',
    'E3,C1003,MSFT,buy,200,400.00,2026-03-04,GSCO,USD,,',
    'E4,C1003,MSFT,short,50,402.00,2026-03-04,GSCO,USD,,',
    'E5,C1002,AAPL,sell,30,190.00,2026-03-04,NSCC,USD,,',
    'E6,C1001,AAPL,buy,10,191.00,2026-03-04,NSCC,USD,,',
    'E7,C1002,VOD,sell,1000,0.75,2026-03-03,GSCO,GBP,,',
    'X1,C1002,MSFT,buy,10,401.00,2026-03-04,NSCC,USD,,',
    'X2,C1002,MSFT,buy,,,2026-03-04,NSCC,USD,cancel,X1',
    'E8,C1002,AAPL,buy,5,200.00,2026-03-05,GSCO,USD,,',
    'E9,C1003,MSFT,sell,20,405.00,2026-03-05,NSCC,USD,,',
  ), ctx, { format: 'csv' });
  expect(r).toMatchObject({ received: 11, booked: 11, quarantined: [] });
});

describe('settlement obligations', () => {
  it('nets the street side of booked trades at their gross, per counterparty and security, and is idempotent', async () => {
    const run = await computeObligations(pool, D1, ctx);
    expect(run.changes).toEqual({ created: 4, updated: 0, unchanged: 0, removed: 0, carried: 0 });
    expect(brief(run.obligations)).toEqual([
      // 100 x 190.25 bought, 100 x 195.50 sold: no shares move, 525.00 is received.
      ['GSCO', 'AAPL', '0', '525.00', 'USD', 'pending', 2, 0],
      ['GSCO', 'MSFT', '150', '-59900.00', 'USD', 'pending', 2, 0],
      ['GSCO', 'VOD', '-1000', '750.00', 'GBP', 'pending', 1, 0],
      // The canceled X1 is out.
      ['NSCC', 'AAPL', '-20', '3790.00', 'USD', 'pending', 2, 0],
    ]);
    // Commissions and fees stay between the firm and its customers: the street nets on the gross.
    const e1e2 = (await listTrades(pool, {})).filter((t) => t.execId === 'E1' || t.execId === 'E2');
    expect(e1e2).toHaveLength(2);
    for (const t of e1e2) expect(t.net).not.toBe(t.gross);
    expect(run.netCash.map((c) => [c.counterparty, c.currency, c.cash])).toEqual([
      ['GSCO', 'GBP', '750.00'],
      ['GSCO', 'USD', '-59375.00'],
      ['NSCC', 'USD', '3790.00'],
    ]);
    expect(run.report).toEqual({
      gross: { obligations: 7, trades: 7, fails: 0, quantity: '1490', cash: [{ currency: 'GBP', amount: '750.00' }, { currency: 'USD', amount: '146285.00' }] },
      net: { obligations: 3, payments: 3, quantity: '1170', cash: [{ currency: 'GBP', amount: '750.00' }, { currency: 'USD', amount: '63165.00' }] },
      reduction: { obligations: '57.14', quantity: '21.48', cash: [{ currency: 'GBP', percent: '0.00' }, { currency: 'USD', percent: '56.82' }] },
    });

    const before = await snapshot();
    const again = await computeObligations(pool, D1, { actor: 'someone-else', clock: fixedClock('2026-03-11T09:00:00.000Z') });
    expect(again.changes).toEqual({ created: 0, updated: 0, unchanged: 4, removed: 0, carried: 0 });
    expect(await snapshot()).toEqual(before);
    expect(again.obligations).toEqual(run.obligations);
    expect(await nettingReport(pool, D1)).toEqual({ settleDate: D1, ...run.report });
    expect(await listObligations(pool, { settleDate: D1 })).toEqual(run.obligations);
  });

  it('carries open fails forward with what remains of them, once', async () => {
    // The lifecycle reports: GSCO failed to deliver the MSFT; NSCC settled 15 of its 20 AAPL.
    await pool.query(`UPDATE settlement_obligations SET status = 'failed' WHERE settle_date = $1 AND counterparty = 'GSCO' AND symbol = 'MSFT'`, [D1]);
    await pool.query(`UPDATE settlement_obligations SET status = 'partially_settled', settled_quantity = -15, settled_cash = 284250
      WHERE settle_date = $1 AND counterparty = 'NSCC' AND symbol = 'AAPL'`, [D1]);
    const run = await computeObligations(pool, D2, ctx);
    expect(run.changes).toEqual({ created: 4, updated: 0, unchanged: 0, removed: 0, carried: 2 });
    expect(brief(run.obligations)).toEqual([
      ['GSCO', 'AAPL', '5', '-1000.00', 'USD', 'pending', 1, 0],
      ['GSCO', 'MSFT', '150', '-59900.00', 'USD', 'pending', 0, 1],
      // 15 of the 20 AAPL settled against 2,842.50: -5 left against +947.50.
      ['NSCC', 'AAPL', '-5', '947.50', 'USD', 'pending', 0, 1],
      // 20 MSFT sold to NSCC on 03-05 at 405.00.
      ['NSCC', 'MSFT', '-20', '8100.00', 'USD', 'pending', 1, 0],
    ]);
    expect(run.obligations.find((o) => o.counterparty === 'NSCC' && o.security === 'AAPL')).toMatchObject({ carriedQuantity: '-5', carriedCash: '947.50' });
    expect(run.netCash.map((c) => [c.counterparty, c.currency, c.cash])).toEqual([['GSCO', 'USD', '-60900.00'], ['NSCC', 'USD', '9047.50']]);
    expect(run.report.gross).toMatchObject({ obligations: 4, trades: 2, fails: 2 });

    const carried = await pool.query('SELECT counterparty, symbol, carried_into FROM settlement_obligations WHERE carried_into IS NOT NULL ORDER BY 1, 2');
    expect(carried.rows).toEqual([{ counterparty: 'GSCO', symbol: 'MSFT', carried_into: D2 }, { counterparty: 'NSCC', symbol: 'AAPL', carried_into: D2 }]);
    const before = await snapshot();
    expect((await computeObligations(pool, D2, ctx)).changes).toEqual({ created: 0, updated: 0, unchanged: 4, removed: 0, carried: 2 });
    expect(await snapshot()).toEqual(before);
    // Owed on 03-06 now: the fails of 03-05 are not carried into a later date again.
    const d3 = await computeObligations(pool, '2026-03-09', ctx);
    expect(d3.obligations).toEqual([]);
    expect(d3.changes.carried).toBe(0);
  });

  it('recomputes pending obligations as trades change, and refuses to change those past pending', async () => {
    // E8 canceled: the GSCO AAPL obligation of 03-06 is owed no more.
    await importExecutions(pool, csv('E8C,C1002,AAPL,buy,,,2026-03-05,GSCO,USD,cancel,E8'), ctx, { format: 'csv' });
    const run = await computeObligations(pool, D2, ctx);
    expect(run.changes).toEqual({ created: 0, updated: 0, unchanged: 3, removed: 1, carried: 2 });
    expect(run.obligations.map((o) => `${o.counterparty} ${o.security}`)).toEqual(['GSCO MSFT', 'NSCC AAPL', 'NSCC MSFT']);

    // Instructed: the NSCC MSFT delivery has gone out, so a late trade may not silently change it.
    await pool.query(`UPDATE settlement_obligations SET status = 'instructed' WHERE settle_date = $1 AND counterparty = 'NSCC' AND symbol = 'MSFT'`, [D2]);
    await importExecutions(pool, csv(
      'E10,C1003,MSFT,sell,5,405.00,2026-03-05,NSCC,USD,,',
      'E11,C1003,AAPL,buy,7,201.00,2026-03-05,GSCO,USD,,',
    ), ctx, { format: 'csv' });
    const before = await snapshot();
    const err = await computeObligations(pool, D2, ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: 'SETTLEMENT_OBLIGATION_LOCKED', kind: 'conflict' });
    expect((err as DomainError).details).toHaveLength(1);
    expect((err as DomainError).message).toContain('is instructed: its net would change from -20 against 8100.00 USD to -25 against 10125.00 USD');
    // All or nothing: the new GSCO AAPL obligation was not written either.
    expect(await snapshot()).toEqual(before);
  });

  it('prints the net of a date from the command line, as JSON or as text', async () => {
    const out: string[] = [];
    const cli = () => {
      const program = new Command('backoffice').exitOverride();
      settlementCommands(program, (fn) => fn({ pool } as Db), (json, value, text) => out.push(json ? JSON.stringify(value) : text()), () => ctx);
      return program;
    };
    await cli().parseAsync(['settlement', 'net', '--settle-date', D1, '--json'], { from: 'user' });
    const run = JSON.parse(out.pop()!);
    expect(Object.keys(run)).toEqual(['settleDate', 'obligations', 'netCash', 'report', 'changes']);
    expect(run.obligations.map((o: Record<string, unknown>) => [o.counterparty, o.security, o.quantity, o.cash])).toEqual([
      ['GSCO', 'AAPL', '0', '525.00'], ['GSCO', 'MSFT', '150', '-59900.00'], ['GSCO', 'VOD', '-1000', '750.00'], ['NSCC', 'AAPL', '-20', '3790.00'],
    ]);
    expect(run.netCash.map((c: Record<string, unknown>) => [c.counterparty, c.currency, c.cash])).toEqual([['GSCO', 'GBP', '750.00'], ['GSCO', 'USD', '-59375.00'], ['NSCC', 'USD', '3790.00']]);
    expect(run.report.reduction).toEqual({ obligations: '57.14', quantity: '21.48', cash: [{ currency: 'GBP', percent: '0.00' }, { currency: 'USD', percent: '56.82' }] });

    await cli().parseAsync(['settlement', 'net', '--settle-date', D1], { from: 'user' });
    const text = out.pop()!;
    expect(text).toMatch(/^GSCO +MSFT +150 +-59900\.00 +USD +2 +0 +failed$/m);
    expect(text).toContain('reduction: obligations 57.14%, quantity 21.48%, GBP 0.00%, USD 56.82%');
    await cli().parseAsync(['settlement', 'report', '--settle-date', D1, '--json'], { from: 'user' });
    expect(JSON.parse(out.pop()!)).toMatchObject({ settleDate: D1, net: { obligations: 3, payments: 3 } });
    await expect(cli().parseAsync(['settlement', 'net', '--settle-date', '5 March'], { from: 'user' })).rejects.toMatchObject({ code: 'DATE_INVALID' });
  });

  it('refuses a date that is not a date', async () => {
    await expect(computeObligations(pool, '2026-02-30', ctx)).rejects.toMatchObject({ code: 'DATE_INVALID' });
  });
});
