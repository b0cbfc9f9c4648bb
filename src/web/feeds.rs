//! Atom feeds (the site, each section, tag and author, and each article's replies), the
//! sitemaps and `robots.txt`. Templates escape every value; text is also stripped of the
//! characters XML 1.0 cannot carry.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::tz::TimeZone;

use super::AppState;
use super::error::AppError;
use crate::domain::paths::article_path;
use crate::domain::{text, time};
use crate::services::reading::{self, ArticleAddress, ListingKind};
use crate::store::ArticleSummary;

const ENTRIES: u64 = 20;
const REPLY_ENTRIES: u64 = 50;

#[derive(Template)]
#[template(path = "feed.xml")]
struct Feed {
    title: String,
    subtitle: String,
    id: String,
    self_url: String,
    page_url: String,
    updated: String,
    entries: Vec<Entry>,
}

struct Entry {
    title: String,
    id: String,
    url: String,
    published: String,
    updated: String,
    authors: Vec<String>,
    category: Option<String>,
    summary: String,
    /// HTML, which the template escapes into the element's text, as Atom's `type="html"` wants.
    content_html: String,
    /// The featured image, as an enclosure (and Media RSS, which feed readers show).
    image: Option<FeedImage>,
}

struct FeedImage {
    url: String,
    /// Known for the library's images; empty for one given by address.
    mime: &'static str,
    width: u32,
    height: u32,
}

fn feed_image(base: &str, image: &crate::store::Image) -> FeedImage {
    match &image.media {
        Some(view) => {
            let width = view.src_width();
            FeedImage {
                url: format!("{base}{}", view.src()),
                mime: view.format.mime(),
                width,
                height: view.height_at(width),
            }
        }
        None => {
            // An address of this site (a library image deleted meanwhile) made absolute.
            let url = if image.url.starts_with('/') {
                format!("{base}{}", image.url)
            } else {
                image.url.clone()
            };
            FeedImage { url: xml(&url), mime: "", width: 0, height: 0 }
        }
    }
}

/// Text without the characters XML 1.0 forbids (some control and non-characters).
fn xml(text: &str) -> String {
    text.chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r')
                || ('\u{20}'..='\u{D7FF}').contains(&c)
                || ('\u{E000}'..='\u{FFFD}').contains(&c)
                || c >= '\u{10000}'
        })
        .collect()
}

fn utc(unix: i64) -> String {
    time::iso(unix, &TimeZone::UTC).replace("+00:00", "Z")
}

fn respond(body: String, content_type: &'static str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, super::response::Caching::Public.header_value());
    response
}

fn article_entry(base: &str, a: ArticleSummary) -> Entry {
    let url =
        format!("{base}{}", article_path(a.date_path.as_deref().unwrap_or_default(), &a.slug));
    let published = a.published_at.unwrap_or(a.updated_at);
    Entry {
        title: xml(&a.headline),
        id: url.clone(),
        url,
        published: utc(published),
        updated: utc(a.updated_at.max(published)),
        authors: a.author_names.iter().map(|n| xml(n)).collect(),
        category: a.section_name.as_deref().map(xml),
        summary: xml(&a.standfirst),
        // Listings carry the standfirst; the article itself is one click away.
        content_html: String::new(),
        image: a.image.as_ref().map(|image| feed_image(base, image)),
    }
}

async fn article_feed(
    state: &AppState,
    title: String,
    page_path: String,
    articles: Vec<ArticleSummary>,
) -> Result<Response, AppError> {
    let base = &state.config.base_url;
    let updated = articles.iter().map(|a| a.updated_at.max(a.published_at.unwrap_or(0))).max();
    let feed_path = format!("{page_path}feed.atom");
    let feed = Feed {
        title: xml(&title),
        subtitle: String::new(),
        id: format!("{base}{feed_path}"),
        self_url: format!("{base}{feed_path}"),
        page_url: format!("{base}{page_path}"),
        updated: utc(updated.unwrap_or(0)),
        entries: articles.into_iter().map(|a| article_entry(base, a)).collect(),
    };
    Ok(respond(feed.render()?, "application/atom+xml; charset=utf-8"))
}

/// `/feed.atom`: the latest articles.
pub async fn site(State(state): State<AppState>) -> Result<Response, AppError> {
    let articles = reading::latest(&state.services, ENTRIES).await?;
    let site = crate::services::reading::site_identity(&state.services).await?;
    article_feed(&state, site.site_title.clone(), "/".into(), articles).await
}

async fn listing_feed(
    state: &AppState,
    kind: ListingKind,
    key: &str,
) -> Result<Response, AppError> {
    let (listed, articles) = reading::listing_feed(&state.services, kind, key, ENTRIES)
        .await?
        .ok_or(AppError::NotFound)?;
    let site = crate::services::reading::site_identity(&state.services).await?;
    let title = format!("{}: {}", site.site_title, listed.heading);
    article_feed(state, title, listed.base, articles).await
}

/// `/section/{slug}/feed.atom`
pub async fn section(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Response, AppError> {
    listing_feed(&state, ListingKind::Section, &key).await
}

/// `/tag/{slug}/feed.atom`
pub async fn tag(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Response, AppError> {
    listing_feed(&state, ListingKind::Tag, &key).await
}

/// `/author/{id-name}/feed.atom`
pub async fn author(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Response, AppError> {
    listing_feed(&state, ListingKind::Author, &key).await
}

/// `/2026/11/24/slug/feed.atom`: an article's latest approved replies. Names only: a reader's
/// email is never in a feed.
pub async fn replies(
    State(state): State<AppState>,
    Path((year, month, day, slug)): Path<(String, String, String, String)>,
) -> Result<Response, AppError> {
    let address = ArticleAddress { date: format!("{year}/{month}/{day}"), slug };
    let (article, replies) = reading::replies_feed(&state.services, &address, REPLY_ENTRIES)
        .await?
        .ok_or(AppError::NotFound)?;
    let base = &state.config.base_url;
    let page = format!("{base}{}", article.public_path().unwrap_or_default());
    let updated = replies.iter().map(|r| r.created_at).max().unwrap_or(article.updated_at);
    let entries = replies
        .into_iter()
        .map(|r| Entry {
            title: xml(&format!("Reply by {}", r.author_name)),
            id: format!("{page}#comment-{}", r.id),
            url: format!("{page}#comment-{}", r.id),
            published: utc(r.created_at),
            updated: utc(r.created_at),
            authors: vec![xml(&r.author_name)],
            category: None,
            summary: String::new(),
            // Escaped by `reply_html`: the reader's text is never markup.
            content_html: xml(&text::reply_html(&r.body)),
            image: None,
        })
        .collect();
    let feed = Feed {
        title: xml(&format!("Replies to “{}”", article.headline)),
        subtitle: String::new(),
        id: format!("{page}feed.atom"),
        self_url: format!("{page}feed.atom"),
        page_url: page,
        updated: utc(updated),
        entries,
    };
    Ok(respond(feed.render()?, "application/atom+xml; charset=utf-8"))
}

/// `/threads/{id}/feed.atom`: an embedded thread's newest replies, linking to its page on
/// the other site. (Threads are in no other feed.)
pub async fn thread_replies(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = crate::domain::ArticleId::parse(&id).ok_or(AppError::NotFound)?;
    let (thread, replies) = crate::services::threads::feed(&state.services, id, REPLY_ENTRIES)
        .await?
        .ok_or(AppError::NotFound)?;
    let self_url =
        format!("{}{}", state.config.base_url, crate::services::threads::feed_path(thread.id));
    let updated = replies.iter().map(|r| r.created_at).max().unwrap_or(thread.created_at);
    let entries = replies
        .into_iter()
        .map(|r| Entry {
            title: xml(&format!("Reply by {}", r.author_name)),
            id: format!("{}#comment-{}", thread.url, r.id),
            url: format!("{}#comment-{}", thread.url, r.id),
            published: utc(r.created_at),
            updated: utc(r.created_at),
            authors: vec![xml(&r.author_name)],
            category: None,
            summary: String::new(),
            content_html: xml(&text::reply_html(&r.body)),
            image: None,
        })
        .collect();
    let feed = Feed {
        title: xml(&format!("Replies to “{}”", thread.title)),
        subtitle: String::new(),
        id: self_url.clone(),
        self_url,
        page_url: xml(&thread.url),
        updated: utc(updated),
        entries,
    };
    Ok(respond(feed.render()?, "application/atom+xml; charset=utf-8"))
}

#[derive(Template)]
#[template(path = "sitemap.xml")]
struct Sitemap {
    urls: Vec<(String, Option<String>)>,
}

/// Sitemaps hold at most 50,000 addresses.
const SITEMAP_LIMIT: u64 = 50_000;

/// `/sitemap.xml`: the front page, the sections, the published pages and every published
/// article.
pub async fn sitemap(State(state): State<AppState>) -> Result<Response, AppError> {
    let base = &state.config.base_url;
    let (sections, pages, articles) =
        reading::sitemap(&state.services, SITEMAP_LIMIT - 1000).await?;
    let newest = articles.iter().map(|a| a.updated_at).max().map(utc);
    let mut urls = vec![(format!("{base}/"), newest)];
    for s in sections {
        urls.push((format!("{base}{}", crate::domain::paths::section_path(&s.slug)), None));
    }
    // The sections and pages share the thousand addresses the articles leave.
    let room = 999usize.saturating_sub(urls.len());
    for p in pages.into_iter().take(room) {
        urls.push((format!("{base}{}", p.public_path()), Some(utc(p.updated_at))));
    }
    for a in articles {
        let path = article_path(a.date_path.as_deref().unwrap_or_default(), &a.slug);
        urls.push((format!("{base}{path}"), Some(utc(a.updated_at))));
    }
    Ok(respond(Sitemap { urls }.render()?, "application/xml; charset=utf-8"))
}

#[derive(Template)]
#[template(path = "news-sitemap.xml")]
struct NewsSitemap<'a> {
    site: String,
    language: &'a str,
    articles: Vec<NewsEntry>,
}

struct NewsEntry {
    url: String,
    published: String,
    title: String,
}

/// `/news-sitemap.xml`: articles of the last two days, for news search engines.
pub async fn news_sitemap(State(state): State<AppState>) -> Result<Response, AppError> {
    let base = &state.config.base_url;
    let since = state.services.clock.now() - 2 * 86_400;
    let recent = reading::latest(&state.services, 1000).await?;
    let articles = recent
        .into_iter()
        .filter(|a| a.published_at.is_some_and(|at| at >= since))
        .map(|a| NewsEntry {
            url: format!(
                "{base}{}",
                article_path(a.date_path.as_deref().unwrap_or_default(), &a.slug)
            ),
            published: utc(a.published_at.unwrap_or_default()),
            title: xml(&a.headline),
        })
        .collect();
    let site = crate::services::reading::site_identity(&state.services).await?;
    let language = state.config.language.tag();
    let sitemap = NewsSitemap { site: xml(&site.site_title), language, articles };
    Ok(respond(sitemap.render()?, "application/xml; charset=utf-8"))
}

/// `/robots.txt`
pub async fn robots(State(state): State<AppState>) -> Response {
    let base = &state.config.base_url;
    let body = format!(
        "User-agent: *\nDisallow: /admin/\nDisallow: /search\n\nSitemap: {base}/sitemap.xml\nSitemap: {base}/news-sitemap.xml\n"
    );
    respond(body, "text/plain; charset=utf-8")
}

#[cfg(test)]
mod tests {
    use super::xml;

    #[test]
    fn text_keeps_only_what_xml_can_carry() {
        assert_eq!(xml("a\u{0}b\u{1b}c\u{fffe}d\te\n😀"), "abcd\te\n😀");
    }
}
