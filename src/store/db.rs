//! The one interface both backends implement: run a statement, get rows. Every aggregate's
//! SQL is written once against it (`store/articles.rs`, `store/replies.rs`…), and only the
//! real differences between the dialects are written twice.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use async_trait::async_trait;

use super::{Param, Result, Rows, StoreError, Value};

/// A boxed future, as units of work return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A connection to read with (or a transaction). Statements are written with `$1`, `$2`…
/// placeholders, which both backends read.
#[async_trait]
pub trait Db: Send {
    fn dialect(&self) -> Dialect;
    /// Runs a statement that returns rows.
    async fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Rows>;
    /// Runs a statement; returns how many rows it changed.
    async fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64>;
}

/// A transaction: everything in it commits together or not at all. Writes need one.
#[async_trait]
pub trait Tx: Db {
    /// Runs one statement for each list of parameters (pipelined on PostgreSQL, so that
    /// thousands of rows cost a few round trips); returns the rows changed in all.
    async fn execute_each(&mut self, sql: &str, rows: &[Vec<Param<'_>>]) -> Result<u64>;

    /// Runs a statement whose answer nothing needs, as late as the commit: on PostgreSQL it
    /// is sent with the `COMMIT`, in the same round trip. Its failure fails the commit.
    fn defer(&mut self, sql: &'static str, params: Vec<Value>) -> Result<()>;
}

/// Polls a future once: the SQLite backend's statements never wait, so a unit of work run on
/// its writer (or a read on a reader) completes in one poll. One that waits for something
/// else (the network, a timer) is a unit of work doing more than database work.
pub(crate) fn now_or_never<F: Future>(future: F) -> Option<F::Output> {
    let mut future = std::pin::pin!(future);
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(value) => Some(value),
        std::task::Poll::Pending => None,
    }
}

/// For tests: makes the Nth statement of the coming units of work fail, to show that a use
/// case that fails half way leaves the database exactly as it was.
#[derive(Debug, Default)]
pub struct Faults {
    countdown: AtomicU32,
    reads: AtomicU32,
    fired: AtomicBool,
}

impl Faults {
    /// The `n`th statement from now (1 is the next one) in a unit of work fails.
    pub fn arm(&self, n: u32) {
        self.fired.store(false, Ordering::SeqCst);
        self.countdown.store(n, Ordering::SeqCst);
    }

    /// The `n`th read from now (1 is the next one) fails before its first statement.
    pub fn arm_reads(&self, n: u32) {
        self.fired.store(false, Ordering::SeqCst);
        self.reads.store(n, Ordering::SeqCst);
    }

    /// Whether the armed failure happened (and disarms).
    pub fn fired(&self) -> bool {
        self.countdown.store(0, Ordering::SeqCst);
        self.reads.store(0, Ordering::SeqCst);
        self.fired.swap(false, Ordering::SeqCst)
    }

    pub(crate) fn tick_read(&self) -> Result<()> {
        Self::count_down(&self.reads, &self.fired)
    }

    fn tick(&self) -> Result<()> {
        Self::count_down(&self.countdown, &self.fired)
    }

    fn count_down(countdown: &AtomicU32, fired: &AtomicBool) -> Result<()> {
        if countdown.load(Ordering::Relaxed) == 0 {
            return Ok(());
        }
        let before = countdown
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .unwrap_or(0);
        if before == 1 {
            fired.store(true, Ordering::SeqCst);
            return Err(StoreError::Database("a failure injected by a test".into()));
        }
        Ok(())
    }
}

/// A transaction that counts its statements against [`Faults`].
pub(crate) struct Counted<'a> {
    pub inner: &'a mut dyn Tx,
    pub faults: &'a Faults,
}

#[async_trait]
impl Db for Counted<'_> {
    fn dialect(&self) -> Dialect {
        self.inner.dialect()
    }

    async fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Rows> {
        self.faults.tick()?;
        self.inner.query(sql, params).await
    }

    async fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64> {
        self.faults.tick()?;
        self.inner.execute(sql, params).await
    }
}

#[async_trait]
impl Tx for Counted<'_> {
    async fn execute_each(&mut self, sql: &str, rows: &[Vec<Param<'_>>]) -> Result<u64> {
        self.faults.tick()?;
        self.inner.execute_each(sql, rows).await
    }

    fn defer(&mut self, sql: &'static str, params: Vec<Value>) -> Result<()> {
        self.faults.tick()?;
        self.inner.defer(sql, params)
    }
}

/// How often, and how long, uses of the store waited for a free connection (for `/metrics`).
#[derive(Debug, Default)]
pub struct PoolWaits {
    count: std::sync::atomic::AtomicU64,
    micros: std::sync::atomic::AtomicU64,
    shared: std::sync::atomic::AtomicU64,
}

/// [`PoolWaits`] as read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoolWaited {
    pub count: u64,
    pub seconds: f64,
    /// Reads sent on a connection shared with other reads (PostgreSQL's article pages).
    pub shared: u64,
}

impl PoolWaits {
    /// Awaits `getting` (a connection, a turn), counting it as a wait when nothing was free.
    pub async fn time<T>(&self, free: bool, getting: impl Future<Output = T>) -> T {
        use std::sync::atomic::Ordering;
        if free {
            return getting.await;
        }
        let started = std::time::Instant::now();
        let got = getting.await;
        self.count.fetch_add(1, Ordering::Relaxed);
        self.micros.fetch_add(started.elapsed().as_micros() as u64, Ordering::Relaxed);
        got
    }

    /// Counts a read that shared a connection instead of waiting for one of its own.
    pub fn count_shared(&self) {
        self.shared.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    pub fn read(&self) -> PoolWaited {
        use std::sync::atomic::Ordering;
        PoolWaited {
            count: self.count.load(Ordering::Relaxed),
            seconds: self.micros.load(Ordering::Relaxed) as f64 / 1e6,
            shared: self.shared.load(Ordering::Relaxed),
        }
    }
}
