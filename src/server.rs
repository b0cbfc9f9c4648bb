//! Byline's own accept loop over hyper, so that no client can hold a connection for free:
//! a request's head must arrive within `header_timeout_seconds` (a client trickling a byte
//! every half second is closed then), a connection idle between requests is closed after
//! `keepalive_seconds`, and at most `max_connections` are open; past the cap a new one gets a
//! short `503` and is closed at once instead of waiting in the kernel's queue. The time and
//! body limits of a request itself belong to its route (see `web::Limits`).
//!
//! hyper's own header timer is not used: it starts as soon as a response is written, so it
//! would also close every idle keep-alive connection after the head's limit.

use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use crate::web::door::Door;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;

/// What bounds a connection.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    pub header: Duration,
    pub keepalive: Duration,
    pub max_connections: usize,
}

/// Where the server is in its life, as the connections see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Serving,
    /// Stopped accepting: finish the request in flight, then close.
    Draining,
    /// `shutdown_seconds` passed: close now.
    Closing,
}

/// Serves `app` on `listener` until `shutdown` resolves; then stops accepting, lets the
/// requests in flight finish and closes idle connections, and after `grace` closes whatever
/// is still open. Returns once every connection is closed.
pub async fn serve(
    listener: TcpListener,
    app: Door,
    limits: ConnectionLimits,
    refused: Arc<AtomicU64>,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (phase, watching) = watch::channel(Phase::Serving);
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(&error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            refuse(stream);
            refused.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (app, watching) = (app.clone(), watching.clone());
        tokio::spawn(async move {
            connection(stream, peer, app, limits, watching).await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = phase.send(Phase::Draining);
    let everyone = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    tokio::select! {
        _ = permits.acquire_many(everyone) => {}
        () = tokio::time::sleep(grace) => {
            tracing::warn!(
                seconds = grace.as_secs(),
                "closed the connections still open shutdown_seconds after the stop"
            );
            let _ = phase.send(Phase::Closing);
            // Each connection drops its socket as soon as it sees the phase change.
            let _ = tokio::time::timeout(Duration::from_secs(1), permits.acquire_many(everyone))
                .await;
        }
    }
}

/// Out of file descriptors or a connection reset before it was accepted: the first passes
/// when connections close, so wait a little rather than spin; the second is nothing.
async fn accept_failed(error: &std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(error.kind(), ConnectionAborted | ConnectionReset | Interrupted) {
        return;
    }
    tracing::warn!(%error, "cannot accept a connection");
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// Past `max_connections`: a short answer, written only if the socket takes it at once.
fn refuse(stream: TcpStream) {
    const MESSAGE: &str = "The site has too many visitors right now. Please retry.\n";
    let busy = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Retry-After: 5\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{MESSAGE}",
        MESSAGE.len()
    );
    let _ = stream.try_write(busy.as_bytes());
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Door,
    limits: ConnectionLimits,
    mut phase: watch::Receiver<Phase>,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched { inner: stream, activity: activity.clone() });
    let answering = activity.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let mut request = request.map(axum::body::Body::new);
        request.extensions_mut().insert(ConnectInfo(peer));
        let busy = answering.begin();
        let app = app.clone();
        async move {
            let response = app.answer(request).await;
            drop(busy);
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.header_read_timeout(None).keep_alive(true);
    let mut served = pin!(builder.serve_connection(io, service));
    let mut draining = false;
    if *phase.borrow_and_update() != Phase::Serving {
        return;
    }
    // One timer, armed never later than the connection's deadline and never further ahead
    // than the shorter of its two limits: a head that begins, or an answer that ends, can only
    // move the deadline past where the timer is, so a request costs the timer nothing (no
    // wake-up, no re-arming); the timer finds the true deadline when it fires.
    let period = limits.header.min(limits.keepalive);
    let mut timer = pin!(tokio::time::sleep_until(arm(activity.deadline(&limits), period)));
    loop {
        tokio::select! {
            _ = served.as_mut() => return,
            () = timer.as_mut() => {
                let deadline = activity.deadline(&limits);
                if deadline.is_some_and(|d| d <= Instant::now()) {
                    return; // dropping the connection closes the socket
                }
                timer.as_mut().reset(arm(deadline, period));
            }
            changed = phase.changed() => {
                let now = if changed.is_ok() { *phase.borrow_and_update() } else { Phase::Closing };
                match now {
                    Phase::Closing => return,
                    Phase::Draining if !draining => {
                        draining = true;
                        served.as_mut().graceful_shutdown();
                    }
                    _ => {}
                }
            }
        }
    }
}

/// When the connection's timer next looks: at its deadline, or after `period` if that is
/// sooner (or while a request is being answered, which has no deadline).
fn arm(deadline: Option<Instant>, period: Duration) -> Instant {
    let soon = Instant::now() + period;
    deadline.map_or(soon, |d| d.min(soon))
}

/// What a connection is doing, for its timers: requests being answered, the last progress,
/// and when the head of the next request began.
struct Activity {
    opened: Instant,
    busy: AtomicUsize,
    /// Milliseconds since `opened` of the last request answered or bytes written.
    progress: AtomicU64,
    /// Milliseconds since `opened`, plus one, when the next request's head began to arrive;
    /// zero while none has. A new connection is waiting for a head from the start.
    head: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            opened: Instant::now(),
            busy: AtomicUsize::new(0),
            progress: AtomicU64::new(0),
            head: AtomicU64::new(1),
        }
    }

    fn now(&self) -> u64 {
        self.opened.elapsed().as_millis() as u64
    }

    fn at(&self, millis: u64) -> Instant {
        self.opened + Duration::from_millis(millis)
    }

    /// When this connection is to be closed if nothing happens; none while a request is being
    /// answered (its route's time limit bounds it).
    fn deadline(&self, limits: &ConnectionLimits) -> Option<Instant> {
        if self.busy.load(Ordering::Acquire) > 0 {
            return None;
        }
        match self.head.load(Ordering::Acquire) {
            0 => Some(self.at(self.progress.load(Ordering::Acquire)) + limits.keepalive),
            began => Some(self.at(began - 1) + limits.header),
        }
    }

    fn begin(self: &Arc<Self>) -> Busy {
        self.busy.fetch_add(1, Ordering::AcqRel);
        self.head.store(0, Ordering::Release);
        Busy(self.clone())
    }

    /// Bytes came: the next request's head has begun, unless one is being answered.
    fn read_some(&self) {
        if self.busy.load(Ordering::Acquire) == 0 && self.head.load(Ordering::Acquire) == 0 {
            let began = self.now() + 1;
            let _ = self.head.compare_exchange(0, began, Ordering::AcqRel, Ordering::Acquire);
        }
    }

    fn wrote_some(&self) {
        self.progress.store(self.now(), Ordering::Release);
    }
}

/// A request being answered; dropping it marks the answer given.
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.wrote_some();
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The socket, telling [`Activity`] when bytes come and go.
struct Watched {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.read_some();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote_some();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.wrote_some();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Raises the soft limit on open files to what `max_connections` needs (plus room for the
/// database and logs), as far as the hard limit allows; says so when it cannot.
pub fn raise_file_limit(max_connections: usize) {
    let wanted = max_connections as u64 + 256;
    match rlimit::Resource::NOFILE.get() {
        Ok((soft, _)) if soft >= wanted => {}
        Ok((_, hard)) => {
            let raised = wanted.min(hard);
            let result = rlimit::Resource::NOFILE.set(raised, hard);
            if result.is_err() || raised < wanted {
                tracing::warn!(
                    max_connections,
                    open_files = raised,
                    "the limit on open files is below what max_connections needs: past it, \
                     new connections wait (raise the hard limit, e.g. LimitNOFILE= in systemd, \
                     or lower max_connections, BYLINE_MAX_CONNECTIONS)"
                );
            }
        }
        Err(error) => tracing::warn!(%error, "cannot read the limit on open files"),
    }
}
