import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import { DomainError } from '../kernel/index.js';
import { isFixText, parseFixConfirmations } from './fix-confirmations.js';
import { parseConfirmations } from './confirmations.js';

const fx = (f: string) => fs.readFileSync(`test/fixtures/settlement/confirmations/${f}`, 'utf8');
const SOH = '\x01';

/** A FIX 4.4 message with its BodyLength and CheckSum computed, '|' delimited. */
function fix(fields: [number, string][], type = 'AK', begin = 'FIX.4.4'): string {
  const body = [[35, type], [49, 'GSCO'], [56, 'BOFF'], [34, '9'], [52, '20260309-21:00:00.000'], ...fields].map(([t, v]) => `${t}=${v}${SOH}`).join('');
  const all = `8=${begin}${SOH}9=${Buffer.byteLength(body)}${SOH}${body}`;
  let sum = 0;
  for (const b of Buffer.from(all)) sum += b;
  return `${all}10=${String(sum % 256).padStart(3, '0')}${SOH}`.replaceAll(SOH, '|');
}
const AK: [number, string][] = [[664, 'X1'], [666, '0'], [773, '2'], [665, '4'], [453, '1'], [448, 'GSCO'], [447, 'C'], [452, '1'],
  [60, '20260309-20:45:00.000'], [75, '20260309'], [55, 'AAPL'], [80, '100'], [54, '1'], [79, 'STREET'], [6, '190.25'], [381, '19025.00'], [118, '19025.00']];
const refused = (text: string) => {
  try { parseConfirmations(text, 'f.fix'); } catch (e) { return e as DomainError; }
  throw new Error('not refused');
};

describe('FIX 4.4 confirmations', () => {
  it('tells FIX from CSV by content', () => {
    expect(isFixText(fx('gsco.fix'))).toBe(true);
    expect(isFixText(fx('nscc.fix'))).toBe(true);
    expect(isFixText(fx('street-2026-03-09.csv'))).toBe(false);
    expect(isFixText('\uFEFF\n# comment\n8=FIX.4.4|9=5|')).toBe(true);
  });

  it('maps Confirmation (AK) and AllocationReport (AS) to confirmations, skipping status and session messages', () => {
    const { inputs, skipped } = parseFixConfirmations(fx('gsco.fix'), 'gsco.fix');
    expect(inputs).toEqual([
      { confId: 'GC1', counterparty: 'GSCO', tradeDate: '2026-03-09', symbol: 'AAPL', side: 'buy', quantity: '100', price: '190.25',
        settleDate: '2026-03-10', ourRef: null, affirmedAt: null, line: 2 },
      // AS: AllocReportID, Quantity (53); the single ExecID of the exec group is our reference.
      { confId: 'GA1', counterparty: 'GSCO', tradeDate: '2026-03-09', symbol: 'MSFT', side: 'sell', quantity: '200', price: '400.05',
        settleDate: '2026-03-10', ourRef: 'E2', affirmedAt: null, line: 3 },
      { confId: 'GC2', counterparty: 'GSCO', tradeDate: '2026-03-09', symbol: 'TSLA', side: 'buy', quantity: '10', price: '250.00',
        settleDate: '2026-03-10', ourRef: null, affirmedAt: null, line: 6 },
    ]);
    expect(skipped.map((s) => [s.message, s.msgType, s.id, s.reason])).toEqual([
      [3, '0', null, 'session message (MsgType 0)'],
      [4, 'AK', 'GS1', 'ConfirmType (773) 1 (status): no trade to confirm'],
    ]);
    // parseConfirmations takes the same file (what importConfirmations and the end of day call).
    expect(parseConfirmations(fx('gsco.fix'), 'gsco.fix')).toEqual(inputs);
  });

  it('reads SOH-delimited messages; the counterparty is the contra firm when the sender is not a party', () => {
    const rows = parseConfirmations(fx('nscc.fix'), 'nscc.fix');
    expect(rows.map((r) => [r.confId, r.counterparty, r.side, r.quantity, r.price])).toEqual([
      ['NC1', 'NSCC', 'buy', '50', '191.00'],
      // Side 5 (sell short): the street sees a sale.
      ['NC2', 'NSCC', 'sell', '25', '401.50'],
    ]);
  });

  it('the sender among the parties is the counterparty, before the contra firm', () => {
    const parties: [number, string][] = [[453, '2'], [448, 'GSCO'], [447, 'C'], [452, '1'], [448, 'BOFF'], [447, 'C'], [452, '17']];
    const msg = fix(AK.flatMap((f): [number, string][] => (f[0] === 453 ? parties : [448, 447, 452].includes(f[0]) ? [] : [f])));
    expect(parseConfirmations(msg, 'f.fix')[0]!.counterparty).toBe('GSCO');
  });

  it('a replace updates the confirmation it names (ConfirmRefID)', () => {
    const [r] = parseConfirmations(fx('gsco-replace.fix'), 'gsco-replace.fix');
    expect(r).toMatchObject({ confId: 'GC2', symbol: 'MSFT', quantity: '10' });
    // New and replace in one file: the replace stands.
    const both = parseConfirmations([fx('gsco.fix'), fx('gsco-replace.fix')].join(''), 'both.fix');
    expect(both.filter((x) => x.confId === 'GC2').map((x) => x.symbol)).toEqual(['MSFT']);
  });

  it('takes the SecurityID when the symbol is [N/A]', () => {
    const msg = fix(AK.map((f): [number, string] => (f[0] === 55 ? [55, '[N/A]'] : f)).concat([[48, 'US0378331005'], [22, '4']]));
    expect(parseConfirmations(msg, 'f.fix')[0]!.symbol).toBe('US0378331005');
  });

  it('refuses the whole file, naming each bad message, the tag and the rule', () => {
    const e = refused(fx('bad.fix'));
    expect(e.code).toBe('CONFIRMATION_FILE_INVALID');
    expect(e.details.map((d) => [d.record, d.field, d.rule])).toEqual([
      ['f.fix message 2 (line 2, MsgSeqNum 2, ConfirmID B2)', 'AvgPx (6)', 'REQUIRED'],
      ['f.fix message 3 (line 3)', 'CheckSum (10)', 'FIX_CHECKSUM'],
    ]);
    expect(e.message).toContain('nothing was applied');
    expect(e.details[0]!.message).toContain('AvgPx (6) is required but missing');
  });

  it('refuses bad values, other message types, FIX 4.2, a cancel and a party-less confirmation', () => {
    const cases: [string, string, string][] = [
      [fix(AK.map((f): [number, string] => (f[0] === 54 ? [54, '8'] : f))), 'Side (54)', 'SIDE'],
      [fix(AK.map((f): [number, string] => (f[0] === 665 ? [665, '9'] : f))), 'ConfirmStatus (665)', 'ENUM'],
      [fix(AK.map((f): [number, string] => (f[0] === 80 ? [80, '-5'] : f))), 'AllocQty (80)', 'DECIMAL'],
      [fix(AK.map((f): [number, string] => (f[0] === 75 ? [75, '20260230'] : f))), 'TradeDate (75)', 'DATE'],
      [fix(AK, '8'), 'MsgType (35)', 'MSG_TYPE'],
      [fix(AK, 'AK', 'FIX.4.2'), 'BeginString (8)', 'BEGIN_STRING'],
      [fix(AK.map((f): [number, string] => (f[0] === 666 ? [666, '2'] : f))), 'ConfirmTransType (666)', 'CANCEL_NOT_SUPPORTED'],
      [fix(AK.map((f): [number, string] => (f[0] === 666 ? [666, '1'] : f))), 'ConfirmRefID (772)', 'REQUIRED'],
      [fix(AK.map((f): [number, string] => (f[0] === 452 ? [452, '3'] : f))), 'NoPartyIDs (453)', 'COUNTERPARTY'],
      [fix(AK.map((f): [number, string] => (f[0] === 453 ? [453, '2'] : f))), 'NoPartyIDs (453)', 'FIX_GROUP_COUNT'],
    ];
    for (const [text, field, rule] of cases) {
      const e = refused(text);
      expect(e.details[0]!.field, text).toBe(field);
      if (rule) expect(e.details[0]!.rule, text).toBe(rule);
    }
  });

  it('refuses two new confirmations with one id', () => {
    const e = refused([fix(AK), fix(AK)].join('\n'));
    expect(e.details.map((d) => [d.field, d.rule])).toEqual([['ConfirmID (664)', 'DUPLICATE']]);
  });
});
