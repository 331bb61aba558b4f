import { Button, Group, Select, Text, TextInput } from '@mantine/core';
import type { AgGridReact } from 'ag-grid-react';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router-dom';
import { reference, trading, TRADE_SIDES, TRADE_STATUSES, type Trade, type TradeFilter } from '../api';
import { ErrorAlert, PageHeader, ExportCsvButton } from '../components';
import { GridBox, TradesGrid } from '../trading';
import { useApi } from '../useApi';

const FILTER_KEYS = ['from', 'to', 'account', 'symbol', 'side', 'status'] as const;
type FilterKey = (typeof FILTER_KEYS)[number];
type Filters = Record<FilterKey, string>;
const NO_FILTERS: Filters = { from: '', to: '', account: '', symbol: '', side: '', status: '' };

/** Select options, keeping a value from the URL even when the list does not (yet) hold it. */
function options(values: { value: string; label: string }[], current: string) {
  return current && !values.some((v) => v.value === current) ? [{ value: current, label: current }, ...values] : values;
}

/** Trade blotter: filter on the server, then sort, filter and export in the grid. */
export default function TradesPage() {
  const [params, setParams] = useSearchParams();
  const applied: Filters = { ...NO_FILTERS };
  for (const key of FILTER_KEYS) applied[key] = params.get(key) ?? '';
  const filterKey = FILTER_KEYS.map((k) => applied[k]).join('\u0000');

  const [draft, setDraft] = useState<Filters>(applied);
  // Back/forward between filter sets: show the filters of the page on screen.
  // eslint-disable-next-line react-hooks/exhaustive-deps
  useEffect(() => setDraft(applied), [filterKey]);

  const gridRef = useRef<AgGridReact<Trade>>(null);
  const trades = useApi((signal) => trading.trades(toQuery(applied), signal), [filterKey]);
  const accounts = useApi((signal) => reference.accounts(signal), []);
  const securities = useApi((signal) => reference.securities(signal), []);

  function apply(event: FormEvent) {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const key of FILTER_KEYS) if (draft[key]) next.set(key, draft[key]);
    setParams(next);
  }

  function clear() {
    setDraft(NO_FILTERS);
    setParams(new URLSearchParams());
  }

  const set = (key: FilterKey) => (value: string | null) => setDraft((d) => ({ ...d, [key]: value ?? '' }));
  const rows = trades.data ?? [];

  return (
    <>
      <PageHeader title="Trades">
        <ExportCsvButton grid={gridRef} fileName={'trades.csv'} allColumns disabled={rows.length === 0} />
      </PageHeader>

      <Group component="form" onSubmit={apply} align="flex-end" gap="sm" mb="md" wrap="wrap">
        <TextInput label="From" type="date" value={draft.from} onChange={(e) => set('from')(e.currentTarget.value)} />
        <TextInput label="To" type="date" value={draft.to} onChange={(e) => set('to')(e.currentTarget.value)} />
        <Select
          label="Account"
          placeholder="any"
          data={options(
            (accounts.data ?? []).map((a) => ({ value: a.account, label: `${a.account} — ${a.name}` })),
            draft.account,
          )}
          value={draft.account || null}
          onChange={set('account')}
          searchable
          clearable
          w={240}
        />
        <Select
          label="Security"
          placeholder="any"
          data={options(
            (securities.data ?? []).map((s) => ({ value: s.symbol, label: `${s.symbol} — ${s.name}` })),
            draft.symbol,
          )}
          value={draft.symbol || null}
          onChange={set('symbol')}
          searchable
          clearable
          w={240}
        />
        <Select
          label="Side"
          placeholder="any"
          data={[...TRADE_SIDES]}
          value={draft.side || null}
          onChange={set('side')}
          clearable
          w={120}
        />
        <Select
          label="Status"
          placeholder="any"
          data={[...TRADE_STATUSES]}
          value={draft.status || null}
          onChange={set('status')}
          clearable
          w={140}
        />
        <Button type="submit">Apply filters</Button>
        <Button variant="subtle" onClick={clear}>
          Clear
        </Button>
      </Group>

      {trades.error && <ErrorAlert message={trades.error} />}

      <GridBox testId="trade-blotter" h="calc(100dvh - 300px)">
        <TradesGrid rows={trades.data} loading={trades.loading} gridRef={gridRef} />
      </GridBox>
      <Text size="sm" c="dimmed" mt="xs" data-testid="trade-count">
        {rows.length} {rows.length === 1 ? 'trade' : 'trades'}
      </Text>
    </>
  );
}

function toQuery(filters: Filters): TradeFilter {
  const query: TradeFilter = {};
  for (const key of FILTER_KEYS) if (filters[key]) query[key] = filters[key];
  return query;
}
