//! Staff accounts and sessions: Argon2id password hashes, sessions kept server side (so they
//! survive a restart and work on every node), and slowing down guessed passwords.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};

use crate::domain::{Role, reply::Email, staff::check_password, time};
use crate::store::{NewUser, Session, Store, StoreError, User};

/// Failed sign-ins allowed per account, and per IP, within [`FAILURE_WINDOW`].
pub const ACCOUNT_FAILURES: u64 = 5;
pub const IP_FAILURES: u64 = 20;
pub const FAILURE_WINDOW: i64 = 15 * 60;

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    #[error("{0}")]
    Invalid(String),
    #[error("the email address or password is not right")]
    WrongCredentials,
    /// Too many failed sign-ins: try again after this many seconds.
    #[error("too many failed sign-ins")]
    Throttled(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub fn hash_password(password: &str) -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    let salt = SaltString::encode_b64(&bytes).expect("16 bytes make a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("Argon2id hashes any password")
        .to_string()
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Hashing is CPU-bound: keep it off the async workers.
async fn hashed(password: String) -> String {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .expect("hashing does not panic")
}

async fn verified(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.unwrap_or(false)
}

/// What the cookie holds is never stored: only its SHA-256.
pub fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Creates a staff account after checking its email, name and password.
pub async fn add_user(
    store: &dyn Store,
    email: &str,
    name: &str,
    role: Role,
    password: &str,
) -> Result<User, StaffError> {
    let email = Email::parse(email, 254).map_err(StaffError::Invalid)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(StaffError::Invalid(
            "The name must be one line of at most 100 characters.".into(),
        ));
    }
    check_password(password).map_err(StaffError::Invalid)?;
    let user = NewUser {
        email: email.as_str().to_owned(),
        name: name.to_owned(),
        role,
        password_hash: hashed(password.to_owned()).await,
        created_at: time::now(),
    };
    store.create_user(&user).await.map_err(|e| match e {
        StoreError::Conflict(_) => {
            StaffError::Invalid("An account with this email address exists.".into())
        }
        other => other.into(),
    })
}

/// A new session: the token for the cookie, and what the store keeps.
pub struct SignedIn {
    pub token: String,
    pub session: Session,
    pub user: User,
}

/// Checks a password and opens a session. Guessing is slowed per account and per IP.
pub async fn sign_in(
    store: &dyn Store,
    email: &str,
    password: &str,
    ip: &str,
    lifetime: i64,
) -> Result<SignedIn, StaffError> {
    let now = time::now();
    let account_key = format!("account:{}", email.trim().to_lowercase());
    let ip_key = format!("ip:{ip}");
    let since = now - FAILURE_WINDOW;
    if store.login_failures(&account_key, since).await? >= ACCOUNT_FAILURES
        || store.login_failures(&ip_key, since).await? >= IP_FAILURES
    {
        return Err(StaffError::Throttled(FAILURE_WINDOW));
    }
    let found = store.user_credentials(email.trim()).await?;
    // A missing account costs the same time as a wrong password, so timing tells nothing.
    let hash = found.as_ref().map_or_else(|| DUMMY_HASH.to_owned(), |(_, h)| h.clone());
    let ok = verified(password.to_owned(), hash).await;
    match found {
        Some((user, _)) if ok && !user.disabled => {
            store.clear_login_failures(&account_key, since).await?;
            Ok(open_session(store, user, lifetime, now).await?)
        }
        _ => {
            store.record_login_failure(&account_key, now).await?;
            store.record_login_failure(&ip_key, now).await?;
            Err(StaffError::WrongCredentials)
        }
    }
}

/// A hash of a random password, verified against when the account does not exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
                          1BfVTk3ZRbJJ0DFHgZBU8k7UsGL4DRrTskSNT5ryc5A";

async fn open_session(
    store: &dyn Store,
    user: User,
    lifetime: i64,
    now: i64,
) -> Result<SignedIn, StoreError> {
    let token = random_token();
    let session = Session {
        token_hash: token_hash(&token),
        user_id: user.id,
        csrf_token: random_token(),
        created_at: now,
        expires_at: now + lifetime,
    };
    store.create_session(&session).await?;
    Ok(SignedIn { token, session, user })
}

/// The live session a cookie's token names, with its account.
pub async fn session(
    store: &dyn Store,
    token: &str,
) -> Result<Option<(Session, User)>, StoreError> {
    if token.len() != 64 {
        return Ok(None);
    }
    store.session(&token_hash(token), time::now()).await
}

/// Changes a password after checking the current one. Every session of the account ends; the
/// returned one replaces the caller's.
pub async fn change_password(
    store: &dyn Store,
    user: &User,
    current: &str,
    new: &str,
    lifetime: i64,
) -> Result<SignedIn, StaffError> {
    let (_, hash) =
        store.user_credentials(&user.email).await?.ok_or(StoreError::NotFound("the account"))?;
    if !verified(current.to_owned(), hash).await {
        return Err(StaffError::Invalid("The current password is not right.".into()));
    }
    check_password(new).map_err(StaffError::Invalid)?;
    set_password(store, user, new).await?;
    Ok(open_session(store, user.clone(), lifetime, time::now()).await?)
}

/// Sets a password (ending every session of the account).
pub async fn set_password(store: &dyn Store, user: &User, new: &str) -> Result<(), StaffError> {
    check_password(new).map_err(StaffError::Invalid)?;
    store.set_password(user.id, &hashed(new.to_owned()).await, time::now()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_against_their_hash_only() {
        let hash = hash_password("correct horse battery");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("wrong horse battery", &hash));
        assert!(!verify_password("anything", "not a hash"));
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn tokens_are_stored_as_hashes() {
        let token = random_token();
        assert_eq!(token.len(), 64);
        assert_ne!(token_hash(&token), token);
        assert_eq!(token_hash(&token).len(), 64);
    }
}
