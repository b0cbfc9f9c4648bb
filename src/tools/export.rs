//! `byline export --format json` and `byline import json`: the whole site as one file of JSON
//! lines, and back into an empty database, every id kept (so every address and `#comment-ID`
//! stays). The format, version 1:
//!
//! - the first line: `{"format": "byline-site", "version": 1, "exported_at": UNIX,
//!   "tables": {"authors": ["id", "name", …], …}, "next_ids": {"authors": 11, …}}`: each
//!   table's columns in the order rows give them, and the id its next new row gets (ids of
//!   deleted rows are never handed out again);
//! - then one line per row, tables in an order that respects their references:
//!   `{"table": "authors", "row": [1, "Jo", "", 1796227113]}`; integers, text, `true`/`false`
//!   and `null` as JSON has them.
//!
//! Everything but secrets and sessions: the key that signs cookies and form tokens is left out
//! (the importing site makes its own), as are sessions and sign-in failures. Staff accounts
//! keep their password hashes (Argon2id), so that staff can sign in on the new site: keep the
//! file as you keep backups.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};

use serde_json::{Value as Json, json};

use super::copy::key_of;
use crate::store::{
    CopyReads, CopyWrites, Kind, SettingWrites, SiteSetting, Store, StoreError, Table, Value,
};

/// Rows per read and per transaction.
const BATCH: u32 = 1000;
pub const FORMAT: &str = "byline-site";
pub const VERSION: u64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write the export: {0}")]
    Write(#[from] std::io::Error),
    #[error("line {line}: {reason}")]
    Bad { line: u64, reason: String },
    #[error(
        "the database already holds data ({0} has rows); import a site only into an empty \
         database, so that nothing is duplicated"
    )]
    NotEmpty(&'static str),
}

fn to_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Int(n) => json!(n),
        Value::Real(x) => json!(x),
        Value::Text(s) => json!(s),
        Value::Bool(b) => json!(b),
        // No table the dump holds keeps bytes (an upload's chunks stay behind).
        Value::Bytes(_) => Json::Null,
    }
}

/// Writes the whole site to `out`; returns the rows written.
pub async fn export(store: &Store, out: &mut (dyn Write + Send)) -> Result<u64, DumpError> {
    let mut tables = serde_json::Map::new();
    let mut next_ids = serde_json::Map::new();
    for table in Table::ALL {
        let columns: Vec<&str> = table.columns().iter().map(|(name, _)| *name).collect();
        tables.insert(table.name().into(), json!(columns));
        if table.has_id() {
            let next = store.read(move |db| db.next_id(table)).await?;
            next_ids.insert(table.name().into(), json!(next));
        }
    }
    let header = json!({
        "format": FORMAT,
        "version": VERSION,
        "exported_at": std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        "tables": tables,
        "next_ids": next_ids,
    });
    writeln!(out, "{header}")?;
    let mut written = 0;
    for table in Table::ALL {
        let mut after: Option<Vec<Value>> = None;
        loop {
            let start = after.clone();
            let rows = store
                .read(move |db| Box::pin(async move { db.export_rows(table, start, BATCH).await }))
                .await?;
            let Some(last) = rows.last() else { break };
            after = Some(key_of(table, last));
            let full = rows.len() == BATCH as usize;
            for row in &rows {
                if table == Table::Settings && is_the_nodes_own(&row[0]) {
                    continue;
                }
                let values: Vec<Json> = row.iter().map(to_json).collect();
                writeln!(out, "{}", json!({"table": table.name(), "row": values}))?;
                written += 1;
            }
            if !full {
                break;
            }
        }
    }
    out.flush()?;
    Ok(written)
}

/// Reads an export into an empty site; returns the rows read, by table. The file is read
/// twice (`open` gives it from the start each time): once to check every line, so that a bad
/// one refuses the file before any row is written, then to write.
pub async fn import(
    store: &Store,
    open: &dyn Fn() -> std::io::Result<Box<dyn BufRead>>,
) -> Result<BTreeMap<String, u64>, DumpError> {
    read_rows(store, &mut *open()?, false).await?;
    read_rows(store, &mut *open()?, true).await
}

async fn read_rows(
    store: &Store,
    input: &mut dyn BufRead,
    write: bool,
) -> Result<BTreeMap<String, u64>, DumpError> {
    // Empty: no rows but what every site makes at its start (its signing key, and which
    // rendering made its bodies).
    for table in Table::ALL.into_iter().filter(|t| *t != Table::Settings) {
        if store.read(move |db| db.count_rows(table)).await? > 0 {
            return Err(DumpError::NotEmpty(table.name()));
        }
    }
    let settings = store
        .read(|db| Box::pin(async move { db.export_rows(Table::Settings, None, BATCH).await }))
        .await?;
    if settings.iter().any(|row| !is_the_nodes_own(&row[0])) {
        return Err(DumpError::NotEmpty(Table::Settings.name()));
    }
    let mut lines = input.lines();
    let bad = |line: u64, reason: String| DumpError::Bad { line, reason };
    let header = lines.next().ok_or_else(|| bad(1, "the file is empty".into()))??;
    let header: Json = serde_json::from_str(&header).map_err(|e| {
        bad(1, format!("not a Byline site export: its first line is not JSON ({e})"))
    })?;
    if header["format"] != FORMAT {
        return Err(bad(
            1,
            format!("not a Byline site export (its format is {})", header["format"]),
        ));
    }
    match header["version"].as_u64() {
        Some(VERSION) => {}
        other => {
            return Err(bad(
                1,
                format!(
                    "version {other:?} of the export format; this Byline reads version {VERSION}"
                ),
            ));
        }
    }
    // Columns by table, as the file gives them, mapped onto this Byline's columns.
    let mut orders: BTreeMap<String, Vec<Option<usize>>> = BTreeMap::new();
    for table in Table::ALL {
        let given: Vec<String> = header["tables"][table.name()]
            .as_array()
            .map(|c| c.iter().filter_map(|n| n.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        let order =
            table.columns().iter().map(|(name, _)| given.iter().position(|g| g == name)).collect();
        orders.insert(table.name().into(), order);
    }
    let mut counts = BTreeMap::new();
    let mut pending: Option<(Table, Vec<Vec<Value>>)> = None;
    for (n, line) in lines.enumerate() {
        let number = n as u64 + 2;
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let entry: Json = serde_json::from_str(&line).map_err(|e| bad(number, e.to_string()))?;
        let name = entry["table"].as_str().unwrap_or_default();
        let table = Table::ALL
            .into_iter()
            .find(|t| t.name() == name)
            .ok_or_else(|| bad(number, format!("no table {name:?} in this Byline")))?;
        let given = entry["row"].as_array().ok_or_else(|| bad(number, "no row".into()))?;
        let row = row_of(table, &orders[name], given).map_err(|reason| bad(number, reason))?;
        *counts.entry(name.to_owned()).or_insert(0) += 1;
        if !write {
            continue;
        }
        match &mut pending {
            Some((t, rows)) if *t == table && rows.len() < BATCH as usize => rows.push(row),
            _ => {
                if let Some((t, rows)) = pending.take() {
                    write_rows(store, t, rows).await?;
                }
                pending = Some((table, vec![row]));
            }
        }
    }
    if let Some((t, rows)) = pending.take() {
        write_rows(store, t, rows).await?;
    }
    if !write {
        return Ok(counts);
    }
    let mut next_ids = Vec::new();
    for table in Table::ALL.into_iter().filter(|t| t.has_id()) {
        let here = store.read(move |db| db.next_id(table)).await?;
        let given = header["next_ids"][table.name()].as_i64().unwrap_or(0);
        next_ids.push((table, here.max(given)));
    }
    store
        .write(move |tx| {
            Box::pin(async move {
                tx.finish_import(&next_ids).await?;
                // The bodies came as another Byline rendered them: the next start renders
                // them as this one does.
                tx.set_setting(SiteSetting::RenderedWith, None).await
            })
        })
        .await?;
    Ok(counts)
}

/// A setting that belongs to the database it is in, not to the site: its signing key (kept
/// out of exports), and which rendering made its bodies.
fn is_the_nodes_own(key: &Value) -> bool {
    let own =
        [SiteSetting::Secret.key(), SiteSetting::RenderedWith.key(), SiteSetting::Language.key()];
    matches!(key, Value::Text(k) if own.iter().any(|o| o == k))
}

/// A row of the file in this Byline's column order; a column the file lacks (one a later
/// Byline added) is null, or false for a flag (`comments.link_back`), as the schema's
/// default would make it.
fn row_of(table: Table, order: &[Option<usize>], given: &[Json]) -> Result<Vec<Value>, String> {
    let mut row = Vec::with_capacity(order.len());
    for ((name, kind), at) in table.columns().iter().zip(order) {
        let missing = if *kind == Kind::Bool { Json::Bool(false) } else { Json::Null };
        let json = at.and_then(|i| given.get(i)).unwrap_or(&missing);
        row.push(match json {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Real(n.as_f64().unwrap_or(0.0)),
            },
            Json::String(s) => Value::Text(s.clone()),
            other => return Err(format!("{}.{name}: {other} is not a value", table.name())),
        });
    }
    Ok(row)
}

async fn write_rows(store: &Store, table: Table, rows: Vec<Vec<Value>>) -> Result<(), StoreError> {
    store.write(move |tx| Box::pin(async move { tx.import_rows(table, &rows).await })).await
}
