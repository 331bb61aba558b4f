/**
 * The euro exchanges' own closing days, on top of TARGET's (see markets.ts for which market uses
 * which). Only closures we can source are here:
 * - Euronext Paris, Amsterdam and Brussels: since 2002 their trading days are the TARGET days
 *   (closed New Year's Day, Good Friday, Easter Monday, 1 May, 25 and 26 December; 24 and
 *   31 December are half days, which are not modelled). No extra closures.
 * - Xetra: also closed 24 and 31 December, and on the German holidays Deutsche Börse chose to close
 *   in some years (exchange_calendars, exchange_calendar_xetr.py).
 * - Borsa Italiana (Euronext Milan): also closed 24 and 31 December and 15 August (its published
 *   trading calendars 2008, 2019-2024; earlier years assumed the same).
 */
import { easter, fixed, type HolidayCalendar } from './rules.js';

export const XETRA_EXTRA_CLOSURES: HolidayCalendar = {
  label: 'Xetra',
  coverage: { from: '2002-01-01', to: '2100-12-31' },
  source: 'Deutsche Börse trading calendar; exchange_calendars XETR',
  rules: [
    { name: 'Christmas Eve', date: fixed(12, 24) },
    { name: "New Year's Eve", date: fixed(12, 31) },
    { name: 'Whit Monday', date: easter(50), from: 2015, until: 2021 },
    { name: 'Day of German Unity', date: fixed(10, 3), from: 2014, until: 2021 },
  ],
  oneOffs: [
    { date: '2007-05-28', name: 'Whit Monday' },
    { date: '2017-10-31', name: 'Reformation Day (500th anniversary)' },
  ],
};

export const BORSA_ITALIANA_EXTRA_CLOSURES: HolidayCalendar = {
  label: 'Borsa Italiana',
  coverage: { from: '2002-01-01', to: '2100-12-31' },
  source: 'Borsa Italiana trading calendars (2008, 2019-2024)',
  rules: [
    { name: 'Assumption of Mary', date: fixed(8, 15) },
    { name: 'Christmas Eve', date: fixed(12, 24) },
    { name: "New Year's Eve", date: fixed(12, 31) },
  ],
  oneOffs: [],
};
