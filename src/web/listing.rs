//! Section, tag and author pages: their published articles, newest first, paginated.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::AppState;
use super::error::AppError;
use super::front::{Summary, summary};
use super::layout::Layout;
use super::response::{Caching, html, moved_permanently};
use crate::domain::Slug;
use crate::publishing::encode_segment;
use crate::store::Listing;

#[derive(Template)]
#[template(path = "listing.html")]
struct ListingPage<'a> {
    layout: Layout<'a>,
    kind: &'static str,
    heading: String,
    intro: String,
    articles: Vec<Summary>,
    newer: Option<String>,
    older: Option<String>,
    feed: String,
}

/// What a listing's address names.
struct Found {
    listing: Listing,
    kind: &'static str,
    heading: String,
    intro: String,
    /// `/section/politics/`: the first page's address.
    base: String,
    feed: String,
}

async fn find(state: &AppState, kind: &str, key: &str) -> Result<Found, AppError> {
    let store = &*state.store;
    Ok(match kind {
        "section" => {
            let s = store.section_by_slug(key).await?.ok_or(AppError::NotFound)?;
            Found {
                listing: Listing::Section(s.id),
                kind: "Section",
                base: format!("/section/{}/", encode_segment(&s.slug)),
                feed: format!("/section/{}/feed.atom", encode_segment(&s.slug)),
                heading: s.name,
                intro: String::new(),
            }
        }
        "tag" => {
            let t = store.tag_by_slug(key).await?.ok_or(AppError::NotFound)?;
            Found {
                listing: Listing::Tag(t.id),
                kind: "Tag",
                base: format!("/tag/{}/", encode_segment(&t.slug)),
                feed: format!("/tag/{}/feed.atom", encode_segment(&t.slug)),
                heading: t.name,
                intro: String::new(),
            }
        }
        _ => {
            let id = author_id(key).ok_or(AppError::NotFound)?;
            let a = store.author(id).await?.ok_or(AppError::NotFound)?;
            Found {
                listing: Listing::Author(a.id),
                kind: "Author",
                base: author_path(a.id, &a.name),
                feed: format!("{}feed.atom", author_path(a.id, &a.name)),
                heading: a.name,
                intro: a.bio,
            }
        }
    })
}

/// `/author/12-eleanor-marsh/`
pub fn author_path(id: i64, name: &str) -> String {
    format!("/author/{id}-{}/", encode_segment(Slug::from_headline(name).as_str()))
}

/// The id at the start of `12-eleanor-marsh`.
pub fn author_id(key: &str) -> Option<i64> {
    key.split('-').next()?.parse().ok()
}

const PER_PAGE: u64 = 20;

type Key = Path<String>;
type KeyPage = Path<(String, String)>;

pub async fn section(State(state): State<AppState>, Path(key): Key) -> Result<Response, AppError> {
    render(&state, "section", &key, None).await
}

pub async fn section_page(
    State(state): State<AppState>,
    Path((key, page)): KeyPage,
) -> Result<Response, AppError> {
    render(&state, "section", &key, Some(&page)).await
}

pub async fn tag(State(state): State<AppState>, Path(key): Key) -> Result<Response, AppError> {
    render(&state, "tag", &key, None).await
}

pub async fn tag_page(
    State(state): State<AppState>,
    Path((key, page)): KeyPage,
) -> Result<Response, AppError> {
    render(&state, "tag", &key, Some(&page)).await
}

pub async fn author(State(state): State<AppState>, Path(key): Key) -> Result<Response, AppError> {
    render(&state, "author", &key, None).await
}

pub async fn author_page(
    State(state): State<AppState>,
    Path((key, page)): KeyPage,
) -> Result<Response, AppError> {
    render(&state, "author", &key, Some(&page)).await
}

async fn render(
    state: &AppState,
    kind: &str,
    key: &str,
    page: Option<&str>,
) -> Result<Response, AppError> {
    let first = page.is_none();
    let page = match page {
        None => 1,
        Some(raw) => raw.parse::<u64>().ok().filter(|p| *p >= 1).ok_or(AppError::NotFound)?,
    };
    let found = find(state, kind, key).await?;
    let here = if page == 1 { found.base.clone() } else { format!("{}page/{page}/", found.base) };
    let key = encode_segment(key);
    let asked =
        if first { format!("/{kind}/{key}/") } else { format!("/{kind}/{key}/page/{page}/") };
    // `/author/12-old-name/` and `/section/x/page/1/` answer with their canonical address.
    if asked != here {
        return Ok(moved_permanently(&here));
    }
    let (articles, total) =
        state.store.published_in(found.listing, (page - 1) * PER_PAGE, PER_PAGE).await?;
    let pages = total.div_ceil(PER_PAGE).max(1);
    if page > pages {
        return Err(AppError::NotFound);
    }
    let link =
        |n: u64| if n == 1 { found.base.clone() } else { format!("{}page/{n}/", found.base) };
    let tz = &state.config.timezone;
    let title =
        if page == 1 { found.heading.clone() } else { format!("{}, page {page}", found.heading) };
    let mut layout = Layout::public(state, &title).await?.canonical(&state.config, &here);
    let feed = format!("{}{}", state.config.base_url, found.feed);
    layout
        .head
        .feeds
        .push((format!("{}: {}", state.config.site_title, found.heading), feed.clone()));
    let template = ListingPage {
        layout,
        kind: found.kind,
        intro: found.intro,
        articles: articles.into_iter().map(|a| summary(a, tz)).collect(),
        newer: (page > 1).then(|| link(page - 1)),
        older: (page < pages).then(|| link(page + 1)),
        feed: found.feed,
        heading: found.heading,
    };
    Ok(html(StatusCode::OK, template.render()?, Caching::Public))
}
