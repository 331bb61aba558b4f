import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../kernel/index.js';
import { chainStatements, detectFormat, parseStatementFile } from './index.js';

const DIR = new URL('../../../test/fixtures/iso20022/', import.meta.url);
const read = (f: string) => readFileSync(new URL(f, DIR), 'utf8');

describe('detectFormat reads the content, not the name', () => {
  const expected: Record<string, string | null> = {
    'genkgo_camt052.v2.xml': 'camt.052.001.02',
    'genkgo_camt053.v2.minimal.xml': 'camt.053.001.02',
    'genkgo_camt053.v4.xml': 'camt.053.001.04',
    'genkgo_camt053.v8.xml': 'camt.053.001.08',
    'genkgo_camt054.v2.xml': 'camt.054.001.02',
    'genkgo_camt054.v8.xml': 'camt.054.001.08',
    'ours_mt940_two_days.fin': 'mt940',
    'ours_mt940_bad_closing.sta': 'mt940',
    'ours_mt950_two_pages.fin': 'mt950',
    'ours_mt535_holdings.fin': 'mt535',
    'ours_semt002.001.10_holdings.xml': 'semt.002.001.10',
    'ours_semt002.001.03_subaccounts.xml': 'semt.002.001.03',
    'ours_bank_export.csv': 'csv',
    'ours_custodian_cash.csv': 'csv',
    'prowide_sese025.001.09_T2S_confirmation.xml': null,
  };
  it.each(Object.entries(expected))('%s', (f, format) => {
    expect(readdirSync(DIR)).toContain(f);
    expect(detectFormat(read(f)).format).toBe(format);
  });

  it('says why when it does not know the content', () => {
    expect(detectFormat(read('prowide_sese025.001.09_T2S_confirmation.xml'))).toMatchObject({
      format: null,
      syntax: 'xml',
      namespace: 'urn:iso:std:iso:20022:tech:xsd:sese.025.001.09',
    });
    expect(detectFormat('{1:F01BANKDEFFAXXX0000000000}{2:O1031200240301BANKDEFFAXXX00000000002403011200N}{4:\n:20:X\n-}')).toMatchObject({
      format: null,
      reason: 'SWIFT MT103 is not a statement this reads (MT940, MT950, MT535)',
    });
    expect(detectFormat('just some words').format).toBeNull();
  });
});

describe('parseStatementFile', () => {
  const refusal = (text: string) => {
    try {
      parseStatementFile(text, { fileName: 'in.dat' });
    } catch (e) {
      expect(e).toBeInstanceOf(DomainError);
      expect((e as DomainError).kind).toBe('invalid');
      return (e as Error).message;
    }
    throw new Error('the file was accepted');
  };

  it('refuses what it does not read, naming the file', () => {
    expect(refusal('just some words')).toBe('in.dat: format not recognised: neither ISO 20022 XML, SWIFT MT nor CSV with a header line');
    expect(refusal(read('prowide_sese025.001.09_T2S_confirmation.xml'))).toBe(
      'in.dat: /RequestPayload/Document: unknown namespace "urn:iso:std:iso:20022:tech:xsd:sese.025.001.09"; supported: camt.052, camt.053 and camt.054 versions 001.02 to 001.13, semt.002 versions 001.03 to 001.11',
    );
  });

  it('chainStatements works across files too: statements of two files in date order', () => {
    const days = parseStatementFile(read('ours_mt940_two_days.fin'));
    const links = chainStatements([days[1]!, days[0]!]);
    // Given in the wrong order, the 4 March statement's closing is not 1 March's opening.
    expect(links).toHaveLength(1);
    expect(links[0]).toMatchObject({ index: 1, ok: false });
    expect(chainStatements(days).map((l) => l.ok)).toEqual([true]);
  });
});
