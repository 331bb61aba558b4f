/**
 * The settlement lifecycle of net obligations: instructions out (one sese.023 or MT540-543 per
 * obligation, written to a directory) and statuses in (sese.024/025, MT544-548, CSV), which move
 * an obligation to matched, settled, partially settled or failed and book what settled in the
 * ledger, out of the street side.
 *
 * Ledger (the street side as trading books it, see trading/booking.ts): `assets:street:<cpty>`
 * holds, per security, the quantity still to receive (+) or deliver (-), and per currency the cash
 * still to receive (+) or pay (-). An obligation's quantity and cash are exactly that street side
 * netted, with the same signs. Settling q units and c cash (signed as the obligation) moves them
 * from the street to where they now are:
 *   securities  assets:depository:<place>  +q    assets:street:<cpty>  -q
 *   cash        assets:bank:settlement:<ccy> +c  assets:street:<cpty>  -c
 * A receipt against payment (q > 0, c < 0): the depository gains q shares, the street's +q to
 * receive goes to zero; the bank loses |c| (we paid) and the street's -|c| owed goes to zero. A
 * delivery against payment (q < 0, c > 0) is the mirror. Fully settled, the street side of the
 * obligation nets to zero; partially settled, what remains on the street is what is still owed.
 * What of an obligation has failed sits in its fail account instead of the street (fails.ts): a
 * settlement takes from the fail account first, then from the street. A failed (or partially
 * settled) status books the fail at once.
 *
 * Parties of an instruction come from the standing settlement instructions (ssi.ts) of the
 * counterparty and of the firm for the security's market (and asset class, currency), in force on
 * the settlement date:
 * - the counterparty's SSI gives the place of settlement, its agent and account; once any
 *   counterparty SSI is loaded, an obligation whose counterparty has none in force is not
 *   instructed (skipped, rule SETTLEMENT_SSI_MISSING, naming the obligation and the SSI looked
 *   for). A firm that has loaded no counterparty SSI at all instructs from reference data as
 *   before: the counterparty's DTC number or BIC, the place given (--place-bic, DTCYUS33).
 * - our side: the firm's SSI (party FIRM) gives our BIC and safekeeping account; without one, the
 *   configured ones (--our-bic, --safekeeping-account; BACKOFFICE_BIC, BACKOFFICE_SAFEKEEPING_ACCOUNT).
 * - both SSIs must name the same place of settlement.
 * - cash correspondents (cash_bic, cash_account) of either SSI become the cash parties of an
 *   instruction against payment (sese.023 CshPties, MT541/543 sequence E3); free of payment, none.
 * The parties sent are kept with the instruction, so its message can be shown as sent.
 *
 * The security is named by its current identifiers: an obligation follows a symbol change or a
 * split once corporate actions applies it (obligations.ts, adjustObligationsIn), so the ISIN and
 * quantity instructed are those of the security as it is now.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import { withTx, type Client, type Pool } from '../db/index.js';
import {
  DomainError, fromMinor, newId, parseDate, systemClock, toMinor, type ErrorDetail,
} from '../kernel/index.js';
import { postEntriesIn, type EntryInput } from '../ledger/index.js';
import {
  checkObligation, parseSettlementStatus, settlementTypeOf, toMt54x, toSese023,
  type InstructionObligation, type SettlementStatus,
} from './messages/index.js';
import type { SettlementCtx } from './obligations.js';
import type { Print, WithDb } from './cli.js';
import { FIRM_PARTY, SsiCodes, loadSsiBook, pickSsi, ssiWanted, type SsiBook } from './ssi.js';
import { FAILS_LOCK, bookFailsIn, carryFailsBack, failRecordsIn, openSettlementAccounts, saveFailRecords, takeFromFail } from './fails.js';

/** Error codes of the lifecycle (stable). */
export const LifecycleCodes = {
  /** A status names an instruction we never sent: the whole file is refused. */
  STATUS_UNKNOWN_INSTRUCTION: 'SETTLEMENT_STATUS_UNKNOWN_INSTRUCTION',
  /** A status cannot apply to its obligation (more settled than owed, no amount for a payment...). */
  STATUS_CONFLICT: 'SETTLEMENT_STATUS_CONFLICT',
  /** An instruct or status-import argument is not usable. */
  ARGUMENT_INVALID: 'SETTLEMENT_ARGUMENT_INVALID',
} as const;

export type InstructionFormat = 'sese023' | 'mt54x';

export interface InstructOptions {
  format: InstructionFormat;
  /** Directory the instruction files go to (created if missing): `<obligation id>.xml|.fin`. */
  outDir: string;
  /** Our BIC (the sender) where the firm has no SSI for the market. */
  ourBic?: string;
  /** Place of settlement where no SSI names one; DTCYUS33 (DTC) when not given. */
  placeBic?: string;
  /** Our safekeeping account at the place of settlement where the firm has no SSI for the market. */
  safekeepingAccount?: string;
}

export interface InstructedObligation {
  obligationId: string;
  reference: string;
  messageId: string;
  settlementType: 'RVP' | 'DVP' | 'RFP' | 'DFP';
  file: string;
}

export interface InstructResult {
  settleDate: string;
  format: InstructionFormat;
  /** Instructions written by this run. */
  instructed: InstructedObligation[];
  /** Obligations of the date instructed before (nothing rewritten). */
  alreadyInstructed: number;
  /** Pending obligations not instructed, with why (no ISIN, nothing to deliver, no SSI, a rule broken). */
  skipped: { obligationId: string; counterparty: string; security: string; reason: string; rule?: string }[];
}

/** Who settles an instruction, where, and from which SSIs (kept with the instruction as sent). */
export interface InstructionParties {
  ourBic: string;
  account: string;
  placeBic: string;
  counterparty: InstructionObligation['counterparty'];
  agent?: InstructionObligation['agent'];
  /** Cash correspondents of the SSIs (cash_bic, cash_account), ours and the counterparty's; used against payment only. */
  cash?: InstructionObligation['cash'];
  /** The SSIs used (null: reference data or configuration). */
  ssi: { theirs: string | null; ours: string | null };
}

/** What parties need of an obligation. */
export interface PartyRow {
  counterparty: string; currency: string; mic: string; asset_class: string; cp_name: string; bic: string | null; dtc_participant: string | null;
}

/**
 * The parties of an obligation's instruction from the SSIs in force (see the module comment), or why
 * there are none (`rule` SETTLEMENT_SSI_MISSING when an SSI is missing).
 */
export function partiesFor(book: SsiBook, r: PartyRow, defaults: { ourBic?: string; safekeepingAccount?: string; placeBic?: string }):
  { parties: InstructionParties } | { reason: string; rule: string } {
  const q = { market: r.mic, assetClass: r.asset_class, currency: r.currency };
  const theirs = pickSsi(book, { party: r.counterparty, ...q });
  const ours = pickSsi(book, { party: FIRM_PARTY, ...q });
  if (!theirs && book.counterpartySsisInUse) {
    return { rule: SsiCodes.MISSING, reason: `no standing settlement instruction for ${ssiWanted({ party: r.counterparty, ...q }, book.date)}: import one (settlement ssi import)` };
  }
  const ourBic = ours?.agentBic ?? defaults.ourBic;
  const account = ours?.account ?? defaults.safekeepingAccount;
  if (!ourBic || !account) {
    return { rule: SsiCodes.MISSING, reason: `no standing settlement instruction for ${ssiWanted({ party: FIRM_PARTY, ...q }, book.date)}, and no BIC and safekeeping account configured (--our-bic, --safekeeping-account)` };
  }
  if (theirs && ours && theirs.placeBic !== ours.placeBic) {
    return { rule: 'SETTLEMENT_SSI_PLACE_MISMATCH', reason: `the SSIs name two places of settlement: ${r.counterparty}'s ${theirs.placeBic} (${theirs.id}), ours ${ours.placeBic} (${ours.id})` };
  }
  const placeBic = theirs?.placeBic ?? ours?.placeBic ?? defaults.placeBic ?? DTC_BIC;
  const counterparty = { name: r.cp_name, ...(r.bic ? { bic: r.bic } : {}), ...(r.dtc_participant ? { dtcParticipant: r.dtc_participant } : {}) };
  let agent: InstructionParties['agent'];
  if (theirs) {
    // At DTC the agent is known by its participant number; elsewhere by BIC.
    if (theirs.participant && placeBic === DTC_BIC) agent = { dtcParticipant: theirs.participant, account: theirs.account };
    else if (theirs.agentBic) agent = { bic: theirs.agentBic, account: theirs.account };
    else return { rule: SsiCodes.MISSING, reason: `${r.counterparty}'s SSI ${theirs.id} names its agent only by participant number, which only DTC instructions carry: add the agent's BIC` };
  }
  const correspondent = (s: typeof theirs) => (s?.cashBic ? { bic: s.cashBic, ...(s.cashAccount ? { account: s.cashAccount } : {}) } : undefined);
  const cashOurs = correspondent(ours), cashTheirs = correspondent(theirs);
  const cash = cashOurs || cashTheirs ? { ...(cashOurs ? { ours: cashOurs } : {}), ...(cashTheirs ? { theirs: cashTheirs } : {}) } : undefined;
  return { parties: { ourBic, account, placeBic, counterparty, ...(agent ? { agent } : {}), ...(cash ? { cash } : {}), ssi: { theirs: theirs?.id ?? null, ours: ours?.id ?? null } } };
}

const DTC_BIC = 'DTCYUS33';

interface PendingRow extends PartyRow {
  id: string; settle_date: string; symbol: string;
  quantity: string; cash: string; scale: number; cash_scale: number;
  isin: string | null; trade_date: string | null;
}

const isZero = (dec: string) => /^-?0*(\.0*)?$/.test(dec);

/** The instruction of an obligation row with its parties (amounts as the obligation holds them). */
export function instructionOf(
  r: { id: string; settle_date: string; quantity: string; cash: string; scale: number; cash_scale: number; currency: string; isin: string | null; trade_date: string | null },
  p: InstructionParties,
): InstructionObligation {
  const cash = BigInt(r.cash);
  const receive = !r.quantity.startsWith('-');
  const amount = cash === 0n ? undefined : fromMinor(cash < 0n ? -cash : cash, r.cash_scale);
  const tradeDate = r.trade_date && r.trade_date <= r.settle_date ? r.trade_date : r.settle_date;
  return {
    id: r.id, direction: receive ? 'receive' : 'deliver', payment: cash === 0n ? 'free' : 'against', isin: r.isin ?? '',
    quantity: r.quantity.replace(/^-/, ''), ...(amount ? { amount, currency: r.currency } : {}),
    tradeDate, settleDate: r.settle_date, account: p.account, counterparty: p.counterparty, ...(p.agent ? { agent: p.agent } : {}),
    place: { bic: p.placeBic }, ourBic: p.ourBic,
    // Cash parties belong to a settlement against payment only (a free one moves no cash).
    ...(amount && p.cash ? { cash: p.cash } : {}),
  };
}
const neg = (dec: string) => dec.startsWith('-');
const abs = (dec: string) => (neg(dec) ? dec.slice(1) : dec);

/**
 * Instruct the pending obligations of `settleDate` that move securities: one file per obligation
 * into `outDir`, RVP/DVP when cash moves against them, free of payment (RFP/DFP) when none does.
 * Each instructed obligation becomes `instructed`, with its instruction (reference, message id,
 * file, time) in settlement_instructions. Idempotent: obligations instructed before are counted,
 * not rewritten. Obligations that cannot be instructed (security without ISIN, securities and cash
 * moving the same way, no SSI, a message rule broken) are skipped with the reason; the rest go out.
 * Parties come from the SSIs, else from reference data and `opts` (see the module comment).
 * @throws DomainError DATE_INVALID; SETTLEMENT_ARGUMENT_INVALID (format, configured BICs or account, directory)
 */
export async function instructObligations(pool: Pool, settleDate: string, opts: InstructOptions, ctx: Partial<SettlementCtx> = {}): Promise<InstructResult> {
  parseDate(settleDate, 'settlement date');
  if (opts.format !== 'sese023' && opts.format !== 'mt54x') {
    throw new DomainError(LifecycleCodes.ARGUMENT_INVALID, 'invalid', `format "${String(opts.format)}" must be sese023 or mt54x`);
  }
  if (!opts.outDir) throw new DomainError(LifecycleCodes.ARGUMENT_INVALID, 'invalid', 'an output directory is required');
  const actor = ctx.actor ?? 'system';
  const clock = ctx.clock ?? systemClock;
  fs.mkdirSync(opts.outDir, { recursive: true });

  return withTx(pool, async (c) => {
    const { rows } = await c.query<PendingRow>(
      `WITH td AS MATERIALIZED (
         -- The earliest trade date per counterparty and security of the date's trades: one pass over
         -- them, once (inlined, the planner ran it again for each obligation).
         SELECT t.counterparty, t.symbol, min(t.trade_date) AS d FROM trades t
          WHERE t.settle_date = $1 AND t.status = 'booked' GROUP BY t.counterparty, t.symbol)
       SELECT o.id, o.settle_date::text AS settle_date, o.counterparty, o.symbol, o.currency, o.quantity::text AS quantity, o.cash::text AS cash,
              s.scale, a.scale AS cash_scale, s.isin, s.mic, s.asset_class, cp.name AS cp_name, cp.bic, cp.dtc_participant,
              -- Trades in a symbol since retired settle under its successor.
              (SELECT min(td.d)::text FROM td LEFT JOIN securities p ON p.symbol = td.symbol
                WHERE td.counterparty = o.counterparty AND (td.symbol = o.symbol OR p.successor = o.symbol)) AS trade_date
         FROM settlement_obligations o JOIN securities s ON s.symbol = o.symbol JOIN assets a ON a.code = o.currency
         JOIN counterparties cp ON cp.code = o.counterparty
        WHERE o.settle_date = $1 AND o.status = 'pending' AND o.quantity <> 0
        ORDER BY o.counterparty, o.symbol
        FOR UPDATE OF o`, [settleDate]);
    const done = await c.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM settlement_instructions i JOIN settlement_obligations o ON o.id = i.obligation_id WHERE o.settle_date = $1`, [settleDate]);
    const result: InstructResult = { settleDate, format: opts.format, instructed: [], alreadyInstructed: done.rows[0]!.n, skipped: [] };
    const now = clock.now();
    const book = await loadSsiBook(c, settleDate);

    for (const r of rows) {
      const skip = (reason: string, rule?: string) => result.skipped.push({ obligationId: r.id, counterparty: r.counterparty, security: r.symbol, reason, ...(rule ? { rule } : {}) });
      if (!r.isin) { skip(`security ${r.symbol} has no ISIN`); continue; }
      const cash = BigInt(r.cash);
      const receive = !neg(r.quantity);
      if (cash !== 0n && (cash > 0n) === receive) {
        skip(`securities and cash both ${receive ? 'come in' : 'go out'} (${r.quantity} ${r.symbol} against ${fromMinor(cash, r.cash_scale)} ${r.currency}): not a delivery against payment; settle it by hand`);
        continue;
      }
      const found = partiesFor(book, r, opts);
      if ('reason' in found) { skip(`obligation ${r.id} (${r.counterparty} ${r.symbol} ${settleDate}): ${found.reason}`, found.rule); continue; }
      const p = found.parties;
      const o = instructionOf(r, p);
      const broken = checkObligation(o, opts.format);
      // Configured settings broken (BICs, account) break every obligation alike: refuse the run.
      const ours = broken.filter((d) => ((d.field === 'ourBic' || d.field === 'account') && !p.ssi.ours) || (d.field === 'place.bic' && !p.ssi.ours && !p.ssi.theirs));
      if (ours.length) throw new DomainError(LifecycleCodes.ARGUMENT_INVALID, 'invalid', ours.map((d) => d.message).join('; '), ours);
      if (broken.length) { skip(broken.map((d) => d.message).join('; ')); continue; }
      const placeBic = p.placeBic;

      let reference: string, messageId: string, text: string;
      if (opts.format === 'sese023') {
        reference = r.id;
        messageId = newId('msg');
        text = toSese023(o, { messageId, createdAt: now });
      } else {
        const seq = (await c.query<{ n: string }>("SELECT nextval('settlement_instruction_seq')::text AS n")).rows[0]!.n;
        reference = `BO${seq.padStart(10, '0')}`;
        messageId = reference;
        text = toMt54x(o, { reference, senderBic: p.ourBic, receiverBic: placeBic });
      }
      const file = `${r.id}.${opts.format === 'sese023' ? 'xml' : 'fin'}`;
      const tmp = path.join(opts.outDir, `.${file}.tmp`);
      fs.writeFileSync(tmp, text);
      fs.renameSync(tmp, path.join(opts.outDir, file));
      const settlementType = settlementTypeOf(o);
      await c.query(
        `INSERT INTO settlement_instructions (obligation_id, reference, format, message_id, settlement_type, place_bic, file_name, instructed_at, instructed_by, parties)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [r.id, reference, opts.format, messageId, settlementType, placeBic, file, now.toISOString(), actor, JSON.stringify(p)]);
      await c.query("UPDATE settlement_obligations SET status = 'instructed', updated_at = $2, updated_by = $3 WHERE id = $1",
        [r.id, now.toISOString(), actor]);
      result.instructed.push({ obligationId: r.id, reference, messageId, settlementType, file });
    }
    return result;
  });
}

// ---- statuses in --------------------------------------------------------------------------------

export interface AppliedStatus {
  reference: string;
  obligationId: string;
  status: SettlementStatus['status'];
  /** The obligation's status after it. */
  obligationStatus: string;
  /** Settled by this status (signed as the obligation), when it booked anything. */
  settledQuantity?: string;
  settledCash?: string;
  entryKey?: string;
}

export interface ApplyResult {
  received: number;
  /** Statuses applied now. */
  applied: AppliedStatus[];
  /** Statuses applied before (the same message again): nothing changed. */
  duplicates: number;
  /** Rejections by the place of settlement: recorded, the obligation left as it is, to be looked at. */
  rejected: { reference: string; obligationId: string; reasons: string[] }[];
}

interface OpenRow {
  id: string; reference: string; settle_date: string; counterparty: string; symbol: string; currency: string;
  quantity: string; cash: string; settled_quantity: string; settled_cash: string; status: string;
  scale: number; cash_scale: number; place_bic: string;
}

const depositoryOf = (placeBic: string) => `assets:depository:${placeBic === DTC_BIC ? 'dtc' : placeBic.toLowerCase()}`;
const bankOf = (ccy: string) => `assets:bank:settlement:${ccy.toLowerCase()}`;
const streetOf = (cpty: string) => `assets:street:${cpty}`;

function fingerprint(s: SettlementStatus): string {
  return createHash('sha256').update(JSON.stringify([s.format, s.status, s.settledQuantity ?? null, s.settledAmount ?? null,
    s.currency ?? null, s.effectiveDate ?? null, s.reasons ?? []])).digest('hex');
}

/**
 * Apply a status file (any format {@link parseSettlementStatus} reads) to the instructions it
 * names, all in one transaction, all or nothing. Each status quotes our instruction reference.
 * - matched: the obligation is matched (unless it already settled, in part or whole).
 * - settled: what remains of the obligation settles on the effective date (default: the
 *   settlement date) and is booked out of the street side (see the module comment); the status
 *   becomes settled. A settled quantity that is neither the remainder nor the whole is refused.
 * - partially_settled: the settled quantity and amount it reports (this confirmation's part)
 *   are booked and added to settled_quantity / settled_cash; the rest stays open.
 * - failed, or pending with reasons: the obligation is failed and stays open (its age counts
 *   from its settlement date; netting carries what remains forward); what remains moves from the
 *   street side into its fail account (fails.ts), as it does for a partial settlement's rest.
 * A settlement of what had failed takes it out of the fail account first.
 * - unmatched, pending without reasons: recorded, nothing changes. rejected: recorded and
 *   reported, the obligation left as it is.
 * Idempotent: each status is fingerprinted; the same status again is a duplicate and changes
 * nothing; ledger entries carry the key `settle:<obligation id>:<cumulative settled quantity>`.
 * @throws DomainError SETTLEMENT_STATUS_INVALID / _UNSUPPORTED (the file), SETTLEMENT_STATUS_UNKNOWN_INSTRUCTION
 *   (a reference we never instructed, naming each), SETTLEMENT_STATUS_CONFLICT (a status that
 *   cannot apply, naming each); nothing is applied on any error.
 */
export async function applyStatuses(pool: Pool, text: string, ctx: Partial<SettlementCtx> = {}): Promise<ApplyResult> {
  const statuses = parseSettlementStatus(text);
  const actor = ctx.actor ?? 'system';
  const clock = ctx.clock ?? systemClock;
  const refs = [...new Set(statuses.map((s) => s.reference))];

  return withTx(pool, async (c) => {
    // Fails first, then obligations: the order fail bookings and buy-ins lock in.
    await c.query('SELECT pg_advisory_xact_lock($1)', [FAILS_LOCK]);
    const { rows } = await c.query<OpenRow>(
      `SELECT o.id, i.reference, o.settle_date::text AS settle_date, o.counterparty, o.symbol, o.currency, o.quantity::text AS quantity,
              o.cash::text AS cash, o.settled_quantity::text AS settled_quantity, o.settled_cash::text AS settled_cash, o.status,
              s.scale, a.scale AS cash_scale, i.place_bic
         FROM settlement_instructions i JOIN settlement_obligations o ON o.id = i.obligation_id
         JOIN securities s ON s.symbol = o.symbol JOIN assets a ON a.code = o.currency
        WHERE i.reference = ANY($1)
        ORDER BY o.id FOR UPDATE OF o`, [refs]);
    const byRef = new Map(rows.map((r) => [r.reference, r]));
    const unknown: ErrorDetail[] = statuses.filter((s) => !byRef.has(s.reference)).map((s) => ({
      record: s.reference, field: 'reference', rule: 'KNOWN_INSTRUCTION',
      message: `${s.format} status ${s.status} names instruction ${s.reference}, which we never sent`,
    }));
    if (unknown.length) {
      throw new DomainError(LifecycleCodes.STATUS_UNKNOWN_INSTRUCTION, 'not_found',
        `${unknown.length} status(es) name an instruction we never sent; nothing of the file was applied. First: ${unknown[0]!.message}`, unknown);
    }

    const seen = await c.query<{ obligation_id: string; fingerprint: string }>(
      'SELECT obligation_id, fingerprint FROM settlement_status_events WHERE obligation_id = ANY($1)', [rows.map((r) => r.id)]);
    const applied = new Set(seen.rows.map((r) => `${r.obligation_id}\u0000${r.fingerprint}`));
    const sctx = { actor, clock };
    // Something new in the file: bring the fail accounts up to date (fails carried into a later net
    // go back to the street), then settle out of them.
    if (statuses.some((s) => !applied.has(`${byRef.get(s.reference)!.id}\u0000${fingerprint(s)}`))) await carryFailsBack(c, sctx);
    const failRecords = await failRecordsIn(c, rows.map((r) => r.id));

    // Work on running copies: several statuses of one file may concern one obligation.
    const state = new Map(rows.map((r) => [r.id, {
      row: r, status: r.status, sq: toMinor(r.settled_quantity, r.scale), sc: BigInt(r.settled_cash),
      q: toMinor(r.quantity, r.scale), cash: BigInt(r.cash),
    }]));
    const result: ApplyResult = { received: statuses.length, applied: [], duplicates: 0, rejected: [] };
    const conflicts: ErrorDetail[] = [];
    const entries: EntryInput[] = [];
    const events: unknown[][] = [];
    const now = clock.now().toISOString();

    for (const s of statuses) {
      const r = byRef.get(s.reference)!;
      const st = state.get(r.id)!;
      const fp = fingerprint(s);
      const k = `${r.id}\u0000${fp}`;
      if (applied.has(k)) { result.duplicates++; continue; }
      applied.add(k);
      const conflict = (field: string, rule: string, message: string) =>
        conflicts.push({ record: s.reference, field, rule, message: `status ${s.status} of ${s.reference} (obligation ${r.id}, ${r.counterparty} ${r.symbol} ${r.settle_date}): ${message}` });
      const sign = (v: bigint, like: bigint) => (like < 0n ? -v : v);
      const out: AppliedStatus = { reference: s.reference, obligationId: r.id, status: s.status, obligationStatus: st.status };
      let dq = 0n, dc = 0n, entryKey: string | undefined;

      if (s.status === 'settled' || s.status === 'partially_settled') {
        // Settled already (another confirmation of the same settlement): nothing more to book.
        if (st.status === 'settled') { result.applied.push(out); events.push([r.id, fp, s.format, s.status, null, null, s.effectiveDate ?? null, s.reasons ?? [], null]); continue; }
        const remQ = st.q - st.sq, remC = st.cash - st.sc;
        let reported: bigint | undefined, reportedCash: bigint | undefined;
        try {
          if (s.settledQuantity !== undefined) reported = sign(toMinor(abs(s.settledQuantity), r.scale, 'settled quantity'), st.q);
          if (s.settledAmount !== undefined) reportedCash = sign(toMinor(abs(s.settledAmount), r.cash_scale, 'settled amount'), st.cash);
        } catch (e) {
          conflict('settledQuantity', 'SCALE', e instanceof Error ? e.message : String(e));
          continue;
        }
        if (s.currency !== undefined && s.currency !== r.currency && reportedCash !== undefined) {
          conflict('currency', 'CURRENCY', `settled in ${s.currency}, but the obligation is in ${r.currency}`);
          continue;
        }
        if (s.status === 'settled') {
          // The whole remainder settles; a reported quantity must be it (or the whole obligation).
          if (reported !== undefined && reported !== remQ && reported !== st.q) {
            conflict('settledQuantity', 'REMAINDER', `reports ${fromMinor(reported, r.scale)} settled, but ${fromMinor(remQ, r.scale)} remained of ${fromMinor(st.q, r.scale)}`);
            continue;
          }
          dq = remQ; dc = remC;
          st.status = 'settled';
        } else {
          if (reported === undefined || reported === 0n) { conflict('settledQuantity', 'REQUIRED', 'a partial settlement must say how much settled'); continue; }
          const absGt = (a: bigint, b: bigint) => (a < 0n ? -a : a) > (b < 0n ? -b : b);
          if (absGt(reported, remQ)) {
            conflict('settledQuantity', 'MORE_THAN_OWED', `reports ${fromMinor(reported, r.scale)} settled, but only ${fromMinor(remQ, r.scale)} remained`);
            continue;
          }
          if (remC !== 0n && reportedCash === undefined) { conflict('settledAmount', 'REQUIRED', 'a partial settlement against payment must say how much cash settled'); continue; }
          if (reportedCash !== undefined && absGt(reportedCash, remC)) {
            conflict('settledAmount', 'MORE_THAN_OWED', `reports ${fromMinor(reportedCash, r.cash_scale)} ${r.currency} settled, but only ${fromMinor(remC, r.cash_scale)} remained`);
            continue;
          }
          dq = reported; dc = reportedCash ?? 0n;
          st.status = reported === remQ && dc === remC ? 'settled' : 'partially_settled';
        }
        st.sq += dq; st.sc += dc;
        const date = s.effectiveDate ?? r.settle_date;
        entryKey = `settle:${r.id}:${fromMinor(st.sq, r.scale)}`;
        const postings = [];
        const street = streetOf(r.counterparty);
        // What has failed sits in the fail account: the settlement takes from there first.
        const fail = failRecords.get(r.id);
        const open = fail?.status === 'open';
        const fq = open ? takeFromFail(fail.quantity, dq) : 0n;
        const fc = open ? takeFromFail(fail.cash, dc) : 0n;
        if (dq !== 0n) {
          postings.push({ account: depositoryOf(r.place_bic), asset: r.symbol, amount: fromMinor(dq, r.scale) });
          if (dq !== fq) postings.push({ account: street, asset: r.symbol, amount: fromMinor(-(dq - fq), r.scale) });
          if (fq !== 0n) postings.push({ account: fail!.account, asset: r.symbol, amount: fromMinor(-fq, r.scale) });
        }
        if (dc !== 0n) {
          postings.push({ account: bankOf(r.currency), asset: r.currency, amount: fromMinor(dc, r.cash_scale) });
          if (dc !== fc) postings.push({ account: street, asset: r.currency, amount: fromMinor(-(dc - fc), r.cash_scale) });
          if (fc !== 0n) postings.push({ account: fail!.account, asset: r.currency, amount: fromMinor(-fc, r.cash_scale) });
        }
        if (fail && (fq !== 0n || fc !== 0n)) {
          fail.quantity -= fq; fail.cash -= fc; fail.dirty = true;
          if (fail.quantity === 0n && fail.cash === 0n) Object.assign(fail, { status: 'closed', closedOn: date, closedBy: 'settled' });
        }
        if (postings.length) {
          entries.push({
            key: entryKey, date,
            memo: `settlement ${s.status === 'settled' ? 'of' : 'in part of'} ${r.id}: ${fromMinor(dq, r.scale)} ${r.symbol} against ${fromMinor(dc, r.cash_scale)} ${r.currency} with ${r.counterparty}`,
            postings,
          });
        } else entryKey = undefined;
        out.settledQuantity = fromMinor(dq, r.scale);
        out.settledCash = fromMinor(dc, r.cash_scale);
      } else if (s.status === 'matched') {
        if (st.status === 'instructed' || st.status === 'failed' || st.status === 'pending') st.status = 'matched';
      } else if (s.status === 'failed' || (s.status === 'pending' && s.reasons?.length)) {
        if (st.status !== 'settled') st.status = 'failed';
      } else if (s.status === 'rejected') {
        result.rejected.push({ reference: s.reference, obligationId: r.id, reasons: s.reasons ?? [] });
      }
      out.obligationStatus = st.status;
      if (entryKey) out.entryKey = entryKey;
      result.applied.push(out);
      events.push([r.id, fp, s.format, s.status, dq !== 0n ? fromMinor(dq, r.scale) : null, dc !== 0n ? dc.toString() : null,
        s.effectiveDate ?? null, s.reasons ?? [], entryKey ?? null]);
    }
    if (conflicts.length) {
      throw new DomainError(LifecycleCodes.STATUS_CONFLICT, 'conflict',
        `${conflicts.length} status(es) cannot apply; nothing of the file was applied. First: ${conflicts[0]!.message}`, conflicts);
    }

    if (entries.length) {
      await openSettlementAccounts(c, entries, sctx);
      await postEntriesIn(c, entries, sctx, 'all');
    }
    await saveFailRecords(c, failRecords.values(), sctx);
    for (const st of state.values()) {
      const r = st.row;
      if (st.status === r.status && st.sq === toMinor(r.settled_quantity, r.scale) && st.sc === BigInt(r.settled_cash)) continue;
      await c.query('UPDATE settlement_obligations SET status = $2, settled_quantity = $3, settled_cash = $4, updated_at = $5, updated_by = $6 WHERE id = $1',
        [r.id, st.status, fromMinor(st.sq, r.scale), st.sc.toString(), now, actor]);
    }
    for (const e of events) {
      await c.query(
        `INSERT INTO settlement_status_events (obligation_id, fingerprint, format, status, settled_quantity, settled_cash, effective_date, reasons, entry_key, applied_at, applied_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, [...e, now, actor]);
    }
    // A failed (or partly settled) obligation's remainder moves into its fail account now.
    const failing = [...state.values()].filter((st) => (st.status === 'failed' || st.status === 'partially_settled') && (st.status !== st.row.status || st.sq !== toMinor(st.row.settled_quantity, st.row.scale) || st.sc !== BigInt(st.row.settled_cash)));
    if (failing.length) await bookFailsIn(c, { asOf: null, ids: failing.map((st) => st.row.id) }, sctx);
    return result;
  });
}

/** The instruction of an obligation, if sent, with the parties it was sent with (null for instructions sent before they were kept). */
export async function getInstruction(pool: Pool | Client, obligationId: string): Promise<InstructedObligation & {
  format: InstructionFormat; placeBic: string; instructedAt: string; parties: InstructionParties | null;
} | undefined> {
  const { rows } = await pool.query(
    `SELECT obligation_id, reference, message_id, settlement_type, file_name, format, place_bic, instructed_at, parties FROM settlement_instructions WHERE obligation_id = $1`, [obligationId]);
  const r = rows[0];
  return r ? {
    obligationId: r.obligation_id, reference: r.reference, messageId: r.message_id, settlementType: r.settlement_type, file: r.file_name,
    format: r.format, placeBic: r.place_bic, instructedAt: new Date(r.instructed_at).toISOString(), parties: r.parties ?? null,
  } : undefined;
}

// ---- command line -------------------------------------------------------------------------------

const defaultCtx = (): SettlementCtx => ({ actor: `cli:${os.userInfo().username}`, clock: systemClock });

/**
 * Registers `settlement instruct` and `settlement status import` (under an existing `settlement`
 * command if the program has one). Errors are thrown as DomainError for the program's handler.
 * --our-bic defaults to $BACKOFFICE_BIC; --safekeeping-account to $BACKOFFICE_SAFEKEEPING_ACCOUNT.
 */
/** Defaults from the configuration (BACKOFFICE_BIC, BACKOFFICE_SAFEKEEPING_ACCOUNT), read once by the caller. */
export interface InstructDefaults { ourBic?: string; safekeepingAccount?: string }

export function lifecycleCommands(program: Command, withDb: WithDb, print: Print, context: () => SettlementCtx = defaultCtx, defaults: () => InstructDefaults = () => ({})): Command {
  const settlement = program.commands.find((c) => c.name() === 'settlement')
    ?? program.command('settlement').description('clearing and settlement: netting, obligations, instructions, fails');

  settlement.command('instruct')
    .description('write one settlement instruction per pending obligation of a date that moves securities (DVP/RVP against cash, '
      + 'free of payment otherwise) into a directory, and mark them instructed; obligations instructed before are not rewritten. '
      + 'Parties come from the standing settlement instructions (settlement ssi); once counterparty SSIs are loaded, an obligation '
      + 'without one is skipped with the reason (SETTLEMENT_SSI_MISSING)')
    .requiredOption('--settle-date <date>', 'settlement date, YYYY-MM-DD')
    .requiredOption('--format <format>', 'sese023 (ISO 20022, .xml) or mt54x (SWIFT MT540-543, .fin)')
    .requiredOption('--out <dir>', 'directory the instruction files go to')
    .option('--our-bic <bic>', 'our BIC where the firm has no SSI for the market (default $BACKOFFICE_BIC)')
    .option('--place-bic <bic>', 'place of settlement where no SSI names one', DTC_BIC)
    .option('--safekeeping-account <account>', 'our safekeeping account where the firm has no SSI (default $BACKOFFICE_SAFEKEEPING_ACCOUNT)')
    .option('--json', 'JSON output: {settleDate, format, instructed: [{obligationId, reference, messageId, settlementType, file}], alreadyInstructed, skipped: [{obligationId, counterparty, security, reason, rule?}]}')
    .action(async (o: { settleDate: string; format: string; out: string; ourBic?: string; placeBic: string; safekeepingAccount?: string; json?: boolean }) => {
      parseDate(o.settleDate, '--settle-date');
      // Our BIC and account come from the firm's SSI for the market; these are for markets without one.
      const ourBic = o.ourBic ?? defaults().ourBic;
      const account = o.safekeepingAccount ?? defaults().safekeepingAccount;
      if (o.format !== 'sese023' && o.format !== 'mt54x') throw new DomainError(LifecycleCodes.ARGUMENT_INVALID, 'invalid', `--format "${o.format}" must be sese023 or mt54x`);
      await withDb(async (db) => {
        const r = await instructObligations(db.pool, o.settleDate, {
          format: o.format as InstructionFormat, outDir: o.out, placeBic: o.placeBic, ...(ourBic ? { ourBic } : {}), ...(account ? { safekeepingAccount: account } : {}),
        }, context());
        print(!!o.json, r, () => [
          `settlement date ${r.settleDate}: ${r.instructed.length} instructed (${r.format}), ${r.alreadyInstructed} instructed before, ${r.skipped.length} skipped`,
          ...r.instructed.map((x) => `  ${x.settlementType} ${x.obligationId} -> ${path.join(o.out, x.file)} (reference ${x.reference})`),
          ...r.skipped.map((x) => `  skipped ${x.obligationId} ${x.counterparty} ${x.security}: ${x.reason}`),
        ].join('\n'));
      });
    });

  const status = settlement.commands.find((c) => c.name() === 'status')
    ?? settlement.command('status').description('settlement statuses from the place of settlement');
  status.command('import')
    .description('apply a status file (sese.024/025 XML, MT544-548, or CSV reference,status,settled_quantity,settled_amount,settle_date,reason): '
      + 'matched, settled (booked out of the street side), partially settled, failed; all or nothing, idempotent')
    .argument('<file>', 'the status file')
    .option('--json', 'JSON output: {received, applied: [{reference, obligationId, status, obligationStatus, settledQuantity?, settledCash?, entryKey?}], duplicates, rejected: [{reference, obligationId, reasons}]}')
    .action(async (file: string, o: { json?: boolean }) => {
      const text = fs.readFileSync(file, 'utf8');
      await withDb(async (db) => {
        const r = await applyStatuses(db.pool, text, context());
        print(!!o.json, r, () => [
          `${r.received} statuses: ${r.applied.length} applied, ${r.duplicates} seen before, ${r.rejected.length} rejected by the place of settlement`,
          ...r.applied.map((x) => `  ${x.reference} ${x.status} -> ${x.obligationStatus}${x.settledQuantity !== undefined ? ` (settled ${x.settledQuantity} against ${x.settledCash})` : ''}`),
          ...r.rejected.map((x) => `  REJECTED ${x.reference} (${x.obligationId}): ${x.reasons.join('; ') || 'no reason given'}`),
        ].join('\n'));
      });
    });
  return settlement;
}
