import { DomainError } from '../kernel/index.js';

/** Error codes of the calendar module (stable: clients switch on them). Dates that are not dates fail with the kernel's DATE_INVALID. */
export const CalendarCodes = {
  MARKET_UNKNOWN: 'CALENDAR_MARKET_UNKNOWN',
  ASSET_CLASS_UNKNOWN: 'CALENDAR_ASSET_CLASS_UNKNOWN',
  DATE_OUT_OF_RANGE: 'CALENDAR_DATE_OUT_OF_RANGE',
  NOT_TRADING_DAY: 'CALENDAR_NOT_TRADING_DAY',
  NO_SETTLEMENT_CYCLE: 'CALENDAR_NO_SETTLEMENT_CYCLE',
  ARGUMENT_INVALID: 'CALENDAR_ARGUMENT_INVALID',
} as const;

/** One of the CalendarCodes. */
export type CalendarCode = (typeof CalendarCodes)[keyof typeof CalendarCodes];

export const calendarError = (code: CalendarCode, message: string, field?: string) =>
  new DomainError(code, 'invalid', message, field ? [{ field, rule: code, message }] : []);
