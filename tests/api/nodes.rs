//! Several nodes on one PostgreSQL: shared sessions, page caches emptied across nodes,
//! scheduled work done once; and what happens when the database goes away.

use std::process::Command;
use std::time::{Duration, Instant};

use byline::domain::{ArticleStatus, Role};
use byline::services::publishing;
use byline::store::ArticleWrites;

use reqwest::header::HeaderMap;

use crate::helpers::{Backend, TestApp, reply_with, restart, spawn_on, spawn_on_database, text};

const CACHED: [(&str, &str); 2] = [("moderation", "none"), ("page_cache", "on")];

/// Reads `path` on `node` until the node keeps it: a node's listener empties its cache once
/// when it connects, which may be after a first read.
async fn cache_page(node: &TestApp, path: &str) {
    let started = Instant::now();
    while node.state.pages.is_empty() {
        assert!(started.elapsed() < Duration::from_secs(10), "the page never stayed cached");
        node.get(path).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_reply_on_one_node_appears_on_the_other_while_both_cache_pages() {
    let a = spawn_on(Backend::Postgres, &CACHED).await;
    let b = restart(&a, &CACHED).await;
    let path = a.publish("Two nodes").await.path;
    for node in [&a, &b] {
        cache_page(node, &path).await;
    }
    let id = a.reply(&path, &reply_with(&[("comment", "Posted on A")])).await;
    let started = Instant::now();
    loop {
        if b.get(&path).await.has(&format!("li#comment-{id}")) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "not on node B within 5 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!("a reply posted on node A showed on node B after {:?}", started.elapsed());
    assert!(a.get(&path).await.has(&format!("li#comment-{id}")), "and on A at once");
}

#[tokio::test]
async fn the_page_cache_serves_anonymous_readers_and_never_personal_pages() {
    let app = spawn_on(Backend::Sqlite, &[("moderation", "all"), ("page_cache", "on")]).await;
    let path = app.publish("Cached").await.path;
    let first = app.get(&path).await;
    assert!(!app.state.pages.is_empty());
    // The store changes behind the cache's back: the cached page is still served...
    let article = app.article_by_slug("cached").await.unwrap();
    let id = app
        .seed_reply(article.id, None, "Behind the back", byline::domain::ReplyStatus::Approved)
        .await;
    assert!(!app.get(&path).await.has(&format!("li#comment-{id}")), "served from memory");
    assert_eq!(first.header("etag"), app.get(&path).await.header("etag"));
    // A held reply changes nothing anyone else sees: the kept page stays...
    let response = app.post(&path, &reply_with(&[])).await;
    assert_eq!(response.status, 303);
    assert!(!app.state.pages.is_empty(), "a held reply leaves the cache alone");
    // The poster's page (with their held reply) is personal: never cached, never served from it.
    let cookie = crate::helpers::cookies_from(&response);
    let mine = app.get_with(&path, &[("cookie", &cookie)]).await;
    assert!(mine.has(".awaiting"));
    assert_eq!(mine.header("cache-control"), "private, no-store");
    assert!(!app.get(&path).await.has(".awaiting"));
    // ...until a change through the site (its approval) empties it.
    let held = crate::helpers::comment_id(response.location());
    byline::services::moderation::approve_from_command_line(&app.services, held).await.unwrap();
    assert!(app.state.pages.is_empty());
    let page = app.get(&path).await;
    assert!(page.has(&format!("li#comment-{id}")) && page.has(&format!("li#comment-{held}")));
}

/// The raw bytes and headers of a GET with `accept-encoding` (the test client never decodes).
async fn fetch_encoded(app: &TestApp, path: &str, accept: &str) -> (HeaderMap, Vec<u8>) {
    let response =
        app.client.get(app.url(path)).header("accept-encoding", accept).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path} with {accept}");
    let headers = response.headers().clone();
    (headers, response.bytes().await.unwrap().to_vec())
}

fn decoded(headers: &HeaderMap, body: &[u8]) -> (String, String) {
    let coding = headers.get("content-encoding").map_or("", |v| v.to_str().unwrap()).to_owned();
    let mut out = Vec::new();
    match coding.as_str() {
        "gzip" => {
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(body), &mut out).unwrap();
        }
        "br" => {
            brotli::BrotliDecompress(&mut &body[..], &mut out).unwrap();
        }
        "" => out = body.to_vec(),
        other => panic!("unexpected content-encoding {other}"),
    }
    assert_eq!(
        headers.get("content-length").map(|v| v.to_str().unwrap().parse::<usize>().unwrap()),
        Some(body.len()),
        "content-length is the encoded length"
    );
    (coding, String::from_utf8(out).unwrap())
}

#[tokio::test]
async fn cached_pages_are_served_compressed_to_those_who_accept_it() {
    let app = spawn_on(Backend::Sqlite, &[("moderation", "none"), ("page_cache", "on")]).await;
    let body = "The harbour council met on Tuesday evening to discuss the ferry timetable. ";
    let draft = publishing::Draft {
        headline: "Compressed".into(),
        standfirst: "A standfirst.".into(),
        author: "Jo Writer".into(),
        body_markdown: body.repeat(20),
        replies_open: true,
    };
    let path = app.publish_draft(draft).await.path;
    app.reply(&path, &reply_with(&[("comment", "A reply <b>kept</b> as text.")])).await;
    let (plain_headers, plain) = fetch_encoded(&app, &path, "identity").await;
    let (none, page) = decoded(&plain_headers, &plain);
    assert_eq!(none, "");
    assert!(page.contains("A reply &lt;b&gt;kept&lt;/b&gt; as text."));
    assert_eq!(plain_headers["vary"], "Accept-Encoding");
    let tag = plain_headers["etag"].to_str().unwrap().to_owned();

    // Brotli first, gzip next; a coding with q=0 is refused; an unknown one is ignored.
    for (accept, expected) in [
        ("gzip, deflate, br", "br"),
        ("gzip", "gzip"),
        ("br;q=0, gzip;q=0.5", "gzip"),
        ("x-gzip", "gzip"),
        ("gzip;q=0, br;q=0", ""),
        ("compress", ""),
        ("", ""),
    ] {
        let (headers, body) = fetch_encoded(&app, &path, accept).await;
        let (coding, text) = decoded(&headers, &body);
        assert_eq!(coding, expected, "accept-encoding: {accept}");
        assert_eq!(text, page, "the same page, whatever the coding ({accept})");
        assert_eq!(headers["etag"], tag.as_str());
        assert_eq!(headers["vary"], "Accept-Encoding");
        if !expected.is_empty() {
            assert!(body.len() * 2 < plain.len(), "{expected}: {} of {}", body.len(), plain.len());
        }
    }
    // A conditional request gets its 304 whatever it accepts.
    let not_modified = app
        .client
        .get(app.url(&path))
        .header("accept-encoding", "br")
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(not_modified.status(), 304);
    assert!(not_modified.headers().get("content-encoding").is_none());
    assert_eq!(not_modified.headers()["etag"], tag.as_str());
    // What the layers behind the cache added when the page was made is on every copy served.
    let (headers, _) = fetch_encoded(&app, &path, "br").await;
    assert!(headers["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
    assert_eq!(headers["cache-control"], "public, max-age=0, s-maxage=5");
    // Feeds and the stylesheet are compressed too; a reply drops the compressed copies with
    // the page, so the next reader sees it whatever they accept.
    for n in 0..10 {
        app.publish(&format!("Another story about the harbour, number {n}")).await;
    }
    for other in ["/feed.atom", "/static/style.css"] {
        let (headers, body) = fetch_encoded(&app, other, "gzip").await;
        assert_eq!(decoded(&headers, &body).0, "gzip", "{other}");
    }
    let id = app.reply(&path, &reply_with(&[("comment", "A second reply.")])).await;
    let (headers, body) = fetch_encoded(&app, &path, "br").await;
    assert!(decoded(&headers, &body).1.contains(&format!("id=\"comment-{id}\"")));
}

#[tokio::test]
async fn a_session_made_on_one_node_works_on_another() {
    let a = spawn_on(Backend::Postgres, &[]).await;
    let b = restart(&a, &[]).await;
    a.add_staff("ed@example.com", "Ed", Role::Editor).await;
    let staff = a.sign_in("ed@example.com").await;
    let page = b.staff_get(&staff, "/admin/").await;
    assert_eq!(page.status, 200);
    let id = b.write(&staff, &[("headline", "Written on B")], "save").await;
    assert_eq!(a.staff_get(&staff, &format!("/admin/articles/{id}/")).await.status, 200);
}

/// A node keeps the settings it read; one saved on another node reaches it all the same.
#[tokio::test]
async fn a_setting_saved_on_one_node_holds_on_the_other() {
    use byline::domain::ReplyStatus;
    use byline::store::ReplyReads;
    let a = spawn_on(Backend::Postgres, &[]).await;
    let b = restart(&a, &[]).await;
    let admin = a.add_staff("admin@example.com", "Admin", byline::domain::Role::Admin).await;
    let path = a.publish("Settings travel").await.path;
    let status_on_b = |comment: String| {
        let b = &b;
        let path = path.clone();
        async move {
            let id = b.reply(&path, &reply_with(&[("comment", &comment)])).await;
            b.db(move |db| db.reply(id)).await.unwrap().status
        }
    };
    let none = [("moderation".to_owned(), "none".to_owned())];
    byline::services::settings::save(&a.services, &admin, &none).await.unwrap().unwrap();
    let started = Instant::now();
    while status_on_b("Read the settings".into()).await != ReplyStatus::Approved {
        assert!(started.elapsed() < Duration::from_secs(5), "B never applied moderation none");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let all = [("moderation".to_owned(), "all".to_owned())];
    byline::services::settings::save(&a.services, &admin, &all).await.unwrap().unwrap();
    let started = Instant::now();
    let mut n = 0;
    loop {
        n += 1;
        if status_on_b(format!("After the change {n}")).await == ReplyStatus::Pending {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "B kept the old setting");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!("a setting saved on A held on B after {:?}", started.elapsed());
}

#[tokio::test]
async fn scheduled_work_is_done_once_across_nodes() {
    let a = spawn_on(Backend::Postgres, &[("scheduler_seconds", "3600")]).await;
    let b = restart(&a, &[("scheduler_seconds", "3600")]).await;
    a.add_staff("ed@example.com", "Ed", Role::Editor).await;
    let staff = a.sign_in("ed@example.com").await;
    let id = a
        .write(
            &staff,
            &[("headline", "Due on both"), ("publish_at", "2099-01-01T00:00")],
            "schedule",
        )
        .await;
    a.db_write(move |tx| tx.set_article_status(id, ArticleStatus::Scheduled, None, Some(1_000), 1))
        .await;
    let (on_a, on_b) =
        tokio::join!(publishing::publish_due(&a.services), publishing::publish_due(&b.services));
    assert_eq!(on_a.unwrap() + on_b.unwrap(), 1, "published by exactly one node");
    let path = a.article(id).await.unwrap().public_path().unwrap();
    assert_eq!(b.get(&path).await.status, 200);
}

/// A PostgreSQL cluster of the test's own, on a random port, run by the `postgres` user
/// (initdb and pg_ctl refuse to run as root).
struct Cluster {
    dir: tempfile::TempDir,
    port: u16,
    bin: std::path::PathBuf,
}

impl Cluster {
    fn new() -> Self {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("Debian's PostgreSQL under /usr/lib/postgresql")
            .filter_map(Result::ok)
            .map(|e| e.path().join("bin"))
            .find(|p| p.join("initdb").exists())
            .expect("initdb");
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        run("chown", &["-R", "postgres", dir.path().to_str().unwrap()]);
        let data = dir.path().join("data");
        Self::as_postgres(
            &bin.join("initdb"),
            &["-D", data.to_str().unwrap(), "-A", "trust", "-U", "postgres", "--no-sync"],
        );
        let cluster = Self { dir, port, bin };
        cluster.start();
        cluster
    }

    fn as_postgres(program: &std::path::Path, args: &[&str]) {
        let mut all = vec!["-u", "postgres", "--", program.to_str().unwrap()];
        all.extend_from_slice(args);
        run("runuser", &all);
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("log").display().to_string();
        Self::as_postgres(
            &self.bin.join("pg_ctl"),
            &["-D", &self.data(), "-o", &options, "-l", &log, "-w", "start"],
        );
    }

    fn stop(&self) {
        Self::as_postgres(
            &self.bin.join("pg_ctl"),
            &["-D", &self.data(), "-m", "fast", "-w", "stop"],
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let pg_ctl = self.bin.join("pg_ctl");
        let _ = Command::new("runuser")
            .args([
                "-u",
                "postgres",
                "--",
                pg_ctl.to_str().unwrap(),
                "-D",
                &self.data(),
                "-m",
                "immediate",
                "stop",
            ])
            .output();
    }
}

fn run(program: &str, args: &[&str]) {
    let output =
        Command::new(program).args(args).output().unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        output.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn when_the_database_goes_away_pages_say_so_quickly_and_recover() {
    if !crate::helpers::first_run() {
        return;
    }
    let cluster = tokio::task::spawn_blocking(Cluster::new).await.unwrap();
    let app = spawn_on_database(
        &cluster.url(),
        &[("moderation", "none"), ("request_timeout_seconds", "5")],
    )
    .await;
    let path = app.publish("Resilient").await.path;
    let token = app.form_token(&path).await;
    // A second node, caching pages: losing its notification connection must empty its cache.
    let caching = spawn_on_database(&cluster.url(), &[("page_cache", "on")]).await;
    cache_page(&caching, &path).await;

    // Replies stream in while the database stops and starts again.
    let poster = {
        let client = app.client.clone();
        let url = app.url(&path);
        tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let mut refused = 0;
            let started = Instant::now();
            let mut i = 0;
            while started.elapsed() < Duration::from_secs(8) {
                i += 1;
                let form = crate::helpers::encode(&reply_with(&[
                    ("comment", &format!("Reply {i}")),
                    ("token", &token),
                ]));
                let sent = client
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(form)
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == 303 => acknowledged.push(crate::helpers::comment_id(
                        r.headers()["location"].to_str().unwrap(),
                    )),
                    Ok(r) => {
                        assert_eq!(r.status(), 503, "a failed commit is a 503");
                        assert!(
                            r.text().await.unwrap().contains(&format!("Reply {i}")),
                            "the text is kept"
                        );
                        refused += 1;
                    }
                    Err(e) => panic!("no answer: {e}"),
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            (acknowledged, refused)
        })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let cluster = tokio::task::spawn_blocking(move || {
        cluster.stop();
        cluster
    })
    .await
    .unwrap();

    let started = Instant::now();
    let page = app.get(&path).await;
    assert_eq!(page.status, 503);
    assert!(started.elapsed() < Duration::from_secs(6), "answered in {:?}", started.elapsed());
    assert!(page.header("retry-after").parse::<u64>().is_ok());
    assert!(text(page.one("h1")).contains("unavailable"));
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 503);
    let lost = Instant::now();
    while !caching.state.pages.is_empty() {
        assert!(lost.elapsed() < Duration::from_secs(5), "the cache outlived its notifications");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let cluster = tokio::task::spawn_blocking(move || {
        cluster.start();
        cluster
    })
    .await
    .unwrap();
    let recovered = Instant::now();
    while app.get(&path).await.status != 200 {
        assert!(recovered.elapsed() < Duration::from_secs(15), "no recovery without a restart");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status(), 200);

    let (acknowledged, refused) = poster.await.unwrap();
    println!(
        "{} replies acknowledged, {refused} refused while the database was down",
        acknowledged.len()
    );
    assert!(refused > 0, "some replies met the stopped database");
    for id in acknowledged {
        assert!(app.stored(id).await.is_some(), "acknowledged reply {id} was lost");
    }
    drop(cluster);
}

/// Article pages read at the same time share a few connections, their statements pipelined:
/// every answer holds its own article's replies and no other's, and a shared connection the
/// server drops is replaced rather than failing every read after it.
#[tokio::test]
async fn pages_read_together_get_their_own_replies_and_outlive_a_dropped_connection() {
    use byline::domain::ReplyStatus;
    let name = format!("byline_shared_{}", std::process::id());
    let url = format!("{}&application_name={name}", crate::helpers::fresh_postgres_url().await);
    let app = spawn_on_database(&url, &[("moderation", "none")]).await;
    let mut articles = Vec::new();
    for n in 0..5 {
        let published = app.publish(&format!("Story {n}")).await;
        for r in 0..=n {
            let status = ReplyStatus::Approved;
            app.seed_reply(published.id, None, &format!("Reader {n} {r}"), status).await;
        }
        articles.push((n, published.path));
    }
    // Each page read once first: an article's text, once kept, leaves its thread to read, and
    // that read is the one sent on a shared connection.
    let read_each = || async {
        for (_, path) in &articles {
            assert_eq!(app.get_raw(path).await.status, 200);
        }
    };
    let read_all = |rounds: usize| {
        let reads = (0..rounds).flat_map(|_| articles.iter()).map(|(n, path)| {
            let (app, path) = (&app, path.clone());
            async move { (*n, app.get_raw(&path).await) }
        });
        futures_util::future::join_all(reads)
    };
    let shared = || app.services.store.pool_waits().shared;
    let check = |answers: Vec<(usize, crate::helpers::Raw)>| {
        for (n, page) in answers {
            assert_eq!(page.status, 200, "{}", page.body);
            assert!(page.body.contains(&format!("Story {n}")));
            for other in 0..5 {
                let shown = page.body.matches(&format!("Reply by Reader {other} ")).count();
                assert_eq!(shown, if other == n { n + 1 } else { 0 }, "story {n}, reader {other}");
            }
        }
    };
    read_each().await;
    let before = shared();
    check(read_all(20).await);
    // Past 32 reads in flight on a connection, a read takes a connection of its own.
    assert!(shared() >= before + 50, "{} of 100 reads shared", shared() - before);

    // The server drops every connection the site holds.
    let (admin, connection) =
        tokio_postgres::connect(&crate::helpers::test_postgres(), tokio_postgres::NoTls)
            .await
            .expect("the test database");
    tokio::spawn(connection);
    let drop_all = "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                    WHERE application_name = $1";
    let dropped: i64 = admin.query_one(drop_all, &[&name]).await.unwrap().get(0);
    assert!(dropped > 0, "the site held no connection");
    // A read that was on its way when the connection went may fail (503); soon all succeed.
    let started = Instant::now();
    loop {
        let statuses: Vec<u16> = read_all(4).await.iter().map(|(_, page)| page.status).collect();
        assert!(statuses.iter().all(|s| [200, 503].contains(s)), "{statuses:?}");
        if statuses.iter().all(|&s| s == 200) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "still failing: {statuses:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Losing the connection that listens empties what the site kept, when it reconnects: read
    // each page again until their reads are shared again, on the connections that replaced
    // the dropped ones.
    let started = Instant::now();
    loop {
        read_each().await;
        let before = shared();
        check(read_all(8).await);
        if shared() >= before + 20 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "reads are no longer shared");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
