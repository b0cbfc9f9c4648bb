//! The PostgreSQL store, for sites that outgrow one machine: `tokio-postgres` through a
//! `deadpool` connection pool. Same behaviour as the SQLite store; the conformance suite in
//! `tests/api/conformance.rs` holds the two together.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::error::SqlState;
use tokio_postgres::{NoTls, Row};

use super::{
    Article, ArticleSummary, Author, Comment, CommentStub, Kind, NewArticle, NewComment, Result,
    Store, StoreError, Table, Value,
};
use crate::domain::ReplyStatus;
use tokio_postgres::types::ToSql;

/// The schema's history, oldest first. Never edit a shipped migration: add a new one.
const MIGRATIONS: &[&str] = &[include_str!("../../migrations/postgres/0001_init.sql")];

/// Any fixed number: nodes starting together take this lock so one migrates at a time.
const MIGRATION_LOCK: i64 = 0x6279_6c69_6e65;

const POOL_SIZE: usize = 16;

#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(error: tokio_postgres::Error) -> Self {
        if error.code() == Some(&SqlState::UNIQUE_VIOLATION) {
            return StoreError::Conflict("a unique value");
        }
        StoreError::Database(describe(&error))
    }
}

/// The server's own message when there is one: `Error`'s display says only "db error".
fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{}: {} ({})", db.severity(), db.message(), db.code().code()),
        None => error.to_string(),
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        let detail = match &error {
            deadpool_postgres::PoolError::Backend(e) => describe(e),
            other => other.to_string(),
        };
        StoreError::Database(format!("no database connection: {detail}"))
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://…`) and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Self> {
        let mut config = tokio_postgres::Config::from_str(url)
            .map_err(|e| StoreError::Database(format!("not a PostgreSQL URL: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(5));
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig { recycling_method: RecyclingMethod::Fast },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(5)))
            .create_timeout(Some(Duration::from_secs(5)))
            .build()
            .map_err(|e| StoreError::Database(format!("cannot build the connection pool: {e}")))?;
        let store = Self { pool };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<()> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    INTEGER PRIMARY KEY,
                 applied_at BIGINT NOT NULL
             )",
        )
        .await?;
        let row =
            tx.query_one("SELECT coalesce(max(version), 0) FROM schema_migrations", &[]).await?;
        let version = row.get::<_, i32>(0) as usize;
        if version > MIGRATIONS.len() {
            return Err(StoreError::Schema(format!(
                "the database's schema is version {version}, newer than this Byline understands \
                 (up to {}); upgrade Byline to use it",
                MIGRATIONS.len()
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            tx.batch_execute(sql).await?;
            let number = (i + 1) as i32;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                &[&number, &crate::domain::time::now()],
            )
            .await?;
            tracing::info!(version = number, "applied migration");
        }
        tx.commit().await?;
        Ok(())
    }
}

const ARTICLE_COLUMNS: &str = "a.id, a.slug, a.headline, a.standfirst, a.body_html, \
     au.id, au.name, au.bio, a.date_path, a.published_at, a.updated_at, a.replies_open, \
     a.reply_count";

fn article_from_row(r: &Row) -> Article {
    Article {
        id: r.get(0),
        slug: r.get(1),
        headline: r.get(2),
        standfirst: r.get(3),
        body_html: r.get(4),
        author: Author { id: r.get(5), name: r.get(6), bio: r.get(7) },
        date_path: r.get(8),
        published_at: r.get(9),
        updated_at: r.get(10),
        replies_open: r.get(11),
        reply_count: r.get(12),
    }
}

const COMMENT_COLUMNS: &str =
    "id, article_id, parent_id, author_name, author_url, body, status, created_at";

fn comment_from_row(r: &Row) -> Result<Comment> {
    let status: &str = r.get(6);
    let status = ReplyStatus::parse(status)
        .ok_or_else(|| StoreError::Database(format!("unknown reply status {status:?}")))?;
    Ok(Comment {
        id: r.get(0),
        article_id: r.get(1),
        parent_id: r.get(2),
        author_name: r.get(3),
        author_url: r.get(4),
        body: r.get(5),
        status,
        created_at: r.get(7),
    })
}

/// A value as a typed parameter; a null takes its column's type.
fn to_sql(value: &Value, kind: Kind) -> Box<dyn ToSql + Sync + Send> {
    match (value, kind) {
        (Value::Int(n), _) => Box::new(*n),
        (Value::Text(s), _) => Box::new(s.clone()),
        (Value::Bool(b), _) => Box::new(*b),
        (Value::Null, Kind::Int) => Box::new(None::<i64>),
        (Value::Null, Kind::Text) => Box::new(None::<String>),
        (Value::Null, Kind::Bool) => Box::new(None::<bool>),
    }
}

fn row_values(table: Table, r: &Row) -> Vec<Value> {
    let column = |i: usize, kind: &Kind| match kind {
        Kind::Int => r.get::<_, Option<i64>>(i).map(Value::Int),
        Kind::Text => r.get::<_, Option<String>>(i).map(Value::Text),
        Kind::Bool => r.get::<_, Option<bool>>(i).map(Value::Bool),
    };
    table
        .columns()
        .iter()
        .enumerate()
        .map(|(i, (_, kind))| column(i, kind).unwrap_or(Value::Null))
        .collect()
}

fn params(values: &[Box<dyn ToSql + Sync + Send>]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v.as_ref() as &(dyn ToSql + Sync)).collect()
}

/// Recomputes the counts the trigger keeps (an import brings both rows and counts).
const RECOUNT: &str = "UPDATE articles SET reply_count = (SELECT count(*) FROM comments c
     WHERE c.article_id = articles.id AND c.status = 'approved')";

fn comments_from_rows(rows: Vec<Row>) -> Result<Vec<Comment>> {
    rows.iter().map(comment_from_row).collect()
}

#[async_trait]
impl Store for PostgresStore {
    async fn published_articles(&self, offset: u64, limit: u64) -> Result<Vec<ArticleSummary>> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(
                "SELECT a.id, a.slug, a.headline, a.standfirst, au.name, a.date_path,
                        a.published_at, a.reply_count
                   FROM articles a JOIN authors au ON au.id = a.author_id
                  WHERE a.status = 'published'
                  ORDER BY a.published_at DESC, a.id DESC
                  LIMIT $1 OFFSET $2",
            )
            .await?;
        let rows = client.query(&stmt, &[&(limit as i64), &(offset as i64)]).await?;
        Ok(rows
            .iter()
            .map(|r| ArticleSummary {
                id: r.get(0),
                slug: r.get(1),
                headline: r.get(2),
                standfirst: r.get(3),
                author_name: r.get(4),
                date_path: r.get(5),
                published_at: r.get(6),
                reply_count: r.get(7),
            })
            .collect())
    }

    async fn count_published_articles(&self) -> Result<u64> {
        let client = self.pool.get().await?;
        let row = client
            .query_one("SELECT count(*) FROM articles WHERE status = 'published'", &[])
            .await?;
        Ok(row.get::<_, i64>(0) as u64)
    }

    async fn article_by_slug(&self, slug: &str) -> Result<Option<Article>> {
        let client = self.pool.get().await?;
        let sql = format!(
            "SELECT {ARTICLE_COLUMNS} FROM articles a JOIN authors au ON au.id = a.author_id
              WHERE a.slug = $1 AND a.status = 'published'"
        );
        let stmt = client.prepare_cached(&sql).await?;
        Ok(client.query_opt(&stmt, &[&slug]).await?.as_ref().map(article_from_row))
    }

    async fn slug_exists(&self, slug: &str) -> Result<bool> {
        let client = self.pool.get().await?;
        let stmt =
            client.prepare_cached("SELECT EXISTS (SELECT 1 FROM articles WHERE slug = $1)").await?;
        Ok(client.query_one(&stmt, &[&slug]).await?.get(0))
    }

    async fn insert_article(&self, a: &NewArticle) -> Result<i64> {
        let client = self.pool.get().await?;
        let inserted = client
            .query_one(
                "INSERT INTO articles (slug, headline, standfirst, body_markdown, body_html,
                     author_id, status, date_path, published_at, created_at, updated_at,
                     replies_open)
                 VALUES ($1, $2, $3, $4, $5, $6, 'published', $7, $8, $8, $8, $9)
                 RETURNING id",
                &[
                    &a.slug,
                    &a.headline,
                    &a.standfirst,
                    &a.body_markdown,
                    &a.body_html,
                    &a.author_id,
                    &a.date_path,
                    &a.published_at,
                    &a.replies_open,
                ],
            )
            .await;
        match inserted {
            Ok(row) => Ok(row.get(0)),
            Err(e) => match StoreError::from(e) {
                StoreError::Conflict(_) => Err(StoreError::Conflict("the slug")),
                other => Err(other),
            },
        }
    }

    async fn find_or_create_author(&self, name: &str) -> Result<Author> {
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO authors (name, created_at) VALUES ($1, $2)
                 ON CONFLICT (name) DO NOTHING",
                &[&name, &crate::domain::time::now()],
            )
            .await?;
        let row =
            client.query_one("SELECT id, name, bio FROM authors WHERE name = $1", &[&name]).await?;
        Ok(Author { id: row.get(0), name: row.get(1), bio: row.get(2) })
    }

    async fn comments_of_article(
        &self,
        article_id: i64,
        status: ReplyStatus,
    ) -> Result<Vec<Comment>> {
        let client = self.pool.get().await?;
        let sql = format!(
            "SELECT {COMMENT_COLUMNS} FROM comments
              WHERE article_id = $1 AND status = $2
              ORDER BY created_at, id"
        );
        let stmt = client.prepare_cached(&sql).await?;
        comments_from_rows(client.query(&stmt, &[&article_id, &status.as_str()]).await?)
    }

    async fn comments_by_ids(&self, article_id: i64, ids: &[i64]) -> Result<Vec<Comment>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let client = self.pool.get().await?;
        let sql = format!(
            "SELECT {COMMENT_COLUMNS} FROM comments
              WHERE article_id = $1 AND id = ANY($2) ORDER BY created_at, id"
        );
        let stmt = client.prepare_cached(&sql).await?;
        comments_from_rows(client.query(&stmt, &[&article_id, &ids]).await?)
    }

    async fn comment_stubs(&self, ids: &[i64]) -> Result<Vec<CommentStub>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached("SELECT id, parent_id, created_at FROM comments WHERE id = ANY($1)")
            .await?;
        let rows = client.query(&stmt, &[&ids]).await?;
        Ok(rows
            .iter()
            .map(|r| CommentStub { id: r.get(0), parent_id: r.get(1), created_at: r.get(2) })
            .collect())
    }

    async fn comment(&self, id: i64) -> Result<Option<Comment>> {
        let client = self.pool.get().await?;
        let sql = format!("SELECT {COMMENT_COLUMNS} FROM comments WHERE id = $1");
        let stmt = client.prepare_cached(&sql).await?;
        client.query_opt(&stmt, &[&id]).await?.as_ref().map(comment_from_row).transpose()
    }

    async fn has_approved_comment_from(&self, email: &str) -> Result<bool> {
        let client = self.pool.get().await?;
        // `lower` on both sides, as on SQLite, and matching the `comments_by_email` index.
        let stmt = client
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM comments
                  WHERE lower(author_email) = lower($1) AND status = 'approved')",
            )
            .await?;
        Ok(client.query_one(&stmt, &[&email]).await?.get(0))
    }

    async fn insert_comment(&self, c: &NewComment) -> Result<i64> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(
                "INSERT INTO comments (article_id, parent_id, author_name, author_email,
                     author_url, body, status, ip, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 RETURNING id",
            )
            .await?;
        let row = client
            .query_one(
                &stmt,
                &[
                    &c.article_id,
                    &c.parent_id,
                    &c.author_name,
                    &c.author_email,
                    &c.author_url,
                    &c.body,
                    &c.status.as_str(),
                    &c.ip,
                    &c.created_at,
                ],
            )
            .await?;
        Ok(row.get(0))
    }

    async fn set_comment_status(&self, id: i64, status: ReplyStatus) -> Result<bool> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached("UPDATE comments SET status = $2 WHERE id = $1").await?;
        Ok(client.execute(&stmt, &[&id, &status.as_str()]).await? > 0)
    }

    async fn delete_comment(&self, id: i64) -> Result<bool> {
        let client = self.pool.get().await?;
        Ok(client.execute("DELETE FROM comments WHERE id = $1", &[&id]).await? > 0)
    }

    async fn setting(&self, key: &str) -> Result<Option<String>> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached("SELECT value FROM settings WHERE key = $1").await?;
        Ok(client.query_opt(&stmt, &[&key]).await?.map(|r| r.get(0)))
    }

    async fn setting_or_insert(&self, key: &str, value: &str) -> Result<String> {
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                &[&key, &value],
            )
            .await?;
        Ok(client.query_one("SELECT value FROM settings WHERE key = $1", &[&key]).await?.get(0))
    }

    async fn ping(&self) -> Result<()> {
        let client = self.pool.get().await?;
        client.query_one("SELECT 1", &[]).await?;
        Ok(())
    }

    async fn export_rows(
        &self,
        table: Table,
        after: Option<Value>,
        limit: u32,
    ) -> Result<Vec<Vec<Value>>> {
        let client = self.pool.get().await?;
        let (key, key_kind) = table.columns()[0];
        let filter = if after.is_some() { format!("WHERE {key} > $1") } else { String::new() };
        let sql = format!(
            "SELECT {} FROM {} {filter} ORDER BY {key} LIMIT {limit}",
            table.column_list(),
            table.name()
        );
        let values: Vec<_> = after.iter().map(|v| to_sql(v, key_kind)).collect();
        let rows = client.query(&sql, &params(&values)).await?;
        Ok(rows.iter().map(|r| row_values(table, r)).collect())
    }

    async fn import_rows(&self, table: Table, rows: &[Vec<Value>]) -> Result<()> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let columns = table.columns();
        let numbers: Vec<_> = (1..=columns.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            table.name(),
            table.column_list(),
            numbers.join(", ")
        );
        let stmt = tx.prepare(&sql).await?;
        for row in rows {
            let values: Vec<_> =
                row.iter().zip(columns).map(|(value, (_, kind))| to_sql(value, *kind)).collect();
            tx.execute(&stmt, &params(&values)).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn count_rows(&self, table: Table) -> Result<u64> {
        let client = self.pool.get().await?;
        let sql = format!("SELECT count(*) FROM {}", table.name());
        Ok(client.query_one(&sql, &[]).await?.get::<_, i64>(0) as u64)
    }

    async fn next_id(&self, table: Table) -> Result<i64> {
        let client = self.pool.get().await?;
        let name = table.name();
        let sequence: String = client
            .query_one(&format!("SELECT pg_get_serial_sequence('{name}', 'id')"), &[])
            .await?
            .get(0);
        // `is_called` false (as after `setval(…, false)`) means last_value is the next id.
        let sql = format!(
            "SELECT greatest(CASE WHEN is_called THEN last_value + 1 ELSE last_value END,
                             (SELECT coalesce(max(id), 0) + 1 FROM {name}))
               FROM {sequence}"
        );
        Ok(client.query_one(&sql, &[]).await?.get(0))
    }

    async fn finish_import(&self, next_ids: &[(Table, i64)]) -> Result<()> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.batch_execute(RECOUNT).await?;
        for (table, next) in next_ids {
            let name = table.name();
            let sql = format!("SELECT setval(pg_get_serial_sequence('{name}', 'id'), $1, false)");
            tx.execute(&sql, &[next]).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
