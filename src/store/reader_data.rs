//! A reader's own data: the requests mailed to an address for a copy or the erasure of its
//! replies, and those replies as the copy gives them.

use async_trait::async_trait;

use super::{Db, Result, Tx};
use crate::domain::{ReplyId, ReplyStatus};

/// One reply as its author's copy gives it: everything kept of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderReply {
    pub id: ReplyId,
    pub title: String,
    pub path: Option<String>,
    pub created_at: i64,
    pub status: ReplyStatus,
    pub name: String,
    pub email: String,
    pub website: Option<String>,
    /// Until `ip_retention_days` erase it.
    pub ip: Option<String>,
    pub body: String,
}

#[async_trait]
pub trait ReaderDataReads: Db {
    /// The address and action (`copy` or `erase`) of a request made at `since` or later.
    async fn data_request(
        &mut self,
        token_hash: &str,
        since: i64,
    ) -> Result<Option<(String, String)>> {
        let sql =
            "SELECT email, action FROM data_requests WHERE token_hash = $1 AND created_at >= $2";
        self.query(sql, &[token_hash.into(), since.into()])
            .await?
            .first(|r| Ok((r.text(0)?, r.text(1)?)))
    }

    /// When this address last asked (to mail it one link a minute at most).
    async fn last_data_request(&mut self, email: &str) -> Result<Option<i64>> {
        let sql = "SELECT max(created_at) FROM data_requests WHERE email = lower($1)";
        self.query(sql, &[email.into()]).await?.first(|r| r.opt_int(0)).map(Option::flatten)
    }

    /// Every reply posted with this address (compared lowercased), oldest first.
    async fn replies_from_address(&mut self, email: &str) -> Result<Vec<ReaderReply>> {
        let sql = "SELECT c.id, COALESCE(p.title, a.headline), a.status, a.date_path, a.slug,
                          COALESCE(a.thread_url,
                                   CASE WHEN p.status = 'published' THEN p.path END),
                          c.created_at, c.status, c.author_name, c.author_email, c.author_url,
                          c.ip, c.body
                     FROM comments c JOIN articles a ON a.id = c.article_id
                     LEFT JOIN pages p ON p.discussion_id = a.id
                    WHERE lower(c.author_email) = lower($1) AND $1 <> ''
                    ORDER BY c.created_at, c.id";
        self.query(sql, &[email.into()]).await?.map(|r| {
            let (article_status, date_path, slug, page) =
                (r.text(2)?, r.opt_text(3)?, r.text(4)?, r.opt_text(5)?);
            let path = match page {
                Some(page) => Some(crate::domain::paths::page_path(&page)),
                None if article_status == "published" => {
                    crate::domain::paths::public_article_path(date_path.as_deref(), &slug)
                }
                None => None,
            };
            Ok(ReaderReply {
                id: r.id(0)?,
                title: r.text(1)?,
                path,
                created_at: r.int(6)?,
                status: r.parsed(7, ReplyStatus::parse)?,
                name: r.text(8)?,
                email: r.text(9)?,
                website: r.opt_text(10)?,
                ip: r.opt_text(11)?,
                body: r.text(12)?,
            })
        })
    }
}

impl<T: Db + ?Sized> ReaderDataReads for T {}

#[async_trait]
pub trait ReaderDataWrites: Tx {
    async fn create_data_request(
        &mut self,
        token_hash: &str,
        email: &str,
        action: &str,
        now: i64,
    ) -> Result<()> {
        let sql = "INSERT INTO data_requests (token_hash, email, action, created_at)
                   VALUES ($1, lower($2), $3, $4)";
        self.execute(sql, &[token_hash.into(), email.into(), action.into(), now.into()]).await?;
        Ok(())
    }

    /// Ends a request (an erasure is done once); `false` if it was gone.
    async fn end_data_request(&mut self, token_hash: &str) -> Result<bool> {
        let sql = "DELETE FROM data_requests WHERE token_hash = $1";
        Ok(self.execute(sql, &[token_hash.into()]).await? > 0)
    }

    async fn forget_data_requests(&mut self, before: i64) -> Result<u64> {
        self.execute("DELETE FROM data_requests WHERE created_at < $1", &[before.into()]).await
    }
}

impl<T: Tx + ?Sized> ReaderDataWrites for T {}
