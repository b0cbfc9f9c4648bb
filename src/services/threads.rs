//! Threads embedded in other sites' pages (`embed.js`): which addresses may have one (a page
//! on a site listed in `embed_origins`), what the first reply names it, and the newsroom's
//! list of them. Posting to one is `discussion::post_thread_reply`.

use sha2::{Digest, Sha256};

use super::Services;
use crate::domain::{ArticleId, DiscussionSettings, FieldError};
use crate::store::{ReplyTarget, StoreError, Thread, ThreadReads, ThreadWrites, User};

/// The longest page address a thread may have.
const MAX_URL: usize = 2000;
/// The longest title a new thread takes from its page (staff may change it).
const MAX_TITLE: usize = 200;

/// The thread address for a page at `raw` (its canonical address, as the script found it),
/// if the page is on a site that may embed replies: its fragment dropped, as the URL standard
/// spells it.
pub fn embeddable(settings: &DiscussionSettings, raw: &str) -> Option<String> {
    if raw.len() > MAX_URL {
        return None;
    }
    let mut url = url::Url::parse(raw.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") || !url.username().is_empty() {
        return None;
    }
    url.set_fragment(None);
    settings.embeds_for(&url.origin().ascii_serialization()).then(|| url.to_string())
}

/// What a new thread is called: the page's title as one line of at most 200 characters, or
/// its address without the scheme when it has none.
pub fn title(raw: &str, url: &str) -> String {
    let line: String = raw
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let line = if line.is_empty() {
        url.split_once("://").map_or(url, |(_, rest)| rest).to_owned()
    } else {
        line
    };
    line.chars().take(MAX_TITLE).collect()
}

/// The slug of a thread's row: unique to its address, and no article's (articles' slugs
/// come from headlines; this one is a hash).
pub fn slug_for(url: &str) -> String {
    let digest = Sha256::digest(url.as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("thread-{hex}")
}

/// What a reply to the thread needs of it. Its "publication" is its creation, from which
/// `close_after_days` counts.
pub fn reply_target(thread: &Thread) -> ReplyTarget {
    ReplyTarget {
        id: thread.id,
        slug: slug_for(&thread.url),
        date_path: None,
        replies_open: thread.replies_open,
        published_at: Some(thread.created_at),
    }
}

/// The thread at this page's address, if it has one.
pub async fn find(services: &Services, url: &str) -> Result<Option<Thread>, StoreError> {
    let url = url.to_owned();
    services.store.read(move |db| Box::pin(async move { db.thread_by_url(&url).await })).await
}

/// The thread whose replies hang on article row `id`.
pub async fn by_id(services: &Services, id: ArticleId) -> Result<Option<Thread>, StoreError> {
    services.store.read(move |db| Box::pin(async move { db.thread(id).await })).await
}

/// A thread and its newest approved replies, newest first, for its replies' feed.
pub async fn feed(
    services: &Services,
    id: ArticleId,
    limit: u64,
) -> Result<Option<(Thread, Vec<crate::store::Reply>)>, StoreError> {
    use crate::store::ReplyReads;
    services
        .store
        .read(move |db| {
            Box::pin(async move {
                let Some(thread) = db.thread(id).await? else { return Ok(None) };
                let replies = db.newest_replies(id, limit).await?;
                Ok(Some((thread, replies)))
            })
        })
        .await
}

/// The address of a thread's replies' feed.
pub fn feed_path(id: ArticleId) -> String {
    format!("/threads/{id}/feed.atom")
}

/// Threads for the newsroom, the newest first; and how many there are.
pub async fn list(
    services: &Services,
    offset: u64,
    limit: u64,
) -> Result<(Vec<Thread>, u64), StoreError> {
    services.store.read(move |db| Box::pin(async move { db.threads(offset, limit).await })).await
}

#[derive(Debug, thiserror::Error)]
pub enum ThreadError {
    #[error("{}", .0.message)]
    Invalid(FieldError),
    #[error("editors and admins look after embedded threads")]
    Forbidden,
    #[error("no such thread")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Renames a thread, or opens or closes it to replies (editors and admins).
pub async fn update(
    services: &Services,
    user: &User,
    id: ArticleId,
    title: &str,
    open: bool,
) -> Result<(), ThreadError> {
    if !user.role.edits_all_articles() {
        return Err(ThreadError::Forbidden);
    }
    let name = self::title(title, "");
    if name.is_empty() {
        return Err(ThreadError::Invalid(FieldError::new("title", "Give the thread a title.")));
    }
    services
        .commit(move |unit| {
            Box::pin(async move {
                if !unit.update_thread(id, &name, open).await? {
                    return Err(ThreadError::NotFound);
                }
                Ok(())
            })
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SettingKey;

    #[test]
    fn only_listed_sites_have_threads() {
        let mut settings = DiscussionSettings::default();
        settings.set(SettingKey::EmbedOrigins, "https://blog.example").unwrap();
        let url = embeddable(&settings, "https://BLOG.example/a/post?x=1#comment-3");
        assert_eq!(url.as_deref(), Some("https://blog.example/a/post?x=1"));
        assert_eq!(
            embeddable(&settings, "https://blog.example").as_deref(),
            Some("https://blog.example/")
        );
        for refused in [
            "https://evil.example/a",
            "http://blog.example/a",
            "https://blog.example.evil.example/",
            "javascript:alert(1)",
            "https://user@blog.example/",
            "/a/post",
        ] {
            assert_eq!(embeddable(&settings, refused), None, "{refused}");
        }
        assert_eq!(
            embeddable(&settings, &format!("https://blog.example/{}", "a".repeat(2000))),
            None
        );
    }

    #[test]
    fn titles_are_one_short_line() {
        assert_eq!(title("  A\tpost\n about\u{0}x ", "https://b.example/p"), "A post about x");
        assert_eq!(title("", "https://b.example/p"), "b.example/p");
        assert_eq!(title(&"é".repeat(300), "u").chars().count(), 200);
    }
}
