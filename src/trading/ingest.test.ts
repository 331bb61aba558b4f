import { describe, it, expect } from 'vitest';
import { csvExecutions, readCsvExecutions } from './ingest.js';

const HEADER = 'exec_id,account,symbol,side,quantity,price,trade_date,counterparty,currency';

describe('executions CSV read one record at a time', () => {
  it('numbers lines as the file does, with CRLF, blank and comment lines, and counts the records first', () => {
    const text = [HEADER, 'A1,C1,AAPL,buy,10,190.25,2026-03-02,GSCO,USD', '', '# a comment', 'A2,C1,AAPL,"sell",5,191,2026-03-02,GSCO,USD', 'A3,C1,AAPL,buy,1'].join('\r\n') + '\r\n';
    const lazy = csvExecutions(text);
    expect(lazy.count).toBe(3);
    const records = [...lazy];
    expect(records.map((r) => r.record)).toEqual(['line 2 (exec A1)', 'line 5 (exec A2)', 'line 6']);
    // A quoted line goes through csv-parse; a short one is quarantined with its reason; the raw keeps the header.
    expect(records[1]).toMatchObject({ execId: 'A2', side: 'sell', quantity: '5', raw: `${HEADER}\nA2,C1,AAPL,"sell",5,191,2026-03-02,GSCO,USD` });
    expect(records[2]).toMatchObject({ rule: 'CSV_MALFORMED', reason: expect.stringContaining('line 6:') });
    // The same records as the whole file read at once, and again on a second pass.
    expect(readCsvExecutions(text)).toEqual(records);
    expect([...lazy]).toEqual(records);
  });

  it('checks the header before any record is read', () => {
    expect(() => csvExecutions('exec_id,account\nA1,C1')).toThrow(/missing column\(s\) symbol, side, quantity, price, trade_date, counterparty, currency/);
    expect(csvExecutions(HEADER).count).toBe(0);
    expect([...csvExecutions(`${HEADER}\n`)]).toEqual([]);
  });
});
