-- Settlement keeps no copy of the corporate actions its obligations follow (0016 recorded each
-- split and symbol change a second time, in settlement_security_events, beside trading's
-- lot_events of 0011). The event itself (kind, symbol, new symbol, date, ratio) is trading's lot
-- event, which settlement reads through trading's index; settlement keeps only what is its own:
-- that it brought its open obligations to the action, who did and when (one row per action, which
-- also makes applying it twice change nothing), and the per-obligation adjustments.

-- 1. What settlement recorded and trading did not (apply records both in one transaction, so
--    normally nothing): a split, or a symbol change to a new symbol, becomes trading's lot event,
--    with the cash-in-lieu price of its corporate action. An identifier change without a new
--    symbol has no lot event and settlement never read its terms: nothing to keep of it.
INSERT INTO lot_events (id, kind, symbol, new_symbol, effective_date, ratio_new, ratio_old, cash_in_lieu_price, created_at)
SELECT e.action_id, e.kind, e.symbol, e.new_symbol, e.effective_date, e.ratio_new, e.ratio_old, a.cash_in_lieu_price, e.recorded_at
  FROM settlement_security_events e LEFT JOIN corporate_actions a ON a.id = e.action_id
 WHERE (e.kind = 'split' OR e.new_symbol IS NOT NULL)
   AND NOT EXISTS (SELECT 1 FROM lot_events l WHERE l.id = e.action_id);

-- 2. Where both recorded an action, they must agree: settlement reads trading's terms from now on.
DO $$
DECLARE
  bad text;
BEGIN
  SELECT string_agg(e.action_id, ', ' ORDER BY e.action_id) INTO bad
    FROM settlement_security_events e JOIN lot_events l ON l.id = e.action_id
   WHERE l.kind <> e.kind OR l.symbol <> e.symbol OR l.new_symbol IS DISTINCT FROM e.new_symbol
      OR l.effective_date <> e.effective_date OR l.ratio_new IS DISTINCT FROM e.ratio_new OR l.ratio_old IS DISTINCT FROM e.ratio_old;
  IF bad IS NOT NULL THEN
    RAISE EXCEPTION 'settlement_security_events and lot_events disagree on the terms of %: settlement would read other terms than it applied; correct one of them, then migrate again', bad;
  END IF;
END $$;

-- 3. Settlement's own part stays, under a name that says what it is; the copied terms go.
ALTER TABLE settlement_security_events RENAME TO settlement_event_records;
ALTER INDEX settlement_security_events_pkey RENAME TO settlement_event_records_pkey;
DROP INDEX settlement_security_events_symbol;
ALTER TABLE settlement_event_records
  DROP COLUMN kind,
  DROP COLUMN symbol,
  DROP COLUMN new_symbol,
  DROP COLUMN effective_date,
  DROP COLUMN ratio_new,
  DROP COLUMN ratio_old;
COMMENT ON TABLE settlement_event_records IS
  'A corporate action (split, symbol change) settlement brought its open obligations to: who and when. The terms are trading''s lot_events (same id); the per-obligation changes are settlement_obligation_adjustments.';
