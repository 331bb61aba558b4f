/** Storage: PostgreSQL, embedded (default) or a server (DATABASE_URL). */
import { createRequire } from 'node:module';
import type { Kysely } from 'kysely';
import { pg, type Pool, type Client } from './pg.js';
import { startEmbedded } from './embedded.js';
import { migrate } from './migrate.js';
import type { Schema } from './schema.js';

export { migrate, MIGRATIONS_DIR } from './migrate.js';
export { startEmbedded } from './embedded.js';
export type { Pool, Client } from './pg.js';
export type { Schema } from './schema.js';

export interface Db {
  pool: Pool;
  kysely: Kysely<Schema>;
  /** Where it lives, password removed: for messages. */
  where: string;
  close(): Promise<void>;
}

export interface DbOptions {
  dataDir: string;
  databaseUrl?: string;
  log?: (msg: string) => void;
  /** Apply pending migrations (default true). */
  migrate?: boolean;
  poolSize?: number;
}

const redact = (url: string) => url.replace(/:\/\/([^:@/]+):[^@]*@/, '://$1:***@');

/** Open a pool on a URL, with UTC sessions. */
export function openPool(url: string, max = 20): Pool {
  const pool = new pg.Pool({ connectionString: url, max, options: '-c TimeZone=UTC' });
  // An idle client's error (server restart) must not crash the process.
  pool.on('error', () => {});
  return pool;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = '/' + name;
  return u.toString();
}

/**
 * Open the database: start the embedded engine unless a URL is given, create the `backoffice`
 * database on first run, migrate it.
 * @throws Error when the engine cannot start or a migration fails
 */
export async function createDb(opts: DbOptions): Promise<Db> {
  const log = opts.log ?? (() => {});
  let url = opts.databaseUrl;
  let stopEngine = async () => {};
  if (!url) {
    const engine = await startEmbedded(opts.dataDir, log);
    stopEngine = engine.stop;
    const admin = new pg.Client({ connectionString: engine.url });
    await admin.connect();
    const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = 'backoffice'");
    if (!rowCount) await admin.query('CREATE DATABASE backoffice');
    await admin.end();
    url = withDatabase(engine.url, 'backoffice');
  }
  const pool = openPool(url, opts.poolSize ?? 20);
  try {
    if (opts.migrate !== false) await migrate(pool);
  } catch (e) {
    await pool.end();
    await stopEngine();
    throw e;
  }
  let kysely: Kysely<Schema> | undefined;
  return {
    pool,
    // Typed queries; built on first use so that short CLI commands do not pay for loading it.
    get kysely() {
      if (!kysely) {
        const k = createRequire(import.meta.url)('kysely') as typeof import('kysely');
        kysely = new k.Kysely<Schema>({ dialect: new k.PostgresDialect({ pool }) });
      }
      return kysely;
    },
    where: redact(url),
    async close() {
      await pool.end().catch(() => {});
      await stopEngine();
    },
  };
}

const RETRYABLE = new Set(['40001', '40P01']);

/**
 * Run `fn` in one transaction; commit if it returns, roll back if it throws. Serialization
 * failures and deadlocks are retried a few times.
 */
export async function withTx<T>(pool: Pool, fn: (c: Client) => Promise<T>, retries = 3): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      const code = (e as { code?: string }).code;
      if (code && RETRYABLE.has(code) && attempt < retries) continue;
      throw e;
    } finally {
      c.release();
    }
  }
}
export { copyIn, copyInText, copyOut, copyOutBuffer, copyOutRows, copyTextRows, copyInChunks, copyUnescape, copyText, sqlLiteral, copyValue, copyRow, copyInto, type CopyValue } from './copy.js';
