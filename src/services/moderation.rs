//! Moderation: the queue, and the decisions staff make on replies, one by one or in bulk,
//! each (and each bulk) one unit of work. Editors and admins moderate every reply; authors the
//! replies on their own articles.

use super::publishing::can_edit;
use super::{Services, UnitOfWork};
use crate::domain::reply::{AuthorName, Email, ReplyBody, field};
use crate::domain::{EventKind, FieldError, ReplyId, ReplyStatus};
use crate::store::{
    Article, ArticleReads, NewReply, QueueQuery, QueuedReply, Reply, ReplyReads, ReplyWrites,
    StoreError, User,
};

#[derive(Debug, thiserror::Error)]
pub enum ModerationError {
    #[error("{}", .0.message)]
    Invalid(FieldError),
    #[error("you moderate replies on your own articles only")]
    Forbidden,
    #[error("no such reply")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a moderator does to a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    /// Back to held.
    Unapprove,
    Spam,
    /// Out of spam, back to held.
    NotSpam,
    Trash,
    /// Out of the trash, back to held.
    Restore,
    /// For ever; its answers keep their place under a placeholder.
    Delete,
}

impl Decision {
    /// The form's verb: `approve`, `unapprove`, `spam`, `notspam`, `trash`, `restore`, `delete`.
    pub fn parse(verb: &str) -> Option<Self> {
        Some(match verb {
            "approve" => Self::Approve,
            "unapprove" => Self::Unapprove,
            "spam" => Self::Spam,
            "notspam" => Self::NotSpam,
            "trash" => Self::Trash,
            "restore" => Self::Restore,
            "delete" => Self::Delete,
            _ => return None,
        })
    }

    /// The status it leaves the reply in; `None` for a reply deleted for ever.
    fn status(self) -> Option<ReplyStatus> {
        match self {
            Self::Approve => Some(ReplyStatus::Approved),
            Self::Unapprove | Self::NotSpam | Self::Restore => Some(ReplyStatus::Pending),
            Self::Spam => Some(ReplyStatus::Spam),
            Self::Trash => Some(ReplyStatus::Trash),
            Self::Delete => None,
        }
    }
}

/// Whether `user` may moderate the replies on `article`.
pub fn can_moderate(user: &User, article: &Article) -> bool {
    can_edit(user, article)
}

/// What this person's queue covers: authors see replies on their own articles only.
pub(crate) fn scope(user: &User) -> Option<crate::domain::AuthorId> {
    (!user.role.edits_all_articles()).then_some(user.author.id)
}

/// One page of the queue, with the count of each status.
pub struct Queue {
    pub counts: Vec<(ReplyStatus, u64)>,
    pub replies: Vec<QueuedReply>,
    pub total: u64,
    /// How many replies each address on the page has, by status (lowercased addresses).
    pub history: Vec<(String, ReplyStatus, u64)>,
}

/// The queue as `user` may see it, filtered by `query` (its author scope is set here).
pub async fn queue(
    services: &Services,
    user: &User,
    mut query: QueueQuery,
) -> Result<Queue, StoreError> {
    query.byline_author_id = scope(user);
    services
        .store
        .read(move |db| {
            Box::pin(async move {
                let status = query.status.take();
                let counts = db.queue_counts(&query).await?;
                query.status = status;
                let (replies, total) = db.queue(&query).await?;
                let mut emails: Vec<String> =
                    replies.iter().map(|q| q.author_email.to_lowercase()).collect();
                emails.sort_unstable();
                emails.dedup();
                let history = db.reply_history(&emails).await?;
                Ok(Queue { counts, replies, total, history })
            })
        })
        .await
}

/// A reply `user` may moderate, and its article.
async fn moderatable_in(
    db: &mut dyn crate::store::Db,
    user: &User,
    id: ReplyId,
) -> Result<(Reply, Article), ModerationError> {
    let reply = db.reply(id).await?.ok_or(ModerationError::NotFound)?;
    let article = db.article(reply.article_id).await?.ok_or(ModerationError::NotFound)?;
    if can_moderate(user, &article) {
        Ok((reply, article))
    } else {
        Err(ModerationError::Forbidden)
    }
}

/// A reply `user` may moderate (for the edit and answer pages).
pub async fn moderatable(
    services: &Services,
    user: &User,
    id: ReplyId,
) -> Result<Reply, ModerationError> {
    let found = services
        .store
        .read(move |db| {
            Box::pin(async move {
                let Some(reply) = db.reply(id).await? else { return Ok(None) };
                Ok(db.article(reply.article_id).await?.map(|article| (reply, article)))
            })
        })
        .await?;
    let (reply, article) = found.ok_or(ModerationError::NotFound)?;
    if can_moderate(user, &article) { Ok(reply) } else { Err(ModerationError::Forbidden) }
}

/// What a status change makes public, and tells the outbox.
async fn status_changed(
    unit: &mut UnitOfWork<'_>,
    reply: &Reply,
    article: &Article,
    to: Option<ReplyStatus>,
) -> Result<(), StoreError> {
    let was_public = reply.status == ReplyStatus::Approved;
    let is_public = to == Some(ReplyStatus::Approved);
    let event = match (was_public, is_public, to) {
        (false, true, _) => Some(EventKind::ReplyApproved),
        (true, false, _) => Some(EventKind::ReplyRemoved),
        (false, false, Some(ReplyStatus::Pending)) if reply.status != ReplyStatus::Pending => {
            Some(EventKind::ReplyHeld)
        }
        _ => None,
    };
    if let Some(kind) = event {
        unit.record(kind, article.id, Some(reply.id));
    }
    // A deleted reply's place changes how its answers show, whatever its status was.
    if was_public || is_public || to.is_none() {
        unit.replies_of_changed(article).await?;
    }
    Ok(())
}

/// Applies `decision` to every reply in `ids`, all or none: one the user may not moderate
/// refuses the whole decision.
pub async fn decide(
    services: &Services,
    user: &User,
    decision: Decision,
    ids: Vec<ReplyId>,
) -> Result<(), ModerationError> {
    let replies: Vec<i64> = ids.iter().map(|id| id.get()).collect();
    apply(services, Some(user.clone()), decision, ids).await?;
    tracing::info!(staff = user.id.get(), ?decision, ?replies, "moderated");
    Ok(())
}

/// Deletes these replies for ever, whoever's articles they are on: a reader's erasure of their
/// own replies (their answers keep their place under a placeholder).
pub async fn erase(services: &Services, ids: Vec<ReplyId>) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    match apply(services, None, Decision::Delete, ids).await {
        Ok(()) | Err(ModerationError::NotFound) => Ok(()),
        Err(ModerationError::Store(e)) => Err(e),
        Err(e) => Err(StoreError::Database(e.to_string())),
    }
}

/// `byline reply approve ID`: whoever runs the command line may moderate any reply.
pub async fn approve_from_command_line(
    services: &Services,
    id: ReplyId,
) -> Result<(), ModerationError> {
    apply(services, None, Decision::Approve, vec![id]).await
}

/// A decision by `user`, or by the command line (`None`).
async fn apply(
    services: &Services,
    user: Option<User>,
    decision: Decision,
    mut ids: Vec<ReplyId>,
) -> Result<(), ModerationError> {
    // In one order whatever the form's, so that two decisions over the same replies take
    // their rows' locks alike and cannot deadlock.
    ids.sort_unstable();
    ids.dedup();
    services
        .commit(move |unit| {
            Box::pin(async move {
                for id in ids {
                    let (reply, article) = match &user {
                        Some(user) => moderatable_in(&mut **unit, user, id).await?,
                        None => {
                            let reply = unit.reply(id).await?.ok_or(ModerationError::NotFound)?;
                            let article = unit.article(reply.article_id).await?;
                            (reply, article.ok_or(ModerationError::NotFound)?)
                        }
                    };
                    let to = decision.status();
                    if to == Some(reply.status) {
                        continue;
                    }
                    match to {
                        Some(status) => unit.set_reply_status(id, status).await?,
                        None => unit.delete_reply(id).await?,
                    };
                    status_changed(unit, &reply, &article, to).await?;
                    tracing::info!(reply = %id, decision = ?decision, "moderated");
                }
                Ok(())
            })
        })
        .await
}

/// A moderator's edit of a reply's text.
pub async fn edit(
    services: &Services,
    user: &User,
    id: ReplyId,
    body: &str,
) -> Result<(), ModerationError> {
    let staff = user.id.get();
    let body = ReplyBody::parse(body, services.config.limits.comment)
        .map_err(|m| ModerationError::Invalid(FieldError::new(field::COMMENT, m)))?;
    let user = user.clone();
    services
        .commit(move |unit| {
            Box::pin(async move {
                let (reply, article) = moderatable_in(&mut **unit, &user, id).await?;
                unit.set_reply_body(id, &body).await?;
                if reply.status == ReplyStatus::Approved {
                    unit.replies_of_changed(&article).await?;
                }
                Ok(())
            })
        })
        .await
        .inspect(|_| tracing::info!(staff, reply = id.get(), "edited a reply"))
}

/// A staff member's answer to a reply, published at once with a staff badge. Answering a
/// held reply approves it, in the same unit of work: readers would otherwise see an answer to
/// nothing.
pub async fn answer(
    services: &Services,
    user: &User,
    id: ReplyId,
    body: &str,
) -> Result<ReplyId, ModerationError> {
    let staff = user.id.get();
    let body = ReplyBody::parse(body, services.config.limits.comment)
        .map_err(|m| ModerationError::Invalid(FieldError::new(field::COMMENT, m)))?;
    // A staff answer is signed with the account's name and address, checked when it was made.
    let unsigned = |m: String| {
        let message =
            format!("Your account cannot sign an answer ({m}); correct it on the account page.");
        ModerationError::Invalid(FieldError::new(field::COMMENT, message))
    };
    let name = AuthorName::parse(&user.author.name, usize::MAX).map_err(unsigned)?;
    let email = Email::parse(&user.email, usize::MAX).map_err(unsigned)?;
    let user = user.clone();
    services
        .commit(move |unit| {
            Box::pin(async move {
                let (parent, article) = moderatable_in(&mut **unit, &user, id).await?;
                // The parent is public first, so that handlers never hear of an answer to a
                // reply they were not told of.
                if parent.status == ReplyStatus::Pending {
                    unit.set_reply_status(parent.id, ReplyStatus::Approved).await?;
                    status_changed(unit, &parent, &article, Some(ReplyStatus::Approved)).await?;
                }
                let answer = NewReply {
                    article_id: parent.article_id,
                    parent_id: Some(parent.id),
                    author_name: name,
                    author_email: email,
                    author_url: None,
                    body,
                    status: ReplyStatus::Approved,
                    ip: None,
                    held_reason: String::new(),
                    user_id: Some(user.id),
                    created_at: unit.now(),
                };
                let answer_id = unit.insert_reply(&answer).await?;
                unit.record(EventKind::ReplyPosted, article.id, Some(answer_id));
                unit.replies_of_changed(&article).await?;
                Ok(answer_id)
            })
        })
        .await
        .inspect(|_| tracing::info!(staff, reply = id.get(), "answered a reply"))
}
