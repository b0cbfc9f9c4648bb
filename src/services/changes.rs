//! What a use case changed, and applying it: to this node's caches once committed, and to the
//! other nodes by an announcement sent right after (see `store::notices`). Announcements are
//! sent one at a time, each carrying everything committed since the last: on PostgreSQL a
//! transaction that notifies holds a database-wide lock through its commit, so a `NOTIFY` in
//! every reply's transaction would make every reply wait for the one before.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::{Notify, watch};

use crate::domain::events::NewEvent;
use crate::store::notices::MAX_PAYLOAD;

/// The line an announcement carries when events were numbered (see `outbox`): live
/// updates on every node read them then, rather than at their next poll.
const EVENTS_MARK: &str = "#events";
/// The line that means "any page" when an announcement also carries [`EVENTS_MARK`] (alone,
/// an empty payload says it).
const EVERYTHING_MARK: &str = "*";

/// What one announcement says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heard {
    /// The pages it makes stale, if any.
    pub scope: Option<Scope>,
    /// Events were numbered: live updates have something to read.
    pub events: bool,
}

impl Heard {
    /// An announcement as sent (see [`Scope::payload`]).
    pub fn from_payload(payload: &str) -> Self {
        let events = payload.lines().any(|l| l == EVENTS_MARK);
        let everything = payload.lines().any(|l| l == EVERYTHING_MARK);
        let rest: String = payload
            .lines()
            .filter(|l| !l.starts_with('#') && *l != EVERYTHING_MARK)
            .collect::<Vec<_>>()
            .join("\n");
        let scope = if everything || (!events && rest.is_empty()) {
            Some(Scope::Everything)
        } else if rest.is_empty() {
            None
        } else {
            Some(Scope::from_payload(&rest))
        };
        // Nothing heard for a while (a reconnection says so) may hide numbered events too.
        Self { scope, events: events || payload.is_empty() }
    }

    /// What to send for `scope` and, with `events`, the numbering of events.
    pub fn payload(scope: Option<&Scope>, events: bool) -> String {
        match (scope, events) {
            (Some(scope), false) => scope.payload(),
            (None, _) => EVENTS_MARK.to_owned(),
            (Some(scope), true) => {
                let paths = scope.payload();
                let paths = if paths.is_empty() { EVERYTHING_MARK.to_owned() } else { paths };
                format!("{paths}\n{EVENTS_MARK}")
            }
        }
    }
}

/// Which public pages a change makes stale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Any page.
    Everything,
    /// These articles' pages (by path), and every page that is not an article's (listings
    /// show reply counts).
    Articles(BTreeSet<String>),
}

impl Scope {
    /// As announced to other nodes: the paths one a line, or nothing for everything.
    pub fn payload(&self) -> String {
        match self {
            Self::Everything => String::new(),
            Self::Articles(paths) => {
                let joined = paths.iter().map(String::as_str).collect::<Vec<_>>().join("\n");
                if joined.len() > MAX_PAYLOAD { String::new() } else { joined }
            }
        }
    }

    /// An announcement heard from another node (or from this one).
    pub fn from_payload(payload: &str) -> Self {
        let paths: BTreeSet<String> =
            payload.lines().filter(|l| !l.is_empty()).map(str::to_owned).collect();
        if paths.is_empty() { Self::Everything } else { Self::Articles(paths) }
    }

    /// What `self` and `other` touch together.
    fn merge(self, other: &Scope) -> Scope {
        match (self, other) {
            (Self::Articles(mut paths), Self::Articles(more)) => {
                paths.extend(more.iter().cloned());
                Self::Articles(paths)
            }
            _ => Self::Everything,
        }
    }
}

/// What one unit of work changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    scope: Option<Scope>,
    events: Vec<NewEvent>,
}

impl Changes {
    pub fn everything(&mut self) {
        self.scope = Some(Scope::Everything);
    }

    pub fn article(&mut self, path: String) {
        match &mut self.scope {
            Some(Scope::Everything) => {}
            Some(Scope::Articles(paths)) => {
                paths.insert(path);
            }
            None => self.scope = Some(Scope::Articles(BTreeSet::from([path]))),
        }
    }

    pub fn record(&mut self, event: NewEvent) {
        self.events.push(event);
    }

    /// The pages made stale, if any.
    pub fn scope(&self) -> Option<&Scope> {
        self.scope.as_ref()
    }

    pub fn events(&self) -> &[NewEvent] {
        &self.events
    }
}

/// Something that keeps copies of public pages (the page cache).
pub trait ChangeListener: Send + Sync {
    fn changed(&self, scope: &Scope);
}

/// Where committed changes go on this node.
pub struct ChangeHub {
    listeners: Mutex<Vec<Weak<dyn ChangeListener>>>,
    /// Woken when events were recorded, so that the outbox delivers them at once.
    pub events: Notify,
    /// Woken when events were numbered, here or (as announced) on another node: live updates
    /// read them then.
    pub sequenced: Notify,
    /// What was committed and is not yet announced to the other nodes.
    outgoing: Mutex<Outgoing>,
    /// Woken when there is something to announce.
    to_announce: Notify,
    /// How many commits have been announced (counted as `Outgoing::queued`).
    announced: watch::Sender<u64>,
}

#[derive(Default)]
struct Outgoing {
    scope: Option<Scope>,
    /// Events were numbered since the last announcement.
    events: bool,
    /// Commits with something to announce, ever.
    queued: u64,
}

impl Default for ChangeHub {
    fn default() -> Self {
        Self {
            listeners: Mutex::default(),
            events: Notify::new(),
            sequenced: Notify::new(),
            outgoing: Mutex::default(),
            to_announce: Notify::new(),
            announced: watch::Sender::new(0),
        }
    }
}

impl ChangeHub {
    pub fn listen(&self, listener: Weak<dyn ChangeListener>) {
        self.listeners.lock().unwrap_or_else(|p| p.into_inner()).push(listener);
    }

    /// Makes every listener forget what `scope` touches.
    pub fn apply(&self, scope: &Scope) {
        let mut listeners = self.listeners.lock().unwrap_or_else(|p| p.into_inner());
        listeners.retain(|listener| match listener.upgrade() {
            Some(listener) => {
                listener.changed(scope);
                true
            }
            None => false,
        });
    }

    /// A unit of work committed these changes: applied here at once, announced to the other
    /// nodes with the next announcement.
    pub fn committed(&self, changes: &Changes) {
        if let Some(scope) = changes.scope() {
            self.apply(scope);
            let mut outgoing = self.outgoing.lock().unwrap_or_else(|p| p.into_inner());
            outgoing.scope = Some(match outgoing.scope.take() {
                Some(earlier) => earlier.merge(scope),
                None => scope.clone(),
            });
            outgoing.queued += 1;
            self.to_announce.notify_one();
        }
        if !changes.events().is_empty() {
            self.events.notify_waiters();
        }
    }

    /// This node numbered events: live updates here read them at once, and the other nodes
    /// are told with the next announcement.
    pub fn events_sequenced(&self) {
        self.sequenced.notify_waiters();
        let mut outgoing = self.outgoing.lock().unwrap_or_else(|p| p.into_inner());
        outgoing.events = true;
        self.to_announce.notify_one();
    }

    /// Waits until everything committed so far on this node has been announced (or given up
    /// on): for a command that exits right after its change.
    pub async fn settle(&self) {
        let queued = self.outgoing.lock().unwrap_or_else(|p| p.into_inner()).queued;
        let mut announced = self.announced.subscribe();
        let _ = announced.wait_for(|n| *n >= queued).await;
    }
}

/// Announces what this node commits to the other nodes, for as long as the hub lives: one
/// announcement at a time, each with everything committed while the one before was sent.
pub fn announce(hub: &Arc<ChangeHub>, store: crate::store::Store) -> tokio::task::JoinHandle<()> {
    let hub = hub.clone();
    tokio::spawn(async move {
        loop {
            let woken = hub.to_announce.notified();
            if tokio::time::timeout(Duration::from_secs(1), woken).await.is_err() {
                // Nobody else holds the hub: its node has stopped.
                if Arc::strong_count(&hub) == 1 {
                    break;
                }
                continue;
            }
            let (scope, events, queued) = {
                let mut outgoing = hub.outgoing.lock().unwrap_or_else(|p| p.into_inner());
                let events = std::mem::take(&mut outgoing.events);
                (outgoing.scope.take(), events, outgoing.queued)
            };
            if scope.is_some() || events {
                send(&store, &Heard::payload(scope.as_ref(), events)).await;
            }
            hub.announced.send_replace(queued);
        }
    })
}

/// Sends one announcement, trying once more after a moment. One that cannot be sent is lost:
/// the other nodes' pages then live out their time in the cache (a minute at most).
async fn send(store: &crate::store::Store, payload: &str) {
    for attempt in 1..=2 {
        match store.announce(payload).await {
            Ok(()) => return,
            Err(e) if attempt == 1 => {
                tracing::info!(error = %e, "cannot announce a change yet; trying again");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => tracing::warn!(error = %e, "could not announce a change to the other nodes"),
        }
    }
}

/// Applies what other nodes announce (and, on SQLite, other processes' commits) to this
/// node's caches, for as long as the store lives. `listening` is told once the first news has
/// been applied (on PostgreSQL, the listening connection coming up: until then this node
/// cannot hear the others).
pub fn forward_remote(
    store: &crate::store::Store,
    services: std::sync::Arc<super::Services>,
    listening: tokio::sync::oneshot::Sender<()>,
) -> tokio::task::JoinHandle<()> {
    use tokio::sync::broadcast::error::RecvError;
    let mut heard = store.changes();
    let mut listening = Some(listening);
    tokio::spawn(async move {
        loop {
            let heard = match heard.recv().await {
                Ok(payload) => Heard::from_payload(&payload),
                // Lagging behind means news was lost: forget everything.
                Err(RecvError::Lagged(_)) => Heard { scope: Some(Scope::Everything), events: true },
                Err(RecvError::Closed) => break,
            };
            if let Some(scope) = &heard.scope {
                services.changes.apply(scope);
            }
            if heard.events {
                services.changes.sequenced.notify_waiters();
            }
            if let Some(listening) = listening.take() {
                let _ = listening.send(());
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_grow_and_travel() {
        let mut changes = Changes::default();
        assert_eq!(changes.scope(), None, "nothing changed yet");
        changes.article("/2026/11/24/a/".into());
        changes.article("/2026/11/24/b/".into());
        let scope = changes.scope().unwrap().clone();
        assert_eq!(Scope::from_payload(&scope.payload()), scope);
        changes.everything();
        changes.article("/2026/11/24/c/".into());
        assert_eq!(changes.scope(), Some(&Scope::Everything));
        assert_eq!(Scope::from_payload(""), Scope::Everything);
        let many: BTreeSet<String> = (0..1000).map(|i| format!("/2026/11/24/story-{i}/")).collect();
        assert_eq!(Scope::Articles(many).payload(), "", "too long: everything");
    }

    #[test]
    fn announcements_say_when_events_were_numbered() {
        let one = Scope::Articles(BTreeSet::from(["/a/".to_owned()]));
        for (scope, events) in [
            (Some(one.clone()), false),
            (Some(one.clone()), true),
            (Some(Scope::Everything), false),
            (Some(Scope::Everything), true),
            (None, true),
        ] {
            let heard = Heard::from_payload(&Heard::payload(scope.as_ref(), events));
            assert_eq!(heard.scope, scope, "{scope:?} {events}");
            // "Everything" alone is the empty payload, which a reconnection also sends.
            let expected = events || scope == Some(Scope::Everything);
            assert_eq!(heard.events, expected, "{scope:?} {events}");
        }
        assert_eq!(Heard::from_payload(""), Heard { scope: Some(Scope::Everything), events: true });
        assert!(!Heard::from_payload("/a/").events);
    }

    #[test]
    fn commits_announced_together_touch_what_each_touched() {
        let one = |path: &str| Scope::Articles(BTreeSet::from([path.to_owned()]));
        let both = one("/a/").merge(&one("/b/"));
        assert_eq!(both.payload(), "/a/\n/b/");
        assert_eq!(both.merge(&Scope::Everything), Scope::Everything);
        assert_eq!(Scope::Everything.merge(&one("/c/")), Scope::Everything);
    }
}
