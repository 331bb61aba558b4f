import type { Client, Pool } from '../db/index.js';
import { Dec, fromMinor, notFound, parseDate, type Clock } from '../kernel/index.js';
import { bookExecutions, type ImportResult } from './booking.js';
import { executionRecords, readExecutions, type ExecFormat } from './ingest.js';
import { computeLots, recomputeLots } from './lots.js';
import { withTx } from '../db/index.js';
import { invalid } from '../kernel/index.js';

export interface Trade {
  id: string; source: string; execId: string; orderId: string | null; account: string; symbol: string; side: string;
  quantity: string; price: string; currency: string; tradeDate: string; settleDate: string; settleProvisional: boolean;
  counterparty: string; gross: string; commission: string; secFee: string; finraTaf: string; net: string;
  status: string; entryId: string; reversalEntryId: string | null; replaces: string | null;
}

export interface TradeQuery { date?: string; from?: string; to?: string; account?: string; symbol?: string; side?: string; status?: string; limit?: number }

/** Trades, newest first, filtered. */
export async function listTrades(pool: Pool | Client, q: TradeQuery = {}): Promise<Trade[]> {
  const { rows } = await pool.query(
    `SELECT t.*, s.scale FROM trades t JOIN assets s ON s.code = t.currency
      WHERE ($1::date IS NULL OR t.trade_date = $1) AND ($2::date IS NULL OR t.trade_date >= $2) AND ($3::date IS NULL OR t.trade_date <= $3)
        AND ($4::text IS NULL OR t.account = $4) AND ($5::text IS NULL OR t.symbol = $5) AND ($6::text IS NULL OR t.side = $6) AND ($7::text IS NULL OR t.status = $7)
      ORDER BY t.trade_date DESC, t.booked_at DESC, t.id DESC LIMIT $8`,
    [q.date ? parseDate(q.date, 'date') : null, q.from ?? null, q.to ?? null, q.account ?? null, q.symbol ?? null, q.side ?? null, q.status ?? null, Math.min(q.limit ?? 10000, 100000)]);
  return rows.map((r) => ({
    id: r.id, source: r.source, execId: r.exec_id, orderId: r.order_id, account: r.account, symbol: r.symbol, side: r.side,
    quantity: r.quantity, price: r.price, currency: r.currency, tradeDate: r.trade_date, settleDate: r.settle_date, settleProvisional: r.settle_provisional,
    counterparty: r.counterparty, gross: fromMinor(BigInt(r.gross), r.scale), commission: fromMinor(BigInt(r.commission), r.scale),
    secFee: fromMinor(BigInt(r.sec_fee), r.scale), finraTaf: fromMinor(BigInt(r.finra_taf), r.scale), net: fromMinor(BigInt(r.net), r.scale),
    status: r.status, entryId: r.entry_id, reversalEntryId: r.reversal_entry_id, replaces: r.replaces,
  }));
}

export interface QuarantinedRecord { id: string; source: string; record: string; format: string; raw: string; reason: string; field: string | null; rule: string | null; status: string; receivedAt: string }

export async function listQuarantine(pool: Pool | Client, status = 'open'): Promise<QuarantinedRecord[]> {
  const { rows } = await pool.query('SELECT * FROM quarantine WHERE status = $1 ORDER BY received_at, id', [status]);
  return rows.map((r) => ({ id: r.id, source: r.source, record: r.record, format: r.format, raw: r.raw, reason: r.reason, field: r.field, rule: r.rule, status: r.status, receivedAt: r.received_at }));
}

/** Import an executions file: parse, book what can be booked, quarantine the rest. */
export async function importExecutions(pool: Pool, text: string, ctx: { actor: string; clock: Clock }, opts: { format?: ExecFormat; source?: string; onProgress?: (done: number, total: number) => void; lots?: 'now' | 'later' } = {}): Promise<ImportResult> {
  // Read as booked, a chunk at a time (a day's file is not held as a million records).
  const { records, count } = executionRecords(text, opts.format, opts.source);
  return bookExecutions(pool, records, ctx, { onProgress: (d) => opts.onProgress?.(d, count), lots: opts.lots });
}

/**
 * Retry a quarantined record, as it was or with a corrected raw text (the same format). If it
 * books (or is found already booked), the quarantined record is resolved; if it fails again, it
 * stays open and a new reason is recorded.
 * @throws DomainError QUARANTINE_NOT_FOUND
 */
export async function retryQuarantined(pool: Pool, id: string, ctx: { actor: string; clock: Clock }, correctedRaw?: string): Promise<ImportResult & { resolved: boolean }> {
  const { rows } = await pool.query('SELECT * FROM quarantine WHERE id = $1 AND status = $2', [id, 'open']);
  const q = rows[0];
  if (!q) throw notFound('QUARANTINE_NOT_FOUND', `quarantined record ${id} does not exist or is not open`);
  // A CSV record is kept as its header line and its row; a correction may give the row alone.
  const header = q.format === 'csv' ? String(q.raw).split('\n')[0]! : '';
  const raw = correctedRaw === undefined ? q.raw : q.format === 'csv' && !correctedRaw.startsWith(header) ? `${header}\n${correctedRaw}` : correctedRaw;
  const text = raw;
  const result = await bookExecutions(pool, readExecutions(text, q.format, q.source), ctx);
  const resolved = result.quarantined.length === 0;
  // Failed again: the new attempt is quarantined under its own id; this one stays open, its reason updated.
  await withTx(pool, async (c) => {
    if (resolved) await c.query("UPDATE quarantine SET status = 'resolved', resolved_at = $2 WHERE id = $1", [id, ctx.clock.now().toISOString()]);
    else {
      await c.query('UPDATE quarantine SET reason = $2, raw = $3 WHERE id = $1', [id, result.quarantined[0]!.reason, raw]);
      await c.query('DELETE FROM quarantine WHERE id = ANY($1)', [result.quarantined.map((x) => x.id)]);
    }
  });
  return { ...result, quarantined: resolved ? [] : [{ ...result.quarantined[0]!, id }], resolved };
}

/**
 * Specific identification: the lots a sale closes, instead of FIFO. Lots and realized P&L of the
 * account and security are recomputed.
 * @throws DomainError TRADE_NOT_FOUND, LOT_SELECTION_INVALID
 */
export async function selectLots(pool: Pool, tradeId: string, selection: { lot: string; quantity: string }[]): Promise<void> {
  await withTx(pool, async (c) => {
    const { rows } = await c.query("SELECT account, symbol, side, quantity, trade_date, fifo_seq FROM trades WHERE id = $1 AND status = 'booked' FOR UPDATE", [tradeId]);
    const t = rows[0];
    if (!t) throw notFound('TRADE_NOT_FOUND', `trade ${tradeId} does not exist or is not booked`);
    if (t.side === 'buy') throw invalid('LOT_SELECTION_INVALID', `trade ${tradeId} is a buy: only sales close lots`);
    // The lots open just before this sale, in the order the books relieve them.
    const before = await c.query(
      `SELECT t.id, t.side, t.quantity, t.price, t.trade_date, t.gross, t.commission, t.sec_fee, t.finra_taf, t.lot_selection, s.scale
         FROM trades t JOIN assets s ON s.code = t.currency
        WHERE t.account = $1 AND t.symbol = $2 AND t.status = 'booked' AND (t.trade_date, t.fifo_seq) < ($3::date, $4::bigint)
        ORDER BY t.trade_date, t.fifo_seq`, [t.account, t.symbol, t.trade_date, t.fifo_seq]);
    const open = new Map(computeLots(before.rows).lots.filter((l) => !l.short).map((l) => [l.lotId, l.remaining]));
    let total = new Dec(0);
    const seen = new Set<string>();
    for (const s of selection) {
      if (!/^\d+(\.\d+)?$/.test(s.quantity) || new Dec(s.quantity).lte(0)) throw invalid('LOT_SELECTION_INVALID', `lot ${s.lot}: quantity "${s.quantity}" must be a positive decimal`);
      if (seen.has(s.lot)) throw invalid('LOT_SELECTION_INVALID', `lot ${s.lot} is named twice`);
      seen.add(s.lot);
      const remaining = open.get(s.lot);
      if (remaining === undefined) throw invalid('LOT_SELECTION_INVALID', `lot ${s.lot} is not an open lot of ${t.symbol} in account ${t.account} at the time of sale ${tradeId}`);
      if (remaining.lt(s.quantity)) throw invalid('LOT_SELECTION_INVALID', `lot ${s.lot} holds ${remaining.toFixed()} at the time of the sale, not ${s.quantity}`);
      total = total.add(s.quantity);
    }
    if (total.gt(t.quantity)) throw invalid('LOT_SELECTION_INVALID', `the selection closes ${total.toFixed()}, more than the sale's ${new Dec(t.quantity).toFixed()}`);
    await c.query('UPDATE trades SET lot_selection = $2 WHERE id = $1', [tradeId, JSON.stringify(selection)]);
    await recomputeLots(c, [[t.account, t.symbol]]);
  });
}
