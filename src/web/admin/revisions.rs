//! An article's revisions: the list, what each changed, and restoring one.

use askama::Template;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::articles::editable;
use super::{Nav, Staff, page, parse_id, see_other};
use crate::domain::time;
use crate::publishing::{self, Action};
use crate::store::{Article, Revision};
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
    id: i64,
    when: String,
    by: String,
    headline: String,
}

#[derive(Template)]
#[template(path = "admin/revision.html")]
struct ShowPage<'a> {
    layout: Layout<'a>,
    nav: Nav,
    article: &'a Article,
    revision: &'a Revision,
    when: String,
    changes: Vec<FieldDiff>,
}

/// Reads one field of a revision.
type FieldOf = fn(&Revision) -> String;

/// One field's change from the revision before.
struct FieldDiff {
    label: &'static str,
    lines: Vec<DiffLine>,
}

struct DiffLine {
    /// `ins`, `del` or `same`.
    kind: &'static str,
    text: String,
}

async fn author_of(state: &AppState, user_id: Option<i64>) -> Result<String, AppError> {
    Ok(match user_id {
        Some(id) => {
            state.store.user(id).await?.map_or("a former account".into(), |u| u.author.name)
        }
        None => "the command line".into(),
    })
}

/// `GET /admin/articles/{id}/revisions/`
pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let article = editable(&state, &staff, &id).await?;
    let tz = &state.config.timezone;
    let mut rows = Vec::new();
    for revision in state.store.revisions(article.id).await? {
        rows.push(RevisionRow {
            id: revision.id,
            when: time::date_and_time(revision.created_at, tz),
            by: author_of(&state, revision.user_id).await?,
            headline: revision.headline,
        });
    }
    let template = ListPage {
        layout: Layout::new(&state.config, &format!("Revisions: {}", article.headline)),
        nav: staff.nav(),
        article: &article,
        rows,
    };
    Ok(page(StatusCode::OK, template.render()?))
}

/// The revision `revision` of article `id`.
async fn find(
    state: &AppState,
    staff: &Staff,
    id: &str,
    revision: &str,
) -> Result<(Article, Revision), AppError> {
    let article = editable(state, staff, id).await?;
    let revision = state.store.revision(parse_id(revision)?).await?.ok_or(AppError::NotFound)?;
    if revision.article_id != article.id {
        return Err(AppError::NotFound);
    }
    Ok((article, revision))
}

/// `GET /admin/articles/{id}/revisions/{revision}/`: what this revision changed.
pub async fn show(
    State(state): State<AppState>,
    staff: Staff,
    Path((id, revision)): Path<(String, String)>,
) -> Result<Response, AppError> {
    let (article, revision) = find(&state, &staff, &id, &revision).await?;
    let all = state.store.revisions(article.id).await?;
    let before = all.iter().find(|r| r.id < revision.id);
    let field = |r: Option<&Revision>, get: fn(&Revision) -> String| r.map(get).unwrap_or_default();
    let fields: [(&'static str, FieldOf); 7] = [
        ("Headline", |r| r.headline.clone()),
        ("Standfirst", |r| r.standfirst.clone()),
        ("Slug", |r| r.slug.clone()),
        ("Section", |r| r.section.clone()),
        ("Tags", |r| r.tags.clone()),
        ("Featured image", |r| r.image_url.clone().unwrap_or_default()),
        ("Body", |r| r.body_markdown.clone()),
    ];
    let changes = fields
        .iter()
        .map(|(label, get)| FieldDiff {
            label,
            lines: diff(&field(before, *get), &field(Some(&revision), *get)),
        })
        .filter(|d| d.lines.iter().any(|l| l.kind != "same"))
        .collect();
    let template = ShowPage {
        layout: Layout::new(&state.config, "Revision"),
        nav: staff.nav(),
        when: time::date_and_time(revision.created_at, &state.config.timezone),
        article: &article,
        revision: &revision,
        changes,
    };
    Ok(page(StatusCode::OK, template.render()?))
}

fn diff(old: &str, new: &str) -> Vec<DiffLine> {
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
    let pairs = form::read_pairs(&headers, body, 16 * 1024).await?;
    staff.check_csrf(&pairs)?;
    let (article, revision) = find(&state, &staff, &id, &revision).await?;
    let lead = publishing::lead_id(&*state.store).await? == Some(article.id);
    let input = publishing::input_from_revision(&revision, lead);
    let tz = &state.config.timezone;
    match publishing::update(&*state.store, tz, &staff.user, &article, &input, Action::Save).await {
        Ok(()) => Ok(see_other(&format!("/admin/articles/{}/?saved=restored", article.id))),
        Err(publishing::PublishError::Fields(errors)) => Err(AppError::Forbidden(format!(
            "This revision cannot be restored as it is: {}",
            errors.iter().map(|(_, m)| m.as_str()).collect::<Vec<_>>().join(" ")
        ))),
        Err(publishing::PublishError::Store(e)) => Err(e.into()),
        Err(_) => Err(AppError::Forbidden("You may edit your own articles only.".into())),
    }
}
