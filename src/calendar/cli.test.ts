import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../kernel/index.js';
import { calendarCommands } from './cli.js';

async function run(...args: string[]): Promise<string> {
  let out = '';
  const program = new Command('backoffice').exitOverride();
  calendarCommands(program, (t) => (out += t));
  await program.parseAsync(args, { from: 'user' });
  return out;
}

describe('backoffice calendar', () => {
  it('settlement-date prints the date, or JSON', async () => {
    expect(await run('calendar', 'settlement-date', '--market', 'XNYS', '--trade-date', '2026-10-09')).toBe('2026-10-13\n');
    expect(JSON.parse(await run('calendar', 'settlement-date', '--market', 'xnys', '--trade-date', '2024-05-24', '--asset-class', 'equity', '--json')))
      .toEqual({ market: 'XNYS', tradeDate: '2024-05-24', assetClass: 'equity', cycle: 2, settlementDate: '2024-05-29' });
  });

  it('business-days lists the days, both ends included', async () => {
    expect(await run('calendar', 'business-days', '--market', 'XNYS', '--from', '2026-10-09', '--to', '2026-10-13')).toBe('2026-10-09\n2026-10-12\n2026-10-13\n');
    const j = JSON.parse(await run('calendar', 'business-days', '--market', 'XNYS', '--from', '2026-10-09', '--to', '2026-10-13', '--kind', 'settlement', '--json'));
    expect(j).toEqual({ market: 'XNYS', from: '2026-10-09', to: '2026-10-13', kind: 'settlement', count: 2, days: ['2026-10-09', '2026-10-13'] });
  });

  it('holidays prints a table, or JSON', async () => {
    const text = await run('calendar', 'holidays', '--market', 'XNYS', '--year', '2026');
    expect(text).toContain('2026-10-12  no_settlement  Columbus Day (Federal Reserve closed)');
    expect(text).toContain('2026-11-27  early_close    Day after Thanksgiving (closes 13:00)');
    const rows = JSON.parse(await run('calendar', 'holidays', '--market', 'XLON', '--year', '2025', '--json'));
    expect(rows[1]).toEqual({ date: '2025-04-18', name: 'Good Friday', kind: 'closed' });
  });

  it('bad input is a DomainError for the program to map to an exit code', async () => {
    await expect(run('calendar', 'settlement-date', '--market', 'XNYS', '--trade-date', '2026-10-10')).rejects.toMatchObject({ code: 'CALENDAR_NOT_TRADING_DAY' });
    await expect(run('calendar', 'settlement-date', '--market', 'XNYS', '--trade-date', '2026-10-09', '--asset-class', 'crypto')).rejects.toBeInstanceOf(DomainError);
    await expect(run('calendar', 'holidays', '--market', 'XNYS', '--year', 'next')).rejects.toMatchObject({ code: 'CALENDAR_ARGUMENT_INVALID' });
    await expect(run('calendar', 'business-days', '--market', 'NOPE', '--from', '2026-01-01', '--to', '2026-01-31')).rejects.toMatchObject({ code: 'CALENDAR_MARKET_UNKNOWN' });
  });
});
