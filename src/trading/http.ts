import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../api/index.js';
import { notFound } from '../kernel/index.js';
import { bookExecutions, cashAvailable, importExecutions, inventory, listLots, listQuarantine, listRealized, listTrades, positions, retryQuarantined, selectLots } from './index.js';
import { readJsonExecutions } from './ingest.js';

const Date_ = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD');

/** Trade capture and the front office's questions. */
export function tradingRoutes(app: FastifyInstance, deps: AppDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const pool = deps.db.pool;
  const tags = ['trading'];
  const read = { permission: 'trading.read' as const };
  const ctx = (actor: string) => ({ actor, clock: deps.clock });

  r.post('/api/trades/import', {
    config: { permission: 'trading.import' },
    bodyLimit: 512 * 1024 * 1024,
    schema: {
      tags, summary: 'Import an executions file (FIX, CSV or JSON): books what it can, quarantines the rest',
      querystring: z.object({ format: z.enum(['fix', 'csv', 'json']).optional(), source: z.string().max(40).optional() }),
      body: z.string(),
    },
  }, (req) => importExecutions(pool, req.body, ctx(req.user!.name), { format: req.query.format, source: req.query.source }));
  r.post('/api/trades/executions', {
    config: { permission: 'trading.import' },
    bodyLimit: 64 * 1024 * 1024,
    schema: { tags, summary: 'Executions as JSON objects (exec_id, account, symbol, side, quantity, price, trade_date, counterparty, currency, ...)', body: z.array(z.record(z.string(), z.unknown())).max(100000), querystring: z.object({ source: z.string().max(40).optional() }) },
  }, (req) => bookExecutions(pool, readJsonExecutions(JSON.stringify(req.body), req.query.source ?? 'api'), ctx(req.user!.name)));
  r.get('/api/trades', {
    config: read,
    schema: { tags, summary: 'Trades, newest first', querystring: z.object({ date: Date_.optional(), from: Date_.optional(), to: Date_.optional(), account: z.string().optional(), symbol: z.string().optional(), side: z.enum(['buy', 'sell', 'short']).optional(), status: z.enum(['booked', 'canceled', 'corrected']).optional(), limit: z.coerce.number().int().min(1).max(100000).optional() }) },
  }, (req) => listTrades(pool, req.query));
  r.get('/api/trades/quarantine', { config: read, schema: { tags, summary: 'Quarantined records', querystring: z.object({ status: z.enum(['open', 'resolved']).optional() }) } }, (req) => listQuarantine(pool, req.query.status));
  r.post('/api/trades/quarantine/:id/retry', {
    config: { permission: 'trading.import' },
    schema: { tags, summary: 'Retry a quarantined record, as it was or corrected', params: z.object({ id: z.string() }), body: z.object({ raw: z.string().optional() }).optional() },
  }, (req) => retryQuarantined(pool, req.params.id, ctx(req.user!.name), req.body?.raw));
  r.post('/api/trades/:id/lots', {
    config: { permission: 'trading.import' },
    schema: { tags, summary: 'Specific identification: the lots a sale closes', params: z.object({ id: z.string() }), body: z.object({ selection: z.array(z.object({ lot: z.string(), quantity: z.string() })).min(1) }) },
  }, async (req, reply) => { await selectLots(pool, req.params.id, req.body.selection); return reply.code(204).send(); });

  r.get('/api/positions', {
    config: read,
    schema: { tags, summary: 'Positions per account and security', querystring: z.object({ account: z.string().optional(), security: z.string().optional(), asOf: Date_.optional(), basis: z.enum(['trade', 'settlement']).optional() }) },
  }, (req) => positions(pool, req.query));
  r.get('/api/inventory/:symbol', { config: read, schema: { tags, summary: "The firm's inventory of a security", params: z.object({ symbol: z.string() }), querystring: z.object({ asOf: Date_.optional() }) } },
    (req) => inventory(pool, req.params.symbol, req.query.asOf));
  r.get('/api/trading/accounts/:account/lots', { config: read, schema: { tags, summary: 'Open tax lots', params: z.object({ account: z.string() }), querystring: z.object({ security: z.string().optional() }) } },
    (req) => listLots(pool, req.params.account, req.query.security));
  r.get('/api/trading/accounts/:account/realized', { config: read, schema: { tags, summary: 'Realized P&L per sale and lot', params: z.object({ account: z.string() }), querystring: z.object({ security: z.string().optional() }) } },
    (req) => listRealized(pool, req.params.account, req.query.security));
  r.get('/api/trading/accounts/:account/cash', { config: read, schema: { tags, summary: 'Cash available to trade', params: z.object({ account: z.string() }) } }, async (req) => {
    const c = await cashAvailable(pool, req.params.account);
    if (!c) throw notFound('CUSTOMER_ACCOUNT_NOT_FOUND', `customer account ${req.params.account} is not known`);
    return c;
  });
}
