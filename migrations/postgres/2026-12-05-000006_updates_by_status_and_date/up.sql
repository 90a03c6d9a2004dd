-- The updates list filtered by status (and release), newest first: walked in index order and
-- stopped after a page, instead of sorting every update of the status. Supersedes the index
-- on status alone.
CREATE INDEX updates_status_date_submitted_idx ON updates (status, date_submitted);
DROP INDEX updates_status_idx;
