-- On-demand composes (ODCS's compose table, spec/odcs.md).
CREATE TABLE odcs_composes (
    id INTEGER PRIMARY KEY,
    owner TEXT NOT NULL,
    -- ODCS's numbers: tag 1, build 6, and Pipal's own update 8.
    source_type INTEGER NOT NULL,
    -- Space-separated: a tag, NVRs or update aliases.
    source TEXT NOT NULL,
    -- wait 0, generating 1, done 2, removed 3, failed 4.
    state INTEGER NOT NULL CHECK (state IN (0, 1, 2, 3, 4)),
    state_reason TEXT,
    -- The build system event the content was read at.
    koji_event INTEGER,
    -- Space-separated lists, NULL when not given.
    packages TEXT,
    builds TEXT,
    sigkeys TEXT NOT NULL,
    arches TEXT NOT NULL,
    -- Bitmasks of ODCS's flags and results.
    flags INTEGER NOT NULL,
    results INTEGER NOT NULL,
    label TEXT,
    compose_type TEXT NOT NULL,
    respin_of TEXT,
    -- The compose whose repository this one shares.
    reused_id INTEGER REFERENCES odcs_composes (id),
    removed_by TEXT,
    time_to_expire TIMESTAMP NOT NULL,
    time_submitted TIMESTAMP NOT NULL,
    time_started TIMESTAMP,
    time_done TIMESTAMP,
    time_removed TIMESTAMP
);
-- The cleanup job's question: done or failed composes past their expiry.
CREATE INDEX odcs_composes_state_expiry ON odcs_composes (state, time_to_expire);
-- Reuse candidates: same source type and source.
CREATE INDEX odcs_composes_source ON odcs_composes (source_type, source);
