//! `/admin/`: the newsroom's first page (see `services::dashboard`). The article list that
//! lived here is at `/admin/articles/`; its old addresses, filters and all, lead there.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::articles::{Row, row};
use super::{Nav, Staff, page, see_other};
use crate::domain::{text, time};
use crate::services::dashboard::{self, Dashboard};
use crate::store::QueuedReply;
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::layout::Layout;

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct DashboardPage<'a> {
    layout: Layout<'a>,
    nav: Nav,
    held: u64,
    held_replies: Vec<ReplyLine>,
    latest_replies: Vec<ReplyLine>,
    drafts: Vec<Row>,
    drafts_total: u64,
    scheduled: Vec<Row>,
    most_replied: Vec<(Row, u64)>,
}

/// A reply as the dashboard lists it: who, on what, when, and the start of it.
struct ReplyLine {
    name: String,
    headline: String,
    url: Option<String>,
    when: String,
    excerpt: String,
}

fn line(q: QueuedReply, tz: &jiff::tz::TimeZone) -> ReplyLine {
    ReplyLine {
        url: q.public_path().map(|p| format!("{p}#comment-{}", q.reply.id)),
        name: q.reply.author_name,
        headline: q.article_headline,
        when: time::date_and_time(q.reply.created_at, tz),
        excerpt: text::excerpt(&q.reply.body, 140),
    }
}

/// The list's filters (`status`, `author`, `section`, `q`, `page`, `sort`): an address of the
/// list from before it moved.
const LIST_PARAMETERS: [&str; 7] = ["status", "author", "section", "q", "page", "sort", "dir"];

pub async fn show(
    State(state): State<AppState>,
    staff: Staff,
    RawQuery(query): RawQuery,
) -> Result<Response, AppError> {
    if let Some(query) = query.filter(|q| {
        url::form_urlencoded::parse(q.as_bytes()).any(|(k, _)| LIST_PARAMETERS.contains(&&*k))
    }) {
        return Ok(see_other(&format!("/admin/articles/?{query}")));
    }
    let found: Dashboard = dashboard::dashboard(&state.services, &staff.user).await?;
    let tz = &state.config.timezone;
    let lead = found.lead;
    let template = DashboardPage {
        layout: Layout::new(&state.config, "Dashboard"),
        nav: staff.nav(),
        held: found.held,
        held_replies: found.held_replies.into_iter().map(|q| line(q, tz)).collect(),
        latest_replies: found.latest_replies.into_iter().map(|q| line(q, tz)).collect(),
        drafts: found.drafts.into_iter().map(|a| row(a, tz, lead)).collect(),
        drafts_total: found.drafts_total,
        scheduled: found.scheduled.into_iter().map(|a| row(a, tz, lead)).collect(),
        most_replied: found.most_replied.into_iter().map(|(a, n)| (row(a, tz, lead), n)).collect(),
    };
    Ok(page(StatusCode::OK, template.render()?))
}
