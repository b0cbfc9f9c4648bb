//! A reader's reply: the values typed into the form, and the validated reply they become.

use std::fmt;

use super::{FieldError, ReplyId};

/// Where a reply stands. Only [`ReplyStatus::Approved`] replies are public.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyStatus {
    Approved,
    Pending,
    Spam,
    Trash,
}

impl ReplyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::Pending => "pending",
            Self::Spam => "spam",
            Self::Trash => "trash",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "approved" => Some(Self::Approved),
            "pending" => Some(Self::Pending),
            "spam" => Some(Self::Spam),
            "trash" => Some(Self::Trash),
            _ => None,
        }
    }
}

impl fmt::Display for ReplyStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Maximum lengths of the reply form's fields, in characters after trimming.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyLimits {
    pub name: usize,
    pub email: usize,
    pub website: usize,
    /// The Comment box: the reply's text (`max_comment_chars`).
    pub comment: usize,
}

impl Default for ReplyLimits {
    fn default() -> Self {
        Self { name: 100, email: 254, website: 2000, comment: 10_000 }
    }
}

/// The names of the reply form's fields, which its messages are attached to.
pub mod field {
    /// The text box labelled "Comment".
    pub const COMMENT: &str = "comment";
    pub const NAME: &str = "name";
    pub const EMAIL: &str = "email";
    pub const WEBSITE: &str = "website";
    /// The reply being answered.
    pub const PARENT: &str = "parent";
}

/// What the reader typed, exactly as sent, so that a form with an error comes back whole.
/// Fields are named as the form names them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplyInput {
    /// The Comment box: the reply's text.
    pub comment: String,
    pub name: String,
    pub email: String,
    pub website: String,
    pub parent: String,
    pub remember: bool,
    /// "Notify me of replies to my comment by email".
    pub notify_replies: bool,
    /// "Notify me of new replies to this article".
    pub follow_article: bool,
}

/// A reply that passed every rule of the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidReply {
    pub body: ReplyBody,
    pub name: AuthorName,
    pub email: Email,
    pub website: Option<Website>,
    pub parent_id: Option<ReplyId>,
}

impl ReplyInput {
    /// Checks every field and reports every problem at once, so the reader fixes them in one go.
    pub fn validate(&self, limits: &ReplyLimits) -> Result<ValidReply, Vec<FieldError>> {
        let mut errors = Vec::new();
        let e = &mut errors;
        let body = check(e, field::COMMENT, ReplyBody::parse(&self.comment, limits.comment));
        let name = check(e, field::NAME, AuthorName::parse(&self.name, limits.name));
        let email = check(e, field::EMAIL, Email::parse(&self.email, limits.email));
        let website =
            check(e, field::WEBSITE, Website::parse_optional(&self.website, limits.website));
        let parent_id = check(e, field::PARENT, parse_parent(&self.parent));
        match (body, name, email, website, parent_id) {
            (Some(body), Some(name), Some(email), Some(website), Some(parent_id)) => {
                Ok(ValidReply { body, name, email, website, parent_id })
            }
            _ => Err(errors),
        }
    }

    /// The reply this form answers, if it names one.
    pub fn parent_id(&self) -> Option<ReplyId> {
        ReplyId::parse(&self.parent)
    }
}

/// The value, or `None` with the message recorded against `field`.
fn check<T>(
    errors: &mut Vec<FieldError>,
    field: &'static str,
    result: Result<T, String>,
) -> Option<T> {
    result.map_err(|message| errors.push(FieldError::new(field, message))).ok()
}

fn parse_parent(raw: &str) -> Result<Option<ReplyId>, String> {
    let raw = raw.trim();
    if raw.is_empty() || raw == "0" {
        return Ok(None);
    }
    ReplyId::parse(raw)
        .map(Some)
        .ok_or_else(|| "The reply you are answering could not be found.".into())
}

/// Trims, then refuses control characters and checks the length in characters.
fn clean(raw: &str, label: &str, max: usize, multiline: bool) -> Result<String, String> {
    let value = raw.trim();
    let allowed = |c: char| multiline && matches!(c, '\t' | '\r' | '\n');
    if value.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(format!("{label} contains control characters; please remove them."));
    }
    let length = value.chars().count();
    if length > max {
        return Err(format!(
            "{label} is too long: {length} characters, and at most {max} are allowed."
        ));
    }
    Ok(value.to_owned())
}

fn required(value: String, message: &str) -> Result<String, String> {
    if value.is_empty() { Err(message.to_owned()) } else { Ok(value) }
}

/// The text of a reply: plain text, never HTML. Line endings are stored as `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyBody(String);

impl ReplyBody {
    pub fn parse(raw: &str, max: usize) -> Result<Self, String> {
        let value = clean(raw, "Your comment", max, true)?;
        let value = required(value, "Please write a comment.")?;
        Ok(Self(value.replace("\r\n", "\n").replace('\r', "\n")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether a reader would see `c`: not a space, a control, a direction mark or override, a
/// zero-width character, a variation selector, a tag, or one of the letters drawn blank.
fn is_visible(c: char) -> bool {
    !c.is_whitespace()
        && !c.is_control()
        && !matches!(c,
            '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}'
            | '\u{17B5}' | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{2800}' | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF0}'..='\u{FFFB}'
            | '\u{E0000}'..='\u{E0FFF}')
}

/// The name a reader signs a reply with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorName(String);

impl AuthorName {
    pub fn parse(raw: &str, max: usize) -> Result<Self, String> {
        let value = clean(raw, "Your name", max, false)?;
        let value = required(value, "Please give your name.")?;
        if !value.chars().any(is_visible) {
            return Err("Please give a name readers can see: this one has only invisible \
                        characters."
                .into());
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A syntactically valid email address. Stored for staff; never published.
#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

impl fmt::Debug for Email {
    // Keeps addresses out of logs and panic messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email(…)")
    }
}

impl Email {
    pub fn parse(raw: &str, max: usize) -> Result<Self, String> {
        let value = clean(raw, "Your email address", max, false)?;
        let value = required(value, "Please give your email address. It will not be published.")?;
        if is_valid_email(&value) {
            Ok(Self(value))
        } else {
            Err("Please give a valid email address, such as name@example.com.".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `local@domain.tld`: dot-atoms on both sides (letters of any script allowed), a domain of
/// at least two labels. Quoted local parts and IP literals are refused: no reader needs them.
fn is_valid_email(value: &str) -> bool {
    let Some((local, domain)) = value.rsplit_once('@') else {
        return false;
    };
    let local_ok = local.len() <= 64
        && dot_atom(local, |c| {
            c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii()
        });
    let label_ok = |label: &str| {
        label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    let domain_ok = domain.len() <= 253
        && domain.contains('.')
        && dot_atom(domain, |_| true)
        && domain.split('.').all(label_ok);
    local_ok && domain_ok
}

/// Non-empty parts separated by single dots, each character accepted by `ok`.
fn dot_atom(s: &str, ok: impl Fn(char) -> bool) -> bool {
    !s.is_empty() && s.split('.').all(|part| !part.is_empty() && part.chars().all(&ok))
}

/// A reader's website: an absolute `http` or `https` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Website(String);

impl Website {
    /// An empty field means no website.
    pub fn parse_optional(raw: &str, max: usize) -> Result<Option<Self>, String> {
        let value = clean(raw, "Your website", max, false)?;
        if value.is_empty() {
            return Ok(None);
        }
        let invalid = || "Please give a website address starting with http:// or https://.";
        let url = url::Url::parse(&value).map_err(|_| invalid().to_owned())?;
        let scheme_ok = matches!(url.scheme(), "http" | "https");
        let host_ok = url.host_str().is_some_and(|h| !h.is_empty());
        if !scheme_ok || !host_ok || value.chars().any(char::is_whitespace) {
            return Err(invalid().into());
        }
        // Store the parser's serialisation: it is what a link will point to.
        Ok(Some(Self(url.into())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ReplyInput {
        ReplyInput {
            comment: "Hello".into(),
            name: "Ada".into(),
            email: "ada@example.com".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_complete_form_is_valid() {
        let reply = input().validate(&ReplyLimits::default()).unwrap();
        assert_eq!(reply.name.as_str(), "Ada");
        assert_eq!(reply.website, None);
        assert_eq!(reply.parent_id, None);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let errors = ReplyInput::default().validate(&ReplyLimits::default()).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, [field::COMMENT, field::NAME, field::EMAIL]);
    }

    #[test]
    fn emails() {
        for ok in ["a@b.co", "first.last+tag@sub.example.org", "josé@exämple.de", "a@b-c.io"] {
            assert!(Email::parse(ok, 254).is_ok(), "{ok}");
        }
        for bad in ["", "a", "a@b", "@b.co", "a@.co", "a..b@c.co", "a b@c.co", "a@b..co", "a@-b.co"]
        {
            assert!(Email::parse(bad, 254).is_err(), "{bad}");
        }
    }

    #[test]
    fn websites_must_be_http() {
        assert!(Website::parse_optional("https://example.com/x", 2000).unwrap().is_some());
        assert!(Website::parse_optional("  ", 2000).unwrap().is_none());
        for bad in ["javascript:alert(1)", "example.com", "ftp://example.com", "http://"] {
            assert!(Website::parse_optional(bad, 2000).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_name_needs_a_visible_character() {
        let invisible =
            ["\u{202E}", "\u{200B}", "\u{200B}\u{200F}\u{2066}", "\u{3164}", "\u{FEFF} \u{00AD}"];
        for name in invisible {
            assert!(AuthorName::parse(name, 100).is_err(), "{name:?}");
        }
        for name in ["Ada", "\u{202E}Ada", "李", "ج", "👍"] {
            assert!(AuthorName::parse(name, 100).is_ok(), "{name:?}");
        }
    }

    #[test]
    fn lengths_count_characters_after_trimming() {
        assert!(AuthorName::parse(&format!("  {}  ", "é".repeat(100)), 100).is_ok());
        assert!(AuthorName::parse(&"é".repeat(101), 100).is_err());
    }

    #[test]
    fn control_characters_are_refused_but_newlines_allowed_in_comments() {
        assert!(ReplyBody::parse("a\u{0}b", 100).is_err());
        assert!(ReplyBody::parse("a\u{7}b", 100).is_err());
        assert_eq!(ReplyBody::parse("a\r\n\tb", 100).unwrap().as_str(), "a\n\tb");
        assert!(AuthorName::parse("a\nb", 100).is_err());
    }
}
