/**
 * The New York Stock Exchange: closing days and scheduled early closes, 1990-2100. Nasdaq (XNAS)
 * keeps the same calendar.
 *
 * Sources: NYSE Rule 7.2 (holidays; "when a holiday falls on a Saturday the Exchange will not be
 * open on the preceding Friday" only where Rule 7.2 says so: New Year's Day on a Saturday is not
 * observed, because the Friday ends the accounting year), the NYSE Group holiday releases
 * (2021-12-27, 2024-11-08, 2025-12-23), and the NYSE closings history compiled in
 * pandas_market_calendars (holidays/nyse.py) for the one-off closures and early closes since 1990.
 */
import { FRI, MON, THU, TUE, WED } from './civil-date.js';
import { easter, fixed, last, nth, type EarlyCloseCalendar, type HolidayCalendar } from './rules.js';

export const NYSE_HOLIDAYS: HolidayCalendar = {
  label: 'NYSE',
  coverage: { from: '1990-01-01', to: '2100-12-31' },
  source: 'NYSE Rule 7.2; NYSE Group holiday releases; pandas_market_calendars NYSE closings history',
  rules: [
    // Saturday 1 January is not observed on Friday 31 December (e.g. 2021-12-31 and 2010-12-31 were open).
    { name: "New Year's Day", date: fixed(1, 1), observe: 'sunday_to_monday' },
    { name: 'Martin Luther King Jr. Day', date: nth(1, MON, 3), from: 1998 },
    { name: "Washington's Birthday", date: nth(2, MON, 3) },
    { name: 'Good Friday', date: easter(-2) },
    { name: 'Memorial Day', date: last(5, MON) },
    { name: 'Juneteenth National Independence Day', date: fixed(6, 19), observe: 'nearest_weekday', from: 2022 },
    { name: 'Independence Day', date: fixed(7, 4), observe: 'nearest_weekday' },
    { name: 'Labor Day', date: nth(9, MON, 1) },
    { name: 'Thanksgiving Day', date: nth(11, THU, 4) },
    { name: 'Christmas Day', date: fixed(12, 25), observe: 'nearest_weekday' },
  ],
  oneOffs: [
    { date: '1994-04-27', name: 'National Day of Mourning (President Nixon)' },
    { date: '2001-09-11', name: 'September 11 attacks' },
    { date: '2001-09-12', name: 'September 11 attacks' },
    { date: '2001-09-13', name: 'September 11 attacks' },
    { date: '2001-09-14', name: 'September 11 attacks' },
    { date: '2004-06-11', name: 'National Day of Mourning (President Reagan)' },
    { date: '2007-01-02', name: 'National Day of Mourning (President Ford)' },
    { date: '2012-10-29', name: 'Hurricane Sandy' },
    { date: '2012-10-30', name: 'Hurricane Sandy' },
    { date: '2018-12-05', name: 'National Day of Mourning (President George H. W. Bush)' },
    { date: '2025-01-09', name: 'National Day of Mourning (President Carter)' },
  ],
};

/**
 * Scheduled early closes (New York time). Unscheduled intraday closes (snow 1994-02-11 and
 * 1996-01-08, the 1997-10-27 circuit breaker) are not early closes in this sense and are left out.
 */
export const NYSE_EARLY_CLOSES: EarlyCloseCalendar = {
  source: 'NYSE Group holiday releases; pandas_market_calendars NYSE closings history',
  rules: [
    { name: 'Day before Independence Day', date: fixed(7, 3), weekdays: [MON, TUE, THU], from: 1995, close: '13:00' },
    // From 2013 a Wednesday 3 July closes early instead of Friday 5 July.
    { name: 'Day before Independence Day', date: fixed(7, 3), weekdays: [WED], from: 2013, close: '13:00' },
    { name: 'Day after Independence Day', date: fixed(7, 5), weekdays: [FRI], from: 1996, until: 2012, close: '13:00' },
    { name: 'Day after Thanksgiving', date: nth(11, THU, 4, 1), from: 1992, until: 1992, close: '14:00' },
    { name: 'Day after Thanksgiving', date: nth(11, THU, 4, 1), from: 1993, close: '13:00' },
    // A Friday 24 December is the observed Christmas holiday, so only Monday to Thursday close early.
    { name: 'Christmas Eve', date: fixed(12, 24), weekdays: [MON, TUE, WED, THU], until: 1992, close: '14:00' },
    { name: 'Christmas Eve', date: fixed(12, 24), weekdays: [MON, TUE, WED, THU], from: 1993, close: '13:00' },
  ],
  oneOffs: [
    { date: '1997-12-26', name: 'Day after Christmas', close: '13:00' },
    { date: '2003-12-26', name: 'Day after Christmas', close: '13:00' },
  ],
};
