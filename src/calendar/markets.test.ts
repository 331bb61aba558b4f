import { describe, expect, it } from 'vitest';
import { isTradingDay, markets } from './index.js';
import { allMarkets } from './markets.js';

describe('markets', () => {
  it('lists the markets with their calendars and cycles', () => {
    const list = markets();
    expect(list.map((m) => m.mic)).toEqual(['XNYS', 'XNAS', 'XLON', 'XETR', 'XPAR', 'XAMS', 'XBRU', 'XMIL']);
    const xnys = list[0]!;
    expect(xnys.settlementCalendars).toEqual(['NYSE', 'Federal Reserve']);
    expect(xnys.coverage).toEqual({ from: '1990-01-01', to: '2100-12-31' });
    expect(xnys.settlementCycles.find((c) => c.assetClass === 'equity')!.history.at(-1)).toEqual({ from: '2024-05-28', days: 1 });
  });

  it('every calendar a market uses covers the whole market', () => {
    for (const m of allMarkets()) {
      for (const c of [...m.trading, ...m.settlement]) {
        expect(c.coverage.from <= m.coverage.from && c.coverage.to >= m.coverage.to, `${m.mic} ${c.label}`).toBe(true);
      }
      // US settlement needs the exchange open as well as the Fed.
      if (m.country === 'US') expect(m.trading.every((c) => m.settlement.includes(c)), m.mic).toBe(true);
    }
  });

  it('accepts market codes in any case', () => {
    expect(isTradingDay('xnys', '2026-10-12')).toBe(true);
    expect(isTradingDay(' XLON ', '2026-12-28')).toBe(false);
  });
});
