//! The API's public reads: published articles, sections, tags, authors, a discussion's
//! replies, reply counts, and embedded threads. A staff token with `read_drafts` also reads
//! the drafts its account may edit.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::auth::ApiStaff;
use super::schema::{
    ArticleCount, ArticleOut, ArticlePage, ArticleSummaryOut, AuthorList, AuthorOut, Counts,
    RepliesPage, ReplyOut, TermList, TermListItem, ThreadOut, ThreadReplies, UrlCount,
};
use super::{ApiError, Problem, Sharing, json, number, one, query_pairs};
use crate::domain::staff::TokenScope;
use crate::domain::{ArticleId, AuthorId, ReplyId, SectionId, TagId};
use crate::services::catalog::{self, Discussion};
use crate::services::discussion::ThreadPage;
use crate::services::{publishing, settings, terms, threads};
use crate::store::{Published, TermKind};
use crate::web::AppState;
use crate::web::cookies;

/// Articles a page at most.
const MAX_LIMIT: i64 = 100;
const DEFAULT_LIMIT: u64 = 20;

/// `GET /api/v1/articles`
#[utoipa::path(
    get,
    path = "/api/v1/articles",
    tag = "articles",
    params(
        ("section" = Option<String>, Query, description = "A section's slug."),
        ("tag" = Option<String>, Query, description = "A tag's slug."),
        ("author" = Option<i64>, Query, description = "An author's id.", minimum = 1),
        ("limit" = Option<i64>, Query, description = "Articles a page (1 to 100; 20).", minimum = 1, maximum = 100),
        ("cursor" = Option<String>, Query, description = "`next` of the page before.", pattern = r"^[0-9]{1,12}\.[0-9]{1,18}$"),
    ),
    responses(
        (status = 200, description = "Published articles in all the filters given, newest first.", body = ArticlePage),
        (status = 304, description = "Unchanged since the `ETag` given in `If-None-Match`."),
        (status = 400, description = "A parameter is malformed.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn articles(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(query.as_deref())?;
    let limit = number(&pairs, "limit", 1, MAX_LIMIT)?.map_or(DEFAULT_LIMIT, |n| n as u64);
    let after = match one(&pairs, "cursor") {
        None => None,
        Some(raw) => Some(article_cursor(raw)?),
    };
    let Some(filter) = filter(&state, &pairs).await? else {
        // A section, tag or author that does not exist has no articles.
        let page = ArticlePage { articles: Vec::new(), next: None };
        return Ok(json(&headers, StatusCode::OK, &page, Sharing::Public));
    };
    let (found, more) = catalog::published(&state.services, filter, after, limit).await?;
    let next = if more {
        found.last().and_then(|a| Some(format!("{}.{}", a.published_at?, a.id)))
    } else {
        None
    };
    let articles = found.iter().map(|a| ArticleSummaryOut::of(&state.config, a)).collect();
    Ok(json(&headers, StatusCode::OK, &ArticlePage { articles, next }, Sharing::Public))
}

/// `1733562000.42` → the `(published_at, id)` after which the next page starts.
fn article_cursor(raw: &str) -> Result<(i64, ArticleId), ApiError> {
    let parsed = raw
        .split_once('.')
        .and_then(|(at, id)| Some((at.parse::<i64>().ok()?, id.parse::<i64>().ok()?)));
    match parsed {
        Some((at, id)) if at >= 0 && id > 0 => Ok((at, ArticleId(id))),
        _ => Err(ApiError::BadRequest(
            "`cursor` is not one this API gave: pass the `next` of the page before.".into(),
        )),
    }
}

/// The filter the query names; `None` when it names a section, tag or author that does not
/// exist.
async fn filter(
    state: &AppState,
    pairs: &[(String, String)],
) -> Result<Option<Published>, ApiError> {
    let mut filter = Published::default();
    if let Some(slug) = one(pairs, "section") {
        match terms::by_slug(&state.services, TermKind::Section, slug).await? {
            Some(term) => filter.section = Some(SectionId(term.id)),
            None => return Ok(None),
        }
    }
    if let Some(slug) = one(pairs, "tag") {
        match terms::by_slug(&state.services, TermKind::Tag, slug).await? {
            Some(term) => filter.tag = Some(TagId(term.id)),
            None => return Ok(None),
        }
    }
    if let Some(author) = number(pairs, "author", 1, i64::MAX)? {
        filter.author = Some(AuthorId(author));
    }
    Ok(Some(filter))
}

/// `GET /api/v1/articles/{id}`
#[utoipa::path(
    get,
    path = "/api/v1/articles/{id}",
    tag = "articles",
    params(("id" = i64, Path, description = "The article's id.", minimum = 1)),
    security((), ("token" = [])),
    responses(
        (status = 200, description = "The article. Drafts and scheduled articles need a token with `read_drafts` whose account may edit them.", body = ArticleOut,
            headers(("ETag" = String, description = "Send it as `If-Match` to change the article."))),
        (status = 304, description = "Unchanged since the `ETag` given in `If-None-Match`."),
        (status = 400, description = "The id is malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A token was sent, but it is not valid.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such published article (or none this token may read).", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn article(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = path_id(&id)?;
    let staff = staff_if_any(&state, &headers).await?;
    let found = catalog::article(&state.services, id).await?;
    let Some((article, revision)) = found else { return Err(not_found_article()) };
    let published = article.status == crate::domain::ArticleStatus::Published;
    let editable = staff
        .as_ref()
        .is_some_and(|s| s.has(TokenScope::ReadDrafts) && publishing::can_edit(&s.user, &article));
    if !published && !editable {
        return Err(not_found_article());
    }
    let out = ArticleOut::of(&state.config, &article, revision_name(revision), editable);
    let sharing = if editable { Sharing::Private } else { Sharing::Public };
    Ok(super::json_tagged(&headers, StatusCode::OK, &out, sharing, &revision_name(revision)))
}

/// `r12`: the article's latest revision (`r0` for one never saved in the newsroom). Its
/// `ETag` starts with it (and ends with a hash of what the answer shows, replies included);
/// `If-Match` compares the revision.
pub(super) fn revision_name(revision: Option<crate::domain::RevisionId>) -> String {
    format!("r{}", revision.map_or(0, |r| r.get()))
}

fn not_found_article() -> ApiError {
    ApiError::NotFound("There is no published article with this id.".into())
}

/// An id in a path: a whole number from 1.
pub(super) fn path_id(raw: &str) -> Result<ArticleId, ApiError> {
    match raw.parse::<i64>() {
        Ok(id) if id > 0 => Ok(ArticleId(id)),
        _ => Err(ApiError::BadRequest("The id must be a whole number from 1.".into())),
    }
}

/// The token's account, when the request carries one (a public read needs none).
async fn staff_if_any(state: &AppState, headers: &HeaderMap) -> Result<Option<ApiStaff>, ApiError> {
    if !headers.contains_key(axum::http::header::AUTHORIZATION) {
        return Ok(None);
    }
    let (mut parts, ()) = axum::http::Request::new(()).into_parts();
    parts.headers = headers.clone();
    use axum::extract::FromRequestParts;
    Ok(Some(ApiStaff::from_request_parts(&mut parts, state).await?))
}

/// `GET /api/v1/articles/by-path`
#[utoipa::path(
    get,
    path = "/api/v1/articles/by-path",
    tag = "articles",
    params(("path" = String, Query, description = "The article's address on this site: `/2026/12/07/slug/`, or the whole URL.")),
    responses(
        (status = 200, description = "The published article at that address.", body = ArticleOut),
        (status = 304, description = "Unchanged since the `ETag` given in `If-None-Match`."),
        (status = 400, description = "`path` is missing.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No published article there.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn article_by_path(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(query.as_deref())?;
    let Some(raw) = one(&pairs, "path") else {
        return Err(ApiError::BadRequest("Give the article's address as `path`.".into()));
    };
    let raw = raw.strip_prefix(state.config.base_url.as_str()).unwrap_or(raw);
    let path = raw.split(['?', '#']).next().unwrap_or_default();
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let address = match parts.as_slice() {
        [year, month, day, slug] => crate::services::reading::ArticleAddress {
            date: format!("{year}/{month}/{day}"),
            slug: (*slug).to_owned(),
        },
        _ => return Err(ApiError::NotFound("No published article has that address.".into())),
    };
    use crate::services::reading::{Located, locate_article};
    let Located::Here(found) = locate_article(&state.services, &address).await? else {
        return Err(ApiError::NotFound("No published article has that address.".into()));
    };
    let Some((article, revision)) = catalog::published_article(&state.services, found.id).await?
    else {
        return Err(ApiError::NotFound("No published article has that address.".into()));
    };
    let name = revision_name(revision);
    let out = ArticleOut::of(&state.config, &article, name.clone(), false);
    Ok(super::json_tagged(&headers, StatusCode::OK, &out, Sharing::Public, &name))
}

/// `GET /api/v1/articles/{id}/replies`
#[utoipa::path(
    get,
    path = "/api/v1/articles/{id}/replies",
    tag = "replies",
    params(
        ("id" = i64, Path, description = "The article's id (or a static page's discussion's).", minimum = 1),
        ("cursor" = Option<String>, Query, description = "`older` or `newer` of another page; the newest page when absent, as the article's page shows.", pattern = r"^p[0-9]{1,6}$"),
        ("poster" = Option<String>, Query, description = "The `poster` token a post returned: its held replies are shown too."),
    ),
    responses(
        (status = 200, description = "One page of the thread, in the page's order.", body = RepliesPage),
        (status = 304, description = "Unchanged since the `ETag` given in `If-None-Match`."),
        (status = 400, description = "A parameter is malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such published article, or no such page of its replies.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn replies(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = path_id(&id)?;
    let pairs = query_pairs(query.as_deref())?;
    let page = page_cursor(&pairs)?;
    let held = held_of(&state, &pairs);
    let Some(discussion) = catalog::discussion(&state.services, id).await? else {
        return Err(not_found_article());
    };
    let thread = read_page(&state, &discussion, held, page).await?;
    let has_held = thread.has_held;
    let out = RepliesPage {
        article_id: id.get(),
        reply_count: thread.approved as i64,
        replies_open: discussion.open,
        mail: state.services.mailer.is_on(),
        page: thread.current as u32,
        pages: thread.pages as u32,
        older: (thread.current > 1).then(|| format!("p{}", thread.current - 1)),
        newer: (thread.current < thread.pages).then(|| format!("p{}", thread.current + 1)),
        replies: ReplyOut::flatten(&thread.nodes),
    };
    let sharing = if has_held { Sharing::Private } else { Sharing::Public };
    Ok(json(&headers, StatusCode::OK, &out, sharing))
}

/// `?cursor=p3` → page 3.
fn page_cursor(pairs: &[(String, String)]) -> Result<Option<usize>, ApiError> {
    match one(pairs, "cursor") {
        None => Ok(None),
        Some(raw) => match raw.strip_prefix('p').and_then(|n| n.parse::<usize>().ok()) {
            Some(n) if n >= 1 => Ok(Some(n)),
            _ => Err(ApiError::BadRequest(
                "`cursor` is not one this API gave: pass `older` or `newer`.".into(),
            )),
        },
    }
}

/// The held replies the `poster` token lists.
fn held_of(state: &AppState, pairs: &[(String, String)]) -> Vec<ReplyId> {
    one(pairs, "poster").map_or_else(Vec::new, |t| cookies::poster_ids(&state.services.keys, t))
}

async fn read_page(
    state: &AppState,
    discussion: &Discussion,
    held: Vec<ReplyId>,
    page: Option<usize>,
) -> Result<ThreadPage, ApiError> {
    catalog::thread_page(&state.services, discussion, held, page)
        .await?
        .ok_or_else(|| ApiError::NotFound("There is no such page of replies.".into()))
}

/// `GET /api/v1/sections`
#[utoipa::path(
    get,
    path = "/api/v1/sections",
    tag = "articles",
    responses(
        (status = 200, description = "Every section, by name.", body = TermList),
        (status = 304, description = "Unchanged since the `ETag` given in `If-None-Match`."),
    )
)]
pub async fn sections(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    term_list(&state, &headers, TermKind::Section).await
}

/// `GET /api/v1/tags`
#[utoipa::path(
    get,
    path = "/api/v1/tags",
    tag = "articles",
    responses(
        (status = 200, description = "Every tag, by name.", body = TermList),
        (status = 304, description = "Unchanged since the `ETag` given in `If-None-Match`."),
    )
)]
pub async fn tags(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    term_list(&state, &headers, TermKind::Tag).await
}

async fn term_list(
    state: &AppState,
    headers: &HeaderMap,
    kind: TermKind,
) -> Result<Response, ApiError> {
    let found = terms::list(&state.services, kind).await?;
    let items = found
        .iter()
        .map(|t| {
            let path = terms::path(kind, &t.slug);
            TermListItem::of(format!("{}{path}", state.config.base_url), t)
        })
        .collect();
    Ok(json(headers, StatusCode::OK, &TermList { items }, Sharing::Public))
}

/// `GET /api/v1/authors`
#[utoipa::path(
    get,
    path = "/api/v1/authors",
    tag = "articles",
    responses(
        (status = 200, description = "The authors with a published article, by name.", body = AuthorList),
        (status = 304, description = "Unchanged since the `ETag` given in `If-None-Match`."),
    )
)]
pub async fn authors(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let found = catalog::authors(&state.services).await?;
    let authors = found.iter().map(|a| AuthorOut::of(&state.config, a)).collect();
    Ok(json(&headers, StatusCode::OK, &AuthorList { authors }, Sharing::Public))
}

/// Ids and addresses one request may count.
const MAX_COUNTED: usize = 100;

/// `GET /api/v1/counts`
#[utoipa::path(
    get,
    path = "/api/v1/counts",
    tag = "replies",
    params(
        ("article" = Option<Vec<i64>>, Query, description = "Article ids, the parameter repeated (at most 100 ids and addresses together).", explode = true),
        ("url" = Option<Vec<String>>, Query, description = "Page addresses: this site's articles, or other sites' pages with embedded threads.", explode = true),
    ),
    responses(
        (status = 200, description = "Approved replies of each; unknown ids are left out, unknown addresses count 0.", body = Counts),
        (status = 304, description = "Unchanged since the `ETag` given in `If-None-Match`."),
        (status = 400, description = "An id is malformed, or too many were asked.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn counts(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(query.as_deref())?;
    let mut ids = Vec::new();
    let mut urls = Vec::new();
    for (name, value) in &pairs {
        match name.as_str() {
            "article" => match value.parse::<i64>() {
                Ok(id) if id > 0 => ids.push(id),
                _ => {
                    return Err(ApiError::BadRequest(
                        "Each `article` must be a whole number from 1.".into(),
                    ));
                }
            },
            "url" => urls.push(value.clone()),
            _ => {}
        }
    }
    if ids.len() + urls.len() > MAX_COUNTED {
        return Err(ApiError::BadRequest(format!(
            "Ask for at most {MAX_COUNTED} articles and addresses at once."
        )));
    }
    let asked_ids = ids.clone();
    let (by_id, by_url) = catalog::counts(&state.services, ids, urls).await?;
    let articles = asked_ids
        .iter()
        .filter_map(|id| {
            let (_, n) = by_id.iter().find(|(a, _)| a.get() == *id)?;
            Some(ArticleCount { id: *id, replies: *n })
        })
        .collect();
    let urls = by_url.into_iter().map(|(url, replies)| UrlCount { url, replies }).collect();
    Ok(json(&headers, StatusCode::OK, &Counts { articles, urls }, Sharing::Public))
}

/// The thread address a query's `url` names, if its site may embed replies; a `404` that
/// says why otherwise.
async fn thread_url(state: &AppState, pairs: &[(String, String)]) -> Result<String, ApiError> {
    let Some(raw) = one(pairs, "url") else {
        return Err(ApiError::BadRequest("Give the page's address as `url`.".into()));
    };
    let settings = settings::effective(&state.services).await?.settings;
    threads::embeddable(&settings, raw).ok_or_else(|| ApiError::Forbidden {
        code: "unlisted_site",
        detail: "That page's site is not one that may embed replies: an admin lists them in \
                 the settings (`embed_origins`)."
            .into(),
    })
}

/// `GET /api/v1/threads`
#[utoipa::path(
    get,
    path = "/api/v1/threads",
    tag = "replies",
    params(("url" = String, Query, description = "The page's canonical address.")),
    responses(
        (status = 200, description = "The page's thread.", body = ThreadOut),
        (status = 304, description = "Unchanged since the `ETag` given in `If-None-Match`."),
        (status = 400, description = "`url` is missing.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The page's site may not embed replies.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No reply has made the page's thread yet.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn thread(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(query.as_deref())?;
    let url = thread_url(&state, &pairs).await?;
    let Some(thread) = threads::find(&state.services, &url).await? else {
        return Err(ApiError::NotFound("That page has no replies yet.".into()));
    };
    let settings = settings::effective(&state.services).await?.settings;
    let open = catalog::thread_discussion(&thread, &settings, state.services.clock.now()).open;
    Ok(json(
        &headers,
        StatusCode::OK,
        &ThreadOut::of(&state.config, &thread, open),
        Sharing::Public,
    ))
}

/// `GET /api/v1/threads/replies`
#[utoipa::path(
    get,
    path = "/api/v1/threads/replies",
    tag = "replies",
    params(
        ("url" = String, Query, description = "The page's canonical address."),
        ("cursor" = Option<String>, Query, description = "`older` or `newer` of another page; the newest page when absent.", pattern = r"^p[0-9]{1,6}$"),
        ("poster" = Option<String>, Query, description = "The `poster` token a post returned: its held replies are shown too."),
    ),
    responses(
        (status = 200, description = "The page's thread (`null` before its first reply) and one page of its replies.", body = ThreadReplies),
        (status = 304, description = "Unchanged since the `ETag` given in `If-None-Match`."),
        (status = 400, description = "A parameter is missing or malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The page's site may not embed replies.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such page of replies.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn thread_replies(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(query.as_deref())?;
    let url = thread_url(&state, &pairs).await?;
    let page = page_cursor(&pairs)?;
    let held = held_of(&state, &pairs);
    let Some(thread) = threads::find(&state.services, &url).await? else {
        if page.is_some_and(|p| p > 1) {
            return Err(ApiError::NotFound("There is no such page of replies.".into()));
        }
        let out = ThreadReplies {
            thread: None,
            replies_open: true,
            mail: state.services.mailer.is_on(),
            page: 1,
            pages: 1,
            older: None,
            newer: None,
            replies: Vec::new(),
        };
        return Ok(json(&headers, StatusCode::OK, &out, Sharing::Public));
    };
    let settings = settings::effective(&state.services).await?.settings;
    let discussion = catalog::thread_discussion(&thread, &settings, state.services.clock.now());
    let page = read_page(&state, &discussion, held, page).await?;
    let sharing = if page.has_held { Sharing::Private } else { Sharing::Public };
    let mut thread = thread;
    thread.reply_count = page.approved as i64;
    let out = ThreadReplies {
        thread: Some(ThreadOut::of(&state.config, &thread, discussion.open)),
        replies_open: discussion.open,
        mail: state.services.mailer.is_on(),
        page: page.current as u32,
        pages: page.pages as u32,
        older: (page.current > 1).then(|| format!("p{}", page.current - 1)),
        newer: (page.current < page.pages).then(|| format!("p{}", page.current + 1)),
        replies: ReplyOut::flatten(&page.nodes),
    };
    Ok(json(&headers, StatusCode::OK, &out, sharing))
}
