//! Every use case that writes commits whole: a failure injected at each of its statements in
//! turn leaves the database exactly as it was (every table, row for row), on the backend
//! `BYLINE_TEST_BACKEND` names. (PostgreSQL's sequences are not transactional: an id taken by
//! a rolled-back insert stays taken, so only the rows are compared.)

use std::fmt::Debug;
use std::future::Future;

use byline::clock::Clock;
use byline::config::Config;
use byline::domain::signing::issue_token;
use byline::domain::{ArticleId, NoteKind, ReplyId, ReplyInput, ReplyStatus, Role};
use byline::services::discussion::{self, RequestFacts};
use byline::services::moderation::{self, Decision};
use byline::services::publishing::{self, Action, Draft, EditorInput};
use byline::services::reading::ArticleAddress;
use byline::services::staff::{self, AccountChange};
use byline::services::{Services, settings};
use byline::store::{ArticleReads, OutboxWrites, Store, Value};

use crate::helpers::{Backend, fresh_store, now};

const PASSWORD: &str = "correct horse battery";

/// Every table, in a fixed order.
const TABLES: &[&str] = &[
    "authors",
    "users",
    "sessions",
    "login_failures",
    "sections",
    "tags",
    "articles",
    "article_authors",
    "article_tags",
    "slug_redirects",
    "revisions",
    "article_notes",
    "comments",
    "settings",
    "outbox_events",
    "outbox_handlers",
    "outbox_deliveries",
    "reply_counters",
];

/// Every row of every table but `left_out` (none when empty).
async fn snapshot_but(store: &Store, left_out: &str) -> Vec<Vec<Vec<Value>>> {
    let left_out = left_out.to_owned();
    store
        .read(move |db| {
            Box::pin(async move {
                let mut tables = Vec::new();
                for table in TABLES.iter().filter(|t| **t != left_out.as_str()) {
                    let rows =
                        db.query(&format!("SELECT * FROM {table} ORDER BY 1, 2"), &[]).await?;
                    tables.push(rows.into_values());
                }
                Ok(tables)
            })
        })
        .await
        .unwrap()
}

/// Runs a use case with a failure injected at its first statement, then its second…: each
/// time it must fail and leave nothing behind, until it runs through. Returns what it returned.
async fn commits_whole<T, E, F, Fut>(store: &Store, name: &str, run: F) -> T
where
    E: Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    commits_whole_but(store, name, "", run).await
}

/// As [`commits_whole`], for a use case that commits one table's rows ahead of the rest on
/// purpose (a password check is counted before it is made, and stays counted if the rest
/// fails).
async fn commits_whole_but<T, E, F, Fut>(store: &Store, name: &str, ahead: &str, mut run: F) -> T
where
    E: Debug,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let snapshot = |store| snapshot_but(store, ahead);
    for n in 1..1000 {
        let before = snapshot(store).await;
        store.faults().arm(n);
        let result = run().await;
        if !store.faults().fired() {
            println!("{name}: {} statements, each failure left nothing", n - 1);
            return result.unwrap_or_else(|e| panic!("{name} failed on its own: {e:?}"));
        }
        assert!(result.is_err(), "{name}: statement {n} failed, so must the use case");
        assert_eq!(snapshot(store).await, before, "{name}: statement {n} failed and left rows");
    }
    panic!("{name} never finished");
}

async fn services() -> (Services, tempfile::TempDir) {
    let fresh = fresh_store(Backend::from_env()).await;
    let values = [("database", fresh.database.as_str()), ("moderation", "first-time")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let config = Config::from_values(&values).unwrap();
    let services = Services::new(fresh.store, Clock::manual(now()), config).await.unwrap();
    // Events are due to a handler, so that deliveries are written too.
    let at = services.clock.now();
    services.store.write(move |tx| tx.register_handler("mail", at)).await.unwrap();
    (services, fresh.dir)
}

fn editor_input(headline: &str) -> EditorInput {
    EditorInput {
        headline: headline.into(),
        standfirst: "What happened.".into(),
        section: "Local".into(),
        tags: "Ferries, Council".into(),
        body_markdown: "The *ferry* ran.".into(),
        image_url: "https://img.example/ferry.jpg".into(),
        image_alt: "The ferry".into(),
        image_caption: "At the quay".into(),
        replies_open: true,
        lead: true,
        ..Default::default()
    }
}

#[tokio::test]
async fn every_use_case_commits_whole_or_not_at_all() {
    let (services, _dir) = services().await;
    let s = &services;
    let store = &services.store;

    // Accounts.
    let admin = commits_whole(store, "add a staff account", || {
        staff::add_user(s, "ada@example.com", "Ada Admin", Role::Admin, PASSWORD)
    })
    .await;
    let editor =
        staff::add_user(s, "ed@example.com", "Ed Editor", Role::Editor, PASSWORD).await.unwrap();

    // Articles: every status change, with its section, tags, revision, redirect and lead.
    let input = editor_input("Ferry runs on time");
    let id = commits_whole(store, "write and publish", || {
        publishing::create(s, &admin, &input, Action::Publish)
    })
    .await;
    let mut renamed = editor_input("Ferry runs on time again");
    renamed.slug = "ferry-again".into();
    renamed.tags = "Ferries, Weather".into();
    renamed.lead = false;
    commits_whole(store, "edit a published article", || {
        publishing::update(s, &admin, id, &renamed, Action::Save, None)
    })
    .await;
    commits_whole(store, "unpublish", || {
        publishing::update(s, &admin, id, &renamed, Action::Unpublish, None)
    })
    .await;
    commits_whole(store, "publish again", || {
        publishing::update(s, &editor, id, &renamed, Action::Publish, None)
    })
    .await;
    commits_whole(store, "add a correction", || {
        publishing::add_note(s, &admin, id, NoteKind::Correction, "The ferry was late.")
    })
    .await;
    let oldest = store.read(move |db| db.revisions(id)).await.unwrap().pop().unwrap().id;
    commits_whole(store, "restore a revision", || publishing::restore(s, &admin, id, oldest)).await;
    let later = s.clock.now() + 3600;
    let embargoed = editor_input("Embargoed");
    let scheduled = commits_whole(store, "schedule", || {
        publishing::create(s, &admin, &embargoed, Action::Schedule(Some(later)))
    })
    .await;
    s.clock.advance(3601);
    let published =
        commits_whole(store, "publish on schedule", || publishing::publish_due(s)).await;
    assert_eq!(published, 1);
    assert!(
        store.read(move |db| db.article(scheduled)).await.unwrap().unwrap().date_path.is_some()
    );
    let draft = Draft {
        headline: "From the command line".into(),
        standfirst: String::new(),
        author: "New Author".into(),
        body_markdown: "Text.".into(),
        replies_open: true,
    };
    commits_whole(store, "publish from the command line", || publishing::publish(s, &draft)).await;

    // Replies: posted (held and approved), decided one by one and in bulk, answered, edited.
    let article = store.read(move |db| db.article(id)).await.unwrap().unwrap();
    let (date, slug) = (article.date_path.clone().unwrap(), article.slug.clone());
    let address = ArticleAddress { date, slug };
    let facts = || RequestFacts {
        ip: Some("192.0.2.1".into()),
        token: issue_token(&s.keys, ArticleId(id.get()), s.clock.now() - 10),
        honeypot_filled: false,
    };
    let form = |email: &str, text: &str| ReplyInput {
        comment: text.into(),
        name: "Reader".into(),
        email: email.into(),
        ..Default::default()
    };
    let mut held = Vec::new();
    for (i, email) in
        ["new@example.com", "other@example.com", "third@example.com"].iter().enumerate()
    {
        let input = form(email, &format!("First reply {i}"));
        let posted = commits_whole(store, "post a held reply", || {
            discussion::post_reply(s, &address, &input, facts())
        })
        .await;
        assert_eq!(posted.status, ReplyStatus::Pending);
        held.push(posted.id);
    }
    commits_whole(store, "approve one", || {
        moderation::decide(s, &editor, Decision::Approve, vec![held[0]])
    })
    .await;
    let input = form("new@example.com", "Known now, so published at once");
    let approved = commits_whole(store, "post a reply", || {
        discussion::post_reply(s, &address, &input, facts())
    })
    .await;
    assert_eq!(approved.status, ReplyStatus::Approved);
    let mut answer = form("new@example.com", "An answer");
    answer.parent = approved.id.to_string();
    commits_whole(store, "post an answer", || {
        discussion::post_reply(s, &address, &answer, facts())
    })
    .await;
    commits_whole(store, "answer a held reply as staff", || {
        moderation::answer(s, &editor, held[1], "Thank you.")
    })
    .await;
    let bulk: Vec<ReplyId> = vec![held[0], held[2], approved.id];
    commits_whole(store, "send several to spam", || {
        moderation::decide(s, &editor, Decision::Spam, bulk.clone())
    })
    .await;
    commits_whole(store, "restore several", || {
        moderation::decide(s, &editor, Decision::NotSpam, bulk.clone())
    })
    .await;
    commits_whole(store, "edit a reply", || moderation::edit(s, &editor, held[2], "Edited.")).await;
    commits_whole(store, "delete for ever", || {
        moderation::decide(s, &editor, Decision::Delete, vec![held[2]])
    })
    .await;

    // Accounts and settings.
    let change = AccountChange {
        role: Role::Author,
        disabled: false,
        password: Some("a new password!".into()),
    };
    commits_whole(store, "change an account", || {
        staff::update_account(s, &admin, editor.id, change.clone())
    })
    .await;
    // Each try from its own address: a try that failed after its check stays counted, and
    // enough of them from one address would be throttled.
    let addresses: Vec<String> = (1..=200).map(|n| format!("198.51.100.{n}")).collect();
    let mut next = addresses.iter();
    let signed_in = commits_whole_but(store, "sign in", "login_failures", || {
        staff::sign_in(s, "ada@example.com", PASSWORD, next.next().unwrap())
    })
    .await;
    let wrong = staff::sign_in(s, "ada@example.com", "not the password", "192.0.2.9");
    assert!(matches!(wrong.await, Err(staff::StaffError::WrongCredentials)));
    let mut next = addresses.iter().rev();
    commits_whole_but(store, "change one's password", "login_failures", || {
        let ip = next.next().unwrap();
        staff::change_password(s, &admin, PASSWORD, "another password", "another password", ip)
    })
    .await;
    commits_whole(store, "change one's name", || {
        staff::update_profile(s, &admin, "Ada A. Admin", "Bio.", "")
    })
    .await;
    commits_whole(store, "sign out", || staff::sign_out(s, &signed_in.session)).await;
    let submitted: Vec<(String, String)> =
        [("moderation", "all"), ("thread_depth", "3"), ("max_links", "off")]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
    let saved =
        commits_whole(store, "save the settings", || settings::save(s, &admin, &submitted)).await;
    assert!(saved.is_ok());
    assert_eq!(settings::effective(s).await.unwrap().settings.thread_depth, 3);
}
