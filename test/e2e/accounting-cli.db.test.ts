import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { testDb } from '../db.js';

// Issue #5 end to end, as a newcomer runs it from the README: corporate actions on positions
// made by importing trades, the month-end close with FX revaluation, a prior-period adjustment
// and the statements, and bank statements into reconciliation. Only the real `bin/backoffice`
// is run, against this file's own database (DATABASE_URL). Every expected figure is worked out
// by hand in the comments from the fixtures in test/fixtures/e2e-accounting/.
const db = await testDb();
const BIN = path.resolve('bin/backoffice');
const FX = (name: string) => path.resolve('test/fixtures/e2e-accounting', name);
const ISO = (name: string) => path.resolve('test/fixtures/iso20022', name);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bo-acct-cli-'));

function run(args: string[], input?: string) {
  const r = spawnSync(BIN, args, { env: { ...process.env, DATABASE_URL: db.url }, encoding: 'utf8', input });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const ok = (args: string[], input?: string) => {
  const r = run(args, input);
  expect(r.err + r.out, `backoffice ${args.join(' ')}`).not.toMatch(/^error:/m);
  expect(r.code, `backoffice ${args.join(' ')}: ${r.err}`).toBe(0);
  return r.out;
};
const json = (args: string[]) => JSON.parse(ok([...args, '--json']));
/** A refused command: its exit code and the `--json` error on standard error. */
const refused = (args: string[]) => {
  const r = run([...args, '--json']);
  let error: { code: string; kind: string; message: string; details: { record: string; field: string; rule: string; message: string }[] } | undefined;
  try { error = JSON.parse(r.err).error; } catch { error = undefined; }
  return { code: r.code, error, out: r.out, err: r.err };
};
const file = (name: string, text: string) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
};
type Balance = { account: string; asset: string; balance: string };
const balances = (...args: string[]): Balance[] => json(['ledger', 'balances', ...args]);
const balanceOf = (rows: Balance[], account: string, asset: string) => rows.find((b) => b.account === account && b.asset === asset)?.balance;
/** A USD amount (two decimals, as the ledger prints it) in cents. */
const cents = (v: string | undefined) => (v === undefined ? 0n : BigInt(v.replace('.', '')));
type Position = { account: string; security: string; quantity: string; costBasis: string | null };
const positions = (): Position[] => (json(['positions']) as Position[]).map(({ account, security, quantity, costBasis }) => ({ account, security, quantity, costBasis }));

// Each step starts the real program (a Node process compiling TypeScript): a step takes a second or
// two on a quiet machine and several times that on a busy one, so the tests get five minutes each.
describe('issue #5 through the backoffice CLI', { timeout: 300_000 }, () => {
  it('seeds a firm from reference data files, trades and their settlement', () => {
    for (const kind of ['securities', 'accounts', 'counterparties', 'fees']) {
      expect(json(['reference', 'import', kind, FX(`${kind}.csv`)])).toMatchObject({ unchanged: 0, updated: 0 });
    }
    for (const [name, type] of [['assets:bank:operating:usd', 'asset'], ['assets:bank:operating:eur', 'asset'], ['assets:bank:reserve:usd', 'asset'],
      ['equity:capital', 'equity'], ['expenses:clearing-fees', 'expense'], ['income:bank-interest', 'income']]) {
      ok(['ledger', 'open', name!, '--type', type!]);
    }
    expect(json(['ledger', 'post', '--file', FX('opening-entries.json')])).toEqual({ received: 6, posted: 6, duplicates: 0 });
    for (const [name, role] of [['fin1', 'finance'], ['fin2', 'finance'], ['ops1', 'operations']]) {
      ok(['user', 'add', name!, '--role', role!, '--password-stdin'], 'a-long-enough-password\n');
    }

    expect(json(['trades', 'import', FX('executions.csv')])).toMatchObject({ received: 6, booked: 6, quarantined: [] });
    // Buys only, 0.005 a share with a 1.00 minimum: only the 300 AAPL pay more (1.50).
    expect(positions()).toEqual([
      { account: 'C1001', security: 'AAPL', quantity: '100', costBasis: '19001.00' }, // 100 x 190 + 1.00
      { account: 'C1001', security: 'MSFT', quantity: '101', costBasis: '40401.00' }, // 101 x 400 + 1.00
      { account: 'C1002', security: 'AAPL', quantity: '300', costBasis: '57001.50' }, // 300 x 190 + 1.50
      { account: 'C1002', security: 'MSFT', quantity: '101', costBasis: '41922.00' }, // 50 x 410 + 1.00, 51 x 420 + 1.00
      { account: 'C1003', security: 'AAPL', quantity: '7', costBasis: '1331.00' }, // 7 x 190 + 1.00
    ]);

    // Settle what was due on 2026-02-03 (the AAPL buys and C1001's MSFT); C1002's MSFT stays on
    // the street (GSCO still owes it).
    const net = json(['settlement', 'net', '--settle-date', '2026-02-03']);
    expect(net.obligations.map((o: { security: string; quantity: string; cash: string }) => [o.security, o.quantity, o.cash]))
      .toEqual([['AAPL', '407', '-77330.00'], ['MSFT', '101', '-40400.00']]);
    const out = fs.mkdtempSync(path.join(dir, 'instructions-'));
    const ins = json(['settlement', 'instruct', '--settle-date', '2026-02-03', '--format', 'sese023', '--out', out, '--our-bic', 'OURBUS33', '--safekeeping-account', '123456']);
    expect(ins.instructed).toHaveLength(2);
    const ref = (i: number) => ins.instructed[i].reference as string;
    const st = file('statuses.csv', `reference,status,settled_quantity,settled_amount,settle_date,reason\n${ref(0)},settled,407,77330.00,2026-02-03,\n${ref(1)},settled,101,40400.00,2026-02-03,\n`);
    expect(json(['settlement', 'status', 'import', st]).applied).toHaveLength(2);
    const b = balances();
    expect(balanceOf(b, 'assets:depository:dtc', 'AAPL')).toBe('407');
    expect(balanceOf(b, 'assets:depository:dtc', 'MSFT')).toBe('101');
    expect(balanceOf(b, 'assets:street:GSCO', 'MSFT')).toBe('101');
    expect(balanceOf(b, 'assets:street:GSCO', 'USD')).toBe('-41920.00'); // 50 x 410 + 51 x 420
  });

  it('refuses a bad announcements file whole, naming the row, field and rule', () => {
    ok(['corporate-actions', 'withholding-rates', 'import', FX('withholding-rates.csv')]);
    const r = refused(['corporate-actions', 'import', FX('bad-announcements.csv')]);
    expect(r.code).toBe(2);
    expect(r.error!.kind).toBe('invalid');
    expect(r.error!.details).toContainEqual(expect.objectContaining({ field: 'pay_date', rule: 'DATE_ORDER' }));
    expect(r.error!.details.find((d) => d.rule === 'DATE_ORDER')!.record).toMatch(/line 3 \(DIV-BAD\)/);
    // The good row of the same file was not stored either.
    expect(json(['corporate-actions', 'list'])).toEqual([]);
  });

  it('previews and pays a cash dividend once, with withholding for non-residents', () => {
    expect(json(['corporate-actions', 'import', FX('dividend.csv')])).toMatchObject({ received: 1, created: 1 });
    expect(json(['corporate-actions', 'import', FX('dividend.csv')])).toMatchObject({ received: 1, created: 0, updated: 0, unchanged: 1 });
    expect(json(['corporate-actions', 'list', '--kind', 'cash_dividend'])).toMatchObject([{ id: 'DIV-AAPL-2026Q1', status: 'announced', dueDate: '2026-03-12' }]);

    const p = json(['corporate-actions', 'preview', 'DIV-AAPL-2026Q1']);
    expect(p).toMatchObject({ positionsAsOf: '2026-03-09', basis: 'settlement', due: true, applied: false, problems: [] });
    // 0.2575 a share, gross rounded down per account, tax half up:
    //   C1001 US 100 -> 25.75, nothing withheld
    //   C1002 GB 300 -> 77.25, 15% = 11.5875 -> 11.59, net 65.66
    //   C1003 JP   7 ->  1.8025 -> 1.80, 30% (no treaty row: *) = 0.54, net 1.26
    // The depository pays on 407: 104.8025 -> 104.80 = 25.75 + 77.25 + 1.80, no rounding left.
    expect(p.customers.map((l: Record<string, string>) => [l.holder, l.quantity, l.residence, l.gross, l.taxRate, l.tax, l.net]))
      .toEqual([['C1001', '100', 'US', '25.75', null, '0.00', '25.75'], ['C1002', '300', 'GB', '77.25', '15', '11.59', '65.66'], ['C1003', '7', 'JP', '1.80', '30', '0.54', '1.26']]);
    expect(p.totals).toMatchObject({ gross: '104.80', tax: '12.13', net: '92.67', depository: '104.80', rounding: '0.00' });
    const before = balances();

    const a = json(['corporate-actions', 'apply', 'DIV-AAPL-2026Q1']);
    expect(a).toMatchObject({ applied: true, alreadyApplied: false });
    expect(a.entryIds).toHaveLength(1);
    const after = balances();
    const delta = (account: string) => cents(balanceOf(after, account, 'USD')) - cents(balanceOf(before, account, 'USD'));
    expect(delta('customers:C1001:cash')).toBe(-2575n);
    expect(delta('customers:C1002:cash')).toBe(-6566n);
    expect(delta('customers:C1003:cash')).toBe(-126n);
    expect(balanceOf(after, 'liabilities:tax:withholding:us:gb', 'USD')).toBe('-11.59');
    expect(balanceOf(after, 'liabilities:tax:withholding:us:jp', 'USD')).toBe('-0.54');
    expect(balanceOf(after, 'assets:corporate-actions:receivable:dtc', 'USD')).toBe('104.80');
    // Customer cash: deposits less trades (C1001 100,000 - 19,001 - 40,401) plus the net dividend.
    expect(json(['cash', 'C1001'])).toMatchObject({ balance: '40623.75' });
    expect(json(['cash', 'C1003'])).toMatchObject({ balance: '3670.26' }); // 5,000 - 1,331 + 1.26

    // Applying again changes nothing.
    const again = json(['corporate-actions', 'apply', 'DIV-AAPL-2026Q1']);
    expect(again).toMatchObject({ applied: false, alreadyApplied: true, entryIds: a.entryIds });
    expect(balances()).toEqual(after);
    expect(json(['corporate-actions', 'list', '--status', 'applied']).map((x: { id: string }) => x.id)).toEqual(['DIV-AAPL-2026Q1']);
  });

  it('splits 3-for-2 with cash in lieu: positions, cost, customer cash, once', () => {
    expect(json(['corporate-actions', 'import', FX('split.csv')])).toMatchObject({ created: 1 });
    const p = json(['corporate-actions', 'preview', 'SPLIT-MSFT-2026']);
    expect(p).toMatchObject({ positionsAsOf: '2026-03-15', basis: 'trade', due: true, problems: [] });
    // Every holder of 101 -> 151.5 -> 151 and half a share at 150.00 = 75.00.
    expect(p.customers.map((l: Record<string, string>) => [l.holder, l.quantity, l.newQuantity, l.fraction, l.cashInLieu]))
      .toEqual([['C1001', '101', '151', '0.5', '75.00'], ['C1002', '101', '151', '0.5', '75.00']]);
    expect(p.firm.map((l: Record<string, string>) => [l.holderKind, l.holder, l.quantity, l.newQuantity, l.cashInLieu, l.cashAccount]))
      .toEqual([['depository', 'dtc', '101', '151', '75.00', 'assets:corporate-actions:receivable:dtc'], ['counterparty', 'GSCO', '101', '151', '75.00', 'assets:corporate-actions:claims:GSCO']]);
    const cashBefore = json(['cash', 'C1002']).balance;

    const first = json(['corporate-actions', 'apply', 'SPLIT-MSFT-2026']);
    expect(first).toMatchObject({ applied: true, alreadyApplied: false, lotsRecomputed: ['C1001', 'C1002'] });
    const after = balances();
    // Lots: quantity x 3/2, unit cost / (3/2), the half share leaving the newest lot:
    //   C1001: one lot 101 @ 40,401.00 -> 151.5; 151 keep 40,401 x 151 / 151.5 = 40,267.66
    //   C1002: 50 @ 20,501.00 -> 75 (whole); 51 @ 21,421.00 -> 76.5 -> 76 keep 21,421 x 76 / 76.5 = 21,280.99
    expect(positions().filter((x) => x.security === 'MSFT')).toEqual([
      { account: 'C1001', security: 'MSFT', quantity: '151', costBasis: '40267.66' },
      { account: 'C1002', security: 'MSFT', quantity: '151', costBasis: '41781.99' }, // 20,501.00 + 21,280.99
    ]);
    expect(json(['inventory', 'MSFT'])).toMatchObject({
      customerTotal: '302', firm: [{ ledgerAccount: 'assets:depository:dtc', quantity: '151' }, { ledgerAccount: 'assets:street:GSCO', quantity: '151' }],
    });
    expect(cents(json(['cash', 'C1002']).balance) - cents(cashBefore)).toBe(7500n);
    expect(json(['cash', 'C1002']).balance).toBe('1217.16'); // 100,000 - 57,001.50 - 20,501 - 21,421 + 65.66 + 75.00
    expect(balanceOf(after, 'assets:corporate-actions:claims:GSCO', 'USD')).toBe('75.00');
    expect(balanceOf(after, 'assets:corporate-actions:receivable:dtc', 'USD')).toBe('179.80'); // 104.80 + 75.00
    expect(balanceOf(after, 'firm:fractional-shares', 'MSFT')).toBeUndefined(); // the fractions cancel out

    const again = json(['corporate-actions', 'apply', 'SPLIT-MSFT-2026']);
    expect(again).toMatchObject({ applied: false, alreadyApplied: true, entryIds: first.entryIds });
    expect(balances()).toEqual(after);
    expect(positions().filter((x) => x.security === 'MSFT').map((x) => x.quantity)).toEqual(['151', '151']);
  });

  it('refuses to apply an action before its date (exit 7), even forced before the record date', () => {
    ok(['corporate-actions', 'import', FX('future-dividend.csv')]);
    const r = refused(['corporate-actions', 'apply', 'DIV-AAPL-2099']);
    expect(r.code).toBe(7);
    expect(r.error!.message).toContain('2099-02-20');
    const f = refused(['corporate-actions', 'apply', 'DIV-AAPL-2099', '--force']);
    expect(f.code).toBe(7);
    expect(f.error!.message).toContain('record date 2099-02-13 has not passed');
    expect(refused(['corporate-actions', 'apply', 'NOPE']).code).toBe(4);
  });

  it('closes months in order after FX revaluation, and refuses postings into them', () => {
    expect(json(['close', 'status'])).toMatchObject({ closedThrough: null, nextPeriod: '2026-01' });
    const early = refused(['close', 'period', '2026-02']);
    expect(early.code).toBe(5);
    expect(early.error).toMatchObject({ code: 'CLOSE_PERIOD_OUT_OF_ORDER', details: [{ rule: 'IN_ORDER', message: 'close 2026-01 first' }] });
    expect(refused(['close', 'period', '2026-13']).code).toBe(2);

    expect(json(['fx', 'rates', 'import', FX('fx-rates.csv')])).toMatchObject({ received: 4, created: 4 });
    // 100,000.00 EUR came in at 1.10 (110,000.00 USD); at 1.12 it is 112,000.00: a 2,000.00 gain.
    const jan = json(['fx', 'revalue', '--as-of', '2026-01-31']);
    expect(jan).toMatchObject({ posted: 1, gain: '2000.00' });
    expect(jan.lines).toMatchObject([{ account: 'assets:bank:operating:eur', historical: '110000.00', target: '112000.00', delta: '2000.00', status: 'posted' }]);
    expect(json(['fx', 'revalue', '--as-of', '2026-01-31'])).toMatchObject({ posted: 0, unchanged: 1, gain: '0.00' });

    const c = json(['close', 'period', '2026-01', '--user', 'fin1']);
    expect(c).toMatchObject({ period: '2026-01', closedThrough: '2026-01-31', closedBy: 'fin1', changed: true });
    expect(c.checks.every((x: { ok: boolean }) => x.ok)).toBe(true);
    expect(json(['close', 'period', '2026-01'])).toMatchObject({ changed: false, closedBy: 'fin1' });

    const late = file('late.json', JSON.stringify([{ key: 'late-jan', date: '2026-01-28', memo: 'late', postings: [
      { account: 'expenses:clearing-fees', asset: 'USD', amount: '10.00' }, { account: 'assets:bank:operating:usd', asset: 'USD', amount: '-10.00' }] }]));
    const lr = refused(['ledger', 'post', '--file', late]);
    expect(lr.code).toBe(2);
    expect(lr.error).toMatchObject({ code: 'PERIOD_CLOSED', details: [{ field: 'date', rule: 'PERIOD_CLOSED' }] });

    // At 1.09 the EUR is worth 109,000.00: 3,000.00 less than carried.
    expect(json(['fx', 'revalue', '--as-of', '2026-02-28'])).toMatchObject({ posted: 1, gain: '-3000.00' });
    expect(json(['close', 'period', '2026-02', '--user', 'fin1'])).toMatchObject({ closedThrough: '2026-02-28', changed: true });
    expect(json(['close', 'status'])).toMatchObject({ closedThrough: '2026-02-28', nextPeriod: '2026-03', pendingAdjustments: 0 });
  });

  it('books an adjustment to a closed month only when a second person approves it', () => {
    const a = json(['close', 'adjustments', 'propose', '--period', '2026-02', '--date', '2026-02-20', '--memo', 'February clearing fees missed',
      '--posting', 'expenses:clearing-fees USD 120.00', '--posting', 'assets:bank:operating:usd USD -120.00', '--user', 'fin1']);
    expect(a).toMatchObject({ period: '2026-02', targetDate: '2026-02-20', status: 'proposed', proposedBy: 'fin1', entryId: null });
    expect(json(['close', 'status']).pendingAdjustments).toBe(1);

    const self = refused(['close', 'adjustments', 'approve', a.id, '--user', 'fin1']);
    expect(self.code).toBe(6);
    expect(self.error!.message).toContain('second person');
    const ops = refused(['close', 'adjustments', 'approve', a.id, '--user', 'ops1']);
    expect(ops.code).toBe(6);
    expect(ops.error!.message).toContain('accounting.approve');
    expect(refused(['close', 'adjustments', 'approve', a.id, '--user', 'nobody']).code).toBe(4);

    const before = balances();
    const ap = json(['close', 'adjustments', 'approve', a.id, '--user', 'fin2', '--note', 'invoice checked']);
    // Booked the first open day, with the corrected month in its key.
    expect(ap).toMatchObject({ status: 'posted', decidedBy: 'fin2', postedDate: '2026-03-01', entryKey: `prior-period:2026-02:${a.id}` });
    expect(cents(balanceOf(balances(), 'expenses:clearing-fees', 'USD')) - cents(balanceOf(before, 'expenses:clearing-fees', 'USD'))).toBe(12000n);
    expect(refused(['close', 'adjustments', 'approve', a.id, '--user', 'fin2']).code).toBe(5);
    expect(json(['close', 'adjustments', 'list', '--status', 'posted']).map((x: { id: string }) => x.id)).toEqual([a.id]);
  });

  it('states the balance sheet and income statement that balance, in json, csv and xlsx', async () => {
    // Back to 1.10 at the end of March: +1,000.00, and the revaluations add up to nothing.
    expect(json(['fx', 'revalue', '--as-of', '2026-03-31'])).toMatchObject({ posted: 1, gain: '1000.00' });
    const bs = json(['reports', 'balance-sheet', '--as-of', '2026-03-31']);
    // Assets: bank 999,630.00 (1,000,000 - 250 - 120) + EUR 110,000.00 + reserve 205,000.00
    //   - settlement 117,730.00 (77,330 + 40,400) + corporate actions 254.80 - street 41,920.00
    // Liabilities: customers' cash 45,586.17 + withholding 12.13
    // Equity: capital 1,110,000.00 + earnings (commissions 6.50 - clearing fees 370.00; FX 0)
    expect(bs.totals).toEqual({ assets: '1155234.80', liabilities: '45598.30', equity: '1109636.50', liabilitiesAndEquity: '1155234.80' });
    expect(bs.check).toEqual({ difference: '0.00', balanced: true });
    const row = (s: { rows: { account: string | null; kind: string; label: string; amount: string }[] }, account: string) => s.rows.find((r) => r.account === account && r.kind === 'account')?.amount;
    expect(row(bs, 'assets:bank:operating:eur')).toBe('110000.00');
    expect(row(bs, 'customers:C1001:cash')).toBe('40698.75'); // 40,598.00 + 25.75 + 75.00
    expect(bs.rows.find((r: { label: string }) => r.label.startsWith('Current-period earnings')).amount).toBe('-363.50');

    // The same figures in CSV: the header and the rows the JSON has.
    const csv = ok(['reports', 'balance-sheet', '--as-of', '2026-03-31', '--format', 'csv']).trim().split(/\r?\n/);
    expect(csv[0]).toBe('section,kind,account,label,level,amount,currency,native');
    expect(csv).toContain('assets,account,assets:bank:operating:usd,usd,3,999630.00,USD,');
    expect(csv).toContain('liabilities,account,liabilities:tax:withholding:us:gb,gb,4,11.59,USD,');
    expect(csv).toContain('assets,total,,Total assets,0,1155234.80,USD,');
    expect(csv).toContain('equity,total,,Total liabilities and equity,0,1155234.80,USD,');
    expect(csv.at(-1)).toMatch(/^check,check,,.*,0\.00,USD,$/);

    // XLSX needs a file; written, it opens and holds the same lines.
    expect(run(['reports', 'balance-sheet', '--as-of', '2026-03-31', '--format', 'xlsx']).code).toBe(2);
    const xlsx = path.join(dir, 'balance-sheet.xlsx');
    const w = run(['reports', 'balance-sheet', '--as-of', '2026-03-31', '--format', 'xlsx', '--out', xlsx]);
    expect(w.code).toBe(0);
    expect(w.err).toContain('(balanced)');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(xlsx);
    const ws = wb.worksheets[0]!;
    const cells: unknown[][] = [];
    ws.eachRow((r) => cells.push((r.values as unknown[]).slice(1)));
    expect(cells[0]).toEqual(['Balance sheet as of 2026-03-31 (USD)']);
    expect(cells.find((r) => r[3] === 'Total assets')?.[4]).toBe(1155234.8);
    expect(cells.find((r) => r[3] === 'Total liabilities and equity')?.[4]).toBe(1155234.8);
    expect(cells.some((r) => r[2] === 'assets:bank:operating:usd' && r[4] === 999630 && r[5] === 'USD')).toBe(true);

    // March alone: FX +1,000.00, the adjustment's 120.00 posted 2026-03-01; restated, it is February's.
    const mar = json(['reports', 'income-statement', '--from', '2026-03-01', '--to', '2026-03-31']);
    expect(mar.totals).toEqual({ income: '1000.00', expenses: '120.00', netIncome: '880.00' });
    expect(json(['reports', 'income-statement', '--from', '2026-03-01', '--to', '2026-03-31', '--after-adjustments']).totals).toEqual({ income: '1000.00', expenses: '0.00', netIncome: '1000.00' });
    expect(json(['reports', 'income-statement', '--as-of', '2026-03-31']).totals).toEqual({ income: '6.50', expenses: '370.00', netIncome: '-363.50' });
    // February: commissions 6.50, FX -3,000.00; after adjustments also the 120.00.
    expect(json(['reports', 'income-statement', '--from', '2026-02-01', '--to', '2026-02-28']).totals).toEqual({ income: '-2993.50', expenses: '0.00', netIncome: '-2993.50' });
    expect(json(['reports', 'income-statement', '--from', '2026-02-01', '--to', '2026-02-28', '--after-adjustments']).totals).toEqual({ income: '-2993.50', expenses: '120.00', netIncome: '-3113.50' });
    const isCsv = ok(['reports', 'income-statement', '--from', '2026-03-01', '--to', '2026-03-31', '--format', 'csv']);
    expect(isCsv).toContain('income,account,income:fx:unrealized,unrealized,2,1000.00,USD,');
    expect(isCsv).toContain('expenses,account,expenses:clearing-fees,clearing-fees,1,120.00,USD,');

    // February as booked and as restated; both balance.
    const feb = json(['reports', 'balance-sheet', '--as-of', '2026-02-28']);
    expect(feb.totals).toMatchObject({ assets: '1154100.00', liabilitiesAndEquity: '1154100.00' }); // EUR at 1.09: 109,000.00
    const febAdj = json(['reports', 'balance-sheet', '--as-of', '2026-02-28', '--after-adjustments']);
    expect(febAdj.totals).toMatchObject({ assets: '1153980.00', liabilitiesAndEquity: '1153980.00' });
    expect(febAdj.check.balanced).toBe(true);
    expect(febAdj.adjustments).toMatchObject([{ period: '2026-02', postedDate: '2026-03-01' }]);
    expect(run(['reports', 'income-statement', '--as-of', '2026-03-31', '--from', '2026-01-01']).code).toBe(2);
  });

  // A dividend paid in February, found after February was closed: preview warns, apply books it on
  // the first open day (2026-03-01), the memo naming the pay date it belongs to.
  it('previews a dividend dated in a closed month with a warning naming the closed period', () => {
    ok(['corporate-actions', 'import', FX('late-dividend.csv')]);
    const p = json(['corporate-actions', 'preview', 'DIV-AAPL-LATE']);
    expect(p.problems).toEqual([]);
    expect(p.warnings).toContainEqual(expect.stringMatching(/dated 2026-02-20, in a closed period \(the books are closed through 2026-02-28\).*2026-03-01/));
    expect(p.entries).toMatchObject([{ key: 'ca:DIV-AAPL-LATE:dividend', date: '2026-03-01' }]);
    expect(p.entries[0].memo).toContain('belongs to 2026-02-20');
    expect(ok(['corporate-actions', 'preview', 'DIV-AAPL-LATE'])).toMatch(/warnings\n.*closed period/);
  });

  it('pays a dividend dated in a closed month on the first open day, once', () => {
    const before = balances();
    const r = json(['corporate-actions', 'apply', 'DIV-AAPL-LATE']);
    expect(r).toMatchObject({ applied: true, alreadyApplied: false });
    expect(r.result.entries).toMatchObject([{ date: '2026-03-01' }]);
    // 0.10 a share on the 407 the depository holds: 10.00 + 30.00 + 0.70 = 40.70.
    const after = balances();
    const delta = (account: string) => cents(balanceOf(after, account, 'USD')) - cents(balanceOf(before, account, 'USD'));
    expect(delta('assets:corporate-actions:receivable:dtc')).toBe(4070n);
    expect(delta('customers:C1001:cash')).toBe(-1000n);
    const again = json(['corporate-actions', 'apply', 'DIV-AAPL-LATE']);
    expect(again).toMatchObject({ applied: false, alreadyApplied: true, entryIds: r.entryIds });
    expect(json(['corporate-actions', 'list', '--status', 'applied']).map((x: { id: string }) => x.id)).toContain('DIV-AAPL-LATE');
  });

  it('imports bank statements: checked, the four-currency one refused, idempotent; breaks after a run', () => {
    const r = json(['recon', 'import', ISO('genkgo_camt053.v2.multi.statement.xml')]);
    // Two statements that chain: 18.15 + 8.85 = 27.00; 27.00 - 7.00 = 20.00.
    expect(r.statements.map((s: Record<string, unknown>) => ({ account: s.account, currency: s.currency, opening: s.opening, closing: s.closing, entries: s.entries, check: s.check, status: s.status })))
      .toEqual([
        { account: 'NL26VAYB8060476890', currency: 'EUR', opening: '18.15', closing: '27.00', entries: 1, check: 'ok', status: 'stored' },
        { account: 'NL26VAYB8060476890', currency: 'EUR', opening: '27.00', closing: '20.00', entries: 1, check: 'ok', status: 'stored' },
      ]);
    expect(r.statements.every((s: { id: string }) => /^rst_/.test(s.id))).toBe(true);
    const ids = r.statements.map((s: { id: string }) => s.id).sort();

    const four = run(['recon', 'import', ISO('genkgo_camt053.v2.minimal.xml'), '--json']);
    expect(four.code).not.toBe(0);
    const fr = JSON.parse(four.out);
    expect(fr.refused).toBe(1);
    expect(fr.statements[0].status).toBe('refused');
    expect(fr.statements[0].check).toMatch(/mixes currencies/);
    expect(fr.statements[0].check).toMatch(/SEK/);

    const again = json(['recon', 'import', ISO('genkgo_camt053.v2.multi.statement.xml')]);
    expect(again.duplicateFile).toBe(true);
    expect(again.statements.map((s: { id: string }) => s.id).sort()).toEqual(ids);
    expect(json(['recon', 'statements']).map((s: { id: string }) => s.id).sort()).toEqual(ids);

    expect(json(['recon', 'breaks'])).toMatchObject({ breaks: [], total: 0 });
    ok(['recon', 'link', 'NL26VAYB8060476890', '--ledger-account', 'assets:bank:operating:eur']);
    const run1 = json(['recon', 'run', '--account', 'NL26VAYB8060476890', '--date', '2014-12-31']);
    expect(run1.breaks).toMatchObject({ found: 2, open: 2, byType: { missing_ours: 2 } });
    expect(run1.balances).toMatchObject([{ statementId: '254EURNL26VAYB8060476890', theirs: '20.00', ours: '0.00', difference: '20.00' }]);
    const br = json(['recon', 'breaks']);
    expect(br.total).toBe(2);
    expect(br.breaks.map((b: Record<string, unknown>) => [b.type, b.theirs, b.bucket]).sort()).toEqual([['missing_ours', '-7.00', '61+'], ['missing_ours', '8.85', '61+']]);
    // Running again finds nothing new.
    expect(json(['recon', 'run', '--account', 'NL26VAYB8060476890', '--date', '2014-12-31']).breaks).toMatchObject({ found: 0, unchanged: 2, open: 2 });
  });

  it('resolves a break by an approved adjusting entry (into the open month)', () => {
    const br = json(['recon', 'breaks']).breaks.find((b: { theirs: string }) => b.theirs === '8.85');
    ok(['recon', 'break', 'assign', br.id, 'fin1', '--as', 'ops1']);
    // The break is dated 2014-12-31, a closed period: the entry goes into March.
    const adj = json(['recon', 'break', 'propose-adjustment', br.id, '--offset-account', 'income:bank-interest', '--date', '2026-03-02', '--memo', 'interest not booked', '--as', 'ops1']);
    expect(adj.entry.postings).toEqual(expect.arrayContaining([{ account: 'assets:bank:operating:eur', asset: 'EUR', amount: '8.85' }]));
    expect(refused(['recon', 'break', 'approve', br.id, '--as', 'ops1']).code).toBe(6);
    ok(['recon', 'break', 'approve', br.id, '--as', 'fin2']);
    expect(json(['recon', 'break', 'show', br.id])).toMatchObject({ status: 'resolved' });
    expect(balanceOf(balances(), 'income:bank-interest', 'EUR')).toBe('-8.85');
    expect(json(['recon', 'breaks', '--status', 'open']).total).toBe(1);
  });

  // A break of a closed month: without --date the entry goes to the first open day (the memo keeps
  // the break's date); an explicit date in the closed period is refused when proposed.
  it('proposes a recon adjustment for a break of a closed month into the open month, refusing a closed date', () => {
    const br = json(['recon', 'breaks', '--status', 'open']).breaks[0];
    const r = refused(['recon', 'break', 'propose-adjustment', br.id, '--offset-account', 'income:bank-interest', '--date', '2026-02-27', '--as', 'ops1']);
    expect(r.code).toBe(2);
    expect(r.error).toMatchObject({ details: [expect.objectContaining({ field: 'date', rule: 'PERIOD_CLOSED' })] });
    expect(r.error!.message).toContain('closed through 2026-02-28');
    const adj = json(['recon', 'break', 'propose-adjustment', br.id, '--offset-account', 'income:bank-interest', '--as', 'ops1']);
    expect(adj.entry.date).toBe('2026-03-01');
    expect(adj.entry.memo).toContain(`belongs to ${br.date}`);
    ok(['recon', 'break', 'reject', br.id, '--reason', 'test clean-up', '--as', 'fin2']);
  });

  it('leaves an intact audit trail', () => {
    expect(json(['audit', 'verify'])).toMatchObject({ ok: true, firstBroken: null });
  });

  // The acting user (--as, or --user) is checked against its role for every change. Last: a
  // wrong refusal would close March.
  it('refuses a user without accounting.close (exit 6): close, fx revalue, fx rates import, adjustments', () => {
    for (const args of [['close', 'period', '2026-03', '--user', 'ops1'], ['close', 'period', '2026-03', '--as', 'ops1'],
      ['fx', 'revalue', '--as-of', '2026-03-31', '--as', 'ops1'], ['fx', 'rates', 'import', FX('fx-rates.csv'), '--as', 'ops1'],
      ['close', 'adjustments', 'propose', '--period', '2026-02', '--memo', 'x', '--posting', 'expenses:clearing-fees USD 1.00', '--posting', 'assets:bank:operating:usd USD -1.00', '--as', 'ops1']]) {
      const r = refused(args);
      expect(r.code, args.join(' ')).toBe(6);
      expect(r.error).toMatchObject({ code: 'ACCOUNTING_NOT_ALLOWED', kind: 'forbidden' });
      expect(r.error!.message).toContain('needs accounting.close');
    }
    expect(json(['close', 'status'])).toMatchObject({ closedThrough: '2026-02-28', pendingAdjustments: 0 });
  });

  it('exits 2 on a usage error (a required option missing)', () => {
    const r = run(['close', 'adjustments', 'reject', 'adj_x', '--as', 'fin2']);
    expect(r.code).toBe(2);
    expect(r.err).toContain("required option '--reason <text>' not specified");
    expect(run(['close', 'adjustments', 'approve', 'adj_x']).code).toBe(2);
  });
});
