//! Password hashing with argon2id at OWASP's recommended parameters (19 MiB, 2 passes, 1 lane).
//! Hashing is deliberately slow and memory-hungry, so it runs on the blocking pool and at most
//! [`MAX_CONCURRENT_HASHES`] at a time: a burst of logins cannot exhaust memory or starve the
//! async workers.

use super::super::error::AppError;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::LazyLock;
use tokio::sync::Semaphore;

pub const MAX_CONCURRENT_HASHES: usize = 4;

static HASH_PERMITS: Semaphore = Semaphore::const_new(MAX_CONCURRENT_HASHES);

/// A valid hash of a random password, verified against when an email is unknown so that such a
/// login takes as long as a wrong password for a real account.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let secret: [u8; 16] = rand::random();
    hash_now(&hex::encode(secret)).unwrap_or_default()
});

fn argon2id() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP argon2id parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_now(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(argon2id()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

fn verify_now(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        // The stored string carries its own parameters; verification follows them.
        Ok(parsed) => argon2id()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(err) => {
            tracing::error!(%err, "stored password hash is not a PHC string");
            false
        }
    }
}

async fn on_blocking_pool<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let _permit = HASH_PERMITS
        .acquire()
        .await
        .map_err(|_| AppError::Internal("password hashing pool closed".into()))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| AppError::Internal(format!("password hashing task failed: {err}")))
}

/// The PHC string of a new argon2id hash of `password` with a fresh random salt.
pub async fn hash(password: String) -> Result<String, AppError> {
    on_blocking_pool(move || hash_now(&password))
        .await?
        .map_err(|err| AppError::Internal(format!("cannot hash password: {err}")))
}

/// Whether `password` matches the stored hash. With no stored hash (unknown account) it checks
/// against a dummy hash and answers `false`, taking the same time as a real check.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, AppError> {
    on_blocking_pool(move || match stored {
        Some(phc) => verify_now(&password, &phc),
        None => {
            verify_now(&password, &DUMMY_HASH);
            false
        }
    })
    .await
}

/// Computes the dummy hash ahead of the first login, so that login is not slower than the rest.
pub async fn warm_up() {
    let _ = on_blocking_pool(|| LazyLock::force(&DUMMY_HASH).len()).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_salted_argon2id_and_verify() {
        let first = hash("correct horse".into()).await.unwrap();
        let second = hash("correct horse".into()).await.unwrap();
        assert!(
            first.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{first}"
        );
        assert_ne!(first, second, "a fresh salt per hash");
        assert!(
            verify("correct horse".into(), Some(first.clone()))
                .await
                .unwrap()
        );
        assert!(!verify("correct horsE".into(), Some(first)).await.unwrap());
    }

    #[tokio::test]
    async fn unknown_accounts_and_garbage_hashes_never_verify() {
        assert!(!verify("anything".into(), None).await.unwrap());
        assert!(
            !verify("anything".into(), Some("not a hash".into()))
                .await
                .unwrap()
        );
    }
}
