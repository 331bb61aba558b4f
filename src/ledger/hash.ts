import crypto from 'node:crypto';

/**
 * Canonical JSON: object keys sorted, no spaces. jsonb reorders keys, so every hash is taken
 * over this form, both when a record is written and when it is verified.
 */
export function canonical(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'bigint') return JSON.stringify(v.toString());
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return '{' + Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => JSON.stringify(k) + ':' + canonical(o[k])).join(',') + '}';
  }
  return JSON.stringify(v);
}

export const sha256 = (s: string): string => crypto.createHash('sha256').update(s).digest('hex');
