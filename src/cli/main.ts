import fs from 'node:fs';
import os from 'node:os';
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import { createDb, withTx, type Db } from '../db/index.js';
import { DomainError, exitCodeOf, invalid, loadConfig, ROLES, systemClock, type Config, type Role } from '../kernel/index.js';
import {
  ACCOUNT_TYPES, addAsset, balances, closePeriod, exportHledger, listAccounts, listAssets, openAccount, postEntriesIn,
  reverseEntry, rolledUpBalances, trialBalance, verifyAudit, accountActivity, type AccountType, type EntryInput,
} from '../ledger/index.js';
import { addUser, createToken, getUser, listUsers, setRole } from '../users/index.js';
import { seedDemo, DEMO_PASSWORD, DEMO_USERS } from './demo.js';
import { calendarCommands } from '../calendar/index.js';
import { settlementCommands, matchingCommands, failsCommands, lifecycleCommands, eodCommands, ssiCommands, buyInCommands } from '../settlement/index.js';
import { reconCommands } from '../reconciliation/index.js';
import { closeCommands, corporateActionsCommands } from '../accounting/index.js';

/**
 * The `backoffice` command. Every command opens the database (embedded in --data, or
 * DATABASE_URL), does one thing, and exits with a code by kind of error:
 * 0 ok, 1 unexpected, 2 invalid input, 3 done with quarantined records, 4 not found, 5 conflict,
 * 6 forbidden, 7 unexpected state.
 */

const program = new Command('backoffice')
  .description('Backoffice: the back office of a securities broker-dealer')
  .option('--data <dir>', 'folder of the embedded database (default ./data, or BACKOFFICE_DATA)')
  .showHelpAfterError();

const clock = systemClock;
const actor = () => `cli:${os.userInfo().username}`;
const isTty = () => process.stderr.isTTY === true;

function config(extra: Partial<Config> = {}): Config {
  const o = program.opts<{ data?: string }>();
  return loadConfig(process.env, { ...(o.data ? { dataDir: o.data } : {}), ...extra });
}

async function withDb<T>(fn: (db: Db) => Promise<T>, cfg = config()): Promise<T> {
  const db = await createDb({ dataDir: cfg.dataDir, databaseUrl: cfg.databaseUrl, log: (m) => isTty() && console.error(m) });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

const print = (json: boolean, value: unknown, text: () => string) => {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : text() + '\n');
};

/** A plain table for terminals. */
function table(input: readonly object[], cols: string[], right: string[] = []): string {
  if (!input.length) return '(none)';
  const rows = input as Record<string, string>[];
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: Record<string, string>) => cols.map((c, i) => (right.includes(c) ? (r[c] ?? '').padStart(w[i]!) : (r[c] ?? '').padEnd(w[i]!))).join('  ').trimEnd();
  return [line(Object.fromEntries(cols.map((c) => [c, c]))), cols.map((_, i) => '-'.repeat(w[i]!)).join('  '), ...rows.map(line)].join('\n');
}

/** Entries from a JSON array or JSON lines. @throws DomainError JSON_MALFORMED naming the line */
export function parseEntriesFile(text: string, file: string): EntryInput[] {
  const t = text.trim();
  if (t.startsWith('[')) {
    try {
      return JSON.parse(t);
    } catch (e) {
      throw invalid('JSON_MALFORMED', `${file}: not valid JSON: ${(e as Error).message}`);
    }
  }
  return t.split('\n').flatMap((line, i) => {
    if (!line.trim()) return [];
    try {
      return [JSON.parse(line)];
    } catch (e) {
      throw invalid('JSON_MALFORMED', `${file} line ${i + 1}: not valid JSON: ${(e as Error).message}`);
    }
  });
}

program.command('serve')
  .description('run the server (web UI, API, /docs); seeds a demo firm when the books are empty')
  .option('--port <n>', 'port (default 3000, or PORT)')
  .option('--host <h>', 'address to listen on (default 127.0.0.1)')
  .option('--no-demo', 'do not seed the demo firm')
  .action(async (o: { port?: string; host?: string; demo: boolean }) => {
    const cfg = config({ ...(o.port ? { port: Number(o.port) } : {}), ...(o.host ? { host: o.host } : {}) });
    const db = await createDb({ dataDir: cfg.dataDir, databaseUrl: cfg.databaseUrl, log: (m) => console.log(m) });
    const seeded = o.demo ? await seedDemo(db.pool, clock) : false;
    // Loaded only here: the other commands start faster without the HTTP stack.
    const { buildServer } = await import('../api/index.js');
    const app = await buildServer({ db, config: cfg, clock });
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      await app.close().catch(() => {});
      await db.close();
      process.exit(0);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    const address = await app.listen({ port: cfg.port, host: cfg.host });
    console.log(`Backoffice is running at ${address.replace('127.0.0.1', 'localhost')}  (API docs: ${address}/docs)`);
    console.log(`Database: ${cfg.databaseUrl ? db.where : `embedded PostgreSQL in ${cfg.dataDir}`}`);
    if (seeded) console.log(`Demo firm created. Sign in as "${DEMO_USERS.admin}" with password "${DEMO_PASSWORD}" (users for each role: ${Object.values(DEMO_USERS).join(', ')}).`);
    else console.log(`Demo login (if the demo firm was seeded): ${DEMO_USERS.admin} / ${DEMO_PASSWORD}`);
  });

const ledger = program.command('ledger').description('the double-entry ledger');
const asset = ledger.command('asset').description('assets: currencies and securities');
asset.command('add <code>')
  .description('register an asset (ISO 4217 currencies take their own minor units)')
  .option('--scale <n>', 'decimals of the smallest unit, 0 to 9')
  .option('--name <name>', 'description')
  .option('--json', 'JSON output')
  .action(async (code: string, o: { scale?: string; name?: string; json?: boolean }) => withDb(async (db) => {
    if (o.scale !== undefined && !/^\d$/.test(o.scale)) throw invalid('ASSET_INVALID', `--scale ${o.scale}: a whole number from 0 to 9`);
    const r = await addAsset(db.pool, { code, scale: o.scale === undefined ? undefined : Number(o.scale), name: o.name }, { actor: actor(), clock });
    print(!!o.json, r, () => `${r.created ? 'registered' : 'already registered'}: ${r.asset.code} (${r.asset.kind}, scale ${r.asset.scale})`);
  }));
asset.command('list').option('--json', 'JSON output').action(async (o: { json?: boolean }) => withDb(async (db) => {
  const rows = await listAssets(db.pool);
  print(!!o.json, rows, () => table(rows.map((a) => ({ code: a.code, kind: a.kind, scale: String(a.scale), name: a.name })), ['code', 'kind', 'scale', 'name']));
}));

ledger.command('open <account>')
  .description('open an account in the chart of accounts (e.g. assets:bank:usd)')
  .addOption(new Option('--type <type>', 'account type').choices([...ACCOUNT_TYPES]).makeOptionMandatory())
  .option('--owner <id>', 'owner: a customer account number or "firm"')
  .option('--no-negative', 'its balance may never go negative')
  .option('--json', 'JSON output')
  .action(async (name: string, o: { type: AccountType; owner?: string; negative: boolean; json?: boolean }) => withDb(async (db) => {
    const r = await openAccount(db.pool, { name, type: o.type, owner: o.owner, noNegative: o.negative === false }, { actor: actor(), clock });
    print(!!o.json, r, () => `${r.created ? 'opened' : 'already open'}: ${r.account.name} (${r.account.type}${r.account.noNegative ? ', no negative balance' : ''})`);
  }));

ledger.command('accounts').description('the chart of accounts').option('--prefix <p>').option('--json', 'JSON output')
  .action(async (o: { prefix?: string; json?: boolean }) => withDb(async (db) => {
    const rows = await listAccounts(db.pool, o.prefix);
    print(!!o.json, rows, () => table(rows.map((a) => ({ account: a.name, type: a.type, owner: a.owner ?? '', 'no-negative': a.noNegative ? 'yes' : '' })), ['account', 'type', 'owner', 'no-negative']));
  }));

ledger.command('post')
  .description('post journal entries from a file: a JSON array or JSON lines of {key, date, memo, postings: [{account, asset, amount}]}; all or nothing')
  .requiredOption('--file <f>', 'the entries file ("-" for standard input)')
  .option('--json', 'JSON output: {received, posted, duplicates}')
  .action(async (o: { file: string; json?: boolean }) => {
    const text = o.file === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(o.file, 'utf8');
    const entries = parseEntriesFile(text, o.file);
    if (!Array.isArray(entries)) throw invalid('ENTRIES_INVALID', `${o.file}: expected a JSON array of entries or JSON lines`);
    await withDb(async (db) => {
      const CHUNK = 5000;
      const bar = isTty() && entries.length > CHUNK ? new cliProgress.SingleBar({ format: 'posting [{bar}] {value}/{total} entries', stream: process.stderr }, cliProgress.Presets.shades_classic) : undefined;
      bar?.start(entries.length, 0);
      // One transaction for the whole file, posted in chunks: one bad entry and nothing is written.
      const outcomes = await withTx(db.pool, async (c) => {
        const all = [];
        for (let i = 0; i < entries.length; i += CHUNK) {
          const chunk = entries.slice(i, i + CHUNK);
          try {
            all.push(...(await postEntriesIn(c, chunk, { actor: actor(), clock }, 'all')));
          } catch (e) {
            if (e instanceof DomainError && i > 0) {
              // Entry numbers in messages count from the start of the file, not of the chunk.
              throw new DomainError(e.code, e.kind, e.message.replace(/entry #(\d+)/g, (_, n) => `entry #${Number(n) + i}`),
                e.details.map((d) => ({ ...d, record: d.record?.replace(/entry #(\d+)/, (_, n) => `entry #${Number(n) + i}`), message: d.message.replace(/entry #(\d+)/, (_, n) => `entry #${Number(n) + i}`) })));
            }
            throw e;
          }
          bar?.update(Math.min(i + CHUNK, entries.length));
        }
        return all;
      });
      bar?.stop();
      const summary = { received: entries.length, posted: outcomes.filter((x) => x.status === 'posted').length, duplicates: outcomes.filter((x) => x.status === 'duplicate').length };
      print(!!o.json, summary, () => `${summary.posted} posted, ${summary.duplicates} already posted (unchanged), of ${summary.received} entries`);
    });
  });

ledger.command('balances')
  .description('balances per account and asset')
  .option('--as-of <date>', 'at the end of this business date (default: everything posted)')
  .option('--account <prefix>', 'this account and its sub-accounts')
  .option('--rollup', 'include every parent account with the total of its sub-accounts')
  .option('--json', 'JSON output: [{account, asset, balance}], balance a decimal string')
  .action(async (o: { asOf?: string; account?: string; rollup?: boolean; json?: boolean }) => withDb(async (db) => {
    const rows = await (o.rollup ? rolledUpBalances : balances)(db.pool, { asOf: o.asOf, account: o.account });
    print(!!o.json, rows, () => table(rows, ['account', 'asset', 'balance'], ['balance']));
  }));

ledger.command('trial-balance')
  .description('every account as a debit or a credit, with totals per asset')
  .option('--as-of <date>', 'at the end of this business date')
  .option('--json', 'JSON output: {asOf, rows: [{account, type, asset, debit, credit}], totals: [{asset, debit, credit}]}')
  .action(async (o: { asOf?: string; json?: boolean }) => withDb(async (db) => {
    const tb = await trialBalance(db.pool, o.asOf);
    print(!!o.json, tb, () => table([...tb.rows, ...tb.totals.map((t) => ({ account: 'TOTAL', type: '', ...t }))], ['account', 'type', 'asset', 'debit', 'credit'], ['debit', 'credit']));
  }));

ledger.command('activity <account>')
  .description("an account's postings in one asset with the running balance")
  .requiredOption('--asset <code>')
  .option('--from <date>').option('--to <date>').option('--json', 'JSON output')
  .action(async (account: string, o: { asset: string; from?: string; to?: string; json?: boolean }) => withDb(async (db) => {
    const a = await accountActivity(db.pool, account, o.asset, o);
    print(!!o.json, a, () => `opening ${a.opening}\n${table(a.rows.map((r) => ({ date: r.date, entry: r.entryId, memo: r.memo, amount: r.amount, balance: r.balance })), ['date', 'entry', 'memo', 'amount', 'balance'], ['amount', 'balance'])}\nclosing ${a.closing}`);
  }));

ledger.command('reverse <entryId>')
  .description('reverse an entry with a new entry (idempotent)')
  .option('--date <date>', 'date of the reversal (default today)')
  .option('--memo <memo>').option('--json', 'JSON output')
  .action(async (id: string, o: { date?: string; memo?: string; json?: boolean }) => withDb(async (db) => {
    const e = await reverseEntry(db.pool, id, { actor: actor(), clock }, o);
    print(!!o.json, e, () => `reversal ${e.id} dated ${e.date} reverses ${id}`);
  }));

ledger.command('close')
  .description('close the books through a date: no posting on or before it is accepted any more')
  .requiredOption('--through <date>')
  .option('--json', 'JSON output')
  .action(async (o: { through: string; json?: boolean }) => withDb(async (db) => {
    const r = await closePeriod(db.pool, o.through, { actor: actor(), clock });
    print(!!o.json, r, () => (r.changed ? `books closed through ${r.closedThrough}` : `already closed through ${r.closedThrough}`));
  }));

ledger.command('export')
  .description('export the journal for outside verification')
  .addOption(new Option('--format <f>', 'format').choices(['hledger']).default('hledger'))
  .option('--from <date>', 'first date (an opening-balance entry carries what came before)')
  .option('--to <date>', 'last date')
  .option('--out <file>', 'write to a file (default standard output)')
  .action(async (o: { from?: string; to?: string; out?: string }) => withDb(async (db) => {
    const fd = o.out ? fs.openSync(o.out, 'w') : 1;
    const r = await exportHledger(db.pool, (chunk) => { fs.writeSync(fd, chunk); }, o);
    if (o.out) {
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      console.error(`${r.entries} entries written to ${o.out}`);
    }
  }));

const audit = program.command('audit').description('the audit trail');
audit.command('verify')
  .description('check the hash chain and every audited table; names the first broken record')
  .option('--json', 'JSON output: {ok, checked, firstBroken, problems}')
  .action(async (o: { json?: boolean }) => withDb(async (db) => {
    const bar = isTty() && !o.json ? new cliProgress.SingleBar({ format: 'verifying {value} records', stream: process.stderr }) : undefined;
    bar?.start(0, 0);
    const v = await verifyAudit(db.pool, (n) => bar?.update(n));
    bar?.stop();
    print(!!o.json, v, () => (v.ok ? `audit trail intact: ${v.checked} records checked` : `AUDIT TRAIL BROKEN at ${v.firstBroken!.table} ${v.firstBroken!.id}: ${v.firstBroken!.reason}\n${v.problems.slice(1).map((p) => `  also: ${p.table} ${p.id}: ${p.reason}`).join('\n')}`.trimEnd()));
    if (!v.ok) process.exitCode = 7;
  }));

const user = program.command('user').description('users and roles');
user.command('add <name>')
  .description('add a user; the password comes from standard input with --password-stdin, or is generated and printed once')
  .addOption(new Option('--role <role>').choices([...ROLES]).makeOptionMandatory())
  .option('--password-stdin', 'read the password from standard input')
  .option('--json', 'JSON output')
  .action(async (name: string, o: { role: Role; passwordStdin?: boolean; json?: boolean }) => {
    const generated = !o.passwordStdin;
    const password = o.passwordStdin ? fs.readFileSync(0, 'utf8').replace(/\r?\n$/, '') : (await import('node:crypto')).randomBytes(15).toString('base64url');
    await withDb(async (db) => {
      const u = await addUser(db.pool, { name, role: o.role, password }, { actor: actor(), clock });
      print(!!o.json, { ...u, ...(generated ? { password } : {}) }, () => `user ${u.name} added with role ${u.role}${generated ? `; password (shown once): ${password}` : ''}`);
    });
  });
user.command('role <name> <role>').description("change a user's role").action(async (name: string, role: Role) => withDb(async (db) => {
  const u = await setRole(db.pool, name, role, { actor: actor(), clock });
  console.log(`user ${u.name} now has role ${u.role}`);
}));
user.command('list').option('--json', 'JSON output').action(async (o: { json?: boolean }) => withDb(async (db) => {
  const rows = await listUsers(db.pool);
  print(!!o.json, rows, () => table(rows.map((u) => ({ name: u.name, role: u.role, disabled: u.disabled ? 'yes' : '' })), ['name', 'role', 'disabled']));
}));
user.command('token <name>').description('create a bearer token for a machine acting as this user (shown once)').requiredOption('--label <label>')
  .action(async (name: string, o: { label: string }) => withDb(async (db) => {
    const t = await createToken(db.pool, await getUser(db.pool, name), o.label, clock);
    console.log(t.token);
  }));

const reference = program.command('reference').description('reference data: securities, customer accounts, counterparties, fees');
reference.command('import <kind> <file>')
  .description('import a CSV (securities|accounts|counterparties|fees|prices); all or nothing')
  .option('--json', 'JSON output: {received, created, updated, unchanged}')
  .action(async (kind: string, file: string, o: { json?: boolean }) => importReference(kind, file, !!o.json));
program.command('prices').description('market prices').command('import <file>').description('import closing prices (symbol,date,price)')
  .option('--json', 'JSON output').action(async (file: string, o: { json?: boolean }) => importReference('prices', file, !!o.json));

async function importReference(kind: string, file: string, json: boolean) {
  const { IMPORTERS } = await import('../reference/index.js');
  if (!(kind in IMPORTERS)) throw invalid('KIND_INVALID', `unknown kind "${kind}": one of ${Object.keys(IMPORTERS).join(', ')}`);
  const text = fs.readFileSync(file, 'utf8');
  await withDb(async (db) => {
    const r = await IMPORTERS[kind as keyof typeof IMPORTERS](db.pool, text, file, { actor: actor(), clock });
    print(json, r, () => `${kind}: ${r.created} added, ${r.updated} updated, ${r.unchanged} unchanged, of ${r.received}`);
  });
}

const trades = program.command('trades').description('trade capture');
trades.command('import <file>')
  .description('import executions (FIX 4.2/4.4 ExecutionReports, CSV or JSON): books what it can, quarantines the rest; exit 3 when anything was quarantined')
  .addOption(new Option('--format <f>', 'format (default: detected from the content)').choices(['fix', 'csv', 'json']))
  .option('--source <name>', 'the feed it came from: execution ids are unique per source (default: the format)')
  .option('--json', 'JSON output: {received, booked, duplicates, ignored, quarantined: [{record, reason, id}]}')
  .action(async (file: string, o: { format?: 'fix' | 'csv' | 'json'; source?: string; json?: boolean }) => {
    const { importExecutions } = await import('../trading/index.js');
    const text = fs.readFileSync(file, 'utf8');
    await withDb(async (db) => {
      const bar = isTty() && !o.json ? new cliProgress.SingleBar({ format: 'booking [{bar}] {value}/{total} records', stream: process.stderr }, cliProgress.Presets.shades_classic) : undefined;
      let started = false;
      const r = await importExecutions(db.pool, text, { actor: actor(), clock }, { format: o.format, source: o.source, onProgress: (d, t) => { if (!started) { bar?.start(t, 0); started = true; } bar?.update(d); } });
      bar?.stop();
      print(!!o.json, r, () => [`${r.received} received: ${r.booked} booked, ${r.duplicates} duplicates, ${r.ignored} ignored, ${r.quarantined.length} quarantined`, ...r.quarantined.map((q) => `  quarantined ${q.id}: ${q.reason}`)].join('\n'));
      if (r.quarantined.length) process.exitCode = 3;
    });
  });
trades.command('list')
  .description('trades, newest first')
  .option('--date <d>').option('--account <a>').option('--symbol <s>').option('--status <s>')
  .option('--json', 'JSON output: [{id, execId, account, symbol, side, quantity, price, tradeDate, settleDate, gross, commission, secFee, finraTaf, net, status, ...}]')
  .action(async (o: { date?: string; account?: string; symbol?: string; status?: string; json?: boolean }) => withDb(async (db) => {
    const { listTrades } = await import('../trading/index.js');
    const rows = await listTrades(db.pool, o);
    print(!!o.json, rows, () => table(rows.map((t) => ({ trade: t.id, date: t.tradeDate, settle: t.settleDate + (t.settleProvisional ? '?' : ''), account: t.account, side: t.side, quantity: t.quantity, symbol: t.symbol, price: t.price, net: t.net, status: t.status })), ['trade', 'date', 'settle', 'account', 'side', 'quantity', 'symbol', 'price', 'net', 'status'], ['quantity', 'price', 'net']));
  }));
trades.command('quarantine').description('records that could not be booked').option('--json', 'JSON output')
  .action(async (o: { json?: boolean }) => withDb(async (db) => {
    const { listQuarantine } = await import('../trading/index.js');
    const rows = await listQuarantine(db.pool);
    print(!!o.json, rows, () => table(rows.map((q) => ({ id: q.id, reason: q.reason })), ['id', 'reason']));
  }));
trades.command('retry <id>').description('retry a quarantined record, as it was or corrected').option('--raw <text>', 'the corrected record (a CSV row, a FIX message, a JSON object)').option('--json', 'JSON output')
  .action(async (id: string, o: { raw?: string; json?: boolean }) => withDb(async (db) => {
    const { retryQuarantined } = await import('../trading/index.js');
    const r = await retryQuarantined(db.pool, id, { actor: actor(), clock }, o.raw);
    print(!!o.json, r, () => (r.resolved ? `booked: ${id} resolved` : `still quarantined: ${r.quarantined[0]?.reason}`));
    if (!r.resolved) process.exitCode = 3;
  }));

program.command('positions')
  .description('positions per account and security')
  .option('--account <a>').option('--security <s>').option('--as-of <date>')
  .addOption(new Option('--basis <b>', 'trade date or settlement date').choices(['trade', 'settlement']).default('trade'))
  .option('--json', 'JSON output: [{account, security, quantity, basis, price, marketValue, costBasis, unrealizedPnl, currency}], quantity a decimal string')
  .action(async (o: { account?: string; security?: string; asOf?: string; basis: 'trade' | 'settlement'; json?: boolean }) => withDb(async (db) => {
    const { positions } = await import('../trading/index.js');
    const rows = await positions(db.pool, o);
    print(!!o.json, rows, () => table(rows.map((p) => ({ account: p.account, security: p.security, quantity: p.quantity, price: p.price ?? '', value: p.marketValue ?? '', cost: p.costBasis ?? '', unrealized: p.unrealizedPnl ?? '' })), ['account', 'security', 'quantity', 'price', 'value', 'cost', 'unrealized'], ['quantity', 'price', 'value', 'cost', 'unrealized']));
  }));

program.command('inventory <symbol>')
  .description("the firm's inventory of a security: customer positions and where the firm holds it")
  .option('--as-of <date>').option('--json', 'JSON output: {security, asOf, customers: [{account, quantity}], firm: [{ledgerAccount, quantity}], customerTotal}')
  .action(async (symbol: string, o: { asOf?: string; json?: boolean }) => withDb(async (db) => {
    const { inventory } = await import('../trading/index.js');
    const inv = await inventory(db.pool, symbol, o.asOf);
    print(!!o.json, inv, () => `${table([...inv.customers.map((c) => ({ holder: `customer ${c.account}`, quantity: c.quantity })), ...inv.firm.map((f) => ({ holder: f.ledgerAccount, quantity: f.quantity }))], ['holder', 'quantity'], ['quantity'])}\ncustomers hold ${inv.customerTotal} ${symbol}`);
  }));
program.command('cash <account>')
  .description('cash available to trade in a customer account')
  .option('--json', 'JSON output: {account, type, currency, available, balance}')
  .action(async (account: string, o: { json?: boolean }) => withDb(async (db) => {
    const { cashAvailable } = await import('../trading/index.js');
    const c = await cashAvailable(db.pool, account);
    if (!c) throw new DomainError('CUSTOMER_ACCOUNT_NOT_FOUND', 'not_found', `customer account ${account} is not known`);
    print(!!o.json, c, () => `${c.account} (${c.type}): ${c.available} ${c.currency} available (balance ${c.balance})`);
  }));
program.commands.find((c) => c.name() === 'prices')!.command('latest <symbol>')
  .description('the latest price of a security')
  .option('--as-of <date>').option('--json', 'JSON output: {symbol, date, price, currency}')
  .action(async (symbol: string, o: { asOf?: string; json?: boolean }) => withDb(async (db) => {
    const { latestPrice } = await import('../reference/index.js');
    const p = await latestPrice(db.pool, symbol, o.asOf);
    if (!p) throw new DomainError('PRICE_NOT_FOUND', 'not_found', `no price for ${symbol}${o.asOf ? ` on or before ${o.asOf}` : ''}`);
    print(!!o.json, p, () => `${p.symbol} ${p.price} ${p.currency} on ${p.date}`);
  }));

calendarCommands(program);
settlementCommands(program, withDb, print);
matchingCommands(program, withDb, print);
failsCommands(program, withDb, print);
ssiCommands(program, withDb, print, () => ({ actor: actor(), clock }));
buyInCommands(program, withDb, print, () => ({ actor: actor(), clock }));
lifecycleCommands(program, withDb, print, undefined, () => { const c = config(); return { ourBic: c.firmBic, safekeepingAccount: c.safekeepingAccount }; });
eodCommands(program, withDb, print, () => { const c = config(); return { actor: actor(), clock, dataDir: c.dataDir, ourBic: c.firmBic, safekeepingAccount: c.safekeepingAccount }; });
reconCommands(program, withDb, print, () => ({ actor: actor(), clock }));
corporateActionsCommands(program, withDb, print, () => ({ actor: actor(), clock }));
closeCommands(program, withDb, print, () => ({
  actor: actor(), clock, baseCurrency: config().baseCurrency,
  lookupUser: async (pool, name) => {
    const u = await getUser(pool, name);
    if (u.disabled) throw new DomainError('USER_DISABLED', 'forbidden', `user ${name} is disabled`);
    return { name: u.name, role: u.role };
  },
}));

program.command('migrate').description('create or migrate the database and exit').action(async () => withDb(async (db) => {
  console.log(`database ready: ${db.where}`);
}));

// Usage errors (a missing argument or required option, an unknown option or command) exit 2,
// invalid input, as the README says; commander's own default is 1. Help and --version stay 0.
const usageExit2 = (cmd: Command): void => {
  cmd.exitOverride((err) => process.exit(err.exitCode === 1 ? 2 : err.exitCode));
  cmd.commands.forEach(usageExit2);
};
usageExit2(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  const json = process.argv.includes('--json');
  if (e instanceof DomainError) {
    if (json) process.stderr.write(JSON.stringify({ error: { code: e.code, kind: e.kind, message: e.message, details: e.details } }, null, 2) + '\n');
    else {
      process.stderr.write(`error: ${e.message}\n`);
      for (const d of e.details.slice(e.details.length === 1 ? 1 : 0, 50)) process.stderr.write(`  - ${d.message}\n`);
    }
  } else {
    process.stderr.write(`error: ${(e as Error)?.message ?? String(e)}\n`);
  }
  process.exit(exitCodeOf(e));
});
