//! Chromium, driven by playwright-core: a reader with JavaScript off replies; a journalist
//! writes and publishes with the live preview. Screenshots land in `target/screenshots/`.

use std::process::Command;

use byline::services::publishing::Draft;
use byline::store::{ArticleReads, ReplyReads};

use crate::helpers::{attr, spawn_with};

/// Where the browser tests save their screenshots.
fn screenshots() -> String {
    let dir = format!("{}/target/screenshots", env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `tests/browser/NAME` in Node (off the test's runtime, which serves the site it drives)
/// and fails with its output unless it succeeds; returns what it printed.
async fn run_script(name: &str, args: Vec<String>) -> String {
    let script = format!("{}/tests/browser/{name}", env!("CARGO_MANIFEST_DIR"));
    let output =
        tokio::task::spawn_blocking(move || Command::new("node").arg(script).args(args).output())
            .await
            .unwrap()
            .expect("node runs: install it and the browser with scripts/setup");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "browser test {name} failed:\n{stdout}\n{stderr}");
    stdout
}

#[tokio::test]
async fn a_reader_replies_in_chromium_without_javascript() {
    let app = spawn_with(&[("moderation", "none"), ("site_title", "The Estuary Times")]).await;
    byline::tools::demo::seed_if_empty(&app.services).await.unwrap();
    let lead = app.db(|db| db.published_articles(0, 1, None)).await.remove(0);
    let path = byline::domain::paths::article_path(lead.date_path.as_deref().unwrap(), &lead.slug);
    app.publish_draft(Draft {
        headline: "A second story".into(),
        standfirst: String::new(),
        author: "Jo Writer".into(),
        body_markdown: "Text.".into(),
        replies_open: true,
    })
    .await;
    let stdout = run_script("reply.mjs", vec![app.url(&path), app.url("/"), screenshots()]).await;
    println!("{stdout}");
}

#[tokio::test]
async fn a_reader_answers_in_context_and_finds_a_refused_forms_problems_in_chromium() {
    let app = spawn_with(&[("moderation", "none"), ("site_title", "The Estuary Times")]).await;
    byline::tools::demo::seed_if_empty(&app.services).await.unwrap();
    let lead = app.db(|db| db.published_articles(0, 1, None)).await.remove(0);
    let path = byline::domain::paths::article_path(lead.date_path.as_deref().unwrap(), &lead.slug);
    // A long reply, to measure its lines.
    let long = "The harbour board met on Tuesday and the minutes say little about the dredging \
                that the ferry operator has asked for since the spring; readers who use the \
                early boat will know why it matters, and will want the council to say when."
        .repeat(2);
    app.reply(&path, &crate::helpers::reply_with(&[("comment", &long)])).await;
    let stdout = run_script("reader.mjs", vec![app.url(&path), screenshots()]).await;
    println!("{stdout}");
}

#[tokio::test]
async fn a_reader_confirms_gets_a_notification_and_unsubscribes_in_chromium() {
    let sink = crate::mail::Sink::start();
    let port = crate::mail::free_port();
    let (listen, base) = (format!("127.0.0.1:{port}"), format!("http://127.0.0.1:{port}"));
    let smtp = sink.port.to_string();
    let app = spawn_with(&[
        ("moderation", "none"),
        ("site_title", "The Estuary Times"),
        ("listen", &listen),
        ("base_url", &base),
        ("mail", "smtp"),
        ("smtp_host", "127.0.0.1"),
        ("smtp_port", &smtp),
        ("smtp_security", "none"),
    ])
    .await;
    let path = app.publish("Mail in Chromium").await.path;
    let dir = sink.dir().display().to_string();
    let stdout = run_script("mail.mjs", vec![app.url(&path), dir, screenshots()]).await;
    println!("{stdout}");
    assert_eq!(sink.received().len(), 2, "the confirmation and one notification");
}

#[tokio::test]
async fn a_journalist_writes_and_publishes_with_the_live_preview() {
    let app = spawn_with(&[("moderation", "none"), ("site_title", "The Estuary Times")]).await;
    app.add_staff("reporter@example.com", "Rosa Reporter", byline::domain::Role::Author).await;
    // The section the reporter files under; sections are the editors' to add.
    app.db_write(|tx| byline::store::ArticleWrites::find_or_create_section(tx, "Local", "local"))
        .await;
    let args = vec![
        app.url(""),
        "reporter@example.com".into(),
        crate::helpers::PASSWORD.into(),
        screenshots(),
    ];
    run_script("newsroom.mjs", args).await;
    let query = byline::store::ArticleQuery { limit: 10, ..Default::default() };
    let (found, _) =
        app.db(move |db| Box::pin(async move { db.list_articles(&query).await })).await;
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].status, byline::domain::ArticleStatus::Published);
}

#[tokio::test]
async fn a_held_reply_is_approved_in_the_queue_and_appears() {
    let app = spawn_with(&[("moderation", "all"), ("site_title", "The Estuary Times")]).await;
    byline::tools::demo::seed_if_empty(&app.services).await.unwrap();
    app.add_staff("moderator@example.com", "Mo Derator", byline::domain::Role::Editor).await;
    let lead = app.db(|db| db.published_articles(0, 1, None)).await.remove(0);
    let url = app
        .url(&byline::domain::paths::article_path(lead.date_path.as_deref().unwrap(), &lead.slug));
    let args = vec![
        url,
        app.url(""),
        "moderator@example.com".into(),
        crate::helpers::PASSWORD.into(),
        screenshots(),
    ];
    run_script("moderation.mjs", args).await;
}

#[tokio::test]
async fn a_journalist_drops_and_pastes_photos_into_the_body() {
    let app = spawn_with(&[("moderation", "none"), ("site_title", "The Estuary Times")]).await;
    app.add_staff("photo@example.com", "Pat Photo", byline::domain::Role::Editor).await;
    let dir = tempfile::tempdir().unwrap();
    let mut images = Vec::new();
    for (i, (width, height)) in [(1600, 1000), (1800, 1200), (900, 900)].into_iter().enumerate() {
        let path = dir.path().join(format!("flood-{i}.jpg"));
        std::fs::write(&path, crate::media::jpeg(&crate::media::photo(width, height))).unwrap();
        images.push(path.display().to_string());
    }
    let mut args = vec![
        app.url(""),
        "photo@example.com".into(),
        crate::helpers::PASSWORD.into(),
        screenshots(),
    ];
    args.extend(images);
    println!("{}", run_script("photos.mjs", args).await);
}

/// Every page type, public and newsroom, through axe-core's WCAG 2.1 A and AA rules in light
/// and dark: no violations. Screenshots of the front page, an article, the editor, the queue
/// and the dashboard at 375 and 1280 px land in `target/screenshots/`.
#[tokio::test]
async fn every_page_type_passes_axe_core_in_light_and_dark() {
    use byline::domain::{ReplyStatus, Role};
    let app =
        spawn_with(&[("moderation", "first-time"), ("site_title", "The Estuary Times")]).await;
    byline::tools::demo::seed_if_empty(&app.services).await.unwrap();
    app.add_staff("admin@example.com", "Ada Admin", Role::Admin).await;
    let staff = app.sign_in("admin@example.com").await;
    let lead = app.db(|db| db.published_articles(0, 1, None)).await.remove(0);
    let article =
        byline::domain::paths::article_path(lead.date_path.as_deref().unwrap(), &lead.slug);
    let first = app.db(move |db| db.replies_of_article(lead.id, ReplyStatus::Approved)).await;
    let reply = first[0].id;
    // A held reply, for the queue and the dashboard.
    let held = app
        .reply(
            &article,
            &crate::helpers::reply_with(&[
                ("email", "new.reader@example.com"),
                ("comment", "Is the early boat back?"),
            ]),
        )
        .await;
    let id = lead.id;
    let media = crate::media::upload(
        &app,
        &staff,
        "quay.jpg",
        &crate::media::jpeg(&crate::media::photo(800, 500)),
        "The quay at dawn",
    )
    .await;
    let contact = [
        ("title", "Contact"),
        ("body", "Write to the newsroom."),
        ("replies_open", "yes"),
        ("action", "publish"),
    ];
    let made = app.staff_post(&staff, "/admin/pages/new", &contact).await;
    assert_eq!(made.status, 303, "{}", made.body);
    let page_editor = made.location().split('?').next().unwrap().to_owned();
    let binned = app.write(&staff, &[("headline", "Binned story")], "save").await;
    app.staff_post(&staff, &format!("/admin/articles/{binned}/trash"), &[]).await;
    let revisions = format!("/admin/articles/{id}/revisions/");
    let first_revision = app
        .staff_get(&staff, &revisions)
        .await
        .all("ol.revisions li a")
        .last()
        .map(|a| attr(*a, "href").to_owned())
        .unwrap();
    let section = app.db(|db| db.sections()).await.remove(0);
    let byline_author = app.article(id).await.unwrap().authors.remove(0);
    let author_page = byline::domain::paths::author_path(byline_author.id, &byline_author.name);
    let year = &lead.date_path.as_deref().unwrap()[..4];
    let tag = app.article(id).await.unwrap().tags.remove(0);
    // A reader's subscription, for the pages behind the links in their mail.
    let now = app.clock.now();
    let subscription = app
        .db_write(move |tx| {
            Box::pin(async move {
                use byline::store::{SubscriptionReads, SubscriptionWrites};
                tx.subscribe("sub.reader@example.com", id, Some(reply), now).await?;
                let address = tx.mail_address_of("sub.reader@example.com").await?.unwrap();
                Ok((tx.subscriptions_of(address.id).await?.remove(0), address))
            })
        })
        .await;
    let (subscription, address) = subscription;
    let services = &app.services;
    let unsubscribe = byline::services::mail::subscription_token(
        services,
        subscription.id,
        subscription.created_at,
    );
    let manage = byline::services::mail::address_token(services, &address);
    // The revision the editor opens on now: once the form is saved again, a form sent as
    // opened on it is refused with a 409.
    let current = app
        .staff_get(&staff, &revisions)
        .await
        .all("ol.revisions li.current a")
        .first()
        .map(|a| attr(*a, "href").trim_end_matches('/').rsplit('/').next().unwrap().to_owned())
        .unwrap();
    let entry = |name: &str, path: &str, staff: bool, shots: bool| serde_json::json!({ "name": name, "path": path, "staff": staff, "shots": shots });
    let sent = |name: &str,
                path: &str,
                staff: bool,
                form: &str,
                fields: serde_json::Value,
                status: u16| {
        serde_json::json!({ "name": name, "path": path, "staff": staff, "shots": false, "form": form, "fields": fields, "status": status })
    };
    let editor = format!("/admin/articles/{id}/");
    let update = |name: &str, fields: serde_json::Value, status: u16| {
        let mut entry = sent(name, &editor, true, "form.editor", fields, status);
        entry["submitter"] = "button[value=publish]".into();
        entry
    };
    let pages = vec![
        sent(
            "reply-refused",
            &article,
            false,
            "#respond form",
            serde_json::json!({ "comment": "A reply.", "name": "A Reader", "email": "reader@localhost" }),
            422,
        ),
        update("editor-saved", serde_json::json!({ "standfirst": "A second standfirst." }), 200),
        update(
            "editor-conflict",
            serde_json::json!({ "opened": current, "standfirst": "Changed meanwhile." }),
            409,
        ),
        entry("tag", &byline::domain::paths::tag_path(&tag.slug), false, false),
        entry("unsubscribe", &format!("/unsubscribe/{unsubscribe}"), false, false),
        entry("subscriptions", &format!("/subscriptions/{manage}"), false, false),
        entry("link-not-genuine", "/unsubscribe/s1.forged", false, false),
        entry("front", "/", false, true),
        entry("front-2", "/page/2/", false, false),
        entry("article", &article, false, true),
        entry("reply-to", &format!("{article}?replytocom={reply}"), false, false),
        entry("section", &format!("/section/{}/", section.slug), false, false),
        entry("author", &author_page, false, false),
        entry("year", &format!("/{year}/"), false, false),
        entry("search", "/search?q=ferry", false, false),
        entry("search-empty", "/search", false, false),
        entry("not-found", "/nowhere/at/all", false, false),
        entry("static-page", "/contact/", false, false),
        entry("my-replies", "/my-replies", false, false),
        entry("login", "/admin/login", false, false),
        entry("forgot", "/admin/forgot", false, false),
        entry("dashboard", "/admin/", true, true),
        entry("articles", "/admin/articles/", true, true),
        entry("trash", "/admin/articles/?status=trash", true, false),
        entry("editor", &format!("/admin/articles/{id}/"), true, true),
        entry("editor-new", "/admin/articles/new", true, false),
        entry("preview", &format!("/admin/articles/{id}/preview"), true, false),
        entry("revisions", &revisions, true, false),
        entry("revision", &first_revision, true, false),
        entry("restore-ask", &format!("{first_revision}?restore"), true, false),
        entry("delete-ask", &format!("/admin/articles/{binned}/delete"), true, false),
        entry("queue", "/admin/replies/?status=pending", true, true),
        entry("queue-approved", "/admin/replies/?status=approved", true, false),
        entry("reply-edit", &format!("/admin/replies/{held}/edit"), true, false),
        entry("reply-answer", &format!("/admin/replies/{reply}/reply"), true, false),
        entry("media", "/admin/media", true, false),
        entry("media-item", &format!("/admin/media/{media}/"), true, false),
        entry("pages", "/admin/pages/", true, false),
        entry("page-editor", &page_editor, true, false),
        entry("sections", "/admin/sections/", true, false),
        entry("tags", "/admin/tags/", true, false),
        entry("settings", "/admin/settings", true, false),
        entry("users", "/admin/users/", true, true),
        entry("account", "/admin/account", true, false),
        entry("import", "/admin/import", true, false),
        entry("threads", "/admin/threads/", true, false),
    ];
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("pages.json");
    std::fs::write(&list, serde_json::to_vec(&pages).unwrap()).unwrap();
    let args = vec![app.url(""), staff.cookie.clone(), screenshots(), list.display().to_string()];
    println!("{}", run_script("a11y.mjs", args).await);
}

#[tokio::test]
async fn two_journalists_one_article_and_the_newsroom_counts_in_chromium() {
    use byline::domain::Role;
    let app =
        spawn_with(&[("moderation", "first-time"), ("site_title", "The Estuary Times")]).await;
    app.add_staff("first@example.com", "Fay First", Role::Editor).await;
    app.add_staff("second@example.com", "Sid Second", Role::Editor).await;
    let first = app.sign_in("first@example.com").await;
    let second = app.sign_in("second@example.com").await;
    let id = app
        .write(&first, &[("headline", "Ferry times"), ("body", "The ferry ran late.")], "publish")
        .await;
    let path = app.article(id).await.unwrap().public_path().unwrap();
    for name in ["Ann", "Bob"] {
        let email = format!("{}@example.com", name.to_lowercase());
        app.reply(&path, &crate::helpers::reply_with(&[("name", name), ("email", &email)])).await;
    }
    let args = vec![
        app.url(""),
        id.to_string(),
        first.cookie.clone(),
        second.cookie.clone(),
        screenshots(),
    ];
    println!("{}", run_script("editing.mjs", args).await);
    let saved = app.article(id).await.unwrap();
    assert_eq!(saved.standfirst, "A standfirst of my own.");
}

/// A blog's static pages on another origin (a second local port), with a strict policy of
/// their own: what the embed needs and nothing more.
fn blog_router(byline: &str, origin: &str) -> axum::Router {
    use axum::response::Html;
    use axum::routing::get;
    let policy =
        format!("default-src 'none'; script-src {byline}; connect-src {byline}; style-src 'self'");
    let page = move |canonical: bool| {
        let link = if canonical {
            format!("<link rel=\"canonical\" href=\"{origin}/post/\">")
        } else {
            String::new()
        };
        let policy = policy.clone();
        format!(
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta http-equiv=\"Content-Security-Policy\" content=\"{policy}\">\
             <title>A post — The Blog</title>{link}<link rel=\"stylesheet\" href=\"/blog.css\">\
             </head><body><h1>A post</h1><p>The blog's own words.</p>\
             <div id=\"byline-replies\"><a href=\"{byline}/\">Read and reply on The Estuary Times</a></div>\
             <script src=\"{byline}/embed.js\" async></script></body></html>"
        )
    };
    let (listed, unlisted) = (page(true), page(false));
    let listing = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>The Blog</title></head>\
         <body><ul><li><a href=\"/post/#byline-replies\" data-byline-count>Replies</a></li>\
         <li><a href=\"/quiet/\" data-byline-count>Replies</a></li></ul>\
         <script src=\"{byline}/embed.js\" async></script></body></html>"
    );
    axum::Router::new()
        .route("/post/", get(move || async move { Html(listed) }))
        .route("/unlisted/", get(move || async move { Html(unlisted) }))
        .route("/", get(move || async move { Html(listing) }))
        .route(
            "/blog.css",
            get(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "text/css")],
                    "body { font-family: Georgia, serif; } #byline-replies { --byline-accent: #782828; }",
                )
            }),
        )
}

#[tokio::test]
async fn another_sites_page_shows_the_thread_and_takes_replies_in_chromium() {
    let host = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = host.local_addr().unwrap().port();
    let origin = format!("http://127.0.0.1:{port}");
    let app = spawn_with(&[
        ("moderation", "first-time"),
        ("embed_origins", &origin),
        ("site_title", "The Estuary Times"),
    ])
    .await;
    app.add_staff("ed@example.com", "Edith Editor", byline::domain::Role::Editor).await;
    let staff = app.sign_in("ed@example.com").await;
    let token = app.make_token(&staff, "Browser test", &["moderate"]).await;
    tokio::spawn(axum::serve(host, blog_router(&app.address, &origin)).into_future());
    let args = vec![
        format!("{origin}/post/"),
        // The same page by another name: `localhost` is another origin, and not listed.
        format!("http://localhost:{port}/unlisted/"),
        format!("{origin}/"),
        app.address.clone(),
        token,
        screenshots(),
    ];
    let stdout = run_script("embed.mjs", args).await;
    println!("{stdout}");
    let thread = app.api_get(&format!("/api/v1/threads?url={origin}/post/")).await;
    assert_eq!(thread.str("title"), "A post — The Blog", "named by the page's title");
}

#[tokio::test]
async fn new_replies_arrive_while_reading_and_the_text_stays_put_in_chromium() {
    let app = spawn_with(&[("moderation", "none"), ("site_title", "The Estuary Times")]).await;
    let article = app.publish("A busy thread").await;
    let mut first = None;
    for n in 0..12 {
        let body = format!("Reply number {n}, long enough to take a line or two of the page.");
        let id = app.reply(&article.path, &crate::helpers::reply_with(&[("comment", &body)])).await;
        first.get_or_insert(id);
    }
    let args = vec![app.url(&article.path), first.unwrap().to_string(), screenshots()];
    let stdout = run_script("live.mjs", args).await;
    println!("{stdout}");
}
