/**
 * Financial statements: the balance sheet (as of a date) and the income statement (over a
 * period) in the base currency, with the account tree and its subtotals, the check that the
 * balance sheet balances, a click on an account to see its entries, and exports (CSV and XLSX
 * come from the API, so the file is the one the CLI writes). The close status sits on top, with a
 * link to the close page (adjustments waiting for approval).
 */
import { Alert, Anchor, Badge, Button, Checkbox, Group, List, Loader, Modal, Paper, SegmentedControl, Table, Text, TextInput } from '@mantine/core';
import { useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { api, withQuery } from '../api';
import { AppLink, ErrorAlert, PageHeader, amountStyle } from '../components';
import { entryPath, today } from '../format';
import { useApi } from '../useApi';

// ---- Contract (src/accounting/close/statements.ts) ------------------------------------------

export interface StatementRow {
  section: 'assets' | 'liabilities' | 'equity' | 'income' | 'expenses' | 'check';
  kind: 'group' | 'account' | 'computed' | 'total' | 'check';
  account: string | null;
  exact: boolean;
  label: string;
  level: number;
  amount: string;
  native: { asset: string; amount: string; note: string }[];
}

interface StatementCommon {
  base: string;
  afterAdjustments: boolean;
  rows: StatementRow[];
  rates: { currency: string; rate: string; date: string }[];
  basis: string[];
  warnings: string[];
  notes: string[];
  adjustments: { id: string; period: string; targetDate: string; postedDate: string; entryId: string; memo: string }[];
}

export interface BalanceSheet extends StatementCommon {
  statement: 'balance-sheet';
  asOf: string;
  totals: { assets: string; liabilities: string; equity: string; liabilitiesAndEquity: string };
  check: { difference: string; balanced: boolean };
}

export interface IncomeStatement extends StatementCommon {
  statement: 'income-statement';
  from: string;
  to: string;
  totals: { income: string; expenses: string; netIncome: string };
}

interface AccountEntries {
  account: string;
  from: string;
  to: string;
  base: string;
  opening: { account: string; asset: string; amount: string; base: string | null }[];
  rows: { entryId: string; date: string; postedDate: string; memo: string; account: string; asset: string; amount: string; base: string | null; adjustment: string | null }[];
  closing: { account: string; asset: string; amount: string; base: string | null }[];
  truncated: boolean;
}

export interface CloseStatus {
  closedThrough: string | null;
  nextPeriod: string | null;
  pendingAdjustments: number;
  closes: { period: string; closedThrough: string; closedAt: string; closedBy: string; checks: { name: string; ok: boolean; blocking: boolean; detail: string }[] }[];
}

const BS = '/api/accounting/statements/balance-sheet';
const IS = '/api/accounting/statements/income-statement';
const firstOfMonth = (d: string) => `${d.slice(0, 7)}-01`;

const SECTION_TITLE: Record<StatementRow['section'], string> = {
  assets: 'Assets', liabilities: 'Liabilities', equity: 'Equity', income: 'Income', expenses: 'Expenses', check: 'Check',
};

export default function FinancialStatementsPage() {
  const [params, setParams] = useSearchParams();
  const kind = params.get('statement') === 'income-statement' ? 'income-statement' : 'balance-sheet';
  const asOf = params.get('asOf') || today();
  const to = params.get('to') || today();
  const from = params.get('from') || firstOfMonth(to);
  const restated = params.get('afterAdjustments') === 'true';
  const set = (patch: Record<string, string>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(patch)) next.set(k, v);
    setParams(next, { replace: true });
  };
  const query = kind === 'balance-sheet'
    ? { asOf, afterAdjustments: restated ? 'true' : undefined }
    : { from, to, afterAdjustments: restated ? 'true' : undefined };
  const path = kind === 'balance-sheet' ? BS : IS;
  const statement = useApi((signal) => api<BalanceSheet | IncomeStatement>(path, { query, signal }), [path, asOf, from, to, restated]);
  const status = useApi((signal) => api<CloseStatus>('/api/accounting/close/status', { signal }), []);
  const [drill, setDrill] = useState<{ account: string; exact: boolean } | undefined>();
  const drillRange = kind === 'balance-sheet' ? { from: firstOfMonth(asOf), to: asOf } : { from, to };

  return (
    <>
      <PageHeader title="Financial statements">
        <SegmentedControl
          value={kind}
          onChange={(v) => set({ statement: v })}
          data={[{ label: 'Balance sheet', value: 'balance-sheet' }, { label: 'Income statement', value: 'income-statement' }]}
        />
        {kind === 'balance-sheet' ? (
          <TextInput label="As of" type="date" value={asOf} onChange={(e) => e.currentTarget.value && set({ asOf: e.currentTarget.value })} />
        ) : (
          <>
            <TextInput label="From" type="date" value={from} onChange={(e) => e.currentTarget.value && set({ from: e.currentTarget.value })} />
            <TextInput label="To" type="date" value={to} onChange={(e) => e.currentTarget.value && set({ to: e.currentTarget.value })} />
          </>
        )}
        <Checkbox
          label="After prior-period adjustments"
          checked={restated}
          onChange={(e) => set({ afterAdjustments: String(e.currentTarget.checked) })}
          mt="lg"
        />
        <Button component="a" variant="default" mt="lg" href={withQuery(path, { ...query, format: 'csv' })} download data-testid="export-csv">
          Export CSV
        </Button>
        <Button component="a" variant="default" mt="lg" href={withQuery(path, { ...query, format: 'xlsx' })} download data-testid="export-xlsx">
          Export XLSX
        </Button>
      </PageHeader>

      {status.data && (
        <Paper withBorder p="sm" mb="md" data-testid="close-status">
          <Group justify="space-between">
            <Text size="sm">
              Books closed through <b>{status.data.closedThrough ?? 'no date yet'}</b>
              {status.data.nextPeriod && <> · next month to close: <b>{status.data.nextPeriod}</b></>}
              {' · '}
              {status.data.pendingAdjustments
                ? <Badge color="orange" variant="light">{status.data.pendingAdjustments} adjustment(s) waiting for approval</Badge>
                : 'no adjustment waiting'}
            </Text>
            <AppLink to="/statements/close">Close and adjustments</AppLink>
          </Group>
        </Paper>
      )}

      {statement.error && <ErrorAlert message={statement.error} />}
      {statement.loading && !statement.data && <Loader />}
      {statement.data && <StatementView s={statement.data} onDrill={setDrill} />}

      <Modal opened={!!drill} onClose={() => setDrill(undefined)} title={drill ? `${drill.account}: entries ${drillRange.from} to ${drillRange.to}` : ''} size="90%">
        {drill && <Drill account={drill.account} from={drillRange.from} to={drillRange.to} restated={restated} />}
      </Modal>
    </>
  );
}

function StatementView({ s, onDrill }: { s: BalanceSheet | IncomeStatement; onDrill: (d: { account: string; exact: boolean }) => void }) {
  let section = '';
  return (
    <>
      <Text size="sm" c="dimmed" mb="xs">
        {s.statement === 'balance-sheet' ? `As of ${s.asOf}` : `${s.from} to ${s.to}`}, in {s.base}
        {s.afterAdjustments ? ', after prior-period adjustments' : ', as booked'}
        {s.rates.length > 0 && <> · rates: {s.rates.map((r) => `1 ${r.currency} = ${r.rate} ${s.base} (${r.date})`).join('; ')}</>}
      </Text>
      {s.statement === 'balance-sheet' && (
        <Alert color={s.check.balanced ? 'green' : 'red'} mb="sm" data-testid="balance-check" title={s.check.balanced ? 'The balance sheet balances' : 'The balance sheet does not balance'}>
          Assets {s.totals.assets} = liabilities {s.totals.liabilities} + equity {s.totals.equity} = {s.totals.liabilitiesAndEquity} {s.base}
          {!s.check.balanced && <> · difference {s.check.difference}</>}
        </Alert>
      )}
      {s.statement === 'income-statement' && (
        <Alert color="blue" mb="sm" data-testid="net-income" title={`Net income ${s.totals.netIncome} ${s.base}`}>
          Income {s.totals.income} less expenses {s.totals.expenses}
        </Alert>
      )}
      {s.warnings.map((w) => <Alert key={w} color="yellow" mb="xs">{w}</Alert>)}
      <Table.ScrollContainer minWidth={720}>
        <Table withTableBorder highlightOnHover data-testid="statement">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Line</Table.Th>
              <Table.Th style={amountStyle}>Amount ({s.base})</Table.Th>
              <Table.Th>Foreign / securities</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {s.rows.flatMap((r, i) => {
              const out = [];
              if (r.section !== section && r.kind !== 'total') {
                section = r.section;
                out.push(
                  <Table.Tr key={`h${i}`}>
                    <Table.Td colSpan={3}><Text fw={700} tt="uppercase" size="sm">{SECTION_TITLE[r.section]}</Text></Table.Td>
                  </Table.Tr>,
                );
              }
              const strong = r.kind === 'total' || r.kind === 'check' || (r.kind === 'group' && r.level === 0);
              out.push(
                <Table.Tr key={i} fw={strong ? 700 : undefined} data-kind={r.kind}>
                  <Table.Td style={{ paddingLeft: 12 + r.level * 18 }}>
                    {r.account ? (
                      <Anchor component="button" type="button" onClick={() => onDrill({ account: r.account!, exact: r.exact })} title={`entries of ${r.account}${r.exact ? '' : ' and its sub-accounts'}`}>
                        {r.label}
                      </Anchor>
                    ) : (
                      <Text span fs={r.kind === 'computed' ? 'italic' : undefined} size="sm">{r.label}</Text>
                    )}
                  </Table.Td>
                  <Table.Td style={amountStyle}>{r.amount}</Table.Td>
                  <Table.Td><Text size="xs" c="dimmed">{r.native.map((n) => `${n.amount} ${n.asset} (${n.note})`).join('; ')}</Text></Table.Td>
                </Table.Tr>,
              );
              return out;
            })}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {s.adjustments.length > 0 && (
        <Paper withBorder p="sm" mt="md">
          <Text fw={600} size="sm">Prior-period adjustments restated into these dates</Text>
          <List size="sm">
            {s.adjustments.map((a) => (
              <List.Item key={a.id}>
                {a.period} ({a.targetDate}), posted {a.postedDate} as <AppLink to={entryPath(a.entryId)}>{a.entryId}</AppLink>: {a.memo}
              </List.Item>
            ))}
          </List>
        </Paper>
      )}
      <List size="xs" c="dimmed" mt="md">
        {[...s.basis, ...s.notes].map((b) => <List.Item key={b}>{b}</List.Item>)}
      </List>
    </>
  );
}

function Drill({ account, from, to, restated }: { account: string; from: string; to: string; restated: boolean }) {
  const { data, error, loading } = useApi(
    (signal) => api<AccountEntries>(`/api/accounting/accounts/${encodeURIComponent(account)}/entries`, { query: { from, to, afterAdjustments: restated ? 'true' : undefined }, signal }),
    [account, from, to, restated],
  );
  if (error) return <ErrorAlert message={error} />;
  if (loading || !data) return <Loader />;
  const balances = (title: string, rows: AccountEntries['opening']) => (
    <Text size="sm" mb="xs">
      <b>{title}:</b> {rows.length ? rows.map((b) => `${b.account} ${b.amount} ${b.asset}${b.base !== null && b.asset !== data.base ? ` (${b.base} ${data.base})` : ''}`).join('; ') : 'nothing'}
    </Text>
  );
  return (
    <>
      {balances(`Opening (${from})`, data.opening)}
      <Table.ScrollContainer minWidth={720}>
        <Table striped withTableBorder data-testid="drill-entries">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Date</Table.Th>
              <Table.Th>Entry</Table.Th>
              <Table.Th>Account</Table.Th>
              <Table.Th>Memo</Table.Th>
              <Table.Th style={amountStyle}>Amount</Table.Th>
              <Table.Th>Asset</Table.Th>
              <Table.Th style={amountStyle}>{data.base}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {data.rows.length === 0 && (
              <Table.Tr><Table.Td colSpan={7}><Text c="dimmed">No entries in the period.</Text></Table.Td></Table.Tr>
            )}
            {data.rows.map((r, i) => (
              <Table.Tr key={`${r.entryId}-${i}`}>
                <Table.Td>{r.date}{r.postedDate !== r.date && <Text span size="xs" c="dimmed"> (posted {r.postedDate})</Text>}</Table.Td>
                <Table.Td><AppLink to={entryPath(r.entryId)}>{r.entryId}</AppLink></Table.Td>
                <Table.Td>{r.account}</Table.Td>
                <Table.Td>{r.memo}{r.adjustment && <Badge ml="xs" size="xs" variant="light">adjustment</Badge>}</Table.Td>
                <Table.Td style={amountStyle}>{r.amount}</Table.Td>
                <Table.Td>{r.asset}</Table.Td>
                <Table.Td style={amountStyle}>{r.base ?? ''}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {data.truncated && <Text size="xs" c="orange">More entries than shown; narrow the period.</Text>}
      {balances(`Closing (${to})`, data.closing)}
    </>
  );
}
