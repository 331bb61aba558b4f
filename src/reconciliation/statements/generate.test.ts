import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectFormat, generateCamt053, parseStatementFile } from './index.js';

/** A signed amount in minor units, as a decimal string at `scale`. */
const amountArb = (scale: number) =>
  fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }).filter((m) => m !== 0n).map((m) => {
    const neg = m < 0n;
    const digits = (neg ? -m : m).toString().padStart(scale + 1, '0');
    const text = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
    return (neg ? '-' : '') + text;
  });

const currencyArb = fc.constantFrom(['EUR', 2] as const, ['JPY', 0] as const, ['BHD', 3] as const, ['USD', 2] as const);

describe('generateCamt053', () => {
  it('is a camt.053 in the version asked for', () => {
    expect(detectFormat(generateCamt053({ entries: 1 })).format).toBe('camt.053.001.08');
    expect(detectFormat(generateCamt053({ entries: 1, version: 2 })).format).toBe('camt.053.001.02');
    expect(() => generateCamt053({ entries: 2, amounts: ['1.00'] })).toThrow('amounts has 1 values for 2 entries');
  });

  it('property: generated files parse back to the same entries, and check ok', () => {
    fc.assert(
      fc.property(
        currencyArb.chain(([ccy, scale]) =>
          fc.record({
            currency: fc.constant(ccy),
            amounts: fc.array(amountArb(scale), { minLength: 0, maxLength: 40 }),
            opening: amountArb(scale),
            version: fc.integer({ min: 2, max: 13 }),
          }),
        ),
        ({ currency, amounts, opening, version }) => {
          const xml = generateCamt053({ entries: amounts.length, amounts, currency, opening, version });
          const [st] = parseStatementFile(xml, { fileName: 'gen.xml' });
          expect(st!.format).toBe(`camt.053.001.${String(version).padStart(2, '0')}`);
          expect(st!.check).toBe('ok');
          expect(st!.refused).toBe(false);
          expect(st!.currency).toBe(currency);
          expect(st!.entries.map((e) => e.amount)).toEqual(amounts);
          expect(st!.balances[0]!.amount).toBe(opening);
          expect(st!.entries.every((e) => e.status === 'BOOK' && e.currency === currency)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('property: changing one amount makes the check fail, naming expected and stated', () => {
    fc.assert(
      fc.property(
        fc.array(amountArb(2), { minLength: 1, maxLength: 30 }),
        fc.nat(),
        fc.bigInt({ min: 1n, max: 10n ** 6n }),
        (amounts, pick, delta) => {
          const i = pick % amounts.length;
          const xml = generateCamt053({ entries: amounts.length, amounts });
          // Rewrite entry i's amount in the text (its NtryRef is i + 1).
          const at = xml.indexOf(`<NtryRef>${i + 1}</NtryRef>`);
          const amtStart = xml.indexOf('>', xml.indexOf('<Amt ', at)) + 1;
          const amtEnd = xml.indexOf('<', amtStart);
          const old = xml.slice(amtStart, amtEnd);
          const minor = BigInt(old.replace('.', '')) + delta;
          const changed = `${(minor / 100n).toString()}.${(minor % 100n).toString().padStart(2, '0')}`;
          const [st] = parseStatementFile(xml.slice(0, amtStart) + changed + xml.slice(amtEnd));
          expect(st!.refused).toBe(true);
          expect(st!.check).toMatch(/^statement .+ \(account DE89370400440532013000\): closing balance CLBD of 2024-03-01 is off: expected -?\d+\.\d\d EUR \(opening OPBD -?\d+\.\d\d plus \d+ booked entr(y|ies) -?\d+\.\d\d\), stated -?\d+\.\d\d EUR$/);
          const [, expected, stated] = /expected (-?[\d.]+) EUR.*stated (-?[\d.]+) EUR/.exec(st!.check)!;
          const toMinor = (s: string) => BigInt(s.replace('.', ''));
          const sign = amounts[i]!.startsWith('-') ? -1n : 1n;
          expect(toMinor(expected!) - toMinor(stated!)).toBe(sign * delta);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('refuses amounts it cannot write', () => {
    expect(() => generateCamt053({ entries: 1, amounts: ['1.001'] })).toThrow('amounts[0] "1.001" is not a signed decimal with at most 2 decimals');
    expect(() => generateCamt053({ entries: 1, currency: 'XYZ' })).toThrow('XYZ is not an ISO 4217 currency');
  });
});
