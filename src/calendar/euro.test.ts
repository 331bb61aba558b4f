import { describe, expect, it } from 'vitest';
import { DomainError } from '../kernel/index.js';
import { holidays, isSettlementDay, isTradingDay, settlementCycle, settlementDate } from './index.js';
import { closedDays } from './rules.js';
import { TARGET_CLOSING_DAYS } from './target.js';

const EURO = ['XETR', 'XPAR', 'XAMS', 'XBRU', 'XMIL'];

describe('TARGET and the euro exchanges', () => {
  it('TARGET closing days: Easter 2025, 1 May, Christmas, New Year', () => {
    for (const mic of EURO) {
      for (const d of ['2025-04-18', '2025-04-21', '2025-05-01', '2025-12-25', '2025-12-26', '2026-01-01']) {
        expect(isTradingDay(mic, d), `${mic} ${d}`).toBe(false);
        expect(isSettlementDay(mic, d), `${mic} ${d}`).toBe(false);
      }
      expect(isSettlementDay(mic, '2025-04-22'), mic).toBe(true);
      expect(isSettlementDay(mic, '2025-08-15'), mic).toBe(true); // TARGET is open on national holidays
    }
  });

  it('TARGET before the long-term calendar: 1999-2001', () => {
    const y1999 = closedDays(TARGET_CLOSING_DAYS, 1999);
    expect([...y1999.keys()]).toEqual(['1999-01-01', '1999-12-31']); // Christmas 1999 was a Saturday
    const y2001 = closedDays(TARGET_CLOSING_DAYS, 2001);
    expect([...y2001.keys()]).toEqual(['2001-01-01', '2001-04-13', '2001-04-16', '2001-05-01', '2001-12-25', '2001-12-26', '2001-12-31']);
  });

  it('Xetra also closes on 24 and 31 December, but T2S settles', () => {
    for (const d of ['2025-12-24', '2025-12-31']) {
      expect(isTradingDay('XETR', d), d).toBe(false);
      expect(isSettlementDay('XETR', d), d).toBe(true);
      expect(isTradingDay('XPAR', d), d).toBe(true); // Euronext trades (a half day)
    }
    // Traded Tuesday 2025-12-23, T+2: Wednesday 24 (1), Monday 29 (2).
    expect(settlementDate({ market: 'XETR', tradeDate: '2025-12-23' })).toBe('2025-12-29');
    expect(holidays('XETR', 2025).map((h) => h.date)).toEqual(
      ['2025-01-01', '2025-04-18', '2025-04-21', '2025-05-01', '2025-12-24', '2025-12-25', '2025-12-26', '2025-12-31']);
  });

  it('Xetra closed on Whit Monday and German Unity Day only in some years', () => {
    expect(isTradingDay('XETR', '2007-05-28')).toBe(false);
    expect(isTradingDay('XETR', '2008-05-12')).toBe(true);
    expect(isTradingDay('XETR', '2019-06-10')).toBe(false);
    expect(isTradingDay('XETR', '2022-06-06')).toBe(true);
    expect(isTradingDay('XETR', '2013-10-03')).toBe(true);
    expect(isTradingDay('XETR', '2016-10-03')).toBe(false);
    expect(isTradingDay('XETR', '2022-10-03')).toBe(true);
    expect(isTradingDay('XETR', '2017-10-31')).toBe(false);
  });

  it('Borsa Italiana also closes on 15 August, 24 and 31 December', () => {
    for (const d of ['2024-08-15', '2024-12-24', '2024-12-31']) {
      expect(isTradingDay('XMIL', d), d).toBe(false);
      expect(isSettlementDay('XMIL', d), d).toBe(true);
    }
    expect(isTradingDay('XPAR', '2024-08-15')).toBe(true);
  });

  it('EU T+2 to T+1 on 2027-10-11', () => {
    for (const mic of EURO) {
      expect(settlementCycle(mic, 'equity', '2027-10-08'), mic).toBe(2);
      expect(settlementCycle(mic, 'equity', '2027-10-11'), mic).toBe(1);
      expect(settlementDate({ market: mic, tradeDate: '2027-10-08' }), mic).toBe('2027-10-12');
      expect(settlementDate({ market: mic, tradeDate: '2027-10-11' }), mic).toBe('2027-10-12');
    }
    expect(settlementDate({ market: 'XPAR', tradeDate: '2025-04-17' })).toBe('2025-04-23'); // T+2 over Easter
    expect(settlementDate({ market: 'XPAR', tradeDate: '2014-10-06' })).toBe('2014-10-08');
  });

  it('refuses what it does not keep: pre-CSDR cycles and dates before 2002', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as DomainError).code;
      }
      return null;
    };
    expect(code(() => settlementDate({ market: 'XPAR', tradeDate: '2014-10-03' }))).toBe('CALENDAR_NO_SETTLEMENT_CYCLE');
    expect(code(() => isTradingDay('XETR', '2001-12-28'))).toBe('CALENDAR_DATE_OUT_OF_RANGE');
    expect(code(() => settlementDate({ market: 'XETR', tradeDate: '2026-01-05', assetClass: 'option' }))).toBe('CALENDAR_NO_SETTLEMENT_CYCLE');
  });
});
