/**
 * Settlement and corporate actions, end to end in the books (issue #4):
 * - cash correspondents of the SSIs (ours and the counterparty's) in the instructions against
 *   payment, sese.023 CshPties and MT541/543 sequence E3, both still valid;
 * - a symbol change (AAPL -> APLX with a new ISIN and CUSIP, effective Monday 2026-03-16): the
 *   obligations still open (a fail of 03-12, a trade of Friday 03-13 settling 03-16) move to APLX
 *   and are instructed with the new ISIN; netting again changes nothing;
 * - a 2-for-1 split of MSFT effective 03-16: the obligations of trades of 03-13 settling 03-16 are
 *   converted, quantity x 2 and cash unchanged, listed by the preview, audited, once; they settle
 *   against the street side the split adjusted, which ends at zero.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { testDb } from '../../test/db.js';
import { importTradingReference } from '../../test/trading-reference.js';
import { fixedClock } from '../kernel/index.js';
import { balances, listAudit, verifyAudit } from '../ledger/index.js';
import { importExecutions } from '../trading/index.js';
import { applyAction, importAnnouncements, previewAction } from '../accounting/index.js';
import { previewText } from '../accounting/corporate-actions/cli.js';
import { adjustObligationsIn, computeObligations, listObligations } from './obligations.js';
import { applyStatuses, instructObligations } from './lifecycle.js';
import { importSsis } from './ssi.js';
import { validateMt54x, validateSese023 } from './messages/index.js';
import { at as xmlAt, parseXml } from './messages/xml.js';

const when = (iso: string) => ({ actor: 'ops', clock: fixedClock(iso) });
const ctx = when('2026-03-10T12:00:00.000Z');
const db = await testDb();
const pool = db.pool;
const HEADER = 'exec_id,account,symbol,side,quantity,price,trade_date,counterparty,currency';
const dir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'ca-settle-'));
const read = (d: string, f: string) => fs.readFileSync(path.join(d, f), 'utf8');
const street = async (cpty: string, asset: string) =>
  (await balances(pool, { account: `assets:street:${cpty}` })).find((b) => b.asset === asset)?.balance ?? '0';
const obligation = async (date: string, cpty: string, symbol: string) => {
  const view = (await listObligations(pool, { settleDate: date, counterparty: cpty })).find((o) => o.security === symbol);
  const id = (await pool.query<{ id: string }>('SELECT id FROM settlement_obligations WHERE settle_date = $1 AND counterparty = $2 AND symbol = $3', [date, cpty, symbol])).rows[0]?.id;
  return view && { ...view, id: id! };
};
const refOf = async (id: string) => (await pool.query<{ reference: string }>('SELECT reference FROM settlement_instructions WHERE obligation_id = $1', [id])).rows[0]!.reference;

const SSIS = [
  'party,market,place_bic,agent_bic,participant,account,cash_bic,cash_account,effective_from',
  'FIRM,XNAS,DTCYUS33,BOFFUS33,,SAFE-001,CHASUS33,BOFF-USD-0001,2026-01-01',
  'GSCO,XNAS,DTCYUS33,GOLDUS33,0005,GS-DTC-0005,IRVTUS3N,GS-USD-7788,2026-01-01',
  // NSCC names no cash correspondent: its side of the cash chain stays out.
  'NSCC,XNAS,DTCYUS33,,888,NSCC-0888,,,2026-01-01',
].join('\n');

beforeAll(async () => {
  await importTradingReference(pool, ctx);
  expect(await importSsis(pool, SSIS, 'ssis.csv', ctx)).toMatchObject({ created: 3 });
  const r = await importExecutions(pool, [HEADER,
    'C1,C1001,MSFT,buy,10,400.00,2026-03-10,GSCO,USD', // settles 03-11: RVP with GSCO
    'C2,C1001,MSFT,sell,5,410.00,2026-03-11,GSCO,USD', // settles 03-12: DVP with GSCO
    'F1,C1002,AAPL,buy,20,190.00,2026-03-11,NSCC,USD', // settles 03-12: NSCC fails to deliver
    'A1,C1001,AAPL,buy,100,190.00,2026-03-13,GSCO,USD', // Friday, settles Monday 03-16 as APLX
    'M1,C1001,MSFT,buy,100,400.00,2026-03-13,GSCO,USD', // settles 03-16, after the split: 200
    'M2,C1001,MSFT,sell,4,401.00,2026-03-13,NSCC,USD', // settles 03-16: deliver 8
  ].join('\n'), ctx, { format: 'csv', source: 'test' });
  expect(r).toMatchObject({ booked: 6, quarantined: [] });
  await importAnnouncements(pool, [
    'id,kind,symbol,effective_date,ratio,new_symbol,new_isin,new_cusip,description',
    'SC-AAPL,symbol_change,AAPL,2026-03-16,,APLX,US037833AB69,037833AB6,new ticker and identifiers',
    'SPLIT-MSFT,split,MSFT,2026-03-16,2-for-1,,,,2-for-1 split',
  ].join('\n'), 'actions.csv', ctx);
});

describe('cash correspondents of the SSIs in the instructions', () => {
  it('RVP in sese.023: we pay from our account at our correspondent, GSCO is paid at its own', async () => {
    await computeObligations(pool, '2026-03-11', ctx);
    const out = dir();
    const r = await instructObligations(pool, '2026-03-11', { format: 'sese023', outDir: out }, ctx);
    expect(r.instructed.map((i) => i.settlementType)).toEqual(['RVP']);
    const xml = read(out, r.instructed[0]!.file);
    expect(validateSese023(xml)).toEqual([]);
    const cash = xmlAt(parseXml(xml).children[1], 'SctiesSttlmTxInstr/CshPties')!;
    expect(cash.children.map((c) => c.name)).toEqual(['Dbtr', 'DbtrAgt', 'Cdtr', 'CdtrAgt']);
    expect([xmlAt(cash, 'Dbtr/Id/AnyBIC')?.text, xmlAt(cash, 'Dbtr/CshAcct/Prtry')?.text, xmlAt(cash, 'DbtrAgt/Id/BICFI')?.text]).toEqual(['BOFFUS33', 'BOFF-USD-0001', 'CHASUS33']);
    // GSCO by its DTC number, as in the settlement parties.
    expect([xmlAt(cash, 'Cdtr/Id/PrtryId/Id')?.text, xmlAt(cash, 'Cdtr/CshAcct/Prtry')?.text, xmlAt(cash, 'CdtrAgt/Id/BICFI')?.text]).toEqual(['0005', 'GS-USD-7788', 'IRVTUS3N']);
    await applyStatuses(pool, `reference,status,settled_quantity,settled_amount,settle_date,reason\n${r.instructed[0]!.reference},settled,10,4000.00,2026-03-11,`, ctx);
  });

  it('MT543 and MT541 in sequence E3; a counterparty without a correspondent gets none', async () => {
    await computeObligations(pool, '2026-03-12', ctx);
    const out = dir();
    const r = await instructObligations(pool, '2026-03-12', { format: 'mt54x', outDir: out }, ctx);
    expect(r.skipped).toEqual([]);
    const byType = Object.fromEntries(r.instructed.map((i) => [i.settlementType, read(out, i.file)]));
    expect(Object.keys(byType).sort()).toEqual(['DVP', 'RVP']);
    for (const t of Object.values(byType)) expect(validateMt54x(t)).toEqual([]);
    const e3 = (t: string) => t.split('\r\n').filter((l) => /^:9[57][APRE]::(DEBT|PAYE|BENM|ACCW|CASH)/.test(l));
    // DVP with GSCO: GSCO pays (DEBT, PAYE), we are paid (BENM, ACCW).
    expect(e3(byType.DVP!)).toEqual([
      ':95R::DEBT/DTCYID/0005', ':97A::CASH//GS-USD-7788', ':95P::PAYE//IRVTUS3N', ':95P::BENM//BOFFUS33', ':97A::CASH//BOFF-USD-0001', ':95P::ACCW//CHASUS33',
    ]);
    // RVP with NSCC: we pay; NSCC's SSI has no correspondent, so no BENM / ACCW.
    expect(e3(byType.RVP!)).toEqual([':95P::DEBT//BOFFUS33', ':97A::CASH//BOFF-USD-0001', ':95P::PAYE//CHASUS33']);
    // NSCC fails, GSCO settles.
    const ids = new Map(r.instructed.map((i) => [i.settlementType, i.obligationId]));
    await applyStatuses(pool, ['reference,status,settled_quantity,settled_amount,settle_date,reason',
      `${await refOf(ids.get('DVP')!)},settled,5,2050.00,2026-03-12,`, `${await refOf(ids.get('RVP')!)},failed,,,,LACK`].join('\n'), ctx);
  });
});

describe('a symbol change and a split applied while obligations are open', () => {
  it('previews what settlement will adjust', async () => {
    await computeObligations(pool, '2026-03-16', when('2026-03-13T22:00:00.000Z'));
    const sc = await previewAction(pool, 'SC-AAPL', when('2026-03-16T07:00:00.000Z'));
    expect(sc.problems).toEqual([]);
    expect(sc.settlement!.adjustments.map((a) => [a.settleDate, a.counterparty, a.status, a.symbol, a.newSymbol, a.quantity, a.newQuantity])).toEqual([
      ['2026-03-12', 'NSCC', 'failed', 'AAPL', 'APLX', '20', '20'],
      ['2026-03-16', 'GSCO', 'pending', 'AAPL', 'APLX', '100', '100'],
      // NSCC's fail, carried into the net of 03-16.
      ['2026-03-16', 'NSCC', 'pending', 'AAPL', 'APLX', '20', '20'],
    ]);
    expect(sc.warnings.join('\n')).not.toContain('old symbol');
    const sp = await previewAction(pool, 'SPLIT-MSFT', when('2026-03-16T07:00:00.000Z'));
    expect(sp.settlement!.adjustments.map((a) => [a.counterparty, a.quantity, a.newQuantity, a.fraction])).toEqual([['GSCO', '100', '200', '0'], ['NSCC', '-4', '-8', '0']]);
    expect(previewText(sp)).toContain('settlement obligations to adjust: 2');
    expect(previewText(sp)).toMatch(/GSCO settling 2026-03-16 \(pending\): quantity 100 -> 200, cash unchanged/);
  });

  it('applies: obligations move to APLX and double in MSFT, cash unchanged, each audited', async () => {
    const cashBefore = (await obligation('2026-03-16', 'GSCO', 'MSFT'))!.cash;
    await applyAction(pool, 'SC-AAPL', when('2026-03-16T07:00:00.000Z'));
    await applyAction(pool, 'SPLIT-MSFT', when('2026-03-16T07:05:00.000Z'));
    expect(await obligation('2026-03-12', 'NSCC', 'APLX')).toMatchObject({ quantity: '20', status: 'failed' });
    expect(await obligation('2026-03-16', 'GSCO', 'APLX')).toMatchObject({ quantity: '100', status: 'pending' });
    expect(await obligation('2026-03-16', 'GSCO', 'MSFT')).toMatchObject({ quantity: '200', cash: cashBefore, grossQuantity: '200' });
    expect(await obligation('2026-03-16', 'NSCC', 'MSFT')).toMatchObject({ quantity: '-8', cash: '1604.00' });
    const audit = (await listAudit(pool, { entity: 'settlement_obligations' })).filter((x) => x.action === 'settlement.obligation.adjust');
    expect(audit.map((x) => [(x.data as { action: string }).action, (x.data as { after: { quantity: string } }).after.quantity]).sort()).toEqual([
      ['SC-AAPL', '100'], ['SC-AAPL', '20'], ['SC-AAPL', '20'], ['SPLIT-MSFT', '-8'], ['SPLIT-MSFT', '200'],
    ]);
    // Applying again, or netting the day again, changes nothing.
    const snap = async () => (await pool.query('SELECT * FROM settlement_obligations ORDER BY id')).rows;
    const before = await snap();
    expect(await applyAction(pool, 'SPLIT-MSFT', when('2026-03-16T08:00:00.000Z'))).toMatchObject({ alreadyApplied: true });
    const again = await computeObligations(pool, '2026-03-16', when('2026-03-16T08:00:00.000Z'));
    expect(again.changes).toMatchObject({ created: 0, updated: 0, removed: 0, unchanged: 4, carried: 1 });
    expect(await snap()).toEqual(before);
    expect((await pool.query('SELECT count(*)::int AS n FROM settlement_obligation_adjustments')).rows[0].n).toBe(5);
    // Settlement keeps who brought its obligations to each action and when; the terms are trading's lot events.
    expect((await pool.query(`SELECT action_id, recorded_by, to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') AS at
      FROM settlement_event_records ORDER BY action_id`)).rows).toEqual([
      { action_id: 'SC-AAPL', recorded_by: 'ops', at: '2026-03-16 07:00' },
      { action_id: 'SPLIT-MSFT', recorded_by: 'ops', at: '2026-03-16 07:05' },
    ]);
  });

  it('follows only a split trading has recorded as a lot event, in the same terms', async () => {
    const split = { actionId: 'SPLIT-MSFT-2', kind: 'split' as const, symbol: 'MSFT', effectiveDate: '2026-03-17', ratioNew: '3', ratioOld: '1' };
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      await expect(adjustObligationsIn(c, split, when('2026-03-17T07:00:00.000Z'))).rejects.toMatchObject({
        code: 'SETTLEMENT_SECURITY_EVENT_UNKNOWN', kind: 'unexpected_state', message: expect.stringContaining('is not among trading\'s lot events'),
      });
      await c.query(`INSERT INTO lot_events (id, kind, symbol, effective_date, ratio_new, ratio_old, created_at)
        VALUES ('SPLIT-MSFT-2', 'split', 'MSFT', '2026-03-17', 2, 1, now())`);
      await expect(adjustObligationsIn(c, split, when('2026-03-17T07:00:00.000Z'))).rejects.toMatchObject({
        code: 'SETTLEMENT_SECURITY_EVENT_UNKNOWN', message: expect.stringContaining('MSFT 3-for-1 effective 2026-03-17) differs from trading\'s lot event of that id (MSFT 2-for-1'),
      });
      expect((await c.query(`SELECT count(*)::int AS n FROM settlement_event_records WHERE action_id = 'SPLIT-MSFT-2'`)).rows[0].n).toBe(0);
      // In trading's terms it is followed (and recorded): the MSFT obligations of 03-16, still open, double again.
      const done = await adjustObligationsIn(c, { ...split, ratioNew: '2.0' }, when('2026-03-17T07:00:00.000Z'));
      expect(done.map((a) => [a.counterparty, a.quantity, a.newQuantity])).toEqual([['GSCO', '200', '400'], ['NSCC', '-8', '-16']]);
      expect((await c.query(`SELECT recorded_by FROM settlement_event_records WHERE action_id = 'SPLIT-MSFT-2'`)).rows).toEqual([{ recorded_by: 'ops' }]);
    } finally {
      await c.query('ROLLBACK');
      c.release();
    }
  });

  it('instructs with the current ISIN and the new quantity, then settles against the adjusted street side', async () => {
    const out = dir();
    const r = await instructObligations(pool, '2026-03-16', { format: 'sese023', outDir: out }, when('2026-03-16T09:00:00.000Z'));
    expect(r.skipped).toEqual([]);
    const doc = (id: string) => parseXml(read(out, `${id}.xml`)).children[1];
    const aplx = (await obligation('2026-03-16', 'GSCO', 'APLX'))!;
    const msft = (await obligation('2026-03-16', 'GSCO', 'MSFT'))!;
    expect(xmlAt(doc(aplx.id!), 'SctiesSttlmTxInstr/FinInstrmId/ISIN')?.text).toBe('US037833AB69');
    expect(xmlAt(doc(aplx.id!), 'SctiesSttlmTxInstr/TradDtls/TradDt/Dt/Dt')?.text).toBe('2026-03-13');
    expect(xmlAt(doc(msft.id!), 'SctiesSttlmTxInstr/QtyAndAcctDtls/SttlmQty/Qty/Unit')?.text).toBe('200');
    expect(xmlAt(doc(msft.id!), 'SctiesSttlmTxInstr/SttlmAmt/Amt')?.text).toBe('40000.00');
    // Everything of 03-16 settles as instructed: the street side of each is then flat.
    await applyStatuses(pool, ['reference,status,settled_quantity,settled_amount,settle_date,reason',
      ...(await Promise.all(r.instructed.map(async (i) => {
        const o = (await pool.query<{ q: string; c: string }>("SELECT abs(quantity)::text AS q, (abs(cash) / 100)::numeric(20,2)::text AS c FROM settlement_obligations WHERE id = $1", [i.obligationId])).rows[0]!;
        return `${i.reference},settled,${o.q},${o.c},2026-03-16,`;
      })))].join('\n'), when('2026-03-16T20:00:00.000Z'));
    expect([await street('GSCO', 'MSFT'), await street('NSCC', 'MSFT'), await street('GSCO', 'APLX'), await street('NSCC', 'APLX')]).toEqual(['0', '0', '0', '0']);
    expect((await verifyAudit(pool)).problems).toEqual([]);
  });
});
