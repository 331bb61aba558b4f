/**
 * Standard settlement cycles (T+N, N settlement days after the trade date) per market and asset
 * class, dated by trade date. Regulators change them; each row holds from its `from` trade date
 * until the next row's.
 *
 * Sources:
 * - US: SEC Rule 15c6-1 (T+3 for trades from 1995-06-07, before that the T+5 street convention;
 *   T+2 from 2017-09-05; T+1 from 2024-05-28). It covers corporate bonds as well as equities.
 *   Treasuries settle T+1 by market convention; listed options T+1 (OCC).
 * - UK: London Stock Exchange and CRESTCo, T+3 from 2001-02-05 for equities and corporate debt
 *   (T+5 before); T+2 from 2014-10-06 (with the EU's CSDR); T+1 from 2027-10-11 (Accelerated
 *   Settlement Taskforce, accepted by HM Government).
 * - EU: CSDR article 5, T+2 for transferable securities traded on venues from 2014-10-06; T+1 from
 *   2027-10-11 (the 2025 amendment of CSDR article 5).
 */
import { calendarError, CalendarCodes } from './errors.js';

/** The asset classes that have settlement cycles. */
export const ASSET_CLASSES = ['equity', 'corporate_bond', 'government_bond', 'option'] as const;
/** equity, corporate_bond, government_bond (US Treasuries) or option (listed options). */
export type AssetClass = (typeof ASSET_CLASSES)[number];

interface CycleRow {
  markets: readonly string[];
  assetClasses: readonly AssetClass[];
  /** First trade date the cycle applies to. */
  from: string;
  days: number;
}

const US = ['XNYS', 'XNAS'];
const UK = ['XLON'];
const EU = ['XETR', 'XPAR', 'XAMS', 'XBRU', 'XMIL'];
const SECURITIES: readonly AssetClass[] = ['equity', 'corporate_bond'];

const CYCLES: readonly CycleRow[] = [
  { markets: US, assetClasses: SECURITIES, from: '1990-01-01', days: 5 },
  { markets: US, assetClasses: SECURITIES, from: '1995-06-07', days: 3 },
  { markets: US, assetClasses: SECURITIES, from: '2017-09-05', days: 2 },
  { markets: US, assetClasses: SECURITIES, from: '2024-05-28', days: 1 },
  { markets: US, assetClasses: ['government_bond'], from: '1990-01-01', days: 1 },
  { markets: US, assetClasses: ['option'], from: '1990-01-01', days: 1 },
  // Before 2001 the UK ran T+10 then T+5 rolling settlement (and account settlement before 1994); not kept.
  { markets: UK, assetClasses: SECURITIES, from: '2001-02-05', days: 3 },
  { markets: UK, assetClasses: SECURITIES, from: '2014-10-06', days: 2 },
  { markets: UK, assetClasses: SECURITIES, from: '2027-10-11', days: 1 },
  // Before CSDR the euro markets' cycles differed by country (T+2 in Germany, T+3 elsewhere); not kept.
  { markets: EU, assetClasses: SECURITIES, from: '2014-10-06', days: 2 },
  { markets: EU, assetClasses: SECURITIES, from: '2027-10-11', days: 1 },
];

/** @throws DomainError CALENDAR_ASSET_CLASS_UNKNOWN naming the asset class and the known ones */
export function assetClassOf(assetClass: unknown): AssetClass {
  if (typeof assetClass === 'string' && (ASSET_CLASSES as readonly string[]).includes(assetClass)) return assetClass as AssetClass;
  throw calendarError(CalendarCodes.ASSET_CLASS_UNKNOWN,
    `asset class "${String(assetClass)}" is unknown; known asset classes: ${ASSET_CLASSES.join(', ')}`, 'assetClass');
}

const rowsFor = (mic: string, assetClass: AssetClass) =>
  CYCLES.filter((r) => r.markets.includes(mic) && r.assetClasses.includes(assetClass)).sort((a, b) => (a.from < b.from ? -1 : 1));

/** The asset classes with a cycle on this market. */
export const assetClassesOf = (mic: string): AssetClass[] => ASSET_CLASSES.filter((c) => rowsFor(mic, c).length > 0);

/** The cycle rows of one market and asset class, oldest first: {from, days}. */
export const cycleHistory = (mic: string, assetClass: AssetClass): { from: string; days: number }[] =>
  rowsFor(mic, assetClass).map(({ from, days }) => ({ from, days }));

/**
 * N in T+N for a trade on `tradeDate` (already validated).
 * @throws DomainError CALENDAR_NO_SETTLEMENT_CYCLE when no cycle is kept for that market, class and date
 */
export function cycleOn(mic: string, assetClass: AssetClass, tradeDate: string): number {
  const rows = rowsFor(mic, assetClass);
  if (!rows.length) {
    throw calendarError(CalendarCodes.NO_SETTLEMENT_CYCLE,
      `no settlement cycle is kept for ${assetClass} on ${mic}; asset classes with a cycle there: ${assetClassesOf(mic).join(', ')}`, 'assetClass');
  }
  let days: number | undefined;
  for (const r of rows) if (r.from <= tradeDate) days = r.days;
  if (days === undefined) {
    throw calendarError(CalendarCodes.NO_SETTLEMENT_CYCLE,
      `no settlement cycle is kept for ${assetClass} on ${mic} for trade date ${tradeDate}; the kept history starts with trades on ${rows[0]!.from}`, 'tradeDate');
  }
  return days;
}
