//! The JSON API's public half: its OpenAPI description against the routes, the reads
//! (articles, sections, tags, authors, threads of replies, counts), ETags, problems, and
//! posting a reply with every rule of the form.

use std::collections::BTreeSet;

use byline::domain::{ReplyStatus, Role};
use serde_json::{Value, json};

use crate::helpers::*;

/// Every `/api/v1/` route is in the description, and only those; each method it names is
/// served.
#[tokio::test]
async fn the_description_names_every_api_route_and_each_is_served() {
    let app = spawn_app().await;
    let spec = app.api_get("/api/openapi.json").await;
    assert_eq!(spec.status, 200);
    assert_eq!(spec.body["openapi"], "3.1.0", "OpenAPI 3.1");
    let paths = spec.body["paths"].as_object().expect("paths");
    let described: BTreeSet<&str> = paths.keys().map(String::as_str).collect();
    let routes = byline::web::routes();
    let routed: BTreeSet<&str> =
        routes.iter().map(|r| r.path).filter(|p| p.starts_with("/api/v1/")).collect();
    assert_eq!(described, routed, "the description and the router differ");
    for (path, item) in paths {
        let concrete = path.replace("{id}", "1");
        for method in item.as_object().unwrap().keys() {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let response = app
                .client
                .request(method.clone(), app.url(&concrete))
                .timeout(std::time::Duration::from_secs(5))
                .send()
                .await
                .expect("an answer");
            assert_ne!(response.status(), 405, "{method} {path} is described but not served");
            if response.status() == 404 {
                let body = response.text().await.unwrap();
                assert!(!body.contains("nothing at this address of the API"), "{method} {path}");
            }
        }
    }
    // An address the API does not have is a problem too, not a page.
    let missing = app.api_get("/api/v1/nothing-here").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("content-type"), "application/problem+json");
    assert_eq!(missing.body["status"], 404);
    let wrong = app.api(reqwest::Method::PUT, "/api/v1/sections", None, &[]).await;
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.body["code"], "method_not_allowed");
}

/// Articles written in the newsroom: three in Local (two tagged Rivers), two in Sport, one
/// draft.
async fn newsroom(app: &TestApp) -> (Vec<i64>, Vec<i64>, Vec<i64>, i64) {
    app.add_staff("ed@example.com", "Edith Editor", Role::Editor).await;
    let staff = app.sign_in("ed@example.com").await;
    let mut local = Vec::new();
    let mut rivers = Vec::new();
    let mut sport = Vec::new();
    for (headline, section, tags) in [
        ("Ferry runs late", "Local", "Rivers"),
        ("Bridge repainted", "Local", ""),
        ("Flood warning lifted", "Local", "Rivers, Weather"),
        ("Cup final tonight", "Sport", ""),
        ("Marathon route changes", "Sport", ""),
    ] {
        let fields =
            [("headline", headline), ("section", section), ("tags", tags), ("body", "Text.")];
        let id = app.write(&staff, &fields, "publish").await.get();
        if section == "Local" {
            local.push(id);
        } else {
            sport.push(id);
        }
        if tags.contains("Rivers") {
            rivers.push(id);
        }
    }
    let draft = app.write(&staff, &[("headline", "Not yet"), ("section", "Local")], "save").await;
    let mut all = local.clone();
    all.extend(&sport);
    (all, local, rivers, draft.get())
}

/// Follows `next` from `path` to the end; the ids in order.
async fn every_page(app: &TestApp, path: &str) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut url = path.to_owned();
    for _ in 0..50 {
        let page = app.api_get(&url).await;
        assert_eq!(page.status, 200, "{}", page.text);
        ids.extend(
            page.body["articles"].as_array().unwrap().iter().map(|a| a["id"].as_i64().unwrap()),
        );
        match page.body["next"].as_str() {
            Some(next) => {
                let joiner = if path.contains('?') { '&' } else { '?' };
                url = format!("{path}{joiner}cursor={next}");
            }
            None => return ids,
        }
    }
    panic!("the cursors never ended");
}

#[tokio::test]
async fn articles_come_in_pages_by_cursor_filtered_by_section_tag_and_author() {
    let app = spawn_app().await;
    let (all, local, rivers, draft) = newsroom(&app).await;
    let paged = every_page(&app, "/api/v1/articles?limit=2").await;
    let mut newest_first = all.clone();
    newest_first.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(paged, newest_first, "every published article once, newest first");
    assert!(!paged.contains(&draft), "no draft");
    let set = |ids: Vec<i64>| ids.into_iter().collect::<BTreeSet<_>>();
    assert_eq!(set(every_page(&app, "/api/v1/articles?section=local&limit=1").await), set(local));
    assert_eq!(set(every_page(&app, "/api/v1/articles?tag=rivers").await), set(rivers.clone()));
    let both = every_page(&app, "/api/v1/articles?section=local&tag=rivers").await;
    assert_eq!(set(both), set(rivers));
    assert!(every_page(&app, "/api/v1/articles?section=nowhere").await.is_empty());
    let first = app.api_get(&format!("/api/v1/articles/{}", all[0])).await;
    let author = first.body["authors"][0]["id"].as_i64().unwrap();
    let by_author = every_page(&app, &format!("/api/v1/articles?author={author}")).await;
    assert_eq!(set(by_author), set(all.clone()));
    let summary = &app.api_get("/api/v1/articles?limit=1").await.body["articles"][0];
    assert_eq!(summary["section"], "Sport");
    assert!(summary["url"].as_str().unwrap().starts_with(&app.address));
    for bad in ["limit=0", "limit=101", "limit=ten", "cursor=yesterday", "author=0"] {
        let refused = app.api_get(&format!("/api/v1/articles?{bad}")).await;
        assert_eq!(refused.status, 400, "{bad}");
        assert_eq!(refused.header("content-type"), "application/problem+json");
        assert_eq!(refused.body["type"], "about:blank");
        assert!(!refused.str("detail").is_empty());
    }
}

#[tokio::test]
async fn an_article_by_id_or_address_with_its_byline_tags_and_validators() {
    let app = spawn_app().await;
    let (all, _, rivers, draft) = newsroom(&app).await;
    let id = rivers[1];
    let article = app.api_get(&format!("/api/v1/articles/{id}")).await;
    assert_eq!(article.status, 200, "{}", article.text);
    assert_eq!(article.body["headline"], "Flood warning lifted");
    assert_eq!(article.body["section"]["name"], "Local");
    let tags: Vec<&str> = article.body["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(tags, ["Rivers", "Weather"]);
    assert_eq!(article.body["authors"][0]["name"], "Edith Editor");
    assert!(article.body["body_html"].as_str().unwrap().contains("<p>Text.</p>"));
    assert_eq!(article.body["body_markdown"], Value::Null, "the source is the newsroom's");
    let etag = article.header("etag").to_owned();
    assert!(etag.starts_with("\"r"), "{etag}");
    let again =
        app.api_get_with(&format!("/api/v1/articles/{id}"), &[("if-none-match", &etag)]).await;
    assert_eq!(again.status, 304);
    let url = article.str("url");
    let path = url.trim_start_matches(&app.address);
    let by_path = app.api_get(&format!("/api/v1/articles/by-path?path={path}")).await;
    assert_eq!(by_path.body["id"], id);
    let by_url = app.api_get(&format!("/api/v1/articles/by-path?path={url}")).await;
    assert_eq!(by_url.body["id"], id);
    assert_eq!(app.api_get(&format!("/api/v1/articles/{draft}")).await.status, 404, "a draft");
    assert_eq!(app.api_get("/api/v1/articles/999999").await.status, 404);
    assert_eq!(app.api_get("/api/v1/articles/abc").await.status, 400);
    assert_eq!(app.api_get("/api/v1/articles/by-path?path=/2020/01/01/nope/").await.status, 404);
    // A reply changes what the article's answer shows, and so its tag.
    let published = app.article(byline::domain::ArticleId(all[0])).await.unwrap();
    app.reply(&published.public_path().unwrap(), &valid_reply()).await;
    let first = app.api_get(&format!("/api/v1/articles/{}", all[0])).await;
    assert_eq!(first.body["reply_count"], 1);

    let sections = app.api_get("/api/v1/sections").await;
    let names: Vec<&str> = sections.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Local", "Sport"]);
    let tags = app.api_get("/api/v1/tags").await;
    assert_eq!(tags.body["items"].as_array().unwrap().len(), 2);
    let authors = app.api_get("/api/v1/authors").await;
    assert_eq!(authors.body["authors"][0]["name"], "Edith Editor");
    let etag = authors.header("etag").to_owned();
    assert_eq!(app.api_get_with("/api/v1/authors", &[("if-none-match", &etag)]).await.status, 304);
}

/// One page of replies as `(id, depth, removed)`.
fn shape(page: &Json) -> Vec<(i64, i64, bool)> {
    page.body["replies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["id"].as_i64().unwrap(), r["depth"].as_i64().unwrap(), r["removed"] == true))
        .collect()
}

#[tokio::test]
async fn replies_come_threaded_in_pages_as_the_article_shows_them() {
    let app = spawn_with(&[("moderation", "none"), ("replies_per_page", "2")]).await;
    let article = app.publish("Threads").await;
    let a = article.id;
    let r1 = app.seed_reply(a, None, "One", ReplyStatus::Approved).await;
    let r2 = app.seed_reply(a, Some(r1), "Two", ReplyStatus::Approved).await;
    app.clock.advance(1);
    let r3 = app.seed_reply(a, None, "Three", ReplyStatus::Approved).await;
    app.clock.advance(1);
    let r4 = app.seed_reply(a, None, "Four", ReplyStatus::Approved).await;
    app.clock.advance(1);
    let r5 = app.seed_reply(a, None, "Five", ReplyStatus::Approved).await;
    let newest = app.api_get(&format!("/api/v1/articles/{a}/replies")).await;
    assert_eq!(newest.status, 200, "{}", newest.text);
    assert_eq!((newest.body["page"].as_i64(), newest.body["pages"].as_i64()), (Some(2), Some(2)));
    assert_eq!(shape(&newest), [(r4.get(), 1, false), (r5.get(), 1, false)]);
    assert_eq!(newest.body["reply_count"], 5);
    let older = newest.str("older");
    let first = app.api_get(&format!("/api/v1/articles/{a}/replies?cursor={older}")).await;
    assert_eq!(shape(&first), [(r1.get(), 1, false), (r2.get(), 2, false), (r3.get(), 1, false)]);
    assert_eq!(first.body["replies"][1]["parent_id"], r1.get());
    assert_eq!(first.body["replies"][0]["author"]["name"], "One");
    assert_eq!(first.body["replies"][0]["body"], "Reply by One.");
    assert_eq!(first.body["newer"], "p2");
    assert_eq!(app.api_get(&format!("/api/v1/articles/{a}/replies?cursor=p9")).await.status, 404);
    assert_eq!(app.api_get(&format!("/api/v1/articles/{a}/replies?cursor=9")).await.status, 400);
    // A removed reply keeps its place, and its answer with it.
    app.set_reply_status(r1, ReplyStatus::Trash).await;
    let first = app.api_get(&format!("/api/v1/articles/{a}/replies?cursor=p1")).await;
    assert_eq!(shape(&first)[..2], [(r1.get(), 1, true), (r2.get(), 2, false)]);
    assert_eq!(first.body["replies"][0]["author"], Value::Null);
    assert_eq!(first.body["replies"][0]["body"], Value::Null);
    let _ = (r3, r5);
}

#[tokio::test]
async fn a_held_reply_is_shown_to_its_poster_alone() {
    let app = spawn_with(&[("moderation", "all")]).await;
    let article = app.publish("Held").await;
    let token = app.api_get(&format!("/api/v1/token?article={}", article.id)).await.str("token");
    let form = json!({"comment": "Wait for me", "name": "Pat", "email": "pat@example.com", "token": token});
    let posted = app
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/articles/{}/replies", article.id),
            Some(form),
            &[],
        )
        .await;
    assert_eq!(posted.status, 201, "{}", posted.text);
    assert_eq!(posted.body["held"], true);
    let poster = posted.str("poster");
    let id = posted.body["reply"]["id"].as_i64().unwrap();
    let path = format!("/api/v1/articles/{}/replies", article.id);
    let anyone = app.api_get(&path).await;
    assert!(shape(&anyone).is_empty(), "nobody else sees it");
    assert!(anyone.header("cache-control").starts_with("public"));
    let encoded = url::form_urlencoded::byte_serialize(poster.as_bytes()).collect::<String>();
    let theirs = app.api_get(&format!("{path}?poster={encoded}")).await;
    assert_eq!(shape(&theirs), [(id, 1, false)]);
    assert_eq!(theirs.body["replies"][0]["held"], true);
    assert!(theirs.header("cache-control").starts_with("private"), "theirs alone");
    let forged = format!("{path}?poster={}", encoded.replace("%7E", "%7E0"));
    assert!(shape(&app.api_get(&forged).await).is_empty(), "a forged token shows nothing");
}

#[tokio::test]
async fn counts_for_many_articles_and_addresses_at_once() {
    let app = spawn_app().await;
    let one = app.publish("One").await;
    let two = app.publish("Two").await;
    app.reply(&one.path, &valid_reply()).await;
    app.reply(&one.path, &reply_with(&[("comment", "Another")])).await;
    let url = app.url(&one.path);
    let counts = app
        .api_get(&format!(
            "/api/v1/counts?article={}&article={}&article=999&url={}&url=https://elsewhere.example/",
            one.id, two.id, url
        ))
        .await;
    assert_eq!(counts.status, 200, "{}", counts.text);
    assert_eq!(
        counts.body["articles"],
        json!([{"id": one.id.get(), "replies": 2}, {"id": two.id.get(), "replies": 0}])
    );
    assert_eq!(counts.body["urls"][0], json!({"url": url, "replies": 2}));
    assert_eq!(counts.body["urls"][1]["replies"], 0);
    let many: String = (1..=101).map(|i| format!("article={i}&")).collect();
    assert_eq!(app.api_get(&format!("/api/v1/counts?{many}")).await.status, 400);
}

/// Posts `form` to the article through the API, with a fresh token unless it has one.
async fn api_post(app: &TestApp, article: i64, form: Value, headers: &[(&str, &str)]) -> Json {
    let mut form = form;
    if form.get("token").is_none() {
        let token = app.api_get(&format!("/api/v1/token?article={article}")).await.str("token");
        form["token"] = json!(token);
    }
    let path = format!("/api/v1/articles/{article}/replies");
    app.api(reqwest::Method::POST, &path, Some(form), headers).await
}

fn reader(comment: &str) -> Value {
    json!({"comment": comment, "name": "Ada Reader", "email": "ada@example.com"})
}

fn fields(problem: &Json) -> Vec<String> {
    problem.body["errors"]
        .as_array()
        .map(|e| e.iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn every_rule_of_the_form_holds_through_the_api() {
    let app = spawn_with(&[
        ("moderation", "none"),
        ("min_fill_seconds", "3"),
        ("duplicate_check", "on"),
        ("honeypot", "on"),
    ])
    .await;
    let article = app.publish("Rules").await;
    let a = article.id.get();
    // Sent as soon as the token was given: held.
    let quick = api_post(&app, a, reader("Quick"), &[]).await;
    assert_eq!(quick.status, 201, "{}", quick.text);
    assert_eq!(quick.body["held"], true, "too fast to be a person");
    app.clock.advance(10);
    let token = app.api_get(&format!("/api/v1/token?article={a}")).await.str("token");
    app.clock.advance(10);
    let with = |mut form: Value| {
        form["token"] = json!(token);
        form
    };
    let fine = api_post(&app, a, with(reader("Fine")), &[]).await;
    assert_eq!((fine.status, fine.body["held"].clone()), (201, json!(false)), "{}", fine.text);
    assert!(fine.header("location").ends_with(&format!("#comment-{}", fine.body["reply"]["id"])));
    // Every problem at once, by field, and nothing stored.
    let before = app.queued().await.len();
    let bad =
        api_post(&app, a, with(json!({"comment": "", "name": "", "email": "nope"})), &[]).await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert_eq!(bad.header("content-type"), "application/problem+json");
    assert_eq!(bad.body["code"], "invalid");
    assert_eq!(fields(&bad), ["comment", "name", "email"]);
    assert_eq!(app.queued().await.len(), before);
    // No token, or a forged one.
    let mut untokened = reader("No token");
    untokened["token"] = json!("");
    let refused = api_post(&app, a, untokened, &[]).await;
    assert_eq!((refused.status, fields(&refused)), (422, vec!["form".to_owned()]));
    let mut forged = reader("Forged");
    forged["token"] = json!(format!("{}.{}", app.clock.now(), "ab".repeat(32)));
    assert_eq!(api_post(&app, a, forged, &[]).await.status, 422);
    // The honeypot: stored as spam, shown to nobody, and not said so.
    let mut robot = with(reader("Buy now"));
    robot["homepage"] = json!("http://spam.example");
    let caught = api_post(&app, a, robot, &[]).await;
    assert_eq!((caught.status, caught.body["held"].clone()), (201, json!(true)));
    let id = byline::domain::ReplyId(caught.body["reply"]["id"].as_i64().unwrap());
    assert_eq!(app.stored(id).await.unwrap().status, ReplyStatus::Spam);
    // The same text again.
    let twice = api_post(&app, a, with(reader("Fine")), &[]).await;
    assert_eq!((twice.status, fields(&twice)), (422, vec!["comment".to_owned()]));
    // An answer to a reply that is not there.
    let mut orphan = with(reader("To nobody"));
    orphan["parent"] = json!(999_999);
    let orphaned = api_post(&app, a, orphan, &[]).await;
    assert_eq!((orphaned.status, fields(&orphaned)), (422, vec!["parent".to_owned()]));
    // A web form is as good as JSON.
    let form = encode(&[
        ("comment", "As a form".to_owned()),
        ("name", "Form Filler".to_owned()),
        ("email", "form@example.com".to_owned()),
        ("token", token.clone()),
    ]);
    let formed = app
        .client
        .post(app.url(&format!("/api/v1/articles/{a}/replies")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(formed.status(), 201);
    // What cannot be read at all.
    let path = format!("/api/v1/articles/{a}/replies");
    let broken = app
        .client
        .post(app.url(&path))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(broken.status(), 400);
    let plain = app
        .client
        .post(app.url(&path))
        .header("content-type", "text/plain")
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 415);
    let huge = "x".repeat(200 * 1024);
    let too_big = app
        .client
        .post(app.url(&path))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), 413);
    assert_eq!(too_big.headers()["content-type"], "application/problem+json");
    // From a page of a site that is not listed.
    let foreign =
        api_post(&app, a, with(reader("From afar")), &[("origin", "https://evil.example")]).await;
    assert_eq!((foreign.status, foreign.str("code")), (403, "unlisted_site".to_owned()));
    // No such article.
    assert_eq!(api_post(&app, 999_999, reader("Nowhere"), &[]).await.status, 404);
}

#[tokio::test]
async fn the_rate_limit_and_closed_replies_hold_through_the_api() {
    let app = spawn_with(&[("moderation", "none"), ("rate_limit_per_minute", "2")]).await;
    let article = app.publish("Busy").await;
    let a = article.id.get();
    for n in 0..2 {
        let posted = api_post(&app, a, reader(&format!("Reply {n}")), &[]).await;
        assert_eq!(posted.status, 201, "{}", posted.text);
    }
    let limited = api_post(&app, a, reader("One too many"), &[]).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.body["code"], "rate_limited");
    assert!(limited.header("retry-after").parse::<u32>().unwrap() > 0);
    app.clock.advance(61);
    assert_eq!(api_post(&app, a, reader("Later"), &[]).await.status, 201);

    let closed = app
        .publish_draft(byline::services::publishing::Draft {
            headline: "Closed".into(),
            standfirst: String::new(),
            author: "Jo".into(),
            body_markdown: "Text".into(),
            replies_open: false,
        })
        .await;
    let refused = api_post(&app, closed.id.get(), reader("Too late"), &[]).await;
    assert_eq!((refused.status, refused.str("code")), (403, "replies_closed".to_owned()));
}

/// The article page's script posts the form asking for JSON: the reply's card and the
/// cookies the plain form sets, or the messages by field.
#[tokio::test]
async fn the_pages_script_gets_the_reply_or_the_messages_as_json() {
    let app = spawn_with(&[("moderation", "none"), ("edit_window_minutes", "15")]).await;
    let article = app.publish("Scripted").await;
    let token = app.form_token(&article.path).await;
    let mut form = valid_reply();
    form.push(("token", token.clone()));
    form.push(("remember", "yes".into()));
    let posted = app
        .post_raw(&article.path, encode(&form).into_bytes(), &[("accept", "application/json")])
        .await;
    assert_eq!(posted.status, 201, "{}", posted.body);
    let body: Value = serde_json::from_str(&posted.body).unwrap();
    assert_eq!(body["held"], false);
    let card = scraper::Html::parse_fragment(body["html"].as_str().unwrap());
    let text: String = card.root_element().text().collect();
    assert!(text.contains("A thoughtful reply."), "{text}");
    assert!(text.contains("Edit"), "its poster may change it: {text}");
    let cookies = cookies_from(&posted);
    assert!(cookies.contains("byline_own=") && cookies.contains("byline_reader="), "{cookies}");
    let mut bad = reply_with(&[("email", "not an address")]);
    bad.push(("token", token));
    let refused = app
        .post_raw(&article.path, encode(&bad).into_bytes(), &[("accept", "application/json")])
        .await;
    assert_eq!(refused.status, 422);
    let problem: Value = serde_json::from_str(&refused.body).unwrap();
    assert_eq!(problem["errors"][0]["field"], "email");
}

/// schemathesis (PyPI) against the running server with its own description: no answer is a
/// 5xx, and every answer matches what the description says of its status, content type,
/// headers and body. As a staff token, so that the staff's routes are tried too. Event streams
/// are left out: they never end, and `live.rs` tests them.
#[tokio::test]
async fn schemathesis_finds_no_server_error_and_every_answer_matches_the_description() {
    let st = format!("{}/tests/python/.venv/bin/st", env!("CARGO_MANIFEST_DIR"));
    assert!(
        std::path::Path::new(&st).exists(),
        "schemathesis is missing: scripts/setup installs it in tests/python/.venv"
    );
    let app = spawn_with(&[
        ("moderation", "none"),
        ("embed_origins", "https://blog.example"),
        ("api_writes_per_minute", "0"),
    ])
    .await;
    newsroom(&app).await;
    let article = app.publish("Fuzzed").await;
    let first = app.reply(&article.path, &valid_reply()).await;
    app.reply(&article.path, &reply_with(&[("parent", &first.to_string())])).await;
    let staff = app.sign_in("ed@example.com").await;
    let token = app
        .make_token(
            &staff,
            "schemathesis",
            &["read_drafts", "write_articles", "publish", "moderate"],
        )
        .await;
    let schema = app.url("/api/openapi.json");
    let auth = format!("Authorization: Bearer {token}");
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(st)
            .args([
                "run",
                &schema,
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,\
                 response_headers_conformance,response_schema_conformance",
                "--exclude-path-regex",
                "/events$",
                "--max-examples",
                "25",
                "--seed",
                "1",
                "--request-timeout",
                "10",
                "--workers",
                "1",
                "-H",
                &auth,
            ])
            .env("NO_COLOR", "1")
            .output()
    })
    .await
    .unwrap()
    .expect("schemathesis runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "schemathesis found problems:\n{stdout}\n{stderr}");
    assert!(stdout.contains("passed"), "{stdout}");
    println!("{}", stdout.lines().rev().take(12).collect::<Vec<_>>().join("\n"));
}
