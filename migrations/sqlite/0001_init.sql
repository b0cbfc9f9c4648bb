-- Byline's first schema. Timestamps are Unix seconds (UTC).

CREATE TABLE authors (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    bio         TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);

CREATE TABLE articles (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    slug          TEXT NOT NULL UNIQUE,
    headline      TEXT NOT NULL,
    standfirst    TEXT NOT NULL DEFAULT '',
    body_markdown TEXT NOT NULL,
    body_html     TEXT NOT NULL,
    author_id     INTEGER NOT NULL REFERENCES authors (id),
    status        TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    -- Set at first publication, in the site's time zone; never changes afterwards.
    date_path     TEXT,
    published_at  INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    replies_open  INTEGER NOT NULL DEFAULT 1,
    -- Approved replies, kept by the triggers below so listings need no count.
    reply_count   INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX articles_by_publication ON articles (status, published_at DESC, id DESC);

CREATE TABLE comments (
    -- AUTOINCREMENT: a deleted reply's id (and so its #comment-ID) is never reused.
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id    INTEGER NOT NULL REFERENCES articles (id),
    -- No foreign key: a removed parent leaves a placeholder, its children keep their place.
    parent_id     INTEGER,
    author_name   TEXT NOT NULL,
    author_email  TEXT NOT NULL,
    author_url    TEXT,
    body          TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('approved', 'pending', 'spam', 'trash')),
    ip            TEXT,
    created_at    INTEGER NOT NULL
);

CREATE INDEX comments_by_article ON comments (article_id, status, created_at, id);
CREATE INDEX comments_by_email ON comments (lower(author_email), status);

CREATE TRIGGER comments_count_insert AFTER INSERT ON comments
WHEN NEW.status = 'approved'
BEGIN
    UPDATE articles SET reply_count = reply_count + 1 WHERE id = NEW.article_id;
END;

CREATE TRIGGER comments_count_delete AFTER DELETE ON comments
WHEN OLD.status = 'approved'
BEGIN
    UPDATE articles SET reply_count = reply_count - 1 WHERE id = OLD.article_id;
END;

CREATE TRIGGER comments_count_update AFTER UPDATE OF status, article_id ON comments
BEGIN
    UPDATE articles SET reply_count = reply_count - 1
     WHERE OLD.status = 'approved' AND id = OLD.article_id;
    UPDATE articles SET reply_count = reply_count + 1
     WHERE NEW.status = 'approved' AND id = NEW.article_id;
END;

CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
