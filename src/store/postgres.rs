//! The PostgreSQL store, for sites that outgrow one machine: `tokio-postgres` through a
//! `deadpool` connection pool. Same behaviour as the SQLite store; the conformance suite in
//! `tests/api/conformance.rs` holds the two together.

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::error::SqlState;
use tokio_postgres::{NoTls, Row};

use tokio_postgres::types::ToSql;

use super::{
    Article, ArticleFields, ArticleNote, ArticleQuery, ArticleSummary, Author, Comment,
    CommentStub, Image, Kind, Listing, NewArticle, NewComment, NewUser, QueueQuery, QueuedComment,
    Result, Revision, SearchHit, Section, Session, Store, StoreError, Table, Tag, User, Value,
};
use crate::domain::{ArticleStatus, NoteKind, ReplyStatus, Role, search};

/// The schema's history, oldest first. Never edit a shipped migration: add a new one.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/postgres/0001_init.sql"),
    include_str!("../../migrations/postgres/0002_reply_shapes.sql"),
];

/// Any fixed number: nodes starting together take this lock so one migrates at a time.
const MIGRATION_LOCK: i64 = 0x6279_6c69_6e65;

const POOL_SIZE: usize = 16;

#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    /// For the connection that listens for other nodes' changes.
    config: tokio_postgres::Config,
    changes: tokio::sync::broadcast::Sender<String>,
    listening: std::sync::Arc<std::sync::OnceLock<()>>,
}

/// The channel nodes announce changes on.
const CHANNEL: &str = "byline_changes";

/// Listens on [`CHANNEL`] for as long as anyone wants to hear; reconnects when the connection
/// drops, and says so (a change may have been missed meanwhile).
async fn listen(config: tokio_postgres::Config, changes: tokio::sync::broadcast::Sender<String>) {
    use tokio_postgres::AsyncMessage;
    while changes.receiver_count() > 0 {
        match config.connect(NoTls).await {
            Ok((client, mut connection)) => {
                let forward = changes.clone();
                // The connection delivers notifications only while it is polled.
                let driver = tokio::spawn(async move {
                    loop {
                        match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                            Some(Ok(AsyncMessage::Notification(note))) => {
                                let _ = forward.send(note.payload().to_owned());
                            }
                            Some(Ok(_)) => {}
                            Some(Err(_)) | None => break,
                        }
                    }
                });
                if client.batch_execute(&format!("LISTEN {CHANNEL}")).await.is_ok() {
                    // Changes made while nobody listened were missed: say something changed.
                    let _ = changes.send(String::new());
                    let _ = driver.await;
                    tracing::warn!("lost the connection that listens for changes");
                    let _ = changes.send(String::new());
                } else {
                    driver.abort();
                }
                drop(client);
            }
            Err(e) => tracing::warn!(error = %e, "cannot listen for changes"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(error: tokio_postgres::Error) -> Self {
        if error.code() == Some(&SqlState::UNIQUE_VIOLATION) {
            return StoreError::Conflict("a unique value");
        }
        let shutting_down =
            [SqlState::ADMIN_SHUTDOWN, SqlState::CRASH_SHUTDOWN, SqlState::CANNOT_CONNECT_NOW];
        if error.is_closed()
            || error.code().is_some_and(|c| shutting_down.contains(c))
            || error.as_db_error().is_none()
        {
            return StoreError::Unavailable(describe(&error));
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
        StoreError::Unavailable(format!("no database connection: {detail}"))
    }
}

impl PostgresStore {
    /// Connects to `url` (`postgres://…`) and brings the schema up to date.
    pub async fn connect(url: &str) -> Result<Self> {
        let mut config = tokio_postgres::Config::from_str(url)
            .map_err(|e| StoreError::Database(format!("not a PostgreSQL URL: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(3));
        }
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig { recycling_method: RecyclingMethod::Fast },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            // A page waits at most a few seconds for the database, then answers 503.
            .wait_timeout(Some(Duration::from_secs(3)))
            .create_timeout(Some(Duration::from_secs(3)))
            .recycle_timeout(Some(Duration::from_secs(2)))
            .build()
            .map_err(|e| StoreError::Database(format!("cannot build the connection pool: {e}")))?;
        let (changes, _) = tokio::sync::broadcast::channel(64);
        let mut listen_config = tokio_postgres::Config::from_str(url)
            .map_err(|e| StoreError::Database(format!("not a PostgreSQL URL: {e}")))?;
        if listen_config.get_connect_timeout().is_none() {
            listen_config.connect_timeout(Duration::from_secs(3));
        }
        let store = Self { pool, config: listen_config, changes, listening: Default::default() };
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

const ARTICLE_COLUMNS: &str = "a.id, a.slug, a.headline, a.standfirst, a.body_markdown, \
     a.body_html, a.status, s.id, s.name, s.slug, a.image_url, a.image_caption, a.image_alt, \
     a.date_path, a.published_at, a.created_at, a.updated_at, a.replies_open, a.reply_count, \
     a.word_count";

fn status_at(r: &Row, i: usize) -> Result<ArticleStatus> {
    let status: &str = r.get(i);
    ArticleStatus::parse(status)
        .ok_or_else(|| StoreError::Database(format!("unknown article status {status:?}")))
}

fn image_at(r: &Row, i: usize) -> Option<Image> {
    let url: Option<String> = r.get(i);
    url.map(|url| Image { url, caption: r.get(i + 1), alt: r.get(i + 2) })
}

/// An article's own row; authors and tags are read by [`load_article`].
fn article_from_row(r: &Row) -> Result<Article> {
    let section =
        r.get::<_, Option<i64>>(7).map(|id| Section { id, name: r.get(8), slug: r.get(9) });
    Ok(Article {
        id: r.get(0),
        slug: r.get(1),
        headline: r.get(2),
        standfirst: r.get(3),
        body_markdown: r.get(4),
        body_html: r.get(5),
        status: status_at(r, 6)?,
        authors: Vec::new(),
        section,
        tags: Vec::new(),
        image: image_at(r, 10),
        date_path: r.get(13),
        published_at: r.get(14),
        created_at: r.get(15),
        updated_at: r.get(16),
        replies_open: r.get(17),
        reply_count: r.get(18),
        word_count: r.get(19),
    })
}

fn article_sql(condition: &str) -> String {
    format!(
        "SELECT {ARTICLE_COLUMNS} FROM articles a LEFT JOIN sections s ON s.id = a.section_id
          WHERE {condition}"
    )
}

const AUTHORS_OF_ARTICLE: &str = "SELECT au.id, au.name, au.bio FROM article_authors x
       JOIN authors au ON au.id = x.author_id
      WHERE x.article_id = $1 ORDER BY x.position";

const TAGS_OF_ARTICLE: &str = "SELECT t.id, t.name, t.slug FROM article_tags x
       JOIN tags t ON t.id = x.tag_id
      WHERE x.article_id = $1 ORDER BY t.name, t.id";

fn comments_of_article_sql() -> String {
    format!(
        "SELECT {COMMENT_COLUMNS} FROM comments c
          WHERE c.article_id = $1 AND c.status = $2
          ORDER BY c.created_at, c.id"
    )
}

fn published_sql() -> String {
    format!(
        "SELECT {SUMMARY_COLUMNS} FROM articles a LEFT JOIN sections s ON s.id = a.section_id
          WHERE a.status = 'published' AND a.id IS DISTINCT FROM $3
          ORDER BY a.published_at DESC, a.id DESC
          LIMIT $1 OFFSET $2"
    )
}

const COUNT_PUBLISHED: &str =
    "SELECT count(*) FROM articles WHERE status = 'published' AND id IS DISTINCT FROM $1";

const NOTES_OF_ARTICLE: &str = "SELECT id, article_id, kind, body, created_at FROM article_notes
      WHERE article_id = $1 ORDER BY created_at, id";

const HAS_APPROVED: &str = "SELECT EXISTS (SELECT 1 FROM comments
      WHERE lower(author_email) = lower($1) AND status = 'approved')";

/// Reads one article (by `condition` on `a`) with its byline and tags.
async fn load_article(
    client: &deadpool_postgres::Client,
    condition: &str,
    param: &(dyn ToSql + Sync),
) -> Result<Option<Article>> {
    let stmt = client.prepare_cached(&article_sql(condition)).await?;
    let Some(row) = client.query_opt(&stmt, &[param]).await? else {
        return Ok(None);
    };
    let mut article = article_from_row(&row)?;
    let authors = client.prepare_cached(AUTHORS_OF_ARTICLE).await?;
    article.authors = client
        .query(&authors, &[&article.id])
        .await?
        .iter()
        .map(|r| Author { id: r.get(0), name: r.get(1), bio: r.get(2) })
        .collect();
    let tags = client.prepare_cached(TAGS_OF_ARTICLE).await?;
    article.tags = client
        .query(&tags, &[&article.id])
        .await?
        .iter()
        .map(|r| Tag { id: r.get(0), name: r.get(1), slug: r.get(2) })
        .collect();
    Ok(Some(article))
}

/// Columns of [`ArticleSummary`]; authors' names joined by U+001F, which no name contains.
const SUMMARY_COLUMNS: &str = "a.id, a.slug, a.headline, a.standfirst, a.status,
     (SELECT string_agg(au.name, chr(31) ORDER BY x.position)
        FROM article_authors x JOIN authors au ON au.id = x.author_id
       WHERE x.article_id = a.id),
     s.name, a.image_url, a.image_caption, a.image_alt, a.date_path, a.published_at,
     a.updated_at, a.reply_count, a.word_count";

fn summary_from_row(r: &Row) -> Result<ArticleSummary> {
    let names: Option<String> = r.get(5);
    Ok(ArticleSummary {
        id: r.get(0),
        slug: r.get(1),
        headline: r.get(2),
        standfirst: r.get(3),
        status: status_at(r, 4)?,
        author_names: names
            .map(|n| n.split('\u{1f}').map(str::to_owned).collect())
            .unwrap_or_default(),
        section_name: r.get(6),
        image: image_at(r, 7),
        date_path: r.get(10),
        published_at: r.get(11),
        updated_at: r.get(12),
        reply_count: r.get(13),
        word_count: r.get(14),
    })
}

/// The condition on `a` that picks a listing's articles, and its value.
fn listing_condition(listing: Listing) -> (&'static str, i64) {
    match listing {
        Listing::Section(id) => ("a.section_id = $1", id),
        Listing::Tag(id) => (
            "EXISTS (SELECT 1 FROM article_tags x WHERE x.article_id = a.id AND x.tag_id = $1)",
            id,
        ),
        Listing::Author(id) => (
            "EXISTS (SELECT 1 FROM article_authors x WHERE x.article_id = a.id AND x.author_id = $1)",
            id,
        ),
    }
}

fn related_sql() -> String {
    format!(
        "SELECT {SUMMARY_COLUMNS} FROM articles a LEFT JOIN sections s ON s.id = a.section_id
          WHERE a.status = 'published' AND a.id <> $1
            AND (a.section_id = (SELECT section_id FROM articles WHERE id = $1)
                 OR EXISTS (SELECT 1 FROM article_tags x
                              JOIN article_tags y ON y.tag_id = x.tag_id
                             WHERE x.article_id = a.id AND y.article_id = $1))
          ORDER BY a.published_at DESC, a.id DESC LIMIT $2"
    )
}

const REPLY_SHAPES: &str = "SELECT id, parent_id, created_at FROM comments
      WHERE article_id = $1 AND status = 'approved'";

const REPLIES_FROM_IP: &str = "SELECT count(*) FROM comments WHERE ip = $1 AND created_at >= $2";

const DUPLICATE_REPLY: &str = "SELECT EXISTS (SELECT 1 FROM comments
      WHERE lower(author_email) = lower($2) AND article_id = $1 AND body = $3
        AND created_at >= $4)";

fn reply_by_id_sql() -> String {
    format!("SELECT {COMMENT_COLUMNS} FROM comments c WHERE c.id = $1")
}

/// Replies of an article among some ids (a poster's held replies).
fn replies_by_ids_sql() -> String {
    format!(
        "SELECT {COMMENT_COLUMNS} FROM comments c
          WHERE c.article_id = $1 AND c.id = ANY($2) ORDER BY c.created_at, c.id"
    )
}

fn listing_sql(listing: Listing) -> String {
    format!(
        "SELECT a.id FROM articles a WHERE a.status = 'published' AND {}
          ORDER BY a.published_at DESC, a.id DESC LIMIT 20",
        listing_condition(listing).0
    )
}

/// Writes an article's byline and tags, replacing any it had.
async fn write_links(
    tx: &deadpool_postgres::Transaction<'_>,
    id: i64,
    fields: &ArticleFields,
) -> Result<()> {
    tx.execute("DELETE FROM article_authors WHERE article_id = $1", &[&id]).await?;
    tx.execute("DELETE FROM article_tags WHERE article_id = $1", &[&id]).await?;
    for (position, author_id) in fields.author_ids.iter().enumerate() {
        tx.execute(
            "INSERT INTO article_authors (article_id, author_id, position) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            &[&id, author_id, &(position as i64)],
        )
        .await?;
    }
    for tag_id in &fields.tag_ids {
        tx.execute(
            "INSERT INTO article_tags (article_id, tag_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&id, tag_id],
        )
        .await?;
    }
    // An article taking back one of its old slugs no longer needs that redirect.
    tx.execute("DELETE FROM slug_redirects WHERE slug = $1", &[&fields.slug]).await?;
    Ok(())
}

fn slug_conflict(error: tokio_postgres::Error) -> StoreError {
    match StoreError::from(error) {
        StoreError::Conflict(_) => StoreError::Conflict("the slug"),
        other => other,
    }
}

const USER_COLUMNS: &str = "u.id, u.email, u.role, u.disabled, u.created_at, \
     u.password_changed_at, au.id, au.name, au.bio";

fn user_from_row(r: &Row) -> Result<User> {
    let role: &str = r.get(2);
    Ok(User {
        id: r.get(0),
        email: r.get(1),
        role: Role::parse(role)
            .ok_or_else(|| StoreError::Database(format!("unknown role {role:?}")))?,
        disabled: r.get(3),
        created_at: r.get(4),
        password_changed_at: r.get(5),
        author: Author { id: r.get(6), name: r.get(7), bio: r.get(8) },
    })
}

const REVISION_COLUMNS: &str = "id, article_id, user_id, created_at, headline, standfirst, \
     slug, body_markdown, section, tags, authors, image_url, image_caption, image_alt, \
     replies_open";

fn revision_from_row(r: &Row) -> Revision {
    Revision {
        id: r.get(0),
        article_id: r.get(1),
        user_id: r.get(2),
        created_at: r.get(3),
        headline: r.get(4),
        standfirst: r.get(5),
        slug: r.get(6),
        body_markdown: r.get(7),
        section: r.get(8),
        tags: r.get(9),
        authors: r.get(10),
        image_url: r.get(11),
        image_caption: r.get(12),
        image_alt: r.get(13),
        replies_open: r.get(14),
    }
}

/// `%`, `_` and `\` made literal for `LIKE … ESCAPE '\'`.
fn like_pattern(words: &str) -> String {
    let mut pattern = String::from("%");
    for c in words.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

const COMMENT_COLUMNS: &str = "c.id, c.article_id, c.parent_id, c.author_name, c.author_url, \
     c.body, c.status, c.created_at, c.user_id IS NOT NULL";

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
        staff: r.get(8),
    })
}

/// Columns of [`QueuedComment`], after [`COMMENT_COLUMNS`].
const QUEUE_COLUMNS: &str = "c.author_email, c.ip, c.held_reason, a.headline, a.slug, a.date_path";

fn queued_from_row(r: &Row) -> Result<QueuedComment> {
    Ok(QueuedComment {
        comment: comment_from_row(r)?,
        author_email: r.get(9),
        ip: r.get(10),
        held_reason: r.get(11),
        article_headline: r.get(12),
        article_slug: r.get(13),
        article_date_path: r.get(14),
    })
}

/// The queue's `WHERE` clause (without status) and its values.
fn queue_filter(query: &QueueQuery) -> (String, Vec<Box<dyn ToSql + Sync + Send>>) {
    let mut conditions = vec!["TRUE".to_owned()];
    let mut values: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
    if let Some(article) = query.article_id {
        values.push(Box::new(article));
        conditions.push(format!("c.article_id = ${}", values.len()));
    }
    if let Some(email) = query.email.as_deref().filter(|e| !e.trim().is_empty()) {
        values.push(Box::new(email.trim().to_owned()));
        conditions.push(format!("lower(c.author_email) = lower(${})", values.len()));
    }
    if let Some(author) = query.byline_author_id {
        values.push(Box::new(author));
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM article_authors x
                      WHERE x.article_id = c.article_id AND x.author_id = ${})",
            values.len()
        ));
    }
    (conditions.join(" AND "), values)
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

/// A search hit from [`SUMMARY_COLUMNS`] and the body; the snippet is made here, the same way
/// on both backends.
fn hit_from_row(r: &Row, terms: &[String]) -> Result<SearchHit> {
    let article = summary_from_row(r)?;
    let body: String = r.get(15);
    let text = format!("{} {body}", article.standfirst);
    Ok(SearchHit { snippet: search::snippet(&text, terms, 160), article })
}

/// Search by plain text, for terms a word index cannot find (scripts without spaces): headline
/// matches first, then the newest.
async fn plain_search(
    client: &deadpool_postgres::Client,
    terms: &[String],
    offset: u64,
    limit: u64,
) -> Result<(Vec<SearchHit>, u64)> {
    let text = "lower(a.headline || ' ' || a.standfirst || ' ' || a.body_markdown)";
    let conditions: Vec<String> =
        (1..=terms.len()).map(|i| format!("strpos({text}, ${i}) > 0")).collect();
    let filter = conditions.join(" AND ");
    let values: Vec<&(dyn ToSql + Sync)> = terms.iter().map(|t| t as &(dyn ToSql + Sync)).collect();
    let count =
        format!("SELECT count(*) FROM articles a WHERE a.status = 'published' AND {filter}");
    let total: i64 = client.query_one(&count, &values).await?.get(0);
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS}, a.body_markdown
           FROM articles a LEFT JOIN sections s ON s.id = a.section_id
          WHERE a.status = 'published' AND {filter}
          ORDER BY strpos(lower(a.headline), $1) = 0, a.published_at DESC, a.id DESC
          LIMIT {limit} OFFSET {offset}"
    );
    let rows = client.query(&sql, &values).await?;
    let hits = rows.iter().map(|r| hit_from_row(r, terms)).collect::<Result<Vec<_>>>()?;
    Ok((hits, total as u64))
}

/// Recomputes the counts the trigger keeps (an import brings both rows and counts).
const RECOUNT: &str = "UPDATE articles SET reply_count = (SELECT count(*) FROM comments c
     WHERE c.article_id = articles.id AND c.status = 'approved')";

fn comments_from_rows(rows: Vec<Row>) -> Result<Vec<Comment>> {
    rows.iter().map(comment_from_row).collect()
}

#[async_trait]
impl Store for PostgresStore {
    async fn published_articles(
        &self,
        offset: u64,
        limit: u64,
        except: Option<i64>,
    ) -> Result<Vec<ArticleSummary>> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(&published_sql()).await?;
        let rows = client.query(&stmt, &[&(limit as i64), &(offset as i64), &except]).await?;
        rows.iter().map(summary_from_row).collect()
    }

    async fn count_published_articles(&self, except: Option<i64>) -> Result<u64> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(COUNT_PUBLISHED).await?;
        Ok(client.query_one(&stmt, &[&except]).await?.get::<_, i64>(0) as u64)
    }

    async fn list_articles(&self, query: &ArticleQuery) -> Result<(Vec<ArticleSummary>, u64)> {
        let client = self.pool.get().await?;
        let mut conditions = vec!["TRUE".to_owned()];
        let mut values: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
        if let Some(status) = query.status {
            values.push(Box::new(status.as_str().to_owned()));
            conditions.push(format!("a.status = ${}", values.len()));
        }
        if let Some(author) = query.author_id {
            values.push(Box::new(author));
            conditions.push(format!(
                "EXISTS (SELECT 1 FROM article_authors x
                          WHERE x.article_id = a.id AND x.author_id = ${})",
                values.len()
            ));
        }
        if let Some(section) = query.section_id {
            values.push(Box::new(section));
            conditions.push(format!("a.section_id = ${}", values.len()));
        }
        if let Some(words) = query.headline.as_deref().filter(|w| !w.trim().is_empty()) {
            values.push(Box::new(like_pattern(&words.trim().to_lowercase())));
            conditions.push(format!("lower(a.headline) LIKE ${} ESCAPE '\\'", values.len()));
        }
        let filter = conditions.join(" AND ");
        let count_sql = format!("SELECT count(*) FROM articles a WHERE {filter}");
        let total: i64 = client.query_one(&count_sql, &params(&values)).await?.get(0);
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM articles a LEFT JOIN sections s ON s.id = a.section_id
              WHERE {filter} ORDER BY a.updated_at DESC, a.id DESC LIMIT {} OFFSET {}",
            query.limit, query.offset
        );
        let rows = client.query(&sql, &params(&values)).await?;
        let found = rows.iter().map(summary_from_row).collect::<Result<Vec<_>>>()?;
        Ok((found, total as u64))
    }

    async fn published_in(
        &self,
        listing: Listing,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<ArticleSummary>, u64)> {
        let client = self.pool.get().await?;
        let (condition, id) = listing_condition(listing);
        let count =
            format!("SELECT count(*) FROM articles a WHERE a.status = 'published' AND {condition}");
        let total: i64 =
            client.query_one(&client.prepare_cached(&count).await?, &[&id]).await?.get(0);
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM articles a LEFT JOIN sections s ON s.id = a.section_id
              WHERE a.status = 'published' AND {condition}
              ORDER BY a.published_at DESC, a.id DESC LIMIT {limit} OFFSET {offset}"
        );
        let rows = client.query(&client.prepare_cached(&sql).await?, &[&id]).await?;
        let found = rows.iter().map(summary_from_row).collect::<Result<Vec<_>>>()?;
        Ok((found, total as u64))
    }

    async fn related_articles(&self, article_id: i64, limit: u64) -> Result<Vec<ArticleSummary>> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(&related_sql()).await?;
        client
            .query(&stmt, &[&article_id, &(limit as i64)])
            .await?
            .iter()
            .map(summary_from_row)
            .collect()
    }

    async fn search(
        &self,
        terms: &[String],
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<SearchHit>, u64)> {
        if terms.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let client = self.pool.get().await?;
        if terms.iter().any(|t| search::is_cjk(t)) {
            return plain_search(&client, terms, offset, limit).await;
        }
        // Terms hold only letters and digits, so each is a valid prefix lexeme.
        let query: Vec<String> = terms.iter().map(|t| format!("{t}:*")).collect();
        let query = query.join(" & ");
        let vector =
            "to_tsvector('simple', a.headline || ' ' || a.standfirst || ' ' || a.body_markdown)";
        let count = format!(
            "SELECT count(*) FROM articles a
              WHERE a.status = 'published' AND {vector} @@ to_tsquery('simple', $1)"
        );
        let total: i64 = client.query_one(&count, &[&query]).await?.get(0);
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS}, a.body_markdown
               FROM articles a LEFT JOIN sections s ON s.id = a.section_id
              WHERE a.status = 'published' AND {vector} @@ to_tsquery('simple', $1)
              ORDER BY ts_rank(setweight(to_tsvector('simple', a.headline), 'A')
                               || setweight(to_tsvector('simple', a.standfirst), 'B')
                               || to_tsvector('simple', a.body_markdown),
                               to_tsquery('simple', $1)) DESC,
                       a.published_at DESC, a.id DESC
              LIMIT {limit} OFFSET {offset}"
        );
        let rows = client.query(&sql, &[&query]).await?;
        let hits = rows.iter().map(|r| hit_from_row(r, terms)).collect::<Result<Vec<_>>>()?;
        Ok((hits, total as u64))
    }

    async fn section_by_slug(&self, slug: &str) -> Result<Option<Section>> {
        let client = self.pool.get().await?;
        let stmt =
            client.prepare_cached("SELECT id, name, slug FROM sections WHERE slug = $1").await?;
        Ok(client.query_opt(&stmt, &[&slug]).await?.map(|r| Section {
            id: r.get(0),
            name: r.get(1),
            slug: r.get(2),
        }))
    }

    async fn tag_by_slug(&self, slug: &str) -> Result<Option<Tag>> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached("SELECT id, name, slug FROM tags WHERE slug = $1").await?;
        Ok(client.query_opt(&stmt, &[&slug]).await?.map(|r| Tag {
            id: r.get(0),
            name: r.get(1),
            slug: r.get(2),
        }))
    }

    async fn author(&self, id: i64) -> Result<Option<Author>> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached("SELECT id, name, bio FROM authors WHERE id = $1").await?;
        Ok(client.query_opt(&stmt, &[&id]).await?.map(|r| Author {
            id: r.get(0),
            name: r.get(1),
            bio: r.get(2),
        }))
    }

    async fn article_by_slug(&self, slug: &str) -> Result<Option<Article>> {
        let client = self.pool.get().await?;
        load_article(&client, "a.slug = $1 AND a.status = 'published'", &slug).await
    }

    async fn article(&self, id: i64) -> Result<Option<Article>> {
        let client = self.pool.get().await?;
        load_article(&client, "a.id = $1", &id).await
    }

    async fn slug_exists(&self, slug: &str) -> Result<bool> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM articles WHERE slug = $1)
                     OR EXISTS (SELECT 1 FROM slug_redirects WHERE slug = $1)",
            )
            .await?;
        Ok(client.query_one(&stmt, &[&slug]).await?.get(0))
    }

    async fn insert_article(&self, a: &NewArticle) -> Result<i64> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let f = &a.fields;
        let image = f.image.as_ref();
        let row = tx
            .query_one(
                "INSERT INTO articles (slug, headline, standfirst, body_markdown, body_html,
                     status, section_id, image_url, image_caption, image_alt, date_path,
                     published_at, created_at, updated_at, replies_open, word_count)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15)
                 RETURNING id",
                &[
                    &f.slug,
                    &f.headline,
                    &f.standfirst,
                    &f.body_markdown,
                    &f.body_html,
                    &a.status.as_str(),
                    &f.section_id,
                    &image.map(|i| i.url.as_str()),
                    &image.map_or("", |i| i.caption.as_str()),
                    &image.map_or("", |i| i.alt.as_str()),
                    &a.date_path,
                    &a.published_at,
                    &a.created_at,
                    &f.replies_open,
                    &f.word_count,
                ],
            )
            .await
            .map_err(slug_conflict)?;
        let id: i64 = row.get(0);
        write_links(&tx, id, f).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn update_article(&self, id: i64, f: &ArticleFields, updated_at: i64) -> Result<()> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let image = f.image.as_ref();
        let changed = tx
            .execute(
                "UPDATE articles SET slug = $2, headline = $3, standfirst = $4,
                     body_markdown = $5, body_html = $6, section_id = $7, image_url = $8,
                     image_caption = $9, image_alt = $10, replies_open = $11, updated_at = $12,
                     word_count = $13
                  WHERE id = $1",
                &[
                    &id,
                    &f.slug,
                    &f.headline,
                    &f.standfirst,
                    &f.body_markdown,
                    &f.body_html,
                    &f.section_id,
                    &image.map(|i| i.url.as_str()),
                    &image.map_or("", |i| i.caption.as_str()),
                    &image.map_or("", |i| i.alt.as_str()),
                    &f.replies_open,
                    &updated_at,
                    &f.word_count,
                ],
            )
            .await
            .map_err(slug_conflict)?;
        if changed == 0 {
            return Err(StoreError::NotFound("the article"));
        }
        write_links(&tx, id, f).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_article_status(
        &self,
        id: i64,
        status: ArticleStatus,
        date_path: Option<&str>,
        published_at: Option<i64>,
        updated_at: i64,
    ) -> Result<()> {
        let client = self.pool.get().await?;
        let changed = client
            .execute(
                "UPDATE articles SET status = $2, date_path = $3, published_at = $4,
                     updated_at = $5
                  WHERE id = $1",
                &[&id, &status.as_str(), &date_path, &published_at, &updated_at],
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::NotFound("the article"));
        }
        Ok(())
    }

    async fn due_articles(&self, now: i64) -> Result<Vec<Article>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT id FROM articles WHERE status = 'scheduled' AND published_at <= $1
                  ORDER BY published_at, id",
                &[&now],
            )
            .await?;
        let mut due = Vec::new();
        for row in rows {
            let id: i64 = row.get(0);
            due.extend(load_article(&client, "a.id = $1", &id).await?);
        }
        Ok(due)
    }

    async fn add_slug_redirect(&self, slug: &str, article_id: i64) -> Result<()> {
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO slug_redirects (slug, article_id) VALUES ($1, $2)
                 ON CONFLICT (slug) DO UPDATE SET article_id = excluded.article_id",
                &[&slug, &article_id],
            )
            .await?;
        Ok(())
    }

    async fn slug_redirect(&self, slug: &str) -> Result<Option<i64>> {
        let client = self.pool.get().await?;
        let stmt =
            client.prepare_cached("SELECT article_id FROM slug_redirects WHERE slug = $1").await?;
        Ok(client.query_opt(&stmt, &[&slug]).await?.map(|r| r.get(0)))
    }

    async fn insert_revision(&self, r: &Revision) -> Result<i64> {
        let client = self.pool.get().await?;
        let row = client
            .query_one(
                "INSERT INTO revisions (article_id, user_id, created_at, headline, standfirst,
                     slug, body_markdown, section, tags, authors, image_url, image_caption,
                     image_alt, replies_open)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
                 RETURNING id",
                &[
                    &r.article_id,
                    &r.user_id,
                    &r.created_at,
                    &r.headline,
                    &r.standfirst,
                    &r.slug,
                    &r.body_markdown,
                    &r.section,
                    &r.tags,
                    &r.authors,
                    &r.image_url,
                    &r.image_caption,
                    &r.image_alt,
                    &r.replies_open,
                ],
            )
            .await?;
        Ok(row.get(0))
    }

    async fn revisions(&self, article_id: i64) -> Result<Vec<Revision>> {
        let client = self.pool.get().await?;
        let sql = format!(
            "SELECT {REVISION_COLUMNS} FROM revisions WHERE article_id = $1 ORDER BY id DESC"
        );
        let stmt = client.prepare_cached(&sql).await?;
        Ok(client.query(&stmt, &[&article_id]).await?.iter().map(revision_from_row).collect())
    }

    async fn revision(&self, id: i64) -> Result<Option<Revision>> {
        let client = self.pool.get().await?;
        let sql = format!("SELECT {REVISION_COLUMNS} FROM revisions WHERE id = $1");
        let stmt = client.prepare_cached(&sql).await?;
        Ok(client.query_opt(&stmt, &[&id]).await?.as_ref().map(revision_from_row))
    }

    async fn add_note(&self, article_id: i64, kind: NoteKind, body: &str, at: i64) -> Result<i64> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let row = tx
            .query_one(
                "INSERT INTO article_notes (article_id, kind, body, created_at)
                 VALUES ($1, $2, $3, $4) RETURNING id",
                &[&article_id, &kind.as_str(), &body, &at],
            )
            .await?;
        tx.execute("UPDATE articles SET updated_at = $2 WHERE id = $1", &[&article_id, &at])
            .await?;
        tx.commit().await?;
        Ok(row.get(0))
    }

    async fn notes(&self, article_id: i64) -> Result<Vec<ArticleNote>> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(NOTES_OF_ARTICLE).await?;
        client
            .query(&stmt, &[&article_id])
            .await?
            .iter()
            .map(|r| {
                let kind: &str = r.get(2);
                Ok(ArticleNote {
                    id: r.get(0),
                    article_id: r.get(1),
                    kind: NoteKind::parse(kind).ok_or_else(|| {
                        StoreError::Database(format!("unknown note kind {kind:?}"))
                    })?,
                    body: r.get(3),
                    created_at: r.get(4),
                })
            })
            .collect()
    }

    async fn find_or_create_author(&self, name: &str) -> Result<Author> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let find = "SELECT id, name, bio FROM authors WHERE name = $1 ORDER BY id LIMIT 1";
        let row = match tx.query_opt(find, &[&name]).await? {
            Some(row) => row,
            None => {
                tx.query_one(
                    "INSERT INTO authors (name, created_at) VALUES ($1, $2) RETURNING id, name, bio",
                    &[&name, &crate::domain::time::now()],
                )
                .await?
            }
        };
        tx.commit().await?;
        Ok(Author { id: row.get(0), name: row.get(1), bio: row.get(2) })
    }

    async fn authors(&self) -> Result<Vec<Author>> {
        let client = self.pool.get().await?;
        let rows = client.query("SELECT id, name, bio FROM authors ORDER BY name, id", &[]).await?;
        Ok(rows.iter().map(|r| Author { id: r.get(0), name: r.get(1), bio: r.get(2) }).collect())
    }

    async fn update_author(&self, id: i64, name: &str, bio: &str) -> Result<()> {
        let client = self.pool.get().await?;
        client
            .execute("UPDATE authors SET name = $2, bio = $3 WHERE id = $1", &[&id, &name, &bio])
            .await?;
        Ok(())
    }

    async fn sections(&self) -> Result<Vec<Section>> {
        let client = self.pool.get().await?;
        let rows =
            client.query("SELECT id, name, slug FROM sections ORDER BY name, id", &[]).await?;
        Ok(rows.iter().map(|r| Section { id: r.get(0), name: r.get(1), slug: r.get(2) }).collect())
    }

    async fn find_or_create_section(&self, name: &str, slug: &str) -> Result<Section> {
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO sections (name, slug) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[&name, &slug],
            )
            .await?;
        let r = client
            .query_one("SELECT id, name, slug FROM sections WHERE name = $1", &[&name])
            .await?;
        Ok(Section { id: r.get(0), name: r.get(1), slug: r.get(2) })
    }

    async fn find_or_create_tags(&self, tags: &[(String, String)]) -> Result<Vec<Tag>> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let mut found = Vec::new();
        for (name, slug) in tags {
            tx.execute(
                "INSERT INTO tags (name, slug) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[name, slug],
            )
            .await?;
            let r =
                tx.query_one("SELECT id, name, slug FROM tags WHERE name = $1", &[name]).await?;
            found.push(Tag { id: r.get(0), name: r.get(1), slug: r.get(2) });
        }
        tx.commit().await?;
        Ok(found)
    }

    async fn create_user(&self, user: &NewUser) -> Result<User> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let taken: bool = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($1))",
                &[&user.email],
            )
            .await?
            .get(0);
        if taken {
            return Err(StoreError::Conflict("the email address"));
        }
        // An author record of that name without an account (say, from the command line)
        // becomes this account's; otherwise a new one is made.
        let existing = tx
            .query_opt(
                "SELECT au.id FROM authors au WHERE au.name = $1
                    AND NOT EXISTS (SELECT 1 FROM users u WHERE u.author_id = au.id)
                  ORDER BY au.id LIMIT 1",
                &[&user.name],
            )
            .await?;
        let author_id: i64 = match existing {
            Some(row) => row.get(0),
            None => tx
                .query_one(
                    "INSERT INTO authors (name, created_at) VALUES ($1, $2) RETURNING id",
                    &[&user.name, &user.created_at],
                )
                .await?
                .get(0),
        };
        let id: i64 = tx
            .query_one(
                "INSERT INTO users (author_id, email, role, password_hash, created_at,
                     password_changed_at)
                 VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
                &[
                    &author_id,
                    &user.email,
                    &user.role.as_str(),
                    &user.password_hash,
                    &user.created_at,
                ],
            )
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::Conflict("the email address"),
                other => other,
            })?
            .get(0);
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN authors au ON au.id = u.author_id WHERE u.id = $1"
        );
        let created = user_from_row(&tx.query_one(&sql, &[&id]).await?)?;
        tx.commit().await?;
        Ok(created)
    }

    async fn user(&self, id: i64) -> Result<Option<User>> {
        let client = self.pool.get().await?;
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN authors au ON au.id = u.author_id WHERE u.id = $1"
        );
        let stmt = client.prepare_cached(&sql).await?;
        client.query_opt(&stmt, &[&id]).await?.as_ref().map(user_from_row).transpose()
    }

    async fn user_credentials(&self, email: &str) -> Result<Option<(User, String)>> {
        let client = self.pool.get().await?;
        let sql = format!(
            "SELECT {USER_COLUMNS}, u.password_hash FROM users u
               JOIN authors au ON au.id = u.author_id
              WHERE lower(u.email) = lower($1)"
        );
        let stmt = client.prepare_cached(&sql).await?;
        match client.query_opt(&stmt, &[&email]).await? {
            Some(row) => Ok(Some((user_from_row(&row)?, row.get(9)))),
            None => Ok(None),
        }
    }

    async fn users(&self) -> Result<Vec<User>> {
        let client = self.pool.get().await?;
        let sql = format!(
            "SELECT {USER_COLUMNS} FROM users u JOIN authors au ON au.id = u.author_id
              ORDER BY au.name, u.id"
        );
        client.query(&sql, &[]).await?.iter().map(user_from_row).collect()
    }

    async fn update_user(&self, id: i64, role: Role, disabled: bool) -> Result<bool> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let changed = tx
            .execute(
                "UPDATE users SET role = $2, disabled = $3 WHERE id = $1",
                &[&id, &role.as_str(), &disabled],
            )
            .await?;
        if disabled {
            tx.execute("DELETE FROM sessions WHERE user_id = $1", &[&id]).await?;
        }
        tx.commit().await?;
        Ok(changed > 0)
    }

    async fn set_password(&self, user_id: i64, password_hash: &str, at: i64) -> Result<()> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "UPDATE users SET password_hash = $2, password_changed_at = $3 WHERE id = $1",
            &[&user_id, &password_hash, &at],
        )
        .await?;
        tx.execute("DELETE FROM sessions WHERE user_id = $1", &[&user_id]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_session(&self, s: &Session) -> Result<()> {
        let client = self.pool.get().await?;
        client
            .execute(
                "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5)",
                &[&s.token_hash, &s.user_id, &s.csrf_token, &s.created_at, &s.expires_at],
            )
            .await?;
        Ok(())
    }

    async fn session(&self, token_hash: &str, now: i64) -> Result<Option<(Session, User)>> {
        let client = self.pool.get().await?;
        let sql = format!(
            "SELECT {USER_COLUMNS}, s.token_hash, s.csrf_token, s.created_at, s.expires_at
               FROM sessions s JOIN users u ON u.id = s.user_id
               JOIN authors au ON au.id = u.author_id
              WHERE s.token_hash = $1 AND s.expires_at > $2 AND NOT u.disabled"
        );
        let stmt = client.prepare_cached(&sql).await?;
        let Some(row) = client.query_opt(&stmt, &[&token_hash, &now]).await? else {
            return Ok(None);
        };
        let user = user_from_row(&row)?;
        let session = Session {
            token_hash: row.get(9),
            user_id: user.id,
            csrf_token: row.get(10),
            created_at: row.get(11),
            expires_at: row.get(12),
        };
        Ok(Some((session, user)))
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        let client = self.pool.get().await?;
        client.execute("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash]).await?;
        Ok(())
    }

    async fn login_failures(&self, key: &str, since: i64) -> Result<u64> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached("SELECT count(*) FROM login_failures WHERE key = $1 AND at >= $2")
            .await?;
        Ok(client.query_one(&stmt, &[&key, &since]).await?.get::<_, i64>(0) as u64)
    }

    async fn record_login_failure(&self, key: &str, at: i64) -> Result<()> {
        let client = self.pool.get().await?;
        client
            .execute("INSERT INTO login_failures (key, at) VALUES ($1, $2)", &[&key, &at])
            .await?;
        Ok(())
    }

    async fn clear_login_failures(&self, key: &str, before: i64) -> Result<()> {
        let client = self.pool.get().await?;
        client
            .execute("DELETE FROM login_failures WHERE key = $1 OR at < $2", &[&key, &before])
            .await?;
        Ok(())
    }

    async fn comments_of_article(
        &self,
        article_id: i64,
        status: ReplyStatus,
    ) -> Result<Vec<Comment>> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(&comments_of_article_sql()).await?;
        comments_from_rows(client.query(&stmt, &[&article_id, &status.as_str()]).await?)
    }

    async fn comments_by_ids(&self, article_id: i64, ids: &[i64]) -> Result<Vec<Comment>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(&replies_by_ids_sql()).await?;
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

    async fn reply_shapes(&self, article_id: i64) -> Result<Vec<CommentStub>> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(REPLY_SHAPES).await?;
        let rows = client.query(&stmt, &[&article_id]).await?;
        Ok(rows
            .iter()
            .map(|r| CommentStub { id: r.get(0), parent_id: r.get(1), created_at: r.get(2) })
            .collect())
    }

    async fn comment(&self, id: i64) -> Result<Option<Comment>> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(&reply_by_id_sql()).await?;
        client.query_opt(&stmt, &[&id]).await?.as_ref().map(comment_from_row).transpose()
    }

    async fn has_approved_comment_from(&self, email: &str) -> Result<bool> {
        let client = self.pool.get().await?;
        // `lower` on both sides, as on SQLite, and matching the `comments_by_email` index.
        let stmt = client.prepare_cached(HAS_APPROVED).await?;
        Ok(client.query_one(&stmt, &[&email]).await?.get(0))
    }

    async fn insert_comment(&self, c: &NewComment) -> Result<i64> {
        let client = self.pool.get().await?;
        let stmt = client
            .prepare_cached(
                "INSERT INTO comments (article_id, parent_id, author_name, author_email,
                     author_url, body, status, ip, held_reason, user_id, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
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
                    &c.held_reason,
                    &c.user_id,
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

    async fn set_comment_body(&self, id: i64, body: &str) -> Result<bool> {
        let client = self.pool.get().await?;
        Ok(client.execute("UPDATE comments SET body = $2 WHERE id = $1", &[&id, &body]).await? > 0)
    }

    async fn queue(&self, query: &QueueQuery) -> Result<(Vec<QueuedComment>, u64)> {
        let client = self.pool.get().await?;
        let (mut filter, mut values) = queue_filter(query);
        if let Some(status) = query.status {
            values.push(Box::new(status.as_str().to_owned()));
            filter.push_str(&format!(" AND c.status = ${}", values.len()));
        }
        let count = format!("SELECT count(*) FROM comments c WHERE {filter}");
        let total: i64 = client.query_one(&count, &params(&values)).await?.get(0);
        let sql = format!(
            "SELECT {COMMENT_COLUMNS}, {QUEUE_COLUMNS} FROM comments c
               JOIN articles a ON a.id = c.article_id
              WHERE {filter} ORDER BY c.created_at DESC, c.id DESC LIMIT {} OFFSET {}",
            query.limit, query.offset
        );
        let rows = client.query(&sql, &params(&values)).await?;
        let found = rows.iter().map(queued_from_row).collect::<Result<Vec<_>>>()?;
        Ok((found, total as u64))
    }

    async fn queue_counts(&self, query: &QueueQuery) -> Result<Vec<(ReplyStatus, u64)>> {
        let client = self.pool.get().await?;
        let (filter, values) = queue_filter(query);
        let sql =
            format!("SELECT c.status, count(*) FROM comments c WHERE {filter} GROUP BY c.status");
        let rows = client.query(&sql, &params(&values)).await?;
        Ok(rows
            .iter()
            .filter_map(|r| ReplyStatus::parse(r.get(0)).map(|s| (s, r.get::<_, i64>(1) as u64)))
            .collect())
    }

    async fn comments_from_ip_since(&self, ip: &str, since: i64) -> Result<u64> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(REPLIES_FROM_IP).await?;
        Ok(client.query_one(&stmt, &[&ip, &since]).await?.get::<_, i64>(0) as u64)
    }

    async fn duplicate_comment(
        &self,
        article_id: i64,
        email: &str,
        body: &str,
        since: i64,
    ) -> Result<bool> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached(DUPLICATE_REPLY).await?;
        Ok(client.query_one(&stmt, &[&article_id, &email, &body, &since]).await?.get(0))
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

    async fn set_setting(&self, key: &str, value: Option<&str>) -> Result<()> {
        let client = self.pool.get().await?;
        match value {
            Some(value) => {
                client
                    .execute(
                        "INSERT INTO settings (key, value) VALUES ($1, $2)
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        &[&key, &value],
                    )
                    .await?
            }
            None => client.execute("DELETE FROM settings WHERE key = $1", &[&key]).await?,
        };
        Ok(())
    }

    async fn announce_change(&self, scope: &str) -> Result<()> {
        let client = self.pool.get().await?;
        client.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &scope]).await?;
        Ok(())
    }

    fn changes(&self) -> Option<tokio::sync::broadcast::Receiver<String>> {
        let receiver = self.changes.subscribe();
        self.listening.get_or_init(|| {
            tokio::spawn(listen(self.config.clone(), self.changes.clone()));
        });
        Some(receiver)
    }

    async fn publish_scheduled(
        &self,
        id: i64,
        date_path: &str,
        published_at: i64,
        now: i64,
    ) -> Result<bool> {
        let client = self.pool.get().await?;
        let changed = client
            .execute(
                "UPDATE articles SET status = 'published', date_path = $2, published_at = $3,
                     updated_at = $4
                  WHERE id = $1 AND status = 'scheduled'",
                &[&id, &date_path, &published_at, &now],
            )
            .await?;
        Ok(changed > 0)
    }

    async fn settings_with_prefix(&self, prefix: &str) -> Result<Vec<(String, String)>> {
        let client = self.pool.get().await?;
        let rows = client
            .query(
                "SELECT key, value FROM settings WHERE left(key, length($1)) = $1 ORDER BY key",
                &[&prefix],
            )
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    async fn ping(&self) -> Result<()> {
        let client = self.pool.get().await?;
        client.query_one("SELECT 1", &[]).await?;
        Ok(())
    }

    async fn explain_page_queries(&self) -> Result<Vec<(&'static str, Vec<String>)>> {
        let mut client = self.pool.get().await?;
        // The planner scans tiny tables whatever their indexes; forbid that to see the plan
        // it would choose on a large site.
        let tx = client.transaction().await?;
        tx.batch_execute("SET LOCAL enable_seqscan = off").await?;
        let queries: Vec<(&'static str, String, Vec<Box<dyn ToSql + Sync + Send>>)> = vec![
            (
                "article by slug",
                article_sql("a.slug = $1 AND a.status = 'published'"),
                vec![Box::new("x".to_owned())],
            ),
            ("byline", AUTHORS_OF_ARTICLE.into(), vec![Box::new(1_i64)]),
            ("tags", TAGS_OF_ARTICLE.into(), vec![Box::new(1_i64)]),
            (
                "replies",
                comments_of_article_sql(),
                vec![Box::new(1_i64), Box::new("approved".to_owned())],
            ),
            (
                "front page",
                published_sql(),
                vec![Box::new(10_i64), Box::new(0_i64), Box::new(None::<i64>)],
            ),
            ("count published", COUNT_PUBLISHED.into(), vec![Box::new(None::<i64>)]),
            ("notes", NOTES_OF_ARTICLE.into(), vec![Box::new(1_i64)]),
            ("first-time check", HAS_APPROVED.into(), vec![Box::new("a@example.com".to_owned())]),
            ("section page", listing_sql(Listing::Section(1)), vec![Box::new(1_i64)]),
            ("tag page", listing_sql(Listing::Tag(1)), vec![Box::new(1_i64)]),
            ("author page", listing_sql(Listing::Author(1)), vec![Box::new(1_i64)]),
            ("related articles", related_sql(), vec![Box::new(1_i64), Box::new(4_i64)]),
            ("reply by id", reply_by_id_sql(), vec![Box::new(1_i64)]),
            ("thread shape", REPLY_SHAPES.into(), vec![Box::new(1_i64)]),
            ("held replies", replies_by_ids_sql(), vec![Box::new(1_i64), Box::new(vec![1_i64, 2])]),
            (
                "rate limit",
                REPLIES_FROM_IP.into(),
                vec![Box::new("192.0.2.1".to_owned()), Box::new(1_i64)],
            ),
            (
                "duplicate check",
                DUPLICATE_REPLY.into(),
                vec![
                    Box::new(1_i64),
                    Box::new("a@example.com".to_owned()),
                    Box::new("text".to_owned()),
                    Box::new(1_i64),
                ],
            ),
        ];
        let mut plans = Vec::new();
        for (name, sql, values) in queries {
            let rows = tx.query(&format!("EXPLAIN {sql}"), &params(&values)).await?;
            plans.push((name, rows.iter().map(|r| r.get::<_, String>(0)).collect()));
        }
        tx.rollback().await?;
        Ok(plans)
    }

    async fn export_rows(
        &self,
        table: Table,
        after: Option<Vec<Value>>,
        limit: u32,
    ) -> Result<Vec<Vec<Value>>> {
        let client = self.pool.get().await?;
        let key = table.key().join(", ");
        let filter = match &after {
            Some(values) => {
                let numbers: Vec<_> = (1..=values.len()).map(|i| format!("${i}")).collect();
                format!("WHERE ({key}) > ({})", numbers.join(", "))
            }
            None => String::new(),
        };
        let sql = format!(
            "SELECT {} FROM {} {filter} ORDER BY {key} LIMIT {limit}",
            table.column_list(),
            table.name()
        );
        let kinds = table.key().iter().map(|k| {
            table.columns().iter().find(|(name, _)| name == k).map_or(Kind::Text, |(_, kind)| *kind)
        });
        let values: Vec<_> =
            after.iter().flatten().zip(kinds).map(|(v, kind)| to_sql(v, kind)).collect();
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
