import type { Pool } from '../db/index.js';
import type { Clock, Role } from '../kernel/index.js';
import { ROLES } from '../kernel/index.js';
import { openAccount, postEntries, type AccountType, type EntryInput } from '../ledger/index.js';
import { importCounterparties, importCustomerAccounts, importFees, importPrices, importSecurities } from '../reference/index.js';
import { importExecutions } from '../trading/index.js';
import { addBusinessDays } from '../calendar/index.js';
import { computeObligations, importSsis } from '../settlement/index.js';
import { addUser } from '../users/index.js';
import { importAnnouncements, importWithholdingRates } from '../accounting/index.js';
import { importFxRates } from '../accounting/index.js';

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
  await importSecurities(pool, DEMO_SECURITIES, 'demo securities', ctx);
  await importCustomerAccounts(pool, DEMO_ACCOUNTS, 'demo accounts', ctx);
  await importCounterparties(pool, DEMO_COUNTERPARTIES, 'demo counterparties', ctx);
  await importFees(pool, DEMO_FEES, 'demo fees', ctx);
  await importSsis(pool, DEMO_SSIS, 'demo SSIs', ctx);
  for (const [name, type] of CHART) {
    const owner = 'firm';
    await openAccount(pool, { name, type, owner, noNegative: name === 'assets:bank:reserve:usd' }, ctx);
  }
  const day = (n: number) => new Date(clock.now().getTime() - n * 86400_000).toISOString().slice(0, 10);
  const E = (key: string, date: string, memo: string, legs: [string, string, string][]): EntryInput => ({
    key: `demo:${key}`, date, memo, postings: legs.map(([account, asset, amount]) => ({ account, asset, amount })),
  });
  await postEntries(pool, [
    E('capital', day(30), 'Capital contribution', [['assets:bank:operating:usd', 'USD', '5000000.00'], ['equity:capital', 'USD', '-5000000.00']]),
    E('capital-eur', day(30), 'Capital contribution (EUR)', [['assets:bank:operating:eur', 'EUR', '250000.00'], ['equity:capital', 'EUR', '-250000.00']]),
    E('deposit-c1001', day(20), 'Customer C1001 deposit', [['assets:bank:reserve:usd', 'USD', '100000.00'], ['customers:C1001:cash', 'USD', '-100000.00']]),
    E('deposit-c1002', day(19), 'Customer C1002 deposit', [['assets:bank:reserve:usd', 'USD', '50000.00'], ['customers:C1002:cash', 'USD', '-50000.00']]),
    E('clearing-fees', day(5), 'Clearing fees for the month', [['expenses:clearing-fees', 'USD', '1250.75'], ['assets:bank:operating:usd', 'USD', '-1250.75']]),
    E('payroll', day(2), 'Payroll', [['expenses:salaries', 'USD', '84000.00'], ['assets:bank:operating:usd', 'USD', '-84000.00']]),
  ], ctx);
  // EUR/USD rates (illustrative) so that the statements can translate the EUR capital.
  await importFxRates(pool, `date,currency,base_currency,rate\n${day(31)},EUR,USD,1.0850\n${day(3)},EUR,USD,1.0790\n`, 'demo rates', { ...ctx, baseCurrency: 'USD' });
  // A few days of trading, booked the way the front office's files are.
  const td = (n: number) => addBusinessDays('XNYS', day(0), -n, 'trading');
  const fills = [
    'exec_id,account,symbol,side,quantity,price,trade_date,counterparty,currency',
    `D1,C1002,MSFT,buy,50,412.30,${td(6)},GSCO,USD`,
    `D2,C1002,MSFT,buy,30,415.10,${td(5)},MSCO,USD`,
    `D3,C1001,AAPL,buy,40,191.20,${td(4)},GSCO,USD`,
    `D4,C1002,MSFT,sell,60,421.00,${td(3)},GSCO,USD`,
    `D5,C1001,AAPL,sell,25,195.75,${td(2)},MSCO,USD`,
    `D6,C1002,AAPL,buy,100,194.00,${td(1)},GSCO,USD`,
  ].join('\n');
  await importExecutions(pool, fills, ctx, { format: 'csv', source: 'demo' });
  // Net the street side of each settlement date the demo trades fall due on.
  const dates = await pool.query<{ d: string }>("SELECT DISTINCT settle_date AS d FROM trades WHERE status = 'booked' ORDER BY 1");
  for (const { d } of dates.rows) await computeObligations(pool, d, ctx);
  await importPrices(pool, `symbol,date,price\nAAPL,${td(1)},196.40\nMSFT,${td(1)},418.25\n`, 'demo prices', ctx);
  // Corporate actions announced, not applied: an AAPL dividend (C1002 is resident in GB: 15%
  // withheld) and a 3-for-2 MSFT split; the calendar shows them, their pages preview them.
  await importWithholdingRates(pool, DEMO_WITHHOLDING, 'demo withholding rates', ctx);
  const ahead = (n: number) => addBusinessDays('XNYS', day(0), n, 'trading');
  await importAnnouncements(pool, [
    'id,kind,symbol,ex_date,record_date,pay_date,effective_date,rate,currency,ratio,cash_in_lieu_price,description',
    `DEMO-DIV-AAPL,cash_dividend,AAPL,${ahead(3)},${ahead(3)},${ahead(10)},,0.26,USD,,,Quarterly cash dividend`,
    `DEMO-SPLIT-MSFT,split,MSFT,,,,${ahead(15)},,,3-for-2,418.25,3-for-2 stock split; fractions paid in cash`,
  ].join('\n'), 'demo announcements', ctx);
  return true;
}

// US withholding on dividends to non-residents: statutory 30%, the UK treaty's 15% (illustrative).
const DEMO_WITHHOLDING = `source_country,residence_country,rate_percent,effective_from
US,*,30,2000-01-01
US,GB,15,2003-01-01
`;
const DEMO_SECURITIES = `symbol,name,isin,cusip,asset_class,currency,mic,scale
AAPL,Apple Inc.,US0378331005,037833100,equity,USD,XNAS,0
MSFT,Microsoft Corp.,US5949181045,594918104,equity,USD,XNAS,0
`;
const DEMO_ACCOUNTS = `account,name,type,currency,tax_residency
C1001,Alice Example,cash,USD,US
C1002,Bob Example,margin,USD,GB
`;
const DEMO_COUNTERPARTIES = `counterparty,name,type,dtc_participant,bic,lei
GSCO,Goldman Sachs & Co. LLC,broker,0005,GOLDUS33,FOR8UP27PHTHYVLBNG30
MSCO,Morgan Stanley & Co. LLC,broker,0050,,
`;
// Standing settlement instructions (made up): ours (party FIRM) and the brokers' at DTC.
const DEMO_SSIS = `party,market,place_bic,agent_bic,participant,account,cash_bic,cash_account,effective_from
FIRM,XNAS,DTCYUS33,BOFFUS33,,DEMO-SAFE-01,BOFFUS33,DEMO-USD-01,2020-01-01
FIRM,XNYS,DTCYUS33,BOFFUS33,,DEMO-SAFE-01,BOFFUS33,DEMO-USD-01,2020-01-01
GSCO,XNAS,DTCYUS33,GOLDUS33,0005,GS-DTC-0005,GOLDUS33,GS-USD-01,2020-01-01
GSCO,XNYS,DTCYUS33,GOLDUS33,0005,GS-DTC-0005,GOLDUS33,GS-USD-01,2020-01-01
MSCO,XNAS,DTCYUS33,MSNYUS33,0050,MS-DTC-0050,MSNYUS33,MS-USD-01,2020-01-01
MSCO,XNYS,DTCYUS33,MSNYUS33,0050,MS-DTC-0050,MSNYUS33,MS-USD-01,2020-01-01
`;
// Illustrative rates: replace with the ones in force (SEC Section 31 per million of sales; FINRA TAF per share, capped).
const DEMO_FEES = `schedule,kind,side,rate,minimum,maximum,effective_from
default,commission_per_share,all,0.005,1.00,,2020-01-01
regulatory,sec_fee,sell,27.80,,,2024-05-22
regulatory,finra_taf,sell,0.000166,,8.30,2024-01-01
`;
