import { DomainError, type ErrorDetail, type ErrorKind } from '../../kernel/index.js';

/** Error codes of the accounting close, FX and statements (stable: clients switch on them). */
export const CloseCodes = {
  /** A period is not `YYYY-MM` with a month from 01 to 12. */
  PERIOD_INVALID: 'CLOSE_PERIOD_INVALID',
  /** The month has not ended yet (by the clock). */
  PERIOD_NOT_ENDED: 'CLOSE_PERIOD_NOT_ENDED',
  /** An earlier month is still open: months are closed in order. */
  PERIOD_OUT_OF_ORDER: 'CLOSE_PERIOD_OUT_OF_ORDER',
  /** A check before closing failed (trial balance, audit trail, stored balances). */
  CHECK_FAILED: 'CLOSE_CHECK_FAILED',
  /** An adjustment names a period that is still open (post the entry directly). */
  PERIOD_OPEN: 'CLOSE_PERIOD_OPEN',
  /** A date or period lies in the closed books where it must not. */
  PERIOD_CLOSED: 'CLOSE_PERIOD_CLOSED',
  /** An adjustment's fields break a rule (memo, date, postings). */
  ADJUSTMENT_INVALID: 'CLOSE_ADJUSTMENT_INVALID',
  ADJUSTMENT_NOT_FOUND: 'CLOSE_ADJUSTMENT_NOT_FOUND',
  /** The adjustment was already approved or rejected. */
  ADJUSTMENT_DECIDED: 'CLOSE_ADJUSTMENT_DECIDED',
  /** The proposer tried to approve their own adjustment. */
  SELF_APPROVAL: 'CLOSE_SELF_APPROVAL',
  /** The user's role does not hold accounting.approve. */
  NOT_AN_APPROVER: 'CLOSE_NOT_AN_APPROVER',
  /** The acting user's role does not hold the permission the action needs (e.g. accounting.close). */
  NOT_ALLOWED: 'ACCOUNTING_NOT_ALLOWED',
  /** A rates file is malformed or a row breaks a rule; nothing was imported. */
  FX_RATES_INVALID: 'FX_RATES_INVALID',
  /** A rate already used (closed period or booked revaluation) would change. */
  FX_RATE_LOCKED: 'FX_RATE_LOCKED',
  /** No rate on or before a date for a currency the books hold. */
  FX_RATE_MISSING: 'FX_RATE_MISSING',
  /** A command-line or request argument is not usable. */
  ARGUMENT_INVALID: 'ACCOUNTING_ARGUMENT_INVALID',
} as const;

/** One of the CloseCodes. */
export type CloseCode = (typeof CloseCodes)[keyof typeof CloseCodes];

/** An accounting-close error: `invalid` unless told otherwise; `details` name the record, field and rule. */
export const closeError = (code: CloseCode, message: string, details: ErrorDetail[] = [], kind: ErrorKind = 'invalid') =>
  new DomainError(code, kind, message, details);
