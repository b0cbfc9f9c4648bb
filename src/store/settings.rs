//! Site settings kept in the database: the signing secret, the lead story, and the discussion
//! settings admins edit.

use std::borrow::Cow;

use async_trait::async_trait;

use super::{Db, Result, Tx};
use crate::domain::SettingKey;

/// What the `settings` table holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteSetting {
    /// The key every node signs cookies and form tokens with.
    Secret,
    /// The article at the head of the front page.
    LeadArticle,
    /// A discussion setting an admin saved.
    Discussion(SettingKey),
    /// The version of Markdown rendering the stored bodies were made with (see
    /// `services::publishing::render_again`).
    RenderedWith,
    /// The site's language as the search index was made for it (the `language` setting).
    Language,
}

/// Discussion settings are stored under this prefix.
const DISCUSSION: &str = "discussion.";

impl SiteSetting {
    pub fn key(self) -> Cow<'static, str> {
        match self {
            Self::Secret => "secret".into(),
            Self::LeadArticle => "lead_article".into(),
            Self::RenderedWith => "rendered_with".into(),
            Self::Language => "language".into(),
            Self::Discussion(key) => format!("{DISCUSSION}{}", key.name()).into(),
        }
    }
}

#[async_trait]
pub trait SettingReads: Db {
    async fn setting(&mut self, setting: SiteSetting) -> Result<Option<String>> {
        let sql = "SELECT value FROM settings WHERE key = $1";
        self.query(sql, &[setting.key().as_ref().into()]).await?.first(|r| r.text(0))
    }

    /// The discussion settings an admin saved (unknown keys are left out).
    async fn discussion_settings(&mut self) -> Result<Vec<(SettingKey, String)>> {
        let sql = "SELECT key, value FROM settings
                    WHERE substr(key, 1, length($1)) = $1 ORDER BY key";
        let rows = self.query(sql, &[DISCUSSION.into()]).await?;
        let stored = rows.map(|r| Ok((r.text(0)?, r.text(1)?)))?;
        Ok(stored
            .into_iter()
            .filter_map(|(key, value)| {
                Some((SettingKey::parse(key.strip_prefix(DISCUSSION)?)?, value))
            })
            .collect())
    }
}

impl<T: Db + ?Sized> SettingReads for T {}

#[async_trait]
pub trait SettingWrites: Tx {
    /// Sets a setting, or removes it with `None`.
    async fn set_setting(&mut self, setting: SiteSetting, value: Option<&str>) -> Result<()> {
        let key = setting.key();
        match value {
            Some(value) => {
                let sql = "INSERT INTO settings (key, value) VALUES ($1, $2)
                           ON CONFLICT (key) DO UPDATE SET value = excluded.value";
                self.execute(sql, &[key.as_ref().into(), value.into()]).await?
            }
            None => {
                let sql = "DELETE FROM settings WHERE key = $1";
                self.execute(sql, &[key.as_ref().into()]).await?
            }
        };
        Ok(())
    }

    /// Stores `value` unless the setting has one; returns the value now stored.
    async fn setting_or_insert(&mut self, setting: SiteSetting, value: &str) -> Result<String> {
        let key = setting.key();
        let insert =
            "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING";
        self.execute(insert, &[key.as_ref().into(), value.into()]).await?;
        let sql = "SELECT value FROM settings WHERE key = $1";
        self.query(sql, &[key.as_ref().into()])
            .await?
            .first(|r| r.text(0))
            .map(|v| v.unwrap_or_default())
    }
}

impl<T: Tx + ?Sized> SettingWrites for T {}
