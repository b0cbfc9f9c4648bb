use byline::domain::ReplyStatus;
use byline::store::ArticleReads;

use crate::helpers::{
    Page, TestApp, attr, comment_id, encode, reply_with, spawn_app, spawn_with, text, valid_reply,
};
use byline::store::ReplyReads;

/// Asserts a 422 that names `field` and keeps every typed value in the form.
fn assert_refused(page: &Page, field: &str, form: &[(&str, String)]) {
    assert_eq!(page.status, 422, "expected 422 for {field}:\n{}", page.body);
    assert_eq!(page.header("cache-control"), "private, no-store");
    let message = page.one(&format!("#{field}-error"));
    assert!(!text(message).is_empty());
    if field != "parent" {
        let input = page.one(&format!("#respond #{field}"));
        assert_eq!(attr(input, "aria-invalid"), "true");
        assert_eq!(attr(input, "aria-describedby"), format!("{field}-error"));
    }
    // The summary is focused on load and links each problem to its field.
    let summary = page.one("#respond #form-errors[tabindex='-1'][autofocus]");
    if field != "parent" {
        let link = summary
            .select(&scraper::Selector::parse(&format!("a[href='#{field}']")).unwrap())
            .next()
            .unwrap_or_else(|| panic!("a link to #{field} in the summary:\n{}", page.body));
        assert_eq!(text(link), text(message));
    }
    assert_kept(page, form);
}

/// Every value typed is back in the form, exactly.
fn assert_kept(page: &Page, form: &[(&str, String)]) {
    for (name, value) in form {
        match *name {
            "comment" => {
                let typed: String = page.one("#comment").text().collect();
                // An HTML parser drops one newline right after <textarea>; browsers do too.
                assert_eq!(typed, value.strip_prefix('\n').unwrap_or(value), "comment kept");
            }
            "name" | "email" | "website" => {
                assert_eq!(
                    attr(page.one(&format!("#respond #{name}")), "value"),
                    value,
                    "{name} kept"
                );
            }
            "remember" => assert!(page.one("#remember").value().attr("checked").is_some()),
            _ => {}
        }
    }
}

async fn article(app: &TestApp) -> String {
    app.publish("A story").await.path
}

#[tokio::test]
async fn a_valid_reply_is_stored_and_shown_after_a_303() {
    let app = spawn_app().await;
    let path = article(&app).await;
    let response = app.post(&path, &reply_with(&[("website", "https://ada.example/page")])).await;
    assert_eq!(response.status, 303);
    assert!(
        response.location().starts_with(&format!("{path}#comment-")),
        "{}",
        response.location()
    );
    assert_eq!(response.header("cache-control"), "private, no-store");
    let id = comment_id(response.location());

    let page = app.get(&path).await;
    let reply = page.one(&format!("li#comment-{id}"));
    assert_eq!(text(page.one(&format!("#comment-{id} .reply-text"))), "A thoughtful reply.");
    let author = page.one(&format!("#comment-{id} .reply-author a"));
    assert_eq!(text(author), "Ada Reader");
    assert_eq!(attr(author, "href"), "https://ada.example/page");
    assert_eq!(attr(author, "rel"), "nofollow ugc noopener");
    let permalink = page.one(&format!("#comment-{id} a.reply-permalink"));
    assert_eq!(attr(permalink, "href"), format!("#comment-{id}"));
    assert!(
        permalink.select(&scraper::Selector::parse("time[datetime]").unwrap()).next().is_some()
    );
    assert!(text(reply).contains("Reply"));
    assert_eq!(text(page.one("#replies-title")), "One reply to “A story”");
    assert!(text(page.one("#replies")).contains("A thoughtful reply."));
}

#[tokio::test]
async fn the_heading_counts_the_replies() {
    let app = spawn_app().await;
    let path = article(&app).await;
    for i in 0..3 {
        app.reply(&path, &reply_with(&[("comment", &format!("Reply {i}"))])).await;
    }
    let page = app.get(&path).await;
    assert_eq!(text(page.one("#replies-title")), "3 replies to “A story”");
    let texts: Vec<_> = page.all(".reply-text").into_iter().map(text).collect();
    assert_eq!(texts, ["Reply 0", "Reply 1", "Reply 2"], "oldest first");
}

#[tokio::test]
async fn required_fields_are_required() {
    let app = spawn_app().await;
    let path = article(&app).await;
    for field in ["comment", "name", "email"] {
        let form = reply_with(&[(field, "   ")]);
        assert_refused(&app.post(&path, &form).await, field, &form);
    }
    // A form with nothing in it names all three at once.
    let page = app.post(&path, &[]).await;
    assert_eq!(page.status, 422);
    for field in ["comment", "name", "email"] {
        assert!(page.has(&format!("#{field}-error")), "{field}");
    }
    assert!(!page.has("#website-error"));
}

#[tokio::test]
async fn emails_must_be_valid() {
    let app = spawn_app().await;
    let path = article(&app).await;
    for bad in ["not-an-email", "a@b", "@example.com", "a b@example.com", "a@exa mple.com"] {
        let form = reply_with(&[("email", bad)]);
        assert_refused(&app.post(&path, &form).await, "email", &form);
    }
}

#[tokio::test]
async fn websites_must_be_http_urls() {
    let app = spawn_app().await;
    let path = article(&app).await;
    for bad in
        ["javascript:alert(1)", "ftp://example.com", "example.com", "http://", "data:text/html,hi"]
    {
        let form = reply_with(&[("website", bad)]);
        assert_refused(&app.post(&path, &form).await, "website", &form);
    }
    app.reply(&path, &reply_with(&[("website", "http://example.com")])).await;
}

/// Makes a value of the given length in characters.
type MakeValue = Box<dyn Fn(usize) -> String>;

/// Each limit: accepted at the limit, refused one past it (counted in characters, after trimming).
#[tokio::test]
async fn every_limit_holds_at_and_over_the_limit() {
    let app = spawn_app().await;
    let path = article(&app).await;
    // A local part of 64 and labels of 63 at most: the longest addresses need long domains.
    let email_at = |n: usize| {
        let last = "d".repeat(n - 65 - 128 - 4);
        format!("{}@{}.{}.{last}.com", "a".repeat(64), "b".repeat(63), "c".repeat(63))
    };
    let site_at = |n: usize| format!("https://example.com/{}", "p".repeat(n - 20));
    let cases: [(&str, usize, MakeValue); 4] = [
        ("name", 100, Box::new(|n| "é".repeat(n))),
        ("comment", 10_000, Box::new(|n| "ж".repeat(n))),
        ("email", 254, Box::new(email_at)),
        ("website", 2000, Box::new(site_at)),
    ];
    for (field, limit, make) in cases {
        let at = make(limit);
        assert_eq!(at.chars().count(), limit);
        let padded = format!("  {at}\n ");
        let response = app.post(&path, &reply_with(&[(field, &padded)])).await;
        assert_eq!(response.status, 303, "{field} at its limit of {limit}: {}", response.body);

        let over = make(limit + 1);
        let form = reply_with(&[(field, &over)]);
        let page = app.post(&path, &form).await;
        assert_refused(&page, field, &form);
        assert!(text(page.one(&format!("#{field}-error"))).contains(&limit.to_string()));
    }
}

#[tokio::test]
async fn limits_are_configurable() {
    let app =
        spawn_with(&[("moderation", "none"), ("max_comment_chars", "20"), ("max_name_chars", "5")])
            .await;
    let path = article(&app).await;
    let form = reply_with(&[("comment", &"x".repeat(21))]);
    assert_refused(&app.post(&path, &form).await, "comment", &form);
    let form = reply_with(&[("name", "Sixsix")]);
    assert_refused(&app.post(&path, &form).await, "name", &form);
    app.reply(&path, &reply_with(&[("comment", &"x".repeat(20)), ("name", "Five5")])).await;
}

#[tokio::test]
async fn control_characters_are_refused() {
    let app = spawn_app().await;
    let path = article(&app).await;
    for (field, value) in [
        ("comment", "null \u{0} byte"),
        ("comment", "bell \u{7}"),
        ("comment", "escape \u{1b}[31m"),
        ("name", "Ada\u{0}"),
        ("name", "Ada\nLovelace"),
        ("email", "ada\u{8}@example.com"),
        ("website", "https://example.com/\u{7f}"),
    ] {
        let form = reply_with(&[(field, value)]);
        let page = app.post(&path, &form).await;
        assert_eq!(page.status, 422, "{field} {value:?}");
        assert!(page.has(&format!("#{field}-error")), "{field} {value:?}");
    }
    // Tabs and line breaks are fine in a comment.
    let id = app.reply(&path, &reply_with(&[("comment", "one\ttab\r\ntwo lines")])).await;
    let page = app.get(&path).await;
    assert!(page.has(&format!("#comment-{id} .reply-text br")));
}

/// A name of only direction overrides or zero-width characters is refused; a name or text
/// that overrides direction cannot turn the text around it.
#[tokio::test]
async fn invisible_names_are_refused_and_directions_kept_in_their_place() {
    let app = spawn_app().await;
    let path = article(&app).await;
    for name in ["\u{202E}", "\u{200B}", "\u{200B}\u{2066}\u{200F}", "\u{3164}"] {
        let form = reply_with(&[("name", name)]);
        let page = app.post(&path, &form).await;
        assert_refused(&page, "name", &form);
    }
    let overriding = "\u{202E}Ada";
    let id = app
        .reply(&path, &reply_with(&[("name", overriding), ("comment", "\u{202E}txet sdrawkcab")]))
        .await;
    let page = app.get(&path).await;
    let name = page.one(&format!("#comment-{id} .reply-author bdi"));
    assert_eq!(text(name), overriding);
    assert_eq!(attr(page.one(&format!("#comment-{id} .reply-text")), "dir"), "auto");
}

#[tokio::test]
async fn the_form_keeps_everything_typed_when_refused() {
    let app = spawn_app().await;
    let path = article(&app).await;
    let form = vec![
        (
            "comment",
            "\nMy <b>long</b> reply — with “quotes”\n\nand paragraphs & ampersands".to_owned(),
        ),
        ("name", "Zoë \"Z\" O'Brien <zz>".to_owned()),
        ("email", "not valid".to_owned()),
        ("website", "https://zoe.example/?a=1&b=\"2\"".to_owned()),
        ("remember", "yes".to_owned()),
    ];
    let page = app.post(&path, &form).await;
    assert_refused(&page, "email", &form);
}

/// The page that would show a refused form again cannot be read: the reader gets their text
/// all the same, with the page saying nothing was posted.
#[tokio::test]
async fn a_refused_reply_keeps_its_text_when_the_page_cannot_be_read() {
    let app = spawn_app().await;
    let path = article(&app).await;
    app.form_token(&path).await;
    // The first read finds the article; the second would draw the form again.
    app.store.faults().arm_reads(2);
    let form = reply_with(&[("email", "not valid"), ("comment", "Words worth keeping")]);
    let page = app.post(&path, &form).await;
    assert!(app.store.faults().fired(), "the page's read failed");
    assert_eq!(page.status, 503, "{}", page.body);
    assert_eq!(text(page.one("textarea#kept")), "Words worth keeping");
    assert!(text(page.one("main")).contains("Nothing was posted"));
}

/// A reply stored, but whose page of the thread cannot be looked up: the reader is sent to
/// it all the same, never told it was not saved.
#[tokio::test]
async fn a_stored_reply_is_acknowledged_even_when_its_page_cannot_be_found() {
    let app = spawn_with(&[("moderation", "none"), ("replies_per_page", "2")]).await;
    let path = article(&app).await;
    let parent = app.reply(&path, &reply_with(&[("comment", "First")])).await;
    app.form_token(&path).await;
    // The article and the settings are kept from the first reply: the one read, after the
    // commit, looks up the answer's page.
    app.store.faults().arm_reads(1);
    let answer = reply_with(&[("comment", "An answer"), ("parent", &parent.to_string())]);
    let response = app.post(&path, &answer).await;
    assert!(app.store.faults().fired(), "the page lookup failed");
    assert_eq!(response.status, 303, "{}", response.body);
    let id = comment_id(response.location());
    assert_eq!(response.location(), format!("{path}#comment-{id}"));
    let stored = app.db(move |db| db.reply(id)).await.expect("stored");
    assert_eq!(stored.body, "An answer");
}

#[tokio::test]
async fn readers_text_is_shown_never_run() {
    let app = spawn_app().await;
    let path = article(&app).await;
    let markup =
        "<script>alert(1)</script><img src=x onerror=alert(2)><a href=\"javascript:x\">x</a>";
    let id = app
        .reply(
            &path,
            &reply_with(&[("comment", markup), ("name", "<b onmouseover=alert(3)>Bold</b>")]),
        )
        .await;
    let page = app.get(&path).await;
    let reply = format!("#comment-{id}");
    assert!(!page.has(
        "#replies script, #replies img, #replies b, #replies [onerror], #replies [onmouseover]"
    ));
    assert_eq!(text(page.one(&format!("{reply} .reply-text"))), markup);
    assert_eq!(
        text(page.one(&format!("{reply} .reply-author"))),
        "<b onmouseover=alert(3)>Bold</b>"
    );
    // And were anything to slip through, the browser runs the site's own files only.
    let policy = page.header("content-security-policy");
    assert!(policy.contains("default-src 'none'"), "{policy}");
    let scripts = policy.split(';').map(str::trim).find(|d| d.starts_with("script-src"));
    assert_eq!(scripts, Some("script-src 'self'"), "{policy}");
    assert!(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"), "{policy}");
}

#[tokio::test]
async fn bare_urls_become_safe_links_and_lines_are_kept() {
    let app = spawn_app().await;
    let path = article(&app).await;
    let id = app
        .reply(
            &path,
            &reply_with(&[(
                "comment",
                "See https://example.org/a?b=1&c=2 today.\nSecond line.\n\nNew paragraph.",
            )]),
        )
        .await;
    let page = app.get(&path).await;
    let reply = format!("#comment-{id} .reply-text");
    let link = page.one(&format!("{reply} a"));
    assert_eq!(attr(link, "href"), "https://example.org/a?b=1&c=2");
    assert_eq!(attr(link, "rel"), "nofollow ugc noopener");
    assert_eq!(page.all(&format!("{reply} p")).len(), 2);
    assert_eq!(page.all(&format!("{reply} br")).len(), 1);
}

#[tokio::test]
async fn replies_to_what_cannot_be_answered_are_refused_clearly() {
    let app = spawn_app().await;
    let path = article(&app).await;
    let other = app.publish("Another story").await;
    let elsewhere = app.seed_reply(other.id, None, "Elsewhere", ReplyStatus::Approved).await;
    let held =
        app.seed_reply(app.publish("Third").await.id, None, "Held", ReplyStatus::Pending).await;
    let article_id = app.article_by_slug("a-story").await.unwrap().id;
    let pending_here = app.seed_reply(article_id, None, "Pending", ReplyStatus::Pending).await;
    for parent in [elsewhere, held, pending_here, byline::domain::ReplyId(987_654)] {
        let form = reply_with(&[("parent", &parent.to_string())]);
        let page = app.post(&path, &form).await;
        assert_refused(&page, "parent", &form);
        assert_eq!(
            text(page.one("#respond h2")),
            "Leave a Reply",
            "the form now posts a new reply"
        );
    }
    let form = reply_with(&[("parent", "abc")]);
    assert_refused(&app.post(&path, &form).await, "parent", &form);
}

#[tokio::test]
async fn a_reply_to_a_missing_article_is_404() {
    let app = spawn_app().await;
    let page = app.post("/2026/11/24/no-such-story/", &valid_reply()).await;
    assert_eq!(page.status, 404);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = spawn_with(&[("moderation", "none"), ("max_body_bytes", "4096")]).await;
    let path = article(&app).await;
    let big = encode(&reply_with(&[("comment", &"x".repeat(5000))]));
    let page = app.post_raw(&path, big.into_bytes(), &[]).await;
    assert_eq!(page.status, 413);
    assert!(text(page.one("h1")).contains("Too large"));

    // Chunked, with no length announced.
    let chunk = "x".repeat(8000);
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n8\r\ncomment=\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    let response = raw_http(&app, request.as_bytes()).await;
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    // The server is still there.
    assert_eq!(app.get(&path).await.status, 200);
}

/// Sends bytes as they are and returns the whole response as text.
async fn raw_http(app: &TestApp, request: &[u8]) -> String {
    use std::io::{Read, Write};
    let address = app.address.trim_start_matches("http://").to_owned();
    let request = request.to_vec();
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(address).unwrap();
        stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        stream.write_all(&request).unwrap();
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        String::from_utf8_lossy(&response).into_owned()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_body_that_is_not_utf8_is_a_clear_400() {
    let app = spawn_app().await;
    let path = article(&app).await;
    for body in
        [b"comment=%FF%FE&name=a&email=a%40b.co".to_vec(), b"comment=\xff\xfe&name=a".to_vec()]
    {
        let page = app.post_raw(&path, body, &[]).await;
        assert_eq!(page.status, 400);
        assert!(text(page.one("main")).contains("UTF-8"));
    }
    let stored = app.db(|db| db.count_published_articles(None)).await;
    assert_eq!(stored, 1);
    assert_eq!(app.get(&path).await.one("#replies-title").text().collect::<String>(), "Replies");
}

#[tokio::test]
async fn other_encodings_of_the_form_are_refused() {
    let app = spawn_app().await;
    let path = article(&app).await;
    let page = app.post_raw(&path, b"{}".to_vec(), &[("content-type", "application/json")]).await;
    assert_eq!(page.status, 415);
}

#[tokio::test]
async fn two_hundred_concurrent_replies_are_all_stored() {
    let app = spawn_app().await;
    let path = article(&app).await;
    let mut tasks = tokio::task::JoinSet::new();
    let token = app.form_token(&path).await;
    for i in 0..200 {
        let client = app.client.clone();
        let url = app.url(&path);
        let body = encode(&reply_with(&[
            ("comment", &format!("Concurrent reply {i}")),
            ("token", &token),
        ]));
        tasks.spawn(async move {
            let response = client
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 303);
            comment_id(response.headers()["location"].to_str().unwrap())
        });
    }
    let mut ids = Vec::new();
    while let Some(id) = tasks.join_next().await {
        ids.push(id.unwrap());
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 200, "every reply has its own id");

    let page = app.get(&path).await;
    assert_eq!(text(page.one("#replies-title")), "200 replies to “A story”");
    let mut shown: Vec<byline::domain::ReplyId> = page
        .all("li.reply")
        .into_iter()
        .map(|li| {
            byline::domain::ReplyId::parse(attr(li, "id").trim_start_matches("comment-")).unwrap()
        })
        .collect();
    shown.sort_unstable();
    assert_eq!(shown, ids);
}
