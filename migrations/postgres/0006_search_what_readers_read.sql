-- Search indexes the text readers can read (the sanitized body without its tags, filled in by
-- Byline when an article is saved, and at start for older articles), not the Markdown source:
-- a source hidden in an HTML comment is not on the page, and must not be found or quoted by
-- search either.
ALTER TABLE articles ADD COLUMN body_text TEXT NOT NULL DEFAULT '';

DROP INDEX articles_search;
CREATE INDEX articles_search ON articles
 USING gin (to_tsvector('simple', headline || ' ' || standfirst || ' ' || body_text))
 WHERE status = 'published';
