import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { loadConfig } from './config.js';

describe('config', () => {
  it('reads the environment once, flags winning', () => {
    const c = loadConfig({ BACKOFFICE_DATA: 'somewhere', PORT: '4100', LOG_LEVEL: 'warn' }, { port: 4200 });
    expect(c).toMatchObject({ dataDir: path.resolve('somewhere'), port: 4200, logLevel: 'warn', host: '127.0.0.1' });
    expect(c.databaseUrl).toBeUndefined();
  });

  it('takes SECURE_COOKIES=false as false (a plain boolean coercion would say true)', () => {
    expect(loadConfig({ SECURE_COOKIES: 'false' }).secureCookies).toBe(false);
    expect(loadConfig({ SECURE_COOKIES: '1' }).secureCookies).toBe(true);
    expect(loadConfig({}).secureCookies).toBe(false);
  });

  it('refuses what it cannot use, naming it', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/port/i);
    expect(() => loadConfig({ DATABASE_URL: 'not a url' })).toThrow(/databaseUrl/);
  });
});
