//! Work that runs on its own: publishing scheduled articles when they fall due.

use std::time::Duration;

use crate::domain::time;
use crate::publishing;

/// Publishes what is due now (also what fell due while the server was stopped), then checks
/// again every `scheduler_seconds`.
pub fn spawn(state: crate::web::AppState) -> tokio::task::JoinHandle<()> {
    let (store, config) = (state.store.clone(), state.config.clone());
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(config.scheduler_seconds));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            match publishing::publish_due(&*store, &config.timezone, time::now()).await {
                Ok(0) => {}
                Ok(_) => crate::web::page_cache::changed(&state).await,
                Err(e) => tracing::warn!(error = %e, "could not publish scheduled articles"),
            }
        }
    })
}
