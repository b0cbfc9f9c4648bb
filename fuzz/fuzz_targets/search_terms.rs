//! Search: any query gives at most eight words, its stems of letters and digits only, and a
//! snippet of any text around them (or the text marked whole) has its match marks in pairs,
//! never one left open.
#![no_main]

use byline::domain::search::{Language, MARK_END, MARK_START, Query, mark, snippet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str, u8)| {
    let (query, text, width) = input;
    let language = Language::default();
    let query = Query::parse(query, &language);
    assert!(query.words.len() <= 8);
    assert!(query.stems.iter().all(|t| !t.is_empty() && t.chars().all(char::is_alphanumeric)));
    for shown in [snippet(text, &query, &language, width as usize), mark(text, &query, &language)] {
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
    }
});
