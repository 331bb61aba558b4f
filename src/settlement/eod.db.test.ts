import { importTradingReference } from '../../test/trading-reference.js';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { inject } from 'vitest';
import { cloneTestDb, type TestDb } from '../db/testing.js';
import { fixedClock } from '../kernel/index.js';

import { balances, trialBalance, verifyAudit } from '../ledger/index.js';
import { recomputePendingLots } from '../trading/index.js';
import type { Pool } from '../db/index.js';
import { importSsis } from './ssi.js';
import { runEod, classify, eodProgress, InjectedCrash, EOD_STEPS, type EodOptions, type StepName } from './eod.js';

const D1 = '2026-03-05';
const D2 = '2026-03-06';
const ctx1 = { actor: 'eod-test', clock: fixedClock('2026-03-05T22:00:00.000Z') };
const ctx2 = { actor: 'eod-test', clock: fixedClock('2026-03-06T22:00:00.000Z') };
const OPTS = { ourBic: 'BOFFUS33', safekeepingAccount: 'SAFE-001' };
const FIX = 'test/fixtures/settlement/eod';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eod-'));
const dbs: TestDb[] = [];
afterAll(async () => { for (const d of dbs) await d.drop(); fs.rmSync(tmp, { recursive: true, force: true }); });

async function freshDb(): Promise<TestDb> {
  const db = await cloneTestDb(inject('pgUrl'));
  dbs.push(db);
  const pool = db.pool;
  await importTradingReference(pool, ctx1);
  return db;
}

/** The day-1 inbox: a copy of the fixtures folder (each database gets its own folders). */
function inbox1(name: string): string {
  const dir = path.join(tmp, name, 'inbox', D1);
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(FIX)) if (f !== 'README.md') fs.copyFileSync(path.join(FIX, f), path.join(dir, f));
  return dir;
}
const opts = (name: string, date: string, inbox: string, extra: Partial<EodOptions> = {}): EodOptions =>
  ({ inbox, outDir: path.join(tmp, name, 'outbox', date), ...OPTS, ...extra });

/** The day-2 inbox: GSCO settles its AAPL and MSFT, NSCC fails its AAPL (the references are this database's obligation ids). */
async function inbox2(pool: Pool, name: string): Promise<string> {
  const id = new Map((await pool.query<{ k: string; id: string }>(
    "SELECT counterparty || ' ' || symbol AS k, id FROM settlement_obligations WHERE settle_date = $1", [D2])).rows.map((r) => [r.k, r.id]));
  const dir = path.join(tmp, name, 'inbox', D2);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'status-dtc.csv'), [
    'reference,status,settled_quantity,settled_amount,settle_date,reason',
    `${id.get('GSCO MSFT')},settled,200,80000.00,${D2},`,
    `${id.get('NSCC AAPL')},failed,,,,LACK`,
  ].join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'executions.csv'), [
    'exec_id,account,symbol,side,quantity,price,trade_date,counterparty,currency,kind,exec_ref_id',
    `EOD9,C1002,MSFT,buy,10,401.00,${D2},GSCO,USD,,`,
  ].join('\n') + '\n');
  return dir;
}

/** The books, without generated ids and timestamps. */
async function books(pool: Pool) {
  const q = async (sql: string, p: unknown[] = []) => (await pool.query(sql, p)).rows;
  const tb = await trialBalance(pool);
  // Obligation ids are generated: settlement entries name them; name them by what they are instead.
  const ob = new Map((await q("SELECT id, settle_date::text || '/' || counterparty || '/' || symbol AS k FROM settlement_obligations")).map((r) => [r.id as string, r.k as string]));
  const named = (x: string) => x.replace(/sob_[0-9A-Z]+/g, (m) => ob.get(m) ?? m);
  return {
    trialBalance: tb,
    balances: await balances(pool),
    trades: await q(`SELECT exec_id, source, account, symbol, side, quantity::text, price::text, trade_date::text, settle_date::text, gross::text, net::text, status,
        (SELECT r.exec_id FROM trades r WHERE r.id = t.replaces) AS replaces FROM trades t ORDER BY exec_id, status`),
    obligations: await q(`SELECT settle_date::text, counterparty, symbol, currency, quantity::text, cash::text, status, trades, fails,
        carried_quantity::text, carried_cash::text, gross_quantity::text, gross_cash::text, settled_quantity::text, settled_cash::text, carried_into::text
        FROM settlement_obligations ORDER BY settle_date, counterparty, symbol`),
    instructions: await q(`SELECT o.settle_date::text, o.counterparty, o.symbol, i.format, i.settlement_type, i.place_bic
        FROM settlement_instructions i JOIN settlement_obligations o ON o.id = i.obligation_id ORDER BY 1, 2, 3`),
    statusEvents: await q(`SELECT o.counterparty, o.symbol, e.status, e.reasons FROM settlement_status_events e JOIN settlement_obligations o ON o.id = e.obligation_id ORDER BY 1, 2, 3`),
    matches: await q(`SELECT c.conf_id, t.exec_id, m.status, m.differences FROM confirmation_matches m
        LEFT JOIN confirmations c ON c.id = m.confirmation LEFT JOIN trades t ON t.id = m.trade_id ORDER BY c.conf_id NULLS LAST, t.exec_id`),
    confirmations: await q('SELECT counterparty, conf_id, symbol, side, quantity::text, price::text FROM confirmations ORDER BY 1, 2'),
    entries: (await q('SELECT idempotency_key, effective_date::text, memo FROM journal_entries'))
      .map((e) => ({ ...e, idempotency_key: named(e.idempotency_key), memo: named(e.memo) })).sort((a, b) => (a.idempotency_key < b.idempotency_key ? -1 : 1)),
    quarantine: await q('SELECT source, record, reason FROM quarantine ORDER BY 1, 2, 3'),
    // Tax lots are recomputed in the background while the day matches: done by the end, and the same.
    lots: await q(`SELECT l.account, l.symbol, t.exec_id, l.open_date::text, l.quantity::text, l.remaining::text, l.unit_cost::text
        FROM lots l JOIN trades t ON t.id = l.trade_id ORDER BY 1, 2, 3`),
    realized: await q(`SELECT r.account, r.symbol, s.exec_id AS sale, lt.exec_id AS lot, r.quantity::text, r.pnl::text
        FROM realized_pnl r LEFT JOIN trades s ON s.id = r.sale_trade LEFT JOIN trades lt ON lt.id = r.lot_id ORDER BY 1, 2, 3, 4`),
    lotsPending: (await q('SELECT count(*)::int AS n FROM lots_pending'))[0]!.n,
    // (no hashes: the day-2 status files quote each database's own obligation ids)
    files: await q('SELECT date::text, name, kind, status FROM eod_files ORDER BY 1, 2'),
    steps: await q('SELECT date::text, step, status FROM eod_runs ORDER BY 1, 2'),
  };
}
/** Everything, including the run records' counts and times: for "a second run changes nothing". */
const everything = async (pool: Pool) => ({
  ...(await books(pool)),
  runs: (await pool.query('SELECT * FROM eod_runs ORDER BY date, step')).rows,
  fileRows: (await pool.query('SELECT * FROM eod_files ORDER BY date, name')).rows,
  obligationRows: (await pool.query('SELECT * FROM settlement_obligations ORDER BY id')).rows,
  journal: (await pool.query('SELECT count(*)::int AS n FROM journal_entries')).rows[0].n,
  audit: (await pool.query('SELECT count(*)::int AS n FROM audit_log')).rows[0].n,
});
const outFiles = (name: string, date: string) => { const d = path.join(tmp, name, 'outbox', date); return fs.existsSync(d) ? fs.readdirSync(d).length : 0; };

let A: TestDb;
let booksA1: Awaited<ReturnType<typeof books>>;

beforeAll(async () => {
  A = await freshDb();
});

describe('end-of-day cycle', () => {
  it('classifies inbox files', () => {
    expect(['executions.fix', 'fills.csv', 'api.json', 'confirmations-gsco.csv', 'status-dtc.csv', 'statuses.txt', 'sese025.xml', 'mt548.fin', 'notes.txt', '.hidden.csv']
      .map(classify)).toEqual(['executions', 'executions', 'executions', 'confirmations', 'statuses', 'statuses', 'statuses', 'statuses', undefined, undefined]);
  });

  it('classifies FIX files by their messages, not their names', () => {
    const read = (f: string) => fs.readFileSync(f, 'utf8');
    // Confirmation (AK) and AllocationReport (AS), '|' and SOH delimited, under any name.
    const gsco = read('test/fixtures/settlement/confirmations/gsco.fix'), nscc = read('test/fixtures/settlement/confirmations/nscc.fix');
    expect(classify('street-gsco.fix', gsco)).toBe('confirmations');
    expect(classify('executions.fix', nscc)).toBe('confirmations');
    expect(classify('drop.txt', gsco)).toBe('confirmations');
    // ExecutionReports (35=8) stay executions.
    const fills = read('test/fixtures/fix/quickfix_MessagesTestCase_CME_fill_ES.fix');
    expect(classify('fills.fix', fills)).toBe('executions');
    // A CSV is known by its name; a hidden file is never ours.
    expect(classify('confirmations-gsco.csv', read(path.join(FIX, 'confirmations-gsco.csv')))).toBe('confirmations');
    expect(classify('.gsco.fix', gsco)).toBeUndefined();
  });

  it('takes a FIX confirmation file named *.fix in as confirmations and matches from it', async () => {
    const F = await freshDb();
    const dir = path.join(tmp, 'F', 'inbox', D1);
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync('test/fixtures/settlement/confirmations/gsco.fix', path.join(dir, 'street-gsco.fix'));
    const r = await runEod(F.pool, D1, opts('F', D1, dir), ctx1);
    const c = Object.fromEntries(r.steps.map((s) => [s.step, s.counts]));
    expect(c.intake).toEqual({ executions: 0, confirmations: 1, statuses: 0, new: 1, ignored: 0 });
    expect(c.book).toMatchObject({ files: 0 });
    expect(c.match).toMatchObject({ files: 1, filesFailed: 0 });
    expect(r.failedFiles).toEqual([]);
    // The confirmations of the file (the status-only AK and the heartbeat are not confirmations).
    expect((await F.pool.query("SELECT conf_id FROM confirmations WHERE counterparty = 'GSCO' ORDER BY 1")).rows.map((x) => x.conf_id)).toEqual(['GA1', 'GC1', 'GC2']);
    expect((await F.pool.query('SELECT name, kind, status FROM eod_files')).rows).toEqual([{ name: 'street-gsco.fix', kind: 'confirmations', status: 'done' }]);
  });

  it('runs a day uninterrupted: books, matches, nets, instructs, reports; step by step in eod_runs', async () => {
    const lines: string[] = [];
    const r = await runEod(A.pool, D1, opts('A', D1, inbox1('A'), { onStep: (e) => e.phase === 'end' && lines.push(`${e.step} ${e.status}`) }), ctx1);
    expect(r.steps.map((s) => [s.step, s.status])).toEqual(EOD_STEPS.map((s) => [s, 'done']));
    expect(lines).toEqual(EOD_STEPS.map((s) => `${s} done`));
    const c = Object.fromEntries(r.steps.map((s) => [s.step, s.counts]));
    expect(c.intake).toEqual({ executions: 3, confirmations: 2, statuses: 0, new: 5, ignored: 1 });
    expect(c.book).toMatchObject({ files: 3, received: 10, booked: 9, duplicates: 1, quarantined: 0 });
    expect(c.match).toMatchObject({ files: 2, matched: 4, mismatched: 1, unmatchedConfirmations: 0, unmatchedTrades: 2 });
    expect(Object.keys((c.net as { dates: object }).dates)).toEqual([D1, D2]);
    expect(r.failedFiles).toEqual([]);
    expect(r.fails).toEqual({ open: 0, alerts: 0, buckets: [] });
    const b = await books(A.pool);
    // The day's lots, recomputed in the background and done by the time the run returns: none
    // waits, and recomputing every pair again changes nothing.
    expect(b.lotsPending).toBe(0);
    expect(b.lots.length).toBeGreaterThan(0);
    await A.pool.query(`INSERT INTO lots_pending (account, symbol, since) SELECT DISTINCT account, symbol, now() FROM trades`);
    expect(await recomputePendingLots(A.pool)).toBeGreaterThan(0);
    const again = await books(A.pool);
    expect([again.lots, again.realized]).toEqual([b.lots, b.realized]);
    expect(b.trades.map((t) => [t.exec_id, t.status])).toEqual([
      ['EOD1', 'booked'], ['EOD2', 'booked'], ['EOD3', 'booked'], ['EOD4', 'booked'], ['EOD5', 'booked'], ['EOD6', 'booked'], ['EOD7', 'canceled'], ['EOD8', 'booked']]);
    expect(b.obligations.map((o) => [o.settle_date, o.counterparty, o.symbol, o.quantity, o.status])).toEqual([
      [D2, 'GSCO', 'AAPL', '60', 'instructed'], [D2, 'GSCO', 'MSFT', '200', 'instructed'],
      [D2, 'NSCC', 'AAPL', '-15', 'instructed'], [D2, 'NSCC', 'MSFT', '-70', 'instructed']]);
    expect(outFiles('A', D1)).toBe(4);
    expect(b.steps.every((s) => s.status === 'done')).toBe(true);
    expect((await eodProgress(A.pool, D1)).map((p) => p.step)).toEqual([...EOD_STEPS]);
    expect((await verifyAudit(A.pool)).ok).toBe(true);
    booksA1 = b;
  });

  it('a second run of a finished day changes nothing and reports its steps already done', async () => {
    const before = await everything(A.pool);
    const r = await runEod(A.pool, D1, opts('A', D1, path.join(tmp, 'A', 'inbox', D1)), { actor: 'someone-else', clock: fixedClock('2026-03-07T08:00:00.000Z') });
    expect(r.steps.map((s) => s.status)).toEqual(EOD_STEPS.map(() => 'already_done'));
    const c = Object.fromEntries(r.steps.map((s) => [s.step, s.counts]));
    expect(c.intake).toMatchObject({ new: 0 });
    expect(c.book).toMatchObject({ files: 0, filesSeenBefore: 3 });
    expect(c.match).toMatchObject({ files: 0, changes: { created: 0, removed: 0 } });
    expect((c.net as { dates: Record<string, { created: number; updated: number; removed: number }> }).dates[D2]).toMatchObject({ created: 0, updated: 0, removed: 0 });
    expect((c.instruct as { dates: Record<string, { instructed: number }> }).dates[D2]).toMatchObject({ instructed: 0, alreadyInstructed: 4 });
    expect(await everything(A.pool)).toEqual(before);
    expect(outFiles('A', D1)).toBe(4);
  });

  const crashes: [string, Partial<EodOptions>][] = [
    ['inside book, after the first file', { crashDuring: 'book' }],
    ['inside match, after the first confirmation file', { crashDuring: 'match' }],
    ...(['intake', 'book', 'match', 'net', 'instruct', 'report'] as StepName[]).map((s): [string, Partial<EodOptions>] => [`after ${s} committed`, { crashAfter: s }]),
  ];
  it.each(crashes)('a crash %s, then a run again, leaves the books of an uninterrupted run', async (label, fault) => {
    const B = await freshDb();
    const name = `B-${label.replace(/\W+/g, '-')}`;
    const inbox = inbox1(name);
    const err = await runEod(B.pool, D1, opts(name, D1, inbox, fault), ctx1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InjectedCrash);
    const progress = await eodProgress(B.pool, D1);
    expect(progress.some((p) => p.status === 'started')).toBe(true);
    if (fault.crashDuring === 'book') {
      // One file booked, the others not yet.
      expect((await B.pool.query("SELECT status, count(*)::int AS n FROM eod_files WHERE kind = 'executions' GROUP BY 1 ORDER BY 1")).rows)
        .toEqual([{ status: 'done', n: 1 }, { status: 'received', n: 2 }]);
    }
    const r = await runEod(B.pool, D1, opts(name, D1, inbox), ctx1);
    expect(r.steps.every((s) => s.status === 'done' || s.status === 'already_done')).toBe(true);
    expect(await books(B.pool)).toEqual(booksA1);
    expect(outFiles(name, D1)).toBe(4);
    expect((await verifyAudit(B.pool)).ok).toBe(true);
  });

  it('the next day: statuses settle and fail, the fail is carried into the next net; a crash after statuses finishes the same', async () => {
    const B = await freshDb();
    await runEod(B.pool, D1, opts('B2', D1, inbox1('B2')), ctx1);
    const rA = await runEod(A.pool, D2, opts('A', D2, await inbox2(A.pool, 'A')), ctx2);
    expect(rA.steps.map((s) => s.status)).toEqual(EOD_STEPS.map(() => 'done'));
    expect(rA.steps.find((s) => s.step === 'statuses')!.counts).toMatchObject({ files: 1, applied: 2 });
    expect(rA.fails.open).toBe(1);
    const err = await runEod(B.pool, D2, opts('B2', D2, await inbox2(B.pool, 'B2'), { crashAfter: 'statuses' }), ctx2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InjectedCrash);
    await runEod(B.pool, D2, opts('B2', D2, path.join(tmp, 'B2', 'inbox', D2)), ctx2);
    const a = await books(A.pool);
    expect(await books(B.pool)).toEqual(a);
    // The NSCC AAPL fail of 03-06 is owed on 03-09 with EOD9's MSFT.
    expect(a.obligations.filter((o) => o.settle_date === '2026-03-09').map((o) => [o.counterparty, o.symbol, o.quantity, o.fails, o.status])).toEqual([
      ['GSCO', 'MSFT', '10', 0, 'instructed'], ['NSCC', 'AAPL', '-15', 1, 'instructed']]);
    expect(a.obligations.find((o) => o.settle_date === D2 && o.counterparty === 'NSCC' && o.symbol === 'AAPL')).toMatchObject({ status: 'failed', carried_into: '2026-03-09' });
    // And again: nothing changes.
    const before = await everything(A.pool);
    const again = await runEod(A.pool, D2, opts('A', D2, path.join(tmp, 'A', 'inbox', D2)), ctx2);
    expect(again.steps.map((s) => s.status)).toEqual(EOD_STEPS.map(() => 'already_done'));
    expect(await everything(A.pool)).toEqual(before);
    for (const d of [A, B]) expect((await verifyAudit(d.pool)).ok).toBe(true);
  });

  it('a real process: SIGKILL of the command after its first step line, then a run again, leaves the books of an uninterrupted run', async () => {
    const K = await freshDb();
    const inbox = inbox1('K');
    const args = ['eod', '--date', D1, '--inbox', inbox, '--out', path.join(tmp, 'K', 'outbox', D1), '--our-bic', OPTS.ourBic, '--safekeeping-account', OPTS.safekeepingAccount];
    // bin/backoffice once the program registers `eod`; until then the same command, registered by a small driver.
    const wired = fs.readFileSync('src/cli/main.ts', 'utf8').includes('eodCommands');
    const driver = `import { Command } from 'commander';
      const { createDb } = await import(${JSON.stringify(path.resolve('src/db/index.ts'))});
      const { eodCommands } = await import(${JSON.stringify(path.resolve('src/settlement/eod.ts'))});
      const program = new Command('backoffice').option('--data <dir>');
      const withDb = async (fn) => { const db = await createDb({ dataDir: ${JSON.stringify(tmp)}, databaseUrl: process.env.DATABASE_URL }); try { return await fn(db); } finally { await db.close(); } };
      eodCommands(program, withDb, (json, v, text) => process.stdout.write((json ? JSON.stringify(v) : text()) + '\\n'));
      await program.parseAsync(process.argv.slice(1), { from: 'user' });`;
    const [cmd, pre] = wired ? ['bin/backoffice', ['--data', path.join(tmp, 'K', 'data')]] : [process.execPath, ['--import', 'tsx', '--input-type=module', '-e', driver]];
    const run = (kill: boolean) => new Promise<{ code: number | null; signal: string | null; stderr: string; stdout: string }>((resolve) => {
      const child = spawn(cmd, [...pre, ...args], { env: { ...process.env, DATABASE_URL: K.url } });
      let stderr = '', stdout = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d; });
      child.stderr.on('data', (d: Buffer) => { stderr += d; if (kill && /^eod \S+: \w+ /m.test(stderr)) child.kill('SIGKILL'); });
      child.on('exit', (code, signal) => resolve({ code, signal, stderr, stdout }));
    });
    const killed = await run(true);
    expect(killed.stderr).toMatch(/^eod 2026-03-05: intake done/m);
    expect(killed.signal).toBe('SIGKILL');
    const after = await eodProgress(K.pool, D1);
    expect(after.filter((p) => p.status === 'done').length).toBeLessThan(EOD_STEPS.length);
    const again = await run(false);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('end of day 2026-03-05');
    expect(await books(K.pool)).toEqual(booksA1);
    expect((await verifyAudit(K.pool)).ok).toBe(true);
  });

  it('skips instructing when no BIC is configured', async () => {
    const C = await freshDb();
    const r = await runEod(C.pool, D1, { inbox: inbox1('C'), outDir: path.join(tmp, 'C', 'outbox') }, ctx1);
    expect(r.steps.find((s) => s.step === 'instruct')).toMatchObject({ status: 'skipped' });
    expect(outFiles('C', 'x')).toBe(0);
    expect((await C.pool.query("SELECT DISTINCT status FROM settlement_obligations")).rows).toEqual([{ status: 'pending' }]);
  });

  it('instructs from the firm\'s own SSI (party FIRM) when no BIC is configured', async () => {
    const S = await freshDb();
    await importSsis(S.pool, [
      'party,market,asset_class,currency,place_bic,agent_bic,participant,account,cash_bic,cash_account,effective_from,effective_to',
      'FIRM,XNAS,,,DTCYUS33,BOFFUS44,,SAFE-SSI-9,BOFFUS44,USD-SETT-9,2026-01-01,',
    ].join('\n') + '\n', 'firm-ssi.csv', ctx1);
    const r = await runEod(S.pool, D1, { inbox: inbox1('S'), outDir: path.join(tmp, 'S', 'outbox', D1) }, ctx1);
    expect(r.steps.find((s) => s.step === 'instruct')).toMatchObject({ status: 'done', counts: { dates: { [D2]: { instructed: 4, skipped: 0 } } } });
    expect((await S.pool.query('SELECT DISTINCT status FROM settlement_obligations')).rows).toEqual([{ status: 'instructed' }]);
    const files = fs.readdirSync(path.join(tmp, 'S', 'outbox', D1));
    expect(files).toHaveLength(4);
    // Our side is the SSI's: its BIC and safekeeping account, not a configured default.
    for (const f of files) {
      const xml = fs.readFileSync(path.join(tmp, 'S', 'outbox', D1, f), 'utf8');
      expect(xml).toContain('SAFE-SSI-9');
      expect(xml).toContain('BOFFUS44');
    }
  });
});
