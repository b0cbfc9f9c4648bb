//! Live replies: Server-Sent Events beside the cached article page, replayed after
//! `Last-Event-ID`, capped, outliving the request time limit, and heard across nodes.

use std::time::Duration;

use byline::domain::Role;
use byline::store::OutboxReads;
use serde_json::Value;

use crate::helpers::*;

/// One event of a stream.
#[derive(Debug)]
struct Event {
    id: String,
    event: String,
    data: Value,
}

/// An open event stream, read as it comes.
struct Sse {
    response: reqwest::Response,
    buffer: String,
}

impl Sse {
    async fn open(app: &TestApp, path: &str, last: Option<&str>) -> Sse {
        let mut request = app.client.get(app.url(path));
        if let Some(last) = last {
            request = request.header("last-event-id", last);
        }
        let response = request.send().await.expect("a stream");
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        assert_eq!(response.headers()["cache-control"], "no-store");
        Sse { response, buffer: String::new() }
    }

    /// The next block (event or comment) within `time`.
    async fn block(&mut self, time: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + time;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block = self.buffer[..end].to_owned();
                self.buffer.drain(..end + 2);
                return Some(block);
            }
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Ok(Ok(Some(chunk))) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                _ => return None,
            }
        }
    }

    /// The next event (comments skipped) within `time`.
    async fn event(&mut self, time: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + time;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let block = self.block(left).await?;
            let field = |name: &str| {
                block.lines().find_map(|l| l.strip_prefix(&format!("{name}: "))).map(str::to_owned)
            };
            if let Some(event) = field("event") {
                let data =
                    serde_json::from_str(&field("data").unwrap_or_default()).unwrap_or(Value::Null);
                return Some(Event { id: field("id").unwrap_or_default(), event, data });
            }
        }
    }
}

const SOON: Duration = Duration::from_secs(3);

#[tokio::test]
async fn replies_reach_open_streams_and_a_missed_one_is_replayed() {
    let app = spawn_with(&[("moderation", "first-time")]).await;
    app.add_staff("ed@example.com", "Edith Editor", Role::Editor).await;
    let staff = app.sign_in("ed@example.com").await;
    let article = app.publish("Live").await;
    let events = format!("/api/v1/articles/{}/events", article.id);
    let mut stream = Sse::open(&app, &events, None).await;
    // Held: nobody's news but the poster's and the moderators'.
    let held = app.reply(&article.path, &reply_with(&[("email", "new@example.com")])).await;
    assert!(stream.event(Duration::from_millis(700)).await.is_none(), "a held reply is not sent");
    let approve = format!("approve:{held}");
    let decided = app.staff_post(&staff, "/admin/replies/", &[("action", &approve)]).await;
    assert!(decided.status < 400, "{}", decided.body);
    let approved = stream.event(SOON).await.expect("the approval");
    assert_eq!(approved.event, "reply.approved");
    assert_eq!(approved.data["reply_id"], held.get());
    assert_eq!(approved.data["reply"]["body"], "A thoughtful reply.");
    let card = approved.data["html"].as_str().unwrap();
    assert!(card.contains("reply-card") && card.contains("A thoughtful reply."), "{card}");
    // Posted now that the address has an approved reply: public at once.
    let second = app
        .reply(&article.path, &reply_with(&[("email", "new@example.com"), ("comment", "Again")]))
        .await;
    let posted = stream.event(SOON).await.expect("the new reply");
    assert_eq!(
        (posted.event.as_str(), posted.data["reply_id"].as_i64()),
        ("reply.posted", Some(second.get()))
    );
    let last_seen = posted.id.clone();
    assert!(last_seen.parse::<i64>().unwrap() > approved.id.parse::<i64>().unwrap());
    drop(stream);

    // Away for a while: what came meanwhile is sent first on return.
    let missed = app
        .reply(&article.path, &reply_with(&[("email", "new@example.com"), ("comment", "Missed")]))
        .await;
    let removed = format!("trash:{second}");
    app.staff_post(&staff, "/admin/replies/", &[("action", &removed)]).await;
    let mut back = Sse::open(&app, &events, Some(&last_seen)).await;
    let first = back.event(SOON).await.expect("the missed reply");
    assert_eq!(
        (first.event.as_str(), first.data["reply_id"].as_i64()),
        ("reply.posted", Some(missed.get()))
    );
    let gone = back.event(SOON).await.expect("the removal");
    assert_eq!(
        (gone.event.as_str(), gone.data["reply_id"].as_i64()),
        ("reply.removed", Some(second.get()))
    );
    assert_eq!(gone.data["reply"], Value::Null);
    assert!(back.event(Duration::from_millis(500)).await.is_none(), "nothing twice");
    // The article's page itself stays public and cacheable beside the stream.
    let page = app.get(&article.path).await;
    assert!(page.header("cache-control").starts_with("public"), "{}", page.header("cache-control"));
    let script_src = page.one("script[src='/static/reply.js']");
    let _ = script_src;
    let replies = page.one("#replies");
    assert_eq!(attr(replies, "data-events"), events);
    // An article that is not there has no stream; a malformed id is refused.
    assert_eq!(app.api_get("/api/v1/articles/999999/events").await.status, 404);
    assert_eq!(app.api_get_with(&events, &[("last-event-id", "yesterday")]).await.status, 400);
}

#[tokio::test]
async fn a_reader_away_longer_than_events_are_kept_is_told_to_read_the_page_again() {
    let settings =
        &[("moderation", "none"), ("outbox_keep_hours", "1"), ("scheduler_seconds", "3600")];
    let app = spawn_with(settings).await;
    let article = app.publish("Away").await;
    let events = format!("/api/v1/articles/{}/events", article.id);
    let mut stream = Sse::open(&app, &events, None).await;
    app.reply(&article.path, &reply_with(&[("comment", "Seen")])).await;
    let seen = stream.event(SOON).await.expect("the reply").id;
    drop(stream);
    app.reply(&article.path, &reply_with(&[("comment", "Missed, then forgotten")])).await;
    app.reply(&article.path, &reply_with(&[("comment", "Missed, and kept")])).await;
    // Two hours on, what the reader missed is no longer kept, but for the newest event.
    // The purge runs with the hourly jobs: each hour on, until it has found them delivered.
    for _ in 0..200 {
        if app.db(|db| db.outbox_events()).await.len() == 1 {
            break;
        }
        app.clock.advance(2 * 3600);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(app.db(|db| db.outbox_events()).await.len(), 1, "purged");
    let mut back = Sse::open(&app, &events, Some(&seen)).await;
    let first = back.event(SOON).await.expect("an event");
    assert_eq!(
        first.event, "reset",
        "the page is newer than what can be replayed: {first:?} after {seen}"
    );
}

#[tokio::test]
async fn a_stream_outlives_the_request_time_limit_and_beats_more_often_than_the_idle_timeout() {
    let app = spawn_with(&[
        ("moderation", "none"),
        ("request_timeout_seconds", "1"),
        ("keepalive_seconds", "2"),
    ])
    .await;
    let article = app.publish("Long").await;
    let mut stream =
        Sse::open(&app, &format!("/api/v1/articles/{}/events", article.id), None).await;
    let opened = stream.block(SOON).await.expect("the stream's first words");
    assert!(opened.contains("retry:"), "{opened}");
    let started = tokio::time::Instant::now();
    let mut beats = 0;
    while started.elapsed() < Duration::from_millis(2_500) {
        if let Some(block) = stream.block(Duration::from_secs(2)).await
            && block.starts_with(':')
        {
            beats += 1;
        }
    }
    assert!(beats >= 1, "a heartbeat at least every second with a 2 s idle timeout");
    // Still open past the request time limit: a reply still arrives.
    app.reply(&article.path, &valid_reply()).await;
    let event = stream.event(SOON).await.expect("the stream is still open");
    assert_eq!(event.event, "reply.posted");
}

#[tokio::test]
async fn streams_are_capped_per_node() {
    let app = spawn_with(&[
        ("moderation", "none"),
        ("max_event_streams", "2"),
        ("keepalive_seconds", "2"),
    ])
    .await;
    let article = app.publish("Crowded").await;
    let path = format!("/api/v1/articles/{}/events", article.id);
    let one = Sse::open(&app, &path, None).await;
    let _two = Sse::open(&app, &path, None).await;
    let refused = app.api_get(&path).await;
    assert_eq!((refused.status, refused.str("code")), (503, "busy".to_owned()));
    assert!(refused.header("retry-after").parse::<u32>().unwrap() > 0);
    assert_eq!(app.state.live.open_streams(), 2);
    drop(one);
    // The server notices the stream is gone at its next heartbeat.
    let mut reopened = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if app.state.live.open_streams() < 2 {
            reopened = true;
            break;
        }
    }
    assert!(reopened, "a closed stream frees its place");
    Sse::open(&app, &path, None).await;
}

/// Every node sees every event: a reply posted, and one approved, on node A reach a reader
/// connected to node B within a second (PostgreSQL: nodes share the database).
#[tokio::test]
async fn a_reply_on_one_node_reaches_a_reader_on_another_within_a_second() {
    let a = spawn_on(Backend::Postgres, &[("moderation", "first-time")]).await;
    let b = restart(&a, &[("moderation", "first-time")]).await;
    let article = a.publish("Two nodes").await;
    let mut stream = Sse::open(&b, &format!("/api/v1/articles/{}/events", article.id), None).await;
    a.add_staff("ed@example.com", "Edith Editor", Role::Editor).await;
    let staff = a.sign_in("ed@example.com").await;
    let held = a.reply(&article.path, &valid_reply()).await;
    let sent = tokio::time::Instant::now();
    let approve = format!("approve:{held}");
    a.staff_post(&staff, "/admin/replies/", &[("action", &approve)]).await;
    let approved = stream.event(Duration::from_secs(1)).await.expect("within a second");
    assert_eq!(approved.data["reply_id"], held.get());
    assert!(sent.elapsed() < Duration::from_secs(1));
    let posted_at = tokio::time::Instant::now();
    let posted = a.reply(&article.path, &reply_with(&[("comment", "Known now")])).await;
    // The approval above is the promise's figure; this one allows for a loaded test machine.
    let event = stream.event(Duration::from_secs(2)).await.expect("within two seconds");
    assert_eq!(
        (event.event.as_str(), event.data["reply_id"].as_i64()),
        ("reply.posted", Some(posted.get()))
    );
    println!("a reply posted on A reached B's stream after {:?}", posted_at.elapsed());
    assert!(posted_at.elapsed() < Duration::from_secs(3));
}
