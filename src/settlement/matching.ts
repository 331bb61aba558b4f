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
import { copyInto, copyValue, withTx, type Client, type Pool } from '../db/index.js';
import { appendAudit, lockBooks } from '../ledger/index.js';
import { Dec, DomainError, newId, parseDate, systemClock } from '../kernel/index.js';
import { ConfirmationCodes, affirmationDeadline, isLateAffirmation, parseConfirmations, type ConfirmationInput } from './confirmations.js';
import type { SettlementCtx } from './obligations.js';
import type { Print, WithDb } from './cli.js';

/** Serialises matching, manual matches, affirmations and imports of confirmations. */
const MATCHING_LOCK = 7243007;

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
function differences(t: TradeRow, c: ConfRow, tolerance: Dec): Difference[] {
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

/** A decimal string in plain notation ("190.25", "-1"); anything else goes through Dec. */
const plain = (v: string) => (/^-?\d+(\.\d+)?$/.test(v) ? v : new Dec(v).toFixed());
/** A plain decimal as an integer of `scale` decimals (exact). */
const scaled = (v: string, scale: number) => {
  const dot = v.indexOf('.');
  return BigInt(dot < 0 ? v + '0'.repeat(scale) : v.slice(0, dot) + v.slice(dot + 1).padEnd(scale, '0'));
};

/**
 * The pairing rules of {@link matchConfirmations} (module comment), on rows already read: one pass
 * per rule over hash indexes instead of a scan of the trades per confirmation. Quantities are
 * compared as interned normalised decimals; prices as exact integers at the largest scale seen,
 * ranked once, so "within the tolerance" is a range of ranks. Ties go to the trade that comes
 * first in `trades` order (their id order), as a sort on (distance, id) would choose.
 */
export function pairConfirmations(confs: readonly ConfRow[], trades: readonly TradeRow[], priceTolerance: string): Pairing[] {
  const tolerance = new Dec(priceTolerance);
  const n = trades.length;
  const tp = trades.map((t) => plain(t.price)), cp = confs.map((c) => plain(c.price));
  const tolPlain = plain(priceTolerance);
  let scale = 0;
  for (const v of [...tp, ...cp, tolPlain]) { const dot = v.indexOf('.'); if (dot >= 0) scale = Math.max(scale, v.length - dot - 1); }
  const tPrice = tp.map((v) => scaled(v, scale)), cPrice = cp.map((v) => scaled(v, scale));
  const tol = scaled(tolPlain, scale);
  // Distinct trade prices, ascending: a trade's price is its rank.
  const levels = [...new Set(tPrice)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const rankOf = new Map(levels.map((v, i) => [v, i]));
  const rank = Int32Array.from(tPrice, (v) => rankOf.get(v)!);
  /** First rank whose price is >= v (or > v when `after`). */
  const bound = (v: bigint, after: boolean) => {
    let lo = 0, hi = levels.length;
    while (lo < hi) { const m = (lo + hi) >> 1; if (levels[m]! < v || (after && levels[m] === v)) lo = m + 1; else hi = m; }
    return lo;
  };
  // Interned quantities (normalised, so "100" and "100.0" agree) and sides as the street sees them.
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
  const tQty = Int32Array.from(trades, (t) => qtyId(t.quantity));
  const tSell = Uint8Array.from(trades, (t) => (streetSide(t.side) === 'sell' ? 1 : 0));
  const free = new Uint8Array(n).fill(1);
  const want: Pairing[] = [];
  const S = '\u0000';

  // 1. Our reference echoed back: the first free trade (in id order) whose id or exec id it is.
  const byId = new Map<string, number>(), byExec = new Map<string, number[]>();
  trades.forEach((t, i) => {
    byId.set(t.id, i);
    const l = byExec.get(t.exec_id);
    if (l) l.push(i); else byExec.set(t.exec_id, [i]);
  });
  const pending: number[] = [];
  confs.forEach((cf, k) => {
    let pick = -1;
    if (cf.our_ref) {
      const a = byId.get(cf.our_ref);
      if (a !== undefined && free[a]) pick = a;
      for (const b of byExec.get(cf.our_ref) ?? []) if (free[b]) { if (pick < 0 || b < pick) pick = b; break; }
    }
    if (pick < 0) { pending.push(k); return; }
    free[pick] = 0;
    const d = differences(trades[pick]!, cf, tolerance);
    want.push({ conf: cf.id, trade: trades[pick]!.id, status: d.length ? 'mismatched' : 'matched', differences: d });
  });

  // 2. The key fields, price within the tolerance, closest price first. Trades grouped by
  //    (counterparty, date, security, side, quantity), each group by price level, each level's
  //    trades in id order behind a cursor that skips the taken ones.
  interface Level { rank: number; ids: number[]; at: number }
  const groups = new Map<string, Level[]>();
  trades.forEach((t, i) => {
    if (!free[i]) return;
    const key = t.counterparty + S + t.trade_date + S + t.symbol + S + tSell[i] + S + tQty[i];
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push({ rank: rank[i]!, ids: [i], at: 0 });
  });
  for (const [key, g] of groups) {
    g.sort((a, b) => a.rank - b.rank || a.ids[0]! - b.ids[0]!);
    const merged: Level[] = [];
    for (const l of g) { const last = merged[merged.length - 1]; if (last && last.rank === l.rank) last.ids.push(l.ids[0]!); else merged.push(l); }
    groups.set(key, merged);
  }
  const rest: number[] = [];
  for (const k of pending) {
    const cf = confs[k]!;
    const g = groups.get(cf.counterparty + S + cf.trade_date + S + cf.symbol + S + (cf.side === 'sell' ? 1 : 0) + S + qtyId(cf.quantity));
    let pick = -1, best = 0n;
    if (g) {
      const lo = bound(cPrice[k]! - tol, false), hi = bound(cPrice[k]! + tol, true);
      let a = 0, b = g.length;
      while (a < b) { const m = (a + b) >> 1; if (g[m]!.rank < lo) a = m + 1; else b = m; }
      for (let j = a; j < g.length && g[j]!.rank < hi; j++) {
        const l = g[j]!;
        while (l.at < l.ids.length && !free[l.ids[l.at]!]) l.at++;
        if (l.at === l.ids.length) continue;
        const i = l.ids[l.at]!;
        const diff = levels[l.rank]! - cPrice[k]!;
        const dist = diff < 0n ? -diff : diff;
        if (pick < 0 || dist < best || (dist === best && i < pick)) { pick = i; best = dist; }
      }
    }
    if (pick < 0) { rest.push(k); continue; }
    free[pick] = 0;
    want.push({ conf: cf.id, trade: trades[pick]!.id, status: 'matched', differences: [] });
  }

  // 3. The same counterparty, date and security, differing on side, quantity or price: the free
  //    trade with the fewest differences, then the first. None differs on nothing (rule 2 would
  //    have taken it, and trades are only ever taken), so one difference is the best there is.
  if (rest.length) {
    const dates = new Map<string, number>();
    const dateId = (d: string) => { let id = dates.get(d); if (id === undefined) dates.set(d, (id = dates.size)); return id; };
    const tDate = Int32Array.from(trades, (t) => dateId(t.trade_date));
    const buckets = new Map<string, number[]>();
    trades.forEach((t, i) => {
      if (!free[i]) return;
      const key = t.counterparty + S + t.symbol;
      const b = buckets.get(key);
      if (b) b.push(i); else buckets.set(key, [i]);
    });
    for (const k of rest) {
      const cf = confs[k]!;
      const b = buckets.get(cf.counterparty + S + cf.symbol);
      let pick = -1, fewest = 99;
      if (b) {
        const lo = bound(cPrice[k]! - tol, false), hi = bound(cPrice[k]! + tol, true);
        const date = dateId(cf.trade_date), sell = cf.side === 'sell' ? 1 : 0, qty = qtyId(cf.quantity);
        // Taken trades are dropped from the bucket as it is scanned.
        let w = 0, j = 0;
        for (; j < b.length; j++) {
          const i = b[j]!;
          if (!free[i]) continue;
          b[w++] = i;
          const r = rank[i]!;
          const d = (tDate[i] !== date ? 1 : 0) + (tSell[i] !== sell ? 1 : 0) + (tQty[i] !== qty ? 1 : 0) + (r < lo || r >= hi ? 1 : 0);
          if (d < fewest) { fewest = d; pick = i; if (d === 1) { j++; break; } }
        }
        if (w < j) { b.copyWithin(w, j); b.length -= j - w; }
      }
      if (pick < 0) { want.push({ conf: cf.id, trade: null, status: 'unmatched', differences: [] }); continue; }
      free[pick] = 0;
      want.push({ conf: cf.id, trade: trades[pick]!.id, status: 'mismatched', differences: differences(trades[pick]!, cf, tolerance) });
    }
  }
  for (let i = 0; i < n; i++) if (free[i]) want.push({ conf: null, trade: trades[i]!.id, status: 'unmatched', differences: [] });
  return want;
}

/**
 * Import a confirmation CSV (see confirmations.ts for the format). All or nothing: any bad record
 * (or unknown counterparty) and nothing is written. Idempotent by (counterparty, conf_id): the same
 * record again is unchanged; a changed one is updated, unless it is already affirmed.
 * @throws DomainError CONFIRMATION_FILE_INVALID naming each bad record (line, field, rule);
 *   CONFIRMATION_CONFLICT (conflict) when an affirmed confirmation would change
 */
export async function importConfirmations(pool: Pool, text: string, file: string, ctx: Partial<SettlementCtx> = {}): Promise<ConfirmationImport> {
  const inputs = parseConfirmations(text, file);
  const { actor, clock } = ctxOf(ctx);
  const now = clock.now();
  return withTx(pool, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock($1)', [MATCHING_LOCK]);
    const known = new Set((await c.query<{ code: string }>('SELECT code FROM counterparties WHERE code = ANY($1)', [[...new Set(inputs.map((i) => i.counterparty))]])).rows.map((r) => r.code));
    const bad = inputs.filter((i) => !known.has(i.counterparty)).map((i) => {
      const record = `${file} line ${i.line} (${i.confId})`;
      return { record, field: 'counterparty', rule: 'UNKNOWN_COUNTERPARTY', message: `${record}: counterparty: "${i.counterparty}" is not a known counterparty` };
    });
    if (bad.length) throw err(ConfirmationCodes.FILE_INVALID, 'invalid', `${file}: ${bad.length} problem(s); nothing was applied. ${bad.slice(0, 5).map((d) => d.message).join('; ')}`, bad);
    const existing = await c.query<ConfRow>(`SELECT ${CONF_COLS} FROM confirmations c WHERE (c.counterparty, c.conf_id) IN (SELECT * FROM unnest($1::text[], $2::text[])) FOR UPDATE`,
      [inputs.map((i) => i.counterparty), inputs.map((i) => i.confId)]);
    const byKey = new Map(existing.rows.map((r) => [`${r.counterparty}\u0000${r.conf_id}`, r]));
    const result: ConfirmationImport = { file, received: inputs.length, created: 0, updated: 0, unchanged: 0 };
    const conflicts: DomainError['details'] = [];
    const writes: { id: string; i: ConfirmationInput }[] = [];
    for (const i of inputs) {
      const old = byKey.get(`${i.counterparty}\u0000${i.confId}`);
      if (!old) { result.created++; writes.push({ id: newId('cnf'), i }); continue; }
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
    if (fresh.length) {
      const tail = `\t${copyValue(file)}`, by = `\t${copyValue(now.toISOString())}\t${copyValue(actor)}`;
      let rows = '';
      for (const { id, i } of fresh) {
        const late = i.affirmedAt === null ? null : isLateAffirmation(i.tradeDate, new Date(i.affirmedAt));
        rows += copyValue(id) + '\t' + copyValue(i.counterparty) + '\t' + copyValue(i.confId) + '\t' + i.tradeDate + '\t' + copyValue(i.symbol) + '\t' + i.side + '\t' + i.quantity + '\t' + i.price
          + '\t' + copyValue(i.settleDate) + '\t' + copyValue(i.ourRef) + tail + '\t' + i.line + by + '\t' + copyValue(i.affirmedAt) + '\t' + copyValue(late)
          + '\t' + (i.affirmedAt === null ? '\\N' : copyValue(i.counterparty)) + '\n';
      }
      await copyInto(c, 'confirmations', ['id', 'counterparty', 'conf_id', 'trade_date', 'symbol', 'side', 'quantity', 'price', 'settle_date', 'our_ref', 'source_file', 'line',
        'received_at', 'received_by', 'affirmed_at', 'affirmed_late', 'affirmed_by'], rows);
    }
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
  return withTx(pool, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock($1)', [MATCHING_LOCK]);
    const confs = (await c.query<ConfRow>(`SELECT ${CONF_COLS} FROM confirmations c WHERE c.trade_date = $1
        AND NOT EXISTS (SELECT 1 FROM confirmation_matches m WHERE m.confirmation = c.id AND m.method = 'manual') ORDER BY c.counterparty COLLATE "C", c.conf_id COLLATE "C"`, [tradeDate])).rows;
    const trades = (await c.query<TradeRow>(`SELECT ${TRADE_COLS} FROM trades t WHERE t.trade_date = $1 AND t.status = 'booked'
        AND NOT EXISTS (SELECT 1 FROM confirmation_matches m WHERE m.trade_id = t.id AND m.method = 'manual') ORDER BY t.id COLLATE "C"`, [tradeDate])).rows;

    const want = pairConfirmations(confs, trades, priceTolerance);

    // Store: keep identical rows, remove stale ones (of this date, or holding a side this run decided), add new ones.
    const key = (r: { conf: string | null; trade: string | null; status: string; differences: unknown }) => canonicalJson([r.conf, r.trade, r.status, r.differences]);
    const stored = (await c.query<{ id: string; confirmation: string | null; trade_id: string | null; status: string; differences: Difference[] }>(
      `SELECT id, confirmation, trade_id, status, differences FROM confirmation_matches
        WHERE method = 'auto' AND (trade_date = $1 OR confirmation = ANY($2) OR trade_id = ANY($3)) ORDER BY id FOR UPDATE`,
      [tradeDate, confs.map((x) => x.id), trades.map((x) => x.id)])).rows;
    const wanted = new Set(want.map(key));
    const keep = new Set<string>();
    const stale: string[] = [];
    for (const s of stored) {
      const k = key({ conf: s.confirmation, trade: s.trade_id, status: s.status, differences: s.differences });
      if (wanted.has(k) && !keep.has(k)) keep.add(k); else stale.push(s.id);
    }
    if (stale.length) await c.query('DELETE FROM confirmation_matches WHERE id = ANY($1)', [stale]);
    const add = want.filter((w) => !keep.has(key(w)));
    const now = clock.now().toISOString();
    // One COPY for the lot (a round trip per row was most of a day's matching time).
    let rows = '';
    const fixed = `\t${tradeDate}\t`;
    const tail = `\tauto\t`;
    const by = `\t${copyValue(now)}\t${copyValue(actor)}\n`;
    for (const w of add) rows += newId('cmt') + fixed + copyValue(w.conf) + '\t' + copyValue(w.trade) + '\t' + w.status + tail + copyValue(JSON.stringify(w.differences)) + by;
    await copyInto(c, 'confirmation_matches', ['id', 'trade_date', 'confirmation', 'trade_id', 'status', 'method', 'differences', 'created_at', 'created_by'], rows);
    const changes = { created: add.length, unchanged: keep.size, removed: stale.length };
    if (options.withResults === false) return { tradeDate, priceTolerance, summary: await summaryOf(c, tradeDate), results: [], changes };
    const results = await readMatches(c, tradeDate);
    return { tradeDate, priceTolerance, summary: summarise(results), results, changes };
  });
}

/** The summary of the stored results of a date, counted in the database. */
async function summaryOf(c: Client, tradeDate: string): Promise<MatchRun['summary']> {
  const { rows } = await c.query<{ status: MatchStatus; conf: boolean; n: number }>(
    `SELECT status, confirmation IS NOT NULL AS conf, count(*)::int AS n FROM confirmation_matches WHERE trade_date = $1 GROUP BY 1, 2`, [tradeDate]);
  const n = (f: (r: (typeof rows)[number]) => boolean) => rows.filter(f).reduce((a, r) => a + r.n, 0);
  return {
    matched: n((r) => r.status === 'matched'), mismatched: n((r) => r.status === 'mismatched'),
    unmatchedConfirmations: n((r) => r.status === 'unmatched' && r.conf), unmatchedTrades: n((r) => r.status === 'unmatched' && !r.conf),
  };
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
