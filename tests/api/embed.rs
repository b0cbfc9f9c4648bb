//! Replies on other sites' pages: threads keyed by a page's address on a listed site, made by
//! their first reply, kept out of Byline's own listings; cross-origin rules; `embed.js`'s size.

use std::io::Write;

use byline::domain::Role;
use serde_json::{Value, json};

use crate::helpers::*;

const BLOG: &str = "https://blog.example";

async fn blog_site(extra: &[(&str, &str)]) -> TestApp {
    let mut settings = vec![("moderation", "none"), ("embed_origins", BLOG)];
    settings.extend_from_slice(extra);
    spawn_with(&settings).await
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Posts a reply to the page at `url` as the embed does (from the blog's pages).
async fn embed_post(app: &TestApp, url: &str, form: Value) -> Json {
    let token = app.api_get(&format!("/api/v1/token?url={}", enc(url))).await;
    assert_eq!(token.status, 200, "{}", token.text);
    let mut form = form;
    form["url"] = json!(url);
    form["token"] = json!(token.str("token"));
    app.api(reqwest::Method::POST, "/api/v1/threads/replies", Some(form), &[("origin", BLOG)]).await
}

fn reader(comment: &str) -> Value {
    json!({"comment": comment, "name": "Bea Blogreader", "email": "bea@example.com", "title": "A post — The Blog"})
}

#[tokio::test]
async fn the_first_reply_makes_the_pages_thread_and_later_ones_join_it() {
    let app = blog_site(&[]).await;
    let url = format!("{BLOG}/2026/a-post/");
    let empty = app.api_get(&format!("/api/v1/threads/replies?url={}", enc(&url))).await;
    assert_eq!(empty.status, 200, "{}", empty.text);
    assert_eq!(
        (empty.body["thread"].clone(), empty.body["replies_open"].clone()),
        (Value::Null, json!(true))
    );
    assert_eq!(app.api_get(&format!("/api/v1/threads?url={}", enc(&url))).await.status, 404);
    let first = embed_post(&app, &url, reader("First!")).await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.str("location"), format!("{url}#comment-{}", first.body["reply"]["id"]));
    let thread = app.api_get(&format!("/api/v1/threads?url={}", enc(&url))).await;
    assert_eq!(thread.status, 200);
    assert_eq!(
        (thread.str("title"), thread.str("url")),
        ("A post — The Blog".to_owned(), url.clone())
    );
    assert_eq!(thread.body["id"], first.body["article_id"]);
    // The same page, however its address was written, is the same thread.
    let mut second = reader("Second");
    second["parent"] = first.body["reply"]["id"].clone();
    second["title"] = json!("Another title, ignored");
    let answer = embed_post(&app, "https://BLOG.example/2026/a-post/#comment-1", second).await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    assert_eq!(answer.body["article_id"], first.body["article_id"]);
    let replies = app.api_get(&format!("/api/v1/threads/replies?url={}", enc(&url))).await;
    assert_eq!(replies.body["thread"]["reply_count"], 2);
    assert_eq!(replies.body["thread"]["title"], "A post — The Blog");
    let depths: Vec<i64> = replies.body["replies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["depth"].as_i64().unwrap())
        .collect();
    assert_eq!(depths, [1, 2]);
    let counts = app
        .api_get(&format!(
            "/api/v1/counts?url={}&url={}",
            enc(&url),
            enc(&format!("{BLOG}/other/"))
        ))
        .await;
    assert_eq!(
        counts.body["urls"],
        json!([{"url": url, "replies": 2}, {"url": format!("{BLOG}/other/"), "replies": 0}])
    );
    // A refused first reply makes no thread.
    let other = format!("{BLOG}/refused/");
    let refused = embed_post(&app, &other, json!({"comment": "", "name": "", "email": ""})).await;
    assert_eq!(refused.status, 422);
    assert_eq!(app.api_get(&format!("/api/v1/threads?url={}", enc(&other))).await.status, 404);
}

#[tokio::test]
async fn only_listed_sites_get_threads_or_answers_to_their_pages() {
    let app = blog_site(&[]).await;
    let evil = "https://evil.example/page/";
    for path in [
        format!("/api/v1/token?url={}", enc(evil)),
        format!("/api/v1/threads/replies?url={}", enc(evil)),
        format!("/api/v1/threads?url={}", enc(evil)),
    ] {
        let refused = app.api_get(&path).await;
        assert_eq!(
            (refused.status, refused.str("code")),
            (403, "unlisted_site".to_owned()),
            "{path}"
        );
    }
    let mut form = reader("Hello");
    form["url"] = json!(evil);
    let posted = app.api(reqwest::Method::POST, "/api/v1/threads/replies", Some(form), &[]).await;
    assert_eq!(posted.status, 403);
    // A listed page's thread, posted from a page of an unlisted site.
    let url = format!("{BLOG}/post/");
    let token = app.api_get(&format!("/api/v1/token?url={}", enc(&url))).await.str("token");
    let mut form = reader("Hello");
    form["url"] = json!(url);
    form["token"] = json!(token);
    let posted = app
        .api(
            reqwest::Method::POST,
            "/api/v1/threads/replies",
            Some(form),
            &[("origin", "https://evil.example")],
        )
        .await;
    assert_eq!((posted.status, posted.str("code")), (403, "unlisted_site".to_owned()));

    // CORS: the listed origin, exactly, and never a wildcard or credentials.
    let listed = app
        .api_get_with(&format!("/api/v1/threads/replies?url={}", enc(&url)), &[("origin", BLOG)])
        .await;
    assert_eq!(listed.header("access-control-allow-origin"), BLOG);
    assert!(listed.headers.get_all("vary").iter().any(|v| v.to_str().unwrap().contains("Origin")));
    assert_eq!(listed.header("access-control-allow-credentials"), "");
    let unlisted = app
        .api_get_with(
            &format!("/api/v1/threads/replies?url={}", enc(&url)),
            &[("origin", "https://blog.example.evil.example")],
        )
        .await;
    assert_eq!(unlisted.header("access-control-allow-origin"), "");
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/threads/replies"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let ok = preflight(BLOG).await.unwrap();
    assert_eq!(ok.status(), 204);
    assert_eq!(ok.headers()["access-control-allow-origin"], BLOG);
    assert!(ok.headers()["access-control-allow-methods"].to_str().unwrap().contains("POST"));
    assert!(
        ok.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .to_lowercase()
            .contains("content-type")
    );
    let no = preflight("https://evil.example").await.unwrap();
    assert_eq!(no.status(), 403);
    assert!(no.headers().get("access-control-allow-origin").is_none());
    // The site's own pages may use the API too.
    let own = app.api_get_with("/api/v1/sections", &[("origin", &app.address)]).await;
    assert_eq!(own.header("access-control-allow-origin"), app.address);
}

#[tokio::test]
async fn threads_stay_out_of_bylines_listings_and_staff_look_after_them() {
    let app = blog_site(&[("moderation", "all"), ("close_after_days", "2")]).await;
    app.add_staff("ed@example.com", "Edith Editor", Role::Editor).await;
    let staff = app.sign_in("ed@example.com").await;
    app.publish("A real article").await;
    let url = format!("{BLOG}/hidden-gem/");
    let posted = embed_post(&app, &url, reader("Held for now")).await;
    assert_eq!((posted.status, posted.body["held"].clone()), (201, json!(true)));
    let poster = posted.str("poster");
    let thread_id = posted.body["article_id"].as_i64().unwrap();
    let theirs = app
        .api_get(&format!("/api/v1/threads/replies?url={}&poster={}", enc(&url), enc(&poster)))
        .await;
    assert_eq!(theirs.body["replies"][0]["held"], true, "the poster sees their held reply");
    let anyone = app.api_get(&format!("/api/v1/threads/replies?url={}", enc(&url))).await;
    assert_eq!(anyone.body["replies"], json!([]));
    // Nowhere in Byline's own listings.
    for path in ["/", "/sitemap.xml", "/feed.atom", "/search?q=hidden", "/api/v1/articles"] {
        let page = app.get(path).await;
        assert!(
            !page.body.contains("A post — The Blog") && !page.body.contains("hidden-gem"),
            "{path}"
        );
    }
    let newsroom = app.staff_get(&staff, "/admin/articles/").await;
    assert!(!newsroom.body.contains("A post — The Blog"));
    assert_eq!(app.api_get(&format!("/api/v1/articles/{thread_id}")).await.status, 404);
    // In the queue, with the page's address.
    let queue = app.staff_get(&staff, "/admin/replies/?status=pending").await;
    assert!(queue.body.contains(&url), "{}", queue.body);
    // Staff rename it, and close it.
    let list = app.staff_get(&staff, "/admin/threads/").await;
    assert_eq!(list.status, 200);
    assert_eq!(attr(list.one(&format!("#title-{thread_id}")), "value"), "A post — The Blog");
    let saved = app
        .staff_post(
            &staff,
            &format!("/admin/threads/{thread_id}"),
            &[("title", "Hidden gem"), ("open", "yes")],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let thread = app.api_get(&format!("/api/v1/threads?url={}", enc(&url))).await;
    assert_eq!(thread.str("title"), "Hidden gem");
    let empty =
        app.staff_post(&staff, &format!("/admin/threads/{thread_id}"), &[("title", "  ")]).await;
    assert_eq!(empty.status, 422);
    // `close_after_days` counts from the thread's first reply.
    app.clock.advance(3 * 86_400);
    let late = embed_post(&app, &url, reader("Too late")).await;
    assert_eq!((late.status, late.str("code")), (403, "replies_closed".to_owned()));
    let closed = app.api_get(&format!("/api/v1/threads/replies?url={}", enc(&url))).await;
    assert_eq!(closed.body["replies_open"], false);
    // An author does not look after threads.
    app.add_staff("au@example.com", "Arthur Author", Role::Author).await;
    let author = app.sign_in("au@example.com").await;
    assert_eq!(app.staff_get(&author, "/admin/threads/").await.status, 403);
}

/// `embed.js`, with its styles, is small: under 10 kB gzipped.
#[tokio::test]
async fn the_embed_script_is_under_ten_kilobytes_gzipped() {
    let app = blog_site(&[]).await;
    let response = app.client.get(app.url("/embed.js")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/javascript"));
    let script = response.bytes().await.unwrap();
    assert!(script.len() > 1000, "the script itself");
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gzip.write_all(&script).unwrap();
    let size = gzip.finish().unwrap().len();
    assert!(size < 10 * 1024, "embed.js is {size} bytes gzipped");
    // What readers typed is put in as text, never as markup.
    let source = String::from_utf8(script.to_vec()).unwrap();
    assert!(!source.contains("innerHTML") && !source.contains("insertAdjacentHTML"));
    assert!(source.contains("attachShadow"));
}

/// Mail about replies on another site's page works as on an article's, its links to that
/// page; the thread has a replies' feed of its own (and is in no other).
#[tokio::test]
async fn replies_on_other_sites_pages_are_mailed_and_fed_as_on_articles() {
    let sink = crate::mail::Sink::start();
    let smtp = sink.port.to_string();
    let app = blog_site(&[
        ("mail", "smtp"),
        ("smtp_host", "127.0.0.1"),
        ("smtp_port", &smtp),
        ("smtp_security", "none"),
        ("base_url", "https://news.example"),
    ])
    .await;
    let url = format!("{BLOG}/mailed/");
    let thread = app.api_get(&format!("/api/v1/threads/replies?url={}", enc(&url))).await;
    assert_eq!(thread.body["mail"], true, "the embed's form offers mail");
    let mut first = reader("Tell me when someone answers.");
    first["email"] = json!("first@example.com");
    first["notify_replies"] = json!(true);
    let posted = embed_post(&app, &url, first).await;
    assert_eq!(posted.status, 201, "{}", posted.text);
    let parent = posted.body["reply"]["id"].clone();
    let confirmation = &sink.wait_for(1).await[0];
    assert_eq!(confirmation.rcpt(), ["first@example.com"]);
    let link = confirmation.link("/mail/confirm/");
    let confirmed = app.post_raw(&link, Vec::new(), &[]).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    let mut answer = reader("Here is an answer.");
    answer["email"] = json!("second@example.com");
    answer["parent"] = parent;
    let answered = embed_post(&app, &url, answer).await;
    assert_eq!(answered.status, 201);
    let mails = sink.wait_for(2).await;
    let note = &mails[1];
    assert_eq!(note.rcpt(), ["first@example.com"]);
    let id = &answered.body["reply"]["id"];
    let link = format!("https://news.example/replies/{id}");
    assert!(note.text().contains(&link), "the mail links the reply:\n{}", note.text());
    let followed = app.get(&format!("/replies/{id}")).await;
    assert_eq!(followed.status, 302);
    assert_eq!(followed.location(), format!("{url}#comment-{id}"), "on the blog's page");
    assert!(note.text().contains("Here is an answer."));

    let feed_url = app.api_get(&format!("/api/v1/threads?url={}", enc(&url))).await.str("feed");
    let path = feed_url.trim_start_matches("https://news.example");
    let python = format!("{}/tests/python/.venv/bin/python", env!("CARGO_MANIFEST_DIR"));
    let script = format!("{}/tests/python/check.py", env!("CARGO_MANIFEST_DIR"));
    let feed_at = app.url(path);
    // Off the test's runtime, which serves the feed being read.
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(python).args([script.as_str(), "feed", &feed_at]).output()
    })
    .await
    .unwrap()
    .expect("feedparser runs");
    let feed: Value = serde_json::from_slice(&output.stdout).expect("the feed as JSON");
    assert_eq!(feed["bozo"], false, "{feed}");
    assert_eq!(feed["title"], "Replies to “A post — The Blog”");
    let links: Vec<&str> =
        feed["entries"].as_array().unwrap().iter().map(|e| e["link"].as_str().unwrap()).collect();
    assert_eq!(links.len(), 2);
    assert!(links.iter().all(|l| l.starts_with(&url)), "{links:?}");
    let site_feed = app.get("/feed.atom").await;
    assert!(!site_feed.body.contains("/mailed/"));
}
