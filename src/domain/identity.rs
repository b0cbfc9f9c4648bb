//! The site's identity, which admins set in the newsroom's settings: its name, tagline, logo,
//! accent colour, footer text and links, and custom CSS (appended to the stylesheet, served as
//! a file, so the pages' CSP needs no inline style).

use super::media;
use super::reply::Website;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub site_title: String,
    /// A line under the name, in the header.
    pub tagline: String,
    /// An image of the library (`/media/12`) or an `https://` address; empty for none.
    pub logo: String,
    /// `#1f3a5f`; empty for the stylesheet's own.
    pub accent: String,
    pub footer_text: String,
    /// The footer's links, each a label and an address (a path on this site or `https://`).
    pub footer_links: Vec<(String, String)>,
    pub custom_css: String,
}

impl Default for Identity {
    fn default() -> Self {
        Self {
            site_title: "Byline".into(),
            tagline: String::new(),
            logo: String::new(),
            accent: String::new(),
            footer_text: String::new(),
            footer_links: Vec::new(),
            custom_css: String::new(),
        }
    }
}

/// One line of text, at most `max` characters; `required` refuses an empty one.
pub fn line(raw: &str, max: usize, required: bool) -> Result<String, String> {
    if raw.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err("expected text without control characters".into());
    }
    let value = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if required && value.is_empty() {
        return Err("expected a non-empty line of text".into());
    }
    if value.chars().count() > max {
        return Err(format!("expected at most {max} characters"));
    }
    Ok(value)
}

/// A logo: an image of the library, or an `https://` address.
pub fn logo(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(String::new());
    }
    if let Some(id) = media::library_id(raw) {
        return Ok(media::library_path(id));
    }
    match Website::parse_optional(raw, 2000) {
        Ok(Some(url)) if url.as_str().starts_with("https://") => Ok(url.as_str().to_owned()),
        _ => Err("expected an image of the library (/media/12) or an https:// address".into()),
    }
}

/// An accent colour: `#rrggbb` (or `#rgb`), lowercased; empty for the stylesheet's own.
pub fn accent(raw: &str) -> Result<String, String> {
    let raw = raw.trim().to_ascii_lowercase();
    if raw.is_empty() {
        return Ok(raw);
    }
    let hex = raw.strip_prefix('#').unwrap_or_default();
    if matches!(hex.len(), 3 | 6) && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(raw)
    } else {
        Err("expected a colour such as #1f3a5f".into())
    }
}

/// Footer links, one a line: `Label | address`, where the address is a path on this site
/// (`/about/`) or an `https://` one.
pub fn footer_links(raw: &str) -> Result<Vec<(String, String)>, String> {
    let mut links = Vec::new();
    for line in raw.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((label, address)) = line.rsplit_once('|') else {
            return Err(format!("expected “Label | address” on each line, not “{line}”"));
        };
        let label = self::line(label, 80, true)?;
        let address = address.trim();
        let local = address.starts_with('/') && !address.starts_with("//");
        let good = local
            || matches!(Website::parse_optional(address, 2000), Ok(Some(url)) if url.as_str().starts_with("https://"));
        if !good || address.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!(
                "“{address}” is neither a path on this site nor an https:// address"
            ));
        }
        links.push((label, address.to_owned()));
    }
    if links.len() > 20 {
        return Err("expected at most 20 links".into());
    }
    Ok(links)
}

/// Custom CSS: text, at most 100 kB.
pub fn css(raw: &str) -> Result<String, String> {
    if raw.len() > 100_000 {
        return Err("expected at most 100 kB of CSS".into());
    }
    if raw.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
        return Err("expected text without control characters".into());
    }
    Ok(raw.replace("\r\n", "\n"))
}

impl Identity {
    /// The footer links as the settings form shows them.
    pub fn footer_links_text(&self) -> String {
        self.footer_links.iter().map(|(l, a)| format!("{l} | {a}")).collect::<Vec<_>>().join("\n")
    }

    /// The address of the custom stylesheet, which changes with its text (so that it can be
    /// kept a long time).
    pub fn css_path(&self) -> Option<String> {
        if self.custom_css.trim().is_empty() && self.accent.is_empty() {
            return None;
        }
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(format!("{}\n{}", self.accent, self.custom_css));
        let short: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        Some(format!("/static/site-{short}.css"))
    }

    /// The custom stylesheet: the accent colour, then the admins' own CSS.
    pub fn css_text(&self) -> String {
        let mut out = String::new();
        if !self.accent.is_empty() {
            out.push_str(&format!(":root {{ --accent: {0}; --link: {0}; }}\n", self.accent));
        }
        out.push_str(&self.custom_css);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_checked() {
        assert_eq!(accent(" #1F3A5F ").unwrap(), "#1f3a5f");
        assert!(accent("red").is_err() && accent("#12345").is_err());
        assert_eq!(
            footer_links("About us | /about/\nMastodon | https://social.example/@news\n").unwrap(),
            [
                ("About us".to_owned(), "/about/".to_owned()),
                ("Mastodon".to_owned(), "https://social.example/@news".to_owned())
            ]
        );
        assert!(footer_links("Evil | javascript:alert(1)").is_err());
        assert!(footer_links("Other site | //evil.example/").is_err());
        assert!(footer_links("No bar").is_err());
        assert_eq!(logo("/media/12").unwrap(), "/media/12");
        assert!(logo("http://plain.example/logo.png").is_err());
        assert!(line("", 10, true).is_err());
        let identity = Identity { accent: "#123456".into(), ..Identity::default() };
        assert!(identity.css_path().unwrap().starts_with("/static/site-"));
        assert!(identity.css_text().contains("--accent: #123456"));
        assert_eq!(Identity::default().css_path(), None);
    }
}
