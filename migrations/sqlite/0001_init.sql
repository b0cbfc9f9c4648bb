-- Byline's first schema. Timestamps are Unix seconds (UTC).

CREATE TABLE authors (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    bio         TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);

CREATE INDEX authors_by_name ON authors (name);

CREATE TABLE users (
    id                   INTEGER PRIMARY KEY,
    -- A staff account is also an author record: the name and bio on its bylines.
    author_id            INTEGER NOT NULL UNIQUE REFERENCES authors (id),
    email                TEXT NOT NULL,
    role                 TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'author')),
    password_hash        TEXT NOT NULL,
    disabled             INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL,
    password_changed_at  INTEGER NOT NULL
);

CREATE UNIQUE INDEX users_by_email ON users (lower(email));

CREATE TABLE sessions (
    -- SHA-256 of the cookie's token: a copy of the table signs nobody in.
    token_hash  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    csrf_token  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);

CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE login_failures (
    id   INTEGER PRIMARY KEY,
    -- `account:EMAIL` or `ip:ADDRESS`.
    key  TEXT NOT NULL,
    at   INTEGER NOT NULL
);

CREATE INDEX login_failures_by_key ON login_failures (key, at);

CREATE TABLE sections (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL UNIQUE,
    slug  TEXT NOT NULL UNIQUE
);

CREATE TABLE tags (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL UNIQUE,
    slug  TEXT NOT NULL UNIQUE
);

CREATE TABLE articles (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    slug           TEXT NOT NULL UNIQUE,
    headline       TEXT NOT NULL,
    standfirst     TEXT NOT NULL DEFAULT '',
    body_markdown  TEXT NOT NULL,
    body_html      TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('draft', 'scheduled', 'published')),
    section_id     INTEGER REFERENCES sections (id),
    image_url      TEXT,
    image_caption  TEXT NOT NULL DEFAULT '',
    image_alt      TEXT NOT NULL DEFAULT '',
    -- Set at first publication, in the site's time zone; never changes afterwards.
    date_path      TEXT,
    -- The first publication's time, or the time a scheduled article is due.
    published_at   INTEGER,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    replies_open   INTEGER NOT NULL DEFAULT 1,
    -- Approved replies, kept by the triggers below so listings need no count.
    reply_count    INTEGER NOT NULL DEFAULT 0,
    -- Words in the body, for the reading time on listings.
    word_count     INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX articles_by_publication ON articles (status, published_at DESC, id DESC);
CREATE INDEX articles_by_section ON articles (section_id, status, published_at DESC, id DESC);

-- Full-text search over published articles (rowid = article id), kept in step by triggers.
-- Diacritics are kept, as PostgreSQL's `simple` configuration keeps them.
CREATE VIRTUAL TABLE articles_search USING fts5(
    headline, standfirst, body, tokenize = 'unicode61 remove_diacritics 0'
);

CREATE TRIGGER articles_search_insert AFTER INSERT ON articles
WHEN NEW.status = 'published'
BEGIN
    INSERT INTO articles_search (rowid, headline, standfirst, body)
    VALUES (NEW.id, NEW.headline, NEW.standfirst, NEW.body_markdown);
END;

CREATE TRIGGER articles_search_update AFTER UPDATE ON articles
BEGIN
    DELETE FROM articles_search WHERE rowid = OLD.id;
    INSERT INTO articles_search (rowid, headline, standfirst, body)
    SELECT NEW.id, NEW.headline, NEW.standfirst, NEW.body_markdown
     WHERE NEW.status = 'published';
END;

CREATE TRIGGER articles_search_delete AFTER DELETE ON articles
BEGIN
    DELETE FROM articles_search WHERE rowid = OLD.id;
END;

-- The byline: one or more authors, in order.
CREATE TABLE article_authors (
    article_id  INTEGER NOT NULL REFERENCES articles (id),
    author_id   INTEGER NOT NULL REFERENCES authors (id),
    position    INTEGER NOT NULL,
    PRIMARY KEY (article_id, author_id)
);

CREATE INDEX article_authors_by_author ON article_authors (author_id, article_id);

CREATE TABLE article_tags (
    article_id  INTEGER NOT NULL REFERENCES articles (id),
    tag_id      INTEGER NOT NULL REFERENCES tags (id),
    PRIMARY KEY (article_id, tag_id)
);

CREATE INDEX article_tags_by_tag ON article_tags (tag_id, article_id);

-- Old slugs of published articles, which answer with a 301 to the current URL.
CREATE TABLE slug_redirects (
    slug        TEXT PRIMARY KEY,
    article_id  INTEGER NOT NULL REFERENCES articles (id)
);

-- Every save of an article, as it was.
CREATE TABLE revisions (
    id             INTEGER PRIMARY KEY,
    article_id     INTEGER NOT NULL REFERENCES articles (id),
    user_id        INTEGER REFERENCES users (id),
    created_at     INTEGER NOT NULL,
    headline       TEXT NOT NULL,
    standfirst     TEXT NOT NULL,
    slug           TEXT NOT NULL,
    body_markdown  TEXT NOT NULL,
    section        TEXT NOT NULL,
    tags           TEXT NOT NULL,
    authors        TEXT NOT NULL,
    image_url      TEXT,
    image_caption  TEXT NOT NULL,
    image_alt      TEXT NOT NULL,
    replies_open   INTEGER NOT NULL
);

CREATE INDEX revisions_by_article ON revisions (article_id, id);

-- Corrections and updates appended to a published article.
CREATE TABLE article_notes (
    id          INTEGER PRIMARY KEY,
    article_id  INTEGER NOT NULL REFERENCES articles (id),
    kind        TEXT NOT NULL CHECK (kind IN ('correction', 'update')),
    body        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE INDEX article_notes_by_article ON article_notes (article_id, id);

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
    -- Why a reply was held or sent to spam, for the moderation queue.
    held_reason   TEXT NOT NULL DEFAULT '',
    -- Set when a staff member replied from the newsroom: shown with a staff badge.
    user_id       INTEGER REFERENCES users (id),
    created_at    INTEGER NOT NULL
);

CREATE INDEX comments_by_article ON comments (article_id, status, created_at, id);
CREATE INDEX comments_by_email ON comments (lower(author_email), status);
CREATE INDEX comments_by_status ON comments (status, created_at DESC, id DESC);
CREATE INDEX comments_by_ip ON comments (ip, created_at);

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
