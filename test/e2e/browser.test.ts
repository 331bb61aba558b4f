import fs from 'node:fs';
import path from 'node:path';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { REPO, ensureWebBuilt, startBackoffice, type RunningServer } from './browser-server.js';

/**
 * The product as a person meets it: `backoffice serve` started from the command line on a fresh
 * data folder (so it seeds the demo firm), and a real headless Chromium signing in and reading the
 * books. Needs the Debian package chromium; without it the file is skipped, unless
 * REQUIRE_BROWSER=1 (CI), where a missing browser is a failure.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium && process.env.REQUIRE_BROWSER === '1') {
  throw new Error(`REQUIRE_BROWSER=1 but there is no Chromium at ${CHROMIUM} (apt-get install chromium)`);
}

const SHOTS = path.join(REPO, '.tmp');

interface TrialBalance {
  asOf: string | null;
  rows: { account: string; type: string; asset: string; debit: string; credit: string }[];
  totals: { asset: string; debit: string; credit: string }[];
}

describe.skipIf(!haveChromium)('the web UI in headless Chromium', () => {
  let server: RunningServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  const consoleErrors: string[] = [];

  beforeAll(async () => {
    ensureWebBuilt();
    server = await startBackoffice();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(20_000);
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    fs.mkdirSync(SHOTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('was started by the CLI with the demo firm', () => {
    expect(server.output()).toMatch(/Demo firm created\. Sign in as "admin"/);
    expect(server.url).toMatch(/^http:\/\/localhost:\d+$/);
  });

  it('refuses a wrong password on the sign-in page, then signs in', async () => {
    await page.goto(`${server.url}/login`);
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/Sign-in failed.*wrong user name or password/);
    expect(new URL(page.url()).pathname).toBe('/login');

    await page.getByLabel('Password').fill('backoffice-demo');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/trial-balance/);
    expect(await page.getByTestId('user-name').textContent()).toBe('admin');
    expect(await page.getByTestId('user-role').textContent()).toBe('admin');

    // The session cookie is out of reach of page scripts.
    const cookie = (await context.cookies()).find((c) => c.name === 'bo_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(await page.evaluate<string>('document.cookie')).not.toContain('bo_session');
  });

  it('shows the trial balance of the demo firm, balanced per asset, as the API reports it', async () => {
    const table = page.getByTestId('trial-balance');
    await table.waitFor();
    await page.getByTestId('trial-balance-total-USD').waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'browser-trial-balance.png'), fullPage: true });

    const cells = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => ({
      testid: tr.getAttribute('data-testid'),
      cells: [...tr.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim()),
    })));
    const rows = cells.filter((r) => !r.testid).map(({ cells: [account, type, asset, debit, credit] }) => ({ account, type, asset, debit, credit }));
    const totals = cells.filter((r) => r.testid?.startsWith('trial-balance-total-')).map(({ testid, cells: [label, asset, debit, credit] }) => ({ testid, label, asset, debit, credit }));

    expect(rows.map((r) => r.account)).toEqual(expect.arrayContaining([
      'assets:bank:operating:usd', 'assets:bank:reserve:usd', 'assets:bank:operating:eur', 'equity:capital', 'expenses:salaries', 'customers:C1001:cash',
    ]));
    expect(rows).toContainEqual({ account: 'assets:bank:operating:usd', type: 'asset', asset: 'USD', debit: '4914749.25', credit: '' });
    // The demo's trades: C1002 bought 50 and 30 MSFT and sold 60; the firm owes it 20 shares.
    expect(rows).toContainEqual({ account: 'customers:C1002:securities', type: 'liability', asset: 'MSFT', debit: '', credit: '20' });

    // Debits equal credits in every asset, on the screen.
    expect(totals.map((t) => t.asset).sort()).toEqual(['AAPL', 'EUR', 'MSFT', 'USD']);
    for (const t of totals) {
      expect(t.testid).toBe(`trial-balance-total-${t.asset}`);
      expect(t.label).toBe(`Total ${t.asset}`);
      expect(t.debit, t.asset).toBe(t.credit);
    }

    // The same numbers as the API gives for the date on screen, with the browser's own session.
    const asOf = await page.getByLabel('As of').inputValue();
    expect(asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const res = await context.request.get(`${server.url}/api/ledger/trial-balance?asOf=${asOf}`);
    expect(res.status()).toBe(200);
    const api = (await res.json()) as TrialBalance;
    const key = (r: { account: string; asset: string }) => `${r.account}\u0000${r.asset}`;
    const byKey = (a: { account: string; asset: string }, b: { account: string; asset: string }) => (key(a) < key(b) ? -1 : 1);
    expect([...rows].sort(byKey)).toEqual([...api.rows].sort(byKey));
    expect(totals.map(({ asset, debit, credit }) => ({ asset, debit, credit })).sort((a, b) => (a.asset < b.asset ? -1 : 1))).toEqual(api.totals);
  });

  it('shows the demo entries in the journal grid', async () => {
    await page.getByRole('link', { name: 'Journal' }).click();
    await page.waitForURL(/\/journal$/);
    const payroll = page.getByRole('gridcell', { name: 'Payroll', exact: true });
    await payroll.waitFor();
    await page.getByText('12 entries loaded').waitFor();
    for (const memo of ['Capital contribution', 'Customer C1001 deposit', 'Clearing fees for the month']) {
      await page.getByRole('gridcell', { name: memo, exact: true }).waitFor();
    }
    await page.screenshot({ path: path.join(SHOTS, 'browser-journal.png'), fullPage: true });

    const api = (await (await context.request.get(`${server.url}/api/ledger/entries`)).json()) as { items: { id: string; memo: string; key: string }[] };
    // Six entries of the demo firm's own, six from its trades.
    expect(api.items).toHaveLength(12);
    const payrollEntry = api.items.find((e) => e.memo === 'Payroll')!;
    expect(payrollEntry.key).toBe('demo:payroll');
    // The entry's id shows in its row, as a link to the entry.
    const link = page.getByRole('link', { name: payrollEntry.id });
    await link.click();
    await page.waitForURL(new RegExp(`/journal/${payrollEntry.id}$`));
    await page.getByText('expenses:salaries').first().waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'browser-entry.png'), fullPage: true });
  });

  it('shows the demo trades in the blotter and imports a file with a bad record', async () => {
    await page.getByRole('link', { name: 'Trades' }).click();
    await page.waitForURL(/\/trades/);
    const blotter = page.getByTestId('trade-blotter');
    await blotter.waitFor();
    const api = (await (await context.request.get(`${server.url}/api/trades`)).json()) as { execId: string; account: string; symbol: string }[];
    expect(api.map((t) => t.execId).sort()).toEqual(['D1', 'D2', 'D3', 'D4', 'D5', 'D6']);
    for (const t of api) await blotter.getByRole('gridcell', { name: t.execId, exact: true }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'browser-trades.png'), fullPage: true });

    await page.getByRole('link', { name: 'Import' }).click();
    await page.waitForURL(/\/import/);
    const file = path.join(SHOTS, 'browser-import.csv');
    fs.writeFileSync(file, [
      'exec_id,account,symbol,side,quantity,price,trade_date,counterparty,currency',
      `B1,C1002,AAPL,buy,10,190.00,${api.length ? (await (await context.request.get(`${server.url}/api/trades`)).json() as { tradeDate: string }[])[0]!.tradeDate : ''},GSCO,USD`,
      'B2,C9999,AAPL,buy,10,190.00,2026-03-02,GSCO,USD',
    ].join('\n'));
    await page.locator('input[type=file]').first().setInputFiles(file);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const summary = page.getByTestId('import-summary');
    await summary.waitFor();
    expect(await summary.getByTestId('import-booked').first().textContent()).toContain('1');
    expect(await summary.getByTestId('import-quarantined').first().textContent()).toContain('1');
    await page.getByText('account "C9999" is not known').first().waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'browser-import.png'), fullPage: true });
    const trades = (await (await context.request.get(`${server.url}/api/trades?account=C1002&symbol=AAPL`)).json()) as { execId: string }[];
    expect(trades.map((t) => t.execId)).toContain('B1');

    // Reference data through the UI: a bad ISIN refuses the whole file, naming the row and the rule.
    const refFile = path.join(SHOTS, 'browser-securities.csv');
    fs.writeFileSync(refFile, 'symbol,name,isin,cusip,asset_class,currency,mic,scale\nNVDA,NVIDIA Corp.,US67066G1040,67066G104,equity,USD,XNAS,0\nBAD,Bad Corp.,US0000000001,,equity,USD,XNAS,0\n');
    await page.locator('input[type=file]').nth(1).setInputFiles(refFile);
    await page.getByRole('button', { name: 'Import reference data' }).click();
    await page.getByText('line 3 (BAD): isin: "US0000000001" is not a valid ISIN').first().waitFor();
    expect((await context.request.get(`${server.url}/api/reference/securities/NVDA`)).status()).toBe(404);
    const goodFile = path.join(SHOTS, 'browser-securities-fixed.csv');
    fs.writeFileSync(goodFile, 'symbol,name,isin,cusip,asset_class,currency,mic,scale\nNVDA,NVIDIA Corp.,US67066G1040,67066G104,equity,USD,XNAS,0\n');
    await page.locator('input[type=file]').nth(1).setInputFiles(goodFile);
    await page.getByRole('button', { name: 'Import reference data' }).click();
    expect(await page.getByTestId('reference-summary').textContent()).toBe('1 rows: 1 added, 0 updated, 0 unchanged.');
  });

  it('shows the settlement dashboard with the obligations of the demo trades', async () => {
    await page.getByRole('link', { name: 'Settlement' }).click();
    await page.waitForURL(/\/settlement/);
    await page.getByTestId('settlement-dashboard').waitFor();
    await page.getByTestId('fails-chart').waitFor();
    // The demo's last trade (D6: C1002 buys 100 AAPL from GSCO, on the trading day before today)
    // settles on the next settlement day: one obligation to receive then. That is today only when
    // today is a settlement day (not on a weekend, not on Thanksgiving): the dashboard of that day.
    const d6 = ((await (await context.request.get(`${server.url}/api/trades?account=C1002&symbol=AAPL`)).json()) as { execId: string; settleDate: string }[]).find((t) => t.execId === 'D6')!;
    const due = (await (await context.request.get(`${server.url}/api/settlement/obligations?settleDate=${d6.settleDate}`)).json()) as { counterparty: string; security: string; quantity: string }[];
    expect(due).toContainEqual(expect.objectContaining({ counterparty: 'GSCO', security: 'AAPL', quantity: '100' }));
    await page.goto(`${server.url}/settlement?date=${d6.settleDate}`);
    await page.getByTestId('settlement-dashboard').waitFor();
    await page.getByTestId('obligations-grid').getByRole('gridcell', { name: 'GSCO' }).first().waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'browser-settlement.png'), fullPage: true });
    const res = await context.request.get(`${server.url}/api/settlement/fails`);
    expect(res.status()).toBe(200);
    expect(Object.keys(await res.json())).toEqual(expect.arrayContaining(['asOf', 'fails', 'alerts', 'buckets']));
  });

  it('shows the corporate actions calendar with the demo firm\'s announcements not yet applied', async () => {
    await page.getByRole('link', { name: 'Corporate actions' }).click();
    await page.waitForURL(/\/corporate-actions/);
    await page.getByTestId('corporate-actions').waitFor();
    const pending = page.getByTestId('ca-pending');
    await pending.waitFor();
    const res = await context.request.get(`${server.url}/api/corporate-actions?status=announced`);
    expect(res.status()).toBe(200);
    const actions = await res.json() as Array<{ id: string }>;
    expect(actions.length).toBe(2); // the demo firm's dividend and split
    for (const a of actions) await pending.getByText(a.id).first().waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'browser-corporate-actions.png'), fullPage: true });
  });

  it('shows the balance sheet, which balances, and the reconciliation workspace', async () => {
    await page.getByRole('link', { name: 'Financial statements' }).click();
    await page.waitForURL(/\/statements/);
    await page.getByTestId('statement').waitFor();
    const check = page.getByTestId('balance-check');
    await check.waitFor();
    expect(await check.textContent()).toContain('The balance sheet balances');
    await page.screenshot({ path: path.join(SHOTS, 'browser-statements.png'), fullPage: true });
    await page.getByRole('link', { name: 'Reconciliation' }).click();
    await page.waitForURL(/\/reconciliation/);
    await page.getByTestId('reconciliation').waitFor();
    await page.getByTestId('recon-file').waitFor();
  });

  it('edits the matching rules of a linked account: a refused value shown beside its field, then saved in a new order', async () => {
    const linked = await context.request.post(`${server.url}/api/reconciliation/links`, { data: { statementAccount: 'E2E-EUR', ledgerAccount: 'assets:bank:operating:eur', asset: 'EUR', kind: 'cash' } });
    expect(linked.status()).toBe(201);
    await page.getByTestId('recon-rules-tab').click();
    await page.getByTestId('recon-rules-account').click();
    await page.getByRole('option', { name: /E2E-EUR/ }).click();
    const panel = page.getByTestId('recon-rules');
    await panel.waitFor();
    expect(await panel.locator('tbody tr[data-rule]').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-rule'))))
      .toEqual(['reference', 'amount_date', 'one_to_many', 'many_to_one', 'reversal']);
    await page.getByTestId('recon-rule-2-days').fill('999');
    await page.getByTestId('recon-rules-save').click();
    await page.getByTestId('recon-rules-error').waitFor();
    expect(await page.getByTestId('recon-rule-2').textContent()).toContain('<=366');
    await page.getByTestId('recon-rule-2-days').fill('3');
    await page.getByRole('button', { name: 'Move rule 5 up' }).click();
    await page.getByTestId('recon-rules-save').click();
    await page.getByTestId('recon-rules-saved').waitFor();
    const rules = await (await context.request.get(`${server.url}/api/reconciliation/links/E2E-EUR/rules`)).json() as { rules: { rule: string; params: Record<string, unknown> }[] };
    expect(rules.rules.map((r) => r.rule)).toEqual(['reference', 'amount_date', 'one_to_many', 'reversal', 'many_to_one']);
    expect(rules.rules[1]!.params.days).toBe(3);
    await page.screenshot({ path: path.join(SHOTS, 'browser-recon-rules.png'), fullPage: true });
  });

  it('signs out, and the pages then ask for a sign-in again', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login$/);
    await page.goto(`${server.url}/trial-balance`);
    await page.waitForURL(/\/login$/);
    expect((await context.request.get(`${server.url}/api/auth/me`)).status()).toBe(401);
  });

  it('ran without script errors or Content-Security-Policy violations', () => {
    expect(pageErrors).toEqual([]);
    // A 401 from /api/auth/me after sign-out is logged by Chromium as a failed resource; nothing else.
    // ... and the 422 of the reference file refused on purpose above.
    expect(consoleErrors.filter((m) => !/status of (401|422)/.test(m))).toEqual([]);
  });
});
