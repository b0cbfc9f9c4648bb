-- The media library: images uploaded by staff, kept as files outside the database (a folder,
-- or an S3 bucket) under content-addressed names, with what the newsroom says of them.
CREATE TABLE media (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    -- The first 32 hex digits of the SHA-256 of the kept original (written again by Byline,
    -- without metadata): the folder of its files. A replacement gets new files and a new hash,
    -- so an address never changes meaning.
    hash         TEXT NOT NULL UNIQUE,
    -- The name in its files' names: `harbour-at-dawn`.
    name         TEXT NOT NULL,
    -- The file's name as uploaded (for search).
    file_name    TEXT NOT NULL,
    -- `jpeg`, `png`, `webp` or `gif`: told by the file's bytes.
    format       TEXT NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    bytes        INTEGER NOT NULL,
    alt          TEXT NOT NULL DEFAULT '',
    caption      TEXT NOT NULL DEFAULT '',
    -- The photographer or agency, shown under the image.
    credit       TEXT NOT NULL DEFAULT '',
    -- The variants' widths made so far, `320,640,…` (the background job adds the rest).
    widths       TEXT NOT NULL DEFAULT '',
    uploaded_by  INTEGER REFERENCES users (id),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);

CREATE INDEX media_newest ON media (created_at, id);

-- Which articles show an image (in the body or as the featured image), written with every
-- save: an image shown somewhere cannot be deleted.
CREATE TABLE media_uses (
    media_id    INTEGER NOT NULL REFERENCES media (id),
    article_id  INTEGER NOT NULL REFERENCES articles (id),
    PRIMARY KEY (media_id, article_id)
);

CREATE INDEX media_uses_by_article ON media_uses (article_id);

-- An image's events (its variants to make) name it here; their `article_id` is minus the
-- image's id, the key that keeps one image's deliveries in order.
ALTER TABLE outbox_events ADD COLUMN media_id INTEGER;
-- The event kinds a handler acts on (comma-separated; empty: every kind), so that an event
-- no handler wants makes no delivery row.
ALTER TABLE outbox_handlers ADD COLUMN kinds TEXT NOT NULL DEFAULT '';
