/**
 * Pieces shared by the settlement pages: the obligation status badge, the obligations grid and
 * the fails aging chart (plain divs: no chart package). Quantities and money stay decimal strings.
 */
import { Badge, Box, Group, Stack, Text, Tooltip } from '@mantine/core';
import type { ColDef } from 'ag-grid-community';
import { AgGridReact, type CustomCellRendererProps } from 'ag-grid-react';
import type { RefObject } from 'react';
import {
  AGING_BUCKETS,
  type FailBucket,
  type FailDirection,
  type Obligation,
  type ObligationStatus,
} from './api';
import { AppLink } from './components';
import { amountColumn, defaultColDef, gridTheme } from './grid';
import { pnlColumn, SecurityCell } from './trading';

/** Path of an obligation's page. */
export function obligationPath(id: string): string {
  return `/settlement/obligations/${encodeURIComponent(id)}`;
}

/** The calendar day after `date` (YYYY-MM-DD). */
export function nextDay(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return date;
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
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
