//! Personal access tokens: made on the account page (shown once, kept as a SHA-256), scoped,
//! revocable, and noted when used. A token acts as its account, through the same services
//! as the newsroom's pages, so it can do no more than the account's role allows.

use super::Services;
use super::staff::{StaffError, token_hash};
use crate::domain::FieldError;
use crate::domain::staff::TokenScope;
use crate::store::{ApiToken, ApiTokenReads, ApiTokenWrites, NewApiToken, StoreError, User};

/// What every token starts with, so that secret scanners (and people) know one when they
/// see it.
pub const PREFIX: &str = "byline_";

/// How often a token's last use is written down: a busy integration writes it once a minute,
/// not once a request.
const TOUCH_EVERY: i64 = 60;

/// A token that was just made: the token itself (shown once) and its row.
pub struct Made {
    pub token: String,
    pub row: ApiToken,
}

/// An account's tokens, the newest first.
pub async fn tokens(services: &Services, user: &User) -> Result<Vec<ApiToken>, StoreError> {
    let id = user.id;
    services.store.read(move |db| Box::pin(async move { db.api_tokens(id).await })).await
}

/// Makes a token for `user` with a name and scopes.
pub async fn create(
    services: &Services,
    user: &User,
    name: &str,
    scopes: &[TokenScope],
) -> Result<Made, StaffError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(StaffError::Invalid(FieldError::new(
            "token_name",
            "Name the token (one line, at most 100 characters): what will use it?",
        )));
    }
    let token = format!("{PREFIX}{}", crate::domain::signing::new_secret());
    let new = NewApiToken {
        user_id: user.id,
        name: name.to_owned(),
        token_hash: token_hash(&token),
        scopes: TokenScope::join(scopes),
        created_at: services.clock.now(),
    };
    let staff = user.id.get();
    let row = services
        .commit(move |unit| {
            Box::pin(async move {
                let id = unit.insert_api_token(&new).await?;
                Ok::<_, StaffError>(ApiToken {
                    id,
                    user_id: new.user_id,
                    name: new.name,
                    scopes: new.scopes,
                    created_at: new.created_at,
                    last_used_at: None,
                })
            })
        })
        .await?;
    tracing::info!(staff, token = row.id, "made an API token");
    Ok(Made { token, row })
}

/// Revokes one of `user`'s tokens.
pub async fn revoke(services: &Services, user: &User, id: i64) -> Result<(), StaffError> {
    let user_id = user.id;
    let gone = services
        .commit(move |unit| Box::pin(async move { unit.delete_api_token(user_id, id).await }))
        .await?;
    if !gone {
        return Err(StaffError::NotFound);
    }
    tracing::info!(staff = user_id.get(), token = id, "revoked an API token");
    Ok(())
}

/// A token's account and scopes, if the token is live (and its account enabled). Its last use
/// is noted, at most once a minute.
pub async fn authenticate(
    services: &Services,
    token: &str,
) -> Result<Option<(User, Vec<TokenScope>)>, StoreError> {
    let Some(secret) = token.strip_prefix(PREFIX) else { return Ok(None) };
    if secret.len() != 64 {
        return Ok(None);
    }
    let hash = token_hash(token);
    let found = services.store.read(move |db| Box::pin(async move { db.api_token(&hash).await }));
    let Some((row, user)) = found.await? else { return Ok(None) };
    let now = services.clock.now();
    if row.last_used_at.is_none_or(|at| now - at >= TOUCH_EVERY) {
        let id = row.id;
        let noted = services
            .store
            .write(move |tx| Box::pin(async move { tx.touch_api_token(id, now).await }))
            .await;
        if let Err(e) = noted {
            // The request goes on: the last use is a courtesy, not a check.
            tracing::warn!(error = %e, "cannot note an API token's use");
        }
    }
    Ok(Some((user, TokenScope::split(&row.scopes))))
}
