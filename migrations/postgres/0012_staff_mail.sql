-- What each member of staff wants mailed: held replies (`each`, an `hourly` digest, or
-- `none`), and new public replies on their own articles (`each` or `none`). No row: each
-- held reply, no public ones.
CREATE TABLE staff_mail_choices (
    user_id  BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    held     TEXT NOT NULL,
    replies  TEXT NOT NULL
);

-- Held replies waiting for a moderator's hourly digest.
CREATE TABLE staff_digests (
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    reply_id    BIGINT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, reply_id)
);

-- The signed Approve, Spam and Trash links of held-reply mails work once: each used one's
-- signature is kept (for the 7 days a link lives, then tidied away).
CREATE TABLE moderation_links_used (
    signature  TEXT PRIMARY KEY,
    used_at    BIGINT NOT NULL
);
