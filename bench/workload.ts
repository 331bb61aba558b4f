/** The books the benchmark posts: a chart of ~50 accounts and generated journal entries. */
import type { Pool } from 'pg';
import { addAsset, openAccount, type EntryInput } from '../src/ledger/index.js';
import type { Clock } from '../src/kernel/index.js';
import { rng } from './lib.js';

export const BANKS = Array.from({ length: 8 }, (_, i) => `assets:bank:a${String(i + 1).padStart(2, '0')}`);
export const DEPOSITORIES = ['assets:depository:dtc', 'assets:depository:euroclear'];
export const CUSTOMERS = Array.from({ length: 40 }, (_, i) => `customers:c${String(i + 1).padStart(4, '0')}:cash`);
/** A security: shares, scale 0. */
export const SECURITY = 'XYZ';

/** Dates of the generated entries span two years; the as-of date sits in the middle. */
export const FIRST_DAY = Date.UTC(2024, 0, 1);
export const DAYS = 731;
export const AS_OF = '2024-12-31';

export async function setUpBooks(pool: Pool, ctx: { actor: string; clock: Clock }): Promise<number> {
  await addAsset(pool, { code: 'USD' }, ctx);
  await addAsset(pool, { code: 'EUR' }, ctx);
  await addAsset(pool, { code: SECURITY, scale: 0, kind: 'security', name: 'XYZ Corp common' }, ctx);
  for (const name of BANKS) await openAccount(pool, { name, type: 'asset', owner: 'firm' }, ctx);
  for (const name of DEPOSITORIES) await openAccount(pool, { name, type: 'asset', owner: 'firm' }, ctx);
  for (const [i, name] of CUSTOMERS.entries()) await openAccount(pool, { name, type: 'liability', owner: `c${String(i + 1).padStart(4, '0')}` }, ctx);
  return BANKS.length + DEPOSITORIES.length + CUSTOMERS.length;
}

const pick = <T>(r: () => number, xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
const cents = (r: () => number) => {
  const c = 1 + Math.floor(r() * 1_000_000); // 0.01 .. 10,000.00
  return `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`;
};
const neg = (a: string) => '-' + a;
const dateOf = (r: () => number) => new Date(FIRST_DAY + Math.floor(r() * DAYS) * 86_400_000).toISOString().slice(0, 10);

/** A cash movement: a bank account against a customer's cash. */
export function twoLeg(prefix: string, n: number, seed: number): EntryInput[] {
  const r = rng(seed);
  const out: EntryInput[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const amt = cents(r);
    out[i] = {
      key: `${prefix}-${i}`,
      date: dateOf(r),
      memo: `deposit ${i}`,
      postings: [
        { account: pick(r, BANKS), asset: 'USD', amount: amt },
        { account: pick(r, CUSTOMERS), asset: 'USD', amount: neg(amt) },
      ],
    };
  }
  return out;
}

/** A trade with its cash in two currencies and the shares: six legs, each asset balanced. */
export function sixLeg(prefix: string, n: number, seed: number): EntryInput[] {
  const r = rng(seed);
  const out: EntryInput[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const cust = pick(r, CUSTOMERS);
    const usd = cents(r);
    const eur = cents(r);
    const qty = String(1 + Math.floor(r() * 1000));
    out[i] = {
      key: `${prefix}-${i}`,
      date: dateOf(r),
      memo: `trade ${i}`,
      postings: [
        { account: pick(r, BANKS), asset: 'USD', amount: usd },
        { account: cust, asset: 'USD', amount: neg(usd) },
        { account: pick(r, BANKS), asset: 'EUR', amount: eur },
        { account: cust, asset: 'EUR', amount: neg(eur) },
        { account: cust, asset: SECURITY, amount: qty },
        { account: pick(r, DEPOSITORIES), asset: SECURITY, amount: neg(qty) },
      ],
    };
  }
  return out;
}

/**
 * Fill the books up to `target` postings with two-leg USD entries written by SQL on the server
 * (not through the ledger code, not timed): only the read measurements need them. Triggers and
 * foreign-key checks are off for this one transaction (session_replication_role = replica);
 * the rows are balanced by construction, the stored balances are updated from the same rows,
 * and no audit rows are written for them. Returns the number of entries added.
 */
export async function fillPostings(pool: Pool, target: number, seed = 0.42): Promise<number> {
  const have = Number((await pool.query('SELECT count(*)::int AS n FROM postings')).rows[0].n);
  const n = Math.max(0, Math.ceil((target - have) / 2));
  if (!n) return 0;
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    await c.query('SET LOCAL session_replication_role = replica');
    await c.query('SELECT setseed($1)', [seed]);
    const last = BigInt((await c.query(`SELECT setval('journal_entry_seq', nextval('journal_entry_seq') + $1 - 1) AS last`, [n])).rows[0].last);
    const first = last - BigInt(n) + 1n;
    await c.query(`CREATE TEMP TABLE fill ON COMMIT DROP AS
      SELECT s AS seq, date '2024-01-01' + floor(random() * ${DAYS})::int AS d, (1 + floor(random() * 1000000))::numeric AS amt,
             b.ids[1 + floor(random() * array_length(b.ids, 1))::int] AS bank, k.ids[1 + floor(random() * array_length(k.ids, 1))::int] AS cust
        FROM generate_series($1::bigint, $2::bigint) s,
             (SELECT array_agg(id) AS ids FROM accounts WHERE name LIKE 'assets:bank:%') b,
             (SELECT array_agg(id) AS ids FROM accounts WHERE name LIKE 'customers:%') k`, [first.toString(), last.toString()]);
    await c.query(`INSERT INTO journal_entries (seq, id, idempotency_key, body_hash, effective_date, memo, recorded_at, created_by)
      SELECT seq, 'je_fill_' || seq, 'fill-' || seq, md5(seq::text), d, 'filler', now(), 'bench' FROM fill ORDER BY seq`);
    await c.query(`INSERT INTO postings (entry_seq, line, account_id, asset, amount, effective_date)
      SELECT seq, 0, bank, 'USD', amt, d FROM fill UNION ALL SELECT seq, 1, cust, 'USD', -amt, d FROM fill ORDER BY 1, 2`);
    await c.query(`INSERT INTO balances (account_id, asset, balance, no_negative)
      SELECT a, 'USD', sum(v), false FROM (SELECT bank AS a, amt AS v FROM fill UNION ALL SELECT cust, -amt FROM fill) t GROUP BY a
      ON CONFLICT (account_id, asset) DO UPDATE SET balance = balances.balance + excluded.balance`);
    await c.query('COMMIT');
  } catch (e) {
    await c.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    c.release();
  }
  return n;
}
