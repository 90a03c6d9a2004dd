DROP TRIGGER update_counts_update ON updates;
DROP TRIGGER update_counts_delete ON updates;
DROP TRIGGER update_counts_insert ON updates;
DROP FUNCTION update_counts_track();
DROP FUNCTION update_counts_add(INTEGER, TEXT, BIGINT);
DROP TABLE update_counts;
