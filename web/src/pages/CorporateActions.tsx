/**
 * Corporate actions: a month calendar of announcements by their dates (ex, record, pay,
 * effective) with the dated list beside it and a CSV import; and one action's page with its
 * preview per holder (entitlement, tax, net cash, new quantity, cash in lieu), the firm's side, the
 * entries it posts, and the apply button.
 */
import '@mantine/dates/styles.css';
import {
  Alert, Badge, Box, Button, Checkbox, FileInput, Group, Indicator, Loader, Modal, Paper, SegmentedControl, SimpleGrid, Stack, Table, Text, Tooltip,
} from '@mantine/core';
import { Calendar } from '@mantine/dates';
import { useMemo, useState, type ReactNode } from 'react';
import { useParams } from 'react-router-dom';
import { api, errorMessage } from '../api';
import { useAuth } from '../auth';
import { AppLink, DetailFields, ErrorAlert, PageHeader, SectionHeader, amountStyle } from '../components';
import { accountPath, customerPath, entryPath, securityPath, today } from '../format';
import { useQueryParams } from '../trading';
import { useApi } from '../useApi';

// ---- contract (GET /api/corporate-actions...) -----------------------------------------------

type ActionKind = 'cash_dividend' | 'split' | 'reverse_split' | 'symbol_change';

interface CorporateAction {
  id: string;
  kind: ActionKind;
  symbol: string;
  exDate: string | null;
  recordDate: string | null;
  payDate: string | null;
  effectiveDate: string | null;
  rate: string | null;
  currency: string | null;
  sourceCountry: string | null;
  ratioNew: string | null;
  ratioOld: string | null;
  cashInLieuPrice: string | null;
  newSymbol: string | null;
  newIsin: string | null;
  newCusip: string | null;
  newName: string | null;
  description: string;
  status: 'announced' | 'applied';
  dueDate: string;
  sourceFile: string;
  importedAt: string;
  importedBy: string;
  appliedAt: string | null;
  appliedBy: string | null;
  appliedEarly: boolean | null;
}

interface HolderLine {
  holderKind: 'customer' | 'depository' | 'counterparty' | 'firm';
  holder: string;
  ledgerAccount: string;
  quantity: string;
  residence?: string | null;
  currency?: string;
  gross?: string;
  taxRate?: string | null;
  tax?: string;
  net?: string;
  cashAccount?: string;
  newQuantity?: string;
  fraction?: string;
  cashInLieu?: string;
  newSymbol?: string;
  fails?: { obligationId: string; settleDate: string; remainingQuantity: string }[];
}

interface Preview {
  action: CorporateAction;
  positionsAsOf: string;
  basis: 'settlement' | 'trade';
  due: boolean;
  applied: boolean;
  customers: HolderLine[];
  firm: HolderLine[];
  totals: Record<string, string>;
  entries: { key: string; date: string; memo?: string; postings: { account: string; asset: string; amount: string }[] }[];
  problems: { record?: string; field?: string; rule?: string; message: string }[];
  warnings: string[];
}

interface ApplyResult {
  applied: boolean;
  alreadyApplied: boolean;
  entryIds: string[];
  lotsRecomputed: string[];
  result: Preview;
}

const enc = encodeURIComponent;
const corporateActions = {
  list: (query: { from?: string; to?: string; status?: 'announced' | 'applied' }, signal?: AbortSignal) => api<CorporateAction[]>('/api/corporate-actions', { query, signal }),
  get: (id: string, signal?: AbortSignal) => api<CorporateAction>(`/api/corporate-actions/${enc(id)}`, { signal }),
  preview: (id: string, signal?: AbortSignal) => api<Preview>(`/api/corporate-actions/${enc(id)}/preview`, { signal }),
  apply: (id: string, force: boolean) => api<ApplyResult>(`/api/corporate-actions/${enc(id)}/apply`, { body: { force } }),
  importCsv: (text: string) => api<{ received: number; created: number; updated: number; unchanged: number }>('/api/corporate-actions/import', { text }),
};

export const corporateActionPath = (id: string) => `/corporate-actions/${enc(id)}`;

const KIND_LABEL: Record<ActionKind, string> = {
  cash_dividend: 'Cash dividend', split: 'Split', reverse_split: 'Reverse split', symbol_change: 'Symbol change',
};

function terms(a: CorporateAction): string {
  if (a.kind === 'cash_dividend') return `${a.rate} ${a.currency} a share`;
  if (a.kind === 'symbol_change') return [a.newSymbol && `→ ${a.newSymbol}`, a.newIsin && `ISIN ${a.newIsin}`, a.newCusip && `CUSIP ${a.newCusip}`].filter(Boolean).join(', ');
  return `${a.ratioNew}-for-${a.ratioOld}${a.cashInLieuPrice ? `, fractions at ${a.cashInLieuPrice}` : ''}`;
}

function StatusBadge({ status }: { status: CorporateAction['status'] }) {
  return <Badge color={status === 'applied' ? 'green' : 'blue'} variant="light" style={{ flexShrink: 0, overflow: 'visible' }}>{status}</Badge>;
}

// ---- the calendar -------------------------------------------------------------------------------

type DateKind = 'ex' | 'record' | 'pay' | 'effective';
const DATE_COLOR: Record<DateKind, string> = { ex: 'orange', record: 'grape', pay: 'green', effective: 'indigo' };
interface DatedEvent { date: string; what: DateKind; action: CorporateAction }

/** Every dated event of the actions: one per date kind an action has (a date shared by two kinds appears once per kind). */
function eventsOf(actions: CorporateAction[]): DatedEvent[] {
  const out: DatedEvent[] = [];
  for (const a of actions) {
    const dates: [DateKind, string | null][] = [['ex', a.exDate], ['record', a.recordDate], ['pay', a.payDate], ['effective', a.effectiveDate]];
    for (const [what, date] of dates) if (date) out.push({ date, what, action: a });
  }
  return out.sort((x, y) => (x.date < y.date ? -1 : x.date > y.date ? 1 : x.action.id < y.action.id ? -1 : 1));
}

const monthOf = (date: string) => date.slice(0, 7);
function monthBounds(month: string): { from: string; to: string } {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return { from: `${month}-01`, to: `${month}-${String(last).padStart(2, '0')}` };
}

/** The calendar page: a month of corporate action dates, their list, and an import. */
export default function CorporateActionsPage() {
  const [params, setParam] = useQueryParams();
  const month = params.get('month') || monthOf(today());
  const selected = params.get('day') ?? '';
  const view = params.get('view') === 'list' ? 'list' : 'calendar';
  const { from, to } = monthBounds(month);
  const { data, error, loading, reload } = useApi((signal) => corporateActions.list({ from, to }, signal), [from, to]);
  const events = useMemo(() => eventsOf(data ?? []).filter((e) => e.date >= from && e.date <= to), [data, from, to]);
  const byDay = useMemo(() => {
    const m = new Map<string, DatedEvent[]>();
    for (const e of events) m.set(e.date, [...(m.get(e.date) ?? []), e]);
    return m;
  }, [events]);
  const shown = selected ? events.filter((e) => e.date === selected) : events;
  // What is still to be applied, whatever month is shown: the work list of asset servicing.
  const pending = useApi((signal) => corporateActions.list({ status: 'announced' }, signal), []);

  return (
    <Box data-testid="corporate-actions">
      <PageHeader title="Corporate actions">
        <SegmentedControl value={view} onChange={(v) => setParam('view', v === 'list' ? 'list' : '')} data={[{ label: 'Calendar', value: 'calendar' }, { label: 'List', value: 'list' }]} />
      </PageHeader>
      {error && <ErrorAlert message={error} />}
      <SimpleGrid cols={{ base: 1, lg: view === 'calendar' ? 2 : 1 }} spacing="lg">
        {view === 'calendar' && (
          <Paper withBorder p="md">
            <Calendar
              date={`${month}-01`}
              onDateChange={(d) => { setParam('month', monthOf(d) === monthOf(today()) ? '' : monthOf(d)); setParam('day', ''); }}
              maxLevel="year"
              fullWidth
              size="md"
              getDayProps={(d) => ({
                selected: d === selected,
                onClick: () => setParam('day', d === selected ? '' : d),
              })}
              renderDay={(d) => {
                const day = Number(d.slice(8, 10));
                const evs = byDay.get(d);
                if (!evs?.length) return <div>{day}</div>;
                const color = DATE_COLOR[evs[0]!.what];
                return (
                  <Tooltip label={evs.map((e) => `${e.what}: ${e.action.symbol} ${KIND_LABEL[e.action.kind].toLowerCase()} (${e.action.id})`).join('\n')} multiline style={{ whiteSpace: 'pre-line' }}>
                    <Indicator size={8} color={color} offset={-3} label={evs.length > 1 ? String(evs.length) : undefined} data-testid={`ca-day-${d}`}>
                      <div>{day}</div>
                    </Indicator>
                  </Tooltip>
                );
              }}
            />
            <Group gap="xs" mt="sm">
              {(Object.keys(DATE_COLOR) as DateKind[]).map((k) => <Badge key={k} color={DATE_COLOR[k]} variant="dot">{k} date</Badge>)}
            </Group>
          </Paper>
        )}
        <Box>
          <SectionHeader title={selected ? `On ${selected}` : `In ${month}`}>
            {view === 'list' && (
              <Group gap="xs">
                <Button variant="default" size="xs" onClick={() => setParam('month', shiftMonth(month, -1))}>Previous month</Button>
                <Button variant="default" size="xs" onClick={() => setParam('month', shiftMonth(month, 1))}>Next month</Button>
              </Group>
            )}
            {selected && <Button variant="subtle" size="xs" onClick={() => setParam('day', '')}>Whole month</Button>}
          </SectionHeader>
          {loading && !data ? <Loader /> : <DatedList events={shown} />}
        </Box>
      </SimpleGrid>
      <SectionHeader title="Not applied yet" />
      {pending.error && <ErrorAlert message={pending.error} />}
      {pending.data && (pending.data.length ? (
        <Table striped data-testid="ca-pending">
          <Table.Thead><Table.Tr><Table.Th>Due</Table.Th><Table.Th>Action</Table.Th><Table.Th>Security</Table.Th><Table.Th>Terms</Table.Th><Table.Th /></Table.Tr></Table.Thead>
          <Table.Tbody>
            {pending.data.map((a) => (
              <Table.Tr key={a.id}>
                <Table.Td style={{ whiteSpace: 'nowrap' }}>{a.dueDate}</Table.Td>
                <Table.Td><AppLink to={corporateActionPath(a.id)}>{a.id}</AppLink><Text size="xs" c="dimmed">{KIND_LABEL[a.kind]}</Text></Table.Td>
                <Table.Td>{a.symbol}</Table.Td>
                <Table.Td>{terms(a)}</Table.Td>
                <Table.Td>{a.dueDate < today() ? <Badge color="red" variant="light">overdue</Badge> : a.dueDate.slice(0, 7) !== month ? <Button variant="subtle" size="xs" onClick={() => setParam('month', a.dueDate.slice(0, 7))}>Show month</Button> : null}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      ) : <Text c="dimmed" size="sm" data-testid="ca-pending">Every announcement is applied.</Text>)}
      <ImportAnnouncements onDone={() => { reload(); pending.reload(); }} />
    </Box>
  );
}

function shiftMonth(month: string, by: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const d = new Date(Date.UTC(y, m - 1 + by, 1));
  return d.toISOString().slice(0, 7);
}

function DatedList({ events }: { events: DatedEvent[] }) {
  if (!events.length) return <Text c="dimmed" size="sm" data-testid="ca-list">No corporate action dates.</Text>;
  return (
    <Table.ScrollContainer minWidth={680}>
    <Table striped highlightOnHover data-testid="ca-list">
      <Table.Thead>
        <Table.Tr><Table.Th>Date</Table.Th><Table.Th>What</Table.Th><Table.Th>Action</Table.Th><Table.Th>Security</Table.Th><Table.Th>Terms</Table.Th><Table.Th>Status</Table.Th></Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {events.map((e) => (
          <Table.Tr key={`${e.action.id}:${e.what}`}>
            <Table.Td style={{ whiteSpace: 'nowrap' }}>{e.date}</Table.Td>
            <Table.Td><Badge color={DATE_COLOR[e.what]} variant="light" style={{ overflow: 'visible' }}>{e.what}</Badge></Table.Td>
            <Table.Td><AppLink to={corporateActionPath(e.action.id)}>{e.action.id}</AppLink><Text size="xs" c="dimmed">{KIND_LABEL[e.action.kind]}</Text></Table.Td>
            <Table.Td><AppLink to={securityPath(e.action.symbol)}>{e.action.symbol}</AppLink></Table.Td>
            <Table.Td>{terms(e.action)}</Table.Td>
            <Table.Td><StatusBadge status={e.action.status} /></Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
    </Table.ScrollContainer>
  );
}

function ImportAnnouncements({ onDone }: { onDone: () => void }) {
  const { user } = useAuth();
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  if (!user || !['admin', 'operations'].includes(user.role)) return null;
  const run = async () => {
    if (!file) return;
    setBusy(true);
    setMessage(null);
    try {
      const r = await corporateActions.importCsv(await file.text());
      setMessage({ ok: true, text: `${r.received} announcements: ${r.created} new, ${r.updated} revised, ${r.unchanged} unchanged` });
      onDone();
    } catch (err) {
      setMessage({ ok: false, text: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <Box mt="xl">
      <SectionHeader title="Import announcements" />
      <Group align="flex-end">
        <FileInput label="Announcements CSV" placeholder="id,kind,symbol,ex_date,record_date,pay_date,effective_date,rate,currency,ratio,..." value={file} onChange={setFile} clearable w={420} />
        <Button onClick={run} loading={busy} disabled={!file}>Import</Button>
      </Group>
      {message && <Alert mt="sm" color={message.ok ? 'green' : 'red'} data-testid="ca-import-result">{message.text}</Alert>}
    </Box>
  );
}

// ---- one action ------------------------------------------------------------------------------

/** One action: its terms, the preview per holder, the firm's side, the entries, and Apply. */
export function CorporateActionPage() {
  const { id = '' } = useParams();
  const { data, error, loading, reload } = useApi((signal) => corporateActions.preview(id, signal), [id]);
  return (
    <>
      <PageHeader title={<>Corporate action {id}</>}>
        <AppLink to={data ? `/corporate-actions?month=${data.action.dueDate.slice(0, 7)}` : '/corporate-actions'}>Back to the calendar</AppLink>
      </PageHeader>
      {error && <ErrorAlert message={error} />}
      {loading && !data && <Loader />}
      {data && <ActionDetails preview={data} onApplied={reload} />}
    </>
  );
}

function ActionDetails({ preview: p, onApplied }: { preview: Preview; onApplied: () => void }) {
  const a = p.action;
  const div = a.kind === 'cash_dividend';
  const fields: [string, ReactNode][] = [
    ['Kind', KIND_LABEL[a.kind]],
    ['Security', <AppLink key="s" to={securityPath(a.symbol)}>{a.symbol}</AppLink>],
    ['Terms', terms(a)],
    ['Status', <StatusBadge key="st" status={a.status} />],
    ...(div
      ? ([['Ex-date', a.exDate], ['Record date', a.recordDate], ['Pay date', a.payDate], ['Withholding country', a.sourceCountry]] as [string, ReactNode][])
      : ([['Effective date', a.effectiveDate]] as [string, ReactNode][])),
    ['Positions as of', `${p.positionsAsOf} (${p.basis === 'settlement' ? 'settlement date' : 'trade date'})`],
    ['Description', a.description || '—'],
    ['Imported', `${a.importedAt.slice(0, 16).replace('T', ' ')} by ${a.importedBy} (${a.sourceFile})`],
    ...(a.appliedAt ? ([['Applied', `${a.appliedAt.slice(0, 16).replace('T', ' ')} by ${a.appliedBy}${a.appliedEarly ? ' (early)' : ''}`]] as [string, ReactNode][]) : []),
  ];
  return (
    <Stack>
      <DetailFields fields={fields} testId="ca-details" />
      <ApplyBar preview={p} onApplied={onApplied} />
      {p.problems.length > 0 && (
        <Alert color="red" title={`Cannot be applied (${p.problems.length})`} data-testid="ca-problems">
          <Stack gap={2}>{p.problems.map((x, i) => <Text size="sm" key={i}>{x.message}</Text>)}</Stack>
        </Alert>
      )}
      {p.warnings.length > 0 && (
        <Alert color="yellow" title="Warnings" data-testid="ca-warnings">
          <Stack gap={2}>{p.warnings.map((w, i) => <Text size="sm" key={i}>{w}</Text>)}</Stack>
        </Alert>
      )}
      <div>
        <SectionHeader title={p.applied ? 'Customers (as applied)' : 'Customers (preview)'} />
        <HolderTable lines={p.customers} dividend={div} testId="ca-customers" />
      </div>
      <div>
        <SectionHeader title="The firm's side" />
        <HolderTable lines={p.firm} dividend={div} testId="ca-firm" />
      </div>
      <Text size="sm" data-testid="ca-totals">
        {Object.entries(p.totals).map(([k, v]) => `${k} ${v}`).join(' · ')}
      </Text>
      <div>
        <SectionHeader title={p.applied ? 'Entries posted' : 'Entries to post'} />
        <Entries entries={p.entries} />
      </div>
    </Stack>
  );
}

function HolderTable({ lines, dividend, testId }: { lines: HolderLine[]; dividend: boolean; testId: string }) {
  if (!lines.length) return <Text c="dimmed" size="sm" data-testid={testId}>None.</Text>;
  const holder = (l: HolderLine) => (l.holderKind === 'customer'
    ? <AppLink to={customerPath(l.holder)}>{l.holder}</AppLink>
    : <>{l.holderKind} {l.holder}</>);
  const num = (v: ReactNode) => <Table.Td style={amountStyle}>{v}</Table.Td>;
  return (
    <Table striped data-testid={testId}>
      <Table.Thead>
        {dividend ? (
          <Table.Tr><Table.Th>Holder</Table.Th><Table.Th>Residence</Table.Th><Table.Th style={amountStyle}>Quantity</Table.Th><Table.Th style={amountStyle}>Entitlement</Table.Th><Table.Th style={amountStyle}>Tax %</Table.Th><Table.Th style={amountStyle}>Tax</Table.Th><Table.Th style={amountStyle}>Net cash</Table.Th><Table.Th>Cash account</Table.Th></Table.Tr>
        ) : (
          <Table.Tr><Table.Th>Holder</Table.Th><Table.Th style={amountStyle}>Quantity</Table.Th><Table.Th style={amountStyle}>New quantity</Table.Th><Table.Th style={amountStyle}>Fraction</Table.Th><Table.Th style={amountStyle}>Cash in lieu</Table.Th><Table.Th>Symbol</Table.Th></Table.Tr>
        )}
      </Table.Thead>
      <Table.Tbody>
        {lines.map((l) => (
          <Table.Tr key={`${l.holderKind}:${l.holder}:${l.ledgerAccount}`} data-holder={l.holder}>
            <Table.Td>{holder(l)}{l.fails?.length ? <Text size="xs" c="dimmed">open fails: {l.fails.map((f) => `${f.settleDate} ${f.remainingQuantity}`).join(', ')}</Text> : null}</Table.Td>
            {dividend ? (
              <>
                <Table.Td>{l.holderKind === 'customer' ? l.residence ?? '—' : ''}</Table.Td>
                {num(l.quantity)}{num(l.gross)}{num(l.taxRate ?? '')}{num(l.tax ?? '')}{num(l.net ?? '')}
                <Table.Td>{l.cashAccount ? <AppLink to={accountPath(l.cashAccount)}>{l.cashAccount}</AppLink> : ''}</Table.Td>
              </>
            ) : (
              <>{num(l.quantity)}{num(l.newQuantity)}{num(l.fraction ?? '')}{num(l.cashInLieu ?? '')}<Table.Td>{l.newSymbol ?? ''}</Table.Td></>
            )}
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

function Entries({ entries }: { entries: Preview['entries'] }) {
  if (!entries.length) return <Text c="dimmed" size="sm" data-testid="ca-entries">No entries: nothing moves.</Text>;
  return (
    <Stack data-testid="ca-entries">
      {entries.map((e) => (
        <Paper withBorder p="sm" key={e.key}>
          <Text size="sm" fw={500}>{e.date} — {e.memo} <Text span c="dimmed" size="xs">({e.key})</Text></Text>
          <Table>
            <Table.Tbody>
              {e.postings.map((x) => (
                <Table.Tr key={`${x.account}:${x.asset}`}>
                  <Table.Td><AppLink to={accountPath(x.account)}>{x.account}</AppLink></Table.Td>
                  <Table.Td style={amountStyle}>{x.amount.startsWith('-') ? '' : x.amount}</Table.Td>
                  <Table.Td style={amountStyle}>{x.amount.startsWith('-') ? x.amount.slice(1) : ''}</Table.Td>
                  <Table.Td>{x.asset}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Paper>
      ))}
    </Stack>
  );
}

function ApplyBar({ preview: p, onApplied }: { preview: Preview; onApplied: () => void }) {
  const { user } = useAuth();
  const [open, setOpen] = useState(false);
  const [force, setForce] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<ApplyResult>();
  const a = p.action;
  const canManage = !!user && ['admin', 'operations'].includes(user.role);
  if (p.applied) {
    return (
      <Alert color="green" data-testid="ca-applied">
        Applied {a.appliedAt?.slice(0, 16).replace('T', ' ')} by {a.appliedBy}.
        {done && done.entryIds.length > 0 && <> Entries: {done.entryIds.map((id) => <AppLink key={id} to={entryPath(id)}>{id} </AppLink>)}</>}
      </Alert>
    );
  }
  const dividend = a.kind === 'cash_dividend';
  const blocked = p.problems.length > 0 || (!p.due && !(dividend && force));
  const apply = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setDone(await corporateActions.apply(a.id, force));
      setOpen(false);
      onApplied();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Paper withBorder p="md" data-testid="ca-apply">
      <Group justify="space-between">
        <Text size="sm">
          {p.due ? `Due since ${a.dueDate}: it may be applied.` : `Not due before ${a.dueDate}${dividend ? ' (a dividend may be paid early once its record date has passed)' : ''}.`}
        </Text>
        {canManage && (
          <Group>
            {dividend && !p.due && <Checkbox label="Pay early" checked={force} onChange={(e) => setForce(e.currentTarget.checked)} />}
            <Button onClick={() => setOpen(true)} disabled={blocked} data-testid="ca-apply-button">Apply</Button>
          </Group>
        )}
      </Group>
      {error && <Box mt="sm"><ErrorAlert message={error} title="Not applied" /></Box>}
      <Modal opened={open} onClose={() => setOpen(false)} title={`Apply ${a.id}?`}>
        <Stack>
          <Text size="sm">
            This posts {p.entries.length} entr{p.entries.length === 1 ? 'y' : 'ies'} for {p.customers.length} customer account(s)
            {a.kind === 'symbol_change' ? ' and changes the reference data' : ''}{a.kind === 'split' || a.kind === 'reverse_split' ? ' and adjusts their tax lots' : ''}. It is audited and cannot be undone except by reversal.
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setOpen(false)}>Cancel</Button>
            <Button onClick={apply} loading={busy} data-testid="ca-apply-confirm">Apply</Button>
          </Group>
        </Stack>
      </Modal>
    </Paper>
  );
}
