//! Validators for public responses: a weak `ETag` made from the body, `304 Not Modified` for a
//! matching `If-None-Match`, and `Cache-Control` that lets shared caches keep a page briefly.
//! Since the tag comes from the body itself, any change that shows on a page (a reply, a count
//! on a listing, a related article, a setting) changes it at once.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;

/// What a handler may put where the form token goes, so that the token (which changes every
/// second) does not change the tag: pages that differ only there are the same page.
pub const TOKEN_PLACEHOLDER: &str = "\u{1}byline-form-token\u{1}";

/// The page with `token` where [`TOKEN_PLACEHOLDER`] is. Found with `memchr`'s SIMD search
/// (`str::replace`'s search was 2.5% of rendering an article page), and written in place: the
/// form is near the page's end, so only its tail moves, where a copy of the page was 2% of
/// rendering a 200-reply page.
pub fn with_token(mut page: String, token: &str) -> String {
    let finder = memchr::memmem::Finder::new(TOKEN_PLACEHOLDER.as_bytes());
    let places: Vec<usize> = finder.find_iter(page.as_bytes()).collect();
    // From the last, so that the places before it stay where they were found.
    for &at in places.iter().rev() {
        page.replace_range(at..at + TOKEN_PLACEHOLDER.len(), token);
    }
    page
}

/// `W/"…"` from the body's length and CRC-32. A weak validator needs no cryptographic hash:
/// SHA-256 took 6% of rendering an article page (perf under `bench/archive`), CRC-32 a
/// twentieth of that; a change keeping the length and the CRC (one in four billion) would
/// only let a browser keep its copy until the next change, as an mtime-and-size tag would.
pub fn etag_of(body: &[u8]) -> String {
    format!("W/\"{:x}-{:08x}\"", body.len(), crc32fast::hash(body))
}

fn is_public(response: &Response) -> bool {
    response
        .headers()
        .get(header::CACHE_CONTROL)
        .is_some_and(|v| v.as_bytes().starts_with(b"public"))
}

fn matches(if_none_match: &str, etag: &str) -> bool {
    let bare = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    if_none_match.trim() == "*" || if_none_match.split(',').any(|t| bare(t) == bare(etag))
}

pub async fn conditional(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let cacheable_method = matches!(*request.method(), Method::GET | Method::HEAD);
    let if_none_match = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let response = next.run(request).await;
    if !cacheable_method || response.status() != StatusCode::OK || !is_public(&response) {
        return response;
    }
    // An image's file carries its own validator and caching, and is not to be held whole.
    if response.extensions().get::<super::media::MediaResponse>().is_some() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let etag = match parts.headers.get(header::ETAG).and_then(|v| v.to_str().ok()) {
        Some(tag) => tag.to_owned(),
        None => match axum::body::to_bytes(body, usize::MAX).await {
            Ok(bytes) => {
                let tag = etag_of(&bytes);
                return finish(parts, Body::from(bytes), tag, if_none_match, &state);
            }
            Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        },
    };
    let _ = &mut parts;
    finish(parts, body, etag, if_none_match, &state)
}

fn finish(
    mut parts: axum::http::response::Parts,
    body: Body,
    etag: String,
    if_none_match: Option<String>,
    state: &AppState,
) -> Response {
    let cache = format!("public, max-age=0, s-maxage={}", state.config.cache_seconds);
    parts.headers.insert(header::CACHE_CONTROL, HeaderValue::from_str(&cache).expect("ASCII"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        parts.headers.insert(header::ETAG, value);
    }
    if if_none_match.is_some_and(|inm| matches(&inm, &etag)) {
        return not_modified(parts);
    }
    Response::from_parts(parts, body)
}

/// Whether the request's `If-None-Match` names this tag.
pub fn unchanged_for(request: &HeaderMap, etag: &str) -> bool {
    request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|inm| matches(inm, etag))
}

/// `304 Not Modified` with the response's validators and no body.
pub fn not_modified(mut parts: axum::http::response::Parts) -> Response {
    parts.status = StatusCode::NOT_MODIFIED;
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_TYPE);
    parts.headers.remove(header::CONTENT_ENCODING);
    Response::from_parts(parts, Body::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_goes_where_each_placeholder_is() {
        let page = format!("<a>{TOKEN_PLACEHOLDER}</a><b>{TOKEN_PLACEHOLDER}</b>");
        assert_eq!(with_token(page, "t0k"), "<a>t0k</a><b>t0k</b>");
        assert_eq!(with_token("<p>none</p>".into(), "t0k"), "<p>none</p>");
        let long = "1765000000.".to_owned() + &"s".repeat(64);
        let page = format!("{TOKEN_PLACEHOLDER}<p>between</p>{TOKEN_PLACEHOLDER}<p>end</p>");
        assert_eq!(with_token(page, &long), format!("{long}<p>between</p>{long}<p>end</p>"));
    }

    #[test]
    fn tags_match_weakly_and_in_lists() {
        let tag = etag_of(b"page");
        assert!(tag.starts_with("W/\""));
        assert!(matches(&tag, &tag));
        assert!(matches(&format!("\"x\", {}", tag.trim_start_matches("W/")), &tag));
        assert!(matches("*", &tag));
        assert!(!matches("W/\"other\"", &tag));
        assert_ne!(etag_of(b"page"), etag_of(b"page!"));
    }
}
