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
