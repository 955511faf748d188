//! Password hashing with argon2id at OWASP's recommended parameters (19 MiB, 2 passes, 1 lane).
//! Hashing is deliberately slow and memory-hungry, so it runs on the blocking pool and at most
//! one per core at a time: a burst of logins cannot exhaust memory or starve the async workers.
//! Log-ins verify into 19 MiB work buffers kept between calls (one per permit), so a login
//! neither maps and zeroes fresh memory nor leaves it in an allocator arena: measured, that put
//! logins at 55–64% of the raw argon2id rate (docs/BENCHMARKS.md).

use super::super::error::AppError;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::{LazyLock, Mutex};
use tokio::sync::Semaphore;

/// How many hashes run at once: one per core (at most four). Read once: asking the system
/// reads cgroup files, which a login should not do.
static HASH_WORKERS: LazyLock<usize> =
    LazyLock::new(|| std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4)));

static HASH_PERMITS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(*HASH_WORKERS));

/// Work buffers for verification, at most one per permit (taken while a permit is held).
static BUFFERS: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());

/// A valid hash of a random password, verified against when an email is unknown so that such a
/// login takes as long as a wrong password for a real account.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let secret: [u8; 16] = rand::random();
    hash_now(&hex::encode(secret)).unwrap_or_default()
});

/// The hasher new passwords get (the benchmark suite times it raw against logins).
pub fn argon2id() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP argon2id parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_now(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(argon2id()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Recomputes the stored hash's output for `password` with the stored algorithm, version,
/// parameters and salt, in a kept buffer, and compares in constant time.
fn verify_now(password: &str, phc: &str) -> bool {
    let parsed = match PasswordHash::new(phc) {
        Ok(parsed) => parsed,
        Err(err) => {
            tracing::error!(%err, "stored password hash is not a PHC string");
            return false;
        }
    };
    recompute(password, &parsed).unwrap_or_else(|err| {
        tracing::error!(%err, "stored password hash cannot be checked");
        false
    })
}

fn recompute(
    password: &str,
    parsed: &PasswordHash<'_>,
) -> Result<bool, argon2::password_hash::Error> {
    let (Some(expected), Some(salt)) = (&parsed.hash, parsed.salt) else {
        return Ok(false);
    };
    let algorithm = Algorithm::try_from(parsed.algorithm)?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()?
        .unwrap_or_default();
    let params = Params::try_from(parsed)?;
    let mut salt_bytes = [0u8; 64];
    let salt = salt.decode_b64(&mut salt_bytes)?;
    let mut output = vec![0u8; expected.len()];
    let blocks = params.block_count();
    let mut buffer = BUFFERS
        .lock()
        .ok()
        .and_then(|mut kept| kept.pop())
        .filter(|buffer| buffer.len() >= blocks)
        .unwrap_or_else(|| vec![Block::default(); blocks]);
    let hashed = Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password.as_bytes(),
        salt,
        &mut output,
        &mut buffer[..],
    );
    if let Ok(mut kept) = BUFFERS.lock()
        && kept.len() < *HASH_WORKERS
    {
        kept.push(buffer);
    }
    hashed?;
    Ok(Output::new(&output)? == *expected)
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
    async fn hashes_made_with_other_parameters_still_verify_with_kept_buffers() {
        // A smaller and a larger memory cost than ours: a kept buffer too small is not used.
        for m_cost in [8 * 1024, 32 * 1024] {
            let argon = Argon2::new(
                Algorithm::Argon2id,
                Version::V0x13,
                Params::new(m_cost, 1, 1, None).unwrap(),
            );
            let salt = SaltString::generate(&mut OsRng);
            let phc = argon
                .hash_password(b"older password", &salt)
                .unwrap()
                .to_string();
            for _ in 0..2 {
                assert!(
                    verify("older password".into(), Some(phc.clone()))
                        .await
                        .unwrap()
                );
                assert!(
                    !verify("older passwork".into(), Some(phc.clone()))
                        .await
                        .unwrap()
                );
            }
        }
        assert!(BUFFERS.lock().unwrap().len() <= *HASH_WORKERS);
    }

    #[tokio::test]
    async fn unknown_accounts_and_garbage_hashes_never_verify() {
        assert!(!verify("anything".into(), None).await.unwrap());
        assert!(
            !verify("anything".into(), Some("not a hash".into()))
                .await
                .unwrap()
        );
        // A PHC string of another algorithm, or without its hash, never verifies.
        assert!(
            !verify(
                "anything".into(),
                Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ".into())
            )
            .await
            .unwrap()
        );
        assert!(
            !verify("x".into(), Some("$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E".into()))
                .await
                .unwrap()
        );
    }
}
