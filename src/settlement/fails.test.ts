import { describe, it, expect } from 'vitest';
import { DomainError } from '../kernel/index.js';
import { agingBucket, agingBuckets, closeOutDue, failAge, failAlerts, failOf, planBuyIn, type FailRow } from './fails.js';

const row = (over: Partial<FailRow> = {}): FailRow => ({
  id: 'sob_1', settleDate: '2026-11-25', counterparty: 'GSCO', symbol: 'MSFT', currency: 'USD', mic: 'XNAS', scale: 0, cashScale: 2,
  status: 'failed', quantity: '-100', settledQuantity: '0', cash: 4000000n, settledCash: 0n, carriedInto: null, hasShortSale: false, ...over,
});

describe('fail age and aging buckets', () => {
  it('counts settlement days after the settle date, skipping Thanksgiving and the weekend', () => {
    // 2026-11-26 Thanksgiving: no settlement; 11-27 (Fri) settles; 11-28/29 weekend.
    expect(failAge('XNAS', '2026-11-25', '2026-11-25')).toBe(0);
    expect(failAge('XNAS', '2026-11-25', '2026-11-26')).toBe(0);
    expect(failAge('XNAS', '2026-11-25', '2026-11-27')).toBe(1);
    expect(failAge('XNAS', '2026-11-25', '2026-11-29')).toBe(1);
    expect(failAge('XNAS', '2026-11-25', '2026-11-30')).toBe(2);
    expect(failAge('XNAS', '2026-11-25', '2026-12-01')).toBe(3);
    expect(failAge('XNAS', '2026-11-25', '2026-11-20')).toBe(0);
  });

  it('skips Veterans Day (NYSE open, Federal Reserve closed: no settlement)', () => {
    expect(failAge('XNAS', '2026-11-10', '2026-11-11')).toBe(0);
    expect(failAge('XNAS', '2026-11-10', '2026-11-12')).toBe(1);
    expect(failAge('XNAS', '2026-11-10', '2026-11-13')).toBe(2);
  });

  it('buckets ages: 1-5 (same-day 0 included), 6-10, 11-20, 21-30, >30', () => {
    expect([0, 1, 5, 6, 10, 11, 20, 21, 30, 31, 200].map(agingBucket))
      .toEqual(['1-5', '1-5', '1-5', '6-10', '6-10', '11-20', '11-20', '21-30', '21-30', '>30', '>30']);
  });
});

describe('Reg SHO Rule 204 close-out dates', () => {
  it('short sale S+1, long sale S+3, across Thanksgiving and a weekend', () => {
    expect(closeOutDue('XNAS', '2026-11-25', 'short')).toBe('2026-11-27');
    expect(closeOutDue('XNAS', '2026-11-25', 'long')).toBe('2026-12-01');
  });

  it('across Veterans Day', () => {
    expect(closeOutDue('XNAS', '2026-11-10', 'short')).toBe('2026-11-12');
    expect(closeOutDue('XNAS', '2026-11-10', 'long')).toBe('2026-11-16');
  });
});

describe('failOf', () => {
  it('a long-sale fail to deliver: remaining, direction, close-out and overdue flag', () => {
    const f = failOf(row({ status: 'partially_settled', settledQuantity: '-40', settledCash: 1600000n }), '2026-12-02')!;
    expect(f).toMatchObject({
      direction: 'fail_to_deliver', remainingQuantity: '-60', remainingCash: '24000.00', age: 4, bucket: '1-5',
      saleType: 'long', closeOutDue: '2026-12-01', closeOutOverdue: true,
    });
  });

  it('a short sale makes the whole delivery short (conservative)', () => {
    expect(failOf(row({ hasShortSale: true }), '2026-11-27')).toMatchObject({ saleType: 'short', closeOutDue: '2026-11-27', closeOutOverdue: false });
  });

  it('fails to receive, cash-only fails, non-US fails have no Rule 204 close-out; settled-out fails are dropped', () => {
    expect(failOf(row({ quantity: '100', cash: -4000000n }), '2026-11-30')).toMatchObject({ direction: 'fail_to_receive', saleType: null, closeOutDue: null, closeOutOverdue: false, age: 2 });
    expect(failOf(row({ quantity: '0', cash: 52500n }), '2026-11-30')).toMatchObject({ direction: 'cash_only', closeOutDue: null });
    expect(failOf(row({ mic: 'XLON', symbol: 'VOD', currency: 'GBP' }), '2026-11-30')).toMatchObject({ direction: 'fail_to_deliver', closeOutDue: null });
    expect(failOf(row({ settledQuantity: '-100', settledCash: 4000000n }), '2026-11-30')).toBeNull();
  });

  it('alerts: due today and overdue, not before', () => {
    const short = failOf(row({ id: 'a', hasShortSale: true }), '2026-11-27')!;
    const long = failOf(row({ id: 'b', symbol: 'AAPL' }), '2026-11-27')!;
    expect(failAlerts([short, long], '2026-11-27').map((a) => [a.obligationId, a.kind])).toEqual([['a', 'CLOSE_OUT_DUE_TODAY']]);
    const s2 = failOf(row({ id: 'a', hasShortSale: true }), '2026-12-01')!;
    const l2 = failOf(row({ id: 'b', symbol: 'AAPL' }), '2026-12-01')!;
    expect(failAlerts([l2, s2], '2026-12-01').map((a) => [a.obligationId, a.kind])).toEqual([['a', 'CLOSE_OUT_OVERDUE'], ['b', 'CLOSE_OUT_DUE_TODAY']]);
  });
});

describe('agingBuckets', () => {
  it('counts and sums |remaining cash| per bucket, direction and currency', () => {
    const fails = [
      failOf(row({ id: 'a' }), '2026-11-30')!,
      failOf(row({ id: 'b', cash: 123456n }), '2026-11-30')!,
      failOf(row({ id: 'c', quantity: '5', cash: -100001n }), '2026-11-30')!,
      failOf(row({ id: 'd', settleDate: '2026-10-01' }), '2026-11-30')!,
    ];
    const b = agingBuckets(fails);
    expect(b).toHaveLength(15);
    expect(b.filter((x) => x.count > 0)).toEqual([
      { bucket: '1-5', direction: 'fail_to_deliver', count: 2, value: [{ currency: 'USD', amount: '41234.56' }] },
      { bucket: '1-5', direction: 'fail_to_receive', count: 1, value: [{ currency: 'USD', amount: '1000.01' }] },
      { bucket: '>30', direction: 'fail_to_deliver', count: 1, value: [{ currency: 'USD', amount: '40000.00' }] },
    ]);
  });
});

describe('planBuyIn', () => {
  const ftr = failOf(row({ quantity: '100', cash: -4000000n }), '2026-11-30')!; // to receive 100 at 400.00
  it('costs a buy-in of a fail to receive against the original price, charged to the counterparty', () => {
    expect(planBuyIn(ftr, { quantity: '30', price: '410.125', date: '2026-11-30', reason: 'GSCO fail' })).toEqual({
      obligationId: 'sob_1', counterparty: 'GSCO', security: 'MSFT', currency: 'USD', direction: 'fail_to_receive', chargeTo: 'counterparty',
      date: '2026-11-30', reason: 'GSCO fail', quantity: '30', price: '410.125', originalPrice: '400',
      originalCost: '12000.00', buyInCost: '12303.75', costDifference: '303.75', remainingQuantityAfter: '70',
    });
  });
  it('a close-out purchase of a fail to deliver is the firm\'s', () => {
    const ftd = failOf(row(), '2026-11-30')!;
    expect(planBuyIn(ftd, { quantity: '100', price: '399', date: '2026-11-30' })).toMatchObject({ chargeTo: 'firm', costDifference: '-100.00', remainingQuantityAfter: '0' });
  });
  it('refuses a buy-in that does not fit', () => {
    const code = (f: () => unknown) => { try { f(); return 'ok'; } catch (e) { return (e as DomainError).code; } };
    expect(code(() => planBuyIn(ftr, { quantity: '101', price: '1', date: '2026-11-30' }))).toBe('SETTLEMENT_BUY_IN_INVALID');
    expect(code(() => planBuyIn(ftr, { quantity: '0', price: '1', date: '2026-11-30' }))).toBe('SETTLEMENT_BUY_IN_INVALID');
    expect(code(() => planBuyIn(ftr, { quantity: '1', price: '0', date: '2026-11-30' }))).toBe('SETTLEMENT_BUY_IN_INVALID');
    expect(code(() => planBuyIn(ftr, { quantity: '1', price: '1', date: '2026-11-24' }))).toBe('SETTLEMENT_BUY_IN_INVALID');
    expect(code(() => planBuyIn(ftr, { quantity: '1.5', price: '1', date: '2026-11-30' }))).toBe('AMOUNT_TOO_PRECISE');
    expect(code(() => planBuyIn(failOf(row({ quantity: '0', cash: 5n }), '2026-11-30')!, { quantity: '1', price: '1', date: '2026-11-30' }))).toBe('SETTLEMENT_BUY_IN_INVALID');
  });
});
