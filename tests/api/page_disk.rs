//! The page cache's second tier, on disk: pages served from their files, made unreachable at
//! once by every change that makes them stale (here and on another node), kept within their
//! size, never served once cut short or changed on disk, and not trusted after a restart.
//! Memory holds nothing in these tests (`page_cache_memory_mb` = 0), so that every page served
//! from the cache comes from disk.

use std::time::{Duration, Instant};

use byline::domain::{ReplyStatus, Role, SettingKey};
use byline::store::SiteSetting;

use byline::services::publishing::Draft;

use crate::helpers::*;

const ON_DISK: &[(&str, &str)] =
    &[("moderation", "none"), ("page_cache", "on"), ("page_cache_memory_mb", "0")];

/// Reads these pages until each is on disk (written after the answer, off the workers; a
/// node's listener on PostgreSQL forgets everything once when it connects).
async fn on_disk(app: &TestApp, paths: &[&str]) {
    let disk = app.state.pages.disk().expect("a disk tier");
    let started = Instant::now();
    while !paths.iter().all(|path| disk.get(path).is_some()) {
        assert!(started.elapsed() < Duration::from_secs(10), "the pages never stayed on disk");
        for path in paths {
            app.get(path).await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn disk_hits(app: &TestApp) -> u64 {
    let disk = app.state.pages.disk().unwrap();
    disk.hits.load(std::sync::atomic::Ordering::Relaxed)
}

/// The files of `app`'s pages on disk (not the compressed copies).
fn page_files(app: &TestApp) -> Vec<std::path::PathBuf> {
    let dir = app.state.pages.disk().unwrap().dir().to_owned();
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "page"))
        .collect()
}

#[tokio::test]
async fn a_reply_an_edit_an_unpublish_and_a_setting_each_make_the_page_on_disk_unreachable() {
    let app = spawn_with(ON_DISK).await;
    app.add_staff("ed@example.com", "Edith Editor", Role::Editor).await;
    let staff = app.sign_in("ed@example.com").await;
    let published = app.publish("Kept on disk").await;
    let path = published.path.clone();
    let other = app.publish("Another story").await.path;
    on_disk(&app, &[&path, &other, "/"]).await;
    assert!(app.state.pages.is_empty(), "memory keeps nothing here");

    // Behind the site's back, the page on disk is still served: it comes from the file.
    let article = app.article_by_slug("kept-on-disk").await.unwrap();
    let hidden = app.seed_reply(article.id, None, "Behind the back", ReplyStatus::Approved).await;
    let hits = disk_hits(&app);
    let page = app.get(&path).await;
    assert!(!page.has(&format!("li#comment-{hidden}")), "served from disk");
    assert_eq!(disk_hits(&app), hits + 1);

    // A reply through the site: its article's page and the listings, at once; not the other.
    let id = app.reply(&path, &reply_with(&[("comment", "Through the site")])).await;
    let page = app.get(&path).await;
    assert!(page.has(&format!("li#comment-{id}")) && page.has(&format!("li#comment-{hidden}")));
    let hits = disk_hits(&app);
    app.get(&other).await;
    assert_eq!(disk_hits(&app), hits + 1, "another article's page stays on disk");

    // An edit.
    on_disk(&app, &[&path, &other, "/"]).await;
    let edit = format!("/admin/articles/{}/", article.id);
    let fields =
        [("headline", "Kept on disk, corrected"), ("body", "New text."), ("slug", "kept-on-disk")];
    let saved =
        app.staff_post(&staff, &edit, &[&fields[..], &[("action", "publish")]].concat()).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(text(app.get(&path).await.one("h1")), "Kept on disk, corrected");
    assert!(app.get("/").await.body.contains("Kept on disk, corrected"));

    // An unpublish.
    on_disk(&app, &[&path, &other, "/"]).await;
    let back =
        app.staff_post(&staff, &edit, &[&fields[..], &[("action", "unpublish")]].concat()).await;
    assert_eq!(back.status, 303);
    assert_eq!(app.get(&path).await.status, 404, "gone at once");
    assert!(!app.get("/").await.body.contains("Kept on disk"));

    // A setting: every page shows the site's title.
    on_disk(&app, &[&other, "/"]).await;
    app.set_setting(SiteSetting::Discussion(SettingKey::SiteTitle), "The Harbour Gazette").await;
    assert!(app.state.pages.disk().unwrap().is_empty());
    for page in [&other, "/"] {
        assert!(app.get(page).await.body.contains("The Harbour Gazette"), "{page}");
    }
}

#[tokio::test]
async fn a_reply_an_edit_an_unpublish_and_a_setting_on_one_node_reach_the_other_nodes_disk() {
    let a = spawn_on(Backend::Postgres, ON_DISK).await;
    let b = restart(&a, ON_DISK).await;
    assert_ne!(a.state.pages.disk().unwrap().dir(), b.state.pages.disk().unwrap().dir());
    a.add_staff("ed@example.com", "Edith Editor", Role::Editor).await;
    let staff = a.sign_in("ed@example.com").await;
    let path = a.publish("Two nodes, two folders").await.path;
    let other = a.publish("Another story on two nodes").await.path;
    let article = a.article_by_slug("two-nodes-two-folders").await.unwrap();

    on_disk(&b, &[&path, &other]).await;
    let id = a.reply(&path, &reply_with(&[("comment", "Posted on A")])).await;
    until(&b, &path, "the reply", |p| p.has(&format!("li#comment-{id}"))).await;

    on_disk(&b, &[&path]).await;
    let edit = format!("/admin/articles/{}/", article.id);
    let fields =
        [("headline", "Two nodes, corrected"), ("body", "New."), ("slug", "two-nodes-two-folders")];
    let saved =
        a.staff_post(&staff, &edit, &[&fields[..], &[("action", "publish")]].concat()).await;
    assert_eq!(saved.status, 303);
    until(&b, &path, "the edit", |p| p.body.contains("Two nodes, corrected")).await;

    on_disk(&b, &[&path, &other]).await;
    let back =
        a.staff_post(&staff, &edit, &[&fields[..], &[("action", "unpublish")]].concat()).await;
    assert_eq!(back.status, 303);
    until(&b, &path, "the unpublish", |p| p.status == 404).await;

    on_disk(&b, &[&other]).await;
    a.set_setting(SiteSetting::Discussion(SettingKey::SiteTitle), "The Two-Node Gazette").await;
    until(&b, &other, "the setting", |p| p.body.contains("The Two-Node Gazette")).await;
}

/// Reads `path` on `node` until `shows` holds, within five seconds.
async fn until(node: &TestApp, path: &str, what: &str, shows: impl Fn(&Page) -> bool) {
    let started = Instant::now();
    while !shows(&node.get(path).await) {
        assert!(started.elapsed() < Duration::from_secs(5), "{what} never reached the other node");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!("{what} reached the other node's disk tier after {:?}", started.elapsed());
}

#[tokio::test]
async fn a_page_cut_short_or_changed_on_disk_is_never_served() {
    let app = spawn_with(ON_DISK).await;
    let path = app.publish("Fragile").await.path;
    on_disk(&app, &[&path]).await;
    let good = app.get(&path).await;
    assert_eq!(good.status, 200);
    let [file] = &page_files(&app)[..] else { panic!("one page file") };
    let written = std::fs::read(file).unwrap();
    // Cut short.
    std::fs::write(file, &written[..written.len() / 2]).unwrap();
    let page = app.get(&path).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Fragile") && page.body.trim_end().ends_with("</html>"));
    // The same length, the headline changed.
    on_disk(&app, &[&path]).await;
    let [file] = &page_files(&app)[..] else { panic!("one page file") };
    let written = String::from_utf8(std::fs::read(file).unwrap()).unwrap();
    std::fs::write(file, written.replace("Fragile", "Fragilf")).unwrap();
    let page = app.get(&path).await;
    assert!(page.body.contains("Fragile") && !page.body.contains("Fragilf"));
    // Removed.
    on_disk(&app, &[&path]).await;
    for file in page_files(&app) {
        std::fs::remove_file(file).unwrap();
    }
    assert!(app.get(&path).await.body.contains("Fragile"));
}

#[tokio::test]
async fn the_pages_on_disk_stay_within_their_size_least_recently_used_out_first() {
    let app = spawn_with(&[
        ("moderation", "none"),
        ("page_cache", "on"),
        ("page_cache_memory_mb", "0"),
        ("page_cache_disk_mb", "1"),
    ])
    .await;
    let body = "A paragraph of the archive, long enough to weigh. ".repeat(400);
    let mut paths = Vec::new();
    for n in 0..60 {
        let draft = Draft {
            headline: format!("Archive story {n}"),
            standfirst: "A standfirst.".into(),
            author: "Jo Writer".into(),
            body_markdown: body.clone(),
            replies_open: true,
        };
        paths.push(app.publish_draft(draft).await.path);
    }
    let page = app.get(&paths[0]).await.body.len() as u64;
    assert!(page > 20_000, "each page weighs {page} bytes");
    let disk = app.state.pages.disk().unwrap();
    for path in &paths {
        app.get(path).await;
        // The first page is read after every other, so it stays.
        app.get(&paths[0]).await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let budget = 1 << 20;
    assert!(disk.bytes() <= budget, "{} bytes on disk", disk.bytes());
    assert!(
        disk.len() < paths.len() && disk.len() as u64 >= budget / page / 2,
        "{} pages",
        disk.len()
    );
    let files: u64 = page_files(&app).iter().map(|f| f.metadata().unwrap().len()).sum();
    assert!(files <= budget, "the files weigh {files} bytes");
    assert!(disk.evictions.load(std::sync::atomic::Ordering::Relaxed) > 0);
    let hits = disk_hits(&app);
    app.get(&paths[0]).await;
    assert_eq!(disk_hits(&app), hits + 1, "the page read most lately is still there");
    let hits = disk_hits(&app);
    app.get(&paths[1]).await;
    assert_eq!(disk_hits(&app), hits, "one of the least recently used went first");
}

/// A restart: the folder an earlier run left (its lock free) is taken and emptied, since
/// nothing proves its pages current; a node running beside it takes a folder of its own.
#[tokio::test]
async fn a_node_starting_on_a_folder_left_by_an_earlier_run_serves_nothing_from_it() {
    let folder = tempfile::tempdir().unwrap();
    let left = folder.path().join("0");
    std::fs::create_dir_all(&left).unwrap();
    std::fs::write(folder.path().join("0.lock"), b"").unwrap();
    std::fs::write(left.join("1.page"), b"<p>A page from an earlier run</p>").unwrap();
    let dir = folder.path().display().to_string();
    let settings = [ON_DISK, &[("page_cache_dir", dir.as_str())]].concat();
    let app = spawn_with(&settings).await;
    assert_eq!(app.state.pages.disk().unwrap().dir(), left);
    assert_eq!(std::fs::read_dir(&left).unwrap().count(), 0, "nothing from before is kept");
    let path = app.publish("After the restart").await.path;
    on_disk(&app, &[&path]).await;
    assert!(app.get(&path).await.body.contains("After the restart"));
    let beside = restart(&app, &settings).await;
    assert_eq!(beside.state.pages.disk().unwrap().dir(), folder.path().join("1"));
    assert_eq!(app.state.pages.disk().unwrap().len(), 1, "the running node's pages stay");
}

/// Compressed copies are written beside the page on first use and served by
/// `Accept-Encoding`; a `304` needs no file at all.
#[tokio::test]
async fn pages_on_disk_are_served_compressed_and_as_304() {
    let app = spawn_with(ON_DISK).await;
    let path = app.publish("Compressed on disk").await.path;
    on_disk(&app, &[&path]).await;
    let plain = app.get(&path).await;
    for _ in 0..2 {
        let hits = disk_hits(&app);
        let answer =
            app.client.get(app.url(&path)).header("accept-encoding", "gzip").send().await.unwrap();
        assert_eq!(answer.headers()["content-encoding"], "gzip");
        assert_eq!(answer.headers()["vary"], "Accept-Encoding");
        let bytes = answer.bytes().await.unwrap();
        let mut page = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut page)
            .unwrap();
        assert_eq!(page, plain.body);
        assert_eq!(disk_hits(&app), hits + 1);
    }
    let dir = app.state.pages.disk().unwrap().dir().to_owned();
    let copies = std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "gz"));
    assert_eq!(copies.count(), 1, "written once");
    for file in page_files(&app) {
        std::fs::remove_file(file).unwrap();
    }
    let etag = plain.header("etag");
    let again = app.client.get(app.url(&path)).header("if-none-match", etag).send().await.unwrap();
    assert_eq!(again.status(), 304);
}

/// Many readers asking at once for a page that memory has no room for get one rendering: those
/// who waited their turn find it on disk (the renderer's write is awaited before its turn
/// ends, so they always do; without that they usually would, the write being quick).
#[tokio::test]
async fn readers_asking_at_once_wait_for_one_rendering_when_memory_has_no_room() {
    let app = spawn_with(ON_DISK).await;
    let path = app.publish("Asked for at once").await.path;
    // The node's first news empties the cache once; let it pass.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let misses = || app.state.pages.misses.load(std::sync::atomic::Ordering::Relaxed);
    let before = misses();
    let asks = (0..20).map(|_| app.get(&path));
    let pages = futures_util::future::join_all(asks).await;
    assert!(pages.iter().all(|p| p.status == 200 && p.body.contains("Asked for at once")));
    assert_eq!(misses() - before, 1, "one rendering for twenty readers");
}
