import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { testDb } from '../../test/db.js';
import { importTradingReference } from '../../test/trading-reference.js';
import { DomainError, fixedClock } from '../kernel/index.js';
import { balances, listAudit, verifyAudit } from '../ledger/index.js';
import { importExecutions } from '../trading/index.js';
import type { Db } from '../db/index.js';
import { computeObligations } from './obligations.js';
import { applyStatuses, instructObligations } from './lifecycle.js';
import { listFails } from './fails.js';
import { buyInCommands, cancelBuyIn, createBuyIn, executeBuyIn, getBuyIn, listBuyIns, notifyBuyIn } from './buy-ins.js';

const ctx = { actor: 'ops-1', clock: fixedClock('2026-03-06T15:00:00.000Z') };
const later = { actor: 'ops-2', clock: fixedClock('2026-03-10T15:00:00.000Z') };
const db = await testDb();
const pool = db.pool;
const S = '2026-03-05';
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'buy-ins-'));
const bal = async (account: string) => Object.fromEntries((await balances(pool, { account })).filter((b) => b.account === account).map((b) => [b.asset, b.balance]));
const obligation = async (cpty: string, sym: string) =>
  (await pool.query<{ id: string }>('SELECT id FROM settlement_obligations WHERE settle_date = $1 AND counterparty = $2 AND symbol = $3', [S, cpty, sym])).rows[0]!.id;
const refused = async (p: Promise<unknown>) => { try { await p; } catch (e) { return e as DomainError; } throw new Error('not refused'); };

beforeAll(async () => {
  await importTradingReference(pool, ctx);
  const r = await importExecutions(pool, ['exec_id,account,symbol,side,quantity,price,trade_date,counterparty,currency',
    'B1,C1002,AAPL,buy,100,190.00,2026-03-04,GSCO,USD',
    'B2,C1003,MSFT,buy,50,400.00,2026-03-04,NSCC,USD',
    'B3,C1003,MSFT,sell,10,400.00,2026-03-04,GSCO,USD',
  ].join('\n'), ctx, { format: 'csv' });
  expect(r).toMatchObject({ booked: 3, quarantined: [] });
  await computeObligations(pool, S, ctx);
  await instructObligations(pool, S, { format: 'sese023', outDir: out, ourBic: 'BOFFUS33', safekeepingAccount: 'SAFE-001' }, ctx);
  await applyStatuses(pool, `reference,status,settled_quantity,settled_amount,settle_date,reason\n${await obligation('GSCO', 'AAPL')},failed,,,,LACK\n`, ctx);
});

describe('buy-ins', () => {
  it('are taken only against a fail to receive, for no more than is open', async () => {
    const msft = await obligation('GSCO', 'MSFT');
    expect(await refused(createBuyIn(pool, { obligationId: msft }, ctx))).toMatchObject({ code: 'SETTLEMENT_BUY_IN_INVALID' });
    expect((await refused(createBuyIn(pool, { obligationId: msft }, ctx))).message).toContain('fail to deliver');
    const aapl = await obligation('GSCO', 'AAPL');
    const e = await refused(createBuyIn(pool, { obligationId: aapl, quantity: '150' }, ctx));
    expect(e.message).toContain('more than the 100');
    expect(await refused(createBuyIn(pool, { obligationId: 'sob_nope' }, ctx))).toMatchObject({ code: 'SETTLEMENT_BUY_IN_NOT_FOUND', kind: 'not_found' });
    expect(await listBuyIns(pool)).toEqual([]);
  });

  it('goes planned, notified, executed: booked against the failing counterparty, the fail closed', async () => {
    const aapl = await obligation('GSCO', 'AAPL');
    const b = await createBuyIn(pool, { obligationId: aapl, price: '192.00', reason: 'GSCO failing since 03-05' }, ctx);
    // Long-sale Rule 204 date of the counterparty's fail: S+3.
    expect(b).toMatchObject({ status: 'planned', quantity: '100', price: '192.00', closeOutDue: '2026-03-10', plannedFor: '2026-03-10', createdBy: 'ops-1' });
    // Nothing left for a second one.
    expect((await refused(createBuyIn(pool, { obligationId: aapl }, ctx))).message).toContain('nothing left to buy in');
    expect(await refused(executeBuyIn(pool, b.id, { price: '195.00', date: '2026-03-10' }, later))).toMatchObject({ code: 'SETTLEMENT_BUY_IN_STATE', kind: 'conflict' });
    expect(await notifyBuyIn(pool, b.id, ctx)).toMatchObject({ status: 'notified', notifiedBy: 'ops-1', notifiedAt: '2026-03-06T15:00:00.000Z' });
    expect(await refused(executeBuyIn(pool, b.id, { price: '195.00', date: '2026-03-09' }, later))).toMatchObject({ code: 'SETTLEMENT_BUY_IN_TOO_EARLY' });

    expect(await bal('assets:fails:to-receive:GSCO')).toEqual({ AAPL: '100', USD: '-19000.00' });
    const x = await executeBuyIn(pool, b.id, { price: '195.00' }, later);
    expect(x).toMatchObject({ status: 'executed', executedOn: '2026-03-10', executedPrice: '195.00', buyInCost: '19500.00', originalCost: '19000.00',
      costDifference: '500.00', entryKey: `buy-in:${b.id}`, executedBy: 'ops-2' });
    expect(await bal('assets:fails:to-receive:GSCO')).toEqual({});
    expect(await bal('assets:depository:dtc')).toEqual({ AAPL: '100' });
    expect(await bal('assets:bank:settlement:usd')).toEqual({ USD: '-19500.00' });
    expect(await bal('assets:receivable:buy-ins:GSCO')).toEqual({ USD: '500.00' });
    const ob = (await pool.query('SELECT status, settled_quantity::text AS sq, settled_cash::text AS sc FROM settlement_obligations WHERE id = $1', [aapl])).rows[0];
    expect(ob).toEqual({ status: 'settled', sq: '100', sc: '-1900000' });
    expect((await pool.query('SELECT status, closed_by FROM settlement_fails WHERE obligation_id = $1', [aapl])).rows).toEqual([{ status: 'closed', closed_by: 'bought_in' }]);
    expect((await listFails(pool, '2026-03-10')).fails.map((f) => f.obligationId)).not.toContain(aapl);
    expect(await refused(cancelBuyIn(pool, b.id, 'too late', later))).toMatchObject({ code: 'SETTLEMENT_BUY_IN_STATE' });
    const audit = (await listAudit(pool, { entity: 'settlement_buy_ins', entityId: b.id })).map((a) => [a.action, a.actor]);
    expect(audit).toEqual([['settlement.buy_in.execute', 'ops-2'], ['settlement.buy_in.notify', 'ops-1'], ['settlement.buy_in.create', 'ops-1']]);
  });

  it('buys in part of a past-due delivery with no status, booking its fail first; a cheaper buy-in owes the difference back', async () => {
    const msft = await obligation('NSCC', 'MSFT');
    const b = await createBuyIn(pool, { obligationId: msft, quantity: '20' }, ctx);
    const other = await createBuyIn(pool, { obligationId: msft, quantity: '30' }, ctx);
    expect((await refused(createBuyIn(pool, { obligationId: msft, quantity: '1' }, ctx))).message).toContain('more than the 0');
    expect(await refused(cancelBuyIn(pool, other.id, ' ', ctx))).toMatchObject({ code: 'SETTLEMENT_BUY_IN_INVALID' });
    expect(await cancelBuyIn(pool, other.id, 'NSCC delivered part', ctx)).toMatchObject({ status: 'cancelled', cancelReason: 'NSCC delivered part', cancelledBy: 'ops-1' });
    await notifyBuyIn(pool, b.id, ctx);
    await executeBuyIn(pool, b.id, { price: '390.00', date: '2026-03-10' }, later);
    expect(await getBuyIn(pool, b.id)).toMatchObject({ buyInCost: '7800.00', originalCost: '8000.00', costDifference: '-200.00' });
    // The fail was booked on its settlement date, then 20 of its 50 bought in.
    expect(await bal('assets:fails:to-receive:NSCC')).toEqual({ MSFT: '30', USD: '-12000.00' });
    expect(await bal('assets:receivable:buy-ins:NSCC')).toEqual({ USD: '-200.00' });
    const ob = (await pool.query('SELECT status, settled_quantity::text AS sq FROM settlement_obligations WHERE id = $1', [msft])).rows[0];
    expect(ob).toEqual({ status: 'partially_settled', sq: '20' });
    const f = (await listFails(pool, '2026-03-10')).fails.find((x) => x.obligationId === msft)!;
    expect([f.remainingQuantity, f.inLedger?.quantity]).toEqual(['30', '30']);
    const events = (await pool.query("SELECT format, status, settled_quantity::text AS q FROM settlement_status_events WHERE obligation_id = $1", [msft])).rows;
    expect(events).toEqual([{ format: 'buy_in', status: 'bought_in', q: '20' }]);
  });

  it('lists from the command line, and the audit chain holds', async () => {
    const printed: string[] = [];
    const program = new Command('backoffice').exitOverride();
    buyInCommands(program, (fn) => fn({ pool } as Db), (json, value, text) => printed.push(json ? JSON.stringify(value) : text()), () => later);
    await program.parseAsync(['settlement', 'buy-in', 'list', '--status', 'executed', '--json'], { from: 'user' });
    expect((JSON.parse(printed.pop()!) as { security: string }[]).map((b) => b.security).sort()).toEqual(['AAPL', 'MSFT']);
    const v = await verifyAudit(pool);
    expect(v.problems).toEqual([]);
  });
});
