import { chromium } from 'playwright-core';
import { startBackoffice } from './test/e2e/browser-server.js';

const srv = await startBackoffice();
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('console', (m) => { if (m.type() === 'error') console.log('console error:', m.text()); });
  await page.goto(`${srv.url}/login`);
  await page.getByLabel('Username').fill('finance');
  await page.getByLabel('Password').fill('backoffice-demo');
  await page.getByRole('button', { name: /sign in/i }).click();
  await page.waitForURL(/trial-balance/);
  await page.goto(`${srv.url}/statements`);
  await page.getByTestId('balance-check').waitFor();
  await page.screenshot({ path: '/tmp/bs.png', fullPage: true });
  await page.getByRole('button', { name: 'operating' }).first().click();
  await page.getByTestId('drill-entries').waitFor();
  await page.screenshot({ path: '/tmp/drill.png' });
  await page.keyboard.press('Escape');
  await page.getByText('Income statement').click();
  await page.getByTestId('net-income').waitFor();
  await page.screenshot({ path: '/tmp/is.png', fullPage: true });
  await page.goto(`${srv.url}/statements/close`);
  await page.getByTestId('close-summary').waitFor();
  await page.getByRole('button', { name: /^Close 20/ }).click();
  await page.getByRole('status').waitFor();
  console.log('after close:', await page.getByRole('status').innerText());
  await page.getByRole('button', { name: 'Propose an adjustment' }).click();
  await page.getByLabel(/Memo/).fill('fee missed');
  await page.getByLabel(/Postings, one per line/).fill('expenses:clearing-fees USD 25.00\nassets:bank:operating:usd USD -25.00');
  await page.getByRole('button', { name: 'Propose', exact: true }).click();
  await page.getByText(/waits for someone else/).waitFor();
  console.log('approve disabled for proposer:', await page.getByRole('button', { name: 'Approve' }).isDisabled());
  await page.screenshot({ path: '/tmp/close.png', fullPage: true });
  const csv = await page.request.get(`${srv.url}/api/accounting/statements/balance-sheet?format=csv`);
  console.log((await csv.text()).split('\r\n').slice(0, 6).join('\n'));
} finally {
  await browser.close();
  await srv.stop();
}
