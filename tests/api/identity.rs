//! The site's identity in the newsroom's settings: its name, tagline, logo, accent colour,
//! footer text and links, and custom CSS served as a file; a name fixed by the environment.

use byline::domain::Role;

use crate::helpers::{StaffClient, TestApp, attr, spawn_with, text};

async fn admin(settings: &[(&str, &str)]) -> (TestApp, StaffClient) {
    let app = spawn_with(settings).await;
    app.add_staff("admin@example.com", "Ada Admin", Role::Admin).await;
    let staff = app.sign_in("admin@example.com").await;
    (app, staff)
}

#[tokio::test]
async fn admins_set_the_sites_name_and_look() {
    let (app, staff) = admin(&[("moderation", "none")]).await;
    let path = app.publish("Tides").await.path;
    let saved = app
        .staff_post(
            &staff,
            "/admin/settings",
            &[
                ("site_title", "The Estuary Times"),
                ("tagline", "News from both banks"),
                ("logo", "https://img.example/logo.png"),
                ("accent_colour", "#7A1F3D"),
                ("footer_text", "Published in Fennick since 1887."),
                ("footer_links", "About us | /about/\nMastodon | https://social.example/@estuary"),
                ("custom_css", ".site-title { letter-spacing: 0.1em; }"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    for page_path in ["/", path.as_str(), "/nowhere"] {
        let page = app.get(page_path).await;
        assert!(text(page.one("title")).ends_with("The Estuary Times"), "{page_path}");
        assert!(text(page.one(".site-title")).contains("The Estuary Times"));
        assert_eq!(text(page.one(".tagline")), "News from both banks");
        assert_eq!(
            attr(page.one(".site-title img.site-logo"), "src"),
            "https://img.example/logo.png"
        );
        assert_eq!(text(page.one(".footer-text")), "Published in Fennick since 1887.");
        let links: Vec<_> = page
            .all(".footer-links a")
            .into_iter()
            .map(|a| (text(a), attr(a, "href").to_owned()))
            .collect();
        assert_eq!(
            links,
            [
                ("About us".to_owned(), "/about/".to_owned()),
                ("Mastodon".to_owned(), "https://social.example/@estuary".to_owned())
            ]
        );
        // The custom look is a stylesheet of its own: the pages' CSP allows no inline style.
        let css = attr(page.one("link[rel=stylesheet][href^='/static/site-']"), "href").to_owned();
        assert!(page.header("content-security-policy").contains("style-src 'self';"));
        assert!(!page.has("style, [style]"), "{page_path}");
        let sheet = app.get_raw(&css).await;
        assert_eq!(sheet.status, 200);
        assert!(sheet.body.contains("--accent: #7a1f3d") && sheet.body.contains("letter-spacing"));
    }
    let article = app.get(&path).await;
    assert_eq!(attr(article.one("meta[property='og:site_name']"), "content"), "The Estuary Times");
    let feed = app.get_raw("/feed.atom").await;
    assert!(feed.body.contains("<title>The Estuary Times</title>"), "{}", feed.body);
    // The newsroom's frame names the site too.
    let newsroom = app.staff_get(&staff, "/admin/").await;
    assert!(text(newsroom.one(".site-title")).contains("The Estuary Times"));

    // Bad values are refused, each named, and nothing is saved.
    let refused = app
        .staff_post(
            &staff,
            "/admin/settings",
            &[
                ("site_title", " "),
                ("accent_colour", "red"),
                ("footer_links", "Bad | javascript:alert(1)"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    for field in ["site_title", "accent_colour", "footer_links"] {
        assert!(refused.has(&format!("#{field}-error")), "{field}");
    }
    assert!(text(app.get("/").await.one("title")).ends_with("The Estuary Times"));
}

#[tokio::test]
async fn a_name_the_environment_fixes_is_shown_as_fixed() {
    let (app, staff) = admin(&[("moderation", "none"), ("site_title", "Fixed Times")]).await;
    let page = app.staff_get(&staff, "/admin/settings").await;
    let field = page.one("#site_title");
    assert!(field.value().attr("disabled").is_some());
    assert_eq!(attr(field, "value"), "Fixed Times");
    assert!(text(page.one("#setting-site_title .fixed")).contains("BYLINE_SITE_TITLE"));
    app.staff_post(&staff, "/admin/settings", &[("site_title", "Changed")]).await;
    assert!(text(app.get("/").await.one("title")).ends_with("Fixed Times"));
}
