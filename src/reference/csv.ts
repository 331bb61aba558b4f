import { parse } from 'csv-parse/sync';
import { invalid, type ErrorDetail } from '../kernel/index.js';

export interface CsvRow {
  /** 1-based line number in the file (the header is line 1). */
  line: number;
  values: Record<string, string>;
}

/**
 * Read a CSV file with a header row. Columns beyond `required` are allowed (and kept).
 * @throws DomainError CSV_INVALID naming the file and the missing columns or the malformed line
 */
export function readCsv(text: string, file: string, required: string[]): CsvRow[] {
  let records: Record<string, string>[];
  try {
    records = parse(text, { columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), skip_empty_lines: true, trim: true, bom: true, comment: '#', relax_column_count: false });
  } catch (e) {
    throw invalid('CSV_INVALID', `${file}: ${(e as Error).message}`);
  }
  const header = text.replace(/^\uFEFF/, '').split(/\r?\n/).find((l) => l.trim() && !l.startsWith('#')) ?? '';
  const cols = header.split(',').map((c) => c.trim().toLowerCase());
  const missing = required.filter((c) => !cols.includes(c));
  if (missing.length) throw invalid('CSV_INVALID', `${file}: missing column(s) ${missing.join(', ')}; expected ${required.join(',')}`);
  // csv-parse does not give line numbers per record with columns; count them from the text.
  const lines = text.split(/\r?\n/);
  const dataLines: number[] = [];
  let headerSeen = false;
  lines.forEach((l, i) => {
    if (!l.trim() || l.startsWith('#')) return;
    if (!headerSeen) { headerSeen = true; return; }
    dataLines.push(i + 1);
  });
  return records.map((values, i) => ({ line: dataLines[i] ?? i + 2, values }));
}

/** Collects per-record errors: "file line N (key): field: rule". */
export class RowErrors {
  readonly details: ErrorDetail[] = [];
  constructor(private readonly file: string) {}
  add(row: CsvRow, key: string, field: string, rule: string, message: string) {
    const record = `${this.file} line ${row.line}${key ? ` (${key})` : ''}`;
    this.details.push({ record, field, rule, message: `${record}: ${field}: ${message}` });
  }
  get any() { return this.details.length > 0; }
}
