-- Replies to one article no longer wait for each other.
--
-- An article's reply count is its base (articles.reply_count) plus counters kept apart, one
-- per database connection (its process id, modulo 1,024): a reply adds one to its own
-- connection's counter instead of updating the article's row, so that replies do not queue
-- behind that row's lock until each other's commits. Reading a count sums a few counters;
-- tidying folds them into the base now and then.
--
-- And a reply no longer takes a share lock on its article's row for the foreign key: many
-- at once on one article made PostgreSQL build a multixact for each. Articles are never
-- deleted, and a reply is stored only if its article exists (see store/replies.rs).

CREATE TABLE reply_counters (
    article_id  BIGINT NOT NULL,
    counter     INTEGER NOT NULL,
    -- INTEGER, so that a sum of them is a BIGINT, as the count is.
    replies     INTEGER NOT NULL,
    PRIMARY KEY (article_id, counter)
);

-- Adds `change` to this connection's counter of `article`. An UPDATE first: the counter
-- nearly always exists, and INSERT … ON CONFLICT would lock the row before updating it.
CREATE FUNCTION count_replies(article BIGINT, change INTEGER) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE reply_counters SET replies = replies + change
     WHERE article_id = article AND counter = pg_backend_pid() % 1024;
    IF NOT FOUND THEN
        INSERT INTO reply_counters (article_id, counter, replies)
        VALUES (article, pg_backend_pid() % 1024, change)
        ON CONFLICT (article_id, counter)
        DO UPDATE SET replies = reply_counters.replies + change;
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION comments_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'approved' THEN
        PERFORM count_replies(OLD.article_id, -1);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.status = 'approved' THEN
        PERFORM count_replies(NEW.article_id, 1);
    END IF;
    RETURN NULL;
END
$$;

ALTER TABLE comments DROP CONSTRAINT comments_article_id_fkey;
