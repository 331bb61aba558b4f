import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FixParseError,
  LENGTH_FIELDS,
  SOH,
  checkEnum,
  parseFixMessage,
  readGroup,
  requireField,
  splitFixMessages,
  type FixMessage,
} from './fix-parser.js';

// Public fixtures, copied from ../shared/fixtures with their sources: test/fixtures/fix/SOURCES.md.
const fixture = (name: string) => readFileSync(new URL(`../../test/fixtures/fix/${name}`, import.meta.url), 'utf8');

/** The fixed SendingTime/TransactTime put where the QuickFIX scripts say <TIME>. */
const TIME = '20240102-03:04:05.678';

/**
 * What the QuickFIX acceptance harness does to an 'I' line before sending it: insert BodyLength (9)
 * after BeginString and append CheckSum (10), each computed only when the line does not already
 * carry one (lines that test a wrong value carry it). Written apart from the parser on purpose, and
 * itself checked against QuickFIX's own output (the outOfOrder case below).
 */
function withTrailer(message: string, delimiter = SOH): string {
  const parts = message.split(delimiter).filter((p) => p !== '');
  const declared = (tag: string) => parts.find((p) => p.startsWith(`${tag}=`))?.slice(tag.length + 1);
  const body = parts.filter((p) => !/^(8|9|10)=/.test(p)).map((p) => p + SOH).join('');
  const head = `${parts[0]}${SOH}9=${declared('9') ?? Buffer.byteLength(body, 'utf8')}${SOH}`;
  let sum = 0;
  for (const b of Buffer.from(head + body, 'utf8')) sum += b;
  const out = `${head}${body}10=${declared('10') ?? String(sum % 256).padStart(3, '0')}${SOH}`;
  return delimiter === SOH ? out : out.replaceAll(SOH, delimiter);
}

/** Catch what `fn` throws, failing the test if it is not a FixParseError. */
function parseError(fn: () => unknown): FixParseError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FixParseError);
    return e as FixParseError;
  }
  throw new Error('expected a FixParseError, nothing was thrown');
}

/** A QuickFIX .def script: its I (sent to the engine) and E (expected back) lines, with the comment above each. */
function readScript(name: string) {
  const out: { dir: 'I' | 'E'; msg: string; comment: string; lineNo: number }[] = [];
  let comment = '';
  let previous = '';
  fixture(name)
    .split('\n')
    .forEach((line, i) => {
      if (line.startsWith('#')) comment = previous.startsWith('#') ? `${comment} ${line}` : line;
      else if (line.trim() === '') comment = '';
      else if (line.startsWith('I') || line.startsWith('E')) {
        out.push({ dir: line[0] as 'I' | 'E', msg: line.slice(1).replaceAll('<TIME>', TIME), comment, lineNo: i + 1 });
        comment = '';
      }
      previous = line;
    });
  return out;
}

const bar = (s: string) => s.replaceAll('|', SOH);

describe('splitFixMessages', () => {
  it('gives one message per line, skipping blanks and # comments, numbering lines from 1', () => {
    const text = '\uFEFF# drop copy, 2024-01-02\r\n\r\n8=FIX.4.4|9=5|35=0|10=000|\r\n   \n8=FIX.4.2|9=5|35=0|10=000|  \n';
    expect(splitFixMessages(text)).toEqual([
      { line: 3, raw: '8=FIX.4.4|9=5|35=0|10=000|' },
      { line: 5, raw: '8=FIX.4.2|9=5|35=0|10=000|' },
    ]);
  });

  it('splits several messages on one line where each starts with 8=FIX after a delimiter', () => {
    const a = withTrailer(bar('8=FIX.4.4|35=0|34=2|49=A|56=B|52=20240102-03:04:05|'));
    const b = withTrailer(bar('8=FIX.4.4|35=0|34=3|49=A|56=B|52=20240102-03:04:06|'));
    expect(splitFixMessages(`${a}${b}\n${a}`)).toEqual([
      { line: 1, raw: a },
      { line: 1, raw: b },
      { line: 2, raw: a },
    ]);
    const pipes = (s: string) => s.replaceAll(SOH, '|');
    expect(splitFixMessages(pipes(a) + pipes(b)).map((m) => m.raw)).toEqual([pipes(a), pipes(b)]);
    // "8=FIX" inside a value is not a message start.
    const inValue = withTrailer(bar('8=FIX.4.4|35=B|34=4|58=see 8=FIX.4.4 spec|'));
    expect(splitFixMessages(inValue)).toHaveLength(1);
    // A line that does not start as a message is not cut: it is refused whole.
    expect(splitFixMessages(`54=1${SOH}${a}`)).toEqual([{ line: 1, raw: `54=1${SOH}${a}` }]);
  });

  it('reads the CME fill fixture as one message on line 1', () => {
    const [m, ...rest] = splitFixMessages(fixture('quickfix_MessagesTestCase_CME_fill_ES.fix'));
    expect(rest).toEqual([]);
    expect(m!.line).toBe(1);
    expect(m!.raw.startsWith(`8=FIX.4.2${SOH}9=390${SOH}35=8${SOH}`)).toBe(true);
  });
});

describe('parseFixMessage: the QuickFIX CME fill (declares CheckSum 000, sums to 102)', () => {
  const raw = splitFixMessages(fixture('quickfix_MessagesTestCase_CME_fill_ES.fix'))[0]!.raw;

  it('is rejected by a strict parse, naming the message, the field and both values', () => {
    const e = parseError(() => parseFixMessage(raw));
    expect(e.code).toBe('FIX_CHECKSUM');
    expect(e.kind).toBe('invalid');
    expect(e.tag).toBe(10);
    expect(e.message).toBe('message 136 (ExecID 64485:M:412850TN0031303): CheckSum (10) is 000 but the message sums to 102');
    expect(parseError(() => parseFixMessage(raw, { line: 7 })).message).toBe(
      'line 7, message 136 (ExecID 64485:M:412850TN0031303): CheckSum (10) is 000 but the message sums to 102',
    );
    expect(e.details).toEqual([
      expect.objectContaining({ record: 'message 136 (ExecID 64485:M:412850TN0031303)', field: 'CheckSum (10)', rule: 'FIX_CHECKSUM' }),
    ]);
  });

  it('parses with verifyChecksum:false (its BodyLength 390 is right and still checked)', () => {
    const msg = parseFixMessage(raw, { verifyChecksum: false });
    expect(msg.beginString).toBe('FIX.4.2');
    expect(msg.msgType).toBe('8');
    expect(msg.fields).toHaveLength(43);
    expect(msg.fields.slice(0, 4)).toEqual([[8, 'FIX.4.2'], [9, '390'], [35, '8'], [34, '136']]);
    expect(msg.fields.at(-1)).toEqual([10, '000']);
    expect(msg.get(17)).toBe('64485:M:412850TN0031303');
    expect(msg.get(31)).toBe('208700');
    expect(msg.get(9999)).toBeUndefined();
    expect(msg.getAll(55)).toEqual(['ES']);
    expect(msg.getAll(9999)).toEqual([]);
    const shorter = raw.replace('9=390', '9=389').replace('10=000', '10=101');
    expect(parseError(() => parseFixMessage(shorter, { verifyChecksum: false })).code).toBe('FIX_BODY_LENGTH');
  });

  it('parses strictly once the CheckSum says 102', () => {
    expect(parseFixMessage(raw.replace(`${SOH}10=000${SOH}`, `${SOH}10=102${SOH}`)).get(10)).toBe('102');
  });

  it("computes over '|' as if it were SOH, as the sender did", () => {
    const piped = raw.replaceAll(SOH, '|');
    const e = parseError(() => parseFixMessage(piped));
    expect(e.message).toBe('message 136 (ExecID 64485:M:412850TN0031303): CheckSum (10) is 000 but the message sums to 102');
    expect(parseFixMessage(piped.replace('|10=000|', '|10=102|')).get(17)).toBe('64485:M:412850TN0031303');
  });
});

describe('parseFixMessage: QuickFIX outOfOrder (Message::setString without validation, then toString)', () => {
  // The input is the field soup QuickFIX's Message class accepts when not validating; the expected
  // file is what QuickFIX writes back: 8, 9, 35, the other header fields, body fields by tag, 10.
  // On the wire only the second is a FIX message; our parser is for the wire.
  const input = splitFixMessages(fixture('quickfix_MessagesTestCase_outOfOrder_input.fix'))[0]!.raw;
  const expected = splitFixMessages(fixture('quickfix_MessagesTestCase_outOfOrder_expected.fix'))[0]!.raw;
  const dictionary = loadDictionary(fixture('quickfix_FIX42.xml'));

  it('rejects the out-of-order input: BeginString (8) must come first', () => {
    const e = parseError(() => parseFixMessage(input));
    expect(e.code).toBe('FIX_MALFORMED');
    expect(e.tag).toBe(8);
    expect(e.message).toBe('message 2 (ExecID 2): does not start with BeginString (8=)');
    expect(parseError(() => parseFixMessage(input, { verifyBodyLength: false, verifyChecksum: false })).code).toBe('FIX_MALFORMED');
  });

  it("accepts QuickFIX's reordered output: its BodyLength 171 and CheckSum 225 agree with ours", () => {
    const msg = parseFixMessage(expected);
    expect([msg.get(9), msg.get(10)]).toEqual(['171', '225']);
    // Same fields as the input, nothing lost or invented.
    const sorted = (fs: ReadonlyArray<readonly [number, string]>) => fs.map(([t, v]) => `${t}=${v}`).sort();
    const inputFields = input.split(SOH).filter(Boolean).map((p) => p.split('=') as [string, string]).map(([t, v]) => [Number(t), v] as const);
    expect(sorted(msg.fields.filter(([t]) => t !== 9 && t !== 10))).toEqual(sorted(inputFields));
  });

  it('withTrailer, given the input in header-then-body order, writes exactly what QuickFIX wrote', () => {
    const headerTags = new Set(dictionary.header.map((m) => dictionary.fields.get(m.name)!.number));
    const pieces = input.split(SOH).filter(Boolean);
    const tagOf = (p: string) => Number(p.split('=')[0]);
    const first = [8, 35].map((t) => pieces.find((p) => tagOf(p) === t)!);
    const header = pieces.filter((p) => headerTags.has(tagOf(p)) && ![8, 35].includes(tagOf(p))).sort((a, b) => tagOf(a) - tagOf(b));
    const body = pieces.filter((p) => !headerTags.has(tagOf(p))).sort((a, b) => tagOf(a) - tagOf(b));
    expect(withTrailer([...first, ...header, ...body].join(SOH) + SOH)).toBe(expected);
  });

  it('rejects a header whose MsgType comes before BodyLength', () => {
    const swapped = expected.replace(`9=171${SOH}35=8${SOH}`, `35=8${SOH}9=171${SOH}`);
    const e = parseError(() => parseFixMessage(swapped));
    expect([e.code, e.tag]).toEqual(['FIX_MALFORMED', 9]);
    expect(e.message).toBe('message 2 (ExecID 2): BodyLength (9) must be the second field, found at field 3');
    const late35 = expected.replace(`35=8${SOH}34=2${SOH}`, `34=2${SOH}35=8${SOH}`);
    expect(parseError(() => parseFixMessage(late35)).message).toBe(
      'message 2 (ExecID 2): MsgType (35) must be field 3, right after BodyLength (9); found at field 4',
    );
  });
});

describe('parseFixMessage: QuickFIX acceptance scripts with a wrong CheckSum or BodyLength', () => {
  it('3b InvalidChecksum: the lines carrying 10=256 are rejected naming CheckSum (10); the harness-completed ones parse', () => {
    const sent = readScript('quickfix_fix44_3b_InvalidChecksum.def').filter((l) => l.dir === 'I');
    const wrong = sent.filter((l) => /\x0110=/.test(l.msg));
    expect(wrong.map((l) => l.comment)).toEqual(['# Incorrect checksum', '# Incorrect checksum']);
    for (const l of wrong) {
      const e = parseError(() => parseFixMessage(withTrailer(l.msg)));
      expect(e.code).toBe('FIX_CHECKSUM');
      expect(e.tag).toBe(10);
      expect(e.message).toMatch(/^message \d+: CheckSum \(10\) is 256 but the message sums to \d{3}$/);
    }
    const right = sent.filter((l) => !wrong.includes(l));
    expect(right).toHaveLength(5);
    for (const l of right) expect(parseFixMessage(withTrailer(l.msg)).beginString).toBe('FIX.4.4');
  });

  it('2m BodyLengthValueNotCorrect: 9=30 (too short) and 9=111 (too long) are rejected naming BodyLength (9)', () => {
    const sent = readScript('quickfix_fix44_2m_BodyLengthValueNotCorrect.def').filter((l) => l.dir === 'I');
    const wrong = sent.filter((l) => /\x019=/.test(l.msg));
    expect(wrong.map((l) => l.comment)).toEqual([
      '# Send a message with a length that is too short',
      '# Send a message with a length that is too long, it will combine with the next message # and be ignored',
    ]);
    const [short, long] = wrong.map((l) => parseError(() => parseFixMessage(withTrailer(l.msg))));
    expect([short!.code, short!.tag, long!.code, long!.tag]).toEqual(['FIX_BODY_LENGTH', 9, 'FIX_BODY_LENGTH', 9]);
    expect(short!.message).toBe('message 2: BodyLength (9) is 30 but the body is 105 bytes');
    expect(long!.message).toBe('message 4: BodyLength (9) is 111 but the body is 105 bytes');
    const right = sent.filter((l) => !wrong.includes(l));
    expect(right).toHaveLength(7);
    for (const l of right) expect(parseFixMessage(withTrailer(l.msg)).msgType).toMatch(/^[AD5]$/);
  });

  it('2m: in a file, the too-long message does not swallow the one after it (unlike a byte stream)', () => {
    const sent = readScript('quickfix_fix44_2m_BodyLengthValueNotCorrect.def').filter((l) => l.dir === 'I');
    const at = sent.findIndex((l) => l.msg.includes(`${SOH}9=111${SOH}`));
    const line = withTrailer(sent[at]!.msg) + withTrailer(sent[at + 1]!.msg);
    const [first, second] = splitFixMessages(line);
    expect(parseError(() => parseFixMessage(first!.raw)).code).toBe('FIX_BODY_LENGTH');
    expect(parseFixMessage(second!.raw).get(34)).toBe('5');
  });

  it("the scripts' expected (E) lines carry QuickFIX's BodyLength: ours agrees on all but one hand-edited line", () => {
    const names = [
      'quickfix_fix44_14b_RequiredFieldMissing.def',
      'quickfix_fix44_14e_IncorrectEnumValue.def',
      'quickfix_fix44_14i_RepeatingGroupCountNotEqual.def',
      'quickfix_fix44_2m_BodyLengthValueNotCorrect.def',
      'quickfix_fix44_3b_InvalidChecksum.def',
    ];
    const failures: string[] = [];
    let checked = 0;
    for (const name of names) {
      for (const l of readScript(name).filter((x) => x.dir === 'E')) {
        checked++;
        try {
          parseFixMessage(l.msg, { verifyChecksum: false });
        } catch (e) {
          failures.push(`${name}:${l.lineNo} ${(e as Error).message}`);
        }
      }
    }
    expect(checked).toBe(23);
    // 14e's echo of the accepted order has SendingTime 20020619-16:14:10 (17 bytes) where the
    // harness writes 00000000-00:00:00.000 (21): someone edited the line without its BodyLength.
    expect(failures).toEqual([
      'quickfix_fix44_14e_IncorrectEnumValue.def:26 message 4: BodyLength (9) is 121 but the body is 117 bytes',
    ]);
    // Their CheckSum is the harness's placeholder (10=0), not three digits.
    const e = parseError(() => parseFixMessage(readScript(names[0]!).find((x) => x.dir === 'E')!.msg));
    expect([e.code, e.tag, e.message]).toEqual(['FIX_BAD_VALUE', 10, 'message 1: CheckSum (10) "0" is not three digits']);
  });
});

describe('validation helpers, against the QuickFIX session-reject scripts 14b, 14e, 14i', () => {
  // Each script sends (I) a message and expects (E) either a session Reject (35=3) whose RefTagID
  // (371) names the field and SessionRejectReason (373) says why, or a normal answer. We validate
  // each sent message with requireField / checkEnum / readGroup driven by the FIX 4.2 dictionary
  // (the scripts are FIX 4.4, but the rules they test are the same in 4.2) and expect the same verdict.
  const dictionary = loadDictionary(fixture('quickfix_FIX42.xml'));
  const REASON: Record<string, string> = { '1': 'FIX_REQUIRED_FIELD', '5': 'FIX_BAD_VALUE', '16': 'FIX_GROUP_COUNT' };

  function validate(msg: FixMessage) {
    const num = (name: string) => dictionary.fields.get(name)!.number;
    const def = dictionary.messages.get(msg.msgType);
    if (!def) throw new Error(`no message ${msg.msgType} in the dictionary`);
    for (const m of [...dictionary.header, ...def.members]) if (m.required) requireField(msg, num(m.name));
    for (const [tag] of msg.fields) {
      const values = dictionary.fields.get(dictionary.names.get(tag) ?? '')?.values;
      if (values && values.size > 0) checkEnum(msg, tag, values.keys());
    }
    for (const g of def.members) if (g.members) readGroup(msg, num(g.name), flatten(g.members).map(num));
  }

  for (const name of [
    'quickfix_fix44_14b_RequiredFieldMissing.def',
    'quickfix_fix44_14e_IncorrectEnumValue.def',
    'quickfix_fix44_14i_RepeatingGroupCountNotEqual.def',
  ]) {
    it(`${name}: same verdict and same tag as QuickFIX`, () => {
      const script = readScript(name);
      const verdicts: string[] = [];
      script.forEach((l, i) => {
        if (l.dir !== 'I') return;
        const reply = parseFixMessage(script[i + 1]!.msg, { verifyChecksum: false, verifyBodyLength: false });
        const msg = parseFixMessage(withTrailer(l.msg));
        if (reply.msgType === '3') {
          const e = parseError(() => validate(msg));
          expect(e.code).toBe(REASON[reply.get(373)!]);
          expect(e.tag).toBe(Number(reply.get(371)));
          verdicts.push(`${e.code} ${e.tag}`);
        } else {
          expect(() => validate(msg)).not.toThrow();
          verdicts.push('ok');
        }
      });
      expect(verdicts).toEqual(
        {
          'quickfix_fix44_14b_RequiredFieldMissing.def': ['ok', 'FIX_REQUIRED_FIELD 56', 'FIX_REQUIRED_FIELD 11', 'ok'],
          'quickfix_fix44_14e_IncorrectEnumValue.def': ['ok', 'FIX_BAD_VALUE 21', 'FIX_BAD_VALUE 167', 'ok', 'ok'],
          'quickfix_fix44_14i_RepeatingGroupCountNotEqual.def': ['ok', 'FIX_GROUP_COUNT 386', 'ok'],
        }[name],
      );
    });
  }

  it('say which message and which field', () => {
    const [order] = readScript('quickfix_fix44_14b_RequiredFieldMissing.def').filter((l) => l.msg.includes(`${SOH}35=D${SOH}`));
    const msg = parseFixMessage(withTrailer(order!.msg));
    expect(parseError(() => requireField(msg, 11)).message).toBe('message 3: ClOrdID (11) is required but missing');
    const [bad] = readScript('quickfix_fix44_14e_IncorrectEnumValue.def').filter((l) => l.msg.includes(`${SOH}21=4${SOH}`));
    expect(parseError(() => checkEnum(parseFixMessage(withTrailer(bad!.msg)), 21, ['1', '2', '3'])).message).toBe(
      'message 2: HandlInst (21) is "4", not one of 1, 2, 3',
    );
    const [group] = readScript('quickfix_fix44_14i_RepeatingGroupCountNotEqual.def').filter((l) => l.msg.includes('386=3'));
    const g = parseFixMessage(withTrailer(group!.msg));
    expect(parseError(() => readGroup(g, 386, [336, 625])).message).toBe(
      'message 2: NoTradingSessions (386) says 3 but the group has 2 (each starting with TradingSessionID (336))',
    );
    const fixed = parseFixMessage(withTrailer(group!.msg.replace('386=3', '386=2')));
    expect(readGroup(fixed, 386, [336, 625])).toEqual([[[336, 'PRE-OPEN']], [[336, 'AFTER-HOURS']]]);
    expect(readGroup(fixed, 453, [448])).toEqual([]);
  });
});

describe('parseFixMessage: the frame, field by field', () => {
  const hb = (extra = '') => bar(`8=FIX.4.4|35=0|34=9|49=A|56=B|52=20240102-03:04:05${extra}|`);

  it('reads SOH or | and gives the same fields', () => {
    const soh = parseFixMessage(withTrailer(hb()));
    const piped = parseFixMessage(withTrailer(hb()).replaceAll(SOH, '|'));
    expect(piped.fields).toEqual(soh.fields);
    expect(soh.fields.map(([t]) => t)).toEqual([8, 9, 35, 34, 49, 56, 52, 10]);
  });

  it('counts BodyLength in UTF-8 bytes, and values may hold | when the delimiter is SOH', () => {
    const body = `35=B${SOH}34=9${SOH}148=Zürich a|b € ${SOH}`;
    const parsed = parseFixMessage(withTrailer(`8=FIX.4.4${SOH}${body}`));
    expect(parsed.get(148)).toBe('Zürich a|b € ');
    expect(parsed.get(9)).toBe(String(Buffer.byteLength(body, 'utf8')));
    expect(Buffer.byteLength(body, 'utf8')).toBe(body.length + 3);
  });

  it('reads a data field by the length its length field announces, delimiters inside and all', () => {
    // withTrailer would split the data on '|', so this one is framed by hand.
    const body = '35=B|34=9|148=x|95=7|96=a|b|c|d|58=after|';
    const head = `8=FIX.4.4|9=${body.length}|`;
    let sum = 0;
    for (const b of Buffer.from((head + body).replaceAll('|', SOH))) sum += b;
    const msg = parseFixMessage(`${head}${body}10=${String(sum % 256).padStart(3, '0')}|`);
    expect(msg.get(96)).toBe('a|b|c|d');
    expect(msg.get(58)).toBe('after');
    const short = `${head}${body.replace('95=7', '95=9')}`;
    expect(parseError(() => parseFixMessage(short + '10=000|', { verifyChecksum: false, verifyBodyLength: false })).code).toBe('FIX_MALFORMED');
    expect(parseError(() => parseFixMessage('8=FIX.4.4|35=B|95=x|96=a|', { verifyChecksum: false, verifyBodyLength: false })).code).toBe(
      'FIX_BAD_VALUE',
    );
  });

  it('LENGTH_FIELDS pairs are the dictionary\'s LENGTH -> DATA fields (plus the FIX 4.4 leg pairs)', () => {
    const dictionary = loadDictionary(fixture('quickfix_FIX42.xml'));
    const byType = (type: string) => [...dictionary.fields.entries()].filter(([, f]) => f.type === type);
    const lengths = byType('LENGTH');
    const data = new Map(byType('DATA').map(([name, f]) => [name, f.number]));
    const pairs: Record<number, number> = {};
    for (const [name, f] of lengths) {
      const dataName = name.replace(/Len(gth)?$/, '');
      expect(data.has(dataName), name).toBe(true);
      pairs[f.number] = data.get(dataName)!;
    }
    expect(LENGTH_FIELDS).toEqual({ ...pairs, 618: 619, 621: 622 });
  });

  const cases: Array<[string, string, ReturnType<typeof parseError>['code'], number | undefined, string]> = [
    ['no CheckSum', bar('8=FIX.4.4|9=5|35=0|'), 'FIX_TRUNCATED', 10, 'ends without CheckSum (10)'],
    ['no delimiter after the CheckSum', bar('8=FIX.4.4|9=5|35=0|10=163'), 'FIX_TRUNCATED', 10, 'ends without the delimiter after CheckSum (10)'],
    ['cut in the middle', bar('8=FIX.4.4|9=5|35=0|34=1'), 'FIX_TRUNCATED', 34, 'ends without the delimiter after MsgSeqNum (34)'],
    ['text after the CheckSum', bar('8=FIX.4.4|9=5|35=0|10=163| '), 'FIX_MALFORMED', 10, 'has 1 more bytes after CheckSum (10), which must end the message'],
    ['a field after the CheckSum', bar('8=FIX.4.4|9=5|35=0|10=163|34=1|'), 'FIX_MALFORMED', 10, 'has 5 more bytes after CheckSum (10), which must end the message'],
    ['a garbled tag', bar('8=FIX.4.2|9=45|35=0|34=3|49garbled=TW|10=000|'), 'FIX_MALFORMED', undefined, 'field 5 "49garbled=TW" is not tag=value with a numeric tag'],
    ['a tag with a leading zero', bar('8=FIX.4.2|9=45|035=0|10=000|'), 'FIX_MALFORMED', undefined, 'field 3 has the tag "035", not a FIX tag number'],
    ['two delimiters in a row', bar('8=FIX.4.2|9=45||35=0|10=000|'), 'FIX_MALFORMED', undefined, 'field 3 "" is not tag=value with a numeric tag'],
    ['an empty value', bar('8=FIX.4.2|9=45|35=0|58=|10=000|'), 'FIX_MALFORMED', 58, 'tag 58 has an empty value'],
    ['BodyLength not a number', bar('8=FIX.4.2|9=AB|35=0|10=000|'), 'FIX_BAD_VALUE', 9, 'BodyLength (9) "AB" is not a whole number'],
    ['CheckSum not three digits', bar('8=FIX.4.4|9=5|35=0|10=ABC|'), 'FIX_BAD_VALUE', 10, 'CheckSum (10) "ABC" is not three digits'],
    ['no BodyLength', bar('8=FIX.4.4|35=0|10=000|'), 'FIX_REQUIRED_FIELD', 9, 'BodyLength (9) is missing; it must be the second field'],
    ['no MsgType', bar('8=FIX.4.4|9=5|34=1|10=000|'), 'FIX_REQUIRED_FIELD', 35, 'MsgType (35) is missing'],
    ['MsgType twice', bar('8=FIX.4.4|9=5|35=0|35=0|10=000|'), 'FIX_MALFORMED', 35, 'MsgType (35) appears 2 times'],
    ['two messages run together', bar('8=FIX.4.4|9=5|35=0|8=FIX.4.4|9=5|35=0|10=000|'), 'FIX_MALFORMED', 8, 'BeginString (8) appears again at field 4: two messages run together?'],
    ['not FIX', 'paste your FIX message here, then hit ENTER', 'FIX_MALFORMED', 8, 'does not start with BeginString (8=)'],
    ['empty', '', 'FIX_MALFORMED', 8, 'does not start with BeginString (8=)'],
    ['a BeginString that is no version', bar('8=FOO|9=5|35=0|10=000|'), 'FIX_BAD_VALUE', 8, 'BeginString (8) "FOO" is not a FIX version such as FIX.4.4'],
  ];
  for (const [what, raw, code, tag, text] of cases) {
    it(`rejects ${what}`, () => {
      const e = parseError(() => parseFixMessage(raw));
      expect({ code: e.code, tag: e.tag }).toEqual({ code, tag });
      expect(e.message.endsWith(`: ${text}`)).toBe(true);
    });
  }

  it('names a message without MsgSeqNum or ExecID by its start', () => {
    expect(parseError(() => parseFixMessage(bar('8=FIX.4.4|9=5|35=0|10=ABC|'))).message).toBe(
      'message "8=FIX.4.4|9=5|35=0|10=ABC|": CheckSum (10) "ABC" is not three digits',
    );
  });

  it('with the checks off, a message may come without BodyLength and CheckSum (as the QuickFIX scripts write them)', () => {
    const msg = parseFixMessage(bar('8=FIX.4.4|35=0|34=2|'), { verifyBodyLength: false, verifyChecksum: false });
    expect(msg.fields).toEqual([[8, 'FIX.4.4'], [35, '0'], [34, '2']]);
    expect(parseError(() => parseFixMessage(bar('8=FIX.4.4|35=0|34=2|'), { verifyBodyLength: false })).code).toBe('FIX_TRUNCATED');
  });
});

describe('parseFixMessage: properties', () => {
  const tag = fc.integer({ min: 11, max: 9999 }).filter((t) => ![8, 9, 10, 35].includes(t) && !(t in LENGTH_FIELDS) && !Object.values(LENGTH_FIELDS).includes(t));
  const value = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).filter((s) => !/[\x01|\r\n]/.test(s));
  const body = fc.array(fc.tuple(tag, value), { minLength: 1, maxLength: 15 });
  const build = (fields: Array<[number, string]>) =>
    withTrailer(`8=FIX.4.4${SOH}35=8${SOH}${fields.map(([t, v]) => `${t}=${v}${SOH}`).join('')}`);

  it('reads back every field of a well-formed message, SOH or |', () => {
    fc.assert(
      fc.property(body, (fields) => {
        const raw = build(fields);
        const msg = parseFixMessage(raw);
        expect(msg.fields.slice(2, -1)).toEqual([[35, '8'], ...fields]);
        expect(parseFixMessage(raw.replaceAll(SOH, '|')).fields).toEqual(msg.fields);
      }),
    );
  });

  it('rejects any message with one character changed', () => {
    const alphabet = fc.constantFrom(...'0123456789=|ABZaz .-\x01é');
    fc.assert(
      fc.property(body, fc.nat(), alphabet, (fields, at, c) => {
        const raw = build(fields);
        const chars = [...raw];
        const i = at % chars.length;
        fc.pre(chars[i] !== c);
        // FIX cannot see a change that keeps BodyLength and CheckSum (the byte count and the byte
        // sum mod 256): a two-byte character for another of the same sum, as U+05D5 for é.
        const [was, now] = [Buffer.from(chars[i]!, 'utf8'), Buffer.from(c, 'utf8')];
        const sum = (b: Buffer) => b.reduce((a, x) => a + x, 0) % 256;
        fc.pre(was.length !== now.length || sum(was) !== sum(now) || /[=\x01|0-9]/.test(chars[i]! + c));
        chars[i] = c;
        parseError(() => parseFixMessage(chars.join('')));
      }),
      { numRuns: 2000 },
    );
  });

  it('throws nothing but FixParseError on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.string({ unit: fc.constantFrom('8', '9', '=', '1', '0', '3', '5', '|', '\x01', 'F', 'I', 'X', '.', '4'), maxLength: 60 }), (a, b) => {
        for (const raw of [a, b, `8=FIX.4.4|${b}`]) {
          try {
            parseFixMessage(raw);
          } catch (e) {
            expect(e).toBeInstanceOf(FixParseError);
          }
        }
      }),
    );
  });
});

// ---- A small reader of the QuickFIX data dictionary (no XML library in the project; the file
// ---- is regular: single-quoted attributes, one element per line).

interface Member {
  name: string;
  required: boolean;
  members?: Member[];
}
interface Dictionary {
  fields: Map<string, { number: number; type: string; values: Map<string, string> }>;
  names: Map<number, string>;
  header: Member[];
  messages: Map<string, { name: string; members: Member[] }>;
}

function loadDictionary(xml: string): Dictionary {
  const fields: Dictionary['fields'] = new Map();
  const names = new Map<number, string>();
  for (const m of xml.matchAll(/<field number='(\d+)' name='(\w+)' type='(\w+)'\s*(?:\/>|>([\s\S]*?)<\/field>)/g)) {
    const values = new Map<string, string>();
    for (const v of (m[4] ?? '').matchAll(/<value enum='([^']*)' description='(\w+)'/g)) values.set(v[1]!, v[2]!);
    fields.set(m[2]!, { number: Number(m[1]), type: m[3]!, values });
    names.set(Number(m[1]), m[2]!);
  }
  const header: Member[] = [];
  const messages: Dictionary['messages'] = new Map();
  const stack: Member[][] = [];
  for (const m of xml.matchAll(/<(\/)?(header|trailer|message|group|field)\b([^>]*?)(\/)?>/g)) {
    const [, close, el, attrs = '', selfClose] = m;
    const attr = (n: string) => new RegExp(`${n}='([^']*)'`).exec(attrs)?.[1];
    if (close) {
      if (el !== 'field') stack.pop();
      continue;
    }
    if (el === 'header') stack.push(header);
    else if (el === 'trailer') stack.push([]);
    else if (el === 'message') {
      const members: Member[] = [];
      messages.set(attr('msgtype')!, { name: attr('name')!, members });
      stack.push(members);
    } else if (el === 'group') {
      const g: Member = { name: attr('name')!, required: attr('required') === 'Y', members: [] };
      stack.at(-1)!.push(g);
      stack.push(g.members!);
    } else if (el === 'field' && attr('number') === undefined && selfClose && stack.length > 0) {
      stack.at(-1)!.push({ name: attr('name')!, required: attr('required') === 'Y' });
    }
  }
  return { fields, names, header, messages };
}

const flatten = (members: Member[]): string[] => members.flatMap((m) => [m.name, ...flatten(m.members ?? [])]);
