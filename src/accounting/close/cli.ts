/**
 * The commands of the accounting close: `close period|status|adjustments ...`, `fx rates
 * import|list`, `fx revalue`, `reports balance-sheet|income-statement`.
 */
import fs from 'node:fs';
import os from 'node:os';
import { Option, type Command } from 'commander';
import type { Db, Pool } from '../../db/index.js';
import { can, parseDate, systemClock, type Clock, type Permission, type Role } from '../../kernel/index.js';
import type { PostingInput } from '../../ledger/index.js';
import {
  approveAdjustment, balanceSheet, closeMonth, closeStatus, importFxRates, incomeStatement, listAdjustments, listFxRates,
  proposeAdjustment, rejectAdjustment, revalueFx, statementCsv, statementText, statementXlsx, type Adjustment, type Statement,
} from './index.js';
import { CloseCodes as C, closeError } from './errors.js';

/** Opens the database, runs `fn`, closes it (the program's own helper). */
export type WithDb = <T>(fn: (db: Db) => Promise<T>) => Promise<T>;
/** Prints `value` as JSON with --json, else `text()`. */
export type Print = (json: boolean, value: unknown, text: () => string) => void;

/** Who runs the commands, the clock, the base currency, and how to find a Backoffice user's role. */
export interface CloseCliContext {
  actor: string;
  clock: Clock;
  baseCurrency: string;
  /** A Backoffice user by name (for --user): their name and role. @throws when unknown or disabled */
  lookupUser?: (pool: Pool, name: string) => Promise<{ name: string; role: Role }>;
}

const defaultCtx = (): CloseCliContext => ({ actor: `cli:${os.userInfo().username}`, clock: systemClock, baseCurrency: 'USD' });

function table(rows: Record<string, string>[], cols: string[], right: string[] = []): string {
  if (!rows.length) return '(none)';
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: Record<string, string>) => cols.map((c, i) => (right.includes(c) ? (r[c] ?? '').padStart(w[i]!) : (r[c] ?? '').padEnd(w[i]!))).join('  ').trimEnd();
  return [line(Object.fromEntries(cols.map((c) => [c, c]))), cols.map((_, i) => '-'.repeat(w[i]!)).join('  '), ...rows.map(line)].join('\n');
}

const adjustmentText = (a: Adjustment) => [
  `${a.id}  ${a.status}  period ${a.period} (corrects ${a.targetDate})  proposed by ${a.proposedBy} ${a.proposedAt}`,
  `  ${a.memo}`,
  ...a.postings.map((p) => `    ${p.account}  ${p.amount} ${p.asset}`),
  ...(a.decidedBy ? [`  ${a.status === 'posted' ? 'approved' : 'rejected'} by ${a.decidedBy} ${a.decidedAt}${a.decisionNote ? `: ${a.decisionNote}` : ''}`] : []),
  ...(a.entryId ? [`  posted as ${a.entryId} dated ${a.postedDate} (key ${a.entryKey})`] : []),
].join('\n');

/** `--posting "ACCOUNT ASSET AMOUNT"`, repeatable. */
function parsePosting(spec: string, prev: PostingInput[] = []): PostingInput[] {
  const parts = spec.trim().split(/\s+/);
  if (parts.length !== 3) throw closeError(C.ARGUMENT_INVALID, `--posting "${spec}": expected "ACCOUNT ASSET AMOUNT", e.g. "expenses:clearing-fees USD 12.50"`);
  return [...prev, { account: parts[0]!, asset: parts[1]!, amount: parts[2]! }];
}

async function writeStatement(s: Statement, o: { format: string; out?: string; json?: boolean }): Promise<void> {
  const format = o.json ? 'json' : o.format;
  let data: string | Buffer;
  if (format === 'json') data = JSON.stringify(s, null, 2) + '\n';
  else if (format === 'csv') data = statementCsv(s);
  else if (format === 'xlsx') {
    if (!o.out) throw closeError(C.ARGUMENT_INVALID, '--format xlsx writes a binary file: give --out FILE');
    data = await statementXlsx(s);
  } else data = statementText(s) + '\n';
  if (o.out) {
    fs.writeFileSync(o.out, data);
    const summary = s.statement === 'balance-sheet'
      ? `balance sheet as of ${s.asOf}: assets ${s.totals.assets}, liabilities and equity ${s.totals.liabilitiesAndEquity} ${s.base}${s.check.balanced ? ' (balanced)' : ` NOT BALANCED by ${s.check.difference}`}`
      : `income statement ${s.from} to ${s.to}: net income ${s.totals.netIncome} ${s.base}`;
    process.stderr.write(`${summary}; written to ${o.out}\n`);
  } else process.stdout.write(data);
  if (s.statement === 'balance-sheet' && !s.check.balanced) process.exitCode = 7;
}

/**
 * Registers the commands of the accounting close on the program (under existing `close`, `fx`
 * and `reports` commands if the program has them). Errors are thrown as DomainError for the
 * program's handler to map to an exit code: invalid input 2, not found 4, conflict 5 (out of
 * order, already decided, a locked rate), forbidden 6 (self-approval, not an approver),
 * unexpected state 7 (a failed close check, a balance sheet that does not balance).
 * @param withDb the program's database helper
 * @param print the program's output helper (JSON with --json)
 * @param context who runs the command, the clock, the base currency, the user lookup for --as (alias --user)
 */
export function closeCommands(program: Command, withDb: WithDb, print: Print, context: () => CloseCliContext = defaultCtx): void {
  const sub = (name: string, description: string) => program.commands.find((c) => c.name() === name) ?? program.command(name).description(description);
  const close = sub('close', 'month-end close and prior-period adjustments');
  const fx = sub('fx', 'exchange rates and FX revaluation');
  const reports = sub('reports', 'financial statements');
  /**
   * The acting person: --as NAME (or its alias --user): a Backoffice user, active, whose role must
   * hold `permission` when one is given (forbidden, exit 6, otherwise). Without it, the CLI actor
   * (`cli:<OS user>`, who has the database itself and is not checked, as in recon).
   */
  const who = async (pool: Pool, o: { as?: string; user?: string }, permission?: Permission): Promise<{ name: string; role: Role | null }> => {
    const ctx = context();
    if (o.as && o.user && o.as !== o.user) throw closeError(C.ARGUMENT_INVALID, `--as ${o.as} and --user ${o.user} name different users: give one`);
    const user = o.as ?? o.user;
    if (!user) return { name: ctx.actor, role: null };
    if (!ctx.lookupUser) throw closeError(C.ARGUMENT_INVALID, '--as cannot be resolved here');
    const u = await ctx.lookupUser(pool, user);
    if (permission && !can(u.role, permission)) throw closeError(C.NOT_ALLOWED, `--as ${u.name}: role ${u.role} may not do this (needs ${permission})`, [], 'forbidden');
    return u;
  };
  /** The same user, required (approve, reject: the decision is a named person's). */
  const named = async (pool: Pool, o: { as?: string; user?: string }, what: string) => {
    if (!o.as && !o.user) throw closeError(C.ARGUMENT_INVALID, `${what} needs the deciding Backoffice user: --as USER`, [{ field: 'as', rule: 'REQUIRED', message: '--as USER is required' }]);
    return (await who(pool, o)) as { name: string; role: Role };
  };
  const asOption = (what: string) => new Option('--as <user>', `the Backoffice user ${what} (checked: active, and its role may do it; default: the operating-system user, cli:<name>, unchecked)`);
  const userAlias = () => new Option('--user <name>', 'the same as --as (kept for scripts)');

  close.command('period <month>')
    .description('close a month (YYYY-MM) through its last day: months close in order, after checks (trial balance balances, audit trail verifies, '
      + 'stored balances match; warnings for FX not revalued and adjustments waiting); records who closed it; idempotent')
    .addOption(asOption('closing it (needs accounting.close)')).addOption(userAlias())
    .option('--json', 'JSON output: {period, closedThrough, closedAt, closedBy, checks: [{name, ok, blocking, detail}], changed}')
    .action(async (month: string, o: { as?: string; user?: string; json?: boolean }) => withDb(async (db) => {
      const ctx = context();
      const actor = (await who(db.pool, o, 'accounting.close')).name;
      const r = await closeMonth(db.pool, month, { ...ctx, actor });
      print(!!o.json, r, () => [
        r.changed ? `${r.period} closed: the books are closed through ${r.closedThrough} (by ${r.closedBy})` : `${r.period} was already closed (through ${r.closedThrough}${r.closedBy ? `, by ${r.closedBy}` : ''}): nothing changed`,
        ...r.checks.map((c) => `  ${c.ok ? 'ok  ' : c.blocking ? 'FAIL' : 'warn'}  ${c.name}: ${c.detail}`),
      ].join('\n'));
    }));

  close.command('status')
    .description('closed through, the month to close next, the closes made, adjustments waiting')
    .option('--json', 'JSON output: {closedThrough, nextPeriod, closes: [{period, closedThrough, closedAt, closedBy, checks}], pendingAdjustments}')
    .action(async (o: { json?: boolean }) => withDb(async (db) => {
      const s = await closeStatus(db.pool);
      print(!!o.json, s, () => [
        `closed through: ${s.closedThrough ?? 'nothing closed'}; next to close: ${s.nextPeriod ?? '-'}; adjustments waiting: ${s.pendingAdjustments}`,
        table(s.closes.map((c) => ({ period: c.period, through: c.closedThrough, by: c.closedBy, at: c.closedAt, warnings: String(c.checks.filter((x) => !x.ok).length) })), ['period', 'through', 'by', 'at', 'warnings']),
      ].join('\n'));
    }));

  const adj = close.command('adjustments').description('adjusting entries for closed periods: one person proposes, another approves');
  adj.command('propose')
    .description('propose an adjusting entry for a closed month; booked only when another person approves')
    .requiredOption('--period <month>', 'the closed month it corrects, YYYY-MM')
    .option('--date <date>', 'the date in that month it belongs to (default: the month-end)')
    .option('--memo <text>', 'what is corrected and why')
    .option('--posting <spec>', 'a posting "ACCOUNT ASSET AMOUNT" (positive debit, negative credit); repeat for each', parsePosting)
    .option('--file <f>', 'or a JSON file {date?, memo, postings: [{account, asset, amount}]}')
    .addOption(asOption('proposing it (needs accounting.close)')).addOption(userAlias())
    .option('--json', 'JSON output: the adjustment {id, period, targetDate, memo, postings, status, proposedBy, ...}')
    .action(async (o: { period: string; date?: string; memo?: string; posting?: PostingInput[]; file?: string; as?: string; user?: string; json?: boolean }) => withDb(async (db) => {
      let body: { date?: string; memo?: string; postings?: PostingInput[] } = {};
      if (o.file) {
        try { body = JSON.parse(fs.readFileSync(o.file, 'utf8')); } catch (e) { throw closeError(C.ARGUMENT_INVALID, `${o.file}: not a JSON object: ${(e as Error).message}`); }
      }
      const proposer = await who(db.pool, o, 'accounting.close');
      const a = await proposeAdjustment(db.pool, {
        period: o.period, date: o.date ?? body.date, memo: o.memo ?? body.memo ?? '', postings: o.posting ?? body.postings ?? [],
      }, { actor: proposer.name, clock: context().clock });
      print(!!o.json, a, () => `proposed ${a.id}; it waits for approval by someone other than ${a.proposedBy}\n${adjustmentText(a)}`);
    }));
  adj.command('approve <id>')
    .description('approve an adjustment someone else proposed, and book it dated the first open day after the close')
    .addOption(new Option('--as <user>', 'the approving Backoffice user (required; needs accounting.approve; not the proposer)')).addOption(userAlias())
    .option('--note <text>', 'a note for the record')
    .option('--json', 'JSON output: the adjustment, with entryId and postedDate')
    .action(async (id: string, o: { as?: string; user?: string; note?: string; json?: boolean }) => withDb(async (db) => {
      const u = await named(db.pool, o, 'approve');
      const a = await approveAdjustment(db.pool, id, u, { clock: context().clock }, o.note);
      print(!!o.json, a, () => `approved and posted\n${adjustmentText(a)}`);
    }));
  adj.command('reject <id>')
    .description('reject an adjustment (nothing is booked)')
    .addOption(new Option('--as <user>', 'the Backoffice user rejecting it (required; needs accounting.approve, or is the proposer withdrawing it)')).addOption(userAlias())
    .requiredOption('--reason <text>', 'why')
    .option('--json', 'JSON output: the adjustment')
    .action(async (id: string, o: { as?: string; user?: string; reason: string; json?: boolean }) => withDb(async (db) => {
      const u = await named(db.pool, o, 'reject');
      const a = await rejectAdjustment(db.pool, id, u, { clock: context().clock }, o.reason);
      print(!!o.json, a, () => `rejected\n${adjustmentText(a)}`);
    }));
  adj.command('list')
    .description('adjustments, newest first')
    .addOption(new Option('--status <s>').choices(['proposed', 'posted', 'rejected']))
    .option('--period <month>')
    .option('--json', 'JSON output: [{id, period, targetDate, memo, postings, status, proposedBy, proposedAt, decidedBy, decidedAt, decisionNote, entryId, postedDate, entryKey}]')
    .action(async (o: { status?: 'proposed' | 'posted' | 'rejected'; period?: string; json?: boolean }) => withDb(async (db) => {
      const rows = await listAdjustments(db.pool, o);
      print(!!o.json, rows, () => (rows.length ? rows.map(adjustmentText).join('\n\n') : '(none)'));
    }));

  const rates = fx.commands.find((c) => c.name() === 'rates') ?? fx.command('rates').description('exchange rates into the base currency');
  rates.command('import <file>')
    .description('import rates from CSV: date,currency,base_currency,rate (1 CURRENCY = rate BASE); all or nothing; idempotent')
    .addOption(asOption('importing them (needs accounting.close)')).addOption(userAlias())
    .option('--json', 'JSON output: {received, created, updated, unchanged}')
    .action(async (file: string, o: { as?: string; user?: string; json?: boolean }) => {
      const text = fs.readFileSync(file, 'utf8');
      await withDb(async (db) => {
        const actor = (await who(db.pool, o, 'accounting.close')).name;
        const r = await importFxRates(db.pool, text, file, { ...context(), actor });
        print(!!o.json, r, () => `rates: ${r.created} added, ${r.updated} corrected, ${r.unchanged} unchanged, of ${r.received}`);
      });
    });
  rates.command('list')
    .description('stored rates, newest first')
    .option('--currency <c>', 'only this currency').option('--from <date>', 'rates dated on or after it').option('--to <date>', 'rates dated on or before it')
    .option('--json', 'JSON output: [{date, currency, base, rate}]')
    .action(async (o: { currency?: string; from?: string; to?: string; json?: boolean }) => withDb(async (db) => {
      const rows = await listFxRates(db.pool, { base: context().baseCurrency, ...o });
      print(!!o.json, rows, () => table(rows.map((r) => ({ date: r.date, currency: r.currency, base: r.base, rate: r.rate })), ['date', 'currency', 'base', 'rate'], ['rate']));
    }));

  fx.command('revalue')
    .description('revalue foreign-currency balances of asset and liability accounts at the rate on or before a date, booking the change of carrying value '
      + 'against income:fx:unrealized; idempotent (a re-run books nothing; a later date books only the difference)')
    .requiredOption('--as-of <date>', 'the revaluation date (a month-end, before closing it)')
    .addOption(asOption('running it (needs accounting.close)')).addOption(userAlias())
    .option('--json', 'JSON output: {asOf, base, lines: [{account, currency, balance, rate, rateDate, historical, bookedBefore, carryingBefore, target, delta, status, entryId}], posted, unchanged, gain}')
    .action(async (o: { asOf: string; as?: string; user?: string; json?: boolean }) => withDb(async (db) => {
      const actor = (await who(db.pool, o, 'accounting.close')).name;
      const r = await revalueFx(db.pool, o.asOf, { ...context(), actor });
      print(!!o.json, r, () => [
        `FX revaluation at ${r.asOf} (${r.base}): ${r.posted} posted, ${r.unchanged} unchanged; net ${r.gain} ${r.base}`,
        table(r.lines.map((l) => ({ account: l.account, currency: l.currency, balance: l.balance, rate: l.rate, 'rate date': l.rateDate, carrying: l.carryingBefore, target: l.target, booked: l.delta, status: l.status })),
          ['account', 'currency', 'balance', 'rate', 'rate date', 'carrying', 'target', 'booked', 'status'], ['balance', 'rate', 'carrying', 'target', 'booked']),
      ].join('\n'));
    }));

  const formatOption = () => new Option('--format <f>', 'output format').choices(['text', 'json', 'csv', 'xlsx']).default('text');
  reports.command('balance-sheet')
    .description('the balance sheet in the base currency: assets, liabilities, equity with earnings, subtotals per account level, and the check that it balances (exit 7 if not)')
    .requiredOption('--as-of <date>', 'at the end of this date')
    .option('--after-adjustments', 'count approved prior-period adjustments on the date they correct')
    .addOption(formatOption())
    .option('--out <file>', 'write to a file (required for xlsx)')
    .option('--json', 'same as --format json: {statement, asOf, base, rows: [{section, kind, account, exact, label, level, amount, native}], totals, check, rates, basis, warnings, notes, adjustments}')
    .action(async (o: { asOf: string; afterAdjustments?: boolean; format: string; out?: string; json?: boolean }) => withDb(async (db) => {
      const s = await balanceSheet(db.pool, { asOf: o.asOf, afterAdjustments: o.afterAdjustments }, context().baseCurrency);
      await writeStatement(s, o);
    }));
  reports.command('income-statement')
    .description('the income statement in the base currency over --from..--to, or the fiscal year (calendar year) to --as-of')
    .option('--from <date>').option('--to <date>')
    .option('--as-of <date>', 'the year to this date')
    .option('--after-adjustments', 'count approved prior-period adjustments on the date they correct')
    .addOption(formatOption())
    .option('--out <file>', 'write to a file (required for xlsx)')
    .option('--json', 'same as --format json: {statement, from, to, base, rows, totals: {income, expenses, netIncome}, rates, basis, warnings, adjustments}')
    .action(async (o: { from?: string; to?: string; asOf?: string; afterAdjustments?: boolean; format: string; out?: string; json?: boolean }) => {
      let from: string;
      let to: string;
      if (o.asOf && !o.from && !o.to) {
        to = parseDate(o.asOf, '--as-of');
        from = `${to.slice(0, 4)}-01-01`;
      } else if (o.from && o.to && !o.asOf) {
        from = o.from;
        to = o.to;
      } else {
        throw closeError(C.ARGUMENT_INVALID, 'give --from and --to, or --as-of (the year to that date)');
      }
      await withDb(async (db) => {
        const s = await incomeStatement(db.pool, { from, to, afterAdjustments: o.afterAdjustments }, context().baseCurrency);
        await writeStatement(s, o);
      });
    });
}

