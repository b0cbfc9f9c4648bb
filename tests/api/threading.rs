use byline::domain::{ReplyId, ReplyStatus};
use byline::store::{Dialect, ReplyWrites};

use crate::helpers::{Page, TestApp, reply_with, spawn_app, spawn_with, text};

/// Posts a reply to `parent` through the form; returns its id.
async fn answer(app: &TestApp, path: &str, parent: Option<ReplyId>, comment: &str) -> ReplyId {
    let parent = parent.map(|p| p.to_string()).unwrap_or_default();
    app.reply(path, &reply_with(&[("comment", comment), ("parent", &parent)])).await
}

/// How many `ol.children` lists enclose the reply.
fn depth(page: &Page, id: ReplyId) -> usize {
    let reply = page.one(&format!("li#comment-{id}"));
    1 + reply
        .ancestors()
        .filter_map(scraper::ElementRef::wrap)
        .filter(|e| e.value().name() == "ol" && e.value().classes().any(|c| c == "children"))
        .count()
}

fn parent_of(page: &Page, id: ReplyId) -> Option<String> {
    let reply = page.one(&format!("li#comment-{id}"));
    reply
        .ancestors()
        .filter_map(scraper::ElementRef::wrap)
        .find(|e| e.value().name() == "li")
        .map(|li| li.value().attr("id").unwrap_or_default().to_owned())
}

#[tokio::test]
async fn replies_to_replies_are_nested_under_them_oldest_first() {
    let app = spawn_app().await;
    let path = app.publish("Threads").await.path;
    let a = answer(&app, &path, None, "A").await;
    let b = answer(&app, &path, None, "B").await;
    let a1 = answer(&app, &path, Some(a), "A1").await;
    let a1x = answer(&app, &path, Some(a1), "A1x").await;
    let a2 = answer(&app, &path, Some(a), "A2").await;

    let page = app.get(&path).await;
    assert_eq!(parent_of(&page, a1), Some(format!("comment-{a}")));
    assert_eq!(parent_of(&page, a2), Some(format!("comment-{a}")));
    assert_eq!(parent_of(&page, a1x), Some(format!("comment-{a1}")));
    assert_eq!(parent_of(&page, b), None);
    assert_eq!(depth(&page, a1x), 3);
    let order: Vec<_> = page.all(".reply-text").into_iter().map(text).collect();
    assert_eq!(order, ["A", "A1", "A1x", "A2", "B"]);
    assert_eq!(text(page.one("#replies-title")), "5 replies to “Threads”");
}

#[tokio::test]
async fn deeper_replies_attach_at_the_last_level() {
    for (setting, max) in [(None, 5), (Some("2"), 2)] {
        let mut settings = vec![("moderation", "none")];
        if let Some(depth) = setting {
            settings.push(("thread_depth", depth));
        }
        let app = spawn_with(&settings).await;
        let path = app.publish("Deep").await.path;
        let mut chain = Vec::new();
        let mut parent = None;
        for level in 1..=max + 3 {
            let id = answer(&app, &path, parent, &format!("level {level}")).await;
            chain.push(id);
            parent = Some(id);
        }
        let page = app.get(&path).await;
        for (i, id) in chain.iter().enumerate() {
            assert_eq!(depth(&page, *id), (i + 1).min(max), "level {} with max {max}", i + 1);
        }
        // In the order they were written, and every one can still be answered.
        let order: Vec<_> = page.all(".reply-text").into_iter().map(text).collect();
        let expected: Vec<_> = (1..=max + 3).map(|l| format!("level {l}")).collect();
        assert_eq!(order, expected);
        assert_eq!(page.all(".reply-link").len(), chain.len());
    }
}

#[tokio::test]
async fn a_removed_parent_leaves_a_placeholder() {
    let app = spawn_app().await;
    let published = app.publish("Removed").await;
    let path = published.path;
    let gone = answer(&app, &path, None, "To be trashed").await;
    let child = answer(&app, &path, Some(gone), "Child of trashed").await;
    let spam = answer(&app, &path, Some(child), "Spam in the middle").await;
    let grandchild = answer(&app, &path, Some(spam), "Under spam").await;
    let deleted = answer(&app, &path, None, "To be deleted").await;
    let orphan = answer(&app, &path, Some(deleted), "Child of deleted").await;

    app.set_reply_status(gone, ReplyStatus::Trash).await;
    app.set_reply_status(spam, ReplyStatus::Spam).await;
    assert!(app.db_write(move |tx| tx.delete_reply(deleted)).await);

    let page = app.get(&path).await;
    for removed in [gone, spam, deleted] {
        let placeholder = page.one(&format!("li#comment-{removed}.removed"));
        assert_eq!(text(placeholder.child_elements().next().unwrap()), "This reply was removed.");
    }
    assert_eq!(parent_of(&page, child), Some(format!("comment-{gone}")));
    assert_eq!(parent_of(&page, grandchild), Some(format!("comment-{spam}")));
    assert_eq!(parent_of(&page, orphan), Some(format!("comment-{deleted}")));
    let body = text(page.one("#replies"));
    assert!(
        !body.contains("To be trashed")
            && !body.contains("Spam in the middle")
            && !body.contains("To be deleted")
    );
    assert_eq!(text(page.one("#replies-title")), "3 replies to “Removed”");
    // A placeholder cannot be answered.
    assert!(!page.has(&format!("li#comment-{gone} > .reply-card")));
}

/// No request data drives recursion: a chain of a hundred thousand answers, each to the one
/// before, renders flattened at the deepest level, and the server lives on.
#[tokio::test]
async fn a_chain_of_a_hundred_thousand_answers_renders() {
    const CHAIN: usize = 100_000;
    let app = spawn_with(&[("moderation", "none")]).await;
    let published = app.publish("A long argument").await;
    let (article, now) = (published.id, app.clock.now());
    // A statement per thousand: a hundred thousand round trips to PostgreSQL would take
    // minutes, and so would one transaction updating its reply counter a hundred thousand
    // times (each update walks the row's versions so far).
    const BATCH: usize = 1_000;
    for start in (0..CHAIN).step_by(BATCH) {
        app.db_write(move |tx| {
            Box::pin(async move {
                let max = "SELECT coalesce(max(id), 0) FROM comments";
                let last = tx.query(max, &[]).await?.int()?;
                let (series, from) = match tx.dialect() {
                    Dialect::Sqlite => (
                        "WITH RECURSIVE s(g) AS (SELECT 0 UNION ALL SELECT g + 1 FROM s WHERE g < $2 - 1) ",
                        "s",
                    ),
                    Dialect::Postgres => ("", "generate_series(0, $2 - 1) g"),
                };
                // The first of a batch answers the last of the one before.
                let sql = format!(
                    "{series}INSERT INTO comments (id, article_id, parent_id, author_name, \
                     author_email, body, status, held_reason, created_at) \
                     SELECT $3 + g, $1, CASE WHEN $3 + g = $5 THEN NULL ELSE $3 + g - 1 END, \
                     'A Reader', 'a.reader@example.com', 'Turn ' || g || '.', 'approved', '', $4 \
                     FROM {from}"
                );
                let first = if start == 0 { last + 1 } else { -1 };
                let params =
                    [article.into(), (BATCH as i64).into(), (last + 1).into(), now.into(), first.into()];
                tx.execute(&sql, &params).await
            })
        })
        .await;
    }
    let page = app.get_raw(&published.path).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.body.matches("<li id=\"comment-").count(), CHAIN);
    assert!(page.body.contains("class=\"reply depth-5\""));
    assert!(!page.body.contains("class=\"reply depth-6\""), "nested past thread_depth");
    assert_eq!(app.get("/healthz").await.status, 200);
}
