//! Byline: a self-hosted news site. Editors publish articles; readers read them and reply.
//!
//! Layers, each calling only the one below it: [`cli`] and [`web`] → [`services`] (the use
//! cases) → [`domain`] (types and rules, no I/O) and [`store`] (all SQL). [`app`] starts it
//! all; [`tools`] copy, seed and generate sites. See `docs/ARCHITECTURE.md`.

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod mail;
pub mod media;
pub mod server;
pub mod services;
pub mod store;
pub mod tools;
pub mod web;
