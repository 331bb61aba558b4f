/**
 * What a corporate action does to each holder, as a preview (the same computation apply books),
 * and the ledger accounts it books to.
 *
 * Holders are read from the ledger: `customers:<acct>:securities` (customers), `assets:depository:*`
 * (the firm's boxes), `assets:street:<cpty>` and settlement's fail accounts
 * `assets:fails:to-receive:<cpty>` / `liabilities:fails:to-deliver:<cpty>` (what a counterparty owes
 * us, or we owe it), anything else holding a security being the firm's own.
 *
 * Ledger accounts booked to (following the house names: `customers:<acct>:cash`, `assets:depository:*`):
 * - `customers:<acct>:cash`, `customers:<acct>:securities` — the customer's (liabilities).
 * - `assets:corporate-actions:receivable:<depository>` — what the depository (paying agent) owes
 *   the firm on its position there: dividends, cash in lieu of the depository's fraction. Cleared
 *   when the cash is reconciled into the bank.
 * - `assets:corporate-actions:claims:<cpty>` — market claims receivable: a counterparty failed to
 *   deliver shares to us over the record date, so it received the dividend we are owed.
 * - `liabilities:corporate-actions:claims:<cpty>` — market claims payable: we failed to deliver
 *   to the counterparty, so we received its dividend.
 * - `liabilities:tax:withholding:<source country>:<residence country>` — tax withheld from
 *   non-residents, owed to the source country's authority (rolls up per source country).
 * - `firm:fractional-shares` — customers' fractions of a split that the firm took over against
 *   cash in lieu (and its own fraction at the depository): in the security a credit is a holding
 *   (as in a customer's securities account); in cash, a debit is what the firm paid for them.
 * - `income:corporate-actions:dividends` — dividends on what the firm itself holds there.
 * - `income:corporate-actions:rounding` — what per-account rounding leaves over (at most one
 *   minor unit per holder; a debit is a cost).
 */
import type { SettlementSide } from './settlement-obligations.js';
import type { Client, Pool } from '../../db/index.js';
import { Dec, type ErrorDetail } from '../../kernel/index.js';
import { balances, openAccountIn, type EntryInput } from '../../ledger/index.js';
import type { Clock } from '../../kernel/index.js';
import type { CorporateAction } from './announcements.js';

export const LEDGER = {
  receivable: (depository: string) => `assets:corporate-actions:receivable:${depository}`,
  claimReceivable: (cpty: string) => `assets:corporate-actions:claims:${cpty}`,
  claimPayable: (cpty: string) => `liabilities:corporate-actions:claims:${cpty}`,
  withholding: (source: string, residence: string) => `liabilities:tax:withholding:${source.toLowerCase()}:${residence.toLowerCase()}`,
  fractions: 'firm:fractional-shares',
  dividendIncome: 'income:corporate-actions:dividends',
  rounding: 'income:corporate-actions:rounding',
} as const;

/** What an action does to one holder (decimal strings; money in the action's currency). */
export interface HolderLine {
  /** customer: a customer account; depository: a box (dtc...); counterparty: a street side; firm: the firm's own. */
  holderKind: 'customer' | 'depository' | 'counterparty' | 'firm';
  holder: string;
  /** The ledger account the position is in. */
  ledgerAccount: string;
  /**
   * The position the action applies to: for customers and the firm what they own, for the
   * depository what it holds, for a counterparty what it owes us (+) or we owe it (-).
   */
  quantity: string;
  /** Customers: country of tax residence (reference accounts), null when not recorded. */
  residence?: string | null;
  currency?: string;
  /** Dividends: the entitlement (+ paid to the holder / owed to us by the depository or counterparty). */
  gross?: string;
  /** Percent withheld, when withheld. */
  taxRate?: string | null;
  tax?: string;
  net?: string;
  /** Where the cash goes. */
  cashAccount?: string;
  /** Splits: the quantity after (rounded down per account); symbol changes: the same. */
  newQuantity?: string;
  /** Splits: the fraction paid in cash instead of shares. */
  fraction?: string;
  cashInLieu?: string;
  newSymbol?: string;
  /** Counterparty claims: the open fails behind them (settlement). */
  fails?: { obligationId: string; settleDate: string; remainingQuantity: string }[];
}

export interface Preview {
  action: CorporateAction;
  /** The date positions are taken at: the record date (settlement-date basis) or the day before the effective date (trade-date basis). */
  positionsAsOf: string;
  basis: 'settlement' | 'trade';
  /** Today (the clock's date) is on or after the due date. */
  due: boolean;
  applied: boolean;
  customers: HolderLine[];
  firm: HolderLine[];
  totals: Record<string, string>;
  /** Exactly what apply posts. */
  entries: EntryInput[];
  /** What keeps apply from running (missing tax rate, missing price...). */
  problems: ErrorDetail[];
  warnings: string[];
  /** Splits and symbol changes: the open settlement obligations that follow the action (settlement-obligations.ts). */
  settlement?: SettlementSide;
}

export const dayBefore = (date: string) => new Date(Date.parse(`${date}T00:00:00Z`) - 86400_000).toISOString().slice(0, 10);
export const isZero = (v: string) => new Dec(v).isZero();

/** Every account's balance in one asset as of the end of a date (decimal strings, ledger signs). */
export async function balancesIn(c: Pool | Client, asset: string, asOf: string): Promise<{ account: string; balance: string }[]> {
  return (await balances(c, { asOf })).filter((b) => b.asset === asset && !isZero(b.balance)).map((b) => ({ account: b.account, balance: b.balance }));
}

/** The kind of holder a ledger account is, and its name. */
export function holderOf(account: string): { kind: HolderLine['holderKind']; name: string } {
  let m = /^customers:([^:]+):securities$/.exec(account);
  if (m) return { kind: 'customer', name: m[1]! };
  m = /^assets:depository:(.+)$/.exec(account);
  if (m) return { kind: 'depository', name: m[1]! };
  // The street side, and the fail accounts settlement moves what failed into.
  m = /^(?:assets:street|assets:fails:to-receive|liabilities:fails:to-deliver):(.+)$/.exec(account);
  if (m) return { kind: 'counterparty', name: m[1]! };
  return { kind: 'firm', name: account };
}

/** Open the accounts the entries name that do not exist yet (type and owner by name). */
export async function openAccountsFor(c: Client, entries: EntryInput[], ctx: { actor: string; clock: Clock }): Promise<void> {
  const needed = [...new Set(entries.flatMap((e) => e.postings.map((p) => p.account)))].sort();
  if (!needed.length) return;
  const existing = new Set((await c.query<{ name: string }>('SELECT name FROM accounts WHERE name = ANY($1)', [needed])).rows.map((r) => r.name));
  for (const name of needed) {
    if (existing.has(name)) continue;
    const type = name.startsWith('liabilities:') || name.startsWith('customers:') ? 'liability' : name.startsWith('income:') ? 'income' : 'asset';
    const claim = /^(?:assets|liabilities):corporate-actions:claims:(.+)$/.exec(name);
    const owner = name.startsWith('customers:') ? name.split(':')[1]! : claim ? claim[1]! : 'firm';
    await openAccountIn(c, { name, type, owner }, ctx);
  }
}

/** Sum of postings per asset must be zero: the balancing leg for `asset` into `account`. */
export function balancingLeg(postings: { account: string; asset: string; amount: string }[], asset: string, account: string, scale: number) {
  const sum = postings.filter((p) => p.asset === asset).reduce((s, p) => s.add(p.amount), new Dec(0));
  return sum.isZero() ? undefined : { account, asset, amount: sum.neg().toFixed(scale) };
}

/** Postings with a zero amount left out, and what remains merged per (account, asset). */
export function mergePostings(postings: { account: string; asset: string; amount: string }[], scaleOf: (asset: string) => number) {
  const m = new Map<string, { account: string; asset: string; amount: Dec }>();
  for (const p of postings) {
    const k = `${p.account}\u0000${p.asset}`;
    const cur = m.get(k);
    if (cur) cur.amount = cur.amount.add(p.amount);
    else m.set(k, { account: p.account, asset: p.asset, amount: new Dec(p.amount) });
  }
  return [...m.values()].filter((p) => !p.amount.isZero()).map((p) => ({ account: p.account, asset: p.asset, amount: p.amount.toFixed(scaleOf(p.asset)) }));
}
