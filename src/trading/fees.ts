import type { Client, Pool } from '../db/index.js';
import { cmpExact, divPow10Exact, exact, exactOfMinor, mulExact, roundExact, type Exact } from '../kernel/index.js';

export interface FeeRateRow {
  schedule: string; kind: string; side: string; rate: string; minimum: string | null; maximum: string | null; effective_from: string;
}

/** The fee rates of every schedule, loaded once per import. */
export class FeeBook {
  /** Rates already looked up: an import asks the same few questions for every fill. */
  private readonly memo = new Map<string, FeeRateRow | undefined>();

  private constructor(private readonly rows: FeeRateRow[]) {}

  static async load(db: Pool | Client): Promise<FeeBook> {
    const { rows } = await db.query<FeeRateRow>('SELECT schedule, kind, side, rate, minimum, maximum, effective_from FROM fee_rates ORDER BY effective_from DESC');
    return new FeeBook(rows);
  }

  /** The rate of `kind` in force on `date` for `side` (a side-specific rate wins over 'all'). */
  rate(schedule: string, kind: string, side: 'buy' | 'sell', date: string): FeeRateRow | undefined {
    const key = `${schedule}\u0000${kind}\u0000${side}\u0000${date}`;
    if (this.memo.has(key)) return this.memo.get(key);
    const found = this.lookup(schedule, kind, side, date);
    this.memo.set(key, found);
    return found;
  }

  /** The rates one trade's fees need, by schedule, side and date (one lookup a fill instead of five). */
  private readonly sets = new Map<string, RateSet>();
  rates(schedule: string, side: 'buy' | 'sell', date: string): RateSet {
    const key = `${schedule}\u0000${side}\u0000${date}`;
    let r = this.sets.get(key);
    if (!r) {
      this.sets.set(key, (r = {
        perShare: this.rate(schedule, 'commission_per_share', side, date),
        percent: this.rate(schedule, 'commission_percent', side, date),
        flat: this.rate(schedule, 'commission_flat', side, date),
        sec: side === 'sell' ? this.rate(schedule, 'sec_fee', side, date) : undefined,
        taf: side === 'sell' ? this.rate(schedule, 'finra_taf', side, date) : undefined,
      }));
    }
    return r;
  }

  private lookup(schedule: string, kind: string, side: 'buy' | 'sell', date: string): FeeRateRow | undefined {
    const inForce = (s: string) => this.rows.find((r) => r.schedule === s && r.kind === kind && (r.side === side || r.side === 'all') && r.effective_from <= date);
    // Regulatory fees are the same for everyone: they may sit in the 'regulatory' schedule.
    return inForce(schedule) ?? (kind === 'sec_fee' || kind === 'finra_taf' ? inForce('regulatory') : undefined);
  }
}

interface RateSet { perShare?: FeeRateRow; percent?: FeeRateRow; flat?: FeeRateRow; sec?: FeeRateRow; taf?: FeeRateRow }

export interface Fees {
  commission: bigint;
  secFee: bigint;
  finraTaf: bigint;
}

/** A rate row's decimals, read once per row (rows are memoised by FeeBook.rate). */
const parsed = new WeakMap<FeeRateRow, { rate: Exact; minimum: Exact | null; maximum: Exact | null }>();
const decimals = (r: FeeRateRow) => {
  let d = parsed.get(r);
  if (!d) parsed.set(r, (d = { rate: exact(r.rate, 'rate'), minimum: r.minimum === null ? null : exact(r.minimum, 'minimum'), maximum: r.maximum === null ? null : exact(r.maximum, 'maximum') }));
  return d;
};

const clamp = (v: Exact, r: FeeRateRow): Exact => {
  const { minimum, maximum } = decimals(r);
  let out = v;
  if (minimum !== null && cmpExact(out, minimum) < 0) out = minimum;
  if (maximum !== null && cmpExact(out, maximum) > 0) out = maximum;
  return out;
};

const ZERO: Exact = { m: 0n, e: 0 };

/**
 * Fees of one trade, in the currency's minor units. Exact decimal arithmetic (kernel's Exact):
 * no precision to run out of, one rounding per fee.
 * - Commission: per share, percent of gross, or flat; the schedule's minimum and maximum apply;
 *   rounded half-even to the cent.
 * - SEC Section 31 fee (sales only): gross proceeds x rate per million, rounded up to the cent
 *   (the convention of clearing firms passing the fee through).
 * - FINRA TAF (sales only): shares x rate per share, capped at the maximum per trade, rounded up.
 * `quantity` is the trade's quantity; `gross` its gross in minor units of the currency (`scale`).
 */
export function computeFees(book: FeeBook, t: { schedule: string; side: 'buy' | 'sell' | 'short'; quantity: Exact; gross: bigint; date: string; scale: number }): Fees {
  const side = t.side === 'buy' ? 'buy' : 'sell';
  const gross = exactOfMinor(t.gross, t.scale);
  let commission = ZERO;
  const { perShare, percent, flat, sec, taf } = book.rates(t.schedule, side, t.date);
  const c = perShare ?? percent ?? flat;
  if (c) {
    const rate = decimals(c).rate;
    const raw = perShare ? mulExact(t.quantity, rate) : percent ? divPow10Exact(mulExact(gross, rate), 2) : rate;
    commission = clamp(raw, c);
  }
  let secFee = ZERO;
  let finraTaf = ZERO;
  if (side === 'sell') {
    if (sec) secFee = divPow10Exact(mulExact(gross, decimals(sec).rate), 6);
    if (taf) finraTaf = clamp(mulExact(t.quantity, decimals(taf).rate), taf);
  }
  return {
    commission: roundExact(commission, t.scale, 'half_even'),
    secFee: roundExact(secFee, t.scale, 'ceil'),
    finraTaf: roundExact(finraTaf, t.scale, 'ceil'),
  };
}
