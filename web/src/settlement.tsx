/**
 * Pieces shared by the settlement pages: the obligation status badge, the obligations grid, the
 * fails aging chart (plain divs: no chart package), the fail accounts, buy-ins and the day's
 * end-of-day cycle, with the API calls and types of those (fail balances, buy-ins, SSIs, the
 * cycle). Quantities and money stay decimal strings.
 */
import { Badge, Box, Button, Group, Paper, Stack, Table, Text, TextInput, Tooltip } from '@mantine/core';
import { useState } from 'react';
import type { ColDef } from 'ag-grid-community';
import { AgGridReact, type CustomCellRendererProps } from 'ag-grid-react';
import type { RefObject } from 'react';
import {
  AGING_BUCKETS,
  api,
  errorMessage,
  type Fail,
  type FailBucket,
  type FailDirection,
  type FailsReport,
  type Obligation,
  type ObligationDetail,
  type ObligationStatus,
} from './api';
import { useAuth } from './auth';
import { AppLink, ErrorAlert, amountStyle } from './components';
import { accountPath } from './format';
import { amountColumn, defaultColDef, gridTheme } from './grid';
import { pnlColumn, SecurityCell } from './trading';

/** Path of an obligation's page. */
export function obligationPath(id: string): string {
  return `/settlement/obligations/${encodeURIComponent(id)}`;
}

/** The calendar day `n` days after `date` (YYYY-MM-DD). */
export function nextDay(date: string, n = 1): string {
  const d = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return date;
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/**
 * The first US settlement day after `date` (NYSE open and the Federal Reserve too), from the
 * server's calendar: after a Friday, the Monday; after the day before Thanksgiving, the Friday.
 */
export async function nextSettlementDay(date: string, signal?: AbortSignal): Promise<string> {
  const r = await api<{ days: string[] }>('/api/calendar/business-days', { query: { market: 'XNYS', from: nextDay(date), to: nextDay(date, 14), kind: 'settlement' }, signal });
  return r.days[0] ?? nextDay(date);
}

const OBLIGATION_COLORS: Record<ObligationStatus, string> = {
  pending: 'gray',
  instructed: 'blue',
  matched: 'cyan',
  settled: 'green',
  partially_settled: 'orange',
  failed: 'red',
};

export function obligationStatusLabel(status: string): string {
  return status.replace(/_/g, ' ');
}

export function ObligationStatusBadge({ status }: { status: string }) {
  return (
    <Badge variant="light" color={OBLIGATION_COLORS[status as ObligationStatus] ?? 'gray'} data-status={status}>
      {obligationStatusLabel(status)}
    </Badge>
  );
}

function ObligationStatusCell({ value }: CustomCellRendererProps<unknown, string>) {
  return value ? <ObligationStatusBadge status={value} /> : null;
}

/** An obligation id, linking to its page. */
export function ObligationCell({ value }: CustomCellRendererProps<unknown, string>) {
  return value ? <AppLink to={obligationPath(value)}>{value}</AppLink> : null;
}

const obligationColumns: ColDef<Obligation>[] = [
  { field: 'settleDate', headerName: 'Settle date', width: 125, sort: 'asc', sortIndex: 0 },
  { field: 'status', headerName: 'Status', width: 150, cellRenderer: ObligationStatusCell, sort: 'asc', sortIndex: 1 },
  { field: 'counterparty', headerName: 'Counterparty', width: 135 },
  { field: 'security', headerName: 'Security', width: 110, cellRenderer: SecurityCell },
  { field: 'quantity', headerName: 'Quantity', width: 130, ...pnlColumn },
  { field: 'cash', headerName: 'Cash', width: 150, ...pnlColumn },
  { field: 'currency', headerName: 'Ccy', width: 80 },
  { field: 'settledQuantity', headerName: 'Settled qty', width: 130, ...amountColumn },
  { field: 'settledCash', headerName: 'Settled cash', width: 150, ...amountColumn },
  { field: 'trades', headerName: 'Trades', width: 95, ...amountColumn },
  { field: 'fails', headerName: 'Fails carried', width: 120, ...amountColumn },
  { field: 'grossQuantity', headerName: 'Gross qty', width: 130, ...amountColumn },
  { field: 'grossCash', headerName: 'Gross cash', width: 150, ...amountColumn },
  { field: 'id', headerName: 'Obligation', width: 240, cellRenderer: ObligationCell },
];

export function ObligationsGrid({
  rows,
  loading,
  gridRef,
}: {
  rows: Obligation[] | undefined;
  loading: boolean;
  gridRef?: RefObject<AgGridReact<Obligation> | null>;
}) {
  return (
    <AgGridReact<Obligation>
      ref={gridRef}
      theme={gridTheme}
      rowData={rows ?? []}
      columnDefs={obligationColumns}
      defaultColDef={defaultColDef}
      getRowId={({ data }) => data.id}
      loading={loading}
      enableCellTextSelection
      suppressColumnVirtualisation
    />
  );
}

// ---- Fails aging chart -----------------------------------------------------------------------

const DIRECTIONS: { key: FailDirection; label: string; color: string }[] = [
  { key: 'fail_to_deliver', label: 'Fail to deliver', color: 'var(--mantine-color-red-6)' },
  { key: 'fail_to_receive', label: 'Fail to receive', color: 'var(--mantine-color-orange-5)' },
  { key: 'cash_only', label: 'Cash only', color: 'var(--mantine-color-gray-5)' },
];

/**
 * Fails per aging bucket (settlement days past the settlement date), one horizontal bar per
 * bucket, stacked by direction. Counts only: money in several currencies does not add up.
 */
export function FailsChart({ buckets }: { buckets: FailBucket[] }) {
  const count = (bucket: string, direction: FailDirection) =>
    buckets.filter((b) => b.bucket === bucket && b.direction === direction).reduce((n, b) => n + b.count, 0);
  const totals = AGING_BUCKETS.map((bucket) => DIRECTIONS.reduce((n, d) => n + count(bucket, d.key), 0));
  const max = Math.max(1, ...totals);

  return (
    <Box data-testid="fails-chart" role="figure" aria-label="Fails by age in settlement days">
      <Stack gap={6}>
        {AGING_BUCKETS.map((bucket, i) => (
          <Group key={bucket} gap="sm" wrap="nowrap" data-bucket={bucket} data-count={totals[i]}>
            <Text size="sm" w={70} ta="right" style={{ flexShrink: 0 }}>
              {bucket} d
            </Text>
            <Box style={{ flex: 1, display: 'flex', height: 20, background: 'var(--mantine-color-gray-1)', borderRadius: 4, overflow: 'hidden' }}>
              {DIRECTIONS.map((d) => {
                const n = count(bucket, d.key);
                return n > 0 ? (
                  <Tooltip key={d.key} label={`${d.label}: ${n}`}>
                    <Box style={{ width: `${(n / max) * 100}%`, background: d.color }} data-direction={d.key} />
                  </Tooltip>
                ) : null;
              })}
            </Box>
            <Text size="sm" w={40} style={{ fontVariantNumeric: 'tabular-nums', flexShrink: 0 }}>
              {totals[i]}
            </Text>
          </Group>
        ))}
      </Stack>
      <Group gap="md" mt="xs">
        {DIRECTIONS.map((d) => (
          <Group key={d.key} gap={4}>
            <Box w={12} h={12} style={{ background: d.color, borderRadius: 2 }} />
            <Text size="xs" c="dimmed">
              {d.label}
            </Text>
          </Group>
        ))}
      </Group>
    </Box>
  );
}

// ---- API: fail accounts, buy-ins, SSIs, the end-of-day cycle -------------------------------

/** A balance of a fail account of the ledger. */
export interface FailBalance {
  account: string;
  counterparty: string;
  direction: 'to_receive' | 'to_deliver';
  asset: string;
  balance: string;
}

/** A fail with what of it sits in its fail account (null: not booked yet). */
export type LedgerFail = Fail & { inLedger: { account: string; quantity: string; cash: string; failedOn: string } | null };

export type LedgerFailsReport = Omit<FailsReport, 'fails'> & { fails: LedgerFail[]; ledger: FailBalance[] };

export const BUY_IN_STATUSES = ['planned', 'notified', 'executed', 'cancelled'] as const;
export type BuyInStatus = (typeof BUY_IN_STATUSES)[number];

export interface BuyIn {
  id: string;
  obligationId: string;
  counterparty: string;
  security: string;
  currency: string;
  quantity: string;
  price: string | null;
  closeOutDue: string;
  plannedFor: string;
  reason: string | null;
  status: BuyInStatus;
  createdAt: string;
  createdBy: string;
  notifiedAt: string | null;
  notifiedBy: string | null;
  executedOn: string | null;
  executedPrice: string | null;
  buyInCost: string | null;
  originalCost: string | null;
  costDifference: string | null;
  entryKey: string | null;
  executedAt: string | null;
  executedBy: string | null;
  cancelledAt: string | null;
  cancelledBy: string | null;
  cancelReason: string | null;
}

/** The parties an instruction is (or would be) sent with. */
export interface InstructionParties {
  ourBic: string;
  account: string;
  placeBic: string;
  counterparty: { bic?: string; dtcParticipant?: string; name: string };
  agent?: { bic?: string; dtcParticipant?: string; account?: string };
  ssi: { theirs: string | null; ours: string | null };
}

/** The obligation page's data: the detail, its parties, its fail in the ledger and its buy-ins. */
export type ObligationDetailFull = ObligationDetail & {
  parties: InstructionParties | null;
  fail: { account: string; status: 'open' | 'closed'; failedOn: string; quantity: string; cash: string; closedOn: string | null; closedBy: string | null } | null;
  buyIns: BuyIn[];
};

export interface EodStep {
  step: string;
  status: 'not_started' | 'started' | 'done';
  startedAt: string | null;
  finishedAt: string | null;
  counts: Record<string, unknown>;
}

export interface EodDay {
  date: string;
  status: 'not_run' | 'done' | 'incomplete';
  steps: EodStep[];
  files: { name: string; kind: string; status: string; receivedAt: string; processedAt: string | null; result: unknown; error: string | null }[];
}

export interface EodDaySummary {
  date: string;
  status: 'done' | 'incomplete';
  stepsDone: number;
  steps: number;
  startedAt: string;
  finishedAt: string | null;
  files: number;
  filesFailed: number;
}

const enc = encodeURIComponent;

export const settlementApi = {
  fails: (asOf: string, signal?: AbortSignal) => api<LedgerFailsReport>('/api/settlement/fails', { query: { asOf }, signal }),
  obligation: (id: string, signal?: AbortSignal) => api<ObligationDetailFull>(`/api/settlement/obligations/${enc(id)}`, { signal }),
  eod: (date: string, signal?: AbortSignal) => api<EodDay>('/api/settlement/eod', { query: { date }, signal }),
  eodDays: (signal?: AbortSignal) => api<EodDaySummary[]>('/api/settlement/eod/days', { query: { limit: 10 }, signal }),
  buyIns: (query: { status?: BuyInStatus; obligationId?: string }, signal?: AbortSignal) => api<BuyIn[]>('/api/settlement/buy-ins', { query, signal }),
  createBuyIn: (body: { obligationId: string; quantity?: string; price?: string; reason?: string }) => api<BuyIn>('/api/settlement/buy-ins', { body }),
  notifyBuyIn: (id: string) => api<BuyIn>(`/api/settlement/buy-ins/${enc(id)}/notify`, { body: {} }),
  executeBuyIn: (id: string, price: string) => api<BuyIn>(`/api/settlement/buy-ins/${enc(id)}/execute`, { body: { price } }),
  cancelBuyIn: (id: string, reason: string) => api<BuyIn>(`/api/settlement/buy-ins/${enc(id)}/cancel`, { body: { reason } }),
};

/** Whether the signed-in user may book fails and work buy-ins (permission settlement.manage). */
export function useCanManageSettlement(): boolean {
  const { user } = useAuth();
  return !!user && (user.role === 'admin' || user.role === 'operations');
}

// ---- The day's end-of-day cycle -------------------------------------------------------------

const STEP_COLORS: Record<EodStep['status'], string> = { not_started: 'gray', started: 'orange', done: 'green' };
const DAY_COLORS: Record<EodDay['status'], string> = { not_run: 'gray', incomplete: 'orange', done: 'green' };

const time = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z') : '—');

/** Counts of a step, flattened for reading ("booked 9, duplicates 1"). */
function countsText(counts: Record<string, unknown>): string {
  return Object.entries(counts)
    .map(([k, v]) => `${k} ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
    .join(', ');
}

/** The steps of a day's cycle with their status, times and counts, and the files refused. */
export function EodCycle({ day }: { day: EodDay }) {
  const refused = day.files.filter((f) => f.status === 'failed');
  return (
    <Paper withBorder p="md" data-testid="eod-cycle" data-status={day.status}>
      <Group gap="xs" mb="xs">
        <Text size="sm">End of day {day.date}:</Text>
        <Badge color={DAY_COLORS[day.status]} variant="light">
          {day.status.replace(/_/g, ' ')}
        </Badge>
        <Text size="xs" c="dimmed">
          {day.files.length} inbox {day.files.length === 1 ? 'file' : 'files'}
        </Text>
      </Group>
      <Table striped data-testid="eod-steps">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Step</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>Started</Table.Th>
            <Table.Th>Finished</Table.Th>
            <Table.Th>Counts</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {day.steps.map((s) => (
            <Table.Tr key={s.step} data-step={s.step} data-status={s.status}>
              <Table.Td>{s.step}</Table.Td>
              <Table.Td>
                <Badge size="sm" variant="light" color={STEP_COLORS[s.status]}>
                  {s.status.replace(/_/g, ' ')}
                </Badge>
              </Table.Td>
              <Table.Td style={{ whiteSpace: 'nowrap' }}>{time(s.startedAt)}</Table.Td>
              <Table.Td style={{ whiteSpace: 'nowrap' }}>{time(s.finishedAt)}</Table.Td>
              <Table.Td>
                <Text size="xs" style={{ overflowWrap: 'anywhere' }}>
                  {countsText(s.counts)}
                </Text>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {refused.length > 0 && (
        <Stack gap={4} mt="xs" data-testid="eod-refused-files">
          {refused.map((f) => (
            <Text size="sm" c="red" key={f.name}>
              Refused {f.kind} file {f.name}: {f.error}
            </Text>
          ))}
        </Stack>
      )}
    </Paper>
  );
}

// ---- Fail accounts -----------------------------------------------------------------------------

/** The fail accounts of the ledger as of a date: per counterparty, direction and asset. */
export function FailBalancesTable({ rows }: { rows: FailBalance[] }) {
  if (!rows.length) {
    return (
      <Text size="sm" c="dimmed" data-testid="fail-balances">
        No balance in the fail accounts.
      </Text>
    );
  }
  return (
    <Table striped data-testid="fail-balances">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Counterparty</Table.Th>
          <Table.Th>Fail</Table.Th>
          <Table.Th>Asset</Table.Th>
          <Table.Th style={{ textAlign: 'right' }}>Balance</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {rows.map((b) => (
          <Table.Tr key={`${b.account}:${b.asset}`}>
            <Table.Td>{b.counterparty}</Table.Td>
            <Table.Td>
              <AppLink to={accountPath(b.account)}>{b.direction === 'to_receive' ? 'to receive' : 'to deliver'}</AppLink>
            </Table.Td>
            <Table.Td>{b.asset}</Table.Td>
            <Table.Td style={amountStyle}>{b.balance}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

// ---- Buy-ins --------------------------------------------------------------------------------------

const BUY_IN_COLORS: Record<BuyInStatus, string> = { planned: 'gray', notified: 'blue', executed: 'green', cancelled: 'dark' };

export function BuyInStatusBadge({ status }: { status: BuyInStatus }) {
  return (
    <Badge variant="light" color={BUY_IN_COLORS[status]} data-status={status}>
      {status}
    </Badge>
  );
}

/** The next step of a buy-in, for those who may take it: notify; execute at a price; cancel with a reason. */
function BuyInActions({ b, onDone }: { b: BuyIn; onDone: () => void }) {
  const [price, setPrice] = useState(b.price ?? '');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const run = (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    fn().then(
      () => { setBusy(false); onDone(); },
      (e: unknown) => { setBusy(false); setError(errorMessage(e)); },
    );
  };
  if (b.status === 'executed' || b.status === 'cancelled') return null;
  return (
    <Stack gap={4}>
      <Group gap={4} wrap="nowrap">
        {b.status === 'planned' && (
          <Button size="compact-xs" loading={busy} onClick={() => run(() => settlementApi.notifyBuyIn(b.id))}>
            Notify
          </Button>
        )}
        {b.status === 'notified' && (
          <>
            <TextInput size="xs" w={90} placeholder="price" value={price} onChange={(e) => setPrice(e.currentTarget.value)} aria-label="Execution price" />
            <Button size="compact-xs" loading={busy} disabled={!price} onClick={() => run(() => settlementApi.executeBuyIn(b.id, price))}>
              Execute
            </Button>
          </>
        )}
        <TextInput size="xs" w={110} placeholder="reason" value={reason} onChange={(e) => setReason(e.currentTarget.value)} aria-label="Cancel reason" />
        <Button size="compact-xs" color="gray" variant="light" loading={busy} disabled={!reason.trim()} onClick={() => run(() => settlementApi.cancelBuyIn(b.id, reason))}>
          Cancel
        </Button>
      </Group>
      {error && <ErrorAlert message={error} />}
    </Stack>
  );
}

/** Buy-ins with their state, who did what and, once executed, what it cost. */
export function BuyInsTable({ rows, onChange, showObligation = true }: { rows: BuyIn[]; onChange: () => void; showObligation?: boolean }) {
  const canManage = useCanManageSettlement();
  if (!rows.length) {
    return (
      <Text size="sm" c="dimmed" data-testid="buy-ins">
        No buy-ins.
      </Text>
    );
  }
  return (
    <Table striped data-testid="buy-ins">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Status</Table.Th>
          {showObligation && <Table.Th>Obligation</Table.Th>}
          <Table.Th>Counterparty</Table.Th>
          <Table.Th>Security</Table.Th>
          <Table.Th style={{ textAlign: 'right' }}>Quantity</Table.Th>
          <Table.Th>Close-out</Table.Th>
          <Table.Th>History</Table.Th>
          <Table.Th style={{ textAlign: 'right' }}>Charged</Table.Th>
          {canManage && <Table.Th />}
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {rows.map((b) => (
          <Table.Tr key={b.id} data-buy-in={b.id}>
            <Table.Td>
              <BuyInStatusBadge status={b.status} />
            </Table.Td>
            {showObligation && (
              <Table.Td>
                <AppLink to={obligationPath(b.obligationId)}>{b.obligationId}</AppLink>
              </Table.Td>
            )}
            <Table.Td>{b.counterparty}</Table.Td>
            <Table.Td>{b.security}</Table.Td>
            <Table.Td style={amountStyle}>{b.quantity}</Table.Td>
            <Table.Td>{b.closeOutDue}</Table.Td>
            <Table.Td>
              <Text size="xs">
                planned by {b.createdBy} {time(b.createdAt)}
                {b.notifiedAt && `; notified by ${b.notifiedBy} ${time(b.notifiedAt)}`}
                {b.executedAt && `; executed by ${b.executedBy} on ${b.executedOn} at ${b.executedPrice}`}
                {b.cancelledAt && `; cancelled by ${b.cancelledBy}: ${b.cancelReason}`}
              </Text>
            </Table.Td>
            <Table.Td style={amountStyle}>{b.costDifference !== null ? `${b.costDifference} ${b.currency}` : ''}</Table.Td>
            {canManage && (
              <Table.Td>
                <BuyInActions b={b} onDone={onChange} />
              </Table.Td>
            )}
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
