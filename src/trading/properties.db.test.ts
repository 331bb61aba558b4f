/**
 * Property tests of trade capture: any interleaving of fills, cancels and corrections
 * (corrections of corrections, and cancels/corrections of executions that are unknown or no
 * longer standing), imported in random files and chunkings with re-imports, must leave the books
 * equal to a plain in-memory model of the order's surviving fills:
 *   (a) the position is the signed sum of the surviving fills;
 *   (b) the trial balance has debits = credits per asset;
 *   (c) the customer's cash balance = -(surviving buys' gross) + surviving sells' gross (the
 *       account's fee schedule charges nothing, so net = gross, computed here with bigints);
 *   (d) the audit chain verifies;
 * and also: the booked trades are exactly the surviving fills, every replaced trade says why
 * (canceled / corrected), the open lots sum to the position, each import's counts are the model's.
 * Each run trades in a fresh customer account, with its own source (exec ids repeat across runs).
 */
import { describe, it, expect, beforeAll } from 'vitest';
import fc from 'fast-check';
import fs from 'node:fs';
import { testDb } from '../../test/db.js';
import { Dec, fixedClock, fromMinor, toMinor } from '../kernel/index.js';
import { balances, trialBalance, verifyAudit } from '../ledger/index.js';
import { importSecurities, importCustomerAccounts, importCounterparties, importFees } from '../reference/index.js';
import { bookExecutions, readExecutions, listTrades, listLots, positions, cashAvailable } from './index.js';

const ctx = { actor: 'prop', clock: fixedClock('2026-03-16T12:00:00.000Z') };
const db = await testDb();
const pool = db.pool;
const ref = (f: string) => fs.readFileSync(`test/fixtures/trading/${f}`, 'utf8');

beforeAll(async () => {
  await importSecurities(pool, ref('securities.csv'), 'securities.csv', ctx);
  await importCounterparties(pool, ref('counterparties.csv'), 'counterparties.csv', ctx);
  // The regulatory schedule charges SEC fee and TAF to every schedule that has none of its own;
  // schedule 'zero' has its own, at 0, and no commission.
  await importFees(pool, ref('fees.csv'), 'fees.csv', ctx);
  await importFees(pool, [
    'schedule,kind,side,rate,minimum,maximum,effective_from',
    'zero,commission_per_share,all,0,,,2020-01-01',
    'zero,sec_fee,sell,0,,,2020-01-01',
    'zero,finra_taf,sell,0,,,2020-01-01',
  ].join('\n'), 'zero-fees.csv', ctx);
});

// Trading days (XNAS, no holiday in these two weeks).
const DAYS = ['2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05', '2026-03-06', '2026-03-09', '2026-03-10', '2026-03-11', '2026-03-12', '2026-03-13'];
type Side = 'buy' | 'sell' | 'short';
const sideArb = fc.constantFrom<Side>('buy', 'sell', 'short');
const qtyArb = fc.oneof(
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 10 }) },
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 1000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 5_000_000 }) },
);
// Prices in ten-thousandths: tiny ones (whose gross may round to 0.00 or to a half cent) and ordinary ones.
const pxArb = fc.oneof({ weight: 1, arbitrary: fc.integer({ min: 1, max: 60 }) }, { weight: 4, arbitrary: fc.integer({ min: 1, max: 10_000_000 }) });
const dayArb = fc.nat(DAYS.length - 1);
// What a cancel or correction refers to: a standing fill, the newest standing fill, any earlier execution (often no longer
// standing), or an unknown id.
const refArb = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('live' as const), pick: fc.nat() }) },
  // The newest standing fill: often a correction, so corrections of corrections come often.
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('newest' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('prior' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('unknown' as const), pick: fc.nat(99) }) },
);
const opArb = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('fill' as const), side: sideArb, qty: qtyArb, px: pxArb, day: dayArb }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('cancel' as const), ref: refArb }) },
  {
    weight: 3,
    arbitrary: fc.record({ t: fc.constant('correct' as const), ref: refArb, side: fc.option(sideArb, { nil: undefined }), qty: qtyArb, px: pxArb, day: fc.option(dayArb, { nil: undefined }) }),
  },
);
type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never;

const scenarioArb = fc.record({
  ops: fc.array(opArb, { minLength: 1, maxLength: 30 }),
  cuts: fc.uniqueArray(fc.nat(29), { maxLength: 5 }),
  chunks: fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 6, maxLength: 6 }),
  reimports: fc.array(fc.option(fc.nat(), { nil: undefined }), { minLength: 6, maxLength: 6 }),
});

const price = (px: number) => fromMinor(BigInt(px), 4);
/** qty x price in cents, rounded half-even (prices are in ten-thousandths, so qty x px is in hundredths of a cent). */
function grossCents(qty: number, px: number): bigint {
  const n = BigInt(qty) * BigInt(px);
  let q = n / 100n;
  const r = n % 100n;
  if (r > 50n || (r === 50n && q % 2n === 1n)) q += 1n;
  return q;
}

interface Fill { side: Side; qty: number; px: number; day: number }
interface Line { id: string; csv: string; outcome: 'booked' | 'quarantined' }

/** The model: replay the operations; what stands, what became of every version, and each record's outcome. */
function model(ops: Op[], account: string) {
  const live = new Map<string, Fill>();
  const status = new Map<string, 'booked' | 'canceled' | 'corrected'>();
  const prior: string[] = [];
  const lines: Line[] = [];
  ops.forEach((op, i) => {
    const id = `e${i}`;
    if (op.t === 'fill') {
      live.set(id, { side: op.side, qty: op.qty, px: op.px, day: op.day });
      status.set(id, 'booked');
      lines.push({ id, outcome: 'booked', csv: `${id},${account},AAPL,${op.side},${op.qty},${price(op.px)},${DAYS[op.day]},GSCO,USD,fill,` });
    } else {
      const standing = [...live.keys()];
      const target = op.ref.kind === 'newest' && standing.length ? standing.at(-1)!
        : op.ref.kind === 'live' && standing.length ? standing[op.ref.pick % standing.length]!
        : op.ref.kind === 'prior' && prior.length ? prior[op.ref.pick % prior.length]!
          : `nope${op.ref.pick}`;
      const was = live.get(target);
      if (was) {
        live.delete(target);
        status.set(target, op.t === 'cancel' ? 'canceled' : 'corrected');
        if (op.t === 'correct') {
          live.set(id, { side: op.side ?? was.side, qty: op.qty, px: op.px, day: op.day ?? was.day });
          status.set(id, 'booked');
        }
      }
      const outcome = was ? 'booked' : 'quarantined';
      lines.push({
        id, outcome,
        csv: op.t === 'cancel'
          ? `${id},${account},AAPL,,,,,GSCO,USD,cancel,${target}`
          : `${id},${account},AAPL,${op.side ?? ''},${op.qty},${price(op.px)},${op.day === undefined ? '' : DAYS[op.day]},GSCO,USD,correct,${target}`,
      });
    }
    prior.push(id);
  });
  return { live, status, lines };
}

const HEADER = 'exec_id,account,symbol,side,quantity,price,trade_date,counterparty,currency,kind,exec_ref_id';
let run = 0;

describe('trade capture properties (fast-check)', () => {
  it('fills, cancels and corrections in any order and any chunking leave the books equal to the model', async () => {
    await fc.assert(fc.asyncProperty(scenarioArb, async ({ ops, cuts, chunks, reimports }) => {
      run++;
      const account = `P${run}`;
      const source = `prop-${run}`;
      await importCustomerAccounts(pool, `account,name,type,currency,fee_schedule\n${account},Property run ${run},margin,USD,zero`, 'accounts.csv', ctx);
      const m = model(ops, account);

      // Random files (consecutive parts), each booked in random chunks; now and then a part already sent comes again.
      const bounds = [...new Set([0, ...cuts.filter((c) => c > 0 && c < m.lines.length), m.lines.length])].sort((a, b) => a - b);
      const parts = bounds.slice(1).map((end, k) => m.lines.slice(bounds[k], end));
      const send = async (part: Line[], chunk: number) =>
        bookExecutions(pool, readExecutions([HEADER, ...part.map((l) => l.csv)].join('\n'), 'csv', source), ctx, { chunk });
      for (let k = 0; k < parts.length; k++) {
        const part = parts[k]!;
        const r = await send(part, chunks[k % chunks.length]!);
        const quarantined = part.filter((l) => l.outcome === 'quarantined');
        expect(r.quarantined.map((q) => q.record)).toEqual(quarantined.map((l) => `line ${part.indexOf(l) + 2} (exec ${l.id})`));
        for (const q of r.quarantined) expect(q.reason).toMatch(/refers to execution \S+, which is unknown or no longer booked$/);
        expect(r).toMatchObject({ received: part.length, booked: part.length - quarantined.length, duplicates: 0 });
        const again = reimports[k];
        if (again !== undefined) {
          const old = parts[again % (k + 1)]!;
          const r2 = await send(old, chunks[(k + 1) % chunks.length]!);
          const q2 = old.filter((l) => l.outcome === 'quarantined').length;
          expect(r2).toMatchObject({ booked: 0, duplicates: old.length - q2 });
          expect(r2.quarantined).toHaveLength(q2);
        }
      }

      // The trades: exactly the surviving fills are booked; every other version says what became of it.
      const trades = (await listTrades(pool, { account })).filter((t) => t.source === source);
      expect(Object.fromEntries(trades.map((t) => [t.execId, t.status]))).toEqual(Object.fromEntries(m.status));
      const booked = trades.filter((t) => t.status === 'booked');
      expect(Object.fromEntries(booked.map((t) => [t.execId, [t.side, t.quantity, new Dec(t.price).toFixed(4), t.tradeDate, t.gross, t.commission, t.secFee, t.finraTaf, t.net]])))
        .toEqual(Object.fromEntries([...m.live].map(([id, f]) => {
          const g = fromMinor(grossCents(f.qty, f.px), 2);
          return [id, [f.side, String(f.qty), price(f.px), DAYS[f.day], g, '0.00', '0.00', '0.00', g]];
        })));

      // (a) position = signed sum of the surviving fills.
      const signed = [...m.live.values()].reduce((s, f) => s + (f.side === 'buy' ? BigInt(f.qty) : -BigInt(f.qty)), 0n);
      const pos = await positions(pool, { account, security: 'AAPL' });
      expect(pos.length ? pos[0]!.quantity : '0').toBe(signed.toString());
      // ... and the open lots (short lots negative) sum to it.
      const lots = await listLots(pool, account, 'AAPL');
      expect(lots.reduce((s, l) => s + BigInt(l.remaining), 0n)).toBe(signed);

      // (b) debits = credits per asset.
      for (const t of (await trialBalance(pool)).totals) expect(t.debit, t.asset).toBe(t.credit);

      // (c) cash: the customer pays the buys and receives the sales (credit balance positive).
      const cash = [...m.live.values()].reduce((s, f) => s + (f.side === 'buy' ? -grossCents(f.qty, f.px) : grossCents(f.qty, f.px)), 0n);
      expect((await cashAvailable(pool, account))!.balance).toBe(fromMinor(cash, 2));
      const fromNets = booked.reduce((s, t) => s + (t.side === 'buy' ? -toMinor(t.net, 2) : toMinor(t.net, 2)), 0n);
      expect(fromNets).toBe(cash);
      const ledgerCash = (await balances(pool, { account: `customers:${account}:cash` })).find((b) => b.asset === 'USD');
      expect(ledgerCash?.balance ?? '0.00').toBe(fromMinor(-cash, 2));

      // (d) the audit chain holds.
      expect((await verifyAudit(pool)).ok).toBe(true);
    }), { numRuns: 25 });
  }, 900_000);
});
