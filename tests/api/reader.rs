//! The reader's site: section, tag and author pages, related articles, feeds, sitemaps,
//! metadata, and valid HTML.

use std::process::Command;

use byline::domain::paths::author_path;
use byline::domain::{ArticleId, ReplyId, Role, SettingKey};
use byline::store::{ArticleWrites, SiteSetting, StaffReads};

use crate::helpers::{StaffClient, TestApp, attr, reply_with, spawn_with, text};

fn python() -> String {
    format!("{}/tests/python/.venv/bin/python", env!("CARGO_MANIFEST_DIR"))
}

/// Runs `tests/python/check.py` and parses what it prints. On a blocking thread: it fetches
/// from the server this test's runtime is serving.
pub async fn check(args: &[&str]) -> serde_json::Value {
    let script = format!("{}/tests/python/check.py", env!("CARGO_MANIFEST_DIR"));
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python()).arg(script).args(&args).output()
    })
    .await
    .unwrap()
    .expect("the Python checks are installed by scripts/setup");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_slice(&output.stdout).expect("JSON from check.py")
}

async fn site() -> (TestApp, StaffClient) {
    let app = spawn_with(&[("moderation", "none"), ("site_title", "The Estuary Times")]).await;
    app.add_staff("ed@example.com", "Eleanor Marsh", Role::Editor).await;
    let staff = app.sign_in("ed@example.com").await;
    (app, staff)
}

async fn path_of(app: &TestApp, id: ArticleId) -> String {
    app.article(id).await.unwrap().public_path().unwrap()
}

#[tokio::test]
async fn sections_tags_and_authors_have_pages() {
    let (app, staff) = site().await;
    let body = "word ".repeat(700);
    let ferry = app
        .write(
            &staff,
            &[
                ("headline", "Ferry on time"),
                ("section", "Local News"),
                ("tags", "Ferries, Harbour"),
                ("body", &body),
            ],
            "publish",
        )
        .await;
    let bridge = app
        .write(
            &staff,
            &[("headline", "Bridge closes"), ("section", "Local News"), ("tags", "Harbour")],
            "publish",
        )
        .await;
    app.write(&staff, &[("headline", "Cup final"), ("section", "Sport")], "publish").await;

    let front = app.get("/").await;
    let sections: Vec<_> = front.all("nav.sections a").into_iter().map(text).collect();
    assert_eq!(sections, ["Local News", "Sport"]);
    assert_eq!(attr(front.all("nav.sections a")[0], "href"), "/section/local-news/");
    let ferry_summary =
        front.all(".summary").into_iter().find(|s| text(*s).contains("Ferry on time")).unwrap();
    assert!(text(ferry_summary).contains("4 min read"), "{}", text(ferry_summary));
    assert!(text(ferry_summary).contains("Local News"));

    let section = app.get("/section/local-news/").await;
    assert_eq!(section.status, 200);
    assert_eq!(text(section.one("h1")), "Local News");
    let listed: Vec<_> = section.all(".summary h2").into_iter().map(text).collect();
    assert_eq!(listed, ["Bridge closes", "Ferry on time"]);
    assert_eq!(
        attr(section.one("link[rel=canonical]"), "href"),
        format!("{}/section/local-news/", app.address)
    );

    let tag = app.get("/tag/harbour/").await;
    assert_eq!(tag.all(".summary").len(), 2);
    let author = app.db(|db| db.users()).await.remove(0).author;
    let author_page = author_path(author.id, &author.name);
    let page = app.get(&author_page).await;
    assert_eq!(text(page.one("h1")), "Eleanor Marsh");
    assert_eq!(page.all(".summary").len(), 3);
    let moved = app.get(&format!("/author/{}-old-name/", author.id)).await;
    assert_eq!((moved.status, moved.location()), (301, author_page.as_str()));

    for missing in [
        "/section/nothing/",
        "/tag/nothing/",
        "/author/999-x/",
        "/section/local-news/page/2/",
        "/author/x/",
    ] {
        assert_eq!(app.get(missing).await.status, 404, "{missing}");
    }
    assert_eq!(app.get("/section/local-news/page/1/").await.location(), "/section/local-news/");

    // The article links to its section, tags and author, and lists related articles.
    let article = app.get(&path_of(&app, ferry).await).await;
    assert_eq!(attr(article.one(".kicker a"), "href"), "/section/local-news/");
    let tags: Vec<_> =
        article.all(".tags a").into_iter().map(|a| attr(a, "href").to_owned()).collect();
    assert_eq!(tags, ["/tag/ferries/", "/tag/harbour/"]);
    assert_eq!(attr(article.one(".byline a[rel=author]"), "href"), author_page);
    let related: Vec<_> = article.all(".related a").into_iter().map(text).collect();
    assert_eq!(related, ["Bridge closes"]);
    let _ = bridge;
}

#[tokio::test]
async fn listings_paginate() {
    let (app, staff) = site().await;
    for i in 0..23 {
        app.write(&staff, &[("headline", &format!("Story {i}")), ("section", "Busy")], "publish")
            .await;
    }
    let first = app.get("/section/busy/").await;
    assert_eq!(first.all(".summary").len(), 20);
    assert_eq!(attr(first.one("a[rel=next]"), "href"), "/section/busy/page/2/");
    let second = app.get("/section/busy/page/2/").await;
    assert_eq!(second.all(".summary").len(), 3);
    assert_eq!(attr(second.one("a[rel=prev]"), "href"), "/section/busy/");
    assert_eq!(app.get("/section/busy/page/3/").await.status, 404);
}

#[tokio::test]
async fn articles_carry_search_and_social_metadata() {
    let (app, staff) = site().await;
    let id = app
        .write(
            &staff,
            &[
                ("headline", "Harbour wall to be rebuilt"),
                ("standfirst", "A £2.4m repair."),
                ("image_url", "https://img.example/wall.jpg"),
                ("image_alt", "The cracked wall"),
                ("section", "Local"),
            ],
            "publish",
        )
        .await;
    let path = path_of(&app, id).await;
    let page = app.get(&path).await;
    let url = format!("{}{path}", app.address);
    assert_eq!(attr(page.one("link[rel=canonical]"), "href"), url);
    assert_eq!(attr(page.one("meta[name=description]"), "content"), "A £2.4m repair.");
    let property = |p: &str| attr(page.one(&format!("meta[property='{p}']")), "content").to_owned();
    assert_eq!(property("og:title"), "Harbour wall to be rebuilt");
    assert_eq!(property("og:type"), "article");
    assert_eq!(property("og:url"), url);
    assert_eq!(property("og:image"), "https://img.example/wall.jpg");
    assert_eq!(property("og:site_name"), "The Estuary Times");
    assert_eq!(attr(page.one("meta[name='twitter:card']"), "content"), "summary_large_image");
    let json: String = page.one("script[type='application/ld+json']").text().collect();
    let data: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(data["@type"], "NewsArticle");
    assert_eq!(data["headline"], "Harbour wall to be rebuilt");
    assert_eq!(data["description"], "A £2.4m repair.");
    assert_eq!(data["image"][0], "https://img.example/wall.jpg");
    assert_eq!(data["author"][0]["name"], "Eleanor Marsh");
    assert_eq!(data["publisher"]["name"], "The Estuary Times");
    for key in ["datePublished", "dateModified"] {
        let value = data[key].as_str().unwrap();
        assert!(jiff::Timestamp::strptime("%Y-%m-%dT%H:%M:%S%:z", value).is_ok(), "{key}: {value}");
    }
    let feeds: Vec<_> = page
        .all("link[rel=alternate][type='application/atom+xml']")
        .into_iter()
        .map(|l| attr(l, "href").to_owned())
        .collect();
    assert!(feeds.contains(&format!("{}/feed.atom", app.address)));
    assert!(feeds.contains(&format!("{url}feed.atom")));
}

#[tokio::test]
async fn feeds_parse_and_carry_no_email() {
    let (app, staff) = site().await;
    let id = app
        .write(
            &staff,
            &[
                ("headline", "Feeds & “quotes”"),
                ("standfirst", "<b>Bold</b> claims"),
                ("section", "Local"),
                ("tags", "Ferries"),
            ],
            "publish",
        )
        .await;
    let path = path_of(&app, id).await;
    app.reply(
        &path,
        &reply_with(&[
            ("email", "secret.reader@example.com"),
            ("comment", "A reply with <script>x</script> in it\u{fffe}"),
        ]),
    )
    .await;
    let author = app.db(|db| db.users()).await.remove(0).author;
    let author_feed = format!("{}feed.atom", author_path(author.id, &author.name));
    for feed in
        ["/feed.atom", "/section/local/feed.atom", "/tag/ferries/feed.atom", author_feed.as_str()]
    {
        let parsed = check(&["feed", &app.url(feed)]).await;
        assert_eq!(parsed["bozo"], false, "{feed}: {}", parsed["error"]);
        assert_eq!(parsed["version"], "atom10");
        assert_eq!(parsed["entries"][0]["title"], "Feeds & “quotes”", "{feed}");
        assert_eq!(parsed["entries"][0]["link"], app.url(&path));
        assert_eq!(parsed["entries"][0]["author"], "Eleanor Marsh");
    }
    let replies = check(&["feed", &app.url(&format!("{path}feed.atom"))]).await;
    assert_eq!(replies["bozo"], false, "{}", replies["error"]);
    assert_eq!(replies["entries"][0]["author"], "Ada Reader");
    assert!(
        replies["entries"][0]["content"][0].as_str().unwrap().contains("&lt;script&gt;"),
        "{}",
        replies
    );
    let raw = app.client.get(app.url(&format!("{path}feed.atom"))).send().await.unwrap();
    assert_eq!(raw.headers()["content-type"], "application/atom+xml; charset=utf-8");
    assert!(!raw.text().await.unwrap().contains("secret.reader"), "no email in a feed");
    assert_eq!(app.get("/section/none/feed.atom").await.status, 404);
}

#[tokio::test]
async fn the_replies_feed_holds_the_newest_fifty_approved_replies_newest_first() {
    use byline::domain::ReplyStatus;
    let app = spawn_with(&[("moderation", "none")]).await;
    let story = app.publish("Busy").await;
    let mut approved = Vec::new();
    for n in 0..55 {
        approved.push(
            app.seed_reply(story.id, None, &format!("Reader {n}"), ReplyStatus::Approved).await,
        );
    }
    let spam = app.seed_reply(story.id, None, "Spammer", ReplyStatus::Spam).await;
    let held = app.seed_reply(story.id, None, "Waiting", ReplyStatus::Pending).await;
    let feed = app.get(&format!("{}feed.atom", story.path)).await.body;
    let ids: Vec<ReplyId> = feed
        .split("<id>")
        .filter_map(|s| s.split_once("#comment-"))
        .map(|(_, rest)| ReplyId::parse(rest.split('<').next().unwrap()).unwrap())
        .collect();
    let newest: Vec<ReplyId> = approved.iter().rev().take(50).copied().collect();
    assert_eq!(ids, newest, "the newest fifty, newest first");
    assert!(
        !feed.contains(&format!("#comment-{spam}<"))
            && !feed.contains(&format!("#comment-{held}<"))
    );
}

#[tokio::test]
async fn sitemaps_and_robots() {
    let (app, staff) = site().await;
    let id = app.write(&staff, &[("headline", "Mapped"), ("section", "Local")], "publish").await;
    app.write(&staff, &[("headline", "Draft, unmapped")], "save").await;
    let path = path_of(&app, id).await;
    let sitemap = check(&["xml", &app.url("/sitemap.xml")]).await;
    let locs: Vec<_> = sitemap["locs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_owned())
        .collect();
    assert!(locs.contains(&app.url(&path)));
    assert!(locs.contains(&app.url("/section/local/")));
    assert!(!locs.iter().any(|l| l.contains("draft")));
    let news = check(&["xml", &app.url("/news-sitemap.xml")]).await;
    assert_eq!(news["locs"][0], app.url(&path));
    let body =
        app.client.get(app.url("/news-sitemap.xml")).send().await.unwrap().text().await.unwrap();
    assert!(
        body.contains("<news:title>Mapped</news:title>")
            && body.contains("<news:publication_date>")
    );
    let robots = app.client.get(app.url("/robots.txt")).send().await.unwrap().text().await.unwrap();
    assert!(robots.contains("Disallow: /admin/"));
    assert!(robots.contains(&format!("Sitemap: {}/sitemap.xml", app.address)));
}

#[tokio::test]
async fn every_page_type_is_valid_html() {
    let (app, staff) = site().await;
    byline::tools::demo::seed_if_empty(&app.services).await.unwrap();
    let id = app
        .write(
            &staff,
            &[
                ("headline", "Valid"),
                ("section", "Local"),
                ("tags", "One"),
                ("image_url", "https://img.example/a.jpg"),
                ("image_alt", "A picture"),
                ("image_caption", "Caption"),
            ],
            "publish",
        )
        .await;
    let path = path_of(&app, id).await;
    let parent = app.reply(&path, &reply_with(&[])).await;
    app.reply(&path, &reply_with(&[("parent", &parent.to_string())])).await;
    app.staff_post(
        &staff,
        &format!("/admin/articles/{id}/notes"),
        &[("kind", "correction"), ("note", "Fixed.")],
    )
    .await;
    let author = app.db(|db| db.users()).await.remove(0).author;
    let dir = tempfile::tempdir().unwrap();
    let mut pages: Vec<(String, crate::helpers::Page)> = vec![
        ("front".into(), app.get("/").await),
        ("article".into(), app.get(&path).await),
        ("reply-to".into(), app.get(&format!("{path}?replytocom={parent}")).await),
        ("refused-form".into(), app.post(&path, &reply_with(&[("email", "bad")])).await),
        ("section".into(), app.get("/section/local/").await),
        ("tag".into(), app.get("/tag/one/").await),
        ("author".into(), app.get(&author_path(author.id, &author.name)).await),
        ("not-found".into(), app.get("/nowhere").await),
        ("login".into(), app.get("/admin/login").await),
        ("search".into(), app.get("/search?q=valid").await),
        ("search-empty".into(), app.get("/search").await),
    ];
    for (name, path) in [
        ("admin-dashboard", "/admin/".to_owned()),
        ("admin-list", "/admin/articles/".to_owned()),
        ("admin-editor", format!("/admin/articles/{id}/")),
        ("admin-new", "/admin/articles/new".to_owned()),
        ("admin-preview", format!("/admin/articles/{id}/preview")),
        ("admin-revisions", format!("/admin/articles/{id}/revisions/")),
        ("admin-replies", "/admin/replies/?status=approved".to_owned()),
        ("admin-account", "/admin/account".to_owned()),
    ] {
        pages.push((name.into(), app.staff_get(&staff, &path).await));
    }
    for (name, page) in &pages {
        assert!(page.body.starts_with("<!DOCTYPE html>"), "{name} is a page");
        assert_eq!(page.all("h1").len(), 1, "{name}: one <h1>");
        assert!(
            page.has("main#main") && page.has("a.skip-link[href='#main']"),
            "{name}: landmarks"
        );
        std::fs::write(dir.path().join(format!("{name}.html")), &page.body).unwrap();
    }
    let script = format!("{}/tests/python/check.py", env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(python())
        .arg(script)
        .args(["html", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the Nu HTML checker found errors:\n{report}{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The ETag of a public page, checked to give `304` when sent back.
async fn etag(app: &TestApp, path: &str) -> String {
    let page = app.get(path).await;
    assert_eq!(page.status, 200, "{path}");
    assert_eq!(page.header("cache-control"), "public, max-age=0, s-maxage=5", "{path}");
    let tag = page.header("etag").to_owned();
    assert!(tag.starts_with("W/\""), "{path}: {tag:?}");
    let again = app.get_with(path, &[("if-none-match", &tag)]).await;
    assert_eq!(again.status, 304, "{path}");
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), tag);
    tag
}

#[tokio::test]
async fn public_pages_answer_conditional_requests_and_change_their_validators() {
    let (app, staff) = site().await;
    let id = app
        .write(&staff, &[("headline", "Cached"), ("section", "Local"), ("tags", "T")], "publish")
        .await;
    let path = path_of(&app, id).await;
    let paths = ["/", path.as_str(), "/section/local/", "/tag/t/", "/feed.atom", "/sitemap.xml"];
    let mut before = Vec::new();
    for p in paths {
        before.push(etag(&app, p).await);
    }
    // Two requests a second apart (different form tokens) are still the same page.
    app.clock.advance(1);
    assert_eq!(etag(&app, &path).await, before[1]);

    // A reply changes the article, and the reply count on the listings.
    app.reply(&path, &reply_with(&[])).await;
    for (i, p) in paths.iter().enumerate().take(4) {
        assert_ne!(etag(&app, p).await, before[i], "{p} after a reply");
    }
    // A related article, published elsewhere, changes the article page.
    let article_tag = etag(&app, &path).await;
    app.write(&staff, &[("headline", "Related"), ("section", "Local")], "publish").await;
    assert_ne!(etag(&app, &path).await, article_tag, "after a related article");
    // So does a setting that shows on it.
    let article_tag = etag(&app, &path).await;
    app.set_setting(SiteSetting::Discussion(SettingKey::CloseAfterDays), "1").await;
    let date = path.trim_matches('/').rsplit_once('/').unwrap().0.to_owned();
    app.db_write(move |tx| {
        Box::pin(async move {
            let published = byline::domain::ArticleStatus::Published;
            tx.set_article_status(id, published, Some(&date), Some(1), 2).await
        })
    })
    .await;
    assert_ne!(etag(&app, &path).await, article_tag, "after replies closed by a setting");

    // Personal pages carry no validator and are never stored.
    let held = spawn_with(&[("moderation", "all")]).await;
    let story = held.publish("Personal").await.path;
    let response = held.post(&story, &reply_with(&[])).await;
    let mine = held.get_with(&story, &[("cookie", &crate::helpers::cookies_from(&response))]).await;
    assert_eq!(mine.header("cache-control"), "private, no-store");
    assert_eq!(mine.header("etag"), "");
}

#[tokio::test]
async fn search_ranks_highlights_and_pages() {
    let (app, staff) = site().await;
    app.write(
        &staff,
        &[("headline", "Council meets"), ("body", "The harbour wall was discussed `<at length>`.")],
        "publish",
    )
    .await;
    let headline = app
        .write(
            &staff,
            &[("headline", "Harbour wall to be rebuilt"), ("body", "Work starts soon.")],
            "publish",
        )
        .await;
    let page = app.get("/search?q=harbour+wall").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("cache-control"), "public, max-age=0, s-maxage=5");
    let found: Vec<_> = page.all(".search-results h2 a").into_iter().map(text).collect();
    assert_eq!(found, ["Harbour wall to be rebuilt", "Council meets"], "the headline match first");
    assert_eq!(text(page.one(".count")), "2 articles match.");
    let snippet = page.all(".snippet")[1];
    let marks: Vec<_> =
        snippet.select(&scraper::Selector::parse("mark").unwrap()).map(text).collect();
    assert_eq!(marks, ["harbour", "wall"]);
    assert!(text(snippet).contains("<at length>"), "markup in the text is shown, never run");
    assert_eq!(attr(page.one("#q"), "value"), "harbour wall");

    for i in 0..11 {
        app.write(&staff, &[("headline", &format!("Tide report {i}"))], "publish").await;
    }
    let first = app.get("/search?q=tide").await;
    assert_eq!(first.all(".search-results li").len(), 10);
    assert_eq!(attr(first.one("a[rel=next]"), "href"), "/search?q=tide&page=2");
    assert_eq!(app.get("/search?q=tide&page=2").await.all(".search-results li").len(), 1);
    assert_eq!(app.get("/search?q=tide&page=9").await.status, 404);

    // Kept in step with unpublishing.
    let path = format!("/admin/articles/{headline}/");
    app.staff_post(
        &staff,
        &path,
        &[("headline", "Harbour wall to be rebuilt"), ("action", "unpublish")],
    )
    .await;
    let after: Vec<_> = app
        .get("/search?q=harbour")
        .await
        .all(".search-results h2 a")
        .into_iter()
        .map(text)
        .collect();
    assert_eq!(after, ["Council meets"]);
}

#[tokio::test]
async fn search_works_in_any_script_and_with_odd_queries() {
    let (app, staff) = site().await;
    app.write(
        &staff,
        &[("headline", "東京の朝は早い"), ("body", "北京和東京的新闻。Москва тоже.")],
        "publish",
    )
    .await;
    let encode = |q: &str| url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>();
    let cases = [
        ("東京", 1),
        ("北京", 1),
        ("早い", 1),
        ("москва", 1),
        ("МОСКВА", 1),
        ("東京 北京", 1),
        ("大阪", 0),
    ];
    for (query, expected) in cases {
        let page = app.get(&format!("/search?q={}", encode(query))).await;
        assert_eq!(page.status, 200, "{query}");
        assert_eq!(page.all(".search-results li").len(), expected, "{query}");
    }
    let long = "ferry ".repeat(200);
    let odd = [
        "?!…—«»",
        "\"",
        "a* OR b NEAR(c)",
        "%",
        "'; DROP TABLE articles; --",
        long.as_str(),
        "\u{0}",
        "",
    ];
    for query in odd {
        let page = app.get(&format!("/search?q={}", encode(query))).await;
        assert_eq!(page.status, 200, "{query:?}");
        assert!(page.has("form.search-form"));
    }
}

/// Characters a snippet uses to mark matches, typed into an article, are text, not marks.
#[tokio::test]
async fn marks_typed_by_staff_do_not_break_snippets() {
    let (app, staff) = site().await;
    let body = "The lighthouse \u{E000}keeper\u{E001} and a stray \u{E000} mark.";
    app.write(&staff, &[("headline", "Lights"), ("body", body)], "publish").await;
    let page = app.get("/search?q=lighthouse").await;
    let snippet = page.one(".snippet");
    let inner = snippet.inner_html();
    assert_eq!(inner.matches("<mark>").count(), inner.matches("</mark>").count(), "{inner}");
    let marked: Vec<_> = page.all(".snippet mark").into_iter().map(text).collect();
    assert_eq!(marked, ["lighthouse"]);
}

/// A newsroom hides sources in HTML comments: search neither finds nor quotes what the page
/// does not show (comments, stripped tags, attributes), and finds what it shows (footnotes).
#[tokio::test]
async fn search_finds_only_what_the_page_shows() {
    let (app, staff) = site().await;
    let body = "The mayor resigned.<!-- source: Jane Whistleblower, phone 555-0100 -->\n\n\
        <span title=\"Deepthroat\">Confirmed</span> by <script>concealed()</script>two aides.[^1]\n\n\
        [^1]: Footnoted separately.";
    app.write(&staff, &[("headline", "Mayor resigns"), ("body", body)], "publish").await;
    for hidden in ["whistleblower", "555", "jane", "deepthroat", "concealed"] {
        let page = app.get(&format!("/search?q={hidden}")).await;
        assert_eq!(text(page.one(".count")), "No articles match.", "{hidden}");
    }
    let page = app.get("/search?q=mayor").await;
    let snippet = text(page.one(".snippet"));
    assert!(!snippet.contains("Whistleblower") && !snippet.contains("555"), "{snippet}");
    let page = app.get("/search?q=footnoted").await;
    assert_eq!(page.all(".search-results h2 a").len(), 1, "what the page shows is found");
}

#[tokio::test]
async fn times_carry_their_zone_and_the_replies_are_a_link_away() {
    let app = spawn_with(&[("moderation", "none"), ("timezone", "Europe/London")]).await;
    let path = app.publish("Clocks go back").await.path;
    let reply = app.reply(&path, &reply_with(&[])).await;
    let page = app.get(&path).await;
    let zone = jiff::tz::TimeZone::get("Europe/London").unwrap();
    let zoned = jiff::Timestamp::from_second(app.clock.now()).unwrap().to_zoned(zone);
    // "1 December 2026, 09:14 GMT": the time and the zone's abbreviation, in the site's zone.
    let expected = zoned.strftime("%-d %B %Y, %H:%M %Z").to_string();
    assert!(expected.ends_with(" GMT") || expected.ends_with(" BST"), "{expected}");
    assert_eq!(text(page.one(".byline time")), expected);
    assert_eq!(text(page.one(&format!("#comment-{reply} .reply-permalink time"))), expected);
    let link = page.one(".byline a.replies-link");
    assert_eq!((text(link).as_str(), attr(link, "href")), ("One reply", "#replies"));
    assert!(page.has("#replies"));
}

#[tokio::test]
async fn an_author_page_shows_the_bio_and_photo() {
    let (app, staff) = site().await;
    app.write(&staff, &[("headline", "By Eleanor")], "publish").await;
    let saved = app
        .staff_post(
            &staff,
            "/admin/account",
            &[
                ("form", "profile"),
                ("name", "Eleanor Marsh"),
                ("bio", "Covers the harbour."),
                ("photo", "https://photos.example/eleanor.jpg"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let author = app.db(|db| db.users()).await.remove(0).author;
    let page = app.get(&author_path(author.id, &author.name)).await;
    assert_eq!(text(page.one(".listing-header .standfirst")), "Covers the harbour.");
    let photo = page.one(".listing-header img.author-photo");
    assert_eq!(attr(photo, "src"), "https://photos.example/eleanor.jpg");
    assert_eq!((attr(photo, "width"), attr(photo, "height")), ("96", "96"));

    // A photo that is neither the library's nor an address is refused, with what was typed.
    let refused = app
        .staff_post(
            &staff,
            "/admin/account",
            &[("form", "profile"), ("name", "Eleanor M."), ("bio", "New bio"), ("photo", "me.jpg")],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(text(refused.one(".form-errors")).contains("photo"));
    assert_eq!(attr(refused.one("#photo"), "value"), "me.jpg");
    assert_eq!(attr(refused.one("#name"), "value"), "Eleanor M.");
}

/// The headlines the page that answers `404` lists.
async fn listed_on_404(app: &TestApp) -> Vec<String> {
    let missing = app.get("/2026/no/such/page/").await;
    assert_eq!(missing.status, 404);
    missing.all("main ul.latest a").into_iter().map(text).collect()
}

/// Waits (a second at most) until the 404 page lists `expected`.
async fn until_listed(app: &TestApp, expected: &[&str]) {
    for _ in 0..40 {
        if listed_on_404(app).await == expected {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(listed_on_404(app).await, expected);
}

#[tokio::test]
async fn a_missing_page_offers_search_and_the_latest_articles() {
    let app = spawn_with(&[("moderation", "none")]).await;
    let editor = app.add_staff("ed@example.com", "Ed Itor", Role::Editor).await;
    let mut published = Vec::new();
    for headline in ["First story", "Second story", "Third story"] {
        published.push(app.publish(headline).await);
    }
    // Without any other page read first: the list follows what is published.
    until_listed(&app, &["Third story", "Second story", "First story"]).await;
    let missing = app.get("/2026/no/such/page/").await;
    let form = missing.one("main form[role=search]");
    assert_eq!(attr(form, "action"), "/search");
    assert!(missing.has("main form[role=search] input[name=q]"));
    let first = missing.all("main ul.latest a")[0];
    assert_eq!(app.get(attr(first, "href")).await.status, 200);

    // An article taken down leaves the list: it never links to another 404.
    byline::services::publishing::trash(&app.services, &editor, published[2].id).await.unwrap();
    until_listed(&app, &["Second story", "First story"]).await;

    // After a restart the list is there before any page is read.
    let again = crate::helpers::restart(&app, &[]).await;
    assert_eq!(listed_on_404(&again).await, ["Second story", "First story"]);
}

#[tokio::test]
async fn search_finds_word_forms_unaccented_names_tags_and_marks_headlines() {
    let (app, staff) = site().await;
    let long = format!(
        "{} The operator said the ferry was late again. {}",
        "Harbour news of the week in long sentences. ".repeat(8),
        "More news after it. ".repeat(8)
    );
    app.write(
        &staff,
        &[("headline", "Ferry timetable"), ("tags", "Ferries"), ("body", &long)],
        "publish",
    )
    .await;
    app.write(&staff, &[("headline", "Mr Wróbel retires"), ("section", "People")], "publish").await;

    // "ferries" finds the ferry, and marks it in the headline.
    let page = app.get("/search?q=ferries").await;
    let found: Vec<_> = page.all(".search-results h2 a").into_iter().map(text).collect();
    assert_eq!(found, ["Ferry timetable"]);
    assert_eq!(text(page.one(".search-results h2 a mark")), "Ferry");
    // The snippet is cut between words: what follows the "…" is a whole word of the text.
    let snippet = text(page.one(".snippet"));
    let first_word = snippet.trim_start_matches('…').split_whitespace().next().unwrap();
    assert!(
        long.split_whitespace().any(|w| w == first_word),
        "{first_word:?} is not a whole word: {snippet}"
    );
    assert!(snippet.starts_with('…') && snippet.contains("ferry"), "{snippet}");

    // Diacritics fold; sections and tags are searched.
    for (query, headline) in [
        ("wrobel", "Mr Wróbel retires"),
        ("Wróbel", "Mr Wróbel retires"),
        ("people", "Mr Wróbel retires"),
        ("ferries", "Ferry timetable"),
    ] {
        let page = app
            .get(&format!(
                "/search?q={}",
                url::form_urlencoded::byte_serialize(query.as_bytes()).collect::<String>()
            ))
            .await;
        let found: Vec<_> = page.all(".search-results h2 a").into_iter().map(text).collect();
        assert_eq!(found, [headline], "{query}");
    }
    let marked = app.get("/search?q=wrobel").await;
    assert_eq!(text(marked.one(".search-results h2 mark")), "Wróbel");
}

#[tokio::test]
async fn the_language_sets_the_pages_lang_and_how_search_stems() {
    let app = spawn_with(&[("moderation", "none"), ("language", "fr")]).await;
    app.publish("Les maisons du port").await;
    let page = app.get("/").await;
    assert_eq!(attr(page.one("html"), "lang"), "fr");
    let found = app.get("/search?q=maison").await;
    assert_eq!(found.all(".search-results h2 a").len(), 1, "{}", found.body);
}
