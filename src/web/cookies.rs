//! The reader's cookies: the signed lists of their held replies and of the replies they may
//! still change, and (only when they ask) their remembered name, email and website.

use axum::http::HeaderMap;
use axum::http::header;
use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use crate::domain::ReplyId;
use crate::domain::signing::Keys;

const HELD: &str = "byline_held";
/// The replies this browser posted within the edit window; it lives as long as the window.
const OWN: &str = "byline_own";
const READER: &str = "byline_reader";
/// Held replies remembered per browser; the oldest drop off first.
const HELD_MAX: usize = 20;
const HELD_MAX_AGE: u32 = 30 * 24 * 3600;
const READER_MAX_AGE: u32 = 365 * 24 * 3600;

/// The value of the cookie `name` in the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
}

pub fn set_cookie(name: &str, value: &str, max_age: u32, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Lax{secure}")
}

/// The ids of the replies this browser posted that are held, if the signature holds.
pub fn held_replies(headers: &HeaderMap, keys: &Keys) -> Vec<ReplyId> {
    signed_ids(headers, keys, HELD)
}

/// A `Set-Cookie` value adding `id` to the held replies.
pub fn add_held_reply(headers: &HeaderMap, keys: &Keys, id: ReplyId, secure: bool) -> String {
    add_signed_id(headers, keys, HELD, id, HELD_MAX_AGE, secure)
}

/// The ids of the replies this browser posted and may still change (the window is checked
/// against each reply's time), if the signature holds.
pub fn own_replies(headers: &HeaderMap, keys: &Keys) -> Vec<ReplyId> {
    signed_ids(headers, keys, OWN)
}

/// A `Set-Cookie` value adding `id` to the replies this browser may change, for as long as
/// the edit window lasts.
pub fn add_own_reply(
    headers: &HeaderMap,
    keys: &Keys,
    id: ReplyId,
    seconds: u32,
    secure: bool,
) -> String {
    add_signed_id(headers, keys, OWN, id, seconds, secure)
}

/// A list of reply ids signed under the cookie's name (so one list cannot pass for another).
fn signed_ids(headers: &HeaderMap, keys: &Keys, name: &str) -> Vec<ReplyId> {
    cookie(headers, name).map_or_else(Vec::new, |value| verified_ids(keys, name, value))
}

/// The ids of `ids~SIGNATURE`, signed for `purpose`; none if the signature fails.
fn verified_ids(keys: &Keys, purpose: &str, value: &str) -> Vec<ReplyId> {
    let Some((ids, signature)) = value.split_once('~') else { return Vec::new() };
    if !keys.verify(purpose, ids, signature) {
        return Vec::new();
    }
    ids.split('.').filter_map(ReplyId::parse).collect()
}

/// `ids~SIGNATURE`: the latest [`HELD_MAX`] of `ids`, signed for `purpose`.
fn signed_list(keys: &Keys, purpose: &str, ids: &[ReplyId]) -> String {
    let start = ids.len().saturating_sub(HELD_MAX);
    let value: Vec<String> = ids[start..].iter().map(ReplyId::to_string).collect();
    let value = value.join(".");
    format!("{value}~{}", keys.sign(purpose, &value))
}

/// What the API's clients (the embed among them, which keeps it in the page's
/// `localStorage`) hold instead of the held-replies cookie: the same signed list, under a
/// purpose of its own.
const POSTER: &str = "byline_poster";

/// The held replies a `poster` token lists, if its signature holds.
pub fn poster_ids(keys: &Keys, token: &str) -> Vec<ReplyId> {
    verified_ids(keys, POSTER, token.trim())
}

/// `token`'s list with `id` added, signed again.
pub fn poster_token(keys: &Keys, token: &str, id: Option<ReplyId>) -> String {
    let mut ids = poster_ids(keys, token);
    if let Some(id) = id {
        ids.retain(|kept| *kept != id);
        ids.push(id);
    }
    signed_list(keys, POSTER, &ids)
}

fn add_signed_id(
    headers: &HeaderMap,
    keys: &Keys,
    name: &str,
    id: ReplyId,
    max_age: u32,
    secure: bool,
) -> String {
    let mut ids = signed_ids(headers, keys, name);
    ids.retain(|kept| *kept != id);
    ids.push(id);
    set_cookie(name, &signed_list(keys, name, &ids), max_age, secure)
}

/// Name, email and website the reader asked this browser to remember.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RememberedReader {
    pub name: String,
    pub email: String,
    pub website: String,
}

impl RememberedReader {
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let raw = percent_decode_str(cookie(headers, READER)?).decode_utf8().ok()?;
        let mut parts = raw.splitn(3, '\n');
        Some(Self {
            name: parts.next()?.to_owned(),
            email: parts.next()?.to_owned(),
            website: parts.next().unwrap_or_default().to_owned(),
        })
    }

    /// A `Set-Cookie` value that remembers these values.
    pub fn set_cookie(&self, secure: bool) -> String {
        let joined = format!("{}\n{}\n{}", self.name, self.email, self.website);
        let value = utf8_percent_encode(&joined, NON_ALPHANUMERIC).to_string();
        set_cookie(READER, &value, READER_MAX_AGE, secure)
    }

    /// A `Set-Cookie` value that forgets them.
    pub fn clear_cookie(secure: bool) -> String {
        set_cookie(READER, "", 0, secure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn request_with(set_cookie: &str) -> HeaderMap {
        let pair = set_cookie.split(';').next().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(&format!("a=b; {pair}")).unwrap());
        headers
    }

    #[test]
    fn held_replies_round_trip_and_refuse_forgeries() {
        let keys = Keys::new("secret");
        let first = add_held_reply(&HeaderMap::new(), &keys, ReplyId(7), false);
        let second = add_held_reply(&request_with(&first), &keys, ReplyId(9), false);
        assert_eq!(held_replies(&request_with(&second), &keys), [ReplyId(7), ReplyId(9)]);
        let forged = second.replace("7.9~", "7.8~");
        assert!(held_replies(&request_with(&forged), &keys).is_empty());
        assert!(held_replies(&request_with(&second), &Keys::new("other")).is_empty());
    }

    #[test]
    fn own_replies_last_the_window_and_are_not_held_ones() {
        let keys = Keys::new("secret");
        let own = add_own_reply(&HeaderMap::new(), &keys, ReplyId(7), 900, false);
        assert!(own.contains("Max-Age=900;"), "{own}");
        assert_eq!(own_replies(&request_with(&own), &keys), [ReplyId(7)]);
        // A list signed for one cookie does not pass for the other.
        let held = add_held_reply(&HeaderMap::new(), &keys, ReplyId(7), false);
        let renamed = held.replace("byline_held=", "byline_own=");
        assert!(own_replies(&request_with(&renamed), &keys).is_empty());
    }

    #[test]
    fn remembered_reader_round_trips() {
        let reader = RememberedReader {
            name: "Zoë; “Z” = 1".into(),
            email: "z@example.com".into(),
            website: String::new(),
        };
        let cookie = reader.set_cookie(true);
        assert!(cookie.ends_with("; Secure"));
        assert_eq!(RememberedReader::from_headers(&request_with(&cookie)), Some(reader));
    }
}
