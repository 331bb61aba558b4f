/**
 * A cash dividend end to end in the books: trades booked through trading, settled or failed
 * through settlement, the announcement imported from CSV, previewed, applied on the pay date.
 *
 * AAPL pays 0.2575 USD a share; ex-date and record date 2026-03-09 (T+1), pay date 2026-03-12.
 * Withholding rates (test/fixtures/corporate-actions/withholding-rates.csv): US on GB residents
 * 15%, on residents of countries without a treaty row (here BR) 30%; US residents nothing.
 *
 * Trades (commission 0.005 a share, minimum 1.00; sales pay SEC fee and FINRA TAF):
 *   C1003 (US) buy 300 @ 189.00 on 03-03 from GSCO, settles 03-04: settled
 *   C1001 (US) buy 101 @ 190.00 on 03-04 from GSCO, settles 03-05: settled
 *   C2001 (BR) buy  77 @ 190.00 on 03-05 from GSCO, settles 03-06: settled
 *   C1002 (GB) buy 200 @ 191.00 on 03-05 from NSCC, settles 03-06: NSCC FAILS to deliver
 *   C1003 (US) sell 120 @ 195.00 on 03-06 to GSCO, settles 03-09: we FAIL to deliver
 *   C1001 (US) buy  10 @ 191.00 on 03-09 (the ex-date) from GSCO, settles 03-10: not entitled
 *
 * Entitlement (settlement-date positions at the end of 03-09), gross = shares x 0.2575 rounded
 * down per account, tax rounded half up:
 *   C1001 101 -> 26.0075 -> 26.00, tax 0            net 26.00
 *   C1002 200 -> 51.50,  15% = 7.725 -> 7.73         net 43.77  (its purchase failed: still entitled)
 *   C1003 180 -> 46.35 (300 - 120: its sale settled by contract on 03-09), net 46.35
 *   C2001  77 -> 19.8275 -> 19.82, 30% = 5.946 -> 5.95, net 13.87
 *   558 shares, gross 143.67, tax 13.68, net 129.99.
 * The firm's side (the ledger at the end of 03-09):
 *   depository (DTC) 300 + 101 + 77 = 478 -> 123.085 -> 123.08 receivable from DTC
 *   NSCC still owes us 200 (fail to receive): claim receivable 51.50
 *   GSCO is owed 120 (our fail to deliver; its +10 of 03-09 is not due yet): claim payable 30.90
 *   478 + 200 - 120 = 558 shares = the customers'; cash 123.08 + 51.50 - 30.90 = 143.68, one cent
 *   more than the customers' 143.67: the cent of rounding is the firm's (income, credit 0.01).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import { testDb } from '../../../test/db.js';
import { importTradingReference } from '../../../test/trading-reference.js';
import { DomainError, fixedClock } from '../../kernel/index.js';
import { balances, closePeriod, getEntriesByKey, trialBalance, verifyAudit } from '../../ledger/index.js';
import { importCustomerAccounts } from '../../reference/index.js';
import { importExecutions } from '../../trading/index.js';
import { applyAction, getAction, importAnnouncements, importWithholdingRates, listActions, previewAction } from './index.js';
import { settleDate } from './test-support.js';

const at = (iso: string) => ({ actor: 'asset-servicing', clock: fixedClock(iso) });
const ctx = at('2026-03-10T12:00:00.000Z');
const db = await testDb();
const pool = db.pool;
const fixture = (f: string) => fs.readFileSync(`test/fixtures/corporate-actions/${f}`, 'utf8');
const ID = 'DIV-AAPL-2026Q1';

const bal = async (account: string, asset = 'USD') =>
  (await balances(pool, { account })).find((b) => b.account === account && b.asset === asset)?.balance ?? '0.00';
const count = async (table: string) => (await pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n as number;

beforeAll(async () => {
  await importTradingReference(pool, ctx);
  await importCustomerAccounts(pool, 'account,name,type,currency,tax_residency\nC2001,Dana Example,cash,USD,BR\n', 'accounts.csv', ctx);
  const r = await importExecutions(pool, [
    'exec_id,account,symbol,side,quantity,price,trade_date,counterparty,currency',
    'X1,C1003,AAPL,buy,300,189.00,2026-03-03,GSCO,USD',
    'X2,C1001,AAPL,buy,101,190.00,2026-03-04,GSCO,USD',
    'X3,C2001,AAPL,buy,77,190.00,2026-03-05,GSCO,USD',
    'X4,C1002,AAPL,buy,200,191.00,2026-03-05,NSCC,USD',
    'X5,C1003,AAPL,sell,120,195.00,2026-03-06,GSCO,USD',
    'X6,C1001,AAPL,buy,10,191.00,2026-03-09,GSCO,USD',
  ].join('\n'), ctx, { format: 'csv', source: 'test' });
  expect(r).toMatchObject({ booked: 6, quarantined: [] });
  await settleDate(pool, '2026-03-04', ctx);
  await settleDate(pool, '2026-03-05', ctx);
  await settleDate(pool, '2026-03-06', ctx, (cp) => cp === 'NSCC');
  // NSCC's fail of 03-06 is carried into the net of 03-09 and fails again.
  await settleDate(pool, '2026-03-09', ctx, () => true);
  expect(await importAnnouncements(pool, fixture('dividend.csv'), 'dividend.csv', ctx)).toEqual({ received: 1, created: 1, updated: 0, unchanged: 0, ids: [ID] });
});

describe('cash dividend', () => {
  it('starts from the books the settlement left: depository, open fails both ways', async () => {
    // Per holder (a counterparty's street side and its fail accounts together).
    const held = new Map<string, number>();
    for (const b of await balances(pool, { asOf: '2026-03-09' })) {
      if (b.asset !== 'AAPL') continue;
      const k = b.account.replace(/^(assets:street|assets:fails:to-receive|liabilities:fails:to-deliver):/, 'counterparty:');
      held.set(k, (held.get(k) ?? 0) + Number(b.balance));
    }
    expect(Object.fromEntries(held)).toEqual({
      'assets:depository:dtc': 478,
      'counterparty:GSCO': -110, // -120 we failed to deliver, +10 bought on 03-09 (due 03-10)
      'counterparty:NSCC': 200, // NSCC failed to deliver
      'customers:C1001:securities': -111, 'customers:C1002:securities': -200, 'customers:C1003:securities': -180, 'customers:C2001:securities': -77,
    });
  });

  it('refuses to preview the payment when a non-resident has no withholding rate, and apply refuses too', async () => {
    const p = await previewAction(pool, ID, at('2026-03-12T15:00:00.000Z'));
    expect(p.problems.map((x) => [x.record, x.rule])).toEqual([['C1002', 'WITHHOLDING_RATE_MISSING'], ['C2001', 'WITHHOLDING_RATE_MISSING']]);
    const err = await applyAction(pool, ID, at('2026-03-12T15:00:00.000Z')).catch((e) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: 'CORPORATE_ACTION_CANNOT_APPLY', kind: 'unexpected_state' });
    expect(err.message).toContain('no withholding rate of US for GB');
    expect((await getAction(pool, ID)).status).toBe('announced');
    expect(await importWithholdingRates(pool, fixture('withholding-rates.csv'), 'withholding-rates.csv', ctx)).toEqual({ received: 5, created: 5, updated: 0, unchanged: 0 });
    expect(await importWithholdingRates(pool, fixture('withholding-rates.csv'), 'withholding-rates.csv', ctx)).toEqual({ received: 5, created: 0, updated: 0, unchanged: 5 });
  });

  it('previews entitlements at the record date, open fails claimed, tax withheld, and the payment entry', async () => {
    const p = await previewAction(pool, ID, at('2026-03-11T15:00:00.000Z'));
    expect(p).toMatchObject({ positionsAsOf: '2026-03-09', basis: 'settlement', due: false, applied: false, problems: [] });
    expect(p.customers.map((c) => [c.holder, c.quantity, c.residence, c.gross, c.taxRate, c.tax, c.net])).toEqual([
      ['C1001', '101', 'US', '26.00', null, '0.00', '26.00'],
      ['C1002', '200', 'GB', '51.50', '15', '7.73', '43.77'],
      ['C1003', '180', 'US', '46.35', null, '0.00', '46.35'],
      ['C2001', '77', 'BR', '19.82', '30', '5.95', '13.87'],
    ]);
    expect(p.firm.map((f) => [f.holderKind, f.holder, f.quantity, f.gross, f.cashAccount])).toEqual([
      ['depository', 'dtc', '478', '123.08', 'assets:corporate-actions:receivable:dtc'],
      ['counterparty', 'GSCO', '-120', '-30.90', 'liabilities:corporate-actions:claims:GSCO'],
      ['counterparty', 'NSCC', '200', '51.50', 'assets:corporate-actions:claims:NSCC'],
      ['firm', 'rounding', '0', '0.01', 'income:corporate-actions:rounding'],
    ]);
    // The settlement module's open fails are named beside each claim.
    // NSCC's fail of 03-06 was carried into the net of 03-09, and failed again there: owed once.
    expect(p.firm.find((f) => f.holder === 'NSCC')!.fails!.map((f) => [f.settleDate, f.remainingQuantity])).toEqual([['2026-03-09', '200']]);
    expect(p.firm.find((f) => f.holder === 'GSCO')!.fails!.map((f) => [f.settleDate, f.remainingQuantity])).toEqual([['2026-03-09', '-120']]);
    expect(p.totals).toMatchObject({ entitledQuantity: '558', gross: '143.67', tax: '13.68', net: '129.99', depository: '123.08', claimsReceivable: '51.50', claimsPayable: '30.90', rounding: '0.01' });
    expect(p.entries).toHaveLength(1);
    expect(p.entries[0]).toMatchObject({ key: `ca:${ID}:dividend`, date: '2026-03-12' });
    const legs = Object.fromEntries(p.entries[0]!.postings.map((x) => [x.account, x.amount]));
    expect(legs).toEqual({
      'customers:C1001:cash': '-26.00',
      'customers:C1002:cash': '-43.77',
      'liabilities:tax:withholding:us:gb': '-7.73',
      'customers:C1003:cash': '-46.35',
      'customers:C2001:cash': '-13.87',
      'liabilities:tax:withholding:us:br': '-5.95',
      'assets:corporate-actions:receivable:dtc': '123.08',
      'liabilities:corporate-actions:claims:GSCO': '-30.90',
      'assets:corporate-actions:claims:NSCC': '51.50',
      'income:corporate-actions:rounding': '-0.01',
    });
  });

  it('refuses to pay before the pay date, and before the record date has passed even when forced', async () => {
    const early = await applyAction(pool, ID, at('2026-03-11T15:00:00.000Z')).catch((e) => e);
    expect(early).toMatchObject({ code: 'CORPORATE_ACTION_NOT_DUE', kind: 'unexpected_state' });
    expect(early.message).toContain('paid on 2026-03-12');
    const onRecord = await applyAction(pool, ID, at('2026-03-09T20:00:00.000Z'), { force: true }).catch((e) => e);
    expect(onRecord).toMatchObject({ code: 'CORPORATE_ACTION_NOT_DUE' });
    expect(onRecord.message).toContain('record date 2026-03-09 has not passed');
    expect(await count('corporate_action_entitlements')).toBe(0);
  });

  it('pays on the pay date: customer cash credited, tax withheld, depository and claims booked; once', async () => {
    // Customer cash before (debit = the customer owes the firm for purchases):
    //   C1001 101 x 190 + 1.00 + 10 x 191 + 1.00 = 21102.00; C1002 200 x 191 + 1.00 = 38201.00;
    //   C1003 300 x 189 + 1.50 - (120 x 195 - 1.00 - SEC 0.66 (23400 x 27.80/1e6 = 0.65052, up) - TAF 0.02) = 56701.50 - 23398.32 = 33303.18;
    //   C2001 77 x 190 + 1.00 = 14631.00.
    expect([await bal('customers:C1001:cash'), await bal('customers:C1002:cash'), await bal('customers:C1003:cash'), await bal('customers:C2001:cash')])
      .toEqual(['21102.00', '38201.00', '33303.18', '14631.00']);
    const audits = await count('audit_log');
    const r = await applyAction(pool, ID, at('2026-03-12T15:00:00.000Z'));
    expect(r).toMatchObject({ applied: true, alreadyApplied: false });
    expect(r.entryIds).toHaveLength(1);
    // ... and after: the net dividend off each debit.
    expect([await bal('customers:C1001:cash'), await bal('customers:C1002:cash'), await bal('customers:C1003:cash'), await bal('customers:C2001:cash')])
      .toEqual(['21076.00', '38157.23', '33256.83', '14617.13']);
    expect(await bal('liabilities:tax:withholding:us:gb')).toBe('-7.73');
    expect(await bal('liabilities:tax:withholding:us:br')).toBe('-5.95');
    expect(await bal('assets:corporate-actions:receivable:dtc')).toBe('123.08');
    expect(await bal('assets:corporate-actions:claims:NSCC')).toBe('51.50');
    expect(await bal('liabilities:corporate-actions:claims:GSCO')).toBe('-30.90');
    expect(await bal('income:corporate-actions:rounding')).toBe('-0.01');
    const [entry] = await getEntriesByKey(pool, [`ca:${ID}:dividend`]);
    expect(entry).toMatchObject({ id: r.entryIds[0], date: '2026-03-12', createdBy: 'asset-servicing' });
    // Recorded per holder, in minor units; the action applied and audited.
    const ent = (await pool.query("SELECT holder, gross::text, tax::text, net::text, tax_rate::text, tax_country FROM corporate_action_entitlements WHERE holder_kind = 'customer' ORDER BY holder")).rows;
    expect(ent).toEqual([
      { holder: 'C1001', gross: '2600', tax: '0', net: '2600', tax_rate: null, tax_country: null },
      { holder: 'C1002', gross: '5150', tax: '773', net: '4377', tax_rate: '15', tax_country: 'US' },
      { holder: 'C1003', gross: '4635', tax: '0', net: '4635', tax_rate: null, tax_country: null },
      { holder: 'C2001', gross: '1982', tax: '595', net: '1387', tax_rate: '30', tax_country: 'US' },
    ]);
    const a = await getAction(pool, ID);
    expect(a).toMatchObject({ status: 'applied', appliedBy: 'asset-servicing', appliedAt: '2026-03-12T15:00:00.000Z', appliedEarly: false });
    const trail = (await pool.query("SELECT action, actor, data FROM audit_log WHERE entity = 'corporate_actions' AND entity_id = $1 ORDER BY seq", [ID])).rows;
    expect(trail.map((t) => t.action)).toEqual(['corporate_action.announce', 'corporate_action.apply']);
    expect(trail[1].data).toMatchObject({ kind: 'cash_dividend', entries: [`ca:${ID}:dividend`], entryIds: r.entryIds, holders: 4 });
    expect(await count('audit_log')).toBeGreaterThan(audits);

    // Applying again changes nothing: no entry, no audit record, no balance.
    const before = { entries: await count('journal_entries'), audit: await count('audit_log'), balances: await balances(pool), ent: await count('corporate_action_entitlements') };
    const again = await applyAction(pool, ID, at('2026-03-13T09:00:00.000Z'));
    expect(again).toMatchObject({ applied: false, alreadyApplied: true, entryIds: r.entryIds });
    expect({ entries: await count('journal_entries'), audit: await count('audit_log'), balances: await balances(pool), ent: await count('corporate_action_entitlements') }).toEqual(before);
    // The preview of an applied action is what it did, not a new computation.
    const shown = await previewAction(pool, ID, at('2026-04-01T09:00:00.000Z'));
    expect(shown.applied).toBe(true);
    expect(shown.customers.map((c) => c.net)).toEqual(['26.00', '43.77', '46.35', '13.87']);
    expect((await listActions(pool, { status: 'applied' })).map((x) => x.id)).toEqual([ID]);
  });

  it('books a dividend paid in a closed period on the first open day, the memo naming the pay date; preview warns', async () => {
    await closePeriod(pool, '2026-03-12', ctx);
    const late = 'id,kind,symbol,ex_date,record_date,pay_date,rate,currency\nDIV-AAPL-LATE,cash_dividend,AAPL,2026-03-09,2026-03-09,2026-03-11,0.01,USD\n';
    await importAnnouncements(pool, late, 'late.csv', ctx);
    const when = at('2026-03-20T12:00:00.000Z');
    const p = await previewAction(pool, 'DIV-AAPL-LATE', when);
    expect(p.problems).toEqual([]);
    expect(p.warnings).toContainEqual(expect.stringContaining('dated 2026-03-11, in a closed period (the books are closed through 2026-03-12)'));
    expect(p.entries.map((e) => e.date)).toEqual(['2026-03-13']);
    const r = await applyAction(pool, 'DIV-AAPL-LATE', when);
    expect(r.applied).toBe(true);
    const [e] = await getEntriesByKey(pool, ['ca:DIV-AAPL-LATE:dividend']);
    expect(e).toMatchObject({ date: '2026-03-13' });
    expect(e!.memo).toContain('belongs to 2026-03-11');
  });

  it('leaves the books balanced and the audit trail whole', async () => {
    const tb = await trialBalance(pool);
    for (const t of tb.totals) expect(t.debit, t.asset).toBe(t.credit);
    const v = await verifyAudit(pool);
    expect(v.problems).toEqual([]);
  });
});
