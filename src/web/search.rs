//! `/search?q=…`: published articles, best first, with the matches highlighted.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::AppState;
use super::error::AppError;
use super::form::query_value;
use super::layout::Layout;
use super::response::{Caching, html};
use super::summary::{Summary, summary};
use crate::domain::search::{MARK_END, MARK_START};
use crate::domain::text::escape;
use crate::services::reading;

const PER_PAGE: u64 = 10;

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage<'a> {
    layout: Layout<'a>,
    query: String,
    searched: bool,
    total: u64,
    hits: Vec<Hit>,
    newer: Option<String>,
    older: Option<String>,
}

struct Hit {
    article: Summary,
    /// Escaped text with `<mark>` around the matches: see [`highlight`].
    headline_html: String,
    snippet_html: String,
}

/// Escapes a snippet, then turns the store's match markers into `<mark>` elements.
fn highlight(snippet: &str) -> String {
    let mut escaped = String::with_capacity(snippet.len() + 32);
    escape(snippet, &mut escaped);
    escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")
}

pub async fn search(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    let query = query_value(raw.as_deref(), "q").unwrap_or_default();
    let page = query_value(raw.as_deref(), "page")
        .map(|p| p.parse::<u64>().ok().filter(|p| *p >= 1).ok_or(AppError::NotFound))
        .transpose()?
        .unwrap_or(1);
    let found = reading::search(&state.services, &query, (page - 1) * PER_PAGE, PER_PAGE).await?;
    let total = found.total;
    if page > 1 && found.hits.is_empty() {
        return Err(AppError::NotFound);
    }
    let link = |n: u64| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("q", &query);
        if n > 1 {
            q.append_pair("page", &n.to_string());
        }
        format!("/search?{}", q.finish())
    };
    let tz = &state.config.timezone;
    let title = if query.trim().is_empty() {
        "Search".to_owned()
    } else {
        format!("Search: {}", query.trim())
    };
    let template = SearchPage {
        layout: Layout::public(&state.config, &title, found.nav),
        searched: !query.trim().is_empty(),
        total,
        hits: found
            .hits
            .into_iter()
            .map(|h| Hit {
                headline_html: highlight(&h.headline),
                snippet_html: highlight(&h.snippet),
                article: summary(h.article, tz),
            })
            .collect(),
        newer: (page > 1).then(|| link(page - 1)),
        older: (page * PER_PAGE < total).then(|| link(page + 1)),
        query,
    };
    Ok(html(StatusCode::OK, template.render()?, Caching::Public))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_escaped_around_their_marks() {
        let s = format!("a <b> {MARK_START}ferry{MARK_END} & c");
        assert_eq!(highlight(&s), "a &lt;b&gt; <mark>ferry</mark> &amp; c");
    }
}
