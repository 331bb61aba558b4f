import { copyInto, copyOutBuffer, copyRow, copyTextRows, sqlLiteral, withTx, type Client, type Pool } from '../db/index.js';
import { Dec, roundToMinor, type Dec as D } from '../kernel/index.js';

/** How a sale picks the lots it closes. */
export type ReliefMethod = 'fifo' | 'specific';

interface TradeForLots {
  id: string; side: 'buy' | 'sell' | 'short'; quantity: string; price: string; trade_date: string;
  gross: string; commission: string; sec_fee: string; finra_taf: string; scale: number; lot_selection: { lot: string; quantity: string }[] | null;
}

interface OpenLot { lotId: string; tradeId: string; openDate: string; quantity: D; remaining: D; unitCost: D; short: boolean }

/**
 * A change to tax lots without a trade (a corporate action), kept in `lot_events` and replayed in
 * date order whenever lots are recomputed, so that recomputation from the trades stays right:
 * - `split`: from `effectiveDate` on (before that day's trades), every open lot's quantity and
 *   remaining are multiplied by ratioNew/ratioOld and its unit cost divided by it: total cost and
 *   acquisition date kept. The account's total is rounded down to whole units of the security
 *   (its scale); the fraction leaves the newest lots first as a sale for cash in lieu (see
 *   {@link cashInLieu}), with realized P&L naming the event.
 * - `symbol_change`: the lots of `symbol` carry over to `newSymbol` (trades of both make one
 *   history, stored under the newest symbol).
 */
export interface LotEvent {
  id: string;
  kind: 'split' | 'symbol_change';
  symbol: string;
  newSymbol: string | null;
  effectiveDate: string;
  ratioNew: string | null;
  ratioOld: string | null;
  cashInLieuPrice: string | null;
}

/** A lot event with the scales its arithmetic needs: the security's (units) and its currency's (cash). */
export interface LotEventForLots extends LotEvent { scale: number; cashScale: number }

/**
 * Cash in lieu of a fraction of a share, in minor units of the currency: |fraction| x price,
 * rounded half-even to the currency's minor unit. One function for the ledger (corporate actions)
 * and for realized P&L (lots), so the two agree to the cent.
 */
export function cashInLieu(fraction: D | string, price: string, cashScale: number): bigint {
  return roundToMinor(new Dec(fraction).abs().mul(price), cashScale, 'half_even');
}

/** A split's new quantity of a holding: quantity x ratio, rounded toward zero to the security's scale. */
export function splitQuantity(quantity: D | string, ratioNew: string, ratioOld: string, scale: number): D {
  return new Dec(quantity).mul(ratioNew).div(ratioOld).toDecimalPlaces(scale, Dec.ROUND_DOWN);
}

interface Realized { sale: string | null; event: string | null; lotId: string; quantity: D; proceeds: D; cost: D; pnl: D; date: string }

/**
 * Tax lots and realized P&L of one (account, security), derived from its surviving trades in
 * trade order. Buys open long lots (cost = gross + commission, per unit); sales close lots FIFO,
 * or the lots a specific identification names; a sale beyond the long position opens a short lot,
 * which later buys cover first. Realized P&L = proceeds (gross - commission - fees) - cost of the
 * quantity closed, in the currency (decimal strings, exact).
 */
/** 10^scale, made once per scale (a `pow` per amount was a good part of recomputing lots). */
const POW10: D[] = [];
const pow10 = (scale: number): D => POW10[scale] ?? (POW10[scale] = new Dec(10).pow(scale));

export function computeLots(trades: TradeForLots[], events: LotEventForLots[] = []): { lots: OpenLot[]; realized: Realized[] } {
  // The lots in the order they opened; those before `head` are closed (a lot closed further on, by
  // a specific identification or cash in lieu, is skipped where it lies), so a trade looks at what
  // is open, not the account's whole history.
  let lots: OpenLot[] = [];
  let head = 0;
  const realized: Realized[] = [];
  const pending = [...events].sort((a, b) => (a.effectiveDate < b.effectiveDate ? -1 : a.effectiveDate > b.effectiveDate ? 1 : a.id < b.id ? -1 : 1));
  // Events of a date come before that date's trades (a split's effective date is its ex-date:
  // trades from then on are in new units).
  const eventsThrough = (date: string) => {
    while (pending.length && pending[0]!.effectiveDate <= date) applyEvent(pending.shift()!);
  };
  function applyEvent(e: LotEventForLots) {
    if (e.kind !== 'split' || !e.ratioNew || !e.ratioOld) return;
    const ratio = new Dec(e.ratioNew).div(e.ratioOld);
    for (const short of [false, true]) {
      const open = lots.filter((l) => l.short === short && l.remaining.gt(0));
      if (!open.length) continue;
      for (const l of open) {
        l.quantity = l.quantity.mul(ratio);
        l.remaining = l.remaining.mul(ratio);
        l.unitCost = l.unitCost.div(ratio);
      }
      const total = open.reduce((s, l) => s.add(l.remaining), new Dec(0));
      const fraction = total.sub(total.toDecimalPlaces(e.scale, Dec.ROUND_DOWN));
      if (fraction.lte(0)) continue;
      // The fraction is paid in cash: a sale out of the newest lots first.
      const cash = new Dec(e.cashInLieuPrice ? cashInLieu(fraction, e.cashInLieuPrice, e.cashScale).toString() : '0').div(pow10(e.cashScale));
      let left = fraction;
      for (const l of [...open].reverse()) {
        if (left.lte(0)) break;
        const take = Dec.min(l.remaining, left);
        l.remaining = l.remaining.sub(take);
        left = left.sub(take);
        const value = cash.mul(take).div(fraction);
        const proceeds = short ? l.unitCost.mul(take) : value;
        const cost = short ? value : l.unitCost.mul(take);
        realized.push({ sale: null, event: e.id, lotId: l.lotId, quantity: take, proceeds, cost, pnl: proceeds.sub(cost), date: e.effectiveDate });
      }
    }
  }
  // The trade being applied, what is left of it, and its amount per unit (see `close`, made once:
  // a function made per trade costs more than its work).
  let t: TradeForLots;
  let left: D;
  let perUnit: D;
  const close = (l: OpenLot, take: D) => {
    l.remaining = l.remaining.sub(take);
    left = left.sub(take);
    // Long lot closed by a sale: proceeds now, cost then. Short lot covered by a buy: the reverse.
    const proceeds = l.short ? l.unitCost.mul(take) : perUnit.mul(take);
    const cost = l.short ? perUnit.mul(take) : l.unitCost.mul(take);
    realized.push({ sale: t.id, event: null, lotId: l.lotId, quantity: take, proceeds, cost, pnl: proceeds.sub(cost), date: t.trade_date });
  };
  for (t of trades) {
    eventsThrough(t.trade_date);
    const qty = new Dec(t.quantity);
    const buy = t.side === 'buy';
    // Per unit: what a buy costs, what a sale brings in. The amounts are exact integers of minor
    // units, summed exactly, so one division gives the quotient that dividing each by 10^scale
    // first, summing and dividing by the quantity gives (correctly rounded to Dec's precision).
    const total = buy ? BigInt(t.gross) + BigInt(t.commission) : BigInt(t.gross) - BigInt(t.commission) - BigInt(t.sec_fee) - BigInt(t.finra_taf);
    perUnit = new Dec(total.toString()).div(pow10(t.scale).mul(qty));
    left = qty;
    // Close lots of the opposite direction first. The open lots all face one way (a trade closes
    // those facing the other way before it opens one of its own), so they are closable all or none:
    // a look at the oldest open lot tells which, instead of a pass over every open lot per trade.
    while (head < lots.length && !lots[head]!.remaining.gt(0)) head++;
    if (head < lots.length && lots[head]!.short === buy) {
      if (!buy && t.lot_selection?.length) {
        const closable = lots.slice(head).filter((l) => l.remaining.gt(0));
        const chosen = t.lot_selection.map((s) => ({ lot: closable.find((l) => l.lotId === s.lot), q: new Dec(s.quantity) })).filter((s) => s.lot);
        for (const s of chosen) {
          const take = Dec.min(s.q, s.lot!.remaining, left);
          if (take.lte(0)) continue;
          close(s.lot!, take);
        }
      }
      for (let j = head; j < lots.length; j++) {
        if (left.lte(0)) break;
        const l = lots[j]!;
        if (!l.remaining.gt(0)) continue;
        close(l, Dec.min(l.remaining, left));
      }
      while (head < lots.length && !lots[head]!.remaining.gt(0)) head++;
      // Closed lots leave the array now and then (a specific identification may close one behind an open one).
      if (head > 1024 && head * 2 > lots.length) { lots = lots.slice(head); head = 0; }
    }
    if (left.gt(0)) {
      lots.push({ lotId: `${t.id}`, tradeId: t.id, openDate: t.trade_date, quantity: left, remaining: left, unitCost: perUnit, short: !buy });
    }
  }
  eventsThrough('9999-12-31');
  return { lots: lots.filter((l) => l.remaining.gt(0)), realized };
}

const LOT_EVENT_COLUMNS = `e.id, e.kind, e.symbol, e.new_symbol, e.effective_date::text AS effective_date, e.ratio_new::text AS ratio_new,
  e.ratio_old::text AS ratio_old, e.cash_in_lieu_price::text AS cash_in_lieu_price`;

const toLotEvent = (r: Record<string, string | null>): LotEvent => ({
  id: r.id!, kind: r.kind as LotEvent['kind'], symbol: r.symbol!, newSymbol: r.new_symbol ?? null, effectiveDate: r.effective_date!,
  ratioNew: r.ratio_new ?? null, ratioOld: r.ratio_old ?? null, cashInLieuPrice: r.cash_in_lieu_price ?? null,
});

/** Lot events, with their scales; empty when no corporate action ever touched lots. */
async function loadLotEvents(c: Client | Pool): Promise<LotEventForLots[]> {
  const { rows } = await c.query(
    `SELECT ${LOT_EVENT_COLUMNS}, s.scale, a.scale AS cash_scale
       FROM lot_events e JOIN securities s ON s.symbol = e.symbol JOIN assets a ON a.code = s.currency
      ORDER BY e.effective_date, e.id`);
  return rows.map((r) => ({ ...toLotEvent(r), scale: r.scale, cashScale: r.cash_scale }));
}

/**
 * Recorded lot events (the splits and symbol changes applied to the books), oldest first (effective
 * date, then id): those whose id is one of `ids` and whose symbol (the one the event acted on) is
 * one of `symbols`; a filter left out does not filter. The event's id is its corporate action's.
 */
export async function listLotEvents(c: Client | Pool, q: { ids?: readonly string[]; symbols?: readonly string[] } = {}): Promise<LotEvent[]> {
  const { rows } = await c.query(
    `SELECT ${LOT_EVENT_COLUMNS} FROM lot_events e
      WHERE ($1::text[] IS NULL OR e.id = ANY($1)) AND ($2::text[] IS NULL OR e.symbol = ANY($2))
      ORDER BY e.effective_date, e.id`, [q.ids ?? null, q.symbols ?? null]);
  return rows.map(toLotEvent);
}

/**
 * Symbols that are one instrument through symbol changes: `final` maps a symbol to the one it is
 * known by now, `lineage` a current symbol to every symbol it was known by.
 */
function lineages(events: LotEvent[]) {
  const next = new Map<string, string>();
  for (const e of events) if (e.kind === 'symbol_change' && e.newSymbol) next.set(e.symbol, e.newSymbol);
  const final = (s: string) => {
    const seen = new Set<string>();
    let cur = s;
    while (next.has(cur) && !seen.has(cur)) { seen.add(cur); cur = next.get(cur)!; }
    return cur;
  };
  const lineage = (current: string) => {
    const out = new Set([current]);
    for (const k of next.keys()) if (final(k) === current) out.add(k);
    return [...out];
  };
  return { final, lineage };
}

/** Serialises recomputations of lots (advisory lock key). */
const LOTS_LOCK = 7243030;

/**
 * Recompute lots and realized P&L of these (account, symbol) pairs from their booked trades, with
 * the lot events (splits, symbol changes) replayed in date order. A symbol changed since is
 * recomputed as the instrument it became: lots under the current symbol, realized P&L under the
 * symbol of the sale.
 */
/**
 * Mark (account, symbol) pairs as waiting for their lots to be recomputed, in the transaction that
 * books their trades (see migration 0021): {@link recomputePendingLots} does it after the commit.
 */
export async function markLotsPending(c: Client, pairs: Iterable<string>, at: string): Promise<void> {
  const accounts: string[] = [], symbols: string[] = [];
  for (const k of new Set(pairs)) { const [a, s] = k.split('\u0000') as [string, string]; accounts.push(a); symbols.push(s); }
  if (!accounts.length) return;
  // Sorted, so two writers lock the rows in the same order.
  await c.query(`INSERT INTO lots_pending (account, symbol, since)
    SELECT a, s, $3 FROM unnest($1::text[], $2::text[]) AS p(a, s) ORDER BY a, s
    ON CONFLICT (account, symbol) DO UPDATE SET since = lots_pending.since`, [accounts, symbols, at]);
}

/**
 * Recompute the lots of every pair waiting for it (booked by this process or left by one that
 * stopped before it got there), a batch of pairs per transaction. Returns the number of pairs.
 */
export async function recomputePendingLots(pool: Pool, batch = 500): Promise<number> {
  let done = 0;
  for (;;) {
    const n = await withTx(pool, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [LOTS_LOCK]);
      // Taken before the trades are read: a writer still holding a pair's row is waited for.
      const { rows } = await c.query<{ account: string; symbol: string }>(
        `DELETE FROM lots_pending WHERE (account, symbol) IN (SELECT account, symbol FROM lots_pending ORDER BY account, symbol LIMIT $1)
         RETURNING account, symbol`, [batch]);
      if (rows.length) await recomputeLots(c, rows.map((r) => [r.account, r.symbol] as [string, string]));
      return rows.length;
    });
    done += n;
    if (n < batch) return done;
  }
}

/**
 * The lots and realized P&L of positions as COPY text, from their surviving trades (COPY text of
 * the recomputation's query, in trade order per account) and the lot events: pure, so that it can
 * run in a worker thread (lots-worker.ts).
 */
export function lotRows(text: Buffer | Uint8Array, events: LotEventForLots[]): { L: string; R: string } {
  const { final, lineage } = lineages(events);
  const by = new Map<string, (TradeForLots & { symbol: string })[]>();
  for (const f of copyTextRows(Buffer.isBuffer(text) ? text : Buffer.from(text.buffer, text.byteOffset, text.byteLength))) {
    const r: TradeForLots & { symbol: string } = {
      symbol: f[1]!, id: f[2]!, side: f[3] as TradeForLots['side'], quantity: f[4]!, price: f[5]!, trade_date: f[6]!, gross: f[7]!, commission: f[8]!,
      sec_fee: f[9]!, finra_taf: f[10]!, lot_selection: f[11] === null ? null : JSON.parse(f[11]!), scale: Number(f[12]),
    };
    const k = `${f[0]}\u0000${final(r.symbol)}`;
    const list = by.get(k);
    if (list) list.push(r); else by.set(k, [r]);
  }
  const eventSymbol = new Map(events.map((e) => [e.id, e.symbol]));
  // Written by COPY: a recomputation after a day's booking writes a row per open lot and per sale.
  let L = '', R = '';
  for (const [k, trades] of by) {
    const [account, symbol] = k.split('\u0000') as [string, string];
    const family = new Set(lineage(symbol));
    const { lots, realized } = computeLots(trades, events.filter((e) => family.has(e.symbol)));
    const scale = trades[0]!.scale;
    const symbolOf = new Map(trades.map((t) => [t.id, t.symbol]));
    for (const l of lots) {
      const sign = l.short ? '-' : '';
      L += copyRow([account, symbol, l.lotId, l.tradeId, l.openDate, sign + l.quantity.toFixed(), sign + l.remaining.toFixed(), l.unitCost.toDecimalPlaces(10).toFixed()]);
    }
    for (const r of realized) {
      const sym = (r.sale ? symbolOf.get(r.sale) : eventSymbol.get(r.event!)) ?? symbol;
      R += copyRow([account, sym, r.sale, r.lotId, r.quantity.toFixed(), r.proceeds.toFixed(scale), r.cost.toFixed(scale), r.proceeds.toDecimalPlaces(scale).sub(r.cost.toDecimalPlaces(scale)).toFixed(scale), r.date, r.event]);
    }
  }
  return { L, R };
}

/** The URL of tsx's ES module API (its `import` export; its CommonJS twin cannot register from a worker), found once. */
let tsxApi: Promise<string> | undefined;
const tsxEsmApi = (): Promise<string> => (tsxApi ??= findTsxEsmApi());
async function findTsxEsmApi(): Promise<string> {
  const { createRequire } = await import('node:module');
  const { pathToFileURL } = await import('node:url');
  const path = await import('node:path');
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('tsx/package.json');
  const exports = (require(pkg) as { exports: Record<string, { import: { default: string } }> }).exports;
  return pathToFileURL(path.join(path.dirname(pkg), exports['./esm/api']!.import.default)).href;
}

/**
 * Fewer bytes of trades than this (about 200,000 trades) are computed in the thread that read
 * them: a worker costs about 0.6 s to start (1 s of CPU: tsx and the modules loaded afresh),
 * small only beside a computation of several seconds.
 */
const WORKER_FROM_BYTES = 16 << 20;

/**
 * lotRows in a worker thread (one per recomputation: it computes on the second core while this
 * thread goes on), or here. The worker loads TypeScript through tsx as the program does.
 * @param testing.worker FOR TESTS: 'always' or 'never', whatever the size
 */
export async function lotRowsAnywhere(text: Buffer, events: LotEventForLots[], testing: { worker?: 'always' | 'never' } = {}): Promise<{ L: string; R: string; where: 'worker' | 'here' }> {
  const use = testing.worker === 'always' || (testing.worker !== 'never' && text.length >= WORKER_FROM_BYTES);
  if (!use) return { ...lotRows(text, events), where: 'here' };
  let worker: import('node:worker_threads').Worker | undefined;
  try {
    const { Worker } = await import('node:worker_threads');
    const module = new URL('./lots-worker.ts', import.meta.url).href;
    worker = new Worker(`import(${JSON.stringify(await tsxEsmApi())}).then((t) => { t.register(); return import(${JSON.stringify(module)}); })`, { eval: true });
    const w = worker;
    const result = new Promise<{ L: string; R: string }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
      w.once('exit', (code) => reject(new Error(`lots worker stopped (exit code ${code})`)));
    });
    w.postMessage({ text, events });
    return { ...(await result), where: 'worker' };
  } catch (e) {
    if (process.env.BO_LOTS_DEBUG) console.error('lots worker:', e);
    // No worker to be had (or it failed): the same computation here.
    return { ...lotRows(text, events), where: 'here' };
  } finally {
    void worker?.terminate();
  }
}

export async function recomputeLots(c: Client, pairs: [string, string][]): Promise<void> {
  if (!pairs.length) return;
  // One recomputation at a time: two at once (two imports touching the same account and security)
  // would each delete the lots and insert them again, and the second insert would collide.
  await c.query('SELECT pg_advisory_xact_lock($1)', [LOTS_LOCK]);
  const events = await loadLotEvents(c);
  const { final, lineage } = lineages(events);
  // Every symbol of each pair's instrument, and the instrument each symbol belongs to.
  const expanded = new Map<string, [string, string]>();
  for (const [a, s] of pairs) for (const x of lineage(final(s))) expanded.set(`${a}\u0000${x}`, [a, x]);
  const accounts = [...expanded.values()].map((p) => p[0]);
  const symbols = [...expanded.values()].map((p) => p[1]);
  // Read by COPY (a day's recomputation reads every trade of the day's positions: a million rows
  // of objects from a query cost several times more), the pairs given as array literals.
  const array = (xs: string[]) => `ARRAY[${xs.map(sqlLiteral).join(',')}]::text[]`;
  const text = await copyOutBuffer(c,
    `SELECT t.account, t.symbol, t.id, t.side, t.quantity, t.price, t.trade_date, t.gross, t.commission, t.sec_fee, t.finra_taf, t.lot_selection, s.scale
       FROM trades t JOIN unnest(${array(accounts)}, ${array(symbols)}) AS p(a, s2) ON t.account = p.a AND t.symbol = p.s2
       JOIN assets s ON s.code = t.currency
      WHERE t.status = 'booked' ORDER BY t.account, t.trade_date, t.fifo_seq`);
  // Computed on the other core (a worker thread) while the old rows are deleted; here when no
  // worker can be had, or for a few trades.
  const computed = lotRowsAnywhere(text, events);
  computed.catch(() => undefined);
  await c.query('DELETE FROM realized_pnl WHERE (account, symbol) IN (SELECT * FROM unnest($1::text[], $2::text[]))', [accounts, symbols]);
  await c.query('DELETE FROM lots WHERE (account, symbol) IN (SELECT * FROM unnest($1::text[], $2::text[]))', [accounts, symbols]);
  const { L, R } = await computed;
  if (L) await copyInto(c, 'lots', ['account', 'symbol', 'lot_id', 'trade_id', 'open_date', 'quantity', 'remaining', 'unit_cost'], L);
  if (R) await copyInto(c, 'realized_pnl', ['account', 'symbol', 'sale_trade', 'lot_id', 'quantity', 'proceeds', 'cost', 'pnl', 'trade_date', 'lot_event'], R);
}

/**
 * Record a lot event (once: its id is the corporate action's) and recompute the lots of every
 * account that traded the instrument, in the caller's transaction.
 * @returns the accounts whose lots were recomputed
 */
export async function applyLotEvent(c: Client, e: LotEvent, at: Date): Promise<string[]> {
  await c.query(
    `INSERT INTO lot_events (id, kind, symbol, new_symbol, effective_date, ratio_new, ratio_old, cash_in_lieu_price, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
    [e.id, e.kind, e.symbol, e.newSymbol, e.effectiveDate, e.ratioNew, e.ratioOld, e.cashInLieuPrice, at.toISOString()]);
  const { final, lineage } = lineages(await loadLotEvents(c));
  const family = lineage(final(e.newSymbol ?? e.symbol));
  const { rows } = await c.query<{ account: string }>(
    "SELECT DISTINCT account FROM trades WHERE symbol = ANY($1) AND status = 'booked' ORDER BY account", [family]);
  const target = final(e.newSymbol ?? e.symbol);
  await recomputeLots(c, rows.map((r) => [r.account, target] as [string, string]));
  return rows.map((r) => r.account);
}

export interface Lot { lotId: string; tradeId: string; openDate: string; quantity: string; remaining: string; unitCost: string }

/** Open lots of an account (optionally one security), oldest first. */
export async function listLots(pool: Pool | Client, account: string, symbol?: string): Promise<(Lot & { symbol: string })[]> {
  const { rows } = await pool.query(
    `SELECT symbol, lot_id, trade_id, open_date, quantity, remaining, unit_cost FROM lots
      WHERE account = $1 AND ($2::text IS NULL OR symbol = $2) ORDER BY symbol, open_date, lot_id`, [account, symbol ?? null]);
  return rows.map((r) => ({ symbol: r.symbol, lotId: r.lot_id, tradeId: r.trade_id, openDate: r.open_date, quantity: r.quantity, remaining: r.remaining, unitCost: r.unit_cost }));
}

/** Realized P&L of an account, per sale and lot. */
export async function listRealized(pool: Pool | Client, account: string, symbol?: string) {
  const { rows } = await pool.query(
    `SELECT symbol, sale_trade, lot_event, lot_id, quantity, proceeds, cost, pnl, trade_date FROM realized_pnl
      WHERE account = $1 AND ($2::text IS NULL OR symbol = $2) ORDER BY trade_date, coalesce(sale_trade, lot_event), lot_id`, [account, symbol ?? null]);
  // A fraction paid in cash by a corporate action has no sale trade: saleTrade names the action.
  return rows.map((r) => ({ symbol: r.symbol, saleTrade: (r.sale_trade ?? r.lot_event) as string, corporateAction: r.lot_event as string | null, lotId: r.lot_id, quantity: r.quantity, proceeds: r.proceeds, cost: r.cost, pnl: r.pnl, tradeDate: r.trade_date }));
}
