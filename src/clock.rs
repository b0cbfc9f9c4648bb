//! The time, as the application sees it. Everything that needs "now" asks the [`Clock`] in the
//! state: the real one in production, a hand-set one in tests, so that tests of expiry,
//! scheduling, rate limits, retention and retries set the time instead of sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use tokio::sync::Notify;

#[derive(Clone)]
pub struct Clock(Arc<Inner>);

struct Inner {
    /// `None`: the system's clock.
    manual: Option<AtomicI64>,
    /// Woken when a hand-set clock moves, so that waiting work looks again at once.
    moved: Notify,
}

impl Clock {
    /// The system's clock.
    pub fn system() -> Self {
        Self(Arc::new(Inner { manual: None, moved: Notify::new() }))
    }

    /// A clock that shows `now` (Unix seconds) until it is moved.
    pub fn manual(now: i64) -> Self {
        Self(Arc::new(Inner { manual: Some(AtomicI64::new(now)), moved: Notify::new() }))
    }

    /// Now, in Unix seconds.
    pub fn now(&self) -> i64 {
        match &self.0.manual {
            Some(now) => now.load(Ordering::SeqCst),
            None => jiff::Timestamp::now().as_second(),
        }
    }

    /// Moves a hand-set clock on by `seconds`.
    ///
    /// # Panics
    /// On the system's clock, which nobody may move.
    pub fn advance(&self, seconds: i64) {
        let now = self.0.manual.as_ref().expect("only a hand-set clock moves");
        now.fetch_add(seconds, Ordering::SeqCst);
        self.0.moved.notify_waiters();
    }

    /// Resolves once a hand-set clock shows another time than `seen` (at once if it already
    /// does: a move while the caller was busy is not missed); never for the system's clock.
    pub async fn moved_since(&self, seen: i64) {
        let Some(now) = &self.0.manual else {
            return std::future::pending::<()>().await;
        };
        let notified = self.0.moved.notified();
        let mut notified = std::pin::pin!(notified);
        notified.as_mut().enable();
        if now.load(Ordering::SeqCst) != seen {
            return;
        }
        notified.await;
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = if self.0.manual.is_some() { "manual" } else { "system" };
        write!(f, "Clock({kind}, {})", self.now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_manual_clock_moves_only_when_told_and_says_so() {
        let clock = Clock::manual(1_000);
        assert_eq!(clock.now(), 1_000);
        let waiting = tokio::spawn({
            let clock = clock.clone();
            async move { clock.moved_since(1_000).await }
        });
        tokio::task::yield_now().await;
        clock.advance(60);
        assert_eq!(clock.now(), 1_060);
        tokio::time::timeout(std::time::Duration::from_secs(1), waiting).await.unwrap().unwrap();
        // A move made before the wait began still counts.
        let late =
            tokio::time::timeout(std::time::Duration::from_secs(1), clock.moved_since(1_000));
        late.await.unwrap();
        assert!(Clock::system().now() > 1_700_000_000);
    }
}
