-- On PostgreSQL an article's reply count is a base plus counters kept apart, so that replies
-- to one article do not wait for each other (see its 0005). SQLite has one writer, so its
-- triggers keep updating the article's row; the table is here, always empty, so that both
-- backends read counts with the same SQL.

CREATE TABLE reply_counters (
    article_id  INTEGER NOT NULL,
    counter     INTEGER NOT NULL,
    replies     INTEGER NOT NULL,
    PRIMARY KEY (article_id, counter)
);
