import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import getPort from 'get-port';

export const BIN = path.resolve('bin/backoffice');

export interface Served {
  proc: ChildProcess;
  url: string;
  output: () => string;
}

/** Start `backoffice serve` on the embedded database in `dataDir`, as a user would, and wait until it serves. */
export async function serve(dataDir: string, env: Record<string, string> = {}): Promise<Served> {
  const port = await getPort({ host: '127.0.0.1' });
  const proc = spawn(BIN, ['--data', dataDir, 'serve', '--port', String(port)], {
    env: { ...process.env, LOG_LEVEL: 'warn', DATABASE_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 90 s:\n${out}`)), 90_000);
    const check = () => { if (out.includes('Backoffice is running at')) { clearTimeout(timer); resolve(); } };
    proc.stdout!.on('data', check);
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${out}`)); });
  });
  return { proc, url: `http://127.0.0.1:${port}`, output: () => out };
}

/** Sign in with the demo admin; returns the cookie header. */
export async function login(url: string, user = 'admin', password = 'backoffice-demo'): Promise<string> {
  const r = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: user, password }) });
  if (r.status !== 200) throw new Error(`login failed: ${r.status} ${await r.text()}`);
  return r.headers.get('set-cookie')!.split(';')[0]!;
}

export async function stop(s: Served, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (s.proc.exitCode !== null || s.proc.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    s.proc.once('exit', () => resolve());
    s.proc.kill(signal);
  });
}
