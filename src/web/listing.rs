//! Section, tag, author and date-archive pages: their published articles, newest first,
//! paginated.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::AppState;
use super::error::AppError;
use super::layout::Layout;
use super::response::{Caching, html, moved_permanently};
use super::summary::{Summary, summary};
use crate::domain::paths::encode_segment;
use crate::services::reading::{self, ArchiveDate, ListingKind};

#[derive(Template)]
#[template(path = "listing.html")]
struct ListingPage<'a> {
    layout: Layout<'a>,
    kind: &'static str,
    heading: String,
    intro: String,
    /// An author's photo.
    photo: Option<String>,
    articles: Vec<Summary>,
    newer: Option<String>,
    older: Option<String>,
    /// Date archives have none: the site's feed is theirs.
    feed: Option<String>,
}

const PER_PAGE: u64 = 20;

type Key = Path<String>;
type KeyPage = Path<(String, String)>;

pub async fn section(State(state): State<AppState>, Path(key): Key) -> Result<Response, AppError> {
    render(&state, ListingKind::Section, &key, None).await
}

pub async fn section_page(
    State(state): State<AppState>,
    Path((key, page)): KeyPage,
) -> Result<Response, AppError> {
    render(&state, ListingKind::Section, &key, Some(&page)).await
}

pub async fn tag(State(state): State<AppState>, Path(key): Key) -> Result<Response, AppError> {
    render(&state, ListingKind::Tag, &key, None).await
}

pub async fn tag_page(
    State(state): State<AppState>,
    Path((key, page)): KeyPage,
) -> Result<Response, AppError> {
    render(&state, ListingKind::Tag, &key, Some(&page)).await
}

pub async fn author(State(state): State<AppState>, Path(key): Key) -> Result<Response, AppError> {
    render(&state, ListingKind::Author, &key, None).await
}

pub async fn author_page(
    State(state): State<AppState>,
    Path((key, page)): KeyPage,
) -> Result<Response, AppError> {
    render(&state, ListingKind::Author, &key, Some(&page)).await
}

/// `section`, `tag`, `author`: the first part of a listing's address.
fn prefix(kind: ListingKind) -> (&'static str, &'static str) {
    match kind {
        ListingKind::Section => ("section", "Section"),
        ListingKind::Tag => ("tag", "Tag"),
        ListingKind::Author => ("author", "Author"),
    }
}

async fn render(
    state: &AppState,
    kind: ListingKind,
    key: &str,
    page: Option<&str>,
) -> Result<Response, AppError> {
    let first = page.is_none();
    let page = page_number(page)?;
    let found = reading::listing(&state.services, kind, key, page, PER_PAGE)
        .await?
        .ok_or(AppError::NotFound)?;
    let (segment, label) = prefix(kind);
    let key = encode_segment(key);
    let asked =
        if first { format!("/{segment}/{key}/") } else { format!("/{segment}/{key}/page/{page}/") };
    show(state, found, label, &asked, page, true)
}

fn page_number(page: Option<&str>) -> Result<u64, AppError> {
    match page {
        None => Ok(1),
        // A page past any listing's end is a 404 before its offset could overflow.
        Some(raw) => raw
            .parse::<u64>()
            .ok()
            .filter(|p| (1..=1_000_000).contains(p))
            .ok_or(AppError::NotFound),
    }
}

/// A listing's page; `asked` is the address it was asked by, which answers with the
/// canonical one when they differ.
fn show(
    state: &AppState,
    found: reading::ListingPage,
    label: &'static str,
    asked: &str,
    page: u64,
    with_feed: bool,
) -> Result<Response, AppError> {
    let base = found.listed.base.clone();
    let here = if page == 1 { base.clone() } else { format!("{base}page/{page}/") };
    // `/author/12-old-name/` and `/section/x/page/1/` answer with their canonical address.
    if asked != here {
        return Ok(moved_permanently(&here));
    }
    let pages = found.total.div_ceil(PER_PAGE).max(1);
    if page > pages {
        return Err(AppError::NotFound);
    }
    let link = |n: u64| if n == 1 { base.clone() } else { format!("{base}page/{n}/") };
    let tz = &state.config.timezone;
    let heading = found.listed.heading;
    let title = if page == 1 { heading.clone() } else { format!("{heading}, page {page}") };
    let mut layout =
        Layout::public(&state.config, &title, found.nav).canonical(&state.config, &here);
    let feed_path = with_feed.then(|| format!("{base}feed.atom"));
    if let Some(path) = &feed_path {
        let feed = format!("{}{path}", state.config.base_url);
        layout.head.feeds.push((format!("{}: {heading}", layout.site_title), feed));
    }
    let template = ListingPage {
        layout,
        kind: label,
        intro: found.listed.intro,
        photo: found.listed.photo,
        articles: found.articles.into_iter().map(|a| summary(a, tz)).collect(),
        newer: (page > 1).then(|| link(page - 1)),
        older: (page < pages).then(|| link(page + 1)),
        feed: feed_path,
        heading,
    };
    Ok(html(StatusCode::OK, template.render()?, Caching::Public))
}

type Year = Path<String>;
type YearPage = Path<(String, String)>;
type Month = Path<(String, String)>;
type MonthPage = Path<(String, String, String)>;
type Day = Path<(String, String, String)>;
type DayPage = Path<(String, String, String, String)>;

/// `/2026/`: what was published that year.
pub async fn year(State(state): State<AppState>, Path(y): Year) -> Result<Response, AppError> {
    archive(&state, &y, None, None, None).await
}

pub async fn year_page(
    State(state): State<AppState>,
    Path((y, page)): YearPage,
) -> Result<Response, AppError> {
    archive(&state, &y, None, None, Some(&page)).await
}

/// `/2026/11/`
pub async fn month(
    State(state): State<AppState>,
    Path((y, m)): Month,
) -> Result<Response, AppError> {
    archive(&state, &y, Some(&m), None, None).await
}

pub async fn month_page(
    State(state): State<AppState>,
    Path((y, m, page)): MonthPage,
) -> Result<Response, AppError> {
    archive(&state, &y, Some(&m), None, Some(&page)).await
}

/// `/2026/11/24/`
pub async fn day(
    State(state): State<AppState>,
    Path((y, m, d)): Day,
) -> Result<Response, AppError> {
    archive(&state, &y, Some(&m), Some(&d), None).await
}

pub async fn day_page(
    State(state): State<AppState>,
    Path((y, m, d, page)): DayPage,
) -> Result<Response, AppError> {
    archive(&state, &y, Some(&m), Some(&d), Some(&page)).await
}

/// A date archive: newest first, paged like sections, `404` for a date with nothing.
async fn archive(
    state: &AppState,
    year: &str,
    month: Option<&str>,
    day: Option<&str>,
    page: Option<&str>,
) -> Result<Response, AppError> {
    let date = ArchiveDate::parse(year, month, day).ok_or(AppError::NotFound)?;
    let first = page.is_none();
    let page = page_number(page)?;
    let found = reading::date_archive(&state.services, date, page, PER_PAGE)
        .await?
        .ok_or(AppError::NotFound)?;
    let asked = [Some(year), month, day].into_iter().flatten().collect::<Vec<_>>().join("/");
    let asked = if first { format!("/{asked}/") } else { format!("/{asked}/page/{page}/") };
    show(state, found, "Archive", &asked, page, false)
}
