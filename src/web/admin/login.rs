//! Signing in and out.

use std::net::SocketAddr;

use askama::Template;
use axum::body::Body;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use super::{SESSION_COOKIE, Staff, page, see_other};
use crate::services::staff::{self, StaffError};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::form;
use crate::web::layout::Layout;
use crate::web::{cookies, defenses};

/// A random value in a cookie and in the form: a sign-in form posted from another site
/// cannot know it (login CSRF).
const LOGIN_COOKIE: &str = "byline_login";

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage<'a> {
    layout: Layout<'a>,
    next: String,
    email: String,
    token: String,
    error: Option<&'a str>,
    /// Whether a password was just reset with a mailed link.
    reset: bool,
}

/// Where to go after signing in: only a staff page of this site.
fn safe_next(raw: Option<&str>) -> String {
    match raw {
        Some(next) if next.starts_with("/admin") && !next.starts_with("//") => next.to_owned(),
        _ => "/admin/".to_owned(),
    }
}

fn render(
    state: &AppState,
    status: StatusCode,
    next: String,
    email: String,
    error: Option<&str>,
) -> Result<Response, AppError> {
    render_after(state, status, next, email, error, false)
}

fn render_after(
    state: &AppState,
    status: StatusCode,
    next: String,
    email: String,
    error: Option<&str>,
    reset: bool,
) -> Result<Response, AppError> {
    let token = crate::domain::signing::new_secret();
    let template = LoginPage {
        layout: Layout::new(&state.config, "Sign in"),
        next,
        email,
        token: token.clone(),
        error,
        reset,
    };
    let mut response = page(status, template.render()?);
    let cookie = cookies::set_cookie(LOGIN_COOKIE, &token, 3600, state.config.is_https());
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

pub async fn form(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let next = safe_next(form::query_value(query.as_deref(), "next").as_deref());
    let token = cookies::cookie(&headers, SESSION_COOKIE).unwrap_or_default();
    if staff::session(&state.services, token).await?.is_some() {
        return Ok(see_other(&next));
    }
    let reset = form::query_value(query.as_deref(), "reset").is_some();
    render_after(&state, StatusCode::OK, next, String::new(), None, reset)
}

pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let pairs = form::read_pairs(&headers, body).await?;
    let value = |name| form::first(&pairs, name).unwrap_or_default().to_owned();
    let (email, password, next) =
        (value("email"), value("password"), safe_next(Some(&value("next"))));
    let expected = cookies::cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || expected != value("login_token") {
        let message = "The sign-in form had expired. Please try again.";
        return render(&state, StatusCode::FORBIDDEN, next, email, Some(message));
    }
    let lifetime = state.config.session_seconds;
    let ip = defenses::client_ip(peer.ip(), &headers, &state.config.trusted_proxies).to_string();
    match staff::sign_in(&state.services, &email, &password, &ip).await {
        Ok(signed_in) => {
            let mut response = see_other(&next);
            let max_age = u32::try_from(lifetime).unwrap_or(u32::MAX);
            let cookie = cookies::set_cookie(
                SESSION_COOKIE,
                &signed_in.token,
                max_age,
                state.config.is_https(),
            );
            let headers = response.headers_mut();
            headers.append(
                header::SET_COOKIE,
                HeaderValue::from_str(&cookie).expect("a cookie is ASCII"),
            );
            let clear = cookies::set_cookie(LOGIN_COOKIE, "", 0, state.config.is_https());
            headers.append(
                header::SET_COOKIE,
                HeaderValue::from_str(&clear).expect("a cookie is ASCII"),
            );
            tracing::info!(user = %signed_in.user.id, "signed in");
            Ok(response)
        }
        Err(StaffError::WrongCredentials) => {
            state.metrics.sign_in_failed("wrong_credentials");
            let message = "The email address or password is not right.";
            render(&state, StatusCode::UNPROCESSABLE_ENTITY, next, email, Some(message))
        }
        Err(e) => {
            if matches!(e, StaffError::Throttled(_)) {
                state.metrics.sign_in_failed("throttled");
            }
            Err(e.into())
        }
    }
}

pub async fn logout(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let pairs = form::read_pairs(&headers, body).await?;
    staff.check_csrf(&pairs)?;
    staff::sign_out(&state.services, &staff.session).await?;
    let mut response = see_other("/admin/login");
    let clear = cookies::set_cookie(SESSION_COOKIE, "", 0, state.config.is_https());
    response
        .headers_mut()
        .append(header::SET_COOKIE, HeaderValue::from_str(&clear).expect("a cookie is ASCII"));
    Ok(response)
}
