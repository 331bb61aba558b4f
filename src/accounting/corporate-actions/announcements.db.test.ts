/**
 * Announcements from CSV: bad files refused whole with every row, field and rule named; the same
 * file again changes nothing; a revision before apply is taken, after apply refused; the CLI.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { testDb } from '../../../test/db.js';
import { importTradingReference } from '../../../test/trading-reference.js';
import { DomainError, exitCodeOf, fixedClock } from '../../kernel/index.js';
import type { Db } from '../../db/index.js';
import { applyAction, corporateActionsCommands, getAction, importAnnouncements, importWithholdingRates, listActions } from './index.js';

const ctx = { actor: 'asset-servicing', clock: fixedClock('2026-03-10T12:00:00.000Z') };
const db = await testDb();
const pool = db.pool;
const fixture = (f: string) => fs.readFileSync(`test/fixtures/corporate-actions/${f}`, 'utf8');
const count = async (table: string) => (await pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n as number;
const refusal = async (p: Promise<unknown>) => {
  const e = await p.then(() => undefined, (x) => x);
  expect(e).toBeInstanceOf(DomainError);
  return e as DomainError;
};

beforeAll(async () => {
  await importTradingReference(pool, ctx);
});

describe('importing announcements', () => {
  it('refuses a file with bad rows whole, naming each line, field and rule', async () => {
    const e = await refusal(importAnnouncements(pool, fixture('bad-announcements.csv'), 'bad.csv', ctx));
    expect(e.code).toBe('CORPORATE_ACTION_FILE_INVALID');
    expect(e.kind).toBe('invalid');
    expect(exitCodeOf(e)).toBe(2);
    expect(e.details.map((d) => [d.record, d.field, d.rule])).toEqual([
      ['bad.csv line 3 (BAD-2)', 'pay_date', 'DATE_ORDER'],
      ['bad.csv line 4 (BAD-3)', 'symbol', 'SECURITY_UNKNOWN'],
      ['bad.csv line 4 (BAD-3)', 'rate', 'POSITIVE_DECIMAL'],
      ['bad.csv line 4 (BAD-3)', 'currency', 'ISO_4217'],
      ['bad.csv line 5 (BAD-4)', 'cash_in_lieu_price', 'REQUIRED'],
      ['bad.csv line 6 (BAD-5)', 'effective_date', 'DATE'],
      ['bad.csv line 6 (BAD-5)', 'ratio', 'RATIO_DIRECTION'],
      ['bad.csv line 7 (BAD-6)', 'new_isin', 'ISIN_CHECK_DIGIT'],
      ['bad.csv line 8 (GOOD-1)', 'id', 'DUPLICATE'],
      ['bad.csv line 9 (BAD-8)', 'kind', 'ENUM'],
    ]);
    expect(e.details[0]!.message).toBe('bad.csv line 3 (BAD-2): pay_date: pay date 2026-03-12 is before the record date 2026-03-13');
    expect(e.details.find((d) => d.rule === 'RATIO_DIRECTION')!.message).toContain('"10:1" gives more shares: that is a split');
    expect(e.message).toMatch(/^10 problems in the announcements file; nothing was written\. First: bad\.csv line 3/);
    // Nothing of it was written, not even the good row.
    expect(await count('corporate_actions')).toBe(0);
  });

  it('refuses files it cannot read: missing and unknown columns, not CSV, terms of another kind', async () => {
    const missing = await refusal(importAnnouncements(pool, 'id,symbol\nX,AAPL\n', 'a.csv', ctx));
    expect(missing.details[0]).toMatchObject({ field: 'kind', rule: 'COLUMNS' });
    const unknown = await refusal(importAnnouncements(pool, 'id,kind,symbol,rate_per_share\nX,cash_dividend,AAPL,1\n', 'b.csv', ctx));
    expect(unknown.message).toContain('unknown column(s) rate_per_share');
    const broken = await refusal(importAnnouncements(pool, 'id,kind,symbol\n"X,cash_dividend,AAPL\n', 'c.csv', ctx));
    expect(broken.details[0]!.rule).toBe('CSV');
    const mixed = await refusal(importAnnouncements(pool, 'id,kind,symbol,effective_date,ratio,rate\nS,split,MSFT,2026-03-16,2:1,0.5\n', 'd.csv', ctx));
    expect(mixed.details.map((d) => [d.field, d.rule])).toEqual([['rate', 'NOT_APPLICABLE']]);
    const taken = await refusal(importAnnouncements(pool, 'id,kind,symbol,effective_date,new_symbol\nR,symbol_change,AAPL,2026-04-01,MSFT\n', 'e.csv', ctx));
    expect(taken.details.map((d) => [d.field, d.rule])).toEqual([['new_symbol', 'IDENTIFIER_IN_USE']]);
    expect(await count('corporate_actions')).toBe(0);
  });

  it('is idempotent by announcement id; revises what is not applied yet; refuses to change what is', async () => {
    const file = 'id,kind,symbol,ex_date,record_date,pay_date,rate,currency\nD1,cash_dividend,AAPL,2026-03-09,2026-03-09,2026-03-12,0.25,USD\nD2,cash_dividend,MSFT,2026-03-19,2026-03-19,2026-04-09,0.83,USD\n';
    expect(await importAnnouncements(pool, file, 'd.csv', ctx)).toEqual({ received: 2, created: 2, updated: 0, unchanged: 0, ids: ['D1', 'D2'] });
    const audit = await count('audit_log');
    expect(await importAnnouncements(pool, file, 'd.csv', ctx)).toEqual({ received: 2, created: 0, updated: 0, unchanged: 2, ids: ['D1', 'D2'] });
    expect(await count('audit_log')).toBe(audit);
    // The agent revises D2's rate before it is paid: taken, and audited as a revision.
    const revised = file.replace('0.83', '0.91');
    expect(await importAnnouncements(pool, revised, 'd2.csv', ctx)).toMatchObject({ created: 0, updated: 1, unchanged: 1 });
    expect((await getAction(pool, 'D2')).rate).toBe('0.91');
    expect((await pool.query("SELECT action FROM audit_log WHERE entity_id = 'D2' ORDER BY seq")).rows.map((r) => r.action)).toEqual(['corporate_action.announce', 'corporate_action.revise']);
    // D1 applied (no one holds AAPL: nothing to book); changing it afterwards is refused, whole file.
    const applied = await applyAction(pool, 'D1', { actor: 'ops', clock: fixedClock('2026-03-12T12:00:00.000Z') });
    expect(applied).toMatchObject({ applied: true, entryIds: [] });
    expect(applied.result.warnings).toContain('no customer held AAPL at the record date 2026-03-09');
    const e = await refusal(importAnnouncements(pool, revised.replace('0.25', '0.26').replace('0.91', '0.95'), 'd3.csv', ctx));
    expect(e).toMatchObject({ code: 'CORPORATE_ACTION_ALREADY_APPLIED', kind: 'conflict' });
    expect(e.details.map((d) => d.record)).toEqual(['D1']);
    expect((await getAction(pool, 'D2')).rate).toBe('0.91');
    expect(await importAnnouncements(pool, revised, 'd2.csv', ctx)).toMatchObject({ unchanged: 2 });
  });

  it('lists announcements by due date, filtered by any of their dates', async () => {
    expect((await listActions(pool)).map((a) => [a.id, a.dueDate, a.status])).toEqual([['D1', '2026-03-12', 'applied'], ['D2', '2026-04-09', 'announced']]);
    expect((await listActions(pool, { from: '2026-03-13', to: '2026-03-31' })).map((a) => a.id)).toEqual(['D2']); // record date 03-19
    expect((await listActions(pool, { from: '2026-04-10' })).map((a) => a.id)).toEqual([]);
    expect((await listActions(pool, { symbol: 'AAPL' })).map((a) => a.id)).toEqual(['D1']);
  });

  it('refuses bad withholding rates whole, and an unknown action', async () => {
    const e = await refusal(importWithholdingRates(pool, 'source_country,residence_country,rate_percent,effective_from\nUS,GB,15,2003-01-01\nus,*,130,2000-13-01\nUS,GB,10,2003-01-01\n', 'r.csv', ctx));
    expect(e.details.map((d) => [d.record, d.field, d.rule])).toEqual([
      ['r.csv line 3 (us/*/2000-13-01)', 'source_country', 'ISO_3166'],
      ['r.csv line 3 (us/*/2000-13-01)', 'rate_percent', 'PERCENT'],
      ['r.csv line 3 (us/*/2000-13-01)', 'effective_from', 'DATE'],
      ['r.csv line 4 (US/GB/2003-01-01)', 'effective_from', 'DUPLICATE'],
    ]);
    expect(await count('withholding_tax_rates')).toBe(0);
    const nf = await refusal(applyAction(pool, 'NOPE', ctx));
    expect(nf).toMatchObject({ code: 'CORPORATE_ACTION_NOT_FOUND', kind: 'not_found' });
    expect(exitCodeOf(nf)).toBe(4);
  });
});

describe('corporate-actions commands', () => {
  const run = async (...args: string[]) => {
    const out: string[] = [];
    const program = new Command('backoffice').exitOverride();
    corporateActionsCommands(program, (fn) => fn({ pool } as Db), (json, value, text) => out.push(json ? JSON.stringify(value) : text()), () => ({ actor: 'cli:test', clock: fixedClock('2026-03-20T09:00:00.000Z') }));
    await program.parseAsync(['node', 'backoffice', 'corporate-actions', ...args]);
    return out.join('\n');
  };

  it('imports, lists, previews and applies, with --json', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ca-cli-'));
    const file = path.join(dir, 'split.csv');
    fs.writeFileSync(file, fixture('split.csv'));
    expect(JSON.parse(await run('import', file, '--json'))).toEqual({ received: 1, created: 1, updated: 0, unchanged: 0, ids: ['SPLIT-MSFT-2026'] });
    const list = JSON.parse(await run('list', '--kind', 'split', '--json'));
    expect(list.map((a: { id: string; ratioNew: string; ratioOld: string }) => [a.id, a.ratioNew, a.ratioOld])).toEqual([['SPLIT-MSFT-2026', '3', '2']]);
    expect(await run('list')).toContain('3-for-2, effective 2026-03-16, fractions at 150.00');
    expect(await run('preview', 'SPLIT-MSFT-2026')).toContain('fractions at 150.00');
    const preview = JSON.parse(await run('preview', 'SPLIT-MSFT-2026', '--json'));
    expect(preview).toMatchObject({ positionsAsOf: '2026-03-15', due: true, applied: false, customers: [], entries: [] });
    expect(await run('preview', 'SPLIT-MSFT-2026')).toContain('positions as of 2026-03-15 (trade-date basis)');
    const applied = JSON.parse(await run('apply', 'SPLIT-MSFT-2026', '--json'));
    expect(applied).toMatchObject({ applied: true, alreadyApplied: false, entryIds: [] });
    expect(await run('apply', 'SPLIT-MSFT-2026')).toContain('was applied before');
    expect(await run('withholding-rates', 'list')).toBe('(none)');
  });
});
