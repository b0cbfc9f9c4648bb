//! The stylesheet, icon and scripts, compiled into the binary: one file to deploy.

use axum::http::header;
use axum::response::IntoResponse;

const STYLE: &str = include_str!("../../static/style.css");
const FAVICON: &str = include_str!("../../static/favicon.svg");
const EDITOR: &str = include_str!("../../static/editor.js");
const REPLY: &str = include_str!("../../static/reply.js");
const QUEUE: &str = include_str!("../../static/queue.js");
const EMBED: &str = include_str!("../../static/embed.js");
const CACHE: &str = "public, max-age=86400";

pub async fn stylesheet() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, CACHE)], STYLE)
}

pub async fn favicon() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "image/svg+xml"), (header::CACHE_CONTROL, CACHE)], FAVICON)
}

pub async fn editor_script() -> impl IntoResponse {
    script(EDITOR)
}

/// The public pages' one script: the reply form under the reply it answers.
pub async fn reply_script() -> impl IntoResponse {
    script(REPLY)
}

/// The moderation queue's "Select all".
pub async fn queue_script() -> impl IntoResponse {
    script(QUEUE)
}

/// `/embed.js`: replies on other sites' pages. Loaded by those pages from here, so its address
/// never changes; an hour in caches lets a new version reach them soon.
pub async fn embed_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        EMBED,
    )
}

fn script(source: &'static str) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, CACHE)],
        source,
    )
}

/// `/static/site-HASH.css`: the site's own stylesheet (its accent colour and custom CSS). The
/// address changes with the text, so the current one is kept a year; an older address (a page
/// kept from before a change) gets the current text, kept a minute.
pub async fn site_stylesheet(
    axum::extract::State(state): axum::extract::State<super::AppState>,
    axum::extract::Path(file): axum::extract::Path<String>,
) -> Result<axum::response::Response, super::AppError> {
    if !(file.starts_with("site-") && file.ends_with(".css")) {
        return Err(super::AppError::NotFound);
    }
    let identity = crate::services::reading::site_identity(&state.services).await?;
    let current = identity.css_path().is_some_and(|p| p.ends_with(&format!("/{file}")));
    let cache = if current { "public, max-age=31536000, immutable" } else { "public, max-age=60" };
    Ok((
        [(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, cache)],
        identity.css_text(),
    )
        .into_response())
}
