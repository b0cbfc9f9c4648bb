-- Static pages (About, Contact, Corrections policy…): at `/about/`, `/about/team/`, outside
-- the news: no byline, no date, in no listing or feed.
CREATE TABLE pages (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    -- No reference: a page may move under one made after it, and copies go by id.
    parent_id        INTEGER,
    slug             TEXT NOT NULL,
    -- The whole address without its slashes, `about/team`: the parent's path, then the slug.
    path             TEXT NOT NULL UNIQUE,
    title            TEXT NOT NULL,
    body_markdown    TEXT NOT NULL,
    body_html        TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    -- Where the footer links it, smallest first; NULL: not in the footer.
    footer_position  INTEGER,
    -- Replies are off unless staff turn them on; they live under `discussion_id`, an article
    -- row of its own (a draft, never listed), so that every rule of replies is the articles'.
    replies_open     INTEGER NOT NULL DEFAULT 0,
    discussion_id    INTEGER REFERENCES articles (id),
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

CREATE UNIQUE INDEX pages_by_discussion ON pages (discussion_id);

-- Every save of a page, as it was.
CREATE TABLE page_revisions (
    id             INTEGER PRIMARY KEY,
    page_id        INTEGER NOT NULL REFERENCES pages (id),
    user_id        INTEGER REFERENCES users (id),
    created_at     INTEGER NOT NULL,
    title          TEXT NOT NULL,
    slug           TEXT NOT NULL,
    parent_id      INTEGER,
    body_markdown  TEXT NOT NULL
);

CREATE INDEX page_revisions_by_page ON page_revisions (page_id, id);

-- An import started from the newsroom: its file (in chunks, below) and its state live here,
-- where every node sees them, so that whichever node is up runs it, and another takes it
-- over when its lease runs out.
CREATE TABLE import_jobs (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    -- `wordpress` or `disqus`.
    format         TEXT NOT NULL,
    file_name      TEXT NOT NULL,
    file_bytes     INTEGER NOT NULL DEFAULT 0,
    -- What the admin chose: report only; keep pingbacks as link-backs.
    dry_run        INTEGER NOT NULL DEFAULT 0,
    keep_pingbacks INTEGER NOT NULL DEFAULT 0,
    -- `uploading`, `waiting`, `running`, `done`, `failed`.
    state          TEXT NOT NULL,
    items_done     INTEGER NOT NULL DEFAULT 0,
    items_total    INTEGER NOT NULL DEFAULT 0,
    replies_done   INTEGER NOT NULL DEFAULT 0,
    replies_total  INTEGER NOT NULL DEFAULT 0,
    -- The summary (JSON) once done; the reason once failed.
    summary        TEXT,
    error          TEXT,
    -- Which node runs it, until when (it renews the lease as it goes).
    runner         TEXT,
    lease_until    INTEGER,
    attempts       INTEGER NOT NULL DEFAULT 0,
    user_id        INTEGER REFERENCES users (id),
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE import_chunks (
    job_id  INTEGER NOT NULL REFERENCES import_jobs (id),
    seq     INTEGER NOT NULL,
    data    BLOB NOT NULL,
    PRIMARY KEY (job_id, seq)
);

-- A pingback or trackback kept by `--pingbacks keep`: shown as a link to the site that
-- mentioned the article, not as a reader's reply.
ALTER TABLE comments ADD COLUMN link_back INTEGER NOT NULL DEFAULT 0;
