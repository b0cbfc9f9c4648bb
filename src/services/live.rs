//! What live updates read: the outbox's events that change what a thread shows, in the
//! order the outbox numbered them. Every node reads them (the outbox's claim hands an event
//! to one node only), woken when this node numbers events or another node announces that it
//! did, and once a second in case an announcement was lost; a reader's stream replays them
//! after the last one it saw (`Last-Event-ID`), for as long as the outbox keeps them
//! (`outbox_keep_hours`).

use super::Services;
use crate::domain::ArticleId;
use crate::domain::events::Event;
use crate::store::{OutboxReads, StoreError};

/// Events numbered after `after` that change a thread (of `article`, or of any), in order,
/// with their numbers.
pub async fn events_after(
    services: &Services,
    after: i64,
    article: Option<ArticleId>,
    limit: u64,
) -> Result<Vec<(i64, Event)>, StoreError> {
    services
        .store
        .read(move |db| Box::pin(async move { db.reply_events_after(after, article, limit).await }))
        .await
}

/// The first and last numbers of the events kept (0 when there are none).
pub async fn event_numbers(services: &Services) -> Result<(i64, i64), StoreError> {
    services.store.read(|db| db.event_numbers()).await
}
