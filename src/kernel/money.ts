import { Decimal } from 'decimal.js';
import { invalid } from './errors.js';

/**
 * Amounts are integers in an asset's smallest unit (bigint); on the wire and in files they are
 * decimal strings. These two functions are the only way between the two.
 */

const DECIMAL_RE = /^([+-])?(\d+)(?:\.(\d+))?$/;

/**
 * Parse a decimal string ("1234.50", "-7", "0.000000001") into minor units at `scale`.
 * Refuses more decimals than the scale allows (no silent rounding) and anything but plain digits.
 * @throws DomainError AMOUNT_INVALID / AMOUNT_TOO_PRECISE
 */
export function toMinor(text: string, scale: number, what = 'amount'): bigint {
  if (typeof text !== 'string') {
    throw invalid('AMOUNT_INVALID', `${what} must be a decimal string such as "1234.50", got ${typeof text}`);
  }
  const m = DECIMAL_RE.exec(text);
  if (!m) throw invalid('AMOUNT_INVALID', `${what} "${text}" is not a decimal number`);
  const [, sign, int, fracRaw = ''] = m;
  const frac = fracRaw.replace(/0+$/, '');
  if (frac.length > scale) {
    throw invalid(
      'AMOUNT_TOO_PRECISE',
      `${what} "${text}" has ${frac.length} decimals; the asset allows ${scale}`,
    );
  }
  const minor = BigInt(int! + frac.padEnd(scale, '0'));
  return sign === '-' ? -minor : minor;
}

/** Format minor units at `scale` as a decimal string with exactly `scale` decimals. */
export function fromMinor(minor: bigint, scale: number): string {
  const neg = minor < 0n;
  const digits = (neg ? -minor : minor).toString().padStart(scale + 1, '0');
  const int = scale === 0 ? digits : digits.slice(0, -scale);
  const frac = scale === 0 ? '' : '.' + digits.slice(-scale);
  return (neg ? '-' : '') + int + frac;
}

export type RoundingMode = 'half_even' | 'half_up' | 'down' | 'up' | 'floor' | 'ceil';
const MODES: Record<RoundingMode, Decimal.Rounding> = {
  half_even: Decimal.ROUND_HALF_EVEN,
  half_up: Decimal.ROUND_HALF_UP,
  down: Decimal.ROUND_DOWN,
  up: Decimal.ROUND_UP,
  floor: Decimal.ROUND_FLOOR,
  ceil: Decimal.ROUND_CEIL,
};

/** Prices, rates and percentages: arbitrary-precision decimals. */
export const Dec = Decimal.clone({ precision: 60, rounding: Decimal.ROUND_HALF_EVEN });
export type Dec = Decimal;

/** 10^scale by scale, made once each: `pow` is most of what a rounding would otherwise cost. */
const POW10: Dec[] = [];
const pow10 = (scale: number): Dec => POW10[scale] ?? (Number.isInteger(scale) && scale >= 0 && scale <= 64 ? (POW10[scale] = new Dec(10).pow(scale)) : new Dec(10).pow(scale));

/** Round a decimal quantity of an asset to its minor units with an explicit rounding mode. */
export function roundToMinor(value: Decimal, scale: number, mode: RoundingMode): bigint {
  return BigInt(new Dec(value).mul(pow10(scale)).toDecimalPlaces(0, MODES[mode]).toFixed(0));
}

/**
 * An exact decimal, m × 10^-e, for the hot paths of pricing (a fill's gross, its fees): products
 * of decimal strings need no precision setting and no rounding until {@link roundExact}, which
 * rounds as {@link roundToMinor} does (a property test holds the two to the same results).
 */
export interface Exact { readonly m: bigint; readonly e: number }

/** Parse a plain decimal string ("190.25", "-7", "0.0000278") exactly. @throws DomainError AMOUNT_INVALID */
export function exact(text: string, what = 'amount'): Exact {
  const r = typeof text === 'string' ? DECIMAL_RE.exec(text) : null;
  if (!r) throw invalid('AMOUNT_INVALID', `${what} "${String(text)}" is not a decimal number`);
  const [, sign, int, frac = ''] = r;
  const m = BigInt(int! + frac);
  return { m: sign === '-' ? -m : m, e: frac.length };
}

/** Minor units at `scale` as an exact decimal. */
export const exactOfMinor = (minor: bigint, scale: number): Exact => ({ m: minor, e: scale });
/** a × b, exactly. */
export const mulExact = (a: Exact, b: Exact): Exact => ({ m: a.m * b.m, e: a.e + b.e });
/** a ÷ 10^places, exactly. */
export const divPow10Exact = (a: Exact, places: number): Exact => ({ m: a.m, e: a.e + places });

const TEN = 10n;
const pow10n = (n: number): bigint => TEN ** BigInt(n);

/** -1, 0 or 1 as a is less than, equal to or greater than b. */
export function cmpExact(a: Exact, b: Exact): -1 | 0 | 1 {
  const e = Math.max(a.e, b.e);
  const x = a.m * pow10n(e - a.e), y = b.m * pow10n(e - b.e);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Round an exact decimal to minor units at `scale` with an explicit rounding mode (as roundToMinor). */
export function roundExact(x: Exact, scale: number, mode: RoundingMode): bigint {
  if (x.e <= scale) return x.m * pow10n(scale - x.e);
  const d = pow10n(x.e - scale);
  const q = x.m / d; // toward zero
  const r = x.m % d;
  if (r === 0n) return q;
  const neg = x.m < 0n;
  const away = neg ? q - 1n : q + 1n;
  const twice = 2n * (r < 0n ? -r : r);
  switch (mode) {
    case 'down': return q;
    case 'up': return away;
    case 'floor': return neg ? away : q;
    case 'ceil': return neg ? q : away;
    case 'half_up': return twice >= d ? away : q;
    case 'half_even': return twice > d || (twice === d && (q & 1n) !== 0n) ? away : q;
  }
}
