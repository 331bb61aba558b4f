/**
 * Cash dividends: who is entitled at the record date, what is withheld, and the payment entry of
 * the pay date.
 *
 * Entitlement (customers): the settlement-date position at the end of the record date (trading's
 * positions, settlement basis): every trade whose contractual settlement date is on or before the
 * record date counts, settled or failed. A customer who bought before the ex-date is entitled even
 * when the street side of the purchase failed; one who sold before it is not, even if our delivery
 * failed.
 *
 * The firm's side (the ledger at the end of the record date): the depository pays on what the
 * firm holds there; a fail to receive (the counterparty still owes us shares it should have
 * delivered by the record date) means the counterparty was paid our dividend and we claim it
 * (market claim receivable); a fail to deliver means we were paid the counterparty's and owe it
 * (claim payable). The fail of a counterparty is its street balance at the record date less the
 * trades with it not due to settle by then (its street side and its fail accounts together); the
 * settlement module's open fails are shown beside
 * each claim. Customers' entitlement = depository + fails (+ the firm's own holding), share for
 * share, because the stock record is double-entry; cents differ only by per-account rounding,
 * which goes to `income:corporate-actions:rounding`.
 *
 * Payment (one entry on the pay date, in the dividend's currency):
 *   customers:<acct>:cash                       - net (gross - tax)
 *   liabilities:tax:withholding:<src>:<res>     - tax
 *   assets:corporate-actions:receivable:<dep>   + the depository's payment
 *   assets:corporate-actions:claims:<cpty>      + claim receivable
 *   liabilities:corporate-actions:claims:<cpty> - claim payable
 *   income:corporate-actions:dividends          - on the firm's own holding
 *   income:corporate-actions:rounding           the rest (cents of rounding)
 * Rounding: gross per account rounded down to the minor unit ({@link dividendAmount}); tax per
 * account rounded half up ({@link withholdingAmount}).
 */
import type { Client, Pool } from '../../db/index.js';
import { Dec, fromMinor, type ErrorDetail } from '../../kernel/index.js';
import { isoCurrency } from '../../ledger/index.js';
import { customerLedgerAccounts, listCustomerAccounts } from '../../reference/index.js';
import { listFails } from '../../settlement/index.js';
import { positions } from '../../trading/index.js';
import type { CorporateAction } from './announcements.js';
import { balancesIn, balancingLeg, holderOf, LEDGER, mergePostings, type HolderLine, type Preview } from './holdings.js';
import { dividendAmount, loadRates, rateFor, withholdingAmount } from './withholding.js';

export async function previewDividend(c: Client, a: CorporateAction, today: string): Promise<Preview> {
  const ccy = a.currency!;
  const scale = isoCurrency(ccy)?.scale ?? 2;
  const R = a.recordDate!;
  const P = a.payDate!;
  const rate = a.rate!;
  const source = a.sourceCountry!;
  const m = (v: bigint) => fromMinor(v, scale);
  const problems: ErrorDetail[] = [];
  const warnings: string[] = [];
  const postings: { account: string; asset: string; amount: string }[] = [];

  // Customers: settlement-date positions at the record date.
  const held = await positions(c, { basis: 'settlement', asOf: R, security: a.symbol });
  const accounts = new Map((await listCustomerAccounts(c)).map((x) => [x.account, x]));
  const rates = await loadRates(c);
  const customers: HolderLine[] = [];
  let grossTotal = 0n, taxTotal = 0n, netTotal = 0n;
  for (const p of held) {
    const acct = accounts.get(p.account);
    const residence = acct?.taxResidency ?? null;
    const gross = dividendAmount(p.quantity, rate, scale);
    let tax = 0n;
    let taxRate: string | null = null;
    if (gross > 0n && residence && residence !== source) {
      const r = rateFor(rates, source, residence, P);
      if (!r) {
        problems.push({ record: p.account, field: 'tax_residency', rule: 'WITHHOLDING_RATE_MISSING', message: `account ${p.account} is resident in ${residence}: no withholding rate of ${source} for ${residence} (nor for *) is in force on ${P}; import the rates first` });
      } else {
        taxRate = r.ratePercent;
        tax = withholdingAmount(gross, r.ratePercent, scale);
      }
    }
    if (!residence) warnings.push(`account ${p.account} has no tax residency recorded: treated as resident in ${source}, nothing withheld`);
    const net = gross - tax;
    const cash = customerLedgerAccounts(p.account).cash;
    customers.push({
      holderKind: 'customer', holder: p.account, ledgerAccount: customerLedgerAccounts(p.account).securities, quantity: p.quantity, residence,
      currency: ccy, gross: m(gross), taxRate, tax: m(tax), net: m(net), cashAccount: cash,
    });
    grossTotal += gross; taxTotal += tax; netTotal += net;
    postings.push({ account: cash, asset: ccy, amount: m(-net) });
    if (tax) postings.push({ account: LEDGER.withholding(source, residence!), asset: ccy, amount: m(-tax) });
    if (gross < 0n) warnings.push(`account ${p.account} is short ${p.quantity.replace('-', '')} ${a.symbol} at the record date: charged ${m(-gross)} ${ccy} in lieu of the dividend`);
  }

  // The firm's side at the record date.
  const firm: HolderLine[] = [];
  const bal = await balancesIn(c, a.symbol, R);
  const pending = new Map((await c.query<{ counterparty: string; q: string }>(
    `SELECT counterparty, sum(CASE WHEN side = 'buy' THEN quantity ELSE -quantity END)::text AS q FROM trades
      WHERE status = 'booked' AND symbol = $1 AND trade_date <= $2 AND settle_date > $2 GROUP BY counterparty`, [a.symbol, R])).rows.map((r) => [r.counterparty, new Dec(r.q)]));
  const street = new Map<string, Dec>();
  for (const [cp, q] of pending) street.set(cp, q.neg());
  const fails = await listFails(c as unknown as Pool, R);
  let firmOwn = new Dec(0);
  for (const b of bal) {
    const h = holderOf(b.account);
    if (h.kind === 'customer') continue;
    if (h.kind === 'counterparty') { street.set(h.name, (street.get(h.name) ?? new Dec(0)).add(b.balance)); continue; }
    if (h.kind === 'depository') {
      const amt = dividendAmount(b.balance, rate, scale);
      firm.push({ holderKind: 'depository', holder: h.name, ledgerAccount: b.account, quantity: new Dec(b.balance).toFixed(), currency: ccy, gross: m(amt), cashAccount: LEDGER.receivable(h.name) });
      postings.push({ account: LEDGER.receivable(h.name), asset: ccy, amount: m(amt) });
      continue;
    }
    // Anything else holding the security is the firm's own (a credit is a holding).
    const own = new Dec(b.balance).neg();
    firmOwn = firmOwn.add(own);
    const amt = dividendAmount(own, rate, scale);
    firm.push({ holderKind: 'firm', holder: b.account, ledgerAccount: b.account, quantity: own.toFixed(), currency: ccy, gross: m(amt), cashAccount: LEDGER.dividendIncome });
    postings.push({ account: LEDGER.dividendIncome, asset: ccy, amount: m(-amt) });
  }
  for (const [cp, fail] of [...street].sort(([x], [y]) => (x < y ? -1 : 1))) {
    if (fail.isZero()) continue;
    const amt = dividendAmount(fail, rate, scale);
    const account = fail.gt(0) ? LEDGER.claimReceivable(cp) : LEDGER.claimPayable(cp);
    // A fail carried into a later date's net is owed there (counted once, under that date).
    const open = fails.fails.filter((f) => f.counterparty === cp && f.security === a.symbol && f.settleDate <= R && f.direction !== 'cash_only' && (!f.carriedInto || f.carriedInto > R))
      .map((f) => ({ obligationId: f.obligationId, settleDate: f.settleDate, remainingQuantity: f.remainingQuantity }));
    const where = bal.filter((b) => holderOf(b.account).kind === 'counterparty' && holderOf(b.account).name === cp).map((b) => b.account);
    firm.push({ holderKind: 'counterparty', holder: cp, ledgerAccount: where.join(', ') || `assets:street:${cp}`, quantity: fail.toFixed(), currency: ccy, gross: m(amt), cashAccount: account, fails: open });
    postings.push({ account, asset: ccy, amount: m(amt) });
    if (!open.length) warnings.push(`${cp} owes ${fail.gt(0) ? 'us' : 'nothing; we owe it'} ${fail.abs().toFixed()} ${a.symbol} past settlement at the record date, but settlement lists no open fail with it (statuses not imported yet?): the claim is ${fail.gt(0) ? 'receivable' : 'payable'} ${m(amt < 0n ? -amt : amt)} ${ccy}`);
  }
  const rounding = balancingLeg(postings, ccy, LEDGER.rounding, scale);
  if (rounding) {
    postings.push(rounding);
    firm.push({ holderKind: 'firm', holder: 'rounding', ledgerAccount: LEDGER.rounding, quantity: '0', currency: ccy, gross: new Dec(rounding.amount).neg().toFixed(scale), cashAccount: LEDGER.rounding });
  }
  const lines = mergePostings(postings, () => scale);
  const entries = lines.length >= 2 ? [{
    key: `ca:${a.id}:dividend`, date: P,
    memo: `Cash dividend ${rate} ${ccy} per share of ${a.symbol}, record date ${R}, paid ${P} (${a.id})`, postings: lines,
  }] : [];
  if (!held.length) warnings.push(`no customer held ${a.symbol} at the record date ${R}`);
  return {
    action: a, positionsAsOf: R, basis: 'settlement', due: today >= P, applied: a.status === 'applied', customers, firm,
    totals: {
      currency: ccy, entitledQuantity: held.reduce((s, p) => s.add(p.quantity), new Dec(0)).add(firmOwn).toFixed(),
      gross: m(grossTotal), tax: m(taxTotal), net: m(netTotal),
      depository: m(firm.filter((f) => f.holderKind === 'depository').reduce((s, f) => s + BigInt(new Dec(f.gross!).mul(new Dec(10).pow(scale)).toFixed(0)), 0n)),
      claimsReceivable: m(firm.filter((f) => f.holderKind === 'counterparty' && !f.gross!.startsWith('-')).reduce((s, f) => s + BigInt(new Dec(f.gross!).mul(new Dec(10).pow(scale)).toFixed(0)), 0n)),
      claimsPayable: m(-firm.filter((f) => f.holderKind === 'counterparty' && f.gross!.startsWith('-')).reduce((s, f) => s + BigInt(new Dec(f.gross!).mul(new Dec(10).pow(scale)).toFixed(0)), 0n)),
      rounding: rounding ? new Dec(rounding.amount).neg().toFixed(scale) : m(0n),
    },
    entries, problems, warnings,
  };
}
