//! Tools around the site rather than in it: copying a site between databases, demo content,
//! and generated sites for benchmarks.

pub mod copy;
pub mod demo;
pub mod generate;
