//! The article list, the editor (write, preview, save, schedule, publish, unpublish), the
//! staff preview of an unpublished article, and corrections.

use askama::Template;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use jiff::tz::TimeZone;

use super::{Nav, Staff, page, parse_id, see_other};
use crate::domain::paths::article_path;
use crate::domain::{
    ArticleId, ArticleStatus, AuthorId, FieldError, NoteKind, SectionId, message_for, time,
};
use crate::services::media::{MediaError, MediaText, Upload};
use crate::services::publishing::{self, Action, EditorInput, PublishError};
use crate::store::{
    Article, ArticleNote, ArticleQuery, ArticleSort, ArticleSummary, Author, Section,
};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::form;
use crate::web::layout::Layout;
use crate::web::story::Story;
use crate::web::summary::byline;

const PER_PAGE: u64 = 50;
/// Editor forms carry whole articles.

#[derive(Template)]
#[template(path = "admin/articles.html")]
struct ListPage<'a> {
    layout: Layout<'a>,
    nav: Nav,
    rows: Vec<Row>,
    total: u64,
    filter: Filter,
    /// The table's headings, each a link that sorts by it.
    columns: Vec<Column>,
    authors: Vec<Author>,
    sections: Vec<Section>,
    statuses: [&'static str; 4],
    newer: Option<String>,
    older: Option<String>,
    may_filter_authors: bool,
    notice: Option<&'static str>,
}

pub(super) struct Row {
    pub id: ArticleId,
    pub headline: String,
    pub status: &'static str,
    pub byline: String,
    pub section: String,
    /// When it was, or is to be, published.
    pub when: String,
    pub updated: String,
    pub replies: i64,
    pub public_url: Option<String>,
    /// The front page's lead story.
    pub lead: bool,
}

/// A heading of the list's table: sorted by it, or a link that sorts by it.
struct Column {
    label: &'static str,
    url: String,
    /// `ascending` or `descending` when the list is sorted by it (`aria-sort`).
    sorted: Option<&'static str>,
}

struct Filter {
    status: String,
    author: String,
    section: String,
    q: String,
    page: u64,
    sort: ArticleSort,
    descending: bool,
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
            sort: ArticleSort::parse(&value("sort")).unwrap_or_default(),
            descending: value("dir") != "asc",
        }
    }

    /// The list's address for another page, filters and order kept.
    fn page_url(&self, page: u64) -> String {
        self.url(self.sort, self.descending, page)
    }

    fn url(&self, sort: ArticleSort, descending: bool, page: u64) -> String {
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
        if sort != ArticleSort::default() || !descending {
            query.append_pair("sort", sort.key());
            query.append_pair("dir", if descending { "desc" } else { "asc" });
        }
        if page > 1 {
            query.append_pair("page", &page.to_string());
        }
        let query = query.finish();
        if query.is_empty() {
            "/admin/articles/".into()
        } else {
            format!("/admin/articles/?{query}")
        }
    }

    /// The headings: the one sorted by turns the order round; another sorts by itself, the
    /// way its readers expect first (A to Z, the newest, the most replied-to).
    fn columns(&self) -> Vec<Column> {
        ArticleSort::ALL
            .into_iter()
            .map(|sort| {
                let current = sort == self.sort;
                let first_descending = matches!(
                    sort,
                    ArticleSort::Published | ArticleSort::Updated | ArticleSort::Replies
                );
                let descending = if current { !self.descending } else { first_descending };
                Column {
                    label: match sort {
                        ArticleSort::Headline => "Headline",
                        ArticleSort::Status => "Status",
                        ArticleSort::Byline => "Byline",
                        ArticleSort::Section => "Section",
                        ArticleSort::Published => "Published",
                        ArticleSort::Updated => "Last change",
                        ArticleSort::Replies => "Replies",
                    },
                    url: self.url(sort, descending, 1),
                    sorted: current.then_some(if self.descending {
                        "descending"
                    } else {
                        "ascending"
                    }),
                }
            })
            .collect()
    }
}

pub async fn to_list() -> Response {
    see_other("/admin/")
}

/// `/admin/articles/`: articles, the last changed first unless another order is asked for;
/// authors see their own only.
pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    RawQuery(query_string): RawQuery,
) -> Result<Response, AppError> {
    let filter = Filter::from_query(query_string.as_deref());
    let query = ArticleQuery {
        status: ArticleStatus::parse(&filter.status),
        author_id: AuthorId::parse(&filter.author),
        section_id: SectionId::parse(&filter.section),
        headline: Some(filter.q.clone()).filter(|q| !q.trim().is_empty()),
        sort: filter.sort,
        descending: filter.descending,
        trashed: filter.status == "trash",
        offset: (filter.page - 1) * PER_PAGE,
        limit: PER_PAGE,
    };
    let found = publishing::list(&state.services, &staff.user, query).await?;
    let tz = &state.config.timezone;
    let total = found.total;
    let template = ListPage {
        layout: Layout::new(&state.config, "Articles"),
        nav: staff.nav(),
        rows: found.articles.into_iter().map(|a| row(a, tz, found.lead)).collect(),
        columns: filter.columns(),
        total,
        newer: (filter.page > 1).then(|| filter.page_url(filter.page - 1)),
        older: (filter.page * PER_PAGE < total).then(|| filter.page_url(filter.page + 1)),
        filter,
        authors: found.authors,
        sections: found.sections,
        statuses: ["draft", "scheduled", "published", "trash"],
        may_filter_authors: staff.user.role.edits_all_articles(),
        notice: form::query_value(query_string.as_deref(), "deleted").map(|_| "Deleted for ever."),
    };
    Ok(page(StatusCode::OK, template.render()?))
}

pub(super) fn row(a: ArticleSummary, tz: &TimeZone, lead: Option<ArticleId>) -> Row {
    let public_url = (a.status == ArticleStatus::Published)
        .then(|| article_path(a.date_path.as_deref().unwrap_or_default(), &a.slug));
    let when = match (a.status, a.published_at) {
        (ArticleStatus::Published, Some(at)) => time::date_and_time(at, tz),
        (ArticleStatus::Scheduled, Some(at)) => {
            format!("publishes {}", time::date_and_time(at, tz))
        }
        _ => "not published".to_owned(),
    };
    Row {
        lead: lead == Some(a.id),
        when,
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

/// What the editor says after a save, by the `?saved=` its address carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    Saved,
    Published,
    Scheduled,
    Unpublished,
    Restored,
    NoteAdded,
    Trashed,
    Untrashed,
    /// Shown on the editor rendered back after an upload; never in an address.
    ImageAdded,
}

impl Notice {
    const ALL: [Notice; 8] = [
        Self::Saved,
        Self::Published,
        Self::Scheduled,
        Self::Unpublished,
        Self::Restored,
        Self::NoteAdded,
        Self::Trashed,
        Self::Untrashed,
    ];

    /// The value of `?saved=`.
    pub fn key(self) -> &'static str {
        match self {
            Self::Saved => "draft",
            Self::Published => "published",
            Self::Scheduled => "scheduled",
            Self::Unpublished => "unpublished",
            Self::Restored => "restored",
            Self::NoteAdded => "note",
            Self::Trashed => "trashed",
            Self::Untrashed => "untrashed",
            Self::ImageAdded => "image",
        }
    }

    fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|n| n.key() == key)
    }

    fn message(self) -> &'static str {
        match self {
            Self::Saved => "Saved.",
            Self::Published => "Published.",
            Self::Scheduled => "Scheduled.",
            Self::Unpublished => "Unpublished: the article is a draft again.",
            Self::Restored => "Revision restored.",
            Self::NoteAdded => "Note added.",
            Self::Trashed => "Moved to the trash: readers cannot see it.",
            Self::Untrashed => "Restored from the trash, as a draft.",
            Self::ImageAdded => {
                "Image added to the library and to the end of the body. The article is not saved yet."
            }
        }
    }

    fn after(action: Action) -> Self {
        match action {
            Action::Save => Self::Saved,
            Action::Publish => Self::Published,
            Action::Schedule(_) => Self::Scheduled,
            Action::Unpublish => Self::Unpublished,
        }
    }
}

/// An article revision's fields as its diffs show them.
pub(super) const REVISION_FIELDS: [super::revisions::Field<crate::store::Revision>; 10] = [
    ("Headline", |r| r.headline.clone()),
    ("Standfirst", |r| r.standfirst.clone()),
    ("Slug", |r| r.slug.clone()),
    ("Section", |r| r.section.clone()),
    ("Tags", |r| r.tags.clone()),
    ("Featured image", |r| r.image_url.clone().unwrap_or_default()),
    ("Search title", |r| r.seo.title.clone()),
    ("Search description", |r| r.seo.description.clone()),
    ("Social image", |r| r.seo.image.clone()),
    ("Body", |r| r.body_markdown.clone()),
];

/// The editor's address after a save, saying what happened.
pub fn editor_url(id: ArticleId, notice: Notice) -> String {
    format!("/admin/articles/{id}/?saved={}", notice.key())
}

#[derive(Template)]
#[template(path = "admin/editor.html")]
struct EditorPage<'a> {
    layout: Layout<'a>,
    nav: Nav,
    article: Option<&'a Article>,
    input: &'a EditorInput,
    errors: &'a [FieldError],
    sections: Vec<Section>,
    /// The rendered body, after a Preview.
    preview: Option<String>,
    publish_at: String,
    notice: Option<&'static str>,
    notes: Vec<ArticleNote>,
    public_url: Option<String>,
    tz_name: &'a str,
    /// Editors and admins choose the lead story and add sections; authors do not.
    places: bool,
    library: Vec<LibraryImage>,
    /// What the featured image's field names, shown beside it.
    featured: Option<FeaturedShown>,
    /// The revision the form was opened on (sent back with it).
    opened: Option<crate::domain::RevisionId>,
    /// Someone saved the article since this form was opened: who, when, and what changed.
    conflict: Option<ConflictShown>,
    /// Words in the body, as the form holds it.
    words: i64,
    /// The byline picker: each author, ticked or not, the chosen ones first in their order.
    byline: Vec<(Author, bool)>,
    /// "publishes 15 January 2030, 09:00 GMT", for a scheduled article.
    scheduled_label: Option<String>,
}

struct ConflictShown {
    by: String,
    when: String,
    changes: Vec<super::revisions::FieldDiff>,
}

/// The featured image as the editor shows it: the library's, or one elsewhere.
struct FeaturedShown {
    src: String,
    /// The host of an image elsewhere; `None` for the library's.
    external_host: Option<String>,
    /// Public pages allow this site's images only (`img_src = "self"`).
    blocked: bool,
}

fn featured_shown(url: &str, self_only: bool) -> Option<FeaturedShown> {
    let url = url.trim();
    if crate::domain::media::library_id(url).is_some() {
        return Some(FeaturedShown { src: url.to_owned(), external_host: None, blocked: false });
    }
    let parsed = url::Url::parse(url).ok().filter(|u| u.scheme() == "https")?;
    Some(FeaturedShown {
        src: parsed.to_string(),
        external_host: parsed.host_str().map(str::to_owned),
        blocked: self_only,
    })
}

/// An image the editor offers to insert or feature.
struct LibraryImage {
    id: crate::domain::MediaId,
    thumbnail: String,
    markdown: String,
    file_name: String,
}

impl EditorPage<'_> {
    fn error(&self, field: &str) -> Option<&str> {
        message_for(self.errors, field)
    }

    fn status(&self) -> &'static str {
        self.article.map_or("new", |a| a.status.as_str())
    }

    /// The problems of a refused form, each a link to its field.
    fn problems(&self) -> Vec<form::Problem<'_>> {
        form::problems(self.errors, EDITOR_FIELDS)
    }
}

/// The editor's fields that take messages, in the form's order.
const EDITOR_FIELDS: &[&str] = &[
    "headline",
    "standfirst",
    "body",
    "slug",
    "authors",
    "section",
    "tags",
    "image_url",
    "image_alt",
    "image_caption",
    "seo_title",
    "seo_description",
    "social_image",
    "photo",
    "publish_at",
];

struct EditorView<'a> {
    input: &'a EditorInput,
    errors: &'a [FieldError],
    preview: Option<String>,
    publish_at: String,
    notice: Option<Notice>,
    /// The revision the form was opened on, when it differs from the latest (a conflict).
    opened: Option<crate::domain::RevisionId>,
    conflict: Option<ConflictShown>,
}

/// The editor for a new article (`None`) or one `staff` may edit.
async fn render_editor(
    state: &AppState,
    staff: &Staff,
    id: Option<ArticleId>,
    view: EditorView<'_>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let data = publishing::editor(&state.services, &staff.user, id).await?;
    editor_page(state, staff, &data, view, status)
}

fn editor_page(
    state: &AppState,
    staff: &Staff,
    data: &publishing::EditorData,
    view: EditorView<'_>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let article = data.article.as_ref();
    let title = article.map_or("New article".to_owned(), |a| format!("Edit: {}", a.headline));
    let template = EditorPage {
        layout: Layout::new(&state.config, &title),
        nav: staff.nav(),
        public_url: article
            .filter(|a| a.status == ArticleStatus::Published)
            .and_then(Article::public_path),
        article,
        input: view.input,
        errors: view.errors,
        sections: data.sections.clone(),
        preview: view.preview,
        publish_at: view.publish_at,
        notice: view.notice.map(Notice::message),
        notes: data.notes.clone(),
        tz_name: state.config.timezone.iana_name().unwrap_or("UTC"),
        places: staff.user.role.edits_all_articles(),
        library: data
            .library
            .iter()
            .map(|m| LibraryImage {
                id: m.id,
                thumbnail: m.view().thumbnail(),
                markdown: super::media::markdown_for(m, &m.alt),
                file_name: m.file_name.clone(),
            })
            .collect(),
        featured: featured_shown(&view.input.image_url, state.config.images_from_self_only),
        opened: view.opened.or(data.revision),
        conflict: view.conflict,
        words: crate::domain::text::word_count(&view.input.body_markdown),
        byline: byline_choices(&data.authors, &view.input.author_ids),
        scheduled_label: article
            .filter(|a| a.status == ArticleStatus::Scheduled)
            .and_then(|a| a.published_at)
            .map(|at| format!("publishes {}", time::date_and_time(at, &state.config.timezone))),
    };
    Ok(page(status, template.render()?))
}

/// The authors to choose from: those on the byline first, in its order, then the rest.
fn byline_choices(authors: &[Author], chosen: &[AuthorId]) -> Vec<(Author, bool)> {
    let mut choices: Vec<(Author, bool)> = chosen
        .iter()
        .filter_map(|id| authors.iter().find(|a| a.id == *id))
        .map(|a| (a.clone(), true))
        .collect();
    choices.extend(authors.iter().filter(|a| !chosen.contains(&a.id)).map(|a| (a.clone(), false)));
    choices
}

/// `GET /admin/articles/new`
pub async fn new(State(state): State<AppState>, staff: Staff) -> Result<Response, AppError> {
    let input = EditorInput {
        author_ids: vec![staff.user.author.id],
        replies_open: true,
        ..Default::default()
    };
    let view = EditorView {
        input: &input,
        errors: &[],
        preview: None,
        publish_at: String::new(),
        notice: None,
        opened: None,
        conflict: None,
    };
    render_editor(&state, &staff, None, view, StatusCode::OK).await
}

/// `GET /admin/articles/{id}/`
pub async fn edit(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let id: ArticleId = parse_id(&id)?;
    let data = publishing::editor(&state.services, &staff.user, Some(id)).await?;
    let article = data.article.as_ref().ok_or(AppError::NotFound)?;
    let input = publishing::input_from_article(article, data.lead);
    let notice = form::query_value(query.as_deref(), "saved").and_then(|n| Notice::parse(&n));
    let publish_at = match (article.status, article.published_at) {
        (ArticleStatus::Scheduled, Some(at)) => local_input(at, &state.config.timezone),
        _ => String::new(),
    };
    let view = EditorView {
        input: &input,
        errors: &[],
        preview: None,
        publish_at,
        notice,
        opened: None,
        conflict: None,
    };
    editor_page(&state, &staff, &data, view, StatusCode::OK)
}

/// What the editor's form sent.
struct Submitted {
    input: EditorInput,
    button: String,
    publish_at: String,
    /// The revision the form was opened on.
    opened: Option<crate::domain::RevisionId>,
    pairs: Vec<(String, String)>,
}

fn submitted(pairs: &[(String, String)]) -> Submitted {
    let value = |name| form::first(pairs, name).unwrap_or_default().to_owned();
    let input = EditorInput {
        headline: value("headline"),
        standfirst: value("standfirst"),
        slug: value("slug"),
        author_ids: form::all(pairs, "authors")
            .iter()
            .filter_map(|id| AuthorId::parse(id))
            .collect(),
        section: value("section"),
        tags: value("tags"),
        body_markdown: value("body").replace("\r\n", "\n"),
        image_url: value("image_url"),
        image_caption: value("image_caption"),
        image_alt: value("image_alt"),
        replies_open: form::first(pairs, "replies_open").is_some(),
        lead: form::first(pairs, "lead").is_some(),
        without_descriptions: form::first(pairs, "without_descriptions").is_some(),
        seo_title: value("seo_title"),
        seo_description: value("seo_description"),
        social_image: value("social_image"),
    };
    Submitted {
        input,
        button: value("action"),
        publish_at: value("publish_at"),
        opened: crate::domain::RevisionId::parse(&value("opened")),
        pairs: pairs.to_vec(),
    }
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

/// The editor's buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Button {
    /// Render the body back, saving nothing.
    Preview,
    /// Add the chosen image to the library and its Markdown to the body, saving nothing.
    Upload,
    /// Make a library image the featured one, saving nothing.
    Feature(crate::domain::MediaId),
    Save(Action),
}

impl Button {
    /// The button pressed (`action=…`), with the time to publish at for Schedule (`None` when
    /// it cannot be read: the save reports it with every other problem).
    fn parse(submitted: &Submitted, tz: &TimeZone) -> Self {
        match submitted.button.as_str() {
            "preview" => Self::Preview,
            "upload" => Self::Upload,
            feature if feature.starts_with("feature-") => {
                match crate::domain::MediaId::parse(&feature["feature-".len()..]) {
                    Some(id) => Self::Feature(id),
                    None => Self::Preview,
                }
            }
            "publish" => Self::Save(Action::Publish),
            "unpublish" => Self::Save(Action::Unpublish),
            "schedule" => Self::Save(Action::Schedule(parse_local(&submitted.publish_at, tz))),
            _ => Self::Save(Action::Save),
        }
    }
}

/// `POST /admin/articles/new`
pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let (pairs, files) = read_editor_form(&state, &headers, body).await?;
    staff.check_csrf(&pairs)?;
    submit(&state, &staff, None, &pairs, files).await
}

/// The editor's form: URL-encoded, or multipart when its Upload button sent an image.
async fn read_editor_form(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<(Vec<(String, String)>, Vec<Upload>), AppError> {
    use axum::extract::FromRequest;
    let multipart = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        return Ok((form::read_pairs(headers, body).await?, Vec::new()));
    }
    let mut request = axum::http::Request::new(body);
    *request.headers_mut() = headers.clone();
    let multipart = axum::extract::Multipart::from_request(request, state).await.map_err(|_| {
        AppError::BadRequest("The form could not be read. Reload the editor and try again.")
    })?;
    let form = super::media::read_upload_form(state, multipart).await?;
    Ok((form.pairs, form.files))
}

/// The editor's Upload button: the image into the library, its Markdown at the end of the
/// body, and the editor back with everything typed (nothing is saved yet).
async fn upload_into_body(
    state: &AppState,
    staff: &Staff,
    id: Option<ArticleId>,
    sent: &Submitted,
    files: Vec<Upload>,
) -> Result<Response, AppError> {
    let mut input = sent.input.clone();
    let alt = form::first(&sent.pairs, "photo_alt").unwrap_or_default().to_owned();
    let text = MediaText { alt: alt.clone(), ..Default::default() };
    let mut errors = Vec::new();
    if files.is_empty() {
        errors.push(FieldError::new("photo", "Choose an image to upload."));
    }
    for file in files {
        let file_name = file.file_name.clone();
        match state.services.upload_image(Some(staff.user.id), file, &text).await {
            Ok(m) => {
                if !input.body_markdown.is_empty() && !input.body_markdown.ends_with("\n\n") {
                    input.body_markdown.push_str(if input.body_markdown.ends_with('\n') {
                        "\n"
                    } else {
                        "\n\n"
                    });
                }
                input.body_markdown.push_str(&super::media::markdown_for(&m, &alt));
                input.body_markdown.push('\n');
            }
            Err(e @ (MediaError::Refused(_) | MediaError::Fields(_))) => {
                errors.push(FieldError::new("photo", format!("{file_name}: {e}")));
            }
            Err(e) => return Err(e.into()),
        }
    }
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let notice = errors.is_empty().then_some(Notice::ImageAdded);
    let view = EditorView {
        input: &input,
        errors: &errors,
        preview: None,
        publish_at: sent.publish_at.clone(),
        notice,
        opened: sent.opened,
        conflict: None,
    };
    render_editor(state, staff, id, view, status).await
}

/// `POST /admin/articles/{id}/`
pub async fn save(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let (pairs, files) = read_editor_form(&state, &headers, body).await?;
    staff.check_csrf(&pairs)?;
    submit(&state, &staff, Some(parse_id(&id)?), &pairs, files).await
}

/// The editor's form sent for a new article (`None`) or an existing one: Preview renders it
/// back; any other button saves, then `303` to the editor; refused input gets `422` with the
/// messages and everything typed.
async fn submit(
    state: &AppState,
    staff: &Staff,
    id: Option<ArticleId>,
    pairs: &[(String, String)],
    files: Vec<Upload>,
) -> Result<Response, AppError> {
    let sent = submitted(pairs);
    let view = |errors, preview, conflict| EditorView {
        input: &sent.input,
        errors,
        preview,
        publish_at: sent.publish_at.clone(),
        notice: None,
        opened: sent.opened,
        conflict,
    };
    let refused = StatusCode::UNPROCESSABLE_ENTITY;
    let action = match Button::parse(&sent, &state.config.timezone) {
        Button::Save(action) => action,
        Button::Preview => {
            let preview =
                Some(publishing::preview_body(&state.services, &sent.input.body_markdown).await?);
            return render_editor(state, staff, id, view(&[], preview, None), StatusCode::OK).await;
        }
        Button::Feature(media) => {
            let mut input = sent.input.clone();
            input.image_url = crate::domain::media::library_path(media);
            let view = EditorView {
                input: &input,
                errors: &[],
                preview: None,
                publish_at: sent.publish_at.clone(),
                notice: None,
                opened: sent.opened,
                conflict: None,
            };
            return render_editor(state, staff, id, view, StatusCode::OK).await;
        }
        Button::Upload => return upload_into_body(state, staff, id, &sent, files).await,
    };
    let (services, user, input) = (&state.services, &staff.user, &sent.input);
    let saved = match id {
        None => publishing::create(services, user, input, action).await,
        Some(id) => {
            publishing::update(services, user, id, input, action, sent.opened).await.map(|()| id)
        }
    };
    match saved {
        Ok(id) => Ok(see_other(&editor_url(id, Notice::after(action)))),
        Err(PublishError::Fields(errors)) => {
            render_editor(state, staff, id, view(&errors, None, None), refused).await
        }
        Err(PublishError::Conflict(conflict)) => {
            let tz = &state.config.timezone;
            let current = &conflict.current;
            let shown = ConflictShown {
                by: conflict.by.clone(),
                when: time::date_and_time(current.created_at, tz),
                changes: super::revisions::changes(
                    &REVISION_FIELDS,
                    conflict.opened.as_ref(),
                    current,
                ),
            };
            // The form keeps what this person typed; sent again, it is saved over the other.
            let mut view = view(&[], None, Some(shown));
            view.opened = Some(current.id);
            render_editor(state, staff, id, view, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
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
    let (article, notes) =
        publishing::preview(&state.services, &staff.user, parse_id(&id)?).await?;
    let template = PreviewPage {
        layout: Layout::new(&state.config, &article.headline),
        story: Story::new(&article, &notes, &state.config.timezone),
        article: &article,
    };
    Ok(page(StatusCode::OK, template.render()?))
}

/// `POST /admin/preview`: Markdown in, sanitized HTML out, for the live preview. It changes
/// nothing, so it invalidates nothing.
pub async fn live_preview(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let pairs = form::read_pairs(&headers, body).await?;
    staff.check_csrf(&pairs)?;
    // Sanitized by ammonia, exactly as when the article is saved.
    let markdown = form::first(&pairs, "body").unwrap_or_default();
    let html = publishing::preview_body(&state.services, markdown).await?;
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
    let pairs = form::read_pairs(&headers, body).await?;
    staff.check_csrf(&pairs)?;
    let id: ArticleId = parse_id(&id)?;
    let kind = NoteKind::parse(form::first(&pairs, "kind").unwrap_or_default())
        .ok_or(AppError::BadRequest("Choose a correction or an update."))?;
    let note = form::first(&pairs, "note").unwrap_or_default();
    match publishing::add_note(&state.services, &staff.user, id, kind, note).await {
        Ok(()) => Ok(see_other(&editor_url(id, Notice::NoteAdded))),
        Err(PublishError::Fields(_)) => {
            Err(AppError::BadRequest("Write the note: at most 2,000 characters."))
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/articles/{id}/trash`
pub async fn trash(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let pairs = form::read_pairs(&headers, body).await?;
    staff.check_csrf(&pairs)?;
    let id: ArticleId = parse_id(&id)?;
    publishing::trash(&state.services, &staff.user, id).await?;
    Ok(see_other(&editor_url(id, Notice::Trashed)))
}

/// `POST /admin/articles/{id}/restore`: out of the trash, as a draft.
pub async fn untrash(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let pairs = form::read_pairs(&headers, body).await?;
    staff.check_csrf(&pairs)?;
    let id: ArticleId = parse_id(&id)?;
    publishing::untrash(&state.services, &staff.user, id).await?;
    Ok(see_other(&editor_url(id, Notice::Untrashed)))
}

/// `GET /admin/articles/{id}/delete`: asks before deleting for ever.
pub async fn delete_page(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id: ArticleId = parse_id(&id)?;
    let article = publishing::editable(&state.services, &staff.user, id).await?;
    let title = format!("Delete “{}” for ever?", article.headline);
    super::Confirm {
        layout: Layout::new(&state.config, "Delete for ever"),
        nav: staff.nav(),
        title: &title,
        lines: vec![
            format!(
                "The article, its {} {}, its revisions and its notes are deleted, and cannot \
                 be brought back.",
                article.reply_count,
                if article.reply_count == 1 { "reply" } else { "replies" }
            ),
            "To keep it out of sight but keep it, leave it in the trash.".to_owned(),
        ],
        action: format!("/admin/articles/{id}/delete"),
        hidden: Vec::new(),
        button: "Delete for ever",
        danger: true,
        cancel: format!("/admin/articles/{id}/"),
    }
    .response()
}

/// `POST /admin/articles/{id}/delete`: for ever, from the trash only, by editors and admins.
pub async fn delete(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let pairs = form::read_pairs(&headers, body).await?;
    staff.check_csrf(&pairs)?;
    let id: ArticleId = parse_id(&id)?;
    publishing::delete_for_ever(&state.services, &staff.user, id).await?;
    Ok(see_other("/admin/articles/?status=trash&deleted=1"))
}
