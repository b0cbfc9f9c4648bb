//! The `byline` binary itself: serving demo content, adding articles, approving replies, and
//! refusing bad configuration.

use std::process::{Command, Stdio};
use std::time::Duration;

use byline::domain::ReplyStatus;
use byline::store::{ArticleReads, NewReply, ReplyReads, ReplyWrites, StaffReads, Store};

/// The SQLite file at `path`, opened as the server would.
async fn open(path: &std::path::Path) -> Store {
    Store::open(&byline::config::DatabaseUrl::Sqlite(path.to_owned()), 0).await.unwrap()
}

pub fn byline() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_byline"));
    // The tests' own environment must not leak settings into the process.
    for (name, _) in std::env::vars() {
        if name.starts_with("BYLINE_") {
            command.env_remove(name);
        }
    }
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Whether a server at `base` answers `/healthz` within ten seconds.
async fn answers(base: &str) -> bool {
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status() == 200) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// What `byline serve` says on standard error when the setting's variable has this value;
/// start-up must refuse it.
fn refused(variable: &str, value: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let output =
        byline().args(["serve"]).current_dir(dir.path()).env(variable, value).output().unwrap();
    assert!(!output.status.success(), "{variable}={value} was accepted");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Kills the server when the test ends, however it ends.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn serve_with_demo_content_shows_a_real_article() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = byline()
        .args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}")])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _running = Running(child);
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    assert!(answers(&base).await, "byline serve did not answer");
    assert!(dir.path().join("byline.db").exists(), "the database is a file in the current folder");

    let front = client.get(&base).send().await.unwrap().text().await.unwrap();
    let front = scraper::Html::parse_document(&front);
    let link = scraper::Selector::parse(".summary h2 a").unwrap();
    let first = front.select(&link).next().expect("demo articles on the front page");
    let href = first.value().attr("href").unwrap();
    let article = client.get(format!("{base}{href}")).send().await.unwrap().text().await.unwrap();
    let article = scraper::Html::parse_document(&article);
    let nested = scraper::Selector::parse("#replies ol.children li.reply").unwrap();
    assert!(article.select(&nested).next().is_some(), "threaded demo replies");
    let body = scraper::Selector::parse(".story-body p").unwrap();
    assert!(article.select(&body).count() >= 3, "several paragraphs");
    let text: String = article.root_element().text().collect();
    assert!(text.contains('“') && text.contains('—'), "typographic quotes and dashes");
}

#[tokio::test]
async fn article_add_publishes_and_prints_the_url_and_reply_approve_approves() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("site.db");
    let body = dir.path().join("body.md");
    std::fs::write(&body, "Hello *world*.").unwrap();
    let output = byline()
        .args(["--database", db.to_str().unwrap(), "article", "add", "--headline", "CLI story"])
        .args(["--standfirst", "From the command line", "--author", "New Author", "--closed"])
        .arg("--body")
        .arg(&body)
        .env("BYLINE_BASE_URL", "https://news.example")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let url = String::from_utf8(output.stdout).unwrap();
    assert!(url.starts_with("https://news.example/2"), "{url}");
    assert!(url.trim_end().ends_with("/cli-story/"), "{url}");

    let store = open(&db).await;
    let article =
        store.read(|db| db.article_by_slug("cli-story")).await.unwrap().expect("published");
    assert_eq!(article.authors[0].name, "New Author");
    assert!(!article.replies_open);
    assert_eq!(article.body_html, "<p>Hello <em>world</em>.</p>\n");

    let reply = NewReply {
        article_id: article.id,
        parent_id: None,
        author_name: crate::helpers::typed::name("Held"),
        author_email: crate::helpers::typed::email("held@example.com"),
        author_url: None,
        body: crate::helpers::typed::body("Waiting"),
        status: ReplyStatus::Pending,
        ip: None,
        held_reason: String::new(),
        user_id: None,
        created_at: 0,
    };
    let held = store
        .write(move |tx| Box::pin(async move { tx.insert_reply(&reply).await }))
        .await
        .unwrap();
    let output = byline()
        .args(["--database", db.to_str().unwrap(), "reply", "approve", &held.to_string()])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let approved = store.read(move |db| db.reply(held)).await.unwrap().unwrap();
    assert_eq!(approved.status, ReplyStatus::Approved);

    let output = byline()
        .args(["--database", db.to_str().unwrap(), "reply", "approve", "4242"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no reply with id 4242"));
}

#[test]
fn a_bad_setting_stops_start_up_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let stderr = refused("BYLINE_MODERATION", "sometimes");
    assert!(
        stderr.contains("BYLINE_MODERATION") && stderr.contains("none, first-time, all"),
        "{stderr}"
    );
    let stderr = refused("BYLINE_MAX_IMPORT_BYTES", "a lot");
    assert!(stderr.contains("BYLINE_MAX_IMPORT_BYTES"), "{stderr}");

    let config = dir.path().join("byline.toml");
    std::fs::write(&config, "thread_depth = \"deep\"\n").unwrap();
    let output = byline().args(["--config", config.to_str().unwrap(), "serve"]).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("`thread_depth`"));
}

#[tokio::test]
async fn copy_moves_a_site_from_sqlite_to_postgres_with_identical_pages() {
    use crate::helpers::{Backend, fresh_postgres_url, reply_with, spawn_on};
    let source = spawn_on(Backend::Sqlite, &[("moderation", "none")]).await;
    byline::tools::demo::seed_if_empty(&source.services).await.unwrap();
    let article = source.publish("Copied story").await;
    let reply = source.reply(&article.path, &reply_with(&[])).await;
    source
        .reply(&article.path, &reply_with(&[("parent", &reply.to_string()), ("comment", "Nested")]))
        .await;
    let target = fresh_postgres_url().await;

    let run = || {
        byline()
            .args([
                "copy",
                "--from",
                &format!("sqlite://{}", source.db_path.display()),
                "--to",
                &target,
            ])
            .output()
            .unwrap()
    };
    let output = run();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("comments: 7 rows in the source, 7 in the target"), "{stdout}");
    assert!(stdout.contains("articles: 4 rows in the source, 4 in the target"), "{stdout}");

    let again = run();
    assert!(!again.status.success(), "a second copy must refuse");
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds data"));

    // The same pages, byte for byte, from both backends.
    let copy = serve_copy(&target, &source).await;
    let copy = &copy.address;
    let mut paths = vec!["/".to_owned(), article.path.clone()];
    for summary in source.db(|db| db.published_articles(0, 10, None)).await {
        paths.push(byline::domain::paths::article_path(
            summary.date_path.as_deref().unwrap(),
            &summary.slug,
        ));
    }
    for path in paths {
        let a = source.client.get(source.url(&path)).send().await.unwrap().text().await.unwrap();
        let b =
            source.client.get(format!("{copy}{path}")).send().await.unwrap().text().await.unwrap();
        assert_eq!(without_token(&a), without_token(&b), "{path} differs between the backends");
    }
}

/// Serves the copied database at `url` as `source` is served (its address in the pages too).
async fn serve_copy(url: &str, source: &crate::helpers::TestApp) -> crate::helpers::TestApp {
    let base_url = source.config.base_url.clone();
    crate::helpers::spawn_on_database(url, &[("moderation", "none"), ("base_url", &base_url)]).await
}

#[test]
fn migrate_creates_the_schema_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("new.db");
    let output = byline().args(["--database", db.to_str().unwrap(), "migrate"]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("up to date"));
    let conn = rusqlite::Connection::open(&db).unwrap();
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    assert!(version >= 1);
}

#[tokio::test]
async fn user_add_creates_an_account_that_can_sign_in() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("site.db");
    let mut child = byline()
        .args(["--database", db.to_str().unwrap(), "user", "add", "--email", "chief@example.com"])
        .args(["--name", "Chief Editor", "--role", "admin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"a long enough password\n").unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("/admin/login"));

    let store = open(&db).await;
    let (user, hash) =
        store.read(|db| db.user_credentials("chief@example.com")).await.unwrap().unwrap();
    assert_eq!(
        (user.role, user.author.name.as_str()),
        (byline::domain::Role::Admin, "Chief Editor")
    );
    assert!(hash.starts_with("$argon2id$"), "hashed with Argon2id");
    assert!(byline::services::staff::verify_password("a long enough password", &hash));

    let short = byline()
        .args(["--database", db.to_str().unwrap(), "user", "add", "--email", "b@example.com"])
        .args(["--name", "B", "--role", "author"])
        .stdin(Stdio::piped())
        .output()
        .unwrap();
    assert!(!short.status.success(), "an empty password is refused");
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 10 characters"));
}

/// A page with its form token (which names the second it was made) taken out.
fn without_token(page: &str) -> String {
    match page.split_once("name=\"token\" value=\"") {
        Some((before, after)) => {
            format!("{before}{}", after.split_once('"').map_or("", |(_, rest)| rest))
        }
        None => page.to_owned(),
    }
}

#[tokio::test]
async fn copy_round_trips_a_large_site_with_identical_pages() {
    if !crate::helpers::first_run() {
        return;
    }
    use crate::helpers::{Backend, fresh_postgres_url, spawn_on};
    let source = spawn_on(Backend::Sqlite, &[]).await;
    let started = std::time::Instant::now();
    let plan = byline::tools::generate::Plan {
        articles: 10_000,
        replies_per_article: 10,
        lead_replies: 10,
    };
    byline::tools::generate::generate(&source.store, plan, source.clock.now()).await.unwrap();
    println!("generated 10,000 articles and 100,000 replies in {:?}", started.elapsed());
    let target = fresh_postgres_url().await;
    let from = format!("sqlite://{}", source.db_path.display());
    let output = tokio::task::spawn_blocking({
        let target = target.clone();
        move || byline().args(["copy", "--from", &from, "--to", &target]).output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("articles: 10000 rows in the source, 10000 in the target"), "{stdout}");
    assert!(
        stdout.contains("comments: 100000 rows in the source, 100000 in the target"),
        "{stdout}"
    );
    println!("copied in {:?}:\n{stdout}", started.elapsed());

    let copy = serve_copy(&target, &source).await;
    let copy = &copy.address;
    let mut paths = vec![
        "/".to_owned(),
        "/page/2/".to_owned(),
        "/page/999/".to_owned(),
        "/author/3-author-3/".to_owned(),
    ];
    for i in [1, 2, 999, 5_000, 9_999, 10_000] {
        let article = source.article_by_slug(&format!("story-{i}")).await.unwrap();
        paths.push(article.public_path().unwrap());
    }
    for path in paths {
        let a = source.client.get(source.url(&path)).send().await.unwrap();
        let b = source.client.get(format!("{copy}{path}")).send().await.unwrap();
        assert_eq!(a.status(), b.status(), "{path}");
        let (a, b) = (a.text().await.unwrap(), b.text().await.unwrap());
        assert_eq!(without_token(&a), without_token(&b), "{path} differs between the backends");
    }
}

/// What `byline serve` logs to a pipe while it answers one request.
async fn serve_log(settings: &[(&str, &str)]) -> String {
    serve_log_while(settings, |_| async {}).await
}

/// What `byline serve` logs to a pipe while `work` talks to it (given its address), with an
/// admin's account (`ed@example.com`, "a long enough password") made first.
async fn serve_log_while<F, Fut>(settings: &[(&str, &str)], work: F) -> String
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut add = byline()
        .args(["user", "add", "--email", "ed@example.com", "--name", "Ed", "--role", "admin"])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    add.stdin.take().unwrap().write_all(b"a long enough password\n").unwrap();
    assert!(add.wait().unwrap().success());
    let mut command = byline();
    command
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (name, value) in settings {
        command.env(name, value);
    }
    let mut child = command.spawn().unwrap();
    let up = answers(&format!("http://127.0.0.1:{port}")).await;
    if up {
        work(format!("http://127.0.0.1:{port}")).await;
    }
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    let log = String::from_utf8(output.stderr).unwrap();
    assert!(up, "byline serve did not answer:\n{log}");
    log
}

#[tokio::test]
async fn failed_sign_ins_and_staff_actions_are_logged_with_who_and_where() {
    let log = serve_log_while(&[], |base| async move {
        let client =
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let sign_in = |password: &'static str| {
            let (client, base) = (client.clone(), base.clone());
            async move {
                let form = client.get(format!("{base}/admin/login")).send().await.unwrap();
                let cookie = form.headers()["set-cookie"]
                    .to_str()
                    .unwrap()
                    .split(';')
                    .next()
                    .unwrap()
                    .to_owned();
                let html = form.text().await.unwrap();
                let token = html
                    .split("name=\"login_token\" value=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap()
                    .to_owned();
                let body =
                    format!("email=ed%40example.com&password={password}&login_token={token}&next=");
                client
                    .post(format!("{base}/admin/login"))
                    .header("cookie", cookie)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
                    .send()
                    .await
                    .unwrap()
            }
        };
        assert_eq!(sign_in("wrong+password").await.status(), 422);
        let signed_in = sign_in("a+long+enough+password").await;
        assert_eq!(signed_in.status(), 303);
        let session = signed_in
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap())
            .find(|c| c.starts_with("byline_session="))
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let admin = client.get(format!("{base}/admin/")).header("cookie", &session).send().await;
        let admin = admin.unwrap().text().await.unwrap();
        let csrf = admin.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap();
        let body =
            format!("headline=Logged+story&body=Text.&replies_open=yes&action=publish&csrf={csrf}");
        let saved = client
            .post(format!("{base}/admin/articles/new"))
            .header("cookie", &session)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(saved.status(), 303);
        let settings = client
            .post(format!("{base}/admin/settings"))
            .header("cookie", &session)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("moderation=all&hold_list=secret%40example.com&csrf={csrf}"))
            .send()
            .await
            .unwrap();
        assert_eq!(settings.status(), 303);
    })
    .await;
    let saved = log.lines().find(|l| l.contains("saved the discussion settings"));
    let saved = saved.unwrap_or_else(|| panic!("{log}"));
    assert!(saved.contains("staff=1") && saved.contains("moderation"), "{saved}");
    assert!(!log.contains("secret@example.com"), "values are not logged:\n{log}");
    let created =
        log.lines().find(|l| l.contains("created an article")).unwrap_or_else(|| panic!("{log}"));
    assert!(created.contains("staff=1") && created.contains("Publish"), "{created}");
    let failed =
        log.lines().find(|l| l.contains("failed sign-in")).unwrap_or_else(|| panic!("{log}"));
    assert!(failed.contains("127.0.0.1"), "{failed}");
    let signed_in =
        log.lines().find(|l| l.contains("signed in")).unwrap_or_else(|| panic!("{log}"));
    assert!(signed_in.contains("user=1"), "{signed_in}");
}

#[tokio::test]
async fn the_log_has_no_colour_codes_off_a_terminal_and_can_be_json() {
    let text = serve_log(&[]).await;
    assert!(text.contains("serving") && text.contains("request"), "{text}");
    assert!(!text.contains('\u{1b}'), "no escape codes in a log that is not a terminal:\n{text}");

    let json = serve_log(&[("BYLINE_LOG_FORMAT", "json")]).await;
    let lines: Vec<serde_json::Value> = json
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    assert!(lines.iter().any(|l| l["fields"]["message"] == "serving"), "{json}");
    assert!(
        lines.iter().any(|l| l["fields"]["path"] == "/healthz" && l["fields"]["status"] == 200)
    );

    let stderr = refused("BYLINE_LOG_FORMAT", "xml");
    assert!(stderr.contains("BYLINE_LOG_FORMAT") && stderr.contains("text or json"), "{stderr}");
}

/// `byline backup` while replies stream in: the copy opens, passes SQLite's integrity check,
/// and holds every reply acknowledged before it started. A PostgreSQL site is refused with
/// where to look.
#[tokio::test]
async fn a_backup_taken_while_replies_stream_in_holds_every_acknowledged_reply() {
    use crate::helpers::{Backend, first_run, reply_with, spawn_on};
    if !first_run() {
        return; // It picks its own backend, SQLite: the PostgreSQL run would repeat it.
    }
    let app = spawn_on(
        Backend::Sqlite,
        &[("moderation", "none"), ("duplicate_check", "off"), ("rate_limit_per_minute", "0")],
    )
    .await;
    let path = app.publish("Backed up").await.path;
    let mut before = Vec::new();
    for i in 0..20 {
        before.push(app.reply(&path, &reply_with(&[("comment", &format!("Before {i}"))])).await);
    }
    let stream = {
        let (app, path) = (&app, &path);
        async move {
            let mut during = 0;
            for i in 0..60 {
                app.reply(path, &reply_with(&[("comment", &format!("During {i}"))])).await;
                during += 1;
            }
            during
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.db");
    let database = format!("sqlite://{}", app.db_path.display());
    let backup = {
        let (database, file) = (database.clone(), file.clone());
        tokio::task::spawn_blocking(move || {
            byline()
                .args(["--database", &database, "backup", file.to_str().unwrap()])
                .output()
                .unwrap()
        })
    };
    let (during, output) = tokio::join!(stream, backup);
    let output = output.unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("Backed up"));
    assert_eq!(during, 60);

    let copy = rusqlite::Connection::open(&file).unwrap();
    let check: String = copy.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    let stored: Vec<i64> = copy
        .prepare("SELECT id FROM comments")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for id in &before {
        assert!(stored.contains(&id.get()), "reply {id} acknowledged before the backup is in it");
    }
    // The copy is a site: it serves when --database points at it.
    let again = byline().args(["--database", file.to_str().unwrap(), "migrate"]).output().unwrap();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));

    let refused = byline()
        .args(["--database", &database, "backup", file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("exists already"));
    let postgres = byline()
        .args(["--database", "postgres://nobody@127.0.0.1:1/none", "backup", "x.db"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&postgres.stderr).contains("pg_dump"));
}

/// SIGTERM stops the server within `shutdown_seconds` whatever a slow client does, and a
/// reply acknowledged before it is on disk afterwards.
#[tokio::test]
async fn a_stop_ends_within_shutdown_seconds_despite_a_slow_client() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let child = byline()
        .args(["serve", "--demo", "--listen", &format!("127.0.0.1:{port}")])
        .current_dir(dir.path())
        .env("BYLINE_SHUTDOWN_SECONDS", "2")
        .env("BYLINE_MIN_FILL_SECONDS", "0")
        .env("BYLINE_MODERATION", "none")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let base = format!("http://127.0.0.1:{port}");
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    assert!(answers(&base).await, "byline serve did not answer");
    // A reply through the form, acknowledged.
    let front = client.get(&base).send().await.unwrap().text().await.unwrap();
    let href = front.split("<h2><a href=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let page = client.get(format!("{base}{href}")).send().await.unwrap().text().await.unwrap();
    let token = page.split("name=\"token\" value=\"").nth(1).unwrap().split('"').next().unwrap();
    let form = format!(
        "comment=Before+the+stop&name=Ada&email=ada%40example.com&website=&parent=&token={token}"
    );
    let posted = client
        .post(format!("{base}{href}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 303);
    // A client that sends its request a byte every half second.
    let mut slow = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let trickle = tokio::spawn(async move {
        for byte in b"GET / HTTP/1.1\r\nHost: slow.example\r\nX-Slow: yes".iter().cycle() {
            if slow.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
    tokio::time::sleep(Duration::from_millis(700)).await;
    let pid = running.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let stopped = std::time::Instant::now();
    let status = loop {
        if let Some(status) = running.0.try_wait().unwrap() {
            break status;
        }
        assert!(stopped.elapsed() < Duration::from_secs(6), "still running 6 s after SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    trickle.abort();
    assert!(status.success(), "{status:?}");
    assert!(stopped.elapsed() >= Duration::from_millis(1500), "it waited for the connection first");
    let db = rusqlite::Connection::open(dir.path().join("byline.db")).unwrap();
    let stored: i64 = db
        .query_row("SELECT count(*) FROM comments WHERE body = 'Before the stop'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, 1, "the acknowledged reply is stored");
}

/// Listening beyond loopback with base_url left to its default would refuse real readers'
/// replies (their pages are at the public address): start-up says so.
#[tokio::test]
async fn start_up_warns_when_base_url_is_left_to_its_default_beyond_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let start = |listen: String| {
        byline()
            .args(["serve", "--listen", &listen])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    for (listen, warned) in
        [(format!("0.0.0.0:{port}"), true), (format!("127.0.0.1:{port}"), false)]
    {
        let mut child = start(listen.clone());
        let up = answers(&format!("http://127.0.0.1:{port}")).await;
        let _ = child.kill();
        let log = String::from_utf8(child.wait_with_output().unwrap().stderr).unwrap();
        assert!(up, "{log}");
        assert_eq!(log.contains("base_url is not set"), warned, "{listen}:\n{log}");
    }
}

/// `byline serve` raises its soft limit on open files to what `max_connections` needs, and
/// says so, naming the setting, when the hard limit is lower.
#[tokio::test]
async fn serve_warns_when_the_file_limit_is_below_max_connections() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new("sh")
        .args(["-c", "ulimit -Sn 256 && ulimit -Hn 512 && exec \"$0\" serve --listen \"$1\""])
        .arg(env!("CARGO_BIN_EXE_byline"))
        .arg(format!("127.0.0.1:{port}"))
        .env_remove("BYLINE_MAX_CONNECTIONS")
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let up = answers(&base).await;
    // The soft limit (256) went up to the hard one.
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    let _ = child.kill();
    let log = String::from_utf8(child.wait_with_output().unwrap().stderr).unwrap();
    assert!(up, "byline serve did not answer:\n{log}");
    let files = limits.lines().find(|l| l.starts_with("Max open files")).unwrap();
    let numbers: Vec<&str> =
        files.split_whitespace().filter(|w| w.parse::<u64>().is_ok()).collect();
    assert_eq!(numbers, ["512", "512"], "{files}");
    assert!(log.contains("max_connections") && log.contains("BYLINE_MAX_CONNECTIONS"), "{log}");
}
