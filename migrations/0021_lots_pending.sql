-- (account, security) pairs whose tax lots wait to be recomputed. Booking writes a pair here in
-- the same transaction as the trades that change it, and the lots are recomputed afterwards; a
-- process that stops in between (a crash during an import or the end of day) leaves the pair
-- here, and the next import or end of day recomputes it. Before, those lots stayed stale: a
-- re-run books nothing new, so it had nothing to recompute.
-- A writer updates the row (not only inserts it) so that it holds the row's lock until it
-- commits: a recomputation that takes the pair meanwhile (DELETE ... RETURNING) waits for the
-- trades to be committed, and reads them.
CREATE TABLE lots_pending (
  account  text NOT NULL,
  symbol   text NOT NULL,
  since    timestamptz NOT NULL,
  PRIMARY KEY (account, symbol)
);
