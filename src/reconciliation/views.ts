/**
 * A statement beside our side: its lines, our movements of its period (or our positions as of its
 * date), each with the match that holds it (id, rule, how) or the open break it is in. Matched
 * pairs share a match id.
 */
import type { Client, Pool } from '../db/index.js';
import { fromMinor } from '../kernel/index.js';
import { likePrefix as ledgerLike } from '../ledger/index.js';
import { ReconCodes, reconError } from './errors.js';
import { listStatements, type StatementRow } from './store.js';
import type { BreakType } from './engine.js';

export interface MatchInfo {
  id: string;
  rule: string;
  method: 'auto' | 'manual' | 'adjustment';
  reason: string | null;
  at: string;
  by: string;
}

export interface StatementLineView {
  lineId: string;
  index: number;
  bookingDate: string | null;
  valueDate: string | null;
  amount: string;
  currency: string | null;
  status: string;
  ourRef: string | null;
  servicerRef: string | null;
  refs: string[];
  transactionCount: number;
  bankTxCode: string | null;
  counterparty: string | null;
  remittance: string | null;
  info: string | null;
  security: string | null;
  quantityType: string | null;
  match: MatchInfo | null;
  breakId: string | null;
  breakType: BreakType | null;
}

export interface OurMovementView {
  entryId: string;
  entryKey: string;
  line: number;
  account: string;
  date: string;
  amount: string;
  memo: string;
  match: MatchInfo | null;
  breakId: string | null;
  breakType: BreakType | null;
}

export interface PositionView {
  asset: string;
  isin: string | null;
  /** Our quantity as of the statement's date (or as matched). */
  quantity: string;
  match: MatchInfo | null;
  breakId: string | null;
  breakType: BreakType | null;
}

export interface StatementView {
  statement: StatementRow;
  lines: StatementLineView[];
  ours: OurMovementView[];
  positions: PositionView[];
  /** Our movements were cut at this many (the statement's period holds more). */
  oursLimited: boolean;
}

const MAX_OURS = 20_000;

const matchOf = (r: Record<string, unknown>): MatchInfo | null => (r.match_id === null || r.match_id === undefined ? null : {
  id: String(r.match_id), rule: r.rule as string, method: (r.kind === 'run' ? 'auto' : r.kind) as MatchInfo['method'],
  reason: (r.reason as string) ?? null, at: r.run_at as string, by: r.run_actor as string,
});

/**
 * One statement with its lines and our side.
 * @throws DomainError RECON_STATEMENT_NOT_FOUND
 */
export async function getStatementView(db: Pool | Client, id: string): Promise<StatementView> {
  const [statement] = await listStatements(db, { ids: [id] });
  if (!statement) throw reconError(ReconCodes.STATEMENT_NOT_FOUND, 'not_found', `statement ${id} does not exist`);
  const link = (await db.query<{ kind: string; ledger_account: string; asset: string | null }>('SELECT kind, ledger_account, asset FROM recon_links WHERE statement_account = $1', [statement.account])).rows[0];
  const breaks = await db.query<{ id: string; type: BreakType; line_ids: string[]; entry_seqs: string[]; posting_lines: number[]; statement: string | null; asset: string | null }>(
    `SELECT id, type, line_ids::text[] AS line_ids, entry_seqs::text[] AS entry_seqs, posting_lines, statement, asset FROM recon_breaks
      WHERE statement_account = $1 AND status = 'open'`, [statement.account]);
  const breakOfLine = new Map<string, { id: string; type: BreakType }>();
  const breakOfOur = new Map<string, { id: string; type: BreakType }>();
  const breakOfPosition = new Map<string, { id: string; type: BreakType }>();
  for (const b of breaks.rows) {
    for (const l of b.line_ids) breakOfLine.set(l, b);
    b.entry_seqs.forEach((s, i) => breakOfOur.set(`${s}:${b.posting_lines[i]}`, b));
    if (b.statement === id && b.asset) breakOfPosition.set(b.asset, b);
  }
  const RUN = 'r.kind, r.reason, r.at AS run_at, r.actor AS run_actor';
  const lr = await db.query(
    `SELECT l.id::text AS id, l.idx, l.booking_date, l.value_date, l.amount::text AS amount, l.currency, l.status, l.our_ref, l.servicer_ref, l.refs, l.tx_count,
            l.bank_tx_code, l.counterparty, l.remittance, l.info, l.security, l.quantity_type, m.match_id, m.rule, ${RUN}
       FROM recon_lines l LEFT JOIN recon_match_items m ON m.line_id = l.id LEFT JOIN recon_runs r ON r.id = m.run_id
      WHERE l.statement = $1 ORDER BY l.idx`, [id]);
  const lines: StatementLineView[] = lr.rows.map((r) => ({
    lineId: r.id, index: r.idx, bookingDate: r.booking_date, valueDate: r.value_date, amount: r.amount, currency: r.currency, status: r.status,
    ourRef: r.our_ref, servicerRef: r.servicer_ref, refs: r.refs, transactionCount: r.tx_count, bankTxCode: r.bank_tx_code, counterparty: r.counterparty,
    remittance: r.remittance, info: r.info, security: r.security, quantityType: r.quantity_type, match: matchOf(r),
    breakId: breakOfLine.get(r.id)?.id ?? null, breakType: breakOfLine.get(r.id)?.type ?? null,
  }));
  let ours: OurMovementView[] = [];
  let positions: PositionView[] = [];
  let oursLimited = false;
  if (link?.kind === 'cash' && link.asset) {
    const from = statement.fromDate ?? statement.statementDate;
    const to = statement.statementDate ?? statement.toDate;
    const or = await db.query(
      `WITH acc AS (SELECT id, name FROM accounts WHERE name = $1 OR name LIKE $2),
            mine AS (SELECT m.entry_seq, m.posting_line FROM recon_match_items m WHERE m.entry_seq IS NOT NULL
                       AND m.match_id IN (SELECT m2.match_id FROM recon_match_items m2 JOIN recon_lines l ON l.id = m2.line_id WHERE l.statement = $5))
       SELECT p.entry_seq::text AS seq, p.line, e.id, e.idempotency_key, acc.name AS account, p.effective_date, p.amount::text AS amount, s.scale, e.memo,
              m.match_id, m.rule, ${RUN}
         FROM postings p JOIN acc ON acc.id = p.account_id JOIN journal_entries e ON e.seq = p.entry_seq JOIN assets s ON s.code = p.asset
         LEFT JOIN recon_match_items m ON m.entry_seq = p.entry_seq AND m.posting_line = p.line LEFT JOIN recon_runs r ON r.id = m.run_id
        WHERE p.asset = $3 AND ((p.effective_date BETWEEN $4::date AND $6::date) OR (p.entry_seq, p.line) IN (SELECT * FROM mine))
        ORDER BY p.effective_date, p.entry_seq, p.line LIMIT ${MAX_OURS + 1}`,
      [link.ledger_account, ledgerLike(link.ledger_account), link.asset, from ?? '0001-01-01', id, to ?? '9999-12-31']);
    oursLimited = or.rows.length > MAX_OURS;
    ours = or.rows.slice(0, MAX_OURS).map((r) => {
      const b = breakOfOur.get(`${r.seq}:${r.line}`);
      return {
        entryId: r.id, entryKey: r.idempotency_key, line: r.line, account: r.account, date: r.effective_date, amount: fromMinor(BigInt(r.amount), r.scale),
        memo: r.memo, match: matchOf(r), breakId: b?.id ?? null, breakType: b?.type ?? null,
      };
    });
  } else if (link?.kind === 'holdings' && statement.statementDate) {
    const pr = await db.query(
      `WITH pos AS (
         SELECT p.asset, sum(p.amount) AS q FROM postings p JOIN assets a ON a.code = p.asset AND a.kind = 'security'
          WHERE p.account_id IN (SELECT id FROM accounts WHERE name = $1 OR name LIKE $2) AND p.effective_date <= $3 GROUP BY p.asset)
       SELECT coalesce(pos.asset, m.asset) AS asset, sec.isin, s.scale, pos.q::text AS q, m.quantity::text AS matched_q, m.match_id, m.rule, ${RUN}
         FROM pos FULL JOIN (SELECT * FROM recon_match_items WHERE statement = $4 AND asset IS NOT NULL) m ON m.asset = pos.asset
         JOIN assets s ON s.code = coalesce(pos.asset, m.asset) LEFT JOIN securities sec ON sec.symbol = s.code
         LEFT JOIN recon_runs r ON r.id = m.run_id
        WHERE coalesce(pos.q, 0) <> 0 OR m.match_id IS NOT NULL ORDER BY 1`,
      [link.ledger_account, ledgerLike(link.ledger_account), statement.statementDate, id]);
    positions = pr.rows.map((r) => ({
      asset: r.asset, isin: r.isin, quantity: r.matched_q ?? fromMinor(BigInt(r.q ?? '0'), r.scale), match: matchOf(r),
      breakId: breakOfPosition.get(r.asset)?.id ?? null, breakType: breakOfPosition.get(r.asset)?.type ?? null,
    }));
  }
  return { statement, lines, ours, positions, oursLimited };
}
