import { describe, it, expect, beforeAll } from 'vitest';
import { Command } from 'commander';
import { testDb } from '../../../test/db.js';
import { DomainError, fixedClock, type Role } from '../../kernel/index.js';
import { closedThrough, getEntry, listAudit, openAccount, postEntries, type AccountType } from '../../ledger/index.js';
import type { Db } from '../../db/index.js';
import {
  approveAdjustment, balanceSheet, closeCommands, closeMonth, closeStatus, incomeStatement, listAdjustments, parsePeriod,
  proposeAdjustment, rejectAdjustment,
} from './index.js';

/**
 * Month-end close and adjustments after close on real books: months close in order after
 * checks, a closed month refuses postings, an adjustment is proposed by one person, refused to
 * its proposer and to a role without approval, approved by a second person and booked on the
 * first open day with the corrected period in its key and memo, all audited; reports restate it.
 */

const clock = fixedClock('2026-03-10T09:00:00.000Z');
const ctx = { actor: 'controller', clock, baseCurrency: 'USD' };
const db = await testDb();
const pool = db.pool;
const alice = { name: 'alice', role: 'finance' as Role };
const bob = { name: 'bob', role: 'finance' as Role };
const olga = { name: 'olga', role: 'operations' as Role };

const CHART: [string, AccountType][] = [
  ['assets:bank:usd', 'asset'], ['liabilities:payable:vendors', 'liability'], ['equity:capital', 'equity'],
  ['income:commissions', 'income'], ['expenses:rent', 'expense'], ['expenses:fees', 'expense'],
];
const entry = (key: string, date: string, legs: [string, string, string][]) => ({ key, date, memo: key, postings: legs.map(([account, asset, amount]) => ({ account, asset, amount })) });
const rent = (amount: string) => [{ account: 'expenses:rent', asset: 'USD', amount }, { account: 'liabilities:payable:vendors', asset: 'USD', amount: `-${amount}` }];
const err = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a refusal'); }, (e: unknown) => e as DomainError);

beforeAll(async () => {
  for (const [name, type] of CHART) await openAccount(pool, { name, type }, ctx);
  await postEntries(pool, [
    entry('cap', '2026-01-02', [['assets:bank:usd', 'USD', '50000.00'], ['equity:capital', 'USD', '-50000.00']]),
    entry('comm-jan', '2026-01-20', [['assets:bank:usd', 'USD', '4000.00'], ['income:commissions', 'USD', '-4000.00']]),
    entry('rent-jan', '2026-01-31', [['expenses:rent', 'USD', '1000.00'], ['liabilities:payable:vendors', 'USD', '-1000.00']]),
    entry('comm-feb', '2026-02-12', [['assets:bank:usd', 'USD', '3000.00'], ['income:commissions', 'USD', '-3000.00']]),
  ], ctx);
});

describe('periods', () => {
  it('refuses a month that does not exist, naming the rule', async () => {
    expect(parsePeriod('2026-02')).toEqual({ period: '2026-02', start: '2026-02-01', end: '2026-02-28' });
    expect(parsePeriod('2024-02').end).toBe('2024-02-29');
    const e = await err(closeMonth(pool, '2026-13', ctx));
    expect(e).toMatchObject({ code: 'CLOSE_PERIOD_INVALID', kind: 'invalid', details: [{ field: 'period', rule: 'MONTH_1_TO_12' }] });
    expect(e.message).toBe('period "2026-13": month 13 does not exist (01 to 12)');
    for (const bad of ['2026-1', '2026/01', '2026-00', 'January']) expect((await err(closeMonth(pool, bad, ctx))).code).toBe('CLOSE_PERIOD_INVALID');
    expect(await closedThrough(pool)).toBeNull();
  });
});

describe('month-end close', () => {
  it('closes months in order: February cannot close while January is open', async () => {
    const e = await err(closeMonth(pool, '2026-02', ctx));
    expect(e).toMatchObject({ code: 'CLOSE_PERIOD_OUT_OF_ORDER', kind: 'conflict' });
    expect(e.message).toContain('close 2026-01 first');
    expect(await closedThrough(pool)).toBeNull();
  });

  it('does not close a month that has not ended', async () => {
    const e = await err(closeMonth(pool, '2026-03', ctx));
    expect(e).toMatchObject({ code: 'CLOSE_PERIOD_NOT_ENDED', kind: 'conflict' });
    expect(e.message).toBe('2026-03 has not ended (it ends 2026-03-31; today is 2026-03-10): a month is closed after its last day');
  });

  it('closes January after its checks, records who, and then refuses postings dated in it', async () => {
    const r = await closeMonth(pool, '2026-01', ctx);
    expect(r).toMatchObject({ period: '2026-01', closedThrough: '2026-01-31', closedBy: 'controller', closedAt: '2026-03-10T09:00:00.000Z', changed: true });
    expect(r.checks.map((c) => [c.name, c.ok, c.blocking])).toEqual([
      ['trial-balance', true, true], ['audit-trail', true, true], ['stored-balances', true, true],
      ['fx-revaluation', true, false], ['pending-adjustments', true, false],
    ]);
    expect(await closedThrough(pool)).toBe('2026-01-31');
    const late = await err(postEntries(pool, [entry('late-jan', '2026-01-31', [['expenses:fees', 'USD', '5.00'], ['assets:bank:usd', 'USD', '-5.00']])], ctx));
    expect(late.kind).toBe('invalid');
    expect(late.message).toMatch(/closed/);
    // February is open.
    expect((await postEntries(pool, [entry('fee-feb', '2026-02-01', [['expenses:fees', 'USD', '5.00'], ['assets:bank:usd', 'USD', '-5.00']])], ctx))[0]!.status).toBe('posted');
    const audit = await listAudit(pool, { entity: 'accounting_closes' });
    expect(audit.map((a) => [a.actor, a.action, a.entityId])).toEqual([['controller', 'accounting.close', '2026-01']]);
    expect((await listAudit(pool, { entity: 'period_closes' }))[0]).toMatchObject({ actor: 'controller', action: 'period.close' });
  });

  it('is idempotent: closing January again changes nothing and returns its record', async () => {
    const again = await closeMonth(pool, '2026-01', { ...ctx, actor: 'someone-else' });
    expect(again).toMatchObject({ period: '2026-01', closedBy: 'controller', changed: false });
    expect((await listAudit(pool, { entity: 'accounting_closes' }))).toHaveLength(1);
    const status = await closeStatus(pool);
    expect(status).toMatchObject({ closedThrough: '2026-01-31', nextPeriod: '2026-02', pendingAdjustments: 0 });
    expect(status.closes.map((c) => c.period)).toEqual(['2026-01']);
  });
});

describe('adjustments after close', () => {
  let id = '';

  it('refuses to propose for an open period (post directly) and refuses bad entries, naming the field', async () => {
    const open = await err(proposeAdjustment(pool, { period: '2026-02', memo: 'x', postings: rent('1.00') }, { actor: 'alice', clock }));
    expect(open).toMatchObject({ code: 'CLOSE_PERIOD_OPEN', kind: 'conflict' });
    const unbalanced = await err(proposeAdjustment(pool, {
      period: '2026-01', memo: 'rent', postings: [{ account: 'expenses:rent', asset: 'USD', amount: '300.00' }, { account: 'liabilities:payable:vendors', asset: 'USD', amount: '-200.00' }],
    }, { actor: 'alice', clock }));
    expect(unbalanced).toMatchObject({ code: 'CLOSE_ADJUSTMENT_INVALID', details: [{ field: 'postings', rule: 'BALANCED' }] });
    expect(unbalanced.message).toContain('the USD postings sum to 100.00, not zero');
    const unknown = await err(proposeAdjustment(pool, {
      period: '2026-01', memo: 'rent', postings: [{ account: 'expenses:nope', asset: 'USD', amount: '300.00' }, { account: 'liabilities:payable:vendors', asset: 'USD', amount: '-300.001' }],
    }, { actor: 'alice', clock }));
    expect(unknown.details.map((d) => [d.field, d.rule])).toEqual([['postings[0].account', 'ACCOUNT_EXISTS'], ['postings[1].amount', 'DECIMAL_IN_SCALE']]);
    const outside = await err(proposeAdjustment(pool, { period: '2026-01', date: '2026-02-03', memo: 'x', postings: rent('1.00') }, { actor: 'alice', clock }));
    expect(outside).toMatchObject({ code: 'CLOSE_ADJUSTMENT_INVALID', details: [{ field: 'date', rule: 'IN_PERIOD' }] });
    expect(await listAdjustments(pool)).toEqual([]);
  });

  it('records a proposal without booking anything', async () => {
    const a = await proposeAdjustment(pool, { period: '2026-01', date: '2026-01-31', memo: 'January rent under-accrued by 300.00', postings: rent('300.00') }, { actor: 'alice', clock });
    id = a.id;
    expect(a).toMatchObject({ period: '2026-01', targetDate: '2026-01-31', status: 'proposed', proposedBy: 'alice', entryId: null, entryKey: `prior-period:2026-01:${a.id}` });
    expect(await listAdjustments(pool, { status: 'proposed' })).toHaveLength(1);
    const entries = await pool.query(`SELECT count(*)::int AS n FROM journal_entries WHERE idempotency_key LIKE 'prior-period:%'`);
    expect(entries.rows[0].n).toBe(0);
  });

  it('refuses self-approval and an approver without the permission', async () => {
    const self = await err(approveAdjustment(pool, id, alice, { clock }));
    expect(self).toMatchObject({ code: 'CLOSE_SELF_APPROVAL', kind: 'forbidden' });
    expect(self.message).toBe(`alice proposed adjustment ${id} and cannot approve it: a second person must`);
    const ops = await err(approveAdjustment(pool, id, olga, { clock }));
    expect(ops).toMatchObject({ code: 'CLOSE_NOT_AN_APPROVER', kind: 'forbidden' });
    expect((await listAdjustments(pool, { status: 'proposed' })).map((a) => a.id)).toEqual([id]);
  });

  it('is approved by a second person and booked on the first open day, with the period in key and memo', async () => {
    const a = await approveAdjustment(pool, id, bob, { clock }, 'checked against the lease');
    expect(a).toMatchObject({ status: 'posted', decidedBy: 'bob', decisionNote: 'checked against the lease', postedDate: '2026-02-01' });
    const e = await getEntry(pool, a.entryId!);
    expect(e).toMatchObject({ key: `prior-period:2026-01:${id}`, date: '2026-02-01', createdBy: 'bob' });
    expect(e.memo).toBe(`Prior-period adjustment for 2026-01 (corrects 2026-01-31; ${id}, proposed by alice, approved by bob): January rent under-accrued by 300.00`);
    expect(e.postings).toEqual(rent('300.00'));
    const trail = await listAudit(pool, { entity: 'close_adjustments', entityId: id });
    expect(trail.map((t) => [t.actor, t.action])).toEqual([['bob', 'adjustment.approve'], ['alice', 'adjustment.propose']]);
    expect(trail[0]!.data).toMatchObject({ entryId: a.entryId, postedDate: '2026-02-01', proposedBy: 'alice' });
    const twice = await err(approveAdjustment(pool, id, { name: 'admin', role: 'admin' }, { clock }));
    expect(twice).toMatchObject({ code: 'CLOSE_ADJUSTMENT_DECIDED', kind: 'conflict' });
  });

  it('is enforced by the database too: a proposal is not approved by its proposer nor changed once decided', async () => {
    const p = await proposeAdjustment(pool, { period: '2026-01', memo: 'fee', postings: rent('1.00') }, { actor: 'alice', clock });
    await expect(pool.query(
      `UPDATE close_adjustments SET status = 'posted', decided_by = proposed_by, decided_at = now(), entry_id = 'je_x', posted_date = '2026-02-01' WHERE id = $1`, [p.id],
    )).rejects.toThrow(/check constraint/);
    await expect(pool.query(`UPDATE close_adjustments SET memo = 'other' WHERE id = $1`, [id])).rejects.toThrow(/already posted/);
    await expect(pool.query(`DELETE FROM close_adjustments WHERE id = $1`, [p.id])).rejects.toThrow(/append-only/);
    // Rejected with a reason: nothing booked.
    expect((await err(rejectAdjustment(pool, p.id, bob, { clock }, ' '))).code).toBe('CLOSE_ADJUSTMENT_INVALID');
    const r = await rejectAdjustment(pool, p.id, bob, { clock }, 'duplicate of the rent accrual');
    expect(r).toMatchObject({ status: 'rejected', decidedBy: 'bob', decisionNote: 'duplicate of the rent accrual', entryId: null });
    expect((await listAudit(pool, { entity: 'close_adjustments', entityId: p.id }))[0]).toMatchObject({ actor: 'bob', action: 'adjustment.reject' });
  });

  it('restates reports: as booked the adjustment is in February, after adjustments in January', async () => {
    // January as booked: commissions 4,000 - rent 1,000 = 3,000.00; after the 300.00 adjustment: 2,700.00.
    const jan = await incomeStatement(pool, { from: '2026-01-01', to: '2026-01-31' }, 'USD');
    const janR = await incomeStatement(pool, { from: '2026-01-01', to: '2026-01-31', afterAdjustments: true }, 'USD');
    expect(jan.totals.netIncome).toBe('3000.00');
    expect(janR.totals).toEqual({ income: '4000.00', expenses: '1300.00', netIncome: '2700.00' });
    expect(janR.adjustments.map((a) => [a.id, a.targetDate, a.postedDate])).toEqual([[id, '2026-01-31', '2026-02-01']]);
    // February as booked: commissions 3,000 - fees 5 - the adjustment 300 = 2,695.00; restated: 2,995.00.
    const feb = await incomeStatement(pool, { from: '2026-02-01', to: '2026-02-28' }, 'USD');
    const febR = await incomeStatement(pool, { from: '2026-02-01', to: '2026-02-28', afterAdjustments: true }, 'USD');
    expect([feb.totals.netIncome, febR.totals.netIncome]).toEqual(['2695.00', '2995.00']);
    // The balance sheet at the closed month-end: payables 1,000.00 as booked, 1,300.00 after adjustments; both balance.
    const bs = await balanceSheet(pool, { asOf: '2026-01-31' }, 'USD');
    const bsR = await balanceSheet(pool, { asOf: '2026-01-31', afterAdjustments: true }, 'USD');
    expect([bs.totals.liabilities, bsR.totals.liabilities]).toEqual(['1000.00', '1300.00']);
    expect([bs.totals.equity, bsR.totals.equity]).toEqual(['53000.00', '52700.00']);
    expect(bs.check.balanced && bsR.check.balanced).toBe(true);
    expect(bsR.afterAdjustments).toBe(true);
  });

  it('books an adjustment approved after a later close on the new first open day', async () => {
    const p = await proposeAdjustment(pool, { period: '2026-01', date: '2026-01-15', memo: 'fee missed', postings: [{ account: 'expenses:fees', asset: 'USD', amount: '20.00' }, { account: 'assets:bank:usd', asset: 'USD', amount: '-20.00' }] }, { actor: 'bob', clock });
    const feb = await closeMonth(pool, '2026-02', ctx);
    expect(feb.checks.find((c) => c.name === 'pending-adjustments')).toMatchObject({ ok: false, blocking: false, detail: '1 adjustment(s) wait for approval' });
    const a = await approveAdjustment(pool, p.id, alice, { clock });
    expect(a.postedDate).toBe('2026-03-01');
  });
});

describe('a close that fails its checks', () => {
  it('refuses to close when the books were changed behind the application, and closes nothing', async () => {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('SET LOCAL session_replication_role = replica');
      const r = await c.query(`UPDATE postings SET amount = amount + 100 WHERE entry_seq = (SELECT seq FROM journal_entries WHERE idempotency_key = 'comm-feb') AND line = 0`);
      expect(r.rowCount).toBe(1);
      await c.query('COMMIT');
    } finally {
      c.release();
    }
    const april = { ...ctx, clock: fixedClock('2026-04-02T09:00:00.000Z') };
    const e = await err(closeMonth(pool, '2026-03', april));
    expect(e).toMatchObject({ code: 'CLOSE_CHECK_FAILED', kind: 'unexpected_state' });
    // The trial balance no longer balances in USD (one posting is 1.00 larger), the audit trail sees the edit, the stored balance differs.
    expect(e.details.map((d) => d.field)).toEqual(['trial-balance', 'audit-trail', 'stored-balances']);
    expect(e.details[0]!.message).toContain('does not balance in USD');
    expect(await closedThrough(pool)).toBe('2026-02-28');
    expect((await closeStatus(pool)).closes.map((x) => x.period)).toEqual(['2026-02', '2026-01']);
  });
});

describe('the close command', () => {
  const run = async (...args: string[]) => {
    const program = new Command().exitOverride();
    const out: string[] = [];
    const withDb = async <T>(fn: (d: Db) => Promise<T>) => fn({ pool } as Db);
    closeCommands(program, withDb, (json, value, text) => out.push(json ? JSON.stringify(value) : text()), () => ({
      ...ctx, lookupUser: async (_p, name) => ({ name, role: (name === 'olga' ? 'operations' : 'finance') as Role }),
    }));
    await program.parseAsync(['node', 'backoffice', ...args]);
    return out.join('\n');
  };

  it('reports an already closed month, and refuses 2026-13 by its rule', async () => {
    const json = JSON.parse(await run('close', 'period', '2026-02', '--json'));
    expect(json).toMatchObject({ period: '2026-02', closedThrough: '2026-02-28', changed: false });
    await expect(run('close', 'period', '2026-13')).rejects.toMatchObject({ code: 'CLOSE_PERIOD_INVALID' });
  });

  it('proposes with --posting, and a different --user approves', async () => {
    const proposed = JSON.parse(await run('close', 'adjustments', 'propose', '--period', '2026-02', '--memo', 'bank fee', '--posting', 'expenses:fees USD 7.50', '--posting', 'assets:bank:usd USD -7.50', '--user', 'carol', '--json'));
    expect(proposed).toMatchObject({ status: 'proposed', proposedBy: 'carol', targetDate: '2026-02-28' });
    await expect(run('close', 'adjustments', 'approve', proposed.id, '--user', 'carol')).rejects.toMatchObject({ code: 'CLOSE_SELF_APPROVAL' });
    await expect(run('close', 'adjustments', 'approve', proposed.id, '--user', 'olga')).rejects.toMatchObject({ code: 'CLOSE_NOT_AN_APPROVER' });
    const text = await run('close', 'adjustments', 'approve', proposed.id, '--user', 'dave');
    expect(text).toContain('approved by dave');
    expect(text).toContain('dated 2026-03-01');
  });

  it('checks the role of the acting user (--as, or its alias --user) for every change', async () => {
    // olga is operations: no accounting.close, so she may not close, revalue or propose (rates import: the e2e test).
    for (const args of [['close', 'period', '2026-02'], ['fx', 'revalue', '--as-of', '2026-02-28'],
      ['close', 'adjustments', 'propose', '--period', '2026-02', '--memo', 'x', '--posting', 'expenses:fees USD 1.00', '--posting', 'assets:bank:usd USD -1.00']]) {
      await expect(run(...args, '--as', 'olga')).rejects.toMatchObject({ code: 'ACCOUNTING_NOT_ALLOWED', kind: 'forbidden' });
      await expect(run(...args, '--user', 'olga')).rejects.toMatchObject({ code: 'ACCOUNTING_NOT_ALLOWED', kind: 'forbidden' });
    }
    expect(await listAdjustments(pool, { status: 'proposed' })).toEqual([]);
    // finance may; --as is recorded as the actor.
    const p = JSON.parse(await run('close', 'adjustments', 'propose', '--period', '2026-02', '--memo', 'fee', '--posting', 'expenses:fees USD 1.00', '--posting', 'assets:bank:usd USD -1.00', '--as', 'carol', '--json'));
    expect(p.proposedBy).toBe('carol');
    await expect(run('close', 'adjustments', 'approve', p.id)).rejects.toMatchObject({ code: 'ACCOUNTING_ARGUMENT_INVALID', kind: 'invalid' });
    await expect(run('close', 'adjustments', 'approve', p.id, '--as', 'dave', '--user', 'erin')).rejects.toMatchObject({ code: 'ACCOUNTING_ARGUMENT_INVALID' });
    expect(await run('close', 'adjustments', 'reject', p.id, '--as', 'dave', '--reason', 'test')).toContain('rejected by dave');
  });
});
