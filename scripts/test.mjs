#!/usr/bin/env node
// `npm test`: every test on the embedded PostgreSQL; then, when REQUIRE_POSTGRES=1 or
// TEST_DATABASE_URL is set, the integration suites (*.db.test.ts) again on a PostgreSQL 15 server.
// Ends with one line of totals over both runs: "tests: N passed, N failed, N skipped".
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';

const extra = process.argv.slice(2);
fs.mkdirSync('.tmp', { recursive: true });
const totals = { passed: 0, failed: 0, skipped: 0 };

const run = (label, file, env) => {
  console.log(`\n=== ${label} ===`);
  fs.rmSync(file, { force: true });
  const r = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${file}`, ...extra], { stdio: 'inherit', env: { ...process.env, ...env } });
  try {
    const j = JSON.parse(fs.readFileSync(file, 'utf8'));
    totals.passed += j.numPassedTests;
    totals.failed += j.numFailedTests;
    totals.skipped += j.numPendingTests + (j.numTodoTests ?? 0);
    // A suite that failed to load has no failed test but did fail.
    if (j.numFailedTestSuites && !j.numFailedTests) totals.failed += j.numFailedTestSuites;
  } catch {
    totals.failed += 1;
  }
  return r.status ?? 1;
};

let status = run('all tests, embedded PostgreSQL 18', '.tmp/vitest-embedded.json', { TEST_TARGET: 'embedded' });
if (process.env.REQUIRE_POSTGRES === '1' || process.env.TEST_DATABASE_URL) {
  status = run('integration suites, PostgreSQL server', '.tmp/vitest-server.json', { TEST_TARGET: 'server' }) || status;
}
console.log(`\ntests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(status || (totals.failed ? 1 : 0));
