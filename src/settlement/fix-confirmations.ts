/**
 * Confirmations from the street as FIX 4.4: Confirmation (35=AK) and AllocationReport (35=AS),
 * one message per line (SOH or '|' delimited; BodyLength and CheckSum checked), mapped to the
 * same records the CSV gives (see confirmations.ts), so the one importer and matcher take both.
 *
 * Confirmation (AK):
 *   ConfirmID (664)            conf_id; a Replace (ConfirmTransType 666=1) updates the confirmation it
 *                              replaces, ConfirmRefID (772), which it must name
 *   ConfirmTransType (666)     0 new, 1 replace; 2 cancel is refused (an import only adds and updates)
 *   ConfirmType (773)          2 confirmation; 1 status and 3 request rejected carry no trade to confirm: skipped
 *   ConfirmStatus (665)        1 received, 2 mismatched account, 3 missing settlement instructions,
 *                              4 confirmed: imported; 5 request rejected: skipped
 *   TradeDate (75), Side (54), Symbol (55) or SecurityID (48) when Symbol is "[N/A]",
 *   AllocQty (80) quantity, AvgPx (6) price, SettlDate (64) settle_date;
 *   TransactTime (60), AllocAccount (79), GrossTradeAmt (381), NetMoney (118) required by the standard.
 * AllocationReport (AS):
 *   AllocReportID (755) conf_id; AllocTransType (71) as ConfirmTransType (Replace: AllocReportRefID 795);
 *   AllocReportType (794) 3 or 4 (sell-side calculated): imported; 5 warehouse recap, 8 request to
 *   intermediary: skipped; AllocStatus (87) 0 accepted, 3 received: imported; 1, 2, 5 rejects and
 *   4 incomplete: skipped; AllocNoOrdersType (857) required; Side, Symbol/SecurityID, Quantity (53),
 *   AvgPx (6), TradeDate, SettlDate as above; the ExecID (17) of a single ExecAllocGrp entry (124)
 *   becomes our_ref (the street's execution id is the one we booked the fill under).
 *
 * Side is OUR side, as in the CSV: a confirmation goes to the firm whose trade it is, and Side is
 * that firm's side (1 buy, 3 buy minus: buy; 2 sell, 4 sell plus, 5 sell short, 6 sell short
 * exempt: sell, the street sees a sale).
 *
 * The counterparty comes from the Parties group (NoPartyIDs 453): among the contra firm
 * (PartyRole 452=17) and the executing firm (452=1), the one that sent the message (PartyID 448
 * equal to SenderCompID 49) when there is one, else the contra firm, else the executing firm. Its
 * PartyID is our counterparty code (the firm's mnemonic: PartyIDSource 447 C or D; a BIC or a CSD
 * participant number is not mapped here and is refused by the importer as an unknown counterparty).
 *
 * All or nothing: a message that is not FIX, fails its frame checks, is not FIX.4.4, is of another
 * application type, or lacks a required field or has a bad value refuses the whole file; every
 * problem is named by message number (1-based, in file order), line, id, the tag and the rule.
 * Session messages (heartbeat, logon...) are skipped.
 */
import { DomainError, Dec, type ErrorDetail } from '../kernel/index.js';
import { FixParseError, parseFixMessage, readGroup, splitFixMessages, tagName, type FixMessage } from '../trading/index.js';
import type { ConfirmationInput } from './confirmations.js';

/** A message of the file that confirms nothing and was left out, with why. */
export interface SkippedFixMessage {
  /** 1-based, in file order. */
  message: number;
  line: number;
  msgType: string;
  id: string | null;
  reason: string;
}

export interface FixConfirmationParse {
  inputs: ConfirmationInput[];
  skipped: SkippedFixMessage[];
}

const NAMES: Record<number, string> = {
  6: 'AvgPx', 8: 'BeginString', 15: 'Currency', 17: 'ExecID', 22: 'SecurityIDSource', 34: 'MsgSeqNum', 35: 'MsgType',
  48: 'SecurityID', 49: 'SenderCompID', 53: 'Quantity', 54: 'Side', 55: 'Symbol', 60: 'TransactTime', 64: 'SettlDate',
  71: 'AllocTransType', 75: 'TradeDate', 79: 'AllocAccount', 80: 'AllocQty', 87: 'AllocStatus', 118: 'NetMoney',
  124: 'NoExecs', 381: 'GrossTradeAmt', 447: 'PartyIDSource', 448: 'PartyID', 452: 'PartyRole', 453: 'NoPartyIDs',
  664: 'ConfirmID', 665: 'ConfirmStatus', 666: 'ConfirmTransType', 755: 'AllocReportID', 772: 'ConfirmRefID',
  773: 'ConfirmType', 794: 'AllocReportType', 795: 'AllocReportRefID', 857: 'AllocNoOrdersType',
};
const tagLabel = (tag: number) => (NAMES[tag] ? `${NAMES[tag]} (${tag})` : tagName(tag, 'FIX.4.4'));

const SESSION_TYPES = new Set(['0', '1', '2', '3', '4', '5', 'A']);
const SIDES: Record<string, 'buy' | 'sell'> = { 1: 'buy', 3: 'buy', 2: 'sell', 4: 'sell', 5: 'sell', 6: 'sell' };
const DECIMAL_RE = /^\d+(\.\d+)?$/;
const FIX_DATE_RE = /^(\d{4})(\d{2})(\d{2})$/;

/** Whether a file is FIX tag=value (its first meaningful line starts with 8=FIX), not CSV. */
export function isFixText(text: string): boolean {
  // Line by line from the start (not a split of the whole file: only the first meaningful line counts).
  const t = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  for (let start = 0; start < t.length;) {
    let nl = t.indexOf('\n', start);
    if (nl < 0) nl = t.length;
    const l = t.slice(start, nl).trim();
    start = nl + 1;
    if (!l || l.startsWith('#')) continue;
    return l.startsWith('8=FIX');
  }
  return false;
}

/** YYYYMMDD (LocalMktDate) as YYYY-MM-DD, or undefined when it is not a calendar day. */
function fixDate(v: string): string | undefined {
  const m = FIX_DATE_RE.exec(v);
  if (!m) return undefined;
  const iso = `${m[1]}-${m[2]}-${m[3]}`;
  const d = new Date(`${iso}T00:00:00Z`);
  return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== iso ? undefined : iso;
}

/**
 * Parse a file of FIX 4.4 Confirmation (AK) and AllocationReport (AS) messages (see the module
 * comment for the mapping). Pure.
 * @throws DomainError CONFIRMATION_FILE_INVALID naming each message, tag and rule; nothing is returned then
 */
export function parseFixConfirmations(text: string, file: string): FixConfirmationParse {
  const details: ErrorDetail[] = [];
  const inputs: ConfirmationInput[] = [];
  const skipped: SkippedFixMessage[] = [];
  const seen = new Map<string, { message: number; replace: boolean }>();
  const chunks = splitFixMessages(text.replace(/^\uFEFF/, ''));

  chunks.forEach(({ line, raw }, i) => {
    const n = i + 1;
    let msg: FixMessage;
    try {
      msg = parseFixMessage(raw, { line });
    } catch (e) {
      if (!(e instanceof FixParseError)) throw e;
      const record = `${file} message ${n} (line ${line})`;
      const why = e.details[0]?.message ?? e.message;
      details.push({ record, field: e.tag === undefined ? undefined : tagLabel(e.tag), rule: e.code, message: `${record}: ${why}` });
      return;
    }
    const id = msg.msgType === 'AK' ? msg.get(664) : msg.msgType === 'AS' ? msg.get(755) : undefined;
    const record = `${file} message ${n} (line ${line}${msg.get(34) ? `, MsgSeqNum ${msg.get(34)}` : ''}${id ? `, ${msg.msgType === 'AK' ? 'ConfirmID' : 'AllocReportID'} ${id}` : ''})`;
    const before = details.length;
    const err = (tag: number | undefined, rule: string, text: string) =>
      details.push({ record, field: tag === undefined ? undefined : tagLabel(tag), rule, message: `${record}: ${tag === undefined ? '' : `${tagLabel(tag)} `}${text}` });
    const skip = (reason: string) => skipped.push({ message: n, line, msgType: msg.msgType, id: id ?? null, reason });

    if (SESSION_TYPES.has(msg.msgType)) { skip(`session message (MsgType ${msg.msgType})`); return; }
    if (msg.msgType !== 'AK' && msg.msgType !== 'AS') {
      err(35, 'MSG_TYPE', `is "${msg.msgType}": a confirmation file holds Confirmation (AK) or AllocationReport (AS) messages`);
      return;
    }
    if (msg.beginString !== 'FIX.4.4') {
      err(8, 'BEGIN_STRING', `is ${msg.beginString}: ${msg.msgType === 'AK' ? 'Confirmation' : 'AllocationReport'} (${msg.msgType}) is a FIX.4.4 message`);
      return;
    }
    const ak = msg.msgType === 'AK';
    const required = ak ? [664, 666, 773, 665, 60, 75, 55, 80, 54, 79, 6, 381, 118] : [755, 71, 794, 87, 857, 54, 55, 53, 6, 75];
    for (const t of required) if (msg.get(t) === undefined) err(t, 'REQUIRED', 'is required but missing');
    const oneOf = (tag: number, allowed: string[]) => {
      const v = msg.get(tag);
      if (v !== undefined && !allowed.includes(v)) err(tag, 'ENUM', `is "${v}", not one of ${allowed.join(', ')}`);
      return v;
    };
    const transType = oneOf(ak ? 666 : 71, ['0', '1', '2']);
    const confirmType = ak ? oneOf(773, ['1', '2', '3']) : undefined;
    const confirmStatus = ak ? oneOf(665, ['1', '2', '3', '4', '5']) : undefined;
    const reportType = ak ? undefined : oneOf(794, ['3', '4', '5', '8']);
    const allocStatus = ak ? undefined : oneOf(87, ['0', '1', '2', '3', '4', '5']);
    if (!ak) oneOf(857, ['0', '1']);
    const sideCode = msg.get(54);
    if (sideCode !== undefined && !SIDES[sideCode]) err(54, 'SIDE', `is "${sideCode}": expected 1 buy, 2 sell, 3 buy minus, 4 sell plus, 5 sell short or 6 sell short exempt`);
    const qtyTag = ak ? 80 : 53;
    for (const t of [qtyTag, 6]) {
      const v = msg.get(t);
      if (v === undefined) continue;
      if (!DECIMAL_RE.test(v)) err(t, 'DECIMAL', `"${v}" is not a decimal number`);
      else if (new Dec(v).lte(0)) err(t, 'POSITIVE', `must be greater than zero, is ${v}`);
    }
    const tradeDate = msg.get(75) === undefined ? undefined : fixDate(msg.get(75)!);
    if (msg.get(75) !== undefined && !tradeDate) err(75, 'DATE', `"${msg.get(75)}" is not a date YYYYMMDD`);
    const settleRaw = msg.get(64);
    const settleDate = settleRaw === undefined ? null : fixDate(settleRaw) ?? null;
    if (settleRaw !== undefined && !settleDate) err(64, 'DATE', `"${settleRaw}" is not a date YYYYMMDD`);
    if (settleDate && tradeDate && settleDate < tradeDate) err(64, 'DATE', `${settleDate} is before the trade date ${tradeDate}`);

    // The security: Symbol, or the SecurityID when the symbol is "[N/A]".
    let symbol = msg.get(55);
    if (symbol === '[N/A]') {
      symbol = msg.get(48);
      if (symbol === undefined) err(48, 'REQUIRED', 'is required when Symbol (55) is "[N/A]"');
      else if (msg.get(22) === undefined) err(22, 'REQUIRED', 'must say what SecurityID (48) is');
    }

    // The counterparty, from the Parties group.
    let counterparty: string | undefined;
    try {
      const parties = readGroup(msg, 453, [448, 447, 452, 802, 523, 803]).map((g) => ({
        id: g.find(([t]) => t === 448)?.[1], role: g.find(([t]) => t === 452)?.[1],
      }));
      const firms = parties.filter((p) => p.id && (p.role === '17' || p.role === '1'));
      const sender = msg.get(49);
      const chosen = firms.find((p) => p.id === sender) ?? firms.find((p) => p.role === '17') ?? firms.find((p) => p.role === '1');
      if (!chosen) err(453, 'COUNTERPARTY', 'has no contra firm (PartyRole 452=17) or executing firm (452=1) with a PartyID (448): the counterparty is unknown');
      else counterparty = chosen.id;
    } catch (e) {
      if (!(e instanceof FixParseError)) throw e;
      err(e.tag, e.code, e.details[0]?.message ?? e.message);
    }

    // our_ref: the one execution an allocation report is about.
    let ourRef: string | null = null;
    if (!ak) {
      try {
        const execs = readGroup(msg, 124, [32, 17, 527, 31, 669, 29]).map((g) => g.find(([t]) => t === 17)?.[1]).filter((x): x is string => !!x);
        if (execs.length === 1) ourRef = execs[0]!;
      } catch (e) {
        if (!(e instanceof FixParseError)) throw e;
        err(e.tag, e.code, e.details[0]?.message ?? e.message);
      }
    }

    let confId = id;
    const refTag = ak ? 772 : 795;
    if (transType === '1') {
      confId = msg.get(refTag);
      if (confId === undefined) err(refTag, 'REQUIRED', `is required in a replace (${tagLabel(ak ? 666 : 71)} 1): it names the ${ak ? 'confirmation' : 'report'} replaced`);
    }
    if (transType === '2') {
      err(ak ? 666 : 71, 'CANCEL_NOT_SUPPORTED', `is 2 (cancel) of ${msg.get(refTag) ?? id}: an import adds and updates confirmations, it does not withdraw them; take the cancel out of the file and handle it by hand`);
    }
    if (details.length > before) return;

    if (ak && confirmType !== '2') { skip(`ConfirmType (773) ${confirmType} (${confirmType === '1' ? 'status' : 'confirmation request rejected'}): no trade to confirm`); return; }
    if (ak && confirmStatus === '5') { skip('ConfirmStatus (665) 5: request rejected'); return; }
    if (!ak && (reportType === '5' || reportType === '8')) { skip(`AllocReportType (794) ${reportType} (${reportType === '5' ? 'warehouse recap' : 'request to intermediary'}): not a confirmation`); return; }
    if (!ak && !['0', '3'].includes(allocStatus!)) {
      skip(`AllocStatus (87) ${allocStatus} (${({ 1: 'block level reject', 2: 'account level reject', 4: 'incomplete', 5: 'rejected by intermediary' } as Record<string, string>)[allocStatus!]}): not a confirmation`);
      return;
    }

    const key = `${counterparty}\u0000${confId}`;
    const prior = seen.get(key);
    const replace = transType === '1';
    if (prior && !replace) {
      err(ak ? 664 : 755, 'DUPLICATE', `${counterparty} ${confId} is already message ${prior.message}`);
      return;
    }
    const input: ConfirmationInput = {
      confId: confId!, counterparty: counterparty!, tradeDate: tradeDate!, symbol: symbol!, side: SIDES[sideCode!]!,
      quantity: msg.get(qtyTag)!, price: msg.get(6)!, settleDate, ourRef, affirmedAt: null, line,
    };
    if (prior) {
      // A replace later in the same file: it stands for the confirmation.
      const at = inputs.findIndex((x) => x.counterparty === counterparty && x.confId === confId);
      inputs[at] = input;
    } else inputs.push(input);
    seen.set(key, { message: n, replace });
  });

  if (!chunks.length) details.push({ record: file, rule: 'EMPTY', message: `${file}: no FIX messages` });
  if (details.length) {
    throw new DomainError('CONFIRMATION_FILE_INVALID', 'invalid',
      `${file}: ${details.length} problem(s); nothing was applied. ${details.slice(0, 5).map((d) => d.message).join('; ')}${details.length > 5 ? '; ...' : ''}`, details);
  }
  return { inputs, skipped };
}
