//! What the outbox records: something that happened to an article or a reply, for handlers
//! (mail, live updates, media processing) to act on after the change has committed.

use std::fmt;

use super::{ArticleId, EventId, MediaId, ReplyId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A reply was posted and is public at once.
    ReplyPosted,
    /// A reply was posted, or put back, and waits for a moderator.
    ReplyHeld,
    /// A held (or spam, or trashed) reply became public.
    ReplyApproved,
    /// A public reply is public no more (unapproved, spam, trash or deleted).
    ReplyRemoved,
    /// An article became public.
    ArticlePublished,
    /// A public article changed (its text, or a correction).
    ArticleUpdated,
    /// A public article went back to draft.
    ArticleUnpublished,
    /// An image was uploaded (or replaced): its variants are to be made.
    MediaUploaded,
}

impl EventKind {
    pub const ALL: [EventKind; 8] = [
        Self::ReplyPosted,
        Self::ReplyHeld,
        Self::ReplyApproved,
        Self::ReplyRemoved,
        Self::ArticlePublished,
        Self::ArticleUpdated,
        Self::ArticleUnpublished,
        Self::MediaUploaded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReplyPosted => "reply.posted",
            Self::ReplyHeld => "reply.held",
            Self::ReplyApproved => "reply.approved",
            Self::ReplyRemoved => "reply.removed",
            Self::ArticlePublished => "article.published",
            Self::ArticleUpdated => "article.updated",
            Self::ArticleUnpublished => "article.unpublished",
            Self::MediaUploaded => "media.uploaded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == s)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event to record, in the transaction of the change that caused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewEvent {
    pub kind: EventKind,
    /// The article, or for an image's event minus the image's id: the key that keeps one
    /// article's (or image's) deliveries in order.
    pub article_id: ArticleId,
    pub reply_id: Option<ReplyId>,
    pub media_id: Option<MediaId>,
}

impl NewEvent {
    pub fn of_article(kind: EventKind, article_id: ArticleId, reply_id: Option<ReplyId>) -> Self {
        Self { kind, article_id, reply_id, media_id: None }
    }

    pub fn of_media(kind: EventKind, media_id: MediaId) -> Self {
        Self {
            kind,
            article_id: ArticleId(-media_id.get()),
            reply_id: None,
            media_id: Some(media_id),
        }
    }
}

/// A recorded event, as handlers get it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub id: EventId,
    pub kind: EventKind,
    pub article_id: ArticleId,
    pub reply_id: Option<ReplyId>,
    pub media_id: Option<MediaId>,
    pub created_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventKind::parse("reply"), None);
    }
}
