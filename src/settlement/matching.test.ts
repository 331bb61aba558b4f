/**
 * The pairing engine of confirmation matching against the rules as first written (a scan of the
 * trades per confirmation, kept here as the oracle): the same pairs, statuses and differences,
 * in the same order, on generated days with repeated quantities and prices, echoed references,
 * equal decimals written differently and prices at and around the tolerance.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Dec } from '../kernel/index.js';
import { pairConfirmations, type ConfRow, type TradeRow } from './matching.js';

const streetSide = (s: string) => (s === 'buy' ? 'buy' : 'sell');
const decEq = (a: string, b: string) => new Dec(a).eq(new Dec(b));

function differences(t: TradeRow, c: ConfRow, tolerance: Dec) {
  const d: { field: string; ours: string; theirs: string }[] = [];
  if (t.counterparty !== c.counterparty) d.push({ field: 'counterparty', ours: t.counterparty, theirs: c.counterparty });
  if (t.trade_date !== c.trade_date) d.push({ field: 'trade_date', ours: t.trade_date, theirs: c.trade_date });
  if (t.symbol !== c.symbol) d.push({ field: 'symbol', ours: t.symbol, theirs: c.symbol });
  if (streetSide(t.side) !== c.side) d.push({ field: 'side', ours: t.side, theirs: c.side });
  if (!decEq(t.quantity, c.quantity)) d.push({ field: 'quantity', ours: t.quantity, theirs: c.quantity });
  if (new Dec(t.price).minus(new Dec(c.price)).abs().gt(tolerance)) d.push({ field: 'price', ours: t.price, theirs: c.price });
  return d;
}

/** The rules as a scan per confirmation (the original implementation). */
function oracle(confs: ConfRow[], trades: TradeRow[], priceTolerance: string) {
  const tolerance = new Dec(priceTolerance);
  const want: { conf: string | null; trade: string | null; status: string; differences: unknown[] }[] = [];
  const free = new Set(trades.map((t) => t.id));
  const pending: ConfRow[] = [];
  for (const cf of confs) {
    const t = cf.our_ref ? trades.find((x) => free.has(x.id) && (x.id === cf.our_ref || x.exec_id === cf.our_ref)) : undefined;
    if (!t) { pending.push(cf); continue; }
    free.delete(t.id);
    const d = differences(t, cf, tolerance);
    want.push({ conf: cf.id, trade: t.id, status: d.length ? 'mismatched' : 'matched', differences: d });
  }
  const rest: ConfRow[] = [];
  for (const cf of pending) {
    const cands = trades.filter((t) => free.has(t.id) && differences(t, cf, tolerance).length === 0);
    cands.sort((a, b) => new Dec(a.price).minus(cf.price).abs().comparedTo(new Dec(b.price).minus(cf.price).abs()) || (a.id < b.id ? -1 : 1));
    const t = cands[0];
    if (!t) { rest.push(cf); continue; }
    free.delete(t.id);
    want.push({ conf: cf.id, trade: t.id, status: 'matched', differences: [] });
  }
  for (const cf of rest) {
    const cands = trades.filter((t) => free.has(t.id) && t.counterparty === cf.counterparty && t.symbol === cf.symbol)
      .map((t) => ({ t, d: differences(t, cf, tolerance) }))
      .sort((a, b) => a.d.length - b.d.length || (a.t.id < b.t.id ? -1 : 1));
    const best = cands[0];
    if (!best) { want.push({ conf: cf.id, trade: null, status: 'unmatched', differences: [] }); continue; }
    free.delete(best.t.id);
    want.push({ conf: cf.id, trade: best.t.id, status: 'mismatched', differences: best.d });
  }
  for (const t of trades) if (free.has(t.id)) want.push({ conf: null, trade: t.id, status: 'unmatched', differences: [] });
  return want;
}

const D = '2026-03-09';

/** Days drawn from small pools (the narrower, the more ties and collisions). */
function day(wide: boolean) {
  const pick = <T>(all: T[], few: T[]) => fc.constantFrom(...(wide ? all : few));
  const qty = pick(['100', '100.0', '50', '200', '1.5', '1.50', '7'], ['100', '100.0', '7']);
  const price = pick(['10', '10.00', '10.00005', '10.0001', '9.9999', '10.0002', '10.5', '11', '9.99995'], ['10', '9.9999', '10.0001', '10.00005', '9.99995']);
  const trade = fc.record({
    cpty: pick(['GSCO', 'NSCC'], ['GSCO']), sym: pick(['AAPL', 'MSFT', 'IBM'], ['AAPL', 'MSFT']),
    side: fc.constantFrom('buy', 'sell', 'short') as fc.Arbitrary<TradeRow['side']>, qty, price, date: pick([D, D, D, '2026-03-06'], [D]),
  });
  const conf = fc.record({
    cpty: pick(['GSCO', 'NSCC'], ['GSCO']), sym: pick(['AAPL', 'MSFT', 'IBM', 'XYZ'], ['AAPL', 'MSFT']), side: fc.constantFrom('buy', 'sell') as fc.Arbitrary<ConfRow['side']>,
    qty, price, date: pick([D, D, D, '2026-03-06'], [D]), ref: fc.option(fc.nat(40), { freq: 3 }),
  });
  return { trades: fc.array(trade, { maxLength: 30 }), confs: fc.array(conf, { maxLength: 30 }) };
}

describe('pairConfirmations', () => {
  for (const wide of [true, false]) {
    it(`pairs as the scan per confirmation did, on generated days (${wide ? 'wide' : 'narrow'} pools)`, () => {
      const g = day(wide);
      // The last tolerance has too many digits for doubles: the prices are compared as bigints.
      fc.assert(fc.property(g.trades, g.confs, fc.constantFrom('0.0001', '0', '0.5', '0.00005', '0.0001000000000000001'), (ts, cs, tol) => {
        const trades: TradeRow[] = ts.map((t, i) => ({
          id: `trd_${String(i).padStart(3, '0')}`, exec_id: i % 4 === 0 ? `trd_${String(i + 2).padStart(3, '0')}` : i % 4 === 2 ? `trd_${String(i - 2).padStart(3, '0')}` : `E${i % 25}`, account: 'C1', counterparty: t.cpty, trade_date: t.date, symbol: t.sym,
          side: t.side, quantity: t.qty, price: t.price, currency: 'USD',
        }));
        const confs: ConfRow[] = cs.map((c, i) => ({
          id: `cnf_${i}`, counterparty: c.cpty, conf_id: `K${i}`, trade_date: c.date, symbol: c.sym, side: c.side, quantity: c.qty, price: c.price,
          settle_date: null, our_ref: c.ref === null ? null : c.ref % 2 ? `E${c.ref % 25}` : `trd_${String(c.ref).padStart(3, '0')}`,
          affirmed_at: null, affirmed_late: null,
        }));
        expect(pairConfirmations(confs, trades, tol)).toEqual(oracle(confs, trades, tol));
      }), { numRuns: 400 });
    });
  }
});
