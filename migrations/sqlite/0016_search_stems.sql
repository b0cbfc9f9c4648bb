-- Search matches stems: each article's headline and the rest of what readers can read (its
-- standfirst, body, section and tags) as Byline folds and stems them in Rust for the site's
-- language, the same on both backends. Filled in by every save, and for every article at the
-- first start of a Byline that indexes this way.
ALTER TABLE articles ADD COLUMN search_headline TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN search_body TEXT NOT NULL DEFAULT '';

DROP TRIGGER articles_search_insert;
DROP TRIGGER articles_search_update;
DROP TRIGGER articles_search_delete;
DROP TABLE articles_search;

CREATE VIRTUAL TABLE articles_search USING fts5(headline, body);

CREATE TRIGGER articles_search_insert AFTER INSERT ON articles
WHEN NEW.status = 'published'
BEGIN
    INSERT INTO articles_search (rowid, headline, body)
    VALUES (NEW.id, NEW.search_headline, NEW.search_body);
END;

CREATE TRIGGER articles_search_update
AFTER UPDATE OF search_headline, search_body, status ON articles
BEGIN
    DELETE FROM articles_search WHERE rowid = OLD.id;
    INSERT INTO articles_search (rowid, headline, body)
    SELECT NEW.id, NEW.search_headline, NEW.search_body
     WHERE NEW.status = 'published';
END;

CREATE TRIGGER articles_search_delete AFTER DELETE ON articles
BEGIN
    DELETE FROM articles_search WHERE rowid = OLD.id;
END;
