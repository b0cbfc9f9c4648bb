//! Persistence: one trait, [`Store`], and its implementations. All SQL lives under here.

pub mod postgres;
pub mod sqlite;

use async_trait::async_trait;

use crate::domain::ReplyStatus;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// What can go wrong below the services. The web layer turns [`StoreError::Database`] into an
/// opaque 500 and logs the cause.
#[derive(Debug, thiserror::Error)]
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
    #[error("database error: {0}")]
    Database(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// An author record: a name on a byline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub id: i64,
    pub name: String,
    pub bio: String,
}

/// A published article, as the public page needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    pub id: i64,
    pub slug: String,
    pub headline: String,
    pub standfirst: String,
    pub body_html: String,
    pub author: Author,
    /// `2026/11/24`: fixed at first publication, in the site's time zone.
    pub date_path: String,
    pub published_at: i64,
    pub updated_at: i64,
    pub replies_open: bool,
    pub reply_count: i64,
}

/// An article as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleSummary {
    pub id: i64,
    pub slug: String,
    pub headline: String,
    pub standfirst: String,
    pub author_name: String,
    pub date_path: String,
    pub published_at: i64,
    pub reply_count: i64,
}

/// What is needed to publish an article.
#[derive(Debug, Clone)]
pub struct NewArticle {
    pub slug: String,
    pub headline: String,
    pub standfirst: String,
    pub body_markdown: String,
    pub body_html: String,
    pub author_id: i64,
    pub date_path: String,
    pub published_at: i64,
    pub replies_open: bool,
}

/// A stored reply. `email` and `ip` are for staff and must never reach a public page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: i64,
    pub article_id: i64,
    pub parent_id: Option<i64>,
    pub author_name: String,
    pub author_url: Option<String>,
    pub body: String,
    pub status: ReplyStatus,
    pub created_at: i64,
}

/// Where a reply that is not shown sat in its thread, so its children keep their place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommentStub {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub created_at: i64,
}

/// A reply ready to be stored.
#[derive(Debug, Clone)]
pub struct NewComment {
    pub article_id: i64,
    pub parent_id: Option<i64>,
    pub author_name: String,
    pub author_email: String,
    pub author_url: Option<String>,
    pub body: String,
    pub status: ReplyStatus,
    pub ip: Option<String>,
    pub created_at: i64,
}

/// The tables `byline copy` moves, in an order that respects their references.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Authors,
    Articles,
    Comments,
    Settings,
}

/// How a column's values travel between backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Text,
    Bool,
}

/// One value of a copied row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Bool(bool),
}

impl Table {
    pub const ALL: [Table; 4] = [Table::Authors, Table::Articles, Table::Comments, Table::Settings];

    pub fn name(self) -> &'static str {
        match self {
            Self::Authors => "authors",
            Self::Articles => "articles",
            Self::Comments => "comments",
            Self::Settings => "settings",
        }
    }

    /// Every column, the key first. Both backends' schemas have exactly these.
    pub fn columns(self) -> &'static [(&'static str, Kind)] {
        use Kind::{Bool, Int, Text};
        match self {
            Self::Authors => &[("id", Int), ("name", Text), ("bio", Text), ("created_at", Int)],
            Self::Articles => &[
                ("id", Int),
                ("slug", Text),
                ("headline", Text),
                ("standfirst", Text),
                ("body_markdown", Text),
                ("body_html", Text),
                ("author_id", Int),
                ("status", Text),
                ("date_path", Text),
                ("published_at", Int),
                ("created_at", Int),
                ("updated_at", Int),
                ("replies_open", Bool),
                ("reply_count", Int),
            ],
            Self::Comments => &[
                ("id", Int),
                ("article_id", Int),
                ("parent_id", Int),
                ("author_name", Text),
                ("author_email", Text),
                ("author_url", Text),
                ("body", Text),
                ("status", Text),
                ("ip", Text),
                ("created_at", Int),
            ],
            Self::Settings => &[("key", Text), ("value", Text)],
        }
    }

    /// Whether the key is a generated integer id (whose sequence must move past copied ids).
    pub fn has_id(self) -> bool {
        self != Self::Settings
    }

    /// `SELECT`-list of the columns.
    pub fn column_list(self) -> String {
        self.columns().iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
    }
}

/// Every way Byline reads and writes its data.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Published articles, newest first.
    async fn published_articles(&self, offset: u64, limit: u64) -> Result<Vec<ArticleSummary>>;
    async fn count_published_articles(&self) -> Result<u64>;
    /// A published article by its slug.
    async fn article_by_slug(&self, slug: &str) -> Result<Option<Article>>;
    async fn slug_exists(&self, slug: &str) -> Result<bool>;
    /// Publishes an article. Fails with [`StoreError::Conflict`] when the slug is taken.
    async fn insert_article(&self, article: &NewArticle) -> Result<i64>;

    /// The author record with this name, created if new.
    async fn find_or_create_author(&self, name: &str) -> Result<Author>;

    /// An article's replies with one status, oldest first.
    async fn comments_of_article(
        &self,
        article_id: i64,
        status: ReplyStatus,
    ) -> Result<Vec<Comment>>;
    /// Replies of one article among the given ids, whatever their status.
    async fn comments_by_ids(&self, article_id: i64, ids: &[i64]) -> Result<Vec<Comment>>;
    /// Thread positions of the given replies, whatever their status; missing ids are left out.
    async fn comment_stubs(&self, ids: &[i64]) -> Result<Vec<CommentStub>>;
    async fn comment(&self, id: i64) -> Result<Option<Comment>>;
    /// Whether this address (compared without regard to ASCII case) has an approved reply.
    async fn has_approved_comment_from(&self, email: &str) -> Result<bool>;
    /// Stores a reply durably, and returns its id only once it is committed.
    async fn insert_comment(&self, comment: &NewComment) -> Result<i64>;
    /// Sets a reply's status; false when there is no such reply.
    async fn set_comment_status(&self, id: i64, status: ReplyStatus) -> Result<bool>;
    /// Deletes a reply for ever; its answers keep their place under a placeholder.
    async fn delete_comment(&self, id: i64) -> Result<bool>;

    /// A site setting stored in the database.
    async fn setting(&self, key: &str) -> Result<Option<String>>;
    /// Stores `value` unless the key has one; returns the value now stored.
    async fn setting_or_insert(&self, key: &str, value: &str) -> Result<String>;

    /// A cheap round trip, for `/healthz`.
    async fn ping(&self) -> Result<()>;

    /// Rows of `table` in key order, after `after` (a key value), at most `limit`.
    async fn export_rows(
        &self,
        table: Table,
        after: Option<Value>,
        limit: u32,
    ) -> Result<Vec<Vec<Value>>>;
    /// Inserts rows as they are, ids included, in one transaction.
    async fn import_rows(&self, table: Table, rows: &[Vec<Value>]) -> Result<()>;
    async fn count_rows(&self, table: Table) -> Result<u64>;
    /// The id the next new row of `table` will get (deleted ids are never handed out again).
    async fn next_id(&self, table: Table) -> Result<i64>;
    /// After an import: recounts what triggers keep, and sets each table's next id.
    async fn finish_import(&self, next_ids: &[(Table, i64)]) -> Result<()>;
}
