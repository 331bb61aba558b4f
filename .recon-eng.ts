import { matchCash, type CashLine, type CashMovement } from './src/reconciliation/engine.js';
import { defaultRules, toEngineRules } from './src/reconciliation/rules.js';
const N = Number(process.env.N ?? 100000);
const ours: CashMovement[] = []; const lines: CashLine[] = [];
for (let i = 1; i <= N; i++) {
  const d = 19723 + Math.floor(i / 4000);
  const amt = BigInt((i % 10 >= 6 ? -1 : 1) * (100 + (i * 7919) % 999901));
  ours.push({ seq: i, line: 0, amount: amt, day: d, key: ["pay", i].join("-"), entryId: ["je_bench", i].join("_"), memo: ["bench payment", i].join(" "), reverses: null });
  const c = i % 100;
  if (c === 99 || [500, 501, 502].includes(i % 1000)) continue;
  lines.push({ id: i, amount: c === 98 ? amt + 1n : amt, day: c === 96 || c === 97 ? d + 1 : d, refs: c < 96 || c === 98 ? [["pay", i].join("-"), ["BK", i].join("")] : [["BK", i].join("")], txCount: 1 });
}
const all = toEngineRules(defaultRules('cash'), 2);
for (let k = 1; k <= all.length; k++) {
  const t = performance.now(); const c0 = process.cpuUsage();
  const r = matchCash(lines, ours, all.slice(0, k));
  const cu = process.cpuUsage(c0); console.log(all.slice(0, k).map((x) => x.rule).join("+"), (performance.now() - t).toFixed(0), "ms wall", ((cu.user + cu.system) / 1000).toFixed(0), "ms cpu", r.matches.length, r.breaks.length);
}
