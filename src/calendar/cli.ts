/**
 * The `backoffice calendar ...` commands. Pure computation: no database is opened.
 */
import type { Command } from 'commander';
import { businessDays, DAY_KINDS, holidays, type DayKind } from './business-days.js';
import { calendarError, CalendarCodes } from './errors.js';
import { marketDefinition } from './markets.js';
import { settlementCycle, settlementDate } from './settlement.js';
import { ASSET_CLASSES, type AssetClass } from './settlement-cycles.js';

type Write = (text: string) => void;

/**
 * Registers `calendar settlement-date`, `calendar business-days` and `calendar holidays` on the
 * program. Each prints plain text, or JSON with `--json`; errors are thrown as DomainError for the
 * program's handler to map to an exit code.
 * @param write where output goes (standard output by default; tests capture it)
 */
export function calendarCommands(program: Command, write: Write = (t) => process.stdout.write(t)): Command {
  const calendar = program.command('calendar').description('market and settlement calendars: trading days, settlement days, holidays');
  const out = (json: boolean | undefined, value: unknown, text: () => string) => write((json ? JSON.stringify(value, null, 2) : text()) + '\n');

  calendar.command('settlement-date')
    .description('the settlement date of a trade: the cycle in force on the trade date, counted in settlement days')
    .requiredOption('--market <mic>', 'market identifier code, e.g. XNYS')
    .requiredOption('--trade-date <date>', 'trade date, YYYY-MM-DD (must be a trading day)')
    .option('--asset-class <class>', `asset class: ${ASSET_CLASSES.join(', ')}`, 'equity')
    .option('--json', 'JSON output: {market, tradeDate, assetClass, cycle, settlementDate}')
    .action((o: { market: string; tradeDate: string; assetClass: AssetClass; json?: boolean }) => {
      // The asset class is checked by settlementDate, which names it when unknown.
      const market = marketDefinition(o.market).mic;
      const date = settlementDate({ market, tradeDate: o.tradeDate, assetClass: o.assetClass });
      const cycle = settlementCycle(market, o.assetClass, o.tradeDate);
      out(o.json, { market, tradeDate: o.tradeDate, assetClass: o.assetClass, cycle, settlementDate: date }, () => date);
    });

  calendar.command('business-days')
    .description('the trading (or settlement) days from one date to another, both included')
    .requiredOption('--market <mic>', 'market identifier code, e.g. XNYS')
    .requiredOption('--from <date>', 'first date, YYYY-MM-DD')
    .requiredOption('--to <date>', 'last date, YYYY-MM-DD')
    .option('--kind <kind>', `which days: ${DAY_KINDS.join(' or ')}`, 'trading')
    .option('--json', 'JSON output: {market, from, to, kind, count, days}')
    .action((o: { market: string; from: string; to: string; kind: DayKind; json?: boolean }) => {
      const market = marketDefinition(o.market).mic;
      const days = businessDays(market, o.from, o.to, o.kind);
      out(o.json, { market, from: o.from, to: o.to, kind: o.kind, count: days.length, days }, () => (days.length ? days.join('\n') : '(none)'));
    });

  calendar.command('holidays')
    .description('the weekdays of a year on which the market is closed, does not settle, or closes early')
    .requiredOption('--market <mic>', 'market identifier code, e.g. XNYS')
    .requiredOption('--year <year>', 'year, e.g. 2026')
    .option('--json', 'JSON output: [{date, name, kind, close?}]')
    .action((o: { market: string; year: string; json?: boolean }) => {
      if (!/^\d{4}$/.test(o.year)) throw calendarError(CalendarCodes.ARGUMENT_INVALID, `--year ${o.year}: a four-digit year`, 'year');
      const rows = holidays(o.market, Number(o.year));
      out(o.json, rows, () => (rows.length
        ? rows.map((r) => `${r.date}  ${r.kind.padEnd(13)}  ${r.name}${r.close ? ` (closes ${r.close})` : ''}`).join('\n')
        : '(none)'));
    });

  return calendar;
}
