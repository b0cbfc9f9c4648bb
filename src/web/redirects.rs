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
    match find(&state, keys).await {
        Some(target) => moved_permanently(&encode(&target)),
        None => response,
    }
}

/// A reply sent to a static page's address, which no route takes (`/about/` is the date
/// archives' `/{year}/`, which takes no `POST`). Articles' and the newsroom's addresses go
/// straight on, without a look at the pages.
async fn page_reply(state: &AppState, request: Request, next: Next) -> Response {
    use axum::response::IntoResponse;
    let path = percent_decode_str(request.uri().path()).decode_utf8_lossy().into_owned();
    if path.starts_with("/admin/") || crate::domain::paths::is_article_path(&path) {
        return next.run(request).await;
    }
    let Some(peer) =
        request.extensions().get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0)
    else {
        return next.run(request).await;
    };
    let target =
        match crate::services::pages::reply_target(&state.services, path.trim_matches('/')).await {
            Ok(target) => target,
            Err(e) => return AppError::from(e).into_response(),
        };
    if target.is_none() {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    match super::pages::reply(state, peer, &path, &parts.headers, body).await {
        Ok(Some(response)) => response,
        Ok(None) => AppError::NotFound.into_response(),
        Err(e) => e.into_response(),
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
