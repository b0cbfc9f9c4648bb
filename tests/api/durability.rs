//! A reply acknowledged is on disk: WAL with `synchronous = FULL` on the writing connection.

use crate::helpers::{Backend, reply_with, spawn_on};

#[tokio::test]
async fn the_writer_runs_with_durable_settings() {
    let app = spawn_on(Backend::Sqlite, &[]).await;
    // Asked of the writing connection itself, inside a unit of work.
    let (journal_mode, synchronous) = app
        .db_write(|tx| {
            Box::pin(async move {
                let mode = tx.query("PRAGMA journal_mode", &[]).await?.first(|r| r.text(0))?;
                let sync = tx.query("PRAGMA synchronous", &[]).await?.int()?;
                Ok((mode.unwrap_or_default(), sync))
            })
        })
        .await;
    assert_eq!(journal_mode, "wal");
    assert_eq!(synchronous, 2, "2 is FULL");

    // WAL is a property of the file: a fresh connection sees it too.
    let conn = rusqlite::Connection::open(&app.db_path).unwrap();
    let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn an_acknowledged_reply_is_readable_by_another_process() {
    let app = spawn_on(Backend::Sqlite, &[("moderation", "none")]).await;
    let path = app.publish("Durable").await.path;
    let id = app.reply(&path, &reply_with(&[("comment", "Committed")])).await;
    // A separate connection, as after a crash and restart, finds the committed row.
    let conn = rusqlite::Connection::open(&app.db_path).unwrap();
    let body: String = conn
        .query_row("SELECT body FROM comments WHERE id = ?1", [id.get()], |r| r.get(0))
        .unwrap();
    assert_eq!(body, "Committed");
}

#[tokio::test]
async fn a_newer_schema_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.db");
    let url = byline::config::DatabaseUrl::Sqlite(path.clone());
    drop(byline::store::Store::open(&url, 0).await.unwrap());
    rusqlite::Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
    let error = byline::store::Store::open(&url, 0).await.err().expect("refused").to_string();
    assert!(error.contains("newer than this Byline"), "{error}");
}

#[tokio::test]
async fn postgres_refuses_a_newer_schema_too() {
    let url = crate::helpers::fresh_postgres_url().await;
    let database = byline::config::parse_database(&url).unwrap();
    drop(byline::store::Store::open(&database, 0).await.unwrap());
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
        .execute("INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)", &[])
        .await
        .unwrap();
    let error = byline::store::Store::open(&database, 0).await.err().expect("refused").to_string();
    assert!(error.contains("newer than this Byline"), "{error}");
}
