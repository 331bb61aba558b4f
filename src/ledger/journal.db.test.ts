import { describe, it, expect, beforeAll } from 'vitest';
import { testDb } from '../../test/db.js';
import { fixedClock } from '../kernel/index.js';
import {
  addAsset, openAccount, postEntries, balances, trialBalance, reverseEntry, closePeriod, accountActivity,
  rolledUpBalances, verifyAudit, EntriesRejected, getEntry, listEntries, type EntryInput,
} from './index.js';

const ctx = { actor: 'tester', clock: fixedClock('2026-03-02T10:00:00.000Z') };
const db = await testDb();
const pool = db.pool;

const e = (key: string, date: string, legs: [string, string, string][], memo = key): EntryInput => ({
  key, date, memo, postings: legs.map(([account, asset, amount]) => ({ account, asset, amount })),
});

beforeAll(async () => {
  await addAsset(pool, { code: 'XYZ', scale: 0 }, ctx);
  await addAsset(pool, { code: 'FRAC', scale: 4 }, ctx);
  for (const [name, type, noNegative] of [
    ['assets:bank:usd', 'asset', false], ['assets:bank:eur', 'asset', false], ['equity:capital', 'equity', false],
    ['customers:C1:cash', 'liability', false], ['customers:C1:securities', 'liability', false],
    ['assets:depository:dtc', 'asset', false], ['customers:C2:cash', 'asset', true], ['income:fees', 'income', false],
  ] as const) {
    await openAccount(pool, { name, type, noNegative }, ctx);
  }
});

describe('journal entries', () => {
  it('posts a balanced entry and keeps balances, roll-ups and the trial balance', async () => {
    const [o] = await postEntries(pool, [e('cap-1', '2026-01-05', [['assets:bank:usd', 'USD', '1000000.00'], ['equity:capital', 'USD', '-1000000.00']])], ctx);
    expect(o!.status).toBe('posted');
    await postEntries(pool, [e('cap-2', '2026-01-06', [['assets:bank:eur', 'EUR', '500.50'], ['equity:capital', 'EUR', '-500.50']])], ctx);
    const b = await balances(pool, { account: 'assets:bank' });
    expect(b).toEqual([
      { account: 'assets:bank:eur', asset: 'EUR', balance: '500.50' },
      { account: 'assets:bank:usd', asset: 'USD', balance: '1000000.00' },
    ]);
    const rolled = await rolledUpBalances(pool, { account: 'assets' });
    expect(rolled).toContainEqual({ account: 'assets', asset: 'USD', balance: '1000000.00' });
    const tb = await trialBalance(pool);
    for (const t of tb.totals) expect(t.debit).toBe(t.credit);
  });

  it('books securities as a double-entry stock record', async () => {
    await postEntries(pool, [e('stk-1', '2026-01-07', [['assets:depository:dtc', 'XYZ', '100'], ['customers:C1:securities', 'XYZ', '-100']])], ctx);
    expect(await balances(pool, { account: 'customers:C1:securities' })).toEqual([{ account: 'customers:C1:securities', asset: 'XYZ', balance: '-100' }]);
  });

  it('is idempotent by key and refuses a key reused with another body', async () => {
    const body = e('idem-1', '2026-01-08', [['assets:bank:usd', 'USD', '1.00'], ['equity:capital', 'USD', '-1.00']]);
    const [a] = await postEntries(pool, [body], ctx);
    const [b] = await postEntries(pool, [body], ctx);
    expect(b).toEqual({ key: 'idem-1', status: 'duplicate', id: (a as { id: string }).id });
    await expect(postEntries(pool, [{ ...body, memo: 'other' }], ctx)).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', kind: 'conflict' });
    expect((await balances(pool, { account: 'assets:bank:usd' }))[0]!.balance).toBe('1000001.00');
  });

  it('refuses bad entries by name and rule, writing nothing of the batch', async () => {
    const good = e('batch-good', '2026-01-09', [['assets:bank:usd', 'USD', '5.00'], ['equity:capital', 'USD', '-5.00']]);
    const cases: [EntryInput, string, string][] = [
      [e('bad-unbal', '2026-01-09', [['assets:bank:usd', 'USD', '5.00'], ['equity:capital', 'USD', '-4.99']]), 'ENTRY_UNBALANCED', 'sum to 0.01'],
      [e('bad-acct', '2026-01-09', [['assets:nope', 'USD', '5.00'], ['equity:capital', 'USD', '-5.00']]), 'ACCOUNT_UNKNOWN', 'assets:nope'],
      [e('bad-asset', '2026-01-09', [['assets:bank:usd', 'QQQQ', '5'], ['equity:capital', 'QQQQ', '-5']]), 'ASSET_UNKNOWN', 'QQQQ'],
      [e('bad-scale', '2026-01-09', [['assets:bank:usd', 'USD', '5.001'], ['equity:capital', 'USD', '-5.001']]), 'AMOUNT_TOO_PRECISE', '3 decimals'],
      [e('bad-date', '2026-02-30', [['assets:bank:usd', 'USD', '5'], ['equity:capital', 'USD', '-5']]), 'ENTRY_INVALID', 'not a calendar day'],
      [{ key: 'bad-num', date: '2026-01-09', postings: [{ account: 'assets:bank:usd', asset: 'USD', amount: 5 as unknown as string }, { account: 'equity:capital', asset: 'USD', amount: '-5' }] }, 'ENTRY_INVALID', 'decimal string'],
      [e('bad-one', '2026-01-09', [['assets:bank:usd', 'USD', '5']]), 'ENTRY_INVALID', 'two or more postings'],
    ];
    for (const [bad, code, text] of cases) {
      const err = await postEntries(pool, [good, bad], ctx).catch((x) => x);
      expect(err).toBeInstanceOf(EntriesRejected);
      expect(err.code).toBe(code);
      expect(err.message).toContain(`entry #2 "${bad.key}"`);
      expect(err.message).toContain(text);
    }
    expect(await postEntries(pool, [good], ctx)).toMatchObject([{ status: 'posted' }]);
  });

  it('holds a no-negative rule, per entry in mode each', async () => {
    const fund = e('c2-fund', '2026-01-10', [['customers:C2:cash', 'USD', '100.00'], ['equity:capital', 'USD', '-100.00']]);
    const spend = (k: string, amt: string) => e(k, '2026-01-10', [['customers:C2:cash', 'USD', `-${amt}`], ['equity:capital', 'USD', amt]]);
    const out = await postEntries(pool, [fund, spend('c2-a', '60.00'), spend('c2-b', '60.00'), spend('c2-c', '40.00')], ctx, 'each');
    expect(out.map((o) => o.status)).toEqual(['posted', 'posted', 'rejected', 'posted']);
    expect((out[2] as { error: Error }).error.message).toMatch(/customers:C2:cash" may not go negative; USD balance would be -20.00/);
    expect((await accountActivity(pool, 'customers:C2:cash', 'USD')).rows.map((r) => r.balance)).toEqual(['100.00', '40.00', '0.00']);
    expect(await balances(pool, { account: 'customers:C2:cash' })).toEqual([]);
  });

  it('reverses an entry, once', async () => {
    const [o] = await postEntries(pool, [e('rev-me', '2026-01-12', [['assets:bank:usd', 'USD', '42.00'], ['income:fees', 'USD', '-42.00']])], ctx);
    const id = (o as { id: string }).id;
    const r1 = await reverseEntry(pool, id, ctx, { date: '2026-01-13' });
    const r2 = await reverseEntry(pool, id, ctx, { date: '2026-01-13' });
    expect(r2.id).toBe(r1.id);
    expect(r1.reverses).toBe(id);
    expect(r1.postings).toEqual([{ account: 'assets:bank:usd', asset: 'USD', amount: '-42.00' }, { account: 'income:fees', asset: 'USD', amount: '42.00' }]);
    expect(await balances(pool, { account: 'income:fees' })).toEqual([]);
    expect(await balances(pool, { account: 'income:fees', asOf: '2026-01-12' })).toEqual([{ account: 'income:fees', asset: 'USD', balance: '-42.00' }]);
    expect((await getEntry(pool, id)).memo).toBe('rev-me');
  });

  it('keeps activity with a running balance', async () => {
    const a = await accountActivity(pool, 'assets:bank:usd', 'USD', { from: '2026-01-08' });
    expect(a.opening).toBe('1000000.00');
    expect(a.rows.map((r) => r.balance)).toEqual(['1000001.00', '1000006.00', '1000048.00', '1000006.00']);
    expect(a.closing).toBe((await balances(pool, { account: 'assets:bank:usd' }))[0]!.balance);
  });

  it('refuses postings into a closed period, in code and in the database', async () => {
    await closePeriod(pool, '2026-01-31', ctx);
    await expect(postEntries(pool, [e('late', '2026-01-31', [['assets:bank:usd', 'USD', '1.00'], ['equity:capital', 'USD', '-1.00']])], ctx))
      .rejects.toMatchObject({ code: 'PERIOD_CLOSED' });
    // One implicit transaction (two statements in one simple query): the database alone refuses it.
    await expect(pool.query(`INSERT INTO journal_entries (seq, id, idempotency_key, body_hash, effective_date, recorded_at, created_by) VALUES (999999, 'je_x', 'x', 'x', '2026-01-15', now(), 'sql');
      INSERT INTO postings VALUES (999999, 0, 1, 'USD', 100, '2026-01-15'), (999999, 1, 3, 'USD', -100, '2026-01-15')`))
      .rejects.toThrow(/closed through 2026-01-31/);
    expect((await postEntries(pool, [e('feb', '2026-02-01', [['assets:bank:usd', 'USD', '1.00'], ['equity:capital', 'USD', '-1.00']])], ctx))[0]!.status).toBe('posted');
  });

  it('refuses unbalanced and edited rows in the database itself', async () => {
    await expect(pool.query(`UPDATE postings SET amount = amount + 1`)).rejects.toThrow(/append-only/);
    await expect(pool.query(`DELETE FROM journal_entries`)).rejects.toThrow(/append-only/);
  });

  it('verifies the audit trail of all this', async () => {
    const v = await verifyAudit(pool);
    expect(v.problems).toEqual([]);
    expect(v.ok).toBe(true);
  });

  it('lists an entry of many postings with its first 20 and their count; its own page has them all', async () => {
    // 24 deposits of 1..24 cents against capital: 25 postings.
    const legs: [string, string, string][] = [];
    for (let i = 1; i <= 24; i++) legs.push(['assets:bank:usd', 'USD', `0.${String(i).padStart(2, '0')}`]);
    legs.push(['equity:capital', 'USD', '-3.00']);
    const [o] = await postEntries(pool, [e('many-1', '2026-02-20', legs)], ctx);
    const { items } = await listEntries(pool, { limit: 1000 });
    const listed = items.find((x) => x.key === 'many-1')!;
    expect(listed.postingCount).toBe(25);
    expect(listed.postings.map((p) => p.amount)).toEqual(legs.slice(0, 20).map((l) => l[2]));
    // A small entry is listed whole.
    const small = items.find((x) => x.key === 'cap-2')!;
    expect([small.postingCount, small.postings.length]).toEqual([2, 2]);
    const whole = await getEntry(pool, (o as { id: string }).id);
    expect([whole.postingCount, whole.postings.map((p) => p.amount)]).toEqual([25, legs.map((l) => l[2])]);
  });
});
