/**
 * The matcher, in memory and without I/O: statement lines against our movements (cash) or our
 * positions (holdings), by ordered rules. Amounts are bigint minor units of the linked asset,
 * dates are day numbers (days since an epoch; only differences matter). Everything that does not
 * match comes back as a break with its type and items.
 *
 * Rules (see rules.ts for their parameters and defaults):
 * - `reference`: one to one, a statement reference (ourRef, servicerRef, other refs) equal to our
 *   entry key, entry id, or a reference-like word of its memo; amount within the tolerance and date
 *   within the window. A referenced pair that differs is remembered: if neither side matches
 *   anything else, it is one break (amount_differs or date_differs) rather than two.
 * - `amount_date`: one to one by amount (within the tolerance) and date within the window, nearest
 *   date first.
 * - `one_to_many` / `many_to_one`: one statement line against a group of our movements (a batch we
 *   booked line by line and the bank booked as one), or the reverse. First the group that shares a
 *   reference with the single item; then subsets of the same sign within the date window among the
 *   `maxCandidates` nearest: of the statement's transaction count (up to `maxGroup`) when it gives
 *   one, else of 2 up to `maxBlind` items.
 * - `reversal`: our entry and its reversal, both on the account and both unmatched, match each other.
 * Holdings: per security, the statement's quantity (lines of one security summed) against our
 * position, equal within the tolerance; otherwise quantity_differs, missing_ours, missing_theirs.
 */

export type BreakType = 'missing_ours' | 'missing_theirs' | 'amount_differs' | 'quantity_differs' | 'date_differs';

/** A statement line (cash), as the matcher sees it. */
export interface CashLine {
  id: number;
  amount: bigint;
  day: number;
  /** ourRef, servicerRef and the other references. */
  refs: string[];
  txCount: number;
  /**
   * The entry seq its ourRef names, when the loader looked it up (in the ledger's index of keys and
   * entry ids); -1 or absent when it did not or found none. Saves hashing a million references here.
   */
  refSeq?: number;
}

/** One of our postings on the linked account. */
export interface CashMovement {
  seq: number;
  line: number;
  amount: bigint;
  day: number;
  key: string;
  entryId: string;
  memo: string;
  /** Seq of the entry this one reverses, if it is a reversal. */
  reverses: number | null;
}

export interface ReferenceParams { amountTolerance: bigint; days: number }
export interface AmountDateParams { amountTolerance: bigint; days: number }
export interface GroupParams { amountTolerance: bigint; days: number; maxGroup: number; maxBlind: number; maxCandidates: number }

export type EngineRule =
  | { rule: 'reference'; params: ReferenceParams }
  | { rule: 'amount_date'; params: AmountDateParams }
  | { rule: 'one_to_many'; params: GroupParams }
  | { rule: 'many_to_one'; params: GroupParams }
  | { rule: 'reversal'; params: Record<string, never> };

/** A match: indexes into the lines and movements given. */
export interface CashMatch { rule: string; lines: number[]; ours: number[] }
export interface CashBreak { type: BreakType; lines: number[]; ours: number[] }
export interface CashResult { matches: CashMatch[]; breaks: CashBreak[] }

const abs = (x: bigint) => (x < 0n ? -x : x);
/** The largest integer a double holds exactly (and every integer below it). */
const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);
/** |a - b| <= tol; without a BigInt allocation in the common case of no tolerance. */
const within = (a: bigint, b: bigint, tol: bigint) => (tol === 0n ? a === b : abs(a - b) <= tol);
const sign = (x: bigint) => (x < 0n ? -1 : x > 0n ? 1 : 0);

/** Words of a memo that look like references: at least 4 characters, at least one digit. */
export function memoRefs(memo: string): string[] {
  if (!memo) return [];
  const out: string[] = [];
  for (const w of memo.split(/[\s,;:()[\]{}"'<>|=]+/)) {
    const t = w.replace(/^[.\-/_#]+|[.\-/_#]+$/g, '');
    if (t.length >= 4 && /\d/.test(t)) out.push(t);
  }
  return out;
}

/**
 * The items as columns (what the run loads: a million lines and movements without an object
 * each). Amounts are minor units as doubles where exact (|x| <= 2^53 - 1), else NaN with the
 * bigint in `big`; strings are read through functions (the loader keeps them in its COPY buffer
 * and makes a string only for the items that still need one).
 */
export interface CashLineCols {
  n: number;
  amt: Float64Array;
  big: Map<number, bigint>;
  day: Int32Array;
  txCount: Int32Array;
  /** The entry seq the line's ourRef names (see CashLine.refSeq), -1 when none. */
  refSeq: Float64Array;
  /**
   * Where the loader found that entry among our movements: the index of its first posting there
   * (movements in entry order), -1 when it did not (then it is searched for). Optional.
   */
  refOur?: Int32Array;
  refs: (l: number) => string[];
}

export interface CashOurCols {
  n: number;
  seq: Float64Array;
  amt: Float64Array;
  big: Map<number, bigint>;
  day: Int32Array;
  /** Seq of the entry this one reverses, -1 when none. */
  reverses: Float64Array;
  key: (o: number) => string;
  entryId: (o: number) => string;
  memo: (o: number) => string;
}

export const CASH_RULE_NAMES = ['reference', 'amount_date', 'one_to_many', 'many_to_one', 'reversal'] as const;
const R_REFERENCE = 0, R_AMOUNT_DATE = 1, R_ONE_TO_MANY = 2, R_MANY_TO_ONE = 3, R_REVERSAL = 4;

/**
 * The matches as columns, in the order made: match k is rule `CASH_RULE_NAMES[rule[k]]`, of line
 * `line[k]` and movement `our[k]` (-1: none on that side); -2 in both: a group, in `groups`.
 */
export interface CashMatchCols { n: number; rule: Uint8Array; line: Int32Array; our: Int32Array; groups: Map<number, { lines: number[]; ours: number[] }> }
export interface CashResultCols { matches: CashMatchCols; breaks: CashBreak[] }

/** Amount of item i as a bigint. */
const bigOf = (amt: Float64Array, big: Map<number, bigint>, i: number): bigint => { const a = amt[i]!; return a === a ? BigInt(a) : big.get(i)!; };

/** The exact double of a bigint, NaN when it has none. */
const exactNum = (x: bigint): number => (x >= -MAX_EXACT && x <= MAX_EXACT ? Number(x) : NaN);

/** Lines and movements as objects (tests, small callers) to columns. */
export function cashCols(lines: CashLine[], ours: CashMovement[]): { lines: CashLineCols; ours: CashOurCols } {
  const L: CashLineCols = {
    n: lines.length, amt: new Float64Array(lines.length), big: new Map(), day: new Int32Array(lines.length), txCount: new Int32Array(lines.length),
    refSeq: new Float64Array(lines.length), refs: (l) => lines[l]!.refs,
  };
  lines.forEach((x, i) => {
    L.amt[i] = exactNum(x.amount);
    if (L.amt[i] !== L.amt[i]) L.big.set(i, x.amount);
    L.day[i] = x.day; L.txCount[i] = x.txCount; L.refSeq[i] = x.refSeq ?? -1;
  });
  const O: CashOurCols = {
    n: ours.length, seq: new Float64Array(ours.length), amt: new Float64Array(ours.length), big: new Map(), day: new Int32Array(ours.length),
    reverses: new Float64Array(ours.length), key: (o) => ours[o]!.key, entryId: (o) => ours[o]!.entryId, memo: (o) => ours[o]!.memo,
  };
  ours.forEach((x, i) => {
    O.seq[i] = x.seq;
    O.amt[i] = exactNum(x.amount);
    if (O.amt[i] !== O.amt[i]) O.big.set(i, x.amount);
    O.day[i] = x.day; O.reverses[i] = x.reverses === null ? -1 : x.reverses;
  });
  return { lines: L, ours: O };
}

/**
 * Match cash lines against our movements with the rules in order. Items already matched (in
 * earlier runs) are simply not given. Deterministic: the same input gives the same matches.
 */
export function matchCash(lines: CashLine[], ours: CashMovement[], rules: EngineRule[]): CashResult {
  const c = cashCols(lines, ours);
  const r = matchCashCols(c.lines, c.ours, rules);
  const m = r.matches;
  const matches: CashMatch[] = [];
  for (let k = 0; k < m.n; k++) {
    const g = m.groups.get(k);
    matches.push({ rule: CASH_RULE_NAMES[m.rule[k]!]!, lines: g ? g.lines : m.line[k]! >= 0 ? [m.line[k]!] : [], ours: g ? g.ours : m.our[k]! >= 0 ? [m.our[k]!] : [] });
  }
  return { matches, breaks: r.breaks };
}

/** matchCash on columns: the same matches and breaks. */
export function matchCashCols(L: CashLineCols, O: CashOurCols, rules: EngineRule[]): CashResultCols {
  const steps = cashMatcher(L, O, rules);
  for (let r = steps.next(); ; r = steps.next()) if (r.done) return r.value;
}

/** What cashMatcher asks for: see there. */
export interface CashStep {
  /** The movements still free: their entry ids, memos and reversal links are wanted. */
  free: Uint8Array;
  /** The matches so far (the caller may write them meanwhile: they do not change). */
  matches: CashMatchCols;
}

/**
 * matchCashCols step by step, for a loader that reads our entry ids, memos and reversal links
 * only for the movements that still need them: it yields once a CashStep (the movements still
 * free, the matches so far) before it first reads `entryId`, `memo` or `reverses`, which the
 * caller fills in for those before it goes on. Matching by resolved references (`refSeq`) and by
 * amount and date reads neither. It also yields null every few thousand items: a caller that
 * writes the matches so far meanwhile gives the event loop a turn then.
 */
export function* cashMatcher(L: CashLineCols, O: CashOurCols, rules: EngineRule[]): Generator<CashStep | null, CashResultCols, void> {
  const nL = L.n, nO = O.n;
  let asked = false;
  let tick = 0;
  const lineFree = new Uint8Array(nL).fill(1);
  const ourFree = new Uint8Array(nO).fill(1);
  // Every match takes at least one item.
  const M: CashMatchCols = { n: 0, rule: new Uint8Array(nL + nO), line: new Int32Array(nL + nO), our: new Int32Array(nL + nO), groups: new Map() };
  const lBig = (l: number) => bigOf(L.amt, L.big, l);
  const oBig = (o: number) => bigOf(O.amt, O.big, o);
  /** Memo words of our movements (lazily). */
  const weakOf = new Map<number, string[]>();
  const weak = (o: number) => { let w = weakOf.get(o); if (!w) weakOf.set(o, w = memoRefs(O.memo(o))); return w; };
  const allRefs = (o: number) => [O.key(o), O.entryId(o), ...weak(o)];
  /** Referenced pairs that differ: line index -> our index (and back). */
  const suspectOfLine = new Map<number, { our: number; type: 'amount_differs' | 'date_differs' }>();
  const suspectOfOur = new Map<number, number>();

  const take1 = (rule: number, l: number, o: number) => {
    lineFree[l] = 0;
    ourFree[o] = 0;
    const k = M.n++;
    M.rule[k] = rule; M.line[k] = l; M.our[k] = o;
  };
  const take = (rule: number, ls: number[], os: number[]) => {
    for (const l of ls) lineFree[l] = 0;
    for (const o of os) ourFree[o] = 0;
    const k = M.n++;
    M.rule[k] = rule; M.line[k] = -2; M.our[k] = -2;
    M.groups.set(k, { lines: ls, ours: os });
  };
  /** |line - ours| within the tolerance: in doubles when exact there. */
  const withinLO = (l: number, o: number, tol: bigint, tolN: number) => {
    const a = L.amt[l]!, b = O.amt[o]!;
    if (a === a && b === b && tolN === tolN) return tolN === 0 ? a === b : Math.abs(a - b) <= tolN;
    return within(lBig(l), oBig(o), tol);
  };

  /** Index of the free lines' references (built when a rule needs it, over the lines still free). */
  const lineRefs = () => buildIndex(nL, L.refs, lineFree);

  for (const r of rules) {
    switch (r.rule) {
      case 'reference': {
        const { amountTolerance: tol, days } = r.params;
        const tolN = exactNum(tol);
        // Our keys and entry ids (one entry each: they are unique in the ledger), probed with each
        // line's references; then the reference-like words of the memos of what is left.
        const buildStrong = () => {
          const strong = new Map<string, number>();
          for (let o = 0; o < nO; o++) {
            if (!ourFree[o]) continue;
            for (const k of [O.key(o), O.entryId(o)]) {
              const had = strong.get(k);
              strong.set(k, had === undefined || had === o ? o : -1);
            }
          }
          return strong;
        };
        const consider = (l: number, cands: number[]) => {
          const day = L.day[l]!;
          let best = -1;
          for (let i = 0; i < cands.length; i++) {
            const o = cands[i]!;
            if (!withinLO(l, o, tol, tolN) || Math.abs(day - O.day[o]!) > days) continue;
            if (best < 0 || Math.abs(day - O.day[o]!) < Math.abs(O.day[best]! - day)) best = o;
          }
          if (best >= 0) { take1(R_REFERENCE, l, best); return; }
          // The closest referenced movement that differs: a break of its own if nothing else matches them.
          if (suspectOfLine.has(l)) return;
          const amount = lBig(l);
          const o = [...cands].sort((a, b) => {
            const da = abs(oBig(a) - amount), db = abs(oBig(b) - amount);
            return da < db ? -1 : da > db ? 1 : a - b;
          }).find((x) => !suspectOfOur.has(x));
          if (o === undefined) return;
          suspectOfLine.set(l, { our: o, type: withinLO(l, o, tol, tolN) ? 'date_differs' : 'amount_differs' });
          suspectOfOur.set(o, l);
        };
        // Lines whose reference the loader resolved to an entry: that entry's free postings, where the
        // loader found them or by binary search over the movements in entry order.
        let sorted = true;
        for (let o = 1; o < nO && sorted; o++) if (O.seq[o - 1]! > O.seq[o]!) sorted = false;
        const bySeq = new Int32Array(nO);
        for (let o = 0; o < nO; o++) bySeq[o] = o;
        if (!sorted) bySeq.sort((a, b) => O.seq[a]! - O.seq[b]! || a - b);
        const refOur = sorted ? L.refOur : undefined;
        const cands: number[] = [];
        for (let l = 0; l < nL; l++) {
          const seq = L.refSeq[l]!;
          if (seq < 0 || !lineFree[l]) continue;
          let lo = refOur ? refOur[l]! : -1;
          if (lo < 0 || O.seq[lo] !== seq || (lo > 0 && O.seq[lo - 1] === seq)) {
            lo = 0;
            let hi = nO;
            while (lo < hi) { const m = (lo + hi) >> 1; if (O.seq[bySeq[m]!]! < seq) lo = m + 1; else hi = m; }
          }
          if (lo < nO && O.seq[bySeq[lo]!] === seq && (lo + 1 === nO || O.seq[bySeq[lo + 1]!] !== seq)) {
            // One posting of the entry (the common case): no list.
            const o = bySeq[lo]!;
            if (ourFree[o]) {
              const day = L.day[l]!;
              if (withinLO(l, o, tol, tolN) && Math.abs(day - O.day[o]!) <= days) take1(R_REFERENCE, l, o);
              else { cands.length = 0; cands.push(o); consider(l, cands); }
            }
            continue;
          }
          cands.length = 0;
          for (let k = lo; k < nO && O.seq[bySeq[k]!] === seq; k++) if (ourFree[bySeq[k]!]) cands.push(bySeq[k]!);
          if (cands.length) consider(l, cands);
        }
        if (!asked) { asked = true; yield { free: ourFree, matches: M }; }
        let left = false;
        const strong = buildStrong();
        for (let l = 0; l < nL; l++) {
          if ((++tick & 8191) === 0) yield null;
          if (!lineFree[l] || suspectOfLine.has(l)) continue;
          const rs = L.refs(l);
          let cands: number[] | undefined;
          for (let i = 0; i < rs.length; i++) {
            const o = strong.get(rs[i]!);
            if (o === undefined || o < 0 || !ourFree[o]) continue;
            if (!cands) cands = [o]; else if (!cands.includes(o)) cands.push(o);
          }
          if (cands) consider(l, cands);
          else if (rs.length) left = true;
        }
        if (left) {
          const index = buildIndex(nO, weak, ourFree);
          for (let l = 0; l < nL; l++) {
            if ((++tick & 8191) === 0) yield null;
            if (!lineFree[l] || suspectOfLine.has(l) || !L.refs(l).length) continue;
            const cands: number[] = [];
            for (const ref of L.refs(l)) for (const o of index.get(ref) ?? []) if (ourFree[o] && !cands.includes(o)) cands.push(o);
            if (cands.length) consider(l, cands);
          }
        }
        break;
      }
      case 'amount_date': {
        const { amountTolerance: tol, days } = r.params;
        if (tol === 0n) {
          // By exact amount: a hash map of the free movements, each list sorted by date (amounts as
          // doubles where exact, else bigints: one value never has both keys).
          const byAmount = new Map<number | bigint, number[]>();
          for (let o = 0; o < nO; o++) {
            if (!ourFree[o]) continue;
            const a = O.amt[o]!;
            const k = a === a ? a : O.big.get(o)!;
            const list = byAmount.get(k);
            if (list) list.push(o); else byAmount.set(k, [o]);
          }
          for (const list of byAmount.values()) if (list.length > 1) list.sort((a, b) => O.day[a]! - O.day[b]! || a - b);
          for (let l = 0; l < nL; l++) {
            if ((++tick & 8191) === 0) yield null;
            if (!lineFree[l]) continue;
            const a = L.amt[l]!;
            const list = byAmount.get(a === a ? a : L.big.get(l)!);
            if (!list) continue;
            const o = nearestFree(list, L.day[l]!, days, ourFree, O.day);
            if (o >= 0) take1(R_AMOUNT_DATE, l, o);
          }
        } else {
          // Within a tolerance: the free movements sorted by amount, a range per line.
          const amounts = new Map<number, bigint>();
          for (let o = 0; o < nO; o++) if (ourFree[o]) amounts.set(o, oBig(o));
          const sorted = [...amounts.keys()].sort((a, b) => {
            const x = amounts.get(a)!, y = amounts.get(b)!;
            return x < y ? -1 : x > y ? 1 : O.day[a]! - O.day[b]! || a - b;
          });
          for (let l = 0; l < nL; l++) {
            if (!lineFree[l]) continue;
            const amount = lBig(l), day = L.day[l]!;
            let lo = 0, hi = sorted.length;
            while (lo < hi) { const m = (lo + hi) >> 1; if (amounts.get(sorted[m]!)! < amount - tol) lo = m + 1; else hi = m; }
            let best = -1;
            let bestKey: [bigint, number] = [0n, 0];
            for (let k = lo; k < sorted.length && amounts.get(sorted[k]!)! <= amount + tol; k++) {
              const o = sorted[k]!;
              if (!ourFree[o]) continue;
              const dd = Math.abs(O.day[o]! - day);
              if (dd > days) continue;
              const key: [bigint, number] = [abs(amounts.get(o)! - amount), dd];
              if (best < 0 || key[0] < bestKey[0] || (key[0] === bestKey[0] && (key[1] < bestKey[1] || (key[1] === bestKey[1] && o < best)))) { best = o; bestKey = key; }
            }
            if (best >= 0) take1(R_AMOUNT_DATE, l, best);
          }
        }
        break;
      }
      case 'one_to_many': {
        // One line, several of ours.
        if (!asked) { asked = true; yield { free: ourFree, matches: M }; }
        const oursRefIndex = buildIndex(nO, allRefs, ourFree);
        yield* groupMatch(
          { n: nL, free: lineFree, day: L.day, amt: L.amt, big: lBig },
          { n: nO, free: ourFree, day: O.day, amt: O.amt, big: oBig },
          L.refs, (ref) => oursRefIndex.get(ref) ?? [],
          (l) => L.txCount[l]!, r.params,
          (l, os) => take(R_ONE_TO_MANY, [l], os),
        );
        break;
      }
      case 'many_to_one': {
        // One of ours, several lines.
        if (!asked) { asked = true; yield { free: ourFree, matches: M }; }
        const index = lineRefs();
        yield* groupMatch(
          { n: nO, free: ourFree, day: O.day, amt: O.amt, big: oBig },
          { n: nL, free: lineFree, day: L.day, amt: L.amt, big: lBig },
          allRefs, (ref) => index.get(ref) ?? [],
          () => 0, r.params,
          (o, ls) => take(R_MANY_TO_ONE, ls, [o]),
        );
        break;
      }
      case 'reversal': {
        if (!asked) { asked = true; yield { free: ourFree, matches: M }; }
        const bySeq = new Map<number, number[]>();
        for (let o = 0; o < nO; o++) {
          if (!ourFree[o]) continue;
          const list = bySeq.get(O.seq[o]!);
          if (list) list.push(o); else bySeq.set(O.seq[o]!, [o]);
        }
        const negEq = (x: number, o: number) => {
          const a = O.amt[x]!, b = O.amt[o]!;
          return a === a && b === b ? a === -b : oBig(x) === -oBig(o);
        };
        for (let o = 0; o < nO; o++) {
          if (!ourFree[o] || O.reverses[o]! < 0) continue;
          const twin = (bySeq.get(O.reverses[o]!) ?? []).find((x) => ourFree[x] && negEq(x, o));
          if (twin !== undefined) take(R_REVERSAL, [], [twin, o]);
        }
        break;
      }
    }
  }

  const breaks: CashBreak[] = [];
  for (const [l, s] of [...suspectOfLine].sort((a, b) => a[0] - b[0])) {
    if (lineFree[l] && ourFree[s.our]) {
      breaks.push({ type: s.type, lines: [l], ours: [s.our] });
      lineFree[l] = 0;
      ourFree[s.our] = 0;
    }
  }
  for (let l = 0; l < nL; l++) if (lineFree[l]) breaks.push({ type: 'missing_ours', lines: [l], ours: [] });
  for (let o = 0; o < nO; o++) if (ourFree[o]) breaks.push({ type: 'missing_theirs', lines: [], ours: [o] });
  return { matches: M, breaks };
}

/** In a list sorted by day, the free item nearest to `day` within `days` (earlier first on a tie). */
function nearestFree(list: number[], day: number, days: number, free: Uint8Array, dayOf: Int32Array): number {
  let lo = 0, hi = list.length;
  while (lo < hi) { const m = (lo + hi) >> 1; if (dayOf[list[m]!]! < day - days) lo = m + 1; else hi = m; }
  let best = -1, bestD = Infinity;
  for (let k = lo; k < list.length; k++) {
    const d = dayOf[list[k]!]! - day;
    if (d > days) break;
    if (!free[list[k]!]) continue;
    if (Math.abs(d) < bestD) { best = list[k]!; bestD = Math.abs(d); }
  }
  return best;
}

function buildIndex(n: number, refsOf: (i: number) => string[], free: Uint8Array): Map<string, number[]> {
  const index = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    if (!free[i]) continue;
    const rs = refsOf(i);
    for (let k = 0; k < rs.length; k++) {
      const r = rs[k]!;
      // Each reference once per item (a few each: no set).
      if (rs.indexOf(r) !== k) continue;
      const list = index.get(r);
      if (list) list.push(i); else index.set(r, [i]);
    }
  }
  return index;
}

/** One side of a group match: its items' days and amounts (doubles where exact, else NaN; `big` gives the bigint). */
interface Side { n: number; free: Uint8Array; day: Int32Array; amt: Float64Array; big: (i: number) => bigint }

/** Search budgets: per single item, and per rule run, so that a large window cannot make a run hang. */
const NODE_BUDGET = 2_000;
const RULE_BUDGET = 500_000;

/**
 * Groups: each free single item against a subset of the free parts whose amounts add up to it.
 * Parts are taken in a deterministic order (nearest date, then position), so the same input
 * always gives the same groups. Sizes tried: the transaction count when the statement gives one,
 * then groups of 2 up to `maxBlind` (a larger group without a count or a shared reference is more
 * likely a coincidence than a batch).
 */
function* groupMatch(
  S: Side, P: Side,
  refsOfSingle: (i: number) => string[], partsWithRef: (ref: string) => number[],
  countHint: (i: number) => number, p: GroupParams,
  take: (single: number, parts: number[]) => void,
): Generator<null, void, void> {
  if (p.maxGroup < 2) return;
  const maxBlind = Math.min(p.maxBlind, p.maxGroup);
  const singleFree = S.free, partFree = P.free;
  // Free parts by day, for the window.
  const byDay = new Map<number, number[]>();
  for (let i = 0; i < P.n; i++) {
    if (!partFree[i]) continue;
    const d = P.day[i]!;
    const list = byDay.get(d);
    if (list) list.push(i); else byDay.set(d, [i]);
  }
  // The parts' amounts as doubles where exact (NaN where not): the window scan below compares
  // signs and magnitudes without a BigInt per candidate.
  const asNum = P.amt;
  const budget = { left: RULE_BUDGET };
  let tick = 0;
  for (let s = 0; s < S.n; s++) {
    if (!singleFree[s]) continue;
    if ((++tick & 511) === 0) yield null;
    const amount = S.big(s), day = S.day[s]!;
    if (amount === 0n) continue;

    // 1. The parts that share a reference with the single item (each reference once, in order).
    let done = false;
    const refs = refsOfSingle(s);
    for (let r = 0; r < refs.length; r++) {
      const ref = refs[r]!;
      if (refs.indexOf(ref) !== r) continue;
      const list = partsWithRef(ref);
      if (list.length < 2) continue;
      const group = list.filter((i) => partFree[i] && Math.abs(P.day[i]! - day) <= p.days);
      if (group.length < 2 || group.length > Math.max(p.maxGroup, 1000)) continue;
      const sum = group.reduce((a, i) => a + P.big(i), 0n);
      if (within(sum, amount, p.amountTolerance)) { take(s, group); done = true; break; }
    }
    if (done) continue;

    // 2. Subsets of the same sign within the window: the nearest days first.
    const sg = sign(amount);
    const limit = abs(amount) + p.amountTolerance;
    const limitN = limit <= MAX_EXACT ? Number(limit) : NaN;
    const cands: number[] = [];
    for (let off = 0; off <= p.days && cands.length < p.maxCandidates; off++) {
      for (let side = off === 0 ? 1 : 0; side < 2; side++) {
        const list = byDay.get(side === 0 ? day - off : day + off);
        if (!list) continue;
        for (let x = 0; x < list.length; x++) {
          const i = list[x]!;
          if (!partFree[i]) continue;
          const n = asNum[i]!;
          if (n === n && limitN === limitN) {
            // Exact in doubles: the same test as below.
            if (Math.sign(n) !== sg || Math.abs(n) > limitN) continue;
          } else {
            const a = P.big(i);
            if (sign(a) !== sg || abs(a) > limit) continue;
          }
          cands.push(i);
          if (cands.length >= p.maxCandidates) break;
        }
        if (cands.length >= p.maxCandidates) break;
      }
    }
    if (cands.length < 2) continue;
    const hint = countHint(s);
    const sizes: number[] = [];
    if (hint >= 2 && hint <= p.maxGroup) sizes.push(hint);
    for (let k = 2; k <= maxBlind; k++) if (k !== hint) sizes.push(k);
    const target = abs(amount);
    let pool: number[] | undefined, mags: bigint[] | undefined;
    for (const k of sizes) {
      if (k > cands.length) continue;
      let found: number[] | null = null;
      if (k === 2 && p.amountTolerance === 0n) {
        // In doubles when every value is exact there (the common case): no BigInt per candidate.
        const tN = exactNum(target);
        found = tN === tN && cands.every((i) => asNum[i] === asNum[i]) ? pairSumExact(cands.map((i) => Math.abs(asNum[i]!)), tN) : pairSum(cands.map((i) => abs(P.big(i))), target);
        if (found) found = found.map((j) => cands[j]!);
      } else {
        if (budget.left <= 0) continue;
        if (!pool) {
          // Largest magnitude first, for pruning.
          pool = [...cands].sort((a, b) => { const x = abs(P.big(a)), y = abs(P.big(b)); return x > y ? -1 : x < y ? 1 : a - b; });
          mags = pool.map((i) => abs(P.big(i)));
        }
        const idx = subsetOfSize(mags!, target, p.amountTolerance, k, budget);
        if (idx) found = idx.map((j) => pool![j]!);
      }
      if (found) { take(s, found); break; }
    }
  }
}

/** pairSum over non-negative integers exact in doubles. */
function pairSumExact(mags: number[], t: number): number[] | null {
  if (mags.length <= 64) {
    // The same pair by a double loop (no map for a few dozen candidates): the first j with an
    // earlier partner, and its first partner.
    for (let j = 1; j < mags.length; j++) {
      const want = t - mags[j]!;
      for (let k = 0; k < j; k++) if (mags[k] === want) return [k, j];
    }
    return null;
  }
  const seen = new Map<number, number>();
  for (let j = 0; j < mags.length; j++) {
    const m = mags[j]!;
    const k = seen.get(t - m);
    if (k !== undefined) return [k, j];
    if (!seen.has(m)) seen.set(m, j);
  }
  return null;
}

/** Two values (indexes) summing exactly to target, the earliest pair in the list; or null. */
function pairSum(mags: bigint[], target: bigint): number[] | null {
  // In doubles when every value is exact there (the common case): no BigInt made per probe.
  if (target >= 0n && target <= MAX_EXACT && mags.every((m) => m >= 0n && m <= MAX_EXACT)) {
    const t = Number(target);
    const seen = new Map<number, number>();
    for (let j = 0; j < mags.length; j++) {
      const m = Number(mags[j]!);
      const k = seen.get(t - m);
      if (k !== undefined) return [k, j];
      if (!seen.has(m)) seen.set(m, j);
    }
    return null;
  }
  const seen = new Map<bigint, number>();
  for (let j = 0; j < mags.length; j++) {
    const k = seen.get(target - mags[j]!);
    if (k !== undefined) return [k, j];
    if (!seen.has(mags[j]!)) seen.set(mags[j]!, j);
  }
  return null;
}

/** Indexes (into `mags`, sorted descending) of exactly `k` values summing to target ± tol; or null. */
function subsetOfSize(mags: bigint[], target: bigint, tol: bigint, k: number, budget: { left: number }): number[] | null {
  const n = mags.length;
  if (tol >= 0n && target >= 0n) {
    // Every sum below (all values, the target and the tolerance together) is exact in doubles: the
    // same search without a BigInt per step.
    let total = target + tol;
    for (let i = 0; i < n; i++) total += mags[i]!;
    if (total <= MAX_EXACT) return subsetOfSizeExact(mags.map(Number), Number(target), Number(tol), k, budget);
  }
  const prefix: bigint[] = [0n];
  for (let i = 0; i < n; i++) prefix.push(prefix[i]! + mags[i]!);
  let nodes = 0;
  const chosen: number[] = [];
  const dfs = (start: number, left: number, sum: bigint): boolean => {
    if (++nodes > NODE_BUDGET || --budget.left < 0) return false;
    if (left === 0) return within(sum, target, tol);
    for (let i = start; i <= n - left; i++) {
      const s = sum + mags[i]!;
      if (s > target + tol) continue; // too large: a smaller value may fit
      // Even the largest `left` values from i cannot reach the target: nothing further can.
      if (sum + prefix[i + left]! - prefix[i]! < target - tol) return false;
      chosen.push(i);
      if (dfs(i + 1, left - 1, s)) return true;
      chosen.pop();
      if (nodes > NODE_BUDGET || budget.left < 0) return false;
    }
    return false;
  };
  return dfs(0, k, 0n) ? [...chosen] : null;
}

/** subsetOfSize over non-negative integers whose total (with target and tolerance) is exact in doubles. */
function subsetOfSizeExact(mags: number[], target: number, tol: number, k: number, budget: { left: number }): number[] | null {
  const n = mags.length;
  const prefix: number[] = [0];
  for (let i = 0; i < n; i++) prefix.push(prefix[i]! + mags[i]!);
  let nodes = 0;
  const chosen: number[] = [];
  const hi = target + tol, lo = target - tol;
  const dfs = (start: number, left: number, sum: number): boolean => {
    if (++nodes > NODE_BUDGET || --budget.left < 0) return false;
    if (left === 0) return Math.abs(sum - target) <= tol;
    for (let i = start; i <= n - left; i++) {
      const s = sum + mags[i]!;
      if (s > hi) continue;
      if (sum + prefix[i + left]! - prefix[i]! < lo) return false;
      chosen.push(i);
      if (dfs(i + 1, left - 1, s)) return true;
      chosen.pop();
      if (nodes > NODE_BUDGET || budget.left < 0) return false;
    }
    return false;
  };
  return dfs(0, k, 0) ? [...chosen] : null;
}

// ---------------------------------------------------------------------------------------------
// Holdings

/** A holdings line: the asset it was resolved to (null when the security is not known to us). */
export interface HoldingIn { id: number; asset: string | null; quantity: bigint | null }
export interface PositionIn { asset: string; quantity: bigint }
export interface HoldingMatch { lines: number[]; asset: string; quantity: bigint }
export interface HoldingBreak { type: BreakType; lines: number[]; asset: string | null; theirs: bigint | null; ours: bigint | null }

/** Per security: the statement's quantity (its lines summed) against our position. */
export function matchHoldings(lines: HoldingIn[], positions: PositionIn[], tolerance: bigint): { matches: HoldingMatch[]; breaks: HoldingBreak[] } {
  const byAsset = new Map<string, number[]>();
  const breaks: HoldingBreak[] = [];
  lines.forEach((h, i) => {
    if (h.asset === null || h.quantity === null) { breaks.push({ type: 'missing_ours', lines: [i], asset: null, theirs: h.quantity, ours: null }); return; }
    const list = byAsset.get(h.asset);
    if (list) list.push(i); else byAsset.set(h.asset, [i]);
  });
  const ours = new Map(positions.map((p) => [p.asset, p.quantity]));
  const matches: HoldingMatch[] = [];
  for (const [asset, ls] of [...byAsset].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const theirs = ls.reduce((a, i) => a + lines[i]!.quantity!, 0n);
    const q = ours.get(asset);
    if (q === undefined || q === 0n) {
      if (theirs === 0n) matches.push({ lines: ls, asset, quantity: 0n });
      else breaks.push({ type: 'missing_ours', lines: ls, asset, theirs, ours: 0n });
    } else if (within(theirs, q, tolerance)) matches.push({ lines: ls, asset, quantity: q });
    else breaks.push({ type: 'quantity_differs', lines: ls, asset, theirs, ours: q });
  }
  for (const p of [...positions].sort((a, b) => (a.asset < b.asset ? -1 : 1))) {
    if (p.quantity !== 0n && !byAsset.has(p.asset)) breaks.push({ type: 'missing_theirs', lines: [], asset: p.asset, theirs: 0n, ours: p.quantity });
  }
  return { matches, breaks };
}
