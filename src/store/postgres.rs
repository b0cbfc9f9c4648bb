//! The PostgreSQL backend, for sites that outgrow one machine: `tokio-postgres` through a
//! `deadpool` connection pool, statements prepared once per connection, and a connection
//! that `LISTEN`s for the changes other nodes announce.

use std::error::Error;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use bytes::BytesMut;
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{IsNull, ToSql, Type};
use tokio_postgres::{NoTls, Statement};

use super::migrations::{self, Migration};
use super::{BoxFuture, Db, Dialect, Param, Result, Rows, StoreError, Tx, Value};

/// Any fixed number: nodes starting together take this lock so one migrates at a time.
const MIGRATION_LOCK: i64 = 0x6279_6c69_6e65;

const POOL_SIZE: usize = 16;
/// Rows up to which an article page's read goes on a shared connection (see
/// `Store::read_page`): the server reads a 200-reply thread in about 0.3 ms (`EXPLAIN
/// ANALYZE`), so a read queued behind a 1,000-reply one waits a millisecond or two.
pub const SHARED_ROWS: i64 = 1_000;
/// Statements sent together at most when one runs for many rows.
const PIPELINE: usize = 1_000;

#[derive(Clone)]
pub struct PostgresBackend {
    pool: Pool,
    /// For the connection that listens for other nodes' changes.
    listen_config: tokio_postgres::Config,
    changes: tokio::sync::broadcast::Sender<String>,
    listening: std::sync::Arc<std::sync::OnceLock<()>>,
    pub waits: std::sync::Arc<super::db::PoolWaits>,
    /// Sent first in each announcement, so that this process does not hear its own.
    origin: std::sync::Arc<str>,
    /// See [`super::notices::channel`].
    channel: std::sync::Arc<str>,
    /// Connections that small reads share (see [`Self::read_shared`]).
    shared: std::sync::Arc<Shared>,
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(error: tokio_postgres::Error) -> Self {
        if error.code() == Some(&SqlState::UNIQUE_VIOLATION) {
            return StoreError::Conflict("a unique value");
        }
        let shutting_down =
            [SqlState::ADMIN_SHUTDOWN, SqlState::CRASH_SHUTDOWN, SqlState::CANNOT_CONNECT_NOW];
        if error.code().is_some_and(|c| shutting_down.contains(c)) || lost_connection(&error) {
            return StoreError::Unavailable(describe(&error));
        }
        StoreError::Database(describe(&error))
    }
}

/// Whether the error is the connection's rather than the statement's: the server went away,
/// did not answer, or could not be reached. A value that does not convert, or a row that is
/// not there, is a fault in the statement and stays one.
fn lost_connection(error: &tokio_postgres::Error) -> bool {
    if error.is_closed() || error.source().is_some_and(|s| s.is::<std::io::Error>()) {
        return true;
    }
    // `tokio_postgres` keeps its error kinds private; these are its words for the others.
    let text = error.to_string();
    ["error connecting to server", "timeout waiting for server", "connection closed"]
        .iter()
        .any(|words| text.starts_with(words))
}

/// The server's own message when there is one: `Error`'s display says only "db error".
fn describe(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{}: {} ({})", db.severity(), db.message(), db.code().code()),
        None => match error.source() {
            Some(source) => format!("{error}: {source}"),
            None => error.to_string(),
        },
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(error: deadpool_postgres::PoolError) -> Self {
        let detail = match &error {
            deadpool_postgres::PoolError::Backend(e) => describe(e),
            other => other.to_string(),
        };
        StoreError::Unavailable(format!("no database connection: {detail}"))
    }
}

fn config_from(url: &str) -> Result<tokio_postgres::Config> {
    let mut config = tokio_postgres::Config::from_str(url)
        .map_err(|e| StoreError::Database(format!("not a PostgreSQL URL: {e}")))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(Duration::from_secs(3));
    }
    Ok(config)
}

impl PostgresBackend {
    /// Connects to `url` (`postgres://…`), brings the schema up to date, and starts listening
    /// for other nodes' changes.
    pub async fn connect(url: &str, now: i64) -> Result<Self> {
        let manager = Manager::from_config(
            config_from(url)?,
            NoTls,
            ManagerConfig { recycling_method: RecyclingMethod::Fast },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            // A page waits at most a few seconds for the database, then answers 503.
            .wait_timeout(Some(Duration::from_secs(3)))
            .create_timeout(Some(Duration::from_secs(3)))
            .recycle_timeout(Some(Duration::from_secs(2)))
            .build()
            .map_err(|e| StoreError::Database(format!("cannot build the connection pool: {e}")))?;
        let (changes, _) = tokio::sync::broadcast::channel(256);
        let listen_config = config_from(url)?;
        let origin = crate::domain::signing::new_secret()[..16].into();
        let schema: String =
            pool.get().await?.query_one("SELECT current_schema()", &[]).await?.try_get(0)?;
        let channel = super::notices::channel(&schema).into();
        let backend = Self {
            pool,
            listen_config,
            changes,
            listening: Default::default(),
            waits: Default::default(),
            origin,
            channel,
            shared: Default::default(),
        };
        backend.migrate(now).await?;
        Ok(backend)
    }

    async fn migrate(&self, now: i64) -> Result<()> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    INTEGER PRIMARY KEY,
                 applied_at BIGINT NOT NULL
             )",
        )
        .await?;
        let row =
            tx.query_one("SELECT coalesce(max(version), 0) FROM schema_migrations", &[]).await?;
        let version = row.try_get::<_, i32>(0)? as usize;
        let known = migrations::POSTGRES;
        if version > known.len() {
            return Err(migrations::too_new(version, known.len()));
        }
        for Migration { number, name, sql } in known.iter().skip(version) {
            tx.batch_execute(sql).await?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                &[&(*number as i32), &now],
            )
            .await?;
            tracing::info!(version = number, name, "applied migration");
        }
        tx.commit().await?;
        Ok(())
    }

    /// Starts listening when first asked.
    pub fn changes(&self) -> tokio::sync::broadcast::Receiver<String> {
        let receiver = self.changes.subscribe();
        self.listening.get_or_init(|| {
            let (config, origin) = (self.listen_config.clone(), self.origin.clone());
            tokio::spawn(listen(config, self.changes.clone(), origin, self.channel.clone()));
        });
        receiver
    }

    /// A pooled connection; a wait for one when none is idle is counted.
    async fn lease(&self) -> Result<deadpool_postgres::Object> {
        let free = self.pool.status().available > 0;
        Ok(self.waits.time(free, self.pool.get()).await?)
    }

    /// Notifies every other listening node, outside any transaction.
    pub async fn announce(&self, payload: &str) -> Result<()> {
        let client = self.pool.get().await?;
        let stmt = client.prepare_cached("SELECT pg_notify($1, $2)").await?;
        let sent = format!("{}\n{payload}", self.origin);
        client.execute(&stmt, &[&&*self.channel, &sent]).await?;
        Ok(())
    }

    pub async fn read<T, F>(&self, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a mut dyn Db) -> BoxFuture<'a, Result<T>> + Send + 'static,
    {
        let client = self.lease().await?;
        op(&mut PgDb { client: &client }).await
    }

    /// Runs `op` on a connection that other small reads use at the same time: their
    /// statements are pipelined (one write carries many, one server process answers them in
    /// turn) instead of each waking a server process of its own. For reads of a few indexed
    /// rows only: a long one would hold up those queued behind it. A connection with
    /// [`IN_FLIGHT`] reads on it sends the next to [`Self::read`]; one that fails or takes
    /// [`SHARED_WAIT`] is let go and replaced.
    pub async fn read_shared<T, F>(&self, op: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(&'a mut dyn Db) -> BoxFuture<'a, Result<T>> + Send + 'static,
    {
        let slot = self.shared.next_slot();
        let Ok(_room) = slot.room.try_acquire() else { return self.read(op).await };
        let held = slot.client(&self.pool).await?;
        self.waits.count_shared();
        match tokio::time::timeout(SHARED_WAIT, op(&mut PgDb { client: held.client() })).await {
            Ok(Err(StoreError::Unavailable(why))) => {
                slot.forget(&held);
                Err(StoreError::Unavailable(why))
            }
            Ok(answer) => answer,
            Err(_) => {
                slot.forget(&held);
                let waited = SHARED_WAIT.as_secs();
                Err(StoreError::Unavailable(format!("the database did not answer in {waited} s")))
            }
        }
    }

    /// Runs `op` in one transaction: `BEGIN` goes with its first statement and `COMMIT` with
    /// the statements it deferred, so that a unit of work costs no round trip of its own.
    pub async fn write<T, E, F>(&self, op: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: for<'a> FnOnce(&'a mut dyn Tx) -> BoxFuture<'a, Result<T, E>> + Send + 'static,
    {
        let leased = Leased { object: Some(self.lease().await?) };
        let client = leased.client();
        let mut tx = PgTx { db: PgDb { client }, begun: false, deferred: Vec::new() };
        let outcome = op(&mut tx).await;
        let ended = match &outcome {
            Ok(_) => tx.commit().await,
            Err(_) if tx.begun => client.batch_execute("ROLLBACK").await.map_err(StoreError::from),
            Err(_) => Ok(()),
        };
        // Only a connection whose transaction ended goes back to the pool.
        let value = outcome?;
        ended?;
        leased.release();
        Ok(value)
    }
}

/// The connections short reads share, each taken from the pool and kept while it works.
struct Shared {
    slots: Vec<Slot>,
    next: std::sync::atomic::AtomicUsize,
}

/// Shared connections, each one server process answering in turn. One, two and four rendered
/// the same within the noise on two cores; two, so that a slow read holds up half of them.
const SHARED: usize = 2;
/// Reads in flight on one shared connection at most: past them a read takes a pooled
/// connection of its own, so that a connection that stalls holds up a bounded number.
const IN_FLIGHT: usize = 32;
/// How long a read on a shared connection may take before the connection is given up.
const SHARED_WAIT: Duration = Duration::from_secs(3);

impl Default for Shared {
    fn default() -> Self {
        Self { slots: (0..SHARED).map(|_| Slot::default()).collect(), next: Default::default() }
    }
}

impl Shared {
    fn next_slot(&self) -> &Slot {
        let turn = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        &self.slots[turn % self.slots.len()]
    }
}

struct Slot {
    held: std::sync::Mutex<Option<std::sync::Arc<Leased>>>,
    room: tokio::sync::Semaphore,
    /// Taken while a connection is replaced, so that one read replaces it, not every read.
    refill: tokio::sync::Mutex<()>,
}

impl Default for Slot {
    fn default() -> Self {
        Self {
            held: Default::default(),
            room: tokio::sync::Semaphore::new(IN_FLIGHT),
            refill: Default::default(),
        }
    }
}

impl Slot {
    fn current(&self) -> Option<std::sync::Arc<Leased>> {
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner()).clone();
        held.filter(|h| !h.client().is_closed())
    }

    /// The slot's connection, or a new one from the pool when it has none or it has closed.
    async fn client(&self, pool: &Pool) -> Result<std::sync::Arc<Leased>> {
        if let Some(held) = self.current() {
            return Ok(held);
        }
        let _refilling = self.refill.lock().await;
        if let Some(held) = self.current() {
            return Ok(held);
        }
        let fresh = std::sync::Arc::new(Leased { object: Some(pool.get().await?) });
        *self.held.lock().unwrap_or_else(|p| p.into_inner()) = Some(fresh.clone());
        Ok(fresh)
    }

    /// Lets go of `failed`, unless another read has already replaced it.
    fn forget(&self, failed: &std::sync::Arc<Leased>) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        if held.as_ref().is_some_and(|h| std::sync::Arc::ptr_eq(h, failed)) {
            *held = None;
        }
    }
}

/// A pooled connection lent to a transaction, or kept for reads to share. Dropped before the
/// transaction ended (a panic, a cancelled future, a failed commit), it is closed rather than
/// returned to the pool, and the server rolls the transaction back. A shared one is never
/// released: it is closed when the last read on it lets go (it was replaced because it failed
/// or stalled).
struct Leased {
    object: Option<deadpool_postgres::Object>,
}

impl Leased {
    fn client(&self) -> &deadpool_postgres::Object {
        self.object.as_ref().expect("lent until released")
    }

    fn release(mut self) {
        drop(self.object.take());
    }
}

impl Drop for Leased {
    fn drop(&mut self) {
        if let Some(object) = self.object.take() {
            drop(deadpool_postgres::Object::take(object));
        }
    }
}

/// What an announcement says, unless this process sent it: the line after the sender's name.
fn heard<'a>(payload: &'a str, origin: &str) -> Option<&'a str> {
    let (from, news) = payload.split_once('\n').unwrap_or(("", payload));
    (from != origin).then_some(news)
}

/// Listens on `channel` for as long as anyone wants to hear; reconnects when the connection
/// drops, and says so (a change may have been missed meanwhile) with an empty scope.
async fn listen(
    config: tokio_postgres::Config,
    changes: tokio::sync::broadcast::Sender<String>,
    origin: std::sync::Arc<str>,
    channel: std::sync::Arc<str>,
) {
    use tokio_postgres::AsyncMessage;
    while changes.receiver_count() > 0 {
        match config.connect(NoTls).await {
            Ok((client, mut connection)) => {
                let (forward, origin) = (changes.clone(), origin.clone());
                // The connection delivers notifications only while it is polled.
                let driver = tokio::spawn(async move {
                    loop {
                        match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                            Some(Ok(AsyncMessage::Notification(note))) => {
                                if let Some(news) = heard(note.payload(), &origin) {
                                    let _ = forward.send(news.to_owned());
                                }
                            }
                            Some(Ok(_)) => {}
                            Some(Err(_)) | None => break,
                        }
                    }
                });
                let listen = format!("LISTEN \"{}\"", channel.replace('"', "\"\""));
                if client.batch_execute(&listen).await.is_ok() {
                    // Changes made while nobody listened were missed: say something changed.
                    let _ = changes.send(String::new());
                    let _ = driver.await;
                    tracing::warn!("lost the connection that listens for changes");
                    let _ = changes.send(String::new());
                } else {
                    driver.abort();
                }
                drop(client);
            }
            Err(e) => tracing::warn!(error = %e, "cannot listen for changes"),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// A pooled connection or a transaction on one.
struct PgDb<'c, C> {
    client: &'c C,
}

impl<C: GenericClient + Sync> PgDb<'_, C> {
    async fn prepare(&self, sql: &str) -> Result<Statement> {
        Ok(self.client.prepare_cached(sql).await?)
    }

    async fn query_rows(&self, sql: &str, params: &[Param<'_>]) -> Result<Rows> {
        super::value::refuse_nul(params)?;
        let stmt = self.prepare(sql).await?;
        let bound: Vec<PgParam> = params.iter().map(PgParam).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = bound.iter().map(|p| p as _).collect();
        let rows = self.client.query(&stmt, &refs).await?;
        rows_of(&stmt, rows)
    }

    async fn execute_rows(&self, sql: &str, params: &[Param<'_>]) -> Result<u64> {
        super::value::refuse_nul(params)?;
        let stmt = self.prepare(sql).await?;
        let bound: Vec<PgParam> = params.iter().map(PgParam).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = bound.iter().map(|p| p as _).collect();
        Ok(self.client.execute(&stmt, &refs).await?)
    }

    /// One statement for each list of parameters, sent without waiting for each answer.
    async fn execute_many(&self, sql: &str, rows: &[Vec<Param<'_>>]) -> Result<u64> {
        for row in rows {
            super::value::refuse_nul(row)?;
        }
        let stmt = self.prepare(sql).await?;
        let mut changed = 0;
        for chunk in rows.chunks(PIPELINE) {
            let bound: Vec<Vec<PgParam>> =
                chunk.iter().map(|row| row.iter().map(PgParam).collect()).collect();
            let refs: Vec<Vec<&(dyn ToSql + Sync)>> =
                bound.iter().map(|row| row.iter().map(|p| p as _).collect()).collect();
            let sent = refs.iter().map(|params| self.client.execute(&stmt, params));
            changed += futures_util::future::try_join_all(sent).await?.into_iter().sum::<u64>();
        }
        Ok(changed)
    }
}

#[async_trait]
impl<C: GenericClient + Sync> Db for PgDb<'_, C> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Rows> {
        self.query_rows(sql, params).await
    }

    async fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64> {
        self.execute_rows(sql, params).await
    }
}

/// A transaction on a pooled connection, begun with its first statement.
struct PgTx<'c> {
    db: PgDb<'c, deadpool_postgres::Object>,
    begun: bool,
    /// Statements to send with the `COMMIT`.
    deferred: Vec<(&'static str, Vec<Value>)>,
}

type Sent<'a> = std::pin::Pin<
    Box<
        dyn std::future::Future<Output = std::result::Result<u64, tokio_postgres::Error>>
            + Send
            + 'a,
    >,
>;

/// `first`, with `BEGIN` sent ahead of it in the same round trip unless the transaction has
/// begun (requests made together on one connection are pipelined by tokio-postgres).
async fn begun_with<T>(
    client: &tokio_postgres::Client,
    begun: &mut bool,
    first: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    if *begun {
        return first.await;
    }
    *begun = true;
    let begin = async { client.batch_execute("BEGIN").await.map_err(StoreError::from) };
    let ((), value) = futures_util::future::try_join(begin, first).await?;
    Ok(value)
}

impl PgTx<'_> {
    /// The deferred statements and `COMMIT` (with `BEGIN` if nothing came before), in one
    /// round trip. A deferred statement that fails makes the `COMMIT` a rollback.
    async fn commit(&mut self) -> Result<()> {
        if !self.begun && self.deferred.is_empty() {
            return Ok(());
        }
        let mut statements = Vec::with_capacity(self.deferred.len());
        for (sql, _) in &self.deferred {
            statements.push(self.db.prepare(sql).await?);
        }
        let params: Vec<Vec<Param>> = self
            .deferred
            .iter()
            .map(|(_, values)| values.iter().map(Param::from).collect())
            .collect();
        let bound: Vec<Vec<PgParam>> =
            params.iter().map(|row| row.iter().map(PgParam).collect()).collect();
        let refs: Vec<Vec<&(dyn ToSql + Sync)>> =
            bound.iter().map(|row| row.iter().map(|p| p as _).collect()).collect();
        let client = self.db.client;
        let mut sent: Vec<Sent> = Vec::with_capacity(statements.len() + 2);
        if !self.begun {
            sent.push(Box::pin(async { client.batch_execute("BEGIN").await.map(|()| 0) }));
        }
        for (stmt, params) in statements.iter().zip(&refs) {
            sent.push(Box::pin(client.execute(stmt, params)));
        }
        sent.push(Box::pin(async { client.batch_execute("COMMIT").await.map(|()| 0) }));
        futures_util::future::try_join_all(sent).await?;
        Ok(())
    }
}

#[async_trait]
impl Db for PgTx<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn query(&mut self, sql: &str, params: &[Param<'_>]) -> Result<Rows> {
        let PgTx { db, begun, .. } = self;
        begun_with(db.client, begun, db.query_rows(sql, params)).await
    }

    async fn execute(&mut self, sql: &str, params: &[Param<'_>]) -> Result<u64> {
        let PgTx { db, begun, .. } = self;
        begun_with(db.client, begun, db.execute_rows(sql, params)).await
    }
}

#[async_trait]
impl Tx for PgTx<'_> {
    /// Sends the statements without waiting for each answer: tokio-postgres pipelines the
    /// requests made together on one connection.
    async fn execute_each(&mut self, sql: &str, rows: &[Vec<Param<'_>>]) -> Result<u64> {
        if rows.is_empty() {
            return Ok(0);
        }
        let PgTx { db, begun, .. } = self;
        begun_with(db.client, begun, db.execute_many(sql, rows)).await
    }

    fn defer(&mut self, sql: &'static str, params: Vec<Value>) -> Result<()> {
        self.deferred.push((sql, params));
        Ok(())
    }
}

/// A [`Param`] as the statement's parameter type wants it (an `INTEGER` column takes an
/// `i32`, a `BIGINT` an `i64`).
#[derive(Debug)]
struct PgParam<'a>(&'a Param<'a>);

impl ToSql for PgParam<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn Error + Sync + Send>> {
        match (self.0, ty) {
            (Param::Null, _) => Ok(IsNull::Yes),
            (&Param::Int(n), &Type::INT8) => n.to_sql(ty, out),
            (&Param::Int(n), &Type::INT4) => i32::try_from(n)?.to_sql(ty, out),
            (&Param::Int(n), &Type::INT2) => i16::try_from(n)?.to_sql(ty, out),
            (&Param::Int(n), &Type::FLOAT8) => (n as f64).to_sql(ty, out),
            (&Param::Real(x), &Type::FLOAT8) => x.to_sql(ty, out),
            (Param::Text(s), &(Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME)) => {
                s.to_sql(ty, out)
            }
            (&Param::Bool(b), &Type::BOOL) => b.to_sql(ty, out),
            (Param::Ints(ids), &Type::INT8_ARRAY) => ids.to_sql(ty, out),
            (Param::Texts(texts), &Type::TEXT_ARRAY) => texts.to_sql(ty, out),
            (Param::Bytes(b), &Type::BYTEA) => b.to_sql(ty, out),
            (param, ty) => Err(format!("a {param:?} cannot be bound to a {ty} parameter").into()),
        }
    }

    fn accepts(_: &Type) -> bool {
        // Each value is checked against the statement's type in `to_sql`.
        true
    }

    fn to_sql_checked(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn Error + Sync + Send>> {
        self.to_sql(ty, out)
    }
}

/// Rows as [`Value`]s, read by each column's type; a type the store never uses is an error,
/// not a panic.
fn rows_of(stmt: &Statement, rows: Vec<tokio_postgres::Row>) -> Result<Rows> {
    let width = stmt.columns().len();
    let mut values = Vec::with_capacity(width * rows.len());
    for row in &rows {
        for (i, column) in row.columns().iter().enumerate() {
            let value = match *column.type_() {
                Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map(Value::Int),
                Type::INT4 => row.try_get::<_, Option<i32>>(i)?.map(|n| Value::Int(n.into())),
                Type::INT2 => row.try_get::<_, Option<i16>>(i)?.map(|n| Value::Int(n.into())),
                Type::BOOL => row.try_get::<_, Option<bool>>(i)?.map(Value::Bool),
                Type::FLOAT8 => row.try_get::<_, Option<f64>>(i)?.map(Value::Real),
                Type::FLOAT4 => row.try_get::<_, Option<f32>>(i)?.map(|x| Value::Real(x.into())),
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => {
                    row.try_get::<_, Option<String>>(i)?.map(Value::Text)
                }
                Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Bytes),
                // `pg_notify` and `pg_advisory_xact_lock` return nothing.
                Type::VOID => None,
                ref other => {
                    return Err(StoreError::Database(format!(
                        "column {} has the type {other}, which the store does not read",
                        column.name()
                    )));
                }
            };
            values.push(value.unwrap_or(Value::Null));
        }
    }
    Ok(Rows::new(width, values))
}
