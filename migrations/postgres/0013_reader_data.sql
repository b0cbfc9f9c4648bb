-- A reader's request for a copy of their replies, or their erasure: a link mailed to the
-- address that posted them. Only the SHA-256 of the link's token is kept, for a day.
CREATE TABLE data_requests (
    token_hash  TEXT PRIMARY KEY,
    email       TEXT NOT NULL,
    action      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE INDEX data_requests_by_email ON data_requests (email, created_at);
