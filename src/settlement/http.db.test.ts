import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { Kysely, PostgresDialect } from 'kysely';
import { testDb } from '../../test/db.js';
import { fixedClock, loadConfig } from '../kernel/index.js';
import type { Db, Schema } from '../db/index.js';
import { DEMO_PASSWORD, seedDemo } from '../cli/demo.js';
import { buildServer } from '../api/server.js';
import { runEod } from './eod.js';
import { EOD_STEPS } from './eod.js';

// The settlement routes through the real server on the demo firm (which has SSIs).
const clock = fixedClock('2026-03-02T10:00:00.000Z');
const TODAY = '2026-03-02';
const tdb = await testDb();
const pool = tdb.pool;
const db: Db = { pool, kysely: new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) }), where: 'test', close: async () => {} };
let app: FastifyInstance;
let cookie = '';
const inject = (o: InjectOptions) => app.inject({ ...o, headers: { cookie, ...(o.headers ?? {}) } });

beforeAll(async () => {
  expect(await seedDemo(pool, clock)).toBe(true);
  app = await buildServer({ db, config: loadConfig({}, {}), clock, logger: false });
  await app.ready();
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'ops', password: DEMO_PASSWORD }, remoteAddress: '10.99.0.1' });
  cookie = `bo_session=${res.cookies.find((c) => c.name === 'bo_session')!.value}`;
});
afterAll(async () => { await app?.close(); });

describe('settlement over HTTP', () => {
  it('lists the SSIs and refuses a bad SSI file with the row, field and rule', async () => {
    const list = await inject({ url: '/api/settlement/ssis?party=GSCO' });
    expect(list.statusCode).toBe(200);
    expect((list.json() as { market: string; participant: string }[]).map((s) => [s.market, s.participant])).toEqual([['XNAS', '0005'], ['XNYS', '0005']]);
    const bad = await inject({ method: 'POST', url: '/api/settlement/ssis/import?file=x.csv', headers: { 'content-type': 'text/csv' },
      payload: 'party,market,place_bic,agent_bic,account,effective_from\nGSCO,XNAS,DTCYUS33,GOLDUS33,,2026-01-01\n' });
    expect(bad.statusCode).toBe(422);
    expect(bad.json().errors).toEqual([expect.objectContaining({ record: 'x.csv line 2 (GSCO)', field: 'account', rule: 'REQUIRED' })]);
    const good = await inject({ method: 'POST', url: '/api/settlement/ssis/import', headers: { 'content-type': 'text/plain' },
      payload: 'party,market,place_bic,agent_bic,account,effective_from\nFIRM,XLON,CRSTGB22,BOFFGB22,DEMO-CREST,2026-01-01\n' });
    expect(good.json()).toMatchObject({ received: 1, created: 1 });
  });

  it('previews an obligation\'s instruction with the parties of the SSIs', async () => {
    const obligations = (await inject({ url: `/api/settlement/obligations?settleDate=${TODAY}` })).json() as { id: string; counterparty: string; security: string }[];
    const gsco = obligations.find((o) => o.counterparty === 'GSCO' && o.security === 'AAPL')!;
    const detail = (await inject({ url: `/api/settlement/obligations/${gsco.id}` })).json();
    expect(detail.messageUnavailable).toBeNull();
    expect(detail.message.preview).toBe(true);
    expect(detail.parties).toMatchObject({ ourBic: 'BOFFUS33', account: 'DEMO-SAFE-01', placeBic: 'DTCYUS33', agent: { dtcParticipant: '0005', account: 'GS-DTC-0005' } });
    expect(detail.message.text).toContain('<Id>GS-DTC-0005</Id>');
    expect(detail.fail).toBeNull();
    expect(detail.buyIns).toEqual([]);
  });

  it('books the past-due fails, then plans, notifies and executes a buy-in against one', async () => {
    const booked = await inject({ method: 'POST', url: '/api/settlement/fails/book', payload: {} });
    expect(booked.statusCode, booked.body).toBe(200);
    const fails = (await inject({ url: '/api/settlement/fails' })).json() as { fails: { obligationId: string; direction: string; counterparty: string; inLedger: unknown }[]; ledger: unknown[] };
    expect(fails.fails.length).toBeGreaterThan(0);
    expect(fails.fails.every((f) => f.inLedger !== null)).toBe(true);
    expect(fails.ledger.length).toBeGreaterThan(0);
    const ftr = fails.fails.find((f) => f.direction === 'fail_to_receive')!;
    const created = await inject({ method: 'POST', url: '/api/settlement/buy-ins', payload: { obligationId: ftr.obligationId, reason: 'demo fail' } });
    expect(created.statusCode, created.body).toBe(201);
    const b = created.json() as { id: string; status: string; quantity: string };
    expect(b.status).toBe('planned');
    const early = await inject({ method: 'POST', url: `/api/settlement/buy-ins/${b.id}/execute`, payload: { price: '1.00' } });
    expect(early.statusCode).toBe(409);
    expect(early.json().code).toBe('SETTLEMENT_BUY_IN_STATE');
    expect((await inject({ method: 'POST', url: `/api/settlement/buy-ins/${b.id}/notify`, payload: {} })).json().status).toBe('notified');
    const done = await inject({ method: 'POST', url: `/api/settlement/buy-ins/${b.id}/execute`, payload: { price: '500.00' } });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json()).toMatchObject({ status: 'executed', executedOn: TODAY, executedBy: 'ops' });
    expect((await inject({ url: '/api/settlement/buy-ins?status=executed' })).json()).toHaveLength(1);
    const detail = (await inject({ url: `/api/settlement/obligations/${ftr.obligationId}` })).json();
    expect(detail.buyIns.map((x: { id: string }) => x.id)).toEqual([b.id]);
    expect(detail.fail).toMatchObject({ status: 'closed', closedBy: 'bought_in' });
    expect((await inject({ url: '/api/settlement/buy-ins/byi_nope' })).statusCode).toBe(404);
  });

  it('shows a day\'s end-of-day cycle step by step, and the days it ran', async () => {
    const none = (await inject({ url: '/api/settlement/eod?date=2026-02-27' })).json();
    expect(none).toEqual({ date: '2026-02-27', status: 'not_run', files: [], steps: EOD_STEPS.map((step) => ({ step, status: 'not_started', startedAt: null, finishedAt: null, counts: {} })) });
    const inbox = fs.mkdtempSync(path.join(os.tmpdir(), 'eod-http-'));
    fs.writeFileSync(path.join(inbox, 'confirmations-bad.csv'), 'conf_id,counterparty\nX,GSCO\n');
    await runEod(pool, TODAY, { inbox, outDir: path.join(inbox, 'out') }, { actor: 'eod', clock });
    const day = (await inject({ url: `/api/settlement/eod?date=${TODAY}` })).json();
    expect(day.status).toBe('done');
    expect(day.steps.map((s: { step: string; status: string }) => [s.step, s.status])).toEqual(EOD_STEPS.map((s) => [s, 'done']));
    expect(day.steps[0]).toMatchObject({ startedAt: '2026-03-02T10:00:00.000Z', finishedAt: '2026-03-02T10:00:00.000Z', counts: { confirmations: 1, new: 1 } });
    // No BIC is configured here, but the demo firm has its own standing instruction (party FIRM),
    // so the cycle instructs from it: the obligation due on TODAY goes out.
    expect(day.steps.find((s: { step: string }) => s.step === 'instruct').counts).toMatchObject({ dates: { [TODAY]: { instructed: 1, skipped: 0 } } });
    expect(day.files).toEqual([expect.objectContaining({ name: 'confirmations-bad.csv', kind: 'confirmations', status: 'failed', error: expect.stringContaining('CONFIRMATION_FILE_INVALID') })]);
    const days = (await inject({ url: '/api/settlement/eod/days' })).json();
    expect(days).toEqual([{ date: TODAY, status: 'done', stepsDone: 7, steps: 7, startedAt: '2026-03-02T10:00:00.000Z', finishedAt: '2026-03-02T10:00:00.000Z', files: 1, filesFailed: 1 }]);
  });
});
