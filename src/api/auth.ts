import type { FastifyInstance } from 'fastify';
import { can } from '../kernel/index.js';
import { userForSession, userForToken, SESSION_COOKIE } from '../users/index.js';
import { sendProblem } from './problem.js';
import type { AppDeps } from './types.js';

/**
 * Who is calling (session cookie for the UI, bearer token for machines) and whether they may.
 * Every /api route must declare `config.permission` or `config.public`: a route that declares
 * neither is refused at start-up, so no route is ever left open by omission.
 */
export function registerAuth(app: FastifyInstance, deps: AppDeps) {
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/')) return;
    const cfg = route.config as { permission?: string; public?: boolean } | undefined;
    if (!cfg?.permission && !cfg?.public) throw new Error(`route ${route.method} ${route.url} declares no permission`);
  });
  // onRequest: before the body is read or validated. The decision rests on the route that matched
  // (the router decodes the path), never on the raw URL: '/%61pi/users' is '/api/users'.
  app.addHook('onRequest', async (req, reply) => {
    const route = req.routeOptions.url;
    if (!route || !route.startsWith('/api/')) return; // not an API route (the UI, /docs, or no route: 404)
    const cfg = req.routeOptions.config;
    if (cfg.public) return;
    const auth = req.headers.authorization;
    let user = null;
    if (auth !== undefined) {
      if (auth.startsWith('Bearer ')) user = await userForToken(deps.db.pool, auth.slice(7).trim());
    } else {
      const secret = req.cookies[SESSION_COOKIE];
      if (secret) user = await userForSession(deps.db.pool, secret, deps.clock);
    }
    if (!user) return sendProblem(reply, req, 401, 'UNAUTHENTICATED', 'sign in, or send a bearer token');
    req.user = { id: user.id, name: user.name, role: user.role };
    if (!cfg.permission || !can(user.role, cfg.permission)) {
      return sendProblem(reply, req, 403, 'FORBIDDEN', `role ${user.role} may not do this (needs ${cfg.permission ?? 'a permission'})`);
    }
  });
}
