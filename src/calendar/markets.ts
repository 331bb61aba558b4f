/**
 * The markets we keep calendars for, and which closing-day calendars make up their trading days
 * and their settlement days. A day is a trading day when it is a weekday and no trading calendar
 * is closed; a settlement day when it is a weekday and no settlement calendar is closed.
 */
import { ENGLAND_WALES_BANK_HOLIDAYS } from './england-wales.js';
import { BORSA_ITALIANA_EXTRA_CLOSURES, XETRA_EXTRA_CLOSURES } from './euro-exchanges.js';
import { calendarError, CalendarCodes } from './errors.js';
import { FEDERAL_RESERVE_HOLIDAYS } from './federal-reserve.js';
import { NYSE_EARLY_CLOSES, NYSE_HOLIDAYS } from './nyse.js';
import type { EarlyCloseCalendar, HolidayCalendar } from './rules.js';
import { TARGET_CLOSING_DAYS } from './target.js';

export interface MarketDefinition {
  /** ISO 10383 market identifier code. */
  mic: string;
  name: string;
  /** ISO 3166 country code. */
  country: string;
  currency: string;
  /** IANA time zone of its trading hours and early closes. */
  timeZone: string;
  /** Dates before or after are refused. */
  coverage: { from: string; to: string };
  trading: readonly HolidayCalendar[];
  settlement: readonly HolidayCalendar[];
  earlyCloses?: EarlyCloseCalendar;
}

const US = { country: 'US', currency: 'USD', timeZone: 'America/New_York', coverage: { from: '1990-01-01', to: '2100-12-31' } };
// US securities settle (DTC) only when the NYSE is open and the Federal Reserve is open.
const US_CALENDARS = { trading: [NYSE_HOLIDAYS], settlement: [NYSE_HOLIDAYS, FEDERAL_RESERVE_HOLIDAYS], earlyCloses: NYSE_EARLY_CLOSES };
// The euro exchanges follow TARGET from 2002, when Euronext aligned its calendar and TARGET's
// long-term calendar took full effect; before that each had national holidays we do not keep.
const EURO = { currency: 'EUR', coverage: { from: '2002-01-01', to: '2100-12-31' }, settlement: [TARGET_CLOSING_DAYS] };

const MARKETS: readonly MarketDefinition[] = [
  { mic: 'XNYS', name: 'New York Stock Exchange', ...US, ...US_CALENDARS },
  { mic: 'XNAS', name: 'Nasdaq', ...US, ...US_CALENDARS },
  {
    mic: 'XLON', name: 'London Stock Exchange', country: 'GB', currency: 'GBP', timeZone: 'Europe/London',
    coverage: { from: '1990-01-01', to: '2100-12-31' },
    // CREST settles on the same days the exchange trades.
    trading: [ENGLAND_WALES_BANK_HOLIDAYS], settlement: [ENGLAND_WALES_BANK_HOLIDAYS],
  },
  { mic: 'XETR', name: 'Xetra (Deutsche Börse)', country: 'DE', timeZone: 'Europe/Berlin', ...EURO, trading: [TARGET_CLOSING_DAYS, XETRA_EXTRA_CLOSURES] },
  // Euronext Paris, Amsterdam, Brussels: trading days = TARGET days.
  { mic: 'XPAR', name: 'Euronext Paris', country: 'FR', timeZone: 'Europe/Paris', ...EURO, trading: [TARGET_CLOSING_DAYS] },
  { mic: 'XAMS', name: 'Euronext Amsterdam', country: 'NL', timeZone: 'Europe/Amsterdam', ...EURO, trading: [TARGET_CLOSING_DAYS] },
  { mic: 'XBRU', name: 'Euronext Brussels', country: 'BE', timeZone: 'Europe/Brussels', ...EURO, trading: [TARGET_CLOSING_DAYS] },
  { mic: 'XMIL', name: 'Euronext Milan (Borsa Italiana)', country: 'IT', timeZone: 'Europe/Rome', ...EURO, trading: [TARGET_CLOSING_DAYS, BORSA_ITALIANA_EXTRA_CLOSURES] },
];

const BY_MIC = new Map(MARKETS.map((m) => [m.mic, m]));

export const allMarkets = (): readonly MarketDefinition[] => MARKETS;

/** @throws DomainError CALENDAR_MARKET_UNKNOWN naming the market and the known ones */
export function marketDefinition(market: unknown): MarketDefinition {
  const key = typeof market === 'string' ? market.trim().toUpperCase() : '';
  const m = BY_MIC.get(key);
  if (!m) {
    throw calendarError(CalendarCodes.MARKET_UNKNOWN,
      `market "${String(market)}" is unknown; known markets: ${MARKETS.map((x) => x.mic).join(', ')}`, 'market');
  }
  return m;
}
