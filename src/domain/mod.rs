//! Byline's plain types and their rules. No I/O of any kind.

pub mod article;
pub mod discussion;
pub mod events;
pub mod identity;
pub mod ids;
pub mod media;
pub mod paths;
pub mod reply;
pub mod search;
pub mod signing;
pub mod staff;
pub mod text;
pub mod time;

pub use article::{ArticleStatus, Headline, NoteKind, RevisionKind, Slug};
pub use discussion::{DiscussionSettings, ModerationPolicy, SettingKey};
pub use events::EventKind;
pub use ids::{
    ArticleId, AuthorId, EventId, ImportJobId, MediaId, PageId, PageRevisionId, ReplyId,
    RevisionId, SectionId, TagId, UserId,
};
pub use reply::{ReplyInput, ReplyLimits, ReplyStatus, ValidReply};
pub use staff::Role;

/// The name a form's messages use for the form as a whole (a stale form, say).
pub const WHOLE_FORM: &str = "form";

/// A message for the person filling in a form, about one field (by the field's `name`) or
/// about the whole form ([`WHOLE_FORM`]). Every form's errors have this one shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self { field, message: message.into() }
    }
}

/// The message for `field` among `errors`, if it has one.
pub fn message_for<'a>(errors: &'a [FieldError], field: &str) -> Option<&'a str> {
    errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
}
