//! The embedded backend: one SQLite file in WAL mode with `synchronous = FULL`, so that a
//! commit has reached the disk when it returns. One writing thread owns the only writing
//! connection and commits units of work in groups; reads use a few kept read-only
//! connections on tokio's blocking threads.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::Connection;
use rusqlite::types::ValueRef;

use super::db::now_or_never;
use super::migrations::{self, Migration};
use super::{BoxFuture, Db, Dialect, Param, Result, Rows, StoreError, Tx, Value};

/// Read connections: at most this many, kept open. A read waits for a free one rather than
/// opening another: a new connection parses the schema and starts with a cold page cache,
/// which the profile showed costing replies on a large site.
const READERS: usize = 8;
/// Rows up to which an article page's read runs on the calling thread (see
/// `Store::read_page`).
pub const HERE_ROWS: i64 = 100;
/// Units of work committed together at most.
const GROUP_MAX: usize = 256;
/// How often an idle writer looks for commits made by other processes (`byline` commands on
/// the same file), which make this process's cached pages stale.
const WATCH_EVERY: Duration = Duration::from_millis(250);
/// Statements each connection keeps prepared.
const STATEMENT_CACHE: usize = 256;

#[derive(Clone)]
pub struct SqliteBackend {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    readers: Mutex<Vec<Connection>>,
    /// One permit a read connection.
    reading: tokio::sync::Semaphore,
    waits: super::db::PoolWaits,
    /// Units of work for the writing thread.
    jobs: Sender<Box<dyn WriteJob>>,
    changes: tokio::sync::broadcast::Sender<String>,
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(e, _) = &error {
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            {
                return StoreError::Conflict("a unique value");
            }
            if e.code == rusqlite::ErrorCode::DatabaseBusy
                || e.code == rusqlite::ErrorCode::DatabaseLocked
            {
                return StoreError::Unavailable(error.to_string());
            }
        }
        StoreError::Database(error.to_string())
    }
}

impl SqliteBackend {
    /// Opens (creating if needed) the file, brings its schema up to date and starts the
    /// writing thread.
    pub fn open(path: &Path, now: i64) -> Result<Self> {
        let mut writer = Connection::open(path)?;
        configure(&writer, false)?;
        migrate(&mut writer, now)?;
        let (jobs, queue) = std::sync::mpsc::channel();
        let (changes, _) = tokio::sync::broadcast::channel(64);
        let announce = changes.clone();
        std::thread::Builder::new()
            .name("byline-writer".into())
            .spawn(move || write_loop(writer, queue, announce))
            .map_err(|e| StoreError::Database(format!("cannot start the writer: {e}")))?;
        let inner = Inner {
            path: path.to_owned(),
            readers: Mutex::default(),
            reading: tokio::sync::Semaphore::new(READERS),
            waits: Default::default(),
            jobs,
            changes,
        };
        Ok(Self { inner: Arc::new(inner) })
    }

    pub fn changes(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.inner.changes.subscribe()
    }

    pub fn waits(&self) -> &super::db::PoolWaits {
        &self.inner.waits
    }

    /// Runs `op` on a read connection, on a blocking thread, in one go.
    pub async fn read<T, F>(&self, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a mut dyn Db) -> BoxFuture<'a, Result<T>> + Send + 'static,
    {
        let inner = self.inner.clone();
        let free = self.inner.reading.available_permits() > 0;
        let turn = self.inner.waits.time(free, self.inner.reading.acquire()).await;
        let _turn = turn.expect("the semaphore is never closed");
        let task = tokio::task::spawn_blocking(move || {
            let mut conn = inner.take_reader()?;
            let result = read_in_one_snapshot(&mut conn, op);
            inner.give_back(conn);
            result
        });
        task.await.map_err(|e| StoreError::Database(format!("a read failed: {e}")))?
    }

    /// [`Self::read`] on the calling thread (see `Store::read_page`).
    pub async fn read_here<T, F>(&self, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a mut dyn Db) -> BoxFuture<'a, Result<T>> + Send + 'static,
    {
        let free = self.inner.reading.available_permits() > 0;
        let turn = self.inner.waits.time(free, self.inner.reading.acquire()).await;
        let _turn = turn.expect("the semaphore is never closed");
        let mut conn = self.inner.take_reader()?;
        let result = read_in_one_snapshot(&mut conn, op);
        self.inner.give_back(conn);
        result
    }

    /// Hands `op` to the writing thread and waits for its group to commit.
    pub async fn write<T, E, F>(&self, op: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: for<'a> FnOnce(&'a mut dyn Tx) -> BoxFuture<'a, Result<T, E>> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job = Box::new(Job { op: Some(op), result: None, reply });
        let stopped = || E::from(StoreError::Database("the database writer has stopped".into()));
        self.inner.jobs.send(job).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

impl Inner {
    fn take_reader(&self) -> Result<Connection> {
        if let Some(conn) = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return Ok(conn);
        }
        let conn = Connection::open(&self.path)?;
        configure(&conn, true)?;
        Ok(conn)
    }

    fn give_back(&self, conn: Connection) {
        let mut idle = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < READERS {
            idle.push(conn);
        }
    }
}

/// WAL with `synchronous = FULL`: a commit has reached the disk when it returns.
fn configure(conn: &Connection, read_only: bool) -> Result<()> {
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.pragma_update(None, "foreign_keys", true)?;
    if read_only {
        conn.pragma_update(None, "query_only", true)?;
    } else {
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Database(format!("could not switch to WAL (got {mode})")));
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
    }
    Ok(())
}

fn migrate(conn: &mut Connection, _now: i64) -> Result<()> {
    let version: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = migrations::SQLITE;
    if version > known.len() {
        return Err(migrations::too_new(version, known.len()));
    }
    for Migration { number, name, sql } in known.iter().skip(version) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", number)?;
        tx.commit()?;
        tracing::info!(version = number, name, "applied migration");
    }
    Ok(())
}

/// A unit of work waiting for the writing thread.
trait WriteJob: Send {
    /// Runs the unit of work in its savepoint; whether it succeeded (and so is kept).
    fn run(&mut self, tx: &mut dyn Tx) -> bool;
    /// Says how it ended, once its group's commit is known.
    fn finish(self: Box<Self>, committed: Result<()>);
}

struct Job<T, E, F> {
    op: Option<F>,
    result: Option<Result<T, E>>,
    reply: tokio::sync::oneshot::Sender<Result<T, E>>,
}

impl<T, E, F> WriteJob for Job<T, E, F>
where
    T: Send,
    E: From<StoreError> + Send,
    F: for<'a> FnOnce(&'a mut dyn Tx) -> BoxFuture<'a, Result<T, E>> + Send,
{
    fn run(&mut self, tx: &mut dyn Tx) -> bool {
        let Some(op) = self.op.take() else { return false };
        // A panic in a unit of work fails that unit alone; the writer carries on.
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| now_or_never(op(tx))));
        let result = match outcome {
            Ok(Some(result)) => result,
            Ok(None) => Err(E::from(StoreError::Database(
                "a unit of work waited for something other than the database".into(),
            ))),
            Err(_) => Err(E::from(StoreError::Database("a unit of work panicked".into()))),
        };
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, committed: Result<()>) {
        let result = match (self.result, committed) {
            (Some(Err(e)), _) => Err(e),
            (Some(Ok(value)), Ok(())) => Ok(value),
            // The group's failure as it was (a busy database stays unavailable, not a bug).
            (_, Err(e)) => Err(E::from(e)),
            (None, Ok(())) => {
                Err(E::from(StoreError::Database("the unit of work never ran".into())))
            }
        };
        let _ = self.reply.send(result);
    }
}

/// The writing thread: commits every unit of work that arrived while the previous group was
/// written in one transaction (one fsync for the group), a savepoint each, so that one that
/// fails fails alone. Each is answered only after the commit. When idle, it watches for
/// commits by other processes.
fn write_loop(
    mut conn: Connection,
    queue: Receiver<Box<dyn WriteJob>>,
    changes: tokio::sync::broadcast::Sender<String>,
) {
    let mut seen = data_version(&conn);
    loop {
        let first = match queue.recv_timeout(WATCH_EVERY) {
            Ok(job) => job,
            Err(RecvTimeoutError::Timeout) => {
                watch(&conn, &mut seen, &changes);
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let mut group = vec![first];
        while group.len() < GROUP_MAX {
            match queue.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        commit_group(&mut conn, group);
        // This connection's own commits leave its data version alone: a change here is
        // another process's, made meanwhile (say, while this one waited for the write lock).
        watch(&conn, &mut seen, &changes);
    }
}

fn commit_group(conn: &mut Connection, mut group: Vec<Box<dyn WriteJob>>) {
    let outcome = (|| -> Result<()> {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        for job in &mut group {
            conn.execute_batch("SAVEPOINT unit")?;
            if job.run(&mut SqliteDb { conn: &mut *conn }) {
                conn.execute_batch("RELEASE unit")?;
            } else {
                conn.execute_batch("ROLLBACK TO unit; RELEASE unit")?;
            }
        }
        conn.execute_batch("COMMIT")?;
        Ok(())
    })();
    if outcome.is_err() && !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    for job in group {
        job.finish(outcome.clone());
    }
}

fn data_version(conn: &Connection) -> Option<i64> {
    conn.query_row("PRAGMA data_version", [], |r| r.get(0)).ok()
}

/// Another process committed (say, `byline reply approve`): anything may have changed.
fn watch(
    conn: &Connection,
    seen: &mut Option<i64>,
    changes: &tokio::sync::broadcast::Sender<String>,
) {
    let now = data_version(conn);
    if now != *seen {
        *seen = now;
        let _ = changes.send(String::new());
    }
}

/// A connection, used synchronously: its statements never wait. (`&mut`, because a
/// connection may move between threads but not be shared by them.)
/// Runs a read's statements in one transaction, so that they all see the database as it
/// was at the first (in WAL mode each statement outside one sees the latest commit).
fn read_in_one_snapshot<T, F>(conn: &mut Connection, op: F) -> Result<T>
where
    F: for<'a> FnOnce(&'a mut dyn Db) -> BoxFuture<'a, Result<T>>,
{
    conn.prepare_cached("BEGIN DEFERRED")?.execute([])?;
    let result = now_or_never(op(&mut SqliteDb { conn })).unwrap_or_else(|| {
        Err(StoreError::Database("a read waited for something other than SQLite".into()))
    });
    // Nothing was written: ending it either way only lets the snapshot go.
    let ended = conn.prepare_cached("COMMIT").and_then(|mut end| end.execute([]));
    if ended.is_err() && !conn.is_autocommit() {
        // The connection goes back to the pool: it must not stay inside this read.
        let _ = conn.execute_batch("ROLLBACK");
    }
    let value = result?;
    ended?;
    Ok(value)
}

struct SqliteDb<'c> {
    conn: &'c mut Connection,
}

#[async_trait]
impl Db for SqliteDb<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Rows> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let positions = positions(&stmt)?;
        bind(&mut stmt, &positions, params)?;
        let width = stmt.column_count();
        let mut values = Vec::new();
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next()? {
            for i in 0..width {
                values.push(value_of(row.get_ref(i)?)?);
            }
        }
        Ok(Rows::new(width, values))
    }

    async fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let positions = positions(&stmt)?;
        bind(&mut stmt, &positions, params)?;
        Ok(stmt.raw_execute()? as u64)
    }
}

#[async_trait]
impl Tx for SqliteDb<'_> {
    async fn execute_each(&mut self, sql: &str, rows: &[Vec<Param<'_>>]) -> Result<u64> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let positions = positions(&stmt)?;
        let mut changed = 0;
        for params in rows {
            bind(&mut stmt, &positions, params)?;
            changed += stmt.raw_execute()? as u64;
        }
        Ok(changed)
    }

    /// One writer, no round trips: run at once.
    fn defer(&mut self, sql: &'static str, params: Vec<Value>) -> Result<()> {
        let params: Vec<Param> = params.iter().map(Param::from).collect();
        let mut stmt = self.conn.prepare_cached(sql)?;
        let positions = positions(&stmt)?;
        bind(&mut stmt, &positions, &params)?;
        stmt.raw_execute()?;
        Ok(())
    }
}

/// Which parameter each of a statement's placeholders takes: SQLite reads `$1` as a named
/// parameter, whose position in the statement need not be 1.
fn positions(stmt: &rusqlite::Statement) -> Result<Vec<usize>> {
    (1..=stmt.parameter_count())
        .map(|index| {
            let name = stmt.parameter_name(index).unwrap_or("?");
            name.strip_prefix('$')
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|n| n.checked_sub(1))
                .ok_or_else(|| StoreError::Database(format!("parameter {name} is not $N")))
        })
        .collect()
}

/// Binds each placeholder to its parameter (see [`positions`]).
fn bind(stmt: &mut rusqlite::Statement, positions: &[usize], params: &[Param<'_>]) -> Result<()> {
    super::value::refuse_nul(params)?;
    for (i, position) in positions.iter().enumerate() {
        let index = i + 1;
        let param = params.get(*position).ok_or_else(|| {
            StoreError::Database(format!("no value for ${} of {}", position + 1, params.len()))
        })?;
        match *param {
            Param::Null => stmt.raw_bind_parameter(index, rusqlite::types::Null)?,
            Param::Int(n) => stmt.raw_bind_parameter(index, n)?,
            Param::Real(x) => stmt.raw_bind_parameter(index, x)?,
            Param::Text(s) => stmt.raw_bind_parameter(index, s)?,
            Param::Bool(b) => stmt.raw_bind_parameter(index, b)?,
            Param::Bytes(b) => stmt.raw_bind_parameter(index, b)?,
            // Read by `json_each($N)`.
            Param::Ints(ids) => {
                let list: Vec<String> = ids.iter().map(i64::to_string).collect();
                stmt.raw_bind_parameter(index, format!("[{}]", list.join(",")))?
            }
            Param::Texts(texts) => stmt.raw_bind_parameter(
                index,
                serde_json::to_string(texts).map_err(|e| StoreError::Database(e.to_string()))?,
            )?,
        }
    }
    Ok(())
}

fn value_of(value: ValueRef<'_>) -> Result<Value> {
    Ok(match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(n) => Value::Int(n),
        ValueRef::Real(x) => Value::Real(x),
        ValueRef::Text(bytes) => Value::Text(
            String::from_utf8(bytes.to_vec())
                .map_err(|_| StoreError::Database("text that is not UTF-8".into()))?,
        ),
        ValueRef::Blob(bytes) => Value::Bytes(bytes.to_vec()),
    })
}
