//! "Forgot password": asking for a link by address, and setting a new password with it.

use askama::Template;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use super::page;
use crate::services::staff::{self, StaffError};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::form;
use crate::web::layout::Layout;

#[derive(Template)]
#[template(path = "admin/forgot.html")]
struct ForgotPage<'a> {
    layout: Layout<'a>,
    mail: bool,
    sent: bool,
    email: String,
}

#[derive(Template)]
#[template(path = "admin/reset.html")]
struct ResetPage<'a> {
    layout: Layout<'a>,
    title: &'a str,
    token: &'a str,
    works: bool,
    error: Option<&'a str>,
}

fn forgot_page(state: &AppState, sent: bool, email: String) -> Result<Response, AppError> {
    let template = ForgotPage {
        layout: Layout::new(&state.config, "Forgot your password?"),
        mail: state.services.mailer.is_on(),
        sent,
        email,
    };
    Ok(private(page(StatusCode::OK, template.render()?)))
}

/// A reset page's address holds its token: it must not travel as a referrer.
fn private(mut response: Response) -> Response {
    response.headers_mut().insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// `GET /admin/forgot`
pub async fn forgot_form(State(state): State<AppState>) -> Result<Response, AppError> {
    forgot_page(&state, false, String::new())
}

/// `POST /admin/forgot`: the same answer whether or not the address has an account.
pub async fn forgot(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let pairs = form::read_pairs(&headers, body).await?;
    let email = form::first(&pairs, "email").unwrap_or_default().trim().to_owned();
    staff::ask_password_reset(&state.services, &email).await?;
    forgot_page(&state, true, String::new())
}

fn reset_page(
    state: &AppState,
    status: StatusCode,
    token: &str,
    works: bool,
    error: Option<&str>,
) -> Result<Response, AppError> {
    let title = if works { "Set a new password" } else { "This link does not work any more" };
    let error = error.or((!works).then_some(
        "A password reset link works once, for an hour. Ask for a new one if you still need it.",
    ));
    let template =
        ResetPage { layout: Layout::new(&state.config, title), title, token, works, error };
    Ok(private(page(status, template.render()?)))
}

/// `GET /admin/reset/{token}`: the form, if the link still works; nothing is used up.
pub async fn reset_form(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let works = staff::password_reset_works(&state.services, &token).await?;
    let status = if works { StatusCode::OK } else { StatusCode::NOT_FOUND };
    reset_page(&state, status, &token, works, None)
}

/// `POST /admin/reset/{token}`
pub async fn reset(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let pairs = form::read_pairs(&headers, body).await?;
    let value = |name| form::first(&pairs, name).unwrap_or_default().to_owned();
    match staff::reset_password(&state.services, &token, &value("new"), &value("again")).await {
        Ok(()) => Ok(super::see_other("/admin/login?reset=1")),
        Err(StaffError::Invalid(error)) => {
            reset_page(&state, StatusCode::UNPROCESSABLE_ENTITY, &token, true, Some(&error.message))
        }
        Err(StaffError::NotFound) => reset_page(&state, StatusCode::NOT_FOUND, &token, false, None),
        Err(e) => Err(e.into()),
    }
}
