//! The Big List of Naughty Strings through every field: no 5xx, and each value either stored
//! and shown exactly (after trimming) or refused with a clear 4xx.

use std::collections::BTreeMap;

use crate::helpers::{attr, reply_with, spawn_app, text};

pub fn naughty_strings() -> Vec<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/naughty-strings/blns.json");
    let raw = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    serde_json::from_str(&raw).expect("blns.json is a list of strings")
}

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

#[tokio::test]
async fn naughty_strings_in_every_field() {
    let app = spawn_app().await;
    let strings = naughty_strings();
    assert!(strings.len() > 400);
    for field in ["comment", "name", "email", "website"] {
        let published = app.publish(&format!("Naughty {field}")).await;
        let mut accepted: BTreeMap<byline::domain::ReplyId, String> = BTreeMap::new();
        let mut refused = 0;
        for value in &strings {
            let form = reply_with(&[(field, value)]);
            let response = app.post(&published.path, &form).await;
            match response.status {
                303 => {
                    accepted.insert(crate::helpers::comment_id(response.location()), value.clone());
                }
                400..=499 => {
                    refused += 1;
                    assert!(
                        response.has(".field-error") || response.has(".error-page"),
                        "{field}={value:?} refused without a message:\n{}",
                        response.body
                    );
                }
                status => panic!("{field}={value:?} gave {status}:\n{}", response.body),
            }
        }
        let page = app.get(&published.path).await;
        assert_eq!(page.status, 200);
        for (id, value) in &accepted {
            let reply = format!("#comment-{id}");
            match field {
                "comment" => {
                    let shown = text(page.one(&format!("{reply} .reply-text")));
                    assert_eq!(squeeze(&shown), squeeze(value.trim()), "comment {value:?}");
                }
                "name" => {
                    let shown = text(page.one(&format!("{reply} .reply-author")));
                    assert_eq!(squeeze(&shown), squeeze(value.trim()), "name {value:?}");
                }
                "website" if value.trim().is_empty() => {
                    assert!(
                        !page.has(&format!("{reply} .reply-author a")),
                        "no link for {value:?}"
                    );
                }
                "website" => {
                    let href = attr(page.one(&format!("{reply} .reply-author a")), "href");
                    let url = url::Url::parse(href).expect("a website link is a URL");
                    assert!(matches!(url.scheme(), "http" | "https"), "{href}");
                }
                _ => {}
            }
        }
        // The site's own script is the only one; JSON-LD is data, never run, and must parse.
        for script in page.all("script:not([type='application/ld+json'])") {
            assert_eq!(attr(script, "src"), "/static/reply.js", "no script for {field}");
            assert!(script.text().next().is_none());
        }
        for data in page.all("script[type='application/ld+json']") {
            let json: String = data.text().collect();
            serde_json::from_str::<serde_json::Value>(&json).expect("valid JSON-LD");
        }
        println!("{field}: {} accepted, {refused} refused", accepted.len());
        assert_eq!(accepted.len() + refused, strings.len());
        if matches!(field, "comment" | "name") {
            assert!(accepted.len() > strings.len() / 2, "{field}: most strings are fine text");
        }
    }
}
