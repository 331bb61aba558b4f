import { Alert, Button, Code, Stack, Text } from '@mantine/core';
import { useState } from 'react';
import { audit, errorMessage, type AuditVerification } from '../api';
import { ErrorAlert, PageHeader } from '../components';

/** Re-checks the tamper-evident audit trail on demand. */
export default function AuditPage() {
  const [result, setResult] = useState<AuditVerification>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  async function verify() {
    setBusy(true);
    setError(undefined);
    setResult(undefined);
    try {
      setResult(await audit.verify());
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <PageHeader title="Audit" />
      <Stack align="flex-start">
        <Button onClick={() => void verify()} loading={busy}>
          Verify audit trail
        </Button>
        {error && <ErrorAlert message={error} />}
        {result && (
          <Alert
            color={result.ok ? 'green' : 'red'}
            title={result.ok ? 'Audit trail intact' : 'Audit trail broken'}
            role="status"
            data-testid="audit-result"
            data-ok={String(result.ok)}
          >
            <Text size="sm">{result.checked} records checked.</Text>
            {result.firstBroken && (
              <Text size="sm">
                First break: table <Code>{result.firstBroken.table}</Code>, id <Code>{result.firstBroken.id}</Code>
                {' — '}
                {result.firstBroken.reason}
              </Text>
            )}
          </Alert>
        )}
      </Stack>
    </>
  );
}
