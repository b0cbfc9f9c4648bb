-- Search matches stems: each article's headline and the rest of what readers can read (its
-- standfirst, body, section and tags) as Byline folds and stems them in Rust for the site's
-- language, the same on both backends. Filled in by every save, and for every article at the
-- first start of a Byline that indexes this way.
ALTER TABLE articles ADD COLUMN search_headline TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN search_body TEXT NOT NULL DEFAULT '';

DROP INDEX articles_search;
CREATE INDEX articles_search ON articles
 USING gin (to_tsvector('simple', search_headline || ' ' || search_body))
 WHERE status = 'published';
