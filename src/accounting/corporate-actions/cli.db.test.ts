/**
 * `backoffice corporate-actions ... --as USER`: the acting Backoffice user is checked (active, role
 * with corporate-actions.manage) and named in the audit; one who may not is refused with exit 6 and
 * nothing changes.
 *
 * MSFT continues as MSFX from 2026-03-16; C1003 bought 10 MSFT on 03-04 (settled), so applying the
 * change moves a real position by one entry.
 */
import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { Kysely, PostgresDialect } from 'kysely';
import { testDb } from '../../../test/db.js';
import { importTradingReference } from '../../../test/trading-reference.js';
import type { Db, Schema } from '../../db/index.js';
import { DomainError, exitCodeOf, fixedClock } from '../../kernel/index.js';
import { balances, verifyAudit } from '../../ledger/index.js';
import { importExecutions } from '../../trading/index.js';
import { addUser, setDisabled } from '../../users/index.js';
import { corporateActionsCommands } from './cli.js';
import { settleDate } from './test-support.js';

const tdb = await testDb();
const pool = tdb.pool;
const db: Db = { pool, kysely: new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) }), where: 'test', close: async () => {} };
const setupCtx = { actor: 'setup', clock: fixedClock('2026-03-04T12:00:00.000Z') };
const clock = fixedClock('2026-03-16T09:00:00.000Z');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ca-cli-'));
const file = (name: string, text: string) => { const p = path.join(dir, name); fs.writeFileSync(p, text); return p; };

afterEach(() => { process.exitCode = undefined; });

/** Runs `backoffice corporate-actions ...args` as the OS user cli:tester: output, the exit code. */
async function ca(...args: string[]): Promise<{ out: string; code: number; error?: DomainError }> {
  let out = '';
  const program = new Command('backoffice').exitOverride();
  corporateActionsCommands(program, (fn) => fn(db), (json, value, text) => { out += (json ? JSON.stringify(value) : text()) + '\n'; }, () => ({ actor: 'cli:tester', clock }));
  process.exitCode = undefined;
  try {
    await program.parseAsync(['node', 'backoffice', 'corporate-actions', ...args]);
  } catch (e) {
    if (e instanceof DomainError) return { out: `${e.code}: ${e.message}`, code: exitCodeOf(e), error: e };
    throw e;
  }
  return { out, code: Number(process.exitCode ?? 0) };
}

const audits = async (action: string) =>
  (await pool.query<{ actor: string; entity_id: string }>('SELECT actor, entity_id FROM audit_log WHERE action = $1 ORDER BY seq', [action])).rows;
const status = async (id: string) =>
  (await pool.query<{ status: string; applied_by: string | null }>('SELECT status, applied_by FROM corporate_actions WHERE id = $1', [id])).rows[0];
const held = async (asset: string) => Object.fromEntries((await balances(pool, {})).filter((b) => b.account.startsWith('customers:C1003') && b.asset === asset).map((b) => [b.account, b.balance]));

beforeAll(async () => {
  await importTradingReference(pool, setupCtx);
  const r = await importExecutions(pool, [
    'exec_id,account,symbol,side,quantity,price,trade_date,counterparty,currency',
    'M1,C1003,MSFT,buy,10,400.00,2026-03-04,GSCO,USD',
  ].join('\n'), setupCtx, { format: 'csv', source: 'test' });
  expect(r).toMatchObject({ booked: 1, quarantined: [] });
  await settleDate(pool, '2026-03-05', setupCtx);
  await addUser(pool, { name: 'opsanna', role: 'operations' }, setupCtx);
  await addUser(pool, { name: 'finbob', role: 'finance' }, setupCtx);
  await addUser(pool, { name: 'oldops', role: 'operations' }, setupCtx);
  await setDisabled(pool, 'oldops', true, setupCtx);
});

describe('corporate-actions --as', () => {
  const announcement = file('changes.csv', [
    'id,kind,symbol,effective_date,new_symbol,new_isin,new_cusip,new_name,description',
    'SC-MSFT,symbol_change,MSFT,2026-03-16,MSFX,,,Microsoft (new ticker),ticker change',
  ].join('\n'));

  it('import --as: a role without corporate-actions.manage is refused (exit 6, nothing stored); with it the audit names the user', async () => {
    const refused = await ca('import', announcement, '--as', 'finbob');
    expect(refused.code).toBe(6);
    expect(refused.error?.code).toBe('CORPORATE_ACTION_NOT_ALLOWED');
    expect(refused.out).toContain('role finance may not do this (needs corporate-actions.manage)');
    expect(await status('SC-MSFT')).toBeUndefined();

    const ok = await ca('import', announcement, '--as', 'opsanna', '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ created: 1, ids: ['SC-MSFT'] });
    expect(await audits('corporate_action.announce')).toEqual([{ actor: 'opsanna', entity_id: 'SC-MSFT' }]);
  });

  it('apply --as: refused for a finance user, an unknown and a disabled user (exit 6, nothing posted); an operations user applies it and is audited', async () => {
    const before = await held('MSFT');
    expect(Object.values(before)).toEqual(['-10']); // the customer's securities account: a credit balance
    for (const who of ['finbob', 'nobody', 'oldops']) {
      const r = await ca('apply', 'SC-MSFT', '--as', who);
      expect(r.code, who).toBe(6);
      expect(r.error?.kind, who).toBe('forbidden');
    }
    expect(await status('SC-MSFT')).toEqual({ status: 'announced', applied_by: null });
    expect(await audits('corporate_action.apply')).toEqual([]);
    expect(await held('MSFT')).toEqual(before);
    expect(await held('MSFX')).toEqual({});

    const ok = await ca('apply', 'SC-MSFT', '--as', 'opsanna', '--json');
    expect(ok.code).toBe(0);
    const r = JSON.parse(ok.out) as { applied: boolean; entryIds: string[]; result: { action: { appliedBy: string } } };
    expect(r.applied).toBe(true);
    expect(r.entryIds).toHaveLength(1);
    expect(r.result.action.appliedBy).toBe('opsanna');
    expect(await status('SC-MSFT')).toEqual({ status: 'applied', applied_by: 'opsanna' });
    expect(await audits('corporate_action.apply')).toEqual([{ actor: 'opsanna', entity_id: 'SC-MSFT' }]);
    expect(Object.values(await held('MSFX'))).toEqual(['-10']);
    expect(Object.values(await held('MSFT')).filter((v) => v !== '0')).toEqual([]);
    expect((await verifyAudit(pool)).ok).toBe(true);
  });

  it('without --as the OS user acts, unchecked; withholding-rates import --as is checked the same way', async () => {
    const rates = file('rates.csv', 'source_country,residence_country,rate_percent,effective_from\nUS,*,30,2000-01-01\n');
    expect((await ca('withholding-rates', 'import', rates, '--as', 'finbob')).code).toBe(6);
    expect(await audits('withholding_rate.add')).toEqual([]);
    expect((await ca('withholding-rates', 'import', rates)).code).toBe(0);
    expect(await audits('withholding_rate.add')).toEqual([{ actor: 'cli:tester', entity_id: 'US/*/2000-01-01' }]);
  });
});
