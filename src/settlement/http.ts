import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../api/index.js';
import type { Pool } from '../db/index.js';
import { DomainError, fromMinor, notFound, toMinor } from '../kernel/index.js';
import { getInstruction, listFails, listMatches, listObligations, messages, nettingReport } from './index.js';
import type { ObligationView } from './netting.js';
import { EOD_STEPS } from './eod.js';
import { bookFails, minorOf } from './fails.js';
import { importSsis, listSsis, loadSsiBook } from './ssi.js';
import { instructionOf, partiesFor, type InstructionParties } from './lifecycle.js';
import { BUY_IN_STATUSES, cancelBuyIn, createBuyIn, executeBuyIn, getBuyIn, listBuyIns, notifyBuyIn } from './buy-ins.js';

const Date_ = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD');
const Decimal_ = z.string().regex(/^\d+(\.\d+)?$/, 'a decimal string such as "190.25"');
const Status = z.enum(['pending', 'instructed', 'matched', 'settled', 'partially_settled', 'failed']);

/** An obligation with its id and what has settled of it (decimal strings, signed as the obligation). */
export type ObligationRow = ObligationView & { id: string; settledQuantity: string; settledCash: string; carriedInto: string | null };

interface ExtraRow {
  id: string; settle_date: string; counterparty: string; symbol: string; currency: string; quantity: string; cash: string; status: string;
  settled_quantity: string; settled_cash: string; carried_into: string | null; scale: number; cash_scale: number;
  isin: string | null; mic: string; asset_class: string; cp_name: string; bic: string | null; dtc_participant: string | null; trade_date: string | null;
}

const EXTRA = `SELECT o.id, o.settle_date::text AS settle_date, o.counterparty, o.symbol, o.currency, o.quantity::text AS quantity,
    o.cash::text AS cash, o.status, o.settled_quantity::text AS settled_quantity, o.settled_cash::text AS settled_cash,
    o.carried_into::text AS carried_into, s.scale, a.scale AS cash_scale, s.isin, s.mic, s.asset_class, cp.name AS cp_name, cp.bic, cp.dtc_participant,
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

type MessageOf = {
  message: { format: 'sese023' | 'mt54x'; text: string; preview: boolean } | null;
  messageUnavailable: string | null;
  parties: InstructionParties | null;
};

/**
 * The instruction message of an obligation. When instructed: regenerated from the parties it was
 * sent with (same format, message id, reference, time and place). When not: a sese.023 preview
 * with the parties the SSIs (else the configuration) give now. Null with the reason when no valid
 * message can be made.
 */
async function messageOf(pool: Pool, r: ExtraRow, instruction: Awaited<ReturnType<typeof getInstruction>>, deps: AppDeps): Promise<MessageOf> {
  const none = (why: string, parties: InstructionParties | null = null): MessageOf => ({ message: null, messageUnavailable: why, parties });
  const { firmBic, safekeepingAccount } = deps.config;
  if (!r.isin) return none(`security ${r.symbol} has no ISIN`);
  if (isZero(r.quantity)) return none('no securities move: nothing to instruct');
  const cash = BigInt(r.cash);
  const receive = !r.quantity.startsWith('-');
  if (cash !== 0n && (cash > 0n) === receive) return none('securities and cash move the same way: not a delivery against payment');
  let parties: InstructionParties;
  if (instruction?.parties) parties = instruction.parties;
  else if (instruction) {
    // Sent before the parties were kept: as they were then, from the configuration.
    if (!firmBic || !safekeepingAccount) return none('the firm BIC (BACKOFFICE_BIC) and safekeeping account (BACKOFFICE_SAFEKEEPING_ACCOUNT) are not configured');
    parties = { ourBic: firmBic, account: safekeepingAccount, placeBic: instruction.placeBic, ssi: { theirs: null, ours: null },
      counterparty: { name: r.cp_name, ...(r.bic ? { bic: r.bic } : {}), ...(r.dtc_participant ? { dtcParticipant: r.dtc_participant } : {}) } };
  } else {
    const found = partiesFor(await loadSsiBook(pool, r.settle_date), r, { ...(firmBic ? { ourBic: firmBic } : {}), ...(safekeepingAccount ? { safekeepingAccount } : {}) });
    if ('reason' in found) return none(found.reason);
    parties = found.parties;
  }
  const o = instructionOf(r, parties);
  try {
    if (instruction?.format === 'mt54x') {
      return { message: { format: 'mt54x', text: messages.toMt54x(o, { reference: instruction.reference, senderBic: parties.ourBic, receiverBic: parties.placeBic }), preview: false }, messageUnavailable: null, parties };
    }
    const text = messages.toSese023(o, instruction
      ? { messageId: instruction.messageId, createdAt: new Date(instruction.instructedAt) }
      : { messageId: `PREVIEW-${r.id}`.slice(0, 35), createdAt: deps.clock.now() });
    return { message: { format: 'sese023', text, preview: !instruction }, messageUnavailable: null, parties };
  } catch (e) {
    if (e instanceof DomainError) return none(e.message, parties);
    throw e;
  }
}

/** One step of a day's end-of-day cycle, as recorded. */
export interface EodStepView {
  step: string;
  status: 'not_started' | 'started' | 'done';
  startedAt: string | null;
  finishedAt: string | null;
  counts: Record<string, unknown>;
}

/** A day's end-of-day cycle: each step, and the inbox files it took in. */
export interface EodDayView {
  date: string;
  /** not_run: nothing recorded; done: every step done; incomplete: started, not finished (running, or stopped: run the day again). */
  status: 'not_run' | 'done' | 'incomplete';
  steps: EodStepView[];
  files: { name: string; kind: string; status: string; receivedAt: string; processedAt: string | null; result: unknown; error: string | null }[];
}

const isoOrNull = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString());

/** The recorded end-of-day cycle of a date (eod_runs and eod_files, read only). */
export async function eodDay(pool: Pool, date: string): Promise<EodDayView> {
  const runs = (await pool.query<{ step: string; status: 'started' | 'done'; started_at: Date; finished_at: Date | null; counts: Record<string, unknown> }>(
    'SELECT step, status, started_at, finished_at, counts FROM eod_runs WHERE date = $1', [date])).rows;
  const files = (await pool.query<{ name: string; kind: string; status: string; received_at: Date; processed_at: Date | null; result: unknown; error: string | null }>(
    'SELECT name, kind, status, received_at, processed_at, result, error FROM eod_files WHERE date = $1 ORDER BY received_at, name COLLATE "C"', [date])).rows;
  const byStep = new Map(runs.map((r) => [r.step, r]));
  const steps = EOD_STEPS.map((step): EodStepView => {
    const r = byStep.get(step);
    return r ? { step, status: r.status, startedAt: isoOrNull(r.started_at), finishedAt: isoOrNull(r.finished_at), counts: r.counts ?? {} }
      : { step, status: 'not_started', startedAt: null, finishedAt: null, counts: {} };
  });
  const status = !runs.length ? 'not_run' : steps.every((s) => s.status === 'done') ? 'done' : 'incomplete';
  return {
    date, status, steps,
    files: files.map((f) => ({ name: f.name, kind: f.kind, status: f.status, receivedAt: isoOrNull(f.received_at)!, processedAt: isoOrNull(f.processed_at), result: f.result ?? null, error: f.error })),
  };
}

/** The days the end-of-day cycle ran, newest first: status, steps done, when, files and refused files. */
export async function eodDays(pool: Pool, limit = 30): Promise<{ date: string; status: 'done' | 'incomplete'; stepsDone: number; steps: number; startedAt: string; finishedAt: string | null; files: number; filesFailed: number }[]> {
  const { rows } = await pool.query<{ date: string; done: number; started_at: Date; finished_at: Date | null; files: number; failed: number }>(
    `SELECT r.date::text AS date, count(*) FILTER (WHERE r.status = 'done')::int AS done, min(r.started_at) AS started_at,
            CASE WHEN count(*) FILTER (WHERE r.status = 'done') = $2 THEN max(r.finished_at) END AS finished_at,
            (SELECT count(*)::int FROM eod_files f WHERE f.date = r.date) AS files,
            (SELECT count(*)::int FROM eod_files f WHERE f.date = r.date AND f.status = 'failed') AS failed
       FROM eod_runs r GROUP BY r.date ORDER BY r.date DESC LIMIT $1`, [limit, EOD_STEPS.length]);
  return rows.map((r) => ({
    date: r.date, status: r.done === EOD_STEPS.length ? 'done' : 'incomplete', stepsDone: r.done, steps: EOD_STEPS.length,
    startedAt: isoOrNull(r.started_at)!, finishedAt: isoOrNull(r.finished_at), files: r.files, filesFailed: r.failed,
  }));
}

/**
 * Settlement: obligations, the netting report, fails (and booking them), confirmation matching,
 * standing settlement instructions, buy-ins and the end-of-day cycle's record.
 */
export function settlementRoutes(app: FastifyInstance, deps: AppDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const pool = deps.db.pool;
  const tags = ['settlement'];
  const read = { permission: 'trading.read' as const };
  const manage = { permission: 'settlement.manage' as const };
  const today = () => deps.clock.now().toISOString().slice(0, 10);
  const who = (req: { user?: { name: string } }) => ({ actor: req.user!.name, clock: deps.clock });

  r.get('/api/settlement/obligations', {
    config: read,
    schema: { tags, summary: 'Net obligations of a settlement date (today when not given), with status and settled part', querystring: z.object({ settleDate: Date_.optional(), status: Status.optional(), counterparty: z.string().optional() }) },
  }, (req) => obligationRows(pool, { ...req.query, settleDate: req.query.settleDate ?? today() }));
  r.get('/api/settlement/obligations/:id', {
    config: read,
    schema: { tags, summary: 'One obligation, its instruction (if sent) and the instruction message (regenerated with its parties), its fail in the ledger and its buy-ins', params: z.object({ id: z.string() }) },
  }, async (req) => {
    const { rows } = await pool.query<ExtraRow>(`${EXTRA} WHERE o.id = $1`, [req.params.id]);
    const row = rows[0];
    if (!row) throw notFound('SETTLEMENT_OBLIGATION_NOT_FOUND', `obligation ${req.params.id} is not known`);
    const view = (await obligationRows(pool, { settleDate: row.settle_date, counterparty: row.counterparty })).find((o) => o.id === row.id);
    if (!view) throw notFound('SETTLEMENT_OBLIGATION_NOT_FOUND', `obligation ${req.params.id} is not known`);
    const instruction = await getInstruction(pool, row.id);
    const fail = (await pool.query<{ account: string; status: string; failed_on: string; quantity: string; cash: string; closed_on: string | null; closed_by: string | null }>(
      `SELECT account, status, failed_on::text AS failed_on, quantity::text AS quantity, cash::text AS cash, closed_on::text AS closed_on, closed_by
         FROM settlement_fails WHERE obligation_id = $1`, [row.id])).rows[0];
    return {
      obligation: view, instruction: instruction ?? null, ...(await messageOf(pool, row, instruction, deps)),
      fail: fail ? { account: fail.account, status: fail.status, failedOn: fail.failed_on, quantity: fromMinor(minorOf(fail.quantity, row.scale), row.scale),
        cash: fromMinor(BigInt(fail.cash), row.cash_scale), closedOn: fail.closed_on, closedBy: fail.closed_by } : null,
      buyIns: await listBuyIns(pool, { obligationId: row.id }),
    };
  });
  r.get('/api/settlement/report', {
    config: read,
    schema: { tags, summary: 'Gross against net obligations of a settlement date', querystring: z.object({ settleDate: Date_.optional() }) },
  }, (req) => nettingReport(pool, req.query.settleDate ?? today()));
  r.get('/api/settlement/fails', {
    config: read,
    schema: { tags, summary: 'Fails as of a date, with close-out alerts, aging buckets and the fail accounts of the ledger', querystring: z.object({ asOf: Date_.optional() }) },
  }, (req) => listFails(pool, req.query.asOf ?? today()));
  r.post('/api/settlement/fails/book', {
    config: manage,
    schema: { tags, summary: 'Move the fails as of a date (past due, or reported failed) from the street side into the fail accounts (idempotent)', body: z.object({ asOf: Date_.optional() }) },
  }, (req) => bookFails(pool, req.body.asOf ?? today(), who(req)));
  r.get('/api/settlement/matches', {
    config: read,
    schema: { tags, summary: 'Confirmation matching results of a trade date', querystring: z.object({ date: Date_.optional() }) },
  }, (req) => listMatches(pool, req.query.date ?? today()));

  r.get('/api/settlement/ssis', {
    config: read,
    schema: { tags, summary: 'Standing settlement instructions: per counterparty (FIRM: ours) and market, dated', querystring: z.object({ party: z.string().optional(), market: z.string().optional(), asOf: Date_.optional() }) },
  }, (req) => listSsis(pool, req.query));
  r.post('/api/settlement/ssis/import', {
    config: manage,
    bodyLimit: 16 * 1024 * 1024,
    schema: { tags, summary: 'Import an SSI CSV (text/csv or text/plain body); all or nothing, idempotent', querystring: z.object({ file: z.string().optional() }), body: z.string() },
  }, (req) => importSsis(pool, req.body, req.query.file ?? 'ssis.csv', who(req)));

  const BuyInStatus = z.enum(BUY_IN_STATUSES as [string, ...string[]]);
  r.get('/api/settlement/buy-ins', {
    config: read,
    schema: { tags, summary: 'Buy-ins, newest first', querystring: z.object({ status: BuyInStatus.optional(), obligationId: z.string().optional() }) },
  }, (req) => listBuyIns(pool, req.query as { status?: (typeof BUY_IN_STATUSES)[number]; obligationId?: string }));
  r.get('/api/settlement/buy-ins/:id', {
    config: read, schema: { tags, summary: 'One buy-in', params: z.object({ id: z.string() }) },
  }, (req) => getBuyIn(pool, req.params.id));
  r.post('/api/settlement/buy-ins', {
    config: manage,
    schema: { tags, summary: 'Plan a buy-in against a counterparty failing to deliver to us', body: z.object({ obligationId: z.string().min(1), quantity: Decimal_.optional(), price: Decimal_.optional(), date: Date_.optional(), reason: z.string().max(2000).optional() }) },
  }, async (req, reply) => {
    const b = req.body;
    reply.code(201);
    return createBuyIn(pool, { obligationId: b.obligationId, ...(b.quantity ? { quantity: b.quantity } : {}), ...(b.price ? { price: b.price } : {}),
      ...(b.date ? { date: b.date } : {}), ...(b.reason ? { reason: b.reason } : {}) }, who(req));
  });
  r.post('/api/settlement/buy-ins/:id/notify', {
    config: manage, schema: { tags, summary: 'The buy-in notice went to the counterparty: planned to notified', params: z.object({ id: z.string() }), body: z.object({}).optional() },
  }, (req) => notifyBuyIn(pool, req.params.id, who(req)));
  r.post('/api/settlement/buy-ins/:id/execute', {
    config: manage,
    schema: { tags, summary: 'Execute a notified buy-in: book the purchase against the failing counterparty and close the fail', params: z.object({ id: z.string() }), body: z.object({ price: Decimal_, date: Date_.optional() }) },
  }, (req) => executeBuyIn(pool, req.params.id, { price: req.body.price, ...(req.body.date ? { date: req.body.date } : {}) }, who(req)));
  r.post('/api/settlement/buy-ins/:id/cancel', {
    config: manage, schema: { tags, summary: 'Cancel a planned or notified buy-in, with a reason', params: z.object({ id: z.string() }), body: z.object({ reason: z.string().min(1).max(2000) }) },
  }, (req) => cancelBuyIn(pool, req.params.id, req.body.reason, who(req)));

  r.get('/api/settlement/eod', {
    config: read,
    schema: { tags, summary: "A day's end-of-day cycle: each step with its status, times and counts; the inbox files with their status and errors", querystring: z.object({ date: Date_.optional() }) },
  }, (req) => eodDay(pool, req.query.date ?? today()));
  r.get('/api/settlement/eod/days', {
    config: read,
    schema: { tags, summary: 'The days the end-of-day cycle ran, newest first', querystring: z.object({ limit: z.coerce.number().int().min(1).max(366).optional() }) },
  }, (req) => eodDays(pool, req.query.limit ?? 30));
}
