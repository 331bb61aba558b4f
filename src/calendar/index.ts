/**
 * Calendar: market trading days, settlement days and business-day arithmetic, from holiday rules
 * kept as dated data (NYSE and Nasdaq, the Federal Reserve, England and Wales bank holidays,
 * TARGET and the euro exchanges), and the dated settlement cycles per market and asset class.
 * Pure functions on `YYYY-MM-DD` business dates; no I/O. Other modules import only this file.
 *
 * Every function refuses an unknown market (CALENDAR_MARKET_UNKNOWN), a text that is not a date
 * (DATE_INVALID) and a date outside the market's calendar (CALENDAR_DATE_OUT_OF_RANGE: 1990-2100
 * for the US and UK, 2002-2100 for the euro markets).
 */
import { allMarkets } from './markets.js';
import { assetClassesOf, cycleHistory, type AssetClass } from './settlement-cycles.js';

export { isTradingDay, isSettlementDay, addBusinessDays, businessDays, earlyClose, holidays, type DayKind, type MarketHoliday } from './business-days.js';
export { settlementDate, settlementCycle, type SettlementDateInput } from './settlement.js';
export { ASSET_CLASSES, type AssetClass } from './settlement-cycles.js';
export { CalendarCodes, type CalendarCode } from './errors.js';
export { calendarCommands } from './cli.js';
export { calendarRoutes } from './http.js';

/** A market we keep a calendar for, as `markets()` describes it. */
export interface MarketInfo {
  /** ISO 10383 market identifier code, e.g. XNYS. */
  mic: string;
  name: string;
  /** ISO 3166 country code. */
  country: string;
  currency: string;
  /** IANA time zone of its trading hours and early closes. */
  timeZone: string;
  /** The dates the calendar covers; others are refused. */
  coverage: { from: string; to: string };
  /** The closing-day calendars that make its trading days, e.g. ["NYSE"]. */
  tradingCalendars: string[];
  /** The closing-day calendars that make its settlement days, e.g. ["NYSE", "Federal Reserve"]. */
  settlementCalendars: string[];
  /** Settlement cycles kept, per asset class: trade dates from `from` settle T+`days`. */
  settlementCycles: { assetClass: AssetClass; history: { from: string; days: number }[] }[];
}

/** The markets with a calendar, in a stable order. */
export function markets(): MarketInfo[] {
  return allMarkets().map((m) => ({
    mic: m.mic,
    name: m.name,
    country: m.country,
    currency: m.currency,
    timeZone: m.timeZone,
    coverage: { ...m.coverage },
    tradingCalendars: m.trading.map((c) => c.label),
    settlementCalendars: m.settlement.map((c) => c.label),
    settlementCycles: assetClassesOf(m.mic).map((assetClass) => ({ assetClass, history: cycleHistory(m.mic, assetClass) })),
  }));
}
