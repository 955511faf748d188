//! Server functions for accounts: what the web UI calls. Each delegates to the same service
//! (`backend::auth`) as the REST API, then manages the HttpOnly session cookie.

use crate::error::ApiError;
use crate::model::{Role, UserView};
use crate::wire::JsonText;
use leptos::prelude::*;

/// Where to go after logging in: a local path only (never another site, never `//host`).
pub fn safe_next(next: Option<&str>) -> Option<&str> {
    next.filter(|path| {
        path.starts_with('/')
            && !path.starts_with("//")
            && !path.starts_with("/\\")
            && path.len() <= 512
            && !path.chars().any(char::is_control)
    })
}

/// Sends a plain (no-JavaScript) form submission on to `path` with a 302. The hydrated app
/// navigates by itself once it has the result, so it gets no redirect.
#[cfg(feature = "ssr")]
pub(crate) fn redirect_plain_form(parts: &axum::http::request::Parts, path: &str) {
    let wants_html = parts
        .headers
        .get(axum::http::header::ACCEPT)
        .and_then(|accept| accept.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    if wants_html {
        leptos_axum::redirect(path);
    }
}

/// The signed-in user, or `None` when signed out (an expired or revoked session counts as
/// signed out, and its cookie is removed).
#[server(endpoint = "account/me", output = JsonText)]
pub async fn current_user() -> Result<Option<UserView>, ApiError> {
    use crate::backend::auth::{view, web};
    use crate::backend::{error::AppError, server_fn_context};
    let cx = server_fn_context()?;
    match web::optional_user(&cx.state, &cx.parts.headers).await {
        Ok(user) => Ok(user.as_ref().map(view)),
        Err(AppError::Unauthorized) => {
            cx.response.append_header(
                axum::http::header::SET_COOKIE,
                web::clear_session_cookie(&cx.state, &cx.parts.headers),
            );
            Ok(None)
        }
        Err(err) => Err(cx.fail(err)),
    }
}

/// Creates an account (the browser then goes on to the log-in page of its role).
#[server(endpoint = "account/sign-up", output = JsonText)]
pub async fn sign_up(role: Role, email: String, password: String) -> Result<UserView, ApiError> {
    use crate::backend::{auth, server_fn_context};
    let cx = server_fn_context()?;
    let user = auth::register(&cx.state, role, &email, &password)
        .await
        .map_err(|err| cx.fail(err))?;
    redirect_plain_form(&cx.parts, &format!("/login?role={role}&registered=1"));
    Ok(user)
}

/// Checks credentials and sets the session cookie (the browser then goes on to `next`, or the
/// role's home page).
#[server(endpoint = "account/log-in", output = JsonText)]
pub async fn log_in(
    role: Role,
    email: String,
    password: String,
    next: Option<String>,
) -> Result<UserView, ApiError> {
    use crate::backend::auth::{self, web};
    use crate::backend::server_fn_context;
    let cx = server_fn_context()?;
    let client = web::client_ip(&cx.parts);
    let logged_in = auth::login(&cx.state, role, &email, &password, client)
        .await
        .map_err(|err| cx.fail(err))?;
    cx.response.append_header(
        axum::http::header::SET_COOKIE,
        web::session_cookie(
            &cx.state,
            &cx.parts.headers,
            &logged_in.access_token,
            logged_in.expires_in,
        ),
    );
    redirect_plain_form(
        &cx.parts,
        safe_next(next.as_deref()).unwrap_or(role.home_path()),
    );
    Ok(logged_in.user)
}

/// Removes the session cookie (the browser then goes home).
#[server(endpoint = "account/log-out", output = JsonText)]
pub async fn log_out() -> Result<(), ApiError> {
    use crate::backend::{auth::web, server_fn_context};
    let cx = server_fn_context()?;
    cx.response.append_header(
        axum::http::header::SET_COOKIE,
        web::clear_session_cookie(&cx.state, &cx.parts.headers),
    );
    redirect_plain_form(&cx.parts, "/");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_must_be_a_local_path() {
        assert_eq!(safe_next(Some("/recruiter?x=1")), Some("/recruiter?x=1"));
        for bad in [
            "https://evil.test",
            "//evil.test",
            "/\\evil.test",
            "recruiter",
            "/a\nb",
        ] {
            assert_eq!(safe_next(Some(bad)), None, "{bad}");
        }
        assert_eq!(safe_next(None), None);
    }
}
