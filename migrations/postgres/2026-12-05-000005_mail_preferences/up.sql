-- Who wants which mail. A user without a row gets Bodhi 26.4.0's behaviour: mail about every
-- comment on updates they submitted or commented on, except their own comments.
CREATE TABLE mail_preferences (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- Off: no comment notifications at all (Bodhi #636).
    notifications BOOLEAN NOT NULL DEFAULT TRUE,
    -- On: a copy of one's own comments too (Bodhi sent these before PR #6066).
    own_comments BOOLEAN NOT NULL DEFAULT FALSE
);

-- Updates a user asked not to be mailed about (Bodhi #4969).
CREATE TABLE mail_mutes (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    update_id INTEGER NOT NULL REFERENCES updates (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, update_id)
);
CREATE INDEX mail_mutes_update ON mail_mutes (update_id);
