import { invalid } from './errors.js';

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A business date, `YYYY-MM-DD`. Validates that the day exists. */
export function parseDate(text: unknown, what = 'date'): string {
  if (typeof text !== 'string' || !DATE_RE.test(text)) {
    throw invalid('DATE_INVALID', `${what} "${String(text)}" is not a date in the form YYYY-MM-DD`);
  }
  const d = new Date(`${text}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== text) {
    throw invalid('DATE_INVALID', `${what} "${text}" is not a calendar day`);
  }
  return text;
}

/** The business date of an instant in UTC. */
export const dateOf = (at: Date): string => at.toISOString().slice(0, 10);
