//! Discussion settings: edited by admins and stored in the database, unless a `BYLINE_*`
//! variable (or the configuration file) fixes one. Precedence: environment or file, then the
//! database, then the built-in default.

use std::collections::BTreeMap;

use crate::config::{ModerationPolicy, env_name};
use crate::store::{Store, StoreError};

/// Database keys are these names under this prefix.
const PREFIX: &str = "discussion.";

/// Every discussion setting: name and built-in default.
pub const KEYS: &[(&str, &str)] = &[
    ("moderation", "first-time"),
    ("max_links", "2"),
    ("hold_list", ""),
    ("spam_list", ""),
    ("close_after_days", "0"),
    ("thread_depth", "5"),
    ("replies_per_page", "50"),
    ("honeypot", "on"),
    ("min_fill_seconds", "3"),
    ("rate_limit_per_minute", "5"),
    ("duplicate_check", "on"),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscussionSettings {
    pub moderation: ModerationPolicy,
    /// Hold a reply with more links than this; `None` turns the rule off.
    pub max_links: Option<usize>,
    /// Entries (words, emails, IPs) that hold a reply.
    pub hold_list: Vec<String>,
    /// Entries that send a reply straight to spam.
    pub spam_list: Vec<String>,
    /// Close replies on articles older than this many days; 0 never does.
    pub close_after_days: u32,
    pub thread_depth: usize,
    /// Top-level threads per page of replies; 0 puts them all on one page.
    pub replies_per_page: usize,
    pub honeypot: bool,
    /// Hold replies sent sooner than this after the page was served; 0 turns it off.
    pub min_fill_seconds: i64,
    /// Replies a minute from one address; 0 turns the limit off.
    pub rate_limit_per_minute: u64,
    /// Refuse the same text from the same address on the same article within a day.
    pub duplicate_check: bool,
}

impl Default for DiscussionSettings {
    fn default() -> Self {
        let mut settings = Self {
            moderation: ModerationPolicy::FirstTime,
            max_links: None,
            hold_list: Vec::new(),
            spam_list: Vec::new(),
            close_after_days: 0,
            thread_depth: 5,
            replies_per_page: 50,
            honeypot: true,
            min_fill_seconds: 0,
            rate_limit_per_minute: 0,
            duplicate_check: true,
        };
        for (key, default) in KEYS {
            settings.set(key, default).expect("the defaults are valid");
        }
        settings
    }
}

fn switch(raw: &str) -> Result<bool, String> {
    match raw.trim() {
        "on" | "true" | "yes" | "1" => Ok(true),
        "off" | "false" | "no" | "0" => Ok(false),
        _ => Err("expected on or off".into()),
    }
}

fn number(raw: &str, max: u64) -> Result<u64, String> {
    match raw.trim().parse::<u64>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(format!("expected a whole number from 0 to {max}")),
    }
}

/// One entry a line (commas also separate), trimmed, lowercased, without blanks.
fn list(raw: &str) -> Vec<String> {
    raw.split(['\n', ','])
        .map(|entry| entry.trim().to_lowercase())
        .filter(|entry| !entry.is_empty())
        .collect()
}

impl DiscussionSettings {
    /// Sets one setting from text, or says what is wrong with the text.
    pub fn set(&mut self, key: &str, raw: &str) -> Result<(), String> {
        match key {
            "moderation" => {
                self.moderation = match raw.trim() {
                    "none" => ModerationPolicy::None,
                    "first-time" => ModerationPolicy::FirstTime,
                    "all" => ModerationPolicy::All,
                    _ => return Err("expected one of none, first-time, all".into()),
                }
            }
            "max_links" => {
                self.max_links = match raw.trim() {
                    "off" => None,
                    n => Some(number(n, 1000).map_err(|e| format!("{e}, or off"))? as usize),
                }
            }
            "hold_list" => self.hold_list = list(raw),
            "spam_list" => self.spam_list = list(raw),
            "close_after_days" => self.close_after_days = number(raw, 36_500)? as u32,
            "thread_depth" => match number(raw, 20)? {
                0 => return Err("expected a whole number from 1 to 20".into()),
                n => self.thread_depth = n as usize,
            },
            "replies_per_page" => self.replies_per_page = number(raw, 1000)? as usize,
            "honeypot" => self.honeypot = switch(raw)?,
            "min_fill_seconds" => self.min_fill_seconds = number(raw, 3600)? as i64,
            "rate_limit_per_minute" => self.rate_limit_per_minute = number(raw, 10_000)?,
            "duplicate_check" => self.duplicate_check = switch(raw)?,
            _ => return Err(format!("unknown setting {key}")),
        }
        Ok(())
    }

    /// A setting as text, as the settings form shows it.
    pub fn value(&self, key: &str) -> String {
        let on_off = |b: bool| if b { "on" } else { "off" }.to_owned();
        match key {
            "moderation" => match self.moderation {
                ModerationPolicy::None => "none",
                ModerationPolicy::FirstTime => "first-time",
                ModerationPolicy::All => "all",
            }
            .to_owned(),
            "max_links" => self.max_links.map_or("off".into(), |n| n.to_string()),
            "hold_list" => self.hold_list.join("\n"),
            "spam_list" => self.spam_list.join("\n"),
            "close_after_days" => self.close_after_days.to_string(),
            "thread_depth" => self.thread_depth.to_string(),
            "replies_per_page" => self.replies_per_page.to_string(),
            "honeypot" => on_off(self.honeypot),
            "min_fill_seconds" => self.min_fill_seconds.to_string(),
            "rate_limit_per_minute" => self.rate_limit_per_minute.to_string(),
            "duplicate_check" => on_off(self.duplicate_check),
            _ => String::new(),
        }
    }
}

/// The settings in force, and which of them the environment (or file) fixes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective {
    pub settings: DiscussionSettings,
    /// Setting name → the variable that fixes it.
    pub fixed: BTreeMap<&'static str, String>,
}

/// Checks values given by the environment or the configuration file.
pub fn check_overrides(overrides: &BTreeMap<String, String>) -> Result<(), String> {
    let mut settings = DiscussionSettings::default();
    for (key, raw) in overrides {
        settings
            .set(key, raw)
            .map_err(|e| format!("setting `{key}` ({}): {e}; got {raw:?}", env_name(key)))?;
    }
    Ok(())
}

/// Defaults, then the database's values, then the fixed ones.
pub async fn load(
    store: &dyn Store,
    overrides: &BTreeMap<String, String>,
) -> Result<Effective, StoreError> {
    let mut settings = DiscussionSettings::default();
    for (key, raw) in store.settings_with_prefix(PREFIX).await? {
        let name = &key[PREFIX.len()..];
        if let Err(e) = settings.set(name, &raw) {
            tracing::warn!(setting = name, error = %e, "ignoring a stored setting");
        }
    }
    let mut fixed = BTreeMap::new();
    for (key, _) in KEYS {
        if let Some(raw) = overrides.get(*key) {
            // Checked at start by `check_overrides`.
            let _ = settings.set(key, raw);
            fixed.insert(*key, env_name(key));
        }
    }
    Ok(Effective { settings, fixed })
}

/// Stores the values an admin submitted; the fixed ones are left alone. Every bad value is
/// reported, and nothing is stored unless all are good.
pub async fn save(
    store: &dyn Store,
    overrides: &BTreeMap<String, String>,
    submitted: &[(String, String)],
) -> Result<Result<(), Vec<(&'static str, String)>>, StoreError> {
    let mut check = DiscussionSettings::default();
    let mut errors = Vec::new();
    let mut good = Vec::new();
    for (key, _) in KEYS {
        if overrides.contains_key(*key) {
            continue;
        }
        let Some((_, raw)) = submitted.iter().find(|(name, _)| name == key) else {
            continue;
        };
        match check.set(key, raw) {
            Ok(()) => good.push((*key, check.value(key))),
            Err(e) => errors.push((*key, e)),
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    for (key, value) in good {
        store.set_setting(&format!("{PREFIX}{key}"), Some(&value)).await?;
    }
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_have_every_defense_on() {
        let s = DiscussionSettings::default();
        assert_eq!(s.moderation, ModerationPolicy::FirstTime);
        assert_eq!(s.max_links, Some(2));
        assert!(s.honeypot && s.duplicate_check);
        assert_eq!((s.min_fill_seconds, s.rate_limit_per_minute), (3, 5));
        assert_eq!((s.thread_depth, s.replies_per_page, s.close_after_days), (5, 50, 0));
    }

    #[test]
    fn values_round_trip_through_text() {
        let mut s = DiscussionSettings::default();
        s.set("hold_list", "Casino\n spam@example.com, 192.0.2.7\n\n").unwrap();
        assert_eq!(s.hold_list, ["casino", "spam@example.com", "192.0.2.7"]);
        s.set("max_links", "off").unwrap();
        assert_eq!(s.max_links, None);
        for (key, _) in KEYS {
            let mut copy = DiscussionSettings::default();
            copy.set(key, &s.value(key)).unwrap();
            assert_eq!(copy.value(key), s.value(key), "{key}");
        }
        assert!(s.set("thread_depth", "0").is_err());
        assert!(s.set("honeypot", "maybe").is_err());
        assert!(check_overrides(&[("moderation".to_owned(), "x".to_owned())].into()).is_err());
    }
}
