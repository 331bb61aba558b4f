/** The pure rules: reading announcement rows, rounding of dividends and tax, rates in force, lots through splits. */
import { describe, it, expect } from 'vitest';
import type { ErrorDetail } from '../../kernel/index.js';
import { computeLots } from '../../trading/index.js';
import { checkAnnouncement, dividendAmount, rateFor, withholdingAmount, type WithholdingRate } from './index.js';

const SECS = new Map([
  ['AAPL', { symbol: 'AAPL', isin: 'US0378331005', validUntil: null }],
  ['ZZZ', { symbol: 'ZZZ', isin: null, validUntil: null }],
  ['OLD', { symbol: 'OLD', isin: null, validUntil: '2026-03-15' }],
]);
const check = (values: Record<string, string>) => {
  const errs: ErrorDetail[] = [];
  const t = checkAnnouncement({ line: 2, values }, 'f.csv', SECS, errs);
  return { t, errs: errs.map((e) => [e.field, e.rule]) };
};

describe('announcement rows', () => {
  it('reads ratios written as 3:2, 3-for-2 or 3 for 2, and knows a reverse split from a split', () => {
    for (const ratio of ['3:2', '3-for-2', '3 for 2', '3-FOR-2']) {
      expect(check({ id: 'S', kind: 'split', symbol: 'AAPL', effective_date: '2026-03-16', ratio, cash_in_lieu_price: '150' }).t).toMatchObject({ ratioNew: '3', ratioOld: '2' });
    }
    expect(check({ id: 'S', kind: 'reverse_split', symbol: 'AAPL', effective_date: '2026-03-16', ratio: '1-for-10', cash_in_lieu_price: '2.5' }).t).toMatchObject({ ratioNew: '1', ratioOld: '10', cashInLieuPrice: '2.5' });
    expect(check({ id: 'S', kind: 'split', symbol: 'AAPL', effective_date: '2026-03-16', ratio: '2:1' }).errs).toEqual([]);
    expect(check({ id: 'S', kind: 'split', symbol: 'AAPL', effective_date: '2026-03-16', ratio: '3/2' }).errs).toEqual([['ratio', 'RATIO_FORMAT']]);
    expect(check({ id: 'S', kind: 'split', symbol: 'AAPL', effective_date: '2026-03-16', ratio: '0:2' }).errs).toEqual([['ratio', 'RATIO_FORMAT']]);
    expect(check({ id: 'S', kind: 'split', symbol: 'AAPL', effective_date: '2026-03-16', ratio: '2:2' }).errs).toEqual([['ratio', 'RATIO_DIRECTION']]);
    expect(check({ id: 'S', kind: 'split', symbol: 'AAPL', effective_date: '2026-03-16', ex_date: '2026-03-13', ratio: '2:1' }).errs).toEqual([['ex_date', 'EX_DATE_IS_EFFECTIVE_DATE']]);
  });

  it('takes the country of withholding from the ISIN unless given, and asks for it when there is no ISIN', () => {
    const div = { id: 'D', kind: 'cash_dividend', ex_date: '2026-03-09', record_date: '2026-03-09', pay_date: '2026-03-12', rate: '0.25', currency: 'USD' };
    expect(check({ ...div, symbol: 'AAPL' }).t?.sourceCountry).toBe('US');
    expect(check({ ...div, symbol: 'AAPL', source_country: 'IE' }).t?.sourceCountry).toBe('IE');
    expect(check({ ...div, symbol: 'ZZZ' }).errs).toEqual([['source_country', 'SOURCE_COUNTRY_REQUIRED']]);
    expect(check({ ...div, symbol: 'AAPL', source_country: 'usa' }).errs).toEqual([['source_country', 'ISO_3166']]);
    expect(check({ ...div, symbol: 'AAPL', rate: '0.25e1' }).errs).toEqual([['rate', 'POSITIVE_DECIMAL']]);
    expect(check({ ...div, symbol: 'AAPL', pay_date: '' }).errs).toEqual([['pay_date', 'REQUIRED']]);
    expect(check({ ...div, symbol: 'AAPL', ex_date: '2026-03-13' }).errs).toEqual([['ex_date', 'DATE_ORDER']]);
    expect(check({ ...div, symbol: 'OLD', pay_date: '2026-03-20' }).errs).toEqual([['source_country', 'SOURCE_COUNTRY_REQUIRED'], ['symbol', 'SECURITY_RETIRED']]);
    expect(check({ ...div, id: 'bad id', symbol: 'AAPL' }).errs).toEqual([['id', 'ID_FORMAT']]);
  });
});

describe('rounding', () => {
  it('pays dividends rounded down per account, and withholds tax rounded half up', () => {
    expect([dividendAmount('101', '0.2575', 2), dividendAmount('77', '0.2575', 2), dividendAmount('-3', '0.2575', 2), dividendAmount('1000', '0.125', 0)]).toEqual([2600n, 1982n, -77n, 125n]);
    // 51.50 x 15% = 7.725 -> 7.73; 19.82 x 30% = 5.946 -> 5.95; 10.00 x 15% = 1.50; nothing withheld from a charge.
    expect([withholdingAmount(5150n, '15', 2), withholdingAmount(1982n, '30', 2), withholdingAmount(1000n, '15', 2), withholdingAmount(-77n, '30', 2)]).toEqual([773n, 595n, 150n, 0n]);
  });

  it('applies the rate in force on the date: the country\'s own, else *', () => {
    const rates: WithholdingRate[] = [
      { sourceCountry: 'US', residenceCountry: '*', ratePercent: '30', effectiveFrom: '2000-01-01' },
      { sourceCountry: 'US', residenceCountry: 'GB', ratePercent: '15', effectiveFrom: '2003-01-01' },
      { sourceCountry: 'US', residenceCountry: 'GB', ratePercent: '10', effectiveFrom: '2027-01-01' },
    ];
    expect(rateFor(rates, 'US', 'GB', '2026-03-12')?.ratePercent).toBe('15');
    expect(rateFor(rates, 'US', 'GB', '2027-01-01')?.ratePercent).toBe('10');
    expect(rateFor(rates, 'US', 'GB', '2002-12-31')?.ratePercent).toBe('30');
    expect(rateFor(rates, 'US', 'BR', '2026-03-12')?.ratePercent).toBe('30');
    expect(rateFor(rates, 'IE', 'GB', '2026-03-12')).toBeUndefined();
  });
});

describe('lots through a split', () => {
  const buy = (id: string, date: string, quantity: string, gross: string) =>
    ({ id, side: 'buy' as const, quantity, price: '0', trade_date: date, gross, commission: '0', sec_fee: '0', finra_taf: '0', scale: 2, lot_selection: null });
  const event = { id: 'RS', kind: 'split' as const, symbol: 'X', newSymbol: null, effectiveDate: '2026-03-16', ratioNew: '1', ratioOld: '10', cashInLieuPrice: '40', scale: 0, cashScale: 2 };

  it('1-for-10: quantities / 10, unit costs x 10, the fraction out of the newest lot at the cash in lieu', () => {
    // 60 @ 3.00 and 45 @ 4.00 -> 6 @ 30.00 and 4.5 @ 40.00 -> 10 whole; 0.5 of the second lot paid 0.5 x 40 = 20.00 (cost 20.00).
    const { lots, realized } = computeLots([buy('B1', '2026-03-02', '60', '18000'), buy('B2', '2026-03-03', '45', '18000')], [event]);
    expect(lots.map((l) => [l.lotId, l.openDate, l.quantity.toFixed(), l.remaining.toFixed(), l.unitCost.toFixed(2)])).toEqual([['B1', '2026-03-02', '6', '6', '30.00'], ['B2', '2026-03-03', '4.5', '4', '40.00']]);
    expect(realized.map((r) => [r.event, r.lotId, r.quantity.toFixed(), r.proceeds.toFixed(2), r.cost.toFixed(2), r.date])).toEqual([['RS', 'B2', '0.5', '20.00', '20.00', '2026-03-16']]);
  });

  it('applies the split before trades of its effective date and not to those after', () => {
    // A buy on the effective date is in new units already.
    const { lots } = computeLots([buy('B1', '2026-03-02', '60', '18000'), buy('B3', '2026-03-16', '5', '20000')], [event]);
    expect(lots.map((l) => [l.lotId, l.remaining.toFixed(), l.unitCost.toFixed(2)])).toEqual([['B1', '6', '30.00'], ['B3', '5', '40.00']]);
  });

  it('takes a fraction out of the newest lot, keeping lots fractional where the total is whole', () => {
    // A 2-for-3 reverse split of lots of 4 and 1.
    const ev = { ...event, ratioNew: '2', ratioOld: '3', cashInLieuPrice: '30' };
    const { lots, realized } = computeLots([buy('B1', '2026-03-02', '4', '800'), buy('B2', '2026-03-03', '1', '200')], [ev]);
    // 4 -> 2.666.., 1 -> 0.666..: total 3.333.. -> 3; the fraction 0.333.. comes out of B2.
    expect(lots.map((l) => [l.lotId, l.remaining.toDecimalPlaces(6).toFixed()])).toEqual([['B1', '2.666667'], ['B2', '0.333333']]);
    expect(realized.map((r) => [r.lotId, r.quantity.toDecimalPlaces(6).toFixed(), r.proceeds.toFixed(2)])).toEqual([['B2', '0.333333', '10.00']]);
  });
});
