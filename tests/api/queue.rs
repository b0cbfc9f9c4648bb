//! The moderation queue and the discussion settings page.

use byline::domain::{ReplyId, ReplyStatus, Role, SettingKey};
use byline::store::SiteSetting;

use crate::helpers::{StaffClient, TestApp, attr, comment_id, reply_with, spawn_with, text};

async fn moderated() -> (TestApp, StaffClient, String) {
    let app = spawn_with(&[("moderation", "all")]).await;
    app.add_staff("mod@example.com", "Mo Derator", Role::Editor).await;
    let staff = app.sign_in("mod@example.com").await;
    let path = app.publish("Queue story").await.path;
    (app, staff, path)
}

async fn status(app: &TestApp, id: ReplyId) -> Option<ReplyStatus> {
    app.stored(id).await.map(|c| c.status)
}

#[tokio::test]
async fn the_queue_shows_staff_what_readers_never_see() {
    let (app, staff, path) = moderated().await;
    let id = app
        .reply(
            &path,
            &reply_with(&[
                ("email", "Held.Reader@Example.com"),
                ("website", "https://held.example/"),
            ]),
        )
        .await;
    let queue = app.staff_get(&staff, "/admin/replies/").await;
    assert_eq!(queue.status, 200);
    assert_eq!(queue.header("cache-control"), "private, no-store");
    let item = format!("#reply-{id}");
    assert_eq!(text(queue.one(&format!("{item} .queue-email"))), "Held.Reader@Example.com");
    assert_eq!(text(queue.one(&format!("{item} .queue-website"))), "https://held.example/");
    assert_eq!(text(queue.one(&format!("{item} .queue-ip"))), "127.0.0.1");
    assert_eq!(
        text(queue.one(&format!("{item} .queue-reason"))),
        "Held because: every reply is held"
    );
    assert!(text(queue.one(&format!("{item} .queue-article"))).contains("Queue story"));
    assert_eq!(text(queue.one(&format!("{item} .reply-text"))), "A thoughtful reply.");
    assert_eq!(text(queue.one(".tab.current")), "Held (1)");
}

#[tokio::test]
async fn every_action_changes_the_public_page_at_once() {
    let (app, staff, path) = moderated().await;
    let id = app.reply(&path, &reply_with(&[])).await;
    let (app, staff) = (&app, &staff);
    let shown = || async { app.get(&path).await.has(&format!("li#comment-{id}")) };
    let act = |action: &'static str| async move {
        let value = format!("{action}:{id}");
        // Deleting for ever asks first: the test answers yes.
        app.staff_post(staff, "/admin/replies/", &[("action", &value), ("confirmed", "yes")]).await
    };
    assert!(!shown().await);
    for (action, expected, public) in [
        ("approve", Some(ReplyStatus::Approved), true),
        ("unapprove", Some(ReplyStatus::Pending), false),
        ("spam", Some(ReplyStatus::Spam), false),
        ("notspam", Some(ReplyStatus::Pending), false),
        ("approve", Some(ReplyStatus::Approved), true),
        ("trash", Some(ReplyStatus::Trash), false),
        ("restore", Some(ReplyStatus::Pending), false),
        ("delete", None, false),
    ] {
        let response = act(action).await;
        assert_eq!(response.status, 303, "{action}");
        assert_eq!(status(app, id).await, expected, "{action}");
        assert_eq!(shown().await, public, "{action}");
    }
}

#[tokio::test]
async fn bulk_actions_apply_to_the_ticked_replies() {
    let (app, staff, path) = moderated().await;
    let ids: Vec<ReplyId> = replies(&app, &path, ["one", "two", "three"]).await;
    let first = ids[0].to_string();
    let second = ids[1].to_string();
    let response = app
        .staff_post(
            &staff,
            "/admin/replies/",
            &[("action", "bulk"), ("bulk", "approve"), ("ids", &first), ("ids", &second)],
        )
        .await;
    assert_eq!(response.status, 303);
    assert_eq!(status(&app, ids[0]).await, Some(ReplyStatus::Approved));
    assert_eq!(status(&app, ids[1]).await, Some(ReplyStatus::Approved));
    assert_eq!(status(&app, ids[2]).await, Some(ReplyStatus::Pending));
    let page = app.get(&path).await;
    assert_eq!(text(page.one("#replies-title")), "2 replies to “Queue story”");

    app.staff_post(
        &staff,
        "/admin/replies/",
        &[("action", "bulk"), ("bulk", "spam"), ("ids", &first), ("ids", &second)],
    )
    .await;
    let queue = app.staff_get(&staff, "/admin/replies/?status=spam").await;
    assert_eq!(queue.all(".queue-item").len(), 2);
    assert_eq!(text(queue.one(".tab[data-status=spam]")), "Spam (2)");
    // Deleting for ever asks first, saying how many; asking deletes nothing.
    let ask = app
        .staff_post(
            &staff,
            "/admin/replies/",
            &[("action", "bulk"), ("bulk", "delete"), ("ids", &first), ("ids", &second)],
        )
        .await;
    assert_eq!(ask.status, 200);
    assert_eq!(text(ask.one("h1")), "Delete these 2 replies for ever?");
    assert_eq!(status(&app, ids[0]).await, Some(ReplyStatus::Spam));
    let answer: Vec<(String, String)> = ask
        .all("main form input[type=hidden]")
        .into_iter()
        .map(|i| (attr(i, "name").to_owned(), attr(i, "value").to_owned()))
        .filter(|(name, _)| name != "csrf")
        .collect();
    let answer: Vec<(&str, &str)> = answer.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let deleted = app.staff_post(&staff, "/admin/replies/", &answer).await;
    assert_eq!(deleted.status, 303);
    assert_eq!(status(&app, ids[0]).await, None);
    assert_eq!(status(&app, ids[1]).await, None);
    let after = app.staff_get(&staff, deleted.location()).await;
    assert_eq!(text(after.one(".queue-notice p")), "2 replies deleted for ever.");
    assert!(!after.has(".queue-notice form"), "no undo for what cannot be undone");
    let nothing = app
        .staff_post(
            &staff,
            "/admin/replies/",
            &[("action", "bulk"), ("bulk", "explode"), ("ids", &ids[2].to_string())],
        )
        .await;
    assert_eq!(nothing.status, 400);
    let forged = app
        .post_raw(
            "/admin/replies/",
            format!("action=approve:{}", ids[2]).into_bytes(),
            &[("cookie", &staff.cookie)],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(status(&app, ids[2]).await, Some(ReplyStatus::Pending));
}

async fn replies<const N: usize>(app: &TestApp, path: &str, texts: [&str; N]) -> Vec<ReplyId> {
    let mut ids = Vec::new();
    for t in texts {
        ids.push(app.reply(path, &reply_with(&[("comment", t)])).await);
    }
    ids
}

#[tokio::test]
async fn the_queue_filters_by_article_and_email_and_pages() {
    let (app, staff, path) = moderated().await;
    let other = app.publish("Other story").await;
    let a = app.reply(&path, &reply_with(&[("email", "a@example.com")])).await;
    let b = app.reply(&other.path, &reply_with(&[("email", "b@example.com")])).await;
    let by_article = app
        .staff_get(&staff, &format!("/admin/replies/?status=pending&article={}", other.id))
        .await;
    let ids: Vec<_> =
        by_article.all(".queue-item").into_iter().map(|li| attr(li, "id").to_owned()).collect();
    assert_eq!(ids, [format!("reply-{b}")]);
    let by_email =
        app.staff_get(&staff, "/admin/replies/?status=pending&email=A%40EXAMPLE.com").await;
    let ids: Vec<_> =
        by_email.all(".queue-item").into_iter().map(|li| attr(li, "id").to_owned()).collect();
    assert_eq!(ids, [format!("reply-{a}")]);
    let all = app.staff_get(&staff, "/admin/replies/").await;
    let ids: Vec<_> =
        all.all(".queue-item").into_iter().map(|li| attr(li, "id").to_owned()).collect();
    assert_eq!(ids, [format!("reply-{b}"), format!("reply-{a}")], "newest first");
}

#[tokio::test]
async fn authors_moderate_their_own_articles_only() {
    let app = spawn_with(&[("moderation", "all")]).await;
    app.add_staff("ann@example.com", "Ann", Role::Author).await;
    let ann = app.sign_in("ann@example.com").await;
    let anns = app.write(&ann, &[("headline", "Ann’s story")], "publish").await;
    let anns_path = app.article(anns).await.unwrap().public_path().unwrap();
    let others = app.publish("Someone else’s").await;
    let on_anns = app.reply(&anns_path, &reply_with(&[])).await;
    let on_others = app.reply(&others.path, &reply_with(&[])).await;
    let queue = app.staff_get(&ann, "/admin/replies/").await;
    assert!(queue.has(&format!("#reply-{on_anns}")));
    assert!(!queue.has(&format!("#reply-{on_others}")));
    assert_eq!(text(queue.one(".tab.current")), "Held (1)");
    let refused = app
        .staff_post(&ann, "/admin/replies/", &[("action", &format!("approve:{on_others}"))])
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(status(&app, on_others).await, Some(ReplyStatus::Pending));
    assert_eq!(app.staff_get(&ann, &format!("/admin/replies/{on_others}/edit")).await.status, 403);
    let approved =
        app.staff_post(&ann, "/admin/replies/", &[("action", &format!("approve:{on_anns}"))]).await;
    assert_eq!(approved.status, 303);
    assert_eq!(app.staff_get(&ann, "/admin/settings").await.status, 403, "settings are for admins");
}

#[tokio::test]
async fn moderators_edit_replies_and_answer_as_staff() {
    let (app, staff, path) = moderated().await;
    let id = app.reply(&path, &reply_with(&[("comment", "Original text")])).await;
    let edit = app.staff_get(&staff, &format!("/admin/replies/{id}/edit")).await;
    assert_eq!(text(edit.one("#body")), "Original text");
    let saved = app
        .staff_post(&staff, &format!("/admin/replies/{id}/edit"), &[("body", "Edited <b>text</b>")])
        .await;
    assert_eq!(saved.status, 303);
    let empty =
        app.staff_post(&staff, &format!("/admin/replies/{id}/edit"), &[("body", "  ")]).await;
    assert_eq!(empty.status, 422);

    let answered = app
        .staff_post(
            &staff,
            &format!("/admin/replies/{id}/reply"),
            &[("body", "Thanks, we have corrected it.")],
        )
        .await;
    assert_eq!(answered.status, 303);
    let page = app.get(&path).await;
    assert_eq!(
        text(page.one(&format!("#comment-{id} .reply-text"))),
        "Edited <b>text</b>",
        "approved with the answer"
    );
    let answer = page.one(&format!("#comment-{id} > ol.children > li"));
    let answer_id = attr(answer, "id").to_owned();
    assert!(text(answer).contains("Thanks, we have corrected it."));
    assert_eq!(text(page.one(&format!("#{answer_id} .staff-badge"))), "Staff");
    assert!(text(page.one(&format!("#{answer_id} .reply-author"))).contains("Mo Derator"));
    assert!(!page.body.contains("mod@example.com"), "a staff email is not published either");
}

#[tokio::test]
async fn a_reader_sees_a_held_reply_approved() {
    let (app, staff, path) = moderated().await;
    let response = app.post(&path, &reply_with(&[("comment", "Held, then approved")])).await;
    let id = comment_id(response.location());
    let cookie = crate::helpers::cookies_from(&response);
    let mine = app.get_with(&path, &[("cookie", &cookie)]).await;
    assert!(mine.has(&format!("#comment-{id} .awaiting")));
    app.staff_post(&staff, "/admin/replies/", &[("action", &format!("approve:{id}"))]).await;
    let public = app.get(&path).await;
    assert!(public.has(&format!("#comment-{id}")) && !public.has(".awaiting"));
}

#[tokio::test]
async fn admins_change_settings_and_the_environment_wins() {
    // `thread_depth` is fixed, as a BYLINE_THREAD_DEPTH variable would fix it.
    let app = spawn_with(&[("thread_depth", "3"), ("moderation", "none")]).await;
    app.add_staff("root@example.com", "Root", Role::Admin).await;
    let admin = app.sign_in("root@example.com").await;
    let page = app.staff_get(&admin, "/admin/settings").await;
    assert_eq!(page.status, 200);
    assert!(page.one("#thread_depth").value().attr("disabled").is_some());
    assert!(text(page.one("#setting-thread_depth .fixed")).contains("BYLINE_THREAD_DEPTH"));
    assert_eq!(attr(page.one("#thread_depth"), "value"), "3");
    assert!(page.one("#max_links").value().attr("disabled").is_none());

    let saved = app
        .staff_post(
            &admin,
            "/admin/settings",
            &[
                ("thread_depth", "9"),
                ("max_links", "0"),
                ("hold_list", "casino\nlottery"),
                ("moderation", "all"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let effective = byline::services::settings::effective(&app.services).await.unwrap();
    assert_eq!(effective.settings.thread_depth, 3, "the environment wins over the database");
    assert_eq!(effective.settings.max_links, Some(0));
    assert_eq!(effective.settings.hold_list, ["casino", "lottery"]);
    assert_eq!(effective.settings.moderation, byline::domain::ModerationPolicy::None, "fixed too");
    assert_eq!(
        app.setting(SiteSetting::Discussion(SettingKey::ThreadDepth)).await,
        None,
        "a fixed one is not stored"
    );

    let bad = app
        .staff_post(&admin, "/admin/settings", &[("max_links", "lots"), ("close_after_days", "7")])
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.has("#max_links-error"));
    assert_eq!(attr(bad.one("#max_links"), "value"), "lots", "what was typed stays");
    assert_eq!(
        app.setting(SiteSetting::Discussion(SettingKey::CloseAfterDays)).await,
        None,
        "nothing saved"
    );
}

/// A reader's address is kept `ip_retention_days` from the reply, then erased by the jobs.
#[tokio::test]
async fn reader_addresses_are_erased_after_ip_retention_days() {
    let app = spawn_with(&[("moderation", "all"), ("ip_retention_days", "30")]).await;
    app.add_staff("mod@example.com", "Mo Derator", Role::Editor).await;
    let path = app.publish("Addresses").await.path;
    let old = app.reply(&path, &reply_with(&[("comment", "Written first")])).await;
    app.clock.advance(29 * 86_400);
    let later = app.publish("Addresses, later").await.path;
    let young = app.reply(&later, &reply_with(&[("comment", "Written a month later")])).await;
    app.clock.advance(86_400 + 1);
    let ip_of = |id: ReplyId| {
        let app = &app;
        async move { app.queued().await.into_iter().find(|q| q.reply.id == id).unwrap().ip }
    };
    let mut erased = false;
    for _ in 0..100 {
        erased = ip_of(old).await.is_none();
        if erased {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(erased, "the thirty-day-old reply's address is erased");
    assert_eq!(ip_of(young).await.as_deref(), Some("127.0.0.1"));
    let staff = app.sign_in("mod@example.com").await;
    let queue = app.staff_get(&staff, "/admin/replies/").await;
    assert_eq!(text(queue.one(&format!("#reply-{old} .queue-ip"))), "address erased");
    assert_eq!(text(queue.one(&format!("#reply-{young} .queue-ip"))), "127.0.0.1");
}

#[tokio::test]
async fn every_action_says_what_it_did_and_undo_puts_it_back() {
    let (app, staff, path) = moderated().await;
    let ids: Vec<ReplyId> = replies(&app, &path, ["one", "two", "three"]).await;
    let (first, second) = (ids[0].to_string(), ids[1].to_string());
    let held = app.staff_get(&staff, "/admin/replies/?status=pending").await;
    // The bulk menu offers what fits the tab: no Restore or Not spam under Held.
    let offered: Vec<_> =
        held.all("#bulk option").into_iter().map(|o| attr(o, "value").to_owned()).collect();
    assert_eq!(offered, ["approve", "spam", "trash", "delete"]);
    assert!(held.has(".select-all[hidden] #select-all"), "shown by the page's script");
    // Apply with nothing ticked says so.
    let nothing = app
        .staff_post(
            &staff,
            "/admin/replies/",
            &[
                ("action", "bulk"),
                ("bulk", "approve"),
                ("return", "/admin/replies/?status=pending"),
                ("was", "pending"),
            ],
        )
        .await;
    assert_eq!(nothing.status, 303);
    let page = app.staff_get(&staff, nothing.location()).await;
    assert!(text(page.one(".queue-notice")).starts_with("Nothing was ticked"));

    let approved = app
        .staff_post(
            &staff,
            "/admin/replies/",
            &[
                ("action", "bulk"),
                ("bulk", "approve"),
                ("ids", &first),
                ("ids", &second),
                ("return", "/admin/replies/?status=pending"),
                ("was", "pending"),
            ],
        )
        .await;
    let page = app.staff_get(&staff, approved.location()).await;
    assert_eq!(text(page.one(".queue-notice p")), "2 replies approved.");
    assert_eq!(status(&app, ids[0]).await, Some(ReplyStatus::Approved));
    // Undo: back where they were.
    let undo: Vec<(String, String)> = page
        .all(".queue-notice form input[type=hidden]")
        .into_iter()
        .map(|i| (attr(i, "name").to_owned(), attr(i, "value").to_owned()))
        .filter(|(name, _)| name != "csrf")
        .collect();
    let undo: Vec<(&str, &str)> = undo.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let undone = app.staff_post(&staff, "/admin/replies/", &undo).await;
    assert_eq!(undone.status, 303);
    assert_eq!(status(&app, ids[0]).await, Some(ReplyStatus::Pending));
    assert_eq!(status(&app, ids[1]).await, Some(ReplyStatus::Pending));
    assert_eq!(status(&app, ids[2]).await, Some(ReplyStatus::Pending), "untouched");
    let page = app.staff_get(&staff, undone.location()).await;
    assert_eq!(text(page.one(".queue-notice p")), "2 replies sent back to the held replies.");
    app.staff_post(&staff, "/admin/replies/", &[("action", &format!("trash:{}", ids[2]))]).await;
    let trash = app.staff_get(&staff, "/admin/replies/?status=trash").await;
    let offered: Vec<_> =
        trash.all("#bulk option").into_iter().map(|o| attr(o, "value").to_owned()).collect();
    assert_eq!(offered, ["restore", "delete"]);
}

#[tokio::test]
async fn each_reply_shows_what_it_answers_and_its_authors_history() {
    let app = spawn_with(&[("moderation", "first-time")]).await;
    app.add_staff("mod@example.com", "Mo Derator", Role::Editor).await;
    let staff = app.sign_in("mod@example.com").await;
    let path = app.publish("Bridge repairs").await.path;
    app.publish("Something else entirely").await;
    let ines = app
        .reply(
            &path,
            &reply_with(&[
                ("name", "Ines"),
                ("email", "ines@example.com"),
                ("comment", "The bridge has been shut for a month and nobody says why."),
            ]),
        )
        .await;
    app.set_reply_status(ines, ReplyStatus::Approved).await;
    let email = "repeat@example.com";
    for (i, status) in
        [ReplyStatus::Approved, ReplyStatus::Approved, ReplyStatus::Spam].into_iter().enumerate()
    {
        let comment = format!("Earlier reply {i}.");
        let id = app.reply(&path, &reply_with(&[("email", email), ("comment", &comment)])).await;
        app.set_reply_status(id, status).await;
    }
    let answer = app
        .reply(
            &path,
            &reply_with(&[
                ("email", email),
                ("comment", "Because of the survey."),
                ("parent", &ines.to_string()),
            ]),
        )
        .await;
    app.set_reply_status(answer, ReplyStatus::Pending).await;
    let queue = app.staff_get(&staff, "/admin/replies/?status=pending").await;
    let item = format!("#reply-{answer}");
    assert_eq!(
        text(queue.one(&format!("{item} .queue-answering"))),
        "In reply to Ines: The bridge has been shut for a month and nobody says why."
    );
    assert_eq!(
        text(queue.one(&format!("{item} .queue-history"))),
        "from this address before: 2 approved, 1 spam"
    );
    // Filtered by the article's headline, not its number.
    let filtered = app.staff_get(&staff, "/admin/replies/?status=approved&headline=bridge").await;
    assert_eq!(attr(filtered.one("#q-headline"), "value"), "bridge");
    assert_eq!(filtered.all(".queue-item").len(), 3);
    let none = app.staff_get(&staff, "/admin/replies/?status=approved&headline=entirely").await;
    assert!(none.all(".queue-item").is_empty());
}
