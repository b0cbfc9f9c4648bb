-- Nothing to change: SQLite's 0002 (the search trigger) has no PostgreSQL counterpart, so
-- this one lines the two lists up. From 0004 on a migration has the same number and name on
-- both backends.
SELECT 1;
