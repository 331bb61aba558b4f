/**
 * How the statement parsers refuse a file: one DomainError (kind `invalid`, code
 * RECON_STATEMENT_REFUSED) whose message names the file, the statement and the element or field,
 * then the rule: `camt.xml: statement S1 (account DE89...): /Document/.../Bal[2]/CdtDbtInd is
 * missing: ...`.
 */
import type { DomainError } from '../../kernel/index.js';
import { ReconCodes, reconError } from '../errors.js';

export interface Where {
  /** The file name as the caller gave it, or "statement file". */
  file: string;
  /** "statement S1 (account X)", "MT940 message 2 (:20: REF)" ... */
  statement?: string | undefined;
  /** XPath-ish element path or MT field (":61: line 3"). */
  path?: string | undefined;
}

/** The error that refuses a whole file. */
export function refuseFile(where: Where, rule: string): DomainError {
  // "…/Bal[2]/CdtDbtInd is missing: …" reads better than "…/CdtDbtInd: is missing: …".
  const sep = where.path && /^(is|has) /.test(rule) ? ' ' : ': ';
  const message = [where.file, where.statement, where.path].filter((x) => x).join(': ') + sep + rule;
  return reconError(ReconCodes.STATEMENT_REFUSED, 'invalid', message, [
    { record: where.statement ?? where.file, ...(where.path ? { field: where.path } : {}), rule, message },
  ]);
}

/** "statement ID (account ACCT)": how checks and errors name a statement. */
export const statementLabel = (id: string, account: string | null): string =>
  account ? `statement ${id} (account ${account})` : `statement ${id}`;
