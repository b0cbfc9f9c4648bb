//! `/my-replies`: a reader asks for a copy of their replies or their erasure; the link mailed
//! to the address shows the copy (as a page and as JSON) or asks once more, then erases.
//! Pages here are personal: never cached, never sent as a referrer.

use askama::Template;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::AppError;
use super::form;
use super::layout::Layout;
use super::response::{Caching, html};
use crate::services::reader_data::{self, Action};
use crate::store::ReaderReply;

#[derive(Template)]
#[template(path = "reader_data.html")]
struct DataPage<'a> {
    layout: Layout<'a>,
    title: &'a str,
    lines: Vec<String>,
    ask: bool,
    erase_url: Option<String>,
    json_url: Option<String>,
    replies: Vec<Shown>,
}

struct Shown {
    name: String,
    website: Option<String>,
    when: String,
    title: String,
    url: Option<String>,
    status: &'static str,
    ip: Option<String>,
    lines: Vec<String>,
}

fn shown(state: &AppState, reply: &ReaderReply) -> Shown {
    Shown {
        name: reply.name.clone(),
        website: reply.website.clone(),
        when: crate::domain::time::date_and_time(reply.created_at, &state.config.timezone),
        title: reply.title.clone(),
        url: reply.path.as_ref().map(|p| format!("{p}#comment-{}", reply.id)),
        status: reply.status.as_str(),
        ip: reply.ip.clone(),
        lines: reply.body.lines().map(str::to_owned).collect(),
    }
}

#[derive(Default)]
struct Parts<'a> {
    title: &'a str,
    lines: Vec<String>,
    ask: bool,
    erase_url: Option<String>,
    json_url: Option<String>,
    replies: Vec<Shown>,
}

fn render(state: &AppState, status: StatusCode, parts: Parts) -> Result<Response, AppError> {
    let Parts { title, lines, ask, erase_url, json_url, replies } = parts;
    let layout = Layout::public(&state.config, title, state.services.known_nav());
    let body = DataPage { layout, title, lines, ask, erase_url, json_url, replies }.render()?;
    let mut response = html(status, body, Caching::Private);
    response.headers_mut().insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    Ok(response)
}

const TITLE: &str = "Your replies";

/// `GET /my-replies`
pub async fn ask_page(State(state): State<AppState>) -> Result<Response, AppError> {
    if !state.services.mailer.is_on() {
        let lines = vec![
            "This site does not send email, so it cannot check that an address is yours. To get \
             a copy of your replies or have them erased, write to the site's staff."
                .into(),
        ];
        return render(&state, StatusCode::OK, Parts { title: TITLE, lines, ..Parts::default() });
    }
    let lines = vec![
        "Ask for a copy of every reply you posted here, or for their erasure. A link is mailed \
         to the address you replied with: only its owner can use it."
            .into(),
    ];
    render(&state, StatusCode::OK, Parts { title: TITLE, lines, ask: true, ..Parts::default() })
}

/// `POST /my-replies`: the same answer whether or not the address posted here.
pub async fn ask(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let pairs = form::read_pairs(&headers, body).await?;
    let email = form::first(&pairs, "email").unwrap_or_default().trim().to_owned();
    let action = form::first(&pairs, "action")
        .and_then(Action::parse)
        .ok_or(AppError::BadRequest("action: expected copy or erase"))?;
    reader_data::ask(&state.services, &email, action);
    let lines = vec![
        "If replies were posted here with that address, a link is on its way to it. It works \
         for a day."
            .into(),
    ];
    render(&state, StatusCode::OK, Parts { title: TITLE, lines, ..Parts::default() })
}

fn not_working(state: &AppState) -> Result<Response, AppError> {
    let lines = vec![
        "The link is not one this site sent, was used already, or is more than a day old. \
         Nothing was changed: ask again on /my-replies."
            .into(),
    ];
    let parts = Parts { title: "This link does not work", lines, ..Parts::default() };
    render(state, StatusCode::NOT_FOUND, parts)
}

/// `GET /my-replies/{token}`: the copy, or the erasure's last question.
pub async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let Some(request) = reader_data::request(&state.services, &token).await? else {
        return not_working(&state);
    };
    let replies = reader_data::replies(&state.services, &request.email).await?;
    let shown_replies: Vec<Shown> = replies.iter().map(|r| shown(&state, r)).collect();
    let parts = match request.action {
        Action::Copy => Parts {
            title: "A copy of your replies",
            lines: vec![format!("Every reply posted with your address: {}.", replies.len())],
            json_url: Some(format!("/my-replies/{token}/replies.json")),
            replies: shown_replies,
            ..Parts::default()
        },
        Action::Erase => Parts {
            title: "Erase your replies?",
            lines: vec![format!(
                "These {} replies will be erased: their text, name, email, website and address. \
                 One that others answered keeps its place, under “This reply was removed.”, so \
                 their answers still make sense. This cannot be undone.",
                replies.len()
            )],
            erase_url: Some(format!("/my-replies/{token}")),
            replies: shown_replies,
            ..Parts::default()
        },
    };
    render(&state, StatusCode::OK, parts)
}

/// `GET /my-replies/{token}/replies.json`: the copy, as a file.
pub async fn json(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let Some(request) = reader_data::request(&state.services, &token).await? else {
        return not_working(&state);
    };
    if request.action != Action::Copy {
        return not_working(&state);
    }
    let replies = reader_data::replies(&state.services, &request.email).await?;
    Ok(json_download(&state, &replies))
}

/// Replies as the copy's JSON file (`my-replies.json`), for the reader or staff.
pub(crate) fn json_download(state: &AppState, replies: &[ReaderReply]) -> Response {
    let base = &state.config.base_url;
    let items: Vec<serde_json::Value> = replies
        .iter()
        .map(|r| {
            serde_json::json!({
                "id": r.id.get(),
                "article": r.title,
                "url": r.path.as_ref().map(|p| format!("{base}{p}#comment-{}", r.id)),
                "posted_at": crate::domain::time::iso(r.created_at, &state.config.timezone),
                "status": r.status.as_str(),
                "name": r.name,
                "email": r.email,
                "website": r.website,
                "ip": r.ip,
                "text": r.body,
            })
        })
        .collect();
    let body =
        serde_json::to_vec_pretty(&serde_json::json!({ "replies": items })).unwrap_or_default();
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
        (header::CACHE_CONTROL, HeaderValue::from_static("private, no-store")),
        (
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment; filename=\"my-replies.json\""),
        ),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
    ];
    (StatusCode::OK, headers, body).into_response()
}

/// `POST /my-replies/{token}`: the erasure, once.
pub async fn erase(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let Some(count) = reader_data::erase_with(&state.services, &token).await? else {
        return not_working(&state);
    };
    let lines =
        vec![format!("{count} replies were erased, and this address's subscriptions with them.")];
    render(
        &state,
        StatusCode::OK,
        Parts { title: "Your replies are erased", lines, ..Parts::default() },
    )
}
