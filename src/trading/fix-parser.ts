/**
 * FIX tag=value parsing (FIX 4.2 / 4.4): split a file of messages, check the frame (BeginString,
 * BodyLength, MsgType first; CheckSum last and right), and give the fields in wire order.
 * Pure functions: no I/O. Every error names the message (MsgSeqNum 34, ExecID 17) and the tag.
 */
import { DomainError, type ErrorDetail } from '../kernel/index.js';

export const SOH = '\x01';

export type FixErrorCode =
  | 'FIX_MALFORMED'
  | 'FIX_TRUNCATED'
  | 'FIX_BODY_LENGTH'
  | 'FIX_CHECKSUM'
  | 'FIX_REQUIRED_FIELD'
  | 'FIX_BAD_VALUE'
  | 'FIX_GROUP_COUNT';

/** A FIX message (or field of one) that breaks a rule. `tag` is the field at fault, when there is one. */
export class FixParseError extends DomainError {
  declare readonly code: FixErrorCode;
  constructor(
    code: FixErrorCode,
    message: string,
    readonly tag?: number,
    details: ErrorDetail[] = [],
  ) {
    super(code, 'invalid', message, details);
    this.name = 'FixParseError';
  }
}

/** One parsed message. `fields` keeps wire order and repeats (repeating groups), including 8, 9, 35 and 10. */
export interface FixMessage {
  /** "FIX.4.2", "FIX.4.4"... */
  readonly beginString: string;
  readonly msgType: string;
  readonly fields: ReadonlyArray<readonly [number, string]>;
  /** The line of the file it came from, when the caller said so (for error messages). */
  readonly line?: number;
  /** The first value of `tag`, or undefined. */
  get(tag: number): string | undefined;
  /** Every value of `tag`, in wire order. */
  getAll(tag: number): string[];
}

export interface ParseFixOptions {
  /** Check CheckSum (10); when false, a message may also come without it. Default true. */
  verifyChecksum?: boolean;
  /** Check BodyLength (9); when false, a message may also come without it. Default true. */
  verifyBodyLength?: boolean;
  /** The file line, to name in errors. */
  line?: number;
}

// Names for the tags this module and the execution-report mapping talk about. FIX 4.4 names;
// FIX 4.2 names where they differ are in TAG_NAMES_42.
const TAG_NAMES: Record<number, string> = {
  1: 'Account', 6: 'AvgPx', 8: 'BeginString', 9: 'BodyLength', 10: 'CheckSum', 11: 'ClOrdID',
  14: 'CumQty', 15: 'Currency', 17: 'ExecID', 19: 'ExecRefID', 20: 'ExecTransType',
  21: 'HandlInst', 22: 'SecurityIDSource', 30: 'LastMkt', 31: 'LastPx', 32: 'LastQty', 34: 'MsgSeqNum',
  35: 'MsgType', 37: 'OrderID', 38: 'OrderQty', 39: 'OrdStatus', 40: 'OrdType', 48: 'SecurityID',
  49: 'SenderCompID', 52: 'SendingTime', 54: 'Side', 55: 'Symbol', 56: 'TargetCompID',
  60: 'TransactTime', 64: 'SettlDate', 75: 'TradeDate', 76: 'ExecBroker', 150: 'ExecType',
  151: 'LeavesQty', 167: 'SecurityType', 336: 'TradingSessionID', 386: 'NoTradingSessions',
  447: 'PartyIDSource', 448: 'PartyID', 452: 'PartyRole', 453: 'NoPartyIDs',
};
const TAG_NAMES_42: Record<number, string> = { 22: 'IDSource', 32: 'LastShares', 64: 'FutSettDate' };

/** "CheckSum (10)"; "tag 9999" for a tag this module has no name for. */
export function tagName(tag: number, beginString?: string): string {
  const name = (beginString === 'FIX.4.2' ? TAG_NAMES_42[tag] : undefined) ?? TAG_NAMES[tag];
  return name ? `${name} (${tag})` : `tag ${tag}`;
}

/**
 * Length fields and the data field each announces: the data field may hold any byte, SOH
 * included, so it is read by its length, not up to the next delimiter. FIX 4.2 pairs plus the
 * two FIX 4.4 added for legs.
 */
export const LENGTH_FIELDS: Readonly<Record<number, number>> = {
  90: 91, 93: 89, 95: 96, 212: 213, 348: 349, 350: 351, 352: 353, 354: 355, 356: 357, 358: 359,
  360: 361, 362: 363, 364: 365, 445: 446, 618: 619, 621: 622,
};

const valueAt = (raw: string, tag: number): string | undefined =>
  new RegExp(`(?:^|[\\x01|])${tag}=([^\\x01|]*)`).exec(raw)?.[1];

function describe(seq: string | undefined, execId: string | undefined, raw: string | undefined, line?: number): string {
  let who: string;
  if (seq && execId) who = `message ${seq} (ExecID ${execId})`;
  else if (seq) who = `message ${seq}`;
  else if (execId) who = `message with ExecID ${execId}`;
  else {
    const start = (raw ?? '').replaceAll(SOH, '|');
    who = `message "${start.length > 40 ? start.slice(0, 40) + '…' : start}"`;
  }
  return line === undefined ? who : `line ${line}, ${who}`;
}

/** How errors name a message: "message 136 (ExecID 64485:M:412850TN0031303)", with its line when known. */
export function describeMessage(msg: FixMessage): string {
  return describe(msg.get(34), msg.get(17), msg.fields.map(([t, v]) => `${t}=${v}|`).join(''), msg.line);
}

/** A FixParseError about a parsed message: "<message>: <text>". */
export function fixError(msg: FixMessage, code: FixErrorCode, tag: number | undefined, text: string): FixParseError {
  const record = describeMessage(msg);
  return new FixParseError(code, `${record}: ${text}`, tag, [
    { record, field: tag === undefined ? undefined : tagName(tag, msg.beginString), rule: code, message: text },
  ]);
}

/**
 * Split a file of FIX messages, one per line. Blank lines and lines starting with '#' are skipped;
 * a line that starts with 8=FIX and holds several messages back to back (each 8=FIX after a
 * delimiter) gives one entry per message, all with that line number. Nothing is validated here.
 */
export function splitFixMessages(text: string): { line: number; raw: string }[] {
  const out: { line: number; raw: string }[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const s = lines[i]!.trim();
    if (s === '' || s.startsWith('#')) continue;
    let from = 0;
    // Only a line that starts as a message is cut: anything else stays whole, to be refused whole.
    for (let k = s.startsWith('8=FIX') ? s.indexOf('8=FIX', 1) : -1; k > 0; k = s.indexOf('8=FIX', k + 1)) {
      if (s[k - 1] === SOH || s[k - 1] === '|') {
        out.push({ line: i + 1, raw: s.slice(from, k) });
        from = k;
      }
    }
    out.push({ line: i + 1, raw: s.slice(from) });
  }
  return out;
}

interface Token {
  tag: number;
  value: string;
  /** Byte offset of the first digit of the tag. */
  start: number;
  /** Byte offset of the delimiter that ends the field. */
  end: number;
}

const EQUALS = 0x3d;
const isDigit = (b: number | undefined) => b !== undefined && b >= 0x30 && b <= 0x39;

/**
 * Parse one tag=value message. The delimiter is SOH, or '|' when the text has no SOH (logs and
 * hand-written files); with '|', BodyLength and CheckSum are computed as if it were SOH, since
 * that is what the sender computed. Checks: 8, 9, 35 are the first three fields, 10 is the last,
 * each appears once; every field is tag=value with a non-empty value; BodyLength (9) equals the
 * bytes (UTF-8) after the 9 field's delimiter up to and including the delimiter before 10=;
 * CheckSum (10) is three digits equal to the sum of every byte before 10=, mod 256.
 * @throws FixParseError FIX_MALFORMED, FIX_TRUNCATED, FIX_BODY_LENGTH, FIX_CHECKSUM, FIX_REQUIRED_FIELD, FIX_BAD_VALUE
 */
export function parseFixMessage(raw: string, opts: ParseFixOptions = {}): FixMessage {
  const verifyChecksum = opts.verifyChecksum ?? true;
  const verifyBodyLength = opts.verifyBodyLength ?? true;
  const line = opts.line;
  const fail = (code: FixErrorCode, tag: number | undefined, text: string): FixParseError => {
    const record = describe(valueAt(raw, 34), valueAt(raw, 17), raw, line);
    return new FixParseError(code, `${record}: ${text}`, tag, [
      { record, field: tag === undefined ? undefined : tagName(tag, valueAt(raw, 8)), rule: code, message: text },
    ]);
  };
  const name = (tag: number) => tagName(tag, valueAt(raw, 8));

  if (typeof raw !== 'string' || !raw.startsWith('8=')) {
    throw fail('FIX_MALFORMED', 8, 'does not start with BeginString (8=)');
  }
  const delim = raw.includes(SOH) ? 0x01 : raw.includes('|') ? 0x7c : 0x01;
  const buf = Buffer.from(raw, 'utf8');

  const tokens: Token[] = [];
  let pending: { dataTag: number; length: number } | undefined;
  let pos = 0;
  while (pos < buf.length) {
    const prev = tokens.at(-1);
    if (prev?.tag === 10) {
      throw fail('FIX_MALFORMED', 10, `has ${buf.length - pos} more bytes after CheckSum (10), which must end the message`);
    }
    let j = pos;
    while (isDigit(buf[j])) j++;
    if (j === pos || buf[j] !== EQUALS) {
      const end = buf.indexOf(delim, pos);
      const text = buf.toString('utf8', pos, end < 0 ? buf.length : end);
      throw fail('FIX_MALFORMED', undefined, `field ${tokens.length + 1} "${text}" is not tag=value with a numeric tag`);
    }
    const tagText = buf.toString('latin1', pos, j);
    if (tagText.startsWith('0') || tagText.length > 9) {
      throw fail('FIX_MALFORMED', undefined, `field ${tokens.length + 1} has the tag "${tagText}", not a FIX tag number`);
    }
    const tag = Number(tagText);
    const valueStart = j + 1;
    let valueEnd: number;
    if (pending && pending.dataTag === tag) {
      valueEnd = valueStart + pending.length;
      if (valueEnd >= buf.length) {
        throw fail('FIX_TRUNCATED', tag, `ends inside ${name(tag)}, announced as ${pending.length} bytes`);
      }
      if (buf[valueEnd] !== delim) {
        throw fail('FIX_MALFORMED', tag, `${name(tag)} is not followed by a delimiter after the ${pending.length} bytes its length field announced`);
      }
    } else {
      valueEnd = buf.indexOf(delim, valueStart);
      if (valueEnd < 0) {
        throw fail('FIX_TRUNCATED', tag, `ends without the delimiter after ${name(tag)}`);
      }
    }
    if (valueEnd === valueStart) throw fail('FIX_MALFORMED', tag, `${name(tag)} has an empty value`);
    const value = buf.toString('utf8', valueStart, valueEnd);
    tokens.push({ tag, value, start: pos, end: valueEnd });
    pending = undefined;
    const dataTag = LENGTH_FIELDS[tag];
    if (dataTag !== undefined) {
      if (!/^\d+$/.test(value)) throw fail('FIX_BAD_VALUE', tag, `${name(tag)} "${value}" is not a length`);
      pending = { dataTag, length: Number(value) };
    }
    pos = valueEnd + 1;
  }

  // Frame: 8, [9], 35 first; 10 last; each once.
  for (const t of [8, 9, 35, 10]) {
    const at = tokens.filter((x) => x.tag === t);
    if (at.length > 1) {
      const second = tokens.indexOf(at[1]!) + 1;
      throw fail(
        'FIX_MALFORMED',
        t,
        t === 8
          ? `BeginString (8) appears again at field ${second}: two messages run together?`
          : `${name(t)} appears ${at.length} times`,
      );
    }
  }
  const beginString = tokens[0]!.value;
  if (!/^FIXT?\.\d+\.\d+$/.test(beginString)) {
    throw fail('FIX_BAD_VALUE', 8, `BeginString (8) "${beginString}" is not a FIX version such as FIX.4.4`);
  }
  let next = 1;
  const bodyLengthTok = tokens[1]?.tag === 9 ? tokens[1] : undefined;
  if (bodyLengthTok) next = 2;
  else if (tokens.some((t) => t.tag === 9)) {
    throw fail('FIX_MALFORMED', 9, `BodyLength (9) must be the second field, found at field ${tokens.findIndex((t) => t.tag === 9) + 1}`);
  } else if (verifyBodyLength) {
    throw fail('FIX_REQUIRED_FIELD', 9, 'BodyLength (9) is missing; it must be the second field');
  }
  const msgTypeTok = tokens[next];
  if (msgTypeTok?.tag !== 35) {
    const at = tokens.findIndex((t) => t.tag === 35);
    if (at < 0) throw fail('FIX_REQUIRED_FIELD', 35, 'MsgType (35) is missing');
    throw fail('FIX_MALFORMED', 35, `MsgType (35) must be field ${next + 1}, right after ${next === 2 ? 'BodyLength (9)' : 'BeginString (8)'}; found at field ${at + 1}`);
  }
  const checkSumTok = tokens.find((t) => t.tag === 10);
  if (checkSumTok === undefined && verifyChecksum) {
    throw fail('FIX_TRUNCATED', 10, 'ends without CheckSum (10)');
  }
  // A CheckSum field not at the end was caught while reading (bytes after it).

  if (verifyBodyLength && bodyLengthTok) {
    if (!/^\d+$/.test(bodyLengthTok.value)) {
      throw fail('FIX_BAD_VALUE', 9, `BodyLength (9) "${bodyLengthTok.value}" is not a whole number`);
    }
    const bodyStart = bodyLengthTok.end + 1;
    const bodyEnd = checkSumTok ? checkSumTok.start : buf.length;
    const actual = bodyEnd - bodyStart;
    if (Number(bodyLengthTok.value) !== actual) {
      throw fail('FIX_BODY_LENGTH', 9, `BodyLength (9) is ${bodyLengthTok.value} but the body is ${actual} bytes`);
    }
  }
  if (verifyChecksum && checkSumTok) {
    if (!/^\d{3}$/.test(checkSumTok.value)) {
      throw fail('FIX_BAD_VALUE', 10, `CheckSum (10) "${checkSumTok.value}" is not three digits`);
    }
    let sum = 0;
    for (let k = 0; k < checkSumTok.start; k++) sum += buf[k] === delim ? 1 : buf[k]!;
    const expected = String(sum % 256).padStart(3, '0');
    if (checkSumTok.value !== expected) {
      throw fail('FIX_CHECKSUM', 10, `CheckSum (10) is ${checkSumTok.value} but the message sums to ${expected}`);
    }
  }

  return makeMessage(beginString, msgTypeTok.value, tokens.map((t) => [t.tag, t.value] as const), line);
}

function makeMessage(
  beginString: string,
  msgType: string,
  fields: ReadonlyArray<readonly [number, string]>,
  line: number | undefined,
): FixMessage {
  let index: Map<number, string[]> | undefined;
  const all = (tag: number): string[] => {
    if (!index) {
      index = new Map();
      for (const [t, v] of fields) {
        const list = index.get(t);
        if (list) list.push(v);
        else index.set(t, [v]);
      }
    }
    return index.get(tag) ?? [];
  };
  return {
    beginString,
    msgType,
    fields,
    ...(line === undefined ? {} : { line }),
    get: (tag) => all(tag)[0],
    getAll: (tag) => [...all(tag)],
  };
}

/**
 * The value of a field that must be there.
 * @throws FixParseError FIX_REQUIRED_FIELD naming the tag
 */
export function requireField(msg: FixMessage, tag: number): string {
  const v = msg.get(tag);
  if (v === undefined) throw fixError(msg, 'FIX_REQUIRED_FIELD', tag, `${tagName(tag, msg.beginString)} is required but missing`);
  return v;
}

/**
 * The value of `tag` if present, checked against the allowed values.
 * @throws FixParseError FIX_BAD_VALUE naming the tag
 */
export function checkEnum(msg: FixMessage, tag: number, allowed: Iterable<string>): string | undefined {
  const v = msg.get(tag);
  if (v === undefined) return undefined;
  const set = new Set(allowed);
  if (!set.has(v)) {
    throw fixError(msg, 'FIX_BAD_VALUE', tag, `${tagName(tag, msg.beginString)} is "${v}", not one of ${[...set].join(', ')}`);
  }
  return v;
}

/**
 * The instances of a repeating group: the fields after its NumInGroup field `countTag`, each
 * instance starting with `memberTags[0]` (the group's first field), the group ending at the first
 * field not in `memberTags` (list nested groups' tags there too). Absent count field: no instances.
 * @throws FixParseError FIX_BAD_VALUE (count not a number), FIX_GROUP_COUNT (count differs from the instances found)
 */
export function readGroup(
  msg: FixMessage,
  countTag: number,
  memberTags: readonly number[],
): Array<Array<readonly [number, string]>> {
  const at = msg.fields.findIndex(([t]) => t === countTag);
  if (at < 0) return [];
  const countText = msg.fields[at]![1];
  const name = tagName(countTag, msg.beginString);
  if (!/^\d+$/.test(countText)) throw fixError(msg, 'FIX_BAD_VALUE', countTag, `${name} "${countText}" is not a count`);
  const members = new Set(memberTags);
  const first = memberTags[0];
  const instances: Array<Array<readonly [number, string]>> = [];
  for (let k = at + 1; k < msg.fields.length; k++) {
    const field = msg.fields[k]!;
    if (!members.has(field[0])) break;
    if (field[0] === first) instances.push([field]);
    else if (instances.length === 0) break; // the group must open with its first field
    else instances.at(-1)!.push(field);
  }
  const count = Number(countText);
  if (instances.length !== count) {
    throw fixError(
      msg,
      'FIX_GROUP_COUNT',
      countTag,
      `${name} says ${count} but the group has ${instances.length} (each starting with ${tagName(first ?? 0, msg.beginString)})`,
    );
  }
  return instances;
}
