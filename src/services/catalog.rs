//! What the API reads that the pages do not read the same way: published articles by a cursor
//! rather than a page number, an article by id, one page of any discussion's thread (an
//! article's, a static page's, an embedded thread's) for a client to lay out, and reply counts
//! for many articles or addresses at once.

use super::Services;
use super::discussion::{self, ThreadPage, ThreadView};
use super::settings;
use crate::domain::{ArticleId, ArticleStatus, DiscussionSettings, ReplyId, RevisionId};
use crate::store::{
    Article, ArticleReads, ArticleSummary, Author, Db, PageReads, Published, StoreError, Thread,
    ThreadReads,
};

type Result<T> = std::result::Result<T, StoreError>;

/// Published articles in `filter`, newest first, after the cursor's `(published_at, id)`; one
/// more than `limit` is read, to tell whether there is a next page.
pub async fn published(
    services: &Services,
    filter: Published,
    after: Option<(i64, ArticleId)>,
    limit: u64,
) -> Result<(Vec<ArticleSummary>, bool)> {
    let mut found = services
        .store
        .read(move |db| {
            Box::pin(async move {
                let mut found = db.published_page(&filter, after, limit + 1).await?;
                let images = found.iter_mut().map(|a| &mut a.image);
                super::reading::with_media(db, images).await?;
                Ok(found)
            })
        })
        .await?;
    let more = found.len() as u64 > limit;
    found.truncate(limit as usize);
    Ok((found, more))
}

/// An article whole (byline, tags, image), with its latest revision; `None` when there is
/// none, or when it is the row a static page's or embedded thread's replies hang on.
pub async fn article(
    services: &Services,
    id: ArticleId,
) -> Result<Option<(Article, Option<RevisionId>)>> {
    services
        .store
        .read(move |db| {
            Box::pin(async move {
                if db.page_of_discussion(id).await?.is_some() || db.thread(id).await?.is_some() {
                    return Ok(None);
                }
                let Some(mut article) = db.article(id).await? else { return Ok(None) };
                super::reading::with_media(db, std::iter::once(&mut article.image)).await?;
                let revision = db.latest_revision(id).await?;
                Ok(Some((article, revision)))
            })
        })
        .await
}

/// A published article whole, as [`article`].
pub async fn published_article(
    services: &Services,
    id: ArticleId,
) -> Result<Option<(Article, Option<RevisionId>)>> {
    Ok(article(services, id).await?.filter(|(a, _)| a.status == ArticleStatus::Published))
}

/// The authors with a published article.
pub async fn authors(services: &Services) -> Result<Vec<Author>> {
    services.store.read(|db| db.published_authors()).await
}

/// A discussion: what its replies hang on, where it is shown, and whether it takes replies.
#[derive(Debug, Clone)]
pub struct Discussion {
    pub article_id: ArticleId,
    /// The page that shows it: an article's or a static page's path, or an embedded
    /// thread's whole address.
    pub path: String,
    pub open: bool,
    pub reply_count: i64,
}

/// The discussion of published article (or published static page's discussion) `id`.
pub async fn discussion(services: &Services, id: ArticleId) -> Result<Option<Discussion>> {
    let now = services.clock.now();
    let settings = settings::effective(services).await?.settings;
    services
        .store
        .read(move |db| {
            Box::pin(async move {
                let Some((target, path)) = discussion::target_by_id(db, id).await? else {
                    return Ok(None);
                };
                let reply_count = db.article(id).await?.map_or(0, |a| a.reply_count);
                let open = target.replies_open && !settings.closed_by_age(target.published_at, now);
                Ok(Some(Discussion { article_id: id, path, open, reply_count }))
            })
        })
        .await
}

/// An embedded thread as a discussion.
pub fn thread_discussion(thread: &Thread, settings: &DiscussionSettings, now: i64) -> Discussion {
    let open = thread.replies_open && !settings.closed_by_age(Some(thread.created_at), now);
    Discussion {
        article_id: thread.id,
        path: thread.url.clone(),
        open,
        reply_count: thread.reply_count,
    }
}

/// Page `page` (the newest when `None`) of a discussion's thread, with the poster's held
/// replies among `held`; `None` when there is no such page.
pub async fn thread_page(
    services: &Services,
    discussion: &Discussion,
    held: Vec<ReplyId>,
    page: Option<usize>,
) -> Result<Option<ThreadPage>> {
    let settings = settings::effective(services).await?.settings;
    let (id, known) = (discussion.article_id, discussion.reply_count);
    services
        .store
        .read(move |db| {
            Box::pin(async move {
                let view = ThreadView {
                    held_ids: &held,
                    max_depth: settings.thread_depth,
                    per_page: settings.replies_per_page,
                };
                discussion::thread_page(db, id, view, page, known).await
            })
        })
        .await
}

/// The approved replies of those of these articles that are published, and of the pages at
/// these addresses: this site's articles by their address, other sites' pages by their
/// thread's. Unknown addresses count 0.
pub async fn counts(
    services: &Services,
    ids: Vec<i64>,
    urls: Vec<String>,
) -> Result<(Vec<(ArticleId, i64)>, Vec<(String, i64)>)> {
    let base = services.config.base_url.clone();
    services
        .store
        .read(move |db| {
            Box::pin(async move {
                let by_id = db.published_reply_counts(&ids).await?;
                let mut by_url = Vec::with_capacity(urls.len());
                let threads = db.thread_reply_counts(&urls).await?;
                for url in urls {
                    let count = match threads.iter().find(|(u, _)| *u == url) {
                        Some((_, n)) => *n,
                        None => own_count(db, &base, &url).await?,
                    };
                    by_url.push((url, count));
                }
                Ok((by_id, by_url))
            })
        })
        .await
}

/// The reply count of this site's published article at `url`, or 0.
async fn own_count(db: &mut dyn Db, base: &str, url: &str) -> Result<i64> {
    let Some(path) = url.strip_prefix(base) else { return Ok(0) };
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let [year, month, day, slug] = parts.as_slice() else { return Ok(0) };
    let date = format!("{year}/{month}/{day}");
    match db.reply_target(slug.to_string()).await? {
        Some(target) if target.date_path.as_deref() == Some(date.as_str()) => {
            let counts = db.published_reply_counts(&[target.id.get()]).await?;
            Ok(counts.first().map_or(0, |(_, n)| *n))
        }
        _ => Ok(0),
    }
}
