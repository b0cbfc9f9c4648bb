//! The embedded store: one SQLite file in WAL mode. One writer connection (writes are
//! serialised by SQLite anyway) and a small pool of read-only connections, all used from
//! tokio's blocking threads.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::{
    Article, ArticleFields, ArticleNote, ArticleQuery, ArticleSummary, Author, Comment,
    CommentStub, Image, Kind, Listing, NewArticle, NewComment, NewUser, QueueQuery, QueuedComment,
    Result, Revision, SearchHit, Section, Session, Store, StoreError, Table, Tag, User, Value,
};
use crate::domain::{ArticleStatus, NoteKind, ReplyStatus, Role, search};

/// The schema's history, oldest first. Never edit a shipped migration: add a new one.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_init.sql"),
    include_str!("../../migrations/sqlite/0002_search_on_text_changes.sql"),
    include_str!("../../migrations/sqlite/0003_reply_shapes.sql"),
];

/// Read connections: at most this many, kept open. A read waits for a free one rather than
/// opening another: a new connection parses the schema and starts with a cold page cache,
/// which the profile showed costing replies on a large site.
const READERS: usize = 8;

#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
    /// New replies go to the group-commit thread (see [`commit_replies`]).
    replies: std::sync::mpsc::Sender<PendingReply>,
}

/// A reply waiting for the next group commit, and where to say how it went.
type PendingReply = (NewComment, tokio::sync::oneshot::Sender<Result<i64>>);

/// Replies committed together at most.
const GROUP_MAX: usize = 256;

/// Commits replies in groups: one transaction (and so one fsync) for every reply that arrived
/// while the previous group was being written, instead of one each. A reply is acknowledged
/// only once its group is committed; one that fails (a savepoint each) fails alone.
fn commit_replies(inner: Arc<Inner>, queue: std::sync::mpsc::Receiver<PendingReply>) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < GROUP_MAX {
            match queue.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let mut conn = inner.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut results: Vec<Result<i64>> = Vec::with_capacity(group.len());
        let committed = (|| -> Result<()> {
            let mut tx = conn.transaction()?;
            for (comment, _) in &group {
                let sp = tx.savepoint()?;
                let outcome = insert_comment_row(&sp, comment).map_err(StoreError::from);
                match outcome {
                    Ok(id) => {
                        sp.commit()?;
                        results.push(Ok(id));
                    }
                    Err(e) => {
                        drop(sp);
                        results.push(Err(e));
                    }
                }
            }
            tx.set_drop_behavior(rusqlite::DropBehavior::Rollback);
            tx.commit()?;
            Ok(())
        })();
        drop(conn);
        for (i, (_, reply)) in group.into_iter().enumerate() {
            let result = match &committed {
                Ok(()) => results.get(i).map_or_else(
                    || Err(StoreError::Database("the reply was not written".into())),
                    |r| match r {
                        Ok(id) => Ok(*id),
                        Err(e) => Err(StoreError::Database(e.to_string())),
                    },
                ),
                Err(e) => Err(StoreError::Database(format!("the commit failed: {e}"))),
            };
            let _ = reply.send(result);
        }
    }
}

fn insert_comment_row(conn: &Connection, c: &NewComment) -> rusqlite::Result<i64> {
    conn.prepare_cached(
        "INSERT INTO comments (article_id, parent_id, author_name, author_email,
             author_url, body, status, ip, held_reason, user_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
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
        c.held_reason,
        c.user_id,
        c.created_at
    ])?;
    Ok(conn.last_insert_rowid())
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// One permit a read connection.
    reading: tokio::sync::Semaphore,
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
        let inner = Inner {
            path: path.to_owned(),
            writer: Mutex::new(writer),
            readers: Mutex::default(),
            reading: tokio::sync::Semaphore::new(READERS),
        };
        let inner = Arc::new(inner);
        let (replies, queue) = std::sync::mpsc::channel();
        let committer = inner.clone();
        std::thread::Builder::new()
            .name("byline-replies".into())
            .spawn(move || commit_replies(committer, queue))
            .map_err(|e| StoreError::Database(format!("cannot start the writer: {e}")))?;
        Ok(Self { inner, replies })
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
        let _turn = self.inner.reading.acquire().await.expect("the semaphore is never closed");
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
        if idle.len() < READERS {
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

const ARTICLE_COLUMNS: &str = "a.id, a.slug, a.headline, a.standfirst, a.body_markdown, \
     a.body_html, a.status, s.id, s.name, s.slug, a.image_url, a.image_caption, a.image_alt, \
     a.date_path, a.published_at, a.created_at, a.updated_at, a.replies_open, a.reply_count, \
     a.word_count";

fn status_at(r: &Row, i: usize) -> rusqlite::Result<ArticleStatus> {
    let status: String = r.get(i)?;
    ArticleStatus::parse(&status).ok_or_else(|| bad_value(i, status))
}

fn bad_value(i: usize, value: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, value.into())
}

fn image_at(r: &Row, i: usize) -> rusqlite::Result<Option<Image>> {
    let url: Option<String> = r.get(i)?;
    Ok(match url {
        Some(url) => Some(Image { url, caption: r.get(i + 1)?, alt: r.get(i + 2)? }),
        None => None,
    })
}

/// An article's own row; authors and tags are read by [`complete_article`].
fn article_from_row(r: &Row) -> rusqlite::Result<Article> {
    let section = match r.get::<_, Option<i64>>(7)? {
        Some(id) => Some(Section { id, name: r.get(8)?, slug: r.get(9)? }),
        None => None,
    };
    Ok(Article {
        id: r.get(0)?,
        slug: r.get(1)?,
        headline: r.get(2)?,
        standfirst: r.get(3)?,
        body_markdown: r.get(4)?,
        body_html: r.get(5)?,
        status: status_at(r, 6)?,
        authors: Vec::new(),
        section,
        tags: Vec::new(),
        image: image_at(r, 10)?,
        date_path: r.get(13)?,
        published_at: r.get(14)?,
        created_at: r.get(15)?,
        updated_at: r.get(16)?,
        replies_open: r.get(17)?,
        reply_count: r.get(18)?,
        word_count: r.get(19)?,
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
      WHERE x.article_id = ?1 ORDER BY x.position";

const TAGS_OF_ARTICLE: &str = "SELECT t.id, t.name, t.slug FROM article_tags x
       JOIN tags t ON t.id = x.tag_id
      WHERE x.article_id = ?1 ORDER BY t.name, t.id";

fn comments_of_article_sql() -> String {
    format!(
        "SELECT {COMMENT_COLUMNS} FROM comments c
          WHERE c.article_id = ?1 AND c.status = ?2
          ORDER BY c.created_at, c.id"
    )
}

fn related_sql() -> String {
    format!(
        "SELECT {SUMMARY_COLUMNS} FROM articles a LEFT JOIN sections s ON s.id = a.section_id
          WHERE a.status = 'published' AND a.id <> ?1
            AND (a.section_id = (SELECT section_id FROM articles WHERE id = ?1)
                 OR EXISTS (SELECT 1 FROM article_tags x
                              JOIN article_tags y ON y.tag_id = x.tag_id
                             WHERE x.article_id = a.id AND y.article_id = ?1))
          ORDER BY a.published_at DESC, a.id DESC LIMIT ?2"
    )
}

const REPLY_SHAPES: &str = "SELECT id, parent_id, created_at FROM comments
      WHERE article_id = ?1 AND status = 'approved'";

const REPLIES_FROM_IP: &str = "SELECT count(*) FROM comments WHERE ip = ?1 AND created_at >= ?2";

const DUPLICATE_REPLY: &str = "SELECT EXISTS (SELECT 1 FROM comments
      WHERE lower(author_email) = lower(?2) AND article_id = ?1 AND body = ?3
        AND created_at >= ?4)";

fn reply_by_id_sql() -> String {
    format!("SELECT {COMMENT_COLUMNS} FROM comments c WHERE c.id = ?1")
}

/// Replies of an article among `count` ids (a poster's held replies).
fn replies_by_ids_sql(count: usize) -> String {
    format!(
        "SELECT {COMMENT_COLUMNS} FROM comments c
          WHERE c.article_id = ? AND c.id IN ({}) ORDER BY c.created_at, c.id",
        placeholders(count)
    )
}

fn listing_sql(listing: Listing) -> String {
    format!(
        "SELECT a.id FROM articles a WHERE a.status = 'published' AND {}
          ORDER BY a.published_at DESC, a.id DESC LIMIT 20",
        listing_condition(listing).0
    )
}

fn published_sql() -> String {
    format!(
        "SELECT {SUMMARY_COLUMNS} FROM articles a LEFT JOIN sections s ON s.id = a.section_id
          WHERE a.status = 'published' AND a.id IS NOT ?3
          ORDER BY a.published_at DESC, a.id DESC
          LIMIT ?1 OFFSET ?2"
    )
}

const COUNT_PUBLISHED: &str =
    "SELECT count(*) FROM articles WHERE status = 'published' AND id IS NOT ?1";

const NOTES_OF_ARTICLE: &str = "SELECT id, article_id, kind, body, created_at FROM article_notes
      WHERE article_id = ?1 ORDER BY created_at, id";

const HAS_APPROVED: &str = "SELECT EXISTS (SELECT 1 FROM comments
      WHERE lower(author_email) = lower(?1) AND status = 'approved')";

/// Reads one article (by `condition` on `a`) with its byline and tags.
fn load_article(
    conn: &Connection,
    condition: &str,
    param: &dyn rusqlite::ToSql,
) -> rusqlite::Result<Option<Article>> {
    let article = conn
        .prepare_cached(&article_sql(condition))?
        .query_row([param], article_from_row)
        .optional()?;
    article.map(|a| complete_article(conn, a)).transpose()
}

fn complete_article(conn: &Connection, mut article: Article) -> rusqlite::Result<Article> {
    article.authors = conn
        .prepare_cached(AUTHORS_OF_ARTICLE)?
        .query_map([article.id], |r| Ok(Author { id: r.get(0)?, name: r.get(1)?, bio: r.get(2)? }))?
        .collect::<rusqlite::Result<_>>()?;
    article.tags = conn
        .prepare_cached(TAGS_OF_ARTICLE)?
        .query_map([article.id], |r| Ok(Tag { id: r.get(0)?, name: r.get(1)?, slug: r.get(2)? }))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(article)
}

/// Columns of [`ArticleSummary`]; authors' names joined by U+001F, which no name contains.
const SUMMARY_COLUMNS: &str = "a.id, a.slug, a.headline, a.standfirst, a.status,
     (SELECT group_concat(au.name, char(31) ORDER BY x.position)
        FROM article_authors x JOIN authors au ON au.id = x.author_id
       WHERE x.article_id = a.id),
     s.name, a.image_url, a.image_caption, a.image_alt, a.date_path, a.published_at,
     a.updated_at, a.reply_count, a.word_count";

fn summary_from_row(r: &Row) -> rusqlite::Result<ArticleSummary> {
    let names: Option<String> = r.get(5)?;
    Ok(ArticleSummary {
        id: r.get(0)?,
        slug: r.get(1)?,
        headline: r.get(2)?,
        standfirst: r.get(3)?,
        status: status_at(r, 4)?,
        author_names: names
            .map(|n| n.split('\u{1f}').map(str::to_owned).collect())
            .unwrap_or_default(),
        section_name: r.get(6)?,
        image: image_at(r, 7)?,
        date_path: r.get(10)?,
        published_at: r.get(11)?,
        updated_at: r.get(12)?,
        reply_count: r.get(13)?,
        word_count: r.get(14)?,
    })
}

/// The condition on `a` that picks a listing's articles, and its value.
fn listing_condition(listing: Listing) -> (&'static str, i64) {
    match listing {
        Listing::Section(id) => ("a.section_id = ?1", id),
        Listing::Tag(id) => (
            "EXISTS (SELECT 1 FROM article_tags x WHERE x.article_id = a.id AND x.tag_id = ?1)",
            id,
        ),
        Listing::Author(id) => (
            "EXISTS (SELECT 1 FROM article_authors x WHERE x.article_id = a.id AND x.author_id = ?1)",
            id,
        ),
    }
}

/// Writes an article's byline and tags, replacing any it had.
fn write_links(
    tx: &rusqlite::Transaction,
    id: i64,
    fields: &ArticleFields,
) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM article_authors WHERE article_id = ?1", [id])?;
    tx.execute("DELETE FROM article_tags WHERE article_id = ?1", [id])?;
    for (position, author_id) in fields.author_ids.iter().enumerate() {
        tx.execute(
            "INSERT INTO article_authors (article_id, author_id, position) VALUES (?1, ?2, ?3)
             ON CONFLICT DO NOTHING",
            params![id, author_id, position as i64],
        )?;
    }
    for tag_id in &fields.tag_ids {
        tx.execute(
            "INSERT INTO article_tags (article_id, tag_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![id, tag_id],
        )?;
    }
    // An article taking back one of its old slugs no longer needs that redirect.
    tx.execute("DELETE FROM slug_redirects WHERE slug = ?1", [&fields.slug])?;
    Ok(())
}

fn slug_conflict(error: rusqlite::Error) -> StoreError {
    match StoreError::from(error) {
        StoreError::Conflict(_) => StoreError::Conflict("the slug"),
        other => other,
    }
}

const USER_COLUMNS: &str = "u.id, u.email, u.role, u.disabled, u.created_at, \
     u.password_changed_at, au.id, au.name, au.bio";

fn user_from_row(r: &Row) -> rusqlite::Result<User> {
    let role: String = r.get(2)?;
    Ok(User {
        id: r.get(0)?,
        email: r.get(1)?,
        role: Role::parse(&role).ok_or_else(|| bad_value(2, role))?,
        disabled: r.get(3)?,
        created_at: r.get(4)?,
        password_changed_at: r.get(5)?,
        author: Author { id: r.get(6)?, name: r.get(7)?, bio: r.get(8)? },
    })
}

const REVISION_COLUMNS: &str = "id, article_id, user_id, created_at, headline, standfirst, \
     slug, body_markdown, section, tags, authors, image_url, image_caption, image_alt, \
     replies_open";

fn revision_from_row(r: &Row) -> rusqlite::Result<Revision> {
    Ok(Revision {
        id: r.get(0)?,
        article_id: r.get(1)?,
        user_id: r.get(2)?,
        created_at: r.get(3)?,
        headline: r.get(4)?,
        standfirst: r.get(5)?,
        slug: r.get(6)?,
        body_markdown: r.get(7)?,
        section: r.get(8)?,
        tags: r.get(9)?,
        authors: r.get(10)?,
        image_url: r.get(11)?,
        image_caption: r.get(12)?,
        image_alt: r.get(13)?,
        replies_open: r.get(14)?,
    })
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
        staff: r.get(8)?,
    })
}

/// Columns of [`QueuedComment`], after [`COMMENT_COLUMNS`].
const QUEUE_COLUMNS: &str = "c.author_email, c.ip, c.held_reason, a.headline, a.slug, a.date_path";

fn queued_from_row(r: &Row) -> rusqlite::Result<QueuedComment> {
    Ok(QueuedComment {
        comment: comment_from_row(r)?,
        author_email: r.get(9)?,
        ip: r.get(10)?,
        held_reason: r.get(11)?,
        article_headline: r.get(12)?,
        article_slug: r.get(13)?,
        article_date_path: r.get(14)?,
    })
}

/// The queue's `WHERE` clause (without status) and its values.
fn queue_filter(query: &QueueQuery) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value as V;
    let mut conditions = vec!["1 = 1".to_owned()];
    let mut values = Vec::new();
    if let Some(article) = query.article_id {
        values.push(V::Integer(article));
        conditions.push(format!("c.article_id = ?{}", values.len()));
    }
    if let Some(email) = query.email.as_deref().filter(|e| !e.trim().is_empty()) {
        values.push(V::Text(email.trim().to_owned()));
        conditions.push(format!("lower(c.author_email) = lower(?{})", values.len()));
    }
    if let Some(author) = query.byline_author_id {
        values.push(V::Integer(author));
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM article_authors x
                      WHERE x.article_id = c.article_id AND x.author_id = ?{})",
            values.len()
        ));
    }
    (conditions.join(" AND "), values)
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

/// A search hit from [`SUMMARY_COLUMNS`] and the body; the snippet is made here, the same way
/// on both backends.
fn hit_from_row(r: &Row, terms: &[String]) -> rusqlite::Result<SearchHit> {
    let article = summary_from_row(r)?;
    let body: String = r.get(15)?;
    let text = format!("{} {body}", article.standfirst);
    Ok(SearchHit { snippet: search::snippet(&text, terms, 160), article })
}

/// Search by plain text, for terms a word index cannot find (scripts without spaces): headline
/// matches first, then the newest.
fn plain_search(
    conn: &Connection,
    terms: &[String],
    offset: u64,
    limit: u64,
) -> rusqlite::Result<(Vec<SearchHit>, u64)> {
    let text = "lower(a.headline || ' ' || a.standfirst || ' ' || a.body_markdown)";
    let conditions: Vec<String> =
        (1..=terms.len()).map(|i| format!("instr({text}, ?{i}) > 0")).collect();
    let filter = conditions.join(" AND ");
    let total: i64 = conn
        .prepare(&format!(
            "SELECT count(*) FROM articles a WHERE a.status = 'published' AND {filter}"
        ))?
        .query_row(rusqlite::params_from_iter(terms), |r| r.get(0))?;
    let sql = format!(
        "SELECT {SUMMARY_COLUMNS}, a.body_markdown
           FROM articles a LEFT JOIN sections s ON s.id = a.section_id
          WHERE a.status = 'published' AND {filter}
          ORDER BY instr(lower(a.headline), ?1) = 0, a.published_at DESC, a.id DESC
          LIMIT {limit} OFFSET {offset}"
    );
    let hits = conn
        .prepare(&sql)?
        .query_map(rusqlite::params_from_iter(terms), |r| hit_from_row(r, terms))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((hits, total as u64))
}

/// `?, ?, ?` for an `IN` list.
fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

#[async_trait]
impl Store for SqliteStore {
    async fn published_articles(
        &self,
        offset: u64,
        limit: u64,
        except: Option<i64>,
    ) -> Result<Vec<ArticleSummary>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&published_sql())?;
            let rows =
                stmt.query_map(params![limit as i64, offset as i64, except], summary_from_row)?;
            rows.collect()
        })
        .await
    }

    async fn count_published_articles(&self, except: Option<i64>) -> Result<u64> {
        self.read(move |conn| {
            conn.prepare_cached(COUNT_PUBLISHED)?
                .query_row([except], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
        })
        .await
    }

    async fn list_articles(&self, query: &ArticleQuery) -> Result<(Vec<ArticleSummary>, u64)> {
        let query = query.clone();
        self.read(move |conn| {
            use rusqlite::types::Value as V;
            let mut conditions = vec!["1 = 1".to_owned()];
            let mut values: Vec<V> = Vec::new();
            if let Some(status) = query.status {
                values.push(V::Text(status.as_str().into()));
                conditions.push(format!("a.status = ?{}", values.len()));
            }
            if let Some(author) = query.author_id {
                values.push(V::Integer(author));
                conditions.push(format!(
                    "EXISTS (SELECT 1 FROM article_authors x
                              WHERE x.article_id = a.id AND x.author_id = ?{})",
                    values.len()
                ));
            }
            if let Some(section) = query.section_id {
                values.push(V::Integer(section));
                conditions.push(format!("a.section_id = ?{}", values.len()));
            }
            if let Some(words) = query.headline.as_deref().filter(|w| !w.trim().is_empty()) {
                values.push(V::Text(like_pattern(&words.trim().to_lowercase())));
                conditions.push(format!("lower(a.headline) LIKE ?{} ESCAPE '\\'", values.len()));
            }
            let filter = conditions.join(" AND ");
            let count_sql = format!("SELECT count(*) FROM articles a WHERE {filter}");
            let total: i64 = conn
                .prepare(&count_sql)?
                .query_row(rusqlite::params_from_iter(values.iter()), |r| r.get(0))?;
            let sql = format!(
                "SELECT {SUMMARY_COLUMNS} FROM articles a LEFT JOIN sections s ON s.id = a.section_id
                  WHERE {filter} ORDER BY a.updated_at DESC, a.id DESC LIMIT {} OFFSET {}",
                query.limit, query.offset
            );
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(values.iter()), summary_from_row)?;
            Ok((rows.collect::<rusqlite::Result<Vec<_>>>()?, total as u64))
        })
        .await
    }

    async fn published_in(
        &self,
        listing: Listing,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<ArticleSummary>, u64)> {
        self.read(move |conn| {
            let (condition, id) = listing_condition(listing);
            let count = format!(
                "SELECT count(*) FROM articles a WHERE a.status = 'published' AND {condition}"
            );
            let total: i64 = conn.prepare_cached(&count)?.query_row([id], |r| r.get(0))?;
            let sql = format!(
                "SELECT {SUMMARY_COLUMNS} FROM articles a LEFT JOIN sections s ON s.id = a.section_id
                  WHERE a.status = 'published' AND {condition}
                  ORDER BY a.published_at DESC, a.id DESC LIMIT {limit} OFFSET {offset}"
            );
            let found = conn
                .prepare_cached(&sql)?
                .query_map([id], summary_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok((found, total as u64))
        })
        .await
    }

    async fn related_articles(&self, article_id: i64, limit: u64) -> Result<Vec<ArticleSummary>> {
        self.read(move |conn| {
            let sql = related_sql();
            conn.prepare_cached(&sql)?
                .query_map(params![article_id, limit as i64], summary_from_row)?
                .collect()
        })
        .await
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
        let terms = terms.to_vec();
        self.read(move |conn| {
            if terms.iter().any(|t| search::is_cjk(t)) {
                return plain_search(conn, &terms, offset, limit);
            }
            // Each term a quoted prefix: the reader's text is never FTS5 syntax.
            let query: Vec<String> = terms.iter().map(|t| format!("\"{}\"*", t.replace('"', "\"\""))).collect();
            let query = query.join(" ");
            let total: i64 = conn
                .prepare_cached(
                    "SELECT count(*) FROM articles_search JOIN articles a ON a.id = articles_search.rowid
                      WHERE articles_search MATCH ?1 AND a.status = 'published'",
                )?
                .query_row([&query], |r| r.get(0))?;
            let sql = format!(
                "SELECT {SUMMARY_COLUMNS}, a.body_markdown
                   FROM articles_search JOIN articles a ON a.id = articles_search.rowid
                   LEFT JOIN sections s ON s.id = a.section_id
                  WHERE articles_search MATCH ?1 AND a.status = 'published'
                  ORDER BY bm25(articles_search, 10.0, 4.0, 1.0), a.published_at DESC, a.id DESC
                  LIMIT {limit} OFFSET {offset}"
            );
            let hits = conn
                .prepare_cached(&sql)?
                .query_map([&query], |r| hit_from_row(r, &terms))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok((hits, total as u64))
        })
        .await
    }

    async fn section_by_slug(&self, slug: &str) -> Result<Option<Section>> {
        let slug = slug.to_owned();
        self.read(move |conn| {
            conn.prepare_cached("SELECT id, name, slug FROM sections WHERE slug = ?1")?
                .query_row([slug], |r| {
                    Ok(Section { id: r.get(0)?, name: r.get(1)?, slug: r.get(2)? })
                })
                .optional()
        })
        .await
    }

    async fn tag_by_slug(&self, slug: &str) -> Result<Option<Tag>> {
        let slug = slug.to_owned();
        self.read(move |conn| {
            conn.prepare_cached("SELECT id, name, slug FROM tags WHERE slug = ?1")?
                .query_row([slug], |r| Ok(Tag { id: r.get(0)?, name: r.get(1)?, slug: r.get(2)? }))
                .optional()
        })
        .await
    }

    async fn author(&self, id: i64) -> Result<Option<Author>> {
        self.read(move |conn| {
            conn.prepare_cached("SELECT id, name, bio FROM authors WHERE id = ?1")?
                .query_row([id], |r| Ok(Author { id: r.get(0)?, name: r.get(1)?, bio: r.get(2)? }))
                .optional()
        })
        .await
    }

    async fn article_by_slug(&self, slug: &str) -> Result<Option<Article>> {
        let slug = slug.to_owned();
        self.read(move |conn| load_article(conn, "a.slug = ?1 AND a.status = 'published'", &slug))
            .await
    }

    async fn article(&self, id: i64) -> Result<Option<Article>> {
        self.read(move |conn| load_article(conn, "a.id = ?1", &id)).await
    }

    async fn slug_exists(&self, slug: &str) -> Result<bool> {
        let slug = slug.to_owned();
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM articles WHERE slug = ?1)
                     OR EXISTS (SELECT 1 FROM slug_redirects WHERE slug = ?1)",
            )?
            .query_row([slug], |r| r.get(0))
        })
        .await
    }

    async fn insert_article(&self, a: &NewArticle) -> Result<i64> {
        let a = a.clone();
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let f = &a.fields;
            let image = f.image.as_ref();
            tx.execute(
                "INSERT INTO articles (slug, headline, standfirst, body_markdown, body_html,
                     status, section_id, image_url, image_caption, image_alt, date_path,
                     published_at, created_at, updated_at, replies_open, word_count)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, ?14, ?15)",
                params![
                    f.slug,
                    f.headline,
                    f.standfirst,
                    f.body_markdown,
                    f.body_html,
                    a.status.as_str(),
                    f.section_id,
                    image.map(|i| &i.url),
                    image.map_or("", |i| &i.caption),
                    image.map_or("", |i| &i.alt),
                    a.date_path,
                    a.published_at,
                    a.created_at,
                    f.replies_open,
                    f.word_count
                ],
            )
            .map_err(slug_conflict)?;
            let id = tx.last_insert_rowid();
            write_links(&tx, id, f)?;
            tx.commit()?;
            Ok(id)
        })
        .await
    }

    async fn update_article(&self, id: i64, f: &ArticleFields, updated_at: i64) -> Result<()> {
        let f = f.clone();
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let image = f.image.as_ref();
            let changed = tx
                .execute(
                    "UPDATE articles SET slug = ?2, headline = ?3, standfirst = ?4,
                         body_markdown = ?5, body_html = ?6, section_id = ?7, image_url = ?8,
                         image_caption = ?9, image_alt = ?10, replies_open = ?11,
                         updated_at = ?12, word_count = ?13
                      WHERE id = ?1",
                    params![
                        id,
                        f.slug,
                        f.headline,
                        f.standfirst,
                        f.body_markdown,
                        f.body_html,
                        f.section_id,
                        image.map(|i| &i.url),
                        image.map_or("", |i| &i.caption),
                        image.map_or("", |i| &i.alt),
                        f.replies_open,
                        updated_at,
                        f.word_count
                    ],
                )
                .map_err(slug_conflict)?;
            if changed == 0 {
                return Err(StoreError::NotFound("the article"));
            }
            write_links(&tx, id, &f)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn set_article_status(
        &self,
        id: i64,
        status: ArticleStatus,
        date_path: Option<&str>,
        published_at: Option<i64>,
        updated_at: i64,
    ) -> Result<()> {
        let date_path = date_path.map(str::to_owned);
        self.write(move |conn| {
            let changed = conn.execute(
                "UPDATE articles SET status = ?2, date_path = ?3, published_at = ?4,
                     updated_at = ?5
                  WHERE id = ?1",
                params![id, status.as_str(), date_path, published_at, updated_at],
            )?;
            if changed == 0 {
                return Err(StoreError::NotFound("the article"));
            }
            Ok(())
        })
        .await
    }

    async fn due_articles(&self, now: i64) -> Result<Vec<Article>> {
        self.read(move |conn| {
            let ids: Vec<i64> = conn
                .prepare_cached(
                    "SELECT id FROM articles WHERE status = 'scheduled' AND published_at <= ?1
                      ORDER BY published_at, id",
                )?
                .query_map([now], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let mut due = Vec::new();
            for id in ids {
                due.extend(load_article(conn, "a.id = ?1", &id)?);
            }
            Ok(due)
        })
        .await
    }

    async fn add_slug_redirect(&self, slug: &str, article_id: i64) -> Result<()> {
        let slug = slug.to_owned();
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO slug_redirects (slug, article_id) VALUES (?1, ?2)
                 ON CONFLICT (slug) DO UPDATE SET article_id = excluded.article_id",
                params![slug, article_id],
            )?;
            Ok(())
        })
        .await
    }

    async fn slug_redirect(&self, slug: &str) -> Result<Option<i64>> {
        let slug = slug.to_owned();
        self.read(move |conn| {
            conn.prepare_cached("SELECT article_id FROM slug_redirects WHERE slug = ?1")?
                .query_row([slug], |r| r.get(0))
                .optional()
        })
        .await
    }

    async fn insert_revision(&self, r: &Revision) -> Result<i64> {
        let r = r.clone();
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO revisions (article_id, user_id, created_at, headline, standfirst,
                     slug, body_markdown, section, tags, authors, image_url, image_caption,
                     image_alt, replies_open)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                params![
                    r.article_id,
                    r.user_id,
                    r.created_at,
                    r.headline,
                    r.standfirst,
                    r.slug,
                    r.body_markdown,
                    r.section,
                    r.tags,
                    r.authors,
                    r.image_url,
                    r.image_caption,
                    r.image_alt,
                    r.replies_open
                ],
            )?;
            Ok(conn.last_insert_rowid())
        })
        .await
    }

    async fn revisions(&self, article_id: i64) -> Result<Vec<Revision>> {
        self.read(move |conn| {
            let sql = format!(
                "SELECT {REVISION_COLUMNS} FROM revisions WHERE article_id = ?1 ORDER BY id DESC"
            );
            conn.prepare_cached(&sql)?.query_map([article_id], revision_from_row)?.collect()
        })
        .await
    }

    async fn revision(&self, id: i64) -> Result<Option<Revision>> {
        self.read(move |conn| {
            let sql = format!("SELECT {REVISION_COLUMNS} FROM revisions WHERE id = ?1");
            conn.prepare_cached(&sql)?.query_row([id], revision_from_row).optional()
        })
        .await
    }

    async fn add_note(&self, article_id: i64, kind: NoteKind, body: &str, at: i64) -> Result<i64> {
        let body = body.to_owned();
        self.write(move |conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "INSERT INTO article_notes (article_id, kind, body, created_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![article_id, kind.as_str(), body, at],
            )?;
            let id = tx.last_insert_rowid();
            tx.execute(
                "UPDATE articles SET updated_at = ?2 WHERE id = ?1",
                params![article_id, at],
            )?;
            tx.commit()?;
            Ok(id)
        })
        .await
    }

    async fn notes(&self, article_id: i64) -> Result<Vec<ArticleNote>> {
        self.read(move |conn| {
            conn.prepare_cached(NOTES_OF_ARTICLE)?
                .query_map([article_id], |r| {
                    let kind: String = r.get(2)?;
                    Ok(ArticleNote {
                        id: r.get(0)?,
                        article_id: r.get(1)?,
                        kind: NoteKind::parse(&kind).ok_or_else(|| bad_value(2, kind))?,
                        body: r.get(3)?,
                        created_at: r.get(4)?,
                    })
                })?
                .collect()
        })
        .await
    }

    async fn find_or_create_author(&self, name: &str) -> Result<Author> {
        let name = name.to_owned();
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let find = |tx: &rusqlite::Transaction| {
                tx.query_row(
                    "SELECT id, name, bio FROM authors WHERE name = ?1 ORDER BY id LIMIT 1",
                    [&name],
                    |r| Ok(Author { id: r.get(0)?, name: r.get(1)?, bio: r.get(2)? }),
                )
                .optional()
            };
            let author = match find(&tx)? {
                Some(author) => author,
                None => {
                    tx.execute(
                        "INSERT INTO authors (name, created_at) VALUES (?1, ?2)",
                        params![name, crate::domain::time::now()],
                    )?;
                    find(&tx)?.ok_or(StoreError::NotFound("the new author"))?
                }
            };
            tx.commit()?;
            Ok(author)
        })
        .await
    }

    async fn authors(&self) -> Result<Vec<Author>> {
        self.read(|conn| {
            conn.prepare_cached("SELECT id, name, bio FROM authors ORDER BY name, id")?
                .query_map([], |r| Ok(Author { id: r.get(0)?, name: r.get(1)?, bio: r.get(2)? }))?
                .collect()
        })
        .await
    }

    async fn update_author(&self, id: i64, name: &str, bio: &str) -> Result<()> {
        let (name, bio) = (name.to_owned(), bio.to_owned());
        self.write(move |conn| {
            conn.execute(
                "UPDATE authors SET name = ?2, bio = ?3 WHERE id = ?1",
                params![id, name, bio],
            )?;
            Ok(())
        })
        .await
    }

    async fn sections(&self) -> Result<Vec<Section>> {
        self.read(|conn| {
            conn.prepare_cached("SELECT id, name, slug FROM sections ORDER BY name, id")?
                .query_map([], |r| Ok(Section { id: r.get(0)?, name: r.get(1)?, slug: r.get(2)? }))?
                .collect()
        })
        .await
    }

    async fn find_or_create_section(&self, name: &str, slug: &str) -> Result<Section> {
        let (name, slug) = (name.to_owned(), slug.to_owned());
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO sections (name, slug) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![name, slug],
            )?;
            Ok(conn.query_row(
                "SELECT id, name, slug FROM sections WHERE name = ?1",
                [&name],
                |r| Ok(Section { id: r.get(0)?, name: r.get(1)?, slug: r.get(2)? }),
            )?)
        })
        .await
    }

    async fn find_or_create_tags(&self, tags: &[(String, String)]) -> Result<Vec<Tag>> {
        let tags = tags.to_vec();
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let mut found = Vec::new();
            for (name, slug) in tags {
                tx.execute(
                    "INSERT INTO tags (name, slug) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                    params![name, slug],
                )?;
                found.push(tx.query_row(
                    "SELECT id, name, slug FROM tags WHERE name = ?1",
                    [&name],
                    |r| Ok(Tag { id: r.get(0)?, name: r.get(1)?, slug: r.get(2)? }),
                )?);
            }
            tx.commit()?;
            Ok(found)
        })
        .await
    }

    async fn create_user(&self, user: &NewUser) -> Result<User> {
        let user = user.clone();
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let taken: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower(?1))",
                [&user.email],
                |r| r.get(0),
            )?;
            if taken {
                return Err(StoreError::Conflict("the email address"));
            }
            // An author record of that name without an account (say, from the command line)
            // becomes this account's; otherwise a new one is made.
            let existing: Option<i64> = tx
                .query_row(
                    "SELECT au.id FROM authors au WHERE au.name = ?1
                        AND NOT EXISTS (SELECT 1 FROM users u WHERE u.author_id = au.id)
                      ORDER BY au.id LIMIT 1",
                    [&user.name],
                    |r| r.get(0),
                )
                .optional()?;
            let author_id = match existing {
                Some(id) => id,
                None => {
                    tx.execute(
                        "INSERT INTO authors (name, created_at) VALUES (?1, ?2)",
                        params![user.name, user.created_at],
                    )?;
                    tx.last_insert_rowid()
                }
            };
            tx.execute(
                "INSERT INTO users (author_id, email, role, password_hash, created_at,
                     password_changed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                params![author_id, user.email, user.role.as_str(), user.password_hash, user.created_at],
            )?;
            let id = tx.last_insert_rowid();
            let sql = format!("SELECT {USER_COLUMNS} FROM users u JOIN authors au ON au.id = u.author_id WHERE u.id = ?1");
            let created = tx.query_row(&sql, [id], user_from_row)?;
            tx.commit()?;
            Ok(created)
        })
        .await
    }

    async fn user(&self, id: i64) -> Result<Option<User>> {
        self.read(move |conn| {
            let sql = format!(
                "SELECT {USER_COLUMNS} FROM users u JOIN authors au ON au.id = u.author_id
                  WHERE u.id = ?1"
            );
            conn.prepare_cached(&sql)?.query_row([id], user_from_row).optional()
        })
        .await
    }

    async fn user_credentials(&self, email: &str) -> Result<Option<(User, String)>> {
        let email = email.to_owned();
        self.read(move |conn| {
            let sql = format!(
                "SELECT {USER_COLUMNS}, u.password_hash FROM users u
                   JOIN authors au ON au.id = u.author_id
                  WHERE lower(u.email) = lower(?1)"
            );
            conn.prepare_cached(&sql)?
                .query_row([email], |r| Ok((user_from_row(r)?, r.get(9)?)))
                .optional()
        })
        .await
    }

    async fn users(&self) -> Result<Vec<User>> {
        self.read(|conn| {
            let sql = format!(
                "SELECT {USER_COLUMNS} FROM users u JOIN authors au ON au.id = u.author_id
                  ORDER BY au.name, u.id"
            );
            conn.prepare_cached(&sql)?.query_map([], user_from_row)?.collect()
        })
        .await
    }

    async fn update_user(&self, id: i64, role: Role, disabled: bool) -> Result<bool> {
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let changed = tx.execute(
                "UPDATE users SET role = ?2, disabled = ?3 WHERE id = ?1",
                params![id, role.as_str(), disabled],
            )?;
            if disabled {
                tx.execute("DELETE FROM sessions WHERE user_id = ?1", [id])?;
            }
            tx.commit()?;
            Ok(changed > 0)
        })
        .await
    }

    async fn set_password(&self, user_id: i64, password_hash: &str, at: i64) -> Result<()> {
        let hash = password_hash.to_owned();
        self.write(move |conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "UPDATE users SET password_hash = ?2, password_changed_at = ?3 WHERE id = ?1",
                params![user_id, hash, at],
            )?;
            tx.execute("DELETE FROM sessions WHERE user_id = ?1", [user_id])?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn create_session(&self, s: &Session) -> Result<()> {
        let s = s.clone();
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![s.token_hash, s.user_id, s.csrf_token, s.created_at, s.expires_at],
            )?;
            Ok(())
        })
        .await
    }

    async fn session(&self, token_hash: &str, now: i64) -> Result<Option<(Session, User)>> {
        let token_hash = token_hash.to_owned();
        self.read(move |conn| {
            let sql = format!(
                "SELECT {USER_COLUMNS}, s.token_hash, s.csrf_token, s.created_at, s.expires_at
                   FROM sessions s JOIN users u ON u.id = s.user_id
                   JOIN authors au ON au.id = u.author_id
                  WHERE s.token_hash = ?1 AND s.expires_at > ?2 AND NOT u.disabled"
            );
            conn.prepare_cached(&sql)?
                .query_row(params![token_hash, now], |r| {
                    let user = user_from_row(r)?;
                    let session = Session {
                        token_hash: r.get(9)?,
                        user_id: user.id,
                        csrf_token: r.get(10)?,
                        created_at: r.get(11)?,
                        expires_at: r.get(12)?,
                    };
                    Ok((session, user))
                })
                .optional()
        })
        .await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        let token_hash = token_hash.to_owned();
        self.write(move |conn| {
            conn.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
            Ok(())
        })
        .await
    }

    async fn login_failures(&self, key: &str, since: i64) -> Result<u64> {
        let key = key.to_owned();
        self.read(move |conn| {
            conn.prepare_cached("SELECT count(*) FROM login_failures WHERE key = ?1 AND at >= ?2")?
                .query_row(params![key, since], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
        })
        .await
    }

    async fn record_login_failure(&self, key: &str, at: i64) -> Result<()> {
        let key = key.to_owned();
        self.write(move |conn| {
            conn.execute("INSERT INTO login_failures (key, at) VALUES (?1, ?2)", params![key, at])?;
            Ok(())
        })
        .await
    }

    async fn clear_login_failures(&self, key: &str, before: i64) -> Result<()> {
        let key = key.to_owned();
        self.write(move |conn| {
            conn.execute(
                "DELETE FROM login_failures WHERE key = ?1 OR at < ?2",
                params![key, before],
            )?;
            Ok(())
        })
        .await
    }

    async fn comments_of_article(
        &self,
        article_id: i64,
        status: ReplyStatus,
    ) -> Result<Vec<Comment>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&comments_of_article_sql())?;
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
            let mut stmt = conn.prepare(&replies_by_ids_sql(ids.len()))?;
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

    async fn reply_shapes(&self, article_id: i64) -> Result<Vec<CommentStub>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(REPLY_SHAPES)?;
            let rows = stmt.query_map([article_id], |r| {
                Ok(CommentStub { id: r.get(0)?, parent_id: r.get(1)?, created_at: r.get(2)? })
            })?;
            rows.collect()
        })
        .await
    }

    async fn comment(&self, id: i64) -> Result<Option<Comment>> {
        self.read(move |conn| {
            conn.prepare_cached(&reply_by_id_sql())?.query_row([id], comment_from_row).optional()
        })
        .await
    }

    async fn has_approved_comment_from(&self, email: &str) -> Result<bool> {
        let email = email.to_owned();
        self.read(move |conn| conn.prepare_cached(HAS_APPROVED)?.query_row([email], |r| r.get(0)))
            .await
    }

    async fn insert_comment(&self, c: &NewComment) -> Result<i64> {
        let (done, result) = tokio::sync::oneshot::channel();
        self.replies
            .send((c.clone(), done))
            .map_err(|_| StoreError::Database("the reply writer has stopped".into()))?;
        result.await.map_err(|_| StoreError::Database("the reply writer has stopped".into()))?
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

    async fn set_comment_body(&self, id: i64, body: &str) -> Result<bool> {
        let body = body.to_owned();
        self.write(move |conn| {
            Ok(conn.execute("UPDATE comments SET body = ?2 WHERE id = ?1", params![id, body])? > 0)
        })
        .await
    }

    async fn queue(&self, query: &QueueQuery) -> Result<(Vec<QueuedComment>, u64)> {
        let query = query.clone();
        self.read(move |conn| {
            let (mut filter, mut values) = queue_filter(&query);
            if let Some(status) = query.status {
                values.push(rusqlite::types::Value::Text(status.as_str().into()));
                filter.push_str(&format!(" AND c.status = ?{}", values.len()));
            }
            let total: i64 = conn
                .prepare(&format!("SELECT count(*) FROM comments c WHERE {filter}"))?
                .query_row(rusqlite::params_from_iter(values.iter()), |r| r.get(0))?;
            let sql = format!(
                "SELECT {COMMENT_COLUMNS}, {QUEUE_COLUMNS} FROM comments c
                   JOIN articles a ON a.id = c.article_id
                  WHERE {filter} ORDER BY c.created_at DESC, c.id DESC LIMIT {} OFFSET {}",
                query.limit, query.offset
            );
            let mut stmt = conn.prepare(&sql)?;
            let rows =
                stmt.query_map(rusqlite::params_from_iter(values.iter()), queued_from_row)?;
            Ok((rows.collect::<rusqlite::Result<Vec<_>>>()?, total as u64))
        })
        .await
    }

    async fn queue_counts(&self, query: &QueueQuery) -> Result<Vec<(ReplyStatus, u64)>> {
        let query = query.clone();
        self.read(move |conn| {
            let (filter, values) = queue_filter(&query);
            let sql = format!(
                "SELECT c.status, count(*) FROM comments c WHERE {filter} GROUP BY c.status"
            );
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(values.iter()), |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
            })?;
            let mut counts = Vec::new();
            for row in rows {
                let (status, n) = row?;
                if let Some(status) = ReplyStatus::parse(&status) {
                    counts.push((status, n as u64));
                }
            }
            Ok(counts)
        })
        .await
    }

    async fn comments_from_ip_since(&self, ip: &str, since: i64) -> Result<u64> {
        let ip = ip.to_owned();
        self.read(move |conn| {
            conn.prepare_cached(REPLIES_FROM_IP)?
                .query_row(params![ip, since], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
        })
        .await
    }

    async fn duplicate_comment(
        &self,
        article_id: i64,
        email: &str,
        body: &str,
        since: i64,
    ) -> Result<bool> {
        let (email, body) = (email.to_owned(), body.to_owned());
        self.read(move |conn| {
            conn.prepare_cached(DUPLICATE_REPLY)?
                .query_row(params![article_id, email, body, since], |r| r.get(0))
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

    async fn set_setting(&self, key: &str, value: Option<&str>) -> Result<()> {
        let (key, value) = (key.to_owned(), value.map(str::to_owned));
        self.write(move |conn| {
            match value {
                Some(value) => conn.execute(
                    "INSERT INTO settings (key, value) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    params![key, value],
                )?,
                None => conn.execute("DELETE FROM settings WHERE key = ?1", [key])?,
            };
            Ok(())
        })
        .await
    }

    async fn announce_change(&self, _scope: &str) -> Result<()> {
        Ok(())
    }

    fn changes(&self) -> Option<tokio::sync::broadcast::Receiver<String>> {
        None
    }

    async fn publish_scheduled(
        &self,
        id: i64,
        date_path: &str,
        published_at: i64,
        now: i64,
    ) -> Result<bool> {
        let date_path = date_path.to_owned();
        self.write(move |conn| {
            let changed = conn.execute(
                "UPDATE articles SET status = 'published', date_path = ?2, published_at = ?3,
                     updated_at = ?4
                  WHERE id = ?1 AND status = 'scheduled'",
                params![id, date_path, published_at, now],
            )?;
            Ok(changed > 0)
        })
        .await
    }

    async fn settings_with_prefix(&self, prefix: &str) -> Result<Vec<(String, String)>> {
        let prefix = prefix.to_owned();
        self.read(move |conn| {
            conn.prepare_cached(
                "SELECT key, value FROM settings WHERE substr(key, 1, length(?1)) = ?1 ORDER BY key",
            )?
            .query_map([prefix], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect()
        })
        .await
    }

    async fn ping(&self) -> Result<()> {
        self.read(|conn| conn.query_row("SELECT 1", [], |_| Ok(()))).await
    }

    async fn explain_page_queries(&self) -> Result<Vec<(&'static str, Vec<String>)>> {
        self.read(|conn| {
            let queries: Vec<(&'static str, String, usize)> = vec![
                ("article by slug", article_sql("a.slug = ?1 AND a.status = 'published'"), 1),
                ("byline", AUTHORS_OF_ARTICLE.into(), 1),
                ("tags", TAGS_OF_ARTICLE.into(), 1),
                ("replies", comments_of_article_sql(), 2),
                ("front page", published_sql(), 3),
                ("count published", COUNT_PUBLISHED.into(), 1),
                ("notes", NOTES_OF_ARTICLE.into(), 1),
                ("first-time check", HAS_APPROVED.into(), 1),
                ("section page", listing_sql(Listing::Section(1)), 1),
                ("tag page", listing_sql(Listing::Tag(1)), 1),
                ("author page", listing_sql(Listing::Author(1)), 1),
                ("related articles", related_sql(), 2),
                ("reply by id", reply_by_id_sql(), 1),
                ("thread shape", REPLY_SHAPES.into(), 1),
                ("held replies", replies_by_ids_sql(2), 3),
                ("rate limit", REPLIES_FROM_IP.into(), 2),
                ("duplicate check", DUPLICATE_REPLY.into(), 4),
            ];
            let mut plans = Vec::new();
            for (name, sql, params) in queries {
                let values: Vec<i64> = vec![1; params];
                let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                let lines = stmt
                    .query_map(rusqlite::params_from_iter(values), |r| r.get::<_, String>(3))?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                plans.push((name, lines));
            }
            Ok(plans)
        })
        .await
    }

    async fn export_rows(
        &self,
        table: Table,
        after: Option<Vec<Value>>,
        limit: u32,
    ) -> Result<Vec<Vec<Value>>> {
        self.read(move |conn| {
            let key = table.key().join(", ");
            let filter = match &after {
                Some(values) => format!("WHERE ({key}) > ({})", placeholders(values.len())),
                None => String::new(),
            };
            let sql = format!(
                "SELECT {} FROM {} {filter} ORDER BY {key} LIMIT {limit}",
                table.column_list(),
                table.name()
            );
            let mut stmt = conn.prepare(&sql)?;
            let params: Vec<_> = after.iter().flatten().map(to_sql).collect();
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
