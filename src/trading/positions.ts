import type { Client, Pool } from '../db/index.js';
import { Dec } from '../kernel/index.js';
import { balances } from '../ledger/index.js';
import { latestPrice } from '../reference/index.js';

export interface Position {
  account: string;
  security: string;
  /** Decimal string; negative for a short position. */
  quantity: string;
  basis: 'trade' | 'settlement';
  asOf: string | null;
  price: string | null;
  priceDate: string | null;
  marketValue: string | null;
  costBasis: string | null;
  unrealizedPnl: string | null;
  currency: string;
}

export interface PositionQuery {
  account?: string;
  security?: string;
  asOf?: string;
  basis?: 'trade' | 'settlement';
}

/**
 * Positions per customer account and security.
 * - Trade-date basis: from the ledger — the customer's securities account holds the firm's
 *   obligation to the customer, so the position is the negated balance, as of any date.
 * - Settlement-date basis: the trade-date position less the booked trades not yet due to settle
 *   (traded on or before the date, settling after it): the trades whose settlement date is on or
 *   before the date, plus what corporate actions booked (splits, symbol changes), from the ledger.
 * Valued at the latest price on or before the date, with cost from the open tax lots.
 */
export async function positions(pool: Pool | Client, q: PositionQuery = {}): Promise<Position[]> {
  const basis = q.basis ?? 'trade';
  let raw: { account: string; security: string; quantity: string }[];
  if (basis === 'trade') {
    const rows = await balances(pool, { asOf: q.asOf, account: q.account ? `customers:${q.account}:securities` : 'customers' });
    raw = rows
      .filter((r) => r.account.endsWith(':securities') && (!q.security || r.asset === q.security))
      .map((r) => ({ account: r.account.split(':')[1]!, security: r.asset, quantity: r.balance.startsWith('-') ? r.balance.slice(1) : r.balance === '0' ? '0' : `-${r.balance}` }));
  } else {
    // The ledger holds every trade from its trade date; those not due to settle by the date come out.
    const day = q.asOf ?? (await pool.query<{ d: string }>('SELECT current_date::text AS d')).rows[0]!.d;
    const rows = await balances(pool, { asOf: q.asOf, account: q.account ? `customers:${q.account}:securities` : 'customers' });
    const held = new Map<string, { account: string; security: string; quantity: Dec }>();
    for (const r of rows) {
      if (!r.account.endsWith(':securities') || (q.security && r.asset !== q.security)) continue;
      const account = r.account.split(':')[1]!;
      held.set(`${account}\u0000${r.asset}`, { account, security: r.asset, quantity: new Dec(r.balance).neg() });
    }
    const pending = await pool.query(
      `SELECT account, symbol, sum(CASE WHEN side = 'buy' THEN quantity ELSE -quantity END) AS q FROM trades
        WHERE status = 'booked' AND settle_date > $1::date AND ($4::boolean OR trade_date <= $1::date)
          AND ($2::text IS NULL OR account = $2) AND ($3::text IS NULL OR symbol = $3)
        GROUP BY account, symbol`,
      [day, q.account ?? null, q.security ?? null, q.asOf === undefined]);
    for (const p of pending.rows) {
      const k = `${p.account}\u0000${p.symbol}`;
      const h = held.get(k) ?? { account: p.account, security: p.symbol, quantity: new Dec(0) };
      h.quantity = h.quantity.sub(p.q);
      held.set(k, h);
    }
    raw = [...held.values()].filter((h) => !h.quantity.isZero())
      .sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : a.security < b.security ? -1 : a.security > b.security ? 1 : 0))
      .map((h) => ({ account: h.account, security: h.security, quantity: h.quantity.toFixed() }));
  }
  if (!raw.length) return [];
  const secs = new Map((await pool.query('SELECT symbol, currency, multiplier FROM securities WHERE symbol = ANY($1)', [[...new Set(raw.map((r) => r.security))]])).rows.map((r) => [r.symbol, r]));
  const costs = new Map((await pool.query(
    `SELECT account, symbol, sum(remaining * unit_cost) AS cost FROM lots WHERE account = ANY($1) GROUP BY account, symbol`, [[...new Set(raw.map((r) => r.account))]])).rows.map((r) => [`${r.account}\u0000${r.symbol}`, r.cost as string]));
  const scales = new Map((await pool.query("SELECT code, scale FROM assets WHERE kind = 'currency'")).rows.map((r) => [r.code, r.scale as number]));
  const prices = new Map<string, Awaited<ReturnType<typeof latestPrice>>>();
  for (const s of new Set(raw.map((r) => r.security))) prices.set(s, await latestPrice(pool, s, q.asOf));
  return raw.map((r) => {
    const sec = secs.get(r.security);
    const currency = sec?.currency ?? '';
    const scale = scales.get(currency) ?? 2;
    const p = prices.get(r.security);
    const mv = p ? new Dec(r.quantity).mul(p.price).mul(sec?.multiplier ?? 1) : null;
    const cost = basis === 'trade' && !q.asOf ? costs.get(`${r.account}\u0000${r.security}`) : undefined;
    return {
      account: r.account, security: r.security, quantity: r.quantity, basis, asOf: q.asOf ?? null,
      price: p?.price ?? null, priceDate: p?.date ?? null,
      marketValue: mv ? mv.toFixed(scale) : null,
      costBasis: cost !== undefined ? new Dec(cost).toFixed(scale) : null,
      unrealizedPnl: mv && cost !== undefined ? mv.sub(cost).toFixed(scale) : null,
      currency,
    };
  });
}

/** The firm's inventory of a security: every customer position, and where the firm holds it (depository, street). */
export async function inventory(pool: Pool | Client, security: string, asOf?: string) {
  const all = await balances(pool, { asOf });
  const rows = all.filter((b) => b.asset === security);
  const customers = rows.filter((r) => r.account.startsWith('customers:')).map((r) => ({ account: r.account.split(':')[1]!, quantity: r.balance.startsWith('-') ? r.balance.slice(1) : `-${r.balance}` }));
  const firm = rows.filter((r) => !r.account.startsWith('customers:')).map((r) => ({ ledgerAccount: r.account, quantity: r.balance }));
  const total = customers.reduce((s, c) => s.add(c.quantity), new Dec(0));
  return { security, asOf: asOf ?? null, customers, firm, customerTotal: total.toFixed() };
}

/**
 * Cash available to trade in a customer account: its credit balance (the firm owes the customer)
 * after every booked trade, pending settlement included. A debit balance is money owed to the firm.
 */
export async function cashAvailable(pool: Pool | Client, account: string) {
  const { rows } = await pool.query('SELECT type, currency FROM customer_accounts WHERE account = $1', [account]);
  if (!rows[0]) return null;
  const bal = await balances(pool, { account: `customers:${account}:cash` });
  const cur = bal.find((b) => b.asset === rows[0].currency);
  const scale = (await pool.query('SELECT scale FROM assets WHERE code = $1', [rows[0].currency])).rows[0]?.scale ?? 2;
  const credit = cur ? new Dec(cur.balance).neg() : new Dec(0);
  return { account, type: rows[0].type as string, currency: rows[0].currency as string, available: (credit.gt(0) ? credit : new Dec(0)).toFixed(scale), balance: credit.toFixed(scale) };
}

