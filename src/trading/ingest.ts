import { parse } from 'csv-parse/sync';
import { DomainError } from '../kernel/index.js';
import { parseFixMessage, splitFixMessages } from './fix-parser.js';
import { toExecutionReport } from './execution-report.js';
import type { ExecutionInput, UnreadableRecord } from './booking.js';

export type ExecFormat = 'fix' | 'csv' | 'json';

/** Guess the format of an executions file from its content. */
export function detectFormat(text: string): ExecFormat {
  // Comment lines (#) may head a FIX file.
  const t = text.split(/\r?\n/).filter((l) => !l.startsWith('#')).join('\n').trimStart();
  if (t.startsWith('8=FIX')) return 'fix';
  if (t.startsWith('[') || t.startsWith('{')) return 'json';
  return 'csv';
}

/** FIX ExecutionReports, one per line. Messages of other types are ignored records; unreadable ones are quarantined. */
export function readFix(text: string, source = 'fix'): (ExecutionInput | UnreadableRecord)[] {
  return splitFixMessages(text).map(({ line, raw }) => {
    const record = `line ${line}`;
    try {
      const msg = parseFixMessage(raw, { line });
      const label = `line ${line} (${msg.get(17) ? `ExecID ${msg.get(17)}` : `MsgSeqNum ${msg.get(34) ?? '?'}`})`;
      if (msg.msgType !== '8') return { source, record: label, format: 'fix', raw, execId: `seq:${msg.get(34) ?? line}:${msg.msgType}`, kind: 'ignore' } satisfies ExecutionInput;
      const r = toExecutionReport(msg);
      return {
        source, record: label, format: 'fix', raw, execId: r.execId, kind: r.kind, refExecId: r.execRefId, orderId: r.orderId,
        account: r.account, symbol: r.symbol, side: r.side, quantity: r.lastQty, price: r.lastPx,
        tradeDate: r.tradeDate ?? r.transactTime?.slice(0, 10), counterparty: r.counterparty, currency: r.currency,
      } satisfies ExecutionInput;
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      const d = e.details[0];
      // The parser's message already names the line and the message.
      return { source, record, format: 'fix', raw, reason: e.message.startsWith('line ') ? e.message : `${record}: ${e.message}`, field: d?.field, rule: e.code } satisfies UnreadableRecord;
    }
  });
}

const SIDES: Record<string, ExecutionInput['side']> = { buy: 'buy', b: 'buy', sell: 'sell', s: 'sell', short: 'short', ss: 'short' };

/** One execution from a CSV row or a JSON object (same field names). */
function fromFields(v: Record<string, unknown>, source: string, record: string, format: 'csv' | 'json', raw: string): ExecutionInput | UnreadableRecord {
  const str = (k: string) => (v[k] === undefined || v[k] === null || v[k] === '' ? undefined : String(v[k]));
  for (const k of ['quantity', 'price']) {
    if (typeof v[k] === 'number') return { source, record, format, raw, reason: `${record}: ${k} must be a decimal string (a JSON number loses precision)`, field: k, rule: 'DECIMAL_STRING' };
  }
  const execId = str('exec_id');
  if (!execId) return { source, record, format, raw, reason: `${record}: exec_id is missing`, field: 'exec_id', rule: 'REQUIRED' };
  const sideText = str('side')?.toLowerCase();
  const side = sideText ? SIDES[sideText] : undefined;
  if (sideText && !side) return { source, record: `${record} (exec ${execId})`, format, raw, reason: `${record} (exec ${execId}): side "${sideText}" must be buy, sell or short`, field: 'side', rule: 'ENUM' };
  const kindText = str('kind') ?? 'fill';
  const kind = ({ fill: 'book', new: 'book', cancel: 'cancel', correct: 'correct', correction: 'correct' } as const)[kindText as 'fill'];
  if (!kind) return { source, record, format, raw, reason: `${record}: kind "${kindText}" must be fill, cancel or correct`, field: 'kind', rule: 'ENUM' };
  let allocations: ExecutionInput['allocations'];
  const al = v.allocations;
  if (Array.isArray(al)) allocations = al.map((a) => ({ account: String(a.account), quantity: String(a.quantity) }));
  else if (typeof al === 'string' && al) allocations = al.split(';').map((p) => { const [account, quantity] = p.split(':'); return { account: account!.trim(), quantity: (quantity ?? '').trim() }; });
  return {
    source, record: `${record} (exec ${execId})`, format, raw, execId, kind, refExecId: str('exec_ref_id'), orderId: str('order_id'),
    account: str('account'), symbol: str('symbol'), side, quantity: str('quantity'), price: str('price'), tradeDate: str('trade_date'),
    counterparty: str('counterparty'), currency: str('currency'), allocations,
  };
}

/** Printable ASCII without a quote: csv-parse (trim on) reads such a line as split on commas and trimmed of spaces. */
const PLAIN_LINE = /^[\x20\x21\x23-\x7e]*$/;

/** Executions CSV: `exec_id,account,symbol,side,quantity,price,trade_date,counterparty,currency` (optional kind, exec_ref_id, order_id, allocations). */
export function readCsvExecutions(text: string, source = 'csv'): (ExecutionInput | UnreadableRecord)[] {
  return [...csvExecutions(text, source)];
}

/**
 * The records of an executions CSV one at a time, as they are read: a big file's records need not
 * all be in memory at once. Its header is checked now.
 * @throws DomainError CSV_INVALID (a required column is missing)
 */
export function csvExecutions(text: string, source = 'csv'): Iterable<ExecutionInput | UnreadableRecord> & { count: number } {
  const firstEnd = text.search(/\r?\n|$/);
  const header = text.slice(0, firstEnd);
  const cols = header.split(',').map((c) => c.trim().toLowerCase());
  const missing = ['exec_id', 'account', 'symbol', 'side', 'quantity', 'price', 'trade_date', 'counterparty', 'currency'].filter((c) => !cols.includes(c));
  if (missing.length) throw new DomainError('CSV_INVALID', 'invalid', `executions CSV: missing column(s) ${missing.join(', ')}`);
  const distinct = new Set(cols).size === cols.length;
  /** A data line's record, or undefined for a blank or comment line. */
  const record = (line: string, n: number): ExecutionInput | UnreadableRecord | undefined => {
    if (!line.trim() || line.startsWith('#')) return undefined;
    const rec = `line ${n}`;
    try {
      // Plain lines (printable ASCII, no quotes: nearly all of a feed) are split here, as csv-parse
      // would split them; anything else, or a wrong field count, goes to csv-parse for its reading
      // and its message. A parse per line was the largest cost of a big file.
      const fields = distinct && PLAIN_LINE.test(line) ? line.split(',') : undefined;
      let values: Record<string, string>;
      if (fields && fields.length === cols.length) {
        values = {};
        for (let k = 0; k < cols.length; k++) values[cols[k]!] = fields[k]!.trim();
      } else {
        values = (parse(line, { columns: cols, trim: true, relax_column_count: false }) as Record<string, string>[])[0]!;
      }
      // The header travels with the line, so that a quarantined record can be retried on its own.
      return fromFields(values, source, rec, 'csv', `${header}\n${line}`);
    } catch (e) {
      return { source, record: rec, format: 'csv', raw: `${header}\n${line}`, reason: `${rec}: ${(e as Error).message}`, rule: 'CSV_MALFORMED' };
    }
  };
  // The data lines from the one after the header; a line's end is its \n (a \r before it is dropped).
  const bodyStart = firstEnd >= text.length ? text.length : text.indexOf('\n', firstEnd) + 1;
  function* lines(): Generator<[string, number]> {
    let n = 1;
    for (let start = bodyStart; start < text.length;) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      n++;
      yield [text.charCodeAt(end - 1) === 13 && end > start ? text.slice(start, end - 1) : text.slice(start, end), n];
      start = end + 1;
    }
  }
  // Records: data lines that are neither blank nor comments (a progress bar's total).
  let count = 0;
  for (const [line] of lines()) if (line.trim() && !line.startsWith('#')) count++;
  return {
    count,
    *[Symbol.iterator]() {
      for (const [line, n] of lines()) {
        const r = record(line, n);
        if (r) yield r;
      }
    },
  };
}

/** Executions as JSON: an array of objects (or JSON lines) with the CSV's field names. */
export function readJsonExecutions(text: string, source = 'api'): (ExecutionInput | UnreadableRecord)[] {
  const t = text.trim();
  let items: { v: unknown; record: string; raw: string }[];
  if (t.startsWith('[')) {
    let arr: unknown[];
    try { arr = JSON.parse(t); } catch (e) { throw new DomainError('JSON_MALFORMED', 'invalid', `executions JSON: ${(e as Error).message}`); }
    items = arr.map((v, i) => ({ v, record: `item ${i + 1}`, raw: JSON.stringify(v) }));
  } else {
    items = t.split('\n').map((raw, i) => ({ raw, record: `line ${i + 1}`, v: undefined as unknown })).filter((x) => x.raw.trim());
    for (const it of items) { try { it.v = JSON.parse(it.raw); } catch { it.v = null; } }
  }
  return items.map(({ v, record, raw }) => (v && typeof v === 'object' && !Array.isArray(v)
    ? fromFields(v as Record<string, unknown>, source, record, 'json', raw)
    : { source, record, format: 'json', raw, reason: `${record}: not a JSON object`, rule: 'JSON_MALFORMED' }));
}

/** Read an executions file in the given (or detected) format. */
export function readExecutions(text: string, format: ExecFormat = detectFormat(text), source?: string): (ExecutionInput | UnreadableRecord)[] {
  if (format === 'fix') return readFix(text, source);
  if (format === 'csv') return readCsvExecutions(text, source);
  return readJsonExecutions(text, source);
}

/**
 * The same records as {@link readExecutions}, with their count: a CSV's read one at a time as they
 * are taken (a day's file of a million executions is never all in memory as records).
 */
export function executionRecords(text: string, format: ExecFormat = detectFormat(text), source?: string): { records: Iterable<ExecutionInput | UnreadableRecord>; count: number } {
  if (format === 'csv') { const r = csvExecutions(text, source); return { records: r, count: r.count }; }
  const all = readExecutions(text, format, source);
  return { records: all, count: all.length };
}
