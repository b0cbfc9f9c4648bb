//! The newsroom's first page: what waits for this person (held replies, their drafts), what
//! is coming (scheduled articles), and what readers are doing (the latest replies, today's
//! most-replied articles). Read in one go; authors see their own articles' share.

use super::Services;
use super::moderation::scope;
use super::publishing::lead_id;
use crate::domain::{ArticleId, ArticleStatus, ReplyStatus};
use crate::store::{
    ArticleQuery, ArticleReads, ArticleSort, ArticleSummary, QueueQuery, QueuedReply, ReplyReads,
    StoreError, User,
};

/// How many of each list the dashboard shows.
const SHOWN: u64 = 5;

pub struct Dashboard {
    /// Replies waiting for this person (or anyone) to moderate.
    pub held: u64,
    pub held_replies: Vec<QueuedReply>,
    pub latest_replies: Vec<QueuedReply>,
    pub drafts: Vec<ArticleSummary>,
    pub drafts_total: u64,
    /// Soonest first.
    pub scheduled: Vec<ArticleSummary>,
    /// Today's (in the site's time zone) most-replied articles, and how many replies each got.
    pub most_replied: Vec<(ArticleSummary, u64)>,
    pub lead: Option<ArticleId>,
}

pub async fn dashboard(services: &Services, user: &User) -> Result<Dashboard, StoreError> {
    let replies = QueueQuery { byline_author_id: scope(user), limit: SHOWN, ..Default::default() };
    let mine = user.author.id;
    let scheduled_scope = scope(user);
    let today = start_of_today(services);
    services
        .store
        .read(move |db| {
            Box::pin(async move {
                let held_query =
                    QueueQuery { status: Some(ReplyStatus::Pending), ..replies.clone() };
                let (held_replies, held) = db.queue(&held_query).await?;
                let approved = QueueQuery { status: Some(ReplyStatus::Approved), ..replies };
                let (latest_replies, _) = db.queue(&approved).await?;
                let drafts = ArticleQuery {
                    status: Some(ArticleStatus::Draft),
                    author_id: Some(mine),
                    limit: SHOWN,
                    ..Default::default()
                };
                let (drafts, drafts_total) = db.list_articles(&drafts).await?;
                let scheduled = ArticleQuery {
                    status: Some(ArticleStatus::Scheduled),
                    author_id: scheduled_scope,
                    sort: ArticleSort::Published,
                    descending: false,
                    limit: SHOWN * 2,
                    ..Default::default()
                };
                let (scheduled, _) = db.list_articles(&scheduled).await?;
                Ok(Dashboard {
                    held,
                    held_replies,
                    latest_replies,
                    drafts,
                    drafts_total,
                    scheduled,
                    most_replied: db.most_replied_since(today, SHOWN).await?,
                    lead: lead_id(db).await?,
                })
            })
        })
        .await
}

/// How many replies wait for `user` to moderate (every page of the newsroom shows it).
pub async fn held_count(services: &Services, user: &User) -> Result<u64, StoreError> {
    let query = QueueQuery {
        status: Some(ReplyStatus::Pending),
        byline_author_id: scope(user),
        ..Default::default()
    };
    services
        .store
        .read(move |db| {
            Box::pin(async move {
                let counts = db.queue_counts(&query).await?;
                Ok(counts.iter().find(|(s, _)| *s == ReplyStatus::Pending).map_or(0, |(_, n)| *n))
            })
        })
        .await
}

/// Midnight at the start of today in the site's time zone, as Unix seconds.
fn start_of_today(services: &Services) -> i64 {
    let now = jiff::Timestamp::from_second(services.clock.now()).unwrap_or_default();
    let zoned = now.to_zoned(services.config.timezone.clone());
    zoned.start_of_day().map_or(services.clock.now() - 86_400, |z| z.timestamp().as_second())
}
