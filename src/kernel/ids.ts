import { randomBytes, randomFillSync } from 'node:crypto';
import { monotonicFactory } from 'ulid';

/**
 * ulid's own source of randomness asks crypto for one byte per character (sixteen calls an id);
 * this one fills a pooled buffer at a time and hands out its bytes. Each byte / 256 is a fraction
 * in [0, 1) that ulid maps to one of its 32 characters (byte >> 3): uniform, as before.
 */
const POOL = new Uint8Array(4096);
let next = POOL.length;
const pooledRandom = (): number => {
  if (next === POOL.length) {
    randomFillSync(POOL);
    next = 0;
  }
  return POOL[next++]! / 256;
};

const ulid = monotonicFactory(pooledRandom);

/** Prefixed, time-sortable ids: `je_01J...`. */
export const newId = (prefix: string): string => `${prefix}_${ulid()}`;

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** The 1,024 two-character strings of Crockford's base 32, by value. */
const CROCKFORD_PAIRS = Array.from({ length: 1024 }, (_, v) => CROCKFORD[v >>> 5]! + CROCKFORD[v & 31]!);
/**
 * Ids for the many rows of one statement, as newId makes them (`prefix_` and a ULID: 10 characters
 * of time, 16 of randomness) at a fraction of the cost: the time of one newId, 10 random
 * characters of our own, and a counter of 6 (30 bits) from a random start, drawn afresh when it
 * runs out. Increasing, so the rows go into the primary key's index in order; apart from newId's
 * own ids by their randomness, as ULIDs are.
 */
export function idSequence(prefix: string): () => string {
  let head = '', low = 0, left = 0;
  const fresh = () => {
    const base = newId(prefix);
    const r = randomBytes(14);
    let rnd = '';
    for (let i = 0; i < 10; i++) rnd += CROCKFORD[r[i]! & 31];
    head = base.slice(0, prefix.length + 11) + rnd;
    low = r.readUInt32BE(10) & 0x1fffffff; // up to 2^29: at least 2^29 ids before the counter runs out
    left = 0x3fffffff - low;
  };
  return () => {
    if (left <= 0) fresh();
    left--;
    const x = low++;
    return head + CROCKFORD_PAIRS[(x >>> 20) & 1023]! + CROCKFORD_PAIRS[(x >>> 10) & 1023]! + CROCKFORD_PAIRS[x & 1023]!;
  };
}
