/**
 * Settlement dates: the trade date plus the market's cycle, counted in settlement days.
 */
import { checkedDate, stepDays } from './business-days.js';
import { dayNumber, isWeekendDay } from './civil-date.js';
import { calendarError, CalendarCodes } from './errors.js';
import { marketDefinition } from './markets.js';
import { closedDays } from './rules.js';
import { assetClassOf, cycleOn, type AssetClass } from './settlement-cycles.js';

/**
 * N in T+N: the standard settlement cycle of `assetClass` on `market` for a trade on `tradeDate`.
 * @throws DomainError CALENDAR_MARKET_UNKNOWN, CALENDAR_ASSET_CLASS_UNKNOWN, DATE_INVALID, CALENDAR_DATE_OUT_OF_RANGE, CALENDAR_NO_SETTLEMENT_CYCLE (no cycle kept for that market, class or date)
 */
export function settlementCycle(market: string, assetClass: AssetClass, tradeDate: string): number {
  const m = marketDefinition(market);
  const cls = assetClassOf(assetClass);
  return cycleOn(m.mic, cls, checkedDate(m, tradeDate, 'tradeDate'));
}

/** A trade to settle: where, when, and what kind of security. */
export interface SettlementDateInput {
  /** Market identifier code, e.g. XNYS. */
  market: string;
  /** YYYY-MM-DD; must be a trading day of the market. */
  tradeDate: string;
  /** Default `equity`. */
  assetClass?: AssetClass;
}

/**
 * The contractual settlement date of a trade: N settlement days after the trade date, where N is
 * the cycle in force on the trade date (e.g. XNYS equity traded 2026-10-09, T+1, settles
 * 2026-10-13 because Columbus Day, 2026-10-12, is not a settlement day).
 * @throws DomainError CALENDAR_NOT_TRADING_DAY (the trade date is not a trading day of the market), CALENDAR_MARKET_UNKNOWN, CALENDAR_ASSET_CLASS_UNKNOWN, DATE_INVALID, CALENDAR_DATE_OUT_OF_RANGE, CALENDAR_NO_SETTLEMENT_CYCLE
 */
export function settlementDate(input: SettlementDateInput): string {
  const m = marketDefinition(input.market);
  const cls = assetClassOf(input.assetClass ?? 'equity');
  const tradeDate = checkedDate(m, input.tradeDate, 'tradeDate');
  if (isWeekendDay(dayNumber(tradeDate))) {
    throw calendarError(CalendarCodes.NOT_TRADING_DAY, `trade date ${tradeDate} is not a trading day on ${m.mic}: it is a weekend`, 'tradeDate');
  }
  const year = Number(tradeDate.slice(0, 4));
  for (const c of m.trading) {
    const name = closedDays(c, year).get(tradeDate);
    if (name !== undefined) {
      throw calendarError(CalendarCodes.NOT_TRADING_DAY, `trade date ${tradeDate} is not a trading day on ${m.mic}: ${name}`, 'tradeDate');
    }
  }
  return stepDays(m, tradeDate, cycleOn(m.mic, cls, tradeDate), 'settlement');
}
