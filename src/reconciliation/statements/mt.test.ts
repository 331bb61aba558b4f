import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../kernel/index.js';
import { detectFormat, parseStatementFile } from './index.js';
import { parse86 } from './mt940.js';

const read = (f: string) => readFileSync(new URL(`../../../test/fixtures/iso20022/${f}`, import.meta.url), 'utf8');

function refusal(text: string, fileName = 'bad.sta'): string {
  try {
    parseStatementFile(text, { fileName });
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    expect((e as DomainError).kind).toBe('invalid');
    return (e as Error).message;
  }
  throw new Error('the file was accepted');
}

describe('MT940 with envelopes, two days', () => {
  const text = read('ours_mt940_two_days.fin');
  const [d1, d2] = parseStatementFile(text, { fileName: 'two_days.fin' });

  it('is detected from its block 2', () => expect(detectFormat(text)).toMatchObject({ format: 'mt940', kind: 'cash', syntax: 'swift' }));

  it('reads both messages with their balances and arithmetic', () => {
    expect([d1!.statementId, d2!.statementId]).toEqual(['STMT20240301/58/1', 'STMT20240304/59/1']);
    expect(d1).toMatchObject({ format: 'mt940', account: 'DE89370400440532013000', currency: 'EUR', sequence: '58/1', servicer: 'COBADEFFXXX', check: 'ok', refused: false, statementDate: '2024-03-01' });
    expect(d1!.balances).toEqual([
      { type: 'opening', code: '60F', amount: '12500.00', currency: 'EUR', date: '2024-02-29' },
      { type: 'closing', code: '62F', amount: '13664.30', currency: 'EUR', date: '2024-03-01' },
      { type: 'available', code: '64', amount: '13664.30', currency: 'EUR', date: '2024-03-01' },
    ]);
    expect(d2!.check).toBe('ok');
    expect(d2!.chain).toBe('ok: opening 60F 13664.30 EUR equals closing 62F of statement STMT20240301/58/1');
  });

  it('reads :61: subfield by subfield: marks D, C, RC, a funds code, the references and supplementary details', () => {
    expect(d1!.entries.map((e) => [e.amount, e.bankTxCode, e.ourRef, e.servicerRef, e.bookingDate, e.valueDate])).toEqual([
      ['2500.00', 'NTRF', 'INV-2024-0113', 'BANK-0001', '2024-03-01', '2024-03-01'],
      ['-1200.50', 'NTRF', 'PAY-7781', 'BANK-0002', '2024-03-01', '2024-03-01'],
      ['-35.20', 'NCHG', null, 'BANK-0003', '2024-03-01', '2024-03-01'],
      ['-100.00', 'NRTI', null, 'BANK-0004', '2024-03-01', '2024-03-01'],
    ]);
    expect(d1!.entries[3]!.additionalInfo).toBe('RETURN OF CREDIT BANK-0999');
    expect(d2!.entries[0]!.additionalInfo).toBe('WIRE FROM CUSTODY');
  });

  it('reads :86: in its structured forms and as text', () => {
    expect(d1!.entries[0]).toMatchObject({ counterpartyName: 'Muster GmbH', remittance: 'Rechnung 2024-0113 Kunde04711', additionalInfo: 'SEPA-GUTSCHRIFT' });
    expect(d1!.entries[1]).toMatchObject({ counterpartyName: 'ACME Supplies BV', remittance: 'Invoice 4471', additionalInfo: 'SEPA OVERBOEKING' });
    expect(d1!.entries[2]).toMatchObject({ counterpartyName: null, remittance: 'Account maintenance fee March 2024' });
  });
});

describe(':61: and :86: details', () => {
  const one = (line61: string, ccy = 'EUR') =>
    parseStatementFile(`:20:X\n:25:ACC\n:28C:1/1\n:60F:C240101${ccy}0,\n:61:${line61}\n:62F:C240101${ccy}0,\n-\n`)[0]!;

  it('RD (reversal of a debit) is a credit; an entry date in December of a January value date is the year before', () => {
    const e = one('2401021231RD5,NMSCNONREF').entries[0]!;
    expect(e).toMatchObject({ amount: '5', valueDate: '2024-01-02', bookingDate: '2023-12-31', ourRef: null, servicerRef: null });
  });

  it('a customer reference without a bank reference', () => {
    expect(one('240101C1,5FCHKCHQ-1001').entries[0]).toMatchObject({ amount: '1.5', bankTxCode: 'FCHK', ourRef: 'CHQ-1001', servicerRef: null });
  });

  it('German :86: with EREF, SVWZ, KREF and a name over two subfields', () => {
    expect(parse86('177?00UEBERWEISUNG?20EREF+E2E-1?21KREF+K-9?22SVWZ+Miete Maerz?32Hans\n?33Mueller')).toEqual({
      remittance: 'Miete Maerz',
      counterparty: 'HansMueller',
      ourRef: 'E2E-1',
      refs: ['K-9'],
      info: 'UEBERWEISUNG',
    });
  });

  it('free :86: text joins lines cut at 65 characters without a space, shorter lines with one', () => {
    const cut = 'A'.repeat(65);
    expect(parse86(`${cut}\nBC\nnext line`).remittance).toBe(`${cut}BC next line`);
  });
});

describe('bare MT940 text', () => {
  it('several messages without envelopes or "-" lines split at each :20:, and CRLF line ends', () => {
    const msg = (ref: string, open: string, close: string) => `:20:${ref}\r\n:25:NL91ABNA0417164300\r\n:28:12\r\n:60F:C240301EUR${open}\r\n:61:240301C1,NTRFNONREF\r\n:62F:C240301EUR${close}\r\n`;
    const st = parseStatementFile(msg('A', '10,', '11,') + msg('B', '11,', '12,'));
    expect(st.map((s) => [s.statementId, s.format, s.check, s.chain])).toEqual([
      ['A/12', 'mt940', 'ok', undefined],
      ['B/12', 'mt940', 'ok', 'ok: opening 60F 11.00 EUR equals closing 62F of statement A/12'],
    ]);
  });
});

describe('MT950, two pages', () => {
  const text = read('ours_mt950_two_pages.fin');
  const [p1, p2] = parseStatementFile(text, { fileName: 'mt950.fin' });

  it('is an MT950 by its block 2, each page checked against its interim balance', () => {
    expect(detectFormat(text).format).toBe('mt950');
    expect(p1).toMatchObject({ format: 'mt950', page: '1', currency: 'USD', check: 'ok', servicer: 'CHASUS33XXX' });
    expect(p1!.balances.map((b) => [b.code, b.type, b.amount])).toEqual([['60F', 'opening', '-2500.00'], ['62M', 'interim_closing', '734961.75']]);
    expect(p2!.balances.map((b) => [b.code, b.type, b.amount])).toEqual([['60M', 'interim_opening', '734961.75'], ['62F', 'closing', '236196.31'], ['64', 'available', '236196.31']]);
    expect(p2!.check).toBe('ok');
    expect(p2!.chain).toBe('ok: opening 60M 734961.75 USD equals closing 62M of statement 950-240305-A/102/1');
    expect(p1!.entries.map((e) => e.amount)).toEqual(['750000', '-12500.75', '-37.5']);
  });
});

describe('bad MT940 files', () => {
  it('a wrong closing balance refuses the statement, with expected and stated amounts', () => {
    const [s] = parseStatementFile(read('ours_mt940_bad_closing.sta'), { fileName: 'bad_closing.sta' });
    expect(detectFormat(read('ours_mt940_bad_closing.sta')).format).toBe('mt940');
    expect(s!.refused).toBe(true);
    expect(s!.check).toBe('statement WRONG-CLOSE-1/7/1 (account GB29NWBK60161331926819): closing balance 62F of 2024-03-01 is off: expected 830.10 GBP (opening 60F 1000.00 plus 2 booked entries -169.90), stated 830.00 GBP');
  });

  const base = ':20:B-1\n:25:GB29NWBK60161331926819\n:28C:1/1\n:60F:C240301GBP100,00\n:61:2403010301D10,00NTRFREF-1//B-1\n:62F:C240301GBP90,00\n-\n';

  it('the base file is good', () => expect(parseStatementFile(base)[0]!.check).toBe('ok'));

  it('a balance without its D/C mark', () => {
    expect(refusal(base.replace(':60F:C240301', ':60F:240301'))).toBe(
      'bad.sta: MT940 message 1 statement B-1/1/1 (account GB29NWBK60161331926819): :60F: (line 4): balance "240301GBP100,00" has no debit/credit mark (C or D)',
    );
  });

  it('a statement line without its D/C mark', () => {
    expect(refusal(base.replace('0301D10,00', '030110,00'))).toBe(
      'bad.sta: MT940 message 1 statement B-1/1/1 (account GB29NWBK60161331926819): :61: (line 5): statement line "240301030110,00NTRFREF-1//B-1" has no debit/credit mark (D, C, RD or RC)',
    );
  });

  it('an amount with more decimals than the currency has', () => {
    expect(refusal(base.replace('D10,00NTRF', 'D10,005NTRF'))).toBe(
      'bad.sta: MT940 message 1 statement B-1/1/1 (account GB29NWBK60161331926819): :61: (line 5): amount "10,005" has 3 decimals; GBP allows 2 (ISO 4217 minor units)',
    );
  });

  it('a missing closing balance', () => {
    expect(refusal(base.replace(':62F:C240301GBP90,00\n', ''))).toBe('bad.sta: MT940 message 1 (:20: B-1): field :62F: or :62M: (closing balance) is missing');
  });

  it('a block 4 that is not closed', () => {
    expect(refusal('{1:F01BANKDEFFAXXX0000000000}{2:O9401200240301BANKDEFFAXXX00000000002403011200N}{4:\n:20:X\n')).toBe('bad.sta: line 1: block 4 is not closed with a line "-}"');
  });
});

describe('MT535 statement of holdings', () => {
  const text = read('ours_mt535_holdings.fin');
  const st = parseStatementFile(text, { fileName: 'mt535.fin' });

  it('one statement per safekeeping account, the holdings of each', () => {
    expect(detectFormat(text)).toMatchObject({ format: 'mt535', kind: 'holdings' });
    expect(st.map((s) => [s.account, s.kind, s.statementDate, s.statementId, s.page])).toEqual([
      ['123-456789', 'holdings', '2024-03-01', 'HOLD20240301-01', '1/ONLY'],
      ['123-456790', 'holdings', '2024-03-01', 'HOLD20240301-01', '1/ONLY'],
    ]);
    expect(st[0]!.holdings.map((h) => [h.security, h.quantity, h.quantityType, h.price, h.priceCurrency, h.value])).toEqual([
      ['US0378331005', '1000', 'UNIT', '179.66', 'USD', '179660'],
      ['US912828ZQ64', '2000000', 'FAMT', '98.5', null, '1970000'],
      ['US5949181045', '250', 'UNIT', '415.5', 'USD', '103875'],
    ]);
    expect(st[1]!.holdings.map((h) => [h.security, h.quantity, h.value])).toEqual([['US88160R1014', '-50', '-10000']]);
  });

  it('the holding values add up to :19A::HOLP//', () => {
    expect(st.map((s) => s.check)).toEqual(['ok', 'ok']);
  });

  it('a total that does not add up refuses the statements', () => {
    const off = parseStatementFile(text.replace(':19A::HOLP//USD2243535,', ':19A::HOLP//USD2243536,'));
    expect(off.every((s) => s.refused)).toBe(true);
    expect(off[0]!.check).toBe('statement HOLD20240301-01 (account 123-456789): total holdings value 19A::HOLP is off: expected 2243535.00 USD (4 holdings), stated 2243536.00 USD');
  });

  it('refuses a missing safekeeping account and a bad quantity', () => {
    expect(refusal(text.replace(':97A::SAFE//123-456789\n', ''), 'mt535.fin')).toBe('mt535.fin: MT535 message 1 (:20C::SEME//HOLD20240301-01): field :97A::SAFE// (safekeeping account) is missing in sequence A');
    expect(refusal(text.replace(':93B::AGGR//UNIT/250,', ':93B::AGGR//UNIT/2x0,'), 'mt535.fin')).toBe('mt535.fin: MT535 message 1 (:20C::SEME//HOLD20240301-01): :93B: (line 40): "2x0," is not a SWIFT quantity (digits, decimal comma)');
  });
});
