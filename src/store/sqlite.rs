//! The embedded store: one SQLite file in WAL mode. One writer connection (writes are
//! serialised by SQLite anyway) and a small pool of read-only connections, all used from
//! tokio's blocking threads.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{
    Article, ArticleSummary, Author, Comment, CommentStub, Kind, NewArticle, NewComment, Result,
    Store, StoreError, Table, Value,
};
use crate::domain::ReplyStatus;

/// The schema's history, oldest first. Never edit a shipped migration: add a new one.
const MIGRATIONS: &[&str] = &[include_str!("../../migrations/sqlite/0001_init.sql")];

/// Read connections kept open between requests.
const IDLE_READERS: usize = 8;

#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(e, _) = &error
            && e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
        {
            return StoreError::Conflict("a unique value");
        }
        StoreError::Database(error.to_string())
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        let mut writer = Connection::open(path)?;
        configure(&writer, false)?;
        migrate(&mut writer)?;
        let inner =
            Inner { path: path.to_owned(), writer: Mutex::new(writer), readers: Mutex::default() };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// `journal_mode` and `synchronous` as the writing connection reports them.
    pub async fn writer_pragmas(&self) -> Result<(String, i64)> {
        self.write(|conn| {
            let mode = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
            let sync = conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
            Ok((mode, sync))
        })
        .await
    }

    /// Runs `f` on a read connection, on a blocking thread.
    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        blocking(move || {
            let conn = inner.take_reader()?;
            let result = f(&conn);
            inner.give_back(conn);
            Ok(result?)
        })
        .await
    }

    /// Runs `f` on the writing connection, on a blocking thread.
    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        blocking(move || {
            let mut conn = inner.writer.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut conn)
        })
        .await
    }
}

impl Inner {
    fn take_reader(&self) -> Result<Connection> {
        if let Some(conn) = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(conn);
        }
        let conn = Connection::open(&self.path)?;
        configure(&conn, true)?;
        Ok(conn)
    }

    fn give_back(&self, conn: Connection) {
        let mut idle = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Database(format!("store task failed: {e}")))?
}

/// WAL with `synchronous = FULL`: a commit has reached the disk when it returns.
fn configure(conn: &Connection, read_only: bool) -> Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "foreign_keys", true)?;
    if read_only {
        conn.pragma_update(None, "query_only", true)?;
    } else {
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Database(format!("could not switch to WAL (got {mode})")));
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
    }
    Ok(())
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let version: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > MIGRATIONS.len() {
        return Err(StoreError::Schema(format!(
            "the database's schema is version {version}, newer than this Byline understands \
             (up to {}); upgrade Byline to use it",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
        tracing::info!(version = i + 1, "applied migration");
    }
    Ok(())
}

const ARTICLE_COLUMNS: &str = "a.id, a.slug, a.headline, a.standfirst, a.body_html, \
     au.id, au.name, au.bio, a.date_path, a.published_at, a.updated_at, a.replies_open, \
     a.reply_count";

fn article_from_row(r: &Row) -> rusqlite::Result<Article> {
    Ok(Article {
        id: r.get(0)?,
        slug: r.get(1)?,
        headline: r.get(2)?,
        standfirst: r.get(3)?,
        body_html: r.get(4)?,
        author: Author { id: r.get(5)?, name: r.get(6)?, bio: r.get(7)? },
        date_path: r.get(8)?,
        published_at: r.get(9)?,
        updated_at: r.get(10)?,
        replies_open: r.get(11)?,
        reply_count: r.get(12)?,
    })
}

const COMMENT_COLUMNS: &str =
    "id, article_id, parent_id, author_name, author_url, body, status, created_at";

fn comment_from_row(r: &Row) -> rusqlite::Result<Comment> {
    let status: String = r.get(6)?;
    let status = ReplyStatus::parse(&status).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(6, rusqlite::types::Type::Text, status.into())
    })?;
    Ok(Comment {
        id: r.get(0)?,
        article_id: r.get(1)?,
        parent_id: r.get(2)?,
        author_name: r.get(3)?,
        author_url: r.get(4)?,
        body: r.get(5)?,
        status,
        created_at: r.get(7)?,
    })
}

fn to_sql(value: &Value) -> rusqlite::types::Value {
    use rusqlite::types::Value as V;
    match value {
        Value::Null => V::Null,
        Value::Int(n) => V::Integer(*n),
        Value::Text(s) => V::Text(s.clone()),
        Value::Bool(b) => V::Integer(i64::from(*b)),
    }
}

fn row_values(table: Table, r: &Row) -> rusqlite::Result<Vec<Value>> {
    let mut values = Vec::with_capacity(table.columns().len());
    for (i, (_, kind)) in table.columns().iter().enumerate() {
        let value = match kind {
            Kind::Int => r.get::<_, Option<i64>>(i)?.map(Value::Int),
            Kind::Text => r.get::<_, Option<String>>(i)?.map(Value::Text),
            Kind::Bool => r.get::<_, Option<bool>>(i)?.map(Value::Bool),
        };
        values.push(value.unwrap_or(Value::Null));
    }
    Ok(values)
}

/// Recomputes the counts the triggers keep (an import brings both rows and counts).
const RECOUNT: &str = "UPDATE articles SET reply_count = (SELECT count(*) FROM comments c
     WHERE c.article_id = articles.id AND c.status = 'approved')";

/// `?, ?, ?` for an `IN` list.
fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

#[async_trait]
impl Store for SqliteStore {
    async fn published_articles(&self, offset: u64, limit: u64) -> Result<Vec<ArticleSummary>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT a.id, a.slug, a.headline, a.standfirst, au.name, a.date_path,
                        a.published_at, a.reply_count
                   FROM articles a JOIN authors au ON au.id = a.author_id
                  WHERE a.status = 'published'
                  ORDER BY a.published_at DESC, a.id DESC
                  LIMIT ?1 OFFSET ?2",
            )?;
            let rows = stmt.query_map(params![limit as i64, offset as i64], |r| {
                Ok(ArticleSummary {
                    id: r.get(0)?,
                    slug: r.get(1)?,
                    headline: r.get(2)?,
                    standfirst: r.get(3)?,
                    author_name: r.get(4)?,
                    date_path: r.get(5)?,
                    published_at: r.get(6)?,
                    reply_count: r.get(7)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    async fn count_published_articles(&self) -> Result<u64> {
        self.read(|conn| {
            conn.query_row("SELECT count(*) FROM articles WHERE status = 'published'", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n as u64)
        })
        .await
    }

    async fn article_by_slug(&self, slug: &str) -> Result<Option<Article>> {
        let slug = slug.to_owned();
        self.read(move |conn| {
            let sql = format!(
                "SELECT {ARTICLE_COLUMNS} FROM articles a JOIN authors au ON au.id = a.author_id
                  WHERE a.slug = ?1 AND a.status = 'published'"
            );
            conn.prepare_cached(&sql)?.query_row([slug], article_from_row).optional()
        })
        .await
    }

    async fn slug_exists(&self, slug: &str) -> Result<bool> {
        let slug = slug.to_owned();
        self.read(move |conn| {
            conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM articles WHERE slug = ?1)")?
                .query_row([slug], |r| r.get(0))
        })
        .await
    }

    async fn insert_article(&self, a: &NewArticle) -> Result<i64> {
        let a = a.clone();
        self.write(move |conn| {
            let inserted = conn.execute(
                "INSERT INTO articles (slug, headline, standfirst, body_markdown, body_html,
                     author_id, status, date_path, published_at, created_at, updated_at,
                     replies_open)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'published', ?7, ?8, ?8, ?8, ?9)",
                params![
                    a.slug,
                    a.headline,
                    a.standfirst,
                    a.body_markdown,
                    a.body_html,
                    a.author_id,
                    a.date_path,
                    a.published_at,
                    a.replies_open
                ],
            );
            match inserted {
                Ok(_) => Ok(conn.last_insert_rowid()),
                Err(e) => match StoreError::from(e) {
                    StoreError::Conflict(_) => Err(StoreError::Conflict("the slug")),
                    other => Err(other),
                },
            }
        })
        .await
    }

    async fn find_or_create_author(&self, name: &str) -> Result<Author> {
        let name = name.to_owned();
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO authors (name, created_at) VALUES (?1, ?2)
                 ON CONFLICT (name) DO NOTHING",
                params![name, crate::domain::time::now()],
            )?;
            let author = conn.query_row(
                "SELECT id, name, bio FROM authors WHERE name = ?1",
                [&name],
                |r| Ok(Author { id: r.get(0)?, name: r.get(1)?, bio: r.get(2)? }),
            )?;
            Ok(author)
        })
        .await
    }

    async fn comments_of_article(
        &self,
        article_id: i64,
        status: ReplyStatus,
    ) -> Result<Vec<Comment>> {
        self.read(move |conn| {
            let sql = format!(
                "SELECT {COMMENT_COLUMNS} FROM comments
                  WHERE article_id = ?1 AND status = ?2
                  ORDER BY created_at, id"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![article_id, status.as_str()], comment_from_row)?;
            rows.collect()
        })
        .await
    }

    async fn comments_by_ids(&self, article_id: i64, ids: &[i64]) -> Result<Vec<Comment>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = ids.to_vec();
        self.read(move |conn| {
            let sql = format!(
                "SELECT {COMMENT_COLUMNS} FROM comments
                  WHERE article_id = ? AND id IN ({}) ORDER BY created_at, id",
                placeholders(ids.len())
            );
            let mut stmt = conn.prepare(&sql)?;
            let values = std::iter::once(article_id).chain(ids);
            let rows = stmt.query_map(rusqlite::params_from_iter(values), comment_from_row)?;
            rows.collect()
        })
        .await
    }

    async fn comment_stubs(&self, ids: &[i64]) -> Result<Vec<CommentStub>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = ids.to_vec();
        self.read(move |conn| {
            let sql = format!(
                "SELECT id, parent_id, created_at FROM comments WHERE id IN ({})",
                placeholders(ids.len())
            );
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(ids), |r| {
                Ok(CommentStub { id: r.get(0)?, parent_id: r.get(1)?, created_at: r.get(2)? })
            })?;
            rows.collect()
        })
        .await
    }

    async fn comment(&self, id: i64) -> Result<Option<Comment>> {
        self.read(move |conn| {
            let sql = format!("SELECT {COMMENT_COLUMNS} FROM comments WHERE id = ?1");
            conn.prepare_cached(&sql)?.query_row([id], comment_from_row).optional()
        })
        .await
    }

    async fn has_approved_comment_from(&self, email: &str) -> Result<bool> {
        let email = email.to_owned();
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM comments
                  WHERE lower(author_email) = lower(?1) AND status = 'approved')",
            )?
            .query_row([email], |r| r.get(0))
        })
        .await
    }

    async fn insert_comment(&self, c: &NewComment) -> Result<i64> {
        let c = c.clone();
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO comments (article_id, parent_id, author_name, author_email,
                     author_url, body, status, ip, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                c.article_id,
                c.parent_id,
                c.author_name,
                c.author_email,
                c.author_url,
                c.body,
                c.status.as_str(),
                c.ip,
                c.created_at
            ])?;
            Ok(conn.last_insert_rowid())
        })
        .await
    }

    async fn set_comment_status(&self, id: i64, status: ReplyStatus) -> Result<bool> {
        self.write(move |conn| {
            let changed = conn
                .prepare_cached("UPDATE comments SET status = ?2 WHERE id = ?1")?
                .execute(params![id, status.as_str()])?;
            Ok(changed > 0)
        })
        .await
    }

    async fn delete_comment(&self, id: i64) -> Result<bool> {
        self.write(move |conn| {
            let deleted = conn.execute("DELETE FROM comments WHERE id = ?1", [id])?;
            Ok(deleted > 0)
        })
        .await
    }

    async fn setting(&self, key: &str) -> Result<Option<String>> {
        let key = key.to_owned();
        self.read(move |conn| {
            conn.prepare_cached("SELECT value FROM settings WHERE key = ?1")?
                .query_row([key], |r| r.get(0))
                .optional()
        })
        .await
    }

    async fn setting_or_insert(&self, key: &str, value: &str) -> Result<String> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
                params![key, value],
            )?;
            Ok(conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| r.get(0))?)
        })
        .await
    }

    async fn ping(&self) -> Result<()> {
        self.read(|conn| conn.query_row("SELECT 1", [], |_| Ok(()))).await
    }

    async fn export_rows(
        &self,
        table: Table,
        after: Option<Value>,
        limit: u32,
    ) -> Result<Vec<Vec<Value>>> {
        self.read(move |conn| {
            let key = table.columns()[0].0;
            let filter = if after.is_some() { format!("WHERE {key} > ?1") } else { String::new() };
            let sql = format!(
                "SELECT {} FROM {} {filter} ORDER BY {key} LIMIT {limit}",
                table.column_list(),
                table.name()
            );
            let mut stmt = conn.prepare(&sql)?;
            let params: Vec<_> = after.iter().map(to_sql).collect();
            let rows =
                stmt.query_map(rusqlite::params_from_iter(params), |r| row_values(table, r))?;
            rows.collect()
        })
        .await
    }

    async fn import_rows(&self, table: Table, rows: &[Vec<Value>]) -> Result<()> {
        let rows = rows.to_vec();
        self.write(move |conn| {
            let tx = conn.transaction()?;
            {
                let sql = format!(
                    "INSERT INTO {} ({}) VALUES ({})",
                    table.name(),
                    table.column_list(),
                    placeholders(table.columns().len())
                );
                let mut stmt = tx.prepare(&sql)?;
                for row in &rows {
                    stmt.execute(rusqlite::params_from_iter(row.iter().map(to_sql)))?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn count_rows(&self, table: Table) -> Result<u64> {
        self.read(move |conn| {
            let sql = format!("SELECT count(*) FROM {}", table.name());
            conn.query_row(&sql, [], |r| r.get::<_, i64>(0)).map(|n| n as u64)
        })
        .await
    }

    async fn next_id(&self, table: Table) -> Result<i64> {
        self.read(move |conn| {
            let name = table.name();
            // AUTOINCREMENT tables remember their highest id ever in sqlite_sequence.
            let sql = format!(
                "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = '{name}'), 0),
                            coalesce((SELECT max(id) FROM {name}), 0)) + 1"
            );
            conn.query_row(&sql, [], |r| r.get(0))
        })
        .await
    }

    async fn finish_import(&self, next_ids: &[(Table, i64)]) -> Result<()> {
        let next_ids = next_ids.to_vec();
        self.write(move |conn| {
            let tx = conn.transaction()?;
            tx.execute_batch(RECOUNT)?;
            for (table, next) in next_ids {
                let name = table.name();
                let updated = tx.execute(
                    "UPDATE sqlite_sequence SET seq = max(seq, ?2) WHERE name = ?1",
                    params![name, next - 1],
                )?;
                if updated == 0 && uses_autoincrement(table) {
                    tx.execute(
                        "INSERT INTO sqlite_sequence (name, seq) VALUES (?1, ?2)",
                        params![name, next - 1],
                    )?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }
}

/// Tables whose ids are never reused (see the migrations).
fn uses_autoincrement(table: Table) -> bool {
    matches!(table, Table::Articles | Table::Comments)
}
