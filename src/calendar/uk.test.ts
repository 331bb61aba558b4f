import { describe, expect, it } from 'vitest';
import { DomainError } from '../kernel/index.js';
import { businessDays, holidays, isSettlementDay, isTradingDay, settlementCycle, settlementDate } from './index.js';

const closed = (d: string) => expect(isTradingDay('XLON', d), d).toBe(false);
const open = (d: string) => expect(isTradingDay('XLON', d), d).toBe(true);

describe('XLON: England and Wales bank holidays', () => {
  it('Easter 2025: Good Friday 2025-04-18 and Easter Monday 2025-04-21', () => {
    for (const d of ['2025-04-18', '2025-04-21']) {
      closed(d);
      expect(isSettlementDay('XLON', d), d).toBe(false);
    }
    expect(businessDays('XLON', '2025-04-17', '2025-04-22', 'trading')).toEqual(['2025-04-17', '2025-04-22']);
  });

  it('whole years as GOV.UK publishes them', () => {
    const dates = (y: number) => holidays('XLON', y).map((h) => h.date);
    expect(dates(2022)).toEqual(['2022-01-03', '2022-04-15', '2022-04-18', '2022-05-02', '2022-06-02', '2022-06-03', '2022-08-29', '2022-09-19', '2022-12-26', '2022-12-27']);
    expect(dates(2023)).toEqual(['2023-01-02', '2023-04-07', '2023-04-10', '2023-05-01', '2023-05-08', '2023-05-29', '2023-08-28', '2023-12-25', '2023-12-26']);
    expect(dates(2026)).toEqual(['2026-01-01', '2026-04-03', '2026-04-06', '2026-05-04', '2026-05-25', '2026-08-31', '2026-12-25', '2026-12-28']);
    expect(holidays('XLON', 2021).slice(-2)).toEqual([
      { date: '2021-12-27', name: 'Christmas Day (substitute day)', kind: 'closed' },
      { date: '2021-12-28', name: 'Boxing Day (substitute day)', kind: 'closed' },
    ]);
  });

  it('substitute days for weekend holidays', () => {
    for (const d of ['2010-12-27', '2010-12-28', '2020-12-28', '2011-01-03', '2017-01-02', '2016-12-27']) closed(d);
    open('2016-12-28'); // Christmas on Sunday 2016: Boxing Day Monday 26, Christmas substitute Tuesday 27
  });

  it('early May and spring holidays moved for VE Day and the jubilees', () => {
    open('1995-05-01'); closed('1995-05-08');
    open('2020-05-04'); closed('2020-05-08');
    closed('2019-05-06');
    open('2002-05-27'); closed('2002-06-03'); closed('2002-06-04');
    open('2012-05-28'); closed('2012-06-04'); closed('2012-06-05');
    open('2022-05-30'); closed('2022-06-02'); closed('2022-06-03');
    closed('2021-05-31');
  });

  it('one-off bank holidays', () => {
    for (const d of ['1999-12-31', '2011-04-29', '2022-09-19', '2023-05-08']) closed(d);
  });

  it('settlement cycles: T+3 from 2001-02-05, T+2 from 2014-10-06, T+1 from 2027-10-11', () => {
    expect(settlementDate({ market: 'XLON', tradeDate: '2025-04-17' })).toBe('2025-04-23'); // T+2 over Easter
    expect(settlementDate({ market: 'XLON', tradeDate: '2014-10-03' })).toBe('2014-10-08'); // T+3
    expect(settlementDate({ market: 'XLON', tradeDate: '2014-10-06' })).toBe('2014-10-08'); // T+2
    expect(settlementDate({ market: 'XLON', tradeDate: '2027-10-08' })).toBe('2027-10-12'); // T+2
    expect(settlementDate({ market: 'XLON', tradeDate: '2027-10-11' })).toBe('2027-10-12'); // T+1
    expect(settlementCycle('XLON', 'corporate_bond', '2027-10-11')).toBe(1);
    expect(settlementCycle('XLON', 'equity', '2001-02-05')).toBe(3);
  });

  it('refuses cycles it does not keep, saying which', () => {
    const codeOf = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return [(e as DomainError).code, (e as DomainError).message];
      }
      return null;
    };
    const [code, message] = codeOf(() => settlementCycle('XLON', 'equity', '2001-02-02'))!;
    expect(code).toBe('CALENDAR_NO_SETTLEMENT_CYCLE');
    expect(message).toContain('2001-02-05');
    expect(codeOf(() => settlementDate({ market: 'XLON', tradeDate: '2025-01-02', assetClass: 'government_bond' }))![0]).toBe('CALENDAR_NO_SETTLEMENT_CYCLE');
  });
});
