import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import { testDb } from '../../../test/db.js';
import { DomainError, fixedClock } from '../../kernel/index.js';
import { balances, listAudit, openAccount, postEntries, verifyAudit, type AccountType } from '../../ledger/index.js';
import { closeMonth, importFxRates, listFxRates, listRevaluations, planRevaluation, revalueFx } from './index.js';

/**
 * FX rates and revaluation on real books: rates imported from CSV (idempotent, bad rows named,
 * used rates locked), and revaluation over two month-ends with the rates moving (gains in
 * January, losses in February), re-runs that book nothing, and a late posting that makes a
 * second run book only the difference. Every number is worked by hand in the comments.
 */

const clock = fixedClock('2026-03-05T10:00:00.000Z');
const ctx = { actor: 'controller', clock, baseCurrency: 'USD' };
const db = await testDb();
const pool = db.pool;
const fixture = (f: string) => fs.readFileSync(`test/fixtures/accounting/${f}`, 'utf8');

const CHART: [string, AccountType][] = [
  ['assets:bank:eur', 'asset'], ['assets:bank:gbp', 'asset'], ['assets:bank:chf', 'asset'], ['customers:C9:cash', 'liability'],
  ['equity:capital', 'equity'], ['income:other', 'income'],
];
const entry = (key: string, date: string, legs: [string, string, string][]) => ({ key, date, memo: key, postings: legs.map(([account, asset, amount]) => ({ account, asset, amount })) });
const balanceOf = async (account: string, asset = 'USD') => (await balances(pool, { account })).find((b) => b.account === account && b.asset === asset)?.balance ?? '0.00';
const count = async (t: string) => Number((await pool.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n);

beforeAll(async () => {
  for (const [name, type] of CHART) await openAccount(pool, { name, type, owner: name.startsWith('customers:') ? 'C9' : 'firm' }, ctx);
  await postEntries(pool, [
    // EUR capital at the 2025-12-31 rate 1.10: historical 11,000.00 USD.
    entry('cap-eur', '2026-01-05', [['assets:bank:eur', 'EUR', '10000.00'], ['equity:capital', 'EUR', '-10000.00']]),
    // GBP capital at 1.27: 1,270.00 USD.
    entry('cap-gbp', '2026-01-10', [['assets:bank:gbp', 'GBP', '1000.00'], ['equity:capital', 'GBP', '-1000.00']]),
    // A customer's EUR deposit at the 2026-01-15 rate 1.08: 2,160.00 USD each side.
    entry('dep-c9', '2026-01-20', [['assets:bank:eur', 'EUR', '2000.00'], ['customers:C9:cash', 'EUR', '-2000.00']]),
  ], ctx);
});

describe('FX rates from CSV', () => {
  it('imports the rates, all of them, and a second import changes nothing', async () => {
    const first = await importFxRates(pool, fixture('fx-rates-2026q1.csv'), 'fx-rates-2026q1.csv', ctx);
    expect(first).toEqual({ received: 7, created: 7, updated: 0, unchanged: 0 });
    const again = await importFxRates(pool, fixture('fx-rates-2026q1.csv'), 'fx-rates-2026q1.csv', ctx);
    expect(again).toEqual({ received: 7, created: 0, updated: 0, unchanged: 7 });
    // "1.1000" and "1.1" are the same rate: unchanged, not a correction.
    expect(await importFxRates(pool, 'date,currency,base_currency,rate\n2026-01-15,EUR,USD,1.08\n', 'same.csv', ctx)).toMatchObject({ unchanged: 1, updated: 0 });
    const eur = await listFxRates(pool, { base: 'USD', currency: 'EUR' });
    expect(eur.map((r) => [r.date, r.rate])).toEqual([['2026-02-27', '1.05'], ['2026-01-30', '1.12'], ['2026-01-15', '1.08'], ['2025-12-31', '1.1']]);
    const audit = await listAudit(pool, { entity: 'fx_rates', limit: 100 });
    expect(audit).toHaveLength(7);
    expect(audit.every((a) => a.action === 'fx.rate.add' && a.actor === 'controller')).toBe(true);
  });

  it('refuses a bad file whole, naming each bad row, field and rule', async () => {
    const before = await count('fx_rates');
    const err = await importFxRates(pool, fixture('fx-rates-bad.csv'), 'fx-rates-bad.csv', ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: 'FX_RATES_INVALID', kind: 'invalid' });
    const d = (err as DomainError).details.map((x) => [x.record, x.field, x.rule]);
    expect(d).toEqual([
      ['fx-rates-bad.csv line 3 (EUR 2026-13-01)', 'date', 'DATE'],
      ['fx-rates-bad.csv line 4 (ABC 2026-01-30)', 'currency', 'ISO_4217'],
      ['fx-rates-bad.csv line 5 (GBP 2026-01-30)', 'base_currency', 'BASE_CURRENCY'],
      ['fx-rates-bad.csv line 6 (CHF 2026-01-30)', 'rate', 'POSITIVE_DECIMAL'],
      ['fx-rates-bad.csv line 7 (EUR 2026-01-30)', 'date', 'DUPLICATE'],
      ['fx-rates-bad.csv line 8 (USD 2026-01-30)', 'currency', 'NOT_BASE'],
      ['fx-rates-bad.csv line 9 (JPY 2026-01-30)', 'rate', 'POSITIVE_DECIMAL'],
    ]);
    expect((err as DomainError).details[4]!.message).toBe('fx-rates-bad.csv line 7 (EUR 2026-01-30): date: EUR on 2026-01-30 is already given on line 2');
    expect((err as DomainError).details[2]!.message).toContain('is not the firm\'s base currency USD');
    // The good row on line 2 (a change of EUR 2026-01-30 to 1.12, the same as stored) wrote nothing either.
    expect(await count('fx_rates')).toBe(before);
    const missingColumn = await importFxRates(pool, 'date,currency,rate\n2026-01-30,EUR,1.1\n', 'cols.csv', ctx).catch((e: unknown) => e);
    expect(missingColumn).toMatchObject({ code: 'FX_RATES_INVALID', details: [{ field: 'base_currency', rule: 'REQUIRED_COLUMN' }] });
  });

  it('lets an unused rate of an open period be corrected, audited with the previous rate', async () => {
    const r = await importFxRates(pool, 'date,currency,base_currency,rate\n2026-03-02,GBP,USD,1.2600\n', 'a.csv', ctx);
    expect(r.created).toBe(1);
    const c = await importFxRates(pool, 'date,currency,base_currency,rate\n2026-03-02,GBP,USD,1.2650\n', 'b.csv', ctx);
    expect(c).toEqual({ received: 1, created: 0, updated: 1, unchanged: 0 });
    const [last] = await listAudit(pool, { entity: 'fx_rates', entityId: 'GBP/USD/2026-03-02' });
    expect(last).toMatchObject({ action: 'fx.rate.correct', data: { rate: '1.265', previous: '1.26' } });
  });
});

describe('FX revaluation', () => {
  it('books the January gains and losses against income:fx:unrealized', async () => {
    // Rates on or before 2026-01-31: EUR 1.12, GBP 1.30 (both dated 2026-01-30).
    // assets:bank:eur   12,000.00 EUR: historical 11,000.00 + 2,160.00 = 13,160.00; at 1.12 = 13,440.00: +280.00 (gain)
    // customers:C9:cash -2,000.00 EUR: historical -2,160.00; at 1.12 = -2,240.00: -80.00 (a larger liability: loss)
    // assets:bank:gbp    1,000.00 GBP: historical 1,270.00; at 1.30 = 1,300.00: +30.00 (gain)
    // Net: 280 - 80 + 30 = 230.00 of gain.
    const run = await revalueFx(pool, '2026-01-31', ctx);
    expect(run).toMatchObject({ asOf: '2026-01-31', base: 'USD', posted: 3, unchanged: 0, gain: '230.00' });
    expect(run.lines.map((l) => [l.account, l.currency, l.balance, l.rate, l.rateDate, l.carryingBefore, l.target, l.delta, l.status])).toEqual([
      ['assets:bank:eur', 'EUR', '12000.00', '1.12', '2026-01-30', '13160.00', '13440.00', '280.00', 'posted'],
      ['assets:bank:gbp', 'GBP', '1000.00', '1.3', '2026-01-30', '1270.00', '1300.00', '30.00', 'posted'],
      ['customers:C9:cash', 'EUR', '-2000.00', '1.12', '2026-01-30', '-2160.00', '-2240.00', '-80.00', 'posted'],
    ]);
    expect(await balanceOf('assets:bank:eur:fx-revaluation:EUR')).toBe('280.00');
    expect(await balanceOf('customers:C9:cash:fx-revaluation:EUR')).toBe('-80.00');
    expect(await balanceOf('assets:bank:gbp:fx-revaluation:GBP')).toBe('30.00');
    expect(await balanceOf('income:fx:unrealized')).toBe('-230.00');
    // The native balances are untouched: EUR stays EUR.
    expect(await balanceOf('assets:bank:eur', 'EUR')).toBe('12000.00');
    // The contra account of a customer's account belongs to the customer, like the account.
    const owner = await pool.query(`SELECT owner, type FROM accounts WHERE name = 'customers:C9:cash:fx-revaluation:EUR'`);
    expect(owner.rows[0]).toEqual({ owner: 'C9', type: 'liability' });
  });

  it('changes nothing when run again for the same date', async () => {
    const entries = await count('journal_entries');
    const run = await revalueFx(pool, '2026-01-31', ctx);
    expect(run).toMatchObject({ posted: 0, unchanged: 3, gain: '0.00' });
    expect(run.lines.every((l) => l.delta === '0.00' && l.entryId === null)).toBe(true);
    expect(await count('journal_entries')).toBe(entries);
    expect(await count('fx_revaluations')).toBe(3);
  });

  it('refuses to change a rate that a booked revaluation used', async () => {
    const err = await importFxRates(pool, 'date,currency,base_currency,rate\n2026-01-30,EUR,USD,1.15\n', 'late.csv', ctx).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FX_RATE_LOCKED', kind: 'conflict', details: [{ record: 'late.csv line 2 (EUR 2026-01-30)', field: 'rate', rule: 'USED_BY_REVALUATION' }] });
    expect((await listFxRates(pool, { base: 'USD', currency: 'EUR', to: '2026-01-30', from: '2026-01-30' }))[0]!.rate).toBe('1.12');
  });

  it('books only the February difference when the rates fall: losses on assets, a gain on the liability', async () => {
    // A withdrawal on 2026-02-10 at the rate on or before it, 1.12: 560.00 USD each side.
    await postEntries(pool, [entry('wd-c9', '2026-02-10', [['customers:C9:cash', 'EUR', '500.00'], ['assets:bank:eur', 'EUR', '-500.00']])], ctx);
    // Rates on or before 2026-02-28: EUR 1.05, GBP 1.25 (2026-02-27).
    // assets:bank:eur   11,500.00 EUR: carrying 13,160.00 - 560.00 + 280.00 (booked) = 12,880.00; at 1.05 = 12,075.00: -805.00
    // customers:C9:cash -1,500.00 EUR: carrying -2,160.00 + 560.00 - 80.00 = -1,680.00; at 1.05 = -1,575.00: +105.00
    // assets:bank:gbp    1,000.00 GBP: carrying 1,270.00 + 30.00 = 1,300.00; at 1.25 = 1,250.00: -50.00
    // Net: -805 + 105 - 50 = -750.00, a loss.
    const run = await revalueFx(pool, '2026-02-28', ctx);
    expect(run).toMatchObject({ posted: 3, unchanged: 0, gain: '-750.00' });
    expect(run.lines.map((l) => [l.account, l.carryingBefore, l.target, l.delta])).toEqual([
      ['assets:bank:eur', '12880.00', '12075.00', '-805.00'],
      ['assets:bank:gbp', '1300.00', '1250.00', '-50.00'],
      ['customers:C9:cash', '-1680.00', '-1575.00', '105.00'],
    ]);
    // Cumulative: 280 - 805 = -525 = 11,500 x 1.05 - historical 12,600.
    expect(await balanceOf('assets:bank:eur:fx-revaluation:EUR')).toBe('-525.00');
    expect(await balanceOf('customers:C9:cash:fx-revaluation:EUR')).toBe('25.00');
    expect(await balanceOf('assets:bank:gbp:fx-revaluation:GBP')).toBe('-20.00');
    // January's 230.00 gain less February's 750.00 loss: a 520.00 debit.
    expect(await balanceOf('income:fx:unrealized')).toBe('520.00');
    expect((await revalueFx(pool, '2026-02-28', ctx)).posted).toBe(0);
  });

  it('books the difference in a second run when a posting lands in the month after the first', async () => {
    // 100.00 GBP on 2026-02-20 at the rate on or before it (1.30): 130.00.
    // carrying: 1,250.00 + 130.00 = 1,380.00; 1,100.00 GBP at 1.25 = 1,375.00: -5.00, run 2 of 2026-02-28.
    await postEntries(pool, [entry('gbp-late', '2026-02-20', [['assets:bank:gbp', 'GBP', '100.00'], ['income:other', 'GBP', '-100.00']])], ctx);
    const plan = (await planRevaluation(pool, '2026-02-28', 'USD')).filter((p) => p.delta !== 0n);
    expect(plan.map((p) => [p.account, p.delta])).toEqual([['assets:bank:gbp', -500n]]);
    const run = await revalueFx(pool, '2026-02-28', ctx);
    expect(run).toMatchObject({ posted: 1, unchanged: 2, gain: '-5.00' });
    const revs = await listRevaluations(pool, { asOf: '2026-02-28', account: 'assets:bank:gbp' });
    expect(revs.map((r) => [r.run, r.delta])).toEqual([[1, '-50.00'], [2, '-5.00']]);
    const keys = await pool.query(`SELECT idempotency_key FROM journal_entries WHERE idempotency_key LIKE 'fx-revaluation:2026-02-28:assets:bank:gbp:%' ORDER BY 1`);
    expect(keys.rows.map((r) => r.idempotency_key)).toEqual(['fx-revaluation:2026-02-28:assets:bank:gbp:GBP:1', 'fx-revaluation:2026-02-28:assets:bank:gbp:GBP:2']);
    const audit = await listAudit(pool, { entity: 'fx_revaluations', entityId: '2026-02-28/assets:bank:gbp/GBP/2' });
    expect(audit[0]).toMatchObject({ actor: 'controller', action: 'fx.revalue', data: { delta: '-5.00', carryingBefore: '1380.00', target: '1375.00' } });
  });

  it('refuses to revalue a closed date, and rates of a closed period are fixed', async () => {
    const closed = await closeMonth(pool, '2026-01', ctx);
    expect(closed).toMatchObject({ changed: true, closedThrough: '2026-01-31' });
    // Revalued before closing: the close found nothing left to revalue.
    expect(closed.checks.find((c) => c.name === 'fx-revaluation')).toMatchObject({ ok: true });
    const err = await revalueFx(pool, '2026-01-31', ctx).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CLOSE_PERIOD_CLOSED', kind: 'conflict' });
    expect((err as DomainError).message).toContain('closed through 2026-01-31');
    const rate = await importFxRates(pool, 'date,currency,base_currency,rate\n2026-01-20,EUR,USD,1.09\n', 'old.csv', ctx).catch((e: unknown) => e);
    expect(rate).toMatchObject({ code: 'FX_RATE_LOCKED', details: [{ field: 'date', rule: 'PERIOD_CLOSED' }] });
  });

  it('names the currency and date when a rate is missing, and books nothing', async () => {
    await postEntries(pool, [entry('chf', '2026-03-02', [['assets:bank:chf', 'CHF', '50.00'], ['equity:capital', 'CHF', '-50.00']])], ctx);
    const entries = await count('journal_entries');
    const err = await revalueFx(pool, '2026-03-31', ctx).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FX_RATE_MISSING', details: [{ record: 'CHF 2026-03-02', field: 'rate' }] });
    expect((err as DomainError).message).toContain('no CHF rate in USD on or before 2026-03-02 (needed for assets:bank:chf)');
    expect(await count('journal_entries')).toBe(entries);
    expect((await verifyAudit(pool)).ok).toBe(true);
  });
});
