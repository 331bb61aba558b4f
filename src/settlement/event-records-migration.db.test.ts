/**
 * Migration 0020 on a database that ran 0016 (settlement's own copy of each corporate action):
 * settlement keeps who followed each action and when, its adjustments stay attached, a split only
 * settlement had recorded becomes trading's lot event, and terms that disagree stop the migration.
 */
import { describe, it, expect, beforeAll, afterAll, inject } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importTradingReference } from '../../test/trading-reference.js';
import { MIGRATIONS_DIR, migrate, openPool, type Pool } from '../db/index.js';
import { pg } from '../db/pg.js';
import { fixedClock } from '../kernel/index.js';
import { importAnnouncements } from '../accounting/index.js';

const ctx = { actor: 'ops', clock: fixedClock('2026-03-10T12:00:00.000Z') };
const THIS = '0020_settlement_events_from_trading.sql';
const admin = inject('pgUrl');
const name = `m0020_${process.pid}_${Date.now().toString(36)}`;
const url = (() => { const u = new URL(admin); u.pathname = `/${name}`; return u.toString(); })();
let pool: Pool;

async function adminQuery(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  try { await c.query(sql); } finally { await c.end(); }
}

beforeAll(async () => {
  await adminQuery(`CREATE DATABASE ${name}`);
  pool = openPool(url, 4);
  // The schema as it stood before 0020.
  const before = fs.mkdtempSync(path.join(os.tmpdir(), 'm0020-'));
  for (const f of fs.readdirSync(MIGRATIONS_DIR).filter((f) => /^\d{4}_.+\.sql$/.test(f) && f < THIS)) {
    fs.copyFileSync(path.join(MIGRATIONS_DIR, f), path.join(before, f));
  }
  await migrate(pool, before);
  await importTradingReference(pool, ctx);
  await importAnnouncements(pool, [
    'id,kind,symbol,effective_date,ratio,cash_in_lieu_price,new_symbol,new_isin,new_cusip,description',
    'SPLIT-MSFT,split,MSFT,2026-03-16,2-for-1,,,,,both recorded it',
    'SPLIT-AAPL,split,AAPL,2026-03-17,3-for-2,191.25,,,,only settlement recorded it',
    'ISIN-AAPL,symbol_change,AAPL,2026-03-18,,,,US037833AB69,037833AB6,new identifiers only',
  ].join('\n'), 'actions.csv', ctx);
  await pool.query(`INSERT INTO lot_events (id, kind, symbol, effective_date, ratio_new, ratio_old, created_at)
    VALUES ('SPLIT-MSFT', 'split', 'MSFT', '2026-03-16', 2, 1, '2026-03-16T07:00:00Z')`);
  await pool.query(`INSERT INTO settlement_security_events (action_id, kind, symbol, new_symbol, effective_date, ratio_new, ratio_old, recorded_at, recorded_by) VALUES
    ('SPLIT-MSFT', 'split', 'MSFT', NULL, '2026-03-16', 2, 1, '2026-03-16T07:00:00Z', 'ops'),
    ('SPLIT-AAPL', 'split', 'AAPL', NULL, '2026-03-17', 3, 2, '2026-03-17T07:00:00Z', 'lead'),
    ('ISIN-AAPL', 'symbol_change', 'AAPL', NULL, '2026-03-18', NULL, NULL, '2026-03-18T07:00:00Z', 'ops')`);
  await pool.query(`INSERT INTO settlement_obligations (id, settle_date, counterparty, symbol, currency, quantity, cash, trades, gross_quantity, gross_cash, created_at, updated_at, updated_by)
    VALUES ('sob_1', '2026-03-16', 'GSCO', 'MSFT', 'USD', 200, -4000000, 1, 200, 4000000, now(), now(), 'ops')`);
  await pool.query(`INSERT INTO settlement_obligation_adjustments (obligation_id, action_id, symbol_before, symbol_after, quantity_before, quantity_after,
      carried_before, carried_after, gross_before, gross_after, adjusted_at, adjusted_by)
    VALUES ('sob_1', 'SPLIT-MSFT', 'MSFT', 'MSFT', 100, 200, 0, 0, 100, 200, '2026-03-16T07:00:00Z', 'ops')`);
});

afterAll(async () => {
  await pool?.end();
  await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
});

describe('migration 0020: settlement reads the events from trading', () => {
  it('refuses, changing nothing, where settlement and trading disagree on an action', async () => {
    const sql = fs.readFileSync(path.join(MIGRATIONS_DIR, THIS), 'utf8');
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await c.query("UPDATE lot_events SET ratio_new = 3 WHERE id = 'SPLIT-MSFT'");
      await expect(c.query(sql)).rejects.toThrow(/disagree on the terms of SPLIT-MSFT/);
    } finally {
      await c.query('ROLLBACK');
      c.release();
    }
    expect((await pool.query("SELECT to_regclass('settlement_security_events') IS NOT NULL AS there")).rows[0].there).toBe(true);
  });

  it('keeps who recorded each action and when, and the adjustments; the terms live in lot_events', async () => {
    expect(await migrate(pool)).toContain(THIS.replace('.sql', ''));
    expect((await pool.query("SELECT to_regclass('settlement_security_events') AS t")).rows[0].t).toBeNull();
    expect((await pool.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'settlement_event_records' ORDER BY ordinal_position`)).rows
      .map((r) => r.column_name)).toEqual(['action_id', 'recorded_at', 'recorded_by']);
    expect((await pool.query(`SELECT action_id, recorded_by, to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS at
      FROM settlement_event_records ORDER BY action_id`)).rows).toEqual([
      { action_id: 'ISIN-AAPL', recorded_by: 'ops', at: '2026-03-18 07:00' },
      { action_id: 'SPLIT-AAPL', recorded_by: 'lead', at: '2026-03-17 07:00' },
      { action_id: 'SPLIT-MSFT', recorded_by: 'ops', at: '2026-03-16 07:00' },
    ]);
    // The split only settlement had recorded is trading's now, with its action's cash-in-lieu price;
    // the identifier change without a new symbol has no lot event (settlement never read its terms).
    expect((await pool.query(`SELECT id, kind, symbol, new_symbol, effective_date::text AS d, ratio_new::text AS rn, ratio_old::text AS ro,
        cash_in_lieu_price::text AS cil, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS at FROM lot_events ORDER BY id`)).rows).toEqual([
      { id: 'SPLIT-AAPL', kind: 'split', symbol: 'AAPL', new_symbol: null, d: '2026-03-17', rn: '3', ro: '2', cil: '191.25', at: '2026-03-17 07:00' },
      { id: 'SPLIT-MSFT', kind: 'split', symbol: 'MSFT', new_symbol: null, d: '2026-03-16', rn: '2', ro: '1', cil: null, at: '2026-03-16 07:00' },
    ]);
    expect((await pool.query('SELECT obligation_id, action_id FROM settlement_obligation_adjustments')).rows).toEqual([{ obligation_id: 'sob_1', action_id: 'SPLIT-MSFT' }]);
    // An adjustment still names an action settlement recorded.
    await expect(pool.query(`INSERT INTO settlement_obligation_adjustments (obligation_id, action_id, symbol_before, symbol_after, quantity_before, quantity_after,
        carried_before, carried_after, gross_before, gross_after, adjusted_at, adjusted_by)
      VALUES ('sob_1', 'NOPE', 'MSFT', 'MSFT', 1, 2, 0, 0, 1, 2, now(), 'ops')`)).rejects.toThrow(/foreign key/);
  });
});
