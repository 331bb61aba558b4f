/**
 * Runs one bench function in a process of its own (see `inFreshProcess` in lib.ts): a section's
 * figure then does not depend on what the sections before it left in the heap (the netting bench
 * alone keeps ten million objects alive until the collector gets to them).
 * Argv: the module (relative to bench/), the export's name; its arguments come as JSON on argv too.
 */
// Started with the program's heap flags (HEAP_FLAGS, by inFreshProcess in lib.ts): the figures are the program's.
const [mod, name, args] = process.argv.slice(2);
const m = (await import(`./${mod}`)) as Record<string, (...a: unknown[]) => Promise<unknown>>;
const fn = m[name!];
if (typeof fn !== 'function') throw new Error(`bench/${mod} has no export ${name}`);
const result = await fn(...(JSON.parse(args ?? '[]') as unknown[]));
process.send!({ result }, () => process.exit(0));
