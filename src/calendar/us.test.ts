import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../kernel/index.js';
import {
  addBusinessDays, businessDays, earlyClose, holidays, isSettlementDay, isTradingDay, settlementCycle, settlementDate,
} from './index.js';

/**
 * The oracle: the NYSE and Federal Reserve lists compiled from the published announcements
 * (test/fixtures/calendars, see SOURCES.md there). The last column is free text and may hold
 * unquoted commas, so only the leading columns are read.
 */
function csv(name: string): string[][] {
  const text = fs.readFileSync(new URL(`../../test/fixtures/calendars/${name}`, import.meta.url), 'utf8');
  return text.trim().split(/\r?\n/).slice(1).map((l) => l.split(','));
}
const nyseClosed = new Set(csv('nyse_holidays_2024_2027.csv').map((r) => r[0]!));
const fedClosed = new Set(csv('fed_holidays_2024_2027.csv').filter((r) => r[3] === 'Y').map((r) => r[0]!));
const earlyCloses = new Map(csv('nyse_early_closes_2024_2027.csv').map((r) => [r[0]!, r[2]!]));

// Independent of the module: plain Date arithmetic.
const next = (d: string) => new Date(Date.parse(`${d}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
const weekend = (d: string) => [0, 6].includes(new Date(`${d}T00:00:00Z`).getUTCDay());
const trading = (d: string) => !weekend(d) && !nyseClosed.has(d);
const settling = (d: string) => trading(d) && !fedClosed.has(d);
const allDays = (from: string, to: string) => {
  const out: string[] = [];
  for (let d = from; d <= to; d = next(d)) out.push(d);
  return out;
};
const DAYS_2024_2027 = allDays('2024-01-01', '2027-12-31');

describe('XNYS against the published NYSE and Federal Reserve lists, 2024-2027', () => {
  it('the fixtures are what we think they are', () => {
    expect(nyseClosed.size).toBe(41);
    expect(fedClosed.has('2026-10-12')).toBe(true);
    expect(fedClosed.has('2026-07-03')).toBe(false); // Saturday holiday: Reserve Banks open on the Friday
  });

  it('trading days and settlement days agree with the lists on every day', () => {
    for (const d of DAYS_2024_2027) {
      expect(isTradingDay('XNYS', d), d).toBe(trading(d));
      expect(isSettlementDay('XNYS', d), d).toBe(settling(d));
    }
  });

  it('every trading day settles on the date computed from the lists', () => {
    let checked = 0;
    for (const d of DAYS_2024_2027.filter(trading)) {
      // T+2 for trades up to 2024-05-27, T+1 from 2024-05-28 (SEC Rule 15c6-1 as amended).
      let left = d >= '2024-05-28' ? 1 : 2;
      let s = d;
      while (left > 0) {
        s = next(s);
        if (settling(s)) left--;
      }
      expect(settlementDate({ market: 'XNYS', tradeDate: d }), d).toBe(s);
      checked++;
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('early closes are the published ones, at 13:00', () => {
    const found = new Map(DAYS_2024_2027.map((d) => [d, earlyClose('XNYS', d)] as const).filter(([, t]) => t !== null));
    expect(found).toEqual(earlyCloses);
  });

  it('holidays() lists the closed days, the Fed-only days and the early closes', () => {
    for (const year of [2024, 2025, 2026, 2027]) {
      const rows = holidays('XNYS', year);
      const of = (kind: string) => rows.filter((r) => r.kind === kind).map((r) => r.date);
      const inYear = (s: Iterable<string>) => [...s].filter((d) => d.startsWith(`${year}-`)).sort();
      expect(of('closed')).toEqual(inYear(nyseClosed));
      expect(of('no_settlement')).toEqual(inYear([...fedClosed].filter((d) => !nyseClosed.has(d))));
      expect(of('early_close')).toEqual(inYear(earlyCloses.keys()));
    }
    expect(holidays('XNYS', 2026)).toContainEqual({ date: '2026-10-12', name: 'Columbus Day (Federal Reserve closed)', kind: 'no_settlement' });
    expect(holidays('XNYS', 2026)).toContainEqual({ date: '2026-11-27', name: 'Day after Thanksgiving', kind: 'early_close', close: '13:00' });
  });
});

describe('US settlement', () => {
  it('the issue example: traded Friday 2026-10-09, settles Tuesday 2026-10-13 over Columbus Day', () => {
    expect(settlementDate({ market: 'XNYS', tradeDate: '2026-10-09' })).toBe('2026-10-13');
    expect(settlementDate({ market: 'XNAS', tradeDate: '2026-10-09', assetClass: 'equity' })).toBe('2026-10-13');
  });

  it('Columbus Day and Veterans Day: the exchange trades, nothing settles', () => {
    for (const d of ['2024-10-14', '2025-10-13', '2024-11-11', '2025-11-11', '2026-11-11']) {
      expect(isTradingDay('XNYS', d), d).toBe(true);
      expect(isSettlementDay('XNYS', d), d).toBe(false);
    }
    // A trade on Columbus Day itself settles on the next settlement day.
    expect(settlementDate({ market: 'XNYS', tradeDate: '2024-10-14' })).toBe('2024-10-15');
    expect(settlementDate({ market: 'XNYS', tradeDate: '2025-11-10' })).toBe('2025-11-12');
    // Veterans Day on a Sunday (2018): observed Monday 2018-11-12; T+2 from Friday skips it.
    expect(isSettlementDay('XNYS', '2018-11-12')).toBe(false);
    expect(settlementDate({ market: 'XNYS', tradeDate: '2018-11-09' })).toBe('2018-11-14');
    // Veterans Day on a Saturday (2023): the Reserve Banks are open on Friday 2023-11-10.
    expect(isSettlementDay('XNYS', '2023-11-10')).toBe(true);
    expect(settlementDate({ market: 'XNYS', tradeDate: '2023-11-09' })).toBe('2023-11-13');
  });

  it('T+2 to T+1 on 2024-05-28: both the Friday before Memorial Day and the Tuesday after settle 2024-05-29', () => {
    expect(settlementCycle('XNYS', 'equity', '2024-05-24')).toBe(2);
    expect(settlementCycle('XNYS', 'equity', '2024-05-28')).toBe(1);
    expect(settlementDate({ market: 'XNYS', tradeDate: '2024-05-24' })).toBe('2024-05-29');
    expect(settlementDate({ market: 'XNYS', tradeDate: '2024-05-28' })).toBe('2024-05-29');
    expect(settlementDate({ market: 'XNYS', tradeDate: '2024-05-23' })).toBe('2024-05-28');
  });

  it('T+3 to T+2 on 2017-09-05 and T+5 to T+3 on 1995-06-07', () => {
    expect(settlementDate({ market: 'XNYS', tradeDate: '2017-09-01' })).toBe('2017-09-07'); // T+3 over Labor Day
    expect(settlementDate({ market: 'XNYS', tradeDate: '2017-09-05' })).toBe('2017-09-07'); // T+2
    expect(settlementDate({ market: 'XNYS', tradeDate: '1995-06-06' })).toBe('1995-06-13'); // T+5
    expect(settlementDate({ market: 'XNYS', tradeDate: '1995-06-07' })).toBe('1995-06-12'); // T+3
  });

  it('corporate bonds follow equities; Treasuries and listed options settle T+1', () => {
    expect(settlementCycle('XNYS', 'corporate_bond', '2024-05-24')).toBe(2);
    expect(settlementCycle('XNYS', 'corporate_bond', '2024-05-28')).toBe(1);
    expect(settlementCycle('XNYS', 'government_bond', '2010-03-01')).toBe(1);
    expect(settlementCycle('XNAS', 'option', '2020-03-02')).toBe(1);
    expect(settlementDate({ market: 'XNYS', tradeDate: '2020-10-09', assetClass: 'government_bond' })).toBe('2020-10-13');
    expect(settlementDate({ market: 'XNYS', tradeDate: '2020-10-09', assetClass: 'equity' })).toBe('2020-10-14');
  });
});

describe('NYSE history', () => {
  it('one-off closures', () => {
    for (const d of ['1994-04-27', '2001-09-11', '2001-09-12', '2001-09-13', '2001-09-14', '2004-06-11', '2007-01-02',
      '2012-10-29', '2012-10-30', '2018-12-05', '2025-01-09']) {
      expect(isTradingDay('XNYS', d), d).toBe(false);
      expect(isTradingDay('XNAS', d), d).toBe(false);
    }
    expect(businessDays('XNYS', '2001-09-10', '2001-09-17', 'trading')).toEqual(['2001-09-10', '2001-09-17']);
  });

  it('dated rule changes', () => {
    expect(isTradingDay('XNYS', '1997-01-20')).toBe(true); // MLK Day: not before 1998
    expect(isTradingDay('XNYS', '1998-01-19')).toBe(false);
    expect(isTradingDay('XNYS', '2021-06-18')).toBe(true); // Juneteenth: from 2022
    expect(isTradingDay('XNYS', '2022-06-20')).toBe(false); // 2022-06-19 was a Sunday
    expect(isTradingDay('XNYS', '2027-06-18')).toBe(false); // Saturday holiday observed Friday
    expect(isTradingDay('XNYS', '2015-04-03')).toBe(false); // Good Friday
  });

  it("New Year's Day on a Saturday is not observed on the Friday; other Saturday holidays are", () => {
    for (const d of ['2021-12-31', '2010-12-31', '2004-12-31', '1999-12-31']) {
      expect(isTradingDay('XNYS', d), d).toBe(true);
      expect(isSettlementDay('XNYS', d), d).toBe(true); // the Fed does not observe it on Friday either
    }
    expect(isTradingDay('XNYS', '2021-12-24')).toBe(false); // Christmas on Saturday
    expect(isTradingDay('XNYS', '2020-07-03')).toBe(false); // Independence Day on Saturday
    expect(isTradingDay('XNYS', '2023-01-02')).toBe(false); // New Year's Day on Sunday -> Monday
  });

  it('early closes through the rule changes', () => {
    expect(earlyClose('XNYS', '1990-12-24')).toBe('14:00');
    expect(earlyClose('XNYS', '1991-11-29')).toBeNull(); // no early close on the day after Thanksgiving before 1992
    expect(earlyClose('XNYS', '1992-11-27')).toBe('14:00');
    expect(earlyClose('XNYS', '1993-11-26')).toBe('13:00');
    expect(earlyClose('XNYS', '1994-07-01')).toBeNull();
    expect(earlyClose('XNYS', '2002-07-05')).toBe('13:00'); // Friday after a Thursday Independence Day, before 2013
    expect(earlyClose('XNYS', '2002-07-03')).toBeNull();
    expect(earlyClose('XNYS', '2013-07-03')).toBe('13:00'); // from 2013 the Wednesday before instead
    expect(earlyClose('XNYS', '2019-07-05')).toBeNull();
    expect(earlyClose('XNYS', '2007-07-03')).toBe('13:00');
    expect(earlyClose('XNYS', '1997-12-26')).toBe('13:00');
    expect(earlyClose('XNYS', '2018-12-24')).toBe('13:00');
    expect(earlyClose('XNYS', '2021-12-24')).toBeNull(); // closed: Christmas observed
    expect(earlyClose('XNYS', '2024-07-05')).toBeNull();
    expect(earlyClose('XLON', '2024-12-24')).toBeNull(); // only US early closes are kept
  });
});

describe('errors', () => {
  const err = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(DomainError);
      return e as DomainError;
    }
    throw new Error('expected a DomainError');
  };

  it('a trade date that is not a trading day names the date, the market and why', () => {
    const e = err(() => settlementDate({ market: 'XNYS', tradeDate: '2026-11-26' }));
    expect(e.code).toBe('CALENDAR_NOT_TRADING_DAY');
    expect(e.kind).toBe('invalid');
    expect(e.message).toContain('2026-11-26');
    expect(e.message).toContain('XNYS');
    expect(e.message).toContain('Thanksgiving');
    expect(err(() => settlementDate({ market: 'XNYS', tradeDate: '2026-10-10' })).code).toBe('CALENDAR_NOT_TRADING_DAY');
  });

  it('unknown market and asset class are named', () => {
    const m = err(() => isTradingDay('XNYZ', '2026-01-02'));
    expect(m.code).toBe('CALENDAR_MARKET_UNKNOWN');
    expect(m.message).toContain('XNYZ');
    const a = err(() => settlementDate({ market: 'XNYS', tradeDate: '2026-01-02', assetClass: 'crypto' as never }));
    expect(a.code).toBe('CALENDAR_ASSET_CLASS_UNKNOWN');
    expect(a.message).toContain('crypto');
    expect(err(() => settlementCycle('XNYS', 'warrant' as never, '2026-01-02')).message).toContain('warrant');
  });

  it('dates outside 1990-2100, and counts that run off the calendar, are refused', () => {
    expect(err(() => isTradingDay('XNYS', '1989-12-29')).code).toBe('CALENDAR_DATE_OUT_OF_RANGE');
    expect(err(() => isSettlementDay('XNYS', '2101-01-03')).code).toBe('CALENDAR_DATE_OUT_OF_RANGE');
    expect(err(() => holidays('XNYS', 1989)).code).toBe('CALENDAR_DATE_OUT_OF_RANGE');
    expect(err(() => settlementDate({ market: 'XNYS', tradeDate: '2100-12-31' })).code).toBe('CALENDAR_DATE_OUT_OF_RANGE');
    expect(err(() => addBusinessDays('XNYS', '1990-01-03', -5, 'trading')).code).toBe('CALENDAR_DATE_OUT_OF_RANGE');
    expect(err(() => isTradingDay('XNYS', '2026-02-30')).code).toBe('DATE_INVALID');
  });

  it('bad arguments', () => {
    expect(err(() => addBusinessDays('XNYS', '2026-01-02', 1.5, 'trading')).code).toBe('CALENDAR_ARGUMENT_INVALID');
    expect(err(() => addBusinessDays('XNYS', '2026-01-02', 1, 'clearing' as never)).code).toBe('CALENDAR_ARGUMENT_INVALID');
    expect(err(() => businessDays('XNYS', '2026-01-09', '2026-01-02', 'trading')).code).toBe('CALENDAR_ARGUMENT_INVALID');
    expect(err(() => holidays('XNYS', 2026.5)).code).toBe('CALENDAR_ARGUMENT_INVALID');
  });
});
