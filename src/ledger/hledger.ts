import type { Pool } from '../db/index.js';
import { fromMinor, parseDate } from '../kernel/index.js';
import { balances } from './balances.js';

/** hledger commodity: always quoted, so codes with digits (ISINs) parse too. */
const amt = (asset: string, value: string) => `"${asset}" ${value}`;
const clean = (s: string) => s.replace(/[\r\n;]+/g, ' ').trim();

/**
 * Write the journal (or the entries dated `from`..`to`) as an hledger journal, account names
 * kept. With `from`, an opening entry carries every balance as of the day before, so that
 * `hledger bal` on the file equals our balances as of `to`.
 */
export async function exportHledger(pool: Pool, out: (chunk: string) => void | Promise<void>, range: { from?: string; to?: string } = {}): Promise<{ entries: number }> {
  const from = range.from ? parseDate(range.from, 'from') : null;
  const to = range.to ? parseDate(range.to, 'to') : null;
  const scales = new Map((await pool.query<{ code: string; scale: number }>('SELECT code, scale FROM assets')).rows.map((r) => [r.code, r.scale]));
  await out(`; Backoffice ledger export${from ? ` from ${from}` : ''}${to ? ` to ${to}` : ''}\n; amounts in each asset's own scale\n\n`);
  for (const [code, scale] of [...scales].sort(([a], [b]) => (a < b ? -1 : 1))) {
    // hledger wants a decimal point in a commodity directive, even at scale 0 ("0.").
    await out(`commodity ${amt(code, '0.' + '0'.repeat(scale))}\n`);
  }
  await out('\n');
  if (from) {
    const day = new Date(`${from}T00:00:00Z`);
    day.setUTCDate(day.getUTCDate() - 1);
    const opening = await balances(pool, { asOf: day.toISOString().slice(0, 10) });
    if (opening.length) {
      await out(`${from} * Opening balances as of ${day.toISOString().slice(0, 10)}\n`);
      for (const b of opening) await out(`    ${b.account}  ${amt(b.asset, b.balance)}\n`);
      await out('\n');
    }
  }
  let count = 0;
  let cursor: [string, string] = ['0001-01-01', '-1'];
  for (;;) {
    const { rows } = await pool.query(
      `SELECT seq, id, effective_date, memo FROM journal_entries
        WHERE (effective_date, seq) > ($1::date, $2::bigint) AND ($3::date IS NULL OR effective_date >= $3) AND ($4::date IS NULL OR effective_date <= $4)
        ORDER BY effective_date, seq LIMIT 5000`, [cursor[0], cursor[1], from, to]);
    if (!rows.length) break;
    const ps = await pool.query(
      `SELECT p.entry_seq, a.name, p.asset, p.amount FROM postings p JOIN accounts a ON a.id = p.account_id
        WHERE p.entry_seq = ANY($1) ORDER BY p.entry_seq, p.line`, [rows.map((r) => r.seq.toString())]);
    const by = new Map<string, string[]>();
    for (const p of ps.rows) {
      const k = p.entry_seq.toString();
      const line = `    ${p.name}  ${amt(p.asset, fromMinor(BigInt(p.amount), scales.get(p.asset)!))}\n`;
      by.set(k, [...(by.get(k) ?? []), line]);
    }
    let text = '';
    for (const r of rows) {
      text += `${r.effective_date} * ${clean(r.memo) || r.id}  ; id:${r.id}\n${(by.get(r.seq.toString()) ?? []).join('')}\n`;
    }
    await out(text);
    count += rows.length;
    const last = rows[rows.length - 1];
    cursor = [last.effective_date, last.seq.toString()];
  }
  return { entries: count };
}
