/**
 * sese.023.001.09 SecuritiesSettlementTransactionInstruction, as a compact structural schema
 * (data), and `validateSese023`, which checks a message against it and against the usage rules
 * that an XSD cannot say.
 *
 * The content models follow the message definition (element names, order, multiplicity, types)
 * for every element down to what an instruction of ours carries; the branches we never write
 * (linkages, registration details...) keep their place in the order as "any".
 *
 * Cash parties (CshPties, CashParties35, written for settlements against payment whose SSIs name a
 * cash correspondent) follow the sese.023.001.09 schema as two independent secondary sources carry
 * it, for want of the ISO XSD in this repository: the JAXB binding generated from it (package
 * iso.std.iso._20022.tech.xsd.sese_023_001: PartyIdentificationAndAccount171 = Id
 * PartyIdentification133Choice, LEI, AltrnId, CshAcct, ChrgsAcct, ComssnAcct, TaxAcct, AddtlInf)
 * and the Rust bindings of Open-Payments/messages (CashParties35 = Dbtr, DbtrAgt, Cdtr, CdtrAgt;
 * PartyIdentification133Choice = BICFI | PrtryId | NmAndAdr; CashAccountIdentification5Choice =
 * IBAN | Prtry Max34Text). PartyIdentificationAndAccount164 is 171 with Id
 * PartyIdentification120Choice (AnyBIC | PrtryId | NmAndAdr), as jPOS's sese.032.001.11 binding has it.
 * Two narrowings to our profile, marked "profile" below: the security is identified by ISIN, and
 * the Business Application Header names both parties by BIC.
 */
import { child, at, parseXml, XmlSyntaxError, type XmlElement } from './xml.js';
import { checkStructure, el, type ComplexType, type Structure } from './xml-structure.js';
import { BIC_RE, CCY_RE, IBAN_RE, ISIN_RE, isValidIban, currencyDigits, fractionDigits, isinCheckDigitOk } from './formats.js';

/** The message definition this module writes. */
export const SESE023_MSG_DEF = 'sese.023.001.09';
/** Its XML namespace. */
export const SESE023_NAMESPACE = 'urn:iso:std:iso:20022:tech:xsd:sese.023.001.09';
/** The Business Application Header we write (head.001.001.02); head.001.001.01 is accepted too. */
export const BAH_NAMESPACE = 'urn:iso:std:iso:20022:tech:xsd:head.001.001.02';
const BAH_NAMESPACES = [BAH_NAMESPACE, 'urn:iso:std:iso:20022:tech:xsd:head.001.001.01'];

const SIMPLE = {
  Max34Text: { kind: 'text', min: 1, max: 34 },
  Max35Text: { kind: 'text', min: 1, max: 35 },
  Max52Text: { kind: 'text', min: 1, max: 52 },
  Max70Text: { kind: 'text', min: 1, max: 70 },
  Max140Text: { kind: 'text', min: 1, max: 140 },
  Max350Text: { kind: 'text', min: 1, max: 350 },
  ISINOct2015Identifier: { kind: 'pattern', re: ISIN_RE, label: 'ISIN (2 letters, 9 letters or digits, 1 check digit)' },
  AnyBICDec2014Identifier: { kind: 'pattern', re: BIC_RE, label: 'BIC (8 or 11 characters: 4 bank, 2 country letters, 2 location, optional 3 branch)' },
  BICFIDec2014Identifier: { kind: 'pattern', re: BIC_RE, label: 'BIC (8 or 11 characters: 4 bank, 2 country letters, 2 location, optional 3 branch)' },
  IBAN2007Identifier: { kind: 'pattern', re: IBAN_RE, label: 'IBAN (2 letters country, 2 check digits, up to 30 letters or digits)' },
  LEIIdentifier: { kind: 'pattern', re: /^[A-Z0-9]{18}[0-9]{2}$/, label: 'LEI (20 characters)' },
  CountryCode: { kind: 'pattern', re: /^[A-Z]{2}$/, label: 'country code (2 letters)' },
  ActiveCurrencyCode: { kind: 'pattern', re: CCY_RE, label: 'currency code (3 letters)' },
  ISODate: { kind: 'date' },
  ISODateTime: { kind: 'datetime' },
  ISONormalisedDateTime: { kind: 'datetime', utc: true },
  DecimalNumber: { kind: 'decimal', fraction: 17, total: 18 },
  ActiveCurrencyAndAmount_SimpleType: { kind: 'decimal', fraction: 5, total: 18, nonNegative: true },
  ImpliedCurrencyAndAmount: { kind: 'decimal', fraction: 5, total: 18, nonNegative: true },
  YesNoIndicator: { kind: 'boolean' },
  ReceiveDelivery1Code: { kind: 'code', values: ['DELI', 'RECE'] },
  DeliveryReceiptType2Code: { kind: 'code', values: ['FREE', 'APMT'] },
  CreditDebitCode: { kind: 'code', values: ['CRDT', 'DBIT'] },
  SettlementTransactionCondition5Code: { kind: 'code', values: ['PART', 'NPAR', 'PARC', 'PARQ'] },
  SecuritiesTransactionType23Code: {
    kind: 'code',
    values: [
      'BSBK', 'COLI', 'COLO', 'MKDW', 'MKUP', 'NETT', 'NSYN', 'PAIR', 'PLAC', 'PORT', 'REAL', 'REDM',
      'REPU', 'RODE', 'RVPO', 'SECB', 'SECL', 'SUBS', 'SYND', 'TBAC', 'TRAD', 'TRPO', 'TRVO', 'TURN',
      'BYIY', 'CNCB', 'OWNE', 'FCTA', 'OWNI', 'RELE', 'SBRE', 'CORP', 'CLAI', 'AUTO', 'SWIF', 'SWIT',
      'CONV', 'ETFT', 'ISSU', 'SLRE', 'INSP', 'SBBK', 'REDI',
    ],
  },
} as const satisfies Structure['simple'];

/**
 * The cash parties of CashParties35, in order: per side (the debtor who pays, the creditor who is
 * paid) the party, then its agent (the bank that holds its cash). One list for the content model
 * and for the usage rules that look at each cash party.
 */
const CASH_PARTIES = ['Dbtr', 'Cdtr'].flatMap((side) => [
  { name: side, type: 'PartyIdentificationAndAccount164' },
  { name: `${side}Agt`, type: 'PartyIdentificationAndAccount171' },
]);

/**
 * A party identified by BIC (`bic`: AnyBIC for any party, BICFI for a financial institution), a
 * proprietary id or name and address: PartyIdentification120Choice and 133Choice.
 */
const partyIdChoice = (bic: 'AnyBIC' | 'BICFI', bicType: keyof typeof SIMPLE): ComplexType => ({
  choice: [el(bic, bicType), el('PrtryId', 'GenericIdentification36'), el('NmAndAdr', 'NameAndAddress5')],
});

/**
 * A cash party (PartyIdentificationAndAccount164 for the debtor and creditor, 171 for their agents):
 * its Id of type `idType`, then the same identifiers and cash accounts for every role.
 */
const cashParty = (idType: string): ComplexType => ({
  seq: [
    el('Id', idType),
    el('LEI', 'LEIIdentifier', '0..1'),
    el('AltrnId', 'any', '0..1'),
    ...['CshAcct', 'ChrgsAcct', 'ComssnAcct', 'TaxAcct'].map((n) => el(n, 'CashAccountIdentification5Choice', '0..1')),
    el('AddtlInf', 'any', '0..1'),
  ],
});

/** sese.023.001.09, element by element (see the module comment for what "any" means). */
export const SESE023_STRUCTURE: Structure = {
  label: 'sese.023',
  namespace: SESE023_NAMESPACE,
  root: el('Document', 'Document'),
  simple: SIMPLE,
  complex: {
    Document: { seq: [el('SctiesSttlmTxInstr', 'SecuritiesSettlementTransactionInstructionV09')] },
    SecuritiesSettlementTransactionInstructionV09: {
      seq: [
        el('TxId', 'Max35Text'),
        el('SttlmTpAndAddtlParams', 'SettlementTypeAndAdditionalParameters19'),
        el('NbCounts', 'any', '0..1'),
        el('Lnkgs', 'any', '0..n'),
        el('TradDtls', 'SecuritiesTradeDetails97'),
        el('FinInstrmId', 'SecurityIdentification19'),
        el('FinInstrmAttrbts', 'any', '0..1'),
        el('QtyAndAcctDtls', 'QuantityAndAccount79'),
        el('SttlmParams', 'SettlementDetails164'),
        el('StgSttlmInstrDtls', 'any', '0..1'),
        el('DlvrgSttlmPties', 'SettlementParties76', '0..1'),
        el('RcvgSttlmPties', 'SettlementParties76', '0..1'),
        el('CshPties', 'CashParties35', '0..1'),
        el('SttlmAmt', 'AmountAndDirection94', '0..1'),
        el('OthrAmts', 'any', '0..1'),
        el('OthrBizPties', 'any', '0..1'),
        el('AddtlPhysOrRegnDtls', 'any', '0..1'),
        el('SplmtryData', 'any', '0..n'),
      ],
    },
    SettlementTypeAndAdditionalParameters19: {
      seq: [
        el('SctiesMvmntTp', 'ReceiveDelivery1Code'),
        el('Pmt', 'DeliveryReceiptType2Code'),
        el('CmonId', 'Max35Text', '0..1'),
        el('CorpActnEvtId', 'Max35Text', '0..1'),
        el('RcncltnInd', 'YesNoIndicator', '0..1'),
        el('ClntCollInstrId', 'Max35Text', '0..1'),
        el('ClntCollTxId', 'Max35Text', '0..1'),
        el('TrptyAgtSvcPrvdrCollTxId', 'Max35Text', '0..1'),
        el('TrptyAgtSvcPrvdrCollInstrId', 'Max35Text', '0..1'),
      ],
    },
    SecuritiesTradeDetails97: {
      seq: [
        el('TradId', 'Max52Text', '0..n'),
        el('CollTxId', 'Max35Text', '0..n'),
        el('PlcOfTrad', 'any', '0..1'),
        el('PlcOfClr', 'any', '0..1'),
        el('TradDt', 'TradeDate8Choice', '0..1'),
        el('SttlmDt', 'SettlementDate17Choice'),
        el('LateDlvryDt', 'any', '0..1'),
        el('DealPric', 'any', '0..1'),
        el('NbOfDaysAcrd', 'any', '0..1'),
        el('OpngClsg', 'any', '0..1'),
        el('Rptg', 'any', '0..n'),
        el('TradTxCond', 'any', '0..n'),
        el('InvstrCpcty', 'any', '0..1'),
        el('TradOrgtrRole', 'any', '0..1'),
        el('TpOfPric', 'any', '0..1'),
        el('CcyToBuyOrSell', 'any', '0..1'),
        el('MtchgSts', 'any', '0..1'),
        el('AffirmSts', 'any', '0..1'),
        el('FxAddtlDtls', 'any', '0..1'),
        el('SttlmInstrPrcgAddtlDtls', 'any', '0..1'),
      ],
    },
    TradeDate8Choice: { choice: [el('Dt', 'DateAndDateTime2Choice'), el('DtCd', 'any')] },
    SettlementDate17Choice: { choice: [el('Dt', 'DateAndDateTime2Choice'), el('DtCd', 'any')] },
    DateAndDateTime2Choice: { choice: [el('Dt', 'ISODate'), el('DtTm', 'ISODateTime')] },
    SecurityIdentification19: {
      // profile: the standard lets ISIN be left out in favour of OthrId; our instructions always carry it.
      seq: [el('ISIN', 'ISINOct2015Identifier'), el('OthrId', 'any', '0..n'), el('Desc', 'Max140Text', '0..1')],
    },
    QuantityAndAccount79: {
      seq: [
        el('SttlmQty', 'Quantity6Choice'),
        el('DnmtnChc', 'any', '0..1'),
        el('AcctOwnr', 'any', '0..1'),
        el('SfkpgAcct', 'SecuritiesAccount19'),
        el('CshAcct', 'any', '0..1'),
        el('SfkpgPlc', 'any', '0..1'),
        el('QtyBrkdwn', 'any', '0..n'),
      ],
    },
    Quantity6Choice: { choice: [el('Qty', 'FinancialInstrumentQuantity33Choice'), el('OrgnlAndCurFace', 'any')] },
    FinancialInstrumentQuantity33Choice: {
      choice: [el('Unit', 'DecimalNumber'), el('FaceAmt', 'ImpliedCurrencyAndAmount'), el('AmtsdVal', 'ImpliedCurrencyAndAmount')],
    },
    SecuritiesAccount19: { seq: [el('Id', 'Max35Text'), el('Tp', 'any', '0..1'), el('Nm', 'Max70Text', '0..1')] },
    SettlementDetails164: {
      seq: [
        el('HldInd', 'any', '0..1'),
        el('Prty', 'any', '0..1'),
        el('SctiesTxTp', 'SecuritiesTransactionType47Choice'),
        el('SttlmTxCond', 'any', '0..n'),
        el('PrtlSttlmInd', 'SettlementTransactionCondition5Code', '0..1'),
        ...[
          'BnfclOwnrsh', 'BlckTrad', 'CCPElgblty', 'DlvryRtrRsn', 'CshClrSys', 'XpsrTp', 'FxStgInstr', 'MktClntSd',
          'NetgElgblty', 'Regn', 'RpTp', 'LglRstrctns', 'SctiesRTGS', 'SttlgCpcty', 'SttlmSysMtd', 'TaxCpcty',
          'StmpDtyTaxBsis', 'Trckg', 'AutomtcBrrwg', 'LttrOfGrnt', 'RtrLeg', 'ModCxlAllwd', 'ElgblForColl',
          'DlvrgSctiesSubBalTp', 'RcvgSctiesSubBalTp', 'CshSubBalTp',
        ].map((n) => el(n, 'any', '0..1')),
      ],
    },
    SecuritiesTransactionType47Choice: { choice: [el('Cd', 'SecuritiesTransactionType23Code'), el('Prtry', 'any')] },
    SettlementParties76: {
      seq: [
        el('Dpstry', 'PartyIdentification146', '0..1'),
        ...['Pty1', 'Pty2', 'Pty3', 'Pty4', 'Pty5'].map((n) => el(n, 'PartyIdentificationAndAccount168', '0..1')),
      ],
    },
    PartyIdentification146: {
      seq: [
        el('Id', 'PartyIdentification122Choice'),
        el('LEI', 'LEIIdentifier', '0..1'),
        el('AltrnId', 'any', '0..1'),
        el('PrcgDt', 'any', '0..1'),
        el('PrcgId', 'Max35Text', '0..1'),
        el('AddtlInf', 'any', '0..1'),
      ],
    },
    PartyIdentification122Choice: {
      choice: [el('AnyBIC', 'AnyBICDec2014Identifier'), el('NmAndAdr', 'NameAndAddress5'), el('Ctry', 'CountryCode')],
    },
    PartyIdentificationAndAccount168: {
      seq: [
        el('Id', 'PartyIdentification120Choice'),
        el('LEI', 'LEIIdentifier', '0..1'),
        el('AltrnId', 'any', '0..1'),
        el('SfkpgAcct', 'SecuritiesAccount19', '0..1'),
        el('PrcgDt', 'any', '0..1'),
        el('PrcgId', 'Max35Text', '0..1'),
        el('AddtlInf', 'any', '0..1'),
      ],
    },
    PartyIdentification120Choice: partyIdChoice('AnyBIC', 'AnyBICDec2014Identifier'),
    GenericIdentification36: { seq: [el('Id', 'Max35Text'), el('Issr', 'Max35Text'), el('SchmeNm', 'Max35Text', '0..1')] },
    NameAndAddress5: { seq: [el('Nm', 'Max350Text'), el('Adr', 'any', '0..1')] },
    CashParties35: { seq: CASH_PARTIES.map((p) => el(p.name, p.type, '0..1')) },
    PartyIdentificationAndAccount164: cashParty('PartyIdentification120Choice'),
    PartyIdentificationAndAccount171: cashParty('PartyIdentification133Choice'),
    PartyIdentification133Choice: partyIdChoice('BICFI', 'BICFIDec2014Identifier'),
    CashAccountIdentification5Choice: { choice: [el('IBAN', 'IBAN2007Identifier'), el('Prtry', 'Max34Text')] },
    AmountAndDirection94: {
      seq: [
        el('AcrdIntrstInd', 'YesNoIndicator', '0..1'),
        el('StmpDtyInd', 'YesNoIndicator', '0..1'),
        el('BrkrgAmtInd', 'YesNoIndicator', '0..1'),
        el('RsrchFeeInd', 'YesNoIndicator', '0..1'),
        el('Amt', 'ActiveCurrencyAndAmount'),
        el('CdtDbtInd', 'CreditDebitCode'),
        el('OrgnlCcyAndOrdrdAmt', 'any', '0..1'),
        el('FXDtls', 'any', '0..1'),
        el('ValDt', 'any', '0..1'),
      ],
    },
    ActiveCurrencyAndAmount: {
      value: 'ActiveCurrencyAndAmount_SimpleType',
      attrs: { Ccy: { type: 'ActiveCurrencyCode', required: true } },
    },
  },
};

/** The Business Application Header (head.001.001.02; .01 has the same paths for what we use). */
export const BAH_STRUCTURE: Structure = {
  label: 'head.001',
  namespace: BAH_NAMESPACES,
  root: el('AppHdr', 'BusinessApplicationHeaderV02'),
  simple: SIMPLE,
  complex: {
    BusinessApplicationHeaderV02: {
      seq: [
        el('CharSet', 'any', '0..1'),
        el('Fr', 'Party44Choice'),
        el('To', 'Party44Choice'),
        el('BizMsgIdr', 'Max35Text'),
        el('MsgDefIdr', 'Max35Text'),
        el('BizSvc', 'Max35Text', '0..1'),
        el('MktPrctc', 'any', '0..1'),
        el('CreDt', 'ISONormalisedDateTime'),
        el('BizPrcgDt', 'any', '0..1'),
        el('CpyDplct', 'any', '0..1'),
        el('PssblDplct', 'any', '0..1'),
        el('Prty', 'any', '0..1'),
        el('Sgntr', 'any', '0..1'),
        el('Rltd', 'any', '0..n'),
      ],
    },
    // profile: parties are financial institutions named by BIC.
    Party44Choice: { choice: [el('FIId', 'BranchAndFinancialInstitutionIdentification6')] },
    BranchAndFinancialInstitutionIdentification6: {
      seq: [el('FinInstnId', 'FinancialInstitutionIdentification18'), el('BrnchId', 'any', '0..1')],
    },
    FinancialInstitutionIdentification18: {
      seq: [
        el('BICFI', 'BICFIDec2014Identifier'),
        el('ClrSysMmbId', 'any', '0..1'),
        el('LEI', 'LEIIdentifier', '0..1'),
        el('Nm', 'any', '0..1'),
        el('PstlAdr', 'any', '0..1'),
        el('Othr', 'any', '0..1'),
      ],
    },
  },
};

/**
 * Rules of the message definition and of settlement market practice that a schema cannot carry.
 * Each returns its problems as messages.
 */
function usageRules(doc: XmlElement): string[] {
  const errors: string[] = [];
  const tx = child(doc, 'SctiesSttlmTxInstr');
  if (!tx) return errors;
  const mvmnt = at(tx, 'SttlmTpAndAddtlParams/SctiesMvmntTp')?.text;
  const pmt = at(tx, 'SttlmTpAndAddtlParams/Pmt')?.text;

  const isin = at(tx, 'FinInstrmId/ISIN')?.text;
  if (isin && ISIN_RE.test(isin) && !isinCheckDigitOk(isin)) {
    errors.push(`sese.023: element SctiesSttlmTxInstr/FinInstrmId/ISIN "${isin}" has a wrong check digit`);
  }

  for (const { name: role } of CASH_PARTIES) {
    const iban = at(tx, `CshPties/${role}/CshAcct/IBAN`)?.text;
    if (iban && IBAN_RE.test(iban) && !isValidIban(iban)) {
      errors.push(`sese.023: element SctiesSttlmTxInstr/CshPties/${role}/CshAcct/IBAN "${iban}" has wrong check digits (ISO 13616 mod 97)`);
    }
  }
  // Profile: cash parties say where the settlement amount is paid; a free-of-payment settlement has none.
  if (pmt === 'FREE' && child(tx, 'CshPties')) {
    errors.push('sese.023: element SctiesSttlmTxInstr/CshPties must not be present: a free-of-payment settlement (Pmt FREE) moves no cash');
  }

  const amt = at(tx, 'SttlmAmt/Amt');
  if (pmt === 'APMT' && !amt) {
    errors.push('sese.023: element SctiesSttlmTxInstr/SttlmAmt is missing: a settlement against payment (Pmt APMT) must carry the settlement amount');
  }
  if (pmt === 'FREE' && amt) {
    errors.push('sese.023: element SctiesSttlmTxInstr/SttlmAmt must not be present: a free-of-payment settlement (Pmt FREE) moves no cash');
  }
  if (amt) {
    const ccy = amt.attrs.Ccy ?? '';
    const digits = currencyDigits(ccy);
    if (CCY_RE.test(ccy) && digits === undefined) {
      errors.push(`sese.023: element SctiesSttlmTxInstr/SttlmAmt/Amt/@Ccy "${ccy}" is not an ISO 4217 currency that settles`);
    } else if (digits !== undefined && /^\d+(\.\d+)?$/.test(amt.text) && fractionDigits(amt.text) > digits) {
      errors.push(`sese.023: element SctiesSttlmTxInstr/SttlmAmt/Amt "${amt.text}" has more decimals than ${ccy} has (${digits})`);
    }
    const cdtDbt = at(tx, 'SttlmAmt/CdtDbtInd')?.text;
    const expected = mvmnt === 'RECE' ? 'DBIT' : mvmnt === 'DELI' ? 'CRDT' : undefined;
    if (expected && cdtDbt && cdtDbt !== expected) {
      errors.push(`sese.023: element SctiesSttlmTxInstr/SttlmAmt/CdtDbtInd "${cdtDbt}" contradicts SctiesMvmntTp ${mvmnt}: the cash of a ${mvmnt === 'RECE' ? 'receipt is paid (DBIT)' : 'delivery is received (CRDT)'}`);
    }
  }

  // Market practice: the counterparty's side of the chain names the place of settlement.
  const side = mvmnt === 'RECE' ? 'DlvrgSttlmPties' : mvmnt === 'DELI' ? 'RcvgSttlmPties' : undefined;
  if (side && !at(tx, `${side}/Dpstry`)) {
    errors.push(`sese.023: element SctiesSttlmTxInstr/${side}/Dpstry is missing: the counterparty's side must name the place of settlement (SMPG market practice)`);
  }

  const trad = at(tx, 'TradDtls/TradDt/Dt/Dt')?.text;
  const sttl = at(tx, 'TradDtls/SttlmDt/Dt/Dt')?.text;
  if (trad && sttl && /^\d{4}-\d{2}-\d{2}$/.test(trad) && /^\d{4}-\d{2}-\d{2}$/.test(sttl) && sttl < trad) {
    errors.push(`sese.023: element SctiesSttlmTxInstr/TradDtls/SttlmDt "${sttl}" is before the trade date ${trad}`);
  }
  return errors;
}

/**
 * Check a sese.023.001.09 message: either a bare Document, or a wrapper element (such as
 * RequestPayload) holding an AppHdr (head.001.001.02 or .01) and then the Document.
 *
 * What it checks: well-formed XML without DOCTYPE; the namespaces; every element's presence, order,
 * multiplicity and choice per {@link SESE023_STRUCTURE} and {@link BAH_STRUCTURE}; values: text
 * lengths, code lists (RECE/DELI, FREE/APMT, CRDT/DBIT, transaction types), ISIN, BIC, LEI,
 * currency and country patterns, dates and date-times, decimals (amounts at most 5 decimals and
 * 18 digits, not negative; quantities at most 17 decimals); the Ccy attribute. Then the usage
 * rules: ISIN check digit, ISO 4217 currency and its decimals, settlement amount present exactly
 * for APMT, CdtDbtInd consistent with the movement, place of settlement on the counterparty's side,
 * settlement date not before the trade date, the header's MsgDefIdr. The usage rules run once the
 * structure passes (a network validates syntax before semantics).
 *
 * @returns the problems found, each naming the element path and the rule; empty when valid.
 */
export function validateSese023(xml: string): string[] {
  let root: XmlElement;
  try {
    root = parseXml(xml);
  } catch (e) {
    if (e instanceof XmlSyntaxError) return [`sese.023: ${e.message}`];
    throw e;
  }
  const errors: string[] = [];
  let doc: XmlElement;
  if (root.name === 'Document') {
    doc = root;
  } else {
    const names = root.children.map((c) => c.name);
    if (names.length !== 2 || names[0] !== 'AppHdr' || names[1] !== 'Document') {
      return [`sese.023: a ${root.name} envelope must hold AppHdr then Document; it holds ${names.join(', ') || 'nothing'}`];
    }
    const hdr = root.children[0]!;
    errors.push(...checkStructure(BAH_STRUCTURE, hdr));
    const def = child(hdr, 'MsgDefIdr')?.text;
    if (def !== undefined && def !== SESE023_MSG_DEF) {
      errors.push(`head.001: element MsgDefIdr "${def}" must be ${SESE023_MSG_DEF}`);
    }
    doc = root.children[1]!;
  }
  errors.push(...checkStructure(SESE023_STRUCTURE, doc));
  // Usage rules read values the structure vouches for: they run once it passes, as a network
  // validates syntax before semantics.
  if (!errors.length) errors.push(...usageRules(doc));
  return errors;
}
