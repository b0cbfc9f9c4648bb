//! The discussion settings in force: the built-in defaults, then what admins saved in the
//! database, then what a `BYLINE_*` variable (or the configuration file) fixes.

use std::collections::BTreeMap;

use super::Services;
use crate::config::env_name;
use crate::domain::{DiscussionSettings, FieldError, SettingKey};
use crate::store::{Db, SettingReads, SettingWrites, SiteSetting, StoreError, User};

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

/// The settings in force now: as last read, unless a change may have touched them since (see
/// `kept`), so that a page or a reply need not read them every time. (Every change to
/// settings touches every page, so is announced as such, here and on the other nodes.)
pub async fn effective(services: &Services) -> Result<Effective, StoreError> {
    let kept = &services.kept_settings;
    if let Some(effective) = kept.get(&()) {
        return Ok(effective);
    }
    let generation = kept.generation();
    let overrides = services.config.discussion.clone();
    let effective =
        services.store.read(move |db| Box::pin(async move { load(db, &overrides).await })).await?;
    kept.put((), effective.clone(), generation);
    services.remember_identity(&effective.settings.identity);
    Ok(effective)
}

/// Stores the values an admin submitted, in one unit of work; the fixed ones are left alone.
/// Every bad value is reported, and nothing is stored unless all are good.
pub async fn save(
    services: &Services,
    user: &User,
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
    // The names only: lists may hold readers' addresses.
    let names: Vec<&str> = good.iter().map(|(key, _)| key.name()).collect();
    let (staff, names) = (user.id.get(), names.join(","));
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
    tracing::info!(staff, settings = names, "saved the discussion settings");
    Ok(Ok(()))
}
