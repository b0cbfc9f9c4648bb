-- An article's reply count is kept as a base (articles.reply_count) plus the changes not yet
-- folded into it. Each approved, removed or re-approved reply inserts a change instead of
-- updating the article's row, so that replies to one article do not wait for each other's
-- commits behind that row's lock; a job folds the changes in every second.

CREATE TABLE reply_count_changes (
    article_id  BIGINT NOT NULL,
    -- INTEGER, so that a sum of them is a BIGINT, as the count is.
    delta       INTEGER NOT NULL
);

CREATE INDEX reply_count_changes_by_article ON reply_count_changes (article_id);

CREATE OR REPLACE FUNCTION comments_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'approved' THEN
        INSERT INTO reply_count_changes (article_id, delta) VALUES (OLD.article_id, -1);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.status = 'approved' THEN
        INSERT INTO reply_count_changes (article_id, delta) VALUES (NEW.article_id, 1);
    END IF;
    RETURN NULL;
END
$$;
