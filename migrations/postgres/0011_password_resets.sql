-- "Forgot password": a link mailed to a staff account's address. Only the SHA-256 of its
-- token is kept; it works once (used_at), for an hour after created_at.
CREATE TABLE password_resets (
    token_hash  TEXT PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    used_at     BIGINT
);

CREATE INDEX password_resets_by_user ON password_resets (user_id, created_at);
