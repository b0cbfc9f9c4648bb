//! The email is never published: a canary address, posted once, must not appear in any
//! response an anonymous client can get — in any encoding, or as any common hash.

use std::collections::{BTreeSet, VecDeque};

use md5::{Digest as _, Md5};
use sha1::Sha1;
use sha2::Sha256;

use crate::helpers::{TestApp, encode, reply_with, spawn_with};

/// Posts a reply to the blog's canary page as the embed does; the thread's id.
async fn embed_reply(app: &TestApp, comment: &str, email: &str) -> i64 {
    let url = "https://blog.example/canary/";
    let token = app.api_get(&format!("/api/v1/token?url={url}")).await.str("token");
    let form = serde_json::json!({
        "comment": comment, "name": "Blog Reader", "email": email, "url": url, "token": token,
    });
    let posted = app
        .api(
            reqwest::Method::POST,
            "/api/v1/threads/replies",
            Some(form),
            &[("origin", "https://blog.example")],
        )
        .await;
    assert_eq!(posted.status, 201, "{}", posted.text);
    posted.body["article_id"].as_i64().unwrap()
}

const CANARY: &str = "Canary.Q7x+Unique@Example.org";

/// Every way the canary could be written down.
fn needles() -> Vec<(String, String)> {
    let mut needles = Vec::new();
    let lower = CANARY.to_lowercase();
    for (label, email) in [("as typed", CANARY.to_owned()), ("lowercase", lower.clone())] {
        needles.push((label.to_owned(), email.clone()));
        needles.push((
            format!("{label}, form-encoded"),
            encode(&[("", email.clone())]).trim_start_matches('=').to_owned(),
        ));
        let percent =
            percent_encoding::utf8_percent_encode(&email, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        needles.push((format!("{label}, percent-encoded"), percent));
        needles.push((format!("{label}, HTML entity @"), email.replace('@', "&#64;")));
        needles.push((format!("{label}, HTML entity name"), email.replace('@', "&commat;")));
        needles.push((format!("{label}, hex entity"), email.replace('@', "&#x40;")));
        needles.push((
            format!("{label}, JSON"),
            serde_json::to_string(&email).unwrap().trim_matches('"').replace('@', "\\u0040"),
        ));
        needles.push((format!("{label}, MD5"), hex(&Md5::digest(email.as_bytes()))));
        needles.push((format!("{label}, SHA-1"), hex(&Sha1::digest(email.as_bytes()))));
        needles.push((format!("{label}, SHA-256"), hex(&Sha256::digest(email.as_bytes()))));
    }
    // The local part alone would be enough to guess it.
    needles.push(("local part".into(), "canary.q7x".into()));
    needles
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

struct Checked {
    responses: usize,
    /// Sent as `Authorization` when set: what a staff token sees of the API.
    bearer: Option<String>,
}

impl Checked {
    /// Fetches `url` anonymously and fails if the canary is anywhere in the response.
    async fn check(
        &mut self,
        app: &TestApp,
        method: &str,
        path: &str,
        body: Option<String>,
    ) -> (u16, String) {
        let mut request = app.client.request(method.parse().unwrap(), app.url(path));
        if let Some(token) = &self.bearer {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        if let Some(body) = body {
            request =
                request.header("content-type", "application/x-www-form-urlencoded").body(body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let mut haystack = String::new();
        for (name, value) in response.headers() {
            haystack.push_str(&format!("{name}: {}\n", String::from_utf8_lossy(value.as_bytes())));
        }
        // An event stream never ends: what it sends in a moment is read.
        let body = if path.contains("/events") && method == "GET" {
            stream_for(response, std::time::Duration::from_millis(300)).await
        } else {
            response.text().await.unwrap_or_default()
        };
        haystack.push_str(&body);
        let haystack_lower = haystack.to_lowercase();
        for (label, needle) in needles() {
            assert!(
                !haystack_lower.contains(&needle.to_lowercase()),
                "the email ({label}) leaked in {method} {path} ({status}):\n{haystack}"
            );
        }
        assert!(status < 500, "{method} {path} gave {status}");
        self.responses += 1;
        (status, body)
    }
}

/// What an event stream sends within `time`.
async fn stream_for(mut response: reqwest::Response, time: std::time::Duration) -> String {
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + time;
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(deadline, response.chunk()).await {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    text
}

/// What the API's routes are filled in with.
struct Ids {
    article: i64,
    reply: byline::domain::ReplyId,
    thread: i64,
}

/// Concrete paths for a route pattern; every pattern the router has must be here.
fn paths_for(pattern: &str, article: &str, ids: &Ids) -> Vec<String> {
    let article_bare = article.trim_end_matches('/');
    let reply_id = ids.reply;
    let thread_url = "https://blog.example/canary/";
    match pattern {
        "/" => vec!["/".into(), "/?page=2".into(), "/?page=x".into()],
        "/page/{page}/" => vec!["/page/2/".into(), "/page/1/".into(), "/page/999/".into()],
        "/page/{page}" => vec!["/page/2".into()],
        "/{year}/{month}/{day}/{slug}/" => vec![
            article.into(),
            format!("{article}?replytocom={reply_id}"),
            "/1999/01/01/no-such-story/".into(),
        ],
        "/{year}/{month}/{day}/{slug}" => vec![article_bare.into()],
        "/section/{key}/" | "/tag/{key}/" => vec![pattern.replace("{key}", "no-such")],
        "/author/{key}/" => {
            vec!["/author/1-jo-writer/".into(), "/author/1-x/".into(), "/author/x/".into()]
        }
        "/section/{key}/page/{page}/" | "/tag/{key}/page/{page}/" => {
            vec![pattern.replace("{key}", "no-such").replace("{page}", "2")]
        }
        "/author/{key}/page/{page}/" => vec!["/author/1-jo-writer/page/2/".into()],
        "/search" => vec!["/search".into(), "/search?q=canary".into(), "/search?q=private".into()],
        "/feed.atom" | "/sitemap.xml" | "/news-sitemap.xml" | "/robots.txt" => vec![pattern.into()],
        "/section/{key}/feed.atom" | "/tag/{key}/feed.atom" => {
            vec![pattern.replace("{key}", "no-such")]
        }
        "/author/{key}/feed.atom" => vec!["/author/1-jo-writer/feed.atom".into()],
        "/{year}/{month}/{day}/{slug}/feed.atom" => vec![format!("{article}feed.atom")],
        // The date archives of the article's day, month and year.
        "/{year}/" | "/{year}/{month}/" | "/{year}/{month}/{day}/" => {
            let parts: Vec<&str> = article.trim_matches('/').split('/').collect();
            let n = pattern.matches('{').count();
            vec![format!("/{}/", parts[..n].join("/"))]
        }
        "/{year}/page/{page}/"
        | "/{year}/{month}/page/{page}/"
        | "/{year}/{month}/{day}/page/{page}/" => {
            let parts: Vec<&str> = article.trim_matches('/').split('/').collect();
            let n = pattern.matches('{').count() - 1;
            vec![format!("/{}/page/2/", parts[..n].join("/"))]
        }
        "/healthz"
        | "/metrics"
        | "/static/style.css"
        | "/static/favicon.svg"
        | "/static/editor.js"
        | "/static/reply.js"
        | "/static/queue.js" => {
            vec![pattern.into()]
        }
        "/static/{file}" => vec!["/static/site-000000000000.css".into()],
        "/admin/login" => {
            vec!["/admin/login".into(), "/admin/login?next=%2Fadmin%2Fusers%2F".into()]
        }
        "/admin/reset/{token}" => vec!["/admin/reset/00".into()],
        "/admin/logout"
        | "/admin/forgot"
        | "/admin/"
        | "/admin/articles/"
        | "/admin"
        | "/admin/articles/new"
        | "/admin/preview"
        | "/admin/users/"
        | "/admin/account" => vec![pattern.into()],
        "/admin/articles/{id}/" => vec!["/admin/articles/1/".into(), "/admin/articles/x/".into()],
        "/admin/articles/{id}/preview" => vec!["/admin/articles/1/preview".into()],
        "/admin/articles/{id}/notes"
        | "/admin/articles/{id}/trash"
        | "/admin/articles/{id}/restore"
        | "/admin/articles/{id}/delete" => vec![pattern.replace("{id}", "1")],
        "/admin/articles/{id}/revisions/" => vec!["/admin/articles/1/revisions/".into()],
        "/admin/articles/{id}/revisions/{revision}/" => {
            vec!["/admin/articles/1/revisions/1/".into()]
        }
        "/admin/users/{id}" => vec!["/admin/users/1".into()],
        "/admin/sections/" | "/admin/tags/" => vec![pattern.into()],
        "/admin/sections/{id}" | "/admin/tags/{id}" => vec![pattern.replace("{id}", "1")],
        "/admin/pages/" | "/admin/pages/new" | "/admin/import" | "/admin/import/" => {
            vec![pattern.into()]
        }
        "/admin/import/{id}" => vec!["/admin/import/1".into()],
        "/admin/export/{name}" => {
            vec!["/admin/export/site.jsonl".into(), "/admin/export/site.xml".into()]
        }
        "/admin/pages/{id}/" | "/admin/pages/{id}/preview" | "/admin/pages/{id}/revisions/" => {
            vec![pattern.replace("{id}", "1")]
        }
        "/admin/pages/{id}/revisions/{revision}/" => vec!["/admin/pages/1/revisions/1/".into()],
        "/admin/pages/{id}/delete" => vec!["/admin/pages/1/delete".into()],
        "/admin/replies/" => {
            vec!["/admin/replies/".into(), "/admin/replies/?status=approved".into()]
        }
        "/admin/replies/address" => vec!["/admin/replies/address".into()],
        "/admin/replies/{id}/edit" => vec![format!("/admin/replies/{reply_id}/edit")],
        "/admin/replies/{id}/reply" => vec![format!("/admin/replies/{reply_id}/reply")],
        "/admin/settings" => vec!["/admin/settings".into()],
        "/admin/media" => vec!["/admin/media".into(), "/admin/media?q=a&unused=1".into()],
        "/admin/media/{id}/" | "/admin/media/{id}/replace" | "/admin/media/{id}/delete" => {
            vec![pattern.replace("{id}", "1")]
        }
        "/media/{id}" => vec!["/media/1".into()],
        "/mail/confirm/{token}" => vec!["/mail/confirm/a1.00".into()],
        "/unsubscribe/{token}" => vec![
            "/unsubscribe/s1.00".into(),
            "/unsubscribe/a1.00".into(),
            "/unsubscribe/u1.00".into(),
        ],
        "/subscriptions/{token}" => vec!["/subscriptions/a1.00".into()],
        "/replies/{id}" | "/replies/{id}/edit" | "/replies/{id}/delete" => {
            vec![pattern.replace("{id}", &reply_id.to_string())]
        }
        "/my-replies" => vec!["/my-replies".into()],
        "/my-replies/{token}" | "/my-replies/{token}/replies.json" => {
            vec![pattern.replace("{token}", "00")]
        }
        "/moderate/{token}" => vec!["/moderate/1.approve.1.0.00".into()],
        "/media/{hash}/{file}" => vec!["/media/0123456789abcdef0123456789abcdef/a-320.jpg".into()],
        "/embed.js" | "/api/openapi.json" | "/api/v1/sections" | "/api/v1/tags" => {
            vec![pattern.into()]
        }
        "/api/v1/authors" | "/api/v1/me" | "/api/v1/queue" | "/api/v1/drafts" => {
            vec![pattern.into(), format!("{pattern}?status=approved")]
        }
        "/api/v1/articles" => vec![pattern.into(), "/api/v1/articles?limit=1".into()],
        "/api/v1/articles/by-path" => vec![format!("{pattern}?path={article}")],
        "/api/v1/articles/{id}"
        | "/api/v1/articles/{id}/replies"
        | "/api/v1/articles/{id}/events"
        | "/api/v1/articles/{id}/publish"
        | "/api/v1/articles/{id}/schedule"
        | "/api/v1/articles/{id}/unpublish" => {
            vec![pattern.replace("{id}", &ids.article.to_string())]
        }
        "/api/v1/counts" => {
            vec![format!("{pattern}?article={}&url={thread_url}", ids.article)]
        }
        "/api/v1/token" => {
            vec![
                format!("{pattern}?article={}", ids.article),
                format!("{pattern}?url={thread_url}"),
            ]
        }
        "/api/v1/threads" | "/api/v1/threads/replies" => {
            vec![format!("{pattern}?url={thread_url}")]
        }
        "/api/v1/threads/{id}/events" => vec![pattern.replace("{id}", &ids.thread.to_string())],
        "/api/v1/replies/{id}" => vec![pattern.replace("{id}", &reply_id.to_string())],
        "/admin/threads/" => vec![pattern.into()],
        "/threads/{id}/feed.atom" => vec![pattern.replace("{id}", &ids.thread.to_string())],
        "/admin/threads/{id}" => vec![pattern.replace("{id}", &ids.thread.to_string())],
        other => panic!("the privacy test does not know the route {other}: add it here"),
    }
}

#[tokio::test]
async fn the_email_never_appears_in_any_public_response() {
    let app = spawn_with(&[
        ("moderation", "none"),
        ("articles_per_page", "1"),
        ("embed_origins", "https://blog.example"),
    ])
    .await;
    let published = app.publish("Private").await;
    let article = published.path.clone();
    app.publish("Second page").await;
    // Live streams of the article and of an embedded thread are open while the canary posts.
    let thread = embed_reply(&app, "First on the blog", "someone@example.com").await;
    let streams = [
        format!("/api/v1/articles/{}/events", published.id),
        format!("/api/v1/threads/{thread}/events"),
    ];
    let mut open = Vec::new();
    for path in &streams {
        open.push(app.client.get(app.url(path)).send().await.unwrap());
    }
    let approved = app
        .reply(&article, &reply_with(&[("email", CANARY), ("website", "https://canary.example/")]))
        .await;
    app.reply(&article, &reply_with(&[("email", CANARY), ("parent", &approved.to_string())])).await;
    embed_reply(&app, "From the canary", CANARY).await;
    for (path, response) in streams.iter().zip(open) {
        let sent = stream_for(response, std::time::Duration::from_secs(3)).await;
        assert!(sent.contains("reply.posted"), "the stream {path} sent the replies: {sent}");
        for (label, needle) in needles() {
            assert!(!sent.to_lowercase().contains(&needle.to_lowercase()), "({label}) in {path}");
        }
    }
    let ids = Ids { article: published.id.get(), reply: approved, thread };

    let mut checked = Checked { responses: 0, bearer: None };
    for route in byline::web::routes() {
        for path in paths_for(route.path, &article, &ids) {
            for method in ["GET", "HEAD", "POST", "PUT", "DELETE"] {
                checked.check(&app, method, &path, None).await;
            }
            // A refused form from someone else, and a form that is not UTF-8.
            let refused =
                encode(&reply_with(&[("email", "bad"), ("parent", &approved.to_string())]));
            checked.check(&app, "POST", &path, Some(refused)).await;
            checked.check(&app, "POST", &path, Some("comment=%FF".into())).await;
        }
    }
    // What a staff token reads of the API: no email there either.
    app.add_staff("ed@example.com", "Edith Editor", byline::domain::Role::Editor).await;
    let staff = app.sign_in("ed@example.com").await;
    let all = ["read_drafts", "write_articles", "publish", "moderate"];
    let token = app.make_token(&staff, "Privacy", &all).await;
    let mut as_staff = Checked { responses: 0, bearer: Some(token) };
    for route in byline::web::routes().iter().filter(|r| r.path.starts_with("/api/")) {
        for path in paths_for(route.path, &article, &ids) {
            as_staff.check(&app, "GET", &path, None).await;
        }
    }
    for status in ["approved", "pending", "spam", "trash"] {
        as_staff.check(&app, "GET", &format!("/api/v1/queue?status={status}"), None).await;
    }

    // Every page a crawl from `/` reaches.
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from(["/".to_owned()]);
    while let Some(path) = queue.pop_front() {
        if !seen.insert(path.clone()) || seen.len() > 200 {
            continue;
        }
        let (_, body) = checked.check(&app, "GET", &path, None).await;
        let html = scraper::Html::parse_document(&body);
        let links = scraper::Selector::parse("a[href], link[href], form[action]").unwrap();
        for element in html.select(&links) {
            let target = element.value().attr("href").or(element.value().attr("action")).unwrap();
            if let Some(local) = local_path(target, &path) {
                queue.push_back(local);
            }
        }
    }
    assert!(seen.len() >= 6, "the crawl reached too little: {seen:?}");
    assert!(checked.responses > 50);
}

/// A same-site link as a path, without its fragment.
fn local_path(href: &str, from: &str) -> Option<String> {
    let href = href.split('#').next()?;
    if href.is_empty() {
        return Some(from.to_owned());
    }
    if href.starts_with("//") || href.contains("://") {
        return None;
    }
    if href.starts_with('/') {
        return Some(href.to_owned());
    }
    if let Some(query) = href.strip_prefix('?') {
        return Some(format!("{}?{query}", from.split('?').next()?));
    }
    None
}
