import type { Client, Pool } from '../../db/index.js';
import { Dec, parseDate } from '../../kernel/index.js';
import { likePrefix, type AccountType } from '../../ledger/index.js';
import { missingRate, RateBook, roundBase, unitsOf } from './fx-rates.js';

/**
 * The books in the base currency. Every posting in a foreign currency is translated at the rate
 * of its own date (the latest rate on or before it: the historical rate); base-currency postings
 * are taken as they are; securities are quantities (valued elsewhere, or not at all).
 */

/** What to read. */
export interface BookQuery {
  /** Through this date (inclusive). */
  to: string;
  /** From this date (inclusive); absent: from the beginning. */
  from?: string;
  /** Only accounts of these types. */
  types?: AccountType[];
  /**
   * Restate: approved prior-period adjustments count on the date they correct (their target
   * date in the closed period) instead of the day they were posted.
   */
  restate?: boolean;
  /** Only this account and its sub-accounts. */
  account?: string;
}

/** The balance of one (account, asset) over the range. */
export interface Leaf {
  account: string;
  type: AccountType;
  owner: string | null;
  asset: string;
  kind: 'currency' | 'security';
  scale: number;
  /** Native amount in minor units, positive a debit. */
  minor: bigint;
  /** Currency assets: exact value in base units at historical rates (not rounded). */
  baseExact: Dec | null;
  /** Currency assets: `baseExact` rounded to base minor units (FX_ROUNDING). */
  base: bigint | null;
}

interface Row { account: string; type: AccountType; owner: string | null; asset: string; kind: 'currency' | 'security'; scale: number; d: string | null; total: string }

/**
 * SQL of postings in a date range, with prior-period adjustments moved to their target date when
 * restating. Columns: account_id, asset, d (the date that counts), amount, entry_seq, adj (the
 * adjustment id or null).
 */
export function postingsSql(restate: boolean, p: { to: string; from: string }): string {
  const range = (col: string) => `${col} <= ${p.to} AND (${p.from}::date IS NULL OR ${col} >= ${p.from})`;
  if (!restate) {
    return `SELECT p.account_id, p.asset, p.effective_date AS d, p.amount, p.entry_seq, p.line, NULL::text AS adj FROM postings p WHERE ${range('p.effective_date')}`;
  }
  return `SELECT p.account_id, p.asset, p.effective_date AS d, p.amount, p.entry_seq, p.line, NULL::text AS adj FROM postings p
           WHERE ${range('p.effective_date')} AND p.entry_seq NOT IN (SELECT e.seq FROM close_adjustments ca JOIN journal_entries e ON e.id = ca.entry_id WHERE ca.status = 'posted')
          UNION ALL
          SELECT p.account_id, p.asset, ca.target_date AS d, p.amount, p.entry_seq, p.line, ca.id AS adj
            FROM close_adjustments ca JOIN journal_entries e ON e.id = ca.entry_id JOIN postings p ON p.entry_seq = e.seq
           WHERE ca.status = 'posted' AND ${range('ca.target_date')}`;
}

/**
 * Balances per (account, asset) over a range, with their base-currency value at historical rates.
 * Every (account, asset) with postings in the range is returned, zero balances included (a
 * foreign balance back to zero can still carry a base value).
 * @throws DomainError FX_RATE_MISSING naming each currency and date without a rate
 */
export async function loadBook(db: Pool | Client, q: BookQuery, base: string, baseScale: number): Promise<Leaf[]> {
  parseDate(q.to, 'to');
  if (q.from) parseDate(q.from, 'from');
  const { rows } = await db.query<Row>(
    `SELECT a.name AS account, a.type, a.owner, s.code AS asset, s.kind, s.scale,
            CASE WHEN s.kind = 'currency' AND s.code <> $3 THEN x.d END AS d, sum(x.amount)::text AS total
       FROM (${postingsSql(!!q.restate, { to: '$1', from: '$2' })}) x
       JOIN accounts a ON a.id = x.account_id JOIN assets s ON s.code = x.asset
      WHERE ($4::text[] IS NULL OR a.type = ANY($4)) AND ($5::text IS NULL OR a.name = $5 OR a.name LIKE $6)
      GROUP BY 1, 2, 3, 4, 5, 6, 7
      ORDER BY 1, 4, 7`,
    [q.to, q.from ?? null, base, q.types ?? null, q.account ?? null, q.account ? likePrefix(q.account) : null]);
  const foreign = new Set(rows.filter((r) => r.d !== null).map((r) => r.asset));
  const rates = await RateBook.load(db, base, foreign, q.to);
  const leaves = new Map<string, Leaf>();
  const missing = new Map<string, { currency: string; date: string; account: string }>();
  for (const r of rows) {
    const k = `${r.account}\u0000${r.asset}`;
    let leaf = leaves.get(k);
    if (!leaf) {
      leaf = { account: r.account, type: r.type, owner: r.owner, asset: r.asset, kind: r.kind, scale: r.scale, minor: 0n, baseExact: r.kind === 'currency' ? new Dec(0) : null, base: null };
      leaves.set(k, leaf);
    }
    const minor = BigInt(r.total);
    leaf.minor += minor;
    if (r.kind !== 'currency') continue;
    if (r.d === null) {
      leaf.baseExact = leaf.baseExact!.plus(unitsOf(minor, r.scale));
      continue;
    }
    const rate = rates.on(r.asset, r.d);
    if (!rate) {
      const prev = missing.get(r.asset);
      if (!prev || r.d < prev.date) missing.set(r.asset, { currency: r.asset, date: r.d, account: r.account });
      continue;
    }
    leaf.baseExact = leaf.baseExact!.plus(unitsOf(minor, r.scale).mul(rate.rate));
  }
  if (missing.size) throw missingRate(base, [...missing.values()]);
  for (const leaf of leaves.values()) if (leaf.baseExact) leaf.base = roundBase(leaf.baseExact, baseScale);
  return [...leaves.values()];
}

/** The contra account that carries the FX revaluation of (account, currency) in the base currency. */
export const revaluationAccount = (account: string, currency: string) => `${account}:fx-revaluation:${currency}`;
/** Where unrealized FX gains (credit) and losses (debit) are booked. */
export const FX_UNREALIZED_ACCOUNT = 'income:fx:unrealized';
/** A revaluation contra account (never revalued itself). */
export const isRevaluationAccount = (account: string) => /:fx-revaluation:[A-Z]{3}$/.test(account);
/** Asset and liability accounts: monetary items, remeasured at the closing rate. */
export const isMonetary = (l: Leaf) => l.type === 'asset' || l.type === 'liability';
