import { randomFillSync } from 'node:crypto';
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
