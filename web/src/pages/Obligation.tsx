import { Alert, Badge, Button, Code, Group, Loader, Paper, Stack, Text, TextInput } from '@mantine/core';
import { useState, type ReactNode } from 'react';
import { useParams } from 'react-router-dom';
import { errorMessage } from '../api';
import { AppLink, DetailFields, ErrorAlert, PageHeader, SectionHeader } from '../components';
import { accountPath, securityPath } from '../format';
import { BuyInsTable, ObligationStatusBadge, settlementApi, useCanManageSettlement, type InstructionParties, type ObligationDetailFull } from '../settlement';
import { useApi } from '../useApi';

/**
 * One net settlement obligation: status, amounts, what settled, its instruction and the message
 * with the parties from the standing settlement instructions, its fail in the ledger and its buy-ins.
 */
export default function ObligationPage() {
  const { id = '' } = useParams();
  const { data, error, loading, reload } = useApi((signal) => settlementApi.obligation(id, signal), [id]);

  return (
    <>
      <PageHeader title={<>Obligation {id}</>}>
        <AppLink to={data ? `/settlement?date=${data.obligation.settleDate}` : '/settlement'}>Back to settlement</AppLink>
      </PageHeader>
      {error && <ErrorAlert message={error} />}
      {loading && !data && <Loader />}
      {data && <ObligationDetails detail={data} onChange={reload} />}
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

const partyText = (p: { bic?: string; dtcParticipant?: string; name?: string }) =>
  [p.dtcParticipant ? `DTC ${p.dtcParticipant}` : '', p.bic ?? '', p.name ?? ''].filter(Boolean).join(' / ');

function PartiesFields({ parties }: { parties: InstructionParties }) {
  const fields: [string, ReactNode][] = [
    ['Place of settlement', parties.placeBic],
    ['Their agent', parties.agent ? partyText(parties.agent) : `${partyText(parties.counterparty)} (no SSI)`],
    ['Their account', parties.agent?.account ?? '—'],
    ['Counterparty', partyText(parties.counterparty)],
    ['Our BIC', parties.ourBic],
    ['Our safekeeping account', parties.account],
    ['Their SSI', parties.ssi.theirs ?? 'reference data'],
    ['Our SSI', parties.ssi.ours ?? 'configuration'],
  ];
  return <DetailFields fields={fields} testId="obligation-parties" />;
}

/** Plan a buy-in against this fail to receive. */
function BuyInForm({ obligationId, onDone }: { obligationId: string; onDone: () => void }) {
  const [quantity, setQuantity] = useState('');
  const [price, setPrice] = useState('');
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const submit = () => {
    setBusy(true);
    setError(undefined);
    settlementApi.createBuyIn({ obligationId, ...(quantity ? { quantity } : {}), ...(price ? { price } : {}), ...(reason ? { reason } : {}) }).then(
      () => { setBusy(false); setQuantity(''); setPrice(''); setReason(''); onDone(); },
      (e: unknown) => { setBusy(false); setError(errorMessage(e)); },
    );
  };
  return (
    <Paper withBorder p="sm" mt="xs" data-testid="buy-in-form">
      <Group align="flex-end" gap="sm">
        <TextInput size="xs" label="Quantity (default: all open)" value={quantity} onChange={(e) => setQuantity(e.currentTarget.value)} />
        <TextInput size="xs" label="Indicative price" value={price} onChange={(e) => setPrice(e.currentTarget.value)} />
        <TextInput size="xs" label="Reason" value={reason} onChange={(e) => setReason(e.currentTarget.value)} w={260} />
        <Button size="xs" loading={busy} onClick={submit}>
          Plan buy-in
        </Button>
      </Group>
      {error && <ErrorAlert message={error} />}
    </Paper>
  );
}

function ObligationDetails({ detail, onChange }: { detail: ObligationDetailFull; onChange: () => void }) {
  const { obligation: o, instruction: i, message, messageUnavailable, parties, fail, buyIns } = detail;
  const canManage = useCanManageSettlement();
  // Quantity and settled quantity come in the security's scale: text equality is equality.
  const remaining = o.quantity !== o.settledQuantity;
  const failToReceive = !o.quantity.startsWith('-') && remaining && (o.status === 'failed' || o.status === 'partially_settled' || fail?.status === 'open');
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

      {parties && (
        <div>
          <SectionHeader title="Settlement parties" />
          <PartiesFields parties={parties} />
        </div>
      )}

      <div>
        <SectionHeader title="Fail in the ledger" />
        {fail ? (
          <DetailFields
            testId="obligation-fail"
            fields={[
              ['Status', fail.status === 'open' ? 'open' : `closed (${fail.closedBy?.replace(/_/g, ' ')} on ${fail.closedOn})`],
              ['Account', <AppLink key="a" to={accountPath(fail.account)}>{fail.account}</AppLink>],
              ['Failed on', fail.failedOn],
              ['In the fail account', `${fail.quantity} ${o.security}, ${fail.cash} ${o.currency}`],
            ]}
          />
        ) : (
          <Text size="sm" c="dimmed" data-testid="obligation-fail">
            Not booked as a fail.
          </Text>
        )}
      </div>

      <div>
        <SectionHeader title="Buy-ins" />
        <BuyInsTable rows={buyIns} onChange={onChange} showObligation={false} />
        {canManage && failToReceive && <BuyInForm obligationId={o.id} onDone={onChange} />}
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
