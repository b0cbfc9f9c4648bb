use byline::services::publishing::Draft;

use crate::helpers::{attr, spawn_app, spawn_with, text};

const TYPOGRAPHY: &str = "“Quoted” – en — em ’apostrophe’ «guillemets» 東京の朝 Москва عربى";

fn draft(headline: &str, body: &str) -> Draft {
    Draft {
        headline: headline.into(),
        standfirst: "The line under the headline.".into(),
        author: "Eleanor Marsh".into(),
        body_markdown: body.into(),
        replies_open: true,
    }
}

#[tokio::test]
async fn shows_headline_standfirst_byline_date_and_body() {
    let app = spawn_app().await;
    let published = app
        .publish_draft(draft(
            "Ferry runs on time",
            "First paragraph.\n\n# A subhead\n\n*Second* paragraph.\n\n## A smaller one",
        ))
        .await;
    let today = byline::domain::time::date_path(app.clock.now(), &jiff::tz::TimeZone::UTC);
    assert_eq!(published.path, format!("/{today}/ferry-runs-on-time/"));

    let page = app.get(&published.path).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), "text/html; charset=utf-8");
    assert_eq!(page.all("h1").len(), 1);
    assert_eq!(text(page.one("h1")), "Ferry runs on time");
    assert!(text(page.one("title")).starts_with("Ferry runs on time"));
    assert_eq!(text(page.one(".standfirst")), "The line under the headline.");
    assert!(text(page.one(".byline")).contains("Eleanor Marsh"));
    let time = page.one(".byline time");
    let datetime = attr(time, "datetime");
    assert!(jiff::Timestamp::strptime("%Y-%m-%dT%H:%M:%S%:z", datetime).is_ok(), "{datetime}");
    // The body's headings start at h2: the headline is the page's one h1.
    assert_eq!(text(page.one(".story-body h2")), "A subhead");
    assert_eq!(text(page.one(".story-body h3")), "A smaller one");
    assert_eq!(text(page.one(".story-body em")), "Second");
}

#[tokio::test]
async fn bodies_an_older_byline_rendered_are_rendered_again_at_start() {
    use byline::store::{ArticleWrites, SettingWrites, SiteSetting};
    let app = spawn_app().await;
    let published =
        app.publish_draft(draft("Old render", "# Heading\n\nNote[^1].\n\n[^1]: The note.")).await;
    let id = published.id;
    // As an older Byline left it: an h1 in the body, and no record of the rendering.
    app.db_write(move |tx| {
        Box::pin(async move {
            tx.set_body_html(id, "<h1>Heading</h1><p>Note.</p>").await?;
            tx.set_setting(SiteSetting::RenderedWith, None).await
        })
    })
    .await;
    assert_eq!(app.get(&published.path).await.all("h1").len(), 2);

    let restarted = crate::helpers::restart(&app, &[("moderation", "none")]).await;
    let page = restarted.get(&published.path).await;
    assert_eq!(page.all("h1").len(), 1, "{}", page.body);
    assert_eq!(text(page.one(".story-body h2")), "Heading");
    let note = page.one(".story-body sup a");
    assert_eq!(attr(note, "href"), "#fn-1");
    assert!(page.has(".story-body #fn-1"), "the note's link finds its note");
}

#[tokio::test]
async fn typographic_characters_come_through_exactly() {
    let app = spawn_app().await;
    let mut article = draft(TYPOGRAPHY, TYPOGRAPHY);
    article.standfirst = TYPOGRAPHY.into();
    let published = app.publish_draft(article).await;
    let page = app.get(&published.path).await;
    assert_eq!(text(page.one("h1")), TYPOGRAPHY);
    assert_eq!(text(page.one(".standfirst")), TYPOGRAPHY);
    assert_eq!(text(page.one(".story-body p")), TYPOGRAPHY);
    assert!(page.body.contains(TYPOGRAPHY), "the characters are sent as they are, not as entities");
}

#[tokio::test]
async fn markdown_from_staff_is_sanitized() {
    let app = spawn_app().await;
    let body = "Hi <script>alert(1)</script> [link](javascript:alert(2)) <img src=x onerror=alert(3)>\n\n\
                <div style=\"position:fixed;inset:0\">cover</div> <iframe src=\"https://evil.example\"></iframe>";
    let published = app.publish_draft(draft("Sanitized", body)).await;
    let page = app.get(&published.path).await;
    assert!(
        !page.has(
            ".story-body script, .story-body iframe, .story-body [style], .story-body [onerror]"
        )
    );
    for a in page.all(".story-body a") {
        assert!(!attr(a, "href").starts_with("javascript"), "{}", page.body);
    }
}

#[tokio::test]
async fn the_url_date_is_the_publication_date_in_the_site_time_zone() {
    let app = spawn_with(&[("timezone", "Pacific/Kiritimati")]).await;
    let published = app.publish("Far east").await;
    let tz = jiff::tz::TimeZone::get("Pacific/Kiritimati").unwrap();
    let expected = byline::domain::time::date_path(app.clock.now(), &tz);
    assert!(published.path.starts_with(&format!("/{expected}/")), "{}", published.path);
    assert_eq!(app.get(&published.path).await.status, 200);
}

#[tokio::test]
async fn slugs_are_unique() {
    let app = spawn_app().await;
    let a = app.publish("Same headline").await;
    let b = app.publish("Same headline").await;
    assert_ne!(a.path, b.path);
    assert!(b.path.ends_with("/same-headline-2/"), "{}", b.path);
    assert_eq!(app.get(&b.path).await.status, 200);
}

#[tokio::test]
async fn non_latin_slugs_work() {
    let app = spawn_app().await;
    let published = app.publish("Город у реки").await;
    assert!(published.path.contains("%D0%B3"), "percent-encoded: {}", published.path);
    let page = app.get(&published.path).await;
    assert_eq!(page.status, 200);
    assert_eq!(text(page.one("h1")), "Город у реки");
}

#[tokio::test]
async fn near_misses_redirect_to_the_canonical_url() {
    let app = spawn_app().await;
    let published = app.publish("Canonical").await;
    let without_slash = published.path.trim_end_matches('/');
    let response = app.get(without_slash).await;
    assert_eq!(response.status, 301);
    assert_eq!(response.location(), published.path);

    let response = app.get("/1999/01/01/canonical/").await;
    assert_eq!(response.status, 301);
    assert_eq!(response.location(), published.path);
}

#[tokio::test]
async fn a_missing_article_is_a_clear_404() {
    let app = spawn_app().await;
    for path in ["/2026/11/24/no-such-story/", "/nowhere", "/2026/11/24/no-such-story"] {
        let page = app.get(path).await;
        assert_eq!(page.status, 404, "{path}");
        assert_eq!(text(page.one("h1")), "Page not found");
        assert!(page.header("content-type").starts_with("text/html"));
    }
}

#[tokio::test]
async fn a_closed_article_shows_that_comments_are_closed() {
    let app = spawn_app().await;
    let mut closed = draft("Closed", "Body.");
    closed.replies_open = false;
    let published = app.publish_draft(closed).await;
    let page = app.get(&published.path).await;
    assert_eq!(text(page.one(".replies-closed")), "Comments are closed.");
    assert!(!page.has("#respond form"));

    let response = app.post(&published.path, &crate::helpers::valid_reply()).await;
    assert_eq!(response.status, 403);
    assert_eq!(text(response.one("h1")), "Comments are closed");
    assert_eq!(text(response.one("textarea")), "A thoughtful reply.", "the text is kept");
}

#[tokio::test]
async fn health_check_answers() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn the_stylesheet_is_served_from_the_binary() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/static/style.css")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/css; charset=utf-8");
    assert!(response.text().await.unwrap().contains("prefers-color-scheme"));
}
