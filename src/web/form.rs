//! Reading `application/x-www-form-urlencoded` bodies and query strings, refusing what is
//! not UTF-8 instead of guessing.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, header};
use percent_encoding::percent_decode;

use super::error::AppError;
use crate::domain::FieldError;

/// Reads a form body: `415` unless urlencoded, `413` past the route's limit (see
/// `web::Limits`, which bounds every body before it gets here, and `web::redirects` for a
/// page's replies).
pub async fn read(headers: &HeaderMap, body: Body) -> Result<Bytes, AppError> {
    let content_type = headers.get(header::CONTENT_TYPE).map(HeaderValue::as_bytes);
    if content_type.is_some_and(|t| !t.starts_with(b"application/x-www-form-urlencoded")) {
        return Err(AppError::UnsupportedMediaType);
    }
    axum::body::to_bytes(body, usize::MAX).await.map_err(|_| AppError::TooLarge)
}

/// Reads and decodes a form body; text that is not UTF-8 is a `400`.
pub async fn read_pairs(
    headers: &HeaderMap,
    body: Body,
) -> Result<Vec<(String, String)>, AppError> {
    let bytes = read(headers, body).await?;
    parse(&bytes).map_err(|_| AppError::BadRequest(NOT_UTF8))
}

pub const NOT_UTF8: &str = "The form could not be read: its text was not in the UTF-8 \
     encoding web browsers use. Please send it again from the page.";

/// One line of a refused form's summary: its message, linked to its field when it has one.
pub struct Problem<'a> {
    /// The `id` of the field to go to.
    pub target: Option<&'static str>,
    /// What the message is about: a field's name, or the whole form's.
    pub about: &'static str,
    pub message: &'a str,
}

/// A refused form's errors as its summary lists them: the fields' in the form's order (each
/// a link to its field), then those about the whole form.
pub fn problems<'a>(errors: &'a [FieldError], fields: &[&'static str]) -> Vec<Problem<'a>> {
    let mut listed: Vec<Problem> = fields
        .iter()
        .filter_map(|field| {
            let message = errors.iter().find(|e| e.field == *field)?.message.as_str();
            Some(Problem { target: Some(*field), about: field, message })
        })
        .collect();
    listed.extend(errors.iter().filter(|e| !fields.contains(&e.field)).map(|e| Problem {
        target: None,
        about: e.field,
        message: e.message.as_str(),
    }));
    listed
}

/// The reply form's fields, in its order.
pub const REPLY_FIELDS: &[&str] = &["comment", "name", "email", "website"];

/// Every value of `name`, in order.
pub fn all<'a>(pairs: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    pairs.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect()
}

/// A form or query string that did not decode to UTF-8 text.
#[derive(Debug, PartialEq, Eq)]
pub struct NotUtf8;

/// The name/value pairs of a urlencoded body, in order.
pub fn parse(input: &[u8]) -> Result<Vec<(String, String)>, NotUtf8> {
    input
        .split(|&b| b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let mut parts = pair.splitn(2, |&b| b == b'=');
            let name = decode(parts.next().unwrap_or_default())?;
            let value = decode(parts.next().unwrap_or_default())?;
            Ok((name, value))
        })
        .collect()
}

fn decode(raw: &[u8]) -> Result<String, NotUtf8> {
    let spaced: Vec<u8> = raw.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
    let bytes: Vec<u8> = percent_decode(&spaced).collect();
    String::from_utf8(bytes).map_err(|_| NotUtf8)
}

/// The first value of `name`, if present.
pub fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// The first value of `name` in a query string; an undecodable query counts as absent.
pub fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    let pairs = parse(query?.as_bytes()).ok()?;
    first(&pairs, name).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_pairs() {
        let pairs = parse(b"a=1+2&b=%E2%80%94&c&=x&&d=%3D%26").unwrap();
        let expected = [("a", "1 2"), ("b", "—"), ("c", ""), ("", "x"), ("d", "=&")];
        let expected: Vec<_> =
            expected.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        assert_eq!(pairs, expected);
    }

    #[test]
    fn refuses_bytes_that_are_not_utf8() {
        assert_eq!(parse(b"comment=%FF%FE"), Err(NotUtf8));
        assert_eq!(parse(b"comment=\xff"), Err(NotUtf8));
    }
}
