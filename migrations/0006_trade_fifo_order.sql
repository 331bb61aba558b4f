-- The order in which trades relieve lots (FIFO). A new fill takes the next number; a correction
-- takes the number of the fill it corrects, so that correcting a price does not move the fill to
-- the back of the queue.
CREATE SEQUENCE trade_fifo_seq AS bigint;
ALTER TABLE trades ADD COLUMN fifo_seq bigint;
UPDATE trades SET fifo_seq = nextval('trade_fifo_seq') WHERE fifo_seq IS NULL;
ALTER TABLE trades ALTER COLUMN fifo_seq SET DEFAULT nextval('trade_fifo_seq');
ALTER TABLE trades ALTER COLUMN fifo_seq SET NOT NULL;
