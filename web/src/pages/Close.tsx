/**
 * Month-end close: where the books stand (closed through, the month to close next, past closes
 * and their checks), closing the next month, FX revaluation at a date, and adjustments to closed
 * months: propose one; approve or reject those someone else proposed (the server refuses
 * self-approval; the UI says so before asking).
 */
import { Alert, Badge, Button, Group, Modal, Paper, Stack, Table, Text, TextInput, Textarea, Tooltip } from '@mantine/core';
import { useState, type ReactNode } from 'react';
import { api, errorMessage } from '../api';
import { useAuth } from '../auth';
import { AppLink, ErrorAlert, PageHeader, SectionHeader, amountStyle } from '../components';
import { entryPath } from '../format';
import { useApi } from '../useApi';
import type { CloseStatus } from './FinancialStatements';

interface Adjustment {
  id: string;
  period: string;
  targetDate: string;
  memo: string;
  postings: { account: string; asset: string; amount: string }[];
  status: 'proposed' | 'posted' | 'rejected';
  proposedBy: string;
  proposedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionNote: string | null;
  entryId: string | null;
  postedDate: string | null;
}

interface RevaluationRun {
  asOf: string;
  base: string;
  posted: number;
  unchanged: number;
  gain: string;
  lines: { account: string; currency: string; balance: string; rate: string; carryingBefore: string; target: string; delta: string; status: string }[];
}

/** Roles holding accounting.close and accounting.approve (src/kernel/roles.ts). */
const CLOSERS = ['admin', 'finance'];

export default function ClosePage() {
  const { user } = useAuth();
  const mayAct = !!user && CLOSERS.includes(user.role);
  const status = useApi((signal) => api<CloseStatus>('/api/accounting/close/status', { signal }), []);
  const adjustments = useApi((signal) => api<Adjustment[]>('/api/accounting/adjustments', { signal }), []);
  const [message, setMessage] = useState<{ ok: boolean; text: string }>();
  const [busy, setBusy] = useState(false);
  const [rejecting, setRejecting] = useState<Adjustment>();
  const [proposing, setProposing] = useState(false);
  const [revalueDate, setRevalueDate] = useState('');
  const [revaluation, setRevaluation] = useState<RevaluationRun>();

  const act = async (what: () => Promise<string>) => {
    setBusy(true);
    setMessage(undefined);
    try {
      setMessage({ ok: true, text: await what() });
      status.reload();
      adjustments.reload();
    } catch (err) {
      setMessage({ ok: false, text: errorMessage(err) });
    } finally {
      setBusy(false);
    }
  };
  const next = status.data?.nextPeriod;
  const pending = (adjustments.data ?? []).filter((a) => a.status === 'proposed');
  const decided = (adjustments.data ?? []).filter((a) => a.status !== 'proposed');

  return (
    <>
      <PageHeader title="Close and adjustments">
        <AppLink to="/statements">Financial statements</AppLink>
      </PageHeader>
      {status.error && <ErrorAlert message={status.error} />}
      {message && <Alert color={message.ok ? 'green' : 'red'} mb="md" role={message.ok ? 'status' : 'alert'}>{message.text}</Alert>}

      {status.data && (
        <Paper withBorder p="md" data-testid="close-summary">
          <Group justify="space-between">
            <Text>
              Books closed through <b>{status.data.closedThrough ?? 'no date yet'}</b>
              {next && <> · next month to close: <b>{next}</b> (months close in order)</>}
            </Text>
            {mayAct && next && (
              <Button
                loading={busy}
                onClick={() => act(async () => {
                  const r = await api<{ period: string; closedThrough: string; changed: boolean; checks: { name: string; ok: boolean; detail: string }[] }>('/api/accounting/close', { body: { period: next } });
                  const warnings = r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
                  return `${r.period} ${r.changed ? 'closed' : 'was already closed'} through ${r.closedThrough}.${warnings.length ? ` Warnings: ${warnings.join('; ')}` : ''}`;
                })}
              >
                Close {next}
              </Button>
            )}
          </Group>
        </Paper>
      )}

      {mayAct && (
        <>
          <SectionHeader title="FX revaluation">
            <TextInput label="As of" type="date" value={revalueDate} onChange={(e) => setRevalueDate(e.currentTarget.value)} />
            <Button
              variant="default"
              disabled={!revalueDate}
              loading={busy}
              onClick={() => act(async () => {
                const r = await api<RevaluationRun>('/api/accounting/fx/revalue', { body: { asOf: revalueDate } });
                setRevaluation(r);
                return `Revaluation at ${r.asOf}: ${r.posted} posted, ${r.unchanged} unchanged, net ${r.gain} ${r.base}.`;
              })}
            >
              Revalue
            </Button>
          </SectionHeader>
          {revaluation && revaluation.lines.length > 0 && (
            <Table withTableBorder data-testid="revaluation">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Account</Table.Th><Table.Th>Currency</Table.Th><Table.Th style={amountStyle}>Balance</Table.Th><Table.Th style={amountStyle}>Rate</Table.Th>
                  <Table.Th style={amountStyle}>Carrying</Table.Th><Table.Th style={amountStyle}>At rate</Table.Th><Table.Th style={amountStyle}>Booked</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {revaluation.lines.map((l) => (
                  <Table.Tr key={`${l.account}/${l.currency}`}>
                    <Table.Td>{l.account}</Table.Td><Table.Td>{l.currency}</Table.Td><Table.Td style={amountStyle}>{l.balance}</Table.Td><Table.Td style={amountStyle}>{l.rate}</Table.Td>
                    <Table.Td style={amountStyle}>{l.carryingBefore}</Table.Td><Table.Td style={amountStyle}>{l.target}</Table.Td><Table.Td style={amountStyle}>{l.delta}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </>
      )}

      <SectionHeader title={`Adjustments waiting for approval (${pending.length})`}>
        {mayAct && <Button variant="default" onClick={() => setProposing(true)}>Propose an adjustment</Button>}
      </SectionHeader>
      {adjustments.error && <ErrorAlert message={adjustments.error} />}
      <AdjustmentsTable
        rows={pending}
        actions={(a) => {
          if (!mayAct) return null;
          const own = a.proposedBy === user?.name;
          return (
            <Group gap="xs" wrap="nowrap">
              <Tooltip label="You proposed it: a second person must approve" disabled={!own}>
                <Button size="xs" disabled={own || busy} onClick={() => act(async () => {
                  const r = await api<Adjustment>(`/api/accounting/adjustments/${encodeURIComponent(a.id)}/approve`, { body: {} });
                  return `Approved ${r.id}: posted as ${r.entryId} dated ${r.postedDate}.`;
                })}>Approve</Button>
              </Tooltip>
              <Button size="xs" color="red" variant="light" disabled={busy} onClick={() => setRejecting(a)}>{own ? 'Withdraw' : 'Reject'}</Button>
            </Group>
          );
        }}
      />

      <SectionHeader title="Decided adjustments" />
      <AdjustmentsTable rows={decided} actions={() => null} />

      <SectionHeader title="Closes" />
      <Table withTableBorder data-testid="closes">
        <Table.Thead>
          <Table.Tr><Table.Th>Month</Table.Th><Table.Th>Closed through</Table.Th><Table.Th>By</Table.Th><Table.Th>At</Table.Th><Table.Th>Checks</Table.Th></Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(status.data?.closes ?? []).map((c) => (
            <Table.Tr key={c.period}>
              <Table.Td>{c.period}</Table.Td><Table.Td>{c.closedThrough}</Table.Td><Table.Td>{c.closedBy}</Table.Td><Table.Td>{c.closedAt}</Table.Td>
              <Table.Td>
                <Stack gap={2}>
                  {c.checks.map((x) => (
                    <Text key={x.name} size="xs" c={x.ok ? 'dimmed' : 'orange'}>{x.ok ? 'ok' : 'warning'} · {x.name}: {x.detail}</Text>
                  ))}
                </Stack>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>

      <Modal opened={!!rejecting} onClose={() => setRejecting(undefined)} title={rejecting ? `Reject ${rejecting.id}` : ''}>
        {rejecting && (
          <RejectForm
            onSubmit={(reason) => {
              const a = rejecting;
              setRejecting(undefined);
              void act(async () => {
                await api<Adjustment>(`/api/accounting/adjustments/${encodeURIComponent(a.id)}/reject`, { body: { reason } });
                return `Rejected ${a.id}.`;
              });
            }}
          />
        )}
      </Modal>
      <Modal opened={proposing} onClose={() => setProposing(false)} title="Propose an adjustment to a closed month" size="lg">
        <ProposeForm
          defaultPeriod={status.data?.closedThrough?.slice(0, 7) ?? ''}
          onSubmit={(body) => {
            setProposing(false);
            void act(async () => {
              const r = await api<Adjustment>('/api/accounting/adjustments', { body });
              return `Proposed ${r.id} for ${r.period}; it waits for someone else's approval.`;
            });
          }}
        />
      </Modal>
    </>
  );
}

function AdjustmentsTable({ rows, actions }: { rows: Adjustment[]; actions: (a: Adjustment) => ReactNode }) {
  return (
    <Table.ScrollContainer minWidth={720}>
      <Table withTableBorder striped data-testid="adjustments">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Month</Table.Th><Table.Th>Memo and postings</Table.Th><Table.Th>Proposed</Table.Th><Table.Th>Status</Table.Th><Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.length === 0 && <Table.Tr><Table.Td colSpan={5}><Text c="dimmed" size="sm">None.</Text></Table.Td></Table.Tr>}
          {rows.map((a) => (
            <Table.Tr key={a.id}>
              <Table.Td>{a.period}<Text size="xs" c="dimmed">{a.targetDate}</Text></Table.Td>
              <Table.Td>
                <Text size="sm">{a.memo}</Text>
                {a.postings.map((p, i) => <Text key={i} size="xs" c="dimmed">{p.account} {p.amount} {p.asset}</Text>)}
              </Table.Td>
              <Table.Td><Text size="sm">{a.proposedBy}</Text><Text size="xs" c="dimmed">{a.proposedAt}</Text></Table.Td>
              <Table.Td>
                <Badge color={a.status === 'posted' ? 'green' : a.status === 'rejected' ? 'gray' : 'orange'} variant="light">{a.status}</Badge>
                {a.decidedBy && <Text size="xs" c="dimmed">{a.decidedBy}{a.decisionNote ? `: ${a.decisionNote}` : ''}</Text>}
                {a.entryId && <Text size="xs"><AppLink to={entryPath(a.entryId)}>{a.entryId}</AppLink> ({a.postedDate})</Text>}
              </Table.Td>
              <Table.Td>{actions(a)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

function RejectForm({ onSubmit }: { onSubmit: (reason: string) => void }) {
  const [reason, setReason] = useState('');
  return (
    <Stack>
      <TextInput label="Reason" value={reason} onChange={(e) => setReason(e.currentTarget.value)} required data-autofocus />
      <Button color="red" disabled={!reason.trim()} onClick={() => onSubmit(reason)}>Reject</Button>
    </Stack>
  );
}

/** Postings as lines "ACCOUNT ASSET AMOUNT" (positive debit, negative credit). */
function parsePostings(text: string) {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
    const [account = '', asset = '', amount = ''] = l.split(/\s+/);
    return { account, asset, amount };
  });
}

function ProposeForm({ defaultPeriod, onSubmit }: { defaultPeriod: string; onSubmit: (body: { period: string; date?: string; memo: string; postings: { account: string; asset: string; amount: string }[] }) => void }) {
  const [period, setPeriod] = useState(defaultPeriod);
  const [date, setDate] = useState('');
  const [memo, setMemo] = useState('');
  const [postings, setPostings] = useState('');
  const parsed = parsePostings(postings);
  return (
    <Stack>
      <Group grow>
        <TextInput label="Closed month (YYYY-MM)" value={period} onChange={(e) => setPeriod(e.currentTarget.value)} required />
        <TextInput label="Date it corrects (default: month-end)" type="date" value={date} onChange={(e) => setDate(e.currentTarget.value)} />
      </Group>
      <TextInput label="Memo: what is corrected and why" value={memo} onChange={(e) => setMemo(e.currentTarget.value)} required />
      <Textarea
        label="Postings, one per line: ACCOUNT ASSET AMOUNT (positive debit, negative credit)"
        placeholder={'expenses:clearing-fees USD 25.00\nassets:bank:operating:usd USD -25.00'}
        autosize minRows={3}
        value={postings}
        onChange={(e) => setPostings(e.currentTarget.value)}
      />
      <Button disabled={!period || !memo.trim() || parsed.length < 2} onClick={() => onSubmit({ period, ...(date ? { date } : {}), memo, postings: parsed })}>
        Propose
      </Button>
    </Stack>
  );
}
