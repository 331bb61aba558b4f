import { defineConfig } from 'vitest/config';

// TEST_TARGET=server runs the integration suites (*.db.test.ts) on a PostgreSQL 15 server.
const server = process.env.TEST_TARGET === 'server';

export default defineConfig({
  test: {
    include: server ? ['src/**/*.db.test.ts', 'test/**/*.db.test.ts'] : ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: true,
    maxWorkers: 2,
  },
});
