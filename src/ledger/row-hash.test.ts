/**
 * The hand-written texts that the ledger hashes for every entry are exactly the canonical JSON
 * they stand for (the definition in hash.ts), whatever the strings hold: quotes, backslashes,
 * control characters, non-ASCII, lone surrogates.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { canonical } from './hash.js';
import { journalRowText } from './row-hash.js';
import { bodyText } from './journal.js';

const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom('', 'a"b', 'back\\slash', 'tab\there', 'line\nbreak', '\u2028', '\ud800', 'é€𝄞'));
const amount = fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }).map(String);

describe('hashed texts', () => {
  it('journalRowText is canonical([seq, id, key, body_hash, date, memo, recorded_at, created_by, reverses, postings])', () => {
    fc.assert(fc.property(
      fc.record({
        seq: fc.bigInt({ min: 1n, max: 10n ** 15n }).map(String), id: text, key: text, body_hash: text, date: text, memo: text, recorded_at: text, created_by: text,
        reverses: fc.option(fc.bigInt({ min: 1n, max: 10n ** 15n }).map(String)),
        postings: fc.array(fc.tuple(fc.integer({ min: 0, max: 32767 }), fc.integer({ min: 1, max: 2 ** 31 - 1 }), text, amount, text)),
      }),
      (r) => {
        expect(journalRowText(r)).toBe(canonical([r.seq, r.id, r.key, r.body_hash, r.date, r.memo, r.recorded_at, r.created_by, r.reverses, r.postings]));
      }), { numRuns: 500 });
  });

  it('bodyText is canonical({ date, memo, reverses, postings })', () => {
    fc.assert(fc.property(text, text, fc.option(text), fc.array(fc.record({ account: text, asset: text, minor: fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }) })), (date, memo, reverses, legs) => {
      expect(bodyText(date, memo, legs, reverses)).toBe(canonical({ date, memo, reverses, postings: legs.map((l) => [l.account, l.asset, l.minor.toString()]) }));
    }), { numRuns: 500 });
  });
});
