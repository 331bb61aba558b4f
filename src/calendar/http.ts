/**
 * The calendar over HTTP: what `backoffice calendar settlement-date` and `business-days` answer,
 * for the UI (the settlement dashboard's next settlement day) and for other systems. Pure
 * computation, readable by everyone who may read reference data.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { businessDays, DAY_KINDS } from './business-days.js';
import { marketDefinition } from './markets.js';
import { settlementCycle, settlementDate } from './settlement.js';
import { ASSET_CLASSES } from './settlement-cycles.js';

const Date_ = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD');

export function calendarRoutes(app: FastifyInstance): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const tags = ['calendar'];
  const read = { permission: 'reference.read' as const };
  r.get('/api/calendar/settlement-date', {
    config: read,
    schema: { tags, summary: 'The settlement date of a trade: the cycle in force on the trade date, counted in settlement days', querystring: z.object({ market: z.string(), tradeDate: Date_, assetClass: z.enum(ASSET_CLASSES).default('equity') }) },
  }, (req) => {
    const market = marketDefinition(req.query.market).mic;
    const { tradeDate, assetClass } = req.query;
    return { market, tradeDate, assetClass, cycle: settlementCycle(market, assetClass, tradeDate), settlementDate: settlementDate({ market, tradeDate, assetClass }) };
  });
  r.get('/api/calendar/business-days', {
    config: read,
    schema: { tags, summary: 'The trading (or settlement) days of a market from one date to another, both included', querystring: z.object({ market: z.string(), from: Date_, to: Date_, kind: z.enum(DAY_KINDS).default('trading') }) },
  }, (req) => {
    const market = marketDefinition(req.query.market).mic;
    const { from, to, kind } = req.query;
    const days = businessDays(market, from, to, kind);
    return { market, from, to, kind, count: days.length, days };
  });
}
