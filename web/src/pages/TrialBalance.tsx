import { Group, Loader, Table, Text, TextInput } from '@mantine/core';
import { Fragment } from 'react';
import { useSearchParams } from 'react-router-dom';
import { ledger, type TrialBalance, type TrialBalanceRow } from '../api';
import { AppLink, ErrorAlert, PageHeader, amountStyle } from '../components';
import { accountPath, today } from '../format';
import { useApi } from '../useApi';

/** Trial balance as of a date, one block of accounts per asset, each closed by its totals. */
export default function TrialBalancePage() {
  const [params, setParams] = useSearchParams();
  const asOf = params.get('asOf') || today();
  const { data, error, loading } = useApi((signal) => ledger.trialBalance(asOf, signal), [asOf]);

  return (
    <>
      <PageHeader title="Trial balance">
        <TextInput
          label="As of"
          type="date"
          value={asOf}
          onChange={(e) => {
            const value = e.currentTarget.value;
            // A half-typed date is empty; keep showing the last complete one.
            if (value) setParams({ asOf: value }, { replace: true });
          }}
        />
      </PageHeader>
      {error && <ErrorAlert message={error} />}
      {loading && !data && <Loader />}
      {data && <TrialBalanceTable data={data} />}
    </>
  );
}

function TrialBalanceTable({ data }: { data: TrialBalance }) {
  const groups = groupByAsset(data);
  return (
    <Table.ScrollContainer minWidth={640}>
      <Table striped highlightOnHover withTableBorder data-testid="trial-balance">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Account</Table.Th>
            <Table.Th>Type</Table.Th>
            <Table.Th>Asset</Table.Th>
            <Table.Th style={amountStyle}>Debit</Table.Th>
            <Table.Th style={amountStyle}>Credit</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {groups.length === 0 && (
            <Table.Tr>
              <Table.Td colSpan={5}>
                <Text c="dimmed">No balances as of {data.asOf}.</Text>
              </Table.Td>
            </Table.Tr>
          )}
          {groups.map(({ asset, rows, total }) => (
            <Fragment key={asset}>
              {rows.map((row) => (
                <Table.Tr key={`${row.account}\u0000${row.asset}`}>
                  <Table.Td>
                    <AppLink to={accountPath(row.account)}>{row.account}</AppLink>
                  </Table.Td>
                  <Table.Td>{row.type}</Table.Td>
                  <Table.Td>{row.asset}</Table.Td>
                  <Table.Td style={amountStyle}>{row.debit}</Table.Td>
                  <Table.Td style={amountStyle}>{row.credit}</Table.Td>
                </Table.Tr>
              ))}
              {total && (
                <Table.Tr fw={700} data-testid={`trial-balance-total-${asset}`}>
                  <Table.Td colSpan={2}>Total {asset}</Table.Td>
                  <Table.Td>{asset}</Table.Td>
                  <Table.Td style={amountStyle}>{total.debit}</Table.Td>
                  <Table.Td style={amountStyle}>{total.credit}</Table.Td>
                </Table.Tr>
              )}
            </Fragment>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

interface AssetGroup {
  asset: string;
  rows: TrialBalanceRow[];
  total: TrialBalance['totals'][number] | undefined;
}

/** Rows grouped by asset, in the order the server gave (totals order first, then any others). */
function groupByAsset(data: TrialBalance): AssetGroup[] {
  const groups = new Map<string, AssetGroup>();
  const group = (asset: string) => {
    let g = groups.get(asset);
    if (!g) {
      g = { asset, rows: [], total: undefined };
      groups.set(asset, g);
    }
    return g;
  };
  for (const total of data.totals) group(total.asset).total = total;
  for (const row of data.rows) group(row.asset).rows.push(row);
  return [...groups.values()];
}
