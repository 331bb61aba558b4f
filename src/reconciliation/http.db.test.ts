import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { Kysely, PostgresDialect } from 'kysely';
import { testDb } from '../../test/db.js';
import type { Db, Schema } from '../db/index.js';
import { fixedClock, loadConfig } from '../kernel/index.js';
import { postEntries } from '../ledger/index.js';
import { DEMO_PASSWORD, seedDemo } from '../cli/demo.js';
import { buildServer } from '../api/server.js';

/** The reconciliation API through HTTP, on the demo firm: roles, maker-checker, problem+json. */
const clock = fixedClock('2015-01-10T09:00:00.000Z');
const tdb = await testDb();
const db: Db = { pool: tdb.pool, kysely: new Kysely<Schema>({ dialect: new PostgresDialect({ pool: tdb.pool }) }), where: 'test', close: async () => {} };
const GENKGO = fs.readFileSync(new URL('../../test/fixtures/iso20022/genkgo_camt053.v2.multi.statement.xml', import.meta.url), 'utf8');
let app: FastifyInstance;
const cookie: Record<string, string> = {};
let ip = 0;

beforeAll(async () => {
  await seedDemo(tdb.pool, clock);
  app = await buildServer({ db, config: loadConfig({}, {}), clock, logger: false });
  for (const name of ['admin', 'ops', 'finance', 'auditor']) {
    const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: name, password: DEMO_PASSWORD }, remoteAddress: `10.9.0.${++ip}` });
    cookie[name] = `bo_session=${res.cookies.find((c) => c.name === 'bo_session')!.value}`;
  }
});
afterAll(async () => { await app?.close(); });

const call = (who: string, method: 'GET' | 'POST' | 'PUT', url: string, payload?: object) =>
  app.inject({ method, url, headers: { cookie: cookie[who]! }, ...(payload ? { payload } : {}) });

describe('reconciliation over HTTP', () => {
  it('imports, links, runs, lists breaks; an adjustment needs recon.approve and a second person', async () => {
    const imp = await call('ops', 'POST', '/api/reconciliation/statements/import', { fileName: 'genkgo.xml', content: GENKGO });
    expect(imp.statusCode, imp.body).toBe(200);
    expect(imp.json().statements.map((s: { status: string; linked: string | null }) => [s.status, s.linked])).toEqual([['stored', null], ['stored', null]]);
    const bad = await call('ops', 'POST', '/api/reconciliation/statements/import', { fileName: 'x.xml', content: '<nope/>' });
    expect(bad.statusCode).toBe(422);
    expect(bad.headers['content-type']).toMatch(/problem\+json/);
    expect((await call('auditor', 'POST', '/api/reconciliation/links', { statementAccount: 'NL26VAYB8060476890', ledgerAccount: 'assets:bank:operating:eur' })).statusCode).toBe(403);

    await postEntries(tdb.pool, [{ key: 'supplier-2', date: '2014-12-31', memo: 'E2E 000000002', postings: [{ account: 'assets:bank:operating:eur', asset: 'EUR', amount: '-7.50' }, { account: 'equity:capital', asset: 'EUR', amount: '7.50' }] }], { actor: 't', clock });
    const link = await call('ops', 'POST', '/api/reconciliation/links', { statementAccount: 'NL26VAYB8060476890', ledgerAccount: 'assets:bank:operating:eur' });
    expect(link.statusCode, link.body).toBe(201);
    expect((await call('ops', 'POST', '/api/reconciliation/links', { statementAccount: 'NL26VAYB8060476890', ledgerAccount: 'assets:bank:operating:eur' })).statusCode).toBe(200);
    const rules = await call('auditor', 'GET', '/api/reconciliation/links/assets%3Abank%3Aoperating%3Aeur/rules');
    expect(rules.json().rules.map((r: { rule: string }) => r.rule)).toEqual(['reference', 'amount_date', 'one_to_many', 'many_to_one', 'reversal']);
    const badRules = await call('ops', 'PUT', '/api/reconciliation/links/NL26VAYB8060476890/rules', { rules: [{ rule: 'position' }] });
    expect([badRules.statusCode, badRules.json().code]).toEqual([422, 'RECON_RULE_INVALID']);

    const run = await call('ops', 'POST', '/api/reconciliation/runs', { account: 'NL26VAYB8060476890', date: '2014-12-31' });
    expect(run.statusCode, run.body).toBe(200);
    // The demo firm's EUR capital (30 days before the clock) is in the period and not on the statement.
    expect(run.json()).toMatchObject({ matched: { total: 0 }, breaks: { found: 3, open: 3 } });
    expect(run.json().breaks.byType).toEqual({ amount_differs: 1, missing_ours: 1, missing_theirs: 1 });

    const list = (await call('auditor', 'GET', '/api/reconciliation/breaks?status=open&asOf=2015-01-10')).json();
    expect(list.aging.filter((a: { count: number }) => a.count).map((a: { bucket: string; count: number }) => [a.bucket, a.count])).toEqual([['6-15', 2], ['16-30', 1]]);
    const diff = list.breaks.find((b: { type: string }) => b.type === 'amount_differs');
    const prop = await call('finance', 'POST', `/api/reconciliation/breaks/${diff.id}/adjustments`, { offsetAccount: 'expenses:clearing-fees', memo: 'fee' });
    expect(prop.statusCode, prop.body).toBe(201);
    const adj = prop.json();
    // Operations may not approve at all; finance may not approve its own proposal.
    expect((await call('ops', 'POST', `/api/reconciliation/adjustments/${adj.id}/approve`, {})).statusCode).toBe(403);
    const same = await call('finance', 'POST', `/api/reconciliation/adjustments/${adj.id}/approve`, {});
    expect([same.statusCode, same.json().code]).toEqual([403, 'RECON_ADJUSTMENT_SAME_PERSON']);
    const ok = await call('admin', 'POST', `/api/reconciliation/adjustments/${adj.id}/approve`, {});
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().break).toMatchObject({ status: 'resolved', resolution: 'adjustment', resolvedBy: 'admin' });
    const entry = await call('auditor', 'GET', `/api/ledger/entries/${ok.json().adjustment.entryId}`);
    expect(entry.json()).toMatchObject({ key: adj.entry.key, createdBy: 'admin', postings: [{ account: 'assets:bank:operating:eur', amount: '0.50' }, { account: 'expenses:clearing-fees', amount: '-0.50' }] });

    const view = (await call('auditor', 'GET', `/api/reconciliation/statements/${imp.json().statements[1].id}`)).json();
    expect(view.lines[0].match).toMatchObject({ rule: 'adjustment', method: 'adjustment', by: 'admin' });
    expect((await call('auditor', 'GET', '/api/reconciliation/statements/rst_nope')).statusCode).toBe(404);
  });
});
