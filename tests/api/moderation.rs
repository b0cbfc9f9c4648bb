use byline::domain::ReplyStatus;

use crate::helpers::{cookies_from, reply_with, spawn_with, text};

#[tokio::test]
async fn policy_none_publishes_at_once() {
    let app = spawn_with(&[("moderation", "none")]).await;
    let path = app.publish("Open").await.path;
    let id = app.reply(&path, &reply_with(&[])).await;
    let page = app.get(&path).await;
    assert!(page.has(&format!("li#comment-{id}")));
    assert!(!page.has(".awaiting"));
}

#[tokio::test]
async fn first_time_holds_a_new_email_until_one_reply_is_approved() {
    let app = spawn_with(&[]).await; // first-time is the default
    let path = app.publish("First time").await.path;
    let response = app.post(&path, &reply_with(&[("email", "New@Example.com")])).await;
    assert_eq!(response.status, 303);
    let held = crate::helpers::comment_id(response.location());
    let comment = app.stored(held).await.unwrap();
    assert_eq!(comment.status, ReplyStatus::Pending);

    // Anonymous readers do not see it, and the page stays public.
    let anonymous = app.get(&path).await;
    assert!(!anonymous.has(&format!("#comment-{held}")));
    assert_eq!(anonymous.header("cache-control"), "public, max-age=0, s-maxage=5");

    // Its poster does, marked as held, on a page no cache may keep.
    let cookie = cookies_from(&response);
    assert!(cookie.contains("byline_held="), "{cookie}");
    let mine = app.get_with(&path, &[("cookie", &cookie)]).await;
    assert_eq!(
        text(mine.one(&format!("#comment-{held} .awaiting"))),
        "Your comment is awaiting moderation."
    );
    assert_eq!(text(mine.one(&format!("#comment-{held} .reply-text"))), "A thoughtful reply.");
    assert_eq!(mine.header("cache-control"), "private, no-store");

    // A forged cookie shows nothing.
    let forged = cookie.replace("byline_held=", &format!("byline_held={}.", held.get() + 1));
    assert!(!app.get_with(&path, &[("cookie", &forged)]).await.has(".awaiting"));

    // Once one reply from that address is approved, the next is published at once.
    app.set_reply_status(held, ReplyStatus::Approved).await;
    let second =
        app.post(&path, &reply_with(&[("email", "new@example.COM"), ("comment", "Again")])).await;
    let second = crate::helpers::comment_id(second.location());
    assert_eq!(app.stored(second).await.unwrap().status, ReplyStatus::Approved);
    let page = app.get(&path).await;
    assert!(page.has(&format!("#comment-{held}")) && page.has(&format!("#comment-{second}")));
}

#[tokio::test]
async fn policy_all_holds_every_reply() {
    let app = spawn_with(&[("moderation", "all")]).await;
    let path = app.publish("Held").await.path;
    let first = app.reply(&path, &reply_with(&[])).await;
    app.set_reply_status(first, ReplyStatus::Approved).await;
    let second = app.reply(&path, &reply_with(&[("comment", "Again")])).await;
    assert_eq!(app.stored(second).await.unwrap().status, ReplyStatus::Pending);
    assert!(!app.get(&path).await.has(&format!("#comment-{second}")));
}

#[tokio::test]
async fn a_poster_sees_several_held_replies_in_their_threads() {
    let app = spawn_with(&[("moderation", "all")]).await;
    let published = app.publish("Held threads").await;
    let parent = app.seed_reply(published.id, None, "Approved One", ReplyStatus::Approved).await;
    let first = app.post(&published.path, &reply_with(&[("parent", &parent.to_string())])).await;
    let cookie = cookies_from(&first);
    let second = app
        .post_raw(
            &published.path,
            crate::helpers::encode(&reply_with(&[
                ("comment", "Top level"),
                ("token", &app.form_token(&published.path).await),
            ]))
            .into_bytes(),
            &[("cookie", &cookie)],
        )
        .await;
    let cookie = cookies_from(&second);
    let page = app.get_with(&published.path, &[("cookie", &cookie)]).await;
    let first = crate::helpers::comment_id(first.location());
    let second = crate::helpers::comment_id(second.location());
    assert!(page.has(&format!("#comment-{parent} > ol.children > #comment-{first} .awaiting")));
    assert!(page.has(&format!("ol.reply-list > #comment-{second} .awaiting")));
    // Held replies cannot be answered yet.
    assert!(!page.has(&format!("#comment-{first} .reply-link")));
}
