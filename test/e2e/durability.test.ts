import { describe, it, expect, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { login, serve, stop, type Served } from './serve.js';

// Durability on the embedded engine: kill -9 the application right after it acknowledged a
// posting; the next start must not be blocked by what it left, and the entry must be there.
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bo-durable-'));
const running: Served[] = [];
afterAll(async () => {
  for (const s of running) await stop(s);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const postmasterPid = () => Number(fs.readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

async function postOne(url: string, cookie: string, key: string) {
  const r = await fetch(`${url}/api/ledger/entries`, {
    method: 'POST', headers: { 'content-type': 'application/json', cookie },
    body: JSON.stringify({ key, date: '2026-11-02', memo: `durable ${key}`, postings: [
      { account: 'assets:bank:operating:usd', asset: 'USD', amount: '123.45' }, { account: 'equity:capital', asset: 'USD', amount: '-123.45' }] }),
  });
  expect(r.status).toBe(201);
  return ((await r.json()) as { id: string }).id;
}

async function check(url: string, cookie: string, id: string) {
  const e = await fetch(`${url}/api/ledger/entries/${id}`, { headers: { cookie } });
  expect(e.status).toBe(200);
  expect(((await e.json()) as { postings: unknown[] }).postings).toHaveLength(2);
  const v = (await (await fetch(`${url}/api/audit/verify`, { headers: { cookie } })).json()) as { ok: boolean; problems: unknown[] };
  expect(v.problems).toEqual([]);
  expect(v.ok).toBe(true);
}

describe('durability of the embedded database', () => {
  it('keeps an acknowledged entry when the application is killed with SIGKILL', async () => {
    const first = await serve(dataDir);
    running.push(first);
    const cookie = await login(first.url);
    const id = await postOne(first.url, cookie, 'k-app');
    const orphan = postmasterPid();
    await stop(first, 'SIGKILL');
    expect(alive(orphan)).toBe(true); // the killed application left its database server running

    const second = await serve(dataDir);
    running.push(second);
    expect(second.output()).toContain('left running by a stopped process');
    expect(alive(orphan)).toBe(false);
    await check(second.url, await login(second.url), id);
    await stop(second);
  });

  it('keeps it when the database server is killed with SIGKILL too (crash recovery from the WAL)', async () => {
    const first = await serve(dataDir);
    running.push(first);
    const cookie = await login(first.url);
    const id = await postOne(first.url, cookie, 'k-both');
    const pm = postmasterPid();
    await stop(first, 'SIGKILL');
    process.kill(pm, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 500));

    const second = await serve(dataDir);
    running.push(second);
    await check(second.url, await login(second.url), id);
    await stop(second);
  });
});
