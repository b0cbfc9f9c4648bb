//! The site's addresses: where an article, a section, a tag or an author lives.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};

use super::{AuthorId, Slug};

/// `/2026/11/24/the-slug/`, with the slug percent-encoded for any script.
pub fn article_path(date_path: &str, slug: &str) -> String {
    format!("/{date_path}/{}/", encode_segment(slug))
}

/// Where an article lives once published: `None` for one never published.
pub fn public_article_path(date_path: Option<&str>, slug: &str) -> Option<String> {
    date_path.map(|date| article_path(date, slug))
}

/// `/about/team/`, from a page's path `about/team`, each segment percent-encoded. An
/// embedded thread's discussion is on another site's page, whose address is given whole.
pub fn page_path(path: &str) -> String {
    if path.contains("://") {
        return path.to_owned();
    }
    let segments: Vec<String> = path.split('/').map(encode_segment).collect();
    format!("/{}/", segments.join("/"))
}

/// The first segments of the site's own addresses (`/admin/`, `/section/…`): a page's
/// address may not start with one, nor with digits alone (the date archives' `/2026/`).
/// `web::routes` is walked by a test that keeps this list and the router the same.
pub const RESERVED_SEGMENTS: &[&str] = &[
    "admin",
    "api",
    "author",
    "embed.js",
    "feed.atom",
    "healthz",
    "mail",
    "media",
    "metrics",
    "moderate",
    "my-replies",
    "news-sitemap.xml",
    "page",
    "replies",
    "robots.txt",
    "search",
    "section",
    "sitemap.xml",
    "static",
    "subscriptions",
    "tag",
    "threads",
    "unsubscribe",
];

/// Whether a page may take `slug` as the first segment of its address.
pub fn is_reserved_segment(slug: &str) -> bool {
    RESERVED_SEGMENTS.contains(&slug) || slug.bytes().all(|b| b.is_ascii_digit())
}

/// `/section/local/`
pub fn section_path(slug: &str) -> String {
    format!("/section/{}/", encode_segment(slug))
}

/// `/tag/ferries/`
pub fn tag_path(slug: &str) -> String {
    format!("/tag/{}/", encode_segment(slug))
}

/// `/author/12-eleanor-marsh/`
pub fn author_path(id: AuthorId, name: &str) -> String {
    format!("/author/{id}-{}/", encode_segment(Slug::from_headline(name).as_str()))
}

/// The author id at the start of `12-eleanor-marsh`.
pub fn author_id(key: &str) -> Option<AuthorId> {
    AuthorId::parse(key.split('-').next()?)
}

/// A slug made safe for one segment of a URL path (and for a `Location` header).
pub fn encode_segment(slug: &str) -> String {
    const PATH_SEGMENT: &AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b'#')
        .add(b'<')
        .add(b'>')
        .add(b'?')
        .add(b'`')
        .add(b'{')
        .add(b'}')
        .add(b'/')
        .add(b'%');
    utf8_percent_encode(slug, PATH_SEGMENT).to_string()
}

/// `/2026/11/24/slug/…`: an article's page (or its replies' feed).
pub fn is_article_path(path: &str) -> bool {
    let mut parts = path.trim_start_matches('/').splitn(4, '/');
    let digits = |p: Option<&str>, n: usize| {
        p.is_some_and(|p| p.len() == n && p.bytes().all(|b| b.is_ascii_digit()))
    };
    digits(parts.next(), 4)
        && digits(parts.next(), 2)
        && digits(parts.next(), 2)
        && parts.next().is_some_and(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(article_path("2026/11/24", "a b?"), "/2026/11/24/a%20b%3F/");
        assert_eq!(author_path(AuthorId(12), "Eleanor Marsh"), "/author/12-eleanor-marsh/");
        assert_eq!(author_id("12-eleanor-marsh"), Some(AuthorId(12)));
        assert!(is_article_path("/2026/11/24/slug/feed.atom") && !is_article_path("/page/2/"));
        assert_eq!(public_article_path(None, "x"), None);
    }
}
