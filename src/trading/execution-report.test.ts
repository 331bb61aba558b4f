import { readFileSync } from 'node:fs';
import { parse as parseCsv } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { DomainError, Dec } from '../kernel/index.js';
import {
  EXEC_TRANS_TYPES,
  EXEC_TYPES,
  FIX42_FIELDS,
  FIX44_FIELDS,
  ORD_STATUSES,
  SIDES,
  replayExecutions,
  toExecutionReport,
  type ExecutionReport,
} from './execution-report.js';
import { FixParseError, SOH, parseFixMessage, splitFixMessages } from './fix-parser.js';

// Public fixtures, copied from ../shared/fixtures with their sources: test/fixtures/fix/SOURCES.md.
const fixture = (name: string) => readFileSync(new URL(`../../test/fixtures/fix/${name}`, import.meta.url), 'utf8');

/** Frame a message: BodyLength after BeginString, CheckSum at the end (written apart from the parser). */
function withTrailer(fields: ReadonlyArray<readonly [number, string]>): string {
  const [begin, ...rest] = fields.filter(([t]) => t !== 9 && t !== 10);
  const body = rest.map(([t, v]) => `${t}=${v}${SOH}`).join('');
  const head = `8=${begin![1]}${SOH}9=${Buffer.byteLength(body, 'utf8')}${SOH}`;
  let sum = 0;
  for (const b of Buffer.from(head + body, 'utf8')) sum += b;
  return `${head}${body}10=${String(sum % 256).padStart(3, '0')}${SOH}`;
}

type Fields = Array<readonly [number, string]>;

const HEADER = (version: '4.2' | '4.4', seq = '7'): Fields => [
  [8, `FIX.${version}`], [35, '8'], [34, seq], [49, 'BROKER'], [56, 'FIRM'], [52, '20240102-14:30:00.200'],
];

/** A FIX 4.2 fill of 100 XYZ at 25.50, fields in wire order. */
const FILL_42: Fields = [
  [37, 'ORD1'], [11, 'CL1'], [17, 'E1'], [20, '0'], [150, '2'], [39, '2'], [1, 'ACC9'], [55, 'XYZ'],
  [48, '988498101'], [22, '1'], [54, '1'], [38, '100'], [15, 'USD'], [32, '100'], [31, '25.50'],
  [30, 'XNYS'], [151, '0'], [14, '100'], [6, '25.50'], [75, '20240102'], [60, '20240102-14:30:00.123'],
  [64, '20240103'],
];

/** Replace (value), drop (null) or append fields of a body. */
function edit(body: Fields, changes: Record<number, string | null>): Fields {
  const out: Fields = [];
  for (const [t, v] of body) {
    if (!(t in changes)) out.push([t, v]);
    else if (changes[t] !== null) out.push([t, changes[t]!]);
  }
  for (const [t, v] of Object.entries(changes)) {
    if (v !== null && !body.some(([x]) => x === Number(t))) out.push([Number(t), v]);
  }
  return out;
}

const er = (version: '4.2' | '4.4', body: Fields): ExecutionReport =>
  toExecutionReport(parseFixMessage(withTrailer([...HEADER(version), ...body])));
const er42 = (changes: Record<number, string | null> = {}) => er('4.2', edit(FILL_42, changes));
const er44 = (changes: Record<number, string | null> = {}) => er('4.4', edit(FILL_42, { 20: null, 150: 'F', ...changes }));

function fixError(fn: () => unknown): FixParseError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FixParseError);
    return e as FixParseError;
  }
  throw new Error('expected a FixParseError, nothing was thrown');
}
const codeAndTag = (fn: () => unknown) => {
  const e = fixError(fn);
  return [e.code, e.tag];
};

// ---- The FIX 4.2 data dictionary (QuickFIX), read with two regular expressions: the file is
// ---- regular (single-quoted attributes, one element per line) and the project has no XML library.
const dictionaryXml = fixture('quickfix_FIX42.xml');
const dictionary = new Map<string, { number: number; values: Map<string, string> }>();
for (const m of dictionaryXml.matchAll(/<field number='(\d+)' name='(\w+)' type='\w+'\s*(?:\/>|>([\s\S]*?)<\/field>)/g)) {
  const values = new Map([...(m[3] ?? '').matchAll(/<value enum='([^']*)' description='(\w+)'/g)].map((v) => [v[1]!, v[2]!] as const));
  dictionary.set(m[2]!, { number: Number(m[1]), values });
}
const enumOf = (name: string) => Object.fromEntries(dictionary.get(name)!.values);
const executionReportFields = new Set(
  [.../<message name='ExecutionReport' msgtype='8'[^>]*>([\s\S]*?)<\/message>/.exec(dictionaryXml)![1]!.matchAll(/<field name='(\w+)'/g)].map((m) => m[1]!),
);
const headerFields = new Set([.../<header>([\s\S]*?)<\/header>/.exec(dictionaryXml)![1]!.matchAll(/<field name='(\w+)'/g)].map((m) => m[1]!));

describe('the tags and enums the mapping uses are the FIX 4.2 dictionary\'s', () => {
  it('every FIX 4.2 field name has that tag number, in the ExecutionReport or the standard header', () => {
    for (const [name, tag] of Object.entries(FIX42_FIELDS)) {
      expect(dictionary.get(name)?.number, name).toBe(tag);
      expect(executionReportFields.has(name) || headerFields.has(name), name).toBe(true);
    }
  });

  it('the FIX 4.4 renames keep the 4.2 tag numbers; the Parties group is not in 4.2', () => {
    expect([FIX44_FIELDS.SecurityIDSource, FIX44_FIELDS.LastQty, FIX44_FIELDS.SettlDate]).toEqual(
      ['IDSource', 'LastShares', 'FutSettDate'].map((n) => dictionary.get(n)!.number),
    );
    const numbers = new Set([...dictionary.values()].map((f) => f.number));
    for (const tag of [453, 448, 447, 452, 802, 523, 803]) expect(numbers.has(tag), String(tag)).toBe(false);
  });

  it('ExecTransType (20) and OrdStatus (39) are exactly the dictionary\'s', () => {
    expect(EXEC_TRANS_TYPES).toEqual(enumOf('ExecTransType'));
    expect(ORD_STATUSES).toEqual(enumOf('OrdStatus'));
  });

  it('ExecType (150) 0-E are the dictionary\'s; F-I are the 4.3/4.4 additions, absent from 4.2', () => {
    const fix42 = enumOf('ExecType');
    const ours = { ...EXEC_TYPES };
    for (const added of ['F', 'G', 'H', 'I']) {
      expect(fix42[added]).toBeUndefined();
      delete ours[added];
    }
    expect(ours).toEqual(fix42);
  });

  it('Side (54): what we book as buy, sell and short is what the dictionary calls them', () => {
    const sides = enumOf('Side');
    const described = Object.entries(SIDES).map(([code, side]) => `${side}=${sides[code]}`);
    expect(described).toEqual(['buy=BUY', 'sell=SELL', 'buy=BUY_MINUS', 'sell=SELL_PLUS', 'short=SELL_SHORT', 'short=SELL_SHORT_EXEMPT']);
    expect(Object.keys(sides).filter((c) => !(c in SIDES))).toEqual(['7', '8', '9']);
  });

  it('the dictionary requires OrderID, ExecID, ExecTransType, ExecType, OrdStatus, Symbol, Side; so do we', () => {
    const required = [.../<message name='ExecutionReport'[^>]*>([\s\S]*?)<\/message>/.exec(dictionaryXml)![1]!.matchAll(/<field name='(\w+)' required='Y'/g)].map((m) => m[1]!);
    // LeavesQty, CumQty and AvgPx are required by the dictionary, but booking does not need them:
    // they are read when present and not demanded.
    expect(required).toEqual(['OrderID', 'ExecID', 'ExecTransType', 'ExecType', 'OrdStatus', 'Symbol', 'Side', 'LeavesQty', 'CumQty', 'AvgPx']);
    for (const name of required.slice(0, 7)) {
      const tag = dictionary.get(name)!.number;
      expect(codeAndTag(() => er42({ [tag]: null })), name).toEqual(['FIX_REQUIRED_FIELD', tag]);
    }
    for (const name of required.slice(7)) expect(er42({ [dictionary.get(name)!.number]: null }).kind).toBe('book');
  });
});

describe('toExecutionReport on the QuickFIX fixtures', () => {
  it('maps the CME ES fill (FIX 4.2), once its CheckSum is forgiven', () => {
    const raw = splitFixMessages(fixture('quickfix_MessagesTestCase_CME_fill_ES.fix'))[0]!.raw;
    expect(toExecutionReport(parseFixMessage(raw, { verifyChecksum: false }))).toStrictEqual({
      version: '4.2',
      seqNum: '136',
      execId: '64485:M:412850TN0031303',
      orderId: '64227619161',
      clOrdId: '00000000000000000003',
      kind: 'book',
      execType: '2',
      ordStatus: '2',
      account: 'TEST',
      symbol: 'ES',
      securityId: '147403',
      side: 'buy',
      lastQty: '1',
      lastPx: '208700',
      cumQty: '1',
      // CME reports AvgPx 0 on a filled order: the fill's price is LastPx.
      avgPx: '0',
      leavesQty: '0',
      orderQty: '1',
      tradeDate: '2015-02-20',
      transactTime: '2015-02-20T14:40:24.970Z',
      counterparty: 'CME',
    });
  });

  it("refuses QuickFIX's outOfOrder ExecutionReport: no LastShares, then a placeholder TransactTime", () => {
    const raw = splitFixMessages(fixture('quickfix_MessagesTestCase_outOfOrder_expected.fix'))[0]!.raw;
    const msg = parseFixMessage(raw);
    const first = fixError(() => toExecutionReport(msg));
    expect([first.code, first.tag]).toEqual(['FIX_REQUIRED_FIELD', 32]);
    expect(first.message).toBe('message 2 (ExecID 2): LastShares (32) is required for a fill but missing');
    const withQty = [...msg.fields, [32, '3000'] as const];
    const second = fixError(() => toExecutionReport(parseFixMessage(withTrailer(withQty))));
    expect(second.message).toBe(
      'message 2 (ExecID 2): TransactTime (60) "00000000-00:00:00" is not a UTC timestamp YYYYMMDD-HH:MM:SS[.sss]',
    );
    const fixed = withQty.map(([t, v]) => [t, t === 60 ? '20240102-09:30:00' : v] as const);
    expect(toExecutionReport(parseFixMessage(withTrailer(fixed)))).toMatchObject({
      kind: 'book', side: 'buy', lastQty: '3000', lastPx: '109.03125', currency: 'USD', securityIdSource: '1', counterparty: 'MEK',
    });
  });
});

describe('the kind of a report', () => {
  it('FIX 4.2, ExecTransType New: fills (1, 2, and F if sent) are booked, every other ExecType ignored', () => {
    const kinds = Object.fromEntries(Object.keys(EXEC_TYPES).filter((t) => t !== 'G' && t !== 'H').map((t) => [t, er42({ 150: t, 32: '0', 31: '0', ...(t === '1' || t === '2' || t === 'F' ? { 32: '10', 31: '1' } : {}) }).kind]));
    expect(kinds).toEqual({
      '0': 'ignore', '1': 'book', '2': 'book', '3': 'ignore', '4': 'ignore', '5': 'ignore', '6': 'ignore', '7': 'ignore',
      '8': 'ignore', '9': 'ignore', A: 'ignore', B: 'ignore', C: 'ignore', D: 'ignore', E: 'ignore', F: 'book', I: 'ignore',
    });
  });

  it('FIX 4.2, ExecTransType Cancel / Correct / Status', () => {
    expect(er42({ 17: 'E2', 20: '1', 19: 'E1', 32: '0', 31: '0' })).toMatchObject({ kind: 'cancel', execRefId: 'E1', lastQty: '0' });
    expect(er42({ 17: 'E3', 20: '2', 19: 'E1', 32: '90', 31: '25.40' })).toMatchObject({ kind: 'correct', execRefId: 'E1', lastQty: '90', lastPx: '25.40' });
    expect(er42({ 20: '3' }).kind).toBe('ignore');
    expect(codeAndTag(() => er42({ 20: '1' }))).toEqual(['FIX_REQUIRED_FIELD', 19]);
    expect(codeAndTag(() => er42({ 20: '2' }))).toEqual(['FIX_REQUIRED_FIELD', 19]);
    expect(codeAndTag(() => er42({ 20: '2', 19: 'E1' }))).toEqual(['FIX_BAD_VALUE', 19]);
    expect(codeAndTag(() => er42({ 20: '2', 19: 'E0', 32: '0' }))).toEqual(['FIX_BAD_VALUE', 32]);
    expect(codeAndTag(() => er42({ 20: '4' }))).toEqual(['FIX_BAD_VALUE', 20]);
    expect(codeAndTag(() => er42({ 20: null }))).toEqual(['FIX_REQUIRED_FIELD', 20]);
  });

  it('FIX 4.4, by ExecType: F Trade (1/2 too) book, H Trade Cancel, G Trade Correct, the rest ignored', () => {
    expect(er44().kind).toBe('book');
    expect(er44({ 150: '1' }).kind).toBe('book');
    expect(er44({ 150: '2' }).kind).toBe('book');
    expect(er44({ 17: 'E2', 150: 'H', 19: 'E1', 32: null, 31: null })).toMatchObject({ kind: 'cancel', execRefId: 'E1', lastQty: '0', lastPx: '0' });
    expect(er44({ 17: 'E3', 150: 'G', 19: 'E1', 32: '99' }).kind).toBe('correct');
    for (const t of ['0', '3', '4', '5', '6', '8', 'A', 'C', 'D', 'E', 'I']) expect(er44({ 150: t }).kind, t).toBe('ignore');
    expect(codeAndTag(() => er44({ 150: 'H' }))).toEqual(['FIX_REQUIRED_FIELD', 19]);
    expect(codeAndTag(() => er44({ 150: 'G' }))).toEqual(['FIX_REQUIRED_FIELD', 19]);
    expect(codeAndTag(() => er44({ 150: 'Z' }))).toEqual(['FIX_BAD_VALUE', 150]);
    expect(er44({ 20: null }).version).toBe('4.4');
  });

  it("either version honours the other's bust/correct signal, and the two must agree", () => {
    expect(er44({ 17: 'E2', 20: '1', 19: 'E1' }).kind).toBe('cancel');
    expect(er44({ 17: 'E2', 20: '3' }).kind).toBe('ignore');
    expect(er42({ 17: 'E2', 150: 'H', 19: 'E1' }).kind).toBe('cancel');
    const e = fixError(() => er42({ 17: 'E2', 20: '2', 150: 'H', 19: 'E1' }));
    expect([e.code, e.tag]).toEqual(['FIX_BAD_VALUE', 150]);
    expect(e.message).toBe('message 7 (ExecID E2): ExecType (150) H (TRADE_CANCEL) contradicts ExecTransType (20) 2 (CORRECT)');
  });
});

describe('the fields of a report', () => {
  it('maps a full FIX 4.2 fill', () => {
    expect(er42({ 76: 'GSCO' })).toStrictEqual({
      version: '4.2', seqNum: '7', execId: 'E1', orderId: 'ORD1', clOrdId: 'CL1', kind: 'book', execType: '2', ordStatus: '2',
      account: 'ACC9', symbol: 'XYZ', securityId: '988498101', securityIdSource: '1', side: 'buy', lastQty: '100', lastPx: '25.50',
      cumQty: '100', avgPx: '25.50', leavesQty: '0', orderQty: '100', currency: 'USD', tradeDate: '2024-01-02',
      transactTime: '2024-01-02T14:30:00.123Z', settlDate: '2024-01-03', lastMkt: 'XNYS', execBroker: 'GSCO', counterparty: 'GSCO',
    });
  });

  it('takes the counterparty from the Executing Firm party (4.4), else ExecBroker (76), else SenderCompID (49)', () => {
    const base = edit(FILL_42, { 20: null, 150: 'F' });
    const contraOnly: Fields = [[453, '1'], [448, 'CONTRA'], [447, 'D'], [452, '17']];
    const body: Fields = [...base, [453, '2'], [448, 'CONTRA'], [447, 'D'], [452, '17'], [448, 'MSCO'], [447, 'D'], [452, '1'], [802, '1'], [523, 'desk 4'], [803, '9'], [58, 'after the group']];
    expect(er('4.4', body).counterparty).toBe('MSCO');
    expect(er('4.4', [...edit(base, { 76: 'GSCO' }), ...contraOnly]).counterparty).toBe('GSCO');
    expect(er('4.4', [...base, ...contraOnly]).counterparty).toBe('BROKER');
    const short: Fields = [...base, [453, '2'], [448, 'MSCO'], [452, '1']];
    const e = fixError(() => er('4.4', short));
    expect([e.code, e.tag, e.message]).toEqual([
      'FIX_GROUP_COUNT', 453, 'message 7 (ExecID E1): NoPartyIDs (453) says 2 but the group has 1 (each starting with PartyID (448))',
    ]);
  });

  it('sides: 1 and 3 buy, 2 and 4 sell, 5 and 6 short; others refused', () => {
    expect(['1', '2', '3', '4', '5', '6'].map((s) => er42({ 54: s }).side)).toEqual(['buy', 'sell', 'buy', 'sell', 'short', 'short']);
    for (const s of ['7', '8', '9', 'B', 'X']) expect(codeAndTag(() => er42({ 54: s })), s).toEqual(['FIX_BAD_VALUE', 54]);
  });

  it('quantities and prices: canonical decimal strings, never numbers', () => {
    const r = er42({ 32: '002000.00', 31: '.5', 14: '2000.', 6: '-0.000', 38: '002000' });
    expect([r.lastQty, r.lastPx, r.cumQty, r.avgPx, r.orderQty]).toEqual(['2000.00', '0.5', '2000', '0.000', '2000']);
    expect(er42({ 31: '123456789012345678901234567890.123456789' }).lastPx).toBe('123456789012345678901234567890.123456789');
    expect(er42({ 6: '-1.25' }).avgPx).toBe('-1.25');
    for (const bad of ['1e3', '+5', '1,000', 'abc', '.', '-', '1.2.3', ' 5', '0x10', 'Infinity']) {
      expect(codeAndTag(() => er42({ 32: bad })), bad).toEqual(['FIX_BAD_VALUE', 32]);
    }
    expect(codeAndTag(() => er42({ 14: '-5' }))).toEqual(['FIX_BAD_VALUE', 14]);
    expect(fixError(() => er42({ 32: '1e3' })).message).toBe('message 7 (ExecID E1): LastShares (32) "1e3" is not a decimal number');
    expect(fixError(() => er44({ 32: '-100' })).message).toBe('message 7 (ExecID E1): LastQty (32) "-100" is negative');
  });

  it('a fill needs LastQty and LastPx above zero; other reports may carry zeros', () => {
    expect(fixError(() => er42({ 31: '0.00' })).message).toBe('message 7 (ExecID E1): LastPx (31) is 0.00; a fill needs more than 0');
    expect(codeAndTag(() => er42({ 31: '-1' }))).toEqual(['FIX_BAD_VALUE', 31]);
    expect(codeAndTag(() => er42({ 32: '0' }))).toEqual(['FIX_BAD_VALUE', 32]);
    expect(codeAndTag(() => er42({ 31: null }))).toEqual(['FIX_REQUIRED_FIELD', 31]);
    expect(er42({ 150: '0', 39: '0', 32: '0', 31: '0' })).toMatchObject({ kind: 'ignore', lastQty: '0', lastPx: '0' });
  });

  it('dates and times', () => {
    expect(er42({ 60: '20240102-14:30:00' }).transactTime).toBe('2024-01-02T14:30:00Z');
    expect(er44({ 60: '20240102-14:30:00.123456789' }).transactTime).toBe('2024-01-02T14:30:00.123456789Z');
    expect(er42({ 75: '20240229' }).tradeDate).toBe('2024-02-29');
    for (const [tag, bad] of [[75, '20230229'], [75, '2024-01-02'], [64, '20241301'], [60, '20240102-24:00:00'], [60, '20240102 14:30:00'], [60, '20240230-10:00:00'], [60, '20240102-14:30:00.']] as const) {
      expect(codeAndTag(() => er42({ [tag]: bad })), bad).toEqual(['FIX_BAD_VALUE', tag]);
    }
    expect(fixError(() => er42({ 75: '20230229' })).message).toBe('message 7 (ExecID E1): TradeDate (75) "20230229" is not a date YYYYMMDD');
  });

  it('refuses what is not a 4.2/4.4 ExecutionReport, and key fields given twice', () => {
    const order = parseFixMessage(withTrailer([[8, 'FIX.4.2'], [35, 'D'], [34, '3'], [11, 'X']]));
    expect(codeAndTag(() => toExecutionReport(order))).toEqual(['FIX_BAD_VALUE', 35]);
    const v43 = parseFixMessage(withTrailer([...HEADER('4.2').map(([t, v]) => [t, t === 8 ? 'FIX.4.3' : v] as const), ...FILL_42]));
    expect(fixError(() => toExecutionReport(v43)).message).toBe('message 7 (ExecID E1): BeginString (8) "FIX.4.3" is not supported; FIX.4.2 and FIX.4.4 are');
    expect(codeAndTag(() => er('4.2', [...FILL_42, [32, '5']]))).toEqual(['FIX_MALFORMED', 32]);
    expect(codeAndTag(() => er('4.2', [...FILL_42, [17, 'E9']]))).toEqual(['FIX_MALFORMED', 17]);
    expect(codeAndTag(() => er42({ 39: 'Z' }))).toEqual(['FIX_BAD_VALUE', 39]);
  });

  it('names the file line when the parse was told it', () => {
    const msg = parseFixMessage(withTrailer([...HEADER('4.2'), ...edit(FILL_42, { 54: '8' })]), { line: 12 });
    expect(fixError(() => toExecutionReport(msg)).message).toBe(
      'line 12, message 7 (ExecID E1): Side (54) "8" is not one we book (1 buy, 2 sell, 3 buy minus, 4 sell plus, 5 sell short, 6 sell short exempt)',
    );
  });
});

// ---- The FIX specification's order-state tables as oracles for replayExecutions ----

interface Row { [column: string]: string }
const readTable = (name: string): Row[] => parseCsv(fixture(name), { columns: true, comment: '#', skip_empty_lines: true });

/** FIX names in the tables -> codes, through the dictionary's descriptions ("Partial Fill" -> PARTIAL_FILL -> 1). */
function code(field: string, name: string): string {
  const alias: Record<string, string> = { Replace: 'REPLACED' }; // the table says "Replace", the dictionary "REPLACED"
  const wanted = alias[name] ?? name.toUpperCase().replaceAll(' ', '_');
  const hit = [...dictionary.get(field)!.values].find(([, d]) => d === wanted);
  if (field === 'ExecType' && name === 'Trade') return 'F'; // FIX 4.4 ExecType, not in the 4.2 dictionary
  if (!hit) throw new Error(`${field} "${name}" not in the FIX 4.2 dictionary`);
  return hit[0];
}

/** The client order ids of "Execution(Y;X)": ClOrdID Y, OrigClOrdID X. */
const clOrdIds = (msg: string): Fields => {
  const [cl, orig] = /\(([^)]*)\)/.exec(msg)![1]!.split(';');
  return orig ? [[11, cl!], [41, orig]] : [[11, cl!]];
};

describe('replayExecutions against the FIX specification\'s order-state tables', () => {
  it('FIX 4.2 Appendix D34 (fills, a bust, corrections of corrections, a replace): cum qty and avg px after every report', () => {
    const rows = readTable('fix42_appendixD34_order_state_oracle.csv').filter((r) => r.msg_sent !== '');
    expect(rows.map((r) => r.step)).toEqual(['2', '3', '4', '5', '6', '7', '8', '10', '11', '12']);
    const reports: ExecutionReport[] = [];
    for (const r of rows) {
      const body: Fields = [
        [37, 'ORD-D34'], ...clOrdIds(r.msg_sent!), [17, r.exec_id!], ...(r.exec_ref_id ? [[19, r.exec_ref_id] as const] : []),
        [20, code('ExecTransType', r.exec_trans_type!)], [150, code('ExecType', r.exec_type!)], [39, code('OrdStatus', r.ord_status!)],
        [55, 'XYZ'], [54, '1'], [38, r.order_qty!],
        ...(r.last_shares ? ([[32, r.last_shares], [31, r.last_px!]] as const) : []),
        [151, r.leaves_qty!], [14, r.cum_qty!], [6, r.avg_px!],
      ];
      reports.push(toExecutionReport(parseFixMessage(withTrailer([...HEADER('4.2', r.step), ...body]))));
      const replay = replayExecutions(reports);
      expect(new Dec(replay.cumQty).eq(r.cum_qty!), `cum qty after step ${r.step}`).toBe(true);
      expect(new Dec(replay.avgPx).eq(r.avg_px!), `avg px after step ${r.step}: ${replay.avgPx}`).toBe(true);
    }
    expect(reports.map((r) => `${r.execId}:${r.kind}`)).toEqual([
      'B:ignore', 'C:book', 'D:book', 'E:cancel', 'F:correct', 'G:book', 'H:correct', 'I:ignore', 'J:ignore', 'K:correct',
    ]);
    const last = rows.at(-1)!;
    const final = replayExecutions(reports);
    expect([final.cumQty, final.avgPx]).toEqual([last.cum_qty, last.avg_px]);
    expect(final.fills).toEqual(new Map([['G', { qty: '1000', px: '120' }], ['K', { qty: '9500', px: '120' }]]));
  });

  it('FIX 4.4 Appendix D A.1.b (partial fills, then Done for Day): cum qty after every report; avg px of our prices', () => {
    const rows = readTable('fix44_appendixD_A1b_partial_fill_dfd_oracle.csv').filter((r) => r.msg_sent !== '');
    // The table gives no prices: the two trades are priced here, 2000 @ 20.25 and 1000 @ 20.50.
    const prices: Record<string, string> = { '3': '20.25', '4': '20.50' };
    const reports: ExecutionReport[] = [];
    for (const r of rows) {
      const px = prices[r.step!] ?? '0';
      const body: Fields = [
        [37, 'ORD-A1b'], ...clOrdIds(r.msg_sent!), [17, `X${r.step}`], [150, code('ExecType', r.exec_type!)],
        [39, code('OrdStatus', r.ord_status!)], [55, 'XYZ'], [54, '2'], [38, r.order_qty!], [32, r.last_qty!], [31, px],
        [151, r.leaves_qty!], [14, r.cum_qty!], [453, '1'], [448, 'EXEC-BRKR'], [447, 'D'], [452, '1'],
      ];
      reports.push(toExecutionReport(parseFixMessage(withTrailer([...HEADER('4.4', r.step), ...body]))));
      expect(new Dec(replayExecutions(reports).cumQty).eq(r.cum_qty!), `cum qty after step ${r.step}`).toBe(true);
    }
    expect(reports.map((r) => `${r.execType}:${r.kind}`)).toEqual(['0:ignore', 'F:book', 'F:book', '3:ignore']);
    expect(reports.every((r) => r.side === 'sell' && r.counterparty === 'EXEC-BRKR' && r.version === '4.4')).toBe(true);
    const final = replayExecutions(reports);
    // (2000 x 20.25 + 1000 x 20.50) / 3000 = 20.333..., half-even to 8 places
    expect([final.cumQty, final.avgPx]).toEqual(['3000', '20.33333333']);
    expect(rows.at(-1)!.cum_qty).toBe('3000');
  });
});

describe('replayExecutions', () => {
  const fill = (execId: string, qty: string, px: string, more: Partial<ExecutionReport> = {}): ExecutionReport => ({
    version: '4.4', execId, orderId: 'O', kind: 'book', execType: 'F', ordStatus: '1', symbol: 'XYZ', side: 'buy', lastQty: qty, lastPx: px, ...more,
  });
  const bust = (execId: string, ref: string) => fill(execId, '0', '0', { kind: 'cancel', execType: 'H', execRefId: ref });
  const fix = (execId: string, ref: string, qty: string, px: string) => fill(execId, qty, px, { kind: 'correct', execType: 'G', execRefId: ref });
  const domainError = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(DomainError);
      return e as DomainError;
    }
    throw new Error('expected a DomainError');
  };

  it('no fills: zero quantity and price', () => {
    expect(replayExecutions([])).toEqual({ fills: new Map(), cumQty: '0', avgPx: '0' });
    expect(replayExecutions([fill('A', '5', '10'), bust('B', 'A')])).toEqual({ fills: new Map(), cumQty: '0', avgPx: '0' });
  });

  it('rounds the average price half-even at 8 places, and sums quantities exactly', () => {
    expect(replayExecutions([fill('A', '1', '0.123456785')]).avgPx).toBe('0.12345678');
    expect(replayExecutions([fill('A', '1', '0.123456775')]).avgPx).toBe('0.12345678');
    expect(replayExecutions([fill('A', '0.1', '3'), fill('B', '0.2', '3')]).cumQty).toBe('0.3');
    expect(replayExecutions([fill('A', '1', '1'), fill('B', '2', '2')]).avgPx).toBe('1.66666667');
  });

  it('a correction or bust may name the original ExecID or any later version of the fill', () => {
    const r = replayExecutions([fill('D', '9000', '110'), fix('F', 'D', '9000', '100'), fix('H', 'D', '9000', '120')]);
    expect(r.fills).toEqual(new Map([['H', { qty: '9000', px: '120' }]]));
    expect(replayExecutions([fill('D', '9000', '110'), fix('F', 'D', '9000', '100'), bust('X', 'F')]).cumQty).toBe('0');
  });

  it('skips an identical resend of an ExecID and refuses a different one', () => {
    const a = fill('A', '100', '10');
    expect(replayExecutions([a, a, bust('B', 'A'), bust('B', 'A'), a]).cumQty).toBe('0');
    const e = domainError(() => replayExecutions([a, fill('A', '100', '10.01')]));
    expect([e.code, e.kind]).toEqual(['FIX_DUPLICATE_EXEC_ID', 'conflict']);
    expect(e.message).toBe('ExecID A was already replayed as book and comes again with different content');
    expect(replayExecutions([a, fill('A', '100.00', '10.0')]).cumQty).toBe('100');
  });

  it('refuses a bust or correction of a fill that is not standing', () => {
    const e = domainError(() => replayExecutions([bust('B', 'A')]));
    expect([e.code, e.kind, e.message]).toEqual(['FIX_UNKNOWN_EXEC_REF', 'invalid', 'ExecID B cancels ExecRefID A, which is not a standing fill']);
    expect(domainError(() => replayExecutions([fill('A', '1', '1'), bust('B', 'A'), bust('C', 'A')])).code).toBe('FIX_UNKNOWN_EXEC_REF');
    expect(domainError(() => replayExecutions([fill('A', '1', '1'), bust('B', 'A'), fix('C', 'A', '1', '2')])).message).toBe(
      'ExecID C corrects ExecRefID A, which is not a standing fill',
    );
  });

  it('ignores order-state reports', () => {
    const r = replayExecutions([fill('N', '0', '0', { kind: 'ignore', execType: '0' }), fill('A', '10', '5'), fill('R', '0', '0', { kind: 'ignore', execType: '5' })]);
    expect([r.cumQty, r.avgPx, [...r.fills.keys()]]).toEqual(['10', '5', ['A']]);
  });
});
