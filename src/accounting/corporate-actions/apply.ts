/**
 * Preview and apply a corporate action.
 *
 * `preview` computes, per holder, what the action does (entitlement, tax, net cash, new quantity,
 * cash in lieu), the firm's side and the exact entries apply would post, with the problems that
 * would stop it. `apply` does it: posts the entries (idempotency keys `ca:<id>:<kind>`), records the
 * entitlements, adjusts tax lots (splits, symbol changes) and reference data (symbol changes), brings
 * the open settlement obligations to the new units or symbol (settlement-obligations.ts), marks
 * the action applied and audits it (corporate_action.apply), all in one transaction.
 *
 * When apply may run (the clock's date):
 * - a cash dividend on or after its pay date. `force` pays it early, but only once the record
 *   date has passed (the entitlements are fixed then; the entry is still dated the pay date).
 * - a split or symbol change on or after its effective date, never before: positions could
 *   still change, and the books would show new units before the market does.
 * Applying twice changes nothing: the second time reports `alreadyApplied` and the result of the
 * first. An action whose date lies in a closed period is booked on the first open day after the
 * close (the memo names the date it belongs to); preview warns of it.
 */
import { withTx, type Client, type Pool } from '../../db/index.js';
import crypto from 'node:crypto';
import { dateOf, toMinor, type Clock } from '../../kernel/index.js';
import { appendAudit, closedThrough, lockBooks, postEntriesIn } from '../../ledger/index.js';
import { addDays } from '../close/periods.js';
import { changeSecurityIdentifiersIn } from '../../reference/index.js';
import { applyLotEvent } from '../../trading/index.js';
import { CORPORATE_ACTIONS_LOCK, getAction, type CorporateAction } from './announcements.js';
import { previewDividend } from './dividends.js';
import { CorporateActionCodes as C, corporateActionError } from './errors.js';
import { openAccountsFor, type HolderLine, type Preview } from './holdings.js';
import { previewSplit } from './splits.js';
import { previewSymbolChange } from './symbol-changes.js';
import { applySettlementSide } from './settlement-obligations.js';
import { lockForSecurityEvent } from '../../settlement/index.js';

interface Ctx { actor: string; clock: Clock }

async function compute(c: Client, a: CorporateAction, today: string): Promise<Preview> {
  if (a.kind === 'cash_dividend') return intoOpenPeriod(c, await previewDividend(c, a, today));
  if (a.kind === 'split' || a.kind === 'reverse_split') return intoOpenPeriod(c, await previewSplit(c, a, today));
  return intoOpenPeriod(c, await previewSymbolChange(c, a, today));
}

/**
 * An action processed after its month was closed (a late dividend): its entries are dated the first
 * open day after the close, as a late-processed event is booked, each memo naming the date it
 * belongs to; the preview warns. Entitlements stay those of the record (or effective) date.
 */
async function intoOpenPeriod(c: Client, p: Preview): Promise<Preview> {
  const through = await closedThrough(c);
  if (!through || !p.entries.some((e) => e.date <= through)) return p;
  const open = addDays(through, 1);
  const late = [...new Set(p.entries.filter((e) => e.date <= through).map((e) => e.date))];
  return {
    ...p,
    entries: p.entries.map((e) => (e.date <= through
      ? { ...e, date: open, memo: `${e.memo ?? ''} [belongs to ${e.date}; booked ${open}, the first open day after the close through ${through}]`.trim() }
      : e)),
    warnings: [...p.warnings, `${p.action.id}: dated ${late.join(', ')}, in a closed period (the books are closed through ${through}): apply books it on ${open}, the first open day, the memo naming the date it belongs to`],
  };
}

async function storedResult(c: Pool | Client, a: CorporateAction): Promise<Preview> {
  const { rows } = await c.query<{ applied_result: Preview }>('SELECT applied_result FROM corporate_actions WHERE id = $1', [a.id]);
  return { ...rows[0]!.applied_result, action: a, applied: true };
}

/**
 * What the action does (or, once applied, did), per holder, with the entries.
 * @throws DomainError CORPORATE_ACTION_NOT_FOUND
 */
export async function previewAction(pool: Pool, id: string, ctx: { clock: Clock }): Promise<Preview> {
  return withTx(pool, async (c) => {
    const a = await getAction(c, id);
    if (a.status === 'applied') return storedResult(c, a);
    return compute(c, a, dateOf(ctx.clock.now()));
  });
}

export interface ApplyResult {
  /** True when this call applied it; false when it had been applied before (nothing changed). */
  applied: boolean;
  alreadyApplied: boolean;
  /** Journal entry ids posted (or posted the first time). */
  entryIds: string[];
  /** Accounts whose tax lots were recomputed. */
  lotsRecomputed: string[];
  result: Preview;
}

/**
 * Apply an action (see the module comment for when it may run).
 * @throws DomainError CORPORATE_ACTION_NOT_FOUND; CORPORATE_ACTION_NOT_DUE (unexpected_state) before
 *   its date; CORPORATE_ACTION_CANNOT_APPLY (unexpected_state) with the preview's problems as
 *   details; ledger errors (a closed period...). Nothing is written on any error.
 */
export async function applyAction(pool: Pool, id: string, ctx: Ctx, opts: { force?: boolean } = {}): Promise<ApplyResult> {
  return withTx(pool, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock($1)', [CORPORATE_ACTIONS_LOCK]);
    // The settlement side's locks before the books lock, in settlement's order (no deadlock with a status import).
    await lockForSecurityEvent(c);
    await lockBooks(c);
    const a = await getAction(c, id, true);
    if (a.status === 'applied') {
      const result = await storedResult(c, a);
      const ids = (await c.query<{ id: string }>('SELECT id FROM journal_entries WHERE idempotency_key = ANY($1) ORDER BY seq', [result.entries.map((e) => e.key)])).rows.map((r) => r.id);
      return { applied: false, alreadyApplied: true, entryIds: ids, lotsRecomputed: [], result };
    }
    const today = dateOf(ctx.clock.now());
    let early = false;
    if (today < a.dueDate) {
      if (a.kind !== 'cash_dividend') {
        throw corporateActionError(C.NOT_DUE, 'unexpected_state', `${a.id}: a ${a.kind.replace('_', ' ')} applies on or after its effective date ${a.dueDate} (today is ${today}); positions could still change before then`);
      }
      if (!opts.force) {
        throw corporateActionError(C.NOT_DUE, 'unexpected_state', `${a.id}: the dividend is paid on ${a.dueDate} (today is ${today}); apply on or after it, or force it to pay early once the record date ${a.recordDate} has passed`);
      }
      if (today <= a.recordDate!) {
        throw corporateActionError(C.NOT_DUE, 'unexpected_state', `${a.id}: the record date ${a.recordDate} has not passed (today is ${today}): the entitlements are not fixed yet, even with force`);
      }
      early = true;
    }
    const preview = await compute(c, a, today);
    if (preview.problems.length) {
      throw corporateActionError(C.CANNOT_APPLY, 'unexpected_state',
        `${a.id} cannot be applied: ${preview.problems.length === 1 ? preview.problems[0]!.message : `${preview.problems.length} problems; first: ${preview.problems[0]!.message}`}`, preview.problems);
    }
    // Reference data first: a new symbol is the asset the entry moves positions into.
    if (a.kind === 'symbol_change') {
      await changeSecurityIdentifiersIn(c, {
        symbol: a.symbol, effectiveDate: a.effectiveDate!, newSymbol: a.newSymbol, newIsin: a.newIsin, newCusip: a.newCusip, newName: a.newName, actionId: a.id,
      }, ctx);
    }
    await openAccountsFor(c, preview.entries, ctx);
    const outcomes = preview.entries.length ? await postEntriesIn(c, preview.entries, ctx, 'all') : [];
    const entryIds = outcomes.map((o) => ('id' in o ? o.id : ''));
    let lotsRecomputed: string[] = [];
    const at = ctx.clock.now();
    if (a.kind === 'split' || a.kind === 'reverse_split') {
      lotsRecomputed = await applyLotEvent(c, {
        id: a.id, kind: 'split', symbol: a.symbol, newSymbol: null, effectiveDate: a.effectiveDate!, ratioNew: a.ratioNew, ratioOld: a.ratioOld, cashInLieuPrice: a.cashInLieuPrice,
      }, at);
    } else if (a.kind === 'symbol_change' && a.newSymbol) {
      lotsRecomputed = await applyLotEvent(c, {
        id: a.id, kind: 'symbol_change', symbol: a.symbol, newSymbol: a.newSymbol, effectiveDate: a.effectiveDate!, ratioNew: null, ratioOld: null, cashInLieuPrice: null,
      }, at);
    }
    // Open settlement obligations follow the new units or symbol (after the new security exists).
    if (preview.settlement) await applySettlementSide(c, a, ctx);
    await recordEntitlements(c, a, [...preview.customers, ...preview.firm]);
    const applied: CorporateAction = { ...a, status: 'applied', appliedAt: at.toISOString(), appliedBy: ctx.actor, appliedEarly: early };
    const result: Preview = { ...preview, action: applied, applied: true, due: true };
    await c.query(
      `UPDATE corporate_actions SET status = 'applied', applied_at = $2, applied_by = $3, applied_early = $4, applied_result = $5, updated_at = $2, updated_by = $3
        WHERE id = $1`, [a.id, at.toISOString(), ctx.actor, early, JSON.stringify(result)]);
    await appendAudit(c, [{
      actor: ctx.actor, action: 'corporate_action.apply', entity: 'corporate_actions', entityId: a.id, at,
      data: { kind: a.kind, symbol: a.symbol, dueDate: a.dueDate, early, entries: preview.entries.map((e) => e.key), entryIds, holders: preview.customers.length, totals: preview.totals },
      rowHash: crypto.createHash('sha256').update(JSON.stringify(result)).digest('hex'),
    }]);
    return { applied: true, alreadyApplied: false, entryIds, lotsRecomputed, result };
  });
}

async function recordEntitlements(c: Client, a: CorporateAction, lines: HolderLine[]): Promise<void> {
  if (!lines.length) return;
  const scales = new Map((await c.query<{ code: string; scale: number }>("SELECT code, scale FROM assets WHERE kind = 'currency'")).rows.map((r) => [r.code, r.scale]));
  const toMinorOrNull = (v: string | undefined, ccy: string | undefined) => (v === undefined || !ccy ? null : toMinor(v, scales.get(ccy) ?? 2).toString());
  const R = lines.map((l) => [
    a.id, l.holderKind, l.holder, l.ledgerAccount, l.quantity, l.currency ?? null, toMinorOrNull(l.gross, l.currency), l.taxRate ?? null,
    l.taxRate ? a.sourceCountry : null, toMinorOrNull(l.tax, l.currency), toMinorOrNull(l.net, l.currency), l.newQuantity ?? null, l.fraction ?? null,
    toMinorOrNull(l.cashInLieu, l.currency),
  ]);
  const col = (i: number) => R.map((r) => r[i]);
  await c.query(
    `INSERT INTO corporate_action_entitlements (action_id, holder_kind, holder, ledger_account, quantity, currency, gross, tax_rate, tax_country, tax, net,
       new_quantity, fraction, cash_in_lieu)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::numeric[], $6::text[], $7::numeric[], $8::numeric[], $9::text[],
       $10::numeric[], $11::numeric[], $12::numeric[], $13::numeric[], $14::numeric[])
     ON CONFLICT DO NOTHING`,
    [col(0), col(1), col(2), col(3), col(4), col(5), col(6), col(7), col(8), col(9), col(10), col(11), col(12), col(13)]);
}
