//! `/admin/sections/` and `/admin/tags/`: each with its articles' count, renamed, described,
//! merged into another, or deleted when unused (editors and admins).

use askama::Template;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{Nav, Staff, page, see_other};
use crate::domain::{FieldError, message_for};
use crate::services::terms::{self, TermError};
use crate::store::{Term, TermKind};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::form;
use crate::web::layout::Layout;

#[derive(Template)]
#[template(path = "admin/terms.html")]
struct TermsPage<'a> {
    layout: Layout<'a>,
    nav: Nav,
    /// `sections` or `tags`: the address's segment.
    segment: &'static str,
    terms: Vec<Term>,
    notice: Option<&'static str>,
    /// The term a refused form was about, what was typed, and what was wrong.
    refused: Option<Refused>,
}

/// A term's refused form: which term, what was typed, what was wrong.
type Refused = (i64, Vec<(String, String)>, Vec<FieldError>);

impl TermsPage<'_> {
    fn public(&self, slug: &str) -> String {
        terms::path(self.kind(), slug)
    }

    fn kind(&self) -> TermKind {
        if self.segment == "sections" { TermKind::Section } else { TermKind::Tag }
    }

    /// What the form of term `id` shows in `field`: what was typed, if it was refused.
    fn typed(&self, id: &i64, field: &str, stored: &str) -> String {
        match &self.refused {
            Some((refused, pairs, _)) if refused == id => {
                form::first(pairs, field).unwrap_or_default().to_owned()
            }
            _ => stored.to_owned(),
        }
    }

    fn error(&self, id: &i64, field: &str) -> Option<&str> {
        match &self.refused {
            Some((refused, _, errors)) if refused == id => message_for(errors, field),
            _ => None,
        }
    }
}

fn kind_of(segment: &str) -> Result<(TermKind, &'static str), AppError> {
    match segment {
        "sections" => Ok((TermKind::Section, "sections")),
        "tags" => Ok((TermKind::Tag, "tags")),
        _ => Err(AppError::NotFound),
    }
}

fn require_editor(staff: &Staff) -> Result<(), AppError> {
    if staff.user.role.edits_all_articles() {
        Ok(())
    } else {
        Err(AppError::Forbidden("Editors and admins look after sections and tags.".into()))
    }
}

async fn render(
    state: &AppState,
    staff: &Staff,
    segment: &str,
    notice: Option<&'static str>,
    refused: Option<Refused>,
) -> Result<Response, AppError> {
    let (kind, segment) = kind_of(segment)?;
    let status = if refused.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let title = if kind == TermKind::Section { "Sections" } else { "Tags" };
    let template = TermsPage {
        layout: Layout::new(&state.config, title),
        nav: staff.nav(),
        segment,
        terms: terms::list(&state.services, kind).await?,
        notice,
        refused,
    };
    Ok(page(status, template.render()?))
}

/// `GET /admin/sections/`
pub async fn sections(
    State(state): State<AppState>,
    staff: Staff,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    list(&state, &staff, "sections", query).await
}

/// `GET /admin/tags/`
pub async fn tags(
    State(state): State<AppState>,
    staff: Staff,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    list(&state, &staff, "tags", query).await
}

/// `POST /admin/sections/{id}`
pub async fn change_section(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    change(&state, &staff, "sections", &id, headers, body).await
}

/// `POST /admin/tags/{id}`
pub async fn change_tag(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    change(&state, &staff, "tags", &id, headers, body).await
}

async fn list(
    state: &AppState,
    staff: &Staff,
    segment: &str,
    query: Option<String>,
) -> Result<Response, AppError> {
    require_editor(staff)?;
    let notice = form::query_value(query.as_deref(), "done").and_then(|done| match done.as_str() {
        "saved" => Some("Saved."),
        "merged" => Some("Merged: its articles and its old address moved to the other."),
        "deleted" => Some("Deleted."),
        _ => None,
    });
    render(state, staff, segment, notice, None).await
}

/// A section's or tag's form: `action` = `save` (name, slug, description), `merge` (into),
/// or `delete`.
async fn change(
    state: &AppState,
    staff: &Staff,
    segment: &str,
    id: &str,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    require_editor(staff)?;
    let pairs = form::read_pairs(&headers, body).await?;
    staff.check_csrf(&pairs)?;
    let (kind, segment_name) = kind_of(segment)?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let value = |name| form::first(&pairs, name).unwrap_or_default();
    let services = &state.services;
    let (done, result) = match value("action") {
        "merge" => {
            let into = value("into").parse().unwrap_or(0);
            ("merged", terms::merge(services, &staff.user, kind, id, into).await)
        }
        "delete" => ("deleted", terms::delete(services, &staff.user, kind, id).await),
        _ => {
            let fields = [value("name"), value("slug"), value("description")];
            ("saved", terms::update(services, &staff.user, kind, id, fields).await)
        }
    };
    match result {
        Ok(()) => Ok(see_other(&format!("/admin/{segment_name}/?done={done}"))),
        Err(TermError::Invalid(errors)) => {
            render(state, staff, segment_name, None, Some((id, pairs.clone(), errors))).await
        }
        Err(TermError::InUse(n)) => Err(AppError::Invalid(format!(
            "{n} {} use it: merge it into another instead.",
            if n == 1 { "article" } else { "articles" }
        ))),
        Err(TermError::NotFound) => Err(AppError::NotFound),
        Err(TermError::Forbidden) => {
            Err(AppError::Forbidden("Editors and admins look after sections and tags.".into()))
        }
        Err(TermError::Store(e)) => Err(e.into()),
    }
}
