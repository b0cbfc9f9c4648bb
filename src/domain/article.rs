//! Articles: the headline, the slug their URL is built from.

use std::fmt;

/// The part of an article's URL made from its headline: lowercase letters and digits of any
/// script, separated by single hyphens.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

const SLUG_MAX_CHARS: usize = 80;

impl Slug {
    /// Makes a slug from a headline; never empty.
    pub fn from_headline(headline: &str) -> Self {
        let mut slug = String::new();
        for c in headline.chars().flat_map(char::to_lowercase) {
            if c.is_alphanumeric() {
                slug.push(c);
            } else if matches!(c, '\'' | '’') {
                // "town’s" reads better as "towns" than "town-s".
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let slug: String = slug.chars().take(SLUG_MAX_CHARS).collect();
        let slug = slug.trim_end_matches('-');
        Self(if slug.is_empty() { "article".into() } else { slug.into() })
    }

    /// Accepts a slug as it appears in a URL, if it has the slug's shape.
    pub fn parse(raw: &str) -> Option<Self> {
        let shaped = !raw.is_empty()
            && raw.chars().count() <= SLUG_MAX_CHARS + 8
            && !raw.starts_with('-')
            && !raw.ends_with('-')
            && !raw.contains("--")
            && raw.chars().all(|c| c == '-' || (c.is_alphanumeric() && !c.is_uppercase()));
        shaped.then(|| Self(raw.to_owned()))
    }

    /// The slug with a numeric suffix, for when the plain one is taken.
    pub fn numbered(&self, n: u32) -> Self {
        Self(format!("{}-{n}", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An article's headline: one line of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headline(String);

impl Headline {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let value = raw.trim();
        if value.is_empty() {
            return Err("the headline is empty".into());
        }
        if value.chars().any(char::is_control) {
            return Err("the headline must be one line without control characters".into());
        }
        if value.chars().count() > 300 {
            return Err("the headline is longer than 300 characters".into());
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_from_headlines() {
        let cases = [
            ("The Night the Ferry Ran on Time", "the-night-the-ferry-ran-on-time"),
            ("“Quoted” — and dashed – too!", "quoted-and-dashed-too"),
            ("Город у реки", "город-у-реки"),
            ("東京の朝", "東京の朝"),
            ("!!!", "article"),
            ("The town’s buns, Ada's cakes", "the-towns-buns-adas-cakes"),
        ];
        for (headline, slug) in cases {
            assert_eq!(Slug::from_headline(headline).as_str(), slug);
            assert!(Slug::parse(slug).is_some(), "{slug}");
        }
    }

    #[test]
    fn slugs_are_bounded() {
        let slug = Slug::from_headline(&"word ".repeat(50));
        assert!(slug.as_str().chars().count() <= SLUG_MAX_CHARS);
        assert!(!slug.as_str().ends_with('-'));
    }

    #[test]
    fn parse_refuses_odd_shapes() {
        for bad in ["", "-a", "a-", "a--b", "A", "a b", "a/b", "a.b"] {
            assert!(Slug::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn headlines() {
        assert_eq!(Headline::parse("  Hi  ").unwrap().as_str(), "Hi");
        assert!(Headline::parse(" ").is_err());
        assert!(Headline::parse("a\nb").is_err());
    }
}

/// Where an article stands. Only published articles are public.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArticleStatus {
    Draft,
    /// Publishes itself at its `published_at`.
    Scheduled,
    Published,
}

impl ArticleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Scheduled => "scheduled",
            Self::Published => "published",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "draft" => Some(Self::Draft),
            "scheduled" => Some(Self::Scheduled),
            "published" => Some(Self::Published),
            _ => None,
        }
    }
}

/// What made a revision: the button pressed, a restore, or an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevisionKind {
    Saved,
    Published,
    Scheduled,
    /// Back to draft.
    Unpublished,
    Restored,
    Imported,
}

impl RevisionKind {
    pub const ALL: [RevisionKind; 6] = [
        Self::Saved,
        Self::Published,
        Self::Scheduled,
        Self::Unpublished,
        Self::Restored,
        Self::Imported,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Saved => "saved",
            Self::Published => "published",
            Self::Scheduled => "scheduled",
            Self::Unpublished => "unpublished",
            Self::Restored => "restored",
            Self::Imported => "imported",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// How the list of revisions names it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Saved => "Saved",
            Self::Published => "Published",
            Self::Scheduled => "Scheduled",
            Self::Unpublished => "Back to draft",
            Self::Restored => "Restored",
            Self::Imported => "Imported",
        }
    }
}

/// A correction or an update appended to a published article.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoteKind {
    Correction,
    Update,
}

impl NoteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Correction => "correction",
            Self::Update => "update",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "correction" => Some(Self::Correction),
            "update" => Some(Self::Update),
            _ => None,
        }
    }

    /// "Correction", "Updated": how the article page introduces the note.
    pub fn label(self) -> &'static str {
        match self {
            Self::Correction => "Correction",
            Self::Update => "Updated",
        }
    }
}
