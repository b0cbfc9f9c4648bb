//! `byline backup FILE`: a consistent copy of an SQLite site, made while it serves.
//!
//! `VACUUM INTO` reads one snapshot of the database (in WAL mode writers carry on meanwhile)
//! and writes it, compacted, to a new file that is a whole database: point `--database` at it
//! to restore. The library's files go to a folder beside it, `FILE.media/` (restore with
//! `media_dir` pointing there). A PostgreSQL site is backed up with PostgreSQL's own tools
//! (README).

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

/// The folder a backup's media files go to: `FILE.media` beside it.
pub fn media_folder(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_owned();
    name.push(".media");
    file.with_file_name(name)
}

/// Copies the files of the images the backup at `file` holds (the snapshot's library, so that
/// the two agree) from the site's media store to [`media_folder`].
pub async fn backup_media(
    config: &crate::config::Config,
    file: &Path,
) -> anyhow::Result<crate::tools::media_files::FilesCopied> {
    let snapshot = DatabaseUrl::Sqlite(file.to_owned());
    let store = crate::store::Store::open(&snapshot, crate::clock::Clock::system().now())
        .await
        .with_context(|| format!("cannot read the backup {}", file.display()))?;
    let from = crate::media::files_for(config)?;
    let to = crate::media::LocalFiles::new(&media_folder(file));
    crate::tools::media_files::copy_files(&store, &*from, &to).await
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
