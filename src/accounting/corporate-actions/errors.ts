import { DomainError, type ErrorDetail, type ErrorKind } from '../../kernel/index.js';

/** Error codes of corporate actions (stable; clients switch on them). */
export const CorporateActionCodes = {
  /** An announcements file with bad rows: nothing of it was written. */
  FILE_INVALID: 'CORPORATE_ACTION_FILE_INVALID',
  /** A withholding-rates file with bad rows: nothing of it was written. */
  RATES_INVALID: 'WITHHOLDING_RATES_INVALID',
  NOT_FOUND: 'CORPORATE_ACTION_NOT_FOUND',
  /** An announcement re-imported with other terms after it was applied. */
  ALREADY_APPLIED: 'CORPORATE_ACTION_ALREADY_APPLIED',
  /** Applied before its pay or effective date (without --force, or when forcing is not allowed). */
  NOT_DUE: 'CORPORATE_ACTION_NOT_DUE',
  /** Something keeps it from being applied (a missing tax rate or cash-in-lieu price...): see details. */
  CANNOT_APPLY: 'CORPORATE_ACTION_CANNOT_APPLY',
} as const;

export const corporateActionError = (code: string, kind: ErrorKind, message: string, details: ErrorDetail[] = []) =>
  new DomainError(code, kind, message, details);

/** A file refused whole: `details` names each row, field and rule. */
export function fileRejected(code: string, what: string, details: ErrorDetail[]): DomainError {
  return new DomainError(code, 'invalid',
    details.length === 1 ? details[0]!.message : `${details.length} problems in the ${what}; nothing was written. First: ${details[0]!.message}`,
    details);
}
