#!/usr/bin/env node
// `npm test`: every test on the embedded PostgreSQL; then, when REQUIRE_POSTGRES=1 or
// TEST_DATABASE_URL is set, the integration suites (*.db.test.ts) again on a PostgreSQL 15 server.
import { spawnSync } from 'node:child_process';

const extra = process.argv.slice(2);
const run = (label, env) => {
  console.log(`\n=== ${label} ===`);
  const r = spawnSync('npx', ['vitest', 'run', ...extra], { stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
};

let status = run('all tests, embedded PostgreSQL 18', { TEST_TARGET: 'embedded' });
if (process.env.REQUIRE_POSTGRES === '1' || process.env.TEST_DATABASE_URL) {
  status = run('integration suites, PostgreSQL server', { TEST_TARGET: 'server' }) || status;
}
process.exit(status);
