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

-- A reply adds to (or takes from) its connection's counter for its article. An UPDATE first:
-- the counter nearly always exists, and INSERT … ON CONFLICT locks the row before updating
-- it. (Written out twice: calling a function from here costs more than the update.)
CREATE OR REPLACE FUNCTION comments_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'approved' THEN
        UPDATE reply_counters SET replies = replies - 1
         WHERE article_id = OLD.article_id AND counter = pg_backend_pid() % 1024;
        IF NOT FOUND THEN
            INSERT INTO reply_counters (article_id, counter, replies)
            VALUES (OLD.article_id, pg_backend_pid() % 1024, -1)
            ON CONFLICT (article_id, counter)
            DO UPDATE SET replies = reply_counters.replies - 1;
        END IF;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.status = 'approved' THEN
        UPDATE reply_counters SET replies = replies + 1
         WHERE article_id = NEW.article_id AND counter = pg_backend_pid() % 1024;
        IF NOT FOUND THEN
            INSERT INTO reply_counters (article_id, counter, replies)
            VALUES (NEW.article_id, pg_backend_pid() % 1024, 1)
            ON CONFLICT (article_id, counter)
            DO UPDATE SET replies = reply_counters.replies + 1;
        END IF;
    END IF;
    RETURN NULL;
END
$$;

ALTER TABLE comments DROP CONSTRAINT comments_article_id_fkey;
