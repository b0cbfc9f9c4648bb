//! Staff accounts, for admins: add one, change a role, disable or enable.

use askama::Template;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{Nav, Staff, page, parse_id, see_other};
use crate::domain::Role;
use crate::staff::{self, StaffError};
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
    me: i64,
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
        users: state.store.users().await?,
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
    let pairs = form::read_pairs(&headers, body, 16 * 1024).await?;
    staff.check_csrf(&pairs)?;
    let value = |name| form::first(&pairs, name).unwrap_or_default().to_owned();
    let role = Role::parse(&value("role")).ok_or(AppError::BadRequest("Choose a role."))?;
    let (email, name) = (value("email"), value("name"));
    match staff::add_user(&*state.store, &email, &name, role, &value("password")).await {
        Ok(_) => Ok(see_other("/admin/users/")),
        Err(StaffError::Invalid(message)) => {
            render(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, Some(message), (email, name))
                .await
        }
        Err(StaffError::Store(e)) => Err(e.into()),
        Err(_) => Err(AppError::BadRequest("The account could not be created.")),
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
    let pairs = form::read_pairs(&headers, body, 16 * 1024).await?;
    staff.check_csrf(&pairs)?;
    let id = parse_id(&id)?;
    let role = Role::parse(form::first(&pairs, "role").unwrap_or_default())
        .ok_or(AppError::BadRequest("Choose a role."))?;
    let disabled = form::first(&pairs, "disabled").is_some();
    // An admin cannot lock themselves out.
    if id == staff.user.id && (disabled || role != Role::Admin) {
        let message = "You cannot disable your own account or take away your own admin role.";
        return render(
            &state,
            &staff,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(message.into()),
            Default::default(),
        )
        .await;
    }
    let user = state.store.user(id).await?.ok_or(AppError::NotFound)?;
    // A new password for someone who forgot theirs; it signs them out everywhere.
    let password = form::first(&pairs, "password").unwrap_or_default();
    if !password.is_empty()
        && let Err(StaffError::Invalid(message)) =
            staff::set_password(&*state.store, &user, password).await
    {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        return render(&state, &staff, status, Some(message), Default::default()).await;
    }
    state.store.update_user(id, role, disabled).await?;
    Ok(see_other("/admin/users/"))
}
