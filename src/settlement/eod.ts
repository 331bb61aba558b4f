/**
 * The end-of-day cycle of one business date, `backoffice eod --date D`:
 *   intake    take in the inbox files waiting (executions *.fix/*.csv/*.json, confirmations*.csv,
 *             statuses status*, *.xml sese.024/025, *.fin MT544-548), each file once; a FIX file
 *             is classified by what it holds, not its name: Confirmations (35=AK) or
 *             AllocationReports (35=AS) are confirmations, ExecutionReports (35=8) executions
 *   book      book the execution files (idempotent by execution id)
 *   match     import the confirmation files and match the confirmations of trade date D
 *   statuses  apply the status files to the instructions they quote
 *   net       net the obligations of D, of the next settlement day, and of every settlement date of
 *             the trades of D
 *   instruct  instruct the pending obligations of those dates, our side from the firm's SSI (party
 *             FIRM) or the configured BIC and account (skipped when there is neither)
 *   report    the day's summary and the open fails as of D
 * Statuses are applied BEFORE netting (not after): a fail reported today is carried into the next
 * settlement date's net; applied after, a re-run would have to re-net a date already instructed
 * with a fail it did not carry, which netting refuses (SETTLEMENT_OBLIGATION_LOCKED).
 *
 * Progress is kept in `eod_runs` (date, step): a step is `started`, then `done` once its work
 * committed; inbox files in `eod_files`. Every step is idempotent on its own, so a re-run of a
 * finished day re-checks every step (nothing changes; they report `already_done`), and a run
 * after a crash anywhere finishes the day with the same books as an uninterrupted run.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import type { Pool } from '../db/index.js';
import { addBusinessDays } from '../calendar/index.js';
import { DomainError, loadConfig, parseDate, systemClock } from '../kernel/index.js';
import { importExecutions, recomputePendingLots } from '../trading/index.js';
import { computeObligations, type SettlementCtx } from './obligations.js';
import { importConfirmations, matchConfirmations } from './matching.js';
import { applyStatuses, instructObligations, type InstructionFormat } from './lifecycle.js';
import { listFails } from './fails.js';
import { isFixText } from './fix-confirmations.js';
import { FIRM_PARTY, listSsis } from './ssi.js';
import type { Print, WithDb } from './cli.js';

export const EOD_STEPS = ['intake', 'book', 'match', 'statuses', 'net', 'instruct', 'report'] as const;
export type StepName = (typeof EOD_STEPS)[number];
export type FileKind = 'executions' | 'confirmations' | 'statuses';

export const EodCodes = {
  /** An eod argument is not usable (date, inbox, format, step name). */
  ARGUMENT_INVALID: 'EOD_ARGUMENT_INVALID',
  /** A step failed; the day can be run again once the cause is fixed. */
  STEP_FAILED: 'EOD_STEP_FAILED',
} as const;

export interface EodOptions {
  /** The folder the day's files wait in. Missing: nothing to take in. */
  inbox: string;
  /** Where instructions go (created when something is instructed). */
  outDir: string;
  /**
   * Our BIC and safekeeping account where the firm has no SSI (party FIRM) for a market. With
   * neither these nor a FIRM SSI in force, the step is skipped.
   */
  ourBic?: string;
  safekeepingAccount?: string;
  placeBic?: string;
  /** Instruction format (default sese023). */
  format?: InstructionFormat;
  /** The market whose settlement calendar gives the next settlement day (default XNYS). */
  market?: string;
  /** Called as each step starts and ends (progress on a terminal). */
  onStep?: (e: { step: StepName; phase: 'start' | 'end'; status?: StepStatus; counts?: Record<string, unknown> }) => void;
  /** FOR TESTS ONLY: throw after this step's work committed, before it is recorded done. */
  crashAfter?: StepName;
  /** FOR TESTS ONLY: throw inside this step after its first file was processed (book, match, statuses). */
  crashDuring?: 'book' | 'match' | 'statuses';
}

export type StepStatus = 'done' | 'already_done' | 'skipped';

export interface StepReport { step: StepName; status: StepStatus; counts: Record<string, unknown> }

export interface FailsSummary { open: number; alerts: number; buckets: { bucket: string; direction: string; count: number }[] }

export interface EodReport {
  date: string;
  steps: StepReport[];
  fails: FailsSummary;
  /** Inbox files refused this run (they are retried by the next run). */
  failedFiles: { name: string; kind: FileKind; error: string }[];
}

/** The fault runEod throws for crashAfter / crashDuring. */
export class InjectedCrash extends Error {
  constructor(where: string) { super(`injected crash ${where}`); this.name = 'InjectedCrash'; }
}

/** The MsgType (35) of every message of a FIX tag=value text, SOH or '|' delimited. */
const MSG_TYPE = /(?:^|[\x01|])35=([^\x01|\r\n]*)/gm;

/**
 * What kind of inbox file this is, or undefined (not ours: left alone). A FIX file (its first
 * meaningful line starts with 8=FIX; see `isFixText`) is known by its messages whatever its name:
 * any Confirmation (35=AK) or AllocationReport (35=AS) makes it confirmations, else
 * ExecutionReports (35=8) make it executions. Other files by name.
 */
export function classify(name: string, text?: unknown): FileKind | undefined {
  const n = name.toLowerCase();
  if (n.startsWith('.')) return undefined;
  if (typeof text === 'string' && isFixText(text)) {
    let executions = false;
    for (const m of text.matchAll(MSG_TYPE)) {
      if (m[1] === 'AK' || m[1] === 'AS') return 'confirmations';
      if (m[1] === '8') executions = true;
    }
    if (executions) return 'executions';
  }
  if (/^confirmations.*\.csv$/.test(n)) return 'confirmations';
  if (n.startsWith('status') || n.endsWith('.xml') || n.endsWith('.fin')) return 'statuses';
  if (/\.(fix|csv|json)$/.test(n)) return 'executions';
  return undefined;
}

interface FileRow { name: string; sha256: string; kind: FileKind; status: 'received' | 'done' | 'failed' }

const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

/**
 * Run the end-of-day cycle of `date`. See the module comment for the steps.
 * @throws DomainError EOD_ARGUMENT_INVALID; EOD_STEP_FAILED (a step threw; details name the step,
 *   the cause is kept); InjectedCrash (tests only)
 */
export async function runEod(pool: Pool, date: string, opts: EodOptions, ctx: Partial<SettlementCtx> = {}): Promise<EodReport> {
  parseDate(date, 'date');
  if (!opts.inbox) throw new DomainError(EodCodes.ARGUMENT_INVALID, 'invalid', 'an inbox folder is required');
  for (const s of [opts.crashAfter, opts.crashDuring]) {
    if (s !== undefined && !EOD_STEPS.includes(s)) throw new DomainError(EodCodes.ARGUMENT_INVALID, 'invalid', `unknown step "${s}"`);
  }
  const actor = ctx.actor ?? 'system';
  const clock = ctx.clock ?? systemClock;
  const sctx: SettlementCtx = { actor, clock };
  const inbox = opts.inbox;
  const market = opts.market ?? 'XNYS';
  const steps: StepReport[] = [];
  const failedFiles: EodReport['failedFiles'] = [];
  let fails: FailsSummary = { open: 0, alerts: 0, buckets: [] };

  const files = async (kind: FileKind) => (await pool.query<FileRow>(
    'SELECT name, sha256, kind, status FROM eod_files WHERE date = $1 AND kind = $2 ORDER BY name COLLATE "C", sha256', [date, kind])).rows;
  const readFile = (f: FileRow) => {
    const buf = fs.readFileSync(path.join(inbox, f.name));
    if (sha(buf) !== f.sha256) throw new DomainError(EodCodes.ARGUMENT_INVALID, 'invalid', `inbox file ${f.name} changed while the day ran`);
    return buf.toString('utf8');
  };
  const finish = async (f: FileRow, status: 'done' | 'failed', result: unknown, error?: string) => {
    await pool.query('UPDATE eod_files SET status = $4, processed_at = $5, result = $6, error = $7 WHERE date = $1 AND name = $2 AND sha256 = $3',
      [date, f.name, f.sha256, status, clock.now(), result === undefined ? null : JSON.stringify(result), error ?? null]);
  };
  /** Process the not-done files of a kind, each once; a refused file is recorded failed and reported. */
  const eachFile = async (kind: FileKind, step: StepName, fn: (text: string, f: FileRow) => Promise<unknown>) => {
    let processed = 0, seen = 0, failed = 0;
    for (const f of await files(kind)) {
      if (f.status === 'done') { seen++; continue; }
      const text = readFile(f);
      try {
        const r = await fn(text, f);
        await finish(f, 'done', r);
        processed++;
      } catch (e) {
        if (!(e instanceof DomainError)) throw e;
        await finish(f, 'failed', undefined, `${e.code}: ${e.message}`);
        failedFiles.push({ name: f.name, kind, error: `${e.code}: ${e.message}` });
        failed++;
      }
      if (opts.crashDuring === step) throw new InjectedCrash(`during ${step} after ${f.name}`);
    }
    return { processed, seenBefore: seen, failed };
  };

  /** The tax lots being recomputed in the background after the book step (see below). */
  let lots: Promise<unknown> | undefined;

  const work: Record<StepName, () => Promise<Record<string, unknown>>> = {
    async intake() {
      const names = fs.existsSync(inbox) ? fs.readdirSync(inbox, { withFileTypes: true }).filter((d) => d.isFile()).map((d) => d.name).sort() : [];
      const counts = { executions: 0, confirmations: 0, statuses: 0, new: 0, ignored: 0 };
      for (const name of names) {
        if (!classify(name)) { counts.ignored++; continue; }
        const buf = fs.readFileSync(path.join(inbox, name));
        const kind = classify(name, buf.toString('utf8'))!;
        counts[kind]++;
        const r = await pool.query(
          `INSERT INTO eod_files (date, name, sha256, kind, status, received_at) VALUES ($1, $2, $3, $4, 'received', $5)
           ON CONFLICT DO NOTHING`, [date, name, sha(buf), kind, clock.now()]);
        counts.new += r.rowCount ?? 0;
      }
      return counts;
    },
    async book() {
      const t = { received: 0, booked: 0, duplicates: 0, ignored: 0, quarantined: 0 };
      const r = await eachFile('executions', 'book', async (text) => {
        // Default source (the format): execution ids are unique per feed, so one resent in another file is a duplicate.
        const x = await importExecutions(pool, text, sctx, { lots: 'later' });
        t.received += x.received; t.booked += x.booked; t.duplicates += x.duplicates; t.ignored += x.ignored; t.quarantined += x.quarantined.length;
        return { received: x.received, booked: x.booked, duplicates: x.duplicates, ignored: x.ignored, quarantined: x.quarantined.map((q) => q.id) };
      });
      return { files: r.processed, filesSeenBefore: r.seenBefore, filesFailed: r.failed, ...t };
    },
    async match() {
      const r = await eachFile('confirmations', 'match', (text, f) => importConfirmations(pool, text, f.name, sctx));
      const m = await matchConfirmations(pool, date, { withResults: false }, sctx);
      return { files: r.processed, filesSeenBefore: r.seenBefore, filesFailed: r.failed, ...m.summary, changes: m.changes };
    },
    async statuses() {
      const t = { received: 0, applied: 0, duplicates: 0, rejected: 0 };
      const r = await eachFile('statuses', 'statuses', async (text) => {
        const x = await applyStatuses(pool, text, sctx);
        t.received += x.received; t.applied += x.applied.length; t.duplicates += x.duplicates; t.rejected += x.rejected.length;
        return { received: x.received, applied: x.applied.length, duplicates: x.duplicates, rejected: x.rejected };
      });
      return { files: r.processed, filesSeenBefore: r.seenBefore, filesFailed: r.failed, ...t };
    },
    async net() {
      const dates = await settleDates();
      const out: Record<string, unknown> = {};
      for (const d of dates) {
        const x = await computeObligations(pool, d, sctx);
        out[d] = { obligations: x.obligations.length, ...x.changes };
      }
      return { dates: out };
    },
    async instruct() {
      const dates = await settleDates();
      const configured = !!opts.ourBic && !!opts.safekeepingAccount;
      if (!configured) {
        // Our side can come from the firm's own SSI: instruct if one is in force on any of the dates.
        let firmSsi = false;
        for (const d of dates) if (!firmSsi && (await listSsis(pool, { party: FIRM_PARTY, asOf: d })).length > 0) firmSsi = true;
        if (!firmSsi) return { skipped: true, reason: 'no BIC or safekeeping account configured, and no SSI of the firm (party FIRM)' };
      }
      const out: Record<string, unknown> = {};
      for (const d of dates) {
        const x = await instructObligations(pool, d, {
          format: opts.format ?? 'sese023', outDir: opts.outDir,
          ...(configured ? { ourBic: opts.ourBic, safekeepingAccount: opts.safekeepingAccount } : {}),
          ...(opts.placeBic ? { placeBic: opts.placeBic } : {}),
        }, sctx);
        out[d] = { instructed: x.instructed.length, alreadyInstructed: x.alreadyInstructed, skipped: x.skipped.length };
      }
      return { dates: out };
    },
    async report() {
      if (lots) { const l = lots; lots = undefined; await l; }
      await (await import('./fails.js')).bookFails(pool, date, sctx); // the day's fails into the ledger's fail accounts (idempotent)
      const f = await listFails(pool, date);
      fails = { open: f.fails.length, alerts: f.alerts.length, buckets: f.buckets.filter((b) => b.count > 0).map((b) => ({ bucket: b.bucket, direction: b.direction, count: b.count })) };
      return { openFails: fails.open, alerts: fails.alerts };
    },
  };

  /** D, the next settlement day, and the settlement dates of the trades of D, in order. */
  async function settleDates(): Promise<string[]> {
    const { rows } = await pool.query<{ d: string }>('SELECT DISTINCT settle_date::text AS d FROM trades WHERE trade_date = $1', [date]);
    const next = addBusinessDays(market, date, 1, 'settlement');
    return [...new Set([date, next, ...rows.map((r) => r.d)])].sort();
  }

  // The tax lots of what the book step booked (or a stopped run left waiting in lots_pending) are
  // recomputed in the background, while the day matches, nets and instructs (none of which reads
  // lots), and waited for before the report. They are only derived data: a crash leaves the pairs
  // in lots_pending, and the next run (or import) recomputes them.
  try {
    return await runSteps();
  } finally {
    // Settled before runEod returns or throws: nothing of it runs on afterwards.
    await lots?.catch(() => undefined);
  }

  async function runSteps(): Promise<EodReport> {
    for (const step of EOD_STEPS) {
      const prior = (await pool.query<{ status: string }>('SELECT status FROM eod_runs WHERE date = $1 AND step = $2', [date, step])).rows[0];
      const already = prior?.status === 'done';
      if (!prior) {
        await pool.query(`INSERT INTO eod_runs (date, step, status, started_at) VALUES ($1, $2, 'started', $3) ON CONFLICT DO NOTHING`, [date, step, clock.now()]);
      }
      opts.onStep?.({ step, phase: 'start' });
      let counts: Record<string, unknown>;
      try {
        counts = await work[step]();
      } catch (e) {
        if (e instanceof InjectedCrash) throw e;
        const cause = e instanceof DomainError ? `${e.code}: ${e.message}` : (e as Error).message;
        throw Object.assign(new DomainError(EodCodes.STEP_FAILED, 'conflict', `end of day ${date}: step ${step} failed (${cause}); run the day again once fixed`,
          [{ record: date, field: 'step', rule: step, message: cause }]), { cause: e });
      }
      if (opts.crashAfter === step) throw new InjectedCrash(`after ${step}`);
      const skipped = step === 'instruct' && counts.skipped === true;
      if (!already) {
        await pool.query(`UPDATE eod_runs SET status = 'done', finished_at = $3, counts = $4 WHERE date = $1 AND step = $2 AND status = 'started'`,
          [date, step, clock.now(), JSON.stringify(counts)]);
      }
      const status: StepStatus = already ? 'already_done' : skipped ? 'skipped' : 'done';
      steps.push({ step, status, counts });
      opts.onStep?.({ step, phase: 'end', status, counts });
      if (step === 'book') {
        lots = recomputePendingLots(pool);
        lots.catch(() => undefined); // its failure is reported where it is awaited
      }
    }
    return { date, steps, fails, failedFiles };
  }
}

/** The recorded progress of a date, in step order. */
export async function eodProgress(pool: Pool, date: string): Promise<{ step: StepName; status: 'started' | 'done'; counts: Record<string, unknown> }[]> {
  const { rows } = await pool.query<{ step: StepName; status: 'started' | 'done'; counts: Record<string, unknown> }>(
    'SELECT step, status, counts FROM eod_runs WHERE date = $1', [date]);
  return rows.sort((a, b) => EOD_STEPS.indexOf(a.step) - EOD_STEPS.indexOf(b.step));
}

/** Who runs the command, the clock, and the configured defaults. */
export interface EodCliContext extends SettlementCtx {
  /** The data directory (default: the program's --data, else $BACKOFFICE_DATA, else ./data). */
  dataDir?: string;
  /** Defaults for --our-bic / --safekeeping-account (e.g. $BACKOFFICE_BIC, $BACKOFFICE_SAFEKEEPING_ACCOUNT). */
  ourBic?: string;
  safekeepingAccount?: string;
}

const defaultCtx = (): EodCliContext => ({
  actor: `cli:${os.userInfo().username}`, clock: systemClock,
});

const countsText = (c: Record<string, unknown>) => Object.entries(c).map(([k, v]) => `${k} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ');

/** The report as text. */
export function eodText(r: EodReport): string {
  return [
    `end of day ${r.date}`,
    ...r.steps.map((s) => `  ${s.step.padEnd(8)} ${s.status.padEnd(12)} ${countsText(s.counts)}`),
    ...r.failedFiles.map((f) => `  REFUSED ${f.kind} file ${f.name}: ${f.error}`),
    `open fails as of ${r.date}: ${r.fails.open} (${r.fails.alerts} close-out alerts)${r.fails.buckets.length ? ` ${r.fails.buckets.map((b) => `${b.direction} ${b.bucket}: ${b.count}`).join(', ')}` : ''}`,
  ].join('\n');
}

/**
 * Registers the top-level `eod --date D [--inbox DIR] [--out DIR] [--json]`. Step lines go to
 * standard error as each step ends; the report to standard output.
 */
export function eodCommands(program: Command, withDb: WithDb, print: Print, context: () => EodCliContext = defaultCtx): Command {
  return program.command('eod')
    .description('run the end-of-day cycle of a business date: take in the inbox (executions, confirmations, statuses; each file once), '
      + 'book, match, apply statuses, net, instruct, report; progress is recorded, so running again finishes an interrupted day and '
      + 'changes nothing on a finished one')
    .requiredOption('--date <date>', 'business date, YYYY-MM-DD')
    .option('--inbox <dir>', 'folder the files wait in (default <data dir>/inbox/<date>)')
    .option('--out <dir>', 'folder instructions go to (default <data dir>/outbox/<date>)')
    .option('--our-bic <bic>', 'our BIC (default $BACKOFFICE_BIC); without it nothing is instructed')
    .option('--safekeeping-account <account>', 'our safekeeping account (default $BACKOFFICE_SAFEKEEPING_ACCOUNT)')
    .option('--place-bic <bic>', 'place of settlement (default DTCYUS33)')
    .option('--format <format>', 'instruction format: sese023 or mt54x', 'sese023')
    .option('--json', 'JSON output: {date, steps: [{step, status: done|already_done|skipped, counts}], fails: {open, alerts, buckets}, failedFiles: [{name, kind, error}]}')
    .action(async (o: { date: string; inbox?: string; out?: string; ourBic?: string; safekeepingAccount?: string; placeBic?: string; format: string; json?: boolean }) => {
      parseDate(o.date, '--date');
      if (o.format !== 'sese023' && o.format !== 'mt54x') throw new DomainError(EodCodes.ARGUMENT_INVALID, 'invalid', `--format "${o.format}" must be sese023 or mt54x`);
      const c = context();
      const dataDir = c.dataDir ?? program.opts<{ data?: string }>().data ?? loadConfig({}).dataDir;
      const ourBic = o.ourBic ?? c.ourBic;
      const safekeepingAccount = o.safekeepingAccount ?? c.safekeepingAccount;
      await withDb(async (db) => {
        const r = await runEod(db.pool, o.date, {
          inbox: o.inbox ?? path.join(dataDir, 'inbox', o.date),
          outDir: o.out ?? path.join(dataDir, 'outbox', o.date),
          ...(ourBic ? { ourBic } : {}), ...(safekeepingAccount ? { safekeepingAccount } : {}), ...(o.placeBic ? { placeBic: o.placeBic } : {}),
          format: o.format as InstructionFormat,
          onStep: (e) => {
            if (e.phase === 'end') process.stderr.write(`eod ${o.date}: ${e.step} ${e.status}${e.counts ? ` (${countsText(e.counts)})` : ''}\n`);
          },
        }, { actor: c.actor, clock: c.clock });
        print(!!o.json, r, () => eodText(r));
      });
    });
}
