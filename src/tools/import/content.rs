//! WordPress's HTML as Byline keeps it: paragraphs made as WordPress's `wpautop` makes them,
//! block comments gone, the common shortcodes turned into what they showed, and everything
//! through the editor's sanitizer.

use std::collections::HashMap;

use crate::domain::text;

/// Elements that stand as blocks: text next to them is not wrapped in a paragraph.
const BLOCKS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "caption",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
    "iframe",
    "script",
    "style",
    "noscript",
    "object",
    "video",
    "audio",
    "math",
    "svg",
];

/// A post's body as the article's source: HTML with paragraphs, without blank lines (so that
/// the editor's Markdown reads it back as one block of HTML, unchanged), and with the
/// attachments' addresses for `[gallery]`.
pub fn post_source(content: &str, attachments: &HashMap<String, String>) -> String {
    let content = content.replace("\r\n", "\n").replace('\r', "\n");
    let content = strip_block_comments(&content);
    let content = shortcodes(&content, attachments);
    let html = autop(&content);
    no_blank_lines(&html)
}

/// The source's HTML, sanitized, as the page shows it.
pub fn post_html(source: &str) -> String {
    text::markdown_html(source)
}

/// Gutenberg's `<!-- wp:paragraph -->` and `<!-- /wp:paragraph -->` markers.
fn strip_block_comments(content: &str) -> String {
    let mut out = String::with_capacity(content.len());
    let mut rest = content;
    while let Some(at) = rest.find("<!--") {
        let after = &rest[at + 4..];
        let marker = after.trim_start();
        let is_block = marker.starts_with("wp:") || marker.starts_with("/wp:");
        match (is_block, after.find("-->")) {
            (true, Some(end)) => {
                out.push_str(&rest[..at]);
                rest = &after[end + 3..];
            }
            _ => {
                out.push_str(&rest[..at + 4]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `[caption]`, `[gallery]`, `[embed]`; other shortcodes stay as the text they are.
fn shortcodes(content: &str, attachments: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(content.len());
    let mut rest = content;
    while let Some(at) = rest.find('[') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        match shortcode(tail, attachments) {
            Some((html, used)) => {
                out.push_str(&html);
                rest = &tail[used..];
            }
            None => {
                out.push('[');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The shortcode at the start of `s`: its HTML and how many bytes it took.
fn shortcode(s: &str, attachments: &HashMap<String, String>) -> Option<(String, usize)> {
    let close = s.find(']')?;
    let open = &s[1..close];
    let name: String =
        open.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    let attrs = &open[name.len()..];
    match name.as_str() {
        "caption" | "wp_caption" => {
            let end_tag = format!("[/{name}]");
            let end = s[close..].find(&end_tag)? + close;
            let inner = &s[close + 1..end];
            // The image (perhaps in a link), then the caption's text.
            let split = inner.rfind("</a>").map(|i| i + 4).or_else(|| {
                inner.find("<img").and_then(|i| inner[i..].find('>').map(|j| i + j + 1))
            })?;
            let caption =
                attribute(attrs, "caption").unwrap_or_else(|| inner[split..].trim().to_owned());
            let html = format!(
                "<figure>{}<figcaption>{}</figcaption></figure>",
                inner[..split].trim(),
                caption
            );
            Some((html, end + end_tag.len()))
        }
        "gallery" => {
            let ids = attribute(attrs, "ids").unwrap_or_default();
            let images: Vec<String> = ids
                .split(',')
                .filter_map(|id| attachments.get(id.trim()))
                .map(|url| format!("<img src=\"{}\" alt=\"\">", attr_escape(url)))
                .collect();
            Some((format!("<figure>{}</figure>", images.join("")), close + 1))
        }
        "embed" => {
            let end = s[close..].find("[/embed]")? + close;
            let url = s[close + 1..end].trim();
            Some((link(url), end + "[/embed]".len()))
        }
        _ => None,
    }
}

/// A shortcode attribute's value: `name="value"`, `name='value'` or `name=value`.
fn attribute(attrs: &str, name: &str) -> Option<String> {
    let mut rest = attrs;
    while let Some(at) = rest.find(name) {
        let before_ok = at == 0 || rest.as_bytes()[at - 1].is_ascii_whitespace();
        let after = rest[at + name.len()..].trim_start();
        if before_ok && let Some(value) = after.strip_prefix('=') {
            let value = value.trim_start();
            let quote = value.chars().next()?;
            return Some(if quote == '"' || quote == '\'' {
                value[1..].split(quote).next().unwrap_or("").to_owned()
            } else {
                value.split_whitespace().next().unwrap_or("").to_owned()
            });
        }
        rest = &rest[at + name.len()..];
    }
    None
}

fn attr_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;")
}

fn link(url: &str) -> String {
    let url = url.trim();
    if url.starts_with("http://") || url.starts_with("https://") {
        let escaped = attr_escape(url);
        format!("<a href=\"{escaped}\">{escaped}</a>")
    } else {
        url.to_owned()
    }
}

/// The name of the tag at the start of `s` (`<p class=…>` → `p`, `</ul>` → `ul`).
fn tag_name(s: &str) -> Option<String> {
    let s = s.strip_prefix('<')?;
    let s = s.strip_prefix('/').unwrap_or(s);
    let name: String = s.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
    (!name.is_empty()).then(|| name.to_ascii_lowercase())
}

/// Blocks that hold other blocks: text directly in them is made into paragraphs. Text in any
/// other block (a paragraph, a list item, a cell, a heading) is that block's own line.
const CONTAINERS: &[&str] = &[
    "article",
    "aside",
    "blockquote",
    "details",
    "div",
    "footer",
    "form",
    "header",
    "main",
    "nav",
    "section",
];

/// Blocks without an end tag.
const VOID_BLOCKS: &[&str] = &["hr"];

/// WordPress's paragraphs: text separated by a blank line is a paragraph of its own, a single
/// line break inside one is a `<br>`, and nothing is wrapped around (or inside) a block
/// element's tags. `<pre>` keeps its lines. A bare address of a video or post alone on a
/// line (which WordPress embeds) becomes a link.
fn autop(content: &str) -> String {
    let (content, kept) = keep_pre(content);
    let mut out = String::with_capacity(content.len() + 64);
    let mut open: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut rest = content.as_str();
    loop {
        let Some(at) = rest.find('<') else {
            text.push_str(rest);
            break;
        };
        text.push_str(&rest[..at]);
        let tail = &rest[at..];
        let end = tail.find('>').map_or(tail.len(), |e| e + 1);
        let tag = &tail[..end];
        match tag_name(tag).filter(|n| BLOCKS.contains(&n.as_str())) {
            Some(name) => {
                flush_text(&mut out, &mut text, open.last());
                if !tag.starts_with("</") {
                    line_break(&mut out);
                }
                out.push_str(tag);
                if tag.starts_with("</") {
                    if let Some(i) = open.iter().rposition(|n| *n == name) {
                        open.truncate(i);
                    }
                    line_break(&mut out);
                } else if !VOID_BLOCKS.contains(&name.as_str()) && !tag.ends_with("/>") {
                    open.push(name);
                }
            }
            None => text.push_str(tag),
        }
        rest = &tail[end..];
    }
    flush_text(&mut out, &mut text, open.last());
    restore_pre(out.trim_end(), &kept)
}

fn line_break(out: &mut String) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

/// Text between block tags: paragraphs where it stands among blocks, else lines of the
/// block it is in.
fn flush_text(out: &mut String, text: &mut String, inside: Option<&String>) {
    let among_blocks = inside.is_none_or(|n| CONTAINERS.contains(&n.as_str()));
    if among_blocks {
        for chunk in text.split("\n\n") {
            let chunk = chunk.trim();
            if chunk.is_empty() {
                continue;
            }
            line_break(out);
            if chunk.starts_with("\u{0}pre") {
                out.push_str(chunk);
                continue;
            }
            let lines: Vec<String> = chunk.lines().map(|l| bare_link(l.trim())).collect();
            out.push_str("<p>");
            out.push_str(&lines.join("<br>\n"));
            out.push_str("</p>");
        }
    } else {
        let lines: Vec<&str> =
            text.trim().lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        out.push_str(&lines.join("<br>\n"));
    }
    text.clear();
}

/// An address alone on a line, as WordPress would have embedded it.
fn bare_link(line: &str) -> String {
    let bare = (line.starts_with("http://") || line.starts_with("https://"))
        && !line.contains(char::is_whitespace)
        && !line.contains(['<', '"']);
    if bare { link(line) } else { line.to_owned() }
}

/// `<pre>` blocks out of the way of paragraphs, as numbered markers.
fn keep_pre(content: &str) -> (String, Vec<String>) {
    let mut kept = Vec::new();
    let mut out = String::with_capacity(content.len());
    // ASCII lowercasing keeps every byte where it was, so offsets hold in both.
    let lower = content.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find("<pre").map(|i| from + i) {
        let Some(end) = lower[at..].find("</pre>").map(|e| at + e + 6) else { break };
        out.push_str(&content[from..at]);
        out.push_str(&format!("\n\n\u{0}pre{}\u{0}\n\n", kept.len()));
        kept.push(content[at..end].to_owned());
        from = end;
    }
    out.push_str(&content[from..]);
    (out, kept)
}

/// The markers back, in one pass.
fn restore_pre(out: &str, kept: &[String]) -> String {
    if kept.is_empty() {
        return out.to_owned();
    }
    let mut restored =
        String::with_capacity(out.len() + kept.iter().map(String::len).sum::<usize>());
    let mut parts = out.split('\u{0}');
    restored.push_str(parts.next().unwrap_or(""));
    while let (Some(marker), Some(after)) = (parts.next(), parts.next()) {
        match marker
            .strip_prefix("pre")
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| kept.get(n))
        {
            Some(pre) => restored.push_str(pre),
            None => restored.push_str(marker),
        }
        restored.push_str(after);
    }
    restored
}

/// A blank line would end the block of HTML the editor's Markdown reads the source as: inside
/// `<pre>` an empty line is written as a character reference for its line break instead.
fn no_blank_lines(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    for line in html.split('\n') {
        if !out.is_empty() {
            out.push('\n');
        }
        if line.trim().is_empty() {
            if !out.is_empty() {
                out.pop();
                out.push_str("&#10;");
            }
        } else {
            out.push_str(line);
        }
    }
    out
}

/// A comment's HTML as the plain text of a reply: what it said, paragraphs kept, tags gone
/// (a link keeps its address beside its text), so that it is shown as text, never run.
pub fn comment_text(content: &str) -> String {
    let content = content.replace("\r\n", "\n").replace('\r', "\n");
    let html = text::markdown_html(&no_blank_lines(&autop(&content)));
    let mut out = String::with_capacity(html.len());
    let mut rest = html.as_str();
    let mut href: Option<String> = None;
    let mut link_text = String::new();
    while let Some(at) = rest.find('<') {
        // A line break in HTML's text is a space; `<br>` and blocks break lines.
        let piece = decode_entities(&rest[..at]).replace('\n', " ");
        if href.is_some() {
            link_text.push_str(&piece);
        }
        out.push_str(&piece);
        let tail = &rest[at..];
        let end = tail.find('>').map_or(tail.len(), |e| e + 1);
        let tag = &tail[..end];
        match tag_name(tag).as_deref() {
            Some("br") => out.push('\n'),
            Some("a") if !tag.starts_with("</") => {
                href = attribute(&tag[2..tag.len() - 1], "href").map(|h| decode_entities(&h));
                link_text.clear();
            }
            Some("a") => {
                if let Some(url) = href.take()
                    && link_text.trim() != url
                {
                    out.push_str(&format!(" ({url})"));
                }
            }
            Some(name) if tag.starts_with("</") && BLOCKS.contains(&name) => out.push_str("\n\n"),
            _ => {}
        }
        rest = &tail[end..];
    }
    out.push_str(&decode_entities(rest));
    let paragraphs: Vec<String> = out
        .split("\n\n")
        .map(|p| p.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n"))
        .filter(|p| !p.trim().is_empty())
        .collect();
    paragraphs.join("\n\n")
}

/// A term's or title's name as text: markup gone, entities read.
pub fn plain_text(html: &str) -> String {
    let cleaned = ammonia::Builder::empty().clean(html).to_string();
    decode_entities(&cleaned).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The character references the sanitizer writes, and the numeric ones of any export.
fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let end = tail.find(';').filter(|e| *e <= 10);
        let decoded = end.and_then(|e| {
            let name = &tail[1..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" | "#39" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, e + 1))
        });
        match decoded {
            Some((c, used)) => {
                out.push(c);
                rest = &tail[used..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(content: &str) -> String {
        post_html(&post_source(content, &HashMap::new()))
    }

    #[test]
    fn paragraphs_come_as_wordpress_made_them() {
        let html =
            body("First line\nsecond line\n\nNew paragraph.\n<ul>\n<li>one</li>\n</ul>\nAfter");
        assert_eq!(
            html,
            "<p>First line<br>\nsecond line</p>\n<p>New paragraph.</p>\n<ul>\n<li>one</li>\n</ul>\n<p>After</p>"
        );
    }

    #[test]
    fn pre_keeps_its_lines_and_the_source_has_no_blank_line() {
        let source = post_source("Code:\n\n<pre>a\n\nb</pre>\n\nEnd", &HashMap::new());
        assert!(!source.contains("\n\n"), "{source:?}");
        let html = post_html(&source);
        assert!(html.contains("<pre>a\n\nb</pre>"), "{html}");
    }

    #[test]
    fn block_comments_go_and_shortcodes_become_what_they_showed() {
        let mut attachments = HashMap::new();
        attachments.insert("7".to_owned(), "https://old.example/a.jpg".to_owned());
        let source = post_source(
            "<!-- wp:paragraph -->\n<p>Hi</p>\n<!-- /wp:paragraph -->\n\
             [caption id=\"x\" align=\"left\"]<img src=\"https://old.example/b.jpg\" alt=\"B\"> The quay[/caption]\n\n\
             [gallery ids=\"7,8\"]\n\n[embed]https://youtu.be/abc[/embed]\n\nhttps://vimeo.com/1\n\n[unknown x=1]",
            &attachments,
        );
        let html = post_html(&source);
        assert!(!html.contains("wp:paragraph"), "{html}");
        assert!(html.contains("<figcaption>The quay</figcaption>"), "{html}");
        assert!(html.contains("src=\"https://old.example/a.jpg\""), "{html}");
        assert!(html.contains("href=\"https://youtu.be/abc\""), "{html}");
        assert!(html.contains("href=\"https://vimeo.com/1\""), "{html}");
        assert!(html.contains("[unknown x=1]"), "{html}");
    }

    #[test]
    fn broken_shortcodes_and_many_pre_blocks_are_only_text() {
        for body in ["[caption[/caption]", "[embed[/embed]", "[gallery", "[caption]x"] {
            post_source(body, &HashMap::new());
        }
        let many = "<pre>a</pre>".repeat(20_000);
        let started = std::time::Instant::now();
        assert!(post_source(&many, &HashMap::new()).contains("<pre>a</pre>"));
        assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
    }

    #[test]
    fn comments_become_text() {
        let text = comment_text(
            "Hello <b>there</b> &amp; <a href=\"https://x.example/\">see</a>\n\n<script>alert(1)</script>Bye &lt;3",
        );
        assert_eq!(text, "Hello there & see (https://x.example/)\n\nBye <3");
        // Paragraphs and lines as a reader's reply has them, through WordPress's markup.
        assert_eq!(comment_text("One.\n\nTwo,\nthree."), "One.\n\nTwo,\nthree.");
        assert_eq!(plain_text("Cats &amp; <b>Dogs</b>"), "Cats & Dogs");
    }
}
