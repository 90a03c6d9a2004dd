CREATE INDEX updates_status_idx ON updates (status);
DROP INDEX updates_status_date_submitted_idx;
