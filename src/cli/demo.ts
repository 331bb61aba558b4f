import type { Pool } from '../db/index.js';
import type { Clock, Role } from '../kernel/index.js';
import { ROLES } from '../kernel/index.js';
import { addAsset, openAccount, postEntries, type AccountType, type EntryInput } from '../ledger/index.js';
import { addUser } from '../users/index.js';

/** The demo login printed at start. One user per role, all with this password. */
export const DEMO_PASSWORD = 'backoffice-demo';
export const DEMO_USERS: Record<Role, string> = {
  admin: 'admin', operations: 'ops', finance: 'finance', compliance: 'compliance', hr: 'hr', auditor: 'auditor',
};

const CHART: [string, AccountType, boolean?][] = [
  ['assets:bank:operating:usd', 'asset'],
  ['assets:bank:reserve:usd', 'asset'],
  ['assets:bank:operating:eur', 'asset'],
  ['assets:depository:dtc', 'asset'],
  ['assets:receivable:street', 'asset'],
  ['liabilities:payable:street', 'liability'],
  ['liabilities:customers:C1001:cash', 'liability'],
  ['liabilities:customers:C1001:securities', 'liability'],
  ['liabilities:customers:C1002:cash', 'liability'],
  ['liabilities:customers:C1002:securities', 'liability'],
  ['equity:capital', 'equity'],
  ['income:commissions', 'income'],
  ['expenses:clearing-fees', 'expense'],
  ['expenses:salaries', 'expense'],
];

/** Seed a demo firm when the books are empty: users for each role, a chart of accounts, a few entries. */
export async function seedDemo(pool: Pool, clock: Clock): Promise<boolean> {
  const { rows } = await pool.query('SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM accounts) AS n');
  if (Number(rows[0].n) > 0) return false;
  const ctx = { actor: 'demo-seed', clock };
  for (const role of ROLES) await addUser(pool, { name: DEMO_USERS[role], role, password: DEMO_PASSWORD }, ctx);
  await addAsset(pool, { code: 'AAPL', scale: 0, name: 'Apple Inc. common stock (US0378331005)' }, ctx);
  await addAsset(pool, { code: 'MSFT', scale: 0, name: 'Microsoft Corp. common stock (US5949181045)' }, ctx);
  for (const [name, type] of CHART) {
    const owner = /customers:(C\d+)/.exec(name)?.[1] ?? 'firm';
    await openAccount(pool, { name, type, owner, noNegative: name === 'assets:bank:reserve:usd' }, ctx);
  }
  const day = (n: number) => new Date(clock.now().getTime() - n * 86400_000).toISOString().slice(0, 10);
  const E = (key: string, date: string, memo: string, legs: [string, string, string][]): EntryInput => ({
    key: `demo:${key}`, date, memo, postings: legs.map(([account, asset, amount]) => ({ account, asset, amount })),
  });
  await postEntries(pool, [
    E('capital', day(30), 'Capital contribution', [['assets:bank:operating:usd', 'USD', '5000000.00'], ['equity:capital', 'USD', '-5000000.00']]),
    E('capital-eur', day(30), 'Capital contribution (EUR)', [['assets:bank:operating:eur', 'EUR', '250000.00'], ['equity:capital', 'EUR', '-250000.00']]),
    E('deposit-c1001', day(20), 'Customer C1001 deposit', [['assets:bank:reserve:usd', 'USD', '100000.00'], ['liabilities:customers:C1001:cash', 'USD', '-100000.00']]),
    E('deposit-c1002', day(19), 'Customer C1002 deposit', [['assets:bank:reserve:usd', 'USD', '50000.00'], ['liabilities:customers:C1002:cash', 'USD', '-50000.00']]),
    E('buy-c1001-aapl', day(10), 'C1001 buys 100 AAPL @ 189.50, commission 5.00', [
      ['liabilities:customers:C1001:securities', 'AAPL', '-100'], ['assets:receivable:street', 'AAPL', '100'],
      ['liabilities:customers:C1001:cash', 'USD', '18955.00'], ['liabilities:payable:street', 'USD', '-18950.00'], ['income:commissions', 'USD', '-5.00'],
    ]),
    E('settle-c1001-aapl', day(9), 'Settlement at DTC: receive 100 AAPL against 18,950.00', [
      ['assets:depository:dtc', 'AAPL', '100'], ['assets:receivable:street', 'AAPL', '-100'],
      ['liabilities:payable:street', 'USD', '18950.00'], ['assets:bank:operating:usd', 'USD', '-18950.00'],
    ]),
    E('clearing-fees', day(5), 'Clearing fees for the month', [['expenses:clearing-fees', 'USD', '1250.75'], ['assets:bank:operating:usd', 'USD', '-1250.75']]),
    E('payroll', day(2), 'Payroll', [['expenses:salaries', 'USD', '84000.00'], ['assets:bank:operating:usd', 'USD', '-84000.00']]),
  ], ctx);
  return true;
}
