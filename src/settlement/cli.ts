/**
 * The `backoffice settlement ...` commands of netting: `settlement net` and `settlement report`.
 */
import os from 'node:os';
import type { Command } from 'commander';
import type { Db } from '../db/index.js';
import { parseDate, systemClock } from '../kernel/index.js';
import { computeObligations, nettingReport, type SettlementCtx } from './obligations.js';
import type { NettingReport } from './netting.js';

/** Opens the database, runs `fn`, closes it (the program's own helper). */
export type WithDb = <T>(fn: (db: Db) => Promise<T>) => Promise<T>;
/** Prints `value` as JSON with --json, else `text()`. */
export type Print = (json: boolean, value: unknown, text: () => string) => void;

const defaultCtx = (): SettlementCtx => ({ actor: `cli:${os.userInfo().username}`, clock: systemClock });

/** A plain table for terminals. */
function table(rows: Record<string, string>[], cols: string[], right: string[] = []): string {
  if (!rows.length) return '(none)';
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: Record<string, string>) => cols.map((c, i) => (right.includes(c) ? (r[c] ?? '').padStart(w[i]!) : (r[c] ?? '').padEnd(w[i]!))).join('  ').trimEnd();
  return [line(Object.fromEntries(cols.map((c) => [c, c]))), cols.map((_, i) => '-'.repeat(w[i]!)).join('  '), ...rows.map(line)].join('\n');
}

function reportText(r: NettingReport): string {
  const cash = (xs: { currency: string; amount: string }[]) => xs.map((x) => `${x.amount} ${x.currency}`).join(', ') || '0';
  return [
    `gross: ${r.gross.obligations} deliveries against payment (${r.gross.trades} trades, ${r.gross.fails} fails carried), quantity ${r.gross.quantity}, cash ${cash(r.gross.cash)}`,
    `net:   ${r.net.obligations} deliveries, ${r.net.payments} payments, quantity ${r.net.quantity}, cash ${cash(r.net.cash)}`,
    `reduction: obligations ${r.reduction.obligations}%, quantity ${r.reduction.quantity}%${r.reduction.cash.map((c) => `, ${c.currency} ${c.percent}%`).join('')}`,
  ].join('\n');
}

const NET_JSON = 'JSON output: {settleDate, obligations: [{settleDate, counterparty, security, currency, quantity, cash, trades, fails, '
  + 'carriedQuantity, carriedCash, grossQuantity, grossCash, status}], netCash: [{settleDate, counterparty, currency, cash, grossCash, obligations}], '
  + 'report: {gross, net, reduction}, changes: {created, updated, unchanged, removed, carried}}. Quantity: positive to receive, negative to deliver; '
  + 'cash: positive to receive, negative to pay; amounts are decimal strings';

/**
 * Registers `settlement net` and `settlement report` (under an existing `settlement` command if
 * the program has one). Errors are thrown as DomainError for the program's handler to map to an
 * exit code (a date with obligations past pending that would change: 5, conflict).
 * @param withDb the program's database helper
 * @param print the program's output helper (JSON with --json)
 * @param context who runs the command and the clock (default: the OS user, the system clock)
 */
export function settlementCommands(program: Command, withDb: WithDb, print: Print, context: () => SettlementCtx = defaultCtx): Command {
  const settlement = program.commands.find((c) => c.name() === 'settlement')
    ?? program.command('settlement').description('clearing and settlement: netting, obligations, instructions, fails');

  settlement.command('net')
    .description('net the booked trades settling on a date (street side, at execution prices; commissions do not enter), with open fails of '
      + 'earlier dates carried forward, into one obligation per counterparty and security and one net cash amount per counterparty and '
      + 'currency; stores them (idempotent) and prints them with the gross-against-net report')
    .requiredOption('--settle-date <date>', 'settlement date, YYYY-MM-DD')
    .option('--json', NET_JSON)
    .action(async (o: { settleDate: string; json?: boolean }) => {
      parseDate(o.settleDate, '--settle-date');
      await withDb(async (db) => {
        const run = await computeObligations(db.pool, o.settleDate, context());
        print(!!o.json, run, () => [
          `settlement date ${run.settleDate}: ${run.changes.created} created, ${run.changes.updated} updated, ${run.changes.unchanged} unchanged, ${run.changes.removed} removed; ${run.changes.carried} fails carried forward`,
          '',
          'obligations (quantity + receive / - deliver; cash + receive / - pay)',
          table(run.obligations.map((x) => ({ counterparty: x.counterparty, security: x.security, quantity: x.quantity, cash: x.cash, currency: x.currency, trades: String(x.trades), fails: String(x.fails), status: x.status ?? '' })),
            ['counterparty', 'security', 'quantity', 'cash', 'currency', 'trades', 'fails', 'status'], ['quantity', 'cash', 'trades', 'fails']),
          '',
          'net cash per counterparty',
          table(run.netCash.map((x) => ({ counterparty: x.counterparty, currency: x.currency, cash: x.cash })), ['counterparty', 'currency', 'cash'], ['cash']),
          '',
          reportText(run.report),
        ].join('\n'));
      });
    });

  settlement.command('report')
    .description('gross against net obligations of a netted settlement date, and the reduction netting brought')
    .requiredOption('--settle-date <date>', 'settlement date, YYYY-MM-DD')
    .option('--json', 'JSON output: {settleDate, gross: {obligations, trades, fails, quantity, cash: [{currency, amount}]}, net: {obligations, payments, quantity, cash}, reduction: {obligations, quantity, cash: [{currency, percent}]}}')
    .action(async (o: { settleDate: string; json?: boolean }) => {
      parseDate(o.settleDate, '--settle-date');
      await withDb(async (db) => {
        const r = await nettingReport(db.pool, o.settleDate);
        print(!!o.json, r, () => `settlement date ${r.settleDate}\n${reportText(r)}`);
      });
    });

  return settlement;
}
