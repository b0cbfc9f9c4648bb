//! Readers' mail: the addresses that asked for it (and whether their owners confirmed them),
//! what each follows, and the log of mails sent that keeps each one to a single sending.

use async_trait::async_trait;

use super::{Db, Result, Row, Tx};
use crate::domain::{ArticleId, ReplyId, ReplyStatus};

/// A reader's address that asked for mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailAddress {
    pub id: i64,
    /// Lowercased.
    pub email: String,
    pub created_at: i64,
    pub confirmed_at: Option<i64>,
}

/// One thing an address follows, as the page that manages them lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: i64,
    pub address_id: i64,
    pub article_id: ArticleId,
    /// The reply whose answers are followed; `None`: every reply on the article.
    pub reply_id: Option<ReplyId>,
    pub created_at: i64,
    /// The article's headline (or the page's title).
    pub title: String,
    /// The discussion's public address, if it is public.
    pub path: Option<String>,
}

/// A confirmed address to tell of a new public reply, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub address_id: i64,
    pub email: String,
    pub address_created_at: i64,
    /// The subscription that makes it one (its unsubscribe link ends it).
    pub subscription_id: i64,
    pub subscription_created_at: i64,
    /// `true`: the new reply answers the reader's own; `false`: they follow the article.
    pub answered: bool,
}

/// What a mail about a reply says of it, and what it needs to find its recipients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyNews {
    pub id: ReplyId,
    pub article_id: ArticleId,
    pub parent_id: Option<ReplyId>,
    pub status: ReplyStatus,
    pub author_name: String,
    /// Lowercased: the author is never told of their own reply.
    pub author_email: String,
    pub body: String,
    pub created_at: i64,
    /// The article's headline (or the page's title).
    pub title: String,
    /// The discussion's public address, if it is public.
    pub path: Option<String>,
    /// The name of the reader being answered, if any.
    pub parent_author: Option<String>,
    /// Why it is held (for moderators), empty if it is not.
    pub held_reason: String,
}

const ADDRESS_COLUMNS: &str = "id, email, created_at, confirmed_at";

fn address_of(r: &mut Row) -> Result<MailAddress> {
    Ok(MailAddress {
        id: r.int(0)?,
        email: r.text(1)?,
        created_at: r.int(2)?,
        confirmed_at: r.opt_int(3)?,
    })
}

/// The public address of a discussion from its article's columns and its page's path.
fn discussion_path(
    status: &str,
    date_path: Option<String>,
    slug: &str,
    page: Option<String>,
) -> Option<String> {
    match page {
        Some(page) => Some(crate::domain::paths::page_path(&page)),
        None if status == "published" => {
            crate::domain::paths::public_article_path(date_path.as_deref(), slug)
        }
        None => None,
    }
}

/// The columns [`discussion_of`] reads, `a` the article and `p` its page, if any.
const DISCUSSION_COLUMNS: &str = "COALESCE(p.title, a.headline), a.status, a.date_path, a.slug, \
     COALESCE(a.thread_url, CASE WHEN p.status = 'published' THEN p.path END)";

/// The title and public address of a discussion, from [`DISCUSSION_COLUMNS`] at `i`.
fn discussion_of(r: &mut Row, i: usize) -> Result<(String, Option<String>)> {
    let title = r.text(i)?;
    let status = r.text(i + 1)?;
    let date_path = r.opt_text(i + 2)?;
    let slug = r.text(i + 3)?;
    let page = r.opt_text(i + 4)?;
    Ok((title, discussion_path(&status, date_path, &slug, page)))
}

fn subscription_of(r: &mut Row) -> Result<Subscription> {
    let (title, path) = discussion_of(r, 5)?;
    Ok(Subscription {
        id: r.int(0)?,
        address_id: r.int(1)?,
        article_id: r.id(2)?,
        reply_id: r.opt_id(3)?,
        created_at: r.int(4)?,
        title,
        path,
    })
}

const SUBSCRIPTION_SELECT: &str = "SELECT s.id, s.address_id, s.article_id, s.reply_id, \
     s.created_at, COALESCE(p.title, a.headline), a.status, a.date_path, a.slug, \
     COALESCE(a.thread_url, CASE WHEN p.status = 'published' THEN p.path END) \
     FROM subscriptions s JOIN articles a ON a.id = s.article_id \
     LEFT JOIN pages p ON p.discussion_id = a.id";

#[async_trait]
pub trait SubscriptionReads: Db {
    async fn mail_address(&mut self, id: i64) -> Result<Option<MailAddress>> {
        let sql = format!("SELECT {ADDRESS_COLUMNS} FROM mail_addresses WHERE id = $1");
        self.query(&sql, &[id.into()]).await?.first(address_of)
    }

    /// The address row for `email` (compared lowercased), if it asked for mail.
    async fn mail_address_of(&mut self, email: &str) -> Result<Option<MailAddress>> {
        let sql = format!("SELECT {ADDRESS_COLUMNS} FROM mail_addresses WHERE email = lower($1)");
        self.query(&sql, &[email.into()]).await?.first(address_of)
    }

    async fn subscription(&mut self, id: i64) -> Result<Option<Subscription>> {
        let sql = format!("{SUBSCRIPTION_SELECT} WHERE s.id = $1");
        self.query(&sql, &[id.into()]).await?.first(subscription_of)
    }

    /// What an address follows, newest first.
    async fn subscriptions_of(&mut self, address: i64) -> Result<Vec<Subscription>> {
        let sql = format!(
            "{SUBSCRIPTION_SELECT} WHERE s.address_id = $1 ORDER BY s.created_at DESC, s.id DESC"
        );
        self.query(&sql, &[address.into()]).await?.map(subscription_of)
    }

    /// A reply as its mails tell of it.
    async fn reply_news(&mut self, id: ReplyId) -> Result<Option<ReplyNews>> {
        let sql = format!(
            "SELECT c.id, c.article_id, c.parent_id, c.status, c.author_name,
                    lower(c.author_email), c.body, c.created_at, parent.author_name,
                    c.held_reason, {DISCUSSION_COLUMNS}
               FROM comments c JOIN articles a ON a.id = c.article_id
               LEFT JOIN pages p ON p.discussion_id = a.id
               LEFT JOIN comments parent ON parent.id = c.parent_id
              WHERE c.id = $1"
        );
        self.query(&sql, &[id.into()]).await?.first(|r| {
            let (title, path) = discussion_of(r, 10)?;
            Ok(ReplyNews {
                id: r.id(0)?,
                article_id: r.id(1)?,
                parent_id: r.opt_id(2)?,
                status: r.parsed(3, ReplyStatus::parse)?,
                author_name: r.text(4)?,
                author_email: r.text(5)?,
                body: r.text(6)?,
                created_at: r.int(7)?,
                parent_author: r.opt_text(8)?,
                held_reason: r.text(9)?,
                title,
                path,
            })
        })
    }

    /// The confirmed addresses to tell of a new reply on `article` answering `parent`: those
    /// following the parent's answers first, then those following the article; each address
    /// once.
    async fn recipients(
        &mut self,
        article: ArticleId,
        parent: Option<ReplyId>,
    ) -> Result<Vec<Recipient>> {
        let sql = "SELECT m.id, m.email, m.created_at, s.id, s.created_at, s.reply_id IS NOT NULL
                     FROM subscriptions s JOIN mail_addresses m ON m.id = s.address_id
                    WHERE m.confirmed_at IS NOT NULL
                      AND ((s.reply_id IS NULL AND s.article_id = $1) OR s.reply_id = $2)
                    ORDER BY m.id, s.reply_id IS NULL, s.id";
        let found = self.query(sql, &[article.into(), parent.into()]).await?.map(|r| {
            Ok(Recipient {
                address_id: r.int(0)?,
                email: r.text(1)?,
                address_created_at: r.int(2)?,
                subscription_id: r.int(3)?,
                subscription_created_at: r.int(4)?,
                answered: r.bool(5)?,
            })
        })?;
        let mut once: Vec<Recipient> = Vec::with_capacity(found.len());
        for recipient in found {
            if once.last().is_none_or(|last| last.address_id != recipient.address_id) {
                once.push(recipient);
            }
        }
        Ok(once)
    }

    /// Whether the mail with this key has been sent.
    async fn mail_sent(&mut self, key: &str) -> Result<bool> {
        let sql = "SELECT count(*) FROM mails_sent WHERE key = $1 AND sent_at IS NOT NULL";
        Ok(self.query(sql, &[key.into()]).await?.int()? > 0)
    }

    /// How many mails went to `recipient` since `since` (the hourly limit's count).
    async fn mails_sent_since(&mut self, recipient: &str, since: i64) -> Result<u64> {
        let sql = "SELECT count(*) FROM mails_sent WHERE recipient = $1 AND sent_at >= $2";
        Ok(self.query(sql, &[recipient.into(), since.into()]).await?.int()? as u64)
    }
}

impl<T: Db + ?Sized> SubscriptionReads for T {}

#[async_trait]
pub trait SubscriptionWrites: Tx {
    /// Records that `email` asked to follow the answers to `reply` (or, with `None`, every
    /// reply on `article`), adding the address unconfirmed if it is new. Asking twice changes
    /// nothing.
    async fn subscribe(
        &mut self,
        email: &str,
        article: ArticleId,
        reply: Option<ReplyId>,
        now: i64,
    ) -> Result<()> {
        let sql = "INSERT INTO mail_addresses (email, created_at) VALUES (lower($1), $2)
                   ON CONFLICT (email) DO NOTHING";
        self.execute(sql, &[email.into(), now.into()]).await?;
        let sql = "INSERT INTO subscriptions (address_id, article_id, reply_id, created_at)
                   SELECT id, $2, $3, $4 FROM mail_addresses WHERE email = lower($1)
                   ON CONFLICT DO NOTHING";
        self.execute(sql, &[email.into(), article.into(), reply.into(), now.into()]).await?;
        Ok(())
    }

    /// Marks an address confirmed (once: a second time keeps the first time). `false` if it
    /// is not known.
    async fn confirm_address(&mut self, id: i64, now: i64) -> Result<bool> {
        let sql = "UPDATE mail_addresses SET confirmed_at = COALESCE(confirmed_at, $2)
                    WHERE id = $1 RETURNING id";
        Ok(self.query(sql, &[id.into(), now.into()]).await?.first(|_| Ok(()))?.is_some())
    }

    /// Ends one subscription; `false` if it was already gone.
    async fn unsubscribe(&mut self, id: i64) -> Result<bool> {
        let sql = "DELETE FROM subscriptions WHERE id = $1 RETURNING id";
        Ok(self.query(sql, &[id.into()]).await?.first(|_| Ok(()))?.is_some())
    }

    /// Forgets an address and everything it follows; `false` if it was already gone.
    async fn forget_address(&mut self, id: i64) -> Result<bool> {
        let sql = "DELETE FROM mail_addresses WHERE id = $1 RETURNING id";
        Ok(self.query(sql, &[id.into()]).await?.first(|_| Ok(()))?.is_some())
    }

    /// Forgets the addresses never confirmed that asked before `before`.
    async fn forget_unconfirmed(&mut self, before: i64) -> Result<u64> {
        let sql = "DELETE FROM mail_addresses WHERE confirmed_at IS NULL AND created_at < $1";
        self.execute(sql, &[before.into()]).await
    }

    /// Claims the sending of a mail until `until`; `false` if it was sent, or another
    /// delivery holds it now.
    async fn claim_mail(
        &mut self,
        key: &str,
        recipient: &str,
        now: i64,
        until: i64,
    ) -> Result<bool> {
        let sql = "INSERT INTO mails_sent (key, recipient, claimed_until) VALUES ($1, $2, $4)
                   ON CONFLICT (key) DO UPDATE SET claimed_until = $4
                    WHERE mails_sent.sent_at IS NULL AND mails_sent.claimed_until <= $3
                   RETURNING key";
        let params = [key.into(), recipient.into(), now.into(), until.into()];
        Ok(self.query(sql, &params).await?.first(|_| Ok(()))?.is_some())
    }

    /// Marks a claimed mail sent.
    async fn mail_was_sent(&mut self, key: &str, now: i64) -> Result<()> {
        let sql = "UPDATE mails_sent SET sent_at = $2 WHERE key = $1";
        self.execute(sql, &[key.into(), now.into()]).await?;
        Ok(())
    }

    /// Lets go of a claimed mail that could not be sent yet.
    async fn release_mail(&mut self, key: &str) -> Result<()> {
        let sql = "UPDATE mails_sent SET claimed_until = 0 WHERE key = $1 AND sent_at IS NULL";
        self.execute(sql, &[key.into()]).await?;
        Ok(())
    }

    /// Keeps a reply for an address's digest (once).
    async fn keep_for_digest(&mut self, address: i64, reply: ReplyId, now: i64) -> Result<()> {
        let sql = "INSERT INTO mail_digests (address_id, reply_id, created_at) VALUES ($1, $2, $3)
                   ON CONFLICT DO NOTHING";
        self.execute(sql, &[address.into(), reply.into(), now.into()]).await?;
        Ok(())
    }

    /// Takes the replies kept for the digest of one address whose last hour's mails are
    /// fewer than `limit`, oldest first: (the address, the replies). Taken, they are gone
    /// from the table; [`SubscriptionWrites::keep_for_digest`] puts them back if the digest
    /// cannot be sent.
    async fn take_digest(
        &mut self,
        limit: u64,
        since: i64,
    ) -> Result<Option<(MailAddress, Vec<ReplyId>)>> {
        let sql = format!(
            "SELECT {ADDRESS_COLUMNS} FROM mail_addresses m
              WHERE EXISTS (SELECT 1 FROM mail_digests d WHERE d.address_id = m.id)
                AND (SELECT count(*) FROM mails_sent s
                      WHERE s.recipient = 'a' || m.id AND s.sent_at >= $2) < $1
              ORDER BY m.id LIMIT 1"
        );
        let Some(address) =
            self.query(&sql, &[limit.into(), since.into()]).await?.first(address_of)?
        else {
            return Ok(None);
        };
        let sql = "DELETE FROM mail_digests WHERE address_id = $1 RETURNING reply_id, created_at";
        let mut taken = self
            .query(sql, &[address.id.into()])
            .await?
            .map(|r| Ok((r.int(1)?, r.id::<ReplyId>(0)?)))?;
        taken.sort_unstable();
        Ok(Some((address, taken.into_iter().map(|(_, id)| id).collect())))
    }

    /// Forgets the log of mails sent before `before`, but for the news of a reply made public
    /// (`reply:` and `public:` keys): a reply held again and approved once more, months on,
    /// is still not news, so those go only with their reply (`delete_reply`).
    async fn forget_mails_sent(&mut self, before: i64) -> Result<u64> {
        let sql = "DELETE FROM mails_sent WHERE COALESCE(sent_at, claimed_until) < $1
                     AND key NOT LIKE 'reply:%' AND key NOT LIKE 'public:%'";
        self.execute(sql, &[before.into()]).await
    }
}

impl<T: Tx + ?Sized> SubscriptionWrites for T {}
