//! The discussion settings and their rules: what each one is called, its built-in default,
//! and how its text is read. Admins edit them in the newsroom; a `BYLINE_*` variable (or the
//! configuration file) may fix one (see `services::settings`).

use std::fmt;

use super::identity::{self, Identity};

/// How replies are published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModerationPolicy {
    /// Every reply is published at once.
    None,
    /// A reply is held unless its email already has an approved reply.
    FirstTime,
    /// Every reply is held.
    All,
}

impl ModerationPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::FirstTime => "first-time",
            Self::All => "all",
        }
    }
}

/// Every setting admins edit in the newsroom: the site's identity, then the discussion's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SettingKey {
    SiteTitle,
    Tagline,
    Logo,
    AccentColour,
    FooterText,
    FooterLinks,
    CustomCss,
    Moderation,
    MaxLinks,
    HoldList,
    SpamList,
    CloseAfterDays,
    ThreadDepth,
    RepliesPerPage,
    Honeypot,
    MinFillSeconds,
    RateLimitPerMinute,
    DuplicateCheck,
    EditWindowMinutes,
    EmbedOrigins,
}

impl SettingKey {
    /// In the order the settings page shows them.
    pub const ALL: [SettingKey; 20] = [
        Self::SiteTitle,
        Self::Tagline,
        Self::Logo,
        Self::AccentColour,
        Self::FooterText,
        Self::FooterLinks,
        Self::CustomCss,
        Self::Moderation,
        Self::MaxLinks,
        Self::HoldList,
        Self::SpamList,
        Self::CloseAfterDays,
        Self::ThreadDepth,
        Self::RepliesPerPage,
        Self::Honeypot,
        Self::MinFillSeconds,
        Self::RateLimitPerMinute,
        Self::DuplicateCheck,
        Self::EditWindowMinutes,
        Self::EmbedOrigins,
    ];

    /// The name in the configuration file, the form and the database.
    pub fn name(self) -> &'static str {
        match self {
            Self::SiteTitle => "site_title",
            Self::Tagline => "tagline",
            Self::Logo => "logo",
            Self::AccentColour => "accent_colour",
            Self::FooterText => "footer_text",
            Self::FooterLinks => "footer_links",
            Self::CustomCss => "custom_css",
            Self::Moderation => "moderation",
            Self::MaxLinks => "max_links",
            Self::HoldList => "hold_list",
            Self::SpamList => "spam_list",
            Self::CloseAfterDays => "close_after_days",
            Self::ThreadDepth => "thread_depth",
            Self::RepliesPerPage => "replies_per_page",
            Self::Honeypot => "honeypot",
            Self::MinFillSeconds => "min_fill_seconds",
            Self::RateLimitPerMinute => "rate_limit_per_minute",
            Self::DuplicateCheck => "duplicate_check",
            Self::EditWindowMinutes => "edit_window_minutes",
            Self::EmbedOrigins => "embed_origins",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|key| key.name() == name)
    }

    /// The built-in default, as text: the one source of every default.
    pub fn default_value(self) -> &'static str {
        match self {
            Self::SiteTitle => "Byline",
            Self::Tagline
            | Self::Logo
            | Self::AccentColour
            | Self::FooterText
            | Self::FooterLinks
            | Self::CustomCss => "",
            Self::Moderation => "first-time",
            Self::MaxLinks => "2",
            Self::HoldList | Self::SpamList => "",
            Self::CloseAfterDays => "0",
            Self::ThreadDepth => "5",
            Self::RepliesPerPage => "50",
            Self::Honeypot | Self::DuplicateCheck => "on",
            Self::MinFillSeconds => "3",
            Self::RateLimitPerMinute => "5",
            Self::EditWindowMinutes => "15",
            Self::EmbedOrigins => "",
        }
    }
}

impl fmt::Display for SettingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

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
    /// Minutes after posting during which a reader may change or delete their reply from the
    /// browser that sent it; 0 never.
    pub edit_window_minutes: u32,
    /// The other sites whose pages may show replies with `embed.js` (origins such as
    /// `https://blog.example`, exactly).
    pub embed_origins: Vec<String>,
    /// The site's name and look (see [`Identity`]); shared, since every page shows it.
    pub identity: std::sync::Arc<Identity>,
}

impl SettingKey {
    /// Whether it belongs to the site's identity (the settings page shows those apart).
    pub fn is_identity(self) -> bool {
        matches!(
            self,
            Self::SiteTitle
                | Self::Tagline
                | Self::Logo
                | Self::AccentColour
                | Self::FooterText
                | Self::FooterLinks
                | Self::CustomCss
        )
    }
}

impl Default for DiscussionSettings {
    /// Every value read from [`SettingKey::default_value`].
    fn default() -> Self {
        let default = |key: SettingKey| key.default_value();
        let expect = "the built-in defaults are valid";
        Self {
            moderation: policy(default(SettingKey::Moderation)).expect(expect),
            max_links: links(default(SettingKey::MaxLinks)).expect(expect),
            hold_list: list(default(SettingKey::HoldList)),
            spam_list: list(default(SettingKey::SpamList)),
            close_after_days: number(default(SettingKey::CloseAfterDays), 36_500).expect(expect)
                as u32,
            thread_depth: depth(default(SettingKey::ThreadDepth)).expect(expect),
            replies_per_page: number(default(SettingKey::RepliesPerPage), 1000).expect(expect)
                as usize,
            honeypot: switch(default(SettingKey::Honeypot)).expect(expect),
            min_fill_seconds: number(default(SettingKey::MinFillSeconds), 3600).expect(expect)
                as i64,
            rate_limit_per_minute: number(default(SettingKey::RateLimitPerMinute), 10_000)
                .expect(expect),
            duplicate_check: switch(default(SettingKey::DuplicateCheck)).expect(expect),
            edit_window_minutes: number(default(SettingKey::EditWindowMinutes), MAX_EDIT_WINDOW)
                .expect(expect) as u32,
            embed_origins: origins(default(SettingKey::EmbedOrigins)).expect(expect),
            identity: Default::default(),
        }
    }
}

/// A day: long enough for any second thought, short enough that a thread others answered
/// cannot be rewritten under them a week later.
const MAX_EDIT_WINDOW: u64 = 1440;

fn policy(raw: &str) -> Result<ModerationPolicy, String> {
    match raw.trim() {
        "none" => Ok(ModerationPolicy::None),
        "first-time" => Ok(ModerationPolicy::FirstTime),
        "all" => Ok(ModerationPolicy::All),
        _ => Err("expected one of none, first-time, all".into()),
    }
}

fn links(raw: &str) -> Result<Option<usize>, String> {
    match raw.trim() {
        "off" => Ok(None),
        n => Ok(Some(number(n, 1000).map_err(|e| format!("{e}, or off"))? as usize)),
    }
}

fn depth(raw: &str) -> Result<usize, String> {
    match number(raw, 20)? {
        0 => Err("expected a whole number from 1 to 20".into()),
        n => Ok(n as usize),
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

/// Origins, one a line (spaces and commas also separate), each `scheme://host[:port]`
/// exactly: no path, no wildcard. Kept as the browser spells them in `Origin`.
fn origins(raw: &str) -> Result<Vec<String>, String> {
    let mut found = Vec::new();
    for entry in raw.split(['\n', ',', ' ', '\t']).map(str::trim).filter(|e| !e.is_empty()) {
        let bad = || {
            format!(
                "“{entry}” is not an origin: write each as https://blog.example (a scheme, a \
                 host and perhaps a port, with no path and no *), one a line"
            )
        };
        let url = url::Url::parse(entry).map_err(|_| bad())?;
        let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
        let scheme = matches!(url.scheme(), "http" | "https");
        if !bare || !scheme || entry.contains('*') || !url.username().is_empty() {
            return Err(bad());
        }
        let origin = url.origin().ascii_serialization();
        if !found.contains(&origin) {
            found.push(origin);
        }
    }
    Ok(found)
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
    pub fn set(&mut self, key: SettingKey, raw: &str) -> Result<(), String> {
        let site = std::sync::Arc::make_mut(&mut self.identity);
        match key {
            SettingKey::SiteTitle => site.site_title = identity::line(raw, 100, true)?,
            SettingKey::Tagline => site.tagline = identity::line(raw, 200, false)?,
            SettingKey::Logo => site.logo = identity::logo(raw)?,
            SettingKey::AccentColour => site.accent = identity::accent(raw)?,
            SettingKey::FooterText => site.footer_text = identity::line(raw, 500, false)?,
            SettingKey::FooterLinks => site.footer_links = identity::footer_links(raw)?,
            SettingKey::CustomCss => site.custom_css = identity::css(raw)?,
            SettingKey::Moderation => self.moderation = policy(raw)?,
            SettingKey::MaxLinks => self.max_links = links(raw)?,
            SettingKey::HoldList => self.hold_list = list(raw),
            SettingKey::SpamList => self.spam_list = list(raw),
            SettingKey::CloseAfterDays => self.close_after_days = number(raw, 36_500)? as u32,
            SettingKey::ThreadDepth => self.thread_depth = depth(raw)?,
            SettingKey::RepliesPerPage => self.replies_per_page = number(raw, 1000)? as usize,
            SettingKey::Honeypot => self.honeypot = switch(raw)?,
            SettingKey::MinFillSeconds => self.min_fill_seconds = number(raw, 3600)? as i64,
            SettingKey::RateLimitPerMinute => self.rate_limit_per_minute = number(raw, 10_000)?,
            SettingKey::DuplicateCheck => self.duplicate_check = switch(raw)?,
            SettingKey::EditWindowMinutes => {
                self.edit_window_minutes = number(raw, MAX_EDIT_WINDOW)? as u32
            }
            SettingKey::EmbedOrigins => self.embed_origins = origins(raw)?,
        }
        Ok(())
    }

    /// A setting as text, as the settings form shows it.
    pub fn value(&self, key: SettingKey) -> String {
        let on_off = |b: bool| if b { "on" } else { "off" }.to_owned();
        let site = &self.identity;
        match key {
            SettingKey::SiteTitle => site.site_title.clone(),
            SettingKey::Tagline => site.tagline.clone(),
            SettingKey::Logo => site.logo.clone(),
            SettingKey::AccentColour => site.accent.clone(),
            SettingKey::FooterText => site.footer_text.clone(),
            SettingKey::FooterLinks => site.footer_links_text(),
            SettingKey::CustomCss => site.custom_css.clone(),
            SettingKey::Moderation => self.moderation.as_str().to_owned(),
            SettingKey::MaxLinks => self.max_links.map_or("off".into(), |n| n.to_string()),
            SettingKey::HoldList => self.hold_list.join("\n"),
            SettingKey::SpamList => self.spam_list.join("\n"),
            SettingKey::CloseAfterDays => self.close_after_days.to_string(),
            SettingKey::ThreadDepth => self.thread_depth.to_string(),
            SettingKey::RepliesPerPage => self.replies_per_page.to_string(),
            SettingKey::Honeypot => on_off(self.honeypot),
            SettingKey::MinFillSeconds => self.min_fill_seconds.to_string(),
            SettingKey::RateLimitPerMinute => self.rate_limit_per_minute.to_string(),
            SettingKey::DuplicateCheck => on_off(self.duplicate_check),
            SettingKey::EditWindowMinutes => self.edit_window_minutes.to_string(),
            SettingKey::EmbedOrigins => self.embed_origins.join("\n"),
        }
    }

    /// Seconds a reply posted at `created_at` may still be changed by its poster at `now`;
    /// `None` once the window has passed (or when there is none).
    pub fn edit_seconds_left(&self, created_at: i64, now: i64) -> Option<i64> {
        let left = created_at + i64::from(self.edit_window_minutes) * 60 - now;
        (left > 0).then_some(left)
    }

    /// Whether `origin` (as a browser sends it) is one of the sites that may embed replies.
    pub fn embeds_for(&self, origin: &str) -> bool {
        self.embed_origins.iter().any(|o| o == origin)
    }

    /// Whether replies are closed on an article that is open to them and was first published
    /// at `published_at`: by its age.
    pub fn closed_by_age(&self, published_at: Option<i64>, now: i64) -> bool {
        let days = i64::from(self.close_after_days);
        days > 0 && published_at.is_some_and(|at| now - at > days * 86_400)
    }
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
        assert_eq!(s.edit_window_minutes, 15);
        for key in SettingKey::ALL {
            assert_eq!(s.value(key), key.default_value(), "{key}");
            assert_eq!(SettingKey::parse(key.name()), Some(key));
        }
    }

    #[test]
    fn values_round_trip_through_text() {
        let mut s = DiscussionSettings::default();
        s.set(SettingKey::HoldList, "Casino\n spam@example.com, 192.0.2.7\n\n").unwrap();
        assert_eq!(s.hold_list, ["casino", "spam@example.com", "192.0.2.7"]);
        s.set(SettingKey::MaxLinks, "off").unwrap();
        assert_eq!(s.max_links, None);
        for key in SettingKey::ALL {
            let mut copy = DiscussionSettings::default();
            copy.set(key, &s.value(key)).unwrap();
            assert_eq!(copy.value(key), s.value(key), "{key}");
        }
        assert!(s.set(SettingKey::ThreadDepth, "0").is_err());
        assert!(s.set(SettingKey::Honeypot, "maybe").is_err());
    }

    #[test]
    fn the_edit_window_counts_down_from_posting() {
        let mut s = DiscussionSettings::default();
        assert_eq!(s.edit_seconds_left(1000, 1000), Some(900));
        assert_eq!(s.edit_seconds_left(1000, 1899), Some(1));
        assert_eq!(s.edit_seconds_left(1000, 1900), None);
        s.set(SettingKey::EditWindowMinutes, "0").unwrap();
        assert_eq!(s.edit_seconds_left(1000, 1000), None);
        assert!(s.set(SettingKey::EditWindowMinutes, "1441").is_err());
    }

    #[test]
    fn embedding_sites_are_exact_origins() {
        let mut s = DiscussionSettings::default();
        assert!(s.embed_origins.is_empty());
        s.set(
            SettingKey::EmbedOrigins,
            "https://blog.example/\nhttp://localhost:8081, HTTPS://Blog.Example",
        )
        .unwrap();
        assert_eq!(s.embed_origins, ["https://blog.example", "http://localhost:8081"]);
        assert!(s.embeds_for("https://blog.example"));
        assert!(!s.embeds_for("https://blog.example.evil.example"));
        assert!(!s.embeds_for("http://blog.example"));
        for bad in [
            "https://*.example",
            "https://blog.example/path",
            "blog.example",
            "ftp://x.example",
            "https://u@x.example",
        ] {
            let refused = s.set(SettingKey::EmbedOrigins, bad).unwrap_err();
            assert!(refused.contains("not an origin"), "{bad}: {refused}");
        }
    }

    #[test]
    fn replies_close_by_age_only_when_asked() {
        let mut s = DiscussionSettings::default();
        assert!(!s.closed_by_age(Some(0), 10 * 86_400));
        s.close_after_days = 7;
        assert!(s.closed_by_age(Some(0), 8 * 86_400));
        assert!(!s.closed_by_age(Some(0), 6 * 86_400));
        assert!(!s.closed_by_age(None, 8 * 86_400));
    }
}
