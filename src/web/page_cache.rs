//! Rendered public pages kept in memory, so that a popular article costs about what a static
//! file costs. Only anonymous requests are served from it (a request carrying one of Byline's
//! cookies may get a personal page), only `public` pages enter it, and any change (a form
//! posted here, a change announced by another node, a scheduled publication) empties it.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
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

    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
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
        let response = next.run(request).await;
        // A form that was accepted may have changed any page, here and on every node.
        if response.status().is_success() || response.status().is_redirection() {
            changed(&state).await;
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
    let (parts, body) = response.into_parts();
    match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => {
            state.pages.put(key, parts.headers.clone(), bytes.clone());
            Response::from_parts(parts, Body::from(bytes))
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Empties this node's cache and tells the others.
pub async fn changed(state: &AppState) {
    state.pages.clear();
    if let Err(e) = state.store.announce_change().await {
        tracing::warn!(error = %e, "could not announce a change to the other nodes");
    }
}
