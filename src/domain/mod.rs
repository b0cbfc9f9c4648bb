//! Byline's plain types and their rules. No I/O of any kind.

pub mod article;
pub mod reply;
pub mod text;
pub mod time;

pub use article::{Headline, Slug};
pub use reply::{Field, FieldError, NewReply, ReplyInput, ReplyLimits, ReplyStatus};
