/**
 * Withholding tax on dividends paid to non-residents, and the named rounding functions of
 * corporate action cash.
 *
 * Rates are dated data (table withholding_tax_rates), imported from CSV:
 * `source_country,residence_country,rate_percent,effective_from` — the percent that the country
 * the dividend comes from withholds from holders resident in `residence_country` (a treaty rate),
 * or `*` for every country without a row of its own (the statutory rate). The rate in force on the
 * pay date applies.
 *
 * Who is withheld from: a customer account whose tax residency (reference accounts,
 * `tax_residency`) is another country than the dividend's source country. An account without a
 * recorded residency is treated as resident (no withholding) and named in the preview's warnings.
 * A non-resident with no rate for its country and no `*` rate stops the apply (nothing is guessed).
 */
import crypto from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { withTx, type Client, type Pool } from '../../db/index.js';
import { Dec, parseDate, roundToMinor, type Clock, type ErrorDetail } from '../../kernel/index.js';
import { appendAudit, lockBooks } from '../../ledger/index.js';
import { CorporateActionCodes as C, fileRejected } from './errors.js';

export interface WithholdingRate {
  sourceCountry: string;
  residenceCountry: string;
  ratePercent: string;
  effectiveFrom: string;
}

/**
 * A holder's dividend in minor units: |quantity| x rate, rounded DOWN (toward zero) to the
 * currency's minor unit, per account, with the quantity's sign (a short position is charged).
 * Rounding down per account never pays out more than the paying agent pays on the total.
 */
export function dividendAmount(quantity: Dec | string, rate: string, scale: number): bigint {
  const q = new Dec(quantity);
  const v = roundToMinor(q.abs().mul(rate), scale, 'down');
  return q.isNegative() ? -v : v;
}

/** Tax withheld from a gross dividend (minor units): gross x rate%, rounded HALF UP to the minor unit. */
export function withholdingAmount(gross: bigint, ratePercent: string, scale: number): bigint {
  if (gross <= 0n) return 0n;
  const units = new Dec(gross.toString()).div(new Dec(10).pow(scale));
  return roundToMinor(units.mul(ratePercent).div(100), scale, 'half_up');
}

/** The rates, for lookups in memory. */
export async function loadRates(c: Pool | Client): Promise<WithholdingRate[]> {
  const { rows } = await c.query(
    `SELECT source_country, residence_country, rate_percent::text AS rate_percent, effective_from::text AS effective_from
       FROM withholding_tax_rates ORDER BY source_country, residence_country, effective_from`);
  return rows.map((r) => ({ sourceCountry: r.source_country, residenceCountry: r.residence_country, ratePercent: new Dec(r.rate_percent).toFixed(), effectiveFrom: r.effective_from }));
}

/**
 * The rate `source` withholds from residents of `residence` on `date`: that country's row in
 * force, else the `*` row in force; undefined when there is neither.
 */
export function rateFor(rates: WithholdingRate[], source: string, residence: string, date: string): WithholdingRate | undefined {
  const inForce = (res: string) => rates
    .filter((r) => r.sourceCountry === source && r.residenceCountry === res && r.effectiveFrom <= date)
    .sort((a, b) => (a.effectiveFrom < b.effectiveFrom ? 1 : -1))[0];
  return inForce(residence) ?? inForce('*');
}

/**
 * Import withholding rates (`source_country,residence_country,rate_percent,effective_from`). All
 * or nothing; idempotent (a row already there with the same rate changes nothing; another rate for
 * the same country pair and date replaces it, audited).
 * @throws DomainError WITHHOLDING_RATES_INVALID naming each line, field and rule
 */
export async function importWithholdingRates(pool: Pool, text: string, file: string, ctx: { actor: string; clock: Clock }): Promise<{ received: number; created: number; updated: number; unchanged: number }> {
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parse(text, { columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()), skip_empty_lines: true, trim: true, bom: true, comment: '#', info: true });
  } catch (e) {
    throw fileRejected(C.RATES_INVALID, 'rates file', [{ record: file, rule: 'CSV', message: `${file}: not a readable CSV file: ${(e as Error).message}` }]);
  }
  const errs: ErrorDetail[] = [];
  const good: WithholdingRate[] = [];
  const seen = new Map<string, number>();
  for (const { record: v, info } of records) {
    const key = `${v.source_country ?? ''}/${v.residence_country ?? ''}/${v.effective_from ?? ''}`;
    const record = `${file} line ${info.lines} (${key})`;
    const n = errs.length;
    const err = (field: string, rule: string, m: string) => errs.push({ record, field, rule, message: `${record}: ${field}: ${m}` });
    if (!/^[A-Z]{2}$/.test(v.source_country ?? '')) err('source_country', 'ISO_3166', `"${v.source_country ?? ''}" must be a 2-letter country code`);
    if (!/^([A-Z]{2}|\*)$/.test(v.residence_country ?? '')) err('residence_country', 'ISO_3166', `"${v.residence_country ?? ''}" must be a 2-letter country code or *`);
    const rate = v.rate_percent ?? '';
    if (!/^\d+(\.\d+)?$/.test(rate) || new Dec(rate).gt(100)) err('rate_percent', 'PERCENT', `"${rate}" must be a percentage from 0 to 100`);
    try { parseDate(v.effective_from, 'effective_from'); } catch (e) { err('effective_from', 'DATE', (e as Error).message); }
    if (seen.has(key)) err('effective_from', 'DUPLICATE', `the same country pair and date appears on line ${seen.get(key)}`);
    seen.set(key, info.lines);
    if (errs.length > n) continue;
    good.push({ sourceCountry: v.source_country!, residenceCountry: v.residence_country!, ratePercent: new Dec(rate).toFixed(), effectiveFrom: v.effective_from! });
  }
  if (!records.length) errs.push({ record: file, rule: 'EMPTY', message: `${file}: no rates (columns source_country,residence_country,rate_percent,effective_from)` });
  if (errs.length) throw fileRejected(C.RATES_INVALID, 'rates file', errs);
  return withTx(pool, async (c) => {
    await lockBooks(c);
    const out = { received: good.length, created: 0, updated: 0, unchanged: 0 };
    const at = ctx.clock.now();
    for (const r of good) {
      const res = await c.query<{ inserted: boolean }>(
        `INSERT INTO withholding_tax_rates (source_country, residence_country, rate_percent, effective_from, updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (source_country, residence_country, effective_from) DO UPDATE SET rate_percent = excluded.rate_percent,
           updated_at = excluded.updated_at, updated_by = excluded.updated_by
         WHERE withholding_tax_rates.rate_percent <> excluded.rate_percent
         RETURNING (xmax = 0) AS inserted`, [r.sourceCountry, r.residenceCountry, r.ratePercent, r.effectiveFrom, at.toISOString(), ctx.actor]);
      if (!res.rowCount) { out.unchanged++; continue; }
      if (res.rows[0]!.inserted) out.created++; else out.updated++;
      await appendAudit(c, [{
        actor: ctx.actor, action: res.rows[0]!.inserted ? 'withholding_rate.add' : 'withholding_rate.update', entity: 'withholding_tax_rates',
        entityId: `${r.sourceCountry}/${r.residenceCountry}/${r.effectiveFrom}`, data: { ...r, file }, rowHash: crypto.createHash('sha256').update(JSON.stringify(r)).digest('hex'), at,
      }]);
    }
    return out;
  });
}
