-- Accounting close: month-end close records with their checks, prior-period adjustments under
-- maker-checker approval, FX rates, and FX revaluation runs. The ledger's own period_closes
-- table stays the lock; these tables record what the controller did around it.

-- One row per closed month: who closed it, when, and the checks that passed.
CREATE TABLE accounting_closes (
  period         text PRIMARY KEY CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
  closed_through date NOT NULL,
  closed_at      timestamptz NOT NULL,
  closed_by      text NOT NULL,
  checks         jsonb NOT NULL
);
CREATE TRIGGER accounting_closes_immutable BEFORE UPDATE OR DELETE ON accounting_closes
  FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- An adjusting entry for a closed period: proposed by one person, approved (and then posted,
-- dated the first open day) or rejected by another. The proposal itself never changes.
CREATE TABLE close_adjustments (
  id            text PRIMARY KEY,
  period        text NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
  -- The date inside the closed period that the adjustment corrects (restated reports use it).
  target_date   date NOT NULL,
  memo          text NOT NULL CHECK (length(memo) BETWEEN 1 AND 1000),
  postings      jsonb NOT NULL,
  status        text NOT NULL CHECK (status IN ('proposed', 'posted', 'rejected')),
  proposed_by   text NOT NULL,
  proposed_at   timestamptz NOT NULL,
  decided_by    text,
  decided_at    timestamptz,
  decision_note text,
  entry_id      text UNIQUE,
  posted_date   date,
  CHECK (to_char(target_date, 'YYYY-MM') = period),
  CHECK ((status = 'proposed') = (decided_by IS NULL AND decided_at IS NULL)),
  CHECK ((status = 'posted') = (entry_id IS NOT NULL AND posted_date IS NOT NULL)),
  CHECK (posted_date IS NULL OR posted_date > target_date),
  -- Maker-checker, in the database too: nobody posts their own proposal.
  CHECK (status <> 'posted' OR decided_by <> proposed_by)
);
CREATE INDEX close_adjustments_status ON close_adjustments (status, period);

-- A proposal is decided once; what was proposed is never edited; nothing is deleted.
CREATE FUNCTION close_adjustment_decide_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'close_adjustments is append-only: DELETE refused' USING ERRCODE = 'P0001';
  END IF;
  IF OLD.status <> 'proposed' THEN
    RAISE EXCEPTION 'adjustment % is already %: it cannot change', OLD.id, OLD.status USING ERRCODE = 'P0001';
  END IF;
  IF NEW.id <> OLD.id OR NEW.period <> OLD.period OR NEW.target_date <> OLD.target_date OR NEW.memo <> OLD.memo
     OR NEW.postings <> OLD.postings OR NEW.proposed_by <> OLD.proposed_by OR NEW.proposed_at <> OLD.proposed_at THEN
    RAISE EXCEPTION 'adjustment %: a proposal is not edited (reject it and propose again)', OLD.id USING ERRCODE = 'P0001';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER close_adjustments_decide_once BEFORE UPDATE OR DELETE ON close_adjustments
  FOR EACH ROW EXECUTE FUNCTION close_adjustment_decide_once();

-- Exchange rates: 1 unit of `currency` is worth `rate` units of `base`, on `rate_date`.
CREATE TABLE fx_rates (
  rate_date   date NOT NULL,
  currency    text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  base        text NOT NULL CHECK (base ~ '^[A-Z]{3}$'),
  rate        numeric NOT NULL CHECK (rate > 0),
  imported_at timestamptz NOT NULL,
  imported_by text NOT NULL,
  PRIMARY KEY (currency, base, rate_date),
  CHECK (currency <> base)
);

-- Each FX revaluation posting: the carrying value of one (account, currency) in the base currency
-- moved to `target` at `rate`. seq counts runs for the same date (a later posting into the month
-- makes a second run book the difference); a run that changes nothing writes nothing.
CREATE TABLE fx_revaluations (
  as_of           date NOT NULL,
  account         text NOT NULL,
  currency        text NOT NULL,
  seq             integer NOT NULL CHECK (seq >= 1),
  base            text NOT NULL,
  rate            numeric NOT NULL CHECK (rate > 0),
  rate_date       date NOT NULL CHECK (rate_date <= as_of),
  balance         numeric(38, 0) NOT NULL,
  carrying_before numeric(38, 0) NOT NULL,
  target          numeric(38, 0) NOT NULL,
  delta           numeric(38, 0) NOT NULL CHECK (delta <> 0 AND delta = target - carrying_before),
  entry_id        text NOT NULL UNIQUE,
  run_at          timestamptz NOT NULL,
  run_by          text NOT NULL,
  PRIMARY KEY (as_of, account, currency, seq)
);
CREATE TRIGGER fx_revaluations_immutable BEFORE UPDATE OR DELETE ON fx_revaluations
  FOR EACH ROW EXECUTE FUNCTION refuse_change();
