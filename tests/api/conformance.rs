//! One store conformance suite, run against every backend, so they cannot drift. Each case
//! names the store methods it covers; a method of an aggregate's trait that no case covers
//! fails the suite.

use byline::domain::events::NewEvent;
use byline::domain::{
    ArticleId, ArticleStatus, AuthorId, EventKind, MediaId, NoteKind, PageId, PageRevisionId,
    ReplyId, ReplyStatus, RevisionId, RevisionKind, Role, SettingKey, UserId,
};
use byline::store::*;
use byline::tools::copy::{CopyError, copy_site};

use crate::helpers::{Backend, fresh_store, typed};

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
                    super::cases::$case(&fresh.store, backend).await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test]
                async fn $case() {
                    let backend = crate::helpers::Backend::Postgres;
                    let fresh = crate::helpers::fresh_store(backend).await;
                    super::cases::$case(&fresh.store, backend).await;
                }
            )*
        }
    };
}

conformance! {
    articles_are_published_listed_and_found covers [
        insert_article, write_links, find_or_create_author, published_articles,
        count_published_articles, article_by_slug, complete, slug_exists, reply_target,
        published_article_alone, authors_of_article, tags_of_article,
    ];
    slugs_are_unique covers [insert_article, slug_exists];
    authors_are_created_once covers [find_or_create_author];
    listings_break_ties_on_id covers [published_articles, replies_of_article];
    replies_round_trip covers [insert_reply, reply, replies_of_article, replies_by_ids, newest_replies];
    reply_counts_follow_status covers [
        set_reply_status, delete_reply, article_by_slug, fold_reply_counts,
    ];
    places_keep_removed_replies covers [reply_places, delete_reply];
    thread_places_hold_approved_replies_only covers [thread_places, set_reply_status];
    approved_email_lookup_ignores_case covers [has_approved_reply_from];
    text_round_trips_exactly covers [insert_reply, reply, insert_article, article_by_slug];
    settings_keep_their_first_value covers [
        setting, setting_or_insert, set_setting, discussion_settings,
    ];
    the_moderation_queue_filters covers [
        queue, queue_counts, set_reply_body, insert_reply, reply_history,
    ];
    posters_change_and_withdraw_their_replies covers [queued_reply, edit_reply, withdraw_reply];
    defenses_look_up_recent_replies covers [
        replies_from_ip_since, duplicate_reply, lock_replies_from, erase_reply_ips,
    ];
    search_finds_published_articles covers [search, fill_body_text];
    nodes_hear_of_changes covers [];
    no_page_query_scans_a_table covers [explain_page_queries];
    a_scheduled_article_is_published_once covers [publish_scheduled];
    listings_of_sections_tags_and_authors covers [
        published_in, related_articles, section_by_slug, tag_by_slug, author,
    ];
    the_newsroom_list_filters covers [list_articles, most_replied_since];
    articles_are_edited_and_change_status covers [
        article, update_article, set_article_status, due_articles,
    ];
    old_slugs_redirect covers [add_slug_redirect, slug_redirect, slug_exists];
    imports_are_mapped_and_old_addresses_kept covers [
        imported, map_import, url_redirect, add_url_redirect, set_url_redirect,
        remove_url_redirect, retarget_url_redirects, insert_imported_reply,
    ];
    pages_nest_and_keep_their_revisions covers [
        page_at, page, pages, published_pages, footer_pages, insert_page, update_page, lock_pages,
        page_reply_target, set_page_discussion, sync_discussion, page_of_discussion,
        insert_page_revision, page_revisions, page_revision, delete_page,
    ];
    import_jobs_are_run_by_one_node_at_a_time covers [
        import_job, import_jobs, import_chunk, create_import_job, add_import_chunk,
        finish_upload, claim_import_job, renew_import_job, end_import_job, drop_stale_uploads,
    ];
    the_media_library_keeps_images_and_their_uses covers [
        media, media_by_ids, media_list, media_uses, media_with_hash, insert_media,
        update_media_text, replace_media_files, set_media_widths, delete_media, set_media_uses,
        articles_showing, set_body_html, all_media,
    ];
    revisions_are_kept covers [insert_revision, revisions, revision, latest_revision];
    the_api_reads_published_articles_by_cursor covers [
        published_page, published_reply_counts, published_authors,
    ];
    embedded_threads_are_made_once_per_address covers [
        thread_by_url, thread, threads, thread_reply_counts, find_or_create_thread, update_thread,
    ];
    api_tokens_are_kept_as_hashes covers [
        api_tokens, api_token, insert_api_token, delete_api_token, touch_api_token,
    ];
    live_updates_read_reply_events_in_order covers [reply_events_after, event_numbers];
    sections_and_tags_are_renamed_merged_and_deleted covers [
        terms, term, term_by_slug, articles_using, update_term, merge_terms, delete_term,
    ];
    an_article_is_trashed_then_deleted_for_ever_with_all_that_was_its covers [
        set_trashed, delete_article,
    ];
    bodies_are_rendered_again_from_their_sources covers [
        article_sources, set_body_html, set_page_body_html,
    ];
    notes_are_appended covers [add_note, notes];
    authors_sections_and_tags covers [
        authors, update_author, sections, find_or_create_section, find_or_create_tags,
    ];
    staff_accounts covers [create_user, user, user_credentials, users, update_user, set_password];
    sessions_expire_and_end covers [
        create_session, session, delete_session, delete_expired_sessions,
    ];
    login_failures_are_counted covers [
        login_failures, record_login_failure, clear_login_failures, lock_login_failures,
        forget_login_failures,
    ];
    a_site_copies_exactly covers [export_rows, import_rows, count_rows, next_id, finish_import];
    events_are_recorded_for_every_registered_handler covers [
        register_handler, record_event, outbox_events, outbox_event, deliveries,
    ];
    a_handler_gets_only_the_kinds_it_acts_on covers [register_handler_for];
    events_are_delivered_in_the_order_they_commit covers [sequence_events, outbox_backlog];
    deliveries_are_claimed_in_order_once covers [
        claim_deliveries, complete_delivery, fail_delivery, give_up_delivery, given_up,
    ];
    delivered_events_are_purged_after_a_while covers [purge_outbox];
    handlers_no_node_runs_are_retired covers [retire_handlers];
    a_unit_of_work_commits_whole_or_not_at_all covers [];
    thousands_of_rows_commit_in_one_unit covers [execute_each];
    readers_subscribe_confirm_and_unsubscribe covers [
        subscribe, mail_address, mail_address_of, subscription, subscriptions_of, confirm_address,
        recipients, reply_news, unsubscribe, forget_address, forget_unconfirmed,
    ];
    password_resets_work_once_and_expire covers [
        create_password_reset, password_reset_user, last_password_reset, use_password_reset,
        forget_password_resets,
    ];
    readers_ask_for_their_data covers [
        create_data_request, data_request, last_data_request, end_data_request,
        forget_data_requests, replies_from_address,
    ];
    staff_choose_what_is_mailed covers [
        staff_mail_choice, set_staff_mail_choice, moderators_to_tell, authors_to_tell,
        use_moderation_link, forget_moderation_links, keep_for_staff_digest, take_staff_digest,
    ];
    each_mail_is_claimed_once_and_counted covers [
        claim_mail, mail_was_sent, release_mail, mail_sent, mails_sent_since, forget_mails_sent,
        keep_for_digest, take_digest,
    ];
}

/// The extension traits of `src/store/`, each aggregate's, and their methods.
fn store_methods() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/store");
    let mut methods = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let source = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for block in source.split("pub trait ").skip(1) {
            let name: String = block.chars().take_while(|c| c.is_alphanumeric()).collect();
            let header = block.lines().next().unwrap_or_default();
            if !(header.contains(": Db") || header.contains(": Tx")) {
                continue;
            }
            let body = &block[..block.find("\n}\n").unwrap_or(block.len())];
            for rest in body.split("async fn ").skip(1) {
                methods.push((name.clone(), rest.split(['(', '<']).next().unwrap().to_owned()));
            }
        }
    }
    methods
}

#[test]
fn every_store_method_has_a_conformance_case() {
    let methods = store_methods();
    assert!(methods.len() >= 60, "found the traits' methods: {methods:?}");
    for (aggregate, method) in methods {
        assert!(
            CASES.iter().any(|(_, covered)| covered.contains(&method.as_str())),
            "{aggregate}::{method} has no conformance case in tests/api/conformance.rs"
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

/// From 0004 on, a migration has the same number and name on both backends.
#[test]
fn both_backends_number_their_migrations_alike() {
    use byline::store::migrations::{POSTGRES, SAME_FROM, SQLITE};
    let list = |m: &[byline::store::migrations::Migration]| {
        m.iter().map(|m| (m.number, m.name)).collect::<Vec<_>>()
    };
    let (sqlite, postgres) = (list(SQLITE), list(POSTGRES));
    assert_eq!(
        sqlite.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        postgres.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
        "the same numbers"
    );
    for ((number, a), (_, b)) in sqlite.iter().zip(&postgres) {
        assert_eq!(*number as usize, sqlite.iter().position(|(n, _)| n == number).unwrap() + 1);
        if *number >= SAME_FROM {
            assert_eq!(a, b, "migration {number} is named alike on both backends");
        }
    }
    // Every file is in its list, and nothing else is.
    for (backend, listed) in [("sqlite", &sqlite), ("postgres", &postgres)] {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(backend);
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().trim_end_matches(".sql").to_owned())
            .collect();
        files.sort();
        let names: Vec<String> = listed.iter().map(|(_, n)| (*n).to_owned()).collect();
        assert_eq!(files, names, "{backend}");
    }
}

mod cases {
    use super::*;

    /// A read, which must succeed.
    pub async fn r<T: Send + 'static>(
        store: &Store,
        op: impl for<'a> FnOnce(&'a mut dyn Db) -> BoxFuture<'a, Result<T>> + Send + 'static,
    ) -> T {
        store.read(op).await.unwrap()
    }

    /// A unit of work, which must succeed.
    pub async fn w<T: Send + 'static>(
        store: &Store,
        op: impl for<'a> FnOnce(&'a mut dyn Tx) -> BoxFuture<'a, Result<T>> + Send + 'static,
    ) -> T {
        store.write(op).await.unwrap()
    }

    pub async fn author(store: &Store, name: &'static str) -> Author {
        w(store, move |tx| tx.find_or_create_author(name, 1)).await
    }

    pub async fn insert(store: &Store, article: NewArticle) -> Result<ArticleId> {
        store.write(move |tx| Box::pin(async move { tx.insert_article(&article).await })).await
    }

    pub async fn add_reply(store: &Store, reply: NewReply) -> ReplyId {
        w(store, move |tx| Box::pin(async move { tx.insert_reply(&reply).await })).await
    }

    pub async fn article_named(store: &Store, slug: &'static str) -> Option<Article> {
        r(store, move |db| db.article_by_slug(slug)).await
    }

    pub fn fields(slug: &str, author: AuthorId) -> ArticleFields {
        ArticleFields {
            slug: typed::slug(slug),
            headline: typed::headline(&format!("Headline of {slug}")),
            standfirst: "Standfirst".into(),
            body_markdown: "Body".into(),
            body_html: "<p>Body</p>\n".into(),
            author_ids: vec![author],
            section_id: None,
            tag_ids: Vec::new(),
            image: None,
            replies_open: true,
            word_count: 1,
            seo: Seo::default(),
        }
    }

    pub fn article(slug: &str, author: AuthorId, published_at: i64) -> NewArticle {
        NewArticle {
            fields: fields(slug, author),
            status: ArticleStatus::Published,
            date_path: Some("2026/11/24".into()),
            published_at: Some(published_at),
            created_at: published_at,
        }
    }

    pub fn reply(
        article_id: ArticleId,
        parent_id: Option<ReplyId>,
        status: ReplyStatus,
        at: i64,
    ) -> NewReply {
        NewReply {
            article_id,
            parent_id,
            author_name: typed::name("Reader"),
            author_email: typed::email("reader@example.com"),
            author_url: Some(typed::website("https://reader.example/")),
            body: typed::body("Text"),
            status,
            ip: Some("192.0.2.1".into()),
            held_reason: String::new(),
            user_id: None,
            created_at: at,
        }
    }

    async fn one_article(store: &Store) -> ArticleId {
        let jo = author(store, "Jo").await;
        insert(store, article("story", jo.id, 1_000)).await.unwrap()
    }

    fn ids_of<T, I: PartialEq>(items: &[T], id: impl Fn(&T) -> I) -> Vec<I> {
        items.iter().map(id).collect()
    }

    pub async fn articles_are_published_listed_and_found(store: &Store, _: Backend) {
        assert_eq!(r(store, |db| db.count_published_articles(None)).await, 0);
        assert!(r(store, |db| db.published_articles(0, 10, None)).await.is_empty());
        let marsh = author(store, "Eleanor Marsh").await;
        let first = insert(store, article("first", marsh.id, 1_000)).await.unwrap();
        let second = insert(store, article("second", marsh.id, 2_000)).await.unwrap();
        assert_ne!(first, second);
        assert_eq!(r(store, |db| db.count_published_articles(None)).await, 2);
        assert_eq!(r(store, move |db| db.count_published_articles(Some(first))).await, 1);

        let listed = r(store, |db| db.published_articles(0, 10, None)).await;
        assert_eq!(ids_of(&listed, |a| a.slug.clone()), ["second", "first"]);
        assert_eq!(listed[0].author_names, ["Eleanor Marsh"]);
        assert_eq!(listed[0].reply_count, 0);
        assert_eq!(listed[0].date_path.as_deref(), Some("2026/11/24"));
        assert_eq!(listed[0].status, ArticleStatus::Published);
        assert_eq!(r(store, |db| db.published_articles(1, 10, None)).await[0].id, first);
        assert_eq!(r(store, |db| db.published_articles(0, 1, None)).await.len(), 1);
        let without = r(store, move |db| db.published_articles(0, 10, Some(second))).await;
        assert_eq!(ids_of(&without, |a| a.id), [first]);

        let found = article_named(store, "first").await.unwrap();
        assert_eq!(found.id, first);
        assert_eq!(found.headline, "Headline of first");
        assert_eq!(found.body_html, "<p>Body</p>\n");
        assert_eq!(found.authors, std::slice::from_ref(&marsh));
        assert_eq!(found.published_at, Some(1_000));
        assert_eq!(found.updated_at, 1_000);
        assert!(found.replies_open);
        assert!(article_named(store, "missing").await.is_none());
        let target = r(store, |db| db.reply_target("first".into())).await.unwrap();
        assert_eq!(
            (target.id, target.date_path.as_deref(), target.replies_open, target.published_at),
            (first, Some("2026/11/24"), true, Some(1_000))
        );
        assert_eq!(target.public_path(), found.public_path());
        assert!(r(store, |db| db.reply_target("missing".into())).await.is_none());
        // Read alone, then its byline and tags apart: the same article.
        let mut alone = r(store, |db| db.published_article_alone("first")).await.unwrap();
        assert!(alone.authors.is_empty() && alone.tags.is_empty());
        alone.authors = r(store, move |db| db.authors_of_article(first)).await;
        alone.tags = r(store, move |db| db.tags_of_article(first)).await;
        assert_eq!(alone, found);
        assert!(r(store, |db| db.published_article_alone("missing")).await.is_none());
        assert!(r(store, |db| db.slug_exists("first")).await);
        assert!(!r(store, |db| db.slug_exists("missing")).await);
        // An article read alone is completed with its byline and tags.
        let mut bare = found.clone();
        bare.authors.clear();
        let completed = r(store, move |db| db.complete(bare)).await;
        assert_eq!(completed, found);
    }

    pub async fn slugs_are_unique(store: &Store, _: Backend) {
        let jo = author(store, "Jo").await;
        insert(store, article("same", jo.id, 1)).await.unwrap();
        let again = insert(store, article("same", jo.id, 2)).await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        assert!(r(store, |db| db.slug_exists("same")).await);
        assert_eq!(r(store, |db| db.count_published_articles(None)).await, 1);
    }

    pub async fn authors_are_created_once(store: &Store, _: Backend) {
        let a = author(store, "Priya Natarajan").await;
        let b = author(store, "Priya Natarajan").await;
        let c = author(store, "Daniel Okafor").await;
        assert_eq!(a, b);
        assert_ne!(a.id, c.id);
        assert_eq!(a.name, "Priya Natarajan");
        assert_eq!(a.bio, "");
    }

    pub async fn listings_break_ties_on_id(store: &Store, _: Backend) {
        let jo = author(store, "Jo").await;
        let mut ids = Vec::new();
        for slug in ["a", "b", "c"] {
            ids.push(insert(store, article(slug, jo.id, 500)).await.unwrap());
        }
        let listed = r(store, |db| db.published_articles(0, 10, None)).await;
        ids.reverse();
        assert_eq!(ids_of(&listed, |a| a.id), ids, "same time: newest id first");

        let article_id = ids[0];
        let mut replies = Vec::new();
        for _ in 0..3 {
            replies.push(add_reply(store, reply(article_id, None, ReplyStatus::Approved, 7)).await);
        }
        let listed =
            r(store, move |db| db.replies_of_article(article_id, ReplyStatus::Approved)).await;
        assert_eq!(ids_of(&listed, |c| c.id), replies, "same time: oldest id first");
    }

    pub async fn replies_round_trip(store: &Store, _: Backend) {
        let article_id = one_article(store).await;
        let parent = add_reply(store, reply(article_id, None, ReplyStatus::Approved, 10)).await;
        let child =
            add_reply(store, reply(article_id, Some(parent), ReplyStatus::Pending, 20)).await;
        let later = add_reply(store, reply(article_id, None, ReplyStatus::Approved, 30)).await;
        assert!(child > parent);
        // A reply to an article that does not exist is refused, and nothing is stored.
        let nowhere = reply(ArticleId(article_id.get() + 1000), None, ReplyStatus::Approved, 31);
        let refused =
            store.write(move |tx| Box::pin(async move { tx.insert_reply(&nowhere).await })).await;
        assert!(matches!(refused, Err(StoreError::NotFound(_))), "{refused:?}");

        let stored = r(store, move |db| db.reply(child)).await.unwrap();
        assert_eq!(stored.article_id, article_id);
        assert_eq!(stored.parent_id, Some(parent));
        assert_eq!(stored.author_name, "Reader");
        assert_eq!(stored.author_url.as_deref(), Some("https://reader.example/"));
        assert_eq!(stored.body, "Text");
        assert_eq!(stored.status, ReplyStatus::Pending);
        assert_eq!(stored.created_at, 20);
        assert!(r(store, move |db| db.reply(ReplyId(later.get() + 100))).await.is_none());

        let approved =
            r(store, move |db| db.replies_of_article(article_id, ReplyStatus::Approved)).await;
        assert_eq!(ids_of(&approved, |c| c.id), [parent, later]);
        let pending =
            r(store, move |db| db.replies_of_article(article_id, ReplyStatus::Pending)).await;
        assert_eq!(ids_of(&pending, |c| c.id), [child]);

        let wanted = [child, parent, ReplyId(9_999)];
        let by_ids = r(store, move |db| {
            Box::pin(async move { db.replies_by_ids(article_id, &wanted).await })
        })
        .await;
        assert_eq!(ids_of(&by_ids, |c| c.id), [parent, child]);
        let elsewhere = ArticleId(article_id.get() + 1);
        let none = r(store, move |db| {
            Box::pin(async move { db.replies_by_ids(elsewhere, &[child]).await })
        })
        .await;
        assert!(none.is_empty());
        assert!(r(store, move |db| db.replies_by_ids(article_id, &[])).await.is_empty());

        let newest = r(store, move |db| db.newest_replies(article_id, 1)).await;
        assert_eq!(ids_of(&newest, |c| c.id), [later], "the newest approved first");
        let both = r(store, move |db| db.newest_replies(article_id, 10)).await;
        assert_eq!(ids_of(&both, |c| c.id), [later, parent], "held ones left out");
    }

    pub async fn reply_counts_follow_status(store: &Store, backend: Backend) {
        let article_id = one_article(store).await;
        let count = || async { article_named(store, "story").await.unwrap().reply_count };
        let a = add_reply(store, reply(article_id, None, ReplyStatus::Approved, 1)).await;
        let b = add_reply(store, reply(article_id, None, ReplyStatus::Pending, 2)).await;
        assert_eq!(count().await, 1);
        assert!(w(store, move |tx| tx.set_reply_status(b, ReplyStatus::Approved)).await);
        assert_eq!(count().await, 2);
        // Folding the changes in (PostgreSQL) changes no count, in a page or a listing.
        let folded = w(store, |tx| tx.fold_reply_counts()).await;
        assert_eq!(folded > 0, backend == Backend::Postgres, "{folded} counters folded");
        assert_eq!(w(store, |tx| tx.fold_reply_counts()).await, 0, "folded once");
        assert_eq!(count().await, 2);
        let listed = r(store, |db| db.published_articles(0, 10, None)).await;
        assert_eq!(listed[0].reply_count, 2);
        assert!(w(store, move |tx| tx.set_reply_status(a, ReplyStatus::Spam)).await);
        assert_eq!(count().await, 1);
        assert!(w(store, move |tx| tx.set_reply_status(a, ReplyStatus::Trash)).await);
        assert_eq!(count().await, 1);
        assert!(w(store, move |tx| tx.delete_reply(b)).await);
        assert_eq!(count().await, 0);
        assert!(!w(store, move |tx| tx.delete_reply(b)).await);
        assert!(!w(store, move |tx| tx.set_reply_status(b, ReplyStatus::Approved)).await);
        assert_eq!(r(store, move |db| db.reply(a)).await.unwrap().status, ReplyStatus::Trash);
    }

    pub async fn places_keep_removed_replies(store: &Store, _: Backend) {
        let article_id = one_article(store).await;
        let top = add_reply(store, reply(article_id, None, ReplyStatus::Trash, 5)).await;
        let mid = add_reply(store, reply(article_id, Some(top), ReplyStatus::Spam, 6)).await;
        let gone = add_reply(store, reply(article_id, None, ReplyStatus::Approved, 7)).await;
        w(store, move |tx| tx.delete_reply(gone)).await;
        let mut places =
            r(store, move |db| Box::pin(async move { db.reply_places(&[mid, top, gone]).await }))
                .await;
        places.sort_by_key(|s| s.id);
        assert_eq!(places.len(), 2, "a deleted reply has no place");
        assert_eq!((places[0].id, places[0].parent_id, places[0].created_at), (top, None, 5));
        assert_eq!((places[1].id, places[1].parent_id, places[1].created_at), (mid, Some(top), 6));
        assert!(r(store, |db| db.reply_places(&[])).await.is_empty());
        // A deleted id is never handed out again.
        let next = add_reply(store, reply(article_id, None, ReplyStatus::Approved, 8)).await;
        assert!(next > gone);
    }

    pub async fn thread_places_hold_approved_replies_only(store: &Store, _: Backend) {
        let article_id = one_article(store).await;
        let jo = author(store, "Jo").await;
        let other = insert(store, article("other", jo.id, 2_000)).await.unwrap();
        let first = add_reply(store, reply(article_id, None, ReplyStatus::Approved, 10)).await;
        let answer =
            add_reply(store, reply(article_id, Some(first), ReplyStatus::Approved, 20)).await;
        add_reply(store, reply(article_id, Some(first), ReplyStatus::Pending, 30)).await;
        let rejected = add_reply(store, reply(article_id, None, ReplyStatus::Approved, 40)).await;
        w(store, move |tx| tx.set_reply_status(rejected, ReplyStatus::Spam)).await;
        add_reply(store, reply(other, None, ReplyStatus::Approved, 50)).await;
        let mut places = r(store, move |db| db.thread_places(article_id)).await;
        places.sort_by_key(|s| s.id);
        assert_eq!(
            places,
            [
                ReplyPlace { id: first, parent_id: None, created_at: 10 },
                ReplyPlace { id: answer, parent_id: Some(first), created_at: 20 },
            ]
        );
        let nowhere = ArticleId(other.get() + 1);
        assert!(r(store, move |db| db.thread_places(nowhere)).await.is_empty());
    }

    pub async fn approved_email_lookup_ignores_case(store: &Store, _: Backend) {
        let article_id = one_article(store).await;
        let mut held = reply(article_id, None, ReplyStatus::Pending, 1);
        held.author_email = typed::email("Held@Example.com");
        add_reply(store, held).await;
        assert!(!r(store, |db| db.has_approved_reply_from("held@example.com")).await);
        let mut approved = reply(article_id, None, ReplyStatus::Approved, 2);
        approved.author_email = typed::email("Known@Example.com");
        add_reply(store, approved).await;
        assert!(r(store, |db| db.has_approved_reply_from("known@example.COM")).await);
        assert!(r(store, |db| db.has_approved_reply_from("Known@Example.com")).await);
        assert!(!r(store, |db| db.has_approved_reply_from("unknown@example.com")).await);
    }

    pub async fn text_round_trips_exactly(store: &Store, _: Backend) {
        const TEXT: &str = "“Quotes” – dashes — ’ «» 東京 Москва 👍🏽 \u{200d} ' \" \\ % _ <b>&amp;</b>\n\ttab $1 ?1";
        // Headlines and names are one line.
        const LINE: &str =
            "“Quotes” – dashes — ’ «» 東京 Москва 👍🏽 \u{200d} ' \" \\ % _ <b>&amp;</b> $1 ?1";
        let writer = author(store, TEXT).await;
        let mut new = article("exact", writer.id, 1);
        new.fields.headline = typed::headline(LINE);
        new.fields.body_html = TEXT.into();
        insert(store, new).await.unwrap();
        let found = article_named(store, "exact").await.unwrap();
        assert_eq!((found.headline.as_str(), found.body_html.as_str()), (LINE, TEXT));
        assert_eq!(found.authors[0].name, TEXT);
        let mut text = reply(found.id, None, ReplyStatus::Approved, 1);
        text.body = typed::body(TEXT);
        text.author_name = typed::name(LINE);
        let id = add_reply(store, text).await;
        let stored = r(store, move |db| db.reply(id)).await.unwrap();
        assert_eq!((stored.body.as_str(), stored.author_name.as_str()), (TEXT, LINE));
    }

    pub async fn settings_keep_their_first_value(store: &Store, _: Backend) {
        use SiteSetting::{Discussion, LeadArticle, Secret};
        assert_eq!(r(store, |db| db.setting(Secret)).await, None);
        assert_eq!(w(store, |tx| tx.setting_or_insert(Secret, "one")).await, "one");
        assert_eq!(w(store, |tx| tx.setting_or_insert(Secret, "two")).await, "one");
        assert_eq!(r(store, |db| db.setting(Secret)).await.as_deref(), Some("one"));
        w(store, |tx| tx.set_setting(LeadArticle, Some("7"))).await;
        w(store, |tx| tx.set_setting(LeadArticle, Some("8"))).await;
        assert_eq!(r(store, |db| db.setting(LeadArticle)).await.as_deref(), Some("8"));
        w(store, |tx| tx.set_setting(LeadArticle, None)).await;
        assert_eq!(r(store, |db| db.setting(LeadArticle)).await, None);
        w(store, |tx| tx.set_setting(Discussion(SettingKey::ThreadDepth), Some("2"))).await;
        w(store, |tx| tx.set_setting(Discussion(SettingKey::MaxLinks), Some("1"))).await;
        let found = r(store, |db| db.discussion_settings()).await;
        assert_eq!(
            found,
            [(SettingKey::MaxLinks, "1".to_owned()), (SettingKey::ThreadDepth, "2".to_owned())]
        );
        assert_eq!(
            r(store, |db| db.setting(Discussion(SettingKey::ThreadDepth))).await.as_deref(),
            Some("2")
        );
    }

    fn new_user(email: &str, name: &str, role: Role) -> NewUser {
        NewUser {
            email: typed::email(email),
            name: name.into(),
            role,
            password_hash: "hash".into(),
            created_at: 100,
        }
    }

    async fn create_user(store: &Store, user: NewUser) -> Result<User> {
        store.write(move |tx| Box::pin(async move { tx.create_user(&user).await })).await
    }

    async fn queue(store: &Store, query: QueueQuery) -> (Vec<QueuedReply>, u64) {
        r(store, move |db| Box::pin(async move { db.queue(&query).await })).await
    }

    async fn queue_counts(store: &Store, query: QueueQuery) -> Vec<(ReplyStatus, u64)> {
        r(store, move |db| Box::pin(async move { db.queue_counts(&query).await })).await
    }

    pub async fn the_moderation_queue_filters(store: &Store, _: Backend) {
        let jo = author(store, "Jo").await;
        let ann = author(store, "Ann").await;
        let jos = insert(store, article("jos", jo.id, 1)).await.unwrap();
        let anns = insert(store, article("anns", ann.id, 2)).await.unwrap();
        let user =
            create_user(store, new_user("staff@example.com", "Staff", Role::Editor)).await.unwrap();
        let mut held = reply(jos, None, ReplyStatus::Pending, 10);
        held.held_reason = "first reply from this email address".into();
        held.author_email = typed::email("Reader@Example.com");
        let held = add_reply(store, held).await;
        let spam = add_reply(store, reply(anns, None, ReplyStatus::Spam, 20)).await;
        let mut by_staff = reply(jos, Some(held), ReplyStatus::Approved, 30);
        by_staff.user_id = Some(user.id);
        let by_staff = add_reply(store, by_staff).await;

        let query = |q: QueueQuery| async move {
            let (found, total) = queue(store, QueueQuery { limit: 10, ..q }).await;
            assert_eq!(found.len() as u64, total);
            found
        };
        let all = query(QueueQuery::default()).await;
        assert_eq!(ids_of(&all, |q| q.reply.id), [by_staff, spam, held], "newest first");
        let first = all.iter().find(|q| q.reply.id == held).unwrap();
        assert_eq!(first.author_email, "Reader@Example.com");
        assert_eq!(first.ip.as_deref(), Some("192.0.2.1"));
        assert_eq!(first.held_reason, "first reply from this email address");
        assert_eq!(
            (first.article_headline.as_str(), first.article_slug.as_str()),
            ("Headline of jos", "jos")
        );
        assert_eq!(first.article_date_path.as_deref(), Some("2026/11/24"));
        assert!(!first.reply.staff);
        assert!(all[0].reply.staff, "written by staff");
        assert!(r(store, move |db| db.reply(by_staff)).await.unwrap().staff);

        let pending =
            query(QueueQuery { status: Some(ReplyStatus::Pending), ..Default::default() }).await;
        assert_eq!(ids_of(&pending, |q| q.reply.id), [held]);
        let on_anns = query(QueueQuery { article_id: Some(anns), ..Default::default() }).await;
        assert_eq!(ids_of(&on_anns, |q| q.reply.id), [spam]);
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
            queue(store, QueueQuery { limit: 1, offset: 1, ..Default::default() }).await;
        assert_eq!((page[0].reply.id, total), (spam, 3));

        let mut counts = queue_counts(store, QueueQuery::default()).await;
        counts.sort_by_key(|(s, _)| s.as_str());
        assert_eq!(
            counts,
            [(ReplyStatus::Approved, 1), (ReplyStatus::Pending, 1), (ReplyStatus::Spam, 1)]
        );
        let counts = queue_counts(
            store,
            QueueQuery { byline_author_id: Some(ann.id), ..Default::default() },
        )
        .await;
        assert_eq!(counts, [(ReplyStatus::Spam, 1)]);
        // The moderator's context: what a reply answers, the article by headline, the
        // address's history.
        let answer = query(QueueQuery::default()).await;
        let staff_answer = answer.iter().find(|q| q.reply.id == by_staff).unwrap();
        assert_eq!(staff_answer.answering, Some(("Reader".to_owned(), "Text".to_owned())));
        assert_eq!(answer.iter().find(|q| q.reply.id == held).unwrap().answering, None);
        let by_headline =
            query(QueueQuery { headline: Some("OF ANNS".into()), ..Default::default() }).await;
        assert_eq!(ids_of(&by_headline, |q| q.reply.id), [spam]);
        let history = r(store, |db| {
            Box::pin(async move {
                let emails = vec!["READER@example.com".to_owned(), "nobody@example.com".into()];
                db.reply_history(&emails).await
            })
        })
        .await;
        let mut history = history;
        history.sort_by_key(|(_, s, _)| s.as_str());
        assert_eq!(
            history,
            [
                ("reader@example.com".to_owned(), ReplyStatus::Approved, 1),
                ("reader@example.com".to_owned(), ReplyStatus::Pending, 1),
                ("reader@example.com".to_owned(), ReplyStatus::Spam, 1)
            ]
        );

        assert!(
            w(store, move |tx| {
                Box::pin(async move {
                    tx.set_reply_body(held, &typed::body("Edited by a moderator")).await
                })
            })
            .await
        );
        assert_eq!(r(store, move |db| db.reply(held)).await.unwrap().body, "Edited by a moderator");
        assert!(
            !w(store, |tx| Box::pin(async move {
                tx.set_reply_body(ReplyId(9_999), &typed::body("x")).await
            }))
            .await
        );
    }

    pub async fn posters_change_and_withdraw_their_replies(store: &Store, _: Backend) {
        let jo = author(store, "Jo").await;
        let story = insert(store, article("story", jo.id, 1)).await.unwrap();
        let mut posted = reply(story, None, ReplyStatus::Approved, 10);
        posted.author_email = typed::email("Poster@Example.com");
        let id = add_reply(store, posted).await;
        let before = r(store, move |db| db.queued_reply(id)).await.unwrap();
        assert_eq!(before.author_email, "Poster@Example.com");
        assert_eq!(before.ip.as_deref(), Some("192.0.2.1"));
        assert_eq!(before.public_path().as_deref(), Some("/2026/11/24/story/"));
        assert_eq!(before.reply.edited_at, None);
        assert!(r(store, |db| db.queued_reply(ReplyId(9_999))).await.is_none());

        let edit = PosterEdit {
            body: typed::body("Second thoughts, with https://a.example and https://b.example"),
            status: ReplyStatus::Pending,
            held_reason: "3 links (more than 2)".into(),
            at: 70,
        };
        let changed = edit.clone();
        assert!(
            w(store, move |tx| Box::pin(async move { tx.edit_reply(id, &changed).await })).await
        );
        let after = r(store, move |db| db.queued_reply(id)).await.unwrap();
        assert_eq!(after.reply.body, edit.body.as_str());
        assert_eq!(after.reply.status, ReplyStatus::Pending);
        assert_eq!(after.held_reason, "3 links (more than 2)");
        assert_eq!(after.reply.edited_at, Some(70));
        assert_eq!(after.reply.created_at, 10, "posted when it was posted");
        let shown =
            r(store, move |db| Box::pin(async move { db.replies_by_ids(story, &[id]).await }))
                .await;
        assert_eq!(shown[0].edited_at, Some(70), "pages see the mark");
        assert!(
            !w(store, move |tx| Box::pin(
                async move { tx.edit_reply(ReplyId(9_999), &edit).await }
            ))
            .await
        );

        assert!(w(store, move |tx| tx.withdraw_reply(id)).await);
        let gone = r(store, move |db| db.queued_reply(id)).await.unwrap();
        assert_eq!(gone.reply.status, ReplyStatus::Trash);
        assert_eq!(gone.held_reason, "deleted by its poster");
        assert!(!w(store, |tx| tx.withdraw_reply(ReplyId(9_999))).await);
    }

    pub async fn defenses_look_up_recent_replies(store: &Store, _: Backend) {
        let jo = author(store, "Jo").await;
        let id = insert(store, article("story", jo.id, 1)).await.unwrap();
        for at in [100, 150, 160] {
            add_reply(store, reply(id, None, ReplyStatus::Pending, at)).await;
        }
        assert_eq!(r(store, |db| db.replies_from_ip_since("192.0.2.1", 150)).await, 2);
        assert_eq!(r(store, |db| db.replies_from_ip_since("192.0.2.1", 0)).await, 3);
        assert_eq!(r(store, |db| db.replies_from_ip_since("198.51.100.1", 0)).await, 0);
        // Counted under the address's lock, in a unit of work.
        let count = w(store, |tx| {
            Box::pin(async move {
                tx.lock_replies_from("192.0.2.1").await?;
                tx.replies_from_ip_since("192.0.2.1", 0).await
            })
        });
        assert_eq!(count.await, 3);
        // Addresses are kept for a while only.
        assert_eq!(w(store, |tx| tx.erase_reply_ips(151)).await, 2);
        assert_eq!(r(store, |db| db.replies_from_ip_since("192.0.2.1", 0)).await, 1);
        assert_eq!(w(store, |tx| tx.erase_reply_ips(151)).await, 0, "erased once");
        let duplicate = |article: ArticleId, email: &'static str, body: &'static str, since| {
            r(store, move |db| db.duplicate_reply(article, email, body, since))
        };
        assert!(duplicate(id, "READER@example.com", "Text", 100).await);
        assert!(!duplicate(id, "reader@example.com", "Text", 161).await, "too old");
        assert!(!duplicate(id, "reader@example.com", "Other", 0).await);
        assert!(!duplicate(ArticleId(id.get() + 1), "reader@example.com", "Text", 0).await);
        assert!(!duplicate(id, "other@example.com", "Text", 0).await);
    }

    async fn search(store: &Store, query: &str, offset: u64, limit: u64) -> (Vec<SearchHit>, u64) {
        let language = byline::domain::search::Language::default();
        let query = byline::domain::search::Query::parse(query, &language);
        r(store, move |db| Box::pin(async move { db.search(&query, offset, limit).await })).await
    }

    pub async fn search_finds_published_articles(store: &Store, _: Backend) {
        let jo = author(store, "Jo").await;
        let write = |slug: &str, headline: &str, body: &str, at: i64| {
            let mut a = article(slug, jo.id, at);
            a.fields.headline = typed::headline(headline);
            a.fields.body_markdown = body.into();
            a.fields.body_html = byline::domain::text::markdown_html(body);
            a
        };
        let in_body = insert(store, write("a", "Council budget", "The ferry will run later.", 1))
            .await
            .unwrap();
        let in_headline =
            insert(store, write("b", "Ferry timetable changes", "Nothing else.", 2)).await.unwrap();
        let east =
            insert(store, write("c", "東京の朝", "Москва и 東京 — репортаж.", 3)).await.unwrap();
        let draft = insert(
            store,
            NewArticle { status: ArticleStatus::Draft, ..write("d", "Ferry draft", "x", 4) },
        )
        .await
        .unwrap();
        let ids = |hits: &[SearchHit]| ids_of(hits, |h| h.article.id);

        let (hits, total) = search(store, "ferry", 0, 10).await;
        assert_eq!(total, 2);
        assert_eq!(
            ids(&hits),
            [in_headline, in_body],
            "a headline match ranks first; drafts never show"
        );
        let body_hit = hits.iter().find(|h| h.article.id == in_body).unwrap();
        assert!(body_hit.text.contains("The ferry will run later."), "{:?}", body_hit.text);
        assert_eq!(
            search(store, "FERR", 0, 10).await.0.len(),
            2,
            "prefixes match, whatever the case"
        );
        assert_eq!(
            ids(&search(store, "ferry timetable", 0, 10).await.0),
            [in_headline],
            "every term"
        );
        let (hits, total) = search(store, "ferry", 1, 1).await;
        assert_eq!((ids(&hits), total), (vec![in_body], 2));
        assert_eq!(ids(&search(store, "москва", 0, 10).await.0), [east]);
        for cjk in ["東京", "東京の朝", "朝"] {
            let (hits, _) = search(store, cjk, 0, 10).await;
            assert_eq!(ids(&hits), [east], "{cjk}");
            if cjk == "東京" {
                assert!(hits[0].text.contains("東京"), "{:?}", hits[0].text);
            }
        }
        assert_eq!(search(store, "", 0, 10).await, (Vec::new(), 0));
        assert_eq!(search(store, "zebra", 0, 10).await.1, 0);

        // Stems, folded diacritics, sections and tags: the same finds on both backends.
        assert_eq!(ids(&search(store, "ferries", 0, 10).await.0), [in_headline, in_body]);
        let harbour_tag = w(store, |tx| {
            Box::pin(async move {
                tx.find_or_create_tags(&[("Harbour works".into(), "harbour-works".into())]).await
            })
        })
        .await;
        let (transport, _) =
            w(store, |tx| tx.find_or_create_section("Transport", "transport")).await;
        let mut tagged = write("e", "Mr Wróbel’s boats", "He sails at dawn.", 5);
        tagged.fields.tag_ids = vec![harbour_tag[0].id];
        tagged.fields.section_id = Some(transport.id);
        let tagged = insert(store, tagged).await.unwrap();
        for query in ["wrobel", "WRÓBEL", "boat", "harbour", "transport", "sailing"] {
            assert_eq!(ids(&search(store, query, 0, 10).await.0), [tagged], "{query}");
        }

        // Kept in step: replies (which bump the reply count) change nothing; an edit, an
        // unpublish and a publish show at once.
        add_reply(store, reply(in_body, None, ReplyStatus::Approved, 5)).await;
        assert_eq!(r(store, move |db| db.article(in_body)).await.unwrap().reply_count, 1);
        assert_eq!(search(store, "ferry", 0, 10).await.1, 2);
        let edited = ArticleFields { body_markdown: "No boats now.".into(), ..fields("a", jo.id) };
        w(store, move |tx| Box::pin(async move { tx.update_article(in_body, &edited, 5).await }))
            .await;
        assert_eq!(ids(&search(store, "ferry", 0, 10).await.0), [in_headline]);
        w(store, move |tx| {
            tx.set_article_status(in_headline, ArticleStatus::Draft, Some("2026/11/24"), Some(2), 6)
        })
        .await;
        assert!(search(store, "ferry", 0, 10).await.0.is_empty());
        w(store, move |tx| {
            tx.set_article_status(draft, ArticleStatus::Published, Some("2026/11/24"), Some(4), 7)
        })
        .await;
        assert_eq!(ids(&search(store, "ferry", 0, 10).await.0), [draft]);

        // Articles saved before their readable text was kept get it filled in, a batch at a
        // time; search then finds their bodies.
        w(store, |tx| {
            let sql = "UPDATE articles SET body_text = '', search_body = ''";
            Box::pin(async move { tx.execute(sql, &[]).await })
        })
        .await;
        assert_eq!(search(store, "москва", 0, 10).await.1, 0, "the body is not searched yet");
        let mut after = 0;
        let mut batches = 0;
        while let Some(last) = w(store, move |tx| tx.fill_body_text(after, 2)).await {
            (after, batches) = (last, batches + 1);
        }
        assert_eq!(batches, 3, "five articles, two a batch");
        assert_eq!(ids(&search(store, "москва", 0, 10).await.0), [east]);
    }

    pub async fn nodes_hear_of_changes(store: &Store, backend: Backend) {
        let mut changes = store.changes();
        let wait = std::time::Duration::from_secs(5);
        match backend {
            Backend::Sqlite => {
                // One process owns the file: an announcement goes nowhere, and this process's
                // own commits are no news to it...
                store.announce("/2026/11/24/story/").await.unwrap();
                w(store, |tx| tx.register_handler("h", 1)).await;
                tokio::time::sleep(std::time::Duration::from_millis(600)).await;
                assert!(changes.try_recv().is_err(), "own commits are not announced");
            }
            Backend::Postgres => {
                // The first news is the listening connection coming up.
                tokio::time::timeout(wait, changes.recv()).await.expect("listening").unwrap();
                // Its own announcements are no news to this process; another's are.
                store.announce("/2026/11/24/mine/").await.unwrap();
                let other = "SELECT pg_notify('byline_changes.' || current_schema(), $1)";
                let payload = "another node\n/2026/11/24/story/";
                r(store, move |db| {
                    Box::pin(async move { db.query(other, &[payload.into()]).await.map(drop) })
                })
                .await;
                let heard = tokio::time::timeout(wait, changes.recv()).await.expect("heard");
                assert_eq!(heard.unwrap(), "/2026/11/24/story/");
            }
        }
    }

    pub async fn no_page_query_scans_a_table(store: &Store, backend: Backend) {
        let plans = w(store, |tx| tx.explain_page_queries()).await;
        assert!(plans.len() >= 20, "every query of the page path is checked");
        for (name, lines) in plans {
            assert!(!lines.is_empty(), "{name}: no plan");
            for line in &lines {
                let scans = match backend {
                    // SQLite says SCAN for a full pass over a table (a temporary B-tree for
                    // ORDER BY is not one, nor is a scan of json_each's list of ids).
                    Backend::Sqlite => {
                        line.starts_with("SCAN ")
                            && !line.contains("CONSTANT ROW")
                            && !line.contains("json_each")
                    }
                    Backend::Postgres => line.contains("Seq Scan"),
                };
                assert!(!scans, "{name} scans a table:\n{}", lines.join("\n"));
            }
        }
    }

    pub async fn a_scheduled_article_is_published_once(store: &Store, _: Backend) {
        let jo = author(store, "Jo").await;
        let mut scheduled = article("later", jo.id, 100);
        scheduled.status = ArticleStatus::Scheduled;
        scheduled.date_path = None;
        let id = insert(store, scheduled).await.unwrap();
        let (first, second) = tokio::join!(
            w(store, move |tx| tx.publish_scheduled(id, "2026/11/25", 100, 200)),
            w(store, move |tx| tx.publish_scheduled(id, "2026/11/25", 100, 201)),
        );
        assert_eq!([first, second].iter().filter(|done| **done).count(), 1);
        let published = r(store, move |db| db.article(id)).await.unwrap();
        assert_eq!(published.status, ArticleStatus::Published);
        assert_eq!(published.date_path.as_deref(), Some("2026/11/25"));
        assert!(
            !w(store, move |tx| tx.publish_scheduled(id, "2026/11/26", 100, 300)).await,
            "not twice"
        );
    }

    pub async fn listings_of_sections_tags_and_authors(store: &Store, _: Backend) {
        let jo = author(store, "Jo").await;
        let ann = author(store, "Ann").await;
        let local = w(store, |tx| tx.find_or_create_section("Local", "local")).await.0;
        let sport = w(store, |tx| tx.find_or_create_section("Sport", "sport")).await.0;
        let pairs = vec![("Ferries".into(), "ferries".into()), ("Rugby".into(), "rugby".into())];
        let tags =
            w(store, move |tx| Box::pin(async move { tx.find_or_create_tags(&pairs).await })).await;
        let with = |slug: &str, at: i64, section: &Section, tag: &Tag, author: AuthorId| {
            let mut a = article(slug, author, at);
            a.fields.section_id = Some(section.id);
            a.fields.tag_ids = vec![tag.id];
            a.fields.word_count = at;
            a
        };
        let ferry = insert(store, with("ferry", 10, &local, &tags[0], jo.id)).await.unwrap();
        let bridge = insert(store, with("bridge", 20, &local, &tags[1], ann.id)).await.unwrap();
        let match_ = insert(store, with("match", 30, &sport, &tags[0], jo.id)).await.unwrap();
        let mut hidden = with("draft", 40, &local, &tags[0], jo.id);
        hidden.status = ArticleStatus::Draft;
        insert(store, hidden).await.unwrap();
        let ids = |found: &[ArticleSummary]| ids_of(found, |a| a.id);
        let listing =
            |l: Listing, offset, limit| r(store, move |db| db.published_in(l, offset, limit));

        let (found, total) = listing(Listing::Section(local.id), 0, 10).await;
        assert_eq!((ids(&found), total), (vec![bridge, ferry], 2), "newest first, drafts left out");
        let (found, total) = listing(Listing::Tag(tags[0].id), 0, 1).await;
        assert_eq!((ids(&found), total), (vec![match_], 2));
        let (found, _) = listing(Listing::Author(jo.id), 1, 10).await;
        assert_eq!(ids(&found), [ferry]);
        let (found, _) = listing(Listing::Author(jo.id), 0, 10).await;
        assert_eq!(found[0].word_count, 30);
        // A date archive: from its start, up to (not including) its end.
        let (found, total) = listing(Listing::Dates { from: 10, until: 30 }, 0, 10).await;
        assert_eq!((ids(&found), total), (vec![bridge, ferry], 2));
        let (found, total) = listing(Listing::Dates { from: 11, until: 100 }, 1, 1).await;
        assert_eq!((ids(&found), total), (vec![bridge], 2), "drafts left out, paged");

        // Same section or a shared tag; never itself; newest first.
        assert_eq!(
            ids(&r(store, move |db| db.related_articles(ferry, 10)).await),
            [match_, bridge]
        );
        assert_eq!(ids(&r(store, move |db| db.related_articles(match_, 10)).await), [ferry]);
        assert_eq!(ids(&r(store, move |db| db.related_articles(ferry, 1)).await), [match_]);

        assert_eq!(r(store, |db| db.section_by_slug("sport")).await, Some(sport));
        assert_eq!(r(store, |db| db.section_by_slug("nope")).await, None);
        assert_eq!(r(store, |db| db.tag_by_slug("rugby")).await, Some(tags[1].clone()));
        assert_eq!(r(store, |db| db.tag_by_slug("nope")).await, None);
        let ann_id = ann.id;
        assert_eq!(r(store, move |db| db.author(ann_id)).await, Some(ann));
        assert_eq!(r(store, |db| db.author(AuthorId(9_999))).await, None);
    }

    fn draft(slug: &str, author: AuthorId) -> NewArticle {
        NewArticle {
            fields: fields(slug, author),
            status: ArticleStatus::Draft,
            date_path: None,
            published_at: None,
            created_at: 50,
        }
    }

    pub async fn the_newsroom_list_filters(store: &Store, _: Backend) {
        let jo = author(store, "Jo").await;
        let ann = author(store, "Ann").await;
        let politics = w(store, |tx| tx.find_or_create_section("Politics", "politics")).await.0;
        let mut budget = draft("budget", jo.id);
        budget.fields.headline = typed::headline("Council Approves 50% Budget");
        budget.fields.section_id = Some(politics.id);
        budget.fields.author_ids = vec![jo.id, ann.id];
        let budget = insert(store, budget).await.unwrap();
        let ferry = insert(store, article("ferry", ann.id, 60)).await.unwrap();
        let list = |q: ArticleQuery| {
            r(store, move |db| Box::pin(async move { db.list_articles(&q).await }))
        };
        let query = |q: ArticleQuery| async move {
            let (found, total) = list(ArticleQuery { limit: 10, ..q }).await;
            assert_eq!(found.len() as u64, total);
            ids_of(&found, |a| a.id)
        };
        let mut all = query(ArticleQuery::default()).await;
        all.sort_unstable();
        assert_eq!(all, [budget, ferry]);
        assert_eq!(
            query(ArticleQuery { status: Some(ArticleStatus::Draft), ..Default::default() }).await,
            [budget]
        );
        assert_eq!(
            query(ArticleQuery { author_id: Some(jo.id), ..Default::default() }).await,
            [budget]
        );
        let mut by_ann =
            query(ArticleQuery { author_id: Some(ann.id), ..Default::default() }).await;
        by_ann.sort_unstable();
        assert_eq!(by_ann, [budget, ferry]);
        assert_eq!(
            query(ArticleQuery { section_id: Some(politics.id), ..Default::default() }).await,
            [budget]
        );
        for words in ["council", "APPROVES", "50%"] {
            let search = ArticleQuery { headline: Some(words.into()), ..Default::default() };
            assert_eq!(query(search).await, [budget], "{words}");
        }
        let percent = ArticleQuery { headline: Some("%".into()), ..Default::default() };
        assert_eq!(query(percent).await, [budget], "% is a literal");
        let (page, total) = list(ArticleQuery { limit: 1, offset: 1, ..Default::default() }).await;
        assert_eq!((page.len(), total), (1, 2));
        let (found, _) = list(ArticleQuery { limit: 10, ..Default::default() }).await;
        let listed = found.iter().find(|a| a.id == budget).unwrap();
        assert_eq!(listed.author_names, ["Jo", "Ann"]);
        assert_eq!(listed.section_name.as_deref(), Some("Politics"));
        assert_eq!(listed.status, ArticleStatus::Draft);

        // Sorted by any column, either way, alike on both backends.
        add_reply(store, reply(ferry, None, ReplyStatus::Approved, 61)).await;
        let sorted = |sort: ArticleSort, descending: bool| {
            query(ArticleQuery { sort, descending, ..Default::default() })
        };
        for (sort, ascending) in [
            (ArticleSort::Headline, [budget, ferry]),
            (ArticleSort::Status, [budget, ferry]),
            (ArticleSort::Byline, [ferry, budget]),
            (ArticleSort::Section, [ferry, budget]),
            (ArticleSort::Published, [budget, ferry]),
            (ArticleSort::Replies, [budget, ferry]),
        ] {
            assert_eq!(sorted(sort, false).await, ascending, "{sort:?}");
            assert_eq!(sorted(sort, true).await, [ascending[1], ascending[0]], "{sort:?} desc");
        }
        assert_eq!(ArticleSort::parse("replies"), Some(ArticleSort::Replies));
        assert_eq!(ArticleSort::parse("id; DROP"), None);

        // The dashboard's most replied-to: published articles, by replies since a time.
        add_reply(store, reply(ferry, None, ReplyStatus::Approved, 100)).await;
        add_reply(store, reply(ferry, None, ReplyStatus::Pending, 100)).await;
        let most = r(store, |db| db.most_replied_since(90, 5)).await;
        assert_eq!(most.iter().map(|(a, n)| (a.id, *n)).collect::<Vec<_>>(), [(ferry, 1)]);
        assert_eq!(r(store, |db| db.most_replied_since(0, 5)).await[0].1, 2);
        assert!(r(store, |db| db.most_replied_since(101, 5)).await.is_empty());
    }

    pub async fn articles_are_edited_and_change_status(store: &Store, _: Backend) {
        let jo = author(store, "Jo").await;
        let ann = author(store, "Ann").await;
        let id = insert(store, draft("draft", jo.id)).await.unwrap();
        let found = r(store, move |db| db.article(id)).await.unwrap();
        assert_eq!(found.status, ArticleStatus::Draft);
        assert_eq!((found.date_path, found.published_at), (None, None));
        assert!(article_named(store, "draft").await.is_none(), "drafts are not public");

        let pairs = vec![("Ferries".into(), "ferries".into()), ("Budget".into(), "budget".into())];
        let tags =
            w(store, move |tx| Box::pin(async move { tx.find_or_create_tags(&pairs).await })).await;
        let section = w(store, |tx| tx.find_or_create_section("Local", "local")).await.0;
        let mut edit = fields("edited", ann.id);
        edit.author_ids = vec![ann.id, jo.id];
        edit.tag_ids = tags.iter().map(|t| t.id).collect();
        edit.section_id = Some(section.id);
        edit.image = Some(Image {
            url: "https://img.example/a.jpg".into(),
            caption: "Cap".into(),
            alt: "Alt".into(),
            media: None,
        });
        edit.replies_open = false;
        let update = |id: ArticleId, f: ArticleFields, at: i64| {
            store.write(move |tx| Box::pin(async move { tx.update_article(id, &f, at).await }))
        };
        update(id, edit.clone(), 70).await.unwrap();
        let found = r(store, move |db| db.article(id)).await.unwrap();
        assert_eq!(found.slug, "edited");
        assert_eq!(ids_of(&found.authors, |a| a.name.clone()), ["Ann", "Jo"]);
        assert_eq!(ids_of(&found.tags, |t| t.name.clone()), ["Budget", "Ferries"]);
        assert_eq!(found.section, Some(section));
        assert_eq!(found.image, edit.image);
        assert!(!found.replies_open);
        assert_eq!(found.updated_at, 70);
        let other = insert(store, draft("other", jo.id)).await.unwrap();
        let clash = update(other, fields("edited", jo.id), 71).await;
        assert!(matches!(clash, Err(StoreError::Conflict(_))), "{clash:?}");
        assert!(matches!(update(ArticleId(9_999), edit, 1).await, Err(StoreError::NotFound(_))));

        w(store, move |tx| {
            tx.set_article_status(id, ArticleStatus::Scheduled, None, Some(500), 72)
        })
        .await;
        assert!(r(store, |db| db.due_articles(499)).await.is_empty());
        let due = r(store, |db| db.due_articles(500)).await;
        assert_eq!(ids_of(&due, |a| a.id), [id]);
        assert_eq!(due[0].tags.len(), 2, "due articles come whole");
        w(store, move |tx| {
            tx.set_article_status(id, ArticleStatus::Published, Some("2026/11/25"), Some(500), 73)
        })
        .await;
        assert!(r(store, |db| db.due_articles(10_000)).await.is_empty());
        let public = article_named(store, "edited").await.unwrap();
        assert_eq!(public.date_path.as_deref(), Some("2026/11/25"));
        assert_eq!(public.published_at, Some(500));
        w(store, move |tx| {
            tx.set_article_status(id, ArticleStatus::Draft, Some("2026/11/25"), Some(500), 74)
        })
        .await;
        assert!(article_named(store, "edited").await.is_none());
        assert_eq!(
            r(store, move |db| db.article(id)).await.unwrap().date_path.as_deref(),
            Some("2026/11/25")
        );
        assert!(r(store, |db| db.article(ArticleId(9_999))).await.is_none());
    }

    pub async fn old_slugs_redirect(store: &Store, _: Backend) {
        let jo = author(store, "Jo").await;
        let id = insert(store, article("new-slug", jo.id, 1)).await.unwrap();
        assert_eq!(r(store, |db| db.slug_redirect("old-slug")).await, None);
        w(store, move |tx| tx.add_slug_redirect("old-slug", id)).await;
        w(store, move |tx| tx.add_slug_redirect("old-slug", id)).await;
        assert_eq!(r(store, |db| db.slug_redirect("old-slug")).await, Some(id));
        assert!(r(store, |db| db.slug_exists("old-slug")).await, "an old slug is not free");
        // Taking the old slug back removes its redirect.
        let back = fields("old-slug", jo.id);
        w(store, move |tx| Box::pin(async move { tx.update_article(id, &back, 2).await })).await;
        assert_eq!(r(store, |db| db.slug_redirect("old-slug")).await, None);
    }

    pub async fn imports_are_mapped_and_old_addresses_kept(store: &Store, _: Backend) {
        let jo = author(store, "Jo").await;
        let id = insert(store, article("story", jo.id, 1)).await.unwrap();
        let ids = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<String>>();
        let asked = ids(&["12", "13", "x'\"]"]);
        let none = r(store, {
            let asked = asked.clone();
            move |db| Box::pin(async move { db.imported("wordpress:a", "article", &asked).await })
        })
        .await;
        assert!(none.is_empty());
        w(store, move |tx| {
            Box::pin(async move {
                tx.map_import("wordpress:a", "article", "12", id.get()).await?;
                tx.map_import("wordpress:a", "article", "12", 999).await?;
                tx.map_import("wordpress:a", "article", "x'\"]", 7).await?;
                tx.map_import("wordpress:b", "article", "13", 8).await?;
                tx.add_url_redirect("/?p=12", "/2026/11/24/story/").await?;
                tx.add_url_redirect("/?p=12", "/elsewhere/").await
            })
        })
        .await;
        let mut found = r(store, move |db| {
            Box::pin(async move { db.imported("wordpress:a", "article", &asked).await })
        })
        .await;
        found.sort();
        assert_eq!(
            found,
            vec![("12".to_owned(), id.get()), ("x'\"]".to_owned(), 7)],
            "the first wins"
        );
        assert_eq!(
            r(store, |db| db.url_redirect("/?p=12")).await.as_deref(),
            Some("/2026/11/24/story/")
        );
        assert_eq!(r(store, |db| db.url_redirect("/?p=13")).await, None);
        // A page that moved sends its old address to the new one, whatever it said before.
        w(store, |tx| tx.set_url_redirect("/?p=12", "/moved/")).await;
        w(store, |tx| tx.set_url_redirect("/new/", "/moved/")).await;
        assert_eq!(r(store, |db| db.url_redirect("/?p=12")).await.as_deref(), Some("/moved/"));
        assert_eq!(r(store, |db| db.url_redirect("/new/")).await.as_deref(), Some("/moved/"));
        w(store, |tx| tx.retarget_url_redirects("/moved/", "/last/")).await;
        assert_eq!(r(store, |db| db.url_redirect("/new/")).await.as_deref(), Some("/last/"));
        w(store, |tx| tx.remove_url_redirect("/new/")).await;
        assert_eq!(r(store, |db| db.url_redirect("/new/")).await, None);
        assert_eq!(r(store, |db| db.url_redirect("/?p=12")).await.as_deref(), Some("/last/"));

        let reply = ImportedReply {
            article_id: id,
            parent_id: None,
            author_name: "A name longer than readers may use, as the old site allowed it".repeat(3),
            author_email: String::new(),
            author_url: None,
            body: "Imported".into(),
            status: ReplyStatus::Approved,
            ip: None,
            author_id: Some(jo.id),
            created_at: 5,
            link_back: false,
        };
        let stored = w(store, {
            let reply = reply.clone();
            move |tx| Box::pin(async move { tx.insert_imported_reply(&reply).await })
        })
        .await;
        let read = r(store, move |db| db.reply(stored)).await.unwrap();
        assert_eq!(read.author_name, reply.author_name);
        assert!(read.staff, "an imported author's reply carries the staff badge");
        assert!(!r(store, |db| db.has_approved_reply_from("")).await, "no email vouches for none");
        let orphan = ImportedReply { article_id: ArticleId(id.get() + 100), ..reply };
        let missing = store
            .write(move |tx| Box::pin(async move { tx.insert_imported_reply(&orphan).await }))
            .await;
        assert!(missing.is_err(), "a reply needs its article");
    }

    fn page_fields(parent: Option<PageId>, slug: &str, path: &str, published: bool) -> PageFields {
        PageFields {
            parent_id: parent,
            slug: slug.into(),
            path: path.into(),
            title: format!("Title of {path} — \u{202e}bidi\u{202c} 🧭"),
            body_markdown: "Body".into(),
            body_html: "<p>Body</p>".into(),
            published,
            footer_position: None,
            replies_open: false,
        }
    }

    pub async fn bodies_are_rendered_again_from_their_sources(store: &Store, _: Backend) {
        let jo = author(store, "Jo").await;
        let mut ids = Vec::new();
        for slug in ["one", "two", "three"] {
            let mut new = article(slug, jo.id, 1);
            new.fields.body_markdown = format!("# Body of {slug}");
            ids.push(insert(store, new).await.unwrap());
        }
        let first = r(store, |db| db.article_sources(0, 2)).await;
        assert_eq!(
            first,
            [(ids[0], "# Body of one".to_owned()), (ids[1], "# Body of two".to_owned())]
        );
        let (second, third) = (ids[1].get(), ids[2].get());
        let rest = r(store, move |db| db.article_sources(second, 2)).await;
        assert_eq!(rest, [(ids[2], "# Body of three".to_owned())]);
        assert!(r(store, move |db| db.article_sources(third, 2)).await.is_empty());

        let id = ids[0];
        w(store, move |tx| {
            Box::pin(async move { tx.set_body_html(id, "<h2>Body of one</h2>").await })
        })
        .await;
        let one = r(store, move |db| db.article(id)).await.unwrap();
        assert_eq!(one.body_html, "<h2>Body of one</h2>");
        assert_eq!(one.body_markdown, "# Body of one", "the source is left alone");

        let about = page_fields(None, "about", "about", true);
        let page =
            w(store, move |tx| Box::pin(async move { tx.insert_page(&about, 10).await })).await;
        w(store, move |tx| {
            Box::pin(async move { tx.set_page_body_html(page, "<h2>About</h2>").await })
        })
        .await;
        let read = r(store, move |db| db.page(page)).await.unwrap();
        assert_eq!(read.body_html, "<h2>About</h2>");
    }

    pub async fn pages_nest_and_keep_their_revisions(store: &Store, _: Backend) {
        w(store, |tx| tx.lock_pages()).await;
        let about = page_fields(None, "about", "about", true);
        let about_id =
            w(store, move |tx| Box::pin(async move { tx.insert_page(&about, 10).await })).await;
        let team = page_fields(Some(about_id), "team", "about/team", true);
        let team_id =
            w(store, move |tx| Box::pin(async move { tx.insert_page(&team, 11).await })).await;
        let mut plans = page_fields(None, "plans", "plans", false);
        plans.footer_position = Some(1);
        let plans_id =
            w(store, move |tx| Box::pin(async move { tx.insert_page(&plans, 12).await })).await;
        let taken = page_fields(None, "about", "about", true);
        let clash =
            store.write(move |tx| Box::pin(async move { tx.insert_page(&taken, 13).await })).await;
        assert!(matches!(clash, Err(StoreError::Conflict(_))), "one page at an address");

        let read = r(store, |db| db.page_at("about/team")).await.unwrap();
        assert_eq!((read.id, read.parent_id, read.created_at), (team_id, Some(about_id), 11));
        assert_eq!(read.title, "Title of about/team — \u{202e}bidi\u{202c} 🧭");
        assert_eq!(read.public_path(), "/about/team/");
        assert_eq!(r(store, move |db| db.page(about_id)).await.unwrap().slug, "about");
        let paths = |pages: Vec<Page>| pages.into_iter().map(|p| p.path).collect::<Vec<_>>();
        let near = page_fields(None, "about-us", "about-us", false);
        w(store, move |tx| Box::pin(async move { tx.insert_page(&near, 12).await })).await;
        // A parent just before its children, whatever `-` sorts as.
        assert_eq!(
            paths(r(store, |db| db.pages()).await),
            ["about", "about/team", "about-us", "plans"]
        );
        assert_eq!(paths(r(store, |db| db.published_pages()).await), ["about", "about/team"]);
        assert!(r(store, |db| db.footer_pages()).await.is_empty(), "a draft is in no footer");

        // A new slug moves the children with it; the footer takes pages in their order.
        let mut moved = page_fields(None, "who", "who", true);
        moved.footer_position = Some(2);
        w(store, move |tx| Box::pin(async move { tx.update_page(about_id, &moved, 20).await }))
            .await;
        assert_eq!(
            paths(r(store, |db| db.pages()).await),
            ["about-us", "plans", "who", "who/team"],
            "the child moved with its parent; `about-us` did not"
        );
        let mut first = page_fields(Some(about_id), "team", "who/team", true);
        first.footer_position = Some(1);
        w(store, move |tx| Box::pin(async move { tx.update_page(team_id, &first, 21).await }))
            .await;
        let footer = r(store, |db| db.footer_pages()).await;
        let links: Vec<&str> = footer.iter().map(|l| l.path.as_str()).collect();
        assert_eq!(links, ["/who/team/", "/who/"]);

        for n in [1, 2] {
            let revision = PageRevision {
                id: PageRevisionId(0),
                page_id: about_id,
                user_id: None,
                created_at: n,
                title: format!("T{n}"),
                slug: "about".into(),
                parent_id: None,
                body_markdown: format!("B{n}"),
            };
            w(store, move |tx| Box::pin(async move { tx.insert_page_revision(&revision).await }))
                .await;
        }
        let revisions = r(store, move |db| db.page_revisions(about_id)).await;
        assert_eq!(revisions.iter().map(|r| r.created_at).collect::<Vec<_>>(), [2, 1]);
        let oldest = revisions[1].id;
        let found = r(store, move |db| db.page_revision(about_id, oldest)).await.unwrap();
        assert_eq!(found.body_markdown, "B1");
        assert_eq!(r(store, move |db| db.page_revision(team_id, oldest)).await, None);

        // A page's replies hang on an article row no newsroom list shows.
        let jo = author(store, "Jo").await;
        let article = insert(store, draft("page-3-replies", jo.id)).await.unwrap();
        w(store, move |tx| tx.set_page_discussion(plans_id, article)).await;
        w(store, move |tx| tx.sync_discussion(article, true, "Plans")).await;
        assert_eq!(r(store, |db| db.page_reply_target("plans")).await, None, "a draft takes none");
        let mut open = page_fields(None, "plans", "plans", true);
        open.replies_open = true;
        w(store, move |tx| Box::pin(async move { tx.update_page(plans_id, &open, 30).await }))
            .await;
        let target = r(store, |db| db.page_reply_target("plans")).await.unwrap();
        assert_eq!((target.id, target.replies_open), (article, true));
        let shown_at = r(store, move |db| db.page_of_discussion(article)).await;
        assert_eq!(shown_at.as_deref(), Some("plans"));
        assert_eq!(r(store, move |db| db.page_of_discussion(ArticleId(999))).await, None);
        let read = r(store, move |db| db.article(article)).await.unwrap();
        assert_eq!(read.headline, "Plans");
        let (listed, total) = r(store, |db| {
            Box::pin(async move {
                db.list_articles(&ArticleQuery { limit: 10, ..Default::default() }).await
            })
        })
        .await;
        assert!(listed.iter().all(|a| a.id != article) && total == 0, "not an article to staff");
        assert!(!w(store, move |tx| tx.delete_page(plans_id)).await, "its replies keep it");

        // A page with pages under it stays; one without goes, with its revisions and its map.
        assert!(!w(store, move |tx| tx.delete_page(about_id)).await);
        w(store, move |tx| tx.map_import("wordpress:a", "page", "41", team_id.get())).await;
        assert!(w(store, move |tx| tx.delete_page(team_id)).await);
        assert_eq!(r(store, move |db| db.page(team_id)).await, None);
        let asked = vec!["41".to_owned()];
        let mapped = r(store, move |db| {
            Box::pin(async move { db.imported("wordpress:a", "page", &asked).await })
        })
        .await;
        assert!(mapped.is_empty(), "a later import brings it back");
        assert!(w(store, move |tx| tx.delete_page(about_id)).await);
        assert!(r(store, move |db| db.page_revisions(about_id)).await.is_empty());
        assert!(!w(store, move |tx| tx.delete_page(about_id)).await, "gone already");
    }

    pub async fn import_jobs_are_run_by_one_node_at_a_time(store: &Store, _: Backend) {
        let new = |format: &str, name: &str| NewImportJob {
            format: format.into(),
            file_name: name.into(),
            dry_run: true,
            ..NewImportJob::default()
        };
        let first = new("wordpress", "site.xml");
        let job =
            w(store, move |tx| Box::pin(async move { tx.create_import_job(&first, 100).await }))
                .await;
        let bytes: Vec<u8> = (0..=255u8).collect();
        for seq in 0..3 {
            let data = bytes.clone();
            w(store, move |tx| {
                Box::pin(async move { tx.add_import_chunk(job, seq, &data, 101).await })
            })
            .await;
        }
        assert_eq!(r(store, move |db| db.import_chunk(job, 2)).await, Some(bytes.clone()));
        assert_eq!(r(store, move |db| db.import_chunk(job, 3)).await, None);
        assert_eq!(
            w(store, |tx| tx.claim_import_job("a", 102, 160)).await,
            None,
            "still uploading"
        );
        w(store, move |tx| tx.finish_upload(job, 768, 102)).await;

        let claimed = w(store, |tx| tx.claim_import_job("a", 103, 160)).await.unwrap();
        assert_eq!((claimed.id, claimed.state, claimed.attempts), (job, JobState::Running, 1));
        assert_eq!(claimed.runner.as_deref(), Some("a"));
        assert_eq!(
            w(store, |tx| tx.claim_import_job("b", 150, 210)).await,
            None,
            "a's lease holds"
        );
        let progress =
            JobProgress { items_done: 5, items_total: 10, replies_done: 7, replies_total: 9 };
        assert!(w(store, move |tx| tx.renew_import_job(job, "a", progress, 200, 150)).await);
        assert!(!w(store, move |tx| tx.renew_import_job(job, "b", progress, 200, 150)).await);
        // a stops; once its lease has run out, b takes the job over.
        let taken = w(store, |tx| tx.claim_import_job("b", 201, 260)).await.unwrap();
        assert_eq!((taken.runner.as_deref(), taken.attempts, taken.items_done), (Some("b"), 2, 5));
        assert!(!w(store, move |tx| tx.renew_import_job(job, "a", progress, 300, 202)).await);

        let lost =
            w(store, move |tx| tx.end_import_job(job, "a", JobState::Done, Some("{}"), None, 210))
                .await;
        assert!(!lost, "a lost the job: it ends nothing");
        let ended =
            w(store, move |tx| tx.end_import_job(job, "b", JobState::Done, Some("{}"), None, 210))
                .await;
        assert!(ended);
        let done = r(store, move |db| db.import_job(job)).await.unwrap();
        assert_eq!(
            (done.state, done.summary.as_deref(), done.file_bytes),
            (JobState::Done, Some("{}"), 768)
        );
        assert!(done.dry_run && !done.keep_pingbacks);
        assert_eq!(r(store, move |db| db.import_chunk(job, 0)).await, None, "the file goes");

        let second = new("disqus", "d.xml");
        let stale =
            w(store, move |tx| Box::pin(async move { tx.create_import_job(&second, 300).await }))
                .await;
        w(store, move |tx| Box::pin(async move { tx.add_import_chunk(stale, 0, b"x", 300).await }))
            .await;
        assert_eq!(w(store, |tx| tx.drop_stale_uploads(300)).await, 0, "not before its time");
        assert_eq!(w(store, |tx| tx.drop_stale_uploads(301)).await, 1);
        let failed = r(store, move |db| db.import_job(stale)).await.unwrap();
        assert_eq!(failed.state, JobState::Failed);
        assert_eq!(r(store, move |db| db.import_chunk(stale, 0)).await, None);
        let listed = r(store, |db| db.import_jobs(10)).await;
        assert_eq!(listed.iter().map(|j| j.id).collect::<Vec<_>>(), [stale, job]);
    }

    fn media_files(hash: &str, file_name: &str, width: u32) -> byline::store::media::MediaFileSet {
        byline::store::media::MediaFileSet {
            hash: hash.into(),
            name: "a-photo".into(),
            file_name: file_name.into(),
            format: byline::domain::media::ImageFormat::Jpeg,
            width,
            height: 600,
            bytes: 12_345,
            widths: vec![320],
        }
    }

    pub async fn the_media_library_keeps_images_and_their_uses(store: &Store, _: Backend) {
        let ann = author(store, "Ann").await;
        let first = media_files(&"a".repeat(32), "Harbour 50% ‘dawn’.jpg", 1000);
        let a = w(store, move |tx| {
            Box::pin(async move { tx.insert_media(&first, "Boats", None, 10).await })
        })
        .await;
        let second = media_files(&"b".repeat(32), "river_flood.jpg", 2000);
        let b = w(store, move |tx| {
            Box::pin(async move { tx.insert_media(&second, "", None, 11).await })
        })
        .await;
        let again = media_files(&"a".repeat(32), "copy.jpg", 1000);
        let clash = store
            .write(move |tx| Box::pin(async move { tx.insert_media(&again, "", None, 12).await }))
            .await;
        assert!(matches!(clash, Err(StoreError::Conflict(_))), "one entry for one picture");
        let found =
            r(store, |db| Box::pin(async move { db.media_with_hash(&"a".repeat(32)).await })).await;
        assert_eq!(found, Some(a));

        let read = r(store, move |db| db.media(a)).await.unwrap();
        assert_eq!(
            (read.file_name.as_str(), read.width, read.widths.as_slice()),
            ("Harbour 50% ‘dawn’.jpg", 1000, &[320][..])
        );
        assert_eq!((read.alt.as_str(), read.uses, read.created_at), ("Boats", 0, 10));
        let mut both: Vec<_> = r(store, move |db| {
            Box::pin(async move { db.media_by_ids(&[a, b, MediaId(999)]).await })
        })
        .await
        .into_iter()
        .map(|m| m.id)
        .collect();
        both.sort();
        assert_eq!(both, vec![a, b]);
        let all: Vec<MediaId> = r(store, |db| db.all_media()).await.iter().map(|m| m.id).collect();
        assert_eq!(all, vec![a, b], "every image, oldest first");

        let list = |search: Option<&str>, unused: bool| {
            let query =
                MediaQuery { search: search.map(str::to_owned), unused, limit: 10, offset: 0 };
            async move {
                let (found, total) =
                    r(store, move |db| Box::pin(async move { db.media_list(&query).await })).await;
                (found.into_iter().map(|m| m.id).collect::<Vec<_>>(), total)
            }
        };
        assert_eq!(list(None, false).await, (vec![b, a], 2), "newest first");
        // LIKE's own characters are matched as themselves, in any case.
        assert_eq!(list(Some("50%"), false).await.0, vec![a]);
        assert_eq!(list(Some("RIVER_"), false).await.0, vec![b]);
        assert_eq!(list(Some("_"), false).await.0, vec![b]);
        assert!(
            w(store, move |tx| tx.update_media_text(
                b,
                "Flooded river",
                "High water",
                "Photo: Ana",
                20
            ))
            .await
        );
        assert_eq!(list(Some("ana high"), false).await.0, vec![b]);
        assert!(!w(store, |tx| tx.update_media_text(MediaId(999), "", "", "", 1)).await);

        // Uses: an article's images, replaced with each save.
        let article = insert(store, self::article("pics", ann.id, 100)).await.unwrap();
        w(store, move |tx| {
            Box::pin(async move { tx.set_media_uses(article, &[a, b, a, MediaId(999)]).await })
        })
        .await;
        assert_eq!(r(store, move |db| db.media(a)).await.unwrap().uses, 1);
        assert_eq!(list(None, true).await.0, Vec::<MediaId>::new());
        let uses = r(store, move |db| db.media_uses(a)).await;
        assert_eq!(
            (uses.len(), uses[0].article_id, uses[0].headline.as_str()),
            (1, article, "Headline of pics")
        );
        assert_eq!(w(store, move |tx| tx.articles_showing(b)).await, vec![article]);
        assert!(!w(store, move |tx| tx.delete_media(a)).await, "an image shown stays");
        w(store, move |tx| Box::pin(async move { tx.set_media_uses(article, &[b]).await })).await;
        assert_eq!(list(None, true).await.0, vec![a]);

        // New files for the same entry; widths only for the files they were made of.
        let newer = media_files(&"c".repeat(32), "v2.jpg", 1500);
        let old = w(store, move |tx| {
            Box::pin(async move { tx.replace_media_files(b, &newer, 30).await })
        })
        .await
        .unwrap();
        assert_eq!(old.hash, "b".repeat(32));
        let now = r(store, move |db| db.media(b)).await.unwrap();
        assert_eq!(
            (now.hash, now.width, now.alt.as_str(), now.uses),
            ("c".repeat(32), 1500, "Flooded river", 1)
        );
        let widths = |hash: &'static str, made: &'static [u32]| {
            w(store, move |tx| {
                Box::pin(async move { tx.set_media_widths(b, &hash.repeat(32), made).await })
            })
        };
        assert!(!widths("b", &[320, 640]).await, "the old files' widths are not the new ones'");
        assert!(widths("c", &[320, 640, 960]).await);
        assert_eq!(r(store, move |db| db.media(b)).await.unwrap().widths, vec![320, 640, 960]);

        w(store, move |tx| tx.set_body_html(article, "<p>New <b>body</b></p>")).await;
        let read = r(store, move |db| db.article(article)).await.unwrap();
        assert_eq!(read.body_html, "<p>New <b>body</b></p>");
        assert!(w(store, move |tx| tx.delete_media(a)).await);
        assert!(r(store, move |db| db.media(a)).await.is_none());
    }

    pub async fn an_article_is_trashed_then_deleted_for_ever_with_all_that_was_its(
        store: &Store,
        _: Backend,
    ) {
        let jo = author(store, "Jo").await;
        let tags = w(store, |tx| {
            Box::pin(async move {
                tx.find_or_create_tags(&[("Ferries".into(), "ferries".into())]).await
            })
        })
        .await;
        let mut articles = Vec::new();
        for slug in ["doomed", "kept"] {
            let mut new = article(slug, jo.id, 1);
            new.fields.tag_ids = vec![tags[0].id];
            let id = insert(store, new).await.unwrap();
            let top = add_reply(store, reply(id, None, ReplyStatus::Approved, 2)).await;
            let answer = add_reply(store, reply(id, Some(top), ReplyStatus::Approved, 3)).await;
            let path = format!("/2026/11/24/{slug}/");
            let old_slug = format!("old-{slug}");
            w(store, move |tx| {
                Box::pin(async move {
                    tx.subscribe("reader@example.com", id, Some(answer), 4).await?;
                    tx.add_slug_redirect(&old_slug, id).await?;
                    tx.add_note(id, NoteKind::Correction, "Fixed.", 5).await?;
                    tx.map_import("wordpress:a", "article", &id.to_string(), id.get()).await?;
                    tx.map_import("wordpress:a", "reply", &top.to_string(), top.get()).await?;
                    tx.add_url_redirect(&format!("/?p={id}"), &path).await?;
                    let event = NewEvent::of_article(EventKind::ReplyPosted, id, Some(answer));
                    tx.record_event(&event, 6).await?;
                    Ok(())
                })
            })
            .await;
            articles.push(id);
        }
        let (doomed, kept) = (articles[0], articles[1]);

        assert!(w(store, move |tx| tx.set_trashed(doomed, Some(7))).await);
        assert_eq!(r(store, move |db| db.article(doomed)).await.unwrap().trashed_at, Some(7));
        let listed = |trashed: bool| {
            let query = ArticleQuery { trashed, limit: 10, ..Default::default() };
            r(store, move |db| Box::pin(async move { db.list_articles(&query).await }))
        };
        assert_eq!(ids_of(&listed(true).await.0, |a| a.id), [doomed], "the trash alone");
        assert_eq!(ids_of(&listed(false).await.0, |a| a.id), [kept], "the list leaves it out");
        assert!(w(store, move |tx| tx.set_trashed(doomed, None)).await);
        assert_eq!(listed(false).await.1, 2, "restored");
        assert!(!w(store, |tx| tx.set_trashed(ArticleId(9_999), Some(1))).await);

        let count = |table: Table| r(store, move |db| db.count_rows(table));
        let before: Vec<u64> = {
            let mut counts = Vec::new();
            for table in Table::ALL {
                counts.push(count(table).await);
            }
            counts
        };
        assert!(w(store, move |tx| tx.delete_article(doomed)).await);
        assert!(!w(store, move |tx| tx.delete_article(doomed)).await, "once");
        assert!(r(store, move |db| db.article(doomed)).await.is_none());
        assert!(r(store, move |db| db.revisions(doomed)).await.is_empty());
        assert!(r(store, move |db| db.notes(doomed)).await.is_empty());
        assert_eq!(r(store, |db| db.slug_redirect("old-doomed")).await, None);
        let doomed_p = format!("/?p={doomed}");
        assert_eq!(
            r(store, move |db| Box::pin(async move { db.url_redirect(&doomed_p).await })).await,
            None
        );
        assert!(r(store, |db| db.outbox_events()).await.iter().all(|e| e.article_id != doomed));
        // Exactly its rows went: the other article keeps all of its own.
        for (table, was) in Table::ALL.into_iter().zip(before) {
            let now = count(table).await;
            let expected = match table {
                Table::Articles
                | Table::SlugRedirects
                | Table::UrlRedirects
                | Table::ArticleNotes
                | Table::Subscriptions
                | Table::ArticleAuthors
                | Table::ArticleTags => was - 1,
                Table::Comments | Table::ImportMap => was - 2,
                _ => was,
            };
            assert_eq!(now, expected, "{}", table.name());
        }
        let kept_article = r(store, move |db| db.article(kept)).await.unwrap();
        assert_eq!(kept_article.reply_count, 2);
        assert_eq!(r(store, |db| db.slug_redirect("old-kept")).await, Some(kept));
    }

    pub async fn sections_and_tags_are_renamed_merged_and_deleted(store: &Store, _: Backend) {
        let jo = author(store, "Jo").await;
        let (local, _) = w(store, |tx| tx.find_or_create_section("Local", "local")).await;
        let (news, _) = w(store, |tx| tx.find_or_create_section("News", "news")).await;
        w(store, |tx| tx.find_or_create_section("Empty", "empty")).await;
        let tags = w(store, |tx| {
            Box::pin(async move {
                tx.find_or_create_tags(&[
                    ("Boats".into(), "boats".into()),
                    ("Ferries".into(), "ferries".into()),
                ])
                .await
            })
        })
        .await;
        let (boats, ferries) = (tags[0].id.get(), tags[1].id.get());
        let mut ids = Vec::new();
        for (slug, section, tag_ids) in [
            ("one", local.id, vec![tags[0].id]),
            ("two", news.id, vec![tags[0].id, tags[1].id]),
            ("three", news.id, vec![tags[1].id]),
        ] {
            let mut new = article(slug, jo.id, 1);
            new.fields.section_id = Some(section);
            new.fields.tag_ids = tag_ids;
            ids.push(insert(store, new).await.unwrap());
        }
        let sections = r(store, |db| db.terms(TermKind::Section)).await;
        let counts: Vec<_> = sections.iter().map(|t| (t.name.as_str(), t.articles)).collect();
        assert_eq!(counts, [("Empty", 0), ("Local", 1), ("News", 2)], "by name, with counts");
        let local_id = local.id.get();
        let found = r(store, move |db| db.term(TermKind::Section, local_id)).await.unwrap();
        assert_eq!((found.slug.as_str(), found.description.as_str()), ("local", ""));
        assert_eq!(
            r(store, move |db| db.articles_using(TermKind::Tag, boats)).await,
            [ids[0], ids[1]]
        );

        // Renamed and described; a name or address another has is a conflict.
        assert!(
            w(store, move |tx| Box::pin(async move {
                tx.update_term(
                    TermKind::Section,
                    local_id,
                    "Local news",
                    "local-news",
                    "Our patch.",
                )
                .await
            }))
            .await
        );
        let renamed =
            r(store, |db| db.term_by_slug(TermKind::Section, "local-news")).await.unwrap();
        assert_eq!(
            (renamed.name.as_str(), renamed.description.as_str()),
            ("Local news", "Our patch.")
        );
        assert!(r(store, |db| db.term_by_slug(TermKind::Section, "local")).await.is_none());
        let clash = store
            .write(move |tx| {
                Box::pin(async move {
                    tx.update_term(TermKind::Section, local_id, "News", "news", "").await
                })
            })
            .await;
        assert!(matches!(clash, Err(StoreError::Conflict(_))), "{clash:?}");

        // Merged: every article takes the other, once; the merged one is gone.
        w(store, move |tx| tx.merge_terms(TermKind::Tag, boats, ferries)).await;
        assert!(r(store, move |db| db.term(TermKind::Tag, boats)).await.is_none());
        assert_eq!(r(store, move |db| db.term(TermKind::Tag, ferries)).await.unwrap().articles, 3);
        let two = ids[1];
        assert_eq!(r(store, move |db| db.tags_of_article(two)).await.len(), 1, "not twice");
        let news_id = news.id.get();
        w(store, move |tx| tx.merge_terms(TermKind::Section, news_id, local_id)).await;
        assert_eq!(
            r(store, move |db| db.term(TermKind::Section, local_id)).await.unwrap().articles,
            3
        );

        // Deleted only when unused.
        let empty = r(store, |db| db.term_by_slug(TermKind::Section, "empty")).await.unwrap().id;
        assert!(!w(store, move |tx| tx.delete_term(TermKind::Section, local_id)).await, "used");
        assert!(w(store, move |tx| tx.delete_term(TermKind::Section, empty)).await);
        assert_eq!(r(store, |db| db.terms(TermKind::Section)).await.len(), 1);
    }

    pub async fn revisions_are_kept(store: &Store, _: Backend) {
        let jo = author(store, "Jo").await;
        let id = insert(store, draft("story", jo.id)).await.unwrap();
        let user =
            create_user(store, new_user("ed@example.com", "Ed", Role::Editor)).await.unwrap();
        let revision = move |n: i64| Revision {
            id: RevisionId(0),
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
            kind: if n == 1 { RevisionKind::Imported } else { RevisionKind::Published },
            seo: Seo {
                title: format!("Search title {n}"),
                description: "For search engines".into(),
                image: if n == 2 { "/media/3".to_owned() } else { String::new() },
            },
        };
        let add =
            |r: Revision| w(store, move |tx| Box::pin(async move { tx.insert_revision(&r).await }));
        let first = add(revision(1)).await;
        let second = add(revision(2)).await;
        let listed = r(store, move |db| db.revisions(id)).await;
        assert_eq!(ids_of(&listed, |r| r.id), [second, first], "newest first");
        assert_eq!(listed[0], Revision { id: second, ..revision(2) });
        assert_eq!(
            r(store, move |db| db.revision(first)).await,
            Some(Revision { id: first, ..revision(1) })
        );
        assert_eq!(r(store, |db| db.revision(RevisionId(9_999))).await, None);
        let other = ArticleId(id.get() + 1);
        assert!(r(store, move |db| db.revisions(other)).await.is_empty());
        assert_eq!(r(store, move |db| db.latest_revision(id)).await, Some(second));
        assert_eq!(r(store, move |db| db.latest_revision(other)).await, None);
    }

    pub async fn notes_are_appended(store: &Store, _: Backend) {
        let jo = author(store, "Jo").await;
        let id = insert(store, article("story", jo.id, 1)).await.unwrap();
        let a =
            w(store, move |tx| tx.add_note(id, NoteKind::Correction, "We misspelt a name.", 10))
                .await;
        let b =
            w(store, move |tx| tx.add_note(id, NoteKind::Update, "The council replied.", 20)).await;
        let notes = r(store, move |db| db.notes(id)).await;
        assert_eq!(ids_of(&notes, |n| n.id), [a, b]);
        assert_eq!(notes[0].kind, NoteKind::Correction);
        assert_eq!(notes[1].body, "The council replied.");
        assert_eq!(notes[1].created_at, 20);
        assert_eq!(
            r(store, move |db| db.article(id)).await.unwrap().updated_at,
            20,
            "a note updates the article"
        );
    }

    pub async fn authors_sections_and_tags(store: &Store, _: Backend) {
        let b = author(store, "Bea").await;
        let a = author(store, "Abe").await;
        assert_eq!(r(store, |db| db.authors()).await, [a.clone(), b.clone()], "by name");
        let abe = a.id;
        w(store, move |tx| tx.update_author(abe, "Abe Lincoln", "A bio.", "/media/7")).await;
        let authors = r(store, |db| db.authors()).await;
        assert_eq!((authors[0].name.as_str(), authors[0].bio.as_str()), ("Abe Lincoln", "A bio."));
        assert_eq!(authors[0].photo, "/media/7");
        assert_eq!(r(store, move |db| db.author(abe)).await.unwrap().photo, "/media/7");

        let (x, created) = w(store, |tx| tx.find_or_create_section("Sport", "sport")).await;
        assert!(created, "a new section is told as made");
        let again = w(store, |tx| tx.find_or_create_section("Sport", "sport")).await;
        assert_eq!(again, (x.clone(), false), "the same section is found, not made");
        let same_slug = w(store, |tx| tx.find_or_create_section("SPORT", "sport")).await;
        assert_eq!(same_slug, (x, false), "a name whose slug is taken finds that section");
        w(store, |tx| tx.find_or_create_section("Arts", "arts")).await;
        let names = ids_of(&r(store, |db| db.sections()).await, |s| s.name.clone());
        assert_eq!(names, ["Arts", "Sport"]);

        let tags = |pairs: Vec<(String, String)>| {
            w(store, move |tx| Box::pin(async move { tx.find_or_create_tags(&pairs).await }))
        };
        let made =
            tags(vec![("Zebra".into(), "zebra".into()), ("Apple".into(), "apple".into())]).await;
        assert_eq!(ids_of(&made, |t| t.name.clone()), ["Zebra", "Apple"]);
        let again = tags(vec![("Apple".into(), "apple".into())]).await;
        assert_eq!(again[0].id, made[1].id);
        assert!(tags(Vec::new()).await.is_empty());
    }

    pub async fn staff_accounts(store: &Store, _: Backend) {
        // A command-line author of the same name becomes the account's author record.
        let existing = author(store, "Eleanor Marsh").await;
        let user =
            create_user(store, new_user("Eleanor@Example.com", "Eleanor Marsh", Role::Admin))
                .await
                .unwrap();
        assert_eq!(user.author.id, existing.id);
        assert_eq!((user.role, user.disabled, user.created_at), (Role::Admin, false, 100));
        assert_eq!(user.email, "Eleanor@Example.com");
        let again =
            create_user(store, new_user("eleanor@example.COM", "Someone", Role::Author)).await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        let second =
            create_user(store, new_user("dan@example.com", "Dan", Role::Author)).await.unwrap();
        assert_ne!(second.author.id, existing.id);

        let id = user.id;
        assert_eq!(r(store, move |db| db.user(id)).await, Some(user.clone()));
        assert_eq!(r(store, |db| db.user(UserId(9_999))).await, None);
        let (found, hash) =
            r(store, |db| db.user_credentials("ELEANOR@example.com")).await.unwrap();
        assert_eq!((found.id, hash.as_str()), (user.id, "hash"));
        assert!(r(store, |db| db.user_credentials("nobody@example.com")).await.is_none());
        let names = ids_of(&r(store, |db| db.users()).await, |u| u.author.name.clone());
        assert_eq!(names, ["Dan", "Eleanor Marsh"]);

        let dan = second.id;
        assert!(w(store, move |tx| tx.update_user(dan, Role::Editor, true)).await);
        let changed = r(store, move |db| db.user(dan)).await.unwrap();
        assert_eq!((changed.role, changed.disabled), (Role::Editor, true));
        assert!(!w(store, |tx| tx.update_user(UserId(9_999), Role::Editor, false)).await);

        assert!(w(store, move |tx| tx.set_password(id, "new-hash", 200)).await);
        let (found, hash) =
            r(store, |db| db.user_credentials("eleanor@example.com")).await.unwrap();
        assert_eq!((hash.as_str(), found.password_changed_at), ("new-hash", 200));
    }

    pub async fn sessions_expire_and_end(store: &Store, _: Backend) {
        let user =
            create_user(store, new_user("s@example.com", "Sam", Role::Author)).await.unwrap();
        let id = user.id;
        let session = move |token: &str, expires_at| Session {
            token_hash: token.into(),
            user_id: id,
            csrf_token: format!("csrf-{token}"),
            created_at: 10,
            expires_at,
        };
        let open =
            |s: Session| w(store, move |tx| Box::pin(async move { tx.create_session(&s).await }));
        let find = |token: &'static str, now| r(store, move |db| db.session(token, now));
        open(session("a", 100)).await;
        open(session("b", 100)).await;
        let (found, who) = find("a", 99).await.unwrap();
        assert_eq!((found, who.id), (session("a", 100), user.id));
        assert!(find("a", 100).await.is_none(), "expired");
        assert!(find("zzz", 1).await.is_none());
        w(store, |tx| tx.delete_session("a")).await;
        assert!(find("a", 1).await.is_none(), "signed out");
        assert!(find("b", 1).await.is_some(), "other sessions stay");
        w(store, move |tx| tx.set_password(id, "other", 50)).await;
        assert!(find("b", 1).await.is_none(), "a new password ends sessions");
        open(session("c", 100)).await;
        w(store, move |tx| tx.update_user(id, Role::Author, true)).await;
        assert!(find("c", 1).await.is_none(), "disabling ends sessions");
        w(store, move |tx| tx.update_user(id, Role::Author, false)).await;
        open(session("d", 100)).await;
        open(session("e", 300)).await;
        assert!(find("d", 1).await.is_some());
        assert_eq!(w(store, |tx| tx.delete_expired_sessions(200)).await, 1, "only the ended one");
        assert!(find("d", 1).await.is_none() && find("e", 1).await.is_some());
    }

    pub async fn login_failures_are_counted(store: &Store, _: Backend) {
        for at in [10, 20, 30] {
            w(store, move |tx| tx.record_login_failure("account:a@example.com", at)).await;
        }
        w(store, |tx| tx.record_login_failure("ip:192.0.2.1", 30)).await;
        let count = |key: &'static str, since| r(store, move |db| db.login_failures(key, since));
        assert_eq!(count("account:a@example.com", 0).await, 3);
        assert_eq!(count("account:a@example.com", 20).await, 2);
        assert_eq!(count("ip:192.0.2.1", 0).await, 1);
        w(store, |tx| tx.clear_login_failures("account:a@example.com", 0)).await;
        assert_eq!(count("account:a@example.com", 0).await, 0);
        assert_eq!(count("ip:192.0.2.1", 0).await, 1);
        w(store, |tx| tx.clear_login_failures("nothing", 31)).await;
        assert_eq!(count("ip:192.0.2.1", 0).await, 0, "old ones go");
        // An attempt counted before its check is forgotten by id when it succeeds, under the
        // lock that orders attempts.
        let ids = w(store, |tx| {
            Box::pin(async move {
                tx.lock_login_failures().await?;
                let first = tx.record_login_failure("pair:192.0.2.1 a@example.com", 40).await?;
                let second = tx.record_login_failure("ip:192.0.2.1", 40).await?;
                let kept = tx.record_login_failure("ip:192.0.2.1", 41).await?;
                assert!(first != second && second != kept);
                Ok(vec![first, second])
            })
        })
        .await;
        w(store, move |tx| Box::pin(async move { tx.forget_login_failures(&ids).await })).await;
        assert_eq!(count("pair:192.0.2.1 a@example.com", 0).await, 0);
        assert_eq!(count("ip:192.0.2.1", 0).await, 1);
    }

    async fn export(
        store: &Store,
        table: Table,
        after: Option<Vec<Value>>,
        limit: u32,
    ) -> Vec<Vec<Value>> {
        r(store, move |db| Box::pin(async move { db.export_rows(table, after, limit).await })).await
    }

    pub async fn a_site_copies_exactly(store: &Store, backend: Backend) {
        let jo = author(store, "Jo").await;
        let mut closed = article("closed", jo.id, 2);
        closed.fields.replies_open = false;
        let first = insert(store, article("open", jo.id, 1)).await.unwrap();
        insert(store, closed).await.unwrap();
        let top = add_reply(store, reply(first, None, ReplyStatus::Approved, 3)).await;
        let mut bare = reply(first, Some(top), ReplyStatus::Pending, 4);
        bare.author_url = None;
        bare.ip = None;
        add_reply(store, bare).await;
        let gone = add_reply(store, reply(first, None, ReplyStatus::Approved, 5)).await;
        w(store, move |tx| tx.delete_reply(gone)).await;
        w(store, |tx| tx.setting_or_insert(SiteSetting::Secret, "s3cret")).await;

        // Paging by key.
        let page1 = export(store, Table::Articles, None, 1).await;
        let page2 = export(store, Table::Articles, Some(vec![page1[0][0].clone()]), 1).await;
        assert_eq!(page1[0][0], Value::Int(first.get()));
        assert_ne!(page1[0][0], page2[0][0]);
        assert_eq!(r(store, |db| db.count_rows(Table::Comments)).await, 2);
        assert_eq!(
            r(store, |db| db.next_id(Table::Comments)).await,
            gone.get() + 1,
            "deleted ids count"
        );

        let target = fresh_store(backend).await;
        assert_eq!(r(&target.store, |db| db.next_id(Table::Comments)).await, 1);
        let counts = copy_site(store, &target.store).await.unwrap();
        assert_eq!(counts.len(), Table::ALL.len());
        assert!(counts.iter().all(|c| c.from == c.to));
        for table in Table::ALL {
            let source = export(store, table, None, 100).await;
            let copied = export(&target.store, table, None, 100).await;
            assert_eq!(source, copied, "{table:?}");
        }
        let copied = article_named(&target.store, "open").await.unwrap();
        assert_eq!(copied.reply_count, 1);
        assert!(!article_named(&target.store, "closed").await.unwrap().replies_open);
        // New ids start past the copied (and deleted) ones.
        let next = add_reply(&target.store, reply(first, None, ReplyStatus::Approved, 6)).await;
        assert!(next > gone, "{next} > {gone}");
        assert_eq!(article_named(&target.store, "open").await.unwrap().reply_count, 2);
        assert_eq!(r(&target.store, |db| db.next_id(Table::Comments)).await, next.get() + 1);
        let next_author = author(&target.store, "New").await;
        assert!(next_author.id > jo.id);

        // A second copy refuses rather than duplicating.
        let again = copy_site(store, &target.store).await;
        assert!(matches!(again, Err(CopyError::TargetNotEmpty(_))), "{again:?}");
    }

    fn event(kind: EventKind, article_id: ArticleId, reply_id: Option<ReplyId>) -> NewEvent {
        NewEvent::of_article(kind, article_id, reply_id)
    }

    /// Records an event, then (as the outbox's worker does after the commit) gives it its
    /// place.
    async fn record(store: &Store, e: NewEvent, at: i64) -> byline::domain::EventId {
        let id = w(store, move |tx| Box::pin(async move { tx.record_event(&e, at).await })).await;
        w(store, |tx| tx.sequence_events()).await;
        id
    }

    pub async fn events_are_delivered_in_the_order_they_commit(store: &Store, backend: Backend) {
        let article_id = one_article(store).await;
        w(store, |tx| tx.register_handler("h", 1)).await;
        let unplaced = w(store, move |tx| {
            Box::pin(async move {
                tx.record_event(&event(EventKind::ReplyPosted, article_id, None), 5).await
            })
        })
        .await;
        assert!(r(store, |db| db.deliveries("h")).await.is_empty(), "due once placed");
        assert_eq!(w(store, |tx| tx.sequence_events()).await, 1);
        assert_eq!(w(store, |tx| tx.sequence_events()).await, 0, "placed once");
        assert_eq!(ids_of(&r(store, |db| db.deliveries("h")).await, |d| d.event_id), [unplaced]);
        assert_eq!(r(store, |db| db.outbox_backlog()).await, (1, Some(5)), "one due, from 5");
        w(store, move |tx| tx.complete_delivery(unplaced, "h", 6)).await;
        assert_eq!(r(store, |db| db.outbox_backlog()).await, (0, None), "none once delivered");
        if backend == Backend::Sqlite {
            return; // One writer: transactions cannot overlap.
        }
        // The first to take an id commits last: its event comes second.
        let (recorded, was_recorded) = tokio::sync::oneshot::channel();
        let (commit, may_commit) = tokio::sync::oneshot::channel::<()>();
        let slow = tokio::spawn({
            let store = store.clone();
            async move {
                store
                    .write(move |tx| {
                        Box::pin(async move {
                            let e = event(EventKind::ReplyPosted, article_id, None);
                            let id = tx.record_event(&e, 10).await?;
                            let _ = recorded.send(());
                            let _ = may_commit.await;
                            Ok::<_, StoreError>(id)
                        })
                    })
                    .await
                    .unwrap()
            }
        });
        was_recorded.await.unwrap();
        let quick = record(store, event(EventKind::ReplyApproved, article_id, None), 11).await;
        commit.send(()).unwrap();
        let slow = slow.await.unwrap();
        assert!(slow < quick, "ids were taken in the other order");
        w(store, |tx| tx.sequence_events()).await;
        let claim = || w(store, |tx| tx.claim_deliveries("h", "n", 100, 160, 10));
        assert_eq!(ids_of(&claim().await, |c| c.event.id), [quick], "one per article, first first");
        w(store, move |tx| tx.complete_delivery(quick, "h", 101)).await;
        assert_eq!(ids_of(&claim().await, |c| c.event.id), [slow]);
    }

    pub async fn events_are_recorded_for_every_registered_handler(store: &Store, _: Backend) {
        let article_id = one_article(store).await;
        let before = record(store, event(EventKind::ArticlePublished, article_id, None), 10).await;
        w(store, |tx| tx.register_handler("mail", 11)).await;
        w(store, |tx| tx.register_handler("live", 11)).await;
        w(store, |tx| tx.register_handler("mail", 12)).await;
        let posted =
            record(store, event(EventKind::ReplyPosted, article_id, Some(ReplyId(7))), 20).await;
        assert!(posted > before);
        let events = r(store, |db| db.outbox_events()).await;
        assert_eq!(ids_of(&events, |e| e.id), [before, posted]);
        let found = r(store, move |db| db.outbox_event(posted)).await.unwrap();
        assert_eq!(
            (found.kind, found.article_id, found.reply_id, found.created_at),
            (EventKind::ReplyPosted, article_id, Some(ReplyId(7)), 20)
        );
        for handler in ["mail", "live"] {
            let deliveries = r(store, move |db| db.deliveries(handler)).await;
            assert_eq!(
                ids_of(&deliveries, |d| d.event_id),
                [posted],
                "{handler}: due from registration on"
            );
            let d = &deliveries[0];
            assert_eq!(
                (d.attempts, d.next_attempt_at, d.done_at, d.claimed_by.as_deref()),
                (0, 20, None, None)
            );
        }
        assert!(r(store, |db| db.deliveries("nobody")).await.is_empty());
    }

    pub async fn readers_subscribe_confirm_and_unsubscribe(store: &Store, _: Backend) {
        let article_id = one_article(store).await;
        let ada = add_reply(store, reply(article_id, None, ReplyStatus::Approved, 10)).await;
        let mut answer = reply(article_id, Some(ada), ReplyStatus::Approved, 11);
        answer.author_name = typed::name("Bea");
        answer.author_email = typed::email("Bea@Example.com");
        let bea = add_reply(store, answer).await;
        // Asking twice changes nothing; the address is kept lowercased.
        for _ in 0..2 {
            w(store, move |tx| tx.subscribe("Ada@Example.COM", article_id, Some(ada), 20)).await;
        }
        w(store, move |tx| tx.subscribe("ada@example.com", article_id, None, 21)).await;
        w(store, move |tx| tx.subscribe("cal@example.com", article_id, None, 22)).await;
        let address = r(store, |db| db.mail_address_of("ADA@example.com")).await.unwrap();
        assert_eq!((address.email.as_str(), address.created_at), ("ada@example.com", 20));
        assert_eq!(address.confirmed_at, None);
        assert_eq!(r(store, move |db| db.mail_address(address.id)).await, Some(address.clone()));
        let follows = r(store, move |db| db.subscriptions_of(address.id)).await;
        assert_eq!(follows.len(), 2);
        assert_eq!((follows[0].reply_id, follows[1].reply_id), (None, Some(ada)));
        assert_eq!(follows[1].title, "Headline of story");
        assert_eq!(follows[1].path.as_deref(), Some("/2026/11/24/story/"));
        let one = follows[1].id;
        assert_eq!(r(store, move |db| db.subscription(one)).await, Some(follows[1].clone()));
        // Only confirmed addresses are told, each once, answered before following.
        let told =
            |parent| async move { r(store, move |db| db.recipients(article_id, parent)).await };
        assert!(told(Some(ada)).await.is_empty());
        assert!(w(store, move |tx| tx.confirm_address(address.id, 30)).await);
        assert!(w(store, move |tx| tx.confirm_address(address.id, 40)).await, "still there");
        let confirmed = r(store, move |db| db.mail_address(address.id)).await.unwrap();
        assert_eq!(confirmed.confirmed_at, Some(30), "the first time is kept");
        let to_ada = told(Some(ada)).await;
        assert_eq!(to_ada.len(), 1);
        assert!(to_ada[0].answered && to_ada[0].email == "ada@example.com");
        assert_eq!(to_ada[0].subscription_id, one);
        let to_all = told(None).await;
        assert_eq!(to_all.len(), 1);
        assert!(!to_all[0].answered);
        // What a mail tells of a reply.
        let news = r(store, move |db| db.reply_news(bea)).await.unwrap();
        assert_eq!((news.author_email.as_str(), news.parent_id), ("bea@example.com", Some(ada)));
        assert_eq!(news.parent_author.as_deref(), Some("Reader"));
        assert_eq!(news.path.as_deref(), Some("/2026/11/24/story/"));
        assert_eq!(news.status, ReplyStatus::Approved);
        // Unsubscribing ends one; forgetting ends the address and all it follows.
        assert!(w(store, move |tx| tx.unsubscribe(one)).await);
        assert!(!w(store, move |tx| tx.unsubscribe(one)).await);
        let still = told(Some(ada)).await;
        assert!(still.len() == 1 && !still[0].answered, "following the article still");
        assert!(w(store, move |tx| tx.forget_address(address.id)).await);
        assert!(r(store, |db| db.mail_address_of("ada@example.com")).await.is_none());
        // Never confirmed, and older than the limit: forgotten.
        assert_eq!(w(store, |tx| tx.forget_unconfirmed(22)).await, 0);
        assert_eq!(w(store, |tx| tx.forget_unconfirmed(23)).await, 1);
        assert!(r(store, |db| db.mail_address_of("cal@example.com")).await.is_none());
    }

    pub async fn password_resets_work_once_and_expire(store: &Store, _: Backend) {
        let user = w(store, move |tx| {
            Box::pin(async move {
                let new = NewUser {
                    email: typed::email("jo@example.com"),
                    name: "Jo".into(),
                    role: Role::Editor,
                    password_hash: "x".into(),
                    created_at: 1,
                };
                tx.create_user(&new).await
            })
        })
        .await
        .id;
        assert_eq!(r(store, move |db| db.last_password_reset(user)).await, None);
        w(store, move |tx| tx.create_password_reset("h1", user, 100)).await;
        w(store, move |tx| tx.create_password_reset("h2", user, 200)).await;
        assert_eq!(r(store, move |db| db.last_password_reset(user)).await, Some(200));
        assert_eq!(r(store, |db| db.password_reset_user("h1", 100)).await, Some(user));
        assert_eq!(r(store, |db| db.password_reset_user("h1", 101)).await, None, "too old");
        assert_eq!(r(store, |db| db.password_reset_user("nope", 0)).await, None);
        assert_eq!(w(store, |tx| tx.use_password_reset("h2", 150, 210)).await, Some(user));
        assert_eq!(w(store, |tx| tx.use_password_reset("h2", 150, 211)).await, None, "once");
        assert_eq!(r(store, |db| db.password_reset_user("h2", 0)).await, None, "used");
        assert_eq!(w(store, |tx| tx.use_password_reset("h1", 150, 212)).await, None, "expired");
        assert_eq!(w(store, |tx| tx.forget_password_resets(150)).await, 1);
    }

    pub async fn readers_ask_for_their_data(store: &Store, _: Backend) {
        let article_id = one_article(store).await;
        let mine = add_reply(store, reply(article_id, None, ReplyStatus::Approved, 10)).await;
        let mut other = reply(article_id, Some(mine), ReplyStatus::Pending, 11);
        other.author_email = typed::email("someone@example.com");
        add_reply(store, other).await;
        let found = r(store, |db| db.replies_from_address("READER@example.com")).await;
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].id, found[0].email.as_str()), (mine, "reader@example.com"));
        assert_eq!(found[0].website.as_deref(), Some("https://reader.example/"));
        assert_eq!(found[0].path.as_deref(), Some("/2026/11/24/story/"));
        assert!(r(store, |db| db.replies_from_address("")).await.is_empty());
        assert_eq!(r(store, |db| db.last_data_request("reader@example.com")).await, None);
        w(store, |tx| tx.create_data_request("h", "Reader@Example.com", "copy", 100)).await;
        assert_eq!(r(store, |db| db.last_data_request("reader@example.com")).await, Some(100));
        let request = r(store, |db| db.data_request("h", 100)).await;
        assert_eq!(request, Some(("reader@example.com".into(), "copy".into())));
        assert_eq!(r(store, |db| db.data_request("h", 101)).await, None, "too old");
        assert!(w(store, |tx| tx.end_data_request("h")).await);
        assert!(!w(store, |tx| tx.end_data_request("h")).await);
        w(store, |tx| tx.create_data_request("old", "a@example.com", "erase", 5)).await;
        assert_eq!(w(store, |tx| tx.forget_data_requests(6)).await, 1);
    }

    pub async fn staff_choose_what_is_mailed(store: &Store, _: Backend) {
        let account = |email: &'static str, name: &'static str, role: Role| {
            w(store, move |tx| {
                Box::pin(async move {
                    let new = NewUser {
                        email: typed::email(email),
                        name: name.into(),
                        role,
                        password_hash: "x".into(),
                        created_at: 1,
                    };
                    tx.create_user(&new).await
                })
            })
        };
        let editor = account("ed@example.com", "Ed", Role::Editor).await;
        let writer = account("au@example.com", "Au", Role::Author).await;
        let other = account("ot@example.com", "Ot", Role::Author).await;
        let article_id = insert(store, article("theirs", writer.author.id, 1_000)).await.unwrap();
        let (ed, au, ot) = (editor.id, writer.id, other.id);
        assert_eq!(r(store, move |db| db.staff_mail_choice(ed)).await, StaffMailChoice::default());
        let ids = |found: Vec<StaffRecipient>| found.iter().map(|s| s.user_id).collect::<Vec<_>>();
        let told = r(store, move |db| db.moderators_to_tell(article_id)).await;
        assert_eq!(ids(told), [ed, au], "editors and the article's own author, not another");
        assert!(r(store, move |db| db.authors_to_tell(article_id)).await.is_empty());
        let hourly = StaffMailChoice { held: HeldMail::Hourly, replies: false };
        w(store, move |tx| tx.set_staff_mail_choice(ed, hourly)).await;
        let quiet = StaffMailChoice { held: HeldMail::None, replies: true };
        w(store, move |tx| tx.set_staff_mail_choice(au, quiet)).await;
        assert_eq!(r(store, move |db| db.staff_mail_choice(au)).await, quiet);
        let told = r(store, move |db| db.moderators_to_tell(article_id)).await;
        assert_eq!((ids(told.clone()), told[0].held), (vec![ed], HeldMail::Hourly));
        assert_eq!(ids(r(store, move |db| db.authors_to_tell(article_id)).await), [au]);
        let _ = ot;
        // Links work once.
        assert!(w(store, |tx| tx.use_moderation_link("sig", 10)).await);
        assert!(!w(store, |tx| tx.use_moderation_link("sig", 11)).await);
        assert_eq!(w(store, |tx| tx.forget_moderation_links(11)).await, 1);
        // Digests are due an hour after their first reply.
        let a = add_reply(store, reply(article_id, None, ReplyStatus::Pending, 10)).await;
        let b = add_reply(store, reply(article_id, None, ReplyStatus::Pending, 11)).await;
        w(store, move |tx| tx.keep_for_staff_digest(ed, b, 200)).await;
        w(store, move |tx| tx.keep_for_staff_digest(ed, a, 300)).await;
        w(store, move |tx| tx.keep_for_staff_digest(ed, a, 300)).await;
        assert!(w(store, |tx| tx.take_staff_digest(199)).await.is_none());
        assert_eq!(w(store, |tx| tx.take_staff_digest(200)).await, Some((ed, vec![b, a])));
        assert!(w(store, |tx| tx.take_staff_digest(1_000)).await.is_none(), "taken");
    }

    pub async fn each_mail_is_claimed_once_and_counted(store: &Store, _: Backend) {
        let article_id = one_article(store).await;
        let first = add_reply(store, reply(article_id, None, ReplyStatus::Approved, 10)).await;
        let second = add_reply(store, reply(article_id, None, ReplyStatus::Approved, 11)).await;
        let claim = |key: &'static str, now: i64| {
            w(store, move |tx| {
                Box::pin(async move { tx.claim_mail(key, "a1", now, now + 60).await })
            })
        };
        assert!(claim("k", 100).await);
        assert!(!claim("k", 120).await, "held by another delivery");
        assert!(!r(store, |db| db.mail_sent("k")).await);
        w(store, |tx| tx.release_mail("k")).await;
        assert!(claim("k", 130).await, "let go: claimed again");
        w(store, |tx| tx.mail_was_sent("k", 140)).await;
        assert!(r(store, |db| db.mail_sent("k")).await);
        assert!(!claim("k", 500).await, "sent: never again");
        assert!(claim("stale", 100).await);
        assert!(claim("stale", 161).await, "a dead node's claim ends");
        assert_eq!(r(store, |db| db.mails_sent_since("a1", 140)).await, 1);
        assert_eq!(r(store, |db| db.mails_sent_since("a1", 141)).await, 0);
        // Replies kept for a digest, taken once the hour allows.
        w(store, move |tx| tx.subscribe("ada@example.com", article_id, None, 1)).await;
        let ada = r(store, |db| db.mail_address_of("ada@example.com")).await.unwrap();
        w(store, move |tx| {
            Box::pin(async move { tx.claim_mail("m", &format!("a{}", ada.id), 0, 60).await })
        })
        .await;
        w(store, |tx| tx.mail_was_sent("m", 150)).await;
        for id in [second, first, second] {
            w(store, move |tx| tx.keep_for_digest(ada.id, id, id.get() * 10)).await;
        }
        assert!(w(store, |tx| tx.take_digest(1, 145)).await.is_none(), "the hour is full");
        let (to, replies) = w(store, |tx| tx.take_digest(2, 145)).await.unwrap();
        assert_eq!((to.id, replies), (ada.id, vec![first, second]), "oldest first, once");
        assert!(w(store, |tx| tx.take_digest(2, 145)).await.is_none(), "taken");
        // The news of a reply made public is remembered as long as the reply is there.
        let told = format!("reply:{first}:a1");
        let key = told.clone();
        w(store, move |tx| Box::pin(async move { tx.claim_mail(&key, "a1", 100, 160).await }))
            .await;
        let key = told.clone();
        w(store, move |tx| Box::pin(async move { tx.mail_was_sent(&key, 100).await })).await;
        assert_eq!(w(store, |tx| tx.forget_mails_sent(141)).await, 1);
        assert!(!r(store, |db| db.mail_sent("k")).await);
        let key = told.clone();
        assert!(r(store, move |db| Box::pin(async move { db.mail_sent(&key).await })).await);
        w(store, move |tx| tx.delete_reply(first)).await;
        assert!(!r(store, move |db| Box::pin(async move { db.mail_sent(&told).await })).await);
    }

    pub async fn a_handler_gets_only_the_kinds_it_acts_on(store: &Store, _: Backend) {
        let article_id = one_article(store).await;
        const KINDS: &[EventKind] = &[EventKind::MediaUploaded, EventKind::ArticlePublished];
        w(store, |tx| tx.register_handler_for("media", KINDS, 1)).await;
        w(store, |tx| tx.register_handler_for("all", &[], 1)).await;
        let reply = record(store, event(EventKind::ReplyPosted, article_id, None), 10).await;
        let published =
            record(store, event(EventKind::ArticlePublished, article_id, None), 11).await;
        let due = |h: &'static str| async move {
            ids_of(&r(store, move |db| db.deliveries(h)).await, |d| d.event_id)
        };
        assert_eq!(due("media").await, [published], "a reply makes no delivery for it");
        assert_eq!(due("all").await, [reply, published]);
        // A heartbeat by name keeps what it acts on.
        w(store, |tx| tx.register_handler("media", 20)).await;
        let again = record(store, event(EventKind::ReplyPosted, article_id, None), 21).await;
        assert_eq!(due("media").await, [published]);
        assert_eq!(due("all").await, [reply, published, again]);
    }

    pub async fn deliveries_are_claimed_in_order_once(store: &Store, _: Backend) {
        let a = one_article(store).await;
        let jo = author(store, "Jo").await;
        let b = insert(store, article("other", jo.id, 1)).await.unwrap();
        w(store, |tx| tx.register_handler("h", 1)).await;
        let a1 = record(store, event(EventKind::ReplyPosted, a, None), 10).await;
        let a2 = record(store, event(EventKind::ReplyApproved, a, None), 11).await;
        let b1 = record(store, event(EventKind::ReplyPosted, b, None), 12).await;
        let claim = |node: &'static str, now, limit| {
            w(store, move |tx| tx.claim_deliveries("h", node, now, now + 60, limit))
        };
        // The oldest of each article only: a2 waits for a1.
        let first = claim("one", 100, 10).await;
        assert_eq!(ids_of(&first, |c| c.event.id), [a1, b1]);
        assert!(first.iter().all(|c| c.attempt == 1));
        assert_eq!(first[0].event.kind, EventKind::ReplyPosted);
        assert!(claim("two", 100, 10).await.is_empty(), "claimed ones are another node's");
        // A failure keeps the next event of that article waiting, and is retried later.
        w(store, move |tx| tx.fail_delivery(a1, "h", "elsewhere", "not this node's", 300)).await;
        w(store, move |tx| tx.fail_delivery(a1, "h", "one", "SMTP said no", 200)).await;
        w(store, move |tx| tx.complete_delivery(b1, "h", 101)).await;
        assert!(claim("two", 150, 10).await.is_empty(), "not before its retry");
        let retried = claim("two", 200, 10).await;
        assert_eq!(ids_of(&retried, |c| (c.event.id, c.attempt)), [(a1, 2)]);
        let deliveries = r(store, |db| db.deliveries("h")).await;
        let of = |id| deliveries.iter().find(|d| d.event_id == id).unwrap();
        assert_eq!(of(a1).last_error, "SMTP said no");
        assert_eq!(of(a1).claimed_by.as_deref(), Some("two"));
        assert_eq!((of(b1).done_at, of(b1).outcome.as_deref()), (Some(101), Some("delivered")));
        // A lease that runs out lets another node take the delivery.
        assert!(claim("three", 259, 10).await.is_empty());
        assert_eq!(ids_of(&claim("three", 260, 10).await, |c| (c.event.id, c.attempt)), [(a1, 3)]);
        // Giving up unblocks the article's next event.
        w(store, move |tx| tx.give_up_delivery(a1, "h", "three", "too many failures", 261)).await;
        assert_eq!(ids_of(&claim("three", 262, 10).await, |c| c.event.id), [a2]);
        let gave_up =
            r(store, |db| db.deliveries("h")).await.into_iter().find(|d| d.event_id == a1).unwrap();
        assert_eq!(
            (gave_up.outcome.as_deref(), gave_up.last_error.as_str()),
            (Some("given up"), "too many failures")
        );
        let told = r(store, |db| db.given_up("h", 10)).await;
        assert_eq!(told.len(), 1);
        assert_eq!(
            (told[0].event_id, told[0].at, told[0].reason.as_str()),
            (a1, 261, "too many failures")
        );
        assert!(r(store, |db| db.given_up("other", 10)).await.is_empty());
        // Completing twice (a slow first attempt finishing late) changes nothing.
        w(store, move |tx| tx.complete_delivery(a2, "h", 263)).await;
        w(store, move |tx| tx.complete_delivery(a2, "h", 999)).await;
        let done =
            r(store, |db| db.deliveries("h")).await.into_iter().find(|d| d.event_id == a2).unwrap();
        assert_eq!(done.done_at, Some(263));
        assert!(claim("one", 10_000, 10).await.is_empty());
    }

    pub async fn delivered_events_are_purged_after_a_while(store: &Store, _: Backend) {
        let article_id = one_article(store).await;
        w(store, |tx| tx.register_handler("h", 1)).await;
        let done = record(store, event(EventKind::ReplyPosted, article_id, None), 10).await;
        let pending = record(store, event(EventKind::ReplyHeld, article_id, None), 11).await;
        let recent = record(store, event(EventKind::ReplyHeld, article_id, None), 500).await;
        w(store, move |tx| tx.complete_delivery(done, "h", 12)).await;
        w(store, move |tx| tx.complete_delivery(recent, "h", 501)).await;
        assert_eq!(w(store, |tx| tx.purge_outbox(400)).await, 1, "old and delivered only");
        let left = r(store, |db| db.outbox_events()).await;
        assert_eq!(ids_of(&left, |e| e.id), [pending, recent]);
        assert!(r(store, |db| db.deliveries("h")).await.iter().all(|d| d.event_id != done));
        // The newest stays however old, so that numbers are never given twice.
        w(store, move |tx| tx.complete_delivery(pending, "h", 502)).await;
        assert_eq!(w(store, |tx| tx.purge_outbox(10_000)).await, 1);
        let left = r(store, |db| db.outbox_events()).await;
        assert_eq!(ids_of(&left, |e| e.id), [recent]);
        let next = record(store, event(EventKind::ReplyPosted, article_id, None), 600).await;
        let (first, last) = r(store, |db| db.event_numbers()).await;
        assert!(next > recent && last > first, "numbered on from the newest: {first}..{last}");
    }

    pub async fn handlers_no_node_runs_are_retired(store: &Store, _: Backend) {
        let article_id = one_article(store).await;
        w(store, |tx| tx.register_handler("kept", 1)).await;
        w(store, |tx| tx.register_handler("gone", 1)).await;
        let first = record(store, event(EventKind::ReplyPosted, article_id, None), 10).await;
        w(store, |tx| tx.register_handler("kept", 300)).await;
        assert!(w(store, |tx| tx.retire_handlers(1)).await.is_empty(), "seen at the cutoff");
        assert_eq!(w(store, |tx| tx.retire_handlers(200)).await, ["gone"]);
        assert!(r(store, |db| db.deliveries("gone")).await.is_empty(), "its deliveries go too");
        assert_eq!(ids_of(&r(store, |db| db.deliveries("kept")).await, |d| d.event_id), [first]);
        let next = record(store, event(EventKind::ReplyPosted, article_id, None), 20).await;
        assert!(r(store, |db| db.deliveries("gone")).await.is_empty(), "nothing new for it");
        w(store, move |tx| tx.complete_delivery(first, "kept", 30)).await;
        w(store, move |tx| tx.complete_delivery(next, "kept", 30)).await;
        assert_eq!(w(store, |tx| tx.purge_outbox(400)).await, 1, "the newest keeps the count");
        w(store, |tx| tx.register_handler("gone", 500)).await;
        assert_eq!(w(store, |tx| tx.retire_handlers(400)).await, ["kept"], "not seen since 300");
        let again = record(store, event(EventKind::ReplyPosted, article_id, None), 501).await;
        let due = ids_of(&r(store, |db| db.deliveries("gone")).await, |d| d.event_id);
        assert_eq!(due, [again], "due again once run again");
    }

    async fn everything(store: &Store) -> Vec<Vec<Vec<Value>>> {
        let mut all = Vec::new();
        for table in Table::ALL {
            all.push(export(store, table, None, 10_000).await);
        }
        all
    }

    pub async fn a_unit_of_work_commits_whole_or_not_at_all(store: &Store, _: Backend) {
        let jo = author(store, "Jo").await;
        let before = everything(store).await;
        // A unit that fails after writing leaves nothing of it behind...
        let failed = store
            .write(move |tx| {
                Box::pin(async move {
                    let id = tx.insert_article(&article("half", jo.id, 1)).await?;
                    tx.insert_reply(&reply(id, None, ReplyStatus::Approved, 2)).await?;
                    Err::<(), _>(StoreError::Database("stopped half way".into()))
                })
            })
            .await;
        assert!(failed.is_err());
        assert_eq!(everything(store).await, before);
        // ...nor does one whose statement fails, injected at each statement in turn.
        for n in 1.. {
            store.faults().arm(n);
            let result = insert(store, article("whole", jo.id, 1)).await;
            if !store.faults().fired() {
                assert!(result.is_ok(), "{result:?}");
                break;
            }
            assert!(result.is_err(), "statement {n} failed, so the unit must");
            assert_eq!(everything(store).await, before, "statement {n} failed");
        }
        assert!(article_named(store, "whole").await.is_some());
        // Units running side by side each commit whole.
        let writes = (0..20).map(|i| insert(store, article(&format!("side-{i}"), jo.id, i)));
        // Polled together, so that the units really overlap.
        for result in futures_util::future::join_all(writes).await {
            result.unwrap();
        }
        assert_eq!(r(store, |db| db.count_published_articles(None)).await, 21);

        // What is deferred to the commit commits with the rest, and its failure fails all.
        let article_id = one_article(store).await;
        let queued = event(EventKind::ReplyPosted, article_id, None);
        store
            .write(move |tx| {
                Box::pin(async move {
                    tx.register_handler("deferred", 1).await?;
                    tx.queue_event(&queued, 3)
                })
            })
            .await
            .unwrap();
        let events = r(store, |db| db.outbox_events()).await;
        assert_eq!(ids_of(&events, |e| (e.kind, e.created_at)), [(EventKind::ReplyPosted, 3)]);
        let before = everything(store).await;
        let refused = store
            .write(move |tx| {
                Box::pin(async move {
                    tx.register_handler("not kept", 1).await?;
                    tx.queue_event(&event(EventKind::ReplyHeld, article_id, None), 4)?;
                    let again = "INSERT INTO outbox_handlers (name, registered_at, seen_at)
                                 VALUES ($1, 1, 1)";
                    tx.defer(again, vec![Value::Text("deferred".into())])
                })
            })
            .await;
        assert!(matches!(refused, Err(StoreError::Conflict(_))), "{refused:?}");
        assert_eq!(everything(store).await, before, "nothing of it committed");
        assert_eq!(r(store, |db| db.outbox_events()).await.len(), 1);
    }

    pub async fn thousands_of_rows_commit_in_one_unit(store: &Store, _: Backend) {
        let article_id = one_article(store).await;
        let rows: Vec<NewReply> =
            (0..5_000).map(|i| reply(article_id, None, ReplyStatus::Approved, i)).collect();
        let started = std::time::Instant::now();
        w(store, move |tx| {
            Box::pin(async move {
                let sql = "INSERT INTO comments (article_id, author_name, author_email, body,
                               status, held_reason, created_at)
                           VALUES ($1, $2, $3, $4, $5, '', $6)";
                let params: Vec<Vec<Param>> = rows
                    .iter()
                    .map(|r| {
                        vec![
                            r.article_id.into(),
                            r.author_name.as_str().into(),
                            r.author_email.as_str().into(),
                            r.body.as_str().into(),
                            r.status.as_str().into(),
                            r.created_at.into(),
                        ]
                    })
                    .collect();
                assert_eq!(tx.execute_each(sql, &params).await?, 5_000);
                Ok(())
            })
        })
        .await;
        println!("5,000 rows in one unit of work in {:?}", started.elapsed());
        assert_eq!(article_named(store, "story").await.unwrap().reply_count, 5_000);
    }

    pub async fn the_api_reads_published_articles_by_cursor(store: &Store, _: Backend) {
        let jo = author(store, "Jo").await;
        let ann = author(store, "Ann").await;
        let local = w(store, |tx| tx.find_or_create_section("Local", "local")).await.0;
        let pairs = vec![("Ferries".into(), "ferries".into())];
        let tags =
            w(store, move |tx| Box::pin(async move { tx.find_or_create_tags(&pairs).await })).await;
        let (section, tag) = (local.id, tags[0].id);
        let with = move |slug: &str, at: i64, by: AuthorId, in_local: bool, tagged: bool| {
            let mut a = article(slug, by, at);
            a.fields.section_id = in_local.then_some(section);
            a.fields.tag_ids = if tagged { vec![tag] } else { Vec::new() };
            a
        };
        let a = insert(store, with("a", 10, jo.id, true, true)).await.unwrap();
        let b = insert(store, with("b", 20, ann.id, true, false)).await.unwrap();
        let c = insert(store, with("c", 20, jo.id, false, true)).await.unwrap();
        let mut hidden = with("hidden", 30, jo.id, true, true);
        hidden.status = ArticleStatus::Draft;
        let hidden = insert(store, hidden).await.unwrap();
        let page = |filter: Published, after: Option<(i64, ArticleId)>, limit: u64| {
            r(store, move |db| {
                Box::pin(async move { db.published_page(&filter, after, limit).await })
            })
        };
        let all = Published::default();
        assert_eq!(
            ids_of(&page(all, None, 10).await, |x| x.id),
            [c, b, a],
            "newest first, ties by id"
        );
        assert_eq!(ids_of(&page(all, None, 2).await, |x| x.id), [c, b]);
        assert_eq!(ids_of(&page(all, Some((20, c)), 10).await, |x| x.id), [b, a], "after c");
        assert_eq!(ids_of(&page(all, Some((20, b)), 10).await, |x| x.id), [a]);
        let in_local = Published { section: Some(section), ..Default::default() };
        assert_eq!(ids_of(&page(in_local, None, 10).await, |x| x.id), [b, a]);
        let tagged_local = Published { section: Some(section), tag: Some(tag), author: None };
        assert_eq!(ids_of(&page(tagged_local, None, 10).await, |x| x.id), [a]);
        let by_jo = Published { author: Some(jo.id), ..Default::default() };
        assert_eq!(ids_of(&page(by_jo, None, 10).await, |x| x.id), [c, a]);

        add_reply(store, reply(a, None, ReplyStatus::Approved, 40)).await;
        add_reply(store, reply(a, None, ReplyStatus::Pending, 41)).await;
        add_reply(store, reply(hidden, None, ReplyStatus::Approved, 42)).await;
        let ids = vec![a.get(), b.get(), hidden.get(), 9_999];
        let mut counts =
            r(store, move |db| Box::pin(async move { db.published_reply_counts(&ids).await }))
                .await;
        counts.sort_unstable();
        assert_eq!(counts, [(a, 1), (b, 0)], "published articles, approved replies");
        assert!(
            r(store, |db| Box::pin(async move { db.published_reply_counts(&[]).await }))
                .await
                .is_empty()
        );
        let nobody = author(store, "Nobody Published").await;
        let named: Vec<String> =
            r(store, |db| db.published_authors()).await.into_iter().map(|a| a.name).collect();
        assert_eq!(named, ["Ann", "Jo"]);
        let _ = nobody;
    }

    pub async fn embedded_threads_are_made_once_per_address(store: &Store, _: Backend) {
        let url = "https://blog.example/post/";
        assert!(r(store, move |db| db.thread_by_url(url)).await.is_none());
        let made =
            w(store, move |tx| tx.find_or_create_thread(url, "A post", "thread-1", 100)).await;
        assert_eq!((made.url.as_str(), made.title.as_str(), made.created_at), (url, "A post", 100));
        assert!(made.replies_open);
        let again =
            w(store, move |tx| tx.find_or_create_thread(url, "Other", "thread-1", 200)).await;
        assert_eq!(again, made, "one thread an address");
        let other = "https://blog.example/other/";
        let second =
            w(store, move |tx| tx.find_or_create_thread(other, "B", "thread-2", 300)).await;
        let id = made.id;
        assert_eq!(r(store, move |db| db.thread(id)).await, Some(made.clone()));
        // It is an article row no listing shows.
        let row = r(store, move |db| db.article(id)).await.unwrap();
        assert_eq!((row.status, row.date_path.clone()), (ArticleStatus::Draft, None));
        let query = ArticleQuery { limit: 10, ..Default::default() };
        let listed =
            r(store, move |db| Box::pin(async move { db.list_articles(&query).await })).await;
        assert_eq!(listed.1, 0, "not in the newsroom's list");
        let jo = author(store, "Jo").await;
        let article = insert(store, article("real", jo.id, 1)).await.unwrap();
        assert!(r(store, move |db| db.thread(article)).await.is_none());
        add_reply(store, reply(id, None, ReplyStatus::Approved, 110)).await;
        add_reply(store, reply(id, None, ReplyStatus::Spam, 111)).await;
        let (threads, total) = r(store, |db| db.threads(0, 10)).await;
        assert_eq!(total, 2);
        assert_eq!(ids_of(&threads, |t| t.id), [second.id, id], "newest first");
        assert_eq!(threads[1].reply_count, 1);
        assert_eq!(ids_of(&r(store, |db| db.threads(1, 10)).await.0, |t| t.id), [id]);
        let urls = vec![url.to_owned(), other.to_owned(), "https://nowhere.example/".to_owned()];
        let mut counts =
            r(store, move |db| Box::pin(async move { db.thread_reply_counts(&urls).await })).await;
        counts.sort();
        assert_eq!(counts, [(other.to_owned(), 0), (url.to_owned(), 1)]);
        assert!(w(store, move |tx| tx.update_thread(id, "Renamed", false)).await);
        let renamed = r(store, move |db| db.thread(id)).await.unwrap();
        assert_eq!((renamed.title.as_str(), renamed.replies_open), ("Renamed", false));
        assert!(!w(store, move |tx| tx.update_thread(article, "Not a thread", true)).await);
    }

    pub async fn api_tokens_are_kept_as_hashes(store: &Store, _: Backend) {
        let ed = create_user(store, new_user("ed@example.com", "Ed", Role::Editor)).await.unwrap();
        let ann =
            create_user(store, new_user("ann@example.com", "Ann", Role::Author)).await.unwrap();
        let token = |user: UserId, name: &str, hash: &str, at: i64| NewApiToken {
            user_id: user,
            name: name.into(),
            token_hash: hash.into(),
            scopes: "read_drafts,publish".into(),
            created_at: at,
        };
        let (first, second, theirs) = (
            token(ed.id, "Phone", "h1", 10),
            token(ed.id, "Desk", "h2", 20),
            token(ann.id, "Ann's", "h3", 30),
        );
        let one =
            w(store, move |tx| Box::pin(async move { tx.insert_api_token(&first).await })).await;
        let two =
            w(store, move |tx| Box::pin(async move { tx.insert_api_token(&second).await })).await;
        w(store, move |tx| Box::pin(async move { tx.insert_api_token(&theirs).await })).await;
        let dupe = token(ann.id, "Again", "h1", 40);
        let refused =
            store.write(move |tx| Box::pin(async move { tx.insert_api_token(&dupe).await })).await;
        assert!(refused.is_err(), "hashes are unique");
        let eds = r(store, move |db| db.api_tokens(ed.id)).await;
        assert_eq!(ids_of(&eds, |t| t.name.clone()), ["Desk", "Phone"], "newest first");
        assert_eq!((eds[0].scopes.as_str(), eds[0].last_used_at), ("read_drafts,publish", None));
        let (found, user) = r(store, |db| db.api_token("h1")).await.unwrap();
        assert_eq!((found.id, user.id, user.role), (one, ed.id, Role::Editor));
        assert!(r(store, |db| db.api_token("nope")).await.is_none());
        w(store, move |tx| tx.touch_api_token(one, 99)).await;
        assert_eq!(r(store, |db| db.api_token("h1")).await.unwrap().0.last_used_at, Some(99));
        assert!(!w(store, move |tx| tx.delete_api_token(ann.id, two)).await, "not Ann's to revoke");
        assert!(w(store, move |tx| tx.delete_api_token(ed.id, two)).await);
        assert!(r(store, |db| db.api_token("h2")).await.is_none());
        // A disabled account's tokens do nothing.
        w(store, move |tx| {
            Box::pin(async move {
                tx.execute("UPDATE users SET disabled = TRUE WHERE id = $1", &[ed.id.into()]).await
            })
        })
        .await;
        assert!(r(store, |db| db.api_token("h1")).await.is_none());
    }

    pub async fn live_updates_read_reply_events_in_order(store: &Store, _: Backend) {
        assert_eq!(r(store, |db| db.event_numbers()).await, (0, 0));
        let jo = author(store, "Jo").await;
        let one = insert(store, article("one", jo.id, 1)).await.unwrap();
        let two = insert(store, article("two", jo.id, 2)).await.unwrap();
        let record = |kind: EventKind, article: ArticleId, reply: Option<ReplyId>| {
            let event = NewEvent::of_article(kind, article, reply);
            w(store, move |tx| Box::pin(async move { tx.record_event(&event, 5).await }))
        };
        record(EventKind::ReplyPosted, one, Some(ReplyId(1))).await;
        record(EventKind::ReplyHeld, one, Some(ReplyId(2))).await;
        record(EventKind::ArticleUpdated, one, None).await;
        record(EventKind::ReplyApproved, two, Some(ReplyId(3))).await;
        record(EventKind::ReplyRemoved, one, Some(ReplyId(1))).await;
        let unnumbered = r(store, |db| db.reply_events_after(0, None, 10)).await;
        assert!(unnumbered.is_empty(), "an event has no place until it is numbered");
        w(store, |tx| tx.sequence_events()).await;
        let (first, last) = r(store, |db| db.event_numbers()).await;
        assert!(first >= 1 && last >= first + 4, "{first} {last}");
        let all = r(store, |db| db.reply_events_after(0, None, 10)).await;
        let kinds: Vec<EventKind> = all.iter().map(|(_, e)| e.kind).collect();
        assert_eq!(
            kinds,
            [EventKind::ReplyPosted, EventKind::ReplyApproved, EventKind::ReplyRemoved]
        );
        assert!(all.windows(2).all(|w| w[0].0 < w[1].0), "in their order");
        let after_first = all[0].0;
        let of_one = r(store, move |db| db.reply_events_after(after_first, Some(one), 10)).await;
        assert_eq!(of_one.len(), 1);
        assert_eq!(
            (of_one[0].1.kind, of_one[0].1.reply_id),
            (EventKind::ReplyRemoved, Some(ReplyId(1)))
        );
        assert_eq!(r(store, |db| db.reply_events_after(0, None, 1)).await.len(), 1);
    }
}

/// Both backends' migrations produce the same tables and columns (and `byline copy` knows
/// every column of each).
#[tokio::test]
async fn the_schemas_of_both_backends_match() {
    let sqlite_store = fresh_store(Backend::Sqlite).await;
    let path = sqlite_store.dir.path().join("byline.db");
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
    Store::open(&byline::config::parse_database(&url).unwrap(), 0).await.unwrap();
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

    // Sessions, sign-in failures and the outbox stay behind when a site is copied; reply
    // counts are counted afresh.
    let local = [
        "sessions",
        "login_failures",
        "outbox_events",
        "outbox_handlers",
        "outbox_deliveries",
        "reply_counters",
        // An upload being imported belongs to the site it is imported into.
        "import_jobs",
        "import_chunks",
        // The log of mails sent, and replies waiting for a digest, are the outbox's.
        "mails_sent",
        "mail_digests",
        // A reset link belongs to the database it was mailed from, as sessions do.
        "password_resets",
        "staff_digests",
        "moderation_links_used",
        "data_requests",
        // Tokens are made again on the new database, as sessions are signed in again.
        "api_tokens",
    ];
    for local in local {
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
