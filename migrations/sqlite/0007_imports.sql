-- What imports brought in, by their id in the export (a WordPress post's, a Disqus post's…):
-- a second run of the same file finds each item here and brings it in once.
CREATE TABLE import_map (
    -- Where it came from: `wordpress:<the site's address>`, `disqus:<forum>`.
    source     TEXT NOT NULL,
    -- `article`, `reply`, `author`, `section`, `tag`.
    kind       TEXT NOT NULL,
    source_id  TEXT NOT NULL,
    target_id  INTEGER NOT NULL,
    PRIMARY KEY (source, kind, source_id)
);

-- An old site's addresses (a path, with its query when the query names the page, as
-- `/?p=12`), answered with a 301 to where the same thing lives now.
CREATE TABLE url_redirects (
    path    TEXT PRIMARY KEY,
    target  TEXT NOT NULL
);

-- A reply an imported site's author wrote while signed in there: shown with the staff badge,
-- as replies from the newsroom are.
ALTER TABLE comments ADD COLUMN author_id INTEGER REFERENCES authors (id);
