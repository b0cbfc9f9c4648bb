//! An article as listings show it (front page, sections, tags, authors, search, related
//! articles), and bylines read as a person would.

use jiff::tz::TimeZone;

use crate::domain::paths::article_path;
use crate::domain::{text, time};
use crate::store::{Article, ArticleSummary, Image};

/// An article as a listing shows it.
pub struct Summary {
    pub url: String,
    pub headline: String,
    pub standfirst: String,
    pub author: String,
    pub iso: String,
    pub date: String,
    pub replies: String,
    pub image: Option<Image>,
    pub section: Option<String>,
    pub minutes: i64,
}

pub fn summary(a: ArticleSummary, tz: &TimeZone) -> Summary {
    let published = a.published_at.unwrap_or(a.updated_at);
    Summary {
        url: article_path(a.date_path.as_deref().unwrap_or_default(), &a.slug),
        headline: a.headline,
        standfirst: a.standfirst,
        author: byline(a.author_names.iter().map(String::as_str)),
        iso: time::iso(published, tz),
        date: time::long_date(published, tz),
        replies: reply_count_label(a.reply_count),
        image: a.image,
        section: a.section_name,
        minutes: text::reading_minutes(a.word_count).max(1),
    }
}

/// The lead story, read whole.
pub fn lead_summary(a: &Article, tz: &TimeZone) -> Summary {
    let published = a.published_at.unwrap_or(a.updated_at);
    Summary {
        url: a.public_path().unwrap_or_default(),
        headline: a.headline.clone(),
        standfirst: a.standfirst.clone(),
        author: byline(a.authors.iter().map(|au| au.name.as_str())),
        iso: time::iso(published, tz),
        date: time::long_date(published, tz),
        replies: reply_count_label(a.reply_count),
        image: a.image.clone(),
        section: a.section.as_ref().map(|s| s.name.clone()),
        minutes: text::reading_minutes(a.word_count).max(1),
    }
}

/// A featured image as HTML: a library image with its sizes (WebP first), or the address
/// given. `lazy` for images below the first screen.
pub fn image_html(image: &Image, lazy: bool) -> String {
    if let Some(view) = &image.media {
        return text::img_html(view, image.alt_text(), lazy);
    }
    let mut out = String::from("<img src=\"");
    text::escape(&image.url, &mut out);
    out.push_str("\" alt=\"");
    text::escape(image.alt_text(), &mut out);
    out.push('"');
    if lazy {
        out.push_str(" loading=\"lazy\"");
    }
    out.push('>');
    out
}

/// A listing's small picture of an article: the library image's thumbnail.
pub fn thumbnail(image: &Image) -> Option<(String, u32, u32)> {
    let view = image.media.as_ref()?;
    let width = crate::domain::media::THUMBNAIL_WIDTH.min(view.width);
    Some((view.thumbnail(), width, view.height_at(width)))
}

/// "No replies", "1 reply", "12 replies".
pub fn reply_count_label(count: i64) -> String {
    match count {
        0 => "No replies".into(),
        1 => "1 reply".into(),
        n => format!("{n} replies"),
    }
}

/// Names joined as a person would: "A", "A and B", "A, B and C".
pub fn byline<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.collect();
    match names.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::byline;

    #[test]
    fn bylines_read_naturally() {
        assert_eq!(byline(["A"].into_iter()), "A");
        assert_eq!(byline(["A", "B"].into_iter()), "A and B");
        assert_eq!(byline(["A", "B", "C"].into_iter()), "A, B and C");
    }
}
