//! Publishing articles. The newsroom's screens will grow here; for now, the command line.

use jiff::tz::TimeZone;

use crate::domain::{Headline, Slug, text, time};
use crate::store::{NewArticle, Store, StoreError};

/// An article to publish, as the newsroom gives it.
#[derive(Debug, Clone)]
pub struct Draft {
    pub headline: String,
    pub standfirst: String,
    pub author: String,
    pub body_markdown: String,
    pub replies_open: bool,
}

/// A published article's address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub id: i64,
    pub path: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Publishes now: the date in the URL is today's in the site's time zone, and stays.
pub async fn publish(
    store: &dyn Store,
    tz: &TimeZone,
    draft: &Draft,
) -> Result<Published, PublishError> {
    publish_at(store, tz, draft, time::now()).await
}

/// Publishes with a given publication time (for imports and demo content).
pub async fn publish_at(
    store: &dyn Store,
    tz: &TimeZone,
    draft: &Draft,
    published_at: i64,
) -> Result<Published, PublishError> {
    let headline = Headline::parse(&draft.headline).map_err(PublishError::Invalid)?;
    let author_name = draft.author.trim();
    if author_name.is_empty() || author_name.chars().any(char::is_control) {
        return Err(PublishError::Invalid("the author's name must be one line of text".into()));
    }
    let author = store.find_or_create_author(author_name).await?;
    let standfirst = draft.standfirst.split_whitespace().collect::<Vec<_>>().join(" ");
    let base = Slug::from_headline(headline.as_str());
    let mut article = NewArticle {
        slug: String::new(),
        headline: headline.as_str().to_owned(),
        standfirst,
        body_markdown: draft.body_markdown.clone(),
        body_html: text::markdown_html(&draft.body_markdown),
        author_id: author.id,
        date_path: time::date_path(published_at, tz),
        published_at,
        replies_open: draft.replies_open,
    };
    // A taken slug gets a number; the unique index settles a race between two publishers.
    for n in 1..=1000 {
        let slug = if n == 1 { base.clone() } else { base.numbered(n) };
        if store.slug_exists(slug.as_str()).await? {
            continue;
        }
        article.slug = slug.to_string();
        match store.insert_article(&article).await {
            Ok(id) => {
                return Ok(Published { id, path: article_path(&article.date_path, &article.slug) });
            }
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(PublishError::Invalid("no free slug for this headline".into()))
}

/// `/2026/11/24/the-slug/`, with the slug percent-encoded for any script.
pub fn article_path(date_path: &str, slug: &str) -> String {
    use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
    const PATH_SEGMENT: &AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'<')
        .add(b'>')
        .add(b'?')
        .add(b'`')
        .add(b'{')
        .add(b'}')
        .add(b'/')
        .add(b'%');
    format!("/{date_path}/{}/", utf8_percent_encode(slug, PATH_SEGMENT))
}
