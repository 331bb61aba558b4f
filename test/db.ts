import { inject, afterAll } from 'vitest';
import { cloneTestDb, type TestDb } from '../src/db/testing.js';

/** This test file's own database, dropped when the file ends. */
export async function testDb(): Promise<TestDb> {
  const db = await cloneTestDb(inject('pgUrl'));
  afterAll(() => db.drop());
  return db;
}

export const engineLabel = () => inject('pgLabel');
