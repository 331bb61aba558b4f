import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { testDb } from '../../test/db.js';
import { importTradingReference } from '../../test/trading-reference.js';
import { fixedClock } from '../kernel/index.js';
import { balances, verifyAudit } from '../ledger/index.js';
import { importExecutions } from '../trading/index.js';
import { computeObligations } from './obligations.js';
import { applyStatuses, instructObligations } from './lifecycle.js';
import { Command } from 'commander';
import type { Db } from '../db/index.js';
import { bookFails, failsCommands, listFails } from './fails.js';

const ctx = { actor: 'tester', clock: fixedClock('2026-03-05T22:00:00.000Z') };
const db = await testDb();
const pool = db.pool;
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'fails-ledger-'));
const S = '2026-03-05'; // Thu
const S2 = '2026-03-06'; // Fri
const S3 = '2026-03-09'; // Mon
const HEADER = 'exec_id,account,symbol,side,quantity,price,trade_date,counterparty,currency';
const OPTS = { format: 'sese023' as const, outDir: out, ourBic: 'BOFFUS33', safekeepingAccount: 'SAFE-001' };
const STATUS = 'reference,status,settled_quantity,settled_amount,settle_date,reason';

const bal = async (account: string, asOf?: string) => Object.fromEntries((await balances(pool, { account, ...(asOf ? { asOf } : {}) }))
  .filter((b) => b.account === account).map((b) => [b.asset, b.balance]));
const obligation = async (date: string, cpty: string, sym: string) =>
  (await pool.query<{ id: string }>('SELECT id FROM settlement_obligations WHERE settle_date = $1 AND counterparty = $2 AND symbol = $3', [date, cpty, sym])).rows[0]!.id;
const failRow = async (id: string) => (await pool.query(
  'SELECT status, closed_by, closed_on::text AS closed_on, quantity::text AS q, cash::text AS c, failed_on::text AS failed_on FROM settlement_fails WHERE obligation_id = $1', [id])).rows[0];
const entryCount = async () => Number((await pool.query('SELECT count(*)::int AS n FROM journal_entries')).rows[0].n);

beforeAll(async () => {
  await importTradingReference(pool, ctx);
  const r = await importExecutions(pool, [HEADER,
    'L1,C1002,AAPL,buy,100,190.00,2026-03-04,GSCO,USD',
    'L2,C1003,MSFT,sell,40,400.00,2026-03-04,NSCC,USD',
    'L3,C1001,MSFT,buy,10,401.00,2026-03-05,GSCO,USD',
  ].join('\n'), ctx, { format: 'csv' });
  expect(r).toMatchObject({ booked: 3, quarantined: [] });
  await computeObligations(pool, S, ctx);
  await computeObligations(pool, S2, ctx);
  await instructObligations(pool, S, OPTS, ctx);
  await instructObligations(pool, S2, OPTS, ctx);
});

describe('fails in the ledger', () => {
  it('books a reported fail into the fail account at once, on its settlement date', async () => {
    const aapl = await obligation(S, 'GSCO', 'AAPL');
    expect(await bal('assets:street:GSCO')).toEqual({ AAPL: '100', MSFT: '10', USD: '-23010.00' });
    const r = await applyStatuses(pool, `${STATUS}\n${aapl},failed,,,,LACK\n`, ctx);
    expect(r.applied.map((a) => a.obligationStatus)).toEqual(['failed']);
    // The 100 AAPL to receive and the 19,000.00 to pay moved from the street to GSCO's fail to receive.
    expect(await bal('assets:fails:to-receive:GSCO')).toEqual({ AAPL: '100', USD: '-19000.00' });
    expect(await bal('assets:street:GSCO')).toEqual({ MSFT: '10', USD: '-4010.00' });
    expect(await failRow(aapl)).toEqual({ status: 'open', closed_by: null, closed_on: null, q: '100', c: '-1900000', failed_on: S });
    const key = (await pool.query("SELECT effective_date::text AS d FROM journal_entries WHERE idempotency_key = $1", [`fail:${aapl}:1`])).rows;
    expect(key).toEqual([{ d: S }]);
  });

  it('books a past-due obligation with no status as of a later date, once', async () => {
    const msft = await obligation(S, 'NSCC', 'MSFT');
    // On its own settlement date it is not a fail yet.
    expect((await bookFails(pool, S, ctx)).booked).toEqual([]);
    const r = await bookFails(pool, S2, ctx);
    expect(r.booked).toEqual([{ obligationId: msft, account: 'liabilities:fails:to-deliver:NSCC', quantity: '-40', cash: '16000.00', date: S, entryKey: `fail:${msft}:1` }]);
    expect(await bal('liabilities:fails:to-deliver:NSCC')).toEqual({ MSFT: '-40', USD: '16000.00' });
    expect(await bal('assets:street:NSCC')).toEqual({});
    const n = await entryCount();
    expect(await bookFails(pool, S2, ctx)).toEqual({ booked: [], carried: [] });
    // The command books too (nothing more now) and shows the fail accounts.
    const printed: string[] = [];
    const program = new Command('backoffice').exitOverride();
    failsCommands(program, (fn) => fn({ pool } as Db), (json, value, text) => printed.push(json ? JSON.stringify(value) : text()), () => ctx.clock, () => 'tester');
    await program.parseAsync(['settlement', 'fails', '--as-of', S2, '--book'], { from: 'user' });
    expect(printed.pop()).toMatch(/liabilities:fails:to-deliver:NSCC +MSFT +-40\n/);
    expect(await entryCount()).toBe(n);
  });

  it('shows the fails aging with what of them is in the ledger, and the fail balances as of the date', async () => {
    const r = await listFails(pool, S3);
    expect(r.fails.map((f) => [f.counterparty, f.security, f.settleDate, f.age, f.inLedger?.quantity, f.inLedger?.cash, f.inLedger?.account])).toEqual([
      ['GSCO', 'AAPL', S, 2, '100', '-19000.00', 'assets:fails:to-receive:GSCO'],
      ['NSCC', 'MSFT', S, 2, '-40', '16000.00', 'liabilities:fails:to-deliver:NSCC'],
      // Friday's MSFT from GSCO is past due too, not booked yet (no booking as of Monday has run).
      ['GSCO', 'MSFT', S2, 1, undefined, undefined, undefined],
    ]);
    expect(r.ledger).toEqual([
      { account: 'assets:fails:to-receive:GSCO', counterparty: 'GSCO', direction: 'to_receive', asset: 'AAPL', balance: '100' },
      { account: 'assets:fails:to-receive:GSCO', counterparty: 'GSCO', direction: 'to_receive', asset: 'USD', balance: '-19000.00' },
      { account: 'liabilities:fails:to-deliver:NSCC', counterparty: 'NSCC', direction: 'to_deliver', asset: 'MSFT', balance: '-40' },
      { account: 'liabilities:fails:to-deliver:NSCC', counterparty: 'NSCC', direction: 'to_deliver', asset: 'USD', balance: '16000.00' },
    ]);
    // As of the day before the settlement date the fail accounts held nothing.
    expect((await listFails(pool, '2026-03-04')).ledger).toEqual([]);
  });

  it('settles out of the fail accounts, in part and in whole, which then net to zero', async () => {
    const aapl = await obligation(S, 'GSCO', 'AAPL');
    const msft = await obligation(S, 'NSCC', 'MSFT');
    const r = await applyStatuses(pool, [STATUS,
      `${aapl},settled,100,19000.00,${S3},`,
      `${msft},partially_settled,25,10000.00,${S3},`,
    ].join('\n'), ctx);
    expect(r.applied.map((a) => [a.obligationStatus, a.settledQuantity])).toEqual([['settled', '100'], ['partially_settled', '-25']]);
    expect(await bal('assets:fails:to-receive:GSCO')).toEqual({});
    expect(await bal('liabilities:fails:to-deliver:NSCC')).toEqual({ MSFT: '-15', USD: '6000.00' });
    expect(await failRow(aapl)).toMatchObject({ status: 'closed', closed_by: 'settled', closed_on: S3, q: '0', c: '0' });
    // The street side was not touched: the fail accounts held it.
    expect(await bal('assets:street:NSCC')).toEqual({});
    await applyStatuses(pool, `${STATUS}\n${msft},settled,15,6000.00,${S3},\n`, ctx);
    expect(await bal('liabilities:fails:to-deliver:NSCC')).toEqual({});
    expect(await failRow(msft)).toMatchObject({ status: 'closed', closed_by: 'settled' });
    expect(await bal('assets:depository:dtc')).toEqual({ AAPL: '100', MSFT: '-40' });
    expect(await bal('assets:bank:settlement:usd')).toEqual({ USD: '-3000.00' });
    // As of the settlement date they are still in the fail accounts; as of the day they settled, gone.
    expect(await bal('assets:fails:to-receive:GSCO', S2)).toEqual({ AAPL: '100', USD: '-19000.00' });
    expect(await bal('assets:fails:to-receive:GSCO', S3)).toEqual({});
    expect((await listFails(pool, S3)).fails.map((f) => [f.settleDate, f.counterparty, f.security])).toEqual([[S2, 'GSCO', 'MSFT']]);
  });

  it('a fail carried into a later net goes back to the street on that date, and settles from there', async () => {
    const first = await obligation(S2, 'GSCO', 'MSFT');
    await applyStatuses(pool, `${STATUS}\n${first},failed,,,,LACK\n`, ctx);
    expect(await bal('assets:fails:to-receive:GSCO')).toEqual({ MSFT: '10', USD: '-4010.00' });
    // Monday's net carries Friday's fail.
    const run = await computeObligations(pool, S3, ctx);
    expect(run.obligations.map((o) => [o.counterparty, o.security, o.quantity, o.fails]), JSON.stringify(run.obligations)).toEqual([['GSCO', 'MSFT', '10', 1]]);
    const r = await bookFails(pool, S3, ctx);
    expect(r.carried).toEqual([{ obligationId: first, into: S3, quantity: '10', cash: '-4010.00', entryKey: `fail-carried:${first}:2` }]);
    expect(await bal('assets:fails:to-receive:GSCO')).toEqual({});
    // As of Friday both GSCO fails were there (the AAPL settled on Monday).
    expect(await bal('assets:fails:to-receive:GSCO', S2)).toEqual({ AAPL: '100', MSFT: '10', USD: '-23010.00' });
    expect(await bal('assets:street:GSCO')).toEqual({ MSFT: '10', USD: '-4010.00' });
    expect(await failRow(first)).toMatchObject({ status: 'closed', closed_by: 'carried', closed_on: S3 });

    await instructObligations(pool, S3, OPTS, ctx);
    const monday = await obligation(S3, 'GSCO', 'MSFT');
    await applyStatuses(pool, `${STATUS}\n${monday},settled,10,4010.00,${S3},\n`, ctx);
    expect(await bal('assets:street:GSCO')).toEqual({});
    expect([...await balances(pool, { account: 'assets:fails' }), ...await balances(pool, { account: 'liabilities:fails' })]).toEqual([]);
    const v = await verifyAudit(pool);
    expect(v.problems).toEqual([]);
    expect(v.ok).toBe(true);
  });
});
