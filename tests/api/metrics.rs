//! `/metrics`: what happened, counted, in a format Prometheus' own parser reads; for this
//! machine, or for the bearer of `metrics_token`, only.

use serde_json::Value;

use crate::helpers::*;
use crate::reader::check;

const TOKEN: &str = "a-metrics-token-for-the-tests";
const ARTICLE_ROUTE: &str = "/{year}/{month}/{day}/{slug}/";

/// The value of the sample `name` with these labels (others may be there too); 0 if absent.
fn value(samples: &Value, name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["name"] == name)
        .filter(|s| labels.iter().all(|(k, v)| s["labels"][*k] == *v))
        .map(|s| s["value"].as_f64().unwrap())
        .sum()
}

#[tokio::test]
async fn metrics_count_requests_pages_replies_and_sign_ins() {
    let app = spawn_with(&[("moderation", "none"), ("page_cache", "on")]).await;
    let published = app.publish("Counted").await;
    assert_eq!(app.get(&published.path).await.status, 200);
    assert_eq!(app.get(&published.path).await.status, 200);
    app.reply(&published.path, &valid_reply()).await;
    let refused = app.post(&published.path, &reply_with(&[("email", "not an address")])).await;
    assert_eq!(refused.status, 422);
    assert_eq!(app.get("/no-such-page").await.status, 404);
    assert_eq!(app.try_sign_in("nobody@example.com", "not the password").await.status, 422);
    // Kept after the reply made the cache forget the article and the listings.
    assert_eq!(app.get("/").await.status, 200);

    let samples = check(&["metrics", &app.url("/metrics")]).await;
    assert_eq!(value(&samples, "byline_replies_total", &[("outcome", "approved")]), 1.0);
    assert_eq!(value(&samples, "byline_replies_total", &[("outcome", "invalid")]), 1.0);
    let failures =
        value(&samples, "byline_sign_in_failures_total", &[("outcome", "wrong_credentials")]);
    assert_eq!(failures, 1.0);
    let article_reads = [("route", ARTICLE_ROUTE), ("method", "GET"), ("status", "200")];
    let reads = value(&samples, "byline_http_requests_total", &article_reads);
    assert!(reads >= 2.0, "{reads} reads of the article counted");
    let posts = [("route", ARTICLE_ROUTE), ("method", "POST"), ("status", "303")];
    assert_eq!(value(&samples, "byline_http_requests_total", &posts), 1.0);
    let missing = [("route", "(none)"), ("status", "404")];
    assert_eq!(value(&samples, "byline_http_requests_total", &missing), 1.0);
    let timed =
        value(&samples, "byline_http_request_duration_seconds_count", &[("route", ARTICLE_ROUTE)]);
    assert!(timed >= 3.0, "{timed}");
    // The second read was served from memory (the cookie-less reader is anonymous).
    assert!(value(&samples, "byline_page_cache_hits_total", &[]) >= 1.0);
    assert!(value(&samples, "byline_page_cache_misses_total", &[]) >= 1.0);
    assert!(value(&samples, "byline_page_cache_bytes", &[]) > 0.0);
    for present in [
        "byline_page_cache_evictions_total",
        "byline_db_pool_waits_total",
        "byline_db_pool_wait_seconds_total",
        "byline_db_shared_reads_total",
        "byline_outbox_pending_deliveries",
        "byline_outbox_oldest_pending_age_seconds",
        "byline_connections_refused_total",
    ] {
        assert!(
            samples.as_array().unwrap().iter().any(|s| s["name"] == present),
            "{present} is missing"
        );
    }
    // Made-up methods do not make new series.
    let odd = reqwest::Client::new()
        .request(reqwest::Method::from_bytes(b"BREW").unwrap(), app.url("/"))
        .send()
        .await
        .unwrap();
    assert_eq!(odd.status(), 405);
    let samples = check(&["metrics", &app.url("/metrics")]).await;
    assert_eq!(value(&samples, "byline_http_requests_total", &[("method", "other")]), 1.0);
}

#[tokio::test]
async fn metrics_are_for_this_machine_or_the_token() {
    let app = spawn_with(&[("trusted_proxies", "127.0.0.1"), ("metrics_token", TOKEN)]).await;
    let from_here = app.get("/metrics").await;
    assert_eq!(from_here.status, 200);
    assert!(from_here.header("content-type").starts_with("application/openmetrics-text"));
    assert_eq!(from_here.header("cache-control"), "no-store");

    // Through the proxy, from a reader's address.
    let outside = [("x-forwarded-for", "203.0.113.9")];
    let refused = app.get_with("/metrics", &outside).await;
    assert_eq!(refused.status, 403);
    assert!(refused.body.contains("metrics_token"), "{}", refused.body);
    assert!(!refused.body.contains("byline_"), "nothing counted is shown");
    let wrong = app
        .get_with(
            "/metrics",
            &[outside[0], ("authorization", "Bearer a-metrics-token-for-the-test")],
        )
        .await;
    assert_eq!(wrong.status, 403);
    let bearer = format!("Bearer {TOKEN}");
    let allowed = app.get_with("/metrics", &[outside[0], ("authorization", &bearer)]).await;
    assert_eq!(allowed.status, 200);
    assert!(allowed.body.contains("byline_http_requests_total"));
    assert!(allowed.body.trim_end().ends_with("# EOF"));

    // Without a token, other machines get nothing at all.
    let app = spawn_with(&[("trusted_proxies", "127.0.0.1")]).await;
    let empty_bearer = app.get_with("/metrics", &[outside[0], ("authorization", "Bearer ")]).await;
    assert_eq!(empty_bearer.status, 403);
}

#[tokio::test]
async fn a_forwarded_header_naming_loopback_does_not_make_a_reader_local() {
    // Behind a proxy that passes a reader's own `Forwarded` header on and appends
    // `X-Forwarded-For`.
    let app = spawn_with(&[("trusted_proxies", "127.0.0.1, ::1")]).await;
    for forged in [
        vec![("forwarded", "for=\"[::1]\""), ("x-forwarded-for", "203.0.113.9")],
        vec![("x-forwarded-for", "127.0.0.1, 203.0.113.9")],
    ] {
        assert_eq!(app.get_with("/metrics", &forged).await.status, 403, "{forged:?}");
    }
    // A proxy on this machine asking for itself is local.
    let local = app.get_with("/metrics", &[("x-forwarded-for", "127.0.0.1")]).await;
    assert_eq!(local.status, 200);
}

#[tokio::test]
async fn refused_and_failed_requests_count_for_their_route() {
    let app = spawn_with(&[("moderation", "none"), ("max_body_bytes", "2048")]).await;
    let published = app.publish("Limited").await;
    let too_long = reply_with(&[("comment", &"x".repeat(4000))]);
    assert_eq!(app.post(&published.path, &too_long).await.status, 413);
    let samples = check(&["metrics", &app.url("/metrics")]).await;
    let refused = [("route", ARTICLE_ROUTE), ("method", "POST"), ("status", "413")];
    assert_eq!(value(&samples, "byline_http_requests_total", &refused), 1.0);
}
