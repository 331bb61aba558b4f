import crypto from 'node:crypto';

/**
 * Hash of a row of this module's tables for the audit record (`rowHash`): SHA-256 of its fields
 * as a JSON array, in a fixed order. The audit chain then proves what was written and when.
 */
export function rowDigest(fields: unknown[]): string {
  return crypto.createHash('sha256').update(JSON.stringify(fields, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))).digest('hex');
}
