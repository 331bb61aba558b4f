import { Alert, Box, Button, Checkbox, Group, NativeSelect, Paper, TextInput, Title } from '@mantine/core';
import type { ColDef } from 'ag-grid-community';
import { AgGridReact, type CustomCellRendererProps } from 'ag-grid-react';
import { useRef, useState, type FormEvent } from 'react';
import { ACCOUNT_TYPES, errorMessage, ledger, type Account, type AccountType } from '../api';
import { useCanWrite } from '../auth';
import { AppLink, ErrorAlert, PageHeader, ExportCsvButton } from '../components';
import { accountPath } from '../format';
import { defaultColDef, gridTheme } from '../grid';
import { useApi } from '../useApi';

/** Account name indented by its depth in the ':'-separated hierarchy, linking to its page. */
function AccountName({ value }: CustomCellRendererProps<Account, string>) {
  if (!value) return null;
  const depth = value.split(':').length - 1;
  return (
    <span style={{ paddingLeft: depth * 16 }}>
      <AppLink to={accountPath(value)}>{value}</AppLink>
    </span>
  );
}

const columns: ColDef<Account>[] = [
  { field: 'name', headerName: 'Account', flex: 2, minWidth: 260, cellRenderer: AccountName, sort: 'asc' },
  { field: 'type', headerName: 'Type', width: 130 },
  { field: 'owner', headerName: 'Owner', flex: 1, minWidth: 140 },
  // Boolean: the grid shows it as a read-only checkbox.
  { field: 'noNegative', headerName: 'No negative', width: 140 },
  { field: 'createdAt', headerName: 'Created at', width: 220 },
];

/** Chart of accounts, and (for roles that may write) the form to open one. */
export default function AccountsPage() {
  const accounts = useApi((signal) => ledger.accounts(signal), []);
  const canWrite = useCanWrite();
  const gridRef = useRef<AgGridReact<Account>>(null);

  return (
    <>
      <PageHeader title="Chart of accounts">
        <ExportCsvButton grid={gridRef} fileName={'accounts.csv'} disabled={!accounts.data?.length} />
      </PageHeader>
      {canWrite && <OpenAccountForm onOpened={accounts.reload} />}
      {accounts.error && <ErrorAlert message={accounts.error} />}
      <Box h="calc(100dvh - 320px)" mih={320} mt="md">
        <AgGridReact<Account>
          ref={gridRef}
          theme={gridTheme}
          rowData={accounts.data ?? []}
          columnDefs={columns}
          defaultColDef={defaultColDef}
          getRowId={({ data }) => data.name}
          loading={accounts.loading}
          enableCellTextSelection
        />
      </Box>
    </>
  );
}

function OpenAccountForm({ onOpened }: { onOpened: () => void }) {
  const [name, setName] = useState('');
  const [type, setType] = useState<AccountType>('asset');
  const [owner, setOwner] = useState('');
  const [noNegative, setNoNegative] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [opened, setOpened] = useState<Account>();

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setOpened(undefined);
    try {
      const account = await ledger.openAccount({
        name: name.trim(),
        type,
        ...(owner.trim() ? { owner: owner.trim() } : {}),
        noNegative,
      });
      setOpened(account);
      setName('');
      setOwner('');
      setNoNegative(false);
      onOpened();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Paper withBorder p="md" component="form" onSubmit={submit} aria-labelledby="open-account-title">
      <Title order={4} mb="xs" id="open-account-title">
        Open account
      </Title>
      <Group align="flex-end" gap="sm" wrap="wrap">
        <TextInput
          label="Name"
          placeholder="e.g. assets:bank:operating"
          required
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          w={280}
        />
        <NativeSelect
          label="Type"
          data={[...ACCOUNT_TYPES]}
          value={type}
          onChange={(e) => setType(e.currentTarget.value as AccountType)}
        />
        <TextInput label="Owner" placeholder="optional" value={owner} onChange={(e) => setOwner(e.currentTarget.value)} />
        <Checkbox
          label="No negative balance"
          checked={noNegative}
          onChange={(e) => setNoNegative(e.currentTarget.checked)}
          mb={8}
        />
        <Button type="submit" loading={busy}>
          Open account
        </Button>
      </Group>
      {error && (
        <Box mt="sm">
          <ErrorAlert title="Account not opened" message={error} />
        </Box>
      )}
      {opened && (
        <Alert color="green" mt="sm" role="status">
          Opened <AppLink to={accountPath(opened.name)}>{opened.name}</AppLink> ({opened.type}).
        </Alert>
      )}
    </Paper>
  );
}
