import type { Permission, Role, Clock, Config } from '../kernel/index.js';
import type { Db } from '../db/index.js';
import type { PostingQueue } from '../ledger/index.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the caller must be allowed to do. Every /api route names one, or is marked public. */
    permission?: Permission;
    public?: boolean;
  }
  interface FastifyRequest {
    user?: { id: number; name: string; role: Role };
  }
}

/** What route modules are given by the composition root. */
export interface AppDeps {
  db: Db;
  config: Config;
  clock: Clock;
  queue: PostingQueue;
}
