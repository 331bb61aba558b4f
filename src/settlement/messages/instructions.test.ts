import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../kernel/index.js';
import { toMt54x, toSese023, toSese023Batch, mtTypeOf, settlementTypeOf, type Obligation } from './instructions.js';
import { validateSese023 } from './sese023-structure.js';
import { validateMt54x } from './mt54x-validate.js';
import { at, parseXml } from './xml.js';
import { finFields, splitFin } from './swift-mt.js';

const CREATED = new Date('2024-07-16T18:30:00Z');

const base: Obligation = {
  id: 'obl_01J3Z6Q8V6YH2',
  direction: 'receive',
  payment: 'against',
  isin: 'US0378331005',
  quantity: '100',
  amount: '18950.5',
  currency: 'USD',
  tradeDate: '2024-07-16',
  settleDate: '2024-07-17',
  account: '12345678',
  counterparty: { bic: 'CPTYUS33', name: 'Counterparty Securities LLC' },
  place: { bic: 'DTCYUS33' },
  ourBic: 'OURBUS33XXX',
};

const ob = (over: Partial<Obligation> = {}): Obligation => {
  const o = { ...base, ...over };
  if (o.payment === 'free' && !('amount' in over)) delete o.amount;
  if (o.payment === 'free' && !('currency' in over)) delete o.currency;
  return o;
};

const KINDS = [
  { direction: 'receive', payment: 'free', mt: '540', market: 'RFP', mvmnt: 'RECE', pmt: 'FREE' },
  { direction: 'receive', payment: 'against', mt: '541', market: 'RVP', mvmnt: 'RECE', pmt: 'APMT' },
  { direction: 'deliver', payment: 'free', mt: '542', market: 'DFP', mvmnt: 'DELI', pmt: 'FREE' },
  { direction: 'deliver', payment: 'against', mt: '543', market: 'DVP', mvmnt: 'DELI', pmt: 'APMT' },
] as const;

/** Block 4 fields as "tag:value" lines, continuation lines joined with "\n". */
const fieldsOf = (mt: string) => finFields(splitFin(mt)[0]!.block4!).map((f) => `${f.tag}:${f.value}`);

function thrown(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('expected a DomainError');
}

describe('toSese023: one sese.023.001.09 per obligation', () => {
  for (const k of KINDS) {
    it(`${k.market}: ${k.mvmnt}/${k.pmt}, valid against the structure`, () => {
      const o = ob({ direction: k.direction, payment: k.payment });
      const xml = toSese023(o, { messageId: 'MSG0001', createdAt: CREATED });
      expect(validateSese023(xml)).toEqual([]);

      const root = parseXml(xml);
      expect(root.name).toBe('RequestPayload');
      const hdr = root.children[0]!;
      expect(hdr.ns).toBe('urn:iso:std:iso:20022:tech:xsd:head.001.001.02');
      expect(at(hdr, 'Fr/FIId/FinInstnId/BICFI')?.text).toBe('OURBUS33XXX');
      expect(at(hdr, 'To/FIId/FinInstnId/BICFI')?.text).toBe('DTCYUS33');
      expect(at(hdr, 'BizMsgIdr')?.text).toBe('MSG0001');
      expect(at(hdr, 'MsgDefIdr')?.text).toBe('sese.023.001.09');
      expect(at(hdr, 'CreDt')?.text).toBe('2024-07-16T18:30:00Z');

      const doc = root.children[1]!;
      expect(doc.ns).toBe('urn:iso:std:iso:20022:tech:xsd:sese.023.001.09');
      const tx = at(doc, 'SctiesSttlmTxInstr')!;
      expect(tx.children.map((c) => c.name)).toEqual([
        'TxId', 'SttlmTpAndAddtlParams', 'TradDtls', 'FinInstrmId', 'QtyAndAcctDtls', 'SttlmParams', 'DlvrgSttlmPties', 'RcvgSttlmPties',
        ...(k.payment === 'against' ? ['SttlmAmt'] : []),
      ]);
      expect(at(tx, 'TxId')?.text).toBe('obl_01J3Z6Q8V6YH2');
      expect(at(tx, 'SttlmTpAndAddtlParams/SctiesMvmntTp')?.text).toBe(k.mvmnt);
      expect(at(tx, 'SttlmTpAndAddtlParams/Pmt')?.text).toBe(k.pmt);
      expect(at(tx, 'TradDtls/TradDt/Dt/Dt')?.text).toBe('2024-07-16');
      expect(at(tx, 'TradDtls/SttlmDt/Dt/Dt')?.text).toBe('2024-07-17');
      expect(at(tx, 'FinInstrmId/ISIN')?.text).toBe('US0378331005');
      expect(at(tx, 'QtyAndAcctDtls/SttlmQty/Qty/Unit')?.text).toBe('100');
      expect(at(tx, 'QtyAndAcctDtls/SfkpgAcct/Id')?.text).toBe('12345678');
      expect(at(tx, 'SttlmParams/SctiesTxTp/Cd')?.text).toBe('TRAD');
      // The counterparty is on the other side of the movement; both sides name the place of settlement.
      const theirs = k.direction === 'receive' ? 'DlvrgSttlmPties' : 'RcvgSttlmPties';
      const ours = k.direction === 'receive' ? 'RcvgSttlmPties' : 'DlvrgSttlmPties';
      expect(at(tx, `${theirs}/Dpstry/Id/AnyBIC`)?.text).toBe('DTCYUS33');
      expect(at(tx, `${theirs}/Pty1/Id/AnyBIC`)?.text).toBe('CPTYUS33');
      expect(at(tx, `${ours}/Dpstry/Id/AnyBIC`)?.text).toBe('DTCYUS33');
      expect(at(tx, `${ours}/Pty1/Id/AnyBIC`)?.text).toBe('OURBUS33XXX');
      if (k.payment === 'against') {
        expect(at(tx, 'SttlmAmt/Amt')?.text).toBe('18950.50');
        expect(at(tx, 'SttlmAmt/Amt')?.attrs.Ccy).toBe('USD');
        // RVP: we pay (DBIT); DVP: we are paid (CRDT).
        expect(at(tx, 'SttlmAmt/CdtDbtInd')?.text).toBe(k.direction === 'receive' ? 'DBIT' : 'CRDT');
      } else {
        expect(at(tx, 'SttlmAmt')).toBeUndefined();
      }
    });
  }

  it('writes the amount with the currency decimals and the quantity in canonical form', () => {
    const jpy = parseXml(toSese023(ob({ amount: '1500000', currency: 'JPY', quantity: '0100.500' }), { messageId: 'M', createdAt: CREATED }));
    expect(at(jpy, 'Document/SctiesSttlmTxInstr/SttlmAmt/Amt')?.text).toBe('1500000');
    expect(at(jpy, 'Document/SctiesSttlmTxInstr/QtyAndAcctDtls/SttlmQty/Qty/Unit')?.text).toBe('100.5');
    const bhd = parseXml(toSese023(ob({ amount: '12.5', currency: 'BHD' }), { messageId: 'M', createdAt: CREATED }));
    expect(at(bhd, 'Document/SctiesSttlmTxInstr/SttlmAmt/Amt')?.text).toBe('12.500');
  });

  it('names the counterparty by DTC participant, else BIC, else name (escaped)', () => {
    const tx = (cp: Obligation['counterparty']) =>
      at(parseXml(toSese023(ob({ counterparty: cp }), { messageId: 'M', createdAt: CREATED })), 'Document/SctiesSttlmTxInstr/DlvrgSttlmPties/Pty1/Id')!;
    const dtc = tx({ dtcParticipant: '0161', bic: 'CPTYUS33', name: 'X' });
    expect(at(dtc, 'PrtryId/Id')?.text).toBe('0161');
    expect(at(dtc, 'PrtryId/Issr')?.text).toBe('DTCYID');
    expect(at(tx({ bic: 'CPTYUS33', name: 'X' }), 'AnyBIC')?.text).toBe('CPTYUS33');
    const xml = toSese023(ob({ counterparty: { name: 'Smith & Sons <Clearing>' } }), { messageId: 'M', createdAt: CREATED });
    expect(xml).toContain('<Nm>Smith &amp; Sons &lt;Clearing&gt;</Nm>');
    expect(validateSese023(xml)).toEqual([]);
    expect(at(parseXml(xml), 'Document/SctiesSttlmTxInstr/DlvrgSttlmPties/Pty1/Id/NmAndAdr/Nm')?.text).toBe('Smith & Sons <Clearing>');
  });

  it('refuses an obligation that breaks a rule, naming each field', () => {
    const e = thrown(() =>
      toSese023(ob({ isin: 'US0378331006', quantity: '0', amount: '10.123', tradeDate: '2024-07-18', counterparty: { bic: 'CPTY-US', name: 'X' } }), {
        messageId: 'M',
        createdAt: CREATED,
      }),
    );
    expect(e.code).toBe('SETTLEMENT_INSTRUCTION_INVALID');
    expect(e.kind).toBe('invalid');
    expect(e.details.map((d) => [d.field, d.rule])).toEqual([
      ['isin', 'ISIN'],
      ['quantity', 'POSITIVE'],
      ['amount', 'CURRENCY_DECIMALS'],
      ['settleDate', 'AFTER_TRADE_DATE'],
      ['counterparty.bic', 'BIC'],
    ]);
    expect(e.details.every((d) => d.record === 'obl_01J3Z6Q8V6YH2')).toBe(true);
    expect(e.message).toMatch(/^5 problems in obligation obl_01J3Z6Q8V6YH2\. First: obligation obl_01J3Z6Q8V6YH2: isin "US0378331006"/);
  });

  it('needs an amount and currency against payment, and none free of payment', () => {
    expect(thrown(() => toSese023(ob({ amount: undefined, currency: undefined }), { messageId: 'M', createdAt: CREATED })).details.map((d) => d.field)).toEqual(['currency', 'amount']);
    expect(thrown(() => toSese023(ob({ payment: 'free', amount: '5' }), { messageId: 'M', createdAt: CREATED })).details[0]!.rule).toBe('FREE_OF_PAYMENT');
    expect(thrown(() => toSese023(ob({ currency: 'XXX' }), { messageId: 'M', createdAt: CREATED })).details[0]!.field).toBe('currency');
    expect(thrown(() => toSese023(ob({ settleDate: '2024-02-30' }), { messageId: 'M', createdAt: CREATED })).details[0]!.rule).toBe('DATE');
  });

  it('needs a message id of 1-35 characters and a valid creation time', () => {
    const e = thrown(() => toSese023(ob(), { messageId: 'x'.repeat(36), createdAt: new Date('nope') }));
    expect(e.details.map((d) => d.field)).toEqual(['messageId', 'createdAt']);
  });
});

describe('toSese023Batch', () => {
  it('writes the good obligations, one file each, and quarantines the bad ones with reasons', () => {
    const batch = toSese023Batch([ob({ id: 'obl_1' }), ob({ id: 'obl_2', isin: 'XX' }), ob({ id: 'obl/3', direction: 'deliver' })], { createdAt: CREATED });
    expect(batch.files.map((f) => [f.obligationId, f.messageId, f.fileName])).toEqual([
      ['obl_1', 'obl_1', 'obl_1.xml'],
      ['obl/3', 'obl/3', 'obl_3.xml'],
    ]);
    for (const f of batch.files) expect(validateSese023(f.xml)).toEqual([]);
    expect(batch.quarantined).toEqual([{ obligationId: 'obl_2', reasons: [expect.objectContaining({ record: 'obl_2', field: 'isin', rule: 'ISIN' })] }]);
  });

  it('takes message ids from the caller and refuses the batch when two would clash', () => {
    const ok = toSese023Batch([ob({ id: 'a' }), ob({ id: 'b' })], { createdAt: CREATED, messageId: (o, i) => `B20240716-${i}-${o.id}` });
    expect(ok.files.map((f) => f.messageId)).toEqual(['B20240716-0-a', 'B20240716-1-b']);
    const e = thrown(() => toSese023Batch([ob({ id: 'a' }), ob({ id: 'b' })], { createdAt: CREATED, messageId: () => 'SAME' }));
    expect(e.details[0]).toMatchObject({ record: 'b', field: 'messageId', rule: 'UNIQUE' });
  });
});

describe('toMt54x: MT540-543', () => {
  for (const k of KINDS) {
    it(`${k.market} is MT${k.mt}, valid, with the fields of its type`, () => {
      const o = ob({ direction: k.direction, payment: k.payment });
      expect(mtTypeOf(o)).toBe(k.mt);
      expect(settlementTypeOf(o)).toBe(k.market);
      const mt = toMt54x(o, { reference: 'REF0001', senderBic: 'OURBUS33' });
      expect(validateMt54x(mt)).toEqual([]);
      expect(mt.startsWith(`{1:F01OURBUS33AXXX0000000000}{2:I${k.mt}DTCYUS33XXXXN}{4:\r\n`)).toBe(true);
      expect(mt.endsWith('\r\n-}')).toBe(true);
      expect(mt.replace(/\r\n/g, '')).not.toContain('\n');
      const theirs = k.direction === 'receive' ? 'DEAG' : 'REAG';
      const ours = k.direction === 'receive' ? 'REAG' : 'DEAG';
      expect(fieldsOf(mt)).toEqual([
        '16R:GENL', '20C::SEME//REF0001', '23G:NEWM', '16S:GENL',
        '16R:TRADDET', '98A::SETT//20240717', '98A::TRAD//20240716', '35B:ISIN US0378331005', '16S:TRADDET',
        '16R:FIAC', '36B::SETT//UNIT/100,', '97A::SAFE//12345678', '16S:FIAC',
        '16R:SETDET', '22F::SETR//TRAD',
        '16R:SETPRTY', `95P::${theirs}//CPTYUS33`, '16S:SETPRTY',
        '16R:SETPRTY', `95P::${ours}//OURBUS33XXX`, '16S:SETPRTY',
        '16R:SETPRTY', '95P::PSET//DTCYUS33', '16S:SETPRTY',
        ...(k.payment === 'against' ? ['16R:AMT', '19A::SETT//USD18950,5', '16S:AMT'] : []),
        '16S:SETDET',
      ]);
    });
  }

  it('uses the FIN comma for quantities and amounts', () => {
    const f = fieldsOf(toMt54x(ob({ quantity: '2500.75', amount: '1000000', currency: 'JPY' }), { reference: 'R1', senderBic: 'OURBUS33' }));
    expect(f).toContain('36B::SETT//UNIT/2500,75');
    expect(f).toContain('19A::SETT//JPY1000000,');
  });

  it('names the counterparty by 95R DTCYID, 95P BIC, or 95Q name in FIN characters', () => {
    const with_ = (cp: Obligation['counterparty']) => fieldsOf(toMt54x(ob({ counterparty: cp }), { reference: 'R1', senderBic: 'OURBUS33' }));
    expect(with_({ dtcParticipant: '0161', name: 'X' })).toContain('95R::DEAG/DTCYID/0161');
    const name = with_({ name: `Société Générale & Cie_Paris, a long name${' and on'.repeat(20)}` });
    const q = name.find((l) => l.startsWith('95Q::DEAG//'))!;
    const lines = q.slice('95Q::DEAG//'.length).split('\n');
    // 4*35x: accents dropped, '&' -> '+', '_' -> '-', cut at 140 characters.
    expect(lines[0]).toBe('Societe Generale + Cie-Paris, a lon');
    expect(lines.map((l) => l.length)).toEqual([35, 35, 35, 35]);
  });

  it('sends to a receiver other than the place of settlement when told', () => {
    expect(toMt54x(ob(), { reference: 'R1', senderBic: 'OURBUS33', receiverBic: 'CUSTGB2L' })).toContain('{2:I541CUSTGB2LXXXXN}');
  });

  it('refuses what FIN cannot carry', () => {
    const e = thrown(() => toMt54x(ob({ account: 'ACC_1', quantity: '1234567890123.45' }), { reference: 'REF//1', senderBic: 'OURB1S33' }));
    expect(e.code).toBe('SETTLEMENT_INSTRUCTION_INVALID');
    expect(e.details.map((d) => d.field)).toEqual(['quantity', 'account', 'reference', 'senderBic']);
    // The same account and quantity are fine in ISO 20022.
    expect(validateSese023(toSese023(ob({ account: 'ACC_1', quantity: '1234567890123.45' }), { messageId: 'M', createdAt: CREATED }))).toEqual([]);
  });
});

describe('instructions for any valid obligation validate (property)', () => {
  // Real ISINs (their check digits are right): an oracle apart from our check-digit code.
  const ISINS = ['US0378331005', 'US5949181045', 'NL0000009165', 'GB0002634946', 'DE0007164600', 'JP3633400001', 'US4592001014', 'FR0000131104'];
  const decimal = (maxInt: number, maxFrac: number) =>
    fc.tuple(fc.bigInt({ min: 0n, max: 10n ** BigInt(maxInt) - 1n }), fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: maxFrac }))
      .map(([i, f]) => (f ? `${i}.${f}` : `${i}`))
      .filter((s) => /[1-9]/.test(s));
  const day = fc.integer({ min: 0, max: 3000 }).map((n) => new Date(Date.UTC(2020, 0, 1) + n * 86_400_000).toISOString().slice(0, 10));
  const bic = fc.tuple(fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'), minLength: 6, maxLength: 6 }), fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'), minLength: 2, maxLength: 2 }), fc.constantFrom('', 'XXX', 'A1B'))
    .map(([a, b, c]) => a + b + c);
  const obligation = fc.record({
    id: fc.string({ minLength: 1, maxLength: 35 }).filter((s) => s.trim() === s && s.length > 0),
    direction: fc.constantFrom('receive' as const, 'deliver' as const),
    payment: fc.constantFrom('against' as const, 'free' as const),
    isin: fc.constantFrom(...ISINS),
    quantity: decimal(9, 4),
    ccy: fc.constantFrom('USD', 'EUR', 'JPY', 'GBP', 'CHF', 'BHD'),
    amountInt: decimal(10, 0),
    amountFrac: fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 3 }),
    d1: day,
    gap: fc.integer({ min: 0, max: 5 }),
    account: fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-'), minLength: 1, maxLength: 35 }),
    cp: fc.oneof(
      fc.record({ bic, name: fc.string({ minLength: 1, maxLength: 80 }).filter((s) => s.trim().length > 0) }),
      fc.record({ dtcParticipant: fc.stringMatching(/^\d{4}$/), name: fc.constant('DTC participant') }),
      fc.record({ name: fc.string({ minLength: 1, maxLength: 200 }).filter((s) => /[A-Za-z0-9]/.test(s)) }),
    ),
    place: bic,
    ourBic: bic,
  }).map((r): Obligation => {
    const digits = { USD: 2, EUR: 2, JPY: 0, GBP: 2, CHF: 2, BHD: 3 }[r.ccy]!;
    const frac = r.amountFrac.slice(0, digits);
    return {
      id: r.id,
      direction: r.direction,
      payment: r.payment,
      isin: r.isin,
      quantity: r.quantity,
      ...(r.payment === 'against' ? { amount: frac ? `${r.amountInt}.${frac}` : r.amountInt, currency: r.ccy } : {}),
      tradeDate: r.d1,
      settleDate: new Date(Date.parse(r.d1) + r.gap * 86_400_000).toISOString().slice(0, 10),
      account: r.account.replace(/^\/+|\/+$/g, 'A'),
      counterparty: r.cp,
      place: { bic: r.place },
      ourBic: r.ourBic,
    };
  });

  it('sese.023 and MT54x pass their validators', () => {
    fc.assert(
      fc.property(obligation, (o) => {
        expect(validateSese023(toSese023(o, { messageId: 'P1', createdAt: CREATED }))).toEqual([]);
        expect(validateMt54x(toMt54x(o, { reference: 'P1', senderBic: 'OURBUS33' }))).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
