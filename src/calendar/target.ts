/**
 * TARGET (TARGET2 from 2007-2008, T2 from 2023), the euro's payment system, and T2S settle on
 * every weekday except its closing days. Euro securities settle on TARGET days only.
 *
 * Source: ECB, TARGET closing days (the long-term calendar decided in 2000, in force from 2002;
 * 2000 and 2001 already used the same days), as coded in QuantLib (ql/time/calendars/target.cpp):
 * New Year's Day from the start (1999); Good Friday, Easter Monday, 1 May and 26 December from
 * 2000; and 31 December 1999 (Y2K) and 2001 (euro cash changeover). TARGET has no weekend
 * observance: a closing day on a weekend is simply lost.
 */
import { easter, fixed, type HolidayCalendar } from './rules.js';

export const TARGET_CLOSING_DAYS: HolidayCalendar = {
  label: 'TARGET',
  coverage: { from: '1999-01-01', to: '2100-12-31' },
  source: 'ECB TARGET closing days; QuantLib TARGET calendar',
  rules: [
    { name: "New Year's Day", date: fixed(1, 1) },
    { name: 'Good Friday', date: easter(-2), from: 2000 },
    { name: 'Easter Monday', date: easter(1), from: 2000 },
    { name: 'Labour Day', date: fixed(5, 1), from: 2000 },
    { name: 'Christmas Day', date: fixed(12, 25) },
    { name: 'Christmas Holiday (26 December)', date: fixed(12, 26), from: 2000 },
  ],
  oneOffs: [
    { date: '1999-12-31', name: 'Year 2000 changeover' },
    { date: '2001-12-31', name: 'Euro cash changeover' },
  ],
};
