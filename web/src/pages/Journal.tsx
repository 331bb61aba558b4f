import { Box, Button, Group, Select, Text, TextInput } from '@mantine/core';
import type { ColDef, RowClickedEvent } from 'ag-grid-community';
import { AgGridReact, type CustomCellRendererProps } from 'ag-grid-react';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router-dom';
import { errorMessage, ledger, type Entry, type EntryFilter } from '../api';
import { AppLink, ErrorAlert, PageHeader, ExportCsvButton } from '../components';
import { entryPath } from '../format';
import { defaultColDef, gridTheme } from '../grid';
import { useApi } from '../useApi';

const FILTER_KEYS = ['from', 'to', 'account', 'asset'] as const;
type FilterKey = (typeof FILTER_KEYS)[number];
type Filters = Record<FilterKey, string>;

function EntryLink({ value }: CustomCellRendererProps<Entry, string>) {
  return value ? <AppLink to={entryPath(value)}>{value}</AppLink> : null;
}

/** One line per posting: "account amount asset; ...". Amounts stay as the server sent them. */
function postingsSummary(entry: Entry): string {
  const more = entry.postingCount - entry.postings.length;
  return entry.postings.map((p) => `${p.account} ${p.amount} ${p.asset}`).join('; ') + (more > 0 ? `; … ${more} more (open the entry)` : '');
}

const columns: ColDef<Entry>[] = [
  { field: 'date', headerName: 'Date', width: 120 },
  { field: 'id', headerName: 'Entry', width: 260, cellRenderer: EntryLink },
  { field: 'memo', headerName: 'Memo', flex: 1, minWidth: 180 },
  { field: 'key', headerName: 'Key', width: 200 },
  { field: 'recordedAt', headerName: 'Recorded at', width: 220 },
  { field: 'createdBy', headerName: 'Created by', width: 130 },
  { field: 'reverses', headerName: 'Reverses', width: 200, hide: true },
  {
    colId: 'postings',
    headerName: 'Postings',
    valueGetter: ({ data }) => (data ? postingsSummary(data) : ''),
    flex: 2,
    minWidth: 260,
    tooltipValueGetter: ({ value }) => (typeof value === 'string' ? value.replaceAll('; ', '\n') : ''),
  },
];

/** Journal blotter: filter on the server, then sort, filter and export in the grid. */
export default function JournalPage() {
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const applied: Filters = {
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
    account: params.get('account') ?? '',
    asset: params.get('asset') ?? '',
  };
  const [draft, setDraft] = useState<Filters>(applied);
  const gridRef = useRef<AgGridReact<Entry>>(null);
  const assets = useApi((signal) => ledger.assets(signal), []);

  const [items, setItems] = useState<Entry[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string>();
  const filterKey = FILTER_KEYS.map((k) => applied[k]).join('\u0000');

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    setError(undefined);
    ledger.entries(toQuery(applied), controller.signal).then(
      (page) => {
        setItems(page.items);
        setNext(page.next);
        setLoading(false);
      },
      (err: unknown) => {
        if (controller.signal.aborted) return;
        setItems([]);
        setNext(null);
        setError(errorMessage(err));
        setLoading(false);
      },
    );
    return () => controller.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [filterKey]);

  // Back/forward between filter sets: show the filters of the page on screen.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  useEffect(() => setDraft(applied), [filterKey]);

  async function loadMore() {
    if (!next) return;
    setLoading(true);
    try {
      const page = await ledger.entries({ ...toQuery(applied), before: next });
      setItems((prev) => [...prev, ...page.items]);
      setNext(page.next);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setLoading(false);
    }
  }

  function apply(event: FormEvent) {
    event.preventDefault();
    const nextParams = new URLSearchParams();
    for (const key of FILTER_KEYS) if (draft[key]) nextParams.set(key, draft[key]);
    setParams(nextParams);
  }

  function clear() {
    setDraft({ from: '', to: '', account: '', asset: '' });
    setParams(new URLSearchParams());
  }

  function openEntry(event: RowClickedEvent<Entry>) {
    // A click on the entry link already navigates.
    if (event.event?.target instanceof Element && event.event.target.closest('a')) return;
    if (event.data) navigate(entryPath(event.data.id));
  }

  const set = (key: FilterKey) => (value: string) => setDraft((d) => ({ ...d, [key]: value }));

  return (
    <>
      <PageHeader title="Journal">
        <ExportCsvButton grid={gridRef} fileName={'journal.csv'} allColumns disabled={items.length === 0} />
      </PageHeader>

      <Group component="form" onSubmit={apply} align="flex-end" gap="sm" mb="md" wrap="wrap">
        <TextInput label="From" type="date" value={draft.from} onChange={(e) => set('from')(e.currentTarget.value)} />
        <TextInput label="To" type="date" value={draft.to} onChange={(e) => set('to')(e.currentTarget.value)} />
        <TextInput
          label="Account"
          placeholder="prefix, e.g. assets:cash"
          value={draft.account}
          onChange={(e) => set('account')(e.currentTarget.value)}
        />
        <Select
          label="Asset"
          placeholder="any"
          data={(assets.data ?? []).map((a) => ({ value: a.code, label: `${a.code} — ${a.name}` }))}
          value={draft.asset || null}
          onChange={(value) => set('asset')(value ?? '')}
          searchable
          clearable
          w={220}
        />
        <Button type="submit">Apply filters</Button>
        <Button variant="subtle" onClick={clear}>
          Clear
        </Button>
      </Group>

      {error && <ErrorAlert message={error} />}

      <Box h="calc(100dvh - 300px)" mih={320} mt="sm">
        <AgGridReact<Entry>
          ref={gridRef}
          theme={gridTheme}
          rowData={items}
          columnDefs={columns}
          defaultColDef={defaultColDef}
          getRowId={({ data }) => data.id}
          onRowClicked={openEntry}
          rowStyle={{ cursor: 'pointer' }}
          loading={loading}
          enableCellTextSelection
          tooltipShowDelay={500}
        />
      </Box>

      <Group justify="space-between" mt="xs">
        <Text size="sm" c="dimmed">
          {items.length} {items.length === 1 ? 'entry' : 'entries'} loaded
          {next ? ' — more on the server' : ''}
        </Text>
        {next && (
          <Button variant="default" size="xs" onClick={() => void loadMore()} loading={loading}>
            Load more
          </Button>
        )}
      </Group>
    </>
  );
}

function toQuery(filters: Filters): EntryFilter {
  const query: EntryFilter = {};
  for (const key of FILTER_KEYS) if (filters[key]) query[key] = filters[key];
  return query;
}
