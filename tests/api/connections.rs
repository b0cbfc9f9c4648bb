//! What a connection may hold: a request's head within `header_timeout_seconds`, an idle
//! keep-alive connection for `keepalive_seconds`, at most `max_connections` at once; and
//! each route's own body limit. Through raw sockets, because these are about the socket.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://")).await.unwrap()
}

/// Waits for the server to close the socket (reading everything it sends meanwhile), at most
/// `within`; returns how long that took and what was read, or `None` if it stayed open.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<(Duration, String)> {
    let started = Instant::now();
    let mut read = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let left = within.checked_sub(started.elapsed())?;
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Err(_) => return None,
            Ok(Ok(0) | Err(_)) => {
                return Some((started.elapsed(), String::from_utf8_lossy(&read).into_owned()));
            }
            Ok(Ok(n)) => read.extend_from_slice(&buffer[..n]),
        }
    }
}

/// Reads one response whose length is announced; the connection stays open.
async fn one_response(stream: &mut TcpStream) -> String {
    let mut read = Vec::new();
    let mut buffer = [0u8; 65536];
    loop {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buffer))
            .await
            .expect("a response in time")
            .unwrap();
        assert!(n > 0, "closed before the response ended");
        read.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&read).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .expect("a content-length");
            if read.len() >= end + 4 + length {
                return text;
            }
        }
    }
}

const GET: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n";

#[tokio::test]
async fn a_head_sent_a_byte_at_a_time_is_cut_off_at_header_timeout_seconds() {
    let app = spawn_with(&[("header_timeout_seconds", "1")]).await;
    let mut slow = connect(&app).await;
    slow.write_all(b"GET / HTTP/1.1\r\nHost: test\r\nX-Slow: ").await.unwrap();
    let (mut reading, mut writing) = slow.into_split();
    let trickle = tokio::spawn(async move {
        // Ten seconds of a byte every 200 ms, if the server let it.
        for _ in 0..50 {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if writing.write_all(b"a").await.is_err() {
                return;
            }
        }
    });
    let started = Instant::now();
    let mut buffer = [0u8; 1024];
    let closed = tokio::time::timeout(Duration::from_secs(4), async {
        loop {
            match reading.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the slow head was still open after 4 s");
    assert!(started.elapsed() < Duration::from_secs(3), "closed after {:?}", started.elapsed());
    trickle.abort();

    // A client that connects and says nothing is closed at the same limit.
    let mut silent = connect(&app).await;
    let (after, _) = closed_within(&mut silent, Duration::from_secs(4)).await.expect("closed");
    assert!(after >= Duration::from_millis(800), "closed too soon: {after:?}");

    // Readers are served meanwhile.
    assert_eq!(app.get("/healthz").await.status, 200);
}

#[tokio::test]
async fn an_idle_connection_is_kept_for_keepalive_seconds_not_the_head_limit() {
    let app = spawn_with(&[("header_timeout_seconds", "1"), ("keepalive_seconds", "3")]).await;
    let mut stream = connect(&app).await;
    stream.write_all(GET).await.unwrap();
    assert!(one_response(&mut stream).await.starts_with("HTTP/1.1 200"));
    // Idle past the head's limit: still open, and serves the next request.
    tokio::time::sleep(Duration::from_millis(1800)).await;
    stream.write_all(GET).await.unwrap();
    assert!(one_response(&mut stream).await.starts_with("HTTP/1.1 200"));
    // Idle past keepalive_seconds: closed.
    let (after, _) = closed_within(&mut stream, Duration::from_secs(6)).await.expect("closed");
    assert!(
        after >= Duration::from_millis(2500) && after < Duration::from_millis(4500),
        "closed after {after:?}"
    );
}

#[tokio::test]
async fn past_max_connections_a_new_one_is_refused_at_once_and_served_when_one_closes() {
    let app = spawn_with(&[("max_connections", "3"), ("max_event_streams", "1")]).await;
    let mut open = Vec::new();
    for _ in 0..3 {
        let mut stream = connect(&app).await;
        stream.write_all(GET).await.unwrap();
        assert!(one_response(&mut stream).await.starts_with("HTTP/1.1 200"));
        open.push(stream);
    }
    let mut extra = connect(&app).await;
    let (after, answer) =
        closed_within(&mut extra, Duration::from_secs(2)).await.expect("refused at once");
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    let declared = format!("content-length: {}", body.len());
    assert!(head.to_ascii_lowercase().contains(&declared), "{answer}");
    assert!(answer.contains("Retry-After"), "{answer}");
    assert!(after < Duration::from_secs(1), "took {after:?}");

    drop(open.pop());
    // The server notices the close, then has room again.
    let mut served = false;
    for _ in 0..50 {
        let mut stream = connect(&app).await;
        stream.write_all(GET).await.unwrap();
        // A whole answer: the 503 of a refusal, or the page.
        if one_response(&mut stream).await.starts_with("HTTP/1.1 200") {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(served, "no room after a connection closed");
    // The refusal was counted.
    let mut metrics = String::new();
    for _ in 0..50 {
        // The page's connection has just closed: the server may not have noticed yet.
        let mut stream = connect(&app).await;
        stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n").await.unwrap();
        metrics = one_response(&mut stream).await;
        if metrics.starts_with("HTTP/1.1 200") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let refused = metrics.lines().find(|l| l.starts_with("byline_connections_refused_total "));
    // The one above, and any the retries met while the server noticed a close.
    let count: u64 = refused.and_then(|l| l.rsplit(' ').next()?.parse().ok()).unwrap_or(0);
    assert!(count >= 1, "{metrics}");
}

#[tokio::test]
async fn each_route_has_its_own_body_limit() {
    let app = spawn_with(&[("moderation", "none"), ("max_body_bytes", "65536")]).await;
    let editor = app.add_staff("editor@example.com", "Edi Tor", byline::domain::Role::Editor).await;
    let staff = app.sign_in(&editor.email).await;
    // A long story through the editor, well past the reply form's limit.
    let long = "A paragraph of the long story. ".repeat(4_800);
    assert!(long.len() > 2 * 65536);
    let id = app.write(&staff, &[("headline", "The long read"), ("body", &long)], "save").await;
    assert_eq!(app.article(id).await.unwrap().body_markdown.len(), long.len());

    let published = app.publish("A short one").await;
    let too_long = reply_with(&[("comment", &"x".repeat(70_000))]);
    let page = app.post(&published.path, &too_long).await;
    assert_eq!(page.status, 413);
}
