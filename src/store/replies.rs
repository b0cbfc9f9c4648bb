//! Replies: the thread of an article, the moderation queue, and what the reply form's
//! defenses look up. A reply's email and IP never leave this file on a public path: [`Reply`]
//! has neither; only [`QueuedReply`], for staff, does.

use async_trait::async_trait;

use super::{Db, Dialect, Param, Result, Row, StoreError, Tx, dialect_sql};
use crate::domain::reply::{AuthorName, Email, ReplyBody, Website};
use crate::domain::{ArticleId, AuthorId, ReplyId, ReplyStatus, UserId};

/// A stored reply as public pages may show it: no email, no IP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub id: ReplyId,
    pub article_id: ArticleId,
    pub parent_id: Option<ReplyId>,
    pub author_name: String,
    pub author_url: Option<String>,
    pub body: String,
    pub status: ReplyStatus,
    /// Written by a staff member from the newsroom.
    pub staff: bool,
    /// A pingback or trackback an import kept: another site's mention, not a reader's words.
    pub link_back: bool,
    pub created_at: i64,
    /// When its poster last changed its text (staff edits leave no mark).
    pub edited_at: Option<i64>,
}

/// The replies' queries give who wrote one in one column: a reader, staff, or a link-back.
const SHAPE_STAFF: i64 = 1;
const SHAPE_LINK_BACK: i64 = 2;

/// A reply as the moderation queue shows it to staff: with email, IP and why it was held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedReply {
    pub reply: Reply,
    pub author_email: String,
    pub ip: Option<String>,
    pub held_reason: String,
    pub article_headline: String,
    pub article_slug: String,
    pub article_date_path: Option<String>,
    /// The static page the reply is on, when it is on one (`about/team`).
    pub page_path: Option<String>,
    /// What it answers: that reply's author and the start of its text (if it is still there).
    pub answering: Option<(String, String)>,
}

impl QueuedReply {
    /// The address of the page that shows the reply's thread: its static page's, or its
    /// article's (none for a draft's).
    pub fn public_path(&self) -> Option<String> {
        match (&self.page_path, &self.article_date_path) {
            (Some(page), _) => Some(crate::domain::paths::page_path(page)),
            (None, Some(date)) => {
                Some(crate::domain::paths::article_path(date, &self.article_slug))
            }
            (None, None) => None,
        }
    }
}

/// Which replies the moderation queue shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueQuery {
    pub status: Option<ReplyStatus>,
    pub article_id: Option<ArticleId>,
    /// Compared without regard to ASCII case.
    pub email: Option<String>,
    /// Only replies on articles this author is on the byline of.
    pub byline_author_id: Option<AuthorId>,
    /// Words the article's headline contains, compared without regard to case.
    pub headline: Option<String>,
    pub offset: u64,
    pub limit: u64,
}

/// Where a reply sits in its thread: enough to lay the thread out, or to keep the place of a
/// reply that is not shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyPlace {
    pub id: ReplyId,
    pub parent_id: Option<ReplyId>,
    pub created_at: i64,
}

impl ReplyPlace {
    pub fn of(reply: &Reply) -> Self {
        Self { id: reply.id, parent_id: reply.parent_id, created_at: reply.created_at }
    }
}

/// A reply's new text from its poster, and what it earns.
#[derive(Debug, Clone)]
pub struct PosterEdit {
    pub body: ReplyBody,
    pub status: ReplyStatus,
    pub held_reason: String,
    pub at: i64,
}

/// A reply ready to be stored.
#[derive(Debug, Clone)]
pub struct NewReply {
    pub article_id: ArticleId,
    pub parent_id: Option<ReplyId>,
    pub author_name: AuthorName,
    pub author_email: Email,
    pub author_url: Option<Website>,
    pub body: ReplyBody,
    pub status: ReplyStatus,
    pub ip: Option<String>,
    /// Why it was held or sent to spam; empty when approved at once.
    pub held_reason: String,
    /// The staff account that wrote it from the newsroom.
    pub user_id: Option<UserId>,
    pub created_at: i64,
}

macro_rules! reply_columns {
    () => {
        "c.id, c.article_id, c.parent_id, c.author_name, c.author_url, c.body, c.status, \
         c.created_at, CASE WHEN c.link_back THEN 2 \
         WHEN c.user_id IS NOT NULL OR c.author_id IS NOT NULL THEN 1 ELSE 0 END, c.edited_at"
    };
}

/// Not the article and the status, which the caller knows: a whole thread is the page's
/// biggest read, and PostgreSQL's cost of sending it grows with its columns.
pub(crate) const REPLIES_OF_ARTICLE: &str = "SELECT c.id, c.parent_id, c.author_name, \
     c.author_url, c.body, c.created_at, CASE WHEN c.link_back THEN 2 \
     WHEN c.user_id IS NOT NULL OR c.author_id IS NOT NULL THEN 1 ELSE 0 END, c.edited_at
   FROM comments c WHERE c.article_id = $1 AND c.status = $2 ORDER BY c.created_at, c.id";

pub(crate) const NEWEST_REPLIES: &str = concat!(
    "SELECT ",
    reply_columns!(),
    " FROM comments c WHERE c.article_id = $1 AND c.status = 'approved'
      ORDER BY c.created_at DESC, c.id DESC LIMIT $2"
);

pub(crate) const REPLY_BY_ID: &str =
    concat!("SELECT ", reply_columns!(), " FROM comments c WHERE c.id = $1");

pub(crate) const REPLIES_BY_IDS_SQLITE: &str = concat!(
    "SELECT ",
    reply_columns!(),
    " FROM comments c WHERE c.article_id = $1 AND c.id IN (SELECT value FROM json_each($2))
      ORDER BY c.created_at, c.id"
);

pub(crate) const REPLIES_BY_IDS_POSTGRES: &str = concat!(
    "SELECT ",
    reply_columns!(),
    " FROM comments c WHERE c.article_id = $1 AND c.id = ANY($2) ORDER BY c.created_at, c.id"
);

const PLACES_SQLITE: &str = "SELECT id, parent_id, created_at FROM comments
  WHERE id IN (SELECT value FROM json_each($1))";
const PLACES_POSTGRES: &str = "SELECT id, parent_id, created_at FROM comments WHERE id = ANY($1)";

pub(crate) const THREAD_PLACES: &str = "SELECT id, parent_id, created_at FROM comments
  WHERE article_id = $1 AND status = 'approved'";

pub(crate) const REPLIES_FROM_IP: &str =
    "SELECT count(*) FROM comments WHERE ip = $1 AND created_at >= $2";

pub(crate) const DUPLICATE_REPLY: &str = "SELECT EXISTS (SELECT 1 FROM comments
  WHERE lower(author_email) = lower($2) AND article_id = $1 AND body = $3
    AND created_at >= $4)";

/// An imported reply may have no email: none vouches for nobody.
pub(crate) const HAS_APPROVED: &str = "SELECT EXISTS (SELECT 1 FROM comments
  WHERE lower(author_email) = lower($1) AND status = 'approved' AND $1 <> '')";

const QUEUE_COLUMNS: &str = "c.author_email, c.ip, c.held_reason, a.headline, a.slug, a.date_path, \
     COALESCE(a.thread_url, (SELECT p.path FROM pages p WHERE p.discussion_id = a.id)), \
     (SELECT r.author_name FROM comments r WHERE r.id = c.parent_id), \
     (SELECT substr(r.body, 1, 300) FROM comments r WHERE r.id = c.parent_id)";

pub(crate) fn reply_from_row(r: &mut Row) -> Result<Reply> {
    Ok(Reply {
        id: r.id(0)?,
        article_id: r.id(1)?,
        parent_id: r.opt_id(2)?,
        author_name: r.text(3)?,
        author_url: r.opt_text(4)?,
        body: r.text(5)?,
        status: r.parsed(6, ReplyStatus::parse)?,
        created_at: r.int(7)?,
        staff: r.int(8)? == SHAPE_STAFF,
        link_back: r.int(8)? == SHAPE_LINK_BACK,
        edited_at: r.opt_int(9)?,
    })
}

fn queued_from_row(r: &mut Row) -> Result<QueuedReply> {
    Ok(QueuedReply {
        reply: reply_from_row(r)?,
        author_email: r.text(10)?,
        ip: r.opt_text(11)?,
        held_reason: r.text(12)?,
        article_headline: r.text(13)?,
        article_slug: r.text(14)?,
        article_date_path: r.opt_text(15)?,
        page_path: r.opt_text(16)?,
        answering: match (r.opt_text(17)?, r.opt_text(18)?) {
            (Some(name), Some(body)) => Some((name, body)),
            _ => None,
        },
    })
}

fn place_from_row(r: &mut Row) -> Result<ReplyPlace> {
    Ok(ReplyPlace { id: r.id(0)?, parent_id: r.opt_id(1)?, created_at: r.int(2)? })
}

/// The queue's `WHERE` clause (without status) and its values.
fn queue_filter<'a>(query: &'a QueueQuery, headline: Option<&'a str>) -> (String, Vec<Param<'a>>) {
    let mut conditions = vec!["1 = 1".to_owned()];
    let mut params: Vec<Param> = Vec::new();
    if let Some(article) = query.article_id {
        params.push(article.into());
        conditions.push(format!("c.article_id = ${}", params.len()));
    }
    if let Some(email) = query.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        params.push(email.into());
        conditions.push(format!("lower(c.author_email) = lower(${})", params.len()));
    }
    if let Some(pattern) = headline {
        params.push(pattern.into());
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM articles h
                      WHERE h.id = c.article_id AND lower(h.headline) LIKE ${} ESCAPE '\\')",
            params.len()
        ));
    }
    if let Some(author) = query.byline_author_id {
        params.push(author.into());
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM article_authors x
                      WHERE x.article_id = c.article_id AND x.author_id = ${})",
            params.len()
        ));
    }
    (conditions.join(" AND "), params)
}

/// The `LIKE` pattern of the queue's headline filter.
fn headline_pattern(query: &QueueQuery) -> Option<String> {
    let words = query.headline.as_deref().map(str::trim).filter(|w| !w.is_empty())?;
    Some(super::like_pattern(&words.to_lowercase()))
}

/// Reading replies, on any connection.
#[async_trait]
pub trait ReplyReads: Db {
    /// An article's replies with one status, oldest first.
    async fn replies_of_article(
        &mut self,
        article: ArticleId,
        status: ReplyStatus,
    ) -> Result<Vec<Reply>> {
        let params = [article.into(), status.as_str().into()];
        self.query(REPLIES_OF_ARTICLE, &params).await?.map(|r| {
            Ok(Reply {
                id: r.id(0)?,
                article_id: article,
                parent_id: r.opt_id(1)?,
                author_name: r.text(2)?,
                author_url: r.opt_text(3)?,
                body: r.text(4)?,
                status,
                created_at: r.int(5)?,
                staff: r.int(6)? == SHAPE_STAFF,
                link_back: r.int(6)? == SHAPE_LINK_BACK,
                edited_at: r.opt_int(7)?,
            })
        })
    }

    /// An article's newest approved replies, newest first.
    async fn newest_replies(&mut self, article: ArticleId, limit: u64) -> Result<Vec<Reply>> {
        self.query(NEWEST_REPLIES, &[article.into(), limit.into()]).await?.map(reply_from_row)
    }

    /// Replies of one article among the given ids, whatever their status, oldest first.
    async fn replies_by_ids(&mut self, article: ArticleId, ids: &[ReplyId]) -> Result<Vec<Reply>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = ids.iter().map(|id| id.get()).collect();
        let sql = dialect_sql(self, REPLIES_BY_IDS_SQLITE, REPLIES_BY_IDS_POSTGRES);
        self.query(sql, &[article.into(), ids.as_slice().into()]).await?.map(reply_from_row)
    }

    /// Where the given replies sit, whatever their status; missing ids are left out.
    async fn reply_places(&mut self, ids: &[ReplyId]) -> Result<Vec<ReplyPlace>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = ids.iter().map(|id| id.get()).collect();
        let sql = dialect_sql(self, PLACES_SQLITE, PLACES_POSTGRES);
        self.query(sql, &[ids.as_slice().into()]).await?.map(place_from_row)
    }

    /// Where each approved reply of an article sits, in no order: enough to lay out the
    /// thread, whose shown replies are then read with [`ReplyReads::replies_by_ids`]. From a
    /// covering index.
    async fn thread_places(&mut self, article: ArticleId) -> Result<Vec<ReplyPlace>> {
        self.query(THREAD_PLACES, &[article.into()]).await?.map(place_from_row)
    }

    async fn reply(&mut self, id: ReplyId) -> Result<Option<Reply>> {
        self.query(REPLY_BY_ID, &[id.into()]).await?.first(reply_from_row)
    }

    /// One reply as the queue shows it (with its email and address), whatever its status.
    async fn queued_reply(&mut self, id: ReplyId) -> Result<Option<QueuedReply>> {
        let sql = format!(
            "SELECT {}, {QUEUE_COLUMNS} FROM comments c JOIN articles a ON a.id = c.article_id
              WHERE c.id = $1",
            reply_columns!()
        );
        self.query(&sql, &[id.into()]).await?.first(queued_from_row)
    }

    /// Whether this address (compared without regard to ASCII case) has an approved reply.
    async fn has_approved_reply_from(&mut self, email: &str) -> Result<bool> {
        self.query(HAS_APPROVED, &[email.into()]).await?.bool()
    }

    /// The moderation queue: newest first, and how many match.
    async fn queue(&mut self, query: &QueueQuery) -> Result<(Vec<QueuedReply>, u64)> {
        let pattern = headline_pattern(query);
        let (mut filter, mut params) = queue_filter(query, pattern.as_deref());
        let status = query.status.map(ReplyStatus::as_str);
        if let Some(status) = status {
            params.push(status.into());
            filter.push_str(&format!(" AND c.status = ${}", params.len()));
        }
        let count = format!("SELECT count(*) FROM comments c WHERE {filter}");
        let total = self.query(&count, &params).await?.int()? as u64;
        let (limit, offset) = (params.len() + 1, params.len() + 2);
        params.push(query.limit.into());
        params.push(query.offset.into());
        let sql = format!(
            "SELECT {}, {QUEUE_COLUMNS} FROM comments c JOIN articles a ON a.id = c.article_id
              WHERE {filter} ORDER BY c.created_at DESC, c.id DESC LIMIT ${limit} OFFSET ${offset}",
            reply_columns!()
        );
        let found = self.query(&sql, &params).await?.map(queued_from_row)?;
        Ok((found, total))
    }

    /// How many replies have each status, under the same restrictions as
    /// [`ReplyReads::queue`] (its status, offset and limit aside).
    async fn queue_counts(&mut self, query: &QueueQuery) -> Result<Vec<(ReplyStatus, u64)>> {
        let pattern = headline_pattern(query);
        let (filter, params) = queue_filter(query, pattern.as_deref());
        let sql =
            format!("SELECT c.status, count(*) FROM comments c WHERE {filter} GROUP BY c.status");
        let rows = self.query(&sql, &params).await?;
        let counts = rows.map(|r| Ok((ReplyStatus::parse(&r.text(0)?), r.int(1)? as u64)))?;
        Ok(counts.into_iter().filter_map(|(status, n)| Some((status?, n))).collect())
    }

    /// How many replies each of these addresses has, by status (compared without regard to
    /// ASCII case; the addresses come back lowercased): a moderator's view of who wrote.
    async fn reply_history(
        &mut self,
        emails: &[String],
    ) -> Result<Vec<(String, ReplyStatus, u64)>> {
        if emails.is_empty() {
            return Ok(Vec::new());
        }
        // The addresses as one JSON array, which both backends take apart.
        let lowered: Vec<String> = emails.iter().map(|e| e.to_lowercase()).collect();
        let json = serde_json::to_string(&lowered).unwrap_or_else(|_| "[]".into());
        let list = dialect_sql(
            self,
            "SELECT value FROM json_each($1)",
            "SELECT json_array_elements_text(($1::text)::json)",
        );
        let sql = format!(
            "SELECT lower(author_email), status, count(*) FROM comments
              WHERE lower(author_email) IN ({list}) GROUP BY lower(author_email), status"
        );
        let rows = self.query(&sql, &[json.as_str().into()]).await?;
        let found =
            rows.map(|r| Ok((r.text(0)?, ReplyStatus::parse(&r.text(1)?), r.int(2)? as u64)))?;
        Ok(found.into_iter().filter_map(|(e, s, n)| Some((e, s?, n))).collect())
    }

    /// Replies stored from this IP since `since` (the rate limit; it holds across nodes).
    async fn replies_from_ip_since(&mut self, ip: &str, since: i64) -> Result<u64> {
        Ok(self.query(REPLIES_FROM_IP, &[ip.into(), since.into()]).await?.int()? as u64)
    }

    /// Whether this address already posted this exact text on this article since `since`.
    async fn duplicate_reply(
        &mut self,
        article: ArticleId,
        email: &str,
        body: &str,
        since: i64,
    ) -> Result<bool> {
        let params = [article.into(), email.into(), body.into(), since.into()];
        self.query(DUPLICATE_REPLY, &params).await?.bool()
    }
}

impl<T: Db + ?Sized> ReplyReads for T {}

/// Stored only if the article exists: on PostgreSQL no foreign key says so (see migration
/// 0005; articles are never deleted).
const INSERT_REPLY: &str = "INSERT INTO comments (article_id, parent_id, author_name,
        author_email, author_url, body, status, ip, held_reason, user_id, created_at)
    SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11
     WHERE EXISTS (SELECT 1 FROM articles WHERE id = $1)
    RETURNING id";

/// Writing replies, in a unit of work.
#[async_trait]
pub trait ReplyWrites: Tx {
    /// Stores a reply; it is durable once the unit of work commits.
    async fn insert_reply(&mut self, c: &NewReply) -> Result<ReplyId> {
        let params = [
            c.article_id.into(),
            c.parent_id.into(),
            c.author_name.as_str().into(),
            c.author_email.as_str().into(),
            c.author_url.as_ref().map(Website::as_str).into(),
            c.body.as_str().into(),
            c.status.as_str().into(),
            c.ip.as_deref().into(),
            c.held_reason.as_str().into(),
            c.user_id.into(),
            c.created_at.into(),
        ];
        let rows = self.query(INSERT_REPLY, &params).await?;
        rows.first(|r| r.id(0))?.ok_or(StoreError::NotFound("the reply's article"))
    }

    /// Sets a reply's status; false when there is no such reply.
    async fn set_reply_status(&mut self, id: ReplyId, status: ReplyStatus) -> Result<bool> {
        let sql = "UPDATE comments SET status = $2 WHERE id = $1";
        Ok(self.execute(sql, &[id.into(), status.as_str().into()]).await? > 0)
    }

    /// Deletes a reply for ever; its answers keep their place under a placeholder.
    async fn delete_reply(&mut self, id: ReplyId) -> Result<bool> {
        // The record that its news was mailed is kept as long as the reply (see
        // `forget_mails_sent`), and goes with it.
        let sql = "DELETE FROM mails_sent WHERE key LIKE $1 OR key LIKE $2";
        let (told, authors) = (format!("reply:{id}:%"), format!("public:{id}:%"));
        self.execute(sql, &[told.as_str().into(), authors.as_str().into()]).await?;
        Ok(self.execute("DELETE FROM comments WHERE id = $1", &[id.into()]).await? > 0)
    }

    /// Erases the address of every reply written before `before`; returns how many.
    async fn erase_reply_ips(&mut self, before: i64) -> Result<u64> {
        let sql = "UPDATE comments SET ip = NULL WHERE created_at < $1 AND ip IS NOT NULL";
        self.execute(sql, &[before.into()]).await
    }

    /// Makes the unit of work the only one counting replies from `ip` until it ends, so that
    /// concurrent replies from one address are counted one after the other against the rate
    /// limit. (SQLite's units of work already run one at a time.)
    async fn lock_replies_from(&mut self, ip: &str) -> Result<()> {
        if self.dialect() == Dialect::Postgres {
            // Two 32-bit keys: a space apart from the single 64-bit keys of the other locks.
            let sql = "SELECT pg_advisory_xact_lock(1919052146, hashtext($1))";
            self.query(sql, &[ip.into()]).await?;
        }
        Ok(())
    }

    /// Its poster's change of a reply's text, with the status and reason the new text earns.
    async fn edit_reply(&mut self, id: ReplyId, edit: &PosterEdit) -> Result<bool> {
        let sql = "UPDATE comments SET body = $2, status = $3, held_reason = $4, edited_at = $5
                    WHERE id = $1";
        let params = [
            id.into(),
            edit.body.as_str().into(),
            edit.status.as_str().into(),
            edit.held_reason.as_str().into(),
            edit.at.into(),
        ];
        Ok(self.execute(sql, &params).await? > 0)
    }

    /// Its poster's deletion of a reply: to the trash, where staff see who put it there.
    async fn withdraw_reply(&mut self, id: ReplyId) -> Result<bool> {
        let sql = "UPDATE comments SET status = 'trash', held_reason = 'deleted by its poster'
                    WHERE id = $1";
        Ok(self.execute(sql, &[id.into()]).await? > 0)
    }

    /// Replaces a reply's text (a moderator's edit).
    async fn set_reply_body(&mut self, id: ReplyId, body: &ReplyBody) -> Result<bool> {
        let sql = "UPDATE comments SET body = $2 WHERE id = $1";
        Ok(self.execute(sql, &[id.into(), body.as_str().into()]).await? > 0)
    }
}

impl<T: Tx + ?Sized> ReplyWrites for T {}
