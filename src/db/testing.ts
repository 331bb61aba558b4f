/**
 * The test-database harness. The global setup starts one engine per test run (the embedded
 * PostgreSQL 18 by default; a PostgreSQL 15 server from Debian's binaries, or TEST_DATABASE_URL,
 * when TEST_TARGET=server), migrates a template database once, and every test file clones its
 * own database from the template.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import getPort from 'get-port';
import { pg, type Pool } from './pg.js';
import { openPool } from './index.js';
import { migrate } from './migrate.js';
import { startEmbedded } from './embedded.js';

export const TEMPLATE = 'bo_template';

export interface Engine {
  /** URL of the maintenance database (`postgres`). */
  url: string;
  label: string;
  stop(): Promise<void>;
}

const withDb = (url: string, db: string) => { const u = new URL(url); u.pathname = '/' + db; return u.toString(); };

function pgBinDir(): string {
  for (const v of ['15', '16', '17']) {
    const d = `/usr/lib/postgresql/${v}/bin`;
    if (fs.existsSync(path.join(d, 'initdb'))) return d;
  }
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('no PostgreSQL server binaries found: install the Debian package postgresql (15)');
  }
}

function ids(user: string): { uid: number; gid: number } | Record<string, never> {
  if (process.getuid?.() !== 0) return {};
  return { uid: Number(execFileSync('id', ['-u', user], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', user], { encoding: 'utf8' })) };
}

/** Start a throwaway PostgreSQL server from Debian's binaries in a temporary folder on a loopback port. */
export async function startServerEngine(): Promise<Engine> {
  const bin = pgBinDir();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bo-pg15-'));
  const owner = ids('postgres');
  if ('uid' in owner) fs.chownSync(dir, owner.uid, owner.gid);
  const data = path.join(dir, 'data');
  const pw = path.join(dir, 'pw');
  fs.writeFileSync(pw, 'test\n');
  if ('uid' in owner) fs.chownSync(pw, owner.uid, owner.gid);
  execFileSync(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pw}`, '--encoding=UTF8', '--locale=C'], { ...owner, stdio: 'pipe' });
  const port = await getPort({ host: '127.0.0.1' });
  const version = execFileSync(path.join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }).trim();
  execFileSync(path.join(bin, 'pg_ctl'), ['-D', data, '-l', path.join(dir, 'log'), '-w', '-o', `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c max_connections=200 -c fsync=on${process.env.BO_PG_SERVER_OPTS ? ' ' + process.env.BO_PG_SERVER_OPTS : ''}`, 'start'], { ...owner, stdio: 'pipe' });
  return {
    url: `postgres://postgres:test@127.0.0.1:${port}/postgres`,
    label: version,
    async stop() {
      try {
        execFileSync(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop'], { ...owner, stdio: 'pipe' });
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

export async function startEmbeddedEngine(): Promise<Engine> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bo-embedded-'));
  const e = await startEmbedded(dir);
  return { url: e.url, label: 'embedded PostgreSQL 18', async stop() { await e.stop(); fs.rmSync(dir, { recursive: true, force: true }); } };
}

/** Create (or re-create) the migrated template database. */
export async function prepareTemplate(url: string): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE}`);
  await admin.query(`CREATE DATABASE ${TEMPLATE}`);
  await admin.end();
  const pool = openPool(withDb(url, TEMPLATE), 2);
  await migrate(pool);
  await pool.end();
}

export interface TestDb {
  pool: Pool;
  url: string;
  name: string;
  drop(): Promise<void>;
}

let counter = 0;

/** A fresh, migrated database for one test file, cloned from the template. */
export async function cloneTestDb(url: string): Promise<TestDb> {
  const name = `t_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE}`);
  await admin.end();
  const dbUrl = withDb(url, name);
  const pool = openPool(dbUrl, 20);
  return {
    pool, url: dbUrl, name,
    async drop() {
      await pool.end();
      const a = new pg.Client({ connectionString: url });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

export { spawn };
