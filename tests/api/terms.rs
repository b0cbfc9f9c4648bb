//! Sections and tags in the newsroom: renamed, described, merged and deleted, their old
//! addresses (and feeds) answering with a `301`, search following their new names.

use byline::domain::Role;

use crate::helpers::{StaffClient, TestApp, attr, spawn_with, text};

async fn newsroom() -> (TestApp, StaffClient) {
    let app = spawn_with(&[("moderation", "none")]).await;
    app.add_staff("editor@example.com", "Eve Editor", Role::Editor).await;
    let staff = app.sign_in("editor@example.com").await;
    (app, staff)
}

/// The id of the section or tag called `name` on its page in the newsroom.
fn id_on(page: &crate::helpers::Page, name: &str) -> String {
    page.all("li.term")
        .into_iter()
        .find(|li| {
            text(li.select(&scraper::Selector::parse("h2 a").unwrap()).next().unwrap()) == name
        })
        .map(|li| attr(li, "id").trim_start_matches("term-").to_owned())
        .unwrap_or_else(|| panic!("no {name} in:\n{}", page.body))
}

#[tokio::test]
async fn a_section_is_renamed_and_described_and_its_old_address_follows() {
    let (app, staff) = newsroom().await;
    app.write(&staff, &[("headline", "Harbour wall"), ("section", "Local")], "publish").await;
    let page = app.staff_get(&staff, "/admin/sections/").await;
    assert_eq!(page.status, 200);
    assert!(text(page.one("li.term h2")).contains("1 article"));
    let id = id_on(&page, "Local");
    let saved = app
        .staff_post(
            &staff,
            &format!("/admin/sections/{id}"),
            &[
                ("action", "save"),
                ("name", "Local news"),
                ("slug", "local-news"),
                ("description", "Our patch of the estuary."),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let section = app.get("/section/local-news/").await;
    assert_eq!(text(section.one("h1")), "Local news");
    assert_eq!(text(section.one(".listing-header .standfirst")), "Our patch of the estuary.");
    for (old, new) in [
        ("/section/local/", "/section/local-news/"),
        ("/section/local/feed.atom", "/section/local-news/feed.atom"),
        ("/section/local/page/2/", "/section/local-news/page/2/"),
    ] {
        let moved = app.get(old).await;
        assert_eq!((moved.status, moved.location()), (301, new), "{old}");
    }
    assert_eq!(text(app.get("/").await.one("nav.sections a")), "Local news");
    // Search finds it by its new name.
    let found = app.get("/search?q=local+news").await;
    assert_eq!(found.all(".search-results h2 a").len(), 1, "{}", found.body);
    // Another's name is refused, with what was typed.
    app.write(&staff, &[("headline", "Cup final"), ("section", "Sport")], "publish").await;
    let page = app.staff_get(&staff, "/admin/sections/").await;
    let sport = id_on(&page, "Sport");
    let clash = app
        .staff_post(
            &staff,
            &format!("/admin/sections/{sport}"),
            &[
                ("action", "save"),
                ("name", "Local news"),
                ("slug", "local-news"),
                ("description", ""),
            ],
        )
        .await;
    assert_eq!(clash.status, 422);
    assert_eq!(attr(clash.one(&format!("#name-{sport}")), "value"), "Local news");
    assert!(clash.has(&format!("#slug-{sport}-error")));
}

#[tokio::test]
async fn tags_are_merged_and_unused_ones_deleted() {
    let (app, staff) = newsroom().await;
    let a = app.write(&staff, &[("headline", "Ferry one"), ("tags", "Ferry")], "publish").await;
    let b = app
        .write(&staff, &[("headline", "Ferry two"), ("tags", "Ferries, Boats")], "publish")
        .await;
    let page = app.staff_get(&staff, "/admin/tags/").await;
    let (ferry, ferries) = (id_on(&page, "Ferry"), id_on(&page, "Ferries"));
    let merged = app
        .staff_post(
            &staff,
            &format!("/admin/tags/{ferry}"),
            &[("action", "merge"), ("into", &ferries)],
        )
        .await;
    assert_eq!(merged.status, 303);
    let tag = app.get("/tag/ferries/").await;
    assert_eq!(tag.all(".summary").len(), 2);
    let moved = app.get("/tag/ferry/").await;
    assert_eq!((moved.status, moved.location()), (301, "/tag/ferries/"));
    let article = app.get(&app.article(a).await.unwrap().public_path().unwrap()).await;
    let tags: Vec<_> = article.all(".tags a").into_iter().map(text).collect();
    assert_eq!(tags, ["Ferries"]);
    // A tag in use is not deleted; an unused one is.
    let page = app.staff_get(&staff, "/admin/tags/").await;
    let boats = id_on(&page, "Boats");
    let used =
        app.staff_post(&staff, &format!("/admin/tags/{boats}"), &[("action", "delete")]).await;
    assert_eq!(used.status, 422);
    assert!(text(used.one("main")).contains("1 article use it"));
    app.staff_post(
        &staff,
        &format!("/admin/articles/{a}/"),
        &[("headline", "Ferry one"), ("tags", ""), ("action", "publish")],
    )
    .await;
    let page = app.staff_get(&staff, "/admin/tags/").await;
    assert!(text(page.one("main")).contains("Ferries"));
    // Taken off its one article, Boats is unused, and goes.
    let untagged = [("headline", "Ferry two"), ("tags", "Ferries"), ("action", "publish")];
    app.staff_post(&staff, &format!("/admin/articles/{b}/"), &untagged).await;
    let deleted =
        app.staff_post(&staff, &format!("/admin/tags/{boats}"), &[("action", "delete")]).await;
    assert_eq!(deleted.status, 303, "{}", deleted.body);
    let page = app.staff_get(&staff, "/admin/tags/").await;
    assert!(!text(page.one("main")).contains("Boats"), "deleted");
}

#[tokio::test]
async fn authors_do_not_look_after_sections() {
    let (app, _) = newsroom().await;
    app.add_staff("ann@example.com", "Ann Author", Role::Author).await;
    let author = app.sign_in("ann@example.com").await;
    assert_eq!(app.staff_get(&author, "/admin/sections/").await.status, 403);
    assert_eq!(app.staff_post(&author, "/admin/tags/1", &[("action", "delete")]).await.status, 403);
}
