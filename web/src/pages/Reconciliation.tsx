import {
  Alert, Badge, Box, Button, Drawer, FileInput, Group, Paper, SegmentedControl, Select, SimpleGrid, Stack, Table, Tabs, Text, TextInput, Textarea, Title,
} from '@mantine/core';
import type { ColDef, RowClassParams, RowStyle } from 'ag-grid-community';
import { AgGridReact, type CustomCellRendererProps } from 'ag-grid-react';
import { useMemo, useRef, useState, type FormEvent } from 'react';
import { errorMessage } from '../api';
import { useAuth } from '../auth';
import { AppLink, DetailFields, ErrorAlert, ExportCsvButton, PageHeader, SectionHeader } from '../components';
import { entryPath, today } from '../format';
import { amountColumn, defaultColDef, gridTheme } from '../grid';
import {
  BREAK_LABELS, BreakTypeBadge, canApproveRecon, canManageRecon, recon,
  type Break, type BreakDetail, type BreakType, type OurMovement, type OurPosition, type RunSummary, type StatementLine, type StatementRow,
} from '../reconciliation';
import { GridBox, useQueryParams } from '../trading';
import { useApi } from '../useApi';
import { RulesTab } from './ReconRules';

/**
 * The reconciliation workspace: statements in (import, link), a statement beside our side with the
 * matched pairs and the rule that made each, runs, and the breaks grid where people assign, comment
 * and resolve breaks (match by hand, or an adjusting entry proposed by one person and approved by
 * another), and the ordered matching rules of each linked account.
 */
export default function ReconciliationPage() {
  const [params, setParam] = useQueryParams();
  const tab = params.get('tab') === 'breaks' ? 'breaks' : params.get('tab') === 'rules' ? 'rules' : 'statements';
  const { user } = useAuth();
  const manage = canManageRecon(user?.role);
  const [generation, setGeneration] = useState(0);
  const refresh = () => setGeneration((g) => g + 1);

  return (
    <Box data-testid="reconciliation">
      <PageHeader title="Reconciliation" />
      {manage && <Actions onChange={refresh} />}
      <Tabs value={tab} onChange={(v) => setParam('tab', v === 'breaks' || v === 'rules' ? v : '')} mt="md">
        <Tabs.List>
          <Tabs.Tab value="statements">Statements</Tabs.Tab>
          <Tabs.Tab value="breaks">Breaks</Tabs.Tab>
          <Tabs.Tab value="rules" data-testid="recon-rules-tab">Matching rules</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="statements" pt="md">
          {tab === 'statements' && <StatementsTab generation={generation} onChange={refresh} />}
        </Tabs.Panel>
        <Tabs.Panel value="breaks" pt="md">
          {tab === 'breaks' && <BreaksTab generation={generation} onChange={refresh} />}
        </Tabs.Panel>
        <Tabs.Panel value="rules" pt="md">
          {tab === 'rules' && <RulesTab generation={generation} />}
        </Tabs.Panel>
      </Tabs>
    </Box>
  );
}

// ---- Import and run ------------------------------------------------------------------------------

function Actions({ onChange }: { onChange: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState<string>();
  const [error, setError] = useState<string>();
  const [message, setMessage] = useState<string>();
  const [run, setRun] = useState<RunSummary>();
  const links = useApi((signal) => recon.links(signal), []);
  const [account, setAccount] = useState<string | null>(null);
  const [date, setDate] = useState(today());

  async function doImport(e: FormEvent) {
    e.preventDefault();
    if (!file) return;
    setBusy('import'); setError(undefined); setMessage(undefined); setRun(undefined);
    try {
      const r = await recon.importFile(file.name, await file.text());
      const stored = r.statements.filter((s) => s.status === 'stored').length;
      const dup = r.statements.filter((s) => s.status === 'duplicate').length;
      const refused = r.statements.filter((s) => s.status === 'refused');
      setMessage(`${file.name}: ${r.duplicateFile ? 'imported before, nothing changed' : `${stored} stored, ${dup} duplicate(s), ${refused.length} refused`}`
        + refused.map((s) => ` — ${s.statementId} refused: ${s.check}`).join(''));
      setFile(null);
      onChange();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(undefined);
    }
  }

  async function doRun(e: FormEvent) {
    e.preventDefault();
    if (!account) return;
    setBusy('run'); setError(undefined); setMessage(undefined);
    try {
      setRun(await recon.run(account, date));
      onChange();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(undefined);
    }
  }

  return (
    <Stack gap="xs">
      <Group align="flex-end" gap="lg" wrap="wrap">
        <Group component="form" onSubmit={doImport} align="flex-end" gap="sm">
          <FileInput label="Statement file" placeholder="camt.05x, MT940/950, semt.002, MT535, CSV" value={file} onChange={setFile} clearable w={320} data-testid="recon-file" />
          <Button type="submit" loading={busy === 'import'} disabled={!file}>Import</Button>
        </Group>
        <Group component="form" onSubmit={doRun} align="flex-end" gap="sm">
          <Select
            label="Account" placeholder="linked account" w={260} searchable value={account} onChange={setAccount} data-testid="recon-run-account"
            data={(links.data ?? []).map((l) => ({ value: l.statementAccount, label: `${l.statementAccount} → ${l.ledgerAccount}` }))}
          />
          <TextInput label="As of" type="date" value={date} onChange={(e) => setDate(e.currentTarget.value)} />
          <Button type="submit" loading={busy === 'run'} disabled={!account}>Run reconciliation</Button>
        </Group>
      </Group>
      {error && <ErrorAlert message={error} />}
      {message && <Alert color="blue" data-testid="recon-message">{message}</Alert>}
      {run && (
        <Alert color="green" title={`Run ${run.runId}: ${run.account} as of ${run.asOf}`} data-testid="recon-run-result">
          Matched {run.matched.total}{Object.keys(run.matched.byRule).length > 0 && ` (${Object.entries(run.matched.byRule).map(([k, v]) => `${k} ${v}`).join(', ')})`};
          {' '}breaks: {run.breaks.found} new, {run.breaks.resolved} resolved, {run.breaks.open} open
          {Object.keys(run.breaks.byType).length > 0 && ` (${Object.entries(run.breaks.byType).map(([k, v]) => `${BREAK_LABELS[k as BreakType]} ${v}`).join(', ')})`}.
          {run.balances.map((b) => <Text key={b.statementId} size="sm">Closing {b.date}: theirs {b.theirs}, ours {b.ours}, difference {b.difference}</Text>)}
        </Alert>
      )}
    </Stack>
  );
}

// ---- Statements ------------------------------------------------------------------------------------

function CheckCell({ value }: CustomCellRendererProps<StatementRow, string>) {
  return value === 'ok' ? <Badge color="green" variant="light">ok</Badge> : <Text size="xs" c="red" title={value ?? ''}>{value}</Text>;
}
function LinkedCell({ value }: CustomCellRendererProps<StatementRow, string | null>) {
  return value ? <Text size="sm">{value}</Text> : <Badge color="orange" variant="light">unlinked</Badge>;
}

const statementColumns: ColDef<StatementRow>[] = [
  { field: 'statementDate', headerName: 'Date', width: 120, sort: 'desc' },
  { field: 'account', headerName: 'Account', width: 200 },
  { field: 'kind', headerName: 'Kind', width: 100 },
  { field: 'statementId', headerName: 'Statement', width: 220 },
  { field: 'format', headerName: 'Format', width: 150 },
  { field: 'currency', headerName: 'Ccy', width: 80 },
  { field: 'opening', headerName: 'Opening', width: 130, ...amountColumn },
  { field: 'closing', headerName: 'Closing', width: 130, ...amountColumn },
  { field: 'entries', headerName: 'Lines', width: 90, type: 'rightAligned' },
  { field: 'matched', headerName: 'Matched', width: 100, type: 'rightAligned' },
  { field: 'openBreaks', headerName: 'Open breaks', width: 120, type: 'rightAligned' },
  { field: 'check', headerName: 'Check', width: 160, cellRenderer: CheckCell },
  { field: 'linked', headerName: 'Linked to', width: 220, cellRenderer: LinkedCell },
];

function StatementsTab({ generation, onChange }: { generation: number; onChange: () => void }) {
  const [params, setParam] = useQueryParams();
  const selected = params.get('statement') ?? '';
  const list = useApi((signal) => recon.statements({}, signal), [generation]);
  const gridRef = useRef<AgGridReact<StatementRow>>(null);
  const rows = list.data ?? [];
  return (
    <>
      {list.error && <ErrorAlert message={list.error} />}
      <Group justify="flex-end" mb="xs">
        <ExportCsvButton grid={gridRef} fileName="statements.csv" disabled={!rows.length} />
      </Group>
      <GridBox testId="recon-statements" h={280}>
        <AgGridReact<StatementRow>
          ref={gridRef} theme={gridTheme} rowData={rows} columnDefs={statementColumns} defaultColDef={defaultColDef} loading={list.loading}
          getRowId={({ data }) => data.id} onRowClicked={(e) => e.data && setParam('statement', e.data.id)}
          rowSelection={{ mode: 'singleRow', checkboxes: false, enableClickSelection: true }}
        />
      </GridBox>
      {selected && <StatementBeside id={selected} generation={generation} onChange={onChange} />}
    </>
  );
}

const MATCHED_STYLE: RowStyle = { background: 'var(--mantine-color-green-0)' };
const BREAK_STYLE: RowStyle = { background: 'var(--mantine-color-red-0)' };
const FOCUS_STYLE: RowStyle = { background: 'var(--mantine-color-yellow-2)' };

function stateOf(x: { match: { id: string; rule: string; method: string } | null; breakId: string | null; breakType: BreakType | null }) {
  if (x.match) return `${x.match.rule}${x.match.method !== 'auto' ? ` (${x.match.method})` : ''}`;
  if (x.breakType) return BREAK_LABELS[x.breakType];
  return '';
}

/** A statement's lines beside our movements (or positions): matched pairs share a colour when one is clicked. */
function StatementBeside({ id, generation, onChange }: { id: string; generation: number; onChange: () => void }) {
  const view = useApi((signal) => recon.statement(id, signal), [id, generation]);
  const [, setParam] = useQueryParams();
  const [focus, setFocus] = useState<string>();
  const rowStyle = <T extends { match: { id: string } | null; breakId: string | null }>(p: RowClassParams<T>): RowStyle | undefined => {
    const d = p.data;
    if (!d) return undefined;
    if (focus && d.match?.id === focus) return FOCUS_STYLE;
    return d.match ? MATCHED_STYLE : d.breakId ? BREAK_STYLE : undefined;
  };
  const lineCols = useMemo<ColDef<StatementLine>[]>(() => [
    { field: 'index', headerName: '#', width: 70 },
    { field: 'bookingDate', headerName: 'Booked', width: 115 },
    { field: 'amount', headerName: 'Amount', width: 120, ...amountColumn },
    { field: 'security', headerName: 'Security', width: 140, hide: view.data?.statement.kind !== 'holdings' },
    { field: 'ourRef', headerName: 'Our ref', width: 140 },
    { field: 'servicerRef', headerName: 'Bank ref', width: 130 },
    { field: 'transactionCount', headerName: 'Count', width: 80, type: 'rightAligned' },
    { headerName: 'State', width: 170, valueGetter: (p) => (p.data ? stateOf(p.data) : '') },
    { headerName: 'Match', width: 100, valueGetter: (p) => p.data?.match?.id ?? '' },
    { field: 'remittance', headerName: 'Details', width: 220 },
  ], [view.data?.statement.kind]);
  const ourCols = useMemo<ColDef<OurMovement>[]>(() => [
    { field: 'date', headerName: 'Date', width: 115 },
    { field: 'amount', headerName: 'Amount', width: 120, ...amountColumn },
    { field: 'entryKey', headerName: 'Key', width: 150 },
    { headerName: 'State', width: 170, valueGetter: (p) => (p.data ? stateOf(p.data) : '') },
    { headerName: 'Match', width: 100, valueGetter: (p) => p.data?.match?.id ?? '' },
    { field: 'memo', headerName: 'Memo', width: 220 },
    { field: 'entryId', headerName: 'Entry', width: 240, cellRenderer: ({ value }: CustomCellRendererProps<OurMovement, string>) => (value ? <AppLink to={entryPath(value)}>{value}</AppLink> : null) },
  ], []);
  const posCols = useMemo<ColDef<OurPosition>[]>(() => [
    { field: 'asset', headerName: 'Security', width: 110 },
    { field: 'isin', headerName: 'ISIN', width: 140 },
    { field: 'quantity', headerName: 'Our quantity', width: 130, ...amountColumn },
    { headerName: 'State', width: 170, valueGetter: (p) => (p.data ? stateOf(p.data) : '') },
    { headerName: 'Match', width: 100, valueGetter: (p) => p.data?.match?.id ?? '' },
  ], []);
  if (view.error) return <ErrorAlert message={view.error} />;
  const v = view.data;
  if (!v) return <Text c="dimmed" mt="md">Loading the statement…</Text>;
  const s = v.statement;
  return (
    <Box mt="md" data-testid="recon-statement">
      <SectionHeader title={`${s.statementId} — ${s.account}`} />
      <DetailFields fields={[
        ['Format', s.format], ['Period', `${s.fromDate ?? '?'} – ${s.statementDate ?? s.toDate ?? '?'}`], ['Opening', s.opening ?? '—'], ['Closing', s.closing ?? '—'],
        ['Check', s.check], ['Linked to', s.linked ?? 'not linked'], ['Matched lines', `${s.matched} of ${s.entries}`], ['Open breaks', String(s.openBreaks)],
      ]} />
      {!s.linked && <LinkForm statement={s} onChange={onChange} />}
      {s.linked && <Button variant="subtle" size="compact-sm" mt={4} onClick={() => { setParam('account', s.account); setParam('tab', 'rules'); }}>Matching rules of {s.account}</Button>}
      <Text size="sm" c="dimmed" mt="xs">Click a matched row: its counterparts light up on the other side. Green: matched (the rule is shown); red: in a break.</Text>
      <SimpleGrid cols={{ base: 1, lg: 2 }} mt="xs">
        <Box>
          <Title order={5} mb={4}>Statement ({v.lines.length} lines)</Title>
          <GridBox testId="recon-statement-lines" h={360}>
            <AgGridReact<StatementLine>
              theme={gridTheme} rowData={v.lines} columnDefs={lineCols} defaultColDef={defaultColDef} getRowId={({ data }) => data.lineId}
              getRowStyle={rowStyle} onRowClicked={(e) => setFocus(e.data?.match?.id)}
            />
          </GridBox>
        </Box>
        <Box>
          <Title order={5} mb={4}>Our side{s.linked ? ` — ${s.linked}` : ''}{v.oursLimited ? ' (first 20,000)' : ''}</Title>
          <GridBox testId="recon-statement-ours" h={360}>
            {s.kind === 'holdings' ? (
              <AgGridReact<OurPosition>
                theme={gridTheme} rowData={v.positions} columnDefs={posCols} defaultColDef={defaultColDef} getRowId={({ data }) => data.asset}
                getRowStyle={rowStyle} onRowClicked={(e) => setFocus(e.data?.match?.id)}
              />
            ) : (
              <AgGridReact<OurMovement>
                theme={gridTheme} rowData={v.ours} columnDefs={ourCols} defaultColDef={defaultColDef} getRowId={({ data }) => `${data.entryId}:${data.line}`}
                getRowStyle={rowStyle} onRowClicked={(e) => setFocus(e.data?.match?.id)}
              />
            )}
          </GridBox>
        </Box>
      </SimpleGrid>
    </Box>
  );
}

function LinkForm({ statement, onChange }: { statement: StatementRow; onChange: () => void }) {
  const { user } = useAuth();
  const [ledger, setLedger] = useState(statement.kind === 'holdings' ? 'assets:depository:' : 'assets:bank:');
  const [asset, setAsset] = useState(statement.currency ?? '');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  if (!canManageRecon(user?.role)) return null;
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true); setError(undefined);
    try {
      await recon.link({ statementAccount: statement.account, ledgerAccount: ledger, ...(statement.kind === 'cash' && asset ? { asset } : {}) });
      onChange();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <Paper withBorder p="sm" mt="sm" data-testid="recon-link">
      <Group component="form" onSubmit={submit} align="flex-end" gap="sm">
        <Text size="sm">This account is not linked: its statements are stored and checked, not reconciled.</Text>
        <TextInput label={statement.kind === 'holdings' ? 'Ledger account prefix (positions)' : 'Ledger account'} value={ledger} onChange={(e) => setLedger(e.currentTarget.value)} w={280} required />
        {statement.kind === 'cash' && <TextInput label="Asset" value={asset} onChange={(e) => setAsset(e.currentTarget.value)} w={90} />}
        <Button type="submit" loading={busy}>Link</Button>
      </Group>
      {error && <Box mt="xs"><ErrorAlert message={error} /></Box>}
    </Paper>
  );
}

// ---- Breaks ----------------------------------------------------------------------------------------

function TypeCell({ value }: CustomCellRendererProps<Break, BreakType>) {
  return value ? <BreakTypeBadge type={value} /> : null;
}

const itemsOf = (b: Break) => [
  ...b.items.theirs.map((l) => `${l.statementId}#${l.index} ${l.amount}${l.security ? ` ${l.security}` : ''}`),
  ...b.items.ours.map((o) => `${o.entryKey} ${o.amount}`),
  ...(b.asset && !b.items.ours.length ? [`position ${b.asset} ${b.ours ?? ''}`] : []),
].join('; ');

const breakColumns: ColDef<Break>[] = [
  { field: 'date', headerName: 'Date', width: 115 },
  { field: 'ageDays', headerName: 'Age', width: 80, type: 'rightAligned' },
  { field: 'bucket', headerName: 'Bucket', width: 95 },
  { field: 'type', headerName: 'Type', width: 170, cellRenderer: TypeCell },
  { field: 'account', headerName: 'Account', width: 190 },
  { field: 'unit', headerName: 'Unit', width: 80 },
  { field: 'theirs', headerName: 'Theirs', width: 120, ...amountColumn },
  { field: 'ours', headerName: 'Ours', width: 120, ...amountColumn },
  { field: 'difference', headerName: 'Difference', width: 120, ...amountColumn },
  { field: 'assignee', headerName: 'Assignee', width: 120 },
  { headerName: 'Pending', width: 110, valueGetter: (p) => (p.data?.pendingAdjustment ? 'adjustment' : '') },
  { field: 'comments', headerName: 'Notes', width: 85, type: 'rightAligned' },
  { field: 'status', headerName: 'Status', width: 100 },
  { field: 'resolution', headerName: 'Resolution', width: 130 },
  { headerName: 'Items', width: 320, valueGetter: (p) => (p.data ? itemsOf(p.data) : '') },
  { field: 'id', headerName: 'Break', width: 260, hide: true },
];

function BreaksTab({ generation, onChange }: { generation: number; onChange: () => void }) {
  const [params, setParam] = useQueryParams();
  const status = params.get('status') ?? 'open';
  const asOf = params.get('asOf') ?? '';
  const open = params.get('break') ?? '';
  const list = useApi((signal) => recon.breaks({ status: status === 'all' ? undefined : status, asOf: asOf || undefined }, signal), [status, asOf, generation]);
  const gridRef = useRef<AgGridReact<Break>>(null);
  const [selected, setSelected] = useState<string[]>([]);
  const rows = list.data?.breaks ?? [];
  return (
    <>
      <Group align="flex-end" gap="sm" mb="sm" wrap="wrap">
        <SegmentedControl value={status} onChange={(v) => setParam('status', v === 'open' ? '' : v)} data={[{ value: 'open', label: 'Open' }, { value: 'resolved', label: 'Resolved' }, { value: 'all', label: 'All' }]} />
        <TextInput label="Age as of" type="date" value={asOf} onChange={(e) => setParam('asOf', e.currentTarget.value)} />
        <Box style={{ flex: 1 }} />
        <ExportCsvButton grid={gridRef} fileName="breaks.csv" allColumns disabled={!rows.length} />
      </Group>
      {list.error && <ErrorAlert message={list.error} />}
      {list.data && <Aging aging={list.data.aging} />}
      <GridBox testId="recon-breaks" h="calc(100dvh - 420px)">
        <AgGridReact<Break>
          ref={gridRef} theme={gridTheme} rowData={rows} columnDefs={breakColumns} defaultColDef={defaultColDef} loading={list.loading}
          getRowId={({ data }) => data.id} rowSelection={{ mode: 'multiRow', enableClickSelection: false }}
          onSelectionChanged={(e) => setSelected(e.api.getSelectedRows().map((r) => r.id))}
          onRowClicked={(e) => e.data && setParam('break', e.data.id)} enableCellTextSelection
        />
      </GridBox>
      <Text size="sm" c="dimmed" mt="xs">{list.data ? `${list.data.total} break(s) as of ${list.data.asOf}` : ''}{selected.length > 1 ? ` — ${selected.length} selected: open one to match them together by hand` : ''}</Text>
      <Drawer opened={!!open} onClose={() => setParam('break', '')} position="right" size="xl" title="Break">
        {open && <BreakPanel id={open} selected={selected} generation={generation} onChange={onChange} />}
      </Drawer>
    </>
  );
}

function Aging({ aging }: { aging: { bucket: string; count: number }[] }) {
  const max = Math.max(1, ...aging.map((a) => a.count));
  return (
    <Group gap="md" mb="sm" align="flex-end" data-testid="recon-aging">
      <Text size="sm" fw={500}>Open breaks by age (days):</Text>
      {aging.map((a) => (
        <Stack key={a.bucket} gap={2} align="center">
          <Box w={36} h={Math.max(2, Math.round((40 * a.count) / max))} bg={a.count ? 'red.5' : 'gray.3'} title={`${a.count}`} />
          <Text size="xs">{a.bucket}</Text>
          <Text size="xs" fw={600}>{a.count}</Text>
        </Stack>
      ))}
    </Group>
  );
}

function BreakPanel({ id, selected, generation, onChange }: { id: string; selected: string[]; generation: number; onChange: () => void }) {
  const { user } = useAuth();
  const [tick, setTick] = useState(0);
  const detail = useApi((signal) => recon.break(id, signal), [id, generation, tick]);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState<string>();
  const [assignee, setAssignee] = useState('');
  const [comment, setComment] = useState('');
  const [reason, setReason] = useState('');
  const [offset, setOffset] = useState('');
  const [amount, setAmount] = useState('');
  const [rejectReason, setRejectReason] = useState('');
  const manage = canManageRecon(user?.role);
  const approve = canApproveRecon(user?.role);

  async function act(name: string, f: () => Promise<unknown>) {
    setBusy(name); setError(undefined);
    try {
      await f();
      setTick((t) => t + 1);
      onChange();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(undefined);
    }
  }
  if (detail.error) return <ErrorAlert message={detail.error} />;
  const b: BreakDetail | undefined = detail.data;
  if (!b) return <Text c="dimmed">Loading…</Text>;
  const others = selected.filter((x) => x !== b.id);
  const pending = b.pendingAdjustment;
  return (
    <Stack gap="sm" data-testid="recon-break">
      <Group gap="xs"><BreakTypeBadge type={b.type} /><Badge variant="outline">{b.status}{b.resolution ? `: ${b.resolution}` : ''}</Badge></Group>
      <DetailFields fields={[
        ['Account', `${b.account}${b.ledgerAccount ? ` → ${b.ledgerAccount}` : ''}`], ['Date', b.date], ['Age', `${b.ageDays} days (${b.bucket})`], ['Unit', b.unit],
        ['Theirs', b.theirs ?? '—'], ['Ours', b.ours ?? '—'], ['Difference', b.difference ?? '—'], ['Assignee', b.assignee ?? '—'],
      ]} />
      <Table withTableBorder fz="sm">
        <Table.Tbody>
          {b.items.theirs.map((l) => (
            <Table.Tr key={l.lineId}><Table.Td>statement</Table.Td><Table.Td>{l.statementId} #{l.index}</Table.Td><Table.Td>{l.date}</Table.Td><Table.Td ta="right">{l.amount}</Table.Td><Table.Td>{l.ourRef ?? l.security ?? l.description ?? ''}</Table.Td></Table.Tr>
          ))}
          {b.items.ours.map((o) => (
            <Table.Tr key={`${o.entryId}`}><Table.Td>ours</Table.Td><Table.Td><AppLink to={entryPath(o.entryId)}>{o.entryKey}</AppLink></Table.Td><Table.Td>{o.date}</Table.Td><Table.Td ta="right">{o.amount}</Table.Td><Table.Td>{o.memo}</Table.Td></Table.Tr>
          ))}
          {b.asset && b.items.ours.length === 0 && (
            <Table.Tr><Table.Td>ours</Table.Td><Table.Td>position {b.asset}</Table.Td><Table.Td>{b.date}</Table.Td><Table.Td ta="right">{b.ours}</Table.Td><Table.Td /></Table.Tr>
          )}
        </Table.Tbody>
      </Table>
      {b.entryId && <Text size="sm">Adjusting entry: <AppLink to={entryPath(b.entryId)}>{b.entryId}</AppLink></Text>}
      {error && <ErrorAlert message={error} />}

      {b.status === 'open' && manage && (
        <>
          <Group align="flex-end" gap="xs">
            <TextInput label="Assign to (user)" value={assignee} onChange={(e) => setAssignee(e.currentTarget.value)} w={200} />
            <Button variant="default" loading={busy === 'assign'} disabled={!assignee} onClick={() => act('assign', () => recon.assign(b.id, assignee))}>Assign</Button>
            {b.assignee && <Button variant="subtle" onClick={() => act('assign', () => recon.assign(b.id, null))}>Unassign</Button>}
          </Group>
          <Paper withBorder p="sm">
            <Text size="sm" fw={500}>Match by hand{others.length ? ` with ${others.length} other selected break(s)` : ''}</Text>
            <Group align="flex-end" gap="xs">
              <TextInput label="Reason" value={reason} onChange={(e) => setReason(e.currentTarget.value)} style={{ flex: 1 }} />
              <Button loading={busy === 'match'} disabled={!reason.trim()} onClick={() => act('match', () => recon.match([b.id, ...others], reason))}>Match</Button>
            </Group>
          </Paper>
          {!pending && (
            <Paper withBorder p="sm">
              <Text size="sm" fw={500}>Propose an adjusting entry (another person approves it)</Text>
              <Group align="flex-end" gap="xs">
                <TextInput label="Offset account" placeholder="expenses:bank-charges" value={offset} onChange={(e) => setOffset(e.currentTarget.value)} w={240} />
                <TextInput label="Amount (default: theirs − ours)" value={amount} onChange={(e) => setAmount(e.currentTarget.value)} w={200} />
                <Button loading={busy === 'propose'} disabled={!offset} onClick={() => act('propose', () => recon.propose(b.id, { offsetAccount: offset, ...(amount ? { amount } : {}) }))}>Propose</Button>
              </Group>
            </Paper>
          )}
        </>
      )}
      {pending && (
        <Paper withBorder p="sm" data-testid="recon-pending-adjustment">
          <Text size="sm" fw={500}>Adjustment {pending.id} proposed by {pending.proposedBy}, waiting for approval</Text>
          {pending.entry.postings.map((p) => <Text key={p.account} size="sm" ff="monospace">{pending.entry.date} {p.account} {p.amount} {p.asset}</Text>)}
          {approve && (
            <Group align="flex-end" gap="xs" mt="xs">
              <Button color="green" loading={busy === 'approve'} disabled={pending.proposedBy === user?.name} title={pending.proposedBy === user?.name ? 'You proposed it: a second person approves' : ''}
                onClick={() => act('approve', () => recon.approve(pending.id))}>Approve and post</Button>
              <TextInput placeholder="reason to reject" value={rejectReason} onChange={(e) => setRejectReason(e.currentTarget.value)} />
              <Button color="red" variant="light" loading={busy === 'reject'} disabled={!rejectReason.trim()} onClick={() => act('reject', () => recon.reject(pending.id, rejectReason))}>Reject</Button>
            </Group>
          )}
        </Paper>
      )}
      {manage && (
        <Group align="flex-end" gap="xs">
          <Textarea label="Comment" value={comment} onChange={(e) => setComment(e.currentTarget.value)} autosize minRows={1} style={{ flex: 1 }} />
          <Button variant="default" loading={busy === 'comment'} disabled={!comment.trim()} onClick={() => act('comment', async () => { await recon.comment(b.id, comment); setComment(''); })}>Comment</Button>
        </Group>
      )}
      <SectionHeader title="History" />
      <Table fz="xs" data-testid="recon-break-history">
        <Table.Tbody>
          {b.history.map((h, i) => (
            <Table.Tr key={i}><Table.Td>{h.at.replace('T', ' ').slice(0, 19)}</Table.Td><Table.Td>{h.actor}</Table.Td><Table.Td>{h.action.replace(/_/g, ' ')}</Table.Td>
              <Table.Td>{typeof h.data.text === 'string' ? h.data.text : typeof h.data.reason === 'string' ? h.data.reason : typeof h.data.assignee === 'string' ? h.data.assignee : ''}</Table.Td></Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Stack>
  );
}
