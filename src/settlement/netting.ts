/**
 * CNS-style netting, pure and fast: street-side trades become one net obligation per
 * (settlement date, counterparty, security) — the quantity to receive or deliver and the cash
 * against it — and one net money amount per (settlement date, counterparty, currency) across all
 * securities. Open fails of earlier dates join the day's net with their remaining quantity and cash.
 *
 * Signs are the firm's, facing the street: a customer buy means the firm receives the securities
 * from the counterparty and pays the gross; a sell or short means it delivers and receives the
 * gross. Trades net at their execution prices (the gross); customer commissions and regulatory
 * fees are between the firm and its customer and do not enter.
 *
 * Amounts are integers: quantities in minor units of the security's scale, cash in minor units of
 * the currency, both `bigint`, never a JS number. The hot loop builds no key and allocates nothing:
 * it finds the bucket (a map lookup and an array cell) and adds two bigints into 64-bit words;
 * decimals appear only in the report (see "The engine" below).
 */
import { Dec, fromMinor, parseDate, toMinor, type DomainError, type ErrorDetail } from '../kernel/index.js';
import cc from 'currency-codes';
import { SettlementCodes, settlementError } from './errors.js';

export type TradeSide = 'buy' | 'sell' | 'short';

/** One street-side trade to net (a booked trade's counterparty leg). */
export interface NetInput {
  /** The counterparty (clearing participant) the firm settles with. */
  counterparty: string;
  symbol: string;
  /** The customer's side: buy = the firm receives and pays; sell or short = it delivers and is paid. */
  side: TradeSide;
  /**
   * The trade's quantity, positive: a bigint in minor units of the security's scale (100 shares at
   * scale 0 = 100n; 1.5 units at scale 3 = 1500n), or a decimal string ("1.5") read at `scale`.
   */
  quantity: bigint | string;
  /** The gross at the execution price, in minor units of `currency`, not negative. Never the customer's net. */
  gross: bigint;
  currency: string;
  /** `YYYY-MM-DD`. */
  settleDate: string;
  /** Decimals of the security's smallest unit (default 0). */
  scale?: number;
  /** Decimals of the currency's minor unit (default: ISO 4217's, else 2). */
  cashScale?: number;
  /** How to name it in an error (a trade id). */
  ref?: string;
}

/** An open fail carried forward into the net of `settleDate`: what remains of it, signed. */
export interface FailInput {
  counterparty: string;
  symbol: string;
  currency: string;
  /** The date it is carried into (the date being netted), `YYYY-MM-DD`. */
  settleDate: string;
  /** Remaining quantity: positive still to receive, negative still to deliver (bigint minor units or a decimal string). */
  quantity: bigint | string;
  /** Remaining cash, minor units: positive still to receive, negative still to pay. */
  cash: bigint;
  scale?: number;
  cashScale?: number;
  /** How to name it in an error (the failed obligation's id). */
  ref?: string;
}

/** One net obligation with a counterparty in one security for one settlement date. */
export interface Obligation {
  settleDate: string;
  counterparty: string;
  symbol: string;
  currency: string;
  scale: number;
  cashScale: number;
  /** Net quantity, minor units: positive to receive, negative to deliver. */
  quantity: bigint;
  /** Net cash against it, minor units: positive to receive, negative to pay. */
  cash: bigint;
  /** Trades netted into it. */
  trades: number;
  /** Open fails carried into it, and their remaining quantity and cash (included in quantity and cash). */
  fails: number;
  carriedQuantity: bigint;
  carriedCash: bigint;
  /** What would move without netting: the sum of |quantity| and |cash| of every trade and fail. */
  grossQuantity: bigint;
  grossCash: bigint;
}

/** The one money settlement with a counterparty in one currency on one date, across all securities. */
export interface NetCash {
  settleDate: string;
  counterparty: string;
  currency: string;
  cashScale: number;
  /** Positive to receive, negative to pay; minor units. */
  cash: bigint;
  /** Sum of |gross| of the trades and fails behind it. */
  grossCash: bigint;
  /** Obligations (securities) it covers. */
  obligations: number;
}

export interface NetResult {
  /** Sorted by settlement date, counterparty, symbol. Obligations that net to zero are kept: their cash still counts. */
  obligations: Obligation[];
  /** Sorted by settlement date, counterparty, currency. */
  netCash: NetCash[];
  /** Trades read. */
  executions: number;
}

// ---------------------------------------------------------------------------------------------
// The engine. Memory, not arithmetic, is what netting ten million trades costs: each trade lands
// in one of hundreds of thousands of buckets in no particular order, so every trade pays for the
// loads it needs, and the layout keeps those few and flat. A security's id comes from one map
// (strings from a database or a feed repeat, so it stays in cache); its currency and scales sit in
// plain arrays by id; the bucket slot of (security, pair of date and counterparty) is one cell of
// a dense Int32Array; a bucket's sums are five adjacent words of one BigUint64Array.

/** Words of a bucket: received and delivered quantity, cash received and paid, trades. Each only grows. */
const RECV_QTY = 0, DELIV_QTY = 1, RECV_CASH = 2, PAY_CASH = 3, TRADES = 4, WORDS = 5;
const TWO_64 = 1n << 64n;
/** Amounts below this add on the fast path; larger ones (never seen in practice) go straight to the overflow map. */
const FAST_LIMIT = 1n << 62n;
/** Cells of the dense slot table before it gives way to a map (securities x date-counterparty pairs). */
const DENSE_LIMIT = 1 << 24;
/** Key of (security, pair) in the sparse map: security * PAIR_KEY + pair (exact below 2^53 for 2^27 securities). */
const PAIR_KEY = 2 ** 26;

interface Carried { quantity: bigint; cash: bigint; fails: number }

/**
 * Exact, unbounded sums of non-negative bigints without a heap BigInt per addition: each sum is a
 * 64-bit word of a BigUint64Array (`BigInt.asUintN(64, a + b)` on such words compiles to machine
 * arithmetic) plus, should it ever wrap, the multiples of 2^64 in a map. With an addend below 2^62
 * a wrap shows as a result smaller than the word before.
 */
class Book {
  words = new BigUint64Array(WORDS * 1024);
  readonly overflow = new Map<number, bigint>();
  readonly secIds = new Map<string, number>();
  readonly secSymbol: string[] = [];
  readonly secCurrency: string[] = [];
  readonly secScale: number[] = [];
  readonly secCashScale: number[] = [];
  readonly pairs = new Map<string, Map<string, number>>();
  readonly pairDate: string[] = [];
  readonly pairCpty: string[] = [];
  /** Slot of (security, pair) at secId * pairCap + pair, -1 for none; or, once too large, `sparse`. */
  table: Int32Array | undefined = new Int32Array(1024 * 4).fill(-1);
  secCap = 1024;
  pairCap = 4;
  sparse: Map<number, number> | undefined;
  /** Per slot: its security and its pair. */
  readonly slotSec: number[] = [];
  readonly slotPair: number[] = [];
  readonly carried = new Map<number, Carried>();
  private readonly cashScales = new Map<string, number>();

  /** The pair id of (date, counterparty), validating both the first time. */
  pair(record: string, settleDate: unknown, counterparty: unknown): number {
    let byCpty = typeof settleDate === 'string' ? this.pairs.get(settleDate) : undefined;
    if (!byCpty) {
      try { parseDate(settleDate, 'settlement date'); } catch (e) { throw bad(SettlementCodes.NETTING_INPUT_INVALID, record, 'settleDate', 'DATE', (e as Error).message); }
      this.pairs.set(settleDate as string, (byCpty = new Map()));
    }
    let p = byCpty.get(counterparty as string);
    if (p === undefined) {
      if (typeof counterparty !== 'string' || !counterparty) throw bad(SettlementCodes.NETTING_INPUT_INVALID, record, 'counterparty', 'REQUIRED', 'counterparty is missing');
      p = this.pairDate.length;
      byCpty.set(counterparty, p);
      this.pairDate.push(settleDate as string);
      this.pairCpty.push(counterparty);
      if (p >= this.pairCap) this.resize(this.secCap, this.pairCap * 2);
    }
    return p;
  }

  /** A security's id, validating its currency and scales the first time it is seen. */
  security(record: string, symbol: unknown, currency: unknown, scale: unknown, cashScale: unknown): number {
    const known = typeof symbol === 'string' ? this.secIds.get(symbol) : undefined;
    if (known !== undefined) return known;
    const invalid = (field: string, rule: string, m: string) => bad(SettlementCodes.NETTING_INPUT_INVALID, record, field, rule, m);
    if (typeof symbol !== 'string' || !symbol) throw invalid('symbol', 'REQUIRED', 'symbol is missing');
    if (typeof currency !== 'string' || !currency) throw invalid('currency', 'REQUIRED', 'currency is missing');
    const sc = scale ?? 0;
    if (typeof sc !== 'number' || !Number.isInteger(sc) || sc < 0 || sc > 18) throw invalid('scale', 'RANGE', `scale ${String(scale)} must be a whole number from 0 to 18`);
    let cs = this.cashScales.get(currency);
    const given = cashScale ?? cs ?? cc.code(currency)?.digits ?? 2;
    if (typeof given !== 'number' || !Number.isInteger(given) || given < 0 || given > 18) throw invalid('cashScale', 'RANGE', `cash scale ${String(cashScale)} must be a whole number from 0 to 18`);
    if (cs === undefined) this.cashScales.set(currency, (cs = given));
    else if (cs !== given) throw bad(SettlementCodes.SCALE_MISMATCH, record, 'cashScale', 'SCALE_MISMATCH', `${currency} has ${cs} decimals, not ${given}`);
    const id = this.secSymbol.length;
    this.secIds.set(symbol, id);
    this.secSymbol.push(symbol);
    this.secCurrency.push(currency);
    this.secScale.push(sc);
    this.secCashScale.push(cs);
    if (id >= this.secCap) this.resize(this.secCap * 2, this.pairCap);
    return id;
  }

  private resize(secCap: number, pairCap: number): void {
    const old = this.table, oldPairCap = this.pairCap;
    this.secCap = secCap;
    this.pairCap = pairCap;
    if (!old) return;
    if (secCap * pairCap > DENSE_LIMIT) {
      // Too many securities times pairs for a dense table: a map from here on.
      this.sparse = new Map();
      for (let s = 0; s < this.slotSec.length; s++) this.sparse.set(this.slotSec[s]! * PAIR_KEY + this.slotPair[s]!, s);
      this.table = undefined;
      return;
    }
    const next = new Int32Array(secCap * pairCap).fill(-1);
    if (pairCap === oldPairCap) next.set(old);
    else for (let s = 0; s < this.slotSec.length; s++) next[this.slotSec[s]! * pairCap + this.slotPair[s]!] = s;
    this.table = next;
  }

  /** The bucket slot of (security, pair), created if new. */
  slot(sec: number, pair: number): number {
    let s = this.table ? this.table[sec * this.pairCap + pair]! : this.sparse!.get(sec * PAIR_KEY + pair) ?? -1;
    if (s >= 0) return s;
    s = this.slotSec.length;
    if (this.table) this.table[sec * this.pairCap + pair] = s;
    else this.sparse!.set(sec * PAIR_KEY + pair, s);
    this.slotSec.push(sec);
    this.slotPair.push(pair);
    if ((s + 1) * WORDS > this.words.length) {
      const next = new BigUint64Array(this.words.length * 2);
      next.set(this.words);
      this.words = next;
    }
    return s;
  }

  /** Add a non-negative amount of any size (the slow path). */
  add(i: number, v: bigint): void {
    this.overflow.set(i, (this.overflow.get(i) ?? 0n) + v);
  }

  wrapped(i: number): void {
    this.overflow.set(i, (this.overflow.get(i) ?? 0n) + TWO_64);
  }

  value(i: number): bigint {
    return (this.overflow.get(i) ?? 0n) + this.words[i]!;
  }
}

const INTEGER = /^\d+$/;
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function bad(code: (typeof SettlementCodes)[keyof typeof SettlementCodes], record: string, field: string, rule: string, message: string): DomainError {
  const details: ErrorDetail[] = [{ record, field, rule, message: `${record}: ${message}` }];
  return settlementError(code, `${record}: ${message}`, details);
}

function quantityOf(q: unknown, scale: number, record: string, signed: boolean): bigint {
  let v: bigint;
  if (typeof q === 'bigint') v = q;
  else if (typeof q === 'string') {
    if (scale === 0 && INTEGER.test(q)) v = BigInt(q);
    else {
      try { v = toMinor(q, scale, 'quantity'); } catch (e) { throw bad(SettlementCodes.NETTING_INPUT_INVALID, record, 'quantity', 'DECIMAL', (e as Error).message); }
    }
  } else throw bad(SettlementCodes.NETTING_INPUT_INVALID, record, 'quantity', 'DECIMAL', `quantity must be a bigint or a decimal string, got ${typeof q}`);
  if (!signed && v <= 0n) throw bad(SettlementCodes.NETTING_INPUT_INVALID, record, 'quantity', 'POSITIVE', `quantity ${fromMinor(v, scale)} must be positive`);
  return v;
}

const recordOf = (i: number, ref: string | undefined, what: string) => (ref ? `${what} ${ref}` : `${what} #${i + 1}`);

/** The error for a trade that disagrees with its security's currency or scales. */
function mismatch(book: Book, sec: number, t: NetInput, i: number): DomainError {
  const record = recordOf(i, t.ref, 'trade');
  const symbol = book.secSymbol[sec]!, currency = book.secCurrency[sec]!;
  if (t.currency !== currency) return bad(SettlementCodes.CURRENCY_MISMATCH, record, 'currency', 'CURRENCY_MISMATCH', `${symbol} settles in ${currency}, not ${t.currency}`);
  if ((t.scale ?? 0) !== book.secScale[sec]) return bad(SettlementCodes.SCALE_MISMATCH, record, 'scale', 'SCALE_MISMATCH', `${symbol} has scale ${book.secScale[sec]}, not ${t.scale}`);
  return bad(SettlementCodes.SCALE_MISMATCH, record, 'cashScale', 'SCALE_MISMATCH', `${currency} has ${book.secCashScale[sec]} decimals, not ${t.cashScale}`);
}

/**
 * Net trades (and open fails carried forward) into obligations per (settlement date,
 * counterparty, security) and one money amount per (settlement date, counterparty, currency).
 * A security keeps its currency and scales throughout: inputs that disagree are refused.
 * Reads the iterable once and keeps none of its objects.
 * @throws DomainError SETTLEMENT_NETTING_INPUT_INVALID (side, quantity, gross, date, a missing field),
 *   SETTLEMENT_CURRENCY_MISMATCH, SETTLEMENT_SCALE_MISMATCH; `details` names the record and field
 */
export function net(trades: Iterable<NetInput>, openFails: readonly FailInput[] = []): NetResult {
  const book = new Book();
  const { secIds, secCurrency, secScale, secCashScale } = book;
  let i = 0;
  let lastDate: string | undefined, lastCpty: string | undefined, pair = -1;
  // Locals the slow paths may replace (they grow): refreshed after each.
  let words = book.words, table = book.table, pairCap = book.pairCap;
  for (const t of trades) {
    const settleDate = t.settleDate, counterparty = t.counterparty;
    if (settleDate !== lastDate || counterparty !== lastCpty) {
      const p = book.pairs.get(settleDate)?.get(counterparty);
      if (p === undefined) {
        pair = book.pair(recordOf(i, t.ref, 'trade'), settleDate, counterparty);
        table = book.table; pairCap = book.pairCap;
      } else pair = p;
      lastDate = settleDate; lastCpty = counterparty;
    }
    let sec = secIds.get(t.symbol);
    if (sec === undefined) {
      sec = book.security(recordOf(i, t.ref, 'trade'), t.symbol, t.currency, t.scale, t.cashScale);
      table = book.table; pairCap = book.pairCap;
    }
    if (t.currency !== secCurrency[sec] || (t.scale ?? 0) !== secScale[sec] || (t.cashScale !== undefined && t.cashScale !== secCashScale[sec])) throw mismatch(book, sec, t, i);
    let s = table ? table[sec * pairCap + pair]! : -1;
    if (s < 0) {
      s = book.slot(sec, pair);
      words = book.words;
    }
    const q = t.quantity;
    const qty = typeof q === 'bigint' && q > 0n ? q : quantityOf(q, secScale[sec]!, recordOf(i, t.ref, 'trade'), false);
    const gross = t.gross;
    if (typeof gross !== 'bigint' || gross < 0n) throw bad(SettlementCodes.NETTING_INPUT_INVALID, recordOf(i, t.ref, 'trade'), 'gross', 'NOT_NEGATIVE', `gross must be a bigint of minor units, not negative (got ${String(gross)})`);
    const side = t.side;
    const base = s * WORDS;
    let qi: number, ci: number;
    if (side === 'buy') {
      qi = base + RECV_QTY; ci = base + PAY_CASH;
    } else if (side === 'sell' || side === 'short') {
      qi = base + DELIV_QTY; ci = base + RECV_CASH;
    } else {
      throw bad(SettlementCodes.NETTING_INPUT_INVALID, recordOf(i, t.ref, 'trade'), 'side', 'ENUM', `side "${String(side)}" must be buy, sell or short`);
    }
    if (qty < FAST_LIMIT) {
      const was = words[qi]!;
      const sum = BigInt.asUintN(64, was + qty);
      if (sum < was) book.wrapped(qi);
      words[qi] = sum;
    } else book.add(qi, qty);
    if (gross < FAST_LIMIT) {
      const was = words[ci]!;
      const sum = BigInt.asUintN(64, was + gross);
      if (sum < was) book.wrapped(ci);
      words[ci] = sum;
    } else book.add(ci, gross);
    words[base + TRADES] = BigInt.asUintN(64, words[base + TRADES]! + 1n);
    i++;
  }
  return finish(book, openFails, i);
}

/** Carry the open fails into the book, then read the buckets out in order. */
function finish(book: Book, openFails: readonly FailInput[], executions: number): NetResult {
  openFails.forEach((f, k) => {
    const record = recordOf(k, f.ref, 'fail');
    const p = book.pair(record, f.settleDate, f.counterparty);
    const sec = book.security(record, f.symbol, f.currency, f.scale, f.cashScale);
    const symbol = book.secSymbol[sec]!, currency = book.secCurrency[sec]!, scale = book.secScale[sec]!, cashScale = book.secCashScale[sec]!;
    if (f.currency !== currency) throw bad(SettlementCodes.CURRENCY_MISMATCH, record, 'currency', 'CURRENCY_MISMATCH', `${symbol} settles in ${currency}, not ${f.currency}`);
    if ((f.scale ?? 0) !== scale) throw bad(SettlementCodes.SCALE_MISMATCH, record, 'scale', 'SCALE_MISMATCH', `${symbol} has scale ${scale}, not ${f.scale}`);
    if (f.cashScale !== undefined && f.cashScale !== cashScale) throw bad(SettlementCodes.SCALE_MISMATCH, record, 'cashScale', 'SCALE_MISMATCH', `${currency} has ${cashScale} decimals, not ${f.cashScale}`);
    const qty = quantityOf(f.quantity, scale, record, true);
    if (typeof f.cash !== 'bigint') throw bad(SettlementCodes.NETTING_INPUT_INVALID, record, 'cash', 'BIGINT', `cash must be a bigint of minor units (got ${typeof f.cash})`);
    const s = book.slot(sec, p);
    const base = s * WORDS;
    if (qty >= 0n) book.add(base + RECV_QTY, qty); else book.add(base + DELIV_QTY, -qty);
    if (f.cash >= 0n) book.add(base + RECV_CASH, f.cash); else book.add(base + PAY_CASH, -f.cash);
    const c = book.carried.get(s) ?? { quantity: 0n, cash: 0n, fails: 0 };
    c.quantity += qty;
    c.cash += f.cash;
    c.fails++;
    book.carried.set(s, c);
  });

  // Sorted output without comparing strings per bucket: securities and pairs ranked once, the
  // buckets ordered by one numeric key (pair rank, security rank).
  const nsec = book.secSymbol.length;
  const secByRank = book.secSymbol.map((_, k) => k).sort((a, b) => cmp(book.secSymbol[a]!, book.secSymbol[b]!));
  const secRank = new Float64Array(nsec);
  secByRank.forEach((k, r) => { secRank[k] = r; });
  const pairByRank = book.pairDate.map((_, k) => k).sort((a, b) => cmp(book.pairDate[a]!, book.pairDate[b]!) || cmp(book.pairCpty[a]!, book.pairCpty[b]!));
  const pairRank = new Float64Array(pairByRank.length);
  pairByRank.forEach((k, r) => { pairRank[k] = r; });
  const nslots = book.slotSec.length;
  // (pair rank, security rank) is unique per bucket, and below 2^53 for any real book.
  const order = new Float64Array(nslots);
  for (let s = 0; s < nslots; s++) order[s] = pairRank[book.slotPair[s]!]! * nsec + secRank[book.slotSec[s]!]!;
  order.sort();
  const obligations: Obligation[] = new Array(nslots);
  for (let k = 0; k < nslots; k++) {
    const pr = Math.floor(order[k]! / nsec);
    const s = book.slot(secByRank[order[k]! - pr * nsec]!, pairByRank[pr]!);
    const sec = book.slotSec[s]!, p = book.slotPair[s]!;
    const base = s * WORDS;
    const recvQty = book.value(base + RECV_QTY), delivQty = book.value(base + DELIV_QTY);
    const recvCash = book.value(base + RECV_CASH), payCash = book.value(base + PAY_CASH);
    const c = book.carried.get(s);
    obligations[k] = {
      settleDate: book.pairDate[p]!, counterparty: book.pairCpty[p]!, symbol: book.secSymbol[sec]!, currency: book.secCurrency[sec]!,
      scale: book.secScale[sec]!, cashScale: book.secCashScale[sec]!,
      quantity: recvQty - delivQty, cash: recvCash - payCash, trades: Number(book.words[base + TRADES]!), fails: c?.fails ?? 0,
      carriedQuantity: c?.quantity ?? 0n, carriedCash: c?.cash ?? 0n,
      grossQuantity: recvQty + delivQty, grossCash: recvCash + payCash,
    };
  }
  return { obligations, netCash: netCashOf(obligations), executions };
}

// ---------------------------------------------------------------------------------------------
// In parallel. The caller's trade objects live in this thread's heap, so this thread reads them
// once (validating and coding each as the sequential loop does: security id, pair id, side) and
// writes the codes and the two amounts into flat typed arrays; chunks of those are handed over
// (transferred, not copied) to worker threads, each owning the buckets of its partition — a hash of
// (security, pair) — and adding into its own 64-bit words. At the end each worker hands back its
// buckets, which join the book with exact bigint additions; fails and the ordered read-out are the
// sequential code's own, so the result is the same, field for field.

/** Trades per chunk handed to a worker. */
const CHUNK = 1 << 16;

/**
 * The worker, plain JavaScript so it runs the same under tsx, vitest and a build. It keeps
 * buckets like {@link Book} (a dense slot table, a map once too large), five words per bucket,
 * wraps past 2^64 counted in `overflow`. Every addend is below 2^62.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const WORDS = ${WORDS}, DENSE_LIMIT = ${DENSE_LIMIT}, PAIR_KEY = ${PAIR_KEY};
let words = new BigUint64Array(WORDS * 1024);
const overflow = new Map();
let secCap = 256, pairCap = 64, table = new Int32Array(secCap * pairCap).fill(-1), sparse;
const slotSec = [], slotPair = [];
function grow(sec, pair) {
  while (sec >= secCap) secCap *= 2;
  while (pair >= pairCap) pairCap *= 2;
  if (secCap * pairCap > DENSE_LIMIT) {
    sparse = new Map();
    for (let s = 0; s < slotSec.length; s++) sparse.set(slotSec[s] * PAIR_KEY + slotPair[s], s);
    table = undefined;
    return;
  }
  table = new Int32Array(secCap * pairCap).fill(-1);
  for (let s = 0; s < slotSec.length; s++) table[slotSec[s] * pairCap + slotPair[s]] = s;
}
function slot(sec, pair) {
  if (table && (sec >= secCap || pair >= pairCap)) grow(sec, pair);
  let s = table ? table[sec * pairCap + pair] : (sparse.get(sec * PAIR_KEY + pair) ?? -1);
  if (s >= 0) return s;
  s = slotSec.length;
  if (table) table[sec * pairCap + pair] = s; else sparse.set(sec * PAIR_KEY + pair, s);
  slotSec.push(sec); slotPair.push(pair);
  if ((s + 1) * WORDS > words.length) { const next = new BigUint64Array(words.length * 2); next.set(words); words = next; }
  return s;
}
const wrapped = (i) => overflow.set(i, (overflow.get(i) ?? 0n) + (1n << 64n));
parentPort.on('message', (m) => {
  if (m.n !== undefined) {
    const { n, sec, code, qty, gross } = m;
    for (let k = 0; k < n; k++) {
      const sc = sec[k], c = code[k], pair = c >>> 1;
      let s = table && sc < secCap && pair < pairCap ? table[sc * pairCap + pair] : -1;
      if (s < 0) s = slot(sc, pair);
      const base = s * WORDS, sell = c & 1;
      const qi = base + sell, ci = base + 3 - sell;
      const q = qty[k], g = gross[k];
      let was = words[qi], sum = BigInt.asUintN(64, was + q);
      if (sum < was) wrapped(qi);
      words[qi] = sum;
      was = words[ci]; sum = BigInt.asUintN(64, was + g);
      if (sum < was) wrapped(ci);
      words[ci] = sum;
      words[base + 4] = BigInt.asUintN(64, words[base + 4] + 1n);
    }
  } else {
    const n = slotSec.length, out = words.slice(0, n * WORDS);
    parentPort.postMessage({ slotSec: Int32Array.from(slotSec), slotPair: Int32Array.from(slotPair), words: out, overflow: [...overflow] }, [out.buffer]);
  }
});
`;

interface WorkerBuckets { slotSec: Int32Array; slotPair: Int32Array; words: BigUint64Array; overflow: [number, bigint][] }

/** One partition's chunk being filled: security id, pair id * 2 + (1 if the firm delivers), the amounts. */
class Chunk {
  n = 0;
  sec = new Int32Array(CHUNK);
  code = new Int32Array(CHUNK);
  qty = new BigUint64Array(CHUNK);
  gross = new BigUint64Array(CHUNK);
}

export interface ParallelOptions {
  /** Worker threads, each netting one partition of the buckets (default: the machine's cores, at most 8). */
  workers?: number;
}

/**
 * {@link net} with the buckets partitioned by a hash of (security, settlement date and
 * counterparty) across worker threads: the same result, field for field, and the same errors
 * (this thread validates every trade in order before any worker sees it). Worth it from some
 * hundred thousand trades; below that the threads cost more than they save.
 * @throws DomainError as {@link net}
 */
export async function netParallel(trades: Iterable<NetInput>, openFails: readonly FailInput[] = [], opts: ParallelOptions = {}): Promise<NetResult> {
  const { Worker } = await import('node:worker_threads');
  const os = await import('node:os');
  const nw = Math.max(1, Math.min(opts.workers ?? os.availableParallelism(), 8));
  const workers = Array.from({ length: nw }, () => new Worker(WORKER_SOURCE, { eval: true }));
  try {
    const results = workers.map((w) => new Promise<WorkerBuckets>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
      w.once('exit', (code) => reject(new Error(`netting worker stopped (exit code ${code})`)));
    }));
    // Refused input stops the workers before their answers are awaited: that is no failure of theirs.
    for (const r of results) r.catch(() => undefined);
    const chunks = workers.map(() => new Chunk());
    const send = (k: number) => {
      const c = chunks[k]!;
      workers[k]!.postMessage({ n: c.n, sec: c.sec, code: c.code, qty: c.qty, gross: c.gross }, [c.sec.buffer, c.code.buffer, c.qty.buffer, c.gross.buffer]);
      chunks[k] = new Chunk();
    };
    const book = new Book();
    const { secIds, secCurrency, secScale, secCashScale } = book;
    let i = 0;
    let lastDate: string | undefined, lastCpty: string | undefined, pair = -1;
    for (const t of trades) {
      const settleDate = t.settleDate, counterparty = t.counterparty;
      if (settleDate !== lastDate || counterparty !== lastCpty) {
        const p = book.pairs.get(settleDate)?.get(counterparty);
        pair = p === undefined ? book.pair(recordOf(i, t.ref, 'trade'), settleDate, counterparty) : p;
        lastDate = settleDate; lastCpty = counterparty;
      }
      let sec = secIds.get(t.symbol);
      if (sec === undefined) sec = book.security(recordOf(i, t.ref, 'trade'), t.symbol, t.currency, t.scale, t.cashScale);
      if (t.currency !== secCurrency[sec] || (t.scale ?? 0) !== secScale[sec] || (t.cashScale !== undefined && t.cashScale !== secCashScale[sec])) throw mismatch(book, sec, t, i);
      const q = t.quantity;
      const qty = typeof q === 'bigint' && q > 0n ? q : quantityOf(q, secScale[sec]!, recordOf(i, t.ref, 'trade'), false);
      const gross = t.gross;
      if (typeof gross !== 'bigint' || gross < 0n) throw bad(SettlementCodes.NETTING_INPUT_INVALID, recordOf(i, t.ref, 'trade'), 'gross', 'NOT_NEGATIVE', `gross must be a bigint of minor units, not negative (got ${String(gross)})`);
      const side = t.side;
      let sell: number;
      if (side === 'buy') sell = 0;
      else if (side === 'sell' || side === 'short') sell = 1;
      else throw bad(SettlementCodes.NETTING_INPUT_INVALID, recordOf(i, t.ref, 'trade'), 'side', 'ENUM', `side "${String(side)}" must be buy, sell or short`);
      if (qty < FAST_LIMIT && gross < FAST_LIMIT) {
        const k = nw === 1 ? 0 : ((Math.imul(sec, 0x9e3779b1) ^ Math.imul(pair, 0x85ebca6b)) >>> 0) % nw;
        const c = chunks[k]!, n = c.n;
        c.sec[n] = sec; c.code[n] = pair * 2 + sell; c.qty[n] = qty; c.gross[n] = gross;
        if ((c.n = n + 1) === CHUNK) send(k);
      } else {
        // Amounts of 2^62 or more (never seen in practice) stay here, on the unbounded path.
        const base = book.slot(sec, pair) * WORDS;
        book.add(base + (sell ? DELIV_QTY : RECV_QTY), qty);
        book.add(base + (sell ? RECV_CASH : PAY_CASH), gross);
        book.words[base + TRADES] = BigInt.asUintN(64, book.words[base + TRADES]! + 1n);
      }
      i++;
    }
    for (let k = 0; k < nw; k++) {
      if (chunks[k]!.n > 0) send(k);
      workers[k]!.postMessage({ done: true });
    }
    for (const r of await Promise.all(results)) {
      for (let k = 0; k < r.slotSec.length; k++) {
        const base = book.slot(r.slotSec[k]!, r.slotPair[k]!) * WORDS;
        const words = book.words;
        for (let j = 0; j < WORDS; j++) {
          const was = words[base + j]!, sum = BigInt.asUintN(64, was + r.words[k * WORDS + j]!);
          if (sum < was) book.wrapped(base + j);
          words[base + j] = sum;
        }
      }
      // A worker's word index k * WORDS + j is the same field of its bucket k.
      for (const [w, v] of r.overflow) book.add(book.slot(r.slotSec[Math.floor(w / WORDS)]!, r.slotPair[Math.floor(w / WORDS)]!) * WORDS + (w % WORDS), v);
    }
    return finish(book, openFails, i);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/**
 * The money settlements behind obligations: one per (settlement date, counterparty, currency),
 * across all securities. Sorted by date, counterparty, currency.
 */
export function netCashOf(obligations: readonly Obligation[]): NetCash[] {
  // Obligations usually come grouped by (date, counterparty): one small map per group, no string keys.
  const groups = new Map<string, Map<string, Map<string, NetCash>>>();
  let lastDate: string | undefined, lastCpty: string | undefined;
  let group: Map<string, NetCash> | undefined;
  for (const o of obligations) {
    if (o.settleDate !== lastDate || o.counterparty !== lastCpty || !group) {
      let byCpty = groups.get(o.settleDate);
      if (!byCpty) groups.set(o.settleDate, (byCpty = new Map()));
      group = byCpty.get(o.counterparty);
      if (!group) byCpty.set(o.counterparty, (group = new Map()));
      lastDate = o.settleDate; lastCpty = o.counterparty;
    }
    let c = group.get(o.currency);
    if (!c) group.set(o.currency, (c = { settleDate: o.settleDate, counterparty: o.counterparty, currency: o.currency, cashScale: o.cashScale, cash: 0n, grossCash: 0n, obligations: 0 }));
    c.cash += o.cash;
    c.grossCash += o.grossCash;
    c.obligations++;
  }
  const out: NetCash[] = [];
  for (const d of [...groups.keys()].sort(cmp)) {
    const byCpty = groups.get(d)!;
    for (const cp of [...byCpty.keys()].sort(cmp)) {
      const g = byCpty.get(cp)!;
      for (const cur of [...g.keys()].sort(cmp)) out.push(g.get(cur)!);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// On the wire: decimal strings.

export type ObligationStatus = 'pending' | 'instructed' | 'matched' | 'settled' | 'partially_settled' | 'failed';

/** An obligation on the wire. Quantities and cash are decimal strings; signs as in {@link Obligation}. */
export interface ObligationView {
  settleDate: string;
  counterparty: string;
  security: string;
  currency: string;
  /** Positive to receive, negative to deliver. */
  quantity: string;
  /** Positive to receive, negative to pay. */
  cash: string;
  trades: number;
  fails: number;
  carriedQuantity: string;
  carriedCash: string;
  grossQuantity: string;
  grossCash: string;
  /** Stored obligations only. */
  status?: ObligationStatus;
}

/** A net money settlement on the wire: positive to receive, negative to pay. */
export interface NetCashView {
  settleDate: string;
  counterparty: string;
  currency: string;
  cash: string;
  grossCash: string;
  obligations: number;
}

export const obligationView = (o: Obligation, status?: ObligationStatus): ObligationView => ({
  settleDate: o.settleDate, counterparty: o.counterparty, security: o.symbol, currency: o.currency,
  quantity: fromMinor(o.quantity, o.scale), cash: fromMinor(o.cash, o.cashScale),
  trades: o.trades, fails: o.fails,
  carriedQuantity: fromMinor(o.carriedQuantity, o.scale), carriedCash: fromMinor(o.carriedCash, o.cashScale),
  grossQuantity: fromMinor(o.grossQuantity, o.scale), grossCash: fromMinor(o.grossCash, o.cashScale),
  ...(status ? { status } : {}),
});

export const netCashView = (c: NetCash): NetCashView => ({
  settleDate: c.settleDate, counterparty: c.counterparty, currency: c.currency,
  cash: fromMinor(c.cash, c.cashScale), grossCash: fromMinor(c.grossCash, c.cashScale), obligations: c.obligations,
});

export interface CurrencyAmount { currency: string; amount: string }

/**
 * Gross against net. Gross: every trade and carried fail settled on its own (one delivery
 * against payment each). Net: one delivery per (counterparty, security) whose quantity is not
 * zero, and one payment per (counterparty, currency) whose cash is not zero. Quantities are
 * summed across securities (units of each), cash per currency; reductions are percentages
 * (2 decimals, half-even) of the gross that netting removes.
 */
export interface NettingReport {
  gross: {
    /** Deliveries against payment without netting: trades + fails. */
    obligations: number;
    trades: number;
    fails: number;
    quantity: string;
    cash: CurrencyAmount[];
  };
  net: {
    /** Securities movements left: obligations whose net quantity is not zero. */
    obligations: number;
    /** Money settlements left: (counterparty, currency) whose net cash is not zero. */
    payments: number;
    quantity: string;
    cash: CurrencyAmount[];
  };
  reduction: {
    /** 1 - net obligations / gross obligations, in percent. */
    obligations: string;
    quantity: string;
    cash: { currency: string; percent: string }[];
  };
}

const abs = (v: bigint) => (v < 0n ? -v : v);

function percentOff(net: Dec, gross: Dec): string {
  if (gross.isZero()) return '0.00';
  return gross.sub(net).mul(100).div(gross).toFixed(2);
}

/** Sum minor-unit quantities of different scales as a decimal. */
function sumByScale(items: Iterable<[number, bigint]>): Dec {
  const per = new Map<number, bigint>();
  for (const [s, v] of items) per.set(s, (per.get(s) ?? 0n) + v);
  let total = new Dec(0);
  for (const [s, v] of per) total = total.add(fromMinor(v, s));
  return total;
}

/** The netting report of a set of obligations (one date, or several). */
export function nettingReportOf(obligations: readonly Obligation[], netCash: readonly NetCash[] = netCashOf(obligations)): NettingReport {
  let trades = 0, fails = 0, moves = 0;
  for (const o of obligations) {
    trades += o.trades;
    fails += o.fails;
    if (o.quantity !== 0n) moves++;
  }
  const grossQty = sumByScale(obligations.map((o) => [o.scale, o.grossQuantity]));
  const netQty = sumByScale(obligations.map((o) => [o.scale, abs(o.quantity)]));
  const currencies = new Map<string, { scale: number; gross: bigint; net: bigint }>();
  for (const o of obligations) {
    const c = currencies.get(o.currency) ?? { scale: o.cashScale, gross: 0n, net: 0n };
    c.gross += o.grossCash;
    currencies.set(o.currency, c);
  }
  let payments = 0;
  for (const c of netCash) {
    const x = currencies.get(c.currency) ?? { scale: c.cashScale, gross: 0n, net: 0n };
    x.net += abs(c.cash);
    currencies.set(c.currency, x);
    if (c.cash !== 0n) payments++;
  }
  const curr = [...currencies.entries()].sort((a, b) => cmp(a[0], b[0]));
  const gross = trades + fails;
  return {
    gross: { obligations: gross, trades, fails, quantity: grossQty.toFixed(), cash: curr.map(([currency, c]) => ({ currency, amount: fromMinor(c.gross, c.scale) })) },
    net: { obligations: moves, payments, quantity: netQty.toFixed(), cash: curr.map(([currency, c]) => ({ currency, amount: fromMinor(c.net, c.scale) })) },
    reduction: {
      obligations: percentOff(new Dec(moves), new Dec(gross)),
      quantity: percentOff(netQty, grossQty),
      cash: curr.map(([currency, c]) => ({ currency, percent: percentOff(new Dec(c.net.toString()), new Dec(c.gross.toString())) })),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Synthetic executions for the bench.

/** A small, fast, seeded PRNG (mulberry32): the same seed gives the same trades. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

export interface SyntheticOptions {
  /** Counterparties (default 20). */
  counterparties?: number;
  /** Securities (default 8,000; one in ten in GBP, the rest in USD). */
  securities?: number;
  /** Settlement dates, consecutive from 2026-03-02 (default 2). */
  dates?: number;
  /**
   * Concentration of trading across securities: the security of rank r trades in proportion to
   * 1 / r^skew (Zipf). 1 (the default) is close to what equity markets show, where a few hundred
   * names make most of the volume; 0 spreads trades evenly.
   */
  skew?: number;
}

/**
 * `n` synthetic street-side executions for the bench, deterministic for a seed: quantities from
 * 1 to 5,000 shares, prices from 1.00 to 500.00, about a third sells and a twentieth shorts,
 * securities drawn with Zipf concentration (see {@link SyntheticOptions.skew}). Strings come from
 * small pools, as they would from a database; each trade's gross is its own bigint, as it would be
 * when read from one.
 */
export function syntheticTrades(n: number, seed = 1, opts: SyntheticOptions = {}): IterableIterator<NetInput> {
  return new SyntheticTrades(n, seed, opts);
}

/** An iterator object rather than a generator: for-of over it costs a third as much. */
class SyntheticTrades implements IterableIterator<NetInput> {
  private k = 0;
  private readonly rnd: () => number;
  private readonly nc: number;
  private readonly nd: number;
  private readonly cptys: string[];
  private readonly symbols: string[];
  private readonly currencies: string[];
  private readonly dates: string[];
  private readonly pick = new Int32Array(65536);
  private readonly quantities: bigint[];
  private readonly prices: bigint[];
  private readonly sides: TradeSide[];

  constructor(private readonly n: number, seed: number, opts: SyntheticOptions) {
    this.rnd = mulberry32(seed);
    const nc = (this.nc = opts.counterparties ?? 20), ns = opts.securities ?? 8000, nd = (this.nd = opts.dates ?? 2), skew = opts.skew ?? 1;
    this.cptys = Array.from({ length: nc }, (_, i) => `CP${String(i).padStart(3, '0')}`);
    this.symbols = Array.from({ length: ns }, (_, i) => `S${String(i).padStart(5, '0')}`);
    this.currencies = this.symbols.map((_, i) => (i % 10 === 9 ? 'GBP' : 'USD'));
    this.dates = Array.from({ length: nd }, (_, i) => new Date(Date.UTC(2026, 2, 2 + i)).toISOString().slice(0, 10));
    // Zipf by table: 2^16 cells shared out by weight, a security drawn by 16 random bits.
    const weights = this.symbols.map((_, r) => 1 / Math.pow(r + 1, skew));
    const total = weights.reduce((a, b) => a + b, 0);
    for (let r = 0, cell = 0, acc = 0; r < ns; r++) {
      acc += weights[r]!;
      const end = r === ns - 1 ? 65536 : Math.min(65536, Math.round((acc / total) * 65536));
      for (; cell < end; cell++) this.pick[cell] = r;
    }
    this.quantities = Array.from({ length: 64 }, (_, i) => BigInt(1 + ((i * 7919) % 5000)));
    this.prices = this.symbols.map(() => BigInt(100 + (this.rnd() % 49_901)));
    this.sides = Array.from({ length: 20 }, (_, i) => (i === 0 ? 'short' : i < 7 ? 'sell' : 'buy'));
  }

  [Symbol.iterator](): IterableIterator<NetInput> {
    return this;
  }

  next(): IteratorResult<NetInput, undefined> {
    if (this.k >= this.n) return { value: undefined, done: true };
    this.k++;
    const r1 = this.rnd(), r2 = this.rnd();
    const s = this.pick[r1 & 0xffff]!;
    const q = this.quantities[(r2 >>> 8) & 63]!;
    return {
      value: {
        counterparty: this.cptys[(r2 >>> 16) % this.nc]!, symbol: this.symbols[s]!, side: this.sides[r2 % 20]!,
        quantity: q, gross: q * this.prices[s]!, currency: this.currencies[s]!, settleDate: this.dates[(r1 >>> 16) % this.nd]!,
      },
      done: false,
    };
  }
}
