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

CREATE TRIGGER update_counts_insert AFTER INSERT ON updates
BEGIN
    INSERT INTO update_counts (release_id, status, n) VALUES (NEW.release_id, NEW.status, 1)
    ON CONFLICT (release_id, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER update_counts_delete AFTER DELETE ON updates
BEGIN
    UPDATE update_counts SET n = n - 1
    WHERE release_id = OLD.release_id AND status = OLD.status;
END;

CREATE TRIGGER update_counts_update AFTER UPDATE OF release_id, status ON updates
WHEN OLD.release_id IS NOT NEW.release_id OR OLD.status IS NOT NEW.status
BEGIN
    UPDATE update_counts SET n = n - 1
    WHERE release_id = OLD.release_id AND status = OLD.status;
    INSERT INTO update_counts (release_id, status, n) VALUES (NEW.release_id, NEW.status, 1)
    ON CONFLICT (release_id, status) DO UPDATE SET n = n + 1;
END;
