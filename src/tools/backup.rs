//! `byline backup FILE`: a consistent copy of an SQLite site, made while it serves.
//!
//! `VACUUM INTO` reads one snapshot of the database (in WAL mode writers carry on meanwhile)
//! and writes it, compacted, to a new file that is a whole database: point `--database` at it
//! to restore. A PostgreSQL site is backed up with PostgreSQL's own tools (README).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::config::DatabaseUrl;

/// Copies the site's database to `to`, which must not exist yet.
pub async fn backup(database: &DatabaseUrl, to: &Path) -> anyhow::Result<()> {
    let DatabaseUrl::Sqlite(from) = database else {
        bail!(
            "byline backup copies SQLite sites; back up a PostgreSQL site with pg_dump \
             (see README, \"Backups\")"
        );
    };
    if to.exists() {
        bail!("{} exists already: back up to a new file", to.display());
    }
    let (from, to): (PathBuf, PathBuf) = (from.clone(), to.to_owned());
    tokio::task::spawn_blocking(move || copy(&from, &to))
        .await
        .context("the backup's thread failed")?
}

fn copy(from: &Path, to: &Path) -> anyhow::Result<()> {
    if !from.exists() {
        bail!("there is no database at {}", from.display());
    }
    let flags =
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = rusqlite::Connection::open_with_flags(from, flags)
        .with_context(|| format!("cannot open {}", from.display()))?;
    connection.busy_timeout(std::time::Duration::from_secs(10))?;
    let target = to.to_str().context("the backup's path must be UTF-8")?;
    connection
        .execute("VACUUM INTO ?1", [target])
        .with_context(|| format!("cannot write the backup to {}", to.display()))?;
    Ok(())
}
