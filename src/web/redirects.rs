//! What answers where no route does: first the site's static pages (`/about/`), then an
//! imported site's old addresses: a request Byline has no page for (or the front page asked
//! for `?p=12`, WordPress's address of post 12) is looked up among them, and answered with a
//! `301` to where the same thing lives now.

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

use super::AppState;
use super::error::AppError;
use super::response::moved_permanently;
use crate::store::ImportReads;

/// The queries by which WordPress names one thing on its front page.
const FRONT_PAGE_KEYS: &[&str] =
    &["p", "page_id", "cat", "tag", "author", "m", "feed", "attachment_id"];

pub async fn old_addresses(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() == Method::POST {
        return page_reply(&state, request, next).await;
    }
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return next.run(request).await;
    }
    let uri = request.uri().clone();
    let headers = request.headers().clone();
    let path = percent_decode_str(uri.path()).decode_utf8_lossy().into_owned();
    if path == "/"
        && let Some(query) = uri.query()
    {
        if let Some(archive) = month_archive(query) {
            return moved_permanently(&archive);
        }
        let keys = front_page_keys(query);
        if !keys.is_empty()
            && let Some(target) = find(&state, keys).await
        {
            return moved_permanently(&encode(&target));
        }
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::NOT_FOUND {
        return response;
    }
    match super::pages::answer(&state, &path, uri.query(), &headers).await {
        Ok(Some(page)) => return page,
        Ok(None) => {}
        Err(e) => return axum::response::IntoResponse::into_response(e),
    }
    let mut keys = Vec::new();
    if let Some(query) = uri.query().filter(|q| !q.is_empty()) {
        keys.push(format!("{path}?{}", percent_decode_str(query).decode_utf8_lossy()));
    }
    keys.push(path.clone());
    match path.strip_suffix('/') {
        Some(bare) if !bare.is_empty() => keys.push(bare.to_owned()),
        _ => keys.push(format!("{path}/")),
    }
    if let Some(target) = find(&state, keys).await {
        return moved_permanently(&encode(&target));
    }
    // A later page of a listing whose address moved (a section or tag renamed): the same
    // page of the listing where it lives now.
    if let Some((listing, page)) = listing_page(&path)
        && let Some(target) = find(&state, vec![listing.to_owned()]).await
        && target.ends_with('/')
    {
        return moved_permanently(&encode(&format!("{target}page/{page}/")));
    }
    response
}

/// `/section/old/page/2/` → (`/section/old/`, `2`).
fn listing_page(path: &str) -> Option<(&str, &str)> {
    let (listing, page) = path.strip_suffix('/')?.rsplit_once("/page/")?;
    let listed = listing.starts_with("/section/") || listing.starts_with("/tag/");
    let number = !page.is_empty() && page.bytes().all(|b| b.is_ascii_digit());
    (listed && number).then(|| (&path[..listing.len() + 1], page))
}

/// A reply sent to a static page's address, which no route takes (`/about/` is the date
/// archives' `/{year}/`, which takes no `POST`). Only a form sent to an address a page could
/// have is looked up; the rest (articles, the newsroom, robots' `/xmlrpc.php`) goes straight on.
/// A page's reply gets what a route's request gets: the site's body limit and time limit, and
/// a panic answered as a 500 page.
async fn page_reply(state: &AppState, request: Request, next: Next) -> Response {
    use axum::response::IntoResponse;
    use futures_util::FutureExt;
    let path = percent_decode_str(request.uri().path()).decode_utf8_lossy().into_owned();
    let first = path.trim_start_matches('/').split('/').next().unwrap_or_default();
    let form = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"application/x-www-form-urlencoded"));
    let could_be_a_page = form
        && path.ends_with('/')
        && !first.is_empty()
        && !crate::domain::paths::is_reserved_segment(first)
        && !crate::domain::paths::is_article_path(&path);
    let peer = request.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>();
    let (true, Some(peer)) = (could_be_a_page, peer.map(|c| c.0)) else {
        return next.run(request).await;
    };
    let key = path.trim_matches('/').to_owned();
    let target = crate::services::pages::reply_target(&state.services, &key).await;
    let (parts, body) = match target {
        Ok(Some(_)) => request.into_parts(),
        Ok(None) => return next.run(request).await,
        // The database away: the reader's text comes back with the error.
        Err(cause) => {
            let (parts, body) = request.into_parts();
            let limit = state.config.max_body_bytes;
            let body = axum::body::Body::new(http_body_util::Limited::new(body, limit));
            let kept = match super::form::read_pairs(&parts.headers, body).await {
                Ok(pairs) => super::form::first(&pairs, "comment").unwrap_or_default().to_owned(),
                Err(e) => return e.into_response(),
            };
            return AppError::ReplyNotSaved { kept, cause }.into_response();
        }
    };
    let config = &state.config;
    let declared = parts
        .headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > config.max_body_bytes as u64) {
        return AppError::TooLarge.into_response();
    }
    let body = axum::body::Body::new(http_body_util::Limited::new(body, config.max_body_bytes));
    let time = std::time::Duration::from_secs(config.request_timeout_seconds);
    let answer = super::pages::reply(state, peer, &path, &parts.headers, body);
    match tokio::time::timeout(time, std::panic::AssertUnwindSafe(answer).catch_unwind()).await {
        Ok(Ok(Ok(Some(response)))) => response,
        Ok(Ok(Ok(None))) => AppError::NotFound.into_response(),
        Ok(Ok(Err(e))) => e.into_response(),
        Ok(Err(_)) => AppError::Panicked("a page's reply".into()).into_response(),
        Err(_) => AppError::TimedOut.into_response(),
    }
}

/// `/?p=12`, `/?cat=3`…: each WordPress key of the query, as the redirects are kept.
fn front_page_keys(query: &str) -> Vec<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .filter(|(k, v)| FRONT_PAGE_KEYS.contains(&k.as_ref()) && !v.is_empty())
        .map(|(k, v)| format!("/?{k}={v}"))
        .collect()
}

/// WordPress's `?m=2019`, `?m=201905`, `?m=20190522`: the date archives, which Byline has
/// at `/2019/`, `/2019/05/`, `/2019/05/22/`.
fn month_archive(query: &str) -> Option<String> {
    let (_, m) = url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "m")?;
    if !m.bytes().all(|b| b.is_ascii_digit()) || !matches!(m.len(), 4 | 6 | 8) {
        return None;
    }
    let parts = [&m[..4], m.get(4..6).unwrap_or(""), m.get(6..8).unwrap_or("")];
    let path: Vec<&str> = parts.into_iter().filter(|p| !p.is_empty()).collect();
    Some(format!("/{}/", path.join("/")))
}

/// The first of these old addresses that has a new one. A database that does not answer
/// leaves the request as it was (a 404), rather than failing it.
async fn find(state: &AppState, keys: Vec<String>) -> Option<String> {
    let found = state
        .services
        .store
        .read(move |db| {
            Box::pin(async move {
                for key in &keys {
                    if let Some(target) = db.url_redirect(key).await? {
                        return Ok(Some(target));
                    }
                }
                Ok(None)
            })
        })
        .await;
    found.ok().flatten()
}

/// A path as a `Location` carries it: letters outside ASCII, spaces and the like encoded.
fn encode(path: &str) -> String {
    const LOCATION: &AsciiSet =
        &CONTROLS.add(b' ').add(b'"').add(b'<').add(b'>').add(b'`').add(b'#');
    utf8_percent_encode(path, LOCATION).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_page_queries_name_one_thing_each() {
        assert_eq!(front_page_keys("p=12&utm_source=x"), vec!["/?p=12".to_owned()]);
        assert!(front_page_keys("s=harbour").is_empty());
        assert_eq!(encode("/tag/远征/"), "/tag/%E8%BF%9C%E5%BE%81/");
        assert_eq!(month_archive("m=201905").as_deref(), Some("/2019/05/"));
        assert_eq!(month_archive("m=20190522").as_deref(), Some("/2019/05/22/"));
        assert_eq!(month_archive("m=2019x"), None);
    }
}
