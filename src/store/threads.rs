//! Threads embedded in other sites' pages (`embed.js`): each an article row of its own, a
//! draft keyed by the page's canonical address (`articles.thread_url`), so that posting,
//! moderating, threading, counting and mailing its replies is the articles' code, and no
//! listing, feed, sitemap or search of Byline's shows it.

use async_trait::async_trait;

use super::articles::reply_count;
use super::{Db, Result, Row, StoreError, Tx};
use crate::domain::ArticleId;

/// An embedded thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    /// The article row its replies hang on.
    pub id: ArticleId,
    /// The page's canonical address.
    pub url: String,
    /// The page's title when the first reply came, or as staff changed it.
    pub title: String,
    /// When the first reply made it: `close_after_days` counts from here.
    pub created_at: i64,
    pub replies_open: bool,
    pub reply_count: i64,
}

macro_rules! thread_columns {
    () => {
        concat!("a.id, a.thread_url, a.headline, a.created_at, a.replies_open, ", reply_count!())
    };
}

fn thread_from_row(r: &mut Row) -> Result<Thread> {
    Ok(Thread {
        id: r.id(0)?,
        url: r.text(1)?,
        title: r.text(2)?,
        created_at: r.int(3)?,
        replies_open: r.bool(4)?,
        reply_count: r.int(5)?,
    })
}

const THREAD_BY_URL: &str =
    concat!("SELECT ", thread_columns!(), " FROM articles a WHERE a.thread_url = $1");

const THREAD_BY_ID: &str = concat!(
    "SELECT ",
    thread_columns!(),
    " FROM articles a WHERE a.id = $1 AND a.thread_url IS NOT NULL"
);

const THREADS: &str = concat!(
    "SELECT ",
    thread_columns!(),
    " FROM articles a WHERE a.thread_url IS NOT NULL
     ORDER BY a.created_at DESC, a.id DESC LIMIT $1 OFFSET $2"
);

const COUNT_THREADS: &str = "SELECT count(*) FROM articles WHERE thread_url IS NOT NULL";

const COUNTS_SQLITE: &str = concat!(
    "SELECT a.thread_url, ",
    reply_count!(),
    " FROM articles a WHERE a.thread_url IN (SELECT value FROM json_each($1))"
);

const COUNTS_POSTGRES: &str = concat!(
    "SELECT a.thread_url, ",
    reply_count!(),
    " FROM articles a WHERE a.thread_url = ANY($1)"
);

/// A thread's row: a draft with no date, byline or body, published at its creation (so that
/// `close_after_days` counts from there). Any conflict (the address, or the slug made from
/// it) leaves the row that is there.
const INSERT_THREAD: &str = "INSERT INTO articles (slug, headline, standfirst, body_markdown,
        body_html, status, published_at, created_at, updated_at, replies_open, word_count,
        body_text, seo_title, seo_description, social_image, thread_url)
    VALUES ($1, $2, '', '', '', 'draft', $3, $3, $3, TRUE, 0, '', '', '', '', $4)
    ON CONFLICT DO NOTHING";

#[async_trait]
pub trait ThreadReads: Db {
    async fn thread_by_url(&mut self, url: &str) -> Result<Option<Thread>> {
        self.query(THREAD_BY_URL, &[url.into()]).await?.first(thread_from_row)
    }

    /// The thread whose replies hang on article row `id`, if it is one.
    async fn thread(&mut self, id: ArticleId) -> Result<Option<Thread>> {
        self.query(THREAD_BY_ID, &[id.into()]).await?.first(thread_from_row)
    }

    /// Threads, the newest first; and how many there are.
    async fn threads(&mut self, offset: u64, limit: u64) -> Result<(Vec<Thread>, u64)> {
        let total = self.query(COUNT_THREADS, &[]).await?.int()? as u64;
        let rows = self.query(THREADS, &[limit.into(), offset.into()]).await?;
        Ok((rows.map(thread_from_row)?, total))
    }

    /// The approved replies of the threads at these addresses; addresses without a thread
    /// are left out.
    async fn thread_reply_counts(&mut self, urls: &[String]) -> Result<Vec<(String, i64)>> {
        if urls.is_empty() {
            return Ok(Vec::new());
        }
        let sql = super::dialect_sql(self, COUNTS_SQLITE, COUNTS_POSTGRES);
        self.query(sql, &[urls.into()]).await?.map(|r| Ok((r.text(0)?, r.int(1)?)))
    }
}

impl<T: Db + ?Sized> ThreadReads for T {}

#[async_trait]
pub trait ThreadWrites: Tx {
    /// The thread at `url`, made with this title (and slug) if there is none. A thread made
    /// meanwhile by another node is the one returned.
    async fn find_or_create_thread(
        &mut self,
        url: &str,
        title: &str,
        slug: &str,
        now: i64,
    ) -> Result<Thread> {
        if let Some(thread) = self.thread_by_url(url).await? {
            return Ok(thread);
        }
        let params = [slug.into(), title.into(), now.into(), url.into()];
        self.execute(INSERT_THREAD, &params).await?;
        self.thread_by_url(url).await?.ok_or(StoreError::Conflict("the thread's address"))
    }

    /// Renames a thread and opens or closes it to replies; false when there is none.
    async fn update_thread(&mut self, id: ArticleId, title: &str, open: bool) -> Result<bool> {
        let sql = "UPDATE articles SET headline = $2, replies_open = $3
                    WHERE id = $1 AND thread_url IS NOT NULL";
        Ok(self.execute(sql, &[id.into(), title.into(), open.into()]).await? > 0)
    }
}

impl<T: Tx + ?Sized> ThreadWrites for T {}
