import { describe, it, expect, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { Kysely, PostgresDialect } from 'kysely';
import { testDb } from '../../test/db.js';
import type { Db, Schema } from '../db/index.js';
import { DomainError, exitCodeOf, fixedClock } from '../kernel/index.js';
import { openAccount, postEntries } from '../ledger/index.js';
import { addUser } from '../users/index.js';
import { reconCommands } from './index.js';

/** The `recon` commands as the program runs them, on this file's database; output captured. */
const tdb = await testDb();
const db: Db = { pool: tdb.pool, kysely: new Kysely<Schema>({ dialect: new PostgresDialect({ pool: tdb.pool }) }), where: 'test', close: async () => {} };
const clock = fixedClock('2015-01-10T09:00:00.000Z');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recon-cli-'));
const GENKGO = fs.readFileSync(new URL('../../test/fixtures/iso20022/genkgo_camt053.v2.multi.statement.xml', import.meta.url), 'utf8');

afterEach(() => { process.exitCode = undefined; });

/** Runs `backoffice recon ...args`: stdout, the exit code the program would end with. */
async function recon(...args: string[]): Promise<{ out: string; code: number }> {
  let out = '';
  const program = new Command('backoffice').exitOverride();
  reconCommands(program, (fn) => fn(db), (json, value, text) => { out += (json ? JSON.stringify(value) : text()) + '\n'; }, () => ({ actor: 'cli:tester', clock }));
  process.exitCode = undefined;
  try {
    await program.parseAsync(['node', 'backoffice', 'recon', ...args]);
  } catch (e) {
    if (e instanceof DomainError) return { out: `${e.code}: ${e.message}`, code: exitCodeOf(e) };
    throw e;
  }
  return { out, code: Number(process.exitCode ?? 0) };
}

const file = (name: string, text: string) => { const p = path.join(dir, name); fs.writeFileSync(p, text); return p; };

describe('recon commands', () => {
  it('import --json prints the statements; a refused statement is not stored and the exit code is 3', async () => {
    // The first statement's closing balance off by one euro: it contradicts its own entries.
    const bad = GENKGO.replace('<MsgId>CAMT053RIB000000000001</MsgId>', '<MsgId>BAD-1</MsgId>').replace('<Amt Ccy="EUR">27.00</Amt>', '<Amt Ccy="EUR">28.00</Amt>');
    const r = await recon('import', file('bad.xml', bad), '--json');
    expect(r.code).toBe(3);
    const { statements } = JSON.parse(r.out) as { statements: { id: string | null; statementId: string; status: string; check: string; opening: string; closing: string }[] };
    expect(statements.map((s) => [s.statementId, s.status])).toEqual([['253EURNL26VAYB8060476890', 'refused'], ['254EURNL26VAYB8060476890', 'stored']]);
    expect(statements[0]!.id).toBeNull();
    expect(statements[0]!.check).not.toBe('ok');
    expect((await db.pool.query('SELECT statement_id FROM recon_statements')).rows.map((x) => x.statement_id)).toEqual(['254EURNL26VAYB8060476890']);

    const good = await recon('import', file('good.xml', GENKGO), '--json');
    expect(good.code).toBe(0);
    expect((JSON.parse(good.out) as { statements: { status: string }[] }).statements.map((s) => s.status)).toEqual(['stored', 'duplicate']);
    const junk = await recon('import', file('junk.xml', '<Document><nope/></Document>'));
    expect(junk.code).toBe(2);
  });

  it('links, runs (matched counts by rule, breaks found), lists breaks by age, and works a break with maker-checker by --as', async () => {
    await openAccount(db.pool, { name: 'assets:bank:eur', type: 'asset' }, { actor: 't', clock });
    await openAccount(db.pool, { name: 'expenses:bank-charges', type: 'expense' }, { actor: 't', clock });
    await openAccount(db.pool, { name: 'equity:capital', type: 'equity' }, { actor: 't', clock });
    await addUser(db.pool, { name: 'olga', role: 'operations' }, { actor: 't', clock });
    await addUser(db.pool, { name: 'fred', role: 'finance' }, { actor: 't', clock });
    await postEntries(db.pool, [{ key: '000000001', date: '2014-12-31', postings: [{ account: 'assets:bank:eur', asset: 'EUR', amount: '8.85' }, { account: 'equity:capital', asset: 'EUR', amount: '-8.85' }] }], { actor: 't', clock });
    expect((await recon('run', '--account', 'NL26VAYB8060476890', '--date', '2014-12-31')).code).toBe(7);
    expect((await recon('link', 'NL26VAYB8060476890', '--ledger-account', 'assets:nope')).code).toBe(2);
    expect((await recon('link', 'NL26VAYB8060476890', '--ledger-account', 'assets:bank:eur')).out).toMatch(/^linked: NL26VAYB8060476890 \(cash\) -> assets:bank:eur in EUR/);
    const run = await recon('run', '--account', 'assets:bank:eur', '--date', '2014-12-31', '--json');
    expect(JSON.parse(run.out)).toMatchObject({ matched: { total: 1, byRule: { reference: 1 } }, breaks: { found: 1, byType: { missing_ours: 1 } } });
    expect((await recon('run', '--account', 'assets:bank:eur', '--date', '2014-12-31')).out).toContain('breaks: 0 found, 1 still open');

    const list = JSON.parse((await recon('breaks', '--status', 'open', '--as-of', '2015-01-02', '--json')).out) as { breaks: { id: string; type: string; ageDays: number }[]; aging: { bucket: string; count: number }[] };
    expect(list.breaks.map((b) => [b.type, b.ageDays])).toEqual([['missing_ours', 2]]);
    expect(list.aging.filter((a) => a.count)).toEqual([{ bucket: '2-5', count: 1, byType: { missing_ours: 1 } }]);
    const id = list.breaks[0]!.id;
    expect((await recon('break', 'assign', id, 'olga', '--as', 'fred')).out).toContain('assigned to olga');
    expect((await recon('break', 'comment', id, 'bank charge, not booked', '--as', 'olga')).code).toBe(0);
    expect((await recon('break', 'propose-adjustment', id, '--offset-account', 'expenses:bank-charges', '--as', 'olga')).out).toContain('assets:bank:eur -7.00 EUR');
    // An operations user may not approve at all; the proposer may not approve her own.
    const ops = await recon('break', 'approve', id, '--as', 'olga');
    expect([ops.code, ops.out]).toEqual([6, expect.stringContaining('needs recon.approve')]);
    expect((await recon('break', 'approve', id, '--as', 'nobody')).code).toBe(6);
    const ok = await recon('break', 'approve', id, '--as', 'fred');
    expect(ok.out).toMatch(/approved by fred: entry je_\w+ posted; break rbk_\w+ resolved/);
    const show = JSON.parse((await recon('break', 'show', id, '--json')).out) as { status: string; history: { action: string; actor: string }[] };
    expect(show.status).toBe('resolved');
    expect(show.history.map((h) => `${h.action}:${h.actor}`)).toEqual(['found:cli:tester', 'assigned:fred', 'commented:olga', 'adjustment_proposed:olga', 'adjustment_approved:fred', 'resolved:fred']);
  });
});
