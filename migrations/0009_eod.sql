-- The end-of-day cycle: one row per (business date, step) recording its progress, so that a
-- second run of a finished day changes nothing and a run after a crash finishes the day.
CREATE TABLE eod_runs (
  date        date NOT NULL,
  step        text NOT NULL CHECK (step IN ('intake', 'book', 'match', 'statuses', 'net', 'instruct', 'report')),
  status      text NOT NULL CHECK (status IN ('started', 'done')),
  started_at  timestamptz NOT NULL,
  finished_at timestamptz,
  counts      jsonb NOT NULL DEFAULT '{}',
  PRIMARY KEY (date, step),
  CHECK ((status = 'done') = (finished_at IS NOT NULL))
);

-- The inbox files the cycle took in, each once: a file is known by its date, name and content
-- hash (the same name with other content is another file). `done` once its work committed;
-- `failed` (with the error) when it was refused, retried by the next run.
CREATE TABLE eod_files (
  date         date NOT NULL,
  name         text NOT NULL,
  sha256       text NOT NULL,
  kind         text NOT NULL CHECK (kind IN ('executions', 'confirmations', 'statuses')),
  status       text NOT NULL CHECK (status IN ('received', 'done', 'failed')),
  received_at  timestamptz NOT NULL,
  processed_at timestamptz,
  result       jsonb,
  error        text,
  PRIMARY KEY (date, name, sha256)
);
