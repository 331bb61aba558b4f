import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import { testDb } from '../../test/db.js';
import { importTradingReference } from '../../test/trading-reference.js';
import { DomainError, fixedClock } from '../kernel/index.js';
import { importExecutions } from '../trading/index.js';
import { importConfirmations, matchConfirmations, type MatchView } from './matching.js';

const ctx = { actor: 'tester', clock: fixedClock('2026-03-09T23:00:00.000Z') };
const db = await testDb();
const pool = db.pool;
const cfx = (f: string) => fs.readFileSync(`test/fixtures/settlement/confirmations/${f}`, 'utf8');
const D = '2026-03-09';
const HEADER = 'exec_id,account,symbol,side,quantity,price,trade_date,counterparty,currency';
const brief = (rs: MatchView[]) => rs.map((r) => [r.status, r.confirmation?.confId ?? null, r.trade?.execId ?? null,
  r.differences.map((d) => `${d.field}:${d.ours}/${d.theirs}`).join(' ')]);
const count = async () => Number((await pool.query('SELECT count(*)::int AS n FROM confirmations')).rows[0].n);

beforeAll(async () => {
  await importTradingReference(pool, ctx);
  const r = await importExecutions(pool, [HEADER,
    `E1,C1002,AAPL,buy,100,190.25,${D},GSCO,USD`,
    `E2,C1003,MSFT,sell,200,400.00,${D},GSCO,USD`,
    `E3,C1002,AAPL,buy,50,191.00,${D},NSCC,USD`,
    `E4,C1003,MSFT,short,30,401.50,${D},NSCC,USD`,
    `E5,C1001,AAPL,buy,20,192.00,${D},GSCO,USD`,
  ].join('\n'), ctx, { format: 'csv' });
  expect(r).toMatchObject({ booked: 5, quarantined: [] });
});

describe('FIX confirmations against booked trades', () => {
  it('refuses a bad FIX file whole through the importer the end of day calls', async () => {
    const e = await importConfirmations(pool, cfx('bad.fix'), 'bad.fix', ctx).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DomainError);
    expect((e as DomainError).details.map((d) => [d.field, d.rule])).toEqual([['AvgPx (6)', 'REQUIRED'], ['CheckSum (10)', 'FIX_CHECKSUM']]);
    expect(await count()).toBe(0);
  });

  it('imports AK and AS files (| and SOH) and matches them: matched, mismatched with the field, unmatched both ways', async () => {
    expect(await importConfirmations(pool, cfx('gsco.fix'), 'gsco.fix', ctx)).toMatchObject({ received: 3, created: 3 });
    expect(await importConfirmations(pool, cfx('nscc.fix'), 'nscc.fix', ctx)).toMatchObject({ received: 2, created: 2 });
    const run = await matchConfirmations(pool, D, {}, ctx);
    expect(brief(run.results).sort((a, b) => String(a[1] ?? a[2]).localeCompare(String(b[1] ?? b[2])))).toEqual([
      ['unmatched', null, 'E5', ''],
      // The AS quotes E2 (ExecID of its exec group): paired with it, the price differs.
      ['mismatched', 'GA1', 'E2', 'price:400.00/400.05'],
      ['matched', 'GC1', 'E1', ''],
      ['unmatched', 'GC2', null, ''],
      ['matched', 'NC1', 'E3', ''],
      // Side 5 (sell short) confirms our short sale; 25 confirmed against 30 sold.
      ['mismatched', 'NC2', 'E4', 'quantity:30/25'],
    ]);
    expect(run.summary).toEqual({ matched: 2, mismatched: 2, unmatchedConfirmations: 1, unmatchedTrades: 1 });

    // The same file again changes nothing; a replace updates the confirmation it names.
    expect(await importConfirmations(pool, cfx('gsco.fix'), 'gsco.fix', ctx)).toMatchObject({ received: 3, created: 0, unchanged: 3 });
    expect(await importConfirmations(pool, cfx('gsco-replace.fix'), 'gsco-replace.fix', ctx)).toMatchObject({ received: 1, created: 0, updated: 1 });
    const stored = (await pool.query("SELECT symbol, quantity::text AS q, source_file FROM confirmations WHERE conf_id = 'GC2'")).rows;
    expect(stored).toEqual([{ symbol: 'MSFT', q: '10', source_file: 'gsco-replace.fix' }]);
    expect(await count()).toBe(5);
  });

  it('names an unknown counterparty by its message line, and applies nothing', async () => {
    // GC1 re-sent by a firm we do not know (the frame recomputed by hand: BodyLength and CheckSum).
    const SOH = '\x01';
    const body = cfx('gsco.fix').split('\n').find((l) => l.includes('664=GC1'))!.replace(/^8=FIX\.4\.4\|9=\d+\|/, '').replace(/10=\d{3}\|$/, '')
      .replaceAll('GSCO', 'GSCX').replaceAll('|', SOH);
    const head = `8=FIX.4.4${SOH}9=${Buffer.byteLength(body)}${SOH}`;
    let sum = 0;
    for (const b of Buffer.from(head + body)) sum += b;
    const text = `${head}${body}10=${String(sum % 256).padStart(3, '0')}${SOH}`;
    const before = await count();
    const e = await importConfirmations(pool, text, 'x.fix', ctx).catch((x: unknown) => x);
    expect((e as DomainError).details).toEqual([expect.objectContaining({ record: 'x.fix line 1 (GC1)', field: 'counterparty', rule: 'UNKNOWN_COUNTERPARTY' })]);
    expect(await count()).toBe(before);
  });
});
