//! A reader's rights over their replies: a copy of every reply posted with their address, or
//! its erasure, each asked for on `/my-replies` and done through a link mailed to that address
//! (so that only its owner can). Erasing deletes each reply (text, name, email, website and
//! address with it); one that others answered keeps its place under "This reply was removed.",
//! so threads stay whole; the address's subscriptions go too.

use std::sync::Arc;

use super::Services;
use super::staff::token_hash;
use crate::domain::reply::Email;
use crate::store::{
    ReaderDataReads, ReaderDataWrites, ReaderReply, StoreError, SubscriptionReads,
    SubscriptionWrites,
};

/// How long a mailed link works (seconds).
pub const LINK_SECONDS: i64 = 24 * 3600;
/// One link a minute at most to an address.
const ASK_EVERY: i64 = 60;

/// What a reader asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Copy,
    Erase,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Copy => "copy",
            Self::Erase => "erase",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "copy" => Some(Self::Copy),
            "erase" => Some(Self::Erase),
            _ => None,
        }
    }
}

/// A request a mailed link stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub email: String,
    pub action: Action,
}

/// Mails the link for `action` to `email` if replies were posted with it. The caller answers
/// the same whatever happens, and the mail leaves on a task of its own, so that the answer
/// tells nobody whether an address posted here.
pub fn ask(services: &Arc<Services>, email: &str, action: Action) {
    let Ok(email) = Email::parse(email, 254) else { return };
    let (services, email) = (services.clone(), email.as_str().to_lowercase());
    tokio::spawn(async move {
        if let Err(e) = mail_link(&services, &email, action).await {
            tracing::warn!(error = %e, "could not mail a reader's data link");
        }
    });
}

async fn mail_link(services: &Services, email: &str, action: Action) -> Result<(), String> {
    if !services.mailer.is_on() {
        return Ok(());
    }
    let (owned, now) = (email.to_owned(), services.clock.now());
    let (replies, last) = services
        .store
        .read(move |db| {
            Box::pin(async move {
                let replies = db.replies_from_address(&owned).await?.len();
                Ok((replies, db.last_data_request(&owned).await?))
            })
        })
        .await
        .map_err(|e| e.to_string())?;
    if replies == 0 || last.is_some_and(|at| now - at < ASK_EVERY) {
        return Ok(());
    }
    let token = crate::domain::signing::new_secret();
    let (hash, owned) = (token_hash(&token), email.to_owned());
    services
        .store
        .write(move |tx| {
            Box::pin(
                async move { tx.create_data_request(&hash, &owned, action.as_str(), now).await },
            )
        })
        .await
        .map_err(|e| e.to_string())?;
    super::mail::send_data_link(services, email, action, &token, replies).await
}

/// The request a mailed link stands for, if it still works.
pub async fn request(services: &Services, token: &str) -> Result<Option<Request>, StoreError> {
    let (hash, since) = (token_hash(token), services.clock.now() - LINK_SECONDS);
    let found = services
        .store
        .read(move |db| Box::pin(async move { db.data_request(&hash, since).await }))
        .await?;
    Ok(found.and_then(|(email, action)| Some(Request { email, action: Action::parse(&action)? })))
}

/// Every reply posted with this address.
pub async fn replies(services: &Services, email: &str) -> Result<Vec<ReaderReply>, StoreError> {
    let email = email.to_owned();
    services
        .store
        .read(move |db| Box::pin(async move { db.replies_from_address(&email).await }))
        .await
}

/// Erases what a genuine erasure link names, once: how many replies went.
pub async fn erase_with(services: &Services, token: &str) -> Result<Option<usize>, StoreError> {
    let Some(request) = request(services, token).await?.filter(|r| r.action == Action::Erase)
    else {
        return Ok(None);
    };
    // Erased first, the link ended after: a failure leaves the link working, and erasing
    // twice erases nothing more.
    let count = erase(services, &request.email).await?;
    let hash = token_hash(token);
    let ended =
        services.store.write(move |tx| Box::pin(async move { tx.end_data_request(&hash).await }));
    Ok(ended.await?.then_some(count))
}

/// Erases every reply posted with `email`, and forgets the address's subscriptions (a reader
/// through a mailed link, or staff from the queue).
pub async fn erase(services: &Services, email: &str) -> Result<usize, StoreError> {
    let ids: Vec<_> = replies(services, email).await?.into_iter().map(|r| r.id).collect();
    let count = ids.len();
    super::moderation::erase(services, ids).await?;
    let owned = email.to_owned();
    services
        .store
        .write(move |tx| {
            Box::pin(async move {
                if let Some(address) = tx.mail_address_of(&owned).await? {
                    tx.forget_address(address.id).await?;
                }
                Ok::<_, StoreError>(())
            })
        })
        .await?;
    tracing::info!(replies = count, "erased a reader's replies");
    Ok(count)
}
