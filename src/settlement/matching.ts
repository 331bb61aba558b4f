/**
 * Confirmation matching: the street's confirmations against our booked trades, per trade date.
 * One confirmation per trade. A confirmation that echoes our trade (our_ref = trade id or
 * execution id, among the booked trades of the date) is paired with it first; the rest pair on
 * counterparty, trade date, security, side, quantity (exact) and price (within an ABSOLUTE
 * tolerance per unit, in the trade's currency, default 0.0001). A confirmation with the same
 * counterparty, date and security but a different side, quantity or price is `mismatched`, with
 * each differing field and both values; what is left is `unmatched`, on both sides.
 * Manual matches (with a reason, audited) are kept across runs and take their sides out of them.
 * Affirmation records `affirmed_at` and flags it late after 9:00 p.m. New York time on trade date.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import type { Command } from 'commander';
import { copyInChunks, copyInto, copyOutBuffer, copyTextRows, copyValue, sqlLiteral, withTx, type Client, type Pool } from '../db/index.js';
import { appendAudit, lockBooks } from '../ledger/index.js';
import { Dec, DomainError, idSequence, newId, parseDate, systemClock } from '../kernel/index.js';
import { ConfirmationCodes, affirmationDeadline, confirmationBatches, isLateAffirmation, parseConfirmations, type ConfirmationInput } from './confirmations.js';
import type { SettlementCtx } from './obligations.js';
import type { Print, WithDb } from './cli.js';

/** Serialises matching, manual matches, affirmations and imports of confirmations. */
const MATCHING_LOCK = 7243007;
/** Memory for sorting a day's confirmations, trades and matches in memory, not on disk (per statement). */
const SORT_MEM = '64MB';

export type MatchStatus = 'matched' | 'mismatched' | 'unmatched';

/** A field on which our trade and the street's confirmation disagree. */
export interface Difference { field: string; ours: string; theirs: string }

export interface ConfirmationView {
  id: string; counterparty: string; confId: string; tradeDate: string; symbol: string; side: 'buy' | 'sell';
  quantity: string; price: string; settleDate: string | null; ourRef: string | null;
  affirmedAt: string | null; affirmedLate: boolean | null;
}

export interface TradeView {
  id: string; execId: string; account: string; counterparty: string; tradeDate: string; symbol: string;
  side: 'buy' | 'sell' | 'short'; quantity: string; price: string; currency: string;
}

export interface MatchView {
  status: MatchStatus;
  method: 'auto' | 'manual';
  confirmation: ConfirmationView | null;
  trade: TradeView | null;
  differences: Difference[];
  reason: string | null;
}

export interface MatchRun {
  tradeDate: string;
  priceTolerance: string;
  summary: { matched: number; mismatched: number; unmatchedConfirmations: number; unmatchedTrades: number };
  results: MatchView[];
  /** What the run did to the stored automatic results of the date (manual ones are never touched). */
  changes: { created: number; unchanged: number; removed: number };
}

export interface ConfirmationImport { file: string; received: number; created: number; updated: number; unchanged: number }

const err = (code: string, kind: DomainError['kind'], message: string, details: DomainError['details'] = []) => new DomainError(code, kind, message, details);

const ctxOf = (ctx: Partial<SettlementCtx>) => ({ actor: ctx.actor ?? 'system', clock: ctx.clock ?? systemClock });
const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
const decEq = (a: string, b: string) => new Dec(a).eq(new Dec(b));
/** The street sees a short sale as a sale. */
const streetSide = (s: string) => (s === 'buy' ? 'buy' : 'sell');
const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString());

export interface ConfRow { id: string; counterparty: string; conf_id: string; trade_date: string; symbol: string; side: 'buy' | 'sell'; quantity: string; price: string; settle_date: string | null; our_ref: string | null; affirmed_at: string | null; affirmed_late: boolean | null }
export interface TradeRow { id: string; exec_id: string; account: string; counterparty: string; trade_date: string; symbol: string; side: 'buy' | 'sell' | 'short'; quantity: string; price: string; currency: string }

const CONF_COLS = 'c.id, c.counterparty, c.conf_id, c.trade_date, c.symbol, c.side, c.quantity, c.price, c.settle_date, c.our_ref, c.affirmed_at, c.affirmed_late';
const TRADE_COLS = 't.id, t.exec_id, t.account, t.counterparty, t.trade_date, t.symbol, t.side, t.quantity, t.price, t.currency';

const confView = (r: ConfRow): ConfirmationView => ({
  id: r.id, counterparty: r.counterparty, confId: r.conf_id, tradeDate: r.trade_date, symbol: r.symbol, side: r.side,
  quantity: r.quantity, price: r.price, settleDate: r.settle_date, ourRef: r.our_ref, affirmedAt: iso(r.affirmed_at), affirmedLate: r.affirmed_late,
});
const tradeView = (r: TradeRow): TradeView => ({
  id: r.id, execId: r.exec_id, account: r.account, counterparty: r.counterparty, tradeDate: r.trade_date, symbol: r.symbol,
  side: r.side, quantity: r.quantity, price: r.price, currency: r.currency,
});

/** Every field on which a trade and a confirmation differ (price: beyond the tolerance). */
function differences(t: PairTrade, c: PairConf, tolerance: Dec): Difference[] {
  const d: Difference[] = [];
  if (t.counterparty !== c.counterparty) d.push({ field: 'counterparty', ours: t.counterparty, theirs: c.counterparty });
  if (t.trade_date !== c.trade_date) d.push({ field: 'trade_date', ours: t.trade_date, theirs: c.trade_date });
  if (t.symbol !== c.symbol) d.push({ field: 'symbol', ours: t.symbol, theirs: c.symbol });
  if (streetSide(t.side) !== c.side) d.push({ field: 'side', ours: t.side, theirs: c.side });
  if (!decEq(t.quantity, c.quantity)) d.push({ field: 'quantity', ours: t.quantity, theirs: c.quantity });
  if (new Dec(t.price).minus(new Dec(c.price)).abs().gt(tolerance)) d.push({ field: 'price', ours: t.price, theirs: c.price });
  return d;
}

interface Pairing { conf: string | null; trade: string | null; status: MatchStatus; differences: Difference[] }
/** The differences of a pairing that has none (shared: nothing adds to a pairing's differences). */
const NO_DIFFERENCES: Difference[] = Object.freeze([]) as unknown as Difference[];

/** A decimal string in plain notation ("190.25", "-1"); anything else goes through Dec. */
const plain = (v: string) => (/^-?\d+(\.\d+)?$/.test(v) ? v : new Dec(v).toFixed());
/** Digits after the point of a plain decimal. */
const decimals = (v: string) => { const dot = v.indexOf('.'); return dot < 0 ? 0 : v.length - dot - 1; };
/** A plain decimal as an integer of `scale` decimals (exact). */
const scaled = (v: string, scale: number) => {
  const dot = v.indexOf('.');
  return BigInt(dot < 0 ? v + '0'.repeat(scale) : v.slice(0, dot) + v.slice(dot + 1).padEnd(scale, '0'));
};
/**
 * A plain decimal ("190.25", "-1") of at most 15 digits as the integer of its digits, into m[k], and
 * its number of decimals, into f[k]; false for anything else.
 */
function digitsOf(v: string, m: Float64Array, f: Int32Array, k: number): boolean {
  const neg = v.charCodeAt(0) === 45, first = neg ? 1 : 0, n = v.length;
  if (n === first) return false;
  let x = 0, digits = 0, frac = -1;
  for (let i = first; i < n; i++) {
    const ch = v.charCodeAt(i);
    if (ch === 46) {
      if (frac >= 0 || i === first || i === n - 1) return false;
      frac = 0;
      continue;
    }
    if (ch < 48 || ch > 57) return false;
    x = x * 10 + (ch - 48);
    if (x > 0) digits++;
    if (frac >= 0) frac++;
  }
  if (digits > 15) return false;
  m[k] = neg ? -x : x;
  f[k] = frac < 0 ? 0 : frac;
  return true;
}

/**
 * Prices as the pairing rules use them: each trade's price as a rank among the distinct trade
 * prices (ascending), each confirmation's window of ranks within the tolerance [lo, hi), and
 * `closer(k, a, b)`, which of two ranks' prices is nearer the confirmation's (< 0: a, 0: as near).
 * Exact: doubles holding integers of the largest scale seen when every one fits in 15 digits (the
 * usual day), else bigints.
 */
function pricesOf(confs: readonly PairConf[], trades: readonly PairTrade[], priceTolerance: string) {
  const nt = trades.length, nc = confs.length;
  const rank = new Int32Array(nt), lo = new Int32Array(nc), hi = new Int32Array(nc);
  /** First index of the ascending `levels` whose value is >= v (or > v when `after`). */
  const bound = <T extends number | bigint>(levels: ArrayLike<T>, v: T, after: boolean) => {
    let a = 0, b = levels.length;
    while (a < b) { const m = (a + b) >> 1; if (levels[m]! < v || (after && levels[m] === v)) a = m + 1; else b = m; }
    return a;
  };
  // The usual day: every price a plain decimal of at most 15 digits, read straight into doubles
  // (trades, then confirmations, then the tolerance), and at the largest scale seen still below
  // 10^15 each (so that sums and differences of two stay exact too).
  const m = new Float64Array(nt + nc + 1), f = new Int32Array(nt + nc + 1);
  let simple = digitsOf(priceTolerance, m, f, nt + nc);
  for (let i = 0; simple && i < nt; i++) simple = digitsOf(trades[i]!.price, m, f, i);
  for (let k = 0; simple && k < nc; k++) simple = digitsOf(confs[k]!.price, m, f, nt + k);
  let scale = 0;
  if (simple) for (let i = 0; i < f.length; i++) if (f[i]! > scale) scale = f[i]!;
  for (let i = 0; simple && i < m.length; i++) { m[i] = m[i]! * 10 ** (scale - f[i]!); if (Math.abs(m[i]!) >= 1e15) simple = false; }
  if (simple) {
    const tol = m[nt + nc]!;
    const levels = Float64Array.from(new Set(m.subarray(0, nt))).sort();
    const rankOf = new Map<number, number>();
    levels.forEach((v, i) => rankOf.set(v, i));
    for (let i = 0; i < nt; i++) rank[i] = rankOf.get(m[i]!)!;
    for (let k = 0; k < nc; k++) { const c = m[nt + k]!; lo[k] = bound(levels, c - tol, false); hi[k] = bound(levels, c + tol, true); }
    return { rank, lo, hi, closer: (k: number, a: number, b: number) => Math.abs(levels[a]! - m[nt + k]!) - Math.abs(levels[b]! - m[nt + k]!) };
  }
  // Else exact integers as bigints, at the largest scale seen.
  const tp = trades.map((t) => plain(t.price)), cp = confs.map((c) => plain(c.price));
  const tolPlain = plain(priceTolerance);
  let bigScale = decimals(tolPlain);
  for (const v of tp) bigScale = Math.max(bigScale, decimals(v));
  for (const v of cp) bigScale = Math.max(bigScale, decimals(v));
  const tBig = tp.map((v) => scaled(v, bigScale)), cBig = cp.map((v) => scaled(v, bigScale)), tolBig = scaled(tolPlain, bigScale);
  const levels = [...new Set(tBig)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const rankOf = new Map(levels.map((v, i) => [v, i]));
  for (let i = 0; i < nt; i++) rank[i] = rankOf.get(tBig[i]!)!;
  for (let k = 0; k < nc; k++) { lo[k] = bound(levels, cBig[k]! - tolBig, false); hi[k] = bound(levels, cBig[k]! + tolBig, true); }
  const abs = (x: bigint) => (x < 0n ? -x : x);
  return { rank, lo, hi, closer: (k: number, a: number, b: number) => { const d = abs(levels[a]! - cBig[k]!) - abs(levels[b]! - cBig[k]!); return d < 0n ? -1 : d > 0n ? 1 : 0; } };
}

/** What pairing reads of a confirmation and of a trade. */
export type PairConf = Pick<ConfRow, 'id' | 'counterparty' | 'trade_date' | 'symbol' | 'side' | 'quantity' | 'price' | 'our_ref'>;
export type PairTrade = Pick<TradeRow, 'id' | 'exec_id' | 'counterparty' | 'trade_date' | 'symbol' | 'side' | 'quantity' | 'price'>;

/**
 * The pairing rules of {@link matchConfirmations} (module comment), on rows already read: one pass
 * per rule over indexes built once (typed arrays, no object per trade) instead of a scan of the
 * trades per confirmation. Quantities are compared as interned normalised decimals; prices as
 * ranks (see pricesOf), so "within the tolerance" is a window of ranks. Ties go to the trade that
 * comes first in `trades` order (their id order), as a sort on (distance, id) would choose.
 * A group's key (counterparty, date, security, side, quantity) is one number, or a string when the
 * day has too many distinct values for the number to be exact.
 * @param testing.stringKeys FOR TESTS ONLY: key the groups by strings whatever the day's size
 */
export function pairConfirmations(confs: readonly PairConf[], trades: readonly PairTrade[], priceTolerance: string, testing: { stringKeys?: boolean } = {}): Pairing[] {
  return [...pairings(confs, trades, priceTolerance, testing.stringKeys)];
}

/** {@link pairConfirmations} one pairing at a time, in the same order, each final once given. */
function* pairings(confs: readonly PairConf[], trades: readonly PairTrade[], priceTolerance: string, stringKeys = false): Generator<Pairing, void, undefined> {
  const tolerance = new Dec(priceTolerance);
  const n = trades.length;
  const { rank, lo, hi, closer } = pricesOf(confs, trades, priceTolerance);
  // Interned quantities (normalised, so "100" and "100.0" agree), dates, and sides as the street sees them.
  const qtyIds = new Map<string, number>(), qtyRaw = new Map<string, number>();
  const qtyId = (q: string) => {
    let id = qtyRaw.get(q);
    if (id === undefined) {
      const norm = new Dec(q).toFixed();
      id = qtyIds.get(norm);
      if (id === undefined) qtyIds.set(norm, (id = qtyIds.size));
      qtyRaw.set(q, id);
    }
    return id;
  };
  const dates = new Map<string, number>();
  const dateId = (d: string) => { let id = dates.get(d); if (id === undefined) dates.set(d, (id = dates.size)); return id; };
  // Counterparties and securities interned too, those of the trades only: a confirmation naming
  // another has no trade to pair with on them.
  const cps = new Map<string, number>(), syms = new Map<string, number>();
  const tQty = new Int32Array(n), tDate = new Int32Array(n), tSell = new Uint8Array(n), tCp = new Int32Array(n), tSym = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const t = trades[i]!;
    tQty[i] = qtyId(t.quantity); tDate[i] = dateId(t.trade_date); tSell[i] = t.side === 'buy' ? 0 : 1;
    let cp = cps.get(t.counterparty);
    if (cp === undefined) cps.set(t.counterparty, (cp = cps.size));
    let sym = syms.get(t.symbol);
    if (sym === undefined) syms.set(t.symbol, (sym = syms.size));
    tCp[i] = cp; tSym[i] = sym;
  }
  // A trade's (counterparty, date, security, side, quantity) as one number (mixed radix over the
  // trades' values), or -1 for a confirmation's that no trade has; a string when the number would
  // not be exact.
  const nQ = qtyIds.size, nD = dates.size, nS = syms.size, nC = cps.size;
  const numeric = !stringKeys && nC * nD * nS * 2 * nQ < 2 ** 52;
  const keyOf = (cp: number, date: number, sym: number, sell: number, qty: number): number | string =>
    (cp < 0 || sym < 0 || date >= nD || qty >= nQ ? -1 : numeric ? (((cp * nD + date) * nS + sym) * 2 + sell) * nQ + qty : `${cp},${date},${sym},${sell},${qty}`);
  const confCp = (c: PairConf) => cps.get(c.counterparty) ?? -1, confSym = (c: PairConf) => syms.get(c.symbol) ?? -1;
  const free = new Uint8Array(n).fill(1);

  // 1. Our reference echoed back: the first free trade (in id order) whose id or exec id it is.
  const pending: number[] = [];
  if (confs.some((c) => c.our_ref)) {
    const byId = new Map<string, number>(), byExec = new Map<string, number>();
    const nextExec = new Int32Array(n).fill(-1), lastExec = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const t = trades[i]!;
      byId.set(t.id, i);
      if (!t.exec_id) continue; // no reference is empty
      const last = lastExec.get(t.exec_id);
      if (last === undefined) byExec.set(t.exec_id, i); else nextExec[last] = i;
      lastExec.set(t.exec_id, i);
    }
    for (let k = 0; k < confs.length; k++) {
      const cf = confs[k]!;
      let pick = -1;
      if (cf.our_ref) {
        const a = byId.get(cf.our_ref);
        if (a !== undefined && free[a]) pick = a;
        for (let b = byExec.get(cf.our_ref) ?? -1; b >= 0; b = nextExec[b]!) if (free[b]) { if (pick < 0 || b < pick) pick = b; break; }
      }
      if (pick < 0) { pending.push(k); continue; }
      free[pick] = 0;
      // Agreeing on the interned fields and within the price window is differing on nothing (as
      // rule 2 pairs): only a pair that differs is compared field by field, for its differences.
      const r = rank[pick]!;
      const same = tCp[pick] === confCp(cf) && tDate[pick] === dateId(cf.trade_date) && tSym[pick] === confSym(cf)
        && tSell[pick] === (cf.side === 'sell' ? 1 : 0) && tQty[pick] === qtyId(cf.quantity) && r >= lo[k]! && r < hi[k]!;
      const d = same ? NO_DIFFERENCES : differences(trades[pick]!, cf, tolerance);
      yield { conf: cf.id, trade: trades[pick]!.id, status: d.length ? 'mismatched' : 'matched', differences: d };
    }
  } else {
    for (let k = 0; k < confs.length; k++) pending.push(k);
  }

  // 2. The key fields, price within the tolerance, closest price first. The free trades grouped by
  //    (counterparty, date, security, side, quantity), each group in runs of one price (ascending),
  //    each run's trades in id order behind a cursor that skips the taken ones.
  const groupOf = new Map<number | string, number>();
  const tGroup = new Int32Array(n).fill(-1);
  let groups = 0;
  for (let i = 0; i < n; i++) {
    if (!free[i]) continue;
    const key = keyOf(tCp[i]!, tDate[i]!, tSym[i]!, tSell[i]!, tQty[i]!);
    let g = groupOf.get(key);
    if (g === undefined) groupOf.set(key, (g = groups++));
    tGroup[i] = g;
  }
  // Free trades ordered by (group, rank, id order): counting sorts, by rank then (stably) by group.
  const byRank = countingSort(n, (i) => (tGroup[i]! < 0 ? -1 : rank[i]!), rank.reduce((a, r) => Math.max(a, r), -1) + 1, null);
  const order = countingSort(n, (i) => tGroup[i]!, groups, byRank);
  const runStart: number[] = [], runRanks: number[] = [], groupRuns = new Int32Array(groups + 1);
  for (let p = 0; p < order.length; p++) {
    const i = order[p]!, prev = p ? order[p - 1]! : -1;
    if (p === 0 || tGroup[prev] !== tGroup[i] || rank[prev] !== rank[i]) {
      if (p === 0 || tGroup[prev] !== tGroup[i]) groupRuns[tGroup[i]!] = runStart.length;
      runStart.push(p); runRanks.push(rank[i]!);
    }
  }
  runStart.push(order.length);
  groupRuns[groups] = runRanks.length;
  const runRank = Int32Array.from(runRanks);
  const cursor = Int32Array.from(runStart);
  const rest: number[] = [];
  for (const k of pending) {
    const cf = confs[k]!;
    const key = keyOf(confCp(cf), dateId(cf.trade_date), confSym(cf), cf.side === 'sell' ? 1 : 0, qtyId(cf.quantity));
    const g = key === -1 ? undefined : groupOf.get(key);
    let pick = -1, pickRank = 0;
    if (g !== undefined) {
      const end = groupRuns[g + 1]!;
      let a = groupRuns[g]!, b = end;
      while (a < b) { const m = (a + b) >> 1; if (runRank[m]! < lo[k]!) a = m + 1; else b = m; }
      for (let r = a; r < end && runRank[r]! < hi[k]!; r++) {
        let at = cursor[r]!;
        const stop = runStart[r + 1]!;
        while (at < stop && !free[order[at]!]) at++;
        cursor[r] = at;
        if (at === stop) continue;
        const i = order[at]!;
        const c = pick < 0 ? -1 : closer(k, runRank[r]!, pickRank);
        if (c < 0 || (c === 0 && i < pick)) { pick = i; pickRank = runRank[r]!; }
      }
    }
    if (pick < 0) { rest.push(k); continue; }
    free[pick] = 0;
    yield { conf: cf.id, trade: trades[pick]!.id, status: 'matched', differences: NO_DIFFERENCES };
  }

  // 3. The same counterparty and security, differing on date, side, quantity or price: the free
  //    trade with the fewest differences, then the first. None differs on nothing (rule 2 would
  //    have taken it, and trades are only ever taken), so one difference is the best there is.
  if (rest.length) {
    // The free trades by (counterparty, security), each bucket in id order: one array, a bucket a
    // slice of it (start, live length), by a counting sort on the bucket.
    const bucketIds = new Map<number, number>(), tBucket = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      if (!free[i]) continue;
      const key = tCp[i]! * nS + tSym[i]!;
      let b = bucketIds.get(key);
      if (b === undefined) bucketIds.set(key, (b = bucketIds.size));
      tBucket[i] = b;
    }
    const nB = bucketIds.size, start = new Int32Array(nB + 1), len = new Int32Array(nB);
    for (let i = 0; i < n; i++) if (free[i]) start[tBucket[i]! + 1]!++;
    for (let b = 0; b < nB; b++) start[b + 1]! += start[b]!;
    const all = new Int32Array(start[nB]!);
    for (let i = 0; i < n; i++) if (free[i]) { const b = tBucket[i]!; all[start[b]! + len[b]!++] = i; }
    for (const k of rest) {
      const cf = confs[k]!;
      const cp = confCp(cf), sym = confSym(cf);
      const bk = cp >= 0 && sym >= 0 ? bucketIds.get(cp * nS + sym) : undefined;
      let pick = -1, fewest = 99;
      if (bk !== undefined) {
        const s0 = start[bk]!, end = s0 + len[bk]!;
        const date = dateId(cf.trade_date), sell = cf.side === 'sell' ? 1 : 0, qty = qtyId(cf.quantity), l = lo[k]!, h = hi[k]!;
        // Taken trades are dropped from the bucket as it is scanned.
        let w = s0, j = s0;
        for (; j < end; j++) {
          const i = all[j]!;
          if (!free[i]) continue;
          all[w++] = i;
          const r = rank[i]!;
          const d = (tDate[i] !== date ? 1 : 0) + (tSell[i] !== sell ? 1 : 0) + (tQty[i] !== qty ? 1 : 0) + (r < l || r >= h ? 1 : 0);
          if (d < fewest) { fewest = d; pick = i; if (d === 1) { j++; break; } }
        }
        if (w < j) { all.copyWithin(w, j, end); len[bk]! -= j - w; }
      }
      if (pick < 0) { yield { conf: cf.id, trade: null, status: 'unmatched', differences: NO_DIFFERENCES }; continue; }
      free[pick] = 0;
      yield { conf: cf.id, trade: trades[pick]!.id, status: 'mismatched', differences: differences(trades[pick]!, cf, tolerance) };
    }
  }
  for (let i = 0; i < n; i++) if (free[i]) yield { conf: null, trade: trades[i]!.id, status: 'unmatched', differences: NO_DIFFERENCES };
}

/**
 * The indexes 0..n-1 whose key is >= 0, ordered by key (0..keys-1), stably: in `input` order when
 * given (a previous sort's output), else ascending.
 */
function countingSort(n: number, key: (i: number) => number, keys: number, input: Int32Array | null): Int32Array {
  const count = new Int32Array(keys + 1);
  let total = 0;
  const m = input ? input.length : n;
  for (let p = 0; p < m; p++) { const x = key(input ? input[p]! : p); if (x >= 0) { count[x + 1]!++; total++; } }
  for (let x = 0; x < keys; x++) count[x + 1]! += count[x]!;
  const out = new Int32Array(total);
  for (let p = 0; p < m; p++) { const i = input ? input[p]! : p; const x = key(i); if (x >= 0) out[count[x]!++] = i; }
  return out;
}

const CONFIRMATION_COPY_COLUMNS = ['id', 'counterparty', 'conf_id', 'trade_date', 'symbol', 'side', 'quantity', 'price', 'settle_date', 'our_ref', 'source_file', 'line',
  'received_at', 'received_by', 'affirmed_at', 'affirmed_late', 'affirmed_by'];

/** A new confirmation as a line of COPY text (CONFIRMATION_COPY_COLUMNS; `tail` the file, `by` when and who). */
function confirmationCopyRow(id: string, i: ConfirmationInput, tail: string, by: string): string {
  const late = i.affirmedAt === null ? null : isLateAffirmation(i.tradeDate, new Date(i.affirmedAt));
  return id + '\t' + copyValue(i.counterparty) + '\t' + copyValue(i.confId) + '\t' + i.tradeDate + '\t' + copyValue(i.symbol) + '\t' + i.side + '\t' + i.quantity + '\t' + i.price
    + '\t' + copyValue(i.settleDate) + '\t' + copyValue(i.ourRef) + tail + '\t' + i.line + by + '\t' + copyValue(i.affirmedAt) + '\t' + copyValue(late)
    + '\t' + (i.affirmedAt === null ? '\\N' : copyValue(i.counterparty)) + '\n';
}

const unknownCounterparties = (file: string, bad: DomainError['details']) =>
  err(ConfirmationCodes.FILE_INVALID, 'invalid', `${file}: ${bad.length} problem(s); nothing was applied. ${bad.slice(0, 5).map((d) => d.message).join('; ')}`, bad);

/** New confirmations by one COPY. */
async function copyFresh(c: Client, fresh: { id: string; i: ConfirmationInput }[], file: string, now: Date, actor: string): Promise<void> {
  const tail = `\t${copyValue(file)}`, by = `\t${copyValue(now.toISOString())}\t${copyValue(actor)}`;
  let rows = '';
  for (const { id, i } of fresh) rows += confirmationCopyRow(id, i, tail, by);
  await copyInto(c, 'confirmations', CONFIRMATION_COPY_COLUMNS, rows);
}

/**
 * Import a confirmation CSV (see confirmations.ts for the format). All or nothing: any bad record
 * (or unknown counterparty) and nothing is written. Idempotent by (counterparty, conf_id): the same
 * record again is unchanged; a changed one is updated, unless it is already affirmed.
 * @throws DomainError CONFIRMATION_FILE_INVALID naming each bad record (line, field, rule);
 *   CONFIRMATION_CONFLICT (conflict) when an affirmed confirmation would change
 */
export async function importConfirmations(pool: Pool, text: string, file: string, ctx: Partial<SettlementCtx> = {}): Promise<ConfirmationImport> {
  const { actor, clock } = ctxOf(ctx);
  const now = clock.now();
  return withTx(pool, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock($1)', [MATCHING_LOCK]);
    // A day's file is all new confirmations: written by one COPY as the file is read (the database
    // takes in a batch while the next is read), the unique (counterparty, conf_id) being the check.
    // One already known fails the COPY at once: then the careful way below. A bad record stops the
    // writing; the file's problems are thrown at its end (the transaction takes back what was written).
    const known = new Set((await c.query<{ code: string }>('SELECT code FROM counterparties')).rows.map((r) => r.code));
    let received = 0;
    const unknown: DomainError['details'] = [];
    const tail = `\t${copyValue(file)}`, by = `\t${copyValue(now.toISOString())}\t${copyValue(actor)}`;
    const confirmationId = idSequence('cnf');
    function* chunks(): Generator<string> {
      for (const batch of confirmationBatches(text, file, 1000)) {
        let rows = '';
        for (const i of batch) {
          received++;
          if (!known.has(i.counterparty)) {
            const record = `${file} line ${i.line} (${i.confId})`;
            unknown.push({ record, field: 'counterparty', rule: 'UNKNOWN_COUNTERPARTY', message: `${record}: counterparty: "${i.counterparty}" is not a known counterparty` });
          }
          if (!unknown.length) rows += confirmationCopyRow(confirmationId(), i, tail, by);
        }
        if (rows && !unknown.length) yield rows;
      }
      if (unknown.length) throw unknownCounterparties(file, unknown);
    }
    await c.query('SAVEPOINT fresh_confirmations');
    try {
      await copyInChunks(c, 'confirmations', CONFIRMATION_COPY_COLUMNS, chunks());
      await c.query('RELEASE SAVEPOINT fresh_confirmations');
      return { file, received, created: received, updated: 0, unchanged: 0 };
    } catch (e) {
      const pe = e as { code?: string; constraint?: string };
      if (pe.code !== '23505' || pe.constraint !== 'confirmations_counterparty_conf_id_key') throw e;
      await c.query('ROLLBACK TO SAVEPOINT fresh_confirmations');
    }
    const inputs = parseConfirmations(text, file);
    const bad = inputs.filter((i) => !known.has(i.counterparty)).map((i) => {
      const record = `${file} line ${i.line} (${i.confId})`;
      return { record, field: 'counterparty', rule: 'UNKNOWN_COUNTERPARTY', message: `${record}: counterparty: "${i.counterparty}" is not a known counterparty` };
    });
    if (bad.length) throw unknownCounterparties(file, bad);
    const existing = await c.query<ConfRow>(`SELECT ${CONF_COLS} FROM confirmations c WHERE (c.counterparty, c.conf_id) IN (SELECT * FROM unnest($1::text[], $2::text[])) FOR UPDATE`,
      [inputs.map((i) => i.counterparty), inputs.map((i) => i.confId)]);
    const byKey = new Map(existing.rows.map((r) => [`${r.counterparty}\u0000${r.conf_id}`, r]));
    const result: ConfirmationImport = { file, received: inputs.length, created: 0, updated: 0, unchanged: 0 };
    const conflicts: DomainError['details'] = [];
    const writes: { id: string; i: ConfirmationInput }[] = [];
    for (const i of inputs) {
      const old = byKey.get(`${i.counterparty}\u0000${i.confId}`);
      if (!old) { result.created++; writes.push({ id: confirmationId(), i }); continue; }
      const same = old.trade_date === i.tradeDate && old.symbol === i.symbol && old.side === i.side && decEq(old.quantity, i.quantity) && decEq(old.price, i.price)
        && old.settle_date === i.settleDate && old.our_ref === i.ourRef && (i.affirmedAt === null || iso(old.affirmed_at) === i.affirmedAt);
      if (same) { result.unchanged++; continue; }
      if (old.affirmed_at !== null) {
        const record = `${file} line ${i.line} (${i.confId})`;
        conflicts.push({ record, field: 'conf_id', rule: 'AFFIRMED', message: `${record}: ${i.counterparty} ${i.confId} is already affirmed (at ${iso(old.affirmed_at)}) and may not change` });
        continue;
      }
      result.updated++;
      writes.push({ id: old.id, i });
    }
    if (conflicts.length) throw err(ConfirmationCodes.CONFLICT, 'conflict', `${file}: ${conflicts.length} affirmed confirmation(s) would change; nothing was applied. ${conflicts[0]!.message}`, conflicts);
    // New confirmations by COPY (a day's file is mostly new ones); changed ones by upsert, many rows
    // a statement (the file holds each (counterparty, conf_id) once: parsing refuses repeats).
    const fresh = writes.filter((w) => !byKey.has(`${w.i.counterparty}\u0000${w.i.confId}`));
    if (fresh.length) await copyFresh(c, fresh, file, now, actor);
    const changedRows = writes.filter((w) => byKey.has(`${w.i.counterparty}\u0000${w.i.confId}`));
    for (let k = 0; k < changedRows.length; k += 20_000) {
      const part = changedRows.slice(k, k + 20_000);
      const col = <T>(f: (w: { id: string; i: ConfirmationInput }) => T) => part.map(f);
      await c.query(
        `INSERT INTO confirmations (id, counterparty, conf_id, trade_date, symbol, side, quantity, price, settle_date, our_ref, source_file, line, received_at, received_by, affirmed_at, affirmed_late, affirmed_by)
         SELECT u.id, u.cp, u.conf, u.td, u.sym, u.side, u.q, u.px, u.sd, u.ref, $1, u.line, $2::timestamptz, $3, u.aff, u.late, CASE WHEN u.aff IS NULL THEN NULL ELSE u.cp END
           FROM unnest($4::text[], $5::text[], $6::text[], $7::date[], $8::text[], $9::text[], $10::numeric[], $11::numeric[], $12::date[], $13::text[], $14::int[], $15::timestamptz[], $16::bool[])
             AS u(id, cp, conf, td, sym, side, q, px, sd, ref, line, aff, late)
         ON CONFLICT (counterparty, conf_id) DO UPDATE SET trade_date = excluded.trade_date, symbol = excluded.symbol, side = excluded.side,
           quantity = excluded.quantity, price = excluded.price, settle_date = excluded.settle_date, our_ref = excluded.our_ref,
           source_file = excluded.source_file, line = excluded.line, received_at = excluded.received_at, received_by = excluded.received_by,
           affirmed_at = excluded.affirmed_at, affirmed_late = excluded.affirmed_late, affirmed_by = excluded.affirmed_by`,
        [file, now.toISOString(), actor, col((w) => w.id), col((w) => w.i.counterparty), col((w) => w.i.confId), col((w) => w.i.tradeDate), col((w) => w.i.symbol),
          col((w) => w.i.side), col((w) => w.i.quantity), col((w) => w.i.price), col((w) => w.i.settleDate), col((w) => w.i.ourRef), col((w) => w.i.line),
          col((w) => w.i.affirmedAt), col((w) => (w.i.affirmedAt === null ? null : isLateAffirmation(w.i.tradeDate, new Date(w.i.affirmedAt))))]);
    }
    // A changed confirmation's automatic result no longer holds: the next run recomputes it.
    const changed = writes.filter((w) => byKey.has(`${w.i.counterparty}\u0000${w.i.confId}`)).map((w) => w.id);
    if (changed.length) await c.query("DELETE FROM confirmation_matches WHERE confirmation = ANY($1) AND method = 'auto'", [changed]);
    return result;
  });
}

/**
 * Match the confirmations of a trade date against the booked trades of that date, store the
 * result (automatic rows of the date replaced where they differ; manual matches kept) and return
 * it. Idempotent: a second run with nothing new changes nothing.
 * @param options.priceTolerance absolute difference per unit allowed between the two prices, in
 *   the trade's currency, a decimal string (default '0.0001'; '0' for an exact match)
 * @param options.withResults false: `results` is left empty and only the summary is counted (the
 *   end-of-day cycle, which reports counts, need not read a million rows back)
 * @throws DomainError DATE_INVALID; CONFIRMATION_ARGUMENT_INVALID for a bad tolerance
 */
export async function matchConfirmations(pool: Pool, tradeDate: string, options: { priceTolerance?: string; withResults?: boolean } = {}, ctx: Partial<SettlementCtx> = {}): Promise<MatchRun> {
  parseDate(tradeDate, 'trade date');
  const priceTolerance = options.priceTolerance ?? '0.0001';
  if (!/^\d+(\.\d+)?$/.test(priceTolerance)) throw err(ConfirmationCodes.ARGUMENT_INVALID, 'invalid', `price tolerance "${priceTolerance}" is not a non-negative decimal`);
  const { actor, clock } = ctxOf(ctx);
  const D = sqlLiteral(tradeDate);
  return withTx(pool, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock($1)', [MATCHING_LOCK]);
    await c.query(`SET LOCAL work_mem = '${SORT_MEM}'`);
    // Manual matches take their sides out of the run: those of the date's confirmations (matched to
    // a trade of any date) and of its trades. Few rows, by the partial index of manual matches (0019).
    const manual = (await c.query<{ confirmation: string; trade_id: string; here: boolean }>(
      `SELECT m.confirmation, m.trade_id, m.trade_date = $1 AS here FROM confirmation_matches m
        WHERE m.method = 'manual' AND (m.trade_date = $1 OR EXISTS (SELECT 1 FROM confirmations c WHERE c.id = m.confirmation AND c.trade_date = $1))`, [tradeDate])).rows;
    const manualConfs = new Set(manual.map((m) => m.confirmation)), manualTrades = new Set(manual.map((m) => m.trade_id));
    // Both sides and the stored automatic results of the date read as COPY text (a day is a million
    // rows), only what pairing reads. The trades are read on a second connection meanwhile, when
    // the pool has one to spare (under READ COMMITTED a statement of this transaction would see them
    // as of its start all the same; the confirmations and matches cannot change while the matching
    // lock is held). Exec ids, which only a confirmation quoting a reference needs, are read after
    // the confirmations, and only those such a reference names.
    const tradesQuery = `SELECT t.id, t.counterparty, t.symbol, t.side, t.quantity, t.price
      FROM trades t WHERE t.trade_date = ${D} AND t.status = 'booked' ORDER BY t.id COLLATE "C"`;
    const spare = spareConnection(pool);
    const tradesText = spare && (async () => {
      const other = await spare;
      try {
        await other.query(`BEGIN READ ONLY; SET LOCAL work_mem = '${SORT_MEM}'`);
        const text = await copyOutBuffer(other, tradesQuery);
        await other.query('COMMIT');
        return text;
      } catch (e) {
        await other.query('ROLLBACK').catch(() => {});
        throw e;
      } finally {
        other.release();
      }
    })();
    tradesText?.catch(() => {}); // awaited below; not unhandled meanwhile
    // The date's confirmations in (counterparty, conf_id) order straight off the date's index (0019),
    // which holds that order: the planner, misled by a day not yet analysed, would sort them instead
    // (a sort on two keys, the first the same for a whole counterparty: ten times the index scan).
    const planner = (await c.query<{ s: string; b: string }>(`SELECT current_setting('enable_sort') AS s, current_setting('enable_bitmapscan') AS b,
      set_config('enable_sort', 'off', true), set_config('enable_bitmapscan', 'off', true)`)).rows[0]!;
    const confText = await copyOutBuffer(c, `SELECT c.id, c.counterparty, c.symbol, c.side, c.quantity, c.price, c.our_ref
        FROM confirmations c WHERE c.trade_date = ${D} ORDER BY c.trade_date, c.counterparty COLLATE "C", c.conf_id COLLATE "C"`);
    // (Set back for the rest of the transaction; a failure rolls the settings back with it.)
    await c.query(`SELECT set_config('enable_sort', $1, true), set_config('enable_bitmapscan', $2, true)`, [planner.s, planner.b]);
    const confs: PairConf[] = [];
    let refs = false;
    for (const f of copyTextRows(confText)) {
      if (manualConfs.size && manualConfs.has(f[0]!)) continue;
      if (f[6] !== null) refs = true;
      confs.push({ id: f[0]!, counterparty: f[1]!, trade_date: tradeDate, symbol: f[2]!, side: f[3] as PairConf['side'], quantity: f[4]!, price: f[5]!, our_ref: f[6] ?? null });
    }
    // The exec ids that some confirmation of the date quotes, of the date's booked trades (pairing
    // reads a trade's exec id only to compare it with a reference: the others may as well be empty).
    const execs = new Map<string, string>();
    if (refs) {
      for (const [id, exec] of copyTextRows(await copyOutBuffer(c, `SELECT t.id, t.exec_id FROM trades t WHERE t.trade_date = ${D} AND t.status = 'booked'
          AND t.exec_id IN (SELECT c.our_ref FROM confirmations c WHERE c.trade_date = ${D} AND c.our_ref IS NOT NULL)`))) execs.set(id!, exec!);
    }
    const trades: PairTrade[] = [];
    for (const f of copyTextRows(await (tradesText ?? copyOutBuffer(c, tradesQuery)))) {
      if (manualTrades.size && manualTrades.has(f[0]!)) continue;
      trades.push({ id: f[0]!, exec_id: refs ? execs.get(f[0]!) ?? '' : '', counterparty: f[1]!, trade_date: tradeDate, symbol: f[2]!, side: f[3] as PairTrade['side'], quantity: f[4]!, price: f[5]! });
    }

    // Store: keep identical rows, remove stale ones, add new ones. A stored row is the wanted one
    // of its confirmation (or, without one, of its trade) when it agrees on both sides, the status
    // and the differences; a second such row is stale. Every automatic row of the date comes from
    // the date's run; one of another date holding a side decided here is met below. On the date's
    // first run nothing is stored: the pairings are written as they are made (each is final when
    // made), the database taking in a chunk while the next is paired.
    // (In no order: the unique confirmation and trade of a match leave no two stored rows alike.)
    const stored = copyTextRows(await copyOutBuffer(c, `SELECT id, confirmation, trade_id, status, differences FROM confirmation_matches
        WHERE trade_date = ${D} AND method = 'auto'`));
    const summary = { matched: 0, mismatched: 0, unmatchedConfirmations: 0, unmatchedTrades: 0 };
    const tally = (w: Pairing) => {
      if (w.status === 'matched') summary.matched++;
      else if (w.status === 'mismatched') summary.mismatched++;
      else if (w.conf !== null) summary.unmatchedConfirmations++;
      else summary.unmatchedTrades++;
    };
    let keep = 0;
    const stale: string[] = [];
    let add: Iterable<Pairing>;
    if (!stored.length) {
      add = { [Symbol.iterator]: () => pairings(confs, trades, priceTolerance) };
    } else {
      const want = pairConfirmations(confs, trades, priceTolerance);
      want.forEach(tally);
      const kept = new Uint8Array(want.length);
      const byConf = new Map<string, number>(), byTrade = new Map<string, number>();
      want.forEach((w, k) => { if (w.conf !== null) byConf.set(w.conf, k); else byTrade.set(w.trade!, k); });
      for (const [id, conf, trade, status, diffs] of stored) {
        const k = conf ? byConf.get(conf) : byTrade.get(trade ?? '');
        const w = k === undefined ? undefined : want[k]!;
        if (w && !kept[k!] && w.trade === trade && w.status === status
          && (diffs === '[]' ? w.differences.length === 0 : w.differences.length > 0 && canonicalJson(JSON.parse(diffs!)) === canonicalJson(w.differences))) {
          kept[k!] = 1;
          keep++;
        } else stale.push(id!);
      }
      add = keep ? want.filter((_, k) => !kept[k]) : want;
    }
    if (stale.length) await c.query('DELETE FROM confirmation_matches WHERE id = ANY($1)', [stale]);
    const now = clock.now().toISOString();
    // One COPY for the lot, written as it is built.
    const fixed = `\t${tradeDate}\t`, tail = `\tauto\t`, by = `\t${copyValue(now)}\t${copyValue(actor)}\n`;
    let created = 0;
    function* rows(): Generator<string> {
      created = 0;
      const matchId = idSequence('cmt');
      let chunk = '';
      for (const w of add) {
        created++;
        if (!stored.length) tally(w);
        chunk += matchId() + fixed + copyValue(w.conf) + '\t' + copyValue(w.trade) + '\t' + w.status + tail + (w.differences.length ? copyValue(JSON.stringify(w.differences)) : '[]') + by;
        if (chunk.length >= 1 << 16) { yield chunk; chunk = ''; }
      }
      if (chunk) yield chunk;
    }
    const write = () => copyInChunks(c, 'confirmation_matches', ['id', 'trade_date', 'confirmation', 'trade_id', 'status', 'method', 'differences', 'created_at', 'created_by'], rows());
    let removed = stale.length;
    await c.query('SAVEPOINT match_rows');
    try {
      await write();
    } catch (e) {
      if ((e as { code?: string }).code !== '23505') throw e;
      // A side held by an automatic row of another date (a confirmation re-dated since): that row
      // is stale too. Remove such rows, and write again.
      await c.query('ROLLBACK TO SAVEPOINT match_rows');
      const sides = [...add];
      const other = await c.query(`DELETE FROM confirmation_matches WHERE method = 'auto' AND trade_date <> $1 AND (confirmation = ANY($2) OR trade_id = ANY($3))`,
        [tradeDate, sides.flatMap((w) => (w.conf ? [w.conf] : [])), sides.flatMap((w) => (w.trade ? [w.trade] : []))]);
      removed += other.rowCount ?? 0;
      if (!stored.length) Object.assign(summary, { matched: 0, mismatched: 0, unmatchedConfirmations: 0, unmatchedTrades: 0 });
      await write();
    }
    await c.query('RELEASE SAVEPOINT match_rows');
    const changes = { created, unchanged: keep, removed };
    if (options.withResults === false) {
      // The date's rows are now exactly the pairings and its manual matches.
      summary.matched += manual.filter((m) => m.here).length;
      return { tradeDate, priceTolerance, summary, results: [], changes };
    }
    const results = await readMatches(c, tradeDate);
    return { tradeDate, priceTolerance, summary: summarise(results), results, changes };
  });
}

/**
 * Another connection of the pool when it has one to spare at once, else null: waiting for a second
 * connection while holding one could deadlock a pool that callers like this one have filled.
 */
function spareConnection(pool: Pool): Promise<Client> | null {
  if (pool.waitingCount > 0 || (pool.idleCount === 0 && pool.totalCount >= (pool.options.max ?? 10))) return null;
  return pool.connect();
}

function summarise(results: MatchView[]): MatchRun['summary'] {
  return {
    matched: results.filter((r) => r.status === 'matched').length,
    mismatched: results.filter((r) => r.status === 'mismatched').length,
    unmatchedConfirmations: results.filter((r) => r.status === 'unmatched' && r.confirmation).length,
    unmatchedTrades: results.filter((r) => r.status === 'unmatched' && r.trade).length,
  };
}

async function readMatches(c: Client | Pool, tradeDate: string): Promise<MatchView[]> {
  const { rows } = await c.query(
    `SELECT m.status, m.method, m.differences, m.reason, m.confirmation, m.trade_id,
            ${CONF_COLS.replace(/c\.(\w+)/g, 'c.$1 AS c_$1')}, ${TRADE_COLS.replace(/t\.(\w+)/g, 't.$1 AS t_$1')}
       FROM confirmation_matches m LEFT JOIN confirmations c ON c.id = m.confirmation LEFT JOIN trades t ON t.id = m.trade_id
      WHERE m.trade_date = $1
      ORDER BY CASE m.status WHEN 'mismatched' THEN 0 WHEN 'unmatched' THEN 1 ELSE 2 END,
               coalesce(c.counterparty, t.counterparty) COLLATE "C", coalesce(c.symbol, t.symbol) COLLATE "C", c.conf_id COLLATE "C" NULLS LAST, t.id COLLATE "C"`, [tradeDate]);
  const pick = (r: Record<string, unknown>, p: string) => Object.fromEntries(Object.entries(r).filter(([k]) => k.startsWith(p)).map(([k, v]) => [k.slice(p.length), v]));
  return rows.map((r) => ({
    status: r.status, method: r.method,
    confirmation: r.confirmation ? confView(pick(r, 'c_') as unknown as ConfRow) : null,
    trade: r.trade_id ? tradeView(pick(r, 't_') as unknown as TradeRow) : null,
    differences: (r.differences as Difference[]).map((d) => ({ field: d.field, ours: d.ours, theirs: d.theirs })), reason: r.reason,
  }));
}

/**
 * The stored matching results of a trade date (as the last run and manual matches left them).
 * @throws DomainError DATE_INVALID
 */
export async function listMatches(pool: Pool, tradeDate: string): Promise<{ tradeDate: string; summary: MatchRun['summary']; results: MatchView[] }> {
  parseDate(tradeDate, 'trade date');
  const results = await readMatches(pool, tradeDate);
  return { tradeDate, summary: summarise(results), results };
}

/** A confirmation by its id (cnf_...), by COUNTERPARTY/CONF_ID, or by a conf_id that only one counterparty uses. */
async function findConfirmation(c: Client, ref: string): Promise<ConfRow> {
  const slash = ref.indexOf('/');
  const { rows } = slash > 0
    ? await c.query<ConfRow>(`SELECT ${CONF_COLS} FROM confirmations c WHERE c.counterparty = $1 AND c.conf_id = $2 FOR UPDATE`, [ref.slice(0, slash), ref.slice(slash + 1)])
    : await c.query<ConfRow>(`SELECT ${CONF_COLS} FROM confirmations c WHERE c.id = $1 OR c.conf_id = $1 ORDER BY c.id FOR UPDATE`, [ref]);
  if (!rows.length) throw err(ConfirmationCodes.NOT_FOUND, 'not_found', `confirmation ${ref} not found`);
  const exact = rows.find((r) => r.id === ref);
  if (exact) return exact;
  if (rows.length > 1) throw err(ConfirmationCodes.AMBIGUOUS, 'invalid', `confirmation ${ref} is sent by ${rows.map((r) => r.counterparty).join(' and ')}: name it COUNTERPARTY/${ref}`);
  return rows[0]!;
}

/**
 * Match a confirmation to a trade by hand, with a reason: stored as `matched` (method manual, with
 * any differing fields kept for the record), taking both sides out of automatic matching, and
 * audited (action confirmation.manual_match). The same pair again changes nothing.
 * @param confRef the confirmation: its id, COUNTERPARTY/CONF_ID, or a conf_id only one counterparty uses
 * @param tradeId a booked trade's id
 * @throws DomainError CONFIRMATION_ARGUMENT_INVALID (empty reason); CONFIRMATION_NOT_FOUND;
 *   CONFIRMATION_AMBIGUOUS; CONFIRMATION_TRADE_NOT_FOUND (or not booked); CONFIRMATION_CONFLICT
 *   when either side is already manually matched to something else
 */
export async function manualMatch(pool: Pool, confRef: string, tradeId: string, reason: string, ctx: Partial<SettlementCtx> = {}): Promise<MatchView & { changed: boolean }> {
  const why = (reason ?? '').trim();
  if (!why) throw err(ConfirmationCodes.ARGUMENT_INVALID, 'invalid', 'a manual match needs a reason', [{ field: 'reason', rule: 'REQUIRED', message: 'reason: is missing' }]);
  const { actor, clock } = ctxOf(ctx);
  return withTx(pool, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock($1)', [MATCHING_LOCK]);
    const conf = await findConfirmation(c, confRef);
    const t = (await c.query<TradeRow & { status: string }>(`SELECT ${TRADE_COLS}, t.status FROM trades t WHERE t.id = $1`, [tradeId])).rows[0];
    if (!t) throw err(ConfirmationCodes.TRADE_NOT_FOUND, 'not_found', `trade ${tradeId} not found`);
    if (t.status !== 'booked') throw err(ConfirmationCodes.TRADE_NOT_FOUND, 'not_found', `trade ${tradeId} is ${t.status}, not booked: match its replacement`);
    const manual = (await c.query<{ confirmation: string; trade_id: string }>(
      "SELECT confirmation, trade_id FROM confirmation_matches WHERE method = 'manual' AND (confirmation = $1 OR trade_id = $2) FOR UPDATE", [conf.id, t.id])).rows;
    const view = (): MatchView => ({ status: 'matched', method: 'manual', confirmation: confView(conf), trade: tradeView(t), differences: differences(t, conf, new Dec(0)), reason: why });
    if (manual.length === 1 && manual[0]!.confirmation === conf.id && manual[0]!.trade_id === t.id) {
      const stored = (await c.query<{ reason: string }>("SELECT reason FROM confirmation_matches WHERE confirmation = $1 AND method = 'manual'", [conf.id])).rows[0]!;
      return { ...view(), reason: stored.reason, changed: false };
    }
    if (manual.length) {
      const m = manual[0]!;
      throw err(ConfirmationCodes.CONFLICT, 'conflict', m.confirmation === conf.id
        ? `confirmation ${conf.counterparty}/${conf.conf_id} is already manually matched to trade ${m.trade_id}`
        : `trade ${t.id} is already manually matched to confirmation ${m.confirmation}`);
    }
    await c.query("DELETE FROM confirmation_matches WHERE method = 'auto' AND (confirmation = $1 OR trade_id = $2)", [conf.id, t.id]);
    const at = clock.now();
    const id = newId('cmt');
    const diffs = differences(t, conf, new Dec(0));
    const row = { id, trade_date: t.trade_date, confirmation: conf.id, trade_id: t.id, status: 'matched', method: 'manual', differences: diffs, reason: why, created_at: at.toISOString(), created_by: actor };
    await c.query(`INSERT INTO confirmation_matches (id, trade_date, confirmation, trade_id, status, method, differences, reason, created_at, created_by)
      VALUES ($1, $2, $3, $4, 'matched', 'manual', $5, $6, $7, $8)`, [id, t.trade_date, conf.id, t.id, JSON.stringify(diffs), why, row.created_at, actor]);
    await lockBooks(c);
    await appendAudit(c, [{
      actor, action: 'confirmation.manual_match', entity: 'confirmations', entityId: conf.id,
      data: { trade: t.id, reason: why, match: id, counterparty: conf.counterparty, confId: conf.conf_id },
      rowHash: sha256(canonicalJson(row)), at,
    }]);
    return { ...view(), changed: true };
  });
}

/**
 * Affirm a matched confirmation at `at`: records affirmed_at and whether it is late under SEC Rule
 * 15c6-2 (after 9:00 p.m. America/New_York on trade date), audited (action confirmation.affirm).
 * Affirming again at the same instant changes nothing.
 * @throws DomainError CONFIRMATION_NOT_FOUND; CONFIRMATION_AMBIGUOUS; CONFIRMATION_NOT_MATCHED
 *   (conflict) unless matched to a trade; CONFIRMATION_CONFLICT when already affirmed at another instant;
 *   CONFIRMATION_ARGUMENT_INVALID for an invalid instant
 */
export async function affirm(pool: Pool, confRef: string, at: Date, ctx: Partial<SettlementCtx> = {}): Promise<ConfirmationView & { deadline: string; changed: boolean }> {
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw err(ConfirmationCodes.ARGUMENT_INVALID, 'invalid', 'the affirmation instant is not a valid date and time');
  const { actor, clock } = ctxOf(ctx);
  return withTx(pool, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock($1)', [MATCHING_LOCK]);
    const conf = await findConfirmation(c, confRef);
    const deadline = affirmationDeadline(conf.trade_date).toISOString();
    if (conf.affirmed_at !== null) {
      if (iso(conf.affirmed_at) === at.toISOString()) return { ...confView(conf), deadline, changed: false };
      throw err(ConfirmationCodes.CONFLICT, 'conflict', `confirmation ${conf.counterparty}/${conf.conf_id} is already affirmed at ${iso(conf.affirmed_at)}`);
    }
    const m = (await c.query<{ status: string }>('SELECT status FROM confirmation_matches WHERE confirmation = $1', [conf.id])).rows[0];
    if (m?.status !== 'matched') {
      throw err(ConfirmationCodes.NOT_MATCHED, 'conflict', `confirmation ${conf.counterparty}/${conf.conf_id} is ${m?.status ?? 'not yet matched'}: only a matched confirmation is affirmed (run settlement match, or match it by hand)`);
    }
    const late = isLateAffirmation(conf.trade_date, at);
    await c.query('UPDATE confirmations SET affirmed_at = $2, affirmed_late = $3, affirmed_by = $4 WHERE id = $1', [conf.id, at.toISOString(), late, actor]);
    const next: ConfRow = { ...conf, affirmed_at: at.toISOString(), affirmed_late: late };
    await lockBooks(c);
    await appendAudit(c, [{
      actor, action: 'confirmation.affirm', entity: 'confirmations', entityId: conf.id,
      data: { affirmedAt: at.toISOString(), late, deadline }, rowHash: sha256(canonicalJson({ ...confView(next), affirmedBy: actor })), at: clock.now(),
    }]);
    return { ...confView(next), deadline, changed: true };
  });
}

/** JSON with sorted keys: the same row always hashes the same. */
function canonicalJson(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return '[' + v.map(canonicalJson).join(',') + ']';
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return '{' + Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => JSON.stringify(k) + ':' + canonicalJson(o[k])).join(',') + '}';
  }
  return JSON.stringify(v);
}

// ---------------------------------------------------------------------------------------------
// Commands

const defaultCtx = (): SettlementCtx => ({ actor: `cli:${os.userInfo().username}`, clock: systemClock });

function table(rows: Record<string, string>[], cols: string[]): string {
  if (!rows.length) return '(none)';
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: Record<string, string>) => cols.map((c, i) => (r[c] ?? '').padEnd(w[i]!)).join('  ').trimEnd();
  return [line(Object.fromEntries(cols.map((c) => [c, c]))), cols.map((_, i) => '-'.repeat(w[i]!)).join('  '), ...rows.map(line)].join('\n');
}

export function matchText(run: { tradeDate: string; summary: MatchRun['summary']; results: MatchView[] }): string {
  const s = run.summary;
  const rows = run.results.map((r) => {
    const x = r.confirmation, t = r.trade;
    return {
      status: r.status + (r.method === 'manual' ? ' (manual)' : ''),
      counterparty: x?.counterparty ?? t?.counterparty ?? '', conf: x?.confId ?? '', trade: t?.id ?? '',
      symbol: x?.symbol ?? t?.symbol ?? '', side: x?.side ?? t?.side ?? '', quantity: x?.quantity ?? t?.quantity ?? '', price: x?.price ?? t?.price ?? '',
      differences: [...r.differences.map((d) => `${d.field}: ours ${d.ours}, theirs ${d.theirs}`), ...(r.reason ? [`reason: ${r.reason}`] : [])].join('; '),
    };
  });
  return [
    `trade date ${run.tradeDate}: ${s.matched} matched, ${s.mismatched} mismatched, ${s.unmatchedConfirmations} confirmation(s) without a trade, ${s.unmatchedTrades} trade(s) without a confirmation`,
    '',
    table(rows, ['status', 'counterparty', 'conf', 'trade', 'symbol', 'side', 'quantity', 'price', 'differences']),
  ].join('\n');
}

/**
 * Registers `settlement confirmations import FILE`, `settlement match --date D`,
 * `settlement match-manual CONF TRADE --reason TEXT` and `settlement affirm CONF [--at ISO]`
 * (under an existing `settlement` command if the program has one). Errors are thrown as
 * DomainError for the program's handler to map to an exit code.
 */
export function matchingCommands(program: Command, withDb: WithDb, print: Print, context: () => SettlementCtx = defaultCtx): Command {
  const settlement = program.commands.find((c) => c.name() === 'settlement')
    ?? program.command('settlement').description('clearing and settlement: netting, obligations, instructions, fails');

  const confirmations = settlement.commands.find((c) => c.name() === 'confirmations')
    ?? settlement.command('confirmations').description("the street's confirmations of our trades");
  confirmations.command('import')
    .description('import a confirmation CSV: conf_id,counterparty,trade_date,symbol,side,quantity,price[,settle_date,our_ref,affirmed_at], '
      + 'side being OUR side (what the firm did). All or nothing: a bad record is named (line, field, rule) and nothing is applied; '
      + 'idempotent by (counterparty, conf_id)')
    .argument('<file>', 'CSV file')
    .option('--json', 'JSON output: {file, received, created, updated, unchanged}')
    .action(async (file: string, o: { json?: boolean }) => {
      const fs = await import('node:fs');
      let text: string;
      try { text = fs.readFileSync(file, 'utf8'); } catch (e) { throw err(ConfirmationCodes.ARGUMENT_INVALID, 'invalid', `cannot read ${file}: ${(e as Error).message}`); }
      await withDb(async (db) => {
        const r = await importConfirmations(db.pool, text, file, context());
        print(!!o.json, r, () => `${file}: ${r.received} confirmation(s): ${r.created} created, ${r.updated} updated, ${r.unchanged} unchanged`);
      });
    });

  settlement.command('match')
    .description('match the confirmations of a trade date against the booked trades (counterparty, date, security, side, quantity, '
      + 'price within an absolute tolerance per unit); stores and prints matched, mismatched (with the differing fields) and unmatched, both ways')
    .requiredOption('--date <date>', 'trade date, YYYY-MM-DD')
    .option('--price-tolerance <decimal>', 'absolute price difference per unit allowed, in the trade currency', '0.0001')
    .option('--json', 'JSON output: {tradeDate, priceTolerance, summary: {matched, mismatched, unmatchedConfirmations, unmatchedTrades}, '
      + 'results: [{status, method, confirmation, trade, differences: [{field, ours, theirs}], reason}], changes: {created, unchanged, removed}}')
    .action(async (o: { date: string; priceTolerance: string; json?: boolean }) => {
      parseDate(o.date, '--date');
      await withDb(async (db) => {
        const run = await matchConfirmations(db.pool, o.date, { priceTolerance: o.priceTolerance }, context());
        print(!!o.json, run, () => matchText(run));
      });
    });

  settlement.command('match-manual')
    .description('match a confirmation to a trade by hand, with a reason (audited)')
    .argument('<conf>', 'confirmation: its id, COUNTERPARTY/CONF_ID, or a conf_id only one counterparty uses')
    .argument('<trade>', 'trade id')
    .requiredOption('--reason <text>', 'why they are the same trade')
    .option('--json', 'JSON output: {status, method, confirmation, trade, differences, reason, changed}')
    .action(async (conf: string, trade: string, o: { reason: string; json?: boolean }) => {
      await withDb(async (db) => {
        const r = await manualMatch(db.pool, conf, trade, o.reason, context());
        print(!!o.json, r, () => `${r.changed ? 'matched' : 'already matched'}: confirmation ${r.confirmation!.counterparty}/${r.confirmation!.confId} to trade ${r.trade!.id} (${r.reason})`
          + (r.differences.length ? `; differing: ${r.differences.map((d) => `${d.field} ours ${d.ours} theirs ${d.theirs}`).join(', ')}` : ''));
      });
    });

  settlement.command('affirm')
    .description('affirm a matched confirmation; late (SEC Rule 15c6-2) when after 9:00 p.m. New York time on trade date')
    .argument('<conf>', 'confirmation: its id, COUNTERPARTY/CONF_ID, or a conf_id only one counterparty uses')
    .option('--at <instant>', 'when it was affirmed, ISO 8601 with offset (default: now)')
    .option('--json', 'JSON output: the confirmation with affirmedAt, affirmedLate, deadline, changed')
    .action(async (conf: string, o: { at?: string; json?: boolean }) => {
      const ctx = context();
      let at = ctx.clock.now();
      if (o.at !== undefined) {
        if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(o.at)) throw err(ConfirmationCodes.ARGUMENT_INVALID, 'invalid', `--at "${o.at}" is not an ISO 8601 instant with its offset`);
        at = new Date(o.at);
      }
      await withDb(async (db) => {
        const r = await affirm(db.pool, conf, at, ctx);
        print(!!o.json, r, () => `confirmation ${r.counterparty}/${r.confId} affirmed at ${r.affirmedAt}${r.affirmedLate ? ` LATE (deadline ${r.deadline})` : ` (deadline ${r.deadline})`}${r.changed ? '' : ', already'}`);
      });
    });

  return settlement;
}
