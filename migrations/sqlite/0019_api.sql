-- Personal access tokens for the API. The store keeps only each token's SHA-256, so a copy
-- of the table lets nobody in; scopes are a comma-separated list (read_drafts,
-- write_articles, publish, moderate).
CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL UNIQUE,
    scopes        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
);

CREATE INDEX api_tokens_by_user ON api_tokens (user_id);

-- A thread embedded in another site's page: an article row (a draft, which no listing,
-- feed, sitemap or search shows) keyed by the page's canonical address.
ALTER TABLE articles ADD COLUMN thread_url TEXT;
CREATE UNIQUE INDEX articles_by_thread_url ON articles (thread_url);

-- Live updates replay an article's events after the last one a reader saw.
CREATE INDEX outbox_events_by_article ON outbox_events (article_id, seq);
