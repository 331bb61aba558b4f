import { DomainError, type ErrorDetail, type ErrorKind } from '../kernel/index.js';

/** Error codes of reconciliation (stable: clients switch on them). */
export const ReconCodes = {
  /** The statement file could not be read, or a statement in it was refused. */
  STATEMENT_REFUSED: 'RECON_STATEMENT_REFUSED',
  /** A statement already imported (same account, message type, id and sequence) came again with other content. */
  STATEMENT_CONFLICT: 'RECON_STATEMENT_CONFLICT',
  STATEMENT_NOT_FOUND: 'RECON_STATEMENT_NOT_FOUND',
  /** A statement account no statement names and no link knows. */
  ACCOUNT_UNKNOWN: 'RECON_ACCOUNT_UNKNOWN',
  /** The account is already linked to another ledger account. */
  LINK_CONFLICT: 'RECON_LINK_CONFLICT',
  /** The statement account is not linked to a ledger account yet. */
  NOT_LINKED: 'RECON_NOT_LINKED',
  /** The ledger account (or prefix) of a link does not exist. */
  LEDGER_ACCOUNT_UNKNOWN: 'RECON_LEDGER_ACCOUNT_UNKNOWN',
  /** A matching rule or its parameters are not usable. */
  RULE_INVALID: 'RECON_RULE_INVALID',
  /** An argument (date, amount, tolerance, user) is not usable. */
  ARGUMENT_INVALID: 'RECON_ARGUMENT_INVALID',
  /** A statement amount has more decimals than the linked asset allows. */
  AMOUNT_TOO_PRECISE: 'RECON_AMOUNT_TOO_PRECISE',
  BREAK_NOT_FOUND: 'RECON_BREAK_NOT_FOUND',
  /** The break is already resolved (or otherwise not in a state for this action). */
  BREAK_NOT_OPEN: 'RECON_BREAK_NOT_OPEN',
  ADJUSTMENT_NOT_FOUND: 'RECON_ADJUSTMENT_NOT_FOUND',
  /** The adjustment was already approved, rejected or withdrawn; or one is already pending. */
  ADJUSTMENT_NOT_PENDING: 'RECON_ADJUSTMENT_NOT_PENDING',
  /** Maker-checker: the person who proposed an adjustment may not approve it. */
  SAME_PERSON: 'RECON_ADJUSTMENT_SAME_PERSON',
  /** The person named may not do this (unknown user or role without the permission). */
  NOT_ALLOWED: 'RECON_NOT_ALLOWED',
} as const;

export type ReconCode = (typeof ReconCodes)[keyof typeof ReconCodes];

/** A reconciliation error; `details` name the record, the field and the rule. */
export const reconError = (code: ReconCode, kind: ErrorKind, message: string, details: ErrorDetail[] = []) =>
  new DomainError(code, kind, message, details);
