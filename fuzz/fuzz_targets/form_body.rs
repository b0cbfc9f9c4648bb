//! The reply form's body parser: any bytes give pairs or a clear "not UTF-8", never a panic;
//! what it gives back, encoded again, reads back the same.
#![no_main]

use byline::web::form;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(pairs) = form::parse(data) else { return };
    let encoded: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    let again = form::parse(encoded.join("&").as_bytes()).expect("what was read encodes back");
    assert_eq!(pairs, again);
});

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
