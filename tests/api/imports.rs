//! `byline import wordpress`, through the command, on the running site's database: every
//! fixture of `../shared/data/import` with the counts its contents and the mapping rules give,
//! refusals with their place, second runs, dry runs, a run killed half way, old addresses
//! answering with a 301, and what the sanitizer leaves of imported HTML.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

use byline::store::{ArticleReads, CopyReads, ImportReads, Table};

use crate::cli::byline;
use crate::helpers::{TestApp, database_of, spawn_app, text};

pub(crate) fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/import")
}

pub(crate) fn expected() -> serde_json::Map<String, Value> {
    let path = data().join("EXPECTED.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// Runs a command off the test's runtime: the site under test shares that runtime, and a
/// transaction of its own (a job's) must not wait for the command while the command waits
/// for it.
pub(crate) async fn run(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap()
}

/// [`run`] for a command built in place.
pub(crate) trait OffRuntime {
    fn output_off_runtime(&mut self) -> impl std::future::Future<Output = Output>;
}

impl OffRuntime for Command {
    fn output_off_runtime(&mut self) -> impl std::future::Future<Output = Output> {
        run(std::mem::replace(self, Command::new("true")))
    }
}

async fn import(app: &TestApp, file: &Path, extra: &[&str]) -> Output {
    let mut command = byline();
    command.args(["--database", &database_of(app), "import", "wordpress", "--json"]);
    command.args(extra).arg(file);
    run(command).await
}

/// The summary of an import that must succeed.
pub(crate) async fn imported(app: &TestApp, file: &Path, extra: &[&str]) -> Value {
    let output = import(app, file, extra).await;
    assert!(
        output.status.success(),
        "{} was refused: {}",
        file.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

pub(crate) fn count(summary: &Value, section: &str, kind: &str, status: &str) -> u64 {
    summary[section][kind][status].as_u64().unwrap_or(0)
}

fn sum(map: &Value, keys: impl Fn(&str) -> bool) -> u64 {
    map.as_object()
        .map(|m| m.iter().filter(|(k, _)| keys(k)).map(|(_, v)| v.as_u64().unwrap()).sum())
        .unwrap_or(0)
}

/// Fixtures whose namespaces are a test of their own: an element named like WordPress's but in
/// another namespace (a `wp:` prefix bound elsewhere, `custom:author`) is not WordPress's, so
/// Byline does not count it where a reader of names alone does. Said per fixture, with what
/// Byline finds instead.
fn namespace_exceptions(name: &str) -> Option<Value> {
    (name == "wordpress-importer/namespace-edge-cases.xml").then(|| {
        // Of six items, one binds `wp:` to a foreign namespace: it has no WordPress type or
        // status. Of four authors, one is in a fake and one in a custom namespace.
        json!({"authors": 2, "items": {"post/publish": 5, "?/?": 1}})
    })
}

/// The file named by an EXPECTED key (`x.zip!x.xml` is the zip itself: Byline opens it).
pub(crate) fn fixture(key: &str) -> PathBuf {
    data().join(key.split('!').next().unwrap())
}

fn is_wordpress(key: &str, facts: &Value) -> bool {
    facts.get("items").is_some()
        || key.contains("wordpress")
        || (facts["well_formed"] == false && !key.contains("disqus"))
}

#[tokio::test]
async fn every_wordpress_fixture_imports_with_the_counts_its_contents_give_or_is_refused() {
    for (key, facts) in expected() {
        if !is_wordpress(&key, &facts) {
            continue;
        }
        let app = spawn_app().await;
        let file = fixture(&key);
        if facts["well_formed"] == false {
            refused_or_recovered(&app, &key, &file, &facts).await;
            continue;
        }
        let namespaced = facts["namespace"].as_array().is_some_and(|n| !n.is_empty());
        if facts["wxr_version"].is_null() && !namespaced {
            let output = import(&app, &file, &[]).await;
            assert!(!output.status.success(), "{key} is not WXR, yet it imported");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.contains("not a WordPress export"), "{key}: {stderr}");
            continue;
        }
        let summary = imported(&app, &file, &[]).await;
        check_file_counts(&key, &facts, &summary["file"]);
        check_mapping(&key, &summary);
        let again = imported(&app, &file, &[]).await;
        assert!(
            again["imported"].as_object().is_none_or(|m| m.is_empty()),
            "{key}: a second run imported {}",
            again["imported"]
        );
        for kind in ["articles", "pages", "replies"] {
            assert_eq!(
                again["already_there"][kind], summary["imported"][kind],
                "{key}: the second run finds what the first brought in"
            );
        }
    }
}

fn check_file_counts(key: &str, facts: &Value, file: &Value) {
    let exception = namespace_exceptions(key);
    for field in
        ["items", "comments", "comments_with_parent", "max_depth", "authors", "categories", "tags"]
    {
        let want = exception.as_ref().and_then(|e| e.get(field)).unwrap_or(&facts[field]);
        assert_eq!(&file[field], want, "{key}: {field}");
    }
    assert_eq!(file["wxr_version"], facts["wxr_version"], "{key}: wxr_version");
    let mut namespaces: Vec<Value> = facts["namespace"].as_array().unwrap().clone();
    namespaces.sort_by_key(|v| v.to_string());
    assert_eq!(file["namespace"], Value::Array(namespaces), "{key}: namespaces");
}

/// What the mapping rules make of what the file holds.
fn check_mapping(key: &str, summary: &Value) {
    let items = &summary["file"]["items"];
    let post = |statuses: &[&str]| {
        sum(items, |k| {
            let (kind, status) = k.split_once('/').unwrap();
            matches!(kind, "post" | "?") && statuses.contains(&status)
        })
    };
    assert_eq!(count(summary, "imported", "articles", "published"), post(&["publish"]), "{key}");
    // Drafts, pending review, private and no status at all come in as drafts (a future post
    // whose time has passed too, noted).
    let drafts = post(&["draft", "pending", "private", "?", "auto-draft"]);
    let missed = count(summary, "imported", "articles", "draft") - drafts;
    assert!(missed <= post(&["future"]), "{key}: drafts {}", summary["imported"]);
    assert_eq!(
        count(summary, "imported", "articles", "scheduled") + missed,
        post(&["future"]),
        "{key}"
    );
    assert_eq!(summary["skipped"]["posts in the trash"].as_u64().unwrap_or(0), post(&["trash"]));
    // Pages: published or a draft, with their parents; trashed ones counted.
    let page = |statuses: &[&str]| {
        sum(items, |k| {
            let (kind, status) = k.split_once('/').unwrap();
            kind == "page" && statuses.contains(&status)
        })
    };
    assert_eq!(count(summary, "imported", "pages", "published"), page(&["publish"]), "{key}");
    assert_eq!(
        count(summary, "imported", "pages", "draft"),
        page(&["draft", "pending", "private", "future", "auto-draft", "?"]),
        "{key}"
    );
    assert_eq!(summary["skipped"]["pages in the trash"].as_u64().unwrap_or(0), page(&["trash"]));
    let attachments = sum(items, |k| k.starts_with("attachment/"));
    assert_eq!(
        summary["skipped"]["attachments: images keep their original addresses"]
            .as_u64()
            .unwrap_or(0),
        attachments,
        "{key}"
    );
    let comments = &summary["file"]["comments"];
    let of = |kind: &str, values: &[&str]| {
        sum(comments, |k| {
            let (k, approved) = k.split_once('/').unwrap();
            k == kind && values.contains(&approved)
        })
    };
    let skipped = |reason: &str| summary["skipped"][reason].as_u64().unwrap_or(0);
    let replies = |status| count(summary, "imported", "replies", status);
    let brought = replies("approved") + replies("pending") + replies("spam") + replies("trash");
    let with_items = skipped("replies on items not imported");
    let pings = skipped("pingbacks and trackbacks");
    let on_pages = skipped("replies on pages (pages take no replies)");
    // Every comment of the file is a reply, or skipped with its item, or a ping skipped.
    assert_eq!(brought + with_items + on_pages + pings, sum(comments, |_| true), "{key}: replies");
    if with_items == 0 && on_pages == 0 {
        assert_eq!(replies("approved"), of("comment", &["1"]), "{key}");
        assert_eq!(replies("pending"), of("comment", &["0", "?"]), "{key}");
        assert_eq!(replies("spam"), of("comment", &["spam"]), "{key}");
        assert_eq!(replies("trash"), of("comment", &["trash", "post-trashed"]), "{key}");
        let all_pings =
            sum(comments, |k| k.starts_with("pingback/") || k.starts_with("trackback/"));
        assert_eq!(pings, all_pings, "{key}");
    }
}

/// A file that is not well-formed is refused at the place a strict parser stops (the line;
/// columns are counted differently by different parsers), with nothing imported; one whose
/// fault Byline can read past (`]]>` inside CDATA, as old WordPress wrote it) imports whole,
/// with a note.
async fn refused_or_recovered(app: &TestApp, key: &str, file: &Path, facts: &Value) {
    let error = facts["error"].as_str().unwrap();
    let line: &str = error.split("line ").nth(1).unwrap().split(',').next().unwrap();
    if key == "wordpress-importer/crazy-cdata.xml" {
        let summary = imported(app, file, &[]).await;
        let notes = summary["notes"].to_string();
        assert!(notes.contains(&format!("line {line}")), "{key}: {notes}");
        let article = app.article_by_slug("hello-world").await.expect("the post");
        assert_eq!(article.body_markdown, "<p>Content with nested <![CDATA[ tags ]]> :)</p>");
        return;
    }
    let output = import(app, file, &[]).await;
    assert!(!output.status.success(), "{key} is not well-formed, yet it imported");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(&format!("line {line}, column")), "{key}: {stderr}");
    let articles = app.db(|db| db.count_rows(Table::Articles)).await;
    let authors = app.db(|db| db.count_rows(Table::Authors)).await;
    assert_eq!((articles, authors), (0, 0), "{key}: nothing of the file came in");
}

/// A WXR 1.2 file of these items, as WordPress writes one.
pub(crate) fn wxr(items: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
  xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
<title>The Harbour Gazette</title>
<link>https://gazette.example</link>
<wp:wxr_version>1.2</wp:wxr_version>
<wp:base_site_url>https://gazette.example</wp:base_site_url>
<wp:author><wp:author_id>3</wp:author_id><wp:author_login><![CDATA[jo]]></wp:author_login>
<wp:author_display_name><![CDATA[Jo Harbour]]></wp:author_display_name></wp:author>
<wp:category><wp:term_id>5</wp:term_id><wp:category_nicename>port</wp:category_nicename>
<wp:category_parent>news</wp:category_parent><wp:cat_name><![CDATA[Port &amp; Quay]]></wp:cat_name></wp:category>
{items}
</channel>
</rss>
"#
    )
}

pub(crate) fn post(id: u32, slug: &str, status: &str, content: &str, comments: &str) -> String {
    format!(
        r#"<item>
<title><![CDATA[Story {id}: {slug}]]></title>
<link>https://gazette.example/2019/05/{slug}/</link>
<guid isPermaLink="false">https://gazette.example/?p={id}</guid>
<dc:creator><![CDATA[jo]]></dc:creator>
<content:encoded><![CDATA[{content}]]></content:encoded>
<excerpt:encoded><![CDATA[]]></excerpt:encoded>
<wp:post_id>{id}</wp:post_id>
<wp:post_date_gmt><![CDATA[2019-05-2{d} 10:00:00]]></wp:post_date_gmt>
<wp:comment_status><![CDATA[open]]></wp:comment_status>
<wp:post_name><![CDATA[{slug}]]></wp:post_name>
<wp:status><![CDATA[{status}]]></wp:status>
<wp:post_type><![CDATA[post]]></wp:post_type>
<wp:post_password><![CDATA[]]></wp:post_password>
<wp:is_sticky>0</wp:is_sticky>
<category domain="category" nicename="port"><![CDATA[Port &amp; Quay]]></category>
<category domain="post_tag" nicename="ferries"><![CDATA[Ferries]]></category>
{comments}
</item>"#,
        d = id % 10
    )
}

pub(crate) fn comment(id: u32, parent: u32, approved: &str, content: &str) -> String {
    format!(
        r#"<wp:comment><wp:comment_id>{id}</wp:comment_id>
<wp:comment_author><![CDATA[Reader {id}]]></wp:comment_author>
<wp:comment_author_email><![CDATA[reader{id}@example.com]]></wp:comment_author_email>
<wp:comment_author_url>https://reader.example/</wp:comment_author_url>
<wp:comment_author_IP><![CDATA[192.0.2.{id}]]></wp:comment_author_IP>
<wp:comment_date_gmt><![CDATA[2019-05-22 1{s}:00:00]]></wp:comment_date_gmt>
<wp:comment_content><![CDATA[{content}]]></wp:comment_content>
<wp:comment_approved><![CDATA[{approved}]]></wp:comment_approved>
<wp:comment_type><![CDATA[comment]]></wp:comment_type>
<wp:comment_parent>{parent}</wp:comment_parent>
<wp:comment_user_id>0</wp:comment_user_id></wp:comment>"#,
        s = id % 10
    )
}

pub(crate) fn write(dir: &tempfile::TempDir, name: &str, content: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    path
}

#[tokio::test]
async fn old_addresses_answer_with_a_redirect_to_the_imported_pages() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let file =
        write(&dir, "site.xml", &wxr(&post(12, "ferry-strike", "publish", "On strike.", "")));
    imported(&app, &file, &[]).await;
    let article = app.article_by_slug("ferry-strike").await.expect("the article");
    let new = article.public_path().unwrap();
    assert_eq!(new, "/2019/05/22/ferry-strike/");
    let author = format!("/author/{}-jo-harbour/", article.authors[0].id);
    for (old, to) in [
        ("/2019/05/ferry-strike/", new.clone()),
        ("/2019/05/ferry-strike", new.clone()),
        ("/?p=12", new.clone()),
        ("/?p=12&utm_source=mail", new.clone()),
        ("/2019/05/ferry-strike/feed/", format!("{new}feed.atom")),
        ("/category/news/port/", "/section/port-quay/".to_owned()),
        ("/category/news/port/feed/", "/section/port-quay/feed.atom".to_owned()),
        ("/tag/ferries/feed/", "/tag/ferries/feed.atom".to_owned()),
        ("/?cat=5", "/section/port-quay/".to_owned()),
        ("/?tag=ferries", "/tag/ferries/".to_owned()),
        ("/author/jo/", author.clone()),
        ("/?author=3", author.clone()),
        ("/feed/", "/feed.atom".to_owned()),
    ] {
        let page = app.get(old).await;
        assert_eq!(page.status, 301, "{old}");
        assert_eq!(page.location(), to, "{old}");
        assert_eq!(app.get(&to).await.status, 200, "{old} → {to}");
    }
    // The tag's address is Byline's own already; a page Byline never had is still a 404.
    assert_eq!(app.get("/tag/ferries/").await.status, 200);
    assert_eq!(app.get("/2019/05/never-was/").await.status, 404);
    assert_eq!(app.get("/?p=999").await.status, 200, "the front page, as before");
}

#[tokio::test]
async fn threads_statuses_and_text_come_in_as_they_were_and_nothing_runs() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    // The answer comes before the reply it answers, and that one before its own parent.
    let comments = [
        comment(3, 2, "1", "Third, answering the second."),
        comment(
            2,
            1,
            "1",
            "Second <b>bold</b> <script>alert(1)</script>\n\nNew paragraph &amp; more",
        ),
        comment(1, 0, "1", "First <a href=\"javascript:alert(1)\" onclick=\"x()\">click</a>"),
        // Yesterday's: its address is still within ip_retention_days.
        comment(4, 0, "0", "Held for review").replace(
            "2019-05-22 14:00:00",
            &jiff::Timestamp::now()
                .checked_sub(jiff::SignedDuration::from_hours(24))
                .unwrap()
                .strftime("%Y-%m-%d %H:%M:%S")
                .to_string(),
        ),
        comment(5, 0, "spam", "Buy now"),
        comment(6, 0, "trash", "Binned"),
        comment(7, 0, "post-trashed", "Binned with its post"),
        comment(8, 99, "1", "An answer to a comment not in the file"),
    ]
    .concat();
    let content = "Para one\nline two\n\n<p onclick=\"x()\">Clicked</p><script>alert(1)</script>\
                   <a href=\"javascript:alert(2)\">bad</a><img src=x onerror=alert(3)>";
    let file =
        write(&dir, "site.xml", &wxr(&post(12, "ferry-strike", "publish", content, &comments)));
    let summary = imported(&app, &file, &[]).await;
    assert_eq!(
        summary["imported"]["replies"],
        json!({"approved": 4, "pending": 1, "spam": 1, "trash": 2})
    );
    assert!(summary["notes"].to_string().contains("comment 8 answers comment 99"));

    let page = app.get("/2019/05/22/ferry-strike/").await;
    assert_eq!(page.status, 200);
    let body = page.one(".story-body").inner_html();
    for gone in ["<script", "onclick", "javascript:", "onerror"] {
        assert!(!body.contains(gone), "{gone} in {body}");
        assert!(!page.body.contains(&format!("{gone}alert")), "{gone} on the page");
    }
    assert!(body.contains("<p>Para one<br>\nline two</p>"), "{body}");
    // Replies: nested as they were, text shown as text.
    let second = page.all(".reply-card").into_iter().find(|r| text(*r).contains("Second")).unwrap();
    assert!(text(second).contains("Second bold"), "{}", text(second));
    assert!(!second.inner_html().contains("<b>"));
    assert!(!page.body.contains("alert(1)</script>"));
    let stored = app.queued().await;
    let by_text = |t: &str| stored.iter().find(|q| q.reply.body.contains(t)).unwrap().reply.clone();
    let (first, second, third) = (by_text("First"), by_text("Second"), by_text("Third"));
    assert_eq!(second.parent_id, Some(first.id));
    assert_eq!(third.parent_id, Some(second.id));
    assert_eq!(by_text("not in the file").parent_id, None);
    assert_eq!(second.body, "Second bold\n\nNew paragraph & more");
    assert_eq!(first.body, "First click", "a link to a script keeps its text, not its address");
    let held = stored.iter().find(|q| q.reply.body == "Held for review").unwrap();
    assert_eq!(held.author_email, "reader4@example.com");
    assert_eq!(held.ip.as_deref(), Some("192.0.2.4"));
}

#[tokio::test]
async fn a_dry_run_writes_nothing_and_tells_what_a_run_would_do() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let items = [
        post(1, "one", "publish", "One", &comment(1, 0, "1", "Hi")),
        post(2, "two", "draft", "Two", ""),
        post(3, "three", "trash", "Three", &comment(2, 0, "1", "Gone")),
    ]
    .concat();
    let file = write(&dir, "site.xml", &wxr(&items));
    let dry = imported(&app, &file, &["--dry-run"]).await;
    assert_eq!(dry["dry_run"], true);
    for table in
        [Table::Articles, Table::Authors, Table::Comments, Table::UrlRedirects, Table::ImportMap]
    {
        assert_eq!(app.db(move |db| db.count_rows(table)).await, 0, "{table:?}");
    }
    let real = imported(&app, &file, &[]).await;
    assert_eq!(dry["imported"]["articles"], real["imported"]["articles"]);
    assert_eq!(dry["imported"]["replies"], real["imported"]["replies"]);
    assert_eq!(dry["skipped"], real["skipped"]);
    assert_eq!(real["imported"]["articles"], json!({"published": 1, "draft": 1}));
    assert_eq!(real["skipped"]["posts in the trash"], 1);
}

#[tokio::test]
async fn gzip_and_standard_input_are_read_and_text_arrives_exactly() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let original =
        std::fs::read(data().join("wordpress-importer/wxr-utf-8-challenges.xml")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&original).unwrap();
    let gzipped = write_bytes(&dir, "export.xml.gz", &gz.finish().unwrap());
    let mut child = byline()
        .args(["--database", &database_of(&app), "import", "wordpress", "--json", "-"])
        .stdin(std::fs::File::open(&gzipped).unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap();
    assert!(status.success());
    let page_path = app.db(|db| db.published_articles(0, 1, None)).await[0].clone();
    let article = app.article_by_slug(&page_path.slug).await.unwrap();
    // Bidi overrides, zero-width joiners and emoji, as the file has them.
    let text = String::from_utf8(original).unwrap();
    for exact in ["yel\u{202d}low wo\u{202e}od,\u{202c}", "c𝕠uldn't 𝔱𝔯𝔞𝔳𝔢𝔩", "🚀🌟"]
    {
        assert!(text.contains(exact), "the fixture holds {exact:?}");
        let shown = format!("{} {}", article.body_html, article.standfirst);
        assert!(shown.contains(exact), "{exact:?} not in {shown}");
    }
}

fn write_bytes(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[tokio::test]
async fn a_run_killed_half_way_finishes_when_started_again_without_duplicates() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let posts = 3_000;
    let items: String = (1..=posts)
        .map(|i| post(i, &format!("story-{i}"), "publish", "Text", &comment(i, 0, "1", "Hi")))
        .collect();
    let file = write(&dir, "big.xml", &wxr(&items));
    let mut child = byline()
        .args(["--database", &database_of(&app), "import", "wordpress", "--json"])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Killed once some batches have committed, before all have.
    let mut seen = 0;
    for _ in 0..400 {
        seen = app.db(|db| db.count_rows(Table::Articles)).await;
        if seen > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    Command::new("kill").args(["-KILL", &child.id().to_string()]).status().unwrap();
    tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap();
    let before = app.db(|db| db.count_rows(Table::Articles)).await;
    assert!(seen > 0 && before < u64::from(posts), "killed after {before} articles");
    let summary = imported(&app, &file, &[]).await;
    let fresh = count(&summary, "imported", "articles", "published");
    let there = count(&summary, "already_there", "articles", "published");
    assert_eq!(fresh + there, u64::from(posts));
    assert_eq!(there, before, "what the killed run committed is found, not imported again");
    assert_eq!(app.db(|db| db.count_rows(Table::Articles)).await, u64::from(posts));
    assert_eq!(app.db(|db| db.count_rows(Table::Comments)).await, u64::from(posts));
    assert!(app.article_by_slug("story-1-2").await.is_none(), "no article came in twice");
}

async fn import_disqus(app: &TestApp, file: &Path, extra: &[&str]) -> Output {
    let mut command = byline();
    command.args(["--database", &database_of(app), "import", "disqus", "--json"]);
    command.args(extra).arg(file);
    run(command).await
}

async fn disqus_imported(app: &TestApp, file: &Path) -> Value {
    let output = import_disqus(app, file, &[]).await;
    assert!(
        output.status.success(),
        "{}: {}",
        file.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test]
async fn every_disqus_fixture_is_counted_as_it_stands_or_refused_with_its_place() {
    for (key, facts) in expected() {
        if !key.contains("disqus") {
            continue;
        }
        let app = spawn_app().await;
        let file = fixture(&key);
        if facts["well_formed"] == false {
            let output = import_disqus(&app, &file, &[]).await;
            assert!(!output.status.success(), "{key} is not well-formed, yet it imported");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.contains("line ") && stderr.contains("column "), "{key}: {stderr}");
            assert_eq!(app.db(|db| db.count_rows(Table::Comments)).await, 0, "{key}");
            continue;
        }
        let summary = disqus_imported(&app, &file).await;
        for field in ["threads", "posts", "posts_deleted", "posts_spam", "posts_with_parent"] {
            assert_eq!(summary["file"][field], facts[field], "{key}: {field}");
        }
        // A fresh site has no article for any thread: every post is accounted for, none guessed.
        let skipped = sum(&summary["skipped"], |reason| {
            reason.starts_with("posts") || reason.starts_with("deleted")
        });
        assert_eq!(skipped, facts["posts"].as_u64().unwrap(), "{key}: {}", summary["skipped"]);
        assert_eq!(
            summary["skipped"]["threads that match no article"].as_u64().unwrap_or(0),
            facts["threads"].as_u64().unwrap()
        );
    }
}

fn disqus(threads: &str, posts: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
<category dsq:id="1"><forum>gazette</forum><title>General</title></category>
{threads}
{posts}
</disqus>"#
    )
}

fn thread(id: u32, link: &str) -> String {
    format!(
        r#"<thread dsq:id="{id}"><id/><forum>gazette</forum><link>{link}</link><title>Thread {id}</title>
<createdAt>2019-05-22T10:00:00Z</createdAt></thread>"#
    )
}

fn dsq_post(
    id: u32,
    thread: u32,
    parent: Option<u32>,
    flags: (&str, &str),
    message: &str,
) -> String {
    let parent = parent.map(|p| format!(r#"<parent dsq:id="{p}"/>"#)).unwrap_or_default();
    format!(
        r#"<post dsq:id="{id}"><id/><message><![CDATA[{message}]]></message>
<createdAt>2019-05-23T1{s}:00:00Z</createdAt><isDeleted>{deleted}</isDeleted><isSpam>{spam}</isSpam>
<author><email>d{id}@example.com</email><name>Disqus reader {id}</name><isAnonymous>false</isAnonymous></author>
<ipAddress>198.51.100.{id}</ipAddress><thread dsq:id="{thread}"/>{parent}</post>"#,
        s = id % 10,
        deleted = flags.0,
        spam = flags.1,
    )
}

#[tokio::test]
async fn disqus_threads_find_their_articles_by_address_and_keep_their_shape() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let site = wxr(&[
        post(12, "ferry-strike", "publish", "On strike.", ""),
        post(13, "quay-repairs", "publish", "Repairs.", ""),
    ]
    .concat());
    imported(&app, &write(&dir, "site.xml", &site), &[]).await;
    let native = format!("{}/2019/05/23/quay-repairs/", app.address);
    let threads = [
        thread(1, "http://www.gazette.example/2019/05/ferry-strike?utm_source=feed&amp;fbclid=x"),
        thread(2, &native),
        thread(3, "https://gazette.example/2019/05/never-was/"),
        thread(4, "https://gazette.example/?p=12"),
    ]
    .concat();
    let no = ("false", "false");
    let posts = [
        // An answer before the post it answers, whose own parent is deleted.
        dsq_post(12, 1, Some(11), no, "Answer to the second"),
        dsq_post(11, 1, Some(10), no, "<p>Second, <b>bold</b></p><script>x()</script>"),
        dsq_post(10, 1, None, ("true", "false"), "Deleted, with answers"),
        dsq_post(13, 1, None, ("true", "false"), "Deleted, alone"),
        dsq_post(14, 1, None, ("false", "true"), "Spam"),
        dsq_post(20, 2, None, no, "On the native address"),
        dsq_post(30, 3, None, no, "On a page that never was"),
        dsq_post(40, 4, None, no, "Through ?p=12"),
    ]
    .concat();
    let file = write(&dir, "disqus.xml", &disqus(&threads, &posts));
    let summary = disqus_imported(&app, &file).await;
    assert_eq!(summary["imported"]["replies"], json!({"approved": 4, "spam": 1, "trash": 1}));
    assert_eq!(summary["skipped"]["deleted posts with no replies under them"], 1);
    assert_eq!(summary["skipped"]["posts of threads that match no article"], 1);
    assert_eq!(summary["skipped"]["threads that match no article"], 1);
    assert!(
        summary["notes"].to_string().contains("/2019/05/never-was/"),
        "the unmatched are listed"
    );

    let page = app.get("/2019/05/22/ferry-strike/").await;
    let body = page.one("#replies").inner_html();
    assert!(body.contains("Answer to the second") && body.contains("Through ?p=12"), "{body}");
    assert!(
        !body.contains("Deleted") && !body.contains("Spam") && !body.contains("<script"),
        "{body}"
    );
    assert!(text(page.one("#replies")).contains("Second, bold"));
    let queued = app.queued().await;
    let by = |t: &str| queued.iter().find(|q| q.reply.body.contains(t)).map(|q| q.reply.clone());
    let (second, answer) = (by("Second").unwrap(), by("Answer to the second").unwrap());
    assert_eq!(answer.parent_id, Some(second.id));
    let placeholder = second.parent_id.expect("the deleted parent stays as its placeholder");
    assert!(app.stored(placeholder).await.is_some_and(|r| r.body.is_empty()));
    assert!(app.get("/2019/05/23/quay-repairs/").await.body.contains("On the native address"));

    let again = disqus_imported(&app, &file).await;
    assert!(again["imported"].as_object().is_none_or(|m| m.is_empty()), "{}", again["imported"]);
    assert_eq!(again["already_there"]["replies"], summary["imported"]["replies"]);
}

#[tokio::test]
async fn date_archives_list_a_year_a_month_and_a_day_newest_first() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let items: String =
        (21..=23).map(|i| post(i, &format!("story-{i}"), "publish", "Text", "")).collect();
    imported(&app, &write(&dir, "site.xml", &wxr(&items)), &[]).await;
    let headlines = |page: &crate::helpers::Page| {
        page.all(".summary h2, .summary h3, article h2, article h3")
            .into_iter()
            .map(text)
            .collect::<Vec<_>>()
    };
    let year = app.get("/2019/").await;
    assert_eq!(year.status, 200);
    assert_eq!(text(year.one("h1")), "2019");
    let listed = headlines(&year);
    let order: Vec<usize> = ["Story 23", "Story 22", "Story 21"]
        .iter()
        .map(|h| {
            listed.iter().position(|l| l.contains(h)).unwrap_or_else(|| panic!("{h} in {listed:?}"))
        })
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "newest first: {listed:?}");
    let month = app.get("/2019/05/").await;
    assert_eq!((month.status, text(month.one("h1"))), (200, "May 2019".to_owned()));
    let day = app.get("/2019/05/22/").await;
    assert_eq!(text(day.one("h1")), "22 May 2019");
    let listed = headlines(&day);
    assert!(
        listed.iter().any(|h| h.contains("Story 22"))
            && !listed.iter().any(|h| h.contains("Story 21")),
        "{listed:?}"
    );
    for (asked, canonical) in [
        ("/2019/5/", "/2019/05/"),
        ("/2019/page/1/", "/2019/"),
        ("/?m=201905", "/2019/05/"),
        ("/?m=2019", "/2019/"),
    ] {
        let page = app.get(asked).await;
        assert_eq!((page.status, page.location()), (301, canonical), "{asked}");
    }
    for nothing in ["/2019/06/", "/2018/", "/2019/13/", "/2019/02/30/", "/2019/page/2/", "/abcd/"] {
        assert_eq!(app.get(nothing).await.status, 404, "{nothing}");
    }
}

/// A public page as both sites must show it: the form token (signed with each site's own
/// key) and the site's own address left out.
fn comparable(body: &str, app: &TestApp) -> String {
    let mut out = body.replace(&app.address, "SITE");
    while let Some(at) = out.find(r#"name="token" value=""#) {
        let start = at + r#"name="token" value=""#.len();
        let end = start + out[start..].find('"').unwrap_or(0);
        out.replace_range(at..end, "TOKEN");
    }
    out
}

/// Every public page a reader can reach from the front page, the sitemap and the listings.
async fn public_pages(app: &TestApp) -> Vec<String> {
    let mut paths =
        vec!["/".to_owned(), "/page/2/".into(), "/feed.atom".into(), "/sitemap.xml".into()];
    let sitemap = app.get("/sitemap.xml").await.body;
    for loc in sitemap.split("<loc>").skip(1) {
        let url = loc.split("</loc>").next().unwrap();
        let path = url
            .split_once("://")
            .map_or(url, |(_, rest)| &rest[rest.find('/').unwrap_or(rest.len())..]);
        paths.push(path.to_owned());
        paths.push(format!("{path}feed.atom"));
    }
    let front = app.get("/").await;
    for link in front.all("a[href^='/section/'], a[href^='/author/'], a[href^='/tag/']") {
        paths.push(crate::helpers::attr(link, "href").to_owned());
    }
    let article = paths.iter().find(|p| p.matches('/').count() == 5).cloned().unwrap();
    let page = app.get(&article).await;
    for link in page.all("a[href^='/tag/'], a[href^='/author/']") {
        paths.push(crate::helpers::attr(link, "href").to_owned());
    }
    paths.sort();
    paths.dedup();
    paths
}

#[tokio::test]
async fn a_json_export_makes_the_same_site_in_an_empty_database() {
    let first = spawn_app().await;
    let database = database_of(&first);
    let generated = byline()
        .args(["--database", &database, "generate", "--articles", "30"])
        .args(["--replies-per-article", "3", "--lead-replies", "25"])
        .output_off_runtime()
        .await;
    assert!(generated.status.success(), "{}", String::from_utf8_lossy(&generated.stderr));
    // Imported content too: old addresses, the import map, an imported author's reply.
    let dir = tempfile::tempdir().unwrap();
    let site = wxr(&[
        post(12, "ferry-strike", "publish", "On strike.", &comment(1, 0, "1", "Hi")),
        wp_page(41, 0, "about", "publish", "Who we are."),
        wp_page(42, 41, "team", "publish", "Eve and Ann."),
    ]
    .concat());
    imported(&first, &write(&dir, "site.xml", &site), &[]).await;
    let dump = dir.path().join("site.jsonl");
    let exported = byline()
        .args(["--database", &database, "export", "--format", "json", "--output"])
        .arg(&dump)
        .output_off_runtime()
        .await;
    assert!(exported.status.success(), "{}", String::from_utf8_lossy(&exported.stderr));
    let text = std::fs::read_to_string(&dump).unwrap();
    let header: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(
        (header["format"].as_str(), header["version"].as_u64()),
        (Some("byline-site"), Some(1))
    );
    let secret = first.setting(byline::store::SiteSetting::Secret).await.unwrap();
    assert!(!text.contains(&secret), "the signing key stays behind");

    let second = spawn_app().await;
    // A file with a bad line anywhere is refused before any row is written.
    let corrupt = dir.path().join("corrupt.jsonl");
    std::fs::write(&corrupt, format!("{text}{{\"table\": \"nope\", \"row\": []}}\n")).unwrap();
    let refused = byline()
        .args(["--database", &database_of(&second), "import", "json"])
        .arg(&corrupt)
        .output_off_runtime()
        .await;
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    let last = text.lines().count() + 1;
    assert!(stderr.contains(&format!("line {last}")) && stderr.contains("nope"), "{stderr}");
    assert_eq!(second.db(|db| db.count_rows(Table::Articles)).await, 0, "nothing half-imported");
    let loaded = byline()
        .args(["--database", &database_of(&second), "import", "json"])
        .arg(&dump)
        .output_off_runtime()
        .await;
    assert!(loaded.status.success(), "{}", String::from_utf8_lossy(&loaded.stderr));
    let again = byline()
        .args(["--database", &database_of(&second), "import", "json"])
        .arg(&dump)
        .output_off_runtime()
        .await;
    assert!(!again.status.success(), "a second import into a site with data is refused");
    assert!(String::from_utf8_lossy(&again.stderr).contains("empty database"));

    let paths = public_pages(&first).await;
    assert!(paths.len() > 40, "{paths:?}");
    for path in &paths {
        let (a, b) = (first.get(path).await, second.get(path).await);
        assert_eq!(a.status, b.status, "{path}");
        assert_eq!(comparable(&a.body, &first), comparable(&b.body, &second), "{path}");
    }
    for old in ["/2019/05/ferry-strike/", "/?p=12"] {
        assert_eq!(first.get(old).await.location(), second.get(old).await.location(), "{old}");
    }
    // New rows take ids past the copied ones (a deleted reply's id is never handed out again).
    for table in [Table::Articles, Table::Comments, Table::Authors] {
        let (a, b) = (
            first.db(move |db| db.next_id(table)).await,
            second.db(move |db| db.next_id(table)).await,
        );
        assert_eq!(a, b, "{table:?}");
    }
}

/// Element names under `<item>` and `<wp:comment>` of a WXR file, and of the channel.
fn element_names(path: &Path) -> std::collections::BTreeSet<String> {
    let source = byline::tools::import::xml::Source::open(path).unwrap();
    let mut names = std::collections::BTreeSet::new();
    fn walk(
        prefix: &str,
        node: &byline::tools::import::xml::Node,
        names: &mut std::collections::BTreeSet<String>,
    ) {
        let here = format!("{prefix}/{}", node.name);
        for child in &node.children {
            walk(&here, child, names);
        }
        names.insert(here);
    }
    byline::tools::import::xml::walk(&source, 3, |_, node| {
        walk("channel", &node, &mut names);
        Ok(())
    })
    .unwrap();
    names
}

#[tokio::test]
async fn a_wxr_export_is_shaped_as_wordpress_writes_one_and_imports_back_the_same_pages() {
    let first = spawn_app().await;
    let database = database_of(&first);
    let generated = byline()
        .args(["--database", &database, "generate", "--articles", "12"])
        .args(["--replies-per-article", "4", "--lead-replies", "9"])
        .output_off_runtime()
        .await;
    assert!(generated.status.success());
    // A reply typed with markup and a held one: both must come back as they were.
    let dir = tempfile::tempdir().unwrap();
    let story = post(
        12,
        "ferry-strike",
        "publish",
        "On strike.",
        &[
            comment(1, 0, "1", "I typed &lt;b&gt;this&lt;/b&gt; &amp; that"),
            comment(2, 1, "0", "Held"),
        ]
        .concat(),
    );
    let pages = [
        wp_page(42, 41, "team", "publish", "Eve and Ann.")
            .replace("</item>", &format!("{}</item>", comment(8, 0, "1", "Hello team"))),
        wp_page(41, 0, "about", "publish", "Who we are."),
        wp_page(43, 0, "plans", "draft", "Not yet."),
    ];
    let site = wxr(&[story, pages.concat()].concat());
    imported(&first, &write(&dir, "site.xml", &site), &[]).await;
    let typed = first.queued().await.into_iter().find(|q| q.reply.body.contains("typed")).unwrap();
    assert_eq!(typed.reply.body, "I typed <b>this</b> & that");

    let file = dir.path().join("export.xml");
    let exported = byline()
        .args(["--database", &database, "export", "--format", "wxr", "--output"])
        .arg(&file)
        .output_off_runtime()
        .await;
    assert!(exported.status.success(), "{}", String::from_utf8_lossy(&exported.stderr));

    // Every element Byline writes is one WordPress's own exports have, where they have it.
    let ours = element_names(&file);
    let mut theirs = std::collections::BTreeSet::new();
    for fixture in
        ["small-export.xml", "e2e-wxr-comprehensive.xml", "valid-wxr-1.1.xml", "wxr-simple.xml"]
    {
        theirs.extend(element_names(&data().join("wordpress-importer").join(fixture)));
    }
    let unknown: Vec<&String> = ours.difference(&theirs).collect();
    assert!(unknown.is_empty(), "elements WordPress does not write: {unknown:?}");
    for needed in [
        "channel/item/wp:post_id",
        "channel/item/wp:comment/wp:comment_parent",
        "channel/wp:author/wp:author_login",
        "channel/wp:wxr_version",
    ] {
        assert!(ours.contains(needed), "{needed}");
    }

    // Into an empty Byline: the same articles at the same addresses, the same replies.
    let second = spawn_app().await;
    let summary = imported(&second, &file, &[]).await;
    let published = first.db(|db| db.count_published_articles(None)).await;
    assert_eq!(count(&summary, "imported", "articles", "published"), published);
    let paths = |sitemap: String| {
        let mut p: Vec<String> = sitemap
            .split("<loc>")
            .skip(1)
            .filter_map(|l| Some(l.split("</loc>").next()?.split_once("/20")?.1.to_owned()))
            .collect();
        p.sort();
        p
    };
    assert_eq!(
        paths(first.get("/sitemap.xml").await.body),
        paths(second.get("/sitemap.xml").await.body)
    );
    let articles = first.db(|db| db.published_articles(0, 100, None)).await;
    for summary in articles {
        let path = byline::domain::paths::article_path(
            summary.date_path.as_deref().unwrap(),
            &summary.slug,
        );
        let (a, b) = (first.get(&path).await, second.get(&path).await);
        assert_eq!(b.status, 200, "{path}");
        assert_eq!(text(a.one("h1")), text(b.one("h1")), "{path}");
        assert_eq!(text(a.one(".story-body")), text(b.one(".story-body")), "{path}");
        let replies = |p: &crate::helpers::Page| {
            p.all(".reply-text").into_iter().map(text).collect::<Vec<_>>()
        };
        assert_eq!(replies(&a), replies(&b), "{path}");
        assert_eq!(
            a.all(".replies .replies, ol ol").len(),
            b.all(".replies .replies, ol ol").len(),
            "{path}: nesting"
        );
    }
    assert_eq!(statuses(&first).await, statuses(&second).await);
    // The pages, with their hierarchy and statuses.
    assert_eq!(summary["imported"]["pages"], json!({"published": 2, "draft": 1}));
    for path in ["/about/", "/about/team/"] {
        let (a, b) = (first.get(path).await, second.get(path).await);
        assert_eq!((a.status, b.status), (200, 200), "{path}");
        assert_eq!(text(a.one("main h1")), text(b.one("main h1")), "{path}");
        assert_eq!(text(a.one(".story-body")), text(b.one(".story-body")), "{path}");
        let replies = |p: &crate::helpers::Page| {
            p.all(".reply-text").into_iter().map(text).collect::<Vec<_>>()
        };
        assert_eq!(replies(&a), replies(&b), "{path}: its replies");
    }
    assert_eq!(second.get("/plans/").await.status, 404);
}

async fn statuses(app: &TestApp) -> Vec<(String, String)> {
    let mut s: Vec<(String, String)> = app
        .queued()
        .await
        .into_iter()
        .map(|q| (q.reply.body, q.reply.status.as_str().to_owned()))
        .collect();
    s.sort();
    s
}

#[tokio::test]
async fn terms_keep_their_own_old_addresses_and_comments_without_ids_all_come_in_once() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let terms = r#"<category domain="category" nicename="main"><![CDATA[Main]]></category>
<category domain="category" nicename="boats-cat"><![CDATA[Boats]]></category>
<category domain="post_tag" nicename="boats"><![CDATA[Boats]]></category>
<category domain="post_tag" nicename="harbour"><![CDATA[Harbour]]></category>"#;
    let nameless =
        [comment(0, 0, "1", "First without an id"), comment(0, 0, "1", "Second without an id")]
            .concat()
            .replace("<wp:comment_id>0</wp:comment_id>", "");
    let item = post(12, "ferry-strike", "publish", "On strike.", &nameless).replace(
        r#"<category domain="category" nicename="port"><![CDATA[Port &amp; Quay]]></category>
<category domain="post_tag" nicename="ferries"><![CDATA[Ferries]]></category>"#,
        terms,
    );
    let file = write(&dir, "site.xml", &wxr(&item));
    let summary = imported(&app, &file, &[]).await;
    assert_eq!(count(&summary, "imported", "replies", "approved"), 2, "{}", summary["imported"]);
    for (old, to) in [
        ("/?tag=harbour", "/tag/harbour/"),
        ("/?tag=boats", "/tag/boats/"),
        ("/category/boats-cat/", "/tag/boats/"),
        ("/category/main/", "/section/main/"),
    ] {
        let page = app.get(old).await;
        assert_eq!((page.status, page.location()), (301, to), "{old}");
    }
    assert_eq!(app.get("/tag/harbour/").await.status, 200);
    let again = imported(&app, &file, &[]).await;
    assert_eq!(again["already_there"]["replies"]["approved"], 2);
    assert!(again["imported"].as_object().is_none_or(|m| m.is_empty()));
}

/// Text as CDATA can carry it: a `]]>` split across two sections, as WordPress writes it;
/// characters XML 1.0 cannot hold are left out (no export can carry them).
fn cdata_text(s: &str) -> String {
    let kept: String = s
        .chars()
        .filter(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..))
        .collect();
    kept.replace("]]>", "]]]]><![CDATA[>")
}

#[tokio::test]
async fn naughty_strings_as_titles_slugs_bodies_and_comments_import_and_nothing_runs() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let items: String = crate::naughty::naughty_strings()
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let s = cdata_text(s);
            let i = i as u32 + 1;
            post(i, "x", "publish", &s, &comment(i, 0, "1", &s))
                .replace(&format!("<![CDATA[Story {i}: x]]>"), &format!("<![CDATA[{s}]]>"))
                .replace(
                    "<wp:post_name><![CDATA[x]]></wp:post_name>",
                    &format!("<wp:post_name><![CDATA[{s}]]></wp:post_name>"),
                )
        })
        .collect();
    let summary = imported(&app, &write(&dir, "naughty.xml", &wxr(&items)), &[]).await;
    let n = crate::naughty::naughty_strings().len() as u64;
    assert_eq!(count(&summary, "imported", "articles", "published"), n);
    assert_eq!(count(&summary, "imported", "replies", "approved"), n);
    let articles = app.db(|db| db.published_articles(0, 5_000, None)).await;
    for summary in articles.iter().step_by(7) {
        let path = byline::domain::paths::article_path(
            summary.date_path.as_deref().unwrap(),
            &summary.slug,
        );
        let page = app.get(&path).await;
        assert_eq!(page.status, 200, "{path}");
        let story = page.one(".story-body");
        let any = scraper::Selector::parse("*").unwrap();
        for element in story.select(&any) {
            let tag = element.value().name();
            assert!(
                !matches!(tag, "script" | "iframe" | "object" | "embed" | "style"),
                "<{tag}> in {path}"
            );
            for (name, value) in element.value().attrs() {
                assert!(!name.starts_with("on"), "{name}= in {path}");
                if matches!(name, "href" | "src") {
                    // A scheme, if the address has one, is one that cannot run.
                    let value = value.trim();
                    let scheme = value.split_once(':').map(|(s, _)| s).filter(|s| {
                        s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                            && s.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                    });
                    assert!(
                        scheme.is_none_or(|s| ["http", "https", "mailto"]
                            .contains(&s.to_ascii_lowercase().as_str())),
                        "{name}={value:?} in {path}"
                    );
                }
            }
        }
        for reply in page.all(".reply-text") {
            assert!(
                reply
                    .select(&scraper::Selector::parse("script, img, iframe").unwrap())
                    .next()
                    .is_none()
            );
        }
    }
}

pub(crate) fn wp_page(id: u32, parent: u32, slug: &str, status: &str, content: &str) -> String {
    post(id, slug, status, content, "")
        .replace(
            "<wp:post_type><![CDATA[post]]></wp:post_type>",
            "<wp:post_type><![CDATA[page]]></wp:post_type>",
        )
        .replace(&format!("/2019/05/{slug}/</link>"), &format!("/{slug}/</link>"))
        .replace(&format!("/?p={id}</guid>"), &format!("/?page_id={id}</guid>"))
        .replace(
            "<wp:is_sticky>0</wp:is_sticky>",
            &format!("<wp:post_parent>{parent}</wp:post_parent>"),
        )
}

#[tokio::test]
async fn wordpress_pages_become_static_pages_with_their_hierarchy_and_old_addresses() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    // The child comes first, a grandchild before both; one page takes a route's word.
    let items = [
        wp_page(42, 41, "team", "publish", "Eve and Ann."),
        wp_page(43, 42, "london", "publish", "The London desk."),
        wp_page(41, 0, "about", "publish", "Who we are.\n\nSince 1851.")
            .replace("</item>", &format!("{}</item>", comment(7, 0, "1", "Since when?"))),
        wp_page(44, 0, "search", "publish", "How to search our archive."),
        wp_page(45, 0, "plans", "draft", "Not yet."),
        wp_page(46, 0, "old", "trash", "Gone."),
        post(21, "a-story", "publish", "News.", ""),
    ]
    .concat();
    let file = write(&dir, "site.xml", &wxr(&items));
    let summary = imported(&app, &file, &[]).await;
    assert_eq!(summary["imported"]["pages"], json!({"published": 4, "draft": 1}));
    assert_eq!(summary["skipped"]["pages in the trash"], 1);
    let notes = summary["notes"].to_string();
    assert!(notes.contains("/search/") && notes.contains("/search-2/"), "{notes}");

    let about = app.get("/about/").await;
    assert_eq!(about.status, 200);
    assert_eq!(text(about.one("main h1")), "Story 41: about");
    assert_eq!(about.all("main .story-body p").len(), 2, "paragraphs as WordPress showed them");
    assert_eq!(text(about.one(".reply-text")), "Since when?", "a page's comments are its replies");
    assert!(about.has("form.reply-form"), "open to comments there, open here");
    assert_eq!(text(app.get("/about/team/london/").await.one("main h1")), "Story 43: london");
    assert_eq!(app.get("/search-2/").await.status, 200);
    assert_eq!(app.get("/plans/").await.status, 404, "a draft is not public");
    for (old, new) in [
        ("/?page_id=42", "/about/team/"),
        ("/?page_id=44", "/search-2/"),
        // The old page's own link: Byline's search is `/search`, without the slash.
        ("/search/", "/search-2/"),
    ] {
        let answer = app.get(old).await;
        assert_eq!((answer.status, answer.location()), (301, new), "{old}");
    }
    assert_eq!(app.get("/search?q=archive").await.status, 200, "Byline's own search stays");
    // The newsroom shows them, in their hierarchy.
    app.add_staff("ed@example.com", "Ed", byline::domain::Role::Editor).await;
    let staff = app.sign_in("ed@example.com").await;
    let list = app.staff_get(&staff, "/admin/pages/").await;
    let titles: Vec<String> = list.all(".page-table .edit-link").into_iter().map(text).collect();
    assert_eq!(titles[..3], ["Story 41: about", "Story 42: team", "Story 43: london"]);

    let again = imported(&app, &file, &[]).await;
    assert_eq!(again["already_there"]["pages"], summary["imported"]["pages"]);
    assert!(again["imported"].as_object().is_none_or(|m| m.is_empty()));

    // A later export with a new comment on a page: that one comes in, the rest are there.
    let newer = items.replace(
        &comment(7, 0, "1", "Since when?"),
        &[comment(7, 0, "1", "Since when?"), comment(70, 7, "1", "Since 1851")].concat(),
    );
    let later = imported(&app, &write(&dir, "later.xml", &wxr(&newer)), &[]).await;
    assert_eq!(later["imported"]["replies"], json!({"approved": 1}), "{later}");
    assert_eq!(later["already_there"]["replies"]["approved"], 1);
    assert_eq!(app.get("/about/").await.all(".reply-text").len(), 2);
    // A closed page whose only comment is a skipped pingback shows no replies section.
    let ping = comment(71, 0, "1", "Linked").replace("[CDATA[comment]]", "[CDATA[pingback]]");
    let quiet = wp_page(51, 0, "quiet", "publish", "Nothing to say.")
        .replace("[CDATA[open]]", "[CDATA[closed]]")
        .replace("</item>", &format!("{ping}</item>"));
    imported(&app, &write(&dir, "quiet.xml", &wxr(&quiet)), &[]).await;
    let page = app.get("/quiet/").await;
    assert!(!page.has("#replies") && !page.has(".replies-closed"), "{}", page.body);

    // A slug in another script: its address is found decoded, with no redirect to itself.
    let other = wxr(&wp_page(50, 0, "%C3%BCber-uns", "publish", "Wir."));
    imported(&app, &write(&dir, "other.xml", &other), &[]).await;
    assert_eq!(app.get("/%C3%BCber-uns/").await.status, 200);
    let self_loop = app.db(|db| db.url_redirect("/über-uns/")).await;
    assert_eq!(self_loop, None, "no redirect from a page's address to itself");
    assert_eq!(app.get("/?page_id=50").await.location(), "/%C3%BCber-uns/");
    assert!(again["imported"].as_object().is_none_or(|m| m.is_empty()));
}

#[tokio::test]
async fn pingbacks_kept_on_request_show_as_link_backs_under_their_article() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let ping = comment(9, 0, "1", "[…] as the Gazette reported […]")
        .replace("[CDATA[comment]]", "[CDATA[pingback]]")
        .replace("[CDATA[Reader 9]]", "[CDATA[The Other Paper]]");
    let track = comment(8, 0, "spam", "Buy now").replace("[CDATA[comment]]", "[CDATA[trackback]]");
    let replies = [comment(1, 0, "1", "A reader's words"), ping, track].concat();
    let file = write(&dir, "site.xml", &wxr(&post(26, "linked", "publish", "Body.", &replies)));
    let summary = imported(&app, &file, &["--pingbacks", "keep"]).await;
    assert_eq!(summary["imported"]["link-backs"], json!({"approved": 1, "spam": 1}));
    assert_eq!(summary["imported"]["replies"], json!({"approved": 1}));
    assert!(summary["skipped"].get("pingbacks and trackbacks").is_none());
    let article = app.article_by_slug("linked").await.unwrap();
    let page = app.get(&article.public_path().unwrap()).await;
    let cards = page.all(".reply-card");
    assert_eq!(cards.len(), 2, "the spam trackback is not shown");
    let marked: Vec<String> = cards
        .iter()
        .filter(|c| {
            c.select(&scraper::Selector::parse(".link-back-badge").unwrap()).next().is_some()
        })
        .map(|c| text(*c))
        .collect();
    assert_eq!(marked.len(), 1);
    assert!(marked[0].contains("The Other Paper") && marked[0].contains("as the Gazette reported"));
    // A second run with the same choice brings nothing new.
    let again = imported(&app, &file, &["--pingbacks", "keep"]).await;
    assert_eq!(again["already_there"]["link-backs"], summary["imported"]["link-backs"]);

    // Out again as WordPress writes them, and back in as link-backs.
    let out = dir.path().join("out.xml");
    let exported = byline()
        .args(["--database", &database_of(&app), "export", "--format", "wxr", "--output"])
        .arg(&out)
        .output_off_runtime()
        .await;
    assert!(exported.status.success());
    let written = std::fs::read_to_string(&out).unwrap();
    assert_eq!(written.matches("<wp:comment_type><![CDATA[pingback]]>").count(), 2);
    let other = spawn_app().await;
    let back = imported(&other, &out, &["--pingbacks", "keep"]).await;
    assert_eq!(back["imported"]["link-backs"], summary["imported"]["link-backs"]);
}

#[tokio::test]
async fn a_dump_from_before_link_backs_imports_with_none() {
    let first = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let site = wxr(&post(12, "ferry-strike", "publish", "On strike.", &comment(1, 0, "1", "Hi")));
    imported(&first, &write(&dir, "site.xml", &site), &[]).await;
    let dump = dir.path().join("site.jsonl");
    let exported = byline()
        .args(["--database", &database_of(&first), "export", "--format", "json", "--output"])
        .arg(&dump)
        .output_off_runtime()
        .await;
    assert!(exported.status.success());
    // The dump as a Byline without `comments.link_back` wrote it.
    let text = std::fs::read_to_string(&dump).unwrap();
    let mut lines = text.lines();
    let mut header: Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    let columns = header["tables"]["comments"].as_array_mut().unwrap();
    let at = columns.iter().position(|c| c == "link_back").expect("the column is dumped");
    columns.remove(at);
    let mut older = vec![header.to_string()];
    for line in lines {
        let mut row: Value = serde_json::from_str(line).unwrap();
        if row["table"] == "comments" {
            row["row"].as_array_mut().unwrap().remove(at);
        }
        older.push(row.to_string());
    }
    let file = write(&dir, "older.jsonl", &older.join("\n"));
    let second = spawn_app().await;
    let loaded = byline()
        .args(["--database", &database_of(&second), "import", "json"])
        .arg(&file)
        .output_off_runtime()
        .await;
    assert!(loaded.status.success(), "{}", String::from_utf8_lossy(&loaded.stderr));
    let page = second.get("/2019/05/22/ferry-strike/").await;
    assert_eq!(page.all(".reply-card").len(), 1);
    assert!(!page.has(".link-back-badge"));
}

#[tokio::test]
async fn schedules_passwords_stickies_pings_and_closed_posts_follow_the_mapping() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let ahead = jiff::Timestamp::now().checked_add(jiff::SignedDuration::from_hours(48)).unwrap();
    let ahead = ahead.strftime("%Y-%m-%d %H:%M:%S").to_string();
    let ping = comment(9, 0, "1", "Linked from elsewhere").replace(
        "<wp:comment_type><![CDATA[comment]]></wp:comment_type>",
        "<wp:comment_type><![CDATA[pingback]]></wp:comment_type>",
    );
    let items = [
        post(21, "due-later", "future", "Later.", "").replace("2019-05-21 10:00:00", &ahead),
        post(22, "missed", "future", "Missed.", ""),
        post(23, "secret", "publish", "Hidden.", "").replace(
            "<wp:post_password><![CDATA[]]></wp:post_password>",
            "<wp:post_password><![CDATA[pw]]></wp:post_password>",
        ),
        post(24, "old-sticky", "publish", "Old lead.", "")
            .replace("<wp:is_sticky>0</wp:is_sticky>", "<wp:is_sticky>1</wp:is_sticky>"),
        post(25, "new-sticky", "publish", "New lead.", "")
            .replace("<wp:is_sticky>0</wp:is_sticky>", "<wp:is_sticky>1</wp:is_sticky>"),
        post(
            26,
            "closed",
            "publish",
            "Closed.",
            &[comment(1, 0, "1", "Before it closed"), ping].concat(),
        )
        .replace(
            "<wp:comment_status><![CDATA[open]]></wp:comment_status>",
            "<wp:comment_status><![CDATA[closed]]></wp:comment_status>",
        ),
    ]
    .concat();
    let summary = imported(&app, &write(&dir, "site.xml", &wxr(&items)), &[]).await;
    assert_eq!(
        summary["imported"]["articles"],
        json!({"scheduled": 1, "draft": 2, "published": 3})
    );
    let notes = summary["notes"].to_string();
    assert!(notes.contains("post 22") && notes.contains("missed schedule"), "{notes}");
    assert!(notes.contains("post 23 is password-protected"), "{notes}");
    assert_eq!(summary["skipped"]["pingbacks and trackbacks"], 1);
    // The most recent sticky post leads the front page.
    let lead = app.setting(byline::store::SiteSetting::LeadArticle).await.unwrap();
    let newest = app.article_by_slug("new-sticky").await.unwrap();
    assert_eq!(lead, newest.id.to_string());
    // A closed post's replies come in; it stays closed.
    let closed = app.article_by_slug("closed").await.unwrap();
    assert!(!closed.replies_open);
    let page = app.get(&closed.public_path().unwrap()).await;
    assert!(text(page.one("#replies")).contains("Before it closed"));
    assert!(!page.has("form.reply-form"), "no form on a closed article");
    assert!(app.article_by_slug("secret").await.is_none(), "a password-protected post is a draft");
}
