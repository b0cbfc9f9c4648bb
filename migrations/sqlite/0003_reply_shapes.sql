-- The article page lays out its thread from every reply's id, parent and time, and reads
-- whole only the replies it shows: this index answers the first part by itself.
DROP INDEX comments_by_article;
CREATE INDEX comments_by_article ON comments (article_id, status, created_at, id, parent_id);
