//! The signed-in person's own account: the name and bio on their bylines, and their password.

use std::net::SocketAddr;

use askama::Template;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use super::{Nav, SESSION_COOKIE, Staff, page, see_other};
use crate::domain::staff::TokenScope;
use crate::domain::time;
use crate::services::api_tokens;
use crate::services::staff::{self, StaffError};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::form;
use crate::web::layout::Layout;
use crate::web::{cookies, defenses};

#[derive(Template)]
#[template(path = "admin/account.html")]
struct AccountPage<'a> {
    layout: Layout<'a>,
    nav: Nav,
    name: String,
    bio: String,
    photo: String,
    email: String,
    notice: Option<&'a str>,
    error: Option<String>,
    /// `each`, `hourly` or `none`; and whether new public replies on their articles are
    /// mailed. Shown only with mail on.
    held_mail: &'static str,
    reply_mail: bool,
    mail: bool,
    /// The account's API tokens, as listed.
    tokens: Vec<TokenRow>,
    /// A token just made: shown this once.
    new_token: Option<String>,
    scopes: Vec<(&'static str, &'static str)>,
}

/// A token as the account page lists it.
struct TokenRow {
    id: i64,
    name: String,
    scopes: String,
    made: String,
    last_used: String,
}

/// What the profile form shows: the account's, or what was typed into a refused form.
struct Profile {
    name: String,
    bio: String,
    photo: String,
}

async fn render(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<String>,
) -> Result<Response, AppError> {
    let author = &staff.user.author;
    let profile =
        Profile { name: author.name.clone(), bio: author.bio.clone(), photo: author.photo.clone() };
    render_with(state, staff, status, notice, error, profile, None).await
}

async fn render_with(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<String>,
    profile: Profile,
    new_token: Option<String>,
) -> Result<Response, AppError> {
    let choice = staff::mail_choice(&state.services, &staff.user).await?;
    let tz = &state.config.timezone;
    let tokens = api_tokens::tokens(&state.services, &staff.user)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            scopes: TokenScope::split(&t.scopes)
                .iter()
                .map(|s| s.label())
                .collect::<Vec<_>>()
                .join(", "),
            name: t.name,
            made: time::date_and_time(t.created_at, tz),
            last_used: t.last_used_at.map_or("never".to_owned(), |at| time::date_and_time(at, tz)),
        })
        .collect();
    let template = AccountPage {
        tokens,
        new_token,
        scopes: TokenScope::ALL.iter().map(|s| (s.as_str(), s.label())).collect(),
        held_mail: choice.held.as_str(),
        reply_mail: choice.replies,
        mail: state.services.mailer.is_on(),
        layout: Layout::new(&state.config, "Your account"),
        nav: staff.nav(),
        name: profile.name,
        bio: profile.bio,
        photo: profile.photo,
        email: staff.user.email.clone(),
        notice,
        error,
    };
    Ok(page(status, template.render()?))
}

pub async fn show(State(state): State<AppState>, staff: Staff) -> Result<Response, AppError> {
    render(&state, &staff, StatusCode::OK, None, None).await
}

/// `POST /admin/account`: `form=profile` (name, bio) or `form=password`.
pub async fn save(
    State(state): State<AppState>,
    staff: Staff,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let pairs = form::read_pairs(&headers, body).await?;
    staff.check_csrf(&pairs)?;
    let value = |name| form::first(&pairs, name).unwrap_or_default().to_owned();
    if value("form") == "mail" {
        let held = crate::store::HeldMail::parse(&value("held_mail"))
            .ok_or(AppError::BadRequest("held_mail: expected each, hourly or none"))?;
        let choice =
            crate::store::StaffMailChoice { held, replies: !value("reply_mail").is_empty() };
        staff::set_mail_choice(&state.services, &staff.user, choice).await?;
        return Ok(see_other("/admin/account"));
    }
    if value("form") == "token" {
        let scopes: Vec<TokenScope> = pairs
            .iter()
            .filter(|(name, _)| name == "scope")
            .filter_map(|(_, value)| TokenScope::parse(value))
            .collect();
        return match api_tokens::create(&state.services, &staff.user, &value("token_name"), &scopes)
            .await
        {
            Ok(made) => {
                let notice = Some("Your new token is below. Copy it now: it is not shown again.");
                let author = &staff.user.author;
                let profile = Profile {
                    name: author.name.clone(),
                    bio: author.bio.clone(),
                    photo: author.photo.clone(),
                };
                render_with(&state, &staff, StatusCode::OK, notice, None, profile, Some(made.token))
                    .await
            }
            Err(StaffError::Invalid(e)) => {
                render(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, None, Some(e.message))
                    .await
            }
            Err(e) => Err(e.into()),
        };
    }
    if value("form") == "revoke_token" {
        let id = value("token_id").parse::<i64>().map_err(|_| AppError::NotFound)?;
        api_tokens::revoke(&state.services, &staff.user, id).await?;
        return Ok(see_other("/admin/account#tokens"));
    }
    if value("form") == "password" {
        let ip = defenses::client_ip(peer.ip(), &headers, &state.config.trusted_proxies);
        let passwords = [value("current"), value("new"), value("again")];
        return change_password(&state, &staff, &passwords, &ip.to_string()).await;
    }
    let profile = Profile { name: value("name"), bio: value("bio"), photo: value("photo") };
    let saved = staff::update_profile(
        &state.services,
        &staff.user,
        &profile.name,
        &profile.bio,
        &profile.photo,
    )
    .await;
    match saved {
        Ok(()) => Ok(see_other("/admin/account")),
        Err(StaffError::Invalid(e)) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            render_with(&state, &staff, status, None, Some(e.message), profile, None).await
        }
        Err(e) => Err(e.into()),
    }
}

/// A new password ends every session of the account, this one included; this browser gets a
/// fresh session so its person stays signed in.
async fn change_password(
    state: &AppState,
    staff: &Staff,
    [current, new, again]: &[String; 3],
    ip: &str,
) -> Result<Response, AppError> {
    match staff::change_password(&state.services, &staff.user, current, new, again, ip).await {
        Ok(signed_in) => {
            let mut response = see_other("/admin/account");
            let lifetime = state.config.session_seconds;
            let max_age = u32::try_from(lifetime).unwrap_or(u32::MAX);
            let cookie = cookies::set_cookie(
                SESSION_COOKIE,
                &signed_in.token,
                max_age,
                state.config.is_https(),
            );
            response.headers_mut().append(
                header::SET_COOKIE,
                HeaderValue::from_str(&cookie).expect("a cookie is ASCII"),
            );
            Ok(response)
        }
        Err(StaffError::Invalid(e)) => {
            render(state, staff, StatusCode::UNPROCESSABLE_ENTITY, None, Some(e.message)).await
        }
        Err(e) => Err(e.into()),
    }
}
