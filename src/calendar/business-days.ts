/**
 * Trading days, settlement days and business-day arithmetic per market.
 */
import { parseDate } from '../kernel/index.js';
import { dayNumber, fromDayNumber, isWeekendDay } from './civil-date.js';
import { calendarError, CalendarCodes } from './errors.js';
import { marketDefinition, type MarketDefinition } from './markets.js';
import { closedDays, earlyCloseDays, type HolidayCalendar } from './rules.js';

/** Which days count: days the exchange trades, or days on which its trades settle. */
export type DayKind = 'trading' | 'settlement';
export const DAY_KINDS: readonly DayKind[] = ['trading', 'settlement'];

/** A day the market is closed, does not settle, or closes early. */
export interface MarketHoliday {
  date: string;
  name: string;
  /**
   * `closed`: no trading (settlement too may go on, e.g. TARGET on Xetra's 24 December);
   * `no_settlement`: the exchange trades but nothing settles (e.g. Columbus Day in the US);
   * `early_close`: trading ends early, at `close` local time.
   */
  kind: 'closed' | 'no_settlement' | 'early_close';
  /** Local closing time `HH:MM`, on early closes only. */
  close?: string;
}

const yearOf = (date: string) => Number(date.slice(0, 4));

/** @throws DomainError DATE_INVALID, CALENDAR_DATE_OUT_OF_RANGE */
export function checkedDate(m: MarketDefinition, date: unknown, what = 'date'): string {
  const d = parseDate(date, what);
  if (d < m.coverage.from || d > m.coverage.to) {
    throw calendarError(CalendarCodes.DATE_OUT_OF_RANGE,
      `${what} ${d} is outside the ${m.mic} calendar, which covers ${m.coverage.from} to ${m.coverage.to}`, what);
  }
  return d;
}

export function kindOf(kind: unknown): DayKind {
  if (kind === 'trading' || kind === 'settlement') return kind;
  throw calendarError(CalendarCodes.ARGUMENT_INVALID, `kind "${String(kind)}" must be "trading" or "settlement"`, 'kind');
}

const closedBy = (cals: readonly HolidayCalendar[], date: string): string | undefined => {
  const y = yearOf(date);
  for (const c of cals) {
    const name = closedDays(c, y).get(date);
    if (name !== undefined) return name;
  }
  return undefined;
};

const isOpen = (m: MarketDefinition, kind: DayKind, date: string): boolean =>
  !isWeekendDay(dayNumber(date)) && closedBy(kind === 'trading' ? m.trading : m.settlement, date) === undefined;

/**
 * Whether the exchange trades on `date`.
 * @throws DomainError CALENDAR_MARKET_UNKNOWN, DATE_INVALID, CALENDAR_DATE_OUT_OF_RANGE
 */
export function isTradingDay(market: string, date: string): boolean {
  const m = marketDefinition(market);
  return isOpen(m, 'trading', checkedDate(m, date));
}

/**
 * Whether the market's trades settle on `date` (US: the NYSE and the Federal Reserve are both
 * open; UK: not an England and Wales bank holiday; euro markets: a TARGET day).
 * @throws DomainError CALENDAR_MARKET_UNKNOWN, DATE_INVALID, CALENDAR_DATE_OUT_OF_RANGE
 */
export function isSettlementDay(market: string, date: string): boolean {
  const m = marketDefinition(market);
  return isOpen(m, 'settlement', checkedDate(m, date));
}

/** Steps `n` days of `kind` from `date` (trusted), refusing to leave the market's coverage. */
export function stepDays(m: MarketDefinition, date: string, n: number, kind: DayKind): string {
  const step = n < 0 ? -1 : 1;
  const lo = dayNumber(m.coverage.from);
  const hi = dayNumber(m.coverage.to);
  let d = dayNumber(date);
  for (let left = Math.abs(n); left > 0;) {
    d += step;
    if (d < lo || d > hi) {
      throw calendarError(CalendarCodes.DATE_OUT_OF_RANGE,
        `counting ${n} ${kind} days from ${date} on ${m.mic} runs past ${step > 0 ? m.coverage.to : m.coverage.from}, the ${step > 0 ? 'end' : 'start'} of its calendar`, 'n');
    }
    if (isOpen(m, kind, fromDayNumber(d))) left--;
  }
  return fromDayNumber(d);
}

/**
 * The date `n` trading or settlement days after `date` (before it when `n` is negative). `date`
 * itself need not be such a day and is never counted; `n = 0` returns `date` unchanged.
 * @throws DomainError CALENDAR_MARKET_UNKNOWN, DATE_INVALID, CALENDAR_DATE_OUT_OF_RANGE (also when the count runs off the calendar), CALENDAR_ARGUMENT_INVALID (n not an integer, unknown kind)
 */
export function addBusinessDays(market: string, date: string, n: number, kind: DayKind): string {
  const m = marketDefinition(market);
  const d = checkedDate(m, date);
  const k = kindOf(kind);
  if (!Number.isSafeInteger(n)) throw calendarError(CalendarCodes.ARGUMENT_INVALID, `n ${String(n)} must be a whole number`, 'n');
  return stepDays(m, d, n, k);
}

/**
 * The trading or settlement days from `from` to `to`, both included, in order.
 * @throws DomainError CALENDAR_MARKET_UNKNOWN, DATE_INVALID, CALENDAR_DATE_OUT_OF_RANGE, CALENDAR_ARGUMENT_INVALID (from after to, unknown kind)
 */
export function businessDays(market: string, from: string, to: string, kind: DayKind): string[] {
  const m = marketDefinition(market);
  const a = checkedDate(m, from, 'from');
  const b = checkedDate(m, to, 'to');
  const k = kindOf(kind);
  if (a > b) throw calendarError(CalendarCodes.ARGUMENT_INVALID, `from ${a} is after to ${b}`, 'from');
  const out: string[] = [];
  for (let d = dayNumber(a), end = dayNumber(b); d <= end; d++) {
    const s = fromDayNumber(d);
    if (isOpen(m, k, s)) out.push(s);
  }
  return out;
}

/**
 * The local closing time (`HH:MM`) when the exchange closes early on `date`, else null (also on
 * days it is closed). Only the NYSE and Nasdaq early closes are kept; other markets give null.
 * @throws DomainError CALENDAR_MARKET_UNKNOWN, DATE_INVALID, CALENDAR_DATE_OUT_OF_RANGE
 */
export function earlyClose(market: string, date: string): string | null {
  const m = marketDefinition(market);
  const d = checkedDate(m, date);
  if (!m.earlyCloses || !isOpen(m, 'trading', d)) return null;
  return earlyCloseDays(m.earlyCloses, yearOf(d)).get(d)?.close ?? null;
}

/**
 * The weekdays of `year` on which the market is closed, does not settle, or closes early, in date
 * order. Weekend holidays appear on the weekday they are observed on, if any.
 * @throws DomainError CALENDAR_MARKET_UNKNOWN, CALENDAR_ARGUMENT_INVALID (year not a whole number), CALENDAR_DATE_OUT_OF_RANGE (year outside the calendar)
 */
export function holidays(market: string, year: number): MarketHoliday[] {
  const m = marketDefinition(market);
  if (!Number.isSafeInteger(year)) throw calendarError(CalendarCodes.ARGUMENT_INVALID, `year ${String(year)} must be a whole number`, 'year');
  if (year < yearOf(m.coverage.from) || year > yearOf(m.coverage.to)) {
    throw calendarError(CalendarCodes.DATE_OUT_OF_RANGE,
      `year ${year} is outside the ${m.mic} calendar, which covers ${m.coverage.from} to ${m.coverage.to}`, 'year');
  }
  const early = m.earlyCloses ? earlyCloseDays(m.earlyCloses, year) : new Map<string, { name: string; close: string }>();
  const out: MarketHoliday[] = [];
  for (let d = dayNumber(`${year}-01-01`), end = dayNumber(`${year}-12-31`); d <= end; d++) {
    if (isWeekendDay(d)) continue;
    const date = fromDayNumber(d);
    const closed = closedBy(m.trading, date);
    if (closed !== undefined) {
      out.push({ date, name: closed, kind: 'closed' });
      continue;
    }
    const noSettlement = closedBy(m.settlement, date);
    if (noSettlement !== undefined) {
      const cal = m.settlement.find((c) => closedDays(c, year).has(date))!;
      out.push({ date, name: `${noSettlement} (${cal.label} closed)`, kind: 'no_settlement' });
    }
    const e = early.get(date);
    if (e) out.push({ date, name: e.name, kind: 'early_close', close: e.close });
  }
  return out;
}
