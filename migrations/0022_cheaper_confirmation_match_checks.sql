-- Cheaper checks of the confirmations and trades a statement's confirmation matches name, the same
-- rules as 0019 (every confirmation and trade a match names exists; the same errors).
--
-- A matching run writes its day's matches in one statement (a million rows on a large day). 0019
-- checked them by a pass over the new rows for their dates, then per date two counts and two
-- joins (five passes), the join on the trades by an index probe per row. Now: one pass for the
-- dates (their least and greatest, which on a run's statement are the same date), then per date
-- one pass joining both sides at once (planned afresh for the statement's size): by hash joins
-- when the statement is large, since an index probe per row into the trades costs more than
-- hashing the day's trades; by index probes when it is small (a manual match). Rows naming a side
-- of another date (a manual match across dates) are looked up one by one, as before. On a day of
-- 30,000 matches the check cost a third of writing them; now a tenth.

CREATE OR REPLACE FUNCTION check_confirmation_match_refs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  lo date;
  hi date;
  rows_in bigint;
  d date;
  k record;
  bad record;
  nestloop text;
BEGIN
  SELECT min(trade_date), max(trade_date), count(*) INTO lo, hi, rows_in FROM new_matches;
  IF lo IS NULL THEN
    RETURN NULL;
  END IF;
  FOR d IN SELECT lo WHERE lo = hi UNION ALL SELECT DISTINCT n.trade_date FROM new_matches n WHERE lo <> hi LOOP
    -- Planned afresh each time (EXECUTE), for this statement's number of rows.
    IF rows_in > 1000 THEN
      nestloop := current_setting('enable_nestloop');
      PERFORM set_config('enable_nestloop', 'off', true);
    END IF;
    EXECUTE 'SELECT count(n.confirmation) AS confs, count(c.id) AS confs_of_date, count(n.trade_id) AS trades, count(t.id) AS trades_of_date
      FROM new_matches n
      LEFT JOIN confirmations c ON c.id = n.confirmation AND c.trade_date = $1
      LEFT JOIN trades t ON t.id = n.trade_id AND t.trade_date = $1
     WHERE n.trade_date = $1' INTO k USING d;
    IF nestloop IS NOT NULL THEN
      PERFORM set_config('enable_nestloop', nestloop, true);
    END IF;
    IF k.confs_of_date < k.confs THEN
      SELECT n.id, n.confirmation INTO bad FROM new_matches n
       WHERE n.trade_date = d AND n.confirmation IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM confirmations c WHERE c.id = n.confirmation AND c.trade_date = d)
         AND NOT EXISTS (SELECT 1 FROM confirmations c WHERE c.id = n.confirmation) LIMIT 1;
      IF FOUND THEN
        RAISE EXCEPTION 'confirmation match % names confirmation %, which does not exist', bad.id, bad.confirmation
          USING ERRCODE = '23503', TABLE = 'confirmation_matches', COLUMN = 'confirmation';
      END IF;
    END IF;
    IF k.trades_of_date < k.trades THEN
      SELECT n.id, n.trade_id INTO bad FROM new_matches n
       WHERE n.trade_date = d AND n.trade_id IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM trades t WHERE t.id = n.trade_id AND t.trade_date = d)
         AND NOT EXISTS (SELECT 1 FROM trades t WHERE t.id = n.trade_id) LIMIT 1;
      IF FOUND THEN
        RAISE EXCEPTION 'confirmation match % names trade %, which does not exist', bad.id, bad.trade_id
          USING ERRCODE = '23503', TABLE = 'confirmation_matches', COLUMN = 'trade_id';
      END IF;
    END IF;
  END LOOP;
  RETURN NULL;
END $$;
