/**
 * ISO 20022 statement files: one or more Documents (bare, or inside an envelope with an AppHdr),
 * each a camt.052/053/054 or semt.002 message. The file is read once; each <Ntry> becomes its
 * entry as soon as it closes and leaves the tree, so a file of 100,000 entries never holds
 * 100,000 element trees at once.
 */
import { camtEntry, camtStatement } from './camt.js';
import { refuseFile } from './errors.js';
import { documentsOf, ISO_MESSAGES, isoMessageOf, type IsoCtx, need, SUPPORTED_TEXT } from './iso-common.js';
import { semt002Statements } from './semt002.js';
import type { ParsedStatement, StatementEntry } from './types.js';
import { kids, namespaceOf, pathOf, readXml, textAt, XmlReadError, type XEl } from './xml-reader.js';

const ITEMS = new Set(['Stmt', 'Rpt', 'Ntfctn']);

interface DocFormat {
  message: string;
  format: string;
  msg: XEl;
}

/**
 * Parse an ISO 20022 statement file.
 * @throws DomainError RECON_STATEMENT_REFUSED (invalid): not well-formed XML, an unknown namespace
 *   or version, a missing required element, a balance or entry without CdtDbtInd, an amount with
 *   more decimals than its currency allows.
 */
export function parseIsoStatements(text: string, file: string): ParsedStatement[] {
  const ctx: IsoCtx = { file, entry: null, entryPosition: 0 };
  const formats = new Map<XEl, DocFormat>();
  const formatOf = (doc: XEl): DocFormat => {
    let f = formats.get(doc);
    if (f) return f;
    const ns = namespaceOf(doc);
    const m = isoMessageOf(ns);
    const where = { file, path: pathOf(doc) };
    if (!m) throw refuseFile(where, ns ? `unknown namespace "${ns}"; ${SUPPORTED_TEXT}` : `has no namespace; ${SUPPORTED_TEXT}`);
    const expected = ISO_MESSAGES[m.message]!.root;
    const msg = doc.first;
    if (!msg || msg.name !== expected || msg.next !== null) {
      throw refuseFile(where, `a ${m.format} Document holds one <${expected}>, found ${msg ? `<${msg.name}>` : 'nothing'}`);
    }
    f = { message: m.message, format: m.format, msg };
    formats.set(doc, f);
    return f;
  };

  const entries = new Map<XEl, StatementEntry[]>();
  let root: XEl;
  try {
    root = readXml(text, {
      onClose: (el) => {
        if (el.name !== 'Ntry') return false;
        const stmt = el.parent;
        const msg = stmt?.parent;
        const doc = msg?.parent;
        if (!stmt || !ITEMS.has(stmt.name) || !doc || doc.name !== 'Document') return false;
        if (formatOf(doc).msg !== msg) return false;
        let list = entries.get(stmt);
        if (!list) entries.set(stmt, (list = []));
        ctx.entry = el;
        ctx.entryPosition = list.length + 1;
        list.push(camtEntry(ctx, stmt, el, list.length));
        ctx.entry = null;
        return true;
      },
    });
  } catch (e) {
    if (e instanceof XmlReadError) throw refuseFile({ file }, e.message);
    throw e;
  }

  const docs = documentsOf(root);
  if (docs.length === 0) throw refuseFile({ file, path: pathOf(root) }, `no ISO 20022 <Document> element; ${SUPPORTED_TEXT}`);
  const out: ParsedStatement[] = [];
  for (const doc of docs) {
    const { message, format, msg } = formatOf(doc);
    if (message === 'semt.002') {
      const appHdr = findFirst(root, 'AppHdr');
      out.push(...semt002Statements(ctx, format, msg, appHdr ? textAt(appHdr, 'BizMsgIdr') : null));
      continue;
    }
    const grp = need(ctx, undefined, msg, ['GrpHdr'], 'every message has a group header');
    const grpHdr = {
      messageId: need(ctx, undefined, grp, ['MsgId'], 'the group header identifies the message').text,
      createdAt: textAt(grp, 'CreDtTm'),
    };
    const items = kids(msg, ISO_MESSAGES[message]!.item!);
    if (items.length === 0) need(ctx, undefined, msg, [ISO_MESSAGES[message]!.item!], 'the message holds at least one statement');
    for (const item of items) out.push(camtStatement(ctx, format, grpHdr, item, entries.get(item) ?? []));
  }
  return out;
}

function findFirst(el: XEl, name: string): XEl | undefined {
  for (let c = el.first; c !== null; c = c.next) {
    if (c.name === name) return c;
    const d = findFirst(c, name);
    if (d) return d;
  }
  return undefined;
}
