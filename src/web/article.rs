//! The article page, its replies and the "Leave a Reply" form, and posting that form. The
//! handlers parse and render; `services::reading` reads the page and `services::discussion`
//! posts the reply.

use std::net::SocketAddr;

use askama::Template;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::cookies::{self, RememberedReader};
use super::defenses;
use super::error::AppError;
use super::form;
use super::layout::Layout;
use super::response::{Caching, html, moved_permanently, redirect};
use super::story::Story;
use super::summary::{Summary, summary};
use super::thread;
use crate::domain::signing::issue_token;
use crate::domain::{FieldError, ReplyId, ReplyInput, ReplyStatus, WHOLE_FORM, message_for};
use crate::services::discussion::{self, PostError, RequestFacts};
use crate::services::reading::{self, ArticleAddress, ArticleLookup, ArticleRequest, Located};
use crate::store::{Article, Reply};

type ArticleParams = Path<(String, String, String, String)>;

/// The article's address, if the date has a date's shape: `/about/team/a/b/` is no article's
/// (a static page's, perhaps), whatever article is called `b`.
fn address(
    (year, month, day, slug): (String, String, String, String),
) -> Result<ArticleAddress, AppError> {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(&year, 4) && digits(&month, 2) && digits(&day, 2)) {
        return Err(AppError::NotFound);
    }
    Ok(ArticleAddress { date: format!("{year}/{month}/{day}"), slug })
}

#[derive(Template)]
#[template(path = "article.html")]
struct ArticlePage<'a> {
    layout: Layout<'a>,
    path: String,
    article: &'a Article,
    story: Story,
    reply_count: i64,
    reply_heading: String,
    thread_html: String,
    /// Links to the older and newer pages of replies.
    older: Option<String>,
    newer: Option<String>,
    /// The signed form token (see `domain::signing`).
    token: String,
    related: Vec<Summary>,
    /// Whether the form is shown: replies open, and the article not too old.
    open: bool,
    form: &'a ReplyInput,
    reply_to: Option<&'a Reply>,
    errors: &'a [FieldError],
    /// Whether the form offers mail about replies (`mail` is on).
    mail: bool,
    live: Live,
}

/// What the page's script needs to show new replies as they come: where they are announced,
/// how deep answers nest, and whether this is the newest page of replies (which new
/// top-level replies join).
#[derive(Debug, Clone, Default)]
pub(super) struct Live {
    pub events: String,
    pub max_depth: usize,
    pub newest: bool,
}

impl Live {
    pub(super) fn of(article: crate::domain::ArticleId, max_depth: usize, newest: bool) -> Self {
        Self { events: format!("/api/v1/articles/{article}/events"), max_depth, newest }
    }
}

impl ArticlePage<'_> {
    /// The message for one form field, if it has one.
    fn error(&self, field: &str) -> Option<&str> {
        message_for(self.errors, field)
    }

    /// The refused form's summary.
    fn problems(&self) -> Vec<form::Problem<'_>> {
        form::problems(self.errors, form::REPLY_FIELDS)
    }

    /// The start of the reply the form answers, quoted above it.
    fn quote(&self) -> String {
        self.reply_to.map(|r| crate::domain::text::excerpt(&r.body, 200)).unwrap_or_default()
    }
}

/// `GET /2026/11/24/slug/`: the article, its replies and the form.
pub async fn show(
    State(state): State<AppState>,
    Path(params): ArticleParams,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let mut input = ReplyInput::default();
    if let Some(reader) = RememberedReader::from_headers(&headers) {
        input.name = reader.name;
        input.email = reader.email;
        input.website = reader.website;
        input.remember = true;
    }
    if let Some(id) = form::query_value(query.as_deref(), "replytocom") {
        input.parent = id;
    }
    let replies_page = match form::query_value(query.as_deref(), "replies") {
        Some(raw) => Some(raw.parse::<usize>().map_err(|_| AppError::NotFound)?),
        None => None,
    };
    let page = PageRequest { input: &input, errors: Vec::new(), headers: &headers, replies_page };
    render(&state, &address(params)?, page, StatusCode::OK).await
}

/// `/2026/11/24/slug` → `/2026/11/24/slug/`.
pub async fn without_slash(
    State(state): State<AppState>,
    Path(params): ArticleParams,
) -> Result<Response, AppError> {
    match reading::locate_article(&state.services, &address(params)?).await? {
        Located::Here(article) => {
            Ok(moved_permanently(&article.public_path().ok_or(AppError::NotFound)?))
        }
        Located::Elsewhere(path) => Ok(moved_permanently(&path)),
        Located::Missing => Err(AppError::NotFound),
    }
}

/// `POST /2026/11/24/slug/`: a reader's reply. `303` to the reply when stored; `422` with
/// the page, the messages and everything typed when not; `429` when this address sent too
/// many, its text kept all the same.
pub async fn reply(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(params): ArticleParams,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    let bytes = form::read(&headers, body).await?;
    let pairs = form::parse(&bytes).map_err(|_| AppError::BadRequest(form::NOT_UTF8))?;
    let input = reply_input(&pairs);
    if !defenses::sent_from_here(&headers, &state.config.base_url) {
        state.metrics.reply("foreign");
        return Err(AppError::ForeignForm { kept: input.comment });
    }
    let facts = RequestFacts {
        ip: Some(
            defenses::client_ip(peer.ip(), &headers, &state.config.trusted_proxies).to_string(),
        ),
        token: form::first(&pairs, "token").unwrap_or_default().to_owned(),
        honeypot_filled: form::first(&pairs, HONEYPOT).is_some_and(|v| !v.trim().is_empty()),
    };
    let address = address(params)?;
    let (state, address, headers, input) = (&state, &address, &headers, &input);
    let refused = |errors: Vec<FieldError>, status| async move {
        let page = PageRequest { input, errors, headers, replies_page: None };
        // The form comes back with the reader's text; failing that, the error page does.
        render(state, address, page, status).await.map_err(|e| match e {
            AppError::Store(cause) => {
                AppError::ReplyNotSaved { kept: input.comment.clone(), cause }
            }
            other => other,
        })
    };
    let posted = discussion::post_reply(&state.services, address, input, facts).await;
    state.metrics.reply(super::article::outcome(&posted));
    if wants_json(headers)
        && let Some(answer) = script_answer(state, headers, input, &posted).await
    {
        return Ok(answer);
    }
    match posted {
        Ok(posted) => Ok(posted_response(state, headers, input, posted)),
        Err(PostError::Invalid(errors)) => refused(errors, StatusCode::UNPROCESSABLE_ENTITY).await,
        Err(PostError::RateLimited(retry_after)) => {
            let message = "You have sent several replies in the last minute. Please wait a \
                           minute, then send this one again: everything you typed is still here.";
            let errors = vec![FieldError::new(WHOLE_FORM, message)];
            let mut response = refused(errors, StatusCode::TOO_MANY_REQUESTS).await?;
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            Ok(response)
        }
        Err(PostError::Closed) => Err(AppError::RepliesClosed { kept: input.comment.clone() }),
        Err(PostError::NotFound | PostError::UnlistedSite) => Err(AppError::NotFound),
        // Whatever fails in the store, the reader gets their text back.
        Err(PostError::Store(cause)) => {
            Err(AppError::ReplyNotSaved { kept: input.comment.clone(), cause })
        }
    }
}

/// Whether the page's script sent the form: it asks for JSON, shows the reply (or the
/// messages beside their fields) without a reload, and sends the form again the plain way on
/// any other answer.
pub(super) fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// The script's answer: `201` with the reply's card and the cookies the plain form sets, or
/// the messages as a problem (`422`, `429`); `None` for anything else, which the plain form
/// answers.
pub(super) async fn script_answer(
    state: &AppState,
    headers: &HeaderMap,
    input: &ReplyInput,
    posted: &Result<discussion::Posted, PostError>,
) -> Option<Response> {
    use super::api::problem_response;
    match posted {
        Ok(posted) => posted_json(state, headers, input, posted).await,
        Err(PostError::Invalid(errors)) => Some(problem_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "Your reply has not been posted yet.".into(),
            errors.clone(),
        )),
        Err(PostError::RateLimited(retry_after)) => {
            let message = "You have sent several replies in the last minute. Please wait a \
                           minute, then send this one again: everything you typed is still here.";
            let mut response = problem_response(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                message.into(),
                vec![FieldError::new(WHOLE_FORM, message)],
            );
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            Some(response)
        }
        Err(_) => None,
    }
}

/// What the script shows of a stored reply.
#[derive(serde::Serialize)]
struct ScriptPosted {
    id: i64,
    parent_id: Option<i64>,
    held: bool,
    location: String,
    /// The reply's card, as the thread shows it to its poster.
    html: String,
}

async fn posted_json(
    state: &AppState,
    headers: &HeaderMap,
    input: &ReplyInput,
    posted: &discussion::Posted,
) -> Option<Response> {
    let reply = discussion::stored_reply(&state.services, posted.id).await.ok().flatten()?;
    let path = posted.location.split(['?', '#']).next().unwrap_or_default().to_owned();
    let own_ids = [posted.id];
    let own = thread::Own {
        ids: if posted.edit_seconds > 0 { &own_ids } else { &[] },
        now: state.services.clock.now(),
        window_minutes: posted.edit_seconds / 60,
    };
    let held = posted.status == ReplyStatus::Pending;
    let context =
        thread::Context { path: &path, replies_open: true, tz: &state.config.timezone, own };
    let body = ScriptPosted {
        id: posted.id.get(),
        parent_id: reply.parent_id.map(|p| p.get()),
        held: posted.status != ReplyStatus::Approved,
        location: posted.location.clone(),
        html: thread::card(&reply, held, &context).ok()?,
    };
    let mut response = (StatusCode::CREATED, serde_json::to_string(&body).ok()?).into_response();
    let response_headers = response.headers_mut();
    response_headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response_headers.insert(header::CACHE_CONTROL, Caching::Private.header_value());
    for cookie in reader_cookies(state, headers, input, posted) {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response_headers.append(header::SET_COOKIE, value);
        }
    }
    Some(response)
}

/// A posted reply's outcome, as the metrics count it.
pub(super) fn outcome(posted: &Result<discussion::Posted, PostError>) -> &'static str {
    match posted {
        Ok(posted) => posted.status.as_str(),
        Err(PostError::Invalid(_)) => "invalid",
        Err(PostError::RateLimited(_)) => "rate_limited",
        Err(PostError::Closed) => "closed",
        Err(PostError::NotFound | PostError::UnlistedSite) => "not_found",
        Err(PostError::Store(_)) => "not_saved",
    }
}

/// The honeypot: a field people never see (hidden by the stylesheet and from screen readers),
/// which form-filling robots fill in.
pub(super) const HONEYPOT: &str = "homepage";

pub(super) fn reply_input(pairs: &[(String, String)]) -> ReplyInput {
    let value = |name| form::first(pairs, name).unwrap_or_default().to_owned();
    ReplyInput {
        comment: value("comment"),
        name: value("name"),
        email: value("email"),
        website: value("website"),
        parent: value("parent"),
        remember: form::first(pairs, "remember").is_some(),
        notify_replies: form::first(pairs, "notify_replies").is_some(),
        follow_article: form::first(pairs, "follow_article").is_some(),
    }
}

/// `303` to the new reply, with the reader's cookies: remembered values only when asked for,
/// and the signed list of held replies so that the poster alone sees theirs.
pub(super) fn posted_response(
    state: &AppState,
    headers: &HeaderMap,
    input: &ReplyInput,
    posted: discussion::Posted,
) -> Response {
    let mut response = redirect(StatusCode::SEE_OTHER, &posted.location);
    let set_cookies = reader_cookies(state, headers, input, &posted);
    let response_headers = response.headers_mut();
    response_headers.insert(header::CACHE_CONTROL, Caching::Private.header_value());
    for cookie in set_cookies {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response_headers.append(header::SET_COOKIE, value);
        }
    }
    response
}

/// The cookies a stored reply sets: remembered values only when asked for, the signed list
/// of held replies so that the poster alone sees theirs, and the replies they may still
/// change.
fn reader_cookies(
    state: &AppState,
    headers: &HeaderMap,
    input: &ReplyInput,
    posted: &discussion::Posted,
) -> Vec<String> {
    let secure = state.config.is_https();
    let mut set_cookies = Vec::new();
    if input.remember {
        let reader = RememberedReader {
            name: input.name.trim().to_owned(),
            email: input.email.trim().to_owned(),
            website: input.website.trim().to_owned(),
        };
        set_cookies.push(reader.set_cookie(secure));
    } else if RememberedReader::from_headers(headers).is_some() {
        set_cookies.push(RememberedReader::clear_cookie(secure));
    }
    let keys = &state.services.keys;
    if posted.status == ReplyStatus::Pending {
        set_cookies.push(cookies::add_held_reply(headers, keys, posted.id, secure));
    }
    if posted.edit_seconds > 0 {
        let seconds = posted.edit_seconds;
        set_cookies.push(cookies::add_own_reply(headers, keys, posted.id, seconds, secure));
    }
    set_cookies
}

struct PageRequest<'a> {
    input: &'a ReplyInput,
    errors: Vec<FieldError>,
    headers: &'a HeaderMap,
    /// `?replies=N`; the newest page when absent.
    replies_page: Option<usize>,
}

async fn render(
    state: &AppState,
    address: &ArticleAddress,
    page: PageRequest<'_>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let PageRequest { input, errors, headers, replies_page } = page;
    let config = &state.config;
    let request = ArticleRequest {
        replies_page,
        held_ids: cookies::held_replies(headers, &state.services.keys),
        reply_to: ReplyId::parse(&input.parent),
    };
    let found = match reading::article_page(&state.services, address, request).await? {
        ArticleLookup::Found(found) => found,
        ArticleLookup::Moved(path) if status == StatusCode::OK => {
            return Ok(moved_permanently(&path));
        }
        ArticleLookup::Moved(_) | ArticleLookup::NotFound => return Err(AppError::NotFound),
    };
    let article = &found.article;
    let replies = &found.thread;
    let (pages, current) = (replies.pages, replies.current);
    let path = article.public_path().ok_or(AppError::NotFound)?;
    let own_ids = cookies::own_replies(headers, &state.services.keys);
    let own = thread::Own {
        ids: &own_ids,
        now: state.services.clock.now(),
        window_minutes: found.settings.edit_window_minutes,
    };
    let context =
        thread::Context { path: &path, replies_open: found.open, tz: &config.timezone, own };
    let replies_link = |n: usize| {
        if n == pages { format!("{path}#replies") } else { format!("{path}?replies={n}#replies") }
    };
    // The page's <title> is the search title, where the newsroom gave one.
    let title = if article.seo.title.is_empty() { &article.headline } else { &article.seo.title };
    let mut layout = Layout::public(config, title, found.nav.clone());
    let replies_feed = format!("{}{path}feed.atom", config.base_url);
    let mut feeds = std::mem::take(&mut layout.head.feeds);
    feeds.push((format!("Replies to “{}”", article.headline), replies_feed));
    layout.head = super::meta::article_head(config, &layout.site_title, article, &path, feeds);
    let template = ArticlePage {
        layout,
        related: found.related.iter().cloned().map(|a| summary(a, &config.timezone)).collect(),
        story: Story::new(article, &found.notes, &config.timezone)
            .with_replies(article.reply_count),
        reply_count: article.reply_count,
        reply_heading: reply_heading(article),
        thread_html: thread::render(&replies.nodes, &context)?,
        reply_to: found.reply_to.as_ref(),
        older: (current > 1).then(|| replies_link(current - 1)),
        newer: (current < pages).then(|| replies_link(current + 1)),
        token: super::caching::TOKEN_PLACEHOLDER.to_owned(),
        open: found.open,
        path,
        article,
        form: input,
        errors: &errors,
        mail: state.services.mailer.is_on(),
        live: Live::of(article.id, found.settings.thread_depth, current == pages),
    };
    // The form's values, a held reply or an error message are this reader's alone.
    let personal = input.remember
        || replies.has_held
        || !own_ids.is_empty()
        || !errors.is_empty()
        || !input.email.is_empty();
    let caching = if personal { Caching::Private } else { Caching::Public };
    // The tag is the page's without its form token, which changes every second.
    // Room for the whole page at once: askama's own estimate is a few kilobytes, and growing
    // to an article's size copied the page over and over (memmove was 7% of a render).
    let room = template.thread_html.len() + article.body_html.len() + 24 * 1024;
    let mut page = String::with_capacity(room);
    template.render_into(&mut page)?;
    let etag = super::caching::etag_of(page.as_bytes());
    let token = issue_token(&state.services.keys, article.id, state.services.clock.now());
    let mut response = html(status, super::caching::with_token(page, &token), caching);
    if caching == Caching::Public {
        response.headers_mut().insert(header::ETAG, HeaderValue::from_str(&etag).expect("ASCII"));
    }
    Ok(response)
}

/// "3 replies to “Headline”".
pub(super) fn reply_heading(article: &Article) -> String {
    let count = match article.reply_count {
        1 => "One reply".to_owned(),
        n => format!("{n} replies"),
    };
    format!("{count} to “{}”", article.headline)
}
