/**
 * Bank holidays in England and Wales: the London Stock Exchange and CREST are closed on them.
 *
 * Sources: Banking and Financial Dealings Act 1971 and the Royal Proclamations that moved or added
 * days (GOV.UK bank holidays), cross-checked with pandas_market_calendars (holidays/uk.py).
 * A holiday on a weekend is replaced by the next weekday that is not already a holiday ("substitute
 * day"): Christmas on a Saturday gives Monday 27 and Boxing Day Tuesday 28.
 */
import { MON } from './civil-date.js';
import { easter, fixed, last, nth, type HolidayCalendar } from './rules.js';

export const ENGLAND_WALES_BANK_HOLIDAYS: HolidayCalendar = {
  label: 'England and Wales',
  coverage: { from: '1990-01-01', to: '2100-12-31' },
  source: 'Banking and Financial Dealings Act 1971; Royal Proclamations; GOV.UK bank holidays',
  rules: [
    { name: "New Year's Day", date: fixed(1, 1), observe: 'substitute' },
    { name: 'Good Friday', date: easter(-2) },
    { name: 'Easter Monday', date: easter(1) },
    // Moved to 8 May for the 50th and 75th anniversaries of VE Day.
    { name: 'Early May bank holiday', date: nth(5, MON, 1), exceptYears: [1995, 2020] },
    // Moved for the Golden, Diamond and Platinum Jubilees.
    { name: 'Spring bank holiday', date: last(5, MON), exceptYears: [2002, 2012, 2022] },
    { name: 'Summer bank holiday', date: last(8, MON) },
    { name: 'Christmas Day', date: fixed(12, 25), observe: 'substitute' },
    { name: 'Boxing Day', date: fixed(12, 26), observe: 'substitute' },
  ],
  oneOffs: [
    { date: '1995-05-08', name: 'Early May bank holiday (VE Day 50th anniversary)' },
    { date: '1999-12-31', name: 'Millennium bank holiday' },
    { date: '2002-06-03', name: 'Golden Jubilee bank holiday' },
    { date: '2002-06-04', name: 'Spring bank holiday (moved for the Golden Jubilee)' },
    { date: '2011-04-29', name: 'Wedding of Prince William and Catherine Middleton' },
    { date: '2012-06-04', name: 'Spring bank holiday (moved for the Diamond Jubilee)' },
    { date: '2012-06-05', name: 'Diamond Jubilee bank holiday' },
    { date: '2020-05-08', name: 'Early May bank holiday (VE Day 75th anniversary)' },
    { date: '2022-06-02', name: 'Spring bank holiday (moved for the Platinum Jubilee)' },
    { date: '2022-06-03', name: 'Platinum Jubilee bank holiday' },
    { date: '2022-09-19', name: 'State funeral of Queen Elizabeth II' },
    { date: '2023-05-08', name: 'Coronation of King Charles III' },
  ],
};
