//! Persistence. All SQL lives under here, written once for both backends wherever their
//! dialects agree:
//!
//! - [`Db`] and [`Tx`] (`db.rs`) are what both backends implement: run a statement, get
//!   [`Rows`]. Each aggregate's file adds its queries to them as extension traits written
//!   once: `articles.rs`, `replies.rs`, `staff.rs`, `settings.rs`, `outbox.rs`, `imports.rs`, `import_jobs.rs`, `pages.rs`, the change
//!   notifications in `notices.rs`, the site copy in `copy.rs`, and `explain.rs` for tests.
//! - [`Store`] runs a read on one connection ([`Store::read`]) and a unit of work in one
//!   transaction ([`Store::write`]): a closure given a [`Tx`], whose statements commit together
//!   or not at all.
//! - `sqlite.rs` and `postgres.rs` are the two backends: connections, pools, migrations, and
//!   how a statement reaches the database.

pub mod api_tokens;
pub mod articles;
pub mod copy;
mod db;
pub mod explain;
pub mod import_jobs;
pub mod imports;
pub mod media;
pub mod migrations;
pub mod notices;
pub mod outbox;
pub mod pages;
mod postgres;
pub mod reader_data;
pub mod replies;
pub mod settings;
mod sqlite;
pub mod staff;
pub mod staff_mail;
pub mod subscriptions;
pub mod terms;
pub mod threads;
mod value;

use std::sync::Arc;

pub use api_tokens::{ApiToken, ApiTokenReads, ApiTokenWrites, NewApiToken};
pub use articles::{
    Article, ArticleFields, ArticleNote, ArticleQuery, ArticleReads, ArticleSort, ArticleSummary,
    ArticleWrites, Author, Image, Listing, NewArticle, Published, ReplyTarget, Revision, SearchHit,
    Section, Seo, Tag,
};
pub use copy::{CopyReads, CopyWrites, Kind, Table};
pub use db::{BoxFuture, Db, Dialect, Faults, PoolWaited, Tx};
pub use explain::Explain;
pub use import_jobs::{
    ImportJob, ImportJobReads, ImportJobWrites, JobProgress, JobState, NewImportJob,
};
pub use imports::{ImportReads, ImportWrites, ImportedReply};
pub use media::{Media, MediaQuery, MediaReads, MediaUse, MediaWrites};
pub use notices::channel;
pub use outbox::{Claimed, Delivery, GivenUp, OutboxReads, OutboxWrites};
pub use pages::{Page, PageFields, PageLink, PageReads, PageRevision, PageWrites};
pub use reader_data::{ReaderDataReads, ReaderDataWrites, ReaderReply};
pub use replies::{
    NewReply, PosterEdit, QueueQuery, QueuedReply, Reply, ReplyPlace, ReplyReads, ReplyWrites,
};
pub use settings::{SettingReads, SettingWrites, SiteSetting};
pub use staff::{
    NewUser, PasswordResetReads, PasswordResetWrites, Session, StaffReads, StaffWrites, User,
};
pub use staff_mail::{HeldMail, StaffMailChoice, StaffMailReads, StaffMailWrites, StaffRecipient};
pub use subscriptions::{
    MailAddress, Recipient, ReplyNews, Subscription, SubscriptionReads, SubscriptionWrites,
};
pub use terms::{Term, TermKind, TermReads, TermWrites};
pub use threads::{Thread, ThreadReads, ThreadWrites};
pub use value::{Param, Row, Rows, Value};

use crate::config::DatabaseUrl;

/// What can go wrong below the services. The web layer turns [`StoreError::Database`] into an
/// opaque 500 and logs the cause.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A unique value (such as a slug) is already taken.
    #[error("{0} is already taken")]
    Conflict(&'static str),
    /// A row the operation needs does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The schema in the database is not one this binary can work with.
    #[error("{0}")]
    Schema(String),
    /// The database cannot be reached just now; asking again later may work.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A value no column can hold on both backends (text with a NUL character): what was
    /// sent is wrong, not the database.
    #[error("{0}")]
    Invalid(&'static str),
    #[error("database error: {0}")]
    Database(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The site's data, on SQLite or PostgreSQL. Cheap to clone: clones share the connections.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    faults: Arc<Faults>,
}

#[derive(Clone)]
enum Backend {
    Sqlite(sqlite::SqliteBackend),
    Postgres(Arc<postgres::PostgresBackend>),
}

/// Gives a unit of work's closure the signature [`Store::write`] wants.
fn unit<T, E, F>(f: F) -> F
where
    F: for<'a> FnOnce(&'a mut dyn Tx) -> BoxFuture<'a, Result<T, E>>,
{
    f
}

impl Store {
    /// Opens the database (creating an SQLite file if needed) and brings its schema up to
    /// date. `now` dates the migrations it applies.
    pub async fn open(database: &DatabaseUrl, now: i64) -> Result<Self> {
        let backend = match database {
            DatabaseUrl::Sqlite(path) => {
                let path = path.clone();
                let backend =
                    tokio::task::spawn_blocking(move || sqlite::SqliteBackend::open(&path, now))
                        .await
                        .map_err(|e| {
                            StoreError::Database(format!("opening the database failed: {e}"))
                        })??;
                Backend::Sqlite(backend)
            }
            DatabaseUrl::Postgres(url) => {
                Backend::Postgres(Arc::new(postgres::PostgresBackend::connect(url, now).await?))
            }
        };
        Ok(Self { backend, faults: Arc::default() })
    }

    /// How often and how long uses of the store waited for a free connection.
    pub fn pool_waits(&self) -> PoolWaited {
        match &self.backend {
            Backend::Sqlite(sqlite) => sqlite.waits().read(),
            Backend::Postgres(postgres) => postgres.waits.read(),
        }
    }

    pub fn dialect(&self) -> Dialect {
        match self.backend {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs `op` on one connection: on SQLite, all its statements in one trip to a reading
    /// thread; on PostgreSQL, on one pooled connection.
    pub async fn read<T, F>(&self, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a mut dyn Db) -> BoxFuture<'a, Result<T>> + Send + 'static,
    {
        self.faults.tick_read()?;
        match &self.backend {
            Backend::Sqlite(sqlite) => sqlite.read(op).await,
            Backend::Postgres(postgres) => postgres.read(op).await,
        }
    }

    /// [`Store::read`] for an article page whose thread holds `replies` replies (`None`: not
    /// known yet), sent where a short read costs least. On SQLite one of at most
    /// [`sqlite::HERE_ROWS`] runs on the calling thread, which it holds for the tens of
    /// microseconds it takes, less than the trip to a reading thread and back costs (a tenth of
    /// an article page's render, perf showed). On PostgreSQL one of at most
    /// [`postgres::SHARED_ROWS`] goes on a connection it shares with other short reads, its
    /// statements pipelined with theirs (see `PostgresBackend::read_shared`). Longer ones go
    /// as [`Store::read`] does.
    pub async fn read_page<T, F>(&self, replies: Option<i64>, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a mut dyn Db) -> BoxFuture<'a, Result<T>> + Send + 'static,
    {
        self.faults.tick_read()?;
        let within = |most: i64| replies.is_some_and(|n| n <= most);
        match &self.backend {
            Backend::Sqlite(sqlite) if within(sqlite::HERE_ROWS) => sqlite.read_here(op).await,
            Backend::Sqlite(sqlite) => sqlite.read(op).await,
            Backend::Postgres(postgres) if within(postgres::SHARED_ROWS) => {
                postgres.read_shared(op).await
            }
            Backend::Postgres(postgres) => postgres.read(op).await,
        }
    }

    /// Runs `op` as one transaction: it commits whole when `op` succeeds and leaves nothing
    /// behind when it fails. `op` does database work only (on SQLite it runs on the writing
    /// thread, committed with the other units that arrived meanwhile: one fsync for all).
    /// Returns only once the transaction has committed.
    pub async fn write<T, E, F>(&self, op: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: for<'a> FnOnce(&'a mut dyn Tx) -> BoxFuture<'a, Result<T, E>> + Send + 'static,
    {
        let faults = self.faults.clone();
        let counted = unit(move |tx: &mut dyn Tx| {
            Box::pin(async move {
                let mut counted = db::Counted { inner: tx, faults: &faults };
                op(&mut counted).await
            })
        });
        match &self.backend {
            Backend::Sqlite(sqlite) => sqlite.write(counted).await,
            Backend::Postgres(postgres) => postgres.write(counted).await,
        }
    }

    /// What other nodes (PostgreSQL) or other processes (SQLite) changed: an announced scope
    /// (see [`notices`]), or an empty one when anything may have changed (a lost connection,
    /// another process's commit).
    pub fn changes(&self) -> tokio::sync::broadcast::Receiver<String> {
        match &self.backend {
            Backend::Sqlite(sqlite) => sqlite.changes(),
            Backend::Postgres(postgres) => postgres.changes(),
        }
    }

    /// Tells the other nodes that what `payload` names changed (see [`notices`]); on SQLite
    /// nothing.
    pub async fn announce(&self, payload: &str) -> Result<()> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(()),
            Backend::Postgres(postgres) => postgres.announce(payload).await,
        }
    }

    /// A cheap round trip, for `/healthz`.
    pub async fn ping(&self) -> Result<()> {
        self.read(|db| Box::pin(async move { db.query("SELECT 1", &[]).await.map(drop) })).await
    }

    /// For tests: see [`Faults`].
    pub fn faults(&self) -> &Faults {
        &self.faults
    }
}

/// A statement that differs between the dialects.
pub(crate) fn dialect_sql(
    db: &(impl Db + ?Sized),
    sqlite: &'static str,
    postgres: &'static str,
) -> &'static str {
    match db.dialect() {
        Dialect::Sqlite => sqlite,
        Dialect::Postgres => postgres,
    }
}

/// `%`, `_` and `\` made literal for `LIKE … ESCAPE '\'`, wrapped in `%`.
pub(crate) fn like_pattern(words: &str) -> String {
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
