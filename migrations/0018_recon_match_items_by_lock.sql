-- Reconciliation: a statement line and one of our postings are each matched at most once, kept by
-- the writers of match items rather than by two unique indexes. A run of a million lines writes
-- about a million items; maintaining the unique indexes on (line_id) and (entry_seq, posting_line)
-- took most of that write (on PostgreSQL 15 about 3.5 s of server CPU, against 1.5 s for the rows).
-- Every writer (a run, a match by hand, an approved adjustment) holds the statement account's lock
-- (its lines) and the locks of the ledger accounts whose postings it matches, and writes only items
-- it found unmatched under them (src/reconciliation/run.ts, lockLedgerAccounts and writeMatches).
-- Positions keep their unique index (statement, asset).
DROP INDEX recon_match_items_line;
DROP INDEX recon_match_items_posting;

-- Finding the match of a line or a posting: runs write their items in line order (and so mostly in
-- entry order), a BRIN index per side narrows a look-up to a few block ranges at the cost of a
-- few pages per run.
CREATE INDEX recon_match_items_line_id ON recon_match_items USING brin (line_id);
CREATE INDEX recon_match_items_entry_seq ON recon_match_items USING brin (entry_seq);

-- A break's history is written only with its break (a run writes both in one transaction) or for a
-- break that the action has locked (breaks.ts, record); breaks are never deleted. The per-row key
-- check, with its row lock on the break, took about 0.4 s of a run that finds 30,000 breaks: as for
-- recon_lines (0010), no foreign key.
ALTER TABLE recon_break_events DROP CONSTRAINT recon_break_events_break_id_fkey;
