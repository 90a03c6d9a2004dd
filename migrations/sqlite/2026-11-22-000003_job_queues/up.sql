-- Jobs with the same queue key run one at a time, in the order they were enqueued (the build
-- system operations of one update must not overtake each other).
ALTER TABLE jobs ADD COLUMN queue_key TEXT;
CREATE INDEX jobs_queue_key_id_idx ON jobs (queue_key, id);
