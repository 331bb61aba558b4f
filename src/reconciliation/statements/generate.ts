/**
 * A camt.053 statement with N entries and balances that add up, for tests and the bench. Amounts
 * are given or drawn from a seeded generator; the closing balance is the opening plus every entry,
 * computed in bigint minor units.
 */
import { currencyScale, format, minor, SIGNED_RE, significantDecimals } from './amounts.js';

export interface GenerateCamt053Options {
  /** Number of entries. */
  entries: number;
  /** Signed decimal strings, one per entry (negative = debit); drawn at random when absent. */
  amounts?: readonly string[];
  /** Seed of the random amounts (default 1): the same seed gives the same file. */
  seed?: number;
  /** ISO 4217 currency (default EUR). */
  currency?: string;
  /** Account IBAN (default DE89370400440532013000). */
  iban?: string;
  /** Signed opening balance (default 1000 in the currency's minor units: "1000.00"). */
  opening?: string;
  /** Booking and value date of every entry, and the balance dates (default 2024-03-01). */
  date?: string;
  /** camt.053.001.NN version, 2 to 13 (default 8). From 8 on: <Sts><Cd>, parties in <Pty>. */
  version?: number;
  /** Stmt/Id (default STMT-<date>-<entries>). */
  statementId?: string;
  /** GrpHdr/MsgId (default MSG-<date>-<entries>). */
  messageId?: string;
}

/** mulberry32: a small seeded generator, good enough for test amounts. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pad = (n: number, w = 6) => String(n).padStart(w, '0');
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A valid camt.053.001.NN document with one statement of `entries` booked entries, an OPBD and a
 * CLBD balance that reconcile.
 * @throws Error on an unusable option (unknown currency, amounts not matching `entries`, bad decimals).
 */
export function generateCamt053(opts: GenerateCamt053Options): string {
  const n = opts.entries;
  if (!Number.isInteger(n) || n < 0) throw new Error(`entries must be a whole number >= 0, got ${n}`);
  const currency = opts.currency ?? 'EUR';
  const scale = currencyScale(currency);
  if (scale === null) throw new Error(`${currency} is not an ISO 4217 currency`);
  const version = opts.version ?? 8;
  if (!Number.isInteger(version) || version < 2 || version > 13) throw new Error(`version must be 2 to 13, got ${version}`);
  const date = opts.date ?? '2024-03-01';
  const iban = esc(opts.iban ?? 'DE89370400440532013000');
  const stmtId = esc(opts.statementId ?? `STMT-${date}-${n}`);
  const msgId = esc(opts.messageId ?? `MSG-${date}-${n}`);
  const check = (v: string, what: string) => {
    if (!SIGNED_RE.test(v) || significantDecimals(v) > scale) throw new Error(`${what} "${v}" is not a signed decimal with at most ${scale} decimals`);
    return minor(v, scale);
  };
  if (opts.amounts && opts.amounts.length !== n) throw new Error(`amounts has ${opts.amounts.length} values for ${n} entries`);
  const open = check(opts.opening ?? format(1000n * 10n ** BigInt(scale), scale), 'opening');
  const random = rng(opts.seed ?? 1);
  const v8 = version >= 8;
  const parts: string[] = [];
  let sum = 0n;
  const bal = (code: string, m: bigint) =>
    `      <Bal>
        <Tp><CdOrPrtry><Cd>${code}</Cd></CdOrPrtry></Tp>
        <Amt Ccy="${currency}">${format(m < 0n ? -m : m, scale)}</Amt>
        <CdtDbtInd>${m < 0n ? 'DBIT' : 'CRDT'}</CdtDbtInd>
        <Dt><Dt>${date}</Dt></Dt>
      </Bal>
`;
  const sts = v8 ? '<Sts><Cd>BOOK</Cd></Sts>' : '<Sts>BOOK</Sts>';
  for (let i = 0; i < n; i++) {
    let m: bigint;
    if (opts.amounts) m = check(opts.amounts[i]!, `amounts[${i}]`);
    else {
      const size = BigInt(1 + Math.floor(random() * 10_000_000));
      m = random() < 0.5 ? -size : size;
    }
    sum += m;
    const debit = m < 0n;
    const k = i + 1;
    const party = debit ? 'Cdtr' : 'Dbtr';
    const who = debit ? `Supplier ${k % 997}` : `Customer ${k % 991}`;
    const name = v8 ? `<${party}><Pty><Nm>${who}</Nm></Pty></${party}>` : `<${party}><Nm>${who}</Nm></${party}>`;
    parts.push(`      <Ntry>
        <NtryRef>${k}</NtryRef>
        <Amt Ccy="${currency}">${format(debit ? -m : m, scale)}</Amt>
        <CdtDbtInd>${debit ? 'DBIT' : 'CRDT'}</CdtDbtInd>
        ${sts}
        <BookgDt><Dt>${date}</Dt></BookgDt>
        <ValDt><Dt>${date}</Dt></ValDt>
        <AcctSvcrRef>BANK-${pad(k, 8)}</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>${debit ? 'ICDT' : 'RCDT'}</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls>
          <TxDtls>
            <Refs><EndToEndId>E2E-${pad(k, 8)}</EndToEndId></Refs>
            <RltdPties>${name}</RltdPties>
            <RmtInf><Ustrd>Invoice ${pad(k, 8)}</Ustrd></RmtInf>
          </TxDtls>
        </NtryDtls>
      </Ntry>
`);
  }
  const close = open + sum;
  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.${String(version).padStart(2, '0')}">
  <BkToCstmrStmt>
    <GrpHdr>
      <MsgId>${msgId}</MsgId>
      <CreDtTm>${date}T18:00:00</CreDtTm>
    </GrpHdr>
    <Stmt>
      <Id>${stmtId}</Id>
      <ElctrncSeqNb>1</ElctrncSeqNb>
      <CreDtTm>${date}T18:00:00</CreDtTm>
      <FrToDt><FrDtTm>${date}T00:00:00</FrDtTm><ToDtTm>${date}T23:59:59</ToDtTm></FrToDt>
      <Acct>
        <Id><IBAN>${iban}</IBAN></Id>
        <Ccy>${currency}</Ccy>
      </Acct>
${bal('OPBD', open)}${bal('CLBD', close)}${parts.join('')}    </Stmt>
  </BkToCstmrStmt>
</Document>
`;
}
