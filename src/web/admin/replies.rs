//! The moderation queue: replies by status, with what only staff may see (email, IP, why a
//! reply was held); decisions one by one or in bulk; editing a reply; answering as staff.

use askama::Template;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::{Nav, Staff, page, parse_id, see_other};
use crate::domain::paths::article_path;
use crate::domain::{ArticleId, ReplyId, ReplyStatus, text, time};
use crate::services::moderation::{self, Decision, ModerationError};
use crate::store::{QueueQuery, QueuedReply, Reply};
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
    /// Editors and admins may copy or erase every reply of the address filtered by.
    address_rights: bool,
}

struct Tab {
    status: &'static str,
    label: &'static str,
    count: u64,
    current: bool,
    url: String,
}

struct Row {
    id: ReplyId,
    status: &'static str,
    article_id: ArticleId,
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

/// `GET /admin/replies/`
pub async fn queue(
    State(state): State<AppState>,
    staff: Staff,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    let filter = Filter::from_query(query.as_deref());
    let query = QueueQuery {
        status: Some(filter.status),
        article_id: ArticleId::parse(&filter.article),
        email: Some(filter.email.clone()).filter(|e| !e.trim().is_empty()),
        byline_author_id: None,
        offset: (filter.page - 1) * PER_PAGE,
        limit: PER_PAGE,
    };
    let moderation::Queue { counts, replies: found, total } =
        moderation::queue(&state.services, &staff.user, query).await?;
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
        address_rights: staff.user.role.edits_all_articles() && !filter.email.trim().is_empty(),
        email: filter.email,
        article: filter.article,
    };
    Ok(page(StatusCode::OK, template.render()?))
}

/// `POST /admin/replies/address`: a reader's rights exercised by staff for them (asked by
/// mail or in person): `what=copy` downloads every reply of `email` as JSON, `what=erase`
/// erases them as the reader's own link would. Editors and admins only.
pub async fn address(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let pairs = form::read_pairs(&headers, body).await?;
    staff.check_csrf(&pairs)?;
    if !staff.user.role.edits_all_articles() {
        return Err(AppError::Forbidden(
            "Only editors and admins copy or erase a reader's replies.".into(),
        ));
    }
    let email = form::first(&pairs, "email").unwrap_or_default().trim().to_owned();
    if email.is_empty() {
        return Err(AppError::BadRequest("Filter the queue by an address first."));
    }
    let services = &state.services;
    match form::first(&pairs, "what") {
        Some("copy") => {
            let replies = crate::services::reader_data::replies(services, &email).await?;
            Ok(crate::web::reader_data::json_download(&state, &replies))
        }
        Some("erase") => {
            let count = crate::services::reader_data::erase(services, &email).await?;
            tracing::info!(
                staff = staff.user.id.get(),
                replies = count,
                "erased an address's replies"
            );
            Ok(see_other("/admin/replies/?status=all"))
        }
        _ => Err(AppError::BadRequest("Choose copy or erase.")),
    }
}

fn row(q: QueuedReply, tz: &jiff::tz::TimeZone) -> Row {
    let on_page = q.page_path.as_deref().map(crate::domain::paths::page_path);
    let article_url = on_page
        .or_else(|| q.article_date_path.as_deref().map(|date| article_path(date, &q.article_slug)))
        .map(|path| format!("{path}#comment-{}", q.reply.id));
    Row {
        id: q.reply.id,
        status: q.reply.status.as_str(),
        article_id: q.reply.article_id,
        article_headline: q.article_headline,
        article_url,
        name: q.reply.author_name,
        email: q.author_email,
        website: q.reply.author_url,
        ip: q.ip.unwrap_or_default(),
        date: time::date_and_time(q.reply.created_at, tz),
        body_html: text::reply_html(&q.reply.body),
        reason: q.held_reason,
        staff: q.reply.staff,
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
    let pairs = form::read_pairs(&headers, body).await?;
    staff.check_csrf(&pairs)?;
    let action = form::first(&pairs, "action").unwrap_or_default();
    let (verb, ids): (&str, Vec<ReplyId>) = match action.split_once(':') {
        Some((verb, id)) => (verb, vec![parse_id(id)?]),
        None => (
            form::first(&pairs, "bulk").unwrap_or_default(),
            form::all(&pairs, "ids").iter().filter_map(|id| ReplyId::parse(id)).collect(),
        ),
    };
    let back = form::first(&pairs, "return").filter(|r| r.starts_with("/admin/replies/"));
    let back = see_other(back.unwrap_or("/admin/replies/"));
    // Nothing ticked: nothing to do, whatever was chosen.
    if ids.is_empty() {
        return Ok(back);
    }
    let decision =
        Decision::parse(verb).ok_or(AppError::BadRequest("Choose what to do with the replies."))?;
    moderation::decide(&state.services, &staff.user, decision, ids).await?;
    Ok(back)
}

#[derive(Template)]
#[template(path = "admin/reply_edit.html")]
struct EditPage<'a> {
    layout: Layout<'a>,
    nav: Nav,
    reply: &'a Reply,
    body: &'a str,
    error: Option<String>,
    /// Editing the reply's text, or answering it as staff.
    answering: bool,
}

async fn edit_page(
    state: &AppState,
    staff: &Staff,
    reply: &Reply,
    body: &str,
    error: Option<String>,
    answering: bool,
) -> Result<Response, AppError> {
    let title = if answering { "Reply as staff" } else { "Edit a reply" };
    let template = EditPage {
        layout: Layout::new(&state.config, title),
        nav: staff.nav(),
        reply,
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
    let reply = moderation::moderatable(&state.services, &staff.user, parse_id(&id)?).await?;
    edit_page(&state, &staff, &reply, &reply.body, None, false).await
}

/// `POST /admin/replies/{id}/edit`
pub async fn save_edit(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let pairs = form::read_pairs(&headers, body).await?;
    staff.check_csrf(&pairs)?;
    let reply = moderation::moderatable(&state.services, &staff.user, parse_id(&id)?).await?;
    let typed = form::first(&pairs, "body").unwrap_or_default();
    match moderation::edit(&state.services, &staff.user, reply.id, typed).await {
        Ok(()) => Ok(see_other(&format!("/admin/replies/?status={}", reply.status.as_str()))),
        Err(ModerationError::Invalid(e)) => {
            edit_page(&state, &staff, &reply, typed, Some(e.message), false).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /admin/replies/{id}/reply`
pub async fn answer(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let reply = moderation::moderatable(&state.services, &staff.user, parse_id(&id)?).await?;
    edit_page(&state, &staff, &reply, "", None, true).await
}

/// `POST /admin/replies/{id}/reply`: published at once, with a staff badge (answering a held
/// reply approves it).
pub async fn save_answer(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let pairs = form::read_pairs(&headers, body).await?;
    staff.check_csrf(&pairs)?;
    let reply = moderation::moderatable(&state.services, &staff.user, parse_id(&id)?).await?;
    let typed = form::first(&pairs, "body").unwrap_or_default();
    match moderation::answer(&state.services, &staff.user, reply.id, typed).await {
        Ok(_) => Ok(see_other("/admin/replies/?status=approved")),
        Err(ModerationError::Invalid(e)) => {
            edit_page(&state, &staff, &reply, typed, Some(e.message), true).await
        }
        Err(e) => Err(e.into()),
    }
}
