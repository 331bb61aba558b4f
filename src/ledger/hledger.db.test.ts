/**
 * The hledger export, checked by the real hledger: what `hledger bal` computes from the exported
 * file must equal our balances, account by account and commodity by commodity, for the whole
 * journal and for a date range (whose export opens with the balances brought forward).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { testDb } from '../../test/db.js';
import { fixedClock } from '../kernel/index.js';
import {
  addAsset, openAccount, postEntries, reverseEntry, balances, exportHledger, type EntryInput,
} from './index.js';

// The CI installs Debian's hledger and sets REQUIRE_HLEDGER=1, so there a missing binary fails.
const haveHledger = spawnSync('hledger', ['--version'], { encoding: 'utf8' }).status === 0;
const skip = !haveHledger && process.env.REQUIRE_HLEDGER !== '1';

const ctx = { actor: 'exporter', clock: fixedClock('2026-04-01T12:00:00.000Z') };
const db = await testDb();
const pool = db.pool;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bo-hledger-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const e = (key: string, date: string, memo: string, legs: [string, string, string][]): EntryInput => ({
  key, date, memo, postings: legs.map(([account, asset, amount]) => ({ account, asset, amount })),
});

const AAPL = 'US0378331005'; // an ISIN: digits in a commodity symbol need quoting in hledger
const FRAC = 'BRK.B'; // a fractional share, scale 4, with a dot in its code

beforeAll(async () => {
  await addAsset(pool, { code: AAPL, scale: 0, name: 'Apple Inc.' }, ctx);
  await addAsset(pool, { code: FRAC, scale: 4 }, ctx);
  for (const [name, type] of [
    ['assets:bank', 'asset'], ['assets:bank:usd', 'asset'], ['assets:bank:jpy', 'asset'], ['assets:bank:eur', 'asset'],
    ['assets:depository:dtc', 'asset'], ['equity:capital', 'equity'], ['income:fees', 'income'], ['expenses:fx', 'expense'],
    ['customers:C-100_a.b:cash', 'liability'], ['customers:C-100_a.b:securities', 'liability'], ['customers:C-200:cash', 'liability'],
    ['customers:C-200:securities', 'liability'],
  ] as const) await openAccount(pool, { name, type }, ctx);

  await postEntries(pool, [
    e('cap-usd', '2026-01-02', 'Capital (USD)', [['assets:bank:usd', 'USD', '98765432109876.54'], ['equity:capital', 'USD', '-98765432109876.54']]),
    e('cap-jpy', '2026-01-02', 'Capital; in yen', [['assets:bank:jpy', 'JPY', '1500000000'], ['equity:capital', 'JPY', '-1500000000']]),
    // A parent account with postings of its own, next to its sub-accounts.
    e('petty', '2026-01-03', '(petty) cash | float', [['assets:bank', 'USD', '100.00'], ['assets:bank:usd', 'USD', '-100.00']]),
    e('dep-c1', '2026-01-05', 'Deposit\nC-100', [['assets:bank:usd', 'USD', '25000.00'], ['customers:C-100_a.b:cash', 'USD', '-25000.00']]),
    e('dep-c2', '2026-01-06', 'Deposit C-200 in EUR', [['assets:bank:eur', 'EUR', '1000.01'], ['customers:C-200:cash', 'EUR', '-1000.01']]),
  ], ctx);
  await postEntries(pool, [
    // A trade: cash and shares in one entry; a fee in the same entry.
    e('buy-aapl', '2026-02-10', 'Buy 120 AAPL @ 190.255', [
      ['customers:C-100_a.b:cash', 'USD', '22835.60'], ['assets:bank:usd', 'USD', '-22830.60'], ['income:fees', 'USD', '-5.00'],
      ['customers:C-100_a.b:securities', AAPL, '-120'], ['assets:depository:dtc', AAPL, '120'],
    ]),
    e('buy-frac', '2026-02-11', 'Buy 0.1234 BRK.B', [
      ['customers:C-200:securities', FRAC, '-0.1234'], ['assets:depository:dtc', FRAC, '0.1234'],
      ['customers:C-200:cash', 'EUR', '55.5'], ['assets:bank:eur', 'EUR', '-55.50'],
    ]),
    e('fx', '2026-02-15', 'FX JPY->USD', [
      ['assets:bank:jpy', 'JPY', '-1000001'], ['expenses:fx', 'JPY', '1000001'], ['expenses:fx', 'USD', '-6711.43'], ['assets:bank:usd', 'USD', '6711.43'],
    ]),
    e('tiny', '2026-03-01', 'Smallest units', [['customers:C-200:securities', FRAC, '0.0001'], ['assets:depository:dtc', FRAC, '-0.0001']]),
    e('wrong', '2026-03-02', 'Posted by mistake', [['income:fees', 'USD', '-1234567.89'], ['customers:C-200:cash', 'USD', '1234567.89']]),
  ], ctx);
  const wrong = (await pool.query('SELECT id FROM journal_entries WHERE idempotency_key = $1', ['wrong'])).rows[0].id;
  await reverseEntry(pool, wrong, ctx, { date: '2026-03-03' });
});

/** Minimal RFC 4180 reader: quoted fields, doubled quotes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (ch === '"') quoted = false; else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(field); field = ''; } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field); rows.push(row); row = []; field = '';
    } else field += ch;
  }
  if (field || row.length) { row.push(field); rows.push(row); }
  return rows;
}

/**
 * A decimal string in one canonical spelling, by string operations only (never a JS number):
 * no thousands separators, no plus sign, no trailing fractional zeros, no "-0".
 */
function canonicalAmount(text: string): string {
  let s = text.trim().replace(/[,_ \u00a0]/g, '');
  expect(s, `amount "${text}"`).toMatch(/^[+-]?\d+(\.\d*)?$/);
  const neg = s.startsWith('-');
  s = s.replace(/^[+-]/, '');
  let [int, frac = ''] = s.split('.') as [string, string?];
  int = int.replace(/^0+(?=\d)/, '');
  frac = frac.replace(/0+$/, '');
  const body = frac ? `${int}.${frac}` : int;
  return neg && body !== '0' ? `-${body}` : body;
}

const unquote = (s: string) => s.trim().replace(/^"(.*)"$/, '$1');

/** Export (with a range), run `hledger bal` on the file, return its rows in our shape. */
async function hledgerBalances(range: { from?: string; to?: string } = {}) {
  let text = '';
  const { entries } = await exportHledger(pool, (chunk) => { text += chunk; }, range);
  const file = path.join(dir, `export-${range.from ?? 'start'}-${range.to ?? 'end'}.journal`);
  fs.writeFileSync(file, text);
  // --layout=bare: one row per account and commodity, the symbol in its own column.
  const r = spawnSync('hledger', ['-f', file, 'bal', '--flat', '--no-total', '-O', 'csv', '--layout=bare'], { encoding: 'utf8' });
  expect(r.error).toBeUndefined();
  expect(r.stderr, `hledger refused the export:\n${r.stderr}\n--- ${file}:\n${text}`).toBe('');
  expect(r.status).toBe(0);
  const [header, ...rows] = parseCsv(r.stdout);
  expect(header).toEqual(['account', 'commodity', 'balance']);
  const got = rows.map(([account, commodity, balance]) => ({ account: account!, asset: unquote(commodity!), balance: canonicalAmount(balance!) }))
    .sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : a.asset < b.asset ? -1 : 1));
  return { got, entries, text };
}

const ours = async (asOf?: string) =>
  (await balances(pool, asOf ? { asOf } : {})).map((b) => ({ ...b, balance: canonicalAmount(b.balance) }));

describe('hledger export', () => {
  // Regression (fixed): src/ledger/hledger.ts declares scale-0 commodities as
  // `commodity "JPY" 0`, which hledger (1.25, Debian's) refuses: "Please include a decimal point or
  // decimal comma in commodity directives". `commodity "JPY" 0.` would do. Every test here fails
  // now, as hledger could not read the file at all before the fix.
  it.skipIf(skip)('hledger reads the whole journal and its balances equal ours', async () => {
    const { got, entries } = await hledgerBalances();
    expect(entries).toBe(11);
    const want = await ours();
    // The export must cover every asset kind used: a sanity check of the fixture itself.
    expect(new Set(want.map((w) => w.asset))).toEqual(new Set(['USD', 'JPY', 'EUR', AAPL, FRAC]));
    expect(got).toEqual(want);
  });

  it.skipIf(skip)('a date range opens with the balances brought forward and ends at balances as of its last day', async () => {
    const { got, entries, text } = await hledgerBalances({ from: '2026-02-01', to: '2026-02-28' });
    expect(entries).toBe(3);
    expect(text).toContain('2026-02-01 * Opening balances as of 2026-01-31');
    expect(got).toEqual(await ours('2026-02-28'));
  });

  it.skipIf(skip)('an open-ended range: up to a date, and from a date', async () => {
    const upTo = await hledgerBalances({ to: '2026-02-10' });
    expect(upTo.got).toEqual(await ours('2026-02-10'));
    // From the reversal's day on: the opening carries the mistaken entry, the range reverses it.
    const from = await hledgerBalances({ from: '2026-03-03' });
    expect(from.entries).toBe(1);
    expect(from.got).toEqual(await ours());
  });
});
