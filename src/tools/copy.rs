//! `byline copy`: moves a whole site from one store to another (e.g. SQLite → PostgreSQL),
//! ids included, so every URL and `#comment-ID` stays the same.

use crate::store::{ArticleWrites, CopyReads, CopyWrites, Store, StoreError, Table, Value};

/// Rows moved per transaction.
const BATCH: u32 = 1000;

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(
        "the target already holds data ({0} has rows); copy only into an empty database, \
         so that nothing is duplicated"
    )]
    TargetNotEmpty(&'static str),
    #[error("{table}: {from} rows in the source but {to} in the target after the copy")]
    Mismatch { table: &'static str, from: u64, to: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How many rows of one table each side holds after the copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    pub table: &'static str,
    pub from: u64,
    pub to: u64,
}

async fn count(store: &Store, table: Table) -> Result<u64, StoreError> {
    store.read(move |db| db.count_rows(table)).await
}

/// Copies every table, then checks that both sides hold the same number of rows.
pub async fn copy_site(from: &Store, to: &Store) -> Result<Vec<Counted>, CopyError> {
    for table in Table::ALL {
        if count(to, table).await? > 0 {
            return Err(CopyError::TargetNotEmpty(table.name()));
        }
    }
    // The articles' counts as stored are then whole (the target counts afresh all the same).
    from.write(|tx| tx.fold_reply_counts()).await?;
    let mut next_ids = Vec::new();
    for table in Table::ALL {
        copy_table(from, to, table).await?;
        if table.has_id() {
            next_ids.push((table, from.read(move |db| db.next_id(table)).await?));
        }
    }
    to.write(move |tx| Box::pin(async move { tx.finish_import(&next_ids).await })).await?;
    let mut counts = Vec::new();
    for table in Table::ALL {
        let (from, to) = (count(from, table).await?, count(to, table).await?);
        if from != to {
            return Err(CopyError::Mismatch { table: table.name(), from, to });
        }
        counts.push(Counted { table: table.name(), from, to });
    }
    Ok(counts)
}

/// One table, a batch of rows per transaction (pipelined on PostgreSQL).
async fn copy_table(from: &Store, to: &Store, table: Table) -> Result<(), StoreError> {
    let mut after: Option<Vec<Value>> = None;
    loop {
        let start = after.clone();
        let rows = from
            .read(move |db| Box::pin(async move { db.export_rows(table, start, BATCH).await }))
            .await?;
        let Some(last) = rows.last() else {
            return Ok(());
        };
        after = Some(key_of(table, last));
        let full = rows.len() == BATCH as usize;
        to.write(move |tx| Box::pin(async move { tx.import_rows(table, &rows).await })).await?;
        if !full {
            return Ok(());
        }
    }
}

/// The key columns' values of a row.
pub(crate) fn key_of(table: Table, row: &[Value]) -> Vec<Value> {
    table
        .key()
        .iter()
        .map(|key| {
            let i = table.columns().iter().position(|(name, _)| name == key).unwrap_or(0);
            row[i].clone()
        })
        .collect()
}
