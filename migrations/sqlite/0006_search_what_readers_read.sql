-- Search indexes the text readers can read (the sanitized body without its tags, filled in by
-- Byline when an article is saved), not the Markdown source: a source hidden in an HTML
-- comment is not on the page, and must not be found or quoted by search either.
ALTER TABLE articles ADD COLUMN body_text TEXT NOT NULL DEFAULT '';

DROP TRIGGER articles_search_insert;
DROP TRIGGER articles_search_update;

CREATE TRIGGER articles_search_insert AFTER INSERT ON articles
WHEN NEW.status = 'published'
BEGIN
    INSERT INTO articles_search (rowid, headline, standfirst, body)
    VALUES (NEW.id, NEW.headline, NEW.standfirst, NEW.body_text);
END;

CREATE TRIGGER articles_search_update
AFTER UPDATE OF headline, standfirst, body_text, status ON articles
BEGIN
    DELETE FROM articles_search WHERE rowid = OLD.id;
    INSERT INTO articles_search (rowid, headline, standfirst, body)
    SELECT NEW.id, NEW.headline, NEW.standfirst, NEW.body_text
     WHERE NEW.status = 'published';
END;

-- The source leaves the index now; each body's text comes back as Byline fills it in at
-- start (`fill_body_text`).
DELETE FROM articles_search;
INSERT INTO articles_search (rowid, headline, standfirst, body)
SELECT id, headline, standfirst, '' FROM articles WHERE status = 'published';
