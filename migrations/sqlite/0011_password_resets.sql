-- "Forgot password": a link mailed to a staff account's address. Only the SHA-256 of its
-- token is kept; it works once (used_at), for an hour after created_at.
CREATE TABLE password_resets (
    token_hash  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    used_at     INTEGER
);

CREATE INDEX password_resets_by_user ON password_resets (user_id, created_at);
