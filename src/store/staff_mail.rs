//! What staff are mailed: each account's choices, who moderates an article's held replies,
//! the hourly digests, and the held-reply mails' one-use links.

use async_trait::async_trait;

use super::{Db, Result, Tx};
use crate::domain::{ArticleId, ReplyId, UserId};

/// How a member of staff hears of held replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeldMail {
    Each,
    Hourly,
    None,
}

impl HeldMail {
    pub const ALL: [HeldMail; 3] = [Self::Each, Self::Hourly, Self::None];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Each => "each",
            Self::Hourly => "hourly",
            Self::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// An account's choices: held replies, and whether new public replies on its own articles
/// are mailed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaffMailChoice {
    pub held: HeldMail,
    pub replies: bool,
}

impl Default for StaffMailChoice {
    fn default() -> Self {
        Self { held: HeldMail::Each, replies: false }
    }
}

/// A member of staff to mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffRecipient {
    pub user_id: UserId,
    pub email: String,
    pub held: HeldMail,
}

/// Who may moderate `article` and is not disabled: editors and admins, and the article's own
/// authors. `$1` the article.
const MODERATORS: &str =
    "SELECT u.id, u.email, COALESCE(c.held, 'each'), COALESCE(c.replies, 'none')
       FROM users u LEFT JOIN staff_mail_choices c ON c.user_id = u.id
      WHERE NOT u.disabled
        AND (u.role IN ('admin', 'editor')
             OR EXISTS (SELECT 1 FROM article_authors aa
                         WHERE aa.article_id = $1 AND aa.author_id = u.author_id))
      ORDER BY u.id";

#[async_trait]
pub trait StaffMailReads: Db {
    async fn staff_mail_choice(&mut self, user: UserId) -> Result<StaffMailChoice> {
        let sql = "SELECT held, replies FROM staff_mail_choices WHERE user_id = $1";
        let found = self.query(sql, &[user.into()]).await?.first(|r| {
            Ok(StaffMailChoice {
                held: HeldMail::parse(&r.text(0)?).unwrap_or(HeldMail::Each),
                replies: r.text(1)? == "each",
            })
        })?;
        Ok(found.unwrap_or_default())
    }

    /// Those to tell of a held reply on `article`, with how they want it.
    async fn moderators_to_tell(&mut self, article: ArticleId) -> Result<Vec<StaffRecipient>> {
        let rows = self.query(MODERATORS, &[article.into()]).await?.map(|r| {
            Ok(StaffRecipient {
                user_id: r.id(0)?,
                email: r.text(1)?,
                held: HeldMail::parse(&r.text(2)?).unwrap_or(HeldMail::Each),
            })
        })?;
        Ok(rows.into_iter().filter(|r| r.held != HeldMail::None).collect())
    }

    /// The article's own authors (with accounts) who want its new public replies mailed.
    async fn authors_to_tell(&mut self, article: ArticleId) -> Result<Vec<StaffRecipient>> {
        let sql = "SELECT u.id, u.email FROM users u
                     JOIN staff_mail_choices c ON c.user_id = u.id AND c.replies = 'each'
                    WHERE NOT u.disabled AND EXISTS (SELECT 1 FROM article_authors aa
                            WHERE aa.article_id = $1 AND aa.author_id = u.author_id)
                    ORDER BY u.id";
        self.query(sql, &[article.into()]).await?.map(|r| {
            Ok(StaffRecipient { user_id: r.id(0)?, email: r.text(1)?, held: HeldMail::None })
        })
    }
}

impl<T: Db + ?Sized> StaffMailReads for T {}

#[async_trait]
pub trait StaffMailWrites: Tx {
    async fn set_staff_mail_choice(&mut self, user: UserId, choice: StaffMailChoice) -> Result<()> {
        let sql = "INSERT INTO staff_mail_choices (user_id, held, replies) VALUES ($1, $2, $3)
                   ON CONFLICT (user_id) DO UPDATE SET held = $2, replies = $3";
        let replies = if choice.replies { "each" } else { "none" };
        self.execute(sql, &[user.into(), choice.held.as_str().into(), replies.into()]).await?;
        Ok(())
    }

    /// Marks a moderation link used; `false` if it already was.
    async fn use_moderation_link(&mut self, signature: &str, now: i64) -> Result<bool> {
        let sql = "INSERT INTO moderation_links_used (signature, used_at) VALUES ($1, $2)
                   ON CONFLICT (signature) DO NOTHING";
        Ok(self.execute(sql, &[signature.into(), now.into()]).await? > 0)
    }

    /// Forgets the used links older than `before` (they have expired by then).
    async fn forget_moderation_links(&mut self, before: i64) -> Result<u64> {
        self.execute("DELETE FROM moderation_links_used WHERE used_at < $1", &[before.into()]).await
    }

    async fn keep_for_staff_digest(
        &mut self,
        user: UserId,
        reply: ReplyId,
        now: i64,
    ) -> Result<()> {
        let sql = "INSERT INTO staff_digests (user_id, reply_id, created_at) VALUES ($1, $2, $3)
                   ON CONFLICT DO NOTHING";
        self.execute(sql, &[user.into(), reply.into(), now.into()]).await?;
        Ok(())
    }

    /// Takes the held replies of one moderator whose oldest waiting one was kept at `due` or
    /// earlier, oldest first; gone from the table once taken.
    async fn take_staff_digest(&mut self, due: i64) -> Result<Option<(UserId, Vec<ReplyId>)>> {
        let sql = "SELECT user_id FROM staff_digests GROUP BY user_id
                   HAVING min(created_at) <= $1 ORDER BY user_id LIMIT 1";
        let Some(user) = self.query(sql, &[due.into()]).await?.first(|r| r.id::<UserId>(0))? else {
            return Ok(None);
        };
        let sql = "DELETE FROM staff_digests WHERE user_id = $1 RETURNING reply_id, created_at";
        let mut taken =
            self.query(sql, &[user.into()]).await?.map(|r| Ok((r.int(1)?, r.id::<ReplyId>(0)?)))?;
        taken.sort_unstable();
        Ok(Some((user, taken.into_iter().map(|(_, id)| id).collect())))
    }
}

impl<T: Tx + ?Sized> StaffMailWrites for T {}
