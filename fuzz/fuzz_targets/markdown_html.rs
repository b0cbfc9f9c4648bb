//! An article's Markdown as HTML: whatever an author writes, no script, no event handler, no
//! `javascript:` link survives the sanitizer; and the readable text taken from it (what search
//! indexes) never panics.
#![no_main]

use byline::domain::text::{markdown_html, readable_text};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|markdown: &str| {
    let html = markdown_html(markdown);
    for tag in tags(&html) {
        let lower = tag.to_ascii_lowercase();
        for forbidden in ["<script", "<iframe", "<style", "<object", "<embed", "<!--"] {
            assert!(!lower.starts_with(forbidden), "{tag} in {html:?}");
        }
        for (name, value) in attributes(&lower) {
            assert!(!name.starts_with("on"), "an event handler {name} in {html:?}");
            if name == "href" || name == "src" {
                let value = value.trim_start();
                for scheme in ["javascript:", "vbscript:", "data:"] {
                    assert!(!value.starts_with(scheme), "a {scheme} link in {html:?}");
                }
            }
        }
    }
    let _ = readable_text(&html);
});

/// Every tag, `<` to `>`, quoted attribute values kept whole.
fn tags(html: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let from = &rest[start..];
        let mut quote = None;
        let mut end = from.len();
        for (i, c) in from.char_indices().skip(1) {
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, '>') => {
                    end = i + 1;
                    break;
                }
                _ => {}
            }
        }
        found.push(&from[..end]);
        rest = &from[end..];
    }
    found
}

/// A tag's attributes: names, and values without their quotes.
fn attributes(tag: &str) -> Vec<(String, String)> {
    let inner = tag.trim_start_matches('<').trim_end_matches('>').trim_end_matches('/');
    let mut chars = inner.chars().skip_while(|c| !c.is_whitespace()).peekable();
    let mut found = Vec::new();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let name: String =
            std::iter::from_fn(|| chars.next_if(|c| !c.is_whitespace() && *c != '=')).collect();
        if name.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.next_if_eq(&'=').is_some() {
            match chars.next_if(|c| *c == '"' || *c == '\'') {
                Some(q) => value.extend(std::iter::from_fn(|| chars.next_if(|c| *c != q))),
                None => value.extend(std::iter::from_fn(|| chars.next_if(|c| !c.is_whitespace()))),
            }
            chars.next();
        }
        found.push((name, value));
    }
    found
}
