//! A reader changes or deletes their reply from the browser that posted it, within
//! `edit_window_minutes`, with no JavaScript: the links on the page, the edit form, the
//! confirmation before a deletion, and every refusal.

use byline::domain::{ReplyId, ReplyStatus};
use byline::store::ReplyReads;

use crate::helpers::{
    Page, TestApp, attr, comment_id, cookies_from, encode, reply_with, spawn_app, spawn_with, text,
};

/// Posts a reply as a browser would and keeps the cookies it was given.
async fn post_as_browser(app: &TestApp, path: &str, comment: &str) -> (ReplyId, String) {
    let posted = app.post(path, &reply_with(&[("comment", comment)])).await;
    assert_eq!(posted.status, 303, "{}", posted.body);
    (comment_id(posted.location()), cookies_from(&posted))
}

async fn get_as(app: &TestApp, path: &str, cookie: &str) -> Page {
    app.get_with(path, &[("cookie", cookie)]).await
}

async fn post_as(app: &TestApp, path: &str, cookie: &str, form: &[(&str, String)]) -> Page {
    app.post_raw(path, encode(form).into_bytes(), &[("cookie", cookie)]).await
}

fn comment(text: &str) -> Vec<(&'static str, String)> {
    vec![("comment", text.to_owned())]
}

#[tokio::test]
async fn a_reader_edits_their_reply_from_the_same_browser_within_the_window() {
    let app = spawn_app().await;
    let path = app.publish("Ferry timetable").await.path;
    let (id, cookie) = post_as_browser(&app, &path, "The 8:15 is always late.").await;
    assert!(cookie.contains("byline_own="), "{cookie}");

    // Its poster sees the links and the time left; the page is theirs alone.
    let page = get_as(&app, &path, &cookie).await;
    let actions = page.one(&format!("#comment-{id} .own-actions"));
    assert_eq!(text(actions), "Edit · Delete (15 minutes left)");
    assert_eq!(page.header("cache-control"), "private, no-store");
    // Anyone else sees neither.
    let public = app.get(&path).await;
    assert!(!public.has(".own-actions"));
    assert!(public.has(&format!("#comment-{id}")));

    app.clock.advance(4 * 60 + 30);
    let page = get_as(&app, &path, &cookie).await;
    assert_eq!(text(page.one(".own-actions .time-left")), "(11 minutes left)", "rounded up");
    let edit_url = attr(page.one(".own-actions a[href$='/edit']"), "href").to_owned();
    assert_eq!(edit_url, format!("/replies/{id}/edit"));

    let form = get_as(&app, &edit_url, &cookie).await;
    assert_eq!(form.status, 200);
    assert_eq!(form.header("cache-control"), "private, no-store");
    assert_eq!(form.one("textarea#comment").text().collect::<String>(), "The 8:15 is always late.");
    assert_eq!(attr(form.one("main form"), "action"), edit_url);
    assert!(text(form.one("main")).contains("11 minutes left to change it."));
    assert!(!form.body.contains("ada@example.com"), "the poster's page does not show the email");

    let saved =
        post_as(&app, &edit_url, &cookie, &comment("The 8:15 was late twice this week.")).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(saved.location(), format!("{path}#comment-{id}"));

    let page = app.get(&path).await;
    assert_eq!(
        text(page.one(&format!("#comment-{id} .reply-text"))),
        "The 8:15 was late twice this week."
    );
    assert_eq!(text(page.one(&format!("#comment-{id} .edited"))), "edited");
    let stored = app.stored(id).await.unwrap();
    assert_eq!(stored.status, ReplyStatus::Approved);
    assert_eq!(stored.edited_at, Some(app.clock.now()));
}

#[tokio::test]
async fn once_the_window_has_passed_nothing_changes_and_the_new_text_is_kept() {
    let app = spawn_with(&[("moderation", "none"), ("edit_window_minutes", "5")]).await;
    let path = app.publish("Bridge closure").await.path;
    let (id, cookie) = post_as_browser(&app, &path, "Closed till March.").await;
    let edit_url = format!("/replies/{id}/edit");
    assert_eq!(get_as(&app, &edit_url, &cookie).await.status, 200);

    app.clock.advance(5 * 60);
    let page = get_as(&app, &path, &cookie).await;
    assert!(!page.has(".own-actions"), "the links go with the window");
    let refused = get_as(&app, &edit_url, &cookie).await;
    assert_eq!(refused.status, 403);
    assert!(text(refused.one("main")).contains("can no longer be changed"));

    let typed = "Closed till April, in fact.";
    let late = post_as(&app, &edit_url, &cookie, &comment(typed)).await;
    assert_eq!(late.status, 403);
    assert_eq!(late.one("textarea#kept").text().collect::<String>(), typed, "not lost");
    let deleted = post_as(&app, &format!("/replies/{id}/delete"), &cookie, &[]).await;
    assert_eq!(deleted.status, 403);

    let stored = app.stored(id).await.unwrap();
    assert_eq!(
        (stored.body.as_str(), stored.status),
        ("Closed till March.", ReplyStatus::Approved)
    );
    assert_eq!(stored.edited_at, None);
}

#[tokio::test]
async fn only_the_browser_that_posted_a_reply_may_change_it() {
    let app = spawn_app().await;
    let path = app.publish("Market day").await.path;
    let (id, cookie) = post_as_browser(&app, &path, "Stalls open at nine.").await;
    let (other, other_cookie) = post_as_browser(&app, &path, "Parking is free.").await;
    let edit_url = format!("/replies/{id}/edit");

    let no_cookie = app.get(&edit_url).await;
    assert_eq!(no_cookie.status, 403);
    // Another reader's cookie names their own reply, not this one.
    assert_eq!(get_as(&app, &edit_url, &other_cookie).await.status, 403);
    let attempt = post_as(&app, &edit_url, &other_cookie, &comment("Hijacked.")).await;
    assert_eq!(attempt.status, 403);
    // An altered cookie is no cookie.
    let forged = cookie.replace(&format!("byline_own={id}~"), &format!("byline_own={other}~"));
    assert_ne!(forged, cookie);
    assert_eq!(get_as(&app, &format!("/replies/{other}/edit"), &forged).await.status, 403);
    // A form sent from another site's page is refused, its text shown back.
    let foreign = app
        .post_raw(
            &edit_url,
            encode(&comment("From elsewhere.")).into_bytes(),
            &[("cookie", &cookie), ("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(foreign.status, 403);
    assert!(foreign.body.contains("From elsewhere."));
    assert_eq!(get_as(&app, "/replies/nonsense/edit", &cookie).await.status, 403);

    let stored = app.stored(id).await.unwrap();
    assert_eq!(stored.body, "Stalls open at nine.");
}

#[tokio::test]
async fn an_edit_passes_the_rules_a_new_reply_passes() {
    let app = spawn_with(&[("moderation", "none"), ("spam_list", "casino")]).await;
    let path = app.publish("School run").await.path;
    let (id, cookie) = post_as_browser(&app, &path, "Walk if you can.").await;
    let edit_url = format!("/replies/{id}/edit");

    // Empty or too long: 422, the typed text kept, nothing changed.
    let empty = post_as(&app, &edit_url, &cookie, &comment("   ")).await;
    assert_eq!(empty.status, 422);
    assert_eq!(attr(empty.one("textarea#comment"), "aria-invalid"), "true");
    assert!(!text(empty.one("#comment-error")).is_empty());
    assert!(empty.has("#form-errors[tabindex='-1'][autofocus] a[href='#comment']"));
    let long = "x".repeat(app.config.limits.comment + 1);
    let too_long = post_as(&app, &edit_url, &cookie, &comment(&long)).await;
    assert_eq!(too_long.status, 422);
    assert_eq!(too_long.one("textarea#comment").text().collect::<String>(), long);

    // An approved reply edited to carry three links goes back to the queue; its poster
    // still sees it, as held; nobody else does.
    let links = "See https://a.example, https://b.example and https://c.example";
    let held = post_as(&app, &edit_url, &cookie, &comment(links)).await;
    assert_eq!(held.status, 303, "{}", held.body);
    let reply_id = id;
    let queued = app.db(move |db| db.queued_reply(reply_id)).await.unwrap();
    assert_eq!(queued.reply.status, ReplyStatus::Pending);
    assert_eq!(queued.held_reason, "3 links (more than 2)");
    let cookie = format!("{cookie}; {}", cookies_from(&held));
    let own_view = get_as(&app, &path, &cookie).await;
    assert!(text(own_view.one(&format!("#comment-{id}"))).contains("awaiting moderation"));
    assert!(!app.get(&path).await.has(&format!("#comment-{id}")));
    assert_eq!(app.article_by_slug("school-run").await.unwrap().reply_count, 0);

    // Words on the spam list send it to spam, and out of its poster's reach.
    let spam = post_as(&app, &edit_url, &cookie, &comment("Try the casino.")).await;
    assert_eq!(spam.status, 303);
    assert_eq!(app.stored(reply_id).await.unwrap().status, ReplyStatus::Spam);
    assert_eq!(get_as(&app, &edit_url, &cookie).await.status, 403);
}

#[tokio::test]
async fn a_reader_deletes_their_reply_after_being_asked() {
    let app = spawn_app().await;
    let path = app.publish("Library hours").await.path;
    let (id, cookie) = post_as_browser(&app, &path, "Open Sundays, please.").await;
    let reply_id = id;
    let answer =
        app.reply(&path, &reply_with(&[("comment", "Agreed."), ("parent", &id.to_string())])).await;

    let page = get_as(&app, &path, &cookie).await;
    let delete_url = attr(page.one(".own-actions a[href$='/delete']"), "href").to_owned();
    let ask = get_as(&app, &delete_url, &cookie).await;
    assert_eq!(ask.status, 200);
    assert!(text(ask.one("main")).contains("Open Sundays, please."));
    assert_eq!(attr(ask.one("main form"), "action"), delete_url);
    assert_eq!(app.stored(reply_id).await.unwrap().status, ReplyStatus::Approved, "a GET asks");

    let deleted = post_as(&app, &delete_url, &cookie, &[]).await;
    assert_eq!(deleted.status, 303);
    assert_eq!(deleted.location(), format!("{path}#replies"));
    let queued = app.db(move |db| db.queued_reply(reply_id)).await.unwrap();
    assert_eq!(queued.reply.status, ReplyStatus::Trash);
    assert_eq!(queued.held_reason, "deleted by its poster");

    // The answer keeps its place under a placeholder; the text is gone from the page.
    let page = app.get(&path).await;
    assert!(!page.body.contains("Open Sundays"));
    assert!(page.has(&format!("li#comment-{id}.removed #comment-{answer}")));
    assert_eq!(get_as(&app, &delete_url, &cookie).await.status, 403, "once");
}

#[tokio::test]
async fn with_a_window_of_zero_replies_cannot_be_changed() {
    let app = spawn_with(&[("moderation", "none"), ("edit_window_minutes", "0")]).await;
    let path = app.publish("Quiet street").await.path;
    let posted = app.post(&path, &reply_with(&[])).await;
    assert_eq!(posted.status, 303);
    assert!(!cookies_from(&posted).contains("byline_own="));
}
