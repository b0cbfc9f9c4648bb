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
use crate::domain::time;
use crate::publishing::article_path;
use crate::store::ArticleSummary;

#[derive(Template)]
#[template(path = "front.html")]
struct FrontPage<'a> {
    layout: Layout<'a>,
    articles: Vec<Summary>,
    page: u64,
    newer: Option<String>,
    older: Option<String>,
}

struct Summary {
    url: String,
    headline: String,
    standfirst: String,
    author: String,
    iso: String,
    date: String,
    replies: String,
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
    let per_page = state.config.articles_per_page;
    let total = state.store.count_published_articles().await?;
    let pages = total.div_ceil(per_page).max(1);
    if page > pages {
        return Err(AppError::NotFound);
    }
    let found = state.store.published_articles((page - 1) * per_page, per_page).await?;
    let tz = &state.config.timezone;
    let title = if page == 1 { String::new() } else { format!("Page {page}") };
    let template = FrontPage {
        layout: Layout::new(&state.config, &title),
        articles: found.into_iter().map(|a| summary(a, tz)).collect(),
        page,
        newer: (page > 1).then(|| page_path(page - 1)),
        older: (page < pages).then(|| page_path(page + 1)),
    };
    Ok(html(StatusCode::OK, template.render()?, Caching::Public))
}

fn summary(a: ArticleSummary, tz: &jiff::tz::TimeZone) -> Summary {
    Summary {
        url: article_path(&a.date_path, &a.slug),
        headline: a.headline,
        standfirst: a.standfirst,
        author: a.author_name,
        iso: time::iso(a.published_at, tz),
        date: time::long_date(a.published_at, tz),
        replies: reply_count_label(a.reply_count),
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
