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
  body?: unknown;
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
  const { method = options.body === undefined ? 'GET' : 'POST', query, body, signal } = options;
  const headers: Record<string, string> = { Accept: 'application/json, application/problem+json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';

  const res = await fetch(withQuery(path, query), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
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
  postings: Posting[];
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

export const audit = {
  verify: () => api<AuditVerification>('/api/audit/verify'),
};
