//! Rendered public pages kept in memory, so that a popular article costs about what a static
//! file costs. Only anonymous requests are served from it (a request carrying one of Byline's
//! cookies may get a personal page), only `public` pages enter it, and any change (a form
//! posted here, a change announced by another node, a scheduled publication) empties it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;

/// Pages kept at most this long, so that their form tokens stay fresh.
const TTL: Duration = Duration::from_secs(60);
const MAX_ENTRIES: usize = 2000;

#[derive(Default)]
pub struct PageCache {
    entries: Mutex<HashMap<String, Entry>>,
}

struct Entry {
    at: Instant,
    headers: HeaderMap,
    body: Bytes,
}

impl PageCache {
    fn get(&self, key: &str) -> Option<Response> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let entry = entries.get(key).filter(|e| e.at.elapsed() < TTL)?;
        let mut response = (StatusCode::OK, Body::from(entry.body.clone())).into_response();
        *response.headers_mut() = entry.headers.clone();
        Some(response)
    }

    fn put(&self, key: String, headers: HeaderMap, body: Bytes) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| e.at.elapsed() < TTL);
            if entries.len() >= MAX_ENTRIES {
                return;
            }
        }
        entries.insert(key, Entry { at: Instant::now(), headers, body });
    }

    /// Forgets every page.
    pub fn clear(&self) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    /// Forgets what a change in `scope` touches: with an article's path, that article's pages
    /// and every page that is not an article's (listings show reply counts); otherwise all.
    pub fn forget(&self, scope: &str) {
        if !is_article_path(scope) {
            return self.clear();
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|key, _| is_article_path(key) && !key.starts_with(scope));
    }

    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `/2026/11/24/slug/…`: an article's page (or its replies' feed).
fn is_article_path(path: &str) -> bool {
    let mut parts = path.trim_start_matches('/').splitn(4, '/');
    let digits = |p: Option<&str>, n: usize| {
        p.is_some_and(|p| p.len() == n && p.bytes().all(|b| b.is_ascii_digit()))
    };
    digits(parts.next(), 4)
        && digits(parts.next(), 2)
        && digits(parts.next(), 2)
        && parts.next().is_some_and(|s| !s.is_empty())
}

/// Whether the request carries one of Byline's cookies (and so may get a personal page).
fn personal(request: &Request) -> bool {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .any(|v| v.as_bytes().windows(7).any(|w| w == b"byline_"))
}

pub async fn serve(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    if method != Method::GET && method != Method::HEAD {
        // A reply posted to an article changes that article and the listings; any other
        // accepted form may change any page. Here and on every node.
        let path = request.uri().path().to_owned();
        let response = next.run(request).await;
        if response.status().is_success() || response.status().is_redirection() {
            let scope = if is_article_path(&path) { path.as_str() } else { "" };
            changed_in(&state, scope).await;
        }
        return response;
    }
    if personal(&request) || !state.config.page_cache {
        return next.run(request).await;
    }
    let key = request.uri().to_string();
    if let Some(hit) = state.pages.get(&key) {
        return hit;
    }
    let response = next.run(request).await;
    let public = response
        .headers()
        .get(header::CACHE_CONTROL)
        .is_some_and(|v| v.as_bytes().starts_with(b"public"));
    if response.status() != StatusCode::OK || !public || method != Method::GET {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => {
            // Tag it once here, so that a hit need not hash the page again.
            if !parts.headers.contains_key(header::ETAG) {
                let tag = super::caching::etag_of(&bytes);
                parts.headers.insert(header::ETAG, HeaderValue::from_str(&tag).expect("ASCII"));
            }
            state.pages.put(key, parts.headers.clone(), bytes.clone());
            Response::from_parts(parts, Body::from(bytes))
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Empties this node's cache and tells the others.
pub async fn changed(state: &AppState) {
    changed_in(state, "").await;
}

/// Forgets what a change in `scope` touches (see [`PageCache::forget`]), here and on the
/// other nodes.
pub async fn changed_in(state: &AppState, scope: &str) {
    state.pages.forget(scope);
    if let Err(e) = state.store.announce_change(scope).await {
        tracing::warn!(error = %e, "could not announce a change to the other nodes");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_forgets_its_article_and_the_listings_only() {
        let cache = PageCache::default();
        for key in [
            "/",
            "/section/local/",
            "/feed.atom",
            "/2026/11/24/a/",
            "/2026/11/24/a/?replytocom=3",
            "/2026/11/24/b/",
        ] {
            cache.put(key.into(), HeaderMap::new(), Bytes::new());
        }
        cache.forget("/2026/11/24/a/");
        let mut left: Vec<_> = cache.entries.lock().unwrap().keys().cloned().collect();
        left.sort();
        assert_eq!(left, ["/2026/11/24/b/"]);
        cache.forget("");
        assert!(cache.is_empty());
        assert!(is_article_path("/2026/11/24/slug/feed.atom") && !is_article_path("/page/2/"));
    }
}
