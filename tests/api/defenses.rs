//! The reply form's defenses, each with its setting, and the settings that shape the replies.

use byline::domain::signing::{Keys, issue_token};
use byline::domain::{ArticleId, ReplyStatus, SettingKey};
use byline::store::SiteSetting;

use crate::helpers::{TestApp, comment_id, cookies_from, reply_with, spawn_with, text};

async fn stored(app: &TestApp, response: &crate::helpers::Page) -> (ReplyStatus, String) {
    assert_eq!(response.status, 303, "{}", response.body);
    let id = comment_id(response.location());
    let row = app.queued().await.into_iter().find(|q| q.reply.id == id).unwrap();
    (row.reply.status, row.held_reason)
}

async fn keys(app: &TestApp) -> Keys {
    Keys::new(&app.setting(SiteSetting::Secret).await.unwrap())
}

async fn article_id(app: &TestApp, path: &str) -> ArticleId {
    let slug = path.trim_end_matches('/').rsplit('/').next().unwrap();
    app.article_by_slug(slug).await.unwrap().id
}

#[tokio::test]
async fn the_honeypot_sends_robots_to_spam() {
    let app = spawn_with(&[("moderation", "none")]).await;
    let path = app.publish("Honeypot").await.path;
    let page = app.get(&path).await;
    let trap = page.one("#homepage");
    assert_eq!(trap.value().attr("tabindex"), Some("-1"));
    assert!(page.has(".hp[aria-hidden=true] #homepage"), "hidden from people and screen readers");
    let robot = app.post(&path, &reply_with(&[("homepage", "http://spam.example")])).await;
    let (status, reason) = stored(&app, &robot).await;
    assert_eq!(status, ReplyStatus::Spam);
    assert!(reason.contains("hidden field"), "{reason}");
    let person = app.post(&path, &reply_with(&[("homepage", ""), ("comment", "Human")])).await;
    assert_eq!(stored(&app, &person).await.0, ReplyStatus::Approved);

    let off = spawn_with(&[("moderation", "none"), ("honeypot", "off")]).await;
    let path = off.publish("No honeypot").await.path;
    let filled = off.post(&path, &reply_with(&[("homepage", "x")])).await;
    assert_eq!(stored(&off, &filled).await.0, ReplyStatus::Approved);
}

#[tokio::test]
async fn replies_sent_faster_than_a_person_types_are_held() {
    // Tokens count whole seconds: 2 s leaves room for a second boundary.
    let app = spawn_with(&[("moderation", "none"), ("min_fill_seconds", "2")]).await;
    let path = app.publish("Fast").await.path;
    let token = app.form_token(&path).await;
    let fast = app.post(&path, &reply_with(&[("token", &token)])).await;
    let (status, reason) = stored(&app, &fast).await;
    assert_eq!(status, ReplyStatus::Pending);
    assert!(
        reason.starts_with("sent ") && reason.ends_with("after the page was served"),
        "{reason}"
    );
    app.clock.advance(2);
    let slow = app.post(&path, &reply_with(&[("token", &token), ("comment", "Considered")])).await;
    assert_eq!(stored(&app, &slow).await.0, ReplyStatus::Approved);
}

#[tokio::test]
async fn the_default_holds_a_reply_sent_at_once() {
    // Every defense at its default: 3 s, first-time moderation, 5 a minute.
    let app = spawn_with(&[
        ("min_fill_seconds", "3"),
        ("rate_limit_per_minute", "5"),
        ("duplicate_check", "on"),
    ])
    .await;
    let path = app.publish("Defaults").await.path;
    let (status, _) = stored(&app, &app.post(&path, &reply_with(&[])).await).await;
    assert_eq!(status, ReplyStatus::Pending);
}

#[tokio::test]
async fn stale_forged_and_missing_tokens_are_refused_keeping_the_text() {
    let app = spawn_with(&[("moderation", "none")]).await;
    let path = app.publish("Tokens").await.path;
    let other = app.publish("Other").await;
    let keys = keys(&app).await;
    let id = article_id(&app, &path).await;
    let now = app.clock.now();
    let bad = [
        String::new(),
        "123.deadbeef".to_owned(),
        issue_token(&Keys::new("not the secret"), id, now),
        issue_token(&keys, other.id, now),
        issue_token(&keys, id, now - 4 * 24 * 3600),
    ];
    for token in bad {
        let form = reply_with(&[("token", &token), ("comment", "Kept <text>")]);
        let page = app.post(&path, &form).await;
        assert_eq!(page.status, 422, "token {token:?}");
        assert!(text(page.one("#form-error")).contains("too old or had been altered"));
        assert_eq!(page.one("#comment").text().collect::<String>(), "Kept <text>");
        assert!(
            !page.one("input[name=token]").value().attr("value").unwrap_or_default().is_empty(),
            "a fresh token"
        );
    }
    // A page kept by a cache for a while still works.
    let cached = issue_token(&keys, id, now - 600);
    let response = app.post(&path, &reply_with(&[("token", &cached)])).await;
    assert_eq!(response.status, 303);
}

/// However many replies from one address arrive at once, no more than the limit are stored.
#[tokio::test]
async fn concurrent_replies_from_one_address_are_counted_one_after_the_other() {
    let app = spawn_with(&[("moderation", "none"), ("rate_limit_per_minute", "5")]).await;
    let path = app.publish("Crowded").await.path;
    app.form_token(&path).await;
    let forms: Vec<_> =
        (0..30).map(|i| reply_with(&[("comment", &format!("At once {i}"))])).collect();
    let posts = forms.iter().map(|form| app.post(&path, form));
    let statuses: Vec<u16> =
        futures_util::future::join_all(posts).await.iter().map(|p| p.status).collect();
    let stored = statuses.iter().filter(|s| **s == 303).count();
    let limited = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((stored, limited), (5, 25), "{statuses:?}");
    assert_eq!(app.queued().await.len(), 5);
}

#[tokio::test]
async fn too_many_replies_from_one_address_get_429_and_keep_the_text() {
    let app = spawn_with(&[("moderation", "none"), ("rate_limit_per_minute", "5")]).await;
    let path = app.publish("Busy").await.path;
    for i in 0..5 {
        let response = app.post(&path, &reply_with(&[("comment", &format!("Reply {i}"))])).await;
        assert_eq!(response.status, 303, "reply {i}");
    }
    let form = reply_with(&[("comment", "The sixth, kept")]);
    let limited = app.post(&path, &form).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), "60");
    assert_eq!(limited.header("cache-control"), "private, no-store");
    assert!(text(limited.one("#form-error")).contains("wait a minute"));
    // Nothing is marked, and the page says what happened instead of pointing at marks.
    let summary = text(limited.one("#form-errors"));
    assert!(!summary.contains("marked"), "{summary}");
    assert!(!limited.has("[aria-invalid]"));
    assert_eq!(limited.one("#comment").text().collect::<String>(), "The sixth, kept");
    // A forged X-Forwarded-For from an untrusted peer changes nothing.
    let mut spoofed = form.clone();
    spoofed.push(("token", app.form_token(&path).await));
    let body = crate::helpers::encode(&spoofed).into_bytes();
    let response = app.post_raw(&path, body, &[("x-forwarded-for", "198.51.100.99")]).await;
    assert_eq!(response.status, 429, "the spoofed address is ignored");
    // A minute later, the address may reply again.
    app.clock.advance(61);
    assert_eq!(app.post(&path, &form).await.status, 303, "after a minute");

    let off = spawn_with(&[("moderation", "none"), ("rate_limit_per_minute", "0")]).await;
    let path = off.publish("Unlimited").await.path;
    for i in 0..8 {
        assert_eq!(
            off.post(&path, &reply_with(&[("comment", &format!("R{i}"))])).await.status,
            303
        );
    }
}

#[tokio::test]
async fn the_client_address_comes_from_trusted_proxies_only() {
    let untrusted = spawn_with(&[("moderation", "none")]).await;
    let path = untrusted.publish("Addresses").await.path;
    let mut form = reply_with(&[]);
    form.push(("token", untrusted.form_token(&path).await));
    let body = crate::helpers::encode(&form).into_bytes();
    let spoof = [("x-forwarded-for", "198.51.100.7"), ("forwarded", "for=198.51.100.8")];
    untrusted.post_raw(&path, body.clone(), &spoof).await;
    let queued = untrusted.queued().await;
    assert_eq!(
        queued[0].ip.as_deref(),
        Some("127.0.0.1"),
        "headers of an untrusted peer are ignored"
    );

    let proxied = spawn_with(&[("moderation", "none"), ("trusted_proxies", "127.0.0.1")]).await;
    let path = proxied.publish("Behind a proxy").await.path;
    let mut form = reply_with(&[]);
    form.push(("token", proxied.form_token(&path).await));
    let body = crate::helpers::encode(&form).into_bytes();
    proxied.post_raw(&path, body, &[("x-forwarded-for", "203.0.113.5, 127.0.0.1")]).await;
    let queued = proxied.queued().await;
    assert_eq!(queued[0].ip.as_deref(), Some("203.0.113.5"));
}

#[tokio::test]
async fn the_same_text_twice_is_refused() {
    let app = spawn_with(&[("moderation", "none"), ("duplicate_check", "on")]).await;
    let path = app.publish("Twice").await.path;
    assert_eq!(app.post(&path, &reply_with(&[("comment", "Once only")])).await.status, 303);
    let again = app
        .post(&path, &reply_with(&[("comment", "  Once only  "), ("email", "ADA@example.com")]))
        .await;
    assert_eq!(again.status, 422);
    assert!(text(again.one("#comment-error")).contains("already posted this reply"));
    assert_eq!(app.post(&path, &reply_with(&[("comment", "Something new")])).await.status, 303);
    let other = app.publish("Elsewhere").await.path;
    assert_eq!(app.post(&other, &reply_with(&[("comment", "Once only")])).await.status, 303);

    let off = spawn_with(&[("moderation", "none"), ("duplicate_check", "off")]).await;
    let path = off.publish("Twice allowed").await.path;
    off.post(&path, &reply_with(&[])).await;
    assert_eq!(off.post(&path, &reply_with(&[])).await.status, 303);
}

#[tokio::test]
async fn links_and_lists_hold_or_spam_a_reply() {
    let app = spawn_with(&[
        ("moderation", "none"),
        ("hold_list", "casino\nwatched@example.com"),
        ("spam_list", "cheap pills, 127.0.0.1"),
    ])
    .await;
    let path = app.publish("Rules").await.path;
    let two = "https://a.example https://b.example";
    let three = "https://a.example https://b.example https://c.example";
    assert_eq!(
        stored(&app, &app.post(&path, &reply_with(&[("comment", two)])).await).await.0,
        ReplyStatus::Spam,
        "the IP is listed"
    );

    let app = spawn_with(&[
        ("moderation", "none"),
        ("hold_list", "casino\nwatched@example.com"),
        ("spam_list", "cheap pills"),
    ])
    .await;
    let path = app.publish("Rules").await.path;
    let (status, _) = stored(&app, &app.post(&path, &reply_with(&[("comment", two)])).await).await;
    assert_eq!(status, ReplyStatus::Approved, "two links are fine");
    let (status, reason) =
        stored(&app, &app.post(&path, &reply_with(&[("comment", three)])).await).await;
    assert_eq!((status, reason.as_str()), (ReplyStatus::Pending, "3 links (more than 2)"));
    let (status, reason) =
        stored(&app, &app.post(&path, &reply_with(&[("comment", "Win at the CASINO")])).await)
            .await;
    assert_eq!(status, ReplyStatus::Pending);
    assert!(reason.contains("casino"), "{reason}");
    let (status, _) = stored(
        &app,
        &app.post(&path, &reply_with(&[("email", "Watched@Example.com"), ("comment", "Hi")])).await,
    )
    .await;
    assert_eq!(status, ReplyStatus::Pending);
    let (status, reason) =
        stored(&app, &app.post(&path, &reply_with(&[("comment", "Buy cheap pills")])).await).await;
    assert_eq!(status, ReplyStatus::Spam);
    assert!(reason.contains("spam list"), "{reason}");

    let no_limit = spawn_with(&[("moderation", "none"), ("max_links", "off")]).await;
    let path = no_limit.publish("Links").await.path;
    assert_eq!(
        stored(&no_limit, &no_limit.post(&path, &reply_with(&[("comment", three)])).await).await.0,
        ReplyStatus::Approved
    );
}

#[tokio::test]
async fn replies_close_on_old_articles() {
    let app = spawn_with(&[("moderation", "none"), ("close_after_days", "7")]).await;
    let old = byline::services::publishing::Draft {
        headline: "Old news".into(),
        standfirst: String::new(),
        author: "Jo".into(),
        body_markdown: "Text".into(),
        replies_open: true,
    };
    let ten_days_ago = app.clock.now() - 10 * 86_400;
    let published =
        byline::services::publishing::publish_at(&app.services, &old, ten_days_ago).await.unwrap();
    let page = app.get(&published.path).await;
    assert_eq!(text(page.one(".replies-closed")), "Comments are closed.");
    assert!(!page.has("#respond form"));
    let response = app.post(&published.path, &reply_with(&[("token", "1.x")])).await;
    assert_eq!(response.status, 403);
    let fresh = app.publish("Fresh news").await;
    assert!(app.get(&fresh.path).await.has("#respond form"));
}

#[tokio::test]
async fn a_stored_setting_applies_when_the_environment_is_silent() {
    let app = spawn_with(&[]).await;
    app.set_setting(SiteSetting::Discussion(SettingKey::Moderation), "none").await;
    let path = app.publish("Stored").await.path;
    let response = app.post(&path, &reply_with(&[])).await;
    assert_eq!(stored(&app, &response).await.0, ReplyStatus::Approved);
    app.set_setting(SiteSetting::Discussion(SettingKey::Moderation), "all").await;
    let response = app.post(&path, &reply_with(&[("comment", "Second")])).await;
    assert_eq!(stored(&app, &response).await.0, ReplyStatus::Pending);
    assert!(cookies_from(&response).contains("byline_held="));
}

#[tokio::test]
async fn older_replies_are_on_pages_reachable_without_javascript() {
    let app = spawn_with(&[("moderation", "none"), ("replies_per_page", "2")]).await;
    let path = app.publish("Pages").await.path;
    let mut ids = Vec::new();
    for i in 1..=5 {
        ids.push(app.reply(&path, &reply_with(&[("comment", &format!("Top {i}"))])).await);
    }
    let newest = app.get(&path).await;
    let shown: Vec<_> = newest.all(".reply-text").into_iter().map(text).collect();
    assert_eq!(shown, ["Top 5"], "the newest page first");
    assert_eq!(text(newest.one("#replies-title")), "5 replies to “Pages”");
    let older = newest.one(".replies-pages a[rel=prev]");
    assert_eq!(crate::helpers::attr(older, "href"), format!("{path}?replies=2#replies"));
    let page2 = app.get(&format!("{path}?replies=2")).await;
    let shown: Vec<_> = page2.all(".reply-text").into_iter().map(text).collect();
    assert_eq!(shown, ["Top 3", "Top 4"]);
    assert_eq!(
        crate::helpers::attr(page2.one(".replies-pages a[rel=next]"), "href"),
        format!("{path}#replies")
    );
    let page1 = app.get(&format!("{path}?replies=1")).await;
    let shown: Vec<_> = page1.all(".reply-text").into_iter().map(text).collect();
    assert_eq!(shown, ["Top 1", "Top 2"]);
    for missing in ["?replies=4", "?replies=0", "?replies=x"] {
        assert_eq!(app.get(&format!("{path}{missing}")).await.status, 404, "{missing}");
    }
    // An answer in an older thread sends its poster to that thread's page.
    let answer = app
        .post(&path, &reply_with(&[("parent", &ids[0].to_string()), ("comment", "Late answer")]))
        .await;
    assert!(
        answer.location().starts_with(&format!("{path}?replies=1#comment-")),
        "{}",
        answer.location()
    );
    let top = app.post(&path, &reply_with(&[("comment", "Top 6")])).await;
    assert!(top.location().starts_with(&format!("{path}#comment-")), "{}", top.location());
}

/// The form token is public (pages are cached), so a reply must come from this site's own
/// pages: another site's, or `Origin: null`, is refused with the text kept.
#[tokio::test]
async fn replies_sent_from_other_sites_are_refused() {
    let app = spawn_with(&[("moderation", "none"), ("duplicate_check", "off")]).await;
    let path = app.publish("Origins").await.path;
    let token = app.form_token(&path).await;
    let mut form = reply_with(&[("comment", "Posted from elsewhere, kept all the same")]);
    form.push(("token", token));
    let body = crate::helpers::encode(&form);
    let send = |headers: Vec<(&'static str, String)>| {
        let (app, path, body) = (&app, &path, body.clone());
        async move {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            app.post_raw(path, body.into_bytes(), &headers).await
        }
    };
    for foreign in [
        vec![("origin", "https://evil.example".to_owned())],
        vec![("origin", "null".to_owned())],
        vec![("referer", "https://evil.example/a-page".to_owned())],
    ] {
        let page = send(foreign.clone()).await;
        assert_eq!(page.status, 403, "{foreign:?}");
        assert!(text(page.one("main")).contains("sent from a page of another website"));
        assert!(page.body.contains("Posted from elsewhere, kept all the same"), "the text is kept");
    }
    assert!(app.queued().await.is_empty(), "nothing was stored");
    let own = app.url("");
    let own = own.trim_end_matches('/');
    let ours = send(vec![("origin", own.to_owned())]).await;
    assert_eq!(ours.status, 303, "{}", ours.body);
    let referred = send(vec![("referer", format!("{own}{path}"))]).await;
    assert_eq!(referred.status, 303);
    assert_eq!(send(Vec::new()).await.status, 303, "neither header: allowed");
}
