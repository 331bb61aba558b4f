/**
 * Confirmation files from the street (a counterparty or a clearing house), as CSV, or as FIX 4.4
 * Confirmation (AK) / AllocationReport (AS) messages (see fix-confirmations.ts; told apart by
 * content: a file whose first line starts with 8=FIX is FIX). The CSV:
 *
 *   conf_id,counterparty,trade_date,symbol,side,quantity,price[,settle_date,our_ref,affirmed_at]
 *
 * `side` is OUR side: the counterparty confirms what the firm did (`buy` when we bought, `sell`
 * when we sold; `short` is accepted and read as `sell`, since the street sees a sale). Quantity and
 * price are decimal strings, never numbers. `our_ref` is our trade id or execution id when the
 * street echoes it; `affirmed_at` an ISO 8601 instant with its offset (e.g. from the affirmation
 * platform). Parsing is pure and all-or-nothing: every bad record is named (line, field, rule).
 */
import { parse } from 'csv-parse/sync';
import { DomainError, Dec, type ErrorDetail } from '../kernel/index.js';
import { isFixText, parseFixConfirmations } from './fix-confirmations.js';

/** Error codes of confirmation matching (stable: clients switch on them). */
export const ConfirmationCodes = {
  /** The file cannot be read, or a record breaks a rule: nothing of it is applied. */
  FILE_INVALID: 'CONFIRMATION_FILE_INVALID',
  /** A command's argument is not usable (tolerance, reason, instant). */
  ARGUMENT_INVALID: 'CONFIRMATION_ARGUMENT_INVALID',
  /** No such confirmation. */
  NOT_FOUND: 'CONFIRMATION_NOT_FOUND',
  /** A confirmation id given without its counterparty names more than one confirmation. */
  AMBIGUOUS: 'CONFIRMATION_AMBIGUOUS',
  /** No such trade, or it is not booked (canceled or corrected). */
  TRADE_NOT_FOUND: 'CONFIRMATION_TRADE_NOT_FOUND',
  /** The confirmation or the trade is already manually matched elsewhere, or already affirmed otherwise. */
  CONFLICT: 'CONFIRMATION_CONFLICT',
  /** Affirming a confirmation that is not matched to a trade. */
  NOT_MATCHED: 'CONFIRMATION_NOT_MATCHED',
} as const;

/** One confirmation as the street sent it (validated; decimals as strings). */
export interface ConfirmationInput {
  confId: string;
  counterparty: string;
  tradeDate: string;
  symbol: string;
  side: 'buy' | 'sell';
  quantity: string;
  price: string;
  settleDate: string | null;
  ourRef: string | null;
  /** ISO instant in UTC, or null. */
  affirmedAt: string | null;
  /** 1-based line in the file (the header is line 1). */
  line: number;
}

export const CONFIRMATION_COLUMNS = ['conf_id', 'counterparty', 'trade_date', 'symbol', 'side', 'quantity', 'price'] as const;
const OPTIONAL = ['settle_date', 'our_ref', 'affirmed_at'];

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const DECIMAL_RE = /^\d+(\.\d+)?$/;
const INSTANT_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

const validDate = (s: string) => DATE_RE.test(s) && new Date(`${s}T00:00:00Z`).toISOString().slice(0, 10) === s;

/**
 * Parse and validate a confirmation file: CSV, or FIX 4.4 AK/AS messages (detected from the
 * content; see fix-confirmations.ts). All or nothing.
 * @throws DomainError CONFIRMATION_FILE_INVALID (invalid): a missing column, a malformed line, or
 *   one detail per bad field, each naming the file, line and conf_id, the field and the rule
 *   (REQUIRED, DATE, SIDE, DECIMAL, POSITIVE, INSTANT, DUPLICATE); for FIX, the message, the tag and the rule
 */
export function parseConfirmations(text: string, file: string): ConfirmationInput[] {
  if (isFixText(text)) return parseFixConfirmations(text, file).inputs;
  const fail = (message: string, details: ErrorDetail[] = []) => new DomainError(ConfirmationCodes.FILE_INVALID, 'invalid', message, details);
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const headerAt = lines.findIndex((l) => l.trim() && !l.startsWith('#'));
  if (headerAt < 0) throw fail(`${file}: empty file; expected the header ${CONFIRMATION_COLUMNS.join(',')}`);
  const cols = lines[headerAt]!.split(',').map((c) => c.trim().toLowerCase());
  const missing = CONFIRMATION_COLUMNS.filter((c) => !cols.includes(c));
  if (missing.length) {
    throw fail(`${file}: missing column(s) ${missing.join(', ')}; expected ${CONFIRMATION_COLUMNS.join(',')} (optional: ${OPTIONAL.join(',')})`,
      missing.map((c) => ({ record: `${file} line ${headerAt + 1}`, field: c, rule: 'COLUMN_REQUIRED', message: `${file} line ${headerAt + 1}: column ${c} is missing` })));
  }
  let records: string[][];
  try {
    records = parse(text, { skip_empty_lines: true, trim: true, bom: true, comment: '#', relax_column_count: false, info: false });
  } catch (e) {
    throw fail(`${file}: ${(e as Error).message}`);
  }
  const dataLines: number[] = [];
  lines.forEach((l, i) => { if (i > headerAt && l.trim() && !l.startsWith('#')) dataLines.push(i + 1); });

  const details: ErrorDetail[] = [];
  const out: ConfirmationInput[] = [];
  const seen = new Map<string, number>();
  records.slice(1).forEach((rec, i) => {
    const line = dataLines[i] ?? i + 2;
    const v: Record<string, string> = Object.fromEntries(cols.map((c, j) => [c, rec[j] ?? '']));
    const record = `${file} line ${line}${v.conf_id ? ` (${v.conf_id})` : ''}`;
    const before = details.length;
    const err = (field: string, rule: string, msg: string) => details.push({ record, field, rule, message: `${record}: ${field}: ${msg}` });
    for (const c of CONFIRMATION_COLUMNS) if (!v[c]) err(c, 'REQUIRED', 'is missing');
    if (v.trade_date && !validDate(v.trade_date)) err('trade_date', 'DATE', `"${v.trade_date}" is not a date YYYY-MM-DD`);
    if (v.settle_date && !validDate(v.settle_date)) err('settle_date', 'DATE', `"${v.settle_date}" is not a date YYYY-MM-DD`);
    if (v.settle_date && v.trade_date && validDate(v.settle_date) && validDate(v.trade_date) && v.settle_date < v.trade_date) err('settle_date', 'DATE', `${v.settle_date} is before the trade date ${v.trade_date}`);
    const side = (v.side ?? '').toLowerCase();
    if (v.side && !['buy', 'sell', 'short'].includes(side)) err('side', 'SIDE', `"${v.side}" is not buy or sell (our side: what the firm did)`);
    for (const f of ['quantity', 'price'] as const) {
      const x = v[f];
      if (!x) continue;
      if (!DECIMAL_RE.test(x)) err(f, 'DECIMAL', `"${x}" is not a decimal number`);
      else if (new Dec(x).lte(0)) err(f, 'POSITIVE', `must be greater than zero, is ${x}`);
    }
    if (v.affirmed_at && (!INSTANT_RE.test(v.affirmed_at) || Number.isNaN(new Date(v.affirmed_at).getTime()))) {
      err('affirmed_at', 'INSTANT', `"${v.affirmed_at}" is not an ISO 8601 instant with its offset (e.g. 2026-03-09T20:15:00-04:00)`);
    }
    if (v.conf_id && v.counterparty) {
      const k = `${v.counterparty}\u0000${v.conf_id}`;
      const first = seen.get(k);
      if (first !== undefined) err('conf_id', 'DUPLICATE', `${v.counterparty} ${v.conf_id} is already on line ${first}`);
      else seen.set(k, line);
    }
    if (details.length > before) return;
    out.push({
      confId: v.conf_id!, counterparty: v.counterparty!, tradeDate: v.trade_date!, symbol: v.symbol!,
      side: side === 'buy' ? 'buy' : 'sell', quantity: v.quantity!, price: v.price!,
      settleDate: v.settle_date || null, ourRef: v.our_ref || null,
      affirmedAt: v.affirmed_at ? new Date(v.affirmed_at).toISOString() : null, line,
    });
  });
  if (details.length) {
    throw fail(`${file}: ${details.length} problem(s); nothing was applied. ${details.slice(0, 5).map((d) => d.message).join('; ')}${details.length > 5 ? '; ...' : ''}`, details);
  }
  return out;
}

/**
 * The SEC Rule 15c6-2 affirmation deadline of a trade date: 9:00 p.m. America/New_York on that
 * date, as an instant (EST or EDT as the date falls, computed with the time-zone database).
 */
export function affirmationDeadline(tradeDate: string): Date {
  const [y, m, d] = tradeDate.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d, 21, 0, 0);
  // The New York offset at an instant: its wall-clock time read as UTC, minus the instant.
  const fmt = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const offset = (t: number) => {
    const p = Object.fromEntries(fmt.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
    return Date.UTC(+p.year!, +p.month! - 1, +p.day!, +p.hour!, +p.minute!, +p.second!) - t;
  };
  let at = wall - offset(wall);
  at = wall - offset(at); // settle on the offset in force at the deadline itself
  return new Date(at);
}

/** Whether an affirmation at `at` misses the 15c6-2 deadline of `tradeDate`. */
export const isLateAffirmation = (tradeDate: string, at: Date): boolean => at.getTime() > affirmationDeadline(tradeDate).getTime();
