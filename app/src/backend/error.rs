//! The error of the service layer: every REST handler and server function returns it. It becomes
//! an HTTP response in exactly one place (`IntoResponse` below), always with the REST contract's
//! `{"detail": "..."}` body, and a server function's [`ApiError`] in one other (`From` below).

use super::store::StoreError;
use crate::error::ApiError;
use axum::Json;
use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The message of every authentication failure (the seed's wording, kept for API clients).
pub const CREDENTIALS_INVALID: &str = "Could not validate credentials";

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The request is well-formed but cannot be honoured (400).
    #[error("{0}")]
    BadRequest(String),
    /// No valid credentials came with the request (401, `WWW-Authenticate: Bearer`).
    #[error("{CREDENTIALS_INVALID}")]
    Unauthorized,
    /// The caller is known but may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The resource changed since the client read it (409).
    #[error("{0}")]
    Conflict(String),
    /// One input field is invalid (422); `message` names the field.
    #[error("{message}")]
    Validation { field: String, message: String },
    /// The framework refused the request before any service saw it (unsupported media type,
    /// malformed JSON, body too large): its own status and message.
    #[error("{message}")]
    Rejected { status: StatusCode, message: String },
    /// Too many attempts; retry after the given number of seconds (429, `Retry-After`).
    #[error("Too many attempts. Try again in {retry_after_secs} seconds.")]
    TooManyRequests { retry_after_secs: u64 },
    /// An upstream service (the AI provider) failed (502).
    #[error("{0}")]
    BadGateway(String),
    /// A dependency (the store) cannot serve right now; the client may retry.
    #[error("{0}")]
    Unavailable(&'static str),
    /// A bug or an unexpected engine failure: logged in full, reported without internals.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for AppError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(reason) => {
                tracing::warn!(%reason, "store unavailable");
                AppError::Unavailable(
                    "The service is temporarily unavailable. Please retry shortly.",
                )
            }
            other => AppError::Internal(other.to_string()),
        }
    }
}

/// The field a serde error is about: `missing field `x``, or a `path.to.field: ...` prefix.
fn field_of(message: &str) -> String {
    if let Some(rest) = message.split("missing field `").nth(1) {
        return rest.split('`').next().unwrap_or_default().to_owned();
    }
    match message.split_once(": ") {
        Some((path, _)) if !path.contains(' ') => path.to_owned(),
        _ => String::new(),
    }
}

/// A body that parsed but does not fit the expected shape becomes a 422 naming the field; any
/// other rejection keeps axum's status (400 malformed, 413 too large, 415 wrong content type).
fn from_rejection(status: StatusCode, text: String, prefixes: &[&str]) -> AppError {
    if status == StatusCode::UNPROCESSABLE_ENTITY {
        let message = prefixes
            .iter()
            .find_map(|prefix| text.strip_prefix(prefix))
            .unwrap_or(&text)
            .trim()
            .to_owned();
        AppError::Validation {
            field: field_of(&message),
            message,
        }
    } else {
        AppError::Rejected {
            status,
            message: text,
        }
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> Self {
        from_rejection(
            rejection.status(),
            rejection.body_text(),
            &["Failed to deserialize the JSON body into the target type:"],
        )
    }
}

impl From<FormRejection> for AppError {
    fn from(rejection: FormRejection) -> Self {
        from_rejection(
            rejection.status(),
            rejection.body_text(),
            &[
                "Failed to deserialize form body:",
                "Failed to deserialize form:",
            ],
        )
    }
}

impl AppError {
    /// A validation error from a message of the form `"field: what is wrong"`.
    pub fn invalid(message: String) -> Self {
        let field = message
            .split_once(':')
            .map(|(field, _)| field.trim().to_owned())
            .unwrap_or_default();
        AppError::Validation { field, message }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Rejected { status, .. } => *status,
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::BadGateway(_) => StatusCode::BAD_GATEWAY,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message a client sees.
    pub fn detail(&self) -> String {
        match self {
            AppError::Internal(_) => "Internal server error.".to_owned(),
            other => other.to_string(),
        }
    }

    fn log(&self) {
        if let AppError::Internal(cause) = self {
            tracing::error!(%cause, "request failed");
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        self.log();
        let mut response = (
            self.status(),
            Json(serde_json::json!({ "detail": self.detail() })),
        )
            .into_response();
        let headers = response.headers_mut();
        match &self {
            AppError::Unauthorized => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            AppError::TooManyRequests { retry_after_secs } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            _ => {}
        }
        response
    }
}

impl From<AppError> for ApiError {
    /// Server functions convert through `ServerFnContext::fail`, which also gives the response
    /// the status the REST API would, so that logs, proxies and the browser see a refused log-in
    /// as a 4xx, not as a server failure.
    fn from(err: AppError) -> Self {
        err.log();
        ApiError {
            status: err.status().as_u16(),
            detail: err.detail(),
            field: match &err {
                AppError::Validation { field, .. } => Some(field.clone()),
                _ => None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_name_their_field() {
        assert_eq!(
            field_of("missing field `password` at line 1 column 20"),
            "password"
        );
        assert_eq!(
            field_of("email: invalid type: integer `5`, expected a string at line 1 column 10"),
            "email"
        );
        assert_eq!(field_of("questions[0].id: invalid type"), "questions[0].id");
        assert_eq!(field_of("expected value at line 1 column 1"), "");
    }
}
