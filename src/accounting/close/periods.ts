import { parseDate } from '../../kernel/index.js';
import { CloseCodes as C, closeError } from './errors.js';

/** A calendar month of the books. */
export interface Period {
  /** `YYYY-MM` */
  period: string;
  /** First day, `YYYY-MM-DD`. */
  start: string;
  /** Last day, `YYYY-MM-DD`. */
  end: string;
}

const PERIOD_RE = /^(\d{4})-(\d{2})$/;

/**
 * Parse `YYYY-MM` into the month's first and last day.
 * @throws DomainError CLOSE_PERIOD_INVALID naming the text and the rule
 */
export function parsePeriod(text: unknown, what = 'period'): Period {
  const m = typeof text === 'string' ? PERIOD_RE.exec(text) : null;
  if (!m) {
    throw closeError(C.PERIOD_INVALID, `${what} "${String(text)}" is not a month in the form YYYY-MM`,
      [{ record: String(text), field: what, rule: 'YYYY-MM', message: `${what} "${String(text)}" is not a month in the form YYYY-MM` }]);
  }
  const year = Number(m[1]);
  const month = Number(m[2]);
  if (month < 1 || month > 12 || year < 1900) {
    const msg = `${what} "${text}": month ${m[2]} does not exist (01 to 12)`;
    throw closeError(C.PERIOD_INVALID, msg, [{ record: String(text), field: what, rule: 'MONTH_1_TO_12', message: msg }]);
  }
  return { period: text as string, start: `${text}-01`, end: monthEnd(text as string) };
}

/** The last day of a `YYYY-MM` month. */
function monthEnd(period: string): string {
  const [y, m] = period.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
}

/** The month a date falls in. */
export const periodOf = (date: string): Period => parsePeriod(parseDate(date).slice(0, 7));

/** The day after (or `n` days after) a date. */
export function addDays(date: string, n: number): string {
  const d = new Date(`${parseDate(date)}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** The month before. */
export function previousPeriod(p: Period): Period {
  return periodOf(addDays(p.start, -1));
}

/** The month after. */
export function nextPeriod(p: Period): Period {
  return periodOf(addDays(p.end, 1));
}
