/** The kinds of failure every module reports; each maps to one HTTP status and one exit code. */
/** `bad_request`: the request's shape is wrong (HTTP 400); `invalid`: well-formed but breaks a rule (422). */
export type ErrorKind = 'bad_request' | 'invalid' | 'not_found' | 'conflict' | 'forbidden' | 'unauthorized' | 'unexpected_state';

/** One problem inside a larger request: which record, which field, which rule. */
export interface ErrorDetail {
  /** The record it concerns: an entry key, a line number, an id. */
  record?: string;
  field?: string;
  rule?: string;
  message: string;
}

/**
 * The base of every error the domain throws on purpose. `code` is stable (clients switch on it);
 * `message` is for people and names the record, the field and the rule.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    readonly kind: ErrorKind,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const invalid = (code: string, message: string, details: ErrorDetail[] = []) =>
  new DomainError(code, 'invalid', message, details);
export const notFound = (code: string, message: string) => new DomainError(code, 'not_found', message);
export const conflict = (code: string, message: string, details: ErrorDetail[] = []) =>
  new DomainError(code, 'conflict', message, details);
export const forbidden = (code: string, message: string) => new DomainError(code, 'forbidden', message);

const HTTP: Record<ErrorKind, number> = {
  bad_request: 400,
  invalid: 422,
  not_found: 404,
  conflict: 409,
  forbidden: 403,
  unauthorized: 401,
  unexpected_state: 409,
};

/** Exit codes of the CLI by kind of error (documented in the README). 3 is kept for "done, with quarantined records". */
const EXIT: Record<ErrorKind, number> = {
  bad_request: 2,
  invalid: 2,
  not_found: 4,
  conflict: 5,
  forbidden: 6,
  unauthorized: 6,
  unexpected_state: 7,
};

export const httpStatusOf = (e: DomainError): number => HTTP[e.kind];
export const exitCodeOf = (e: unknown): number => (e instanceof DomainError ? EXIT[e.kind] : 1);
