//! `/replies/{id}/edit` and `/replies/{id}/delete`: a reader changes or deletes their reply
//! from the browser that posted it, for `edit_window_minutes`. Which replies are this
//! browser's is its signed cookie's word (`cookies::own_replies`); the window is the
//! service's. Every page here is the reader's own: never cached.

use askama::Template;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use super::AppState;
use super::cookies;
use super::defenses;
use super::error::AppError;
use super::form;
use super::layout::Layout;
use super::response::{Caching, html, redirect};
use crate::domain::reply::field;
use crate::domain::{FieldError, ReplyId, ReplyStatus, message_for, text};
use crate::services::own_replies::{self, OwnError, OwnReply};

#[derive(Template)]
#[template(path = "own_reply.html")]
struct OwnReplyPage<'a> {
    layout: Layout<'a>,
    heading: &'static str,
    id: ReplyId,
    headline: &'a str,
    /// The reply in its thread.
    back: String,
    /// "12 minutes left to change it."
    time_left: String,
    /// The text in the form: the reply's, or what the reader typed.
    comment: &'a str,
    /// The reply as it is shown now (on the delete page).
    body_html: String,
    deleting: bool,
    errors: &'a [FieldError],
}

impl OwnReplyPage<'_> {
    fn error(&self, field: &str) -> Option<&str> {
        message_for(self.errors, field)
    }

    fn problems(&self) -> Vec<form::Problem<'_>> {
        form::problems(self.errors, &[field::COMMENT])
    }
}

/// Which form a page shows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Form {
    Edit,
    Delete,
}

const CLOSED: &str = "This reply can no longer be changed here. A reply can be edited or deleted \
     for a short while after it is posted, from the browser that posted it; after that, ask \
     the site's staff.";

/// `GET /replies/{id}`: a reply's lasting address (used in mail), sent on to the page of its
/// thread that shows it today.
pub async fn permalink(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = ReplyId::parse(&id).ok_or(AppError::NotFound)?;
    let location = crate::services::discussion::reply_address(&state.services, id).await?;
    let location = location.ok_or(AppError::NotFound)?;
    let mut response = redirect(StatusCode::FOUND, &location);
    // Where the reply is shown moves as the thread grows.
    response.headers_mut().insert(header::CACHE_CONTROL, Caching::Private.header_value());
    Ok(response)
}

/// `GET /replies/{id}/edit`
pub async fn edit_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let own = own(&state, &id, &headers).await?;
    let comment = own.reply.body.clone();
    render(&state, &own, Form::Edit, &comment, &[], StatusCode::OK)
}

/// `POST /replies/{id}/edit`: the new text. `303` to the reply once saved; `422` with the
/// text kept when a rule refuses it; and when the window closed meanwhile, the text back to
/// copy.
pub async fn edit(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let bytes = form::read(&headers, body).await?;
    let pairs = form::parse(&bytes).map_err(|_| AppError::BadRequest(form::NOT_UTF8))?;
    let comment = form::first(&pairs, field::COMMENT).unwrap_or_default().to_owned();
    if !defenses::sent_from_here(&headers, &state.config.base_url) {
        return Err(AppError::ForeignForm { kept: comment });
    }
    let id = browser_owns(&state, &id, &headers).ok_or_else(|| closed_with(&comment))?;
    match own_replies::edit(&state.services, id, &comment).await {
        Ok(edited) => {
            let mut response = redirect(StatusCode::SEE_OTHER, &edited.location);
            let headers_out = response.headers_mut();
            headers_out.insert(header::CACHE_CONTROL, Caching::Private.header_value());
            // Back in the queue: its poster still sees it, marked as waiting.
            if edited.status == ReplyStatus::Pending {
                let secure = state.config.is_https();
                let cookie = cookies::add_held_reply(&headers, &state.services.keys, id, secure);
                if let Ok(value) = HeaderValue::from_str(&cookie) {
                    headers_out.append(header::SET_COOKIE, value);
                }
            }
            Ok(response)
        }
        Err(OwnError::Invalid(errors)) => {
            let own = own_replies::own_reply(&state.services, id)
                .await
                .map_err(|_| closed_with(&comment))?;
            render(&state, &own, Form::Edit, &comment, &errors, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(OwnError::Closed | OwnError::NotFound) => Err(closed_with(&comment)),
        Err(OwnError::Store(cause)) => Err(AppError::ReplyNotSaved { kept: comment, cause }),
    }
}

/// `GET /replies/{id}/delete`: asks first.
pub async fn delete_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let own = own(&state, &id, &headers).await?;
    render(&state, &own, Form::Delete, "", &[], StatusCode::OK)
}

/// `POST /replies/{id}/delete`: the reply leaves the page (to the trash, for staff).
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    if !defenses::sent_from_here(&headers, &state.config.base_url) {
        return Err(AppError::ForeignForm { kept: String::new() });
    }
    let id = browser_owns(&state, &id, &headers).ok_or_else(closed)?;
    match own_replies::withdraw(&state.services, id).await {
        Ok(location) => {
            let mut response = redirect(StatusCode::SEE_OTHER, &location);
            response.headers_mut().insert(header::CACHE_CONTROL, Caching::Private.header_value());
            Ok(response)
        }
        Err(OwnError::Closed | OwnError::NotFound | OwnError::Invalid(_)) => Err(closed()),
        Err(OwnError::Store(e)) => Err(AppError::Store(e)),
    }
}

/// The reply, if this browser posted it and may still change it.
async fn own(state: &AppState, id: &str, headers: &HeaderMap) -> Result<OwnReply, AppError> {
    let id = browser_owns(state, id, headers).ok_or_else(closed)?;
    match own_replies::own_reply(&state.services, id).await {
        Ok(own) => Ok(own),
        Err(OwnError::Store(e)) => Err(AppError::Store(e)),
        Err(_) => Err(closed()),
    }
}

/// The id, if this browser's signed cookie names it.
fn browser_owns(state: &AppState, id: &str, headers: &HeaderMap) -> Option<ReplyId> {
    let id = ReplyId::parse(id)?;
    cookies::own_replies(headers, &state.services.keys).contains(&id).then_some(id)
}

fn closed() -> AppError {
    AppError::Forbidden(CLOSED.into())
}

/// The window closed (or the cookie went) while the reader typed: the page that says so
/// shows their text, so that it is not lost.
fn closed_with(comment: &str) -> AppError {
    if comment.trim().is_empty() {
        return closed();
    }
    AppError::NotChanged { kept: comment.to_owned(), message: CLOSED }
}

fn render(
    state: &AppState,
    own: &OwnReply,
    form: Form,
    comment: &str,
    errors: &[FieldError],
    status: StatusCode,
) -> Result<Response, AppError> {
    let heading = match form {
        Form::Edit => "Edit your reply",
        Form::Delete => "Delete your reply",
    };
    let minutes = (own.seconds_left + 59) / 60;
    let unit = if minutes == 1 { "minute" } else { "minutes" };
    let page = OwnReplyPage {
        layout: Layout::public(&state.config, heading, state.services.known_nav()),
        heading,
        id: own.reply.id,
        headline: &own.headline,
        back: format!("{}#comment-{}", own.path, own.reply.id),
        time_left: format!("{minutes} {unit} left to change it."),
        comment,
        body_html: text::reply_html(&own.reply.body),
        deleting: form == Form::Delete,
        errors,
    };
    Ok(html(status, page.render()?, Caching::Private))
}
