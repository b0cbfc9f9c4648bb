//! A reader's reply as HTML: whatever they type, the output holds only the markup Byline
//! writes itself (paragraphs, line breaks, links to http(s) addresses), with every `<` of
//! theirs escaped.
#![no_main]

use byline::domain::text::reply_html;
use libfuzzer_sys::fuzz_target;

const ALLOWED: [&str; 5] = ["<p>", "</p>", "<br>", "<a href=\"", "</a>"];

fuzz_target!(|text: &str| {
    let html = reply_html(text);
    let mut rest = html.as_str();
    while let Some(at) = rest.find('<') {
        rest = &rest[at..];
        let known = ALLOWED.iter().find(|tag| rest.starts_with(*tag));
        let tag = known.unwrap_or_else(|| panic!("markup of the reader's own in {html:?}"));
        if *tag == "<a href=\"" {
            let href = &rest[tag.len()..];
            let scheme = href.get(..8).unwrap_or(href).to_ascii_lowercase();
            assert!(
                scheme.starts_with("http://") || scheme.starts_with("https://"),
                "a link that is not to the web: {html:?}"
            );
            let end = href.find('"').expect("a closed href");
            assert!(!href[..end].contains(['<', '>']), "{html:?}");
        }
        rest = &rest[1..];
    }
    // Nothing of the reader's own is lost from the text: every letter they typed is there.
    let typed = text.chars().filter(|c| c.is_alphanumeric()).count();
    let shown = html.chars().filter(|c| c.is_alphanumeric()).count();
    assert!(shown >= typed, "{text:?} → {html:?}");
});
