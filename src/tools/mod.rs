//! Tools around the site rather than in it: backups, copying a site between databases, demo
//! content, generated sites for benchmarks, and imports from other systems.

pub mod backup;
pub mod copy;
pub mod demo;
pub mod generate;
pub mod import;
