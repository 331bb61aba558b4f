-- Settlement lifecycle: instructions sent for obligations, and the statuses applied to them.

-- One instruction per obligation. `reference` is what the instruction quotes as ours and what
-- statuses quote back: the obligation id for sese.023 (TxId, up to 35 characters); for MT540-543,
-- whose :20C::SEME// holds 16 characters at most, a short reference from a sequence.
CREATE SEQUENCE settlement_instruction_seq;
CREATE TABLE settlement_instructions (
  obligation_id   text PRIMARY KEY REFERENCES settlement_obligations (id),
  reference       text NOT NULL UNIQUE,
  format          text NOT NULL CHECK (format IN ('sese023', 'mt54x')),
  message_id      text NOT NULL UNIQUE,
  settlement_type text NOT NULL CHECK (settlement_type IN ('RVP', 'DVP', 'RFP', 'DFP')),
  place_bic       text NOT NULL,
  file_name       text NOT NULL,
  instructed_at   timestamptz NOT NULL,
  instructed_by   text NOT NULL
);

-- Every status applied, once: a status file imported again matches its fingerprints and changes
-- nothing. Reasons of a failing settlement are kept here (the obligation keeps its status).
CREATE TABLE settlement_status_events (
  id              bigserial PRIMARY KEY,
  obligation_id   text NOT NULL REFERENCES settlement_obligations (id),
  fingerprint     text NOT NULL,
  format          text NOT NULL,
  status          text NOT NULL,
  settled_quantity numeric,
  settled_cash    numeric(38, 0),
  effective_date  date,
  reasons         text[] NOT NULL DEFAULT '{}',
  entry_key       text,
  applied_at      timestamptz NOT NULL,
  applied_by      text NOT NULL,
  UNIQUE (obligation_id, fingerprint)
);
CREATE INDEX settlement_status_events_obligation ON settlement_status_events (obligation_id, id);
