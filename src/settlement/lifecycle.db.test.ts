import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { testDb } from '../../test/db.js';
import { importTradingReference } from '../../test/trading-reference.js';
import { DomainError, fixedClock } from '../kernel/index.js';
import { importSecurities } from '../reference/index.js';
import { importExecutions } from '../trading/index.js';
import { balances, verifyAudit } from '../ledger/index.js';
import type { Db } from '../db/index.js';
import { computeObligations, listObligations } from './obligations.js';
import { validateSese023, validateMt54x } from './messages/index.js';
import { applyStatuses, instructObligations, lifecycleCommands } from './lifecycle.js';

const ctx = { actor: 'tester', clock: fixedClock('2026-03-10T12:00:00.000Z') };
const db = await testDb();
const pool = db.pool;
const lfx = (f: string) => fs.readFileSync(`test/fixtures/settlement/lifecycle/${f}`, 'utf8');
const HEADER = 'exec_id,account,symbol,side,quantity,price,trade_date,counterparty,currency,kind,exec_ref_id';
const csv = (...rows: string[]) => [HEADER, ...rows].join('\n');
const D1 = '2026-03-05';
const D2 = '2026-03-06';
const OPTS = { ourBic: 'BOFFUS33', placeBic: 'DTCYUS33', safekeepingAccount: 'SAFE-001' };
const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lifecycle-'));

/** Obligation id by "CPTY SYMBOL" on a date. */
const ids = async (date: string) => new Map((await pool.query<{ k: string; id: string }>(
  "SELECT counterparty || ' ' || symbol AS k, id FROM settlement_obligations WHERE settle_date = $1", [date])).rows.map((r) => [r.k, r.id]));
/** A status fixture with `{CPTY SYMBOL}` replaced by that obligation's instruction reference. */
const statusFile = async (f: string) => {
  const refs = new Map((await pool.query<{ k: string; reference: string }>(
    `SELECT o.counterparty || ' ' || o.symbol AS k, i.reference FROM settlement_instructions i JOIN settlement_obligations o ON o.id = i.obligation_id
      WHERE o.settle_date = $1`, [D1])).rows.map((r) => [r.k, r.reference]));
  return lfx(f).replace(/\{([A-Z]+ [A-Z]+)\}/g, (_, k: string) => refs.get(k) ?? `missing:${k}`);
};
const bal = async (account: string) => Object.fromEntries((await balances(pool, { account })).filter((b) => b.account === account).map((b) => [b.asset, b.balance]));
const snapshot = async () => ({
  obligations: (await pool.query('SELECT * FROM settlement_obligations ORDER BY id')).rows,
  events: (await pool.query('SELECT count(*)::int AS n FROM settlement_status_events')).rows[0].n,
  entries: (await pool.query('SELECT count(*)::int AS n FROM journal_entries')).rows[0].n,
  balances: await balances(pool),
});

beforeAll(async () => {
  await importTradingReference(pool, ctx);
  await importSecurities(pool, lfx('securities.csv'), 'securities.csv', ctx);
  const r = await importExecutions(pool, csv(
    'E1,C1002,AAPL,buy,100,190.25,2026-03-04,GSCO,USD,,',
    'E2,C1003,AAPL,sell,100,195.50,2026-03-04,GSCO,USD,,',
    'E3,C1003,MSFT,buy,200,400.00,2026-03-04,GSCO,USD,,',
    'E4,C1003,MSFT,short,50,402.00,2026-03-04,GSCO,USD,,',
    'E5,C1002,AAPL,sell,30,190.00,2026-03-04,NSCC,USD,,',
    'E6,C1001,AAPL,buy,10,191.00,2026-03-04,NSCC,USD,,',
    'E7,C1002,VOD,sell,1000,0.75,2026-03-03,GSCO,GBP,,',
    'E12,C1002,ZZZ,buy,10,5.00,2026-03-04,NSCC,USD,,',
    'E9,C1003,MSFT,sell,20,405.00,2026-03-05,NSCC,USD,,',
  ), ctx, { format: 'csv' });
  expect(r).toMatchObject({ received: 9, booked: 9, quarantined: [] });
  await computeObligations(pool, D1, ctx);
  await computeObligations(pool, D2, ctx);
});

describe('settlement lifecycle', () => {
  it('instructs pending obligations that move securities, one valid sese.023 each, and is idempotent', async () => {
    const id = await ids(D1);
    const r = await instructObligations(pool, D1, { format: 'sese023', outDir, ...OPTS }, ctx);
    expect(r.instructed.map((x) => [x.obligationId, x.settlementType, x.file, x.reference])).toEqual([
      [id.get('GSCO MSFT'), 'RVP', `${id.get('GSCO MSFT')}.xml`, id.get('GSCO MSFT')],
      [id.get('GSCO VOD'), 'DVP', `${id.get('GSCO VOD')}.xml`, id.get('GSCO VOD')],
      [id.get('NSCC AAPL'), 'DVP', `${id.get('NSCC AAPL')}.xml`, id.get('NSCC AAPL')],
    ]);
    expect(r.alreadyInstructed).toBe(0);
    // No ISIN: skipped with the reason. GSCO AAPL moves cash only (quantity 0): not instructed.
    expect(r.skipped).toEqual([{ obligationId: id.get('NSCC ZZZ'), counterparty: 'NSCC', security: 'ZZZ', reason: 'security ZZZ has no ISIN' }]);
    for (const x of r.instructed) {
      const xml = fs.readFileSync(path.join(outDir, x.file), 'utf8');
      expect(validateSese023(xml)).toEqual([]);
      expect(xml).toContain(`<TxId>${x.obligationId}</TxId>`);
    }
    const msft = fs.readFileSync(path.join(outDir, `${id.get('GSCO MSFT')}.xml`), 'utf8');
    expect(msft).toContain('59900.00');
    const obligations = await listObligations(pool, { settleDate: D1 });
    expect(obligations.map((o) => [o.counterparty, o.security, o.status])).toEqual([
      ['GSCO', 'AAPL', 'pending'], ['GSCO', 'MSFT', 'instructed'], ['GSCO', 'VOD', 'instructed'], ['NSCC', 'AAPL', 'instructed'], ['NSCC', 'ZZZ', 'pending'],
    ]);
    const rows = (await pool.query('SELECT obligation_id, reference, format, message_id, instructed_at FROM settlement_instructions ORDER BY obligation_id')).rows;
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row).toMatchObject({ format: 'sese023', reference: row.obligation_id });
    for (const row of rows) expect(new Date(row.instructed_at).toISOString()).toBe('2026-03-10T12:00:00.000Z');

    const mtimes = r.instructed.map((x) => fs.statSync(path.join(outDir, x.file)).mtimeMs);
    const again = await instructObligations(pool, D1, { format: 'sese023', outDir, ...OPTS }, ctx);
    expect(again.instructed).toEqual([]);
    expect(again.alreadyInstructed).toBe(3);
    expect(r.instructed.map((x) => fs.statSync(path.join(outDir, x.file)).mtimeMs)).toEqual(mtimes);
    expect(fs.readdirSync(outDir).filter((f) => !f.startsWith('.'))).toHaveLength(3);
  });

  it('applies settled, partially settled and failed statuses, booking what settled out of the street side, once', async () => {
    const id = await ids(D1);
    expect(await bal('assets:street:GSCO')).toMatchObject({ MSFT: '150', USD: '-59375.00', VOD: '-1000', GBP: '750.00' });
    expect(await bal('assets:street:NSCC')).toMatchObject({ AAPL: '-20' });

    const file = await statusFile('statuses.csv');
    const r = await applyStatuses(pool, file, ctx);
    expect(r.received).toBe(3);
    expect(r.duplicates).toBe(0);
    expect(r.applied.map((a) => [a.obligationId, a.status, a.obligationStatus, a.settledQuantity, a.settledCash])).toEqual([
      [id.get('GSCO MSFT'), 'settled', 'settled', '150', '-59900.00'],
      [id.get('NSCC AAPL'), 'partially_settled', 'partially_settled', '-15', '2842.50'],
      [id.get('GSCO VOD'), 'failed', 'failed', undefined, undefined],
    ]);
    // Fully settled: the street side of GSCO MSFT is gone; GSCO's USD left is the cash-only AAPL net (525.00).
    const gsco = await bal('assets:street:GSCO');
    expect(gsco.MSFT).toBeUndefined();
    expect(gsco.USD).toBe('525.00');
    // The failed VOD delivery left the street for GSCO's fail account (securities owed, cash owed to us).
    expect(gsco.VOD).toBeUndefined();
    expect(await bal('liabilities:fails:to-deliver:GSCO')).toEqual({ VOD: '-1000', GBP: '750.00' });
    expect(await bal('assets:depository:dtc')).toEqual({ MSFT: '150', AAPL: '-15' });
    // Paid 59,900.00 for the MSFT, received 2,842.50 for 15 AAPL.
    expect(await bal('assets:bank:settlement:usd')).toEqual({ USD: '-57057.50' });
    // Partially settled: 5 AAPL against 947.50 still owed on the street.
    // The rest (5 AAPL against 947.50) failed to settle: it left the street for NSCC's fail account.
    expect((await bal('assets:street:NSCC')).AAPL).toBeUndefined();
    expect(await bal('liabilities:fails:to-deliver:NSCC')).toEqual({ AAPL: '-5', USD: '947.50' });
    const o = (await pool.query("SELECT counterparty, symbol, status, settled_quantity::text AS sq, settled_cash::text AS sc FROM settlement_obligations WHERE settle_date = $1 ORDER BY 1, 2", [D1])).rows;
    expect(o).toEqual([
      { counterparty: 'GSCO', symbol: 'AAPL', status: 'pending', sq: '0', sc: '0' },
      { counterparty: 'GSCO', symbol: 'MSFT', status: 'settled', sq: '150', sc: '-5990000' },
      { counterparty: 'GSCO', symbol: 'VOD', status: 'failed', sq: '0', sc: '0' },
      { counterparty: 'NSCC', symbol: 'AAPL', status: 'partially_settled', sq: '-15', sc: '284250' },
      { counterparty: 'NSCC', symbol: 'ZZZ', status: 'pending', sq: '0', sc: '0' },
    ]);
    const keys = (await pool.query("SELECT idempotency_key AS key, effective_date::text AS d FROM journal_entries WHERE idempotency_key LIKE 'settle:%' ORDER BY 1")).rows.map((x) => `${x.key}@${x.d}`);
    expect(keys.sort()).toEqual([`settle:${id.get('GSCO MSFT')}:150@${D1}`, `settle:${id.get('NSCC AAPL')}:-15@${D1}`].sort());
    // The fails (the VOD delivery, and the rest of the partly settled AAPL) booked on their settlement date.
    const fails = (await pool.query("SELECT idempotency_key AS key, effective_date::text AS d FROM journal_entries WHERE idempotency_key LIKE 'fail:%' ORDER BY 1")).rows.map((x) => `${x.key}@${x.d}`);
    expect(fails.sort()).toEqual([`fail:${id.get('GSCO VOD')}:1@${D1}`, `fail:${id.get('NSCC AAPL')}:1@${D1}`].sort());
    const failed = (await pool.query('SELECT reasons FROM settlement_status_events WHERE obligation_id = $1', [id.get('GSCO VOD')])).rows;
    expect(failed).toEqual([{ reasons: ['LACK', 'CLAC'] }]);

    // The same file again changes nothing.
    const before = await snapshot();
    const again = await applyStatuses(pool, file, { actor: 'someone-else', clock: fixedClock('2026-03-11T09:00:00.000Z') });
    expect(again).toMatchObject({ received: 3, applied: [], duplicates: 3 });
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a whole status file that names an unknown instruction, applying nothing', async () => {
    const before = await snapshot();
    const err = await applyStatuses(pool, await statusFile('unknown.csv'), ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: 'SETTLEMENT_STATUS_UNKNOWN_INSTRUCTION', kind: 'not_found' });
    expect((err as DomainError).details).toEqual([expect.objectContaining({ record: 'NOSUCHREF0001', field: 'reference' })]);
    expect((err as DomainError).message).toContain('NOSUCHREF0001');
    expect(await snapshot()).toEqual(before);
  });

  it('settles the remainder of a partial settlement, leaving the street side at zero', async () => {
    const id = await ids(D1);
    const text = (await statusFile('unknown.csv')).split('\n').slice(0, 2).join('\n');
    const r = await applyStatuses(pool, text, ctx);
    expect(r.applied.map((a) => [a.obligationId, a.obligationStatus, a.settledQuantity, a.settledCash, a.entryKey])).toEqual([
      [id.get('NSCC AAPL'), 'settled', '-5', '947.50', `settle:${id.get('NSCC AAPL')}:-20`],
    ]);
    expect((await bal('assets:street:NSCC')).AAPL).toBeUndefined();
    // Settled out of the fail account, which is empty again.
    expect(await bal('liabilities:fails:to-deliver:NSCC')).toEqual({});
    expect((await pool.query('SELECT status, closed_by, quantity::text AS q FROM settlement_fails WHERE obligation_id = $1', [id.get('NSCC AAPL')])).rows)
      .toEqual([{ status: 'closed', closed_by: 'settled', q: '0' }]);
    expect(await bal('assets:depository:dtc')).toEqual({ MSFT: '150', AAPL: '-20' });
    expect(await bal('assets:bank:settlement:usd')).toEqual({ USD: '-56110.00' });
  });

  it('instructs as MT540-543 from the command line, with short references statuses can quote', async () => {
    const out: string[] = [];
    const mtDir = path.join(outDir, 'mt');
    const program = new Command('backoffice').exitOverride();
    lifecycleCommands(program, (fn) => fn({ pool } as Db), (json, value, text) => out.push(json ? JSON.stringify(value) : text()), () => ctx);
    await program.parseAsync(['settlement', 'instruct', '--settle-date', D2, '--format', 'mt54x', '--out', mtDir, '--our-bic', 'BOFFUS33',
      '--safekeeping-account', 'SAFE-001', '--json'], { from: 'user' });
    const r = JSON.parse(out.pop()!);
    const id = await ids(D2);
    // On 03-06: the 20 MSFT sold to NSCC, and the open fails of 03-05 carried forward are obligations of their own.
    const nsccMsft = r.instructed.find((x: { obligationId: string }) => x.obligationId === id.get('NSCC MSFT'));
    expect(nsccMsft).toMatchObject({ settlementType: 'DVP', file: `${id.get('NSCC MSFT')}.fin` });
    expect(nsccMsft.reference).toMatch(/^BO\d{10}$/);
    const fin = fs.readFileSync(path.join(mtDir, nsccMsft.file), 'utf8');
    expect(validateMt54x(fin)).toEqual([]);
    expect(fin).toContain(`:20C::SEME//${nsccMsft.reference}`);
    expect(fin).toContain('{2:I543DTCYUS33');

    const statusPath = path.join(mtDir, 'status.csv');
    fs.writeFileSync(statusPath, `reference,status,settled_quantity,settled_amount,settle_date,reason\n${nsccMsft.reference},matched,,,,\n`);
    const p2 = new Command('backoffice').exitOverride();
    lifecycleCommands(p2, (fn) => fn({ pool } as Db), (json, value, text) => out.push(json ? JSON.stringify(value) : text()), () => ctx);
    await p2.parseAsync(['settlement', 'status', 'import', statusPath], { from: 'user' });
    expect(out.pop()).toContain(`${nsccMsft.reference} matched -> matched`);
    expect((await listObligations(pool, { settleDate: D2, counterparty: 'NSCC' })).find((o) => o.security === 'MSFT')?.status).toBe('matched');
  });

  it('keeps the audit chain intact', async () => {
    const v = await verifyAudit(pool);
    expect(v.problems).toEqual([]);
    expect(v.ok).toBe(true);
  });
});
