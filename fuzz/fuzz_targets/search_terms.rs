//! Search: any query gives at most eight terms of letters and digits, and a snippet of any
//! text around them has its match marks in pairs, never one left open.
#![no_main]

use byline::domain::search::{MARK_END, MARK_START, snippet, terms};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str, u8)| {
    let (query, text, width) = input;
    let terms = terms(query);
    assert!(terms.len() <= 8);
    assert!(terms.iter().all(|t| !t.is_empty() && t.chars().all(char::is_alphanumeric)));
    let shown = snippet(text, &terms, width as usize);
    let mut open = false;
    for c in shown.chars() {
        match c {
            MARK_START => {
                assert!(!open, "a mark inside a mark: {shown:?}");
                open = true;
            }
            MARK_END => {
                assert!(open, "a mark closed that was not open: {shown:?}");
                open = false;
            }
            _ => {}
        }
    }
    assert!(!open, "a mark left open: {shown:?}");
});
