import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import { Command } from 'commander';
import { testDb } from '../../test/db.js';
import { importTradingReference } from '../../test/trading-reference.js';
import { fixedClock } from '../kernel/index.js';

import { importExecutions } from '../trading/index.js';
import type { Db } from '../db/index.js';
import { computeObligations } from './obligations.js';
import { failsCommands, listFails, planBuyIn, failOf, type FailView } from './fails.js';

const ctx = { actor: 'tester', clock: fixedClock('2026-11-25T12:00:00.000Z') };
const db = await testDb();
const pool = db.pool;
const HEADER = 'exec_id,account,symbol,side,quantity,price,trade_date,counterparty,currency,kind,exec_ref_id';
const csv = (...rows: string[]) => [HEADER, ...rows].join('\n');

const S1 = '2026-11-10'; // Tue, the day before Veterans Day (no settlement on 11-11)
const S2 = '2026-11-25'; // Wed, the day before Thanksgiving

const brief = (fs: FailView[]) => fs.map((f) => [f.settleDate, f.counterparty, f.security, f.status, f.direction, f.remainingQuantity, f.remainingCash, f.age, f.bucket, f.saleType, f.closeOutDue, f.closeOutOverdue]);
const set = (status: string, date: string, cp: string, sym: string, extra = '') =>
  pool.query(`UPDATE settlement_obligations SET status = '${status}'${extra} WHERE settle_date = $1 AND counterparty = $2 AND symbol = $3`, [date, cp, sym]);

beforeAll(async () => {
  await importTradingReference(pool, ctx);
  // XNAS, T+1: 11-09 settles 11-10; 11-24 settles 11-25.
  const r = await importExecutions(pool, csv(
    'F1,C1002,AAPL,sell,20,190.00,2026-11-09,NSCC,USD,,',
    'F2,C1003,MSFT,short,50,400.00,2026-11-24,GSCO,USD,,',
    'F3,C1003,MSFT,buy,10,399.00,2026-11-24,GSCO,USD,,',
    'F4,C1002,AAPL,sell,100,200.00,2026-11-24,GSCO,USD,,',
    'F5,C1001,AAPL,buy,10,201.00,2026-11-24,NSCC,USD,,',
    'F6,C1001,MSFT,buy,5,400.00,2026-11-24,NSCC,USD,,',
  ), ctx, { format: 'csv' });
  expect(r).toMatchObject({ received: 6, booked: 6, quarantined: [] });
  await computeObligations(pool, S1, ctx);
  await computeObligations(pool, S2, ctx);
  // Simulated lifecycle statuses. The 11-10 NSCC AAPL delivery stays `instructed`: past due, not settled.
  await set('instructed', S1, 'NSCC', 'AAPL');
  await set('failed', S2, 'GSCO', 'MSFT');
  await set('partially_settled', S2, 'GSCO', 'AAPL', ', settled_quantity = -40, settled_cash = 800000');
  await set('failed', S2, 'NSCC', 'AAPL');
  await set('settled', S2, 'NSCC', 'MSFT', ', settled_quantity = 5, settled_cash = -200000');
});

describe('listFails', () => {
  it('on the settlement date: the reported fails (age 0) and the past-due delivery of 11-10', async () => {
    const r = await listFails(pool, S2);
    expect(brief(r.fails)).toEqual([
      // 11-12 .. 11-25 is 10 settlement days (11-11 Veterans Day, weekends out); long sale close-out S+3 = 11-16 (overdue).
      [S1, 'NSCC', 'AAPL', 'instructed', 'fail_to_deliver', '-20', '3800.00', 10, '6-10', 'long', '2026-11-16', true],
      // 100 sold long, 40 settled: 60 left; long sale close-out S+3 = 12-01 (Thanksgiving and the weekend out).
      [S2, 'GSCO', 'AAPL', 'partially_settled', 'fail_to_deliver', '-60', '12000.00', 0, '1-5', 'long', '2026-12-01', false],
      // 50 short less 10 bought: a net delivery of 40 with a short sale in it: S+1, the day after Thanksgiving.
      [S2, 'GSCO', 'MSFT', 'failed', 'fail_to_deliver', '-40', '16010.00', 0, '1-5', 'short', '2026-11-27', false],
      [S2, 'NSCC', 'AAPL', 'failed', 'fail_to_receive', '10', '-2010.00', 0, '1-5', null, null, false],
    ]);
    expect(r.alerts.map((a) => [a.kind, a.counterparty, a.security, a.closeOutDue])).toEqual([['CLOSE_OUT_OVERDUE', 'NSCC', 'AAPL', '2026-11-16']]);
    expect(r.buckets.filter((b) => b.count)).toEqual([
      { bucket: '1-5', direction: 'fail_to_deliver', count: 2, value: [{ currency: 'USD', amount: '28010.00' }] },
      { bucket: '1-5', direction: 'fail_to_receive', count: 1, value: [{ currency: 'USD', amount: '2010.00' }] },
      { bucket: '6-10', direction: 'fail_to_deliver', count: 1, value: [{ currency: 'USD', amount: '3800.00' }] },
    ]);
  });

  it('the day after Thanksgiving: the short close-out is due today', async () => {
    const r = await listFails(pool, '2026-11-27');
    expect(r.fails.map((f) => [f.settleDate, f.counterparty, f.security, f.age, f.bucket])).toEqual([
      [S1, 'NSCC', 'AAPL', 11, '11-20'], [S2, 'GSCO', 'AAPL', 1, '1-5'], [S2, 'GSCO', 'MSFT', 1, '1-5'], [S2, 'NSCC', 'AAPL', 1, '1-5'],
    ]);
    expect(r.alerts.map((a) => [a.kind, a.counterparty, a.security, a.closeOutDue])).toEqual([
      ['CLOSE_OUT_OVERDUE', 'NSCC', 'AAPL', '2026-11-16'], ['CLOSE_OUT_DUE_TODAY', 'GSCO', 'MSFT', '2026-11-27'],
    ]);
  });

  it('on 12-01 the long close-out is due, on 12-02 both are overdue', async () => {
    const d1 = await listFails(pool, '2026-12-01');
    expect(d1.alerts.map((a) => [a.kind, a.counterparty, a.security])).toEqual([
      ['CLOSE_OUT_OVERDUE', 'NSCC', 'AAPL'], ['CLOSE_OUT_OVERDUE', 'GSCO', 'MSFT'], ['CLOSE_OUT_DUE_TODAY', 'GSCO', 'AAPL'],
    ]);
    const d2 = await listFails(pool, '2026-12-02');
    expect(d2.fails.map((f) => [f.counterparty, f.security, f.age, f.closeOutOverdue])).toEqual([
      ['NSCC', 'AAPL', 14, true], ['GSCO', 'AAPL', 4, true], ['GSCO', 'MSFT', 4, true], ['NSCC', 'AAPL', 4, false],
    ]);
    expect(d2.alerts.every((a) => a.kind === 'CLOSE_OUT_OVERDUE')).toBe(true);
  });

  it('before a settlement date nothing of it is a fail unless reported failed', async () => {
    const r = await listFails(pool, '2026-11-10');
    // The 11-10 delivery is not past due on its own date; the 11-25 fails are already reported.
    expect(r.fails.map((f) => [f.settleDate, f.counterparty, f.security, f.age])).toEqual([
      [S2, 'GSCO', 'AAPL', 0], [S2, 'GSCO', 'MSFT', 0], [S2, 'NSCC', 'AAPL', 0],
    ]);
  });

  it('plans a buy-in of a listed fail to receive', async () => {
    const r = await listFails(pool, '2026-12-02');
    // Re-derive the full fail (with minor units) from its view for planning.
    const v = r.fails.find((f) => f.direction === 'fail_to_receive')!;
    const f = failOf({ id: v.obligationId, settleDate: v.settleDate, counterparty: v.counterparty, symbol: v.security, currency: v.currency, mic: v.market,
      scale: 0, cashScale: 2, status: v.status, quantity: v.quantity, settledQuantity: '0', cash: -201000n, settledCash: 0n, carriedInto: null, hasShortSale: false }, r.asOf)!;
    expect(planBuyIn(f, { quantity: '10', price: '205.50', date: '2026-12-02' })).toMatchObject({ chargeTo: 'counterparty', originalCost: '2010.00', buyInCost: '2055.00', costDifference: '45.00' });
  });

  it('prints fails from the command line, as JSON and as text', async () => {
    const out: string[] = [];
    const cli = () => {
      const program = new Command('backoffice').exitOverride();
      failsCommands(program, (fn) => fn({ pool } as Db), (json, value, text) => out.push(json ? JSON.stringify(value) : text()), () => ctx.clock);
      return program;
    };
    await cli().parseAsync(['settlement', 'fails', '--as-of', '2026-11-27', '--json'], { from: 'user' });
    const r = JSON.parse(out.pop()!);
    expect(Object.keys(r)).toEqual(['asOf', 'fails', 'alerts', 'buckets', 'ledger']);
    expect(r.fails).toHaveLength(4);
    expect(r.alerts).toHaveLength(2);
    await cli().parseAsync(['settlement', 'fails'], { from: 'user' }); // default as-of: the clock's date, 11-25
    const text = out.pop()!;
    expect(text).toContain('fails as of 2026-11-25: 4');
    expect(text).toContain('2026-11-16 (long) OVERDUE');
    expect(text).toContain('CLOSE_OUT_OVERDUE');
  });
});
