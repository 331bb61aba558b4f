-- Corporate actions (asset servicing): announcements imported from CSV, dated withholding-tax
-- rates, what applying an action booked per holder, the lot events trading replays when it
-- recomputes tax lots, and the identifier history of securities.

-- One announcement per id (the id of the file's row: re-importing it changes nothing). Dates and
-- terms by kind:
--   cash_dividend   ex, record and pay dates; rate per share in a currency; source_country (the
--                   country whose tax applies; by default the ISIN's country prefix).
--   split / reverse_split   effective (ex) date; ratio_new for ratio_old (3-for-2: 3 and 2;
--                   1-for-10: 1 and 10); the price fractions are paid at (cash in lieu).
--   symbol_change   effective date; a new symbol and/or ISIN and/or CUSIP (and name).
CREATE TABLE corporate_actions (
  id                 text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$'),
  kind               text NOT NULL CHECK (kind IN ('cash_dividend', 'split', 'reverse_split', 'symbol_change')),
  symbol             text NOT NULL REFERENCES securities (symbol),
  ex_date            date,
  record_date        date,
  pay_date           date,
  effective_date     date,
  rate               numeric CHECK (rate > 0),
  currency           text CHECK (currency ~ '^[A-Z]{3}$'),
  ratio_new          numeric CHECK (ratio_new > 0),
  ratio_old          numeric CHECK (ratio_old > 0),
  cash_in_lieu_price numeric CHECK (cash_in_lieu_price > 0),
  new_symbol         text,
  new_isin           text CHECK (new_isin ~ '^[A-Z]{2}[A-Z0-9]{9}[0-9]$'),
  new_cusip          text CHECK (new_cusip ~ '^[A-Z0-9*@#]{8}[0-9]$'),
  new_name           text,
  source_country     text CHECK (source_country ~ '^[A-Z]{2}$'),
  description        text NOT NULL DEFAULT '',
  -- Hash of the terms as imported: the same id with the same terms is a duplicate.
  body_hash          text NOT NULL,
  status             text NOT NULL DEFAULT 'announced' CHECK (status IN ('announced', 'applied')),
  source_file        text NOT NULL,
  imported_at        timestamptz NOT NULL,
  imported_by        text NOT NULL,
  updated_at         timestamptz NOT NULL,
  updated_by         text NOT NULL,
  applied_at         timestamptz,
  applied_by         text,
  -- Applied before its date on purpose (`apply --force`).
  applied_early      boolean,
  -- The preview as applied (per holder, the firm's side, the entries posted), shown ever after.
  applied_result     jsonb,
  CONSTRAINT corporate_action_dividend CHECK (kind <> 'cash_dividend' OR (ex_date IS NOT NULL AND record_date IS NOT NULL
    AND pay_date IS NOT NULL AND rate IS NOT NULL AND currency IS NOT NULL AND record_date <= pay_date)),
  CONSTRAINT corporate_action_split CHECK (kind NOT IN ('split', 'reverse_split') OR (effective_date IS NOT NULL
    AND ratio_new IS NOT NULL AND ratio_old IS NOT NULL AND ratio_new <> ratio_old)),
  CONSTRAINT corporate_action_symbol_change CHECK (kind <> 'symbol_change' OR (effective_date IS NOT NULL
    AND (new_symbol IS NOT NULL OR new_isin IS NOT NULL OR new_cusip IS NOT NULL))),
  CONSTRAINT corporate_action_applied CHECK ((status = 'applied') = (applied_at IS NOT NULL))
);
CREATE INDEX corporate_actions_dates ON corporate_actions (coalesce(pay_date, effective_date));
CREATE INDEX corporate_actions_symbol ON corporate_actions (symbol);

-- Withholding tax on dividends paid to non-residents, as dated data: the rate (percent) that
-- `source_country` withholds from holders resident in `residence_country` ('*': any country
-- without a row of its own, e.g. the statutory rate where no treaty applies), from a date on.
CREATE TABLE withholding_tax_rates (
  source_country    text NOT NULL CHECK (source_country ~ '^[A-Z]{2}$'),
  residence_country text NOT NULL CHECK (residence_country ~ '^([A-Z]{2}|\*)$'),
  rate_percent      numeric NOT NULL CHECK (rate_percent >= 0 AND rate_percent <= 100),
  effective_from    date NOT NULL,
  updated_at        timestamptz NOT NULL,
  updated_by        text NOT NULL,
  PRIMARY KEY (source_country, residence_country, effective_from)
);

-- What an applied action booked, per holder: customers (entitlement, tax, net, new quantity, cash
-- in lieu), and the firm's side (depository, counterparty claims, fractional shares, rounding).
-- Quantities are decimals of the security's scale; money is minor units of `currency`.
CREATE TABLE corporate_action_entitlements (
  action_id     text NOT NULL REFERENCES corporate_actions (id),
  holder_kind   text NOT NULL CHECK (holder_kind IN ('customer', 'depository', 'counterparty', 'firm')),
  holder        text NOT NULL,
  ledger_account text NOT NULL,
  quantity      numeric NOT NULL,
  currency      text,
  gross         numeric(38, 0),
  tax_rate      numeric,
  tax_country   text,
  tax           numeric(38, 0),
  net           numeric(38, 0),
  new_quantity  numeric,
  fraction      numeric,
  cash_in_lieu  numeric(38, 0),
  PRIMARY KEY (action_id, holder_kind, holder, ledger_account)
);

-- Events that change tax lots without a trade, replayed in date order by trading when it
-- recomputes lots (trading/lots.ts): a split multiplies quantities and divides unit costs, the
-- fraction beyond whole units leaving as a sale at the cash-in-lieu price; a symbol change carries
-- the lots of the old symbol over to the new one.
CREATE TABLE lot_events (
  id                 text PRIMARY KEY,
  kind               text NOT NULL CHECK (kind IN ('split', 'symbol_change')),
  symbol             text NOT NULL REFERENCES securities (symbol),
  new_symbol         text REFERENCES securities (symbol),
  effective_date     date NOT NULL,
  ratio_new          numeric CHECK (ratio_new > 0),
  ratio_old          numeric CHECK (ratio_old > 0),
  cash_in_lieu_price numeric CHECK (cash_in_lieu_price > 0),
  created_at         timestamptz NOT NULL,
  CHECK (kind <> 'split' OR (ratio_new IS NOT NULL AND ratio_old IS NOT NULL)),
  CHECK (kind <> 'symbol_change' OR new_symbol IS NOT NULL)
);
CREATE INDEX lot_events_symbol ON lot_events (symbol);
CREATE INDEX lot_events_new_symbol ON lot_events (new_symbol) WHERE new_symbol IS NOT NULL;

-- A fraction paid in cash is a sale without a trade: realized P&L then names the lot event.
ALTER TABLE realized_pnl ALTER COLUMN sale_trade DROP NOT NULL;
ALTER TABLE realized_pnl ADD COLUMN lot_event text REFERENCES lot_events (id);
ALTER TABLE realized_pnl ADD CONSTRAINT realized_pnl_source CHECK (sale_trade IS NOT NULL OR lot_event IS NOT NULL);

-- Identifiers a security had before a change: valid through `valid_to` (the day before the change
-- took effect). A symbol change retires the old symbol (valid_until, successor); its positions
-- move to the new one by a ledger entry on the effective date.
CREATE TABLE security_identifier_history (
  id          bigserial PRIMARY KEY,
  symbol      text NOT NULL REFERENCES securities (symbol),
  isin        text,
  cusip       text,
  name        text NOT NULL,
  valid_to    date NOT NULL,
  successor   text REFERENCES securities (symbol),
  action_id   text REFERENCES corporate_actions (id),
  changed_at  timestamptz NOT NULL,
  changed_by  text NOT NULL
);
CREATE INDEX security_identifier_history_symbol ON security_identifier_history (symbol, valid_to);
CREATE INDEX security_identifier_history_isin ON security_identifier_history (isin) WHERE isin IS NOT NULL;
CREATE INDEX security_identifier_history_cusip ON security_identifier_history (cusip) WHERE cusip IS NOT NULL;
ALTER TABLE securities ADD COLUMN valid_until date;
ALTER TABLE securities ADD COLUMN successor text REFERENCES securities (symbol);
