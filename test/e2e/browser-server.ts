/**
 * Helpers of the browser test: build the web UI when it is missing or older than its sources,
 * and run `./bin/backoffice serve` the way a user does, on a free port and a temporary data folder.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import getPort from 'get-port';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WEB_INDEX = path.join(REPO, 'dist/web/index.html');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** `npm run build:web` unless dist/web is newer than every file of web/. */
export function ensureWebBuilt(): void {
  if (fs.existsSync(WEB_INDEX) && fs.statSync(WEB_INDEX).mtimeMs >= newestMtime(path.join(REPO, 'web'))) return;
  const r = spawnSync('npm', ['run', 'build:web', '--silent'], { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build:web failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  if (!fs.existsSync(WEB_INDEX)) throw new Error('npm run build:web wrote no dist/web/index.html');
}

export interface RunningServer {
  /** As the server printed it, e.g. http://localhost:41234 */
  url: string;
  dataDir: string;
  /** Everything the process printed so far. */
  output(): string;
  /** SIGTERM, wait for a clean exit, remove the data folder. */
  stop(): Promise<void>;
}

/** Start `./bin/backoffice --data <tmp> serve --port <free>` and wait for its "running at" line. */
export async function startBackoffice(opts: { timeoutMs?: number; args?: string[] } = {}): Promise<RunningServer> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bo-browser-'));
  const port = await getPort({ host: '127.0.0.1' });
  const env = { ...process.env };
  // The embedded engine in the temporary folder, whatever the calling shell has set.
  for (const k of ['DATABASE_URL', 'BACKOFFICE_DATA', 'PORT', 'HOST']) delete env[k];
  const child: ChildProcess = spawn(path.join(REPO, 'bin/backoffice'), ['--data', dataDir, 'serve', '--port', String(port), ...(opts.args ?? [])], {
    cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  });
  let out = '';
  child.stdout!.on('data', (d) => { out += String(d); });
  child.stderr!.on('data', (d) => { out += String(d); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 30_000))]);
      // Still there: end its own process group (it and the PostgreSQL it started), nothing else.
      if (!done && child.pid) {
        try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
        await exited;
      }
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  };

  const timeoutMs = opts.timeoutMs ?? 90_000;
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`backoffice serve did not start within ${timeoutMs} ms:\n${out}`)), timeoutMs);
      child.stdout!.on('data', () => {
        const m = /running at (http:\/\/\S+)/.exec(out);
        if (m) { clearTimeout(timer); resolve(m[1]!); }
      });
      void exited.then((code) => { clearTimeout(timer); reject(new Error(`backoffice serve exited (${code}) before it was running:\n${out}`)); });
    });
    return { url, dataDir, output: () => out, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
