import { describe, expect, it } from 'vitest';
import { MON, THU, addDays, easterSunday, lastWeekday, nthWeekday, weekdayOf } from './civil-date.js';

describe('civil dates', () => {
  it('computes Western Easter Sunday', () => {
    // Published Easter dates, including the earliest (22 March) and latest (25 April) kinds of year.
    const known: Record<number, string> = {
      1990: '1990-04-15', 1999: '1999-04-04', 2000: '2000-04-23', 2008: '2008-03-23', 2011: '2011-04-24',
      2024: '2024-03-31', 2025: '2025-04-20', 2026: '2026-04-05', 2027: '2027-03-28', 2038: '2038-04-25',
      2100: '2100-03-28',
    };
    for (const [y, d] of Object.entries(known)) expect(easterSunday(Number(y)), y).toBe(d);
  });

  it('finds nth and last weekdays', () => {
    expect(nthWeekday(2026, 1, MON, 3)).toBe('2026-01-19');
    expect(nthWeekday(2026, 10, MON, 2)).toBe('2026-10-12');
    expect(nthWeekday(2024, 11, THU, 4)).toBe('2024-11-28');
    expect(nthWeekday(2026, 6, MON, 1)).toBe('2026-06-01'); // the month starts on the weekday
    expect(lastWeekday(2024, 5, MON)).toBe('2024-05-27');
    expect(lastWeekday(2021, 5, MON)).toBe('2021-05-31'); // the month ends on the weekday
    expect(lastWeekday(2027, 8, MON)).toBe('2027-08-30');
  });

  it('steps across month, year and leap days', () => {
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2100-02-28', 1)).toBe('2100-03-01'); // 2100 is not a leap year
    expect(addDays('1999-12-31', 1)).toBe('2000-01-01');
    expect(addDays('1990-01-01', -1)).toBe('1989-12-31');
    expect(weekdayOf('2026-10-12')).toBe(MON);
    expect(weekdayOf('1970-01-01')).toBe(THU);
  });
});
