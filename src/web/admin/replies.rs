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
    headline: String,
    return_to: String,
    /// What the last action did ("3 replies approved."), and how to undo it.
    notice: Option<String>,
    undo: Option<Undo>,
    /// The bulk menu: what fits the replies of this tab.
    bulk: Vec<(&'static str, &'static str)>,
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
    /// "in reply to Ines: …"
    answering: Option<(String, String)>,
    /// "3 approved before, 1 spam"
    history: String,
}

/// The form that puts the replies of the last action back as they were.
struct Undo {
    verb: &'static str,
    ids: Vec<String>,
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
    headline: String,
    page: u64,
}

impl Filter {
    fn from_query(query: Option<&str>) -> Self {
        let value = |name| form::query_value(query, name).unwrap_or_default();
        Self {
            status: ReplyStatus::parse(&value("status")).unwrap_or(ReplyStatus::Pending),
            email: value("email"),
            article: value("article"),
            headline: value("headline"),
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
        if !self.headline.is_empty() {
            query.append_pair("headline", &self.headline);
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
    RawQuery(raw_query): RawQuery,
) -> Result<Response, AppError> {
    let filter = Filter::from_query(raw_query.as_deref());
    let query = QueueQuery {
        status: Some(filter.status),
        article_id: ArticleId::parse(&filter.article),
        email: Some(filter.email.clone()).filter(|e| !e.trim().is_empty()),
        byline_author_id: None,
        headline: Some(filter.headline.clone()).filter(|h| !h.trim().is_empty()),
        offset: (filter.page - 1) * PER_PAGE,
        limit: PER_PAGE,
    };
    let moderation::Queue { counts, replies: found, total, history } =
        moderation::queue(&state.services, &staff.user, query).await?;
    let (notice, undo) = done(raw_query.as_deref());
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
        rows: found.into_iter().map(|q| row(q, tz, &history)).collect(),
        bulk: bulk_menu(filter.status),
        notice,
        undo,
        headline: filter.headline.clone(),
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

/// The bulk menu of a tab: what can be done to replies with that status.
fn bulk_menu(status: ReplyStatus) -> Vec<(&'static str, &'static str)> {
    match status {
        ReplyStatus::Pending => vec![
            ("approve", "Approve"),
            ("spam", "Mark as spam"),
            ("trash", "Move to trash"),
            ("delete", "Delete for ever"),
        ],
        ReplyStatus::Approved => vec![
            ("unapprove", "Unapprove"),
            ("spam", "Mark as spam"),
            ("trash", "Move to trash"),
            ("delete", "Delete for ever"),
        ],
        ReplyStatus::Spam => {
            vec![("notspam", "Not spam"), ("trash", "Move to trash"), ("delete", "Delete for ever")]
        }
        ReplyStatus::Trash => vec![("restore", "Restore"), ("delete", "Delete for ever")],
    }
}

/// What the last action did, as its redirect said (`?done=approve&count=3&ids=…&was=pending`),
/// and the form that undoes it (not for a deletion, which cannot be undone).
fn done(query: Option<&str>) -> (Option<String>, Option<Undo>) {
    let value = |name| form::query_value(query, name).unwrap_or_default();
    let done = value("done");
    if done == "none" {
        let message = "Nothing was ticked: tick the replies to act on, then Apply.";
        return (Some(message.to_owned()), None);
    }
    let Some(decision) = Decision::parse(&done) else { return (None, None) };
    let count: u64 = value("count").parse().unwrap_or(0);
    let replies = if count == 1 { "1 reply".to_owned() } else { format!("{count} replies") };
    let what = match decision {
        Decision::Approve => "approved",
        Decision::Unapprove => "sent back to the held replies",
        Decision::Spam => "marked as spam",
        Decision::NotSpam => "taken out of spam, and held",
        Decision::Trash => "moved to the trash",
        Decision::Restore => "restored, and held",
        Decision::Delete => "deleted for ever",
    };
    let undo_verb = match ReplyStatus::parse(&value("was")) {
        _ if decision == Decision::Delete => None,
        Some(ReplyStatus::Approved) => Some("approve"),
        Some(ReplyStatus::Pending) => Some("unapprove"),
        Some(ReplyStatus::Spam) => Some("spam"),
        Some(ReplyStatus::Trash) => Some("trash"),
        None => None,
    };
    let ids: Vec<String> = value("ids")
        .split('.')
        .filter(|id| ReplyId::parse(id).is_some())
        .map(str::to_owned)
        .collect();
    let undo = undo_verb.filter(|_| !ids.is_empty()).map(|verb| Undo { verb, ids });
    (Some(format!("{replies} {what}.")), undo)
}

fn row(q: QueuedReply, tz: &jiff::tz::TimeZone, history: &[(String, ReplyStatus, u64)]) -> Row {
    let email = q.author_email.to_lowercase();
    let mut told = Vec::new();
    for (status, label) in [
        (ReplyStatus::Approved, "approved"),
        (ReplyStatus::Pending, "held"),
        (ReplyStatus::Spam, "spam"),
        (ReplyStatus::Trash, "in the trash"),
    ] {
        let n = history.iter().find(|(e, s, _)| *e == email && *s == status).map_or(0, |h| h.2);
        // The others: this reply is not its own history.
        let n = if status == q.reply.status { n.saturating_sub(1) } else { n };
        if n > 0 {
            told.push(format!("{n} {label}"));
        }
    }
    let history = if email.is_empty() {
        String::new()
    } else if told.is_empty() {
        "first reply from this address".to_owned()
    } else {
        format!("from this address before: {}", told.join(", "))
    };
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
        answering: q.answering.map(|(name, body)| (name, text::excerpt(&body, 120))),
        history,
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
    let back = back.unwrap_or("/admin/replies/?status=pending");
    let joiner = if back.contains('?') { '&' } else { '?' };
    // Nothing ticked: nothing to do, whatever was chosen; the page says so.
    if ids.is_empty() {
        return Ok(see_other(&format!("{back}{joiner}done=none")));
    }
    let decision =
        Decision::parse(verb).ok_or(AppError::BadRequest("Choose what to do with the replies."))?;
    if decision == Decision::Delete && form::first(&pairs, "confirmed").is_none() {
        return ask_to_delete(&state, &staff, &pairs, &ids, back);
    }
    let was = form::first(&pairs, "was").and_then(ReplyStatus::parse);
    moderation::decide(&state.services, &staff.user, decision, ids.clone()).await?;
    let list: Vec<String> = ids.iter().map(ReplyId::to_string).collect();
    let mut done = url::form_urlencoded::Serializer::new(String::new());
    done.append_pair("done", verb);
    done.append_pair("count", &ids.len().to_string());
    done.append_pair("ids", &list.join("."));
    if let Some(was) = was {
        done.append_pair("was", was.as_str());
    }
    Ok(see_other(&format!("{back}{joiner}{}", done.finish())))
}

/// Deleting for ever asks first, saying how many replies it deletes.
fn ask_to_delete(
    state: &AppState,
    staff: &Staff,
    pairs: &[(String, String)],
    ids: &[ReplyId],
    back: &str,
) -> Result<Response, AppError> {
    let n = ids.len();
    let replies = if n == 1 { "this reply".to_owned() } else { format!("these {n} replies") };
    let mut hidden: Vec<(String, String)> =
        ids.iter().map(|id| ("ids".to_owned(), id.to_string())).collect();
    hidden.push(("action".into(), "bulk".into()));
    hidden.push(("bulk".into(), "delete".into()));
    hidden.push(("confirmed".into(), "yes".into()));
    hidden.push(("return".into(), back.to_owned()));
    if let Some(was) = form::first(pairs, "was") {
        hidden.push(("was".into(), was.to_owned()));
    }
    super::Confirm {
        layout: Layout::new(&state.config, "Delete for ever"),
        nav: staff.nav(),
        title: &format!("Delete {replies} for ever?"),
        lines: vec![
            "A reply deleted for ever cannot be brought back; answers to it keep their place \
             under “This reply was removed.”"
                .to_owned(),
            "To keep it out of sight but keep it, move it to the trash.".to_owned(),
        ],
        action: "/admin/replies/".into(),
        hidden,
        button: "Delete for ever",
        danger: true,
        cancel: back.to_owned(),
    }
    .response()
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
