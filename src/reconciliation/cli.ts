/**
 * The `backoffice recon ...` commands: statements in, links and rules, runs, breaks and what
 * people do with them. `--json` prints the service's result; errors are thrown as DomainError for
 * the program's handler (exit codes by kind). `recon import` exits 3 when a statement was refused.
 */
import fs from 'node:fs';
import os from 'node:os';
import { Option, type Command } from 'commander';
import type { Db } from '../db/index.js';
import { can, parseDate, systemClock, type Permission, type Role } from '../kernel/index.js';
import type { BreakType } from './engine.js';
import { ReconCodes, reconError } from './errors.js';
import {
  approveAdjustment, assignBreak, BREAK_TYPES, commentBreak, getBreak, listBreaks, matchBreaks, pendingAdjustmentOf, proposeAdjustment, rejectAdjustment,
  type BreakList, type BreakView,
} from './breaks.js';
import { linkAccount, listLinks, resolveLink, setRules } from './links.js';
import { runReconciliation, type RunSummary } from './run.js';
import { importStatementFile, listStatements, type ImportResult } from './store.js';
import { getStatementView } from './views.js';
import type { ReconCtx } from './util.js';

/** Opens the database, runs `fn`, closes it (the program's own helper). */
export type WithDb = <T>(fn: (db: Db) => Promise<T>) => Promise<T>;
/** Prints `value` as JSON with --json, else `text()`. */
export type Print = (json: boolean, value: unknown, text: () => string) => void;

const defaultCtx = (): ReconCtx => ({ actor: `cli:${os.userInfo().username}`, clock: systemClock });

function table(rows: Record<string, string>[], cols: string[], right: string[] = []): string {
  if (!rows.length) return '(none)';
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: Record<string, string>) => cols.map((c, i) => (right.includes(c) ? (r[c] ?? '').padStart(w[i]!) : (r[c] ?? '').padEnd(w[i]!))).join('  ').trimEnd();
  return [line(Object.fromEntries(cols.map((c) => [c, c]))), cols.map((_, i) => '-'.repeat(w[i]!)).join('  '), ...rows.map(line)].join('\n');
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw reconError(ReconCodes.ARGUMENT_INVALID, 'invalid', `cannot read ${file}: ${(e as Error).message}`);
  }
}

function readJson(file: string, what: string): unknown {
  try {
    return JSON.parse(readText(file));
  } catch (e) {
    if ((e as { code?: string }).code === ReconCodes.ARGUMENT_INVALID) throw e;
    throw reconError(ReconCodes.ARGUMENT_INVALID, 'invalid', `${what} ${file} is not valid JSON: ${(e as Error).message}`);
  }
}

export function importText(r: ImportResult): string {
  const rows = r.statements.map((s) => ({
    status: s.status, statement: s.statementId + (s.sequence ? `/${s.sequence}` : ''), account: s.account, kind: s.kind, ccy: s.currency ?? '',
    opening: s.opening ?? '', closing: s.closing ?? '', entries: String(s.entries), check: s.check, linked: s.linked ?? 'UNLINKED', id: s.id ?? '',
  }));
  const head = r.duplicateFile ? `${r.file ?? 'file'}: imported before; nothing changed` : `${r.file ?? 'file'}: ${r.statements.length} statement(s), ${r.statements.filter((s) => s.status === 'stored').length} stored, ${r.statements.filter((s) => s.status === 'duplicate').length} duplicate(s), ${r.refused} refused`;
  return [head, table(rows, ['status', 'statement', 'account', 'kind', 'ccy', 'opening', 'closing', 'entries', 'check', 'linked', 'id'], ['opening', 'closing', 'entries'])].join('\n');
}

export function runText(r: RunSummary): string {
  const byRule = Object.entries(r.matched.byRule).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  const byType = Object.entries(r.breaks.byType).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  return [
    `${r.account} -> ${r.ledgerAccount} (${r.kind}), as of ${r.asOf}: ${r.statements} statement(s); looked at ${r.considered.lines} unmatched line(s) and ${r.considered.ours} of ours`,
    `matched: ${r.matched.total} match(es) (${r.matched.lines} line(s), ${r.matched.ours} of ours) by rule: ${byRule}`,
    `breaks: ${r.breaks.found} found, ${r.breaks.unchanged} still open, ${r.breaks.resolved} resolved; open now ${r.breaks.open}: ${byType}`,
    ...r.balances.map((b) => `closing balance ${b.date} (${b.statementId}): theirs ${b.theirs}, ours ${b.ours}, difference ${b.difference}`),
  ].join('\n');
}

const itemsText = (b: BreakView) => [
  ...b.items.theirs.map((l) => `line ${l.statementId}#${l.index} ${l.date ?? ''} ${l.amount}${l.security ? ` ${l.security}` : ''}${l.ourRef ? ` ref ${l.ourRef}` : ''}`),
  ...b.items.ours.map((o) => `entry ${o.entryKey} ${o.date} ${o.amount}`),
  ...(b.asset && !b.items.ours.length ? [`position ${b.asset} ${b.ours ?? ''}`] : []),
].join('; ');

export function breaksText(r: BreakList): string {
  const rows = r.breaks.map((b) => ({
    id: b.id, type: b.type, status: b.resolution ? `${b.status} (${b.resolution})` : b.status, account: b.account, date: b.date, age: String(b.ageDays), unit: b.unit,
    theirs: b.theirs ?? '', ours: b.ours ?? '', difference: b.difference ?? '', assignee: b.assignee ?? '', items: itemsText(b),
  }));
  return [
    `breaks as of ${r.asOf}: ${r.total}${r.total > r.breaks.length ? ` (first ${r.breaks.length} shown)` : ''}`,
    table(rows, ['id', 'type', 'status', 'account', 'date', 'age', 'unit', 'theirs', 'ours', 'difference', 'assignee', 'items'], ['age', 'theirs', 'ours', 'difference']),
    '',
    'open breaks by age (days):',
    table(r.aging.map((a) => ({ bucket: a.bucket, count: String(a.count), types: Object.entries(a.byType).map(([k, v]) => `${k} ${v}`).join(', ') })), ['bucket', 'count', 'types'], ['count']),
  ].join('\n');
}

function breakText(b: Awaited<ReturnType<typeof getBreak>>): string {
  return [
    `break ${b.id}: ${b.type}, ${b.status}${b.resolution ? ` (${b.resolution})` : ''}, account ${b.account}${b.ledgerAccount ? ` -> ${b.ledgerAccount}` : ''}`,
    `date ${b.date}, age ${b.ageDays} day(s); theirs ${b.theirs ?? '-'} ours ${b.ours ?? '-'} ${b.unit}${b.difference ? `, difference ${b.difference}` : ''}`,
    `items: ${itemsText(b)}`,
    `assignee: ${b.assignee ?? '(none)'}${b.pendingAdjustment ? `; adjustment ${b.pendingAdjustment.id} proposed by ${b.pendingAdjustment.proposedBy}, waiting for approval` : ''}`,
    ...(b.entryId ? [`adjusting entry: ${b.entryId}`] : []),
    'history:',
    ...b.history.map((h) => `  ${h.at} ${h.actor} ${h.action} ${JSON.stringify(h.data)}`),
  ].join('\n');
}

/**
 * Registers `recon import|statements|statement|link|links|rules|run|breaks` and
 * `recon break show|assign|comment|match|propose-adjustment|approve|reject`.
 * @param context who runs the command (default: the OS user) and the clock
 */
export function reconCommands(program: Command, withDb: WithDb, print: Print, context: () => ReconCtx = defaultCtx): Command {
  const recon = program.command('recon').description('reconciliation: bank and custodian statements against our books');

  /** `--as USER`: act as a back-office user (checked: active, and the role may do it); else the OS user. */
  const actorFor = async (db: Db, as: string | undefined, permission: Permission): Promise<ReconCtx> => {
    const ctx = context();
    if (!as) return ctx;
    const u = await db.pool.query<{ role: Role; disabled: boolean }>('SELECT role, disabled FROM users WHERE name = $1', [as]);
    const user = u.rows[0];
    if (!user || user.disabled) throw reconError(ReconCodes.NOT_ALLOWED, 'forbidden', `--as ${as}: no active user of that name`);
    if (!can(user.role, permission)) throw reconError(ReconCodes.NOT_ALLOWED, 'forbidden', `--as ${as}: role ${user.role} may not do this (needs ${permission})`);
    return { ...ctx, actor: as };
  };
  const asOption = () => new Option('--as <user>', 'act as this back-office user (checked against its role; default: the OS user)');

  recon.command('import')
    .description('import a statement file: camt.052/053/054, MT940/950, semt.002, MT535, or CSV with --mapping. Each statement\'s arithmetic is '
      + 'checked; a refused statement is not stored (exit 3); a file that does not parse stores nothing; the same file or statement again changes nothing')
    .argument('<file>', 'statement file')
    .option('--mapping <file>', 'CSV column mapping (JSON: {date, amount | credit+debit, reference, ourRef, description, account | accountValue, currency | currencyValue, dateFormat, ...})')
    .option('--json', 'JSON output: {statements: [{id, account, currency, opening, closing, entries, check, status, linked, ...}], refused, duplicateFile}')
    .action(async (file: string, o: { mapping?: string; json?: boolean }) => {
      const text = readText(file);
      const csvMapping = o.mapping ? readJson(o.mapping, 'mapping') as never : undefined;
      await withDb(async (db) => {
        const r = await importStatementFile(db.pool, text, { fileName: file.split('/').pop()!, ...(csvMapping ? { csvMapping } : {}) }, context());
        print(!!o.json, r, () => importText(r));
        if (r.refused) process.exitCode = 3;
      });
    });

  recon.command('statements')
    .description('stored statements, newest first: linked or not, the arithmetic check, lines matched and open breaks')
    .option('--account <account>', 'statement account')
    .option('--unlinked', 'only those of accounts not linked yet')
    .option('--json', 'JSON output')
    .action(async (o: { account?: string; unlinked?: boolean; json?: boolean }) => withDb(async (db) => {
      const rows = await listStatements(db.pool, { ...(o.account ? { account: o.account } : {}), ...(o.unlinked ? { linked: false } : {}) });
      print(!!o.json, rows, () => table(rows.map((s) => ({
        id: s.id, account: s.account, kind: s.kind, format: s.format, statement: s.statementId + (s.sequence ? `/${s.sequence}` : ''), date: s.statementDate ?? '',
        ccy: s.currency ?? '', opening: s.opening ?? '', closing: s.closing ?? '', entries: String(s.entries), matched: String(s.matched), breaks: String(s.openBreaks),
        check: s.check, linked: s.linked ?? 'UNLINKED',
      })), ['id', 'account', 'kind', 'format', 'statement', 'date', 'ccy', 'opening', 'closing', 'entries', 'matched', 'breaks', 'check', 'linked'], ['opening', 'closing', 'entries', 'matched', 'breaks']));
    }));

  recon.command('statement')
    .description('one statement beside our side: its lines and our movements (or positions), with the match or break of each')
    .argument('<id>', 'statement id (rst_...)')
    .option('--json', 'JSON output: {statement, lines, ours, positions}')
    .action(async (id: string, o: { json?: boolean }) => withDb(async (db) => {
      const v = await getStatementView(db.pool, id);
      const m = (x: { match: { id: string; rule: string } | null; breakId: string | null; breakType: string | null }) => (x.match ? `match ${x.match.id} (${x.match.rule})` : x.breakId ? `break ${x.breakId} (${x.breakType})` : '');
      print(!!o.json, v, () => [
        `statement ${v.statement.statementId} of ${v.statement.account} (${v.statement.format}), ${v.statement.statementDate ?? ''}, linked to ${v.statement.linked ?? 'nothing yet'}`,
        table(v.lines.map((l) => ({ '#': String(l.index), date: l.bookingDate ?? '', amount: l.amount, ref: l.ourRef ?? l.servicerRef ?? '', security: l.security ?? '', state: m(l) })), ['#', 'date', 'amount', 'ref', 'security', 'state'], ['amount']),
        '',
        'ours:',
        v.positions.length
          ? table(v.positions.map((p) => ({ asset: p.asset, isin: p.isin ?? '', quantity: p.quantity, state: m(p) })), ['asset', 'isin', 'quantity', 'state'], ['quantity'])
          : table(v.ours.map((x) => ({ date: x.date, amount: x.amount, key: x.entryKey, memo: x.memo, state: m(x) })), ['date', 'amount', 'key', 'memo', 'state'], ['amount']),
      ].join('\n'));
    }));

  recon.command('link')
    .description('link a statement account (IBAN, account id, safekeeping account) to a ledger account (cash) or a ledger account prefix whose '
      + 'per-security balances are the positions (custody, e.g. assets:depository:dtc); its statements are then reconciled. Default rules apply')
    .argument('<statement-account>', 'the account as statements name it')
    .requiredOption('--ledger-account <account>', 'ledger account (cash) or prefix (custody)')
    .option('--asset <code>', 'cash: the ledger asset (default: the statements\' currency)')
    .addOption(new Option('--kind <kind>', 'only when no statement of the account is stored yet').choices(['cash', 'holdings']))
    .addOption(asOption())
    .option('--json', 'JSON output: {statementAccount, kind, ledgerAccount, asset, rules, created}')
    .action(async (account: string, o: { ledgerAccount: string; asset?: string; kind?: 'cash' | 'holdings'; as?: string; json?: boolean }) => withDb(async (db) => {
      const r = await linkAccount(db.pool, { statementAccount: account, ledgerAccount: o.ledgerAccount, ...(o.asset ? { asset: o.asset } : {}), ...(o.kind ? { kind: o.kind } : {}) }, await actorFor(db, o.as, 'recon.manage'));
      print(!!o.json, r, () => `${r.created ? 'linked' : 'already linked'}: ${r.statementAccount} (${r.kind}) -> ${r.ledgerAccount}${r.asset ? ` in ${r.asset}` : ''}; rules: ${r.rules.map((x) => x.rule).join(', ')}`);
    }));

  recon.command('links').description('linked accounts and their rules').option('--json', 'JSON output')
    .action(async (o: { json?: boolean }) => withDb(async (db) => {
      const rows = await listLinks(db.pool);
      print(!!o.json, rows, () => table(rows.map((l) => ({ account: l.statementAccount, kind: l.kind, ledger: l.ledgerAccount, asset: l.asset ?? '', rules: l.rules.map((r) => `${r.rule}${Object.keys(r.params).length ? JSON.stringify(r.params) : ''}`).join(' > ') })), ['account', 'kind', 'ledger', 'asset', 'rules']));
    }));

  recon.command('rules')
    .description('the matching rules of a linked account, in order; --set replaces them from a JSON file: [{"rule": "reference", "params": {"days": 5, '
      + '"amountTolerance": "0.00"}}, {"rule": "amount_date", ...}, {"rule": "one_to_many", "params": {"maxGroup": 5}}, {"rule": "many_to_one"}, {"rule": "reversal"}] '
      + '(custody: [{"rule": "position", "params": {"quantityTolerance": "0"}}])')
    .argument('<account>', 'statement account or linked ledger account')
    .option('--set <file>', 'JSON file with the new rules')
    .addOption(asOption())
    .option('--json', 'JSON output: the link with its rules')
    .action(async (account: string, o: { set?: string; as?: string; json?: boolean }) => withDb(async (db) => {
      const link = o.set ? await setRules(db.pool, account, readJson(o.set, 'rules'), await actorFor(db, o.as, 'recon.manage')) : await resolveLink(db.pool, account);
      print(!!o.json, link, () => link.rules.map((r, i) => `${i + 1}. ${r.rule} ${JSON.stringify(r.params)}`).join('\n'));
    }));

  recon.command('run')
    .description('reconcile a linked account as of a date: statement lines against our postings (or holdings against our positions) by its rules; '
      + 'prints matches by rule and the breaks found. Re-running changes nothing that is already matched')
    .requiredOption('--account <account>', 'statement account or linked ledger account')
    .requiredOption('--date <date>', 'as-of date, YYYY-MM-DD')
    .addOption(asOption())
    .option('--json', 'JSON output: {runId, account, ledgerAccount, kind, asOf, statements, considered, matched: {total, lines, ours, byRule}, breaks: {found, unchanged, resolved, open, byType}, balances}')
    .action(async (o: { account: string; date: string; as?: string; json?: boolean }) => {
      parseDate(o.date, '--date');
      await withDb(async (db) => {
        const r = await runReconciliation(db.pool, o.account, o.date, await actorFor(db, o.as, 'recon.manage'));
        print(!!o.json, r, () => runText(r));
      });
    });

  recon.command('breaks')
    .description('breaks with their items and age, and open breaks by age bucket (0-1, 2-5, 6-15, 16-30, 31-60, 61+ days)')
    .addOption(new Option('--status <status>').choices(['open', 'resolved']))
    .option('--as-of <date>', 'age as of this date (default today); breaks dated later are left out')
    .option('--account <account>', 'statement account or linked ledger account')
    .addOption(new Option('--type <type>').choices([...BREAK_TYPES]))
    .option('--assignee <user>')
    .option('--json', 'JSON output: {asOf, total, breaks: [{id, account, type, status, resolution, date, ageDays, bucket, unit, theirs, ours, difference, items: {theirs, ours}, assignee, ...}], aging: [{bucket, count, byType}]}')
    .action(async (o: { status?: 'open' | 'resolved'; asOf?: string; account?: string; type?: BreakType; assignee?: string; json?: boolean }) => withDb(async (db) => {
      const r = await listBreaks(db.pool, { ...(o.status ? { status: o.status } : {}), ...(o.asOf ? { asOf: o.asOf } : {}), ...(o.account ? { account: o.account } : {}), ...(o.type ? { type: o.type } : {}), ...(o.assignee ? { assignee: o.assignee } : {}) }, context());
      print(!!o.json, r, () => breaksText(r));
    }));

  const brk = recon.command('break').description('work a break: show, assign, comment, match by hand, propose / approve / reject an adjusting entry');
  brk.command('show').argument('<id>').option('--json', 'JSON output: the break with history and adjustments')
    .action(async (id: string, o: { json?: boolean }) => withDb(async (db) => {
      const b = await getBreak(db.pool, id, context());
      print(!!o.json, b, () => breakText(b));
    }));
  brk.command('assign').argument('<id>').argument('[user]', 'back-office user (omit with --none)').option('--none', 'unassign')
    .addOption(asOption()).option('--json', 'JSON output')
    .action(async (id: string, user: string | undefined, o: { none?: boolean; as?: string; json?: boolean }) => withDb(async (db) => {
      if (!user && !o.none) throw reconError(ReconCodes.ARGUMENT_INVALID, 'invalid', 'name the user to assign, or --none');
      const b = await assignBreak(db.pool, id, o.none ? null : user!, await actorFor(db, o.as, 'recon.manage'));
      print(!!o.json, b, () => `break ${b.id} assigned to ${b.assignee ?? 'nobody'}`);
    }));
  brk.command('comment').argument('<id>').argument('<text>').addOption(asOption()).option('--json', 'JSON output')
    .action(async (id: string, text: string, o: { as?: string; json?: boolean }) => withDb(async (db) => {
      const b = await commentBreak(db.pool, id, text, await actorFor(db, o.as, 'recon.manage'));
      print(!!o.json, b, () => `break ${b.id}: ${b.comments} comment(s)`);
    }));
  brk.command('match')
    .description('match by hand: the items of the breaks named become one match (rule manual) and the breaks are resolved')
    .argument('<ids...>', 'one or more breaks of one account').requiredOption('--reason <text>', 'why these items are the same').addOption(asOption()).option('--json', 'JSON output')
    .action(async (ids: string[], o: { reason: string; as?: string; json?: boolean }) => withDb(async (db) => {
      const r = await matchBreaks(db.pool, ids, o.reason, await actorFor(db, o.as, 'recon.manage'));
      print(!!o.json, r, () => r.map((b) => `break ${b.id}: resolved by hand (match ${b.matchId})`).join('\n'));
    }));
  brk.command('propose-adjustment')
    .description('propose an adjusting entry: the reconciled account by the difference (theirs - ours) against an offset account; a second person approves it')
    .argument('<id>').requiredOption('--offset-account <account>', 'the other side (e.g. expenses:bank-charges, a suspense account)')
    .option('--amount <decimal>', 'signed amount on the reconciled account (default: theirs - ours)').option('--date <date>', 'effective date (default: the break\'s date)')
    .option('--memo <text>').option('--account <account>', 'the account adjusted (default: the linked ledger account)').addOption(asOption()).option('--json', 'JSON output: the adjustment')
    .action(async (id: string, o: { offsetAccount: string; amount?: string; date?: string; memo?: string; account?: string; as?: string; json?: boolean }) => withDb(async (db) => {
      const a = await proposeAdjustment(db.pool, id, { offsetAccount: o.offsetAccount, ...(o.amount ? { amount: o.amount } : {}), ...(o.date ? { date: o.date } : {}), ...(o.memo ? { memo: o.memo } : {}), ...(o.account ? { account: o.account } : {}) }, await actorFor(db, o.as, 'recon.manage'));
      print(!!o.json, a, () => `adjustment ${a.id} proposed by ${a.proposedBy} for break ${a.breakId}: ${a.entry.postings.map((p) => `${p.account} ${p.amount} ${p.asset}`).join(', ')} on ${a.entry.date}; waiting for a second person's approval`);
    }));
  brk.command('approve')
    .description('approve an adjustment (not the person who proposed it): the entry is posted and the break resolved')
    .argument('<id>', 'adjustment (radj_...) or its break').addOption(asOption()).option('--json', 'JSON output: {adjustment, break}')
    .action(async (id: string, o: { as?: string; json?: boolean }) => withDb(async (db) => {
      const ctx = await actorFor(db, o.as, 'recon.approve');
      const r = await approveAdjustment(db.pool, await pendingAdjustmentOf(db.pool, id), ctx);
      print(!!o.json, r, () => `adjustment ${r.adjustment.id} approved by ${r.adjustment.decidedBy}: entry ${r.adjustment.entryId} posted; break ${r.break.id} resolved`);
    }));
  brk.command('reject')
    .argument('<id>', 'adjustment (radj_...) or its break').requiredOption('--reason <text>').addOption(asOption()).option('--json', 'JSON output: {adjustment, break}')
    .action(async (id: string, o: { reason: string; as?: string; json?: boolean }) => withDb(async (db) => {
      const ctx = await actorFor(db, o.as, 'recon.approve');
      const r = await rejectAdjustment(db.pool, await pendingAdjustmentOf(db.pool, id), o.reason, ctx);
      print(!!o.json, r, () => `adjustment ${r.adjustment.id} rejected by ${r.adjustment.decidedBy}; break ${r.break.id} stays open`);
    }));
  return recon;
}
