/**
 * The pairing engine's two ways of keying its groups (a number over the day's values, or a string
 * when the number would not be exact) pair alike; and a reference is paired on a trade's id or
 * exec id whatever the other trades' exec ids (left empty when no confirmation quotes them). And the
 * ids of a statement's rows are ULIDs as newId makes them, increasing and distinct.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { idSequence } from '../kernel/index.js';
import { pairConfirmations, type PairConf, type PairTrade } from './matching.js';

const D = '2026-03-09';

describe('pairConfirmations group keys', () => {
  it('pairs the same with string keys as with numeric ones, on generated days', () => {
    const trade = fc.record({
      cp: fc.constantFrom('GSCO', 'NSCC', 'MSCO'), sym: fc.constantFrom('AAPL', 'MSFT', 'IBM'), side: fc.constantFrom('buy', 'sell', 'short') as fc.Arbitrary<PairTrade['side']>,
      qty: fc.constantFrom('100', '100.0', '7', '50'), price: fc.constantFrom('10', '10.0001', '9.9999', '10.5'), date: fc.constantFrom(D, D, '2026-03-06'),
    });
    const conf = fc.record({
      cp: fc.constantFrom('GSCO', 'NSCC', 'XXXX'), sym: fc.constantFrom('AAPL', 'MSFT', 'ZZZ'), side: fc.constantFrom('buy', 'sell') as fc.Arbitrary<PairConf['side']>,
      qty: fc.constantFrom('100', '7', '8', '50.00'), price: fc.constantFrom('10', '10.0001', '10.0002', '10.5'), date: fc.constantFrom(D, D, '2026-03-05'), ref: fc.option(fc.nat(30), { freq: 3 }),
    });
    fc.assert(fc.property(fc.array(trade, { maxLength: 40 }), fc.array(conf, { maxLength: 40 }), fc.constantFrom('0.0001', '0'), (ts, cs, tol) => {
      const trades: PairTrade[] = ts.map((t, i) => ({ id: `trd_${String(i).padStart(3, '0')}`, exec_id: i % 3 ? '' : `E${i}`, counterparty: t.cp, trade_date: t.date, symbol: t.sym, side: t.side, quantity: t.qty, price: t.price }));
      const confs: PairConf[] = cs.map((c, i) => ({ id: `cnf_${i}`, counterparty: c.cp, trade_date: c.date, symbol: c.sym, side: c.side, quantity: c.qty, price: c.price,
        our_ref: c.ref === null ? null : c.ref % 2 ? `E${c.ref}` : `trd_${String(c.ref).padStart(3, '0')}` }));
      const numeric = pairConfirmations(confs, trades, tol);
      expect(pairConfirmations(confs, trades, tol, { stringKeys: true })).toEqual(numeric);
      // Every trade and every confirmation is in exactly one pairing.
      expect(numeric.filter((p) => p.trade !== null).map((p) => p.trade).sort()).toEqual(trades.map((t) => t.id).sort());
      expect(numeric.filter((p) => p.conf !== null).map((p) => p.conf).sort()).toEqual(confs.map((c) => c.id).sort());
    }), { numRuns: 300 });
  });

  it('pairs a quoted exec id; the trades whose exec id is left empty pair on their fields', () => {
    const t = (id: string, exec: string, price: string): PairTrade => ({ id, exec_id: exec, counterparty: 'GSCO', trade_date: D, symbol: 'AAPL', side: 'buy', quantity: '100', price });
    const trades = [t('trd_1', '', '10'), t('trd_2', 'E2', '11'), t('trd_3', '', '12')];
    const c = (id: string, ref: string | null, price: string): PairConf => ({ id, counterparty: 'GSCO', trade_date: D, symbol: 'AAPL', side: 'buy', quantity: '100', price, our_ref: ref });
    const r = pairConfirmations([c('cnf_a', 'E2', '10'), c('cnf_b', null, '12'), c('cnf_c', 'trd_1', '10')], trades, '0.0001');
    expect(r).toEqual([
      { conf: 'cnf_a', trade: 'trd_2', status: 'mismatched', differences: [{ field: 'price', ours: '11', theirs: '10' }] },
      { conf: 'cnf_c', trade: 'trd_1', status: 'matched', differences: [] },
      { conf: 'cnf_b', trade: 'trd_3', status: 'matched', differences: [] },
    ]);
  });
});

describe('idSequence', () => {
  it('makes prefixed ULIDs of the current time, increasing and all distinct', () => {
    const t0 = Date.now();
    const next = idSequence('cmt'), other = idSequence('cmt');
    const ids = Array.from({ length: 20_000 }, () => next());
    const t1 = Date.now();
    expect(ids.filter((id) => !/^cmt_[0-7][0-9A-HJKMNP-TV-Z]{25}$/.test(id))).toEqual([]);
    expect(ids.filter((id, i) => i > 0 && !(ids[i - 1]! < id))).toEqual([]);
    const all = new Set([...ids, ...Array.from({ length: 1000 }, () => other())]);
    expect(all.size).toBe(21_000);
    // The first 10 characters are the time in milliseconds, base 32 (Crockford).
    const ms = [...ids[0]!.slice(4, 14)].reduce((a, ch) => a * 32 + '0123456789ABCDEFGHJKMNPQRSTVWXYZ'.indexOf(ch), 0);
    expect(ms).toBeGreaterThanOrEqual(t0);
    expect(ms).toBeLessThanOrEqual(t1);
  });
});
