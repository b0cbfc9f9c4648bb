//! The article page, its replies and the "Leave a Reply" form, and posting that form.

use std::net::SocketAddr;

use askama::Template;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use super::AppState;
use super::cookies::{self, RememberedReader};
use super::defenses;
use super::error::AppError;
use super::form;
use super::layout::Layout;
use super::response::{Caching, html, moved_permanently, redirect};
use super::story::Story;
use super::thread;
use crate::discussion::{self, PostError};
use crate::domain::ArticleStatus;
use crate::domain::{Field, FieldError, ReplyInput, ReplyStatus, time};
use crate::publishing::public_path;
use crate::settings;
use crate::store::Article;

type ArticleParams = Path<(String, String, String, String)>;

#[derive(Template)]
#[template(path = "article.html")]
struct ArticlePage<'a> {
    layout: Layout<'a>,
    path: String,
    article: &'a Article,
    story: Story,
    reply_heading: String,
    thread_html: String,
    /// Links to the older and newer pages of replies.
    older: Option<String>,
    newer: Option<String>,
    /// The signed form token (see `web::defenses`).
    token: String,
    related: Vec<super::front::Summary>,
    /// Whether the form is shown: replies open, and the article not too old.
    open: bool,
    form: &'a ReplyInput,
    reply_to: Option<ReplyTarget>,
    errors: &'a [FieldError],
}

impl ArticlePage<'_> {
    /// The message for one form field, if it has one.
    fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field.name() == field).map(|e| e.message.as_str())
    }
}

/// The reply the form answers.
struct ReplyTarget {
    id: i64,
    name: String,
}

/// Where an article's URL leads.
enum Located {
    Here(Box<Article>),
    /// Right slug, wrong date: the canonical path.
    Elsewhere(String),
}

async fn locate(
    state: &AppState,
    params: &(String, String, String, String),
) -> Result<Located, AppError> {
    let (year, month, day, slug) = params;
    let article = match state.store.article_by_slug(slug).await? {
        Some(article) => article,
        // An old slug of a published article answers with its current address.
        None => {
            let id = state.store.slug_redirect(slug).await?.ok_or(AppError::NotFound)?;
            let moved = state.store.article(id).await?.ok_or(AppError::NotFound)?;
            if moved.status != ArticleStatus::Published {
                return Err(AppError::NotFound);
            }
            return Ok(Located::Elsewhere(public_path(&moved)));
        }
    };
    if article.date_path.as_deref() == Some(format!("{year}/{month}/{day}").as_str()) {
        Ok(Located::Here(Box::new(article)))
    } else {
        Ok(Located::Elsewhere(public_path(&article)))
    }
}

/// `GET /2026/11/24/slug/`: the article, its replies and the form.
pub async fn show(
    State(state): State<AppState>,
    Path(params): ArticleParams,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let article = match locate(&state, &params).await? {
        Located::Here(article) => article,
        Located::Elsewhere(path) => return Ok(moved_permanently(&path)),
    };
    let remembered = RememberedReader::from_headers(&headers);
    let mut input = ReplyInput::default();
    if let Some(reader) = &remembered {
        input.name = reader.name.clone();
        input.email = reader.email.clone();
        input.website = reader.website.clone();
        input.remember = true;
    }
    if let Some(id) = form::query_value(query.as_deref(), "replytocom") {
        input.parent = id;
    }
    let replies_page = match form::query_value(query.as_deref(), "replies") {
        Some(raw) => Some(raw.parse::<usize>().map_err(|_| AppError::NotFound)?),
        None => None,
    };
    let page = PageRequest {
        article: &article,
        input: &input,
        errors: &[],
        headers: &headers,
        replies_page,
    };
    render(&state, page, StatusCode::OK).await
}

/// `/2026/11/24/slug` → `/2026/11/24/slug/`.
pub async fn without_slash(
    State(state): State<AppState>,
    Path(params): ArticleParams,
) -> Result<Response, AppError> {
    match locate(&state, &params).await? {
        Located::Here(article) => Ok(moved_permanently(&public_path(&article))),
        Located::Elsewhere(path) => Ok(moved_permanently(&path)),
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
    let bytes = form::read(&headers, body, state.config.max_body_bytes).await?;
    let pairs = form::parse(&bytes).map_err(|_| AppError::BadRequest(form::NOT_UTF8))?;
    let input = reply_input(&pairs);
    // Whatever fails in the store, the reader gets their text back.
    match post(&state, peer, &params, &headers, &pairs, &input).await {
        Err(AppError::Store(cause)) => Err(AppError::ReplyNotSaved { kept: input.comment, cause }),
        other => other,
    }
}

async fn post(
    state: &AppState,
    peer: SocketAddr,
    params: &(String, String, String, String),
    headers: &HeaderMap,
    pairs: &[(String, String)],
    input: &ReplyInput,
) -> Result<Response, AppError> {
    let (state, headers, input) = (state.clone(), headers.clone(), input.clone());
    let article = match locate(&state, params).await? {
        Located::Here(article) => article,
        Located::Elsewhere(_) => return Err(AppError::NotFound),
    };
    let settings = settings::load(&*state.store, &state.config.discussion).await?.settings;
    let now = time::now();
    if discussion::replies_closed(&article, &settings, now) {
        return Err(AppError::RepliesClosed { kept: input.comment });
    }
    let token = form::first(pairs, "token").unwrap_or_default();
    let fill_seconds = defenses::token_age(&state.keys, article.id, token, now);
    let validated = input.validate(&state.config.limits);
    let mut errors = validated.as_ref().err().cloned().unwrap_or_default();
    if fill_seconds.is_none() {
        errors.push(FieldError {
            field: Field::Form,
            message: "This form was too old or had been altered, so your reply was not posted. \
                      Everything you typed is still here: please send it again."
                .into(),
        });
    }
    let (Ok(reply), Some(fill_seconds)) = (validated, fill_seconds) else {
        let page = PageRequest {
            article: &article,
            input: &input,
            errors: &errors,
            headers: &headers,
            replies_page: None,
        };
        return render(&state, page, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let ip = defenses::client_ip(peer.ip(), &headers, &state.config.trusted_proxies);
    let submission = discussion::Submission {
        reply: &reply,
        ip: Some(ip.to_string()),
        honeypot_filled: form::first(pairs, HONEYPOT).is_some_and(|v| !v.trim().is_empty()),
        fill_seconds,
    };
    let (status, errors) =
        match discussion::post_reply(&*state.store, &settings, &article, submission).await {
            Ok(posted) => {
                return posted_response(&state, &headers, &article, &input, posted, &settings)
                    .await;
            }
            Err(PostError::Invalid(errors)) => (StatusCode::UNPROCESSABLE_ENTITY, errors),
            Err(PostError::RateLimited(retry_after)) => {
                let message =
                    "You have sent several replies in the last minute. Please wait a minute, then \
                 send this one again: everything you typed is still here."
                        .to_owned();
                let errors = [FieldError { field: Field::Form, message }];
                let page = PageRequest {
                    article: &article,
                    input: &input,
                    errors: &errors,
                    headers: &headers,
                    replies_page: None,
                };
                let mut response = render(&state, page, StatusCode::TOO_MANY_REQUESTS).await?;
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
                return Ok(response);
            }
            Err(PostError::Closed) => return Err(AppError::RepliesClosed { kept: input.comment }),
            Err(PostError::Store(e)) => {
                return Err(AppError::ReplyNotSaved { kept: input.comment, cause: e });
            }
        };
    let page = PageRequest {
        article: &article,
        input: &input,
        errors: &errors,
        headers: &headers,
        replies_page: None,
    };
    render(&state, page, status).await
}

/// The honeypot: a field people never see (hidden by the stylesheet and from screen readers),
/// which form-filling robots fill in.
const HONEYPOT: &str = "homepage";

fn reply_input(pairs: &[(String, String)]) -> ReplyInput {
    let value = |name| form::first(pairs, name).unwrap_or_default().to_owned();
    ReplyInput {
        comment: value("comment"),
        name: value("name"),
        email: value("email"),
        website: value("website"),
        parent: value("parent"),
        remember: form::first(pairs, "remember").is_some(),
    }
}

/// `303` to the new reply, with the reader's cookies: remembered values only when asked for,
/// and the signed list of held replies so that the poster alone sees theirs.
async fn posted_response(
    state: &AppState,
    headers: &HeaderMap,
    article: &Article,
    input: &ReplyInput,
    posted: discussion::Posted,
    settings: &settings::DiscussionSettings,
) -> Result<Response, AppError> {
    let secure = state.config.is_https();
    let path = public_path(article);
    // The page of replies that holds the new one. A new top-level reply is always on the
    // newest page (the one the article's address shows), so only an answer needs looking up.
    let answer = input.parent.trim().parse::<i64>().is_ok();
    let location = if answer && settings.replies_per_page > 0 {
        let view = discussion::ThreadView {
            held_ids: &[posted.id],
            max_depth: settings.thread_depth,
            per_page: settings.replies_per_page,
        };
        match discussion::page_of_reply(&*state.store, article.id, view, posted.id).await? {
            (Some(page), pages) if page < pages => {
                format!("{path}?replies={page}#comment-{}", posted.id)
            }
            _ => format!("{path}#comment-{}", posted.id),
        }
    } else {
        format!("{path}#comment-{}", posted.id)
    };
    let mut response = redirect(StatusCode::SEE_OTHER, &location);
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
    if posted.status == ReplyStatus::Pending {
        set_cookies.push(cookies::add_held_reply(headers, &state.keys, posted.id, secure));
    }
    let response_headers = response.headers_mut();
    response_headers.insert(header::CACHE_CONTROL, Caching::Private.header_value());
    for cookie in set_cookies {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response_headers.append(header::SET_COOKIE, value);
        }
    }
    Ok(response)
}

struct PageRequest<'a> {
    article: &'a Article,
    input: &'a ReplyInput,
    errors: &'a [FieldError],
    headers: &'a HeaderMap,
    /// `?replies=N`; the newest page when absent.
    replies_page: Option<usize>,
}

async fn render(
    state: &AppState,
    page: PageRequest<'_>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let PageRequest { article, input, errors, headers, replies_page } = page;
    let config = &state.config;
    let settings = settings::load(&*state.store, &config.discussion).await?.settings;
    let now = time::now();
    let open = !discussion::replies_closed(article, &settings, now);
    let held = cookies::held_replies(headers, &state.keys);
    let view = discussion::ThreadView {
        held_ids: &held,
        max_depth: settings.thread_depth,
        per_page: settings.replies_per_page,
    };
    let replies = discussion::thread_page(&*state.store, article.id, view, replies_page)
        .await?
        .ok_or(AppError::NotFound)?;
    let (shows_held, pages, current) = (replies.has_held, replies.pages, replies.current);
    let path = public_path(article);
    let context = thread::Context { path: &path, replies_open: open, tz: &config.timezone };
    let replies_link = |n: usize| {
        if n == pages { format!("{path}#replies") } else { format!("{path}?replies={n}#replies") }
    };
    let mut layout = Layout::public(state, &article.headline).await?;
    let replies_feed = format!("{}{path}feed.atom", config.base_url);
    let mut feeds = std::mem::take(&mut layout.head.feeds);
    feeds.push((format!("Replies to “{}”", article.headline), replies_feed));
    layout.head = super::meta::article_head(config, article, &path, feeds);
    let related = state.store.related_articles(article.id, 4).await?;
    let template = ArticlePage {
        layout,
        related: related.into_iter().map(|a| super::front::summary(a, &config.timezone)).collect(),
        story: Story::new(article, state.store.notes(article.id).await?, &config.timezone),
        reply_heading: reply_heading(article),
        thread_html: thread::render(&replies.nodes, &context)?,
        reply_to: reply_target(state, article, &input.parent).await?,
        older: (current > 1).then(|| replies_link(current - 1)),
        newer: (current < pages).then(|| replies_link(current + 1)),
        token: super::caching::TOKEN_PLACEHOLDER.to_owned(),
        open,
        path,
        article,
        form: input,
        errors,
    };
    // The form's values, a held reply or an error message are this reader's alone.
    let personal = input.remember || shows_held || !errors.is_empty() || !input.email.is_empty();
    let caching = if personal { Caching::Private } else { Caching::Public };
    // The tag is the page's without its form token, which changes every second.
    let page = template.render()?;
    let etag = super::caching::etag_of(page.as_bytes());
    let token = defenses::issue_token(&state.keys, article.id, now);
    let mut response =
        html(status, page.replace(super::caching::TOKEN_PLACEHOLDER, &token), caching);
    if caching == Caching::Public {
        response.headers_mut().insert(header::ETAG, HeaderValue::from_str(&etag).expect("ASCII"));
    }
    Ok(response)
}

/// "3 replies to “Headline”".
fn reply_heading(article: &Article) -> String {
    let count = match article.reply_count {
        1 => "One reply".to_owned(),
        n => format!("{n} replies"),
    };
    format!("{count} to “{}”", article.headline)
}

/// The approved reply of this article that `parent` names, if any.
async fn reply_target(
    state: &AppState,
    article: &Article,
    parent: &str,
) -> Result<Option<ReplyTarget>, AppError> {
    let Ok(id) = parent.trim().parse::<i64>() else {
        return Ok(None);
    };
    let target = state
        .store
        .comment(id)
        .await?
        .filter(|c| c.article_id == article.id && c.status == ReplyStatus::Approved);
    Ok(target.map(|c| ReplyTarget { id: c.id, name: c.author_name }))
}
