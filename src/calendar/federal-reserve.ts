/**
 * Holidays observed by the Federal Reserve System (Reserve Banks closed: Fedwire and the
 * National Settlement Service do not run, so no US securities settle).
 *
 * Source: Federal Reserve, "Holidays Observed by the Federal Reserve System" (K.8): a holiday on a
 * Sunday is observed on the Monday; on a Saturday the Reserve Banks are open on the Friday before.
 * Columbus Day and Veterans Day are Fed holidays but not NYSE holidays: the exchange trades and
 * nothing settles. Juneteenth became a federal holiday in 2021; it fell on a Saturday that year,
 * so the first day closed was Monday 2022-06-20.
 */
import { MON, THU } from './civil-date.js';
import { fixed, last, nth, type HolidayCalendar } from './rules.js';

export const FEDERAL_RESERVE_HOLIDAYS: HolidayCalendar = {
  label: 'Federal Reserve',
  coverage: { from: '1990-01-01', to: '2100-12-31' },
  source: 'Federal Reserve, Holidays Observed by the Federal Reserve System (K.8)',
  rules: [
    { name: "New Year's Day", date: fixed(1, 1), observe: 'sunday_to_monday' },
    { name: 'Birthday of Martin Luther King Jr.', date: nth(1, MON, 3) },
    { name: "Washington's Birthday", date: nth(2, MON, 3) },
    { name: 'Memorial Day', date: last(5, MON) },
    { name: 'Juneteenth National Independence Day', date: fixed(6, 19), observe: 'sunday_to_monday', from: 2021 },
    { name: 'Independence Day', date: fixed(7, 4), observe: 'sunday_to_monday' },
    { name: 'Labor Day', date: nth(9, MON, 1) },
    { name: 'Columbus Day', date: nth(10, MON, 2) },
    { name: 'Veterans Day', date: fixed(11, 11), observe: 'sunday_to_monday' },
    { name: 'Thanksgiving Day', date: nth(11, THU, 4) },
    { name: 'Christmas Day', date: fixed(12, 25), observe: 'sunday_to_monday' },
  ],
  // National days of mourning closed the NYSE (see nyse.ts), so nothing settled whatever the Fed did.
  oneOffs: [],
};
