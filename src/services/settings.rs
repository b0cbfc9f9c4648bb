//! The discussion settings in force: the built-in defaults, then what admins saved in the
//! database, then what a `BYLINE_*` variable (or the configuration file) fixes.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::Services;
use super::changes::{ChangeListener, Scope};
use crate::config::env_name;
use crate::domain::{DiscussionSettings, FieldError, SettingKey};
use crate::store::{Db, SettingReads, SettingWrites, SiteSetting, StoreError};

/// The settings in force, and which of them the environment (or file) fixes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective {
    pub settings: DiscussionSettings,
    /// Setting → the variable that fixes it.
    pub fixed: BTreeMap<SettingKey, String>,
}

/// Defaults, then the database's values, then the fixed ones (checked at start).
pub async fn load(
    db: &mut dyn Db,
    overrides: &BTreeMap<SettingKey, String>,
) -> Result<Effective, StoreError> {
    let mut settings = DiscussionSettings::default();
    for (key, raw) in db.discussion_settings().await? {
        if let Err(e) = settings.set(key, &raw) {
            tracing::warn!(setting = key.name(), error = %e, "ignoring a stored setting");
        }
    }
    let mut fixed = BTreeMap::new();
    for (key, raw) in overrides {
        if settings.set(*key, raw).is_ok() {
            fixed.insert(*key, env_name(key.name()));
        }
    }
    Ok(Effective { settings, fixed })
}

/// The settings in force now: as last read, unless a change may have touched them since (or
/// they were read a minute ago), so that a page or a reply need not read them every time.
pub async fn effective(services: &Services) -> Result<Effective, StoreError> {
    let cache = &services.settings;
    if let Some(kept) = cache.get() {
        return Ok(kept);
    }
    let generation = cache.generation();
    let overrides = services.config.discussion.clone();
    let effective =
        services.store.read(move |db| Box::pin(async move { load(db, &overrides).await })).await?;
    cache.put(&effective, generation);
    Ok(effective)
}

/// The settings as last read; forgotten when any change may have touched them (every change
/// to settings touches every page, so is announced as such, here and on the other nodes).
#[derive(Default)]
pub struct SettingsCache {
    kept: Mutex<Option<(Effective, Instant)>>,
    /// Changes heard so far: settings read before one are not kept after it.
    generation: AtomicU64,
}

/// At most this old, in case a change was never heard.
const KEEP: Duration = Duration::from_secs(60);

impl SettingsCache {
    fn get(&self) -> Option<Effective> {
        let kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.as_ref().filter(|(_, at)| at.elapsed() < KEEP).map(|(e, _)| e.clone())
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    fn put(&self, effective: &Effective, generation: u64) {
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        // Checked under the lock that forgetting takes too.
        if self.generation() == generation {
            *kept = Some((effective.clone(), Instant::now()));
        }
    }
}

impl ChangeListener for SettingsCache {
    fn changed(&self, scope: &Scope) {
        if *scope == Scope::Everything {
            let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
            self.generation.fetch_add(1, Ordering::SeqCst);
            *kept = None;
        }
    }
}

/// Stores the values an admin submitted, in one unit of work; the fixed ones are left alone.
/// Every bad value is reported, and nothing is stored unless all are good.
pub async fn save(
    services: &Services,
    submitted: &[(String, String)],
) -> Result<Result<(), Vec<FieldError>>, StoreError> {
    let mut check = DiscussionSettings::default();
    let mut errors = Vec::new();
    let mut good = Vec::new();
    for key in SettingKey::ALL {
        if services.config.discussion.contains_key(&key) {
            continue;
        }
        let Some((_, raw)) = submitted.iter().find(|(name, _)| name == key.name()) else {
            continue;
        };
        match check.set(key, raw) {
            Ok(()) => good.push((key, check.value(key))),
            Err(e) => errors.push(FieldError::new(key.name(), e)),
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    services
        .commit(move |unit| {
            Box::pin(async move {
                for (key, value) in &good {
                    unit.set_setting(SiteSetting::Discussion(*key), Some(value)).await?;
                }
                // Settings show on article pages (the form, the thread's depth and pages).
                unit.site_changed();
                Ok::<_, StoreError>(())
            })
        })
        .await?;
    Ok(Ok(()))
}
