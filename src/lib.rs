//! Byline: a self-hosted news site. Editors publish articles; readers read them and reply.
//!
//! Layers, each calling only the one below it: [`cli`] → [`web`] → services
//! ([`discussion`], [`publishing`]) → [`domain`] and [`store`]. See `docs/ARCHITECTURE.md`.

pub mod cli;
pub mod config;
pub mod copy;
pub mod demo;
pub mod discussion;
pub mod domain;
pub mod generate;
pub mod jobs;
pub mod publishing;
pub mod settings;
pub mod staff;
pub mod store;
pub mod web;
