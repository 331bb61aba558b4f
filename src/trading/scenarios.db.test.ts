import { importTradingReference } from '../../test/trading-reference.js';
/**
 * Trade scenarios: one JSON file per scenario in test/scenarios/trading/, each with its
 * executions (CSV-like objects, or FIX lines), optional lot selections, and the books it must
 * leave: positions, open lots, realized P&L, ledger balances and fees, every number worked out
 * by hand in the file's "why" notes. Each scenario runs in its own database, cloned from the
 * migrated template, with the reference data of test/fixtures/trading/.
 */
import { describe, it, expect, inject, afterAll } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { cloneTestDb, type TestDb } from '../db/testing.js';
import { Dec, fixedClock } from '../kernel/index.js';
import { balances, closePeriod, trialBalance, verifyAudit } from '../ledger/index.js';

import { importExecutions, listTrades, listLots, listRealized, positions, selectLots, listQuarantine } from './index.js';

const ctx = { actor: 'scenario', clock: fixedClock('2026-03-10T12:00:00.000Z') };
const DIR = 'test/scenarios/trading';
const SOH = '\x01';

interface ExecObject {
  exec_id: string; account?: string; symbol?: string; side?: string; quantity?: string; price?: string; trade_date?: string;
  counterparty?: string; currency?: string; kind?: string; exec_ref_id?: string; order_id?: string;
  allocations?: { account: string; quantity: string }[];
}
interface Scenario {
  description: string;
  why: string[];
  format?: 'csv' | 'fix';
  executions: (ExecObject | string)[];
  lotSelections?: { sale: string; lots: { lot: string; quantity: string }[] }[];
  expect: {
    import?: { booked?: number; quarantined?: string[] };
    positions: { account: string; security: string; quantity: string }[];
    lots: { account: string; symbol: string; lot: string; openDate: string; quantity: string; remaining: string; unitCost: string }[];
    realized: { account: string; symbol: string; sale: string; lot: string; quantity: string; proceeds: string; cost: string; pnl: string }[];
    ledger: { account: string; asset: string; balance: string }[];
    fees: ({ exec_id: string } & Record<string, string>)[];
  };
}

const COLUMNS = ['exec_id', 'account', 'symbol', 'side', 'quantity', 'price', 'trade_date', 'counterparty', 'currency', 'kind', 'exec_ref_id', 'order_id', 'allocations'] as const;

const csvCell = (v: string) => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);

/** The scenario's executions as a CSV file (allocations as "account:qty;account:qty"). */
function toCsv(rows: ExecObject[]): string {
  const lines = rows.map((r) => COLUMNS.map((c) => {
    if (c === 'allocations') return csvCell((r.allocations ?? []).map((a) => `${a.account}:${a.quantity}`).join(';'));
    return csvCell(r[c] ?? '');
  }).join(','));
  return [COLUMNS.join(','), ...lines].join('\n');
}

/**
 * A FIX line written with '|' for SOH. Without BodyLength (9) and CheckSum (10) it is framed
 * here: 9 counts the bytes after its own delimiter up to the one before 10=, 10 is the byte sum
 * of everything before 10= mod 256 (written apart from the parser).
 */
function frameFix(line: string): string {
  const fields = line.split('|').filter((f) => f !== '');
  if (fields.some((f) => f.startsWith('9=')) || fields.some((f) => f.startsWith('10='))) return line.replaceAll('|', SOH);
  const [begin, ...rest] = fields;
  const body = rest.map((f) => f + SOH).join('');
  const head = `${begin}${SOH}9=${Buffer.byteLength(body, 'utf8')}${SOH}`;
  let sum = 0;
  for (const b of Buffer.from(head + body, 'utf8')) sum += b;
  return `${head}${body}10=${String(sum % 256).padStart(3, '0')}${SOH}`;
}

/** Quantities and prices compare by value ("150.00" = "150"); money compares as the exact string. */
const num = (v: string) => new Dec(v).toFixed();
const byKey = <T>(rows: T[], key: (r: T) => string) => [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));

const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();
const dbs: TestDb[] = [];
afterAll(async () => { for (const d of dbs) await d.drop(); });

describe('trade scenarios (test/scenarios/trading)', () => {
  it('has the scenarios the plan asks for', () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
  });

  for (const file of files) {
    const sc = JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8')) as Scenario;
    it(`${file}: ${sc.description}`, async () => {
      expect(sc.why.length, 'the file shows its arithmetic').toBeGreaterThan(0);
      const db = await cloneTestDb(inject('pgUrl'));
      dbs.push(db);
      const pool = db.pool;
      await importTradingReference(pool, ctx);

      const fix = sc.format === 'fix' || typeof sc.executions[0] === 'string';
      const text = fix ? (sc.executions as string[]).map(frameFix).join('\n') : toCsv(sc.executions as ExecObject[]);
      const result = await importExecutions(pool, text, ctx, { format: fix ? 'fix' : 'csv', source: 'scenario' });
      expect(result.quarantined.map((q) => q.reason)).toEqual(sc.expect.import?.quarantined ?? []);
      expect(result.booked).toBe(sc.expect.import?.booked ?? sc.executions.length);
      expect(await listQuarantine(pool)).toHaveLength(result.quarantined.length);

      const trades = await listTrades(pool);
      const execOf = new Map(trades.map((t) => [t.id, t.execId]));
      const idOf = (execId: string) => {
        const t = trades.find((x) => x.execId === execId && x.status === 'booked');
        expect(t, `a booked trade for exec ${execId}`).toBeDefined();
        return t!.id;
      };
      for (const s of sc.lotSelections ?? []) {
        await selectLots(pool, idOf(s.sale), s.lots.map((l) => ({ lot: idOf(l.lot), quantity: l.quantity })));
      }
      const accounts = [...new Set(trades.map((t) => t.account))].sort();

      // Positions (trade date basis, from the ledger): a flat position has no row.
      const pos = (await positions(pool)).map((p) => ({ account: p.account, security: p.security, quantity: num(p.quantity) }));
      const wantPos = sc.expect.positions.filter((p) => !new Dec(p.quantity).isZero()).map((p) => ({ ...p, quantity: num(p.quantity) }));
      expect(byKey(pos, (p) => `${p.account}/${p.security}`)).toEqual(byKey(wantPos, (p) => `${p.account}/${p.security}`));

      // Open lots of every account the scenario traded in.
      const lots = [];
      for (const a of accounts) {
        for (const l of await listLots(pool, a)) {
          expect(l.lotId).toBe(l.tradeId);
          lots.push({ account: a, symbol: l.symbol, lot: execOf.get(l.lotId) ?? l.lotId, openDate: l.openDate, quantity: num(l.quantity), remaining: num(l.remaining), unitCost: num(l.unitCost) });
        }
      }
      const wantLots = sc.expect.lots.map((l) => ({ account: l.account, symbol: l.symbol, lot: l.lot, openDate: l.openDate, quantity: num(l.quantity), remaining: num(l.remaining), unitCost: num(l.unitCost) }));
      const lotKey = (l: { account: string; symbol: string; lot: string }) => `${l.account}/${l.symbol}/${l.lot}`;
      expect(byKey(lots, lotKey)).toEqual(byKey(wantLots, lotKey));

      // Realized P&L: proceeds, cost and P&L to the cent, exactly as written.
      const realized = [];
      for (const a of accounts) {
        for (const r of await listRealized(pool, a)) {
          realized.push({ account: a, symbol: r.symbol, sale: execOf.get(r.saleTrade) ?? r.saleTrade, lot: execOf.get(r.lotId) ?? r.lotId, quantity: num(r.quantity), proceeds: r.proceeds, cost: r.cost, pnl: r.pnl });
        }
      }
      const realKey = (r: { account: string; symbol: string; sale: string; lot: string }) => `${r.account}/${r.symbol}/${r.sale}/${r.lot}`;
      expect(byKey(realized, realKey)).toEqual(byKey(sc.expect.realized.map((r) => ({ ...r, quantity: num(r.quantity) })), realKey));

      // Ledger balances (debit positive); a zero balance has no row.
      const all = await balances(pool);
      for (const want of sc.expect.ledger) {
        const got = all.find((b) => b.account === want.account && b.asset === want.asset);
        if (new Dec(want.balance).isZero()) expect(got, `${want.account} ${want.asset}`).toBeUndefined();
        else expect(got?.balance, `${want.account} ${want.asset}`).toBe(want.balance);
      }

      // Fees and amounts of each trade named.
      for (const want of sc.expect.fees) {
        const { exec_id: execId, ...fields } = want;
        const t = trades.find((x) => x.execId === execId);
        expect(t, `trade ${execId}`).toBeDefined();
        const got: Record<string, string> = {};
        for (const k of Object.keys(fields)) {
          const v = String((t as unknown as Record<string, unknown>)[k]);
          got[k] = k === 'quantity' || k === 'price' ? num(v) : v;
        }
        const norm = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, k === 'quantity' || k === 'price' ? num(v) : v]));
        expect(got, `trade ${execId}`).toEqual(norm);
      }

      // Whatever the scenario: the books balance per asset and the audit chain holds.
      for (const t of (await trialBalance(pool)).totals) expect(t.debit, t.asset).toBe(t.credit);
      expect((await verifyAudit(pool)).ok).toBe(true);

      // Importing the same file again books nothing.
      const again = await importExecutions(pool, text, ctx, { format: fix ? 'fix' : 'csv', source: 'scenario' });
      expect(again).toMatchObject({ booked: 0, duplicates: result.booked + result.ignored, quarantined: [] });
    });
  }
});

/** A database of its own with the fixtures' reference data. */
async function freshBooks() {
  const db = await cloneTestDb(inject('pgUrl'));
  dbs.push(db);
  const pool = db.pool;
  await importTradingReference(pool, ctx);
  return pool;
}
const HEADER = COLUMNS.join(',');

describe('trade scenarios over several imports', () => {
  // Regression (fixed): booking.ts pushes the reversal entry (line 282) before checking the closed period (line 283);
  // the Quarantine leaves the reversal in the batch, the ledger refuses it, and the whole chunk fails.
  it('a cancel of a trade dated in a closed period is quarantined (PERIOD_CLOSED) and the rest of the file is booked', async () => {
    const pool = await freshBooks();
    expect(await importExecutions(pool, [HEADER, 'A1,C1002,AAPL,buy,100,10.00,2026-03-02,GSCO,USD,,,,'].join('\n'), ctx, { format: 'csv' })).toMatchObject({ booked: 1 });
    await closePeriod(pool, '2026-03-02', ctx);
    const file = [HEADER, 'A2,C1002,AAPL,,,,,GSCO,USD,cancel,A1,,', 'A3,C1002,AAPL,buy,5,10.00,2026-03-05,GSCO,USD,,,,'].join('\n');
    let result: Awaited<ReturnType<typeof importExecutions>> | Error;
    try { result = await importExecutions(pool, file, ctx, { format: 'csv' }); } catch (e) { result = e as Error; }
    expect(result).not.toBeInstanceOf(Error);
    expect(result).toMatchObject({ booked: 1, quarantined: [{ record: 'line 2 (exec A2)' }] });
    expect((result as { quarantined: { reason: string }[] }).quarantined[0]!.reason).toContain('closed period');
    expect((await positions(pool, { account: 'C1002' }))[0]?.quantity).toBe('105');
    expect((await listTrades(pool, { account: 'C1002' })).map((t) => [t.execId, t.status]).sort()).toEqual([['A1', 'booked'], ['A3', 'booked']]);
  });

  // Regression (fixed): a block fill's child trades are named "BLK1:<account>" but its executions row is "BLK1" with the
  // first child's trade id (booking.ts lines 177, 306), and the reference lookup (lines 241-245, 273) keys trades by
  // their own exec_id: no later cancel or correction can find the block or any child.
  it('a block fill allocated to three accounts can be canceled by its ExecID in a later import: every child is reversed', async () => {
    const pool = await freshBooks();
    const block = [HEADER, 'BLK1,,AAPL,buy,11,90.9091,2026-03-03,GSCO,USD,,,,C1002:5;C1001:3;C1003:3'].join('\n');
    expect(await importExecutions(pool, block, ctx, { format: 'csv' })).toMatchObject({ booked: 1, quarantined: [] });
    expect((await positions(pool)).map((p) => [p.account, p.quantity])).toEqual([['C1001', '3'], ['C1002', '5'], ['C1003', '3']]);
    const cancel = await importExecutions(pool, [HEADER, 'BLK1X,,AAPL,,,,,GSCO,USD,cancel,BLK1,,'].join('\n'), ctx, { format: 'csv' });
    expect(cancel.quarantined.map((q) => q.reason)).toEqual([]);
    expect(await positions(pool)).toEqual([]);
    expect((await listTrades(pool)).map((t) => t.status)).toEqual(['canceled', 'canceled', 'canceled']);
    expect((await balances(pool, { account: 'customers' }))).toEqual([]);
  });
});

describe('specific identification refuses a selection it cannot honour', () => {
  // B1 and B2 are open before S1 (a sale of 100 on 2026-03-05); B3 is bought after it.
  const file = [HEADER,
    'B1,C1002,MSFT,buy,100,400.00,2026-03-02,GSCO,USD,,,,', 'B2,C1002,MSFT,buy,100,410.00,2026-03-03,GSCO,USD,,,,',
    'S1,C1002,MSFT,sell,100,430.00,2026-03-05,GSCO,USD,,,,', 'B3,C1002,MSFT,buy,100,420.00,2026-03-06,GSCO,USD,,,,'].join('\n');
  const cases: [string, (id: (e: string) => string) => { lot: string; quantity: string }[]][] = [
    ['a quantity of 0 (the rule says positive)', (id) => [{ lot: id('B2'), quantity: '0' }]],
    ['more shares of a lot than it holds (150 of B2\'s 100)', (id) => [{ lot: id('B2'), quantity: '150' }]],
    ['more shares than the sale (100 of B2 + 100 of B1 for a sale of 100)', (id) => [{ lot: id('B2'), quantity: '100' }, { lot: id('B1'), quantity: '100' }]],
    ['a lot bought after the sale (B3, 2026-03-06, for a sale on 2026-03-05)', (id) => [{ lot: id('B3'), quantity: '100' }]],
  ];
  for (const [what, selection] of cases) {
    // Regression (fixed): trades.ts selectLots checks only that each lot is a booked buy of the account and security and
    // that the quantity matches /^\d+(\.\d+)?$/; computeLots then silently applies something else (FIFO, or fewer
    // shares), so the stored lot_selection and the realized P&L disagree.
    it(`refuses ${what}, and the realized P&L stays FIFO`, async () => {
      const pool = await freshBooks();
      await importExecutions(pool, file, ctx, { format: 'csv' });
      const trades = await listTrades(pool);
      const id = (e: string) => trades.find((t) => t.execId === e)!.id;
      await expect(selectLots(pool, id('S1'), selection(id))).rejects.toMatchObject({ code: 'LOT_SELECTION_INVALID' });
      expect((await listRealized(pool, 'C1002')).map((r) => [trades.find((t) => t.id === r.lotId)!.execId, r.quantity])).toEqual([['B1', '100']]);
    });
  }
});
