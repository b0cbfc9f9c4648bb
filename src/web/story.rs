//! What the article itself shows (headline to notes), for the public page and staff's preview.

use jiff::tz::TimeZone;

use crate::domain::{text, time};
use crate::publishing::encode_segment;
use crate::store::{Article, ArticleNote};

pub struct Story {
    /// Each author's name and page.
    pub authors: Vec<(String, String)>,
    pub section_url: Option<String>,
    /// Each tag's name and page.
    pub tags: Vec<(String, String)>,
    pub iso: String,
    pub date: String,
    /// When the latest correction or update was added.
    pub updated: Option<(String, String)>,
    pub notes: Vec<NoteView>,
}

pub struct NoteView {
    pub label: &'static str,
    pub date: String,
    pub iso: String,
    /// Staff's Markdown, sanitized by [`text::markdown_html`].
    pub html: String,
}

impl Story {
    pub fn new(article: &Article, notes: Vec<ArticleNote>, tz: &TimeZone) -> Self {
        let published = article.published_at.unwrap_or(article.created_at);
        let updated = notes
            .last()
            .map(|n| (time::iso(n.created_at, tz), time::date_and_time(n.created_at, tz)));
        Self {
            authors: article
                .authors
                .iter()
                .map(|a| (a.name.clone(), super::listing::author_path(a.id, &a.name)))
                .collect(),
            section_url: article
                .section
                .as_ref()
                .map(|s| format!("/section/{}/", encode_segment(&s.slug))),
            tags: article
                .tags
                .iter()
                .map(|t| (t.name.clone(), format!("/tag/{}/", encode_segment(&t.slug))))
                .collect(),
            iso: time::iso(published, tz),
            date: time::long_date(published, tz),
            updated,
            notes: notes
                .iter()
                .map(|n| NoteView {
                    label: n.kind.label(),
                    date: time::long_date(n.created_at, tz),
                    iso: time::iso(n.created_at, tz),
                    html: text::markdown_html(&n.body),
                })
                .collect(),
        }
    }
}

/// Names joined as a person would: "A", "A and B", "A, B and C".
pub fn byline<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::byline;

    #[test]
    fn bylines_read_naturally() {
        assert_eq!(byline(["A"].into_iter()), "A");
        assert_eq!(byline(["A", "B"].into_iter()), "A and B");
        assert_eq!(byline(["A", "B", "C"].into_iter()), "A, B and C");
    }
}
