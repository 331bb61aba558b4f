/**
 * Holiday rules as data, and their evaluation into the closed dates of a year.
 *
 * A calendar is a list of recurring rules (fixed date, nth weekday, last weekday, Easter-relative),
 * each valid for a span of years, with a weekend observance; plus dated one-off closures. Rule
 * changes are dated by `from`/`until` years, and a rule replaced in one year by a one-off (the UK
 * bank holidays moved for jubilees) lists that year in `exceptYears`.
 */
import {
  SAT, SUN, addDays, dayNumber, easterSunday, fromDayNumber, isWeekendDay, lastWeekday, nthWeekday, weekdayOf, ymd,
  type Weekday,
} from './civil-date.js';

/** Where a rule puts its date in a given year, before weekend observance; `shift` adds days. */
export type DateRule =
  | { kind: 'fixed'; month: number; day: number; shift?: number }
  | { kind: 'nth_weekday'; month: number; weekday: Weekday; n: number; shift?: number }
  | { kind: 'last_weekday'; month: number; weekday: Weekday; shift?: number }
  | { kind: 'easter'; shift: number };

/**
 * What happens when the date falls on a weekend:
 * - `none`: nothing (the day is lost, e.g. the Fed on a Saturday; TARGET).
 * - `nearest_weekday`: Saturday -> the Friday before, Sunday -> the Monday after (NYSE).
 * - `sunday_to_monday`: Sunday -> Monday; a Saturday is not observed (NYSE New Year's Day, the Fed).
 * - `substitute`: the next weekday that is not already a holiday (UK bank holidays).
 */
export type Observance = 'none' | 'nearest_weekday' | 'sunday_to_monday' | 'substitute';

export interface Rule {
  name: string;
  date: DateRule;
  /** First year the rule applies (inclusive). */
  from?: number;
  /** Last year the rule applies (inclusive). */
  until?: number;
  /** Years in which a one-off replaces the rule. */
  exceptYears?: readonly number[];
  /** Only when the date falls on one of these weekdays (used by early closes). */
  weekdays?: readonly Weekday[];
}

export interface HolidayRule extends Rule {
  observe?: Observance;
}

export interface OneOff {
  date: string;
  name: string;
}

/** A set of closing days: an exchange, a central bank, a payment system. */
export interface HolidayCalendar {
  /** Short label used in names, e.g. "NYSE", "Federal Reserve", "TARGET". */
  label: string;
  /** The first and last date for which the rules are known to hold. */
  coverage: { from: string; to: string };
  /** Where the rules come from. */
  source: string;
  rules: readonly HolidayRule[];
  oneOffs: readonly OneOff[];
}

export interface EarlyCloseRule extends Rule {
  /** Local closing time, `HH:MM`. */
  close: string;
}

export interface EarlyCloseCalendar {
  source: string;
  rules: readonly EarlyCloseRule[];
  oneOffs: readonly (OneOff & { close: string })[];
}

/** Date-rule constructors, so that the data files read like the rule books. */
export const fixed = (month: number, day: number): DateRule => ({ kind: 'fixed', month, day });
export const nth = (month: number, weekday: Weekday, n: number, shift = 0): DateRule => ({ kind: 'nth_weekday', month, weekday, n, shift });
export const last = (month: number, weekday: Weekday): DateRule => ({ kind: 'last_weekday', month, weekday });
export const easter = (shift: number): DateRule => ({ kind: 'easter', shift });

function rawDate(rule: DateRule, year: number): string {
  switch (rule.kind) {
    case 'fixed':
      return addDays(ymd(year, rule.month, rule.day), rule.shift ?? 0);
    case 'nth_weekday':
      return addDays(nthWeekday(year, rule.month, rule.weekday, rule.n), rule.shift ?? 0);
    case 'last_weekday':
      return addDays(lastWeekday(year, rule.month, rule.weekday), rule.shift ?? 0);
    case 'easter':
      return addDays(easterSunday(year), rule.shift);
  }
}

/** The rule's date in `year`, or null when the rule does not apply that year. */
export function ruleDate(rule: Rule, year: number): string | null {
  if (rule.from !== undefined && year < rule.from) return null;
  if (rule.until !== undefined && year > rule.until) return null;
  if (rule.exceptYears?.includes(year)) return null;
  const d = rawDate(rule.date, year);
  if (rule.weekdays && !rule.weekdays.includes(weekdayOf(d))) return null;
  return d;
}

function observed(date: string, how: Observance, taken: ReadonlyMap<string, string>): string | null {
  const w = weekdayOf(date);
  switch (how) {
    case 'none':
      return null;
    case 'nearest_weekday':
      return addDays(date, w === SAT ? -1 : 1);
    case 'sunday_to_monday':
      return w === SUN ? addDays(date, 1) : null;
    case 'substitute': {
      let n = dayNumber(date) + 1;
      while (isWeekendDay(n) || taken.has(fromDayNumber(n))) n++;
      return fromDayNumber(n);
    }
  }
}

const closedCache = new WeakMap<HolidayCalendar, Map<number, ReadonlyMap<string, string>>>();

/**
 * The weekdays of `year` on which the calendar is closed, date -> name. Weekends are not listed.
 * Holidays that fall on a weekday take their own date first; weekend holidays are then moved by
 * their observance, in date order, so a substitute day never lands on another holiday.
 */
export function closedDays(cal: HolidayCalendar, year: number): ReadonlyMap<string, string> {
  let byYear = closedCache.get(cal);
  if (!byYear) closedCache.set(cal, (byYear = new Map()));
  const hit = byYear.get(year);
  if (hit) return hit;

  const days = new Map<string, string>();
  const weekend: { date: string; name: string; observe: Observance }[] = [];
  // Observance can move a date across New Year, so the neighbouring years are evaluated too.
  for (const y of [year - 1, year, year + 1]) {
    for (const rule of cal.rules) {
      const d = ruleDate(rule, y);
      if (d === null) continue;
      if (isWeekendDay(dayNumber(d))) weekend.push({ date: d, name: rule.name, observe: rule.observe ?? 'none' });
      else if (!days.has(d)) days.set(d, rule.name);
    }
  }
  for (const o of cal.oneOffs) if (!days.has(o.date)) days.set(o.date, o.name);
  weekend.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  for (const h of weekend) {
    const d = observed(h.date, h.observe, days);
    if (d !== null && !days.has(d)) days.set(d, `${h.name} (${h.observe === 'substitute' ? 'substitute day' : 'observed'})`);
  }

  const prefix = `${String(year).padStart(4, '0')}-`;
  const result = new Map([...days].filter(([d]) => d.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : 1)));
  byYear.set(year, result);
  return result;
}

/** The early closes of `year` (weekdays only), date -> {name, close}. */
const earlyCache = new WeakMap<EarlyCloseCalendar, Map<number, ReadonlyMap<string, { name: string; close: string }>>>();

export function earlyCloseDays(cal: EarlyCloseCalendar, year: number): ReadonlyMap<string, { name: string; close: string }> {
  let byYear = earlyCache.get(cal);
  if (!byYear) earlyCache.set(cal, (byYear = new Map()));
  const hit = byYear.get(year);
  if (hit) return hit;
  const days = new Map<string, { name: string; close: string }>();
  for (const rule of cal.rules) {
    const d = ruleDate(rule, year);
    if (d !== null && !isWeekendDay(dayNumber(d))) days.set(d, { name: rule.name, close: rule.close });
  }
  for (const o of cal.oneOffs) if (o.date.startsWith(`${year}-`)) days.set(o.date, { name: o.name, close: o.close });
  byYear.set(year, days);
  return days;
}
