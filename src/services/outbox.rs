//! The outbox's worker: hands every recorded event to every registered handler, at least
//! once, off the request path. Each handler has its own task, so one that is slow, failing or
//! stuck holds back only its own later events (on the same article); a failed delivery is
//! retried with backoff. With several nodes, each delivery is claimed by one node for a lease;
//! a node killed before it finished leaves the lease to expire, and another node (or the same
//! one, restarted) delivers.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use super::Services;
use crate::domain::events::Event;
use crate::store::{Claimed, OutboxReads, OutboxWrites, StoreError};

/// Something to do with every event: send mail, push a live update, process a photo.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    /// A stable name: deliveries are recorded under it, on every node.
    fn name(&self) -> &'static str;

    /// Acts on one event. An error is retried later; so is taking longer than [`LEASE`].
    async fn handle(&self, event: &Event) -> Result<(), String>;

    /// The kinds of event it acts on; empty (the default) for every kind. Events of other
    /// kinds make no delivery for it (a reply costs no row for the photos' handler).
    fn kinds(&self) -> &'static [crate::domain::EventKind] {
        &[]
    }

    /// Seconds after an event when retrying it stops (the reason is kept); `None`: never.
    fn give_up_after(&self) -> Option<i64> {
        None
    }
}

/// How long a node may hold a delivery before another may take it (seconds).
pub const LEASE: i64 = 60;
/// Deliveries claimed at once by one handler (at most one per article).
const BATCH: u32 = 16;
/// The longest wait between two attempts (seconds).
const MAX_BACKOFF: i64 = 3600;

/// The wait before attempt `attempt + 1`: 1 s, 2 s, 4 s… up to an hour.
/// What the outbox has still to deliver.
pub struct Backlog {
    pub pending: u64,
    /// When the oldest event with a delivery still to do was recorded.
    pub oldest_at: Option<i64>,
}

pub async fn backlog(services: &Services) -> Result<Backlog, StoreError> {
    let (pending, oldest_at) = services.store.read(|db| db.outbox_backlog()).await?;
    Ok(Backlog { pending, oldest_at })
}

pub fn backoff(attempt: u32) -> i64 {
    1_i64.checked_shl(attempt.saturating_sub(1)).unwrap_or(MAX_BACKOFF).min(MAX_BACKOFF)
}

/// Makes every event recorded from now on due to these handlers too.
pub async fn register(
    services: &Services,
    handlers: &[Arc<dyn Handler>],
) -> Result<(), StoreError> {
    let names: Vec<(&'static str, &'static [crate::domain::EventKind])> =
        handlers.iter().map(|h| (h.name(), h.kinds())).collect();
    let now = services.clock.now();
    services
        .store
        .write(move |tx| {
            Box::pin(async move {
                for (name, kinds) in names {
                    tx.register_handler_for(name, kinds, now).await?;
                }
                Ok(())
            })
        })
        .await
}

/// Starts one delivering task per handler; `poll` is how often each looks for work that no
/// local commit announced (other nodes' events, retries that fell due).
pub fn spawn(
    services: Arc<Services>,
    handlers: Vec<Arc<dyn Handler>>,
    poll: Duration,
) -> Vec<tokio::task::JoinHandle<()>> {
    let node = crate::domain::signing::new_secret()[..16].to_owned();
    handlers
        .into_iter()
        .map(|handler| {
            let (services, node) = (services.clone(), node.clone());
            tokio::spawn(async move { work(services, handler, node, poll).await })
        })
        .collect()
}

async fn work(services: Arc<Services>, handler: Arc<dyn Handler>, node: String, poll: Duration) {
    use futures_util::stream::{FuturesUnordered, StreamExt};
    let name = handler.name();
    // Deliveries under way, each of another article: a slow one holds back only its own.
    let mut in_flight = FuturesUnordered::new();
    loop {
        // Listening before looking, so that an event committed meanwhile is not missed.
        let seen = services.clock.now();
        let recorded = services.changes.events.notified();
        tokio::pin!(recorded);
        recorded.as_mut().enable();
        let room = BATCH.saturating_sub(in_flight.len() as u32);
        let batch = if room > 0 { claim(&services, name, &node, room).await } else { Vec::new() };
        let claimed = !batch.is_empty();
        for delivery in batch {
            in_flight.push(deliver(&services, &*handler, &node, delivery));
        }
        if claimed {
            continue;
        }
        tokio::select! {
            Some(()) = in_flight.next(), if !in_flight.is_empty() => {}
            () = &mut recorded => {}
            () = tokio::time::sleep(poll) => {}
            () = services.clock.moved_since(seen) => {}
        }
    }
}

/// Claims up to `room` of `handler`'s due deliveries for this node.
async fn claim(services: &Services, handler: &'static str, node: &str, room: u32) -> Vec<Claimed> {
    let now = services.clock.now();
    let node = node.to_owned();
    let claimed = services
        .store
        .write(move |tx| {
            Box::pin(async move {
                let made = tx.sequence_events().await?;
                let claimed = tx.claim_deliveries(handler, &node, now, now + LEASE, room).await?;
                Ok::<_, StoreError>((made, claimed))
            })
        })
        .await;
    match claimed {
        Ok((made, claimed)) => {
            if made > 0 {
                // The other handlers have new deliveries too; live updates have news.
                services.changes.events.notify_waiters();
                services.changes.events_sequenced();
            }
            claimed
        }
        Err(e) => {
            tracing::warn!(handler, error = %e, "cannot claim outbox deliveries");
            Vec::new()
        }
    }
}

/// A handler gets less than the lease, so that it has given up before another node may take
/// the delivery over.
const HANDLING: Duration = Duration::from_secs(LEASE as u64 - 10);

async fn deliver(services: &Services, handler: &dyn Handler, node: &str, claimed: Claimed) {
    let Claimed { event, attempt } = claimed;
    let name = handler.name();
    let outcome = match tokio::time::timeout(HANDLING, handler.handle(&event)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(format!("took longer than {} s", HANDLING.as_secs())),
    };
    let now = services.clock.now();
    let given_up = handler.give_up_after().is_some_and(|limit| now - event.created_at >= limit);
    let node = node.to_owned();
    let recorded = match &outcome {
        Ok(()) => {
            services
                .store
                .write(move |tx| {
                    Box::pin(async move { tx.complete_delivery(event.id, name, now).await })
                })
                .await
        }
        Err(error) if given_up => {
            tracing::warn!(handler = name, event = %event.id, error, "gave up an outbox delivery");
            let error = error.clone();
            services
                .store
                .write(move |tx| {
                    Box::pin(async move {
                        tx.give_up_delivery(event.id, name, &node, &error, now).await
                    })
                })
                .await
        }
        Err(error) => {
            tracing::info!(handler = name, event = %event.id, attempt, error, "outbox delivery failed");
            let (error, retry_at) = (error.clone(), now + backoff(attempt));
            services
                .store
                .write(move |tx| {
                    Box::pin(async move {
                        tx.fail_delivery(event.id, name, &node, &error, retry_at).await
                    })
                })
                .await
        }
    };
    if let Err(e) = recorded {
        // The lease runs out and the delivery is made again: at least once.
        tracing::warn!(handler = name, event = %event.id, error = %e, "cannot record a delivery");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let waits: Vec<i64> = (1..=4).map(backoff).collect();
        assert_eq!(waits, [1, 2, 4, 8]);
        assert_eq!(backoff(13), 3600);
        assert_eq!(backoff(200), 3600);
    }
}
