//! Typed ids, so that a reply's id cannot be passed where an article's is wanted.

use std::fmt;

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl $name {
            pub fn get(self) -> i64 {
                self.0
            }

            /// Parses a positive id, as it appears in a URL or a form.
            pub fn parse(raw: &str) -> Option<Self> {
                raw.trim().parse::<i64>().ok().filter(|id| *id > 0).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<i64> for $name {
            fn from(id: i64) -> Self {
                Self(id)
            }
        }
    };
}

id!(
    /// An article.
    ArticleId
);
id!(
    /// A reader's (or a staff member's) reply.
    ReplyId
);
id!(
    /// A staff account.
    UserId
);
id!(
    /// A name on a byline.
    AuthorId
);
id!(SectionId);
id!(TagId);
id!(RevisionId);
id!(
    /// An event in the outbox.
    EventId
);
id!(
    /// A static page (About, Contact…).
    PageId
);
id!(
    /// A saved version of a static page.
    PageRevisionId
);
id!(
    /// An import started from the newsroom.
    ImportJobId
);
id!(
    /// An image in the media library.
    MediaId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_positive_numbers_only() {
        assert_eq!(ArticleId::parse(" 12 "), Some(ArticleId(12)));
        for bad in ["", "0", "-3", "x", "1.5"] {
            assert_eq!(ReplyId::parse(bad), None, "{bad}");
        }
        assert_eq!(UserId(7).to_string(), "7");
    }
}
