//! HTTP: the router, handlers, templates, cookies and the mapping of errors to pages.
//! Handlers read the request, call a service, and render. No SQL, and no store, here.

mod admin;
mod article;
mod assets;
mod caching;
mod cookies;
pub mod defenses;
mod error;
mod feeds;
mod form;
mod front;
mod health;
mod layout;
mod listing;
mod meta;
pub mod page_cache;
mod response;
mod search;
mod story;
mod summary;
pub mod thread;

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{MethodRouter, get};

use crate::config::Config;
use crate::services::Services;

pub use error::AppError;

/// What every handler can reach. One `Arc`, because every middleware clones it for every
/// request: one shared counter to bump instead of four (the profile showed them).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub services: Arc<Services>,
    pub config: Arc<Config>,
    /// This node's rendered public pages.
    pub pages: Arc<page_cache::PageCache>,
}

impl AppState {
    /// The web layer over `services`: its page cache forgets what their committed changes
    /// (and the other nodes' announcements) touch.
    pub fn new(services: Arc<Services>) -> Self {
        let pages = Arc::new(page_cache::PageCache::default());
        let listener: Arc<dyn crate::services::ChangeListener> = pages.clone();
        services.changes.listen(Arc::downgrade(&listener));
        let config = services.config.clone();
        Self(Arc::new(Shared { services, config, pages }))
    }
}

/// Every route the site answers, by path. The router is built from this list alone, so a
/// test can walk it and no route escapes (see `tests/api/privacy.rs`).
pub fn routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        ("/", get(front::first_page)),
        ("/page/{page}/", get(front::page)),
        ("/page/{page}", get(front::page_without_slash)),
        ("/{year}/{month}/{day}/{slug}/", get(article::show).post(article::reply)),
        ("/{year}/{month}/{day}/{slug}", get(article::without_slash)),
        ("/search", get(search::search)),
        ("/feed.atom", get(feeds::site)),
        ("/section/{key}/feed.atom", get(feeds::section)),
        ("/tag/{key}/feed.atom", get(feeds::tag)),
        ("/author/{key}/feed.atom", get(feeds::author)),
        ("/{year}/{month}/{day}/{slug}/feed.atom", get(feeds::replies)),
        ("/sitemap.xml", get(feeds::sitemap)),
        ("/news-sitemap.xml", get(feeds::news_sitemap)),
        ("/robots.txt", get(feeds::robots)),
        ("/section/{key}/", get(listing::section)),
        ("/section/{key}/page/{page}/", get(listing::section_page)),
        ("/tag/{key}/", get(listing::tag)),
        ("/tag/{key}/page/{page}/", get(listing::tag_page)),
        ("/author/{key}/", get(listing::author)),
        ("/author/{key}/page/{page}/", get(listing::author_page)),
        ("/healthz", get(health::healthz)),
        ("/static/style.css", get(assets::stylesheet)),
        ("/static/favicon.svg", get(assets::favicon)),
        ("/static/editor.js", get(assets::editor_script)),
    ]
    .into_iter()
    .chain(admin::routes())
    .collect()
}

/// The whole site as a router, ready to serve.
pub fn build_app(state: AppState) -> Router {
    let mut router = Router::new();
    for (path, method_router) in routes() {
        router = router.route(path, method_router);
    }
    router
        .fallback(not_found)
        .layer(middleware::from_fn(catch_panic))
        .layer(middleware::from_fn_with_state(state.clone(), caching::conditional))
        .layer(middleware::from_fn_with_state(state.clone(), time_limit))
        .layer(middleware::from_fn_with_state(state.clone(), error::render_error_pages))
        .layer(middleware::from_fn_with_state(state.clone(), security_headers))
        // Near the door, so that a page served from memory skips the layers above, which
        // made it what it is when it was kept.
        .layer(middleware::from_fn_with_state(state.clone(), page_cache::serve))
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

async fn not_found() -> AppError {
    AppError::NotFound
}

/// A panic in a handler ends that request with a `500` page (its cause logged); the
/// connection and every other request carry on.
async fn catch_panic(request: Request, next: Next) -> Response {
    use futures_util::FutureExt;
    match std::panic::AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => response,
        Err(payload) => {
            let cause = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_owned());
            axum::response::IntoResponse::into_response(AppError::Panicked(cause))
        }
    }
}

/// No request hangs: past the configured time, `503` with `Retry-After`.
async fn time_limit(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let limit = std::time::Duration::from_secs(state.config.request_timeout_seconds);
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => axum::response::IntoResponse::into_response(AppError::TimedOut),
    }
}

/// One line per request. The query string is left out: it is the reader's business.
async fn log_request(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    tracing::info!(
        %method,
        path,
        status = response.status().as_u16(),
        latency_ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}

/// Headers that make what readers typed inert even if escaping ever failed; on a site served
/// over HTTPS, the promise that it always will be.
async fn security_headers(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if state.config.is_https() {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    let fixed = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; img-src 'self' https: data:; \
             form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    ];
    for (name, value) in fixed {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use tower::ServiceExt;

    use super::*;

    async fn broken() -> &'static str {
        panic!("the handler broke")
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_500_and_the_next_request_is_served() {
        let app = Router::new()
            .route("/broken", get(broken))
            .route("/fine", get(|| async { "fine" }))
            .layer(middleware::from_fn(catch_panic));
        let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
        let answer = app.clone().oneshot(get("/broken")).await.unwrap();
        assert_eq!(answer.status(), 500);
        assert_eq!(app.oneshot(get("/fine")).await.unwrap().status(), 200);
    }
}
