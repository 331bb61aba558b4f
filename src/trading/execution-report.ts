/**
 * ExecutionReport (MsgType 8) of FIX 4.2 and 4.4 -> what the back office books, and the replay of
 * a stream of them (fills, busts, corrections) into the surviving fills of an order.
 * Quantities and prices stay decimal strings; arithmetic is in Dec.
 */
import { Dec, conflict, invalid, parseDate } from '../kernel/index.js';
import {
  checkEnum,
  fixError,
  readGroup,
  requireField,
  tagName,
  type FixMessage,
} from './fix-parser.js';

/** What booking does with a report: book a fill, ignore it (order-state only), bust or correct an earlier fill. */
export type ExecKind = 'book' | 'ignore' | 'cancel' | 'correct';
export type ExecSide = 'buy' | 'sell' | 'short';

export interface ExecutionReport {
  version: '4.2' | '4.4';
  /** MsgSeqNum (34). */
  seqNum?: string;
  /** ExecID (17). */
  execId: string;
  /** ExecRefID (19): the fill a cancel or correct refers to. */
  execRefId?: string;
  /** OrderID (37). */
  orderId: string;
  /** ClOrdID (11). */
  clOrdId?: string;
  kind: ExecKind;
  /** ExecType (150), as sent. */
  execType: string;
  /** OrdStatus (39), as sent. */
  ordStatus: string;
  /** Account (1). */
  account?: string;
  /** Symbol (55). */
  symbol: string;
  /** SecurityID (48). */
  securityId?: string;
  /** SecurityIDSource / IDSource (22). */
  securityIdSource?: string;
  /** Side (54): 1 buy (3 buy minus), 2 sell (4 sell plus), 5 sell short and 6 sell short exempt: short. */
  side: ExecSide;
  /** LastShares (4.2) / LastQty (4.4) (32), a decimal string; "0" when absent on a non-fill. */
  lastQty: string;
  /** LastPx (31), a decimal string; "0" when absent on a non-fill. */
  lastPx: string;
  /** CumQty (14). */
  cumQty?: string;
  /** AvgPx (6). */
  avgPx?: string;
  /** LeavesQty (151). */
  leavesQty?: string;
  /** OrderQty (38). */
  orderQty?: string;
  /** Currency (15). */
  currency?: string;
  /** TradeDate (75), YYYY-MM-DD. */
  tradeDate?: string;
  /** TransactTime (60), ISO 8601 UTC with the fraction as sent: 2015-02-20T14:40:24.970Z. */
  transactTime?: string;
  /** FutSettDate (4.2) / SettlDate (4.4) (64), YYYY-MM-DD. */
  settlDate?: string;
  /** LastMkt (30). */
  lastMkt?: string;
  /** ExecBroker (76), a FIX 4.2 field. */
  execBroker?: string;
  /** Who we traded with: the Executing Firm of the Parties group (452=1), else ExecBroker (76), else SenderCompID (49). */
  counterparty?: string;
}

/** The tags this mapping reads, by their FIX 4.2 names (the test checks them against the FIX 4.2 dictionary). */
export const FIX42_FIELDS = {
  Account: 1, AvgPx: 6, ClOrdID: 11, CumQty: 14, Currency: 15, ExecID: 17, ExecRefID: 19,
  ExecTransType: 20, IDSource: 22, LastMkt: 30, LastPx: 31, LastShares: 32, MsgSeqNum: 34,
  MsgType: 35, OrderID: 37, OrderQty: 38, OrdStatus: 39, SecurityID: 48, SenderCompID: 49,
  Side: 54, Symbol: 55, TransactTime: 60, FutSettDate: 64, TradeDate: 75, ExecBroker: 76,
  ExecType: 150, LeavesQty: 151,
} as const;

/** FIX 4.4 names of the fields renamed since 4.2, and the Parties group (new in 4.3). */
export const FIX44_FIELDS = {
  SecurityIDSource: 22, LastQty: 32, SettlDate: 64,
  NoPartyIDs: 453, PartyID: 448, PartyIDSource: 447, PartyRole: 452,
  NoPartySubIDs: 802, PartySubID: 523, PartySubIDType: 803,
} as const;

/** ExecTransType (20), FIX 4.2 (removed in 4.4). */
export const EXEC_TRANS_TYPES: Readonly<Record<string, string>> = {
  '0': 'NEW', '1': 'CANCEL', '2': 'CORRECT', '3': 'STATUS',
};

/** ExecType (150): FIX 4.2 values 0-E, and F-I added by FIX 4.3/4.4. */
export const EXEC_TYPES: Readonly<Record<string, string>> = {
  '0': 'NEW', '1': 'PARTIAL_FILL', '2': 'FILL', '3': 'DONE_FOR_DAY', '4': 'CANCELED', '5': 'REPLACED',
  '6': 'PENDING_CANCEL', '7': 'STOPPED', '8': 'REJECTED', '9': 'SUSPENDED', A: 'PENDING_NEW',
  B: 'CALCULATED', C: 'EXPIRED', D: 'RESTATED', E: 'PENDING_REPLACE',
  F: 'TRADE', G: 'TRADE_CORRECT', H: 'TRADE_CANCEL', I: 'ORDER_STATUS',
};

/** OrdStatus (39), the same values in FIX 4.2 and 4.4. */
export const ORD_STATUSES: Readonly<Record<string, string>> = {
  '0': 'NEW', '1': 'PARTIALLY_FILLED', '2': 'FILLED', '3': 'DONE_FOR_DAY', '4': 'CANCELED',
  '5': 'REPLACED', '6': 'PENDING_CANCEL', '7': 'STOPPED', '8': 'REJECTED', '9': 'SUSPENDED',
  A: 'PENDING_NEW', B: 'CALCULATED', C: 'EXPIRED', D: 'ACCEPTED_FOR_BIDDING', E: 'PENDING_REPLACE',
};

/**
 * Side (54) values we book. Buy minus and sell plus are a buy and a sell with a tick condition;
 * undisclosed, cross, cross short and the later values are refused: they do not say which way we went.
 */
export const SIDES: Readonly<Record<string, ExecSide>> = {
  '1': 'buy', '2': 'sell', '3': 'buy', '4': 'sell', '5': 'short', '6': 'short',
};

/** PartyRole (452) 1, Executing Firm: FIX 4.2's ExecBroker (76) moved into the Parties group. */
export const PARTY_ROLE_EXECUTING_FIRM = '1';

const PARTY_GROUP = [448, 447, 452, 802, 523, 803] as const;

// FIX Qty/Price/Amt: digits, an optional point, an optional leading minus; no exponent, no '+'.
const DECIMAL_RE = /^(-)?(\d*)(?:\.(\d*))?$/;

/**
 * A FIX decimal field as a canonical decimal string ("002000.00" -> "2000.00", ".5" -> "0.5"),
 * the form kernel toMinor() reads. Trailing zeros are kept: they are the sender's precision.
 */
function decimalField(msg: FixMessage, tag: number, rule: { negative: boolean }): string | undefined {
  const text = msg.get(tag);
  if (text === undefined) return undefined;
  const m = DECIMAL_RE.exec(text);
  const name = tagName(tag, msg.beginString);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) {
    throw fixError(msg, 'FIX_BAD_VALUE', tag, `${name} "${text}" is not a decimal number`);
  }
  const int = m[2]!.replace(/^0+(?=\d)/, '') || '0';
  const frac = m[3] ?? '';
  const body = frac === '' ? int : `${int}.${frac}`;
  const zero = /^[0.]*$/.test(body);
  if (m[1] && !zero && !rule.negative) {
    throw fixError(msg, 'FIX_BAD_VALUE', tag, `${name} "${text}" is negative`);
  }
  return m[1] && !zero ? `-${body}` : body;
}

function positive(msg: FixMessage, tag: number, value: string | undefined): string {
  if (value === undefined) {
    throw fixError(msg, 'FIX_REQUIRED_FIELD', tag, `${tagName(tag, msg.beginString)} is required for a fill but missing`);
  }
  if (!new Dec(value).gt(0)) {
    throw fixError(msg, 'FIX_BAD_VALUE', tag, `${tagName(tag, msg.beginString)} is ${value}; a fill needs more than 0`);
  }
  return value;
}

/** LocalMktDate YYYYMMDD -> YYYY-MM-DD. */
function localDate(msg: FixMessage, tag: number): string | undefined {
  const text = msg.get(tag);
  if (text === undefined) return undefined;
  const name = tagName(tag, msg.beginString);
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(text);
  const iso = m ? `${m[1]}-${m[2]}-${m[3]}` : undefined;
  if (!iso || !isDate(iso)) throw fixError(msg, 'FIX_BAD_VALUE', tag, `${name} "${text}" is not a date YYYYMMDD`);
  return iso;
}

/** UTCTimestamp YYYYMMDD-HH:MM:SS[.fraction] -> ISO 8601 UTC, fraction kept as sent (up to nanoseconds). */
function utcTimestamp(msg: FixMessage, tag: number): string | undefined {
  const text = msg.get(tag);
  if (text === undefined) return undefined;
  const m = /^(\d{4})(\d{2})(\d{2})-(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/.exec(text);
  const date = m ? `${m[1]}-${m[2]}-${m[3]}` : '';
  if (!m || !isDate(date) || Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6]) > 60) {
    throw fixError(msg, 'FIX_BAD_VALUE', tag, `${tagName(tag, msg.beginString)} "${text}" is not a UTC timestamp YYYYMMDD-HH:MM:SS[.sss]`);
  }
  return `${date}T${m[4]}:${m[5]}:${m[6]}${m[7] ? `.${m[7]}` : ''}Z`;
}

function isDate(iso: string): boolean {
  try {
    parseDate(iso);
    return true;
  } catch {
    return false;
  }
}

/** Tags that may appear only once in an ExecutionReport (none of them is inside a repeating group). */
const SINGLE_TAGS = [1, 6, 11, 14, 17, 19, 20, 22, 31, 32, 37, 38, 39, 48, 54, 55, 60, 64, 75, 76, 150, 151];

/**
 * Map a parsed ExecutionReport to what booking needs, and decide its `kind`:
 * - FIX 4.2, by ExecTransType (20): 0 New -> 'book' when ExecType (150) is 1 partial fill, 2 fill
 *   or F trade, else 'ignore' (order-state reports); 1 Cancel -> 'cancel' of ExecRefID (19);
 *   2 Correct -> 'correct' of ExecRefID (19) with the new LastShares/LastPx; 3 Status -> 'ignore'.
 * - FIX 4.4, by ExecType (150): F Trade (and 1/2 from 4.2-style senders) -> 'book', H Trade Cancel
 *   -> 'cancel', G Trade Correct -> 'correct', others 'ignore'.
 * Either version may carry the other's signal (a 4.4 sender still sending ExecTransType, a 4.2
 * sender using 150=H/G): it is honoured, and the two must agree (booking a bust as a fill is the
 * worst mistake this function could make).
 * Requires 17, 37, 39, 54, 55, 150 (and 20 in 4.2); 19 for cancel/correct; LastPx (31) and
 * LastQty (32) > 0 for book/correct.
 * @throws FixParseError FIX_REQUIRED_FIELD, FIX_BAD_VALUE, FIX_MALFORMED, FIX_GROUP_COUNT naming the message and the tag
 */
export function toExecutionReport(msg: FixMessage): ExecutionReport {
  if (msg.msgType !== '8') {
    throw fixError(msg, 'FIX_BAD_VALUE', 35, `MsgType (35) is "${msg.msgType}", not 8 (ExecutionReport)`);
  }
  const version = msg.beginString === 'FIX.4.2' ? '4.2' : msg.beginString === 'FIX.4.4' ? '4.4' : undefined;
  if (!version) {
    throw fixError(msg, 'FIX_BAD_VALUE', 8, `BeginString (8) "${msg.beginString}" is not supported; FIX.4.2 and FIX.4.4 are`);
  }
  for (const tag of SINGLE_TAGS) {
    const n = msg.getAll(tag).length;
    if (n > 1) throw fixError(msg, 'FIX_MALFORMED', tag, `${tagName(tag, msg.beginString)} appears ${n} times`);
  }

  const execId = requireField(msg, 17);
  const orderId = requireField(msg, 37);
  const symbol = requireField(msg, 55);
  const sideCode = requireField(msg, 54);
  const side = SIDES[sideCode];
  if (!side) {
    throw fixError(msg, 'FIX_BAD_VALUE', 54, `Side (54) "${sideCode}" is not one we book (1 buy, 2 sell, 3 buy minus, 4 sell plus, 5 sell short, 6 sell short exempt)`);
  }
  const execType = requireField(msg, 150);
  checkEnum(msg, 150, Object.keys(EXEC_TYPES));
  const ordStatus = requireField(msg, 39);
  checkEnum(msg, 39, Object.keys(ORD_STATUSES));
  const transType = version === '4.2' ? requireField(msg, 20) : msg.get(20);
  checkEnum(msg, 20, Object.keys(EXEC_TRANS_TYPES));

  // ExecTransType (4.2, and 4.2-style 4.4 senders) and ExecType H/G (4.3+, and 4.2 senders that
  // adopted them) both can say bust or correct; when both speak they must agree.
  const by20: ExecKind | undefined = transType === '1' ? 'cancel' : transType === '2' ? 'correct' : transType === '3' ? 'ignore' : undefined;
  const by150: ExecKind | undefined = execType === 'H' ? 'cancel' : execType === 'G' ? 'correct' : undefined;
  if (by20 && by150 && by20 !== by150) {
    throw fixError(msg, 'FIX_BAD_VALUE', 150, `ExecType (150) ${execType} (${EXEC_TYPES[execType]}) contradicts ExecTransType (20) ${transType} (${EXEC_TRANS_TYPES[transType!]})`);
  }
  const kind: ExecKind = by150 ?? by20 ?? (execType === '1' || execType === '2' || execType === 'F' ? 'book' : 'ignore');

  const execRefId = msg.get(19);
  if (kind === 'cancel' || kind === 'correct') {
    requireField(msg, 19);
    if (execRefId === execId) {
      throw fixError(msg, 'FIX_BAD_VALUE', 19, `ExecRefID (19) is the message's own ExecID (17) ${execId}`);
    }
  }

  let lastQty = decimalField(msg, 32, { negative: false });
  let lastPx = decimalField(msg, 31, { negative: true });
  if (kind === 'book' || kind === 'correct') {
    lastQty = positive(msg, 32, lastQty);
    lastPx = positive(msg, 31, lastPx);
  }
  const cumQty = decimalField(msg, 14, { negative: false });
  const avgPx = decimalField(msg, 6, { negative: true });
  const leavesQty = decimalField(msg, 151, { negative: false });
  const orderQty = decimalField(msg, 38, { negative: false });
  const tradeDate = localDate(msg, 75);
  const settlDate = localDate(msg, 64);
  const transactTime = utcTimestamp(msg, 60);

  const parties = readGroup(msg, 453, PARTY_GROUP);
  const executingFirm = parties
    .find((p) => p.some(([t, v]) => t === 452 && v === PARTY_ROLE_EXECUTING_FIRM))
    ?.find(([t]) => t === 448)?.[1];
  const execBroker = msg.get(76);
  const counterparty = executingFirm ?? execBroker ?? msg.get(49);

  return {
    version,
    execId,
    orderId,
    kind,
    execType,
    ordStatus,
    symbol,
    side,
    lastQty: lastQty ?? '0',
    lastPx: lastPx ?? '0',
    ...defined({
      seqNum: msg.get(34),
      execRefId,
      clOrdId: msg.get(11),
      account: msg.get(1),
      securityId: msg.get(48),
      securityIdSource: msg.get(22),
      cumQty,
      avgPx,
      leavesQty,
      orderQty,
      currency: msg.get(15),
      tradeDate,
      transactTime,
      settlDate,
      lastMkt: msg.get(30),
      execBroker,
      counterparty,
    }),
  };
}

/** The object without its undefined properties (so reports compare and serialise cleanly). */
function defined<T extends Record<string, string | undefined>>(o: T): { [K in keyof T]?: string } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: string };
}

export interface ReplayedFill {
  qty: string;
  px: string;
}

export interface Replay {
  /** The fills that stand, keyed by the ExecID of their latest version (a correction's own ExecID). */
  fills: Map<string, ReplayedFill>;
  /** Sum of the standing fills' quantities, a decimal string. */
  cumQty: string;
  /** Quantity-weighted average price of the standing fills, rounded half-even to 8 places ("0" with no fills). */
  avgPx: string;
}

/**
 * Replay execution reports in order: 'book' adds a fill under its ExecID, 'cancel' removes the
 * fill its ExecRefID names, 'correct' replaces it with the correction's LastQty/LastPx under the
 * correction's ExecID, 'ignore' does nothing. An ExecRefID may name the fill's latest version or
 * any earlier one (venues differ: FIX's own D34 example corrects a correction). A report whose
 * ExecID was already replayed is a resend: skipped when it says the same, refused when it differs.
 * @throws DomainError FIX_UNKNOWN_EXEC_REF (invalid: the referenced fill was never booked or is already cancelled),
 *   FIX_DUPLICATE_EXEC_ID (conflict: the same ExecID with different content)
 */
export function replayExecutions(reports: readonly ExecutionReport[]): Replay {
  const fills = new Map<string, ReplayedFill>();
  /** Every ExecID of a fill (original and corrections) -> the key of its latest version in `fills`. */
  const current = new Map<string, string>();
  const seen = new Map<string, string>();

  for (const r of reports) {
    if (r.kind === 'ignore') continue;
    const essence = `${r.kind}|${r.execRefId ?? ''}|${new Dec(r.lastQty).toFixed()}|${new Dec(r.lastPx).toFixed()}`;
    const before = seen.get(r.execId);
    if (before !== undefined) {
      if (before === essence) continue;
      throw conflict(
        'FIX_DUPLICATE_EXEC_ID',
        `ExecID ${r.execId} was already replayed as ${before.split('|')[0]} and comes again with different content`,
      );
    }
    seen.set(r.execId, essence);

    if (r.kind === 'book') {
      fills.set(r.execId, { qty: r.lastQty, px: r.lastPx });
      current.set(r.execId, r.execId);
      continue;
    }
    const ref = r.execRefId ?? '';
    const key = current.get(ref);
    if (key === undefined || !fills.has(key)) {
      throw invalid(
        'FIX_UNKNOWN_EXEC_REF',
        `ExecID ${r.execId} ${r.kind === 'cancel' ? 'cancels' : 'corrects'} ExecRefID ${ref}, which is not a standing fill`,
      );
    }
    fills.delete(key);
    if (r.kind === 'cancel') continue;
    fills.set(r.execId, { qty: r.lastQty, px: r.lastPx });
    for (const [id, k] of current) if (k === key) current.set(id, r.execId);
    current.set(r.execId, r.execId);
  }

  let qty = new Dec(0);
  let notional = new Dec(0);
  for (const f of fills.values()) {
    qty = qty.plus(f.qty);
    notional = notional.plus(new Dec(f.qty).times(f.px));
  }
  const avgPx = qty.isZero() ? new Dec(0) : notional.div(qty).toDecimalPlaces(8, Dec.ROUND_HALF_EVEN);
  return { fills, cumQty: qty.toFixed(), avgPx: avgPx.toFixed() };
}
