import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../kernel/index.js';
import { currencyScale, minor } from './amounts.js';
import { parseStatementFile, type ParsedStatement, type StatementBalance } from './index.js';

const DIR = new URL('../../../test/fixtures/iso20022/', import.meta.url);
const read = (f: string) => readFileSync(new URL(f, DIR), 'utf8');
const camtFixtures = readdirSync(DIR).filter((f) => /^genkgo_camt05\d.*\.xml$/.test(f));

// ---- The genkgo/camt expected parse, read as it is written (see test/fixtures/iso20022/SOURCES.md).

type J = Record<string, unknown>;
const REC = '__RECURSIVITY__';
const obj = (v: unknown): J | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as J) : null);
const day = (d: unknown): string | null => (obj(d) ? String((d as J)['0']).slice(0, 10) : null);
const money = (m: unknown) => ({ minor: BigInt(String(obj(m)!.getAmount)), currency: String(obj(obj(m)!.getCurrency)!.getCode) });

/** genkgo's balance types, as ours name them (type and the ISO code it comes from). */
const GENKGO_TYPES: Record<string, { types: StatementBalance['type'][]; codes: string[] }> = {
  opening: { types: ['opening'], codes: ['OPBD', 'PRCD'] },
  closing: { types: ['closing'], codes: ['CLBD'] },
  opening_available: { types: ['available'], codes: ['OPAV'] },
  closing_available: { types: ['available'], codes: ['CLAV'] },
  interim_available: { types: ['available'], codes: ['ITAV'] },
  forward_available: { types: ['forward_available'], codes: ['FWAV'] },
  information: { types: ['other'], codes: ['INFO'] },
  expected_credit: { types: ['other'], codes: ['XPCD'] },
  interim: { types: ['interim_opening', 'interim_closing'], codes: ['ITBD'] },
};

interface Expected {
  messageId: string;
  records: Array<{ record: J; entries: J[] }>;
}

/** Every statement object in the JSON with the entries that point at it (an entry's "__RECURSIVITY__" record is the one before). */
function expectedOf(json: J): Expected {
  const records: Array<{ record: J; entries: J[] }> = [];
  let last: { record: J; entries: J[] } | undefined;
  for (const e of json.getEntries as J[]) {
    const r = obj(e.getRecord);
    if (r) records.push((last = { record: r, entries: [] }));
    last!.entries.push(e);
  }
  return { messageId: String(obj(json.getGroupHeader)!.getMessageId), records };
}

/** Transaction details of an entry: the first one, then the others ("__RECURSIVITY__" is the first again). */
const txDetails = (e: J): J[] => [obj(e.getTransactionDetail), ...((e.getTransactionDetails as unknown[]) ?? []).map(obj)].filter((x): x is J => x !== null);

function bankCode(c: unknown): { iso: string | null; prtry: string | null } {
  const code = obj(c);
  if (!code) return { iso: null, prtry: null };
  const domain = obj(code.getDomain);
  const prtry = obj(code.getProprietary) ? String(obj(code.getProprietary)!.getCode) : null;
  if (domain) {
    const fam = obj(domain.getFamily)!;
    return { iso: `${domain.getCode}/${fam.getCode}/${fam.getSubFamilyCode}`, prtry };
  }
  return { iso: prtry, prtry };
}

function referencesOf(t: J): string[] {
  const r = obj(t.getReference);
  if (!r) return [];
  const keys = ['getEndToEndId', 'getInstructionId', 'getPaymentInformationId', 'getTransactionId', 'getMandateId', 'getMessageId', 'getAccountServicerReference', 'getChequeNumber', 'getClearingSystemReference', 'getAccountOwnerTransactionId', 'getAccountServicerTransactionId', 'getMarketInfrastructureTransactionId', 'getProcessingId', 'getUuidEndToEndReference'];
  const out = keys.map((k) => r[k]).filter((v): v is string => typeof v === 'string' && v !== '');
  for (const p of (r.getProprietaries as unknown[]) ?? []) if (obj(p)) out.push(String(obj(p)!.getReference));
  return out;
}

const scaled = (amount: string, currency: string) => minor(amount, currencyScale(currency)!);

describe('camt fixtures agree with genkgo/camt', () => {
  it('there is a fixture of each message: camt.052, camt.053, camt.054', () => {
    expect(camtFixtures.map((f) => f.slice(7, 14)).sort()).toEqual(expect.arrayContaining(['camt052', 'camt053', 'camt054']));
  });

  it.each(camtFixtures)('%s', (f) => {
    const statements = parseStatementFile(read(f), { fileName: f });
    const expected = expectedOf(JSON.parse(read(f.replace(/\.xml$/, '.expected.json'))) as J);
    expect(expected.records.length).toBeGreaterThan(0);
    for (const st of statements) expect(st.messageId).toBe(expected.messageId);
    for (const { record, entries } of expected.records) {
      const st = statements.find((s) => s.statementId === record.getId)!;
      expect(st, `statement ${String(record.getId)}`).toBeDefined();
      const acct = obj(record.getAccount)!;
      expect(st.account).toBe(acct.getIdentification);
      if (obj(acct.getIban)) expect(st.account).toBe(obj(acct.getIban)!.getIban);
      if (record.getElectronicSequenceNumber) expect(st.sequence).toBe(record.getElectronicSequenceNumber);
      if (obj(record.getPagination)) expect(st.page).toBe(obj(record.getPagination)!.getPageNumber);

      const balances = ((record.getBalances as unknown[]) ?? []).map(obj).filter((b): b is J => b !== null);
      expect(st.balances.length).toBe(balances.length);
      balances.forEach((b, k) => {
        const ours = st.balances[k]!;
        const { minor: m, currency } = money(b.getAmount);
        const t = GENKGO_TYPES[String(b.getType)]!;
        expect(t.types, `balance ${k}`).toContain(ours.type);
        expect(t.codes).toContain(ours.code);
        expect(ours.currency).toBe(currency);
        expect(scaled(ours.amount, ours.currency)).toBe(m);
        expect(ours.date).toBe(day(b.getDate));
      });

      expect(st.entries.length).toBe(entries.length);
      entries.forEach((e, k) => {
        const ours = st.entries[Number(e.getIndex)]!;
        expect(ours.index).toBe(e.getIndex);
        const { minor: m, currency } = money(e.getAmount);
        expect(ours.currency).toBe(currency);
        expect(scaled(ours.amount, currency), `entry ${k} amount`).toBe(m);
        expect(ours.amount.startsWith('-')).toBe(e.getCreditDebitIndicator === 'DBIT');
        expect(ours.status).toBe(e.getStatus);
        expect(ours.bookingDate).toBe(day(e.getBookingDate));
        expect(ours.valueDate).toBe(day(e.getValueDate));
        if (typeof e.getAccountServicerReference === 'string') expect(ours.servicerRef).toBe(e.getAccountServicerReference);
        else expect(ours.servicerRef).toBeNull();
        expect(ours.additionalInfo ?? '').toBe(e.getAdditionalInfo ?? '');
        const code = bankCode(e.getBankTransactionCode);
        expect(ours.bankTxCode).toBe(code.iso);
        expect(ours.proprietaryBankTxCode).toBe(code.prtry);

        // Every reference genkgo found (entry, batch and each transaction) is ours too.
        const mine = [ours.servicerRef, ours.ourRef, ...ours.refs];
        const theirs = [e.getReference, e.getBatchPaymentId, ...txDetails(e).flatMap(referencesOf)].filter((v): v is string => typeof v === 'string' && v !== '');
        for (const r of theirs) expect(mine, `reference ${r}`).toContain(r);
        // Our own reference: the end-to-end id of a single transaction, the batch's payment information otherwise.
        const tds = txDetails(e);
        const e2e = obj(tds[0]?.getReference)?.getEndToEndId;
        if (tds.length === 1 && typeof e2e === 'string') expect(ours.ourRef).toBe(e2e);
        if (typeof e.getBatchPaymentId === 'string') expect(ours.ourRef).toBe(e.getBatchPaymentId);

        // Remittance: each transaction's message is in ours.
        const messages = tds.map((t) => obj(t.getRemittanceInformation)?.getMessage).filter((m): m is string => typeof m === 'string');
        if (messages.length === 0) expect(ours.remittance).toBeNull();
        for (const msg of messages) expect(ours.remittance).toContain(msg);

        // Counterparty: the debtor of a credit, the creditor of a debit (first transaction).
        const wanted = e.getCreditDebitIndicator === 'CRDT' ? 'Debtor' : 'Creditor';
        const party = ((tds[0]?.getRelatedParties as unknown[]) ?? [])
          .map((p) => obj(obj(p)?.getRelatedPartyType))
          .find((p) => p && String(p.__CLASS__).endsWith(`\\${wanted}`));
        expect(ours.counterpartyName).toBe(party?.getName ?? null);
      });
    }
  });
});

describe('one statement in three schema versions', () => {
  const [v2, v4, v8] = ['genkgo_camt053.v2.minimal.xml', 'genkgo_camt053.v4.xml', 'genkgo_camt053.v8.xml'].map((f) => parseStatementFile(read(f), { fileName: f })[0]!);

  it('.02, .04 and .08 give the same balances and entries', () => {
    expect(v2!.format).toBe('camt.053.001.02');
    expect(v4!.format).toBe('camt.053.001.04');
    expect(v8!.format).toBe('camt.053.001.08');
    const shape = (s: ParsedStatement) => ({
      id: s.statementId,
      account: s.account,
      balances: s.balances.map(({ type, code, amount, currency }) => ({ type, code, amount, currency })),
      entries: s.entries.map(({ amount, currency, bookingDate, valueDate, status, counterpartyName, remittance }) => ({ amount, currency, bookingDate, valueDate, status, counterpartyName, remittance })),
    });
    expect(shape(v4!)).toEqual(shape(v2!));
    expect(shape(v8!)).toEqual(shape(v2!));
    // What the versions write differently is read from each: Sts/Cd, Dbtr/Pty/Nm, DtTm, BkTxCd/Domn.
    expect(v8!.entries[0]!.counterpartyName).toBe('NAME NAME');
    expect([v2!.entries[0]!.bankTxCode, v4!.entries[0]!.bankTxCode, v8!.entries[0]!.bankTxCode]).toEqual(['544', 'PAYM/0001/0005', 'PMNT/RCDT/BOOK']);
  });

  it('its balances in four currencies refuse it, naming the statement and every currency', () => {
    for (const s of [v2!, v4!, v8!]) {
      expect(s.refused).toBe(true);
      expect(s.check).toBe(
        `statement 253EURNL26VAYB8060476890 (account NL26VAYB8060476890) mixes currencies: ${s === v2 ? 'account currency EUR; ' : ''}` +
          'balances in EUR (OPBD), SEK (CLBD), CHF (OPAV), JPY (CLAV); entries in EUR (1 entry); a statement must be in one currency',
      );
    }
  });
});

describe('several statements in one file', () => {
  const [first, second] = parseStatementFile(read('genkgo_camt053.v2.multi.statement.xml'), { fileName: 'multi.xml' });

  it('each is checked: 18.15 + 8.85 = 27.00 and 27.00 - 7.00 = 20.00', () => {
    expect([first!.statementId, second!.statementId]).toEqual(['253EURNL26VAYB8060476890', '254EURNL26VAYB8060476890']);
    expect([first!.check, second!.check]).toEqual(['ok', 'ok']);
    expect(first!.entries.map((e) => e.amount)).toEqual(['8.85']);
    expect(second!.entries.map((e) => e.amount)).toEqual(['-7.00']);
  });

  it('the chain is reported: the second opens where the first closed', () => {
    expect(first!.chain).toBeUndefined();
    expect(second!.chain).toBe('ok: opening OPBD 27.00 EUR equals closing CLBD of statement 253EURNL26VAYB8060476890');
  });

  it('a break in the chain is reported, naming both statements and amounts', () => {
    const broken = read('genkgo_camt053.v2.multi.statement.xml').replace('<Amt Ccy="EUR">27.00</Amt>\n                <CdtDbtInd>CRDT</CdtDbtInd>\n                <Dt>\n                    <Dt>2014-12-30', '<Amt Ccy="EUR">26.00</Amt>\n                <CdtDbtInd>CRDT</CdtDbtInd>\n                <Dt>\n                    <Dt>2014-12-30');
    const [, b] = parseStatementFile(broken, { fileName: 'multi.xml' });
    expect(b!.chain).toBe('break: opening OPBD 26.00 EUR of statement 254EURNL26VAYB8060476890 differs from closing CLBD 27.00 EUR of statement 253EURNL26VAYB8060476890 (account NL26VAYB8060476890)');
    // 26.00 - 7.00 is not 20.00 either: the statement itself is refused.
    expect(b!.refused).toBe(true);
  });
});

describe('camt.052 and camt.054', () => {
  it('a report with entries but no balances is not checkable, and not refused', () => {
    const [r] = parseStatementFile(read('genkgo_camt052.v2.xml'));
    expect(r).toMatchObject({ format: 'camt.052.001.02', check: 'not checkable: no balances', refused: false, currency: 'SEK' });
    expect(r!.entries[0]).toMatchObject({ transactionCount: 20, ourRef: 'FINP-0055-001', amount: '-200000' });
  });
  it('a notification has no balances: not checkable, not refused', () => {
    for (const f of ['genkgo_camt054.v2.xml', 'genkgo_camt054.v8.xml']) {
      const [n] = parseStatementFile(read(f));
      expect(n).toMatchObject({ check: 'not checkable: no balances', refused: false, balances: [] });
    }
  });
});

describe('the all-balance-types statement', () => {
  it('OPBD and PRCD disagree: refused, naming both', () => {
    const [s] = parseStatementFile(read('genkgo_camt053.v2.all-balance-types.xml'));
    expect(s!.refused).toBe(true);
    expect(s!.check).toBe('statement CAMT0532015012200001 (account CH2801234000123456789): opening balances disagree: OPBD 1.01 EUR of 2015-01-21, PRCD 2.02 EUR of 2015-01-21');
  });
});

// ---- Bad files: refused whole, with the file, the statement and the element named.

const doc = (stmt: string, ns = 'urn:iso:std:iso:20022:tech:xsd:camt.053.001.08') => `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="${ns}">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>M-1</MsgId><CreDtTm>2024-03-01T18:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>S-1</Id>
      <CreDtTm>2024-03-01T18:00:00</CreDtTm>
      <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>
${stmt}    </Stmt>
  </BkToCstmrStmt>
</Document>
`;
const bal = (code: string, amt: string, cdi: string | null, ccy = 'EUR') =>
  `      <Bal><Tp><CdOrPrtry><Cd>${code}</Cd></CdOrPrtry></Tp><Amt Ccy="${ccy}">${amt}</Amt>${cdi ? `<CdtDbtInd>${cdi}</CdtDbtInd>` : ''}<Dt><Dt>2024-03-01</Dt></Dt></Bal>\n`;
const ntry = (amt: string, cdi: string, ccy = 'EUR', sts = '<Sts><Cd>BOOK</Cd></Sts>') =>
  `      <Ntry><Amt Ccy="${ccy}">${amt}</Amt><CdtDbtInd>${cdi}</CdtDbtInd>${sts}<BookgDt><Dt>2024-03-01</Dt></BookgDt><BkTxCd><Prtry><Cd>X</Cd></Prtry></BkTxCd></Ntry>\n`;

function refusal(text: string): string {
  try {
    parseStatementFile(text, { fileName: 'bad.xml' });
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    expect((e as DomainError).kind).toBe('invalid');
    expect((e as DomainError).code).toBe('RECON_STATEMENT_REFUSED');
    return (e as Error).message;
  }
  throw new Error('the file was accepted');
}

describe('bad camt files are refused whole', () => {
  it('a good one first: the same builder makes a statement that checks', () => {
    const [s] = parseStatementFile(doc(bal('OPBD', '100.00', 'CRDT') + bal('CLBD', '40.00', 'DBIT') + ntry('140.00', 'DBIT') + ntry('10.00', 'CRDT', 'EUR', '<Sts><Cd>PDNG</Cd></Sts>')));
    expect(s).toMatchObject({ check: 'ok', refused: false, currency: 'EUR' });
    expect(s!.balances.map((b) => b.amount)).toEqual(['100.00', '-40.00']);
  });

  it('a prefixed Document, and two Documents in one envelope, are read alike', () => {
    const plain = doc(bal('OPBD', '1.00', 'CRDT') + bal('CLBD', '3.00', 'CRDT') + ntry('2.00', 'CRDT'));
    const prefixed = plain.replace(/<(\/?)([A-Za-z])/g, '<$1c:$2').replace('<c:Document xmlns=', '<c:Document xmlns:c=').replace('<?xml', '<?xml');
    expect(prefixed).toContain('<c:Ntry><c:Amt Ccy="EUR">');
    const [a] = parseStatementFile(prefixed);
    expect(a).toMatchObject({ statementId: 'S-1', check: 'ok', format: 'camt.053.001.08' });
    const body = plain.replace(/^<\?xml[^>]*>\n/, '');
    const two = parseStatementFile(`<Envelope>\n${body}${body.replace('<Id>S-1</Id>', '<Id>S-2</Id>').replace('camt.053.001.08', 'camt.053.001.02')}</Envelope>`);
    expect(two.map((s) => [s.statementId, s.format, s.check])).toEqual([['S-1', 'camt.053.001.08', 'ok'], ['S-2', 'camt.053.001.02', 'ok']]);
  });

  it('malformed XML', () => {
    const text = doc(bal('OPBD', '1.00', 'CRDT')).replace('</Stmt>', '');
    expect(refusal(text)).toBe('bad.xml: not well-formed XML at line 11, column 3: end tag </BkToCstmrStmt> does not match <Stmt> opened at line 5, column 5');
  });

  it('an unknown version and an unknown namespace', () => {
    expect(refusal(doc('', 'urn:iso:std:iso:20022:tech:xsd:camt.053.001.14'))).toBe(
      'bad.xml: /Document: unknown namespace "urn:iso:std:iso:20022:tech:xsd:camt.053.001.14"; supported: camt.052, camt.053 and camt.054 versions 001.02 to 001.13, semt.002 versions 001.03 to 001.11',
    );
    expect(refusal(doc('', 'urn:example:bank:statement'))).toBe(
      'bad.xml: /Document: unknown namespace "urn:example:bank:statement"; supported: camt.052, camt.053 and camt.054 versions 001.02 to 001.13, semt.002 versions 001.03 to 001.11',
    );
  });

  it('a balance without CdtDbtInd', () => {
    expect(refusal(doc(bal('OPBD', '1.00', 'CRDT') + bal('CLBD', '1.00', null)))).toBe(
      'bad.xml: statement S-1 (account DE89370400440532013000): /Document/BkToCstmrStmt/Stmt/Bal[2]/CdtDbtInd is missing: every balance needs a credit/debit indicator (CRDT or DBIT)',
    );
  });

  it('an entry without CdtDbtInd, named by its position', () => {
    const text = doc(bal('OPBD', '1.00', 'CRDT') + ntry('1.00', 'CRDT') + ntry('2.00', 'DBIT').replace('<CdtDbtInd>DBIT</CdtDbtInd>', ''));
    expect(refusal(text)).toBe(
      'bad.xml: statement S-1 (account DE89370400440532013000): /Document/BkToCstmrStmt/Stmt/Ntry[2]/CdtDbtInd is missing: every entry needs a credit/debit indicator (CRDT or DBIT)',
    );
  });

  it('an amount with more decimals than its currency has', () => {
    expect(refusal(doc(bal('OPBD', '1.00', 'CRDT') + ntry('5.00', 'CRDT') + ntry('10.125', 'DBIT')))).toBe(
      'bad.xml: statement S-1 (account DE89370400440532013000): /Document/BkToCstmrStmt/Stmt/Ntry[2]/Amt: "10.125" has 3 decimals; EUR allows 2 (ISO 4217 minor units)',
    );
    expect(refusal(doc(bal('OPBD', '100.5', 'CRDT', 'JPY')))).toBe(
      'bad.xml: statement S-1 (account DE89370400440532013000): /Document/BkToCstmrStmt/Stmt/Bal/Amt: "100.5" has 1 decimals; JPY allows 0 (ISO 4217 minor units)',
    );
  });

  it('a missing required element', () => {
    expect(refusal(doc(bal('OPBD', '1.00', 'CRDT')).replace('<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct>', ''))).toBe(
      'bad.xml: statement S-1: /Document/BkToCstmrStmt/Stmt/Acct is missing: every statement names its account',
    );
    expect(refusal(doc(bal('OPBD', '1.00', 'CRDT')).replace('<MsgId>M-1</MsgId>', ''))).toBe('bad.xml: /Document/BkToCstmrStmt/GrpHdr/MsgId is missing: the group header identifies the message');
  });

  it('mixed currencies refuse the statement (not the file)', () => {
    const [s] = parseStatementFile(doc(bal('OPBD', '100.00', 'CRDT') + bal('CLBD', '90.00', 'CRDT') + ntry('10.00', 'DBIT', 'USD')));
    expect(s!.refused).toBe(true);
    expect(s!.check).toBe('statement S-1 (account DE89370400440532013000) mixes currencies: balances in EUR (OPBD, CLBD); entries in USD (1 entry); a statement must be in one currency');
  });

  it('a wrong closing balance refuses the statement with expected and stated amounts', () => {
    const [s] = parseStatementFile(doc(bal('OPBD', '100.00', 'CRDT') + bal('CLBD', '45.00', 'CRDT') + ntry('60.00', 'DBIT')));
    expect(s!.refused).toBe(true);
    expect(s!.check).toBe('statement S-1 (account DE89370400440532013000): closing balance CLBD of 2024-03-01 is off: expected 40.00 EUR (opening OPBD 100.00 plus 1 booked entry -60.00), stated 45.00 EUR');
  });
});
