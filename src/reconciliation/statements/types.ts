/**
 * A bank or custodian statement as every parser returns it, whatever the format (camt.052/053/054,
 * MT940/950, semt.002, MT535, CSV). Amounts and quantities are signed decimal strings exactly as
 * in the file (no JS numbers): positive = credit to the account / holding, negative = debit.
 * The recon store (src/reconciliation/store.ts) persists these; the matcher reads them back.
 */

/** camt.053.001.08, mt940, semt.002.001.10, csv, ... — the exact message and version seen. */
export type StatementFormat = string;

export type StatementKind = 'cash' | 'holdings';

export interface StatementBalance {
  /** opening (OPBD/PRCD, MT :60F:/:60M:), closing (CLBD, :62F:/:62M:), available (CLAV/FWAV), interim (ITBD/ITAV), ... */
  type: 'opening' | 'closing' | 'interim_opening' | 'interim_closing' | 'available' | 'forward_available' | 'other';
  /** ISO 20022 code or MT tag the type came from (OPBD, PRCD, CLBD, 60F, ...). */
  code: string;
  /** Signed decimal string: negative for a debit balance. */
  amount: string;
  currency: string;
  date: string; // YYYY-MM-DD
}

export interface StatementEntry {
  /** 0-based position in its statement (stable; with the statement id it identifies the line). */
  index: number;
  /** Signed decimal string: positive credit (money in), negative debit. */
  amount: string;
  currency: string;
  bookingDate: string | null;
  valueDate: string | null;
  /** BOOK, PDNG, INFO (camt); MT entries are BOOK. */
  status: string;
  /** Bank's own reference (AcctSvcrRef / MT :61: bank reference). */
  servicerRef: string | null;
  /** Our reference as the bank echoes it (EndToEndId, InstrId, MT :61: customer reference). */
  ourRef: string | null;
  /** Other references seen (TxId, PmtInfId, MsgId, MandateId, ...), for rule-based matching. */
  refs: string[];
  /** Number of transactions this line aggregates (camt batch / NtryDtls TxDtls count); 1 when single. */
  transactionCount: number;
  /** ISO bank transaction code (Domain/Family/SubFamily) or proprietary code, or MT transaction type. */
  bankTxCode: string | null;
  /** The proprietary bank transaction code as well, when the file gives one beside the ISO code (camt BkTxCd/Prtry/Cd). */
  proprietaryBankTxCode?: string | null;
  counterpartyName: string | null;
  remittance: string | null;
  additionalInfo: string | null;
}

export interface HoldingLine {
  index: number;
  /** ISIN when given; otherwise another identifier as `SCHEME:VALUE`. */
  security: string;
  /** Signed decimal string (units or face amount). */
  quantity: string;
  /** FAMT (face amount) or UNIT. */
  quantityType: 'UNIT' | 'FAMT';
  /** Optional valuation, decimal string, with its currency. */
  price: string | null;
  priceCurrency: string | null;
  /** Holding value when given (semt.002 AcctBaseCcyAmts/HldgVal, MT535 :19A::HOLD//), signed decimal string. */
  value?: string | null;
  valueCurrency?: string | null;
}

export interface ParsedStatement {
  kind: StatementKind;
  format: StatementFormat;
  /** Message id of the file (GrpHdr/MsgId, MT :20:). */
  messageId: string;
  /** Statement id (Stmt/Id, Rpt/Id, Ntfctn/Id, MT :20:+:28C:). Unique with account. */
  statementId: string;
  /** Electronic sequence number / MT :28C: statement number, when given. */
  sequence: string | null;
  /** Page number when the statement is paginated (camt StmtPgntn/PgNb, semt.002 Pgntn/PgNb, MT535 :28E:). */
  page?: string | null;
  /** IBAN, or other account id (Othr/Id, MT :25:), or the safekeeping account for holdings. */
  account: string;
  /** Account servicer BIC when given. */
  servicer: string | null;
  /** Statement currency (cash): the single currency of all balances and entries. Null for holdings. */
  currency: string | null;
  createdAt: string | null; // ISO timestamp as in the file
  fromDate: string | null;
  toDate: string | null;
  /** As-of date of a holdings statement; for cash, the closing balance date. */
  statementDate: string | null;
  balances: StatementBalance[];
  entries: StatementEntry[];
  holdings: HoldingLine[];
  /**
   * The statement's own arithmetic: 'ok', or the reason it contradicts itself (names the statement
   * and the balance that is off), or 'not checkable: ...' (e.g. camt.054 has no balances).
   */
  check: string;
  /** True when the statement must be refused (arithmetic off, mixed currencies). */
  refused: boolean;
  /**
   * Set on a statement that follows another one for the same account (and currency) in the same
   * file: 'ok: ...' when its opening balance equals the previous statement's closing balance,
   * 'break: ...' (naming both statements and amounts) when it does not. See `chainStatements`.
   */
  chain?: string;
}

/** Column mapping for CSV statements: which CSV column holds which field. */
export interface CsvMapping {
  account?: string; // column, or a fixed value via `accountValue`
  accountValue?: string;
  currency?: string;
  currencyValue?: string;
  date: string; // booking date column
  valueDate?: string;
  amount?: string; // signed amount column, or credit/debit columns:
  credit?: string;
  debit?: string;
  reference?: string;
  ourRef?: string;
  description?: string;
  /** Optional opening/closing balance values for the arithmetic check. */
  opening?: string;
  closing?: string;
  /** Column with the running balance after each line; every line is then checked against it. */
  balance?: string;
  dateFormat?: 'YYYY-MM-DD' | 'DD/MM/YYYY' | 'MM/DD/YYYY' | 'DD.MM.YYYY';
  decimalSeparator?: '.' | ',';
}
