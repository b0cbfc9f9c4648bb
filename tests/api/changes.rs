//! What a change forgets: the services say what they changed, and only that leaves the page
//! cache, here and on the other nodes. A preview, a sign-in or a held reply change no public
//! page and forget nothing; writes made from the command line reach running nodes.

use std::time::{Duration, Instant};

use byline::domain::Role;

use crate::helpers::{Backend, TestApp, database_of, reply_with, spawn_on, spawn_with};

const CACHED: &[(&str, &str)] = &[("moderation", "all"), ("page_cache", "on")];

/// Fills the cache with these pages (a node's listener empties it once when it connects, so
/// wait until they stay).
async fn cache(app: &TestApp, paths: &[&str]) {
    let started = Instant::now();
    while app.state.pages.len() < paths.len() {
        assert!(started.elapsed() < Duration::from_secs(10), "the pages never stayed cached");
        for path in paths {
            app.get(path).await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What the other nodes hear: the notifications on Byline's channel, collected by a listener
/// of the test's own (nothing on SQLite, where one process owns the file).
struct Heard {
    receiver: Option<tokio::sync::mpsc::UnboundedReceiver<String>>,
    _client: Option<tokio_postgres::Client>,
}

impl Heard {
    async fn start(app: &TestApp) -> Self {
        let byline::config::DatabaseUrl::Postgres(url) = &app.config.database else {
            return Self { receiver: None, _client: None };
        };
        let (client, mut connection) =
            tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
        // The connection delivers notifications only while it is polled.
        tokio::spawn(async move {
            while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                match message {
                    Ok(tokio_postgres::AsyncMessage::Notification(note)) => {
                        // After the sender's name, the paths.
                        let (_, paths) = note.payload().split_once('\n').unwrap_or_default();
                        let _ = sender.send(paths.to_owned());
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        });
        let schema: String = client.query_one("SELECT current_schema()", &[]).await.unwrap().get(0);
        let channel = byline::store::channel(&schema);
        client.batch_execute(&format!("LISTEN \"{channel}\"")).await.unwrap();
        Self { receiver: Some(receiver), _client: Some(client) }
    }

    /// Everything heard so far, after a moment for it to arrive.
    async fn after_a_moment(&mut self) -> Vec<String> {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut all = Vec::new();
        if let Some(receiver) = &mut self.receiver {
            while let Ok(payload) = receiver.try_recv() {
                all.push(payload);
            }
        }
        all
    }

    /// What the other nodes should hear of these articles' replies (nothing on SQLite).
    fn expected(&self, paths: &[&str]) -> Vec<String> {
        match self.receiver {
            Some(_) => paths.iter().map(|p| (*p).to_owned()).collect(),
            None => Vec::new(),
        }
    }
}

#[tokio::test]
async fn what_changes_no_public_page_forgets_nothing_anywhere() {
    let app = spawn_with(CACHED).await;
    app.add_staff("ed@example.com", "Ed", Role::Editor).await;
    let staff = app.sign_in("ed@example.com").await;
    let a = app.publish("First").await.path;
    let b = app.publish("Second").await.path;
    let pages = ["/", a.as_str(), b.as_str(), "/feed.atom"];
    cache(&app, &pages).await;
    let kept = app.state.pages.len();
    let mut heard = Heard::start(&app).await;

    // Typing in the editor (the live preview), signing in and out, a held reply, an account's
    // role: none shows on a public page.
    let preview = app.staff_post(&staff, "/admin/preview", &[("body", "*Typing…*")]).await;
    assert_eq!(preview.status, 200);
    let other = app.sign_in("ed@example.com").await;
    assert_eq!(app.staff_post(&other, "/admin/logout", &[]).await.status, 303);
    let held = app.post(&a, &reply_with(&[])).await;
    assert_eq!(held.status, 303);
    app.add_staff("new@example.com", "Newcomer", Role::Author).await;
    let draft = app.write(&staff, &[("headline", "Not yet")], "save").await;
    assert!(app.article(draft).await.is_some());
    assert_eq!(app.state.pages.len(), kept, "nothing public changed, so nothing was forgotten");
    let got = heard.after_a_moment().await;
    assert!(got.is_empty(), "and nothing was announced: {got:?}");

    // A reply made public forgets its article's pages and the listings, and no other article's.
    let id = crate::helpers::comment_id(held.location());
    let approve = format!("approve:{id}");
    assert_eq!(
        app.staff_post(&staff, "/admin/replies/", &[("action", &approve)]).await.status,
        303
    );
    assert!(app.state.pages.len() < kept);
    assert_eq!(app.state.pages.len(), 1, "the other article's page stays");
    assert!(app.get(&a).await.has(&format!("li#comment-{id}")));
    assert_eq!(heard.after_a_moment().await, heard.expected(&[a.as_str()]));
}

#[tokio::test]
async fn writes_from_the_command_line_reach_a_running_node() {
    let app = spawn_on(Backend::from_env(), CACHED).await;
    let path = app.publish("Cached while the command line works").await.path;
    let held = app.reply(&path, &reply_with(&[])).await;
    cache(&app, &["/", path.as_str()]).await;
    assert!(!app.get(&path).await.has(&format!("li#comment-{held}")));
    let output = crate::cli::byline()
        .args(["--database", &database_of(&app), "reply", "approve", &held.to_string()])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let started = Instant::now();
    while !app.get(&path).await.has(&format!("li#comment-{held}")) {
        assert!(started.elapsed() < Duration::from_secs(2), "the node did not notice within 2 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!("the command line's approval showed after {:?}", started.elapsed());

    let body = app.db_path.with_file_name("body.md");
    std::fs::write(&body, "From the shell.").unwrap();
    let output = crate::cli::byline()
        .args(["--database", &database_of(&app), "article", "add", "--headline", "Shell story"])
        .args(["--author", "Jo"])
        .arg("--body")
        .arg(&body)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let started = Instant::now();
    while !app.get("/").await.body.contains("Shell story") {
        assert!(started.elapsed() < Duration::from_secs(2), "the front page did not follow");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Junk query strings cannot fill the cache and push the real pages out: only the query a
/// route uses makes another page, and unbounded ones (search, replytocom) are not kept.
#[tokio::test]
async fn junk_query_strings_make_no_cache_entries() {
    let app = spawn_with(CACHED).await;
    let path = app.publish("Kept once").await.path;
    cache(&app, &["/", &path]).await;
    for n in 0..2_100 {
        assert_eq!(app.get_raw(&format!("/robots.txt?junk={n}")).await.status, 200);
    }
    for extra in [
        format!("{path}?replytocom=1"),
        format!("{path}?utm_source=mail"),
        "/search?q=kept".to_owned(),
        path.replacen("/kept", "/%6Bept", 1),
    ] {
        assert_eq!(app.get_raw(&extra).await.status, 200, "{extra}");
    }
    assert_eq!(app.state.pages.len(), 2, "the front page and the article, and nothing else");
    app.get_raw(&format!("{path}?replies=1")).await;
    assert_eq!(app.state.pages.len(), 3, "a page of the thread is a page of its own");
}
