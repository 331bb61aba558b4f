import { Alert, Badge, Button, Group, Loader, Paper, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useState, type FormEvent, type ReactNode } from 'react';
import { useParams } from 'react-router-dom';
import { errorMessage, ledger, type Entry } from '../api';
import { useCanWrite } from '../auth';
import { AppLink, ErrorAlert, PageHeader, amountStyle } from '../components';
import { accountPath, entryPath } from '../format';
import { useApi } from '../useApi';

/** One journal entry with its postings, and the way to reverse it. */
export default function EntryPage() {
  const { id = '' } = useParams();
  const { data: entry, error, loading } = useApi((signal) => ledger.entry(id, signal), [id]);
  const canWrite = useCanWrite();

  return (
    <>
      <PageHeader title={<>Entry {id}</>}>
        <AppLink to="/journal">Back to journal</AppLink>
      </PageHeader>
      {error && <ErrorAlert message={error} />}
      {loading && !entry && <Loader />}
      {entry && (
        <Stack>
          <EntryDetails entry={entry} />
          <Postings entry={entry} />
          {canWrite && <ReverseForm key={entry.id} entry={entry} />}
        </Stack>
      )}
    </>
  );
}

function EntryDetails({ entry }: { entry: Entry }) {
  const fields: [string, ReactNode][] = [
    ['Date', entry.date],
    ['Memo', entry.memo || '—'],
    ['Key', entry.key],
    ['Recorded at', entry.recordedAt],
    ['Created by', entry.createdBy],
    ['Reverses', entry.reverses ? <AppLink to={entryPath(entry.reverses)}>{entry.reverses}</AppLink> : '—'],
  ];
  return (
    <Paper withBorder p="md">
      <SimpleGrid cols={{ base: 1, sm: 2, md: 3 }} spacing="sm">
        {fields.map(([label, value]) => (
          <div key={label}>
            <Text size="xs" c="dimmed">
              {label}
            </Text>
            <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
              {value}
            </Text>
          </div>
        ))}
      </SimpleGrid>
    </Paper>
  );
}

function Postings({ entry }: { entry: Entry }) {
  return (
    <div>
      <Title order={4} mb="xs">
        Postings
      </Title>
      <Table withTableBorder striped data-testid="postings">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Account</Table.Th>
            <Table.Th>Asset</Table.Th>
            <Table.Th style={amountStyle}>Amount</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {entry.postings.map((p, i) => (
            <Table.Tr key={i}>
              <Table.Td>
                <AppLink to={accountPath(p.account)}>{p.account}</AppLink>
              </Table.Td>
              <Table.Td>{p.asset}</Table.Td>
              <Table.Td style={amountStyle}>{p.amount}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </div>
  );
}

function ReverseForm({ entry }: { entry: Entry }) {
  const [memo, setMemo] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [reversal, setReversal] = useState<Entry>();

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      setReversal(await ledger.reverse(entry.id, memo.trim() || undefined));
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Paper withBorder p="md" component="form" onSubmit={submit}>
      <Title order={4} mb="xs">
        Reverse this entry
      </Title>
      <Text size="sm" c="dimmed" mb="sm">
        Books a new entry that negates every posting of this one. This entry stays as it is.
      </Text>
      <Group align="flex-end" gap="sm">
        <TextInput
          label="Reversal memo"
          placeholder={`Reversal of ${entry.id}`}
          value={memo}
          onChange={(e) => setMemo(e.currentTarget.value)}
          w={360}
          disabled={!!reversal}
        />
        <Button type="submit" color="red" variant="light" loading={busy} disabled={!!reversal}>
          Reverse
        </Button>
      </Group>
      {error && (
        <Stack mt="sm">
          <ErrorAlert title="Reversal refused" message={error} />
        </Stack>
      )}
      {reversal && (
        <Alert color="green" title="Entry reversed" mt="sm" role="status" data-testid="reversal-result">
          Reversal booked as <AppLink to={entryPath(reversal.id)}>{reversal.id}</AppLink>{' '}
          <Badge variant="light">{reversal.date}</Badge>
        </Alert>
      )}
    </Paper>
  );
}
