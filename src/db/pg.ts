import pg from 'pg';

// Type parsers, set once: int8 -> bigint, numeric -> string (exact), date -> 'YYYY-MM-DD',
// timestamptz -> ISO string in UTC. Never a float.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => BigInt(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => v);
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);
pg.types.setTypeParser(pg.types.builtins.TIMESTAMPTZ, (v) => new Date(v).toISOString());

export { pg };
export type Pool = pg.Pool;
export type Client = pg.PoolClient;
