import { DomainError, type ErrorDetail, type ErrorKind } from '../kernel/index.js';

/** Error codes of netting and settlement obligations (stable: clients switch on them). */
export const SettlementCodes = {
  /** A trade or fail given to netting breaks a rule (side, quantity, gross, date, missing field). */
  NETTING_INPUT_INVALID: 'SETTLEMENT_NETTING_INPUT_INVALID',
  /** Two inputs for one security disagree on its currency. */
  CURRENCY_MISMATCH: 'SETTLEMENT_CURRENCY_MISMATCH',
  /** Two inputs for one security (or currency) disagree on its scale. */
  SCALE_MISMATCH: 'SETTLEMENT_SCALE_MISMATCH',
  /** Recomputing would change (or remove) obligations already past `pending`. */
  OBLIGATION_LOCKED: 'SETTLEMENT_OBLIGATION_LOCKED',
  /** A command-line argument is not usable. */
  ARGUMENT_INVALID: 'SETTLEMENT_ARGUMENT_INVALID',
  /** A split open obligations are to follow is not trading's lot event (or is in other terms). */
  SECURITY_EVENT_UNKNOWN: 'SETTLEMENT_SECURITY_EVENT_UNKNOWN',
} as const;

/** One of the SettlementCodes. */
export type SettlementCode = (typeof SettlementCodes)[keyof typeof SettlementCodes];

/** A settlement error: `invalid` unless told otherwise; `details` name the record, field and rule. */
export const settlementError = (code: SettlementCode, message: string, details: ErrorDetail[] = [], kind: ErrorKind = 'invalid') =>
  new DomainError(code, kind, message, details);
