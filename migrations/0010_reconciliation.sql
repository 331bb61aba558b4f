-- Reconciliation: bank and custodian statements against our books.
-- Statements (and their lines) are stored as received; links say which ledger account a statement
-- account is; runs match statement lines to our postings (cash) or positions (holdings) by ordered
-- rules; what does not match is a break that people work (assign, comment, match by hand, or an
-- adjusting entry proposed by one person and approved by another).

-- Each file once: a file imported again (same bytes) changes nothing.
CREATE TABLE recon_files (
  hash        text PRIMARY KEY,
  file_name   text,
  statements  text[] NOT NULL,
  imported_at timestamptz NOT NULL,
  imported_by text NOT NULL
);

CREATE TABLE recon_statements (
  id              text PRIMARY KEY,
  -- IBAN, other account id, or the safekeeping account of a holdings statement.
  account         text NOT NULL,
  -- The message type without its version (camt.053, mt940, semt.002, csv): a statement re-sent in
  -- another version of the same message is the same statement.
  family          text NOT NULL,
  statement_id    text NOT NULL,
  sequence        text NOT NULL DEFAULT '',
  kind            text NOT NULL CHECK (kind IN ('cash', 'holdings')),
  format          text NOT NULL,
  message_id      text NOT NULL,
  servicer        text,
  currency        text,
  created_in_file text,
  from_date       date,
  to_date         date,
  statement_date  date,
  opening         numeric,
  closing         numeric,
  balances        jsonb NOT NULL,
  check_result    text NOT NULL,
  line_count      integer NOT NULL,
  -- Its lines have the ids first_line..last_line (written together); lines matched so far.
  first_line      bigint,
  last_line       bigint,
  matched_lines   integer NOT NULL DEFAULT 0,
  -- Hash of what the statement says (not of the message around it): a re-sent statement with the
  -- same content is a duplicate; the same statement id with other content is a conflict.
  content_hash    text NOT NULL,
  file_hash       text NOT NULL,
  file_name       text,
  imported_at     timestamptz NOT NULL,
  imported_by     text NOT NULL,
  UNIQUE (account, family, statement_id, sequence)
);
CREATE INDEX recon_statements_account ON recon_statements (account, statement_date);

-- Statement lines: cash entries (amount signed: + credit, - debit) or holdings (amount = quantity).
-- No foreign key to recon_statements: lines are written (COPY) only with their statement, in the
-- same transaction, and never alone; a per-row key check made a 100,000-line import about half as fast.
CREATE SEQUENCE recon_line_seq AS bigint;
CREATE TABLE recon_lines (
  id             bigint PRIMARY KEY,
  statement      text NOT NULL,
  -- The statement's account: the distribution key.
  account        text NOT NULL,
  idx            integer NOT NULL,
  amount         numeric NOT NULL,
  currency       text,
  booking_date   date,
  value_date     date,
  status         text NOT NULL DEFAULT 'BOOK',
  servicer_ref   text,
  our_ref        text,
  refs           text[] NOT NULL DEFAULT '{}',
  tx_count       integer NOT NULL DEFAULT 1,
  bank_tx_code   text,
  counterparty   text,
  remittance     text,
  info           text,
  security       text,
  quantity_type  text,
  price          numeric,
  price_currency text,
  UNIQUE (statement, idx)
);

-- Which ledger account a statement account is. Cash: one ledger account (and its sub-accounts) in
-- one asset. Holdings: a prefix (assets:depository:dtc) whose per-security balances are positions.
CREATE TABLE recon_links (
  statement_account text PRIMARY KEY,
  kind              text NOT NULL CHECK (kind IN ('cash', 'holdings')),
  ledger_account    text NOT NULL,
  asset             text,
  created_at        timestamptz NOT NULL,
  created_by        text NOT NULL,
  CHECK ((kind = 'cash') = (asset IS NOT NULL))
);

-- Matching rules of a linked account, applied in order, each with its parameters.
CREATE TABLE recon_rules (
  statement_account text NOT NULL REFERENCES recon_links (statement_account),
  position          integer NOT NULL,
  rule              text NOT NULL,
  params            jsonb NOT NULL,
  PRIMARY KEY (statement_account, position)
);

-- Every run, and every match or adjustment made by hand (kind), with who and when.
CREATE TABLE recon_runs (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  statement_account text NOT NULL,
  kind              text NOT NULL CHECK (kind IN ('run', 'manual', 'adjustment')),
  as_of             date,
  reason            text,
  at                timestamptz NOT NULL,
  actor             text NOT NULL,
  summary           jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX recon_runs_account ON recon_runs (statement_account, id);

-- The items of each match: a statement line, one of our postings (cash) or a position (holdings:
-- the statement, the asset and our quantity then). A one-to-one cash match is a single row holding
-- both sides; a group is one row per item. An item is matched at most once (unique indexes).
-- Written in bulk by a run (COPY), match ids ascending: a BRIN index finds a match's items.
CREATE SEQUENCE recon_match_seq AS bigint;
CREATE TABLE recon_match_items (
  match_id          bigint NOT NULL,
  statement_account text NOT NULL,
  run_id            bigint NOT NULL,
  rule              text NOT NULL,
  line_id           bigint,
  entry_seq         bigint,
  posting_line      smallint,
  statement         text,
  asset             text,
  quantity          numeric,
  CHECK (line_id IS NOT NULL OR entry_seq IS NOT NULL OR asset IS NOT NULL),
  CHECK ((entry_seq IS NULL) = (posting_line IS NULL))
);
CREATE UNIQUE INDEX recon_match_items_line ON recon_match_items (line_id) WHERE line_id IS NOT NULL;
CREATE UNIQUE INDEX recon_match_items_posting ON recon_match_items (entry_seq, posting_line) WHERE entry_seq IS NOT NULL;
CREATE UNIQUE INDEX recon_match_items_position ON recon_match_items (statement, asset) WHERE asset IS NOT NULL;
CREATE INDEX recon_match_items_match ON recon_match_items USING brin (match_id);

-- What did not match. A run finds breaks; the same break found again (same type and items) is the
-- same row while it is open. People assign, comment and resolve them.
CREATE TABLE recon_breaks (
  id                text PRIMARY KEY,
  statement_account text NOT NULL,
  type              text NOT NULL CHECK (type IN ('missing_ours', 'missing_theirs', 'amount_differs', 'quantity_differs', 'date_differs')),
  status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
  resolution        text CHECK (resolution IN ('manual_match', 'adjustment', 'matched', 'superseded')),
  fingerprint       text NOT NULL,
  line_ids          bigint[] NOT NULL DEFAULT '{}',
  entry_seqs        bigint[] NOT NULL DEFAULT '{}',
  posting_lines     smallint[] NOT NULL DEFAULT '{}',
  -- The statement of its lines (holdings: the snapshot) and the asset (our position) concerned.
  statement         text,
  asset             text,
  theirs_amount     numeric,
  ours_amount       numeric,
  unit              text NOT NULL,
  -- The date the age counts from (the statement line's or our entry's), and the latest date of its
  -- items (a run as of an earlier date leaves the break alone).
  item_date         date NOT NULL,
  scope_date        date NOT NULL,
  run_id            bigint NOT NULL,
  found_at          timestamptz NOT NULL,
  assignee          text,
  resolved_at       timestamptz,
  resolved_by       text,
  match_id          bigint,
  entry_id          text,
  superseded_by     text,
  CHECK ((status = 'open') = (resolution IS NULL))
);
CREATE UNIQUE INDEX recon_breaks_open ON recon_breaks (statement_account, fingerprint) WHERE status = 'open';
CREATE INDEX recon_breaks_status ON recon_breaks (status, statement_account, item_date);
CREATE INDEX recon_breaks_statement ON recon_breaks (statement) WHERE status = 'open';

-- A break's own history (found, assigned, commented, proposed, approved, resolved), for people;
-- the audit trail holds the same actions, hash-chained.
CREATE TABLE recon_break_events (
  id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  break_id text NOT NULL REFERENCES recon_breaks (id),
  at       timestamptz NOT NULL,
  actor    text NOT NULL,
  action   text NOT NULL,
  data     jsonb NOT NULL
);
CREATE INDEX recon_break_events_break ON recon_break_events (break_id, id);

-- Adjusting entries: proposed by one person, approved (posted) or rejected by another.
CREATE TABLE recon_adjustments (
  id          text PRIMARY KEY,
  break_id    text NOT NULL REFERENCES recon_breaks (id),
  status      text NOT NULL CHECK (status IN ('proposed', 'approved', 'rejected', 'withdrawn')),
  entry       jsonb NOT NULL,
  proposed_by text NOT NULL,
  proposed_at timestamptz NOT NULL,
  decided_by  text,
  decided_at  timestamptz,
  reason      text,
  entry_id    text
);
CREATE UNIQUE INDEX recon_adjustments_pending ON recon_adjustments (break_id) WHERE status = 'proposed';
