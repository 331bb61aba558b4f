/**
 * Statements in: bank and custodian files parsed into ParsedStatement[] (types.ts), pure (no
 * database, no I/O). Formats are detected from the content:
 * - ISO 20022 camt.052 / camt.053 / camt.054, versions 001.02 to 001.13 (cash);
 * - ISO 20022 semt.002, versions 001.03 to 001.11 (holdings);
 * - SWIFT MT940 / MT950 (cash) and MT535 (holdings), with or without the FIN envelope;
 * - CSV with a column mapping, or the default header names (DEFAULT_CSV_MAPPING).
 *
 * Every statement carries its own arithmetic check (`check`, `refused`): one currency, opening +
 * booked entries = closing (holdings: values add up to the stated total). A statement that
 * contradicts itself is returned refused, with the reason; a file that cannot be read at all is
 * refused whole with a DomainError (code RECON_STATEMENT_REFUSED, kind invalid) naming the file,
 * the statement and the element or field.
 */
import { chainStatements } from './check.js';
import { parseCsvStatements } from './csv.js';
import { detectFormat } from './detect.js';
import { refuseFile } from './errors.js';
import { parseIsoStatements } from './iso20022.js';
import { parseMt535 } from './mt535.js';
import { parseMt940 } from './mt940.js';
import type { CsvMapping, ParsedStatement } from './types.js';

export type {
  CsvMapping, HoldingLine, ParsedStatement, StatementBalance, StatementEntry, StatementFormat, StatementKind,
} from './types.js';
export { detectFormat, type DetectedFormat } from './detect.js';
export { generateCamt053, type GenerateCamt053Options } from './generate.js';
export { chainStatements, closingOf, openingOf, type ChainLink } from './check.js';
export { DEFAULT_CSV_MAPPING } from './csv.js';

export interface ParseStatementOptions {
  /** Named in every error message (the file is never opened: the caller passes its text). */
  fileName?: string;
  /** Column mapping for CSV files; without it the default header names are expected. */
  csvMapping?: CsvMapping;
}

/**
 * Parse a bank or custodian statement file (its text) into its statements, in file order.
 * Each statement is checked (see `check` and `refused`); a statement that follows another one of
 * the same account and currency in the file also gets `chain` (its opening against the previous
 * closing).
 * @throws DomainError RECON_STATEMENT_REFUSED (kind invalid): the format is not recognised;
 *   malformed XML; an unknown ISO 20022 namespace or version; a missing required element or field;
 *   a balance or entry without a credit/debit indicator; an amount with more decimals than its
 *   currency's ISO 4217 minor units; a bad date or amount.
 */
export function parseStatementFile(text: string, opts: ParseStatementOptions = {}): ParsedStatement[] {
  const file = opts.fileName ?? 'statement file';
  const detected = detectFormat(text);
  let statements: ParsedStatement[];
  switch (detected.syntax) {
    case 'xml':
      // Also when the namespace is unknown: the reader says whether the XML is well-formed first.
      statements = parseIsoStatements(text, file);
      break;
    case 'swift':
      if (detected.format === 'mt535') statements = parseMt535(text, file);
      else if (detected.format === 'mt940' || detected.format === 'mt950') statements = parseMt940(text, file);
      else throw refuseFile({ file }, detected.reason ?? 'not a SWIFT statement this reads');
      break;
    case 'csv':
      statements = parseCsvStatements(text, file, opts.csvMapping);
      break;
    default:
      if (opts.csvMapping) {
        statements = parseCsvStatements(text, file, opts.csvMapping);
        break;
      }
      throw refuseFile({ file }, `format not recognised: ${detected.reason}`);
  }
  for (const link of chainStatements(statements)) statements[link.index]!.chain = link.message;
  return statements;
}
