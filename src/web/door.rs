//! The first thing every request meets. It counts and logs each request, and answers the two
//! that cost what a static file costs — a photo held in memory and a page from the page
//! cache — itself; everything else goes on to the site's layers and router.
//!
//! Written as one service rather than as more `middleware::from_fn` layers: each such layer
//! clones everything inside it for every request and boxes its future and the rest of the
//! stack, so a page from memory paid for ten layers it did not use (the profile showed the
//! shared state's reference count bouncing between the two cores).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::Router;
use axum::extract::Request;
use axum::response::Response;
use tower::{Service, ServiceExt};

use super::{AppState, media, metrics, page_cache};

/// The site, as served: the door, then (for what it does not answer itself) the rest.
#[derive(Clone)]
pub struct Door {
    state: AppState,
    rest: Router,
}

impl Door {
    pub(super) fn new(state: AppState, rest: Router) -> Self {
        Self { state, rest }
    }

    /// Answers `request`. Takes the door by value, so that a server clones it once per request.
    pub async fn answer(self, mut request: Request) -> Response {
        let started = Instant::now();
        let method = metrics::method_label(request.method());
        // The path is copied for the log only when the log will take it.
        let path = tracing::enabled!(tracing::Level::INFO).then(|| request.uri().path().to_owned());
        let response = match self.at_once(&mut request).await {
            Some(response) => response,
            None => match self.rest.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            },
        };
        metrics::record(&self.state, method, started, &response);
        if let Some(path) = path {
            // The query string is left out: it is the reader's business.
            tracing::info!(
                method,
                path,
                status = response.status().as_u16(),
                latency_ms = started.elapsed().as_secs_f64() * 1000.0,
                "request"
            );
        }
        response
    }

    /// What is answered without the layers: a photo held in memory, or a kept page (API
    /// answers go through the CORS layer first, which the door leaves to the rest).
    async fn at_once(&self, request: &mut Request) -> Option<Response> {
        if let Some(response) = media::held_answer(&self.state, request) {
            return Some(response);
        }
        if request.uri().path().starts_with("/api/") {
            return None;
        }
        page_cache::hit(&self.state, request).await
    }
}

impl Service<Request> for Door {
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // A `Router` is always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let door = self.clone();
        Box::pin(async move { Ok(door.answer(request).await) })
    }
}
