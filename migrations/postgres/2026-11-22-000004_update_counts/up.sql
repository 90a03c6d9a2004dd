-- How many updates each release has in each status, kept exact by triggers, so that the
-- totals of the busiest lists (all updates, a release, a status) cost one small read instead
-- of counting 100,000 rows on every page.
CREATE TABLE update_counts (
    release_id INTEGER NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (release_id, status)
);

INSERT INTO update_counts (release_id, status, n)
SELECT release_id, status, COUNT(*) FROM updates GROUP BY release_id, status;

CREATE FUNCTION update_counts_add(r INTEGER, s TEXT, delta BIGINT) RETURNS VOID AS $$
BEGIN
    INSERT INTO update_counts (release_id, status, n) VALUES (r, s, delta)
    ON CONFLICT (release_id, status) DO UPDATE SET n = update_counts.n + delta;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION update_counts_track() RETURNS TRIGGER AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM update_counts_add(OLD.release_id, OLD.status, -1);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        PERFORM update_counts_add(NEW.release_id, NEW.status, 1);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER update_counts_insert AFTER INSERT ON updates
    FOR EACH ROW EXECUTE FUNCTION update_counts_track();
CREATE TRIGGER update_counts_delete AFTER DELETE ON updates
    FOR EACH ROW EXECUTE FUNCTION update_counts_track();
CREATE TRIGGER update_counts_update AFTER UPDATE OF release_id, status ON updates
    FOR EACH ROW WHEN (OLD.release_id IS DISTINCT FROM NEW.release_id
                       OR OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION update_counts_track();
