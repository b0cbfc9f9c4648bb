//! One error type for the web layer. A person reads a clear page; the log gets the cause;
//! nothing internal reaches the response.

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::layout::Layout;
use super::response::{Caching, html};
use crate::services::moderation::ModerationError;
use crate::services::publishing::PublishError;
use crate::services::staff::StaffError;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// Replies are closed; `kept` is the reader's text, shown back so it is not lost.
    #[error("replies are closed")]
    RepliesClosed { kept: String },
    /// A reader's change to their reply that can no longer be made; `kept` is the new text.
    #[error("reply not changed")]
    NotChanged { kept: String, message: &'static str },
    /// A reply form sent from another site's page; `kept` is the text.
    #[error("reply from another site")]
    ForeignForm { kept: String },
    #[error("request body too large")]
    TooLarge,
    /// An uploaded file past its limit; the message names it.
    #[error("file too large: {0}")]
    FileTooLarge(String),
    /// A staff page without a live session: `303` to sign in, then back to `next`.
    #[error("sign-in required")]
    SignIn { next: String },
    /// Signed in, but not allowed; or a form whose CSRF token does not match.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// What was sent cannot be used as it is (`422`).
    #[error("invalid: {0}")]
    Invalid(String),
    /// Too many attempts: try again after this many seconds.
    #[error("too many requests")]
    TooMany { retry_after: i64, message: String },
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// The store failed while saving a reply; `kept` is the reader's text.
    #[error("reply not saved: {cause}")]
    ReplyNotSaved { kept: String, cause: StoreError },
    /// The request took longer than `request_timeout_seconds`.
    #[error("timed out")]
    TimedOut,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("template: {0}")]
    Render(#[from] askama::Error),
    /// A handler panicked; the cause is logged, the reader gets a 500 page.
    #[error("panicked: {0}")]
    Panicked(String),
}

/// What the newsroom's use cases refuse, as pages. (Field errors are shown on their forms by
/// the handlers; one reaching here was not expected there.)
impl From<PublishError> for AppError {
    fn from(e: PublishError) -> Self {
        match e {
            PublishError::Forbidden => {
                Self::Forbidden("You may edit your own articles only.".into())
            }
            PublishError::NotFound => Self::NotFound,
            PublishError::Store(e) => Self::Store(e),
            PublishError::Fields(errors) => {
                Self::Invalid(errors.into_iter().map(|e| e.message).collect::<Vec<_>>().join(" "))
            }
            PublishError::Conflict(_) => Self::Invalid(
                "Someone else saved this article since it was opened. Open it again to see \
                 their changes."
                    .into(),
            ),
            PublishError::NotAllowed(why) => Self::Forbidden(why.into()),
        }
    }
}

impl From<crate::services::media::MediaError> for AppError {
    fn from(e: crate::services::media::MediaError) -> Self {
        use crate::services::media::MediaError;
        match e {
            MediaError::Refused(refusal) => Self::Invalid(refusal.to_string()),
            MediaError::Fields(errors) => {
                Self::Invalid(errors.into_iter().map(|e| e.message).collect::<Vec<_>>().join(" "))
            }
            MediaError::Forbidden => {
                Self::Forbidden("Only editors and admins delete images.".into())
            }
            MediaError::NotFound => Self::NotFound,
            MediaError::NotYours(headlines) => Self::Forbidden(format!(
                "This image is shown in articles that are not yours ({}): ask an editor to \
                 change it, or upload your own.",
                headlines.iter().map(|h| format!("“{h}”")).collect::<Vec<_>>().join(", ")
            )),
            MediaError::InUse(uses) => Self::Invalid(format!(
                "This image is shown by {}: take it out of them first.",
                uses.iter().map(|u| format!("“{}”", u.headline)).collect::<Vec<_>>().join(", ")
            )),
            MediaError::Files(why) => {
                Self::Store(StoreError::Unavailable(format!("the media files: {why}")))
            }
            MediaError::Store(e) => Self::Store(e),
        }
    }
}

impl From<ModerationError> for AppError {
    fn from(e: ModerationError) -> Self {
        match e {
            ModerationError::Forbidden => {
                Self::Forbidden("You moderate replies on your own articles only.".into())
            }
            ModerationError::NotFound => Self::NotFound,
            ModerationError::Store(e) => Self::Store(e),
            ModerationError::Invalid(e) => Self::Invalid(e.message),
        }
    }
}

impl From<StaffError> for AppError {
    fn from(e: StaffError) -> Self {
        match e {
            StaffError::Store(e) => Self::Store(e),
            StaffError::NotFound => Self::NotFound,
            StaffError::Forbidden(why) => Self::Forbidden(why.into()),
            StaffError::Invalid(e) => Self::Invalid(e.message),
            StaffError::WrongCredentials => {
                Self::Invalid("The email address or password is not right.".into())
            }
            StaffError::Throttled(retry_after) => Self::TooMany {
                retry_after,
                message: format!(
                    "Too many failed sign-ins for this account or from this address. Please \
                     wait {} minutes and try again.",
                    retry_after / 60
                ),
            },
        }
    }
}

/// What the error page should say; attached to the response for [`render_error_pages`].
#[derive(Debug, Clone)]
struct ErrorPage {
    title: &'static str,
    message: String,
    kept: Option<String>,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, title, message, kept) = match self {
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is nothing at this address. It may have been mistyped, or the \
                 article may have moved."
                    .to_owned(),
                None,
            ),
            Self::BadRequest(why) => (StatusCode::BAD_REQUEST, "Bad request", why.to_owned(), None),
            Self::RepliesClosed { kept } => (
                StatusCode::FORBIDDEN,
                "Comments are closed",
                "This article no longer takes replies. Your comment was not posted; its \
                 text is below so that you can keep a copy."
                    .to_owned(),
                Some(kept),
            ),
            Self::NotChanged { kept, message } => (
                StatusCode::FORBIDDEN,
                "Your reply was not changed",
                format!("{message} Your new text is below so that you can keep a copy."),
                Some(kept),
            ),
            Self::ForeignForm { kept } => (
                StatusCode::FORBIDDEN,
                "Sent from another site",
                "This reply was sent from a page of another website, so it was not posted. \
                 To reply, open the article on this site and use its form; your text is below."
                    .to_owned(),
                Some(kept),
            ),
            Self::SignIn { next } => {
                let location = format!(
                    "/admin/login?next={}",
                    percent_encoding::utf8_percent_encode(
                        &next,
                        percent_encoding::NON_ALPHANUMERIC
                    )
                );
                let mut response = StatusCode::SEE_OTHER.into_response();
                if let Ok(value) = HeaderValue::from_str(&location) {
                    response.headers_mut().insert(header::LOCATION, value);
                }
                response
                    .headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
                return response;
            }
            Self::Forbidden(message) => (StatusCode::FORBIDDEN, "Not allowed", message, None),
            Self::Invalid(message) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "This cannot be saved", message, None)
            }
            Self::TooMany { retry_after, message } => {
                let mut built = StatusCode::TOO_MANY_REQUESTS.into_response();
                built.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
                built.extensions_mut().insert(ErrorPage {
                    title: "Too many attempts",
                    message,
                    kept: None,
                });
                return built;
            }
            Self::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Too large",
                "What you sent is larger than this site accepts. Please shorten it and try \
                 again."
                    .to_owned(),
                None,
            ),
            Self::FileTooLarge(message) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "Too large", message, None)
            }
            Self::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported form",
                "Please send the form as a standard web form.".to_owned(),
                None,
            ),
            Self::Store(StoreError::Invalid(why)) => {
                (StatusCode::BAD_REQUEST, "Bad request", why.to_owned(), None)
            }
            Self::Store(StoreError::Conflict(what)) => {
                (StatusCode::CONFLICT, "Conflict", format!("{what} is already taken."), None)
            }
            Self::ReplyNotSaved { kept, cause } => {
                tracing::error!(error = %cause, "reply not saved");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Your reply was not saved",
                    "The site could not store your reply just now. Nothing was posted; your \
                     text is below. Please try again in a minute."
                        .to_owned(),
                    Some(kept),
                )
            }
            Self::Store(StoreError::Unavailable(e)) => {
                tracing::warn!(error = %e, "database unavailable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Temporarily unavailable",
                    "The site cannot reach its database just now. Please try again in a moment."
                        .to_owned(),
                    None,
                )
            }
            Self::TimedOut => (
                StatusCode::SERVICE_UNAVAILABLE,
                "Temporarily unavailable",
                "The site took too long to answer. Please try again in a moment.".to_owned(),
                None,
            ),
            Self::Store(e) => {
                tracing::error!(error = %e, "store failure");
                internal()
            }
            Self::Render(e) => {
                tracing::error!(error = %e, "template failure");
                internal()
            }
            Self::Panicked(cause) => {
                tracing::error!(cause, "a request's handler panicked");
                internal()
            }
        };
        let mut response = status.into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response.extensions_mut().insert(ErrorPage { title, message, kept });
        response
    }
}

fn internal() -> (StatusCode, &'static str, String, Option<String>) {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong",
        "The site could not answer this request. Please try again in a moment.".to_owned(),
        None,
    )
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorTemplate<'a> {
    layout: Layout<'a>,
    title: &'a str,
    message: &'a str,
    kept: Option<&'a str>,
    /// A page that is not there: a search box and the latest articles help the reader on.
    not_found: bool,
    latest: Vec<(String, String)>,
}

/// Gives every error response a readable page in the site's layout, including the ones the
/// framework makes itself (such as `405`).
pub async fn render_error_pages(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let status = response.status();
    // Framework errors come as bare or plain-text bodies; JSON and pages are left alone.
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|v| v.as_bytes().starts_with(b"text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !plain {
        return response;
    }
    let page = response.extensions().get::<ErrorPage>().cloned().unwrap_or_else(|| ErrorPage {
        title: status.canonical_reason().unwrap_or("Error"),
        message: default_message(status).into(),
        kept: None,
    });
    if api {
        return api_problem(response, status, page);
    }
    // The sections as a page last read them: an error page never waits for the database.
    let layout = Layout::public(&state.config, page.title, state.services.known_nav());
    let not_found = status == StatusCode::NOT_FOUND;
    let template = ErrorTemplate {
        layout,
        title: page.title,
        message: &page.message,
        kept: page.kept.as_deref(),
        not_found,
        latest: if not_found { state.services.known_latest() } else { Vec::new() },
    };
    let body = template.render().unwrap_or_else(|_| page.message.clone());
    let (mut parts, _) = response.into_parts();
    let mut rendered = html(status, body, Caching::Private);
    // Keep headers such as `Retry-After` or `Allow` that the original response carried.
    for (name, value) in parts.headers.drain().filter_map(|(n, v)| n.map(|n| (n, v))) {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rendered.headers_mut().entry(name).or_insert(value);
        }
    }
    // And what the layers left for those outside (the route, for the metrics).
    *rendered.extensions_mut() = parts.extensions;
    rendered
}

/// An error under `/api/` that a handler did not make itself (no such route, a method it does
/// not take, a body past the limit, a time out, a panic), as the API's problems are.
fn api_problem(response: Response, status: StatusCode, page: ErrorPage) -> Response {
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        StatusCode::INTERNAL_SERVER_ERROR => "internal",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        _ => "bad_request",
    };
    let detail = if status == StatusCode::NOT_FOUND {
        "There is nothing at this address of the API: /api/openapi.json lists what there is."
            .to_owned()
    } else {
        page.message
    };
    let (mut parts, _) = response.into_parts();
    let mut problem = super::api::problem_response(status, code, detail, Vec::new());
    for (name, value) in parts.headers.drain().filter_map(|(n, v)| n.map(|n| (n, v))) {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            problem.headers_mut().entry(name).or_insert(value);
        }
    }
    *problem.extensions_mut() = parts.extensions;
    problem
}

/// What to say about an error the framework raised before any handler ran.
fn default_message(status: StatusCode) -> &'static str {
    match status {
        StatusCode::METHOD_NOT_ALLOWED => "This address does not accept that kind of request.",
        StatusCode::BAD_REQUEST => "This address or form could not be read. Please check it.",
        StatusCode::PAYLOAD_TOO_LARGE => "What you sent is larger than this site accepts.",
        _ => "This request could not be answered.",
    }
}
