import fs from 'node:fs';
import type { Pool } from '../src/db/index.js';
import type { Clock } from '../src/kernel/index.js';
import { importCounterparties, importCustomerAccounts, importFees, importSecurities } from '../src/reference/index.js';

/** A file of test/fixtures/trading/. */
export const tradingFixture = (file: string) => fs.readFileSync(`test/fixtures/trading/${file}`, 'utf8');

/** The reference data most trading and settlement tests start from: test/fixtures/trading/*.csv. */
export async function importTradingReference(pool: Pool, ctx: { actor: string; clock: Clock }): Promise<void> {
  await importSecurities(pool, tradingFixture('securities.csv'), 'securities.csv', ctx);
  await importCustomerAccounts(pool, tradingFixture('accounts.csv'), 'accounts.csv', ctx);
  await importCounterparties(pool, tradingFixture('counterparties.csv'), 'counterparties.csv', ctx);
  await importFees(pool, tradingFixture('fees.csv'), 'fees.csv', ctx);
}
