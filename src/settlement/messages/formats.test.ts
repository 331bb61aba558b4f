import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  canonicalDecimal,
  currencyDigits,
  finDecimalOk,
  fixedDecimal,
  fromFinDate,
  fromFinDecimal,
  isValidIsin,
  toFinDecimal,
  toFinText,
  totalDigits,
} from './formats.js';

describe('ISIN check digit', () => {
  it('accepts real ISINs and refuses each with a changed check digit', () => {
    // Apple, Microsoft, Heineken, BAE Systems, SAP, Toyota, IBM, BNP Paribas.
    for (const isin of ['US0378331005', 'US5949181045', 'NL0000009165', 'GB0002634946', 'DE0007164600', 'JP3633400001', 'US4592001014', 'FR0000131104']) {
      expect(isValidIsin(isin), isin).toBe(true);
      const wrong = isin.slice(0, 11) + ((Number(isin[11]) + 1) % 10);
      expect(isValidIsin(wrong), wrong).toBe(false);
    }
    expect(isValidIsin('us0378331005')).toBe(false);
    expect(isValidIsin('US037833100')).toBe(false);
  });
});

describe('decimals', () => {
  it('canonical, fixed, digits', () => {
    expect(canonicalDecimal('0100.500')).toBe('100.5');
    expect(canonicalDecimal('0.000')).toBe('0');
    expect(fixedDecimal('12.5', 3)).toBe('12.500');
    expect(fixedDecimal('1500.0', 0)).toBe('1500');
    expect(totalDigits('001.500')).toBe(2);
  });

  it('FIN notation round-trips any decimal string (property)', () => {
    const dec = fc.tuple(fc.stringMatching(/^\d{1,12}$/), fc.stringMatching(/^\d{0,2}$/)).map(([i, f]) => (f ? `${i}.${f}` : i));
    fc.assert(
      fc.property(dec, (d) => {
        const fin = toFinDecimal(d);
        expect(finDecimalOk(fin)).toBe(true);
        expect(fromFinDecimal(fin)).toBe(canonicalDecimal(d));
      }),
    );
    expect(toFinDecimal('100')).toBe('100,');
    expect(toFinDecimal('1234.50')).toBe('1234,5');
    expect(finDecimalOk('1234.5')).toBe(false);
    expect(finDecimalOk(',5')).toBe(false);
    expect(finDecimalOk('1234567890123,4')).toBe(true);
    expect(finDecimalOk('12345678901234,5')).toBe(false);
  });
});

describe('FIN dates, text, currencies', () => {
  it('dates', () => {
    expect(fromFinDate('20240229')).toBe('2024-02-29');
    expect(fromFinDate('20230229')).toBeUndefined();
  });

  it('text keeps to the x set', () => {
    expect(toFinText('Crédit Agricole & Fils_SA {Paris}')).toBe('Credit Agricole + Fils-SA Paris');
  });

  it('currencies that settle, with their decimals', () => {
    expect([currencyDigits('USD'), currencyDigits('JPY'), currencyDigits('BHD')]).toEqual([2, 0, 3]);
    expect(currencyDigits('XXX')).toBeUndefined();
    expect(currencyDigits('ABC')).toBeUndefined();
    expect(currencyDigits('usd')).toBeUndefined();
  });
});
