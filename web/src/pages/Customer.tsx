import { Loader, Text } from '@mantine/core';
import type { ColDef } from 'ag-grid-community';
import { AgGridReact } from 'ag-grid-react';
import { useParams } from 'react-router-dom';
import { reference, trading, type CashAvailable, type CustomerAccount, type Lot, type RealizedPnl } from '../api';
import { AppLink, DetailFields, ErrorAlert, PageHeader, SectionHeader } from '../components';
import { amountColumn, defaultColDef, gridTheme } from '../grid';
import {
  GridBox,
  PositionControls,
  PositionsGrid,
  SecurityCell,
  TradesGrid,
  pnlColumn,
  usePositionParams,
} from '../trading';
import { useApi, type Loaded } from '../useApi';

const lotColumns: ColDef<Lot>[] = [
  { field: 'symbol', headerName: 'Symbol', width: 110, cellRenderer: SecurityCell },
  { field: 'openDate', headerName: 'Open date', width: 135, sort: 'asc' },
  { field: 'quantity', headerName: 'Quantity', width: 130, ...amountColumn },
  { field: 'remaining', headerName: 'Remaining', width: 130, ...amountColumn },
  { field: 'unitCost', headerName: 'Unit cost', width: 140, ...amountColumn },
  { field: 'lotId', headerName: 'Lot', flex: 1, minWidth: 200 },
  { field: 'tradeId', headerName: 'Opening trade', flex: 1, minWidth: 200 },
];

const realizedColumns: ColDef<RealizedPnl>[] = [
  { field: 'tradeDate', headerName: 'Trade date', width: 135, sort: 'asc' },
  { field: 'symbol', headerName: 'Symbol', width: 110, cellRenderer: SecurityCell },
  { field: 'quantity', headerName: 'Quantity', width: 130, ...amountColumn },
  { field: 'proceeds', headerName: 'Proceeds', width: 150, ...amountColumn },
  { field: 'cost', headerName: 'Cost', width: 150, ...amountColumn },
  { field: 'pnl', headerName: 'Realized P&L', width: 150, ...pnlColumn },
  { field: 'saleTrade', headerName: 'Sale trade', flex: 1, minWidth: 200 },
  { field: 'lotId', headerName: 'Lot', flex: 1, minWidth: 200 },
];

/** One customer account: cash, positions, open tax lots, realized P&L and its trades. */
export default function CustomerPage() {
  const { account = '' } = useParams();
  const { asOf, basis, setParam } = usePositionParams();

  const accounts = useApi((signal) => reference.accounts(signal), []);
  const cash = useApi((signal) => trading.cash(account, signal), [account]);
  const positions = useApi(
    (signal) => trading.positions({ account, asOf: asOf || undefined, basis }, signal),
    [account, asOf, basis],
  );
  const lots = useApi((signal) => trading.lots(account, signal), [account]);
  const realized = useApi((signal) => trading.realized(account, signal), [account]);
  const trades = useApi((signal) => trading.trades({ account }, signal), [account]);
  const info = accounts.data?.find((a) => a.account === account);

  return (
    <>
      <PageHeader title={info ? `${account} — ${info.name}` : account}>
        <AppLink to="/customers">All customer accounts</AppLink>
      </PageHeader>
      {accounts.error && <ErrorAlert message={accounts.error} />}
      {accounts.loading && !accounts.data && <Loader />}
      {accounts.data && !info && <Text c="dimmed">No customer account {account} in the reference data.</Text>}
      {info && <AccountDetails info={info} cash={cash} />}

      <SectionHeader title="Positions">
        <PositionControls asOf={asOf} basis={basis} setParam={setParam} />
      </SectionHeader>
      {positions.error && <ErrorAlert message={positions.error} />}
      <GridBox testId="positions-grid" h={300}>
        <PositionsGrid rows={positions.data} loading={positions.loading} />
      </GridBox>

      <SectionHeader title="Open lots" />
      {lots.error && <ErrorAlert message={lots.error} />}
      <GridBox testId="lots-grid" h={300}>
        <AgGridReact<Lot>
          theme={gridTheme}
          rowData={lots.data ?? []}
          columnDefs={lotColumns}
          defaultColDef={defaultColDef}
          getRowId={({ data }) => data.lotId}
          loading={lots.loading}
          enableCellTextSelection
        />
      </GridBox>

      <SectionHeader title="Realized P&L" />
      {realized.error && <ErrorAlert message={realized.error} />}
      <GridBox testId="realized-grid" h={300}>
        <AgGridReact<RealizedPnl>
          theme={gridTheme}
          rowData={realized.data ?? []}
          columnDefs={realizedColumns}
          defaultColDef={defaultColDef}
          getRowId={({ data }) => `${data.saleTrade}\u0000${data.lotId}`}
          loading={realized.loading}
          enableCellTextSelection
        />
      </GridBox>

      <SectionHeader title="Trades">
        <AppLink to={`/trades?account=${encodeURIComponent(account)}`}>Open in the blotter</AppLink>
      </SectionHeader>
      {trades.error && <ErrorAlert message={trades.error} />}
      <GridBox testId="account-trades">
        <TradesGrid rows={trades.data} loading={trades.loading} />
      </GridBox>
    </>
  );
}

function AccountDetails({ info, cash }: { info: CustomerAccount; cash: Loaded<CashAvailable> }) {
  const money = (value: string | undefined) =>
    cash.error ? '—' : value === undefined ? '…' : `${value} ${cash.data?.currency ?? info.currency}`;
  return (
    <>
      <DetailFields
        testId="customer-details"
        fields={[
          ['Name', info.name],
          ['Type', info.type],
          ['Currency', info.currency],
          ['Status', info.status],
          ['Tax residency', info.taxResidency ?? '—'],
          ['Fee schedule', info.feeSchedule],
          ['Cash available', <span key="available" data-testid="cash-available">{money(cash.data?.available)}</span>],
          ['Cash balance', <span key="balance" data-testid="cash-balance">{money(cash.data?.balance)}</span>],
        ]}
      />
      {cash.error && <ErrorAlert title="Cash not available" message={cash.error} />}
    </>
  );
}
