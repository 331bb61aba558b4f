import { describe, it, expect, beforeAll } from 'vitest';
import ExcelJS from 'exceljs';
import { testDb } from '../../../test/db.js';
import { DomainError, fixedClock } from '../../kernel/index.js';
import { openAccount, postEntries, type AccountType } from '../../ledger/index.js';
import { importPrices, importSecurities } from '../../reference/index.js';
import {
  accountEntries, balanceSheet, importFxRates, incomeStatement, revalueFx, statementCsv, statementText, statementXlsx, XLSX_HEADER_ROW,
  type Statement,
} from './index.js';

/**
 * Financial statements of a small firm, every figure worked by hand in the comments: a balance
 * sheet that balances (with a EUR bank account at historical and as-of rates, the firm's own
 * inventory at market, customer securities off the balance sheet), the income statement of the
 * month, the CSV export (exact), the XLSX export (read back with the same library), drill-down.
 */

const clock = fixedClock('2026-02-15T10:00:00.000Z');
const ctx = { actor: 'controller', clock, baseCurrency: 'USD' };
const db = await testDb();
const pool = db.pool;

const CHART: [string, AccountType][] = [
  ['assets:bank:usd', 'asset'], ['assets:bank:eur', 'asset'], ['assets:inventory:AAPL', 'asset'], ['assets:depository:dtc', 'asset'],
  ['assets:street:GSCO', 'asset'], ['customers:C1:cash', 'liability'], ['customers:C1:securities', 'liability'],
  ['liabilities:payable:vendors', 'liability'], ['equity:capital', 'equity'], ['income:commissions', 'income'],
  ['expenses:salaries', 'expense'], ['expenses:rent', 'expense'],
  ['assets:bank:eur-petty', 'asset'], ['income:misc-a', 'income'], ['income:misc-b', 'income'],
];
const entry = (key: string, date: string, legs: [string, string, string][]) => ({ key, date, memo: key, postings: legs.map(([account, asset, amount]) => ({ account, asset, amount })) });
const rowsOf = (s: Statement) => s.rows.map((r) => [r.section, r.kind, r.account, r.level, r.amount]);

beforeAll(async () => {
  await importSecurities(pool, 'symbol,name,isin,cusip,asset_class,currency,mic,scale\nAAPL,Apple Inc.,US0378331005,037833100,equity,USD,XNAS,0\n', 'sec.csv', ctx);
  await importPrices(pool, 'symbol,date,price\nAAPL,2026-01-30,196.40\n', 'prices.csv', ctx);
  await importFxRates(pool, 'date,currency,base_currency,rate\n2026-01-02,EUR,USD,1.10\n2026-01-15,EUR,USD,1.08\n2026-01-31,EUR,USD,1.12\n', 'rates.csv', ctx);
  for (const [name, type] of CHART) await openAccount(pool, { name, type }, ctx);
  await postEntries(pool, [
    entry('e1', '2026-01-02', [['assets:bank:usd', 'USD', '100000.00'], ['equity:capital', 'USD', '-100000.00']]),
    // 10,000.00 EUR at 1.10 = 11,000.00 USD.
    entry('e2', '2026-01-02', [['assets:bank:eur', 'EUR', '10000.00'], ['equity:capital', 'EUR', '-10000.00']]),
    entry('e3', '2026-01-10', [['assets:bank:usd', 'USD', '2500.00'], ['income:commissions', 'USD', '-2500.00']]),
    // 1,000.00 EUR at the 2026-01-15 rate 1.08 = 1,080.00 USD.
    entry('e4', '2026-01-15', [['assets:bank:eur', 'EUR', '1000.00'], ['income:commissions', 'EUR', '-1000.00']]),
    entry('e5', '2026-01-20', [['expenses:salaries', 'USD', '1800.00'], ['assets:bank:usd', 'USD', '-1800.00']]),
    entry('e6', '2026-01-25', [['expenses:rent', 'USD', '700.00'], ['liabilities:payable:vendors', 'USD', '-700.00']]),
    entry('e7', '2026-01-26', [['assets:bank:usd', 'USD', '5000.00'], ['customers:C1:cash', 'USD', '-5000.00']]),
    // The customer buys 10 AAPL: custodial, off the firm's balance sheet; only the cash moves.
    entry('e8', '2026-01-27', [['customers:C1:securities', 'AAPL', '-10'], ['assets:depository:dtc', 'AAPL', '10'], ['customers:C1:cash', 'USD', '1900.00'], ['assets:bank:usd', 'USD', '-1900.00']]),
    // The firm buys 5 AAPL for its own inventory at 190.00: cost 950.00.
    entry('e9', '2026-01-28', [['assets:inventory:AAPL', 'AAPL', '5'], ['assets:street:GSCO', 'AAPL', '-5'], ['assets:inventory:AAPL', 'USD', '950.00'], ['assets:bank:usd', 'USD', '-950.00']]),
  ], ctx);
});

describe('balance sheet', () => {
  it('balances, with subtotals per account level, golden values worked by hand', async () => {
    const bs = await balanceSheet(pool, { asOf: '2026-01-31' }, 'USD');
    // Assets:
    //   assets:bank:usd  100,000 + 2,500 - 1,800 + 5,000 - 1,900 - 950 = 102,850.00
    //   assets:bank:eur  11,000.00 EUR: 10,000 x 1.10 + 1,000 x 1.08 = 12,080.00 at historical rates;
    //                    at the as-of rate 1.12: 12,320.00, so 240.00 of revaluation not booked
    //   assets:inventory:AAPL  cost 950.00; 5 x 196.40 = 982.00 at market: 32.00 not booked
    //   total 102,850 + 12,320 + 982 = 116,152.00
    // Liabilities: customers:C1:cash 5,000 - 1,900 = 3,100.00; payable 700.00; total 3,800.00
    // Equity: capital 100,000 + 10,000 EUR x 1.10 = 111,000.00;
    //   earnings: commissions 2,500 + 1,080 - salaries 1,800 - rent 700 = 1,080.00, plus 240 + 32 not booked = 1,352.00
    //   total 112,352.00; liabilities and equity 116,152.00 = assets.
    expect(rowsOf(bs)).toEqual([
      ['assets', 'group', 'assets', 0, '116152.00'],
      ['assets', 'group', 'assets:bank', 1, '115170.00'],
      ['assets', 'group', 'assets:bank:eur', 2, '12320.00'],
      ['assets', 'account', 'assets:bank:eur', 3, '12080.00'],
      ['assets', 'computed', null, 3, '240.00'],
      ['assets', 'account', 'assets:bank:usd', 2, '102850.00'],
      ['assets', 'group', 'assets:inventory', 1, '982.00'],
      ['assets', 'group', 'assets:inventory:AAPL', 2, '982.00'],
      ['assets', 'account', 'assets:inventory:AAPL', 3, '950.00'],
      ['assets', 'computed', null, 3, '32.00'],
      ['assets', 'total', null, 0, '116152.00'],
      ['liabilities', 'group', 'customers', 0, '3100.00'],
      ['liabilities', 'group', 'customers:C1', 1, '3100.00'],
      ['liabilities', 'account', 'customers:C1:cash', 2, '3100.00'],
      ['liabilities', 'group', 'liabilities', 0, '700.00'],
      ['liabilities', 'group', 'liabilities:payable', 1, '700.00'],
      ['liabilities', 'account', 'liabilities:payable:vendors', 2, '700.00'],
      ['liabilities', 'total', null, 0, '3800.00'],
      ['equity', 'group', 'equity', 0, '111000.00'],
      ['equity', 'account', 'equity:capital', 1, '111000.00'],
      ['equity', 'computed', null, 0, '0.00'],
      ['equity', 'computed', null, 0, '1352.00'],
      ['equity', 'total', null, 0, '112352.00'],
      ['equity', 'total', null, 0, '116152.00'],
      ['check', 'check', null, 0, '0.00'],
    ]);
    expect(bs.totals).toEqual({ assets: '116152.00', liabilities: '3800.00', equity: '112352.00', liabilitiesAndEquity: '116152.00' });
    expect(bs.check).toEqual({ difference: '0.00', balanced: true });
    expect(bs.rates).toEqual([{ currency: 'EUR', rate: '1.12', date: '2026-01-31' }]);
    expect(bs.rows.find((r) => r.account === 'equity:capital')!.native).toEqual([{ asset: 'EUR', amount: '10000.00', note: 'historical rates' }]);
    // The customer's 10 AAPL and where they are held, and the street side of the firm's purchase, are the stock record: off the balance sheet.
    expect(bs.notes).toEqual(['Off balance sheet: the stock record holds 1 security(ies) in 3 account(s) (customer positions in custody and where they are held).']);
    expect(bs.rows.some((r) => r.account?.startsWith('assets:depository') || r.account?.startsWith('customers:C1:securities'))).toBe(false);
  });

  it('shows the revaluation as booked once it is, with the same totals', async () => {
    const run = await revalueFx(pool, '2026-01-31', ctx);
    expect(run).toMatchObject({ posted: 1, gain: '240.00' });
    const bs = await balanceSheet(pool, { asOf: '2026-01-31' }, 'USD');
    expect(bs.totals).toEqual({ assets: '116152.00', liabilities: '3800.00', equity: '112352.00', liabilitiesAndEquity: '116152.00' });
    const eur = bs.rows.filter((r) => r.account?.startsWith('assets:bank:eur'));
    expect(eur.map((r) => [r.kind, r.account, r.amount])).toEqual([
      ['group', 'assets:bank:eur', '12320.00'],
      ['account', 'assets:bank:eur', '12080.00'],
      ['group', 'assets:bank:eur:fx-revaluation', '240.00'],
      ['account', 'assets:bank:eur:fx-revaluation:EUR', '240.00'],
    ]);
    // Only the inventory's 32.00 is not booked now.
    expect(bs.rows.find((r) => r.section === 'equity' && r.label.startsWith('Current-period'))!.label).toBe('Current-period earnings (2026-01-01 to 2026-01-31), of which 32.00 not booked');
  });
});

describe('income statement', () => {
  it('gives the net income of the month, equal to the balance sheet\'s current-period earnings', async () => {
    const is = await incomeStatement(pool, { from: '2026-01-01', to: '2026-01-31' }, 'USD');
    // Income: commissions 2,500 + 1,080 = 3,580.00; fx:unrealized 240.00 (booked); inventory at market 32.00 (not booked).
    // Expenses: salaries 1,800 + rent 700 = 2,500.00. Net income 3,852 - 2,500 = 1,352.00.
    expect(rowsOf(is)).toEqual([
      ['income', 'group', 'income', 0, '3820.00'],
      ['income', 'account', 'income:commissions', 1, '3580.00'],
      ['income', 'group', 'income:fx', 1, '240.00'],
      ['income', 'account', 'income:fx:unrealized', 2, '240.00'],
      ['income', 'computed', null, 0, '32.00'],
      ['income', 'total', null, 0, '3852.00'],
      ['expenses', 'group', 'expenses', 0, '2500.00'],
      ['expenses', 'account', 'expenses:rent', 1, '700.00'],
      ['expenses', 'account', 'expenses:salaries', 1, '1800.00'],
      ['expenses', 'total', null, 0, '2500.00'],
      ['income', 'total', null, 0, '1352.00'],
    ]);
    expect(is.totals).toEqual({ income: '3852.00', expenses: '2500.00', netIncome: '1352.00' });
    const bs = await balanceSheet(pool, { asOf: '2026-01-31' }, 'USD');
    expect(bs.rows.find((r) => r.label.startsWith('Current-period'))!.amount).toBe(is.totals.netIncome);
    // Half a month: e3 (2,500.00) and e4 (1,080.00), no expense yet, no inventory yet; but the EUR account
    // (11,000.00 EUR, 12,080.00 at historical rates) is worth 11,880.00 at the 2026-01-15 rate 1.08: 200.00 of loss not booked.
    const half = await incomeStatement(pool, { from: '2026-01-01', to: '2026-01-15' }, 'USD');
    expect(half.totals).toEqual({ income: '3380.00', expenses: '0.00', netIncome: '3380.00' });
    expect(half.rows.find((r) => r.kind === 'computed')).toMatchObject({ amount: '-200.00' });
    const bad = await incomeStatement(pool, { from: '2026-02-01', to: '2026-01-01' }, 'USD').catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(DomainError);
    expect(bad).toMatchObject({ code: 'ACCOUNTING_ARGUMENT_INVALID', details: [{ field: 'from', rule: 'FROM_BEFORE_TO' }] });
  });
});

describe('exports', () => {
  it('writes the balance sheet as CSV, exactly', async () => {
    const bs = await balanceSheet(pool, { asOf: '2026-01-31' }, 'USD');
    expect(statementCsv(bs)).toBe([
      'section,kind,account,label,level,amount,currency,native',
      'assets,group,assets,assets,0,116152.00,USD,',
      'assets,group,assets:bank,bank,1,115170.00,USD,',
      'assets,group,assets:bank:eur,eur,2,12320.00,USD,',
      'assets,account,assets:bank:eur,eur (own postings),3,12080.00,USD,11000.00 EUR (historical rates; as-of rate 1.12 (2026-01-31))',
      'assets,group,assets:bank:eur:fx-revaluation,fx-revaluation,3,240.00,USD,',
      'assets,account,assets:bank:eur:fx-revaluation:EUR,EUR,4,240.00,USD,',
      'assets,account,assets:bank:usd,usd,2,102850.00,USD,',
      'assets,group,assets:inventory,inventory,1,982.00,USD,',
      'assets,group,assets:inventory:AAPL,AAPL,2,982.00,USD,',
      'assets,account,assets:inventory:AAPL,AAPL (own postings),3,950.00,USD,5 AAPL (at 196.40 USD (2026-01-30))',
      'assets,computed,,"mark to market: 5 AAPL at 196.40 USD (2026-01-30) = 982.00 USD less cost 950.00, not booked",3,32.00,USD,',
      'assets,total,,Total assets,0,116152.00,USD,',
      'liabilities,group,customers,customers,0,3100.00,USD,',
      'liabilities,group,customers:C1,C1,1,3100.00,USD,',
      'liabilities,account,customers:C1:cash,cash,2,3100.00,USD,',
      'liabilities,group,liabilities,liabilities,0,700.00,USD,',
      'liabilities,group,liabilities:payable,payable,1,700.00,USD,',
      'liabilities,account,liabilities:payable:vendors,vendors,2,700.00,USD,',
      'liabilities,total,,Total liabilities,0,3800.00,USD,',
      'equity,group,equity,equity,0,111000.00,USD,',
      'equity,account,equity:capital,capital,1,111000.00,USD,10000.00 EUR (historical rates)',
      'equity,computed,,Retained earnings (through 2025-12-31),0,0.00,USD,',
      'equity,computed,,"Current-period earnings (2026-01-01 to 2026-01-31), of which 32.00 not booked",0,1352.00,USD,',
      'equity,total,,Total equity,0,112352.00,USD,',
      'equity,total,,Total liabilities and equity,0,116152.00,USD,',
      'check,check,,Assets less liabilities and equity (zero when the books balance),0,0.00,USD,',
      '',
    ].join('\r\n'));
  });

  it('writes an XLSX that reads back with the same cells', async () => {
    const bs = await balanceSheet(pool, { asOf: '2026-01-31' }, 'USD');
    const buf = await statementXlsx(bs);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(buf as unknown as ExcelJS.Buffer);
    const ws = wb.getWorksheet('Balance sheet')!;
    expect(ws.getCell('A1').value).toBe('Balance sheet as of 2026-01-31 (USD)');
    expect(ws.getCell('A2').value).toBe('Rates at 2026-01-31: 1 EUR = 1.12 USD (2026-01-31)');
    expect(ws.getRow(XLSX_HEADER_ROW).values).toEqual([undefined, 'Section', 'Kind', 'Account', 'Line', 'Amount', 'Currency', 'Native']);
    bs.rows.forEach((r, i) => {
      const row = ws.getRow(XLSX_HEADER_ROW + 1 + i);
      expect([row.getCell(1).value, row.getCell(2).value, row.getCell(3).value ?? '', row.getCell(4).value]).toEqual([r.section, r.kind, r.account ?? '', r.label]);
      // Numbers in the sheet, the same to the cent as the statement's decimal strings.
      expect(typeof row.getCell(5).value).toBe('number');
      expect((row.getCell(5).value as number).toFixed(2)).toBe(r.amount);
      expect(row.getCell(5).numFmt).toBe('#,##0.00');
      expect(row.getCell(4).alignment?.indent ?? 0).toBe(r.level);
    });
    const total = ws.getRow(XLSX_HEADER_ROW + 1 + bs.rows.findIndex((r) => r.label === 'Total assets'));
    expect(total.getCell(5).value).toBe(116152);
  });

  it('prints the statement for a terminal with the check', async () => {
    const text = statementText(await balanceSheet(pool, { asOf: '2026-01-31' }, 'USD'));
    expect(text).toContain('Balanced: assets 116152.00 = liabilities and equity 116152.00');
    expect(text.split('\n')[0]).toBe('Balance sheet as of 2026-01-31 (USD)');
  });

  it('prints the income statement with each heading once, net income last', async () => {
    const lines = statementText(await incomeStatement(pool, { from: '2026-01-01', to: '2026-01-31' }, 'USD')).split('\n');
    expect(lines.filter((l) => l === 'INCOME')).toHaveLength(1);
    expect(lines.filter((l) => l === 'EXPENSES')).toHaveLength(1);
    expect(lines.findIndex((l) => l.startsWith('Net income'))).toBeGreaterThan(lines.indexOf('EXPENSES'));
    expect(lines[lines.findIndex((l) => l.startsWith('Net income')) - 1]).toBe('');
  });
});

describe('drill-down and rounding', () => {
  it("lists an account's entries in the period with opening and closing balances and base amounts", async () => {
    const d = await accountEntries(pool, 'assets:bank:eur', { from: '2026-01-10', to: '2026-01-31' }, 'USD');
    // Opening: 10,000.00 EUR (11,000.00 USD); in the period: e4 (1,000.00 EUR at 1.08) and the revaluation (240.00 USD).
    expect(d.opening).toEqual([{ account: 'assets:bank:eur', asset: 'EUR', amount: '10000.00', base: '11000.00' }]);
    expect(d.rows.map((r) => [r.date, r.account, r.asset, r.amount, r.base])).toEqual([
      ['2026-01-15', 'assets:bank:eur', 'EUR', '1000.00', '1080.00'],
      ['2026-01-31', 'assets:bank:eur:fx-revaluation:EUR', 'USD', '240.00', '240.00'],
    ]);
    expect(d.closing).toEqual([
      { account: 'assets:bank:eur', asset: 'EUR', amount: '11000.00', base: '12080.00' },
      { account: 'assets:bank:eur:fx-revaluation:EUR', asset: 'USD', amount: '240.00', base: '240.00' },
    ]);
    expect(d.truncated).toBe(false);
    const inv = await accountEntries(pool, 'assets:inventory:AAPL', { from: '2026-01-01', to: '2026-01-31' }, 'USD');
    expect(inv.rows.map((r) => [r.asset, r.amount, r.base])).toEqual([['AAPL', '5', null], ['USD', '950.00', '950.00']]);
  });

  it('shows the rounding that translating each account separately leaves, and still balances', async () => {
    // 1.00 EUR split 0.33 / 0.67 at 1.015: 1.015 -> 1.02 (half-even), -0.33495 -> -0.33, -0.68005 -> -0.68.
    // The rounded accounts sum to +0.01 USD, while the exact amounts sum to zero: rounding -0.01 (natural), shown in equity.
    await importFxRates(pool, 'date,currency,base_currency,rate\n2026-02-05,EUR,USD,1.015\n', 'r.csv', ctx);
    await postEntries(pool, [entry('split', '2026-02-05', [['assets:bank:eur-petty', 'EUR', '1.00'], ['income:misc-a', 'EUR', '-0.33'], ['income:misc-b', 'EUR', '-0.67']])], ctx);
    const bs = await balanceSheet(pool, { asOf: '2026-02-05' }, 'USD');
    const rounding = bs.rows.find((r) => r.label === 'FX translation rounding');
    expect(rounding?.amount).toBe('0.01');
    expect(bs.check).toEqual({ difference: '0.00', balanced: true });
    // Without that line the check would be off by exactly the rounding.
    const petty = bs.rows.find((r) => r.account === 'assets:bank:eur-petty' && r.kind === 'account');
    expect(petty?.amount).toBe('1.02');
  });
});
