import { describe, it, expect, beforeAll } from 'vitest';
import { testDb } from '../../test/db.js';
import { importTradingReference } from '../../test/trading-reference.js';
import { fixedClock } from '../kernel/index.js';
import { balances, getEntry, trialBalance, verifyAudit } from '../ledger/index.js';
import { importPrices } from '../reference/index.js';
import { bookExecutions, readExecutions, importExecutions, listTrades, positions, listLots, listRealized, listQuarantine, retryQuarantined, cashAvailable, inventory } from './index.js';

const ctx = { actor: 'tester', clock: fixedClock('2026-03-10T12:00:00.000Z') };
const db = await testDb();
const pool = db.pool;
const HEADER = 'exec_id,account,symbol,side,quantity,price,trade_date,counterparty,currency,kind,exec_ref_id';

beforeAll(async () => {
  await importTradingReference(pool, ctx);
});

describe('booking executions from CSV', () => {
  it('books fills with fees, quarantines bad rows, and is idempotent', async () => {
    const csv = [HEADER,
      'E1,C1002,AAPL,buy,100,190.25,2026-03-02,GSCO,USD,,',
      'E2,C1002,AAPL,buy,50,192.00,2026-03-03,GSCO,USD,,',
      'E3,C1002,AAPL,sell,120,195.50,2026-03-04,GSCO,USD,,',
      'E4,C9999,AAPL,buy,1,1,2026-03-04,GSCO,USD,,',
      'E5,C1002,AAPL,buy,1.5,1,2026-03-04,GSCO,USD,,',
      'E6,C1002,AAPL,buy,1,-3,2026-03-04,GSCO,USD,,',
      'E7,C1001,AAPL,short,10,190,2026-03-04,GSCO,USD,,',
      'E8,C1002,AAPL,buy,1,190,2026-03-07,GSCO,USD,,',
    ].join('\n');
    const r = await importExecutions(pool, csv, ctx, { format: 'csv' });
    expect(r).toMatchObject({ received: 8, booked: 3, duplicates: 0, ignored: 0 });
    expect(r.quarantined.map((q) => q.reason)).toEqual([
      'line 5 (exec E4): account "C9999" is not known',
      'line 6 (exec E5): quantity 1.5 has more decimals than AAPL allows (0)',
      'line 7 (exec E6): price "-3" must be a positive decimal',
      'line 8 (exec E7): account C1001 is a cash account: it cannot sell short',
      expect.stringContaining('line 9 (exec E8): trade date 2026-03-07 is not a trading day'),
    ]);
    const again = await importExecutions(pool, csv, ctx, { format: 'csv' });
    expect(again).toMatchObject({ booked: 0, duplicates: 3 });

    const trades = await listTrades(pool, { account: 'C1002' });
    const sell = trades.find((t) => t.execId === 'E3')!;
    // 120 x 195.50 = 23,460.00; commission 120 x 0.005 = 0.60 -> minimum 1.00;
    // SEC fee 23,460 x 27.80 / 1e6 = 0.652188 -> 0.66 (rounded up); TAF 120 x 0.000166 = 0.01992 -> 0.02.
    expect(sell).toMatchObject({ gross: '23460.00', commission: '1.00', secFee: '0.66', finraTaf: '0.02', net: '23458.32', settleDate: '2026-03-05', settleProvisional: false });
    const buy = trades.find((t) => t.execId === 'E1')!;
    expect(buy).toMatchObject({ gross: '19025.00', commission: '1.00', secFee: '0.00', net: '19026.00', settleDate: '2026-03-03' });

    expect(await positions(pool, { account: 'C1002' })).toMatchObject([{ account: 'C1002', security: 'AAPL', quantity: '30' }]);
    expect(await positions(pool, { account: 'C1002', asOf: '2026-03-03' })).toMatchObject([{ quantity: '150' }]);
    expect(await positions(pool, { account: 'C1002', basis: 'settlement', asOf: '2026-03-04' })).toMatchObject([{ quantity: '150' }]);
    expect(await positions(pool, { account: 'C1002', basis: 'settlement', asOf: '2026-03-05' })).toMatchObject([{ quantity: '30' }]);

    // FIFO: the sale of 120 closes the 100 of E1 and 20 of E2.
    const lots = await listLots(pool, 'C1002', 'AAPL');
    expect(lots.map((l) => [l.tradeId === trades.find((t) => t.execId === 'E2')!.id, l.remaining])).toEqual([[true, '30']]);
    const realized = await listRealized(pool, 'C1002', 'AAPL');
    // Proceeds per share 23458.32 / 120 = 195.486; cost per share E1 19026.00 / 100 = 190.26,
    // E2 (9600.00 + 1.00) / 50 = 192.02: 100 x 5.226 = 522.60 and 20 x 3.466 = 69.32.
    expect(realized.map((x) => [x.quantity, x.pnl])).toEqual([['100', '522.60'], ['20', '69.32']]);

    const tb = await trialBalance(pool);
    for (const t of tb.totals) expect(t.debit).toBe(t.credit);
    expect((await cashAvailable(pool, 'C1002'))!.balance).toBe(new Intl.NumberFormat('en', { minimumFractionDigits: 2, useGrouping: false }).format(-19026 - 9601 + 23458.32));
    expect((await inventory(pool, 'AAPL')).customerTotal).toBe('30');
    expect((await verifyAudit(pool)).ok).toBe(true);
  });

  it('reverses and rebooks on cancels and corrections, corrections of corrections included', async () => {
    const csv = [HEADER,
      'X1,C1003,MSFT,buy,100,400.00,2026-03-05,GSCO,USD,,',
      'X2,C1003,MSFT,buy,200,401.00,2026-03-05,GSCO,USD,,',
      'X3,C1003,MSFT,buy,150,402.00,2026-03-05,GSCO,USD,correct,X2',
      'X4,C1003,MSFT,buy,120,402.50,2026-03-05,GSCO,USD,correct,X3',
      'X5,C1003,MSFT,buy,,,2026-03-05,GSCO,USD,cancel,X1',
      'X6,C1003,MSFT,buy,,,2026-03-05,GSCO,USD,cancel,NOPE',
    ].join('\n');
    const r = await importExecutions(pool, csv, ctx, { format: 'csv' });
    expect(r.booked).toBe(5);
    expect(r.quarantined.map((q) => q.reason)).toEqual(['line 7 (exec X6): refers to execution NOPE, which is unknown or no longer booked']);
    expect(await positions(pool, { account: 'C1003', security: 'MSFT' })).toMatchObject([{ quantity: '120' }]);
    const live = await listTrades(pool, { account: 'C1003', status: 'booked' });
    expect(live.map((t) => [t.execId, t.quantity, t.price])).toEqual([['X4', '120', '402.50']]);
    expect(await balances(pool, { account: 'assets:street:GSCO' })).toContainEqual({ account: 'assets:street:GSCO', asset: 'MSFT', balance: '120' });
  });

  it('books each execution once when two imports of the same file run at once, in small chunks', async () => {
    // 60 records of C1001 in MSFT (source "pipe"): buys of 1..n shares; every 7th cancels the fill two
    // before it and every 11th corrects the fill before it to one share more, so cancels and
    // corrections refer across the chunk boundaries of both imports (chunks of 3 and of 4).
    const lines = [HEADER];
    const standing = new Map<string, number>();
    for (let i = 1; i <= 60; i++) {
      const id = `P${i}`;
      const prev = `P${i - 1}`, before = `P${i - 2}`;
      if (i % 7 === 0 && standing.has(before)) {
        lines.push(`${id},C1001,MSFT,buy,,,2026-03-05,GSCO,USD,cancel,${before}`);
        standing.delete(before);
      } else if (i % 11 === 0 && standing.has(prev)) {
        const q = standing.get(prev)! + 1;
        lines.push(`${id},C1001,MSFT,buy,${q},400.00,2026-03-05,GSCO,USD,correct,${prev}`);
        standing.delete(prev);
        standing.set(id, q);
      } else {
        lines.push(`${id},C1001,MSFT,buy,${i},400.00,2026-03-05,GSCO,USD,,`);
        standing.set(id, i);
      }
    }
    const text = lines.join('\n');
    const [a, b] = await Promise.all([
      bookExecutions(pool, readExecutions(text, 'csv', 'pipe'), ctx, { chunk: 3 }),
      bookExecutions(pool, readExecutions(text, 'csv', 'pipe'), ctx, { chunk: 4 }),
    ]);
    // Each record taken once, by one import or the other; nothing quarantined.
    expect(a.booked + b.booked).toBe(60);
    expect(a.duplicates + b.duplicates).toBe(60);
    expect([...a.quarantined, ...b.quarantined]).toEqual([]);
    const live = await listTrades(pool, { account: 'C1001', symbol: 'MSFT', status: 'booked' });
    expect(live.filter((t) => t.source === 'pipe').map((t) => [t.execId, Number(t.quantity)]).sort()).toEqual([...standing].sort());
    const total = [...standing.values()].reduce((x, y) => x + y, 0);
    expect(await positions(pool, { account: 'C1001', security: 'MSFT' })).toMatchObject([{ quantity: String(total) }]);
    // The lots hold what stands, the books balance and the audit chain verifies.
    expect((await listLots(pool, 'C1001', 'MSFT')).reduce((x, l) => x + Number(l.remaining), 0)).toBe(total);
    for (const t of (await trialBalance(pool)).totals) expect(t.debit).toBe(t.credit);
    expect((await verifyAudit(pool)).ok).toBe(true);
    // Sent once more: nothing changes.
    const again = await bookExecutions(pool, readExecutions(text, 'csv', 'pipe'), ctx, { chunk: 5 });
    expect(again).toMatchObject({ booked: 0, duplicates: 60 });
  });

  it('recomputes the lots an import left waiting when it stopped after booking, before getting to them', async () => {
    const csv = [HEADER, 'K1,C1003,MSFT,buy,100,400.00,2026-03-02,GSCO,USD,,', 'K2,C1003,MSFT,sell,40,410.00,2026-03-04,GSCO,USD,,'].join('\n');
    // The process stops once the trades have committed, before their lots are recomputed: here,
    // the recomputation fails.
    await pool.query(`CREATE FUNCTION test_stop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'process stopped'; END $$`);
    await pool.query('CREATE TRIGGER test_stop BEFORE DELETE ON lots_pending FOR EACH ROW EXECUTE FUNCTION test_stop()');
    await expect(importExecutions(pool, csv, ctx, { format: 'csv' })).rejects.toThrow(/process stopped/);
    await pool.query('DROP TRIGGER test_stop ON lots_pending');
    await pool.query('DROP FUNCTION test_stop()');
    const trades = await listTrades(pool, { account: 'C1003', symbol: 'MSFT', status: 'booked' });
    const id = (exec: string) => trades.find((t) => t.execId === exec)!.id;
    expect(trades.map((t) => t.execId).sort()).toEqual(['K1', 'K2', 'X4']);
    // Booked, but the lots are still those of before (X4, from the test above).
    expect((await listLots(pool, 'C1003', 'MSFT')).map((l) => [l.tradeId, l.remaining])).toEqual([[id('X4'), '120']]);
    expect((await pool.query(`SELECT account, symbol FROM lots_pending`)).rows).toEqual([{ account: 'C1003', symbol: 'MSFT' }]);

    // Sent again: nothing is booked twice, and the lots waiting are recomputed.
    const again = await importExecutions(pool, csv, ctx, { format: 'csv' });
    expect(again).toMatchObject({ booked: 0, duplicates: 2 });
    // FIFO in trade-date order: the sale of 40 on the 4th closes part of the buy of the 2nd.
    expect((await listLots(pool, 'C1003', 'MSFT')).map((l) => [l.tradeId, l.remaining])).toEqual([[id('K1'), '60'], [id('X4'), '120']]);
    expect((await listRealized(pool, 'C1003', 'MSFT')).map((r) => [r.saleTrade, r.lotId, r.quantity])).toEqual([[id('K2'), id('K1'), '40']]);
    expect((await pool.query('SELECT count(*)::int AS n FROM lots_pending')).rows[0].n).toBe(0);
  });

  it('makes one entry per trade date: each trade\'s customer legs, the street side and the fees summed; a cancel reverses the trade\'s own legs', async () => {
    const csv = [HEADER,
      'G1,C1002,MSFT,buy,10,100.00,2026-03-09,NSCC,USD,,',
      'G2,C1002,MSFT,sell,4,101.00,2026-03-09,NSCC,USD,,',
      'G3,C1003,MSFT,buy,5,100.50,2026-03-09,NSCC,USD,,',
      'G4,C1003,MSFT,buy,1,99.00,2026-03-06,NSCC,USD,,',
    ].join('\n');
    expect(await importExecutions(pool, csv, ctx, { format: 'csv' })).toMatchObject({ booked: 4 });
    const trades = (await listTrades(pool, { symbol: 'MSFT' })).filter((t) => /^G\d$/.test(t.execId));
    const by = (exec: string) => trades.find((t) => t.execId === exec)!;
    // Trades of one date share an entry; each date has its own.
    expect(new Set([by('G1').entryId, by('G2').entryId, by('G3').entryId]).size).toBe(1);
    expect(by('G4').entryId).not.toBe(by('G1').entryId);
    const day = await getEntry(pool, by('G1').entryId);
    expect(day).toMatchObject({ date: '2026-03-09', memo: '3 trades of 2026-03-09: csv G1 to csv G3' });
    const lines = (account: string, asset: string) => day.postings.filter((p) => p.account === account && p.asset === asset).map((p) => p.amount);
    // The customer's legs one per trade: securities, then the net in cash.
    expect(lines('customers:C1002:securities', 'MSFT')).toEqual(['-10', '4']);
    expect(lines('customers:C1002:cash', 'USD')).toEqual([by('G1').net, `-${by('G2').net}`]);
    expect(lines('customers:C1003:securities', 'MSFT')).toEqual(['-5']);
    // The street side and the fees: one posting each, the sum of the trades'.
    expect(lines('assets:street:NSCC', 'MSFT')).toEqual(['11']);
    const cents = (a: string) => BigInt(a.replace('.', ''));
    const usd = (v: bigint) => `${v < 0n ? '-' : ''}${(v < 0n ? -v : v) / 100n}.${String((v < 0n ? -v : v) % 100n).padStart(2, '0')}`;
    expect(lines('assets:street:NSCC', 'USD')).toEqual([usd(-cents(by('G1').gross) + cents(by('G2').gross) - cents(by('G3').gross))]);
    expect(lines('income:commissions', 'USD')).toEqual([usd(-(cents(by('G1').commission) + cents(by('G2').commission) + cents(by('G3').commission)))]);
    expect(lines('liabilities:regulatory:sec-fee', 'USD')).toEqual([`-${by('G2').secFee}`]);
    // Six customer legs (two per trade), five shared (street MSFT and USD, commission, SEC fee, TAF).
    expect(day.postings).toHaveLength(6 + 5);

    // Cancel G2: its own six legs reversed, in an entry of its own; the books as if it never was.
    const street = async () => new Map((await balances(pool, { account: 'assets:street:NSCC' })).map((b) => [b.asset, b.balance] as const));
    const before = await street();
    expect(await importExecutions(pool, `${HEADER}\nG5,C1002,MSFT,sell,,,2026-03-09,NSCC,USD,cancel,G2`, ctx, { format: 'csv' })).toMatchObject({ booked: 1 });
    const g2 = (await listTrades(pool, { symbol: 'MSFT' })).find((t) => t.execId === 'G2')!;
    expect(g2.status).toBe('canceled');
    const rev = await getEntry(pool, g2.reversalEntryId!);
    expect(rev.postings.map((p) => [p.account, p.asset, p.amount])).toEqual([
      ['customers:C1002:securities', 'MSFT', '-4'],
      ['assets:street:NSCC', 'MSFT', '4'],
      ['customers:C1002:cash', 'USD', by('G2').net],
      ['assets:street:NSCC', 'USD', `-${by('G2').gross}`],
      ['income:commissions', 'USD', by('G2').commission],
      ['liabilities:regulatory:sec-fee', 'USD', by('G2').secFee],
      ['liabilities:regulatory:finra-taf', 'USD', by('G2').finraTaf],
    ]);
    const after = await street();
    expect(after.get('MSFT')).toBe(String(BigInt(before.get('MSFT')!) + 4n));
    expect((await verifyAudit(pool)).ok).toBe(true);
  });

  it('retries a quarantined record once it is fixed', async () => {
    const [q] = (await listQuarantine(pool)).filter((x) => x.record === 'line 5 (exec E4)');
    const fixed = await retryQuarantined(pool, q!.id, ctx, 'E4,C1003,AAPL,buy,1,1,2026-03-04,GSCO,USD,,');
    expect(fixed).toMatchObject({ booked: 1, resolved: true });
    expect((await listQuarantine(pool)).some((x) => x.id === q!.id)).toBe(false);
  });

  it('values positions at imported prices', async () => {
    await importPrices(pool, 'symbol,date,price\nAAPL,2026-03-06,200.00\nMSFT,2026-03-06,410.00\n', 'prices.csv', ctx);
    const [p] = await positions(pool, { account: 'C1002' });
    expect(p).toMatchObject({ price: '200.00', marketValue: '6000.00' });
    expect(p!.unrealizedPnl).toBe('' + (6000 - 30 * 192.02).toFixed(2));
  });
});
