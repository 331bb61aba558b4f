/**
 * SWIFT MT (FIN) statement files as banks deliver them: messages in the {1:}{2:}{3:}{4:...-}{5:}
 * envelope, or bare block-4 text (fields only), several messages per file. Splits a file into
 * messages and each message into fields (tag, value with its continuation lines, line number).
 * Format only; mt940.ts and mt535.ts give the fields their meaning.
 */
import { refuseFile } from './errors.js';

export interface MtField {
  tag: string;
  /** Text after ":tag:", continuation lines joined with "\n". */
  value: string;
  /** 1-based line in the file. */
  line: number;
}

export interface MtMessage {
  /** 1-based position in the file. */
  index: number;
  /** Message type from block 2 ("940"), or null for bare text. */
  type: string | null;
  /** Sender BIC from the envelope, when there is one. */
  sender: string | null;
  fields: MtField[];
}

const FIELD_RE = /^:(\d{2}[A-Z]?):/;

function fieldsOf(body: string, firstLine: number, file: string, msgIndex: number): MtField[] {
  const fields: MtField[] = [];
  const lines = body.split('\n');
  for (let k = 0; k < lines.length; k++) {
    const raw = lines[k]!.replace(/\r$/, '');
    const m = FIELD_RE.exec(raw);
    if (m) {
      fields.push({ tag: m[1]!, value: raw.slice(m[0].length), line: firstLine + k });
    } else if (raw.trim() === '') {
      continue;
    } else if (fields.length === 0) {
      throw refuseFile({ file, statement: `message ${msgIndex}`, path: `line ${firstLine + k}` }, `"${raw.slice(0, 30)}" stands before the first field; a field starts with :tag:`);
    } else {
      fields[fields.length - 1]!.value += '\n' + raw;
    }
  }
  return fields;
}

/** Sender BIC (BIC8 + branch) of an envelope: from block 2 of an output message, else block 1. */
function senderOf(block1: string | undefined, block2: string | undefined): string | null {
  const lt = (s: string) => s.slice(0, 8) + s.slice(9, 12);
  const out = block2 ? /^O\d{3}\d{4}\d{6}([A-Z0-9]{12})/.exec(block2) : null;
  if (out) return lt(out[1]!);
  const b1 = block1 ? /^F01([A-Z0-9]{12})/.exec(block1) : null;
  return b1 && block2?.startsWith('I') ? lt(b1[1]!) : null;
}

const lineAt = (src: string, offset: number) => {
  let n = 1;
  for (let i = src.indexOf('\n'); i >= 0 && i < offset; i = src.indexOf('\n', i + 1)) n++;
  return n;
};

/**
 * Split a file into messages. With envelopes: each {1:}..{4:..-} group is a message (block 4 runs to
 * a line "-}"). Bare: messages are separated by a line "-" or start at a new `startTag` field.
 * @throws DomainError RECON_STATEMENT_REFUSED when a block is not closed or text stands outside blocks.
 */
export function splitMt(text: string, file: string, startTag: (f: MtField) => boolean): MtMessage[] {
  const src = text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n');
  const messages: MtMessage[] = [];
  if (/^\s*\{[1-5]:/.test(src)) {
    let i = 0;
    let blocks: Record<string, string> = {};
    let block4Line = 0;
    const flush = () => {
      if (blocks['4'] === undefined) {
        if (Object.keys(blocks).length) throw refuseFile({ file, statement: `message ${messages.length + 1}` }, 'has no block 4 (the text block {4:...-})');
        return;
      }
      const idx = messages.length + 1;
      const type = blocks['2'] ? (/^[IO](\d{3})/.exec(blocks['2'])?.[1] ?? null) : null;
      messages.push({ index: idx, type, sender: senderOf(blocks['1'], blocks['2']), fields: fieldsOf(blocks['4'], block4Line, file, idx) });
      blocks = {};
    };
    while (i < src.length) {
      const ch = src[i]!;
      if (ch === '\n' || ch === ' ' || ch === '\t' || ch === '$' || ch === '\u0003' || ch === '\u0001') {
        i++;
        continue;
      }
      const m = /^\{([1-5]):/.exec(src.slice(i, i + 3));
      if (!m) throw refuseFile({ file, path: `line ${lineAt(src, i)}` }, `unexpected text outside a block: "${src.slice(i, i + 20).split('\n')[0]}"`);
      const id = m[1]!;
      if ((id === '1' || (id === '2' && blocks['1'] === undefined)) && blocks['4'] !== undefined) flush();
      let end: number;
      let content: string;
      if (id === '4') {
        const close = src.indexOf('\n-}', i);
        if (close < 0) throw refuseFile({ file, path: `line ${lineAt(src, i)}` }, 'block 4 is not closed with a line "-}"');
        content = src.slice(i + 3, close + 1).replace(/^\n/, '');
        block4Line = lineAt(src, i) + (src[i + 3] === '\n' ? 1 : 0);
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
        if (end < 0) throw refuseFile({ file, path: `line ${lineAt(src, i)}` }, `block ${id} is not closed with "}"`);
        content = src.slice(i + 3, end - 1);
      }
      if (blocks[id] !== undefined) flush();
      blocks[id] = content;
      i = end;
    }
    flush();
    return messages;
  }
  // Bare text: split at "-" lines, then at each start field.
  let fields: MtField[] = [];
  const chunks: MtField[][] = [];
  let start = 0;
  const lines = src.split('\n');
  for (let k = 0; k <= lines.length; k++) {
    const line = lines[k];
    if (line === undefined || /^-\}?\s*$/.test(line)) {
      const body = lines.slice(start, k).join('\n');
      if (body.trim() !== '') chunks.push(fieldsOf(body, start + 1, file, chunks.length + 1));
      start = k + 1;
    }
  }
  for (const chunk of chunks) {
    fields = [];
    for (const f of chunk) {
      if (startTag(f) && fields.length) {
        messages.push({ index: messages.length + 1, type: null, sender: null, fields });
        fields = [];
      }
      fields.push(f);
    }
    if (fields.length) messages.push({ index: messages.length + 1, type: null, sender: null, fields });
  }
  return messages;
}

/** YYMMDD as YYYY-MM-DD (years 80-99 are 19xx, as SWIFT reads them), or null when not a date. */
export function mtDate(yymmdd: string): string | null {
  const m = /^(\d{2})(\d{2})(\d{2})$/.exec(yymmdd);
  if (!m) return null;
  const yy = Number(m[1]);
  const date = `${yy >= 80 ? 19 : 20}${m[1]}-${m[2]}-${m[3]}`;
  return validDate(date) ? date : null;
}

/** YYYYMMDD as YYYY-MM-DD, or null. */
export function mtDate8(yyyymmdd: string): string | null {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(yyyymmdd);
  if (!m) return null;
  const date = `${m[1]}-${m[2]}-${m[3]}`;
  return validDate(date) ? date : null;
}

function validDate(d: string): boolean {
  const t = new Date(d + 'T00:00:00Z');
  return !Number.isNaN(t.getTime()) && t.toISOString().slice(0, 10) === d;
}

/** SWIFT amount "1234,56" (decimal comma, integer part required) as "1234.56"; null when not one. */
export function mtAmount(text: string): string | null {
  const m = /^(\d{1,15}),(\d*)$/.exec(text) ?? /^(\d{1,15})()$/.exec(text);
  if (!m) return null;
  return m[2] ? `${m[1]}.${m[2]}` : m[1]!;
}
