//! The stylesheet, icon and scripts, compiled into the binary: one file to deploy.

use axum::http::header;
use axum::response::IntoResponse;

const STYLE: &str = include_str!("../../static/style.css");
const FAVICON: &str = include_str!("../../static/favicon.svg");
const EDITOR: &str = include_str!("../../static/editor.js");
const REPLY: &str = include_str!("../../static/reply.js");
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

fn script(source: &'static str) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8"), (header::CACHE_CONTROL, CACHE)],
        source,
    )
}
