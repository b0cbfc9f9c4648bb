//! The front page: the latest articles, newest first, paginated at `/page/N/`.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::AppState;
use super::error::AppError;
use super::form::query_value;
use super::layout::Layout;
use super::response::{Caching, html, moved_permanently};
use super::story::byline;
use crate::domain::{ArticleStatus, text, time};
use crate::publishing::{self, article_path};
use crate::store::{Article, ArticleSummary, Image};

#[derive(Template)]
#[template(path = "front.html")]
struct FrontPage<'a> {
    layout: Layout<'a>,
    lead: Option<Summary>,
    articles: Vec<Summary>,
    page: u64,
    newer: Option<String>,
    older: Option<String>,
}

/// An article as a listing shows it.
pub struct Summary {
    pub url: String,
    pub headline: String,
    pub standfirst: String,
    pub author: String,
    pub iso: String,
    pub date: String,
    pub replies: String,
    pub image: Option<Image>,
    pub section: Option<String>,
    pub minutes: i64,
}

/// `/`, and `/?page=N` as a permanent redirect to its canonical `/page/N/`.
pub async fn first_page(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    match query_value(query.as_deref(), "page") {
        Some(page) => Ok(moved_permanently(&page_path(parse_page(&page)?))),
        None => render(&state, 1).await,
    }
}

/// `/page/N/`; `/page/1/` is `/`.
pub async fn page(
    State(state): State<AppState>,
    Path(page): Path<String>,
) -> Result<Response, AppError> {
    let page = parse_page(&page)?;
    if page == 1 {
        return Ok(moved_permanently("/"));
    }
    render(&state, page).await
}

pub async fn page_without_slash(Path(page): Path<String>) -> Result<Response, AppError> {
    Ok(moved_permanently(&page_path(parse_page(&page)?)))
}

fn parse_page(raw: &str) -> Result<u64, AppError> {
    match raw.parse::<u64>() {
        Ok(n) if n >= 1 && raw.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(AppError::NotFound),
    }
}

fn page_path(page: u64) -> String {
    if page == 1 { "/".into() } else { format!("/page/{page}/") }
}

async fn render(state: &AppState, page: u64) -> Result<Response, AppError> {
    let store = &*state.store;
    let per_page = state.config.articles_per_page;
    let tz = &state.config.timezone;
    // The lead story heads the first page, and is left out of the list below it.
    let lead = match publishing::lead_id(store).await? {
        Some(id) => store.article(id).await?.filter(|a| a.status == ArticleStatus::Published),
        None => None,
    };
    let except = lead.as_ref().map(|a| a.id);
    let total = store.count_published_articles(except).await?;
    let pages = total.div_ceil(per_page).max(1);
    if page > pages {
        return Err(AppError::NotFound);
    }
    let found = store.published_articles((page - 1) * per_page, per_page, except).await?;
    let title = if page == 1 { String::new() } else { format!("Page {page}") };
    let template = FrontPage {
        layout: Layout::public(state, &title).await?.canonical(&state.config, &page_path(page)),
        lead: lead.filter(|_| page == 1).map(|a| lead_summary(&a, tz)),
        articles: found.into_iter().map(|a| summary(a, tz)).collect(),
        page,
        newer: (page > 1).then(|| page_path(page - 1)),
        older: (page < pages).then(|| page_path(page + 1)),
    };
    Ok(html(StatusCode::OK, template.render()?, Caching::Public))
}

pub fn summary(a: ArticleSummary, tz: &jiff::tz::TimeZone) -> Summary {
    let published = a.published_at.unwrap_or(a.updated_at);
    Summary {
        url: article_path(a.date_path.as_deref().unwrap_or_default(), &a.slug),
        headline: a.headline,
        standfirst: a.standfirst,
        author: byline(a.author_names.iter().map(String::as_str)),
        iso: time::iso(published, tz),
        date: time::long_date(published, tz),
        replies: reply_count_label(a.reply_count),
        image: a.image,
        section: a.section_name,
        minutes: text::reading_minutes(a.word_count).max(1),
    }
}

fn lead_summary(a: &Article, tz: &jiff::tz::TimeZone) -> Summary {
    let published = a.published_at.unwrap_or(a.updated_at);
    Summary {
        url: publishing::public_path(a),
        headline: a.headline.clone(),
        standfirst: a.standfirst.clone(),
        author: byline(a.authors.iter().map(|au| au.name.as_str())),
        iso: time::iso(published, tz),
        date: time::long_date(published, tz),
        replies: reply_count_label(a.reply_count),
        image: a.image.clone(),
        section: a.section.as_ref().map(|s| s.name.clone()),
        minutes: text::reading_minutes(a.word_count).max(1),
    }
}

/// "No replies", "1 reply", "12 replies".
pub fn reply_count_label(count: i64) -> String {
    match count {
        0 => "No replies".into(),
        1 => "1 reply".into(),
        n => format!("{n} replies"),
    }
}
