//! The site's static pages (`/about/`, `/about/team/`), answered where no route is: the router's
//! patterns (`/{year}/…`) would otherwise claim them, and a page's address is whatever its
//! editors chose, checked against the routes' own first segments when saved.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;

use super::AppState;
use super::error::AppError;
use super::layout::Layout;
use super::response::{Caching, html, moved_permanently};
use crate::services::pages;

#[derive(Template)]
#[template(path = "page.html")]
struct PageTemplate<'a> {
    layout: Layout<'a>,
    title: String,
    body_html: String,
}

/// The published page at `path` (decoded, as `/about/team/`), or `None`. Without its final
/// slash, a `301` to the address with it.
pub async fn answer(state: &AppState, path: &str) -> Result<Option<Response>, AppError> {
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() || trimmed.contains("//") || trimmed.len() > 1_000 {
        return Ok(None);
    }
    let Some((page, nav)) = pages::published(&state.services, trimmed).await? else {
        return Ok(None);
    };
    let here = page.public_path();
    if !path.ends_with('/') {
        return Ok(Some(moved_permanently(&here)));
    }
    let mut layout =
        Layout::public(&state.config, &page.title, nav).canonical(&state.config, &here);
    let text = crate::domain::text::readable_text(&page.body_html);
    let description: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if !description.is_empty() {
        layout.head.description = Some(description.chars().take(200).collect());
    }
    let template = PageTemplate { layout, title: page.title, body_html: page.body_html };
    Ok(Some(html(StatusCode::OK, template.render()?, Caching::Public)))
}
