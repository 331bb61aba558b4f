/**
 * Thin typed client for the Backoffice HTTP API.
 *
 * Amounts are decimal strings end to end: the UI never turns them into JS numbers, so what the
 * ledger booked is exactly what is shown and exported.
 */

/** RFC 9457 problem details, as every API error is reported. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code?: string;
  errors?: unknown;
}

/** An API call that failed; `message` is the problem's `detail` (or title) for display. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem | undefined;

  constructor(status: number, message: string, problem?: Problem) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
  }
}

export type Query = Record<string, string | number | undefined | null>;

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  query?: Query;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as it is, as text/plain (a file's content); instead of `body`. */
  text?: string;
  signal?: AbortSignal;
  /**
   * Leave 401 to the caller instead of sending the browser to /login. The login form needs this:
   * there a 401 means "wrong password", not "session expired".
   */
  noAuthRedirect?: boolean;
}

/** Builds `path?query`, leaving out empty parameters so "no filter" is never sent as `x=`. */
export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const { query, body, text: plain, signal } = options;
  const { method = body === undefined && plain === undefined ? 'GET' : 'POST' } = options;
  const headers: Record<string, string> = { Accept: 'application/json, application/problem+json' };
  if (plain !== undefined) headers['Content-Type'] = 'text/plain; charset=utf-8';
  else if (body !== undefined) headers['Content-Type'] = 'application/json';

  const res = await fetch(withQuery(path, query), {
    method,
    headers,
    body: plain !== undefined ? plain : body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
    signal,
  });

  if (res.status === 401 && !options.noAuthRedirect && window.location.pathname !== '/login') {
    // Session missing or expired: a full navigation also drops any state of the old session.
    window.location.assign('/login');
    throw new ApiError(401, 'Not signed in');
  }

  const text = await res.text();
  let payload: unknown;
  if (text) {
    try {
      payload = JSON.parse(text);
    } catch {
      payload = undefined;
    }
  }

  if (!res.ok) {
    const problem = isProblem(payload) ? payload : undefined;
    const message =
      problem?.detail || problem?.title || `${res.status} ${res.statusText || 'Request failed'}`;
    throw new ApiError(res.status, message, problem);
  }
  return payload as T;
}

function isProblem(value: unknown): value is Problem {
  return typeof value === 'object' && value !== null && 'status' in value && 'title' in value;
}

/** Human-readable text for anything a call may throw. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

// ---- Contract types ------------------------------------------------------------------------

export const ROLES = ['admin', 'operations', 'finance', 'compliance', 'hr', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  name: string;
  role: Role;
}

export interface Asset {
  code: string;
  scale: number;
  kind: 'currency' | 'security';
  name: string;
}

export const ACCOUNT_TYPES = ['asset', 'liability', 'equity', 'income', 'expense'] as const;
export type AccountType = (typeof ACCOUNT_TYPES)[number];

export interface Account {
  name: string;
  type: AccountType;
  owner: string | null;
  noNegative: boolean;
  createdAt: string;
}

export interface NewAccount {
  name: string;
  type: AccountType;
  owner?: string;
  noNegative?: boolean;
}

export interface Posting {
  account: string;
  asset: string;
  amount: string;
}

export interface Entry {
  id: string;
  key: string;
  date: string;
  memo: string;
  recordedAt: string;
  createdBy: string;
  reverses: string | null;
  /** In the journal list, the first 20 postings of each entry; its own page has them all. */
  postings: Posting[];
  /** How many postings the entry has. */
  postingCount: number;
}

export interface Page<T> {
  items: T[];
  /** Pass as `before` to get the next page; null when there is none. */
  next: string | null;
}

export interface EntryFilter {
  from?: string;
  to?: string;
  account?: string;
  asset?: string;
  limit?: number;
  before?: string;
}

export interface Balance {
  account: string;
  asset: string;
  balance: string;
}

export interface ActivityRow {
  entryId: string;
  date: string;
  memo: string;
  amount: string;
  balance: string;
}

export interface Activity {
  account: string;
  asset: string;
  opening: string;
  rows: ActivityRow[];
}

export interface TrialBalanceRow {
  account: string;
  type: AccountType;
  asset: string;
  debit: string;
  credit: string;
}

export interface TrialBalance {
  asOf: string;
  rows: TrialBalanceRow[];
  totals: { asset: string; debit: string; credit: string }[];
}

export const TRADE_SIDES = ['buy', 'sell', 'short'] as const;
export type TradeSide = (typeof TRADE_SIDES)[number];
export const TRADE_STATUSES = ['booked', 'canceled', 'corrected'] as const;
export type TradeStatus = (typeof TRADE_STATUSES)[number];

/** A booked execution. Quantities, prices and money are decimal strings. */
export interface Trade {
  id: string;
  source: string;
  execId: string;
  orderId: string | null;
  account: string;
  symbol: string;
  side: TradeSide;
  quantity: string;
  price: string;
  currency: string;
  tradeDate: string;
  settleDate: string;
  settleProvisional: boolean;
  counterparty: string;
  gross: string;
  commission: string;
  secFee: string;
  finraTaf: string;
  net: string;
  status: TradeStatus;
  entryId: string;
  reversalEntryId: string | null;
  replaces: string | null;
}

export interface TradeFilter {
  date?: string;
  from?: string;
  to?: string;
  account?: string;
  symbol?: string;
  side?: string;
  status?: string;
  limit?: number;
}

export type PositionBasis = 'trade' | 'settlement';

export interface Position {
  account: string;
  security: string;
  /** Negative for a short position. */
  quantity: string;
  basis: PositionBasis;
  asOf: string | null;
  price: string | null;
  priceDate: string | null;
  marketValue: string | null;
  costBasis: string | null;
  unrealizedPnl: string | null;
  currency: string;
}

export interface PositionFilter {
  account?: string;
  security?: string;
  asOf?: string;
  basis?: PositionBasis;
}

export interface Lot {
  symbol: string;
  lotId: string;
  tradeId: string;
  openDate: string;
  quantity: string;
  remaining: string;
  unitCost: string;
}

export interface RealizedPnl {
  symbol: string;
  saleTrade: string;
  lotId: string;
  quantity: string;
  proceeds: string;
  cost: string;
  pnl: string;
  tradeDate: string;
}

export interface CashAvailable {
  account: string;
  type: string;
  currency: string;
  available: string;
  balance: string;
}

export interface CustomerAccount {
  account: string;
  name: string;
  type: string;
  currency: string;
  status: string;
  taxResidency: string | null;
  feeSchedule: string;
}

export interface Security {
  symbol: string;
  name: string;
  isin: string | null;
  cusip: string | null;
  assetClass: string;
  currency: string;
  mic: string;
  scale: number;
  multiplier: string;
}

export interface Inventory {
  security: string;
  asOf: string | null;
  customers: { account: string; quantity: string }[];
  firm: { ledgerAccount: string; quantity: string }[];
  customerTotal: string;
}

export interface Price {
  symbol: string;
  date: string;
  price: string;
  currency: string;
}

export const IMPORT_FORMATS = ['fix', 'csv', 'json'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export interface ImportResult {
  received: number;
  booked: number;
  duplicates: number;
  ignored: number;
  quarantined: { record: string; reason: string; id: string }[];
}

export interface RetryResult extends ImportResult {
  /** True when the record is booked (or known) now and left the quarantine. */
  resolved: boolean;
}

export interface QuarantinedRecord {
  id: string;
  source: string;
  record: string;
  format: string;
  raw: string;
  reason: string;
  field: string | null;
  rule: string | null;
  status: string;
  receivedAt: string;
}

export interface AuditVerification {
  ok: boolean;
  checked: number;
  firstBroken: null | { table: string; id: string; reason: string };
}

// ---- Endpoints -----------------------------------------------------------------------------

const enc = encodeURIComponent;

export const auth = {
  login: (username: string, password: string) =>
    api<{ user: User }>('/api/auth/login', {
      body: { username, password },
      noAuthRedirect: true,
    }),
  logout: () => api<void>('/api/auth/logout', { method: 'POST' }),
  me: (signal?: AbortSignal) => api<{ user: User }>('/api/auth/me', { signal }),
};

export const ledger = {
  assets: (signal?: AbortSignal) => api<Asset[]>('/api/ledger/assets', { signal }),
  accounts: (signal?: AbortSignal) => api<Account[]>('/api/ledger/accounts', { signal }),
  openAccount: (account: NewAccount) => api<Account>('/api/ledger/accounts', { body: account }),
  entries: (filter: EntryFilter, signal?: AbortSignal) =>
    api<Page<Entry>>('/api/ledger/entries', { query: { ...filter }, signal }),
  entry: (id: string, signal?: AbortSignal) =>
    api<Entry>(`/api/ledger/entries/${enc(id)}`, { signal }),
  reverse: (id: string, memo?: string) =>
    api<Entry>(`/api/ledger/entries/${enc(id)}/reverse`, { body: memo ? { memo } : {} }),
  balances: (query: { asOf?: string; account?: string }, signal?: AbortSignal) =>
    api<Balance[]>('/api/ledger/balances', { query, signal }),
  activity: (
    account: string,
    query: { asset: string; from?: string; to?: string },
    signal?: AbortSignal,
  ) => api<Activity>(`/api/ledger/accounts/${enc(account)}/activity`, { query, signal }),
  trialBalance: (asOf: string, signal?: AbortSignal) =>
    api<TrialBalance>('/api/ledger/trial-balance', { query: { asOf }, signal }),
};

export const trading = {
  trades: (filter: TradeFilter, signal?: AbortSignal) =>
    api<Trade[]>('/api/trades', { query: { ...filter }, signal }),
  positions: (filter: PositionFilter, signal?: AbortSignal) =>
    api<Position[]>('/api/positions', { query: { ...filter }, signal }),
  lots: (account: string, signal?: AbortSignal) =>
    api<Lot[]>(`/api/trading/accounts/${enc(account)}/lots`, { signal }),
  realized: (account: string, signal?: AbortSignal) =>
    api<RealizedPnl[]>(`/api/trading/accounts/${enc(account)}/realized`, { signal }),
  cash: (account: string, signal?: AbortSignal) =>
    api<CashAvailable>(`/api/trading/accounts/${enc(account)}/cash`, { signal }),
  inventory: (symbol: string, asOf: string | undefined, signal?: AbortSignal) =>
    api<Inventory>(`/api/inventory/${enc(symbol)}`, { query: { asOf }, signal }),
  /** Books a file of executions; `text` is the file's content exactly as read. */
  importFile: (text: string, format: ImportFormat) =>
    api<ImportResult>('/api/trades/import', { query: { format }, text }),
  quarantine: (signal?: AbortSignal) => api<QuarantinedRecord[]>('/api/trades/quarantine', { signal }),
  /** Retries a quarantined record, as stored or with a corrected `raw`. */
  retry: (id: string, raw?: string) =>
    api<RetryResult>(`/api/trades/quarantine/${enc(id)}/retry`, { body: raw === undefined ? {} : { raw } }),
};

export const REFERENCE_KINDS = ['securities', 'accounts', 'counterparties', 'fees', 'prices'] as const;
export type ReferenceKind = (typeof REFERENCE_KINDS)[number];
export interface ReferenceImportSummary { received: number; created: number; updated: number; unchanged: number }

export const reference = {
  /** Imports a reference-data CSV (all or nothing). */
  importCsv: (kind: ReferenceKind, text: string) =>
    api<ReferenceImportSummary>(`/api/reference/import/${kind}`, { text }),
  accounts: (signal?: AbortSignal) => api<CustomerAccount[]>('/api/reference/accounts', { signal }),
  securities: (signal?: AbortSignal) => api<Security[]>('/api/reference/securities', { signal }),
  security: (symbol: string, signal?: AbortSignal) =>
    api<Security>(`/api/reference/securities/${enc(symbol)}`, { signal }),
  /** The latest price, or null when the security has none (404). */
  latestPrice: async (symbol: string, signal?: AbortSignal): Promise<Price | null> => {
    try {
      return await api<Price>(`/api/prices/${enc(symbol)}/latest`, { signal });
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return null;
      throw err;
    }
  },
};

export const audit = {
  verify: () => api<AuditVerification>('/api/audit/verify'),
};

// ---- Settlement ----------------------------------------------------------------------------

export const OBLIGATION_STATUSES = ['pending', 'instructed', 'matched', 'settled', 'partially_settled', 'failed'] as const;
export type ObligationStatus = (typeof OBLIGATION_STATUSES)[number];

/**
 * A net settlement obligation with a counterparty in one security for one date. Quantity: positive
 * to receive, negative to deliver; cash: positive to receive, negative to pay (decimal strings).
 */
export interface Obligation {
  id: string;
  settleDate: string;
  counterparty: string;
  security: string;
  currency: string;
  quantity: string;
  cash: string;
  trades: number;
  fails: number;
  carriedQuantity: string;
  carriedCash: string;
  grossQuantity: string;
  grossCash: string;
  status: ObligationStatus;
  settledQuantity: string;
  settledCash: string;
  carriedInto: string | null;
}

export interface SettlementInstruction {
  obligationId: string;
  reference: string;
  messageId: string;
  settlementType: 'RVP' | 'DVP' | 'RFP' | 'DFP';
  file: string;
  format: 'sese023' | 'mt54x';
  placeBic: string;
  instructedAt: string;
}

export interface ObligationDetail {
  obligation: Obligation;
  instruction: SettlementInstruction | null;
  /** The instruction message, regenerated; `preview` when not instructed yet. */
  message: { format: 'sese023' | 'mt54x'; text: string; preview: boolean } | null;
  /** Why there is no message, when there is none. */
  messageUnavailable: string | null;
}

export interface CurrencyAmount {
  currency: string;
  amount: string;
}

export interface NettingReport {
  settleDate: string;
  gross: { obligations: number; trades: number; fails: number; quantity: string; cash: CurrencyAmount[] };
  net: { obligations: number; payments: number; quantity: string; cash: CurrencyAmount[] };
  reduction: { obligations: string; quantity: string; cash: { currency: string; percent: string }[] };
}

export const AGING_BUCKETS = ['1-5', '6-10', '11-20', '21-30', '>30'] as const;
export type AgingBucket = (typeof AGING_BUCKETS)[number];
export type FailDirection = 'fail_to_deliver' | 'fail_to_receive' | 'cash_only';

export interface Fail {
  obligationId: string;
  settleDate: string;
  counterparty: string;
  security: string;
  currency: string;
  market: string;
  status: ObligationStatus;
  direction: FailDirection;
  quantity: string;
  cash: string;
  remainingQuantity: string;
  remainingCash: string;
  age: number;
  bucket: AgingBucket;
  saleType: 'short' | 'long' | null;
  closeOutDue: string | null;
  closeOutOverdue: boolean;
  carriedInto: string | null;
}

export interface FailAlert {
  kind: 'CLOSE_OUT_DUE_TODAY' | 'CLOSE_OUT_OVERDUE';
  obligationId: string;
  counterparty: string;
  security: string;
  closeOutDue: string;
  remainingQuantity: string;
  message: string;
}

export interface FailBucket {
  bucket: AgingBucket;
  direction: FailDirection;
  count: number;
  value: CurrencyAmount[];
}

export interface FailsReport {
  asOf: string;
  fails: Fail[];
  alerts: FailAlert[];
  buckets: FailBucket[];
}

export type MatchStatus = 'matched' | 'mismatched' | 'unmatched';

export interface Confirmation {
  id: string;
  counterparty: string;
  confId: string;
  tradeDate: string;
  symbol: string;
  side: 'buy' | 'sell';
  quantity: string;
  price: string;
  settleDate: string | null;
  ourRef: string | null;
  affirmedAt: string | null;
  affirmedLate: boolean | null;
}

export interface MatchTrade {
  id: string;
  execId: string;
  account: string;
  counterparty: string;
  tradeDate: string;
  symbol: string;
  side: TradeSide;
  quantity: string;
  price: string;
  currency: string;
}

export interface ConfirmationMatch {
  status: MatchStatus;
  method: 'auto' | 'manual';
  confirmation: Confirmation | null;
  trade: MatchTrade | null;
  differences: { field: string; ours: string; theirs: string }[];
  reason: string | null;
}

export interface MatchReport {
  tradeDate: string;
  summary: { matched: number; mismatched: number; unmatchedConfirmations: number; unmatchedTrades: number };
  results: ConfirmationMatch[];
}

export const settlement = {
  obligations: (query: { settleDate: string; status?: string; counterparty?: string }, signal?: AbortSignal) =>
    api<Obligation[]>('/api/settlement/obligations', { query, signal }),
  obligation: (id: string, signal?: AbortSignal) =>
    api<ObligationDetail>(`/api/settlement/obligations/${enc(id)}`, { signal }),
  report: (settleDate: string, signal?: AbortSignal) =>
    api<NettingReport>('/api/settlement/report', { query: { settleDate }, signal }),
  fails: (asOf: string, signal?: AbortSignal) => api<FailsReport>('/api/settlement/fails', { query: { asOf }, signal }),
  matches: (date: string, signal?: AbortSignal) => api<MatchReport>('/api/settlement/matches', { query: { date }, signal }),
};
