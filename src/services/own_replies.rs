//! A reader's own replies: changed or deleted from the browser that posted them, for
//! `edit_window_minutes` after posting. Which replies a browser posted is the web layer's
//! business (a signed cookie); whether the window is still open, and what the new text earns,
//! is decided here, in the unit of work that writes it.

use super::discussion::{Candidate, address_of_reply, judge};
use super::{Services, UnitOfWork, settings};
use crate::domain::reply::{ReplyBody, field};
use crate::domain::{EventKind, FieldError, ReplyId, ReplyStatus};
use crate::store::{PosterEdit, QueuedReply, Reply, ReplyReads, ReplyWrites, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum OwnError {
    /// The time to change it has passed, or it is no longer shown (removed, or spam).
    #[error("this reply can no longer be changed")]
    Closed,
    /// The new text breaks a rule; the form comes back with it.
    #[error("the new text is not valid")]
    Invalid(Vec<FieldError>),
    #[error("no such reply")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A reply its poster may still change.
#[derive(Debug, Clone)]
pub struct OwnReply {
    pub reply: Reply,
    /// The headline of what it answers (an article, or a page).
    pub headline: String,
    /// The address of the page that shows its thread.
    pub path: String,
    pub seconds_left: i64,
}

/// What an edit made of the reply.
#[derive(Debug, Clone)]
pub struct Edited {
    pub status: ReplyStatus,
    /// The page of replies that shows it, with `#comment-ID`.
    pub location: String,
}

/// Reply `id`, if its poster may still change it.
pub async fn own_reply(services: &Services, id: ReplyId) -> Result<OwnReply, OwnError> {
    let settings = settings::effective(services).await?.settings;
    let found = services.store.read(move |db| db.queued_reply(id)).await?;
    let queued = found.ok_or(OwnError::NotFound)?;
    let (path, seconds_left) = still_open(&queued, &settings, services.clock.now())?;
    Ok(OwnReply { headline: queued.article_headline, reply: queued.reply, path, seconds_left })
}

/// Where the reply's thread is shown and how long it may still be changed, if it may.
fn still_open(
    queued: &QueuedReply,
    settings: &crate::domain::DiscussionSettings,
    now: i64,
) -> Result<(String, i64), OwnError> {
    let shown = matches!(queued.reply.status, ReplyStatus::Approved | ReplyStatus::Pending);
    let left = settings.edit_seconds_left(queued.reply.created_at, now);
    // Staff answers and imported replies have no poster with a browser to change them from.
    let readers = !queued.reply.staff && !queued.reply.link_back;
    match (shown && readers, left, queued.public_path()) {
        (true, Some(left), Some(path)) => Ok((path, left)),
        _ => Err(OwnError::Closed),
    }
}

/// Its poster's new text for reply `id`: checked as a new reply's would be (an approved reply
/// edited to carry too many links goes back to the queue), and marked as edited. Subscribers
/// were told of the reply when it became public and are not told again.
pub async fn edit(services: &Services, id: ReplyId, comment: &str) -> Result<Edited, OwnError> {
    let body = ReplyBody::parse(comment, services.config.limits.comment)
        .map_err(|m| OwnError::Invalid(vec![FieldError::new(field::COMMENT, m)]))?;
    let settings = settings::effective(services).await?.settings;
    let kept = settings.clone();
    let (article_id, path, status) = services
        .commit(move |unit| {
            Box::pin(async move {
                let now = unit.now();
                let queued = unit.queued_reply(id).await?.ok_or(OwnError::NotFound)?;
                let (path, _) = still_open(&queued, &kept, now)?;
                let candidate = Candidate {
                    body: body.as_str(),
                    name: &queued.reply.author_name,
                    email: &queued.author_email,
                    website: queued.reply.author_url.as_deref(),
                    ip: queued.ip.as_deref().unwrap_or_default(),
                    honeypot_filled: false,
                    fill_seconds: None,
                };
                let (status, held_reason) = judge(&mut **unit, &kept, &candidate).await?;
                let edit = PosterEdit { body, status, held_reason, at: now };
                unit.edit_reply(id, &edit).await?;
                changed(unit, &queued.reply, Some(status), &path);
                Ok::<_, OwnError>((queued.reply.article_id, path, status))
            })
        })
        .await?;
    tracing::info!(reply = %id, status = %status, "a reader edited their reply");
    let location = match status {
        ReplyStatus::Approved | ReplyStatus::Pending => {
            address_of_reply(services, article_id, &path, id, &settings).await?
        }
        _ => format!("{path}#replies"),
    };
    Ok(Edited { status, location })
}

/// Its poster's deletion of reply `id`: it goes to the trash (staff see that its poster put
/// it there); answers to it keep their place under a placeholder. Returns the address of the
/// thread it was in.
pub async fn withdraw(services: &Services, id: ReplyId) -> Result<String, OwnError> {
    let settings = settings::effective(services).await?.settings;
    let path = services
        .commit(move |unit| {
            Box::pin(async move {
                let queued = unit.queued_reply(id).await?.ok_or(OwnError::NotFound)?;
                let (path, _) = still_open(&queued, &settings, unit.now())?;
                unit.withdraw_reply(id).await?;
                changed(unit, &queued.reply, None, &path);
                Ok::<_, OwnError>(path)
            })
        })
        .await?;
    tracing::info!(reply = %id, "a reader deleted their reply");
    Ok(format!("{path}#replies"))
}

/// What the change makes public, and tells the outbox: a reply that leaves the page is
/// removed; one that goes back to the queue is held again, for moderators to see.
fn changed(unit: &mut UnitOfWork<'_>, before: &Reply, after: Option<ReplyStatus>, path: &str) {
    let was_public = before.status == ReplyStatus::Approved;
    let is_public = after == Some(ReplyStatus::Approved);
    if was_public && !is_public {
        unit.record(EventKind::ReplyRemoved, before.article_id, Some(before.id));
    }
    // A held reply edited into one that passes goes public now: told as an approval would be
    // (its followers' mail, live readers).
    if is_public && !was_public {
        unit.record(EventKind::ReplyApproved, before.article_id, Some(before.id));
    }
    if after == Some(ReplyStatus::Pending) && before.status != ReplyStatus::Pending {
        unit.record(EventKind::ReplyHeld, before.article_id, Some(before.id));
    }
    if was_public || is_public {
        unit.replies_changed(Some(path.to_owned()));
    }
}
