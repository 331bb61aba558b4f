/**
 * A 3-for-2 stock split of MSFT end to end in the books: trades booked through trading, settled
 * (or failed) through settlement, the announcement imported, previewed, applied on its effective
 * date 2026-03-16, fractions paid in cash at 150.00 a share.
 *
 * Trades (commission 0.005 a share, minimum 1.00):
 *   S1 C1001 buy 100 @ 299.99 on 03-02 from GSCO: cost 29999.00 + 1.00 = 30000.00 (300 a share)
 *   S2 C1001 buy  50 @ 309.98 on 03-04 from GSCO: cost 15499.00 + 1.00 = 15500.00 (310 a share)
 *   S3 C1002 buy   1 @ 299.00 on 03-05 from GSCO: cost 300.00
 *   S4 C1003 buy  33 @ 303.00 on 03-05 from NSCC: cost 9999.00 + 1.00 = 10000.00; NSCC fails to deliver
 *   S5 C1001 sell 19 @ 320.00 on 03-09 to GSCO: FIFO out of S1 (81 left of it)
 * Positions at the end of 03-15 (the day before): C1001 131, C1002 1, C1003 33 (customers, 165);
 * the depository 100 + 50 + 1 - 19 = 132; NSCC still owes 33.
 *
 * The split, per account, rounded down to whole shares, the fraction paid at 150.00:
 *   C1001 131 x 1.5 = 196.5 -> 196 (+65), cash in lieu 0.5 x 150 = 75.00
 *   C1002   1 x 1.5 =   1.5 ->   1 (+0),  75.00
 *   C1003  33 x 1.5 =  49.5 ->  49 (+16), 75.00
 *   depository 132 x 1.5 = 198 (+66), no fraction
 *   NSCC 33 x 1.5 = 49.5 -> 49 (+16): NSCC owes us 49 shares and 75.00 for the half (claim)
 *   shares: customers +81, depository and NSCC +82: the firm keeps 1 share (firm:fractional-shares,
 *   credit 1) for which it paid 3 x 75.00 - 75.00 = 150.00 (debit).
 * Lots: quantity x 1.5, unit cost / 1.5, dates kept; the fraction leaves the newest lot as a sale
 * at 75.00:
 *   C1001 S1 81 @ 300 -> 121.5 @ 200 (24300.00); S2 50 @ 310 -> 75 @ 206.666.. less 0.5 -> 74.5
 *         (15396.67); realized 0.5: proceeds 75.00, cost 103.33, P&L -28.33; cost basis 39696.67
 *         (39800.00 before, less 103.33)
 *   C1002 S3 1 @ 300 -> 1.5 @ 200 less 0.5 -> 1 (200.00); realized 75.00 - 100.00 = -25.00
 *   C1003 S4 33 @ 303.0303.. -> 49.5 @ 202.0202.. less 0.5 -> 49 (9898.99); realized 75.00 - 101.01 = -26.01
 */
import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import { testDb } from '../../../test/db.js';
import { importTradingReference } from '../../../test/trading-reference.js';
import { Dec, fixedClock } from '../../kernel/index.js';
import { balances, getEntriesByKey, trialBalance, verifyAudit } from '../../ledger/index.js';
import { importExecutions, listLots, listRealized, positions } from '../../trading/index.js';
import { applyAction, importAnnouncements, previewAction } from './index.js';
import { settleDate } from './test-support.js';

const at = (iso: string) => ({ actor: 'asset-servicing', clock: fixedClock(iso) });
const ctx = at('2026-03-13T12:00:00.000Z');
const db = await testDb();
const pool = db.pool;
const ID = 'SPLIT-MSFT-2026';
const HEADER = 'exec_id,account,symbol,side,quantity,price,trade_date,counterparty,currency';

const bal = async (account: string, asset: string) =>
  (await balances(pool, { account })).find((b) => b.account === account && b.asset === asset)?.balance ?? '0';
/** Lots of an account in MSFT: [trade exec id, open date, quantity, remaining, unit cost to 6 places]. */
const lotsOf = async (account: string) => {
  const execs = new Map((await pool.query<{ id: string; exec_id: string }>('SELECT id, exec_id FROM trades')).rows.map((r) => [r.id, r.exec_id]));
  return (await listLots(pool, account, 'MSFT')).map((l) => [execs.get(l.tradeId), l.openDate, new Dec(l.quantity).toFixed(), new Dec(l.remaining).toFixed(), new Dec(l.unitCost).toFixed(6)]);
};
const costOf = async (account: string) => (await positions(pool, { account, security: 'MSFT' }))[0]?.costBasis;

beforeAll(async () => {
  await importTradingReference(pool, ctx);
  const r = await importExecutions(pool, [HEADER,
    'S1,C1001,MSFT,buy,100,299.99,2026-03-02,GSCO,USD',
    'S2,C1001,MSFT,buy,50,309.98,2026-03-04,GSCO,USD',
    'S3,C1002,MSFT,buy,1,299.00,2026-03-05,GSCO,USD',
    'S4,C1003,MSFT,buy,33,303.00,2026-03-05,NSCC,USD',
    'S5,C1001,MSFT,sell,19,320.00,2026-03-09,GSCO,USD',
  ].join('\n'), ctx, { format: 'csv', source: 'test' });
  expect(r).toMatchObject({ booked: 5, quarantined: [] });
  await settleDate(pool, '2026-03-03', ctx);
  await settleDate(pool, '2026-03-05', ctx);
  await settleDate(pool, '2026-03-06', ctx, (cp) => cp === 'NSCC');
  await settleDate(pool, '2026-03-10', ctx, (cp) => cp === 'NSCC');
  await importAnnouncements(pool, fs.readFileSync('test/fixtures/corporate-actions/split.csv', 'utf8'), 'split.csv', ctx);
});

describe('3-for-2 stock split', () => {
  it('starts from the lots and positions the trades left', async () => {
    expect(await lotsOf('C1001')).toEqual([['S1', '2026-03-02', '100', '81', '300.000000'], ['S2', '2026-03-04', '50', '50', '310.000000']]);
    expect(await costOf('C1001')).toBe('39800.00');
    expect(await costOf('C1003')).toBe('10000.00');
  });

  it('refuses to apply before the effective date, even forced', async () => {
    for (const force of [false, true]) {
      const e = await applyAction(pool, ID, at('2026-03-15T18:00:00.000Z'), { force }).catch((x) => x);
      expect(e).toMatchObject({ code: 'CORPORATE_ACTION_NOT_DUE', kind: 'unexpected_state' });
    }
  });

  it('previews per account: new quantity rounded down, the fraction and its cash in lieu, and the entry', async () => {
    const p = await previewAction(pool, ID, at('2026-03-16T08:00:00.000Z'));
    expect(p).toMatchObject({ positionsAsOf: '2026-03-15', basis: 'trade', due: true, applied: false, problems: [] });
    expect(p.customers.map((c) => [c.holder, c.quantity, c.newQuantity, c.fraction, c.cashInLieu, c.cashAccount])).toEqual([
      ['C1001', '131', '196', '0.5', '75.00', 'customers:C1001:cash'],
      ['C1002', '1', '1', '0.5', '75.00', 'customers:C1002:cash'],
      ['C1003', '33', '49', '0.5', '75.00', 'customers:C1003:cash'],
    ]);
    expect(p.firm.map((f) => [f.holderKind, f.holder, f.quantity, f.newQuantity, f.cashInLieu])).toEqual([
      ['depository', 'dtc', '132', '198', '0.00'],
      ['counterparty', 'NSCC', '33', '49', '75.00'],
      ['firm', 'fractional shares', '0', '1', '-150.00'],
    ]);
    expect(p.totals).toMatchObject({ quantity: '165', newQuantity: '246', cashInLieu: '225.00' });
    expect(p.entries).toHaveLength(1);
    const e = p.entries[0]!;
    expect(e).toMatchObject({ key: `ca:${ID}:split`, date: '2026-03-16' });
    const legs = Object.fromEntries(e.postings.map((x) => [`${x.account} ${x.asset}`, x.amount]));
    const nscc = e.postings.find((x) => x.asset === 'MSFT' && x.account.endsWith(':NSCC'))!.account;
    expect(legs).toEqual({
      'customers:C1001:securities MSFT': '-65',
      'customers:C1003:securities MSFT': '-16',
      'assets:depository:dtc MSFT': '66',
      [`${nscc} MSFT`]: '16',
      'firm:fractional-shares MSFT': '-1',
      'customers:C1001:cash USD': '-75.00',
      'customers:C1002:cash USD': '-75.00',
      'customers:C1003:cash USD': '-75.00',
      'assets:corporate-actions:claims:NSCC USD': '75.00',
      'firm:fractional-shares USD': '150.00',
    });
    expect(p.warnings.join('\n')).toContain('takes over 1 MSFT');
    // NSCC's fail (03-06, carried into 03-10, failed again) is in old units: both obligations are
    // converted with the street side, 33 -> 49, the half share (cash in lieu) reported once.
    expect(p.warnings.join('\n')).not.toContain('old units');
    expect(p.settlement!.adjustments.map((x) => [x.settleDate, x.counterparty, x.status, x.quantity, x.newQuantity, x.fraction, x.carriedInto])).toEqual([
      ['2026-03-06', 'NSCC', 'failed', '33', '49', '0', '2026-03-10'],
      ['2026-03-10', 'NSCC', 'failed', '33', '49', '0.5', undefined],
    ]);
  });

  it('applies on the effective date: positions, depository and street adjusted, cash in lieu credited, lots split', async () => {
    const cash = { C1001: await bal('customers:C1001:cash', 'USD'), C1002: await bal('customers:C1002:cash', 'USD'), C1003: await bal('customers:C1003:cash', 'USD') };
    const r = await applyAction(pool, ID, at('2026-03-16T08:00:00.000Z'));
    expect(r).toMatchObject({ applied: true, alreadyApplied: false, lotsRecomputed: ['C1001', 'C1002', 'C1003'] });
    const [entry] = await getEntriesByKey(pool, [`ca:${ID}:split`]);
    expect(entry).toMatchObject({ id: r.entryIds[0], date: '2026-03-16' });

    // Positions (trade date, from the ledger) before and after the effective date.
    const q = async (asOf: string) => (await positions(pool, { security: 'MSFT', asOf })).map((p) => [p.account, p.quantity]);
    expect(await q('2026-03-15')).toEqual([['C1001', '131'], ['C1002', '1'], ['C1003', '33']]);
    expect(await q('2026-03-16')).toEqual([['C1001', '196'], ['C1002', '1'], ['C1003', '49']]);
    expect(await bal('assets:depository:dtc', 'MSFT')).toBe('198');
    expect(await bal('firm:fractional-shares', 'MSFT')).toBe('-1');
    expect(await bal('firm:fractional-shares', 'USD')).toBe('150.00');
    expect(await bal('assets:corporate-actions:claims:NSCC', 'USD')).toBe('75.00');
    // NSCC's open fail now owes the 49 shares the street side holds; its cash is unchanged.
    const fail = (await pool.query("SELECT quantity::text AS q, cash::text AS c FROM settlement_obligations WHERE counterparty = 'NSCC' AND settle_date = '2026-03-10'")).rows[0];
    expect(fail).toEqual({ q: '49', c: '-999900' });
    // Cash in lieu: 75.00 off each customer's debit (the firm owes them more).
    for (const a of ['C1001', 'C1002', 'C1003'] as const) {
      expect(new Dec(await bal(`customers:${a}:cash`, 'USD')).sub(cash[a]).toFixed(2), a).toBe('-75.00');
    }

    // Lots: quantity x 1.5, unit cost / 1.5, open dates kept; the fraction out of the newest lot.
    expect(await lotsOf('C1001')).toEqual([['S1', '2026-03-02', '150', '121.5', '200.000000'], ['S2', '2026-03-04', '75', '74.5', '206.666667']]);
    expect(await lotsOf('C1002')).toEqual([['S3', '2026-03-05', '1.5', '1', '200.000000']]);
    expect(await lotsOf('C1003')).toEqual([['S4', '2026-03-05', '49.5', '49', '202.020202']]);
    expect([await costOf('C1001'), await costOf('C1002'), await costOf('C1003')]).toEqual(['39696.67', '200.00', '9898.99']);
    const cil = async (account: string) => (await listRealized(pool, account, 'MSFT')).filter((x) => x.corporateAction === ID).map((x) => [x.quantity, x.proceeds, x.cost, x.pnl, x.tradeDate]);
    expect(await cil('C1001')).toEqual([['0.5', '75.00', '103.33', '-28.33', '2026-03-16']]);
    expect(await cil('C1002')).toEqual([['0.5', '75.00', '100.00', '-25.00', '2026-03-16']]);
    expect(await cil('C1003')).toEqual([['0.5', '75.00', '101.01', '-26.01', '2026-03-16']]);
  });

  it('is idempotent: applying again changes nothing', async () => {
    const snap = async () => ({
      entries: (await pool.query('SELECT count(*)::int AS n FROM journal_entries')).rows[0].n,
      audit: (await pool.query('SELECT count(*)::int AS n FROM audit_log')).rows[0].n,
      lots: (await pool.query('SELECT * FROM lots ORDER BY account, lot_id')).rows,
      balances: await balances(pool),
    });
    const before = await snap();
    const again = await applyAction(pool, ID, at('2026-03-17T08:00:00.000Z'));
    expect(again).toMatchObject({ applied: false, alreadyApplied: true });
    expect(await snap()).toEqual(before);
  });

  it('keeps lots right when they are recomputed from the trades after the split (the split replayed in date order)', async () => {
    // C1001 sells 150 after the split, FIFO: all of S1 (121.5) and 28.5 of S2, which keeps 46.
    // Proceeds: 31500.00 - commission 1.00 - SEC fee 0.88 (31500 x 27.80/1e6 = 0.8757, up) - TAF 0.03
    // (150 x 0.000166 = 0.0249, up) = 31498.09; S1: 31498.09 x 121.5/150 = 25513.45 against 24300.00;
    // S2: 31498.09 x 28.5/150 = 5984.64 against 28.5 x 206.666.. = 5890.00.
    // C1002 buys 10 @ 205.00 (cost 2051.00): its split lot S3 stays 1 @ 200.
    const r = await importExecutions(pool, [HEADER, 'S6,C1001,MSFT,sell,150,210.00,2026-03-17,GSCO,USD', 'S7,C1002,MSFT,buy,10,205.00,2026-03-18,GSCO,USD'].join('\n'), ctx, { format: 'csv', source: 'test' });
    expect(r).toMatchObject({ booked: 2, quarantined: [] });
    expect(await lotsOf('C1001')).toEqual([['S2', '2026-03-04', '75', '46', '206.666667']]);
    expect(await costOf('C1001')).toBe('9506.67');
    const execs = new Map((await pool.query<{ id: string; exec_id: string }>('SELECT id, exec_id FROM trades')).rows.map((x) => [x.id, x.exec_id]));
    const sale = (await listRealized(pool, 'C1001', 'MSFT')).filter((x) => execs.get(x.saleTrade) === 'S6').map((x) => [execs.get(x.lotId), x.quantity, x.proceeds, x.cost, x.pnl]);
    expect(sale).toEqual([['S1', '121.5', '25513.45', '24300.00', '1213.45'], ['S2', '28.5', '5984.64', '5890.00', '94.64']]);
    expect(await lotsOf('C1002')).toEqual([['S3', '2026-03-05', '1.5', '1', '200.000000'], ['S7', '2026-03-18', '10', '10', '205.100000']]);
    expect((await positions(pool, { account: 'C1001', security: 'MSFT' }))[0]!.quantity).toBe('46');
  });

  it('leaves the books balanced and the audit trail whole', async () => {
    for (const t of (await trialBalance(pool)).totals) expect(t.debit, t.asset).toBe(t.credit);
    expect((await verifyAudit(pool)).problems).toEqual([]);
  });
});
