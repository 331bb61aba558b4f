/**
 * The FIX specification's order-state tables as oracles for the books: each execution-report row
 * becomes a real FIX message (BodyLength and CheckSum computed here, apart from the parser), is
 * imported through importExecutions, and the books must end (and, imported one report at a time,
 * stand after every report) at the table's cumulative quantity and average price: the position
 * equals CumQty, the booked trades' quantity-weighted price equals AvgPx.
 * Also: messages with a wrong CheckSum or BodyLength are quarantined naming the tag, the rest of
 * the file is booked, and a re-import books nothing new.
 * Fixtures: test/fixtures/fix/ (sources and licences in SOURCES.md there).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import { parse as parseCsv } from 'csv-parse/sync';
import { testDb } from '../../test/db.js';
import { Dec, fixedClock } from '../kernel/index.js';
import { balances, trialBalance, verifyAudit } from '../ledger/index.js';
import { importSecurities, importCustomerAccounts, importCounterparties, importFees } from '../reference/index.js';
import { importExecutions, listTrades, listQuarantine, parseFixMessage, positions, retryQuarantined } from './index.js';

const ctx = { actor: 'fix-oracle', clock: fixedClock('2026-03-10T12:00:00.000Z') };
const db = await testDb();
const pool = db.pool;
const ref = (f: string) => fs.readFileSync(`test/fixtures/trading/${f}`, 'utf8');
const fixture = (f: string) => fs.readFileSync(`test/fixtures/fix/${f}`, 'utf8');
const SOH = '\x01';

beforeAll(async () => {
  await importSecurities(pool, ref('securities.csv'), 'securities.csv', ctx);
  await importCustomerAccounts(pool, ref('accounts.csv'), 'accounts.csv', ctx);
  await importCounterparties(pool, ref('counterparties.csv'), 'counterparties.csv', ctx);
  await importFees(pool, ref('fees.csv'), 'fees.csv', ctx);
});

type Fields = Array<readonly [number, string]>;

/** Frame a message: BodyLength (9) after BeginString, CheckSum (10) at the end. */
function frame(fields: Fields): string {
  const [begin, ...rest] = fields.filter(([t]) => t !== 9 && t !== 10);
  const body = rest.map(([t, v]) => `${t}=${v}${SOH}`).join('');
  const head = `8=${begin![1]}${SOH}9=${Buffer.byteLength(body, 'utf8')}${SOH}`;
  return `${head}${body}10=${checksum(head + body)}${SOH}`;
}
function checksum(text: string): string {
  let sum = 0;
  for (const b of Buffer.from(text, 'utf8')) sum += b;
  return String(sum % 256).padStart(3, '0');
}

// ---- Table names -> FIX codes, through the FIX 4.2 data dictionary (QuickFIX) ----
const dictionaryXml = fixture('quickfix_FIX42.xml');
const enums = new Map<string, Map<string, string>>();
for (const m of dictionaryXml.matchAll(/<field number='(\d+)' name='(\w+)' type='\w+'\s*(?:\/>|>([\s\S]*?)<\/field>)/g)) {
  enums.set(m[2]!, new Map([...(m[3] ?? '').matchAll(/<value enum='([^']*)' description='(\w+)'/g)].map((v) => [v[2]!, v[1]!] as const)));
}
function code(field: string, name: string): string {
  if (field === 'ExecType' && name === 'Trade') return 'F'; // FIX 4.4 ExecType, not in the 4.2 dictionary
  const wanted = ({ Replace: 'REPLACED' } as Record<string, string>)[name] ?? name.toUpperCase().replaceAll(' ', '_');
  const hit = enums.get(field)?.get(wanted);
  if (!hit) throw new Error(`${field} "${name}" is not in the FIX 4.2 dictionary`);
  return hit;
}

type Row = Record<string, string>;
const readTable = (name: string): Row[] =>
  (parseCsv(fixture(name), { columns: true, comment: '#', skip_empty_lines: true }) as Row[]).filter((r) => r.msg_sent !== '');

/** "Execution(Y;X)": ClOrdID Y, OrigClOrdID X. */
const clOrdIds = (msg: string): Fields => {
  const [cl, orig] = /\(([^)]*)\)/.exec(msg)![1]!.split(';');
  return orig ? [[11, cl!], [41, orig]] : [[11, cl!]];
};

/** FIX 4.2 Appendix D34 row -> ExecutionReport: a buy of AAPL for `account`, ExecBroker GSCO, traded Mon 2026-03-02. */
function d34Message(r: Row, account: string): string {
  return frame([
    [8, 'FIX.4.2'], [35, '8'], [34, r.step!], [49, 'GSCO'], [56, 'BOFC'], [52, `20260302-14:${r.step!.padStart(2, '0')}:00.000`],
    [37, 'ORD-D34'], ...clOrdIds(r.msg_sent!), [17, r.exec_id!], ...(r.exec_ref_id ? [[19, r.exec_ref_id] as const] : []),
    [20, code('ExecTransType', r.exec_trans_type!)], [150, code('ExecType', r.exec_type!)], [39, code('OrdStatus', r.ord_status!)],
    [1, account], [55, 'AAPL'], [54, '1'], [38, r.order_qty!],
    ...(r.last_shares ? ([[32, r.last_shares], [31, r.last_px!]] as const) : []),
    [151, r.leaves_qty!], [14, r.cum_qty!], [6, r.avg_px!], [15, 'USD'], [75, '20260302'],
    [60, `20260302-14:${r.step!.padStart(2, '0')}:00.000`], [76, 'GSCO'],
  ]);
}

// The A.1.b table gives no prices: its two trades are priced here.
const A1B_PRICES: Record<string, string> = { '3': '20.25', '4': '20.50' };

/** FIX 4.4 Appendix D A.1.b row -> ExecutionReport: a buy of MSFT, the Executing Firm party GSCO, traded Tue 2026-03-03. */
function a1bMessage(r: Row, account: string): string {
  return frame([
    [8, 'FIX.4.4'], [35, '8'], [34, r.step!], [49, 'GSCO'], [56, 'BOFC'], [52, `20260303-15:0${r.step}:00.000`],
    [37, 'ORD-A1b'], ...clOrdIds(r.msg_sent!), [17, `A1b-${r.step}`], [150, code('ExecType', r.exec_type!)],
    [39, code('OrdStatus', r.ord_status!)], [1, account], [55, 'MSFT'], [54, '1'], [38, r.order_qty!],
    [32, r.last_qty!], [31, A1B_PRICES[r.step!] ?? '0'], [151, r.leaves_qty!], [14, r.cum_qty!], [15, 'USD'],
    [75, '20260303'], [60, `20260303-15:0${r.step}:00.000`], [453, '1'], [448, 'GSCO'], [447, 'D'], [452, '1'],
  ]);
}

/** The books of one account and security: position (trade date) and the booked trades' quantity-weighted price. */
async function books(account: string, symbol: string, source: string) {
  const pos = await positions(pool, { account, security: symbol });
  const booked = (await listTrades(pool, { account, symbol, status: 'booked' })).filter((t) => t.source === source);
  const qty = booked.reduce((s, t) => s.add(t.quantity), new Dec(0));
  const notional = booked.reduce((s, t) => s.add(new Dec(t.quantity).mul(t.price)), new Dec(0));
  return {
    position: pos.length ? new Dec(pos[0]!.quantity) : new Dec(0),
    bookedQty: qty,
    avgPx: qty.isZero() ? new Dec(0) : notional.div(qty),
    booked,
  };
}

describe('FIX 4.2 Appendix D34: fills, a bust, corrections of corrections, a replace', () => {
  const rows = readTable('fix42_appendixD34_order_state_oracle.csv');

  it('the table is the one transcribed: ten execution reports, B to K', () => {
    expect(rows.map((r) => r.exec_id)).toEqual(['B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K']);
  });

  it('imported one report at a time, the books stand at CumQty and AvgPx after every report', async () => {
    for (const r of rows) {
      const result = await importExecutions(pool, d34Message(r, 'C1002'), ctx, { format: 'fix', source: 'd34-step' });
      expect(result.quarantined, `step ${r.step}`).toEqual([]);
      const orderState = r.exec_trans_type === 'New' && !['Partial Fill', 'Fill'].includes(r.exec_type!);
      expect([result.booked, result.ignored], `step ${r.step}`).toEqual(orderState ? [0, 1] : [1, 0]);
      const b = await books('C1002', 'AAPL', 'd34-step');
      expect(b.position.toFixed(), `position after step ${r.step}`).toBe(new Dec(r.cum_qty!).toFixed());
      expect(b.bookedQty.toFixed(), `booked quantity after step ${r.step}`).toBe(new Dec(r.cum_qty!).toFixed());
      expect(b.avgPx.toFixed(), `average price after step ${r.step}`).toBe(new Dec(r.avg_px!).toFixed());
    }
  });

  it('imported as one file, the books end at the last row: 10500 at 120 (G 1000 @ 120, K 9500 @ 120)', async () => {
    const file = rows.map((r) => d34Message(r, 'C1003')).join('\n');
    const result = await importExecutions(pool, file, ctx, { format: 'fix', source: 'd34-file' });
    expect(result).toMatchObject({ received: 10, booked: 7, ignored: 3, duplicates: 0, quarantined: [] });
    const last = rows.at(-1)!;
    const b = await books('C1003', 'AAPL', 'd34-file');
    expect(b.position.toFixed()).toBe(last.cum_qty);
    expect(b.avgPx.toFixed()).toBe(last.avg_px);
    expect(b.booked.map((t) => [t.execId, t.quantity, new Dec(t.price).toFixed()]).sort()).toEqual([['G', '1000', '120'], ['K', '9500', '120']]);
    // Every version of every fill is kept, with what became of it.
    const all = (await listTrades(pool, { account: 'C1003' })).filter((t) => t.source === 'd34-file');
    expect(Object.fromEntries(all.map((t) => [t.execId, t.status]))).toEqual({ C: 'canceled', D: 'corrected', F: 'corrected', G: 'booked', H: 'corrected', K: 'booked' });
    // The stock record agrees: the customer is owed 10500, the street owes them to us.
    expect(await balances(pool, { account: 'customers:C1003:securities' })).toEqual([{ account: 'customers:C1003:securities', asset: 'AAPL', balance: '-10500' }]);

    const again = await importExecutions(pool, file, ctx, { format: 'fix', source: 'd34-file' });
    expect(again).toMatchObject({ received: 10, booked: 0, ignored: 0, duplicates: 10, quarantined: [] });
    expect((await books('C1003', 'AAPL', 'd34-file')).position.toFixed()).toBe('10500');
  });
});

describe('FIX 4.4 Appendix D A.1.b: partial fills, then Done for Day', () => {
  const rows = readTable('fix44_appendixD_A1b_partial_fill_dfd_oracle.csv');
  // (2000 x 20.25 + 1000 x 20.50) / 3000 = 61000 / 3000 = 20.3333...
  const avgAfter: Record<string, Dec> = {
    '2': new Dec(0), '3': new Dec('20.25'), '4': new Dec(2000).mul('20.25').add(new Dec(1000).mul('20.50')).div(3000), '5': new Dec(61000).div(3000),
  };

  it('imported one report at a time: position = CumQty, average price of the booked trades = that of our prices', async () => {
    expect(rows.map((r) => r.step)).toEqual(['2', '3', '4', '5']);
    for (const r of rows) {
      const result = await importExecutions(pool, a1bMessage(r, 'C1001'), ctx, { format: 'fix', source: 'a1b-step' });
      expect(result.quarantined, `step ${r.step}`).toEqual([]);
      expect(result.booked + result.ignored).toBe(1);
      const b = await books('C1001', 'MSFT', 'a1b-step');
      expect(b.position.toFixed(), `position after step ${r.step}`).toBe(r.cum_qty);
      expect(b.avgPx.eq(avgAfter[r.step!]!), `average price after step ${r.step}: ${b.avgPx.toFixed()}`).toBe(true);
    }
    const b = await books('C1001', 'MSFT', 'a1b-step');
    expect(b.booked.every((t) => t.counterparty === 'GSCO' && t.side === 'buy')).toBe(true);
  });

  it('imported as one file: 3000 at 20.33333333 (8 places), and again: nothing new', async () => {
    const file = rows.map((r) => a1bMessage(r, 'C1003')).join('\n');
    expect(await importExecutions(pool, file, ctx, { format: 'fix', source: 'a1b-file' })).toMatchObject({ booked: 2, ignored: 2, quarantined: [] });
    const b = await books('C1003', 'MSFT', 'a1b-file');
    expect(b.position.toFixed()).toBe(rows.at(-1)!.cum_qty);
    expect(b.avgPx.toDecimalPlaces(8).toFixed()).toBe('20.33333333');
    expect(await importExecutions(pool, file, ctx, { format: 'fix', source: 'a1b-file' })).toMatchObject({ booked: 0, duplicates: 4, quarantined: [] });
  });
});

describe('frames that fail their CheckSum or BodyLength', () => {
  /** A good FIX 4.2 fill of AAPL for C1001, as its fields. */
  const fill = (execId: string, qty: string, px: string): Fields => [
    [8, 'FIX.4.2'], [35, '8'], [34, execId.slice(1)], [49, 'GSCO'], [56, 'BOFC'], [52, '20260304-16:00:00.000'],
    [37, `ORD-${execId}`], [11, `CL-${execId}`], [17, execId], [20, '0'], [150, '2'], [39, '2'], [1, 'C1001'], [55, 'AAPL'], [54, '1'],
    [38, qty], [32, qty], [31, px], [151, '0'], [14, qty], [6, px], [15, 'USD'], [75, '20260304'], [60, '20260304-16:00:00.000'], [76, 'GSCO'],
  ];
  const cme = fixture('quickfix_MessagesTestCase_CME_fill_ES.fix').trim();
  // Q2: a good fill whose CheckSum is off by one.
  const q2 = frame(fill('Q2', '20', '191.00'));
  const q2bad = q2.replace(/10=(\d{3})\x01$/, (_, v: string) => `10=${String((Number(v) + 1) % 256).padStart(3, '0')}${SOH}`);
  // Q3: a good fill whose BodyLength says 4 bytes fewer than the body has (CheckSum right for the bytes sent).
  const q3 = frame(fill('Q3', '30', '192.00'));
  const q3len = Number(/\x019=(\d+)\x01/.exec(q3)![1]);
  const q3short = q3.replace(/\x019=\d+\x01/, `${SOH}9=${q3len - 4}${SOH}`).replace(/10=\d{3}\x01$/, '');
  const q3bad = `${q3short}10=${checksum(q3short)}${SOH}`;
  const file = [frame(fill('Q1', '10', '190.00')), cme, q2bad, q3bad, frame(fill('Q4', '40', '193.00'))].join('\n');

  it('the QuickFIX CME fill declares CheckSum 000; its true CheckSum is 102 and its BodyLength is right', () => {
    expect(cme).toContain(`${SOH}10=000${SOH}`);
    expect(() => parseFixMessage(cme.replace(/10=000\x01$/, `10=102${SOH}`))).not.toThrow();
    expect(() => parseFixMessage(q3)).not.toThrow();
    expect(() => parseFixMessage(q2)).not.toThrow();
  });

  it('quarantines them with a reason naming CheckSum (10) or BodyLength (9), books nothing of them, books the rest', async () => {
    const result = await importExecutions(pool, file, ctx, { format: 'fix', source: 'frames' });
    expect(result).toMatchObject({ received: 5, booked: 2, ignored: 0, duplicates: 0 });
    expect(result.quarantined.map((q) => q.record)).toEqual(['line 2', 'line 3', 'line 4']);
    const [r2, r3, r4] = result.quarantined.map((q) => q.reason);
    expect(r2).toBe('line 2, message 136 (ExecID 64485:M:412850TN0031303): CheckSum (10) is 000 but the message sums to 102');
    expect(r3).toMatch(/^line 3, message 2 \(ExecID Q2\): CheckSum \(10\) is \d{3} but the message sums to \d{3}$/);
    expect(r4).toBe(`line 4, message 3 (ExecID Q3): BodyLength (9) is ${q3len - 4} but the body is ${q3len} bytes`);
    const open = (await listQuarantine(pool)).filter((q) => q.source === 'frames');
    expect(open.map((q) => [q.record, q.field, q.rule])).toEqual([
      ['line 2', 'CheckSum (10)', 'FIX_CHECKSUM'], ['line 3', 'CheckSum (10)', 'FIX_CHECKSUM'], ['line 4', 'BodyLength (9)', 'FIX_BODY_LENGTH'],
    ]);

    const trades = (await listTrades(pool)).filter((t) => t.source === 'frames');
    expect(trades.map((t) => t.execId).sort()).toEqual(['Q1', 'Q4']);
    expect((await listTrades(pool, { symbol: 'ES' }))).toEqual([]);
    expect((await positions(pool, { account: 'C1001', security: 'AAPL' }))[0]?.quantity).toBe('50');

    // Again: nothing new is booked (the two good ones are duplicates, the three bad ones still unreadable).
    const again = await importExecutions(pool, file, ctx, { format: 'fix', source: 'frames' });
    expect(again).toMatchObject({ received: 5, booked: 0, duplicates: 2 });
    expect((await listTrades(pool)).filter((t) => t.source === 'frames')).toHaveLength(2);
    expect((await positions(pool, { account: 'C1001', security: 'AAPL' }))[0]?.quantity).toBe('50');

    // Sent again with the right CheckSum, Q2 books.
    const retried = await retryQuarantined(pool, open[1]!.id, ctx, q2);
    expect(retried).toMatchObject({ booked: 1, resolved: true });
    expect((await positions(pool, { account: 'C1001', security: 'AAPL' }))[0]?.quantity).toBe('70');

    for (const t of (await trialBalance(pool)).totals) expect(t.debit, t.asset).toBe(t.credit);
    expect((await verifyAudit(pool)).ok).toBe(true);
  });
});
