/**
 * Symbol and identifier changes.
 *
 * A new ISIN or CUSIP (same symbol): the security's identifiers change from the effective date,
 * the old ones kept in its history (valid through the day before); positions do not move.
 *
 * A new symbol: the security continues under a new symbol (a new ledger asset with the same terms,
 * taking over the ISIN and CUSIP unless new ones are announced); the old symbol is retired, valid
 * through the day before the effective date. Every account's position in the old symbol at the end
 * of that day — customers, depository, street — moves to the new one by one entry on the
 * effective date (old symbol out, new symbol in, quantity for quantity). Tax lots carry over
 * (trading's symbol_change lot event): same quantities, costs and acquisition dates.
 */
import type { Client } from '../../db/index.js';
import { Dec, type ErrorDetail } from '../../kernel/index.js';
import { getSecurity, identifierChangeProblems } from '../../reference/index.js';
import type { CorporateAction } from './announcements.js';
import { previewSettlementSide } from './settlement-obligations.js';
import { balancesIn, dayBefore, holderOf, type HolderLine, type Preview } from './holdings.js';

export async function previewSymbolChange(c: Client, a: CorporateAction, today: string): Promise<Preview> {
  const E = a.effectiveDate!;
  const asOf = dayBefore(E);
  const sec = await getSecurity(c, a.symbol);
  const problems: ErrorDetail[] = a.status === 'applied' ? [] : (await identifierChangeProblems(c, {
    symbol: a.symbol, effectiveDate: E, newSymbol: a.newSymbol, newIsin: a.newIsin, newCusip: a.newCusip, newName: a.newName,
  })).map((p) => ({ ...p, record: a.id, message: `${a.id}: ${p.message}` }));
  const warnings: string[] = [];
  const customers: HolderLine[] = [];
  const firm: HolderLine[] = [];
  const postings: { account: string; asset: string; amount: string }[] = [];
  const to = a.newSymbol ?? a.symbol;
  let total = new Dec(0);
  for (const b of await balancesIn(c, a.symbol, asOf)) {
    const h = holderOf(b.account);
    const owner = h.kind === 'customer' || h.kind === 'firm';
    const q = (owner ? new Dec(b.balance).neg() : new Dec(b.balance)).toFixed();
    const line: HolderLine = { holderKind: h.kind, holder: h.name, ledgerAccount: b.account, quantity: q, newQuantity: q, newSymbol: to };
    if (h.kind === 'customer') { customers.push(line); total = total.add(q); } else firm.push(line);
    if (a.newSymbol) {
      postings.push({ account: b.account, asset: a.symbol, amount: new Dec(b.balance).neg().toFixed(sec.scale) });
      postings.push({ account: b.account, asset: a.newSymbol, amount: new Dec(b.balance).toFixed(sec.scale) });
    }
  }
  const what = [a.newSymbol && `symbol ${a.symbol} -> ${a.newSymbol}`, a.newIsin && `ISIN ${sec.isin ?? '(none)'} -> ${a.newIsin}`, a.newCusip && `CUSIP ${sec.cusip ?? '(none)'} -> ${a.newCusip}`].filter(Boolean).join(', ');
  const entries = postings.length >= 2 ? [{ key: `ca:${a.id}:symbol-change`, date: E, memo: `Identifier change ${what}, effective ${E} (${a.id})`, postings }] : [];
  if (a.newSymbol) {
    const late = await c.query<{ n: number }>("SELECT count(*)::int AS n FROM trades WHERE symbol = $1 AND status = 'booked' AND trade_date >= $2", [a.symbol, E]);
    if (late.rows[0]!.n) warnings.push(`${late.rows[0]!.n} trade(s) in ${a.symbol} dated on or after ${E} are booked under the old symbol: rebook them in ${a.newSymbol}`);
  }
  // Open settlement obligations move to the new symbol (and so are instructed with the current ISIN): settlement-obligations.ts.
  const side = await previewSettlementSide(c, a);
  if (a.status !== 'applied') problems.push(...side.problems);
  return {
    action: a, positionsAsOf: asOf, basis: 'trade', due: today >= E, applied: a.status === 'applied', customers, firm,
    totals: { quantity: total.toFixed(), change: what },
    entries, problems, warnings, settlement: side.settlement,
  };
}
