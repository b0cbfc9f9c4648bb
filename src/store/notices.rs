//! Telling the other nodes that something changed, so that they drop the pages they keep.
//! On PostgreSQL a `NOTIFY` sent right after the change commits (see `services::changes`); on
//! SQLite nothing (one process owns the file; other processes' commits are noticed by the
//! writer, see `sqlite.rs`).

/// The channel the nodes of the site in `schema` announce changes on: sites kept in other
/// schemas of the same database do not hear them. A payload is the sender's name, a newline,
/// then the paths of the articles whose pages changed, one a line (none: any page).
pub fn channel(schema: &str) -> String {
    match schema {
        "public" => "byline_changes".to_owned(),
        other => format!("byline_changes.{other}"),
    }
}

/// PostgreSQL refuses payloads of 8,000 bytes and more.
pub const MAX_PAYLOAD: usize = 7_900;
