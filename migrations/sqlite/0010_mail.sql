-- Readers' addresses that asked for mail, and whether their owners confirmed them. An address
-- is kept lowercased and only while it has a reason to be: unconfirmed ones are forgotten after
-- 30 days, and unsubscribing from everything deletes the row.
CREATE TABLE mail_addresses (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT NOT NULL UNIQUE,
    created_at    INTEGER NOT NULL,
    confirmed_at  INTEGER
);

-- What an address follows: the replies to one reply (reply_id set), or every reply on an
-- article (reply_id NULL).
CREATE TABLE subscriptions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    address_id  INTEGER NOT NULL REFERENCES mail_addresses (id) ON DELETE CASCADE,
    article_id  INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    reply_id    INTEGER REFERENCES comments (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL
);

CREATE UNIQUE INDEX subscriptions_to_replies ON subscriptions (address_id, reply_id)
    WHERE reply_id IS NOT NULL;
CREATE UNIQUE INDEX subscriptions_to_articles ON subscriptions (address_id, article_id)
    WHERE reply_id IS NULL;
CREATE INDEX subscriptions_by_article ON subscriptions (article_id, reply_id);
CREATE INDEX subscriptions_by_reply ON subscriptions (reply_id);

-- Each mail, once per purpose and recipient (`reply:42:a7`: reply 42's notification to
-- address 7; `u3` for a member of staff): claimed by the node about to send it (until
-- `claimed_until`, so that a node killed meanwhile leaves it to another), then marked sent.
-- It is what makes a retried or concurrent delivery skip a mail already sent, and what the
-- hourly limit counts. No address is kept here.
CREATE TABLE mails_sent (
    key            TEXT PRIMARY KEY,
    recipient      TEXT NOT NULL,
    claimed_until  INTEGER NOT NULL,
    sent_at        INTEGER
);

CREATE INDEX mails_sent_by_recipient ON mails_sent (recipient, sent_at);

-- Replies kept back from an address past its hourly limit (notify_max_per_hour), for the one
-- digest that tells of them all once the hour allows.
CREATE TABLE mail_digests (
    address_id  INTEGER NOT NULL REFERENCES mail_addresses (id) ON DELETE CASCADE,
    reply_id    INTEGER NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (address_id, reply_id)
);
