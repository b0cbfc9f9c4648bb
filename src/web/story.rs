//! What the article itself shows (headline to notes), for the public page and staff's preview.

use jiff::tz::TimeZone;

use crate::domain::paths::{author_path, section_path, tag_path};
use crate::domain::{text, time};
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
    /// "3 replies", linking down to them (the public page only).
    pub replies: Option<String>,
}

pub struct NoteView {
    pub label: &'static str,
    pub date: String,
    pub iso: String,
    /// Staff's Markdown, sanitized by [`text::markdown_html`].
    pub html: String,
}

impl Story {
    pub fn new(article: &Article, notes: &[ArticleNote], tz: &TimeZone) -> Self {
        let published = article.published_at.unwrap_or(article.created_at);
        let updated = notes
            .last()
            .map(|n| (time::iso(n.created_at, tz), time::date_and_time(n.created_at, tz)));
        Self {
            authors: article
                .authors
                .iter()
                .map(|a| (a.name.clone(), author_path(a.id, &a.name)))
                .collect(),
            section_url: article.section.as_ref().map(|s| section_path(&s.slug)),
            tags: article.tags.iter().map(|t| (t.name.clone(), tag_path(&t.slug))).collect(),
            iso: time::iso(published, tz),
            date: time::date_and_time(published, tz),
            updated,
            notes: notes
                .iter()
                .map(|n| NoteView {
                    label: n.kind.label(),
                    date: time::date_and_time(n.created_at, tz),
                    iso: time::iso(n.created_at, tz),
                    html: text::markdown_html(&n.body),
                })
                .collect(),
            replies: None,
        }
    }

    /// With a link down to the replies, saying how many there are.
    pub fn with_replies(mut self, count: i64) -> Self {
        self.replies = Some(match count {
            0 => "No replies yet".to_owned(),
            1 => "One reply".to_owned(),
            n => format!("{n} replies"),
        });
        self
    }
}
