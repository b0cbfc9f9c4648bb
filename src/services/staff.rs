//! Staff accounts and sessions: Argon2id password hashes, sessions kept server side (so they
//! survive a restart and work on every node), slowing down guessed passwords, and what admins
//! may do to accounts.

use std::sync::{Arc, OnceLock};

use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use super::Services;
pub use super::passwords::{hash_password, verify_password};
use crate::domain::signing::hex;
use crate::domain::{FieldError, Role, UserId, reply::Email, staff::check_password};
use crate::store::{ArticleWrites, NewUser, Session, StaffReads, StaffWrites, StoreError, User};

/// Failed password checks allowed within [`FAILURE_WINDOW`]: for one account from one
/// address; from one address for any accounts; and for one account from all addresses, past
/// which only an address that has not failed on the account may still try (so an attacker
/// spread over many addresses is slowed to one guess an address, while the account's owner
/// still signs in).
pub const PAIR_FAILURES: u64 = 5;
pub const IP_FAILURES: u64 = 20;
pub const ACCOUNT_FAILURES: u64 = 10;
pub const FAILURE_WINDOW: i64 = 15 * 60;

#[derive(Debug, thiserror::Error)]
pub enum StaffError {
    /// A field the person must correct.
    #[error("{}", .0.message)]
    Invalid(FieldError),
    #[error("the email address or password is not right")]
    WrongCredentials,
    /// Too many failed sign-ins: try again after this many seconds.
    #[error("too many failed sign-ins")]
    Throttled(i64),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("no such account")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: &'static str, message: impl Into<String>) -> StaffError {
    StaffError::Invalid(FieldError::new(field, message))
}

/// Argon2id takes 19 MiB for each hash it computes: a crowd of sign-ins computing at once
/// would take gigabytes. At most one hash a core runs; the others wait their turn (within the
/// request's time limit).
fn hashing_turns() -> Arc<Semaphore> {
    static TURNS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    TURNS
        .get_or_init(|| {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            Arc::new(Semaphore::new(cores.min(MAX_HASHES_AT_ONCE)))
        })
        .clone()
}

const MAX_HASHES_AT_ONCE: usize = 4;

/// Runs `work` (a hash) on a blocking thread in its turn. The turn goes with the work, so a
/// request given up while its hash runs still holds the turn until the hash is done.
async fn hashing<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let turn = hashing_turns().acquire_owned().await.ok()?;
    tokio::task::spawn_blocking(move || {
        let _turn = turn;
        work()
    })
    .await
    .ok()
}

/// Hashing is CPU-bound: keep it off the async workers (and out of any transaction).
async fn hashed(password: String) -> String {
    hashing(move || hash_password(&password)).await.expect("hashing does not panic")
}

async fn verified(password: String, hash: String) -> bool {
    hashing(move || verify_password(&password, &hash)).await.unwrap_or(false)
}

/// What the cookie holds is never stored: only its SHA-256.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn random_token() -> String {
    crate::domain::signing::new_secret()
}

fn check_name(name: &str) -> Result<String, StaffError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(invalid("name", "The name must be one line of at most 100 characters."));
    }
    Ok(name.to_owned())
}

/// Creates a staff account after checking its email, name and password.
pub async fn add_user(
    services: &Services,
    email: &str,
    name: &str,
    role: Role,
    password: &str,
) -> Result<User, StaffError> {
    let email = Email::parse(email, 254).map_err(|m| invalid("email", m))?;
    let name = check_name(name)?;
    check_password(password).map_err(|m| invalid("password", m))?;
    let user = NewUser {
        email,
        name,
        role,
        password_hash: hashed(password.to_owned()).await,
        created_at: services.clock.now(),
    };
    services
        .commit(move |unit| Box::pin(async move { Ok(unit.create_user(&user).await?) }))
        .await
        .map_err(|e| match e {
            StaffError::Store(StoreError::Conflict(_)) => {
                invalid("email", "An account with this email address exists.")
            }
            other => other,
        })
}

/// Every account, by name.
pub async fn users(services: &Services) -> Result<Vec<User>, StoreError> {
    services.store.read(|db| db.users()).await
}

/// A new session: the token for the cookie, and what the store keeps.
pub struct SignedIn {
    pub token: String,
    pub session: Session,
    pub user: User,
}

fn new_session(user: &User, lifetime: i64, now: i64) -> (String, Session) {
    let token = random_token();
    let session = Session {
        token_hash: token_hash(&token),
        user_id: user.id,
        csrf_token: random_token(),
        created_at: now,
        expires_at: now + lifetime,
    };
    (token, session)
}

/// A password check about to be made, counted as a failure until it succeeds: the keys it is
/// counted under, and the failures recorded for it.
struct Attempt {
    pair: String,
    failures: Vec<i64>,
}

/// Counts a password check before it is made, in one unit of work that no other attempt runs
/// beside, so that however many arrive at once no more than the limits are checked.
async fn begin_attempt(services: &Services, email: &str, ip: &str) -> Result<Attempt, StaffError> {
    let now = services.clock.now();
    let since = now - FAILURE_WINDOW;
    let email = email.trim().to_lowercase();
    let keys = [format!("pair:{ip} {email}"), format!("ip:{ip}"), format!("account:{email}")];
    let attempt = services
        .commit(move |unit| {
            Box::pin(async move {
                unit.lock_login_failures().await?;
                let mut counts = [0; 3];
                for (count, key) in counts.iter_mut().zip(&keys) {
                    *count = unit.login_failures(key, since).await?;
                }
                let [pair, by_ip, account] = counts;
                if pair >= PAIR_FAILURES
                    || by_ip >= IP_FAILURES
                    || (account >= ACCOUNT_FAILURES && pair > 0)
                {
                    return Err(StaffError::Throttled(FAILURE_WINDOW));
                }
                let mut failures = Vec::new();
                for key in &keys {
                    failures.push(unit.record_login_failure(key, now).await?);
                }
                let [pair, ..] = keys;
                Ok(Attempt { pair, failures })
            })
        })
        .await;
    if let Err(StaffError::Throttled(_)) = &attempt {
        tracing::warn!(ip, "password check refused: too many failures");
    }
    attempt
}

/// The password was right: its attempt and this address's earlier failures on the account are
/// forgotten (and failures older than the window, everyone's).
async fn succeeded(unit: &mut super::UnitOfWork<'_>, attempt: &Attempt) -> Result<(), StoreError> {
    unit.forget_login_failures(&attempt.failures).await?;
    let before = unit.now() - FAILURE_WINDOW;
    unit.clear_login_failures(&attempt.pair, before).await
}

/// Checks a password and opens a session. Guessing is slowed per account and address, per
/// address, and per account (see [`PAIR_FAILURES`]); `ip` is the client's address.
pub async fn sign_in(
    services: &Services,
    email: &str,
    password: &str,
    ip: &str,
) -> Result<SignedIn, StaffError> {
    let attempt = begin_attempt(services, email, ip).await?;
    let found = {
        let email = email.trim().to_owned();
        services.store.read(move |db| Box::pin(async move { db.user_credentials(&email).await }))
    };
    let found = found.await?;
    // A missing account costs the same time as a wrong password, so timing tells nothing.
    let hash = found.as_ref().map_or_else(|| DUMMY_HASH.to_owned(), |(_, h)| h.clone());
    let ok = verified(password.to_owned(), hash).await;
    match found {
        Some((user, _)) if ok && !user.disabled => {
            let lifetime = services.config.session_seconds;
            let (token, session) = new_session(&user, lifetime, services.clock.now());
            let kept = session.clone();
            services
                .commit(move |unit| {
                    Box::pin(async move {
                        succeeded(unit, &attempt).await?;
                        unit.create_session(&kept).await?;
                        Ok::<_, StoreError>(())
                    })
                })
                .await?;
            tracing::info!(user = user.id.get(), ip, "signed in");
            Ok(SignedIn { token, session, user })
        }
        _ => {
            tracing::warn!(ip, "failed sign-in");
            Err(StaffError::WrongCredentials)
        }
    }
}

/// A hash of a random password, verified against when the account does not exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$\
                          1BfVTk3ZRbJJ0DFHgZBU8k7UsGL4DRrTskSNT5ryc5A";

/// The live session a cookie's token names, with its account.
pub async fn session(
    services: &Services,
    token: &str,
) -> Result<Option<(Session, User)>, StoreError> {
    if token.len() != 64 {
        return Ok(None);
    }
    let (hash, now) = (token_hash(token), services.clock.now());
    services.store.read(move |db| Box::pin(async move { db.session(&hash, now).await })).await
}

/// Ends a session.
pub async fn sign_out(services: &Services, session: &Session) -> Result<(), StoreError> {
    let hash = session.token_hash.clone();
    services.commit(move |unit| Box::pin(async move { unit.delete_session(&hash).await })).await
}

/// Changes a password after checking the current one. Every session of the account ends; the
/// returned one replaces the caller's.
pub async fn change_password(
    services: &Services,
    user: &User,
    current: &str,
    new: &str,
    again: &str,
    ip: &str,
) -> Result<SignedIn, StaffError> {
    if new != again {
        return Err(invalid("new", "The two new passwords differ."));
    }
    check_password(new).map_err(|m| invalid("new", m))?;
    // A stolen session must not be a way to guess the password behind it.
    let attempt = begin_attempt(services, &user.email, ip).await?;
    let email = user.email.clone();
    let credentials =
        services.store.read(move |db| Box::pin(async move { db.user_credentials(&email).await }));
    let (_, hash) = credentials.await?.ok_or(StaffError::NotFound)?;
    if !verified(current.to_owned(), hash).await {
        tracing::warn!(user = user.id.get(), ip, "wrong current password");
        return Err(invalid("current", "The current password is not right."));
    }
    let hash = hashed(new.to_owned()).await;
    let now = services.clock.now();
    let (token, session) = new_session(user, services.config.session_seconds, now);
    let (id, kept) = (user.id, session.clone());
    services
        .commit(move |unit| {
            Box::pin(async move {
                succeeded(unit, &attempt).await?;
                unit.set_password(id, &hash, now).await?;
                unit.create_session(&kept).await?;
                Ok::<_, StoreError>(())
            })
        })
        .await?;
    Ok(SignedIn { token, session, user: user.clone() })
}

/// What an admin changes on an account.
#[derive(Debug, Clone)]
pub struct AccountChange {
    pub role: Role,
    pub disabled: bool,
    /// A new password for someone who forgot theirs; it signs them out everywhere.
    pub password: Option<String>,
}

/// An admin's change to an account, in one unit of work. An admin cannot lock themselves out.
pub async fn update_account(
    services: &Services,
    admin: &User,
    id: UserId,
    change: AccountChange,
) -> Result<(), StaffError> {
    let (staff, change_log) = (admin.id.get(), (change.role, change.disabled));
    if !admin.role.manages_users() {
        return Err(StaffError::Forbidden("Only admins manage staff accounts and settings."));
    }
    if id == admin.id && (change.disabled || change.role != Role::Admin) {
        return Err(invalid(
            "role",
            "You cannot disable your own account or take away your own admin role.",
        ));
    }
    let password = match change.password.as_deref().filter(|p| !p.is_empty()) {
        Some(password) => {
            check_password(password).map_err(|m| invalid("password", m))?;
            Some(hashed(password.to_owned()).await)
        }
        None => None,
    };
    let now = services.clock.now();
    services
        .commit(move |unit| {
            Box::pin(async move {
                if !unit.update_user(id, change.role, change.disabled).await? {
                    return Err(StaffError::NotFound);
                }
                if let Some(hash) = &password {
                    unit.set_password(id, hash, now).await?;
                }
                Ok(())
            })
        })
        .await
        .inspect(|_| {
            let (role, disabled) = (change_log.0.as_str(), change_log.1);
            tracing::info!(staff, account = id.get(), role, disabled, "changed an account");
        })
}

/// The name, bio and photo on a staff member's bylines and author page. Bylines show on
/// every page, so the whole site changes.
pub async fn update_profile(
    services: &Services,
    user: &User,
    name: &str,
    bio: &str,
    photo: &str,
) -> Result<(), StaffError> {
    let name = check_name(name)?;
    let bio = bio.trim().to_owned();
    if bio.chars().count() > 2000 {
        return Err(invalid("bio", "The bio must be at most 2,000 characters."));
    }
    let photo = check_photo(photo)?;
    let author = user.author.id;
    services
        .commit(move |unit| {
            Box::pin(async move {
                unit.update_author(author, &name, &bio, &photo).await?;
                unit.site_changed();
                Ok(())
            })
        })
        .await
}

/// An author's photo: an image of the library (`/media/12`, as "Use" gives it), or the
/// `http(s)` address of one elsewhere; empty for none.
fn check_photo(raw: &str) -> Result<String, StaffError> {
    use crate::domain::media;
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(String::new());
    }
    if let Some(id) = media::library_id(raw) {
        return Ok(media::library_path(id));
    }
    match crate::domain::reply::Website::parse_optional(raw, 2000) {
        Ok(Some(url)) => Ok(url.as_str().to_owned()),
        _ => Err(invalid(
            "photo",
            "The photo: an image of the library (such as /media/12) or an address starting \
             with https://.",
        )),
    }
}

/// How long a password reset link works (seconds).
pub const RESET_SECONDS: i64 = 3600;
/// A new reset link for the same account is mailed at most this often (seconds): the form
/// must not be a way to flood someone's mailbox.
const RESET_EVERY: i64 = 60;

/// "Forgot password": mails a single-use link to the account with this address, if there is
/// one that may sign in and mail is on. The caller answers the same whatever happened, and
/// the mail leaves on a task of its own, so that neither the words nor the time of the answer
/// tell whether the address has an account.
pub async fn ask_password_reset(services: &Arc<Services>, email: &str) -> Result<(), StoreError> {
    let Ok(email) = Email::parse(email, 254) else { return Ok(()) };
    let services = services.clone();
    let email = email.as_str().to_owned();
    tokio::spawn(async move {
        if let Err(e) = mail_password_reset(&services, &email).await {
            tracing::warn!(error = %e, "could not mail a password reset link");
        }
    });
    Ok(())
}

async fn mail_password_reset(services: &Services, email: &str) -> Result<(), String> {
    use crate::store::{PasswordResetReads, PasswordResetWrites};
    if !services.mailer.is_on() {
        return Ok(());
    }
    let owned = email.to_owned();
    let found =
        services.store.read(move |db| Box::pin(async move { db.user_credentials(&owned).await }));
    let Some((user, _)) = found.await.map_err(|e| e.to_string())? else { return Ok(()) };
    if user.disabled {
        return Ok(());
    }
    let now = services.clock.now();
    let id = user.id;
    let last = services.store.read(move |db| Box::pin(db.last_password_reset(id))).await;
    if last.map_err(|e| e.to_string())?.is_some_and(|at| now - at < RESET_EVERY) {
        return Ok(());
    }
    let token = random_token();
    let hash = token_hash(&token);
    services
        .store
        .write(move |tx| Box::pin(async move { tx.create_password_reset(&hash, id, now).await }))
        .await
        .map_err(|e| e.to_string())?;
    super::mail::send_password_reset(services, &user, &token).await
}

/// Whether a password reset link still works (its form is shown).
pub async fn password_reset_works(services: &Services, token: &str) -> Result<bool, StoreError> {
    use crate::store::PasswordResetReads;
    let (hash, since) = (token_hash(token), services.clock.now() - RESET_SECONDS);
    let user = services
        .store
        .read(move |db| Box::pin(async move { db.password_reset_user(&hash, since).await }))
        .await?;
    Ok(user.is_some())
}

/// Sets a new password with a reset link, once: every session of the account ends, and the
/// person signs in with the new password.
pub async fn reset_password(
    services: &Services,
    token: &str,
    new: &str,
    again: &str,
) -> Result<(), StaffError> {
    use crate::store::PasswordResetWrites;
    if new != again {
        return Err(invalid("new", "The two new passwords differ."));
    }
    check_password(new).map_err(|m| invalid("new", m))?;
    let password = hashed(new.to_owned()).await;
    let (hash, now) = (token_hash(token), services.clock.now());
    let since = now - RESET_SECONDS;
    services
        .commit(move |unit| {
            Box::pin(async move {
                let user = unit.use_password_reset(&hash, since, now).await?;
                let Some(user) = user else { return Err(StaffError::NotFound) };
                unit.set_password(user, &password, now).await?;
                tracing::info!(user = user.get(), "a password was reset with a mailed link");
                Ok(())
            })
        })
        .await
}

/// What this account wants mailed (held replies; new public replies on its articles).
pub async fn mail_choice(
    services: &Services,
    user: &User,
) -> Result<crate::store::StaffMailChoice, StoreError> {
    use crate::store::StaffMailReads;
    let id = user.id;
    services.store.read(move |db| Box::pin(db.staff_mail_choice(id))).await
}

pub async fn set_mail_choice(
    services: &Services,
    user: &User,
    choice: crate::store::StaffMailChoice,
) -> Result<(), StoreError> {
    use crate::store::StaffMailWrites;
    let id = user.id;
    services.store.write(move |tx| Box::pin(tx.set_staff_mail_choice(id, choice))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_is_a_whole_hash_of_nobody_s_password() {
        // Hashing and verifying themselves are tested in `services::passwords`.
        assert!(!verify_password("", DUMMY_HASH), "a valid hash of nobody's password");
        // It must be a whole hash, or a missing account would answer faster than a wrong password.
        assert!(
            argon2::password_hash::PasswordHash::new(DUMMY_HASH).is_ok_and(|h| h.hash.is_some())
        );
    }

    #[test]
    fn tokens_are_stored_as_hashes() {
        let token = random_token();
        assert_eq!(token.len(), 64);
        assert_ne!(token_hash(&token), token);
        assert_eq!(token_hash(&token).len(), 64);
    }
}
