/**
 * The small formats both message families share: ISIN, BIC, ISO 4217 currencies, decimal strings,
 * and the SWIFT FIN character sets and decimal notation. Pure functions; no domain.
 */
import cc from 'currency-codes';
import { isValidIsin } from '../../reference/index.js';

/** ISO 9362 BIC as ISO 20022 writes it (AnyBICDec2014Identifier / BICFIDec2014Identifier). */
export const BIC_RE = /^[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/;
/** A BIC as SWIFT FIN field 95P takes it: 4!a2!a2!c[3!c] (the institution code is letters only). */
export const FIN_BIC_RE = /^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/;
/** ISO 6166 ISIN shape (ISIN2021Identifier). The check digit is {@link isinCheckDigitOk}. */
export const ISIN_RE = /^[A-Z]{2}[A-Z0-9]{9}[0-9]$/;
/** ISO 4217 shape (ActiveCurrencyCode); whether the code exists is {@link currencyDigits}. */
export const CCY_RE = /^[A-Z]{3}$/;
/** A non-negative decimal string as files carry it: "1234.50", "100", "0.000001". No sign, no exponent. */
export const DECIMAL_RE = /^\d+(\.\d+)?$/;

/** A well-formed ISIN whose check digit (ISO 6166) is right: the reference module's check. */
export const isinCheckDigitOk = (isin: string): boolean => isValidIsin(isin);
export { isValidIsin };

// "No currency" and "testing" codes exist in ISO 4217 but never settle anything.
const NOT_SETTLEMENT_CURRENCIES = new Set(['XXX', 'XTS']);

/** The minor units of an ISO 4217 currency that can settle (USD 2, JPY 0, BHD 3); undefined otherwise. */
export function currencyDigits(code: string): number | undefined {
  if (!CCY_RE.test(code) || NOT_SETTLEMENT_CURRENCIES.has(code)) return undefined;
  return cc.code(code)?.digits;
}

/** Digits after the point, ignoring trailing zeros ("1.500" has 1). */
export function fractionDigits(dec: string): number {
  const frac = dec.split('.')[1] ?? '';
  return frac.replace(/0+$/, '').length;
}

/** Significant digits, as XSD totalDigits counts them ("001.500" has 2). */
export function totalDigits(dec: string): number {
  const [int = '', frac = ''] = dec.split('.');
  return (int.replace(/^0+/, '') + frac.replace(/0+$/, '')).replace(/^0+/, '').length || 1;
}

/** The canonical form: no leading zeros, no trailing fraction zeros ("0100.50" -> "100.5", "3.0" -> "3"). */
export function canonicalDecimal(dec: string): string {
  const [intRaw = '0', fracRaw = ''] = dec.split('.');
  const int = intRaw.replace(/^0+(?=\d)/, '');
  const frac = fracRaw.replace(/0+$/, '');
  return frac ? `${int}.${frac}` : int;
}

/** A decimal string with exactly `scale` decimals, padding with zeros; callers check precision first. */
export function fixedDecimal(dec: string, scale: number): string {
  const c = canonicalDecimal(dec);
  const [int, frac = ''] = c.split('.');
  return scale === 0 ? int! : `${int}.${frac.padEnd(scale, '0')}`;
}

// ---- SWIFT FIN -------------------------------------------------------------------------------

/** FIN character set x: the only characters a free-text FIN field may hold (besides CrLf). */
export const FIN_X_RE = /^[A-Za-z0-9/\-?:().,'+ ]*$/;
/** FIN 16x-style reference: x characters, not starting or ending with '/', no '//'. */
export const finReferenceOk = (s: string, max: number): boolean =>
  s.length >= 1 && s.length <= max && FIN_X_RE.test(s) && !s.startsWith('/') && !s.endsWith('/') && !s.includes('//');

/**
 * FIN decimal (format "15d"): digits, a comma as decimal mark (always present, "100," for a whole
 * number), at least one digit before it, at most `max` characters including the comma.
 */
export const finDecimalOk = (s: string, max = 15): boolean => /^\d+,\d*$/.test(s) && s.length <= max;

/** Decimal string -> FIN notation ("1234.50" -> "1234,5", "100" -> "100,"). Canonical first, so it is short. */
export function toFinDecimal(dec: string): string {
  const c = canonicalDecimal(dec);
  return c.includes('.') ? c.replace('.', ',') : `${c},`;
}

/** FIN notation -> decimal string ("1234,56" -> "1234.56", "100," -> "100"). Callers check the form first. */
export function fromFinDecimal(s: string): string {
  const [int = '0', frac = ''] = s.split(',');
  return canonicalDecimal(frac ? `${int}.${frac}` : int);
}

/** FIN date 8!n (YYYYMMDD) -> YYYY-MM-DD, or undefined when it is not a calendar day. */
export function fromFinDate(s: string): string | undefined {
  if (!/^\d{8}$/.test(s)) return undefined;
  const iso = `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}`;
  const d = new Date(`${iso}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === iso ? iso : undefined;
}

/** YYYY-MM-DD -> FIN date YYYYMMDD. */
export const toFinDate = (iso: string): string => iso.replaceAll('-', '');

/**
 * Free text -> FIN x characters: accents dropped (é -> e), '&' -> '+', '_' -> '-', anything else
 * outside the set -> space, runs of spaces folded. For names only: identifiers are refused, not
 * rewritten.
 */
export function toFinText(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/&/g, '+')
    .replace(/_/g, '-')
    .replace(/[^A-Za-z0-9/\-?:().,'+ ]/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim();
}

/** IBAN2007Identifier's pattern (ISO 13616): country, 2 check digits, up to 30 letters or digits. */
export const IBAN_RE = /^[A-Z]{2}[0-9]{2}[a-zA-Z0-9]{1,30}$/;

/** An IBAN with a right check (ISO 7064 mod 97-10): moved first four to the end, letters as 10-35, the number mod 97 is 1. */
export function isValidIban(s: string): boolean {
  if (!IBAN_RE.test(s)) return false;
  const digits = (s.slice(4) + s.slice(0, 4)).toUpperCase().replace(/[A-Z]/g, (ch) => String(ch.charCodeAt(0) - 55));
  let rest = 0;
  for (const d of digits) rest = (rest * 10 + Number(d)) % 97;
  return rest === 1;
}
