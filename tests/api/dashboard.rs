//! The newsroom's dashboard at `/admin/`, the held count every staff page shows, and the
//! article list at `/admin/articles/`: its times, lead story and sorting.

use byline::domain::{ReplyStatus, Role};

use crate::helpers::{StaffClient, TestApp, attr, reply_with, spawn_with, text};

async fn newsroom() -> (TestApp, StaffClient) {
    let app = spawn_with(&[("moderation", "first-time")]).await;
    app.add_staff("editor@example.com", "Eve Editor", Role::Editor).await;
    let staff = app.sign_in("editor@example.com").await;
    (app, staff)
}

#[tokio::test]
async fn the_dashboard_shows_what_waits_what_is_coming_and_what_readers_do() {
    let (app, staff) = newsroom().await;
    let busy = app.write(&staff, &[("headline", "Busy story")], "publish").await;
    let quiet = app.write(&staff, &[("headline", "Quiet story")], "publish").await;
    app.write(&staff, &[("headline", "Half-written draft")], "save").await;
    let soon = app.clock.now() + 3 * 86_400;
    let at = jiff::Timestamp::from_second(soon).unwrap().strftime("%Y-%m-%dT%H:%M").to_string();
    app.write(&staff, &[("headline", "Coming soon"), ("publish_at", &at)], "schedule").await;
    let busy_path = app.article(busy).await.unwrap().public_path().unwrap();
    let quiet_path = app.article(quiet).await.unwrap().public_path().unwrap();
    // First replies are held; approved ones count for today's most replied.
    for (i, name) in ["Ada", "Bea", "Cy"].iter().enumerate() {
        let email = format!("{}@example.com", name.to_lowercase());
        let comment = format!("Reply number {i}.");
        let id = app
            .reply(
                &busy_path,
                &reply_with(&[("name", name), ("email", &email), ("comment", &comment)]),
            )
            .await;
        if i > 0 {
            app.set_reply_status(id, ReplyStatus::Approved).await;
        }
    }
    let id =
        app.reply(&quiet_path, &reply_with(&[("name", "Di"), ("email", "di@example.com")])).await;
    app.set_reply_status(id, ReplyStatus::Approved).await;

    let page = app.staff_get(&staff, "/admin/").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(text(page.one("h1")), "Dashboard");
    assert_eq!(text(page.one("#held-count")), "1");
    assert!(text(page.one("#held-title + ul")).contains("Ada"));
    // The frame shows the held count on every staff page.
    for path in ["/admin/", "/admin/articles/", "/admin/account"] {
        let frame = app.staff_get(&staff, path).await;
        assert_eq!(text(frame.one(".admin-nav .count-badge")), "1 held", "{path}");
    }
    assert!(text(page.one("#drafts-title + ul")).contains("Half-written draft"));
    let scheduled = text(page.one("#scheduled-title + ul"));
    assert!(scheduled.contains("Coming soon") && scheduled.contains("publishes"), "{scheduled}");
    let most: Vec<_> = page.all(".most-replied li").into_iter().map(text).collect();
    assert_eq!(most.len(), 2, "{most:?}");
    assert!(most[0].starts_with("Busy story") && most[0].ends_with("2 replies"), "{most:?}");
    assert!(most[1].starts_with("Quiet story") && most[1].ends_with("1 reply"), "{most:?}");
    let latest = text(page.one("#latest-title + ul"));
    assert!(latest.contains("Di") && latest.contains("Cy") && !latest.contains("Ada"), "{latest}");

    // Approving the held reply empties the count everywhere.
    let held = app.queued().await.into_iter().find(|q| q.reply.status == ReplyStatus::Pending);
    app.set_reply_status(held.unwrap().reply.id, ReplyStatus::Approved).await;
    let page = app.staff_get(&staff, "/admin/").await;
    assert_eq!(text(page.one("#held-count")), "0");
    assert!(!page.has(".admin-nav .count-badge"));
}

#[tokio::test]
async fn the_list_moved_and_its_old_addresses_follow() {
    let (app, staff) = newsroom().await;
    let old = app.staff_get(&staff, "/admin/?status=draft&q=budget").await;
    assert_eq!(old.status, 303);
    assert_eq!(old.location(), "/admin/articles/?status=draft&q=budget");
    let list = app.staff_get(&staff, "/admin/articles/").await;
    assert_eq!(list.status, 200);
    assert_eq!(text(list.one("h1")), "Articles");
    // Signing in lands on the dashboard.
    let signed = app.try_sign_in("editor@example.com", crate::helpers::PASSWORD).await;
    assert_eq!(signed.location(), "/admin/");
}

#[tokio::test]
async fn the_list_shows_when_and_the_lead_and_sorts_by_any_column() {
    let (app, staff) = newsroom().await;
    let first = app.write(&staff, &[("headline", "Apples"), ("lead", "yes")], "publish").await;
    app.clock.advance(60);
    let second = app.write(&staff, &[("headline", "Bananas")], "publish").await;
    app.write(&staff, &[("headline", "Cherries")], "save").await;
    let list = app.staff_get(&staff, "/admin/articles/").await;
    let row = |id: byline::domain::ArticleId| format!("tr[data-id='{id}']");
    assert!(list.has(&format!("{} .lead-badge", row(first))), "the lead story is marked");
    assert!(!list.has(&format!("{} .lead-badge", row(second))));
    let published = text(list.one(&format!("{} td.when", row(first))));
    assert!(published.ends_with(" UTC"), "{published}");
    // The last changed first by default; each heading sorts by itself, then the other way.
    let headlines = |page: &crate::helpers::Page| -> Vec<String> {
        page.all(".article-table tbody .edit-link").into_iter().map(text).collect()
    };
    assert_eq!(headlines(&list), ["Cherries", "Bananas", "Apples"]);
    let sorted = list.one("th[aria-sort]");
    assert_eq!((text(sorted).as_str(), attr(sorted, "aria-sort")), ("Last change ▼", "descending"));
    let by_headline = list
        .all("th a")
        .into_iter()
        .find(|a| text(*a) == "Headline")
        .map(|a| attr(a, "href").to_owned())
        .unwrap();
    assert_eq!(by_headline, "/admin/articles/?sort=headline&dir=asc");
    let page = app.staff_get(&staff, &by_headline).await;
    assert_eq!(headlines(&page), ["Apples", "Bananas", "Cherries"]);
    let reverse = attr(page.one("th[aria-sort] a"), "href").to_owned();
    assert_eq!(
        headlines(&app.staff_get(&staff, &reverse).await),
        ["Cherries", "Bananas", "Apples"]
    );
    let by_published = app.staff_get(&staff, "/admin/articles/?sort=published&dir=desc").await;
    assert_eq!(headlines(&by_published), ["Bananas", "Apples", "Cherries"]);
    // Filters keep the order; a bad sort is the default.
    let filtered =
        app.staff_get(&staff, "/admin/articles/?status=published&sort=headline&dir=asc").await;
    assert_eq!(headlines(&filtered), ["Apples", "Bananas"]);
    let odd = app.staff_get(&staff, "/admin/articles/?sort=id;DROP").await;
    assert_eq!(odd.status, 200);
}
