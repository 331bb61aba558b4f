-- Confirmation matching: the street's confirmations of our trades (counterparty or clearing-house
-- files), the result of matching them against our booked trades, and their affirmation
-- (SEC Rule 15c6-2: affirmed by 9:00 p.m. New York time on trade date, else late).
-- Sides are OUR side: the counterparty confirms what the firm did (buy, sell; a short sale is a sell).

CREATE TABLE confirmations (
  id              text PRIMARY KEY,
  counterparty    text NOT NULL REFERENCES counterparties (code),
  conf_id         text NOT NULL,
  trade_date      date NOT NULL,
  -- Free text, not a foreign key: a confirmation of a security we do not know stays unmatched.
  symbol          text NOT NULL,
  side            text NOT NULL CHECK (side IN ('buy', 'sell')),
  quantity        numeric NOT NULL CHECK (quantity > 0),
  price           numeric NOT NULL CHECK (price > 0),
  settle_date     date,
  -- Our trade id or execution id, when the street echoes it back.
  our_ref         text,
  source_file     text NOT NULL,
  line            integer NOT NULL,
  received_at     timestamptz NOT NULL,
  received_by     text NOT NULL,
  affirmed_at     timestamptz,
  affirmed_late   boolean,
  affirmed_by     text,
  CHECK ((affirmed_at IS NULL) = (affirmed_late IS NULL)),
  UNIQUE (counterparty, conf_id)
);
CREATE INDEX confirmations_date ON confirmations (trade_date, counterparty, symbol);

-- One row per pair (matched, mismatched) or per lone side (unmatched: a confirmation without a
-- trade, or a trade without a confirmation). Automatic rows of a date are recomputed by each
-- matching run; manual ones (with their reason, audited) are kept and take their sides out of it.
CREATE TABLE confirmation_matches (
  id              text PRIMARY KEY,
  trade_date      date NOT NULL,
  confirmation    text REFERENCES confirmations (id),
  trade_id        text REFERENCES trades (id),
  status          text NOT NULL CHECK (status IN ('matched', 'mismatched', 'unmatched')),
  method          text NOT NULL CHECK (method IN ('auto', 'manual')),
  -- [{field, ours, theirs}] for a mismatch (and for a manual match made despite differences).
  differences     jsonb NOT NULL DEFAULT '[]',
  reason          text,
  created_at      timestamptz NOT NULL,
  created_by      text NOT NULL,
  CHECK (confirmation IS NOT NULL OR trade_id IS NOT NULL),
  CHECK (status = 'unmatched' OR (confirmation IS NOT NULL AND trade_id IS NOT NULL)),
  CHECK (method = 'auto' OR (reason IS NOT NULL AND status = 'matched'))
);
CREATE UNIQUE INDEX confirmation_matches_conf ON confirmation_matches (confirmation) WHERE confirmation IS NOT NULL;
CREATE UNIQUE INDEX confirmation_matches_trade ON confirmation_matches (trade_id) WHERE trade_id IS NOT NULL;
CREATE INDEX confirmation_matches_date ON confirmation_matches (trade_date);
