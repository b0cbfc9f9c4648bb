//! `/admin/threads/`: the threads `embed.js` made on other sites' pages, each with its page,
//! its reply count and its title (taken from the page by the first reply; editors and admins
//! change it, and open or close the thread to replies).

use askama::Template;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{Nav, Staff, page, see_other};
use crate::domain::{ArticleId, time};
use crate::services::threads::{self, ThreadError};
use crate::store::Thread;
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::form;
use crate::web::layout::Layout;

/// Threads a page.
const PER_PAGE: u64 = 50;

#[derive(Template)]
#[template(path = "admin/threads.html")]
struct ThreadsPage<'a> {
    layout: Layout<'a>,
    nav: Nav,
    threads: Vec<(Thread, String)>,
    total: u64,
    page: u64,
    pages: u64,
    notice: Option<&'static str>,
    error: Option<(i64, String)>,
    /// The sites that may embed replies, as the settings list them.
    origins: Vec<String>,
}

fn require_editor(staff: &Staff) -> Result<(), AppError> {
    if staff.user.role.edits_all_articles() {
        Ok(())
    } else {
        Err(AppError::Forbidden("Editors and admins look after embedded threads.".into()))
    }
}

async fn render(
    state: &AppState,
    staff: &Staff,
    page_number: u64,
    status: StatusCode,
    notice: Option<&'static str>,
    error: Option<(i64, String)>,
) -> Result<Response, AppError> {
    let offset = (page_number - 1) * PER_PAGE;
    let (found, total) = threads::list(&state.services, offset, PER_PAGE).await?;
    let tz = &state.config.timezone;
    let settings = crate::services::settings::effective(&state.services).await?.settings;
    let template = ThreadsPage {
        layout: Layout::new(&state.config, "Embedded threads"),
        nav: staff.nav(),
        threads: found
            .into_iter()
            .map(|t| {
                let made = time::date_and_time(t.created_at, tz);
                (t, made)
            })
            .collect(),
        total,
        page: page_number,
        pages: total.div_ceil(PER_PAGE).max(1),
        notice,
        error,
        origins: settings.embed_origins,
    };
    Ok(page(status, template.render()?))
}

/// `GET /admin/threads/`
pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    require_editor(&staff)?;
    let page_number = match form::query_value(query.as_deref(), "page") {
        Some(raw) => raw.parse::<u64>().ok().filter(|n| *n >= 1).ok_or(AppError::NotFound)?,
        None => 1,
    };
    let saved = form::query_value(query.as_deref(), "saved").is_some();
    let notice = saved.then_some("The thread is saved.");
    render(&state, &staff, page_number, StatusCode::OK, notice, None).await
}

/// `POST /admin/threads/{id}`: its title, and whether it takes replies.
pub async fn save(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let pairs = form::read_pairs(&headers, body).await?;
    staff.check_csrf(&pairs)?;
    require_editor(&staff)?;
    let id = ArticleId::parse(&id).ok_or(AppError::NotFound)?;
    let title = form::first(&pairs, "title").unwrap_or_default();
    let open = form::first(&pairs, "open").is_some();
    match threads::update(&state.services, &staff.user, id, title, open).await {
        Ok(()) => Ok(see_other("/admin/threads/?saved=1")),
        Err(ThreadError::Invalid(e)) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            render(&state, &staff, 1, status, None, Some((id.get(), e.message))).await
        }
        Err(ThreadError::NotFound) => Err(AppError::NotFound),
        Err(ThreadError::Forbidden) => {
            Err(AppError::Forbidden("Editors and admins look after embedded threads.".into()))
        }
        Err(ThreadError::Store(e)) => Err(e.into()),
    }
}
