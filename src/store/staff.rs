//! Staff accounts (each also the author record its bylines show), their sessions, and the
//! failed sign-ins that slow guessing down.

use async_trait::async_trait;

use super::{Author, Db, Dialect, Result, Row, StoreError, Tx, dialect_sql};

/// The advisory lock that orders sign-in attempts on PostgreSQL (`signin` in ASCII).
const LOGIN_FAILURES_LOCK: i64 = (1 << 62) | 0x7369_676e_696e;
use crate::domain::reply::Email;
use crate::domain::{Role, UserId};

/// A staff account, with the author record it signs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub author: Author,
    pub email: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: i64,
    pub password_changed_at: i64,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: Email,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    pub created_at: i64,
}

/// A signed-in session. The cookie holds the token; the store keeps only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token_hash: String,
    pub user_id: UserId,
    pub csrf_token: String,
    pub created_at: i64,
    pub expires_at: i64,
}

macro_rules! user_columns {
    () => {
        "u.id, u.email, u.role, u.disabled, u.created_at, u.password_changed_at, \
         au.id, au.name, au.bio, au.photo_url"
    };
}

/// The columns [`user_from_row`] reads, `u` the account and `au` its author.
pub(crate) const USER_COLUMNS: &str = user_columns!();

const USER_BY_ID: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM users u JOIN authors au ON au.id = u.author_id WHERE u.id = $1"
);

const CREDENTIALS: &str = concat!(
    "SELECT ",
    user_columns!(),
    ", u.password_hash FROM users u JOIN authors au ON au.id = u.author_id
      WHERE lower(u.email) = lower($1)"
);

const USERS: &str = concat!(
    "SELECT ",
    user_columns!(),
    " FROM users u JOIN authors au ON au.id = u.author_id ORDER BY au.name, u.id"
);

pub(crate) const SESSION: &str = concat!(
    "SELECT ",
    user_columns!(),
    ", s.token_hash, s.csrf_token, s.created_at, s.expires_at
       FROM sessions s JOIN users u ON u.id = s.user_id JOIN authors au ON au.id = u.author_id
      WHERE s.token_hash = $1 AND s.expires_at > $2 AND NOT u.disabled"
);

pub(crate) fn user_from_row(r: &mut Row) -> Result<User> {
    Ok(User {
        id: r.id(0)?,
        email: r.text(1)?,
        role: r.parsed(2, Role::parse)?,
        disabled: r.bool(3)?,
        created_at: r.int(4)?,
        password_changed_at: r.int(5)?,
        author: Author { id: r.id(6)?, name: r.text(7)?, bio: r.text(8)?, photo: r.text(9)? },
    })
}

/// Reading accounts and sessions, on any connection.
#[async_trait]
pub trait StaffReads: Db {
    async fn user(&mut self, id: UserId) -> Result<Option<User>> {
        self.query(USER_BY_ID, &[id.into()]).await?.first(user_from_row)
    }

    /// An account and its password hash, by email (without regard to case).
    async fn user_credentials(&mut self, email: &str) -> Result<Option<(User, String)>> {
        let rows = self.query(CREDENTIALS, &[email.into()]).await?;
        rows.first(|r| Ok((user_from_row(r)?, r.text(10)?)))
    }

    /// Every account, by name.
    async fn users(&mut self) -> Result<Vec<User>> {
        self.query(USERS, &[]).await?.map(user_from_row)
    }

    /// A live session (not expired at `now`, account not disabled) and its account.
    async fn session(&mut self, token_hash: &str, now: i64) -> Result<Option<(Session, User)>> {
        let rows = self.query(SESSION, &[token_hash.into(), now.into()]).await?;
        rows.first(|r| {
            let user = user_from_row(r)?;
            let session = Session {
                token_hash: r.text(10)?,
                user_id: user.id,
                csrf_token: r.text(11)?,
                created_at: r.int(12)?,
                expires_at: r.int(13)?,
            };
            Ok((session, user))
        })
    }

    /// Failed sign-ins under `key` (an account or an IP) since `since`.
    async fn login_failures(&mut self, key: &str, since: i64) -> Result<u64> {
        let sql = "SELECT count(*) FROM login_failures WHERE key = $1 AND at >= $2";
        Ok(self.query(sql, &[key.into(), since.into()]).await?.int()? as u64)
    }
}

impl<T: Db + ?Sized> StaffReads for T {}

#[async_trait]
pub trait PasswordResetReads: Db {
    /// The account a password reset is for, if it is unused and was made at `since` or later.
    async fn password_reset_user(
        &mut self,
        token_hash: &str,
        since: i64,
    ) -> Result<Option<UserId>> {
        let sql = "SELECT user_id FROM password_resets
                    WHERE token_hash = $1 AND used_at IS NULL AND created_at >= $2";
        self.query(sql, &[token_hash.into(), since.into()]).await?.first(|r| r.id(0))
    }

    /// When the account's newest password reset was made.
    async fn last_password_reset(&mut self, user: UserId) -> Result<Option<i64>> {
        let sql = "SELECT max(created_at) FROM password_resets WHERE user_id = $1";
        self.query(sql, &[user.into()]).await?.first(|r| r.opt_int(0)).map(Option::flatten)
    }
}

impl<T: Db + ?Sized> PasswordResetReads for T {}

#[async_trait]
pub trait PasswordResetWrites: Tx {
    async fn create_password_reset(
        &mut self,
        token_hash: &str,
        user: UserId,
        now: i64,
    ) -> Result<()> {
        let sql =
            "INSERT INTO password_resets (token_hash, user_id, created_at) VALUES ($1, $2, $3)";
        self.execute(sql, &[token_hash.into(), user.into(), now.into()]).await?;
        Ok(())
    }

    /// Uses a password reset made at `since` or later, once: its account, or `None` if it is
    /// unknown, used or too old.
    async fn use_password_reset(
        &mut self,
        token_hash: &str,
        since: i64,
        now: i64,
    ) -> Result<Option<UserId>> {
        let sql = "UPDATE password_resets SET used_at = $3
                    WHERE token_hash = $1 AND used_at IS NULL AND created_at >= $2
                   RETURNING user_id";
        let params = [token_hash.into(), since.into(), now.into()];
        self.query(sql, &params).await?.first(|r| r.id(0))
    }

    /// Forgets the password resets made before `before`.
    async fn forget_password_resets(&mut self, before: i64) -> Result<u64> {
        self.execute("DELETE FROM password_resets WHERE created_at < $1", &[before.into()]).await
    }
}

impl<T: Tx + ?Sized> PasswordResetWrites for T {}

/// Writing accounts and sessions, in a unit of work.
#[async_trait]
pub trait StaffWrites: Tx {
    /// Creates a staff account and its author record. [`StoreError::Conflict`] if the email
    /// (compared without regard to case) has an account.
    async fn create_user(&mut self, user: &NewUser) -> Result<User> {
        let taken = "SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($1))";
        if self.query(taken, &[user.email.as_str().into()]).await?.bool()? {
            return Err(StoreError::Conflict("the email address"));
        }
        // An author record of that name without an account (say, from the command line)
        // becomes this account's; otherwise a new one is made.
        let unclaimed = "SELECT au.id FROM authors au WHERE au.name = $1
                            AND NOT EXISTS (SELECT 1 FROM users u WHERE u.author_id = au.id)
                          ORDER BY au.id LIMIT 1";
        let name = user.name.as_str();
        let author: Option<i64> =
            self.query(unclaimed, &[name.into()]).await?.first(|r| r.int(0))?;
        let author = match author {
            Some(id) => id,
            None => {
                let insert = "INSERT INTO authors (name, created_at) VALUES ($1, $2) RETURNING id";
                self.query(insert, &[name.into(), user.created_at.into()]).await?.int()?
            }
        };
        let insert = "INSERT INTO users (author_id, email, role, password_hash, created_at,
                          password_changed_at)
                      VALUES ($1, $2, $3, $4, $5, $5) RETURNING id";
        let params = [
            author.into(),
            user.email.as_str().into(),
            user.role.as_str().into(),
            user.password_hash.as_str().into(),
            user.created_at.into(),
        ];
        let id = UserId(self.query(insert, &params).await?.int()?);
        self.user(id).await?.ok_or(StoreError::NotFound("the new account"))
    }

    /// Sets role and disabled; disabling signs the account out everywhere.
    async fn update_user(&mut self, id: UserId, role: Role, disabled: bool) -> Result<bool> {
        let sql = "UPDATE users SET role = $2, disabled = $3 WHERE id = $1";
        let changed =
            self.execute(sql, &[id.into(), role.as_str().into(), disabled.into()]).await?;
        if disabled {
            self.execute("DELETE FROM sessions WHERE user_id = $1", &[id.into()]).await?;
        }
        Ok(changed > 0)
    }

    /// Sets a new password hash and ends every session of the account.
    async fn set_password(&mut self, id: UserId, password_hash: &str, at: i64) -> Result<bool> {
        let sql = "UPDATE users SET password_hash = $2, password_changed_at = $3 WHERE id = $1";
        let changed = self.execute(sql, &[id.into(), password_hash.into(), at.into()]).await?;
        self.execute("DELETE FROM sessions WHERE user_id = $1", &[id.into()]).await?;
        // Every other reset link of the account ends with it.
        self.execute("DELETE FROM password_resets WHERE user_id = $1", &[id.into()]).await?;
        Ok(changed > 0)
    }

    async fn create_session(&mut self, s: &Session) -> Result<()> {
        let sql = "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at)
                   VALUES ($1, $2, $3, $4, $5)";
        let params = [
            s.token_hash.as_str().into(),
            s.user_id.into(),
            s.csrf_token.as_str().into(),
            s.created_at.into(),
            s.expires_at.into(),
        ];
        self.execute(sql, &params).await?;
        Ok(())
    }

    async fn delete_session(&mut self, token_hash: &str) -> Result<()> {
        self.execute("DELETE FROM sessions WHERE token_hash = $1", &[token_hash.into()]).await?;
        Ok(())
    }

    /// Forgets sessions that expired before `now`.
    async fn delete_expired_sessions(&mut self, now: i64) -> Result<u64> {
        self.execute("DELETE FROM sessions WHERE expires_at <= $1", &[now.into()]).await
    }

    /// Makes the unit of work the only one counting and recording sign-in failures until it
    /// ends, so that concurrent attempts are counted one after the other. (SQLite's units of
    /// work already run one at a time.)
    async fn lock_login_failures(&mut self) -> Result<()> {
        if self.dialect() == Dialect::Postgres {
            self.query(
                "SELECT pg_advisory_xact_lock(hashtextextended(current_schema(), $1))",
                &[LOGIN_FAILURES_LOCK.into()],
            )
            .await?;
        }
        Ok(())
    }

    /// Records a failure under `key`; returns its id.
    async fn record_login_failure(&mut self, key: &str, at: i64) -> Result<i64> {
        let sql = "INSERT INTO login_failures (key, at) VALUES ($1, $2) RETURNING id";
        self.query(sql, &[key.into(), at.into()]).await?.int()
    }

    /// Forgets the failures with these ids (recorded for an attempt that succeeded).
    async fn forget_login_failures(&mut self, ids: &[i64]) -> Result<()> {
        let sql = dialect_sql(
            self,
            "DELETE FROM login_failures WHERE id IN (SELECT value FROM json_each($1))",
            "DELETE FROM login_failures WHERE id = ANY($1)",
        );
        self.execute(sql, &[ids.into()]).await?;
        Ok(())
    }

    /// Forgets failures under `key`, and every failure older than `before`.
    async fn clear_login_failures(&mut self, key: &str, before: i64) -> Result<()> {
        let sql = "DELETE FROM login_failures WHERE key = $1 OR at < $2";
        self.execute(sql, &[key.into(), before.into()]).await?;
        Ok(())
    }
}

impl<T: Tx + ?Sized> StaffWrites for T {}
