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
const NONZERO_RE = /[1-9]/;
/** Printable ASCII other than space, double quote and #, and line ends. */
const PLAIN_RE = /^[!\x24-~\r\n]*$/;
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
  const out: ConfirmationInput[] = [];
  for (const batch of confirmationBatches(text, file)) for (const i of batch) out.push(i);
  return out;
}

/**
 * {@link parseConfirmations} a batch of records at a time, as the file is read (a caller can write
 * one batch while the next is read). Every batch holds good records only; the file's problems, if
 * any, are thrown after the last batch, all of them, as parseConfirmations throws them: a caller
 * must be able to take back what it did with the batches (one transaction).
 * @throws DomainError CONFIRMATION_FILE_INVALID, as parseConfirmations
 */
export function* confirmationBatches(text: string, file: string, size = 2000): Generator<ConfirmationInput[], void, undefined> {
  if (isFixText(text)) { yield parseFixConfirmations(text, file).inputs; return; }
  const fail = (message: string, details: ErrorDetail[] = []) => new DomainError(ConfirmationCodes.FILE_INVALID, 'invalid', message, details);
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const plainLines = plainSplit(body);
  const lines = plainLines ?? body.split(/\r?\n/);
  const headerAt = lines.findIndex((l) => l.trim() && !l.startsWith('#'));
  if (headerAt < 0) throw fail(`${file}: empty file; expected the header ${CONFIRMATION_COLUMNS.join(',')}`);
  const cols = lines[headerAt]!.split(',').map((c) => c.trim().toLowerCase());
  const missing = CONFIRMATION_COLUMNS.filter((c) => !cols.includes(c));
  if (missing.length) {
    throw fail(`${file}: missing column(s) ${missing.join(', ')}; expected ${CONFIRMATION_COLUMNS.join(',')} (optional: ${OPTIONAL.join(',')})`,
      missing.map((c) => ({ record: `${file} line ${headerAt + 1}`, field: c, rule: 'COLUMN_REQUIRED', message: `${file} line ${headerAt + 1}: column ${c} is missing` })));
  }
  const csvParse = (): string[][] => {
    try {
      return (parse(text, { skip_empty_lines: true, trim: true, bom: true, comment: '#', relax_column_count: false, info: false }) as string[][]).slice(1);
    } catch (e) {
      throw fail(`${file}: ${(e as Error).message}`);
    }
  };
  // The records after the header and their lines (1-based). A plain file is split line by line as
  // it is read: a line there is a record split at its commas, as csv-parse reads it (with nothing
  // to unquote, trim or skip but empty lines), and a line of another width is csv-parse's error.
  let records: string[][] | undefined, dataLines: number[] | undefined;
  if (!plainLines) {
    records = csvParse();
    dataLines = [];
    lines.forEach((l, i) => { if (i > headerAt && l.trim() && !l.startsWith('#')) dataLines!.push(i + 1); });
  }

  // Each column's place in the record (the last of a repeated name, as a name-to-value map would keep).
  const at = (c: string) => cols.lastIndexOf(c);
  const [iConf, iCp, iTd, iSym, iSide, iQty, iPx] = CONFIRMATION_COLUMNS.map(at) as [number, number, number, number, number, number, number];
  const iSd = at('settle_date'), iRef = at('our_ref'), iAff = at('affirmed_at');
  const req = [iConf, iCp, iTd, iSym, iSide, iQty, iPx];
  const dates = new Map<string, boolean>();
  const dateOk = (s: string) => { let ok = dates.get(s); if (ok === undefined) dates.set(s, (ok = validDate(s))); return ok; };

  const details: ErrorDetail[] = [];
  // The line of each (counterparty, conf_id) seen, by counterparty (no key string made per record).
  const seen = new Map<string, Map<string, number>>();
  let batch: ConfirmationInput[] = [];
  let rec: string[] = [], line = 0, bad = false, confId = '';
  const f = (j: number) => (j < 0 ? '' : rec[j] ?? '');
  const err = (field: string, rule: string, msg: string) => {
    const record = `${file} line ${line}${confId ? ` (${confId})` : ''}`;
    details.push({ record, field, rule, message: `${record}: ${field}: ${msg}` });
    bad = true;
  };
  const decimal = (name: string, x: string) => {
    if (!x) return;
    if (!DECIMAL_RE.test(x)) err(name, 'DECIMAL', `"${x}" is not a decimal number`);
    // A plain unsigned decimal is greater than zero when it has a digit other than 0.
    else if (!NONZERO_RE.test(x)) err(name, 'POSITIVE', `must be greater than zero, is ${x}`);
  };
  const n = records ? records.length : lines.length;
  for (let r = records ? 0 : headerAt + 1; r < n; r++) {
    if (records) {
      rec = records[r]!;
      line = dataLines![r] ?? r + 2;
    } else {
      const l = lines[r]!;
      if (!l) continue;
      rec = l.split(',');
      if (rec.length !== cols.length) { csvParse(); throw new Error(`${file} line ${r + 1}: csv-parse read a line of another width`); }
      line = r + 1;
    }
    bad = false;
    confId = f(iConf);
    const counterparty = f(iCp), tradeDate = f(iTd), symbol = f(iSym), sideIn = f(iSide), quantity = f(iQty), price = f(iPx);
    const settleDate = f(iSd), ourRef = f(iRef), affirmedAt = f(iAff);
    for (let k = 0; k < 7; k++) if (!f(req[k]!)) err(CONFIRMATION_COLUMNS[k]!, 'REQUIRED', 'is missing');
    if (tradeDate && !dateOk(tradeDate)) err('trade_date', 'DATE', `"${tradeDate}" is not a date YYYY-MM-DD`);
    if (settleDate && !dateOk(settleDate)) err('settle_date', 'DATE', `"${settleDate}" is not a date YYYY-MM-DD`);
    if (settleDate && tradeDate && dateOk(settleDate) && dateOk(tradeDate) && settleDate < tradeDate) err('settle_date', 'DATE', `${settleDate} is before the trade date ${tradeDate}`);
    const side = sideIn.toLowerCase();
    if (sideIn && side !== 'buy' && side !== 'sell' && side !== 'short') err('side', 'SIDE', `"${sideIn}" is not buy or sell (our side: what the firm did)`);
    decimal('quantity', quantity);
    decimal('price', price);
    if (affirmedAt && (!INSTANT_RE.test(affirmedAt) || Number.isNaN(new Date(affirmedAt).getTime()))) {
      err('affirmed_at', 'INSTANT', `"${affirmedAt}" is not an ISO 8601 instant with its offset (e.g. 2026-03-09T20:15:00-04:00)`);
    }
    if (confId && counterparty) {
      let ofCp = seen.get(counterparty);
      if (!ofCp) seen.set(counterparty, (ofCp = new Map()));
      const first = ofCp.get(confId);
      if (first !== undefined) err('conf_id', 'DUPLICATE', `${counterparty} ${confId} is already on line ${first}`);
      else ofCp.set(confId, line);
    }
    if (bad || details.length) continue; // once one record is bad nothing is kept: only its problems are
    batch.push({
      confId, counterparty, tradeDate, symbol, side: side === 'buy' ? 'buy' : 'sell', quantity, price,
      settleDate: settleDate || null, ourRef: ourRef || null,
      affirmedAt: affirmedAt ? new Date(affirmedAt).toISOString() : null, line,
    });
    if (batch.length >= size) { yield batch; batch = []; }
  }
  if (details.length) {
    throw fail(`${file}: ${details.length} problem(s); nothing was applied. ${details.slice(0, 5).map((d) => d.message).join('; ')}${details.length > 5 ? '; ...' : ''}`, details);
  }
  if (batch.length) yield batch;
}

/**
 * The lines of a plain file: printable ASCII without spaces, quotes or comment marks, lines ended
 * by LF throughout or CRLF throughout; undefined for anything else (which csv-parse reads).
 */
function plainSplit(body: string): string[] | undefined {
  if (!PLAIN_RE.test(body)) return undefined;
  if (!body.includes('\r')) return body.split('\n');
  const lines = body.split('\r\n');
  for (const l of lines) if (l.includes('\r') || l.includes('\n')) return undefined;
  return lines;
}

/**
 * The SEC Rule 15c6-2 affirmation deadline of a trade date: 9:00 p.m. America/New_York on that
 * date, as an instant (EST or EDT as the date falls, computed with the time-zone database).
 */
export function affirmationDeadline(tradeDate: string): Date {
  return new Date(deadlineMs(tradeDate));
}

const NY = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
/** Deadlines by trade date: a file's confirmations share a few dates, and the time-zone arithmetic is slow. */
const deadlines = new Map<string, number>();

function deadlineMs(tradeDate: string): number {
  const known = deadlines.get(tradeDate);
  if (known !== undefined) return known;
  const [y, m, d] = tradeDate.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d, 21, 0, 0);
  // The New York offset at an instant: its wall-clock time read as UTC, minus the instant.
  const offset = (t: number) => {
    const p = Object.fromEntries(NY.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
    return Date.UTC(+p.year!, +p.month! - 1, +p.day!, +p.hour!, +p.minute!, +p.second!) - t;
  };
  let at = wall - offset(wall);
  at = wall - offset(at); // settle on the offset in force at the deadline itself
  if (deadlines.size > 10_000) deadlines.clear();
  deadlines.set(tradeDate, at);
  return at;
}

/** Whether an affirmation at `at` misses the 15c6-2 deadline of `tradeDate`. */
export const isLateAffirmation = (tradeDate: string, at: Date): boolean => at.getTime() > deadlineMs(tradeDate);
