-- On PostgreSQL an article's reply count is a base plus changes not yet folded into it (see
-- its 0005). SQLite has one writer, so its triggers keep updating the article's row; the
-- table is here, always empty, so that both backends read counts with the same SQL.

CREATE TABLE reply_count_changes (
    article_id  INTEGER NOT NULL,
    delta       INTEGER NOT NULL
);

CREATE INDEX reply_count_changes_by_article ON reply_count_changes (article_id);
