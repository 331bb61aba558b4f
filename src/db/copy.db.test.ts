/**
 * COPY helpers on a real server: copyOutBuffer's own parser of the protocol (it takes over
 * pg-copy-streams' internals, pinned to 7.0.x in package.json) must give the bytes COPY sends,
 * hand the connection back to pg at the end and on an error, and leave it usable.
 */
import { describe, it, expect } from 'vitest';
import { testDb } from '../../test/db.js';
import { copyInto, copyOutBuffer, copyRow, copyTextRows, copyUnescape } from './index.js';

const db = await testDb();

describe('copyOutBuffer', () => {
  it('returns COPY text row for row, escapes kept, across many network chunks', async () => {
    const c = await db.pool.connect();
    try {
      const buf = await copyOutBuffer(c, `SELECT i, CASE WHEN i % 1000 = 0 THEN E'tab\\there' ELSE 'x' || i END, CASE WHEN i % 7 = 0 THEN NULL ELSE i * 2 END FROM generate_series(1, 200000) i`);
      const lines = buf.toString('utf8').split('\n');
      expect(lines.pop()).toBe('');
      expect(lines).toHaveLength(200_000);
      expect(lines[0]).toBe('1\tx1\t2');
      expect(lines[6]).toBe('7\tx7\t\\N');
      expect(lines[999]).toBe('1000\ttab\\there\t2000');
      expect(copyUnescape(lines[999]!.split('\t')[1]!)).toBe('tab\there');
      // The connection is pg's again.
      expect((await c.query('SELECT 41 + 1 AS n')).rows[0].n).toBe(42);
    } finally {
      c.release();
    }
  });

  it('gives an empty buffer for no rows', async () => {
    const c = await db.pool.connect();
    try {
      expect((await copyOutBuffer(c, 'SELECT 1 WHERE false')).length).toBe(0);
      expect((await c.query('SELECT 1 AS n')).rows[0].n).toBe(1);
    } finally {
      c.release();
    }
  });

  it('rejects with the server error raised mid-stream and leaves the connection usable', async () => {
    const c = await db.pool.connect();
    try {
      await expect(copyOutBuffer(c, 'SELECT 1 / (100000 - i) FROM generate_series(1, 200000) i')).rejects.toThrow(/division by zero/);
      expect((await c.query('SELECT 2 AS n')).rows[0].n).toBe(2);
    } finally {
      c.release();
    }
  });

  it('reads back what copyInto wrote', async () => {
    const c = await db.pool.connect();
    try {
      await c.query('CREATE TEMP TABLE t (a text, b int)');
      await copyInto(c, 't', ['a', 'b'], copyRow(['back\\slash\nnew line', 1]) + copyRow([null, 2]));
      const text = (await copyOutBuffer(c, 'SELECT a, b FROM t ORDER BY b')).toString('utf8');
      const [r1, r2] = text.trimEnd().split('\n');
      expect(copyUnescape(r1!.split('\t')[0]!)).toBe('back\\slash\nnew line');
      expect(r2).toBe('\\N\t2');
    } finally {
      c.release();
    }
  });
});

describe('copyTextRows', () => {
  it('gives rows of fields: NULL as null, tabs, newlines and backslashes unescaped, empty strings kept', async () => {
    const c = await db.pool.connect();
    try {
      const rows = copyTextRows(await copyOutBuffer(c, `SELECT * FROM (VALUES (1, E'a\tb', NULL::text), (2, E'line\nnext \\\\ end', ''), (3, 'plain', 'N')) v(i, x, y) ORDER BY i`));
      expect(rows).toEqual([['1', 'a\tb', null], ['2', 'line\nnext \\ end', ''], ['3', 'plain', 'N']]);
      expect(copyTextRows(await copyOutBuffer(c, 'SELECT 1 WHERE false'))).toEqual([]);
    } finally {
      c.release();
    }
  });
});
