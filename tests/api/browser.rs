//! Chromium, driven by playwright-core: a reader with JavaScript off replies; a journalist
//! writes and publishes with the live preview. Screenshots land in `target/screenshots/`.

use std::process::Command;

use byline::services::publishing::Draft;
use byline::store::ArticleReads;

use crate::helpers::spawn_with;

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
