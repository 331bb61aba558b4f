import { Loader, SimpleGrid, Text, TextInput } from '@mantine/core';
import type { ColDef } from 'ag-grid-community';
import { AgGridReact } from 'ag-grid-react';
import { useParams } from 'react-router-dom';
import { reference, trading, type Inventory, type Price, type Security } from '../api';
import { AppLink, DetailFields, ErrorAlert, PageHeader, SectionHeader } from '../components';
import { amountColumn, defaultColDef, gridTheme } from '../grid';
import { CustomerCell, GridBox, LedgerAccountCell, TradesGrid, useQueryParams } from '../trading';
import { useApi, type Loaded } from '../useApi';

/** How many of the security's latest trades the page shows. */
const RECENT_TRADES = 500;

type CustomerHolding = Inventory['customers'][number];
type FirmHolding = Inventory['firm'][number];

const customerColumns: ColDef<CustomerHolding>[] = [
  { field: 'account', headerName: 'Account', flex: 1, cellRenderer: CustomerCell },
  { field: 'quantity', headerName: 'Quantity', flex: 1, ...amountColumn },
];

const firmColumns: ColDef<FirmHolding>[] = [
  { field: 'ledgerAccount', headerName: 'Ledger account', flex: 2, cellRenderer: LedgerAccountCell },
  { field: 'quantity', headerName: 'Quantity', flex: 1, ...amountColumn },
];

/** One security: reference data, latest price, where it is held, and its recent trades. */
export default function SecurityPage() {
  const { symbol = '' } = useParams();
  const [params, setParam] = useQueryParams();
  const asOf = params.get('asOf') ?? '';

  const security = useApi((signal) => reference.security(symbol, signal), [symbol]);
  const price = useApi((signal) => reference.latestPrice(symbol, signal), [symbol]);
  const inventory = useApi((signal) => trading.inventory(symbol, asOf || undefined, signal), [symbol, asOf]);
  const trades = useApi((signal) => trading.trades({ symbol, limit: RECENT_TRADES }, signal), [symbol]);

  return (
    <>
      <PageHeader title={security.data ? `${symbol} — ${security.data.name}` : symbol}>
        <AppLink to="/securities">Back to securities</AppLink>
      </PageHeader>
      {security.error && <ErrorAlert message={security.error} />}
      {security.loading && !security.data && <Loader />}
      {security.data && <SecurityDetails security={security.data} price={price} />}

      <SectionHeader title="Inventory">
        <TextInput label="As of" type="date" value={asOf} onChange={(e) => setParam('asOf', e.currentTarget.value)} />
      </SectionHeader>
      {inventory.error && <ErrorAlert message={inventory.error} />}
      <Text size="sm" mb="xs">
        Customers hold{' '}
        <b data-testid="customer-total" style={{ fontVariantNumeric: 'tabular-nums' }}>
          {inventory.data?.customerTotal ?? '…'}
        </b>
      </Text>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <GridBox testId="inventory-customers" h={300}>
          <AgGridReact<CustomerHolding>
            theme={gridTheme}
            rowData={inventory.data?.customers ?? []}
            columnDefs={customerColumns}
            defaultColDef={defaultColDef}
            getRowId={({ data }) => data.account}
            loading={inventory.loading}
            enableCellTextSelection
          />
        </GridBox>
        <GridBox testId="inventory-firm" h={300}>
          <AgGridReact<FirmHolding>
            theme={gridTheme}
            rowData={inventory.data?.firm ?? []}
            columnDefs={firmColumns}
            defaultColDef={defaultColDef}
            getRowId={({ data }) => data.ledgerAccount}
            loading={inventory.loading}
            enableCellTextSelection
          />
        </GridBox>
      </SimpleGrid>

      <SectionHeader title="Recent trades">
        <AppLink to={`/trades?symbol=${encodeURIComponent(symbol)}`}>All in the blotter</AppLink>
      </SectionHeader>
      {trades.error && <ErrorAlert message={trades.error} />}
      <GridBox testId="security-trades">
        <TradesGrid rows={trades.data} loading={trades.loading} />
      </GridBox>
    </>
  );
}

function SecurityDetails({ security, price }: { security: Security; price: Loaded<Price | null> }) {
  return (
    <DetailFields
      testId="security-reference"
      fields={[
        ['Name', security.name],
        ['ISIN', security.isin ?? '—'],
        ['CUSIP', security.cusip ?? '—'],
        ['MIC', security.mic],
        ['Currency', security.currency],
        ['Scale', String(security.scale)],
        ['Asset class', security.assetClass],
        ['Multiplier', security.multiplier],
        ['Latest price', <LatestPrice key="price" price={price} />],
      ]}
    />
  );
}

function LatestPrice({ price }: { price: Loaded<Price | null> }) {
  if (price.error) return <Text c="red" size="sm" span>{price.error}</Text>;
  if (price.loading && price.data === undefined) return <Loader size="xs" />;
  if (!price.data) return <span data-testid="latest-price">none</span>;
  return (
    <span data-testid="latest-price">
      <b style={{ fontVariantNumeric: 'tabular-nums' }}>{price.data.price}</b> {price.data.currency} on {price.data.date}
    </span>
  );
}
