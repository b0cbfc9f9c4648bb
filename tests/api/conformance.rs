//! One store conformance suite, run against every backend, so they cannot drift. Each case
//! names the `Store` methods it covers; a method no case covers fails the suite.

use byline::copy::{CopyError, copy_site};
use byline::domain::ReplyStatus;
use byline::store::{NewArticle, NewComment, Store, StoreError, Table, Value};

use crate::helpers::{Backend, fresh_store};

macro_rules! conformance {
    ($($case:ident covers [$($method:ident),* $(,)?];)*) => {
        /// (case, the methods it covers)
        const CASES: &[(&str, &[&str])] = &[$((stringify!($case), &[$(stringify!($method)),*])),*];

        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    let backend = crate::helpers::Backend::Sqlite;
                    let fresh = crate::helpers::fresh_store(backend).await;
                    super::cases::$case(&*fresh.store, backend).await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test]
                async fn $case() {
                    let backend = crate::helpers::Backend::Postgres;
                    let fresh = crate::helpers::fresh_store(backend).await;
                    super::cases::$case(&*fresh.store, backend).await;
                }
            )*
        }
    };
}

conformance! {
    articles_are_published_listed_and_found covers [
        insert_article, find_or_create_author, published_articles, count_published_articles,
        article_by_slug, slug_exists,
    ];
    slugs_are_unique covers [insert_article, slug_exists];
    authors_are_created_once covers [find_or_create_author];
    listings_break_ties_on_id covers [published_articles, comments_of_article];
    replies_round_trip covers [insert_comment, comment, comments_of_article, comments_by_ids];
    reply_counts_follow_status covers [set_comment_status, delete_comment, article_by_slug];
    stubs_place_removed_replies covers [comment_stubs, delete_comment];
    approved_email_lookup_ignores_case covers [has_approved_comment_from];
    text_round_trips_exactly covers [insert_comment, comment, insert_article, article_by_slug];
    settings_keep_their_first_value covers [setting, setting_or_insert];
    ping_answers covers [ping];
    a_site_copies_exactly covers [export_rows, import_rows, count_rows, next_id, finish_import];
}

#[test]
fn every_store_method_has_a_conformance_case() {
    let source = include_str!("../../src/store/mod.rs");
    let start = source.find("pub trait Store").expect("the Store trait");
    let methods: Vec<&str> = source[start..]
        .split("async fn ")
        .skip(1)
        .map(|rest| rest.split('(').next().unwrap().trim())
        .collect();
    assert!(methods.len() >= 10, "found the trait's methods: {methods:?}");
    for method in methods {
        assert!(
            CASES.iter().any(|(_, covered)| covered.contains(&method)),
            "Store::{method} has no conformance case in tests/api/conformance.rs"
        );
    }
}

/// Both backends really answer (this is what `.ci/run` looks for).
#[tokio::test]
async fn both_backends_are_reachable() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        fresh_store(backend).await.store.ping().await.unwrap();
    }
}

mod cases {
    use super::*;

    pub fn article(slug: &str, author_id: i64, published_at: i64) -> NewArticle {
        NewArticle {
            slug: slug.into(),
            headline: format!("Headline of {slug}"),
            standfirst: "Standfirst".into(),
            body_markdown: "Body".into(),
            body_html: "<p>Body</p>\n".into(),
            author_id,
            date_path: "2026/11/24".into(),
            published_at,
            replies_open: true,
        }
    }

    pub fn comment(
        article_id: i64,
        parent_id: Option<i64>,
        status: ReplyStatus,
        at: i64,
    ) -> NewComment {
        NewComment {
            article_id,
            parent_id,
            author_name: "Reader".into(),
            author_email: "reader@example.com".into(),
            author_url: Some("https://reader.example/".into()),
            body: "Text".into(),
            status,
            ip: Some("192.0.2.1".into()),
            created_at: at,
        }
    }

    async fn one_article(store: &dyn Store) -> i64 {
        let author = store.find_or_create_author("Jo").await.unwrap();
        store.insert_article(&article("story", author.id, 1_000)).await.unwrap()
    }

    pub async fn articles_are_published_listed_and_found(store: &dyn Store, _: Backend) {
        assert_eq!(store.count_published_articles().await.unwrap(), 0);
        assert!(store.published_articles(0, 10).await.unwrap().is_empty());
        let author = store.find_or_create_author("Eleanor Marsh").await.unwrap();
        let first = store.insert_article(&article("first", author.id, 1_000)).await.unwrap();
        let second = store.insert_article(&article("second", author.id, 2_000)).await.unwrap();
        assert_ne!(first, second);
        assert_eq!(store.count_published_articles().await.unwrap(), 2);

        let listed = store.published_articles(0, 10).await.unwrap();
        let slugs: Vec<_> = listed.iter().map(|a| a.slug.as_str()).collect();
        assert_eq!(slugs, ["second", "first"]);
        assert_eq!(listed[0].author_name, "Eleanor Marsh");
        assert_eq!(listed[0].reply_count, 0);
        assert_eq!(listed[0].date_path, "2026/11/24");
        assert_eq!(store.published_articles(1, 10).await.unwrap()[0].id, first);
        assert_eq!(store.published_articles(0, 1).await.unwrap().len(), 1);

        let found = store.article_by_slug("first").await.unwrap().unwrap();
        assert_eq!(found.id, first);
        assert_eq!(found.headline, "Headline of first");
        assert_eq!(found.body_html, "<p>Body</p>\n");
        assert_eq!(found.author.name, "Eleanor Marsh");
        assert_eq!(found.published_at, 1_000);
        assert_eq!(found.updated_at, 1_000);
        assert!(found.replies_open);
        assert!(store.article_by_slug("missing").await.unwrap().is_none());
        assert!(store.slug_exists("first").await.unwrap());
        assert!(!store.slug_exists("missing").await.unwrap());
    }

    pub async fn slugs_are_unique(store: &dyn Store, _: Backend) {
        let author = store.find_or_create_author("Jo").await.unwrap();
        store.insert_article(&article("same", author.id, 1)).await.unwrap();
        let again = store.insert_article(&article("same", author.id, 2)).await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        assert!(store.slug_exists("same").await.unwrap());
        assert_eq!(store.count_published_articles().await.unwrap(), 1);
    }

    pub async fn authors_are_created_once(store: &dyn Store, _: Backend) {
        let a = store.find_or_create_author("Priya Natarajan").await.unwrap();
        let b = store.find_or_create_author("Priya Natarajan").await.unwrap();
        let c = store.find_or_create_author("Daniel Okafor").await.unwrap();
        assert_eq!(a, b);
        assert_ne!(a.id, c.id);
        assert_eq!(a.name, "Priya Natarajan");
        assert_eq!(a.bio, "");
    }

    pub async fn listings_break_ties_on_id(store: &dyn Store, _: Backend) {
        let author = store.find_or_create_author("Jo").await.unwrap();
        let mut ids = Vec::new();
        for slug in ["a", "b", "c"] {
            ids.push(store.insert_article(&article(slug, author.id, 500)).await.unwrap());
        }
        let listed: Vec<_> =
            store.published_articles(0, 10).await.unwrap().iter().map(|a| a.id).collect();
        ids.reverse();
        assert_eq!(listed, ids, "same time: newest id first");

        let article_id = ids[0];
        let mut replies = Vec::new();
        for _ in 0..3 {
            replies.push(
                store
                    .insert_comment(&comment(article_id, None, ReplyStatus::Approved, 7))
                    .await
                    .unwrap(),
            );
        }
        let listed: Vec<_> = store
            .comments_of_article(article_id, ReplyStatus::Approved)
            .await
            .unwrap()
            .iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(listed, replies, "same time: oldest id first");
    }

    pub async fn replies_round_trip(store: &dyn Store, _: Backend) {
        let article_id = one_article(store).await;
        let parent = store
            .insert_comment(&comment(article_id, None, ReplyStatus::Approved, 10))
            .await
            .unwrap();
        let child = store
            .insert_comment(&comment(article_id, Some(parent), ReplyStatus::Pending, 20))
            .await
            .unwrap();
        assert!(child > parent);

        let stored = store.comment(child).await.unwrap().unwrap();
        assert_eq!(stored.article_id, article_id);
        assert_eq!(stored.parent_id, Some(parent));
        assert_eq!(stored.author_name, "Reader");
        assert_eq!(stored.author_url.as_deref(), Some("https://reader.example/"));
        assert_eq!(stored.body, "Text");
        assert_eq!(stored.status, ReplyStatus::Pending);
        assert_eq!(stored.created_at, 20);
        assert!(store.comment(child + 100).await.unwrap().is_none());

        let approved = store.comments_of_article(article_id, ReplyStatus::Approved).await.unwrap();
        assert_eq!(approved.iter().map(|c| c.id).collect::<Vec<_>>(), [parent]);
        let pending = store.comments_of_article(article_id, ReplyStatus::Pending).await.unwrap();
        assert_eq!(pending.iter().map(|c| c.id).collect::<Vec<_>>(), [child]);

        let by_ids = store.comments_by_ids(article_id, &[child, parent, 9_999]).await.unwrap();
        assert_eq!(by_ids.iter().map(|c| c.id).collect::<Vec<_>>(), [parent, child]);
        assert!(store.comments_by_ids(article_id + 1, &[child]).await.unwrap().is_empty());
        assert!(store.comments_by_ids(article_id, &[]).await.unwrap().is_empty());
    }

    pub async fn reply_counts_follow_status(store: &dyn Store, _: Backend) {
        let article_id = one_article(store).await;
        let count = || async { store.article_by_slug("story").await.unwrap().unwrap().reply_count };
        let a = store
            .insert_comment(&comment(article_id, None, ReplyStatus::Approved, 1))
            .await
            .unwrap();
        let b = store
            .insert_comment(&comment(article_id, None, ReplyStatus::Pending, 2))
            .await
            .unwrap();
        assert_eq!(count().await, 1);
        assert!(store.set_comment_status(b, ReplyStatus::Approved).await.unwrap());
        assert_eq!(count().await, 2);
        assert!(store.set_comment_status(a, ReplyStatus::Spam).await.unwrap());
        assert_eq!(count().await, 1);
        assert!(store.set_comment_status(a, ReplyStatus::Trash).await.unwrap());
        assert_eq!(count().await, 1);
        assert!(store.delete_comment(b).await.unwrap());
        assert_eq!(count().await, 0);
        assert!(!store.delete_comment(b).await.unwrap());
        assert!(!store.set_comment_status(b, ReplyStatus::Approved).await.unwrap());
        assert_eq!(store.comment(a).await.unwrap().unwrap().status, ReplyStatus::Trash);
    }

    pub async fn stubs_place_removed_replies(store: &dyn Store, _: Backend) {
        let article_id = one_article(store).await;
        let top =
            store.insert_comment(&comment(article_id, None, ReplyStatus::Trash, 5)).await.unwrap();
        let mid = store
            .insert_comment(&comment(article_id, Some(top), ReplyStatus::Spam, 6))
            .await
            .unwrap();
        let gone = store
            .insert_comment(&comment(article_id, None, ReplyStatus::Approved, 7))
            .await
            .unwrap();
        store.delete_comment(gone).await.unwrap();
        let mut stubs = store.comment_stubs(&[mid, top, gone]).await.unwrap();
        stubs.sort_by_key(|s| s.id);
        assert_eq!(stubs.len(), 2, "a deleted reply has no stub");
        assert_eq!((stubs[0].id, stubs[0].parent_id, stubs[0].created_at), (top, None, 5));
        assert_eq!((stubs[1].id, stubs[1].parent_id, stubs[1].created_at), (mid, Some(top), 6));
        assert!(store.comment_stubs(&[]).await.unwrap().is_empty());
        // A deleted id is never handed out again.
        let next = store
            .insert_comment(&comment(article_id, None, ReplyStatus::Approved, 8))
            .await
            .unwrap();
        assert!(next > gone);
    }

    pub async fn approved_email_lookup_ignores_case(store: &dyn Store, _: Backend) {
        let article_id = one_article(store).await;
        let mut held = comment(article_id, None, ReplyStatus::Pending, 1);
        held.author_email = "Held@Example.com".into();
        store.insert_comment(&held).await.unwrap();
        assert!(!store.has_approved_comment_from("held@example.com").await.unwrap());
        let mut approved = comment(article_id, None, ReplyStatus::Approved, 2);
        approved.author_email = "Known@Example.com".into();
        store.insert_comment(&approved).await.unwrap();
        assert!(store.has_approved_comment_from("known@example.COM").await.unwrap());
        assert!(store.has_approved_comment_from("Known@Example.com").await.unwrap());
        assert!(!store.has_approved_comment_from("unknown@example.com").await.unwrap());
    }

    pub async fn text_round_trips_exactly(store: &dyn Store, _: Backend) {
        let text =
            "“Quotes” – dashes — ’ «» 東京 Москва 👍🏽 \u{200d} ' \" \\ % _ <b>&amp;</b>\n\ttab";
        let author = store.find_or_create_author(text).await.unwrap();
        let mut new = article("exact", author.id, 1);
        new.headline = text.into();
        new.body_html = text.into();
        store.insert_article(&new).await.unwrap();
        let found = store.article_by_slug("exact").await.unwrap().unwrap();
        assert_eq!((found.headline.as_str(), found.body_html.as_str()), (text, text));
        assert_eq!(found.author.name, text);
        let mut reply = comment(found.id, None, ReplyStatus::Approved, 1);
        reply.body = text.into();
        reply.author_name = text.into();
        let id = store.insert_comment(&reply).await.unwrap();
        let stored = store.comment(id).await.unwrap().unwrap();
        assert_eq!((stored.body.as_str(), stored.author_name.as_str()), (text, text));
    }

    pub async fn settings_keep_their_first_value(store: &dyn Store, _: Backend) {
        assert_eq!(store.setting("secret").await.unwrap(), None);
        assert_eq!(store.setting_or_insert("secret", "one").await.unwrap(), "one");
        assert_eq!(store.setting_or_insert("secret", "two").await.unwrap(), "one");
        assert_eq!(store.setting("secret").await.unwrap().as_deref(), Some("one"));
    }

    pub async fn ping_answers(store: &dyn Store, _: Backend) {
        store.ping().await.unwrap();
    }

    pub async fn a_site_copies_exactly(store: &dyn Store, backend: Backend) {
        let author = store.find_or_create_author("Jo").await.unwrap();
        let mut closed = article("closed", author.id, 2);
        closed.replies_open = false;
        let first = store.insert_article(&article("open", author.id, 1)).await.unwrap();
        store.insert_article(&closed).await.unwrap();
        let top =
            store.insert_comment(&comment(first, None, ReplyStatus::Approved, 3)).await.unwrap();
        let mut bare = comment(first, Some(top), ReplyStatus::Pending, 4);
        bare.author_url = None;
        bare.ip = None;
        store.insert_comment(&bare).await.unwrap();
        let gone =
            store.insert_comment(&comment(first, None, ReplyStatus::Approved, 5)).await.unwrap();
        store.delete_comment(gone).await.unwrap();
        store.setting_or_insert("secret", "s3cret").await.unwrap();

        // Paging by key.
        let page1 = store.export_rows(Table::Articles, None, 1).await.unwrap();
        let page2 = store.export_rows(Table::Articles, Some(page1[0][0].clone()), 1).await.unwrap();
        assert_eq!(page1[0][0], Value::Int(first));
        assert_ne!(page1[0][0], page2[0][0]);
        assert_eq!(store.count_rows(Table::Comments).await.unwrap(), 2);

        assert_eq!(store.next_id(Table::Comments).await.unwrap(), gone + 1, "deleted ids count");
        let target = fresh_store(backend).await;
        assert_eq!(target.store.next_id(Table::Comments).await.unwrap(), 1);
        let counts = copy_site(store, &*target.store).await.unwrap();
        assert_eq!(counts.len(), Table::ALL.len());
        assert!(counts.iter().all(|c| c.from == c.to));
        for table in Table::ALL {
            let source = store.export_rows(table, None, 100).await.unwrap();
            let copied = target.store.export_rows(table, None, 100).await.unwrap();
            assert_eq!(source, copied, "{table:?}");
        }
        let copied = target.store.article_by_slug("open").await.unwrap().unwrap();
        assert_eq!(copied.reply_count, 1);
        assert!(!target.store.article_by_slug("closed").await.unwrap().unwrap().replies_open);
        // New ids start past the copied (and deleted) ones.
        let next = target
            .store
            .insert_comment(&comment(first, None, ReplyStatus::Approved, 6))
            .await
            .unwrap();
        assert!(next > gone, "{next} > {gone}");
        assert_eq!(target.store.article_by_slug("open").await.unwrap().unwrap().reply_count, 2);
        assert_eq!(target.store.next_id(Table::Comments).await.unwrap(), next + 1);
        let next_author = target.store.find_or_create_author("New").await.unwrap();
        assert!(next_author.id > author.id);

        // A second copy refuses rather than duplicating.
        let again = copy_site(store, &*target.store).await;
        assert!(matches!(again, Err(CopyError::TargetNotEmpty(_))), "{again:?}");
    }
}

/// Both backends' migrations produce the same tables and columns (and `byline copy` knows
/// every column of each).
#[tokio::test]
async fn the_schemas_of_both_backends_match() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("schema.db");
    byline::store::SqliteStore::open(&path).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mut sqlite = std::collections::BTreeMap::new();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for table in tables {
        let columns: Vec<(String, bool)> = conn
            .prepare(&format!("PRAGMA table_info({table})"))
            .unwrap()
            .query_map([], |r| {
                Ok((r.get::<_, String>(1)?, r.get::<_, bool>(3)? || r.get::<_, bool>(5)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        sqlite.insert(table, columns);
    }

    let url = crate::helpers::fresh_postgres_url().await;
    byline::store::PostgresStore::connect(&url).await.unwrap();
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let rows = client
        .query(
            "SELECT table_name::text, column_name::text, is_nullable = 'NO'
               FROM information_schema.columns
              WHERE table_schema = current_schema() AND table_name <> 'schema_migrations'
              ORDER BY table_name, ordinal_position",
            &[],
        )
        .await
        .unwrap();
    let mut postgres: std::collections::BTreeMap<String, Vec<(String, bool)>> = Default::default();
    for row in rows {
        postgres.entry(row.get(0)).or_default().push((row.get(1), row.get(2)));
    }
    assert_eq!(sqlite, postgres, "tables, columns, order and NOT NULL agree");

    let copied: Vec<&str> = Table::ALL.iter().map(|t| t.name()).collect();
    assert_eq!(sqlite.keys().map(String::as_str).collect::<Vec<_>>(), {
        let mut sorted = copied.clone();
        sorted.sort_unstable();
        sorted
    });
    for table in Table::ALL {
        let names: Vec<&str> = sqlite[table.name()].iter().map(|(n, _)| n.as_str()).collect();
        let known: Vec<&str> = table.columns().iter().map(|(n, _)| *n).collect();
        assert_eq!(names, known, "byline copy's columns of {}", table.name());
    }
}
