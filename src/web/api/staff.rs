//! The staff's API, with a personal access token: writing, publishing and scheduling
//! articles, and moderating replies. Each call goes through the same service as the
//! newsroom's page for it, as the token's account: an author's token changes its author's
//! articles only, whatever its scopes. Writes count against `api_writes_per_minute`.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::de::DeserializeOwned;

use super::auth::ApiStaff;
use super::reading::{path_id, revision_name};
use super::schema::{
    ArticleIn, ArticleOut, ArticlePage, ArticleSummaryOut, Decided, DecisionIn, Me, QueuePage,
    QueuedOut, ReplyOut, ScheduleIn,
};
use super::{ApiError, Problem, Sharing, json, json_tagged, number, one, query_pairs};
use crate::domain::staff::TokenScope;
use crate::domain::{
    ArticleId, ArticleStatus, AuthorId, FieldError, ReplyId, ReplyStatus, RevisionId,
};
use crate::services::catalog;
use crate::services::moderation::{self, Decision, ModerationError};
use crate::services::publishing::{self, Action, EditorInput, PublishError};
use crate::store::{ArticleQuery, QueueQuery};
use crate::web::AppState;

/// `GET /api/v1/me`
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "staff",
    security(("token" = [])),
    responses(
        (status = 200, description = "The account the token acts for, and its scopes.", body = Me),
        (status = 304, description = "Unchanged since the `ETag` given in `If-None-Match`."),
        (status = 401, description = "No token, or not a valid one.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn me(
    State(_state): State<AppState>,
    staff: ApiStaff,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let out = Me {
        id: staff.user.id.get(),
        name: staff.user.author.name.clone(),
        role: staff.user.role.as_str().to_owned(),
        scopes: staff.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
    };
    Ok(json(&headers, StatusCode::OK, &out, Sharing::Private))
}

/// A write: counted against the account's limit.
fn count_write(state: &AppState, staff: &ApiStaff) -> Result<(), ApiError> {
    let now = state.services.clock.now();
    state.api_writes.check(staff.user.id, now, state.config.api_writes_per_minute)
}

/// A JSON body, or a `400`/`415` that says what is wrong with it.
async fn read_json<T: DeserializeOwned>(headers: &HeaderMap, body: Body) -> Result<T, ApiError> {
    let kind = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !kind.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("application/json") {
        return Err(ApiError::UnsupportedMediaType);
    }
    let bytes = axum::body::to_bytes(body, usize::MAX).await.map_err(|_| ApiError::TooLarge)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::BadRequest(format!("The JSON could not be read: {e}.")))
}

/// `POST /api/v1/articles`
#[utoipa::path(
    post,
    path = "/api/v1/articles",
    tag = "staff",
    security(("token" = [])),
    request_body(content = ArticleIn, content_type = "application/json"),
    responses(
        (status = 201, description = "Created, as a draft. Needs `write_articles`.", body = ArticleOut,
            headers(("ETag" = String, description = "Send it as `If-Match` to change the article."), ("Location" = String))),
        (status = 400, description = "The JSON could not be read.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No token, or not a valid one.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope, or the account may not do this.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "What is wrong with each field.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many changes from this account in a minute.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = i64))),
    )
)]
pub async fn create_article(
    State(state): State<AppState>,
    staff: ApiStaff,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    staff.needs(TokenScope::WriteArticles)?;
    let sent: ArticleIn = read_json(&headers, body).await?;
    count_write(&state, &staff)?;
    let mut input = EditorInput { replies_open: true, ..Default::default() };
    input.author_ids = vec![staff.user.author.id];
    overlay(&mut input, sent);
    let id = publishing::create(&state.services, &staff.user, &input, Action::Save)
        .await
        .map_err(publish_error)?;
    let mut response = article_answer(&state, &staff, &headers, id, StatusCode::CREATED).await?;
    let location = format!("{}/api/v1/articles/{id}", state.config.base_url);
    if let Ok(value) = axum::http::HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// The fields sent, over what the article has (or a new one's defaults).
fn overlay(input: &mut EditorInput, sent: ArticleIn) {
    let set = |field: &mut String, value: Option<String>| {
        if let Some(value) = value {
            *field = value;
        }
    };
    set(&mut input.headline, sent.headline);
    set(&mut input.standfirst, sent.standfirst);
    set(&mut input.slug, sent.slug);
    set(&mut input.body_markdown, sent.body_markdown);
    set(&mut input.section, sent.section);
    set(&mut input.image_url, sent.image_url);
    set(&mut input.image_caption, sent.image_caption);
    set(&mut input.image_alt, sent.image_alt);
    set(&mut input.seo_title, sent.seo_title);
    set(&mut input.seo_description, sent.seo_description);
    set(&mut input.social_image, sent.social_image);
    if let Some(tags) = sent.tags {
        input.tags = tags.join(", ");
    }
    if let Some(authors) = sent.authors {
        input.author_ids = authors.into_iter().map(AuthorId).collect();
    }
    if let Some(open) = sent.replies_open {
        input.replies_open = open;
    }
    if let Some(lead) = sent.lead {
        input.lead = lead;
    }
}

/// The article as the token may read it, tagged with its revision.
async fn article_answer(
    state: &AppState,
    staff: &ApiStaff,
    headers: &HeaderMap,
    id: ArticleId,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let Some((article, revision)) = catalog::article(&state.services, id).await? else {
        return Err(ApiError::NotFound("The article is gone.".into()));
    };
    let name = revision_name(revision);
    let with_source = staff.has(TokenScope::ReadDrafts) || staff.has(TokenScope::WriteArticles);
    let out = ArticleOut::of(&state.config, &article, name.clone(), with_source);
    let mut response = json_tagged(headers, StatusCode::OK, &out, Sharing::Private, &name);
    *response.status_mut() = status;
    Ok(response)
}

/// The revision `If-Match` names (`"r12-…"`), or why it cannot be used.
fn if_match(headers: &HeaderMap) -> Result<Option<RevisionId>, ApiError> {
    let Some(raw) = headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()) else {
        return Err(ApiError::PreconditionRequired);
    };
    if raw.trim() == "*" {
        return Ok(None);
    }
    let revision = raw
        .trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .strip_prefix('r')
        .and_then(|rest| rest.split('-').next())
        .and_then(|n| n.parse::<i64>().ok());
    match revision {
        Some(0) => Ok(None),
        Some(n) if n > 0 => Ok(Some(RevisionId(n))),
        _ => Err(ApiError::PreconditionFailed(
            "`If-Match` does not name a state of this article: send the `ETag` it was read \
             with."
                .into(),
        )),
    }
}

/// `PATCH /api/v1/articles/{id}`
#[utoipa::path(
    patch,
    path = "/api/v1/articles/{id}",
    tag = "staff",
    security(("token" = [])),
    params(
        ("id" = i64, Path, minimum = 1),
        ("If-Match" = String, Header, description = "The article's `ETag` as last read: if it was saved since, nothing is changed (`412`)."),
    ),
    request_body(content = ArticleIn, content_type = "application/json", description = "The fields to change; the others stay."),
    responses(
        (status = 200, description = "Changed (its status as it was). Needs `write_articles`.", body = ArticleOut,
            headers(("ETag" = String))),
        (status = 400, description = "The id or the JSON is malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No token, or not a valid one.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope, or the account may not edit this article.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article.", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The slug is taken.", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "The article was saved since the `ETag` given: read it again.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "What is wrong with each field.", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "`If-Match` is missing.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many changes from this account in a minute.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = i64))),
    )
)]
pub async fn update_article(
    State(state): State<AppState>,
    staff: ApiStaff,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let id = path_id(&id)?;
    staff.needs(TokenScope::WriteArticles)?;
    let sent: ArticleIn = read_json(&headers, body).await?;
    let opened = if_match(&headers)?;
    count_write(&state, &staff)?;
    save(&state, &staff, id, opened, Action::Save, sent).await?;
    article_answer(&state, &staff, &headers, id, StatusCode::OK).await
}

/// Saves `sent` over the article as it is, with `action`.
async fn save(
    state: &AppState,
    staff: &ApiStaff,
    id: ArticleId,
    opened: Option<RevisionId>,
    action: Action,
    sent: crate::web::api::schema::ArticleIn,
) -> Result<(), ApiError> {
    let data =
        publishing::editor(&state.services, &staff.user, Some(id)).await.map_err(publish_error)?;
    let Some(article) = data.article else { return Err(missing()) };
    let mut input = publishing::input_from_article(&article, data.lead);
    overlay(&mut input, sent);
    publishing::update(&state.services, &staff.user, id, &input, action, opened)
        .await
        .map_err(publish_error)
}

fn missing() -> ApiError {
    ApiError::NotFound("There is no article with this id.".into())
}

/// A status change: `publish`, `schedule` or `unpublish`.
async fn change_status(
    state: &AppState,
    staff: &ApiStaff,
    headers: &HeaderMap,
    id: &str,
    action: Action,
) -> Result<Response, ApiError> {
    let id = path_id(id)?;
    staff.needs(TokenScope::Publish)?;
    count_write(state, staff)?;
    save(state, staff, id, None, action, ArticleIn::default()).await?;
    article_answer(state, staff, headers, id, StatusCode::OK).await
}

/// `POST /api/v1/articles/{id}/publish`
#[utoipa::path(
    post,
    path = "/api/v1/articles/{id}/publish",
    tag = "staff",
    security(("token" = [])),
    params(("id" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "Published (the date in its address is fixed at the first publication). Needs `publish`.", body = ArticleOut),
        (status = 400, description = "The id is malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No token, or not a valid one.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope, or the account may not publish this article.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "It cannot be published as it is (each reason named).", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many changes from this account in a minute.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = i64))),
    )
)]
pub async fn publish(
    State(state): State<AppState>,
    staff: ApiStaff,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    change_status(&state, &staff, &headers, &id, Action::Publish).await
}

/// `POST /api/v1/articles/{id}/unpublish`
#[utoipa::path(
    post,
    path = "/api/v1/articles/{id}/unpublish",
    tag = "staff",
    security(("token" = [])),
    params(("id" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "Back to draft: its page answers 404 again. Needs `publish`.", body = ArticleOut),
        (status = 400, description = "The id is malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No token, or not a valid one.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope, or the account may not change this article.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "It cannot be unpublished as it is.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many changes from this account in a minute.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = i64))),
    )
)]
pub async fn unpublish(
    State(state): State<AppState>,
    staff: ApiStaff,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    change_status(&state, &staff, &headers, &id, Action::Unpublish).await
}

/// `POST /api/v1/articles/{id}/schedule`
#[utoipa::path(
    post,
    path = "/api/v1/articles/{id}/schedule",
    tag = "staff",
    security(("token" = [])),
    params(("id" = i64, Path, minimum = 1)),
    request_body(content = ScheduleIn, content_type = "application/json"),
    responses(
        (status = 200, description = "Scheduled: it publishes itself at that time. Needs `publish`.", body = ArticleOut),
        (status = 400, description = "The id or the JSON is malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No token, or not a valid one.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope, or the account may not change this article.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such article.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The time is past, or the article cannot be scheduled (each reason named).", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many changes from this account in a minute.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = i64))),
    )
)]
pub async fn schedule(
    State(state): State<AppState>,
    staff: ApiStaff,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    staff.needs(TokenScope::Publish)?;
    let sent: ScheduleIn = read_json(&headers, body).await?;
    let at = sent.at.parse::<jiff::Timestamp>().map_err(|_| {
        ApiError::Invalid(vec![FieldError::new(
            "at",
            "Give the time as RFC 3339, such as 2026-12-24T08:00:00Z.",
        )])
    })?;
    change_status(&state, &staff, &headers, &id, Action::Schedule(Some(at.as_second()))).await
}

/// What publishing refused, as a problem.
fn publish_error(e: PublishError) -> ApiError {
    match e {
        PublishError::Fields(errors) => ApiError::Invalid(errors),
        PublishError::Forbidden => ApiError::Forbidden {
            code: "not_yours",
            detail: "This account may change its own articles only.".into(),
        },
        PublishError::NotFound => missing(),
        PublishError::Conflict(conflict) => ApiError::PreconditionFailed(format!(
            "The article was saved since you read it{}: read it again, then apply your change.",
            if conflict.by.is_empty() { String::new() } else { format!(", by {}", conflict.by) }
        )),
        PublishError::NotAllowed(why) => {
            ApiError::Forbidden { code: "not_allowed", detail: why.into() }
        }
        PublishError::Store(e) => e.into(),
    }
}

/// Replies a page of the queue at most.
const QUEUE_LIMIT: i64 = 100;

/// `GET /api/v1/queue`
#[utoipa::path(
    get,
    path = "/api/v1/queue",
    tag = "staff",
    security(("token" = [])),
    params(
        ("status" = Option<String>, Query, description = "`pending` (the default), `approved`, `spam` or `trash`.", pattern = "^(pending|approved|spam|trash)$"),
        ("article" = Option<i64>, Query, description = "One article's replies.", minimum = 1),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100),
        ("cursor" = Option<String>, Query, description = "`next` of the page before.", pattern = "^o[0-9]{1,9}$"),
    ),
    responses(
        (status = 200, description = "Replies the account moderates, the newest first. Needs `moderate`. No email or address is included.", body = QueuePage),
        (status = 304, description = "Unchanged since the `ETag` given in `If-None-Match`."),
        (status = 400, description = "A parameter is malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No token, or not a valid one.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn queue(
    State(state): State<AppState>,
    staff: ApiStaff,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    staff.needs(TokenScope::Moderate)?;
    let pairs = query_pairs(query.as_deref())?;
    let status = match one(&pairs, "status") {
        None => ReplyStatus::Pending,
        Some(raw) => ReplyStatus::parse(raw).ok_or_else(|| {
            ApiError::BadRequest("`status` is one of pending, approved, spam, trash.".into())
        })?,
    };
    let limit = number(&pairs, "limit", 1, QUEUE_LIMIT)?.unwrap_or(20) as u64;
    let offset = match one(&pairs, "cursor") {
        None => 0,
        Some(raw) => {
            raw.strip_prefix('o').and_then(|n| n.parse::<u64>().ok()).ok_or_else(|| {
                ApiError::BadRequest("`cursor` is not one this API gave: pass `next`.".into())
            })?
        }
    };
    let query = QueueQuery {
        status: Some(status),
        article_id: number(&pairs, "article", 1, i64::MAX)?.map(ArticleId),
        offset,
        limit,
        ..Default::default()
    };
    let found = moderation::queue(&state.services, &staff.user, query).await?;
    let replies = found
        .replies
        .iter()
        .map(|q| QueuedOut {
            reply: ReplyOut::of(&q.reply, 1, q.reply.status == ReplyStatus::Pending),
            status: q.reply.status.as_str().to_owned(),
            article_id: q.reply.article_id.get(),
            headline: q.article_headline.clone(),
            url: q.public_path().map(|p| {
                if p.contains("://") { p } else { format!("{}{p}", state.config.base_url) }
            }),
            held_reason: q.held_reason.clone(),
        })
        .collect();
    let next = (offset + limit < found.total).then(|| format!("o{}", offset + limit));
    let out = QueuePage { replies, total: found.total, next };
    Ok(json(&headers, StatusCode::OK, &out, Sharing::Private))
}

/// `POST /api/v1/replies/{id}`
#[utoipa::path(
    post,
    path = "/api/v1/replies/{id}",
    tag = "staff",
    security(("token" = [])),
    params(("id" = i64, Path, description = "The reply's id.", minimum = 1)),
    request_body(content = DecisionIn, content_type = "application/json"),
    responses(
        (status = 200, description = "Done. Needs `moderate`; authors moderate replies on their own articles only.", body = Decided),
        (status = 400, description = "The id or the JSON is malformed, or the action unknown.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No token, or not a valid one.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope, or the account may not moderate this reply.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such reply.", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is too large.", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON.", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The text of an edit or answer is not acceptable.", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many changes from this account in a minute.", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = i64))),
    )
)]
pub async fn moderate(
    State(state): State<AppState>,
    staff: ApiStaff,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let id = ReplyId(path_id(&id)?.get());
    staff.needs(TokenScope::Moderate)?;
    let sent: DecisionIn = read_json(&headers, body).await?;
    let text = || {
        sent.comment.clone().ok_or_else(|| {
            ApiError::Invalid(vec![FieldError::new("comment", "Give the text as `comment`.")])
        })
    };
    let services = &state.services;
    let mut answer_id = None;
    match sent.action.as_str() {
        "edit" => {
            let text = text()?;
            count_write(&state, &staff)?;
            moderation::edit(services, &staff.user, id, &text).await.map_err(moderation_error)?;
        }
        "answer" => {
            let text = text()?;
            count_write(&state, &staff)?;
            let answer = moderation::answer(services, &staff.user, id, &text).await;
            answer_id = Some(answer.map_err(moderation_error)?.get());
        }
        verb => {
            let Some(decision) = Decision::parse(verb) else {
                return Err(ApiError::BadRequest(
                    "`action` is one of approve, unapprove, spam, notspam, trash, restore, \
                     delete, edit, answer."
                        .into(),
                ));
            };
            count_write(&state, &staff)?;
            moderation::decide(services, &staff.user, decision, vec![id])
                .await
                .map_err(moderation_error)?;
        }
    }
    let status = crate::services::discussion::stored_reply(services, id)
        .await?
        .map_or("deleted".to_owned(), |r| r.status.as_str().to_owned());
    let out = Decided { id: id.get(), status, answer_id };
    Ok(json(&headers, StatusCode::OK, &out, Sharing::Private))
}

fn moderation_error(e: ModerationError) -> ApiError {
    match e {
        ModerationError::Invalid(error) => ApiError::Invalid(vec![error]),
        ModerationError::Forbidden => ApiError::Forbidden {
            code: "not_yours",
            detail: "This account moderates replies on its own articles only.".into(),
        },
        ModerationError::NotFound => ApiError::NotFound("There is no reply with this id.".into()),
        ModerationError::Store(e) => e.into(),
    }
}

/// `GET /api/v1/drafts`
#[utoipa::path(
    get,
    path = "/api/v1/drafts",
    tag = "staff",
    security(("token" = [])),
    params(
        ("status" = Option<String>, Query, description = "`draft` (the default) or `scheduled`.", pattern = "^(draft|scheduled)$"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 100),
        ("cursor" = Option<String>, Query, description = "`next` of the page before.", pattern = "^o[0-9]{1,9}$"),
    ),
    responses(
        (status = 200, description = "Articles not yet public that the account may edit, the last changed first. Needs `read_drafts`.", body = ArticlePage),
        (status = 304, description = "Unchanged since the `ETag` given in `If-None-Match`."),
        (status = 400, description = "A parameter is malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No token, or not a valid one.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token lacks the scope.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn drafts(
    State(state): State<AppState>,
    staff: ApiStaff,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    staff.needs(TokenScope::ReadDrafts)?;
    let pairs = query_pairs(query.as_deref())?;
    let status = match one(&pairs, "status") {
        None | Some("draft") => ArticleStatus::Draft,
        Some("scheduled") => ArticleStatus::Scheduled,
        Some(_) => return Err(ApiError::BadRequest("`status` is draft or scheduled.".into())),
    };
    let limit = number(&pairs, "limit", 1, 100)?.unwrap_or(20) as u64;
    let offset = match one(&pairs, "cursor") {
        None => 0,
        Some(raw) => {
            raw.strip_prefix('o').and_then(|n| n.parse::<u64>().ok()).ok_or_else(|| {
                ApiError::BadRequest("`cursor` is not one this API gave: pass `next`.".into())
            })?
        }
    };
    let query = ArticleQuery { status: Some(status), offset, limit, ..Default::default() };
    let list = publishing::list(&state.services, &staff.user, query).await?;
    let articles = list.articles.iter().map(|a| ArticleSummaryOut::of(&state.config, a)).collect();
    let next = (offset + limit < list.total).then(|| format!("o{}", offset + limit));
    Ok(json(&headers, StatusCode::OK, &ArticlePage { articles, next }, Sharing::Private))
}
