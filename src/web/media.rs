//! The library's files, at addresses that never change meaning: `/media/<hash>/<name>.<ext>`
//! (a replacement gets a new hash), so they are cached for a year and revalidated never. They
//! skip the page cache and the page validators (which would hold them whole and rewrite their
//! caching): they are streamed from where they are kept, tagged by the hash in their address.
//! `/media/<id>` names an image by its library entry and redirects to its current file.

use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::domain::MediaId;
use crate::domain::media::MediaFile;
use crate::web::AppState;
use crate::web::error::AppError;

/// Left on a media response so that the layers for pages leave it alone.
#[derive(Debug, Clone, Copy)]
pub struct MediaResponse;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// A file sent to the bucket's public address: for a day, should the address change.
const REDIRECT: &str = "public, max-age=86400";

/// The address names the bytes for good (the hash is the original's, the rest the variant's):
/// it is the tag.
fn etag_of(file: &MediaFile) -> String {
    format!("\"{}\"", file.key().replace('/', "-"))
}

fn matches(headers: &HeaderMap, etag: &str) -> bool {
    headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|sent| {
        sent.trim() == "*" || sent.split(',').any(|t| t.trim().trim_start_matches("W/") == etag)
    })
}

fn marked(mut response: Response) -> Response {
    response.extensions_mut().insert(MediaResponse);
    response
}

/// `GET` and `HEAD /media/{hash}/{file}` answered at the door (see [`super::door`]) when the
/// file is held in memory (or the browser already has it): the layers for pages have nothing
/// to do for it, and a photo then costs about what a static file costs. `None` sends the
/// request on, to [`file`].
pub fn held_answer(state: &AppState, request: &Request) -> Option<Response> {
    let mut response = held(state, request)?;
    crate::web::secure(state, response.headers_mut());
    response.extensions_mut().insert(crate::web::RouteName(FILE_ROUTE));
    Some(response)
}

/// The route [`file`] answers, as the metrics name it.
const FILE_ROUTE: &str = "/media/{hash}/{file}";

fn held(state: &AppState, request: &Request) -> Option<Response> {
    let readable = request.method() == Method::GET || request.method() == Method::HEAD;
    if !readable || state.config.media_public_url.is_some() {
        return None;
    }
    let (hash, name) = request.uri().path().strip_prefix("/media/")?.split_once('/')?;
    let file = MediaFile::parse(hash, name)?;
    let etag = etag_of(&file);
    let fixed = fixed_headers(&etag);
    if matches(request.headers(), &etag) {
        return Some(marked((StatusCode::NOT_MODIFIED, fixed).into_response()));
    }
    let bytes = state.services.hot_files.get(&file.key())?;
    Some(answer(fixed, &file, bytes.len() as u64, Body::from(bytes)))
}

fn fixed_headers(etag: &str) -> [(header::HeaderName, HeaderValue); 2] {
    [
        (header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE)),
        (header::ETAG, HeaderValue::from_str(etag).expect("ASCII")),
    ]
}

/// `GET` and `HEAD /media/{hash}/{file}`
pub async fn file(
    State(state): State<AppState>,
    Path((hash, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let file = MediaFile::parse(&hash, &name).ok_or(AppError::NotFound)?;
    let etag = etag_of(&file);
    let fixed = fixed_headers(&etag);
    if matches(&headers, &etag) {
        return Ok(marked((StatusCode::NOT_MODIFIED, fixed).into_response()));
    }
    let key = file.key();
    if let Some(public) = &state.config.media_public_url {
        // The bucket serves its files itself; the address here stays the one pages name.
        let mut response =
            crate::web::response::redirect(StatusCode::FOUND, &format!("{public}/{key}"));
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(REDIRECT));
        return Ok(marked(response));
    }
    if let Some(bytes) = state.services.hot_files.get(&key) {
        return Ok(answer(fixed, &file, bytes.len() as u64, Body::from(bytes)));
    }
    let opened = state.services.media_files.open(&key).await.map_err(|e| {
        tracing::warn!(error = %e, key, "a media file could not be read");
        AppError::Store(crate::store::StoreError::Unavailable(
            "the media files cannot be read".into(),
        ))
    })?;
    let body = opened.ok_or(AppError::NotFound)?;
    let sent = match body.whole {
        Some(bytes) => {
            state.services.hot_files.put(key, bytes.clone());
            Body::from(bytes)
        }
        None => Body::from_stream(body.chunks),
    };
    Ok(answer(fixed, &file, body.len, sent))
}

/// A file's answer: its fixed headers, type and length, and its bytes.
fn answer(
    fixed: [(header::HeaderName, HeaderValue); 2],
    file: &MediaFile,
    len: u64,
    body: Body,
) -> Response {
    let mut response = (fixed, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(file.format.mime()));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    marked(response)
}

/// `GET /media/{id}`: the image's current file (what an article's Markdown names).
pub async fn library(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id: MediaId = crate::web::admin::parse_id(&id)?;
    let item = state.services.media_item(id).await?.ok_or(AppError::NotFound)?;
    let mut response = crate::web::response::redirect(StatusCode::FOUND, &item.view().src());
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(marked(response))
}
