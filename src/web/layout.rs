//! What every page's frame (`templates/base.html`) shows: the site's name and sections, and
//! what goes in `<head>` (canonical address, description, feeds, social and search metadata).

use crate::config::Config;
use crate::services::reading::SiteNav;
use crate::store::{PageLink, Section};

pub struct Layout<'a> {
    pub site_title: String,
    /// The site's name and look, as the settings in force give them.
    pub identity: std::sync::Arc<crate::domain::identity::Identity>,
    /// `<html lang>`: the `language` setting.
    pub lang: &'a str,
    /// The `<title>`: the page's own name, then the site's.
    pub title: String,
    /// The site's sections, for the header's navigation.
    pub sections: Vec<Section>,
    /// The pages the footer links, in their order.
    pub footer: Vec<PageLink>,
    pub head: Head,
}

/// Metadata for `<head>`.
#[derive(Default)]
pub struct Head {
    /// Absolute canonical address.
    pub canonical: Option<String>,
    pub description: Option<String>,
    /// `(title, absolute address)` of Atom feeds to advertise.
    pub feeds: Vec<(String, String)>,
    /// `<meta property=…>` (Open Graph) pairs.
    pub properties: Vec<(&'static str, String)>,
    /// `<meta name=…>` (Twitter card) pairs.
    pub names: Vec<(&'static str, String)>,
    /// JSON-LD, already made safe to sit inside `<script>`.
    pub json_ld: Option<String>,
}

impl<'a> Layout<'a> {
    /// A frame without the sections (staff pages, whose own frame names the site).
    pub fn new(config: &'a Config, page_title: &str) -> Self {
        let title =
            if page_title.is_empty() { config.site_title.clone() } else { page_title.to_owned() };
        Self {
            site_title: config.site_title.clone(),
            identity: Default::default(),
            lang: config.language.tag(),
            title,
            sections: Vec::new(),
            footer: Vec::new(),
            head: Head::default(),
        }
    }

    /// A public page's frame, with the sections and footer (read with the page) and the
    /// site's feed.
    pub fn public(config: &'a Config, page_title: &str, nav: SiteNav) -> Self {
        let mut layout = Self::new(config, page_title);
        layout.site_title = nav.identity.site_title.clone();
        if page_title.is_empty() {
            layout.title = layout.site_title.clone();
        }
        layout.identity = nav.identity;
        layout.sections = nav.sections;
        layout.footer = nav.footer;
        let site_feed = format!("{}/feed.atom", config.base_url);
        layout.head.feeds.push((layout.site_title.clone(), site_feed));
        layout
    }

    /// The address of the site's own stylesheet (accent colour, custom CSS), if it has one.
    pub fn site_css(&self) -> Option<String> {
        self.identity.css_path()
    }

    /// The logo's address, a library image's small size being its own address.
    pub fn logo(&self) -> Option<&str> {
        Some(self.identity.logo.as_str()).filter(|l| !l.is_empty())
    }

    /// Sets the canonical address from a path on this site.
    pub fn canonical(mut self, config: &Config, path: &str) -> Self {
        self.head.canonical = Some(format!("{}{path}", config.base_url));
        self
    }
}
