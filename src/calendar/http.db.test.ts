import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { Kysely, PostgresDialect } from 'kysely';
import { testDb } from '../../test/db.js';
import type { Db, Schema } from '../db/index.js';
import { fixedClock, loadConfig } from '../kernel/index.js';
import { addUser } from '../users/index.js';
import { buildServer } from '../api/server.js';

/** The calendar over HTTP: the same answers as the CLI, errors as problem+json. */
const clock = fixedClock('2026-11-26T09:00:00.000Z');
const tdb = await testDb();
const db: Db = { pool: tdb.pool, kysely: new Kysely<Schema>({ dialect: new PostgresDialect({ pool: tdb.pool }) }), where: 'test', close: async () => {} };
let app: FastifyInstance;
let cookie = '';

beforeAll(async () => {
  await addUser(tdb.pool, { name: 'cal-ops', password: 'a long enough password 1', role: 'operations' }, { actor: 'test', clock });
  app = await buildServer({ db, config: loadConfig({}, {}), clock, logger: false });
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'cal-ops', password: 'a long enough password 1' }, remoteAddress: '10.9.1.1' });
  cookie = `bo_session=${res.cookies.find((c) => c.name === 'bo_session')!.value}`;
});
afterAll(async () => { await app?.close(); });

const get = (url: string) => app.inject({ method: 'GET', url, headers: { cookie } });

describe('calendar over HTTP', () => {
  it('gives settlement dates and the settlement days around Thanksgiving', async () => {
    const sd = await get('/api/calendar/settlement-date?market=XNYS&tradeDate=2026-10-09');
    expect(sd.statusCode, sd.body).toBe(200);
    // Columbus Day (Monday 12th): the exchange trades, nothing settles.
    expect(sd.json()).toEqual({ market: 'XNYS', tradeDate: '2026-10-09', assetClass: 'equity', cycle: 1, settlementDate: '2026-10-13' });
    const days = await get('/api/calendar/business-days?market=XNYS&from=2026-11-25&to=2026-11-30&kind=settlement');
    expect(days.json()).toMatchObject({ count: 3, days: ['2026-11-25', '2026-11-27', '2026-11-30'] });
    const trading = await get('/api/calendar/business-days?market=XNYS&from=2026-10-09&to=2026-10-13');
    expect(trading.json().days).toEqual(['2026-10-09', '2026-10-12', '2026-10-13']);
  });

  it('refuses an unknown market, a non-trading trade date and a bad kind as problem+json naming them', async () => {
    const unknown = await get('/api/calendar/business-days?market=XXXX&from=2026-11-25&to=2026-11-30');
    expect(unknown.statusCode).toBe(422);
    expect(unknown.headers['content-type']).toMatch(/problem\+json/);
    expect(unknown.body).toContain('XXXX');
    const holiday = await get('/api/calendar/settlement-date?market=XNYS&tradeDate=2026-11-26');
    expect(holiday.statusCode).toBe(422);
    expect(holiday.body).toContain('2026-11-26');
    const kind = await get('/api/calendar/business-days?market=XNYS&from=2026-11-25&to=2026-11-30&kind=weekly');
    expect(kind.statusCode).toBe(400);
  });
});
