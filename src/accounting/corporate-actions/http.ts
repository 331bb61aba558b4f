import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../../api/index.js';
import { ACTION_KINDS, getAction, importAnnouncements, listActions } from './announcements.js';
import { applyAction, previewAction } from './apply.js';
import { importWithholdingRates, loadRates } from './withholding.js';

const Date_ = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD');

/**
 * Corporate actions: announcements (the calendar), one action with its preview, import and
 * apply; withholding rates. Files come as the request body (text/csv or text/plain).
 */
export function corporateActionsRoutes(app: FastifyInstance, deps: AppDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const pool = deps.db.pool;
  const tags = ['corporate actions'];
  const read = { permission: 'corporate-actions.read' as const };
  const manage = { permission: 'corporate-actions.manage' as const };
  const ctx = (actor: string) => ({ actor, clock: deps.clock });

  r.get('/api/corporate-actions', {
    config: read,
    schema: {
      tags, summary: 'Announcements with a date (ex, record, pay, effective) in a range, by due date',
      querystring: z.object({ from: Date_.optional(), to: Date_.optional(), symbol: z.string().optional(), status: z.enum(['announced', 'applied']).optional(), kind: z.enum(ACTION_KINDS).optional() }),
    },
  }, (req) => listActions(pool, req.query));
  r.get('/api/corporate-actions/withholding-rates', { config: read, schema: { tags, summary: 'Withholding tax rates on dividends to non-residents (dated)' } }, () => loadRates(pool));
  r.post('/api/corporate-actions/withholding-rates/import', {
    config: manage,
    bodyLimit: 16 * 1024 * 1024,
    schema: { tags, summary: 'Import withholding rates from CSV (source_country,residence_country,rate_percent,effective_from); all or nothing', body: z.string() },
  }, (req) => importWithholdingRates(pool, req.body, 'withholding-rates.csv', ctx(req.user!.name)));
  r.post('/api/corporate-actions/import', {
    config: manage,
    bodyLimit: 16 * 1024 * 1024,
    schema: { tags, summary: 'Import announcements from CSV; all or nothing, idempotent by announcement id', body: z.string() },
  }, (req) => importAnnouncements(pool, req.body, 'announcements.csv', ctx(req.user!.name)));
  r.get('/api/corporate-actions/:id', { config: read, schema: { tags, summary: 'One announcement', params: z.object({ id: z.string() }) } }, (req) => getAction(pool, req.params.id));
  r.get('/api/corporate-actions/:id/preview', {
    config: read,
    schema: { tags, summary: 'What applying it does per holder (entitlement, tax, net, new quantity, cash in lieu), the firm side and the entries; once applied, what it did', params: z.object({ id: z.string() }) },
  }, (req) => previewAction(pool, req.params.id, { clock: deps.clock }));
  r.post('/api/corporate-actions/:id/apply', {
    config: manage,
    schema: {
      tags, summary: 'Apply it (on or after its pay or effective date; force pays a dividend early once its record date has passed); idempotent',
      params: z.object({ id: z.string() }), body: z.object({ force: z.boolean().optional() }).optional(),
    },
  }, (req) => applyAction(pool, req.params.id, ctx(req.user!.name), { force: req.body?.force ?? false }));
}
