/**
 * Symbol and identifier changes: AAPL continues as APLX from 2026-03-16 (ISIN and CUSIP carried
 * over); MSFT gets a new CUSIP and ISIN from the same day. Positions move by one entry, tax lots
 * carry over with their costs and dates, the old identifiers stay valid through 2026-03-15.
 *
 * Trades: C1001 buys 100 AAPL @ 189.99 on 03-02 (cost 18999.00 + 1.00 = 19000.00, 190 a share),
 * settled; C1002 buys 20 AAPL on 03-04 from NSCC, which fails to deliver; C1003 buys 10 MSFT.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { testDb } from '../../../test/db.js';
import { importTradingReference } from '../../../test/trading-reference.js';
import { Dec, DomainError, fixedClock } from '../../kernel/index.js';
import { balances, trialBalance, verifyAudit } from '../../ledger/index.js';
import { getSecurity, securityAsOf, securityHistory } from '../../reference/index.js';
import { importExecutions, listLots, listRealized, positions } from '../../trading/index.js';
import { applyAction, importAnnouncements, previewAction } from './index.js';
import { settleDate } from './test-support.js';

const at = (iso: string) => ({ actor: 'asset-servicing', clock: fixedClock(iso) });
const ctx = at('2026-03-13T12:00:00.000Z');
const db = await testDb();
const pool = db.pool;
const HEADER = 'exec_id,account,symbol,side,quantity,price,trade_date,counterparty,currency';
const held = async (asset: string, asOf?: string) =>
  Object.fromEntries((await balances(pool, { asOf })).filter((b) => b.asset === asset).map((b) => [b.account, b.balance]));

beforeAll(async () => {
  await importTradingReference(pool, ctx);
  const r = await importExecutions(pool, [HEADER,
    'A1,C1001,AAPL,buy,100,189.99,2026-03-02,GSCO,USD',
    'A2,C1002,AAPL,buy,20,190.00,2026-03-04,NSCC,USD',
    'M1,C1003,MSFT,buy,10,400.00,2026-03-04,GSCO,USD',
  ].join('\n'), ctx, { format: 'csv', source: 'test' });
  expect(r).toMatchObject({ booked: 3, quarantined: [] });
  await settleDate(pool, '2026-03-03', ctx);
  await settleDate(pool, '2026-03-05', ctx, (cp) => cp === 'NSCC');
  await importAnnouncements(pool, [
    'id,kind,symbol,effective_date,new_symbol,new_isin,new_cusip,new_name,description',
    'SC-AAPL,symbol_change,AAPL,2026-03-16,APLX,,,Apple Inc. (new ticker),ticker change',
    'ID-MSFT,symbol_change,MSFT,2026-03-16,,US594918AB00,594918AB0,,new CUSIP after a reorganisation',
  ].join('\n'), 'changes.csv', ctx);
});

describe('symbol change', () => {
  it('previews the move of every position to the new symbol', async () => {
    const p = await previewAction(pool, 'SC-AAPL', at('2026-03-16T07:00:00.000Z'));
    expect(p.problems).toEqual([]);
    expect(p.customers.map((c) => [c.holder, c.quantity, c.newSymbol])).toEqual([['C1001', '100', 'APLX'], ['C1002', '20', 'APLX']]);
    expect(p.firm.map((f) => [f.holderKind, f.holder, f.quantity])).toEqual([['depository', 'dtc', '100'], ['counterparty', 'NSCC', '20']]);
    const legs = p.entries[0]!.postings.map((x) => [x.account.replace(/^(assets:street|assets:fails:to-receive):/, 'cpty:'), x.asset, x.amount]);
    expect(legs).toEqual([
      ['assets:depository:dtc', 'AAPL', '-100'], ['assets:depository:dtc', 'APLX', '100'],
      ['cpty:NSCC', 'AAPL', '-20'], ['cpty:NSCC', 'APLX', '20'],
      ['customers:C1001:securities', 'AAPL', '100'], ['customers:C1001:securities', 'APLX', '-100'],
      ['customers:C1002:securities', 'AAPL', '20'], ['customers:C1002:securities', 'APLX', '-20'],
    ]);
    const early = await applyAction(pool, 'SC-AAPL', at('2026-03-15T07:00:00.000Z'), { force: true }).catch((e) => e);
    expect(early).toBeInstanceOf(DomainError);
    expect(early.code).toBe('CORPORATE_ACTION_NOT_DUE');
  });

  it('moves positions and lots to the new symbol and keeps the old identifiers valid until the day before', async () => {
    const lotBefore = (await listLots(pool, 'C1001', 'AAPL'))[0]!;
    const r = await applyAction(pool, 'SC-AAPL', at('2026-03-16T07:00:00.000Z'));
    expect(r).toMatchObject({ applied: true, lotsRecomputed: ['C1001', 'C1002'] });
    expect(await held('AAPL', '2026-03-15')).toMatchObject({ 'customers:C1001:securities': '-100', 'assets:depository:dtc': '100' });
    expect(await held('AAPL')).toEqual({});
    expect(await held('APLX')).toMatchObject({ 'customers:C1001:securities': '-100', 'customers:C1002:securities': '-20', 'assets:depository:dtc': '100' });
    expect((await positions(pool, { security: 'APLX' })).map((p) => [p.account, p.quantity, p.costBasis])).toEqual([['C1001', '100', '19000.00'], ['C1002', '20', '3801.00']]);
    // The lot carried over: same trade, date, quantity and cost, under the new symbol.
    expect(await listLots(pool, 'C1001', 'AAPL')).toEqual([]);
    expect(await listLots(pool, 'C1001', 'APLX')).toEqual([{ ...lotBefore, symbol: 'APLX' }]);

    const aplx = await getSecurity(pool, 'APLX');
    expect(aplx).toMatchObject({ symbol: 'APLX', name: 'Apple Inc. (new ticker)', isin: 'US0378331005', cusip: '037833100', currency: 'USD', mic: 'XNAS' });
    expect((await securityAsOf(pool, 'AAPL', '2026-03-15')).symbol).toBe('AAPL');
    expect((await securityAsOf(pool, 'US0378331005', '2026-03-15')).symbol).toBe('AAPL');
    expect((await securityAsOf(pool, 'US0378331005', '2026-03-16')).symbol).toBe('APLX');
    await expect(securityAsOf(pool, 'AAPL', '2026-03-16')).rejects.toMatchObject({ code: 'SECURITY_NOT_FOUND' });
    await expect(securityAsOf(pool, 'APLX', '2026-03-15')).rejects.toMatchObject({ code: 'SECURITY_NOT_FOUND' });
    const h = await securityHistory(pool, 'AAPL');
    expect(h).toMatchObject({ validUntil: '2026-03-15', successor: 'APLX', history: [{ symbol: 'AAPL', isin: 'US0378331005', cusip: '037833100', validTo: '2026-03-15', successor: 'APLX', actionId: 'SC-AAPL' }] });
    expect((await securityHistory(pool, 'APLX')).predecessors).toEqual(['AAPL']);
  });

  it('sells lots bought under the old symbol with the new one (FIFO across the change)', async () => {
    // 60 @ 200.00: proceeds 12000.00 - 1.00 - SEC 0.34 (12000 x 27.80/1e6 = 0.3336, up) - TAF 0.01 = 11998.65;
    // cost 60 x 190 = 11400.00: P&L 598.65, out of the lot bought as AAPL.
    const r = await importExecutions(pool, [HEADER, 'A3,C1001,APLX,sell,60,200.00,2026-03-17,GSCO,USD'].join('\n'), ctx, { format: 'csv', source: 'test' });
    expect(r).toMatchObject({ booked: 1, quarantined: [] });
    const lots = await listLots(pool, 'C1001', 'APLX');
    expect(lots.map((l) => [l.openDate, new Dec(l.remaining).toFixed(), new Dec(l.unitCost).toFixed(2)])).toEqual([['2026-03-02', '40', '190.00']]);
    expect((await listRealized(pool, 'C1001')).map((x) => [x.symbol, x.quantity, x.proceeds, x.cost, x.pnl])).toEqual([['APLX', '60', '11998.65', '11400.00', '598.65']]);
  });

  it('quarantines a fill in the retired symbol dated from the change on, naming the successor', async () => {
    const r = await importExecutions(pool, [HEADER, 'A4,C1001,AAPL,sell,10,200.00,2026-03-17,GSCO,USD'].join('\n'), ctx, { format: 'csv', source: 'test' });
    expect(r).toMatchObject({ booked: 0 });
    expect(r.quarantined.map((q) => q.reason)).toEqual(['line 2 (exec A4): security AAPL was retired after 2026-03-15: it trades as APLX from then on']);
    // Still 40 APLX: nothing of it was booked.
    expect(await positions(pool, { account: 'C1001', security: 'APLX' })).toMatchObject([{ quantity: '40' }]);
  });
});

describe('identifier change', () => {
  it('changes ISIN and CUSIP from the effective date, positions untouched, the old ones in the history', async () => {
    const p = await previewAction(pool, 'ID-MSFT', at('2026-03-16T07:00:00.000Z'));
    expect(p.entries).toEqual([]);
    expect(p.totals.change).toBe('ISIN US5949181045 -> US594918AB00, CUSIP 594918104 -> 594918AB0');
    const before = await held('MSFT');
    await applyAction(pool, 'ID-MSFT', at('2026-03-16T07:00:00.000Z'));
    expect(await held('MSFT')).toEqual(before);
    expect(await getSecurity(pool, 'MSFT')).toMatchObject({ isin: 'US594918AB00', cusip: '594918AB0' });
    expect((await securityAsOf(pool, '594918104', '2026-03-15')).symbol).toBe('MSFT');
    await expect(securityAsOf(pool, '594918104', '2026-03-16')).rejects.toMatchObject({ code: 'SECURITY_NOT_FOUND' });
    await expect(securityAsOf(pool, 'US594918AB00', '2026-03-15')).rejects.toMatchObject({ code: 'SECURITY_NOT_FOUND' });
    expect((await securityAsOf(pool, 'MSFT', '2026-03-01')).symbol).toBe('MSFT');
  });

  it('leaves the books balanced and the audit trail whole', async () => {
    for (const t of (await trialBalance(pool)).totals) expect(t.debit, t.asset).toBe(t.credit);
    expect((await verifyAudit(pool)).problems).toEqual([]);
  });
});
