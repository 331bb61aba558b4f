/**
 * Standing settlement instructions (SSIs): for each counterparty, and for the firm itself, where
 * and through whom it settles, per market (the security's MIC) and optionally per asset class and
 * currency, dated. Instructions take their parties from them (see lifecycle.ts):
 *   place of settlement (PSET / Dpstry)      place_bic, e.g. DTCYUS33
 *   the counterparty's agent (REAG / DEAG)   agent_bic, or its CSD participant number (at DTC), with
 *                                            its safekeeping or participant account (SAFE)
 *   the counterparty itself (BUYR / SELL)    from reference data (BIC, DTC number or name)
 *   our side                                 the firm's SSI (party FIRM): our BIC (agent_bic) and
 *                                            our safekeeping account there
 *   cash correspondent                       cash_bic and cash_account for the currency: against
 *                                            payment, the cash parties (sese.023 CshPties, MT541/543
 *                                            sequence E3; see messages/instructions.ts)
 *
 * CSV: party,market,place_bic,account,effective_from[,asset_class,currency,agent_bic,participant,
 *      cash_bic,cash_account,effective_to]
 * `party` is a counterparty code or FIRM (ours). Blank asset_class or currency: any. effective_to is
 * the last day in force (blank: until further notice). The row in force on a settlement date that
 * names the most (asset class, then currency) applies. Rows of one party, market, asset class and
 * currency may not overlap in time.
 *
 * Imports are all or nothing: every bad row is named (line, party, field, rule); idempotent by
 * (party, market, asset class, currency, effective_from): the same row again changes nothing, a
 * changed row is updated. Each creation and change is audited (settlement.ssi.create / .update).
 */
import crypto from 'node:crypto';
import os from 'node:os';
import fs from 'node:fs';
import type { Command } from 'commander';
import { parse } from 'csv-parse/sync';
import { withTx, type Client, type Pool } from '../db/index.js';
import { markets } from '../calendar/index.js';
import { appendAudit, lockBooks } from '../ledger/index.js';
import { ASSET_CLASSES } from '../reference/index.js';
import { DomainError, newId, parseDate, systemClock, type ErrorDetail } from '../kernel/index.js';
import { FIN_BIC_RE, FIN_X_RE, currencyDigits } from './messages/formats.js';
import type { SettlementCtx } from './obligations.js';
import type { Print, WithDb } from './cli.js';

/** The party of the firm's own SSIs. */
export const FIRM_PARTY = 'FIRM';

export const SsiCodes = {
  /** The SSI file cannot be read, or a row breaks a rule: nothing of it is applied. */
  FILE_INVALID: 'SETTLEMENT_SSI_FILE_INVALID',
  /** An obligation has no SSI in force for its counterparty (or for us) in its market. */
  MISSING: 'SETTLEMENT_SSI_MISSING',
} as const;

export const SSI_COLUMNS = ['party', 'market', 'place_bic', 'account', 'effective_from'] as const;
const OPTIONAL = ['asset_class', 'currency', 'agent_bic', 'participant', 'cash_bic', 'cash_account', 'effective_to'];

/** One SSI as stored. */
export interface Ssi {
  id: string;
  /** A counterparty code, or FIRM. */
  party: string;
  market: string;
  assetClass: string | null;
  currency: string | null;
  placeBic: string;
  agentBic: string | null;
  participant: string | null;
  account: string;
  cashBic: string | null;
  cashAccount: string | null;
  effectiveFrom: string;
  effectiveTo: string | null;
  sourceFile: string;
  line: number;
  updatedAt: string;
  updatedBy: string;
}

export interface SsiImport { file: string; received: number; created: number; updated: number; unchanged: number }

interface Row {
  id: string; counterparty: string | null; market: string; asset_class: string | null; currency: string | null; place_bic: string;
  agent_bic: string | null; participant: string | null; account: string; cash_bic: string | null; cash_account: string | null;
  effective_from: string; effective_to: string | null; source_file: string; line: number; updated_at: string | Date; updated_by: string;
}

const COLS = `id, counterparty, market, asset_class, currency, place_bic, agent_bic, participant, account, cash_bic, cash_account,
  effective_from::text AS effective_from, effective_to::text AS effective_to, source_file, line, updated_at, updated_by`;

const view = (r: Row): Ssi => ({
  id: r.id, party: r.counterparty ?? FIRM_PARTY, market: r.market, assetClass: r.asset_class, currency: r.currency, placeBic: r.place_bic,
  agentBic: r.agent_bic, participant: r.participant, account: r.account, cashBic: r.cash_bic, cashAccount: r.cash_account,
  effectiveFrom: r.effective_from, effectiveTo: r.effective_to, sourceFile: r.source_file, line: r.line,
  updatedAt: new Date(r.updated_at).toISOString(), updatedBy: r.updated_by,
});

/** JSON with sorted keys, hashed: the same row always digests the same (for the audit trail). */
export function rowDigest(v: unknown): string {
  const canon = (x: unknown): string => {
    if (x === null || x === undefined) return 'null';
    if (Array.isArray(x)) return '[' + x.map(canon).join(',') + ']';
    if (typeof x === 'object') {
      const o = x as Record<string, unknown>;
      return '{' + Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => JSON.stringify(k) + ':' + canon(o[k])).join(',') + '}';
    }
    return JSON.stringify(typeof x === 'bigint' ? x.toString() : x);
  };
  return crypto.createHash('sha256').update(canon(v)).digest('hex');
}

const keyOf = (s: { party: string; market: string; assetClass: string | null; currency: string | null }) =>
  [s.party, s.market, s.assetClass ?? '', s.currency ?? ''].join('\u0000');
const describeKey = (s: { party: string; market: string; assetClass: string | null; currency: string | null }) =>
  `${s.party} ${s.market}${s.assetClass ? ` ${s.assetClass}` : ''}${s.currency ? ` ${s.currency}` : ''}`;
const overlaps = (a: { effectiveFrom: string; effectiveTo: string | null }, b: { effectiveFrom: string; effectiveTo: string | null }) =>
  a.effectiveFrom <= (b.effectiveTo ?? '9999-12-31') && b.effectiveFrom <= (a.effectiveTo ?? '9999-12-31');

const validDate = (s: string) => { try { parseDate(s, 'date'); return true; } catch { return false; } };

type Parsed = Omit<Ssi, 'id' | 'updatedAt' | 'updatedBy'>;

const refuse = (file: string, details: ErrorDetail[]) => new DomainError(SsiCodes.FILE_INVALID, 'invalid',
  `${file}: ${details.length} problem(s); nothing was applied. ${details.slice(0, 5).map((d) => d.message).join('; ')}${details.length > 5 ? '; ...' : ''}`, details);

/**
 * Parse an SSI CSV (pure; party codes are checked against the database by {@link importSsis}).
 * @throws DomainError SETTLEMENT_SSI_FILE_INVALID naming each bad row (line, party), field and rule
 */
export function parseSsis(text: string, file: string): Parsed[] {
  const { rows, details } = readSsis(text, file);
  if (details.length) throw refuse(file, details);
  return rows;
}

/** The good rows of an SSI CSV and the problems of the bad ones. */
function readSsis(text: string, file: string): { rows: Parsed[]; details: ErrorDetail[] } {
  const fail = (message: string, details: ErrorDetail[] = []) => new DomainError(SsiCodes.FILE_INVALID, 'invalid', message, details);
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, { columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), skip_empty_lines: true, trim: true, bom: true, comment: '#', info: true });
  } catch (e) {
    throw fail(`${file}: ${(e as Error).message}`);
  }
  const header = text.replace(/^\uFEFF/, '').split(/\r?\n/).find((l) => l.trim() && !l.startsWith('#')) ?? '';
  const cols = header.split(',').map((c) => c.trim().toLowerCase());
  const missing = SSI_COLUMNS.filter((c) => !cols.includes(c));
  if (missing.length) {
    throw fail(`${file}: missing column(s) ${missing.join(', ')}; expected ${SSI_COLUMNS.join(',')} (optional: ${OPTIONAL.join(',')})`,
      missing.map((c) => ({ record: file, field: c, rule: 'COLUMN_REQUIRED', message: `${file}: column ${c} is missing` })));
  }
  const mics = new Set(markets().map((m) => m.mic));
  const details: ErrorDetail[] = [];
  const out: Parsed[] = [];
  for (const { record: v, info } of records) {
    const line = info.lines;
    const record = `${file} line ${line}${v.party ? ` (${v.party})` : ''}`;
    const before = details.length;
    const err = (field: string, rule: string, msg: string) => details.push({ record, field, rule, message: `${record}: ${field}: ${msg}` });
    for (const c of SSI_COLUMNS) if (!v[c]) err(c, 'REQUIRED', 'is missing');
    if (v.market && !mics.has(v.market)) err('market', 'MARKET', `"${v.market}" is not a market we know (${[...mics].join(', ')})`);
    if (v.asset_class && !(ASSET_CLASSES as readonly string[]).includes(v.asset_class)) err('asset_class', 'ENUM', `"${v.asset_class}" must be blank (any) or one of ${ASSET_CLASSES.join(', ')}`);
    if (v.currency && currencyDigits(v.currency) === undefined) err('currency', 'ISO4217', `"${v.currency}" is not an ISO 4217 currency`);
    for (const f of ['place_bic', 'agent_bic', 'cash_bic'] as const) {
      if (v[f] && !FIN_BIC_RE.test(v[f]!)) err(f, 'BIC', `"${v[f]}" is not a BIC (4 letters, 2 letters country, 2 location, optional 3 branch)`);
    }
    if (v.participant && !/^\d{1,8}$/.test(v.participant)) err('participant', 'PARTICIPANT', `"${v.participant}" is not a participant number (1 to 8 digits)`);
    for (const f of ['account', 'cash_account'] as const) {
      if (v[f] && (v[f]!.length > 35 || !FIN_X_RE.test(v[f]!))) err(f, 'ACCOUNT', `"${v[f]}" must be 1 to 35 characters of the SWIFT x set (letters, digits, / - ? : ( ) . , ' + space)`);
    }
    if (v.party === FIRM_PARTY && !v.agent_bic) err('agent_bic', 'REQUIRED', 'our own SSI (party FIRM) needs our BIC');
    if (v.party && v.party !== FIRM_PARTY && !v.agent_bic && !v.participant) err('agent_bic', 'REQUIRED', 'the counterparty\'s agent needs a BIC (agent_bic) or a participant number');
    if (v.cash_account && !v.cash_bic) err('cash_bic', 'REQUIRED', 'a cash account needs the correspondent\'s BIC');
    for (const f of ['effective_from', 'effective_to'] as const) if (v[f] && !validDate(v[f]!)) err(f, 'DATE', `"${v[f]}" is not a date YYYY-MM-DD`);
    if (v.effective_to && v.effective_from && validDate(v.effective_to) && validDate(v.effective_from) && v.effective_to < v.effective_from) {
      err('effective_to', 'DATE_ORDER', `${v.effective_to} is before effective_from ${v.effective_from}`);
    }
    if (details.length > before) continue;
    const o = (x: string | undefined) => (x ? x : null);
    out.push({
      party: v.party!, market: v.market!, assetClass: o(v.asset_class), currency: o(v.currency), placeBic: v.place_bic!,
      agentBic: o(v.agent_bic), participant: o(v.participant), account: v.account!, cashBic: o(v.cash_bic), cashAccount: o(v.cash_account),
      effectiveFrom: v.effective_from!, effectiveTo: o(v.effective_to), sourceFile: file, line,
    });
  }
  // Within the file: one row per key and date, and no two in force at once.
  for (let i = 0; i < out.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = out[j]!, b = out[i]!;
      if (keyOf(a) !== keyOf(b) || !overlaps(a, b)) continue;
      const record = `${file} line ${b.line} (${b.party})`;
      const rule = a.effectiveFrom === b.effectiveFrom ? 'DUPLICATE' : 'OVERLAP';
      details.push({ record, field: 'effective_from', rule,
        message: `${record}: effective_from: ${describeKey(b)} ${rule === 'DUPLICATE' ? 'is already on' : 'overlaps the SSI on'} line ${a.line} (${a.effectiveFrom} to ${a.effectiveTo ?? 'open'})` });
      break;
    }
  }
  return { rows: out, details };
}

const same = (a: Parsed, b: Ssi) =>
  a.placeBic === b.placeBic && a.agentBic === b.agentBic && a.participant === b.participant && a.account === b.account &&
  a.cashBic === b.cashBic && a.cashAccount === b.cashAccount && a.effectiveTo === b.effectiveTo;

/**
 * Import an SSI CSV (see the module comment). All or nothing, idempotent, audited.
 * @throws DomainError SETTLEMENT_SSI_FILE_INVALID naming each bad row, field and rule (UNKNOWN_PARTY,
 *   OVERLAP with a stored SSI, and the rules of {@link parseSsis})
 */
export async function importSsis(pool: Pool, text: string, file: string, ctx: Partial<SettlementCtx> = {}): Promise<SsiImport> {
  const { rows, details: parsed } = readSsis(text, file);
  const actor = ctx.actor ?? 'system';
  const clock = ctx.clock ?? systemClock;
  return withTx(pool, async (c) => {
    await c.query('LOCK TABLE settlement_ssis IN SHARE ROW EXCLUSIVE MODE');
    const parties = [...new Set(rows.map((r) => r.party).filter((p) => p !== FIRM_PARTY))];
    const known = new Set((await c.query<{ code: string }>('SELECT code FROM counterparties WHERE code = ANY($1)', [parties])).rows.map((r) => r.code));
    const details: ErrorDetail[] = [...parsed];
    const bad = (r: Parsed, field: string, rule: string, message: string) => {
      const record = `${file} line ${r.line} (${r.party})`;
      details.push({ record, field, rule, message: `${record}: ${field}: ${message}` });
    };
    for (const r of rows) if (r.party !== FIRM_PARTY && !known.has(r.party)) bad(r, 'party', 'UNKNOWN_PARTY', `"${r.party}" is not a known counterparty (or FIRM for ours)`);
    const stored = (await c.query<Row>(`SELECT ${COLS} FROM settlement_ssis`)).rows.map(view);
    const byKeyDate = new Map(stored.map((s) => [`${keyOf(s)}\u0000${s.effectiveFrom}`, s]));
    // What the table will hold: the stored rows, those of the file standing in for the ones they update.
    const incoming = new Set(rows.map((r) => `${keyOf(r)}\u0000${r.effectiveFrom}`));
    const kept = stored.filter((s) => !incoming.has(`${keyOf(s)}\u0000${s.effectiveFrom}`));
    for (const r of rows) {
      const clash = kept.find((s) => keyOf(s) === keyOf(r) && overlaps(s, r));
      if (clash) bad(r, 'effective_from', 'OVERLAP', `${describeKey(r)} from ${r.effectiveFrom} to ${r.effectiveTo ?? 'open'} overlaps the stored SSI from ${clash.effectiveFrom} to ${clash.effectiveTo ?? 'open'} (${clash.sourceFile} line ${clash.line}); end it (effective_to) in the same file`);
    }
    if (details.length) {
      const line = (d: ErrorDetail) => Number(/ line (\d+)/.exec(d.record ?? '')?.[1] ?? 0);
      throw refuse(file, details.sort((a, b) => line(a) - line(b)));
    }
    const result: SsiImport = { file, received: rows.length, created: 0, updated: 0, unchanged: 0 };
    const now = clock.now();
    const events: Parameters<typeof appendAudit>[1] = [];
    for (const r of rows) {
      const old = byKeyDate.get(`${keyOf(r)}\u0000${r.effectiveFrom}`);
      if (old && same(r, old)) { result.unchanged++; continue; }
      const id = old?.id ?? newId('ssi');
      const params = [id, r.party === FIRM_PARTY ? null : r.party, r.market, r.assetClass, r.currency, r.placeBic, r.agentBic, r.participant, r.account,
        r.cashBic, r.cashAccount, r.effectiveFrom, r.effectiveTo, file, r.line, now.toISOString(), actor];
      if (old) {
        await c.query(`UPDATE settlement_ssis SET place_bic = $2, agent_bic = $3, participant = $4, account = $5, cash_bic = $6, cash_account = $7,
            effective_to = $8, source_file = $9, line = $10, updated_at = $11, updated_by = $12 WHERE id = $1`,
          [id, r.placeBic, r.agentBic, r.participant, r.account, r.cashBic, r.cashAccount, r.effectiveTo, file, r.line, now.toISOString(), actor]);
        result.updated++;
      } else {
        await c.query(`INSERT INTO settlement_ssis (id, counterparty, market, asset_class, currency, place_bic, agent_bic, participant, account,
            cash_bic, cash_account, effective_from, effective_to, source_file, line, created_at, created_by, updated_at, updated_by)
          VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $16, $17)`, params);
        result.created++;
      }
      const ssi = { ...r, id };
      events.push({ actor, action: old ? 'settlement.ssi.update' : 'settlement.ssi.create', entity: 'settlement_ssis', entityId: id,
        data: { party: r.party, market: r.market, assetClass: r.assetClass, currency: r.currency, effectiveFrom: r.effectiveFrom, file, line: r.line,
          ...(old ? { before: { placeBic: old.placeBic, agentBic: old.agentBic, participant: old.participant, account: old.account, cashBic: old.cashBic, cashAccount: old.cashAccount, effectiveTo: old.effectiveTo } } : {}) },
        rowHash: rowDigest(ssi), at: now });
    }
    if (events.length) {
      await lockBooks(c);
      await appendAudit(c, events);
    }
    return result;
  });
}

/** The SSIs, filtered by party (a counterparty code or FIRM), market, and the date they are in force on. */
export async function listSsis(db: Pool | Client, q: { party?: string; market?: string; asOf?: string } = {}): Promise<Ssi[]> {
  if (q.asOf) parseDate(q.asOf, 'as-of date');
  const party = q.party === undefined ? undefined : q.party === FIRM_PARTY ? '' : q.party;
  const { rows } = await db.query<Row>(
    `SELECT ${COLS} FROM settlement_ssis
      WHERE ($1::text IS NULL OR coalesce(counterparty, '') = $1) AND ($2::text IS NULL OR market = $2)
        AND ($3::date IS NULL OR (effective_from <= $3 AND (effective_to IS NULL OR effective_to >= $3)))
      ORDER BY counterparty NULLS FIRST, market, asset_class NULLS FIRST, currency NULLS FIRST, effective_from`,
    [party ?? null, q.market ?? null, q.asOf ?? null]);
  return rows.map(view);
}

/** What instructing needs of the SSIs of a date. */
export interface SsiBook {
  date: string;
  /** The SSIs in force on `date`. */
  ssis: Ssi[];
  /** Whether any counterparty SSI exists at all (then every counterparty needs one). */
  counterpartySsisInUse: boolean;
}

/** The SSIs in force on a date, for {@link pickSsi}. */
export async function loadSsiBook(db: Pool | Client, date: string): Promise<SsiBook> {
  const ssis = await listSsis(db, { asOf: date });
  const any = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM settlement_ssis WHERE counterparty IS NOT NULL')).rows[0]!.n > 0;
  return { date, ssis, counterpartySsisInUse: any };
}

/**
 * The SSI of a party (counterparty code or FIRM) for a market, asset class and currency in force on
 * the book's date: the row that names the asset class beats one that does not, then the currency.
 */
export function pickSsi(book: SsiBook, q: { party: string; market: string; assetClass: string | null; currency: string | null }): Ssi | undefined {
  let best: Ssi | undefined;
  let score = -1;
  for (const s of book.ssis) {
    if (s.party !== q.party || s.market !== q.market) continue;
    if (s.assetClass !== null && s.assetClass !== q.assetClass) continue;
    if (s.currency !== null && s.currency !== q.currency) continue;
    const sc = (s.assetClass ? 2 : 0) + (s.currency ? 1 : 0);
    if (sc > score) { best = s; score = sc; }
  }
  return best;
}

/** "GSCO in XNAS (equity, USD) in force on 2026-03-05": what an SSI was looked for. */
export const ssiWanted = (q: { party: string; market: string; assetClass: string | null; currency: string | null }, date: string) =>
  `${q.party === FIRM_PARTY ? 'the firm (FIRM)' : q.party} in ${q.market} (${[q.assetClass ?? 'any asset class', q.currency ?? 'any currency'].join(', ')}) in force on ${date}`;

// ---- command line -------------------------------------------------------------------------------

const defaultCtx = (): SettlementCtx => ({ actor: `cli:${os.userInfo().username}`, clock: systemClock });

function table(rows: Record<string, string>[], cols: string[]): string {
  if (!rows.length) return '(none)';
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: Record<string, string>) => cols.map((c, i) => (r[c] ?? '').padEnd(w[i]!)).join('  ').trimEnd();
  return [line(Object.fromEntries(cols.map((c) => [c, c]))), cols.map((_, i) => '-'.repeat(w[i]!)).join('  '), ...rows.map(line)].join('\n');
}

/**
 * Registers `settlement ssi import FILE` and `settlement ssi list` (under an existing `settlement`
 * command if the program has one).
 */
export function ssiCommands(program: Command, withDb: WithDb, print: Print, context: () => SettlementCtx = defaultCtx): Command {
  const settlement = program.commands.find((c) => c.name() === 'settlement')
    ?? program.command('settlement').description('clearing and settlement: netting, obligations, instructions, fails');
  const ssi = settlement.commands.find((c) => c.name() === 'ssi')
    ?? settlement.command('ssi').description('standing settlement instructions per counterparty (and ours, party FIRM) and market');
  ssi.command('import')
    .description(`import an SSI CSV: ${SSI_COLUMNS.join(',')} (optional: ${OPTIONAL.join(',')}); party is a counterparty code or FIRM; `
      + 'all or nothing (a bad row is named by line, field and rule), idempotent by party, market, asset class, currency and effective_from')
    .argument('<file>', 'CSV file')
    .option('--json', 'JSON output: {file, received, created, updated, unchanged}')
    .action(async (file: string, o: { json?: boolean }) => {
      let text: string;
      try { text = fs.readFileSync(file, 'utf8'); } catch (e) { throw new DomainError(SsiCodes.FILE_INVALID, 'invalid', `cannot read ${file}: ${(e as Error).message}`); }
      await withDb(async (db) => {
        const r = await importSsis(db.pool, text, file, context());
        print(!!o.json, r, () => `${file}: ${r.received} SSI(s): ${r.created} created, ${r.updated} updated, ${r.unchanged} unchanged`);
      });
    });
  ssi.command('list')
    .description('the SSIs, optionally of one party and market, or in force on a date')
    .option('--party <code>', 'a counterparty code, or FIRM')
    .option('--market <mic>', 'market, e.g. XNAS')
    .option('--as-of <date>', 'only those in force on this date')
    .option('--json', 'JSON output: [{id, party, market, assetClass, currency, placeBic, agentBic, participant, account, cashBic, cashAccount, effectiveFrom, effectiveTo, sourceFile, line, updatedAt, updatedBy}]')
    .action(async (o: { party?: string; market?: string; asOf?: string; json?: boolean }) => {
      await withDb(async (db) => {
        const rows = await listSsis(db.pool, o);
        print(!!o.json, rows, () => table(rows.map((s) => ({
          party: s.party, market: s.market, 'asset class': s.assetClass ?? '*', currency: s.currency ?? '*', place: s.placeBic,
          agent: [s.agentBic, s.participant].filter(Boolean).join(' / '), account: s.account,
          cash: s.cashBic ? `${s.cashBic}${s.cashAccount ? ` ${s.cashAccount}` : ''}` : '', from: s.effectiveFrom, to: s.effectiveTo ?? '',
        })), ['party', 'market', 'asset class', 'currency', 'place', 'agent', 'account', 'cash', 'from', 'to']));
      });
    });
  return ssi;
}
