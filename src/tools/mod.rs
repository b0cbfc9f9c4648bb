//! Tools around the site rather than in it: backups, copying a site between databases, demo
//! content, generated sites for benchmarks, imports from other systems, and the whole site as
//! one file.

pub mod backup;
pub mod copy;
pub mod demo;
pub mod export;
pub mod generate;
pub mod import;
pub mod media_files;
pub mod wxr;
