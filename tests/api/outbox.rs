//! The outbox, with handlers made for the test: every event reaches every handler at least
//! once (exactly once while nothing crashes), in order per handler and article, retried with
//! backoff; a failing or stuck handler holds back only its own later events; several nodes
//! deliver each event once; a node killed after the commit delivers after a restart; and
//! delivered events are deleted after `outbox_keep_hours`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use byline::domain::events::Event;
use byline::domain::{EventId, EventKind, Role};
use byline::services::outbox::Handler;
use byline::store::{Delivery, OutboxReads, OutboxWrites};

use crate::helpers::{
    Setup, TestApp, comment_id, database_of, reply_with, restart_with, spawn_database_with,
    spawn_setup,
};

/// What a test handler does with each event.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    Deliver,
    /// Fails this many attempts of each event, then succeeds.
    FailFirst(u32),
    /// Never finishes.
    Stuck,
}

struct Recorder {
    name: &'static str,
    behaviour: Behaviour,
    /// Every event handled successfully, in the order handled.
    done: Mutex<Vec<Event>>,
    /// Attempts by event, failed ones included.
    attempts: Mutex<HashMap<EventId, u32>>,
}

impl Recorder {
    fn new(name: &'static str, behaviour: Behaviour) -> Arc<Self> {
        Arc::new(Self { name, behaviour, done: Mutex::default(), attempts: Mutex::default() })
    }

    fn done(&self) -> Vec<Event> {
        self.done.lock().unwrap().clone()
    }

    fn attempts(&self) -> HashMap<EventId, u32> {
        self.attempts.lock().unwrap().clone()
    }
}

#[async_trait]
impl Handler for Recorder {
    fn name(&self) -> &'static str {
        self.name
    }

    async fn handle(&self, event: &Event) -> Result<(), String> {
        let attempt = {
            let mut attempts = self.attempts.lock().unwrap();
            let n = attempts.entry(event.id).or_default();
            *n += 1;
            *n
        };
        match self.behaviour {
            Behaviour::Stuck => std::future::pending().await,
            Behaviour::FailFirst(n) if attempt <= n => Err(format!("attempt {attempt} refused")),
            _ => {
                self.done.lock().unwrap().push(*event);
                Ok(())
            }
        }
    }
}

fn handlers(recorders: &[&Arc<Recorder>]) -> Vec<Arc<dyn Handler>> {
    recorders.iter().map(|r| (*r).clone() as Arc<dyn Handler>).collect()
}

/// Waits (in real time) until `done` holds; the outbox works off the request path.
async fn until(what: &str, done: impl Fn() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < Duration::from_secs(10), "{what}: not within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn deliveries(app: &TestApp, handler: &'static str) -> Vec<Delivery> {
    app.db(move |db| db.deliveries(handler)).await
}

/// A handler's deliveries once every one is done (a success is recorded just after the
/// handler returns).
async fn settled(app: &TestApp, handler: &'static str) -> Vec<Delivery> {
    let started = Instant::now();
    loop {
        let recorded = deliveries(app, handler).await;
        if recorded.iter().all(|d| d.done_at.is_some()) {
            return recorded;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{handler}: not all recorded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

const NONE: &[(&str, &str)] = &[("moderation", "none")];

#[tokio::test]
async fn events_reach_every_handler_in_order_off_the_request_path() {
    let (mail, live) =
        (Recorder::new("mail", Behaviour::Deliver), Recorder::new("live", Behaviour::Deliver));
    let setup = Setup {
        settings: &[("moderation", "first-time")],
        handlers: handlers(&[&mail, &live]),
        ..Setup::default()
    };
    let app = spawn_setup(setup).await;
    app.add_staff("ed@example.com", "Ed", Role::Editor).await;
    let staff = app.sign_in("ed@example.com").await;
    let id = app.write(&staff, &[("headline", "Outbox story")], "publish").await;
    let path = app.article(id).await.unwrap().public_path().unwrap();
    let held = app.reply(&path, &reply_with(&[])).await;
    let approve = format!("approve:{held}");
    assert_eq!(
        app.staff_post(&staff, "/admin/replies/", &[("action", &approve)]).await.status,
        303
    );
    let known = app.reply(&path, &reply_with(&[("comment", "Known by now")])).await;
    let trash = format!("trash:{known}");
    app.staff_post(&staff, "/admin/replies/", &[("action", &trash)]).await;
    app.write(&staff, &[("headline", "Another")], "save").await;
    let expected = [
        (EventKind::ArticlePublished, None),
        (EventKind::ReplyHeld, Some(held)),
        (EventKind::ReplyApproved, Some(held)),
        (EventKind::ReplyPosted, Some(known)),
        (EventKind::ReplyRemoved, Some(known)),
    ];
    for recorder in [&mail, &live] {
        until("every event", || recorder.done().len() == expected.len()).await;
        let seen: Vec<_> = recorder.done().iter().map(|e| (e.kind, e.reply_id)).collect();
        assert_eq!(
            seen, expected,
            "{}: each once, in order; a draft's save is no event",
            recorder.name
        );
        assert!(recorder.done().iter().all(|e| e.article_id == id));
    }
    let recorded = settled(&app, "mail").await;
    assert!(recorded.iter().all(|d| d.outcome.as_deref() == Some("delivered") && d.attempts == 1));
}

#[tokio::test]
async fn a_failing_handler_is_retried_with_backoff_and_holds_back_only_its_own_events() {
    let flaky = Recorder::new("flaky", Behaviour::FailFirst(3));
    let quick = Recorder::new("quick", Behaviour::Deliver);
    let setup = Setup { settings: NONE, handlers: handlers(&[&flaky, &quick]), ..Setup::default() };
    let app = spawn_setup(setup).await;
    let path = app.publish("Retried").await.path;
    let other = app.publish("Elsewhere").await.path;
    app.reply(&path, &reply_with(&[("comment", "First")])).await;
    app.reply(&path, &reply_with(&[("comment", "Second")])).await;
    app.reply(&other, &reply_with(&[("comment", "On another article")])).await;
    // Two publications and three replies.
    until("the other handler has everything at once", || quick.done().len() == 5).await;
    // The failing one's first attempts fail, and its retries wait for the clock.
    until("first attempts", || flaky.attempts().len() == 2).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(flaky.attempts().len(), 2, "one event an article at a time");
    assert!(flaky.done().is_empty());
    until("every event, retried", || {
        app.clock.advance(1);
        flaky.done().len() == 5
    })
    .await;
    // In order per article.
    for recorder in [&flaky, &quick] {
        let mut by_article: HashMap<_, Vec<EventId>> = HashMap::new();
        for event in recorder.done() {
            by_article.entry(event.article_id).or_default().push(event.id);
        }
        for ids in by_article.values() {
            assert!(ids.windows(2).all(|w| w[0] < w[1]), "{}: {ids:?}", recorder.name);
        }
    }
    assert!(flaky.attempts().values().all(|n| *n == 4), "three failures, then the delivery");
    for delivery in settled(&app, "flaky").await {
        assert_eq!(delivery.attempts, 4);
        assert_eq!(delivery.last_error, "attempt 3 refused", "the last failure is kept");
        assert_eq!(delivery.outcome.as_deref(), Some("delivered"));
    }
    assert!(settled(&app, "quick").await.iter().all(|d| d.attempts == 1));
}

#[tokio::test]
async fn a_stuck_handler_delays_neither_another_handler_nor_the_reader() {
    let stuck = Recorder::new("stuck", Behaviour::Stuck);
    let quick = Recorder::new("quick", Behaviour::Deliver);
    let app = spawn_setup(Setup {
        settings: NONE,
        handlers: handlers(&[&stuck, &quick]),
        ..Setup::default()
    })
    .await;
    let path = app.publish("Stuck").await.path;
    for i in 0..3 {
        let started = Instant::now();
        let response = app.post(&path, &reply_with(&[("comment", &format!("Reply {i}"))])).await;
        assert_eq!(response.status, 303);
        assert!(started.elapsed() < Duration::from_secs(2), "the reply waited for a handler");
    }
    until("the other handler's deliveries", || quick.done().len() == 4).await;
    assert!(stuck.done().is_empty());
    let waiting = deliveries(&app, "stuck").await;
    assert_eq!(waiting.len(), 4);
    assert!(waiting.iter().all(|d| d.done_at.is_none()), "kept for the stuck handler");
}

#[tokio::test]
async fn several_nodes_deliver_each_event_once_per_handler() {
    let (mail_a, mail_b) =
        (Recorder::new("mail", Behaviour::Deliver), Recorder::new("mail", Behaviour::Deliver));
    let (live_a, live_b) =
        (Recorder::new("live", Behaviour::Deliver), Recorder::new("live", Behaviour::Deliver));
    let a = spawn_setup(Setup {
        settings: NONE,
        handlers: handlers(&[&mail_a, &live_a]),
        ..Setup::default()
    })
    .await;
    let b = restart_with(
        &a,
        Setup {
            settings: NONE,
            handlers: handlers(&[&mail_b, &live_b]),
            clock: Some(a.clock.clone()),
            ..Setup::default()
        },
    )
    .await;
    let path = a.publish("Two nodes").await.path;
    let other = a.publish("Two nodes, another article").await.path;
    let mut posted = Vec::new();
    for i in 0..12 {
        let (node, path) = match i % 3 {
            0 => (&a, &path),
            1 => (&b, &path),
            _ => (&b, &other),
        };
        posted.push(node.reply(path, &reply_with(&[("comment", &format!("Reply {i}"))])).await);
    }
    let events = 2 + posted.len();
    for (name, one, two) in [("mail", &mail_a, &mail_b), ("live", &live_a, &live_b)] {
        until(name, || one.done().len() + two.done().len() >= events).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut ids: Vec<EventId> =
            one.done().iter().chain(two.done().iter()).map(|e| e.id).collect();
        assert_eq!(ids.len(), events, "{name}: each event once");
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), events, "{name}: no event twice");
    }
    println!(
        "node A delivered {} and node B {} of the mail handler's events",
        mail_a.done().len(),
        mail_b.done().len()
    );
}

#[tokio::test]
async fn delivered_events_are_deleted_after_outbox_keep_hours() {
    let quick = Recorder::new("quick", Behaviour::Deliver);
    let stuck = Recorder::new("stuck", Behaviour::Stuck);
    let settings =
        &[("moderation", "none"), ("outbox_keep_hours", "1"), ("scheduler_seconds", "3600")];
    let app =
        spawn_setup(Setup { settings, handlers: handlers(&[&quick]), ..Setup::default() }).await;
    let path = app.publish("Kept a while").await.path;
    app.reply(&path, &reply_with(&[])).await;
    until("delivered", || quick.done().len() == 2).await;
    let events = || app.db(|db| db.outbox_events());
    assert_eq!(events().await.len(), 2);
    // A second node whose handler is stuck: what it has not done is kept, however old.
    let slow = restart_with(
        &app,
        Setup {
            settings,
            handlers: handlers(&[&stuck]),
            clock: Some(app.clock.clone()),
            ..Setup::default()
        },
    )
    .await;
    slow.reply(&path, &reply_with(&[("comment", "For the stuck one")])).await;
    app.clock.advance(30 * 60);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(events().await.len(), 3, "younger than an hour");
    app.clock.advance(31 * 60);
    let started = Instant::now();
    while events().await.len() != 1 {
        assert!(started.elapsed() < Duration::from_secs(10), "not purged");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let left = events().await;
    assert_eq!(left[0].kind, EventKind::ReplyPosted, "the undelivered one stays");
}

/// A handler an older version ran, and no node runs now, holds no event back for ever.
#[tokio::test]
async fn a_handler_no_node_runs_is_retired_after_outbox_keep_hours() {
    let quick = Recorder::new("quick", Behaviour::Deliver);
    let settings =
        &[("moderation", "none"), ("outbox_keep_hours", "1"), ("scheduler_seconds", "3600")];
    let app =
        spawn_setup(Setup { settings, handlers: handlers(&[&quick]), ..Setup::default() }).await;
    let then = app.clock.now();
    app.db_write(move |tx| Box::pin(async move { tx.register_handler("removed", then).await }))
        .await;
    let path = app.publish("Outlived a handler").await.path;
    until("delivered", || quick.done().len() == 1).await;
    assert_eq!(deliveries(&app, "removed").await.len(), 1, "due to the removed one too");
    app.clock.advance(61 * 60);
    let started = Instant::now();
    // Retired, its delivery goes (the event itself is the newest, kept for the numbering).
    while !deliveries(&app, "removed").await.is_empty() {
        assert!(started.elapsed() < Duration::from_secs(10), "held back by a retired handler");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The handler a node runs was kept, and still gets what happens next.
    app.reply(&path, &reply_with(&[])).await;
    until("delivered after", || quick.done().len() == 2).await;
    assert!(deliveries(&app, "removed").await.is_empty(), "nothing new for the retired one");
}

/// Run as a separate process by the next test: a node whose handler never finishes, killed
/// with SIGKILL while it holds a delivery.
#[tokio::test]
#[ignore = "started by a_node_killed_after_the_commit_delivers_after_a_restart"]
async fn a_node_to_kill() {
    let Ok(database) = std::env::var("BYLINE_TEST_NODE_DATABASE") else { return };
    let stuck = Recorder::new("mail", Behaviour::Stuck);
    let setup = Setup {
        settings: NONE,
        handlers: vec![Arc::new(Announcing(stuck))],
        clock: Some(byline::clock::Clock::system()),
        ..Setup::default()
    };
    let app = spawn_database_with(&database, setup).await;
    println!("listening {}", app.address);
    // Killed long before; this is for a test run itself killed before it could.
    tokio::time::sleep(Duration::from_secs(120)).await;
}

/// Says on standard output when it takes an event, then never lets go.
struct Announcing(Arc<Recorder>);

#[async_trait]
impl Handler for Announcing {
    fn name(&self) -> &'static str {
        self.0.name
    }

    async fn handle(&self, event: &Event) -> Result<(), String> {
        println!("handling {}", event.id);
        self.0.handle(event).await
    }
}

/// A child process that does not outlive its test, even one that fails half way.
struct KilledOnDrop(std::process::Child);

impl Drop for KilledOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn a_node_killed_after_the_commit_delivers_after_a_restart() {
    use std::io::BufRead;
    let first = spawn_setup(Setup { settings: NONE, ..Setup::default() }).await;
    // Published before the other process registers its handler (which reads the system clock,
    // possibly in the same second): the article's own event is not that handler's.
    first.clock.advance(-10);
    let path = first.publish("Killed").await.path;
    let mut child = KilledOnDrop(
        std::process::Command::new(std::env::current_exe().unwrap())
            .args(["outbox::a_node_to_kill", "--exact", "--ignored", "--nocapture"])
            .arg("--test-threads=1")
            .env("BYLINE_TEST_NODE_DATABASE", database_of(&first))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let (lines, heard) = std::sync::mpsc::channel();
    let stdout = child.0.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let wait_for = |prefix: &str| -> String {
        loop {
            let line = heard.recv_timeout(Duration::from_secs(20)).expect("the node speaks");
            // The test harness's own "test … " may start the line.
            if let Some((_, rest)) = line.split_once(prefix) {
                return rest.trim().to_owned();
            }
        }
    };
    let address = wait_for("listening ");
    // A reply through the other process: committed there, its event claimed there...
    let client =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let page = client.get(format!("{address}{path}")).send().await.unwrap().text().await.unwrap();
    let token = page.split("name=\"token\" value=\"").nth(1).unwrap().split('"').next().unwrap();
    let mut form = reply_with(&[("comment", "Committed, then the node died")]);
    form.push(("token", token.to_owned()));
    let response = client
        .post(format!("{address}{path}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(crate::helpers::encode(&form))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let reply = comment_id(response.headers()["location"].to_str().unwrap());
    let event: i64 = wait_for("handling ").parse().unwrap();
    // ...and the process killed before it could finish.
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    let held = deliveries(&first, "mail").await;
    assert_eq!(held.len(), 1);
    assert!(held[0].claimed_by.is_some() && held[0].done_at.is_none(), "claimed, not done");

    // A node started again on the database delivers it, once the dead node's lease ends.
    let mail = Recorder::new("mail", Behaviour::Deliver);
    let again = restart_with(
        &first,
        Setup {
            settings: NONE,
            handlers: handlers(&[&mail]),
            clock: Some(first.clock.clone()),
            ..Setup::default()
        },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(mail.done().is_empty(), "not while the lease holds");
    // Past the lease the dead node took by the system clock.
    let behind = crate::helpers::now() - again.clock.now();
    again.clock.advance(behind + byline::services::outbox::LEASE + 1);
    until("delivered after the restart", || mail.done().len() == 1).await;
    let delivered = mail.done()[0];
    assert_eq!((delivered.id.get(), delivered.reply_id), (event, Some(reply)));
    assert_eq!(delivered.kind, EventKind::ReplyPosted);
    let recorded = settled(&again, "mail").await;
    assert_eq!((recorded[0].attempts, recorded[0].outcome.as_deref()), (2, Some("delivered")));
}
