import type { BalanceSheet, IncomeStatement, Statement, StatementRow } from './statements.js';

/** The export formats of a statement. */
export const STATEMENT_FORMATS = ['json', 'csv', 'xlsx', 'text'] as const;
export type StatementFormat = (typeof STATEMENT_FORMATS)[number];

/** The CSV columns, in order. */
export const CSV_COLUMNS = ['section', 'kind', 'account', 'label', 'level', 'amount', 'currency', 'native'] as const;

const quote = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const nativeText = (r: StatementRow) => r.native.map((n) => `${n.amount} ${n.asset} (${n.note})`).join('; ');

/**
 * The statement as CSV: a header row, then one row per statement row in order (sections, account
 * tree with subtotals, computed lines, totals; the balance sheet ends with its check row).
 * Amounts are decimal strings in the base currency with the statement's presented sign.
 */
export function statementCsv(s: Statement): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of s.rows) {
    lines.push([r.section, r.kind, r.account ?? '', r.label, String(r.level), r.amount, s.base, nativeText(r)].map(quote).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

/** Title lines of a statement (for XLSX and text). */
export function statementTitle(s: Statement): string[] {
  const head = s.statement === 'balance-sheet'
    ? `Balance sheet as of ${s.asOf}`
    : `Income statement ${(s as IncomeStatement).from} to ${(s as IncomeStatement).to}`;
  return [
    `${head} (${s.base}${s.afterAdjustments ? ', after prior-period adjustments' : ''})`,
    s.rates.length ? `Rates at ${s.statement === 'balance-sheet' ? s.asOf : s.to}: ${s.rates.map((r) => `1 ${r.currency} = ${r.rate} ${s.base} (${r.date})`).join('; ')}` : `All balances in ${s.base}`,
  ];
}

/**
 * A decimal string as an XLSX number cell. Spreadsheet numbers are IEEE doubles: a decimal of 15
 * significant digits or fewer round-trips exactly through one, so it is written as a number
 * (sums work in the sheet); anything longer is written as text rather than altered.
 */
export function xlsxNumber(decimal: string): number | string {
  const digits = decimal.replace(/^-/, '').replace('.', '').replace(/^0+/, '');
  return digits.length <= 15 ? Number(decimal) : decimal;
}

/**
 * The statement as an XLSX workbook (one sheet): title lines, then the rows with the account tree
 * indented, amounts as numbers with two decimals, the native amounts, and the basis and notes
 * below. Columns: Section, Kind, Account, Line, Amount, Currency, Native.
 */
export async function statementXlsx(s: Statement): Promise<Buffer> {
  // Loaded on first use: the CLI and the server start without it.
  const { default: ExcelJS } = await import('exceljs');
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Backoffice';
  const ws = wb.addWorksheet(s.statement === 'balance-sheet' ? 'Balance sheet' : 'Income statement');
  for (const t of statementTitle(s)) ws.addRow([t]).font = { bold: true };
  ws.addRow([]);
  const header = ws.addRow(['Section', 'Kind', 'Account', 'Line', 'Amount', 'Currency', 'Native']);
  header.font = { bold: true };
  const d = decimalsOf(s);
  const fmt = d ? `#,##0.${'0'.repeat(d)}` : '#,##0';
  for (const r of s.rows) {
    const row = ws.addRow([r.section, r.kind, r.account ?? '', r.label, xlsxNumber(r.amount), s.base, nativeText(r)]);
    row.getCell(4).alignment = { indent: r.level };
    row.getCell(5).numFmt = fmt;
    if (r.kind === 'group' || r.kind === 'total' || r.kind === 'check') row.font = { bold: r.kind !== 'group' || r.level === 0 };
  }
  ws.addRow([]);
  for (const line of [...s.basis, ...s.notes, ...s.warnings.map((w) => `Warning: ${w}`)]) ws.addRow([line]);
  ws.getColumn(1).width = 12;
  ws.getColumn(2).width = 10;
  ws.getColumn(3).width = 36;
  ws.getColumn(4).width = 60;
  ws.getColumn(5).width = 18;
  ws.getColumn(6).width = 9;
  ws.getColumn(7).width = 40;
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/** The row index (1-based) of the header row in the XLSX sheet: the data rows follow it. */
export const XLSX_HEADER_ROW = 4;

const decimalsOf = (s: Statement) => (s.rows[0]?.amount.split('.')[1] ?? '').length;

/** The statement for a terminal. */
export function statementText(s: Statement): string {
  const width = Math.max(40, ...s.rows.map((r) => r.level * 2 + r.label.length));
  const amt = Math.max(12, ...s.rows.map((r) => r.amount.length));
  const out = [...statementTitle(s), ''];
  let section = '';
  const headed = new Set<string>();
  for (const r of s.rows) {
    if (r.section !== section) {
      if (section) out.push('');
      section = r.section;
      // A section's heading once: the income statement's net income (an income row) follows the expenses.
      if (!headed.has(section)) out.push(r.section.toUpperCase());
      headed.add(section);
    }
    const label = `${'  '.repeat(r.level)}${r.label}`;
    out.push(`${label.padEnd(width)}  ${r.amount.padStart(amt)}${r.native.length ? `   ${nativeText(r)}` : ''}`);
  }
  if (s.statement === 'balance-sheet') {
    const b = s as BalanceSheet;
    out.push('', b.check.balanced ? `Balanced: assets ${b.totals.assets} = liabilities and equity ${b.totals.liabilitiesAndEquity}` : `NOT BALANCED: difference ${b.check.difference}`);
  }
  for (const n of s.notes) out.push(n);
  for (const w of s.warnings) out.push(`warning: ${w}`);
  return out.join('\n');
}
