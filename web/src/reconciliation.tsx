/**
 * Reconciliation: the API client of /api/reconciliation and the pieces of its page (badges,
 * the break type labels). Amounts stay decimal strings.
 */
import { Badge } from '@mantine/core';
import { api, type Query } from './api';
import type { Role } from './api';

export type BreakType = 'missing_ours' | 'missing_theirs' | 'amount_differs' | 'quantity_differs' | 'date_differs';

export interface StatementRow {
  id: string;
  account: string;
  kind: 'cash' | 'holdings';
  format: string;
  statementId: string;
  sequence: string | null;
  currency: string | null;
  fromDate: string | null;
  toDate: string | null;
  statementDate: string | null;
  opening: string | null;
  closing: string | null;
  entries: number;
  check: string;
  fileName: string | null;
  importedAt: string;
  importedBy: string;
  linked: string | null;
  matched: number;
  openBreaks: number;
}

export interface MatchInfo { id: string; rule: string; method: 'auto' | 'manual' | 'adjustment'; reason: string | null; at: string; by: string }

export interface StatementLine {
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
  counterparty: string | null;
  remittance: string | null;
  security: string | null;
  match: MatchInfo | null;
  breakId: string | null;
  breakType: BreakType | null;
}

export interface OurMovement {
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

export interface OurPosition { asset: string; isin: string | null; quantity: string; match: MatchInfo | null; breakId: string | null; breakType: BreakType | null }

export interface StatementView { statement: StatementRow; lines: StatementLine[]; ours: OurMovement[]; positions: OurPosition[]; oursLimited: boolean }

export interface ImportSummary {
  statements: { id: string | null; account: string; statementId: string; currency: string | null; opening: string | null; closing: string | null; entries: number; check: string; status: 'stored' | 'duplicate' | 'refused'; linked: string | null }[];
  refused: number;
  duplicateFile: boolean;
}

export interface Adjustment {
  id: string;
  breakId: string;
  status: 'proposed' | 'approved' | 'rejected' | 'withdrawn';
  entry: { key: string; date: string; memo?: string; postings: { account: string; asset: string; amount: string }[] };
  proposedBy: string;
  proposedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  reason: string | null;
  entryId: string | null;
}

export interface Break {
  id: string;
  account: string;
  ledgerAccount: string | null;
  type: BreakType;
  status: 'open' | 'resolved';
  resolution: string | null;
  date: string;
  ageDays: number;
  bucket: string;
  unit: string;
  theirs: string | null;
  ours: string | null;
  difference: string | null;
  statement: string | null;
  asset: string | null;
  items: {
    theirs: { lineId: string; statementId: string; index: number; date: string | null; amount: string; ourRef: string | null; description: string | null; security: string | null }[];
    ours: { entryId: string; entryKey: string; date: string; amount: string; memo: string }[];
  };
  assignee: string | null;
  comments: number;
  pendingAdjustment: Adjustment | null;
  foundAt: string;
  resolvedAt: string | null;
  resolvedBy: string | null;
  matchId: string | null;
  entryId: string | null;
}

export interface BreakDetail extends Break {
  history: { at: string; actor: string; action: string; data: Record<string, unknown> }[];
  adjustments: Adjustment[];
}

export interface BreakList { asOf: string; total: number; breaks: Break[]; aging: { bucket: string; count: number; byType: Partial<Record<BreakType, number>> }[] }

export interface RunSummary {
  runId: string;
  account: string;
  ledgerAccount: string;
  asOf: string;
  matched: { total: number; lines: number; ours: number; byRule: Record<string, number> };
  breaks: { found: number; unchanged: number; resolved: number; open: number; byType: Partial<Record<BreakType, number>> };
  balances: { statementId: string; date: string; theirs: string; ours: string; difference: string }[];
}

export interface Link { statementAccount: string; kind: 'cash' | 'holdings'; ledgerAccount: string; asset: string | null; rules: { rule: string; params: Record<string, unknown> }[] }

const base = '/api/reconciliation';
const enc = encodeURIComponent;

export const recon = {
  statements: (query: Query, signal?: AbortSignal) => api<StatementRow[]>(`${base}/statements`, { query, signal }),
  statement: (id: string, signal?: AbortSignal) => api<StatementView>(`${base}/statements/${enc(id)}`, { signal }),
  importFile: (fileName: string, content: string) => api<ImportSummary>(`${base}/statements/import`, { body: { fileName, content } }),
  links: (signal?: AbortSignal) => api<Link[]>(`${base}/links`, { signal }),
  link: (body: { statementAccount: string; ledgerAccount: string; asset?: string }) => api<Link>(`${base}/links`, { body }),
  run: (account: string, date: string) => api<RunSummary>(`${base}/runs`, { body: { account, date } }),
  breaks: (query: Query, signal?: AbortSignal) => api<BreakList>(`${base}/breaks`, { query, signal }),
  break: (id: string, signal?: AbortSignal) => api<BreakDetail>(`${base}/breaks/${enc(id)}`, { signal }),
  assign: (id: string, assignee: string | null) => api<BreakDetail>(`${base}/breaks/${enc(id)}/assign`, { body: { assignee } }),
  comment: (id: string, text: string) => api<BreakDetail>(`${base}/breaks/${enc(id)}/comments`, { body: { text } }),
  match: (breaks: string[], reason: string) => api<BreakDetail[]>(`${base}/breaks/match`, { body: { breaks, reason } }),
  propose: (id: string, body: { offsetAccount: string; amount?: string; date?: string; memo?: string }) => api<Adjustment>(`${base}/breaks/${enc(id)}/adjustments`, { body }),
  approve: (id: string) => api<{ adjustment: Adjustment; break: BreakDetail }>(`${base}/adjustments/${enc(id)}/approve`, { body: {} }),
  reject: (id: string, reason: string) => api<{ adjustment: Adjustment; break: BreakDetail }>(`${base}/adjustments/${enc(id)}/reject`, { body: { reason } }),
};

export const BREAK_LABELS: Record<BreakType, string> = {
  missing_ours: 'not in our books',
  missing_theirs: 'not on the statement',
  amount_differs: 'amount differs',
  quantity_differs: 'quantity differs',
  date_differs: 'date differs',
};
const BREAK_COLORS: Record<BreakType, string> = { missing_ours: 'red', missing_theirs: 'orange', amount_differs: 'grape', quantity_differs: 'grape', date_differs: 'yellow' };

export function BreakTypeBadge({ type }: { type: BreakType }) {
  return (
    <Badge variant="light" color={BREAK_COLORS[type] ?? 'gray'} data-break-type={type}>
      {BREAK_LABELS[type] ?? type}
    </Badge>
  );
}

/** Who may work breaks and who may approve adjustments (the server decides; the UI hides what it would refuse). */
export const canManageRecon = (role: Role | undefined) => !!role && ['admin', 'operations', 'finance'].includes(role);
export const canApproveRecon = (role: Role | undefined) => !!role && ['admin', 'finance'].includes(role);
