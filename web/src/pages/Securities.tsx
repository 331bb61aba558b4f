import { Box } from '@mantine/core';
import type { ColDef } from 'ag-grid-community';
import { AgGridReact } from 'ag-grid-react';
import { useRef } from 'react';
import { reference, type Security } from '../api';
import { ErrorAlert, PageHeader, ExportCsvButton } from '../components';
import { amountColumn, defaultColDef, gridTheme } from '../grid';
import { SecurityCell } from '../trading';
import { useApi } from '../useApi';

const columns: ColDef<Security>[] = [
  { field: 'symbol', headerName: 'Symbol', width: 120, cellRenderer: SecurityCell, sort: 'asc' },
  { field: 'name', headerName: 'Name', flex: 1, minWidth: 220 },
  { field: 'isin', headerName: 'ISIN', width: 150 },
  { field: 'cusip', headerName: 'CUSIP', width: 120 },
  { field: 'assetClass', headerName: 'Asset class', width: 130 },
  { field: 'currency', headerName: 'Ccy', width: 80 },
  { field: 'mic', headerName: 'MIC', width: 100 },
  { field: 'scale', headerName: 'Scale', width: 90, type: 'rightAligned', filter: 'agNumberColumnFilter' },
  { field: 'multiplier', headerName: 'Multiplier', width: 120, ...amountColumn },
];

/** The security master: every security, linking to its page. */
export default function SecuritiesPage() {
  const securities = useApi((signal) => reference.securities(signal), []);
  const gridRef = useRef<AgGridReact<Security>>(null);

  return (
    <>
      <PageHeader title="Securities">
        <ExportCsvButton grid={gridRef} fileName={'securities.csv'} disabled={!securities.data?.length} />
      </PageHeader>
      {securities.error && <ErrorAlert message={securities.error} />}
      <Box h="calc(100dvh - 220px)" mih={320} data-testid="securities-grid">
        <AgGridReact<Security>
          ref={gridRef}
          theme={gridTheme}
          rowData={securities.data ?? []}
          columnDefs={columns}
          defaultColDef={defaultColDef}
          getRowId={({ data }) => data.symbol}
          loading={securities.loading}
          enableCellTextSelection
        />
      </Box>
    </>
  );
}
