import { Alert, Anchor, Button, Group, Paper, SimpleGrid, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { Link } from 'react-router-dom';

/** A failed request or action; `message` is the problem's detail. */
export function ErrorAlert({ message, title = 'Error' }: { message: string; title?: string }) {
  return (
    <Alert color="red" title={title} role="alert">
      {message}
    </Alert>
  );
}

/** Page heading with optional actions on the right. */
export function PageHeader({ title, children }: { title: ReactNode; children?: ReactNode }) {
  return (
    <Group justify="space-between" mb="md" wrap="wrap">
      <Title order={2}>{title}</Title>
      {children && <Group gap="sm">{children}</Group>}
    </Group>
  );
}

/** In-app link styled like Mantine's Anchor. */
export function AppLink({ to, children }: { to: string; children: ReactNode }) {
  return (
    <Anchor component={Link} to={to}>
      {children}
    </Anchor>
  );
}

/** Style for cells holding decimal strings: right aligned, digits in columns. */
export const amountStyle = { textAlign: 'right', fontVariantNumeric: 'tabular-nums', whiteSpace: 'nowrap' } as const;

/** Label/value pairs of a record, in a responsive grid (the header facts of a detail page). */
export function DetailFields({ fields, testId }: { fields: [string, ReactNode][]; testId?: string }) {
  return (
    <Paper withBorder p="md" data-testid={testId}>
      <SimpleGrid cols={{ base: 1, sm: 2, md: 4 }} spacing="sm">
        {fields.map(([label, value]) => (
          <div key={label}>
            <Text size="xs" c="dimmed">
              {label}
            </Text>
            <Text size="sm" style={{ overflowWrap: 'anywhere' }} data-field={label}>
              {value}
            </Text>
          </div>
        ))}
      </SimpleGrid>
    </Paper>
  );
}

/** Heading of a section of a page, with optional controls on the right. */
export function SectionHeader({ title, children }: { title: ReactNode; children?: ReactNode }) {
  return (
    <Group justify="space-between" align="flex-end" mb="xs" mt="lg" wrap="wrap">
      <Title order={4}>{title}</Title>
      {children && (
        <Group gap="sm" align="flex-end">
          {children}
        </Group>
      )}
    </Group>
  );
}

/** A grid's "Export CSV" button (AG Grid writes the file from the rows it holds). */
export function ExportCsvButton({ grid, fileName, disabled, allColumns }: {
  grid: { current: { api: { exportDataAsCsv(params: { fileName: string; allColumns?: boolean }): void } } | null };
  fileName: string;
  disabled?: boolean;
  allColumns?: boolean;
}) {
  return (
    <Button variant="default" onClick={() => grid.current?.api.exportDataAsCsv({ fileName, allColumns })} disabled={disabled}>
      Export CSV
    </Button>
  );
}
