-- Clearing: CNS-style net settlement obligations, one per (settlement date, counterparty,
-- security), recomputed from booked trades and open fails until they leave `pending`.
-- Quantities are decimals of the security's scale (as in trades); cash is minor units of the
-- currency: positive to receive, negative to deliver or pay (the firm's side, facing the street).

CREATE TABLE settlement_obligations (
  id               text PRIMARY KEY,
  settle_date      date NOT NULL,
  counterparty     text NOT NULL REFERENCES counterparties (code),
  symbol           text NOT NULL REFERENCES securities (symbol),
  currency         text NOT NULL REFERENCES assets (code),
  quantity         numeric NOT NULL,
  cash             numeric(38, 0) NOT NULL,
  status           text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'instructed', 'matched', 'settled', 'partially_settled', 'failed')),
  -- What went into the net: trades, and open fails carried forward (their remaining quantity
  -- and cash, included in quantity and cash).
  trades           integer NOT NULL CHECK (trades >= 0),
  fails            integer NOT NULL DEFAULT 0 CHECK (fails >= 0),
  carried_quantity numeric NOT NULL DEFAULT 0,
  carried_cash     numeric(38, 0) NOT NULL DEFAULT 0,
  -- Without netting: the sum of |quantity| and |cash| of every trade and fail behind it.
  gross_quantity   numeric NOT NULL CHECK (gross_quantity >= 0),
  gross_cash       numeric(38, 0) NOT NULL CHECK (gross_cash >= 0),
  -- Settled so far (by the settlement lifecycle); what remains of a fail is quantity - settled_quantity.
  settled_quantity numeric NOT NULL DEFAULT 0,
  settled_cash     numeric(38, 0) NOT NULL DEFAULT 0,
  -- A failed obligation, once carried into a later date's net, is owed there: it is carried once.
  carried_into     date CHECK (carried_into > settle_date),
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  updated_by       text NOT NULL,
  UNIQUE (settle_date, counterparty, symbol)
);
CREATE INDEX settlement_obligations_open ON settlement_obligations (settle_date)
  WHERE status IN ('failed', 'partially_settled');
CREATE INDEX settlement_obligations_carried ON settlement_obligations (carried_into) WHERE carried_into IS NOT NULL;

-- Netting reads a settlement date's booked trades.
CREATE INDEX trades_settle_date ON trades (settle_date, counterparty, symbol) WHERE status = 'booked';
