/**
 * XML in and out for ISO 20022 messages, on fast-xml-parser: a checked parse into a small element
 * tree that keeps document order and resolves namespaces, a few look-ups on it, and a builder.
 * No DTDs: a DOCTYPE is refused (ISO 20022 has none, and entity tricks stay out).
 */
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';

/** One element: local name, namespace URI (resolved), attributes as written, children in order, own text. */
export interface XmlElement {
  readonly name: string;
  readonly ns: string | undefined;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: readonly XmlElement[];
  readonly text: string;
}

/** Why a text is not usable XML; `what` names the file or message kind in the message. */
export class XmlSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlSyntaxError';
  }
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  commentPropName: false,
});

type Ordered = Record<string, unknown> & { ':@'?: Record<string, string> };

function toElement(node: Ordered, scope: ReadonlyMap<string, string>): XmlElement {
  const qname = Object.keys(node).find((k) => k !== ':@')!;
  const attrs = node[':@'] ?? {};
  let nsScope = scope;
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'xmlns' || k.startsWith('xmlns:')) {
      if (nsScope === scope) nsScope = new Map(scope);
      (nsScope as Map<string, string>).set(k === 'xmlns' ? '' : k.slice(6), v);
    }
  }
  const colon = qname.indexOf(':');
  const prefix = colon < 0 ? '' : qname.slice(0, colon);
  const name = colon < 0 ? qname : qname.slice(colon + 1);
  const children: XmlElement[] = [];
  let text = '';
  for (const c of (node[qname] as Ordered[]) ?? []) {
    if ('#text' in c) text += String(c['#text']);
    else children.push(toElement(c, nsScope));
  }
  return { name, ns: nsScope.get(prefix), attrs, children, text };
}

/**
 * Parse XML into its root element. Refuses what is not well-formed (with the parser's line and
 * column), a DOCTYPE, and more or less than one root element.
 * @throws XmlSyntaxError
 */
export function parseXml(text: string): XmlElement {
  const src = text.replace(/^\uFEFF/, '');
  if (/<!DOCTYPE/i.test(src)) throw new XmlSyntaxError('a DOCTYPE is not allowed in an ISO 20022 message');
  const check = XMLValidator.validate(src);
  if (check !== true) {
    throw new XmlSyntaxError(`not well-formed XML (line ${check.err.line}, column ${check.err.col}): ${check.err.msg}`);
  }
  const roots = (parser.parse(src) as Ordered[]).filter((n) => !('#text' in n));
  if (roots.length !== 1) throw new XmlSyntaxError(`expected one root element, found ${roots.length}`);
  return toElement(roots[0]!, new Map());
}

/** The first child with this local name. */
export const child = (el: XmlElement | undefined, name: string): XmlElement | undefined =>
  el?.children.find((c) => c.name === name);

/** Every child with this local name, in order. */
export const childrenNamed = (el: XmlElement | undefined, name: string): XmlElement[] =>
  el ? el.children.filter((c) => c.name === name) : [];

/** Follow a path of local names ("SttldQty/Qty/Unit"), first match at each step. */
export function at(el: XmlElement | undefined, path: string): XmlElement | undefined {
  let cur = el;
  for (const step of path.split('/')) cur = child(cur, step);
  return cur;
}

/** Every element below `el` (not itself), depth first, that satisfies `pred`; does not descend into matches. */
export function findAll(el: XmlElement, pred: (e: XmlElement) => boolean): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    for (const c of e.children) {
      if (pred(c)) out.push(c);
      else walk(c);
    }
  };
  walk(el);
  return out;
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  format: true,
  indentBy: '  ',
  suppressEmptyNode: true,
  processEntities: true,
});

/**
 * A node for {@link buildXml}: a string is text; an object maps child names to nodes (in order);
 * an array repeats the element; keys starting with '@_' are attributes, '#text' is text beside them.
 */
export type XmlNode = string | { [name: string]: XmlNode | XmlNode[] | undefined };

/** Serialise a tree (undefined members are left out) with an XML declaration; text is escaped. */
export function buildXml(root: Record<string, XmlNode>): string {
  const prune = (n: XmlNode | XmlNode[] | undefined): unknown => {
    if (n === undefined || typeof n === 'string') return n;
    if (Array.isArray(n)) return n.map(prune);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(n)) if (v !== undefined) out[k] = prune(v);
    return out;
  };
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build(prune(root))}`;
}
