/**
 * Amounts as statements carry them: decimal strings, signed by a credit/debit indicator, checked
 * against the currency's ISO 4217 minor units, added up as bigint minor units. No JS numbers.
 */
import cc from 'currency-codes';
import { fromMinor } from '../../kernel/index.js';

const scales = new Map<string, number | null>();

/** ISO 4217 minor units of a currency code, or null when it is not a currency. */
export function currencyScale(code: string): number | null {
  let s = scales.get(code);
  if (s === undefined) {
    const c = /^[A-Z]{3}$/.test(code) ? cc.code(code) : undefined;
    s = c ? c.digits : null;
    scales.set(code, s);
  }
  return s;
}

/** A plain unsigned decimal: digits, optionally a point and more digits (ISO 20022 amounts). */
export const UNSIGNED_RE = /^\d{1,30}(?:\.\d{1,20})?$/;
/** A signed decimal string. */
export const SIGNED_RE = /^-?\d{1,30}(?:\.\d{1,20})?$/;

/** Number of decimals written, trailing zeros included ("1.50" -> 2). */
export function decimalsOf(text: string): number {
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

/** Significant decimals (trailing zeros dropped): "1.50" -> 1, "1.00" -> 0. */
export function significantDecimals(text: string): number {
  const dot = text.indexOf('.');
  if (dot < 0) return 0;
  let end = text.length;
  while (end > dot + 1 && text.charCodeAt(end - 1) === 48) end--;
  return end - dot - 1;
}

/** True when the decimal string is zero ("0", "0.00", "-0"). */
export function isZero(text: string): boolean {
  return /^-?0*(?:\.0*)?$/.test(text);
}

/** Sign an unsigned amount: negative for a debit; zero stays unsigned. */
export function signed(text: string, debit: boolean): string {
  return debit && !isZero(text) ? '-' + text : text;
}

/** Signed decimal string to minor units at `scale`; the caller has checked the decimals. */
export function minor(text: string, scale: number): bigint {
  const neg = text.charCodeAt(0) === 45;
  const body = neg ? text.slice(1) : text;
  const dot = body.indexOf('.');
  const int = dot < 0 ? body : body.slice(0, dot);
  let frac = dot < 0 ? '' : body.slice(dot + 1);
  if (frac.length > scale) frac = frac.replace(/0+$/, '');
  if (frac.length > scale) throw new Error(`internal: ${text} has more than ${scale} decimals`);
  const v = BigInt(int + frac.padEnd(scale, '0'));
  return neg ? -v : v;
}

/** Minor units back to a decimal string with exactly `scale` decimals. */
export const format = (m: bigint, scale: number): string => fromMinor(m, scale);

/** Add signed decimal strings exactly (any number of decimals); result with the largest scale seen. */
export function addDecimals(values: readonly string[]): string {
  let scale = 0;
  for (const v of values) scale = Math.max(scale, decimalsOf(v));
  let sum = 0n;
  for (const v of values) sum += minor(v, scale);
  return fromMinor(sum, scale);
}
