import { DomainError } from '../kernel/index.js';
import { settlementDate, CalendarCodes } from '../calendar/index.js';

/** Our asset classes to the calendar's settlement-cycle classes. */
const CYCLE_CLASS: Record<string, string> = {
  equity: 'equity', etf: 'equity', fund: 'equity', bond: 'corporate_bond', treasury: 'government_bond', option: 'option',
};

/**
 * The settlement date of a trade on `mic`, from the market's calendar and dated cycle. A market
 * the calendar does not know (or an asset class it has no cycle for) falls back to T+1 on
 * weekdays, marked provisional.
 * @throws DomainError CALENDAR_NOT_TRADING_DAY when the trade date is not a trading day
 */
export function settlementDateFor(mic: string, assetClass: string, tradeDate: string): { date: string; provisional: boolean } {
  const cls = CYCLE_CLASS[assetClass];
  if (cls) {
    try {
      return { date: settlementDate({ market: mic, tradeDate, assetClass: cls as never }), provisional: false };
    } catch (e) {
      if (e instanceof DomainError && e.code === CalendarCodes.NOT_TRADING_DAY) throw e;
    }
  }
  const d = new Date(`${tradeDate}T00:00:00Z`);
  do d.setUTCDate(d.getUTCDate() + 1); while (d.getUTCDay() === 0 || d.getUTCDay() === 6);
  return { date: d.toISOString().slice(0, 10), provisional: true };
}
