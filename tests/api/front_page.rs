use crate::helpers::{attr, spawn_app, spawn_with, text};

#[tokio::test]
async fn lists_published_articles_newest_first_with_their_details() {
    let app = spawn_app().await;
    let first = app.publish("The first story").await;
    let second = app.publish("The second story").await;
    app.reply(&second.path, &crate::helpers::valid_reply()).await;

    let page = app.get("/").await;
    assert_eq!(page.status, 200);
    let headlines: Vec<_> = page.all(".summary h2 a").into_iter().map(text).collect();
    assert_eq!(headlines, ["The second story", "The first story"]);
    let links: Vec<_> = page.all(".summary h2 a").into_iter().map(|a| attr(a, "href")).collect();
    assert_eq!(links, [second.path.as_str(), first.path.as_str()]);
    let top = page.all(".summary")[0];
    let summary = crate::helpers::text(top);
    assert!(summary.contains("A standfirst."), "{summary}");
    assert!(summary.contains("By Jo Writer"), "{summary}");
    assert!(summary.contains("1 reply"), "{summary}");
    assert!(crate::helpers::text(page.all(".summary")[1]).contains("No replies"));
    assert!(page.has(".summary time[datetime]"));
}

#[tokio::test]
async fn an_empty_site_says_so() {
    let app = spawn_app().await;
    let page = app.get("/").await;
    assert_eq!(page.status, 200);
    assert!(text(page.one(".empty")).contains("Nothing has been published yet"));
}

#[tokio::test]
async fn pagination_has_canonical_pages_and_a_404_past_the_end() {
    let app = spawn_with(&[("moderation", "none"), ("articles_per_page", "2")]).await;
    for i in 1..=5 {
        app.publish(&format!("Story {i}")).await;
    }
    let page1 = app.get("/").await;
    assert_eq!(page1.all(".summary").len(), 2);
    assert_eq!(attr(page1.one("a[rel=next]"), "href"), "/page/2/");
    assert!(!page1.has("a[rel=prev]"));

    let page2 = app.get("/page/2/").await;
    assert_eq!(page2.status, 200);
    let headlines: Vec<_> = page2.all(".summary h2 a").into_iter().map(text).collect();
    assert_eq!(headlines, ["Story 3", "Story 2"]);
    assert_eq!(attr(page2.one("a[rel=prev]"), "href"), "/");
    assert_eq!(attr(page2.one("a[rel=next]"), "href"), "/page/3/");

    let page3 = app.get("/page/3/").await;
    assert_eq!(page3.all(".summary").len(), 1);
    assert!(!page3.has("a[rel=next]"));

    for (from, to) in
        [("/?page=2", "/page/2/"), ("/?page=1", "/"), ("/page/1/", "/"), ("/page/2", "/page/2/")]
    {
        let response = app.get(from).await;
        assert_eq!(response.status, 301, "{from}");
        assert_eq!(response.location(), to, "{from}");
    }
    for missing in ["/page/4/", "/page/0/", "/page/x/", "/?page=abc", "/page/99999999999999999999/"]
    {
        let response = app.get(missing).await;
        assert_eq!(response.status, 404, "{missing}");
        assert!(text(response.one("h1")).contains("Page not found"), "{missing}");
    }
}
