import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import ExcelJS from 'exceljs';
import type { FastifyInstance } from 'fastify';
import { Kysely, PostgresDialect } from 'kysely';
import { testDb } from '../../../test/db.js';
import { fixedClock, loadConfig } from '../../kernel/index.js';
import type { Db, Schema } from '../../db/index.js';
import { DEMO_PASSWORD, seedDemo } from '../../cli/demo.js';
import { buildServer } from '../../api/index.js';

/**
 * The close over HTTP on the demo firm, as two people would do it from the UI: the controller
 * closes January, proposes an adjustment, cannot approve it herself, the admin approves it; the
 * statements come as JSON, CSV and XLSX; rates come as a CSV upload.
 */

const clock = fixedClock('2026-03-02T10:00:00.000Z');
const tdb = await testDb();
const pool = tdb.pool;
const db: Db = { pool, kysely: new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) }), where: 'test', close: async () => {} };
let app: FastifyInstance;
const cookie: Record<string, string> = {};
let ip = 0;

beforeAll(async () => {
  await seedDemo(pool, clock);
  app = await buildServer({ db, config: loadConfig({}, {}), clock, logger: false });
  await app.ready();
  for (const name of ['finance', 'admin', 'auditor', 'ops']) {
    const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: name, password: DEMO_PASSWORD }, remoteAddress: `10.9.0.${++ip}` });
    cookie[name] = `bo_session=${res.cookies.find((c) => c.name === 'bo_session')!.value}`;
  }
});
afterAll(async () => { await app?.close(); });

const as = (who: string) => ({ cookie: cookie[who]! });

describe('accounting close over HTTP', () => {
  it('closes January (the demo books start on 2026-01-31) and then refuses a second, earlier-first month out of order', async () => {
    const feb = await app.inject({ method: 'POST', url: '/api/accounting/close', headers: as('finance'), payload: { period: '2026-02' } });
    expect(feb.statusCode).toBe(409);
    expect(feb.json()).toMatchObject({ code: 'CLOSE_PERIOD_OUT_OF_ORDER' });
    const bad = await app.inject({ method: 'POST', url: '/api/accounting/close', headers: as('finance'), payload: { period: '2026-13' } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json()).toMatchObject({ code: 'CLOSE_PERIOD_INVALID', errors: [{ field: 'period', rule: 'MONTH_1_TO_12' }] });
    const jan = await app.inject({ method: 'POST', url: '/api/accounting/close', headers: as('finance'), payload: { period: '2026-01' } });
    expect(jan.statusCode, jan.body).toBe(200);
    expect(jan.json()).toMatchObject({ period: '2026-01', closedThrough: '2026-01-31', closedBy: 'finance', changed: true });
    const status = await app.inject({ url: '/api/accounting/close/status', headers: as('auditor') });
    expect(status.json()).toMatchObject({ closedThrough: '2026-01-31', nextPeriod: '2026-02' });
  });

  it('lets a second person approve an adjustment, never its proposer', async () => {
    const proposed = await app.inject({
      method: 'POST', url: '/api/accounting/adjustments', headers: as('finance'),
      payload: { period: '2026-01', memo: 'clearing fee missed in January', postings: [{ account: 'expenses:clearing-fees', asset: 'USD', amount: '25.00' }, { account: 'assets:bank:operating:usd', asset: 'USD', amount: '-25.00' }] },
    });
    expect(proposed.statusCode, proposed.body).toBe(201);
    const id = proposed.json().id as string;
    const self = await app.inject({ method: 'POST', url: `/api/accounting/adjustments/${id}/approve`, headers: as('finance'), payload: {} });
    expect(self.statusCode).toBe(403);
    expect(self.json()).toMatchObject({ code: 'CLOSE_SELF_APPROVAL' });
    expect((await app.inject({ method: 'POST', url: `/api/accounting/adjustments/${id}/approve`, headers: as('auditor'), payload: {} })).statusCode).toBe(403);
    const ok = await app.inject({ method: 'POST', url: `/api/accounting/adjustments/${id}/approve`, headers: as('admin'), payload: { note: 'ok' } });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ status: 'posted', decidedBy: 'admin', postedDate: '2026-02-01', entryKey: `prior-period:2026-01:${id}` });
    const listed = await app.inject({ url: '/api/accounting/adjustments?status=posted', headers: as('auditor') });
    expect(listed.json().map((a: { id: string }) => a.id)).toEqual([id]);
  });

  it('serves the balance sheet as JSON, CSV and XLSX, the same figures in each', async () => {
    const json = await app.inject({ url: '/api/accounting/statements/balance-sheet?asOf=2026-03-01', headers: as('auditor') });
    expect(json.statusCode, json.body).toBe(200);
    const bs = json.json();
    expect(bs.check.balanced).toBe(true);
    const csv = await app.inject({ url: '/api/accounting/statements/balance-sheet?asOf=2026-03-01&format=csv', headers: as('auditor') });
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.headers['content-disposition']).toBe('attachment; filename="balance-sheet-2026-03-01.csv"');
    const lines = csv.body.split('\r\n');
    expect(lines[0]).toBe('section,kind,account,label,level,amount,currency,native');
    expect(lines.find((l) => l.startsWith('assets,total,'))).toBe(`assets,total,,Total assets,0,${bs.totals.assets},USD,`);
    const xlsx = await app.inject({ url: '/api/accounting/statements/balance-sheet?asOf=2026-03-01&format=xlsx', headers: as('auditor') });
    expect(xlsx.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xlsx.rawPayload as unknown as ExcelJS.Buffer);
    const values = wb.getWorksheet(1)!.getColumn(5).values.filter((v): v is number => typeof v === 'number');
    expect(values.map((v) => v.toFixed(2))).toEqual(bs.rows.map((r: { amount: string }) => r.amount));
    // Operations does not read the statements.
    expect((await app.inject({ url: '/api/accounting/statements/balance-sheet', headers: as('ops') })).statusCode).toBe(403);
  });

  it('takes rates as a CSV upload, and drills down from an account to its entries', async () => {
    const up = await app.inject({
      method: 'POST', url: '/api/accounting/fx/rates?file=march.csv', headers: { ...as('finance'), 'content-type': 'text/csv' },
      payload: 'date,currency,base_currency,rate\n2026-02-26,EUR,USD,1.0800\n',
    });
    expect(up.statusCode, up.body).toBe(200);
    expect(up.json()).toEqual({ received: 1, created: 1, updated: 0, unchanged: 0 });
    const bad = await app.inject({
      method: 'POST', url: '/api/accounting/fx/rates?file=bad.csv', headers: { ...as('finance'), 'content-type': 'text/csv' },
      payload: 'date,currency,base_currency,rate\n2026-02-27,EUR,USD,zero\n',
    });
    expect(bad.statusCode).toBe(422);
    expect(bad.json()).toMatchObject({ code: 'FX_RATES_INVALID', errors: [{ record: 'bad.csv line 2 (EUR 2026-02-27)', field: 'rate', rule: 'POSITIVE_DECIMAL' }] });
    const drill = await app.inject({ url: `/api/accounting/accounts/${encodeURIComponent('expenses:clearing-fees')}/entries?from=2026-02-01&to=2026-02-28`, headers: as('auditor') });
    expect(drill.statusCode).toBe(200);
    const rows = drill.json().rows as { memo: string; amount: string; date: string }[];
    expect(rows.find((r) => r.memo.startsWith('Prior-period adjustment for 2026-01'))).toMatchObject({ amount: '25.00', date: '2026-02-01' });
    const restated = await app.inject({ url: `/api/accounting/accounts/${encodeURIComponent('expenses:clearing-fees')}/entries?from=2026-02-01&to=2026-02-28&afterAdjustments=true`, headers: as('auditor') });
    expect((restated.json().rows as { memo: string }[]).some((r) => r.memo.startsWith('Prior-period'))).toBe(false);
  });
});
