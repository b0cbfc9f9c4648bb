//! Byline's integration tests: one binary, so it links once. Each test starts the real server
//! on a random port with a fresh database and speaks HTTP to it.

mod article_page;
mod browser;
mod changes;
mod cli;
mod conformance;
mod connections;
mod dashboard;
mod defenses;
mod durability;
mod editor;
mod front_page;
mod helpers;
mod identity;
mod import_page;
mod imports;
mod mail;
mod media;
mod metrics;
mod moderation;
mod naughty;
mod newsroom;
mod nodes;
mod outbox;
mod own_replies;
mod pages;
mod posting;
mod privacy;
mod queue;
mod reader;
mod reply_form;
mod terms;
mod threading;
mod units;
