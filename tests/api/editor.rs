//! The editor says what it does: the buttons each status offers, every problem at once, two
//! people's saves, readable revisions restored after asking, search and social fields, the
//! byline picker, the word count, and the trash.

use byline::domain::{ArticleId, ArticleStatus, Role};

use crate::helpers::{StaffClient, TestApp, attr, spawn_with, text};

async fn newsroom() -> (TestApp, StaffClient) {
    let app = spawn_with(&[("moderation", "none")]).await;
    app.add_staff("editor@example.com", "Eve Editor", Role::Editor).await;
    let staff = app.sign_in("editor@example.com").await;
    (app, staff)
}

fn buttons(page: &crate::helpers::Page) -> Vec<String> {
    page.all("form.editor .actions button").into_iter().map(text).collect()
}

/// The editor's form as the page holds it, with some fields changed: what a browser sends.
fn form_of(page: &crate::helpers::Page, changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for input in page.all("form.editor input[name], form.editor textarea[name]") {
        let name = attr(input, "name").to_owned();
        let kind = attr(input, "type");
        if matches!(kind, "file" | "submit") {
            continue;
        }
        if kind == "checkbox" && input.value().attr("checked").is_none() {
            continue;
        }
        let value = if input.value().name() == "textarea" {
            input.text().collect::<String>()
        } else {
            attr(input, "value").to_owned()
        };
        fields.push((name, value));
    }
    for (name, value) in changes {
        fields.retain(|(n, _)| n != name);
        fields.push(((*name).to_owned(), (*value).to_owned()));
    }
    fields
}

async fn send(
    app: &TestApp,
    staff: &StaffClient,
    path: &str,
    form: &[(String, String)],
) -> crate::helpers::Page {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    app.staff_post(staff, path, &pairs).await
}

#[tokio::test]
async fn each_status_offers_the_buttons_that_fit_it() {
    let (app, staff) = newsroom().await;
    let new = app.staff_get(&staff, "/admin/articles/new").await;
    assert_eq!(buttons(&new), ["Preview", "Save draft", "Schedule", "Publish"]);
    let id = app.write(&staff, &[("headline", "Live")], "publish").await;
    let live = app.staff_get(&staff, &format!("/admin/articles/{id}/")).await;
    assert_eq!(buttons(&live), ["Preview", "Update", "Back to draft"], "one Update, no Schedule");
    assert!(!live.has("#publish_at"));
    let soon = jiff::Timestamp::from_second(app.clock.now() + 7200).unwrap();
    let at = soon.strftime("%Y-%m-%dT%H:%M").to_string();
    let later = app.write(&staff, &[("headline", "Later"), ("publish_at", &at)], "schedule").await;
    let scheduled = app.staff_get(&staff, &format!("/admin/articles/{later}/")).await;
    assert_eq!(
        buttons(&scheduled),
        ["Preview", "Save", "Reschedule", "Publish now", "Back to draft"]
    );
}

#[tokio::test]
async fn every_problem_is_reported_at_once_and_said_once() {
    let (app, staff) = newsroom().await;
    let refused = app
        .staff_post(
            &staff,
            "/admin/articles/new",
            &[
                ("headline", "  "),
                ("slug", "Not A Slug"),
                ("publish_at", "2001-01-01T00:00"),
                ("social_image", "javascript:alert(1)"),
                ("action", "schedule"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(text(refused.one("#headline-error")), "The headline is empty.");
    assert!(refused.has("#slug-error"));
    assert!(refused.has("#publish_at-error"), "a past time is reported with the rest");
    assert!(refused.has("#social_image-error"));
    let listed: Vec<_> =
        refused.all("#form-errors li a").into_iter().map(|a| attr(a, "href").to_owned()).collect();
    assert_eq!(listed, ["#headline", "#slug", "#social_image", "#publish_at"]);
    // A schedule without a time says so, beside the other problems too.
    let no_time = app
        .staff_post(&staff, "/admin/articles/new", &[("headline", ""), ("action", "schedule")])
        .await;
    assert!(no_time.has("#publish_at-error") && no_time.has("#headline-error"));
}

#[tokio::test]
async fn a_second_save_is_refused_with_what_changed_and_never_overwrites() {
    let (app, first) = newsroom().await;
    app.add_staff("other@example.com", "Otto Other", Role::Editor).await;
    let second = app.sign_in("other@example.com").await;
    let id = app
        .write(&first, &[("headline", "Shared story"), ("body", "First paragraph.")], "save")
        .await;
    let path = format!("/admin/articles/{id}/");
    // Both open the editor; the first saves; the second saves the page they opened.
    let opened_by_first = app.staff_get(&first, &path).await;
    let opened_by_second = app.staff_get(&second, &path).await;
    let saved = send(
        &app,
        &first,
        &path,
        &form_of(&opened_by_first, &[("body", "First paragraph, corrected."), ("action", "save")]),
    )
    .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let late = send(
        &app,
        &second,
        &path,
        &form_of(&opened_by_second, &[("standfirst", "Otto's standfirst"), ("action", "save")]),
    )
    .await;
    assert_eq!(late.status, 409, "{}", late.body);
    let conflict = text(late.one("#conflict"));
    assert!(conflict.contains("Eve Editor"), "who: {conflict}");
    assert!(late.one("#conflict .diff").inner_html().contains("First paragraph, corrected."));
    assert_eq!(attr(late.one("#standfirst"), "value"), "Otto's standfirst", "their text is kept");
    let stored = app.article(id).await.unwrap();
    assert_eq!(stored.body_markdown, "First paragraph, corrected.", "nothing was overwritten");
    assert_eq!(stored.standfirst, "");
    // Sent again from the page that showed the conflict, it is saved, knowingly.
    let again = send(&app, &second, &path, &form_of(&late, &[("action", "save")])).await;
    assert_eq!(again.status, 303, "{}", again.body);
    assert_eq!(app.article(id).await.unwrap().standfirst, "Otto's standfirst");
}

#[tokio::test]
async fn revisions_say_what_they_were_and_restoring_asks_first() {
    let (app, staff) = newsroom().await;
    let id = app.write(&staff, &[("headline", "First words")], "save").await;
    app.clock.advance(5);
    app.staff_post(
        &staff,
        &format!("/admin/articles/{id}/"),
        &[("headline", "Second words"), ("action", "publish")],
    )
    .await;
    let list = app.staff_get(&staff, &format!("/admin/articles/{id}/revisions/")).await;
    let rows: Vec<_> = list.all("ol.revisions li").into_iter().map(text).collect();
    assert_eq!(rows.len(), 2);
    assert!(
        rows[0].starts_with("Published by Eve Editor") && rows[0].contains("current"),
        "{rows:?}"
    );
    assert!(rows[1].starts_with("Saved by Eve Editor") && !rows[1].contains("current"), "{rows:?}");
    // To the second, with the zone.
    let seconds = byline::domain::time::date_and_seconds(app.clock.now(), &app.config.timezone);
    assert!(rows[0].contains(&seconds), "{rows:?} {seconds}");
    let oldest = list.all("ol.revisions li a")[1];
    let revision = attr(oldest, "href").to_owned();
    let shown = app.staff_get(&staff, &revision).await;
    let restore = attr(shown.one("main a.button[href$='?restore']"), "href").to_owned();
    let ask = app.staff_get(&staff, &restore).await;
    assert_eq!(ask.status, 200);
    assert!(text(ask.one("h1")).starts_with("Restore the revision of"));
    assert_eq!(app.article(id).await.unwrap().headline, "Second words", "asking changes nothing");
    let done = app.staff_post(&staff, attr(ask.one("main form"), "action"), &[]).await;
    assert_eq!(done.status, 303);
    assert_eq!(app.article(id).await.unwrap().headline, "First words");
    let list = app.staff_get(&staff, &format!("/admin/articles/{id}/revisions/")).await;
    assert!(text(list.all("ol.revisions li")[0]).starts_with("Restored by Eve Editor"));
}

#[tokio::test]
async fn search_and_social_fields_fall_back_to_the_article() {
    let (app, staff) = newsroom().await;
    let plain = app
        .write(
            &staff,
            &[("headline", "Plain headline"), ("standfirst", "Plain standfirst")],
            "publish",
        )
        .await;
    let tuned = app
        .write(
            &staff,
            &[
                ("headline", "Tuned headline"),
                ("standfirst", "Tuned standfirst"),
                ("seo_title", "A title for search"),
                ("seo_description", "A description for search engines."),
                ("social_image", "https://img.example/card.jpg"),
            ],
            "publish",
        )
        .await;
    let meta = |page: &crate::helpers::Page, css: &str| attr(page.one(css), "content").to_owned();
    let page = app.get(&app.article(plain).await.unwrap().public_path().unwrap()).await;
    assert!(text(page.one("title")).starts_with("Plain headline"));
    assert_eq!(meta(&page, "meta[property='og:title']"), "Plain headline");
    assert_eq!(meta(&page, "meta[name=description]"), "Plain standfirst");
    let page = app.get(&app.article(tuned).await.unwrap().public_path().unwrap()).await;
    assert!(text(page.one("title")).starts_with("A title for search"));
    assert_eq!(text(page.one("h1")), "Tuned headline", "the page keeps its headline");
    assert_eq!(meta(&page, "meta[property='og:title']"), "A title for search");
    assert_eq!(meta(&page, "meta[name=description]"), "A description for search engines.");
    assert_eq!(meta(&page, "meta[property='og:image']"), "https://img.example/card.jpg");
    assert_eq!(meta(&page, "meta[name='twitter:card']"), "summary_large_image");
    // The editor shows them back.
    let editor = app.staff_get(&staff, &format!("/admin/articles/{tuned}/")).await;
    assert_eq!(attr(editor.one("#seo_title"), "value"), "A title for search");
}

#[tokio::test]
async fn the_byline_is_ticked_in_order_and_the_words_are_counted() {
    let (app, staff) = newsroom().await;
    app.add_staff("ann@example.com", "Ann Author", Role::Author).await;
    app.add_staff("bob@example.com", "Bob Byline", Role::Author).await;
    let users = app.db(|db| byline::store::StaffReads::users(db)).await;
    let id_of =
        |name: &str| users.iter().find(|u| u.author.name == name).unwrap().author.id.to_string();
    let (bob, eve) = (id_of("Bob Byline"), id_of("Eve Editor"));
    let id = app
        .write(
            &staff,
            &[
                ("headline", "Two names"),
                ("authors", &bob),
                ("authors", &eve),
                ("body", "One two three four."),
            ],
            "save",
        )
        .await;
    let editor = app.staff_get(&staff, &format!("/admin/articles/{id}/")).await;
    let ticked: Vec<_> = editor
        .all(".byline-picker input[type=checkbox][checked]")
        .into_iter()
        .map(|i| attr(i, "value").to_owned())
        .collect();
    assert_eq!(ticked, [bob.clone(), eve.clone()], "chosen first, in byline order");
    assert_eq!(editor.all(".byline-picker input[type=checkbox]").len(), 3);
    assert_eq!(text(editor.one("#word-count")), "4 words");
    assert!(editor.has("details.markdown-help summary"));
}

#[tokio::test]
async fn the_trash_hides_restores_and_deletes_for_ever_after_asking() {
    let (app, staff) = newsroom().await;
    app.add_staff("ann@example.com", "Ann Author", Role::Author).await;
    let author = app.sign_in("ann@example.com").await;
    let id = app.write(&staff, &[("headline", "Binned"), ("lead", "yes")], "publish").await;
    let path = app.article(id).await.unwrap().public_path().unwrap();
    let reply = app.reply(&path, &crate::helpers::reply_with(&[])).await;
    let trashed = app.staff_post(&staff, &format!("/admin/articles/{id}/trash"), &[]).await;
    assert_eq!(trashed.status, 303);
    assert_eq!(app.get(&path).await.status, 404, "off the site");
    let article = app.article(id).await.unwrap();
    assert_eq!(article.status, ArticleStatus::Draft);
    assert!(article.trashed_at.is_some());
    let list = app.staff_get(&staff, "/admin/articles/").await;
    assert!(!list.has(&format!("tr[data-id='{id}']")), "the list leaves the trash out");
    let trash = app.staff_get(&staff, "/admin/articles/?status=trash").await;
    assert!(trash.has(&format!("tr[data-id='{id}']")));
    // Out of the trash as a draft; back in; then for ever, after asking, by an editor only.
    app.staff_post(&staff, &format!("/admin/articles/{id}/restore"), &[]).await;
    assert!(app.article(id).await.unwrap().trashed_at.is_none());
    let live = app.write(&staff, &[("headline", "Not in the trash")], "save").await;
    let refused = app.staff_post(&staff, &format!("/admin/articles/{live}/delete"), &[]).await;
    assert_eq!(refused.status, 403, "only from the trash");
    app.staff_post(&staff, &format!("/admin/articles/{id}/trash"), &[]).await;
    let by_author = app.staff_post(&author, &format!("/admin/articles/{id}/delete"), &[]).await;
    assert_eq!(by_author.status, 403);
    let ask = app.staff_get(&staff, &format!("/admin/articles/{id}/delete")).await;
    assert!(text(ask.one("h1")).contains("Binned"));
    assert!(text(ask.one("main")).contains("1 reply"));
    assert!(app.article(id).await.is_some(), "asking deletes nothing");
    let deleted = app.staff_post(&staff, attr(ask.one("main form"), "action"), &[]).await;
    assert_eq!(deleted.status, 303);
    assert!(app.article(id).await.is_none());
    assert!(app.stored(reply).await.is_none(), "its replies went with it");
    assert_eq!(app.staff_get(&staff, &format!("/admin/articles/{id}/")).await.status, 404);
    let _: ArticleId = live;
}
