//! The staff's API: personal access tokens (made on the account page, shown once, kept
//! hashed, scoped, listed with their last use, revocable), acting as their account and no
//! more, `If-Match` against the editor's conflict rule, moderation, and the write limit.

use byline::domain::Role;
use serde_json::{Value, json};

use crate::helpers::*;

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

async fn as_token(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Json {
    let auth = bearer(token);
    app.api(method, path, body, &[("authorization", &auth)]).await
}

async fn as_token_with(
    app: &TestApp,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> Json {
    let auth = bearer(token);
    let mut all = vec![("authorization", auth.as_str())];
    all.extend_from_slice(headers);
    app.api(method, path, body, &all).await
}

#[tokio::test]
async fn tokens_are_shown_once_kept_hashed_listed_with_their_use_and_revocable() {
    let app = spawn_app().await;
    app.add_staff("ed@example.com", "Edith Editor", Role::Editor).await;
    let staff = app.sign_in("ed@example.com").await;
    let token = app.make_token(&staff, "Phone app", &["read_drafts"]).await;
    assert!(token.starts_with("byline_") && token.len() == 71, "{token}");
    let account = app.staff_get(&staff, "/admin/account").await;
    assert!(!account.body.contains(&token), "shown once only");
    let row = text(account.one("table.tokens tbody tr"));
    assert!(
        row.contains("Phone app") && row.contains("Read drafts") && row.contains("never"),
        "{row}"
    );
    let stored: Vec<String> = app
        .db(|db| {
            Box::pin(async move {
                db.query("SELECT token_hash FROM api_tokens", &[]).await?.map(|r| r.text(0))
            })
        })
        .await;
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], token);
    assert!(!stored[0].contains(token.trim_start_matches("byline_")), "only a hash is kept");

    let me = as_token(&app, &token, reqwest::Method::GET, "/api/v1/me", None).await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!((me.str("name"), me.str("role")), ("Edith Editor".to_owned(), "editor".to_owned()));
    assert_eq!(me.body["scopes"], json!(["read_drafts"]));
    assert!(me.header("cache-control").starts_with("private"));
    let account = app.staff_get(&staff, "/admin/account").await;
    assert!(
        !text(account.one("table.tokens tbody tr")).contains("never"),
        "its last use is listed"
    );

    // Cookies never work for the API, and tokens never work in cookies.
    let session = app.api_get_with("/api/v1/me", &[("cookie", &staff.cookie)]).await;
    assert_eq!(session.status, 401);
    assert_eq!(session.header("www-authenticate"), "Bearer");
    let in_cookie = format!("token={token}; authorization={token}");
    assert_eq!(app.api_get_with("/api/v1/me", &[("cookie", &in_cookie)]).await.status, 401);
    let wrong = as_token(&app, "byline_0000", reqwest::Method::GET, "/api/v1/me", None).await;
    assert_eq!((wrong.status, wrong.str("code")), (401, "unauthorized".to_owned()));

    let id = attr(account.one("form input[name=token_id]"), "value").to_owned();
    let revoked = app
        .staff_post(&staff, "/admin/account", &[("form", "revoke_token"), ("token_id", &id)])
        .await;
    assert_eq!(revoked.status, 303);
    assert_eq!(as_token(&app, &token, reqwest::Method::GET, "/api/v1/me", None).await.status, 401);
    let account = app.staff_get(&staff, "/admin/account").await;
    assert!(!account.has("table.tokens"), "no longer listed");
    // Another account cannot revoke it, nor name a token.
    let unnamed =
        app.staff_post(&staff, "/admin/account", &[("form", "token"), ("token_name", " ")]).await;
    assert_eq!(unnamed.status, 422);
}

#[tokio::test]
async fn a_token_does_what_its_scopes_and_its_accounts_role_allow_and_no_more() {
    let app = spawn_app().await;
    app.add_staff("ed@example.com", "Edith Editor", Role::Editor).await;
    app.add_staff("au@example.com", "Arthur Author", Role::Author).await;
    let editor = app.sign_in("ed@example.com").await;
    let author = app.sign_in("au@example.com").await;
    let all = ["read_drafts", "write_articles", "publish", "moderate"];
    let editor_token = app.make_token(&editor, "Desk", &all).await;
    let author_token = app.make_token(&author, "Laptop", &all).await;
    let writer_token = app.make_token(&author, "Writer", &["write_articles"]).await;
    let reader_token = app.make_token(&author, "Reader", &[]).await;
    use reqwest::Method;

    let made = as_token(&app, &author_token, Method::POST, "/api/v1/articles",
        Some(json!({"headline": "Arthur's story", "body_markdown": "It *begins*.", "tags": ["Trains"]}))).await;
    assert_eq!(made.status, 201, "{}", made.text);
    assert_eq!(made.str("status"), "draft");
    assert_eq!(made.body["authors"][0]["name"], "Arthur Author", "the token's account");
    assert_eq!(made.body["body_markdown"], "It *begins*.");
    assert!(made.header("location").ends_with(&format!("/api/v1/articles/{}", made.body["id"])));
    let own = made.body["id"].as_i64().unwrap();
    let theirs =
        app.write(&editor, &[("headline", "Edith's story"), ("body", "Hers.")], "save").await.get();

    // Scopes.
    let no_scope = as_token(
        &app,
        &writer_token,
        Method::POST,
        &format!("/api/v1/articles/{own}/publish"),
        None,
    )
    .await;
    assert_eq!((no_scope.status, no_scope.str("code")), (403, "missing_scope".to_owned()));
    let reading = as_token(
        &app,
        &reader_token,
        Method::POST,
        "/api/v1/articles",
        Some(json!({"headline": "No"})),
    )
    .await;
    assert_eq!(reading.status, 403);
    assert_eq!(
        as_token(&app, &reader_token, Method::GET, &format!("/api/v1/articles/{own}"), None)
            .await
            .status,
        404,
        "a draft is not read without read_drafts"
    );
    assert_eq!(as_token(&app, &reader_token, Method::GET, "/api/v1/queue", None).await.status, 403);

    // The role: an author's token touches the author's articles only.
    let read_theirs =
        as_token(&app, &author_token, Method::GET, &format!("/api/v1/articles/{theirs}"), None)
            .await;
    assert_eq!(read_theirs.status, 404, "another's draft");
    let publish_theirs = as_token(
        &app,
        &author_token,
        Method::POST,
        &format!("/api/v1/articles/{theirs}/publish"),
        None,
    )
    .await;
    assert_eq!((publish_theirs.status, publish_theirs.str("code")), (403, "not_yours".to_owned()));
    let read_own =
        as_token(&app, &author_token, Method::GET, &format!("/api/v1/articles/{own}"), None).await;
    assert_eq!(read_own.status, 200);
    let drafts = as_token(&app, &author_token, Method::GET, "/api/v1/drafts", None).await;
    let ids: Vec<i64> = drafts.body["articles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [own], "an author's drafts are theirs");
    let desk = as_token(&app, &editor_token, Method::GET, "/api/v1/drafts", None).await;
    assert_eq!(desk.body["articles"].as_array().unwrap().len(), 2, "an editor sees every draft");

    // Publish, unpublish, schedule.
    assert_eq!(app.api_get(&format!("/api/v1/articles/{own}")).await.status, 404);
    let published = as_token(
        &app,
        &author_token,
        Method::POST,
        &format!("/api/v1/articles/{own}/publish"),
        None,
    )
    .await;
    assert_eq!(published.status, 200, "{}", published.text);
    assert_eq!(published.str("status"), "published");
    let public = app.api_get(&format!("/api/v1/articles/{own}")).await;
    assert_eq!(public.status, 200);
    let page = app.get(public.str("url").trim_start_matches(&app.address)).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<em>begins</em>"));
    let back = as_token(
        &app,
        &author_token,
        Method::POST,
        &format!("/api/v1/articles/{own}/unpublish"),
        None,
    )
    .await;
    assert_eq!(back.str("status"), "draft");
    assert_eq!(app.api_get(&format!("/api/v1/articles/{own}")).await.status, 404);
    let past = as_token(
        &app,
        &editor_token,
        Method::POST,
        &format!("/api/v1/articles/{theirs}/schedule"),
        Some(json!({"at": "2001-01-01T00:00:00Z"})),
    )
    .await;
    assert_eq!(past.status, 422, "{}", past.text);
    let at = jiff::Timestamp::from_second(app.clock.now() + 3600).unwrap().to_string();
    let scheduled = as_token(
        &app,
        &editor_token,
        Method::POST,
        &format!("/api/v1/articles/{theirs}/schedule"),
        Some(json!({"at": at})),
    )
    .await;
    assert_eq!(
        (scheduled.status, scheduled.str("status")),
        (200, "scheduled".to_owned()),
        "{}",
        scheduled.text
    );
    let garbled = as_token(
        &app,
        &editor_token,
        Method::POST,
        &format!("/api/v1/articles/{theirs}/schedule"),
        Some(json!({"at": "tomorrow"})),
    )
    .await;
    assert_eq!(garbled.status, 422);
}

#[tokio::test]
async fn a_change_needs_the_etag_it_was_read_with() {
    let app = spawn_app().await;
    app.add_staff("ed@example.com", "Edith Editor", Role::Editor).await;
    let staff = app.sign_in("ed@example.com").await;
    let token = app.make_token(&staff, "Desk", &["read_drafts", "write_articles"]).await;
    use reqwest::Method;
    let made = as_token(
        &app,
        &token,
        Method::POST,
        "/api/v1/articles",
        Some(json!({"headline": "First"})),
    )
    .await;
    let id = made.body["id"].as_i64().unwrap();
    let path = format!("/api/v1/articles/{id}");
    let first = made.header("etag").to_owned();
    let blind =
        as_token(&app, &token, Method::PATCH, &path, Some(json!({"standfirst": "x"}))).await;
    assert_eq!((blind.status, blind.str("code")), (428, "if_match_required".to_owned()));
    let changed = as_token_with(
        &app,
        &token,
        Method::PATCH,
        &path,
        Some(json!({"standfirst": "Better"})),
        &[("if-match", &first)],
    )
    .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(
        (changed.str("standfirst"), changed.str("headline")),
        ("Better".to_owned(), "First".to_owned())
    );
    let second = changed.header("etag").to_owned();
    assert_ne!(first, second);
    let stale = as_token_with(
        &app,
        &token,
        Method::PATCH,
        &path,
        Some(json!({"headline": "Mine"})),
        &[("if-match", &first)],
    )
    .await;
    assert_eq!((stale.status, stale.str("code")), (412, "changed_meanwhile".to_owned()));
    // A save in the newsroom's editor counts the same.
    let editor = app.staff_get(&staff, &format!("/admin/articles/{id}/")).await;
    let opened = attr(editor.one("input[name=opened]"), "value").to_owned();
    let saved = app
        .staff_post(
            &staff,
            &format!("/admin/articles/{id}/"),
            &[
                ("headline", "From the editor"),
                ("body", "b"),
                ("replies_open", "yes"),
                ("action", "save"),
                ("opened", &opened),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let late = as_token_with(
        &app,
        &token,
        Method::PATCH,
        &path,
        Some(json!({"headline": "Mine"})),
        &[("if-match", &second)],
    )
    .await;
    assert_eq!(late.status, 412);
    assert!(late.str("detail").contains("Edith Editor"), "{}", late.text);
    let current = as_token(&app, &token, Method::GET, &path, None).await;
    assert_eq!(current.str("headline"), "From the editor");
    let tag = current.header("etag").to_owned();
    let unknown = as_token_with(
        &app,
        &token,
        Method::PATCH,
        &path,
        Some(json!({"colour": "red"})),
        &[("if-match", &tag)],
    )
    .await;
    assert_eq!(unknown.status, 400, "an unknown field is named, not ignored");
    let empty = as_token_with(
        &app,
        &token,
        Method::PATCH,
        &path,
        Some(json!({"headline": ""})),
        &[("if-match", &tag)],
    )
    .await;
    assert_eq!(empty.status, 422);
    assert_eq!(empty.body["errors"][0]["field"], "headline");
}

#[tokio::test]
async fn every_queue_action_through_the_api_and_no_email_in_it() {
    let app = spawn_with(&[("moderation", "all")]).await;
    app.add_staff("ed@example.com", "Edith Editor", Role::Editor).await;
    app.add_staff("au@example.com", "Arthur Author", Role::Author).await;
    let editor = app.sign_in("ed@example.com").await;
    let author = app.sign_in("au@example.com").await;
    let token = app.make_token(&editor, "Desk", &["moderate"]).await;
    let author_token = app.make_token(&author, "Laptop", &["moderate"]).await;
    let article = app.publish("Moderated").await;
    let canary = "queue-canary@example.com";
    let held = app.post(&article.path, &reply_with(&[("email", canary)])).await;
    assert_eq!(held.status, 303);
    let id = comment_id(held.location()).get();
    use reqwest::Method;
    let queue = as_token(&app, &token, Method::GET, "/api/v1/queue", None).await;
    assert_eq!(queue.status, 200, "{}", queue.text);
    assert_eq!(queue.body["replies"][0]["reply"]["id"], id);
    assert_eq!(queue.body["replies"][0]["status"], "pending");
    assert!(
        !queue.text.contains(canary)
            && !queue.text.contains("\"ip\"")
            && !queue.text.contains("email"),
        "no email, no address"
    );
    let act = |action: &'static str| {
        let (app, token) = (&app, &token);
        async move {
            as_token(
                app,
                token,
                Method::POST,
                &format!("/api/v1/replies/{id}"),
                Some(json!({"action": action})),
            )
            .await
        }
    };
    for (action, status) in [
        ("approve", "approved"),
        ("unapprove", "pending"),
        ("spam", "spam"),
        ("notspam", "pending"),
        ("trash", "trash"),
        ("restore", "pending"),
        ("approve", "approved"),
    ] {
        let done = act(action).await;
        assert_eq!(
            (done.status, done.str("status")),
            (200, status.to_owned()),
            "{action}: {}",
            done.text
        );
    }
    let thread = app.api_get(&format!("/api/v1/articles/{}/replies", article.id)).await;
    assert_eq!(thread.body["replies"][0]["id"], id, "approved: public");
    let edited = as_token(
        &app,
        &token,
        Method::POST,
        &format!("/api/v1/replies/{id}"),
        Some(json!({"action": "edit", "comment": "Edited by the desk."})),
    )
    .await;
    assert_eq!(edited.status, 200);
    let answered = as_token(
        &app,
        &token,
        Method::POST,
        &format!("/api/v1/replies/{id}"),
        Some(json!({"action": "answer", "comment": "Thanks for writing."})),
    )
    .await;
    assert_eq!(answered.status, 200, "{}", answered.text);
    let thread = app.api_get(&format!("/api/v1/articles/{}/replies", article.id)).await;
    assert_eq!(thread.body["replies"][0]["body"], "Edited by the desk.");
    assert_eq!(thread.body["replies"][1]["author"]["staff"], true);
    assert_eq!(thread.body["replies"][1]["id"], answered.body["answer_id"]);
    // An author moderates their own articles only.
    let refused = as_token(
        &app,
        &author_token,
        Method::POST,
        &format!("/api/v1/replies/{id}"),
        Some(json!({"action": "trash"})),
    )
    .await;
    assert_eq!(refused.status, 403);
    let unknown = act("banish").await;
    assert_eq!(unknown.status, 400);
    let missing_text = as_token(
        &app,
        &token,
        Method::POST,
        &format!("/api/v1/replies/{id}"),
        Some(json!({"action": "edit"})),
    )
    .await;
    assert_eq!(missing_text.status, 422);
    let deleted = act("delete").await;
    assert_eq!(deleted.str("status"), "deleted");
    assert_eq!(act("approve").await.status, 404);
}

#[tokio::test]
async fn writes_through_the_api_are_limited_per_account() {
    let app = spawn_with(&[("moderation", "none"), ("api_writes_per_minute", "2")]).await;
    app.add_staff("ed@example.com", "Edith Editor", Role::Editor).await;
    let staff = app.sign_in("ed@example.com").await;
    let token = app.make_token(&staff, "Desk", &["write_articles"]).await;
    for n in 0..2 {
        let made = as_token(
            &app,
            &token,
            reqwest::Method::POST,
            "/api/v1/articles",
            Some(json!({"headline": format!("Story {n}")})),
        )
        .await;
        assert_eq!(made.status, 201);
    }
    let limited = as_token(
        &app,
        &token,
        reqwest::Method::POST,
        "/api/v1/articles",
        Some(json!({"headline": "One more"})),
    )
    .await;
    assert_eq!((limited.status, limited.str("code")), (429, "rate_limited".to_owned()));
    assert!(limited.header("retry-after").parse::<u32>().unwrap() >= 1);
    app.clock.advance(61);
    let later = as_token(
        &app,
        &token,
        reqwest::Method::POST,
        "/api/v1/articles",
        Some(json!({"headline": "Later"})),
    )
    .await;
    assert_eq!(later.status, 201);
}

/// A NUL character (which PostgreSQL's text cannot hold, and no person types) in what is sent
/// is refused saying so on both backends: beside the field in an article (`422`), a `400` in
/// a filter; nothing is kept.
#[tokio::test]
async fn a_nul_character_is_refused_with_a_reason_and_nothing_is_kept() {
    use reqwest::Method;
    let app = spawn_app().await;
    app.add_staff("ed@example.com", "Edith Editor", Role::Editor).await;
    let editor = app.sign_in("ed@example.com").await;
    let token = app.make_token(&editor, "Desk", &["read_drafts", "write_articles"]).await;
    let body = json!({"headline": "Not yet", "standfirst": "a\u{0}b"});
    let made = as_token(&app, &token, Method::POST, "/api/v1/articles", Some(body)).await;
    assert_eq!(made.status, 422, "said beside the field: {}", made.text);
    assert!(made.text.contains("standfirst") && made.text.contains("NUL character"));
    let drafts = as_token(&app, &token, Method::GET, "/api/v1/drafts", None).await;
    assert_eq!(drafts.status, 200, "{}", drafts.text);
    assert!(!drafts.text.contains("Not yet"), "nothing was kept: {}", drafts.text);
    for filter in ["section", "tag"] {
        let listed = app.api_get(&format!("/api/v1/articles?{filter}=a%00b")).await;
        assert_eq!(listed.status, 400, "{filter}: {}", listed.text);
        assert!(listed.str("detail").contains("NUL character"), "{filter}: {}", listed.text);
    }
    let search = app.get("/search?q=a%00b").await;
    assert!(search.status == 400 || search.status == 200, "{}", search.status);
}
