/**
 * A statement line and one of our postings are matched at most once. No unique index says so
 * (migration 0018): every writer of matches holds the statement account's lock and the locks of
 * the ledger accounts it matches postings of, and writes only what it found unmatched under them.
 * These tests race two writers that want the same postings. Each holds the books' lock (the last
 * lock a writer takes, for the audit trail) from a third connection while the writers start, so
 * that both are inside their transactions at once: without the ledger accounts' locks both would
 * load the postings unmatched, match them and commit.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { testDb } from '../../test/db.js';
import { DomainError, fixedClock, fromMinor, toMinor } from '../kernel/index.js';
import { openAccount, postEntries, type EntryInput } from '../ledger/index.js';
import { linkAccount, listBreaks, matchBreaks, runReconciliation, storeStatements, type ParsedStatement } from './index.js';

const clock = fixedClock('2024-06-10T09:00:00.000Z');
const ctx = { actor: 'tester', clock };
const db = await testDb();
const pool = db.pool;

const entry = (key: string, date: string, account: string, amount: string): EntryInput => ({
  key, date, memo: `payment ${key}`, postings: [{ account, asset: 'EUR', amount }, { account: 'equity:capital', asset: 'EUR', amount: `-${amount}` }],
});

function cashStatement(account: string, id: string, date: string, entries: { amount: string; ourRef?: string; date?: string }[]): ParsedStatement {
  const sum = entries.reduce((a, e) => a + toMinor(e.amount, 2), 0n);
  return {
    kind: 'cash', format: 'camt.053.001.08', messageId: `MSG-${id}`, statementId: id, sequence: null, account, servicer: null, currency: 'EUR',
    createdAt: `${date}T20:00:00Z`, fromDate: date, toDate: date, statementDate: date,
    balances: [
      { type: 'opening', code: 'OPBD', amount: '0.00', currency: 'EUR', date },
      { type: 'closing', code: 'CLBD', amount: fromMinor(sum, 2), currency: 'EUR', date },
    ],
    entries: entries.map((e, index) => ({
      index, amount: e.amount, currency: 'EUR', bookingDate: e.date ?? date, valueDate: e.date ?? date, status: 'BOOK', servicerRef: `SVC-${id}-${index}`,
      ourRef: e.ourRef ?? null, refs: [], transactionCount: 1, bankTxCode: null, counterpartyName: null, remittance: null, additionalInfo: null,
    })),
    holdings: [], check: 'ok', refused: false,
  };
}

const store = (s: ParsedStatement) => storeStatements(pool, [s], { hash: `test-${s.statementId}`, name: s.statementId }, ctx);

/** Postings of `ledger` matched more than once, and how many of its postings are matched at all. */
async function matchedPostings(ledger: string): Promise<{ twice: number; once: number }> {
  const r = await pool.query<{ n: number; items: number }>(
    `SELECT count(*)::int AS n, coalesce(sum(k), 0)::int AS items FROM (
       SELECT count(*) AS k FROM recon_match_items m JOIN postings p ON p.entry_seq = m.entry_seq AND p.line = m.posting_line
         JOIN accounts a ON a.id = p.account_id WHERE a.name = $1 GROUP BY m.entry_seq, m.posting_line) x`, [ledger]);
  return { once: r.rows[0]!.n, twice: r.rows[0]!.items - r.rows[0]!.n };
}

/** Holds the books' lock on its own connection until `release`. */
async function holdBooks() {
  const c = await pool.connect();
  await c.query('BEGIN');
  await c.query('SELECT pg_advisory_xact_lock(7243002)');
  return { async release() { await c.query('COMMIT'); c.release(); } };
}

/** Waits until `n` sessions wait for an advisory lock. */
async function waiting(n: number) {
  for (let i = 0; i < 600; i++) {
    const r = await pool.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted");
    if (r.rows[0]!.n >= n) return;
    await new Promise((ok) => setTimeout(ok, 50));
  }
  throw new Error(`${n} sessions never waited for a lock`);
}

beforeAll(async () => {
  for (const [name, type] of [['assets:bank:race:eur', 'asset'], ['assets:bank:hand:eur', 'asset'], ['assets:bank:late:eur', 'asset'], ['assets:bank:huge:eur', 'asset'],
    ['equity:capital', 'equity']] as const) {
    await openAccount(pool, { name, type }, ctx);
  }
});

describe('a posting is matched once, whoever races for it', () => {
  it('two runs of statement accounts linked to one ledger account, at once: one matches the postings, the other finds them matched', async () => {
    const N = 40;
    await postEntries(pool, Array.from({ length: N }, (_, i) => entry(`race-${i}`, '2024-06-03', 'assets:bank:race:eur', `${10 + i}.00`)), ctx);
    const lines = Array.from({ length: N }, (_, i) => ({ amount: `${10 + i}.00`, ourRef: `race-${i}` }));
    await store(cashStatement('RACE-A', 'RA-1', '2024-06-03', lines));
    await store(cashStatement('RACE-B', 'RB-1', '2024-06-03', lines));
    await linkAccount(pool, { statementAccount: 'RACE-A', ledgerAccount: 'assets:bank:race:eur' }, ctx);
    await linkAccount(pool, { statementAccount: 'RACE-B', ledgerAccount: 'assets:bank:race:eur' }, ctx);

    const books = await holdBooks();
    const runs = Promise.all([runReconciliation(pool, 'RACE-A', '2024-06-30', ctx), runReconciliation(pool, 'RACE-B', '2024-06-30', ctx)]);
    // Both runs are in: one waits for the books (its matches written), the other for the ledger account.
    await waiting(2);
    await books.release();
    const [a, b] = await runs;

    expect(await matchedPostings('assets:bank:race:eur')).toEqual({ once: N, twice: 0 });
    const [won, lost] = a.matched.total ? [a, b] : [b, a];
    expect(won.matched).toMatchObject({ total: N, lines: N, ours: N, byRule: { reference: N } });
    expect(lost.considered).toEqual({ lines: N, ours: 0 });
    expect(lost.matched.total).toBe(0);
    expect(lost.breaks.byType).toEqual({ missing_ours: N });
  });

  it('a match by hand and a run: the run waits, then finds the posting matched', async () => {
    await postEntries(pool, [entry('hand-1', '2024-06-03', 'assets:bank:hand:eur', '42.00')], ctx);
    // HAND-B's line is a month off and names nothing: two breaks, its line and our posting.
    await store(cashStatement('HAND-B', 'HB-1', '2024-06-03', [{ amount: '42.00', date: '2024-05-01' }]));
    await linkAccount(pool, { statementAccount: 'HAND-B', ledgerAccount: 'assets:bank:hand:eur' }, ctx);
    const rb = await runReconciliation(pool, 'HAND-B', '2024-06-30', ctx);
    expect(rb.breaks.byType).toEqual({ missing_ours: 1, missing_theirs: 1 });
    const ids = (await listBreaks(pool, { account: 'HAND-B', status: 'open', asOf: '2024-06-30' })).breaks.map((x) => x.id);
    // HAND-A's line names the entry.
    await store(cashStatement('HAND-A', 'HA-1', '2024-06-03', [{ amount: '42.00', ourRef: 'hand-1' }]));
    await linkAccount(pool, { statementAccount: 'HAND-A', ledgerAccount: 'assets:bank:hand:eur' }, ctx);

    const books = await holdBooks();
    const byHand = matchBreaks(pool, ids, 'the bank booked it late', ctx);
    await waiting(1);
    const run = runReconciliation(pool, 'HAND-A', '2024-06-30', ctx);
    await waiting(2);
    await books.release();
    const [matched, ra] = await Promise.all([byHand, run]);

    expect(matched.map((x) => x.resolution)).toEqual(['manual_match', 'manual_match']);
    expect(await matchedPostings('assets:bank:hand:eur')).toEqual({ once: 1, twice: 0 });
    expect(ra.considered).toEqual({ lines: 1, ours: 0 });
    expect(ra.breaks.byType).toEqual({ missing_ours: 1 });
  });

  it('a match by hand of a posting a run has matched since is refused whole, naming the posting', async () => {
    await postEntries(pool, [entry('late-1', '2024-06-03', 'assets:bank:late:eur', '7.00')], ctx);
    await store(cashStatement('LATE-B', 'LB-1', '2024-06-03', [{ amount: '7.00', date: '2024-05-01' }]));
    await linkAccount(pool, { statementAccount: 'LATE-B', ledgerAccount: 'assets:bank:late:eur' }, ctx);
    await runReconciliation(pool, 'LATE-B', '2024-06-30', ctx);
    const ids = (await listBreaks(pool, { account: 'LATE-B', status: 'open', asOf: '2024-06-30' })).breaks.map((x) => x.id);
    expect(ids).toHaveLength(2);
    await store(cashStatement('LATE-A', 'LA-1', '2024-06-03', [{ amount: '7.00', ourRef: 'late-1' }]));
    await linkAccount(pool, { statementAccount: 'LATE-A', ledgerAccount: 'assets:bank:late:eur' }, ctx);
    expect((await runReconciliation(pool, 'LATE-A', '2024-06-30', ctx)).matched.total).toBe(1);

    const items = Number((await pool.query('SELECT count(*)::int AS n FROM recon_match_items')).rows[0].n);
    let error: unknown;
    try {
      await matchBreaks(pool, ids, 'the bank booked it late', ctx);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ code: 'RECON_BREAK_NOT_OPEN', kind: 'conflict' });
    expect((error as Error).message).toMatch(/already matched: posting \d+:0 \(match \d+\)/);
    expect(Number((await pool.query('SELECT count(*)::int AS n FROM recon_match_items')).rows[0].n)).toBe(items);
    expect((await listBreaks(pool, { account: 'LATE-B', status: 'open', asOf: '2024-06-30' })).breaks.map((x) => x.id).sort()).toEqual([...ids].sort());
    expect(await matchedPostings('assets:bank:late:eur')).toEqual({ once: 1, twice: 0 });
  });
});

describe('amounts beyond bigint', () => {
  it('are read as numeric text and matched exactly: by reference, and a cent apart an amount_differs break', async () => {
    // 2 * 10^19 cents: more than a bigint holds (the fast read casts to bigint and falls back).
    await postEntries(pool, [entry('huge-1', '2024-06-03', 'assets:bank:huge:eur', '200000000000000000.00'), entry('huge-2', '2024-06-03', 'assets:bank:huge:eur', '200000000000000000.01')], ctx);
    await store(cashStatement('HUGE-A', 'HU-1', '2024-06-03', [
      { amount: '200000000000000000.00', ourRef: 'huge-1' }, { amount: '200000000000000000.02', ourRef: 'huge-2' },
    ]));
    await linkAccount(pool, { statementAccount: 'HUGE-A', ledgerAccount: 'assets:bank:huge:eur' }, ctx);
    const r = await runReconciliation(pool, 'HUGE-A', '2024-06-30', ctx);
    expect(r.matched).toMatchObject({ total: 1, byRule: { reference: 1 } });
    expect(r.breaks.byType).toEqual({ amount_differs: 1 });
    const [b] = (await listBreaks(pool, { account: 'HUGE-A', status: 'open', asOf: '2024-06-30' })).breaks;
    expect(b).toMatchObject({ theirs: '200000000000000000.02', ours: '200000000000000000.01', difference: '0.01' });
  });
});
