-- Faster ledger writes, the same rules.
--
-- 1. The posting check (0004) made seven passes over each statement's postings, two of them an
--    index probe per row or per entry (the entry exists; the entry had no postings before). It was
--    half the cost of inserting postings. The usual statement is a batch of whole, new, balanced
--    entries with consecutive numbers (the journal reserves a range of seqs per batch), and that is
--    proved here in three passes: one over the postings (counts, the range of entries, the earliest
--    date, accounts and assets known), one per (entry, asset) (sums zero; two or more postings per
--    entry), and two counts over the range by index (every number of the range is an entry; the
--    range holds no other postings than the statement's). Anything else takes the checks of 0004,
--    in their order, with their messages.
CREATE OR REPLACE FUNCTION check_postings() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  bad record;
  tot record;
  grp record;
  through date;
  known bigint;
  stored bigint;
BEGIN
  SELECT count(*) AS n, min(p.entry_seq) AS lo, max(p.entry_seq) AS hi, min(p.effective_date) AS earliest,
         bool_and(a.id IS NOT NULL AND x.code IS NOT NULL) AS refs_ok
    INTO tot FROM new_postings p LEFT JOIN accounts a ON a.id = p.account_id LEFT JOIN assets x ON x.code = p.asset;
  IF tot.n = 0 THEN
    RETURN NULL;
  END IF;
  SELECT count(*) AS entries, bool_and(e.ok) AS ok INTO grp FROM (
    SELECT bool_and(t.total = 0) AND sum(t.c) >= 2 AS ok
      FROM (SELECT entry_seq, sum(amount) AS total, count(*) AS c FROM new_postings GROUP BY entry_seq, asset) t
     GROUP BY t.entry_seq) e;
  SELECT max(closed_through) INTO through FROM period_closes;
  IF tot.refs_ok AND grp.ok AND (through IS NULL OR tot.earliest > through) AND grp.entries = tot.hi - tot.lo + 1 THEN
    SELECT count(*) INTO known FROM journal_entries WHERE seq BETWEEN tot.lo AND tot.hi;
    SELECT count(*) INTO stored FROM postings WHERE entry_seq BETWEEN tot.lo AND tot.hi;
    -- Every seq of the range is an entry (seq is the key), and the range holds no posting but the
    -- statement's: each entry exists and is written whole, once.
    IF known = grp.entries AND stored = tot.n THEN
      RETURN NULL;
    END IF;
  END IF;

  -- Something is off (or the entries are not consecutive): the checks one by one, naming the entry.
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
  IF through IS NOT NULL THEN
    SELECT n.entry_seq, n.effective_date INTO bad FROM new_postings n WHERE n.effective_date <= through LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION 'entry % is dated %, in a period closed through %', bad.entry_seq, bad.effective_date, through
        USING ERRCODE = '23514';
    END IF;
  END IF;
  SELECT s2.entry_seq INTO bad
    FROM (SELECT entry_seq, count(*) AS c FROM new_postings GROUP BY entry_seq) s2
    JOIN LATERAL (SELECT count(*) AS c FROM postings p WHERE p.entry_seq = s2.entry_seq) t ON true
   WHERE t.c <> s2.c LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'entry % already had postings: an entry is written whole, once', bad.entry_seq USING ERRCODE = '23514';
  END IF;
  RETURN NULL;
END $$;
