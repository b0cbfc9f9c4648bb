//! Errors as RFC 9457 problems: `application/problem+json` with a `type` (`about:blank`:
//! the status says it), a `title`, the `status`, a `detail` a person understands, a `code` a
//! program can match, and for a refused reply or article the message of each field.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::FieldError;
use crate::store::StoreError;

/// An RFC 9457 problem.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// Always `about:blank`: the status code says what kind of problem it is.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// A stable name for the problem: `invalid`, `rate_limited`, `replies_closed`,
    /// `changed_meanwhile`, `unlisted_site`, `unauthorized`, `missing_scope`…
    pub code: &'static str,
    /// For `invalid`: what is wrong with each field (`comment`, `name`, `email`, `website`,
    /// `parent`, `token`, `form` for the whole request…).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
}

/// What is wrong with one field.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

#[derive(Debug)]
pub enum ApiError {
    NotFound(String),
    BadRequest(String),
    /// No token, or one that is not (or no longer) valid.
    Unauthorized(String),
    /// Allowed neither by the token's scopes nor by the account's role.
    Forbidden {
        code: &'static str,
        detail: String,
    },
    /// What was sent breaks a rule; every problem at once.
    Invalid(Vec<FieldError>),
    /// Too many: again after this many seconds.
    RateLimited {
        retry_after: i64,
        detail: String,
    },
    Conflict(String),
    /// `If-Match` names an older state of the article.
    PreconditionFailed(String),
    /// An update without `If-Match`.
    PreconditionRequired,
    UnsupportedMediaType,
    TooLarge,
    Unavailable(String),
    /// This node is doing as much of this as it may (live streams): again after this many
    /// seconds.
    Busy {
        retry_after: i64,
        detail: String,
    },
    Internal(String),
}

impl ApiError {
    fn parts(self) -> (StatusCode, &'static str, String, Vec<FieldError>) {
        match self {
            Self::NotFound(detail) => (StatusCode::NOT_FOUND, "not_found", detail, Vec::new()),
            Self::BadRequest(detail) => {
                (StatusCode::BAD_REQUEST, "bad_request", detail, Vec::new())
            }
            Self::Unauthorized(detail) => {
                (StatusCode::UNAUTHORIZED, "unauthorized", detail, Vec::new())
            }
            Self::Forbidden { code, detail } => (StatusCode::FORBIDDEN, code, detail, Vec::new()),
            Self::Invalid(errors) => {
                let detail = match errors.as_slice() {
                    [one] => one.message.clone(),
                    _ => {
                        format!("{} things need changing; each is named in `errors`.", errors.len())
                    }
                };
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid", detail, errors)
            }
            Self::RateLimited { detail, .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "rate_limited", detail, Vec::new())
            }
            Self::Conflict(detail) => (StatusCode::CONFLICT, "conflict", detail, Vec::new()),
            Self::PreconditionFailed(detail) => {
                (StatusCode::PRECONDITION_FAILED, "changed_meanwhile", detail, Vec::new())
            }
            Self::PreconditionRequired => (
                StatusCode::PRECONDITION_REQUIRED,
                "if_match_required",
                "Send `If-Match` with the ETag of the article as you last read it, so that a \
                 change made meanwhile is not overwritten."
                    .into(),
                Vec::new(),
            ),
            Self::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send JSON (`application/json`) or a web form \
                 (`application/x-www-form-urlencoded`)."
                    .into(),
                Vec::new(),
            ),
            Self::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "What you sent is larger than this site accepts.".into(),
                Vec::new(),
            ),
            Self::Unavailable(why) => {
                tracing::warn!(error = %why, "API: database unavailable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "The site cannot reach its database just now. Please try again in a moment."
                        .into(),
                    Vec::new(),
                )
            }
            Self::Busy { detail, .. } => {
                (StatusCode::SERVICE_UNAVAILABLE, "busy", detail, Vec::new())
            }
            Self::Internal(why) => {
                tracing::error!(error = %why, "API: internal failure");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "The site could not answer this request. Please try again in a moment.".into(),
                    Vec::new(),
                )
            }
        }
    }
}

/// A problem response from its parts (also for the errors other layers make, see
/// `web::error`).
pub fn problem_response(
    status: StatusCode,
    code: &'static str,
    detail: String,
    errors: Vec<FieldError>,
) -> Response {
    let problem = Problem {
        kind: "about:blank",
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail,
        code,
        errors: errors
            .into_iter()
            .map(|e| FieldProblem { field: e.field.to_owned(), message: e.message })
            .collect(),
    };
    let body = serde_json::to_string(&problem).unwrap_or_default();
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    if status == StatusCode::SERVICE_UNAVAILABLE {
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = match &self {
            Self::RateLimited { retry_after, .. } | Self::Busy { retry_after, .. } => {
                Some(*retry_after)
            }
            _ => None,
        };
        let unauthorized = matches!(self, Self::Unauthorized(_));
        let (status, code, detail, errors) = self.parts();
        let mut response = problem_response(status, code, detail, errors);
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if unauthorized {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(why) => Self::Unavailable(why),
            StoreError::Conflict(what) => Self::Conflict(format!("{what} is already taken.")),
            StoreError::NotFound(what) => Self::NotFound(format!("{what} was not found.")),
            StoreError::Invalid(why) => Self::BadRequest(why.to_owned()),
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<askama::Error> for ApiError {
    fn from(e: askama::Error) -> Self {
        Self::Internal(format!("template: {e}"))
    }
}
