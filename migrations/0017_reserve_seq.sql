-- n consecutive numbers of a sequence, taken at once: the first is returned. setval after nextval
-- is two steps, so two sessions doing it at the same time could be handed overlapping ranges; a
-- short session-level advisory lock around the two makes the reservation atomic without holding
-- anything until the end of the caller's transaction. The journal numbers its entries with it,
-- both when it writes a batch under the books lock and when a batch is staged ahead of its write
-- (booking's pipeline: stageEntries in src/ledger/journal.ts), so the two never collide.
CREATE FUNCTION reserve_seq(seq regclass, n bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  last bigint;
BEGIN
  IF n < 1 THEN
    RAISE EXCEPTION 'reserve_seq: n must be at least 1, not %', n USING ERRCODE = '22023';
  END IF;
  PERFORM pg_advisory_lock(7243020, seq::oid::int);
  BEGIN
    last := setval(seq, nextval(seq) + n - 1);
  EXCEPTION WHEN OTHERS THEN
    PERFORM pg_advisory_unlock(7243020, seq::oid::int);
    RAISE;
  END;
  PERFORM pg_advisory_unlock(7243020, seq::oid::int);
  RETURN last - n + 1;
END $$;
