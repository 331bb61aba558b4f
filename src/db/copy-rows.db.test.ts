/**
 * copyOutRows on a real server: its own parser of the protocol (pg-copy-streams' internals, pinned
 * to 7.0.x) must hand over every row COPY sends, whole, also when a row or a message header is
 * split between network chunks, give the connection back to pg at the end and on an error, and
 * leave it usable.
 */
import { describe, it, expect } from 'vitest';
import { testDb } from '../../test/db.js';
import { copyOutBuffer, copyOutRows } from './index.js';

const db = await testDb();

async function rowsOf(query: string): Promise<{ rows: string[]; n: number }> {
  const c = await db.pool.connect();
  try {
    const rows: string[] = [];
    const n = await copyOutRows(c, query, (buf, s, e) => { rows.push(buf.toString('utf8', s, e)); });
    // The connection is pg's again.
    expect((await c.query('SELECT 41 + 1 AS n')).rows[0].n).toBe(42);
    return { rows, n };
  } finally {
    c.release();
  }
}

describe('copyOutRows', () => {
  it('hands over the rows copyOutBuffer returns, across many network chunks, long rows included', async () => {
    // Rows of every length from 2 bytes to 300 KB: headers and rows fall across chunk boundaries.
    const q = `SELECT i, CASE WHEN i % 1000 = 0 THEN E'tab\\there' WHEN i % 5000 = 3 THEN repeat('x', i * 3) ELSE 'x' || i END,
                      CASE WHEN i % 7 = 0 THEN NULL ELSE i * 2 END FROM generate_series(1, 100000) i`;
    const { rows, n } = await rowsOf(q);
    const c = await db.pool.connect();
    let expected: string[];
    try {
      expected = (await copyOutBuffer(c, q)).toString('utf8').split('\n');
    } finally {
      c.release();
    }
    expect(expected.pop()).toBe('');
    expect(n).toBe(100_000);
    expect(rows).toHaveLength(100_000);
    expect(rows).toEqual(expected);
    expect(rows[0]).toBe('1\tx1\t2');
    expect(rows[6]).toBe('7\tx7\t\\N');
    expect(rows[999]).toBe('1000\ttab\\there\t2000');
    expect(rows[95002]!.length).toBe('95003\t'.length + 95003 * 3 + '\t190006'.length);
  });

  it('calls nothing for no rows', async () => {
    expect(await rowsOf('SELECT 1 WHERE false')).toEqual({ rows: [], n: 0 });
  });

  it('rejects with the server error raised mid-stream and leaves the connection usable', async () => {
    const c = await db.pool.connect();
    try {
      let seen = 0;
      await expect(copyOutRows(c, 'SELECT 1 / (100000 - i) FROM generate_series(1, 200000) i', () => { seen++; })).rejects.toThrow(/division by zero/);
      expect(seen).toBeLessThan(100_000);
      expect((await c.query('SELECT 2 AS n')).rows[0].n).toBe(2);
    } finally {
      c.release();
    }
  });

  it("rejects with the caller's error, reads the rest and leaves the connection usable", async () => {
    const c = await db.pool.connect();
    try {
      let seen = 0;
      const run = copyOutRows(c, 'SELECT i FROM generate_series(1, 100000) i', (buf, s, e) => {
        seen++;
        if (buf.toString('latin1', s, e) === '500') throw new Error('row 500 is bad');
      });
      await expect(run).rejects.toThrow('row 500 is bad');
      expect(seen).toBe(500);
      expect((await c.query('SELECT 3 AS n')).rows[0].n).toBe(3);
    } finally {
      c.release();
    }
  });
});
