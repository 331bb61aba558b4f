import type { Client, Pool } from '../../db/index.js';
import { Dec, fromMinor, parseDate } from '../../kernel/index.js';
import { likePrefix } from '../../ledger/index.js';
import { getSecurity, latestPrice } from '../../reference/index.js';
import { isMonetary, loadBook, postingsSql, type Leaf } from './book.js';
import { CloseCodes as C, closeError } from './errors.js';
import { baseScaleOf, RateBook, roundBase, unitsOf } from './fx-rates.js';
import { addDays } from './periods.js';
import { fxPositions, type FxPosition } from './revaluation.js';

/**
 * Financial statements in the base currency: the balance sheet and the income statement.
 *
 * Measurement (stated in every statement's `basis`):
 * - Base-currency balances as booked.
 * - Foreign-currency postings at their historical rate (the latest rate on or before the posting
 *   date). Monetary items (asset and liability accounts) are then carried at the as-of (closing)
 *   rate: the booked FX revaluations (contra accounts `...:fx-revaluation:<CCY>`) plus, when the
 *   revaluation was not run for the as-of date, a computed line "not booked" that brings them to
 *   the as-of rate (its other side is in earnings). Equity, income and expense stay at historical
 *   rates (remeasurement into a USD functional currency, ASC 830).
 * - Securities. Customers' securities held by the firm are custodial: they are not the firm's
 *   assets, so the stock record (customer long/short positions and where they are held:
 *   depository, street) stays off the balance sheet (counted in `notes`). The firm's own
 *   inventory, securities held in asset accounts under `assets:inventory`, is carried at market:
 *   quantity × latest price on or before the as-of date × multiplier, translated at the as-of
 *   rate; its cost is the currency booked in the same account, and market less cost is a computed
 *   "mark to market, not booked" line (its other side in earnings). Without a price: at cost,
 *   with a warning.
 * - Earnings: income and expense accounts are not closed into equity by the ledger; the balance
 *   sheet shows them as retained earnings (before the fiscal year, which is the calendar year)
 *   and current-period earnings (the fiscal year to the as-of date), the unbooked lines included.
 * - Each account's base amount is rounded half-even to the base minor unit; the difference that
 *   rounding each account separately leaves in a foreign currency is shown as "FX translation
 *   rounding" in equity (a cent or so), so the check proves the books, not the rounding.
 * - After adjustments (optional): approved prior-period adjustments count on the date they
 *   correct, not the day they were booked (see adjustments.ts).
 */

export type Section = 'assets' | 'liabilities' | 'equity' | 'income' | 'expenses';

/** A foreign or security amount behind a row, with how it was valued. */
export interface NativeAmount {
  asset: string;
  amount: string;
  note: string;
}

export interface StatementRow {
  section: Section | 'check';
  /** group: a node of the account tree (subtotal); account: a ledger account's own balance; computed: not a ledger balance (earnings, unbooked valuation, rounding); total. */
  kind: 'group' | 'account' | 'computed' | 'total' | 'check';
  /** The ledger account (or tree node) the row is about, for drill-down; null for computed and total rows. */
  account: string | null;
  /** Drill-down covers sub-accounts (group) or the account alone. */
  exact: boolean;
  label: string;
  level: number;
  /** Base currency, presented sign: assets and expenses debit-positive; liabilities, equity and income credit-positive. */
  amount: string;
  native: NativeAmount[];
}

export interface RateUsed {
  currency: string;
  rate: string;
  date: string;
}

export interface AdjustmentIncluded {
  id: string;
  period: string;
  targetDate: string;
  postedDate: string;
  entryId: string;
  memo: string;
}

interface StatementBase {
  base: string;
  afterAdjustments: boolean;
  rows: StatementRow[];
  /** Rates used at the as-of date (closing rates). */
  rates: RateUsed[];
  /** How the amounts were measured. */
  basis: string[];
  /** Missing prices and the like. */
  warnings: string[];
  /** Off-balance-sheet and other notes. */
  notes: string[];
  /** Restated prior-period adjustments that moved into (or out of) the statement's dates. */
  adjustments: AdjustmentIncluded[];
}

export interface BalanceSheet extends StatementBase {
  statement: 'balance-sheet';
  asOf: string;
  fiscalYearStart: string;
  totals: { assets: string; liabilities: string; equity: string; liabilitiesAndEquity: string };
  /** Assets less liabilities and equity: zero when the books balance. */
  check: { difference: string; balanced: boolean };
}

export interface IncomeStatement extends StatementBase {
  statement: 'income-statement';
  from: string;
  to: string;
  totals: { income: string; expenses: string; netIncome: string };
}

export type Statement = BalanceSheet | IncomeStatement;

/** Accounts whose securities are the firm's own inventory, carried at market. */
export const FIRM_INVENTORY_PREFIX = 'assets:inventory';
const isInventory = (l: Leaf) => l.type === 'asset' && (l.account === FIRM_INVENTORY_PREFIX || l.account.startsWith(FIRM_INVENTORY_PREFIX + ':'));

const CREDIT_NORMAL: Record<Section, boolean> = { assets: false, expenses: false, liabilities: true, equity: true, income: true };
const SECTION_OF: Record<string, Section> = { asset: 'assets', liability: 'liabilities', equity: 'equity', income: 'income', expense: 'expenses' };

interface Mark {
  account: string;
  holdings: { symbol: string; quantity: string; price: string; priceDate: string; currency: string; value: bigint }[];
  cost: bigint;
  market: bigint;
  /** market - cost, base minor units (natural: a debit to the account). */
  unbooked: bigint;
}

interface Valuation {
  fx: FxPosition[];
  marks: Mark[];
  warnings: string[];
  /** Natural amount on the asset/liability side not booked: Σ fx deltas + Σ marks. */
  fxTotal: bigint;
  markTotal: bigint;
}

const NO_VALUATION: Valuation = { fx: [], marks: [], warnings: [], fxTotal: 0n, markTotal: 0n };

/** Value the monetary foreign positions at the as-of rate and the firm's inventory at market. */
async function valuation(db: Pool | Client, leaves: Leaf[], asOf: string, base: string, baseScale: number): Promise<{ v: Valuation; rates: RateBook }> {
  const inventory = leaves.filter((l) => isInventory(l) && l.kind === 'security' && l.minor !== 0n);
  const secs = new Map<string, { currency: string; multiplier: string }>();
  for (const l of inventory) {
    if (secs.has(l.asset)) continue;
    const s = await getSecurity(db, l.asset).catch(() => null);
    secs.set(l.asset, { currency: s?.currency ?? base, multiplier: s?.multiplier ?? '1' });
  }
  const currencies = new Set<string>([...leaves.filter((l) => l.kind === 'currency').map((l) => l.asset), ...[...secs.values()].map((s) => s.currency)]);
  const rates = await RateBook.load(db, base, currencies, asOf);
  const fx = fxPositions(leaves, rates, asOf, baseScale);
  const warnings: string[] = [];
  const byAccount = new Map<string, Leaf[]>();
  for (const l of inventory) byAccount.set(l.account, [...(byAccount.get(l.account) ?? []), l]);
  const marks: Mark[] = [];
  for (const [account, held] of byAccount) {
    const cost = leaves.filter((l) => l.account === account && l.kind === 'currency').reduce((s, l) => s + l.base!, 0n);
    const holdings: Mark['holdings'] = [];
    let complete = true;
    for (const l of held) {
      const sec = secs.get(l.asset)!;
      const price = await latestPrice(db, l.asset, asOf);
      const fxRate = rates.on(sec.currency, asOf);
      if (!price) { warnings.push(`${account}: no price for ${l.asset} on or before ${asOf}; the account is shown at cost`); complete = false; continue; }
      if (!fxRate) { warnings.push(`${account}: no ${sec.currency} rate on or before ${asOf} to value ${l.asset}; the account is shown at cost`); complete = false; continue; }
      const qty = unitsOf(l.minor, l.scale);
      const value = roundBase(qty.mul(price.price).mul(sec.multiplier).mul(fxRate.rate), baseScale);
      holdings.push({ symbol: l.asset, quantity: qty.toFixed(), price: price.price, priceDate: price.date, currency: sec.currency, value });
    }
    if (!complete) continue;
    const market = holdings.reduce((s, h) => s + h.value, 0n);
    marks.push({ account, holdings, cost, market, unbooked: market - cost });
  }
  return {
    v: { fx, marks, warnings, fxTotal: fx.reduce((s, p) => s + p.delta, 0n), markTotal: marks.reduce((s, m) => s + m.unbooked, 0n) },
    rates,
  };
}

/** The valuation at a date of the asset and liability accounts (for the unbooked amounts at a period's start). */
async function valuationAt(db: Pool | Client, date: string, restate: boolean, base: string, baseScale: number): Promise<Valuation> {
  const leaves = await loadBook(db, { to: date, types: ['asset', 'liability'], restate }, base, baseScale);
  const needs = leaves.some((l) => (l.kind === 'currency' && l.asset !== base && isMonetary(l)) || (isInventory(l) && l.kind === 'security'));
  if (!needs) return NO_VALUATION;
  return (await valuation(db, leaves, date, base, baseScale)).v;
}

interface Item { account: string; amount: bigint; native: NativeAmount[] }
interface ComputedLine { parent: string | null; label: string; amount: bigint }

interface Node {
  name: string;
  segment: string;
  own: bigint;
  hasOwn: boolean;
  native: NativeAmount[];
  computed: ComputedLine[];
  children: Map<string, Node>;
}

/**
 * The rows of one section: the account tree with a subtotal on every node, computed lines under
 * their account, section-level computed lines, and the section total.
 */
function sectionRows(section: Section, items: Item[], computed: ComputedLine[], baseScale: number, totalLabel: string): { rows: StatementRow[]; total: bigint } {
  const sign = CREDIT_NORMAL[section] ? -1n : 1n;
  const fmt = (m: bigint) => fromMinor(sign * m, baseScale);
  const roots = new Map<string, Node>();
  const node = (name: string): Node => {
    const parts = name.split(':');
    let map = roots;
    let cur: Node | undefined;
    for (let i = 1; i <= parts.length; i++) {
      const n = parts.slice(0, i).join(':');
      cur = map.get(n);
      if (!cur) { cur = { name: n, segment: parts[i - 1]!, own: 0n, hasOwn: false, native: [], computed: [], children: new Map() }; map.set(n, cur); }
      map = cur.children;
    }
    return cur!;
  };
  for (const it of items) {
    const n = node(it.account);
    n.own += it.amount;
    n.hasOwn = true;
    n.native.push(...it.native);
  }
  const top: ComputedLine[] = [];
  for (const c of computed) {
    if (c.parent) node(c.parent).computed.push(c);
    else top.push(c);
  }
  const subtotal = (n: Node): bigint => n.own + n.computed.reduce((s, c) => s + c.amount, 0n) + [...n.children.values()].reduce((s, ch) => s + subtotal(ch), 0n);
  const rows: StatementRow[] = [];
  const sorted = (m: Map<string, Node>) => [...m.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  const emit = (n: Node, level: number) => {
    if (n.children.size === 0 && n.computed.length === 0) {
      rows.push({ section, kind: 'account', account: n.name, exact: true, label: level === 0 ? n.name : n.segment, level, amount: fmt(n.own), native: n.native });
      return;
    }
    rows.push({ section, kind: 'group', account: n.name, exact: false, label: level === 0 ? n.name : n.segment, level, amount: fmt(subtotal(n)), native: [] });
    if (n.hasOwn) rows.push({ section, kind: 'account', account: n.name, exact: true, label: `${n.segment} (own postings)`, level: level + 1, amount: fmt(n.own), native: n.native });
    for (const c of n.computed) rows.push({ section, kind: 'computed', account: null, exact: true, label: c.label, level: level + 1, amount: fmt(c.amount), native: [] });
    for (const ch of sorted(n.children)) emit(ch, level + 1);
  };
  for (const r of sorted(roots)) emit(r, 0);
  for (const c of top) rows.push({ section, kind: 'computed', account: null, exact: true, label: c.label, level: 0, amount: fmt(c.amount), native: [] });
  const total = [...roots.values()].reduce((s, n) => s + subtotal(n), 0n) + top.reduce((s, c) => s + c.amount, 0n);
  rows.push({ section, kind: 'total', account: null, exact: true, label: totalLabel, level: 0, amount: fmt(total), native: [] });
  return { rows, total };
}

/** Items (one per account) of the currency leaves of the given types; security leaves add native detail only. */
function itemsOf(leaves: Leaf[], types: string[], base: string, rateNote: (l: Leaf) => string): Map<Section, Item[]> {
  const by = new Map<string, Item & { section: Section }>();
  for (const l of leaves) {
    if (!types.includes(l.type)) continue;
    if (l.kind === 'security' && !isInventory(l)) continue;
    if (l.minor === 0n && (l.base ?? 0n) === 0n) continue;
    const section = SECTION_OF[l.type]!;
    let it = by.get(l.account);
    if (!it) { it = { section, account: l.account, amount: 0n, native: [] }; by.set(l.account, it); }
    if (l.kind === 'currency') it.amount += l.base!;
    // Native amounts take the section's presented sign, like the row.
    if (l.asset !== base) it.native.push({ asset: l.asset, amount: fromMinor(CREDIT_NORMAL[section] ? -l.minor : l.minor, l.scale), note: rateNote(l) });
  }
  const out = new Map<Section, Item[]>();
  for (const it of by.values()) out.set(it.section, [...(out.get(it.section) ?? []), { account: it.account, amount: it.amount, native: it.native }]);
  return out;
}

/** Σ round(exact) against round(Σ exact) per foreign currency: what rounding each account separately leaves. */
function translationRounding(leaves: Leaf[], base: string, baseScale: number): bigint {
  const exact = new Map<string, Dec>();
  const rounded = new Map<string, bigint>();
  for (const l of leaves) {
    if (l.kind !== 'currency' || l.asset === base) continue;
    exact.set(l.asset, (exact.get(l.asset) ?? new Dec(0)).plus(l.baseExact!));
    rounded.set(l.asset, (rounded.get(l.asset) ?? 0n) + l.base!);
  }
  let plug = 0n;
  for (const [c, e] of exact) plug += roundBase(e, baseScale) - rounded.get(c)!;
  return plug;
}

function fxLabel(p: FxPosition, baseScale: number, base: string): string {
  return `revaluation of ${fromMinor(p.balance, p.scale)} ${p.currency} to the ${p.rateDate} rate ${p.rate} (carrying ${fromMinor(p.carrying, baseScale)} -> ${fromMinor(p.target, baseScale)} ${base}), not booked`;
}
function markLabel(m: Mark, baseScale: number, base: string): string {
  return `mark to market: ${m.holdings.map((h) => `${h.quantity} ${h.symbol} at ${h.price} ${h.currency} (${h.priceDate})`).join(', ')} = ${fromMinor(m.market, baseScale)} ${base} less cost ${fromMinor(m.cost, baseScale)}, not booked`;
}

/** Restated adjustments whose target and posted dates fall on different sides of a statement's edges. */
async function adjustmentsMoved(db: Pool | Client, from: string | null, to: string): Promise<AdjustmentIncluded[]> {
  const { rows } = await db.query(
    `SELECT id, period, target_date, posted_date, entry_id, memo FROM close_adjustments
      WHERE status = 'posted'
        AND (target_date <= $2 AND ($1::date IS NULL OR target_date >= $1)) <> (posted_date <= $2 AND ($1::date IS NULL OR posted_date >= $1))
      ORDER BY target_date, id`, [from, to]);
  return rows.map((r) => ({ id: r.id, period: r.period, targetDate: r.target_date, postedDate: r.posted_date, entryId: r.entry_id, memo: r.memo }));
}

const basisLines = (base: string, restate: boolean): string[] => [
  `Amounts in ${base}, rounded half-even to the minor unit per account.`,
  'Foreign-currency postings at historical rates (latest rate on or before each posting date); asset and liability balances carried at the as-of rate (booked FX revaluations, plus any revaluation not yet booked, shown as such).',
  'Equity, income and expenses at historical rates.',
  "Customers' securities are custodial and off the balance sheet; the firm's inventory (assets:inventory) is at market (latest price on or before the as-of date).",
  restate ? 'After adjustments: approved prior-period adjustments count on the date they correct.' : 'As booked: prior-period adjustments count on the day they were posted.',
];

/**
 * The balance sheet at the end of `asOf`, in the base currency (see the module comment).
 * @throws DomainError DATE_INVALID, FX_RATE_MISSING
 */
export async function balanceSheet(db: Pool | Client, q: { asOf: string; afterAdjustments?: boolean }, base: string): Promise<BalanceSheet> {
  const asOf = parseDate(q.asOf, 'as-of date');
  const restate = !!q.afterAdjustments;
  const baseScale = baseScaleOf(base);
  const fiscalYearStart = `${asOf.slice(0, 4)}-01-01`;
  const leaves = await loadBook(db, { to: asOf, restate }, base, baseScale);
  const ytd = await loadBook(db, { from: fiscalYearStart, to: asOf, types: ['income', 'expense'], restate }, base, baseScale);
  const { v, rates } = await valuation(db, leaves, asOf, base, baseScale);
  const needsPrev = leaves.some((l) => (l.kind === 'currency' && l.asset !== base && isMonetary(l)) || (isInventory(l) && l.kind === 'security'));
  const prev = needsPrev ? await valuationAt(db, addDays(fiscalYearStart, -1), restate, base, baseScale) : NO_VALUATION;

  const rateNote = (l: Leaf) => {
    if (l.kind === 'security') {
      const m = v.marks.find((x) => x.account === l.account)?.holdings.find((h) => h.symbol === l.asset);
      return m ? `at ${m.price} ${m.currency} (${m.priceDate})` : 'no price: at cost';
    }
    const r = rates.on(l.asset, asOf);
    return isMonetary(l) ? `historical rates; ${r ? `as-of rate ${r.rate.toFixed()} (${r.date})` : 'no as-of rate'}` : 'historical rates';
  };
  const items = itemsOf(leaves, ['asset', 'liability', 'equity'], base, rateNote);
  const computed = new Map<Section, ComputedLine[]>([['assets', []], ['liabilities', []], ['equity', []]]);
  for (const p of v.fx) if (p.delta !== 0n) computed.get(SECTION_OF[p.type]!)!.push({ parent: p.account, label: fxLabel(p, baseScale, base), amount: p.delta });
  for (const m of v.marks) if (m.unbooked !== 0n) computed.get('assets')!.push({ parent: m.account, label: markLabel(m, baseScale, base), amount: m.unbooked });

  const earnAll = leaves.filter((l) => (l.type === 'income' || l.type === 'expense') && l.kind === 'currency').reduce((s, l) => s + l.base!, 0n);
  const earnYtd = ytd.filter((l) => l.kind === 'currency').reduce((s, l) => s + l.base!, 0n);
  const unbooked = v.fxTotal + v.markTotal;
  const unbookedPrev = prev.fxTotal + prev.markTotal;
  // Natural amounts (debit positive): earnings are credits, and an unbooked gain on the asset side is a credit to earnings.
  const retained = earnAll - earnYtd - unbookedPrev;
  const current = earnYtd - (unbooked - unbookedPrev);
  const plug = translationRounding(leaves, base, baseScale);
  const eq = computed.get('equity')!;
  eq.push({ parent: null, label: `Retained earnings (through ${addDays(fiscalYearStart, -1)})`, amount: retained });
  eq.push({ parent: null, label: `Current-period earnings (${fiscalYearStart} to ${asOf})${unbooked !== unbookedPrev ? `, of which ${fromMinor(unbooked - unbookedPrev, baseScale)} not booked` : ''}`, amount: current });
  if (plug !== 0n) eq.push({ parent: null, label: 'FX translation rounding', amount: plug });

  const a = sectionRows('assets', items.get('assets') ?? [], computed.get('assets')!, baseScale, 'Total assets');
  const l = sectionRows('liabilities', items.get('liabilities') ?? [], computed.get('liabilities')!, baseScale, 'Total liabilities');
  const e = sectionRows('equity', items.get('equity') ?? [], eq, baseScale, 'Total equity');
  const fmt = (m: bigint) => fromMinor(m, baseScale);
  const liabilitiesAndEquity = -(l.total + e.total);
  const difference = a.total - liabilitiesAndEquity;
  const rows = [
    ...a.rows, ...l.rows, ...e.rows,
    { section: 'equity' as const, kind: 'total' as const, account: null, exact: true, label: 'Total liabilities and equity', level: 0, amount: fmt(liabilitiesAndEquity), native: [] },
    { section: 'check' as const, kind: 'check' as const, account: null, exact: true, label: 'Assets less liabilities and equity (zero when the books balance)', level: 0, amount: fmt(difference), native: [] },
  ];
  const custodial = leaves.filter((x) => x.kind === 'security' && !isInventory(x) && x.minor !== 0n);
  const notes = custodial.length
    ? [`Off balance sheet: the stock record holds ${new Set(custodial.map((x) => x.asset)).size} security(ies) in ${new Set(custodial.map((x) => x.account)).size} account(s) (customer positions in custody and where they are held).`]
    : [];
  return {
    statement: 'balance-sheet', asOf, fiscalYearStart, base, afterAdjustments: restate, rows,
    totals: { assets: fmt(a.total), liabilities: fmt(-l.total), equity: fmt(-e.total), liabilitiesAndEquity: fmt(liabilitiesAndEquity) },
    check: { difference: fmt(difference), balanced: difference === 0n },
    rates: ratesUsed(leaves, rates, asOf, base),
    basis: basisLines(base, restate), warnings: v.warnings, notes,
    adjustments: restate ? await adjustmentsMoved(db, null, asOf) : [],
  };
}

function ratesUsed(leaves: Leaf[], rates: RateBook, asOf: string, base: string): RateUsed[] {
  const out: RateUsed[] = [];
  for (const c of [...new Set(leaves.filter((l) => l.kind === 'currency' && l.asset !== base).map((l) => l.asset))].sort()) {
    const r = rates.on(c, asOf);
    if (r) out.push({ currency: c, rate: r.rate.toFixed(), date: r.date });
  }
  return out;
}

/**
 * The income statement from `from` to `to` (inclusive), in the base currency, with the change
 * over the period of what is not booked (FX revaluation, inventory at market).
 * @throws DomainError DATE_INVALID, ACCOUNTING_ARGUMENT_INVALID (from after to), FX_RATE_MISSING
 */
export async function incomeStatement(db: Pool | Client, q: { from: string; to: string; afterAdjustments?: boolean }, base: string): Promise<IncomeStatement> {
  const from = parseDate(q.from, 'from');
  const to = parseDate(q.to, 'to');
  if (from > to) throw closeError(C.ARGUMENT_INVALID, `from ${from} is after to ${to}`, [{ record: `${from}..${to}`, field: 'from', rule: 'FROM_BEFORE_TO', message: `from ${from} is after to ${to}` }]);
  const restate = !!q.afterAdjustments;
  const baseScale = baseScaleOf(base);
  const leaves = await loadBook(db, { from, to, types: ['income', 'expense'], restate }, base, baseScale);
  const end = await valuationAt(db, to, restate, base, baseScale);
  const start = end === NO_VALUATION ? NO_VALUATION : await valuationAt(db, addDays(from, -1), restate, base, baseScale);
  const endRates = await RateBook.load(db, base, leaves.filter((l) => l.kind === 'currency').map((l) => l.asset), to);
  const items = itemsOf(leaves, ['income', 'expense'], base, () => 'historical rates');
  const income: ComputedLine[] = [];
  const fxChange = end.fxTotal - start.fxTotal;
  const markChange = end.markTotal - start.markTotal;
  if (fxChange !== 0n) income.push({ parent: null, label: `Unrealized FX gain (loss) not booked: revaluation to the ${to} rates less that to the ${addDays(from, -1)} rates`, amount: -fxChange });
  if (markChange !== 0n) income.push({ parent: null, label: `Unrealized gain (loss) on securities owned, not booked: mark to market at ${to} less that at ${addDays(from, -1)}`, amount: -markChange });
  const inc = sectionRows('income', items.get('income') ?? [], income, baseScale, 'Total income');
  const exp = sectionRows('expenses', items.get('expenses') ?? [], [], baseScale, 'Total expenses');
  const fmt = (m: bigint) => fromMinor(m, baseScale);
  const netIncome = -(inc.total + exp.total);
  const rows: StatementRow[] = [...inc.rows, ...exp.rows, { section: 'income', kind: 'total', account: null, exact: true, label: 'Net income', level: 0, amount: fmt(netIncome), native: [] }];
  return {
    statement: 'income-statement', from, to, base, afterAdjustments: restate, rows,
    totals: { income: fmt(-inc.total), expenses: fmt(exp.total), netIncome: fmt(netIncome) },
    rates: ratesUsed(leaves, endRates, to, base),
    basis: basisLines(base, restate), warnings: [...end.warnings], notes: [],
    adjustments: restate ? await adjustmentsMoved(db, from, to) : [],
  };
}

export interface AccountEntries {
  account: string;
  from: string;
  to: string;
  base: string;
  afterAdjustments: boolean;
  opening: { account: string; asset: string; amount: string; base: string | null }[];
  rows: {
    entryId: string; date: string; postedDate: string; memo: string; account: string; asset: string; amount: string;
    /** At the posting's historical rate, rounded (display); null for securities. */
    base: string | null;
    /** The prior-period adjustment this posting belongs to, if any. */
    adjustment: string | null;
  }[];
  closing: { account: string; asset: string; amount: string; base: string | null }[];
  /** More than `limit` postings: the rest are not listed (opening and closing are still complete). */
  truncated: boolean;
}

/**
 * Drill-down: an account's (and its sub-accounts') postings in a period, with opening and
 * closing balances per account and asset, and base-currency amounts at historical rates.
 * @throws DomainError DATE_INVALID, FX_RATE_MISSING
 */
export async function accountEntries(db: Pool | Client, account: string, q: { from: string; to: string; afterAdjustments?: boolean; limit?: number }, base: string): Promise<AccountEntries> {
  const from = parseDate(q.from, 'from');
  const to = parseDate(q.to, 'to');
  if (from > to) throw closeError(C.ARGUMENT_INVALID, `from ${from} is after to ${to}`, [{ record: `${from}..${to}`, field: 'from', rule: 'FROM_BEFORE_TO', message: `from ${from} is after to ${to}` }]);
  const restate = !!q.afterAdjustments;
  const baseScale = baseScaleOf(base);
  const limit = Math.min(Math.max(q.limit ?? 1000, 1), 10000);
  const opening = await loadBook(db, { to: addDays(from, -1), restate, account }, base, baseScale);
  const closing = await loadBook(db, { to, restate, account }, base, baseScale);
  const { rows } = await db.query(
    `SELECT a.name AS account, x.asset, s.kind, s.scale, x.d, x.amount::text AS amount, e.id, e.memo, e.effective_date AS posted, x.adj
       FROM (${postingsSql(restate, { to: '$1', from: '$2' })}) x
       JOIN accounts a ON a.id = x.account_id JOIN assets s ON s.code = x.asset JOIN journal_entries e ON e.seq = x.entry_seq
      WHERE a.name = $3 OR a.name LIKE $4
      ORDER BY x.d, x.entry_seq, x.line LIMIT $5`,
    [to, from, account, likePrefix(account), limit + 1]);
  const rates = await RateBook.load(db, base, rows.filter((r) => r.kind === 'currency').map((r) => r.asset as string), to);
  const bal = (ls: Leaf[]) => ls.filter((l) => l.minor !== 0n || (l.base ?? 0n) !== 0n).map((l) => ({
    account: l.account, asset: l.asset, amount: fromMinor(l.minor, l.scale), base: l.base === null ? null : fromMinor(l.base, baseScale),
  }));
  return {
    account, from, to, base, afterAdjustments: restate, opening: bal(opening), closing: bal(closing), truncated: rows.length > limit,
    rows: rows.slice(0, limit).map((r) => {
      const minor = BigInt(r.amount);
      const rate = r.kind === 'currency' ? rates.on(r.asset, r.d) : undefined;
      return {
        entryId: r.id, date: r.d, postedDate: r.posted, memo: r.memo, account: r.account, asset: r.asset, amount: fromMinor(minor, r.scale),
        base: rate ? fromMinor(roundBase(unitsOf(minor, r.scale).mul(rate.rate), baseScale), baseScale) : null, adjustment: r.adj,
      };
    }),
  };
}
