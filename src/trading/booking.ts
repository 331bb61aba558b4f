import { copyInto, copyValue, withTx, type Client, type Pool } from '../db/index.js';
import { createHash } from 'node:crypto';
import { Dec, DomainError, exact, fromMinor, mulExact, newId, yieldToLoop, parseDate, roundExact, toMinor, type Clock, type Exact } from '../kernel/index.js';
import { closedThrough, lockBooks, openAccountIn, postEntriesIn, stageEntries, writeStagedEntries, type EntryInput, type StagedEntries } from '../ledger/index.js';
import { customerLedgerAccounts } from '../reference/index.js';
import { settlementDateFor } from './settlement-date.js';
import { computeFees, FeeBook } from './fees.js';
import { markLotsPending, recomputePendingLots } from './lots.js';
import type { ExecKind, ExecSide } from './execution-report.js';

/** One execution as it arrives, whatever its format, normalised. Quantities and prices are decimal strings. */
export interface ExecutionInput {
  /** Where it came from ('fix', 'csv', 'api' or a named feed): exec ids are unique per source. */
  source: string;
  /** How to name it in messages: "line 12 (ExecID X)". */
  record: string;
  format: 'fix' | 'csv' | 'json';
  raw: string;
  execId: string;
  kind: ExecKind;
  refExecId?: string;
  orderId?: string;
  account?: string;
  symbol?: string;
  side?: ExecSide;
  quantity?: string;
  price?: string;
  tradeDate?: string;
  counterparty?: string;
  currency?: string;
  /** A block fill split across customer accounts (quantities summing to the fill's). */
  allocations?: { account: string; quantity: string }[];
}

/** A record that could not even be read (bad FIX checksum, malformed CSV line...). */
export interface UnreadableRecord {
  source: string;
  record: string;
  format: 'fix' | 'csv' | 'json';
  raw: string;
  reason: string;
  field?: string;
  rule?: string;
}

export interface ImportResult {
  received: number;
  booked: number;
  duplicates: number;
  ignored: number;
  quarantined: { record: string; reason: string; id: string }[];
}

interface Ctx { actor: string; clock: Clock }

class Quarantine extends Error {
  constructor(readonly reason: string, readonly field?: string, readonly rule?: string) { super(reason); }
}

interface Sec { symbol: string; currency: string; scale: number; multiplier: string; mic: string; asset_class: string; valid_until: string | null; successor: string | null }
interface Acct { account: string; type: string; status: string; fee_schedule: string }
interface Ref {
  securities: Map<string, Sec>;
  accounts: Map<string, Acct>;
  counterparties: Set<string>;
  currencyScale: Map<string, number>;
  fees: FeeBook;
  closedThrough: string | null;
  /** Settlement dates already worked out, by market, asset class and trade date. */
  settle: Map<string, { date: string; provisional: boolean }>;
  /** Trade dates already read as calendar days. */
  dates: Set<string>;
  /** Ledger account names, made once per customer account and counterparty: the same string each time is hashed once by every Map it meets. */
  names: Map<string, { cash: string; securities: string; street: string }>;
}

/**
 * The reference data a chunk needs. The accounts and securities its fills name, not the firm's
 * whole lists (a chunk of 5,000 fills names a few thousand of them at most, the firm may have
 * hundreds of thousands); all of them when the chunk corrects a fill (a correction may leave the
 * account or symbol to the fill it corrects).
 */
async function loadRef(c: Client | Pool, part: (ExecutionInput | UnreadableRecord)[]): Promise<Ref> {
  let accounts: Set<string> | undefined = new Set<string>();
  let symbols: Set<string> | undefined = new Set<string>();
  for (const p of part) {
    if (!('execId' in p)) continue;
    if (p.kind === 'correct') { accounts = symbols = undefined; break; }
    if (p.account) accounts.add(p.account);
    for (const a of p.allocations ?? []) accounts.add(a.account);
    if (p.symbol) symbols.add(p.symbol);
  }
  // One after another: a transaction's client runs one query at a time.
  const secs = await c.query<Sec>(`SELECT symbol, currency, scale, multiplier, mic, asset_class, valid_until::text AS valid_until, successor FROM securities
    WHERE $1::text[] IS NULL OR symbol = ANY($1)`, [symbols ? [...symbols] : null]);
  const accts = await c.query<Acct>('SELECT account, type, status, fee_schedule FROM customer_accounts WHERE $1::text[] IS NULL OR account = ANY($1)', [accounts ? [...accounts] : null]);
  const cps = await c.query<{ code: string }>('SELECT code FROM counterparties');
  const curr = await c.query<{ code: string; scale: number }>("SELECT code, scale FROM assets WHERE kind = 'currency'");
  return {
    securities: new Map(secs.rows.map((r) => [r.symbol, r])),
    accounts: new Map(accts.rows.map((r) => [r.account, r])),
    counterparties: new Set(cps.rows.map((r) => r.code)),
    currencyScale: new Map(curr.rows.map((r) => [r.code, r.scale])),
    fees: await FeeBook.load(c),
    closedThrough: await closedThrough(c),
    settle: new Map(),
    dates: new Set(),
    names: new Map(),
  };
}

const DECIMAL = /^\d+(\.\d+)?$/;
/** A non-negative decimal (DECIMAL) is positive when a digit of it is not zero. */
const NONZERO = /[1-9]/;

/** Ledger accounts of the street side and of fees. */
export const STREET = (cpty: string) => `assets:street:${cpty}`;
export const FEE_ACCOUNTS = { commission: 'income:commissions', secFee: 'liabilities:regulatory:sec-fee', finraTaf: 'liabilities:regulatory:finra-taf' };

interface TradeRow {
  id: string; source: string; exec_id: string; order_id: string | null; account: string; symbol: string; side: ExecSide;
  quantity: string; price: string; currency: string; trade_date: string; settle_date: string; settle_provisional: boolean;
  counterparty: string; gross: bigint; commission: bigint; sec_fee: bigint; finra_taf: bigint; net: bigint;
  entry_key: string; replaces: string | null;
  /** Place in the FIFO queue of its account and security; a correction takes the corrected fill's. */
  fifo_seq: string | null;
}

/**
 * One leg of a trade in the ledger, in minor units. `shared` legs (the street side and the fees)
 * are summed per account and asset in the chunk's entry; the customer's two legs are posted one by
 * one (see bookingEntries).
 */
interface Leg { account: string; asset: string; minor: bigint; scale: number; shared: boolean }

/**
 * The ledger legs of a trade: the customer's position against the street side, pending settlement
 * (the quantity is never zero); the customer pays (or receives) the net, the street is owed (or
 * owes) the gross; the fees. A leg of zero is left out. The same function books a fill and
 * reverses it (a cancel or correction reads the trade row, not the entry, which is shared).
 */
function tradeLegs(t: { account: string; counterparty: string; symbol: string; currency: string; side: ExecSide; quantity: string; gross: bigint; commission: bigint; sec_fee: bigint; finra_taf: bigint; net: bigint },
  secScale: number, cashScale: number, names: { cash: string; securities: string; street: string }, quantity?: bigint): Leg[] {
  const buy = t.side === 'buy';
  const q = quantity ?? toMinor(t.quantity, secScale, 'quantity');
  const legs: Leg[] = [
    { account: names.securities, asset: t.symbol, minor: buy ? -q : q, scale: secScale, shared: false },
    { account: names.street, asset: t.symbol, minor: buy ? q : -q, scale: secScale, shared: true },
  ];
  const c = t.currency;
  if (t.net) legs.push({ account: names.cash, asset: c, minor: buy ? t.net : -t.net, scale: cashScale, shared: false });
  if (t.gross) legs.push({ account: names.street, asset: c, minor: buy ? -t.gross : t.gross, scale: cashScale, shared: true });
  if (t.commission) legs.push({ account: FEE_ACCOUNTS.commission, asset: c, minor: -t.commission, scale: cashScale, shared: true });
  if (t.sec_fee) legs.push({ account: FEE_ACCOUNTS.secFee, asset: c, minor: -t.sec_fee, scale: cashScale, shared: true });
  if (t.finra_taf) legs.push({ account: FEE_ACCOUNTS.finraTaf, asset: c, minor: -t.finra_taf, scale: cashScale, shared: true });
  return legs;
}

const legText = (l: Leg, negate = false) => ({ account: l.account, asset: l.asset, amount: fromMinor(negate ? -l.minor : l.minor, l.scale) });

/**
 * The ledger entries of a chunk's new trades: one per trade date, its memo naming the first and
 * last execution. Each trade's customer legs are posted one by one (a customer's activity shows
 * every trade); the street side and the fees are summed per account and asset, as a subledger
 * feeds a general ledger, so an entry holds about two postings per trade instead of six. The
 * entry's key is made from the executions it books, so the same chunk always makes the same entry
 * (a re-run after a crash books what an uninterrupted run books). Sets each trade's entry_key.
 */
function bookingEntries(trades: { trade: TradeRow; legs: Leg[] }[]): EntryInput[] {
  const byDate = new Map<string, { trade: TradeRow; legs: Leg[] }[]>();
  for (const b of trades) {
    const d = b.trade.trade_date;
    const g = byDate.get(d);
    if (g) g.push(b); else byDate.set(d, [b]);
  }
  const entries: EntryInput[] = [];
  for (const [date, group] of byDate) {
    const hash = createHash('sha256');
    const postings: EntryInput['postings'] = [];
    // Shared legs by account, then asset (in the order first met), summed.
    const shared = new Map<string, Map<string, Leg>>();
    for (const { trade, legs } of group) {
      hash.update(trade.source).update('\u0000').update(trade.exec_id).update('\n');
      for (const l of legs) {
        if (!l.shared) { postings.push(legText(l)); continue; }
        let byAsset = shared.get(l.account);
        if (!byAsset) shared.set(l.account, (byAsset = new Map()));
        const s = byAsset.get(l.asset);
        if (s) s.minor += l.minor; else byAsset.set(l.asset, { ...l });
      }
    }
    for (const byAsset of shared.values()) for (const l of byAsset.values()) if (l.minor) postings.push(legText(l));
    const first = group[0]!.trade, last = group[group.length - 1]!.trade;
    const key = `book:${date}:${hash.digest('hex')}`;
    const cut = (s: string) => (s.length > 100 ? `${s.slice(0, 100)}…` : s);
    const memo = group.length === 1
      ? `${first.side} ${first.quantity} ${first.symbol} @ ${first.price} for ${first.account} (${cut(first.source)} ${cut(first.exec_id)})`
      : `${group.length} trades of ${date}: ${cut(first.source)} ${cut(first.exec_id)} to ${cut(last.source)} ${cut(last.exec_id)}`;
    for (const { trade } of group) trade.entry_key = key;
    entries.push({ key, date, memo, postings });
  }
  return entries;
}

/** The ledger accounts of a customer account's fill with a counterparty (see Ref.names). */
function ledgerNames(ref: Ref, account: string, cpty: string): { cash: string; securities: string; street: string } {
  const k = `${account}\u0000${cpty}`;
  let n = ref.names.get(k);
  if (!n) ref.names.set(k, (n = { ...customerLedgerAccounts(account), street: STREET(cpty) }));
  return n;
}

/** A security's contract multiplier as an exact decimal, parsed once per security. */
const multipliers = new WeakMap<Sec, Exact>();
function exactMultiplier(sec: Sec): Exact {
  let m = multipliers.get(sec);
  if (!m) multipliers.set(sec, (m = exact(sec.multiplier, `multiplier of ${sec.symbol}`)));
  return m;
}

/**
 * Validate one fill against reference data and price it: a trade row per allocation and its
 * ledger legs.
 * @throws Quarantine naming the field and the rule
 */
function priceFill(x: ExecutionInput, ref: Ref, replaces: string | null): { trade: TradeRow; legs: Leg[] }[] {
  const sec = x.symbol ? ref.securities.get(x.symbol) : undefined;
  if (!x.symbol) throw new Quarantine('symbol is missing', 'symbol', 'REQUIRED');
  if (!sec) throw new Quarantine(`security "${x.symbol}" is not known`, 'symbol', 'SECURITY_UNKNOWN');
  if (!x.side) throw new Quarantine('side is missing', 'side', 'REQUIRED');
  if (!x.quantity || !DECIMAL.test(x.quantity) || !NONZERO.test(x.quantity)) throw new Quarantine(`quantity "${x.quantity ?? ''}" must be a positive decimal`, 'quantity', 'POSITIVE');
  if (!x.price || !DECIMAL.test(x.price) || !NONZERO.test(x.price)) throw new Quarantine(`price "${x.price ?? ''}" must be a positive decimal`, 'price', 'POSITIVE');
  let fillMinor: bigint;
  try { fillMinor = toMinor(x.quantity, sec.scale, 'quantity'); } catch { throw new Quarantine(`quantity ${x.quantity} has more decimals than ${sec.symbol} allows (${sec.scale})`, 'quantity', 'SCALE'); }
  if (x.currency && x.currency !== sec.currency) throw new Quarantine(`currency ${x.currency} is not ${sec.symbol}'s currency ${sec.currency}`, 'currency', 'CURRENCY_MISMATCH');
  if (!x.tradeDate) throw new Quarantine('trade date is missing', 'trade_date', 'REQUIRED');
  if (!ref.dates.has(x.tradeDate)) {
    try { parseDate(x.tradeDate, 'trade date'); } catch (e) { throw new Quarantine((e as Error).message, 'trade_date', 'DATE'); }
    ref.dates.add(x.tradeDate);
  }
  // A symbol retired by a symbol change (corporate actions) trades under its successor from the change on.
  if (sec.valid_until && x.tradeDate > sec.valid_until) throw new Quarantine(`security ${sec.symbol} was retired after ${sec.valid_until}${sec.successor ? `: it trades as ${sec.successor} from then on` : ''}`, 'symbol', 'SECURITY_RETIRED');
  if (ref.closedThrough && x.tradeDate <= ref.closedThrough) throw new Quarantine(`trade date ${x.tradeDate} is in a closed period (closed through ${ref.closedThrough})`, 'trade_date', 'PERIOD_CLOSED');
  const cpty = x.counterparty;
  if (!cpty) throw new Quarantine('counterparty is missing', 'counterparty', 'REQUIRED');
  if (!ref.counterparties.has(cpty)) throw new Quarantine(`counterparty "${cpty}" is not known`, 'counterparty', 'COUNTERPARTY_UNKNOWN');
  const explicit = !!x.allocations?.length;
  const allocs = x.allocations?.length ? x.allocations : [{ account: x.account ?? '', quantity: x.quantity }];
  let allocated = explicit ? new Dec(0) : undefined;
  for (const a of allocs) {
    const acct = ref.accounts.get(a.account);
    if (!a.account) throw new Quarantine('account is missing', 'account', 'REQUIRED');
    if (!acct) throw new Quarantine(`account "${a.account}" is not known`, 'account', 'ACCOUNT_UNKNOWN');
    if (acct.status === 'closed') throw new Quarantine(`account ${a.account} is closed`, 'account', 'ACCOUNT_CLOSED');
    if (x.side === 'short' && acct.type === 'cash') throw new Quarantine(`account ${a.account} is a cash account: it cannot sell short`, 'side', 'SHORT_IN_CASH_ACCOUNT');
    if (!explicit) continue; // the fill's own quantity, checked above
    if (!DECIMAL.test(a.quantity) || !NONZERO.test(a.quantity)) throw new Quarantine(`allocation to ${a.account}: quantity "${a.quantity}" must be a positive decimal`, 'allocations', 'POSITIVE');
    try { toMinor(a.quantity, sec.scale, 'quantity'); } catch { throw new Quarantine(`allocation to ${a.account}: quantity ${a.quantity} has more decimals than ${sec.symbol} allows`, 'allocations', 'SCALE'); }
    allocated = allocated!.add(a.quantity);
  }
  if (allocated && !allocated.eq(x.quantity)) throw new Quarantine(`allocations sum to ${allocated.toFixed()}, not the fill's ${x.quantity}`, 'allocations', 'ALLOCATION_SUM');

  const scale = ref.currencyScale.get(sec.currency) ?? 2;
  const settleKey = `${sec.mic}\u0000${sec.asset_class}\u0000${x.tradeDate}`;
  let settled = ref.settle.get(settleKey);
  if (!settled) {
    try {
      settled = settlementDateFor(sec.mic, sec.asset_class, x.tradeDate);
    } catch (e) {
      throw new Quarantine((e as Error).message, 'trade_date', 'NOT_TRADING_DAY');
    }
    ref.settle.set(settleKey, settled);
  }
  const { date: settleDate, provisional } = settled;
  // Allocation rounding rule: the block's gross is rounded once (half-even, to the cent); each
  // account gets its pro-rata share rounded down, and the cents left over go one by one to the
  // largest allocations (largest remainder), so the children always sum to the block.
  const fillQty = x.quantity;
  const blockGross = roundExact(mulExact(mulExact(exact(fillQty), exact(x.price)), exactMultiplier(sec)), scale, 'half_even');
  let floors: bigint[];
  if (allocs.length === 1) floors = [blockGross]; // the whole fill: nothing to share out
  else {
    const shares = allocs.map((a) => new Dec(blockGross.toString()).mul(a.quantity).div(fillQty));
    floors = shares.map((s) => BigInt(s.floor().toFixed(0)));
    let left = blockGross - floors.reduce((p, q) => p + q, 0n);
    const order = shares.map((s, i) => ({ i, rem: s.sub(s.floor()) })).sort((a, b) => b.rem.cmp(a.rem) || a.i - b.i);
    for (const o of order) { if (left <= 0n) break; floors[o.i]! += 1n; left -= 1n; }
  }

  const booked: { trade: TradeRow; legs: Leg[] }[] = [];
  allocs.forEach((a, i) => {
    const acct = ref.accounts.get(a.account)!;
    const gross = floors[i]!;
    const fees = computeFees(ref.fees, { schedule: acct.fee_schedule, side: x.side!, quantity: exact(a.quantity, 'quantity'), gross, date: x.tradeDate!, scale });
    const buy = x.side === 'buy';
    const net = buy ? gross + fees.commission : gross - fees.commission - fees.secFee - fees.finraTaf;
    const qMinor = explicit ? toMinor(a.quantity, sec.scale) : fillMinor;
    const q = fromMinor(qMinor, sec.scale);
    const trade: TradeRow = {
      id: newId('trd'), source: x.source, exec_id: allocs.length > 1 ? `${x.execId}:${a.account}` : x.execId, order_id: x.orderId ?? null,
      account: a.account, symbol: sec.symbol, side: x.side!, quantity: q, price: x.price!, currency: sec.currency,
      trade_date: x.tradeDate!, settle_date: settleDate, settle_provisional: provisional, counterparty: cpty,
      gross, commission: fees.commission, sec_fee: fees.secFee, finra_taf: fees.finraTaf, net, entry_key: '', replaces, fifo_seq: null,
    };
    booked.push({ trade, legs: tradeLegs(trade, sec.scale, scale, ledgerNames(ref, a.account, cpty), qMinor) });
  });
  return booked;
}

/**
 * Book executions. Fills become trades with their ledger entries; cancels and corrections
 * reverse the fill they refer to (and rebook it corrected), so the books always equal the order's
 * final state. Idempotent per (source, exec id): a record seen before books nothing. A record that
 * cannot be booked is quarantined with its reason; the rest are booked. Records are processed in
 * order, in chunks of one transaction each.
 *
 * Pipelined: while the database writes chunk k (under the books lock), the next chunk is read,
 * priced, checked, numbered and hashed (stageEntries, no lock), knowing what chunk k books
 * (`Carry`). Whatever makes a staged chunk unfit (an entry the ledger would refuse or report as a
 * duplicate, a no-negative account, another writer that booked the same execution or key in the
 * meantime: the write fails and rolls back) sends that chunk down the careful path, one
 * transaction doing all of it under the lock as before, and the chunk after it is staged again.
 * The books are the same either way.
 *
 * The lots of the pairs booked are recomputed at the end, after the commits, unless `lots` is
 * 'later': then they wait in lots_pending for the caller's recomputePendingLots.
 */
export async function bookExecutions(pool: Pool, items: Iterable<ExecutionInput | UnreadableRecord>, ctx: Ctx, opts: { chunk?: number; onProgress?: (done: number) => void; lots?: 'now' | 'later' } = {}): Promise<ImportResult> {
  const result: ImportResult = { received: 0, booked: 0, duplicates: 0, ignored: 0, quarantined: [] };
  const chunk = opts.chunk ?? 5000;
  // Ledger accounts known to exist (accounts are never deleted), across the import's chunks; what
  // a chunk learns is kept only once it has committed (a retried or failed chunk teaches nothing).
  const accounts: AccountCache = new Map();
  // The records a chunk at a time, as they are read (a reader may make them one by one: a big file's
  // records are then never all in memory at once).
  const source = items[Symbol.iterator]();
  const take = (): (ExecutionInput | UnreadableRecord)[] | undefined => {
    const part: (ExecutionInput | UnreadableRecord)[] = [];
    for (let r = source.next(); !r.done; r = source.next()) if (part.push(r.value) === chunk) break;
    result.received += part.length;
    return part.length ? part : undefined;
  };

  /** The careful path: one transaction under the books lock does the whole chunk. */
  const careful = async (part: (ExecutionInput | UnreadableRecord)[]) => {
    const learnt: AccountCache = new Map();
    const r = await withTx(pool, async (c) => {
      learnt.clear();
      await lockBooks(c);
      const ref = await loadRef(c, part);
      const plan = await planChunk(c, part, ref, undefined);
      await openNeeded(c, plan.entries, { known: accounts, learnt }, ctx);
      // Every record was checked against what the ledger checks; a refusal here is a bug, not bad input.
      const outcomes = plan.entries.length ? await postEntriesIn(c, plan.entries, ctx, 'all', { accounts: { known: accounts, learnt } }) : [];
      await writePlan(c, plan, new Map(outcomes.map((o) => [o.key, 'id' in o ? o.id : ''])), ctx);
      return plan;
    });
    for (const [k, v] of learnt) accounts.set(k, v);
    return r;
  };
  /** Stage a chunk: plan and price it, open the accounts it needs, check and number its entries. */
  const stage = async (part: (ExecutionInput | UnreadableRecord)[], carry: Carry | undefined) => {
    const ref = await loadRef(pool, part);
    const plan = await planChunk(pool, part, ref, carry);
    const learnt: AccountCache = new Map();
    if (needs(plan.entries, accounts)) {
      await withTx(pool, async (c) => { learnt.clear(); await openNeeded(c, plan.entries, { known: accounts, learnt }, ctx); });
    }
    const staged = plan.entries.length ? await stageEntries(pool, plan.entries, ctx, { known: accounts, learnt }) : undefined;
    // Accounts opened in their own committed transaction, or looked up: they exist.
    for (const [k, v] of learnt) accounts.set(k, v);
    return { plan, staged };
  };
  const write = (plan: Plan, staged: StagedEntries | undefined) => withTx(pool, async (c) => {
    await lockBooks(c);
    const ids = staged ? await writeStagedEntries(c, staged) : [];
    await writePlan(c, plan, new Map(plan.entries.map((e, j) => [e.key, ids[j]!])), ctx);
    return plan;
  });

  const settle = (p: Plan) => {
    // Counted once the chunk has committed (a retried transaction counts once).
    result.booked += p.out.booked; result.duplicates += p.out.duplicates; result.ignored += p.out.ignored; result.quarantined.push(...p.out.quarantined);
  };
  let part = take();
  let next = part ? stage(part, undefined).catch((e: unknown) => e as Error) : undefined;
  let progress = 0;
  while (part) {
    const s = await next!;
    // The next chunk is read once this one's write has started (or it has been booked the careful way).
    let following: (ExecutionInput | UnreadableRecord)[] | undefined;
    let done: Plan;
    if (s instanceof Error || (!s.staged && s.plan.entries.length) || s.plan.quarantine.length) {
      // Staging found something only the careful path handles (or failed): this chunk that way.
      // So does a chunk with a record to quarantine: the reason may rest on what another import
      // had not committed yet when the chunk was planned (a cancel of a fill it books), so it is
      // decided again under the lock.
      if (s instanceof Error && !(s instanceof DomainError) && !isDbError(s)) throw s;
      done = await careful(part);
      following = take();
      next = following ? stage(following, undefined).catch((e: unknown) => e as Error) : undefined;
    } else {
      const w = write(s.plan, s.staged);
      following = take();
      next = following ? stage(following, carryOf(s.plan)).catch((e: unknown) => e as Error) : undefined;
      try {
        done = await w;
      } catch (e) {
        if (!(e instanceof DomainError) && !isDbError(e)) throw e;
        // Rolled back: the careful path for this chunk, and the next one staged again (it was
        // staged on what this chunk would have written).
        await next;
        done = await careful(part);
        next = following ? stage(following, undefined).catch((x: unknown) => x as Error) : undefined;
      }
    }
    settle(done);
    progress += part.length;
    opts.onProgress?.(progress);
    part = following;
  }
  // The lots of what was booked, and of whatever an import that stopped early left waiting; or
  // later, by the caller (`lots: 'later'`: the end of day recomputes them while it matches).
  if (opts.lots !== 'later') await recomputePendingLots(pool);
  return result;
}

/** An error PostgreSQL raised (it has an SQLSTATE): a constraint, a lock timeout, a serialization failure... */
const isDbError = (e: unknown): boolean => typeof (e as { code?: unknown })?.code === 'string' && /^[0-9A-Z]{5}$/.test((e as { code: string }).code);

interface Booked { trade: TradeRow; legs: Leg[] }

/** Ledger accounts by name: their id and no-negative rule (what postEntriesIn looks up). */
type AccountCache = Map<string, { id: number; no_negative: boolean }>;

/** What a chunk books, decided before anything is written. */
interface Plan {
  out: Omit<ImportResult, 'received'>;
  quarantine: { id: string; x: UnreadableRecord }[];
  newTrades: TradeRow[];
  entries: EntryInput[];
  execRows: { source: string; exec_id: string; kind: string; ref: string | null; trade: string | null; raw: string }[];
  ended: { id: string; status: 'canceled' | 'corrected'; reversalKey: string }[];
  /** (account, symbol) pairs whose lots change. */
  touched: string[];
  /** What the chunk leaves booked, by source and exec id, and what it takes off the books: for the next chunk's cancels and corrections. */
  live: Map<string, Booked[]>;
  dead: Set<string>;
  /** Source and exec id of every record the chunk takes (booked, ignored, cancels...). */
  taken: Set<string>;
}

/** What a chunk being written leaves for the next one, planned before it commits. */
interface Carry { live: Map<string, Booked[]>; dead: Set<string>; taken: Set<string> }
const carryOf = (p: Plan): Carry => ({ live: p.live, dead: p.dead, taken: p.taken });

/** Does any posting name an account not known yet? */
function needs(entries: EntryInput[], known: AccountCache): boolean {
  for (const e of entries) for (const p of e.postings) if (!known.has(p.account)) return true;
  return false;
}

/** Open the ledger accounts the street side and fees need (the customers' are opened with them). */
async function openNeeded(c: Client, entries: EntryInput[], accounts: { known: AccountCache; learnt: AccountCache }, ctx: Ctx): Promise<void> {
  const needed = new Set<string>();
  for (const e of entries) for (const p of e.postings) if (!accounts.known.has(p.account)) needed.add(p.account);
  if (!needed.size) return;
  const existing = new Set((await c.query<{ name: string }>('SELECT name FROM accounts WHERE name = ANY($1)', [[...needed]])).rows.map((r) => r.name));
  for (const name of needed) {
    if (existing.has(name)) continue;
    const type = name.startsWith('income:') ? 'income' : name.startsWith('liabilities:') || name.startsWith('customers:') ? 'liability' : 'asset';
    await openAccountIn(c, { name, type, owner: name.startsWith('assets:street:') ? name.slice(14) : 'firm' }, ctx);
  }
}

/**
 * Read, validate and price a chunk: nothing is written. `carry` is what the chunk before it books
 * while it is still being written (not committed, so not in the database yet).
 */
async function planChunk(c: Client | Pool, part: (ExecutionInput | UnreadableRecord)[], ref: Ref, carry: Carry | undefined): Promise<Plan> {
  const out: Omit<ImportResult, 'received'> = { booked: 0, duplicates: 0, ignored: 0, quarantined: [] };
  const quarantine: { id: string; x: UnreadableRecord }[] = [];
  const touched: string[] = [];
  const q = (x: UnreadableRecord) => {
    const id = newId('qr');
    quarantine.push({ id, x });
    out.quarantined.push({ record: x.record, reason: x.reason, id });
  };
  const inputs = part.filter((p): p is ExecutionInput => 'execId' in p);
  for (const p of part) if (!('execId' in p)) q(p);

  const seen = await c.query<{ source: string; exec_id: string }>(
    'SELECT source, exec_id FROM executions WHERE (source, exec_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))',
    [inputs.map((x) => x.source), inputs.map((x) => x.execId)]);
  const known = new Set(seen.rows.map((r) => `${r.source}\u0000${r.exec_id}`));
  if (carry) for (const k of carry.taken) known.add(k);

  // Trades that cancels and corrections may refer to, by the execution that booked them (a block
  // fill booked one child trade per allocation): in the database, or booked earlier in this chunk.
  const refs = inputs.filter((x) => x.kind === 'cancel' || x.kind === 'correct').map((x) => x.refExecId ?? '');
  const live = new Map<string, Booked[]>();
  const dead = new Set<string>();
  const taken = new Set<string>();
  if (refs.length) {
    const { rows } = await c.query(
      `SELECT x.exec_id AS by_exec, t.*, sa.scale AS sec_scale, ca.scale AS cash_scale FROM executions x
         JOIN trades t ON t.source = x.source AND (t.exec_id = x.exec_id OR t.exec_id LIKE x.exec_id || ':%')
         JOIN assets sa ON sa.code = t.symbol JOIN assets ca ON ca.code = t.currency
        WHERE x.exec_id = ANY($1) AND x.kind <> 'cancel' AND t.status = 'booked' ORDER BY t.id`, [refs]);
    for (const t of rows) {
      const key = `${t.source}\u0000${t.by_exec}`;
      const trade: TradeRow = { ...t, gross: BigInt(t.gross), commission: BigInt(t.commission), sec_fee: BigInt(t.sec_fee), finra_taf: BigInt(t.finra_taf), net: BigInt(t.net), entry_key: '' };
      // Its legs as booked: the trade row holds every amount of them (the entry is shared with other trades).
      const booked: Booked = { trade, legs: tradeLegs(trade, t.sec_scale, t.cash_scale, ledgerNames(ref, t.account, t.counterparty)) };
      live.set(key, [...(live.get(key) ?? []), booked]);
    }
    // The chunk being written: what it books and what it takes off the books are not committed yet.
    if (carry) {
      for (const k of carry.dead) live.delete(k);
      for (const [k, v] of carry.live) live.set(k, v);
    }
  }

  const newTrades: TradeRow[] = [];
  const entries: EntryInput[] = [];
  /** The chunk's new trades with their legs, for its booking entries (made at the end). */
  const toBook: Booked[] = [];
  const execRows: Plan['execRows'] = [];
  const ended: Plan['ended'] = [];
  const inBatch = taken;
  const booked_ = new Map<string, Booked[]>();

  let n = 0;
  for (const x of inputs) {
    if (++n % 200 === 0) await yieldToLoop();
    const k = `${x.source}\u0000${x.execId}`;
    if (known.has(k) || inBatch.has(k)) { out.duplicates++; continue; }
    try {
      if (x.kind === 'ignore') {
        out.ignored++;
        execRows.push({ source: x.source, exec_id: x.execId, kind: 'ignore', ref: null, trade: null, raw: x.raw });
        inBatch.add(k);
        continue;
      }
      if (x.kind === 'cancel' || x.kind === 'correct') {
        const what = x.kind === 'cancel' ? 'cancel' : 'correction';
        if (!x.refExecId) throw new Quarantine(`a ${what} needs ExecRefID`, 'exec_ref_id', 'REQUIRED');
        const targets = live.get(`${x.source}\u0000${x.refExecId}`);
        if (!targets?.length) throw new Quarantine(`refers to execution ${x.refExecId}, which is unknown or no longer booked`, 'exec_ref_id', 'UNKNOWN_EXECUTION');
        // Everything is checked before anything of the record is queued: a refusal leaves no half.
        for (const t of targets) {
          if (ref.closedThrough && t.trade.trade_date <= ref.closedThrough) throw new Quarantine(`the trade it ${x.kind === 'cancel' ? 'cancels' : 'corrects'} is dated ${t.trade.trade_date}, in a closed period (closed through ${ref.closedThrough})`, 'exec_ref_id', 'PERIOD_CLOSED');
        }
        let booked: Booked[] | undefined;
        if (x.kind === 'correct') {
          if (targets.length > 1) throw new Quarantine(`execution ${x.refExecId} was a block allocated to ${targets.length} accounts: cancel it and book the corrected block`, 'exec_ref_id', 'BLOCK_CORRECTION');
          // A correction restates the fill; what it leaves out stays as it was.
          const t = targets[0]!.trade;
          booked = priceFill({ ...x, account: x.account ?? t.account, symbol: x.symbol ?? t.symbol, side: x.side ?? t.side, tradeDate: x.tradeDate ?? t.trade_date, counterparty: x.counterparty ?? t.counterparty, currency: x.currency ?? t.currency, allocations: undefined }, ref, t.id);
          // It keeps the corrected fill's place in the FIFO queue.
          booked[0]!.trade.fifo_seq = t.fifo_seq === null || t.fifo_seq === undefined ? null : String(t.fifo_seq);
        }
        targets.forEach((target, i) => {
          const reversalKey = `${x.kind}:${x.source}:${x.execId}${targets.length > 1 ? `:${i + 1}` : ''}`;
          entries.push({ key: reversalKey, date: target.trade.trade_date, memo: `${x.kind === 'cancel' ? 'Cancel' : 'Correction'} of ${x.source} ${x.refExecId} (${x.execId})`, postings: target.legs.map((l) => legText(l, true)) });
          ended.push({ id: target.trade.id, status: x.kind === 'cancel' ? 'canceled' : 'corrected', reversalKey });
          touched.push(`${target.trade.account}\u0000${target.trade.symbol}`);
        });
        const refKey = `${x.source}\u0000${x.refExecId}`;
        live.delete(refKey);
        booked_.delete(refKey);
        dead.add(refKey);
        if (booked) {
          for (const b of booked) { newTrades.push(b.trade); toBook.push(b); touched.push(`${b.trade.account}\u0000${b.trade.symbol}`); }
          const nt = booked[0]!.trade;
          live.set(k, booked); booked_.set(k, booked); dead.delete(k);
          execRows.push({ source: x.source, exec_id: x.execId, kind: x.kind, ref: x.refExecId, trade: nt.id, raw: x.raw });
        } else {
          execRows.push({ source: x.source, exec_id: x.execId, kind: x.kind, ref: x.refExecId, trade: targets[0]!.trade.id, raw: x.raw });
        }
        out.booked++;
        inBatch.add(k);
        continue;
      }
      const booked = priceFill(x, ref, null);
      for (const b of booked) { newTrades.push(b.trade); toBook.push(b); touched.push(`${b.trade.account}\u0000${b.trade.symbol}`); }
      live.set(k, booked); booked_.set(k, booked);
      execRows.push({ source: x.source, exec_id: x.execId, kind: 'book', ref: null, trade: booked[0]!.trade.id, raw: x.raw });
      inBatch.add(k);
      out.booked++;
    } catch (e) {
      if (!(e instanceof Quarantine)) throw e;
      q({ source: x.source, record: x.record, format: x.format, raw: x.raw, reason: `${x.record}: ${e.reason}`, field: e.field, rule: e.rule });
    }
  }
  // A trade cancelled or corrected in the chunk that booked it is booked, then reversed, like any other.
  entries.push(...bookingEntries(toBook));
  return { out, quarantine, newTrades, entries, execRows, ended, touched, live: booked_, dead, taken };
}

/** Write a planned chunk's trades, executions and quarantined records (its entries are written: their ids by key). */
async function writePlan(c: Client, plan: Plan, entryIds: Map<string, string>, ctx: Ctx): Promise<void> {
  const now = ctx.clock.now().toISOString();
  const { newTrades, ended, execRows, quarantine } = plan;
  if (newTrades.length) {
    const T = newTrades;
    // A correction of a fill that an earlier chunk booked while this one was being planned: that
    // fill's FIFO place was not known yet; it is now (the earlier chunk has committed).
    const unknownPlace = T.filter((t) => t.fifo_seq === null && t.replaces && !T.some((o) => o.id === t.replaces));
    if (unknownPlace.length) {
      const r = await c.query<{ id: string; fifo_seq: string }>('SELECT id, fifo_seq::text AS fifo_seq FROM trades WHERE id = ANY($1)', [unknownPlace.map((t) => t.replaces!)]);
      const place = new Map(r.rows.map((x) => [x.id, x.fifo_seq]));
      for (const t of unknownPlace) t.fifo_seq = place.get(t.replaces!) ?? null;
    }
    // FIFO places: a range reserved for the new fills; a correction copies the corrected fill's.
    const fresh = T.filter((t) => t.fifo_seq === null && !(t.replaces && T.some((o) => o.id === t.replaces))).length;
    let next = fresh ? BigInt((await c.query<{ first: string }>(`SELECT reserve_seq('trade_fifo_seq', $1)::text AS first`, [fresh])).rows[0]!.first) : 0n;
    const byId = new Map(T.map((t) => [t.id, t]));
    for (const t of T) {
      if (t.fifo_seq !== null) continue;
      const replaced = t.replaces ? byId.get(t.replaces) : undefined;
      t.fifo_seq = replaced ? replaced.fifo_seq : (next++).toString();
    }
    // COPY text made field by field (a row per trade, no array per row): what copyRow makes.
    // Text from outside is escaped; ids, dates, decimals and integers made or checked here need not be.
    const v = copyValue;
    let rows = '';
    for (const t of T) {
      rows += `${t.id}\t${v(t.source)}\t${v(t.exec_id)}\t${v(t.order_id)}\t${v(t.account)}\t${v(t.symbol)}\t${t.side}\t${t.quantity}\t${t.price}\t${v(t.currency)}\t${t.trade_date}\t${t.settle_date}\t`
        + `${t.settle_provisional}\t${v(t.counterparty)}\t${t.gross}\t${t.commission}\t${t.sec_fee}\t${t.finra_taf}\t${t.net}\t${entryIds.get(t.entry_key) ?? ''}\t${v(t.replaces)}\t${v(t.fifo_seq)}\tbooked\t${now}\n`;
    }
    await copyInto(c, 'trades', ['id', 'source', 'exec_id', 'order_id', 'account', 'symbol', 'side', 'quantity', 'price', 'currency', 'trade_date', 'settle_date',
      'settle_provisional', 'counterparty', 'gross', 'commission', 'sec_fee', 'finra_taf', 'net', 'entry_id', 'replaces', 'fifo_seq', 'status', 'booked_at'], rows);
  }
  for (const e of ended) {
    await c.query('UPDATE trades SET status = $2, reversal_entry_id = $3 WHERE id = $1', [e.id, e.status, entryIds.get(e.reversalKey) ?? null]);
  }
  if (execRows.length) {
    let rows = '';
    for (const e of execRows) rows += `${copyValue(e.source)}\t${copyValue(e.exec_id)}\t${e.kind}\t${copyValue(e.ref)}\t${copyValue(e.trade)}\t${now}\t${copyValue(e.raw)}\n`;
    await copyInto(c, 'executions', ['source', 'exec_id', 'kind', 'ref_exec_id', 'trade_id', 'received_at', 'raw'], rows);
  }
  // Their lots are recomputed after the commit (recomputePendingLots), or by the next import if
  // this process stops before that.
  if (plan.touched.length) await markLotsPending(c, plan.touched, now);
  if (quarantine.length) {
    await c.query(
      `INSERT INTO quarantine (id, source, record, format, raw, reason, field, rule, received_at)
       SELECT i, s, r, f, w, re, fi, ru, $9 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) AS u(i, s, r, f, w, re, fi, ru)`,
      [quarantine.map((q) => q.id), quarantine.map((q) => q.x.source), quarantine.map((q) => q.x.record), quarantine.map((q) => q.x.format), quarantine.map((q) => q.x.raw),
        quarantine.map((q) => q.x.reason), quarantine.map((q) => q.x.field ?? null), quarantine.map((q) => q.x.rule ?? null), now]);
  }
}
