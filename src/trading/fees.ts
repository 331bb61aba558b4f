import type { Client, Pool } from '../db/index.js';
import { Dec, roundToMinor, type Dec as D } from '../kernel/index.js';

export interface FeeRateRow {
  schedule: string; kind: string; side: string; rate: string; minimum: string | null; maximum: string | null; effective_from: string;
}

/** The fee rates of every schedule, loaded once per import. */
export class FeeBook {
  private constructor(private readonly rows: FeeRateRow[]) {}

  static async load(db: Pool | Client): Promise<FeeBook> {
    const { rows } = await db.query<FeeRateRow>('SELECT schedule, kind, side, rate, minimum, maximum, effective_from FROM fee_rates ORDER BY effective_from DESC');
    return new FeeBook(rows);
  }

  /** The rate of `kind` in force on `date` for `side` (a side-specific rate wins over 'all'). */
  rate(schedule: string, kind: string, side: 'buy' | 'sell', date: string): FeeRateRow | undefined {
    const inForce = (s: string) => this.rows.find((r) => r.schedule === s && r.kind === kind && (r.side === side || r.side === 'all') && r.effective_from <= date);
    // Regulatory fees are the same for everyone: they may sit in the 'regulatory' schedule.
    return inForce(schedule) ?? (kind === 'sec_fee' || kind === 'finra_taf' ? inForce('regulatory') : undefined);
  }
}

export interface Fees {
  commission: bigint;
  secFee: bigint;
  finraTaf: bigint;
}

const clamp = (v: D, min: string | null, max: string | null): D => {
  let out = v;
  if (min !== null && out.lt(min)) out = new Dec(min);
  if (max !== null && out.gt(max)) out = new Dec(max);
  return out;
};

/**
 * Fees of one trade, in the currency's minor units.
 * - Commission: per share, percent of gross, or flat; the schedule's minimum and maximum apply;
 *   rounded half-even to the cent.
 * - SEC Section 31 fee (sales only): gross proceeds x rate per million, rounded up to the cent
 *   (the convention of clearing firms passing the fee through).
 * - FINRA TAF (sales only): shares x rate per share, capped at the maximum per trade, rounded up.
 */
export function computeFees(book: FeeBook, t: { schedule: string; side: 'buy' | 'sell' | 'short'; quantity: D; gross: D; date: string; scale: number }): Fees {
  const side = t.side === 'buy' ? 'buy' : 'sell';
  let commission = new Dec(0);
  const perShare = book.rate(t.schedule, 'commission_per_share', side, t.date);
  const percent = book.rate(t.schedule, 'commission_percent', side, t.date);
  const flat = book.rate(t.schedule, 'commission_flat', side, t.date);
  const c = perShare ?? percent ?? flat;
  if (c) {
    const raw = perShare ? t.quantity.mul(c.rate) : percent ? t.gross.mul(c.rate).div(100) : new Dec(c.rate);
    commission = clamp(raw, c.minimum, c.maximum);
  }
  let secFee = new Dec(0);
  let finraTaf = new Dec(0);
  if (side === 'sell') {
    const sec = book.rate(t.schedule, 'sec_fee', side, t.date);
    if (sec) secFee = t.gross.mul(sec.rate).div(1_000_000);
    const taf = book.rate(t.schedule, 'finra_taf', side, t.date);
    if (taf) finraTaf = clamp(t.quantity.mul(taf.rate), taf.minimum, taf.maximum);
  }
  return {
    commission: roundToMinor(commission, t.scale, 'half_even'),
    secFee: roundToMinor(secFee, t.scale, 'ceil'),
    finraTaf: roundToMinor(finraTaf, t.scale, 'ceil'),
  };
}
