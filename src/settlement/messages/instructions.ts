/**
 * Settlement instructions out: one instruction per obligation, as ISO 20022 sese.023.001.09 or as
 * SWIFT MT540-543. Pure functions. Every message is checked by this module's own validator before
 * it is returned, so what leaves here is well-formed by construction or not at all.
 *
 * Market practice followed (SMPG): the counterparty's side of the settlement chain carries the
 * place of settlement (Dpstry / PSET) and the counterparty's agent (Pty1 / DEAG or REAG); our own
 * side carries the place of settlement and our BIC. The counterparty is named by its DTC
 * participant number when it has one (the identifier DTC settles on), else by BIC, else by name.
 * When its standing settlement instruction names an agent (`agent`), the agent is Pty1 / DEAG or
 * REAG with its safekeeping account (SfkpgAcct / 97A::SAFE), and the counterparty itself the
 * seller or buyer behind it (Pty2 / SELL or BUYR).
 */
import { Dec, DomainError, parseDate, type ErrorDetail } from '../../kernel/index.js';
import { MessageCodes, messageError, throwAll } from './errors.js';
import {
  BIC_RE,
  DECIMAL_RE,
  FIN_BIC_RE,
  FIN_X_RE,
  currencyDigits,
  finReferenceOk,
  fixedDecimal,
  fractionDigits,
  canonicalDecimal,
  isValidIban,
  isValidIsin,
  toFinDate,
  toFinDecimal,
  toFinText,
  totalDigits,
} from './formats.js';
import { BAH_NAMESPACE, SESE023_MSG_DEF, SESE023_NAMESPACE, validateSese023 } from './sese023-structure.js';
import { validateMt54x } from './mt54x-validate.js';
import { buildXml, type XmlNode } from './xml.js';
import { finMessage } from './swift-mt.js';

/** One settlement obligation to instruct: what moves, between whom, where and when. */
export interface Obligation {
  /** Our id for it; becomes the sese.023 TxId (at most 35 characters). */
  id: string;
  direction: 'receive' | 'deliver';
  /** Against payment (DVP/RVP) or free of payment (FOP). */
  payment: 'against' | 'free';
  isin: string;
  /** Units of the security, a decimal string ("100", "0.5"). */
  quantity: string;
  /** The cash against it, a decimal string; required for 'against', absent for 'free'. */
  amount?: string;
  /** ISO 4217; required for 'against', absent for 'free'. */
  currency?: string;
  tradeDate: string;
  settleDate: string;
  /** Our safekeeping account at the CSD. */
  account: string;
  counterparty: { bic?: string; dtcParticipant?: string; name: string };
  /**
   * The counterparty's settlement agent from its SSI (custodian or the counterparty itself, by BIC
   * or DTC participant number) and its safekeeping account there. Absent: the counterparty is
   * named as its own agent, without an account.
   */
  agent?: { bic?: string; dtcParticipant?: string; account?: string };
  /** Place of settlement, e.g. DTCYUS33. */
  place: { bic: string };
  ourBic: string;
  /**
   * Cash correspondents from the SSIs, for a settlement against payment only: our side's (the
   * firm's SSI) and the counterparty's, each the bank that holds the cash account (BIC) and the
   * party's account there. They become the cash parties (see {@link toSese023}, {@link toMt54x}).
   */
  cash?: { ours?: CashCorrespondent; theirs?: CashCorrespondent };
}

/** A cash correspondent: the bank holding a party's cash account (BIC), and the account (IBAN or the bank's own number). */
export interface CashCorrespondent { bic: string; account?: string }

/** The same type under a name that does not clash with netting's `Obligation` when re-exported together. */
export type InstructionObligation = Obligation;

/** Which MT a movement and payment make: 540 receive free, 541 receive against payment, 542 deliver free, 543 deliver against payment. */
export type Mt54xType = '540' | '541' | '542' | '543';

/** The MT for an obligation (see {@link Mt54xType}). */
export const mtTypeOf = (o: Pick<Obligation, 'direction' | 'payment'>): Mt54xType =>
  o.direction === 'receive' ? (o.payment === 'free' ? '540' : '541') : o.payment === 'free' ? '542' : '543';

/** The market's name for it: RVP, DVP, or RFP / DFP (free). */
export const settlementTypeOf = (o: Pick<Obligation, 'direction' | 'payment'>): 'RVP' | 'DVP' | 'RFP' | 'DFP' =>
  o.direction === 'receive' ? (o.payment === 'free' ? 'RFP' : 'RVP') : o.payment === 'free' ? 'DFP' : 'DVP';

type Format = 'sese023' | 'mt54x';

/**
 * Every rule an obligation breaks for `format`, as details naming the obligation (record), the
 * field and the rule. Empty when it can be instructed.
 */
export function checkObligation(o: Obligation, format: Format): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  const record = typeof o?.id === 'string' && o.id ? o.id : '(no id)';
  const bad = (field: string, rule: string, message: string) => out.push({ record, field, rule, message: `obligation ${record}: ${field} ${message}` });
  const str = (v: unknown): v is string => typeof v === 'string';
  const mt = format === 'mt54x';

  if (!str(o.id) || o.id.length < 1 || o.id.length > 35) bad('id', 'MAX35TEXT', 'must be 1 to 35 characters (it becomes the sese.023 TxId)');
  if (o.direction !== 'receive' && o.direction !== 'deliver') bad('direction', 'CODE', `"${String(o.direction)}" must be receive or deliver`);
  if (o.payment !== 'against' && o.payment !== 'free') bad('payment', 'CODE', `"${String(o.payment)}" must be against or free`);
  if (!str(o.isin) || !isValidIsin(o.isin)) bad('isin', 'ISIN', `"${String(o.isin)}" is not an ISIN (12 characters with a right check digit)`);

  if (!str(o.quantity) || !DECIMAL_RE.test(o.quantity)) {
    bad('quantity', 'DECIMAL', `"${String(o.quantity)}" is not a decimal string such as "100" or "0.5"`);
  } else if (!new Dec(o.quantity).gt(0)) {
    bad('quantity', 'POSITIVE', 'must be more than zero');
  } else if (mt ? toFinDecimal(o.quantity).length > 15 : fractionDigits(o.quantity) > 17 || totalDigits(o.quantity) > 18) {
    bad('quantity', 'DIGITS', mt ? `"${o.quantity}" does not fit the 15 characters (comma included) of MT field 36B` : `"${o.quantity}" has more than 18 digits or 17 decimals`);
  }

  if (o.payment === 'against') {
    const digits = str(o.currency) ? currencyDigits(o.currency) : undefined;
    if (digits === undefined) bad('currency', 'ISO4217', `"${String(o.currency ?? '')}" is not an ISO 4217 currency; a settlement against payment needs one`);
    if (!str(o.amount) || !DECIMAL_RE.test(o.amount)) {
      bad('amount', 'DECIMAL', `"${String(o.amount ?? '')}" is not a decimal string; a settlement against payment needs the amount`);
    } else if (!new Dec(o.amount).gt(0)) {
      bad('amount', 'POSITIVE', 'must be more than zero');
    } else {
      if (digits !== undefined && fractionDigits(o.amount) > digits) bad('amount', 'CURRENCY_DECIMALS', `"${o.amount}" has more decimals than ${o.currency} has (${digits})`);
      if (mt ? toFinDecimal(o.amount).length > 15 : totalDigits(o.amount) > 18) {
        bad('amount', 'DIGITS', mt ? `"${o.amount}" does not fit the 15 characters (comma included) of MT field 19A` : `"${o.amount}" has more than 18 digits`);
      }
    }
  } else if (o.payment === 'free' && (o.amount !== undefined || o.currency !== undefined)) {
    bad('amount', 'FREE_OF_PAYMENT', 'must be absent (and currency too): a free-of-payment settlement moves no cash');
  }

  let dates = true;
  for (const f of ['tradeDate', 'settleDate'] as const) {
    try {
      parseDate(o[f], f);
    } catch (e) {
      dates = false;
      bad(f, 'DATE', `"${String(o[f])}" is not a calendar day in the form YYYY-MM-DD`);
    }
  }
  if (dates && o.settleDate < o.tradeDate) bad('settleDate', 'AFTER_TRADE_DATE', `${o.settleDate} is before the trade date ${o.tradeDate}`);

  if (!str(o.account) || o.account.length < 1 || o.account.length > 35 || (mt && !FIN_X_RE.test(o.account))) {
    bad('account', 'ACCOUNT', `"${String(o.account)}" must be 1 to 35 characters${mt ? " of the SWIFT x set (letters, digits, / - ? : ( ) . , ' + space)" : ''}`);
  }

  const bicRe = mt ? FIN_BIC_RE : BIC_RE;
  const cp = o.counterparty ?? ({} as Obligation['counterparty']);
  if (cp.bic !== undefined && !bicRe.test(cp.bic)) bad('counterparty.bic', 'BIC', `"${cp.bic}" is not a BIC (8 or 11 characters)`);
  if (cp.dtcParticipant !== undefined && !/^\d{1,8}$/.test(cp.dtcParticipant)) bad('counterparty.dtcParticipant', 'DTC_PARTICIPANT', `"${cp.dtcParticipant}" is not a DTC participant number (1 to 8 digits)`);
  if (!str(cp.name) || !cp.name.trim() || cp.name.length > 350) bad('counterparty.name', 'NAME', 'must be 1 to 350 characters');
  if (mt && cp.bic === undefined && cp.dtcParticipant === undefined && str(cp.name) && !toFinText(cp.name)) {
    bad('counterparty.name', 'NAME', 'has no character SWIFT can carry, and there is no BIC or DTC number to name the counterparty by');
  }
  if (o.agent !== undefined) {
    const a = o.agent;
    if (a.bic === undefined && a.dtcParticipant === undefined) bad('agent', 'AGENT', 'must name the agent by BIC or DTC participant number');
    if (a.bic !== undefined && !bicRe.test(a.bic)) bad('agent.bic', 'BIC', `"${a.bic}" is not a BIC (8 or 11 characters)`);
    if (a.dtcParticipant !== undefined && !/^\d{1,8}$/.test(a.dtcParticipant)) bad('agent.dtcParticipant', 'DTC_PARTICIPANT', `"${a.dtcParticipant}" is not a DTC participant number (1 to 8 digits)`);
    if (a.account !== undefined && (!a.account || a.account.length > 35 || (mt && !FIN_X_RE.test(a.account)))) {
      bad('agent.account', 'ACCOUNT', `"${a.account}" must be 1 to 35 characters${mt ? ' of the SWIFT x set' : ''}`);
    }
  }
  if (o.cash !== undefined) {
    if (o.payment === 'free' && (o.cash.ours || o.cash.theirs)) bad('cash', 'FREE_OF_PAYMENT', 'must be absent: a free-of-payment settlement has no cash parties');
    for (const side of ['ours', 'theirs'] as const) {
      const k = o.cash[side];
      if (!k) continue;
      if (!str(k.bic) || !bicRe.test(k.bic)) bad(`cash.${side}.bic`, 'BIC', `"${String(k.bic)}" is not a BIC (8 or 11 characters)`);
      if (k.account !== undefined) {
        const iban = str(k.account) && isValidIban(k.account);
        // sese.023 carries a cash account as IBAN or as Prtry (Max34Text); MT 97A takes 35x.
        const max = mt || iban ? 35 : 34;
        if (!str(k.account) || !k.account || k.account.length > max || (mt && !FIN_X_RE.test(k.account))) {
          bad(`cash.${side}.account`, 'ACCOUNT', `"${String(k.account)}" must be 1 to ${max} characters${mt ? ' of the SWIFT x set' : ''} (or an IBAN)`);
        }
      }
    }
  }
  if (!str(o.place?.bic) || !bicRe.test(o.place.bic)) bad('place.bic', 'BIC', `"${String(o.place?.bic)}" is not a BIC (8 or 11 characters)`);
  if (!str(o.ourBic) || !bicRe.test(o.ourBic)) bad('ourBic', 'BIC', `"${String(o.ourBic)}" is not a BIC (8 or 11 characters)`);
  return out;
}

// ---- sese.023 --------------------------------------------------------------------------------

/** What a sese.023 needs beyond the obligation: its header's message id and creation time. */
export interface Sese023Options {
  /** BizMsgIdr of the Business Application Header, 1 to 35 characters, unique per message sent. */
  messageId: string;
  /** CreDt of the header (from the clock). */
  createdAt: Date;
}

const bicParty = (bic: string): XmlNode => ({ Id: { AnyBIC: bic } });

function counterpartyParty(cp: Obligation['counterparty']): XmlNode {
  if (cp.dtcParticipant !== undefined) return { Id: { PrtryId: { Id: cp.dtcParticipant, Issr: 'DTCYID' } } };
  if (cp.bic !== undefined) return bicParty(cp.bic);
  return { Id: { NmAndAdr: { Nm: cp.name.trim() } } };
}

/** The counterparty's agent (Pty1) with its safekeeping account, in the schema's order (Id, then SfkpgAcct). */
function agentParty(a: NonNullable<Obligation['agent']>): XmlNode {
  const id = a.dtcParticipant !== undefined ? { PrtryId: { Id: a.dtcParticipant, Issr: 'DTCYID' } } : { AnyBIC: a.bic! };
  return a.account !== undefined ? { Id: id, SfkpgAcct: { Id: a.account } } : { Id: id };
}

const cashAccount = (account: string): XmlNode => (isValidIban(account) ? { IBAN: account } : { Prtry: account });

/**
 * CshPties of a settlement against payment (ISO 20022 CashParties35): who pays and who is paid,
 * with the banks holding their cash. The payer is the debtor (Dbtr, with its cash account) and its
 * bank the debtor agent (DbtrAgt); the payee the creditor (Cdtr) and its bank the creditor agent
 * (CdtrAgt). We pay on a receipt (RVP) and are paid on a delivery (DVP); the counterparty the
 * other way. Sides without a cash correspondent are left out; undefined when neither has one.
 */
function cashParties(o: Obligation): XmlNode | undefined {
  if (o.payment !== 'against' || !o.cash) return undefined;
  const receive = o.direction === 'receive';
  const us = { side: o.cash.ours, id: bicParty(o.ourBic) };
  const them = { side: o.cash.theirs, id: counterpartyParty(o.counterparty) };
  const [payer, payee] = receive ? [us, them] : [them, us];
  const party = (p: typeof us): XmlNode | undefined =>
    p.side?.account !== undefined ? { ...(p.id as Record<string, XmlNode>), CshAcct: cashAccount(p.side.account) } : undefined;
  const agent = (p: typeof us): XmlNode | undefined => (p.side ? { Id: { BICFI: p.side.bic } } : undefined);
  const node = { Dbtr: party(payer), DbtrAgt: agent(payer), Cdtr: party(payee), CdtrAgt: agent(payee) };
  return Object.values(node).some((v) => v !== undefined) ? node : undefined;
}

const isoDateTime = (d: Date): string => d.toISOString().replace('.000Z', 'Z');

/**
 * The sese.023.001.09 instruction for one obligation, headed by a Business Application Header
 * (head.001.001.02: from ourBic to the place of settlement, BizMsgIdr = messageId, CreDt =
 * createdAt) and wrapped with it in a RequestPayload element, the way SWIFTNet and most gateways
 * carry an MX message; the Document element alone is the instruction proper.
 *
 * DVP (deliver against payment) and RVP (receive against payment) carry SttlmAmt, CRDT for a
 * delivery (we receive the cash) and DBIT for a receipt (we pay it); FOP carries no amount. When
 * the SSIs name cash correspondents (`cash`), a DVP or RVP carries them as CshPties (see
 * cashParties): the payer as debtor with its cash account and its bank as debtor agent, the payee
 * as creditor and creditor agent.
 *
 * @throws DomainError SETTLEMENT_INSTRUCTION_INVALID naming each field the obligation breaks;
 *   SETTLEMENT_MESSAGE_SELF_CHECK if what was written fails {@link validateSese023} (a bug here).
 */
export function toSese023(o: Obligation, opts: Sese023Options): string {
  const details = checkObligation(o, 'sese023');
  if (typeof opts?.messageId !== 'string' || opts.messageId.length < 1 || opts.messageId.length > 35) {
    details.push({ record: o?.id, field: 'messageId', rule: 'MAX35TEXT', message: `obligation ${o?.id}: messageId must be 1 to 35 characters` });
  }
  if (!(opts?.createdAt instanceof Date) || Number.isNaN(opts.createdAt.getTime())) {
    details.push({ record: o?.id, field: 'createdAt', rule: 'DATE_TIME', message: `obligation ${o?.id}: createdAt must be a valid Date` });
  }
  if (details.length) throwAll(MessageCodes.INSTRUCTION_INVALID, details, `obligation ${o?.id}`);

  const receive = o.direction === 'receive';
  const against = o.payment === 'against';
  const place = { Id: { AnyBIC: o.place.bic } };
  const theirs = o.agent
    ? { Dpstry: place, Pty1: agentParty(o.agent), Pty2: counterpartyParty(o.counterparty) }
    : { Dpstry: place, Pty1: counterpartyParty(o.counterparty) };
  const ours = { Dpstry: place, Pty1: bicParty(o.ourBic) };
  const fi = (bic: string) => ({ FIId: { FinInstnId: { BICFI: bic } } });

  const xml = buildXml({
    RequestPayload: {
      AppHdr: {
        '@_xmlns': BAH_NAMESPACE,
        Fr: fi(o.ourBic),
        To: fi(o.place.bic),
        BizMsgIdr: opts.messageId,
        MsgDefIdr: SESE023_MSG_DEF,
        CreDt: isoDateTime(opts.createdAt),
      },
      Document: {
        '@_xmlns': SESE023_NAMESPACE,
        SctiesSttlmTxInstr: {
          TxId: o.id,
          SttlmTpAndAddtlParams: { SctiesMvmntTp: receive ? 'RECE' : 'DELI', Pmt: against ? 'APMT' : 'FREE' },
          TradDtls: { TradDt: { Dt: { Dt: o.tradeDate } }, SttlmDt: { Dt: { Dt: o.settleDate } } },
          FinInstrmId: { ISIN: o.isin },
          QtyAndAcctDtls: { SttlmQty: { Qty: { Unit: canonicalDecimal(o.quantity) } }, SfkpgAcct: { Id: o.account } },
          SttlmParams: { SctiesTxTp: { Cd: 'TRAD' } },
          DlvrgSttlmPties: receive ? theirs : ours,
          RcvgSttlmPties: receive ? ours : theirs,
          CshPties: cashParties(o),
          SttlmAmt: against
            ? {
                Amt: { '@_Ccy': o.currency!, '#text': fixedDecimal(o.amount!, currencyDigits(o.currency!)!) },
                CdtDbtInd: receive ? 'DBIT' : 'CRDT',
              }
            : undefined,
        },
      },
    },
  });
  const problems = validateSese023(xml);
  if (problems.length) {
    throw messageError(MessageCodes.MESSAGE_SELF_CHECK, `sese.023 written for obligation ${o.id} fails validation: ${problems[0]}`, problems.map((p) => ({ record: o.id, message: p })));
  }
  return xml;
}

/** One file of a batch: the obligation it instructs and the message. */
export interface Sese023File {
  obligationId: string;
  messageId: string;
  /** A safe file name: the message id with anything but letters, digits, '.', '_', '-' replaced, + ".xml". */
  fileName: string;
  xml: string;
}

/** A batch: the files written, and the obligations that could not be instructed, with their reasons. */
export interface Sese023Batch {
  files: Sese023File[];
  quarantined: { obligationId: string; reasons: ErrorDetail[] }[];
}

/**
 * One sese.023 file per obligation (ISO 20022 sends one instruction per message). The good ones
 * are written and the bad ones quarantined with their reasons: one bad obligation does not hold
 * back the day's other instructions. The message id is the obligation id unless `messageId` says
 * otherwise; all messages share `createdAt`.
 * @throws DomainError SETTLEMENT_INSTRUCTION_INVALID when two files would share a message id
 *   (nothing is written then).
 */
export function toSese023Batch(
  obligations: readonly Obligation[],
  opts: { createdAt: Date; messageId?: (o: Obligation, index: number) => string },
): Sese023Batch {
  const files: Sese023File[] = [];
  const quarantined: Sese023Batch['quarantined'] = [];
  const seen = new Map<string, string>();
  const clashes: ErrorDetail[] = [];
  obligations.forEach((o, i) => {
    const messageId = opts.messageId ? opts.messageId(o, i) : o.id;
    try {
      const xml = toSese023(o, { messageId, createdAt: opts.createdAt });
      const before = seen.get(messageId);
      if (before !== undefined) {
        clashes.push({ record: o.id, field: 'messageId', rule: 'UNIQUE', message: `obligation ${o.id}: message id "${messageId}" is already used by obligation ${before}` });
      }
      seen.set(messageId, o.id);
      files.push({ obligationId: o.id, messageId, fileName: `${messageId.replace(/[^A-Za-z0-9._-]/g, '_')}.xml`, xml });
    } catch (e) {
      if (e instanceof DomainError && e.code === MessageCodes.INSTRUCTION_INVALID) {
        quarantined.push({ obligationId: typeof o?.id === 'string' ? o.id : `#${i}`, reasons: e.details });
      } else {
        throw e;
      }
    }
  });
  if (clashes.length) throwAll(MessageCodes.INSTRUCTION_INVALID, clashes, 'the batch');
  return { files, quarantined };
}

// ---- MT540-543 -------------------------------------------------------------------------------

/** What an MT54x needs beyond the obligation. */
export interface Mt54xOptions {
  /** :20C::SEME//, our message reference: 1 to 16 SWIFT x characters, no leading, trailing or double '/'. */
  reference: string;
  /** Block 1: the BIC we send from. */
  senderBic: string;
  /** Block 2: whom we send to; the place of settlement when not given. */
  receiverBic?: string;
}

function finParty(qualifier: string, cp: Obligation['counterparty']): string[] {
  if (cp.dtcParticipant !== undefined) return [`:95R::${qualifier}/DTCYID/${cp.dtcParticipant}`];
  if (cp.bic !== undefined) return [`:95P::${qualifier}//${cp.bic}`];
  // 95Q: 4*35x after the qualifier; a longer name is cut, it only describes the party.
  const [first = '', ...rest] = toFinText(cp.name).slice(0, 4 * 35).match(/.{1,35}/g) ?? [];
  return [`:95Q::${qualifier}//${first}`, ...rest];
}

/**
 * Sequence E3 (CSHPRTY) of an MT541/543 (see mt54x-validate.ts for the layout): the payer as DEBT
 * with its cash account (97A::CASH, or 97E::CASH for an IBAN) and its bank as PAYE; the payee as
 * BENM with its cash account and its bank as ACCW. The account goes in the party's own
 * subsequence: by the standard's usage rule the account of a CSHPRTY belongs to the party named
 * in it (the BENM's account is serviced by the ACCW). These are the same four roles as sese.023's
 * Dbtr, DbtrAgt, Cdtr and CdtrAgt.
 */
function finCashParties(o: Obligation): string[] {
  if (o.payment !== 'against' || !o.cash) return [];
  const receive = o.direction === 'receive';
  const us = { side: o.cash.ours, cp: { bic: o.ourBic, name: o.ourBic } };
  const them = { side: o.cash.theirs, cp: o.counterparty };
  const [payer, payee] = receive ? [us, them] : [them, us];
  const block = (lines: string[]) => [':16R:CSHPRTY', ...lines, ':16S:CSHPRTY'];
  const account = (a: string) => (isValidIban(a) ? `:97E::CASH//${a}` : `:97A::CASH//${a}`);
  const out: string[] = [];
  for (const [p, party, bank] of [[payer, 'DEBT', 'PAYE'], [payee, 'BENM', 'ACCW']] as const) {
    if (!p.side) continue;
    if (p.side.account !== undefined) out.push(...block([...finParty(party, p.cp), account(p.side.account)]));
    out.push(...block([`:95P::${bank}//${p.side.bic}`]));
  }
  return out;
}

/**
 * The MT540 (receive free), MT541 (receive against payment), MT542 (deliver free) or MT543
 * (deliver against payment) for one obligation: blocks 1, 2 and 4, CrLf line ends. Sequence A
 * GENL (SEME, NEWM), B TRADDET (SETT and TRAD dates, ISIN), C FIAC (UNIT quantity, SAFE account),
 * E SETDET (SETR TRAD; SETPRTY for the counterparty's agent (with its SAFE account, and then the
 * counterparty as SELL or BUYR, when the SSI names an agent), ours and PSET; CSHPRTY for 541/543
 * when the SSIs name cash correspondents (see finCashParties); AMT with the SETT amount for 541/543).
 * Quantities and amounts use the FIN comma ("100,", "1234,5").
 *
 * @throws DomainError SETTLEMENT_INSTRUCTION_INVALID naming each field that breaks a rule;
 *   SETTLEMENT_MESSAGE_SELF_CHECK if the text fails {@link validateMt54x} (a bug here).
 */
export function toMt54x(o: Obligation, opts: Mt54xOptions): string {
  const details = checkObligation(o, 'mt54x');
  const record = o?.id;
  if (typeof opts?.reference !== 'string' || !finReferenceOk(opts.reference, 16)) {
    details.push({ record, field: 'reference', rule: 'FIN_REFERENCE', message: `obligation ${record}: reference "${String(opts?.reference)}" must be 1 to 16 SWIFT x characters, not starting or ending with '/' nor holding '//'` });
  }
  if (typeof opts?.senderBic !== 'string' || !FIN_BIC_RE.test(opts.senderBic)) {
    details.push({ record, field: 'senderBic', rule: 'BIC', message: `obligation ${record}: senderBic "${String(opts?.senderBic)}" is not a BIC` });
  }
  if (opts?.receiverBic !== undefined && !FIN_BIC_RE.test(opts.receiverBic)) {
    details.push({ record, field: 'receiverBic', rule: 'BIC', message: `obligation ${record}: receiverBic "${opts.receiverBic}" is not a BIC` });
  }
  if (details.length) throwAll(MessageCodes.INSTRUCTION_INVALID, details, `obligation ${record}`);

  const type = mtTypeOf(o);
  const receive = o.direction === 'receive';
  const theirAgent = receive ? 'DEAG' : 'REAG';
  const ourAgent = receive ? 'REAG' : 'DEAG';
  const lines = [
    ':16R:GENL',
    `:20C::SEME//${opts.reference}`,
    ':23G:NEWM',
    ':16S:GENL',
    ':16R:TRADDET',
    `:98A::SETT//${toFinDate(o.settleDate)}`,
    `:98A::TRAD//${toFinDate(o.tradeDate)}`,
    `:35B:ISIN ${o.isin}`,
    ':16S:TRADDET',
    ':16R:FIAC',
    `:36B::SETT//UNIT/${toFinDecimal(o.quantity)}`,
    `:97A::SAFE//${o.account}`,
    ':16S:FIAC',
    ':16R:SETDET',
    ':22F::SETR//TRAD',
    ':16R:SETPRTY',
    ...(o.agent
      ? [...finParty(theirAgent, { ...o.agent, name: o.counterparty.name }), ...(o.agent.account !== undefined ? [`:97A::SAFE//${o.agent.account}`] : [])]
      : finParty(theirAgent, o.counterparty)),
    ':16S:SETPRTY',
    ...(o.agent ? [':16R:SETPRTY', ...finParty(receive ? 'SELL' : 'BUYR', o.counterparty), ':16S:SETPRTY'] : []),
    ':16R:SETPRTY',
    `:95P::${ourAgent}//${o.ourBic}`,
    ':16S:SETPRTY',
    ':16R:SETPRTY',
    `:95P::PSET//${o.place.bic}`,
    ':16S:SETPRTY',
    ...finCashParties(o),
    ...(o.payment === 'against' ? [':16R:AMT', `:19A::SETT//${o.currency}${toFinDecimal(o.amount!)}`, ':16S:AMT'] : []),
    ':16S:SETDET',
  ];
  const text = finMessage(type, opts.senderBic, opts.receiverBic ?? o.place.bic, lines);
  const problems = validateMt54x(text);
  if (problems.length) {
    throw messageError(MessageCodes.MESSAGE_SELF_CHECK, `MT${type} written for obligation ${o.id} fails validation: ${problems[0]}`, problems.map((p) => ({ record: o.id, message: p })));
  }
  return text;
}
