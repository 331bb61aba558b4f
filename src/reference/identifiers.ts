/**
 * Check digits of security and entity identifiers: ISIN (ISO 6166), CUSIP, LEI (ISO 17442),
 * and the shape of a BIC (ISO 9362).
 */

const alnumValue = (ch: string): number => {
  const c = ch.charCodeAt(0);
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 90) return c - 55; // A = 10 ... Z = 35
  return NaN;
};

/** ISIN: 2-letter country, 9 alphanumerics, a Luhn check digit over the letters expanded to numbers. */
export function isValidIsin(isin: string): boolean {
  if (!/^[A-Z]{2}[A-Z0-9]{9}[0-9]$/.test(isin)) return false;
  const digits = [...isin.slice(0, 11)].map((ch) => String(alnumValue(ch))).join('');
  let sum = 0;
  // Luhn from the right, the check digit excluded: double every other digit starting with the rightmost.
  for (let i = digits.length - 1, dbl = true; i >= 0; i--, dbl = !dbl) {
    let d = Number(digits[i]);
    if (dbl) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return (10 - (sum % 10)) % 10 === Number(isin[11]);
}

/** CUSIP: 8 characters and a check digit (double every second value, sum the digits). */
export function isValidCusip(cusip: string): boolean {
  if (!/^[A-Z0-9*@#]{8}[0-9]$/.test(cusip)) return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) {
    const ch = cusip[i]!;
    let v = ch === '*' ? 36 : ch === '@' ? 37 : ch === '#' ? 38 : alnumValue(ch);
    if (i % 2 === 1) v *= 2;
    sum += Math.floor(v / 10) + (v % 10);
  }
  return (10 - (sum % 10)) % 10 === Number(cusip[8]);
}

/** LEI: 18 alphanumerics and 2 check digits; ISO 7064 MOD 97-10 over the whole gives 1. */
export function isValidLei(lei: string): boolean {
  if (!/^[A-Z0-9]{18}[0-9]{2}$/.test(lei)) return false;
  let rem = 0;
  for (const ch of lei) {
    const v = String(alnumValue(ch));
    for (const d of v) rem = (rem * 10 + Number(d)) % 97;
  }
  return rem === 1;
}

/** BIC: 4-letter institution, 2-letter country, 2 alphanumerics location, optional 3 for the branch. */
export const isValidBic = (bic: string): boolean => /^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/.test(bic);
