import type { Client, Pool } from '../db/index.js';
import { Dec, type Dec as D } from '../kernel/index.js';

/** How a sale picks the lots it closes. */
export type ReliefMethod = 'fifo' | 'specific';

interface TradeForLots {
  id: string; side: 'buy' | 'sell' | 'short'; quantity: string; price: string; trade_date: string;
  gross: string; commission: string; sec_fee: string; finra_taf: string; scale: number; lot_selection: { lot: string; quantity: string }[] | null;
}

interface OpenLot { lotId: string; tradeId: string; openDate: string; quantity: D; remaining: D; unitCost: D; short: boolean }

/**
 * Tax lots and realized P&L of one (account, security), derived from its surviving trades in
 * trade order. Buys open long lots (cost = gross + commission, per unit); sales close lots FIFO,
 * or the lots a specific identification names; a sale beyond the long position opens a short lot,
 * which later buys cover first. Realized P&L = proceeds (gross - commission - fees) - cost of the
 * quantity closed, in the currency (decimal strings, exact).
 */
export function computeLots(trades: TradeForLots[]): { lots: OpenLot[]; realized: { sale: string; lotId: string; quantity: D; proceeds: D; cost: D; pnl: D; date: string }[] } {
  const lots: OpenLot[] = [];
  const realized: { sale: string; lotId: string; quantity: D; proceeds: D; cost: D; pnl: D; date: string }[] = [];
  for (const t of trades) {
    const unit = (v: string) => new Dec(v).div(new Dec(10).pow(t.scale));
    const qty = new Dec(t.quantity);
    const buy = t.side === 'buy';
    // Per unit: what a buy costs, what a sale brings in.
    const perUnit = buy ? unit(t.gross).add(unit(t.commission)).div(qty) : unit(t.gross).sub(unit(t.commission)).sub(unit(t.sec_fee)).sub(unit(t.finra_taf)).div(qty);
    let left = qty;
    // Close lots of the opposite direction first.
    const closable = lots.filter((l) => l.short === buy && l.remaining.gt(0));
    let order = closable;
    if (!buy && t.lot_selection?.length) {
      const chosen = t.lot_selection.map((s) => ({ lot: closable.find((l) => l.lotId === s.lot), q: new Dec(s.quantity) })).filter((s) => s.lot);
      for (const s of chosen) {
        const take = Dec.min(s.q, s.lot!.remaining, left);
        if (take.lte(0)) continue;
        close(s.lot!, take);
      }
      order = closable.filter((l) => l.remaining.gt(0));
    }
    for (const l of order) {
      if (left.lte(0)) break;
      const take = Dec.min(l.remaining, left);
      close(l, take);
    }
    if (left.gt(0)) {
      lots.push({ lotId: `${t.id}`, tradeId: t.id, openDate: t.trade_date, quantity: left, remaining: left, unitCost: perUnit, short: !buy });
    }
    function close(l: OpenLot, take: D) {
      l.remaining = l.remaining.sub(take);
      left = left.sub(take);
      // Long lot closed by a sale: proceeds now, cost then. Short lot covered by a buy: the reverse.
      const proceeds = l.short ? l.unitCost.mul(take) : perUnit.mul(take);
      const cost = l.short ? perUnit.mul(take) : l.unitCost.mul(take);
      realized.push({ sale: t.id, lotId: l.lotId, quantity: take, proceeds, cost, pnl: proceeds.sub(cost), date: t.trade_date });
    }
  }
  return { lots: lots.filter((l) => l.remaining.gt(0)), realized };
}

/** Recompute lots and realized P&L of these (account, symbol) pairs from their booked trades. */
export async function recomputeLots(c: Client, pairs: [string, string][]): Promise<void> {
  if (!pairs.length) return;
  const accounts = pairs.map((p) => p[0]);
  const symbols = pairs.map((p) => p[1]);
  const { rows } = await c.query(
    `SELECT t.account, t.symbol, t.id, t.side, t.quantity, t.price, t.trade_date, t.gross, t.commission, t.sec_fee, t.finra_taf, t.lot_selection, s.scale
       FROM trades t JOIN unnest($1::text[], $2::text[]) AS p(a, s2) ON t.account = p.a AND t.symbol = p.s2
       JOIN assets s ON s.code = t.currency
      WHERE t.status = 'booked' ORDER BY t.account, t.symbol, t.trade_date, t.fifo_seq`, [accounts, symbols]);
  const by = new Map<string, TradeForLots[]>();
  for (const r of rows) {
    const k = `${r.account}\u0000${r.symbol}`;
    const list = by.get(k) ?? [];
    list.push(r);
    by.set(k, list);
  }
  await c.query('DELETE FROM lots WHERE (account, symbol) IN (SELECT * FROM unnest($1::text[], $2::text[]))', [accounts, symbols]);
  await c.query('DELETE FROM realized_pnl WHERE (account, symbol) IN (SELECT * FROM unnest($1::text[], $2::text[]))', [accounts, symbols]);
  const L: string[][] = [[], [], [], [], [], [], [], []];
  const R: string[][] = [[], [], [], [], [], [], [], [], []];
  for (const [k, trades] of by) {
    const [account, symbol] = k.split('\u0000') as [string, string];
    const { lots, realized } = computeLots(trades);
    const scale = trades[0]!.scale;
    for (const l of lots) {
      const sign = l.short ? '-' : '';
      [account, symbol, l.lotId, l.tradeId, l.openDate, sign + l.quantity.toFixed(), sign + l.remaining.toFixed(), l.unitCost.toDecimalPlaces(10).toFixed()].forEach((v, i) => L[i]!.push(v));
    }
    for (const r of realized) {
      [account, symbol, r.sale, r.lotId, r.quantity.toFixed(), r.proceeds.toFixed(scale), r.cost.toFixed(scale), r.proceeds.toDecimalPlaces(scale).sub(r.cost.toDecimalPlaces(scale)).toFixed(scale), r.date].forEach((v, i) => R[i]!.push(v));
    }
  }
  if (L[0]!.length) {
    await c.query(`INSERT INTO lots (account, symbol, lot_id, trade_id, open_date, quantity, remaining, unit_cost)
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[], $6::numeric[], $7::numeric[], $8::numeric[])`, L);
  }
  if (R[0]!.length) {
    await c.query(`INSERT INTO realized_pnl (account, symbol, sale_trade, lot_id, quantity, proceeds, cost, pnl, trade_date)
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::numeric[], $7::numeric[], $8::numeric[], $9::date[])`, R);
  }
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
    `SELECT symbol, sale_trade, lot_id, quantity, proceeds, cost, pnl, trade_date FROM realized_pnl
      WHERE account = $1 AND ($2::text IS NULL OR symbol = $2) ORDER BY trade_date, sale_trade, lot_id`, [account, symbol ?? null]);
  return rows.map((r) => ({ symbol: r.symbol, saleTrade: r.sale_trade, lotId: r.lot_id, quantity: r.quantity, proceeds: r.proceeds, cost: r.cost, pnl: r.pnl, tradeDate: r.trade_date }));
}
