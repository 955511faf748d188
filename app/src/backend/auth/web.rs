//! How requests carry identity: a `Bearer` header (API clients) or the HttpOnly session cookie
//! (the web UI). Axum extractors for REST handlers, helpers for server functions, and the
//! same-origin guard that protects cookie-authenticated state changes from cross-site requests.

use super::super::AppState;
use super::super::error::AppError;
use super::super::store::UserRecord;
use super::{Claimant, authenticate, claimant, require_role, wrong_role};
use crate::model::Role;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use cookie::{Cookie, SameSite};
use std::net::{IpAddr, SocketAddr};

pub const SESSION_COOKIE: &str = "assess_session";

/// The access token a request presents. An `Authorization` header wins over the cookie; one that
/// is present but not `Bearer <token>` is an error, never silently ignored.
pub fn presented_token(headers: &HeaderMap) -> Result<Option<String>, AppError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| AppError::Unauthorized)?;
        return match value.split_once(' ') {
            Some((scheme, token))
                if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
            {
                Ok(Some(token.trim().to_owned()))
            }
            _ => Err(AppError::Unauthorized),
        };
    }
    Ok(session_cookie_value(headers))
}

fn session_cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == SESSION_COOKIE && !cookie.value().is_empty())
        .map(|cookie| cookie.value().to_owned())
}

/// The signed-in account, or `None` when the request carries no credentials at all.
pub async fn optional_user(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<UserRecord>, AppError> {
    match presented_token(headers)? {
        Some(token) => authenticate(state, &token).await.map(Some),
        None => Ok(None),
    }
}

/// Any signed-in user (401 otherwise).
pub struct AuthUser(pub UserRecord);
/// A signed-in candidate (401 when signed out, 403 for a recruiter).
pub struct CandidateUser(pub UserRecord);
/// A signed-in recruiter (401 when signed out, 403 for a candidate).
pub struct RecruiterUser(pub UserRecord);

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        optional_user(state, &parts.headers)
            .await?
            .map(AuthUser)
            .ok_or(AppError::Unauthorized)
    }
}

impl FromRequestParts<AppState> for CandidateUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let AuthUser(user) = AuthUser::from_request_parts(parts, state).await?;
        require_role(user, Role::Candidate).map(CandidateUser)
    }
}

impl FromRequestParts<AppState> for RecruiterUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let AuthUser(user) = AuthUser::from_request_parts(parts, state).await?;
        require_role(user, Role::Recruiter).map(RecruiterUser)
    }
}

/// The caller by their token alone, before the account is read (see [`Claimant`]), if the
/// token names `role`; any other role is refused as [`CandidateUser`] or [`RecruiterUser`] would,
/// once the account is read.
async fn claimant_as(parts: &Parts, state: &AppState, role: Role) -> Result<Claimant, AppError> {
    let token = presented_token(&parts.headers)?.ok_or(AppError::Unauthorized)?;
    let claimant = claimant(state, &token)?;
    if claimant.role != role {
        return claimant.confirm(state, Err(wrong_role(role))).await;
    }
    Ok(claimant)
}

/// A candidate by their token alone: only for routes whose service keeps the account's guarantee
/// itself (see [`Claimant`]).
pub struct CandidateClaimant(pub Claimant);

impl FromRequestParts<AppState> for CandidateClaimant {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        claimant_as(parts, state, Role::Candidate)
            .await
            .map(CandidateClaimant)
    }
}

/// A recruiter by their token alone: only for routes whose service keeps the account's guarantee
/// itself (see [`Claimant`]).
pub struct RecruiterClaimant(pub Claimant);

impl FromRequestParts<AppState> for RecruiterClaimant {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        claimant_as(parts, state, Role::Recruiter)
            .await
            .map(RecruiterClaimant)
    }
}

/// The client's address as the socket saw it (no proxy headers are trusted).
pub fn client_ip(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
}

/// Extractor for [`client_ip`]: `None` when the server was not started with connect info.
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts)))
    }
}

/// Whether the browser reached us over https (directly or through a TLS-terminating proxy).
pub fn over_https(state: &AppState, headers: &HeaderMap) -> bool {
    state
        .config
        .frontend_url
        .as_deref()
        .is_some_and(|url| url.starts_with("https://"))
        || headers
            .get("x-forwarded-proto")
            .is_some_and(|proto| proto.as_bytes().eq_ignore_ascii_case(b"https"))
}

/// `Set-Cookie` for a fresh session: HttpOnly, SameSite=Lax, as long-lived as the token.
pub fn session_cookie(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    max_age_secs: i64,
) -> HeaderValue {
    let cookie = Cookie::build((SESSION_COOKIE, token.to_owned()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(over_https(state, headers))
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build();
    header_value(&cookie)
}

/// `Set-Cookie` that removes the session cookie.
pub fn clear_session_cookie(state: &AppState, headers: &HeaderMap) -> HeaderValue {
    let cookie = Cookie::build((SESSION_COOKIE, ""))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(over_https(state, headers))
        .max_age(cookie::time::Duration::ZERO)
        .build();
    header_value(&cookie)
}

fn header_value(cookie: &Cookie<'_>) -> HeaderValue {
    // A JWT and the attributes above are plain ASCII: this cannot fail.
    HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The `scheme://host[:port]` part of a URL.
fn origin_of(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let end = url.len() - rest.len() + rest.find('/').unwrap_or(rest.len());
    Some(&url[..end])
}

/// The CSRF rule for state-changing requests: a browser request from another origin is refused,
/// and a cookie-authenticated one must show where it came from (`Origin`, else `Referer`).
/// API clients (no cookie, no `Origin`) are unaffected.
pub fn check_same_origin(state: &AppState, headers: &HeaderMap) -> Result<(), AppError> {
    let refused = || AppError::Forbidden("Cross-site request refused.".into());
    let source = headers
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            headers
                .get(header::REFERER)
                .and_then(|value| value.to_str().ok())
                .and_then(origin_of)
                .map(str::to_owned)
        });
    let Some(source) = source else {
        let cookie_only =
            session_cookie_value(headers).is_some() && headers.get(header::AUTHORIZATION).is_none();
        return if cookie_only { Err(refused()) } else { Ok(()) };
    };
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok());
    let same_host = source
        .split_once("://")
        .is_some_and(|(_, authority)| Some(authority) == host);
    let configured = state.config.frontend_url.as_deref() == Some(source.as_str());
    if same_host || configured {
        Ok(())
    } else {
        Err(refused())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn bearer_header_wins_and_must_be_well_formed() {
        let both = headers(&[
            ("authorization", "Bearer abc"),
            ("cookie", "assess_session=def"),
        ]);
        assert_eq!(presented_token(&both).unwrap().as_deref(), Some("abc"));
        let lower = headers(&[("authorization", "bearer abc")]);
        assert_eq!(presented_token(&lower).unwrap().as_deref(), Some("abc"));
        for bad in ["Basic abc", "Bearer", "Bearer ", "abc"] {
            assert!(
                presented_token(&headers(&[("authorization", bad)])).is_err(),
                "{bad}"
            );
        }
        let cookie = headers(&[("cookie", "theme=dark; assess_session=def")]);
        assert_eq!(presented_token(&cookie).unwrap().as_deref(), Some("def"));
        assert_eq!(presented_token(&HeaderMap::new()).unwrap(), None);
    }

    #[test]
    fn origin_is_the_scheme_and_authority() {
        assert_eq!(
            origin_of("http://a.test:3000/x/y?z"),
            Some("http://a.test:3000")
        );
        assert_eq!(origin_of("https://a.test"), Some("https://a.test"));
        assert_eq!(origin_of("/relative"), None);
    }
}
