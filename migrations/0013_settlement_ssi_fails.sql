-- Settlement: standing settlement instructions, fails in the ledger, buy-ins.

-- Standing settlement instructions (SSIs): where and through whom a party settles, per market
-- (and optionally per asset class and currency), dated. `counterparty` NULL is the firm's own SSI
-- (our BIC and safekeeping account at the place of settlement). The most specific row in force on
-- the settlement date applies (asset class and currency given beat blank); rows of one key
-- (party, market, asset class, currency) do not overlap in time (checked on import).
CREATE TABLE settlement_ssis (
  id              text PRIMARY KEY,
  counterparty    text REFERENCES counterparties (code),
  market          text NOT NULL,
  asset_class     text,
  -- ISO 4217 (checked on import; not every currency is a ledger asset yet).
  currency        text,
  -- Place of settlement (the depository), e.g. DTCYUS33.
  place_bic       text NOT NULL,
  -- The party's settlement agent (custodian, or the party itself): BIC and/or CSD participant
  -- number; for the firm's own SSI, our BIC.
  agent_bic       text,
  participant     text,
  -- The safekeeping (or participant) account at the place of settlement.
  account         text NOT NULL,
  -- Cash correspondent for the currency.
  cash_bic        text,
  cash_account    text,
  effective_from  date NOT NULL,
  -- Last day in force (inclusive); NULL: until further notice.
  effective_to    date CHECK (effective_to >= effective_from),
  source_file     text NOT NULL,
  line            integer NOT NULL,
  created_at      timestamptz NOT NULL,
  created_by      text NOT NULL,
  updated_at      timestamptz NOT NULL,
  updated_by      text NOT NULL,
  CHECK (agent_bic IS NOT NULL OR participant IS NOT NULL),
  CHECK (counterparty IS NOT NULL OR agent_bic IS NOT NULL)
);
CREATE UNIQUE INDEX settlement_ssis_key ON settlement_ssis
  (coalesce(counterparty, ''), market, coalesce(asset_class, ''), coalesce(currency, ''), effective_from);
CREATE INDEX settlement_ssis_party ON settlement_ssis (counterparty, market);

-- The parties an instruction was sent with (place, agents, accounts), so that the message can be
-- shown again exactly as sent even after the SSIs change. NULL for instructions sent before.
ALTER TABLE settlement_instructions ADD COLUMN parties jsonb;

-- Fails in the ledger: what of an obligation sits in the fail accounts
-- (assets:fails:to-receive:<cpty>, liabilities:fails:to-deliver:<cpty>) instead of the street
-- side. Quantity and cash are signed like the obligation (quantity + receive / - deliver, cash
-- minor units + receive / - pay). `quantity`/`cash` are what is there now; `booked_*` what was
-- ever moved in. A fail leaves the fail accounts when it settles (from them), is carried into a
-- later date's net (back to the street side, owed there), or is bought in.
CREATE TABLE settlement_fails (
  obligation_id   text PRIMARY KEY REFERENCES settlement_obligations (id),
  counterparty    text NOT NULL REFERENCES counterparties (code),
  symbol          text NOT NULL REFERENCES securities (symbol),
  currency        text NOT NULL REFERENCES assets (code),
  account         text NOT NULL,
  failed_on       date NOT NULL,
  quantity        numeric NOT NULL,
  cash            numeric(38, 0) NOT NULL,
  booked_quantity numeric NOT NULL,
  booked_cash     numeric(38, 0) NOT NULL,
  -- Entries posted for it so far (they number the idempotency keys fail:<obligation>:<n>).
  entries         integer NOT NULL DEFAULT 0,
  status          text NOT NULL CHECK (status IN ('open', 'closed')),
  closed_on       date,
  closed_by       text CHECK (closed_by IN ('settled', 'carried', 'bought_in')),
  created_at      timestamptz NOT NULL,
  created_by      text NOT NULL,
  updated_at      timestamptz NOT NULL,
  updated_by      text NOT NULL,
  CHECK ((status = 'closed') = (closed_on IS NOT NULL))
);
CREATE INDEX settlement_fails_open ON settlement_fails (counterparty, symbol) WHERE status = 'open';

-- Buy-ins against a counterparty's fail to deliver to us (our fail to receive): planned, notified
-- (the buy-in notice sent), then executed (booked: the securities bought elsewhere, the fail
-- closed, the cost difference charged to the failing counterparty) or cancelled. Who and when at
-- each step; every step audited.
CREATE TABLE settlement_buy_ins (
  id              text PRIMARY KEY,
  obligation_id   text NOT NULL REFERENCES settlement_obligations (id),
  counterparty    text NOT NULL REFERENCES counterparties (code),
  symbol          text NOT NULL REFERENCES securities (symbol),
  currency        text NOT NULL REFERENCES assets (code),
  quantity        numeric NOT NULL CHECK (quantity > 0),
  -- Indicative price when planned; the execution price once executed.
  price           numeric CHECK (price > 0),
  close_out_due   date NOT NULL,
  planned_for     date NOT NULL,
  reason          text,
  status          text NOT NULL CHECK (status IN ('planned', 'notified', 'executed', 'cancelled')),
  created_at      timestamptz NOT NULL,
  created_by      text NOT NULL,
  notified_at     timestamptz,
  notified_by     text,
  executed_on     date,
  executed_price  numeric CHECK (executed_price > 0),
  -- Minor units of the currency: what the buy-in cost, the original cost of the quantity, and the
  -- difference charged to the counterparty (positive: they owe it to us).
  buy_in_cost     numeric(38, 0),
  original_cost   numeric(38, 0),
  cost_difference numeric(38, 0),
  entry_key       text,
  executed_at     timestamptz,
  executed_by     text,
  cancelled_at    timestamptz,
  cancelled_by    text,
  cancel_reason   text,
  CHECK ((status = 'executed') = (executed_at IS NOT NULL)),
  CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL))
);
CREATE INDEX settlement_buy_ins_obligation ON settlement_buy_ins (obligation_id);
CREATE INDEX settlement_buy_ins_status ON settlement_buy_ins (status, planned_for);
