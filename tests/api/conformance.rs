//! One store conformance suite, run against every backend, so they cannot drift. Each case
//! names the `Store` methods it covers; a method no case covers fails the suite.

use byline::copy::{CopyError, copy_site};
use byline::domain::{ArticleStatus, NoteKind, ReplyStatus, Role};
use byline::store::{
    ArticleFields, ArticleQuery, CommentStub, Image, Listing, NewArticle, NewComment, NewUser,
    QueueQuery, Revision, Session, Store, StoreError, Table, Value,
};

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
    thread_shapes_hold_approved_replies_only covers [reply_shapes, set_comment_status];
    approved_email_lookup_ignores_case covers [has_approved_comment_from];
    text_round_trips_exactly covers [insert_comment, comment, insert_article, article_by_slug];
    settings_keep_their_first_value covers [setting, setting_or_insert, set_setting, settings_with_prefix];
    the_moderation_queue_filters covers [queue, queue_counts, set_comment_body, insert_comment];
    defenses_look_up_recent_replies covers [comments_from_ip_since, duplicate_comment];
    search_finds_published_articles covers [search];
    nodes_hear_of_changes covers [announce_change, changes];
    no_page_query_scans_a_table covers [explain_page_queries];
    a_scheduled_article_is_published_once covers [publish_scheduled];
    listings_of_sections_tags_and_authors covers [
        published_in, related_articles, section_by_slug, tag_by_slug, author,
    ];
    the_newsroom_list_filters covers [list_articles];
    articles_are_edited_and_change_status covers [
        article, update_article, set_article_status, due_articles,
    ];
    old_slugs_redirect covers [add_slug_redirect, slug_redirect, slug_exists];
    revisions_are_kept covers [insert_revision, revisions, revision];
    notes_are_appended covers [add_note, notes];
    authors_sections_and_tags covers [
        authors, update_author, sections, find_or_create_section, find_or_create_tags,
    ];
    staff_accounts covers [create_user, user, user_credentials, users, update_user, set_password];
    sessions_expire_and_end covers [create_session, session, delete_session];
    login_failures_are_counted covers [login_failures, record_login_failure, clear_login_failures];
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

    pub fn fields(slug: &str, author_id: i64) -> ArticleFields {
        ArticleFields {
            slug: slug.into(),
            headline: format!("Headline of {slug}"),
            standfirst: "Standfirst".into(),
            body_markdown: "Body".into(),
            body_html: "<p>Body</p>\n".into(),
            author_ids: vec![author_id],
            section_id: None,
            tag_ids: Vec::new(),
            image: None,
            replies_open: true,
            word_count: 1,
        }
    }

    pub fn article(slug: &str, author_id: i64, published_at: i64) -> NewArticle {
        NewArticle {
            fields: fields(slug, author_id),
            status: ArticleStatus::Published,
            date_path: Some("2026/11/24".into()),
            published_at: Some(published_at),
            created_at: published_at,
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
            held_reason: String::new(),
            user_id: None,
            created_at: at,
        }
    }

    async fn one_article(store: &dyn Store) -> i64 {
        let author = store.find_or_create_author("Jo").await.unwrap();
        store.insert_article(&article("story", author.id, 1_000)).await.unwrap()
    }

    pub async fn articles_are_published_listed_and_found(store: &dyn Store, _: Backend) {
        assert_eq!(store.count_published_articles(None).await.unwrap(), 0);
        assert!(store.published_articles(0, 10, None).await.unwrap().is_empty());
        let author = store.find_or_create_author("Eleanor Marsh").await.unwrap();
        let first = store.insert_article(&article("first", author.id, 1_000)).await.unwrap();
        let second = store.insert_article(&article("second", author.id, 2_000)).await.unwrap();
        assert_ne!(first, second);
        assert_eq!(store.count_published_articles(None).await.unwrap(), 2);
        assert_eq!(store.count_published_articles(Some(first)).await.unwrap(), 1);

        let listed = store.published_articles(0, 10, None).await.unwrap();
        let slugs: Vec<_> = listed.iter().map(|a| a.slug.as_str()).collect();
        assert_eq!(slugs, ["second", "first"]);
        assert_eq!(listed[0].author_names, ["Eleanor Marsh"]);
        assert_eq!(listed[0].reply_count, 0);
        assert_eq!(listed[0].date_path.as_deref(), Some("2026/11/24"));
        assert_eq!(listed[0].status, ArticleStatus::Published);
        assert_eq!(store.published_articles(1, 10, None).await.unwrap()[0].id, first);
        assert_eq!(store.published_articles(0, 1, None).await.unwrap().len(), 1);
        let without = store.published_articles(0, 10, Some(second)).await.unwrap();
        assert_eq!(without.iter().map(|a| a.id).collect::<Vec<_>>(), [first]);

        let found = store.article_by_slug("first").await.unwrap().unwrap();
        assert_eq!(found.id, first);
        assert_eq!(found.headline, "Headline of first");
        assert_eq!(found.body_html, "<p>Body</p>\n");
        assert_eq!(found.authors, std::slice::from_ref(&author));
        assert_eq!(found.published_at, Some(1_000));
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
        assert_eq!(store.count_published_articles(None).await.unwrap(), 1);
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
            store.published_articles(0, 10, None).await.unwrap().iter().map(|a| a.id).collect();
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
        new.fields.headline = text.into();
        new.fields.body_html = text.into();
        store.insert_article(&new).await.unwrap();
        let found = store.article_by_slug("exact").await.unwrap().unwrap();
        assert_eq!((found.headline.as_str(), found.body_html.as_str()), (text, text));
        assert_eq!(found.authors[0].name, text);
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
        store.set_setting("lead", Some("7")).await.unwrap();
        store.set_setting("lead", Some("8")).await.unwrap();
        assert_eq!(store.setting("lead").await.unwrap().as_deref(), Some("8"));
        store.set_setting("lead", None).await.unwrap();
        assert_eq!(store.setting("lead").await.unwrap(), None);
        store.set_setting("discussion.b", Some("2")).await.unwrap();
        store.set_setting("discussion.a", Some("1")).await.unwrap();
        store.set_setting("discussionx", Some("no")).await.unwrap();
        let found = store.settings_with_prefix("discussion.").await.unwrap();
        assert_eq!(
            found,
            [("discussion.a".to_owned(), "1".to_owned()), ("discussion.b".into(), "2".into())]
        );
        assert!(store.settings_with_prefix("nothing.").await.unwrap().is_empty());
    }

    pub async fn the_moderation_queue_filters(store: &dyn Store, _: Backend) {
        let jo = store.find_or_create_author("Jo").await.unwrap();
        let ann = store.find_or_create_author("Ann").await.unwrap();
        let jos = store.insert_article(&article("jos", jo.id, 1)).await.unwrap();
        let anns = store.insert_article(&article("anns", ann.id, 2)).await.unwrap();
        let user =
            store.create_user(&new_user("staff@example.com", "Staff", Role::Editor)).await.unwrap();
        let mut held = comment(jos, None, ReplyStatus::Pending, 10);
        held.held_reason = "first reply from this email address".into();
        held.author_email = "Reader@Example.com".into();
        let held = store.insert_comment(&held).await.unwrap();
        let spam = store.insert_comment(&comment(anns, None, ReplyStatus::Spam, 20)).await.unwrap();
        let mut by_staff = comment(jos, Some(held), ReplyStatus::Approved, 30);
        by_staff.user_id = Some(user.id);
        let by_staff = store.insert_comment(&by_staff).await.unwrap();

        let query = |q: QueueQuery| async move {
            let (found, total) = store.queue(&QueueQuery { limit: 10, ..q }).await.unwrap();
            assert_eq!(found.len() as u64, total);
            found
        };
        let all = query(QueueQuery::default()).await;
        assert_eq!(
            all.iter().map(|q| q.comment.id).collect::<Vec<_>>(),
            [by_staff, spam, held],
            "newest first"
        );
        let first = all.iter().find(|q| q.comment.id == held).unwrap();
        assert_eq!(first.author_email, "Reader@Example.com");
        assert_eq!(first.ip.as_deref(), Some("192.0.2.1"));
        assert_eq!(first.held_reason, "first reply from this email address");
        assert_eq!(
            (first.article_headline.as_str(), first.article_slug.as_str()),
            ("Headline of jos", "jos")
        );
        assert_eq!(first.article_date_path.as_deref(), Some("2026/11/24"));
        assert!(!first.comment.staff);
        assert!(all[0].comment.staff, "written by staff");
        assert!(store.comment(by_staff).await.unwrap().unwrap().staff);

        let pending =
            query(QueueQuery { status: Some(ReplyStatus::Pending), ..Default::default() }).await;
        assert_eq!(pending.iter().map(|q| q.comment.id).collect::<Vec<_>>(), [held]);
        let on_anns = query(QueueQuery { article_id: Some(anns), ..Default::default() }).await;
        assert_eq!(on_anns.iter().map(|q| q.comment.id).collect::<Vec<_>>(), [spam]);
        let by_email =
            query(QueueQuery { email: Some("READER@example.COM".into()), ..Default::default() })
                .await;
        assert_eq!(by_email.len(), 3, "any case");
        let nobody =
            query(QueueQuery { email: Some("nobody@example.com".into()), ..Default::default() })
                .await;
        assert!(nobody.is_empty());
        let jo_only =
            query(QueueQuery { byline_author_id: Some(jo.id), ..Default::default() }).await;
        assert_eq!(jo_only.len(), 2);
        let (page, total) =
            store.queue(&QueueQuery { limit: 1, offset: 1, ..Default::default() }).await.unwrap();
        assert_eq!((page[0].comment.id, total), (spam, 3));

        let mut counts = store.queue_counts(&QueueQuery::default()).await.unwrap();
        counts.sort_by_key(|(s, _)| s.as_str());
        assert_eq!(
            counts,
            [(ReplyStatus::Approved, 1), (ReplyStatus::Pending, 1), (ReplyStatus::Spam, 1)]
        );
        let counts = store
            .queue_counts(&QueueQuery { byline_author_id: Some(ann.id), ..Default::default() })
            .await
            .unwrap();
        assert_eq!(counts, [(ReplyStatus::Spam, 1)]);

        assert!(store.set_comment_body(held, "Edited by a moderator").await.unwrap());
        assert_eq!(store.comment(held).await.unwrap().unwrap().body, "Edited by a moderator");
        assert!(!store.set_comment_body(9_999, "x").await.unwrap());
    }

    pub async fn listings_of_sections_tags_and_authors(store: &dyn Store, _: Backend) {
        let jo = store.find_or_create_author("Jo").await.unwrap();
        let ann = store.find_or_create_author("Ann").await.unwrap();
        let local = store.find_or_create_section("Local", "local").await.unwrap();
        let sport = store.find_or_create_section("Sport", "sport").await.unwrap();
        let tags = store
            .find_or_create_tags(&[
                ("Ferries".into(), "ferries".into()),
                ("Rugby".into(), "rugby".into()),
            ])
            .await
            .unwrap();
        let with = |slug: &str, at: i64, section: i64, tag: i64, author: i64| {
            let mut a = article(slug, author, at);
            a.fields.section_id = Some(section);
            a.fields.tag_ids = vec![tag];
            a.fields.word_count = at;
            a
        };
        let ferry =
            store.insert_article(&with("ferry", 10, local.id, tags[0].id, jo.id)).await.unwrap();
        let bridge =
            store.insert_article(&with("bridge", 20, local.id, tags[1].id, ann.id)).await.unwrap();
        let match_ =
            store.insert_article(&with("match", 30, sport.id, tags[0].id, jo.id)).await.unwrap();
        let mut hidden = with("draft", 40, local.id, tags[0].id, jo.id);
        hidden.status = ArticleStatus::Draft;
        store.insert_article(&hidden).await.unwrap();
        let ids = |found: Vec<byline::store::ArticleSummary>| {
            found.into_iter().map(|a| a.id).collect::<Vec<_>>()
        };

        let (found, total) = store.published_in(Listing::Section(local.id), 0, 10).await.unwrap();
        assert_eq!((ids(found), total), (vec![bridge, ferry], 2), "newest first, drafts left out");
        let (found, total) = store.published_in(Listing::Tag(tags[0].id), 0, 1).await.unwrap();
        assert_eq!((ids(found), total), (vec![match_], 2));
        let (found, _) = store.published_in(Listing::Author(jo.id), 1, 10).await.unwrap();
        assert_eq!(ids(found), [ferry]);
        let (found, _) = store.published_in(Listing::Author(jo.id), 0, 10).await.unwrap();
        assert_eq!(found[0].word_count, 30);

        // Same section or a shared tag; never itself; newest first.
        assert_eq!(ids(store.related_articles(ferry, 10).await.unwrap()), [match_, bridge]);
        assert_eq!(ids(store.related_articles(match_, 10).await.unwrap()), [ferry]);
        assert_eq!(ids(store.related_articles(ferry, 1).await.unwrap()), [match_]);

        assert_eq!(store.section_by_slug("sport").await.unwrap(), Some(sport));
        assert_eq!(store.section_by_slug("nope").await.unwrap(), None);
        assert_eq!(store.tag_by_slug("rugby").await.unwrap(), Some(tags[1].clone()));
        assert_eq!(store.tag_by_slug("nope").await.unwrap(), None);
        assert_eq!(store.author(ann.id).await.unwrap(), Some(ann));
        assert_eq!(store.author(9_999).await.unwrap(), None);
    }

    pub async fn search_finds_published_articles(store: &dyn Store, _: Backend) {
        let jo = store.find_or_create_author("Jo").await.unwrap();
        let write = |slug: &str, headline: &str, body: &str, at: i64| {
            let mut a = article(slug, jo.id, at);
            a.fields.headline = headline.into();
            a.fields.body_markdown = body.into();
            a
        };
        let in_body = store
            .insert_article(&write("a", "Council budget", "The ferry will run later.", 1))
            .await
            .unwrap();
        let in_headline = store
            .insert_article(&write("b", "Ferry timetable changes", "Nothing else.", 2))
            .await
            .unwrap();
        let east = store
            .insert_article(&write("c", "東京の朝", "Москва и 東京 — репортаж.", 3))
            .await
            .unwrap();
        let draft = store
            .insert_article(&NewArticle {
                status: ArticleStatus::Draft,
                ..write("d", "Ferry draft", "x", 4)
            })
            .await
            .unwrap();
        let terms = |q: &str| byline::domain::search::terms(q);
        let ids = |hits: &[byline::store::SearchHit]| {
            hits.iter().map(|h| h.article.id).collect::<Vec<_>>()
        };

        let (hits, total) = store.search(&terms("ferry"), 0, 10).await.unwrap();
        assert_eq!(total, 2);
        assert_eq!(
            ids(&hits),
            [in_headline, in_body],
            "a headline match ranks first; drafts never show"
        );
        let body_hit = hits.iter().find(|h| h.article.id == in_body).unwrap();
        assert!(body_hit.snippet.contains("\u{E000}ferry\u{E001}"), "{:?}", body_hit.snippet);
        let (hits, _) = store.search(&terms("FERR"), 0, 10).await.unwrap();
        assert_eq!(hits.len(), 2, "prefixes match, whatever the case");
        let (hits, _) = store.search(&terms("ferry timetable"), 0, 10).await.unwrap();
        assert_eq!(ids(&hits), [in_headline], "every term must match");
        let (hits, total) = store.search(&terms("ferry"), 1, 1).await.unwrap();
        assert_eq!((ids(&hits), total), (vec![in_body], 2));
        let (hits, _) = store.search(&terms("москва"), 0, 10).await.unwrap();
        assert_eq!(ids(&hits), [east]);
        for cjk in ["東京", "東京の朝", "朝"] {
            let (hits, _) = store.search(&terms(cjk), 0, 10).await.unwrap();
            assert_eq!(ids(&hits), [east], "{cjk}");
            if cjk == "東京" {
                assert!(hits[0].snippet.contains("\u{E000}東京\u{E001}"), "{:?}", hits[0].snippet);
            }
        }
        assert_eq!(store.search(&[], 0, 10).await.unwrap(), (Vec::new(), 0));
        assert_eq!(store.search(&terms("zebra"), 0, 10).await.unwrap().1, 0);

        // Kept in step: replies (which bump the reply count) change nothing; an edit, an
        // unpublish and a publish show at once.
        store.insert_comment(&comment(in_body, None, ReplyStatus::Approved, 5)).await.unwrap();
        assert_eq!(store.article(in_body).await.unwrap().unwrap().reply_count, 1);
        assert_eq!(store.search(&terms("ferry"), 0, 10).await.unwrap().1, 2);
        store
            .update_article(
                in_body,
                &ArticleFields { body_markdown: "No boats now.".into(), ..fields("a", jo.id) },
                5,
            )
            .await
            .unwrap();
        assert_eq!(ids(&store.search(&terms("ferry"), 0, 10).await.unwrap().0), [in_headline]);
        store
            .set_article_status(in_headline, ArticleStatus::Draft, Some("2026/11/24"), Some(2), 6)
            .await
            .unwrap();
        assert!(store.search(&terms("ferry"), 0, 10).await.unwrap().0.is_empty());
        store
            .set_article_status(draft, ArticleStatus::Published, Some("2026/11/24"), Some(4), 7)
            .await
            .unwrap();
        assert_eq!(ids(&store.search(&terms("ferry"), 0, 10).await.unwrap().0), [draft]);
    }

    pub async fn nodes_hear_of_changes(store: &dyn Store, backend: Backend) {
        match (store.changes(), backend) {
            (None, Backend::Sqlite) => store.announce_change("").await.unwrap(),
            (Some(mut changes), Backend::Postgres) => {
                let wait = std::time::Duration::from_secs(5);
                // The first news is the listening connection coming up.
                tokio::time::timeout(wait, changes.recv()).await.expect("listening").unwrap();
                store.announce_change("/2026/11/24/story/").await.unwrap();
                let heard = tokio::time::timeout(wait, changes.recv()).await.expect("heard");
                assert_eq!(heard.unwrap(), "/2026/11/24/story/");
            }
            (changes, backend) => panic!("{backend:?} gave {:?}", changes.is_some()),
        }
    }

    pub async fn a_scheduled_article_is_published_once(store: &dyn Store, _: Backend) {
        let jo = store.find_or_create_author("Jo").await.unwrap();
        let mut scheduled = article("later", jo.id, 100);
        scheduled.status = ArticleStatus::Scheduled;
        scheduled.date_path = None;
        let id = store.insert_article(&scheduled).await.unwrap();
        let (first, second) = tokio::join!(
            store.publish_scheduled(id, "2026/11/25", 100, 200),
            store.publish_scheduled(id, "2026/11/25", 100, 201),
        );
        assert_eq!([first.unwrap(), second.unwrap()].iter().filter(|done| **done).count(), 1);
        let published = store.article(id).await.unwrap().unwrap();
        assert_eq!(published.status, ArticleStatus::Published);
        assert_eq!(published.date_path.as_deref(), Some("2026/11/25"));
        assert!(!store.publish_scheduled(id, "2026/11/26", 100, 300).await.unwrap(), "not twice");
    }

    pub async fn thread_shapes_hold_approved_replies_only(store: &dyn Store, _: Backend) {
        let article_id = one_article(store).await;
        let jo = store.find_or_create_author("Jo").await.unwrap();
        let other = store.insert_article(&article("other", jo.id, 2_000)).await.unwrap();
        let add = |article, parent, status, at| {
            let c = comment(article, parent, status, at);
            async move { store.insert_comment(&c).await.unwrap() }
        };
        let first = add(article_id, None, ReplyStatus::Approved, 10).await;
        let answer = add(article_id, Some(first), ReplyStatus::Approved, 20).await;
        add(article_id, Some(first), ReplyStatus::Pending, 30).await;
        let rejected = add(article_id, None, ReplyStatus::Approved, 40).await;
        store.set_comment_status(rejected, ReplyStatus::Spam).await.unwrap();
        add(other, None, ReplyStatus::Approved, 50).await;
        let mut shapes = store.reply_shapes(article_id).await.unwrap();
        shapes.sort_by_key(|s| s.id);
        assert_eq!(
            shapes,
            [
                CommentStub { id: first, parent_id: None, created_at: 10 },
                CommentStub { id: answer, parent_id: Some(first), created_at: 20 },
            ]
        );
        assert!(store.reply_shapes(other + 1).await.unwrap().is_empty());
    }

    pub async fn no_page_query_scans_a_table(store: &dyn Store, backend: Backend) {
        let plans = store.explain_page_queries().await.unwrap();
        assert!(plans.len() >= 17, "every query of the page path is checked");
        for (name, lines) in plans {
            assert!(!lines.is_empty(), "{name}: no plan");
            for line in &lines {
                let scans = match backend {
                    // SQLite says SCAN for a full pass over a table (a temporary B-tree for
                    // ORDER BY is not one).
                    Backend::Sqlite => line.starts_with("SCAN ") && !line.contains("CONSTANT ROW"),
                    Backend::Postgres => line.contains("Seq Scan"),
                };
                assert!(!scans, "{name} scans a table:\n{}", lines.join("\n"));
            }
        }
    }

    pub async fn defenses_look_up_recent_replies(store: &dyn Store, _: Backend) {
        let jo = store.find_or_create_author("Jo").await.unwrap();
        let id = store.insert_article(&article("story", jo.id, 1)).await.unwrap();
        for at in [100, 150, 160] {
            store.insert_comment(&comment(id, None, ReplyStatus::Pending, at)).await.unwrap();
        }
        assert_eq!(store.comments_from_ip_since("192.0.2.1", 150).await.unwrap(), 2);
        assert_eq!(store.comments_from_ip_since("192.0.2.1", 0).await.unwrap(), 3);
        assert_eq!(store.comments_from_ip_since("198.51.100.1", 0).await.unwrap(), 0);
        assert!(store.duplicate_comment(id, "READER@example.com", "Text", 100).await.unwrap());
        assert!(
            !store.duplicate_comment(id, "reader@example.com", "Text", 161).await.unwrap(),
            "too old"
        );
        assert!(!store.duplicate_comment(id, "reader@example.com", "Other", 0).await.unwrap());
        assert!(!store.duplicate_comment(id + 1, "reader@example.com", "Text", 0).await.unwrap());
        assert!(!store.duplicate_comment(id, "other@example.com", "Text", 0).await.unwrap());
    }

    fn new_user(email: &str, name: &str, role: Role) -> NewUser {
        NewUser {
            email: email.into(),
            name: name.into(),
            role,
            password_hash: "hash".into(),
            created_at: 100,
        }
    }

    fn draft(slug: &str, author_id: i64) -> NewArticle {
        NewArticle {
            fields: fields(slug, author_id),
            status: ArticleStatus::Draft,
            date_path: None,
            published_at: None,
            created_at: 50,
        }
    }

    pub async fn the_newsroom_list_filters(store: &dyn Store, _: Backend) {
        let jo = store.find_or_create_author("Jo").await.unwrap();
        let ann = store.find_or_create_author("Ann").await.unwrap();
        let politics = store.find_or_create_section("Politics", "politics").await.unwrap();
        let mut budget = draft("budget", jo.id);
        budget.fields.headline = "Council Approves 50% Budget".into();
        budget.fields.section_id = Some(politics.id);
        budget.fields.author_ids = vec![jo.id, ann.id];
        let budget = store.insert_article(&budget).await.unwrap();
        let ferry = store.insert_article(&article("ferry", ann.id, 60)).await.unwrap();
        let query = |q: ArticleQuery| async move {
            let (found, total) =
                store.list_articles(&ArticleQuery { limit: 10, ..q }).await.unwrap();
            assert_eq!(found.len() as u64, total);
            found.iter().map(|a| a.id).collect::<Vec<_>>()
        };
        let mut all = query(ArticleQuery::default()).await;
        all.sort_unstable();
        assert_eq!(all, [budget, ferry]);
        let drafts = ArticleQuery { status: Some(ArticleStatus::Draft), ..Default::default() };
        assert_eq!(query(drafts).await, [budget]);
        assert_eq!(
            query(ArticleQuery { author_id: Some(jo.id), ..Default::default() }).await,
            [budget]
        );
        let mut by_ann =
            query(ArticleQuery { author_id: Some(ann.id), ..Default::default() }).await;
        by_ann.sort_unstable();
        assert_eq!(by_ann, [budget, ferry]);
        let in_politics = ArticleQuery { section_id: Some(politics.id), ..Default::default() };
        assert_eq!(query(in_politics).await, [budget]);
        for words in ["council", "APPROVES", "50%"] {
            let search = ArticleQuery { headline: Some(words.into()), ..Default::default() };
            assert_eq!(query(search).await, [budget], "{words}");
        }
        let percent = ArticleQuery { headline: Some("%".into()), ..Default::default() };
        assert_eq!(query(percent).await, [budget], "% is a literal");
        let (page, total) = store
            .list_articles(&ArticleQuery { limit: 1, offset: 1, ..Default::default() })
            .await
            .unwrap();
        assert_eq!((page.len(), total), (1, 2));
        let (found, _) =
            store.list_articles(&ArticleQuery { limit: 10, ..Default::default() }).await.unwrap();
        let listed = found.iter().find(|a| a.id == budget).unwrap();
        assert_eq!(listed.author_names, ["Jo", "Ann"]);
        assert_eq!(listed.section_name.as_deref(), Some("Politics"));
        assert_eq!(listed.status, ArticleStatus::Draft);
    }

    pub async fn articles_are_edited_and_change_status(store: &dyn Store, _: Backend) {
        let jo = store.find_or_create_author("Jo").await.unwrap();
        let ann = store.find_or_create_author("Ann").await.unwrap();
        let id = store.insert_article(&draft("draft", jo.id)).await.unwrap();
        let found = store.article(id).await.unwrap().unwrap();
        assert_eq!(found.status, ArticleStatus::Draft);
        assert_eq!((found.date_path, found.published_at), (None, None));
        assert!(store.article_by_slug("draft").await.unwrap().is_none(), "drafts are not public");

        let tags = store
            .find_or_create_tags(&[
                ("Ferries".into(), "ferries".into()),
                ("Budget".into(), "budget".into()),
            ])
            .await
            .unwrap();
        let section = store.find_or_create_section("Local", "local").await.unwrap();
        let mut edit = fields("edited", ann.id);
        edit.author_ids = vec![ann.id, jo.id];
        edit.tag_ids = tags.iter().map(|t| t.id).collect();
        edit.section_id = Some(section.id);
        edit.image = Some(Image {
            url: "https://img.example/a.jpg".into(),
            caption: "Cap".into(),
            alt: "Alt".into(),
        });
        edit.replies_open = false;
        store.update_article(id, &edit, 70).await.unwrap();
        let found = store.article(id).await.unwrap().unwrap();
        assert_eq!(found.slug, "edited");
        assert_eq!(
            found.authors.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
            ["Ann", "Jo"]
        );
        assert_eq!(
            found.tags.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            ["Budget", "Ferries"]
        );
        assert_eq!(found.section, Some(section));
        assert_eq!(found.image, edit.image);
        assert!(!found.replies_open);
        assert_eq!(found.updated_at, 70);
        let other = store.insert_article(&draft("other", jo.id)).await.unwrap();
        let clash = store.update_article(other, &fields("edited", jo.id), 71).await;
        assert!(matches!(clash, Err(StoreError::Conflict(_))), "{clash:?}");
        assert!(matches!(
            store.update_article(9_999, &edit, 1).await,
            Err(StoreError::NotFound(_))
        ));

        store.set_article_status(id, ArticleStatus::Scheduled, None, Some(500), 72).await.unwrap();
        assert!(store.due_articles(499).await.unwrap().is_empty());
        let due = store.due_articles(500).await.unwrap();
        assert_eq!(due.iter().map(|a| a.id).collect::<Vec<_>>(), [id]);
        assert_eq!(due[0].tags.len(), 2, "due articles come whole");
        store
            .set_article_status(id, ArticleStatus::Published, Some("2026/11/25"), Some(500), 73)
            .await
            .unwrap();
        assert!(store.due_articles(10_000).await.unwrap().is_empty());
        let public = store.article_by_slug("edited").await.unwrap().unwrap();
        assert_eq!(public.date_path.as_deref(), Some("2026/11/25"));
        assert_eq!(public.published_at, Some(500));
        store
            .set_article_status(id, ArticleStatus::Draft, Some("2026/11/25"), Some(500), 74)
            .await
            .unwrap();
        assert!(store.article_by_slug("edited").await.unwrap().is_none());
        assert_eq!(
            store.article(id).await.unwrap().unwrap().date_path.as_deref(),
            Some("2026/11/25")
        );
        assert!(store.article(9_999).await.unwrap().is_none());
    }

    pub async fn old_slugs_redirect(store: &dyn Store, _: Backend) {
        let jo = store.find_or_create_author("Jo").await.unwrap();
        let id = store.insert_article(&article("new-slug", jo.id, 1)).await.unwrap();
        assert_eq!(store.slug_redirect("old-slug").await.unwrap(), None);
        store.add_slug_redirect("old-slug", id).await.unwrap();
        store.add_slug_redirect("old-slug", id).await.unwrap();
        assert_eq!(store.slug_redirect("old-slug").await.unwrap(), Some(id));
        assert!(store.slug_exists("old-slug").await.unwrap(), "an old slug is not free");
        // Taking the old slug back removes its redirect.
        store.update_article(id, &fields("old-slug", jo.id), 2).await.unwrap();
        assert_eq!(store.slug_redirect("old-slug").await.unwrap(), None);
    }

    pub async fn revisions_are_kept(store: &dyn Store, _: Backend) {
        let jo = store.find_or_create_author("Jo").await.unwrap();
        let id = store.insert_article(&draft("story", jo.id)).await.unwrap();
        let user =
            store.create_user(&new_user("ed@example.com", "Ed", Role::Editor)).await.unwrap();
        let revision = |n: i64| Revision {
            id: 0,
            article_id: id,
            user_id: (n == 2).then_some(user.id),
            created_at: n,
            headline: format!("Headline {n}"),
            standfirst: "S".into(),
            slug: "story".into(),
            body_markdown: format!("Body {n}"),
            section: "Local".into(),
            tags: "a, b".into(),
            authors: format!("{}", jo.id),
            image_url: (n == 2).then(|| "https://img.example/x.png".into()),
            image_caption: String::new(),
            image_alt: String::new(),
            replies_open: n == 1,
        };
        let first = store.insert_revision(&revision(1)).await.unwrap();
        let second = store.insert_revision(&revision(2)).await.unwrap();
        let listed = store.revisions(id).await.unwrap();
        assert_eq!(
            listed.iter().map(|r| r.id).collect::<Vec<_>>(),
            [second, first],
            "newest first"
        );
        assert_eq!(listed[0], Revision { id: second, ..revision(2) });
        assert_eq!(
            store.revision(first).await.unwrap(),
            Some(Revision { id: first, ..revision(1) })
        );
        assert_eq!(store.revision(9_999).await.unwrap(), None);
        assert!(store.revisions(id + 1).await.unwrap().is_empty());
    }

    pub async fn notes_are_appended(store: &dyn Store, _: Backend) {
        let jo = store.find_or_create_author("Jo").await.unwrap();
        let id = store.insert_article(&article("story", jo.id, 1)).await.unwrap();
        let a = store.add_note(id, NoteKind::Correction, "We misspelt a name.", 10).await.unwrap();
        let b = store.add_note(id, NoteKind::Update, "The council replied.", 20).await.unwrap();
        let notes = store.notes(id).await.unwrap();
        assert_eq!(notes.iter().map(|n| n.id).collect::<Vec<_>>(), [a, b]);
        assert_eq!(notes[0].kind, NoteKind::Correction);
        assert_eq!(notes[1].body, "The council replied.");
        assert_eq!(notes[1].created_at, 20);
        assert_eq!(
            store.article(id).await.unwrap().unwrap().updated_at,
            20,
            "a note updates the article"
        );
    }

    pub async fn authors_sections_and_tags(store: &dyn Store, _: Backend) {
        let b = store.find_or_create_author("Bea").await.unwrap();
        let a = store.find_or_create_author("Abe").await.unwrap();
        assert_eq!(store.authors().await.unwrap(), [a.clone(), b.clone()], "by name");
        store.update_author(a.id, "Abe Lincoln", "A bio.").await.unwrap();
        let authors = store.authors().await.unwrap();
        assert_eq!((authors[0].name.as_str(), authors[0].bio.as_str()), ("Abe Lincoln", "A bio."));

        let x = store.find_or_create_section("Sport", "sport").await.unwrap();
        let again = store.find_or_create_section("Sport", "sport").await.unwrap();
        assert_eq!(x, again);
        store.find_or_create_section("Arts", "arts").await.unwrap();
        let names: Vec<_> = store.sections().await.unwrap().into_iter().map(|s| s.name).collect();
        assert_eq!(names, ["Arts", "Sport"]);

        let tags = store
            .find_or_create_tags(&[
                ("Zebra".into(), "zebra".into()),
                ("Apple".into(), "apple".into()),
            ])
            .await
            .unwrap();
        assert_eq!(tags.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["Zebra", "Apple"]);
        let again = store.find_or_create_tags(&[("Apple".into(), "apple".into())]).await.unwrap();
        assert_eq!(again[0].id, tags[1].id);
        assert!(store.find_or_create_tags(&[]).await.unwrap().is_empty());
    }

    pub async fn staff_accounts(store: &dyn Store, _: Backend) {
        // A command-line author of the same name becomes the account's author record.
        let existing = store.find_or_create_author("Eleanor Marsh").await.unwrap();
        let user = store
            .create_user(&new_user("Eleanor@Example.com", "Eleanor Marsh", Role::Admin))
            .await
            .unwrap();
        assert_eq!(user.author.id, existing.id);
        assert_eq!((user.role, user.disabled, user.created_at), (Role::Admin, false, 100));
        assert_eq!(user.email, "Eleanor@Example.com");
        let again =
            store.create_user(&new_user("eleanor@example.COM", "Someone", Role::Author)).await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        let second =
            store.create_user(&new_user("dan@example.com", "Dan", Role::Author)).await.unwrap();
        assert_ne!(second.author.id, existing.id);

        assert_eq!(store.user(user.id).await.unwrap(), Some(user.clone()));
        assert_eq!(store.user(9_999).await.unwrap(), None);
        let (found, hash) = store.user_credentials("ELEANOR@example.com").await.unwrap().unwrap();
        assert_eq!((found.id, hash.as_str()), (user.id, "hash"));
        assert!(store.user_credentials("nobody@example.com").await.unwrap().is_none());
        let names: Vec<_> =
            store.users().await.unwrap().into_iter().map(|u| u.author.name).collect();
        assert_eq!(names, ["Dan", "Eleanor Marsh"]);

        assert!(store.update_user(second.id, Role::Editor, true).await.unwrap());
        let changed = store.user(second.id).await.unwrap().unwrap();
        assert_eq!((changed.role, changed.disabled), (Role::Editor, true));
        assert!(!store.update_user(9_999, Role::Editor, false).await.unwrap());

        store.set_password(user.id, "new-hash", 200).await.unwrap();
        let (found, hash) = store.user_credentials("eleanor@example.com").await.unwrap().unwrap();
        assert_eq!((hash.as_str(), found.password_changed_at), ("new-hash", 200));
    }

    pub async fn sessions_expire_and_end(store: &dyn Store, _: Backend) {
        let user =
            store.create_user(&new_user("s@example.com", "Sam", Role::Author)).await.unwrap();
        let session = |token: &str, expires_at| Session {
            token_hash: token.into(),
            user_id: user.id,
            csrf_token: format!("csrf-{token}"),
            created_at: 10,
            expires_at,
        };
        store.create_session(&session("a", 100)).await.unwrap();
        store.create_session(&session("b", 100)).await.unwrap();
        let (found, who) = store.session("a", 99).await.unwrap().unwrap();
        assert_eq!((found, who.id), (session("a", 100), user.id));
        assert!(store.session("a", 100).await.unwrap().is_none(), "expired");
        assert!(store.session("zzz", 1).await.unwrap().is_none());
        store.delete_session("a").await.unwrap();
        assert!(store.session("a", 1).await.unwrap().is_none(), "signed out");
        assert!(store.session("b", 1).await.unwrap().is_some(), "other sessions stay");
        store.set_password(user.id, "other", 50).await.unwrap();
        assert!(store.session("b", 1).await.unwrap().is_none(), "a new password ends sessions");
        store.create_session(&session("c", 100)).await.unwrap();
        store.update_user(user.id, Role::Author, true).await.unwrap();
        assert!(store.session("c", 1).await.unwrap().is_none(), "disabling ends sessions");
        store.update_user(user.id, Role::Author, false).await.unwrap();
        store.create_session(&session("d", 100)).await.unwrap();
        assert!(store.session("d", 1).await.unwrap().is_some());
    }

    pub async fn login_failures_are_counted(store: &dyn Store, _: Backend) {
        for at in [10, 20, 30] {
            store.record_login_failure("account:a@example.com", at).await.unwrap();
        }
        store.record_login_failure("ip:192.0.2.1", 30).await.unwrap();
        assert_eq!(store.login_failures("account:a@example.com", 0).await.unwrap(), 3);
        assert_eq!(store.login_failures("account:a@example.com", 20).await.unwrap(), 2);
        assert_eq!(store.login_failures("ip:192.0.2.1", 0).await.unwrap(), 1);
        store.clear_login_failures("account:a@example.com", 0).await.unwrap();
        assert_eq!(store.login_failures("account:a@example.com", 0).await.unwrap(), 0);
        assert_eq!(store.login_failures("ip:192.0.2.1", 0).await.unwrap(), 1);
        store.clear_login_failures("nothing", 31).await.unwrap();
        assert_eq!(store.login_failures("ip:192.0.2.1", 0).await.unwrap(), 0, "old ones go");
    }

    pub async fn ping_answers(store: &dyn Store, _: Backend) {
        store.ping().await.unwrap();
    }

    pub async fn a_site_copies_exactly(store: &dyn Store, backend: Backend) {
        let author = store.find_or_create_author("Jo").await.unwrap();
        let mut closed = article("closed", author.id, 2);
        closed.fields.replies_open = false;
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
        let page2 =
            store.export_rows(Table::Articles, Some(vec![page1[0][0].clone()]), 1).await.unwrap();
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
        // The search index is each backend's own (FTS5 here, a GIN index on PostgreSQL).
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
                AND name NOT LIKE 'articles_search%'",
        )
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

    // Sessions and sign-in failures stay behind when a site is copied.
    for local in ["sessions", "login_failures"] {
        sqlite.remove(local).expect("the table exists");
    }
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
