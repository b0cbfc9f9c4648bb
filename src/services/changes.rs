//! What a use case changed, and applying it: to this node's caches once committed, and to the
//! other nodes by the announcement sent in the transaction (see `store::notices`).

use std::collections::BTreeSet;
use std::sync::{Mutex, Weak};

use tokio::sync::Notify;

use crate::domain::events::NewEvent;
use crate::store::notices::MAX_PAYLOAD;

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
#[derive(Default)]
pub struct ChangeHub {
    listeners: Mutex<Vec<Weak<dyn ChangeListener>>>,
    /// Woken when events were recorded, so that the outbox delivers them at once.
    pub events: Notify,
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

    /// A unit of work committed these changes.
    pub fn committed(&self, changes: &Changes) {
        if let Some(scope) = changes.scope() {
            self.apply(scope);
        }
        if !changes.events().is_empty() {
            self.events.notify_waiters();
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
            let scope = match heard.recv().await {
                Ok(payload) => Scope::from_payload(&payload),
                // Lagging behind means news was lost: forget everything.
                Err(RecvError::Lagged(_)) => Scope::Everything,
                Err(RecvError::Closed) => break,
            };
            services.changes.apply(&scope);
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
}
