//! HTTP: the router, handlers, templates, cookies and the mapping of errors to pages.
//! Handlers read the request, call a service, and render. No SQL, and no store, here.

mod admin;
pub mod api;
mod article;
mod assets;
mod caching;
mod cookies;
pub mod defenses;
pub mod door;
mod error;
mod feeds;
pub mod form;
mod front;
mod health;
mod layout;
mod listing;
pub mod live;
pub mod media;
mod meta;
pub mod metrics;
mod own_replies;
pub mod page_cache;
pub mod page_disk;
mod pages;
pub(crate) mod reader_data;
mod redirects;
mod response;
mod search;
mod story;
mod subscriptions;
mod summary;
pub mod thread;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
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
    pub metrics: metrics::Metrics,
    /// The public pages' Content-Security-Policy, made once from the settings.
    pub policy: HeaderValue,
    /// This node's live event streams.
    pub live: Arc<live::LiveHub>,
    /// Each account's recent writes through the API.
    pub api_writes: api::WriteLimiter,
}

impl AppState {
    /// The web layer over `services`: its page cache forgets what their committed changes
    /// (and the other nodes' announcements) touch.
    pub fn new(services: Arc<Services>) -> Self {
        Self::with_pages(services, page_cache::PageCache::default())
    }

    /// The same, with the page cache the settings ask for (see [`crate::app`]).
    pub fn with_pages(services: Arc<Services>, pages: page_cache::PageCache) -> Self {
        let pages = Arc::new(pages);
        let listener: Arc<dyn crate::services::ChangeListener> = pages.clone();
        services.changes.listen(Arc::downgrade(&listener));
        let config = services.config.clone();
        let metrics = metrics::Metrics::new(pages.clone(), services.store.clone());
        let policy = public_policy(&config);
        let live = live::LiveHub::start(services.clone());
        let api_writes = api::WriteLimiter::default();
        Self(Arc::new(Shared { services, config, pages, metrics, policy, live, api_writes }))
    }
}

/// What one route's requests may take. `None` means the site's setting
/// (`request_timeout_seconds`, `max_body_bytes`); routes that need other bounds (the editor's
/// long articles; later uploads, imports and event streams) say so in [`routes`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Limits {
    pub seconds: Option<u64>,
    pub body_bytes: Option<usize>,
    /// An import's upload: `max_import_bytes`, and an hour to send it.
    pub import: bool,
    /// A form that carries an image: `max_upload_bytes` more than the editor's form, and five
    /// minutes.
    pub upload: bool,
}

impl Limits {
    /// The site's settings.
    pub const SITE: Limits =
        Limits { seconds: None, body_bytes: None, import: false, upload: false };

    /// The newsroom's Import upload.
    pub const IMPORT: Limits =
        Limits { seconds: Some(3600), body_bytes: None, import: true, upload: false };

    /// A form with an image in it (the editor's, the media library's).
    pub const UPLOAD: Limits =
        Limits { seconds: Some(300), body_bytes: None, import: false, upload: true };

    pub const fn body(bytes: usize) -> Limits {
        Limits { seconds: None, body_bytes: Some(bytes), import: false, upload: false }
    }

    pub const fn seconds(seconds: u64) -> Limits {
        Limits { seconds: Some(seconds), body_bytes: None, import: false, upload: false }
    }

    fn resolve(self, config: &Config, route: &'static str) -> Resolved {
        let site_body = if self.import {
            config.max_import_bytes
        } else if self.upload {
            config.max_upload_bytes + UPLOAD_FORM_ROOM
        } else {
            config.max_body_bytes
        };
        Resolved {
            route: RouteName(route),
            time: std::time::Duration::from_secs(
                self.seconds.unwrap_or(config.request_timeout_seconds),
            ),
            body_bytes: self.body_bytes.unwrap_or(site_body),
        }
    }
}

/// What a form with an image may carry beside the image: the editor's whole article.
pub const UPLOAD_FORM_ROOM: usize = 2 * 1024 * 1024;

#[derive(Debug, Clone, Copy)]
struct Resolved {
    route: RouteName,
    time: std::time::Duration,
    body_bytes: usize,
}

/// The route that answered a request (its path pattern), left on the response for the
/// metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RouteName(pub &'static str);

/// One address the site answers, its handlers, and its limits.
pub struct Route {
    pub path: &'static str,
    pub methods: MethodRouter<AppState>,
    pub limits: Limits,
}

/// A route with the site's limits.
fn route(path: &'static str, methods: MethodRouter<AppState>) -> Route {
    Route { path, methods, limits: Limits::SITE }
}

/// Every route the site answers, by path. The router is built from this list alone, so a
/// test can walk it and no route escapes (see `tests/api/privacy.rs`).
pub fn routes() -> Vec<Route> {
    vec![
        route("/", get(front::first_page)),
        route("/page/{page}/", get(front::page)),
        route("/page/{page}", get(front::page_without_slash)),
        route("/{year}/{month}/{day}/{slug}/", get(article::show).post(article::reply)),
        route("/{year}/{month}/{day}/{slug}", get(article::without_slash)),
        route("/search", get(search::search)),
        route("/feed.atom", get(feeds::site)),
        route("/section/{key}/feed.atom", get(feeds::section)),
        route("/tag/{key}/feed.atom", get(feeds::tag)),
        route("/author/{key}/feed.atom", get(feeds::author)),
        route("/{year}/{month}/{day}/{slug}/feed.atom", get(feeds::replies)),
        route("/threads/{id}/feed.atom", get(feeds::thread_replies)),
        route("/sitemap.xml", get(feeds::sitemap)),
        route("/news-sitemap.xml", get(feeds::news_sitemap)),
        route("/robots.txt", get(feeds::robots)),
        route("/section/{key}/", get(listing::section)),
        route("/section/{key}/page/{page}/", get(listing::section_page)),
        route("/tag/{key}/", get(listing::tag)),
        route("/tag/{key}/page/{page}/", get(listing::tag_page)),
        route("/author/{key}/", get(listing::author)),
        route("/author/{key}/page/{page}/", get(listing::author_page)),
        route("/{year}/", get(listing::year)),
        route("/{year}/page/{page}/", get(listing::year_page)),
        route("/{year}/{month}/", get(listing::month)),
        route("/{year}/{month}/page/{page}/", get(listing::month_page)),
        route("/{year}/{month}/{day}/", get(listing::day)),
        route("/{year}/{month}/{day}/page/{page}/", get(listing::day_page)),
        route("/healthz", get(health::healthz)),
        route("/metrics", get(metrics::show)),
        route("/static/style.css", get(assets::stylesheet)),
        route("/static/favicon.svg", get(assets::favicon)),
        route("/static/editor.js", get(assets::editor_script)),
        route("/static/reply.js", get(assets::reply_script)),
        route("/static/queue.js", get(assets::queue_script)),
        route("/embed.js", get(assets::embed_script)),
        route("/static/{file}", get(assets::site_stylesheet)),
        route("/media/{id}", get(media::library)),
        route("/media/{hash}/{file}", get(media::file)),
        route(
            "/mail/confirm/{token}",
            get(subscriptions::confirm_page).post(subscriptions::confirm),
        ),
        route(
            "/unsubscribe/{token}",
            get(subscriptions::unsubscribe_page).post(subscriptions::unsubscribe),
        ),
        route("/subscriptions/{token}", get(subscriptions::manage)),
        route("/replies/{id}", get(own_replies::permalink)),
        route("/replies/{id}/edit", get(own_replies::edit_page).post(own_replies::edit)),
        route("/replies/{id}/delete", get(own_replies::delete_page).post(own_replies::delete)),
        route("/my-replies", get(reader_data::ask_page).post(reader_data::ask)),
        route("/my-replies/{token}", get(reader_data::show).post(reader_data::erase)),
        route("/my-replies/{token}/replies.json", get(reader_data::json)),
        route(
            "/moderate/{token}",
            get(subscriptions::moderation_page).post(subscriptions::moderate),
        ),
    ]
    .into_iter()
    .chain(admin::routes())
    .chain(api::routes())
    .chain(live::routes())
    .collect()
}

/// The whole site, ready to serve: the [`door::Door`], then the site's layers and router.
pub fn build_app(state: AppState) -> door::Door {
    let mut router = Router::new();
    for Route { path, methods, limits } in routes() {
        let limits = limits.resolve(&state.config, path);
        router = router.route(path, methods.layer(middleware::from_fn_with_state(limits, limit)));
    }
    let routed = router.fallback(not_found).with_state(state.clone());
    // The site's own layers wrap the router once, as one service, rather than each route
    // (`Router::layer`): every layer clones what it wraps for each request, and a route's
    // stack is boxed, so per-route layers cost a boxed clone per layer per request (the
    // profile showed them as a quarter of Byline's own time on a page from memory).
    // Outermost first.
    use tower::Layer;
    let site = middleware::from_fn(catch_panic).layer(routed);
    let site = middleware::from_fn_with_state(state.clone(), redirects::old_addresses).layer(site);
    let site = middleware::from_fn_with_state(state.clone(), caching::conditional).layer(site);
    let site = middleware::from_fn_with_state(state.clone(), error::render_error_pages).layer(site);
    let site = middleware::from_fn_with_state(state.clone(), security_headers).layer(site);
    let site = middleware::from_fn_with_state(state.clone(), page_cache::serve).layer(site);
    // Outside the page cache: a kept answer never carries the first asker's origin.
    let site = middleware::from_fn_with_state(state.clone(), api::cors).layer(site);
    // Counting, logging, and what is answered from memory, before all of the above.
    door::Door::new(state, Router::new().fallback_service(site))
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

/// A route's limits: a body larger than its limit is a `413` (at once when its length is
/// declared, else as soon as it is read past it), and past its time, `503` with
/// `Retry-After`: no request hangs.
async fn limit(
    axum::extract::State(limits): axum::extract::State<Resolved>,
    request: Request,
    next: Next,
) -> Response {
    use axum::response::IntoResponse;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.body_bytes as u64) {
        let mut response = AppError::TooLarge.into_response();
        response.extensions_mut().insert(limits.route);
        return response;
    }
    let request = request
        .map(|body| axum::body::Body::new(http_body_util::Limited::new(body, limits.body_bytes)));
    let mut response = match tokio::time::timeout(limits.time, next.run(request)).await {
        Ok(response) => response,
        Err(_) => AppError::TimedOut.into_response(),
    };
    response.extensions_mut().insert(limits.route);
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
    secure(&state, response.headers_mut());
    response
}

/// The headers [`security_headers`] adds, for answers made before that layer.
pub(crate) fn secure(state: &AppState, headers: &mut HeaderMap) {
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
    ];
    for (name, value) in fixed {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    }
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert_with(|| state.policy.clone());
}

/// With `img_src = "self"` readers' browsers fetch images from this site alone (and from the
/// bucket's public address, where `/media/` files are sent when `media_public_url` is set).
fn public_policy(config: &Config) -> HeaderValue {
    let images = image_sources(config, !config.images_from_self_only);
    let policy = format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src {images}; \
         connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    );
    HeaderValue::from_str(&policy).expect("the settings were checked")
}

/// `img-src`: this site, the bucket's public address (which may be plain `http://`), and with
/// `any` every `https:` image.
pub fn image_sources(config: &Config, any: bool) -> String {
    let mut sources = String::from("'self'");
    if let Some(public) = &config.media_public_url {
        sources.push(' ');
        sources.push_str(&crate::config::origin_of(public));
    }
    if any {
        sources.push_str(" https: data:");
    }
    sources
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
