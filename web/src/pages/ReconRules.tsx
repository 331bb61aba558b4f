import { Alert, Badge, Box, Button, Group, Paper, Select, Stack, Table, Text, TextInput } from '@mantine/core';
import { useEffect, useMemo, useState } from 'react';
import { api, ApiError, errorMessage } from '../api';
import { useAuth } from '../auth';
import { ErrorAlert, SectionHeader } from '../components';
import { canManageRecon, recon, type Link } from '../reconciliation';
import { useQueryParams } from '../trading';
import { useApi } from '../useApi';

/**
 * The matching rules of a linked account, in the order the run applies them: each rule with its
 * parameters, added, edited, removed and reordered here and saved whole
 * (PUT /api/reconciliation/links/:account/rules). The server checks them (src/reconciliation/rules.ts);
 * what it refuses is shown beside the rule and field it names.
 */

type ParamKind = 'decimal' | 'days' | 'count';
interface ParamDef { key: string; label: string; kind: ParamKind; default: string; help: string }
interface KindDef { label: string; help: string; params: ParamDef[] }

const amountTolerance: ParamDef = { key: 'amountTolerance', label: 'Amount tolerance', kind: 'decimal', default: '0', help: 'in the account\'s currency' };
const days = (d: string): ParamDef => ({ key: 'days', label: 'Date window (days)', kind: 'days', default: d, help: 'calendar days either side' });
const groupParams: ParamDef[] = [
  amountTolerance, days('2'),
  { key: 'maxGroup', label: 'Largest group', kind: 'count', default: '5', help: 'with a transaction count' },
  { key: 'maxBlind', label: 'Group without count', kind: 'count', default: '2', help: 'when no count is given' },
  { key: 'maxCandidates', label: 'Candidates searched', kind: 'count', default: '40', help: 'per line' },
];

/** The rule kinds and their parameters with the defaults the server applies (src/reconciliation/rules.ts). */
const KINDS: Record<string, KindDef> = {
  reference: { label: 'Reference', help: 'our reference on the statement line, amount within tolerance', params: [amountTolerance, days('5')] },
  amount_date: { label: 'Amount and date', help: 'one line, one movement: same amount within the window', params: [amountTolerance, days('2')] },
  one_to_many: { label: 'One to many', help: 'one statement line (a batch) against several of ours', params: groupParams },
  many_to_one: { label: 'Many to one', help: 'several statement lines against one of ours', params: groupParams },
  reversal: { label: 'Reversal', help: 'a movement and its reversal on the same side cancel out', params: [] },
  position: { label: 'Position', help: 'custodian quantity against our position per security', params: [{ key: 'quantityTolerance', label: 'Quantity tolerance', kind: 'decimal', default: '0', help: 'in units of the security' }] },
};
const CASH_KINDS = ['reference', 'amount_date', 'one_to_many', 'many_to_one', 'reversal'];
const HOLDINGS_KINDS = ['position'];

interface Row { id: number; rule: string; params: Record<string, string> }
let nextId = 1;

const rowOf = (r: { rule: string; params: Record<string, unknown> }): Row => ({
  id: nextId++, rule: r.rule, params: Object.fromEntries(Object.entries(r.params ?? {}).map(([k, v]) => [k, String(v)])),
});
const defaultsOf = (rule: string): Record<string, string> => Object.fromEntries((KINDS[rule]?.params ?? []).map((p) => [p.key, p.default]));

/** As the API takes it: whole numbers as numbers; anything else as typed, for the server to refuse by field. */
function bodyOf(rows: Row[]) {
  return rows.map((r) => {
    const defs = KINDS[r.rule]?.params ?? [];
    const params = Object.fromEntries(Object.entries(r.params).map(([k, v]) => {
      const def = defs.find((d) => d.key === k);
      const t = v.trim();
      return [k, def && def.kind !== 'decimal' && /^\d+$/.test(t) ? Number(t) : t];
    }));
    return { rule: r.rule, params };
  });
}

/** Field errors of a refused save: "row:field" (field "rule" for the kind), the rest general. */
function errorsOf(err: unknown): { fields: Record<string, string>; general: string[] } {
  const fields: Record<string, string> = {};
  const general: string[] = [];
  const details = err instanceof ApiError && Array.isArray(err.problem?.errors) ? err.problem.errors as { record?: string; field?: string; message: string }[] : [];
  for (const d of details) {
    const n = /^rule #(\d+)$/.exec(d.record ?? '');
    const parts = (d.field ?? '').split('.');
    // Zod paths look like "1.params.days"; the rule-kind check names the field "rule".
    const index = n ? Number(n[1]) - 1 : /^\d+$/.test(parts[0] ?? '') ? Number(parts[0]) : -1;
    const rest = /^\d+$/.test(parts[0] ?? '') ? parts.slice(1) : parts;
    const message = d.message.replace(/^rule #\d+: /, '').replace(/^[\w.]+: /, '');
    if (index < 0) { general.push(d.message); continue; }
    const key = rest[0] === 'params' && rest[1] ? `${index}:${rest[1]}` : rest[0] === 'rule' ? `${index}:rule` : `${index}:`;
    fields[key] = fields[key] ? `${fields[key]}; ${message}` : message;
  }
  if (!details.length) general.push(errorMessage(err));
  return { fields, general };
}

/** The rules tab: pick a linked account, see and edit its rules. */
export function RulesTab({ generation }: { generation: number }) {
  const [params, setParam] = useQueryParams();
  const links = useApi((signal) => recon.links(signal), [generation]);
  const account = params.get('account') ?? '';
  const link = (links.data ?? []).find((l) => l.statementAccount === account);
  return (
    <Stack gap="sm">
      {links.error && <ErrorAlert message={links.error} />}
      <Select
        label="Linked account" placeholder={links.data?.length === 0 ? 'no account is linked yet' : 'choose an account'} w={360} searchable
        value={link ? account : null} onChange={(v) => setParam('account', v ?? '')} data-testid="recon-rules-account"
        data={(links.data ?? []).map((l) => ({ value: l.statementAccount, label: `${l.statementAccount} → ${l.ledgerAccount}${l.asset ? ` (${l.asset})` : ''}` }))}
      />
      {link && <RulesPanel key={link.statementAccount} link={link} onSaved={links.reload} />}
    </Stack>
  );
}

/** The ordered rules of one linked account: a read-only list, or the editor for those who manage reconciliation. */
export function RulesPanel({ link, onSaved }: { link: Link; onSaved?: () => void }) {
  const { user } = useAuth();
  const manage = canManageRecon(user?.role);
  const allowed = link.kind === 'holdings' ? HOLDINGS_KINDS : CASH_KINDS;
  const [saved, setSaved] = useState<Row[]>(() => link.rules.map(rowOf));
  const [rows, setRows] = useState<Row[]>(saved);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<string>();
  const [adding, setAdding] = useState<string | null>(allowed[0] ?? null);

  useEffect(() => { const r = link.rules.map(rowOf); setSaved(r); setRows(r); }, [link]);
  const key = (rs: Row[]) => JSON.stringify(rs.map((r) => [r.rule, r.params]));
  const dirty = useMemo(() => key(rows) !== key(saved), [rows, saved]);

  const clearErrors = () => { setFieldErrors({}); setGeneral([]); setMessage(undefined); };
  const edit = (i: number, param: string, value: string) => {
    setRows((rs) => rs.map((r, j) => (j === i ? { ...r, params: { ...r.params, [param]: value } } : r)));
    setFieldErrors((e) => { const { [`${i}:${param}`]: _, ...rest } = e; return rest; });
    setMessage(undefined);
  };
  const setKind = (i: number, rule: string) => { setRows((rs) => rs.map((r, j) => (j === i ? { ...r, rule, params: defaultsOf(rule) } : r))); clearErrors(); };
  const move = (i: number, by: -1 | 1) => {
    setRows((rs) => { const next = [...rs]; const [r] = next.splice(i, 1); next.splice(i + by, 0, r!); return next; });
    clearErrors();
  };
  const remove = (i: number) => { setRows((rs) => rs.filter((_, j) => j !== i)); clearErrors(); };
  const add = () => { if (adding) { setRows((rs) => [...rs, { id: nextId++, rule: adding, params: defaultsOf(adding) }]); clearErrors(); } };

  async function save() {
    setBusy(true); clearErrors();
    try {
      const r = await api<Link>(`/api/reconciliation/links/${encodeURIComponent(link.statementAccount)}/rules`, { method: 'PUT', body: { rules: bodyOf(rows) } });
      const next = r.rules.map(rowOf);
      setSaved(next); setRows(next);
      setMessage(`Saved ${r.rules.length} rule(s) of ${r.statementAccount}; the next run uses them (matches already made stay).`);
      onSaved?.();
    } catch (err) {
      const e = errorsOf(err);
      setFieldErrors(e.fields); setGeneral(e.general);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Paper withBorder p="sm" data-testid="recon-rules">
      <SectionHeader title={`Matching rules — ${link.statementAccount}`}>
        <Badge variant="light">{link.kind}</Badge>
      </SectionHeader>
      <Text size="sm" c="dimmed">
        A run tries the rules in this order on what is still unmatched: {link.kind === 'cash' ? 'tolerances are in ' + (link.asset ?? 'the account\'s currency') + ', windows in calendar days.' : 'tolerances are in units of the security.'}
      </Text>
      <Table mt="xs" verticalSpacing={6} data-testid="recon-rules-table">
        <Table.Thead>
          <Table.Tr><Table.Th w={40}>#</Table.Th><Table.Th w={200}>Rule</Table.Th><Table.Th>Parameters</Table.Th>{manage && <Table.Th w={190} />}</Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((r, i) => {
            const def = KINDS[r.rule];
            const rowError = fieldErrors[`${i}:`];
            return (
              <Table.Tr key={r.id} data-testid={`recon-rule-${i + 1}`} data-rule={r.rule}>
                <Table.Td>{i + 1}</Table.Td>
                <Table.Td>
                  {manage ? (
                    <Select
                      aria-label={`Rule ${i + 1} kind`} value={r.rule} onChange={(v) => v && setKind(i, v)} allowDeselect={false} error={fieldErrors[`${i}:rule`]}
                      data={allowed.map((k) => ({ value: k, label: KINDS[k]?.label ?? k }))}
                    />
                  ) : <Text size="sm" fw={500}>{def?.label ?? r.rule}</Text>}
                  {def && <Text size="xs" c="dimmed" mt={2}>{def.help}</Text>}
                </Table.Td>
                <Table.Td>
                  <Group gap="xs" align="flex-start">
                    {(def?.params ?? []).map((p) => (manage ? (
                      <TextInput
                        key={p.key} label={p.label} description={p.help} w={p.kind === 'decimal' ? 170 : 150} size="xs"
                        value={r.params[p.key] ?? ''} placeholder={p.default} onChange={(e) => edit(i, p.key, e.currentTarget.value)}
                        error={fieldErrors[`${i}:${p.key}`]} data-testid={`recon-rule-${i + 1}-${p.key}`}
                      />
                    ) : (
                      <Text key={p.key} size="sm"><Text span c="dimmed" size="sm">{p.label}:</Text> {r.params[p.key] ?? p.default}</Text>
                    )))}
                    {!def?.params.length && <Text size="sm" c="dimmed">no parameters</Text>}
                  </Group>
                  {rowError && <Text size="xs" c="red" mt={4}>{rowError}</Text>}
                </Table.Td>
                {manage && (
                  <Table.Td>
                    <Group gap={4} wrap="nowrap">
                      <Button size="compact-xs" variant="default" aria-label={`Move rule ${i + 1} up`} disabled={i === 0} onClick={() => move(i, -1)}>↑</Button>
                      <Button size="compact-xs" variant="default" aria-label={`Move rule ${i + 1} down`} disabled={i === rows.length - 1} onClick={() => move(i, 1)}>↓</Button>
                      <Button size="compact-xs" variant="subtle" color="red" aria-label={`Remove rule ${i + 1}`} onClick={() => remove(i)}>Remove</Button>
                    </Group>
                  </Table.Td>
                )}
              </Table.Tr>
            );
          })}
          {rows.length === 0 && <Table.Tr><Table.Td colSpan={manage ? 4 : 3}><Text size="sm" c="dimmed">No rule: a run would match nothing (at least one is needed to save).</Text></Table.Td></Table.Tr>}
        </Table.Tbody>
      </Table>
      {manage && (
        <Stack gap="xs" mt="xs">
          <Group align="flex-end" gap="sm">
            <Select label="Add a rule" w={200} value={adding} onChange={setAdding} data={allowed.map((k) => ({ value: k, label: KINDS[k]?.label ?? k }))} data-testid="recon-rules-add-kind" />
            <Button variant="default" onClick={add} disabled={!adding || rows.length >= 20}>Add</Button>
            <Box style={{ flex: 1 }} />
            <Button variant="subtle" disabled={!dirty || busy} onClick={() => { setRows(saved); clearErrors(); }}>Discard changes</Button>
            <Button onClick={save} loading={busy} disabled={!dirty} data-testid="recon-rules-save">Save rules</Button>
          </Group>
          {general.length > 0 && <ErrorAlert message={general.join('; ')} title="The rules were not saved" />}
          {Object.keys(fieldErrors).length > 0 && general.length === 0 && <Text size="sm" c="red" data-testid="recon-rules-error">The rules were not saved: see the fields marked.</Text>}
          {message && <Alert color="green" data-testid="recon-rules-saved">{message}</Alert>}
        </Stack>
      )}
    </Paper>
  );
}
