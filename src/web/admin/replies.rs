//! The moderation queue: replies by status, with what only staff may see (email, IP, why a
//! reply was held); decisions one by one or in bulk; editing a reply; answering as staff.

use askama::Template;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{Nav, Staff, page, parse_id, see_other};
use crate::discussion::{self, PostError};
use crate::domain::{ReplyStatus, reply::ReplyBody, text, time};
use crate::publishing;
use crate::store::{Comment, QueueQuery, QueuedComment};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::form;
use crate::web::layout::Layout;

const PER_PAGE: u64 = 50;

#[derive(Template)]
#[template(path = "admin/replies.html")]
struct QueuePage<'a> {
    layout: Layout<'a>,
    nav: Nav,
    tabs: Vec<Tab>,
    rows: Vec<Row>,
    status: &'static str,
    email: String,
    article: String,
    return_to: String,
    older: Option<String>,
    newer: Option<String>,
}

struct Tab {
    status: &'static str,
    label: &'static str,
    count: u64,
    current: bool,
    url: String,
}

struct Row {
    id: i64,
    status: &'static str,
    article_id: i64,
    article_headline: String,
    article_url: Option<String>,
    name: String,
    email: String,
    website: Option<String>,
    ip: String,
    date: String,
    /// The reply's text, escaped by [`text::reply_html`].
    body_html: String,
    reason: String,
    staff: bool,
}

const TABS: [(ReplyStatus, &str); 4] = [
    (ReplyStatus::Pending, "Held"),
    (ReplyStatus::Approved, "Approved"),
    (ReplyStatus::Spam, "Spam"),
    (ReplyStatus::Trash, "Trash"),
];

struct Filter {
    status: ReplyStatus,
    email: String,
    article: String,
    page: u64,
}

impl Filter {
    fn from_query(query: Option<&str>) -> Self {
        let value = |name| form::query_value(query, name).unwrap_or_default();
        Self {
            status: ReplyStatus::parse(&value("status")).unwrap_or(ReplyStatus::Pending),
            email: value("email"),
            article: value("article"),
            page: value("page").parse().ok().filter(|p| *p >= 1).unwrap_or(1),
        }
    }

    fn url(&self, status: ReplyStatus, page: u64) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("status", status.as_str());
        if !self.email.is_empty() {
            query.append_pair("email", &self.email);
        }
        if !self.article.is_empty() {
            query.append_pair("article", &self.article);
        }
        if page > 1 {
            query.append_pair("page", &page.to_string());
        }
        format!("/admin/replies/?{}", query.finish())
    }
}

/// What this person's queue covers: authors see replies on their own articles only.
fn scope(staff: &Staff) -> Option<i64> {
    (!staff.user.role.edits_all_articles()).then_some(staff.user.author.id)
}

/// `GET /admin/replies/`
pub async fn queue(
    State(state): State<AppState>,
    staff: Staff,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let filter = Filter::from_query(query.as_deref());
    let mut query = QueueQuery {
        status: None,
        article_id: filter.article.parse().ok(),
        email: Some(filter.email.clone()).filter(|e| !e.trim().is_empty()),
        byline_author_id: scope(&staff),
        offset: (filter.page - 1) * PER_PAGE,
        limit: PER_PAGE,
    };
    let counts = state.store.queue_counts(&query).await?;
    query.status = Some(filter.status);
    let (found, total) = state.store.queue(&query).await?;
    let tz = &state.config.timezone;
    let tabs = TABS
        .iter()
        .map(|(status, label)| Tab {
            status: status.as_str(),
            label,
            count: counts.iter().find(|(s, _)| s == status).map_or(0, |(_, n)| *n),
            current: *status == filter.status,
            url: filter.url(*status, 1),
        })
        .collect();
    let template = QueuePage {
        layout: Layout::new(&state.config, "Replies"),
        nav: staff.nav(),
        tabs,
        rows: found.into_iter().map(|q| row(q, tz)).collect(),
        status: filter.status.as_str(),
        return_to: filter.url(filter.status, filter.page),
        older: (filter.page * PER_PAGE < total).then(|| filter.url(filter.status, filter.page + 1)),
        newer: (filter.page > 1).then(|| filter.url(filter.status, filter.page - 1)),
        email: filter.email,
        article: filter.article,
    };
    Ok(page(StatusCode::OK, template.render()?))
}

fn row(q: QueuedComment, tz: &jiff::tz::TimeZone) -> Row {
    let article_url = q.article_date_path.as_deref().map(|date| {
        format!("{}#comment-{}", publishing::article_path(date, &q.article_slug), q.comment.id)
    });
    Row {
        id: q.comment.id,
        status: q.comment.status.as_str(),
        article_id: q.comment.article_id,
        article_headline: q.article_headline,
        article_url,
        name: q.comment.author_name,
        email: q.author_email,
        website: q.comment.author_url,
        ip: q.ip.unwrap_or_default(),
        date: time::date_and_time(q.comment.created_at, tz),
        body_html: text::reply_html(&q.comment.body),
        reason: q.held_reason,
        staff: q.comment.staff,
    }
}

/// A reply `staff` may moderate: one on an article they may edit.
async fn moderatable(state: &AppState, staff: &Staff, id: i64) -> Result<Comment, AppError> {
    let comment = state.store.comment(id).await?.ok_or(AppError::NotFound)?;
    let article = state.store.article(comment.article_id).await?.ok_or(AppError::NotFound)?;
    if publishing::can_edit(&staff.user, &article) {
        Ok(comment)
    } else {
        Err(AppError::Forbidden("You moderate replies on your own articles only.".into()))
    }
}

/// `POST /admin/replies/`: `action=approve:ID` (one reply) or `action=bulk` with `bulk=approve`
/// and the ticked `ids`.
pub async fn decide(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let pairs = form::read_pairs(&headers, body, 256 * 1024).await?;
    staff.check_csrf(&pairs)?;
    let action = form::first(&pairs, "action").unwrap_or_default();
    let (verb, ids): (&str, Vec<i64>) = match action.split_once(':') {
        Some((verb, id)) => (verb, vec![parse_id(id)?]),
        None => (
            form::first(&pairs, "bulk").unwrap_or_default(),
            form::all(&pairs, "ids").iter().filter_map(|id| id.parse().ok()).collect(),
        ),
    };
    for id in &ids {
        moderatable(&state, &staff, *id).await?;
    }
    for id in ids {
        apply(&state, verb, id).await?;
    }
    let back = form::first(&pairs, "return").filter(|r| r.starts_with("/admin/replies/"));
    Ok(see_other(back.unwrap_or("/admin/replies/")))
}

async fn apply(state: &AppState, verb: &str, id: i64) -> Result<(), AppError> {
    let status = match verb {
        "approve" => ReplyStatus::Approved,
        "unapprove" | "notspam" | "restore" => ReplyStatus::Pending,
        "spam" => ReplyStatus::Spam,
        "trash" => ReplyStatus::Trash,
        "delete" => {
            state.store.delete_comment(id).await?;
            return Ok(());
        }
        _ => return Err(AppError::BadRequest("Choose what to do with the replies.")),
    };
    state.store.set_comment_status(id, status).await?;
    tracing::info!(reply = id, status = %status, "moderated");
    Ok(())
}

#[derive(Template)]
#[template(path = "admin/reply_edit.html")]
struct EditPage<'a> {
    layout: Layout<'a>,
    nav: Nav,
    comment: &'a Comment,
    body: &'a str,
    error: Option<String>,
    /// Editing the reply's text, or answering it as staff.
    answering: bool,
}

async fn edit_page(
    state: &AppState,
    staff: &Staff,
    comment: &Comment,
    body: &str,
    error: Option<String>,
    answering: bool,
) -> Result<Response, AppError> {
    let title = if answering { "Reply as staff" } else { "Edit a reply" };
    let template = EditPage {
        layout: Layout::new(&state.config, title),
        nav: staff.nav(),
        comment,
        body,
        error: error.clone(),
        answering,
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok(page(status, template.render()?))
}

/// `GET /admin/replies/{id}/edit`
pub async fn edit(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let comment = moderatable(&state, &staff, parse_id(&id)?).await?;
    edit_page(&state, &staff, &comment, &comment.body, None, false).await
}

/// `POST /admin/replies/{id}/edit`
pub async fn save_edit(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let pairs = form::read_pairs(&headers, body, 256 * 1024).await?;
    staff.check_csrf(&pairs)?;
    let comment = moderatable(&state, &staff, parse_id(&id)?).await?;
    let typed = form::first(&pairs, "body").unwrap_or_default();
    match ReplyBody::parse(typed, state.config.limits.comment) {
        Ok(body) => {
            state.store.set_comment_body(comment.id, body.as_str()).await?;
            Ok(see_other(&format!("/admin/replies/?status={}", comment.status.as_str())))
        }
        Err(message) => edit_page(&state, &staff, &comment, typed, Some(message), false).await,
    }
}

/// `GET /admin/replies/{id}/reply`
pub async fn answer(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let comment = moderatable(&state, &staff, parse_id(&id)?).await?;
    edit_page(&state, &staff, &comment, "", None, true).await
}

/// `POST /admin/replies/{id}/reply`: published at once, with a staff badge.
pub async fn save_answer(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let pairs = form::read_pairs(&headers, body, 256 * 1024).await?;
    staff.check_csrf(&pairs)?;
    let comment = moderatable(&state, &staff, parse_id(&id)?).await?;
    let typed = form::first(&pairs, "body").unwrap_or_default();
    match discussion::reply_as_staff(&*state.store, &staff.user, &comment, typed).await {
        Ok(_) => {
            // Answering a held reply approves it, as readers would otherwise see an answer
            // to nothing.
            if comment.status == ReplyStatus::Pending {
                state.store.set_comment_status(comment.id, ReplyStatus::Approved).await?;
            }
            Ok(see_other("/admin/replies/?status=approved"))
        }
        Err(PostError::Invalid(errors)) => {
            let message = errors.into_iter().map(|e| e.message).collect::<Vec<_>>().join(" ");
            edit_page(&state, &staff, &comment, typed, Some(message), true).await
        }
        Err(PostError::Store(e)) => Err(e.into()),
        Err(_) => Err(AppError::BadRequest("The reply could not be posted.")),
    }
}
