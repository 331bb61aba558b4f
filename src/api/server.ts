import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import cookie from '@fastify/cookie';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fastifyStatic from '@fastify/static';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import type { Db } from '../db/index.js';
import type { Clock, Config } from '../kernel/index.js';
import { ledgerRoutes, PostingQueue } from '../ledger/index.js';
import { userRoutes } from '../users/index.js';
import { referenceRoutes } from '../reference/index.js';
import { calendarRoutes } from '../calendar/index.js';
import { tradingRoutes } from '../trading/index.js';
import { settlementRoutes } from '../settlement/index.js';
import { reconciliationRoutes } from '../reconciliation/index.js';
import { closeRoutes, corporateActionsRoutes } from '../accounting/index.js';
import { registerAuth } from './auth.js';
import { errorHandler, sendProblem } from './problem.js';
import type { AppDeps } from './types.js';

export const WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/web');

/**
 * The composition root of the HTTP side: one Fastify server with the API under /api, its
 * OpenAPI 3.1 description at /docs, and the web UI (dist/web) everywhere else.
 */
export async function buildServer(opts: { db: Db; config: Config; clock: Clock; logger?: boolean; logStream?: NodeJS.WritableStream }): Promise<FastifyInstance> {
  const app = Fastify({
    logger: opts.logger === false ? false : {
      level: opts.config.logLevel,
      ...(opts.logStream ? { stream: opts.logStream } : {}),
      // Secrets never reach the log.
      redact: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', 'body.password'],
    },
    bodyLimit: 8 * 1024 * 1024,
    trustProxy: false,
  });
  const deps: AppDeps = { db: opts.db, config: opts.config, clock: opts.clock, queue: new PostingQueue(opts.db.pool, opts.clock, opts.config.groupCommitMax) };
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  // Files (CSV, FIX) come as text.
  app.addContentTypeParser(['text/csv', 'application/octet-stream'], { parseAs: 'string' }, (_req, body, done) => done(null, body));
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        frameAncestors: ["'none'"],
        // Served over plain HTTP on a laptop or a LAN: upgrading would break it; behind TLS, HSTS does the job.
        upgradeInsecureRequests: null,
      },
    },
    strictTransportSecurity: opts.config.secureCookies,
  });
  await app.register(cookie);
  await app.register(rateLimit, { global: false });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Backoffice API', version: '0.1.0', description: 'The back office of a broker-dealer. Amounts are decimal strings; errors are RFC 9457 problem+json.' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'bo_session' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ session: [] }, { bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  registerAuth(app, deps);

  app.get('/api/health', { config: { public: true }, schema: { tags: ['system'], summary: 'Liveness and database reachability' } }, async () => {
    await opts.db.pool.query('SELECT 1');
    return { ok: true };
  });
  userRoutes(app, deps);
  ledgerRoutes(app, deps);
  referenceRoutes(app, deps);
  calendarRoutes(app);
  tradingRoutes(app, deps);
  settlementRoutes(app, deps);
  reconciliationRoutes(app, deps);
  closeRoutes(app, deps);
  corporateActionsRoutes(app, deps);

  if (fs.existsSync(path.join(WEB_DIR, 'index.html'))) {
    await app.register(fastifyStatic, {
      root: WEB_DIR,
      wildcard: false,
      index: false,
      setHeaders: (reply, file) => {
        reply.header('cache-control', file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  }
  app.setNotFoundHandler((req, reply) => {
    if ((req.method === 'GET' || req.method === 'HEAD') && !req.url.startsWith('/api/') && fs.existsSync(path.join(WEB_DIR, 'index.html'))) {
      // Client-side routes of the UI.
      return reply.header('cache-control', 'no-cache').sendFile('index.html');
    }
    return sendProblem(reply, req, 404, 'NOT_FOUND', `no route ${req.method} ${req.url.split('?')[0]}`);
  });
  return app;
}
