//! The article list, the editor (write, preview, save, schedule, publish, unpublish), the
//! staff preview of an unpublished article, and corrections.

use askama::Template;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiff::tz::TimeZone;

use super::{Nav, Staff, page, parse_id, see_other};
use crate::domain::{ArticleStatus, NoteKind, text, time};
use crate::publishing::{self, Action, EditorInput, PublishError};
use crate::store::{Article, ArticleQuery, ArticleSummary, Author, Section};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::form;
use crate::web::layout::Layout;
use crate::web::story::{Story, byline};

const PER_PAGE: u64 = 50;
/// Editor forms carry whole articles.
const FORM_LIMIT: usize = 2 * 1024 * 1024;

#[derive(Template)]
#[template(path = "admin/articles.html")]
struct ListPage<'a> {
    layout: Layout<'a>,
    nav: Nav,
    rows: Vec<Row>,
    total: u64,
    filter: Filter,
    authors: Vec<Author>,
    sections: Vec<Section>,
    statuses: [&'static str; 3],
    newer: Option<String>,
    older: Option<String>,
    may_filter_authors: bool,
}

struct Row {
    id: i64,
    headline: String,
    status: &'static str,
    byline: String,
    section: String,
    updated: String,
    replies: i64,
    public_url: Option<String>,
}

#[derive(Default)]
struct Filter {
    status: String,
    author: String,
    section: String,
    q: String,
    page: u64,
}

impl Filter {
    fn from_query(query: Option<&str>) -> Self {
        let value = |name| form::query_value(query, name).unwrap_or_default();
        Self {
            status: value("status"),
            author: value("author"),
            section: value("section"),
            q: value("q"),
            page: value("page").parse().ok().filter(|p| *p >= 1).unwrap_or(1),
        }
    }

    /// The list's address for another page, filters kept.
    fn page_url(&self, page: u64) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("status", &self.status),
            ("author", &self.author),
            ("section", &self.section),
            ("q", &self.q),
        ] {
            if !value.is_empty() {
                query.append_pair(name, value);
            }
        }
        query.append_pair("page", &page.to_string());
        format!("/admin/?{}", query.finish())
    }
}

pub async fn to_list() -> Response {
    see_other("/admin/")
}

/// `/admin/`: articles, newest change first; authors see their own only.
pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let filter = Filter::from_query(query.as_deref());
    let mut article_query = ArticleQuery {
        status: ArticleStatus::parse(&filter.status),
        author_id: filter.author.parse().ok(),
        section_id: filter.section.parse().ok(),
        headline: Some(filter.q.clone()).filter(|q| !q.trim().is_empty()),
        offset: (filter.page - 1) * PER_PAGE,
        limit: PER_PAGE,
    };
    let may_filter_authors = staff.user.role.edits_all_articles();
    if !may_filter_authors {
        article_query.author_id = Some(staff.user.author.id);
    }
    let (found, total) = state.store.list_articles(&article_query).await?;
    let tz = &state.config.timezone;
    let template = ListPage {
        layout: Layout::new(&state.config, "Articles"),
        nav: staff.nav(),
        rows: found.into_iter().map(|a| row(a, tz)).collect(),
        total,
        newer: (filter.page > 1).then(|| filter.page_url(filter.page - 1)),
        older: (filter.page * PER_PAGE < total).then(|| filter.page_url(filter.page + 1)),
        filter,
        authors: state.store.authors().await?,
        sections: state.store.sections().await?,
        statuses: ["draft", "scheduled", "published"],
        may_filter_authors,
    };
    Ok(page(StatusCode::OK, template.render()?))
}

fn row(a: ArticleSummary, tz: &TimeZone) -> Row {
    let public_url = (a.status == ArticleStatus::Published)
        .then(|| publishing::article_path(a.date_path.as_deref().unwrap_or_default(), &a.slug));
    Row {
        id: a.id,
        byline: byline(a.author_names.iter().map(String::as_str)),
        section: a.section_name.unwrap_or_default(),
        updated: time::date_and_time(a.updated_at, tz),
        status: a.status.as_str(),
        headline: a.headline,
        replies: a.reply_count,
        public_url,
    }
}

#[derive(Template)]
#[template(path = "admin/editor.html")]
struct EditorPage<'a> {
    layout: Layout<'a>,
    nav: Nav,
    article: Option<&'a Article>,
    input: &'a EditorInput,
    errors: &'a [(&'static str, String)],
    authors: Vec<Author>,
    sections: Vec<Section>,
    /// The rendered body, after a Preview.
    preview: Option<String>,
    publish_at: String,
    notice: Option<&'static str>,
    notes: Vec<crate::store::ArticleNote>,
    public_url: Option<String>,
    tz_name: &'a str,
}

impl EditorPage<'_> {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str())
    }

    fn has_author(&self, id: &i64) -> bool {
        self.input.author_ids.contains(id)
    }

    fn status(&self) -> &'static str {
        self.article.map_or("new", |a| a.status.as_str())
    }

    fn scheduled_for(&self) -> Option<String> {
        let article = self.article?;
        (article.status == ArticleStatus::Scheduled).then(|| self.publish_at.clone())
    }
}

struct EditorView<'a> {
    article: Option<&'a Article>,
    input: &'a EditorInput,
    errors: &'a [(&'static str, String)],
    preview: Option<String>,
    publish_at: String,
    notice: Option<&'static str>,
}

async fn render_editor(
    state: &AppState,
    staff: &Staff,
    view: EditorView<'_>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let title = view.article.map_or("New article".to_owned(), |a| format!("Edit: {}", a.headline));
    let notes = match view.article {
        Some(a) => state.store.notes(a.id).await?,
        None => Vec::new(),
    };
    let template = EditorPage {
        layout: Layout::new(&state.config, &title),
        nav: staff.nav(),
        public_url: view
            .article
            .filter(|a| a.status == ArticleStatus::Published)
            .map(publishing::public_path),
        article: view.article,
        input: view.input,
        errors: view.errors,
        authors: state.store.authors().await?,
        sections: state.store.sections().await?,
        preview: view.preview,
        publish_at: view.publish_at,
        notice: view.notice,
        notes,
        tz_name: state.config.timezone.iana_name().unwrap_or("UTC"),
    };
    Ok(page(status, template.render()?))
}

/// `GET /admin/articles/new`
pub async fn new(State(state): State<AppState>, staff: Staff) -> Result<Response, AppError> {
    let input = EditorInput {
        author_ids: vec![staff.user.author.id],
        replies_open: true,
        ..Default::default()
    };
    let view = EditorView {
        article: None,
        input: &input,
        errors: &[],
        preview: None,
        publish_at: String::new(),
        notice: None,
    };
    render_editor(&state, &staff, view, StatusCode::OK).await
}

/// The article `id`, if it exists and `staff` may edit it.
pub(super) async fn editable(
    state: &AppState,
    staff: &Staff,
    id: &str,
) -> Result<Article, AppError> {
    let article = state.store.article(parse_id(id)?).await?.ok_or(AppError::NotFound)?;
    if publishing::can_edit(&staff.user, &article) {
        Ok(article)
    } else {
        Err(AppError::Forbidden("You may edit your own articles only.".into()))
    }
}

/// `GET /admin/articles/{id}/`
pub async fn edit(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let article = editable(&state, &staff, &id).await?;
    let lead = publishing::lead_id(&*state.store).await? == Some(article.id);
    let input = publishing::input_from_article(&article, lead);
    let notice = match form::query_value(query.as_deref(), "saved").as_deref() {
        Some("draft") => Some("Saved."),
        Some("published") => Some("Published."),
        Some("scheduled") => Some("Scheduled."),
        Some("unpublished") => Some("Unpublished: the article is a draft again."),
        Some("restored") => Some("Revision restored."),
        Some("note") => Some("Note added."),
        _ => None,
    };
    let publish_at = match (article.status, article.published_at) {
        (ArticleStatus::Scheduled, Some(at)) => local_input(at, &state.config.timezone),
        _ => String::new(),
    };
    let view = EditorView {
        article: Some(&article),
        input: &input,
        errors: &[],
        preview: None,
        publish_at,
        notice,
    };
    render_editor(&state, &staff, view, StatusCode::OK).await
}

/// What the editor's form sent.
struct Submitted {
    input: EditorInput,
    action: String,
    publish_at: String,
}

fn submitted(pairs: &[(String, String)]) -> Submitted {
    let value = |name| form::first(pairs, name).unwrap_or_default().to_owned();
    let input = EditorInput {
        headline: value("headline"),
        standfirst: value("standfirst"),
        slug: value("slug"),
        author_ids: form::all(pairs, "authors").iter().filter_map(|id| id.parse().ok()).collect(),
        section: value("section"),
        tags: value("tags"),
        body_markdown: value("body").replace("\r\n", "\n"),
        image_url: value("image_url"),
        image_caption: value("image_caption"),
        image_alt: value("image_alt"),
        replies_open: form::first(pairs, "replies_open").is_some(),
        lead: form::first(pairs, "lead").is_some(),
    };
    Submitted { input, action: value("action"), publish_at: value("publish_at") }
}

/// `2026-11-25T09:00` in the site's time zone, as a `datetime-local` field sends it.
fn parse_local(raw: &str, tz: &TimeZone) -> Option<i64> {
    let raw = raw.trim();
    let civil = jiff::civil::DateTime::strptime("%Y-%m-%dT%H:%M", raw)
        .or_else(|_| jiff::civil::DateTime::strptime("%Y-%m-%dT%H:%M:%S", raw))
        .ok()?;
    Some(civil.to_zoned(tz.clone()).ok()?.timestamp().as_second())
}

fn local_input(unix: i64, tz: &TimeZone) -> String {
    jiff::Timestamp::from_second(unix)
        .map(|t| t.to_zoned(tz.clone()).strftime("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

/// The button pressed, as an action; `None` for Preview.
fn action(
    submitted: &Submitted,
    tz: &TimeZone,
) -> Result<Option<Action>, Vec<(&'static str, String)>> {
    Ok(Some(match submitted.action.as_str() {
        "preview" => return Ok(None),
        "publish" => Action::Publish,
        "unpublish" => Action::Unpublish,
        "schedule" => match parse_local(&submitted.publish_at, tz) {
            Some(at) => Action::Schedule(at),
            None => {
                return Err(vec![(
                    "publish_at",
                    "Give the date and time to publish at, such as 2026-11-25 09:00.".into(),
                )]);
            }
        },
        _ => Action::Save,
    }))
}

fn saved_label(action: Action) -> &'static str {
    match action {
        Action::Save => "draft",
        Action::Publish => "published",
        Action::Schedule(_) => "scheduled",
        Action::Unpublish => "unpublished",
    }
}

/// `POST /admin/articles/new`
pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let pairs = form::read_pairs(&headers, body, FORM_LIMIT).await?;
    staff.check_csrf(&pairs)?;
    submit(&state, &staff, None, &pairs).await
}

/// `POST /admin/articles/{id}/`
pub async fn save(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let pairs = form::read_pairs(&headers, body, FORM_LIMIT).await?;
    staff.check_csrf(&pairs)?;
    let article = editable(&state, &staff, &id).await?;
    submit(&state, &staff, Some(&article), &pairs).await
}

/// The editor's form sent for a new article (`None`) or an existing one: Preview renders it
/// back; any other button saves, then `303` to the editor; refused input gets `422` with the
/// messages and everything typed.
async fn submit(
    state: &AppState,
    staff: &Staff,
    article: Option<&Article>,
    pairs: &[(String, String)],
) -> Result<Response, AppError> {
    let sent = submitted(pairs);
    let tz = &state.config.timezone;
    let view = |errors, preview| EditorView {
        article,
        input: &sent.input,
        errors,
        preview,
        publish_at: sent.publish_at.clone(),
        notice: None,
    };
    let refused = StatusCode::UNPROCESSABLE_ENTITY;
    let action = match action(&sent, tz) {
        Ok(Some(action)) => action,
        Ok(None) => {
            let preview = Some(text::markdown_html(&sent.input.body_markdown));
            return render_editor(state, staff, view(&[], preview), StatusCode::OK).await;
        }
        Err(errors) => return render_editor(state, staff, view(&errors, None), refused).await,
    };
    let (store, user, input) = (&*state.store, &staff.user, &sent.input);
    let saved = match article {
        None => publishing::create(store, tz, user, input, action).await,
        Some(article) => {
            publishing::update(store, tz, user, article, input, action).await.map(|()| article.id)
        }
    };
    match saved {
        Ok(id) => Ok(see_other(&format!("/admin/articles/{id}/?saved={}", saved_label(action)))),
        Err(PublishError::Fields(errors)) => {
            render_editor(state, staff, view(&errors, None), refused).await
        }
        Err(e) => Err(publish_error(e)),
    }
}

fn publish_error(e: PublishError) -> AppError {
    match e {
        PublishError::Forbidden => {
            AppError::Forbidden("You may edit your own articles only.".into())
        }
        PublishError::Store(e) => e.into(),
        PublishError::Invalid(message) => AppError::Forbidden(message),
        PublishError::Fields(_) => AppError::BadRequest("The article has errors."),
    }
}

#[derive(Template)]
#[template(path = "admin/preview.html")]
struct PreviewPage<'a> {
    layout: Layout<'a>,
    article: &'a Article,
    story: Story,
}

/// `GET /admin/articles/{id}/preview`: the article as readers will see it, whatever its status.
pub async fn preview(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let article = editable(&state, &staff, &id).await?;
    let notes = state.store.notes(article.id).await?;
    let template = PreviewPage {
        layout: Layout::new(&state.config, &article.headline),
        story: Story::new(&article, notes, &state.config.timezone),
        article: &article,
    };
    Ok(page(StatusCode::OK, template.render()?))
}

/// `POST /admin/preview`: Markdown in, sanitized HTML out, for the live preview.
pub async fn live_preview(
    staff: Staff,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let pairs = form::read_pairs(&headers, body, FORM_LIMIT).await?;
    staff.check_csrf(&pairs)?;
    // Sanitized by ammonia inside `markdown_html`, exactly as when the article is saved.
    let html = text::markdown_html(form::first(&pairs, "body").unwrap_or_default());
    Ok(page(StatusCode::OK, html))
}

/// `POST /admin/articles/{id}/notes`: a correction or update under a published article.
pub async fn add_note(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let pairs = form::read_pairs(&headers, body, FORM_LIMIT).await?;
    staff.check_csrf(&pairs)?;
    let article = editable(&state, &staff, &id).await?;
    let kind = NoteKind::parse(form::first(&pairs, "kind").unwrap_or_default())
        .ok_or(AppError::BadRequest("Choose a correction or an update."))?;
    let note = form::first(&pairs, "note").unwrap_or_default();
    match publishing::add_note(&*state.store, &staff.user, &article, kind, note).await {
        Ok(()) => Ok(see_other(&format!("/admin/articles/{}/?saved=note", article.id))),
        Err(PublishError::Fields(_)) => {
            Err(AppError::BadRequest("Write the note: at most 2,000 characters."))
        }
        Err(e) => Err(publish_error(e)),
    }
}
