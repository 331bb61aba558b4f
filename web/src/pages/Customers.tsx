import { Box } from '@mantine/core';
import type { ColDef } from 'ag-grid-community';
import { AgGridReact } from 'ag-grid-react';
import { reference, type CustomerAccount } from '../api';
import { ErrorAlert, PageHeader } from '../components';
import { defaultColDef, gridTheme } from '../grid';
import { CustomerCell } from '../trading';
import { useApi } from '../useApi';

const columns: ColDef<CustomerAccount>[] = [
  { field: 'account', headerName: 'Account', width: 130, cellRenderer: CustomerCell, sort: 'asc' },
  { field: 'name', headerName: 'Name', flex: 1, minWidth: 220 },
  { field: 'type', headerName: 'Type', width: 110 },
  { field: 'currency', headerName: 'Ccy', width: 80 },
  { field: 'status', headerName: 'Status', width: 110 },
  { field: 'taxResidency', headerName: 'Tax residency', width: 130 },
  { field: 'feeSchedule', headerName: 'Fee schedule', width: 140 },
];

/** Customer (trading) accounts, each linking to its page. */
export default function CustomersPage() {
  const accounts = useApi((signal) => reference.accounts(signal), []);
  return (
    <>
      <PageHeader title="Customer accounts" />
      {accounts.error && <ErrorAlert message={accounts.error} />}
      <Box h="calc(100dvh - 220px)" mih={320} data-testid="customers-grid">
        <AgGridReact<CustomerAccount>
          theme={gridTheme}
          rowData={accounts.data ?? []}
          columnDefs={columns}
          defaultColDef={defaultColDef}
          getRowId={({ data }) => data.account}
          loading={accounts.loading}
          enableCellTextSelection
        />
      </Box>
    </>
  );
}
