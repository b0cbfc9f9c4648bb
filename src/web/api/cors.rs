//! Cross-origin requests to the API: only from the sites listed in `embed_origins` (and this
//! site's own pages), matched exactly and answered with that one origin, never `*`; no
//! credentials (the API reads no cookie). Outside the page cache, so a kept answer never
//! carries the origin of whoever asked first.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::web::AppState;

/// What a cross-origin client may read of an answer besides the simple headers.
const EXPOSED: &str = "ETag, Retry-After, Location";

pub async fn cors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let origin = request.headers().get(header::ORIGIN).cloned();
    let allowed = match &origin {
        Some(origin) => allows(&state, origin).await,
        None => false,
    };
    let preflight = request.method() == Method::OPTIONS
        && request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight { preflight_answer(allowed) } else { next.run(request).await };
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if let (true, Some(origin)) = (allowed, origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSED));
    }
    response
}

fn preflight_answer(allowed: bool) -> Response {
    if !allowed {
        return super::problem::problem_response(
            StatusCode::FORBIDDEN,
            "unlisted_site",
            "This site does not take requests from pages of that origin: an admin lists the \
             sites that may embed replies in the settings."
                .into(),
            Vec::new(),
        );
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Content-Type, Last-Event-ID"),
    );
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    response
}

/// Whether `origin` is this site's own, or listed in `embed_origins`.
async fn allows(state: &AppState, origin: &HeaderValue) -> bool {
    let Ok(origin) = origin.to_str() else { return false };
    if is_own(state, origin) {
        return true;
    }
    match crate::services::settings::effective(&state.services).await {
        Ok(effective) => effective.settings.embeds_for(origin),
        Err(_) => false,
    }
}

fn is_own(state: &AppState, origin: &str) -> bool {
    let mut headers = HeaderMap::new();
    match HeaderValue::from_str(origin) {
        Ok(value) => {
            headers.insert(header::ORIGIN, value);
            origin != "null"
                && crate::web::defenses::sent_from_here(&headers, &state.config.base_url)
        }
        Err(_) => false,
    }
}

/// Whether a request that writes may come from where it says it comes from: no `Origin` (a
/// program, not a browser page), this site's own pages, or a listed site. The form token is
/// public, so without this any site could make its visitors post.
pub async fn may_post_from(state: &AppState, headers: &HeaderMap) -> bool {
    match headers.get(header::ORIGIN) {
        None => crate::web::defenses::sent_from_here(headers, &state.config.base_url),
        Some(origin) => allows(state, origin).await,
    }
}
