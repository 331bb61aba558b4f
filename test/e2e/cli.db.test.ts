import { describe, it, expect } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { testDb } from '../db.js';

// The CLI end to end, as an operator runs it, against this file's own database (DATABASE_URL).
const db = await testDb();
const BIN = path.resolve('bin/backoffice');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bo-cli-'));

function run(args: string[], input?: string) {
  const r = spawnSync(BIN, args, { env: { ...process.env, DATABASE_URL: db.url }, encoding: 'utf8', input });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const ok = (args: string[], input?: string) => {
  const r = run(args, input);
  expect(r.err + r.out, `backoffice ${args.join(' ')}`).not.toMatch(/^error:/m);
  expect(r.code).toBe(0);
  return r.out;
};
const file = (name: string, value: unknown) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, typeof value === 'string' ? value : JSON.stringify(value));
  return f;
};
const entry = (key: string, date: string, legs: [string, string, string][]) => ({
  key, date, memo: `memo ${key}`, postings: legs.map(([account, asset, amount]) => ({ account, asset, amount })),
});
const balancesJson = (...args: string[]) => JSON.parse(ok(['ledger', 'balances', '--json', ...args]));

describe('backoffice CLI', () => {
  it('sets up assets and accounts', () => {
    expect(ok(['ledger', 'asset', 'add', 'XYZ', '--scale', '0'])).toContain('registered: XYZ (security, scale 0)');
    expect(ok(['ledger', 'asset', 'add', 'JPY'])).toContain('JPY (currency, scale 0)');
    expect(run(['ledger', 'asset', 'add', 'JPY', '--scale', '2']).code).toBe(2);
    for (const [name, type] of [['assets:bank:usd', 'asset'], ['equity:capital', 'equity'], ['liabilities:customers:C1:cash', 'liability'], ['assets:depository', 'asset'], ['liabilities:customers:C1:sec', 'liability']]) {
      ok(['ledger', 'open', name!, '--type', type!]);
    }
    expect(ok(['ledger', 'open', 'assets:bank:reserve', '--type', 'asset', '--no-negative', '--owner', 'firm'])).toContain('no negative balance');
    expect(run(['ledger', 'open', 'Bad Name', '--type', 'asset']).code).toBe(2);
  });

  it('posts a file all or nothing, and again without change', () => {
    const good = [
      entry('e1', '2026-01-02', [['assets:bank:usd', 'USD', '1000.00'], ['equity:capital', 'USD', '-1000.00']]),
      entry('e2', '2026-01-03', [['assets:bank:usd', 'USD', '250.25'], ['liabilities:customers:C1:cash', 'USD', '-250.25']]),
      entry('e3', '2026-01-04', [['assets:depository', 'XYZ', '100'], ['liabilities:customers:C1:sec', 'XYZ', '-100']]),
    ];
    const bad = [...good, entry('e4-bad', '2026-01-05', [['assets:bank:usd', 'USD', '1.00'], ['equity:capital', 'USD', '-0.99']])];
    const r = run(['ledger', 'post', '--file', file('bad.json', bad)]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('entry #4 "e4-bad"');
    expect(r.err).toContain('sum to 0.01');
    expect(balancesJson()).toEqual([]);

    const f = file('good.jsonl', good.map((e) => JSON.stringify(e)).join('\n'));
    expect(JSON.parse(ok(['ledger', 'post', '--file', f, '--json']))).toEqual({ received: 3, posted: 3, duplicates: 0 });
    expect(JSON.parse(ok(['ledger', 'post', '--file', f, '--json']))).toEqual({ received: 3, posted: 0, duplicates: 3 });
    const changed = [{ ...good[0], memo: 'changed' }];
    const c = run(['ledger', 'post', '--file', file('changed.json', changed)]);
    expect(c.code).toBe(5);
    expect(c.err).toContain('IDEMPOTENCY_KEY_REUSED'.length ? 'key was already used' : '');
    const m = run(['ledger', 'post', '--file', file('malformed.json', '[{"key": "x",')]);
    expect(m.code).toBe(2);
    expect(m.err).toContain('not valid JSON');
  });

  it('answers balances and the trial balance, as of dates and by prefix', () => {
    expect(balancesJson()).toEqual([
      { account: 'assets:bank:usd', asset: 'USD', balance: '1250.25' },
      { account: 'assets:depository', asset: 'XYZ', balance: '100' },
      { account: 'equity:capital', asset: 'USD', balance: '-1000.00' },
      { account: 'liabilities:customers:C1:cash', asset: 'USD', balance: '-250.25' },
      { account: 'liabilities:customers:C1:sec', asset: 'XYZ', balance: '-100' },
    ]);
    expect(balancesJson('--as-of', '2026-01-02')).toEqual([
      { account: 'assets:bank:usd', asset: 'USD', balance: '1000.00' },
      { account: 'equity:capital', asset: 'USD', balance: '-1000.00' },
    ]);
    expect(balancesJson('--account', 'liabilities:customers', '--rollup')).toContainEqual({ account: 'liabilities:customers:C1', asset: 'USD', balance: '-250.25' });
    const tb = JSON.parse(ok(['ledger', 'trial-balance', '--json']));
    expect(tb.totals).toEqual([{ asset: 'USD', debit: '1250.25', credit: '1250.25' }, { asset: 'XYZ', debit: '100', credit: '100' }]);
    expect(ok(['ledger', 'trial-balance'])).toMatch(/TOTAL\s+USD\s+1250\.25\s+1250\.25/);
  });

  it('refuses to overdraw a no-negative account, and posts into a closed period', () => {
    const r = run(['ledger', 'post', '--file', file('overdraw.json', [entry('od', '2026-01-06', [['assets:bank:reserve', 'USD', '-5.00'], ['assets:bank:usd', 'USD', '5.00']])])]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('may not go negative');
    expect(ok(['ledger', 'close', '--through', '2026-01-31'])).toContain('closed through 2026-01-31');
    const late = run(['ledger', 'post', '--file', file('late.json', [entry('late', '2026-01-15', [['assets:bank:usd', 'USD', '1.00'], ['equity:capital', 'USD', '-1.00']])])]);
    expect(late.code).toBe(2);
    expect(late.err).toContain('closed period');
  });

  it('reverses by id and reports unknown ids as not found', () => {
    const id = JSON.parse(execFileSync(BIN, ['ledger', 'activity', 'assets:bank:usd', '--asset', 'USD', '--json'], { env: { ...process.env, DATABASE_URL: db.url }, encoding: 'utf8' })).rows[1].entryId;
    const rev = JSON.parse(ok(['ledger', 'reverse', id, '--date', '2026-02-02', '--json']));
    expect(rev.reverses).toBe(id);
    expect(run(['ledger', 'reverse', 'je_nope']).code).toBe(4);
  });

  it('exports an hledger journal and verifies the audit trail', () => {
    const out = path.join(dir, 'ledger.journal');
    ok(['ledger', 'export', '--format', 'hledger', '--out', out]);
    expect(fs.readFileSync(out, 'utf8')).toContain('assets:bank:usd  "USD" 1000.00');
    expect(JSON.parse(ok(['audit', 'verify', '--json'])).ok).toBe(true);
  });

  it('imports reference data and executions; exit 3 when a record is quarantined', () => {
    for (const kind of ['securities', 'accounts', 'counterparties', 'fees']) {
      expect(ok(['reference', 'import', kind, `test/fixtures/trading/${kind}.csv`])).toMatch(new RegExp(`^${kind}: \\d+ added`));
    }
    const f = file('execs.csv', 'exec_id,account,symbol,side,quantity,price,trade_date,counterparty,currency\nT1,C1002,AAPL,buy,10,190.00,2026-03-02,GSCO,USD\nT2,C404,AAPL,buy,10,190.00,2026-03-02,GSCO,USD\n');
    const r = run(['trades', 'import', f, '--json']);
    expect(r.code).toBe(3);
    const out = JSON.parse(r.out);
    expect(out).toMatchObject({ received: 2, booked: 1, duplicates: 0, ignored: 0 });
    expect(out.quarantined[0].reason).toBe('line 3 (exec T2): account "C404" is not known');
    expect(JSON.parse(ok(['positions', '--account', 'C1002', '--json']))).toMatchObject([{ account: 'C1002', security: 'AAPL', quantity: '10' }]);
    const again = run(['trades', 'import', f, '--json']);
    expect(JSON.parse(again.out)).toMatchObject({ booked: 0, duplicates: 1 });
    // The front office's questions.
    expect(JSON.parse(ok(['inventory', 'AAPL', '--json']))).toMatchObject({ security: 'AAPL', customers: [{ account: 'C1002', quantity: '10' }], customerTotal: '10' });
    // Bought 10 x 190.00 = 1,900.00 plus the 1.00 minimum commission: the account owes 1,901.00.
    expect(JSON.parse(ok(['cash', 'C1002', '--json']))).toEqual({ account: 'C1002', type: 'margin', currency: 'USD', available: '0.00', balance: '-1901.00' });
    expect(run(['prices', 'latest', 'AAPL']).code).toBe(4);
    ok(['prices', 'import', file('prices.csv', 'symbol,date,price\nAAPL,2026-03-02,191.50\n')]);
    expect(JSON.parse(ok(['prices', 'latest', 'AAPL', '--json']))).toEqual({ symbol: 'AAPL', date: '2026-03-02', price: '191.50', currency: 'USD' });
  });

  it('exits 7 when the audit trail was tampered with', async () => {
    const { pg } = await import('../../src/db/pg.js');
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    await c.query(`SET session_replication_role = replica; UPDATE postings SET amount = amount + 1 WHERE entry_seq = (SELECT min(entry_seq) FROM postings) AND line = 0`);
    await c.end();
    const r = run(['audit', 'verify']);
    expect(r.code).toBe(7);
    expect(r.out).toMatch(/AUDIT TRAIL BROKEN at journal_entries je_/);
  });

  it('adds users with roles', () => {
    const u = JSON.parse(ok(['user', 'add', 'carol', '--role', 'finance', '--json']));
    expect(u.role).toBe('finance');
    expect(u.password.length).toBeGreaterThanOrEqual(16);
    expect(ok(['user', 'add', 'dave', '--role', 'auditor', '--password-stdin'], 'a-long-enough-password\n')).toContain('user dave added with role auditor');
    expect(run(['user', 'add', 'carol', '--role', 'finance']).code).toBe(5);
    expect(run(['user', 'add', 'erin', '--role', 'king']).code).not.toBe(0);
  });
});
