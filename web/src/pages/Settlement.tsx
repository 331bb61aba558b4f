import { Alert, Badge, Box, Button, Chip, Group, Paper, SimpleGrid, Stack, Table, Text, TextInput } from '@mantine/core';
import type { ColDef } from 'ag-grid-community';
import { AgGridReact } from 'ag-grid-react';
import { useRef, useState } from 'react';
import { OBLIGATION_STATUSES, api, errorMessage, settlement, type ConfirmationMatch, type Obligation } from '../api';
import { AppLink, ErrorAlert, ExportCsvButton, PageHeader, SectionHeader, amountStyle } from '../components';
import { today } from '../format';
import { amountColumn, defaultColDef, gridTheme } from '../grid';
import {
  BuyInsTable, EodCycle, FailBalancesTable, FailsChart, ObligationsGrid, ObligationStatusBadge, nextDay, nextSettlementDay, obligationPath, settlementApi, useCanManageSettlement,
} from '../settlement';
import { GridBox, useQueryParams } from '../trading';
import { useApi } from '../useApi';

/**
 * Settlement dashboard for a business date (today by default): the obligations settling that day
 * and the next, by status; fails by age and the fail accounts of the ledger; confirmations not
 * matched on that trade date; close-out alerts; buy-ins; the day's end-of-day cycle.
 */
export default function SettlementPage() {
  const [params, setParam] = useQueryParams();
  const date = params.get('date') || today();
  const status = params.get('status') ?? '';

  const gridRef = useRef<AgGridReact<Obligation>>(null);
  // The day's obligations and those of the next settlement day (after a Friday, the Monday).
  const due = useApi(
    async (signal) => {
      const next = await nextSettlementDay(date, signal);
      const [a, b] = await Promise.all([
        settlement.obligations({ settleDate: date }, signal),
        settlement.obligations({ settleDate: next }, signal),
      ]);
      return { next, rows: [...a, ...b] };
    },
    [date],
  );
  const tomorrow = due.data?.next ?? nextDay(date);
  const fails = useApi((signal) => settlementApi.fails(date, signal), [date]);
  const matches = useApi((signal) => settlement.matches(date, signal), [date]);
  const eod = useApi((signal) => settlementApi.eod(date, signal), [date]);
  const eodDays = useApi((signal) => settlementApi.eodDays(signal), []);
  const buyIns = useApi((signal) => settlementApi.buyIns({}, signal), []);
  const canManage = useCanManageSettlement();
  const [booking, setBooking] = useState<{ busy: boolean; message?: string; error?: string }>({ busy: false });
  const bookFails = () => {
    setBooking({ busy: true });
    api<{ booked: unknown[]; carried: unknown[] }>('/api/settlement/fails/book', { body: { asOf: date } }).then(
      (r) => { setBooking({ busy: false, message: `${r.booked.length} booked, ${r.carried.length} carried back to the street` }); fails.reload(); },
      (e: unknown) => setBooking({ busy: false, error: errorMessage(e) }),
    );
  };

  const all = due.data?.rows ?? [];
  const rows = status ? all.filter((o) => o.status === status) : all;
  const countOf = (day: string, s: string) => all.filter((o) => o.settleDate === day && o.status === s).length;
  const open = (matches.data?.results ?? []).filter((m) => m.status !== 'matched');
  const alerts = fails.data?.alerts ?? [];

  return (
    <Box data-testid="settlement-dashboard">
      <PageHeader title="Settlement">
        <ExportCsvButton grid={gridRef} fileName={`obligations-${date}.csv`} allColumns disabled={rows.length === 0} />
      </PageHeader>

      <Group align="flex-end" gap="sm" mb="md">
        <TextInput
          label="Date"
          type="date"
          value={date}
          onChange={(e) => setParam('date', e.currentTarget.value === today() ? '' : e.currentTarget.value)}
          data-testid="settlement-date"
        />
      </Group>

      {alerts.length > 0 && (
        <Alert color="red" title={`Close-out alerts (${alerts.length})`} mb="md" data-testid="closeout-alerts">
          <Stack gap={4}>
            {alerts.map((a) => (
              <Text size="sm" key={`${a.kind}:${a.obligationId}`} data-kind={a.kind}>
                <Badge size="sm" color={a.kind === 'CLOSE_OUT_OVERDUE' ? 'red' : 'orange'} mr="xs">
                  {a.kind === 'CLOSE_OUT_OVERDUE' ? 'overdue' : 'due today'}
                </Badge>
                <AppLink to={obligationPath(a.obligationId)}>
                  {a.counterparty} {a.security}
                </AppLink>{' '}
                — {a.message}
              </Text>
            ))}
          </Stack>
        </Alert>
      )}

      <SectionHeader title="Obligations due">
        <Chip.Group value={status} onChange={(v) => setParam('status', typeof v === 'string' ? v : '')}>
          <Group gap={6}>
            <Chip value="" size="xs">
              all
            </Chip>
            {OBLIGATION_STATUSES.map((s) => (
              <Chip key={s} value={s} size="xs">
                {s.replace(/_/g, ' ')}
              </Chip>
            ))}
          </Group>
        </Chip.Group>
      </SectionHeader>
      {due.error && <ErrorAlert message={due.error} />}

      <Paper withBorder mb="sm">
        <Table data-testid="obligation-status-counts" striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Settle date</Table.Th>
              {OBLIGATION_STATUSES.map((s) => (
                <Table.Th key={s} style={{ textAlign: 'right' }}>
                  <ObligationStatusBadge status={s} />
                </Table.Th>
              ))}
              <Table.Th style={{ textAlign: 'right' }}>Total</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {[
              [date, 'today'],
              [tomorrow, 'next settlement day'],
            ].map(([day, label]) => (
              <Table.Tr key={day} data-date={day}>
                <Table.Td>
                  {day} <Text span c="dimmed" size="xs">({label})</Text>
                </Table.Td>
                {OBLIGATION_STATUSES.map((s) => (
                  <Table.Td key={s} style={amountStyle} data-status={s}>
                    {countOf(day!, s)}
                  </Table.Td>
                ))}
                <Table.Td style={amountStyle}>{all.filter((o) => o.settleDate === day).length}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Paper>

      <GridBox testId="obligations-grid" h={380}>
        <ObligationsGrid rows={rows} loading={due.loading} gridRef={gridRef} />
      </GridBox>
      <Text size="sm" c="dimmed" mt="xs">
        {rows.length} {rows.length === 1 ? 'obligation' : 'obligations'}
      </Text>

      <SimpleGrid cols={{ base: 1, lg: 2 }} spacing="lg">
        <div>
          <SectionHeader title={`Fails by age as of ${date}`} />
          {fails.error && <ErrorAlert message={fails.error} />}
          <Paper withBorder p="md">
            <FailsChart buckets={fails.data?.buckets ?? []} />
            <Text size="xs" c="dimmed" mt="xs">
              {fails.data ? `${fails.data.fails.length} open ${fails.data.fails.length === 1 ? 'fail' : 'fails'}; age in settlement days` : ' '}
            </Text>
          </Paper>
        </div>
        <div>
          <SectionHeader title={`Fail accounts as of ${date}`}>
            {canManage && (
              <Button size="xs" variant="light" loading={booking.busy} onClick={bookFails} data-testid="book-fails">
                Book fails
              </Button>
            )}
          </SectionHeader>
          {booking.error && <ErrorAlert message={booking.error} />}
          {booking.message && (
            <Text size="xs" c="dimmed" mb={4}>
              {booking.message}
            </Text>
          )}
          <Paper withBorder p="md">
            <FailBalancesTable rows={fails.data?.ledger ?? []} />
            <Text size="xs" c="dimmed" mt="xs">
              {fails.data ? `${fails.data.fails.filter((f) => f.inLedger).length} of ${fails.data.fails.length} open fails in the ledger` : ' '}
            </Text>
          </Paper>
        </div>
      </SimpleGrid>

      <SimpleGrid cols={{ base: 1, lg: 2 }} spacing="lg">
        <div>
          <SectionHeader title={`Confirmations not matched, trade date ${date}`}>
            {matches.data && (
              <Text size="sm" c="dimmed" data-testid="match-summary">
                {matches.data.summary.matched} matched, {matches.data.summary.mismatched} mismatched,{' '}
                {matches.data.summary.unmatchedConfirmations} confirmations and {matches.data.summary.unmatchedTrades} trades unmatched
              </Text>
            )}
          </SectionHeader>
          {matches.error && <ErrorAlert message={matches.error} />}
          <GridBox testId="unmatched-confirmations" h={300}>
            <AgGridReact<MatchRow>
              theme={gridTheme}
              rowData={open.map(matchRow)}
              columnDefs={matchColumns}
              defaultColDef={defaultColDef}
              loading={matches.loading}
              enableCellTextSelection
            />
          </GridBox>
        </div>
        <div>
          <SectionHeader title={`End-of-day cycle, ${date}`}>
            {eodDays.data && eodDays.data.length > 0 && (
              <Group gap={4} data-testid="eod-days">
                {eodDays.data.slice(0, 5).map((d) => (
                  <Badge
                    key={d.date}
                    size="sm"
                    variant={d.date === date ? 'filled' : 'light'}
                    color={d.status === 'done' ? (d.filesFailed ? 'orange' : 'green') : 'orange'}
                    style={{ cursor: 'pointer' }}
                    onClick={() => setParam('date', d.date === today() ? '' : d.date)}
                  >
                    {d.date}
                  </Badge>
                ))}
              </Group>
            )}
          </SectionHeader>
          {eod.error && <ErrorAlert message={eod.error} />}
          {eod.data && <EodCycle day={eod.data} />}
        </div>
      </SimpleGrid>

      <SectionHeader title="Buy-ins" />
      {buyIns.error && <ErrorAlert message={buyIns.error} />}
      <Paper withBorder p="md">
        <BuyInsTable rows={buyIns.data ?? []} onChange={() => { buyIns.reload(); fails.reload(); }} />
      </Paper>
    </Box>
  );
}

interface MatchRow {
  status: string;
  counterparty: string;
  confId: string;
  symbol: string;
  side: string;
  quantity: string;
  price: string;
  tradeId: string;
  differences: string;
}

function matchRow(m: ConfirmationMatch): MatchRow {
  const c = m.confirmation;
  const t = m.trade;
  return {
    status: m.status === 'unmatched' ? (c ? 'unmatched confirmation' : 'unmatched trade') : m.status,
    counterparty: c?.counterparty ?? t?.counterparty ?? '',
    confId: c?.confId ?? '',
    symbol: c?.symbol ?? t?.symbol ?? '',
    side: c?.side ?? t?.side ?? '',
    quantity: c?.quantity ?? t?.quantity ?? '',
    price: c?.price ?? t?.price ?? '',
    tradeId: t?.execId ?? '',
    differences: m.differences.map((d) => `${d.field}: ours ${d.ours}, theirs ${d.theirs}`).join('; '),
  };
}

const matchColumns: ColDef<MatchRow>[] = [
  { field: 'status', headerName: 'Status', width: 190 },
  { field: 'counterparty', headerName: 'Counterparty', width: 130 },
  { field: 'confId', headerName: 'Conf ID', width: 130 },
  { field: 'symbol', headerName: 'Symbol', width: 100 },
  { field: 'side', headerName: 'Side', width: 80 },
  { field: 'quantity', headerName: 'Quantity', width: 120, ...amountColumn },
  { field: 'price', headerName: 'Price', width: 120, ...amountColumn },
  { field: 'tradeId', headerName: 'Exec ID', width: 140 },
  { field: 'differences', headerName: 'Differences', width: 320 },
];
