/**
 * Helpers of the corporate-action DB tests: settle a date's obligations through the settlement
 * module (net, instruct, statuses), as the end of day would, with chosen outcomes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pool } from '../../db/index.js';
import { fromMinor, type Clock } from '../../kernel/index.js';
import { applyStatuses, computeObligations, instructObligations } from '../../settlement/index.js';

/**
 * Net `date`, instruct its obligations (sese.023 to a temporary folder) and apply a status CSV
 * settling each one, or failing those `fail(counterparty, symbol)` names.
 */
export async function settleDate(pool: Pool, date: string, ctx: { actor: string; clock: Clock }, fail: (cpty: string, symbol: string) => boolean = () => false): Promise<void> {
  await computeObligations(pool, date, ctx);
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ca-instr-'));
  await instructObligations(pool, date, { format: 'sese023', outDir, ourBic: 'BOFFUS33', placeBic: 'DTCYUS33', safekeepingAccount: 'SAFE-001' }, ctx);
  const { rows } = await pool.query<{ reference: string; counterparty: string; symbol: string; quantity: string; cash: string; scale: number }>(
    `SELECT i.reference, o.counterparty, o.symbol, o.quantity::text AS quantity, o.cash::text AS cash, a.scale
       FROM settlement_instructions i JOIN settlement_obligations o ON o.id = i.obligation_id JOIN assets a ON a.code = o.currency
      WHERE o.settle_date = $1 AND o.status = 'instructed' ORDER BY o.counterparty, o.symbol`, [date]);
  if (!rows.length) return;
  const abs = (v: string) => v.replace(/^-/, '');
  const csv = ['reference,status,settled_quantity,settled_amount,settle_date,reason', ...rows.map((r) => (fail(r.counterparty, r.symbol)
    ? `${r.reference},failed,,,,LACK`
    : `${r.reference},settled,${abs(r.quantity)},${abs(fromMinor(BigInt(r.cash), r.scale))},${date},`))].join('\n');
  await applyStatuses(pool, csv, ctx);
  fs.rmSync(outDir, { recursive: true, force: true });
}
