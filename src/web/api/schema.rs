//! What the API sends and takes, as JSON. These types are the API's contract (their
//! `ToSchema` is what `/api/openapi.json` says), apart from the store's: nothing reaches a
//! response that is not named here, and no type here has a field for a commenter's email or
//! address.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::config::Config;
use crate::domain::paths;
use crate::services::discussion::{Entry, Node};
use crate::store::{Article, ArticleSummary, Author, Image, Reply, Section, Tag, Term, Thread};

/// A moment, as RFC 3339 in UTC: `2026-12-07T09:14:05Z`.
pub fn moment(unix: i64) -> String {
    jiff::Timestamp::from_second(unix).unwrap_or(jiff::Timestamp::UNIX_EPOCH).to_string()
}

fn absolute(config: &Config, path: &str) -> String {
    if path.contains("://") { path.to_owned() } else { format!("{}{path}", config.base_url) }
}

/// An article as lists show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleSummaryOut {
    pub id: i64,
    /// Its page; `null` for a draft.
    pub url: Option<String>,
    pub headline: String,
    pub standfirst: String,
    /// `published`, `scheduled` or `draft`.
    pub status: String,
    /// The names on its byline, in order.
    pub authors: Vec<String>,
    pub section: Option<String>,
    pub image: Option<ImageOut>,
    pub published_at: Option<String>,
    pub updated_at: String,
    pub reply_count: i64,
    pub word_count: i64,
}

impl ArticleSummaryOut {
    pub fn of(config: &Config, a: &ArticleSummary) -> Self {
        let path = paths::public_article_path(a.date_path.as_deref(), &a.slug)
            .filter(|_| a.status == crate::domain::ArticleStatus::Published);
        Self {
            id: a.id.get(),
            url: path.map(|p| absolute(config, &p)),
            headline: a.headline.clone(),
            standfirst: a.standfirst.clone(),
            status: a.status.as_str().to_owned(),
            authors: a.author_names.clone(),
            section: a.section_name.clone(),
            image: a.image.as_ref().map(|i| ImageOut::of(config, i)),
            published_at: a.published_at.map(moment),
            updated_at: moment(a.updated_at),
            reply_count: a.reply_count,
            word_count: a.word_count,
        }
    }
}

/// A page of articles, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticlePage {
    pub articles: Vec<ArticleSummaryOut>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next: Option<String>,
}

/// An article whole.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleOut {
    pub id: i64,
    /// Its page; `null` unless it is published.
    pub url: Option<String>,
    /// `published`, `scheduled` or `draft`.
    pub status: String,
    pub slug: String,
    pub headline: String,
    pub standfirst: String,
    /// The body as the page shows it (sanitized HTML).
    pub body_html: String,
    /// The body as written (Markdown): for tokens that may edit it, else `null`.
    pub body_markdown: Option<String>,
    pub authors: Vec<AuthorOut>,
    pub section: Option<TermOut>,
    pub tags: Vec<TermOut>,
    pub image: Option<ImageOut>,
    /// First publication, or when a scheduled article is due.
    pub published_at: Option<String>,
    pub updated_at: String,
    pub replies_open: bool,
    pub reply_count: i64,
    pub word_count: i64,
    /// What `If-Match` names when this article is changed (also its `ETag`).
    pub revision: String,
}

impl ArticleOut {
    pub fn of(config: &Config, a: &Article, revision: String, with_source: bool) -> Self {
        let published = a.status == crate::domain::ArticleStatus::Published;
        Self {
            id: a.id.get(),
            url: a.public_path().filter(|_| published).map(|p| absolute(config, &p)),
            status: a.status.as_str().to_owned(),
            slug: a.slug.clone(),
            headline: a.headline.clone(),
            standfirst: a.standfirst.clone(),
            body_html: a.body_html.clone(),
            body_markdown: with_source.then(|| a.body_markdown.clone()),
            authors: a.authors.iter().map(|au| AuthorOut::of(config, au)).collect(),
            section: a.section.as_ref().map(|s| TermOut::section(config, s)),
            tags: a.tags.iter().map(|t| TermOut::tag(config, t)).collect(),
            image: a.image.as_ref().map(|i| ImageOut::of(config, i)),
            published_at: a.published_at.map(moment),
            updated_at: moment(a.updated_at),
            replies_open: a.replies_open,
            reply_count: a.reply_count,
            word_count: a.word_count,
            revision,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorOut {
    pub id: i64,
    pub name: String,
    pub bio: String,
    /// Their page of articles.
    pub url: String,
}

impl AuthorOut {
    pub fn of(config: &Config, a: &Author) -> Self {
        Self {
            id: a.id.get(),
            name: a.name.clone(),
            bio: a.bio.clone(),
            url: absolute(config, &paths::author_path(a.id, &a.name)),
        }
    }
}

/// A section or a tag.
#[derive(Debug, Serialize, ToSchema)]
pub struct TermOut {
    pub id: i64,
    pub name: String,
    pub slug: String,
    /// Its page of articles.
    pub url: String,
}

impl TermOut {
    pub fn section(config: &Config, s: &Section) -> Self {
        let url = absolute(config, &paths::section_path(&s.slug));
        Self { id: s.id.get(), name: s.name.clone(), slug: s.slug.clone(), url }
    }

    pub fn tag(config: &Config, t: &Tag) -> Self {
        let url = absolute(config, &paths::tag_path(&t.slug));
        Self { id: t.id.get(), name: t.name.clone(), slug: t.slug.clone(), url }
    }
}

/// A section or tag as its list shows it, with the newsroom's description.
#[derive(Debug, Serialize, ToSchema)]
pub struct TermListItem {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub description: String,
    pub url: String,
}

impl TermListItem {
    pub fn of(url: String, t: &Term) -> Self {
        Self {
            id: t.id,
            name: t.name.clone(),
            slug: t.slug.clone(),
            description: t.description.clone(),
            url,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TermList {
    pub items: Vec<TermListItem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuthorList {
    pub authors: Vec<AuthorOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImageOut {
    pub url: String,
    pub alt: String,
    pub caption: String,
    pub credit: String,
}

impl ImageOut {
    pub fn of(config: &Config, i: &Image) -> Self {
        Self {
            url: absolute(config, &i.src()),
            alt: i.alt_text().to_owned(),
            caption: i.caption_text().to_owned(),
            credit: i.credit_text().to_owned(),
        }
    }
}

/// Who wrote a reply, as the page shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyAuthorOut {
    pub name: String,
    /// The website they gave, if any.
    pub website: Option<String>,
    /// Written by the newsroom's staff.
    pub staff: bool,
    /// A pingback or trackback an import kept: another site's mention.
    pub link_back: bool,
}

/// One reply, in the thread's order. A removed reply keeps its place (its answers stay under
/// it) with `removed` and nothing else of it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyOut {
    pub id: i64,
    pub parent_id: Option<i64>,
    /// 1 for a reply to the article; deeper answers than the thread's depth follow their
    /// parent at the deepest level, as the page shows them.
    pub depth: u32,
    pub removed: bool,
    /// Awaiting moderation: shown to its poster alone (see `poster`).
    pub held: bool,
    pub author: Option<ReplyAuthorOut>,
    /// The text as typed: show it as text, never as HTML.
    pub body: Option<String>,
    /// The text as the page shows it: escaped, with paragraphs and links added.
    pub body_html: Option<String>,
    pub created_at: Option<String>,
    /// When its poster last changed it.
    pub edited_at: Option<String>,
}

impl ReplyOut {
    pub fn of(reply: &Reply, depth: u32, held: bool) -> Self {
        Self {
            id: reply.id.get(),
            parent_id: reply.parent_id.map(|p| p.get()),
            depth,
            removed: false,
            held,
            author: Some(ReplyAuthorOut {
                name: reply.author_name.clone(),
                website: reply.author_url.clone(),
                staff: reply.staff,
                link_back: reply.link_back,
            }),
            body: Some(reply.body.clone()),
            body_html: Some(crate::domain::text::reply_html(&reply.body)),
            created_at: Some(moment(reply.created_at)),
            edited_at: reply.edited_at.map(moment),
        }
    }

    fn removed(id: i64, parent_id: Option<i64>, depth: u32) -> Self {
        Self {
            id,
            parent_id,
            depth,
            removed: true,
            held: false,
            author: None,
            body: None,
            body_html: None,
            created_at: None,
            edited_at: None,
        }
    }

    /// A page's nested threads as one list in the page's order.
    pub fn flatten(nodes: &[Node]) -> Vec<ReplyOut> {
        let mut out = Vec::new();
        let mut waiting: Vec<(&Node, u32, Option<i64>)> =
            nodes.iter().rev().map(|n| (n, 1, None)).collect();
        while let Some((node, depth, parent)) = waiting.pop() {
            let id = match &node.entry {
                Entry::Reply { reply, held } => {
                    out.push(Self::of(reply, depth, *held));
                    reply.id.get()
                }
                Entry::Removed { id } => {
                    out.push(Self::removed(id.get(), parent, depth));
                    id.get()
                }
            };
            waiting.extend(node.children.iter().rev().map(|c| (c, depth + 1, Some(id))));
        }
        out
    }
}

/// One page of a thread's replies.
#[derive(Debug, Serialize, ToSchema)]
pub struct RepliesPage {
    /// The article (or embedded thread) they answer.
    pub article_id: i64,
    /// Approved replies in the whole thread.
    pub reply_count: i64,
    pub replies_open: bool,
    /// Whether the site mails readers about replies (the form then offers it).
    pub mail: bool,
    /// This page, from 1 (the oldest); pages hold `replies_per_page` top-level threads.
    pub page: u32,
    pub pages: u32,
    /// `cursor` for the page before (older), if any.
    pub older: Option<String>,
    /// `cursor` for the page after (newer), if any.
    pub newer: Option<String>,
    pub replies: Vec<ReplyOut>,
}

/// An embedded thread: the replies of a page on another site.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadOut {
    pub id: i64,
    /// The page's canonical address.
    pub url: String,
    pub title: String,
    pub reply_count: i64,
    pub replies_open: bool,
    pub created_at: String,
    /// Its replies' Atom feed.
    pub feed: String,
}

impl ThreadOut {
    pub fn of(config: &Config, t: &Thread, open: bool) -> Self {
        Self {
            id: t.id.get(),
            url: t.url.clone(),
            title: t.title.clone(),
            reply_count: t.reply_count,
            replies_open: open,
            created_at: moment(t.created_at),
            feed: absolute(config, &crate::services::threads::feed_path(t.id)),
        }
    }
}

/// A page's thread and one page of its replies; `thread` is `null` (and the list empty) until
/// the first reply makes it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadReplies {
    pub thread: Option<ThreadOut>,
    /// Whether a reply may be posted (a new thread is open).
    pub replies_open: bool,
    /// Whether the site mails readers about replies (the form then offers it).
    pub mail: bool,
    pub page: u32,
    pub pages: u32,
    pub older: Option<String>,
    pub newer: Option<String>,
    pub replies: Vec<ReplyOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleCount {
    pub id: i64,
    pub replies: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UrlCount {
    /// As asked.
    pub url: String,
    /// 0 for an address with no replies (or unknown).
    pub replies: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Counts {
    pub articles: Vec<ArticleCount>,
    pub urls: Vec<UrlCount>,
}

/// A reply form's token: send it back with the reply.
#[derive(Debug, Serialize, ToSchema)]
pub struct FormToken {
    pub token: String,
    pub issued_at: String,
}

/// A reply, as posted: the same fields as the form.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct ReplyIn {
    /// Required: the reply's text.
    pub comment: String,
    /// Required.
    pub name: String,
    /// Required; never published.
    pub email: String,
    pub website: String,
    /// The id of the reply this answers, if any.
    pub parent: Option<i64>,
    /// From `GET /api/v1/token`, for this article or page.
    pub token: String,
    /// The field people never see: leave it empty.
    pub homepage: String,
    /// Mail the poster about answers to this reply (when the site sends mail).
    pub notify_replies: bool,
    /// Mail the poster about every new reply here.
    pub follow_article: bool,
    /// The poster's earlier `poster` token, so that the new one lists their held replies too.
    pub poster: String,
    /// For an embedded thread: the page's canonical address.
    pub url: String,
    /// For an embedded thread's first reply: the page's title.
    pub title: String,
}

/// A stored reply.
#[derive(Debug, Serialize, ToSchema)]
pub struct Posted {
    pub reply: ReplyOut,
    /// Awaiting moderation: shown to its poster alone.
    pub held: bool,
    /// The page that shows it, with `#comment-ID`.
    pub location: String,
    /// The article (or embedded thread) it was posted to.
    pub article_id: i64,
    /// A signed list of this poster's held replies: send it as `poster` when reading the
    /// thread, so that they see theirs. Keep it where the poster's browser keeps such things.
    pub poster: String,
    /// The reply's card as Byline's pages show it (for their script).
    pub html: String,
}

/// The account a token acts for.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: i64,
    pub name: String,
    /// `author`, `editor` or `admin`.
    pub role: String,
    pub scopes: Vec<String>,
}

/// An article's fields: all of them to create one (`headline` at least), any of them to
/// change one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ArticleIn {
    pub headline: Option<String>,
    pub standfirst: Option<String>,
    /// Made from the headline when empty.
    pub slug: Option<String>,
    /// Markdown.
    pub body_markdown: Option<String>,
    /// A section's name (made if new, by editors and admins).
    pub section: Option<String>,
    pub tags: Option<Vec<String>>,
    /// Ids of the authors on the byline, in order; the token's own account when absent on a
    /// new article.
    pub authors: Option<Vec<i64>>,
    pub image_url: Option<String>,
    pub image_caption: Option<String>,
    pub image_alt: Option<String>,
    pub replies_open: Option<bool>,
    /// Make it the front page's lead story (editors and admins).
    pub lead: Option<bool>,
    pub seo_title: Option<String>,
    pub seo_description: Option<String>,
    pub social_image: Option<String>,
}

/// When to publish.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleIn {
    /// RFC 3339, in the future: `2026-12-24T08:00:00Z`.
    pub at: String,
}

/// A moderator's action on a reply: one of the queue's.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionIn {
    /// `approve`, `unapprove`, `spam`, `notspam`, `trash`, `restore`, `delete` (for ever),
    /// `edit` (with `comment`: the new text) or `answer` (with `comment`: a staff answer).
    pub action: String,
    #[serde(default)]
    pub comment: Option<String>,
}

/// What a moderator's action did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Decided {
    pub id: i64,
    /// The reply's status now (`approved`, `pending`, `spam`, `trash`), or `deleted`.
    pub status: String,
    /// For `answer`: the staff answer's id.
    pub answer_id: Option<i64>,
}

/// A reply in the moderation queue: no email, no address.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueuedOut {
    pub reply: ReplyOut,
    /// `approved`, `pending`, `spam` or `trash`.
    pub status: String,
    pub article_id: i64,
    pub headline: String,
    /// The page that shows its thread, if public.
    pub url: Option<String>,
    /// Why it is held, if it is.
    pub held_reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QueuePage {
    pub replies: Vec<QueuedOut>,
    pub total: u64,
    pub next: Option<String>,
}

/// What a live event's `data` holds.
#[derive(Debug, Serialize, ToSchema)]
pub struct LiveEvent {
    /// `reply.posted`, `reply.approved` (now public) or `reply.removed`.
    pub kind: String,
    pub article_id: i64,
    /// The reply, for the first two; `null` when it is removed.
    pub reply: Option<ReplyOut>,
    pub reply_id: i64,
    /// The reply's card as Byline's pages show it.
    pub html: Option<String>,
}
