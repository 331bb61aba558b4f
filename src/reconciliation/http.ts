import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../api/index.js';
import {
  approveAdjustment, assignBreak, BREAK_TYPES, commentBreak, getBreak, listBreaks, matchBreaks, proposeAdjustment, rejectAdjustment,
} from './breaks.js';
import { linkAccount, listLinks, resolveLink, setRules } from './links.js';
import { runReconciliation } from './run.js';
import { importStatementFile, listStatements } from './store.js';
import { getStatementView } from './views.js';

const Date_ = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD');
const Decimal_ = z.string().regex(/^-?\d+(\.\d+)?$/, 'a decimal string such as "-12.50"');
const BreakType_ = z.enum(BREAK_TYPES as [string, ...string[]]);

/** Reconciliation: statements, links and rules, runs, breaks and the actions on them. */
export function reconciliationRoutes(app: FastifyInstance, deps: AppDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const pool = deps.db.pool;
  const tags = ['reconciliation'];
  const read = { permission: 'recon.read' as const };
  const manage = { permission: 'recon.manage' as const };
  const approve = { permission: 'recon.approve' as const };
  const ctx = (actor: string) => ({ actor, clock: deps.clock });
  const Id = z.object({ id: z.string().min(1).max(100) });

  r.get('/api/reconciliation/statements', {
    config: read,
    schema: { tags, summary: 'Stored statements, newest first: linked or not, arithmetic check, lines matched, open breaks', querystring: z.object({ account: z.string().optional(), linked: z.enum(['true', 'false']).optional(), limit: z.coerce.number().int().min(1).max(10000).optional() }) },
  }, (req) => listStatements(pool, { ...(req.query.account ? { account: req.query.account } : {}), ...(req.query.linked ? { linked: req.query.linked === 'true' } : {}), ...(req.query.limit ? { limit: req.query.limit } : {}) }));
  r.get('/api/reconciliation/statements/:id', {
    config: read,
    schema: { tags, summary: 'A statement beside our side: its lines and our movements (or positions), each with its match or break', params: Id },
  }, (req) => getStatementView(pool, req.params.id));
  r.post('/api/reconciliation/statements/import', {
    config: manage,
    bodyLimit: 256 * 1024 * 1024,
    schema: {
      tags, summary: 'Import a statement file (camt.052/053/054, MT940/950, semt.002, MT535, CSV with a mapping); refused statements are reported and not stored',
      body: z.object({ content: z.string().min(1), fileName: z.string().max(200).optional(), mapping: z.record(z.string(), z.unknown()).optional() }),
    },
  }, (req) => importStatementFile(pool, req.body.content, { ...(req.body.fileName ? { fileName: req.body.fileName } : {}), ...(req.body.mapping ? { csvMapping: req.body.mapping as never } : {}) }, ctx(req.user!.name)));

  r.get('/api/reconciliation/links', { config: read, schema: { tags, summary: 'Linked accounts and their rules' } }, () => listLinks(pool));
  r.post('/api/reconciliation/links', {
    config: manage,
    schema: {
      tags, summary: 'Link a statement account to a ledger account (cash) or a ledger account prefix (custody)',
      body: z.object({ statementAccount: z.string().min(1).max(100), ledgerAccount: z.string().min(1).max(200), asset: z.string().max(32).optional(), kind: z.enum(['cash', 'holdings']).optional() }),
    },
  }, async (req, reply) => {
    const link = await linkAccount(pool, req.body, ctx(req.user!.name));
    return reply.code(link.created ? 201 : 200).send(link);
  });
  r.get('/api/reconciliation/links/:account/rules', {
    config: read, schema: { tags, summary: 'The link of an account (statement or ledger account) with its rules', params: z.object({ account: z.string().min(1) }) },
  }, (req) => resolveLink(pool, req.params.account));
  r.put('/api/reconciliation/links/:account/rules', {
    config: manage,
    schema: { tags, summary: 'Replace the ordered matching rules of a linked account', params: z.object({ account: z.string().min(1) }), body: z.object({ rules: z.array(z.unknown()) }) },
  }, (req) => setRules(pool, req.params.account, req.body.rules, ctx(req.user!.name)));

  r.post('/api/reconciliation/runs', {
    config: manage,
    schema: { tags, summary: 'Reconcile a linked account as of a date: matches by rule and the breaks found', body: z.object({ account: z.string().min(1), date: Date_ }) },
  }, (req) => runReconciliation(pool, req.body.account, req.body.date, ctx(req.user!.name)));

  r.get('/api/reconciliation/breaks', {
    config: read,
    schema: {
      tags, summary: 'Breaks with their items and age, and open breaks by age bucket',
      querystring: z.object({ status: z.enum(['open', 'resolved']).optional(), asOf: Date_.optional(), account: z.string().optional(), type: BreakType_.optional(), assignee: z.string().optional(), limit: z.coerce.number().int().min(1).max(100000).optional() }),
    },
  }, (req) => listBreaks(pool, req.query as Parameters<typeof listBreaks>[1], ctx(req.user!.name)));
  r.get('/api/reconciliation/breaks/:id', {
    config: read, schema: { tags, summary: 'One break with its history and adjustments', params: Id, querystring: z.object({ asOf: Date_.optional() }) },
  }, (req) => getBreak(pool, req.params.id, ctx(req.user!.name), req.query.asOf));
  r.post('/api/reconciliation/breaks/:id/assign', {
    config: manage, schema: { tags, summary: 'Assign a break to a user (null: unassign)', params: Id, body: z.object({ assignee: z.string().min(1).max(64).nullable() }) },
  }, (req) => assignBreak(pool, req.params.id, req.body.assignee, ctx(req.user!.name)));
  r.post('/api/reconciliation/breaks/:id/comments', {
    config: manage, schema: { tags, summary: 'Comment on a break', params: Id, body: z.object({ text: z.string().min(1).max(4000) }) },
  }, (req) => commentBreak(pool, req.params.id, req.body.text, ctx(req.user!.name)));
  r.post('/api/reconciliation/breaks/match', {
    config: manage,
    schema: { tags, summary: 'Match breaks by hand (their items become one match) with a reason; resolves them', body: z.object({ breaks: z.array(z.string().min(1)).min(1).max(100), reason: z.string().min(1).max(2000) }) },
  }, (req) => matchBreaks(pool, req.body.breaks, req.body.reason, ctx(req.user!.name)));
  r.post('/api/reconciliation/breaks/:id/adjustments', {
    config: manage,
    schema: {
      tags, summary: 'Propose an adjusting entry for a break (a second person approves it)', params: Id,
      body: z.object({ offsetAccount: z.string().min(1).max(200), amount: Decimal_.optional(), date: Date_.optional(), memo: z.string().max(500).optional(), account: z.string().max(200).optional() }),
    },
  }, async (req, reply) => reply.code(201).send(await proposeAdjustment(pool, req.params.id, req.body, ctx(req.user!.name))));
  r.post('/api/reconciliation/adjustments/:id/approve', {
    config: approve, schema: { tags, summary: 'Approve an adjustment (maker-checker: not its proposer): posts the entry, resolves the break', params: Id, body: z.object({}).optional() },
  }, (req) => approveAdjustment(pool, req.params.id, ctx(req.user!.name)));
  r.post('/api/reconciliation/adjustments/:id/reject', {
    config: approve, schema: { tags, summary: 'Reject an adjustment with a reason; the break stays open', params: Id, body: z.object({ reason: z.string().min(1).max(2000) }) },
  }, (req) => rejectAdjustment(pool, req.params.id, req.body.reason, ctx(req.user!.name)));
}
