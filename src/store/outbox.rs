//! The durable outbox: events recorded in the transaction of the change that causes them, and
//! their delivery to each registered handler. An event is given its place in the order of
//! delivery after it commits ([`OutboxWrites::sequence_events`]), so that recording one takes
//! no lock another transaction waits for. A delivery is claimed by one node at a time
//! (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one writer) for a lease, and is not
//! claimed while an earlier event of the same handler and article is undone, so that order is
//! kept per handler and article.

use async_trait::async_trait;

use super::{Db, Dialect, Result, Row, StoreError, Tx, Value, dialect_sql};
use crate::domain::events::{Event, NewEvent};
use crate::domain::{ArticleId, EventId, EventKind};

/// A delivery claimed for handling: the event, and how many attempts this one makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claimed {
    pub event: Event,
    pub attempt: u32,
}

/// Where one event stands with one handler (for staff, and for tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub event_id: EventId,
    pub handler: String,
    pub attempts: u32,
    pub next_attempt_at: i64,
    pub claimed_by: Option<String>,
    pub done_at: Option<i64>,
    /// `delivered`, or `given up`.
    pub outcome: Option<String>,
    pub last_error: String,
}

/// A delivery given up, as staff are told of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GivenUp {
    pub event_id: EventId,
    pub kind: EventKind,
    pub reply_id: Option<crate::domain::ReplyId>,
    /// When it was given up.
    pub at: i64,
    pub reason: String,
}

const EVENT_COLUMNS: &str = "id, kind, article_id, reply_id, created_at, media_id";

fn event_from_row(r: &mut Row) -> Result<Event> {
    Ok(Event {
        id: r.id(0)?,
        kind: r.parsed(1, EventKind::parse)?,
        article_id: r.id(2)?,
        reply_id: r.opt_id(3)?,
        created_at: r.int(4)?,
        media_id: r.opt_id(5)?,
    })
}

pub(crate) const CLAIM_SQLITE: &str = "UPDATE outbox_deliveries
    SET claimed_by = $2, claimed_until = $4, attempts = attempts + 1
  WHERE handler = $1 AND event_id IN (
        SELECT d.event_id FROM outbox_deliveries d
         WHERE d.handler = $1 AND d.done_at IS NULL AND d.next_attempt_at <= $3
           AND (d.claimed_until IS NULL OR d.claimed_until <= $3)
           AND NOT EXISTS (SELECT 1 FROM outbox_deliveries p
                            WHERE p.handler = d.handler AND p.article_id = d.article_id
                              AND p.seq < d.seq AND p.done_at IS NULL)
         ORDER BY d.seq LIMIT $5)
  RETURNING event_id, attempts";

/// Rows another node is claiming are skipped, not waited for; the outer conditions are
/// checked again on the row as it is when locked.
pub(crate) const CLAIM_POSTGRES: &str = "UPDATE outbox_deliveries o
    SET claimed_by = $2, claimed_until = $4, attempts = o.attempts + 1
  WHERE o.handler = $1 AND o.done_at IS NULL
    AND (o.claimed_until IS NULL OR o.claimed_until <= $3)
    AND o.event_id IN (
        SELECT d.event_id FROM outbox_deliveries d
         WHERE d.handler = $1 AND d.done_at IS NULL AND d.next_attempt_at <= $3
           AND (d.claimed_until IS NULL OR d.claimed_until <= $3)
           AND NOT EXISTS (SELECT 1 FROM outbox_deliveries p
                            WHERE p.handler = d.handler AND p.article_id = d.article_id
                              AND p.seq < d.seq AND p.done_at IS NULL)
         ORDER BY d.seq LIMIT $5
         FOR UPDATE OF d SKIP LOCKED)
  RETURNING o.event_id, o.attempts";

/// On SQLite one writer commits one transaction at a time, so ids are already in the order
/// of commit: an event's id is its place.
const DELIVERIES_SQLITE: &str = "INSERT INTO outbox_deliveries
        (event_id, seq, handler, article_id, next_attempt_at)
    SELECT e.id, e.id, h.name, e.article_id, e.created_at
      FROM outbox_events e JOIN outbox_handlers h ON h.registered_at <= e.created_at
     WHERE e.seq IS NULL AND (h.kinds = '' OR ',' || h.kinds || ',' LIKE '%,' || e.kind || ',%')";
const SEQUENCE_SQLITE: &str = "UPDATE outbox_events SET seq = id WHERE seq IS NULL";

/// On PostgreSQL ids are taken before commit, so they are not in the order of commit; but an
/// event recorded after another's commit has the larger id. So the events committed since the
/// last time go after every earlier one, in id order among themselves.
const SEQUENCE_POSTGRES: &str = "WITH fresh AS (
         SELECT id, row_number() OVER (ORDER BY id) AS n
           FROM outbox_events WHERE seq IS NULL),
     top AS (SELECT coalesce(max(seq), 0) AS seq FROM outbox_events),
     placed AS (
         UPDATE outbox_events e SET seq = top.seq + fresh.n
           FROM fresh, top WHERE e.id = fresh.id
         RETURNING e.id, e.seq, e.article_id, e.created_at, e.kind)
  INSERT INTO outbox_deliveries (event_id, seq, handler, article_id, next_attempt_at)
  SELECT p.id, p.seq, h.name, p.article_id, p.created_at
    FROM placed p JOIN outbox_handlers h ON h.registered_at <= p.created_at
   WHERE h.kinds = '' OR ',' || h.kinds || ',' LIKE '%,' || p.kind || ',%'";

/// The statement that records an event, followed by `$tail`.
macro_rules! event_insert {
    ($tail:literal) => {
        concat!(
            "INSERT INTO outbox_events (kind, article_id, reply_id, created_at, media_id)
             VALUES ($1, $2, $3, $4, $5)",
            $tail
        )
    };
}

/// Nodes give events their places one at a time (any fixed number in a range of its own),
/// taken with the site's schema hashed in: sites sharing a database in schemas of their own
/// must not hold back each other's events.
const SEQUENCER_LOCK: i64 = (1 << 62) | 0x6f75_7462_6f78;

const EVENTS_SQLITE: &str = "SELECT id, kind, article_id, reply_id, created_at, media_id
   FROM outbox_events WHERE id IN (SELECT value FROM json_each($1)) ORDER BY id";
const EVENTS_POSTGRES: &str = "SELECT id, kind, article_id, reply_id, created_at, media_id
   FROM outbox_events WHERE id = ANY($1) ORDER BY id";

#[async_trait]
pub trait OutboxReads: Db {
    async fn outbox_event(&mut self, id: EventId) -> Result<Option<Event>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM outbox_events WHERE id = $1");
        self.query(&sql, &[id.into()]).await?.first(event_from_row)
    }

    /// Every recorded event, oldest first.
    async fn outbox_events(&mut self) -> Result<Vec<Event>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM outbox_events ORDER BY id");
        self.query(&sql, &[]).await?.map(event_from_row)
    }

    /// Where every event stands with `handler`, oldest first.
    async fn deliveries(&mut self, handler: &str) -> Result<Vec<Delivery>> {
        let sql = "SELECT event_id, handler, attempts, next_attempt_at, claimed_by, done_at,
                          outcome, last_error
                     FROM outbox_deliveries WHERE handler = $1 ORDER BY event_id";
        self.query(sql, &[handler.into()]).await?.map(|r| {
            Ok(Delivery {
                event_id: r.id(0)?,
                handler: r.text(1)?,
                attempts: r.int(2)? as u32,
                next_attempt_at: r.int(3)?,
                claimed_by: r.opt_text(4)?,
                done_at: r.opt_int(5)?,
                outcome: r.opt_text(6)?,
                last_error: r.text(7)?,
            })
        })
    }

    /// The deliveries `handler` gave up, newest first, with their reason (for staff).
    async fn given_up(&mut self, handler: &str, limit: u64) -> Result<Vec<GivenUp>> {
        let sql = "SELECT d.event_id, e.kind, e.reply_id, d.done_at, d.last_error
                     FROM outbox_deliveries d JOIN outbox_events e ON e.id = d.event_id
                    WHERE d.handler = $1 AND d.outcome = 'given up'
                    ORDER BY d.done_at DESC, d.event_id DESC LIMIT $2";
        self.query(sql, &[handler.into(), limit.into()]).await?.map(|r| {
            Ok(GivenUp {
                event_id: r.id(0)?,
                kind: r.parsed(1, EventKind::parse)?,
                reply_id: r.opt_id(2)?,
                at: r.int(3)?,
                reason: r.text(4)?,
            })
        })
    }

    /// How many deliveries are not yet done, and when the oldest of their events was
    /// recorded (for `/metrics`).
    async fn outbox_backlog(&mut self) -> Result<(u64, Option<i64>)> {
        let sql = "SELECT COUNT(*), MIN(e.created_at)
                     FROM outbox_deliveries d JOIN outbox_events e ON e.id = d.event_id
                    WHERE d.done_at IS NULL";
        let row = self.query(sql, &[]).await?.first(|r| Ok((r.int(0)?, r.opt_int(1)?)))?;
        Ok(row.map_or((0, None), |(n, at)| (n as u64, at)))
    }

    /// Events that change what a thread shows (a reply made public, or public no more),
    /// numbered after `after`, in their order; of one article, or of all. What live updates
    /// send, and replay after a reader's last event.
    async fn reply_events_after(
        &mut self,
        after: i64,
        article: Option<ArticleId>,
        limit: u64,
    ) -> Result<Vec<(i64, Event)>> {
        // Two statements, so that each has the plan its index gives.
        let (filter, params) = match article {
            Some(article) => {
                ("article_id = $3 AND", vec![after.into(), limit.into(), article.into()])
            }
            None => ("", vec![after.into(), limit.into()]),
        };
        let sql = format!(
            "SELECT {EVENT_COLUMNS}, seq FROM outbox_events
              WHERE {filter} seq > $1
                AND kind IN ('reply.posted', 'reply.approved', 'reply.removed')
              ORDER BY seq LIMIT $2"
        );
        self.query(&sql, &params).await?.map(|r| Ok((r.int(6)?, event_from_row(r)?)))
    }

    /// The first and last numbers of the events kept (0 when there are none).
    async fn event_numbers(&mut self) -> Result<(i64, i64)> {
        let sql = "SELECT coalesce(min(seq), 0), coalesce(max(seq), 0) FROM outbox_events";
        let row = self.query(sql, &[]).await?.first(|r| Ok((r.int(0)?, r.int(1)?)))?;
        Ok(row.unwrap_or((0, 0)))
    }
}

impl<T: Db + ?Sized> OutboxReads for T {}

#[async_trait]
pub trait OutboxWrites: Tx {
    /// Makes every event recorded from now on due to `handler` too, and notes that a node
    /// runs it at `at` (nodes say so again while they run it).
    async fn register_handler(&mut self, handler: &str, at: i64) -> Result<()> {
        let sql = "INSERT INTO outbox_handlers (name, registered_at, seen_at) VALUES ($1, $2, $2)
                   ON CONFLICT (name) DO UPDATE SET seen_at = excluded.seen_at";
        self.execute(sql, &[handler.into(), at.into()]).await?;
        Ok(())
    }

    /// Registers a handler that acts on these kinds of event only (none: every kind): the
    /// others make no delivery for it.
    async fn register_handler_for(
        &mut self,
        handler: &str,
        kinds: &[EventKind],
        at: i64,
    ) -> Result<()> {
        let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
        let sql = "INSERT INTO outbox_handlers (name, registered_at, seen_at, kinds)
                   VALUES ($1, $2, $2, $3)
                   ON CONFLICT (name) DO UPDATE SET seen_at = excluded.seen_at,
                                                    kinds = excluded.kinds";
        self.execute(sql, &[handler.into(), at.into(), kinds.join(",").as_str().into()]).await?;
        Ok(())
    }

    /// Forgets the handlers no node has run since `before`, and what they had left to do, so
    /// that a handler taken out of the code holds no event back for ever. Returns their names.
    async fn retire_handlers(&mut self, before: i64) -> Result<Vec<String>> {
        let sql = "DELETE FROM outbox_handlers WHERE seen_at < $1 RETURNING name";
        let retired = self.query(sql, &[before.into()]).await?.map(|r| r.text(0))?;
        if !retired.is_empty() {
            let sql = "DELETE FROM outbox_deliveries
                        WHERE handler NOT IN (SELECT name FROM outbox_handlers)";
            self.execute(sql, &[]).await?;
        }
        Ok(retired)
    }

    /// Records an event; once given its place it is due to every handler registered by then
    /// (by the time it was recorded).
    async fn record_event(&mut self, event: &NewEvent, at: i64) -> Result<EventId> {
        let insert = event_insert!(" RETURNING id");
        let params = [
            event.kind.as_str().into(),
            event.article_id.into(),
            event.reply_id.into(),
            at.into(),
            event.media_id.into(),
        ];
        Ok(EventId(self.query(insert, &params).await?.int()?))
    }

    /// Records an event as [`OutboxWrites::record_event`] does, with the commit (on
    /// PostgreSQL, in the commit's round trip), when nothing needs its id.
    fn queue_event(&mut self, event: &NewEvent, at: i64) -> Result<()> {
        let values = vec![
            Value::Text(event.kind.as_str().to_owned()),
            Value::Int(event.article_id.get()),
            event.reply_id.map_or(Value::Null, |id| Value::Int(id.get())),
            Value::Int(at),
            event.media_id.map_or(Value::Null, |id| Value::Int(id.get())),
        ];
        self.defer(event_insert!(""), values)
    }

    /// Gives the events committed since the last time their places in the order of delivery,
    /// and makes them due to every registered handler; returns how many deliveries that made.
    /// On PostgreSQL a node
    /// that finds another doing it leaves it to that one.
    async fn sequence_events(&mut self) -> Result<u64> {
        match self.dialect() {
            Dialect::Sqlite => {
                let made = self.execute(DELIVERIES_SQLITE, &[]).await?;
                self.execute(SEQUENCE_SQLITE, &[]).await?;
                Ok(made)
            }
            Dialect::Postgres => {
                let lock =
                    "SELECT pg_try_advisory_xact_lock(hashtextextended(current_schema(), $1))";
                if !self.query(lock, &[SEQUENCER_LOCK.into()]).await?.bool()? {
                    return Ok(0);
                }
                self.execute(SEQUENCE_POSTGRES, &[]).await
            }
        }
    }

    /// Claims up to `limit` of `handler`'s due deliveries for `node` until `until`: the oldest
    /// first, at most one per article.
    async fn claim_deliveries(
        &mut self,
        handler: &str,
        node: &str,
        now: i64,
        until: i64,
        limit: u32,
    ) -> Result<Vec<Claimed>> {
        let sql = dialect_sql(self, CLAIM_SQLITE, CLAIM_POSTGRES);
        let params =
            [handler.into(), node.into(), now.into(), until.into(), i64::from(limit).into()];
        let claimed: Vec<(i64, u32)> =
            self.query(sql, &params).await?.map(|r| Ok((r.int(0)?, r.int(1)? as u32)))?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = claimed.iter().map(|(id, _)| *id).collect();
        let sql = dialect_sql(self, EVENTS_SQLITE, EVENTS_POSTGRES);
        let events = self.query(sql, &[ids.as_slice().into()]).await?.map(event_from_row)?;
        events
            .into_iter()
            .map(|event| {
                let attempt = claimed.iter().find(|(id, _)| *id == event.id.get()).map(|(_, a)| *a);
                let attempt = attempt.ok_or(StoreError::NotFound("a claimed event"))?;
                Ok(Claimed { event, attempt })
            })
            .collect()
    }

    /// `handler` has done `event` (whichever node finished first: a late finisher's
    /// completion changes nothing).
    async fn complete_delivery(&mut self, event: EventId, handler: &str, now: i64) -> Result<()> {
        let sql = "UPDATE outbox_deliveries
                      SET done_at = $3, outcome = 'delivered', claimed_by = NULL,
                          claimed_until = NULL
                    WHERE event_id = $1 AND handler = $2 AND done_at IS NULL";
        self.execute(sql, &[event.into(), handler.into(), now.into()]).await?;
        Ok(())
    }

    /// `handler` on `node` failed at `event`: tried again from `retry_at`. A node whose lease
    /// ran out (another took the delivery over) changes nothing.
    async fn fail_delivery(
        &mut self,
        event: EventId,
        handler: &str,
        node: &str,
        error: &str,
        retry_at: i64,
    ) -> Result<()> {
        let sql = "UPDATE outbox_deliveries
                      SET last_error = $4, next_attempt_at = $5, claimed_by = NULL,
                          claimed_until = NULL
                    WHERE event_id = $1 AND handler = $2 AND claimed_by = $3
                      AND done_at IS NULL";
        let params = [event.into(), handler.into(), node.into(), error.into(), retry_at.into()];
        self.execute(sql, &params).await?;
        Ok(())
    }

    /// `handler` on `node` stops trying `event`; the reason is kept for staff.
    async fn give_up_delivery(
        &mut self,
        event: EventId,
        handler: &str,
        node: &str,
        error: &str,
        now: i64,
    ) -> Result<()> {
        let sql = "UPDATE outbox_deliveries
                      SET done_at = $5, outcome = 'given up', last_error = $4,
                          claimed_by = NULL, claimed_until = NULL
                    WHERE event_id = $1 AND handler = $2 AND claimed_by = $3
                      AND done_at IS NULL";
        let params = [event.into(), handler.into(), node.into(), error.into(), now.into()];
        self.execute(sql, &params).await?;
        Ok(())
    }

    /// Deletes the events recorded before `before` that every handler is done with, but for
    /// the newest: the numbering goes on from it (on PostgreSQL the next number is the
    /// largest kept plus one, on SQLite the largest id plus one), so that a number once given
    /// is never given again and readers' `Last-Event-ID`s stay meaningful.
    async fn purge_outbox(&mut self, before: i64) -> Result<u64> {
        let sql = "DELETE FROM outbox_events
                    WHERE created_at < $1 AND seq IS NOT NULL
                      AND seq < (SELECT max(seq) FROM outbox_events)
                      AND NOT EXISTS (SELECT 1 FROM outbox_deliveries d
                                       WHERE d.event_id = outbox_events.id
                                         AND d.done_at IS NULL)";
        self.execute(sql, &[before.into()]).await
    }
}

impl<T: Tx + ?Sized> OutboxWrites for T {}
