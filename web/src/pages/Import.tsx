import {
  Alert,
  Box,
  Button,
  Code,
  FileInput,
  Group,
  Modal,
  Paper,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Textarea,
  Title,
} from '@mantine/core';
import { useState, type FormEvent } from 'react';
import {
  errorMessage,
  IMPORT_FORMATS,
  trading,
  reference,
  REFERENCE_KINDS,
  type ReferenceKind,
  type ReferenceImportSummary,
  type ImportFormat,
  type ImportResult,
  type QuarantinedRecord,
  type RetryResult,
} from '../api';
import { useAuth, useCanImport } from '../auth';
import { ErrorAlert, PageHeader, SectionHeader } from '../components';
import { useApi, type Loaded } from '../useApi';

type FormatChoice = 'auto' | ImportFormat;

const FORMAT_OPTIONS = [
  { value: 'auto', label: 'Auto-detect' },
  { value: 'fix', label: 'FIX' },
  { value: 'csv', label: 'CSV' },
  { value: 'json', label: 'JSON' },
];

/** The server's guess from the content: FIX starts "8=FIX" (after # comments), JSON "[" or "{". */
function detectFormat(text: string): ImportFormat {
  const t = text
    .split(/\r?\n/)
    .filter((l) => !l.startsWith('#'))
    .join('\n')
    .trimStart();
  if (t.startsWith('8=FIX')) return 'fix';
  if (t.startsWith('[') || t.startsWith('{')) return 'json';
  return 'csv';
}

const SOH = '\x01';

/** FIX with SOH delimiters is shown (and may be edited) with '|', which the server also reads. */
function editable(raw: string): string {
  return raw.includes(SOH) && !raw.includes('|') ? raw.replaceAll(SOH, '|') : raw;
}

/** Book a file of executions; review and retry what was quarantined. */
export default function ImportPage() {
  const canImport = useCanImport();
  const { user } = useAuth();
  const quarantine = useApi((signal) => trading.quarantine(signal), []);

  return (
    <>
      <PageHeader title="Import executions" />
      {canImport ? (
        <ImportForm onImported={quarantine.reload} />
      ) : (
        <Text c="dimmed" size="sm">
          Importing and retrying are for the admin and operations roles; you are signed in as {user?.role}.
        </Text>
      )}
      <QuarantineList quarantine={quarantine} canRetry={canImport} />
      {user && ['admin', 'operations', 'finance'].includes(user.role) && <ReferenceImportForm />}
    </>
  );
}

/** Reference data from CSV: all or nothing; a refusal lists every bad row, field and rule. */
function ReferenceImportForm() {
  const [file, setFile] = useState<File | null>(null);
  const [kind, setKind] = useState<ReferenceKind>('securities');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [summary, setSummary] = useState<ReferenceImportSummary>();

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(undefined);
    setSummary(undefined);
    try {
      setSummary(await reference.importCsv(kind, await file.text()));
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Paper withBorder p="md" mt="lg" component="form" onSubmit={submit} aria-labelledby="reference-title">
      <Title order={4} mb="xs" id="reference-title">
        Import reference data
      </Title>
      <Group align="flex-end" gap="sm" wrap="wrap">
        <Select
          label="Kind"
          data={REFERENCE_KINDS.map((k) => ({ value: k, label: k }))}
          value={kind}
          onChange={(value) => setKind((value ?? 'securities') as ReferenceKind)}
          allowDeselect={false}
          w={180}
        />
        <FileInput label="Reference CSV" placeholder="CSV with a header row" value={file} onChange={setFile} clearable required w={320} />
        <Button type="submit" loading={busy} disabled={!file}>
          Import reference data
        </Button>
      </Group>
      {error && (
        <Box mt="sm">
          <ErrorAlert title="Reference import refused (nothing was written)" message={error} />
        </Box>
      )}
      {summary && (
        <Text mt="sm" data-testid="reference-summary">
          {summary.received} rows: {summary.created} added, {summary.updated} updated, {summary.unchanged} unchanged.
        </Text>
      )}
    </Paper>
  );
}

function ImportForm({ onImported }: { onImported: () => void }) {
  const [file, setFile] = useState<File | null>(null);
  const [format, setFormat] = useState<FormatChoice>('auto');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [result, setResult] = useState<{ file: string; format: ImportFormat; result: ImportResult }>();

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    try {
      const text = await file.text();
      const chosen = format === 'auto' ? detectFormat(text) : format;
      setResult({ file: file.name, format: chosen, result: await trading.importFile(text, chosen) });
      onImported();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Paper withBorder p="md" component="form" onSubmit={submit} aria-labelledby="import-title">
      <Title order={4} mb="xs" id="import-title">
        Import a file
      </Title>
      <Group align="flex-end" gap="sm" wrap="wrap">
        <FileInput
          label="Executions file"
          placeholder="FIX, CSV or JSON"
          value={file}
          onChange={setFile}
          clearable
          required
          w={320}
        />
        <Select
          label="Format"
          data={FORMAT_OPTIONS}
          value={format}
          onChange={(value) => setFormat((value ?? 'auto') as FormatChoice)}
          allowDeselect={false}
          w={160}
        />
        <Button type="submit" loading={busy} disabled={!file}>
          Import
        </Button>
      </Group>
      {error && (
        <Box mt="sm">
          <ErrorAlert title="Import refused" message={error} />
        </Box>
      )}
      {result && <ImportSummary {...result} />}
    </Paper>
  );
}

function Counts({ result }: { result: ImportResult }) {
  const counts: [string, string, number][] = [
    ['received', 'Received', result.received],
    ['booked', 'Booked', result.booked],
    ['duplicates', 'Duplicates', result.duplicates],
    ['ignored', 'Ignored', result.ignored],
    ['quarantined', 'Quarantined', result.quarantined.length],
  ];
  return (
    <SimpleGrid cols={{ base: 2, sm: 5 }} spacing="sm">
      {counts.map(([key, label, value]) => (
        <div key={key}>
          <Text size="xs" c="dimmed">
            {label}
          </Text>
          <Text fw={700} data-testid={`import-${key}`}>
            {value}
          </Text>
        </div>
      ))}
    </SimpleGrid>
  );
}

function ImportSummary({ file, format, result }: { file: string; format: ImportFormat; result: ImportResult }) {
  return (
    <Paper withBorder p="md" mt="md" data-testid="import-summary">
      <Text size="sm" mb="sm">
        {file} read as {format.toUpperCase()}.
      </Text>
      <Counts result={result} />
      {result.quarantined.length > 0 && (
        <Table mt="md" withTableBorder striped data-testid="import-quarantined">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Record</Table.Th>
              <Table.Th>Reason</Table.Th>
              <Table.Th>Quarantine id</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {result.quarantined.map((q) => (
              <Table.Tr key={q.id}>
                <Table.Td>{q.record}</Table.Td>
                <Table.Td>{q.reason}</Table.Td>
                <Table.Td>
                  <Code>{q.id}</Code>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Paper>
  );
}

function QuarantineList({
  quarantine,
  canRetry,
}: {
  quarantine: Loaded<QuarantinedRecord[]>;
  canRetry: boolean;
}) {
  const [retrying, setRetrying] = useState<QuarantinedRecord>();
  const records = quarantine.data ?? [];

  return (
    <>
      <SectionHeader title="Open quarantine">
        <Button variant="default" size="xs" onClick={quarantine.reload} loading={quarantine.loading}>
          Refresh
        </Button>
      </SectionHeader>
      {quarantine.error && <ErrorAlert message={quarantine.error} />}
      <Table.ScrollContainer minWidth={900}>
        <Table withTableBorder striped data-testid="quarantine-list">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Received at</Table.Th>
              <Table.Th>Source</Table.Th>
              <Table.Th>Record</Table.Th>
              <Table.Th>Reason</Table.Th>
              <Table.Th>Raw</Table.Th>
              {canRetry && <Table.Th />}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {quarantine.data && records.length === 0 && (
              <Table.Tr>
                <Table.Td colSpan={canRetry ? 6 : 5}>
                  <Text c="dimmed" size="sm">
                    No open quarantined records.
                  </Text>
                </Table.Td>
              </Table.Tr>
            )}
            {records.map((q) => (
              <Table.Tr key={q.id} data-testid="quarantine-row" data-id={q.id}>
                <Table.Td style={{ whiteSpace: 'nowrap' }}>{q.receivedAt}</Table.Td>
                <Table.Td>
                  {q.source} <Text span c="dimmed" size="xs">({q.format})</Text>
                </Table.Td>
                <Table.Td>{q.record}</Table.Td>
                <Table.Td>
                  {q.reason}
                  {(q.field || q.rule) && (
                    <Text size="xs" c="dimmed">
                      {[q.field && `field ${q.field}`, q.rule].filter(Boolean).join(' · ')}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td maw={360}>
                  <Text ff="monospace" size="xs" lineClamp={3} style={{ whiteSpace: 'pre-wrap', overflowWrap: 'anywhere' }}>
                    {editable(q.raw)}
                  </Text>
                </Table.Td>
                {canRetry && (
                  <Table.Td>
                    <Button size="xs" variant="light" onClick={() => setRetrying(q)}>
                      Retry
                    </Button>
                  </Table.Td>
                )}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Modal
        opened={!!retrying}
        onClose={() => setRetrying(undefined)}
        title={retrying ? `Retry ${retrying.record}` : 'Retry'}
        size="xl"
      >
        {retrying && <RetryForm key={retrying.id} record={retrying} onRetried={quarantine.reload} />}
      </Modal>
    </>
  );
}

function RetryForm({ record, onRetried }: { record: QuarantinedRecord; onRetried: () => void }) {
  const initial = editable(record.raw);
  const [raw, setRaw] = useState(initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [result, setResult] = useState<RetryResult>();

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    try {
      // Unchanged: the server retries the record exactly as it stored it.
      setResult(await trading.retry(record.id, raw === initial ? undefined : raw));
      onRetried();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  const hint =
    record.format === 'csv'
      ? 'The header line, then the row (the row alone also works).'
      : record.format === 'fix'
        ? "One message; '|' stands for the SOH delimiter."
        : 'The JSON record.';

  return (
    <Stack component="form" onSubmit={submit} gap="sm">
      <Text size="sm">{record.reason}</Text>
      <Textarea
        label="Raw record"
        description={hint}
        value={raw}
        onChange={(e) => setRaw(e.currentTarget.value)}
        autosize
        minRows={3}
        maxRows={14}
        styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)', fontSize: 12 } }}
        spellCheck={false}
        data-testid="retry-raw"
        disabled={result?.resolved}
      />
      <Group>
        <Button type="submit" loading={busy} disabled={result?.resolved}>
          Submit retry
        </Button>
        {raw !== initial && !result?.resolved && (
          <Button variant="subtle" onClick={() => setRaw(initial)}>
            Undo changes
          </Button>
        )}
      </Group>
      {error && <ErrorAlert title="Retry refused" message={error} />}
      {result && (
        <Alert
          color={result.resolved ? 'green' : 'yellow'}
          title={result.resolved ? 'Resolved' : 'Still quarantined'}
          role="status"
          data-testid="retry-result"
        >
          {result.resolved
            ? `Booked ${result.booked}, duplicates ${result.duplicates}, ignored ${result.ignored}. The record left the quarantine.`
            : (result.quarantined[0]?.reason ?? 'The record was quarantined again.')}
        </Alert>
      )}
    </Stack>
  );
}
