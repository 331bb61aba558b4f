import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../../api/index.js';
import { dateOf } from '../../kernel/index.js';
import {
  accountEntries, approveAdjustment, balanceSheet, closeMonth, closeStatus, importFxRates, incomeStatement, listAdjustments,
  listFxRates, listRevaluations, proposeAdjustment, rejectAdjustment, revalueFx, statementCsv, statementXlsx, type Statement,
} from './index.js';

const Date_ = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD');
const Period = z.string().regex(/^\d{4}-\d{2}$/, 'a month YYYY-MM');
const Posting = z.object({ account: z.string(), asset: z.string(), amount: z.string().describe('decimal string, e.g. "-1234.50"; positive is a debit') });
const Format = z.enum(['json', 'csv', 'xlsx']).default('json');
const Bool = z.enum(['true', 'false']).optional();

/** Send a statement as JSON, CSV or XLSX (as a download). */
async function sendStatement(reply: FastifyReply, s: Statement, format: 'json' | 'csv' | 'xlsx') {
  const name = s.statement === 'balance-sheet' ? `balance-sheet-${s.asOf}` : `income-statement-${s.from}-${s.to}`;
  if (format === 'csv') {
    return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}.csv"`).send(statementCsv(s));
  }
  if (format === 'xlsx') {
    return reply.type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
      .header('content-disposition', `attachment; filename="${name}.xlsx"`).send(await statementXlsx(s));
  }
  return reply.send(s);
}

/**
 * The accounting close's routes: month-end close and its status, prior-period adjustments
 * (propose, approve, reject), FX rates and revaluation, and the financial statements with
 * drill-down. Reads need accounting.read; closing, proposing, rates and revaluation
 * accounting.close; deciding adjustments accounting.approve.
 */
export function closeRoutes(app: FastifyInstance, deps: AppDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const pool = deps.db.pool;
  const base = deps.config.baseCurrency;
  const tags = ['accounting'];
  const today = () => dateOf(deps.clock.now());
  const ctx = (actor: string) => ({ actor, clock: deps.clock, baseCurrency: base });

  r.get('/api/accounting/close/status', {
    config: { permission: 'accounting.read' },
    schema: { tags, summary: 'Closed through, the month to close next, the closes made (with their checks), adjustments waiting' },
  }, () => closeStatus(pool));
  r.post('/api/accounting/close', {
    config: { permission: 'accounting.close' },
    schema: {
      tags, summary: 'Close a month (in order, after checks); idempotent',
      description: 'Checks: trial balance balances per asset as of the month-end, audit trail verifies, stored balances match postings (blocking); FX revaluation done, adjustments waiting (warnings).',
      body: z.object({ period: Period }),
    },
  }, (req) => closeMonth(pool, req.body.period, ctx(req.user!.name)));

  r.get('/api/accounting/adjustments', {
    config: { permission: 'accounting.read' },
    schema: { tags, summary: 'Prior-period adjustments, newest first', querystring: z.object({ status: z.enum(['proposed', 'posted', 'rejected']).optional(), period: Period.optional() }) },
  }, (req) => listAdjustments(pool, req.query));
  r.post('/api/accounting/adjustments', {
    config: { permission: 'accounting.close' },
    schema: {
      tags, summary: 'Propose an adjusting entry for a closed period (booked only when another person approves)',
      body: z.object({ period: Period, date: Date_.optional(), memo: z.string(), postings: z.array(Posting).min(2) }),
    },
  }, async (req, reply) => reply.code(201).send(await proposeAdjustment(pool, req.body, ctx(req.user!.name))));
  r.post('/api/accounting/adjustments/:id/approve', {
    config: { permission: 'accounting.approve' },
    schema: { tags, summary: 'Approve (not your own) and book it, dated the first open day', params: z.object({ id: z.string() }), body: z.object({ note: z.string().optional() }).optional() },
  }, (req) => approveAdjustment(pool, req.params.id, { name: req.user!.name, role: req.user!.role }, { clock: deps.clock }, req.body?.note));
  r.post('/api/accounting/adjustments/:id/reject', {
    config: { permission: 'accounting.approve' },
    schema: { tags, summary: 'Reject with a reason (nothing is booked)', params: z.object({ id: z.string() }), body: z.object({ reason: z.string() }) },
  }, (req) => rejectAdjustment(pool, req.params.id, { name: req.user!.name, role: req.user!.role }, { clock: deps.clock }, req.body.reason));

  r.get('/api/accounting/fx/rates', {
    config: { permission: 'accounting.read' },
    schema: { tags, summary: `Exchange rates into the base currency, newest first`, querystring: z.object({ currency: z.string().optional(), from: Date_.optional(), to: Date_.optional() }) },
  }, (req) => listFxRates(pool, { base, ...req.query }));
  r.post('/api/accounting/fx/rates', {
    config: { permission: 'accounting.close' },
    schema: {
      tags, summary: 'Import rates from CSV (date,currency,base_currency,rate); all or nothing, idempotent',
      consumes: ['text/csv'], body: z.string(), querystring: z.object({ file: z.string().max(200).optional() }),
    },
  }, (req) => importFxRates(pool, req.body, req.query.file ?? 'upload', ctx(req.user!.name)));
  r.post('/api/accounting/fx/revalue', {
    config: { permission: 'accounting.close' },
    schema: { tags, summary: 'Revalue foreign-currency balances at a date (idempotent; books only the difference)', body: z.object({ asOf: Date_ }) },
  }, (req) => revalueFx(pool, req.body.asOf, ctx(req.user!.name)));
  r.get('/api/accounting/fx/revaluations', {
    config: { permission: 'accounting.read' },
    schema: { tags, summary: 'FX revaluations booked', querystring: z.object({ asOf: Date_.optional(), account: z.string().optional() }) },
  }, (req) => listRevaluations(pool, req.query));

  r.get('/api/accounting/statements/balance-sheet', {
    config: { permission: 'accounting.read' },
    schema: {
      tags, summary: 'Balance sheet in the base currency (JSON, CSV or XLSX)',
      querystring: z.object({ asOf: Date_.optional(), afterAdjustments: Bool, format: Format }),
    },
  }, async (req, reply) => sendStatement(reply, await balanceSheet(pool, { asOf: req.query.asOf ?? today(), afterAdjustments: req.query.afterAdjustments === 'true' }, base), req.query.format));
  r.get('/api/accounting/statements/income-statement', {
    config: { permission: 'accounting.read' },
    schema: {
      tags, summary: 'Income statement in the base currency (JSON, CSV or XLSX): from..to, or the fiscal year to asOf (default: this month to date)',
      querystring: z.object({ from: Date_.optional(), to: Date_.optional(), asOf: Date_.optional(), afterAdjustments: Bool, format: Format }),
    },
  }, async (req, reply) => {
    const q = req.query;
    const to = q.to ?? q.asOf ?? today();
    const from = q.from ?? (q.asOf ? `${q.asOf.slice(0, 4)}-01-01` : `${to.slice(0, 7)}-01`);
    return sendStatement(reply, await incomeStatement(pool, { from, to, afterAdjustments: q.afterAdjustments === 'true' }, base), q.format);
  });
  r.get('/api/accounting/accounts/:name/entries', {
    config: { permission: 'accounting.read' },
    schema: {
      tags, summary: "Drill-down: an account's (and its sub-accounts') postings in a period with opening and closing balances and base amounts",
      params: z.object({ name: z.string() }),
      querystring: z.object({ from: Date_.optional(), to: Date_.optional(), afterAdjustments: Bool, limit: z.coerce.number().int().min(1).max(10000).optional() }),
    },
  }, (req) => {
    const to = req.query.to ?? today();
    const from = req.query.from ?? `${to.slice(0, 7)}-01`;
    return accountEntries(pool, req.params.name, { from, to, afterAdjustments: req.query.afterAdjustments === 'true', limit: req.query.limit }, base);
  });
}
