//! Copies a library's files from one store to another, for `byline copy` and `byline backup`:
//! the files every image in the database names (its original and the variants made), read
//! whole and written whole, so a copy interrupted half-way leaves no half file.

use std::path::Path;

use anyhow::Context;

use crate::domain::media::MediaFile;
use crate::media::{LocalFiles, MediaFiles, SharedFiles};
use crate::store::{MediaReads, Store};

/// What a copy of the files did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FilesCopied {
    pub copied: u64,
    pub bytes: u64,
    /// Named by the database but not in the source (deleted meanwhile, or lost).
    pub missing: Vec<String>,
}

/// A media place given on the command line: a folder, or `s3://bucket/prefix` (reached with
/// the `AWS_*` variables).
pub fn files_at(place: &str) -> anyhow::Result<SharedFiles> {
    if place.starts_with("s3://") {
        let bucket = crate::media::s3::BucketPlace::parse(place)
            .with_context(|| format!("{place}: expected s3://BUCKET or s3://BUCKET/PREFIX"))?;
        let settings: Vec<(String, String)> = crate::media::s3::ENVIRONMENT
            .iter()
            .filter_map(|name| std::env::var(name).ok().map(|v| (name.to_ascii_lowercase(), v)))
            .collect();
        let files = crate::media::s3::S3Files::new(bucket, &settings)
            .map_err(|e| anyhow::anyhow!("{place}: {e}"))?;
        return Ok(std::sync::Arc::new(files));
    }
    Ok(std::sync::Arc::new(LocalFiles::new(Path::new(place))))
}

/// Where a site on `database` keeps its files when nothing else is set (`media/` beside an
/// SQLite file).
pub fn default_place(database: &crate::config::DatabaseUrl) -> String {
    crate::config::default_media_dir(database).display().to_string()
}

/// Copies the files of every image `store` holds from `from` to `to`.
pub async fn copy_files(
    store: &Store,
    from: &dyn MediaFiles,
    to: &dyn MediaFiles,
) -> anyhow::Result<FilesCopied> {
    let images = store.read(|db| Box::pin(async move { db.all_media().await })).await?;
    to.check().await.with_context(|| format!("cannot keep files in {}", to.describe()))?;
    let mut done = FilesCopied::default();
    for image in &images {
        for file in crate::services::media::files_of(image) {
            copy_one(&file, from, to, &mut done).await?;
        }
    }
    Ok(done)
}

async fn copy_one(
    file: &MediaFile,
    from: &dyn MediaFiles,
    to: &dyn MediaFiles,
    done: &mut FilesCopied,
) -> anyhow::Result<()> {
    let key = file.key();
    let read = from
        .read(&key)
        .await
        .with_context(|| format!("cannot read {key} from {}", from.describe()))?;
    let Some(bytes) = read else {
        done.missing.push(key);
        return Ok(());
    };
    let len = bytes.len() as u64;
    to.put(&key, bytes)
        .await
        .with_context(|| format!("cannot write {key} to {}", to.describe()))?;
    done.copied += 1;
    done.bytes += len;
    Ok(())
}
