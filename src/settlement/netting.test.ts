import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { DomainError, toMinor } from '../kernel/index.js';
import { net, netParallel, netCashOf, nettingReportOf, obligationView, netCashView, syntheticTrades, type NetInput, type FailInput, type TradeSide } from './netting.js';

const D = '2026-03-05';
const usd = (s: string) => toMinor(s, 2);
const t = (counterparty: string, symbol: string, side: TradeSide, quantity: bigint | string, gross: string, currency = 'USD', settleDate = D): NetInput =>
  ({ counterparty, symbol, side, quantity, gross: usd(gross), currency, settleDate });

/*
 * The hand-computed day (settlement date 2026-03-05), street side, gross at execution prices:
 *   GSCO AAPL  buy 100 = 19,025.00   sell 100 = 19,550.00        -> 0 shares, +525.00 USD
 *   GSCO MSFT  buy 200 = 80,000.00   short 50 = 20,100.00        -> +150, -59,900.00
 *              + fail of 03-04: deliver 40 against +16,000.00   -> +110, -43,900.00
 *   GSCO VOD   sell 1,000 = 750.00 GBP                           -> -1,000, +750.00 GBP
 *   NSCC AAPL  sell 30 = 5,700.00    buy 10 = 1,910.00           -> -20, +3,790.00
 *   NSCC VOD   fail of 03-04: receive 500 against -375.00 GBP    -> +500, -375.00 GBP
 * and on 2026-03-06: GSCO AAPL buy 5 = 1,000.00                 -> +5, -1,000.00
 * Net cash 03-05: GSCO -43,375.00 USD and +750.00 GBP; NSCC +3,790.00 USD and -375.00 GBP.
 */
const day: NetInput[] = [
  t('GSCO', 'AAPL', 'buy', 100n, '19025.00'),
  t('NSCC', 'AAPL', 'sell', 30n, '5700.00'),
  t('GSCO', 'MSFT', 'buy', 200n, '80000.00'),
  t('GSCO', 'AAPL', 'sell', '100', '19550.00'),
  t('GSCO', 'VOD', 'sell', 1000n, '750.00', 'GBP'),
  t('GSCO', 'MSFT', 'short', 50n, '20100.00'),
  t('NSCC', 'AAPL', 'buy', 10n, '1910.00'),
  t('GSCO', 'AAPL', 'buy', 5n, '1000.00', 'USD', '2026-03-06'),
];
const fails: FailInput[] = [
  { ref: 'sob_1', counterparty: 'GSCO', symbol: 'MSFT', currency: 'USD', settleDate: D, quantity: -40n, cash: usd('16000.00') },
  { ref: 'sob_2', counterparty: 'NSCC', symbol: 'VOD', currency: 'GBP', settleDate: D, quantity: '500', cash: -usd('375.00') },
];

describe('net', () => {
  it('nets the hand-computed day: per counterparty and security, cash per counterparty and currency, fails carried', () => {
    const r = net(day, fails);
    expect(r.executions).toBe(8);
    expect(r.obligations.map((o) => obligationView(o)).map((v) => [v.settleDate, v.counterparty, v.security, v.quantity, v.cash, v.currency, v.trades, v.fails, v.carriedQuantity, v.carriedCash])).toEqual([
      [D, 'GSCO', 'AAPL', '0', '525.00', 'USD', 2, 0, '0', '0.00'],
      [D, 'GSCO', 'MSFT', '110', '-43900.00', 'USD', 2, 1, '-40', '16000.00'],
      [D, 'GSCO', 'VOD', '-1000', '750.00', 'GBP', 1, 0, '0', '0.00'],
      [D, 'NSCC', 'AAPL', '-20', '3790.00', 'USD', 2, 0, '0', '0.00'],
      [D, 'NSCC', 'VOD', '500', '-375.00', 'GBP', 0, 1, '500', '-375.00'],
      ['2026-03-06', 'GSCO', 'AAPL', '5', '-1000.00', 'USD', 1, 0, '0', '0.00'],
    ]);
    // Buys and sells of AAPL with GSCO net to no delivery at all, but not to no money.
    expect(r.obligations[0]).toMatchObject({ quantity: 0n, cash: 52500n, grossQuantity: 200n, grossCash: usd('38575.00') });
    expect(r.netCash.map((c) => netCashView(c)).map((c) => [c.settleDate, c.counterparty, c.currency, c.cash, c.obligations])).toEqual([
      [D, 'GSCO', 'GBP', '750.00', 1],
      [D, 'GSCO', 'USD', '-43375.00', 2],
      [D, 'NSCC', 'GBP', '-375.00', 1],
      [D, 'NSCC', 'USD', '3790.00', 1],
      ['2026-03-06', 'GSCO', 'USD', '-1000.00', 1],
    ]);
  });

  it('reports gross against net and the reduction', () => {
    const r = net(day, fails);
    const only = r.obligations.filter((o) => o.settleDate === D);
    expect(nettingReportOf(only)).toEqual({
      // 7 trades and 2 fails would each settle on their own: 1,490 + 540 shares.
      gross: { obligations: 9, trades: 7, fails: 2, quantity: '2030', cash: [{ currency: 'GBP', amount: '1125.00' }, { currency: 'USD', amount: '162285.00' }] },
      // Deliveries left: GSCO MSFT 110, GSCO VOD 1,000, NSCC AAPL 20, NSCC VOD 500; payments: two per counterparty.
      net: { obligations: 4, payments: 4, quantity: '1630', cash: [{ currency: 'GBP', amount: '1125.00' }, { currency: 'USD', amount: '47165.00' }] },
      // 1 - 4/9; 400 / 2,030; 115,120.00 / 162,285.00; GBP flows run one way per counterparty: nothing to net.
      reduction: { obligations: '55.56', quantity: '19.70', cash: [{ currency: 'GBP', percent: '0.00' }, { currency: 'USD', percent: '70.94' }] },
    });
    expect(nettingReportOf([])).toEqual({
      gross: { obligations: 0, trades: 0, fails: 0, quantity: '0', cash: [] },
      net: { obligations: 0, payments: 0, quantity: '0', cash: [] },
      reduction: { obligations: '0.00', quantity: '0.00', cash: [] },
    });
  });

  it('does not depend on the order of the trades', () => {
    const a = net(day, fails);
    const b = net([...day].reverse(), [...fails].reverse());
    expect(b).toEqual(a);
  });

  it('reads decimal quantities at the security scale and keeps currencies with their own minor units', () => {
    const r = net([
      { counterparty: 'CP', symbol: 'FUND', side: 'buy', quantity: '1.5', gross: 15000n, currency: 'USD', settleDate: D, scale: 3 },
      { counterparty: 'CP', symbol: 'FUND', side: 'sell', quantity: 250n, gross: 2600n, currency: 'USD', settleDate: D, scale: 3 },
      { counterparty: 'CP', symbol: '7203', side: 'buy', quantity: 100n, gross: 250000n, currency: 'JPY', settleDate: D },
    ]);
    expect(r.obligations.map((o) => obligationView(o)).map((v) => [v.security, v.quantity, v.cash, v.currency])).toEqual([
      ['7203', '100', '-250000', 'JPY'],
      ['FUND', '1.250', '-124.00', 'USD'],
    ]);
  });

  it('is exact beyond 64 bits', () => {
    const big = (1n << 62n) - 1n;
    const many = Array.from({ length: 9 }, () => ({ counterparty: 'CP', symbol: 'X', side: 'sell' as const, quantity: big, gross: big, currency: 'USD', settleDate: D }));
    const huge = 1n << 80n;
    const r = net([...many, { counterparty: 'CP', symbol: 'X', side: 'buy', quantity: huge, gross: huge, currency: 'USD', settleDate: D }]);
    expect(r.obligations[0]).toMatchObject({ quantity: huge - 9n * big, cash: 9n * big - huge, grossQuantity: huge + 9n * big, trades: 10 });
  });

  it('keeps every bucket as its tables grow, from dense to sparse', () => {
    // 300 counterparties, then 40,000 securities: the slot table is re-laid out as pairs grow,
    // then gives way to a map (40,000 x 300 cells is past the dense limit). Twice over, so that
    // the second pass finds every bucket the first one made.
    const one = Array.from({ length: 40_000 }, (_, i): NetInput => ({
      counterparty: `CP${i % 300}`, symbol: `S${String(i).padStart(5, '0')}`, side: i % 3 ? 'buy' : 'sell',
      quantity: BigInt(i + 1), gross: BigInt(i * 100), currency: 'USD', settleDate: D,
    }));
    const r = net([...one, ...one]);
    expect(r.obligations).toHaveLength(40_000);
    expect(r.obligations.map((o) => [o.symbol, o.counterparty, o.quantity, o.cash, o.trades])).toEqual(
      [...one].sort((a, b) => (a.symbol < b.symbol ? -1 : 1)).sort((a, b) => (a.counterparty < b.counterparty ? -1 : a.counterparty > b.counterparty ? 1 : 0))
        .map((x) => [x.symbol, x.counterparty, 2n * (x.side === 'buy' ? 1n : -1n) * (x.quantity as bigint), 2n * (x.side === 'buy' ? -1n : 1n) * x.gross, 2]));
  });

  it('refuses bad input, naming the record and the field', () => {
    const ok = t('GSCO', 'AAPL', 'buy', 1n, '1.00');
    const refused = (inputs: NetInput[], f: FailInput[] = []) => {
      try {
        net(inputs, f);
      } catch (e) {
        expect(e).toBeInstanceOf(DomainError);
        const d = e as DomainError;
        return [d.code, d.details[0]?.field, d.message];
      }
      throw new Error('accepted');
    };
    expect(refused([ok, { ...ok, ref: 'trd_2', currency: 'EUR' }])).toEqual(['SETTLEMENT_CURRENCY_MISMATCH', 'currency', 'trade trd_2: AAPL settles in USD, not EUR']);
    expect(refused([ok, { ...ok, side: 'lend' as TradeSide }])).toEqual(['SETTLEMENT_NETTING_INPUT_INVALID', 'side', 'trade #2: side "lend" must be buy, sell or short']);
    expect(refused([{ ...ok, quantity: 0n }])).toEqual(['SETTLEMENT_NETTING_INPUT_INVALID', 'quantity', 'trade #1: quantity 0 must be positive']);
    expect(refused([{ ...ok, quantity: '1.5' }])[0]).toBe('SETTLEMENT_NETTING_INPUT_INVALID');
    expect(refused([{ ...ok, gross: -1n }])).toEqual(['SETTLEMENT_NETTING_INPUT_INVALID', 'gross', 'trade #1: gross must be a bigint of minor units, not negative (got -1)']);
    expect(refused([{ ...ok, gross: 100 as unknown as bigint }])[1]).toBe('gross');
    expect(refused([{ ...ok, settleDate: '2026-02-30' }])[1]).toBe('settleDate');
    expect(refused([{ ...ok, counterparty: '' }])[1]).toBe('counterparty');
    expect(refused([ok, { ...ok, scale: 2 }])).toEqual(['SETTLEMENT_SCALE_MISMATCH', 'scale', 'trade #2: AAPL has scale 0, not 2']);
    expect(refused([ok], [{ counterparty: 'GSCO', symbol: 'AAPL', currency: 'GBP', settleDate: D, quantity: 1n, cash: 0n }])[0]).toBe('SETTLEMENT_CURRENCY_MISMATCH');
  });

  it('nets synthetic executions deterministically', () => {
    const a = net(syntheticTrades(20_000, 7, { counterparties: 5, securities: 50, dates: 2 }));
    const b = net(syntheticTrades(20_000, 7, { counterparties: 5, securities: 50, dates: 2 }));
    expect(a).toEqual(b);
    expect(a.executions).toBe(20_000);
    expect(a.obligations.reduce((n, o) => n + o.trades, 0)).toBe(20_000);
    expect(a.obligations.length).toBeLessThanOrEqual(5 * 50 * 2);
  });
});

describe('net (properties)', () => {
  const SECURITIES: Record<string, { currency: string; scale: number }> = { AAPL: { currency: 'USD', scale: 0 }, VOD: { currency: 'GBP', scale: 0 }, FUND: { currency: 'USD', scale: 3 }, SAP: { currency: 'EUR', scale: 0 } };
  const trade = fc.record({
    counterparty: fc.constantFrom('GSCO', 'NSCC', 'MSCO'),
    symbol: fc.constantFrom(...Object.keys(SECURITIES)),
    side: fc.constantFrom<TradeSide>('buy', 'sell', 'short'),
    quantity: fc.bigInt({ min: 1n, max: 10n ** 12n }),
    gross: fc.oneof(fc.bigInt({ min: 0n, max: 10n ** 14n }), fc.bigInt({ min: 0n, max: 1n << 70n })),
    settleDate: fc.constantFrom('2026-03-04', '2026-03-05'),
  }).map((x): NetInput => ({ ...x, currency: SECURITIES[x.symbol]!.currency, scale: SECURITIES[x.symbol]!.scale }));
  const sign = (x: NetInput) => (x.side === 'buy' ? 1n : -1n);

  it('net quantity per (date, counterparty, security) is the signed sum of trade quantities; cash per counterparty the signed sum of gross', () => {
    fc.assert(fc.property(fc.array(trade, { maxLength: 300 }), (trades) => {
      const r = net(trades);
      const qty = new Map<string, bigint>(), cash = new Map<string, bigint>(), count = new Map<string, number>();
      for (const x of trades) {
        const k = `${x.settleDate} ${x.counterparty} ${x.symbol}`;
        qty.set(k, (qty.get(k) ?? 0n) + sign(x) * (x.quantity as bigint));
        count.set(k, (count.get(k) ?? 0) + 1);
        const c = `${x.settleDate} ${x.counterparty} ${x.currency}`;
        // The firm pays for what it receives and is paid for what it delivers.
        cash.set(c, (cash.get(c) ?? 0n) - sign(x) * x.gross);
      }
      expect(new Map(r.obligations.map((o) => [`${o.settleDate} ${o.counterparty} ${o.symbol}`, o.quantity]))).toEqual(qty);
      expect(new Map(r.obligations.map((o) => [`${o.settleDate} ${o.counterparty} ${o.symbol}`, o.trades]))).toEqual(count);
      expect(new Map(r.netCash.map((c) => [`${c.settleDate} ${c.counterparty} ${c.currency}`, c.cash]))).toEqual(cash);
      expect(r.netCash).toEqual(netCashOf(r.obligations));
      for (const o of r.obligations) {
        expect(o.grossQuantity >= (o.quantity < 0n ? -o.quantity : o.quantity)).toBe(true);
        expect(o.grossCash >= (o.cash < 0n ? -o.cash : o.cash)).toBe(true);
      }
    }), { numRuns: 200 });
  });

  it('carried fails add their remaining quantity and cash to the net', () => {
    const fail = fc.record({
      counterparty: fc.constantFrom('GSCO', 'NSCC'),
      symbol: fc.constantFrom('AAPL', 'VOD'),
      quantity: fc.bigInt({ min: -(10n ** 9n), max: 10n ** 9n }),
      cash: fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
    }).map((x): FailInput => ({ ...x, currency: SECURITIES[x.symbol]!.currency, settleDate: '2026-03-05' }));
    fc.assert(fc.property(fc.array(trade, { maxLength: 100 }), fc.array(fail, { maxLength: 10 }), (trades, fs) => {
      const without = net(trades), withFails = net(trades, fs);
      const key = (o: { settleDate: string; counterparty: string; symbol: string }) => `${o.settleDate} ${o.counterparty} ${o.symbol}`;
      const base = new Map(without.obligations.map((o) => [key(o), o]));
      const extra = new Map<string, { q: bigint; c: bigint; n: number }>();
      for (const f of fs) {
        const e = extra.get(key(f)) ?? { q: 0n, c: 0n, n: 0 };
        extra.set(key(f), { q: e.q + (f.quantity as bigint), c: e.c + f.cash, n: e.n + 1 });
      }
      for (const o of withFails.obligations) {
        const b = base.get(key(o)), e = extra.get(key(o)) ?? { q: 0n, c: 0n, n: 0 };
        expect([o.quantity, o.cash, o.fails, o.carriedQuantity, o.carriedCash]).toEqual([(b?.quantity ?? 0n) + e.q, (b?.cash ?? 0n) + e.c, e.n, e.q, e.c]);
      }
      expect(withFails.obligations.length).toBe(new Set([...base.keys(), ...extra.keys()]).size);
    }), { numRuns: 100 });
  });
});

describe('netParallel', () => {
  const SECURITIES: Record<string, { currency: string; scale: number }> = { AAPL: { currency: 'USD', scale: 0 }, VOD: { currency: 'GBP', scale: 0 }, FUND: { currency: 'USD', scale: 3 }, SAP: { currency: 'EUR', scale: 0 }, MSFT: { currency: 'USD', scale: 0 } };
  const trade = fc.record({
    counterparty: fc.constantFrom('GSCO', 'NSCC', 'MSCO', 'JPMS'),
    symbol: fc.constantFrom(...Object.keys(SECURITIES)),
    side: fc.constantFrom<TradeSide>('buy', 'sell', 'short'),
    quantity: fc.oneof(fc.bigInt({ min: 1n, max: 10n ** 12n }), fc.bigInt({ min: 1n, max: 1n << 66n })),
    // Mostly the fast path; sometimes amounts of 2^62 or more, which take the unbounded one.
    gross: fc.oneof(fc.bigInt({ min: 0n, max: 10n ** 14n }), fc.bigInt({ min: 0n, max: 1n << 70n })),
    settleDate: fc.constantFrom('2026-03-04', '2026-03-05', '2026-03-06'),
  }).map((x): NetInput => ({ ...x, currency: SECURITIES[x.symbol]!.currency, scale: SECURITIES[x.symbol]!.scale }));
  const fail = fc.record({
    counterparty: fc.constantFrom('GSCO', 'NSCC', 'BARC'),
    symbol: fc.constantFrom('AAPL', 'VOD', 'MSFT'),
    quantity: fc.bigInt({ min: -(10n ** 9n), max: 10n ** 9n }),
    cash: fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
    settleDate: fc.constantFrom('2026-03-05', '2026-03-06'),
  }).map((x): FailInput => ({ ...x, currency: SECURITIES[x.symbol]!.currency }));

  it('gives the sequential result, field for field, on random trades with fails carried forward', async () => {
    await fc.assert(fc.asyncProperty(fc.array(trade, { maxLength: 400 }), fc.array(fail, { maxLength: 12 }), fc.integer({ min: 1, max: 3 }), async (trades, fs, workers) => {
      expect(await netParallel(trades, fs, { workers })).toEqual(net(trades, fs));
    }), { numRuns: 40 });
  });

  it('gives the sequential result on many trades (several chunks per worker)', async () => {
    const opts = { counterparties: 7, securities: 300, dates: 3 };
    const seq = net(syntheticTrades(300_000, 11, opts));
    const par = await netParallel(syntheticTrades(300_000, 11, opts), [], { workers: 2 });
    expect(par).toEqual(seq);
    expect(par.obligations.reduce((n, o) => n + o.trades, 0)).toBe(300_000);
  });

  it('refuses bad input with the sequential error and leaves no worker behind', async () => {
    const trades: NetInput[] = [...syntheticTrades(100_000, 3, { securities: 20 })];
    trades[70_000] = { ...trades[70_000]!, side: 'lend' as TradeSide, ref: 'trd_bad' };
    let seqErr: unknown, parErr: unknown;
    try { net(trades); } catch (e) { seqErr = e; }
    try { await netParallel(trades, [], { workers: 2 }); } catch (e) { parErr = e; }
    expect(parErr).toBeInstanceOf(DomainError);
    expect((parErr as DomainError).message).toBe((seqErr as DomainError).message);
    expect((parErr as DomainError).details).toEqual((seqErr as DomainError).details);
  });
});
