//! Values read from the database and kept between requests, until a change that may touch
//! them is heard (on this node or another) or a minute has passed. Only what every change to
//! it announces as touching every page is kept this way: the discussion settings, and what a
//! reply needs of its article (its slug, its date, whether it takes replies), which change
//! only with the article's edits.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::changes::{ChangeListener, Scope};

/// At most this old, in case a change was never heard (an operator's hand in the database).
const KEEP: Duration = Duration::from_secs(60);
/// Values kept at most; past that the oldest go (cleared all at once: it is rare). What is
/// kept is for the pages read over and over (an article's text while replies pour in): an
/// archive read at random, kept whole, held 40 MB of article bodies at 4,096.
const MAX_KEPT: usize = 512;

pub struct Kept<K, V> {
    state: Mutex<State<K, V>>,
}

struct State<K, V> {
    values: HashMap<K, (V, Instant)>,
    /// Changes heard so far: a value read before one is not kept after it.
    generation: u64,
}

impl<K, V> Default for Kept<K, V> {
    fn default() -> Self {
        Self { state: Mutex::new(State { values: HashMap::new(), generation: 0 }) }
    }
}

impl<K: Eq + Hash, V: Clone> Kept<K, V> {
    pub fn get(&self, key: &K) -> Option<V> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let (value, at) = state.values.get(key)?;
        (at.elapsed() < KEEP).then(|| value.clone())
    }

    /// To be taken before reading a value from the database, and given back to `put`.
    pub fn generation(&self) -> u64 {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).generation
    }

    /// Keeps `value`, read when the generation was `generation`, unless a change was heard
    /// since (the value may be what it changed).
    pub fn put(&self, key: K, value: V, generation: u64) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.generation != generation {
            return;
        }
        if state.values.len() >= MAX_KEPT {
            state.values.clear();
        }
        state.values.insert(key, (value, Instant::now()));
    }
}

impl<K: Eq + Hash, V> Kept<K, V> {
    /// Changes a kept value in place (a hint it holds grew stale); nothing if none is kept.
    pub fn update(&self, key: &K, change: impl FnOnce(&mut V)) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((value, _)) = state.values.get_mut(key) {
            change(value);
        }
    }
}

impl<K: Send, V: Send> ChangeListener for Kept<K, V> {
    fn changed(&self, scope: &Scope) {
        if *scope == Scope::Everything {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            state.generation += 1;
            state.values.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn a_value_is_kept_until_a_change_to_every_page() {
        let kept: Kept<&str, i32> = Kept::default();
        let before = kept.generation();
        kept.put("a", 1, before);
        assert_eq!(kept.get(&"a"), Some(1));
        kept.changed(&Scope::Articles(BTreeSet::from(["/2026/11/24/a/".to_owned()])));
        assert_eq!(kept.get(&"a"), Some(1), "a reply changes no article's settings");
        kept.changed(&Scope::Everything);
        assert_eq!(kept.get(&"a"), None);
        kept.put("a", 1, before);
        assert_eq!(kept.get(&"a"), None, "read before the change: not kept");
        kept.put("a", 2, kept.generation());
        assert_eq!(kept.get(&"a"), Some(2));
    }
}
