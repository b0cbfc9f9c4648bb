//! Search-engine and social metadata for an article: canonical address, Open Graph, Twitter
//! card and JSON-LD `NewsArticle`.

use jiff::tz::TimeZone;

use super::layout::Head;
use crate::config::Config;
use crate::domain::paths::author_path;
use crate::domain::time;
use crate::store::Article;

pub fn article_head(
    config: &Config,
    site: &str,
    article: &Article,
    path: &str,
    feeds: Vec<(String, String)>,
) -> Head {
    let url = format!("{}{path}", config.base_url);
    let published = time::iso(article.published_at.unwrap_or(article.created_at), &TimeZone::UTC);
    let modified = time::iso(article.updated_at, &TimeZone::UTC);
    // What search engines and cards show: the newsroom's own words for them, where given.
    let seo = &article.seo;
    let title = if seo.title.is_empty() { &article.headline } else { &seo.title };
    let description = if seo.description.is_empty() {
        article.standfirst.clone()
    } else {
        seo.description.clone()
    };
    let mut properties = vec![
        ("og:type", "article".to_owned()),
        ("og:site_name", site.to_owned()),
        ("og:title", title.clone()),
        ("og:url", url.clone()),
        ("article:published_time", published.clone()),
        ("article:modified_time", modified.clone()),
    ];
    if !description.is_empty() {
        properties.push(("og:description", description.clone()));
    }
    let card = if article.image.is_some() || !seo.image.is_empty() {
        "summary_large_image"
    } else {
        "summary"
    };
    let mut names = vec![("twitter:card", card.to_owned()), ("twitter:title", title.clone())];
    if !description.is_empty() {
        names.push(("twitter:description", description.clone()));
    }
    if !seo.image.is_empty() {
        // A library image's address answers with its current file.
        let src = absolute(config, &seo.image);
        properties.push(("og:image", src.clone()));
        names.push(("twitter:image", src));
    } else if let Some(image) = &article.image {
        let src = absolute(config, &image.src());
        properties.push(("og:image", src.clone()));
        if let Some((width, height)) = shown_size(image) {
            properties.push(("og:image:width", width.to_string()));
            properties.push(("og:image:height", height.to_string()));
        }
        properties.push(("og:image:alt", image.alt_text().to_owned()));
        names.push(("twitter:image", src));
        names.push(("twitter:image:alt", image.alt_text().to_owned()));
    }
    if let Some(section) = &article.section {
        properties.push(("article:section", section.name.clone()));
    }
    let authors: Vec<_> = article
        .authors
        .iter()
        .map(|a| {
            serde_json::json!({
                "@type": "Person",
                "name": a.name,
                "url": format!("{}{}", config.base_url, author_path(a.id, &a.name)),
            })
        })
        .collect();
    let mut json = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.headline,
        "description": description,
        "datePublished": published,
        "dateModified": modified,
        "author": authors,
        "publisher": { "@type": "Organization", "name": site, "url": config.base_url },
        "mainEntityOfPage": url,
    });
    if let Some(image) = &article.image {
        json["image"] = match shown_size(image) {
            Some((width, height)) => serde_json::json!([{
                "@type": "ImageObject",
                "url": absolute(config, &image.src()),
                "width": width,
                "height": height,
            }]),
            None => serde_json::json!([absolute(config, &image.src())]),
        };
    }
    Head {
        canonical: Some(url),
        description: Some(description).filter(|d| !d.is_empty()),
        feeds,
        properties,
        names,
        json_ld: Some(script_safe(&json.to_string())),
    }
}

/// JSON that cannot end its `<script>` element or open a comment: `<`, `>` and `&` escaped.
pub fn script_safe(json: &str) -> String {
    json.replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// A path on this site made absolute (cards and JSON-LD are read elsewhere).
fn absolute(config: &crate::config::Config, src: &str) -> String {
    if src.starts_with('/') { format!("{}{src}", config.base_url) } else { src.to_owned() }
}

/// The pixel size of the file a featured image's `src` names, when it is the library's.
fn shown_size(image: &crate::store::Image) -> Option<(u32, u32)> {
    let view = image.media.as_ref()?;
    let src = image.src();
    let width = view
        .widths
        .iter()
        .copied()
        .find(|w| src.ends_with(&format!("-{w}.{}", view.format.extension())))
        .unwrap_or(view.width);
    Some((width, view.height_at(width)))
}

#[cfg(test)]
mod tests {
    use super::script_safe;

    #[test]
    fn json_cannot_close_the_script_element() {
        let escaped = script_safe(r#"{"headline":"</script><script>alert(1)</script>"}"#);
        assert!(!escaped.contains('<') && !escaped.contains('>'));
        let back: serde_json::Value = serde_json::from_str(&escaped).unwrap();
        assert_eq!(back["headline"], "</script><script>alert(1)</script>");
    }
}
