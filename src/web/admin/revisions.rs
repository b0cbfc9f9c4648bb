//! An article's revisions: the list, what each changed, and restoring one.

use askama::Template;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::articles::{Notice, editor_url};
use super::{Nav, Staff, page, parse_id, see_other};
use crate::domain::{ArticleId, RevisionId, time};
use crate::services::publishing::{self, PublishError};
use crate::store::Article;
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::form;
use crate::web::layout::Layout;

#[derive(Template)]
#[template(path = "admin/revisions.html")]
struct ListPage<'a> {
    layout: Layout<'a>,
    nav: Nav,
    article: &'a Article,
    rows: Vec<RevisionRow>,
}

struct RevisionRow {
    id: RevisionId,
    /// Saved, Published, Scheduled, Back to draft, Restored, Imported.
    kind: &'static str,
    when: String,
    by: String,
    headline: String,
    /// The newest: the article as it is now.
    current: bool,
}

#[derive(Template)]
#[template(path = "admin/revision.html")]
pub(super) struct ShowPage<'a> {
    pub(super) layout: Layout<'a>,
    pub(super) nav: Nav,
    /// The editor's address, `/admin/articles/12` or `/admin/pages/3` (no final slash).
    pub(super) editor: String,
    pub(super) revision_id: i64,
    pub(super) when: String,
    pub(super) changes: Vec<FieldDiff>,
}

/// The page that asks before a revision is restored (the current text stays as a revision).
pub(super) fn ask_to_restore(
    state: &AppState,
    staff: &Staff,
    editor: &str,
    revision: i64,
    when: &str,
) -> Result<Response, AppError> {
    super::Confirm {
        layout: Layout::new(&state.config, "Restore a revision"),
        nav: staff.nav(),
        title: &format!("Restore the revision of {when}?"),
        lines: vec![
            "Its text replaces the current one, which stays in the list of revisions: you can \
             go back to it."
                .to_owned(),
            "A published article changes on the site at once.".to_owned(),
        ],
        action: format!("{editor}/revisions/{revision}/"),
        hidden: Vec::new(),
        button: "Restore this revision",
        danger: false,
        cancel: format!("{editor}/revisions/{revision}/"),
    }
    .response()
}

/// A field of a revision, by its label.
pub(super) type Field<R> = (&'static str, fn(&R) -> String);

/// What each of `fields` changed from the revision before (`None`: the first).
pub(super) fn changes<R>(fields: &[Field<R>], before: Option<&R>, this: &R) -> Vec<FieldDiff> {
    fields
        .iter()
        .map(|(label, get)| FieldDiff {
            label,
            lines: diff(&before.map(get).unwrap_or_default(), &get(this)),
        })
        .filter(|d| d.lines.iter().any(|l| l.kind != "same"))
        .collect()
}

/// One field's change from the revision before.
pub(super) struct FieldDiff {
    pub(super) label: &'static str,
    pub(super) lines: Vec<DiffLine>,
}

pub(super) struct DiffLine {
    /// `ins`, `del` or `same`.
    pub(super) kind: &'static str,
    pub(super) text: String,
}

/// `GET /admin/articles/{id}/revisions/`
pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (article, revisions) =
        publishing::revisions(&state.services, &staff.user, parse_id(&id)?).await?;
    let tz = &state.config.timezone;
    let rows = revisions
        .into_iter()
        .enumerate()
        .map(|(i, (revision, by))| RevisionRow {
            id: revision.id,
            kind: revision.kind.label(),
            when: time::date_and_seconds(revision.created_at, tz),
            by: if revision.kind == crate::domain::RevisionKind::Imported
                && revision.user_id.is_none()
            {
                "the import".to_owned()
            } else {
                by
            },
            headline: revision.headline,
            current: i == 0,
        })
        .collect();
    let template = ListPage {
        layout: Layout::new(&state.config, &format!("Revisions: {}", article.headline)),
        nav: staff.nav(),
        article: &article,
        rows,
    };
    Ok(page(StatusCode::OK, template.render()?))
}

/// `GET /admin/articles/{id}/revisions/{revision}/`: what this revision changed.
pub async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Path((id, revision)): Path<(String, String)>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, AppError> {
    let (id, revision): (ArticleId, RevisionId) = (parse_id(&id)?, parse_id(&revision)?);
    let (article, revision, before, _) =
        publishing::revision_of(&state.services, &staff.user, id, revision).await?;
    let editor = format!("/admin/articles/{}", article.id);
    let when = time::date_and_seconds(revision.created_at, &state.config.timezone);
    if form::query_value(query.as_deref(), "restore").is_some() {
        return ask_to_restore(&state, &staff, &editor, revision.id.get(), &when);
    }
    let fields = super::articles::REVISION_FIELDS;
    let template = ShowPage {
        layout: Layout::new(&state.config, "Revision"),
        nav: staff.nav(),
        editor,
        revision_id: revision.id.get(),
        when,
        changes: changes(&fields, before.as_ref(), &revision),
    };
    Ok(page(StatusCode::OK, template.render()?))
}

pub(super) fn diff(old: &str, new: &str) -> Vec<DiffLine> {
    use similar::{ChangeTag, TextDiff};
    TextDiff::from_lines(old, new)
        .iter_all_changes()
        .map(|change| DiffLine {
            kind: match change.tag() {
                ChangeTag::Insert => "ins",
                ChangeTag::Delete => "del",
                ChangeTag::Equal => "same",
            },
            text: change.value().trim_end_matches('\n').to_owned(),
        })
        .collect()
}

/// `POST /admin/articles/{id}/revisions/{revision}/`: makes the article as it was (saved as a
/// new revision; the status stays).
pub async fn restore(
    State(state): State<AppState>,
    staff: Staff,
    Path((id, revision)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let pairs = form::read_pairs(&headers, body).await?;
    staff.check_csrf(&pairs)?;
    let (id, revision): (ArticleId, RevisionId) = (parse_id(&id)?, parse_id(&revision)?);
    match publishing::restore(&state.services, &staff.user, id, revision).await {
        Ok(()) => Ok(see_other(&editor_url(id, Notice::Restored))),
        Err(PublishError::Fields(errors)) => Err(AppError::Invalid(format!(
            "This revision cannot be restored as it is: {}",
            errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join(" ")
        ))),
        Err(e) => Err(e.into()),
    }
}
