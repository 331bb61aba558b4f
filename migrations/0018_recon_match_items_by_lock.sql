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

-- Finding a match's items, or the match of a line or a posting: runs write their items in match
-- order, which is line order (and so mostly entry order) for most of them. One BRIN index over the
-- three columns narrows each look-up to a few block ranges; it replaces the BRIN on match_id alone
-- (0010): each index a COPY maintains costs per row, one with three columns about a third of three.
DROP INDEX recon_match_items_match;
CREATE INDEX recon_match_items_brin ON recon_match_items USING brin (match_id, line_id, entry_seq);

-- A break's history is written only with its break (a run writes both in one transaction) or for a
-- break that the action has locked (breaks.ts, record); breaks are never deleted. The per-row key
-- check, with its row lock on the break, took about 0.4 s of a run that finds 30,000 breaks: as for
-- recon_lines (0010), no foreign key.
ALTER TABLE recon_break_events DROP CONSTRAINT recon_break_events_break_id_fkey;
