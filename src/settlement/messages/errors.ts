import { DomainError, type ErrorDetail } from '../../kernel/index.js';

/**
 * Error codes of settlement messages (stable: clients switch on them). Kept beside the message
 * code until settlement/errors.ts takes them in.
 */
export const MessageCodes = {
  /** An obligation cannot be written as an instruction (bad ISIN, BIC, amount, date...). */
  INSTRUCTION_INVALID: 'SETTLEMENT_INSTRUCTION_INVALID',
  /** A status file (sese.024/025, MT544-548, CSV) breaks a rule of its format. */
  STATUS_INVALID: 'SETTLEMENT_STATUS_INVALID',
  /** A well-formed message this module does not turn into a status (e.g. MT548 CAST, a reversal). */
  STATUS_UNSUPPORTED: 'SETTLEMENT_STATUS_UNSUPPORTED',
  /** What we wrote failed our own validator: a bug here, never the caller's input. */
  MESSAGE_SELF_CHECK: 'SETTLEMENT_MESSAGE_SELF_CHECK',
} as const;

/** One of the MessageCodes. */
export type MessageCode = (typeof MessageCodes)[keyof typeof MessageCodes];

/** A message error, `invalid` unless it is our own bug; `details` name the record, field and rule. */
export const messageError = (code: MessageCode, message: string, details: ErrorDetail[] = []) =>
  new DomainError(code, code === MessageCodes.MESSAGE_SELF_CHECK ? 'unexpected_state' : 'invalid', message, details);

/**
 * Throw one error for many problems: the first one's message plus a count, every one in `details`.
 * Nothing is half-done: callers throw before returning anything.
 */
export function throwAll(code: MessageCode, details: ErrorDetail[], what: string): never {
  const first = details[0]!;
  throw messageError(
    code,
    details.length === 1 ? first.message : `${details.length} problems in ${what}. First: ${first.message}`,
    details,
  );
}
