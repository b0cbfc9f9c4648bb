//! The newsroom's Import page: an upload streamed into the database, run as a job by a node,
//! its progress and summary shown, taken over when its node stops; and the downloads.

use std::time::{Duration, Instant};

use byline::domain::Role;
use byline::store::{CopyReads, ImportJobReads, JobState, Table};
use serde_json::Value;

use crate::cli::byline;
use crate::helpers::{
    Page, Setup, StaffClient, TestApp, database_of, restart_with, spawn_database_with, spawn_setup,
    spawn_with, text,
};
use crate::imports::{OffRuntime, comment, count, data, imported, post, wp_page, write, wxr};

const BOUNDARY: &str = "----byline-test-boundary-7MA4YWxkTrZu0gW";

/// A multipart body as a browser sends the Import form: the token, the kind, the file.
fn form(csrf: &str, choices: &[(&str, &str)], name: &str, file: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for (field, value) in [("csrf", csrf)].iter().chain(choices) {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/xml\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload(app: &TestApp, staff: &StaffClient, format: &str, name: &str, file: &[u8]) -> Page {
    upload_with(app, staff, &[("format", format)], name, file).await
}

/// The form with these choices (`format`, `pingbacks`, `dry_run`).
async fn upload_with(
    app: &TestApp,
    staff: &StaffClient,
    choices: &[(&str, &str)],
    name: &str,
    file: &[u8],
) -> Page {
    let content_type = format!("multipart/form-data; boundary={BOUNDARY}");
    let headers = [("cookie", staff.cookie.as_str()), ("content-type", content_type.as_str())];
    app.post_raw("/admin/import", form(&staff.csrf, choices, name, file), &headers).await
}

async fn admin(app: &TestApp) -> StaffClient {
    app.add_staff("admin@example.com", "Ada Admin", Role::Admin).await;
    app.sign_in("admin@example.com").await
}

/// The job's page once the job has ended (it reloads itself until then).
async fn finished(app: &TestApp, staff: &StaffClient, job: &str) -> Page {
    let started = Instant::now();
    loop {
        let page = app.staff_get(staff, job).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let state = text(page.one("#job-state"));
        if state == "done" || state == "failed" {
            assert!(!page.has("meta[http-equiv=refresh]"), "an ended job's page stays still");
            return page;
        }
        assert!(page.has("meta[http-equiv=refresh]"), "a job going on is followed");
        assert!(started.elapsed() < Duration::from_secs(60), "{job}: still {state}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A summary table's rows, cells apart: `kind status count`.
fn summary_rows(page: &Page, table: &str) -> Vec<String> {
    let cell = scraper::Selector::parse("td").unwrap();
    page.all(&format!("{table} tbody tr"))
        .into_iter()
        .map(|row| row.select(&cell).map(text).collect::<Vec<_>>().join(" "))
        .collect()
}

#[tokio::test]
async fn an_admin_uploads_a_wordpress_export_and_reads_the_same_summary_as_the_command_line() {
    let app = spawn_with(&[("moderation", "none")]).await;
    let staff = admin(&app).await;
    let items = [
        post(12, "ferry-strike", "publish", "On strike.", &comment(1, 0, "1", "Hi")),
        post(13, "harbour-plan", "draft", "Plans.", ""),
        wp_page(41, 0, "about", "publish", "Who we are."),
    ]
    .concat();
    let file = wxr(&items);
    let sent = upload(&app, &staff, "wordpress", "gazette.xml", file.as_bytes()).await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let job = sent.location().to_owned();
    assert!(job.starts_with("/admin/import/"), "{job}");
    let page = finished(&app, &staff, &job).await;
    assert_eq!(text(page.one("#job-state")), "done");
    // The file's three items and one comment, all gone through.
    assert_eq!(text(page.one("#job-progress")), "3 of 3 items, 1 of 1 replies");
    let rows = summary_rows(&page, ".import-summary");
    for row in
        ["articles published 1", "articles draft 1", "pages published 1", "replies approved 1"]
    {
        assert!(rows.iter().any(|r| r == row), "{row}: {rows:?}");
    }
    assert_eq!(app.get("/about/").await.status, 200);
    assert_eq!(app.get("/?p=12").await.status, 301);

    // The command line on the same file: the same account, everything already there.
    let dir = tempfile::tempdir().unwrap();
    let again = imported(&app, &write(&dir, "gazette.xml", &file), &[]).await;
    assert_eq!(count(&again, "already_there", "articles", "published"), 1);
    assert_eq!(count(&again, "already_there", "pages", "published"), 1);
    assert!(again["imported"].as_object().is_none_or(|m| m.is_empty()));

    // The list shows the job; the upload left nothing behind in the database.
    let list = app.staff_get(&staff, "/admin/import").await;
    assert_eq!(text(list.one(".import-jobs tbody tr .job-state")), "done");
    let id = job.trim_start_matches("/admin/import/").parse::<i64>().unwrap();
    assert_eq!(app.db(move |db| db.import_chunk(id.into(), 0)).await, None);
}

#[tokio::test]
async fn a_dry_run_from_the_newsroom_writes_nothing_and_pingbacks_are_kept_when_asked() {
    let app = spawn_with(&[("moderation", "none")]).await;
    let staff = admin(&app).await;
    let ping = comment(9, 0, "1", "Linked").replace("[CDATA[comment]]", "[CDATA[pingback]]");
    let file = wxr(&post(12, "ferry-strike", "publish", "On strike.", &ping));
    let choices = [("format", "wordpress"), ("dry_run", "yes"), ("pingbacks", "keep")];
    let sent = upload_with(&app, &staff, &choices, "site.xml", file.as_bytes()).await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let page = finished(&app, &staff, sent.location()).await;
    assert_eq!(text(page.one("#job-state")), "done");
    assert!(page.has("#job-dry-run"));
    assert_eq!(text(page.one(".import-summary thead th:last-child")), "Would be imported");
    let rows = summary_rows(&page, ".import-summary");
    assert!(rows.contains(&"link-backs approved 1".to_owned()), "{rows:?}");
    assert_eq!(app.db(|db| db.count_rows(Table::Articles)).await, 0, "a dry run writes nothing");

    let sent = upload_with(&app, &staff, &choices[..1], "site.xml", file.as_bytes()).await;
    let page = finished(&app, &staff, sent.location()).await;
    let skipped = summary_rows(&page, ".import-skipped");
    assert_eq!(skipped, ["pingbacks and trackbacks 1"], "without the choice, pings are skipped");
    assert_eq!(app.db(|db| db.count_rows(Table::Articles)).await, 1);
}

#[tokio::test]
async fn a_bad_file_fails_its_job_with_the_place_and_imports_nothing() {
    let app = spawn_with(&[]).await;
    let staff = admin(&app).await;
    let cut = wxr(&post(12, "ferry-strike", "publish", "On strike.", ""));
    let cut = &cut[..cut.len() / 2];
    let sent = upload(&app, &staff, "wordpress", "cut.xml", cut.as_bytes()).await;
    assert_eq!(sent.status, 303);
    let page = finished(&app, &staff, sent.location()).await;
    assert_eq!(text(page.one("#job-state")), "failed");
    let error = text(page.one("#job-error"));
    assert!(error.contains("cut.xml") && error.contains("line"), "{error}");
    assert!(!error.contains("byline-upload"), "the file is named as the admin named it");
    assert_eq!(app.db(|db| db.count_rows(Table::Articles)).await, 0);

    // A Disqus file given as WordPress, then as Disqus.
    let disqus = std::fs::read(data().join("isso-disqus.xml")).unwrap();
    let sent = upload(&app, &staff, "wordpress", "disqus.xml", &disqus).await;
    let page = finished(&app, &staff, sent.location()).await;
    assert!(text(page.one("#job-error")).contains("not a WordPress export"));
    let sent = upload(&app, &staff, "disqus", "disqus.xml", &disqus).await;
    let page = finished(&app, &staff, sent.location()).await;
    assert_eq!(text(page.one("#job-state")), "done", "{}", page.body);
    assert!(page.has(".import-skipped"), "its threads match no article here, and say so");
}

#[tokio::test]
async fn the_upload_has_its_own_limit_and_only_admins_import() {
    let app = spawn_with(&[("max_import_bytes", "1048576")]).await;
    let staff = admin(&app).await;
    let items: String = (1..=3_000)
        .map(|i| post(i, &format!("story-{i}"), "publish", "Text of a story.", ""))
        .collect();
    let big = wxr(&items);
    assert!(big.len() > 1_048_576, "the file is past the limit");
    let refused = upload(&app, &staff, "wordpress", "big.xml", big.as_bytes()).await;
    assert_eq!(refused.status, 413, "{}", refused.body);
    assert!(
        refused.body.contains("too large") || refused.body.contains("larger"),
        "{}",
        refused.body
    );
    assert_eq!(app.db(|db| db.count_rows(Table::Articles)).await, 0);
    // Larger than the reply form's limit, within the import's: taken.
    let small = wxr(&(1..=400)
        .map(|i| post(i, &format!("s-{i}"), "publish", "Text.", ""))
        .collect::<String>());
    assert!(small.len() > 262_144 && small.len() < 1_048_576);
    let sent = upload(&app, &staff, "wordpress", "small.xml", small.as_bytes()).await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    assert_eq!(text(finished(&app, &staff, sent.location()).await.one("#job-state")), "done");
    assert_eq!(app.db(|db| db.count_rows(Table::Articles)).await, 400);

    let empty = upload(&app, &staff, "wordpress", "empty.xml", b"").await;
    assert_eq!(empty.status, 422);
    assert!(text(empty.one("#import-error")).contains("empty"));
    let no_token = StaffClient { cookie: staff.cookie.clone(), csrf: "forged".into() };
    assert_eq!(upload(&app, &no_token, "wordpress", "x.xml", b"<rss/>").await.status, 403);

    app.add_staff("ed@example.com", "Ed Editor", Role::Editor).await;
    let editor = app.sign_in("ed@example.com").await;
    assert_eq!(app.staff_get(&editor, "/admin/import").await.status, 403);
    assert_eq!(upload(&app, &editor, "wordpress", "x.xml", small.as_bytes()).await.status, 403);
    assert_eq!(app.staff_get(&editor, "/admin/export/site.jsonl").await.status, 403);
}

#[tokio::test]
async fn admins_download_the_site_as_a_json_dump_and_a_wordpress_export() {
    let first = spawn_with(&[("moderation", "none")]).await;
    let staff = admin(&first).await;
    let dir = tempfile::tempdir().unwrap();
    let site = wxr(&[
        post(12, "ferry-strike", "publish", "On strike.", &comment(1, 0, "1", "Hi")),
        wp_page(41, 0, "about", "publish", "Who we are."),
    ]
    .concat());
    imported(&first, &write(&dir, "site.xml", &site), &[]).await;

    let dump = first.staff_get(&staff, "/admin/export/site.jsonl").await;
    assert_eq!(dump.status, 200);
    assert!(dump.header("content-disposition").starts_with("attachment; filename=\"byline-"));
    assert_eq!(dump.header("cache-control"), "private, no-store");
    let header: Value = serde_json::from_str(dump.body.lines().next().unwrap()).unwrap();
    assert_eq!(header["format"], "byline-site");
    // Into an empty database: the same pages.
    let second = spawn_with(&[]).await;
    let file = write(&dir, "site.jsonl", &dump.body);
    let loaded = byline()
        .args(["--database", &database_of(&second), "import", "json"])
        .arg(&file)
        .output_off_runtime()
        .await;
    assert!(loaded.status.success(), "{}", String::from_utf8_lossy(&loaded.stderr));
    for path in ["/about/", "/2019/05/22/ferry-strike/"] {
        assert_eq!(
            text(first.get(path).await.one("main h1")),
            text(second.get(path).await.one("main h1"))
        );
    }

    let wxr_file = first.staff_get(&staff, "/admin/export/site.xml").await;
    assert_eq!(wxr_file.status, 200);
    assert!(wxr_file.header("content-type").starts_with("application/xml"));
    let third = spawn_with(&[]).await;
    let summary = imported(&third, &write(&dir, "back.xml", &wxr_file.body), &[]).await;
    assert_eq!(count(&summary, "imported", "articles", "published"), 1);
    assert_eq!(count(&summary, "imported", "pages", "published"), 1);
    assert_eq!(first.staff_get(&staff, "/admin/export/other").await.status, 404);
}

/// Run as a separate process by the next test: a node that runs the imports it finds, killed
/// with SIGKILL half way through one.
#[tokio::test]
#[ignore = "started by an_import_whose_node_stops_is_finished_by_another_without_duplicates"]
async fn an_import_node_to_kill() {
    let Ok(database) = std::env::var("BYLINE_TEST_NODE_DATABASE") else { return };
    let setup = Setup { clock: Some(byline::clock::Clock::system()), ..Setup::default() };
    let app = spawn_database_with(&database, setup).await;
    println!("listening {}", app.address);
    tokio::time::sleep(Duration::from_secs(120)).await;
}

#[tokio::test]
async fn an_import_whose_node_stops_is_finished_by_another_without_duplicates() {
    // This node takes the upload but runs no imports: the other process does.
    let first = spawn_setup(Setup { no_imports: true, ..Setup::default() }).await;
    let staff = admin(&first).await;
    let posts = 3_000;
    let items: String = (1..=posts)
        .map(|i| post(i, &format!("story-{i}"), "publish", "Text", &comment(i, 0, "1", "Hi")))
        .collect();
    let sent = upload(&first, &staff, "wordpress", "big.xml", wxr(&items).as_bytes()).await;
    assert_eq!(sent.status, 303);
    let id: i64 = sent.location().trim_start_matches("/admin/import/").parse().unwrap();
    let waiting = first.db(move |db| db.import_job(id.into())).await.unwrap();
    assert_eq!(waiting.state, JobState::Waiting);

    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["import_page::an_import_node_to_kill", "--exact", "--ignored", "--nocapture"])
        .arg("--test-threads=1")
        .env("BYLINE_TEST_NODE_DATABASE", database_of(&first))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed once some batches have committed, before all have.
    let started = Instant::now();
    let mut seen = 0;
    while seen == 0 {
        assert!(started.elapsed() < Duration::from_secs(60), "the other node never started");
        seen = first.db(|db| db.count_rows(Table::Articles)).await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = first.db(|db| db.count_rows(Table::Articles)).await;
    assert!(before < u64::from(posts), "killed after {before} articles");
    let stopped = first.db(move |db| db.import_job(id.into())).await.unwrap();
    assert_eq!((stopped.state, stopped.attempts), (JobState::Running, 1));

    // A node with imports on, once the dead node's lease has run out, finishes the job.
    first.clock.advance(2 * byline::tools::import::jobs::LEASE_SECONDS + 120);
    let second =
        restart_with(&first, Setup { clock: Some(first.clock.clone()), ..Setup::default() }).await;
    let page = finished(&second, &staff, &format!("/admin/import/{id}")).await;
    assert_eq!(text(page.one("#job-state")), "done", "{}", page.body);
    assert!(page.body.contains("attempt 2"), "the page says it was taken over");
    let already = summary_rows(&page, ".import-already").join(" | ");
    assert!(already.contains(&format!("articles published {before}")), "{already}");
    assert_eq!(second.db(|db| db.count_rows(Table::Articles)).await, u64::from(posts));
    assert_eq!(second.db(|db| db.count_rows(Table::Comments)).await, u64::from(posts));
    assert!(second.article_by_slug("story-1-2").await.is_none(), "no article came in twice");
}
