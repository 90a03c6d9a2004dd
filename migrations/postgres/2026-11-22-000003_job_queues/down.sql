DROP INDEX jobs_queue_key_id_idx;
ALTER TABLE jobs DROP COLUMN queue_key;
