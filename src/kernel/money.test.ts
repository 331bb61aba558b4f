import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Decimal } from 'decimal.js';
import { cmpExact, Dec, divPow10Exact, DomainError, exact, exactOfMinor, fromMinor, mulExact, roundExact, roundToMinor, toMinor, type RoundingMode } from './index.js';

/** The code a refused call threw, or 'accepted' when it did not throw. */
const refusal = (f: () => unknown): string => {
  try {
    f();
    return 'accepted';
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    return (e as DomainError).code;
  }
};

const scaleArb = fc.integer({ min: 0, max: 9 });
// Far beyond 2^53 and beyond numeric(38,0), so that a detour through a JS number would show.
const minorArb = fc.oneof(fc.bigInt({ min: -1000n, max: 1000n }), fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }));

describe('toMinor / fromMinor', () => {
  it('round-trips any bigint at any scale 0-9', () => {
    fc.assert(fc.property(minorArb, scaleArb, (minor, scale) => {
      const text = fromMinor(minor, scale);
      // Exactly `scale` decimals, one optional minus, no "-0".
      expect(text).toMatch(scale === 0 ? /^-?\d+$/ : new RegExp(`^-?\\d+\\.\\d{${scale}}$`));
      expect(text).not.toMatch(/^-0(\.0*)?$/);
      expect(text).not.toMatch(/^-?0\d/);
      expect(toMinor(text, scale)).toBe(minor);
    }), { numRuns: 2000 });
  });

  it('accepts every equivalent spelling of the same amount (fewer decimals, trailing zeros, a plus sign)', () => {
    fc.assert(fc.property(minorArb, scaleArb, fc.integer({ min: 0, max: 3 }), fc.boolean(), (minor, scale, extraZeros, plus) => {
      let text = fromMinor(minor, scale);
      if (scale > 0) text = text.replace(/\.?0+$/, '') || '0';
      if (extraZeros) text += (text.includes('.') ? '' : '.') + '0'.repeat(extraZeros);
      if (plus && !text.startsWith('-')) text = '+' + text;
      expect(toMinor(text, scale)).toBe(minor);
    }), { numRuns: 1000 });
  });

  it('formats known values', () => {
    expect(fromMinor(0n, 2)).toBe('0.00');
    expect(fromMinor(-5n, 2)).toBe('-0.05');
    expect(fromMinor(123450n, 2)).toBe('1234.50');
    expect(fromMinor(-1n, 9)).toBe('-0.000000001');
    expect(fromMinor(7n, 0)).toBe('7');
    expect(fromMinor(-(2n ** 64n), 4)).toBe('-1844674407370955.1616');
    expect(toMinor('-0', 2)).toBe(0n);
    expect(toMinor('1234.5', 2)).toBe(123450n);
    expect(toMinor('007', 0)).toBe(7n);
    expect(toMinor('0.000000001', 9)).toBe(1n);
    expect(toMinor('99999999999999999999999999999999999999', 0)).toBe(10n ** 38n - 1n);
  });

  it('refuses more decimals than the scale, never rounding silently', () => {
    expect(refusal(() => toMinor('1.005', 2))).toBe('AMOUNT_TOO_PRECISE');
    expect(refusal(() => toMinor('0.5', 0))).toBe('AMOUNT_TOO_PRECISE');
    expect(refusal(() => toMinor('-0.0000000001', 9))).toBe('AMOUNT_TOO_PRECISE');
    // Trailing zeros are not extra precision.
    expect(toMinor('1.50000', 2)).toBe(150n);
    fc.assert(fc.property(minorArb, fc.integer({ min: 0, max: 8 }), fc.integer({ min: 1, max: 9 }), (minor, scale, digit) => {
      // One more significant decimal than the scale allows.
      const text = fromMinor(minor, scale) + (scale === 0 ? '.' : '') + String(digit);
      expect(refusal(() => toMinor(text, scale))).toBe('AMOUNT_TOO_PRECISE');
    }));
  });

  it('refuses anything that is not a plain decimal string', () => {
    const bad = [
      '', '-', '+', '.', '.5', '5.', '1e5', '1E5', '0x10', '1,000.00', '1 000', '1_000', '--1', '+-1', '1-',
      'NaN', 'Infinity', '-Infinity', 'abc', '1.2.3', '١٢', '１２', '$5', '5 USD',
    ];
    for (const text of bad) expect.soft(refusal(() => toMinor(text, 2)), JSON.stringify(text)).toBe('AMOUNT_INVALID');
    for (const v of [5, 5n, null, undefined, {}, ['1']]) {
      expect.soft(refusal(() => toMinor(v as unknown as string, 2)), String(v)).toBe('AMOUNT_INVALID');
    }
  });

  // Regression (fixed): toMinor trims its input (src/kernel/money.ts, `DECIMAL_RE.exec(text.trim())`),
  // so " 1", "1\n" and "\t1" are taken as 1 although its own comment says it refuses anything but
  // plain digits. Amounts arrive from files and the API; whitespace around one is a malformed value.
  it('refuses surrounding whitespace', () => {
    for (const text of [' 1', '1 ', '\t1', '1\n', ' -1.00 ']) {
      expect.soft(refusal(() => toMinor(text, 2)), JSON.stringify(text)).toBe('AMOUNT_INVALID');
    }
  });
});

describe('roundToMinor', () => {
  const modes: RoundingMode[] = ['half_even', 'half_up', 'down', 'up', 'floor', 'ceil'];
  // value, scale, then the expected minor units per mode in the order of `modes`.
  const table: [string, number, bigint[]][] = [
    ['2.345', 2, [234n, 235n, 234n, 235n, 234n, 235n]],
    ['-2.345', 2, [-234n, -235n, -234n, -235n, -235n, -234n]],
    ['2.355', 2, [236n, 236n, 235n, 236n, 235n, 236n]],
    ['2.3451', 2, [235n, 235n, 234n, 235n, 234n, 235n]],
    ['2.3449', 2, [234n, 234n, 234n, 235n, 234n, 235n]],
    ['0.5', 0, [0n, 1n, 0n, 1n, 0n, 1n]],
    ['1.5', 0, [2n, 2n, 1n, 2n, 1n, 2n]],
    ['2.5', 0, [2n, 3n, 2n, 3n, 2n, 3n]],
    ['-0.5', 0, [0n, -1n, 0n, -1n, -1n, 0n]],
    ['-0.004', 2, [0n, 0n, 0n, -1n, -1n, 0n]],
    ['0.0000000005', 9, [0n, 1n, 0n, 1n, 0n, 1n]],
    ['7', 2, [700n, 700n, 700n, 700n, 700n, 700n]],
    // 31 significant digits: beyond a double and beyond decimal.js's default precision of 20.
    ['123456789012345678901234567.125', 2, [12345678901234567890123456712n, 12345678901234567890123456713n, 12345678901234567890123456712n, 12345678901234567890123456713n, 12345678901234567890123456712n, 12345678901234567890123456713n]],
  ];
  for (const [value, scale, expected] of table) {
    it(`rounds ${value} at scale ${scale} in each mode`, () => {
      expect(modes.map((m) => roundToMinor(new Dec(value), scale, m))).toEqual(expected);
    });
  }

  it('leaves values already in minor units alone, in every mode', () => {
    fc.assert(fc.property(minorArb, scaleArb, fc.constantFrom(...modes), (minor, scale, mode) => {
      expect(roundToMinor(new Dec(fromMinor(minor, scale)), scale, mode)).toBe(minor);
    }), { numRuns: 1000 });
  });

  it('rounds to a neighbour, in the direction the mode says', () => {
    // value = minor + frac/1000 of a minor unit, with frac in 1..999.
    fc.assert(fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 1, max: 999 }), scaleArb, (minor, frac, scale) => {
      const value = new Dec(minor.toString()).plus(new Dec(frac).div(1000)).div(new Dec(10).pow(scale));
      const lo = minor;
      const hi = minor + 1n;
      const r = (m: RoundingMode) => roundToMinor(value, scale, m);
      expect(r('floor')).toBe(lo);
      expect(r('ceil')).toBe(hi);
      expect(r('down')).toBe(value.isNegative() ? hi : lo);
      expect(r('up')).toBe(value.isNegative() ? lo : hi);
      const nearest = frac < 500 ? lo : frac > 500 ? hi : undefined;
      if (nearest !== undefined) {
        expect(r('half_even')).toBe(nearest);
        expect(r('half_up')).toBe(nearest);
      } else {
        expect(r('half_even')).toBe(lo % 2n === 0n ? lo : hi);
        expect(r('half_up')).toBe(value.isNegative() ? lo : hi);
      }
    }), { numRuns: 1000 });
  });

  // Regression (fixed): roundToMinor multiplies with the caller's Decimal constructor
  // (src/kernel/money.ts, `value.mul(...)`). Its type accepts any decimal.js Decimal, and a plain one
  // rounds products to 20 significant digits, so this returns 12345678901234567890000000n:
  // money silently lost. Converting to Dec first (`new Dec(value).mul(...)`) would fix it.
  it('does not lose digits when given a decimal.js value of the default precision', () => {
    expect(roundToMinor(new Decimal('123456789012345678901234.565'), 2, 'half_even')).toBe(12345678901234567890123456n);
  });
});

describe('exact decimals (roundExact, mulExact, cmpExact)', () => {
  const modes: RoundingMode[] = ['half_even', 'half_up', 'down', 'up', 'floor', 'ceil'];
  const decimalArb = fc.tuple(fc.bigInt({ min: -(10n ** 25n), max: 10n ** 25n }), fc.integer({ min: 0, max: 12 }))
    .map(([m, e]) => fromMinor(m, e));

  it('round as roundToMinor does, in every mode, on the table above and on products of decimal strings', () => {
    for (const v of ['2.345', '-2.345', '2.355', '0.5', '-0.5', '2.5', '-0.004', '0.0000000005', '7', '123456789012345678901234567.125']) {
      for (const scale of [0, 2, 9]) for (const m of modes) expect(roundExact(exact(v), scale, m), `${v} ${scale} ${m}`).toBe(roundToMinor(new Dec(v), scale, m));
    }
    fc.assert(fc.property(decimalArb, decimalArb, scaleArb, fc.constantFrom(...modes), (a, b, scale, mode) => {
      expect(roundExact(mulExact(exact(a), exact(b)), scale, mode)).toBe(roundToMinor(new Dec(a).mul(b), scale, mode));
      expect(roundExact(divPow10Exact(exact(a), 6), scale, mode)).toBe(roundToMinor(new Dec(a).div(1_000_000), scale, mode));
    }), { numRuns: 2000 });
  });

  it('compare as decimal.js does', () => {
    fc.assert(fc.property(decimalArb, decimalArb, (a, b) => {
      expect(cmpExact(exact(a), exact(b))).toBe(new Dec(a).cmp(b));
    }), { numRuns: 1000 });
    expect(cmpExact(exact('1.50'), exact('1.5'))).toBe(0);
  });

  it('refuse what is not a plain decimal', () => {
    for (const t of ['', '1e5', '1.', '.5', ' 1', 'abc']) expect(() => exact(t), JSON.stringify(t)).toThrow(/not a decimal number/);
    expect(exactOfMinor(12345n, 2)).toEqual(exact('123.45'));
  });
});
