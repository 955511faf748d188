//! Accounts and authentication: the one service REST handlers and server functions share.

pub mod password;
pub mod throttle;
pub mod token;
pub mod web;

use super::AppState;
use super::error::AppError;
use super::store::{NewUser, StoreError, UserRecord};
use crate::model::{Id, PASSWORD_MAX_LEN, Role, UserView, check_password, normalize_email};
use std::net::IpAddr;
use std::time::Instant;

pub const EMAIL_TAKEN: &str = "An account with this email already exists.";
pub const LOGIN_FAILED: &str = "Incorrect email or password";

/// A successful login.
#[derive(Clone, Debug)]
pub struct LoggedIn {
    pub access_token: String,
    /// Seconds until `access_token` expires.
    pub expires_in: i64,
    pub user: UserView,
}

pub fn view(user: &UserRecord) -> UserView {
    UserView {
        id: user.id.clone(),
        email: user.email.clone(),
        role: user.role,
    }
}

/// Creates an account of `role`. The email is trimmed and lower-cased; it must be unused
/// (case-insensitively) among accounts of either role.
pub async fn register(
    state: &AppState,
    role: Role,
    email: &str,
    password: &str,
) -> Result<UserView, AppError> {
    let email = normalize_email(email).map_err(AppError::invalid)?;
    check_password(password).map_err(AppError::invalid)?;
    // Spares a costly hash for a taken email; the unique index still decides every race.
    if state.store.users.find_by_email(&email).await?.is_some() {
        return Err(AppError::BadRequest(EMAIL_TAKEN.into()));
    }
    let password_hash = password::hash(password.to_owned()).await?;
    match state
        .store
        .users
        .insert(NewUser {
            email,
            role,
            password_hash,
        })
        .await
    {
        Ok(user) => {
            tracing::info!(user_id = %user.id, role = %role, "account created");
            Ok(view(&user))
        }
        Err(StoreError::Duplicate(_)) => Err(AppError::BadRequest(EMAIL_TAKEN.into())),
        Err(err) => Err(err.into()),
    }
}

/// Checks credentials on the log-in endpoint of `role` and issues an access token. Unknown email
/// and wrong password fail alike, in similar time; the right credentials on the other role's
/// endpoint are refused with 403. Repeated failures per email or client are throttled.
pub async fn login(
    state: &AppState,
    role: Role,
    email: &str,
    password: &str,
    client: Option<IpAddr>,
) -> Result<LoggedIn, AppError> {
    let email_key = format!("email:{}", email.trim().to_lowercase());
    let client_key = client.map(|ip| format!("client:{ip}"));
    let now = Instant::now();
    let throttle = &state.login_throttle;
    let locked = [
        throttle.per_email.check(&email_key, now).err(),
        client_key
            .as_deref()
            .and_then(|key| throttle.per_client.check(key, now).err()),
    ];
    if let Some(retry_after_secs) = locked.into_iter().flatten().max() {
        tracing::warn!(role = %role, "login throttled");
        return Err(AppError::TooManyRequests { retry_after_secs });
    }

    let user = match normalize_email(email) {
        Ok(email) => state.store.users.find_by_email(&email).await?,
        Err(_) => None,
    };
    // A password no account can have is not worth an expensive check.
    let plausible = password.chars().count() <= PASSWORD_MAX_LEN;
    let verified = plausible
        && password::verify(
            password.to_owned(),
            user.as_ref().map(|u| u.password_hash.clone()),
        )
        .await?;
    let user = match user {
        Some(user) if verified => user,
        _ => {
            throttle.per_email.record_failure(&email_key, now);
            if let Some(key) = &client_key {
                throttle.per_client.record_failure(key, now);
            }
            tracing::info!(role = %role, "login failed");
            return Err(AppError::BadRequest(LOGIN_FAILED.into()));
        }
    };
    throttle.per_email.clear(&email_key);
    if let Some(key) = &client_key {
        throttle.per_client.clear(key);
    }
    if user.role != role {
        return Err(AppError::Forbidden(format!(
            "This is a {role} account: log in as a {role}.",
            role = user.role
        )));
    }
    let access_token = state.tokens.issue(&user.id, user.role)?;
    tracing::info!(user_id = %user.id, role = %role, "logged in");
    Ok(LoggedIn {
        access_token,
        expires_in: state.tokens.lifetime_secs(),
        user: view(&user),
    })
}

/// The account behind a token: the signature, algorithm and expiry must check out, and the
/// account must still exist with the role the token names (deleted users lose access at once).
pub async fn authenticate(state: &AppState, access_token: &str) -> Result<UserRecord, AppError> {
    claimant(state, access_token)?.account(state).await
}

/// Who a token says is calling, before the account is read: the token's signature, algorithm
/// and expiry check out. A service that takes a `Claimant` instead of the account saves a read
/// per request, and in return must keep the account's guarantee itself:
/// - it succeeds only through a store write that checks the account still exists;
/// - it passes every refusal through [`Claimant::confirm`], so that a deleted account is told
///   401, as on every other route.
#[derive(Clone, Debug)]
pub struct Claimant {
    pub id: Id,
    pub role: Role,
}

/// The claimant behind a token (see [`Claimant`]).
pub fn claimant(state: &AppState, access_token: &str) -> Result<Claimant, AppError> {
    let claims = state.tokens.verify(access_token)?;
    let id = Id::parse(&claims.sub).map_err(|_| AppError::Unauthorized)?;
    Ok(Claimant {
        id,
        role: claims.role,
    })
}

impl Claimant {
    /// The account, if it still exists with the token's role (401 otherwise).
    pub async fn account(&self, state: &AppState) -> Result<UserRecord, AppError> {
        match state.store.users.find_by_id(&self.id).await? {
            Some(user) if user.role == self.role => Ok(user),
            _ => Err(AppError::Unauthorized),
        }
    }

    /// `result`, unless it is a refusal and the account is gone: then 401.
    pub async fn confirm<T>(
        &self,
        state: &AppState,
        result: Result<T, AppError>,
    ) -> Result<T, AppError> {
        match result {
            Ok(value) => Ok(value),
            Err(err) => self.account(state).await.and(Err(err)),
        }
    }
}

/// Refuses a signed-in user whose role is not `role`.
pub fn require_role(user: UserRecord, role: Role) -> Result<UserRecord, AppError> {
    if user.role == role {
        Ok(user)
    } else {
        Err(wrong_role(role))
    }
}

/// The refusal of a user who is signed in, but not as `role`.
pub fn wrong_role(role: Role) -> AppError {
    AppError::Forbidden(match role {
        Role::Candidate => "Only candidates can do this.".into(),
        Role::Recruiter => "Only recruiters can do this.".into(),
    })
}
