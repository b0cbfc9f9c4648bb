use crate::helpers::{Page, attr, cookies_from, reply_with, spawn_app, text};

fn label_for(page: &Page, id: &str) -> String {
    text(page.one(&format!("label[for={id}]")))
}

#[tokio::test]
async fn the_form_has_its_heading_fields_labels_and_promise() {
    let app = spawn_app().await;
    let published = app.publish("A story").await;
    let page = app.get(&published.path).await;

    assert_eq!(text(page.one("#respond h2")), "Leave a Reply");
    let form = page.one("#respond form");
    assert_eq!(attr(form, "method"), "post");
    // No fragment: a refused form's summary takes the focus (browsers skip `autofocus` on
    // an address with one), which brings it into view.
    assert_eq!(attr(form, "action"), published.path);
    assert_eq!(
        text(page.one("#respond .form-note")),
        "Your email address will not be published. Required fields are marked *"
    );
    for (id, label, required) in [
        ("comment", "Comment *", true),
        ("name", "Name *", true),
        ("email", "Email *", true),
        ("website", "Website", false),
    ] {
        assert_eq!(label_for(&page, id), label);
        let field = page.one(&format!("#respond #{id}"));
        assert_eq!(attr(field, "name"), id);
        assert_eq!(field.value().attr("required").is_some(), required, "{id}");
    }
    assert_eq!(attr(page.one("#comment"), "name"), "comment");
    assert_eq!(page.one("#comment").value().name(), "textarea");
    assert_eq!(attr(page.one("#email"), "type"), "email");
    let remember = page.one("#remember");
    assert_eq!(attr(remember, "type"), "checkbox");
    assert!(remember.value().attr("checked").is_none(), "not ticked unless asked");
    assert_eq!(
        label_for(&page, "remember"),
        "Save my name, email, and website in this browser for the next time I comment."
    );
    assert!(page.has("#respond button[type=submit]"));
    assert_eq!(page.header("cache-control"), "public, max-age=0, s-maxage=5");
}

#[tokio::test]
async fn remembered_values_fill_the_form_only_when_asked_for() {
    let app = spawn_app().await;
    let published = app.publish("A story").await;

    let not_ticked =
        app.post(&published.path, &reply_with(&[("website", "https://ada.example/")])).await;
    assert_eq!(not_ticked.status, 303);
    assert!(!cookies_from(&not_ticked).contains("byline_reader"), "no cookie without consent");

    let ticked = app
        .post(
            &published.path,
            &reply_with(&[
                ("website", "https://ada.example/"),
                ("remember", "yes"),
                ("comment", "Second."),
            ]),
        )
        .await;
    assert_eq!(ticked.status, 303);
    let cookie = cookies_from(&ticked);
    assert!(cookie.contains("byline_reader="), "{cookie}");
    let set_cookie = ticked.header("set-cookie");
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"), "{set_cookie}");

    let page = app.get_with(&published.path, &[("cookie", &cookie)]).await;
    assert_eq!(attr(page.one("#name"), "value"), "Ada Reader");
    assert_eq!(attr(page.one("#email"), "value"), "ada@example.com");
    assert_eq!(attr(page.one("#website"), "value"), "https://ada.example/");
    assert!(page.one("#remember").value().attr("checked").is_some());
    assert_eq!(page.header("cache-control"), "private, no-store", "a personal page");

    // Unticking it forgets the values.
    let unticked = app
        .post_raw(
            &published.path,
            crate::helpers::encode(&reply_with(&[
                ("comment", "Third."),
                ("token", &app.form_token(&published.path).await),
            ]))
            .into_bytes(),
            &[("cookie", &cookie)],
        )
        .await;
    assert_eq!(unticked.status, 303);
    assert!(
        unticked.header("set-cookie").starts_with("byline_reader=;"),
        "{}",
        unticked.header("set-cookie")
    );
    assert!(unticked.header("set-cookie").contains("Max-Age=0"));
}

#[tokio::test]
async fn the_reply_link_works_without_javascript() {
    let app = spawn_app().await;
    let published = app.publish("A story").await;
    let long = format!("Ferries {} end.", "and more ferries ".repeat(30));
    let id =
        app.reply(&published.path, &reply_with(&[("name", "Grace"), ("comment", &long)])).await;

    let page = app.get(&published.path).await;
    let link = page.one(&format!("#comment-{id} .reply-link"));
    let href = attr(link, "href");
    assert_eq!(href, format!("{}?replytocom={id}#respond", published.path));

    let replying = app.get(href.split('#').next().unwrap()).await;
    assert_eq!(replying.status, 200);
    assert_eq!(text(replying.one("#respond h2")), "Reply to Grace");
    // The form quotes the start of what it answers, cut after a whole word.
    let quote = text(replying.one("#respond blockquote.replying-to"));
    let cut = quote.strip_suffix('…').expect("an ellipsis where it was cut");
    assert!(long.starts_with(&format!("{cut} ")), "cut after a whole word: {quote}");
    assert!(quote.chars().count() <= 201);
    // Cancel sits below the heading, not in it.
    let cancel = replying.one("#respond p.cancel-reply a");
    assert_eq!(attr(cancel, "href"), format!("{}#respond", published.path));
    assert_eq!(attr(replying.one("input[name=parent]"), "value"), id.to_string());

    // Posting that form nests the new reply under Grace's.
    let child = app.reply(&published.path, &reply_with(&[("parent", &id.to_string())])).await;
    let page = app.get(&published.path).await;
    assert!(page.has(&format!("#comment-{id} > ol.children > #comment-{child}")));

    // A replytocom that names no reply of this article gives the plain form.
    let odd = app.get(&format!("{}?replytocom=99999", published.path)).await;
    assert_eq!(text(odd.one("#respond h2")), "Leave a Reply");
    assert_eq!(attr(odd.one("input[name=parent]"), "value"), "");
}
