import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../kernel/index.js';
import { detectStatusFormat, parseSettlementStatus } from './statuses.js';
import { toSese023 } from './instructions.js';

// Public fixture, copied from ../shared/fixtures with its source: test/fixtures/iso20022/SOURCES.md.
const iso = (name: string) => readFileSync(new URL(`../../../test/fixtures/iso20022/${name}`, import.meta.url), 'utf8');
// Samples written for these tests: test/fixtures/settlement/README.md.
const sample = (name: string) => readFileSync(new URL(`../../../test/fixtures/settlement/${name}`, import.meta.url), 'utf8');

function thrown(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('expected a DomainError');
}

/** Replace a piece of a text; fails the test when the piece is not there. */
function edit(text: string, from: string | RegExp, to: string): string {
  const out = text.replace(from, to);
  if (out === text) throw new Error(`test edit found nothing to replace: ${String(from)}`);
  return out;
}

describe('sese.025: the prowide T2S confirmation (public fixture)', () => {
  const xml = iso('prowide_sese025.001.09_T2S_confirmation.xml');

  it('reads the values it carries', () => {
    // AcctOwnrTxId FOO; SttldQty Unit 0; SttldAmt EUR 1; FctvSttlmDt 2024-07-17T07:26:04.207459;
    // no AddtlParams/PrtlSttlm (its PrtlSttlmInd PARQ is the instruction's partial-settlement condition).
    expect(parseSettlementStatus(xml)).toEqual([
      { format: 'sese.025', reference: 'FOO', status: 'settled', settledQuantity: '0', settledAmount: '1', currency: 'EUR', effectiveDate: '2024-07-17' },
    ]);
  });

  it('a partial settlement indicator PAIN makes it partially settled; PARC settles the rest', () => {
    const pain = edit(xml, '<TradDtls>', '<AddtlParams><PrtlSttlm>PAIN</PrtlSttlm></AddtlParams><TradDtls>');
    expect(parseSettlementStatus(pain)[0]!.status).toBe('partially_settled');
    expect(parseSettlementStatus(pain.replace('PAIN', 'PARC'))[0]!.status).toBe('settled');
    expect(thrown(() => parseSettlementStatus(pain.replace('PAIN', 'PART'))).message).toBe('sese.025: element AddtlParams/PrtlSttlm "PART" is not PAIN or PARC');
  });

  it('names the missing or bad element', () => {
    const noQty = edit(xml, /<SttldQty>[\s\S]*?<\/SttldQty>/, '');
    const e = thrown(() => parseSettlementStatus(noQty));
    expect(e.code).toBe('SETTLEMENT_STATUS_INVALID');
    expect(e.message).toBe('sese.025: element QtyAndAcctDtls/SttldQty/Qty/Unit is missing');
    expect(e.details).toEqual([{ record: 'FOO', field: 'QtyAndAcctDtls/SttldQty/Qty/Unit', rule: 'REQUIRED', message: e.message }]);
    expect(thrown(() => parseSettlementStatus(edit(xml, '<Unit>0</Unit>', '<Unit>1,5</Unit>'))).message).toBe(
      'sese.025: element QtyAndAcctDtls/SttldQty/Qty/Unit "1,5" is not a decimal number (digits, optional point)',
    );
    expect(thrown(() => parseSettlementStatus(edit(xml, /<FctvSttlmDt>[\s\S]*?<\/FctvSttlmDt>/, ''))).message).toBe('sese.025: element TradDtls/FctvSttlmDt is missing');
    expect(thrown(() => parseSettlementStatus(edit(xml, '2024-07-17T07:26:04.207459', '2024-07-32T07:26:04'))).message).toBe(
      'sese.025: element TradDtls/FctvSttlmDt/Dt/DtTm "2024-07-32T07:26:04" is not a date-time',
    );
    expect(thrown(() => parseSettlementStatus(edit(xml, 'Ccy="EUR"', 'Ccy="EURO"'))).message).toBe('sese.025: element SttldAmt/Amt/@Ccy "EURO" is not an ISO 4217 currency');
    expect(thrown(() => parseSettlementStatus(edit(xml, '<AcctOwnrTxId>FOO</AcctOwnrTxId>', ''))).message).toBe('sese.025: element TxIdDtls/AcctOwnrTxId is missing');
  });
});

describe('sese.024 status advice', () => {
  it('matched and pending with a reason (bare Document)', () => {
    expect(parseSettlementStatus(sample('sese024_matched_pending.xml'))).toEqual([
      { format: 'sese.024', reference: 'REF0001', status: 'matched' },
      { format: 'sese.024', reference: 'REF0001', status: 'pending', reasons: ['LACK: Lack of securities in the delivering account'] },
    ]);
  });

  it('unmatched with reasons, inside an envelope with a header', () => {
    expect(parseSettlementStatus(sample('sese024_unmatched_envelope.xml'))).toEqual([
      { format: 'sese.024', reference: 'REF0002', status: 'unmatched', reasons: ['DDAT: Settlement date does not match', 'DQUA'] },
    ]);
  });

  it('rejected, failing, proprietary reasons; acknowledgements alone give nothing', () => {
    const doc = (body: string) =>
      `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:sese.024.001.10"><SctiesSttlmTxStsAdvc><TxId><AcctOwnrTxId>R9</AcctOwnrTxId></TxId>${body}</SctiesSttlmTxStsAdvc></Document>`;
    expect(parseSettlementStatus(doc('<PrcgSts><Rjctd><Rsn><Cd><Cd>SAFE</Cd></Cd></Rsn></Rjctd></PrcgSts>'))).toEqual([
      { format: 'sese.024', reference: 'R9', status: 'rejected', reasons: ['SAFE'] },
    ]);
    expect(parseSettlementStatus(doc('<SttlmSts><Flng><Rsn><Cd><Prtry><Id>X01</Id><Issr>DTCY</Issr></Prtry></Cd></Rsn></Flng></SttlmSts>'))).toEqual([
      { format: 'sese.024', reference: 'R9', status: 'failed', reasons: ['X01'] },
    ]);
    expect(parseSettlementStatus(doc('<SttlmSts><Pdg><NoSpcfdRsn>NORE</NoSpcfdRsn></Pdg></SttlmSts>'))).toEqual([{ format: 'sese.024', reference: 'R9', status: 'pending' }]);
    expect(parseSettlementStatus(doc('<PrcgSts><AckdAccptd><NoSpcfdRsn>NORE</NoSpcfdRsn></AckdAccptd></PrcgSts>'))).toEqual([]);
    expect(thrown(() => parseSettlementStatus(doc('<MtchgSts><Matched/></MtchgSts>'))).message).toBe(
      'sese.024: element MtchgSts must hold one of Mtchd, Umtchd, Prtry; it holds Matched',
    );
  });
});

describe('MT544-547 confirmations', () => {
  it('a partial settlement then the rest (two MT545 in one file)', () => {
    expect(parseSettlementStatus(sample('mt545_partial_then_rest.fin'))).toEqual([
      { format: 'MT545', reference: 'REF0003', status: 'partially_settled', settledQuantity: '60', settledAmount: '11370.3', currency: 'USD', effectiveDate: '2024-07-17' },
      { format: 'MT545', reference: 'REF0003', status: 'settled', settledQuantity: '40', settledAmount: '7580.2', currency: 'USD', effectiveDate: '2024-07-18' },
    ]);
  });

  const one = sample('mt545_partial_then_rest.fin').split('-}')[0] + '-}';

  it('free-of-payment confirmations need no amount; 98C dates count', () => {
    const mt544 = edit(edit(edit(one, '{2:O545', '{2:O544'), /:16R:AMT[\s\S]*?:16S:AMT\r\n/, ''), ':98A::ESET//20240717', ':98C::ESET//20240717093000');
    expect(parseSettlementStatus(mt544)).toEqual([{ format: 'MT544', reference: 'REF0003', status: 'partially_settled', settledQuantity: '60', effectiveDate: '2024-07-17' }]);
  });

  it('names the field and the rule when something is wrong', () => {
    expect(thrown(() => parseSettlementStatus(edit(one, ':98A::ESET//20240717', ':98A::ESET//20241301'))).message).toBe(
      'MT545: field :98A::ESET// "20241301" is not a date (YYYYMMDD)',
    );
    expect(thrown(() => parseSettlementStatus(edit(one, ':98A::ESET//20240717\r\n', ''))).message).toBe('MT545: field :98a::ESET// (effective settlement date) is missing');
    expect(thrown(() => parseSettlementStatus(edit(one, ':20C::RELA//REF0003\r\n', ':20C::PREV//REF0002\r\n'))).message).toBe(
      'MT545: field :20C::RELA// is missing (sequence GENL/LINK): it names the instruction this answers',
    );
    expect(thrown(() => parseSettlementStatus(edit(one, 'UNIT/60,', 'UNIT/60.5'))).message).toMatch(/^MT545: field :36B::ESTT\/\/ "UNIT\/60\.5" is not a quantity/);
    expect(thrown(() => parseSettlementStatus(edit(one, /:16R:AMT[\s\S]*?:16S:AMT\r\n/, ''))).message).toBe(
      'MT545: field :19A::ESTT// (amount settled) is missing: MT545 confirms a settlement against payment',
    );
    expect(thrown(() => parseSettlementStatus(edit(one, 'USD11370,3', 'USD11370,305'))).message).toMatch(/^MT545: field :19A::ESTT\/\/ "USD11370,305" is not a currency and amount/);
    const e = thrown(() => parseSettlementStatus(edit(one, ':16S:FIAC', ':16S:FIACX')));
    expect(e.message).toBe('MT545: line 20: :16S:FIACX closes sequence FIAC (opened line 17)');
  });

  it('a cancelled confirmation is unsupported, or skipped when asked', () => {
    const canc = edit(one, ':23G:NEWM', ':23G:CANC');
    const e = thrown(() => parseSettlementStatus(canc));
    expect(e.code).toBe('SETTLEMENT_STATUS_UNSUPPORTED');
    expect(parseSettlementStatus(canc, { unsupported: 'skip' })).toEqual([]);
  });
});

describe('MT548 status', () => {
  it('matched, and failing with a reason and narrative', () => {
    expect(parseSettlementStatus(sample('mt548_matched_failing.fin'))).toEqual([
      { format: 'MT548', reference: 'REF0004', status: 'matched' },
      { format: 'MT548', reference: 'REF0004', status: 'failed', reasons: ['LACK: INSUFFICIENT SECURITIES IN DELIVERING ACCOUNT'] },
    ]);
  });

  const mt548 = sample('mt548_matched_failing.fin');

  it('rejection, pending, unmatched; other processing statuses give nothing', () => {
    const with25D = (v: string) => edit(mt548, ':25D::MTCH//MACH', `:25D::${v}`);
    expect(parseSettlementStatus(with25D('IPRC//REJT'))[0]).toEqual({ format: 'MT548', reference: 'REF0004', status: 'rejected' });
    expect(parseSettlementStatus(with25D('SETT//PEND'))[0]).toEqual({ format: 'MT548', reference: 'REF0004', status: 'pending' });
    expect(parseSettlementStatus(with25D('MTCH//NMAT'))[0]).toEqual({ format: 'MT548', reference: 'REF0004', status: 'unmatched' });
    expect(parseSettlementStatus(with25D('IPRC//PACK')).map((s) => s.status)).toEqual(['failed']);
  });

  it('names the field and the rule when something is wrong', () => {
    expect(thrown(() => parseSettlementStatus(edit(mt548, ':25D::SETT//PENF', ':25D::SETT//PENX'))).message).toBe('MT548: field :25D::SETT// "PENX" is not PEND or PENF');
    expect(thrown(() => parseSettlementStatus(edit(mt548, /:16R:STAT[\s\S]*:16S:STAT\r\n/, ''))).message).toBe(
      'MT548: sequence STAT is missing (in GENL): the message reports no status',
    );
    expect(thrown(() => parseSettlementStatus(edit(mt548, ':23G:INST', ':23G:XXXX'))).message).toBe('MT548: field :23G: "XXXX" is not INST or CAST');
  });

  it('a status of a cancellation request (CAST) is unsupported', () => {
    const cast = edit(mt548, ':23G:INST', ':23G:CAST');
    expect(thrown(() => parseSettlementStatus(cast)).code).toBe('SETTLEMENT_STATUS_UNSUPPORTED');
    expect(parseSettlementStatus(cast, { unsupported: 'skip' })).toEqual([]);
  });
});

describe('CSV', () => {
  it('one status per row', () => {
    expect(parseSettlementStatus(sample('statuses.csv'))).toEqual([
      { format: 'csv', reference: 'REF0005', status: 'settled', settledQuantity: '100', settledAmount: '18950.50', effectiveDate: '2024-07-17' },
      { format: 'csv', reference: 'REF0006', status: 'failed', reasons: ['LACK', 'CLAC'] },
      { format: 'csv', reference: 'REF0007', status: 'partially_settled', settledQuantity: '60', settledAmount: '11370.30', effectiveDate: '2024-07-17' },
      { format: 'csv', reference: 'REF0008', status: 'matched' },
    ]);
  });

  it('an optional currency column', () => {
    const csv = 'reference,status,settled_quantity,settled_amount,settle_date,reason,currency\nR1,settled,5,10.5,2024-07-17,,EUR\n';
    expect(parseSettlementStatus(csv)[0]).toMatchObject({ settledAmount: '10.5', currency: 'EUR' });
  });

  it('refuses the whole file, listing every bad row with line, field and rule', () => {
    const csv = `${sample('statuses.csv')}R9,setled,,,,\nR10,settled,,,2024-07-17,\nR11,failed,,,2024-13-01,\n`;
    const e = thrown(() => parseSettlementStatus(csv));
    expect(e.code).toBe('SETTLEMENT_STATUS_INVALID');
    expect(e.details).toEqual([
      { record: 'line 6', field: 'status', rule: 'CODE', message: 'CSV line 6: field status "setled" is not one of matched, unmatched, settled, partially_settled, pending, failed, rejected' },
      { record: 'line 7', field: 'settled_quantity', rule: 'REQUIRED', message: 'CSV line 7: field settled_quantity is empty: a settled row needs settled_quantity and settle_date' },
      { record: 'line 8', field: 'settle_date', rule: 'DATE', message: 'CSV line 8: field settle_date "2024-13-01" is not a date (YYYY-MM-DD)' },
    ]);
    expect(e.message).toMatch(/^3 problems in the settlement status file; nothing was read\. First: CSV line 6/);
  });

  it('refuses a header without the columns', () => {
    expect(thrown(() => parseSettlementStatus('reference,status,qty\nR1,settled,1\n')).message).toBe(
      'CSV: header lacks settled_quantity, settled_amount, settle_date, reason and has unknown column(s) qty; expected reference,status,settled_quantity,settled_amount,settle_date,reason[,currency]',
    );
  });
});

describe('format detection and what is not a status', () => {
  it('tells the formats apart by content', () => {
    expect(detectStatusFormat('\uFEFF<?xml version="1.0"?><Document/>')).toBe('xml');
    expect(detectStatusFormat('{1:F01OURBUS33AXXX0000000000}')).toBe('mt');
    expect(detectStatusFormat('Reference,Status\n')).toBe('csv');
    expect(detectStatusFormat('hello')).toBeUndefined();
  });

  it('refuses what it cannot read, saying why', () => {
    expect(thrown(() => parseSettlementStatus('')).message).toBe('settlement status file is empty');
    expect(thrown(() => parseSettlementStatus('hello')).message).toMatch(/^cannot tell the settlement status format/);
    expect(thrown(() => parseSettlementStatus('<Document><a></Document>')).message).toMatch(/^XML: not well-formed XML \(line 1/);
    // Our own instruction is not a status.
    const sese023 = toSese023(
      { id: 'o1', direction: 'receive', payment: 'free', isin: 'US0378331005', quantity: '1', tradeDate: '2024-07-16', settleDate: '2024-07-17', account: 'A', counterparty: { name: 'C' }, place: { bic: 'DTCYUS33' }, ourBic: 'OURBUS33' },
      { messageId: 'M', createdAt: new Date('2024-07-16T00:00:00Z') },
    );
    expect(thrown(() => parseSettlementStatus(sese023)).message).toBe('XML: Document namespace "urn:iso:std:iso:20022:tech:xsd:sese.023.001.09" is neither sese.024 nor sese.025');
    expect(thrown(() => parseSettlementStatus('{1:F01OURBUS33AXXX0000000000}{2:I541DTCYUS33XXXXN}{4:\r\n:16R:GENL\r\n:16S:GENL\r\n-}')).message).toBe(
      'MT541: not a settlement confirmation or status (MT544-548)',
    );
  });

  it('one bad message refuses the file, naming which', () => {
    const two = sample('mt545_partial_then_rest.fin').replace(':98A::ESET//20240718', ':98A::ESET//2024071');
    const e = thrown(() => parseSettlementStatus(two));
    expect(e.details).toEqual([{ record: 'message 2', field: ':98A::ESET//', rule: 'DATE', message: 'MT545: field :98A::ESET// "2024071" is not a date (YYYYMMDD)' }]);
  });
});
