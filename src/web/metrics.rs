//! `/metrics`: what an operator graphs and alerts on, in Prometheus' text format (through
//! `prometheus-client`, the Prometheus project's own crate). Answered only to this machine
//! (the client address, resolved through `trusted_proxies`, is loopback) or to a request with
//! the bearer token `metrics_token`; a reverse proxy must not pass it through.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::page_cache::PageCache;
use super::{AppError, AppState, RouteName, defenses};
use crate::store::Store;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    method: &'static str,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// Latency buckets: half a millisecond (a cached page) to ten seconds (the request limit).
const BUCKETS: [f64; 15] =
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 7.5, 10.0];

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    replies: Family<OutcomeLabels, Counter>,
    sign_in_failures: Family<OutcomeLabels, Counter>,
    outbox_pending: Gauge,
    outbox_oldest: Gauge,
    /// Kept outside the registry's types: the accept loop bumps it without a registry.
    pub connections_refused: Arc<AtomicU64>,
}

impl Metrics {
    pub fn new(pages: Arc<PageCache>, store: Store) -> Self {
        let mut registry = Registry::with_prefix("byline");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "Requests answered, by route and status",
            requests.clone(),
        );
        let latency: Family<RouteLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(|| Histogram::new(BUCKETS));
        registry.register(
            "http_request_duration_seconds",
            "Time from a request's head to its answer, by route",
            latency.clone(),
        );
        let replies = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "replies",
            "Replies sent through the form, by outcome (approved, pending and spam were stored)",
            replies.clone(),
        );
        let sign_in_failures = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "sign_in_failures",
            "Staff sign-ins refused: a wrong email or password, or throttled",
            sign_in_failures.clone(),
        );
        let outbox_pending = Gauge::default();
        registry.register(
            "outbox_pending_deliveries",
            "Outbox deliveries not yet done",
            outbox_pending.clone(),
        );
        let outbox_oldest = Gauge::default();
        registry.register(
            "outbox_oldest_pending_age_seconds",
            "Age of the oldest event with a delivery not yet done (0 when none)",
            outbox_oldest.clone(),
        );
        let connections_refused = Arc::new(AtomicU64::new(0));
        registry.register_collector(Box::new(Sampled {
            pages,
            store,
            connections_refused: connections_refused.clone(),
        }));
        Self {
            registry,
            requests,
            latency,
            replies,
            sign_in_failures,
            outbox_pending,
            outbox_oldest,
            connections_refused,
        }
    }

    /// A reply through the form: `approved`, `pending`, `spam`, `invalid`, `rate_limited`,
    /// `foreign` (from another site), `closed`, `not_saved`.
    pub fn reply(&self, outcome: &'static str) {
        self.replies.get_or_create(&OutcomeLabels { outcome }).inc();
    }

    /// A sign-in refused: `wrong_credentials` or `throttled`.
    pub fn sign_in_failed(&self, outcome: &'static str) {
        self.sign_in_failures.get_or_create(&OutcomeLabels { outcome }).inc();
    }
}

/// What others keep, read at each scrape.
struct Sampled {
    pages: Arc<PageCache>,
    store: Store,
    connections_refused: Arc<AtomicU64>,
}

impl std::fmt::Debug for Sampled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sampled")
    }
}

impl Collector for Sampled {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let load = |n: &AtomicU64| n.load(Ordering::Relaxed);
        let waits = self.store.pool_waits();
        let disk = self.pages.disk();
        let counters = [
            ("page_cache_hits", "Pages served from the page cache", load(&self.pages.hits)),
            ("page_cache_misses", "Pages rendered for the page cache", load(&self.pages.misses)),
            (
                "page_cache_evictions",
                "Pages pushed out of a full page cache",
                load(&self.pages.evictions),
            ),
            (
                "connections_refused",
                "Connections refused past max_connections",
                load(&self.connections_refused),
            ),
            ("db_pool_waits", "Database uses that waited for a free connection", waits.count),
            (
                "db_shared_reads",
                "Article pages read on a PostgreSQL connection shared with other reads",
                waits.shared,
            ),
            (
                "page_cache_disk_hits",
                "Pages served from the page cache's files on disk",
                disk.map_or(0, |d| load(&d.hits)),
            ),
            (
                "page_cache_disk_evictions",
                "Pages dropped from disk, least recently used, to keep within page_cache_disk_mb",
                disk.map_or(0, |d| load(&d.evictions)),
            ),
        ];
        for (name, help, value) in counters {
            let counter = ConstCounter::new(value);
            counter.encode(encoder.encode_descriptor(
                name,
                help,
                None,
                counter.metric_type(),
            )?)?;
        }
        let waited = ConstCounter::new(waits.seconds);
        waited.encode(encoder.encode_descriptor(
            "db_pool_wait_seconds",
            "Time spent waiting for a free database connection",
            None,
            waited.metric_type(),
        )?)?;
        let gauges = [
            ("page_cache_pages", "Pages in the page cache", self.pages.len() as i64),
            ("page_cache_bytes", "What the page cache holds, in bytes", self.pages.bytes() as i64),
            ("page_cache_disk_pages", "Pages on disk", disk.map_or(0, |d| d.len() as i64)),
            (
                "page_cache_disk_bytes",
                "What the pages on disk weigh, in bytes",
                disk.map_or(0, |d| d.bytes() as i64),
            ),
        ];
        for (name, help, value) in gauges {
            let gauge = ConstGauge::new(value);
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)?;
        }
        Ok(())
    }
}

/// Counts a request by the route that answered it (a page from the cache counts for the route
/// that rendered it), its method, status and time (see [`super::door`]).
pub fn record(state: &AppState, method: &'static str, started: Instant, response: &Response) {
    let route = response.extensions().get::<RouteName>().map_or("(none)", |r| r.0);
    let metrics = &state.metrics;
    let status = response.status().as_u16();
    metrics.requests.get_or_create(&RequestLabels { route, method, status }).inc();
    metrics.latency.get_or_create(&RouteLabels { route }).observe(started.elapsed().as_secs_f64());
}

/// A method as a label: any other token a client sends is `other`, so that made-up methods
/// cannot grow the metrics without bound.
pub(super) fn method_label(method: &axum::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        "PATCH" => "PATCH",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

/// `GET /metrics`.
pub async fn show(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let token = &state.config.metrics_token;
    if !(from_this_machine(peer.ip(), &headers)
        || (!token.is_empty() && bearer_matches(&headers, token)))
    {
        return Err(AppError::Forbidden(
            "Metrics are for this machine, or for a request with the metrics token \
             (setting metrics_token, BYLINE_METRICS_TOKEN)."
                .into(),
        ));
    }
    let now = state.services.clock.now();
    // With the database away the rest is still worth having (the outbox's figures stay as
    // last read).
    match crate::services::outbox::backlog(&state.services).await {
        Ok(backlog) => {
            state.metrics.outbox_pending.set(backlog.pending as i64);
            state.metrics.outbox_oldest.set(backlog.oldest_at.map_or(0, |at| (now - at).max(0)));
        }
        Err(error) => tracing::warn!(%error, "metrics: cannot read the outbox's backlog"),
    }
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &state.metrics.registry)
        .map_err(|_| AppError::Panicked("the metrics could not be written".into()))?;
    Ok((
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                ),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        text,
    )
        .into_response())
}

/// A request from this machine: the socket's peer is loopback, and so is every address a
/// forwarding header names (a client behind a proxy can write its own `Forwarded: for=::1`,
/// which some proxies pass on untouched: that must not make it local).
fn from_this_machine(peer: std::net::IpAddr, headers: &HeaderMap) -> bool {
    peer.is_loopback() && defenses::forwarded_addresses(headers).iter().all(|ip| ip.is_loopback())
}

/// `Authorization: Bearer TOKEN`, compared in constant time.
fn bearer_matches(headers: &HeaderMap, token: &str) -> bool {
    let Some(given) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let (given, token) = (given.trim().as_bytes(), token.as_bytes());
    given.len() == token.len() && given.iter().zip(token).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0
}
