-- Posting checks, set-based. The whole-entry check compared counts with a correlated subquery
-- over the transition table (no index): quadratic in the statement's size. And the three foreign
-- keys of postings fired one lookup per row: three quarters of the time of a bulk insert. They
-- become one set-based check per statement here; accounts can no longer be deleted (entries and
-- assets never could), so what was checked at insert stays true.
ALTER TABLE postings DROP CONSTRAINT postings_entry_seq_fkey;
ALTER TABLE postings DROP CONSTRAINT postings_account_id_fkey;
ALTER TABLE postings DROP CONSTRAINT postings_asset_fkey;
CREATE TRIGGER accounts_no_delete BEFORE DELETE ON accounts FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER accounts_no_truncate BEFORE TRUNCATE ON accounts FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

CREATE OR REPLACE FUNCTION check_postings() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad record;
  through date;
BEGIN
  SELECT n.entry_seq INTO bad FROM new_postings n
    WHERE NOT EXISTS (SELECT 1 FROM journal_entries e WHERE e.seq = n.entry_seq) LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'postings refer to entry %, which does not exist', bad.entry_seq USING ERRCODE = '23503';
  END IF;
  SELECT n.entry_seq, n.account_id INTO bad FROM new_postings n
    WHERE NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = n.account_id) LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'entry % posts to account #%, which does not exist', bad.entry_seq, bad.account_id USING ERRCODE = '23503';
  END IF;
  SELECT n.entry_seq, n.asset INTO bad FROM new_postings n
    WHERE NOT EXISTS (SELECT 1 FROM assets s WHERE s.code = n.asset) LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'entry % posts asset %, which is not registered', bad.entry_seq, bad.asset USING ERRCODE = '23503';
  END IF;
  SELECT n.entry_seq, n.asset, sum(n.amount) AS total INTO bad
    FROM new_postings n GROUP BY n.entry_seq, n.asset HAVING sum(n.amount) <> 0 LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'entry % does not balance in %: postings sum to %', bad.entry_seq, bad.asset, bad.total
      USING ERRCODE = '23514';
  END IF;
  SELECT n.entry_seq INTO bad FROM new_postings n GROUP BY n.entry_seq HAVING count(*) < 2 LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'entry % has fewer than two postings', bad.entry_seq USING ERRCODE = '23514';
  END IF;
  SELECT max(closed_through) INTO through FROM period_closes;
  IF through IS NOT NULL THEN
    SELECT n.entry_seq, n.effective_date INTO bad FROM new_postings n WHERE n.effective_date <= through LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION 'entry % is dated %, in a period closed through %', bad.entry_seq, bad.effective_date, through
        USING ERRCODE = '23514';
    END IF;
  END IF;
  SELECT s.entry_seq INTO bad
    FROM (SELECT entry_seq, count(*) AS c FROM new_postings GROUP BY entry_seq) s
    JOIN LATERAL (SELECT count(*) AS c FROM postings p WHERE p.entry_seq = s.entry_seq) t ON true
   WHERE t.c <> s.c LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'entry % already had postings: an entry is written whole, once', bad.entry_seq USING ERRCODE = '23514';
  END IF;
  RETURN NULL;
END $$;
