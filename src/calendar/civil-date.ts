/**
 * Arithmetic on `YYYY-MM-DD` civil dates through day numbers (days since 1970-01-01, UTC).
 * Callers validate the text first (kernel parseDate); these functions trust it.
 */

export const SUN = 0, MON = 1, TUE = 2, WED = 3, THU = 4, FRI = 5, SAT = 6;
/** 0 = Sunday ... 6 = Saturday, as `Date.getUTCDay()`. */
export type Weekday = 0 | 1 | 2 | 3 | 4 | 5 | 6;

const MS_PER_DAY = 86_400_000;

export const dayNumber = (date: string): number =>
  Date.UTC(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10))) / MS_PER_DAY;

export const fromDayNumber = (n: number): string => new Date(n * MS_PER_DAY).toISOString().slice(0, 10);

export const ymd = (year: number, month: number, day: number): string =>
  `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;

export const weekdayOfDay = (n: number): Weekday => (((n + 4) % 7) + 7) % 7 as Weekday; // 1970-01-01 was a Thursday
export const weekdayOf = (date: string): Weekday => weekdayOfDay(dayNumber(date));
export const isWeekendDay = (n: number): boolean => {
  const w = weekdayOfDay(n);
  return w === SAT || w === SUN;
};

export const addDays = (date: string, days: number): string => fromDayNumber(dayNumber(date) + days);

const daysInMonth = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** The `n`th (1-based) given weekday of a month, e.g. the third Monday of January. */
export function nthWeekday(year: number, month: number, weekday: Weekday, n: number): string {
  const first = dayNumber(ymd(year, month, 1));
  const delta = (weekday - weekdayOfDay(first) + 7) % 7;
  return fromDayNumber(first + delta + 7 * (n - 1));
}

/** The last given weekday of a month, e.g. the last Monday of May. */
export function lastWeekday(year: number, month: number, weekday: Weekday): string {
  const last = dayNumber(ymd(year, month, daysInMonth(year, month)));
  return fromDayNumber(last - ((weekdayOfDay(last) - weekday + 7) % 7));
}

/** Western (Gregorian) Easter Sunday: the anonymous Gregorian algorithm (Meeus/Jones/Butcher). */
export function easterSunday(year: number): string {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return ymd(year, month, day);
}
