import { describe, expect, it } from 'vitest';
import { DomainError } from '../../kernel/index.js';
import { toMt54x, toSese023, type Obligation } from './instructions.js';
import { validateSese023 } from './sese023-structure.js';
import { validateMt54x } from './mt54x-validate.js';
import { at, parseXml } from './xml.js';
import { finFields, finSequences, findSeqs, splitFin } from './swift-mt.js';

const CREATED = new Date('2024-07-16T18:30:00Z');
// A real-format IBAN (the ISO 13616 example for Germany) and a correspondent's own account number.
const IBAN = 'DE89370400440532013000';

const base: Obligation = {
  id: 'obl_CASH1', direction: 'receive', payment: 'against', isin: 'US0378331005', quantity: '100', amount: '18950.5', currency: 'USD',
  tradeDate: '2024-07-16', settleDate: '2024-07-17', account: 'SAFE-001', counterparty: { bic: 'CPTYUS33', name: 'Counterparty Securities LLC' },
  agent: { dtcParticipant: '0005', account: 'GS-DTC-0005' }, place: { bic: 'DTCYUS33' }, ourBic: 'BOFFUS33',
};
const withCash: Obligation = { ...base, cash: { ours: { bic: 'CHASUS33', account: '0001234567' }, theirs: { bic: 'IRVTUS3N', account: IBAN } } };
const dvp = (o: Obligation): Obligation => ({ ...o, direction: 'deliver' });
const free = (o: Obligation): Obligation => { const { amount: _a, currency: _c, ...rest } = o; return { ...rest, payment: 'free' }; };

const sese = (o: Obligation) => toSese023(o, { messageId: 'MSG1', createdAt: CREATED });
const mt = (o: Obligation) => toMt54x(o, { reference: 'BO0000000001', senderBic: 'BOFFUS33' });
const txOf = (xml: string) => at(parseXml(xml).children[1], 'SctiesSttlmTxInstr')!;
/** The CSHPRTY subsequences as lists of "tag:value". */
const cashBlocks = (text: string) => findSeqs(finSequences(finFields(splitFin(text)[0]!.block4!)), 'CSHPRTY')
  .map((s) => s.items.flatMap((it) => (it.kind === 'field' ? [`${it.field.tag}:${it.field.value}`] : [])));

describe('cash parties from the SSIs, sese.023 CshPties', () => {
  it('RVP: we pay (Dbtr with our account, DbtrAgt our correspondent), the counterparty is paid (Cdtr, CdtrAgt)', () => {
    const xml = sese(withCash);
    expect(validateSese023(xml)).toEqual([]);
    const tx = txOf(xml);
    expect(tx.children.map((c) => c.name).slice(-3)).toEqual(['RcvgSttlmPties', 'CshPties', 'SttlmAmt']);
    expect(at(tx, 'CshPties')!.children.map((c) => c.name)).toEqual(['Dbtr', 'DbtrAgt', 'Cdtr', 'CdtrAgt']);
    expect(at(tx, 'CshPties/Dbtr/Id/AnyBIC')?.text).toBe('BOFFUS33');
    expect(at(tx, 'CshPties/Dbtr/CshAcct/Prtry')?.text).toBe('0001234567');
    expect(at(tx, 'CshPties/DbtrAgt/Id/BICFI')?.text).toBe('CHASUS33');
    expect(at(tx, 'CshPties/Cdtr/Id/AnyBIC')?.text).toBe('CPTYUS33');
    expect(at(tx, 'CshPties/Cdtr/CshAcct/IBAN')?.text).toBe(IBAN);
    expect(at(tx, 'CshPties/CdtrAgt/Id/BICFI')?.text).toBe('IRVTUS3N');
  });

  it('DVP: the counterparty pays, we are paid; one side only when only one SSI names a correspondent', () => {
    const tx = txOf(sese(dvp(withCash)));
    expect(at(tx, 'CshPties/Dbtr/Id/AnyBIC')?.text).toBe('CPTYUS33');
    expect(at(tx, 'CshPties/DbtrAgt/Id/BICFI')?.text).toBe('IRVTUS3N');
    expect(at(tx, 'CshPties/Cdtr/Id/AnyBIC')?.text).toBe('BOFFUS33');
    expect(at(tx, 'CshPties/CdtrAgt/Id/BICFI')?.text).toBe('CHASUS33');

    const oursOnly = sese(dvp({ ...base, cash: { ours: { bic: 'CHASUS33' } } }));
    expect(validateSese023(oursOnly)).toEqual([]);
    expect(at(txOf(oursOnly), 'CshPties')!.children.map((c) => c.name)).toEqual(['CdtrAgt']);
  });

  it('a counterparty known by its DTC number is the debtor or creditor by that number', () => {
    const tx = txOf(sese({ ...withCash, counterparty: { dtcParticipant: '0161', name: 'X' } }));
    expect(at(tx, 'CshPties/Cdtr/Id/PrtryId/Id')?.text).toBe('0161');
  });

  it('without a cash correspondent, or free of payment, the message is as before', () => {
    expect(sese(base)).not.toContain('CshPties');
    expect(sese({ ...base, cash: {} })).toBe(sese(base));
    expect(() => sese(free(withCash))).toThrow(DomainError);
    expect(sese(free(base))).not.toContain('CshPties');
  });

  it('the validator knows the structure: order, choices, lengths, IBAN check digits, none on FOP', () => {
    const good = sese(withCash);
    expect(validateSese023(good.replace(/<CdtrAgt>[\s\S]*?<\/CdtrAgt>/, '').replace('<Cdtr>', '<CdtrAgt><Id><BICFI>IRVTUS3N</BICFI></Id></CdtrAgt><Cdtr>'))[0])
      .toMatch(/CshPties.*Cdtr/);
    expect(validateSese023(good.replace('<BICFI>CHASUS33</BICFI>', '<AnyBIC>CHASUS33</AnyBIC>')).join(' ')).toMatch(/DbtrAgt\/Id/);
    expect(validateSese023(good.replace('<Prtry>0001234567</Prtry>', `<Prtry>${'1'.repeat(35)}</Prtry>`)).join(' ')).toMatch(/Prtry/);
    expect(validateSese023(good.replace(IBAN, 'DE88370400440532013000'))).toEqual([
      'sese.023: element SctiesSttlmTxInstr/CshPties/Cdtr/CshAcct/IBAN "DE88370400440532013000" has wrong check digits (ISO 13616 mod 97)',
    ]);
    const asFree = good.replace('<Pmt>APMT</Pmt>', '<Pmt>FREE</Pmt>').replace(/<SttlmAmt>[\s\S]*?<\/SttlmAmt>/, '');
    expect(validateSese023(asFree)).toEqual([
      'sese.023: element SctiesSttlmTxInstr/CshPties must not be present: a free-of-payment settlement (Pmt FREE) moves no cash',
    ]);
  });

  it('refuses a cash account sese.023 cannot carry (Prtry is at most 34 characters)', () => {
    const e = (() => { try { sese({ ...withCash, cash: { ours: { bic: 'CHASUS33', account: 'A'.repeat(35) } } }); } catch (x) { return x as DomainError; } return undefined; })();
    expect(e?.details.map((d) => d.field)).toEqual(['cash.ours.account']);
  });
});

describe('cash parties from the SSIs, MT541/543 sequence E3', () => {
  it('MT541: DEBT (us, our account) and PAYE, BENM (counterparty, IBAN in 97E) and ACCW, between SETPRTY and AMT', () => {
    const text = mt(withCash);
    expect(validateMt54x(text)).toEqual([]);
    expect(cashBlocks(text)).toEqual([
      ['95P::DEBT//BOFFUS33', '97A::CASH//0001234567'],
      ['95P::PAYE//CHASUS33'],
      ['95P::BENM//CPTYUS33', `97E::CASH//${IBAN}`],
      ['95P::ACCW//IRVTUS3N'],
    ]);
    const tags = finFields(splitFin(text)[0]!.block4!).map((f) => `${f.tag}:${f.value}`);
    expect(tags.lastIndexOf('16S:SETPRTY')).toBeLessThan(tags.indexOf('16R:CSHPRTY'));
    expect(tags.lastIndexOf('16S:CSHPRTY')).toBeLessThan(tags.indexOf('16R:AMT'));
  });

  it('MT543: the counterparty pays (DEBT by DTC number, PAYE), we are paid (BENM, ACCW)', () => {
    const text = mt(dvp({ ...withCash, counterparty: { dtcParticipant: '0161', name: 'X' } }));
    expect(validateMt54x(text)).toEqual([]);
    expect(cashBlocks(text)).toEqual([
      ['95R::DEBT/DTCYID/0161', `97E::CASH//${IBAN}`],
      ['95P::PAYE//IRVTUS3N'],
      ['95P::BENM//BOFFUS33', '97A::CASH//0001234567'],
      ['95P::ACCW//CHASUS33'],
    ]);
  });

  it('without a correspondent the MT is as before; MT540/542 carry none', () => {
    expect(mt({ ...base, cash: {} })).toBe(mt(base));
    expect(mt(base)).not.toContain('CSHPRTY');
    expect(mt(free(base))).not.toContain('CSHPRTY');
  });

  it('the validator checks E3: qualifiers, IBAN, duplicates, order, and none on a free MT', () => {
    const text = mt(withCash);
    expect(validateMt54x(text.replace(':95P::ACCW//', ':95P::REAG//'))[0]).toMatch(/sequence CSHPRTY: field :95P::REAG\/\/ .* has qualifier REAG; allowed: ACCW, BENM, DEBT, INTM, PAYE/);
    expect(validateMt54x(text.replace(`:97E::CASH//${IBAN}`, ':97E::CASH//DE88370400440532013000'))[0]).toMatch(/field :97E::CASH\/\/ .* IBAN "DE88370400440532013000" has wrong check digits/);
    expect(validateMt54x(text.replace(':95P::PAYE//', ':95P::ACCW//'))).toEqual(['MT541: sequence SETDET: cash party ACCW appears in more than one CSHPRTY subsequence']);
    expect(validateMt54x(text.replace(':95P::DEBT//BOFFUS33\r\n:97A::CASH//0001234567', ':97A::CASH//0001234567\r\n:95P::DEBT//BOFFUS33'))[0]).toMatch(/CSHPRTY: field :95P: .* is out of order/);
    const asFree = text.replace('{2:I541', '{2:I540').replace(/:16R:AMT[\s\S]*?:16S:AMT\r\n/, '');
    expect(validateMt54x(asFree)).toEqual(['MT540: sequence SETDET: subsequence CSHPRTY must not be present: MT540 settles free of payment, no cash moves (market practice)']);
  });
});
