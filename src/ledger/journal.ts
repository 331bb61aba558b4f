import cc from 'currency-codes';
import { copyInto, copyValue, withTx, type Client, type Pool } from '../db/index.js';
import {
  DomainError, fromMinor, newId, notFound, parseDate, toMinor, yieldToLoop, type Clock, type ErrorDetail,
} from '../kernel/index.js';
import { appendAudit, lockBooks, type AuditEvent } from './audit.js';
import { EntriesRejected, LedgerCodes as C } from './errors.js';
import { canonical, sha256 } from './hash.js';
import { rowHash } from './row-hash.js';
import { closedThrough } from './periods.js';

/** One leg of an entry, as it comes in: the amount is a decimal string ("-1234.50"). */
export interface PostingInput {
  account: string;
  asset: string;
  amount: string;
}

/** A journal entry as it comes in from a file, the API or another module. */
export interface EntryInput {
  /** Idempotency key: the same key with the same body is a no-op; with another body, an error. */
  key: string;
  /** Effective (business) date, YYYY-MM-DD. */
  date: string;
  memo?: string;
  postings: PostingInput[];
}

/** A stored journal entry. */
export interface Entry {
  id: string;
  key: string;
  date: string;
  memo: string;
  recordedAt: string;
  createdBy: string;
  /** The id of the entry this one reverses. */
  reverses: string | null;
  /** In line order; in a list of entries, the first LIST_POSTINGS of each (see postingCount). */
  postings: { account: string; asset: string; amount: string }[];
  /** How many postings the entry has (a booking batch has about two per trade, thousands). */
  postingCount: number;
}

/** Postings per entry in a list of entries (the journal): an entry's own page has them all. */
export const LIST_POSTINGS = 20;

export type PostOutcome =
  | { key: string; status: 'posted' | 'duplicate'; id: string }
  | { key: string; status: 'rejected'; error: DomainError };

export interface PostContext {
  actor: string;
  clock: Clock;
}

/**
 * - `all`: one bad entry refuses the whole batch (nothing written) — files and API batches.
 * - `each`: entries stand alone; bad ones are rejected, the rest written — the group-commit queue.
 */
export type PostMode = 'all' | 'each';

interface Prepared {
  index: number;
  input: EntryInput;
  memo: string;
  legs: { accountId: number; noNegative: boolean; asset: string; minor: bigint }[];
  bodyHash: string;
  reverses: bigint | null;
  reversesId: string | null;
}

const MAX_KEY = 200;
const MAX_MEMO = 2000;

function describe(e: EntryInput | undefined, index: number): string {
  const key = e && typeof e === 'object' && typeof e.key === 'string' ? `"${e.key}"` : '(no key)';
  return `entry #${index + 1} ${key}`;
}

/** Calendar days already read (a batch repeats a few dates thousands of times). */
const KNOWN_DATES = new Set<string>();

/** Structural checks that need no database. */
function checkShape(e: EntryInput, index: number): ErrorDetail | undefined {
  const rec = describe(e, index);  // index: as the caller numbers it
  const fail = (field: string, message: string, rule: string = C.ENTRY_INVALID): ErrorDetail => ({
    record: rec, field, rule, message: `${rec}: ${message}`,
  });
  if (!e || typeof e !== 'object') return fail('entry', 'must be an object');
  if (typeof e.key !== 'string' || e.key.trim() === '' || e.key.length > MAX_KEY) {
    return fail('key', `key must be a non-empty string of at most ${MAX_KEY} characters`);
  }
  if (!KNOWN_DATES.has(e.date)) {
    try {
      parseDate(e.date, 'date');
    } catch (err) {
      return fail('date', (err as Error).message);
    }
    if (KNOWN_DATES.size < 100_000) KNOWN_DATES.add(e.date);
  }
  if (e.memo !== undefined && (typeof e.memo !== 'string' || e.memo.length > MAX_MEMO)) {
    return fail('memo', `memo must be a string of at most ${MAX_MEMO} characters`);
  }
  // What PostgreSQL cannot store exactly would break the entry's hash: refuse it here.
  for (const [field, text] of [['key', e.key], ['memo', e.memo ?? '']] as const) {
    if (!text.isWellFormed() || text.includes('\u0000')) return fail(field, `${field} contains a NUL or an unpaired surrogate, which cannot be stored`);
  }
  if (!Array.isArray(e.postings) || e.postings.length < 2) {
    return fail('postings', 'an entry needs two or more postings');
  }
  for (const [i, p] of e.postings.entries()) {
    if (!p || typeof p !== 'object') return fail(`postings[${i}]`, 'must be an object');
    if (typeof p.account !== 'string' || !p.account) return fail(`postings[${i}].account`, 'account is required');
    if (typeof p.asset !== 'string' || !p.asset) return fail(`postings[${i}].asset`, 'asset is required');
    if (typeof p.amount !== 'string') {
      return fail(`postings[${i}].amount`, 'amount must be a decimal string such as "1234.50" (numbers lose precision)');
    }
  }
  return undefined;
}

/**
 * sha256(canonical({ date, memo, reverses, postings: [[account, asset, minor], ...] })), the text
 * written out (keys in canonical order; journal.test.ts holds the two together).
 */
export function bodyText(date: string, memo: string, legs: { account: string; asset: string; minor: bigint }[], reverses: string | null): string {
  let ps = '';
  for (const l of legs) ps += (ps ? ',[' : '[') + JSON.stringify(l.account) + ',' + JSON.stringify(l.asset) + ',"' + l.minor.toString() + '"]';
  return '{"date":' + JSON.stringify(date) + ',"memo":' + JSON.stringify(memo) + ',"postings":[' + ps + '],"reverses":' + (reverses === null ? 'null' : JSON.stringify(reverses)) + '}';
}

const bodyHashOf = (date: string, memo: string, legs: { account: string; asset: string; minor: bigint }[], reverses: string | null) =>
  sha256(bodyText(date, memo, legs, reverses));

/** Register ISO 4217 currencies on first use, with their minor units. */
async function ensureCurrencies(c: Client, codes: string[], ctx: PostContext, audit: AuditEvent[]) {
  const at = ctx.clock.now();
  for (const code of codes) {
    const iso = cc.code(code);
    if (!iso) continue;
    const row = { code, scale: iso.digits, kind: 'currency', name: iso.currency, created_at: at.toISOString(), created_by: ctx.actor };
    const res = await c.query(
      `INSERT INTO assets (code, scale, kind, name, created_at, created_by) VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING`,
      [row.code, row.scale, row.kind, row.name, row.created_at, row.created_by],
    );
    if (res.rowCount) {
      audit.push({ actor: ctx.actor, action: 'asset.add', entity: 'assets', entityId: code, data: { code, scale: iso.digits, kind: 'currency' }, rowHash: rowHash.assets(row), at });
    }
  }
}

/**
 * Post journal entries. Idempotent by key: an entry whose key is already booked with the same
 * body is reported `duplicate` and writes nothing; with another body it is refused
 * (IDEMPOTENCY_KEY_REUSED). Balances, no-negative rules, closed periods and the audit chain are
 * all kept in the same transaction.
 * @throws EntriesRejected in mode `all` when any entry is refused (nothing is written)
 */
export async function postEntries(pool: Pool, inputs: EntryInput[], ctx: PostContext, mode: PostMode = 'all', internal: Internal = {}): Promise<PostOutcome[]> {
  return withTx(pool, (c) => postEntriesIn(c, inputs, ctx, mode, internal));
}

interface Internal {
  /**
   * Accounts the caller already knows (id and no-negative rule never change, and accounts are
   * never deleted): they are not looked up again; what is looked up is added to `learnt`, for the
   * caller to keep once the transaction has committed.
   */
  accounts?: { known: ReadonlyMap<string, { id: number; no_negative: boolean }>; learnt: Map<string, { id: number; no_negative: boolean }> };
  reverses?: Map<number, string>;
  actors?: string[];
  /** Each entry is its own request (group commit): name it as entry #1 of that request. */
  standalone?: boolean;
}

/**
 * postEntries inside a transaction the caller holds (so that a large file can be posted in
 * chunks, with progress, and still be all-or-nothing: the caller rolls back on error).
 * @throws EntriesRejected in mode `all` when any entry is refused
 */
export async function postEntriesIn(c: Client, inputs: EntryInput[], ctx: PostContext, mode: PostMode = 'all', internal: Internal = {}): Promise<PostOutcome[]> {
  const outcomes: (PostOutcome | undefined)[] = new Array(inputs.length);
  const label = (e: EntryInput | undefined, i: number) => describe(e, internal.standalone ? 0 : i);
  const reject = (i: number, d: ErrorDetail, kind: 'invalid' | 'conflict' = 'invalid') => {
    outcomes[i] = { key: inputs[i]?.key ?? '', status: 'rejected', error: new EntriesRejected([d], kind) };
  };
  inputs.forEach((e, i) => {
    const d = checkShape(e, internal.standalone ? 0 : i);
    if (d) reject(i, d);
  });
  const failAll = () => {
    const bad = outcomes.filter((o): o is Extract<PostOutcome, { status: 'rejected' }> => o?.status === 'rejected');
    if (mode === 'all' && bad.length) {
      const conflictOnly = bad.every((b) => b.error.kind === 'conflict');
      throw new EntriesRejected(bad.flatMap((b) => b.error.details), conflictOnly ? 'conflict' : 'invalid');
    }
  };
  failAll();

  try {
    await lockBooks(c);
    const audit: AuditEvent[] = [];
    const live = () => inputs.map((_, i) => i).filter((i) => outcomes[i] === undefined);

    const resolved = await resolveEntries(c, inputs, live(), ctx, internal, label, reject, audit);
    const prepared = resolved.prepared;

    // Idempotency: keys already booked, and keys repeated inside the batch.
    // One index lookup per key (LATERAL): with thousands of keys in `= ANY($1)` the planner may
    // choose a parallel scan of the whole journal over index lookups (measured: 50-300 ms a batch
    // against 3 ms), which slices of 500 keys avoided at the cost of a round trip per slice.
    const known = new Map<string, { hash: string; id: string }>();
    if (prepared.length) {
      const existing = await c.query<{ idempotency_key: string; body_hash: string; id: string }>(
        `SELECT j.idempotency_key, j.body_hash, j.id FROM unnest($1::text[]) AS k(key)
           CROSS JOIN LATERAL (SELECT idempotency_key, body_hash, id FROM journal_entries WHERE idempotency_key = k.key) j`, [prepared.map((p) => p.input.key)]);
      for (const r of existing.rows) known.set(r.idempotency_key, { hash: r.body_hash, id: r.id });
    }
    const fresh: Prepared[] = [];
    const inBatch = new Map<string, Prepared>();
    for (const p of prepared) {
      const k = known.get(p.input.key);
      const rec = label(p.input, p.index);
      if (k) {
        if (k.hash === p.bodyHash) outcomes[p.index] = { key: p.input.key, status: 'duplicate', id: k.id };
        else reject(p.index, { record: rec, field: 'key', rule: C.IDEMPOTENCY_KEY_REUSED, message: `${rec}: key was already used (entry ${k.id}) with a different body` }, 'conflict');
        continue;
      }
      const twin = inBatch.get(p.input.key);
      if (twin) {
        if (twin.bodyHash === p.bodyHash) { outcomes[p.index] = { key: p.input.key, status: 'duplicate', id: '' }; (p as Prepared & { twin?: Prepared }).twin = twin; }
        else reject(p.index, { record: rec, field: 'key', rule: C.IDEMPOTENCY_KEY_REUSED, message: `${rec}: key is used twice in this batch with different bodies` }, 'conflict');
        continue;
      }
      inBatch.set(p.input.key, p);
      fresh.push(p);
    }

    // Reversals: resolve the reversed entry's seq.
    const revIds = fresh.filter((p) => p.reversesId).map((p) => p.reversesId!);
    if (revIds.length) {
      const r = await c.query<{ id: string; seq: bigint }>('SELECT id, seq FROM journal_entries WHERE id = ANY($1)', [revIds]);
      const m = new Map(r.rows.map((x) => [x.id, x.seq]));
      for (const p of fresh) if (p.reversesId) p.reverses = m.get(p.reversesId) ?? null;
    }

    // No-negative rules: lock the balances concerned and apply entries in order.
    const guarded = [...new Set(fresh.flatMap((p) => p.legs.filter((l) => l.noNegative).map((l) => `${l.accountId}|${l.asset}`)))].sort();
    let accepted = fresh;
    if (guarded.length) {
      const ids = guarded.map((g) => Number(g.split('|')[0]));
      const codes = guarded.map((g) => g.split('|')[1]!);
      const cur = await c.query<{ account_id: number; asset: string; balance: string }>(
        `SELECT b.account_id, b.asset, b.balance FROM balances b JOIN unnest($1::int[], $2::text[]) AS g(a, s)
           ON b.account_id = g.a AND b.asset = g.s ORDER BY b.account_id, b.asset FOR UPDATE OF b`, [ids, codes]);
      const bal = new Map(cur.rows.map((r) => [`${r.account_id}|${r.asset}`, BigInt(r.balance)]));
      accepted = [];
      for (const p of fresh) {
        const after = new Map<string, bigint>();
        for (const l of p.legs) {
          if (!l.noNegative) continue;
          const k = `${l.accountId}|${l.asset}`;
          after.set(k, (after.get(k) ?? bal.get(k) ?? 0n) + l.minor);
        }
        const broken = [...after].find(([, v]) => v < 0n);
        if (broken) {
          const leg = p.legs.find((l) => `${l.accountId}|${l.asset}` === broken[0])!;
          const name = p.input.postings[p.legs.indexOf(leg)]!.account;
          const rec = label(p.input, p.index);
          reject(p.index, { record: rec, field: 'postings', rule: C.NEGATIVE_BALANCE, message: `${rec}: account "${name}" may not go negative; ${leg.asset} balance would be ${fromMinor(broken[1], resolved.assets.get(leg.asset)!)}` });
          continue;
        }
        for (const [k, v] of after) bal.set(k, v);
        accepted.push(p);
      }
    }
    failAll();

    if (accepted.length) {
      const ids = await writeEntries(c, accepted, ctx, audit, internal.actors);
      accepted.forEach((p, j) => { outcomes[p.index] = { key: p.input.key, status: 'posted', id: ids[j]! }; });
    } else {
      await appendAudit(c, audit);
    }
    for (const p of prepared) {
      const twin = (p as Prepared & { twin?: Prepared }).twin;
      if (twin) outcomes[p.index] = { key: p.input.key, status: 'duplicate', id: (outcomes[twin.index] as { id: string }).id };
    }
    return outcomes as PostOutcome[];
  } catch (e) {
    if (e instanceof DomainError) throw e;
    throw translateDbError(e);
  }
}

/**
 * Reference data, conversion and the checks of each live entry (accounts and assets exist, amounts
 * fit their asset's scale, non-zero, balanced per asset, not in a closed period): entries that
 * pass come back prepared (legs in minor units, body hash); the others are `reject`ed.
 * With `audit` undefined (staging, outside the books lock) nothing is written: an unknown
 * currency is left unknown, for postEntriesIn to register.
 */
async function resolveEntries(
  c: Client | Pool, inputs: EntryInput[], liveIdx: number[], ctx: PostContext, internal: Internal,
  label: (e: EntryInput | undefined, i: number) => string, reject: (i: number, d: ErrorDetail) => void, audit: AuditEvent[] | undefined,
): Promise<{ prepared: Prepared[]; assets: Map<string, number> }> {
  // Reference data the batch names.
  const accountNames = new Set<string>();
  const assetCodes = new Set<string>();
  for (const i of liveIdx) for (const p of inputs[i]!.postings) { accountNames.add(p.account); assetCodes.add(p.asset); }
  const cache = internal.accounts;
  const ask = cache ? [...accountNames].filter((n) => !cache.known.has(n)) : [...accountNames];
  const accRows = ask.length ? (await c.query<{ id: number; name: string; no_negative: boolean }>(
    'SELECT id, name, no_negative FROM accounts WHERE name = ANY($1)', [ask])).rows : [];
  const accounts = new Map<string, { id: number; no_negative: boolean }>(accRows.map((r) => [r.name, r]));
  if (cache) {
    for (const n of accountNames) { const k = cache.known.get(n); if (k) accounts.set(n, k); }
    for (const r of accRows) cache.learnt.set(r.name, { id: r.id, no_negative: r.no_negative });
  }
  let assetRows = await c.query<{ code: string; scale: number }>('SELECT code, scale FROM assets WHERE code = ANY($1)', [[...assetCodes]]);
  const missingAssets = [...assetCodes].filter((a) => !assetRows.rows.some((r) => r.code === a));
  if (missingAssets.length && audit) {
    await ensureCurrencies(c as Client, missingAssets, ctx, audit);
    assetRows = await c.query('SELECT code, scale FROM assets WHERE code = ANY($1)', [[...assetCodes]]);
  }
  const assets = new Map(assetRows.rows.map((r) => [r.code, r.scale]));
  const through = await closedThrough(c);

  // Resolve, convert and check each entry.
  const prepared: Prepared[] = [];
  let n = 0;
  for (const i of liveIdx) {
    if (++n % 500 === 0) await yieldToLoop();
    const e = inputs[i]!;
    const rec = label(e, i);
    const memo = e.memo ?? '';
    const legs: Prepared['legs'] = [];
    const sums = new Map<string, bigint>();
    let err: ErrorDetail | undefined;
    for (const [j, p] of e.postings.entries()) {
      const acc = accounts.get(p.account);
      if (!acc) { err = { record: rec, field: `postings[${j}].account`, rule: C.ACCOUNT_UNKNOWN, message: `${rec}: account "${p.account}" does not exist (open it first)` }; break; }
      const scale = assets.get(p.asset);
      if (scale === undefined) { err = { record: rec, field: `postings[${j}].asset`, rule: C.ASSET_UNKNOWN, message: `${rec}: asset "${p.asset}" is not registered and is not an ISO 4217 currency` }; break; }
      let minor: bigint;
      try {
        minor = toMinor(p.amount, scale, `postings[${j}].amount`);
      } catch (x) {
        const de = x as DomainError;
        err = { record: rec, field: `postings[${j}].amount`, rule: de.code === 'AMOUNT_TOO_PRECISE' ? C.AMOUNT_TOO_PRECISE : C.ENTRY_INVALID, message: `${rec}: ${de.message}${de.code === 'AMOUNT_TOO_PRECISE' ? ` (${p.asset} has scale ${scale})` : ''}` };
        break;
      }
      if (minor === 0n) { err = { record: rec, field: `postings[${j}].amount`, rule: C.ENTRY_INVALID, message: `${rec}: postings[${j}].amount is zero` }; break; }
      legs.push({ accountId: acc.id, noNegative: acc.no_negative, asset: p.asset, minor });
      sums.set(p.asset, (sums.get(p.asset) ?? 0n) + minor);
    }
    if (!err) {
      const off = [...sums].find(([, s]) => s !== 0n);
      if (off) err = { record: rec, field: 'postings', rule: C.ENTRY_UNBALANCED, message: `${rec}: postings in ${off[0]} sum to ${fromMinor(off[1], assets.get(off[0])!)}, not zero` };
    }
    if (!err && through && e.date <= through) {
      err = { record: rec, field: 'date', rule: C.PERIOD_CLOSED, message: `${rec}: date ${e.date} is in a closed period (closed through ${through})` };
    }
    if (err) { reject(i, err); continue; }
    const reversesId = internal.reverses?.get(i) ?? null;
    prepared.push({
      index: i, input: e, memo, legs, reverses: null, reversesId,
      bodyHash: bodyHashOf(e.date, memo, e.postings.map((p, j) => ({ account: p.account, asset: p.asset, minor: legs[j]!.minor })), reversesId),
    });
  }
  return { prepared, assets };
}

/** A database refusal that code should have caught first: still a clear message, never a 500 with SQL. */
function translateDbError(e: unknown): unknown {
  const pgErr = e as { code?: string; message?: string; constraint?: string };
  if (pgErr.code === '23514' && pgErr.constraint === 'balance_not_negative') {
    return new EntriesRejected([{ rule: C.NEGATIVE_BALANCE, message: 'an account that may not go negative would go negative' }]);
  }
  if (pgErr.code === '23514' || pgErr.code === 'P0001') {
    return new EntriesRejected([{ rule: C.ENTRY_INVALID, message: pgErr.message ?? 'refused by the database' }]);
  }
  return e;
}

async function writeEntries(c: Client, batch: Prepared[], ctx: PostContext, audit: AuditEvent[], actors?: string[]): Promise<string[]> {
  const r = await renderEntries(batch, await reserveSeqs(c, batch.length), ctx, audit, actors);
  await writeRendered(c, r, audit);
  return r.ids;
}

/** The first of n consecutive journal seqs, reserved (migration 0017: atomic, lock held only for the reservation). */
async function reserveSeqs(c: Client | Pool, n: number): Promise<bigint> {
  return BigInt((await c.query<{ first: string }>(`SELECT reserve_seq('journal_entry_seq', $1)::text AS first`, [n])).rows[0]!.first);
}

/** A batch of entries numbered, hashed and in COPY's text format: what writeRendered sends. */
interface Rendered {
  ids: string[];
  entryRows: string;
  postingRows: string;
  /** Balance changes per (account, asset), sorted (the lock order). */
  deltas: { a: number; s: string; v: bigint; nn: boolean }[];
}

/** Number the batch from `firstSeq`, make its rows' text, and queue its audit events (row hashes included). */
async function renderEntries(batch: Prepared[], firstSeq: bigint, ctx: PostContext, audit: AuditEvent[], actors?: string[]): Promise<Rendered> {
  let seq = firstSeq;
  const at = ctx.clock.now();
  const atIso = at.toISOString();
  const ids: string[] = [];
  // COPY text of the two tables, built as the rows are hashed (see db/copy.ts).
  let entryRows = '', postingRows = '';
  const delta = new Map<string, { a: number; s: string; v: bigint; nn: boolean }>();
  const atText = copyValue(atIso);
  for (const p of batch) {
    if (ids.length % 500 === 499) await yieldToLoop();
    const id = newId('je');
    ids.push(id);
    const s = seq.toString();
    const actor = actors?.[p.index] ?? ctx.actor;
    const date = p.input.date;
    const reverses = p.reverses === null ? null : p.reverses.toString();
    entryRows += `${s}\t${id}\t${copyValue(p.input.key)}\t${p.bodyHash}\t${date}\t${copyValue(p.memo)}\t${atText}\t${copyValue(actor)}\t${reverses ?? '\\N'}\n`;
    const postings: [number, number, string, string, string][] = [];
    const legs = p.legs;
    for (let line = 0; line < legs.length; line++) {
      const l = legs[line]!;
      const amt = l.minor.toString();
      postingRows += `${s}\t${line}\t${l.accountId}\t${copyValue(l.asset)}\t${amt}\t${date}\n`;
      postings.push([line, l.accountId, l.asset, amt, date]);
      const k = `${l.accountId}|${l.asset}`;
      const d = delta.get(k);
      if (d) d.v += l.minor; else delta.set(k, { a: l.accountId, s: l.asset, v: l.minor, nn: l.noNegative });
    }
    audit.push({
      actor, action: p.reversesId ? 'entry.reverse' : 'entry.post', entity: 'journal_entries', entityId: id,
      data: p.reversesId ? { key: p.input.key, date, reverses: p.reversesId } : { key: p.input.key, date },
      rowHash: rowHash.journal_entries({ seq: s, id, key: p.input.key, body_hash: p.bodyHash, date, memo: p.memo, recorded_at: atIso, created_by: actor, reverses, postings }),
      at,
    });
    seq += 1n;
  }
  const deltas = [...delta.values()].filter((d) => d.v !== 0n).sort((x, y) => x.a - y.a || (x.s < y.s ? -1 : 1));
  return { ids, entryRows, postingRows, deltas };
}

/** Write a rendered batch and its audit events (the caller holds the books lock). */
async function writeRendered(c: Client, r: Rendered, audit: AuditEvent[]): Promise<void> {
  await copyInto(c, 'journal_entries', ['seq', 'id', 'idempotency_key', 'body_hash', 'effective_date', 'memo', 'recorded_at', 'created_by', 'reverses'], r.entryRows);
  // One COPY for all the batch's postings: the posting check runs once, over whole entries.
  await copyInto(c, 'postings', ['entry_seq', 'line', 'account_id', 'asset', 'amount', 'effective_date'], r.postingRows);
  const deltas = r.deltas;
  if (deltas.length) {
    // Two steps, not INSERT .. ON CONFLICT DO UPDATE: PostgreSQL checks the no-negative CHECK on
    // the proposed insert row (the delta alone) before it takes the update path.
    const a = deltas.map((d) => d.a), s = deltas.map((d) => d.s);
    await c.query(
      `INSERT INTO balances (account_id, asset, balance, no_negative)
       SELECT a, s, 0, nn FROM unnest($1::int[], $2::text[], $3::bool[]) AS t(a, s, nn)
       ON CONFLICT (account_id, asset) DO NOTHING`,
      [a, s, deltas.map((d) => d.nn)],
    );
    await c.query(
      `UPDATE balances b SET balance = b.balance + t.v
         FROM unnest($1::int[], $2::text[], $3::numeric[]) AS t(a, s, v)
        WHERE b.account_id = t.a AND b.asset = t.s`,
      [a, s, deltas.map((d) => d.v.toString())],
    );
  }
  await appendAudit(c, audit);
}

/**
 * A batch of entries checked, numbered and hashed ahead of its write, outside the books lock: the
 * first stage of a pipeline (booking prepares the next chunk while the database writes this one).
 * Made by stageEntries, written by writeStagedEntries.
 */
export interface StagedEntries {
  /** The entries' ids, in input order (every input is written). */
  ids: string[];
  keys: string[];
  rendered: Rendered;
  audit: AuditEvent[];
}

/**
 * Stage a batch in which every entry must be posted (mode 'all'), outside the books lock: the
 * same checks as postEntriesIn on what is committed now (accounts, assets, amounts, balance per
 * asset, closed periods, keys not used yet), seqs reserved, rows and row hashes made.
 * @returns undefined when the batch is not for the fast path: an entry that would be refused or is
 *   a duplicate, an unknown currency to register, a leg on a no-negative account. The caller then
 *   posts the same inputs with postEntriesIn, which reports or handles each case.
 */
export async function stageEntries(pool: Pool, inputs: EntryInput[], ctx: PostContext, accounts?: Internal['accounts']): Promise<StagedEntries | undefined> {
  if (!inputs.length) return undefined;
  for (const [i, e] of inputs.entries()) if (checkShape(e, i)) return undefined;
  let refused = false;
  const { prepared } = await resolveEntries(pool, inputs, inputs.map((_, i) => i), ctx, { accounts }, describe, () => { refused = true; }, undefined);
  if (refused || prepared.length !== inputs.length) return undefined;
  if (prepared.some((p) => p.legs.some((l) => l.noNegative))) return undefined;
  const keys = prepared.map((p) => p.input.key);
  if (new Set(keys).size !== keys.length) return undefined;
  const used = await pool.query(
    `SELECT 1 FROM unnest($1::text[]) AS k(key) WHERE EXISTS (SELECT 1 FROM journal_entries WHERE idempotency_key = k.key) LIMIT 1`, [keys]);
  if (used.rowCount) return undefined;
  const audit: AuditEvent[] = [];
  const rendered = await renderEntries(prepared, await reserveSeqs(pool, prepared.length), ctx, audit);
  return { ids: rendered.ids, keys, rendered, audit };
}

/**
 * Write a staged batch in the caller's transaction, under the books lock (taken here). What was
 * checked when it was staged is held by the database: a key used since is refused by its unique
 * index, a period closed since by the posting check, an account or asset gone by the foreign keys,
 * so the transaction fails and nothing is written; the caller rolls back and posts the inputs
 * with postEntriesIn.
 */
export async function writeStagedEntries(c: Client, staged: StagedEntries): Promise<string[]> {
  await lockBooks(c);
  try {
    await writeRendered(c, staged.rendered, staged.audit);
  } catch (e) {
    throw translateDbError(e);
  }
  return staged.ids;
}

interface EntryRow {
  seq: bigint; id: string; idempotency_key: string; effective_date: string; memo: string; recorded_at: string;
  created_by: string; reverses_id: string | null;
}

async function hydrate(db: Pool | Client, rows: EntryRow[], maxPostings?: number): Promise<Entry[]> {
  if (!rows.length) return [];
  const seqs = rows.map((r) => r.seq.toString());
  // Lines are numbered from 0 in each entry (by its key, entry_seq and line): the first n are lines < n.
  const ps = await db.query<{ entry_seq: bigint; account: string; asset: string; amount: string; scale: number }>(
    `SELECT p.entry_seq, a.name AS account, p.asset, p.amount, s.scale
       FROM postings p JOIN accounts a ON a.id = p.account_id JOIN assets s ON s.code = p.asset
      WHERE p.entry_seq = ANY($1) AND ($2::int IS NULL OR p.line < $2) ORDER BY p.entry_seq, p.line`, [seqs, maxPostings ?? null]);
  // Counted by the last line of each entry (one index probe each), not by reading them all.
  const counts = new Map<string, number>();
  if (maxPostings !== undefined) {
    const c = await db.query<{ seq: string; n: number }>(
      `SELECT s.seq::text AS seq, (SELECT p.line + 1 FROM postings p WHERE p.entry_seq = s.seq ORDER BY p.line DESC LIMIT 1)::int AS n
         FROM unnest($1::bigint[]) AS s(seq)`, [seqs]);
    for (const r of c.rows) counts.set(r.seq, r.n ?? 0);
  }
  const by = new Map<string, Entry['postings']>();
  for (const p of ps.rows) {
    const k = p.entry_seq.toString();
    const list = by.get(k) ?? [];
    list.push({ account: p.account, asset: p.asset, amount: fromMinor(BigInt(p.amount), p.scale) });
    by.set(k, list);
  }
  return rows.map((r) => ({
    id: r.id, key: r.idempotency_key, date: r.effective_date, memo: r.memo, recordedAt: r.recorded_at,
    createdBy: r.created_by, reverses: r.reverses_id, postings: by.get(r.seq.toString()) ?? [],
    postingCount: counts.get(r.seq.toString()) ?? by.get(r.seq.toString())?.length ?? 0,
  }));
}

const ENTRY_COLS = `e.seq, e.id, e.idempotency_key, e.effective_date, e.memo, e.recorded_at, e.created_by, r.id AS reverses_id`;

/** @throws DomainError ENTRY_NOT_FOUND */
export async function getEntry(pool: Pool, id: string): Promise<Entry> {
  const { rows } = await pool.query<EntryRow>(`SELECT ${ENTRY_COLS} FROM journal_entries e LEFT JOIN journal_entries r ON r.seq = e.reverses WHERE e.id = $1`, [id]);
  if (!rows.length) throw notFound('ENTRY_NOT_FOUND', `journal entry ${id} does not exist`);
  return (await hydrate(pool, rows))[0]!;
}

/** Entries by key (for callers that posted by key). */
export async function getEntriesByKey(pool: Pool, keys: string[]): Promise<Entry[]> {
  const { rows } = await pool.query<EntryRow>(`SELECT ${ENTRY_COLS} FROM journal_entries e LEFT JOIN journal_entries r ON r.seq = e.reverses WHERE e.idempotency_key = ANY($1) ORDER BY e.seq`, [keys]);
  return hydrate(pool, rows);
}

export interface EntryQuery {
  from?: string;
  to?: string;
  /** Account name or prefix (`assets:bank` matches `assets:bank:usd`). */
  account?: string;
  asset?: string;
  limit?: number;
  /** Page backwards: entries older than this entry id. */
  before?: string;
}

/** Entries newest first, filtered, each with its first LIST_POSTINGS postings; `next` pages further back. */
export async function listEntries(pool: Pool, q: EntryQuery): Promise<{ items: Entry[]; next: string | null }> {
  const limit = Math.min(Math.max(q.limit ?? 100, 1), 1000);
  const params: unknown[] = [];
  const where: string[] = [];
  const p = (v: unknown) => { params.push(v); return `$${params.length}`; };
  if (q.from) where.push(`e.effective_date >= ${p(parseDate(q.from, 'from'))}`);
  if (q.to) where.push(`e.effective_date <= ${p(parseDate(q.to, 'to'))}`);
  if (q.before) where.push(`e.seq < (SELECT seq FROM journal_entries WHERE id = ${p(q.before)})`);
  if (q.account || q.asset) {
    const conds = ['x.entry_seq = e.seq'];
    if (q.account) conds.push(`x.account_id IN (SELECT id FROM accounts WHERE name = ${p(q.account)} OR name LIKE ${p(likePrefix(q.account))})`);
    if (q.asset) conds.push(`x.asset = ${p(q.asset)}`);
    where.push(`EXISTS (SELECT 1 FROM postings x WHERE ${conds.join(' AND ')})`);
  }
  const sql = `SELECT ${ENTRY_COLS} FROM journal_entries e LEFT JOIN journal_entries r ON r.seq = e.reverses
    ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY e.seq DESC LIMIT ${limit + 1}`;
  const { rows } = await pool.query<EntryRow>(sql, params);
  const page = rows.slice(0, limit);
  return { items: await hydrate(pool, page, LIST_POSTINGS), next: rows.length > limit ? page[page.length - 1]!.id : null };
}

/** `a:b` matches its sub-accounts `a:b:...`; LIKE wildcards in names are escaped. */
export const likePrefix = (name: string) => name.replace(/[\\%_]/g, (m) => '\\' + m) + ':%';

/**
 * Reverse an entry: a new entry with every posting negated, dated `date` (default: today by the
 * clock). Idempotent: reversing twice returns the same reversal.
 * @throws DomainError ENTRY_NOT_FOUND, ENTRY_IS_REVERSAL, PERIOD_CLOSED
 */
export async function reverseEntry(pool: Pool, id: string, ctx: PostContext, opts: { date?: string; memo?: string } = {}): Promise<Entry> {
  const original = await getEntry(pool, id);
  if (original.reverses) throw new DomainError('ENTRY_IS_REVERSAL', 'conflict', `entry ${id} is itself a reversal; post a new entry instead`);
  const date = opts.date ? parseDate(opts.date, 'date') : ctx.clock.now().toISOString().slice(0, 10);
  const key = `reversal:${id}`;
  const already = await getEntriesByKey(pool, [key]);
  if (already.length) return already[0]!;
  const input: EntryInput = {
    key, date, memo: opts.memo ?? `Reversal of ${id}${original.memo ? `: ${original.memo}` : ''}`,
    postings: original.postings.map((p) => ({ account: p.account, asset: p.asset, amount: p.amount.startsWith('-') ? p.amount.slice(1) : '-' + p.amount })),
  };
  await postEntries(pool, [input], ctx, 'all', { reverses: new Map([[0, id]]) });
  return (await getEntriesByKey(pool, [key]))[0]!;
}
