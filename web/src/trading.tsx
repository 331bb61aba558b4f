/**
 * Pieces shared by the trade-capture pages: link and status cells, the trade and position
 * grids, and the as-of/basis controls. Quantities, prices and money stay decimal strings.
 */
import { Badge, Box, Group, Input, SegmentedControl, TextInput } from '@mantine/core';
import type { CellStyle, ColDef } from 'ag-grid-community';
import { AgGridReact, type CustomCellRendererProps } from 'ag-grid-react';
import type { ReactNode, RefObject } from 'react';
import { useSearchParams } from 'react-router-dom';
import type { Position, PositionBasis, Trade, TradeStatus } from './api';
import { AppLink } from './components';
import { accountPath, customerPath, entryPath, securityPath } from './format';
import { amountColumn, defaultColDef, gridTheme } from './grid';

// ---- Cells ---------------------------------------------------------------------------------

/** A customer account number, linking to its page. */
export function CustomerCell({ value }: CustomCellRendererProps<unknown, string>) {
  return value ? <AppLink to={customerPath(value)}>{value}</AppLink> : null;
}

/** A security's symbol, linking to its page. */
export function SecurityCell({ value }: CustomCellRendererProps<unknown, string>) {
  return value ? <AppLink to={securityPath(value)}>{value}</AppLink> : null;
}

/** A journal entry id, linking to the entry. */
export function EntryCell({ value }: CustomCellRendererProps<unknown, string | null>) {
  return value ? <AppLink to={entryPath(value)}>{value}</AppLink> : null;
}

/** A ledger account name, linking to its activity. */
export function LedgerAccountCell({ value }: CustomCellRendererProps<unknown, string>) {
  return value ? <AppLink to={accountPath(value)}>{value}</AppLink> : null;
}

const STATUS_COLORS: Record<TradeStatus, string> = { booked: 'green', canceled: 'red', corrected: 'orange' };

export function StatusBadge({ status }: { status: string }) {
  return (
    <Badge variant="light" color={STATUS_COLORS[status as TradeStatus] ?? 'gray'} data-status={status}>
      {status}
    </Badge>
  );
}

function StatusCell({ value }: CustomCellRendererProps<unknown, string>) {
  return value ? <StatusBadge status={value} /> : null;
}

/** Decimal-string column whose negative values show in red (P&L). */
export const pnlColumn: Pick<ColDef, 'type' | 'cellStyle' | 'comparator' | 'filter'> = {
  ...amountColumn,
  cellStyle: ({ value }): CellStyle =>
    typeof value === 'string' && value.startsWith('-')
      ? { fontVariantNumeric: 'tabular-nums', color: 'var(--mantine-color-red-7)' }
      : { fontVariantNumeric: 'tabular-nums' },
};

/** A grid at a fixed height, so AG Grid scrolls it virtually. */
export function GridBox({ testId, h = 360, children }: { testId: string; h?: number | string; children: ReactNode }) {
  return (
    <Box h={h} mih={240} data-testid={testId}>
      {children}
    </Box>
  );
}

// ---- Trades --------------------------------------------------------------------------------

export const tradeColumns: ColDef<Trade>[] = [
  { field: 'tradeDate', headerName: 'Trade date', width: 130 },
  { field: 'settleDate', headerName: 'Settle date', width: 130 },
  { field: 'settleProvisional', headerName: 'Provisional', width: 115, hide: true },
  { field: 'account', headerName: 'Account', width: 120, cellRenderer: CustomerCell },
  { field: 'symbol', headerName: 'Symbol', width: 110, cellRenderer: SecurityCell },
  { field: 'side', headerName: 'Side', width: 90 },
  { field: 'quantity', headerName: 'Quantity', width: 120, ...amountColumn },
  { field: 'price', headerName: 'Price', width: 120, ...amountColumn },
  { field: 'currency', headerName: 'Ccy', width: 80 },
  { field: 'status', headerName: 'Status', width: 125, cellRenderer: StatusCell },
  { field: 'net', headerName: 'Net', width: 140, ...amountColumn },
  { field: 'gross', headerName: 'Gross', width: 140, ...amountColumn },
  { field: 'commission', headerName: 'Commission', width: 130, ...amountColumn },
  { field: 'secFee', headerName: 'SEC fee', width: 110, ...amountColumn },
  { field: 'finraTaf', headerName: 'FINRA TAF', width: 120, ...amountColumn },
  { field: 'counterparty', headerName: 'Counterparty', width: 135 },
  { field: 'entryId', headerName: 'Entry', width: 250, cellRenderer: EntryCell },
  { field: 'reversalEntryId', headerName: 'Reversal entry', width: 250, cellRenderer: EntryCell },
  { field: 'replaces', headerName: 'Replaces', width: 200 },
  { field: 'execId', headerName: 'Exec ID', width: 150 },
  { field: 'orderId', headerName: 'Order ID', width: 150, hide: true },
  { field: 'source', headerName: 'Source', width: 110, hide: true },
  { field: 'id', headerName: 'Trade', width: 250, hide: true },
];

export function TradesGrid({
  rows,
  loading,
  gridRef,
}: {
  rows: Trade[] | undefined;
  loading: boolean;
  gridRef?: RefObject<AgGridReact<Trade> | null>;
}) {
  return (
    <AgGridReact<Trade>
      ref={gridRef}
      theme={gridTheme}
      rowData={rows ?? []}
      columnDefs={tradeColumns}
      defaultColDef={defaultColDef}
      getRowId={({ data }) => data.id}
      loading={loading}
      enableCellTextSelection
      // Some twenty columns: render them all, so every cell of a row is in the page (rows are
      // still virtualised).
      suppressColumnVirtualisation
    />
  );
}

// ---- Positions -----------------------------------------------------------------------------

const positionColumns: ColDef<Position>[] = [
  { field: 'account', headerName: 'Account', width: 120, cellRenderer: CustomerCell },
  { field: 'security', headerName: 'Security', width: 110, cellRenderer: SecurityCell },
  { field: 'quantity', headerName: 'Quantity', width: 130, ...amountColumn },
  { field: 'price', headerName: 'Price', width: 120, ...amountColumn },
  { field: 'priceDate', headerName: 'Price date', width: 130 },
  { field: 'marketValue', headerName: 'Market value', width: 150, ...amountColumn },
  { field: 'costBasis', headerName: 'Cost basis', width: 150, ...amountColumn },
  { field: 'unrealizedPnl', headerName: 'Unrealized P&L', width: 150, ...pnlColumn },
  { field: 'currency', headerName: 'Ccy', width: 80 },
  { field: 'basis', headerName: 'Basis', width: 110 },
  { field: 'asOf', headerName: 'As of', width: 130 },
];

export function PositionsGrid({
  rows,
  loading,
  gridRef,
}: {
  rows: Position[] | undefined;
  loading: boolean;
  gridRef?: RefObject<AgGridReact<Position> | null>;
}) {
  return (
    <AgGridReact<Position>
      ref={gridRef}
      theme={gridTheme}
      rowData={rows ?? []}
      columnDefs={positionColumns}
      defaultColDef={defaultColDef}
      getRowId={({ data }) => `${data.account}\u0000${data.security}`}
      loading={loading}
      enableCellTextSelection
    />
  );
}

/** As-of date and trade/settlement basis of the positions, kept in the query string. */
export function usePositionParams() {
  const [params, setParam] = useQueryParams();
  const asOf = params.get('asOf') ?? '';
  const basis: PositionBasis = params.get('basis') === 'settlement' ? 'settlement' : 'trade';
  return { asOf, basis, setParam };
}

export function PositionControls({
  asOf,
  basis,
  setParam,
}: {
  asOf: string;
  basis: PositionBasis;
  setParam: (key: string, value: string) => void;
}) {
  return (
    <Group align="flex-end" gap="sm" wrap="wrap">
      <TextInput
        label="As of"
        type="date"
        value={asOf}
        onChange={(e) => setParam('asOf', e.currentTarget.value)}
        data-testid="positions-as-of"
      />
      <Input.Wrapper label="Basis">
        <div>
          <SegmentedControl
            data={[
              { value: 'trade', label: 'Trade date' },
              { value: 'settlement', label: 'Settlement date' },
            ]}
            value={basis}
            onChange={(value) => setParam('basis', value === 'trade' ? '' : value)}
            data-testid="positions-basis"
          />
        </div>
      </Input.Wrapper>
    </Group>
  );
}

/** The query string, and a setter of one parameter (empty removes it) that replaces history. */
export function useQueryParams() {
  const [params, setParams] = useSearchParams();
  function setParam(key: string, value: string) {
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        if (value) next.set(key, value);
        else next.delete(key);
        return next;
      },
      { replace: true },
    );
  }
  return [params, setParam] as const;
}
