import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../api/index.js';
import { notFound } from '../kernel/index.js';
import {
  getCustomerAccount, getSecurity, importCounterparties, importCustomerAccounts, importFees, importPrices, importSecurities,
  latestPrice, listCounterparties, listCustomerAccounts, listFeeRates, listSecurities,
} from './index.js';

export const IMPORTERS = {
  securities: importSecurities,
  accounts: importCustomerAccounts,
  counterparties: importCounterparties,
  fees: importFees,
  prices: importPrices,
} as const;

/** Reference data routes. CSV imports take the file as the request body (text/csv or text/plain). */
export function referenceRoutes(app: FastifyInstance, deps: AppDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const pool = deps.db.pool;
  const tags = ['reference'];
  const read = { permission: 'reference.read' as const };
  r.get('/api/reference/securities', { config: read, schema: { tags, summary: 'Securities' } }, () => listSecurities(pool));
  r.get('/api/reference/securities/:id', { config: read, schema: { tags, summary: 'A security by symbol, ISIN or CUSIP', params: z.object({ id: z.string() }) } }, (req) => getSecurity(pool, req.params.id));
  r.get('/api/reference/accounts', { config: read, schema: { tags, summary: 'Customer accounts' } }, () => listCustomerAccounts(pool));
  r.get('/api/reference/accounts/:account', { config: read, schema: { tags, summary: 'A customer account', params: z.object({ account: z.string() }) } }, (req) => getCustomerAccount(pool, req.params.account));
  r.get('/api/reference/counterparties', { config: read, schema: { tags, summary: 'Counterparties' } }, () => listCounterparties(pool));
  r.get('/api/reference/fees', { config: read, schema: { tags, summary: 'Fee rates', querystring: z.object({ schedule: z.string().optional() }) } }, (req) => listFeeRates(pool, req.query.schedule));
  r.get('/api/prices/:symbol/latest', { config: read, schema: { tags, summary: 'The latest price', params: z.object({ symbol: z.string() }), querystring: z.object({ asOf: z.string().optional() }) } }, async (req) => {
    const p = await latestPrice(pool, req.params.symbol, req.query.asOf);
    if (!p) throw notFound('PRICE_NOT_FOUND', `no price for ${req.params.symbol}${req.query.asOf ? ` on or before ${req.query.asOf}` : ''}`);
    return p;
  });
  r.post('/api/reference/import/:kind', {
    config: { permission: 'reference.manage' },
    bodyLimit: 64 * 1024 * 1024,
    schema: { tags, summary: 'Import a reference-data CSV (all or nothing)', params: z.object({ kind: z.enum(['securities', 'accounts', 'counterparties', 'fees', 'prices']) }), body: z.string() },
  }, (req) => IMPORTERS[req.params.kind](pool, req.body, `${req.params.kind}.csv`, { actor: req.user!.name, clock: deps.clock }));
}
