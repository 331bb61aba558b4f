-- Settlement follows corporate actions (issue #4): a split or symbol change applied to the books
-- is recorded here once, so that netting (re)computes open obligations in the security's current
-- units and symbol, and every open obligation it adjusted is kept with its before and after.
CREATE TABLE settlement_security_events (
  action_id      text PRIMARY KEY,
  kind           text NOT NULL CHECK (kind IN ('split', 'symbol_change')),
  symbol         text NOT NULL REFERENCES securities (symbol),
  new_symbol     text REFERENCES securities (symbol),
  effective_date date NOT NULL,
  ratio_new      numeric CHECK (ratio_new > 0),
  ratio_old      numeric CHECK (ratio_old > 0),
  recorded_at    timestamptz NOT NULL,
  recorded_by    text NOT NULL,
  CHECK ((kind = 'split') = (ratio_new IS NOT NULL AND ratio_old IS NOT NULL))
);
CREATE INDEX settlement_security_events_symbol ON settlement_security_events (symbol, effective_date) WHERE kind = 'split';

CREATE TABLE settlement_obligation_adjustments (
  obligation_id   text NOT NULL REFERENCES settlement_obligations (id),
  action_id       text NOT NULL REFERENCES settlement_security_events (action_id),
  symbol_before   text NOT NULL,
  symbol_after    text NOT NULL,
  quantity_before numeric NOT NULL,
  quantity_after  numeric NOT NULL,
  carried_before  numeric NOT NULL,
  carried_after   numeric NOT NULL,
  gross_before    numeric NOT NULL,
  gross_after     numeric NOT NULL,
  -- What rounding down to whole units of the security left out (the split's cash in lieu).
  fraction        numeric NOT NULL DEFAULT 0,
  adjusted_at     timestamptz NOT NULL,
  adjusted_by     text NOT NULL,
  PRIMARY KEY (obligation_id, action_id)
);
