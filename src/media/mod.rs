//! Images: what is done to an upload's bytes (`process`), and where the files are kept
//! (`files`). The library's rows are the store's (`store::media`); the use cases are
//! `services::media`.

pub mod files;
pub mod process;

pub use files::{FileBody, LocalFiles, MediaFiles, SharedFiles};
