/**
 * Trade-capture figures (part of `npm run bench`): booking fills from a generated FIX 4.4 file end
 * to end (parse, validate, fees, settlement dates, ledger, trades, lots), on a PostgreSQL 15 server
 * and on the embedded engine, and the positions of one account holding 10,000 lots.
 *
 * BENCH_FILLS sets the number of fills (default 1,000,000 on the server; the embedded run books a
 * fifth of it). It measures and prints; it asserts nothing.
 */
import os from 'node:os';
import { startEmbeddedEngine, startServerEngine, prepareTemplate, cloneTestDb, type Engine } from '../src/db/testing.js';
import { systemClock } from '../src/kernel/index.js';
import { importCounterparties, importCustomerAccounts, importFees, importSecurities } from '../src/reference/index.js';
import { importExecutions, positions } from '../src/trading/index.js';
import { businessDays } from '../src/calendar/index.js';

const FILLS = Number(process.env.BENCH_FILLS ?? 1_000_000);
const ctx = { actor: 'bench', clock: systemClock };
const SOH = '\x01';

/** A FIX message with its BodyLength and CheckSum. */
function frame(body: string): string {
  const head = `8=FIX.4.4${SOH}9=${Buffer.byteLength(body)}${SOH}`;
  let sum = 0;
  for (const b of Buffer.from(head + body)) sum += b;
  return `${head}${body}10=${String(sum % 256).padStart(3, '0')}${SOH}`;
}

/** n ExecutionReports (ExecType F): 1,000 accounts, 50 securities, on the trading days of 2026. */
export function fixFile(n: number): string {
  const days = businessDays('XNYS', '2026-01-02', '2026-11-20', 'trading');
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const side = i % 3 === 0 ? '2' : '1';
    const px = (100 + (i % 997) / 100).toFixed(2);
    const day = days[Math.floor((i / n) * days.length)]!.replaceAll('-', '');
    out.push(frame(`35=8${SOH}34=${i + 1}${SOH}49=GSCO${SOH}56=BO${SOH}1=A${i % 1000}${SOH}6=${px}${SOH}14=${1 + (i % 400)}${SOH}17=F${i}${SOH}31=${px}${SOH}32=${1 + (i % 400)}${SOH}37=O${i}${SOH}39=2${SOH}54=${side}${SOH}55=S${i % 50}${SOH}75=${day}${SOH}150=F${SOH}151=0${SOH}`));
  }
  return out.join('\n');
}

export async function setUp(engine: Engine) {
  await prepareTemplate(engine.url);
  const db = await cloneTestDb(engine.url);
  let secs = 'symbol,name,isin,cusip,asset_class,currency,mic,scale\n';
  for (let i = 0; i < 50; i++) secs += `S${i},Security ${i},,,equity,USD,XNYS,0\n`;
  secs += 'LOTS,Many lots,,,equity,USD,XNYS,0\n';
  await importSecurities(db.pool, secs, 'securities', ctx);
  let acc = 'account,name,type,currency\n';
  for (let i = 0; i < 1000; i++) acc += `A${i},Account ${i},margin,USD\n`;
  acc += 'LOTS1,Holder of many lots,margin,USD\n';
  await importCustomerAccounts(db.pool, acc, 'accounts', ctx);
  await importCounterparties(db.pool, 'counterparty,name,type,dtc_participant,bic,lei\nGSCO,Goldman Sachs & Co. LLC,broker,0005,GOLDUS33,\n', 'counterparties', ctx);
  await importFees(db.pool, 'schedule,kind,side,rate,minimum,maximum,effective_from\ndefault,commission_per_share,all,0.005,1.00,,2020-01-01\nregulatory,sec_fee,sell,27.80,,,2024-05-22\nregulatory,finra_taf,sell,0.000166,,8.30,2024-01-01\n', 'fees', ctx);
  return db;
}

export interface TradingFigures { engine: string; fills: number; seconds: number; fillsPerSecond: number; positionsMs?: number }

async function run(engine: Engine, fills: number, lots: boolean): Promise<TradingFigures> {
  const db = await setUp(engine);
  try {
    const text = fixFile(fills);
    const t0 = performance.now();
    let last = 0;
    const r = await importExecutions(db.pool, text, ctx, {
      format: 'fix',
      onProgress: (done, total) => { if (done - last >= total / 10 || done === total) { last = done; process.stdout.write(`  ${engine.label}: ${done}/${total} fills (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`); } },
    });
    const seconds = (performance.now() - t0) / 1000;
    if (r.booked !== fills) throw new Error(`booked ${r.booked} of ${fills}: ${r.quarantined[0]?.reason}`);
    const out: TradingFigures = { engine: engine.label, fills, seconds, fillsPerSecond: fills / seconds };
    if (lots) {
      // One account holding 10,000 lots: 10,000 buys of one security.
      const buys = ['exec_id,account,symbol,side,quantity,price,trade_date,counterparty,currency'];
      for (let i = 0; i < 10_000; i++) buys.push(`L${i},LOTS1,LOTS,buy,${1 + (i % 9)},${(50 + (i % 100) / 10).toFixed(2)},2026-03-02,GSCO,USD`);
      await importExecutions(db.pool, buys.join('\n'), ctx, { format: 'csv' });
      const times: number[] = [];
      for (let i = 0; i < 7; i++) {
        const t = performance.now();
        const p = await positions(db.pool, { account: 'LOTS1' });
        times.push(performance.now() - t);
        if (p[0]?.costBasis === null) throw new Error('no cost basis');
      }
      out.positionsMs = times.sort((a, b) => a - b)[3];
    }
    return out;
  } finally {
    await db.drop();
  }
}

export async function tradingBench(): Promise<TradingFigures[]> {
  const figures: TradingFigures[] = [];
  const server = await startServerEngine();
  try {
    figures.push(await run(server, FILLS, true));
  } finally {
    await server.stop();
  }
  const embedded = await startEmbeddedEngine();
  try {
    figures.push(await run(embedded, Math.max(1, Math.round(FILLS / 5)), true));
  } finally {
    await embedded.stop();
  }
  return figures;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`trade capture bench on ${os.cpus().length} cores`);
  const f = await tradingBench();
  console.log('\n| work | engine | figure | target |\n|---|---|---|---|');
  for (const x of f) {
    console.log(`| book ${x.fills.toLocaleString('en')} FIX fills end to end | ${x.engine} | ${x.seconds.toFixed(1)} s (${Math.round(x.fillsPerSecond).toLocaleString('en')} fills/s${x.fills < 1_000_000 ? `; 1,000,000 at this rate: ${(1_000_000 / x.fillsPerSecond).toFixed(0)} s` : ''}) | < 60 s for 1,000,000 (server) |`);
    if (x.positionsMs !== undefined) console.log(`| positions of one account holding 10,000 lots | ${x.engine} | ${x.positionsMs.toFixed(1)} ms (median of 7) | < 50 ms |`);
  }
}
