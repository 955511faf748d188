//! Access tokens: HMAC-signed JWTs carrying `sub` (user id), `role`, `iat` and `exp`. The
//! algorithm comes from `ALGORITHM` and is pinned when decoding, so `alg: none` or a token signed
//! with another algorithm is refused.

use super::super::config::{Config, JwtAlgorithm};
use super::super::error::AppError;
use crate::model::{Id, Role};
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

/// Clock skew tolerated when checking `exp`.
const LEEWAY_SECS: i64 = 5;

/// How many checked tokens are kept with their claims, at most. A client sends the same token
/// with every request for its whole life, and checking it (base64, HMAC, the claims' JSON) was
/// about a twentieth of the work of a small authenticated request.
const CHECKED_TOKENS: usize = 10_000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
}

/// Signs access tokens and checks them, with the keys and rules of one configuration.
pub struct Tokens {
    algorithm: Algorithm,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    lifetime_secs: i64,
    /// The claims of tokens this process has already checked, by the whole token: a token that
    /// differs from one of them in any byte is checked in full. Expiry is checked on every use.
    checked: quick_cache::sync::Cache<String, Claims>,
}

impl Tokens {
    pub fn new(config: &Config) -> Tokens {
        let algorithm = match config.jwt_algorithm {
            JwtAlgorithm::HS256 => Algorithm::HS256,
            JwtAlgorithm::HS384 => Algorithm::HS384,
            JwtAlgorithm::HS512 => Algorithm::HS512,
        };
        let secret = config.secret_key.expose().as_bytes();
        let mut validation = Validation::new(algorithm);
        validation.leeway = LEEWAY_SECS.unsigned_abs();
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        Tokens {
            algorithm,
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            lifetime_secs: i64::from(config.access_token_expire_minutes) * 60,
            checked: quick_cache::sync::Cache::new(CHECKED_TOKENS),
        }
    }

    /// Seconds an access token lives.
    pub fn lifetime_secs(&self) -> i64 {
        self.lifetime_secs
    }

    /// Signs a token for `user_id` with `role`, valid from now for the configured lifetime.
    pub fn issue(&self, user_id: &Id, role: Role) -> Result<String, AppError> {
        let iat = Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.as_str().to_owned(),
            role,
            iat,
            exp: iat + self.lifetime_secs,
        };
        encode(&Header::new(self.algorithm), &claims, &self.encoding)
            .map_err(|err| AppError::Internal(format!("cannot sign token: {err}")))
    }

    /// The claims of a valid, unexpired token signed by us with the configured algorithm.
    pub fn verify(&self, token: &str) -> Result<Claims, AppError> {
        self.verify_at(token, Utc::now().timestamp())
    }

    /// [`Tokens::verify`] with the clock at `now` for a token checked before (the signature
    /// check itself reads the system clock).
    fn verify_at(&self, token: &str, now: i64) -> Result<Claims, AppError> {
        let claims = match self.checked.get(token) {
            Some(claims) => claims,
            None => {
                let claims = decode::<Claims>(token, &self.decoding, &self.validation)
                    .map_err(|_| AppError::Unauthorized)?
                    .claims;
                self.checked.insert(token.to_owned(), claims.clone());
                claims
            }
        };
        // As jsonwebtoken checks it: expired once `exp` is more than the leeway behind.
        if claims.exp < now - LEEWAY_SECS {
            self.checked.remove(token);
            return Err(AppError::Unauthorized);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn tokens(vars: &[(&str, &str)]) -> Tokens {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut map: HashMap<&str, String> = HashMap::from([
            ("DATA_DIR", dir.path().display().to_string()),
            ("SECRET_KEY", "0123456789abcdef0123456789abcdef".to_owned()),
        ]);
        map.extend(vars.iter().map(|(k, v)| (*k, (*v).to_owned())));
        let (config, _) = Config::from_lookup(|name| map.get(name).cloned()).expect("config");
        Tokens::new(&config)
    }

    fn id() -> Id {
        Id::parse("0123456789abcdef01234567").expect("id")
    }

    #[test]
    fn an_issued_token_verifies_again_and_again_with_its_claims() {
        let tokens = tokens(&[]);
        let token = tokens.issue(&id(), Role::Recruiter).expect("issue");
        let first = tokens.verify(&token).expect("first check");
        assert_eq!(first.sub, id().as_str());
        assert_eq!(first.role, Role::Recruiter);
        assert_eq!(first.exp - first.iat, 60 * 60);
        assert_eq!(tokens.verify(&token).expect("checked before"), first);
    }

    #[test]
    fn a_token_checked_before_is_still_refused_once_it_expires() {
        let tokens = tokens(&[]);
        let token = tokens.issue(&id(), Role::Candidate).expect("issue");
        let claims = tokens.verify(&token).expect("fresh token");
        assert!(tokens.verify_at(&token, claims.exp + LEEWAY_SECS).is_ok());
        assert!(matches!(
            tokens.verify_at(&token, claims.exp + LEEWAY_SECS + 1),
            Err(AppError::Unauthorized)
        ));
        // Refused for good, not only when the clock is read late.
        assert!(matches!(
            tokens.verify_at(&token, claims.exp + LEEWAY_SECS + 1),
            Err(AppError::Unauthorized)
        ));
    }

    #[test]
    fn a_token_changed_after_a_check_is_checked_in_full_and_refused() {
        let tokens = tokens(&[]);
        let token = tokens.issue(&id(), Role::Candidate).expect("issue");
        tokens.verify(&token).expect("genuine token");
        let (signed, signature) = token.rsplit_once('.').expect("three parts");
        let flipped = if signature.starts_with('A') { "B" } else { "A" };
        assert!(
            tokens
                .verify(&format!("{signed}.{flipped}{}", &signature[1..]))
                .is_err()
        );
        // The claims of a recruiter token under the candidate token's signature.
        let other = tokens.issue(&id(), Role::Recruiter).expect("issue");
        let (other_signed, _) = other.rsplit_once('.').expect("three parts");
        assert_ne!(other_signed, signed);
        assert!(
            tokens
                .verify(&format!("{other_signed}.{signature}"))
                .is_err()
        );
        assert!(tokens.verify(&token).is_ok());
    }

    #[test]
    fn a_token_signed_with_another_key_or_algorithm_is_refused() {
        let ours = tokens(&[]);
        let theirs = tokens(&[("SECRET_KEY", "another-secret-key-0123456789abcdef")]);
        let token = theirs.issue(&id(), Role::Candidate).expect("issue");
        assert!(theirs.verify(&token).is_ok());
        assert!(ours.verify(&token).is_err());
        let hs512 = tokens(&[("ALGORITHM", "HS512")]);
        let token = hs512.issue(&id(), Role::Candidate).expect("issue");
        assert!(hs512.verify(&token).is_ok());
        assert!(ours.verify(&token).is_err());
    }
}
