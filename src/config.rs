//! Configuration: one typed struct, read once at start from an optional TOML file and
//! `BYLINE_*` environment variables (which win), validated with errors that name the setting.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use jiff::tz::TimeZone;

use crate::domain::{DiscussionSettings, ReplyLimits, SettingKey};
use crate::mail::{MailMode, MailSettings, SmtpSecurity};

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    /// A `postgres://` or `postgresql://` URL.
    Postgres(String),
}

impl DatabaseUrl {
    /// For messages and logs: the URL without its password.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(path) => path.display().to_string(),
            Self::Postgres(url) => match url::Url::parse(url) {
                Ok(mut parsed) if parsed.password().is_some() => {
                    let _ = parsed.set_password(Some("…"));
                    parsed.to_string()
                }
                Ok(parsed) => parsed.to_string(),
                Err(_) => "(a PostgreSQL URL)".into(),
            },
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub site_title: String,
    /// The site's public address, without a trailing slash, e.g. `https://news.example`.
    pub base_url: String,
    pub listen: SocketAddr,
    pub database: DatabaseUrl,
    /// Discussion settings fixed by the environment or the file (see
    /// [`crate::services::settings`]), checked.
    pub discussion: BTreeMap<SettingKey, String>,
    pub timezone: TimeZone,
    /// The site's language: `<html lang>`, and how search stems words.
    pub language: crate::domain::search::Language,
    pub limits: ReplyLimits,
    /// Proxies whose `X-Forwarded-For` / `Forwarded` headers are believed.
    pub trusted_proxies: Vec<Network>,
    /// Largest request body accepted; a larger one gets `413`.
    pub max_body_bytes: usize,
    /// Largest file the newsroom's Import page takes (streamed to the database, not held).
    pub max_import_bytes: usize,
    /// Where the media library's files are kept on this machine.
    pub media_dir: PathBuf,
    /// Where they are kept: that folder, or a bucket every node shares.
    pub media_store: MediaStore,
    /// The bucket's own public address: files are sent there instead of served here.
    pub media_public_url: Option<String>,
    /// The `AWS_*` variables that reach the bucket.
    pub s3: S3Settings,
    /// Largest image an upload may be, in bytes.
    pub max_upload_bytes: usize,
    /// Largest image an upload may be, in pixels (checked before it is decoded).
    pub max_upload_pixels: u64,
    /// How many images are decoded and encoded at once (each may take a few hundred MB).
    pub image_jobs: usize,
    /// Public pages may show images from this site only (`img-src 'self'`).
    pub images_from_self_only: bool,
    pub articles_per_page: u64,
    /// How long a staff session lasts after sign-in.
    pub session_seconds: i64,
    /// How often scheduled articles are checked for (also once at start).
    pub scheduler_seconds: u64,
    /// How long shared caches (a reverse proxy, a CDN) may keep a public page.
    pub cache_seconds: u64,
    /// No request waits longer than this: past it, `503` with `Retry-After`.
    pub request_timeout_seconds: u64,
    /// Keep rendered public pages in memory and on disk (see `web::page_cache`).
    pub page_cache: bool,
    /// What the pages kept in memory may weigh together.
    pub page_cache_memory_bytes: usize,
    /// What the pages kept on disk may weigh together; 0 keeps none there.
    pub page_cache_disk_bytes: u64,
    /// Where the pages on disk are kept (each node in a folder of its own under it).
    pub page_cache_dir: PathBuf,
    /// How long delivered outbox events are kept before they are deleted.
    pub outbox_keep_hours: i64,
    /// The log's lines: text for people, or one JSON object each for a log collector.
    pub log_format: LogFormat,
    /// Days a reply's address is kept (for staff and the rate limit), counted from the reply.
    pub ip_retention_days: i64,
    /// Longest a stop (SIGTERM) waits for open connections before closing them.
    pub shutdown_seconds: u64,
    /// Longest a client may take to send a request's head.
    pub header_timeout_seconds: u64,
    /// Longest a connection may stay idle between requests.
    pub keepalive_seconds: u64,
    /// Most connections open at once; past it new ones get a short `503`.
    pub max_connections: usize,
    /// Most live event streams open at once on this node; past it, `503`.
    pub max_event_streams: usize,
    /// Changes one account may make through the API in a minute; 0: no limit.
    pub api_writes_per_minute: u64,
    /// The bearer token that opens `/metrics` to other machines; empty: loopback only.
    pub metrics_token: String,
    /// How mail is sent, and from whom (`mail` off by default).
    pub mail: MailSettings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where the media library's files are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaStore {
    /// `media_dir`, on this machine.
    Folder,
    /// A bucket of an S3-compatible store, which several nodes share.
    S3(crate::media::s3::BucketPlace),
}

/// The `aws_*` values (lower-cased `AWS_*` variables). Never printed: they hold secrets.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct S3Settings(pub Vec<(String, String)>);

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.iter().map(|(name, _)| name)).finish()
    }
}

/// A setting with a bad value, or a configuration file that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(String);

/// Every setting: its name in the file, and its default.
const SETTINGS: &[(&str, &str)] = &[
    ("site_title", "Byline"),
    ("base_url", ""),
    ("listen", "127.0.0.1:8080"),
    ("database", "byline.db"),
    ("timezone", "UTC"),
    ("language", "en"),
    ("trusted_proxies", ""),
    ("max_name_chars", "100"),
    ("max_email_chars", "254"),
    ("max_website_chars", "2000"),
    ("max_comment_chars", "10000"),
    ("max_body_bytes", "262144"),
    ("max_import_bytes", "1073741824"),
    ("media_dir", ""),
    ("media_store", ""),
    ("media_public_url", ""),
    ("max_upload_bytes", "20000000"),
    ("max_upload_pixels", "50000000"),
    ("image_jobs", "1"),
    ("img_src", "any"),
    ("articles_per_page", "10"),
    ("session_seconds", "1209600"),
    ("scheduler_seconds", "15"),
    ("cache_seconds", "5"),
    ("request_timeout_seconds", "10"),
    ("page_cache", "on"),
    ("page_cache_memory_mb", "16"),
    ("page_cache_disk_mb", "1024"),
    ("page_cache_dir", ""),
    ("outbox_keep_hours", "48"),
    ("log_format", "text"),
    ("ip_retention_days", "30"),
    ("shutdown_seconds", "10"),
    ("header_timeout_seconds", "10"),
    ("keepalive_seconds", "60"),
    ("max_connections", "20000"),
    ("max_event_streams", "10000"),
    ("api_writes_per_minute", "60"),
    ("metrics_token", ""),
    ("mail", "off"),
    ("smtp_host", "localhost"),
    ("smtp_port", "587"),
    ("smtp_security", "starttls"),
    ("smtp_user", ""),
    ("smtp_password", ""),
    ("mail_from", ""),
    ("mail_give_up_hours", "48"),
    ("notify_max_per_hour", "10"),
];

/// The environment variable for a setting: `site_title` → `BYLINE_SITE_TITLE`.
pub fn env_name(setting: &str) -> String {
    format!("BYLINE_{}", setting.to_ascii_uppercase())
}

impl Default for Config {
    fn default() -> Self {
        Self::from_values(&BTreeMap::new()).expect("the defaults are valid")
    }
}

impl Config {
    /// Reads the file (if any), then the environment, then `overrides` (from the command line).
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
        overrides: &[(&str, String)],
    ) -> Result<Self, ConfigError> {
        let mut values = match file {
            Some(path) => read_file(path)?,
            None => BTreeMap::new(),
        };
        let names = SETTINGS.iter().map(|(name, _)| *name).chain(discussion_names());
        for name in names {
            if let Some(value) = env(&env_name(name)) {
                values.insert(name.to_owned(), value);
            }
        }
        for (name, value) in overrides {
            values.insert((*name).to_owned(), value.clone());
        }
        // The bucket is reached as every S3 tool reaches it.
        for name in crate::media::s3::ENVIRONMENT {
            if let Some(value) = env(name) {
                values.insert(name.to_ascii_lowercase(), value);
            }
        }
        Self::from_values(&values)
    }

    /// Builds a configuration from raw values by setting name; missing ones take the default.
    pub fn from_values(values: &BTreeMap<String, String>) -> Result<Self, ConfigError> {
        let get = |name: &str| -> &str { setting(values, name) };
        let bad = |name: &str, why: &str| bad_value(values, name, why);
        let number = |name: &str, min: usize, max: usize| -> Result<usize, ConfigError> {
            match get(name).trim().parse::<usize>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                _ => Err(bad(name, &format!("expected a whole number from {min} to {max}"))),
            }
        };
        let site_title = get("site_title").trim().to_owned();
        if site_title.is_empty() || site_title.chars().any(char::is_control) {
            return Err(bad("site_title", "expected a non-empty line of text"));
        }
        let listen: SocketAddr = get("listen")
            .trim()
            .parse()
            .map_err(|_| bad("listen", "expected an address and port like 127.0.0.1:8080"))?;
        // Unless set, the site's address is where it listens.
        let base_url = match values.get("base_url") {
            Some(raw) => parse_base_url(raw)
                .ok_or_else(|| bad("base_url", "expected an http:// or https:// address"))?,
            None => format!("http://{listen}"),
        };
        let database = parse_database(get("database")).ok_or_else(|| {
            bad("database", "expected a file path, sqlite://PATH or postgres://…")
        })?;
        let media_dir = match get("media_dir").trim() {
            "" => default_media_dir(&database),
            dir if dir.chars().any(char::is_control) => {
                return Err(bad("media_dir", "expected a folder's path"));
            }
            dir => PathBuf::from(dir),
        };
        let page_cache_dir = match get("page_cache_dir").trim() {
            "" => beside_database(&database, "page-cache"),
            dir if dir.chars().any(char::is_control) => {
                return Err(bad("page_cache_dir", "expected a folder's path"));
            }
            dir => PathBuf::from(dir),
        };
        let media_store = match get("media_store").trim() {
            "" => MediaStore::Folder,
            raw => MediaStore::S3(crate::media::s3::BucketPlace::parse(raw).ok_or_else(|| {
                bad(
                    "media_store",
                    "expected s3://BUCKET or s3://BUCKET/PREFIX (or nothing, for media_dir)",
                )
            })?),
        };
        let media_public_url = match get("media_public_url").trim() {
            "" => None,
            raw => Some(parse_public_url(raw).ok_or_else(|| {
                bad(
                    "media_public_url",
                    "expected the bucket's http:// or https:// address, without a query, \
                     fragment or password",
                )
            })?),
        };
        if media_public_url.is_some() && media_store == MediaStore::Folder {
            return Err(bad("media_public_url", "is for a bucket: set media_store first"));
        }
        let mail = mail_settings(values, &base_url, &site_title)?;
        let max_connections = number("max_connections", 1, 1_000_000)?;
        let max_event_streams = number("max_event_streams", 0, 1_000_000)?;
        if max_event_streams >= max_connections {
            let why = format!(
                "expected fewer than max_connections ({max_connections}), so that live readers \
                 cannot hold every connection and leave none for pages"
            );
            return Err(bad("max_event_streams", &why));
        }
        let s3 = S3Settings(
            values
                .iter()
                .filter(|(name, _)| name.starts_with("aws_"))
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect(),
        );
        Ok(Self {
            site_title,
            base_url,
            listen,
            database,
            media_dir,
            media_store,
            media_public_url,
            s3,
            max_upload_bytes: number("max_upload_bytes", 1024, 1 << 30)?,
            max_upload_pixels: number("max_upload_pixels", 10_000, 1_000_000_000)? as u64,
            image_jobs: number("image_jobs", 1, 64)?,
            images_from_self_only: match get("img_src").trim() {
                "any" => false,
                "self" => true,
                _ => return Err(bad("img_src", "expected any or self")),
            },
            discussion: discussion_overrides(values)?,
            trusted_proxies: parse_networks(get("trusted_proxies")).ok_or_else(|| {
                bad(
                    "trusted_proxies",
                    "expected addresses or networks like 10.0.0.0/8, comma-separated",
                )
            })?,
            timezone: TimeZone::get(get("timezone").trim())
                .map_err(|_| bad("timezone", "expected a time zone name like Europe/Paris"))?,
            language: crate::domain::search::Language::parse(get("language"))
                .map_err(|e| bad("language", &e))?,
            limits: ReplyLimits {
                name: number("max_name_chars", 1, 1000)?,
                email: number("max_email_chars", 6, 254)?,
                website: number("max_website_chars", 10, 10_000)?,
                comment: number("max_comment_chars", 1, 100_000)?,
            },
            max_body_bytes: number("max_body_bytes", 1024, 64 * 1024 * 1024)?,
            max_import_bytes: number("max_import_bytes", 1024 * 1024, 1 << 40)?,
            articles_per_page: number("articles_per_page", 1, 100)? as u64,
            session_seconds: number("session_seconds", 1, 366 * 24 * 3600)? as i64,
            scheduler_seconds: number("scheduler_seconds", 1, 3600)? as u64,
            cache_seconds: number("cache_seconds", 0, 86_400)? as u64,
            request_timeout_seconds: number("request_timeout_seconds", 1, 600)? as u64,
            page_cache: match get("page_cache").trim() {
                "on" => true,
                "off" => false,
                _ => return Err(bad("page_cache", "expected on or off")),
            },
            page_cache_memory_bytes: number("page_cache_memory_mb", 0, 1 << 20)? << 20,
            page_cache_disk_bytes: (number("page_cache_disk_mb", 0, 1 << 30)? as u64) << 20,
            page_cache_dir,
            outbox_keep_hours: number("outbox_keep_hours", 1, 10 * 366 * 24)? as i64,
            ip_retention_days: number("ip_retention_days", 1, 3660)? as i64,
            shutdown_seconds: number("shutdown_seconds", 1, 3600)? as u64,
            header_timeout_seconds: number("header_timeout_seconds", 1, 600)? as u64,
            keepalive_seconds: number("keepalive_seconds", 1, 3600)? as u64,
            max_connections,
            max_event_streams,
            api_writes_per_minute: number("api_writes_per_minute", 0, 100_000)? as u64,
            metrics_token: match get("metrics_token").trim() {
                token if token.is_empty() || valid_token(token) => token.to_owned(),
                _ => {
                    return Err(bad(
                        "metrics_token",
                        "expected at least 16 letters, digits or -._~+/= (or nothing)",
                    ));
                }
            },
            mail,
            log_format: match get("log_format").trim() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                _ => return Err(bad("log_format", "expected text or json")),
            },
        })
    }

    /// Whether cookies must be `Secure`.
    pub fn is_https(&self) -> bool {
        self.base_url.starts_with("https://")
    }
}

/// `media/` beside an SQLite database; `media/` in the working folder for PostgreSQL.
/// The host of the site's address (`news.example`): mail's sender and message ids.
pub fn host_of(base_url: &str) -> String {
    url::Url::parse(base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "localhost".into())
}

/// A setting's raw value, or its default.
fn setting<'v>(values: &'v BTreeMap<String, String>, name: &str) -> &'v str {
    values.get(name).map(String::as_str).unwrap_or_else(|| {
        SETTINGS.iter().find(|(n, _)| *n == name).map(|(_, d)| *d).unwrap_or_default()
    })
}

/// The start-up error for a setting's bad value: its name, its variable, why, and the value.
fn bad_value(values: &BTreeMap<String, String>, name: &str, why: &str) -> ConfigError {
    ConfigError(format!(
        "setting `{name}` ({}): {why}; got {:?}",
        env_name(name),
        setting(values, name)
    ))
}

/// The mail settings. Mail carries links to the site, so turning it on needs the site's public
/// address set explicitly; `mail_from` defaults to the site's name at `byline@` its host.
fn mail_settings(
    values: &BTreeMap<String, String>,
    base_url: &str,
    site_title: &str,
) -> Result<MailSettings, ConfigError> {
    let get = |name: &str| -> &str { setting(values, name) };
    let bad = |name: &str, why: &str| bad_value(values, name, why);
    let number = |name: &str, min: u64, max: u64| -> Result<u64, ConfigError> {
        match get(name).trim().parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(bad(name, &format!("expected a whole number from {min} to {max}"))),
        }
    };
    let mode = match get("mail").trim() {
        "off" => MailMode::Off,
        "smtp" => MailMode::Smtp,
        "sendmail" => MailMode::Sendmail,
        _ => return Err(bad("mail", "expected off, smtp or sendmail")),
    };
    if mode != MailMode::Off && !values.contains_key("base_url") {
        return Err(ConfigError(format!(
            "setting `base_url` ({}): mail links to the site, so with `mail` on the site's \
             public address must be set, like https://news.example",
            env_name("base_url")
        )));
    }
    let smtp_host = get("smtp_host").trim().to_owned();
    if smtp_host.is_empty() || smtp_host.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(bad("smtp_host", "expected a host name or address"));
    }
    let smtp_security = match get("smtp_security").trim() {
        "starttls" => SmtpSecurity::StartTls,
        "tls" => SmtpSecurity::Tls,
        "none" => SmtpSecurity::None,
        _ => return Err(bad("smtp_security", "expected starttls, tls or none")),
    };
    let host = host_of(base_url);
    let from = match get("mail_from").trim() {
        "" => format!("\"{}\" <byline@{host}>", site_title.replace(['"', '\\'], "")),
        raw => raw.to_owned(),
    };
    let from = from.parse::<lettre::message::Mailbox>().map_err(|_| {
        bad("mail_from", "expected an address, or a name and address like News <news@example.com>")
    })?;
    Ok(MailSettings {
        mode,
        smtp_host,
        smtp_port: number("smtp_port", 1, 65_535)? as u16,
        smtp_security,
        smtp_user: get("smtp_user").trim().to_owned(),
        smtp_password: get("smtp_password").to_owned(),
        from,
        give_up_hours: number("mail_give_up_hours", 1, 24 * 366)? as i64,
        notify_max_per_hour: number("notify_max_per_hour", 1, 10_000)?,
    })
}

pub fn default_media_dir(database: &DatabaseUrl) -> PathBuf {
    beside_database(database, "media")
}

/// A folder beside the SQLite file, or in the working folder on PostgreSQL.
fn beside_database(database: &DatabaseUrl, name: &str) -> PathBuf {
    match database {
        DatabaseUrl::Sqlite(path) => match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.join(name),
            _ => PathBuf::from(name),
        },
        DatabaseUrl::Postgres(_) => PathBuf::from(name),
    }
}

/// A bearer token: long enough not to be guessed, in the characters RFC 6750 allows.
fn valid_token(token: &str) -> bool {
    token.len() >= 16 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b))
}

fn read_file(path: &Path) -> Result<BTreeMap<String, String>, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigError(format!("cannot read the configuration file {}: {e}", path.display()))
    })?;
    let table: toml::Table = text.parse().map_err(|e| {
        ConfigError(format!("the configuration file {} is not valid TOML: {e}", path.display()))
    })?;
    let mut values = BTreeMap::new();
    for (key, value) in table {
        let mut known = SETTINGS.iter().map(|(name, _)| *name).chain(discussion_names());
        if !known.any(|name| name == key) {
            let known: Vec<_> =
                SETTINGS.iter().map(|(n, _)| *n).chain(discussion_names()).collect();
            return Err(ConfigError(format!(
                "unknown setting `{key}` in {}; known settings: {}",
                path.display(),
                known.join(", ")
            )));
        }
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(n) => n.to_string(),
            other => {
                return Err(ConfigError(format!(
                    "setting `{key}` in {}: expected a string or a number, got {other:?}",
                    path.display()
                )));
            }
        };
        values.insert(key, value);
    }
    Ok(values)
}

fn discussion_names() -> impl Iterator<Item = &'static str> {
    SettingKey::ALL.into_iter().map(SettingKey::name)
}

/// The discussion settings among `values`, checked.
fn discussion_overrides(
    values: &BTreeMap<String, String>,
) -> Result<BTreeMap<SettingKey, String>, ConfigError> {
    let mut check = DiscussionSettings::default();
    let mut overrides = BTreeMap::new();
    for (name, raw) in values {
        let Some(key) = SettingKey::parse(name) else { continue };
        check.set(key, raw).map_err(|e| {
            ConfigError(format!("setting `{name}` ({}): {e}; got {raw:?}", env_name(name)))
        })?;
        overrides.insert(key, raw.clone());
    }
    Ok(overrides)
}

/// An address range: an address and how many leading bits must match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    pub address: IpAddr,
    pub prefix: u8,
}

impl Network {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let bits = |ip: IpAddr| -> (u128, u8) {
            match ip {
                IpAddr::V4(v4) => (u128::from(u32::from(v4)) << 96, 32),
                IpAddr::V6(v6) => (u128::from(v6), 128),
            }
        };
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let ((net, width), (addr, addr_width)) = (bits(self.address), bits(ip));
        if width != addr_width {
            return false;
        }
        let prefix = u32::from(self.prefix.min(width));
        let mask = if prefix == 0 { 0 } else { u128::MAX << (128 - prefix) };
        net & mask == addr & mask
    }
}

fn parse_networks(raw: &str) -> Option<Vec<Network>> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|entry| {
            let (address, prefix) = match entry.split_once('/') {
                Some((a, p)) => (a.parse::<IpAddr>().ok()?, p.parse::<u8>().ok()?),
                None => {
                    let address = entry.parse::<IpAddr>().ok()?;
                    (address, if address.is_ipv4() { 32 } else { 128 })
                }
            };
            let max = if address.is_ipv4() { 32 } else { 128 };
            (prefix <= max).then_some(Network { address, prefix })
        })
        .collect()
}

fn parse_base_url(raw: &str) -> Option<String> {
    let url = url::Url::parse(raw.trim()).ok()?;
    let ok = matches!(url.scheme(), "http" | "https") && url.host_str().is_some();
    ok.then(|| url.as_str().trim_end_matches('/').to_owned())
}

/// A base address files are appended to: nothing after the path, and no credentials (it is
/// sent to readers in `Location`).
fn parse_public_url(raw: &str) -> Option<String> {
    let url = url::Url::parse(raw.trim()).ok()?;
    let plain = url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none();
    plain.then(|| parse_base_url(raw)).flatten()
}

/// `scheme://host[:port]` of an address [`parse_base_url`] accepted.
pub fn origin_of(url: &str) -> String {
    url::Url::parse(url).map(|u| u.origin().ascii_serialization()).unwrap_or_default()
}

/// A `database` value: a file path, `sqlite://PATH`, or a `postgres://` URL.
pub fn parse_database(raw: &str) -> Option<DatabaseUrl> {
    let raw = raw.trim();
    if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
        return Some(DatabaseUrl::Postgres(raw.to_owned()));
    }
    let path = raw.strip_prefix("sqlite://").unwrap_or(raw);
    if path.is_empty() || raw.contains("://") && !raw.starts_with("sqlite://") {
        return None;
    }
    Some(DatabaseUrl::Sqlite(PathBuf::from(path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let values = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Config::from_values(&values)
    }

    #[test]
    fn defaults() {
        let config = Config::default();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.database, DatabaseUrl::Sqlite("byline.db".into()));
        assert!(config.discussion.is_empty(), "nothing fixed by default");
        assert!(config.trusted_proxies.is_empty());
        assert_eq!(config.limits, ReplyLimits::default());
    }

    #[test]
    fn bad_values_name_the_setting() {
        let error = with(&[("moderation", "sometimes")]).unwrap_err().to_string();
        assert!(error.contains("`moderation` (BYLINE_MODERATION)"), "{error}");
        let error = with(&[("timezone", "Mars/Olympus")]).unwrap_err().to_string();
        assert!(error.contains("BYLINE_TIMEZONE"), "{error}");
        let error = with(&[("language", "en_GB")]).unwrap_err().to_string();
        assert!(error.contains("`language` (BYLINE_LANGUAGE)"), "{error}");
        assert!(with(&[("database", "mysql://x")]).is_err());
        let pg = with(&[("database", "postgres://u:secret@db/site")]).unwrap().database;
        assert_eq!(pg, DatabaseUrl::Postgres("postgres://u:secret@db/site".into()));
        assert!(!pg.redacted().contains("secret"));
        assert!(with(&[("thread_depth", "0")]).is_err());
        assert!(with(&[("trusted_proxies", "10.0.0.0/33")]).is_err());
        assert!(with(&[("base_url", "ftp://x")]).is_err());
        for (setting, bad) in [
            ("header_timeout_seconds", "0"),
            ("keepalive_seconds", "soon"),
            ("max_connections", "0"),
            ("max_event_streams", "many"),
            ("max_event_streams", "20000"),
            ("page_cache_disk_mb", "-1"),
            ("page_cache_memory_mb", "lots"),
            ("api_writes_per_minute", "-1"),
            ("metrics_token", "short"),
            ("mail", "carrier-pigeon"),
        ] {
            let error = with(&[(setting, bad)]).unwrap_err().to_string();
            assert!(error.contains(&format!("`{setting}` ({})", env_name(setting))), "{error}");
        }
        let site = ("base_url", "https://news.example");
        for (setting, bad) in [
            ("smtp_port", "0"),
            ("smtp_security", "ssl3"),
            ("smtp_host", "two words"),
            ("mail_from", "not an address"),
            ("mail_give_up_hours", "0"),
            ("notify_max_per_hour", "none"),
        ] {
            let error = with(&[("mail", "smtp"), site, (setting, bad)]).unwrap_err().to_string();
            assert!(error.contains(&format!("`{setting}` ({})", env_name(setting))), "{error}");
        }
    }

    #[test]
    fn mail_needs_the_sites_public_address() {
        let error = with(&[("mail", "smtp")]).unwrap_err().to_string();
        assert!(error.contains("`base_url` (BYLINE_BASE_URL)"), "{error}");
        let mail = with(&[("mail", "smtp"), ("base_url", "https://news.example/")]).unwrap().mail;
        assert_eq!(mail.mode, MailMode::Smtp);
        assert_eq!((mail.smtp_port, mail.smtp_security), (587, SmtpSecurity::StartTls));
        assert_eq!(mail.from.to_string(), "Byline <byline@news.example>");
        assert_eq!((mail.give_up_hours, mail.notify_max_per_hour), (48, 10));
        let secret = with(&[
            ("mail", "smtp"),
            ("base_url", "https://x.example"),
            ("smtp_password", "hunter2"),
        ]);
        assert!(!format!("{:?}", secret.unwrap()).contains("hunter2"), "never in a log");
        assert_eq!(Config::default().mail.mode, MailMode::Off);
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("byline.toml");
        std::fs::write(&file, "site_title = \"From file\"\nthread_depth = 3\n").unwrap();
        let env = |name: &str| match name {
            "BYLINE_SITE_TITLE" => Some("From env".to_owned()),
            "BYLINE_MODERATION" => Some("all".to_owned()),
            _ => None,
        };
        let config = Config::load(Some(&file), env, &[]).unwrap();
        assert_eq!(config.site_title, "From env");
        assert_eq!(config.discussion[&SettingKey::ThreadDepth], "3");
        assert_eq!(config.discussion[&SettingKey::Moderation], "all");
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("byline.toml");
        std::fs::write(&file, "moderaton = \"all\"\n").unwrap();
        let error = Config::load(Some(&file), |_| None, &[]).unwrap_err().to_string();
        assert!(error.contains("unknown setting `moderaton`"), "{error}");
    }
}

#[cfg(test)]
mod network_tests {
    use super::*;

    #[test]
    fn networks_contain_their_addresses() {
        let nets = parse_networks("10.0.0.0/8, 192.0.2.7, ::1, 2001:db8::/32").unwrap();
        let inside = |ip: &str| nets.iter().any(|n| n.contains(ip.parse().unwrap()));
        assert!(
            inside("10.1.2.3") && inside("192.0.2.7") && inside("::1") && inside("2001:db8::5")
        );
        assert!(inside("::ffff:10.9.9.9"), "IPv4-mapped IPv6");
        assert!(!inside("11.0.0.1") && !inside("192.0.2.8") && !inside("2001:db9::1"));
        assert!(parse_networks("nonsense").is_none());
        assert_eq!(parse_networks("").unwrap(), []);
    }
}
