//! The site's static pages in the newsroom: the list, the editor (write, preview, save,
//! publish, back to draft), the preview as readers see it, and revisions.

use askama::Template;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::revisions::{Field, ShowPage, changes};
use super::{Nav, Staff, page, parse_id, see_other};
use crate::domain::{FieldError, PageId, PageRevisionId, message_for, text, time};
use crate::services::pages::{self, PageAction, PageError, PageInput};
use crate::store::{Page, PageRevision};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::form;
use crate::web::layout::Layout;

impl From<PageError> for AppError {
    fn from(e: PageError) -> Self {
        match e {
            PageError::Forbidden => {
                Self::Forbidden("Only editors and admins look after the site's pages.".into())
            }
            PageError::NotFound => Self::NotFound,
            PageError::Store(e) => Self::Store(e),
            PageError::Fields(errors) => {
                Self::Invalid(errors.into_iter().map(|e| e.message).collect::<Vec<_>>().join(" "))
            }
        }
    }
}

#[derive(Template)]
#[template(path = "admin/pages.html")]
struct ListPage<'a> {
    layout: Layout<'a>,
    nav: Nav,
    rows: Vec<Row>,
    deleted: bool,
}

struct Row {
    id: PageId,
    title: String,
    /// Indented by depth in the list.
    depth: usize,
    address: String,
    published: bool,
    footer: String,
    updated: String,
}

/// `GET /admin/pages/`: every page, parents before their children.
pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let deleted = form::query_value(query.as_deref(), "deleted").is_some();
    let found = pages::list(&state.services, &staff.user).await?;
    let tz = &state.config.timezone;
    let rows = found
        .into_iter()
        .map(|p| Row {
            id: p.id,
            depth: p.path.matches('/').count(),
            address: p.public_path(),
            published: p.published,
            footer: p.footer_position.map(|n| n.to_string()).unwrap_or_default(),
            updated: time::date_and_time(p.updated_at, tz),
            title: p.title,
        })
        .collect();
    let template =
        ListPage { layout: Layout::new(&state.config, "Pages"), nav: staff.nav(), rows, deleted };
    Ok(page(StatusCode::OK, template.render()?))
}

#[derive(Template)]
#[template(path = "admin/page_editor.html")]
struct EditorPage<'a> {
    layout: Layout<'a>,
    nav: Nav,
    page: Option<&'a Page>,
    input: &'a PageInput,
    errors: &'a [FieldError],
    /// The pages this one may sit under: `(id, title with its address)`.
    parents: Vec<(PageId, String)>,
    preview: Option<String>,
    notice: Option<&'static str>,
}

impl EditorPage<'_> {
    fn error(&self, field: &str) -> Option<&str> {
        message_for(self.errors, field)
    }

    fn status(&self) -> &'static str {
        match self.page {
            None => "new",
            Some(p) if p.published => "published",
            Some(_) => "draft",
        }
    }

    fn is_parent(&self, id: &PageId) -> bool {
        self.input.parent_id == Some(*id)
    }
}

fn notice(key: &str) -> Option<&'static str> {
    Some(match key {
        "saved" => "Saved.",
        "published" => "Published: readers can see the page.",
        "unpublished" => "Back to draft: readers no longer see the page.",
        "restored" => "Restored: the page is as that revision had it (saved as a new revision).",
        _ => return None,
    })
}

fn editor_url(id: PageId, key: &str) -> String {
    format!("/admin/pages/{id}/?saved={key}")
}

struct View<'a> {
    input: &'a PageInput,
    errors: &'a [FieldError],
    preview: Option<String>,
    notice: Option<&'static str>,
}

async fn render_editor(
    state: &AppState,
    staff: &Staff,
    id: Option<PageId>,
    view: View<'_>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let (found, all) = pages::editor(&state.services, &staff.user, id).await?;
    let own = found.as_ref();
    // Not itself, nor a page below it.
    let parents = all
        .iter()
        .filter(|p| {
            own.is_none_or(|own| p.id != own.id && !p.path.starts_with(&format!("{}/", own.path)))
        })
        .map(|p| (p.id, format!("{} ({})", p.title, p.public_path())))
        .collect();
    let title = own.map_or("New page".to_owned(), |p| format!("Edit: {}", p.title));
    let template = EditorPage {
        layout: Layout::new(&state.config, &title),
        nav: staff.nav(),
        page: own,
        input: view.input,
        errors: view.errors,
        parents,
        preview: view.preview,
        notice: view.notice,
    };
    Ok(page(status, template.render()?))
}

/// `GET /admin/pages/new`
pub async fn new(State(state): State<AppState>, staff: Staff) -> Result<Response, AppError> {
    let input = PageInput::default();
    let view = View { input: &input, errors: &[], preview: None, notice: None };
    render_editor(&state, &staff, None, view, StatusCode::OK).await
}

/// `GET /admin/pages/{id}/`
pub async fn edit(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let id: PageId = parse_id(&id)?;
    let (found, _) = pages::editor(&state.services, &staff.user, Some(id)).await?;
    let found = found.ok_or(AppError::NotFound)?;
    let input = PageInput::from_page(&found);
    let notice = form::query_value(query.as_deref(), "saved").and_then(|k| notice(&k));
    let view = View { input: &input, errors: &[], preview: None, notice };
    render_editor(&state, &staff, Some(id), view, StatusCode::OK).await
}

/// `POST /admin/pages/new`
pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let pairs = form::read_pairs(&headers, body).await?;
    staff.check_csrf(&pairs)?;
    submit(&state, &staff, None, &pairs).await
}

/// `POST /admin/pages/{id}/`
pub async fn save(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let pairs = form::read_pairs(&headers, body).await?;
    staff.check_csrf(&pairs)?;
    submit(&state, &staff, Some(parse_id(&id)?), &pairs).await
}

/// Preview renders the body back; the other buttons save, then `303` to the editor; refused
/// input gets `422` with the messages and everything typed.
async fn submit(
    state: &AppState,
    staff: &Staff,
    id: Option<PageId>,
    pairs: &[(String, String)],
) -> Result<Response, AppError> {
    let value = |name| form::first(pairs, name).unwrap_or_default().to_owned();
    let input = PageInput {
        title: value("title"),
        slug: value("slug"),
        parent_id: PageId::parse(&value("parent")),
        body_markdown: value("body").replace("\r\n", "\n"),
        footer_position: value("footer_position"),
        replies_open: form::first(pairs, "replies_open").is_some(),
    };
    let (action, key) = match value("action").as_str() {
        "preview" => {
            let preview = Some(text::markdown_html(&input.body_markdown));
            let view = View { input: &input, errors: &[], preview, notice: None };
            return render_editor(state, staff, id, view, StatusCode::OK).await;
        }
        "publish" => (PageAction::Publish, "published"),
        "unpublish" => (PageAction::Unpublish, "unpublished"),
        _ => (PageAction::Save, "saved"),
    };
    match pages::save(&state.services, &staff.user, id, &input, action).await {
        Ok(id) => Ok(see_other(&editor_url(id, key))),
        Err(PageError::Fields(errors)) => {
            let view = View { input: &input, errors: &errors, preview: None, notice: None };
            render_editor(state, staff, id, view, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "admin/page_preview.html")]
struct PreviewPage<'a> {
    layout: Layout<'a>,
    page: &'a Page,
}

/// `POST /admin/pages/{id}/delete`: a draft page and its revisions, gone; `303` to the list.
pub async fn delete(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let pairs = form::read_pairs(&headers, body).await?;
    staff.check_csrf(&pairs)?;
    let id: PageId = parse_id(&id)?;
    if form::first(&pairs, "confirm").is_none() {
        return Err(AppError::Invalid("Tick the box to say you mean it, then delete.".into()));
    }
    match pages::delete(&state.services, &staff.user, id).await {
        Ok(()) => Ok(see_other("/admin/pages/?deleted=1")),
        Err(PageError::Fields(errors)) => Err(AppError::Invalid(
            errors.into_iter().map(|e| e.message).collect::<Vec<_>>().join(" "),
        )),
        Err(e) => Err(e.into()),
    }
}

/// `GET /admin/pages/{id}/preview`: the page as readers will see it, whatever its status.
pub async fn preview(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (found, _) = pages::editor(&state.services, &staff.user, Some(parse_id(&id)?)).await?;
    let found = found.ok_or(AppError::NotFound)?;
    let template = PreviewPage { layout: Layout::new(&state.config, &found.title), page: &found };
    Ok(page(StatusCode::OK, template.render()?))
}

#[derive(Template)]
#[template(path = "admin/page_revisions.html")]
struct RevisionsPage<'a> {
    layout: Layout<'a>,
    nav: Nav,
    page: &'a Page,
    rows: Vec<(PageRevisionId, String, String, String)>,
}

/// `GET /admin/pages/{id}/revisions/`
pub async fn revisions(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let (found, revisions) = pages::revisions(&state.services, &staff.user, parse_id(&id)?).await?;
    let tz = &state.config.timezone;
    let rows = revisions
        .into_iter()
        .map(|(r, by)| (r.id, time::date_and_seconds(r.created_at, tz), by, r.title))
        .collect();
    let template = RevisionsPage {
        layout: Layout::new(&state.config, &format!("Revisions: {}", found.title)),
        nav: staff.nav(),
        page: &found,
        rows,
    };
    Ok(page(StatusCode::OK, template.render()?))
}

/// `GET /admin/pages/{id}/revisions/{revision}/`: what this revision changed.
pub async fn revision(
    State(state): State<AppState>,
    staff: Staff,
    Path((id, revision)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let (id, revision): (PageId, PageRevisionId) = (parse_id(&id)?, parse_id(&revision)?);
    let (found, this, before) = pages::revision(&state.services, &staff.user, id, revision).await?;
    let when = time::date_and_seconds(this.created_at, &state.config.timezone);
    if form::query_value(query.as_deref(), "restore").is_some() {
        let editor = format!("/admin/pages/{}", found.id);
        return super::revisions::ask_to_restore(&state, &staff, &editor, this.id.get(), &when);
    }
    let fields: [Field<PageRevision>; 3] = [
        ("Title", |r| r.title.clone()),
        ("Slug", |r| r.slug.clone()),
        ("Body", |r| r.body_markdown.clone()),
    ];
    let template = ShowPage {
        layout: Layout::new(&state.config, "Revision"),
        nav: staff.nav(),
        editor: format!("/admin/pages/{}", found.id),
        revision_id: this.id.get(),
        when,
        changes: changes(&fields, before.as_ref(), &this),
    };
    Ok(page(StatusCode::OK, template.render()?))
}

/// `POST /admin/pages/{id}/revisions/{revision}/`: makes the page as it was.
pub async fn restore(
    State(state): State<AppState>,
    staff: Staff,
    Path((id, revision)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let pairs = form::read_pairs(&headers, body).await?;
    staff.check_csrf(&pairs)?;
    let (id, revision): (PageId, PageRevisionId) = (parse_id(&id)?, parse_id(&revision)?);
    match pages::restore(&state.services, &staff.user, id, revision).await {
        Ok(()) => Ok(see_other(&editor_url(id, "restored"))),
        Err(PageError::Fields(errors)) => Err(AppError::Invalid(format!(
            "This revision cannot be restored as it is: {}",
            errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join(" ")
        ))),
        Err(e) => Err(e.into()),
    }
}
