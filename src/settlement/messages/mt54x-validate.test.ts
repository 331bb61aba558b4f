import { describe, expect, it } from 'vitest';
import { toMt54x, type Obligation } from './instructions.js';
import { validateMt54x } from './mt54x-validate.js';

const base: Obligation = {
  id: 'obl_1',
  direction: 'receive',
  payment: 'against',
  isin: 'US0378331005',
  quantity: '100',
  amount: '18950.5',
  currency: 'USD',
  tradeDate: '2024-07-16',
  settleDate: '2024-07-17',
  account: '12345678',
  counterparty: { bic: 'CPTYUS33', name: 'Counterparty' },
  place: { bic: 'DTCYUS33' },
  ourBic: 'OURBUS33',
};
const mt = (over: Partial<Obligation> = {}) => toMt54x({ ...base, ...over }, { reference: 'REF0001', senderBic: 'OURBUS33' });
const mt541 = mt();
const mt540 = mt({ payment: 'free', amount: undefined, currency: undefined });
const mt542 = mt({ direction: 'deliver', payment: 'free', amount: undefined, currency: undefined });
const mt543 = mt({ direction: 'deliver' });

/** Replace a piece of the message; fails the test when the piece is not there. */
function edit(text: string, from: string | RegExp, to: string): string {
  const out = text.replace(from, to);
  if (out === text) throw new Error(`test edit found nothing to replace: ${String(from)}`);
  return out;
}

describe('validateMt54x passes good messages', () => {
  it('all four types as we write them', () => {
    for (const m of [mt540, mt541, mt542, mt543]) expect(validateMt54x(m)).toEqual([]);
  });

  it('LF line ends, an output header, optional fields of the standard in their place', () => {
    const out = edit(mt541.replace(/\r\n/g, '\n'), '{2:I541DTCYUS33XXXXN}', '{2:O5411200240716OURBUS33AXXX00000000002407161200N}');
    const more = edit(
      edit(edit(out, ':23G:NEWM\n', ':23G:NEWM\n:98C::PREP//20240716120000\n:16R:LINK\n:13A::LINK//540\n:20C::PREV//REF0000\n:16S:LINK\n'), ':35B:ISIN US0378331005', ':90B::DEAL//ACTU/USD189,505\n:35B:ISIN US0378331005\nAPPLE INC'),
      ':16S:SETDET',
      ':16S:SETDET\n:16R:OTHRPRTY\n:95P::INVE//CPTYUS33\n:16S:OTHRPRTY',
    );
    expect(validateMt54x(more)).toEqual([]);
  });
});

describe('validateMt54x for each of MT540, MT541, MT542, MT543', () => {
  for (const [type, m] of [['540', mt540], ['541', mt541], ['542', mt542], ['543', mt543]] as const) {
    it(`MT${type}: passes as written, fails with a sequence or field missing, a bad BIC, fields out of order`, () => {
      expect(validateMt54x(m)).toEqual([]);
      expect(validateMt54x(edit(m, /:16R:FIAC[\s\S]*?:16S:FIAC\r\n/, ''))).toEqual([`MT${type}: block 4: sequence FIAC is missing`]);
      expect(validateMt54x(edit(m, ':35B:ISIN US0378331005\r\n', ''))).toEqual([`MT${type}: sequence TRADDET: field :35B: is missing`]);
      expect(validateMt54x(edit(m, ':95P::PSET//DTCYUS33', ':95P::PSET//DTCYUS3'))).toEqual([
        `MT${type}: sequence SETPRTY: field :95P::PSET// (line 23) "DTCYUS3" is not a BIC (4 letters bank, 2 letters country, 2 location, optional 3 branch)`,
      ]);
      expect(validateMt54x(edit(m, ':36B::SETT//UNIT/100,\r\n:97A::SAFE//12345678', ':97A::SAFE//12345678\r\n:36B::SETT//UNIT/100,'))).toEqual([
        `MT${type}: sequence FIAC: field :36B: (line 12) is out of order: it must come before field :97a:`,
      ]);
    });
  }
});

describe('validateMt54x catches broken messages', () => {
  it('a missing mandatory sequence or field', () => {
    expect(validateMt54x(edit(mt541, /:16R:FIAC[\s\S]*?:16S:FIAC\r\n/, ''))).toEqual(['MT541: block 4: sequence FIAC is missing']);
    expect(validateMt54x(edit(mt541, ':20C::SEME//REF0001\r\n', ''))).toEqual(['MT541: sequence GENL: field :20C::SEME// is missing']);
    expect(validateMt54x(edit(mt541, ':98A::SETT//20240717\r\n', ''))).toEqual(['MT541: sequence TRADDET: field :98a::SETT// is missing']);
    expect(validateMt54x(edit(mt541, ':97A::SAFE//12345678\r\n', ''))).toEqual(['MT541: sequence FIAC: field :97a::SAFE// is missing']);
    expect(validateMt54x(edit(mt541, /:16R:AMT[\s\S]*?:16S:AMT\r\n/, ''))).toEqual([
      'MT541: sequence SETDET: no AMT subsequence with field :19A::SETT//; a settlement against payment needs exactly one',
    ]);
    expect(validateMt54x(edit(mt540, /:16R:SETPRTY\r\n:95P::PSET[\s\S]*?:16S:SETPRTY\r\n/, ''))).toEqual([
      'MT540: sequence SETDET: no SETPRTY subsequence with the place of settlement (:95a::PSET//)',
    ]);
    expect(validateMt54x(edit(mt542, ':95P::REAG//CPTYUS33', ':95P::BUYR//CPTYUS33'))).toEqual([
      'MT542: sequence SETDET: no SETPRTY subsequence with the receiving agent (:95a::REAG//), which a delivery must name',
    ]);
  });

  it('a bad BIC', () => {
    expect(validateMt54x(edit(mt541, ':95P::DEAG//CPTYUS33', ':95P::DEAG//CPTYUS3'))).toEqual([
      'MT541: sequence SETPRTY: field :95P::DEAG// (line 17) "CPTYUS3" is not a BIC (4 letters bank, 2 letters country, 2 location, optional 3 branch)',
    ]);
    expect(validateMt54x(edit(mt541, ':95P::PSET//DTCYUS33', ':95P::PSET//DTC1US33'))[0]).toMatch(/field :95P::PSET\/\/ \(line 23\) "DTC1US33" is not a BIC/);
  });

  it('fields and sequences in the wrong order', () => {
    expect(validateMt54x(edit(mt541, ':20C::SEME//REF0001\r\n:23G:NEWM', ':23G:NEWM\r\n:20C::SEME//REF0001'))).toEqual([
      'MT541: sequence GENL: field :20C: (line 3) is out of order: it must come before field :23G:',
    ]);
    const fiac = mt541.match(/:16R:FIAC[\s\S]*?:16S:FIAC\r\n/)![0];
    expect(validateMt54x(edit(edit(mt541, fiac, ''), ':16R:TRADDET', `${fiac}:16R:TRADDET`))).toEqual([
      'MT541: block 4: sequence TRADDET (line 9) is out of order: it must come before sequence FIAC',
    ]);
    expect(validateMt54x(edit(mt541, ':98A::TRAD//20240716\r\n:35B:ISIN US0378331005', ':35B:ISIN US0378331005\r\n:98A::TRAD//20240716'))).toEqual([
      'MT541: sequence TRADDET: field :98A: (line 8) is out of order: it must come before field :35B:',
    ]);
  });

  it('field formats: decimals, dates, references, codes, characters', () => {
    expect(validateMt54x(edit(mt541, 'UNIT/100,', 'UNIT/100.5'))).toEqual([
      'MT541: sequence FIAC: field :36B::SETT// (line 11) quantity "100.5" is not a SWIFT decimal (digits with a comma as the decimal mark, at most 15 characters)',
    ]);
    expect(validateMt54x(edit(mt541, 'UNIT/100,', 'UNIT/1234567890123,45'))[0]).toMatch(/quantity "1234567890123,45" is not a SWIFT decimal/);
    expect(validateMt54x(edit(mt541, 'USD18950,5', 'USD18950,505'))).toEqual(['MT541: sequence AMT: field :19A::SETT// (line 26) amount "18950,505" has more decimals than USD has (2)']);
    expect(validateMt54x(edit(mt541, 'USD18950,5', 'XYZ18950,5'))).toEqual(['MT541: sequence AMT: field :19A::SETT// (line 26) currency "XYZ" is not an ISO 4217 currency']);
    expect(validateMt54x(edit(mt541, ':98A::SETT//20240717', ':98A::SETT//20240732'))).toEqual(['MT541: sequence TRADDET: field :98A::SETT// (line 6) "20240732" is not a date (YYYYMMDD)']);
    expect(validateMt54x(edit(mt541, 'SEME//REF0001', 'SEME//REF//0001'))).toEqual([
      "MT541: sequence GENL: field :20C::SEME// (line 2) \"REF//0001\" is not a reference (1 to 16 x characters, no leading, trailing or double '/')",
    ]);
    expect(validateMt54x(edit(mt541, ':23G:NEWM', ':23G:NEW'))).toEqual(['MT541: sequence GENL: field :23G: (line 3) "NEW" is not NEWM, CANC or PREA (with an optional /CODU, /COPY, /DUPL)']);
    expect(validateMt54x(edit(mt541, 'SAFE//12345678', 'SAFE//ACC_1'))).toEqual(['MT541: sequence FIAC: field :97A::SAFE// (line 12) holds characters outside the SWIFT x set']);
    expect(validateMt54x(edit(mt541, 'ISIN US0378331005', 'ISIN US0378331006'))).toEqual(['MT541: sequence TRADDET: field :35B: (line 8) ISIN "US0378331006" has a wrong check digit']);
    expect(validateMt54x(edit(mt541, ':95P::DEAG//', ':95P::XXXX//'))).toEqual([
      'MT541: sequence SETPRTY: field :95P::XXXX// (line 17) has qualifier XXXX; allowed: BUYR, DEAG, DECU, DEI1, DEI2, PSET, REAG, RECU, REI1, REI2, SELL',
      'MT541: sequence SETDET: no SETPRTY subsequence with the delivering agent (:95a::DEAG//), which a receipt must name',
    ]);
  });

  it('the rules of the message type', () => {
    expect(validateMt54x(edit(mt540, ':16S:SETDET', ':16R:AMT\r\n:19A::SETT//USD1,\r\n:16S:AMT\r\n:16S:SETDET'))).toEqual([
      'MT540: sequence SETDET: field :19A::SETT// must not be present: MT540 settles free of payment',
    ]);
    expect(validateMt54x(edit(mt541, ':16S:SETDET', ':16R:AMT\r\n:19A::SETT//USD1,\r\n:16S:AMT\r\n:16S:SETDET'))[0]).toMatch(/more than one AMT subsequence with field :19A::SETT/);
    expect(validateMt54x(edit(mt541, ':95P::PSET//DTCYUS33', ':95P::DEAG//DTCYUS33'))).toEqual([
      'MT541: sequence SETDET: party DEAG appears in more than one SETPRTY subsequence',
      'MT541: sequence SETDET: no SETPRTY subsequence with the place of settlement (:95a::PSET//)',
    ]);
  });

  it('blocks and sequence framing', () => {
    expect(validateMt54x(edit(mt541, '{1:F01OURBUS33AXXX0000000000}', '{1:F01OURBUS33XXX0000000000}'))).toEqual([
      'MT541: block 1 "F01OURBUS33XXX0000000000" is not F01 + logical terminal (12) + session (4) + sequence (6)',
    ]);
    expect(validateMt54x(edit(mt541, '{2:I541', '{2:I545'))).toEqual(['MT545: block 2 names MT545; expected MT540, MT541, MT542 or MT543']);
    expect(validateMt54x(edit(mt541, '{2:I541DTCYUS33XXXXN}', ''))[0]).toBe('MT54x: block 2 (application header) is missing');
    expect(validateMt54x(edit(mt541, ':16S:TRADDET', ':16S:TRADDE'))).toEqual(['MT541: line 9: :16S:TRADDE closes sequence TRADDET (opened line 5)']);
    expect(validateMt54x(edit(mt541, '\r\n-}', '\r\n'))).toEqual(['MT54x: block 4 is not closed with a line "-}"']);
    expect(validateMt54x(mt541 + mt543)).toEqual(['MT54x: expected one message, found 2']);
    expect(validateMt54x(edit(mt541, ':16R:SETPRTY\r\n:95P::DEAG//CPTYUS33\r\n:16S:SETPRTY', ':16R:SETTY\r\n:95P::DEAG//CPTYUS33\r\n:16S:SETTY'))[0]).toBe(
      'MT541: sequence SETDET: sequence SETTY (line 16) is not allowed here',
    );
  });
});
