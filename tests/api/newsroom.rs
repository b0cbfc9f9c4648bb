//! The newsroom: sign-in and sessions, permissions, CSRF, the editor, scheduling, slugs,
//! revisions, the lead story, corrections and the sanitizer.

use std::time::Duration;

use byline::domain::{ArticleId, ArticleStatus, Role};
use byline::store::{ArticleReads, ArticleWrites, StaffReads, User};

use crate::helpers::{
    PASSWORD, StaffClient, TestApp, attr, cookies_from, restart, spawn_app, spawn_with, text,
};

async fn newsroom() -> (TestApp, StaffClient) {
    newsroom_with(&[("moderation", "none")]).await
}

async fn newsroom_with(settings: &[(&str, &str)]) -> (TestApp, StaffClient) {
    let app = spawn_with(settings).await;
    app.add_staff("editor@example.com", "Eve Editor", Role::Editor).await;
    let staff = app.sign_in("editor@example.com").await;
    (app, staff)
}

/// The public path of article `id` (which must be published).
async fn users(app: &TestApp) -> Vec<User> {
    app.db(|db| db.users()).await
}

async fn public_path(app: &TestApp, id: ArticleId) -> String {
    app.article(id).await.unwrap().public_path().unwrap()
}

#[tokio::test]
async fn signed_out_requests_are_sent_to_sign_in_or_refused() {
    let app = spawn_app().await;
    for path in
        ["/admin/", "/admin/articles/new", "/admin/users/", "/admin/account", "/admin/articles/1/"]
    {
        let response = app.get(path).await;
        assert_eq!(response.status, 303, "{path}");
        assert!(
            response.location().starts_with("/admin/login?next="),
            "{path}: {}",
            response.location()
        );
        assert_eq!(response.header("cache-control"), "private, no-store");
    }
    let refused = app.post("/admin/articles/new", &[("headline", "x".into())]).await;
    assert_eq!(refused.status, 403);
    assert_eq!(app.db(|db| db.count_published_articles(None)).await, 0);
}

#[tokio::test]
async fn signing_in_and_out() {
    let app = spawn_app().await;
    app.add_staff("ann@example.com", "Ann", Role::Author).await;

    let wrong = app.try_sign_in("ann@example.com", "not the password").await;
    assert_eq!(wrong.status, 422);
    assert!(text(wrong.one("#login-error")).contains("not right"));
    assert!(!cookies_from(&wrong).contains("byline_session"));
    let unknown = app.try_sign_in("nobody@example.com", PASSWORD).await;
    assert_eq!(unknown.status, 422, "the same answer for an unknown account");

    let ok = app.try_sign_in("ANN@example.com", PASSWORD).await;
    assert_eq!(ok.status, 303);
    assert_eq!(ok.location(), "/admin/");
    let set_cookie: Vec<_> =
        ok.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).collect();
    let session = set_cookie.iter().find(|c| c.starts_with("byline_session=")).unwrap();
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"), "{session}");
    assert!(!session.contains("Secure"), "plain http: no Secure");

    let staff = app.sign_in("ann@example.com").await;
    let list = app.staff_get(&staff, "/admin/").await;
    assert_eq!(list.header("cache-control"), "private, no-store");
    assert!(text(list.one(".admin-nav")).contains("Ann"));

    let out = app.staff_post(&staff, "/admin/logout", &[]).await;
    assert_eq!(out.status, 303);
    assert_eq!(app.staff_get(&staff, "/admin/").await.status, 303, "the session ended");
}

#[tokio::test]
async fn sessions_are_secure_on_https() {
    let app = spawn_with(&[("base_url", "https://news.example")]).await;
    app.add_staff("ann@example.com", "Ann", Role::Author).await;
    let ok = app.try_sign_in("ann@example.com", PASSWORD).await;
    let cookies: Vec<_> =
        ok.headers.get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("byline_session=") && c.contains("; Secure")),
        "{cookies:?}"
    );
    for path in ["/", "/admin/login", "/no-such-page"] {
        assert_eq!(app.get(path).await.header("strict-transport-security"), "max-age=31536000");
    }
    let plain = spawn_app().await;
    assert!(!plain.get("/").await.headers.contains_key("strict-transport-security"));
}

#[tokio::test]
async fn a_sign_in_form_from_elsewhere_is_refused() {
    let app = spawn_app().await;
    app.add_staff("ann@example.com", "Ann", Role::Author).await;
    let body = crate::helpers::encode(&[
        ("email", "ann@example.com".into()),
        ("password", PASSWORD.into()),
        ("login_token", "guessed".into()),
    ]);
    let response = app.post_raw("/admin/login", body.into_bytes(), &[]).await;
    assert_eq!(response.status, 403);
    assert!(!cookies_from(&response).contains("byline_session"));
}

#[tokio::test]
async fn repeated_failures_slow_down_an_account_from_that_address_only() {
    use byline::services::staff::PAIR_FAILURES;
    let app = spawn_with(&[("trusted_proxies", "127.0.0.1")]).await;
    app.add_staff("ann@example.com", "Ann", Role::Author).await;
    let attacker = Some("198.51.100.7");
    for _ in 0..PAIR_FAILURES {
        let wrong = app.try_sign_in_from("ann@example.com", "wrong password!", attacker).await;
        assert_eq!(wrong.status, 422);
    }
    let blocked = app.try_sign_in_from("ann@example.com", PASSWORD, attacker).await;
    assert_eq!(blocked.status, 429, "even the right password waits");
    assert!(blocked.header("retry-after").parse::<i64>().unwrap() > 0);
    assert!(text(blocked.one("main")).contains("Too many failed sign-ins"));
    // The attacker has not locked Ann out: from her own address she signs in.
    let ann = app.try_sign_in_from("ann@example.com", PASSWORD, Some("203.0.113.9")).await;
    assert_eq!(ann.status, 303);
    // Past the window, the attacker's address may try again.
    app.clock.advance(byline::services::staff::FAILURE_WINDOW + 1);
    assert_eq!(app.try_sign_in_from("ann@example.com", PASSWORD, attacker).await.status, 303);
}

/// However many wrong passwords arrive at once, no more than the limit are checked.
#[tokio::test]
async fn concurrent_failures_are_counted_one_after_the_other() {
    use byline::services::staff::PAIR_FAILURES;
    let app = spawn_app().await;
    app.add_staff("ann@example.com", "Ann", Role::Author).await;
    let attempts = (0..40).map(|_| app.try_sign_in("ann@example.com", "wrong password!"));
    let statuses: Vec<u16> =
        futures_util::future::join_all(attempts).await.iter().map(|p| p.status).collect();
    let checked = statuses.iter().filter(|s| **s == 422).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(
        (checked, throttled),
        (PAIR_FAILURES as usize, 40 - PAIR_FAILURES as usize),
        "{statuses:?}"
    );
}

/// Guesses spread over many addresses: past the account's limit each address that failed
/// waits, and an address that has not failed (the owner's) still signs in.
#[tokio::test]
async fn failures_from_many_addresses_slow_the_account_but_not_its_owner() {
    use byline::services::staff::ACCOUNT_FAILURES;
    let app = spawn_with(&[("trusted_proxies", "127.0.0.1")]).await;
    app.add_staff("ann@example.com", "Ann", Role::Author).await;
    let addresses: Vec<String> =
        (1..=ACCOUNT_FAILURES).map(|n| format!("198.51.100.{n}")).collect();
    for address in &addresses {
        let wrong = app.try_sign_in_from("ann@example.com", "wrong password!", Some(address)).await;
        assert_eq!(wrong.status, 422);
    }
    let again = app.try_sign_in_from("ann@example.com", PASSWORD, Some(&addresses[0])).await;
    assert_eq!(again.status, 429, "an address that failed waits once the account is attacked");
    let owner = app.try_sign_in_from("ann@example.com", PASSWORD, Some("203.0.113.9")).await;
    assert_eq!(owner.status, 303);
}

/// The account page's current-password check is throttled like the sign-in form.
#[tokio::test]
async fn guessing_the_current_password_is_throttled() {
    use byline::services::staff::PAIR_FAILURES;
    let app = spawn_app().await;
    app.add_staff("ann@example.com", "Ann", Role::Author).await;
    let ann = app.sign_in("ann@example.com").await;
    let (app, ann) = (&app, &ann);
    let change = |current: &'static str| {
        let form = [
            ("form", "password"),
            ("current", current),
            ("new", "a new long password"),
            ("again", "a new long password"),
        ];
        async move { app.staff_post(ann, "/admin/account", &form).await.status }
    };
    for _ in 0..PAIR_FAILURES {
        assert_eq!(change("not the password").await, 422);
    }
    assert_eq!(change(PASSWORD).await, 429);
}

#[tokio::test]
async fn repeated_failures_slow_down_an_address() {
    let app = spawn_app().await;
    app.add_staff("ann@example.com", "Ann", Role::Author).await;
    for i in 0..byline::services::staff::IP_FAILURES {
        let response = app.try_sign_in(&format!("guess{i}@example.com"), "wrong password!").await;
        assert_eq!(response.status, 422);
    }
    assert_eq!(app.try_sign_in("ann@example.com", PASSWORD).await.status, 429);
}

#[tokio::test]
async fn sessions_expire() {
    let (app, staff) = newsroom_with(&[("session_seconds", "3600")]).await;
    app.clock.advance(3599);
    assert_eq!(app.staff_get(&staff, "/admin/").await.status, 200, "not yet");
    app.clock.advance(1);
    assert_eq!(app.staff_get(&staff, "/admin/").await.status, 303);
}

#[tokio::test]
async fn sessions_survive_a_restart() {
    let (app, staff) = newsroom().await;
    let again = restart(&app, &[]).await;
    assert_eq!(again.staff_get(&staff, "/admin/").await.status, 200);
}

#[tokio::test]
async fn a_password_change_ends_the_other_sessions() {
    let app = spawn_app().await;
    app.add_staff("ann@example.com", "Ann", Role::Author).await;
    let laptop = app.sign_in("ann@example.com").await;
    let phone = app.sign_in("ann@example.com").await;
    let new_password = "a brand new password";
    let wrong = app
        .staff_post(
            &laptop,
            "/admin/account",
            &[
                ("form", "password"),
                ("current", "nope"),
                ("new", new_password),
                ("again", new_password),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422);
    let changed = app
        .staff_post(
            &laptop,
            "/admin/account",
            &[
                ("form", "password"),
                ("current", PASSWORD),
                ("new", new_password),
                ("again", new_password),
            ],
        )
        .await;
    assert_eq!(changed.status, 303, "{}", changed.body);
    assert_eq!(app.staff_get(&phone, "/admin/").await.status, 303, "the other session ended");
    assert_eq!(app.staff_get(&laptop, "/admin/").await.status, 303, "the old cookie too");
    let fresh = cookies_from(&changed);
    let renewed = app.get_with("/admin/", &[("cookie", &fresh)]).await;
    assert_eq!(renewed.status, 200, "this browser got a new session");
    assert_eq!(app.try_sign_in("ann@example.com", PASSWORD).await.status, 422);
    assert_eq!(app.try_sign_in("ann@example.com", new_password).await.status, 303);
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused() {
    let (app, staff) = newsroom().await;
    let form =
        crate::helpers::encode(&[("headline", "Forged".into()), ("action", "publish".into())]);
    let missing = app
        .post_raw("/admin/articles/new", form.clone().into_bytes(), &[("cookie", &staff.cookie)])
        .await;
    assert_eq!(missing.status, 403);
    let forged = format!("{form}&csrf=0123456789");
    let forged = app
        .post_raw("/admin/articles/new", forged.into_bytes(), &[("cookie", &staff.cookie)])
        .await;
    assert_eq!(forged.status, 403);
    let query = byline::store::ArticleQuery { limit: 10, ..Default::default() };
    let (found, _) =
        app.db(move |db| Box::pin(async move { db.list_articles(&query).await })).await;
    assert!(found.is_empty(), "nothing was saved");
    let logout = app.post_raw("/admin/logout", Vec::new(), &[("cookie", &staff.cookie)]).await;
    assert_eq!(logout.status, 403);
    assert_eq!(app.staff_get(&staff, "/admin/").await.status, 200, "still signed in");
}

#[tokio::test]
async fn authors_edit_their_own_articles_only() {
    let app = spawn_app().await;
    app.add_staff("ann@example.com", "Ann", Role::Author).await;
    app.add_staff("bob@example.com", "Bob", Role::Author).await;
    app.add_staff("eve@example.com", "Eve", Role::Editor).await;
    let ann = app.sign_in("ann@example.com").await;
    let bob = app.sign_in("bob@example.com").await;
    let eve = app.sign_in("eve@example.com").await;
    let anns = app.write(&ann, &[("headline", "Ann’s story"), ("body", "Text")], "save").await;

    let editor = format!("/admin/articles/{anns}/");
    assert_eq!(app.staff_get(&bob, &editor).await.status, 403);
    let attempt =
        app.staff_post(&bob, &editor, &[("headline", "Taken over"), ("action", "publish")]).await;
    assert_eq!(attempt.status, 403);
    assert_eq!(app.staff_get(&bob, &format!("{editor}revisions/")).await.status, 403);
    assert_eq!(app.staff_get(&bob, &format!("/admin/articles/{anns}/preview")).await.status, 403);
    let note = app
        .staff_post(
            &bob,
            &format!("/admin/articles/{anns}/notes"),
            &[("kind", "update"), ("note", "x")],
        )
        .await;
    assert_eq!(note.status, 403);
    let empty =
        app.staff_post(&bob, &format!("/admin/articles/{anns}/notes"), &[("kind", "update")]).await;
    assert_eq!(empty.status, 403, "refused for who asks before for what is sent");
    assert_eq!(app.article(anns).await.unwrap().headline, "Ann’s story");
    let bobs_list = app.staff_get(&bob, "/admin/articles/").await;
    assert!(!bobs_list.has(&format!("tr[data-id='{anns}']")), "Bob's list shows his own only");
    assert!(app.staff_get(&ann, "/admin/articles/").await.has(&format!("tr[data-id='{anns}']")));

    // An author stays on the byline of what they write.
    let bob_id = users(&app).await.into_iter().find(|u| u.author.name == "Bob").unwrap();
    let ann_id = users(&app).await.into_iter().find(|u| u.author.name == "Ann").unwrap();
    let by_ann_only = ann_id.author.id.to_string();
    let bobs =
        app.write(&bob, &[("headline", "Bob’s story"), ("authors", &by_ann_only)], "save").await;
    let names: Vec<_> =
        app.article(bobs).await.unwrap().authors.into_iter().map(|a| a.id).collect();
    assert_eq!(names, [bob_id.author.id, ann_id.author.id]);

    // Editors edit anything; only admins manage staff.
    let edited = app
        .staff_post(
            &eve,
            &editor,
            &[("headline", "Edited by Eve"), ("authors", &by_ann_only), ("action", "save")],
        )
        .await;
    assert_eq!(edited.status, 303, "{}", edited.body);
    assert_eq!(app.article(anns).await.unwrap().headline, "Edited by Eve");
    assert_eq!(app.staff_get(&eve, "/admin/users/").await.status, 403);
    let add = app
        .staff_post(
            &eve,
            "/admin/users/",
            &[("email", "x@example.com"), ("name", "X"), ("role", "admin"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(add.status, 403);
}

#[tokio::test]
async fn admins_manage_staff_accounts() {
    let app = spawn_app().await;
    app.add_staff("root@example.com", "Root", Role::Admin).await;
    let admin = app.sign_in("root@example.com").await;
    let added = app
        .staff_post(
            &admin,
            "/admin/users/",
            &[
                ("email", "new@example.com"),
                ("name", "Newcomer"),
                ("role", "author"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let duplicate = app
        .staff_post(
            &admin,
            "/admin/users/",
            &[
                ("email", "NEW@example.com"),
                ("name", "Again"),
                ("role", "author"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(duplicate.status, 422);
    let short = app
        .staff_post(
            &admin,
            "/admin/users/",
            &[
                ("email", "short@example.com"),
                ("name", "Short"),
                ("role", "author"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(short.status, 422);
    assert!(text(short.one(".form-errors")).contains("10 characters"));

    let newcomer = app.sign_in("new@example.com").await;
    let user = users(&app).await.into_iter().find(|u| u.email == "new@example.com").unwrap();
    let path = format!("/admin/users/{}", user.id);
    assert_eq!(app.staff_post(&admin, &path, &[("role", "editor")]).await.status, 303);
    let id = user.id;
    assert_eq!(app.db(move |db| db.user(id)).await.unwrap().role, Role::Editor);
    // A forgotten password, replaced by an admin: the old one and its sessions stop working.
    let reset = app
        .staff_post(&admin, &path, &[("role", "editor"), ("password", "a fresh password")])
        .await;
    assert_eq!(reset.status, 303);
    assert_eq!(app.staff_get(&newcomer, "/admin/").await.status, 303);
    assert_eq!(app.try_sign_in("new@example.com", PASSWORD).await.status, 422);
    assert_eq!(app.try_sign_in("new@example.com", "a fresh password").await.status, 303);
    let newcomer = app.sign_in_with("new@example.com", "a fresh password").await;
    assert_eq!(
        app.staff_post(&admin, &path, &[("role", "editor"), ("disabled", "yes")]).await.status,
        303
    );
    assert_eq!(app.staff_get(&newcomer, "/admin/").await.status, 303, "disabled: signed out");
    assert_eq!(
        app.try_sign_in("new@example.com", "a fresh password").await.status,
        422,
        "and cannot sign in"
    );

    let me = users(&app).await.into_iter().find(|u| u.email == "root@example.com").unwrap();
    let lockout =
        app.staff_post(&admin, &format!("/admin/users/{}", me.id), &[("role", "author")]).await;
    assert_eq!(lockout.status, 422, "an admin cannot demote themselves");
}

#[tokio::test]
async fn writing_previewing_and_publishing() {
    let (app, staff) = newsroom().await;
    let preview = app
        .staff_post(
            &staff,
            "/admin/articles/new",
            &[("headline", "Draft"), ("body", "Some *emphasis*"), ("action", "preview")],
        )
        .await;
    assert_eq!(preview.status, 200, "a preview saves nothing");
    assert_eq!(text(preview.one("#live-preview em")), "emphasis");
    assert_eq!(attr(preview.one("#headline"), "value"), "Draft", "the form is kept");

    let id = app
        .write(
            &staff,
            &[
                ("headline", "Council approves the budget"),
                ("standfirst", "By seven votes to two."),
                ("body", "The **vote** was close."),
                ("section", "Politics"),
                ("tags", "Budget, Council, budget"),
            ],
            "save",
        )
        .await;
    let article = app.article(id).await.unwrap();
    assert_eq!(article.status, ArticleStatus::Draft);
    assert_eq!(article.slug, "council-approves-the-budget");
    assert_eq!(article.section.unwrap().name, "Politics");
    assert_eq!(
        article.tags.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
        ["Budget", "Council"]
    );
    assert_eq!(app.get("/").await.all(".summary").len(), 0, "a draft is not public");

    let staff_preview = app.staff_get(&staff, &format!("/admin/articles/{id}/preview")).await;
    assert_eq!(staff_preview.status, 200);
    assert_eq!(text(staff_preview.one("h1")), "Council approves the budget");
    assert_eq!(staff_preview.header("cache-control"), "private, no-store");

    let editor = app.staff_get(&staff, &format!("/admin/articles/{id}/")).await;
    assert_eq!(attr(editor.one("#slug"), "value"), "council-approves-the-budget");
    let published = app
        .staff_post(
            &staff,
            &format!("/admin/articles/{id}/"),
            &[
                ("headline", "Council approves the budget"),
                ("body", "The **vote** was close."),
                ("section", "Politics"),
                ("replies_open", "yes"),
                ("action", "publish"),
            ],
        )
        .await;
    assert_eq!(published.status, 303, "{}", published.body);
    let path = public_path(&app, id).await;
    let today = byline::domain::time::date_path(app.clock.now(), &app.config.timezone);
    assert!(path.starts_with(&format!("/{today}/")), "{path}");
    let page = app.get(&path).await;
    assert_eq!(page.status, 200);
    assert_eq!(text(page.one(".story-body strong")), "vote");
    assert_eq!(text(page.one(".kicker")), "Politics");
    assert!(text(page.one(".byline")).contains("Eve Editor"));
    assert!(app.get("/").await.has(&format!(".summary a[href='{path}']")));

    let back = app
        .staff_post(
            &staff,
            &format!("/admin/articles/{id}/"),
            &[("headline", "Council approves the budget"), ("body", "x"), ("action", "unpublish")],
        )
        .await;
    assert_eq!(back.status, 303);
    assert_eq!(app.get(&path).await.status, 404, "back to draft: gone from the public");
    assert_eq!(app.staff_get(&staff, &format!("/admin/articles/{id}/preview")).await.status, 200);
    // Published again, it keeps its first date.
    app.staff_post(
        &staff,
        &format!("/admin/articles/{id}/"),
        &[("headline", "Council approves the budget"), ("body", "x"), ("action", "publish")],
    )
    .await;
    assert_eq!(public_path(&app, id).await, path);
}

#[tokio::test]
async fn the_editor_reports_every_problem_and_keeps_the_form() {
    let (app, staff) = newsroom().await;
    let taken = app.write(&staff, &[("headline", "Taken")], "save").await;
    let response = app
        .staff_post(
            &staff,
            "/admin/articles/new",
            &[
                ("headline", " "),
                ("slug", "taken"),
                ("body", "kept body"),
                ("image_url", "javascript:alert(1)"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(response.status, 422);
    for field in ["headline", "slug", "image_url"] {
        assert!(response.has(&format!("#{field}-error")), "{field}");
        assert_eq!(attr(response.one(&format!("#{field}")), "aria-invalid"), "true");
    }
    assert_eq!(text(response.one("#body")), "kept body");
    assert_eq!(attr(response.one("#slug"), "value"), "taken");
    let bad_slug = app
        .staff_post(
            &staff,
            "/admin/articles/new",
            &[("headline", "x"), ("slug", "Not A Slug"), ("action", "save")],
        )
        .await;
    assert!(bad_slug.has("#slug-error"));
    let no_alt = app
        .staff_post(
            &staff,
            "/admin/articles/new",
            &[("headline", "x"), ("image_url", "https://img.example/a.jpg"), ("action", "save")],
        )
        .await;
    assert!(no_alt.has("#image_alt-error"));
    assert!(app.article(taken).await.is_some());
}

#[tokio::test]
async fn scheduled_articles_publish_themselves() {
    // The scheduler checks hourly, and at once when the clock moves.
    let (app, staff) =
        newsroom_with(&[("moderation", "none"), ("scheduler_seconds", "3600")]).await;
    let tz = app.config.timezone.clone();
    let soon = jiff::Timestamp::from_second(app.clock.now() + 3600).unwrap();
    let at = soon.to_zoned(tz).strftime("%Y-%m-%dT%H:%M:%S").to_string();
    let id = app.write(&staff, &[("headline", "Embargoed"), ("publish_at", &at)], "schedule").await;
    let article = app.article(id).await.unwrap();
    assert_eq!(article.status, ArticleStatus::Scheduled);
    let editor = app.staff_get(&staff, &format!("/admin/articles/{id}/")).await;
    // "publishes 15 January 2030, 09:00 GMT", in the site's zone.
    let expected = format!(
        "publishes {}",
        byline::domain::time::date_and_time(soon.as_second(), &app.config.timezone)
    );
    assert_eq!(text(editor.one(".scheduled-at")), expected);
    let path = byline::domain::paths::article_path(
        &byline::domain::time::date_path(soon.as_second(), &app.config.timezone),
        "embargoed",
    );
    app.clock.advance(3599);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(app.get(&path).await.status, 404, "not before its time");
    app.clock.advance(1);
    let mut waited = 0;
    while app.get(&path).await.status != 200 {
        assert!(waited < 50, "not published within 5 s of its time");
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += 1;
    }

    let past = app
        .staff_post(
            &staff,
            "/admin/articles/new",
            &[("headline", "Late"), ("publish_at", "2001-01-01T00:00"), ("action", "schedule")],
        )
        .await;
    assert_eq!(past.status, 422);
    assert!(past.has("#publish_at-error"));
}

#[tokio::test]
async fn an_article_that_fell_due_while_stopped_publishes_on_start() {
    // A server that checks only at start (and then hourly).
    let (app, staff) = newsroom_with(&[("scheduler_seconds", "3600")]).await;
    let id = app
        .write(
            &staff,
            &[("headline", "Due while down"), ("publish_at", "2099-01-01T00:00")],
            "schedule",
        )
        .await;
    // Its time comes while no server checks.
    app.db_write(move |tx| {
        tx.set_article_status(id, ArticleStatus::Scheduled, None, Some(1_000), 1)
    })
    .await;
    assert_eq!(app.article(id).await.unwrap().status, ArticleStatus::Scheduled);
    let restarted = restart(&app, &[("scheduler_seconds", "3600")]).await;
    let mut waited = 0;
    while restarted.article(id).await.unwrap().status != ArticleStatus::Published {
        assert!(waited < 50, "not published at start");
        tokio::time::sleep(Duration::from_millis(100)).await;
        waited += 1;
    }
    let path = public_path(&restarted, id).await;
    assert!(path.starts_with("/1970/01/01/"), "dated when it was due: {path}");
    assert_eq!(restarted.get(&path).await.status, 200);
}

#[tokio::test]
async fn a_changed_slug_keeps_the_old_address_working() {
    let (app, staff) = newsroom().await;
    let id = app.write(&staff, &[("headline", "First headline")], "publish").await;
    let old = public_path(&app, id).await;
    let saved = app
        .staff_post(
            &staff,
            &format!("/admin/articles/{id}/"),
            &[("headline", "Better headline"), ("slug", "better-headline"), ("action", "save")],
        )
        .await;
    assert_eq!(saved.status, 303);
    let new = public_path(&app, id).await;
    assert!(new.ends_with("/better-headline/"));
    let response = app.get(&old).await;
    assert_eq!(response.status, 301);
    assert_eq!(response.location(), new);
    assert_eq!(app.get(&new).await.status, 200);
    // The old slug is not free for another article.
    let other = app
        .staff_post(
            &staff,
            "/admin/articles/new",
            &[("headline", "x"), ("slug", "first-headline"), ("action", "save")],
        )
        .await;
    assert_eq!(other.status, 422);
    // A draft's slug changes without leaving anything behind.
    let draft = app.write(&staff, &[("headline", "Draft slug")], "save").await;
    app.staff_post(
        &staff,
        &format!("/admin/articles/{draft}/"),
        &[("headline", "Draft slug"), ("slug", "moved"), ("action", "save")],
    )
    .await;
    assert_eq!(app.db(|db| db.slug_redirect("draft-slug")).await, None);
}

#[tokio::test]
async fn revisions_are_listed_compared_and_restored() {
    let (app, staff) = newsroom().await;
    let id =
        app.write(&staff, &[("headline", "Version one"), ("body", "line a\nline b")], "save").await;
    let path = format!("/admin/articles/{id}/");
    app.staff_post(
        &staff,
        &path,
        &[("headline", "Version two"), ("body", "line a\nline c"), ("action", "save")],
    )
    .await;
    let list = app.staff_get(&staff, &format!("{path}revisions/")).await;
    let links = list.all(".revisions a");
    assert_eq!(links.len(), 2);
    assert!(text(list.one(".revisions")).contains("Eve Editor"));
    let newest = app.staff_get(&staff, attr(links[0], "href")).await;
    let diff = text(newest.one("main"));
    assert!(newest.has(".diff-ins") && newest.has(".diff-del"), "{diff}");
    assert!(diff.contains("+ Version two") && diff.contains("- Version one"), "{diff}");
    assert!(diff.contains("+ line c") && diff.contains("- line b"), "{diff}");

    let oldest = attr(links[1], "href").to_owned();
    let restored = app.staff_post(&staff, &oldest, &[]).await;
    assert_eq!(restored.status, 303, "{}", restored.body);
    let article = app.article(id).await.unwrap();
    assert_eq!(
        (article.headline.as_str(), article.body_markdown.as_str()),
        ("Version one", "line a\nline b")
    );
    assert_eq!(app.db(move |db| db.revisions(id)).await.len(), 3, "a restore is a new revision");
    let forged = app.post_raw(&oldest, Vec::new(), &[("cookie", &staff.cookie)]).await;
    assert_eq!(forged.status, 403);

    // A revision whose slug another article has taken since is refused, saying why.
    app.staff_post(
        &staff,
        &path,
        &[("headline", "Version one"), ("slug", "renamed"), ("action", "save")],
    )
    .await;
    let taken = app.article(id).await.unwrap();
    assert_eq!(taken.slug, "renamed");
    let first_slug = app.db(move |db| db.revisions(id)).await.last().unwrap().slug.clone();
    app.write(&staff, &[("headline", "Other"), ("slug", &first_slug), ("body", "x")], "save").await;
    let refused = app.staff_post(&staff, &oldest, &[]).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(text(refused.one("main")).contains("Another article already uses this slug"));
    assert_eq!(app.article(id).await.unwrap().slug, "renamed", "nothing restored");
}

#[tokio::test]
async fn script_in_any_editor_field_never_runs() {
    let (app, staff) = newsroom().await;
    let evil = "<script>alert(1)</script><img src=x onerror=alert(2)>\"'><svg onload=alert(3)>";
    let body = format!(
        "{evil}\n\n[x](javascript:alert(4)) <a href=\"javascript:alert(5)\" onclick=\"x\">y</a> <p style=\"position:fixed;top:0\">z</p>"
    );
    let id = app
        .write(
            &staff,
            &[
                ("headline", evil),
                ("standfirst", evil),
                ("body", &body),
                ("section", evil),
                ("tags", "<b onmouseover=alert(7)>t</b>, <script>alert(8)</script>"),
                ("image_url", "https://img.example/a.jpg?\"><script>alert(6)</script>"),
                ("image_alt", evil),
                ("image_caption", evil),
                // The body's raw <img> has no description; the test is about what runs.
                ("without_descriptions", "yes"),
            ],
            "publish",
        )
        .await;
    app.staff_post(
        &staff,
        &format!("/admin/articles/{id}/notes"),
        &[("kind", "correction"), ("note", evil)],
    )
    .await;
    let path = public_path(&app, id).await;
    for page in [
        app.get(&path).await,
        app.get("/").await,
        app.staff_get(&staff, &format!("/admin/articles/{id}/")).await,
        app.staff_get(&staff, "/admin/").await,
        app.staff_get(&staff, &format!("/admin/articles/{id}/preview")).await,
    ] {
        assert_eq!(page.status, 200);
        for script in page.all("script:not([type='application/ld+json'])") {
            let src = attr(script, "src");
            assert!(
                ["/static/editor.js", "/static/reply.js"].contains(&src),
                "only the site's own scripts: {src}"
            );
            assert!(script.text().next().is_none());
        }
        assert!(!page.has("[onerror], [onload], [onclick], svg, [style]"), "{}", page.body);
        for link in page.all("a") {
            assert!(
                !attr(link, "href").to_lowercase().starts_with("javascript"),
                "{}",
                attr(link, "href")
            );
        }
    }
    let article = app.get(&path).await;
    assert_eq!(text(article.one("h1")), evil, "shown as text");
    let json: String = article.one("script[type='application/ld+json']").text().collect();
    assert!(!json.contains('<'), "nothing in the JSON-LD can close its element");
    let data: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(data["headline"], evil);
}

#[tokio::test]
async fn the_lead_story_heads_the_front_page() {
    let (app, staff) = newsroom().await;
    let first = app.write(&staff, &[("headline", "Lead one"), ("lead", "yes")], "publish").await;
    app.write(&staff, &[("headline", "Ordinary")], "publish").await;
    let front = app.get("/").await;
    assert_eq!(text(front.one(".lead-story h2")), "Lead one");
    let listed: Vec<_> = front.all(".summary h2").into_iter().map(text).collect();
    assert_eq!(listed, ["Ordinary"], "not twice");

    let second = app
        .write(
            &staff,
            &[
                ("headline", "Lead two"),
                ("lead", "yes"),
                ("image_url", "https://img.example/l.jpg"),
                ("image_alt", "A photo"),
            ],
            "publish",
        )
        .await;
    let front = app.get("/").await;
    assert_eq!(text(front.one(".lead-story h2")), "Lead two");
    assert_eq!(attr(front.one(".lead-story img"), "alt"), "A photo");
    let listed: Vec<_> = front.all(".summary h2").into_iter().map(text).collect();
    assert_eq!(listed, ["Ordinary", "Lead one"]);
    let lead =
        app.db(|db| Box::pin(async move { byline::services::publishing::lead_id(db).await }));
    assert_eq!(lead.await, Some(second));
    let editor = app.staff_get(&staff, &format!("/admin/articles/{first}/")).await;
    assert!(editor.one("#lead").value().attr("checked").is_none());
}

#[tokio::test]
async fn corrections_and_updates_show_under_the_article() {
    let (app, staff) = newsroom().await;
    let id = app.write(&staff, &[("headline", "Corrected")], "publish").await;
    let added = app
        .staff_post(
            &staff,
            &format!("/admin/articles/{id}/notes"),
            &[("kind", "correction"), ("note", "An earlier version misspelt the mayor’s name.")],
        )
        .await;
    assert_eq!(added.status, 303);
    app.staff_post(
        &staff,
        &format!("/admin/articles/{id}/notes"),
        &[("kind", "update"), ("note", "The council has replied.")],
    )
    .await;
    let page = app.get(&public_path(&app, id).await).await;
    let notes = text(page.one(".notes"));
    let today = byline::domain::time::date_and_time(app.clock.now(), &app.config.timezone);
    assert!(notes.contains(&format!("Correction {today}:")), "{notes}");
    assert!(notes.contains(&format!("Updated {today}:")), "{notes}");
    assert!(notes.contains("misspelt the mayor’s name"));
    assert!(text(page.one(".byline .updated")).starts_with("Updated"));
    assert!(page.has(".byline .updated time[datetime]"));
    let empty = app
        .staff_post(
            &staff,
            &format!("/admin/articles/{id}/notes"),
            &[("kind", "update"), ("note", " ")],
        )
        .await;
    assert_eq!(empty.status, 400);
}

#[tokio::test]
async fn the_live_preview_renders_sanitized_markdown() {
    let (app, staff) = newsroom().await;
    let response = app
        .staff_post(
            &staff,
            "/admin/preview",
            &[("body", "# Title\n\nSome *em*\n\n<script>x</script>")],
        )
        .await;
    assert_eq!(response.status, 200);
    assert!(response.body.contains("<h2>Title</h2>") && response.body.contains("<em>em</em>"));
    assert!(!response.body.contains("<script"));
    let forged =
        app.post_raw("/admin/preview", b"body=x".to_vec(), &[("cookie", &staff.cookie)]).await;
    assert_eq!(forged.status, 403);
}

#[tokio::test]
async fn staff_update_their_byline_name_and_bio() {
    let (app, staff) = newsroom().await;
    let saved = app
        .staff_post(
            &staff,
            "/admin/account",
            &[("form", "profile"), ("name", "Eve E. Editor"), ("bio", "Covers the council.")],
        )
        .await;
    assert_eq!(saved.status, 303);
    let user = app.db(|db| db.user_credentials("editor@example.com")).await.unwrap().0;
    assert_eq!(
        (user.author.name.as_str(), user.author.bio.as_str()),
        ("Eve E. Editor", "Covers the council.")
    );
}

/// The lead story and new sections show on every page: editors place them. An author's
/// request for either (even sent without the form) does not take.
#[tokio::test]
async fn authors_do_not_choose_the_lead_or_add_sections() {
    let (app, editor) = newsroom().await;
    let lead = app
        .write(
            &editor,
            &[("headline", "The editors' lead"), ("lead", "yes"), ("section", "Politics")],
            "publish",
        )
        .await;
    app.add_staff("ann@example.com", "Ann", Role::Author).await;
    let ann = app.sign_in("ann@example.com").await;
    let form = app.staff_get(&ann, "/admin/articles/new").await;
    assert!(!form.has("#lead"), "an author is not offered the lead");

    app.write(
        &ann,
        &[("headline", "Ann's story"), ("lead", "yes"), ("section", "Politics")],
        "publish",
    )
    .await;
    let current =
        app.db(|db| Box::pin(async move { byline::services::publishing::lead_id(db).await }));
    assert_eq!(current.await, Some(lead), "the lead stays the editors' choice");
    assert_eq!(text(app.get("/").await.one(".lead-story h2")), "The editors' lead");

    let refused = app
        .staff_post(
            &ann,
            "/admin/articles/new",
            &[("headline", "Sectioned"), ("section", "Ann's Own Section"), ("action", "publish")],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(text(refused.one("#section-error")).contains("Only editors add sections"));
    let sections = app.db(|db| db.sections()).await;
    assert_eq!(sections.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), ["Politics"]);
}

/// Failures past the window are deleted by the jobs, known account or not.
#[tokio::test]
async fn old_sign_in_failures_are_deleted() {
    let app = spawn_app().await;
    for guess in ["nobody@example.com", "someone@example.com"] {
        assert_eq!(app.try_sign_in(guess, "wrong password!").await.status, 422);
    }
    let count = || {
        app.db(|db| {
            Box::pin(
                async move { db.query("SELECT count(*) FROM login_failures", &[]).await?.int() },
            )
        })
    };
    assert_eq!(count().await, 6, "three keys an attempt");
    app.clock.advance(byline::services::staff::FAILURE_WINDOW + 601);
    let started = std::time::Instant::now();
    while count().await != 0 {
        assert!(started.elapsed() < Duration::from_secs(10), "not deleted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
