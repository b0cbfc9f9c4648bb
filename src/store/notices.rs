//! Telling the other nodes that something changed, so that they drop the pages they keep.
//! On PostgreSQL a `NOTIFY` sent inside the unit of work, so that it is delivered exactly when
//! the change commits; on SQLite nothing (one process owns the file; other processes' commits
//! are noticed by the writer, see `sqlite.rs`).

use async_trait::async_trait;

use super::{Dialect, Result, Tx};

/// The channel nodes announce changes on.
pub const CHANNEL: &str = "byline_changes";

/// PostgreSQL refuses payloads of 8,000 bytes and more.
pub const MAX_PAYLOAD: usize = 7_900;

#[async_trait]
pub trait Announce: Tx {
    /// Announces `scope` to every node once this transaction commits.
    async fn announce(&mut self, scope: &str) -> Result<()> {
        if self.dialect() == Dialect::Postgres {
            self.query("SELECT pg_notify('byline_changes', $1)", &[scope.into()]).await?;
        }
        Ok(())
    }
}

impl<T: Tx + ?Sized> Announce for T {}
