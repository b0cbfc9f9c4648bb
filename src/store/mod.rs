//! Persistence: one trait, [`Store`], and its implementations. All SQL lives under here.

pub mod postgres;
pub mod sqlite;

use async_trait::async_trait;

use crate::domain::{ArticleStatus, NoteKind, ReplyStatus, Role};

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
    /// The database cannot be reached just now; asking again later may work.
    #[error("database unavailable: {0}")]
    Unavailable(String),
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

/// A section of the site (a category such as "Politics").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub id: i64,
    pub name: String,
    pub slug: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub id: i64,
    pub name: String,
    pub slug: String,
}

/// An article's featured image: an address, a caption and the text that stands for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub url: String,
    pub caption: String,
    pub alt: String,
}

/// An article, whatever its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    pub id: i64,
    pub slug: String,
    pub headline: String,
    pub standfirst: String,
    pub body_markdown: String,
    /// Rendered from the Markdown and sanitized when saved.
    pub body_html: String,
    pub status: ArticleStatus,
    /// The byline, in order; never empty.
    pub authors: Vec<Author>,
    pub section: Option<Section>,
    pub tags: Vec<Tag>,
    pub image: Option<Image>,
    /// `2026/11/24`: fixed at first publication, in the site's time zone.
    pub date_path: Option<String>,
    /// The first publication's time, or when a scheduled article is due.
    pub published_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub replies_open: bool,
    pub reply_count: i64,
    pub word_count: i64,
}

/// An article as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleSummary {
    pub id: i64,
    pub slug: String,
    pub headline: String,
    pub standfirst: String,
    pub status: ArticleStatus,
    pub author_names: Vec<String>,
    pub section_name: Option<String>,
    pub image: Option<Image>,
    pub date_path: Option<String>,
    pub published_at: Option<i64>,
    pub updated_at: i64,
    pub reply_count: i64,
    pub word_count: i64,
}

/// A search result: the article, and a passage of it with the matches marked by
/// [`crate::domain::search::MARK_START`] and `MARK_END`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    pub article: ArticleSummary,
    pub snippet: String,
}

/// Which published articles a listing page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    Section(i64),
    Tag(i64),
    Author(i64),
}

/// What the editor sets on an article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleFields {
    pub slug: String,
    pub headline: String,
    pub standfirst: String,
    pub body_markdown: String,
    pub body_html: String,
    /// The byline, in order; at least one.
    pub author_ids: Vec<i64>,
    pub section_id: Option<i64>,
    pub tag_ids: Vec<i64>,
    pub image: Option<Image>,
    pub replies_open: bool,
    /// Words in the body, for reading times.
    pub word_count: i64,
}

/// A new article.
#[derive(Debug, Clone)]
pub struct NewArticle {
    pub fields: ArticleFields,
    pub status: ArticleStatus,
    pub date_path: Option<String>,
    pub published_at: Option<i64>,
    pub created_at: i64,
}

/// Which articles the newsroom's list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArticleQuery {
    pub status: Option<ArticleStatus>,
    pub author_id: Option<i64>,
    pub section_id: Option<i64>,
    /// Words the headline contains, compared without regard to case.
    pub headline: Option<String>,
    pub offset: u64,
    pub limit: u64,
}

/// An article's saved state, kept at every save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    pub id: i64,
    pub article_id: i64,
    pub user_id: Option<i64>,
    pub created_at: i64,
    pub headline: String,
    pub standfirst: String,
    pub slug: String,
    pub body_markdown: String,
    /// The section's name, or empty.
    pub section: String,
    /// Tag names, comma-separated.
    pub tags: String,
    /// Author ids of the byline, comma-separated.
    pub authors: String,
    pub image_url: Option<String>,
    pub image_caption: String,
    pub image_alt: String,
    pub replies_open: bool,
}

/// A correction or update shown under a published article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleNote {
    pub id: i64,
    pub article_id: i64,
    pub kind: NoteKind,
    pub body: String,
    pub created_at: i64,
}

/// A staff account, with the author record it signs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub author: Author,
    pub email: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: i64,
    pub password_changed_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    pub created_at: i64,
}

/// A signed-in session. The cookie holds the token; the store keeps only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token_hash: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A stored reply as public pages may show it: no email, no IP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: i64,
    pub article_id: i64,
    pub parent_id: Option<i64>,
    pub author_name: String,
    pub author_url: Option<String>,
    pub body: String,
    pub status: ReplyStatus,
    /// Written by a staff member from the newsroom.
    pub staff: bool,
    pub created_at: i64,
}

/// A reply as the moderation queue shows it to staff: with email, IP and why it was held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedComment {
    pub comment: Comment,
    pub author_email: String,
    pub ip: Option<String>,
    pub held_reason: String,
    pub article_headline: String,
    pub article_slug: String,
    pub article_date_path: Option<String>,
}

/// Which replies the moderation queue shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueQuery {
    pub status: Option<ReplyStatus>,
    pub article_id: Option<i64>,
    /// Compared without regard to ASCII case.
    pub email: Option<String>,
    /// Only replies on articles this author is on the byline of.
    pub byline_author_id: Option<i64>,
    pub offset: u64,
    pub limit: u64,
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
    /// Why it was held or sent to spam; empty when approved at once.
    pub held_reason: String,
    /// The staff account that wrote it from the newsroom.
    pub user_id: Option<i64>,
    pub created_at: i64,
}

/// The tables `byline copy` moves, in an order that respects their references. Sessions and
/// sign-in failures are left behind: staff sign in again on the new database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Authors,
    Users,
    Sections,
    Tags,
    Articles,
    ArticleAuthors,
    ArticleTags,
    SlugRedirects,
    Revisions,
    ArticleNotes,
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
    pub const ALL: [Table; 12] = [
        Table::Authors,
        Table::Users,
        Table::Sections,
        Table::Tags,
        Table::Articles,
        Table::ArticleAuthors,
        Table::ArticleTags,
        Table::SlugRedirects,
        Table::Revisions,
        Table::ArticleNotes,
        Table::Comments,
        Table::Settings,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Authors => "authors",
            Self::Users => "users",
            Self::Sections => "sections",
            Self::Tags => "tags",
            Self::Articles => "articles",
            Self::ArticleAuthors => "article_authors",
            Self::ArticleTags => "article_tags",
            Self::SlugRedirects => "slug_redirects",
            Self::Revisions => "revisions",
            Self::ArticleNotes => "article_notes",
            Self::Comments => "comments",
            Self::Settings => "settings",
        }
    }

    /// Every column, in the schema's order. Both backends' schemas have exactly these.
    pub fn columns(self) -> &'static [(&'static str, Kind)] {
        use Kind::{Bool, Int, Text};
        match self {
            Self::Authors => &[("id", Int), ("name", Text), ("bio", Text), ("created_at", Int)],
            Self::Users => &[
                ("id", Int),
                ("author_id", Int),
                ("email", Text),
                ("role", Text),
                ("password_hash", Text),
                ("disabled", Bool),
                ("created_at", Int),
                ("password_changed_at", Int),
            ],
            Self::Sections | Self::Tags => &[("id", Int), ("name", Text), ("slug", Text)],
            Self::Articles => &[
                ("id", Int),
                ("slug", Text),
                ("headline", Text),
                ("standfirst", Text),
                ("body_markdown", Text),
                ("body_html", Text),
                ("status", Text),
                ("section_id", Int),
                ("image_url", Text),
                ("image_caption", Text),
                ("image_alt", Text),
                ("date_path", Text),
                ("published_at", Int),
                ("created_at", Int),
                ("updated_at", Int),
                ("replies_open", Bool),
                ("reply_count", Int),
                ("word_count", Int),
            ],
            Self::ArticleAuthors => &[("article_id", Int), ("author_id", Int), ("position", Int)],
            Self::ArticleTags => &[("article_id", Int), ("tag_id", Int)],
            Self::SlugRedirects => &[("slug", Text), ("article_id", Int)],
            Self::Revisions => &[
                ("id", Int),
                ("article_id", Int),
                ("user_id", Int),
                ("created_at", Int),
                ("headline", Text),
                ("standfirst", Text),
                ("slug", Text),
                ("body_markdown", Text),
                ("section", Text),
                ("tags", Text),
                ("authors", Text),
                ("image_url", Text),
                ("image_caption", Text),
                ("image_alt", Text),
                ("replies_open", Bool),
            ],
            Self::ArticleNotes => &[
                ("id", Int),
                ("article_id", Int),
                ("kind", Text),
                ("body", Text),
                ("created_at", Int),
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
                ("held_reason", Text),
                ("user_id", Int),
                ("created_at", Int),
            ],
            Self::Settings => &[("key", Text), ("value", Text)],
        }
    }

    /// The columns that order (and page) the rows: the primary key.
    pub fn key(self) -> &'static [&'static str] {
        match self {
            Self::ArticleAuthors => &["article_id", "author_id"],
            Self::ArticleTags => &["article_id", "tag_id"],
            Self::SlugRedirects => &["slug"],
            Self::Settings => &["key"],
            _ => &["id"],
        }
    }

    /// Whether the key is a generated integer id (whose sequence must move past copied ids).
    pub fn has_id(self) -> bool {
        self.key() == ["id"]
    }

    /// `SELECT`-list of the columns.
    pub fn column_list(self) -> String {
        self.columns().iter().map(|(name, _)| *name).collect::<Vec<_>>().join(", ")
    }
}

/// Every way Byline reads and writes its data.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Published articles, newest first, leaving out `except` (the lead story).
    async fn published_articles(
        &self,
        offset: u64,
        limit: u64,
        except: Option<i64>,
    ) -> Result<Vec<ArticleSummary>>;
    async fn count_published_articles(&self, except: Option<i64>) -> Result<u64>;
    /// The newsroom's list: any status, filtered, newest change first; and how many match.
    async fn list_articles(&self, query: &ArticleQuery) -> Result<(Vec<ArticleSummary>, u64)>;
    /// Published articles of a section, tag or author, newest first; and how many there are.
    async fn published_in(
        &self,
        listing: Listing,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<ArticleSummary>, u64)>;
    /// Published articles sharing the section or a tag of this one, newest first.
    async fn related_articles(&self, article_id: i64, limit: u64) -> Result<Vec<ArticleSummary>>;
    /// Published articles holding every term (see [`crate::domain::search::terms`]), best
    /// first: each backend's own full-text index, or a plain text match for terms in scripts
    /// written without spaces. Returns the hits and how many there are.
    async fn search(
        &self,
        terms: &[String],
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<SearchHit>, u64)>;
    async fn section_by_slug(&self, slug: &str) -> Result<Option<Section>>;
    async fn tag_by_slug(&self, slug: &str) -> Result<Option<Tag>>;
    async fn author(&self, id: i64) -> Result<Option<Author>>;
    /// A published article by its slug.
    async fn article_by_slug(&self, slug: &str) -> Result<Option<Article>>;
    /// An article by id, whatever its status.
    async fn article(&self, id: i64) -> Result<Option<Article>>;
    /// Whether a slug is used by an article or by an old URL that redirects.
    async fn slug_exists(&self, slug: &str) -> Result<bool>;
    /// Stores an article. Fails with [`StoreError::Conflict`] when the slug is taken.
    async fn insert_article(&self, article: &NewArticle) -> Result<i64>;
    /// Replaces what the editor sets. Fails with [`StoreError::Conflict`] when the slug is taken.
    async fn update_article(&self, id: i64, fields: &ArticleFields, updated_at: i64) -> Result<()>;
    /// Moves an article to `status`; `date_path` and `published_at` as given.
    async fn set_article_status(
        &self,
        id: i64,
        status: ArticleStatus,
        date_path: Option<&str>,
        published_at: Option<i64>,
        updated_at: i64,
    ) -> Result<()>;
    /// Scheduled articles whose time has come, oldest first.
    async fn due_articles(&self, now: i64) -> Result<Vec<Article>>;
    /// Makes an old slug answer for an article.
    async fn add_slug_redirect(&self, slug: &str, article_id: i64) -> Result<()>;
    /// The article an old slug now points to.
    async fn slug_redirect(&self, slug: &str) -> Result<Option<i64>>;

    async fn insert_revision(&self, revision: &Revision) -> Result<i64>;
    /// An article's revisions, newest first.
    async fn revisions(&self, article_id: i64) -> Result<Vec<Revision>>;
    async fn revision(&self, id: i64) -> Result<Option<Revision>>;

    async fn add_note(&self, article_id: i64, kind: NoteKind, body: &str, at: i64) -> Result<i64>;
    /// An article's notes, oldest first.
    async fn notes(&self, article_id: i64) -> Result<Vec<ArticleNote>>;

    /// The author record with this name (the oldest, if several), created if new.
    async fn find_or_create_author(&self, name: &str) -> Result<Author>;
    /// Every author record, by name.
    async fn authors(&self) -> Result<Vec<Author>>;
    async fn update_author(&self, id: i64, name: &str, bio: &str) -> Result<()>;
    /// Every section, by name.
    async fn sections(&self) -> Result<Vec<Section>>;
    /// The section with this name, created (with `slug`) if new.
    async fn find_or_create_section(&self, name: &str, slug: &str) -> Result<Section>;
    /// The tags with these `(name, slug)`s, created if new, in the order given.
    async fn find_or_create_tags(&self, tags: &[(String, String)]) -> Result<Vec<Tag>>;

    /// Creates a staff account and its author record. [`StoreError::Conflict`] if the email
    /// (compared without regard to case) has an account.
    async fn create_user(&self, user: &NewUser) -> Result<User>;
    async fn user(&self, id: i64) -> Result<Option<User>>;
    /// An account and its password hash, by email (without regard to case).
    async fn user_credentials(&self, email: &str) -> Result<Option<(User, String)>>;
    /// Every account, by name.
    async fn users(&self) -> Result<Vec<User>>;
    /// Sets role and disabled; disabling signs the account out everywhere.
    async fn update_user(&self, id: i64, role: Role, disabled: bool) -> Result<bool>;
    /// Sets a new password hash and ends every session of the account.
    async fn set_password(&self, user_id: i64, password_hash: &str, at: i64) -> Result<()>;

    async fn create_session(&self, session: &Session) -> Result<()>;
    /// A live session (not expired, account not disabled) and its account.
    async fn session(&self, token_hash: &str, now: i64) -> Result<Option<(Session, User)>>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;
    /// Failed sign-ins under `key` (an account or an IP) since `since`.
    async fn login_failures(&self, key: &str, since: i64) -> Result<u64>;
    async fn record_login_failure(&self, key: &str, at: i64) -> Result<()>;
    /// Forgets failures under `key`, and every failure older than `before`.
    async fn clear_login_failures(&self, key: &str, before: i64) -> Result<()>;

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
    /// Where each approved reply of an article sits (id, parent, time), in no order: enough to
    /// lay out the thread, whose shown replies are then read with [`Store::comments_by_ids`].
    async fn reply_shapes(&self, article_id: i64) -> Result<Vec<CommentStub>>;
    async fn comment(&self, id: i64) -> Result<Option<Comment>>;
    /// Whether this address (compared without regard to ASCII case) has an approved reply.
    async fn has_approved_comment_from(&self, email: &str) -> Result<bool>;
    /// Stores a reply durably, and returns its id only once it is committed.
    async fn insert_comment(&self, comment: &NewComment) -> Result<i64>;
    /// Sets a reply's status; false when there is no such reply.
    async fn set_comment_status(&self, id: i64, status: ReplyStatus) -> Result<bool>;
    /// Deletes a reply for ever; its answers keep their place under a placeholder.
    async fn delete_comment(&self, id: i64) -> Result<bool>;
    /// Replaces a reply's text (a moderator's edit).
    async fn set_comment_body(&self, id: i64, body: &str) -> Result<bool>;
    /// The moderation queue: newest first, and how many match.
    async fn queue(&self, query: &QueueQuery) -> Result<(Vec<QueuedComment>, u64)>;
    /// How many replies have each status, under the same restrictions as [`Store::queue`]
    /// (its status, offset and limit aside).
    async fn queue_counts(&self, query: &QueueQuery) -> Result<Vec<(ReplyStatus, u64)>>;
    /// Replies stored from this IP since `since` (the rate limit; it holds across nodes).
    async fn comments_from_ip_since(&self, ip: &str, since: i64) -> Result<u64>;
    /// Whether this address already posted this exact text on this article since `since`.
    async fn duplicate_comment(
        &self,
        article_id: i64,
        email: &str,
        body: &str,
        since: i64,
    ) -> Result<bool>;

    /// A site setting stored in the database.
    async fn setting(&self, key: &str) -> Result<Option<String>>;
    /// Stores `value` unless the key has one; returns the value now stored.
    async fn setting_or_insert(&self, key: &str, value: &str) -> Result<String>;
    /// Sets a setting, or removes it with `None`.
    async fn set_setting(&self, key: &str, value: Option<&str>) -> Result<()>;
    /// Every setting whose key starts with `prefix`.
    async fn settings_with_prefix(&self, prefix: &str) -> Result<Vec<(String, String)>>;

    /// A cheap round trip, for `/healthz`.
    async fn ping(&self) -> Result<()>;
    /// The query plans of the queries on the page path, by name, one line per step: a test
    /// fails if any of them scans a table.
    async fn explain_page_queries(&self) -> Result<Vec<(&'static str, Vec<String>)>>;

    /// Tells every node sharing this database that something changed (their page caches are
    /// stale). A no-op where one process owns the database.
    /// `scope` is what changed: an article's path (its pages and the listings), or empty
    /// for anything.
    async fn announce_change(&self, scope: &str) -> Result<()>;
    /// Announcements from every node (this one's included), and one more each time the
    /// listening connection is re-established (anything may have been missed). `None` where
    /// one process owns the database.
    /// Each carries the announced scope; an empty one (also sent on reconnecting) means
    /// anything may have changed.
    fn changes(&self) -> Option<tokio::sync::broadcast::Receiver<String>>;
    /// Publishes a scheduled article, unless another node did already: true for the one that
    /// did it.
    async fn publish_scheduled(
        &self,
        id: i64,
        date_path: &str,
        published_at: i64,
        now: i64,
    ) -> Result<bool>;

    /// Rows of `table` in key order, after the key `after`, at most `limit`.
    async fn export_rows(
        &self,
        table: Table,
        after: Option<Vec<Value>>,
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
