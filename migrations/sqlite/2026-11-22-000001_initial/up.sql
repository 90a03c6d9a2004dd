-- Pipal's whole data model (SQLite). The PostgreSQL tree has a migration of the same name that
-- must produce the same tables, columns, nullability, unique constraints and indexes
-- (tests/it/migrations.rs checks it). Enums are TEXT with CHECK, JSON is TEXT, times are UTC.

-- Accounts -----------------------------------------------------------------------------------

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    email TEXT,
    password_hash TEXT,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE groups (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE user_groups (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    group_id INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, group_id)
);
CREATE INDEX user_groups_group_id_idx ON user_groups (group_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    expires_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id);

-- Releases and packages ------------------------------------------------------------------------

CREATE TABLE releases (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    long_name TEXT NOT NULL UNIQUE,
    version TEXT NOT NULL,
    id_prefix TEXT NOT NULL,
    branch TEXT NOT NULL,
    dist_tag TEXT NOT NULL,
    stable_tag TEXT NOT NULL,
    testing_tag TEXT NOT NULL,
    candidate_tag TEXT NOT NULL,
    pending_signing_tag TEXT NOT NULL DEFAULT '',
    pending_testing_tag TEXT NOT NULL DEFAULT '',
    pending_stable_tag TEXT NOT NULL DEFAULT '',
    override_tag TEXT NOT NULL DEFAULT '',
    mail_template TEXT NOT NULL DEFAULT 'fedora_errata_template',
    state TEXT NOT NULL DEFAULT 'disabled'
        CHECK (state IN ('disabled', 'pending', 'frozen', 'current', 'archived')),
    composed_by_bodhi BOOLEAN NOT NULL DEFAULT TRUE,
    create_automatic_updates BOOLEAN NOT NULL DEFAULT FALSE,
    package_manager TEXT NOT NULL DEFAULT 'unspecified'
        CHECK (package_manager IN ('unspecified', 'dnf', 'yum')),
    testing_repository TEXT,
    released_on DATE,
    eol DATE,
    -- Per-release settings (Bodhi keeps them in its config file); NULL means the global default.
    setting_status TEXT,
    min_karma INTEGER,
    critpath_min_karma INTEGER,
    mandatory_days_in_testing INTEGER,
    critpath_mandatory_days_in_testing INTEGER,
    announce_list TEXT,
    test_announce_list TEXT
);

CREATE TABLE packages (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('base', 'rpm', 'module', 'container', 'flatpak')),
    CONSTRAINT packages_name_and_type_key UNIQUE (name, type)
);

-- Who may edit updates of a package: Pipal's replacement for Pagure ACLs.
CREATE TABLE package_acls (
    id INTEGER PRIMARY KEY,
    package_id INTEGER NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
    user_id INTEGER REFERENCES users (id) ON DELETE CASCADE,
    group_id INTEGER REFERENCES groups (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'committer')),
    created_at TIMESTAMP NOT NULL,
    CHECK ((user_id IS NULL) <> (group_id IS NULL)),
    UNIQUE (package_id, user_id),
    UNIQUE (package_id, group_id)
);
CREATE INDEX package_acls_user_id_idx ON package_acls (user_id);
CREATE INDEX package_acls_group_id_idx ON package_acls (group_id);

-- Updates ------------------------------------------------------------------------------------

CREATE TABLE updates (
    id INTEGER PRIMARY KEY,
    alias TEXT NOT NULL UNIQUE,
    autokarma BOOLEAN NOT NULL DEFAULT TRUE,
    autotime BOOLEAN NOT NULL DEFAULT TRUE,
    stable_karma INTEGER NOT NULL,
    stable_days INTEGER NOT NULL DEFAULT 0,
    unstable_karma INTEGER NOT NULL,
    require_bugs BOOLEAN NOT NULL DEFAULT FALSE,
    require_testcases BOOLEAN NOT NULL DEFAULT FALSE,
    display_name TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL,
    type TEXT NOT NULL
        CHECK (type IN ('bugfix', 'security', 'newpackage', 'enhancement', 'unspecified')),
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'testing', 'stable', 'unpushed', 'obsolete')),
    request TEXT CHECK (request IN ('testing', 'obsolete', 'unpush', 'revoke', 'stable')),
    severity TEXT NOT NULL DEFAULT 'unspecified'
        CHECK (severity IN ('unspecified', 'urgent', 'high', 'medium', 'low')),
    suggest TEXT NOT NULL DEFAULT 'unspecified'
        CHECK (suggest IN ('unspecified', 'reboot', 'logout')),
    locked BOOLEAN NOT NULL DEFAULT FALSE,
    pushed BOOLEAN NOT NULL DEFAULT FALSE,
    critpath BOOLEAN NOT NULL DEFAULT FALSE,
    critpath_groups TEXT,
    close_bugs BOOLEAN NOT NULL DEFAULT TRUE,
    date_submitted TIMESTAMP NOT NULL,
    date_modified TIMESTAMP,
    date_approved TIMESTAMP,
    date_testing TIMESTAMP,
    date_stable TIMESTAMP,
    release_id INTEGER NOT NULL REFERENCES releases (id),
    user_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    test_gating_status TEXT CHECK (test_gating_status IN
        ('waiting', 'ignored', 'queued', 'running', 'passed', 'failed', 'greenwave_failed')),
    from_tag TEXT
);
-- The frequent filters of GET /updates/; the list is ordered by date_submitted DESC.
CREATE INDEX updates_date_submitted_idx ON updates (date_submitted);
CREATE INDEX updates_release_id_status_idx ON updates (release_id, status);
CREATE INDEX updates_status_idx ON updates (status);
CREATE INDEX updates_request_idx ON updates (request);
CREATE INDEX updates_user_id_idx ON updates (user_id);
CREATE INDEX updates_type_idx ON updates (type);
CREATE INDEX updates_severity_idx ON updates (severity);
CREATE INDEX updates_critpath_idx ON updates (critpath);
CREATE INDEX updates_locked_idx ON updates (locked);
CREATE INDEX updates_date_modified_idx ON updates (date_modified);
CREATE INDEX updates_date_approved_idx ON updates (date_approved);
CREATE INDEX updates_date_stable_idx ON updates (date_stable);
CREATE INDEX updates_from_tag_idx ON updates (from_tag);
CREATE INDEX updates_test_gating_status_idx ON updates (test_gating_status);

CREATE TABLE builds (
    id INTEGER PRIMARY KEY,
    nvr TEXT NOT NULL UNIQUE,
    signed BOOLEAN NOT NULL DEFAULT FALSE,
    package_id INTEGER NOT NULL REFERENCES packages (id),
    release_id INTEGER REFERENCES releases (id),
    update_id INTEGER REFERENCES updates (id) ON DELETE SET NULL,
    type TEXT NOT NULL CHECK (type IN ('base', 'rpm', 'module', 'container', 'flatpak')),
    epoch INTEGER
);
CREATE INDEX builds_update_id_idx ON builds (update_id);
CREATE INDEX builds_package_id_idx ON builds (package_id);
CREATE INDEX builds_release_id_idx ON builds (release_id);
CREATE INDEX builds_type_idx ON builds (type);

CREATE TABLE bugs (
    id INTEGER PRIMARY KEY,
    bug_id INTEGER NOT NULL UNIQUE,
    title TEXT,
    security BOOLEAN NOT NULL DEFAULT FALSE,
    parent BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE update_bugs (
    update_id INTEGER NOT NULL REFERENCES updates (id) ON DELETE CASCADE,
    bug_id INTEGER NOT NULL REFERENCES bugs (id) ON DELETE CASCADE,
    PRIMARY KEY (update_id, bug_id)
);
CREATE INDEX update_bugs_bug_id_idx ON update_bugs (bug_id);

CREATE TABLE testcases (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE build_testcases (
    build_id INTEGER NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    testcase_id INTEGER NOT NULL REFERENCES testcases (id) ON DELETE CASCADE,
    PRIMARY KEY (build_id, testcase_id)
);
CREATE INDEX build_testcases_testcase_id_idx ON build_testcases (testcase_id);

CREATE TABLE comments (
    id INTEGER PRIMARY KEY,
    karma INTEGER NOT NULL DEFAULT 0 CHECK (karma BETWEEN -1 AND 1),
    karma_critpath INTEGER NOT NULL DEFAULT 0,
    text TEXT NOT NULL,
    timestamp TIMESTAMP NOT NULL,
    update_id INTEGER NOT NULL REFERENCES updates (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id)
);
CREATE INDEX comments_update_id_timestamp_idx ON comments (update_id, timestamp);
CREATE INDEX comments_user_id_idx ON comments (user_id);
CREATE INDEX comments_timestamp_idx ON comments (timestamp);

CREATE TABLE comment_bug_feedback (
    id INTEGER PRIMARY KEY,
    comment_id INTEGER NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    bug_id INTEGER NOT NULL REFERENCES bugs (bug_id),
    karma INTEGER NOT NULL DEFAULT 0 CHECK (karma BETWEEN -1 AND 1)
);
CREATE INDEX comment_bug_feedback_comment_id_idx ON comment_bug_feedback (comment_id);

CREATE TABLE comment_testcase_feedback (
    id INTEGER PRIMARY KEY,
    comment_id INTEGER NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    testcase_id INTEGER NOT NULL REFERENCES testcases (id),
    karma INTEGER NOT NULL DEFAULT 0 CHECK (karma BETWEEN -1 AND 1)
);
CREATE INDEX comment_testcase_feedback_comment_id_idx ON comment_testcase_feedback (comment_id);

CREATE TABLE buildroot_overrides (
    id INTEGER PRIMARY KEY,
    build_id INTEGER NOT NULL UNIQUE REFERENCES builds (id) ON DELETE CASCADE,
    submitter_id INTEGER NOT NULL REFERENCES users (id),
    notes TEXT NOT NULL,
    submission_date TIMESTAMP NOT NULL,
    expiration_date TIMESTAMP NOT NULL,
    expired_date TIMESTAMP
);
CREATE INDEX buildroot_overrides_submitter_id_idx ON buildroot_overrides (submitter_id);
CREATE INDEX buildroot_overrides_expiration_date_idx ON buildroot_overrides (expiration_date);
CREATE INDEX buildroot_overrides_submission_date_idx ON buildroot_overrides (submission_date);

-- Composes -----------------------------------------------------------------------------------

-- A compose in flight: one per (release, request), deleted on success. The lease columns let
-- workers on several nodes claim it; state and checkpoints let a crashed compose resume.
CREATE TABLE composes (
    id INTEGER PRIMARY KEY,
    release_id INTEGER NOT NULL REFERENCES releases (id),
    request TEXT NOT NULL CHECK (request IN ('testing', 'obsolete', 'unpush', 'revoke', 'stable')),
    state TEXT NOT NULL DEFAULT 'requested' CHECK (state IN ('requested', 'pending', 'initializing',
        'updateinfo', 'punging', 'syncing_repo', 'notifying', 'success', 'failed', 'signing_repo',
        'cleaning')),
    checkpoints TEXT NOT NULL DEFAULT '{}',
    error_message TEXT,
    date_created TIMESTAMP NOT NULL,
    state_date TIMESTAMP NOT NULL,
    lease_owner TEXT,
    lease_expires_at TIMESTAMP,
    attempts INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT composes_release_id_request_key UNIQUE (release_id, request)
);

-- Finished composes, kept for the UI and `pipal composes`.
CREATE TABLE compose_history (
    id INTEGER PRIMARY KEY,
    release_id INTEGER NOT NULL REFERENCES releases (id),
    request TEXT NOT NULL CHECK (request IN ('testing', 'obsolete', 'unpush', 'revoke', 'stable')),
    content_type TEXT CHECK (content_type IN ('base', 'rpm', 'module', 'container', 'flatpak')),
    security BOOLEAN NOT NULL DEFAULT FALSE,
    final_state TEXT NOT NULL CHECK (final_state IN ('success', 'failed')),
    error_message TEXT,
    date_created TIMESTAMP NOT NULL,
    date_finished TIMESTAMP NOT NULL,
    -- JSON object: state name -> seconds spent in it.
    timings TEXT NOT NULL DEFAULT '{}',
    -- JSON array of {"alias", "title"}.
    update_summary TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX compose_history_release_id_date_finished_idx ON compose_history (release_id, date_finished);
CREATE INDEX compose_history_date_finished_idx ON compose_history (date_finished);

-- Durable work: jobs and the outbox --------------------------------------------------------------

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    dedup_key TEXT,
    state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 5,
    run_after TIMESTAMP NOT NULL,
    lease_owner TEXT,
    lease_expires_at TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);
-- At most one queued or running job per dedup key.
CREATE UNIQUE INDEX jobs_dedup_key_active_idx ON jobs (dedup_key) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_state_run_after_idx ON jobs (state, run_after);

-- Messages, mails and Bugzilla calls waiting for delivery, written in the same transaction as
-- the change that causes them.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('message', 'mail', 'bug')),
    dedup_key TEXT NOT NULL UNIQUE,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_owner TEXT,
    lease_expires_at TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP
);
CREATE INDEX outbox_state_next_attempt_at_idx ON outbox (state, next_attempt_at);

-- The local build system (the embedded default instead of a Koji hub) -------------------------

-- Koji-style event ids: every change of tag contents gets one.
CREATE TABLE buildsys_events (
    id INTEGER PRIMARY KEY,
    ts TIMESTAMP NOT NULL
);

CREATE TABLE buildsys_tags (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    arches TEXT,
    perm TEXT,
    locked BOOLEAN NOT NULL DEFAULT FALSE,
    -- JSON object, as Koji's tag extra (e.g. {"sidetag": true, "sidetag_user": "alice"}).
    extra TEXT NOT NULL DEFAULT '{}',
    create_event INTEGER NOT NULL REFERENCES buildsys_events (id)
);

CREATE TABLE buildsys_tag_inheritance (
    id INTEGER PRIMARY KEY,
    tag_id INTEGER NOT NULL REFERENCES buildsys_tags (id) ON DELETE CASCADE,
    parent_id INTEGER NOT NULL REFERENCES buildsys_tags (id) ON DELETE CASCADE,
    priority INTEGER NOT NULL DEFAULT 0,
    maxdepth INTEGER,
    intransitive BOOLEAN NOT NULL DEFAULT FALSE,
    noconfig BOOLEAN NOT NULL DEFAULT FALSE,
    pkg_filter TEXT NOT NULL DEFAULT '',
    UNIQUE (tag_id, parent_id)
);
CREATE INDEX buildsys_tag_inheritance_parent_id_idx ON buildsys_tag_inheritance (parent_id);

CREATE TABLE buildsys_builds (
    id INTEGER PRIMARY KEY,
    package_name TEXT NOT NULL,
    version TEXT NOT NULL,
    release TEXT NOT NULL,
    epoch INTEGER,
    nvr TEXT NOT NULL UNIQUE,
    owner_name TEXT NOT NULL,
    -- Koji BUILD_STATES: 0 building, 1 complete, 2 deleted, 3 failed, 4 canceled.
    state INTEGER NOT NULL DEFAULT 1,
    task_id INTEGER,
    creation_event INTEGER NOT NULL REFERENCES buildsys_events (id),
    creation_time TIMESTAMP NOT NULL,
    completion_time TIMESTAMP,
    source TEXT,
    -- JSON object, as Koji's build extra (typeinfo for modules and images).
    extra TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX buildsys_builds_package_name_idx ON buildsys_builds (package_name);

CREATE TABLE buildsys_rpms (
    id INTEGER PRIMARY KEY,
    build_id INTEGER NOT NULL REFERENCES buildsys_builds (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    release TEXT NOT NULL,
    epoch INTEGER,
    arch TEXT NOT NULL,
    size BIGINT NOT NULL,
    payloadhash TEXT NOT NULL,
    buildtime BIGINT NOT NULL,
    -- Path of the file relative to the build system's top directory.
    path TEXT NOT NULL UNIQUE,
    UNIQUE (build_id, name, arch)
);

CREATE TABLE buildsys_rpm_signatures (
    id INTEGER PRIMARY KEY,
    rpm_id INTEGER NOT NULL REFERENCES buildsys_rpms (id) ON DELETE CASCADE,
    sigkey TEXT NOT NULL,
    UNIQUE (rpm_id, sigkey)
);

-- Tag history: a build is in a tag while its listing has no revoke event.
CREATE TABLE buildsys_tag_listing (
    id INTEGER PRIMARY KEY,
    tag_id INTEGER NOT NULL REFERENCES buildsys_tags (id) ON DELETE CASCADE,
    build_id INTEGER NOT NULL REFERENCES buildsys_builds (id) ON DELETE CASCADE,
    create_event INTEGER NOT NULL REFERENCES buildsys_events (id),
    revoke_event INTEGER REFERENCES buildsys_events (id),
    creator TEXT,
    revoker TEXT
);
CREATE UNIQUE INDEX buildsys_tag_listing_active_idx ON buildsys_tag_listing (tag_id, build_id)
    WHERE revoke_event IS NULL;
CREATE INDEX buildsys_tag_listing_build_id_idx ON buildsys_tag_listing (build_id);

-- Bodhi's system user: the author of automatic comments.
INSERT INTO users (name, created_at) VALUES ('bodhi', CURRENT_TIMESTAMP);
