//! Signing with the site's secret (an HMAC-SHA-256 key shared by every node): the reply
//! form's token and the reader's signed cookies.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::ArticleId;

/// The server's signing key.
pub struct Keys {
    mac: Hmac<Sha256>,
}

impl Keys {
    pub fn new(secret: &str) -> Self {
        let mac = Hmac::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any size");
        Self { mac }
    }

    pub fn sign(&self, purpose: &str, value: &str) -> String {
        let mut mac = self.mac.clone();
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(value.as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    pub fn verify(&self, purpose: &str, value: &str, signature: &str) -> bool {
        let Some(signature) = unhex(signature) else {
            return false;
        };
        let mut mac = self.mac.clone();
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(value.as_bytes());
        mac.verify_slice(&signature).is_ok()
    }
}

/// 32 random bytes, hex-encoded: a new server secret (or any unguessable token).
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    hex(&bytes)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Lowercase hex only, as [`hex`] writes it: one signature has one spelling, so a table of
/// used signatures cannot be passed by the same one spelt another way.
fn unhex(s: &str) -> Option<Vec<u8>> {
    let lower_hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    if !s.len().is_multiple_of(2) || !s.bytes().all(lower_hex) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

const TOKEN: &str = "reply-form";
/// A form older than this is stale. Generous, so that pages kept by a cache still work.
pub const TOKEN_LIFETIME: i64 = 3 * 24 * 3600;
/// Clocks of several nodes may differ a little.
const CLOCK_SKEW: i64 = 60;

/// What a reply form's token is for: an article (or a page's discussion) of this site, or
/// the thread of another site's page, named by its address before the thread exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormFor<'a> {
    Article(ArticleId),
    Thread(&'a str),
}

impl FormFor<'_> {
    fn signed(self, issued: i64) -> String {
        match self {
            Self::Article(article) => format!("{article}:{issued}"),
            Self::Thread(url) => format!("thread {url}:{issued}"),
        }
    }
}

/// A token for the reply form of `article`, issued `now`: `ISSUED.SIGNATURE`. The same for
/// every reader, so that pages kept by a cache or CDN keep working.
pub fn issue_token(keys: &Keys, article: ArticleId, now: i64) -> String {
    issue_token_for(keys, FormFor::Article(article), now)
}

pub fn issue_token_for(keys: &Keys, form: FormFor<'_>, now: i64) -> String {
    format!("{now}.{}", keys.sign(TOKEN, &form.signed(now)))
}

/// Seconds since the form was served, if the token is this site's, for this form, and fresh.
pub fn token_age(keys: &Keys, form: FormFor<'_>, token: &str, now: i64) -> Option<i64> {
    let (issued, signature) = token.trim().split_once('.')?;
    let issued: i64 = issued.parse().ok()?;
    let age = now - issued;
    let genuine = keys.verify(TOKEN, &form.signed(issued), signature);
    (genuine && (-CLOCK_SKEW..=TOKEN_LIFETIME).contains(&age)).then_some(age.max(0))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_signature_has_one_spelling() {
        let keys = Keys::new("secret");
        let good = keys.sign("p", "v");
        assert!(keys.verify("p", "v", &good));
        assert!(!keys.verify("p", "v", &good.to_uppercase()));
        let plus = format!("+{}", &good[1..]);
        assert!(!keys.verify("p", "v", &plus));
    }

    use super::*;

    #[test]
    fn tokens_tell_the_age_and_refuse_forgeries() {
        let keys = Keys::new("secret");
        let article = FormFor::Article(ArticleId(7));
        let token = issue_token(&keys, ArticleId(7), 1000);
        assert_eq!(token_age(&keys, article, &token, 1004), Some(4));
        let other = FormFor::Article(ArticleId(8));
        assert_eq!(token_age(&keys, other, &token, 1004), None, "another article's");
        let thread = FormFor::Thread("https://blog.example/a");
        let for_thread = issue_token_for(&keys, thread, 1000);
        assert_eq!(token_age(&keys, thread, &for_thread, 1004), Some(4));
        assert_eq!(
            token_age(&keys, FormFor::Thread("https://blog.example/b"), &for_thread, 1004),
            None
        );
        assert_eq!(token_age(&keys, article, &for_thread, 1004), None);
        assert_eq!(token_age(&Keys::new("other"), article, &token, 1004), None, "forged");
        assert_eq!(token_age(&keys, article, &token, 1000 + TOKEN_LIFETIME + 1), None, "stale");
        assert_eq!(token_age(&keys, article, "", 1000), None);
        assert_eq!(token_age(&keys, article, &token.replace("1000.", "999."), 1004), None);
    }

    #[test]
    fn signatures_are_bound_to_their_purpose() {
        let keys = Keys::new("secret");
        let signature = keys.sign("a", "value");
        assert!(keys.verify("a", "value", &signature));
        assert!(!keys.verify("b", "value", &signature));
        assert!(!keys.verify("a", "value", "zz"));
    }
}
