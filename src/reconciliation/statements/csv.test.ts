import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../kernel/index.js';
import { csvDecimal } from './csv.js';
import { DEFAULT_CSV_MAPPING, detectFormat, parseStatementFile, type CsvMapping } from './index.js';

const read = (f: string) => readFileSync(new URL(`../../../test/fixtures/iso20022/${f}`, import.meta.url), 'utf8');

function refusal(text: string, csvMapping?: CsvMapping): string {
  try {
    parseStatementFile(text, { fileName: 'cash.csv', ...(csvMapping ? { csvMapping } : {}) });
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    return (e as Error).message;
  }
  throw new Error('the file was accepted');
}

describe('CSV in the default header names', () => {
  const text = read('ours_bank_export.csv');
  const [st] = parseStatementFile(text, { fileName: 'bank_export.csv' });

  it('is detected and read: ";" separated, quoted fields, thousands separators', () => {
    expect(detectFormat(text).format).toBe('csv');
    expect(DEFAULT_CSV_MAPPING).toMatchObject({ account: 'account', currency: 'currency', date: 'booking_date', amount: 'amount' });
    expect(st).toMatchObject({ format: 'csv', account: 'DE89370400440532013000', currency: 'EUR', fromDate: '2024-03-01', toDate: '2024-03-04', messageId: 'bank_export.csv' });
    expect(st!.entries.map((e) => [e.amount, e.bookingDate, e.valueDate, e.servicerRef, e.ourRef, e.remittance])).toEqual([
      ['2500.00', '2024-03-01', '2024-03-01', 'BANK-0001', 'INV-2024-0113', 'Muster GmbH invoice 2024-0113'],
      ['-1200.50', '2024-03-01', '2024-03-01', 'BANK-0002', 'PAY-7781', 'ACME Supplies BV invoice 4471'],
      ['-35.20', '2024-03-04', '2024-03-04', 'BANK-0003', null, 'Account maintenance fee'],
      ['1000.00', '2024-03-04', '2024-03-05', 'BANK-0004', 'TR-55120', 'Settlement proceeds; trade TR-55120'],
    ]);
  });

  it('checks every line against the running balance', () => {
    expect(st!.balances).toEqual([
      { type: 'opening', code: 'CSV-DERIVED', amount: '12500.00', currency: 'EUR', date: '2024-03-01' },
      { type: 'closing', code: 'CSV', amount: '14764.30', currency: 'EUR', date: '2024-03-04' },
    ]);
    expect(st!.check).toBe('ok');
    const [off] = parseStatementFile(text.replace(';13764.30', ';13764.40'));
    expect(off!.refused).toBe(true);
    expect(off!.check).toBe(
      `statement ${off!.statementId} (account DE89370400440532013000): running balance on line 4 is off: expected 13764.30 EUR (13799.50 plus -35.20), stated 13764.40 EUR`,
    );
  });

  it('the statement id is the same for the same file, and another for other content', () => {
    expect(parseStatementFile(text)[0]!.statementId).toBe(st!.statementId);
    expect(parseStatementFile(text.replace('invoice 4471', 'invoice 4472'))[0]!.statementId).not.toBe(st!.statementId);
  });

  it('refuses a missing column, a bad amount, a bad date and too many decimals, naming the line', () => {
    expect(refusal(text.replace('booking_date', 'booked'))).toBe(
      'cash.csv: header: column "booking_date" (booking date) is missing; the header has: account, currency, booked, value_date, amount, bank_reference, our_reference, description, balance',
    );
    expect(refusal(text.replace('-1200.50', '-12x0.50'))).toBe('cash.csv: line 3, column amount (amount): "-12x0.50" is not an amount (decimal separator \'.\')');
    expect(refusal(text.replace('2024-03-04;2024-03-04', '2024-02-30;2024-03-04'))).toBe('cash.csv: line 4, column booking_date (booking date): "2024-02-30" is not a date in the format YYYY-MM-DD');
    expect(refusal(text.replace('-35.20', '-35.205'))).toBe('cash.csv: line 4, column amount (amount): "-35.205" has 3 decimals; EUR allows 2 (ISO 4217 minor units)');
  });

  it('two currencies on one account refuse the statement', () => {
    const [mixed] = parseStatementFile(text.replace('DE89370400440532013000;EUR;2024-03-04;2024-03-04;-35.20', 'DE89370400440532013000;USD;2024-03-04;2024-03-04;-35.20'));
    expect(mixed!.refused).toBe(true);
    expect(mixed!.check).toBe(`statement ${mixed!.statementId} (account DE89370400440532013000) mixes currencies: entries in EUR (3 entries), USD (1 entry); a statement must be in one currency`);
  });
});

describe('CSV with a column mapping', () => {
  const text = read('ours_custodian_cash.csv');
  const mapping: CsvMapping = {
    account: 'Account No',
    currency: 'Ccy',
    date: 'Posting Date',
    valueDate: 'Value Date',
    credit: 'Credit',
    debit: 'Debit',
    reference: 'Txn Ref',
    ourRef: 'Client Ref',
    description: 'Narrative',
    dateFormat: 'MM/DD/YYYY',
    opening: '1,000,000.00',
    closing: '1129515.50',
  };

  it('reads credit and debit columns, US dates, and checks opening + lines = closing', () => {
    const [st] = parseStatementFile(text, { fileName: 'custodian.csv', csvMapping: mapping });
    expect(st!.entries.map((e) => [e.amount, e.bookingDate, e.valueDate, e.servicerRef, e.ourRef])).toEqual([
      ['250000.00', '2024-03-01', '2024-03-01', 'FED-881', 'TR-9001'],
      ['-120500.25', '2024-03-01', '2024-03-04', 'FED-882', 'TR-9002'],
      ['15.75', '2024-03-04', '2024-03-04', 'INT-03', null],
    ]);
    expect(st!.balances.map((b) => [b.type, b.amount, b.date])).toEqual([
      ['opening', '1000000.00', '2024-03-01'],
      ['closing', '1129515.50', '2024-03-04'],
    ]);
    expect(st!.check).toBe('ok');
    const [off] = parseStatementFile(text, { csvMapping: { ...mapping, closing: '1129515.00' } });
    expect(off!.check).toBe(
      `statement ${off!.statementId} (account US-CASH-7781): closing balance CSV of 2024-03-04 is off: expected 1129515.50 USD (opening CSV 1000000.00 plus 3 booked entries 129515.50), stated 1129515.00 USD`,
    );
  });

  it('a mapped column that is not there is refused', () => {
    expect(refusal(text, { ...mapping, reference: 'Bank Ref' })).toBe(
      'cash.csv: header: column "Bank Ref" (bank reference) is missing; the header has: Posting Date, Value Date, Account No, Ccy, Credit, Debit, Txn Ref, Client Ref, Narrative',
    );
  });

  it('fixed account and currency values; without balances the statement is not checkable', () => {
    const csv = 'Date;Amount;Text\n01.03.2024;1.234,56;Incoming\n02.03.2024;-34,56;Fee\n';
    const [st] = parseStatementFile(csv, { csvMapping: { accountValue: 'CH93 0076 2011 6238 5295 7', currencyValue: 'CHF', date: 'Date', amount: 'Amount', description: 'Text', dateFormat: 'DD.MM.YYYY', decimalSeparator: ',' } });
    expect(st).toMatchObject({ account: 'CH93 0076 2011 6238 5295 7', currency: 'CHF', check: 'not checkable: no balances', refused: false });
    expect(st!.entries.map((e) => [e.amount, e.bookingDate])).toEqual([['1234.56', '2024-03-01'], ['-34.56', '2024-03-02']]);
  });

  it('amount forms', () => {
    expect([csvDecimal('(12.50)'), csvDecimal('+7'), csvDecimal('1,234,567.8'), csvDecimal('1.234,5', ','), csvDecimal('12,5', ','), csvDecimal('1,2,3')]).toEqual(['-12.50', '7', '1234567.8', '1234.5', '12.5', null]);
  });
});
