/**
 * The statement store: statements in (parsed by ./statements), kept as received, idempotent.
 * - A file whose bytes were imported before changes nothing (by its SHA-256).
 * - A statement is identified by (account, message type without version, statement id, sequence):
 *   the same statement re-sent (in another message, even another version) is a duplicate; the same
 *   identity with other content is a conflict, and then nothing of the file is stored.
 * - A refused statement (its own arithmetic is off, mixed currencies...) is not stored; the others
 *   of the file are. A file that does not parse stores nothing.
 * Lines are written with COPY (one round trip for any number of entries).
 */
import crypto from 'node:crypto';
import { copyIn, withTx, type Client, type Pool } from '../db/index.js';
import { appendAudit, lockBooks } from '../ledger/index.js';
import { newId, type ErrorDetail } from '../kernel/index.js';
import { parseStatementFile } from './statements/index.js';
import type { CsvMapping, ParsedStatement, StatementBalance } from './statements/types.js';
import { ReconCodes, reconError } from './errors.js';
import { ctxOf, lockImports, sha256, type ReconCtx } from './util.js';

/** One statement of an import, as `recon import --json` prints it. */
export interface StatementSummary {
  /** Our id of the stored statement; null when refused. */
  id: string | null;
  account: string;
  kind: 'cash' | 'holdings';
  format: string;
  statementId: string;
  sequence: string | null;
  currency: string | null;
  /** Signed decimal strings (negative: a debit balance); null when the statement has none. */
  opening: string | null;
  closing: string | null;
  /** Number of entries (cash) or holdings (holdings). */
  entries: number;
  /** 'ok', or the reason the statement's arithmetic does not hold (or cannot be checked). */
  check: string;
  status: 'stored' | 'duplicate' | 'refused';
  /** The ledger account the statement account is linked to; null while unlinked. */
  linked: string | null;
}

export interface ImportResult {
  file: string | null;
  fileHash: string;
  /** The very same file was imported before: nothing was read or written. */
  duplicateFile: boolean;
  statements: StatementSummary[];
  refused: number;
}

/** The message type without its version: camt.053.001.08 -> camt.053; mt940 -> mt940. */
export const familyOf = (format: string): string => format.toLowerCase().replace(/\.\d{3}\.\d{2}$/, '');

const pick = (bals: StatementBalance[], ...types: StatementBalance['type'][]) => {
  for (const t of types) {
    const b = bals.find((x) => x.type === t);
    if (b) return b;
  }
  return undefined;
};
const day = (s: string | null | undefined) => (s ? s.slice(0, 10) : null);

/**
 * What identifies a statement's content (not the message around it: ids and times of sending).
 * Streamed into the hash field by field (a statement may have 100,000 entries).
 */
function contentHash(s: ParsedStatement): string {
  const h = crypto.createHash('sha256');
  const put = (v: unknown) => h.update((v === null || v === undefined ? '\u0000' : typeof v === 'string' ? v : JSON.stringify(v)) + '\u001f');
  for (const v of [s.kind, s.account, s.statementId, s.sequence, s.page ?? null, s.currency, day(s.fromDate), day(s.toDate), day(s.statementDate)]) put(v);
  for (const b of s.balances) for (const v of [b.type, b.code, b.amount, b.currency, b.date]) put(v);
  h.update('\u001e');
  for (const e of s.entries) {
    for (const v of [e.index, e.amount, e.currency, e.bookingDate, e.valueDate, e.status, e.servicerRef, e.ourRef, e.refs.join('\u001d'), e.transactionCount,
      e.bankTxCode, e.counterpartyName, e.remittance, e.additionalInfo]) put(v);
    h.update('\u001e');
  }
  for (const x of s.holdings) {
    for (const v of [x.index, x.security, x.quantity, x.quantityType, x.price, x.priceCurrency]) put(v);
    h.update('\u001e');
  }
  return h.digest('hex');
}

interface Prepared {
  s: ParsedStatement;
  family: string;
  sequence: string;
  hash: string;
  opening: string | null;
  closing: string | null;
  fromDate: string | null;
  toDate: string | null;
  statementDate: string | null;
}

function prepare(s: ParsedStatement): Prepared {
  const opening = pick(s.balances, 'opening', 'interim_opening');
  const closing = pick(s.balances, 'closing', 'interim_closing');
  const bookings = s.entries.map((e) => e.bookingDate ?? e.valueDate).filter((d): d is string => !!d).map((d) => d.slice(0, 10)).sort();
  const statementDate = day(s.statementDate) ?? day(closing?.date) ?? day(s.toDate) ?? bookings[bookings.length - 1] ?? null;
  return {
    // A page of a paginated statement is its own statement (same id, another page).
    s, family: familyOf(s.format), sequence: (s.sequence ?? '') + (s.page ? `/p${s.page}` : ''), hash: contentHash(s),
    opening: opening?.amount ?? null, closing: closing?.amount ?? null,
    fromDate: day(s.fromDate) ?? bookings[0] ?? statementDate, toDate: day(s.toDate) ?? statementDate, statementDate,
  };
}

async function linksOf(db: Pool | Client, accounts: string[]): Promise<Map<string, string>> {
  const r = await db.query<{ statement_account: string; ledger_account: string }>(
    'SELECT statement_account, ledger_account FROM recon_links WHERE statement_account = ANY($1)', [accounts]);
  return new Map(r.rows.map((x) => [x.statement_account, x.ledger_account]));
}

const summaryOf = (p: Prepared, id: string | null, status: StatementSummary['status'], linked: string | null): StatementSummary => ({
  id, account: p.s.account, kind: p.s.kind, format: p.s.format, statementId: p.s.statementId, sequence: p.s.sequence,
  currency: p.s.currency, opening: p.opening, closing: p.closing, entries: p.s.kind === 'cash' ? p.s.entries.length : p.s.holdings.length,
  check: p.s.check, status, linked,
});

/**
 * Import a statement file (camt.052/053/054, MT940/950, semt.002, MT535 or CSV with a mapping).
 * @throws DomainError from the parser when the file cannot be read (nothing stored);
 *   RECON_STATEMENT_CONFLICT (conflict) when a statement already stored comes with other content
 */
export async function importStatementFile(pool: Pool, text: string, opts: { fileName?: string; csvMapping?: CsvMapping } = {}, ctx: Partial<ReconCtx> = {}): Promise<ImportResult> {
  const fileHash = sha256(text);
  const known = await fileImported(pool, fileHash, opts.fileName ?? null);
  if (known) return known;
  const parsed = parseStatementFile(text, { ...(opts.fileName ? { fileName: opts.fileName } : {}), ...(opts.csvMapping ? { csvMapping: opts.csvMapping } : {}) });
  return storeStatements(pool, parsed, { hash: fileHash, name: opts.fileName ?? null }, ctx);
}

/** The summaries of a file imported before (all its statements: duplicates), or null. */
async function fileImported(db: Pool | Client, hash: string, name: string | null): Promise<ImportResult | null> {
  const f = await db.query<{ statements: string[] }>('SELECT statements FROM recon_files WHERE hash = $1', [hash]);
  if (!f.rows[0]) return null;
  const order = f.rows[0].statements;
  const list = (await listStatements(db, { ids: order })).sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
  return {
    file: name, fileHash: hash, duplicateFile: true, refused: 0,
    statements: list.map((s) => ({
      id: s.id, account: s.account, kind: s.kind, format: s.format, statementId: s.statementId, sequence: s.sequence,
      currency: s.currency, opening: s.opening, closing: s.closing, entries: s.entries, check: s.check, status: 'duplicate', linked: s.linked,
    })),
  };
}

/**
 * Store parsed statements (what importStatementFile does after parsing; tests and other formats
 * call it directly). One transaction.
 * @throws DomainError RECON_STATEMENT_CONFLICT (conflict) naming each statement whose content changed
 */
export async function storeStatements(pool: Pool, parsed: ParsedStatement[], file: { hash: string; name: string | null }, ctx: Partial<ReconCtx> = {}): Promise<ImportResult> {
  const { actor, clock } = ctxOf(ctx);
  return withTx(pool, async (c) => {
    await lockImports(c);
    const again = await fileImported(c, file.hash, file.name);
    if (again) return again;
    const at = clock.now();
    const prepared = parsed.map(prepare);
    const identity = (p: Prepared) => `${p.s.account}\u0000${p.family}\u0000${p.s.statementId}\u0000${p.sequence}`;
    const existing = await c.query<{ id: string; account: string; family: string; statement_id: string; sequence: string; content_hash: string }>(
      `SELECT id, account, family, statement_id, sequence, content_hash FROM recon_statements
        WHERE (account, family, statement_id, sequence) IN (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]))`,
      [prepared.map((p) => p.s.account), prepared.map((p) => p.family), prepared.map((p) => p.s.statementId), prepared.map((p) => p.sequence)]);
    const stored = new Map(existing.rows.map((r) => [`${r.account}\u0000${r.family}\u0000${r.statement_id}\u0000${r.sequence}`, r]));
    const links = await linksOf(c, [...new Set(prepared.map((p) => p.s.account))]);

    const out: StatementSummary[] = [];
    const conflicts: ErrorDetail[] = [];
    const fresh: { p: Prepared; id: string }[] = [];
    const inFile = new Map<string, { hash: string; id: string }>();
    prepared.forEach((p, i) => {
      const linked = links.get(p.s.account) ?? null;
      const record = `statement #${i + 1} ${p.s.statementId} (account ${p.s.account})`;
      if (p.s.refused) { out.push(summaryOf(p, null, 'refused', linked)); return; }
      const prior = stored.get(identity(p)) ?? (inFile.has(identity(p)) ? { id: inFile.get(identity(p))!.id, content_hash: inFile.get(identity(p))!.hash } : undefined);
      if (prior) {
        if (prior.content_hash === p.hash) out.push(summaryOf(p, prior.id, 'duplicate', linked));
        else conflicts.push({ record, field: 'statementId', rule: 'STATEMENT_CONTENT_CHANGED', message: `${record}: ${p.family} statement ${p.s.statementId}${p.sequence ? ` sequence ${p.sequence}` : ''} is already stored (${prior.id}) with other content` });
        return;
      }
      const id = newId('rst');
      inFile.set(identity(p), { hash: p.hash, id });
      fresh.push({ p, id });
      out.push(summaryOf(p, id, 'stored', linked));
    });
    if (conflicts.length) {
      throw reconError(ReconCodes.STATEMENT_CONFLICT, 'conflict', `${file.name ?? 'statement file'}: ${conflicts.length === 1 ? conflicts[0]!.message : `${conflicts.length} statements were already stored with other content; first: ${conflicts[0]!.message}`}; nothing was stored`, conflicts);
    }

    if (fresh.length) {
      const total = fresh.reduce((a, x) => a + (x.p.s.kind === 'cash' ? x.p.s.entries.length : x.p.s.holdings.length), 0);
      const firstLine = total ? BigInt((await c.query<{ last: bigint }>(`SELECT setval('recon_line_seq', nextval('recon_line_seq') + $1 - 1) AS last`, [total])).rows[0]!.last) - BigInt(total) + 1n : 0n;
      const ranges: (string | null)[][] = [];
      let next = firstLine;
      for (const x of fresh) {
        const n = BigInt(x.p.s.kind === 'cash' ? x.p.s.entries.length : x.p.s.holdings.length);
        ranges.push(n ? [next.toString(), (next + n - 1n).toString()] : [null, null]);
        next += n;
      }
      const col = <T>(f: (x: { p: Prepared; id: string }) => T) => fresh.map(f);
      await c.query(
        `INSERT INTO recon_statements (id, account, family, statement_id, sequence, kind, format, message_id, servicer, currency, created_in_file,
           from_date, to_date, statement_date, opening, closing, balances, check_result, line_count, content_hash, file_hash, first_line, last_line,
           file_name, imported_at, imported_by)
         SELECT *, $22::text, $23::timestamptz, $24::text FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
           $9::text[], $10::text[], $11::text[], $12::date[], $13::date[], $14::date[], $15::numeric[], $16::numeric[], $17::jsonb[], $18::text[], $19::int[], $20::text[], $21::text[],
           $25::bigint[], $26::bigint[])`,
        [col((x) => x.id), col((x) => x.p.s.account), col((x) => x.p.family), col((x) => x.p.s.statementId), col((x) => x.p.sequence), col((x) => x.p.s.kind),
          col((x) => x.p.s.format), col((x) => x.p.s.messageId), col((x) => x.p.s.servicer), col((x) => x.p.s.currency), col((x) => x.p.s.createdAt),
          col((x) => x.p.fromDate), col((x) => x.p.toDate), col((x) => x.p.statementDate), col((x) => x.p.opening), col((x) => x.p.closing),
          col((x) => JSON.stringify(x.p.s.balances)), col((x) => x.p.s.check), col((x) => (x.p.s.kind === 'cash' ? x.p.s.entries.length : x.p.s.holdings.length)),
          col((x) => x.p.hash), col(() => file.hash), file.name, at.toISOString(), actor, ranges.map((r) => r[0]), ranges.map((r) => r[1])]);
      if (total) await writeLines(c, fresh, firstLine);
    }
    await c.query('INSERT INTO recon_files (hash, file_name, statements, imported_at, imported_by) VALUES ($1, $2, $3, $4, $5)',
      [file.hash, file.name, out.filter((s) => s.id).map((s) => s.id), at.toISOString(), actor]);
    if (fresh.length) {
      await lockBooks(c);
      await appendAudit(c, fresh.map(({ p, id }) => ({
        actor, action: 'recon.statement.import', entity: 'recon_statements', entityId: id,
        data: { account: p.s.account, format: p.s.format, statementId: p.s.statementId, sequence: p.s.sequence, lines: p.s.kind === 'cash' ? p.s.entries.length : p.s.holdings.length, check: p.s.check, file: file.name, fileHash: file.hash },
        rowHash: p.hash, at,
      })));
    }
    return { file: file.name, fileHash: file.hash, duplicateFile: false, statements: out, refused: out.filter((s) => s.status === 'refused').length };
  });
}

const LINE_COLUMNS = ['id', 'statement', 'account', 'idx', 'amount', 'currency', 'booking_date', 'value_date', 'status', 'servicer_ref', 'our_ref', 'refs',
  'tx_count', 'bank_tx_code', 'counterparty', 'remittance', 'info', 'security', 'quantity_type', 'price', 'price_currency'];

async function writeLines(c: Client, fresh: { p: Prepared; id: string }[], first: bigint): Promise<void> {
  let next = first;
  function* rows() {
    for (const { p, id } of fresh) {
      const s = p.s;
      if (s.kind === 'cash') {
        for (const e of s.entries) {
          yield [next++, id, s.account, e.index, e.amount, e.currency, day(e.bookingDate), day(e.valueDate), e.status || 'BOOK', e.servicerRef, e.ourRef,
            e.refs, e.transactionCount, e.bankTxCode, e.counterpartyName, e.remittance, e.additionalInfo, null, null, null, null];
        }
      } else {
        for (const h of s.holdings) {
          yield [next++, id, s.account, h.index, h.quantity, null, p.statementDate, null, 'BOOK', null, null, [], 1, null, null, null, null,
            h.security, h.quantityType, h.price, h.priceCurrency];
        }
      }
    }
  }
  await copyIn(c, 'recon_lines', LINE_COLUMNS, rows());
}

/** A stored statement, as listed. */
export interface StatementRow {
  id: string;
  account: string;
  kind: 'cash' | 'holdings';
  format: string;
  family: string;
  statementId: string;
  sequence: string | null;
  messageId: string;
  servicer: string | null;
  currency: string | null;
  fromDate: string | null;
  toDate: string | null;
  statementDate: string | null;
  opening: string | null;
  closing: string | null;
  balances: StatementBalance[];
  entries: number;
  check: string;
  fileName: string | null;
  importedAt: string;
  importedBy: string;
  /** The linked ledger account, or null while unlinked. */
  linked: string | null;
  /** Lines matched so far, and open breaks holding a line of this statement. */
  matched: number;
  openBreaks: number;
}

/** Stored statements, newest first; filtered by account (statement account) or ids. */
export async function listStatements(db: Pool | Client, q: { account?: string; ids?: string[]; linked?: boolean; limit?: number } = {}): Promise<StatementRow[]> {
  const { rows } = await db.query(
    `SELECT s.id, s.account, s.kind, s.format, s.family, s.statement_id, s.sequence, s.message_id, s.servicer, s.currency, s.from_date, s.to_date,
            s.statement_date, s.opening::text AS opening, s.closing::text AS closing, s.balances, s.line_count, s.check_result, s.file_name,
            s.imported_at, s.imported_by, l.ledger_account,
            s.matched_lines AS matched, (SELECT count(*)::int FROM recon_breaks b WHERE b.status = 'open' AND b.statement = s.id) AS open_breaks
       FROM recon_statements s LEFT JOIN recon_links l ON l.statement_account = s.account
      WHERE ($1::text IS NULL OR s.account = $1) AND ($2::text[] IS NULL OR s.id = ANY($2))
        AND ($3::boolean IS NULL OR (l.statement_account IS NOT NULL) = $3)
      ORDER BY s.statement_date DESC NULLS LAST, s.imported_at DESC, s.id DESC LIMIT $4`,
    [q.account ?? null, q.ids ?? null, q.linked ?? null, Math.min(q.limit ?? 1000, 10_000)]);
  return rows.map((r) => ({
    id: r.id, account: r.account, kind: r.kind, format: r.format, family: r.family, statementId: r.statement_id, sequence: r.sequence || null,
    messageId: r.message_id, servicer: r.servicer, currency: r.currency, fromDate: r.from_date, toDate: r.to_date, statementDate: r.statement_date,
    opening: r.opening, closing: r.closing, balances: r.balances, entries: r.line_count, check: r.check_result, fileName: r.file_name,
    importedAt: r.imported_at, importedBy: r.imported_by, linked: r.ledger_account ?? null, matched: r.matched, openBreaks: r.open_breaks,
  }));
}
