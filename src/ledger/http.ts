import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../api/index.js';
import { DomainError } from '../kernel/index.js';
import { ACCOUNT_TYPES } from './accounts.js';
import {
  accountActivity, addAsset, balances, closePeriod, exportHledger, getEntry, listAccounts, listAssets, listAudit,
  listCloses, listEntries, openAccount, postEntries, reverseEntry, rolledUpBalances, trialBalance, verifyAudit,
} from './index.js';

const Date_ = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD');
const Posting = z.object({ account: z.string(), asset: z.string(), amount: z.string().describe('decimal string, e.g. "-1234.50"') });
const EntryIn = z.object({ key: z.string(), date: z.string(), memo: z.string().optional(), postings: z.array(Posting) });
const EntryOut = z.object({
  id: z.string(), key: z.string(), date: z.string(), memo: z.string(), recordedAt: z.string(), createdBy: z.string(),
  reverses: z.string().nullable(), postings: z.array(Posting), postingCount: z.number().int(),
});
const Outcome = z.object({ key: z.string(), status: z.enum(['posted', 'duplicate', 'rejected']), id: z.string().optional(), error: z.string().optional() });

/** @throws DomainError REQUEST_INVALID naming the entry and the field */
function checkEntriesBody(body: unknown): void {
  const many = Array.isArray(body);
  const res = (many ? z.array(EntryIn).min(1).max(100000) : EntryIn).safeParse(body);
  if (res.success) return;
  const details = res.error.issues.slice(0, 50).map((i) => {
    const path = [...i.path];
    const index = many && typeof path[0] === 'number' ? (path.shift() as number) : 0;
    const item = (many ? (body as unknown[])[index] : body) as { key?: unknown } | undefined;
    const record = `entry #${index + 1}${typeof item?.key === 'string' ? ` "${item.key}"` : ''}`;
    const field = path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || 'entry';
    return { record, field, rule: i.code, message: `${record}: ${field}: ${i.message}` };
  });
  throw new DomainError('REQUEST_INVALID', 'bad_request', details.map((d) => d.message).join('; '), details);
}

/** The ledger's routes: thin, validate, call the service, return. */
export function ledgerRoutes(app: FastifyInstance, deps: AppDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const pool = deps.db.pool;
  const ctx = (actor: string) => ({ actor, clock: deps.clock });
  const tags = ['ledger'];

  r.get('/api/ledger/assets', { config: { permission: 'ledger.read' }, schema: { tags, summary: 'Registered assets' } }, () => listAssets(pool));
  r.post('/api/ledger/assets', {
    config: { permission: 'ledger.configure' },
    schema: { tags, summary: 'Register an asset (ISO 4217 currencies take their own scale)', body: z.object({ code: z.string(), scale: z.number().int().optional(), name: z.string().optional() }) },
  }, async (req, reply) => {
    const { asset, created } = await addAsset(pool, req.body, ctx(req.user!.name));
    return reply.code(created ? 201 : 200).send(asset);
  });

  r.get('/api/ledger/accounts', { config: { permission: 'ledger.read' }, schema: { tags, summary: 'Chart of accounts', querystring: z.object({ prefix: z.string().optional() }) } },
    (req) => listAccounts(pool, req.query.prefix));
  r.post('/api/ledger/accounts', {
    config: { permission: 'ledger.configure' },
    schema: { tags, summary: 'Open an account', body: z.object({ name: z.string(), type: z.enum(ACCOUNT_TYPES), owner: z.string().nullish(), noNegative: z.boolean().optional() }) },
  }, async (req, reply) => {
    const { account, created } = await openAccount(pool, req.body, ctx(req.user!.name));
    return reply.code(created ? 201 : 200).send(account);
  });
  r.get('/api/ledger/accounts/:name/activity', {
    config: { permission: 'ledger.read' },
    schema: { tags, summary: 'Postings of one account in one asset, with running balance', params: z.object({ name: z.string() }), querystring: z.object({ asset: z.string(), from: Date_.optional(), to: Date_.optional() }) },
  }, (req) => accountActivity(pool, req.params.name, req.query.asset, req.query));

  r.get('/api/ledger/entries', {
    config: { permission: 'ledger.read' },
    schema: {
      tags, summary: 'Journal, newest first',
      querystring: z.object({ from: Date_.optional(), to: Date_.optional(), account: z.string().optional(), asset: z.string().optional(), limit: z.coerce.number().int().min(1).max(1000).optional(), before: z.string().optional() }),
      response: { 200: z.object({ items: z.array(EntryOut), next: z.string().nullable() }) },
    },
  }, (req) => listEntries(pool, req.query));
  r.get('/api/ledger/entries/:id', { config: { permission: 'ledger.read' }, schema: { tags, summary: 'One entry', params: z.object({ id: z.string() }), response: { 200: EntryOut } } },
    (req) => getEntry(pool, req.params.id));
  r.post('/api/ledger/entries', {
    config: { permission: 'ledger.post' },
    bodyLimit: 64 * 1024 * 1024,
    // One entry or an array: validated below, so that a bad field is named by entry and path
    // (a schema union would only say "invalid input"). The schema stays for the OpenAPI description.
    validatorCompiler: () => (data: unknown) => ({ value: data }),
    schema: {
      tags,
      summary: 'Post one entry, or a batch (array: all or nothing)',
      description: 'One entry goes through the group-commit queue: 201 when posted, 200 when the same key and body were posted before. ' +
        'An array is one transaction: if any entry is refused, nothing is written and the problem lists each refused entry.',
      body: z.union([EntryIn, z.array(EntryIn).min(1).max(100000)]),
    },
  }, async (req, reply) => {
    const actor = req.user!.name;
    checkEntriesBody(req.body);
    if (Array.isArray(req.body)) {
      const out = await postEntries(pool, req.body, ctx(actor), 'all');
      return reply.code(out.some((o) => o.status === 'posted') ? 201 : 200).send({ results: out.map((o) => ({ key: o.key, status: o.status, id: 'id' in o ? o.id : undefined })) });
    }
    const o = await deps.queue.submit(req.body, actor);
    if (o.status === 'rejected') throw o.error;
    return reply.code(o.status === 'posted' ? 201 : 200).send({ key: o.key, status: o.status, id: o.id });
  });
  r.post('/api/ledger/entries/:id/reverse', {
    config: { permission: 'ledger.post' },
    schema: { tags, summary: 'Reverse an entry (idempotent)', params: z.object({ id: z.string() }), body: z.object({ date: Date_.optional(), memo: z.string().optional() }).optional(), response: { 201: EntryOut } },
  }, async (req, reply) => reply.code(201).send(await reverseEntry(pool, req.params.id, ctx(req.user!.name), req.body ?? {})));

  r.get('/api/ledger/balances', {
    config: { permission: 'ledger.read' },
    schema: { tags, summary: 'Balances per account and asset, current or as of a date', querystring: z.object({ asOf: Date_.optional(), account: z.string().optional(), rollup: z.enum(['true', 'false']).optional() }) },
  }, (req) => (req.query.rollup === 'true' ? rolledUpBalances : balances)(pool, req.query));
  r.get('/api/ledger/trial-balance', { config: { permission: 'ledger.read' }, schema: { tags, summary: 'Trial balance', querystring: z.object({ asOf: Date_.optional() }) } },
    (req) => trialBalance(pool, req.query.asOf));
  r.post('/api/ledger/close', { config: { permission: 'ledger.close' }, schema: { tags, summary: 'Close the books through a date', body: z.object({ through: Date_ }) } },
    (req) => closePeriod(pool, req.body.through, ctx(req.user!.name)));
  r.get('/api/ledger/closes', { config: { permission: 'ledger.read' }, schema: { tags, summary: 'Period closes' } }, () => listCloses(pool));
  r.get('/api/ledger/export', {
    config: { permission: 'ledger.read' },
    schema: { tags, summary: 'The journal as an hledger journal', querystring: z.object({ format: z.literal('hledger').default('hledger'), from: Date_.optional(), to: Date_.optional() }) },
  }, async (req, reply) => {
    let text = '';
    await exportHledger(pool, (chunk) => { text += chunk; }, req.query);
    return reply.type('text/plain; charset=utf-8').header('content-disposition', 'attachment; filename="ledger.journal"').send(text);
  });

  r.get('/api/audit/verify', {
    config: { permission: 'audit.read' },
    schema: { tags: ['audit'], summary: 'Verify the audit chain and every audited table' },
  }, () => verifyAudit(pool));
  r.get('/api/audit', {
    config: { permission: 'audit.read' },
    schema: { tags: ['audit'], summary: 'The audit trail, newest first', querystring: z.object({ entity: z.string().optional(), entityId: z.string().optional(), limit: z.coerce.number().int().optional(), before: z.string().optional() }) },
  }, (req) => listAudit(pool, req.query));
  void Outcome;
}
