/**
 * The `backoffice corporate-actions ...` commands: import, list, preview, apply, and the
 * withholding rates they use.
 */
import { adjustmentText } from './settlement-obligations.js';
import fs from 'node:fs';
import os from 'node:os';
import { Option, type Command } from 'commander';
import type { Db } from '../../db/index.js';
import { can, Dec, parseDate, systemClock, type Clock, type Permission, type Role } from '../../kernel/index.js';
import { ACTION_KINDS, ANNOUNCEMENT_COLUMNS, importAnnouncements, listActions, type ActionKind, type ActionStatus, type CorporateAction } from './announcements.js';
import { applyAction, previewAction } from './apply.js';
import { corporateActionError } from './errors.js';
import type { HolderLine, Preview } from './holdings.js';
import { importWithholdingRates, loadRates } from './withholding.js';

/** Opens the database, runs `fn`, closes it (the program's own helper). */
export type WithDb = <T>(fn: (db: Db) => Promise<T>) => Promise<T>;
/** Prints `value` as JSON with --json, else `text()`. */
export type Print = (json: boolean, value: unknown, text: () => string) => void;

/** The person named by --as may not do this: not an active user, or the role lacks the permission (exit 6). */
export const CORPORATE_ACTION_NOT_ALLOWED = 'CORPORATE_ACTION_NOT_ALLOWED';

const defaultCtx = () => ({ actor: `cli:${os.userInfo().username}`, clock: systemClock as Clock });

function table(rows: Record<string, string>[], cols: string[], right: string[] = []): string {
  if (!rows.length) return '(none)';
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: Record<string, string>) => cols.map((c, i) => (right.includes(c) ? (r[c] ?? '').padStart(w[i]!) : (r[c] ?? '').padEnd(w[i]!))).join('  ').trimEnd();
  return [line(Object.fromEntries(cols.map((c) => [c, c]))), cols.map((_, i) => '-'.repeat(w[i]!)).join('  '), ...rows.map(line)].join('\n');
}

/** One line per action: what, when. */
export function termsOf(a: CorporateAction): string {
  if (a.kind === 'cash_dividend') return `${a.rate} ${a.currency}/share, ex ${a.exDate}, record ${a.recordDate}, pay ${a.payDate}`;
  if (a.kind === 'symbol_change') return [a.newSymbol && `-> ${a.newSymbol}`, a.newIsin && `ISIN ${a.newIsin}`, a.newCusip && `CUSIP ${a.newCusip}`].filter(Boolean).join(', ') + `, effective ${a.effectiveDate}`;
  return `${a.ratioNew}-for-${a.ratioOld}, effective ${a.effectiveDate}${a.cashInLieuPrice ? `, fractions at ${priceText(a.cashInLieuPrice)}` : ''}`;
}

/** A price for people: at least two decimals (150 -> 150.00), never fewer than it has (12.3456 stays). */
export const priceText = (v: string): string => { const d = new Dec(v); return d.toFixed(Math.max(2, d.decimalPlaces())); };

/** A preview as text: the action, per holder, the firm's side, the entries, problems and warnings. */
export function previewText(p: Preview): string {
  const a = p.action;
  const div = a.kind === 'cash_dividend';
  const holders = (lines: HolderLine[]) => table(lines.map((l) => ({
    holder: l.holderKind === 'customer' ? l.holder : `${l.holderKind} ${l.holder}`, quantity: l.quantity,
    ...(div
      ? { residence: l.residence ?? '', gross: l.gross ?? '', 'tax %': l.taxRate ?? '', tax: l.tax ?? '', net: l.net ?? '', account: l.cashAccount ?? '' }
      : { 'new quantity': l.newQuantity ?? '', fraction: l.fraction ?? '', 'cash in lieu': l.cashInLieu ?? '', symbol: l.newSymbol ?? '' }),
  })), div ? ['holder', 'quantity', 'residence', 'gross', 'tax %', 'tax', 'net', 'account'] : ['holder', 'quantity', 'new quantity', 'fraction', 'cash in lieu', 'symbol'],
  ['quantity', 'gross', 'tax', 'net', 'new quantity', 'fraction', 'cash in lieu']);
  return [
    `${a.id}: ${a.kind} of ${a.symbol}: ${termsOf(a)} — ${p.applied ? `applied ${a.appliedAt} by ${a.appliedBy}${a.appliedEarly ? ' (early)' : ''}` : p.due ? 'due: may be applied' : `not due before ${a.dueDate}`}`,
    `positions as of ${p.positionsAsOf} (${p.basis === 'settlement' ? 'settlement-date' : 'trade-date'} basis)`,
    '', 'customers', holders(p.customers),
    '', "the firm's side", holders(p.firm),
    '', `totals: ${Object.entries(p.totals).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    '', 'entries',
    ...(p.entries.length ? p.entries.flatMap((e) => [`  ${e.key} ${e.date} ${e.memo ?? ''}`, ...e.postings.map((x) => `    ${x.account.padEnd(52)} ${x.amount.padStart(16)} ${x.asset}`)]) : ['  (none)']),
    ...(p.problems.length ? ['', `problems (apply refuses): ${p.problems.length}`, ...p.problems.map((x) => `  ${x.rule}: ${x.message}`)] : []),
    ...(p.settlement && (p.settlement.adjustments.length || p.settlement.notes.length)
      ? ['', `settlement obligations ${p.applied ? 'adjusted' : 'to adjust'}: ${p.settlement.adjustments.length}`,
        ...p.settlement.adjustments.map((x) => `  ${adjustmentText(x)}`), ...p.settlement.notes.map((n) => `  ${n}`)]
      : []),
    ...(p.warnings.length ? ['', 'warnings', ...p.warnings.map((w) => `  ${w}`)] : []),
  ].join('\n');
}

/**
 * Registers `corporate-actions import|list|preview|apply` and `corporate-actions withholding-rates
 * import|list`. Errors are thrown as DomainError for the program's handler (exit codes by kind: a
 * bad file 2, unknown id 4, an applied announcement re-imported with other terms 5, applied before
 * its date or with problems 7; an --as user who may not do it 6).
 */
export function corporateActionsCommands(program: Command, withDb: WithDb, print: Print, context: () => { actor: string; clock: Clock } = defaultCtx): Command {
  const ca = program.command('corporate-actions').description('asset servicing: cash dividends, splits and reverse splits, symbol and identifier changes');

  /**
   * `--as USER`: act as a Backoffice user (checked: active, and its role has `permission`); the
   * audit names that user. Without it, the operating-system user (cli:<name>), unchecked.
   */
  const actorFor = async (db: Db, as: string | undefined, permission: Permission): Promise<{ actor: string; clock: Clock }> => {
    const ctx = context();
    if (as === undefined) return ctx;
    const u = await db.pool.query<{ role: Role; disabled: boolean }>('SELECT role, disabled FROM users WHERE name = $1', [as]);
    const user = u.rows[0];
    if (!user || user.disabled) {
      throw corporateActionError(CORPORATE_ACTION_NOT_ALLOWED, 'forbidden', `--as ${as}: no active user of that name`, [{ field: 'as', rule: 'USER_ACTIVE', message: `--as ${as}: no active user of that name` }]);
    }
    if (!can(user.role, permission)) {
      throw corporateActionError(CORPORATE_ACTION_NOT_ALLOWED, 'forbidden', `--as ${as}: role ${user.role} may not do this (needs ${permission})`, [{ field: 'as', rule: 'PERMISSION', message: `role ${user.role} lacks ${permission}` }]);
    }
    return { ...ctx, actor: as };
  };
  const asOption = () => new Option('--as <user>', 'act as this Backoffice user (checked: active, and its role has corporate-actions.manage; audited under that name; default: the OS user)');

  ca.command('import')
    .description(`import announcements from CSV (columns ${ANNOUNCEMENT_COLUMNS.join(',')}; kind ${ACTION_KINDS.join('|')}); `
      + 'all or nothing, idempotent by id (the same terms again change nothing; an announcement not applied yet may be revised)')
    .argument('<file>', 'the CSV file')
    .addOption(asOption())
    .option('--json', 'JSON output: {received, created, updated, unchanged, ids}')
    .action(async (file: string, o: { as?: string; json?: boolean }) => {
      const text = fs.readFileSync(file, 'utf8');
      await withDb(async (db) => {
        const r = await importAnnouncements(db.pool, text, file, await actorFor(db, o.as, 'corporate-actions.manage'));
        print(!!o.json, r, () => `${r.received} announcements: ${r.created} new, ${r.updated} revised, ${r.unchanged} unchanged`);
      });
    });

  ca.command('list')
    .description('announcements by due date (pay date of a dividend, effective date otherwise)')
    .option('--from <date>', 'with a date (ex, record, pay, effective) on or after')
    .option('--to <date>', 'with a date on or before')
    .option('--symbol <symbol>')
    .option('--status <status>', 'announced or applied')
    .option('--kind <kind>', ACTION_KINDS.join(', '))
    .option('--json', 'JSON output: [{id, kind, symbol, exDate, recordDate, payDate, effectiveDate, rate, currency, sourceCountry, ratioNew, ratioOld, cashInLieuPrice, newSymbol, newIsin, newCusip, newName, description, status, dueDate, ...}]')
    .action(async (o: { from?: string; to?: string; symbol?: string; status?: string; kind?: string; json?: boolean }) => {
      if (o.from) parseDate(o.from, '--from');
      if (o.to) parseDate(o.to, '--to');
      await withDb(async (db) => {
        const rows = await listActions(db.pool, { from: o.from, to: o.to, symbol: o.symbol, status: o.status as ActionStatus | undefined, kind: o.kind as ActionKind | undefined });
        print(!!o.json, rows, () => table(rows.map((a) => ({ due: a.dueDate, id: a.id, kind: a.kind, symbol: a.symbol, terms: termsOf(a), status: a.status })), ['due', 'id', 'kind', 'symbol', 'terms', 'status']));
      });
    });

  ca.command('preview')
    .description('what applying the action does per holder (entitlement, tax, net cash, new quantity, cash in lieu), the firm\'s side and the entries; once applied, what it did')
    .argument('<id>', 'the announcement id')
    .option('--json', 'JSON output: {action, positionsAsOf, basis, due, applied, customers: [holder line], firm: [holder line], totals, entries, problems, warnings}')
    .action(async (id: string, o: { json?: boolean }) => {
      await withDb(async (db) => {
        const p = await previewAction(db.pool, id, context());
        print(!!o.json, p, () => previewText(p));
      });
    });

  ca.command('apply')
    .description('apply the action: post its entries, adjust lots and reference data, record entitlements (audited); on or after its pay or effective date; applying again changes nothing')
    .argument('<id>', 'the announcement id')
    .option('--force', 'pay a dividend before its pay date (only once the record date has passed); splits and symbol changes cannot be forced')
    .addOption(asOption())
    .option('--json', 'JSON output: {applied, alreadyApplied, entryIds, lotsRecomputed, result: preview}')
    .action(async (id: string, o: { force?: boolean; as?: string; json?: boolean }) => {
      await withDb(async (db) => {
        const r = await applyAction(db.pool, id, await actorFor(db, o.as, 'corporate-actions.manage'), { force: !!o.force });
        print(!!o.json, r, () => `${r.alreadyApplied ? `${id} was applied before (${r.result.action.appliedAt}); nothing changed` : `${id} applied: ${r.entryIds.length} entr${r.entryIds.length === 1 ? 'y' : 'ies'} posted (${r.entryIds.join(', ') || 'none'}), lots recomputed for ${r.lotsRecomputed.length} account(s)`}\n\n${previewText(r.result)}`);
      });
    });

  const rates = ca.command('withholding-rates').description('withholding tax on dividends to non-residents, as dated rates');
  rates.command('import')
    .description('import rates from CSV: source_country,residence_country,rate_percent,effective_from (residence * = any country without its own row); all or nothing, idempotent')
    .argument('<file>', 'the CSV file')
    .addOption(asOption())
    .option('--json', 'JSON output: {received, created, updated, unchanged}')
    .action(async (file: string, o: { as?: string; json?: boolean }) => {
      const text = fs.readFileSync(file, 'utf8');
      await withDb(async (db) => {
        const r = await importWithholdingRates(db.pool, text, file, await actorFor(db, o.as, 'corporate-actions.manage'));
        print(!!o.json, r, () => `${r.received} rates: ${r.created} new, ${r.updated} changed, ${r.unchanged} unchanged`);
      });
    });
  rates.command('list')
    .option('--json', 'JSON output: [{sourceCountry, residenceCountry, ratePercent, effectiveFrom}]')
    .action(async (o: { json?: boolean }) => {
      await withDb(async (db) => {
        const r = await loadRates(db.pool);
        print(!!o.json, r, () => table(r.map((x) => ({ source: x.sourceCountry, residence: x.residenceCountry, 'rate %': x.ratePercent, from: x.effectiveFrom })), ['source', 'residence', 'rate %', 'from'], ['rate %']));
      });
    });
  return ca;
}
