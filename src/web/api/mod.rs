//! The JSON API under `/api/v1/`: public reads, posting a reply (from Byline's own pages'
//! script, the embed, or any client), the staff's writes with personal access tokens, and
//! live events. Every route is described by `utoipa` from the handler that serves it
//! ([`ApiDoc`], served at `/api/openapi.json`); a test keeps the description and
//! `web::routes()` the same. Errors are RFC 9457 problems (`application/problem+json`).

mod auth;
mod cors;
mod posting;
mod problem;
mod reading;
pub mod schema;
mod staff;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use utoipa::OpenApi;

use super::{Limits, Route, route};

use auth::BearerScheme;
pub use auth::WriteLimiter;
pub use cors::cors;
pub use problem::{ApiError, Problem, problem_response};

/// The API's routes. Event streams are `web::live`'s.
pub fn routes() -> Vec<Route> {
    vec![
        route("/api/openapi.json", get(openapi)),
        route("/api/v1/articles", get(reading::articles).post(staff::create_article)),
        route("/api/v1/articles/by-path", get(reading::article_by_path)),
        route("/api/v1/articles/{id}", get(reading::article).patch(staff::update_article)),
        route("/api/v1/articles/{id}/publish", post(staff::publish)),
        route("/api/v1/articles/{id}/schedule", post(staff::schedule)),
        route("/api/v1/articles/{id}/unpublish", post(staff::unpublish)),
        Route {
            path: "/api/v1/articles/{id}/replies",
            methods: get(reading::replies).post(posting::reply_to_article),
            limits: REPLY_BODY,
        },
        route("/api/v1/sections", get(reading::sections)),
        route("/api/v1/tags", get(reading::tags)),
        route("/api/v1/authors", get(reading::authors)),
        route("/api/v1/counts", get(reading::counts)),
        route("/api/v1/token", get(posting::token)),
        route("/api/v1/threads", get(reading::thread)),
        Route {
            path: "/api/v1/threads/replies",
            methods: get(reading::thread_replies).post(posting::reply_to_thread),
            limits: REPLY_BODY,
        },
        route("/api/v1/me", get(staff::me)),
        route("/api/v1/drafts", get(staff::drafts)),
        route("/api/v1/queue", get(staff::queue)),
        route("/api/v1/replies/{id}", post(staff::moderate)),
    ]
}

/// A reply's body: the form's limit, with room for JSON's quoting.
const REPLY_BODY: Limits = Limits::body(128 * 1024);

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Byline API",
        version = "1",
        description = "Byline's articles and readers' replies. Public reads and posting a reply \
            need nothing; the staff's routes take a personal access token (made on the newsroom's \
            account page) as `Authorization: Bearer byline_…`, never a cookie. Errors are RFC 9457 \
            problems. No response holds a commenter's email address or IP address, or any hash of \
            them."
    ),
    paths(
        reading::articles,
        reading::article,
        reading::article_by_path,
        reading::replies,
        reading::sections,
        reading::tags,
        reading::authors,
        reading::counts,
        reading::thread,
        reading::thread_replies,
        posting::token,
        posting::reply_to_article,
        posting::reply_to_thread,
        staff::me,
        staff::drafts,
        staff::create_article,
        staff::update_article,
        staff::publish,
        staff::schedule,
        staff::unpublish,
        staff::queue,
        staff::moderate,
        super::live::article_events,
        super::live::thread_events,
    ),
    modifiers(&BearerScheme),
    tags(
        (name = "articles", description = "Published articles, sections, tags and authors."),
        (name = "replies", description = "Readers' replies: reading, counting and posting."),
        (name = "staff", description = "The newsroom's writes, with a personal access token."),
        (name = "live", description = "Server-sent events as replies appear."),
    )
)]
pub struct ApiDoc;

/// `GET /api/openapi.json`: this API's OpenAPI 3.1 description, made from the handlers.
async fn openapi() -> Response {
    let body = ApiDoc::openapi().to_json().unwrap_or_else(|_| "{}".to_owned());
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=0"));
    response
}

/// Who may keep a copy of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharing {
    /// The same for everyone: a shared cache may keep it (`caching::conditional` tags it).
    Public,
    /// For one reader or one token: tagged here, kept by nobody but the client.
    Private,
}

/// A JSON answer with its validator (a strong `ETag` from the body), answered `304` when
/// the client has it already.
pub fn json<T: Serialize>(
    request: &HeaderMap,
    status: StatusCode,
    value: &T,
    sharing: Sharing,
) -> Response {
    json_tagged(request, status, value, sharing, "")
}

/// As [`json`], the tag starting with `prefix` (an article's revision, which `If-Match`
/// compares).
pub fn json_tagged<T: Serialize>(
    request: &HeaderMap,
    status: StatusCode,
    value: &T,
    sharing: Sharing,
    prefix: &str,
) -> Response {
    let body = match serde_json::to_vec(value) {
        Ok(body) => body,
        Err(e) => return ApiError::Internal(e.to_string()).into_response(),
    };
    let tag = format!("\"{prefix}{}{}\"", if prefix.is_empty() { "" } else { "-" }, digest(&body));
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(
        header::CACHE_CONTROL,
        match sharing {
            Sharing::Public => super::response::Caching::Public.header_value(),
            Sharing::Private => HeaderValue::from_static("private, no-cache"),
        },
    );
    if status == StatusCode::OK {
        headers.insert(header::ETAG, HeaderValue::from_str(&tag).expect("ASCII"));
        if super::caching::unchanged_for(request, &tag) {
            let (parts, _) = response.into_parts();
            return super::caching::not_modified(parts);
        }
    }
    response
}

/// 16 hex digits of the body's SHA-256.
fn digest(body: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(body).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// A query string's pairs, decoded; one that is not UTF-8 is a `400`.
fn query_pairs(query: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    super::form::parse(query.unwrap_or_default().as_bytes())
        .map_err(|_| ApiError::BadRequest("The query string is not UTF-8.".into()))
}

/// The one value of a query parameter, if given.
fn one<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// A whole number parameter within `min..=max`, or a `400` that says so.
fn number(
    pairs: &[(String, String)],
    name: &str,
    min: i64,
    max: i64,
) -> Result<Option<i64>, ApiError> {
    match one(pairs, name) {
        None => Ok(None),
        Some(raw) => match raw.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
            _ => Err(ApiError::BadRequest(format!(
                "`{name}` must be a whole number from {min} to {max}."
            ))),
        },
    }
}
