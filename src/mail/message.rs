//! A mail as Byline sends it: to one recipient only, plain text and HTML side by side, with
//! the headers that let mail clients group a conversation, tell an automatic mail from a
//! person's, and unsubscribe in one click (RFC 8058).

use std::time::{Duration, UNIX_EPOCH};

use lettre::Message;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};

use super::SendError;

/// What one mail says, before it is encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    /// The one recipient's address.
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// `<…@host>`: unique to this mail.
    pub message_id: String,
    /// `<…@host>`: the conversation's (the article's) id, for `In-Reply-To` and `References`.
    pub thread: Option<String>,
    /// The one-click unsubscribe address, for `List-Unsubscribe`.
    pub unsubscribe: Option<String>,
    /// When it is sent (seconds since 1970).
    pub date: i64,
}

/// One line of header text: whatever a reader typed, no CR, LF or other control character
/// reaches a header (lettre encodes the rest).
pub fn one_line(text: &str) -> String {
    let line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn raw(name: &'static str, value: String) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
}

/// The message for `letter`, from `from`.
pub fn build(from: &Mailbox, letter: &Letter) -> Result<Message, SendError> {
    let to: Mailbox = letter
        .to
        .parse::<lettre::Address>()
        .map(|address| Mailbox::new(None, address))
        .map_err(|e| SendError::Permanent(format!("the address cannot take mail: {e}")))?;
    let date = UNIX_EPOCH + Duration::from_secs(letter.date.max(0) as u64);
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(one_line(&letter.subject))
        .date(date)
        .message_id(Some(letter.message_id.clone()))
        .raw_header(raw("Auto-Submitted", "auto-generated".into()));
    if let Some(thread) = &letter.thread {
        builder = builder.in_reply_to(thread.clone()).references(thread.clone());
    }
    if let Some(url) = &letter.unsubscribe {
        builder = builder
            .raw_header(raw("List-Unsubscribe", format!("<{url}>")))
            .raw_header(raw("List-Unsubscribe-Post", "List-Unsubscribe=One-Click".into()));
    }
    builder
        .multipart(MultiPart::alternative_plain_html(letter.text.clone(), letter.html.clone()))
        .map_err(|e| SendError::Permanent(format!("cannot write the mail: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_text_is_one_line() {
        assert_eq!(one_line("Ada\r\nBcc: x@example.com"), "Ada Bcc: x@example.com");
        assert_eq!(one_line("  a\tb  "), "a b");
    }
}

/// What a mail tells, before it is written out as text and as HTML (both from the same
/// values; the HTML template escapes them, so a reader's words stay words).
#[derive(Debug, Clone, Default)]
pub struct Content {
    pub site: String,
    pub subject: String,
    pub intro: String,
    pub quotes: Vec<Quote>,
    /// The one thing the mail asks for (confirming, reading), as a button.
    pub action: Option<Link>,
    /// Why the recipient gets this mail.
    pub reason: String,
    /// Unsubscribing and managing, at the foot.
    pub links: Vec<Link>,
}

/// A reader's words, quoted.
#[derive(Debug, Clone)]
pub struct Quote {
    pub author: String,
    /// `in reply to Ada` (may be empty).
    pub context: String,
    pub lines: Vec<String>,
    pub url: String,
    /// What a moderator may do with it from the mail (signed links).
    pub actions: Vec<Link>,
}

impl Quote {
    /// `text` quoted line by line, at most `MAX_QUOTED` characters of it.
    pub fn new(author: &str, context: String, text: &str, url: String) -> Self {
        let mut kept: String = text.chars().take(MAX_QUOTED).collect();
        if kept.len() < text.len() {
            kept.push('…');
        }
        let lines = kept.lines().map(|line| line.trim_end().to_owned()).collect();
        Self { author: one_line(author), context, lines, url, actions: Vec::new() }
    }
}

/// A reply longer than this is cut in a mail: the link leads to the whole.
const MAX_QUOTED: usize = 2_000;

#[derive(Debug, Clone)]
pub struct Link {
    pub label: String,
    pub url: String,
}

impl Link {
    pub fn new(label: &str, url: String) -> Self {
        Self { label: label.to_owned(), url }
    }
}

#[derive(askama::Template)]
#[template(path = "mail/letter.txt")]
struct TextPart<'a> {
    letter: &'a Content,
}

#[derive(askama::Template)]
#[template(path = "mail/letter.html")]
struct HtmlPart<'a> {
    letter: &'a Content,
}

impl Content {
    /// The plain text and the HTML of the mail.
    pub fn render(&self) -> (String, String) {
        use askama::Template;
        let text = TextPart { letter: self }.render().unwrap_or_default();
        let html = HtmlPart { letter: self }.render().unwrap_or_default();
        (text, html)
    }
}
