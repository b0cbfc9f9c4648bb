-- The search index was rewritten on every update of an article, including the reply count
-- that every reply bumps: an article's whole text reindexed per reply. Only the searched
-- columns and the status (published or not) matter.
DROP TRIGGER articles_search_update;

CREATE TRIGGER articles_search_update
AFTER UPDATE OF headline, standfirst, body_markdown, status ON articles
BEGIN
    DELETE FROM articles_search WHERE rowid = OLD.id;
    INSERT INTO articles_search (rowid, headline, standfirst, body)
    SELECT NEW.id, NEW.headline, NEW.standfirst, NEW.body_markdown
     WHERE NEW.status = 'published';
END;
