/**
 * Stock splits and reverse splits (ratio new-for-old: 3-for-2, 1-for-10).
 *
 * Positions are the ledger's (trade-date basis) at the end of the day before the effective date:
 * trades from the effective date on are in new units. Every account holding the security —
 * customers, the depository, the street side (what counterparties still owe us or we owe them) —
 * is adjusted by one entry on the effective date to its quantity x ratio rounded DOWN (toward zero)
 * to whole units of the security, per account ({@link splitQuantity}). The fraction each account
 * loses is paid in cash at the announced price ({@link cashInLieu}: |fraction| x price, half-even
 * to the cent): customers are credited; the depository's fraction is owed to the firm by the
 * depository (`assets:corporate-actions:receivable:<dep>`), a counterparty's by or to it (claims).
 * What this leaves over — the customers' fractions the firm took over less its own fraction at the
 * depository, and the cash it paid for them — is the firm's, in `firm:fractional-shares`.
 *
 * Tax lots follow through trading's lot events: quantity x ratio, unit cost / ratio, acquisition
 * dates kept, the fraction leaving the newest lots as a sale at the cash in lieu.
 */
import type { Client } from '../../db/index.js';
import { Dec, fromMinor, type ErrorDetail } from '../../kernel/index.js';
import { customerLedgerAccounts, getSecurity } from '../../reference/index.js';
import { cashInLieu, splitQuantity } from '../../trading/index.js';
import { isoCurrency } from '../../ledger/index.js';
import type { CorporateAction } from './announcements.js';
import { previewSettlementSide } from './settlement-obligations.js';
import { balancesIn, balancingLeg, dayBefore, holderOf, LEDGER, mergePostings, type HolderLine, type Preview } from './holdings.js';

export async function previewSplit(c: Client, a: CorporateAction, today: string): Promise<Preview> {
  const sec = await getSecurity(c, a.symbol);
  const ccy = sec.currency;
  const cashScale = isoCurrency(ccy)?.scale ?? 2;
  const E = a.effectiveDate!;
  const asOf = dayBefore(E);
  const rn = a.ratioNew!, ro = a.ratioOld!;
  const price = a.cashInLieuPrice;
  const problems: ErrorDetail[] = [];
  const warnings: string[] = [];
  const qty: { account: string; asset: string; amount: string }[] = [];
  const cash: { account: string; asset: string; amount: string }[] = [];
  const customers: HolderLine[] = [];
  const firm: HolderLine[] = [];
  const m = (v: bigint) => fromMinor(v, cashScale);
  let fractionsWithoutPrice = new Dec(0);
  let before = new Dec(0), after = new Dec(0), cilTotal = 0n;

  for (const b of await balancesIn(c, a.symbol, asOf)) {
    if (b.account === LEDGER.fractions) continue; // it takes what is left, below
    const h = holderOf(b.account);
    const bal = new Dec(b.balance);
    const next = splitQuantity(bal, rn, ro, sec.scale);
    const fraction = bal.mul(rn).div(ro).sub(next); // ledger signs: a customer's is negative
    qty.push({ account: b.account, asset: a.symbol, amount: next.sub(bal).toFixed(sec.scale) });
    let cil = 0n;
    let cashAccount: string | undefined;
    if (!fraction.isZero()) {
      if (!price) fractionsWithoutPrice = fractionsWithoutPrice.add(fraction.abs());
      else {
        cil = cashInLieu(fraction, price, cashScale);
        const signed = fraction.isNegative() ? -cil : cil;
        cashAccount = h.kind === 'customer' ? customerLedgerAccounts(h.name).cash
          : h.kind === 'depository' ? LEDGER.receivable(h.name)
            : h.kind === 'counterparty' ? (signed > 0n ? LEDGER.claimReceivable(h.name) : LEDGER.claimPayable(h.name))
              : LEDGER.fractions;
        cash.push({ account: cashAccount, asset: ccy, amount: m(signed) });
      }
    }
    // Owners (customers, the firm) hold a credit; the depository and the street a debit.
    const owner = h.kind === 'customer' || h.kind === 'firm';
    const show = (d: Dec) => (owner ? d.neg() : d).toFixed();
    const line: HolderLine = {
      holderKind: h.kind, holder: h.name, ledgerAccount: b.account, quantity: show(bal), newQuantity: show(next),
      fraction: show(fraction), currency: ccy, cashInLieu: m(cil), ...(cashAccount ? { cashAccount } : {}),
    };
    if (h.kind === 'customer') {
      customers.push(line);
      before = before.add(bal.neg()); after = after.add(next.neg()); cilTotal += cil;
    } else firm.push(line);
  }
  if (fractionsWithoutPrice.gt(0)) {
    problems.push({ record: a.id, field: 'cash_in_lieu_price', rule: 'CASH_IN_LIEU_PRICE_REQUIRED', message: `${a.id}: the split leaves fractions (${fractionsWithoutPrice.toFixed()} ${a.symbol} in all) but the announcement has no cash_in_lieu_price; revise it` });
  }
  const own = balancingLeg(qty, a.symbol, LEDGER.fractions, sec.scale);
  if (own) qty.push(own);
  const paid = balancingLeg(cash, ccy, LEDGER.fractions, cashScale);
  if (paid) cash.push(paid);
  if (own || paid) {
    firm.push({
      holderKind: 'firm', holder: 'fractional shares', ledgerAccount: LEDGER.fractions, quantity: '0',
      newQuantity: own ? new Dec(own.amount).neg().toFixed() : '0', currency: ccy, cashInLieu: paid ? new Dec(paid.amount).neg().toFixed(cashScale) : m(0n), cashAccount: LEDGER.fractions,
    });
    if (own && new Dec(own.amount).lt(0)) warnings.push(`the firm takes over ${new Dec(own.amount).neg().toFixed()} ${a.symbol} of customers' fractions (in ${LEDGER.fractions}): sell them and book the sale against that account`);
  }
  const postings = mergePostings([...qty, ...cash], (asset) => (asset === a.symbol ? sec.scale : cashScale));
  const ratio = `${rn}-for-${ro}`;
  const entries = postings.length >= 2 ? [{
    key: `ca:${a.id}:split`, date: E,
    memo: `${a.kind === 'split' ? 'Split' : 'Reverse split'} ${ratio} of ${a.symbol} effective ${E}${price ? `, fractions paid at ${price} ${ccy}` : ''} (${a.id})`,
    postings,
  }] : [];

  const late = await c.query<{ n: number }>("SELECT count(*)::int AS n FROM trades WHERE symbol = $1 AND status = 'booked' AND trade_date >= $2", [a.symbol, E]);
  if (late.rows[0]!.n) warnings.push(`${late.rows[0]!.n} trade(s) in ${a.symbol} dated on or after ${E} are booked: they must be in post-split units`);
  // Open settlement obligations are converted with the street side (transformation): see settlement-obligations.ts.
  const side = await previewSettlementSide(c, a);
  problems.push(...side.problems);
  const straddle = await c.query<{ n: number }>("SELECT count(*)::int AS n FROM trades WHERE symbol = $1 AND status = 'booked' AND trade_date < $2 AND settle_date >= $2", [a.symbol, E]);
  if (straddle.rows[0]!.n) side.settlement.notes.push(`${straddle.rows[0]!.n} trade(s) in ${a.symbol} traded before ${E} settle on or after it: netting puts them in new units (${ratio}, rounded down per obligation)`);
  return {
    action: a, positionsAsOf: asOf, basis: 'trade', due: today >= E, applied: a.status === 'applied', customers, firm,
    totals: { currency: ccy, quantity: before.toFixed(), newQuantity: after.toFixed(), cashInLieu: m(cilTotal) },
    entries, problems, warnings, settlement: side.settlement,
  };
}
