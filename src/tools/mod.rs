//! Tools around the site rather than in it: backups, copying a site between databases, demo
//! content, and generated sites for benchmarks.

pub mod backup;
pub mod copy;
pub mod demo;
pub mod generate;
