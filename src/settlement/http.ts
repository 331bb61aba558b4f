import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../api/index.js';
import type { Pool } from '../db/index.js';
import { DomainError, fromMinor, notFound, toMinor } from '../kernel/index.js';
import { getInstruction, listFails, listMatches, listObligations, messages, nettingReport } from './index.js';
import type { ObligationView } from './netting.js';

const Date_ = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD');
const Status = z.enum(['pending', 'instructed', 'matched', 'settled', 'partially_settled', 'failed']);

/** An obligation with its id and what has settled of it (decimal strings, signed as the obligation). */
export type ObligationRow = ObligationView & { id: string; settledQuantity: string; settledCash: string; carriedInto: string | null };

interface ExtraRow {
  id: string; settle_date: string; counterparty: string; symbol: string; currency: string; quantity: string; cash: string; status: string;
  settled_quantity: string; settled_cash: string; carried_into: string | null; scale: number; cash_scale: number;
  isin: string | null; cp_name: string; bic: string | null; dtc_participant: string | null; trade_date: string | null;
}

const EXTRA = `SELECT o.id, o.settle_date::text AS settle_date, o.counterparty, o.symbol, o.currency, o.quantity::text AS quantity,
    o.cash::text AS cash, o.status, o.settled_quantity::text AS settled_quantity, o.settled_cash::text AS settled_cash,
    o.carried_into::text AS carried_into, s.scale, a.scale AS cash_scale, s.isin, cp.name AS cp_name, cp.bic, cp.dtc_participant,
    (SELECT min(t.trade_date)::text FROM trades t WHERE t.settle_date = o.settle_date AND t.counterparty = o.counterparty
        AND t.symbol = o.symbol AND t.status = 'booked') AS trade_date
  FROM settlement_obligations o JOIN securities s ON s.symbol = o.symbol JOIN assets a ON a.code = o.currency
  JOIN counterparties cp ON cp.code = o.counterparty`;

const extraOf = (r: ExtraRow) => ({
  id: r.id,
  settledQuantity: fromMinor(toMinor(r.settled_quantity, r.scale), r.scale),
  settledCash: fromMinor(BigInt(r.settled_cash), r.cash_scale),
  carriedInto: r.carried_into,
});

/** The stored obligations of a date (see listObligations), each with its id and settled part. */
async function obligationRows(pool: Pool, q: { settleDate: string; status?: z.infer<typeof Status>; counterparty?: string }): Promise<ObligationRow[]> {
  const views = await listObligations(pool, q);
  const { rows } = await pool.query<ExtraRow>(`${EXTRA} WHERE o.settle_date = $1`, [q.settleDate]);
  const byKey = new Map(rows.map((r) => [`${r.counterparty}\u0000${r.symbol}`, r]));
  return views.flatMap((v) => {
    const r = byKey.get(`${v.counterparty}\u0000${v.security}`);
    return r ? [{ ...v, ...extraOf(r) }] : [];
  });
}

const isZero = (dec: string) => /^-?0*(\.0*)?$/.test(dec);
const abs = (dec: string) => (dec.startsWith('-') ? dec.slice(1) : dec);

/**
 * The instruction message of an obligation, regenerated from the obligation, the security's ISIN,
 * the counterparty and the firm's settings (the files themselves are written to a directory this
 * server does not know). When instructed: the same format, message id, reference, time and place
 * as sent. When not: a sese.023 preview. Null with the reason when no valid message can be made.
 */
function messageOf(
  r: ExtraRow,
  instruction: Awaited<ReturnType<typeof getInstruction>>,
  deps: AppDeps,
): { message: { format: 'sese023' | 'mt54x'; text: string; preview: boolean } | null; messageUnavailable: string | null } {
  const none = (why: string) => ({ message: null, messageUnavailable: why });
  const { firmBic, safekeepingAccount } = deps.config;
  if (!r.isin) return none(`security ${r.symbol} has no ISIN`);
  if (isZero(r.quantity)) return none('no securities move: nothing to instruct');
  if (!firmBic || !safekeepingAccount) return none('the firm BIC (BACKOFFICE_BIC) and safekeeping account (BACKOFFICE_SAFEKEEPING_ACCOUNT) are not configured');
  const cash = BigInt(r.cash);
  const receive = !r.quantity.startsWith('-');
  if (cash !== 0n && (cash > 0n) === receive) return none('securities and cash move the same way: not a delivery against payment');
  const amount = cash === 0n ? undefined : abs(fromMinor(cash, r.cash_scale));
  const tradeDate = r.trade_date && r.trade_date <= r.settle_date ? r.trade_date : r.settle_date;
  const placeBic = instruction?.placeBic ?? 'DTCYUS33';
  const o: messages.InstructionObligation = {
    id: r.id, direction: receive ? 'receive' : 'deliver', payment: cash === 0n ? 'free' : 'against', isin: r.isin,
    quantity: abs(fromMinor(toMinor(r.quantity, r.scale), r.scale)), ...(amount ? { amount, currency: r.currency } : {}),
    tradeDate, settleDate: r.settle_date, account: safekeepingAccount,
    counterparty: { name: r.cp_name, ...(r.bic ? { bic: r.bic } : {}), ...(r.dtc_participant ? { dtcParticipant: r.dtc_participant } : {}) },
    place: { bic: placeBic }, ourBic: firmBic,
  };
  try {
    if (instruction?.format === 'mt54x') {
      return { message: { format: 'mt54x', text: messages.toMt54x(o, { reference: instruction.reference, senderBic: firmBic, receiverBic: placeBic }), preview: false }, messageUnavailable: null };
    }
    const text = messages.toSese023(o, instruction
      ? { messageId: instruction.messageId, createdAt: new Date(instruction.instructedAt) }
      : { messageId: `PREVIEW-${r.id}`.slice(0, 35), createdAt: deps.clock.now() });
    return { message: { format: 'sese023', text, preview: !instruction }, messageUnavailable: null };
  } catch (e) {
    if (e instanceof DomainError) return none(e.message);
    throw e;
  }
}

/** Settlement: obligations, the netting report, fails and confirmation matching (read only). */
export function settlementRoutes(app: FastifyInstance, deps: AppDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const pool = deps.db.pool;
  const tags = ['settlement'];
  const read = { permission: 'trading.read' as const };
  const today = () => deps.clock.now().toISOString().slice(0, 10);

  r.get('/api/settlement/obligations', {
    config: read,
    schema: { tags, summary: 'Net obligations of a settlement date (today when not given), with status and settled part', querystring: z.object({ settleDate: Date_.optional(), status: Status.optional(), counterparty: z.string().optional() }) },
  }, (req) => obligationRows(pool, { ...req.query, settleDate: req.query.settleDate ?? today() }));
  r.get('/api/settlement/obligations/:id', {
    config: read,
    schema: { tags, summary: 'One obligation, its instruction (if sent) and the instruction message (regenerated)', params: z.object({ id: z.string() }) },
  }, async (req) => {
    const { rows } = await pool.query<ExtraRow>(`${EXTRA} WHERE o.id = $1`, [req.params.id]);
    const row = rows[0];
    if (!row) throw notFound('SETTLEMENT_OBLIGATION_NOT_FOUND', `obligation ${req.params.id} is not known`);
    const view = (await obligationRows(pool, { settleDate: row.settle_date, counterparty: row.counterparty })).find((o) => o.id === row.id);
    if (!view) throw notFound('SETTLEMENT_OBLIGATION_NOT_FOUND', `obligation ${req.params.id} is not known`);
    const instruction = await getInstruction(pool, row.id);
    return { obligation: view, instruction: instruction ?? null, ...messageOf(row, instruction, deps) };
  });
  r.get('/api/settlement/report', {
    config: read,
    schema: { tags, summary: 'Gross against net obligations of a settlement date', querystring: z.object({ settleDate: Date_.optional() }) },
  }, (req) => nettingReport(pool, req.query.settleDate ?? today()));
  r.get('/api/settlement/fails', {
    config: read,
    schema: { tags, summary: 'Fails as of a date, with close-out alerts and aging buckets', querystring: z.object({ asOf: Date_.optional() }) },
  }, (req) => listFails(pool, req.query.asOf ?? today()));
  r.get('/api/settlement/matches', {
    config: read,
    schema: { tags, summary: 'Confirmation matching results of a trade date', querystring: z.object({ date: Date_.optional() }) },
  }, (req) => listMatches(pool, req.query.date ?? today()));
}
