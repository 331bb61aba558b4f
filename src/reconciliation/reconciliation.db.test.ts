import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import { testDb } from '../../test/db.js';
import { DomainError, fixedClock, fromMinor, toMinor } from '../kernel/index.js';
import { balances, getEntriesByKey, listAudit, openAccount, postEntries, verifyAudit, type EntryInput } from '../ledger/index.js';
import { importSecurities } from '../reference/index.js';
import { addUser } from '../users/index.js';
import {
  approveAdjustment, assignBreak, commentBreak, getBreak, getStatementView, importStatementFile, linkAccount, listBreaks, listStatements, matchBreaks,
  proposeAdjustment, rejectAdjustment, runReconciliation, setRules, storeStatements, type ParsedStatement,
} from './index.js';

const clock = fixedClock('2015-01-10T09:00:00.000Z');
const ctx = { actor: 'tester', clock };
const alice = { actor: 'alice', clock };
const bob = { actor: 'bob', clock };
const db = await testDb();
const pool = db.pool;

const GENKGO = fs.readFileSync(new URL('../../test/fixtures/iso20022/genkgo_camt053.v2.multi.statement.xml', import.meta.url), 'utf8');
const IBAN = 'NL26VAYB8060476890';

/** The error a call threw (its code), or a failure when it did not throw. */
async function refusal(p: Promise<unknown>): Promise<DomainError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    return e as DomainError;
  }
  throw new Error('expected a refusal');
}

const entry = (key: string, date: string, account: string, amount: string, offset: string, memo = key, asset = 'EUR'): EntryInput => ({
  key, date, memo, postings: [{ account, asset, amount }, { account: offset, asset, amount: amount.startsWith('-') ? amount.slice(1) : `-${amount}` }],
});

/** A cash statement whose balances add up (opening + entries = closing). */
function cashStatement(account: string, id: string, date: string, currency: string, entries: { amount: string; date?: string; ourRef?: string; refs?: string[]; txCount?: number; status?: string }[], opening = '0.00'): ParsedStatement {
  const sum = entries.filter((e) => (e.status ?? 'BOOK') === 'BOOK').reduce((a, e) => a + toMinor(e.amount, 2), toMinor(opening, 2));
  return {
    kind: 'cash', format: 'camt.053.001.08', messageId: `MSG-${id}`, statementId: id, sequence: null, account, servicer: null, currency,
    createdAt: `${date}T20:00:00Z`, fromDate: date, toDate: date, statementDate: date,
    balances: [
      { type: 'opening', code: 'OPBD', amount: opening, currency, date },
      { type: 'closing', code: 'CLBD', amount: fromMinor(sum, 2), currency, date },
    ],
    entries: entries.map((e, index) => ({
      index, amount: e.amount, currency, bookingDate: e.date ?? date, valueDate: e.date ?? date, status: e.status ?? 'BOOK', servicerRef: `SVC-${id}-${index}`,
      ourRef: e.ourRef ?? null, refs: e.refs ?? [], transactionCount: e.txCount ?? 1, bankTxCode: null, counterpartyName: null, remittance: null, additionalInfo: null,
    })),
    holdings: [], check: 'ok', refused: false,
  };
}

const store = (statements: ParsedStatement[], name: string) => storeStatements(pool, statements, { hash: `test-${name}`, name }, ctx);
const count = async (table: string) => Number((await pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n);

beforeAll(async () => {
  for (const [name, type] of [['assets:bank:operating:eur', 'asset'], ['assets:bank:operating:usd', 'asset'], ['equity:capital', 'equity'],
    ['expenses:bank-charges', 'expense'], ['assets:depository:dtc', 'asset'], ['assets:street:gsco', 'asset'], ['liabilities:suspense', 'liability']] as const) {
    await openAccount(pool, { name, type }, ctx);
  }
  await addUser(pool, { name: 'alice', role: 'operations' }, ctx);
  await addUser(pool, { name: 'bob', role: 'finance' }, ctx);
});

describe('the genkgo chained camt.053 (two statements of one account)', () => {
  it('is stored unlinked with its arithmetic, and cannot be run until linked', async () => {
    const r = await importStatementFile(pool, GENKGO, { fileName: 'genkgo.xml' }, ctx);
    expect(r.duplicateFile).toBe(false);
    expect(r.refused).toBe(0);
    expect(r.statements.map((s) => [s.statementId, s.account, s.currency, s.opening, s.closing, s.entries, s.check, s.status, s.linked])).toEqual([
      ['253EURNL26VAYB8060476890', IBAN, 'EUR', '18.15', '27.00', 1, 'ok', 'stored', null],
      ['254EURNL26VAYB8060476890', IBAN, 'EUR', '27.00', '20.00', 1, 'ok', 'stored', null],
    ]);
    expect((await listStatements(pool, { linked: false })).map((s) => s.statementId).sort()).toEqual(['253EURNL26VAYB8060476890', '254EURNL26VAYB8060476890']);
    const e = await refusal(runReconciliation(pool, IBAN, '2014-12-31', ctx));
    expect(e.code).toBe('RECON_NOT_LINKED');
    expect(e.message).toContain(`recon link ${IBAN}`);
  });

  it('imports idempotently: the same file, the same statements in another message, and refuses changed content whole', async () => {
    const before = [await count('recon_statements'), await count('recon_lines')];
    const again = await importStatementFile(pool, GENKGO, { fileName: 'genkgo.xml' }, ctx);
    expect(again.duplicateFile).toBe(true);
    expect(again.statements.map((s) => s.status)).toEqual(['duplicate', 'duplicate']);
    const resent = GENKGO.replace('<MsgId>CAMT053RIB000000000001</MsgId>', '<MsgId>CAMT053RIB000000000002</MsgId>');
    const r2 = await importStatementFile(pool, resent, { fileName: 'resent.xml' }, ctx);
    expect(r2.duplicateFile).toBe(false);
    expect(r2.statements.map((s) => s.status)).toEqual(['duplicate', 'duplicate']);
    // The second statement with another amount (and balance, so that it still adds up): a conflict.
    const changed = resent.replace('<MsgId>CAMT053RIB000000000002</MsgId>', '<MsgId>X3</MsgId>')
      .replace('<Amt Ccy="EUR">7.00</Amt>', '<Amt Ccy="EUR">7.10</Amt>').replace('<Amt Ccy="EUR">20.00</Amt>', '<Amt Ccy="EUR">19.90</Amt>');
    const e = await refusal(importStatementFile(pool, changed, { fileName: 'changed.xml' }, ctx));
    expect(e.code).toBe('RECON_STATEMENT_CONFLICT');
    expect(e.kind).toBe('conflict');
    expect(e.message).toContain('254EURNL26VAYB8060476890');
    expect([await count('recon_statements'), await count('recon_lines')]).toEqual(before);
  });

  it('links, reconciles: one line by reference, the other an amount_differs break with our entry, our extra entry missing_theirs', async () => {
    await postEntries(pool, [
      entry('000000001', '2014-12-31', 'assets:bank:operating:eur', '8.85', 'equity:capital', 'Receipt from Company Name 1'),
      entry('supplier-2', '2014-12-31', 'assets:bank:operating:eur', '-7.50', 'equity:capital', 'Transaction Description 2, E2E 000000002'),
      entry('cash-out-3', '2014-12-31', 'assets:bank:operating:eur', '-3.00', 'equity:capital', 'Petty cash'),
    ], ctx);
    const link = await linkAccount(pool, { statementAccount: IBAN, ledgerAccount: 'assets:bank:operating:eur' }, ctx);
    expect(link).toMatchObject({ kind: 'cash', asset: 'EUR', created: true });
    expect(link.rules.map((r) => r.rule)).toEqual(['reference', 'amount_date', 'one_to_many', 'many_to_one', 'reversal']);
    expect((await listStatements(pool, { account: IBAN }))[0]!.linked).toBe('assets:bank:operating:eur');

    const r = await runReconciliation(pool, IBAN, '2014-12-31', ctx);
    expect(r.statements).toBe(2);
    expect(r.considered).toEqual({ lines: 2, ours: 3 });
    expect(r.matched).toMatchObject({ total: 1, lines: 1, ours: 1, byRule: { reference: 1 } });
    expect(r.breaks).toMatchObject({ found: 2, unchanged: 0, resolved: 0, open: 2, byType: { amount_differs: 1, missing_theirs: 1 } });
    // The last statement of the day closes at 20.00; our account holds 8.85 - 7.50 - 3.00.
    expect(r.balances).toEqual([{ statement: expect.any(String), statementId: '254EURNL26VAYB8060476890', date: '2014-12-31', theirs: '20.00', ours: '-1.65', difference: '21.65' }]);

    const { breaks, aging } = await listBreaks(pool, { status: 'open', account: IBAN, asOf: '2015-01-10' });
    const diff = breaks.find((b) => b.type === 'amount_differs')!;
    expect(diff).toMatchObject({ theirs: '-7.00', ours: '-7.50', difference: '0.50', unit: 'EUR', date: '2014-12-31', ageDays: 10, bucket: '6-15' });
    expect(diff.items.theirs.map((l) => l.ourRef)).toEqual(['000000002']);
    expect(diff.items.ours.map((o) => o.entryKey)).toEqual(['supplier-2']);
    const extra = breaks.find((b) => b.type === 'missing_theirs')!;
    expect(extra).toMatchObject({ theirs: null, ours: '-3.00', difference: '3.00' });
    expect(aging.find((a) => a.bucket === '6-15')).toEqual({ bucket: '6-15', count: 2, byType: { amount_differs: 1, missing_theirs: 1 } });

    expect((await listStatements(pool, { account: IBAN })).map((s) => [s.statementId, s.matched, s.openBreaks]).sort()).toEqual([
      ['253EURNL26VAYB8060476890', 1, 0], ['254EURNL26VAYB8060476890', 0, 1],
    ]);
    // The statement beside our side: the matched pair shares a match id and names its rule.
    const stmt = (await listStatements(pool, { account: IBAN })).find((s) => s.statementId === '253EURNL26VAYB8060476890')!;
    const view = await getStatementView(pool, stmt.id);
    expect(view.lines[0]!.match).toMatchObject({ rule: 'reference', method: 'auto' });
    const ours = view.ours.find((o) => o.entryKey === '000000001')!;
    expect(ours.match!.id).toBe(view.lines[0]!.match!.id);
  });

  it('re-running changes nothing; a run as of an earlier date leaves later breaks alone', async () => {
    const before = [await count('recon_match_items'), await count('recon_breaks')];
    const r = await runReconciliation(pool, 'assets:bank:operating:eur', '2014-12-31', ctx);
    expect(r.matched.total).toBe(0);
    expect(r.breaks).toMatchObject({ found: 0, unchanged: 2, resolved: 0, open: 2 });
    const early = await runReconciliation(pool, IBAN, '2014-12-30', ctx);
    expect(early.statements).toBe(0);
    expect(early.breaks).toMatchObject({ found: 0, resolved: 0, open: 2 });
    expect([await count('recon_match_items'), await count('recon_breaks')]).toEqual(before);
  });

  it("a break's whole life: assigned, commented, adjustment proposed by A, A's approval refused, B approves, entry posted, resolved, audited", async () => {
    const { breaks } = await listBreaks(pool, { status: 'open', account: IBAN, type: 'amount_differs' });
    const id = breaks[0]!.id;
    await assignBreak(pool, id, 'alice', ctx);
    expect((await refusal(assignBreak(pool, id, 'nobody', ctx))).code).toBe('RECON_ARGUMENT_INVALID');
    await commentBreak(pool, id, 'Supplier charged 7.00, we booked 7.50: fee difference', alice);
    const adj = await proposeAdjustment(pool, id, { offsetAccount: 'expenses:bank-charges', memo: 'supplier fee difference' }, alice);
    expect(adj.status).toBe('proposed');
    expect(adj.entry.postings).toEqual([
      { account: 'assets:bank:operating:eur', asset: 'EUR', amount: '0.50' },
      { account: 'expenses:bank-charges', asset: 'EUR', amount: '-0.50' },
    ]);
    expect(adj.entry.date).toBe('2014-12-31');
    expect((await refusal(proposeAdjustment(pool, id, { offsetAccount: 'expenses:bank-charges' }, bob))).code).toBe('RECON_ADJUSTMENT_NOT_PENDING');

    const same = await refusal(approveAdjustment(pool, adj.id, alice));
    expect(same.code).toBe('RECON_ADJUSTMENT_SAME_PERSON');
    expect(same.kind).toBe('forbidden');
    expect(same.message).toMatch(/proposed by alice: a second, different person must approve/);
    expect(await getEntriesByKey(pool, [adj.entry.key])).toEqual([]);
    expect((await getBreak(pool, id)).status).toBe('open');

    const ok = await approveAdjustment(pool, adj.id, bob);
    expect(ok.adjustment).toMatchObject({ status: 'approved', decidedBy: 'bob', proposedBy: 'alice' });
    const [posted] = await getEntriesByKey(pool, [adj.entry.key]);
    expect(posted!.createdBy).toBe('bob');
    expect(ok.adjustment.entryId).toBe(posted!.id);
    expect(ok.break).toMatchObject({ status: 'resolved', resolution: 'adjustment', entryId: posted!.id, resolvedBy: 'bob', assignee: 'alice', comments: 1 });
    const bal = await balances(pool, { account: 'expenses:bank-charges' });
    expect(bal.find((b) => b.asset === 'EUR')!.balance).toBe('-0.50');
    expect((await refusal(approveAdjustment(pool, adj.id, bob))).code).toBe('RECON_ADJUSTMENT_NOT_PENDING');

    expect(ok.break.history.map((h) => [h.action, h.actor])).toEqual([
      ['found', 'tester'], ['assigned', 'tester'], ['commented', 'alice'], ['adjustment_proposed', 'alice'],
      ['approval_refused', 'alice'], ['adjustment_approved', 'bob'], ['resolved', 'bob'],
    ]);
    const trail = (await listAudit(pool, { limit: 1000 })).reverse();
    // The run that found it (the break names it), then each step.
    const mine = trail.filter((a) => (a.data as { break?: string }).break === id || a.entityId === id || a.entityId === posted!.id
      || (a.action === 'recon.run' && a.entityId === ok.break.runId)).map((a) => [a.action, a.actor]);
    expect(mine).toEqual([
      ['recon.run', 'tester'], ['recon.break.assign', 'tester'], ['recon.break.comment', 'alice'], ['recon.adjustment.propose', 'alice'],
      ['recon.adjustment.approve_refused', 'alice'], ['entry.post', 'bob'], ['recon.adjustment.approve', 'bob'], ['recon.break.resolve', 'bob'],
    ]);
    expect((await verifyAudit(pool)).problems).toEqual([]);

    // The adjusting posting is matched with the break's items: a new run does not see it as ours only.
    const r = await runReconciliation(pool, IBAN, '2014-12-31', ctx);
    expect(r.considered.ours).toBe(1);
    expect(r.breaks).toMatchObject({ found: 0, open: 1, byType: { missing_theirs: 1 } });
  });

  it('matches a break by hand with a reason; refuses without one, and a second time', async () => {
    const { breaks } = await listBreaks(pool, { status: 'open', account: IBAN });
    expect(breaks.map((b) => b.type)).toEqual(['missing_theirs']);
    expect((await refusal(matchBreaks(pool, [breaks[0]!.id], '  ', ctx))).code).toBe('RECON_ARGUMENT_INVALID');
    const [b] = await matchBreaks(pool, [breaks[0]!.id], 'petty cash withdrawn at the counter, not on the account statement', alice);
    expect(b).toMatchObject({ status: 'resolved', resolution: 'manual_match', resolvedBy: 'alice' });
    expect((await refusal(matchBreaks(pool, [breaks[0]!.id], 'again', alice))).code).toBe('RECON_BREAK_NOT_OPEN');
    const r = await runReconciliation(pool, IBAN, '2014-12-31', ctx);
    expect(r).toMatchObject({ considered: { lines: 0, ours: 0 }, breaks: { open: 0 } });
    expect((await listStatements(pool, { account: IBAN })).map((s) => [s.matched, s.openBreaks])).toEqual([[1, 0], [1, 0]]);
    expect((await verifyAudit(pool)).problems).toEqual([]);
  });
});

describe('groups, windows, tolerance and new items', () => {
  const ACC = 'US-OPS-0001';
  it('matches one-to-many (a batch line with its count), many-to-one, by amount and date; the rest are typed breaks', async () => {
    await postEntries(pool, [
      entry('pay-1', '2024-03-04', 'assets:bank:operating:usd', '-100.00', 'equity:capital', 'supplier A', 'USD'),
      entry('pay-2', '2024-03-04', 'assets:bank:operating:usd', '-200.00', 'equity:capital', 'supplier B', 'USD'),
      entry('pay-3', '2024-03-05', 'assets:bank:operating:usd', '-300.00', 'equity:capital', 'supplier C', 'USD'),
      entry('dep-1', '2024-03-05', 'assets:bank:operating:usd', '1000.00', 'equity:capital', 'customer deposit', 'USD'),
      entry('wire-7', '2024-03-06', 'assets:bank:operating:usd', '250.00', 'equity:capital', 'incoming wire', 'USD'),
      entry('inv-9', '2024-03-20', 'assets:bank:operating:usd', '99.00', 'equity:capital', 'invoice 9 paid', 'USD'),
    ], ctx);
    const r0 = await store([cashStatement(ACC, 'S-2024-03-05', '2024-03-05', 'USD', [
      { amount: '-600.00', txCount: 3 },
      { amount: '400.00' }, { amount: '600.00' },
      { amount: '250.00' },
      { amount: '-35.00' },
      { amount: '99.00', date: '2024-03-01', ourRef: 'inv-9' },
      { amount: '12.00', status: 'PDNG' },
    ], '5000.00')], 'groups');
    expect(r0.statements[0]).toMatchObject({ status: 'stored', opening: '5000.00', closing: '5714.00', entries: 7, linked: null });
    await linkAccount(pool, { statementAccount: ACC, ledgerAccount: 'assets:bank:operating:usd' }, ctx);
    const r = await runReconciliation(pool, ACC, '2024-03-05', ctx);
    // inv-9 (dated 03-20) is after the as-of date: not ours yet.
    expect(r.considered).toEqual({ lines: 6, ours: 4 });
    expect(r.matched).toEqual({ total: 2, lines: 3, ours: 4, byRule: { one_to_many: 1, many_to_one: 1 } });
    expect(r.breaks.byType).toEqual({ missing_ours: 3 });
    const later = await runReconciliation(pool, ACC, '2024-03-31', ctx);
    // wire-7 (03-06) is a day after its line: amount and date; inv-9 is 19 days from its line: the reference ties them, the date differs.
    expect(later.matched.byRule).toEqual({ amount_date: 1 });
    expect(later.breaks).toMatchObject({ found: 1, unchanged: 1, resolved: 2, open: 2, byType: { missing_ours: 1, date_differs: 1 } });
    const { breaks } = await listBreaks(pool, { account: ACC, status: 'resolved' });
    // The 99.00 line's break became part of the date_differs break; the 250.00 line matched.
    expect(breaks.map((b) => [b.type, b.theirs, b.resolution])).toEqual([['missing_ours', '99.00', 'superseded'], ['missing_ours', '250.00', 'matched']]);
    const open = (await listBreaks(pool, { account: ACC, status: 'open' })).breaks;
    expect(breaks[0]!.supersededBy).toBe(open.find((b) => b.type === 'date_differs')!.id);
    expect(breaks[1]!.matchId).not.toBeNull();
  });

  it('new items get matched on a re-run (the bank charge booked later); a tolerance set by rule matches what the default did not', async () => {
    await postEntries(pool, [entry('fee-mar', '2024-03-05', 'assets:bank:operating:usd', '-35.00', 'expenses:bank-charges', 'bank charges March', 'USD')], ctx);
    const r = await runReconciliation(pool, ACC, '2024-03-31', ctx);
    expect(r.matched.byRule).toEqual({ amount_date: 1 });
    expect(r.breaks).toMatchObject({ found: 0, resolved: 1, open: 1, byType: { date_differs: 1 } });
    await setRules(pool, ACC, [{ rule: 'reference', params: { days: 30 } }], ctx);
    const r2 = await runReconciliation(pool, ACC, '2024-03-31', ctx);
    expect(r2.matched.byRule).toEqual({ reference: 1 });
    expect(r2.breaks.open).toBe(0);
    expect((await refusal(setRules(pool, ACC, [{ rule: 'position' }], ctx))).code).toBe('RECON_RULE_INVALID');
  });
});

describe('custody: holdings against positions', () => {
  const SAFE = 'SAFE-DTC-123';
  const holdings = (id: string, date: string, lines: [string, string][]): ParsedStatement => ({
    kind: 'holdings', format: 'semt.002.001.10', messageId: `M-${id}`, statementId: id, sequence: null, account: SAFE, servicer: 'DTCYUS33', currency: null,
    createdAt: null, fromDate: null, toDate: null, statementDate: date, balances: [], entries: [],
    holdings: lines.map(([security, quantity], index) => ({ index, security, quantity, quantityType: 'UNIT', price: null, priceCurrency: null })),
    check: 'ok', refused: false,
  });

  it('matches positions, finds a quantity break, a holding we do not know and a position the custodian does not show; an adjustment resolves the quantity break', async () => {
    await importSecurities(pool, 'symbol,name,isin,cusip,asset_class,currency,mic,scale\nAAPL,Apple Inc.,US0378331005,037833100,equity,USD,XNAS,0\n'
      + 'MSFT,Microsoft Corp.,US5949181045,594918104,equity,USD,XNAS,0\nTSLA,Tesla Inc.,US88160R1014,88160R101,equity,USD,XNAS,0\n', 'secs', ctx);
    await postEntries(pool, [
      entry('rcv-aapl', '2024-03-01', 'assets:depository:dtc', '100', 'assets:street:gsco', 'receive AAPL', 'AAPL'),
      entry('rcv-msft', '2024-03-01', 'assets:depository:dtc', '50', 'assets:street:gsco', 'receive MSFT', 'MSFT'),
      entry('rcv-tsla', '2024-03-02', 'assets:depository:dtc', '5', 'assets:street:gsco', 'receive TSLA', 'TSLA'),
      entry('rcv-aapl-late', '2024-03-09', 'assets:depository:dtc', '10', 'assets:street:gsco', 'after the statement', 'AAPL'),
    ], ctx);
    await store([holdings('H-0305', '2024-03-05', [['US0378331005', '60'], ['US0378331005', '40'], ['ISIN:US5949181045', '45'], ['US0231351067', '10']])], 'holdings');
    const link = await linkAccount(pool, { statementAccount: SAFE, ledgerAccount: 'assets:depository:dtc' }, ctx);
    expect(link).toMatchObject({ kind: 'holdings', asset: null });
    const r = await runReconciliation(pool, SAFE, '2024-03-31', ctx);
    expect(r.matched).toMatchObject({ total: 1, lines: 2, byRule: { position: 1 } });
    expect(r.breaks.byType).toEqual({ quantity_differs: 1, missing_ours: 1, missing_theirs: 1 });
    const { breaks } = await listBreaks(pool, { account: SAFE, status: 'open', asOf: '2024-03-31' });
    const q = breaks.find((b) => b.type === 'quantity_differs')!;
    expect(q).toMatchObject({ asset: 'MSFT', unit: 'MSFT', theirs: '45', ours: '50', difference: '-5', ageDays: 26, bucket: '16-30' });
    expect(breaks.find((b) => b.type === 'missing_ours')).toMatchObject({ asset: null, unit: 'US0231351067', theirs: '10' });
    expect(breaks.find((b) => b.type === 'missing_theirs')).toMatchObject({ asset: 'TSLA', ours: '5', theirs: '0' });

    const a = await proposeAdjustment(pool, q.id, { offsetAccount: 'liabilities:suspense' }, alice);
    expect(a.entry.postings).toEqual([{ account: 'assets:depository:dtc', asset: 'MSFT', amount: '-5' }, { account: 'liabilities:suspense', asset: 'MSFT', amount: '5' }]);
    const rej = await rejectAdjustment(pool, a.id, 'check the custodian first', bob);
    expect(rej.adjustment.status).toBe('rejected');
    expect(rej.break.status).toBe('open');
    const a2 = await proposeAdjustment(pool, q.id, { offsetAccount: 'liabilities:suspense' }, alice);
    await approveAdjustment(pool, a2.id, bob);
    const again = await runReconciliation(pool, SAFE, '2024-03-31', ctx);
    expect(again.matched.total).toBe(0);
    expect(again.breaks).toMatchObject({ found: 0, unchanged: 2, open: 2, byType: { missing_ours: 1, missing_theirs: 1 } });
    const view = await getStatementView(pool, (await listStatements(pool, { account: SAFE }))[0]!.id);
    expect(view.positions.map((p) => [p.asset, p.quantity, p.match?.rule ?? p.breakType])).toEqual([
      ['AAPL', '100', 'position'], ['MSFT', '45', 'adjustment'], ['TSLA', '5', 'missing_theirs'],
    ]);
    expect((await verifyAudit(pool)).problems).toEqual([]);
  });
});
