-- Trade capture: every execution received, the trades booked from fills, quarantined records,
-- and tax lots (derived from trades; recomputed when trades change).

CREATE TABLE executions (
  source      text NOT NULL,
  exec_id     text NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('book', 'cancel', 'correct', 'ignore')),
  ref_exec_id text,
  trade_id    text,
  received_at timestamptz NOT NULL,
  raw         text,
  PRIMARY KEY (source, exec_id)
);

CREATE TABLE trades (
  id               text PRIMARY KEY,
  source           text NOT NULL,
  exec_id          text NOT NULL,
  order_id         text,
  account          text NOT NULL REFERENCES customer_accounts (account),
  symbol           text NOT NULL REFERENCES securities (symbol),
  side             text NOT NULL CHECK (side IN ('buy', 'sell', 'short')),
  quantity         numeric NOT NULL CHECK (quantity > 0),
  price            numeric NOT NULL CHECK (price > 0),
  currency         text NOT NULL,
  trade_date       date NOT NULL,
  settle_date      date NOT NULL,
  settle_provisional boolean NOT NULL,
  counterparty     text NOT NULL,
  gross            numeric(38, 0) NOT NULL,
  commission       numeric(38, 0) NOT NULL,
  sec_fee          numeric(38, 0) NOT NULL,
  finra_taf        numeric(38, 0) NOT NULL,
  net              numeric(38, 0) NOT NULL,
  status           text NOT NULL CHECK (status IN ('booked', 'canceled', 'corrected')),
  entry_id         text NOT NULL,
  reversal_entry_id text,
  replaces         text REFERENCES trades (id),
  lot_selection    jsonb,
  booked_at        timestamptz NOT NULL,
  UNIQUE (source, exec_id)
);
CREATE INDEX trades_account ON trades (account, symbol, trade_date);
CREATE INDEX trades_date ON trades (trade_date);

CREATE TABLE quarantine (
  id          text PRIMARY KEY,
  source      text NOT NULL,
  record      text NOT NULL,
  format      text NOT NULL,
  raw         text NOT NULL,
  reason      text NOT NULL,
  field       text,
  rule        text,
  status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved', 'discarded')),
  received_at timestamptz NOT NULL,
  resolved_at timestamptz
);
CREATE INDEX quarantine_open ON quarantine (status, received_at);

CREATE TABLE lots (
  account     text NOT NULL,
  symbol      text NOT NULL,
  lot_id      text NOT NULL,
  trade_id    text NOT NULL REFERENCES trades (id),
  open_date   date NOT NULL,
  quantity    numeric NOT NULL,
  remaining   numeric NOT NULL,
  unit_cost   numeric NOT NULL,
  PRIMARY KEY (account, symbol, lot_id)
);

CREATE TABLE realized_pnl (
  account     text NOT NULL,
  symbol      text NOT NULL,
  sale_trade  text NOT NULL REFERENCES trades (id),
  lot_id      text NOT NULL,
  quantity    numeric NOT NULL,
  proceeds    numeric NOT NULL,
  cost        numeric NOT NULL,
  pnl         numeric NOT NULL,
  trade_date  date NOT NULL
);
CREATE INDEX realized_pnl_account ON realized_pnl (account, symbol);
