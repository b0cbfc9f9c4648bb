//! What every page's frame (`templates/base.html`) shows.

use crate::config::Config;

pub struct Layout<'a> {
    pub site_title: &'a str,
    /// The `<title>`: the page's own name, then the site's.
    pub title: String,
}

impl<'a> Layout<'a> {
    pub fn new(config: &'a Config, page_title: &str) -> Self {
        let title =
            if page_title.is_empty() { config.site_title.clone() } else { page_title.to_owned() };
        Self { site_title: &config.site_title, title }
    }
}
