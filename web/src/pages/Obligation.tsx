import { Alert, Badge, Code, Loader, Stack, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { useParams } from 'react-router-dom';
import { settlement, type ObligationDetail } from '../api';
import { AppLink, DetailFields, ErrorAlert, PageHeader, SectionHeader } from '../components';
import { securityPath } from '../format';
import { ObligationStatusBadge } from '../settlement';
import { useApi } from '../useApi';

/** One net settlement obligation: status, amounts, what settled, its instruction and the message. */
export default function ObligationPage() {
  const { id = '' } = useParams();
  const { data, error, loading } = useApi((signal) => settlement.obligation(id, signal), [id]);

  return (
    <>
      <PageHeader title={<>Obligation {id}</>}>
        <AppLink to={data ? `/settlement?date=${data.obligation.settleDate}` : '/settlement'}>Back to settlement</AppLink>
      </PageHeader>
      {error && <ErrorAlert message={error} />}
      {loading && !data && <Loader />}
      {data && <ObligationDetails detail={data} />}
    </>
  );
}

const direction = (quantity: string, cash: string) => {
  const receive = !quantity.startsWith('-');
  const zeroQty = /^-?0*(\.0*)?$/.test(quantity);
  const zeroCash = /^-?0*(\.0*)?$/.test(cash);
  if (zeroQty) return zeroCash ? 'nothing moves' : cash.startsWith('-') ? 'pay cash' : 'receive cash';
  return `${receive ? 'receive' : 'deliver'} ${zeroCash ? 'free of payment' : 'against payment'}`;
};

function ObligationDetails({ detail }: { detail: ObligationDetail }) {
  const { obligation: o, instruction: i, message, messageUnavailable } = detail;
  const fields: [string, ReactNode][] = [
    ['Status', <ObligationStatusBadge key="s" status={o.status} />],
    ['Settle date', o.settleDate],
    ['Counterparty', o.counterparty],
    ['Security', <AppLink key="sec" to={securityPath(o.security)}>{o.security}</AppLink>],
    ['Movement', direction(o.quantity, o.cash)],
    ['Quantity', o.quantity],
    ['Cash', `${o.cash} ${o.currency}`],
    ['Settled quantity', o.settledQuantity],
    ['Settled cash', `${o.settledCash} ${o.currency}`],
    ['Trades netted', o.trades],
    ['Fails carried in', o.fails ? `${o.fails} (${o.carriedQuantity}, ${o.carriedCash} ${o.currency})` : '0'],
    ['Gross', `${o.grossQuantity} / ${o.grossCash} ${o.currency}`],
    ['Carried into', o.carriedInto ?? '—'],
  ];
  const instructionFields: [string, ReactNode][] = i
    ? [
        ['Reference', <span key="r" data-testid="instruction-reference">{i.reference}</span>],
        ['Format', i.format === 'sese023' ? 'sese.023' : 'MT54x'],
        ['Type', i.settlementType],
        ['Message id', i.messageId],
        ['Place of settlement', i.placeBic],
        ['Instructed at', i.instructedAt],
        ['File', i.file],
      ]
    : [];

  return (
    <Stack>
      <DetailFields fields={fields} testId="obligation-details" />

      <div>
        <SectionHeader title="Instruction" />
        {i ? (
          <DetailFields fields={instructionFields} testId="obligation-instruction" />
        ) : (
          <Text c="dimmed" size="sm" data-testid="obligation-instruction">
            Not instructed yet.
          </Text>
        )}
      </div>

      <div>
        <SectionHeader title={message ? `Message (${message.format === 'sese023' ? 'sese.023' : 'MT54x'})` : 'Message'}>
          {message?.preview && <Badge color="yellow">preview — not sent</Badge>}
        </SectionHeader>
        {message ? (
          <Code block data-testid="obligation-message" style={{ maxHeight: 600, overflow: 'auto' }}>
            {message.text}
          </Code>
        ) : (
          <Alert color="gray" data-testid="obligation-message">
            No message: {messageUnavailable ?? 'not available'}
          </Alert>
        )}
      </div>
    </Stack>
  );
}
