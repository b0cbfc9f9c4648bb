//! Work that runs on its own: publishing scheduled articles when they fall due, and keeping
//! the outbox and the sessions table from growing for ever.

use std::sync::Arc;
use std::time::Duration;

use super::{Services, publishing};
use crate::store::{
    ArticleWrites, OutboxWrites, PasswordResetWrites, ReaderDataWrites, ReplyWrites,
    StaffMailWrites, StaffWrites, SubscriptionWrites,
};

/// How often the outbox and expired sessions are cleared out (seconds of the clock).
const TIDY_EVERY: i64 = 600;

/// Publishes what is due now (also what fell due while the server was stopped), then checks
/// again every `scheduler_seconds`, or as soon as a hand-set clock moves.
/// `handlers` are the outbox handlers this node runs: tidying says so again, so that only a
/// handler no node runs any more is retired.
pub fn spawn(services: Arc<Services>, handlers: Vec<&'static str>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let every = Duration::from_secs(services.config.scheduler_seconds);
        let mut interval = tokio::time::interval(every);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut tidied = i64::MIN;
        let mut seen = i64::MIN;
        loop {
            tokio::select! {
                _ = interval.tick() => {}
                () = services.clock.moved_since(seen) => {}
            }
            seen = services.clock.now();
            if let Err(e) = publishing::publish_due(&services).await {
                tracing::warn!(error = %e, "could not publish scheduled articles");
            }
            if services.mailer.is_on()
                && let Err(e) = super::mail::send_digests(&services).await
            {
                tracing::info!(error = %e, "digests not sent yet");
            }
            if services.mailer.is_on()
                && let Err(e) = super::mail::send_staff_digests(&services).await
            {
                tracing::info!(error = %e, "moderators' digests not sent yet");
            }
            let now = services.clock.now();
            if now.saturating_sub(tidied) >= TIDY_EVERY {
                tidied = now;
                if let Err(e) = tidy(&services, &handlers, now).await {
                    tracing::warn!(error = %e, "could not tidy the outbox and sessions");
                }
            }
        }
    })
}

/// Deletes events every handler is done with once they are `outbox_keep_hours` old, and
/// sessions and sign-in failures past their end; erases replies' addresses past
/// `ip_retention_days`; folds the reply counters into the articles' counts. A handler no node has run for as long is retired first (every
/// node tidies every ten minutes, far less than the shortest `outbox_keep_hours`).
async fn tidy(
    services: &Services,
    handlers: &[&'static str],
    now: i64,
) -> Result<(), crate::store::StoreError> {
    let before = now - services.config.outbox_keep_hours * 3600;
    let addresses_before = now - services.config.ip_retention_days * 86_400;
    let running = handlers.to_vec();
    let mail_retries = services.config.mail.give_up_hours * 3600;
    let retired = services
        .store
        .write(move |tx| {
            Box::pin(async move {
                for handler in running {
                    tx.register_handler(handler, now).await?;
                }
                let retired = tx.retire_handlers(before).await?;
                tx.purge_outbox(before).await?;
                tx.delete_expired_sessions(now).await?;
                // Failures past the window count for nothing (an attack on unknown accounts
                // would otherwise grow the table for ever).
                tx.clear_login_failures("", now - super::staff::FAILURE_WINDOW).await?;
                tx.erase_reply_ips(addresses_before).await?;
                tx.fold_reply_counts().await?;
                tx.forget_unconfirmed(now - super::mail::UNCONFIRMED_DAYS * 86_400).await?;
                tx.forget_password_resets(now - 86_400).await?;
                tx.forget_data_requests(now - super::reader_data::LINK_SECONDS).await?;
                tx.forget_moderation_links(now - (super::mail::LINK_DAYS + 1) * 86_400).await?;
                // Past the time a delivery is retried, its mails need not be remembered.
                tx.forget_mails_sent(now - mail_retries - 86_400).await?;
                Ok::<_, crate::store::StoreError>(retired)
            })
        })
        .await?;
    for handler in retired {
        tracing::warn!(handler, "retired an outbox handler no node runs any more");
    }
    Ok(())
}
