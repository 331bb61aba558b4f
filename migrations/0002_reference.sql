-- Reference data: securities, customer accounts, counterparties, fee schedules, prices.

CREATE TABLE securities (
  symbol      text PRIMARY KEY REFERENCES assets (code),
  name        text NOT NULL,
  isin        text UNIQUE CHECK (isin ~ '^[A-Z]{2}[A-Z0-9]{9}[0-9]$'),
  cusip       text UNIQUE CHECK (cusip ~ '^[A-Z0-9*@#]{8}[0-9]$'),
  asset_class text NOT NULL CHECK (asset_class IN ('equity', 'etf', 'fund', 'bond', 'treasury', 'option', 'future')),
  currency    text NOT NULL REFERENCES assets (code),
  mic         text NOT NULL CHECK (mic ~ '^[A-Z0-9]{4}$'),
  scale       smallint NOT NULL CHECK (scale BETWEEN 0 AND 9),
  multiplier  numeric NOT NULL DEFAULT 1 CHECK (multiplier > 0),
  updated_at  timestamptz NOT NULL,
  updated_by  text NOT NULL
);

CREATE TABLE customer_accounts (
  account       text PRIMARY KEY CHECK (account ~ '^[A-Za-z0-9_.-]{1,40}$'),
  name          text NOT NULL,
  type          text NOT NULL CHECK (type IN ('cash', 'margin')),
  currency      text NOT NULL REFERENCES assets (code),
  status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'restricted', 'closed')),
  tax_residency text CHECK (tax_residency ~ '^[A-Z]{2}$'),
  fee_schedule  text NOT NULL DEFAULT 'default',
  updated_at    timestamptz NOT NULL,
  updated_by    text NOT NULL
);

CREATE TABLE counterparties (
  code            text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9_.-]{1,40}$'),
  name            text NOT NULL,
  type            text NOT NULL CHECK (type IN ('broker', 'clearing_house', 'custodian', 'bank')),
  dtc_participant text CHECK (dtc_participant ~ '^[0-9]{1,5}$'),
  bic             text CHECK (bic ~ '^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$'),
  lei             text CHECK (lei ~ '^[A-Z0-9]{18}[0-9]{2}$'),
  updated_at      timestamptz NOT NULL,
  updated_by      text NOT NULL
);

-- Fees as dated rates: a schedule is a set of rows; the one in force on the trade date applies.
CREATE TABLE fee_rates (
  schedule       text NOT NULL,
  kind           text NOT NULL CHECK (kind IN ('commission_per_share', 'commission_percent', 'commission_flat', 'sec_fee', 'finra_taf')),
  side           text NOT NULL DEFAULT 'all' CHECK (side IN ('all', 'buy', 'sell')),
  rate           numeric NOT NULL CHECK (rate >= 0),
  minimum        numeric CHECK (minimum >= 0),
  maximum        numeric CHECK (maximum >= 0),
  effective_from date NOT NULL,
  updated_at     timestamptz NOT NULL,
  updated_by     text NOT NULL,
  PRIMARY KEY (schedule, kind, side, effective_from)
);

CREATE TABLE prices (
  symbol     text NOT NULL REFERENCES securities (symbol),
  price_date date NOT NULL,
  price      numeric NOT NULL CHECK (price > 0),
  currency   text NOT NULL,
  source     text NOT NULL DEFAULT 'import',
  PRIMARY KEY (symbol, price_date)
);
