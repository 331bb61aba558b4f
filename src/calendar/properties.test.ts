import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addBusinessDays, businessDays, holidays, isSettlementDay, isTradingDay, markets, settlementCycle, settlementDate, type DayKind,
} from './index.js';
import { addDays, dayNumber, fromDayNumber } from './civil-date.js';

const MARKETS = markets();
const kinds: DayKind[] = ['trading', 'settlement'];

/** A market and a date well inside its calendar (so counts of up to 60 days do not run off it). */
const marketAndDate = (from?: string) =>
  fc.constantFrom(...MARKETS).chain((m) => {
    const lo = dayNumber(addDays(from && from > m.coverage.from ? from : m.coverage.from, 100));
    const hi = dayNumber(addDays(m.coverage.to, -100));
    return fc.tuple(fc.constant(m), fc.integer({ min: lo, max: hi }).map(fromDayNumber));
  });

describe('business-day arithmetic (properties)', () => {
  it('addBusinessDays(d, n) then counting the business days back gives n', () => {
    fc.assert(fc.property(marketAndDate(), fc.integer({ min: -60, max: 60 }), fc.constantFrom(...kinds), ([m, d], n, kind) => {
      const e = addBusinessDays(m.mic, d, n, kind);
      if (n === 0) return e === d;
      const isDay = kind === 'trading' ? isTradingDay : isSettlementDay;
      if (!isDay(m.mic, e)) return false;
      const counted = n > 0
        ? businessDays(m.mic, d, e, kind).filter((x) => x > d).length
        : businessDays(m.mic, e, d, kind).filter((x) => x < d).length;
      return counted === Math.abs(n);
    }), { numRuns: 500 });
  });

  it('every settlement date is a settlement day after the trade date, T+N settlement days later', () => {
    // From 2015: every market keeps an equity cycle from then on.
    fc.assert(fc.property(marketAndDate('2015-01-01'), ([m, d]) => {
      const trade = addBusinessDays(m.mic, d, 1, 'trading');
      for (const { assetClass } of m.settlementCycles) {
        const s = settlementDate({ market: m.mic, tradeDate: trade, assetClass });
        const n = settlementCycle(m.mic, assetClass, trade);
        expect(s > trade).toBe(true);
        expect(isSettlementDay(m.mic, s)).toBe(true);
        expect(businessDays(m.mic, trade, s, 'settlement').filter((x) => x > trade)).toHaveLength(n);
      }
    }), { numRuns: 300 });
  });

  it('holidays() agrees with isTradingDay and isSettlementDay', () => {
    fc.assert(fc.property(fc.constantFrom(...MARKETS).chain((m) =>
      fc.tuple(fc.constant(m), fc.integer({ min: Number(m.coverage.from.slice(0, 4)), max: Number(m.coverage.to.slice(0, 4)) }))), ([m, year]) => {
      const rows = holidays(m.mic, year);
      const closed = new Set(rows.filter((r) => r.kind === 'closed').map((r) => r.date));
      const noSettlement = new Set(rows.filter((r) => r.kind === 'no_settlement').map((r) => r.date));
      for (const d of businessDays(m.mic, `${year}-01-01`, `${year}-12-31`, 'trading')) {
        expect(closed.has(d)).toBe(false);
        expect(isSettlementDay(m.mic, d)).toBe(!noSettlement.has(d));
      }
      for (const d of closed) expect(isTradingDay(m.mic, d)).toBe(false);
    }), { numRuns: 40 });
  });
});
