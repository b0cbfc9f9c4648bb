//! Work that runs on its own: publishing scheduled articles when they fall due.

use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;
use crate::domain::time;
use crate::publishing;
use crate::store::Store;

/// Publishes what is due now (also what fell due while the server was stopped), then checks
/// again every `scheduler_seconds`.
pub fn spawn(store: Arc<dyn Store>, config: Arc<Config>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(config.scheduler_seconds));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if let Err(e) = publishing::publish_due(&*store, &config.timezone, time::now()).await {
                tracing::warn!(error = %e, "could not publish scheduled articles");
            }
        }
    })
}
