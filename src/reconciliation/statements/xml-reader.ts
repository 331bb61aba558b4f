/**
 * A strict, small XML reader for statement files: one pass over the text into a light element
 * tree (local names, attributes, trimmed text), refusing whatever is not well-formed.
 *
 * Why not fast-xml-parser (which the settlement messages use): statements are big. Measured on a
 * 64 MB camt.053 with 100,000 entries, fast-xml-parser 5.12 took 16 s to parse (and grows faster
 * than the file: 10,000 entries 0.5 s, 40,000 entries 3 s), and its validator 2.3 s more; saxes,
 * the strict SAX parser, 1.1 s for the events alone. Bank statements with a few hundred thousand
 * lines are ordinary, so this reader does only what the statements need (elements, attributes,
 * text, CDATA, comments, processing instructions, the five predefined entities and character
 * references), in one pass of indexOf and character tests, several times faster than those on the
 * same file (bench/statements.ts gives the figure). Its tree is checked against fast-xml-parser's
 * on the fixtures (xml-reader.test.ts).
 *
 * Refused, with line and column: a DOCTYPE (ISO 20022 has none, and entity tricks stay out), tags
 * that do not nest, unclosed elements, a bad name, a bad or repeated attribute, an unknown entity or
 * a bare '&', '<' in an attribute value, ']]>' in text, text or a second element outside the root,
 * an XML declaration anywhere but at the start.
 */

/**
 * One element. `name` is the local name (prefix removed), `qname` the name as written; `text` is
 * its own text, trimmed. Children form a linked list (first/last/next) rather than an
 * array: most elements of a statement have one or two children, and a file has millions.
 */
export interface XEl {
  name: string;
  qname: string;
  attrs: Record<string, string> | null;
  text: string;
  parent: XEl | null;
  first: XEl | null;
  last: XEl | null;
  next: XEl | null;
  /** Offset of its '<' in the text (for line numbers in messages). */
  start: number;
}

/** Why a text is not well-formed XML; `line` and `column` are 1-based. */
export class XmlReadError extends Error {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`not well-formed XML at line ${line}, column ${column}: ${reason}`);
    this.name = 'XmlReadError';
  }
}

export interface ReadOptions {
  /**
   * Called when an element closes; returning true leaves it out of its parent's children (the
   * caller took what it needed). Lets a parser turn each statement entry into its record as it
   * is read instead of keeping every element of a large file. An element left out, and the
   * elements below it, are reused for elements read later: the caller must keep none of them
   * (strings taken from them are safe).
   */
  onClose?: (el: XEl) => boolean;
}

/** Line and column (1-based) of an offset. */
export function lineColumn(src: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lastNl = -1;
  for (let i = src.indexOf('\n'); i >= 0 && i < offset; i = src.indexOf('\n', i + 1)) {
    line++;
    lastNl = i;
  }
  return { line, column: offset - lastNl };
}

const NAME_RE = /^[A-Za-z_\u00C0-\uFFFF][A-Za-z0-9._\-\u00B7-\uFFFF]*(?::[A-Za-z_\u00C0-\uFFFF][A-Za-z0-9._\-\u00B7-\uFFFF]*)?$/;

const isWs = (c: number) => c === 32 || c === 10 || c === 9 || c === 13;

/** ASCII characters allowed in a name after the first (letters, digits, '.', '-', '_'); ':' is left to NAME_RE. */
const NAME_CHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 46 || c === 45 || c === 95) NAME_CHAR[c] = 1;
}
const isNameStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;

/** Whether `s` stands in `src` at `at` (a plain loop: startsWith with a position is slow on a large string). */
function sameAt(src: string, at: number, s: string): boolean {
  for (let k = 0; k < s.length; k++) if (src.charCodeAt(at + k) !== s.charCodeAt(k)) return false;
  return true;
}

/**
 * A direct-mapped cache of short texts (codes such as CRDT and BOOK, currencies, dates), so that a
 * value met a hundred thousand times is one string kept by every entry, not a hundred thousand.
 * (Element names are sliced: measured, a slice is cheaper than a look-up, and names are not kept.)
 */
type Interner = string[];
const interner = (): Interner => new Array<string>(4096).fill('');

/** The string src[from, to) from the cache when it is there (hash: of its characters), else sliced and cached. */
function intern(table: Interner, src: string, from: number, to: number, hash: number): string {
  const slot = hash & 4095;
  const cand = table[slot]!;
  if (cand.length === to - from && cand.length !== 0 && sameAt(src, from, cand)) return cand;
  const s = src.slice(from, to);
  table[slot] = s;
  return s;
}

/** Decode the predefined entities and character references; refuse anything else after '&'. */
function decode(s: string, at: number, src: string): string {
  let out = '';
  let from = 0;
  for (let amp = s.indexOf('&'); amp >= 0; amp = s.indexOf('&', from)) {
    const semi = s.indexOf(';', amp);
    const ref = semi < 0 ? '' : s.slice(amp + 1, semi);
    let ch: string;
    if (ref === 'lt') ch = '<';
    else if (ref === 'gt') ch = '>';
    else if (ref === 'amp') ch = '&';
    else if (ref === 'quot') ch = '"';
    else if (ref === 'apos') ch = "'";
    else if (/^#[0-9]{1,7}$/.test(ref) || /^#x[0-9A-Fa-f]{1,6}$/.test(ref)) {
      const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (code > 0x10ffff || code === 0 || (code >= 0xd800 && code <= 0xdfff)) fail(src, at + amp, `character reference &${ref}; is not a legal character`);
      ch = String.fromCodePoint(code);
    } else {
      fail(src, at + amp, semi < 0 || ref.length > 32 || ref === '' ? "'&' must start an entity such as &amp;" : `unknown entity &${ref}; (only &lt; &gt; &amp; &quot; &apos; and character references)`);
    }
    out += s.slice(from, amp) + ch;
    from = semi + 1;
  }
  return out + s.slice(from);
}

function fail(src: string, offset: number, reason: string): never {
  const { line, column } = lineColumn(src, offset);
  throw new XmlReadError(reason, line, column);
}

/** Take an element out of its parent's children (it is the last one: it just closed). */
function detach(el: XEl): void {
  const p = el.parent;
  if (p === null) return;
  let prev: XEl | null = null;
  for (let c = p.first; c !== null && c !== el; c = c.next) prev = c;
  if (prev === null) p.first = el.next;
  else prev.next = el.next;
  if (p.last === el) p.last = prev;
  el.next = null;
}

/** Put an element taken out of the tree, and everything below it, back for reuse. */
function release(el: XEl, pool: XEl[]): void {
  for (let c = el.first; c !== null; ) {
    const next: XEl | null = c.next;
    release(c, pool);
    c = next;
  }
  el.parent = el.first = el.last = el.next = null;
  el.attrs = null;
  el.text = '';
  pool.push(el);
}

const SHORT_TEXT = 16;

/**
 * Read XML text into its root element.
 * @throws XmlReadError when the text is not well-formed (see the file's header for what is refused).
 */
export function readXml(src: string, opts: ReadOptions = {}): XEl {
  const onClose = opts.onClose;
  /** Elements taken out by onClose, reused for the next ones (a big file then makes little garbage). */
  const pool: XEl[] = [];
  const values = interner();
  const n = src.length;
  let i = src.charCodeAt(0) === 0xfeff ? 1 : 0;
  const begin = i;
  let root: XEl | null = null;
  let cur: XEl | null = null;
  while (true) {
    const lt = src.indexOf('<', i);
    const end = lt < 0 ? n : lt;
    if (end > i) {
      // character data between i and end: skipped when only white space (indentation)
      let k = i;
      while (k < end && isWs(src.charCodeAt(k))) k++;
      if (k < end) {
        if (cur === null) fail(src, k, root ? 'text after the root element' : 'text before the root element');
        let seg: string;
        if (end - i <= SHORT_TEXT && cur.text === '') {
          let h = 0;
          let special = false;
          for (let q = i; q < end; q++) {
            const d = src.charCodeAt(q);
            if (d === 38 || d === 93) special = true;
            h = (Math.imul(h, 31) + d) | 0;
          }
          seg = special ? src.slice(i, end) : intern(values, src, i, end, h);
        } else seg = src.slice(i, end);
        if (seg.indexOf(']]>') >= 0) fail(src, i + seg.indexOf(']]>'), "']]>' is not allowed in text");
        if (seg.indexOf('&') >= 0) seg = decode(seg, i, src);
        cur.text = cur.text === '' ? seg : cur.text + seg;
      } else if (cur !== null && cur.text !== '') {
        cur.text += src.slice(i, end);
      }
    }
    if (lt < 0) break;
    const c = src.charCodeAt(lt + 1);
    if (c === 47 /* '/' */) {
      const gt = src.indexOf('>', lt + 2);
      if (gt < 0) fail(src, lt, 'end tag is not closed with >');
      let ne = gt;
      while (ne > lt + 2 && isWs(src.charCodeAt(ne - 1))) ne--;
      if (cur === null) fail(src, lt, `end tag </${src.slice(lt + 2, ne)}> has no start tag`);
      const open = cur.qname;
      if (ne - (lt + 2) !== open.length || src.slice(lt + 2, ne) !== open) {
        const at = lineColumn(src, cur.start);
        fail(src, lt, `end tag </${src.slice(lt + 2, ne)}> does not match <${open}> opened at line ${at.line}, column ${at.column}`);
      }
      const t = cur.text;
      if (t !== '' && (isWs(t.charCodeAt(0)) || isWs(t.charCodeAt(t.length - 1)))) cur.text = t.trim();
      const closed: XEl = cur;
      cur = cur.parent;
      if (onClose !== undefined && onClose(closed)) {
        detach(closed);
        release(closed, pool);
      }
      i = gt + 1;
      continue;
    }
    if (c === 33 /* '!' */) {
      if (src.startsWith('<!--', lt)) {
        const e = src.indexOf('-->', lt + 4);
        if (e < 0) fail(src, lt, 'comment is not closed with -->');
        const dd = src.indexOf('--', lt + 4);
        if (dd < e) fail(src, dd, "'--' is not allowed inside a comment");
        i = e + 3;
        continue;
      }
      if (src.startsWith('<![CDATA[', lt)) {
        if (cur === null) fail(src, lt, 'CDATA outside the root element');
        const e = src.indexOf(']]>', lt + 9);
        if (e < 0) fail(src, lt, 'CDATA section is not closed with ]]>');
        cur.text += src.slice(lt + 9, e);
        i = e + 3;
        continue;
      }
      if (src.startsWith('<!DOCTYPE', lt)) fail(src, lt, 'a DOCTYPE is not allowed in a statement file');
      fail(src, lt, "unexpected markup after '<!'");
    }
    if (c === 63 /* '?' */) {
      const e = src.indexOf('?>', lt + 2);
      if (e < 0) fail(src, lt, "processing instruction is not closed with '?>'");
      let te = lt + 2;
      while (te < e && !isWs(src.charCodeAt(te))) te++;
      const target = src.slice(lt + 2, te);
      if (target.toLowerCase() === 'xml' && lt !== begin) fail(src, lt, 'the XML declaration must be at the very start of the file');
      if (target === '') fail(src, lt, 'processing instruction without a target');
      i = e + 2;
      continue;
    }
    // start tag: the name, checked as it is scanned (ASCII fast path; other characters by NAME_RE)
    let j = lt + 1;
    let plain = isNameStart(src.charCodeAt(j));
    while (j < n) {
      const d = src.charCodeAt(j);
      if (isWs(d) || d === 47 || d === 62) break;
      if (d >= 128 || NAME_CHAR[d] !== 1) plain = false;
      j++;
    }
    if (j >= n) fail(src, lt, 'start tag is not closed with >');
    // Sliced, not interned: measured, slicing a name is several times cheaper than looking it up.
    const qname = src.slice(lt + 1, j);
    if (!plain && !NAME_RE.test(qname)) fail(src, lt, qname === '' ? "'<' must start a tag (use &lt; in text)" : `"${qname}" is not a valid element name`);
    let attrs: Record<string, string> | null = null;
    let selfClose = false;
    while (true) {
      let k = j;
      while (k < n && isWs(src.charCodeAt(k))) k++;
      if (k >= n) fail(src, lt, `start tag <${qname}> is not closed with >`);
      const d = src.charCodeAt(k);
      if (d === 62) {
        j = k + 1;
        break;
      }
      if (d === 47) {
        if (src.charCodeAt(k + 1) !== 62) fail(src, k, `'/' in start tag <${qname}> must be followed by '>'`);
        selfClose = true;
        j = k + 2;
        break;
      }
      if (k === j) fail(src, k, `attributes of <${qname}> must be separated by white space`);
      let ae = k;
      while (ae < n) {
        const e = src.charCodeAt(ae);
        if (isWs(e) || e === 61 || e === 62 || e === 47) break;
        ae++;
      }
      const an = src.slice(k, ae);
      if (!NAME_RE.test(an)) fail(src, k, `"${an}" is not a valid attribute name in <${qname}>`);
      while (ae < n && isWs(src.charCodeAt(ae))) ae++;
      if (src.charCodeAt(ae) !== 61) fail(src, ae, `attribute ${an} of <${qname}> has no '=' and value`);
      ae++;
      while (ae < n && isWs(src.charCodeAt(ae))) ae++;
      const q = src.charCodeAt(ae);
      if (q !== 34 && q !== 39) fail(src, ae, `value of attribute ${an} of <${qname}> must be quoted`);
      const ve = src.indexOf(q === 34 ? '"' : "'", ae + 1);
      if (ve < 0) fail(src, ae, `value of attribute ${an} of <${qname}> is not closed`);
      let v = src.slice(ae + 1, ve);
      if (v.indexOf('<') >= 0) fail(src, ae + 1 + v.indexOf('<'), `'<' is not allowed in the value of attribute ${an}`);
      if (v.indexOf('&') >= 0) v = decode(v, ae + 1, src);
      if (attrs === null) attrs = {};
      else if (Object.prototype.hasOwnProperty.call(attrs, an)) fail(src, k, `attribute ${an} appears twice in <${qname}>`);
      attrs[an] = v;
      j = ve + 1;
    }
    const colon = plain ? -1 : qname.indexOf(':');
    const name = colon < 0 ? qname : qname.slice(colon + 1);
    let el: XEl;
    if (pool.length !== 0) {
      el = pool.pop()!;
      el.name = name;
      el.qname = qname;
      el.attrs = attrs;
      el.text = '';
      el.parent = cur;
      el.first = el.last = el.next = null;
      el.start = lt;
    } else {
      el = { name, qname, attrs, text: '', parent: cur, first: null, last: null, next: null, start: lt };
    }
    if (cur === null) {
      if (root !== null) fail(src, lt, `a second root element <${qname}>; a document has one`);
      root = el;
    } else if (cur.last === null) {
      cur.first = cur.last = el;
    } else {
      cur.last.next = el;
      cur.last = el;
    }
    if (selfClose) {
      if (onClose !== undefined && onClose(el)) {
        detach(el);
        release(el, pool);
      }
    } else {
      cur = el;
    }
    i = j;
  }
  if (cur !== null) fail(src, cur.start, `element <${cur.qname}> is not closed`);
  if (root === null) fail(src, begin, 'no root element');
  return root;
}

/** The prefix of an element's name ('' when none). */
export const prefixOf = (el: XEl): string => (el.qname.length === el.name.length ? '' : el.qname.slice(0, el.qname.length - el.name.length - 1));

/** The namespace URI of an element (declared on it or an ancestor), or undefined. */
export function namespaceOf(el: XEl): string | undefined {
  const prefix = prefixOf(el);
  const key = prefix ? 'xmlns:' + prefix : 'xmlns';
  for (let e: XEl | null = el; e !== null; e = e.parent) {
    const v = e.attrs?.[key];
    if (v !== undefined) return v;
  }
  return undefined;
}

/** The children of an element as an array (allocates; hot paths walk first/next). */
export function childrenOf(el: XEl | undefined): XEl[] {
  const out: XEl[] = [];
  for (let c = el?.first ?? null; c !== null; c = c.next) out.push(c);
  return out;
}

/** The first child with this local name. */
export function kid(el: XEl | undefined, name: string): XEl | undefined {
  if (el === undefined) return undefined;
  for (let c = el.first; c !== null; c = c.next) if (c.name === name) return c;
  return undefined;
}

/** Every child with this local name, in order. */
export function kids(el: XEl | undefined, name: string): XEl[] {
  const out: XEl[] = [];
  for (let c = el?.first ?? null; c !== null; c = c.next) if (c.name === name) out.push(c);
  return out;
}

/** Follow child names, first match at each step. */
export function dig(el: XEl | undefined, ...names: string[]): XEl | undefined {
  let cur = el;
  for (let i = 0; i < names.length && cur !== undefined; i++) cur = kid(cur, names[i]!);
  return cur;
}

/** Text of the element at the path, or null when absent or empty. */
export function textAt(el: XEl | undefined, ...names: string[]): string | null {
  const e = dig(el, ...names);
  return e === undefined || e.text === '' ? null : e.text;
}

/** Text of a child, or null when absent or empty (the one-step textAt, without its array). */
export function childText(el: XEl | undefined, name: string): string | null {
  const e = kid(el, name);
  return e === undefined || e.text === '' ? null : e.text;
}

/**
 * An XPath-ish location: /Document/BkToCstmrStmt/Stmt[2]/Ntry[15]/Amt, with a 1-based position
 * for elements that have siblings of the same name. `extra` appends names below `el` (for
 * something missing). Positions of elements taken out of the tree are passed in `positions`.
 */
export function pathOf(el: XEl, extra: string[] = [], positions?: Map<XEl, number>): string {
  const parts: string[] = [];
  for (let e: XEl | null = el; e !== null; e = e.parent) {
    let part = e.name;
    const pos = positions?.get(e);
    if (pos !== undefined) part += `[${pos}]`;
    else if (e.parent !== null) {
      const same = kids(e.parent, e.name);
      if (same.length > 1) part += `[${same.indexOf(e) + 1}]`;
    }
    parts.push(part);
  }
  return '/' + parts.reverse().concat(extra).join('/');
}
