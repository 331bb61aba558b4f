import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { CASH_RULE_NAMES, cashCols, cashMatcher, matchCash, matchHoldings, memoRefs, type CashLine, type CashMovement, type EngineRule } from './engine.js';
import { defaultRules, parseRules, toEngineRules } from './rules.js';

const D = (date: string) => Math.round(Date.parse(`${date}T00:00:00Z`) / 86_400_000);
let nextId = 1;
const line = (amount: bigint, date: string, refs: string[] = [], txCount = 1): CashLine => ({ id: nextId++, amount, day: D(date), refs, txCount });
let nextSeq = 1;
const mv = (amount: bigint, date: string, key = `k${nextSeq}`, memo = '', reverses: number | null = null): CashMovement =>
  ({ seq: nextSeq++, line: 0, amount, day: D(date), key, entryId: `je_${nextSeq}`, memo, reverses });
const RULES = toEngineRules(defaultRules('cash'), 2);

/** Matches as [rule, line ids, our keys], for readable assertions. */
function run(lines: CashLine[], ours: CashMovement[], rules: EngineRule[] = RULES) {
  const r = matchCash(lines, ours, rules);
  return {
    matches: r.matches.map((m) => [m.rule, m.lines.map((i) => lines[i]!.id), m.ours.map((i) => ours[i]!.key)]),
    breaks: r.breaks.map((b) => [b.type, b.lines.map((i) => lines[i]!.id), b.ours.map((i) => ours[i]!.key)]),
  };
}

describe('memo references', () => {
  it('keeps words of 4 characters or more with a digit, trimmed of punctuation', () => {
    expect(memoRefs('Payment 000000002 to Company Name 2, inv. INV-2024/17.')).toEqual(['000000002', 'INV-2024/17']);
    expect(memoRefs('Bank charges')).toEqual([]);
    expect(memoRefs('')).toEqual([]);
  });
});

describe('cash matching', () => {
  it('matches by reference first (key, entry id or a memo word), whatever the order of the lists', () => {
    const a = line(885n, '2014-12-31', ['000000001']);
    const b = line(-700n, '2014-12-31', ['SVC-9', 'E2E-77']);
    const x = mv(-700n, '2014-12-30', 'pay-77', 'Payment E2E-77 to supplier');
    const y = mv(885n, '2014-12-31', '000000001');
    const r = run([a, b], [x, y]);
    // Keys and entry ids first, then words of the memos.
    expect(r.matches).toEqual([['reference', [a.id], ['000000001']], ['reference', [b.id], ['pay-77']]]);
    expect(r.breaks).toEqual([]);
  });

  it('a referenced pair that differs in amount is one amount_differs break; in date beyond the window, date_differs', () => {
    const a = line(-700n, '2014-12-31', ['000000002']);
    const b = line(1500n, '2015-01-20', ['REF-5']);
    const x = mv(-750n, '2014-12-31', 'x', 'refund 000000002');
    const y = mv(1500n, '2015-01-02', 'REF-5');
    const r = run([a, b], [x, y]);
    expect(r.matches).toEqual([]);
    expect(r.breaks).toEqual([['amount_differs', [a.id], ['x']], ['date_differs', [b.id], ['REF-5']]]);
  });

  it('by amount and date: the nearest date within the window, equal dates to the earlier movement', () => {
    const a = line(1000n, '2024-03-05');
    const far = mv(1000n, '2024-03-01', 'far');
    const near = mv(1000n, '2024-03-06', 'near');
    const same1 = mv(2000n, '2024-03-05', 'same1');
    const same2 = mv(2000n, '2024-03-05', 'same2');
    const b = line(2000n, '2024-03-05');
    const r = run([a, b], [far, near, same1, same2]);
    expect(r.matches).toEqual([['amount_date', [a.id], ['near']], ['amount_date', [b.id], ['same1']]]);
    expect(r.breaks).toEqual([['missing_theirs', [], ['far']], ['missing_theirs', [], ['same2']]]);
  });

  it('honours an amount tolerance and a date window', () => {
    const rules = toEngineRules(parseRules([{ rule: 'amount_date', params: { amountTolerance: '0.05', days: 1 } }], 'cash'), 2);
    const a = line(10000n, '2024-03-05');
    const b = line(20000n, '2024-03-05');
    const r = run([a, b], [mv(10004n, '2024-03-06', 'close'), mv(20000n, '2024-03-08', 'late')], rules);
    expect(r.matches).toEqual([['amount_date', [a.id], ['close']]]);
    expect(r.breaks).toEqual([['missing_ours', [b.id], []], ['missing_theirs', [], ['late']]]);
  });

  it('one line for a batch of ours (one-to-many), the transaction count trying that group size first', () => {
    const batch = line(-6000n, '2024-03-05', [], 3);
    const ours = [mv(-1000n, '2024-03-05', 'p1'), mv(-2000n, '2024-03-05', 'p2'), mv(-3000n, '2024-03-04', 'p3'), mv(-5000n, '2024-03-05', 'p4')];
    // p4 + p1 also make 6000 in two; the count says three.
    const r = run([batch], ours);
    expect(r.matches).toEqual([['one_to_many', [batch.id], ['p3', 'p2', 'p1']]]);
    expect(r.breaks).toEqual([['missing_theirs', [], ['p4']]]);
  });

  it('several lines for one of ours (many-to-one), and a group found by a shared reference', () => {
    const l1 = line(2500n, '2024-03-05'), l2 = line(2500n, '2024-03-06'), l3 = line(700n, '2024-03-07', ['BATCH-42']), l4 = line(300n, '2024-03-07', ['BATCH-42']);
    const big = mv(5000n, '2024-03-05', 'deposit');
    const batch = mv(1000n, '2024-03-07', 'b', 'collections BATCH-42');
    const r = run([l1, l2, l3, l4], [big, batch]);
    expect(r.matches).toContainEqual(['many_to_one', [l1.id, l2.id], ['deposit']]);
    expect(r.matches).toContainEqual(['many_to_one', [l3.id, l4.id], ['b']]);
    expect(r.breaks).toEqual([]);
  });

  it('an entry and its reversal cancel out', () => {
    const e = mv(-4200n, '2024-03-05', 'oops');
    const rev = mv(4200n, '2024-03-06', 'reversal:oops', '', e.seq);
    const r = run([], [e, rev]);
    expect(r.matches).toEqual([['reversal', [], ['oops', 'reversal:oops']]]);
  });

  it('amounts beyond 2^53 (no exact double) match and differ as bigints, by reference, amount and date, group and reversal', () => {
    const big = 2n ** 60n;
    const a = line(big + 1n, '2024-05-02', ['BIG-1']);
    const b = line(big + 3n, '2024-05-02');
    const c = line(big + 5n, '2024-05-02', ['BIG-2']);
    const d = line(2n * big + 2n, '2024-05-02', [], 2);
    const x = mv(big + 1n, '2024-05-02', 'BIG-1');
    const y = mv(big + 3n, '2024-05-03', 'y');
    const z = mv(big + 6n, '2024-05-02', 'BIG-2');
    const g1 = mv(big, '2024-05-02', 'g1');
    const g2 = mv(big + 2n, '2024-05-02', 'g2');
    const r1 = mv(-(big + 9n), '2024-05-02', 'r1');
    const r2 = mv(big + 9n, '2024-05-02', 'r2', '', r1.seq);
    const r = run([a, b, c, d], [x, y, z, g1, g2, r1, r2]);
    expect(r.matches).toEqual([['reference', [a.id], ['BIG-1']], ['amount_date', [b.id], ['y']], ['one_to_many', [d.id], ['g1', 'g2']], ['reversal', [], ['r1', 'r2']]]);
    expect(r.breaks).toEqual([['amount_differs', [c.id], ['BIG-2']]]);
  });

  it('matches each item at most once and reports every unmatched item once (property)', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ a: fc.integer({ min: -50, max: 50 }), d: fc.integer({ min: 0, max: 6 }), r: fc.integer({ min: 0, max: 8 }) }), { maxLength: 25 }),
      fc.array(fc.record({ a: fc.integer({ min: -50, max: 50 }), d: fc.integer({ min: 0, max: 6 }), r: fc.integer({ min: 0, max: 8 }) }), { maxLength: 25 }),
      (ls, os) => {
        const lines = ls.map((x, i): CashLine => ({ id: i, amount: BigInt(x.a * 100), day: 19000 + x.d, refs: x.r ? [`R${x.r}00`] : [], txCount: 1 }));
        const ours = os.map((x, i): CashMovement => ({ seq: i + 1, line: 0, amount: BigInt(x.a * 100), day: 19000 + x.d, key: `K${i}`, entryId: `je${i}`, memo: x.r ? `ref R${x.r}00` : '', reverses: null }));
        const r = matchCash(lines, ours, RULES);
        const seenL = [...r.matches.flatMap((m) => m.lines), ...r.breaks.flatMap((b) => b.lines)];
        const seenO = [...r.matches.flatMap((m) => m.ours), ...r.breaks.flatMap((b) => b.ours)];
        expect(seenL.sort((a, b) => a - b)).toEqual(lines.map((_, i) => i));
        expect(seenO.sort((a, b) => a - b)).toEqual(ours.map((_, i) => i));
        for (const m of r.matches) {
          const sl = m.lines.reduce((a, i) => a + lines[i]!.amount, 0n);
          const so = m.ours.reduce((a, i) => a + ours[i]!.amount, 0n);
          // Default rules have no tolerance: a match's two sides add up to the same amount.
          expect(m.rule === 'reversal' ? so : sl).toBe(m.rule === 'reversal' ? 0n : so);
        }
      }), { numRuns: 300 });
  });
});

describe('holdings', () => {
  it('sums lines of one security, compares with our position; the rest are quantity_differs / missing breaks', () => {
    const r = matchHoldings(
      [{ id: 1, asset: 'AAPL', quantity: 60n }, { id: 2, asset: 'AAPL', quantity: 40n }, { id: 3, asset: 'MSFT', quantity: 25n }, { id: 4, asset: null, quantity: null }, { id: 5, asset: 'IBM', quantity: 7n }],
      [{ asset: 'AAPL', quantity: 100n }, { asset: 'MSFT', quantity: 20n }, { asset: 'TSLA', quantity: 3n }], 0n);
    expect(r.matches).toEqual([{ lines: [0, 1], asset: 'AAPL', quantity: 100n }]);
    expect(r.breaks).toEqual([
      { type: 'missing_ours', lines: [3], asset: null, theirs: null, ours: null },
      { type: 'missing_ours', lines: [4], asset: 'IBM', theirs: 7n, ours: 0n },
      { type: 'quantity_differs', lines: [2], asset: 'MSFT', theirs: 25n, ours: 20n },
      { type: 'missing_theirs', lines: [], asset: 'TSLA', theirs: 0n, ours: 3n },
    ]);
  });
});

describe('rules', () => {
  it('fills defaults and refuses unknown rules, parameters or a rule of the other kind, naming it', () => {
    expect(parseRules([{ rule: 'reference' }, { rule: 'one_to_many', params: { maxGroup: 3 } }], 'cash')).toEqual([
      { rule: 'reference', params: { amountTolerance: '0', days: 5 } },
      { rule: 'one_to_many', params: { amountTolerance: '0', days: 2, maxGroup: 3, maxBlind: 2, maxCandidates: 40 } },
    ]);
    expect(() => parseRules([{ rule: 'reference', params: { days: -1 } }], 'cash')).toThrow(/rule #1: 1.params.days|params.days/);
    expect(() => parseRules([{ rule: 'reference', params: { dayz: 1 } }], 'cash')).toThrow(/rule #1/);
    expect(() => parseRules([{ rule: 'position' }], 'cash')).toThrow(/rule #1: "position" does not apply to a cash account/);
    expect(() => parseRules([], 'cash')).toThrow(/rules/);
    expect(() => toEngineRules(parseRules([{ rule: 'amount_date', params: { amountTolerance: '0.001' } }], 'cash'), 2)).toThrow(/decimals/);
  });
});

describe('cash matching step by step (what a run loads lazily)', () => {
  it('asks once for the strings of the movements still free, after the resolved references matched, and ends as matchCash does', () => {
    const lines = [line(100n, '2024-03-01', ['k-a']), line(250n, '2024-03-01', ['SVC-1']), line(-40n, '2024-03-02', ['je-x'])];
    const ours = [mv(100n, '2024-03-01', 'k-a'), mv(250n, '2024-03-02', 'k-b'), mv(-40n, '2024-03-02', 'k-c')];
    const { lines: L, ours: O } = cashCols(lines, ours);
    // The loader resolved the first line's own reference to the first entry (and knows where it is).
    L.refSeq[0] = ours[0]!.seq;
    L.refOur = Int32Array.from([0, -1, -1]);
    const read: number[][] = [];
    const O2 = { ...O, entryId: (o: number) => { if (!read.some((r) => r.includes(o))) throw new Error(`entry id of ${o} read before it was asked for`); return ours[o]!.entryId; } };
    const steps = cashMatcher(L, O2, RULES);
    let asked = 0;
    let r = steps.next();
    while (!r.done) {
      if (r.value) {
        asked++;
        // Only the first line matched so far (by its resolved reference); the other two movements are free.
        expect(r.value.matches.n).toBe(1);
        read.push([...r.value.free].flatMap((f, o) => (f ? [o] : [])));
        expect(read[0]).toEqual([1, 2]);
      }
      r = steps.next();
    }
    expect(asked).toBe(1);
    const m = r.value.matches;
    const whole = matchCash(lines, ours, RULES);
    expect(Array.from({ length: m.n }, (_, k) => [m.rule[k], m.line[k], m.our[k]])).toEqual(
      whole.matches.map((x) => [CASH_RULE_NAMES.indexOf(x.rule as never), x.lines[0] ?? -1, x.ours[0] ?? -1]));
    expect(r.value.breaks).toEqual(whole.breaks);
  });
});
