import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import { Command } from 'commander';
import { testDb } from '../../test/db.js';
import { DomainError, fixedClock } from '../kernel/index.js';
import { verifyAudit } from '../ledger/index.js';
import { importSecurities, importCustomerAccounts, importCounterparties, importFees } from '../reference/index.js';
import { importExecutions, listTrades } from '../trading/index.js';
import { openPool, type Db } from '../db/index.js';
import { affirm, importConfirmations, listMatches, manualMatch, matchConfirmations, matchingCommands, type MatchView } from './matching.js';

const ctx = { actor: 'tester', clock: fixedClock('2026-03-09T23:00:00.000Z') };
const db = await testDb();
const pool = db.pool;
const tfx = (f: string) => fs.readFileSync(`test/fixtures/trading/${f}`, 'utf8');
const CONF_DIR = 'test/fixtures/settlement/confirmations';
const cfx = (f: string) => fs.readFileSync(`${CONF_DIR}/${f}`, 'utf8');
const HEADER = 'exec_id,account,symbol,side,quantity,price,trade_date,counterparty,currency,kind,exec_ref_id';
const csv = (...rows: string[]) => [HEADER, ...rows].join('\n');

const D = '2026-03-09'; // the Monday after the US DST change (EDT, UTC-4)
const FRI = '2026-03-06'; // the Friday before it (EST, UTC-5)
const tradeIds: Record<string, string> = {};

const brief = (rs: MatchView[]) => rs.map((r) => [r.status, r.confirmation?.confId ?? null, r.trade ? r.trade.execId : null, r.differences.map((d) => `${d.field}:${d.ours}/${d.theirs}`).join(' ')]);
const snapshot = async () => (await pool.query('SELECT * FROM confirmation_matches ORDER BY id')).rows;
const count = async (t: string) => Number((await pool.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n);

beforeAll(async () => {
  await importSecurities(pool, tfx('securities.csv'), 'securities.csv', ctx);
  await importCustomerAccounts(pool, tfx('accounts.csv'), 'accounts.csv', ctx);
  await importCounterparties(pool, tfx('counterparties.csv'), 'counterparties.csv', ctx);
  await importFees(pool, tfx('fees.csv'), 'fees.csv', ctx);
  const r = await importExecutions(pool, csv(
    `E1,C1002,AAPL,buy,100,190.25,${D},GSCO,USD,,`,
    `E2,C1003,MSFT,sell,200,400.00,${D},GSCO,USD,,`,
    `E3,C1003,AAPL,short,50,191.00,${D},NSCC,USD,,`,
    `E4,C1001,MSFT,buy,10,401.00,${D},NSCC,USD,,`,
    `E5,C1002,AAPL,buy,20,192.00,${D},GSCO,USD,,`,
    `X1,C1002,AAPL,buy,100,190.25,${D},GSCO,USD,,`,
    `X2,C1002,AAPL,buy,,,${D},GSCO,USD,cancel,X1`,
    `E6,C1002,MSFT,buy,5,400.00,${FRI},GSCO,USD,,`,
  ), ctx, { format: 'csv' });
  expect(r).toMatchObject({ received: 8, booked: 8, quarantined: [] });
  for (const t of await listTrades(pool, {})) tradeIds[t.execId] = t.id;
});

describe('confirmation matching', () => {
  it('refuses a file with a missing field, naming the record, and applies nothing of it', async () => {
    const err = await importConfirmations(pool, cfx('missing-field.csv'), 'missing-field.csv', ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: 'CONFIRMATION_FILE_INVALID', kind: 'invalid' });
    expect((err as DomainError).message).toContain('missing-field.csv line 3 (B2): quantity: is missing');
    expect((err as DomainError).details.map((d) => [d.record, d.field, d.rule])).toContainEqual(['missing-field.csv line 3 (B2)', 'quantity', 'REQUIRED']);
    // B1 on line 2 is good, but nothing of the file is applied.
    expect(await count('confirmations')).toBe(0);
    // An unknown counterparty is named too, and nothing is applied.
    const unknown = await importConfirmations(pool, 'conf_id,counterparty,trade_date,symbol,side,quantity,price\nA1,GSCO,2026-03-09,AAPL,buy,1,1\nA2,JPMS,2026-03-09,AAPL,buy,1,1', 'u.csv', ctx).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ code: 'CONFIRMATION_FILE_INVALID', details: [{ record: 'u.csv line 3 (A2)', field: 'counterparty', rule: 'UNKNOWN_COUNTERPARTY' }] });
    expect(await count('confirmations')).toBe(0);
  });

  it('imports a confirmation file once: the same file again changes nothing', async () => {
    expect(await importConfirmations(pool, cfx('street-2026-03-09.csv'), 'street-2026-03-09.csv', ctx))
      .toEqual({ file: 'street-2026-03-09.csv', received: 6, created: 6, updated: 0, unchanged: 0 });
    const before = (await pool.query('SELECT * FROM confirmations ORDER BY id')).rows;
    expect(await importConfirmations(pool, cfx('street-2026-03-09.csv'), 'street-2026-03-09.csv', ctx))
      .toEqual({ file: 'street-2026-03-09.csv', received: 6, created: 0, updated: 0, unchanged: 6 });
    expect((await pool.query('SELECT * FROM confirmations ORDER BY id')).rows).toEqual(before);
  });

  it('matches, within the price tolerance, names mismatched fields with both values, and leaves the rest unmatched both ways', async () => {
    const run = await matchConfirmations(pool, D, {}, ctx);
    expect(run.priceTolerance).toBe('0.0001');
    expect(run.summary).toEqual({ matched: 2, mismatched: 2, unmatchedConfirmations: 2, unmatchedTrades: 1 });
    expect(brief(run.results)).toEqual([
      // E5 echoed by G3's our_ref, but the price differs.
      ['mismatched', 'G3', 'E5', 'price:192.00/192.50'],
      // Same counterparty, date and security: the quantity differs (our short sale is a sale to the street).
      ['mismatched', 'N1', 'E3', 'quantity:50/40'],
      ['unmatched', null, 'E4', ''],
      ['unmatched', 'N3', null, ''],
      ['unmatched', 'N2', null, ''],
      ['matched', 'G1', 'E1', ''],
      // 400.00005 against 400.00: within 0.0001.
      ['matched', 'G2', 'E2', ''],
    ]);
    expect(run.results[1]!.differences).toEqual([{ field: 'quantity', ours: '50', theirs: '40' }]);
    // The canceled X1 takes no part.
    expect(run.results.some((r) => r.trade?.execId === 'X1')).toBe(false);
    expect(run.changes).toEqual({ created: 7, unchanged: 0, removed: 0 });

    // With no tolerance, G2 no longer matches its price.
    const strict = await matchConfirmations(pool, D, { priceTolerance: '0' }, ctx);
    expect(brief(strict.results).find((r) => r[1] === 'G2')).toEqual(['mismatched', 'G2', 'E2', 'price:400.00/400.00005']);
    await expect(matchConfirmations(pool, D, { priceTolerance: '-1' }, ctx)).rejects.toMatchObject({ code: 'CONFIRMATION_ARGUMENT_INVALID' });
  });

  it('is idempotent: running again gives the same result and changes no stored row', async () => {
    const first = await matchConfirmations(pool, D, {}, ctx);
    const before = await snapshot();
    const again = await matchConfirmations(pool, D, {}, { actor: 'someone-else', clock: fixedClock('2026-03-10T09:00:00Z') });
    expect(again.changes).toEqual({ created: 0, unchanged: 7, removed: 0 });
    expect(again.results).toEqual(first.results);
    expect(await snapshot()).toEqual(before);
    expect(await listMatches(pool, D)).toEqual({ tradeDate: D, summary: first.summary, results: first.results });
  });

  it('matches by hand with a reason, audited, and keeps the manual match across runs', async () => {
    const auditBefore = await count('audit_log');
    await expect(manualMatch(pool, 'NSCC/N3', tradeIds.E4!, '  ', ctx)).rejects.toMatchObject({ code: 'CONFIRMATION_ARGUMENT_INVALID' });
    await expect(manualMatch(pool, 'NSCC/N3', tradeIds.X1!, 'x', ctx)).rejects.toMatchObject({ code: 'CONFIRMATION_TRADE_NOT_FOUND' });
    await expect(manualMatch(pool, 'NSCC/NOPE', tradeIds.E4!, 'x', ctx)).rejects.toMatchObject({ code: 'CONFIRMATION_NOT_FOUND', kind: 'not_found' });

    const m = await manualMatch(pool, 'NSCC/N3', tradeIds.E4!, 'NSCC confirms with the RIC MSFT.O', ctx);
    expect(m).toMatchObject({ status: 'matched', method: 'manual', reason: 'NSCC confirms with the RIC MSFT.O', changed: true,
      differences: [{ field: 'symbol', ours: 'MSFT', theirs: 'MSFT.O' }] });
    const audit = await pool.query("SELECT actor, action, entity, entity_id, data, row_hash FROM audit_log WHERE action = 'confirmation.manual_match'");
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0]).toMatchObject({ actor: 'tester', entity: 'confirmations', entity_id: m.confirmation!.id,
      data: { trade: tradeIds.E4, reason: 'NSCC confirms with the RIC MSFT.O' } });
    expect(audit.rows[0].row_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(await count('audit_log')).toBe(auditBefore + 1);
    expect((await verifyAudit(pool)).ok).toBe(true);

    // The same match again: nothing new, no second audit record. Another trade for N3: refused.
    expect(await manualMatch(pool, 'N3', tradeIds.E4!, 'again', ctx)).toMatchObject({ changed: false, reason: 'NSCC confirms with the RIC MSFT.O' });
    expect(await count('audit_log')).toBe(auditBefore + 1);
    await expect(manualMatch(pool, 'N3', tradeIds.E1!, 'no', ctx)).rejects.toMatchObject({ code: 'CONFIRMATION_CONFLICT', kind: 'conflict' });

    const run = await matchConfirmations(pool, D, {}, ctx);
    expect(run.summary).toEqual({ matched: 3, mismatched: 2, unmatchedConfirmations: 1, unmatchedTrades: 0 });
    expect(brief(run.results).filter((r) => r[0] === 'unmatched')).toEqual([['unmatched', 'N2', null, '']]);
    expect(run.results.find((r) => r.method === 'manual')).toMatchObject({ confirmation: { confId: 'N3' }, trade: { execId: 'E4' } });
    expect(run.changes).toEqual({ created: 0, unchanged: 5, removed: 0 });
    expect((await verifyAudit(pool)).ok).toBe(true);
  });

  it('affirms matched confirmations and flags late ones against 9 p.m. New York time, across the DST change', async () => {
    await importConfirmations(pool, cfx('gsco-2026-03-06.csv'), 'gsco-2026-03-06.csv', ctx);
    expect((await matchConfirmations(pool, FRI, {}, ctx)).summary).toEqual({ matched: 1, mismatched: 0, unmatchedConfirmations: 0, unmatchedTrades: 0 });
    // 01:30Z is 20:30 EST on Friday 03-06 (on time) but 21:30 EDT on Monday 03-09 (late).
    const fri = await affirm(pool, 'G4', new Date('2026-03-07T01:30:00Z'), ctx);
    expect(fri).toMatchObject({ affirmedAt: '2026-03-07T01:30:00.000Z', affirmedLate: false, deadline: '2026-03-07T02:00:00.000Z', changed: true });
    const mon = await affirm(pool, 'G1', new Date('2026-03-10T01:30:00Z'), ctx);
    expect(mon).toMatchObject({ affirmedAt: '2026-03-10T01:30:00.000Z', affirmedLate: true, deadline: '2026-03-10T01:00:00.000Z' });
    expect(await affirm(pool, 'G2', new Date('2026-03-10T00:59:00Z'), ctx)).toMatchObject({ affirmedLate: false });
    // The manual match counts as matched.
    expect(await affirm(pool, 'N3', new Date('2026-03-09T22:00:00Z'), ctx)).toMatchObject({ affirmedLate: false });

    expect(await affirm(pool, 'G1', new Date('2026-03-10T01:30:00Z'), ctx)).toMatchObject({ changed: false, affirmedLate: true });
    await expect(affirm(pool, 'G1', new Date('2026-03-10T00:00:00Z'), ctx)).rejects.toMatchObject({ code: 'CONFIRMATION_CONFLICT' });
    await expect(affirm(pool, 'N1', new Date('2026-03-09T22:00:00Z'), ctx)).rejects.toMatchObject({ code: 'CONFIRMATION_NOT_MATCHED', kind: 'conflict' });
    const stored = await pool.query("SELECT conf_id, affirmed_at, affirmed_late, affirmed_by FROM confirmations WHERE affirmed_at IS NOT NULL ORDER BY conf_id");
    expect(stored.rows.map((r) => [r.conf_id, r.affirmed_late, r.affirmed_by])).toEqual([['G1', true, 'tester'], ['G2', false, 'tester'], ['G4', false, 'tester'], ['N3', false, 'tester']]);
    // An affirmed confirmation may not change on re-import.
    const changed = cfx('street-2026-03-09.csv').replace('G1,GSCO,2026-03-09,AAPL,buy,100,190.25', 'G1,GSCO,2026-03-09,AAPL,buy,101,190.25');
    await expect(importConfirmations(pool, changed, 'street.csv', ctx)).rejects.toMatchObject({ code: 'CONFIRMATION_CONFLICT', details: [{ record: 'street.csv line 4 (G1)', rule: 'AFFIRMED' }] });
    expect((await verifyAudit(pool)).ok).toBe(true);
  });

  it('runs from the command line', async () => {
    const out: string[] = [];
    const cli = () => {
      const program = new Command('backoffice').exitOverride();
      matchingCommands(program, (fn) => fn({ pool } as Db), (json, value, text) => out.push(json ? JSON.stringify(value) : text()), () => ctx);
      return program;
    };
    await cli().parseAsync(['settlement', 'confirmations', 'import', `${CONF_DIR}/street-2026-03-09.csv`, '--json'], { from: 'user' });
    expect(JSON.parse(out.pop()!)).toMatchObject({ received: 6, created: 0, unchanged: 6 });
    await cli().parseAsync(['settlement', 'match', '--date', D, '--json'], { from: 'user' });
    const run = JSON.parse(out.pop()!);
    expect(run.summary).toEqual({ matched: 3, mismatched: 2, unmatchedConfirmations: 1, unmatchedTrades: 0 });
    await cli().parseAsync(['settlement', 'match', '--date', D], { from: 'user' });
    const text = out.pop()!;
    expect(text).toContain('trade date 2026-03-09: 3 matched, 2 mismatched, 1 confirmation(s) without a trade, 0 trade(s) without a confirmation');
    expect(text).toMatch(/^mismatched +NSCC +N1 +trd_\S+ +AAPL +sell +40 +191\.00 +quantity: ours 50, theirs 40$/m);
    expect(text).toMatch(/^matched \(manual\) +NSCC +N3 .*reason: NSCC confirms with the RIC MSFT\.O$/m);

    // A manual match from the command line: G3 priced 192.50 against our 192.00.
    await cli().parseAsync(['settlement', 'match-manual', 'GSCO/G3', tradeIds.E5!, '--reason', 'price corrected by the desk'], { from: 'user' });
    expect(out.pop()).toMatch(/^matched: confirmation GSCO\/G3 to trade trd_\S+ \(price corrected by the desk\); differing: price ours 192.00 theirs 192.50$/);
    await cli().parseAsync(['settlement', 'affirm', 'GSCO/G3', '--at', '2026-03-09T21:30:00-04:00'], { from: 'user' });
    expect(out.pop()).toBe('confirmation GSCO/G3 affirmed at 2026-03-10T01:30:00.000Z LATE (deadline 2026-03-10T01:00:00.000Z)');
    await expect(cli().parseAsync(['settlement', 'affirm', 'GSCO/G3', '--at', 'tonight'], { from: 'user' })).rejects.toMatchObject({ code: 'CONFIRMATION_ARGUMENT_INVALID' });
    await expect(cli().parseAsync(['settlement', 'match', '--date', '9 March'], { from: 'user' })).rejects.toMatchObject({ code: 'DATE_INVALID' });
    await expect(cli().parseAsync(['settlement', 'confirmations', 'import', `${CONF_DIR}/missing-field.csv`], { from: 'user' })).rejects.toMatchObject({ code: 'CONFIRMATION_FILE_INVALID' });
    expect((await verifyAudit(pool)).ok).toBe(true);
  });
});

describe('a day-sized confirmation file and the stored matches', () => {
  const W = '2026-03-11';
  const HDR = 'conf_id,counterparty,trade_date,symbol,side,quantity,price';
  // 5,000 confirmations: written as the file is read, a batch at a time.
  const big = (edit: (rows: string[]) => void = () => {}) => {
    const rows = Array.from({ length: 5000 }, (_, i) => `W${i},GSCO,${W},AAPL,buy,${1 + (i % 7)},${(150 + i / 100).toFixed(2)}`);
    edit(rows);
    return [HDR, ...rows].join('\n') + '\n';
  };
  const confsOfW = async () => Number((await pool.query('SELECT count(*)::int AS n FROM confirmations WHERE trade_date = $1', [W])).rows[0].n);
  const refused = (p: Promise<unknown>) => p.then(() => { throw new Error('imported'); }, (e: unknown) => e as DomainError);

  it('refuses a bad record, an unknown counterparty or a repeat late in the file, naming it, with nothing of the file applied', async () => {
    const bad = await refused(importConfirmations(pool, big((r) => { r[4798] = r[4798]!.replace(/,[\d.]+$/, ',abc'); }), 'big.csv', ctx));
    expect(bad).toMatchObject({ code: 'CONFIRMATION_FILE_INVALID', details: [{ record: 'big.csv line 4800 (W4798)', field: 'price', rule: 'DECIMAL' }] });
    const stranger = await refused(importConfirmations(pool, big((r) => { r[2998] = r[2998]!.replace('GSCO', 'JPMS'); }), 'big.csv', ctx));
    expect(stranger).toMatchObject({ code: 'CONFIRMATION_FILE_INVALID', details: [{ record: 'big.csv line 3000 (W2998)', field: 'counterparty', rule: 'UNKNOWN_COUNTERPARTY' }] });
    const twice = await refused(importConfirmations(pool, big((r) => { r[4500] = r[4500]!.replace('W4500,', 'W10,'); }), 'big.csv', ctx));
    expect(twice).toMatchObject({ code: 'CONFIRMATION_FILE_INVALID', details: [{ record: 'big.csv line 4502 (W10)', field: 'conf_id', rule: 'DUPLICATE' }] });
    expect(await confsOfW()).toBe(0);
  });

  it('imports it, then the same file changes nothing and a changed record is updated', async () => {
    expect(await importConfirmations(pool, big(), 'big.csv', ctx)).toEqual({ file: 'big.csv', received: 5000, created: 5000, updated: 0, unchanged: 0 });
    expect(await confsOfW()).toBe(5000);
    const before = (await pool.query('SELECT * FROM confirmations WHERE trade_date = $1 ORDER BY id', [W])).rows;
    expect(await importConfirmations(pool, big(), 'big.csv', ctx)).toEqual({ file: 'big.csv', received: 5000, created: 0, updated: 0, unchanged: 5000 });
    expect((await pool.query('SELECT * FROM confirmations WHERE trade_date = $1 ORDER BY id', [W])).rows).toEqual(before);
    const edited = await importConfirmations(pool, big((r) => { r[7] = r[7]!.replace(/,[\d.]+$/, ',1.00'); r.push(`W5000,GSCO,${W},MSFT,sell,5,10`); }), 'big2.csv', ctx);
    expect(edited).toEqual({ file: 'big2.csv', received: 5001, created: 1, updated: 1, unchanged: 4999 });
    expect((await pool.query("SELECT price::text FROM confirmations WHERE conf_id = 'W7'")).rows).toEqual([{ price: '1.00' }]);
  });

  it('keeps a match row to confirmations and trades that exist, and them while it names them', async () => {
    const conf = (await pool.query("SELECT id FROM confirmations WHERE conf_id = 'W1'")).rows[0].id as string;
    const insert = (confirmation: string | null, trade: string | null) => pool.query(
      `INSERT INTO confirmation_matches (id, trade_date, confirmation, trade_id, status, method, created_at, created_by)
       VALUES ('cmt_test', $1, $2, $3, 'unmatched', 'auto', now(), 'tester')`, [W, confirmation, trade]);
    await expect(insert('cnf_NONE', null)).rejects.toMatchObject({ code: '23503', message: expect.stringContaining('names confirmation cnf_NONE') });
    await expect(insert(null, 'trd_NONE')).rejects.toMatchObject({ code: '23503', message: expect.stringContaining('names trade trd_NONE') });
    // Sides of other trade dates (as a manual match across dates names): found all the same.
    const ofD = (await pool.query("SELECT id FROM confirmations WHERE conf_id = 'N2'")).rows[0].id as string;
    const tx = await pool.connect();
    try {
      await tx.query('BEGIN');
      await tx.query('DELETE FROM confirmation_matches WHERE confirmation = $1 OR trade_id = $2', [ofD, tradeIds.E6]);
      const r = await tx.query(`INSERT INTO confirmation_matches (id, trade_date, confirmation, trade_id, status, method, created_at, created_by)
        VALUES ('cmt_test', $1, $2, $3, 'unmatched', 'auto', now(), 'tester')`, [W, ofD, tradeIds.E6]);
      expect(r.rowCount).toBe(1);
    } finally {
      await tx.query('ROLLBACK');
      tx.release();
    }
    await insert(conf, null);
    const named = { code: '23503', message: expect.stringContaining('is named by a confirmation match') };
    await expect(pool.query('DELETE FROM confirmations WHERE id = $1', [conf])).rejects.toMatchObject(named);
    await expect(pool.query("UPDATE confirmations SET id = 'cnf_other' WHERE id = $1", [conf])).rejects.toMatchObject(named);
    await expect(pool.query('DELETE FROM trades WHERE id = $1', [tradeIds.E1])).rejects.toMatchObject(named);
    await expect(pool.query("UPDATE trades SET id = 'trd_other' WHERE id = $1", [tradeIds.E1])).rejects.toMatchObject(named);
    await pool.query("DELETE FROM confirmation_matches WHERE id = 'cmt_test'");
    // A confirmation names a counterparty that exists, and keeps it.
    await expect(pool.query(`INSERT INTO confirmations (id, counterparty, conf_id, trade_date, symbol, side, quantity, price, source_file, line, received_at, received_by)
       VALUES ('cnf_test', 'NOBODY', 'X', $1, 'AAPL', 'buy', 1, 1, 'f', 1, now(), 'tester')`, [W])).rejects.toMatchObject({ code: '23503', message: expect.stringContaining('names counterparty NOBODY') });
    await expect(pool.query("UPDATE confirmations SET counterparty = 'NOBODY' WHERE id = $1", [conf])).rejects.toMatchObject({ code: '23503' });
    const kept = { code: '23503', message: expect.stringContaining('is named by confirmations') };
    await expect(pool.query("DELETE FROM counterparties WHERE code = 'GSCO'")).rejects.toMatchObject(kept);
    await expect(pool.query("UPDATE counterparties SET code = 'GSCX' WHERE code = 'GSCO'")).rejects.toMatchObject(kept);
  });

  it('matches the day, and treats an automatic row of another date holding one of its sides as stale', async () => {
    // As if W2 had been matched under another trade date (a confirmation re-dated): that row goes.
    const w2 = (await pool.query("SELECT id FROM confirmations WHERE conf_id = 'W2'")).rows[0].id as string;
    await pool.query(`INSERT INTO confirmation_matches (id, trade_date, confirmation, trade_id, status, method, created_at, created_by)
       VALUES ('cmt_elsewhere', '2026-03-06', $1, NULL, 'unmatched', 'auto', now(), 'tester')`, [w2]);
    const run = await matchConfirmations(pool, W, { withResults: false }, ctx);
    expect(run.summary).toEqual({ matched: 0, mismatched: 0, unmatchedConfirmations: 5001, unmatchedTrades: 0 });
    expect(run.changes).toEqual({ created: 5001, unchanged: 0, removed: 1 });
    expect((await pool.query("SELECT trade_date::text AS d FROM confirmation_matches WHERE confirmation = $1", [w2])).rows).toEqual([{ d: W }]);
    const again = await matchConfirmations(pool, W, { withResults: false }, ctx);
    expect(again).toMatchObject({ summary: run.summary, changes: { created: 0, unchanged: 5001, removed: 0 } });
  });

  it('reads both sides on its one connection when the pool has none to spare: the same result', async () => {
    const before = await listMatches(pool, D);
    const single = openPool(db.url, 1);
    try {
      const run = await matchConfirmations(single, D, {}, ctx);
      expect(run.changes.created).toBe(0);
      expect(run.results).toEqual(before.results);
      // Counted without reading the results back: the same summary, the manual match included.
      expect((await matchConfirmations(single, D, { withResults: false }, ctx)).summary).toEqual(before.summary);
      expect(before.summary.matched).toBeGreaterThan(before.results.filter((r) => r.method === 'auto' && r.status === 'matched').length);
    } finally {
      await single.end();
    }
  });
});
