import crypto from 'node:crypto';
import cc from 'currency-codes';
import type { Client, Pool } from '../db/index.js';
import { copyUnescape } from '../db/index.js';
import { systemClock, type Clock } from '../kernel/index.js';

/** Who acts and the clock: passed in by the CLI, the API and tests. */
export interface ReconCtx {
  actor: string;
  clock: Clock;
}

export const ctxOf = (ctx: Partial<ReconCtx> = {}): ReconCtx => ({ actor: ctx.actor ?? 'system', clock: ctx.clock ?? systemClock });

export const sha256 = (s: string): string => crypto.createHash('sha256').update(s).digest('hex');

/** JSON with sorted keys and no spaces: the same value always hashes the same. */
export function canonical(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'bigint') return JSON.stringify(v.toString());
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return '{' + Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => JSON.stringify(k) + ':' + canonical(o[k])).join(',') + '}';
  }
  return JSON.stringify(v);
}

/** Serialises the runs and break actions of one statement account. */
export async function lockAccount(c: Client, account: string): Promise<void> {
  await c.query('SELECT pg_advisory_xact_lock(7243010, hashtext($1))', [account]);
}

/** Serialises statement imports (their idempotency checks). */
export async function lockImports(c: Client): Promise<void> {
  await c.query('SELECT pg_advisory_xact_lock(7243011)');
}

/** Scale of an asset: the ledger's, else the ISO 4217 minor units of a currency not yet used; null when unknown. */
export async function scaleOf(db: Pool | Client, asset: string): Promise<number | null> {
  const r = await db.query<{ scale: number }>('SELECT scale FROM assets WHERE code = $1', [asset]);
  if (r.rows[0]) return r.rows[0].scale;
  const iso = cc.code(asset);
  return iso ? iso.digits : null;
}

const DAY_MS = 86_400_000;
/** Days since 1970-01-01 of a YYYY-MM-DD date. */
export const dayOf = (date: string): number => Math.round(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
export const dateOfDay = (day: number): string => new Date(day * DAY_MS).toISOString().slice(0, 10);

// ---------------------------------------------------------------------------------------------
// COPY text, byte by byte: a run reads a million rows on each side and writes a million matches;
// a string or an object per field made most of its time (garbage collection).

const TAB = 9, NL = 10, BACKSLASH = 92, MINUS = 45, ZERO = 48;

/** Reads the fields of COPY text rows in a buffer, in order: `next()` moves to the next field. */
export class CopyReader {
  pos = 0;
  /** The current field: buf[s, e). */
  s = 0;
  e = 0;
  constructor(readonly buf: Buffer) {}

  /** The number of rows (lines) in the buffer. */
  rows(): number {
    let n = 0;
    for (let p = this.buf.indexOf(NL, 0); p >= 0; p = this.buf.indexOf(NL, p + 1)) n++;
    return n;
  }

  next(): this {
    const b = this.buf;
    let p = this.pos;
    this.s = p;
    for (let x = b[p]; x !== TAB && x !== NL && x !== undefined; x = b[++p]);
    this.e = p;
    this.pos = p + 1;
    return this;
  }

  isNull(): boolean {
    return this.e - this.s === 2 && this.buf[this.s] === BACKSLASH && this.buf[this.s + 1] === 78;
  }

  /** The field as an integer: a double when exact (up to 15 digits), else NaN (see `bigint()`). */
  int(): number {
    const b = this.buf;
    let p = this.s;
    const neg = b[p] === MINUS;
    if (neg) p++;
    if (this.e - p > 15 || p >= this.e) return NaN;
    let v = 0;
    for (; p < this.e; p++) {
      const d = b[p]! - ZERO;
      if (d < 0 || d > 9) return NaN;
      v = v * 10 + d;
    }
    return neg ? -v : v;
  }

  /** The field as a bigint (throws on anything but an integer). */
  bigint(): bigint {
    return BigInt(this.buf.toString('latin1', this.s, this.e));
  }

  /** The field contains `byte`. */
  has(byte: number): boolean {
    for (let p = this.s; p < this.e; p++) if (this.buf[p] === byte) return true;
    return false;
  }

  str(): string {
    return copyString(this.buf, this.s, this.e);
  }
}

/** The string of COPY text field buf[s, e) (unescaped). */
export function copyString(buf: Buffer, s: number, e: number): string {
  const raw = buf.toString('utf8', s, e);
  return raw.includes('\\') ? copyUnescape(raw) : raw;
}

/** FNV-1a of buf[s, e). */
export function hashBytes(buf: Buffer, s: number, e: number): number {
  let h = 0x811c9dc5;
  for (let p = s; p < e; p++) h = Math.imul(h ^ buf[p]!, 0x01000193);
  return h >>> 0;
}

/** a[as, ae) and b[bs, be) hold the same bytes. */
export function sameBytes(a: Buffer, as: number, ae: number, b: Buffer, bs: number, be: number): boolean {
  if (ae - as !== be - bs) return false;
  for (let i = 0; i < ae - as; i++) if (a[as + i] !== b[bs + i]) return false;
  return true;
}

/**
 * Builds COPY text in buffers of `size` bytes: ASCII, pre-encoded bytes and integers written in
 * place; the short constant parts copied byte by byte (a Buffer.copy per part cost more than the row).
 */
export class CopyWriter {
  private buf: Buffer;
  pos = 0;
  constructor(private readonly size = 1 << 18) { this.buf = Buffer.allocUnsafe(size); }

  /** Room for `n` more bytes; a full buffer is handed back (to send) and a new one started. */
  room(n: number): Buffer | null {
    if (this.pos + n <= this.buf.length) return null;
    const full = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(Math.max(this.size, n));
    this.pos = 0;
    return full;
  }

  bytes(b: Buffer): void {
    const t = this.buf;
    let p = this.pos;
    for (let i = 0; i < b.length; i++) t[p++] = b[i]!;
    this.pos = p;
  }

  byte(x: number): void { this.buf[this.pos++] = x; }

  /** A safe integer (in int32 arithmetic below 2^31: division and remainder of doubles cost more than the row). */
  int(n: number): void {
    const b = this.buf;
    if (n < 0) { b[this.pos++] = MINUS; n = -n; }
    if (n < 2147483648) {
      let x = n | 0, len = 1;
      for (let y = x; y >= 10; y = (y / 10) | 0) len++;
      let p = this.pos + len;
      this.pos = p;
      do { const q = (x / 10) | 0; b[--p] = ZERO + x - q * 10; x = q; } while (x > 0);
      return;
    }
    let len = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) len++;
    let p = this.pos + len;
    this.pos = p;
    do { b[--p] = ZERO + (n % 10); n = Math.floor(n / 10); } while (n > 0);
  }

  /** What is left. */
  end(): Buffer { return this.buf.subarray(0, this.pos); }
}
