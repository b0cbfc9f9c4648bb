//! Staff accounts, for admins: add one, change a role, disable or enable.

use askama::Template;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{Nav, Staff, page, parse_id, see_other};
use crate::domain::{Role, UserId};
use crate::services::staff::{self, AccountChange, StaffError};
use crate::store::User;
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::form;
use crate::web::layout::Layout;

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage<'a> {
    layout: Layout<'a>,
    nav: Nav,
    users: Vec<User>,
    me: UserId,
    roles: [&'static str; 3],
    error: Option<String>,
    email: String,
    name: String,
}

async fn render(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    error: Option<String>,
    typed: (String, String),
) -> Result<Response, AppError> {
    let template = UsersPage {
        layout: Layout::new(&state.config, "Staff"),
        nav: staff.nav(),
        users: staff::users(&state.services).await?,
        me: staff.user.id,
        roles: ["admin", "editor", "author"],
        error,
        email: typed.0,
        name: typed.1,
    };
    Ok(page(status, template.render()?))
}

/// `GET /admin/users/`
pub async fn list(State(state): State<AppState>, staff: Staff) -> Result<Response, AppError> {
    staff.require_admin()?;
    render(&state, &staff, StatusCode::OK, None, Default::default()).await
}

/// `POST /admin/users/`: a new account, with the password the admin gives it.
pub async fn add(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    staff.require_admin()?;
    let pairs = form::read_pairs(&headers, body).await?;
    staff.check_csrf(&pairs)?;
    let value = |name| form::first(&pairs, name).unwrap_or_default().to_owned();
    let role = Role::parse(&value("role")).ok_or(AppError::BadRequest("Choose a role."))?;
    let (email, name) = (value("email"), value("name"));
    match staff::add_user(&state.services, &email, &name, role, &value("password")).await {
        Ok(_) => Ok(see_other("/admin/users/")),
        Err(StaffError::Invalid(e)) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            render(&state, &staff, status, Some(e.message), (email, name)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/users/{id}`: role and disabled.
pub async fn update(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    staff.require_admin()?;
    let pairs = form::read_pairs(&headers, body).await?;
    staff.check_csrf(&pairs)?;
    let id: UserId = parse_id(&id)?;
    let role = Role::parse(form::first(&pairs, "role").unwrap_or_default())
        .ok_or(AppError::BadRequest("Choose a role."))?;
    let change = AccountChange {
        role,
        disabled: form::first(&pairs, "disabled").is_some(),
        password: form::first(&pairs, "password").map(str::to_owned),
    };
    match staff::update_account(&state.services, &staff.user, id, change).await {
        Ok(()) => Ok(see_other("/admin/users/")),
        Err(StaffError::Invalid(e)) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            render(&state, &staff, status, Some(e.message), Default::default()).await
        }
        Err(e) => Err(e.into()),
    }
}
