import { DomainError, type ErrorDetail } from '../kernel/index.js';

/** Error codes of the ledger (stable: clients switch on them). */
export const LedgerCodes = {
  ENTRY_INVALID: 'ENTRY_INVALID',
  ENTRY_UNBALANCED: 'ENTRY_UNBALANCED',
  ACCOUNT_UNKNOWN: 'ACCOUNT_UNKNOWN',
  ASSET_UNKNOWN: 'ASSET_UNKNOWN',
  AMOUNT_TOO_PRECISE: 'AMOUNT_TOO_PRECISE',
  NEGATIVE_BALANCE: 'NEGATIVE_BALANCE',
  PERIOD_CLOSED: 'PERIOD_CLOSED',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
} as const;

/** A batch of entries of which some were refused; `details` names each entry and rule. */
export class EntriesRejected extends DomainError {
  constructor(details: ErrorDetail[], kind: 'invalid' | 'conflict' = 'invalid') {
    const first = details[0]!;
    super(
      details.length === 1 ? first.rule ?? 'ENTRY_INVALID' : 'ENTRIES_REJECTED',
      kind,
      details.length === 1
        ? first.message
        : `${details.length} entries refused; nothing was written. First: ${first.message}`,
      details,
    );
  }
}
