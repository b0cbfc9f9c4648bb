//! Who is asking: a personal access token in `Authorization: Bearer …`, and nothing else.
//! Cookies are never read here, so no page of another site can make a signed-in browser
//! act through the API (there is no CSRF path); and tokens are never read from cookies.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;

use super::ApiError;
use crate::domain::UserId;
use crate::domain::staff::TokenScope;
use crate::services::api_tokens;
use crate::store::User;
use crate::web::AppState;

/// A staff member, by their token, with what the token allows.
pub struct ApiStaff {
    pub user: User,
    pub scopes: Vec<TokenScope>,
}

impl FromRequestParts<AppState> for ApiStaff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let bearer = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        let Some(token) = bearer else {
            return Err(ApiError::Unauthorized(
                "This needs a personal access token: make one on your account page in the \
                 newsroom and send it as `Authorization: Bearer byline_…`."
                    .into(),
            ));
        };
        match api_tokens::authenticate(&state.services, token).await? {
            Some((user, scopes)) => Ok(Self { user, scopes }),
            None => Err(ApiError::Unauthorized(
                "This token is not valid: it was revoked, mistyped, or its account is \
                 disabled."
                    .into(),
            )),
        }
    }
}

impl ApiStaff {
    /// Refuses unless the token has `scope`.
    pub fn needs(&self, scope: TokenScope) -> Result<(), ApiError> {
        if self.scopes.contains(&scope) {
            return Ok(());
        }
        Err(ApiError::Forbidden {
            code: "missing_scope",
            detail: format!(
                "This token may not do that: it needs the “{}” scope ({}).",
                scope.label(),
                scope.as_str()
            ),
        })
    }

    pub fn has(&self, scope: TokenScope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// Each account's writes through the API in the last minute, on this node: past
/// `api_writes_per_minute`, a `429` with `Retry-After`.
#[derive(Default)]
pub struct WriteLimiter {
    recent: Mutex<HashMap<UserId, VecDeque<i64>>>,
}

impl WriteLimiter {
    /// Counts a write by `user` at `now`, or says how long to wait.
    pub fn check(&self, user: UserId, now: i64, per_minute: u64) -> Result<(), ApiError> {
        if per_minute == 0 {
            return Ok(());
        }
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        // Forget accounts idle for a minute, so the map holds only the busy ones.
        recent.retain(|_, times| times.back().is_some_and(|t| now - t < 60));
        let times = recent.entry(user).or_default();
        while times.front().is_some_and(|t| now - t >= 60) {
            times.pop_front();
        }
        if times.len() as u64 >= per_minute {
            let retry_after = times.front().map_or(60, |first| 60 - (now - first)).max(1);
            return Err(ApiError::RateLimited {
                retry_after,
                detail: format!(
                    "This account has made {per_minute} changes through the API in the last \
                     minute. Wait {retry_after} seconds, then try again."
                ),
            });
        }
        times.push_back(now);
        Ok(())
    }
}

/// Adds the bearer scheme to the description, for the staff's routes.
pub struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A personal access token from the newsroom's account page: \
                         `byline_` and 64 hex digits.",
                    ))
                    .build(),
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_counted_per_account_and_minute() {
        let limiter = WriteLimiter::default();
        let (a, b) = (UserId(1), UserId(2));
        for _ in 0..3 {
            limiter.check(a, 100, 3).unwrap();
        }
        let Err(ApiError::RateLimited { retry_after, .. }) = limiter.check(a, 110, 3) else {
            panic!("the fourth write in a minute is refused");
        };
        assert_eq!(retry_after, 50);
        limiter.check(b, 110, 3).unwrap();
        limiter.check(a, 160, 3).unwrap();
        limiter.check(a, 160, 0).unwrap();
    }
}
