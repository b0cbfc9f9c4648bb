//! Articles and what hangs on them: bylines (authors), sections, tags, old slugs, revisions,
//! corrections, search. Each statement is written once for both backends, but search, whose
//! full-text indexes differ (FTS5 and a GIN index on a `tsvector`).

use async_trait::async_trait;

use super::{Db, Dialect, Param, Result, Row, StoreError, Tx, dialect_sql, like_pattern};
use crate::domain::{
    ArticleId, ArticleStatus, AuthorId, Headline, NoteKind, RevisionId, RevisionKind, SectionId,
    Slug, TagId, UserId, search, text,
};

/// An author record: a name on a byline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub id: AuthorId,
    pub name: String,
    pub bio: String,
    /// Their photo: a library image (`/media/12`) or an address; empty for none.
    pub photo: String,
}

/// A section of the site (a category such as "Politics").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub id: SectionId,
    pub name: String,
    pub slug: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub id: TagId,
    pub name: String,
    pub slug: String,
}

/// An article's featured image: an address, a caption and the text that stands for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub url: String,
    pub caption: String,
    pub alt: String,
    /// The library's image, when the address names one (`/media/12`); filled in by the pages
    /// that show it (`services::reading`), `None` as the row is read.
    pub media: Option<crate::domain::media::MediaView>,
}

impl Image {
    /// The description to show: the one given with the article, or the library's.
    pub fn alt_text(&self) -> &str {
        match &self.media {
            Some(view) if self.alt.trim().is_empty() => &view.alt,
            _ => &self.alt,
        }
    }

    /// The caption to show: the one given with the article, or the library's.
    pub fn caption_text(&self) -> &str {
        match &self.media {
            Some(view) if self.caption.trim().is_empty() => &view.caption,
            _ => &self.caption,
        }
    }

    /// The photographer or agency: the library's credit.
    pub fn credit_text(&self) -> &str {
        self.media.as_ref().map_or("", |view| view.credit.as_str())
    }

    /// Its address on the web: a library image's own file, or the address given.
    pub fn src(&self) -> String {
        self.media.as_ref().map_or_else(|| self.url.clone(), |view| view.src())
    }
}

/// An article, whatever its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    pub id: ArticleId,
    pub slug: String,
    pub headline: String,
    pub standfirst: String,
    pub body_markdown: String,
    /// Rendered from the Markdown and sanitized when saved.
    pub body_html: String,
    pub status: ArticleStatus,
    /// The byline, in order; never empty.
    pub authors: Vec<Author>,
    pub section: Option<Section>,
    pub tags: Vec<Tag>,
    pub image: Option<Image>,
    /// `2026/11/24`: fixed at first publication, in the site's time zone.
    pub date_path: Option<String>,
    /// The first publication's time, or when a scheduled article is due.
    pub published_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub replies_open: bool,
    pub reply_count: i64,
    pub word_count: i64,
    /// What search engines and social cards show, where it differs from the page.
    pub seo: Seo,
    /// When it was put in the trash (it is then a draft no list shows).
    pub trashed_at: Option<i64>,
}

/// An article's title, description and image for search engines and social cards; each
/// empty one falls back to the headline, the standfirst, the featured image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seo {
    pub title: String,
    pub description: String,
    /// A library image (`/media/12`) or an address.
    pub image: String,
}

impl Article {
    /// Where the article lives once published.
    pub fn public_path(&self) -> Option<String> {
        crate::domain::paths::public_article_path(self.date_path.as_deref(), &self.slug)
    }
}

/// What a reply needs of its article: which one it is, where, and whether it takes replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyTarget {
    pub id: ArticleId,
    pub slug: String,
    pub date_path: Option<String>,
    pub replies_open: bool,
    pub published_at: Option<i64>,
}

impl ReplyTarget {
    pub fn public_path(&self) -> Option<String> {
        crate::domain::paths::public_article_path(self.date_path.as_deref(), &self.slug)
    }
}

/// An article as a listing shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleSummary {
    pub id: ArticleId,
    pub slug: String,
    pub headline: String,
    pub standfirst: String,
    pub status: ArticleStatus,
    pub author_names: Vec<String>,
    pub section_name: Option<String>,
    pub image: Option<Image>,
    pub date_path: Option<String>,
    pub published_at: Option<i64>,
    pub updated_at: i64,
    pub reply_count: i64,
    pub word_count: i64,
}

/// A search result: the article, and a passage of it with the matches marked by
/// [`crate::domain::search::MARK_START`] and `MARK_END`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchHit {
    pub article: ArticleSummary,
    /// What a snippet is cut from: the standfirst and the body's readable text.
    pub text: String,
}

/// Which published articles the API's list shows: those in all of these.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Published {
    pub section: Option<SectionId>,
    pub tag: Option<TagId>,
    pub author: Option<AuthorId>,
}

/// Which published articles a listing page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    Section(SectionId),
    Tag(TagId),
    Author(AuthorId),
    /// Published at or after `from` and before `until`: a date archive (a year, a month, a day).
    Dates {
        from: i64,
        until: i64,
    },
}

/// What the editor sets on an article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleFields {
    pub slug: Slug,
    pub headline: Headline,
    pub standfirst: String,
    pub body_markdown: String,
    pub body_html: String,
    /// The byline, in order; at least one.
    pub author_ids: Vec<AuthorId>,
    pub section_id: Option<SectionId>,
    pub tag_ids: Vec<TagId>,
    pub image: Option<Image>,
    pub replies_open: bool,
    /// Words in the body, for reading times.
    pub word_count: i64,
    pub seo: Seo,
}

/// A new article.
#[derive(Debug, Clone)]
pub struct NewArticle {
    pub fields: ArticleFields,
    pub status: ArticleStatus,
    pub date_path: Option<String>,
    pub published_at: Option<i64>,
    pub created_at: i64,
}

/// Which articles the newsroom's list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleQuery {
    pub status: Option<ArticleStatus>,
    pub author_id: Option<AuthorId>,
    pub section_id: Option<SectionId>,
    /// Words the headline contains, compared without regard to case.
    pub headline: Option<String>,
    pub sort: ArticleSort,
    /// Largest first (the newest, the most replied-to, Z to A).
    pub descending: bool,
    /// The trash alone; otherwise the trash is left out.
    pub trashed: bool,
    pub offset: u64,
    pub limit: u64,
}

impl Default for ArticleQuery {
    /// Every article, the last changed first.
    fn default() -> Self {
        Self {
            status: None,
            author_id: None,
            section_id: None,
            headline: None,
            sort: ArticleSort::Updated,
            descending: true,
            trashed: false,
            offset: 0,
            limit: 0,
        }
    }
}

/// What the newsroom's list of articles is sorted by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ArticleSort {
    /// The last change.
    #[default]
    Updated,
    /// The publication, or the time it is scheduled for; drafts last.
    Published,
    Headline,
    Status,
    /// The first name on the byline.
    Byline,
    Section,
    Replies,
}

impl ArticleSort {
    pub const ALL: [ArticleSort; 7] = [
        Self::Headline,
        Self::Status,
        Self::Byline,
        Self::Section,
        Self::Published,
        Self::Updated,
        Self::Replies,
    ];

    /// The name in the list's address (`?sort=published`).
    pub fn key(self) -> &'static str {
        match self {
            Self::Updated => "updated",
            Self::Published => "published",
            Self::Headline => "headline",
            Self::Status => "status",
            Self::Byline => "byline",
            Self::Section => "section",
            Self::Replies => "replies",
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == key)
    }
}

/// An article's saved state, kept at every save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    pub id: RevisionId,
    pub article_id: ArticleId,
    pub user_id: Option<UserId>,
    pub created_at: i64,
    pub headline: String,
    pub standfirst: String,
    pub slug: String,
    pub body_markdown: String,
    /// The section's name, or empty.
    pub section: String,
    /// Tag names, comma-separated.
    pub tags: String,
    /// Author ids of the byline, comma-separated.
    pub authors: String,
    pub image_url: Option<String>,
    pub image_caption: String,
    pub image_alt: String,
    pub replies_open: bool,
    /// What made it.
    pub kind: RevisionKind,
    pub seo: Seo,
}

/// A correction or update shown under a published article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleNote {
    pub id: i64,
    pub article_id: ArticleId,
    pub kind: NoteKind,
    pub body: String,
    pub created_at: i64,
}

/// An article's reply count: its base, and the counters not yet folded into it (PostgreSQL's
/// replies count apart rather than wait for the article's row; see migration 0005).
macro_rules! reply_count {
    () => {
        "a.reply_count + coalesce((SELECT sum(c.replies) FROM reply_counters c
                                    WHERE c.article_id = a.id), 0)"
    };
}
pub(crate) use reply_count;

/// The `ORDER BY` expression of a sort: written here, never from a request.
fn sort_expression(sort: ArticleSort) -> &'static str {
    match sort {
        ArticleSort::Updated => "a.updated_at",
        ArticleSort::Published => "coalesce(a.published_at, 0)",
        ArticleSort::Headline => "lower(a.headline)",
        ArticleSort::Status => "a.status",
        ArticleSort::Byline => {
            "(SELECT lower(au.name) FROM article_authors x JOIN authors au ON au.id = x.author_id
               WHERE x.article_id = a.id ORDER BY x.position LIMIT 1)"
        }
        ArticleSort::Section => "lower(coalesce(s.name, ''))",
        ArticleSort::Replies => reply_count!(),
    }
}

/// The columns of [`Article`] but its authors and tags.
macro_rules! article_columns {
    () => {
        concat!(
            "a.id, a.slug, a.headline, a.standfirst,
             a.body_markdown, a.body_html, a.status, s.id, s.name, s.slug, a.image_url,
             a.image_caption, a.image_alt, a.date_path, a.published_at, a.created_at,
             a.updated_at, a.replies_open, ",
            reply_count!(),
            ", a.word_count, a.seo_title, a.seo_description, a.social_image, a.trashed_at"
        )
    };
}

pub(crate) const ARTICLE_BY_SLUG: &str = concat!(
    "SELECT ",
    article_columns!(),
    " FROM articles a LEFT JOIN sections s ON s.id = a.section_id
     WHERE a.slug = $1 AND a.status = 'published'"
);

const ARTICLE_BY_ID: &str = concat!(
    "SELECT ",
    article_columns!(),
    " FROM articles a LEFT JOIN sections s ON s.id = a.section_id WHERE a.id = $1"
);

pub(crate) const AUTHORS_OF_ARTICLE: &str = "SELECT au.id, au.name, au.bio, au.photo_url
   FROM article_authors x JOIN authors au ON au.id = x.author_id
  WHERE x.article_id = $1 ORDER BY x.position";

pub(crate) const TAGS_OF_ARTICLE: &str = "SELECT t.id, t.name, t.slug
   FROM article_tags x JOIN tags t ON t.id = x.tag_id
  WHERE x.article_id = $1 ORDER BY t.name, t.id";

/// The columns of [`ArticleSummary`]; authors' names joined by U+001F, which no name holds.
macro_rules! summary_columns {
    () => {
        concat!(
            "a.id, a.slug, a.headline, a.standfirst, a.status,
         (SELECT string_agg(au.name, '\u{1f}' ORDER BY x.position)
            FROM article_authors x JOIN authors au ON au.id = x.author_id
           WHERE x.article_id = a.id),
         s.name, a.image_url, a.image_caption, a.image_alt, a.date_path, a.published_at,
         a.updated_at, ",
            reply_count!(),
            ", a.word_count"
        )
    };
}

pub(crate) const FRONT_PAGE: &str = concat!(
    "SELECT ",
    summary_columns!(),
    " FROM articles a LEFT JOIN sections s ON s.id = a.section_id
     WHERE a.status = 'published' AND a.id IS DISTINCT FROM $3
     ORDER BY a.published_at DESC, a.id DESC LIMIT $1 OFFSET $2"
);

pub(crate) const COUNT_PUBLISHED: &str =
    "SELECT count(*) FROM articles WHERE status = 'published' AND id IS DISTINCT FROM $1";

pub(crate) const SECTION_PAGE: &str = concat!(
    "SELECT ",
    summary_columns!(),
    " FROM articles a LEFT JOIN sections s ON s.id = a.section_id
     WHERE a.status = 'published' AND a.section_id = $1
     ORDER BY a.published_at DESC, a.id DESC LIMIT $2 OFFSET $3"
);

pub(crate) const TAG_PAGE: &str = concat!(
    "SELECT ",
    summary_columns!(),
    " FROM articles a LEFT JOIN sections s ON s.id = a.section_id
     WHERE a.status = 'published'
       AND EXISTS (SELECT 1 FROM article_tags x WHERE x.article_id = a.id AND x.tag_id = $1)
     ORDER BY a.published_at DESC, a.id DESC LIMIT $2 OFFSET $3"
);

pub(crate) const AUTHOR_PAGE: &str = concat!(
    "SELECT ",
    summary_columns!(),
    " FROM articles a LEFT JOIN sections s ON s.id = a.section_id
     WHERE a.status = 'published'
       AND EXISTS (SELECT 1 FROM article_authors x
                    WHERE x.article_id = a.id AND x.author_id = $1)
     ORDER BY a.published_at DESC, a.id DESC LIMIT $2 OFFSET $3"
);

pub(crate) const DATES_PAGE: &str = concat!(
    "SELECT ",
    summary_columns!(),
    " FROM articles a LEFT JOIN sections s ON s.id = a.section_id
     WHERE a.status = 'published' AND a.published_at >= $1 AND a.published_at < $4
     ORDER BY a.published_at DESC, a.id DESC LIMIT $2 OFFSET $3"
);

const COUNT_DATES: &str = "SELECT count(*) FROM articles a
    WHERE a.status = 'published' AND a.published_at >= $1 AND a.published_at < $2";

const COUNT_SECTION: &str =
    "SELECT count(*) FROM articles a WHERE a.status = 'published' AND a.section_id = $1";
const COUNT_TAG: &str = "SELECT count(*) FROM articles a WHERE a.status = 'published'
    AND EXISTS (SELECT 1 FROM article_tags x WHERE x.article_id = a.id AND x.tag_id = $1)";
const COUNT_AUTHOR: &str = "SELECT count(*) FROM articles a WHERE a.status = 'published'
    AND EXISTS (SELECT 1 FROM article_authors x WHERE x.article_id = a.id AND x.author_id = $1)";

pub(crate) const RELATED: &str = concat!(
    "SELECT ",
    summary_columns!(),
    " FROM articles a LEFT JOIN sections s ON s.id = a.section_id
     WHERE a.status = 'published' AND a.id <> $1
       AND (a.section_id = (SELECT section_id FROM articles WHERE id = $1)
            OR EXISTS (SELECT 1 FROM article_tags x
                         JOIN article_tags y ON y.tag_id = x.tag_id
                        WHERE x.article_id = a.id AND y.article_id = $1))
     ORDER BY a.published_at DESC, a.id DESC LIMIT $2"
);

pub(crate) const NOTES_OF_ARTICLE: &str = "SELECT id, article_id, kind, body, created_at
   FROM article_notes WHERE article_id = $1 ORDER BY created_at, id";

const REVISION_COLUMNS: &str = "id, article_id, user_id, created_at, headline, standfirst, \
     slug, body_markdown, section, tags, authors, image_url, image_caption, image_alt, \
     replies_open, kind, seo_title, seo_description, social_image";

fn image_at(r: &mut Row, i: usize) -> Result<Option<Image>> {
    Ok(match r.opt_text(i)? {
        Some(url) => Some(Image { url, caption: r.text(i + 1)?, alt: r.text(i + 2)?, media: None }),
        None => None,
    })
}

/// An article's own row; authors and tags are read by [`ArticleReads::complete`].
fn article_from_row(r: &mut Row) -> Result<Article> {
    let section = match r.opt_id::<SectionId>(7)? {
        Some(id) => Some(Section { id, name: r.text(8)?, slug: r.text(9)? }),
        None => None,
    };
    Ok(Article {
        id: r.id(0)?,
        slug: r.text(1)?,
        headline: r.text(2)?,
        standfirst: r.text(3)?,
        body_markdown: r.text(4)?,
        body_html: r.text(5)?,
        status: r.parsed(6, ArticleStatus::parse)?,
        authors: Vec::new(),
        section,
        tags: Vec::new(),
        image: image_at(r, 10)?,
        date_path: r.opt_text(13)?,
        published_at: r.opt_int(14)?,
        created_at: r.int(15)?,
        updated_at: r.int(16)?,
        replies_open: r.bool(17)?,
        reply_count: r.int(18)?,
        word_count: r.int(19)?,
        seo: Seo { title: r.text(20)?, description: r.text(21)?, image: r.text(22)? },
        trashed_at: r.opt_int(23)?,
    })
}

pub(crate) fn summary_from_row(r: &mut Row) -> Result<ArticleSummary> {
    Ok(ArticleSummary {
        id: r.id(0)?,
        slug: r.text(1)?,
        headline: r.text(2)?,
        standfirst: r.text(3)?,
        status: r.parsed(4, ArticleStatus::parse)?,
        author_names: r
            .opt_text(5)?
            .map(|n| n.split('\u{1f}').map(str::to_owned).collect())
            .unwrap_or_default(),
        section_name: r.opt_text(6)?,
        image: image_at(r, 7)?,
        date_path: r.opt_text(10)?,
        published_at: r.opt_int(11)?,
        updated_at: r.int(12)?,
        reply_count: r.int(13)?,
        word_count: r.int(14)?,
    })
}

fn author_from_row(r: &mut Row) -> Result<Author> {
    Ok(Author { id: r.id(0)?, name: r.text(1)?, bio: r.text(2)?, photo: r.text(3)? })
}

fn section_from_row(r: &mut Row) -> Result<Section> {
    Ok(Section { id: r.id(0)?, name: r.text(1)?, slug: r.text(2)? })
}

fn tag_from_row(r: &mut Row) -> Result<Tag> {
    Ok(Tag { id: r.id(0)?, name: r.text(1)?, slug: r.text(2)? })
}

fn revision_from_row(r: &mut Row) -> Result<Revision> {
    Ok(Revision {
        id: r.id(0)?,
        article_id: r.id(1)?,
        user_id: r.opt_id(2)?,
        created_at: r.int(3)?,
        headline: r.text(4)?,
        standfirst: r.text(5)?,
        slug: r.text(6)?,
        body_markdown: r.text(7)?,
        section: r.text(8)?,
        tags: r.text(9)?,
        authors: r.text(10)?,
        image_url: r.opt_text(11)?,
        image_caption: r.text(12)?,
        image_alt: r.text(13)?,
        replies_open: r.bool(14)?,
        kind: r.parsed(15, RevisionKind::parse)?,
        seo: Seo { title: r.text(16)?, description: r.text(17)?, image: r.text(18)? },
    })
}

fn note_from_row(r: &mut Row) -> Result<ArticleNote> {
    Ok(ArticleNote {
        id: r.int(0)?,
        article_id: r.id(1)?,
        kind: r.parsed(2, NoteKind::parse)?,
        body: r.text(3)?,
        created_at: r.int(4)?,
    })
}

/// A search hit from the summary's columns and the body.
fn hit_from_row(r: &mut Row) -> Result<SearchHit> {
    let article = summary_from_row(r)?;
    let body = r.text(15)?;
    Ok(SearchHit { text: format!("{} {body}", article.standfirst), article })
}

fn slug_conflict(error: StoreError) -> StoreError {
    match error {
        StoreError::Conflict(_) => StoreError::Conflict("the slug"),
        other => other,
    }
}

const SEARCH_COUNT_SQLITE: &str = "SELECT count(*) FROM articles_search
    JOIN articles a ON a.id = articles_search.rowid
   WHERE articles_search MATCH $1 AND a.status = 'published'";

/// Articles whose headline holds every term first ($4 names the headline alone), then the
/// newest: the same order on both backends.
const SEARCH_SQLITE: &str = concat!(
    "SELECT ",
    summary_columns!(),
    ", a.body_text FROM articles_search
       JOIN articles a ON a.id = articles_search.rowid
       LEFT JOIN sections s ON s.id = a.section_id
      WHERE articles_search MATCH $1 AND a.status = 'published'
      ORDER BY a.id NOT IN (SELECT rowid FROM articles_search WHERE articles_search MATCH $4),
               a.published_at DESC, a.id DESC
      LIMIT $2 OFFSET $3"
);

const SEARCH_COUNT_POSTGRES: &str = "SELECT count(*) FROM articles a
  WHERE a.status = 'published'
    AND to_tsvector('simple', a.search_headline || ' ' || a.search_body)
        @@ to_tsquery('simple', $1)";

const SEARCH_POSTGRES: &str = concat!(
    "SELECT ",
    summary_columns!(),
    ", a.body_text FROM articles a LEFT JOIN sections s ON s.id = a.section_id
      WHERE a.status = 'published'
        AND to_tsvector('simple', a.search_headline || ' ' || a.search_body)
            @@ to_tsquery('simple', $1)
      ORDER BY to_tsvector('simple', a.search_headline) @@ to_tsquery('simple', $1) DESC,
               a.published_at DESC, a.id DESC
      LIMIT $2 OFFSET $3"
);

/// Reading articles, on any connection.
#[async_trait]
pub trait ArticleReads: Db {
    /// The Markdown of up to `limit` articles after id `after`, in id order: what a body is
    /// rendered again from.
    async fn article_sources(
        &mut self,
        after: i64,
        limit: u64,
    ) -> Result<Vec<(ArticleId, String)>> {
        let sql = "SELECT id, body_markdown FROM articles WHERE id > $1 ORDER BY id LIMIT $2";
        self.query(sql, &[after.into(), limit.into()]).await?.map(|r| Ok((r.id(0)?, r.text(1)?)))
    }

    /// Published articles, newest first, leaving out `except` (the lead story).
    async fn published_articles(
        &mut self,
        offset: u64,
        limit: u64,
        except: Option<ArticleId>,
    ) -> Result<Vec<ArticleSummary>> {
        let rows = self.query(FRONT_PAGE, &[limit.into(), offset.into(), except.into()]).await?;
        rows.map(summary_from_row)
    }

    async fn count_published_articles(&mut self, except: Option<ArticleId>) -> Result<u64> {
        Ok(self.query(COUNT_PUBLISHED, &[except.into()]).await?.int()? as u64)
    }

    /// The newsroom's list: any status, filtered, newest change first; and how many match.
    async fn list_articles(&mut self, query: &ArticleQuery) -> Result<(Vec<ArticleSummary>, u64)> {
        // Not the rows a static page's (or another site's page's) replies hang on: they are
        // the page's, not articles.
        let mut conditions = vec![
            "NOT EXISTS (SELECT 1 FROM pages p WHERE p.discussion_id = a.id)".to_owned(),
            "a.thread_url IS NULL".to_owned(),
        ];
        conditions.push(
            if query.trashed { "a.trashed_at IS NOT NULL" } else { "a.trashed_at IS NULL" }.into(),
        );
        let status = query.status.map(ArticleStatus::as_str);
        let headline = query
            .headline
            .as_deref()
            .filter(|w| !w.trim().is_empty())
            .map(|w| like_pattern(&w.trim().to_lowercase()));
        let mut params: Vec<Param> = Vec::new();
        if let Some(status) = status {
            params.push(status.into());
            conditions.push(format!("a.status = ${}", params.len()));
        }
        if let Some(author) = query.author_id {
            params.push(author.into());
            conditions.push(format!(
                "EXISTS (SELECT 1 FROM article_authors x
                          WHERE x.article_id = a.id AND x.author_id = ${})",
                params.len()
            ));
        }
        if let Some(section) = query.section_id {
            params.push(section.into());
            conditions.push(format!("a.section_id = ${}", params.len()));
        }
        if let Some(pattern) = &headline {
            params.push(pattern.into());
            conditions.push(format!("lower(a.headline) LIKE ${} ESCAPE '\\'", params.len()));
        }
        let filter = conditions.join(" AND ");
        let count = format!("SELECT count(*) FROM articles a WHERE {filter}");
        let total = self.query(&count, &params).await?.int()? as u64;
        let (limit, offset) = (params.len() + 1, params.len() + 2);
        params.push(query.limit.into());
        params.push(query.offset.into());
        let sql = format!(
            "SELECT {} FROM articles a LEFT JOIN sections s ON s.id = a.section_id
              WHERE {filter} ORDER BY {} {order}, a.id {order} LIMIT ${limit} OFFSET ${offset}",
            summary_columns!(),
            sort_expression(query.sort),
            order = if query.descending { "DESC" } else { "ASC" },
        );
        let found = self.query(&sql, &params).await?.map(summary_from_row)?;
        Ok((found, total))
    }

    /// The published articles with the most approved replies posted since `since`, and how
    /// many each got; the most first.
    async fn most_replied_since(
        &mut self,
        since: i64,
        limit: u64,
    ) -> Result<Vec<(ArticleSummary, u64)>> {
        let sql = format!(
            "SELECT {}, n.replies FROM
               (SELECT article_id, count(*) AS replies FROM comments
                 WHERE status = 'approved' AND created_at >= $1 GROUP BY article_id) n
               JOIN articles a ON a.id = n.article_id
               LEFT JOIN sections s ON s.id = a.section_id
              WHERE a.status = 'published'
              ORDER BY n.replies DESC, a.id DESC LIMIT $2",
            summary_columns!()
        );
        self.query(&sql, &[since.into(), limit.into()])
            .await?
            .map(|r| Ok((summary_from_row(r)?, r.int(15)? as u64)))
    }

    /// Published articles of a section, tag or author, newest first; and how many there are.
    async fn published_in(
        &mut self,
        listing: Listing,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<ArticleSummary>, u64)> {
        let (count, page, id) = match listing {
            Listing::Section(id) => (COUNT_SECTION, SECTION_PAGE, id.get()),
            Listing::Tag(id) => (COUNT_TAG, TAG_PAGE, id.get()),
            Listing::Author(id) => (COUNT_AUTHOR, AUTHOR_PAGE, id.get()),
            Listing::Dates { from, until } => {
                let total = self.query(COUNT_DATES, &[from.into(), until.into()]).await?.int()?;
                let params = [from.into(), limit.into(), offset.into(), until.into()];
                let rows = self.query(DATES_PAGE, &params).await?;
                return Ok((rows.map(summary_from_row)?, total as u64));
            }
        };
        let total = self.query(count, &[id.into()]).await?.int()? as u64;
        let rows = self.query(page, &[id.into(), limit.into(), offset.into()]).await?;
        Ok((rows.map(summary_from_row)?, total))
    }

    /// Published articles sharing the section or a tag of this one, newest first.
    async fn related_articles(
        &mut self,
        article: ArticleId,
        limit: u64,
    ) -> Result<Vec<ArticleSummary>> {
        self.query(RELATED, &[article.into(), limit.into()]).await?.map(summary_from_row)
    }

    /// Published articles holding every word of `query` (each a prefix of a word's stem; see
    /// [`crate::domain::search::Query`]): those whose headline holds them all first, then the
    /// newest, on both backends alike; or a plain text match for words in scripts written
    /// without spaces. Returns the hits and how many there are.
    async fn search(
        &mut self,
        query: &search::Query,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<SearchHit>, u64)> {
        if query.is_empty() {
            return Ok((Vec::new(), 0));
        }
        if query.is_plain() {
            return plain_search(self, &query.words, offset, limit).await;
        }
        let stems = &query.stems;
        if stems.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let (matching, headline) = match self.dialect() {
            // Each stem a quoted prefix: the reader's text is never FTS5 syntax.
            Dialect::Sqlite => {
                let quoted: Vec<String> =
                    stems.iter().map(|t| format!("\"{}\"*", t.replace('"', "\"\""))).collect();
                (quoted.join(" "), format!("headline : ({})", quoted.join(" AND ")))
            }
            // Stems hold only letters and digits, so each is a valid prefix lexeme.
            Dialect::Postgres => {
                let all = stems.iter().map(|t| format!("{t}:*")).collect::<Vec<_>>().join(" & ");
                (all, String::new())
            }
        };
        let count = dialect_sql(self, SEARCH_COUNT_SQLITE, SEARCH_COUNT_POSTGRES);
        let total = self.query(count, &[matching.as_str().into()]).await?.int()? as u64;
        let sql = dialect_sql(self, SEARCH_SQLITE, SEARCH_POSTGRES);
        let mut params: Vec<Param> = vec![matching.as_str().into(), limit.into(), offset.into()];
        if self.dialect() == Dialect::Sqlite {
            params.push(headline.as_str().into());
        }
        let hits = self.query(sql, &params).await?.map(hit_from_row)?;
        Ok((hits, total))
    }

    async fn section_by_slug(&mut self, slug: &str) -> Result<Option<Section>> {
        let sql = "SELECT id, name, slug FROM sections WHERE slug = $1";
        self.query(sql, &[slug.into()]).await?.first(section_from_row)
    }

    async fn tag_by_slug(&mut self, slug: &str) -> Result<Option<Tag>> {
        let sql = "SELECT id, name, slug FROM tags WHERE slug = $1";
        self.query(sql, &[slug.into()]).await?.first(tag_from_row)
    }

    async fn author(&mut self, id: AuthorId) -> Result<Option<Author>> {
        let sql = "SELECT id, name, bio, photo_url FROM authors WHERE id = $1";
        self.query(sql, &[id.into()]).await?.first(author_from_row)
    }

    /// A published article by its slug.
    async fn article_by_slug(&mut self, slug: &str) -> Result<Option<Article>> {
        let found = self.query(ARTICLE_BY_SLUG, &[slug.into()]).await?.first(article_from_row)?;
        match found {
            Some(article) => Ok(Some(self.complete(article).await?)),
            None => Ok(None),
        }
    }

    /// The published article with this slug, as a reply needs it (one statement: the form's
    /// replies read nothing else).
    async fn reply_target(&mut self, slug: String) -> Result<Option<ReplyTarget>> {
        let sql = "SELECT id, slug, date_path, replies_open, published_at FROM articles
                    WHERE slug = $1 AND status = 'published'";
        self.query(sql, &[slug.as_str().into()]).await?.first(|r| {
            Ok(ReplyTarget {
                id: r.id(0)?,
                slug: r.text(1)?,
                date_path: r.opt_text(2)?,
                replies_open: r.bool(3)?,
                published_at: r.opt_int(4)?,
            })
        })
    }

    /// The published article with this slug, without its byline and tags.
    async fn published_article_alone(&mut self, slug: &str) -> Result<Option<Article>> {
        self.query(ARTICLE_BY_SLUG, &[slug.into()]).await?.first(article_from_row)
    }

    /// An article's byline, in order.
    async fn authors_of_article(&mut self, article: ArticleId) -> Result<Vec<Author>> {
        self.query(AUTHORS_OF_ARTICLE, &[article.into()]).await?.map(author_from_row)
    }

    /// An article's tags, by name.
    async fn tags_of_article(&mut self, article: ArticleId) -> Result<Vec<Tag>> {
        self.query(TAGS_OF_ARTICLE, &[article.into()]).await?.map(tag_from_row)
    }

    /// An article by id, whatever its status.
    async fn article(&mut self, id: ArticleId) -> Result<Option<Article>> {
        let found = self.query(ARTICLE_BY_ID, &[id.into()]).await?.first(article_from_row)?;
        match found {
            Some(article) => Ok(Some(self.complete(article).await?)),
            None => Ok(None),
        }
    }

    /// Adds the byline and the tags to an article read alone.
    async fn complete(&mut self, mut article: Article) -> Result<Article> {
        article.authors = self.authors_of_article(article.id).await?;
        article.tags = self.tags_of_article(article.id).await?;
        Ok(article)
    }

    /// Whether a slug is used by an article or by an old URL that redirects.
    async fn slug_exists(&mut self, slug: &str) -> Result<bool> {
        let sql = "SELECT EXISTS (SELECT 1 FROM articles WHERE slug = $1)
                       OR EXISTS (SELECT 1 FROM slug_redirects WHERE slug = $1)";
        self.query(sql, &[slug.into()]).await?.bool()
    }

    /// The article an old slug now points to.
    async fn slug_redirect(&mut self, slug: &str) -> Result<Option<ArticleId>> {
        let sql = "SELECT article_id FROM slug_redirects WHERE slug = $1";
        self.query(sql, &[slug.into()]).await?.first(|r| r.id(0))
    }

    /// Scheduled articles whose time has come, oldest first.
    async fn due_articles(&mut self, now: i64) -> Result<Vec<Article>> {
        let sql = "SELECT id FROM articles WHERE status = 'scheduled' AND published_at <= $1
                    ORDER BY published_at, id";
        let ids: Vec<ArticleId> = self.query(sql, &[now.into()]).await?.map(|r| r.id(0))?;
        let mut due = Vec::with_capacity(ids.len());
        for id in ids {
            due.extend(self.article(id).await?);
        }
        Ok(due)
    }

    /// An article's revisions, newest first.
    async fn revisions(&mut self, article: ArticleId) -> Result<Vec<Revision>> {
        let sql = format!(
            "SELECT {REVISION_COLUMNS} FROM revisions WHERE article_id = $1 ORDER BY id DESC"
        );
        self.query(&sql, &[article.into()]).await?.map(revision_from_row)
    }

    /// The id of an article's latest revision, if it has one.
    async fn latest_revision(&mut self, article: ArticleId) -> Result<Option<RevisionId>> {
        let sql = "SELECT max(id) FROM revisions WHERE article_id = $1";
        self.query(sql, &[article.into()]).await?.first(|r| r.opt_id(0)).map(Option::flatten)
    }

    async fn revision(&mut self, id: RevisionId) -> Result<Option<Revision>> {
        let sql = format!("SELECT {REVISION_COLUMNS} FROM revisions WHERE id = $1");
        self.query(&sql, &[id.into()]).await?.first(revision_from_row)
    }

    /// An article's notes, oldest first.
    async fn notes(&mut self, article: ArticleId) -> Result<Vec<ArticleNote>> {
        self.query(NOTES_OF_ARTICLE, &[article.into()]).await?.map(note_from_row)
    }

    /// Every author record, by name.
    async fn authors(&mut self) -> Result<Vec<Author>> {
        let sql = "SELECT id, name, bio, photo_url FROM authors ORDER BY name, id";
        self.query(sql, &[]).await?.map(author_from_row)
    }

    /// Every section, by name.
    async fn sections(&mut self) -> Result<Vec<Section>> {
        let sql = "SELECT id, name, slug FROM sections ORDER BY name, id";
        self.query(sql, &[]).await?.map(section_from_row)
    }

    /// The authors with a published article, by name.
    async fn published_authors(&mut self) -> Result<Vec<Author>> {
        let sql = "SELECT au.id, au.name, au.bio, au.photo_url FROM authors au
                    WHERE EXISTS (SELECT 1 FROM article_authors x JOIN articles a
                                      ON a.id = x.article_id
                                   WHERE x.author_id = au.id AND a.status = 'published')
                    ORDER BY au.name, au.id";
        self.query(sql, &[]).await?.map(author_from_row)
    }

    /// Published articles in every one of `filter`'s section, tag and author, newest first,
    /// from just after `after` (the `(published_at, id)` of the last one already seen).
    async fn published_page(
        &mut self,
        filter: &Published,
        after: Option<(i64, ArticleId)>,
        limit: u64,
    ) -> Result<Vec<ArticleSummary>> {
        let mut conditions = vec!["a.status = 'published'".to_owned()];
        let mut params: Vec<Param> = Vec::new();
        if let Some(section) = filter.section {
            params.push(section.into());
            conditions.push(format!("a.section_id = ${}", params.len()));
        }
        if let Some(tag) = filter.tag {
            params.push(tag.into());
            conditions.push(format!(
                "EXISTS (SELECT 1 FROM article_tags x WHERE x.article_id = a.id AND x.tag_id = ${})",
                params.len()
            ));
        }
        if let Some(author) = filter.author {
            params.push(author.into());
            conditions.push(format!(
                "EXISTS (SELECT 1 FROM article_authors x
                          WHERE x.article_id = a.id AND x.author_id = ${})",
                params.len()
            ));
        }
        if let Some((at, id)) = after {
            params.push(at.into());
            params.push(id.into());
            let (at, id) = (params.len() - 1, params.len());
            conditions.push(format!(
                "(a.published_at < ${at} OR (a.published_at = ${at} AND a.id < ${id}))"
            ));
        }
        params.push(limit.into());
        let sql = format!(
            "SELECT {} FROM articles a LEFT JOIN sections s ON s.id = a.section_id
              WHERE {} ORDER BY a.published_at DESC, a.id DESC LIMIT ${}",
            summary_columns!(),
            conditions.join(" AND "),
            params.len()
        );
        self.query(&sql, &params).await?.map(summary_from_row)
    }

    /// The approved replies of those of these articles that are published.
    async fn published_reply_counts(&mut self, ids: &[i64]) -> Result<Vec<(ArticleId, i64)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = dialect_sql(self, COUNTS_SQLITE, COUNTS_POSTGRES);
        self.query(sql, &[ids.into()]).await?.map(|r| Ok((r.id(0)?, r.int(1)?)))
    }
}

const COUNTS_SQLITE: &str = concat!(
    "SELECT a.id, ",
    reply_count!(),
    " FROM articles a WHERE a.status = 'published'
        AND a.id IN (SELECT value FROM json_each($1))"
);

const COUNTS_POSTGRES: &str = concat!(
    "SELECT a.id, ",
    reply_count!(),
    " FROM articles a WHERE a.status = 'published' AND a.id = ANY($1)"
);

impl<T: Db + ?Sized> ArticleReads for T {}

/// Search by plain text, for terms a word index cannot find (scripts without spaces): headline
/// matches first, then the newest.
async fn plain_search<D: Db + ?Sized>(
    db: &mut D,
    terms: &[String],
    offset: u64,
    limit: u64,
) -> Result<(Vec<SearchHit>, u64)> {
    let find = dialect_sql(db, "instr", "strpos");
    let text = "lower(a.headline || ' ' || a.standfirst || ' ' || a.body_text)";
    let conditions: Vec<String> =
        (1..=terms.len()).map(|i| format!("{find}({text}, ${i}) > 0")).collect();
    let filter = conditions.join(" AND ");
    let mut params: Vec<Param> = terms.iter().map(Param::from).collect();
    let count =
        format!("SELECT count(*) FROM articles a WHERE a.status = 'published' AND {filter}");
    let total = db.query(&count, &params).await?.int()? as u64;
    let (limit_at, offset_at) = (params.len() + 1, params.len() + 2);
    params.push(limit.into());
    params.push(offset.into());
    let sql = format!(
        "SELECT {}, a.body_text FROM articles a LEFT JOIN sections s ON s.id = a.section_id
          WHERE a.status = 'published' AND {filter}
          ORDER BY {find}(lower(a.headline), $1) = 0, a.published_at DESC, a.id DESC
          LIMIT ${limit_at} OFFSET ${offset_at}",
        summary_columns!()
    );
    let hits = db.query(&sql, &params).await?.map(hit_from_row)?;
    Ok((hits, total))
}

/// Folds and stems what search finds of an article (see [`search::index_text`]): its
/// headline, and its standfirst, readable body, section and tags, for the site's language.
pub(super) async fn index_article<T: Tx + ?Sized>(tx: &mut T, id: ArticleId) -> Result<()> {
    let key = super::SiteSetting::Language.key();
    let tag = tx.query("SELECT value FROM settings WHERE key = $1", &[key.as_ref().into()]).await?;
    let language = match tag.first(|r| r.text(0))? {
        Some(tag) => search::Language::parse(&tag).unwrap_or_default(),
        None => search::Language::default(),
    };
    let sql = "SELECT a.headline, a.standfirst, a.body_text, COALESCE(s.name, '')
                 FROM articles a LEFT JOIN sections s ON s.id = a.section_id WHERE a.id = $1";
    let row = tx.query(sql, &[id.into()]).await?;
    let Some((headline, rest)) =
        row.first(|r| Ok((r.text(0)?, format!("{} {} {}", r.text(1)?, r.text(2)?, r.text(3)?))))?
    else {
        return Ok(());
    };
    let tags: Vec<String> = tx.query(TAGS_OF_ARTICLE, &[id.into()]).await?.map(|r| r.text(1))?;
    let rest = format!("{rest} {}", tags.join(" "));
    let update = "UPDATE articles SET search_headline = $2, search_body = $3 WHERE id = $1";
    let (headline, rest) =
        (search::index_text(&headline, &language), search::index_text(&rest, &language));
    tx.execute(update, &[id.into(), headline.as_str().into(), rest.as_str().into()]).await?;
    Ok(())
}

const INSERT_ARTICLE: &str = "INSERT INTO articles (slug, headline, standfirst, body_markdown,
        body_html, status, section_id, image_url, image_caption, image_alt, date_path,
        published_at, created_at, updated_at, replies_open, word_count, body_text,
        seo_title, seo_description, social_image)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13, $14, $15, $16,
            $17, $18, $19)
    RETURNING id";

const UPDATE_ARTICLE: &str = "UPDATE articles SET slug = $2, headline = $3, standfirst = $4,
        body_markdown = $5, body_html = $6, section_id = $7, image_url = $8,
        image_caption = $9, image_alt = $10, replies_open = $11, updated_at = $12,
        word_count = $13, body_text = $14, seo_title = $15, seo_description = $16,
        social_image = $17
  WHERE id = $1";

/// Writing articles, in a unit of work.
#[async_trait]
pub trait ArticleWrites: Tx {
    /// Folds the reply counters into the articles' counts (PostgreSQL; on SQLite counts are
    /// kept whole); returns how many counters it folded.
    async fn fold_reply_counts(&mut self) -> Result<u64> {
        if self.dialect() == Dialect::Sqlite {
            return Ok(0);
        }
        // One statement: a reader sees a count either still apart or already folded in.
        let sql = "WITH folded AS (DELETE FROM reply_counters RETURNING article_id, replies),
                        sums AS (SELECT article_id, sum(replies) AS replies, count(*) AS n
                                   FROM folded GROUP BY article_id),
                        done AS (UPDATE articles a SET reply_count = a.reply_count + sums.replies
                                   FROM sums WHERE a.id = sums.article_id)
                   SELECT coalesce(sum(n), 0)::bigint FROM sums";
        self.query(sql, &[]).await?.int().map(|n| n as u64)
    }

    /// Fills in the readable text (what search reads) of up to `limit` articles after id
    /// `after` that were saved before it was kept; returns the last id looked at, `None` when
    /// none was left.
    async fn fill_body_text(&mut self, after: i64, limit: u64) -> Result<Option<i64>> {
        let sql = "SELECT id, body_html FROM articles
                    WHERE body_text = '' AND body_html <> '' AND id > $1 ORDER BY id LIMIT $2";
        let rows = self.query(sql, &[after.into(), limit.into()]).await?;
        let pending: Vec<(i64, String)> = rows.map(|r| Ok((r.int(0)?, r.text(1)?)))?;
        for (id, html) in &pending {
            let update = "UPDATE articles SET body_text = $2 WHERE id = $1";
            let readable = text::readable_text(html);
            self.execute(update, &[(*id).into(), readable.as_str().into()]).await?;
            index_article(self, ArticleId(*id)).await?;
        }
        Ok(pending.last().map(|(id, _)| *id))
    }

    /// Replaces an article's rendered body (its Markdown unchanged: an image it shows
    /// changed), and the readable text search reads.
    async fn set_body_html(&mut self, id: ArticleId, html: &str) -> Result<()> {
        let sql = "UPDATE articles SET body_html = $2, body_text = $3 WHERE id = $1";
        let readable = text::readable_text(html);
        self.execute(sql, &[id.into(), html.into(), readable.as_str().into()]).await?;
        index_article(self, id).await
    }

    /// Stores an article. Fails with [`StoreError::Conflict`] when the slug is taken.
    async fn insert_article(&mut self, a: &NewArticle) -> Result<ArticleId> {
        let f = &a.fields;
        let readable = text::readable_text(&f.body_html);
        let image = f.image.as_ref();
        let params = [
            f.slug.as_str().into(),
            f.headline.as_str().into(),
            f.standfirst.as_str().into(),
            f.body_markdown.as_str().into(),
            f.body_html.as_str().into(),
            a.status.as_str().into(),
            f.section_id.into(),
            image.map(|i| i.url.as_str()).into(),
            image.map_or("", |i| &i.caption).into(),
            image.map_or("", |i| &i.alt).into(),
            a.date_path.as_deref().into(),
            a.published_at.into(),
            a.created_at.into(),
            f.replies_open.into(),
            f.word_count.into(),
            readable.as_str().into(),
            f.seo.title.as_str().into(),
            f.seo.description.as_str().into(),
            f.seo.image.as_str().into(),
        ];
        let rows = self.query(INSERT_ARTICLE, &params).await.map_err(slug_conflict)?;
        let id: ArticleId =
            rows.first(|r| r.id(0))?.ok_or(StoreError::NotFound("the new article"))?;
        self.write_links(id, f).await?;
        Ok(id)
    }

    /// Replaces what the editor sets. Fails with [`StoreError::Conflict`] when the slug is taken.
    async fn update_article(
        &mut self,
        id: ArticleId,
        f: &ArticleFields,
        updated_at: i64,
    ) -> Result<()> {
        let image = f.image.as_ref();
        let readable = text::readable_text(&f.body_html);
        let params = [
            id.into(),
            f.slug.as_str().into(),
            f.headline.as_str().into(),
            f.standfirst.as_str().into(),
            f.body_markdown.as_str().into(),
            f.body_html.as_str().into(),
            f.section_id.into(),
            image.map(|i| i.url.as_str()).into(),
            image.map_or("", |i| &i.caption).into(),
            image.map_or("", |i| &i.alt).into(),
            f.replies_open.into(),
            updated_at.into(),
            f.word_count.into(),
            readable.as_str().into(),
            f.seo.title.as_str().into(),
            f.seo.description.as_str().into(),
            f.seo.image.as_str().into(),
        ];
        let changed = self.execute(UPDATE_ARTICLE, &params).await.map_err(slug_conflict)?;
        if changed == 0 {
            return Err(StoreError::NotFound("the article"));
        }
        self.write_links(id, f).await
    }

    /// Puts an article in the trash (`Some(at)`) or takes it out (`None`); false when there
    /// is no such article.
    async fn set_trashed(&mut self, id: ArticleId, at: Option<i64>) -> Result<bool> {
        let sql = "UPDATE articles SET trashed_at = $2 WHERE id = $1";
        Ok(self.execute(sql, &[id.into(), at.into()]).await? > 0)
    }

    /// Deletes an article for ever, with all that was its alone: its replies (and what mail
    /// kept of them), byline, tags, revisions, notes, old slugs and addresses, uses of
    /// images, subscriptions, outbox events and import records. False when there was none.
    async fn delete_article(&mut self, id: ArticleId) -> Result<bool> {
        let sql = "SELECT date_path, slug FROM articles WHERE id = $1";
        let row = self.query(sql, &[id.into()]).await?;
        let Some((date_path, slug)) = row.first(|r| Ok((r.opt_text(0)?, r.text(1)?)))? else {
            return Ok(false);
        };
        let replies = "SELECT id FROM comments WHERE article_id = $1";
        for sql in [
            format!("DELETE FROM mail_digests WHERE reply_id IN ({replies})"),
            format!("DELETE FROM staff_digests WHERE reply_id IN ({replies})"),
            format!("DELETE FROM import_map WHERE kind = 'reply' AND target_id IN ({replies})"),
        ] {
            self.execute(&sql, &[id.into()]).await?;
        }
        let mut tables = vec![
            "subscriptions",
            "comments",
            "media_uses",
            "article_authors",
            "article_tags",
            "slug_redirects",
            "revisions",
            "article_notes",
            "outbox_deliveries",
            "outbox_events",
        ];
        if self.dialect() == Dialect::Postgres {
            tables.push("reply_counters");
        }
        for table in tables {
            self.execute(&format!("DELETE FROM {table} WHERE article_id = $1"), &[id.into()])
                .await?;
        }
        let sql = "DELETE FROM import_map WHERE kind = 'article' AND target_id = $1";
        self.execute(sql, &[id.into()]).await?;
        if let Some(path) = crate::domain::paths::public_article_path(date_path.as_deref(), &slug) {
            self.execute("DELETE FROM url_redirects WHERE target = $1", &[path.as_str().into()])
                .await?;
        }
        Ok(self.execute("DELETE FROM articles WHERE id = $1", &[id.into()]).await? > 0)
    }

    /// Writes an article's byline and tags, replacing any it had.
    async fn write_links(&mut self, id: ArticleId, fields: &ArticleFields) -> Result<()> {
        self.execute("DELETE FROM article_authors WHERE article_id = $1", &[id.into()]).await?;
        self.execute("DELETE FROM article_tags WHERE article_id = $1", &[id.into()]).await?;
        let bylines: Vec<Vec<Param>> = fields
            .author_ids
            .iter()
            .enumerate()
            .map(|(position, author)| vec![id.into(), (*author).into(), position.into()])
            .collect();
        let insert_byline = "INSERT INTO article_authors (article_id, author_id, position)
                             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
        self.execute_each(insert_byline, &bylines).await?;
        let tags: Vec<Vec<Param>> =
            fields.tag_ids.iter().map(|tag| vec![id.into(), (*tag).into()]).collect();
        let insert_tag = "INSERT INTO article_tags (article_id, tag_id) VALUES ($1, $2)
                          ON CONFLICT DO NOTHING";
        self.execute_each(insert_tag, &tags).await?;
        // An article taking back one of its old slugs no longer needs that redirect.
        let sql = "DELETE FROM slug_redirects WHERE slug = $1";
        self.execute(sql, &[fields.slug.as_str().into()]).await?;
        // Every save writes its links last: the words search finds are all written by now.
        index_article(self, id).await
    }

    /// Moves an article to `status`; `date_path` and `published_at` as given.
    async fn set_article_status(
        &mut self,
        id: ArticleId,
        status: ArticleStatus,
        date_path: Option<&str>,
        published_at: Option<i64>,
        updated_at: i64,
    ) -> Result<()> {
        let sql = "UPDATE articles SET status = $2, date_path = $3, published_at = $4,
                       updated_at = $5
                    WHERE id = $1";
        let params = [
            id.into(),
            status.as_str().into(),
            date_path.into(),
            published_at.into(),
            updated_at.into(),
        ];
        if self.execute(sql, &params).await? == 0 {
            return Err(StoreError::NotFound("the article"));
        }
        Ok(())
    }

    /// Publishes a scheduled article, unless another node did already: true for the one that
    /// did it.
    async fn publish_scheduled(
        &mut self,
        id: ArticleId,
        date_path: &str,
        published_at: i64,
        now: i64,
    ) -> Result<bool> {
        let sql = "UPDATE articles SET status = 'published', date_path = $2, published_at = $3,
                       updated_at = $4
                    WHERE id = $1 AND status = 'scheduled'";
        let params = [id.into(), date_path.into(), published_at.into(), now.into()];
        Ok(self.execute(sql, &params).await? > 0)
    }

    /// Makes an old slug answer for an article.
    async fn add_slug_redirect(&mut self, slug: &str, article: ArticleId) -> Result<()> {
        let sql = "INSERT INTO slug_redirects (slug, article_id) VALUES ($1, $2)
                   ON CONFLICT (slug) DO UPDATE SET article_id = excluded.article_id";
        self.execute(sql, &[slug.into(), article.into()]).await?;
        Ok(())
    }

    async fn insert_revision(&mut self, r: &Revision) -> Result<RevisionId> {
        let sql = "INSERT INTO revisions (article_id, user_id, created_at, headline, standfirst,
                       slug, body_markdown, section, tags, authors, image_url, image_caption,
                       image_alt, replies_open, kind, seo_title, seo_description, social_image)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                           $16, $17, $18)
                   RETURNING id";
        let params = [
            r.article_id.into(),
            r.user_id.into(),
            r.created_at.into(),
            r.headline.as_str().into(),
            r.standfirst.as_str().into(),
            r.slug.as_str().into(),
            r.body_markdown.as_str().into(),
            r.section.as_str().into(),
            r.tags.as_str().into(),
            r.authors.as_str().into(),
            r.image_url.as_deref().into(),
            r.image_caption.as_str().into(),
            r.image_alt.as_str().into(),
            r.replies_open.into(),
            r.kind.as_str().into(),
            r.seo.title.as_str().into(),
            r.seo.description.as_str().into(),
            r.seo.image.as_str().into(),
        ];
        let rows = self.query(sql, &params).await?;
        rows.first(|r| r.id(0))?.ok_or(StoreError::NotFound("the new revision"))
    }

    /// Appends a correction or update; the article's "Updated" time is its time.
    async fn add_note(
        &mut self,
        article: ArticleId,
        kind: NoteKind,
        body: &str,
        at: i64,
    ) -> Result<i64> {
        let sql = "INSERT INTO article_notes (article_id, kind, body, created_at)
                   VALUES ($1, $2, $3, $4) RETURNING id";
        let params = [article.into(), kind.as_str().into(), body.into(), at.into()];
        let id = self.query(sql, &params).await?.int()?;
        let touch = "UPDATE articles SET updated_at = $2 WHERE id = $1";
        self.execute(touch, &[article.into(), at.into()]).await?;
        Ok(id)
    }

    /// The author record with this name (the oldest, if several), created (at `at`) if new.
    async fn find_or_create_author(&mut self, name: &str, at: i64) -> Result<Author> {
        let find =
            "SELECT id, name, bio, photo_url FROM authors WHERE name = $1 ORDER BY id LIMIT 1";
        if let Some(author) = self.query(find, &[name.into()]).await?.first(author_from_row)? {
            return Ok(author);
        }
        let insert = "INSERT INTO authors (name, created_at) VALUES ($1, $2) RETURNING id, name, bio, photo_url";
        let rows = self.query(insert, &[name.into(), at.into()]).await?;
        rows.first(author_from_row)?.ok_or(StoreError::NotFound("the new author"))
    }

    async fn update_author(
        &mut self,
        id: AuthorId,
        name: &str,
        bio: &str,
        photo: &str,
    ) -> Result<()> {
        let sql = "UPDATE authors SET name = $2, bio = $3, photo_url = $4 WHERE id = $1";
        self.execute(sql, &[id.into(), name.into(), bio.into(), photo.into()]).await?;
        Ok(())
    }

    /// The section with this name (or, failing that, this slug), created if new; and whether
    /// it was (every page's navigation lists the sections).
    async fn find_or_create_section(&mut self, name: &str, slug: &str) -> Result<(Section, bool)> {
        let insert = "INSERT INTO sections (name, slug) VALUES ($1, $2) ON CONFLICT DO NOTHING";
        let created = self.execute(insert, &[name.into(), slug.into()]).await? > 0;
        let find = "SELECT id, name, slug FROM sections WHERE name = $1 OR slug = $2
                     ORDER BY name = $1 DESC, id LIMIT 1";
        let rows = self.query(find, &[name.into(), slug.into()]).await?;
        let section = rows.first(section_from_row)?.ok_or(StoreError::NotFound("the section"))?;
        Ok((section, created))
    }

    /// The tags with these `(name, slug)`s (or those slugs), created if new, in the order given.
    async fn find_or_create_tags(&mut self, tags: &[(String, String)]) -> Result<Vec<Tag>> {
        let mut found = Vec::with_capacity(tags.len());
        for (name, slug) in tags {
            let insert = "INSERT INTO tags (name, slug) VALUES ($1, $2) ON CONFLICT DO NOTHING";
            self.execute(insert, &[name.into(), slug.into()]).await?;
            let find = "SELECT id, name, slug FROM tags WHERE name = $1 OR slug = $2
                         ORDER BY name = $1 DESC, id LIMIT 1";
            let rows = self.query(find, &[name.into(), slug.into()]).await?;
            let tag = rows.first(tag_from_row)?.ok_or(StoreError::NotFound("the tag"))?;
            if !found.iter().any(|t: &Tag| t.id == tag.id) {
                found.push(tag);
            }
        }
        Ok(found)
    }
}

impl<T: Tx + ?Sized> ArticleWrites for T {}
