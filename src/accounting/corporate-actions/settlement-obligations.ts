/**
 * The settlement side of a split or symbol change: the open settlement obligations in the security
 * follow the action when it is applied (settlement's adjustObligationsIn, called by apply), and the
 * preview says beforehand which obligations change and how (settlement's planObligationAdjustments).
 * Why they follow, and how (transformation of pending transactions, per obligation, rounded down):
 * see the corporate-actions section of settlement/obligations.ts. Settlement keeps no copy of the
 * action's terms: it reads a split from trading's lot events, so apply records the lot event
 * (trading's applyLotEvent) before the settlement side, in the same transaction.
 */
import type { Client } from '../../db/index.js';
import type { ErrorDetail } from '../../kernel/index.js';
import { adjustObligationsIn, planObligationAdjustments, type ObligationAdjustment, type SecurityEvent } from '../../settlement/index.js';
import type { CorporateAction } from './announcements.js';

/** What the action does to open settlement obligations (in the preview, and kept with the applied result). */
export interface SettlementSide {
  /** Each open obligation that changes: symbol and quantity before and after (the cash is unchanged). */
  adjustments: ObligationAdjustment[];
  /** What settlement does without changing an obligation (new ISIN on the instructions). */
  notes: string[];
}

/** The settlement event of a split or symbol change; undefined for other kinds. */
export function securityEventOf(a: CorporateAction): SecurityEvent | undefined {
  if (a.kind === 'split' || a.kind === 'reverse_split') {
    return { actionId: a.id, kind: 'split', symbol: a.symbol, effectiveDate: a.effectiveDate!, ratioNew: a.ratioNew, ratioOld: a.ratioOld };
  }
  if (a.kind === 'symbol_change') {
    return { actionId: a.id, kind: 'symbol_change', symbol: a.symbol, newSymbol: a.newSymbol, newIsin: a.newIsin, effectiveDate: a.effectiveDate! };
  }
  return undefined;
}

/** The preview of the settlement side: what will change, and what keeps apply from running. */
export async function previewSettlementSide(c: Client, a: CorporateAction): Promise<{ settlement: SettlementSide; problems: ErrorDetail[] }> {
  const ev = securityEventOf(a);
  if (!ev) return { settlement: { adjustments: [], notes: [] }, problems: [] };
  const plan = await planObligationAdjustments(c, ev);
  return { settlement: { adjustments: plan.adjustments, notes: plan.notes }, problems: plan.problems.map((p) => ({ ...p, message: `${a.id}: ${p.message}` })) };
}

/** Apply the settlement side, in apply's transaction. */
export async function applySettlementSide(c: Client, a: CorporateAction, ctx: { actor: string; clock: SecurityEventClock }): Promise<ObligationAdjustment[]> {
  const ev = securityEventOf(a);
  return ev ? adjustObligationsIn(c, ev, ctx) : [];
}

type SecurityEventClock = Parameters<typeof adjustObligationsIn>[2]['clock'];

/** One line per adjustment, for the preview text. */
export const adjustmentText = (x: ObligationAdjustment): string =>
  `${x.obligationId} ${x.counterparty} settling ${x.settleDate} (${x.status}${x.carriedInto ? `, carried into ${x.carriedInto}` : ''}): ${x.symbol === x.newSymbol ? '' : `${x.symbol} -> ${x.newSymbol}, `}`
  + `quantity ${x.quantity} -> ${x.newQuantity}${x.fraction !== '0' ? ` (fraction ${x.fraction} settled as cash in lieu)` : ''}, cash unchanged`;
