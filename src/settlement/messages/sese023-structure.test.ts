import { describe, expect, it } from 'vitest';
import { toSese023, type Obligation } from './instructions.js';
import { SESE023_STRUCTURE, validateSese023 } from './sese023-structure.js';

const CREATED = new Date('2024-07-16T18:30:00Z');
const base: Obligation = {
  id: 'obl_1',
  direction: 'deliver',
  payment: 'against',
  isin: 'US0378331005',
  quantity: '100',
  amount: '18950.50',
  currency: 'USD',
  tradeDate: '2024-07-16',
  settleDate: '2024-07-17',
  account: '12345678',
  counterparty: { bic: 'CPTYUS33', name: 'Counterparty' },
  place: { bic: 'DTCYUS33' },
  ourBic: 'OURBUS33',
};
const dvp = toSese023(base, { messageId: 'MSG1', createdAt: CREATED });
const fop = toSese023({ ...base, direction: 'receive', payment: 'free', amount: undefined, currency: undefined }, { messageId: 'MSG2', createdAt: CREATED });

/** The message with one exact piece of text replaced; fails the test if the piece is not there. */
function edit(xml: string, from: string | RegExp, to: string): string {
  const out = xml.replace(from, to);
  if (out === xml) throw new Error(`test edit found nothing to replace: ${String(from)}`);
  return out;
}

/** Just the Document, without envelope and header. */
const bare = (xml: string) => `<?xml version="1.0"?>\n${xml.slice(xml.indexOf('<Document'), xml.indexOf('</Document>') + '</Document>'.length)}`;

describe('validateSese023 passes good messages', () => {
  it('with header and envelope, and as a bare Document', () => {
    expect(validateSese023(dvp)).toEqual([]);
    expect(validateSese023(fop)).toEqual([]);
    expect(validateSese023(bare(dvp))).toEqual([]);
  });

  it('accepts optional elements of the standard in their place, and date-times', () => {
    const more = edit(
      dvp,
      /<SttlmParams>\s*<SctiesTxTp>\s*<Cd>TRAD<\/Cd>\s*<\/SctiesTxTp>/,
      '<SttlmParams><HldInd><Ind>false</Ind></HldInd><SctiesTxTp><Cd>TRAD</Cd></SctiesTxTp><PrtlSttlmInd>NPAR</PrtlSttlmInd>',
    ).replace('<Dt>2024-07-16</Dt>', '<DtTm>2024-07-16T15:59:59.5Z</DtTm>');
    expect(validateSese023(more)).toEqual([]);
  });

  it('its structure data refers only to types it defines', () => {
    const known = new Set([...Object.keys(SESE023_STRUCTURE.complex), ...Object.keys(SESE023_STRUCTURE.simple), 'any']);
    for (const t of Object.values(SESE023_STRUCTURE.complex)) {
      for (const e of [...(t.seq ?? []), ...(t.choice ?? [])]) expect(known, `${e.name}: ${e.type}`).toContain(e.type);
    }
  });
});

describe('validateSese023 for each of RFP, RVP, DFP, DVP', () => {
  const kinds = [
    ['receive', 'free'],
    ['receive', 'against'],
    ['deliver', 'free'],
    ['deliver', 'against'],
  ] as const;
  for (const [direction, payment] of kinds) {
    it(`${direction} ${payment}: passes as written, fails with an element missing, a bad BIC, elements out of order`, () => {
      const o: Obligation = payment === 'free' ? { ...base, direction, payment, amount: undefined, currency: undefined } : { ...base, direction, payment };
      const xml = toSese023(o, { messageId: 'MSG', createdAt: CREATED });
      expect(validateSese023(xml)).toEqual([]);
      expect(validateSese023(edit(xml, /<SfkpgAcct>[\s\S]*?<\/SfkpgAcct>/, ''))).toEqual(['sese.023: element SctiesSttlmTxInstr/QtyAndAcctDtls/SfkpgAcct is missing']);
      const side = direction === 'receive' ? 'DlvrgSttlmPties' : 'RcvgSttlmPties';
      expect(validateSese023(edit(xml, '<AnyBIC>CPTYUS33</AnyBIC>', '<AnyBIC>CPTYUS3</AnyBIC>'))).toEqual([
        `sese.023: element SctiesSttlmTxInstr/${side}/Pty1/Id/AnyBIC "CPTYUS3" is not a valid BIC (8 or 11 characters: 4 bank, 2 country letters, 2 location, optional 3 branch)`,
      ]);
      const mvmnt = xml.match(/<SttlmTpAndAddtlParams>[\s\S]*?<\/SttlmTpAndAddtlParams>/)![0];
      expect(validateSese023(edit(edit(xml, mvmnt, ''), '<FinInstrmId>', `${mvmnt}<FinInstrmId>`))).toEqual([
        'sese.023: element SctiesSttlmTxInstr/SttlmTpAndAddtlParams is out of order: it must come before TradDtls',
      ]);
    });
  }
});

describe('validateSese023 catches broken messages', () => {
  it('a missing mandatory element', () => {
    const noAcct = edit(dvp, /<SfkpgAcct>\s*<Id>12345678<\/Id>\s*<\/SfkpgAcct>/, '');
    expect(validateSese023(noAcct)).toEqual(['sese.023: element SctiesSttlmTxInstr/QtyAndAcctDtls/SfkpgAcct is missing']);
    const noTxId = edit(dvp, '<TxId>obl_1</TxId>', '');
    expect(validateSese023(noTxId)).toEqual(['sese.023: element SctiesSttlmTxInstr/TxId is missing']);
    const noSttlmDt = edit(dvp, /<SttlmDt>[\s\S]*?<\/SttlmDt>/, '');
    expect(validateSese023(noSttlmDt)).toEqual(['sese.023: element SctiesSttlmTxInstr/TradDtls/SttlmDt is missing']);
    const emptyQty = edit(dvp, /<Qty>\s*<Unit>100<\/Unit>\s*<\/Qty>/, '<Qty></Qty>');
    expect(validateSese023(emptyQty)).toEqual(['sese.023: element SctiesSttlmTxInstr/QtyAndAcctDtls/SttlmQty/Qty must hold one of Unit, FaceAmt, AmtsdVal; it is empty']);
  });

  it('a bad BIC', () => {
    expect(validateSese023(edit(dvp, '<AnyBIC>CPTYUS33</AnyBIC>', '<AnyBIC>CPTY US33</AnyBIC>'))).toEqual([
      'sese.023: element SctiesSttlmTxInstr/RcvgSttlmPties/Pty1/Id/AnyBIC "CPTY US33" is not a valid BIC (8 or 11 characters: 4 bank, 2 country letters, 2 location, optional 3 branch)',
    ]);
    expect(validateSese023(edit(dvp, '<BICFI>DTCYUS33</BICFI>', '<BICFI>DTCY1S33</BICFI>'))).toEqual([
      'head.001: element To/FIId/FinInstnId/BICFI "DTCY1S33" is not a valid BIC (8 or 11 characters: 4 bank, 2 country letters, 2 location, optional 3 branch)',
    ]);
  });

  it('elements in the wrong order', () => {
    const fin = dvp.match(/<FinInstrmId>[\s\S]*?<\/FinInstrmId>/)![0];
    const swapped = edit(edit(dvp, fin, ''), '<TradDtls>', `${fin}<TradDtls>`);
    expect(validateSese023(swapped)).toEqual(['sese.023: element SctiesSttlmTxInstr/TradDtls is out of order: it must come before FinInstrmId']);
    const amtFirst = edit(dvp, /<Amt Ccy="USD">18950.50<\/Amt>\s*<CdtDbtInd>CRDT<\/CdtDbtInd>/, '<CdtDbtInd>CRDT</CdtDbtInd><Amt Ccy="USD">18950.50</Amt>');
    expect(validateSese023(amtFirst)).toEqual(['sese.023: element SctiesSttlmTxInstr/SttlmAmt/Amt is out of order: it must come before CdtDbtInd']);
  });

  it('codes outside their list, bad patterns, dates and decimals', () => {
    const errs = validateSese023(
      edit(edit(edit(edit(edit(dvp, '<Pmt>APMT</Pmt>', '<Pmt>DVP</Pmt>'), '<ISIN>US0378331005</ISIN>', '<ISIN>US037833100</ISIN>'), '<Dt>2024-07-17</Dt>', '<Dt>2024-02-30</Dt>'), '18950.50', '18950.500001'), '<Unit>100</Unit>', '<Unit>1e2</Unit>'),
    );
    expect(errs).toEqual([
      'sese.023: element SctiesSttlmTxInstr/SttlmTpAndAddtlParams/Pmt "DVP" is not one of FREE, APMT',
      'sese.023: element SctiesSttlmTxInstr/TradDtls/SttlmDt/Dt/Dt "2024-02-30" is not a date (YYYY-MM-DD)',
      'sese.023: element SctiesSttlmTxInstr/FinInstrmId/ISIN "US037833100" is not a valid ISIN (2 letters, 9 letters or digits, 1 check digit)',
      'sese.023: element SctiesSttlmTxInstr/QtyAndAcctDtls/SttlmQty/Qty/Unit "1e2" is not a decimal number',
      'sese.023: element SctiesSttlmTxInstr/SttlmAmt/Amt "18950.500001" has 6 decimals; at most 5 allowed',
    ]);
    expect(validateSese023(edit(dvp, '18950.50', '1234567890123456789'))).toEqual([
      'sese.023: element SctiesSttlmTxInstr/SttlmAmt/Amt "1234567890123456789" has 19 digits; at most 18 allowed',
    ]);
    expect(validateSese023(edit(dvp, 'Ccy="USD"', 'Ccy="usd"'))).toEqual([
      'sese.023: element SctiesSttlmTxInstr/SttlmAmt/Amt/@Ccy "usd" is not a valid currency code (3 letters)',
    ]);
    expect(validateSese023(edit(dvp, '<TxId>obl_1</TxId>', `<TxId>${'x'.repeat(36)}</TxId>`))).toEqual([
      'sese.023: element SctiesSttlmTxInstr/TxId "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" must be 1 to 35 characters, has 36',
    ]);
  });

  it('choices with two branches, unknown elements and attributes, text where elements go', () => {
    expect(validateSese023(edit(dvp, '<Unit>100</Unit>', '<Unit>100</Unit><FaceAmt>100</FaceAmt>'))).toEqual([
      'sese.023: element SctiesSttlmTxInstr/QtyAndAcctDtls/SttlmQty/Qty must hold exactly one of Unit, FaceAmt, AmtsdVal; it holds Unit, FaceAmt',
    ]);
    expect(validateSese023(edit(dvp, '<TxId>obl_1</TxId>', '<TxId>obl_1</TxId><Foo>1</Foo>'))).toEqual(['sese.023: element SctiesSttlmTxInstr/Foo is not allowed here']);
    expect(validateSese023(edit(dvp, '<Amt Ccy="USD">', '<Amt Ccy="USD" Rate="1">'))).toEqual(['sese.023: element SctiesSttlmTxInstr/SttlmAmt/Amt has an attribute Rate the standard does not define']);
    expect(validateSese023(edit(dvp, '<Amt Ccy="USD">', '<Amt>'))).toEqual(['sese.023: element SctiesSttlmTxInstr/SttlmAmt/Amt is missing its attribute Ccy']);
    expect(validateSese023(edit(dvp, /<SttlmParams>[\s\S]*?<\/SttlmParams>/, '<SttlmParams>TRAD</SttlmParams>'))).toEqual([
      'sese.023: element SctiesSttlmTxInstr/SttlmParams must hold elements, not text ("TRAD")',
      'sese.023: element SctiesSttlmTxInstr/SttlmParams/SctiesTxTp is missing',
    ]);
  });

  it('namespaces, envelope, well-formedness', () => {
    expect(validateSese023(dvp.replace('sese.023.001.09"', 'sese.023.001.08"'))).toEqual([
      'sese.023: Document is in namespace "urn:iso:std:iso:20022:tech:xsd:sese.023.001.08", expected "urn:iso:std:iso:20022:tech:xsd:sese.023.001.09"',
    ]);
    expect(validateSese023(edit(dvp, '<TxId>obl_1</TxId>', '<TxId xmlns="urn:other">obl_1</TxId>'))).toEqual([
      'sese.023: element SctiesSttlmTxInstr/TxId is in namespace "urn:other", expected "urn:iso:std:iso:20022:tech:xsd:sese.023.001.09"',
    ]);
    expect(validateSese023(dvp.replace(/<AppHdr[\s\S]*<\/AppHdr>/, ''))).toEqual(['sese.023: a RequestPayload envelope must hold AppHdr then Document; it holds Document']);
    expect(validateSese023(dvp.replace('</TxId>', '</TxID>'))[0]).toMatch(/^sese\.023: not well-formed XML \(line \d+, column \d+\)/);
    expect(validateSese023('<!DOCTYPE x [<!ENTITY a "b">]><Document/>')).toEqual(['sese.023: a DOCTYPE is not allowed in an ISO 20022 message']);
  });

  it('the header: message definition and UTC creation time', () => {
    expect(validateSese023(edit(edit(dvp, '<MsgDefIdr>sese.023.001.09</MsgDefIdr>', '<MsgDefIdr>sese.023.001.08</MsgDefIdr>'), '2024-07-16T18:30:00Z', '2024-07-16T18:30:00'))).toEqual([
      'head.001: element CreDt "2024-07-16T18:30:00" must be in UTC (end in Z)',
      'head.001: element MsgDefIdr "sese.023.001.08" must be sese.023.001.09',
    ]);
  });

  it('usage rules: check digit, currency, amount against payment only, CdtDbtInd, place of settlement, dates', () => {
    expect(validateSese023(edit(dvp, '<ISIN>US0378331005</ISIN>', '<ISIN>US0378331006</ISIN>'))).toEqual([
      'sese.023: element SctiesSttlmTxInstr/FinInstrmId/ISIN "US0378331006" has a wrong check digit',
    ]);
    expect(validateSese023(edit(dvp, 'Ccy="USD"', 'Ccy="ABC"'))).toEqual(['sese.023: element SctiesSttlmTxInstr/SttlmAmt/Amt/@Ccy "ABC" is not an ISO 4217 currency that settles']);
    expect(validateSese023(edit(dvp, 'Ccy="USD">18950.50', 'Ccy="JPY">18950.50'))).toEqual(['sese.023: element SctiesSttlmTxInstr/SttlmAmt/Amt "18950.50" has more decimals than JPY has (0)']);
    expect(validateSese023(edit(dvp, /<SttlmAmt>[\s\S]*<\/SttlmAmt>/, ''))).toEqual([
      'sese.023: element SctiesSttlmTxInstr/SttlmAmt is missing: a settlement against payment (Pmt APMT) must carry the settlement amount',
    ]);
    expect(validateSese023(edit(dvp, '<Pmt>APMT</Pmt>', '<Pmt>FREE</Pmt>'))).toEqual([
      'sese.023: element SctiesSttlmTxInstr/SttlmAmt must not be present: a free-of-payment settlement (Pmt FREE) moves no cash',
    ]);
    expect(validateSese023(edit(dvp, '<CdtDbtInd>CRDT</CdtDbtInd>', '<CdtDbtInd>DBIT</CdtDbtInd>'))).toEqual([
      'sese.023: element SctiesSttlmTxInstr/SttlmAmt/CdtDbtInd "DBIT" contradicts SctiesMvmntTp DELI: the cash of a delivery is received (CRDT)',
    ]);
    expect(validateSese023(edit(dvp, /<RcvgSttlmPties>\s*<Dpstry>[\s\S]*?<\/Dpstry>/, '<RcvgSttlmPties>'))).toEqual([
      "sese.023: element SctiesSttlmTxInstr/RcvgSttlmPties/Dpstry is missing: the counterparty's side must name the place of settlement (SMPG market practice)",
    ]);
    expect(validateSese023(edit(dvp, '<Dt>2024-07-16</Dt>', '<Dt>2024-07-18</Dt>'))).toEqual([
      'sese.023: element SctiesSttlmTxInstr/TradDtls/SttlmDt "2024-07-17" is before the trade date 2024-07-18',
    ]);
  });
});

describe('validateSese023 on cash parties: the debtor and creditor one shape, their agents another', () => {
  // RVP: we pay (Dbtr OURBUS33, DbtrAgt CHASUS33), the counterparty is paid (Cdtr CPTYUS33, CdtrAgt IRVTUS3N).
  const rvp = toSese023({ ...base, direction: 'receive', cash: { ours: { bic: 'CHASUS33', account: '0001234567' }, theirs: { bic: 'IRVTUS3N', account: 'GS-USD-7788' } } },
    { messageId: 'MSG3', createdAt: CREATED }).replace(/>\s+</g, '><');
  const party = (role: string) => `SctiesSttlmTxInstr/CshPties/${role}`;

  it('passes as written', () => {
    expect(validateSese023(rvp)).toEqual([]);
  });

  it('rejects a malformed creditor party', () => {
    expect(validateSese023(edit(rvp, '<Cdtr><Id><AnyBIC>CPTYUS33<', '<Cdtr><Id><AnyBIC>CPTY US33<'))).toEqual([
      `sese.023: element ${party('Cdtr')}/Id/AnyBIC "CPTY US33" is not a valid BIC (8 or 11 characters: 4 bank, 2 country letters, 2 location, optional 3 branch)`,
    ]);
    // An agent's identification (BICFI) is not a party's.
    expect(validateSese023(edit(rvp, '<Cdtr><Id><AnyBIC>CPTYUS33</AnyBIC>', '<Cdtr><Id><BICFI>CPTYUS33</BICFI>'))).toEqual([
      `sese.023: element ${party('Cdtr')}/Id/BICFI is not allowed here (expected one of AnyBIC, PrtryId, NmAndAdr)`,
    ]);
    expect(validateSese023(edit(rvp, '<Cdtr><Id><AnyBIC>CPTYUS33</AnyBIC></Id>', '<Cdtr>'))).toEqual([`sese.023: element ${party('Cdtr')}/Id is missing`]);
    expect(validateSese023(edit(rvp, '<Prtry>GS-USD-7788</Prtry>', `<Prtry>${'1'.repeat(35)}</Prtry>`))).toEqual([
      `sese.023: element ${party('Cdtr')}/CshAcct/Prtry "${'1'.repeat(35)}" must be 1 to 34 characters, has 35`,
    ]);
    expect(validateSese023(edit(rvp, '<CshAcct><Prtry>GS-USD-7788</Prtry></CshAcct>', '<CshAcct><Prtry>GS-USD-7788</Prtry><IBAN>DE89370400440532013000</IBAN></CshAcct>'))[0])
      .toMatch(new RegExp(`^sese\\.023: element ${party('Cdtr')}/CshAcct`));
    expect(validateSese023(edit(rvp, '</CshAcct></Cdtr>', '</CshAcct><Nm>X</Nm></Cdtr>'))).toEqual([`sese.023: element ${party('Cdtr')}/Nm is not allowed here`]);
  });

  it('rejects a malformed creditor agent: a bank is named by BICFI', () => {
    expect(validateSese023(edit(rvp, '<CdtrAgt><Id><BICFI>IRVTUS3N</BICFI>', '<CdtrAgt><Id><AnyBIC>IRVTUS3N</AnyBIC>'))).toEqual([
      `sese.023: element ${party('CdtrAgt')}/Id/AnyBIC is not allowed here (expected one of BICFI, PrtryId, NmAndAdr)`,
    ]);
  });

  it('finds the same faults in the debtor and its agent as in the creditor and its agent', () => {
    const bicAs = (from: string, to: string) => (role: string) =>
      validateSese023(edit(rvp, new RegExp(`<${role}><Id><${from}>([^<]+)</${from}>`), `<${role}><Id><${to}>$1</${to}>`));
    const leiFirst = (role: string) => validateSese023(edit(rvp, `<${role}><Id>`, `<${role}><LEI>5493001KJTIIGC8Y1R12</LEI><Id>`));
    const faults: [string, string, (role: string) => string[]][] = [
      ['Cdtr', 'Dbtr', bicAs('AnyBIC', 'BICFI')],
      ['Cdtr', 'Dbtr', leiFirst],
      ['CdtrAgt', 'DbtrAgt', bicAs('BICFI', 'AnyBIC')],
      ['CdtrAgt', 'DbtrAgt', leiFirst],
    ];
    for (const [creditor, debtor, fault] of faults) {
      const errors = fault(creditor);
      expect(errors.length, `${creditor}: ${String(fault)}`).toBeGreaterThan(0);
      expect(fault(debtor)).toEqual(errors.map((e) => e.replaceAll(`/${creditor}/`, `/${debtor}/`)));
    }
  });
});
