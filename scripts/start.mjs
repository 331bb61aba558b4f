#!/usr/bin/env node
// `npm start`: build the web UI when its sources are newer than the build, then serve.
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

const newest = (dir) => fs.readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
  const p = path.join(dir, e.name);
  return Math.max(m, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
}, 0);
const built = 'dist/web/index.html';
if (!fs.existsSync(built) || newest('web') > fs.statSync(built).mtimeMs) {
  console.log('building the web UI...');
  const b = spawnSync('npm', ['run', 'build:web', '--silent'], { stdio: 'inherit' });
  if (b.status !== 0) process.exit(b.status ?? 1);
}
// The heap flags of bin/backoffice's #! line (HEAP_FLAGS in src/kernel/heap.ts): node ignores that line here.
const server = spawn(process.execPath, ['--max-semi-space-size=64', 'bin/backoffice', 'serve', ...process.argv.slice(2)], { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.kill(sig));
server.on('exit', (code) => process.exit(code ?? 0));
