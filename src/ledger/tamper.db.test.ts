/**
 * Tampering behind the application's back is detected. Each case gets a fresh database with the
 * same books, edits it with triggers off (session_replication_role = replica bypasses the
 * append-only triggers, as a DBA or an intruder with superuser could), and checks that
 * verifyAudit names the table and record that was touched.
 */
import { describe, it, expect, inject } from 'vitest';
import { cloneTestDb, type TestDb } from '../db/testing.js';
import { fixedClock } from '../kernel/index.js';
import { addUser } from '../users/index.js';
import {
  addAsset, openAccount, postEntries, reverseEntry, closePeriod, verifyAudit, type EntryInput,
} from './index.js';

const ctx = { actor: 'ops', clock: fixedClock('2026-02-10T08:00:00.000Z') };

const e = (key: string, date: string, legs: [string, string, string][]): EntryInput => ({
  key, date, memo: `memo of ${key}`, postings: legs.map(([account, asset, amount]) => ({ account, asset, amount })),
});

interface Books {
  db: TestDb;
  /** Entry id and seq by key ('rev' is the reversal of dep2). */
  entry: Record<string, { id: string; seq: string }>;
  account: Record<string, number>;
  user: Record<string, number>;
  closeId: number;
}

/** A fresh database holding a small but complete set of books. */
async function books(): Promise<Books> {
  const db = await cloneTestDb(inject('pgUrl'));
  const pool = db.pool;
  await addAsset(pool, { code: 'SHR0', scale: 0 }, ctx);
  for (const [name, type] of [
    ['assets:bank:usd', 'asset'], ['equity:capital', 'equity'], ['customers:c1:cash', 'liability'],
    ['customers:c2:cash', 'liability'], ['customers:c1:sec', 'liability'], ['assets:dtc', 'asset'],
  ] as const) await openAccount(pool, { name, type }, ctx);
  await postEntries(pool, [
    e('cap', '2026-01-05', [['assets:bank:usd', 'USD', '1000.00'], ['equity:capital', 'USD', '-1000.00']]),
    e('dep1', '2026-01-10', [['assets:bank:usd', 'USD', '250.00'], ['customers:c1:cash', 'USD', '-250.00']]),
    e('stk', '2026-01-12', [['assets:dtc', 'SHR0', '100'], ['customers:c1:sec', 'SHR0', '-100']]),
  ], ctx);
  await postEntries(pool, [e('dep2', '2026-02-03', [['assets:bank:usd', 'USD', '75.50'], ['customers:c2:cash', 'USD', '-75.50']])], ctx);
  await postEntries(pool, [e('fee', '2026-02-04', [['customers:c1:cash', 'USD', '5.00'], ['equity:capital', 'USD', '-5.00']])], ctx);
  const dep2 = (await pool.query('SELECT id FROM journal_entries WHERE idempotency_key = $1', ['dep2'])).rows[0].id;
  await reverseEntry(pool, dep2, ctx, { date: '2026-02-05' });
  await closePeriod(pool, '2026-01-31', ctx);
  await addUser(pool, { name: 'alice', role: 'operations', password: 'alice-password-1' }, ctx);
  await addUser(pool, { name: 'bob', role: 'admin', password: 'bob-password-22' }, ctx);

  const entry: Books['entry'] = {};
  for (const r of (await pool.query('SELECT idempotency_key AS key, id, seq::text AS seq FROM journal_entries')).rows) {
    entry[r.key.startsWith('reversal:') ? 'rev' : r.key] = { id: r.id, seq: r.seq };
  }
  const account = Object.fromEntries((await pool.query('SELECT name, id FROM accounts')).rows.map((r) => [r.name, r.id]));
  const user = Object.fromEntries((await pool.query('SELECT name, id FROM users')).rows.map((r) => [r.name, r.id]));
  const closeId = (await pool.query('SELECT id FROM period_closes')).rows[0].id;
  return { db, entry, account, user, closeId };
}

/** Run statements in one transaction with triggers (append-only guards, FKs, the posting check) off. */
async function behindTheBack(b: Books, statements: [string, unknown[]?][]): Promise<void> {
  const c = await b.db.pool.connect();
  try {
    await c.query('BEGIN');
    await c.query('SET LOCAL session_replication_role = replica');
    for (const [sql, params] of statements) {
      const r = await c.query(sql, params ?? []);
      expect(r.rowCount, sql).toBeGreaterThan(0); // the tampering really changed something
    }
    await c.query('COMMIT');
  } finally {
    c.release();
  }
}

/** The audit seq of the first record about an entity. */
const auditSeq = async (b: Books, entity: string, entityId: string) =>
  String((await b.db.pool.query('SELECT min(seq) AS s FROM audit_log WHERE entity = $1 AND entity_id = $2', [entity, entityId])).rows[0].s);

type Case = [name: string, tamper: (b: Books) => Promise<void>, expected: (b: Books) => Promise<{ table: string; id: string }> | { table: string; id: string }];

const cases: Case[] = [
  ['changes a posting amount',
    (b) => behindTheBack(b, [['UPDATE postings SET amount = amount * 10 WHERE entry_seq = $1 AND line = 0', [b.entry.dep1!.seq]]]),
    (b) => ({ table: 'journal_entries', id: b.entry.dep1!.id })],
  ['deletes a posting',
    (b) => behindTheBack(b, [['DELETE FROM postings WHERE entry_seq = $1 AND line = 1', [b.entry.stk!.seq]]]),
    (b) => ({ table: 'journal_entries', id: b.entry.stk!.id })],
  ['inserts a posting into an entry',
    (b) => behindTheBack(b, [[`INSERT INTO postings (entry_seq, line, account_id, asset, amount, effective_date) VALUES ($1, 2, $2, 'USD', 1, '2026-01-05')`,
      [b.entry.cap!.seq, b.account['customers:c1:cash']]]]),
    (b) => ({ table: 'journal_entries', id: b.entry.cap!.id })],
  ['moves a posting to another customer and fixes the stored balances to match',
    (b) => behindTheBack(b, [
      ['UPDATE postings SET account_id = $2 WHERE entry_seq = $1 AND line = 1', [b.entry.dep1!.seq, b.account['customers:c2:cash']]],
      [`UPDATE balances SET balance = balance + 25000 WHERE account_id = $1 AND asset = 'USD'`, [b.account['customers:c1:cash']]],
      [`UPDATE balances SET balance = balance - 25000 WHERE account_id = $1 AND asset = 'USD'`, [b.account['customers:c2:cash']]],
    ]),
    (b) => ({ table: 'journal_entries', id: b.entry.dep1!.id })],
  ['changes an entry memo',
    (b) => behindTheBack(b, [['UPDATE journal_entries SET memo = $2 WHERE seq = $1', [b.entry.fee!.seq, 'nothing to see here']]]),
    (b) => ({ table: 'journal_entries', id: b.entry.fee!.id })],
  ['back-dates an entry',
    (b) => behindTheBack(b, [
      [`UPDATE journal_entries SET effective_date = '2026-01-30' WHERE seq = $1`, [b.entry.fee!.seq]],
      [`UPDATE postings SET effective_date = '2026-01-30' WHERE entry_seq = $1`, [b.entry.fee!.seq]],
    ]),
    (b) => ({ table: 'journal_entries', id: b.entry.fee!.id })],
  ['unlinks a reversal from the entry it reverses',
    (b) => behindTheBack(b, [['UPDATE journal_entries SET reverses = NULL WHERE seq = $1', [b.entry.rev!.seq]]]),
    (b) => ({ table: 'journal_entries', id: b.entry.rev!.id })],
  ['deletes a journal entry with its postings',
    (b) => behindTheBack(b, [
      ['DELETE FROM postings WHERE entry_seq = $1', [b.entry.dep1!.seq]],
      ['DELETE FROM journal_entries WHERE seq = $1', [b.entry.dep1!.seq]],
    ]),
    (b) => ({ table: 'journal_entries', id: b.entry.dep1!.id })],
  ['inserts a whole, balanced journal entry',
    (b) => behindTheBack(b, [
      [`INSERT INTO journal_entries (seq, id, idempotency_key, body_hash, effective_date, memo, recorded_at, created_by)
        VALUES (900, 'je_FORGED', 'forged', 'x', '2026-02-06', 'forged', now(), 'ops')`],
      [`INSERT INTO postings VALUES (900, 0, $1, 'USD', 100000, '2026-02-06'), (900, 1, $2, 'USD', -100000, '2026-02-06')`,
        [b.account['assets:bank:usd'], b.account['customers:c2:cash']]],
    ]),
    () => ({ table: 'journal_entries', id: 'je_FORGED' })],
  ['deletes an audit record',
    async (b) => behindTheBack(b, [['DELETE FROM audit_log WHERE seq = $1', [await auditSeq(b, 'journal_entries', b.entry.stk!.id)]]]),
    async (b) => ({ table: 'audit_log', id: await auditSeq(b, 'journal_entries', b.entry.stk!.id) })],
  ['changes the data of an audit record',
    async (b) => behindTheBack(b, [[`UPDATE audit_log SET data = jsonb_set(data, '{key}', '"innocent"') WHERE seq = $1`, [await auditSeq(b, 'journal_entries', b.entry.cap!.id)]]]),
    async (b) => ({ table: 'audit_log', id: await auditSeq(b, 'journal_entries', b.entry.cap!.id) })],
  ['changes the actor of an audit record',
    async (b) => behindTheBack(b, [[`UPDATE audit_log SET actor = 'someone-else' WHERE seq = $1`, [await auditSeq(b, 'users', String(b.user.bob))]]]),
    async (b) => ({ table: 'audit_log', id: await auditSeq(b, 'users', String(b.user.bob)) })],
  ["changes an account's type",
    (b) => behindTheBack(b, [[`UPDATE accounts SET type = 'income' WHERE id = $1`, [b.account['customers:c1:cash']]]]),
    (b) => ({ table: 'accounts', id: String(b.account['customers:c1:cash']) })],
  ["changes an asset's scale",
    (b) => behindTheBack(b, [[`UPDATE assets SET scale = 2 WHERE code = 'SHR0'`]]),
    () => ({ table: 'assets', id: 'SHR0' })],
  ['re-opens a closed period',
    (b) => behindTheBack(b, [[`UPDATE period_closes SET closed_through = '2025-12-31' WHERE id = $1`, [b.closeId]]]),
    (b) => ({ table: 'period_closes', id: String(b.closeId) })],
  ['deletes a period close',
    (b) => behindTheBack(b, [['DELETE FROM period_closes WHERE id = $1', [b.closeId]]]),
    (b) => ({ table: 'period_closes', id: String(b.closeId) })],
  ["changes a user's role",
    (b) => behindTheBack(b, [[`UPDATE users SET role = 'admin' WHERE id = $1`, [b.user.alice]]]),
    (b) => ({ table: 'users', id: String(b.user.alice) })],
  ["copies another user's password hash",
    (b) => behindTheBack(b, [['UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE id = $2) WHERE id = $1', [b.user.bob, b.user.alice]]]),
    (b) => ({ table: 'users', id: String(b.user.bob) })],
  ['adds a user',
    (b) => behindTheBack(b, [[`INSERT INTO users (id, name, role, created_at) VALUES (99, 'mallory', 'admin', now())`]]),
    () => ({ table: 'users', id: '99' })],
  ['changes a stored balance',
    (b) => behindTheBack(b, [[`UPDATE balances SET balance = balance + 1 WHERE account_id = $1 AND asset = 'USD'`, [b.account['customers:c2:cash']]]]),
    () => ({ table: 'balances', id: 'customers:c2:cash/USD' })],
];

describe('tampering is detected', () => {
  it('the untouched books verify', async () => {
    const b = await books();
    try {
      const v = await verifyAudit(b.db.pool);
      expect(v.problems).toEqual([]);
      expect(v.ok).toBe(true);
    } finally {
      await b.db.drop();
    }
  });

  for (const [name, tamper, expected] of cases) {
    it(`when someone ${name}`, async () => {
      const b = await books();
      try {
        const want = await expected(b); // before: the tampering may remove what names the record
        await tamper(b);
        const v = await verifyAudit(b.db.pool);
        expect(v.ok).toBe(false);
        expect(v.firstBroken).toMatchObject(want);
        expect(v.firstBroken!.reason).toContain(want.id.split('/')[0]);
      } finally {
        await b.db.drop();
      }
    });
  }
});
