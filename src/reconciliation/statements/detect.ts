/**
 * Which statement format a file is, from its content (never its name): ISO 20022 XML by the
 * namespace of its Document, SWIFT MT by block 2 of its envelope or by its fields, else CSV.
 */
import { isoMessageOf, SUPPORTED_TEXT } from './iso-common.js';
import type { StatementKind } from './types.js';

export interface DetectedFormat {
  /**
   * The format as ParsedStatement.format names it: camt.053.001.08, camt.052.001.02,
   * semt.002.001.10, mt940, mt950, mt535, csv. Null when the content is no statement we read.
   */
  format: string | null;
  syntax: 'xml' | 'swift' | 'csv' | 'unknown';
  /** cash or holdings; null when not recognised. */
  kind: StatementKind | null;
  /** For XML: the namespace of the (first) Document element, also when it is not supported. */
  namespace: string | null;
  /** Why `format` is null. */
  reason: string | null;
}

const unknown = (syntax: DetectedFormat['syntax'], reason: string, namespace: string | null = null): DetectedFormat => ({
  format: null,
  syntax,
  kind: null,
  namespace,
  reason,
});

/** Namespace of the first Document element, looked up by its prefix in the text before it. */
function documentNamespace(text: string): { found: boolean; ns: string | null } {
  const m = /<(?:([A-Za-z_][\w.-]*):)?Document[\s>/]/.exec(text);
  if (!m) return { found: false, ns: null };
  const prefix = m[1];
  const attr = prefix ? `xmlns:${prefix}` : 'xmlns';
  const tagEnd = text.indexOf('>', m.index);
  const tag = text.slice(m.index, tagEnd < 0 ? undefined : tagEnd);
  const re = new RegExp(`\\s${attr.replace('.', '\\.')}\\s*=\\s*(["'])([^"']*)\\1`);
  const own = re.exec(tag);
  if (own) return { found: true, ns: own[2]! };
  // Declared on an ancestor (an envelope): the last declaration of the prefix before the Document.
  const before = text.slice(0, m.index);
  const all = [...before.matchAll(new RegExp(re.source, 'g'))];
  return { found: true, ns: all.length ? all[all.length - 1]![2]! : null };
}

/**
 * Detect the format of a statement file from its content.
 * Never throws: an unsupported file gets `format: null` and the reason.
 */
export function detectFormat(text: string): DetectedFormat {
  const head = text.replace(/^\uFEFF/, '').trimStart();
  if (head.startsWith('<')) {
    const { found, ns } = documentNamespace(head);
    if (!found) return unknown('xml', `XML without an ISO 20022 <Document> element; ${SUPPORTED_TEXT}`);
    const m = isoMessageOf(ns ?? undefined);
    if (!m) return unknown('xml', ns ? `unknown namespace "${ns}"; ${SUPPORTED_TEXT}` : `the Document has no namespace; ${SUPPORTED_TEXT}`, ns);
    return { format: m.format, syntax: 'xml', kind: m.message === 'semt.002' ? 'holdings' : 'cash', namespace: ns, reason: null };
  }
  if (/^\{[1-5]:/.test(head)) {
    const t = /\{2:[IO](\d{3})/.exec(head)?.[1];
    if (t === '940' || t === '950') return { format: `mt${t}`, syntax: 'swift', kind: 'cash', namespace: null, reason: null };
    if (t === '535') return { format: 'mt535', syntax: 'swift', kind: 'holdings', namespace: null, reason: null };
    return unknown('swift', t ? `SWIFT MT${t} is not a statement this reads (MT940, MT950, MT535)` : 'SWIFT envelope without a block 2 naming the message type');
  }
  if (/^:\d{2}[A-Z]?:/.test(head)) {
    if (/^:16R:GENL/m.test(head) && /^:97[AB]::SAFE\//m.test(head)) return { format: 'mt535', syntax: 'swift', kind: 'holdings', namespace: null, reason: null };
    if (/^:20:/m.test(head) && /^:6[02][FM]:/m.test(head)) return { format: 'mt940', syntax: 'swift', kind: 'cash', namespace: null, reason: null };
    return unknown('swift', 'SWIFT fields that are neither an MT940/MT950 (:20:, :60F:, :62F:) nor an MT535 (:16R:GENL, :97A::SAFE//)');
  }
  const first = head.split(/\r?\n/, 1)[0] ?? '';
  if (/[,;\t]/.test(first)) return { format: 'csv', syntax: 'csv', kind: 'cash', namespace: null, reason: null };
  return unknown('unknown', 'neither ISO 20022 XML, SWIFT MT nor CSV with a header line');
}
