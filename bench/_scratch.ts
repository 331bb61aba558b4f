import pg from 'pg';
import { startServerEngine, startEmbeddedEngine } from '../src/db/testing.js';
import { createDb } from '../src/db/index.js';
import { postEntries } from '../src/ledger/index.js';
import { systemClock } from '../src/kernel/index.js';
import { setUpBooks, twoLeg, sixLeg } from './workload.js';
import { StatementProfile, now } from './lib.js';

const which = process.argv[2] ?? 'server';
const engine = which === 'server' ? await startServerEngine() : await startEmbeddedEngine();
try {
  const admin = new pg.Client({ connectionString: engine.url }); await admin.connect();
  await admin.query('CREATE DATABASE bench'); await admin.end();
  const u = new URL(engine.url); u.pathname = '/bench';
  const db = await createDb({ dataDir: '/tmp/unused', databaseUrl: u.toString() });
  const prof = new StatementProfile(); prof.attach(db.pool);
  const ctx = { actor: 'bench', clock: systemClock };
  await setUpBooks(db.pool, ctx);
  for (const [kind, gen, bs] of [['2leg', twoLeg, 5000], ['2leg', twoLeg, 1000], ['2leg', twoLeg, 20000], ['6leg', sixLeg, 5000]] as const) {
    const es = gen(kind + bs, 100_000, 1);
    prof.reset(); prof.enabled = true;
    const t = now();
    for (let i = 0; i < es.length; i += bs) await postEntries(db.pool, es.slice(i, i + bs), ctx, 'all');
    const ms = now() - t; prof.enabled = false;
    console.log(kind, bs, Math.round(100000 / ms * 1000), 'entries/s', Math.round(ms), 'ms; sql', Math.round(prof.totalMs()));
    for (const r of prof.rows()) console.log('   ', r.statement.padEnd(62), r.calls, Math.round(r.ms));
  }
  await db.close();
} finally { await engine.stop(); }
