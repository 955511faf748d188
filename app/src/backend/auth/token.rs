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
const LEEWAY_SECS: u64 = 5;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
}

fn algorithm(config: &Config) -> Algorithm {
    match config.jwt_algorithm {
        JwtAlgorithm::HS256 => Algorithm::HS256,
        JwtAlgorithm::HS384 => Algorithm::HS384,
        JwtAlgorithm::HS512 => Algorithm::HS512,
    }
}

/// Seconds an access token lives.
pub fn lifetime_secs(config: &Config) -> i64 {
    i64::from(config.access_token_expire_minutes) * 60
}

/// Signs a token for `user_id` with `role`, valid from now for the configured lifetime.
pub fn issue(config: &Config, user_id: &Id, role: Role) -> Result<String, AppError> {
    let iat = Utc::now().timestamp();
    let claims = Claims {
        sub: user_id.as_str().to_owned(),
        role,
        iat,
        exp: iat + lifetime_secs(config),
    };
    encode(
        &Header::new(algorithm(config)),
        &claims,
        &EncodingKey::from_secret(config.secret_key.expose().as_bytes()),
    )
    .map_err(|err| AppError::Internal(format!("cannot sign token: {err}")))
}

/// The claims of a valid, unexpired token signed by us with the configured algorithm.
pub fn verify(config: &Config, token: &str) -> Result<Claims, AppError> {
    let mut validation = Validation::new(algorithm(config));
    validation.leeway = LEEWAY_SECS;
    validation.set_required_spec_claims(&["exp", "sub", "iat"]);
    decode::<Claims>(
        token,
        &DecodingKey::from_secret(config.secret_key.expose().as_bytes()),
        &validation,
    )
    .map(|data| data.claims)
    .map_err(|_| AppError::Unauthorized)
}
