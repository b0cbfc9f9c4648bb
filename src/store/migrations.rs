//! The schema's history, per backend, oldest first. Never edit a shipped migration: add a
//! new one, with the same number and name on both backends (a test compares the lists).
//! Changes are expand-then-contract, so that nodes can be upgraded one at a time.

use super::StoreError;

/// One migration: its number, its file's name, and its SQL.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub number: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! migration {
    ($backend:literal, $number:literal, $name:literal) => {
        Migration {
            number: $number,
            name: $name,
            sql: include_str!(concat!("../../migrations/", $backend, "/", $name, ".sql")),
        }
    };
}

pub const SQLITE: &[Migration] = &[
    migration!("sqlite", 1, "0001_init"),
    migration!("sqlite", 2, "0002_search_on_text_changes"),
    migration!("sqlite", 3, "0003_reply_shapes"),
    migration!("sqlite", 4, "0004_outbox"),
    migration!("sqlite", 5, "0005_replies_without_waiting"),
    migration!("sqlite", 6, "0006_search_what_readers_read"),
    migration!("sqlite", 7, "0007_imports"),
    migration!("sqlite", 8, "0008_pages_and_import_jobs"),
    migration!("sqlite", 9, "0009_media"),
    migration!("sqlite", 10, "0010_mail"),
    migration!("sqlite", 11, "0011_password_resets"),
    migration!("sqlite", 12, "0012_staff_mail"),
    migration!("sqlite", 13, "0013_reader_data"),
    migration!("sqlite", 14, "0014_reply_edits"),
    migration!("sqlite", 15, "0015_author_photos"),
    migration!("sqlite", 16, "0016_search_stems"),
    migration!("sqlite", 17, "0017_editor"),
    migration!("sqlite", 18, "0018_term_descriptions"),
    migration!("sqlite", 19, "0019_api"),
];

pub const POSTGRES: &[Migration] = &[
    migration!("postgres", 1, "0001_init"),
    migration!("postgres", 2, "0002_reply_shapes"),
    migration!("postgres", 3, "0003_numbering"),
    migration!("postgres", 4, "0004_outbox"),
    migration!("postgres", 5, "0005_replies_without_waiting"),
    migration!("postgres", 6, "0006_search_what_readers_read"),
    migration!("postgres", 7, "0007_imports"),
    migration!("postgres", 8, "0008_pages_and_import_jobs"),
    migration!("postgres", 9, "0009_media"),
    migration!("postgres", 10, "0010_mail"),
    migration!("postgres", 11, "0011_password_resets"),
    migration!("postgres", 12, "0012_staff_mail"),
    migration!("postgres", 13, "0013_reader_data"),
    migration!("postgres", 14, "0014_reply_edits"),
    migration!("postgres", 15, "0015_author_photos"),
    migration!("postgres", 16, "0016_search_stems"),
    migration!("postgres", 17, "0017_editor"),
    migration!("postgres", 18, "0018_term_descriptions"),
    migration!("postgres", 19, "0019_api"),
];

/// Until 0003 the two backends numbered their migrations apart; from 0004 on, a migration
/// has the same number and name on both.
pub const SAME_FROM: u32 = 4;

pub(crate) fn too_new(version: usize, known: usize) -> StoreError {
    StoreError::Schema(format!(
        "the database's schema is version {version}, newer than this Byline understands \
         (up to {known}); upgrade Byline to use it"
    ))
}
