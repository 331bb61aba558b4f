/**
 * SWIFT FIN (MT) framing for category 5 messages: split a file into messages and blocks, read the
 * basic and application headers, split block 4 into fields, and nest the fields into the 16R/16S
 * sequences of ISO 15022. Also the writer's side: headers and block 4 from fields.
 * Format only; what a field means is the caller's business.
 */

/** One field of block 4: tag ("20C"), value after the tag's second colon (":SEME//REF1"), its line in block 4. */
export interface FinField {
  readonly tag: string;
  readonly value: string;
  readonly line: number;
}

/** A 16R/16S sequence: its name and what it holds, fields and subsequences in order. */
export interface FinSequence {
  readonly name: string;
  readonly line: number;
  readonly items: ReadonlyArray<FinItem>;
}
export type FinItem = { kind: 'field'; field: FinField } | { kind: 'seq'; seq: FinSequence };

/** One message as written: the raw blocks, the message type, and block 4 as lines. */
export interface FinMessage {
  readonly block1?: string;
  readonly block2?: string;
  readonly block3?: string;
  readonly block4?: string;
  readonly block5?: string;
  /** "540" etc., from block 2. */
  readonly type?: string;
  /** 'I' (input, as we send) or 'O' (output, as the network delivers). */
  readonly io?: 'I' | 'O';
}

/** A problem with the frame of a FIN message; the message says where. */
export class FinSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FinSyntaxError';
  }
}

/** Block 1 of FIN: application F, service 01, logical terminal (12), session (4), sequence (6). */
export const BLOCK1_RE = /^F01([A-Z0-9]{12})(\d{4})(\d{6})$/;
/** Block 2, input: I, type, receiver (12), optional priority, delivery monitoring, obsolescence. */
export const BLOCK2_IN_RE = /^I(\d{3})([A-Z0-9]{12})([SUN](\d(\d{3})?)?)?$/;
/** Block 2, output: O, type, input time, MIR (28), output date, output time, optional priority. */
export const BLOCK2_OUT_RE = /^O(\d{3})(\d{4})(\d{6}[A-Z0-9]{12}\d{4}\d{6})(\d{6})(\d{4})([SUN])?$/;

/**
 * Split a file into FIN messages. A message is a run of {n:...} blocks starting with block 1 or 2;
 * whitespace and '$' (the RJE separator) may stand between messages. Block 4 runs to CrLf "-}".
 * @throws FinSyntaxError when a block is not closed or text stands outside blocks.
 */
export function splitFin(text: string): FinMessage[] {
  const src = text.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  const messages: Record<string, string>[] = [];
  let cur: Record<string, string> | undefined;
  let i = 0;
  while (i < src.length) {
    const ch = src[i]!;
    if (/\s|\$/.test(ch)) {
      i++;
      continue;
    }
    const m = /^\{([1-5]):/.exec(src.slice(i, i + 3));
    if (!m) throw new FinSyntaxError(`unexpected text outside a block at offset ${i}: "${src.slice(i, i + 20)}"`);
    const id = m[1]!;
    let end: number;
    if (id === '4') {
      const close = src.indexOf('\n-}', i);
      if (close < 0) throw new FinSyntaxError('block 4 is not closed with a line "-}"');
      end = close + 3;
    } else {
      let depth = 0;
      end = -1;
      for (let k = i; k < src.length; k++) {
        if (src[k] === '{') depth++;
        else if (src[k] === '}' && --depth === 0) {
          end = k + 1;
          break;
        }
      }
      if (end < 0) throw new FinSyntaxError(`block ${id} is not closed with "}"`);
    }
    const body = src.slice(i + 3, end - 1);
    if (!cur || id === '1' || (id === '2' && (cur['2'] !== undefined || cur['4'] !== undefined)) || cur[id] !== undefined) {
      cur = {};
      messages.push(cur);
    }
    cur[id] = body;
    i = end;
  }
  return messages.map((b) => {
    const b2 = b['2'];
    const type = b2 ? /^[IO](\d{3})/.exec(b2)?.[1] : undefined;
    const io = b2 && /^[IO]/.test(b2) ? (b2[0] as 'I' | 'O') : undefined;
    return { block1: b['1'], block2: b2, block3: b['3'], block4: b['4'], block5: b['5'], type, io };
  });
}

/**
 * The fields of block 4. The block starts with a line break and ends with "-" (stripped by
 * {@link splitFin}); a line that does not start with ':' continues the field before it.
 * @throws FinSyntaxError when block 4 does not start with a field.
 */
export function finFields(block4: string): FinField[] {
  const lines = block4.replace(/\r\n/g, '\n').replace(/^\n/, '').replace(/\n-$/, '').split('\n');
  if (lines.length && lines[lines.length - 1] === '-') lines.pop();
  const fields: { tag: string; value: string; line: number }[] = [];
  lines.forEach((ln, idx) => {
    const m = /^:(\d{2}[A-Z]?):(.*)$/.exec(ln);
    if (m) fields.push({ tag: m[1]!, value: m[2]!, line: idx + 1 });
    else if (fields.length) fields[fields.length - 1]!.value += `\n${ln}`;
    else if (ln.trim()) throw new FinSyntaxError(`block 4 line 1 "${ln.slice(0, 20)}" is not a field (":tag:value")`);
  });
  return fields;
}

/** The parts of a generic field value ":QUAL/DSS/rest" (ISO 15022): qualifier, data source scheme, data. */
export interface GenericValue {
  readonly qualifier: string;
  readonly dss: string;
  readonly data: string;
}

/** Split ":SEME//REF" into {qualifier SEME, dss '', data REF}; undefined when the value is not generic. */
export function genericValue(value: string): GenericValue | undefined {
  const m = /^:([A-Z0-9]{4})\/([A-Z0-9]{0,8})\/([\s\S]*)$/.exec(value);
  return m ? { qualifier: m[1]!, dss: m[2]!, data: m[3]! } : undefined;
}

/**
 * Nest fields into their 16R/16S sequences. The top level is an unnamed sequence.
 * @throws FinSyntaxError when a 16S does not close the open 16R, or a 16R is left open.
 */
export function finSequences(fields: readonly FinField[]): FinSequence {
  type Open = { name: string; line: number; items: FinItem[] };
  const stack: Open[] = [{ name: '', line: 0, items: [] }];
  for (const f of fields) {
    const top = stack[stack.length - 1]!;
    if (f.tag === '16R') {
      stack.push({ name: f.value, line: f.line, items: [] });
    } else if (f.tag === '16S') {
      if (stack.length === 1 || top.name !== f.value) {
        throw new FinSyntaxError(`line ${f.line}: :16S:${f.value} closes ${stack.length === 1 ? 'no open sequence' : `sequence ${top.name} (opened line ${top.line})`}`);
      }
      stack.pop();
      stack[stack.length - 1]!.items.push({ kind: 'seq', seq: top });
    } else {
      top.items.push({ kind: 'field', field: f });
    }
  }
  if (stack.length > 1) {
    const open = stack[stack.length - 1]!;
    throw new FinSyntaxError(`sequence ${open.name} (line ${open.line}) is not closed by :16S:${open.name}`);
  }
  return stack[0]!;
}

/** The fields directly in a sequence. */
export const seqFields = (s: FinSequence): FinField[] =>
  s.items.flatMap((it) => (it.kind === 'field' ? [it.field] : []));
/** The subsequences directly in a sequence with this name. */
export const subSeqs = (s: FinSequence, name: string): FinSequence[] =>
  s.items.flatMap((it) => (it.kind === 'seq' && it.seq.name === name ? [it.seq] : []));

/** Every field in a sequence and below, in order. */
export function allFields(s: FinSequence): FinField[] {
  return s.items.flatMap((it) => (it.kind === 'field' ? [it.field] : allFields(it.seq)));
}

/** Every sequence named `name` anywhere below `s`. */
export function findSeqs(s: FinSequence, name: string): FinSequence[] {
  return s.items.flatMap((it) => (it.kind === 'seq' ? (it.seq.name === name ? [it.seq] : findSeqs(it.seq, name)) : []));
}

/** The first field with this tag (or any of these tags) and qualifier directly in `s`. */
export function qualified(s: FinSequence, tags: string | readonly string[], qualifier: string): { field: FinField; value: GenericValue } | undefined {
  const ts = typeof tags === 'string' ? [tags] : tags;
  for (const f of seqFields(s)) {
    if (!ts.includes(f.tag)) continue;
    const v = genericValue(f.value);
    if (v?.qualifier === qualifier) return { field: f, value: v };
  }
  return undefined;
}

// ---- writing ---------------------------------------------------------------------------------

/** A BIC as a logical terminal address: BIC8 + terminal code + branch ("DTCYUS33" -> "DTCYUS33AXXX"). */
export function terminalAddress(bic: string, terminal: string): string {
  return `${bic.slice(0, 8)}${terminal}${bic.length === 11 ? bic.slice(8) : 'XXX'}`;
}

/**
 * A FIN input message: block 1 from the sender's BIC (terminal A, session and sequence zero, the
 * interface numbers them), block 2 to the receiver (terminal X, normal priority), block 4 from
 * lines, CrLf line ends as FIN requires.
 */
export function finMessage(type: string, senderBic: string, receiverBic: string, lines: readonly string[]): string {
  const b1 = `{1:F01${terminalAddress(senderBic, 'A')}0000000000}`;
  const b2 = `{2:I${type}${terminalAddress(receiverBic, 'X')}N}`;
  return `${b1}${b2}{4:\r\n${lines.join('\r\n')}\r\n-}`;
}
