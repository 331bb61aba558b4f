-- Faster confirmation matching, the same rules.
--
-- 1. A matching run writes a row per confirmation and per unconfirmed trade of the day (a million
--    on a large day), and a day's confirmation file as many confirmations. Their foreign keys were
--    checked row by row (a lookup and a row lock on the referenced row per row: on PostgreSQL 15
--    more than half of the cost of writing the matches, a third of the confirmations'). The same
--    rules are checked here once per statement, over all its rows: every confirmation and trade a
--    match names exists; every confirmation's counterparty exists.
-- 2. What the foreign keys also refused, a referenced row being deleted or its key changed (a
--    confirmation or trade a match names, a counterparty a confirmation names), is refused by
--    triggers on those tables (they fire only on DELETE, or on an UPDATE that sets the key, which
--    nothing does). They take the matching lock (the advisory lock that every writer of matches and
--    confirmations holds until it commits), so a row being written cannot slip past them.
-- 3. The manual matches (a few a day, kept across runs) get a partial index: a run looks them up
--    instead of probing the matches once per confirmation and once per trade.
-- 4. A run reads the date's confirmations in (counterparty, conf_id) order, byte-wise (the order
--    the rules pair them in): the date's index now holds that order, instead of the security, so
--    the day is read without a sort.

ALTER TABLE confirmation_matches
  DROP CONSTRAINT confirmation_matches_confirmation_fkey,
  DROP CONSTRAINT confirmation_matches_trade_id_fkey;
ALTER TABLE confirmations DROP CONSTRAINT confirmations_counterparty_fkey;

CREATE FUNCTION check_confirmation_match_refs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  d date;
  expected bigint;
  named bigint;
  bad record;
BEGIN
  -- A run's rows name the confirmations and trades of their own trade date: counted per date by a
  -- join on that date's rows (by its index), not a lookup per row in tables that hold every day.
  -- Only when some are not of the date (a manual match across dates) are those looked up one by one.
  FOR d IN SELECT DISTINCT trade_date FROM new_matches LOOP
    SELECT count(n.confirmation) INTO expected FROM new_matches n WHERE n.trade_date = d;
    SELECT count(*) INTO named FROM new_matches n JOIN confirmations c ON c.id = n.confirmation WHERE n.trade_date = d AND c.trade_date = d;
    IF named < expected THEN
      SELECT n.id, n.confirmation INTO bad FROM new_matches n
       WHERE n.trade_date = d AND n.confirmation IS NOT NULL
         AND NOT EXISTS (SELECT 1 FROM confirmations c WHERE c.id = n.confirmation AND c.trade_date = d)
         AND NOT EXISTS (SELECT 1 FROM confirmations c WHERE c.id = n.confirmation) LIMIT 1;
      IF FOUND THEN
        RAISE EXCEPTION 'confirmation match % names confirmation %, which does not exist', bad.id, bad.confirmation
          USING ERRCODE = '23503', TABLE = 'confirmation_matches', COLUMN = 'confirmation';
      END IF;
    END IF;
    SELECT count(n.trade_id) INTO expected FROM new_matches n WHERE n.trade_date = d;
    SELECT count(*) INTO named FROM new_matches n JOIN trades t ON t.id = n.trade_id WHERE n.trade_date = d AND t.trade_date = d;
    IF named < expected THEN
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

CREATE TRIGGER confirmation_matches_refs_insert AFTER INSERT ON confirmation_matches
  REFERENCING NEW TABLE AS new_matches FOR EACH STATEMENT EXECUTE FUNCTION check_confirmation_match_refs();
CREATE TRIGGER confirmation_matches_refs_update AFTER UPDATE ON confirmation_matches
  REFERENCING NEW TABLE AS new_matches FOR EACH STATEMENT EXECUTE FUNCTION check_confirmation_match_refs();

CREATE FUNCTION check_confirmation_counterparties() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  missing text;
  named text;
BEGIN
  SELECT d.counterparty INTO missing FROM (SELECT DISTINCT counterparty FROM new_confirmations) d
   WHERE NOT EXISTS (SELECT 1 FROM counterparties k WHERE k.code = d.counterparty) LIMIT 1;
  IF FOUND THEN
    SELECT n.id INTO named FROM new_confirmations n WHERE n.counterparty = missing LIMIT 1;
    RAISE EXCEPTION 'confirmation % names counterparty %, which does not exist', named, missing
      USING ERRCODE = '23503', TABLE = 'confirmations', COLUMN = 'counterparty';
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER confirmations_counterparty_insert AFTER INSERT ON confirmations
  REFERENCING NEW TABLE AS new_confirmations FOR EACH STATEMENT EXECUTE FUNCTION check_confirmation_counterparties();
CREATE TRIGGER confirmations_counterparty_update AFTER UPDATE ON confirmations
  REFERENCING NEW TABLE AS new_confirmations FOR EACH STATEMENT EXECUTE FUNCTION check_confirmation_counterparties();

-- A confirmation or trade named by a match is not deleted, nor its id changed; nor a counterparty
-- a confirmation names, nor its code.
CREATE FUNCTION refuse_matched_side_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  named boolean;
BEGIN
  PERFORM pg_advisory_xact_lock(7243007); -- MATCHING_LOCK (src/settlement/matching.ts)
  IF TG_TABLE_NAME = 'counterparties' THEN
    IF EXISTS (SELECT 1 FROM confirmations c WHERE c.counterparty = OLD.code) THEN
      RAISE EXCEPTION 'counterparty % is named by confirmations: it may not be deleted or change its code', OLD.code
        USING ERRCODE = '23503', TABLE = TG_TABLE_NAME;
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
  END IF;
  IF TG_TABLE_NAME = 'confirmations' THEN
    named := EXISTS (SELECT 1 FROM confirmation_matches m WHERE m.confirmation = OLD.id);
  ELSE
    named := EXISTS (SELECT 1 FROM confirmation_matches m WHERE m.trade_id = OLD.id);
  END IF;
  IF named THEN
    RAISE EXCEPTION '% % is named by a confirmation match: it may not be deleted or change its id', TG_TABLE_NAME, OLD.id
      USING ERRCODE = '23503', TABLE = TG_TABLE_NAME;
  END IF;
  RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE TRIGGER confirmations_matched_delete BEFORE DELETE ON confirmations
  FOR EACH ROW EXECUTE FUNCTION refuse_matched_side_change();
CREATE TRIGGER confirmations_matched_id BEFORE UPDATE OF id ON confirmations
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_matched_side_change();
CREATE TRIGGER trades_matched_delete BEFORE DELETE ON trades
  FOR EACH ROW EXECUTE FUNCTION refuse_matched_side_change();
CREATE TRIGGER trades_matched_id BEFORE UPDATE OF id ON trades
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_matched_side_change();
CREATE TRIGGER counterparties_confirmed_delete BEFORE DELETE ON counterparties
  FOR EACH ROW EXECUTE FUNCTION refuse_matched_side_change();
CREATE TRIGGER counterparties_confirmed_code BEFORE UPDATE OF code ON counterparties
  FOR EACH ROW WHEN (OLD.code IS DISTINCT FROM NEW.code) EXECUTE FUNCTION refuse_matched_side_change();

CREATE INDEX confirmation_matches_manual ON confirmation_matches (trade_date) WHERE method = 'manual';

DROP INDEX confirmations_date;
CREATE INDEX confirmations_date ON confirmations (trade_date, counterparty COLLATE "C", conf_id COLLATE "C");
