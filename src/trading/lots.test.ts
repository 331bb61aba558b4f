import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Dec } from '../kernel/index.js';
import { computeLots } from './index.js';
import { lotRowsAnywhere } from './lots.js';

type T = Parameters<typeof computeLots>[0][number];

/**
 * The lot rules written plainly, as a model: every trade looks at every open lot of the other
 * direction (specific identification first, then FIFO), amounts per unit from each amount / 10^scale.
 */
function model(trades: T[]) {
  let lots: { lotId: string; remaining: Dec; unitCost: Dec; short: boolean }[] = [];
  const realized: { sale: string; lotId: string; quantity: string; proceeds: string; cost: string }[] = [];
  for (const t of trades) {
    const unit = (v: string) => new Dec(v).div(new Dec(10).pow(t.scale));
    const qty = new Dec(t.quantity);
    const buy = t.side === 'buy';
    const perUnit = buy ? unit(t.gross).add(unit(t.commission)).div(qty) : unit(t.gross).sub(unit(t.commission)).sub(unit(t.sec_fee)).sub(unit(t.finra_taf)).div(qty);
    let left = qty;
    const close = (l: (typeof lots)[number], take: Dec) => {
      l.remaining = l.remaining.sub(take);
      left = left.sub(take);
      const proceeds = l.short ? l.unitCost.mul(take) : perUnit.mul(take);
      const cost = l.short ? perUnit.mul(take) : l.unitCost.mul(take);
      realized.push({ sale: t.id, lotId: l.lotId, quantity: take.toFixed(), proceeds: proceeds.toFixed(), cost: cost.toFixed() });
    };
    const closable = lots.filter((l) => l.short === buy && l.remaining.gt(0));
    if (!buy && t.lot_selection) {
      for (const s of t.lot_selection) {
        const lot = closable.find((l) => l.lotId === s.lot);
        if (!lot) continue;
        const take = Dec.min(new Dec(s.quantity), lot.remaining, left);
        if (take.gt(0)) close(lot, take);
      }
    }
    for (const l of closable) {
      if (left.lte(0)) break;
      if (l.remaining.gt(0)) close(l, Dec.min(l.remaining, left));
    }
    lots = lots.filter((l) => l.remaining.gt(0));
    if (left.gt(0)) lots.push({ lotId: t.id, remaining: left, unitCost: perUnit, short: !buy });
  }
  return { lots: lots.map((l) => ({ lotId: l.lotId, remaining: l.remaining.toFixed(), unitCost: l.unitCost.toFixed(), short: l.short })), realized };
}

const trade = fc.record({
  side: fc.constantFrom('buy', 'buy', 'sell', 'short'),
  quantity: fc.integer({ min: 1, max: 500 }),
  gross: fc.bigInt({ min: 1n, max: 10_000_000n }),
  commission: fc.bigInt({ min: 0n, max: 500n }),
  secFee: fc.bigInt({ min: 0n, max: 50n }),
  pick: fc.option(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 300 })), { freq: 4 }),
});

describe('computeLots', () => {
  it('gives what the plain rules give: every open lot looked at per trade, amounts divided one by one', () => {
    fc.assert(fc.property(fc.array(trade, { minLength: 1, maxLength: 120 }), (gen) => {
      const trades: T[] = gen.map((g, i) => ({
        id: `T${String(i).padStart(4, '0')}`, side: g.side as T['side'], quantity: String(g.quantity), price: '1', trade_date: '2026-03-02',
        gross: String(g.gross), commission: String(g.commission), sec_fee: g.side === 'buy' ? '0' : String(g.secFee), finra_taf: '0', scale: 2,
        // A sale naming an earlier trade's lot (which may be closed, or not a lot at all).
        lot_selection: g.pick && g.side !== 'buy' && i > 0 ? [{ lot: `T${String(g.pick[0] % i).padStart(4, '0')}`, quantity: String(g.pick[1]) }] : null,
      }));
      const got = computeLots(trades);
      const want = model(trades);
      expect(got.lots.map((l) => ({ lotId: l.lotId, remaining: l.remaining.toFixed(), unitCost: l.unitCost.toFixed(), short: l.short }))).toEqual(want.lots);
      expect(got.realized.map((r) => ({ sale: r.sale!, lotId: r.lotId, quantity: r.quantity.toFixed(), proceeds: r.proceeds.toFixed(), cost: r.cost.toFixed() }))).toEqual(want.realized);
    }), { numRuns: 300 });
  });

  it('closes a thousand buys FIFO with a thousand sales, lot by lot', () => {
    // 1,000 buys then 1,000 sales of one share each: the sales close the buys in order.
    const trades: T[] = [];
    for (let i = 0; i < 2000; i++) {
      trades.push({ id: `Q${String(i).padStart(4, '0')}`, side: i < 1000 ? 'buy' : 'sell', quantity: '1', price: '1', trade_date: '2026-03-02',
        gross: String(100 + i), commission: '0', sec_fee: '0', finra_taf: '0', scale: 2, lot_selection: null });
    }
    const { lots, realized } = computeLots(trades);
    expect(lots).toEqual([]);
    expect(realized.map((r) => [r.sale, r.lotId])).toEqual(trades.slice(1000).map((t, k) => [t.id, trades[k]!.id]));
  });

  it('computes the same lot and P&L rows in a worker thread as in this one', async () => {
    // COPY text of the recomputation's query: account, symbol, id, side, quantity, price, date, gross, commission, sec fee, TAF, lot selection, scale.
    const rows: string[] = [];
    for (let i = 0; i < 300; i++) {
      const side = i % 3 === 2 ? 'sell' : i % 17 === 0 ? 'short' : 'buy';
      const pick = side === 'sell' && i > 10 ? `[{"lot": "T${i - 7}", "quantity": "2"}]` : '\\N';
      rows.push([`A${i % 4}`, 'AAPL', `T${i}`, side, String(1 + (i % 9)), '100', '2026-03-02', String(10000 + i * 37), '100', side === 'buy' ? '0' : '3', '0', pick, '2'].join('\t'));
    }
    const text = Buffer.from(rows.join('\n') + '\n');
    const here = await lotRowsAnywhere(text, [], { worker: 'never' });
    const there = await lotRowsAnywhere(text, [], { worker: 'always' });
    expect(here.L.split('\n').length).toBeGreaterThan(4);
    expect(here.R.split('\n').length).toBeGreaterThan(50);
    expect([here.where, there.where]).toEqual(['here', 'worker']);
    expect([there.L, there.R]).toEqual([here.L, here.R]);
  });
});
