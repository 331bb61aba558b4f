import { Group, Text } from '@mantine/core';
import type { AgGridReact } from 'ag-grid-react';
import { useRef } from 'react';
import { trading, type Position } from '../api';
import { ErrorAlert, PageHeader, ExportCsvButton } from '../components';
import { GridBox, PositionControls, PositionsGrid, usePositionParams } from '../trading';
import { useApi } from '../useApi';

/** Every customer position, as of a date, on trade-date or settlement-date basis. */
export default function PositionsPage() {
  const { asOf, basis, setParam } = usePositionParams();
  const gridRef = useRef<AgGridReact<Position>>(null);
  const positions = useApi(
    (signal) => trading.positions({ asOf: asOf || undefined, basis }, signal),
    [asOf, basis],
  );
  const rows = positions.data ?? [];

  return (
    <>
      <PageHeader title="Positions">
        <ExportCsvButton grid={gridRef} fileName={`positions_${basis}${asOf ? `_${asOf}` : ''}.csv`} disabled={rows.length === 0} />
      </PageHeader>
      <Group mb="md">
        <PositionControls asOf={asOf} basis={basis} setParam={setParam} />
      </Group>
      {positions.error && <ErrorAlert message={positions.error} />}
      <GridBox testId="positions-grid" h="calc(100dvh - 300px)">
        <PositionsGrid rows={positions.data} loading={positions.loading} gridRef={gridRef} />
      </GridBox>
      <Text size="sm" c="dimmed" mt="xs">
        {rows.length} {rows.length === 1 ? 'position' : 'positions'}
      </Text>
    </>
  );
}
