//! `GET /healthz`: whether this node can reach its database.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;

pub async fn healthz(State(state): State<AppState>) -> Response {
    let (status, body) = match state.services.database_answers().await {
        Ok(()) => (StatusCode::OK, r#"{"status":"ok","database":"ok"}"#),
        Err(e) => {
            tracing::warn!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                r#"{"status":"unavailable","database":"unreachable"}"#,
            )
        }
    };
    let headers = [(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-store")];
    (status, headers, body).into_response()
}
