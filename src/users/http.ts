import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DomainError, ROLES } from '../kernel/index.js';
import type { AppDeps } from '../api/index.js';
import {
  addUser, authenticate, createSession, createToken, endSession, listUsers, revokeToken, setDisabled, setPassword, setRole,
} from './index.js';

/** The UI's session cookie (httpOnly, SameSite=Strict). */
export const SESSION_COOKIE = 'bo_session';

/** Sign-in, sessions, tokens and user administration. */
export function userRoutes(app: FastifyInstance, deps: AppDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const pool = deps.db.pool;
  const tags = ['auth'];
  const ctx = (actor: string) => ({ actor, clock: deps.clock });

  r.post('/api/auth/login', {
    config: { public: true, rateLimit: { max: 10, timeWindow: '1 minute' } },
    schema: { tags, summary: 'Sign in; sets the session cookie', body: z.object({ username: z.string().max(64), password: z.string().max(1024) }) },
  }, async (req, reply) => {
    const user = await authenticate(pool, req.body.username, req.body.password);
    if (!user) throw new DomainError('LOGIN_FAILED', 'unauthorized', 'wrong user name or password');
    const secret = await createSession(pool, user, deps.clock, deps.config.sessionHours);
    reply.setCookie(SESSION_COOKIE, secret, { path: '/', httpOnly: true, sameSite: 'strict', secure: deps.config.secureCookies, maxAge: deps.config.sessionHours * 3600 });
    return { user: { name: user.name, role: user.role } };
  });
  r.post('/api/auth/logout', { config: { public: true }, schema: { tags, summary: 'Sign out' } }, async (req, reply) => {
    const secret = req.cookies[SESSION_COOKIE];
    if (secret) await endSession(pool, secret);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.code(204).send();
  });
  r.get('/api/auth/me', { config: { permission: 'self' }, schema: { tags, summary: 'The signed-in user' } }, (req) => ({ user: { name: req.user!.name, role: req.user!.role } }));
  r.post('/api/auth/tokens', {
    config: { permission: 'self' },
    schema: { tags, summary: 'A bearer token for a machine acting as you (shown once)', body: z.object({ name: z.string().min(1).max(100) }) },
  }, async (req, reply) => reply.code(201).send(await createToken(pool, { ...req.user!, disabled: false }, req.body.name, deps.clock)));
  r.delete('/api/auth/tokens/:id', { config: { permission: 'users.manage' }, schema: { tags, summary: 'Revoke a token', params: z.object({ id: z.string() }) } },
    async (req, reply) => { await revokeToken(pool, req.params.id, deps.clock); return reply.code(204).send(); });

  r.get('/api/users', { config: { permission: 'users.manage' }, schema: { tags: ['users'], summary: 'Users' } }, () => listUsers(pool));
  r.post('/api/users', {
    config: { permission: 'users.manage' },
    schema: { tags: ['users'], summary: 'Add a user', body: z.object({ name: z.string(), role: z.enum(ROLES), password: z.string().optional() }) },
  }, async (req, reply) => reply.code(201).send(await addUser(pool, req.body, ctx(req.user!.name))));
  r.patch('/api/users/:name', {
    config: { permission: 'users.manage' },
    schema: { tags: ['users'], summary: 'Change a role, a password, or disable', params: z.object({ name: z.string() }), body: z.object({ role: z.enum(ROLES).optional(), password: z.string().optional(), disabled: z.boolean().optional() }) },
  }, async (req) => {
    const c = ctx(req.user!.name);
    let u;
    if (req.body.role) u = await setRole(pool, req.params.name, req.body.role, c);
    if (req.body.password) u = await setPassword(pool, req.params.name, req.body.password, c);
    if (req.body.disabled !== undefined) u = await setDisabled(pool, req.params.name, req.body.disabled, c);
    return u ?? (await listUsers(pool)).find((x) => x.name === req.params.name);
  });
}
