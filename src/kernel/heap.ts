/**
 * The young generation of the V8 heap, in MB per semi-space (Node's default is 16 on 64-bit).
 * Booking, matching and reconciling make many short-lived objects per record; a larger young
 * generation lets most of them die there instead of being copied and promoted. Measured on the
 * end of day of 1,000,000 executions: 12% less Node CPU at 64 MB (bench/, `npm run bench`).
 *
 * V8 sizes the heap when the process starts, so this is a flag on node's command line, not a
 * setting made at run time (v8.setFlagsFromString then changes nothing: an earlier version did
 * that and measured nothing but noise). Given by `bin/backoffice` (its #! line), by
 * `scripts/start.mjs` and by `npm run bench` (package.json, bench/run.ts); an operator's own
 * NODE_OPTIONS come first on node's command line and are overridden only for this flag.
 */
export const HEAP_FLAGS = ['--max-semi-space-size=64'] as const;

