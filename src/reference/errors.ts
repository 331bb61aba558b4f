import { DomainError, type ErrorDetail } from '../kernel/index.js';

/** A reference-data file with bad rows: nothing of it was written; `details` names each row, field and rule. */
export class ReferenceRejected extends DomainError {
  constructor(details: ErrorDetail[]) {
    super(
      details.length === 1 ? details[0]!.rule ?? 'REFERENCE_INVALID' : 'REFERENCE_INVALID',
      'invalid',
      details.length === 1 ? details[0]!.message : `${details.length} rows refused; nothing was written. First: ${details[0]!.message}`,
      details,
    );
  }
}
