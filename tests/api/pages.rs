//! Static pages: written in the newsroom, at their own address, in the footer and the sitemap,
//! out of the news, and never shadowing one of the site's routes.

use std::collections::BTreeSet;

use byline::domain::Role;
use byline::domain::paths::RESERVED_SEGMENTS;

use crate::helpers::{StaffClient, TestApp, attr, spawn_with, text};

async fn newsroom() -> (TestApp, StaffClient) {
    let app = spawn_with(&[("moderation", "none")]).await;
    app.add_staff("editor@example.com", "Eve Editor", Role::Editor).await;
    let staff = app.sign_in("editor@example.com").await;
    (app, staff)
}

/// Saves a new page with `action`; returns its editor's address.
async fn write_page(
    app: &TestApp,
    staff: &StaffClient,
    fields: &[(&str, &str)],
    action: &str,
) -> String {
    let mut form = vec![("action", action)];
    form.extend_from_slice(fields);
    let response = app.staff_post(staff, "/admin/pages/new", &form).await;
    assert_eq!(response.status, 303, "not saved:\n{}", response.body);
    response.location().split('?').next().unwrap().to_owned()
}

/// The id of the page whose editor is at `editor`.
fn id_of(editor: &str) -> String {
    editor.trim_start_matches("/admin/pages/").trim_end_matches('/').to_owned()
}

#[tokio::test]
async fn a_page_is_written_previewed_published_and_linked_from_the_footer() {
    let (app, staff) = newsroom().await;
    let body = "We are a **small** newsroom.\n\nWrite to us.";
    let editor = write_page(
        &app,
        &staff,
        &[("title", "About us"), ("slug", "about"), ("body", body), ("footer_position", "2")],
        "save",
    )
    .await;
    assert_eq!(app.get("/about/").await.status, 404, "a draft is not public");
    let preview = app.staff_get(&staff, &format!("{editor}preview")).await;
    assert_eq!(preview.status, 200);
    assert_eq!(text(preview.one("article.static-page strong")), "small");

    // Publish; a second page takes the first footer place.
    let form = [
        ("title", "About us"),
        ("slug", "about"),
        ("body", body),
        ("footer_position", "2"),
        ("action", "publish"),
    ];
    assert_eq!(app.staff_post(&staff, &editor, &form).await.status, 303);
    write_page(
        &app,
        &staff,
        &[("title", "Corrections policy"), ("footer_position", "1")],
        "publish",
    )
    .await;
    write_page(&app, &staff, &[("title", "Terms"), ("footer_position", "0")], "save").await;
    write_page(&app, &staff, &[("title", "Contact")], "publish").await;

    let page = app.get("/about/").await;
    assert_eq!(page.status, 200);
    assert_eq!(text(page.one("main h1")), "About us");
    assert_eq!(text(page.one("main .story-body strong")), "small");
    assert!(!page.has("main .byline") && !page.has("main time"), "no byline or date");
    assert!(!page.has("form.reply-form") && !page.has("#replies"), "no replies");
    let footer: Vec<String> = page.all(".footer-pages a").into_iter().map(text).collect();
    assert_eq!(footer, ["Corrections policy", "About us"], "drafts and unplaced pages left out");
    assert_eq!(attr(page.all(".footer-pages a")[0], "href"), "/corrections-policy/");
    let front = app.get("/").await;
    assert_eq!(front.all(".footer-pages a").len(), 2, "the footer is on every page");

    assert_eq!(app.get("/contact/").await.status, 200, "published, not in the footer");
    let bare = app.get("/about").await;
    assert_eq!((bare.status, bare.location()), (301, "/about/"));

    let sitemap = app.get("/sitemap.xml").await.body;
    assert!(sitemap.contains("/about/</loc>") && sitemap.contains("/contact/</loc>"));
    assert!(!sitemap.contains("/terms/"), "drafts are not in the sitemap");
    // Out of the news.
    for path in ["/", "/feed.atom", "/search?q=newsroom"] {
        assert!(!app.get(path).await.body.contains("We are a"), "{path}");
    }

    // Back to draft: gone from the address and the footer.
    let form = [
        ("title", "About us"),
        ("slug", "about"),
        ("body", body),
        ("footer_position", "2"),
        ("action", "unpublish"),
    ];
    assert_eq!(app.staff_post(&staff, &editor, &form).await.status, 303);
    assert_eq!(app.get("/about/").await.status, 404);
    let footer: Vec<String> =
        app.get("/").await.all(".footer-pages a").into_iter().map(text).collect();
    assert_eq!(footer, ["Corrections policy"]);
}

#[tokio::test]
async fn pages_nest_and_a_moved_page_leaves_its_old_addresses_behind() {
    let (app, staff) = newsroom().await;
    let about =
        write_page(&app, &staff, &[("title", "About"), ("body", "Who we are.")], "publish").await;
    let about_id = id_of(&about);
    let team = write_page(
        &app,
        &staff,
        &[("title", "The team"), ("slug", "team"), ("parent", &about_id), ("body", "Eve and Ann.")],
        "publish",
    )
    .await;
    let page = app.get("/about/team/").await;
    assert_eq!(page.status, 200);
    assert_eq!(text(page.one("main h1")), "The team");
    // Under a page, the routes' words are free: /about/page/ is no route.
    write_page(
        &app,
        &staff,
        &[("title", "Page"), ("slug", "page"), ("parent", &about_id)],
        "publish",
    )
    .await;
    assert_eq!(app.get("/about/page/").await.status, 200);

    // A page cannot sit under its own child.
    let team_id = id_of(&team);
    let looped = app
        .staff_post(&staff, &about, &[("title", "About"), ("parent", &team_id), ("action", "save")])
        .await;
    assert_eq!(looped.status, 422);
    assert!(looped.has("#parent-error"));

    // Renaming the parent moves the child; both old addresses answer with a 301.
    let moved =
        [("title", "About"), ("slug", "who-we-are"), ("body", "Who we are."), ("action", "save")];
    assert_eq!(app.staff_post(&staff, &about, &moved).await.status, 303);
    assert_eq!(app.get("/who-we-are/team/").await.status, 200);
    let old = app.get("/about/team/").await;
    assert_eq!((old.status, old.location()), (301, "/who-we-are/team/"));
    assert_eq!(app.get("/about/").await.location(), "/who-we-are/");

    // Revisions: each save is one; restoring brings the old text back.
    // (Deleting: only a draft with no pages under it.)
    let delete = format!("{team}delete");
    assert_eq!(
        app.staff_post(&staff, &delete, &[("confirm", "yes")]).await.status,
        422,
        "published"
    );
    let revisions = app.staff_get(&staff, &format!("{about}revisions/")).await;
    let links = revisions.all("ol.revisions a");
    assert_eq!(links.len(), 2);
    let oldest = attr(*links.last().unwrap(), "href").to_owned();
    let shown = app.staff_get(&staff, &oldest).await;
    assert!(shown.body.contains("Who we are."));
    let restored = app.staff_post(&staff, &oldest, &[]).await;
    assert_eq!(restored.status, 303);
    assert_eq!(app.get("/about/").await.status, 200, "the first slug is back");
    assert_eq!(app.get("/about/team/").await.status, 200);
}

#[tokio::test]
async fn a_refused_page_keeps_what_was_typed_and_authors_may_not_edit_pages() {
    let (app, staff) = newsroom().await;
    let body = "Every word typed here stays.";
    for slug in ["admin", "section", "search", "2026", "Bad Slug!"] {
        let refused = app
            .staff_post(
                &staff,
                "/admin/pages/new",
                &[("title", "Rules"), ("slug", slug), ("body", body), ("action", "publish")],
            )
            .await;
        assert_eq!(refused.status, 422, "{slug}");
        assert!(refused.has("#slug-error"), "{slug}");
        assert_eq!(text(refused.one("#body")), body);
        assert_eq!(attr(refused.one("#slug"), "value"), slug);
    }
    write_page(&app, &staff, &[("title", "Rules")], "publish").await;
    let taken = app
        .staff_post(&staff, "/admin/pages/new", &[("title", "Rules"), ("action", "publish")])
        .await;
    assert_eq!(taken.status, 422);
    assert!(text(taken.one("#slug-error")).contains("/rules/"));

    app.add_staff("ann@example.com", "Ann Author", Role::Author).await;
    let author = app.sign_in("ann@example.com").await;
    assert_eq!(app.staff_get(&author, "/admin/pages/").await.status, 403);
    let refused = app
        .staff_post(&author, "/admin/pages/new", &[("title", "Mine"), ("action", "publish")])
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(app.get("/mine/").await.status, 404);
}

/// The reserved first segments are exactly the router's: a route added without its word in the
/// list (or a word left after its route went) fails here.
#[tokio::test]
async fn the_reserved_segments_are_the_routers_own() {
    let mut literal = BTreeSet::new();
    for route in byline::web::routes() {
        let first = route.path.trim_start_matches('/').split('/').next().unwrap_or_default();
        match first {
            "" => {}
            // The date archives' and articles' `/{year}/…`: digits, refused by their own rule.
            "{year}" => {}
            other if other.starts_with('{') => panic!("{}: a new pattern at the top", route.path),
            other => {
                literal.insert(other.to_owned());
            }
        }
    }
    let listed: BTreeSet<String> = RESERVED_SEGMENTS.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(literal, listed);

    // Each of them, as a page's slug, is refused; a page may take any other word.
    let (app, staff) = newsroom().await;
    for word in RESERVED_SEGMENTS.iter().filter(|w| !w.contains('.')) {
        let refused = app
            .staff_post(
                &staff,
                "/admin/pages/new",
                &[("title", "X"), ("slug", word), ("action", "publish")],
            )
            .await;
        assert_eq!(refused.status, 422, "{word}");
    }
    write_page(&app, &staff, &[("title", "Archive"), ("slug", "archive")], "publish").await;
    assert_eq!(app.get("/archive/").await.status, 200);
}

#[tokio::test]
async fn a_page_moved_and_moved_back_leaves_no_loop_and_keeps_its_encoded_addresses() {
    let (app, staff) = newsroom().await;
    let editor =
        write_page(&app, &staff, &[("title", "Über uns"), ("slug", "über-uns")], "publish").await;
    let encoded = "/%C3%BCber-uns/";
    assert_eq!(app.get(encoded).await.status, 200);
    let save = |slug: &'static str, action: &'static str| {
        [("title", "Über uns"), ("slug", slug), ("action", action)]
    };
    assert_eq!(app.staff_post(&staff, &editor, &save("wir", "save")).await.status, 303);
    let old = app.get(encoded).await;
    assert_eq!((old.status, old.location()), (301, "/wir/"), "the decoded address is found");
    assert_eq!(app.staff_post(&staff, &editor, &save("über-uns", "save")).await.status, 303);
    assert_eq!(app.get(encoded).await.status, 200, "back at its first address");
    assert_eq!(app.get("/wir/").await.location(), encoded);
    // Unpublished: its addresses lead nowhere, and not round in a circle.
    assert_eq!(app.staff_post(&staff, &editor, &save("über-uns", "unpublish")).await.status, 303);
    assert_eq!(app.get(encoded).await.status, 404);
    let wir = app.get("/wir/").await;
    assert_eq!((wir.status, wir.location()), (301, encoded), "one step, to a page now gone");
}

#[tokio::test]
async fn deep_pages_are_not_taken_for_articles_and_children_of_a_draft_move_with_it() {
    let (app, staff) = newsroom().await;
    app.publish("D").await;
    let mut parent = String::new();
    for slug in ["a", "b", "c", "d"] {
        let mut form = vec![("title", slug), ("slug", slug), ("body", "Deep.")];
        let id = parent.clone();
        if !id.is_empty() {
            form.push(("parent", &id));
        }
        parent = id_of(&write_page(&app, &staff, &form, "publish").await);
    }
    let deep = app.get("/a/b/c/d/").await;
    assert_eq!(deep.status, 200, "not the article called d: {}", deep.location());
    assert_eq!(text(deep.one("main h1")), "d");
    assert_eq!(app.get("/a/b/c/d").await.location(), "/a/b/c/d/");

    // A draft parent moved: its published child's old address answers with a 301.
    let draft = write_page(&app, &staff, &[("title", "Desk"), ("slug", "desk")], "save").await;
    let desk = id_of(&draft);
    write_page(&app, &staff, &[("title", "Jobs"), ("slug", "jobs"), ("parent", &desk)], "publish")
        .await;
    assert_eq!(app.get("/desk/jobs/").await.status, 200);
    let moved = [("title", "Desk"), ("slug", "newsdesk"), ("action", "save")];
    assert_eq!(app.staff_post(&staff, &draft, &moved).await.status, 303);
    let old = app.get("/desk/jobs/").await;
    assert_eq!((old.status, old.location()), (301, "/newsdesk/jobs/"));
    assert_eq!(app.get("/newsdesk/").await.status, 404, "the parent is still a draft");
}

#[tokio::test]
async fn a_draft_page_with_nothing_under_it_can_be_deleted() {
    let (app, staff) = newsroom().await;
    let top = write_page(&app, &staff, &[("title", "Old"), ("slug", "old")], "save").await;
    let child =
        write_page(&app, &staff, &[("title", "Older"), ("parent", &id_of(&top))], "save").await;
    let refused = app.staff_post(&staff, &format!("{top}delete"), &[("confirm", "yes")]).await;
    assert_eq!(refused.status, 422, "a page with pages under it stays");
    assert!(refused.body.contains("pages under this one"));
    let unconfirmed = app.staff_post(&staff, &format!("{child}delete"), &[]).await;
    assert_eq!(unconfirmed.status, 422, "the box says one means it");
    for editor in [&child, &top] {
        let deleted =
            app.staff_post(&staff, &format!("{editor}delete"), &[("confirm", "yes")]).await;
        assert_eq!((deleted.status, deleted.location()), (303, "/admin/pages/?deleted=1"));
        assert_eq!(app.staff_get(&staff, editor).await.status, 404);
    }
    assert!(app.staff_get(&staff, "/admin/pages/").await.has(".empty"));
}

#[tokio::test]
async fn replies_on_a_page_are_off_until_staff_turn_them_on_then_work_as_on_articles() {
    let (app, staff) = newsroom().await;
    let editor =
        write_page(&app, &staff, &[("title", "Contact"), ("body", "Write to us.")], "publish")
            .await;
    let page = app.get("/contact/").await;
    assert!(!page.has("form.reply-form") && !page.has("#replies"), "off by default");
    assert_eq!(app.post("/contact/", &crate::helpers::valid_reply()).await.status, 405);

    let open = [
        ("title", "Contact"),
        ("body", "Write to us."),
        ("replies_open", "yes"),
        ("action", "save"),
    ];
    assert_eq!(app.staff_post(&staff, &editor, &open).await.status, 303);
    let page = app.get("/contact/").await;
    assert_eq!(text(page.one("#respond-title")), "Leave a Reply");
    assert!(text(page.one(".form-note")).contains("Your email address will not be published"));
    assert_eq!(attr(page.one("form.reply-form"), "action"), "/contact/");

    // A reply through the page's own form, threaded, shown, its email nowhere.
    let email = "reader.on.a.page@example.com";
    let first = app
        .reply(
            "/contact/",
            &crate::helpers::reply_with(&[("email", email), ("comment", "Hello desk")]),
        )
        .await;
    let answer =
        crate::helpers::reply_with(&[("parent", &first.to_string()), ("comment", "An answer")]);
    let second = app.post("/contact/", &answer).await;
    assert_eq!(second.status, 303);
    assert!(second.location().starts_with("/contact/#comment-"), "{}", second.location());
    let page = app.get("/contact/").await;
    let texts: Vec<String> = page.all(".reply-text").into_iter().map(text).collect();
    assert_eq!(texts, ["Hello desk", "An answer"]);
    assert_eq!(text(page.one("#replies-title")), "2 replies to “Contact”");
    assert!(!page.body.contains(email), "the email is never published");
    assert!(page.has(".replies .replies, ol ol"), "the answer sits under its reply");

    // A form with an error comes back with everything typed.
    let bad = crate::helpers::reply_with(&[("email", "not an email"), ("comment", "Kept text")]);
    let refused = app.post("/contact/", &bad).await;
    assert_eq!(refused.status, 422);
    assert_eq!(text(refused.one("#comment")), "Kept text");

    // The queue shows it on the page; staff never see the discussion as an article.
    let queue = app.staff_get(&staff, "/admin/replies/?status=approved").await;
    let link = queue
        .all(".queue-article a")
        .into_iter()
        .map(|a| attr(a, "href").to_owned())
        .find(|h| h.starts_with("/contact/"));
    assert!(link.is_some_and(|l| l.starts_with("/contact/#comment-")), "{}", queue.body);
    let articles = app.staff_get(&staff, "/admin/articles/").await;
    assert!(!articles.body.contains("Contact"), "the page's replies are not an article");
    // Nor can its row be opened, or published, as one.
    let discussion = app.stored(first).await.unwrap().article_id;
    let as_article = format!("/admin/articles/{discussion}/");
    assert_eq!(app.staff_get(&staff, &as_article).await.status, 404);
    let publish = [("headline", "Contact"), ("action", "publish")];
    assert_eq!(app.staff_post(&staff, &as_article, &publish).await.status, 404);
    assert!(app.article(discussion).await.unwrap().date_path.is_none(), "still no article");

    // A body past the site's limit is refused at once, as on an article.
    let huge = crate::helpers::reply_with(&[("comment", &"x".repeat(300_000))]);
    assert_eq!(app.post("/contact/", &huge).await.status, 413);

    // Closed again: the replies stay, the form goes, and a late reply is refused, kept.
    let closed = [("title", "Contact"), ("body", "Write to us."), ("action", "save")];
    assert_eq!(app.staff_post(&staff, &editor, &closed).await.status, 303);
    let page = app.get("/contact/").await;
    assert_eq!(page.all(".reply-text").len(), 2);
    assert!(!page.has("form.reply-form") && page.has(".replies-closed"));
    let late = app.post("/contact/", &crate::helpers::reply_with(&[("comment", "Too late")])).await;
    assert_eq!(late.status, 403, "{}", late.body);
    assert!(late.body.contains("Too late"), "the reader's text comes back");
}

#[tokio::test]
async fn a_held_reply_on_a_page_is_its_posters_alone_until_approved() {
    let app = spawn_with(&[("moderation", "all")]).await;
    app.add_staff("editor@example.com", "Eve Editor", Role::Editor).await;
    let staff = app.sign_in("editor@example.com").await;
    write_page(&app, &staff, &[("title", "Tips"), ("replies_open", "yes")], "publish").await;
    let sent =
        app.post("/tips/", &crate::helpers::reply_with(&[("comment", "A tip for you")])).await;
    assert_eq!(sent.status, 303);
    let cookie = crate::helpers::cookies_from(&sent);
    let mine = app.get_with("/tips/", &[("cookie", &cookie)]).await;
    assert!(text(mine.one("#replies")).contains("awaiting moderation"));
    assert_eq!(mine.header("cache-control"), "private, no-store");
    assert!(!app.get("/tips/").await.body.contains("A tip for you"), "others do not see it");
}

#[tokio::test]
async fn a_page_kept_in_the_cache_shows_a_reply_once_it_is_approved() {
    let app = spawn_with(&[("moderation", "all"), ("page_cache", "on")]).await;
    app.add_staff("editor@example.com", "Eve Editor", Role::Editor).await;
    let staff = app.sign_in("editor@example.com").await;
    write_page(&app, &staff, &[("title", "Tips"), ("replies_open", "yes")], "publish").await;
    let held = app.reply("/tips/", &crate::helpers::reply_with(&[("comment", "Held first")])).await;
    assert!(!app.get("/tips/").await.body.contains("Held first"));
    assert!(!app.get("/tips/").await.body.contains("Held first"), "served from the cache");
    let approve = format!("approve:{held}");
    app.staff_post(&staff, "/admin/replies/", &[("action", &approve)]).await;
    assert!(app.get("/tips/").await.body.contains("Held first"), "the approval reached the page");
    let answer = [("body", "Thanks for the tip")];
    let answered = app.staff_post(&staff, &format!("/admin/replies/{held}/reply"), &answer).await;
    assert_eq!(answered.status, 303, "{}", answered.body);
    assert!(app.get("/tips/").await.body.contains("Thanks for the tip"));
}
