//! Images: what is done to an upload's bytes (`process`), and where the files are kept
//! (`files`). The library's rows are the store's (`store::media`); the use cases are
//! `services::media`.

pub mod files;
pub mod process;
pub mod s3;

pub use files::{FileBody, HotFiles, LocalFiles, MediaFiles, SharedFiles};

/// The files' store the settings name: `media_dir`, or the bucket of `media_store`.
pub fn files_for(config: &crate::config::Config) -> anyhow::Result<SharedFiles> {
    use crate::config::MediaStore;
    Ok(match &config.media_store {
        MediaStore::Folder => std::sync::Arc::new(LocalFiles::new(&config.media_dir)),
        MediaStore::S3(place) => {
            let files = s3::S3Files::new(place.clone(), &config.s3.0)
                .map_err(|e| anyhow::anyhow!("setting `media_store` (BYLINE_MEDIA_STORE): {e}"))?;
            std::sync::Arc::new(files)
        }
    })
}
