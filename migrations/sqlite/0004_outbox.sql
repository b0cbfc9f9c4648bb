-- The outbox: events written in the same transaction as the change that causes them, and
-- their delivery to each registered handler (mail, live updates, media processing), claimed
-- by one node at a time, retried with backoff, in order per handler and article.
--
-- An event's place in that order (seq) is given after it commits, by one node at a time, to
-- the events committed since the last time: so an event committed after another has seen it
-- comes after it, and no transaction waits for another to take its place. Its deliveries are
-- made then too.

CREATE TABLE outbox_events (
    -- AUTOINCREMENT: ids only grow, so events order as they were committed.
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL,
    article_id  INTEGER NOT NULL,
    reply_id    INTEGER,
    created_at  INTEGER NOT NULL,
    -- Its place in the order of delivery; NULL until given.
    seq         INTEGER
);

CREATE INDEX outbox_events_by_age ON outbox_events (created_at);
CREATE INDEX outbox_events_by_seq ON outbox_events (seq);
CREATE INDEX outbox_events_unsequenced ON outbox_events (id) WHERE seq IS NULL;

-- Every handler some node runs; each new event gets a delivery for each. Nodes running a
-- handler renew seen_at; one no node has run for outbox_keep_hours is retired.
CREATE TABLE outbox_handlers (
    name           TEXT PRIMARY KEY,
    registered_at  INTEGER NOT NULL,
    seen_at        INTEGER NOT NULL
);

CREATE TABLE outbox_deliveries (
    event_id         INTEGER NOT NULL REFERENCES outbox_events (id) ON DELETE CASCADE,
    -- The event's seq.
    seq              INTEGER NOT NULL,
    handler          TEXT NOT NULL,
    -- The event's article, so that a handler's events on one article keep their order.
    article_id       INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL,
    -- The node handling it, and until when; past that another node may take it.
    claimed_by       TEXT,
    claimed_until    INTEGER,
    done_at          INTEGER,
    -- 'delivered', or 'given up' when the handler stopped trying.
    outcome          TEXT,
    last_error       TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (handler, event_id)
);

CREATE INDEX outbox_deliveries_pending
    ON outbox_deliveries (handler, seq) WHERE done_at IS NULL;
CREATE INDEX outbox_deliveries_by_article
    ON outbox_deliveries (handler, article_id, seq) WHERE done_at IS NULL;
CREATE INDEX outbox_deliveries_by_event ON outbox_deliveries (event_id);
