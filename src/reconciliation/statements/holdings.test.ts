import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../kernel/index.js';
import { detectFormat, parseStatementFile } from './index.js';

const read = (f: string) => readFileSync(new URL(`../../../test/fixtures/iso20022/${f}`, import.meta.url), 'utf8');

function refusal(text: string): string {
  try {
    parseStatementFile(text, { fileName: 'holdings.xml' });
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    return (e as Error).message;
  }
  throw new Error('the file was accepted');
}

describe('semt.002.001.10 inside a RequestPayload with an AppHdr', () => {
  const text = read('ours_semt002.001.10_holdings.xml');
  const [st] = parseStatementFile(text, { fileName: 'semt002.xml' });

  it('is detected by the Document namespace inside the envelope', () => {
    expect(detectFormat(text)).toMatchObject({ format: 'semt.002.001.10', kind: 'holdings', namespace: 'urn:iso:std:iso:20022:tech:xsd:semt.002.001.10' });
  });

  it('reads the statement and every holding: ISIN or other id, units or face amount, short positions, prices, values', () => {
    expect(st).toMatchObject({
      kind: 'holdings',
      format: 'semt.002.001.10',
      messageId: 'SEMT002-20240301-0001',
      statementId: 'CUST-HOLD-20240301',
      account: '987654321',
      servicer: 'IRVTUS3NXXX',
      statementDate: '2024-03-01',
      page: '1',
      currency: null,
      balances: [],
      entries: [],
    });
    expect(st!.holdings.map((h) => [h.security, h.quantity, h.quantityType, h.price, h.priceCurrency, h.value, h.valueCurrency])).toEqual([
      ['US0378331005', '1500', 'UNIT', '179.66', 'USD', '269490.00', 'USD'],
      ['US912828ZQ64', '5000000', 'FAMT', '98.5', null, '4925000.00', 'USD'],
      ['CUSP:459200101', '-200', 'UNIT', '185.00', 'USD', '-37000.00', 'USD'],
    ]);
  });

  it('the values add up to the page total', () => {
    expect(st).toMatchObject({ check: 'ok', refused: false });
  });

  it('a total that does not add up refuses the statement', () => {
    const [off] = parseStatementFile(text.replace('<HldgVal><Amt Ccy="USD">4925000.00</Amt>', '<HldgVal><Amt Ccy="USD">4925000.01</Amt>'));
    expect(off!.refused).toBe(true);
    expect(off!.check).toBe('statement CUST-HOLD-20240301 (account 987654321): total holdings value TtlHldgsValOfPg is off: expected 5157490.01 USD (3 holdings), stated 5157490.00 USD');
  });

  it('refuses a holding without quantity, and a value with too many decimals', () => {
    expect(refusal(text.replace('<Qty><Qty><Unit>1500</Unit></Qty></Qty>', ''))).toBe(
      'holdings.xml: statement CUST-HOLD-20240301 (account 987654321): /RequestPayload/Document/SctiesBalCtdyRpt/BalForAcct[1]/AggtBal/Qty/Qty/Unit is missing: the aggregate balance needs a quantity (Unit, FaceAmt or AmtsdVal)',
    );
    expect(refusal(text.replace('<Amt Ccy="USD">269490.00</Amt>', '<Amt Ccy="USD">269490.001</Amt>'))).toBe(
      'holdings.xml: statement CUST-HOLD-20240301 (account 987654321): /RequestPayload/Document/SctiesBalCtdyRpt/BalForAcct[1]/AcctBaseCcyAmts/HldgVal/Amt: "269490.001" has 3 decimals; USD allows 2 (ISO 4217 minor units)',
    );
  });
});

describe('semt.002.001.03 with sub-accounts', () => {
  const st = parseStatementFile(read('ours_semt002.001.03_subaccounts.xml'));

  it('one statement per sub-account; no total to check', () => {
    expect(st.map((s) => [s.format, s.account, s.statementId, s.messageId, s.statementDate])).toEqual([
      ['semt.002.001.03', 'CSD-SUB-CLIENTS', 'CSD-HOLD-0302-7', 'CSD-HOLD-0302-7', '2024-03-02'],
      ['semt.002.001.03', 'CSD-SUB-HOUSE', 'CSD-HOLD-0302-7', 'CSD-HOLD-0302-7', '2024-03-02'],
    ]);
    expect(st[0]!.holdings.map((h) => [h.security, h.quantity, h.quantityType])).toEqual([
      ['DE0007164600', '3200', 'UNIT'],
      ['DE0001102580', '1000000', 'FAMT'],
    ]);
    expect(st[1]!.holdings.map((h) => [h.security, h.quantity])).toEqual([['NL0000009165', '125.5']]);
    expect(st.map((s) => [s.check, s.refused])).toEqual([
      ['not checkable: no total holdings value', false],
      ['not checkable: no total holdings value', false],
    ]);
  });

  it('an unsupported semt.002 version is refused', () => {
    const text = read('ours_semt002.001.03_subaccounts.xml').replace('semt.002.001.03', 'semt.002.001.02');
    expect(detectFormat(text)).toMatchObject({ format: null, namespace: 'urn:iso:std:iso:20022:tech:xsd:semt.002.001.02' });
    expect(refusal(text)).toBe(
      'holdings.xml: /Document: unknown namespace "urn:iso:std:iso:20022:tech:xsd:semt.002.001.02"; supported: camt.052, camt.053 and camt.054 versions 001.02 to 001.13, semt.002 versions 001.03 to 001.11',
    );
  });
});
