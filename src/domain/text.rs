//! Turning text into HTML: readers' replies (plain text, never markup) and staff's Markdown
//! (rendered, then passed through an allow-list sanitizer).

use std::fmt::Write;

use super::MediaId;
use super::media::{self, MediaView};

const LINK_REL: &str = "nofollow ugc noopener";

/// Escapes text for HTML content and double-quoted attributes. Runs of ordinary text are
/// copied whole (the profile of a page render showed the character-by-character version).
pub fn escape(text: &str, out: &mut String) {
    let mut start = 0;
    for (i, byte) in text.bytes().enumerate() {
        let entity = match byte {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        // ASCII bytes never occur inside a multi-byte character, so these are boundaries.
        out.push_str(&text[start..i]);
        out.push_str(entity);
        start = i + 1;
    }
    out.push_str(&text[start..]);
}

/// A reply's text as HTML: blank lines separate paragraphs, single newlines become `<br>`,
/// bare `http(s)` URLs become links. Everything else is escaped, so markup shows as text.
pub fn reply_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    // Most replies have no `\r`, and need no copy.
    let normalized = match text.contains('\r') {
        true => std::borrow::Cow::Owned(text.replace("\r\n", "\n")),
        false => std::borrow::Cow::Borrowed(text),
    };
    let paragraphs = split_blank(&normalized).map(str::trim).filter(|p| !p.is_empty());
    for paragraph in paragraphs {
        out.push_str("<p>");
        for (i, line) in paragraph.split('\n').enumerate() {
            if i > 0 {
                out.push_str("<br>\n");
            }
            linkify_line(line, &mut out);
        }
        out.push_str("</p>\n");
    }
    out
}

/// `text.split("\n\n")`, found with `memchr` (the substring search was 2% of rendering a page
/// of replies).
fn split_blank(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let left = rest?;
        let bytes = left.as_bytes();
        let mut from = 0;
        while let Some(i) = memchr::memchr(b'\n', &bytes[from..]) {
            let at = from + i;
            if bytes.get(at + 1) == Some(&b'\n') {
                rest = Some(&left[at + 2..]);
                return Some(&left[..at]);
            }
            from = at + 1;
        }
        rest = None;
        Some(left)
    })
}

fn linkify_line(line: &str, out: &mut String) {
    let mut finder = linkify::LinkFinder::new();
    finder.kinds(&[linkify::LinkKind::Url]);
    for span in finder.spans(line) {
        let text = span.as_str();
        let is_web = span.kind().is_some() && {
            let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
            lower.starts_with("http://") || lower.starts_with("https://")
        };
        if is_web {
            out.push_str("<a href=\"");
            escape(text, out);
            let _ = write!(out, "\" rel=\"{LINK_REL}\">");
            escape(text, out);
            out.push_str("</a>");
        } else {
            escape(text, out);
        }
    }
}

/// Words in a text, counting each CJK character as a word (those scripts use no spaces).
pub fn word_count(text: &str) -> i64 {
    let cjk = |c: char| matches!(c as u32, 0x3040..=0x30ff | 0x3400..=0x4dbf | 0x4e00..=0x9fff | 0xac00..=0xd7af);
    let mut words = 0;
    for token in text.split_whitespace() {
        let ideographs = token.chars().filter(|c| cjk(*c)).count() as i64;
        let rest = token.chars().any(|c| c.is_alphanumeric() && !cjk(c));
        words += ideographs + i64::from(rest);
    }
    words
}

/// The start of `text` on one line, at most `max` characters, cut after a whole word (or
/// mid-word only when one word is longer than `max`), with `…` when something was cut.
pub fn excerpt(text: &str, max: usize) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out = String::new();
    for word in &words {
        let wanted = out.chars().count() + usize::from(!out.is_empty()) + word.chars().count();
        if wanted > max {
            if out.is_empty() {
                out = word.chars().take(max).collect();
            }
            out.push('…');
            return out;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Minutes to read `words`, at about 230 words a minute; at least one.
pub fn reading_minutes(words: i64) -> i64 {
    (words + 229) / 230
}

/// How many `http(s)` links a reply's text holds (as they would be linked).
pub fn count_links(text: &str) -> usize {
    let mut finder = linkify::LinkFinder::new();
    finder.kinds(&[linkify::LinkKind::Url]);
    finder
        .links(text)
        .filter(|l| {
            let lower = l.as_str().get(..8).unwrap_or(l.as_str()).to_ascii_lowercase();
            lower.starts_with("http://") || lower.starts_with("https://")
        })
        .count()
}

/// Staff's Markdown as safe HTML: rendered by pulldown-cmark, then cleaned by ammonia's
/// allow-list (no scripts, event handlers, `javascript:` URLs or inline styles survive).
pub fn markdown_html(markdown: &str) -> String {
    markdown_html_with(markdown, &|_| None)
}

fn markdown_options() -> pulldown_cmark::Options {
    use pulldown_cmark::Options;
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_HEADING_ATTRIBUTES
}

/// The library images (`/media/ID`) a body's Markdown shows, in order, without repeats.
pub fn media_in(markdown: &str) -> Vec<MediaId> {
    use pulldown_cmark::{Event, Parser, Tag};
    let mut ids = Vec::new();
    for event in Parser::new_ext(markdown, markdown_options()) {
        let found = match &event {
            Event::Start(Tag::Image { dest_url, .. }) => {
                media::library_id(dest_url).into_iter().collect()
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                library_srcs(html).into_iter().map(|(_, id)| id).collect()
            }
            _ => Vec::new(),
        };
        for id in found {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    ids
}

/// `src="/media/ID"` in raw HTML (an imported body's `<img>`): where each is, and the image.
fn library_srcs(html: &str) -> Vec<(std::ops::Range<usize>, MediaId)> {
    const SRC: &str = "src=\"/media/";
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = html[from..].find(SRC).map(|i| from + i) {
        let digits_at = at + SRC.len();
        let digits = html[digits_at..].bytes().take_while(u8::is_ascii_digit).count();
        let end = digits_at + digits;
        let word_before = at > 0 && !html.as_bytes()[at - 1].is_ascii_whitespace();
        if digits > 0
            && !word_before
            && html[end..].starts_with('"')
            && let Some(id) = media::library_id(&html[at + 5..end])
        {
            found.push((at..end + 1, id));
        }
        from = end.max(at + 1);
    }
    found
}

/// Raw HTML with each `src="/media/ID"` given the image's sizes (the `<img>` keeps its own
/// width, height and alt, which an imported body's tag carries).
fn with_library_sizes(html: &str, media: &dyn Fn(MediaId) -> Option<MediaView>) -> Option<String> {
    let found = library_srcs(html);
    if found.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(html.len() + 256);
    let mut last = 0;
    for (range, id) in found {
        let Some(view) = media(id) else { continue };
        out.push_str(&html[last..range.start]);
        let _ = write!(
            out,
            "src=\"{}\" srcset=\"{}\" sizes=\"{IMAGE_SIZES}\" loading=\"lazy\" decoding=\"async\"",
            view.src(),
            view.srcset(view.format)
        );
        last = range.end;
    }
    out.push_str(&html[last..]);
    Some(out)
}

/// Every image a body's Markdown shows: its address and its alt text, in order.
pub fn images_in(markdown: &str) -> Vec<(String, String)> {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd};
    let mut images = Vec::new();
    let mut current: Option<(String, String)> = None;
    for event in Parser::new_ext(markdown, markdown_options()) {
        match event {
            Event::Start(Tag::Image { dest_url, .. }) => {
                current = Some((dest_url.to_string(), String::new()))
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, alt)) = current.as_mut() {
                    alt.push_str(&t);
                }
            }
            Event::End(TagEnd::Image) => images.extend(current.take()),
            _ => {}
        }
    }
    images
}

/// [`markdown_html`], with the library's images (`![alt](/media/ID)`) made into responsive
/// images: an image alone in its paragraph becomes a `<figure>` with its caption and credit,
/// one inside a line of text an `<img>` with its sizes. `media` finds each by id.
pub fn markdown_html_with(markdown: &str, media: &dyn Fn(MediaId) -> Option<MediaView>) -> String {
    use pulldown_cmark::{Event, Parser, Tag, TagEnd, html};
    let events: Vec<Event> = Parser::new_ext(markdown, markdown_options()).collect();
    let mut out: Vec<Event> = Vec::with_capacity(events.len());
    let mut notes = Footnotes::default();
    let mut i = 0;
    while i < events.len() {
        if let Some(html) = notes.html(&events[i]) {
            out.push(html);
            i += 1;
            continue;
        }
        if let Event::Start(Tag::Image { dest_url, .. }) = &events[i]
            && let Some(view) = media::library_id(dest_url).and_then(media)
        {
            let end = (i..events.len())
                .find(|j| matches!(events[*j], Event::End(TagEnd::Image)))
                .unwrap_or(events.len() - 1);
            let alt: String = events[i + 1..end]
                .iter()
                .filter_map(|e| match e {
                    Event::Text(t) | Event::Code(t) => Some(t.as_ref()),
                    _ => None,
                })
                .collect();
            let alone = matches!(out.last(), Some(Event::Start(Tag::Paragraph)))
                && matches!(events.get(end + 1), Some(Event::End(TagEnd::Paragraph)));
            if alone {
                out.pop();
                out.push(Event::Html(figure_html(&view, &alt, true).into()));
                i = end + 2;
            } else {
                out.push(Event::InlineHtml(img_html(&view, &alt, true).into()));
                i = end + 1;
            }
            continue;
        }
        if let Event::Html(raw) | Event::InlineHtml(raw) = &events[i]
            && let Some(sized) = with_library_sizes(raw, media)
        {
            out.push(match &events[i] {
                Event::Html(_) => Event::Html(sized.into()),
                _ => Event::InlineHtml(sized.into()),
            });
            i += 1;
            continue;
        }
        out.push(events[i].clone());
        i += 1;
    }
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, out.into_iter());
    finish_html(&sanitizer().clean(&unsafe_html).to_string())
}

/// Footnotes numbered in the order they are first referred to, with ids the sanitizer lets
/// through (`fn-N`, `fnref-N`) so that each link finds its note and each note its way back.
#[derive(Default)]
struct Footnotes {
    numbers: Vec<String>,
}

impl Footnotes {
    fn number(&mut self, label: &str) -> usize {
        match self.numbers.iter().position(|l| l == label) {
            Some(i) => i + 1,
            None => {
                self.numbers.push(label.to_owned());
                self.numbers.len()
            }
        }
    }

    /// The HTML standing for a footnote's event, if it is one.
    fn html(&mut self, event: &pulldown_cmark::Event) -> Option<pulldown_cmark::Event<'static>> {
        use pulldown_cmark::{Event, Tag, TagEnd};
        Some(match event {
            Event::FootnoteReference(label) => {
                let n = self.number(label);
                Event::InlineHtml(
                    format!(
                        "<sup class=\"footnote-ref\"><a href=\"#fn-{n}\" id=\"fnref-{n}\">{n}</a></sup>"
                    )
                    .into(),
                )
            }
            Event::Start(Tag::FootnoteDefinition(label)) => {
                let n = self.number(label);
                Event::Html(
                    format!(
                        "<div class=\"footnote\" id=\"fn-{n}\"><p class=\"footnote-label\">\
                         <a href=\"#fnref-{n}\" aria-label=\"Back to the text of note {n}\">{n}</a></p>"
                    )
                    .into(),
                )
            }
            Event::End(TagEnd::FootnoteDefinition) => Event::Html("</div>".into()),
            _ => return None,
        })
    }
}

/// The last pass over sanitized HTML (as ammonia serializes it: lowercase names, every
/// attribute value in double quotes, `<` in text escaped, so every `<` starts a tag): the
/// body's headings go one level down, so that the page's headline is its only `<h1>`; and
/// every image gets an `alt`, empty when none was given.
fn finish_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + 64);
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        let tag_len = tag_length(&rest[at..]);
        let tag = &rest[at..at + tag_len];
        finish_tag(tag, &mut out);
        rest = &rest[at + tag_len..];
    }
    out.push_str(rest);
    out
}

/// The length of the tag `html` starts with, to its `>` (not one inside a quoted value).
fn tag_length(html: &str) -> usize {
    let mut quoted = false;
    for (i, b) in html.bytes().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'>' if !quoted => return i + 1,
            _ => {}
        }
    }
    html.len()
}

fn finish_tag(tag: &str, out: &mut String) {
    let bytes = tag.as_bytes();
    let name_at = if tag.starts_with("</") { 2 } else { 1 };
    let name: &str = tag[name_at..]
        .split(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
        .next()
        .unwrap_or_default();
    match name {
        "h1" | "h2" | "h3" | "h4" | "h5" => {
            out.push_str(&tag[..name_at + 1]);
            out.push((bytes[name_at + 1] + 1) as char);
            out.push_str(&tag[name_at + 2..]);
        }
        "img" if name_at == 1 && !has_attribute(tag, "alt") && tag.ends_with('>') => {
            let end = tag.len() - if tag.ends_with("/>") { 2 } else { 1 };
            out.push_str(tag[..end].trim_end());
            out.push_str(" alt=\"\"");
            out.push_str(&tag[end..]);
        }
        _ => out.push_str(tag),
    }
}

/// The `src` of every image of sanitized HTML (see [`markdown_html`]) whose `alt` is empty:
/// images readers who cannot see them learn nothing of.
pub fn images_without_alt(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find("<img ") {
        let tag = &rest[at..at + tag_length(&rest[at..])];
        let alt = attribute_value(tag, "alt").unwrap_or_default();
        if alt.trim().is_empty() {
            found.push(attribute_value(tag, "src").unwrap_or_default());
        }
        rest = &rest[at + tag.len()..];
    }
    found
}

/// The value of attribute `name` of a serialized start tag, its entities decoded.
fn attribute_value(tag: &str, name: &str) -> Option<String> {
    let pattern = format!(" {name}=\"");
    let start = tag.find(&pattern)? + pattern.len();
    let end = start + tag[start..].find('"')?;
    Some(tag[start..end].replace("&quot;", "\"").replace("&nbsp;", "\u{a0}").replace("&amp;", "&"))
}

/// Whether a serialized start tag has the attribute `name` (quoted values skipped).
fn has_attribute(tag: &str, name: &str) -> bool {
    let mut quoted = false;
    let mut word = String::new();
    for c in tag.chars() {
        match c {
            '"' => quoted = !quoted,
            _ if quoted => {}
            c if c.is_ascii_alphanumeric() || c == '-' => word.push(c),
            _ => {
                if c == '=' && word == name {
                    return true;
                }
                if (c.is_ascii_whitespace() || c == '>' || c == '/') && word == name {
                    return true;
                }
                word.clear();
            }
        }
    }
    false
}

fn sanitizer() -> ammonia::Builder<'static> {
    let mut builder = ammonia::Builder::default();
    builder
        .link_rel(Some("noopener noreferrer"))
        .url_schemes(["http", "https", "mailto"].into())
        .add_tags(["picture", "source"])
        .add_tag_attributes("img", ["srcset", "sizes", "loading", "decoding"])
        .add_tag_attributes("source", ["srcset", "sizes", "type"])
        .add_allowed_classes("figure", ["photo"])
        .add_allowed_classes("span", ["credit"])
        .add_allowed_classes("sup", ["footnote-ref"])
        .add_allowed_classes("div", ["footnote"])
        .add_allowed_classes("p", ["footnote-label"])
        // Ids only as footnotes give them: an id of the page's own (`comment`, `respond`)
        // must not be claimed by a body.
        .add_tag_attributes("a", ["id", "aria-label"])
        .add_tag_attributes("div", ["id"])
        // A `srcset` is a list of addresses the sanitizer does not check: only the library's
        // own files are let through.
        .attribute_filter(|_, attribute, value| {
            if attribute == "srcset" && !library_srcset(value) {
                return None;
            }
            if attribute == "id" && !footnote_id(value) {
                return None;
            }
            Some(value.into())
        });
    builder
}

/// `fn-3` or `fnref-3`.
fn footnote_id(value: &str) -> bool {
    let number = value.strip_prefix("fnref-").or_else(|| value.strip_prefix("fn-"));
    number.is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn library_srcset(value: &str) -> bool {
    value.split(',').all(|candidate| {
        let url = candidate.split_whitespace().next().unwrap_or("");
        url.starts_with("/media/") && !url.contains("..") && !url.contains(':')
    })
}

/// What a library image takes of the column: the article's measure, or the screen.
pub const IMAGE_SIZES: &str = "(min-width: 42rem) 40rem, 100vw";

/// A library image as `<picture>` (WebP first) with its sizes; `alt` is the text given where
/// it is shown, or the library's own.
pub fn img_html(view: &MediaView, alt: &str, lazy: bool) -> String {
    let alt = if alt.trim().is_empty() { view.alt.as_str() } else { alt };
    let mut out = String::from("<picture>");
    if let Some(webp) = view.webp_srcset() {
        let _ =
            write!(out, "<source type=\"image/webp\" srcset=\"{webp}\" sizes=\"{IMAGE_SIZES}\">");
    }
    let _ = write!(
        out,
        "<img src=\"{}\" srcset=\"{}\" sizes=\"{IMAGE_SIZES}\" width=\"{}\" height=\"{}\" alt=\"",
        view.src(),
        view.srcset(view.format),
        view.width,
        view.height
    );
    escape(alt.trim(), &mut out);
    out.push('"');
    if lazy {
        out.push_str(" loading=\"lazy\" decoding=\"async\"");
    }
    out.push_str("></picture>");
    out
}

/// A library image with its caption and credit under it, as news sites show photographs.
pub fn figure_html(view: &MediaView, alt: &str, lazy: bool) -> String {
    let mut out = String::from("<figure class=\"photo\">");
    out.push_str(&img_html(view, alt, lazy));
    let (caption, credit) = (view.caption.trim(), view.credit.trim());
    if !caption.is_empty() || !credit.is_empty() {
        out.push_str("<figcaption>");
        escape(caption, &mut out);
        if !credit.is_empty() {
            if !caption.is_empty() {
                out.push(' ');
            }
            out.push_str("<span class=\"credit\">");
            escape(credit, &mut out);
            out.push_str("</span>");
        }
        out.push_str("</figcaption>");
    }
    out.push_str("</figure>");
    out
}

/// The text a reader can read in an article's body: its sanitized HTML (from
/// [`markdown_html`]) without tags, attributes or anything else the page does not show, words
/// separated by single spaces. What search indexes and cuts snippets from: a newsroom hides a
/// source in an HTML comment, and the page does not show it, so search must not either.
pub fn readable_text(body_html: &str) -> String {
    const INLINE: [&str; 14] = [
        "a", "abbr", "b", "code", "del", "em", "i", "mark", "s", "small", "span", "strong", "sub",
        "sup",
    ];
    let mut text = String::with_capacity(body_html.len());
    let mut chars = body_html.char_indices();
    while let Some((at, c)) = chars.next() {
        if c != '<' {
            text.push(c);
            continue;
        }
        // A tag: to its `>`, skipping any inside a quoted attribute (the serializer quotes
        // every value with `"` and escapes the `"` in them).
        let mut quoted = false;
        let mut end = body_html.len();
        for (i, c) in chars.by_ref() {
            match c {
                '"' => quoted = !quoted,
                '>' if !quoted => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        let name: String = body_html[at + 1..end]
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .collect();
        if !INLINE.contains(&name.to_ascii_lowercase().as_str()) {
            text.push(' ');
        }
    }
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&nbsp;", "\u{a0}")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_lines_split_as_str_split_does() {
        for text in ["", "a", "a\n\nb", "a\n\n\nb", "\n\n", "a\nb\n\n", "\n\n\n\nx\n", "é\n\nü"] {
            let ours: Vec<&str> = split_blank(text).collect();
            let theirs: Vec<&str> = text.split("\n\n").collect();
            assert_eq!(ours, theirs, "{text:?}");
        }
    }

    #[test]
    fn body_headings_start_at_h2_and_every_image_has_an_alt() {
        let html = markdown_html(
            "# Title\n\n## Part\n\n###### Deep\n\n![](x.jpg) ![A cat](y.jpg)\n\n\
             <h1 class=\"x\">Raw</h1>\n\n<p><img src=\"z.jpg\" title=\"alt=no\"></p>",
        );
        assert!(!html.contains("<h1"), "{html}");
        assert!(html.contains("<h2>Title</h2>") && html.contains("<h3>Part</h3>"), "{html}");
        assert!(html.contains("<h6>Deep</h6>") && html.contains("<h2>Raw</h2>"), "{html}");
        assert!(html.contains("<img src=\"x.jpg\" alt=\"\">"), "{html}");
        assert!(html.contains("alt=\"A cat\""), "{html}");
        assert!(html.contains("<img src=\"z.jpg\" title=\"alt=no\" alt=\"\">"), "{html}");
        assert_eq!(images_without_alt(&html), ["x.jpg", "z.jpg"]);
    }

    #[test]
    fn footnotes_link_to_ids_that_survive() {
        let html = markdown_html(
            "Ferries[^late] and buses[^bus].\n\n[^bus]: Every hour.\n[^late]: Often late.\n\n\
             <p id=\"respond\">Raw</p>",
        );
        assert!(html.contains("<a href=\"#fn-1\" id=\"fnref-1\""), "{html}");
        assert!(html.contains("<a href=\"#fn-2\" id=\"fnref-2\""), "{html}");
        assert!(html.contains("id=\"fn-1\"") && html.contains("id=\"fn-2\""), "{html}");
        assert!(html.contains("href=\"#fnref-1\""), "{html}");
        assert!(!html.contains("id=\"respond\""), "a page's own ids are not a body's: {html}");
    }

    #[test]
    fn excerpts_end_on_a_whole_word() {
        assert_eq!(excerpt("The operator said\nthe ferry was late.", 24), "The operator said the…");
        assert_eq!(excerpt("Short.", 24), "Short.");
        assert_eq!(excerpt("Antidisestablishmentarianism", 10), "Antidisest…");
        assert_eq!(excerpt("  ", 10), "");
    }

    #[test]
    fn readable_text_is_what_the_page_shows() {
        let markdown = "Told by the harbour master.<!-- source: Jane Whistleblower, 555-0100 -->\n\n\
            <span title=\"hidden > attribute\">Shown</span> and <b>bold</b>, &amp; <script>gone()</script>\n\n\
            A note.[^1]\n\n[^1]: The footnote, shown under the article.\n\n\
            [link](https://example.com \"a title\") ![an image](https://example.com/i.png)";
        let text = readable_text(&markdown_html(markdown));
        for hidden in
            ["Whistleblower", "555-0100", "hidden", "attribute", "gone", "a title", "example.com"]
        {
            assert!(!text.contains(hidden), "{hidden} in {text:?}");
        }
        for shown in
            ["Told by the harbour master.", "Shown and bold, &", "The footnote, shown", "link"]
        {
            assert!(text.contains(shown), "{shown} not in {text:?}");
        }
        assert_eq!(readable_text("<p>One</p><p>two &lt;three&gt;</p>"), "One two <three>");
    }

    #[test]
    fn escaping_covers_every_special_character_and_keeps_the_rest() {
        let mut out = String::new();
        escape("<a href=\"x\" title='é'>Ω & 東京</a>", &mut out);
        assert_eq!(out, "&lt;a href=&quot;x&quot; title=&#39;é&#39;&gt;Ω &amp; 東京&lt;/a&gt;");
        for text in ["", "plain", "&", "é<", ">東"] {
            let mut once = String::new();
            escape(text, &mut once);
            let expected: String = text
                .chars()
                .map(|c| match c {
                    '&' => "&amp;".into(),
                    '<' => "&lt;".into(),
                    '>' => "&gt;".into(),
                    c => c.to_string(),
                })
                .collect();
            assert_eq!(once, expected);
        }
    }

    #[test]
    fn replies_are_text_in_paragraphs() {
        assert_eq!(reply_html("one\ntwo\n\n\nthree"), "<p>one<br>\ntwo</p>\n<p>three</p>\n");
    }

    #[test]
    fn markup_in_replies_is_shown_as_text() {
        assert_eq!(
            reply_html("<script>alert('x')</script> & <b>"),
            "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &lt;b&gt;</p>\n"
        );
    }

    #[test]
    fn bare_urls_become_links() {
        let html = reply_html("see https://example.com/a?b=1&c=2 now");
        assert_eq!(
            html,
            "<p>see <a href=\"https://example.com/a?b=1&amp;c=2\" \
             rel=\"nofollow ugc noopener\">https://example.com/a?b=1&amp;c=2</a> now</p>\n"
        );
        // A quote ends a link rather than breaking out of its attribute.
        let html = reply_html("https://example.com/\"onmouseover=\"x");
        assert!(html.starts_with("<p><a href=\"https://example.com/\" "), "{html}");
        assert!(!reply_html("javascript:alert(1)").contains("<a"));
        assert!(!reply_html("ftp://example.com").contains("<a"));
    }

    #[test]
    fn words_are_counted_in_any_script() {
        assert_eq!(word_count("One two, three — four."), 4);
        assert_eq!(word_count("東京の朝"), 4);
        assert_eq!(word_count(""), 0);
        assert_eq!(reading_minutes(0), 0);
        assert_eq!(reading_minutes(1), 1);
        assert_eq!(reading_minutes(460), 2);
    }

    #[test]
    fn links_are_counted_as_they_would_be_linked() {
        assert_eq!(count_links("a https://a.example b http://b.example/x c ftp://c.example"), 2);
        assert_eq!(count_links("no links here"), 0);
    }

    #[test]
    fn markdown_is_sanitized() {
        let html = markdown_html(
            "Hi <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>\n\n\
             <p style=\"position:fixed\">styled</p>",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("style="), "{html}");
    }

    #[test]
    fn typography_comes_through_exactly() {
        let text = "“Quotes” – dashes — ’apostrophes’ «guillemets» 東京 Москва";
        assert_eq!(markdown_html(text), format!("<p>{text}</p>\n"));
        assert_eq!(reply_html(text), format!("<p>{text}</p>\n"));
    }
}
