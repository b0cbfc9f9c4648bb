//! Posting a reply through the API: to an article (or a static page's discussion) by id, or
//! to another site's page by its address (the embed), the first reply making its thread. The
//! same call as the form (`services::discussion`), so the same rules hold: the form token and
//! the time it took to fill, the honeypot, the rate limit, duplicates, the moderation policy.
//! No cookie is read or set: a poster's held replies travel as the signed `poster` token.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use super::schema::{FormToken, Posted, ReplyIn, ReplyOut};
use super::{ApiError, Problem, Sharing, json, one, query_pairs};
use crate::domain::signing::{FormFor, issue_token_for};
use crate::domain::{ReplyInput, ReplyStatus};
use crate::services::discussion::{self, PostError, RequestFacts};
use crate::services::{catalog, settings, threads};
use crate::web::AppState;
use crate::web::{cookies, defenses, thread};

/// `GET /api/v1/token`
#[utoipa::path(
    get,
    path = "/api/v1/token",
    tag = "replies",
    params(
        ("article" = Option<i64>, Query, description = "The article (or static page's discussion) to reply to.", minimum = 1),
        ("url" = Option<String>, Query, description = "Or the canonical address of a page on a site that embeds replies."),
    ),
    responses(
        (status = 200, description = "A fresh form token: send it with the reply. Replies sent very soon after it was issued are held (`min_fill_seconds`).", body = FormToken),
        (status = 400, description = "Neither `article` nor `url` was given, or one is malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The page's site may not embed replies.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such published article.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn token(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(query.as_deref())?;
    let now = state.services.clock.now();
    let keys = &state.services.keys;
    let token = if let Some(raw) = one(&pairs, "article") {
        let id = super::reading::path_id(raw)?;
        let Some(found) = catalog::discussion(&state.services, id).await? else {
            return Err(ApiError::NotFound("There is no published article with this id.".into()));
        };
        issue_token_for(keys, FormFor::Article(found.article_id), now)
    } else if let Some(raw) = one(&pairs, "url") {
        let url = embeddable(&state, raw).await?;
        issue_token_for(keys, FormFor::Thread(&url), now)
    } else {
        return Err(ApiError::BadRequest(
            "Name what the reply is for: `article` (an id) or `url` (a page's address).".into(),
        ));
    };
    let out = FormToken { token, issued_at: super::schema::moment(now) };
    // Fresh for each reader: the time the form took to fill counts from here.
    let mut response = json(&headers, StatusCode::OK, &out, Sharing::Private);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    Ok(response)
}

async fn embeddable(state: &AppState, raw: &str) -> Result<String, ApiError> {
    let settings = settings::effective(&state.services).await?.settings;
    threads::embeddable(&settings, raw).ok_or_else(unlisted)
}

fn unlisted() -> ApiError {
    ApiError::Forbidden {
        code: "unlisted_site",
        detail: "Replies from this site's pages are not taken: an admin lists the sites that \
                 may embed replies in the settings (`embed_origins`)."
            .into(),
    }
}

/// `POST /api/v1/articles/{id}/replies`
#[utoipa::path(
    post,
    path = "/api/v1/articles/{id}/replies",
    tag = "replies",
    params(("id" = i64, Path, description = "The article's id (or a static page's discussion's).", minimum = 1)),
    request_body(content(
        (ReplyIn = "application/json"),
        (ReplyIn = "application/x-www-form-urlencoded"),
    )),
    responses(
        (status = 201, description = "Stored. `held` says whether it awaits moderation.", body = Posted,
            headers(("Location" = String, description = "The page that shows it."))),
        (status = 400, description = "The body could not be read.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Replies are closed here, or the request came from a page of a site that may not post.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such published article.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither JSON nor a web form.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not posted: what is wrong with each field, all at once.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many replies from this address: try again after `Retry-After` seconds.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = i64, description = "Seconds to wait."))),
        (status = 503, description = "Not stored: the database could not be reached.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn reply_to_article(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let id = super::reading::path_id(&id)?;
    let sent = read_reply(&headers, body).await?;
    if !super::cors::may_post_from(&state, &headers).await {
        return Err(unlisted());
    }
    let (input, facts) = form_of(&state, peer, &headers, &sent);
    let posted = discussion::post_reply_to(&state.services, id, &input, facts).await;
    answer(&state, &headers, &sent, posted).await
}

/// `POST /api/v1/threads/replies`
#[utoipa::path(
    post,
    path = "/api/v1/threads/replies",
    tag = "replies",
    request_body(
        description = "The reply, with `url` (the page's canonical address) and, for the page's first reply, `title`.",
        content((ReplyIn = "application/json"), (ReplyIn = "application/x-www-form-urlencoded")),
    ),
    responses(
        (status = 201, description = "Stored (the page's thread made with it if it is the first). `held` says whether it awaits moderation.", body = Posted,
            headers(("Location" = String, description = "The page that shows it."))),
        (status = 400, description = "The body could not be read.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Replies are closed here, or the page's site may not embed replies.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither JSON nor a web form.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not posted: what is wrong with each field, all at once.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many replies from this address: try again after `Retry-After` seconds.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = i64, description = "Seconds to wait."))),
        (status = 503, description = "Not stored: the database could not be reached.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn reply_to_thread(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let sent = read_reply(&headers, body).await?;
    if !super::cors::may_post_from(&state, &headers).await {
        return Err(unlisted());
    }
    let (input, facts) = form_of(&state, peer, &headers, &sent);
    let posted =
        discussion::post_thread_reply(&state.services, &sent.url, &sent.title, &input, facts).await;
    answer(&state, &headers, &sent, posted).await
}

/// The body as JSON or as a web form.
async fn read_reply(headers: &HeaderMap, body: Body) -> Result<ReplyIn, ApiError> {
    let kind = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let kind = kind.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.map_err(|_| ApiError::TooLarge)?;
    match kind.as_str() {
        "application/json" => serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::BadRequest(format!("The JSON could not be read: {e}."))),
        "application/x-www-form-urlencoded" => {
            let pairs = crate::web::form::parse(&bytes)
                .map_err(|_| ApiError::BadRequest("The form's text is not UTF-8.".into()))?;
            Ok(reply_in_from(&pairs))
        }
        _ => Err(ApiError::UnsupportedMediaType),
    }
}

fn reply_in_from(pairs: &[(String, String)]) -> ReplyIn {
    let value = |name| crate::web::form::first(pairs, name).unwrap_or_default().to_owned();
    let on = |name| crate::web::form::first(pairs, name).is_some_and(|v| !v.is_empty());
    ReplyIn {
        comment: value("comment"),
        name: value("name"),
        email: value("email"),
        website: value("website"),
        // A parent that is not a number is answered as the form answers one: not available.
        parent: crate::web::form::first(pairs, "parent")
            .filter(|v| !v.is_empty())
            .map(|v| v.parse::<i64>().unwrap_or(-1)),
        token: value("token"),
        homepage: value("homepage"),
        notify_replies: on("notify_replies"),
        follow_article: on("follow_article"),
        poster: value("poster"),
        url: value("url"),
        title: value("title"),
    }
}

/// The form as the services take it, and what the request says of how it was sent.
fn form_of(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    sent: &ReplyIn,
) -> (ReplyInput, RequestFacts) {
    let input = ReplyInput {
        comment: sent.comment.clone(),
        name: sent.name.clone(),
        email: sent.email.clone(),
        website: sent.website.clone(),
        parent: sent.parent.map(|p| p.to_string()).unwrap_or_default(),
        remember: false,
        notify_replies: sent.notify_replies,
        follow_article: sent.follow_article,
    };
    let ip = defenses::client_ip(peer.ip(), headers, &state.config.trusted_proxies);
    let facts = RequestFacts {
        ip: Some(ip.to_string()),
        token: sent.token.clone(),
        honeypot_filled: !sent.homepage.trim().is_empty(),
    };
    (input, facts)
}

/// `201` with the stored reply, or the problem.
async fn answer(
    state: &AppState,
    headers: &HeaderMap,
    sent: &ReplyIn,
    posted: Result<discussion::Posted, PostError>,
) -> Result<Response, ApiError> {
    state.metrics.reply(crate::web::article::outcome(&posted));
    let posted = posted.map_err(post_error)?;
    let held = posted.status != ReplyStatus::Approved;
    let keys = &state.services.keys;
    let new_held = (posted.status == ReplyStatus::Pending).then_some(posted.id);
    let poster = cookies::poster_token(keys, &sent.poster, new_held);
    let stored = discussion::stored_reply(&state.services, posted.id).await.ok().flatten();
    let Some(reply) = stored else {
        // Stored, but not read back: the reply is safe; say so plainly.
        return Err(ApiError::Unavailable("a stored reply could not be read back".into()));
    };
    let path = posted.location.split('#').next().unwrap_or_default().to_owned();
    let context = thread::Context {
        path: &path,
        replies_open: true,
        tz: &state.config.timezone,
        own: thread::Own::default(),
    };
    let out = Posted {
        reply: ReplyOut::of(&reply, 1, held),
        held,
        location: absolute(state, &posted.location),
        article_id: reply.article_id.get(),
        poster,
        html: thread::card(&reply, posted.status == ReplyStatus::Pending, &context)?,
    };
    let mut response = json(headers, StatusCode::CREATED, &out, Sharing::Private);
    if let Ok(value) = axum::http::HeaderValue::from_str(&out.location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

fn absolute(state: &AppState, location: &str) -> String {
    if location.contains("://") {
        location.to_owned()
    } else {
        format!("{}{location}", state.config.base_url)
    }
}

/// What the services refused, as a problem. The client still holds what it sent.
pub(crate) fn post_error(e: PostError) -> ApiError {
    match e {
        PostError::Invalid(errors) => ApiError::Invalid(errors),
        PostError::Closed => ApiError::Forbidden {
            code: "replies_closed",
            detail: "This no longer takes replies. Nothing was posted.".into(),
        },
        PostError::RateLimited(retry_after) => ApiError::RateLimited {
            retry_after,
            detail: "You have sent several replies in the last minute. Please wait a minute, \
                     then send this one again."
                .into(),
        },
        PostError::NotFound => {
            ApiError::NotFound("There is no published article with this id.".into())
        }
        PostError::UnlistedSite => unlisted(),
        PostError::Store(e) => ApiError::Unavailable(format!("the reply was not stored: {e}")),
    }
}
