import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import fs from 'node:fs';
import { DomainError } from '../kernel/index.js';
import { affirmationDeadline, isLateAffirmation, parseConfirmations } from './confirmations.js';

const fx = (f: string) => fs.readFileSync(`test/fixtures/settlement/confirmations/${f}`, 'utf8');
const HEADER = 'conf_id,counterparty,trade_date,symbol,side,quantity,price';

describe('confirmation CSV', () => {
  it('reads the records, with their lines, our side, decimals as strings and optional columns', () => {
    const rows = parseConfirmations(fx('street-2026-03-09.csv'), 'street.csv');
    expect(rows).toHaveLength(6);
    expect(rows[0]).toEqual({
      confId: 'G1', counterparty: 'GSCO', tradeDate: '2026-03-09', symbol: 'AAPL', side: 'buy', quantity: '100', price: '190.25',
      settleDate: '2026-03-10', ourRef: null, affirmedAt: null, line: 4,
    });
    expect(rows[1]!.price).toBe('400.00005');
    expect(rows[2]!.ourRef).toBe('E5');
  });

  it('reads short as a sale and affirmed_at as a UTC instant', () => {
    const [r] = parseConfirmations(`${HEADER},affirmed_at\nX,GSCO,2026-03-09,AAPL,short,5,10,2026-03-09T20:15:00-04:00`, 'f.csv');
    expect(r).toMatchObject({ side: 'sell', affirmedAt: '2026-03-10T00:15:00.000Z' });
  });

  it('names every bad record by line, field and rule, and returns nothing', () => {
    const e = (() => { try { parseConfirmations(fx('missing-field.csv'), 'missing-field.csv'); } catch (x) { return x; } })() as DomainError;
    expect(e).toBeInstanceOf(DomainError);
    expect(e.code).toBe('CONFIRMATION_FILE_INVALID');
    expect(e.kind).toBe('invalid');
    expect(e.details.map((d) => [d.record, d.field, d.rule])).toEqual([
      ['missing-field.csv line 3 (B2)', 'quantity', 'REQUIRED'],
      ['missing-field.csv line 4 (B3)', 'side', 'SIDE'],
      ['missing-field.csv line 4 (B3)', 'price', 'DECIMAL'],
    ]);
    expect(e.message).toContain('missing-field.csv line 3 (B2): quantity: is missing');
    expect(e.message).toContain('nothing was applied');
  });

  it('refuses a file without a required column, and a duplicate confirmation', () => {
    expect(() => parseConfirmations('conf_id,counterparty,trade_date,symbol,side,price\nA,GSCO,2026-03-09,AAPL,buy,1', 'f.csv'))
      .toThrow(/missing column\(s\) quantity/);
    expect(() => parseConfirmations(`${HEADER}\nA,GSCO,2026-03-09,AAPL,buy,1,1\nA,GSCO,2026-03-09,AAPL,buy,2,1`, 'f.csv'))
      .toThrow(/f\.csv line 3 \(A\): conf_id: GSCO A is already on line 2/);
    expect(() => parseConfirmations(`${HEADER}\nA,GSCO,2026-02-30,AAPL,buy,1,1`, 'f.csv')).toThrow(/trade_date: "2026-02-30" is not a date/);
  });
});

describe('confirmation CSV, plain files', () => {
  const outcome = (text: string) => {
    try { return { rows: parseConfirmations(text, 'f.csv') }; } catch (e) { return { error: (e as DomainError).message, details: (e as DomainError).details }; }
  };
  it('reads a plain file (no quotes, spaces or comments) as csv-parse does, good or bad, LF or CRLF', () => {
    // The same file with a comment line added at its end goes through csv-parse (a comment is not plain).
    const cell = fc.constantFrom('', 'A1', 'GSCO', 'JPMS', '2026-03-09', '2026-02-30', '2026-03-08', 'AAPL', 'buy', 'SELL', 'short', 'hold', '100', '0', '0.00', '1.5', '-1', '1e3',
      'E5', '2026-03-09T20:15:00-04:00', '2026-03-10T01:30:00Z', 'later');
    const header = fc.shuffledSubarray(['conf_id', 'counterparty', 'trade_date', 'symbol', 'side', 'quantity', 'price', 'settle_date', 'our_ref', 'affirmed_at'], { minLength: 6 });
    const file = header.chain((h) => fc.record({
      h: fc.constant(h),
      rows: fc.array(fc.oneof({ weight: 8, arbitrary: fc.array(cell, { minLength: h.length, maxLength: h.length }) }, { weight: 1, arbitrary: fc.array(cell, { maxLength: h.length + 1 }) }), { maxLength: 12 }),
      blank: fc.array(fc.nat(14), { maxLength: 3 }), crlf: fc.boolean(),
    }));
    fc.assert(fc.property(file, ({ h, rows, blank, crlf }) => {
      const lines = [h.join(','), ...rows.map((r) => r.join(','))];
      for (const b of blank) lines.splice(Math.min(b, lines.length), 0, '');
      const text = lines.join(crlf ? '\r\n' : '\n');
      expect(outcome(text)).toEqual(outcome(text + (crlf ? '\r\n' : '\n') + '# end of file'));
    }), { numRuns: 400 });
  });

  it('takes a file with quotes, spaces or comments through csv-parse, whose fields it trims and unquotes', () => {
    const rows = parseConfirmations(`# from the street\n${HEADER}\n"A,1", GSCO ,2026-03-09,AAPL,buy,5,10\n`, 'f.csv');
    expect(rows).toEqual([expect.objectContaining({ confId: 'A,1', counterparty: 'GSCO', line: 3 })]);
  });
});

describe('SEC Rule 15c6-2 affirmation deadline', () => {
  it('is 9:00 p.m. New York time on trade date, across the DST change of 2026-03-08', () => {
    expect(affirmationDeadline('2026-03-06').toISOString()).toBe('2026-03-07T02:00:00.000Z'); // EST, UTC-5
    expect(affirmationDeadline('2026-03-09').toISOString()).toBe('2026-03-10T01:00:00.000Z'); // EDT, UTC-4
    expect(affirmationDeadline('2026-11-02').toISOString()).toBe('2026-11-03T02:00:00.000Z'); // EST again after 11-01
    expect(affirmationDeadline('2026-03-08').toISOString()).toBe('2026-03-09T01:00:00.000Z'); // the change day itself
  });

  it('flags an affirmation after the deadline as late, not one at it', () => {
    // 20:30 New York on both dates: on time; 21:30: late.
    expect(isLateAffirmation('2026-03-06', new Date('2026-03-07T01:30:00Z'))).toBe(false);
    expect(isLateAffirmation('2026-03-09', new Date('2026-03-10T00:30:00Z'))).toBe(false);
    expect(isLateAffirmation('2026-03-09', new Date('2026-03-10T01:30:00Z'))).toBe(true);
    expect(isLateAffirmation('2026-03-06', new Date('2026-03-07T02:30:00Z'))).toBe(true);
    expect(isLateAffirmation('2026-03-09', new Date('2026-03-10T01:00:00Z'))).toBe(false);
  });
});
