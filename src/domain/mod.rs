//! Byline's plain types and their rules. No I/O of any kind.

pub mod article;
pub mod reply;
pub mod search;
pub mod staff;
pub mod text;
pub mod time;

pub use article::{ArticleStatus, Headline, NoteKind, Slug};
pub use reply::{Field, FieldError, NewReply, ReplyInput, ReplyLimits, ReplyStatus};
pub use staff::Role;
