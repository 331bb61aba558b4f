-- Faster trade writes, the same rules.
--
-- Booking writes a row per trade (a million on a large day), and the three foreign keys of trades
-- (its customer account, its security, the trade it replaces) were checked row by row: a lookup
-- and a row lock on the referenced row per trade, measured at 11 µs of the 23 µs a trade row costs
-- to write on PostgreSQL 15, about as much as its five indexes together. The same rules are
-- checked here once per statement, over all its rows, as 0014 did for postings and 0019 for
-- confirmation matches: every customer account, security and replaced trade a trade names exists.
--
-- What the keys also refused, a named row being deleted or its key changed, is refused by
-- triggers on those tables (they fire only on DELETE, or on an UPDATE that sets the key, which
-- nothing in the application does). They take the books lock (lockBooks, src/ledger/audit.ts),
-- which every writer of trades holds until it commits, so a trade being written cannot slip past
-- them.

ALTER TABLE trades
  DROP CONSTRAINT trades_account_fkey,
  DROP CONSTRAINT trades_symbol_fkey,
  DROP CONSTRAINT trades_replaces_fkey;

CREATE FUNCTION check_trade_refs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  missing text;
  named text;
BEGIN
  -- A day's trades name a few thousand accounts and securities: each is looked up once.
  SELECT d.account INTO missing FROM (SELECT DISTINCT account FROM new_trades) d
   WHERE NOT EXISTS (SELECT 1 FROM customer_accounts a WHERE a.account = d.account) LIMIT 1;
  IF FOUND THEN
    SELECT n.id INTO named FROM new_trades n WHERE n.account = missing LIMIT 1;
    RAISE EXCEPTION 'trade % names customer account %, which does not exist', named, missing
      USING ERRCODE = '23503', TABLE = 'trades', COLUMN = 'account';
  END IF;
  SELECT d.symbol INTO missing FROM (SELECT DISTINCT symbol FROM new_trades) d
   WHERE NOT EXISTS (SELECT 1 FROM securities s WHERE s.symbol = d.symbol) LIMIT 1;
  IF FOUND THEN
    SELECT n.id INTO named FROM new_trades n WHERE n.symbol = missing LIMIT 1;
    RAISE EXCEPTION 'trade % names security %, which does not exist', named, missing
      USING ERRCODE = '23503', TABLE = 'trades', COLUMN = 'symbol';
  END IF;
  -- Corrections only (a handful a day); the table already holds the statement's own rows.
  SELECT n.id, n.replaces INTO named, missing FROM new_trades n
   WHERE n.replaces IS NOT NULL AND NOT EXISTS (SELECT 1 FROM trades t WHERE t.id = n.replaces) LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'trade % replaces trade %, which does not exist', named, missing
      USING ERRCODE = '23503', TABLE = 'trades', COLUMN = 'replaces';
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER trades_refs_insert AFTER INSERT ON trades
  REFERENCING NEW TABLE AS new_trades FOR EACH STATEMENT EXECUTE FUNCTION check_trade_refs();
CREATE TRIGGER trades_refs_update AFTER UPDATE ON trades
  REFERENCING NEW TABLE AS new_trades FOR EACH STATEMENT EXECUTE FUNCTION check_trade_refs();

-- A customer account or security that trades name is not deleted, nor its key changed; nor a trade
-- that another trade replaces.
CREATE FUNCTION refuse_traded_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  key text;
  named boolean;
BEGIN
  PERFORM pg_advisory_xact_lock(7243002); -- the books lock (lockBooks, src/ledger/audit.ts)
  IF TG_TABLE_NAME = 'customer_accounts' THEN
    key := OLD.account;
    named := EXISTS (SELECT 1 FROM trades t WHERE t.account = OLD.account);
  ELSIF TG_TABLE_NAME = 'securities' THEN
    key := OLD.symbol;
    named := EXISTS (SELECT 1 FROM trades t WHERE t.symbol = OLD.symbol);
  ELSE
    key := OLD.id;
    named := EXISTS (SELECT 1 FROM trades t WHERE t.replaces = OLD.id);
  END IF;
  IF named THEN
    RAISE EXCEPTION '% % is named by trades: it may not be deleted or change its key', TG_TABLE_NAME, key
      USING ERRCODE = '23503', TABLE = TG_TABLE_NAME;
  END IF;
  RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END $$;

CREATE TRIGGER customer_accounts_traded_delete BEFORE DELETE ON customer_accounts
  FOR EACH ROW EXECUTE FUNCTION refuse_traded_change();
CREATE TRIGGER customer_accounts_traded_key BEFORE UPDATE OF account ON customer_accounts
  FOR EACH ROW WHEN (OLD.account IS DISTINCT FROM NEW.account) EXECUTE FUNCTION refuse_traded_change();
CREATE TRIGGER securities_traded_delete BEFORE DELETE ON securities
  FOR EACH ROW EXECUTE FUNCTION refuse_traded_change();
CREATE TRIGGER securities_traded_key BEFORE UPDATE OF symbol ON securities
  FOR EACH ROW WHEN (OLD.symbol IS DISTINCT FROM NEW.symbol) EXECUTE FUNCTION refuse_traded_change();
CREATE TRIGGER trades_replaced_delete BEFORE DELETE ON trades
  FOR EACH ROW EXECUTE FUNCTION refuse_traded_change();
CREATE TRIGGER trades_replaced_id BEFORE UPDATE OF id ON trades
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_traded_change();
