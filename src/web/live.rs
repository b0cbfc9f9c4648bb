//! Live replies: Server-Sent Events at `/api/v1/articles/{id}/events` (and an embedded
//! thread's), beside the article page, which stays cached as it is. One hub per node reads the
//! outbox's numbered events as they come (`services::live`: woken when events are numbered
//! here or announced by another node, and once a second), renders each once, and hands it to
//! every stream of its article. A stream that sends `Last-Event-ID` first gets what it missed,
//! from the outbox; one that missed more than the outbox keeps is told to read the thread
//! again (`reset`). Streams are capped by `max_event_streams`, outlive the request time limit
//! (only their head is timed), and send a comment more often than proxies' idle timeouts.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use axum::routing::get;
use tokio::sync::{broadcast, watch};

use super::api::schema::{LiveEvent, ReplyOut};
use super::api::{ApiError, Problem};
use super::{AppState, Route, route, thread};
use crate::domain::events::Event;
use crate::domain::{ArticleId, EventKind, ReplyStatus};
use crate::services::catalog::{self, Discussion};
use crate::services::{Services, discussion, live, settings, threads};

/// Events a stream may fall behind by before it is told to read the thread again.
const BACKLOG: usize = 64;
/// Events read at once, and replayed to one stream at most.
const BATCH: u64 = 500;

pub fn routes() -> Vec<Route> {
    vec![
        route("/api/v1/articles/{id}/events", get(article_events)),
        route("/api/v1/threads/{id}/events", get(thread_events)),
    ]
}

/// One event, rendered once for every stream of its article.
struct Frame {
    seq: i64,
    bytes: Bytes,
}

struct Topic {
    sender: broadcast::Sender<Arc<Frame>>,
    /// Where the discussion is shown (for the cards' links).
    path: String,
}

/// This node's streams and what feeds them.
pub struct LiveHub {
    services: Arc<Services>,
    topics: Mutex<HashMap<ArticleId, Topic>>,
    open: AtomicUsize,
    /// The last event read.
    last: AtomicI64,
    heartbeat: watch::Sender<u64>,
    closing: watch::Sender<bool>,
    max_streams: usize,
}

impl LiveHub {
    /// The hub, reading from the events there are now on.
    pub fn start(services: Arc<Services>) -> Arc<Self> {
        let config = services.config.clone();
        let hub = Arc::new(Self {
            services,
            topics: Mutex::default(),
            open: AtomicUsize::new(0),
            last: AtomicI64::new(-1),
            heartbeat: watch::Sender::new(0),
            closing: watch::Sender::new(false),
            max_streams: config.max_event_streams,
        });
        // More often than a proxy's idle timeout (and this server's keep-alive).
        let beat = Duration::from_secs((config.keepalive_seconds / 2).clamp(1, 15));
        tokio::spawn(pump(Arc::downgrade(&hub), hub.services.changes.clone(), beat));
        hub
    }

    /// Ends every stream (the server is stopping).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Streams open on this node.
    pub fn open_streams(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    fn subscribe(&self, discussion: &Discussion) -> broadcast::Receiver<Arc<Frame>> {
        let mut topics = self.topics.lock().unwrap_or_else(|p| p.into_inner());
        let topic = topics.entry(discussion.article_id).or_insert_with(|| Topic {
            sender: broadcast::Sender::new(BACKLOG),
            path: discussion.path.clone(),
        });
        topic.sender.subscribe()
    }

    /// Reads the events numbered since the last read and sends each to its article's streams.
    async fn read_new(&self) -> Result<(), crate::store::StoreError> {
        if self.last.load(Ordering::Relaxed) < 0 {
            let (_, last) = live::event_numbers(&self.services).await?;
            self.last.store(last, Ordering::Relaxed);
            return Ok(());
        }
        loop {
            let after = self.last.load(Ordering::Relaxed);
            let events = live::events_after(&self.services, after, None, BATCH).await?;
            let full = events.len() as u64 == BATCH;
            for (seq, event) in events {
                let topic = {
                    let topics = self.topics.lock().unwrap_or_else(|p| p.into_inner());
                    topics
                        .get(&event.article_id)
                        .filter(|t| t.sender.receiver_count() > 0)
                        .map(|t| (t.sender.clone(), t.path.clone()))
                };
                if let Some((sender, path)) = topic
                    && let Some(frame) = render(&self.services, seq, &event, &path).await?
                {
                    let _ = sender.send(Arc::new(frame));
                }
                self.last.store(seq, Ordering::Relaxed);
            }
            if !full {
                return Ok(());
            }
        }
    }
}

/// Reads new events when woken, once a second in any case, and beats the heart.
async fn pump(hub: Weak<LiveHub>, changes: Arc<crate::services::ChangeHub>, beat: Duration) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut since_beat = Duration::ZERO;
    loop {
        let woken = changes.sequenced.notified();
        tokio::pin!(woken);
        woken.as_mut().enable();
        {
            let Some(hub) = hub.upgrade() else { break };
            if let Err(e) = hub.read_new().await {
                tracing::warn!(error = %e, "live updates cannot read new events");
            }
        }
        tokio::select! {
            () = &mut woken => {}
            _ = tick.tick() => {
                since_beat += Duration::from_secs(1);
                if since_beat >= beat {
                    since_beat = Duration::ZERO;
                    let Some(hub) = hub.upgrade() else { break };
                    hub.heartbeat.send_modify(|n| *n += 1);
                }
            }
        }
    }
}

/// An event as its streams get it; `None` when it shows nothing any more (a reply no longer
/// public by the time it is read).
async fn render(
    services: &Services,
    seq: i64,
    event: &Event,
    path: &str,
) -> Result<Option<Frame>, crate::store::StoreError> {
    let Some(reply_id) = event.reply_id else { return Ok(None) };
    let data = match event.kind {
        EventKind::ReplyPosted | EventKind::ReplyApproved => {
            let reply = discussion::stored_reply(services, reply_id).await?;
            let Some(reply) = reply.filter(|r| r.status == ReplyStatus::Approved) else {
                return Ok(None);
            };
            let context = thread::Context {
                path,
                replies_open: true,
                tz: &services.config.timezone,
                own: thread::Own::default(),
            };
            let html = thread::card(&reply, false, &context).ok();
            LiveEvent {
                kind: event.kind.as_str().to_owned(),
                article_id: event.article_id.get(),
                reply: Some(ReplyOut::of(&reply, 1, false)),
                reply_id: reply_id.get(),
                html,
            }
        }
        EventKind::ReplyRemoved => LiveEvent {
            kind: event.kind.as_str().to_owned(),
            article_id: event.article_id.get(),
            reply: None,
            reply_id: reply_id.get(),
            html: None,
        },
        _ => return Ok(None),
    };
    let json = serde_json::to_string(&data).unwrap_or_default();
    let bytes = format!("id: {seq}\nevent: {}\ndata: {json}\n\n", event.kind.as_str());
    Ok(Some(Frame { seq, bytes: Bytes::from(bytes) }))
}

const RESET: &[u8] = b"event: reset\ndata: {}\n\n";
const HEARTBEAT: &[u8] = b": still here\n\n";

/// Counts a stream while it is open; forgets its article's topic with its last stream.
struct Opened {
    hub: Arc<LiveHub>,
    article: ArticleId,
}

impl Drop for Opened {
    fn drop(&mut self) {
        self.hub.open.fetch_sub(1, Ordering::Relaxed);
        let mut topics = self.hub.topics.lock().unwrap_or_else(|p| p.into_inner());
        if topics.get(&self.article).is_some_and(|t| t.sender.receiver_count() == 0) {
            topics.remove(&self.article);
        }
    }
}

/// One stream's state. The receiver is dropped before the count (fields drop in order), so
/// that the last stream of an article finds no receiver left.
struct Stream {
    rx: broadcast::Receiver<Arc<Frame>>,
    heartbeat: watch::Receiver<u64>,
    closing: watch::Receiver<bool>,
    waiting: VecDeque<Bytes>,
    /// The last event sent: events read again are skipped.
    sent: i64,
    _opened: Opened,
}

async fn next(mut s: Stream) -> Option<(Result<Bytes, Infallible>, Stream)> {
    use broadcast::error::RecvError;
    loop {
        if let Some(bytes) = s.waiting.pop_front() {
            return Some((Ok(bytes), s));
        }
        if *s.closing.borrow() {
            return None;
        }
        tokio::select! {
            received = s.rx.recv() => match received {
                Ok(frame) if frame.seq > s.sent => {
                    s.sent = frame.seq;
                    return Some((Ok(frame.bytes.clone()), s));
                }
                Ok(_) => {}
                // Fell behind: the client reads the thread again.
                Err(RecvError::Lagged(_)) => s.waiting.push_back(Bytes::from_static(RESET)),
                Err(RecvError::Closed) => return None,
            },
            changed = s.heartbeat.changed() => {
                if changed.is_err() {
                    return None;
                }
                return Some((Ok(Bytes::from_static(HEARTBEAT)), s));
            }
            _ = s.closing.changed() => return None,
        }
    }
}

/// Opens a stream of `discussion`'s events, replaying those after `last_seen`.
async fn open(
    state: &AppState,
    discussion: Discussion,
    last_seen: Option<i64>,
) -> Result<Response, ApiError> {
    let hub = state.live.clone();
    if hub.open.fetch_add(1, Ordering::Relaxed) >= hub.max_streams {
        hub.open.fetch_sub(1, Ordering::Relaxed);
        tracing::info!(max = hub.max_streams, "refused a live stream: as many as allowed are open");
        return Err(ApiError::Busy {
            retry_after: 30,
            detail: "This site has as many live streams open as it takes. The page works \
                     without one; try again in a while."
                .into(),
        });
    }
    let opened = Opened { hub: hub.clone(), article: discussion.article_id };
    // Listening before reading what was missed: nothing falls between the two.
    let rx = hub.subscribe(&discussion);
    let mut waiting = VecDeque::from([Bytes::from_static(b"retry: 3000\n: open\n\n")]);
    let sent = match last_seen {
        Some(last) => {
            let (first, _) = live::event_numbers(&state.services).await?;
            // Events after `last` were kept and are no longer: the first kept is later, or
            // none is kept though this node heard of later ones.
            let purged =
                if first == 0 { hub.last.load(Ordering::Relaxed) > last } else { first > last + 1 };
            if purged {
                waiting.push_back(Bytes::from_static(RESET));
            }
            let missed =
                live::events_after(&state.services, last, Some(discussion.article_id), BATCH)
                    .await?;
            if missed.len() as u64 >= BATCH {
                // More was missed than one replay sends: the page read again is quicker, and
                // nothing falls between.
                waiting.push_back(Bytes::from_static(RESET));
                hub.last.load(Ordering::Relaxed)
            } else {
                let mut sent = last;
                for (seq, event) in missed {
                    let frame = render(&state.services, seq, &event, &discussion.path).await?;
                    if let Some(frame) = frame {
                        waiting.push_back(frame.bytes);
                    }
                    sent = seq;
                }
                sent
            }
        }
        None => hub.last.load(Ordering::Relaxed),
    };
    let stream = Stream {
        rx,
        heartbeat: hub.heartbeat.subscribe(),
        closing: hub.closing.subscribe(),
        waiting,
        sent,
        _opened: opened,
    };
    let body = Body::from_stream(futures_util::stream::unfold(stream, next));
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Proxies (nginx) pass each event on at once rather than buffer the stream.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// `Last-Event-ID`, or `last_event_id` in the query (for clients that cannot set headers).
fn last_seen(headers: &HeaderMap, query: Option<&str>) -> Result<Option<i64>, ApiError> {
    let from_header = headers.get("last-event-id").and_then(|v| v.to_str().ok());
    let pairs = super::form::parse(query.unwrap_or_default().as_bytes()).unwrap_or_default();
    let from_query = super::form::first(&pairs, "last_event_id");
    match from_header.or(from_query).map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(raw) => match raw.parse::<i64>() {
            Ok(n) if n >= 0 => Ok(Some(n)),
            _ => Err(ApiError::BadRequest("`Last-Event-ID` is not an event's id.".into())),
        },
    }
}

/// `GET /api/v1/articles/{id}/events`
#[utoipa::path(
    get,
    path = "/api/v1/articles/{id}/events",
    tag = "live",
    params(
        ("id" = i64, Path, description = "The article's id (or a static page's discussion's).", minimum = 1),
        ("Last-Event-ID" = Option<String>, Header, description = "The last event's `id` seen: what came after is sent first."),
    ),
    responses(
        (status = 200, description = "A stream of Server-Sent Events: `reply.posted` and `reply.approved` (a reply now public), `reply.removed`, each with its `id` and a JSON `data`; `reset` when more was missed than the site keeps (read the thread again); comments as a heartbeat.", body = LiveEvent, content_type = "text/event-stream"),
        (status = 400, description = "The id or `Last-Event-ID` is malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such published article.", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "This node has `max_event_streams` open: try again after `Retry-After`.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn article_events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = match id.parse::<i64>() {
        Ok(id) if id > 0 => ArticleId(id),
        _ => return Err(ApiError::BadRequest("The id must be a whole number from 1.".into())),
    };
    let last = last_seen(&headers, query.as_deref())?;
    let Some(discussion) = catalog::discussion(&state.services, id).await? else {
        return Err(ApiError::NotFound("There is no published article with this id.".into()));
    };
    open(&state, discussion, last).await
}

/// `GET /api/v1/threads/{id}/events`
#[utoipa::path(
    get,
    path = "/api/v1/threads/{id}/events",
    tag = "live",
    params(
        ("id" = i64, Path, description = "The embedded thread's id.", minimum = 1),
        ("Last-Event-ID" = Option<String>, Header, description = "The last event's `id` seen: what came after is sent first."),
    ),
    responses(
        (status = 200, description = "As an article's events.", body = LiveEvent, content_type = "text/event-stream"),
        (status = 400, description = "The id or `Last-Event-ID` is malformed.", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such thread.", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "This node has `max_event_streams` open: try again after `Retry-After`.", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn thread_events(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = match id.parse::<i64>() {
        Ok(id) if id > 0 => ArticleId(id),
        _ => return Err(ApiError::BadRequest("The id must be a whole number from 1.".into())),
    };
    let last = last_seen(&headers, query.as_deref())?;
    let Some(thread) = threads::by_id(&state.services, id).await? else {
        return Err(ApiError::NotFound("There is no embedded thread with this id.".into()));
    };
    let settings = settings::effective(&state.services).await?.settings;
    let discussion = catalog::thread_discussion(&thread, &settings, state.services.clock.now());
    open(&state, discussion, last).await
}
