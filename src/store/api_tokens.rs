//! Personal access tokens for the staff API. Only each token's SHA-256 is kept: the token
//! itself is shown once, when it is made.

use async_trait::async_trait;

use super::staff::user_from_row;
use super::{Db, Result, Row, StoreError, Tx, User};
use crate::domain::UserId;

/// A token as its owner's account page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: UserId,
    pub name: String,
    /// Comma-separated scopes (`domain::staff::Scope`).
    pub scopes: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// A token to store.
#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub user_id: UserId,
    pub name: String,
    pub token_hash: String,
    pub scopes: String,
    pub created_at: i64,
}

const TOKEN_COLUMNS: &str = "t.id, t.user_id, t.name, t.scopes, t.created_at, t.last_used_at";

fn token_from_row(r: &mut Row, at: usize) -> Result<ApiToken> {
    Ok(ApiToken {
        id: r.int(at)?,
        user_id: r.id(at + 1)?,
        name: r.text(at + 2)?,
        scopes: r.text(at + 3)?,
        created_at: r.int(at + 4)?,
        last_used_at: r.opt_int(at + 5)?,
    })
}

#[async_trait]
pub trait ApiTokenReads: Db {
    /// The tokens of an account, the newest first.
    async fn api_tokens(&mut self, user: UserId) -> Result<Vec<ApiToken>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t WHERE t.user_id = $1
              ORDER BY t.created_at DESC, t.id DESC"
        );
        self.query(&sql, &[user.into()]).await?.map(|r| token_from_row(r, 0))
    }

    /// The token with this hash and its account, unless the account is disabled.
    async fn api_token(&mut self, token_hash: &str) -> Result<Option<(ApiToken, User)>> {
        let sql = format!(
            "SELECT {}, {TOKEN_COLUMNS} FROM api_tokens t
               JOIN users u ON u.id = t.user_id JOIN authors au ON au.id = u.author_id
              WHERE t.token_hash = $1 AND NOT u.disabled",
            super::staff::USER_COLUMNS
        );
        let rows = self.query(&sql, &[token_hash.into()]).await?;
        rows.first(|r| {
            let user = user_from_row(r)?;
            Ok((token_from_row(r, 10)?, user))
        })
    }
}

impl<T: Db + ?Sized> ApiTokenReads for T {}

#[async_trait]
pub trait ApiTokenWrites: Tx {
    async fn insert_api_token(&mut self, token: &NewApiToken) -> Result<i64> {
        let sql = "INSERT INTO api_tokens (user_id, name, token_hash, scopes, created_at)
                   VALUES ($1, $2, $3, $4, $5) RETURNING id";
        let params = [
            token.user_id.into(),
            token.name.as_str().into(),
            token.token_hash.as_str().into(),
            token.scopes.as_str().into(),
            token.created_at.into(),
        ];
        self.query(sql, &params).await?.first(|r| r.int(0))?.ok_or(StoreError::NotFound("token"))
    }

    /// Revokes one of `user`'s tokens; false when they have no such token.
    async fn delete_api_token(&mut self, user: UserId, id: i64) -> Result<bool> {
        let sql = "DELETE FROM api_tokens WHERE id = $1 AND user_id = $2";
        Ok(self.execute(sql, &[id.into(), user.into()]).await? > 0)
    }

    /// Notes a token's use at `now`.
    async fn touch_api_token(&mut self, id: i64, now: i64) -> Result<()> {
        let sql = "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1";
        self.execute(sql, &[id.into(), now.into()]).await?;
        Ok(())
    }
}

impl<T: Tx + ?Sized> ApiTokenWrites for T {}
