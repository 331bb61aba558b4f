import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { testDb } from '../../test/db.js';
import { importTradingReference } from '../../test/trading-reference.js';
import { DomainError, fixedClock } from '../kernel/index.js';
import { listAudit, verifyAudit } from '../ledger/index.js';
import { importExecutions } from '../trading/index.js';
import type { Db } from '../db/index.js';
import { computeObligations } from './obligations.js';
import { validateMt54x, validateSese023 } from './messages/index.js';
import { instructObligations } from './lifecycle.js';
import { importSsis, listSsis, loadSsiBook, pickSsi, ssiCommands } from './ssi.js';

const ctx = { actor: 'tester', clock: fixedClock('2026-03-04T22:00:00.000Z') };
const db = await testDb();
const pool = db.pool;
const sfx = (f: string) => fs.readFileSync(`test/fixtures/settlement/ssi/${f}`, 'utf8');
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ssi-'));
const count = async () => Number((await pool.query('SELECT count(*)::int AS n FROM settlement_ssis')).rows[0].n);
const ids = async (date: string) => new Map((await pool.query<{ k: string; id: string }>(
  "SELECT counterparty || ' ' || symbol AS k, id FROM settlement_obligations WHERE settle_date = $1", [date])).rows.map((r) => [r.k, r.id]));

beforeAll(async () => {
  await importTradingReference(pool, ctx);
  const r = await importExecutions(pool, ['exec_id,account,symbol,side,quantity,price,trade_date,counterparty,currency',
    'S1,C1002,AAPL,buy,100,190.00,2026-03-04,GSCO,USD',
    'S2,C1003,MSFT,sell,50,400.00,2026-03-04,GSCO,USD',
    'S3,C1002,AAPL,sell,30,190.00,2026-03-04,NSCC,USD',
    'S4,C1002,VOD,sell,1000,0.75,2026-03-04,GSCO,GBP',
  ].join('\n'), ctx, { format: 'csv' });
  expect(r).toMatchObject({ booked: 4, quarantined: [] });
  await computeObligations(pool, '2026-03-05', ctx);
  await computeObligations(pool, '2026-03-06', ctx);
});

describe('standing settlement instructions', () => {
  it('refuses a bad file whole, naming each row, field and rule', async () => {
    const e = await importSsis(pool, sfx('bad.csv'), 'bad.csv', ctx).catch((x: unknown) => x) as DomainError;
    expect(e).toBeInstanceOf(DomainError);
    expect(e.code).toBe('SETTLEMENT_SSI_FILE_INVALID');
    expect(e.details.map((d) => [d.record, d.field, d.rule])).toEqual([
      ['bad.csv line 3 (JPMS)', 'party', 'UNKNOWN_PARTY'],
      ['bad.csv line 4 (GSCO)', 'market', 'MARKET'],
      ['bad.csv line 4 (GSCO)', 'place_bic', 'BIC'],
      ['bad.csv line 5 (NSCC)', 'account', 'REQUIRED'],
      ['bad.csv line 5 (NSCC)', 'asset_class', 'ENUM'],
      ['bad.csv line 5 (NSCC)', 'currency', 'ISO4217'],
      ['bad.csv line 5 (NSCC)', 'agent_bic', 'REQUIRED'],
      ['bad.csv line 5 (NSCC)', 'effective_from', 'DATE'],
      ['bad.csv line 6 (GSCO)', 'effective_to', 'DATE_ORDER'],
      ['bad.csv line 7 (FIRM)', 'agent_bic', 'REQUIRED'],
      ['bad.csv line 8 (GSCO)', 'effective_from', 'OVERLAP'],
    ]);
    expect(e.message).toContain('nothing was applied');
    expect(await count()).toBe(0);
  });

  it('imports, then the same file changes nothing; a change is an update; each audited', async () => {
    expect(await importSsis(pool, sfx('ssis.csv'), 'ssis.csv', ctx)).toEqual({ file: 'ssis.csv', received: 5, created: 5, updated: 0, unchanged: 0 });
    const before = (await pool.query('SELECT * FROM settlement_ssis ORDER BY id')).rows;
    expect(await importSsis(pool, sfx('ssis.csv'), 'ssis.csv', { actor: 'other', clock: fixedClock('2026-03-05T08:00:00Z') }))
      .toEqual({ file: 'ssis.csv', received: 5, created: 0, updated: 0, unchanged: 5 });
    expect((await pool.query('SELECT * FROM settlement_ssis ORDER BY id')).rows).toEqual(before);
    const changed = sfx('ssis.csv').replace('GSLON-1', 'GSLON-2');
    expect(await importSsis(pool, changed, 'ssis-2.csv', ctx)).toMatchObject({ created: 0, updated: 1, unchanged: 4 });
    const audit = await listAudit(pool, { entity: 'settlement_ssis' });
    expect(audit.map((a) => a.action).sort()).toEqual([...Array(5).fill('settlement.ssi.create'), 'settlement.ssi.update'].sort());
    expect(audit.find((a) => a.action === 'settlement.ssi.update')!.data).toMatchObject({ party: 'GSCO', market: 'XLON', before: { account: 'GSLON-1' } });
    // Put it back.
    await importSsis(pool, sfx('ssis.csv'), 'ssis.csv', ctx);
  });

  it('refuses an SSI that would overlap a stored one, unless the same file ends the old one', async () => {
    const add = 'party,market,place_bic,agent_bic,account,effective_from\nGSCO,XLON,CRSTGB22,GOLDGB2L,X-1,2026-02-01\nGSCO,XLON,CRSTGB22,GOLDGB2L,X-2,2026-02-01\n';
    const dup = await importSsis(pool, add, 'dup.csv', ctx).catch((x: unknown) => x) as DomainError;
    expect(dup.details.map((d) => d.rule)).toEqual(['DUPLICATE']);
    const over = 'party,market,place_bic,agent_bic,participant,account,effective_from\nGSCO,XNAS,DTCYUS33,GOLDUS33,0005,GS-NEW,2026-03-15\n';
    const e = await importSsis(pool, over, 'over.csv', ctx).catch((x: unknown) => x) as DomainError;
    expect(e.details).toEqual([expect.objectContaining({ record: 'over.csv line 2 (GSCO)', field: 'effective_from', rule: 'OVERLAP' })]);
    expect(e.details[0]!.message).toContain('overlaps the stored SSI from 2026-01-01 to 2026-03-31');
    expect(await count()).toBe(5);
  });

  it('lists them and picks the one in force, the most specific first', async () => {
    expect((await listSsis(pool, { party: 'GSCO', market: 'XNAS' })).map((s) => [s.account, s.effectiveFrom, s.effectiveTo])).toEqual([
      ['GS-DTC-0005', '2026-01-01', '2026-03-31'], ['GS-DTC-0005-B', '2026-04-01', null],
    ]);
    expect((await listSsis(pool, { party: 'FIRM' })).map((s) => s.market)).toEqual(['XLON', 'XNAS']);
    const march = await loadSsiBook(pool, '2026-03-05');
    const april = await loadSsiBook(pool, '2026-04-01');
    const q = { party: 'GSCO', market: 'XNAS', assetClass: 'equity', currency: 'USD' };
    expect(pickSsi(march, q)?.account).toBe('GS-DTC-0005');
    expect(pickSsi(april, q)?.account).toBe('GS-DTC-0005-B');
    expect(pickSsi(march, { party: 'GSCO', market: 'XLON', assetClass: 'equity', currency: 'GBP' })?.account).toBe('GSLON-1');
    // The XLON SSI is for GBP equities only.
    expect(pickSsi(march, { party: 'GSCO', market: 'XLON', assetClass: 'bond', currency: 'GBP' })).toBeUndefined();
    expect(pickSsi(march, { party: 'NSCC', market: 'XNAS', assetClass: 'equity', currency: 'USD' })).toBeUndefined();
  });

  it('instructs with the SSIs\' parties (PSET, agent with its SAFE account, the counterparty behind it) and refuses an obligation without one', async () => {
    const id = await ids('2026-03-05');
    // No --our-bic or account: ours come from the firm's SSI.
    const r = await instructObligations(pool, '2026-03-05', { format: 'sese023', outDir: out }, ctx);
    expect(r.instructed.map((x) => [x.obligationId, x.settlementType])).toEqual([[id.get('GSCO AAPL'), 'RVP'], [id.get('GSCO MSFT'), 'DVP']]);
    expect(r.skipped).toEqual([{
      obligationId: id.get('NSCC AAPL'), counterparty: 'NSCC', security: 'AAPL', rule: 'SETTLEMENT_SSI_MISSING',
      reason: `obligation ${id.get('NSCC AAPL')} (NSCC AAPL 2026-03-05): no standing settlement instruction for NSCC in XNAS (equity, USD) in force on 2026-03-05: import one (settlement ssi import)`,
    }]);
    const xml = fs.readFileSync(path.join(out, `${id.get('GSCO AAPL')}.xml`), 'utf8');
    expect(validateSese023(xml)).toEqual([]);
    // Receiving from GSCO: its agent (DTC participant 0005) with its account delivers; GSCO itself is the seller behind it.
    const dlvrg = /<DlvrgSttlmPties>([\s\S]*?)<\/DlvrgSttlmPties>/.exec(xml)![1]!.replace(/\s+/g, '');
    expect(dlvrg).toBe('<Dpstry><Id><AnyBIC>DTCYUS33</AnyBIC></Id></Dpstry><Pty1><Id><PrtryId><Id>0005</Id><Issr>DTCYID</Issr></PrtryId></Id>'
      + '<SfkpgAcct><Id>GS-DTC-0005</Id></SfkpgAcct></Pty1><Pty2><Id><PrtryId><Id>0005</Id><Issr>DTCYID</Issr></PrtryId></Id></Pty2>');
    expect(/<QtyAndAcctDtls>([\s\S]*?)<\/QtyAndAcctDtls>/.exec(xml)![1]!.replace(/\s+/g, '')).toContain('<SfkpgAcct><Id>SAFE-001</Id></SfkpgAcct>');
    expect(/<RcvgSttlmPties>([\s\S]*?)<\/RcvgSttlmPties>/.exec(xml)![1]!.replace(/\s+/g, '')).toBe('<Dpstry><Id><AnyBIC>DTCYUS33</AnyBIC></Id></Dpstry><Pty1><Id><AnyBIC>BOFFUS33</AnyBIC></Id></Pty1>');
    const stored = (await pool.query('SELECT parties FROM settlement_instructions WHERE obligation_id = $1', [id.get('GSCO AAPL')])).rows[0].parties;
    expect(stored).toMatchObject({ ourBic: 'BOFFUS33', account: 'SAFE-001', placeBic: 'DTCYUS33', agent: { dtcParticipant: '0005', account: 'GS-DTC-0005' } });
  });

  it('instructs a London delivery as MT543 through the agent the SSI names, from our CREST account', async () => {
    const id = await ids('2026-03-06');
    // The configured BIC is not used where the firm has an SSI.
    const r = await instructObligations(pool, '2026-03-06', { format: 'mt54x', outDir: out, ourBic: 'OTHRUS33', safekeepingAccount: 'NOT-USED' }, ctx);
    expect(r.skipped).toEqual([]);
    const vod = r.instructed.find((x) => x.obligationId === id.get('GSCO VOD'))!;
    const fin = fs.readFileSync(path.join(out, vod.file), 'utf8');
    expect(validateMt54x(fin)).toEqual([]);
    expect(fin).toMatch(/^\{1:F01BOFFGB22AXXX/);
    expect(fin).toContain('{2:I543CRSTGB22');
    for (const line of [':97A::SAFE//BOFF-CREST', ':95P::REAG//GOLDGB2L', ':97A::SAFE//GSLON-1', ':95R::BUYR/DTCYID/0005', ':95P::DEAG//BOFFGB22', ':95P::PSET//CRSTGB22', ':19A::SETT//GBP750,']) {
      expect(fin).toContain(line);
    }
  });

  it('refuses an obligation whose SSIs name two places of settlement', async () => {
    await importSsis(pool, 'party,market,currency,place_bic,agent_bic,account,effective_from\nNSCC,XNAS,USD,DTCYUS33,NSCCUS33,NSCC-1,2026-01-01\n'
      + 'FIRM,XNAS,USD,FRNYUS33,BOFFUS33,FED-1,2026-01-01\n', 'place.csv', ctx);
    const r = await instructObligations(pool, '2026-03-05', { format: 'sese023', outDir: out }, ctx);
    expect(r.skipped.map((x) => [x.counterparty, x.rule])).toEqual([['NSCC', 'SETTLEMENT_SSI_PLACE_MISMATCH']]);
    expect(r.skipped[0]!.reason).toContain('NSCC\'s DTCYUS33');
  });

  it('imports and lists from the command line', async () => {
    const printed: string[] = [];
    const cli = () => {
      const program = new Command('backoffice').exitOverride();
      ssiCommands(program, (fn) => fn({ pool } as Db), (json, value, text) => printed.push(json ? JSON.stringify(value) : text()), () => ctx);
      return program;
    };
    await cli().parseAsync(['settlement', 'ssi', 'import', 'test/fixtures/settlement/ssi/ssis.csv', '--json'], { from: 'user' });
    expect(JSON.parse(printed.pop()!)).toMatchObject({ received: 5, created: 0, unchanged: 5 });
    await cli().parseAsync(['settlement', 'ssi', 'list', '--party', 'GSCO', '--as-of', '2026-04-02'], { from: 'user' });
    const text = printed.pop()!;
    expect(text).toContain('GS-DTC-0005-B');
    expect(text).not.toContain('GS-DTC-0005 ');
    expect((await verifyAudit(pool)).ok).toBe(true);
  });
});
