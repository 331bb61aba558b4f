-- Faster lot writes, the same rules (as 0023 for trades).
--
-- Lots and realized P&L are derived from trades: a recomputation deletes a pair's rows and writes
-- them again, a row per open lot and per closing, after every day's booking. Their foreign keys
-- (the trade that opened a lot; the sale, or the lot event, a realized row comes from) were checked
-- row by row. They are checked here once per statement. What the keys also refused, a named trade
-- or lot event being deleted or its key changed, is refused by triggers on those tables; lots are
-- written under the lots lock (LOTS_LOCK, src/trading/lots.ts), which those triggers take.

ALTER TABLE lots DROP CONSTRAINT lots_trade_id_fkey;
ALTER TABLE realized_pnl
  DROP CONSTRAINT realized_pnl_sale_trade_fkey,
  DROP CONSTRAINT realized_pnl_lot_event_fkey;

CREATE FUNCTION check_lot_refs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  missing text;
BEGIN
  IF TG_TABLE_NAME = 'lots' THEN
    SELECT d.trade_id INTO missing FROM (SELECT DISTINCT trade_id FROM new_rows) d
     WHERE NOT EXISTS (SELECT 1 FROM trades t WHERE t.id = d.trade_id) LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION 'a lot names trade %, which does not exist', missing USING ERRCODE = '23503', TABLE = 'lots', COLUMN = 'trade_id';
    END IF;
    RETURN NULL;
  END IF;
  SELECT d.sale_trade INTO missing FROM (SELECT DISTINCT sale_trade FROM new_rows WHERE sale_trade IS NOT NULL) d
   WHERE NOT EXISTS (SELECT 1 FROM trades t WHERE t.id = d.sale_trade) LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'realized P&L names sale %, which does not exist', missing USING ERRCODE = '23503', TABLE = 'realized_pnl', COLUMN = 'sale_trade';
  END IF;
  SELECT d.lot_event INTO missing FROM (SELECT DISTINCT lot_event FROM new_rows WHERE lot_event IS NOT NULL) d
   WHERE NOT EXISTS (SELECT 1 FROM lot_events e WHERE e.id = d.lot_event) LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'realized P&L names lot event %, which does not exist', missing USING ERRCODE = '23503', TABLE = 'realized_pnl', COLUMN = 'lot_event';
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER lots_refs_insert AFTER INSERT ON lots
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION check_lot_refs();
CREATE TRIGGER lots_refs_update AFTER UPDATE ON lots
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION check_lot_refs();
CREATE TRIGGER realized_pnl_refs_insert AFTER INSERT ON realized_pnl
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION check_lot_refs();
CREATE TRIGGER realized_pnl_refs_update AFTER UPDATE ON realized_pnl
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION check_lot_refs();

-- A trade or lot event that lots or realized P&L name is not deleted, nor its key changed.
CREATE FUNCTION refuse_lot_source_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  named boolean;
BEGIN
  PERFORM pg_advisory_xact_lock(7243030); -- LOTS_LOCK (src/trading/lots.ts)
  IF TG_TABLE_NAME = 'trades' THEN
    named := EXISTS (SELECT 1 FROM lots l WHERE l.trade_id = OLD.id) OR EXISTS (SELECT 1 FROM realized_pnl r WHERE r.sale_trade = OLD.id);
  ELSE
    named := EXISTS (SELECT 1 FROM realized_pnl r WHERE r.lot_event = OLD.id);
  END IF;
  IF named THEN
    RAISE EXCEPTION '% % is named by lots or realized P&L: it may not be deleted or change its id', TG_TABLE_NAME, OLD.id
      USING ERRCODE = '23503', TABLE = TG_TABLE_NAME;
  END IF;
  RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE TRIGGER trades_named_by_lots_delete BEFORE DELETE ON trades
  FOR EACH ROW EXECUTE FUNCTION refuse_lot_source_change();
CREATE TRIGGER trades_named_by_lots_id BEFORE UPDATE OF id ON trades
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_lot_source_change();
CREATE TRIGGER lot_events_realized_delete BEFORE DELETE ON lot_events
  FOR EACH ROW EXECUTE FUNCTION refuse_lot_source_change();
CREATE TRIGGER lot_events_realized_id BEFORE UPDATE OF id ON lot_events
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_lot_source_change();
