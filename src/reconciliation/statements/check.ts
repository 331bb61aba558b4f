/**
 * A statement's own arithmetic, whatever its format: one currency; opening balance plus the booked
 * entries equals the closing balance; for holdings, the holding values add up to the stated total.
 * And the chain between consecutive statements of one account: opening = previous closing.
 * Everything in bigint minor units of the currency (the parsers have checked the decimals).
 */
import { currencyScale, format, minor } from './amounts.js';
import { statementLabel } from './errors.js';
import type { ParsedStatement, StatementBalance } from './types.js';

/** The outcome of a check: `check` is 'ok', 'not checkable: ...' or the reason it is refused. */
export interface CheckResult {
  check: string;
  refused: boolean;
}

type CashInput = Pick<ParsedStatement, 'statementId' | 'account' | 'balances' | 'entries'> & {
  /** The account's currency when the file declares one (camt Acct/Ccy). */
  declaredCurrency?: string | null;
};

const plural = (n: number, one: string, many = one + 's') => `${n} ${n === 1 ? one : many}`;

/**
 * The currencies a cash statement uses, with where each was seen; more than one refuses it.
 * Returns the single currency, or a CheckResult refusing the statement.
 */
export function singleCurrency(st: CashInput): { currency: string | null } | CheckResult {
  const seen = new Map<string, { balances: string[]; entries: number; declared: boolean }>();
  const at = (c: string) => {
    let s = seen.get(c);
    if (!s) seen.set(c, (s = { balances: [], entries: 0, declared: false }));
    return s;
  };
  if (st.declaredCurrency) at(st.declaredCurrency).declared = true;
  for (const b of st.balances) at(b.currency).balances.push(b.code);
  for (const e of st.entries) at(e.currency).entries++;
  if (seen.size <= 1) return { currency: seen.keys().next().value ?? null };
  const parts: string[] = [];
  if (st.declaredCurrency) parts.push(`account currency ${st.declaredCurrency}`);
  const bal = [...seen].filter(([, s]) => s.balances.length).map(([c, s]) => `${c} (${s.balances.join(', ')})`);
  if (bal.length) parts.push(`balances in ${bal.join(', ')}`);
  const ent = [...seen].filter(([, s]) => s.entries).map(([c, s]) => `${c} (${plural(s.entries, 'entry', 'entries')})`);
  if (ent.length) parts.push(`entries in ${ent.join(', ')}`);
  return {
    check: `${statementLabel(st.statementId, st.account)} mixes currencies: ${parts.join('; ')}; a statement must be in one currency`,
    refused: true,
  };
}

const OPENING_ORDER: StatementBalance['type'][] = ['opening', 'interim_opening'];
const CLOSING_ORDER: StatementBalance['type'][] = ['closing', 'interim_closing'];

/** The balance a check starts from (OPBD/PRCD/60F, else an interim opening), or undefined. */
export function openingOf(balances: readonly StatementBalance[]): StatementBalance | undefined {
  for (const t of OPENING_ORDER) {
    const b = balances.find((x) => x.type === t);
    if (b) return b;
  }
  return undefined;
}

/** The balance a check ends at (CLBD/62F, else an interim closing), or undefined. */
export function closingOf(balances: readonly StatementBalance[]): StatementBalance | undefined {
  for (const t of CLOSING_ORDER) {
    const b = balances.find((x) => x.type === t);
    if (b) return b;
  }
  return undefined;
}

/**
 * Check a cash statement: one currency, then opening + booked entries (status BOOK) = closing.
 * Other opening balances (PRCD beside OPBD) must equal the opening. Statements without balances
 * are 'not checkable: no balances' (camt.054), and are not refused.
 */
export function checkCash(st: CashInput): CheckResult & { currency: string | null } {
  const cur = singleCurrency(st);
  if ('check' in cur) return { ...cur, currency: st.declaredCurrency ?? st.balances[0]?.currency ?? st.entries[0]?.currency ?? null };
  const currency = cur.currency;
  const label = statementLabel(st.statementId, st.account);
  if (st.balances.length === 0) return { check: 'not checkable: no balances', refused: false, currency };
  const opening = openingOf(st.balances);
  const closing = closingOf(st.balances);
  if (!opening) return { check: 'not checkable: no opening balance', refused: false, currency };
  if (!closing) return { check: 'not checkable: no closing balance', refused: false, currency };
  const scale = currencyScale(opening.currency)!;
  const open = minor(opening.amount, scale);
  for (const b of st.balances) {
    if (b.type === opening.type && b !== opening && minor(b.amount, scale) !== open) {
      return {
        check: `${label}: opening balances disagree: ${opening.code} ${format(open, scale)} ${currency} of ${opening.date}, ${b.code} ${format(minor(b.amount, scale), scale)} ${currency} of ${b.date}`,
        refused: true,
        currency,
      };
    }
  }
  let sum = 0n;
  let booked = 0;
  for (const e of st.entries) {
    if (e.status !== 'BOOK') continue;
    sum += minor(e.amount, scale);
    booked++;
  }
  const expected = open + sum;
  const stated = minor(closing.amount, scale);
  if (expected !== stated) {
    return {
      check:
        `${label}: closing balance ${closing.code} of ${closing.date} is off: expected ${format(expected, scale)} ${currency} ` +
        `(opening ${opening.code} ${format(open, scale)} plus ${plural(booked, 'booked entry', 'booked entries')} ${format(sum, scale)}), stated ${format(stated, scale)} ${currency}`,
      refused: true,
      currency,
    };
  }
  return { check: 'ok', refused: false, currency };
}

/** One link between consecutive statements of an account. */
export interface ChainLink {
  /** Position of the next statement in the list given. */
  index: number;
  previous: { statementId: string; closing: StatementBalance };
  next: { statementId: string; opening: StatementBalance };
  ok: boolean;
  message: string;
}

/**
 * Compare each statement's opening balance with the closing balance of the statement before it for
 * the same account and currency (in the order given, e.g. file order, or by date across files).
 * Statements without those balances (camt.054, holdings) are skipped.
 */
export function chainStatements(statements: readonly ParsedStatement[]): ChainLink[] {
  const last = new Map<string, ParsedStatement>();
  const links: ChainLink[] = [];
  statements.forEach((st, index) => {
    if (st.kind !== 'cash' || !st.currency) return;
    const key = `${st.account}\u0000${st.currency}`;
    const prev = last.get(key);
    const opening = openingOf(st.balances);
    if (prev && opening) {
      const closing = closingOf(prev.balances)!;
      const scale = currencyScale(st.currency);
      if (scale !== null && closing.currency === opening.currency) {
        const a = minor(closing.amount, scale);
        const b = minor(opening.amount, scale);
        const ok = a === b;
        links.push({
          index,
          previous: { statementId: prev.statementId, closing },
          next: { statementId: st.statementId, opening },
          ok,
          message: ok
            ? `ok: opening ${opening.code} ${format(b, scale)} ${st.currency} equals closing ${closing.code} of statement ${prev.statementId}`
            : `break: opening ${opening.code} ${format(b, scale)} ${st.currency} of statement ${st.statementId} differs from closing ${closing.code} ${format(a, scale)} ${st.currency} of statement ${prev.statementId} (account ${st.account})`,
        });
      }
    }
    if (closingOf(st.balances)) last.set(key, st);
  });
  return links;
}

/** A stated total of holding values (semt.002 TtlHldgsValOfPg/Stmt, MT535 :19A::HOLP//, HOLS). */
export interface HoldingsTotal {
  code: string;
  amount: string;
  currency: string;
}

/**
 * Check a holdings statement: when the file states a total holdings value, the holding values
 * (in that currency) must add up to it. Without a total: 'not checkable: no total holdings value'.
 */
export function checkHoldings(
  label: string,
  values: ReadonlyArray<{ value: string | null; currency: string | null }>,
  total: HoldingsTotal | null,
): CheckResult {
  if (!total) return { check: 'not checkable: no total holdings value', refused: false };
  const scale = currencyScale(total.currency)!;
  const missing = values.filter((v) => v.value === null).length;
  if (missing) return { check: `not checkable: ${plural(missing, 'holding')} without a value`, refused: false };
  const other = values.find((v) => v.currency !== total.currency);
  if (other) return { check: `not checkable: holding values in ${other.currency} beside the total in ${total.currency}`, refused: false };
  let sum = 0n;
  for (const v of values) sum += minor(v.value!, scale);
  const stated = minor(total.amount, scale);
  if (sum !== stated) {
    return {
      check: `${label}: total holdings value ${total.code} is off: expected ${format(sum, scale)} ${total.currency} (${plural(values.length, 'holding')}), stated ${format(stated, scale)} ${total.currency}`,
      refused: true,
    };
  }
  return { check: 'ok', refused: false };
}
