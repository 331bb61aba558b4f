import type { Client, Pool } from '../db/index.js';
import { fromMinor, parseDate } from '../kernel/index.js';
import { likePrefix } from './journal.js';

export interface BalanceRow {
  account: string;
  asset: string;
  /** Decimal string in the asset's scale; positive is a debit balance, negative a credit. */
  balance: string;
}

export interface BalanceQuery {
  /** Balances at the end of this business date; absent: everything posted. */
  asOf?: string;
  /** An account name: that account and its sub-accounts. */
  account?: string;
}

interface RawBalance { account: string; type: string; asset: string; scale: number; minor: bigint }

/**
 * Balance per (account, asset). Without a date they come from the stored balances (kept as
 * postings land); with one, they are summed from the postings up to that date.
 */
async function rawBalances(db: Pool | Client, q: BalanceQuery): Promise<RawBalance[]> {
  const params: unknown[] = [];
  let filter = '';
  if (q.account) {
    params.push(q.account, likePrefix(q.account));
    filter = 'AND (a.name = $1 OR a.name LIKE $2)';
  }
  let sql: string;
  if (q.asOf) {
    params.push(parseDate(q.asOf, 'as-of date'));
    sql = `SELECT a.name AS account, a.type, s.code AS asset, s.scale, b.total AS minor
             FROM (SELECT account_id, asset, sum(amount) AS total FROM postings
                    WHERE effective_date <= $${params.length} GROUP BY account_id, asset) b
             JOIN accounts a ON a.id = b.account_id JOIN assets s ON s.code = b.asset
            WHERE b.total <> 0 ${filter} ORDER BY a.name, s.code`;
  } else {
    sql = `SELECT a.name AS account, a.type, s.code AS asset, s.scale, b.balance AS minor
             FROM balances b JOIN accounts a ON a.id = b.account_id JOIN assets s ON s.code = b.asset
            WHERE b.balance <> 0 ${filter} ORDER BY a.name, s.code`;
  }
  const { rows } = await db.query(sql, params);
  return rows.map((r) => ({ account: r.account, type: r.type, asset: r.asset, scale: r.scale, minor: BigInt(r.minor) }));
}

/** Balances of leaf accounts (those postings go to). */
export async function balances(db: Pool | Client, q: BalanceQuery = {}): Promise<BalanceRow[]> {
  return (await rawBalances(db, q)).map((r) => ({ account: r.account, asset: r.asset, balance: fromMinor(r.minor, r.scale) }));
}

/**
 * Balances rolled up the account tree: every account and every ancestor (`assets`,
 * `assets:bank`, ...) with the total of its sub-accounts, per asset.
 */
export async function rolledUpBalances(db: Pool | Client, q: BalanceQuery = {}): Promise<BalanceRow[]> {
  const raw = await rawBalances(db, q);
  const sums = new Map<string, { account: string; asset: string; scale: number; minor: bigint }>();
  for (const r of raw) {
    const parts = r.account.split(':');
    for (let i = 1; i <= parts.length; i++) {
      const name = parts.slice(0, i).join(':');
      const k = `${name}\u0000${r.asset}`;
      const cur = sums.get(k);
      if (cur) cur.minor += r.minor;
      else sums.set(k, { account: name, asset: r.asset, scale: r.scale, minor: r.minor });
    }
  }
  return [...sums.values()]
    .filter((s) => s.minor !== 0n)
    .sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : a.asset < b.asset ? -1 : 1))
    .map((s) => ({ account: s.account, asset: s.asset, balance: fromMinor(s.minor, s.scale) }));
}

export interface TrialBalance {
  asOf: string | null;
  rows: { account: string; type: string; asset: string; debit: string; credit: string }[];
  /** Per asset; debits equal credits when the books balance. */
  totals: { asset: string; debit: string; credit: string }[];
}

/** Trial balance: every account's balance as a debit or a credit, with totals per asset. */
export async function trialBalance(db: Pool | Client, asOf?: string): Promise<TrialBalance> {
  const raw = await rawBalances(db, { asOf });
  const totals = new Map<string, { scale: number; dr: bigint; cr: bigint }>();
  const rows = raw.map((r) => {
    const t = totals.get(r.asset) ?? { scale: r.scale, dr: 0n, cr: 0n };
    if (r.minor > 0n) t.dr += r.minor; else t.cr -= r.minor;
    totals.set(r.asset, t);
    return {
      account: r.account, type: r.type, asset: r.asset,
      debit: r.minor > 0n ? fromMinor(r.minor, r.scale) : '',
      credit: r.minor < 0n ? fromMinor(-r.minor, r.scale) : '',
    };
  });
  return {
    asOf: asOf ?? null,
    rows,
    totals: [...totals].sort(([a], [b]) => (a < b ? -1 : 1)).map(([asset, t]) => ({ asset, debit: fromMinor(t.dr, t.scale), credit: fromMinor(t.cr, t.scale) })),
  };
}

export interface Activity {
  account: string;
  asset: string;
  opening: string;
  rows: { entryId: string; date: string; memo: string; amount: string; balance: string }[];
  closing: string;
}

/** An account's postings in one asset, in date order, with the running balance. */
export async function accountActivity(db: Pool | Client, account: string, asset: string, range: { from?: string; to?: string } = {}): Promise<Activity> {
  const from = range.from ? parseDate(range.from, 'from') : null;
  const to = range.to ? parseDate(range.to, 'to') : null;
  const scaleRow = await db.query<{ scale: number }>('SELECT scale FROM assets WHERE code = $1', [asset]);
  const scale = scaleRow.rows[0]?.scale ?? 0;
  const open = await db.query<{ total: string | null }>(
    `SELECT sum(p.amount) AS total FROM postings p JOIN accounts a ON a.id = p.account_id
      WHERE a.name = $1 AND p.asset = $2 AND $3::date IS NOT NULL AND p.effective_date < $3`, [account, asset, from]);
  let running = BigInt(open.rows[0]?.total ?? '0');
  const opening = running;
  const { rows } = await db.query(
    `SELECT e.id, p.effective_date, e.memo, p.amount FROM postings p
       JOIN accounts a ON a.id = p.account_id JOIN journal_entries e ON e.seq = p.entry_seq
      WHERE a.name = $1 AND p.asset = $2 AND ($3::date IS NULL OR p.effective_date >= $3) AND ($4::date IS NULL OR p.effective_date <= $4)
      ORDER BY p.effective_date, p.entry_seq, p.line LIMIT 100000`, [account, asset, from, to]);
  return {
    account, asset, opening: fromMinor(opening, scale),
    rows: rows.map((r) => {
      running += BigInt(r.amount);
      return { entryId: r.id, date: r.effective_date, memo: r.memo, amount: fromMinor(BigInt(r.amount), scale), balance: fromMinor(running, scale) };
    }),
    closing: fromMinor(running, scale),
  };
}

/** Stored balances that differ from the sum of their postings (empty when all agree). */
export async function balanceMismatches(db: Pool | Client, limit = 100): Promise<{ account: string; asset: string; stored: string; computed: string }[]> {
  const { rows } = await db.query(
    `SELECT coalesce(a.name, '#' || coalesce(b.account_id, p.account_id)) AS account, coalesce(b.asset, p.asset) AS asset,
            coalesce(b.balance, 0) AS stored, coalesce(p.total, 0) AS computed
       FROM balances b
       FULL JOIN (SELECT account_id, asset, sum(amount) AS total FROM postings GROUP BY account_id, asset) p
         ON p.account_id = b.account_id AND p.asset = b.asset
       LEFT JOIN accounts a ON a.id = coalesce(b.account_id, p.account_id)
      WHERE coalesce(b.balance, 0) <> coalesce(p.total, 0)
      ORDER BY 1, 2 LIMIT $1`, [limit]);
  return rows.map((r) => ({ account: r.account, asset: r.asset, stored: String(r.stored), computed: String(r.computed) }));
}
