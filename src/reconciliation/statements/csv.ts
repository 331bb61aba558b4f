/**
 * CSV statements (bank portal exports, custodian cash reports) read with csv-parse through a column
 * mapping. Without a mapping the header must use the default names (DEFAULT_CSV_MAPPING, matched
 * without regard to case): account, currency, booking_date, amount (or credit and debit),
 * and optionally value_date, bank_reference, our_reference, description, balance.
 * The delimiter is the one of ',', ';' and tab that the header line uses most.
 * One statement per account, lines in file order. With a running balance column each line is
 * checked against the one before; opening/closing values in the mapping become the statement's
 * balances (only for a file with one account).
 */
import { createHash } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { currencyScale, format, minor, significantDecimals, SIGNED_RE } from './amounts.js';
import { checkCash } from './check.js';
import { refuseFile, statementLabel } from './errors.js';
import type { CsvMapping, ParsedStatement, StatementBalance, StatementEntry } from './types.js';

/** The header names a CSV without a mapping must use (case does not matter). */
export const DEFAULT_CSV_MAPPING: Readonly<CsvMapping> = Object.freeze({
  account: 'account',
  currency: 'currency',
  date: 'booking_date',
  valueDate: 'value_date',
  amount: 'amount',
  reference: 'bank_reference',
  ourRef: 'our_reference',
  description: 'description',
  balance: 'balance',
  dateFormat: 'YYYY-MM-DD',
  decimalSeparator: '.',
});

const DATE_FORMATS: Record<NonNullable<CsvMapping['dateFormat']>, RegExp> = {
  'YYYY-MM-DD': /^(?<y>\d{4})-(?<m>\d{1,2})-(?<d>\d{1,2})$/,
  'DD/MM/YYYY': /^(?<d>\d{1,2})\/(?<m>\d{1,2})\/(?<y>\d{4})$/,
  'MM/DD/YYYY': /^(?<m>\d{1,2})\/(?<d>\d{1,2})\/(?<y>\d{4})$/,
  'DD.MM.YYYY': /^(?<d>\d{1,2})\.(?<m>\d{1,2})\.(?<y>\d{4})$/,
};

function toIsoDate(text: string, fmt: NonNullable<CsvMapping['dateFormat']>): string | null {
  const m = DATE_FORMATS[fmt].exec(text);
  if (!m?.groups) return null;
  const d = `${m.groups.y}-${m.groups.m!.padStart(2, '0')}-${m.groups.d!.padStart(2, '0')}`;
  const t = new Date(d + 'T00:00:00Z');
  return !Number.isNaN(t.getTime()) && t.toISOString().slice(0, 10) === d ? d : null;
}

/** "1,234.50", "-12.5", "(12.50)", "1.234,50" (with ',' as separator) as a signed decimal string, or null. */
function toDecimal(text: string, sep: '.' | ','): string | null {
  let t = text.replace(/[\s\u00A0']/g, '');
  let neg = false;
  if (/^\(.*\)$/.test(t)) {
    neg = true;
    t = t.slice(1, -1);
  }
  if (t.startsWith('-')) {
    neg = !neg;
    t = t.slice(1);
  } else if (t.startsWith('+')) t = t.slice(1);
  const group = sep === '.' ? ',' : '.';
  const grouped = new RegExp(`^\\d{1,3}(\\${group}\\d{3})+(\\${sep}\\d+)?$`);
  if (grouped.test(t)) t = t.split(group).join('');
  if (sep === ',') t = t.replace(',', '.');
  if (!/^\d+(\.\d+)?$/.test(t)) return null;
  return neg && !/^0*(\.0*)?$/.test(t) ? '-' + t : t;
}

function pickDelimiter(text: string): string {
  const first = text.replace(/^\uFEFF/, '').split(/\r?\n/, 1)[0] ?? '';
  let best = ',';
  let count = -1;
  for (const d of [',', ';', '\t']) {
    const n = first.split(d).length - 1;
    if (n > count) {
      best = d;
      count = n;
    }
  }
  return best;
}

interface Row {
  line: number;
  account: string;
  currency: string;
  entry: StatementEntry;
  balance: string | null;
  raw: string[];
}

/**
 * Parse a CSV statement file.
 * @throws DomainError RECON_STATEMENT_REFUSED: a column missing, a bad date or amount (with its
 *   line), an amount with more decimals than its currency allows, opening/closing values given for
 *   a file with several accounts.
 */
export function parseCsvStatements(text: string, file: string, mapping?: CsvMapping): ParsedStatement[] {
  let records: string[][];
  try {
    records = parse(text, { bom: true, delimiter: pickDelimiter(text), skip_empty_lines: true, trim: true, relax_quotes: false });
  } catch (e) {
    throw refuseFile({ file }, `not a readable CSV: ${(e as Error).message}`);
  }
  const header = records[0];
  if (!header) throw refuseFile({ file }, 'the CSV is empty (no header line)');
  const lower = header.map((h) => h.toLowerCase());
  const explicit = mapping !== undefined;
  const map: CsvMapping = mapping ?? { ...DEFAULT_CSV_MAPPING };
  const col = (name: string | undefined, what: string, required: boolean): number | null => {
    if (name === undefined) return null;
    const i = explicit ? header.indexOf(name) : lower.indexOf(name.toLowerCase());
    const j = i < 0 && explicit ? lower.indexOf(name.toLowerCase()) : i;
    if (j < 0 && (required || explicit)) throw refuseFile({ file, path: 'header' }, `column "${name}" (${what}) is missing; the header has: ${header.join(', ')}`);
    return j < 0 ? null : j;
  };
  const cAccount = map.accountValue !== undefined ? null : col(map.account ?? 'account', 'account', true);
  const cCurrency = map.currencyValue !== undefined ? null : col(map.currency ?? 'currency', 'currency', true);
  const cDate = col(map.date, 'booking date', true)!;
  const cValue = col(map.valueDate, 'value date', false);
  let cAmount: number | null = null;
  let cCredit: number | null = null;
  let cDebit: number | null = null;
  if (explicit ? map.amount !== undefined : lower.includes('amount') || !(lower.includes('credit') && lower.includes('debit'))) {
    cAmount = col(map.amount ?? 'amount', 'signed amount', true);
  } else {
    cCredit = col(map.credit ?? 'credit', 'credit amount', true);
    cDebit = col(map.debit ?? 'debit', 'debit amount', true);
  }
  const cRef = col(map.reference, 'bank reference', false);
  const cOur = col(map.ourRef, 'our reference', false);
  const cDesc = col(map.description, 'description', false);
  const cBal = col(map.balance, 'running balance', false);
  const fmt = map.dateFormat ?? 'YYYY-MM-DD';
  const sep = map.decimalSeparator ?? '.';

  const rows: Row[] = [];
  for (let r = 1; r < records.length; r++) {
    const rec = records[r]!;
    const line = r + 1;
    const at = (c: number, what: string) => ({ file, path: `line ${line}, column ${header[c]} (${what})` });
    const cell = (c: number | null) => (c === null ? '' : (rec[c] ?? ''));
    const account = map.accountValue ?? cell(cAccount);
    if (!account) throw refuseFile(at(cAccount!, 'account'), 'is empty');
    const currency = (map.currencyValue ?? cell(cCurrency)).toUpperCase();
    const scale = currencyScale(currency);
    if (scale === null) throw refuseFile(cCurrency === null ? { file, path: 'mapping currencyValue' } : at(cCurrency, 'currency'), `"${currency}" is not an ISO 4217 currency code`);
    const dec = (c: number, what: string): string | null => {
      const raw = cell(c);
      if (raw === '') return null;
      const v = toDecimal(raw, sep);
      if (v === null) throw refuseFile(at(c, what), `"${raw}" is not an amount (decimal separator '${sep}')`);
      const d = significantDecimals(v);
      if (d > scale) throw refuseFile(at(c, what), `"${raw}" has ${d} decimals; ${currency} allows ${scale} (ISO 4217 minor units)`);
      return v;
    };
    let amount: string;
    if (cAmount !== null) {
      const a = dec(cAmount, 'amount');
      if (a === null) throw refuseFile(at(cAmount, 'amount'), 'is empty');
      amount = a;
    } else {
      const cr = dec(cCredit!, 'credit');
      const db = dec(cDebit!, 'debit');
      const crZero = cr === null || /^-?0*(\.0*)?$/.test(cr);
      const dbZero = db === null || /^-?0*(\.0*)?$/.test(db);
      if (!crZero && !dbZero) throw refuseFile({ file, path: `line ${line}` }, `has both a credit (${cr}) and a debit (${db}); one line is one or the other`);
      if (cr === null && db === null) throw refuseFile({ file, path: `line ${line}` }, 'has neither a credit nor a debit amount');
      amount = !dbZero ? '-' + db!.replace(/^-/, '') : cr!;
    }
    const dateRaw = cell(cDate);
    const bookingDate = toIsoDate(dateRaw, fmt);
    if (!bookingDate) throw refuseFile(at(cDate, 'booking date'), `"${dateRaw}" is not a date in the format ${fmt}`);
    let valueDate: string | null = null;
    if (cValue !== null && cell(cValue) !== '') {
      valueDate = toIsoDate(cell(cValue), fmt);
      if (!valueDate) throw refuseFile(at(cValue, 'value date'), `"${cell(cValue)}" is not a date in the format ${fmt}`);
    }
    const balance = cBal === null ? null : dec(cBal, 'running balance');
    rows.push({
      line,
      account,
      currency,
      balance,
      raw: rec,
      entry: {
        index: 0,
        amount,
        currency,
        bookingDate,
        valueDate: valueDate ?? bookingDate,
        status: 'BOOK',
        servicerRef: cell(cRef) || null,
        ourRef: cell(cOur) || null,
        refs: [],
        transactionCount: 1,
        bankTxCode: null,
        counterpartyName: null,
        remittance: cell(cDesc) || null,
        additionalInfo: null,
      },
    });
  }
  if (rows.length === 0) throw refuseFile({ file }, 'the CSV has a header but no lines');

  const accounts = [...new Set(rows.map((r) => r.account))];
  if (accounts.length > 1 && (map.opening !== undefined || map.closing !== undefined)) {
    throw refuseFile({ file, path: 'mapping opening/closing' }, `opening and closing values apply to one account; the file has ${accounts.length} (${accounts.join(', ')})`);
  }
  return accounts.map((account) => {
    const mine = rows.filter((r) => r.account === account);
    const entries = mine.map((r, i) => ({ ...r.entry, index: i }));
    const dates = entries.map((e) => e.bookingDate!).sort();
    const fromDate = dates[0]!;
    const toDate = dates[dates.length - 1]!;
    const hash = createHash('sha256').update(JSON.stringify(mine.map((r) => r.raw))).digest('hex').slice(0, 12);
    const statementId = `${account}/${fromDate}/${toDate}/${hash}`;
    const currency = mine[0]!.currency;
    const balances: StatementBalance[] = [];
    const valueOf = (text: string, what: string) => {
      const v = toDecimal(text, sep);
      const scale = currencyScale(currency)!;
      if (v === null) throw refuseFile({ file, path: `mapping ${what}` }, `"${text}" is not an amount`);
      if (significantDecimals(v) > scale) throw refuseFile({ file, path: `mapping ${what}` }, `"${text}" has more decimals than ${currency} allows (${scale})`);
      return v;
    };
    let runningCheck: string | null = null;
    if (map.opening !== undefined) balances.push({ type: 'opening', code: 'CSV', amount: valueOf(map.opening, 'opening'), currency, date: fromDate });
    else if (cBal !== null && mine[0]!.balance !== null && mine.every((r) => r.currency === currency)) {
      const scale = currencyScale(currency)!;
      // The balance before the first line is the first line's balance less its amount.
      const before = minor(mine[0]!.balance!, scale) - minor(mine[0]!.entry.amount, scale);
      balances.push({ type: 'opening', code: 'CSV-DERIVED', amount: format(before, scale), currency, date: fromDate });
    }
    if (cBal !== null && mine.every((r) => r.currency === currency)) {
      const scale = currencyScale(currency)!;
      let prev: bigint | null = null;
      for (const r of mine) {
        if (r.balance === null) {
          runningCheck = `${statementLabel(statementId, account)}: line ${r.line} has no running balance`;
          break;
        }
        const b = minor(r.balance, scale);
        const expected: bigint | null = prev === null ? null : prev + minor(r.entry.amount, scale);
        if (expected !== null && expected !== b) {
          runningCheck = `${statementLabel(statementId, account)}: running balance on line ${r.line} is off: expected ${format(expected, scale)} ${currency} (${format(prev!, scale)} plus ${r.entry.amount}), stated ${format(b, scale)} ${currency}`;
          break;
        }
        prev = b;
      }
      const last = mine[mine.length - 1]!.balance;
      if (map.closing === undefined && last !== null) balances.push({ type: 'closing', code: 'CSV', amount: format(minor(last, scale), scale), currency, date: toDate });
    }
    if (map.closing !== undefined) balances.push({ type: 'closing', code: 'CSV', amount: valueOf(map.closing, 'closing'), currency, date: toDate });
    const checked = checkCash({ statementId, account, balances, entries });
    // A line that disagrees with the running balance is the more precise reason (it names the line).
    const failed = runningCheck !== null;
    return {
      kind: 'cash' as const,
      format: 'csv',
      messageId: file,
      statementId,
      sequence: null,
      page: null,
      account,
      servicer: null,
      currency: checked.currency,
      createdAt: null,
      fromDate,
      toDate,
      statementDate: toDate,
      balances,
      entries,
      holdings: [],
      check: failed ? runningCheck! : checked.check,
      refused: failed || checked.refused,
    };
  });
}

/** Signed decimal as the parser keeps it (exported for tests of the amount forms). */
export const csvDecimal = (text: string, sep: '.' | ',' = '.'): string | null => {
  const v = toDecimal(text, sep);
  return v !== null && SIGNED_RE.test(v) ? v : null;
};
