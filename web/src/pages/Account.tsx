import { Box, Group, Loader, NativeSelect, Text, TextInput } from '@mantine/core';
import type { ColDef } from 'ag-grid-community';
import { AgGridReact, type CustomCellRendererProps } from 'ag-grid-react';
import { useRef } from 'react';
import { useParams, useSearchParams } from 'react-router-dom';
import { ledger, type ActivityRow } from '../api';
import { AppLink, ErrorAlert, PageHeader, ExportCsvButton } from '../components';
import { entryPath } from '../format';
import { amountColumn, defaultColDef, gridTheme } from '../grid';
import { useApi } from '../useApi';

function EntryLink({ value }: CustomCellRendererProps<ActivityRow, string>) {
  return value ? <AppLink to={entryPath(value)}>{value}</AppLink> : null;
}

const columns: ColDef<ActivityRow>[] = [
  { field: 'date', headerName: 'Date', width: 120 },
  { field: 'entryId', headerName: 'Entry', width: 260, cellRenderer: EntryLink },
  { field: 'memo', headerName: 'Memo', flex: 1, minWidth: 200 },
  { field: 'amount', headerName: 'Amount', width: 170, ...amountColumn },
  { field: 'balance', headerName: 'Balance', width: 170, ...amountColumn },
];

/** One account's activity in one asset, with the running balance after each posting. */
export default function AccountPage() {
  const { name = '' } = useParams();
  const [params, setParams] = useSearchParams();
  const from = params.get('from') ?? '';
  const to = params.get('to') ?? '';
  const gridRef = useRef<AgGridReact<ActivityRow>>(null);

  const balances = useApi((signal) => ledger.balances({ account: name }, signal), [name]);
  // The server may match the account as a prefix; this page is about exactly one account.
  const own = (balances.data ?? []).filter((b) => b.account === name);
  const asset = params.get('asset') || own[0]?.asset || '';

  const activity = useApi(
    (signal) => ledger.activity(name, { asset, from: from || undefined, to: to || undefined }, signal),
    [name, asset, from, to],
    asset !== '',
  );

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

  return (
    <>
      <PageHeader title={name}>
        <AppLink to="/accounts">Back to chart of accounts</AppLink>
      </PageHeader>
      {balances.error && <ErrorAlert message={balances.error} />}
      {balances.loading && !balances.data && <Loader />}
      {balances.data && own.length === 0 && <Text c="dimmed">This account has no postings yet.</Text>}

      {own.length > 0 && (
        <>
          <Group align="flex-end" gap="sm" mb="md" wrap="wrap">
            <NativeSelect
              label="Asset"
              data={own.map((b) => ({ value: b.asset, label: `${b.asset} (balance ${b.balance})` }))}
              value={asset}
              onChange={(e) => setParam('asset', e.currentTarget.value)}
            />
            <TextInput label="From" type="date" value={from} onChange={(e) => setParam('from', e.currentTarget.value)} />
            <TextInput label="To" type="date" value={to} onChange={(e) => setParam('to', e.currentTarget.value)} />
            <ExportCsvButton grid={gridRef} fileName={`${name.replaceAll(':', '_')}_${asset}.csv`} disabled={!activity.data?.rows.length} />
          </Group>

          {activity.error && <ErrorAlert message={activity.error} />}
          {activity.data && !activity.loading && (
            <Text size="sm" mb="xs" data-testid="opening-balance">
              Opening balance: <b style={{ fontVariantNumeric: 'tabular-nums' }}>{activity.data.opening}</b>{' '}
              {activity.data.asset}
            </Text>
          )}
          <Box h="calc(100dvh - 320px)" mih={320}>
            <AgGridReact<ActivityRow>
              ref={gridRef}
              theme={gridTheme}
              rowData={activity.data?.rows ?? []}
              columnDefs={columns}
              defaultColDef={{ ...defaultColDef, sortable: false }}
              loading={activity.loading}
              enableCellTextSelection
            />
          </Box>
        </>
      )}
    </>
  );
}
