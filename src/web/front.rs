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
use super::summary::{Summary, lead_summary, summary};
use crate::services::reading;

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
    let front = reading::front_page(&state.services, page).await?.ok_or(AppError::NotFound)?;
    let tz = &state.config.timezone;
    let title = if page == 1 { String::new() } else { format!("Page {page}") };
    let layout =
        Layout::public(&state.config, &title, front.nav).canonical(&state.config, &page_path(page));
    let template = FrontPage {
        layout,
        lead: front.lead.as_ref().map(|a| lead_summary(a, tz)),
        articles: front.articles.into_iter().map(|a| summary(a, tz)).collect(),
        page,
        newer: (page > 1).then(|| page_path(page - 1)),
        older: (page < front.pages).then(|| page_path(page + 1)),
    };
    Ok(html(StatusCode::OK, template.render()?, Caching::Public))
}
