//! The site's static pages (`/about/`, `/about/team/`), answered where no route is: the router's
//! patterns (`/{year}/…`) would otherwise claim them, and a page's address is whatever its
//! editors chose, checked against the routes' own first segments when saved. A page whose
//! replies staff turned on has the article's thread and "Leave a Reply" form, posted to the
//! page's own address.

use std::net::SocketAddr;

use askama::Template;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use super::AppState;
use super::article::{HONEYPOT, Live, posted_response, reply_heading, reply_input};
use super::cookies::{self, RememberedReader};
use super::defenses;
use super::error::AppError;
use super::form;
use super::layout::Layout;
use super::response::{Caching, html, moved_permanently};
use super::thread;
use crate::domain::signing::issue_token;
use crate::domain::{FieldError, ReplyId, ReplyInput, WHOLE_FORM, message_for};
use crate::services::discussion::{self, PostError, RequestFacts};
use crate::services::pages::{self, PageView};
use crate::services::reading::ArticleRequest;
use crate::store::Reply;

#[derive(Template)]
#[template(path = "page.html")]
struct PageTemplate<'a> {
    layout: Layout<'a>,
    title: String,
    body_html: String,
    /// Replies shown (the page has had them open); the rest is the discussion's.
    discussion: bool,
    path: String,
    reply_count: i64,
    reply_heading: String,
    thread_html: String,
    older: Option<String>,
    newer: Option<String>,
    token: String,
    open: bool,
    form: &'a ReplyInput,
    reply_to: Option<&'a Reply>,
    errors: &'a [FieldError],
    /// Whether the form offers mail about replies (`mail` is on).
    mail: bool,
    /// For the page's script: where new replies are announced, how deep answers nest, and
    /// whether this is the newest page of replies (which new top-level replies join).
    live: Live,
}

impl PageTemplate<'_> {
    fn error(&self, field: &str) -> Option<&str> {
        message_for(self.errors, field)
    }

    fn problems(&self) -> Vec<form::Problem<'_>> {
        form::problems(self.errors, form::REPLY_FIELDS)
    }

    fn quote(&self) -> String {
        self.reply_to.map(|r| crate::domain::text::excerpt(&r.body, 200)).unwrap_or_default()
    }
}

/// A page's address as the store keeps it (`about/team`), if `path` could be one.
fn page_key(path: &str) -> Option<&str> {
    let trimmed = path.trim_matches('/');
    let plausible = !trimmed.is_empty() && !trimmed.contains("//") && trimmed.len() <= 1_000;
    plausible.then_some(trimmed)
}

/// `GET` of the published page at `path` (decoded, as `/about/team/`), or `None`. Without its
/// final slash, a `301` to the address with it.
pub async fn answer(
    state: &AppState,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<Option<Response>, AppError> {
    let Some(key) = page_key(path) else { return Ok(None) };
    let mut input = ReplyInput::default();
    if let Some(reader) = RememberedReader::from_headers(headers) {
        input.name = reader.name;
        input.email = reader.email;
        input.website = reader.website;
        input.remember = true;
    }
    if let Some(id) = form::query_value(query, "replytocom") {
        input.parent = id;
    }
    let replies_page = match form::query_value(query, "replies") {
        Some(raw) => match raw.parse::<usize>() {
            Ok(n) => Some(n),
            Err(_) => return Ok(None),
        },
        None => None,
    };
    if !path.ends_with('/') {
        let found = pages::address(&state.services, key).await?;
        return Ok(found.map(|address| moved_permanently(&address)));
    }
    let request = request(state, headers, &input, replies_page);
    let Some(view) = pages::published(&state.services, key, request).await? else {
        return Ok(None);
    };
    render(state, headers, view, &input, &[], StatusCode::OK).map(Some)
}

fn request(
    state: &AppState,
    headers: &HeaderMap,
    input: &ReplyInput,
    replies_page: Option<usize>,
) -> ArticleRequest {
    ArticleRequest {
        replies_page,
        held_ids: cookies::held_replies(headers, &state.services.keys),
        reply_to: ReplyId::parse(&input.parent),
    }
}

fn render(
    state: &AppState,
    headers: &HeaderMap,
    view: PageView,
    input: &ReplyInput,
    errors: &[FieldError],
    status: StatusCode,
) -> Result<Response, AppError> {
    let config = &state.config;
    let PageView { page, nav, discussion } = view;
    let path = page.public_path();
    let mut layout = Layout::public(config, &page.title, nav).canonical(config, &path);
    let text = crate::domain::text::readable_text(&page.body_html);
    let description: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if !description.is_empty() {
        layout.head.description = Some(description.chars().take(200).collect());
    }
    let mut template = PageTemplate {
        layout,
        title: page.title.clone(),
        body_html: page.body_html.clone(),
        discussion: false,
        path: path.clone(),
        reply_count: 0,
        reply_heading: String::new(),
        thread_html: String::new(),
        older: None,
        newer: None,
        token: super::caching::TOKEN_PLACEHOLDER.to_owned(),
        open: false,
        form: input,
        reply_to: None,
        errors,
        mail: state.services.mailer.is_on(),
        live: Live::default(),
    };
    // Replies closed and none to show: the page is as one that never had them.
    let shown = discussion.as_ref().filter(|d| d.open || !d.thread.nodes.is_empty());
    let Some(discussion) = shown else {
        return Ok(html(status, template.render()?, Caching::Public));
    };
    let replies = &discussion.thread;
    let (pages, current) = (replies.pages, replies.current);
    let own_ids = cookies::own_replies(headers, &state.services.keys);
    let own = thread::Own {
        ids: &own_ids,
        now: state.services.clock.now(),
        window_minutes: discussion.edit_window_minutes,
    };
    let context =
        thread::Context { path: &path, replies_open: discussion.open, tz: &config.timezone, own };
    let replies_link = |n: usize| {
        if n == pages { format!("{path}#replies") } else { format!("{path}?replies={n}#replies") }
    };
    template.discussion = true;
    template.reply_count = discussion.article.reply_count;
    template.reply_heading = reply_heading(&discussion.article);
    template.thread_html = thread::render(&replies.nodes, &context)?;
    template.older = (current > 1).then(|| replies_link(current - 1));
    template.newer = (current < pages).then(|| replies_link(current + 1));
    template.open = discussion.open;
    template.reply_to = discussion.reply_to.as_ref();
    template.live = Live::of(discussion.article.id, discussion.thread_depth, current == pages);
    // The form's values, a held reply or an error message are this reader's alone.
    let personal = input.remember
        || replies.has_held
        || !own_ids.is_empty()
        || !errors.is_empty()
        || !input.email.is_empty();
    let caching = if personal { Caching::Private } else { Caching::Public };
    let body = template.render()?;
    let etag = super::caching::etag_of(body.as_bytes());
    let keys = &state.services.keys;
    let token = issue_token(keys, discussion.article.id, state.services.clock.now());
    let mut response = html(status, super::caching::with_token(body, &token), caching);
    if caching == Caching::Public {
        response.headers_mut().insert(header::ETAG, HeaderValue::from_str(&etag).expect("ASCII"));
    }
    Ok(response)
}

/// `POST` to a page's address: a reader's reply, if the page takes replies (`None` if there
/// is no such page). As on an article: `303` to the reply, `422` with everything typed.
pub async fn reply(
    state: &AppState,
    peer: SocketAddr,
    path: &str,
    headers: &HeaderMap,
    body: axum::body::Body,
) -> Result<Option<Response>, AppError> {
    // The caller found the page takes replies.
    let Some(key) = page_key(path) else { return Ok(None) };
    let bytes = form::read(headers, body).await?;
    let pairs = form::parse(&bytes).map_err(|_| AppError::BadRequest(form::NOT_UTF8))?;
    let input = &reply_input(&pairs);
    if !defenses::sent_from_here(headers, &state.config.base_url) {
        state.metrics.reply("foreign");
        return Err(AppError::ForeignForm { kept: input.comment.clone() });
    }
    let facts = RequestFacts {
        ip: Some(
            defenses::client_ip(peer.ip(), headers, &state.config.trusted_proxies).to_string(),
        ),
        token: form::first(&pairs, "token").unwrap_or_default().to_owned(),
        honeypot_filled: form::first(&pairs, HONEYPOT).is_some_and(|v| !v.trim().is_empty()),
    };
    let posted = discussion::post_page_reply(&state.services, key, input, facts).await;
    state.metrics.reply(super::article::outcome(&posted));
    if super::article::wants_json(headers)
        && let Some(answer) = super::article::script_answer(state, headers, input, &posted).await
    {
        return Ok(Some(answer));
    }
    let refused = |errors: Vec<FieldError>, status| async move {
        let request = request(state, headers, input, None);
        let kept = |cause| AppError::ReplyNotSaved { kept: input.comment.clone(), cause };
        let view = pages::published(&state.services, key, request).await.map_err(kept)?;
        let view = view.ok_or_else(|| AppError::RepliesClosed { kept: input.comment.clone() })?;
        render(state, headers, view, input, &errors, status)
    };
    match posted {
        Ok(posted) => Ok(Some(posted_response(state, headers, input, posted))),
        Err(PostError::Invalid(errors)) => {
            refused(errors, StatusCode::UNPROCESSABLE_ENTITY).await.map(Some)
        }
        Err(PostError::RateLimited(retry_after)) => {
            let message = "You have sent several replies in the last minute. Please wait a \
                           minute, then send this one again: everything you typed is still here.";
            let errors = vec![FieldError::new(WHOLE_FORM, message)];
            let mut response = refused(errors, StatusCode::TOO_MANY_REQUESTS).await?;
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            Ok(Some(response))
        }
        Err(PostError::Closed) => Err(AppError::RepliesClosed { kept: input.comment.clone() }),
        Err(PostError::NotFound | PostError::UnlistedSite) => Err(AppError::NotFound),
        Err(PostError::Store(cause)) => {
            Err(AppError::ReplyNotSaved { kept: input.comment.clone(), cause })
        }
    }
}
